"""A deterministic demo data set: a random genome, known variants, simulated paired reads aligned with mappy.

Everything is generated from a seed with numpy, aligned with mappy (the minimap2 binding) and written with pysam,
so the demo needs no external binary. The truth VCF holds every variant the reads carry, normalised
(left-aligned, one allele per record), so `genoscreen evaluate` can score the demo's own calls.

The first contig carries a made-up protein kinase gene, DEMOK1 (two exons, plus strand; `genes.gff3`, its protein
in `kinase_targets.fasta`), and the first sample a heterozygous C>T in the second base of codon
`GATEKEEPER_CODON`, ACC (Thr) -> ATC (Ile): a gatekeeper mutation, as ABL1 p.Thr315Ile is imatinib's. No other
variant is simulated in the gene, so the variant-aware screen of the demo shows that one change end to end.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from genoscreen.common.io import atomic_path

log = logging.getLogger(__name__)

BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
_COMPLEMENT = bytes.maketrans(b"ACGTN", b"TGCAN")


@dataclasses.dataclass(frozen=True)
class DemoSpec:
    """What the demo generates; the defaults run the whole workflow in about a minute on 2 cores."""

    seed: int = 20240611
    contigs: tuple[tuple[str, int], ...] = (("demo1", 30_000), ("demo2", 20_000))
    samples: tuple[str, ...] = ("demo-a", "demo-b")
    coverage: float = 30.0
    read_length: int = 150
    fragment_mean: int = 350
    fragment_sd: int = 40
    variant_spacing: int = 250  # mean distance between variants
    indel_fraction: float = 0.25
    max_indel: int = 6
    hom_fraction: float = 0.35
    error_start: float = 0.001  # substitution error rate at the first base of a read ...
    error_end: float = 0.012  # ... rising linearly to this at the last base
    edge: int = 400  # no variants this close to a contig end; outside the confident BED

    def paths(self, out: str | Path) -> dict[str, Path]:
        """Every file `generate` writes, indexes included."""
        out = Path(out)
        files = {"reference": out / "genome.fa", "reference.fai": out / "genome.fa.fai",
                 "compounds": out / "kinase_inhibitors.smi", "annotation": out / "genes.gff3",
                 "targets": out / "kinase_targets.fasta"}
        for sample in self.samples:
            files[f"{sample}.bam"] = out / f"{sample}.bam"
            files[f"{sample}.bai"] = out / f"{sample}.bam.bai"
            files[f"{sample}.truth"] = out / f"{sample}.truth.vcf.gz"
            files[f"{sample}.tbi"] = out / f"{sample}.truth.vcf.gz.tbi"
            files[f"{sample}.bed"] = out / f"{sample}.confident.bed"
        return files


@dataclasses.dataclass(frozen=True)
class Variant:
    contig: str
    pos: int  # 0-based position of the first REF base
    ref: str
    alt: str
    genotype: tuple[int, int]  # alt copies on haplotype 0 and 1


GENE = "DEMOK1"
GENE_LENGTH = 160  # residues, the stop not counted
GATEKEEPER_CODON = 90  # Thr; exon 1 holds codons 1-60
_EXON1_CODONS = 60
_INTRON = "GTAAGTACTTTCTATCTTATTATCTTTCTCTACTGTGCTTTATTTCTCTTCTCTTTCCCATTAATTTCTTTATGTTTCTAAATAGTTTTCCTTTTATATTTCTTCTTTTCTTCCATTTCAG"
# one codon per residue (no stop among them)
_CODON = {"A": "GCT", "R": "CGT", "N": "AAC", "D": "GAC", "C": "TGC", "Q": "CAG", "E": "GAA", "G": "GGT", "H": "CAC",
          "I": "ATC", "L": "CTG", "K": "AAG", "M": "ATG", "F": "TTC", "P": "CCG", "S": "TCC", "T": "ACC", "W": "TGG",
          "Y": "TAC", "V": "GTG"}


@dataclasses.dataclass(frozen=True)
class DemoGene:
    """DEMOK1 on `contig`: CDS exons as 0-based half-open intervals, its protein and the gatekeeper SNV."""

    contig: str
    exons: tuple[tuple[int, int], tuple[int, int]]
    protein: str

    @property
    def span(self) -> tuple[int, int]:
        return self.exons[0][0], self.exons[1][1]

    def gatekeeper(self) -> "Variant":
        """The first sample's het C>T at the second base of codon GATEKEEPER_CODON (ACC -> ATC, Thr -> Ile)."""
        offset = 3 * (GATEKEEPER_CODON - 1) + 1 - 3 * _EXON1_CODONS
        return Variant(self.contig, self.exons[1][0] + offset, "C", "T", (0, 1))


