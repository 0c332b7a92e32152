"""Truth labels for examples: genotype class 0/1/2 = copies of the example's alt(s) in the truth.

Truth and candidates are both normalised (`normalize.normalize_allele`), so a candidate allele usually matches a
truth allele by its (contig, pos, ref, alt) key. Reads may write a haplotype differently from the truth, though:
one combined deletion where the truth has two, an insertion plus a SNP as one complex event, an indel placed
elsewhere in a repeat. So labelling works on clusters of nearby candidates and truth records (as DeepVariant's
haplotype labeller): where every truth allele of a cluster has a candidate with its key, the keys give the labels
(the fast path); otherwise every assignment of the cluster's candidate alleles to the two haplotypes is tried, and
the pair of haplotype sequences that reproduces the most truth alleles (each phasing of unphased hets tried;
ties: fewest non-reference candidate alleles) gives each candidate its copies. Truth alleles that no candidate
reproduces, by key or by haplotype, are counted by type (SNP / INDEL): the candidate-generation recall.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from genoscreen.variants.candidates import Candidate
from genoscreen.variants.normalize import (Allele, RefSeq, TruthRecord, is_symbolic, normalize_allele,
                                           read_alleles)
from genoscreen.variants.regions import ContigMap, IntervalSet, Region

HAPLOTYPE_PAD = 10  # candidates and truth records closer than this (bp) are labelled together
MAX_RECORDS = 6  # truth records per enumeration; beyond: each candidate alone, then key matching
MAX_CANDIDATES = 8  # candidates per cluster; larger clusters label each candidate alone
MAX_ASSIGNMENTS = 3 ** 6  # candidate allele combinations per haplotype (product of 1 + alts); beyond: each alone

Change = tuple[int, str, str]  # (0-based pos, ref, alt), possibly with an empty ref or alt


def apply_alleles(ref: str, offset: int, changes: Iterable[Change]) -> str | None:
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


def trim_change(pos: int, ref: str, alt: str) -> Change:
    """The shortest (pos, ref, alt) with the same effect (shared suffix and prefix dropped, anchors included), so
    a SNP next to an indel does not overlap its anchor base."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def genotype_label(copies: Sequence[int], alt_set: Iterable[int]) -> int:
    """Label of an example for the alts in `alt_set` (1-based) of a candidate whose alts have `copies`."""
    return min(2, sum(copies[a - 1] for a in alt_set))


