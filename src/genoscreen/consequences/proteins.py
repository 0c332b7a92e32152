"""Protein consequences of called variants: each PASS variant that changes a protein, with its HGVS p. and the
mutant protein (`genoscreen consequences`).

Variants are grouped into haplotypes: alleles of phased genotypes (`0|1`) sharing a phase set (`PS`, else the
contig) form one haplotype per side and are applied together; every allele of an unphased genotype is applied on
its own (a `0/1` SNV and a nearby `0/1` insertion give two mutant proteins, never one with both). For each
haplotype and each transcript whose coding sequence it touches, the reference CDS (spliced from the reference
FASTA, reverse-complemented on the minus strand) gets the haplotype's alleles, and both are translated by
Biopython (standard code) through the first stop: the CDS and the codon after it (GTF's CDS lines leave the stop
codon out); a frameshift or a lost stop reads on into the genomic sequence past the CDS end (up to `FLANK` bp;
introns of a 3' UTR are not spliced out) to find its new stop. A CDS with no stop (an incomplete 3' end) gives a
protein that ends with it.

Not translated, and listed with the reason in the skipped table: alleles in no CDS (intronic, intergenic: not
protein-changing), alleles that cross a CDS boundary (splice regions), transcripts whose reference CDS has a
premature stop, and haplotypes with overlapping alleles.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from pathlib import Path

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, check_outputs
from genoscreen.consequences import hgvs
from genoscreen.consequences.annotation import Annotation, Transcript, read_annotation

log = logging.getLogger(__name__)

FLANK = 3000
COLUMNS = ("sample", "haplotype", "contig", "pos", "ref", "alt", "gene", "transcript", "canonical", "consequence",
           "hgvs_p", "protein_length", "mutant_id")
SKIPPED_COLUMNS = ("contig", "pos", "ref", "alt", "transcript", "reason")


@dataclasses.dataclass(frozen=True)
class Allele:
    contig: str
    pos: int  # 1-based, as in the VCF
    ref: str
    alt: str

    def trimmed(self) -> tuple[int, int, str]:
        """(start, end, inserted): the 0-based half-open reference span the allele replaces and what replaces it,
        with the bases REF and ALT share at either end removed (an insertion has start == end)."""
        ref, alt, start = self.ref.upper(), self.alt.upper(), self.pos - 1
        while ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        while ref and alt and ref[0] == alt[0]:
            ref, alt, start = ref[1:], alt[1:], start + 1
        return start, start + len(ref), alt


@dataclasses.dataclass
class Haplotype:
    name: str  # "unphased" or "PS:<set>:<side>"
    alleles: list[Allele]


@dataclasses.dataclass
class Consequence:
    haplotype: str
    alleles: list[Allele]
    transcript: Transcript
    canonical: bool
    kind: str
    hgvs_p: str
    mutant: str

    @property
    def mutant_id(self) -> str:
        return f"{self.transcript.gene}:{self.hgvs_p}"


def read_haplotypes(vcf_path: str | Path, sample: str | None = None) -> tuple[str, list[Haplotype], int]:
    """(sample, haplotypes of its PASS non-reference alleles, number of non-PASS records skipped)."""
    import pysam

    try:
        vcf = pysam.VariantFile(str(vcf_path))
    except (OSError, ValueError) as err:
        raise InputError(f"{vcf_path}: cannot read the VCF ({err}); give a VCF written by `genoscreen call`") from None
    with vcf:
        samples = list(vcf.header.samples)
        if not samples:
            raise InputError(f"{vcf_path}: no sample column; give a VCF with genotypes")
        if sample is None:
            sample = samples[0]
        elif sample not in samples:
            raise InputError(f"{vcf_path}: no sample {sample!r} (samples: {', '.join(samples)})")
        phased: dict[tuple, list[Allele]] = {}
        singles: list[Haplotype] = []
        not_pass = 0
        for record in vcf:
            if record.filter.keys() and "PASS" not in record.filter.keys():
                not_pass += 1
                continue
            call = record.samples[sample]
            gt = call.get("GT") or ()
            alleles = record.alleles or ()
            if call.phased and len(gt) == 2 and None not in gt:
                ps = call.get("PS") if "PS" in call else None
                for side, index in enumerate(gt):
                    if index:
                        key = (record.contig, ps if ps is not None else "contig", side)
                        phased.setdefault(key, []).append(Allele(record.contig, record.pos, alleles[0], alleles[index]))
                continue
            for index in sorted({i for i in gt if i}):
                singles.append(Haplotype("unphased", [Allele(record.contig, record.pos, alleles[0], alleles[index])]))
        haplotypes = [Haplotype(f"PS:{ps}:{side}", alleles) for (_, ps, side), alleles in phased.items()] + singles
    return sample, haplotypes, not_pass


def _revcomp(seq: str) -> str:
    from Bio.Seq import reverse_complement

    return reverse_complement(seq)


def _translate(seq: str) -> tuple[str, bool]:
    """(protein up to its first stop, whether a stop ended it)."""
    from Bio.Seq import translate

    protein = translate(seq[: len(seq) - len(seq) % 3])
    stop = protein.find("*")
    return (protein, False) if stop < 0 else (protein[:stop], True)


class _Reference:
    """The reference CDS, its flank and protein of each transcript, computed once."""

    def __init__(self, fasta):
        self.fasta = fasta
        self._cache: dict[str, tuple] = {}

    def of(self, t: Transcript) -> tuple[str, str, str, bool]:
        """(genomic-order CDS, 3' flank in transcript order, protein, whether it stops)."""
        if t.id not in self._cache:
            cds = "".join(self.fasta.fetch(t.contig, s, e).upper() for s, e in t.cds)
            length = self.fasta.get_reference_length(t.contig)
            if t.strand == "+":
                flank = self.fasta.fetch(t.contig, t.end, min(length, t.end + FLANK)).upper()
                coding = cds
            else:
                flank = _revcomp(self.fasta.fetch(t.contig, max(0, t.start - FLANK), t.start).upper())
                coding = _revcomp(cds)
            protein, stops = _translate(coding + flank[:3])  # the stop codon, when the CDS lines exclude it (GTF)
            self._cache[t.id] = (cds, flank, protein, stops)
        return self._cache[t.id]


def _apply(t: Transcript, cds: str, alleles: list[Allele]) -> tuple[str | None, str]:
    """The genomic-order CDS with `alleles` applied, or (None, reason)."""
    starts, offset = [], 0
    for s, e in t.cds:
        starts.append(offset)
        offset += e - s
    edits = []
    for allele in alleles:
        start, end, inserted = allele.trimmed()
        for i, (s, e) in enumerate(t.cds):
            inside = s <= start and end <= e and (start < end or s < start < e)
            if inside:
                at = starts[i] + start - s
                ref = allele.ref.upper()
                first = allele.pos - 1
                if first >= s and first + len(ref) <= e and cds[starts[i] + first - s:][: len(ref)] != ref:
                    raise InputError(f"{allele.contig}:{allele.pos}: the VCF's REF {allele.ref} differs from the "
                                     "reference there; give the reference the VCF was called on")
                edits.append((at, at + end - start, inserted))
                break
            if start < e and s < max(end, start + 1):
                return None, "crosses a CDS boundary (splice region): not translated"
    edits.sort(reverse=True)
    if any(a[0] < b[1] for a, b in zip(edits, edits[1:])):
        return None, "overlapping alleles on one haplotype"
    for at, stop, inserted in edits:
        cds = cds[:at] + inserted + cds[stop:]
    return cds, ""


def haplotype_consequences(annotation: Annotation, fasta, haplotypes: list[Haplotype]
                           ) -> tuple[list[Consequence], list[tuple]]:
    """(consequences, skipped rows) of every haplotype on every transcript whose CDS it touches."""
    reference = _Reference(fasta)
    canonical = {}
    for t in annotation.transcripts:  # the longest CDS of each gene (then the first id) names its mutants
        best = canonical.get(t.gene)
        if best is None or t.cds_length > best.cds_length:
            canonical[t.gene] = t
    results, skipped = [], []
    bad_reference: set[str] = set()
    for hap in haplotypes:
        touched: dict[str, tuple[Transcript, list[Allele]]] = {}
        for allele in hap.alleles:
            start, end, _ = allele.trimmed()
            hits = [t for t in annotation.overlapping(allele.contig, start, max(end, start + 1))
                    if any(s < max(end, start + 1) and start < e for s, e in t.cds)]
            if not hits:
                skipped.append((allele.contig, allele.pos, allele.ref, allele.alt, "", "in no CDS (not protein-changing)"))
            for t in hits:
                touched.setdefault(t.id, (t, []))[1].append(allele)
        for t, alleles in touched.values():
            cds, flank, protein, stops = reference.of(t)
            if len(protein) < t.cds_length // 3 - 1:
                if t.id not in bad_reference:
                    log.warning("%s: the reference CDS has a stop at codon %d of %d; its variants are skipped", t.id,
                                len(protein) + 1, t.cds_length // 3)
                bad_reference.add(t.id)
                skipped += [(a.contig, a.pos, a.ref, a.alt, t.id, "the reference CDS has a premature stop")
                            for a in alleles]
                continue
            mutated, reason = _apply(t, cds, alleles)
            if mutated is None:
                skipped += [(a.contig, a.pos, a.ref, a.alt, t.id, reason) for a in alleles]
                continue
            coding = mutated if t.strand == "+" else _revcomp(mutated)
            frameshift = (len(mutated) - len(cds)) % 3 != 0
            mutant, mutant_stops = _translate(coding + flank[:3])
            if frameshift or (stops and not mutant_stops):  # a new frame or a lost stop: read on to the next stop
                mutant, mutant_stops = _translate(coding + flank)
            kind, name = hgvs.describe(protein, mutant, frameshift, mutant_stops, stops)
            results.append(Consequence(hap.name, alleles, t, canonical[t.gene] is t, kind, name, mutant))
    return results, skipped


def consequences(vcf: str | Path, ref: str | Path, annotation: str | Path, out: str | Path,
                 fasta_out: str | Path | None = None, sample: str | None = None) -> dict:
    """`genoscreen consequences`: write OUT (TSV, `COLUMNS`), OUT.skipped.tsv and, with `fasta_out`, the mutant
    proteins of the canonical transcripts (non-synonymous, one record per `GENE:p.Change`). Returns counts."""
    import pysam

    out = Path(out)
    skipped_path = Path(f"{out}.skipped.tsv")
    check_outputs({"--out": out, "its skipped table": skipped_path, "--fasta": fasta_out},
                  {"--vcf": vcf, "--ref": ref, "--annotation": annotation})
    genes = read_annotation(annotation)
    for tid, reason in genes.skipped:
        log.warning("%s: transcript %s skipped: %s", annotation, tid, reason)
    sample, haplotypes, not_pass = read_haplotypes(vcf, sample)
    try:
        fasta = pysam.FastaFile(str(ref))
    except (OSError, ValueError) as err:
        raise InputError(f"{ref}: cannot open the reference ({err}); index it with `samtools faidx`") from None
    with fasta:
        vcf_contigs = {a.contig for h in haplotypes for a in h.alleles}
        if genes.contigs and vcf_contigs and not genes.contigs & vcf_contigs:
            raise InputError(f"{annotation}: its contigs ({', '.join(sorted(genes.contigs)[:3])}) are not those of "
                             f"{vcf} ({', '.join(sorted(vcf_contigs)[:3])}); give an annotation with the VCF's contig "
                             "names (e.g. chr20 vs 20)")
        missing = sorted(genes.contigs - set(fasta.references))
        if missing:
            raise InputError(f"{annotation}: contig {missing[0]} is not in the reference {ref}; give the reference "
                             "the VCF was called on")
        results, skipped = haplotype_consequences(genes, fasta, haplotypes)
    with atomic_open(out, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for c in results:
            writer.writerow([sample, c.haplotype, c.alleles[0].contig, ";".join(str(a.pos) for a in c.alleles),
                             ";".join(a.ref for a in c.alleles), ";".join(a.alt for a in c.alleles), c.transcript.gene,
                             c.transcript.id, int(c.canonical), c.kind, c.hgvs_p, len(c.mutant),
                             c.mutant_id if c.canonical and c.kind != hgvs.SYNONYMOUS else ""])
    with atomic_open(skipped_path, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(SKIPPED_COLUMNS)
        writer.writerows(skipped)
    mutants = {c.mutant_id: c.mutant for c in results if c.canonical and c.kind != hgvs.SYNONYMOUS}
    if fasta_out is not None:
        from genoscreen.affinity.io.proteins import write_targets

        write_targets(fasta_out, mutants)
    counts = {"sample": sample, "haplotypes": len(haplotypes), "consequences": len(results),
              "protein_changing": sum(c.kind != hgvs.SYNONYMOUS for c in results), "mutant_proteins": len(mutants),
              "skipped": len(skipped), "not_pass": not_pass, "transcripts_skipped": len(genes.skipped)}
    log.info("%s: %d protein consequence(s) (%d protein-changing, %d mutant proteins); %d allele(s) skipped "
             "(listed in %s)", sample, counts["consequences"], counts["protein_changing"], len(mutants),
             len(skipped), skipped_path)
    return counts