def plant_gene(spec: DemoSpec, genome: dict[str, bytes]) -> DemoGene:
    """Write DEMOK1 into the first contig (after the no-variant edge): a seeded protein, Thr at the gatekeeper."""
    rng = np.random.default_rng([spec.seed, 1_000])
    residues = np.array(list("ARNDCQEGHILKFPSTWYV"))
    protein = "M" + "".join(rng.choice(residues, GENE_LENGTH - 1))
    protein = protein[: GATEKEEPER_CODON - 1] + "T" + protein[GATEKEEPER_CODON:]
    coding = "".join(_CODON[a] for a in protein) + "TAA"
    contig = spec.contigs[0][0]
    start = spec.edge + 600
    exon1 = coding[: 3 * _EXON1_CODONS]
    exon2 = coding[3 * _EXON1_CODONS :]
    seq = bytearray(genome[contig])
    layout = exon1 + _INTRON + exon2
    if start + len(layout) > len(seq) - spec.edge:
        raise ValueError(f"demo contig {contig} is too short for the demo gene")
    seq[start : start + len(layout)] = layout.encode()
    genome[contig] = bytes(seq)
    second = start + len(exon1) + len(_INTRON)
    return DemoGene(contig, ((start, start + len(exon1)), (second, second + len(exon2))), protein)


def _write_gene(gene: DemoGene, annotation: Path, targets: Path) -> None:
    (s1, e1), (s2, e2) = gene.exons
    rows = [("gene", gene.span[0] + 1, gene.span[1], f"ID=gene-{GENE};Name={GENE}", "."),
            ("mRNA", gene.span[0] + 1, gene.span[1], f"ID=tx-{GENE};Parent=gene-{GENE}", ".")]
    for s, e in gene.exons:
        rows.append(("exon", s + 1, e, f"Parent=tx-{GENE}", "."))
    rows += [("CDS", s1 + 1, e1, f"ID=cds-{GENE};Parent=tx-{GENE}", "0"),
             ("CDS", s2 + 1, e2, f"ID=cds-{GENE};Parent=tx-{GENE}", str((3 - (e1 - s1) % 3) % 3))]
    with atomic_path(annotation) as tmp:
        tmp.write_text("##gff-version 3\n" + "".join(
            f"{gene.contig}\tgenoscreen-demo\t{kind}\t{s}\t{e}\t.\t+\t{phase}\t{attrs}\n"
            for kind, s, e, attrs, phase in rows))
    from genoscreen.affinity.io.proteins import write_targets

    write_targets(targets, {GENE: gene.protein})