@dataclasses.dataclass
class _RecordAlleles:
    """A truth record's alt alleles as trimmed changes and normalised keys, and the span all of them touch."""

    record: TruthRecord
    changes: dict[int, Change]  # allele index -> change
    keys: dict[int, list[tuple]]  # allele index -> normalised (contig, pos, ref, alt) keys
    start: int
    end: int


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
        """Copies (0, 1, 2) of the alts in `alt_set` (1-based indices into cand.alts) carried by the truth, for a
        candidate on its own: by key, and with `refseq` also by haplotype (`label_candidates` of one)."""
        if refseq is not None:
            return genotype_label(self.label_candidates([cand], refseq, matched)[0], alt_set)
        copies = []
        for k in cand.alt_keys:
            hit = self.alleles.get((cand.contig, *k))
            copies.append(hit.copies if hit is not None else 0)
            if hit is not None and matched is not None:
                matched.add(hit.key)
        return genotype_label(copies, alt_set)

    def label_candidates(self, cands: Sequence[Candidate], refseq: RefSeq,
                         matched: set | None = None) -> list[tuple[int, ...]]:
        """Per candidate, the truth copies (0-2) of each of its alts, nearby candidates labelled together.

        Truth allele keys that some candidate reproduces (by key or by haplotype) are added to `matched`.
        """
        matched = matched if matched is not None else set()
        out: list[tuple[int, ...]] = [tuple(0 for _ in c.alts) for c in cands]
        by_contig: dict[str, list[int]] = {}
        for i, c in enumerate(cands):
            by_contig.setdefault(c.contig, []).append(i)
        for contig, idx in by_contig.items():
            spans = [_cand_span(cands[i]) for i in idx]
            recs = self._records_near(contig, min(s for s, _ in spans), max(e for _, e in spans), refseq)
            items = [(s, e, "c", i) for (s, e), i in zip(spans, idx)] + \
                    [(r.start, r.end, "t", k) for k, r in enumerate(recs)]
            for cluster in _clusters(items):
                ci = [i for _, _, kind, i in cluster if kind == "c"]
                if ci:
                    copies = self._label_cluster(contig, [cands[i] for i in ci],
                                                 [recs[k] for _, _, kind, k in cluster if kind == "t"], refseq, matched)
                    for i, cp in zip(ci, copies):
                        out[i] = cp
        return out

    def _records_near(self, contig: str, start: int, end: int, refseq: RefSeq) -> list[_RecordAlleles]:
        """Truth records (with alleles) touching [start - pad, end + pad], normalised positions included."""
        recs = self.records.get(contig, [])
        starts = self._starts.get(contig, [])
        i = bisect.bisect_left(starts, start - HAPLOTYPE_PAD - 1000)  # left-aligned keys may sit left of a record
        j = bisect.bisect_right(starts, end + HAPLOTYPE_PAD)
        out = []
        for r in recs[i:j]:
            ra = _record_alleles(r, refseq)
            if ra.end >= start - HAPLOTYPE_PAD and ra.start <= end + HAPLOTYPE_PAD:
                out.append(ra)
        return out

    def _label_cluster(self, contig: str, cands: list[Candidate], recs: list[_RecordAlleles], refseq: RefSeq,
                       matched: set) -> list[tuple[int, ...]]:
        """Per-alt copies for one cluster: by key when every truth allele has its candidate, else by haplotype
        assignment (each candidate alone when the cluster is too big to enumerate)."""
        truth_copies: dict[tuple, int] = {}
        for ra in recs:
            for g, keys in ra.keys.items():
                n = sum(1 for x in ra.record.gt if x == g)
                for key in keys:
                    truth_copies[key] = min(2, truth_copies.get(key, 0) + n)
        cand_keys = {(contig, *k) for c in cands for k in c.alt_keys}
        for key in cand_keys & truth_copies.keys():  # a truth allele proposed exactly has a candidate
            if key in self.alleles:
                matched.add(key)
        by_key = [tuple(truth_copies.get((contig, *k), 0) for k in c.alt_keys) for c in cands]
        if truth_copies.keys() <= cand_keys:
            return by_key
        if len(cands) > 1 and (len(recs) > MAX_RECORDS or len(cands) > MAX_CANDIDATES or
                               math.prod(1 + len(c.alts) for c in cands) > MAX_ASSIGNMENTS):
            out = []
            for c in cands:  # too many together: each candidate with the truth records near it
                s, e = _cand_span(c)
                near = [ra for ra in recs if ra.end >= s - HAPLOTYPE_PAD and ra.start <= e + HAPLOTYPE_PAD]
                out.append(self._label_cluster(contig, [c], near, refseq, matched)[0] if near else by_key[len(out)])
            return out
        best = _best_assignment(contig, cands, recs, refseq) if len(recs) <= MAX_RECORDS else None
        if best is None:
            return by_key
        assignment, kept = best
        for key in kept:
            if key in self.alleles:
                matched.add(key)
        return [tuple(sum(1 for hap in assignment if hap[i] == a) for a in range(1, len(c.alts) + 1))
                for i, c in enumerate(cands)]

    def without_candidate(self, matched: set[tuple]) -> dict[str, int]:
        """Truth alleles (by type) that no candidate matched, by key or by haplotype."""
        out = {"SNP": 0, "INDEL": 0}
        for key, a in self.alleles.items():
            if key not in matched:
                out[a.type] += 1
        return out

    def missing(self, matched: set[tuple]) -> list[Allele]:
        return [a for k, a in self.alleles.items() if k not in matched]


def _clusters(items: list[tuple]) -> Iterator[list[tuple]]:
    """Group (start, end, ...) items into runs where each starts within HAPLOTYPE_PAD of the run's end so far."""
    cluster: list[tuple] = []
    end = 0
    for item in sorted(items):
        if cluster and item[0] > end + HAPLOTYPE_PAD:
            yield cluster
            cluster = []
        end = max(end, item[1]) if cluster else item[1]
        cluster.append(item)
    if cluster:
        yield cluster


def _cand_span(c: Candidate) -> tuple[int, int]:
    return min([c.pos] + [k[0] for k in c.alt_keys]), max([c.pos + len(c.ref)] + [k[0] + len(k[1]) for k in c.alt_keys])


