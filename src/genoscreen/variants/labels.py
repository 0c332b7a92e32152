"""Truth labels for examples: genotype class 0/1/2 = copies of the example's alt(s) in the truth.

Truth and candidates are both normalised (`normalize.normalize_allele`), so a candidate allele matches a truth
allele when their (contig, pos, ref, alt) keys are equal. Truth alleles that no candidate proposes are counted by
type (SNP / INDEL): the candidate-generation recall.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable

from genoscreen.variants.candidates import Candidate
from genoscreen.variants.normalize import Allele, read_alleles
from genoscreen.variants.regions import ContigMap, IntervalSet, Region


@dataclasses.dataclass
class Truth:
    """Normalised truth alleles inside the confident regions (and the regions worked on)."""

    alleles: dict[tuple, Allele]
    confident: IntervalSet | None

    @classmethod
    def load(cls, vcf: str | Path, fasta, regions: Iterable[Region], confident_bed: list[Region] | None,
             contig_map: ContigMap | None = None) -> "Truth":
        regions = list(regions)
        alleles = read_alleles(vcf, fasta, contig_map=contig_map, regions=regions, bed=confident_bed,
                               what="truth VCF")
        return cls({a.key: a for a in alleles}, IntervalSet(confident_bed) if confident_bed is not None else None)

    def counts(self) -> dict[str, int]:
        out = {"SNP": 0, "INDEL": 0}
        for a in self.alleles.values():
            out[a.type] += 1
        return out

    def is_confident(self, cand: Candidate) -> bool:
        return self.confident is None or self.confident.contains_span(cand.contig, cand.pos, cand.pos + len(cand.ref))

    def label(self, cand: Candidate, alt_set: tuple[int, ...]) -> int:
        """Copies (0, 1, 2) of the alts in `alt_set` (1-based indices into cand.alts) carried by the truth."""
        copies = 0
        for a in alt_set:
            hit = self.alleles.get((cand.contig, *cand.alt_keys[a - 1]))
            if hit is not None:
                copies += hit.copies
        return min(copies, 2)

    def without_candidate(self, proposed: set[tuple]) -> dict[str, int]:
        """Truth alleles (by type) whose key no candidate proposed."""
        out = {"SNP": 0, "INDEL": 0}
        for key, a in self.alleles.items():
            if key not in proposed:
                out[a.type] += 1
        return out

    def missing(self, proposed: set[tuple]) -> list[Allele]:
        return [a for k, a in self.alleles.items() if k not in proposed]