def random_genome(spec: DemoSpec, rng: np.random.Generator) -> dict[str, bytes]:
    """Random sequence with 42% GC and a sprinkling of short homopolymers and tandem repeats (indel hot spots)."""
    genome = {}
    for name, length in spec.contigs:
        seq = rng.choice(BASES, size=length, p=[0.29, 0.21, 0.21, 0.29])
        for start in rng.integers(0, length - 20, size=length // 500):
            kind = rng.integers(0, 2)
            if kind == 0:
                seq[start : start + rng.integers(5, 10)] = rng.choice(BASES)
            else:
                unit = rng.choice(BASES, size=rng.integers(2, 4))
                reps = np.tile(unit, 6)[: rng.integers(8, 16)]
                seq[start : start + len(reps)] = reps
        genome[name] = seq.tobytes()
    return genome


def _left_align(seq: bytes, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Shift an indel (anchored at `pos`, VCF style) left while the sequence allows, as normalisation does."""
    if len(ref) == len(alt):
        return pos, ref, alt
    short, long_ = (alt, ref) if len(ref) > len(alt) else (ref, alt)
    body = long_[1:]  # the inserted or deleted bases
    start = pos + 1  # 0-based position of the first changed base
    while start > 1 and chr(seq[start - 1]) == body[-1]:
        body = body[-1] + body[:-1]
        start -= 1
    anchor = chr(seq[start - 1])
    if len(ref) > len(alt):
        return start - 1, anchor + body, anchor
    return start - 1, anchor, anchor + body


def random_variants(spec: DemoSpec, genome: dict[str, bytes], rng: np.random.Generator) -> list[Variant]:
    """Non-overlapping SNPs and small indels, het (on a random haplotype) or hom-alt, left-aligned."""
    variants: list[Variant] = []
    for name, length in spec.contigs:
        seq = genome[name]
        last_end = 0
        pos = spec.edge
        while True:
            pos += int(rng.integers(spec.variant_spacing // 3, spec.variant_spacing * 5 // 3))
            if pos >= length - spec.edge:
                break
            if rng.random() < spec.indel_fraction:
                size = int(rng.integers(1, spec.max_indel + 1))
                anchor = chr(seq[pos])
                if rng.random() < 0.5:
                    ref, alt = anchor + seq[pos + 1 : pos + 1 + size].decode(), anchor
                else:
                    ref, alt = anchor, anchor + rng.choice(BASES, size=size).tobytes().decode()
                vpos, ref, alt = _left_align(seq, pos, ref, alt)
            else:
                ref = chr(seq[pos])
                alt = chr(rng.choice([b for b in BASES if b != seq[pos]]))
                vpos = pos
            if vpos <= last_end + 30 or "N" in ref:
                continue
            if rng.random() < spec.hom_fraction:
                genotype = (1, 1)
            else:
                genotype = (1, 0) if rng.random() < 0.5 else (0, 1)
            variants.append(Variant(name, vpos, ref, alt, genotype))
            last_end = vpos + len(ref)
    return variants


def haplotypes(genome: dict[str, bytes], variants: list[Variant]) -> list[dict[str, bytes]]:
    """The two haplotype sequences per contig."""
    haps = []
    for hap in (0, 1):
        seqs = {}
        for name, seq in genome.items():
            pieces, cursor = [], 0
            for v in (v for v in variants if v.contig == name and v.genotype[hap]):
                pieces.append(seq[cursor : v.pos])
                pieces.append(v.alt.encode())
                cursor = v.pos + len(v.ref)
            pieces.append(seq[cursor:])
            seqs[name] = b"".join(pieces)
        haps.append(seqs)
    return haps


def revcomp(seq: bytes) -> bytes:
    return seq.translate(_COMPLEMENT)[::-1]


def simulate_pairs(spec: DemoSpec, haps: list[dict[str, bytes]], rng: np.random.Generator):
    """Yield (name, seq1, qual1, seq2, qual2) read pairs from both haplotypes at the spec's coverage.

    Error model: substitutions with a rate rising linearly along the read; the base quality reports that rate
    (with noise), so qualities are honest, as a calibrated sequencer's are.
    """
    n = spec.read_length
    error = np.linspace(spec.error_start, spec.error_end, n)
    index = 0
    for hap_index, hap in enumerate(haps):
        for name, seq in hap.items():
            length = len(seq)
            pairs = int(round(spec.coverage / 2 * length / (2 * n)))
            frag_lengths = np.clip(rng.normal(spec.fragment_mean, spec.fragment_sd, pairs).astype(int), n + 20, length)
            starts = rng.integers(0, length - frag_lengths + 1)
            flip = rng.random(pairs) < 0.5
            for start, frag_len, flipped in zip(starts, frag_lengths, flip):
                frag = seq[start : start + frag_len]
                if flipped:
                    frag = revcomp(frag)
                reads = []
                for raw in (frag[:n], revcomp(frag)[:n]):
                    bases = np.frombuffer(raw, dtype=np.uint8).copy()
                    p = error * np.exp(rng.normal(0, 0.3, n))
                    hit = rng.random(n) < p
                    if hit.any():
                        shift = rng.integers(1, 4, size=int(hit.sum()))
                        codes = np.searchsorted(BASES, bases[hit])
                        bases[hit] = BASES[(codes + shift) % 4]
                    qual = np.clip(np.round(-10 * np.log10(p)), 2, 41).astype(np.uint8)
                    reads.append((bases.tobytes().decode(), qual))
                index += 1
                qname = f"sim{index:07d}_h{hap_index}"
                yield qname, reads[0][0], reads[0][1], reads[1][0], reads[1][1]


def _write_reference(genome: dict[str, bytes], path: Path) -> None:
    import pysam

    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            for name, seq in genome.items():
                handle.write(f">{name}\n")
                for i in range(0, len(seq), 60):
                    handle.write(seq[i : i + 60].decode() + "\n")
    pysam.faidx(str(path))


def _segment(header, qname, seq, qual, hit, read_num, mate_hit, sample):
    """One pysam record from a mappy hit; soft clips restore the unaligned ends."""
    import pysam

    seg = pysam.AlignedSegment(header)
    seg.query_name = qname
    length = len(seq)
    if hit.strand < 0:
        seq = revcomp(seq.encode()).decode()
        qual = qual[::-1]
        lead, trail = length - hit.q_en, hit.q_st
    else:
        lead, trail = hit.q_st, length - hit.q_en
    cigar = (f"{lead}S" if lead else "") + hit.cigar_str + (f"{trail}S" if trail else "")
    flag = 0x1 | (0x40 if read_num == 1 else 0x80)
    if hit.strand < 0:
        flag |= 0x10
    seg.query_sequence = seq
    seg.reference_id = header.get_tid(hit.ctg)
    seg.reference_start = hit.r_st
    seg.cigarstring = cigar
    seg.mapping_quality = hit.mapq
    seg.query_qualities = pysam.qualitystring_to_array("".join(chr(q + 33) for q in qual))
    if mate_hit is None:
        flag |= 0x8
        seg.next_reference_id = seg.reference_id
        seg.next_reference_start = seg.reference_start
    else:
        if mate_hit.strand < 0:
            flag |= 0x20
        if mate_hit.ctg == hit.ctg and hit.strand != mate_hit.strand:
            flag |= 0x2
            left = min(hit.r_st, mate_hit.r_st)
            right = max(hit.r_en, mate_hit.r_en)
            seg.template_length = (right - left) * (1 if hit.r_st <= mate_hit.r_st else -1)
        seg.next_reference_id = header.get_tid(mate_hit.ctg)
        seg.next_reference_start = mate_hit.r_st
    seg.flag = flag
    seg.set_tag("NM", hit.NM)
    seg.set_tag("RG", sample)
    return seg


def _write_bam(spec, reference: Path, pairs, sample: str, path: Path) -> dict[str, int]:
    import mappy
    import pysam

    aligner = mappy.Aligner(str(reference), preset="sr")
    if not aligner:
        raise RuntimeError(f"{reference}: mappy could not index the reference")
    header = pysam.AlignmentHeader.from_dict(
        {
            "HD": {"VN": "1.6", "SO": "coordinate"},
            "SQ": [{"SN": name, "LN": length} for name, length in spec.contigs],
            "RG": [{"ID": sample, "SM": sample, "PL": "ILLUMINA", "LB": f"{sample}-lib"}],
            "PG": [{"ID": "genoscreen-demo", "PN": "genoscreen demo-data (mappy sr)"}],
        }
    )
    records, counts = [], {"pairs": 0, "unmapped_reads": 0}
    for qname, s1, q1, s2, q2 in pairs:
        counts["pairs"] += 1
        hits = {1: None, 2: None}
        for hit in aligner.map(s1, s2):
            if hit.is_primary and hits.get(hit.read_num, 0) is None:
                hits[hit.read_num] = hit
        for read_num, seq, qual in ((1, s1, q1), (2, s2, q2)):
            hit = hits[read_num]
            if hit is None:
                counts["unmapped_reads"] += 1
                continue
            records.append(_segment(header, qname, seq, qual, hit, read_num, hits[3 - read_num], sample))
    records.sort(key=lambda r: (r.reference_id, r.reference_start))
    with atomic_path(path) as tmp:
        with pysam.AlignmentFile(str(tmp), "wb", header=header) as out:
            for record in records:
                out.write(record)
    pysam.index(str(path))
    counts["aligned_reads"] = len(records)
    return counts


def _write_truth(spec: DemoSpec, variants: list[Variant], sample: str, path: Path) -> None:
    import pysam

    lines = ["##fileformat=VCFv4.2", "##source=genoscreen demo-data"]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in spec.contigs]
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    order = {name: i for i, (name, _) in enumerate(spec.contigs)}
    for v in sorted(variants, key=lambda v: (order[v.contig], v.pos)):
        gt = f"{v.genotype[0]}|{v.genotype[1]}"
        lines.append(f"{v.contig}\t{v.pos + 1}\t.\t{v.ref}\t{v.alt}\t50\tPASS\t.\tGT\t{gt}")
    with atomic_path(path) as tmp:
        plain = tmp.with_name(tmp.name[: -len(".gz")])
        plain.write_text("\n".join(lines) + "\n")
        pysam.tabix_compress(str(plain), str(tmp), force=True)
        plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)


def _write_bed(spec: DemoSpec, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{name}\t{spec.edge // 2}\t{length - spec.edge // 2}\n" for name, length in spec.contigs))


def generate(out: str | Path, spec: DemoSpec = DemoSpec()) -> dict:
    """Write the demo data set into `out`; return a summary (paths and counts). Same spec, same bytes."""
    from genoscreen.demo.compounds import write_compounds

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = spec.paths(out)
    rng = np.random.default_rng(spec.seed)
    genome = random_genome(spec, rng)
    gene = plant_gene(spec, genome)
    _write_reference(genome, files["reference"])
    _write_gene(gene, files["annotation"], files["targets"])
    write_compounds(files["compounds"])
    summary = {"files": {k: str(v) for k, v in files.items()}, "samples": {}}
    for i, sample in enumerate(spec.samples):
        sample_rng = np.random.default_rng([spec.seed, i + 1])
        near = (gene.span[0] - 60, gene.span[1] + 60)
        variants = [v for v in random_variants(spec, genome, sample_rng)
                    if v.contig != gene.contig or not near[0] <= v.pos < near[1]]
        if i == 0:
            order = [name for name, _ in spec.contigs]
            variants = sorted(variants + [gene.gatekeeper()], key=lambda v: (order.index(v.contig), v.pos))
        haps = haplotypes(genome, variants)
        counts = _write_bam(spec, files["reference"], simulate_pairs(spec, haps, sample_rng), sample, files[f"{sample}.bam"])
        _write_truth(spec, variants, sample, files[f"{sample}.truth"])
        _write_bed(spec, files[f"{sample}.bed"])
        counts["snps"] = sum(len(v.ref) == len(v.alt) for v in variants)
        counts["indels"] = len(variants) - counts["snps"]
        counts["hom_alt"] = sum(v.genotype == (1, 1) for v in variants)
        summary["samples"][sample] = counts
        log.info("demo sample %s: %s", sample, counts)
    return summary