def _record_alleles(r: TruthRecord, refseq: RefSeq) -> _RecordAlleles:
    changes, keys = {}, {}
    start, end = r.pos, r.end
    for g in sorted(set(r.gt) - {0}):
        alt = r.alleles[g]
        if is_symbolic(alt):
            continue
        changes[g] = trim_change(r.pos, r.ref, alt)
        keys[g] = [(r.contig, *k) for k in normalize_allele(refseq, r.contig, r.pos, r.ref, alt)]
        for _, p, ref, _ in keys[g]:
            start, end = min(start, p), max(end, p + len(ref))
    return _RecordAlleles(r, changes, keys, start, end)


def _best_assignment(contig: str, cands: list[Candidate], recs: list[_RecordAlleles], refseq: RefSeq
                     ) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], set[tuple]] | None:
    """The candidates' alleles on two haplotypes that reproduce the most truth alleles.

    Returns ((hap1, hap2), kept): per haplotype the alt index (0 = ref) of each candidate, and the truth keys those
    haplotypes reproduce; None when the window runs off the reference. Each haplotype may leave out truth alleles
    no candidate combination reproduces (they stay without a candidate); ties go to the fewest non-ref candidate
    alleles, then to the first phasing and assignment tried (deterministic).
    """
    cand_changes = [[trim_change(*k) for k in c.alt_keys] for c in cands]
    truth_changes = [ch for ra in recs for ch in ra.changes.values()]
    points = [p for chs in cand_changes + [truth_changes] for p, r, _ in chs] + \
             [p + len(r) for chs in cand_changes + [truth_changes] for p, r, _ in chs]
    lo, hi = min(points) - 1, max(points) + 1
    window = refseq.fetch(contig, lo, hi)
    if len(window) != hi - lo:
        return None

    # every candidate combination's haplotype sequence -> (non-ref alleles, combination); first seen wins ties
    seqs: dict[str, tuple[int, tuple[int, ...]]] = {}
    for combo in itertools.product(*[range(1 + len(c.alts)) for c in cands]):
        seq = apply_alleles(window, lo, [cand_changes[i][a - 1] for i, a in enumerate(combo) if a])
        if seq is None:
            continue
        n = sum(1 for a in combo if a)
        if seq not in seqs or n < seqs[seq][0]:
            seqs[seq] = (n, combo)

    truth_seqs: dict[tuple, str | None] = {}

    def best_for(hap: list[tuple[int, int]]) -> tuple[int, int, tuple[int, ...], list[tuple[int, int]]]:
        """(truth alleles kept, non-ref candidate alleles, combination, kept (record, allele)) for one haplotype."""
        for k in range(len(hap), -1, -1):
            found = None
            for subset in itertools.combinations(hap, k):
                if subset not in truth_seqs:
                    truth_seqs[subset] = apply_alleles(window, lo, [recs[ri].changes[g] for ri, g in subset])
                seq = truth_seqs[subset]
                if seq is not None and seq in seqs and (found is None or seqs[seq][0] < found[1]):
                    found = (k, seqs[seq][0], seqs[seq][1], list(subset))
            if found is not None:
                return found
        raise AssertionError("the reference haplotype always matches")  # k = 0: no changes, all candidates ref

    gts = [ra.record.gt for ra in recs]
    unphased = [i for i, ra in enumerate(recs) if not ra.record.phased and gts[i][0] != gts[i][1]]
    phased_het = any(ra.record.phased and gts[i][0] != gts[i][1] for i, ra in enumerate(recs))
    free = unphased if phased_het else unphased[1:]  # swapping both haplotypes changes nothing
    best = None
    for flips in itertools.product((False, True), repeat=len(free)):
        flip = {i for i, f in zip(free, flips) if f}
        haps = [[(i, ra.record.gt[1 - h if i in flip else h]) for i, ra in enumerate(recs)] for h in (0, 1)]
        haps = [[(i, g) for i, g in hap if g in recs[i].changes] for hap in haps]
        res = [best_for(hap) for hap in haps]
        score = (res[0][0] + res[1][0], -(res[0][1] + res[1][1]))
        if best is None or score > best[0]:
            best = (score, res)
    _, res = best
    kept = {key for r in res for ri, g in r[3] for key in recs[ri].keys[g]}
    return (res[0][2], res[1][2]), kept
