"""Truth labels for examples: genotype class 0/1/2 = copies of the example's alt(s) in the truth.

Truth and candidates are both normalised (`normalize.normalize_allele`), so a candidate allele usually matches a
truth allele by its (contig, pos, ref, alt) key. When it does not, the candidate may still be the same haplotype
written differently (e.g. reads show one 2 bp deletion where the truth has two 1 bp deletions on one haplotype, or
an indel placed differently in a repeat): the candidate's local haplotype is compared with the truth's two
haplotypes over the truth records nearby, trying each phasing of unphased hets; the copies that match are the label
(as DeepVariant's haplotype-aware labeller, for single candidates). Truth alleles that no candidate proposes, by
key or by haplotype, are counted by type (SNP / INDEL): the candidate-generation recall.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from pathlib import Path
from typing import Iterable

from genoscreen.variants.candidates import Candidate
from genoscreen.variants.normalize import Allele, RefSeq, TruthRecord, normalize_allele, read_alleles
from genoscreen.variants.regions import ContigMap, IntervalSet, Region

HAPLOTYPE_PAD = 10  # truth records within this many bp of a candidate take part in the haplotype comparison
MAX_RECORDS = 6  # larger clusters are left to key matching


def apply_alleles(ref: str, offset: int, changes: Iterable[tuple[int, str, str]]) -> str | None:
    """`ref` (starting at `offset`) with (pos, ref, alt) changes applied; None when they overlap or leave it."""
    out, cursor = [], offset
    for pos, r, a in sorted(changes):
        if pos < cursor or pos + len(r) > offset + len(ref):
            return None
        out.append(ref[cursor - offset: pos - offset])
        out.append(a)
        cursor = pos + len(r)
    out.append(ref[cursor - offset:])
    return "".join(out)


@dataclasses.dataclass
class Truth:
    """Normalised truth alleles inside the confident regions (and the regions worked on), and the records."""

    alleles: dict[tuple, Allele]
    confident: IntervalSet | None
    records: dict[str, list[TruthRecord]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self._starts = {c: [r.pos for r in rs] for c, rs in self.records.items()}

    @classmethod
    def load(cls, vcf: str | Path, fasta, regions: Iterable[Region], confident_bed: list[Region] | None,
             contig_map: ContigMap | None = None) -> "Truth":
        regions = list(regions)
        records: list[TruthRecord] = []
        alleles = read_alleles(vcf, fasta, contig_map=contig_map, regions=regions, bed=confident_bed,
                               what="truth VCF", records_out=records)
        by_contig: dict[str, list[TruthRecord]] = {}
        for r in sorted(records, key=lambda r: (r.contig, r.pos)):
            by_contig.setdefault(r.contig, []).append(r)
        return cls({a.key: a for a in alleles}, IntervalSet(confident_bed) if confident_bed is not None else None,
                   by_contig)

    def counts(self) -> dict[str, int]:
        out = {"SNP": 0, "INDEL": 0}
        for a in self.alleles.values():
            out[a.type] += 1
        return out

    def is_confident(self, cand: Candidate) -> bool:
        return self.confident is None or self.confident.contains_span(cand.contig, cand.pos, cand.pos + len(cand.ref))

    def label(self, cand: Candidate, alt_set: tuple[int, ...], refseq: RefSeq | None = None,
              matched: set | None = None) -> int:
        """Copies (0, 1, 2) of the alts in `alt_set` (1-based indices into cand.alts) carried by the truth.

        With `refseq`, alts without a key match are compared by haplotype; truth allele keys explained either way
        are added to `matched`.
        """
        copies = 0
        for a in alt_set:
            key = (cand.contig, *cand.alt_keys[a - 1])
            hit = self.alleles.get(key)
            if hit is not None:
                copies += hit.copies
                if matched is not None:
                    matched.add(key)
            elif refseq is not None:
                copies += self._haplotype_copies(cand, a, refseq, matched)
        return min(copies, 2)

    def _nearby(self, contig: str, start: int, end: int) -> list[TruthRecord]:
        recs = self.records.get(contig, [])
        starts = self._starts.get(contig, [])
        i = bisect.bisect_left(starts, start - HAPLOTYPE_PAD - 200)
        out = []
        while i < len(recs) and recs[i].pos <= end + HAPLOTYPE_PAD:
            r = recs[i]
            if r.end >= start - HAPLOTYPE_PAD:
                out.append(r)
            i += 1
        return out

    def _haplotype_copies(self, cand: Candidate, alt_index: int, refseq: RefSeq, matched: set | None) -> int:
        pos, ref, alt = cand.alt_keys[alt_index - 1]
        recs = self._nearby(cand.contig, pos, pos + len(ref))
        if not recs or len(recs) > MAX_RECORDS:
            return 0
        lo = min(pos, min(r.pos for r in recs))
        hi = max(pos + len(ref), max(r.end for r in recs))
        window = refseq.fetch(cand.contig, lo, hi)
        if len(window) != hi - lo:
            return 0
        cand_hap = apply_alleles(window, lo, [(pos, ref, alt)])
        unphased = [i for i, r in enumerate(recs) if not r.phased and r.gt[0] != r.gt[1]]
        best, best_haps = 0, ()
        for flips in itertools.product((False, True), repeat=max(0, len(unphased) - 1)):
            flip = dict(zip(unphased[1:], flips))
            haps = []
            for h in (0, 1):
                changes = []
                for i, r in enumerate(recs):
                    g = r.gt[1 - h] if flip.get(i) else r.gt[h]
                    if g > 0 and not r.alleles[g].startswith("<") and r.alleles[g] != "*":
                        changes.append((r.pos, r.ref, r.alleles[g]))
                haps.append((apply_alleles(window, lo, changes), changes))
            n = sum(1 for seq, _ in haps if seq is not None and seq == cand_hap)
            if n > best:
                best, best_haps = n, [ch for seq, ch in haps if seq == cand_hap]
        if best and matched is not None:
            for changes in best_haps:
                for p, r, a in changes:
                    for key in normalize_allele(refseq, cand.contig, p, r, a):
                        if (cand.contig, *key) in self.alleles:
                            matched.add((cand.contig, *key))
        return best

    def without_candidate(self, matched: set[tuple]) -> dict[str, int]:
        """Truth alleles (by type) that no candidate matched, by key or by haplotype."""
        out = {"SNP": 0, "INDEL": 0}
        for key, a in self.alleles.items():
            if key not in matched:
                out[a.type] += 1
        return out

    def missing(self, matched: set[tuple]) -> list[Allele]:
        return [a for k, a in self.alleles.items() if k not in matched]
