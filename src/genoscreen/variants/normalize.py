"""Variant normalisation shared by labelling and evaluation: split multi-allelics, trim, left-align, split MNPs.

Two representations of the same haplotype change compare equal after `normalize_allele`, which is what truth
matching needs (the same job as `bcftools norm -m -any -f ref` plus `--atomize` for MNPs, done in-process so no
temporary VCFs are written).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Iterable

from genoscreen.common.errors import InputError
from genoscreen.variants.regions import ContigMap, IntervalSet, Region, check_contigs

log = logging.getLogger(__name__)


class RefSeq:
    """Cached upper-case access to reference bases, fetched in blocks."""

    BLOCK = 1 << 16

    def __init__(self, fasta):
        self.fasta = fasta
        self._cache: dict[tuple[str, int], str] = {}

    def fetch(self, contig: str, start: int, end: int) -> str:
        start = max(0, start)
        out = []
        b = start // self.BLOCK
        while b * self.BLOCK < end:
            key = (contig, b)
            if key not in self._cache:
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = self.fasta.fetch(contig, b * self.BLOCK, (b + 1) * self.BLOCK).upper()
            block = self._cache[key]
            lo = max(start, b * self.BLOCK) - b * self.BLOCK
            hi = min(end, (b + 1) * self.BLOCK) - b * self.BLOCK
            out.append(block[lo:hi])
            if hi > len(block):  # past the contig end
                break
            b += 1
        return "".join(out)

    def base(self, contig: str, pos: int) -> str:
        return self.fetch(contig, pos, pos + 1)


def variant_type(ref: str, alt: str) -> str:
    """'SNP' for single-base substitutions, 'INDEL' for everything else (insertions, deletions, complex)."""
    return "SNP" if len(ref) == 1 and len(alt) == 1 else "INDEL"


def is_symbolic(alt: str) -> bool:
    """True for ALT values that are not a sequence (`<DEL>`, `*`, `.`): they take no part in allele matching."""
    return alt.startswith("<") or alt in ("*", ".")


def normalize_allele(refseq: RefSeq, contig: str, pos: int, ref: str, alt: str) -> list[tuple[int, str, str]]:
    """Normalise one REF/ALT pair at 0-based `pos`: trim, left-align indels, split MNPs into SNPs.

    Returns a list of (pos, ref, alt), empty when the allele equals the reference.
    """
    ref, alt = ref.upper(), alt.upper()
    if ref == alt:
        return []
    # trim common suffix, extending left when an allele becomes empty (left-align)
    while True:
        changed = False
        if ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
            changed = True
        if not ref or not alt:
            if pos == 0:
                break
            pos -= 1
            b = refseq.base(contig, pos)
            if not b:
                break
            ref, alt = b + ref, b + alt
            changed = True
        if not changed:
            break
    # trim common prefix, keeping one anchor base for indels
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt = ref[1:], alt[1:]
        pos += 1
    if len(ref) == len(alt) and len(ref) > 1:  # MNP -> SNPs
        return [(pos + i, r, a) for i, (r, a) in enumerate(zip(ref, alt)) if r != a]
    return [(pos, ref, alt)]


@dataclasses.dataclass(frozen=True)
class Allele:
    """One normalised alt allele of a sample, with the number of haplotypes (1 or 2) carrying it."""

    contig: str
    pos: int  # 0-based
    ref: str
    alt: str
    copies: int

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.contig, self.pos, self.ref, self.alt)

    @property
    def type(self) -> str:
        return variant_type(self.ref, self.alt)


@dataclasses.dataclass(frozen=True)
class TruthRecord:
    """A genotyped VCF record as written (0-based pos; alleles[0] is REF)."""

    contig: str
    pos: int
    ref: str
    alleles: tuple[str, ...]
    gt: tuple[int, int]
    phased: bool

    @property
    def end(self) -> int:
        return self.pos + len(self.ref)


def _passes(rec) -> bool:
    keys = list(rec.filter.keys())
    return not keys or keys == ["PASS"]


def read_alleles(vcf_path: str | Path, fasta, *, contig_map: ContigMap | None = None,
                 regions: Iterable[Region] | None = None, bed: Iterable[Region] | None = None,
                 sample: str | None = None, pass_only: bool = True, what: str = "VCF",
                 records_out: list | None = None) -> list[Allele]:
    """Read a VCF's genotyped alt alleles, normalised, restricted to `regions` and `bed` (spans inside them).

    Multi-allelic records are split; an allele's `copies` is how many GT entries carry it. Alleles sharing a
    normalised key (e.g. the same variant written twice) are merged, copies capped at 2. When `records_out` is a
    list, the genotyped records overlapping `regions` are appended to it as `TruthRecord`s (as written, for
    haplotype comparisons).
    """
    import pysam

    contig_map = contig_map or ContigMap()
    vcf_path = Path(vcf_path)
    if not vcf_path.exists():
        raise InputError(f"{vcf_path}: {what} not found")
    try:
        level = pysam.set_verbosity(0)  # silence htslib's "no index" notes; errors still raise
        try:
            vcf = pysam.VariantFile(str(vcf_path))
        finally:
            pysam.set_verbosity(level)
    except (OSError, ValueError) as err:
        raise InputError(f"{vcf_path}: cannot read as VCF ({err})") from None
    samples = list(vcf.header.samples)
    if not samples:
        raise InputError(f"{vcf_path}: no sample column; a {what} needs genotypes (GT)")
    if sample is None:
        sample = samples[0]
    elif sample not in samples:
        raise InputError(f"{vcf_path}: sample {sample!r} not in the VCF (has {', '.join(samples)})")
    ref_names = list(fasta.references)
    region_sets = IntervalSet(regions) if regions is not None else None
    bed_set = IntervalSet(bed) if bed is not None else None
    refseq = RefSeq(fasta)
    merged: dict[tuple, int] = {}
    ref_set = set(ref_names)
    unknown: set[str] = set()
    known = 0
    try:
        for rec in vcf:
            if contig_map(rec.contig) not in ref_set:
                unknown.add(rec.contig)
                continue
            known += 1
            if pass_only and not _passes(rec):
                continue
            gt = rec.samples[sample].get("GT")
            if not gt or all(g is None or g == 0 for g in gt) or rec.alts is None:
                continue
            contig = contig_map(rec.contig)
            if records_out is not None and len(gt) == 2 and None not in gt and (
                    region_sets is None or region_sets.overlaps(contig, rec.start, rec.stop)):
                records_out.append(TruthRecord(contig, rec.start, rec.ref.upper(),
                                               tuple(a.upper() for a in rec.alleles), tuple(gt),
                                               bool(rec.samples[sample].phased)))
            for idx, alt in enumerate(rec.alts, 1):
                copies = sum(1 for g in gt if g == idx)
                if copies == 0 or is_symbolic(alt):
                    continue
                for pos, r, a in normalize_allele(refseq, contig, rec.start, rec.ref, alt):
                    if region_sets is not None and not region_sets.contains_span(contig, pos, pos + len(r)):
                        continue
                    if bed_set is not None and not bed_set.contains_span(contig, pos, pos + len(r)):
                        continue
                    key = (contig, pos, r, a)
                    merged[key] = min(2, merged.get(key, 0) + copies)
    except (OSError, ValueError) as err:
        raise InputError(f"{vcf_path}: unreadable record ({err})") from None
    if unknown and not known:
        check_contigs(sorted(unknown), ref_names, f"{vcf_path} ({what})", "the reference", contig_map)
    if unknown:
        log.info("%s: skipped records on contigs absent from the reference: %s", vcf_path, ", ".join(sorted(unknown)[:5]))
    return [Allele(*k, copies=c) for k, c in sorted(merged.items(), key=lambda kv: (ref_names.index(kv[0][0]) if kv[0][0] in ref_names else 0, kv[0][1:]))]


def alleles_by_key(alleles: Iterable[Allele]) -> dict[tuple, Allele]:
    return {a.key: a for a in alleles}
