"""Candidate sites from aligned reads: per-position allele counts, vectorised over reads with numpy.

Each shard's reads become dense per-read rows in reference coordinates (`ReadRows`: base code, base quality, an
indel flag), built from the CIGAR blocks with one Python step per read and numpy for everything per base. Reads in
windows with soft clips or scattered indels are first realigned against read-backed haplotypes (`realign.py`), so
an indel bwa soft-clipped or wrote several ways is counted once, from every read that carries it. Allele counts per
position are one `np.bincount`; indels are counted per left-aligned event. A candidate is an alt allele with
>= `min_count` supporting reads and >= `min_snv_fraction` (SNV) / `min_indel_fraction` (indel) of the depth.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import defaultdict

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.variants.normalize import RefSeq, normalize_allele
from genoscreen.variants.reads import read_error
from genoscreen.variants.realign import ReadSeqs, RealignOptions, realign_reads
from genoscreen.variants.regions import Region

# base codes in ReadRows.base
NONE, A, C, G, T, N, GAP = 0, 1, 2, 3, 4, 5, 6
CODE_TO_BASE = np.array(list("\0ACGTN*"))
_ASCII_TO_CODE = np.full(256, N, dtype=np.uint8)
for _b, _c in zip(b"ACGTacgt", [A, C, G, T, A, C, G, T]):
    _ASCII_TO_CODE[_b] = _c

_M_OPS = (0, 7, 8)  # M, =, X
MAX_SPAN = 2000  # reads spanning more reference than this (e.g. spliced) are skipped


@dataclasses.dataclass(frozen=True)
class ReadFilters:
    """Which reads and bases count (defaults as DeepVariant)."""

    min_mapq: int = 5
    min_base_quality: int = 10
    keep_duplicates: bool = False
    keep_secondary: bool = False
    keep_supplementary: bool = False
    keep_qcfail: bool = False
    read_groups: tuple[str, ...] = ()  # when given, only reads of these read groups (one sample of a multi-sample BAM)

    @functools.cached_property
    def flag_mask(self) -> int:
        mask = 0x4
        if not self.keep_secondary:
            mask |= 0x100
        if not self.keep_qcfail:
            mask |= 0x200
        if not self.keep_duplicates:
            mask |= 0x400
        if not self.keep_supplementary:
            mask |= 0x800
        return mask

    def keeps(self, read) -> bool:
        """Whether a read (pysam AlignedSegment) counts: its flags, mapping quality and read group (the one rule
        for make-examples and the gVCF's reference blocks)."""
        if read.flag & self.flag_mask or read.mapping_quality < self.min_mapq:
            return False
        return not self.read_groups or (read.has_tag("RG") and read.get_tag("RG") in self.read_groups)


@dataclasses.dataclass(frozen=True)
class CandidateThresholds:
    min_count: int = 2
    min_snv_fraction: float = 0.12
    min_indel_fraction: float = 0.06
    max_alts: int = 3  # most-supported alts kept per site


def encode_bases(seq: str | bytes) -> np.ndarray:
    if isinstance(seq, str):
        seq = seq.encode()
    return _ASCII_TO_CODE[np.frombuffer(seq, dtype=np.uint8)]


@dataclasses.dataclass
class ReadRows:
    """The passing reads of a shard as dense rows over reference coordinates (row r starts at start[r])."""

    start: np.ndarray  # int64 [n]
    end: np.ndarray  # int64 [n]
    mapq: np.ndarray  # uint8 [n]
    reverse: np.ndarray  # bool [n]
    base: np.ndarray  # uint8 [n, span]
    qual: np.ndarray  # uint8 [n, span]
    indel: np.ndarray  # bool [n, span]: an indel follows this base, or this base is deleted
    events: dict  # normalised indel (pos, ref, alt) -> np.ndarray of supporting read rows
    max_span: int

    @property
    def n(self) -> int:
        return len(self.start)

    def covering(self, pos: int) -> np.ndarray:
        """Row indices of reads whose aligned span covers `pos`."""
        lo = np.searchsorted(self.start, pos - self.max_span, side="left")
        hi = np.searchsorted(self.start, pos, side="right")
        idx = np.arange(lo, hi)
        return idx[self.end[lo:hi] > pos]

    def codes_at(self, rows: np.ndarray, pos: int) -> np.ndarray:
        col = pos - self.start[rows]
        ok = (col >= 0) & (col < self.base.shape[1])
        out = np.zeros(len(rows), dtype=np.uint8)
        out[ok] = self.base[rows[ok], col[ok]]
        return out


class _Layout:
    """CIGARs laid out on reference columns: aligned blocks, deleted columns, indel flags and raw indel events
    ((anchor, "I", inserted) / (anchor, "D", length) -> read rows), collected per read, written into rows at once."""

    def __init__(self):
        self.blk_read, self.blk_q, self.blk_col, self.blk_len = [], [], [], []
        self.del_read, self.del_col, self.del_len = [], [], []
        self.flag_read, self.flag_col = [], []
        self.raw_events: dict[tuple, set[int]] = defaultdict(set)

    def add(self, r: int, rs: int, cigar, seq: str, q, qoff: int, min_bq: int) -> None:
        qpos = col = 0
        last = len(cigar) - 1
        for i, (op, ln) in enumerate(cigar):
            if op in _M_OPS:
                self.blk_read.append(r)
                self.blk_q.append(qoff + qpos)
                self.blk_col.append(col)
                self.blk_len.append(ln)
                qpos += ln
                col += ln
            elif op == 1:  # insertion
                if 0 < i < last and col > 0 and cigar[i - 1][0] in _M_OPS:
                    if q is None or min(q[qpos:qpos + ln]) >= min_bq:
                        self.raw_events[(rs + col - 1, "I", seq[qpos:qpos + ln])].add(r)
                    self.flag_read.append(r)
                    self.flag_col.append(col - 1)
                qpos += ln
            elif op == 2 or op == 3:  # deletion / skip
                if op == 2 and col > 0:
                    self.raw_events[(rs + col - 1, "D", ln)].add(r)
                    self.flag_read.append(r)
                    self.flag_col.append(col - 1)
                self.del_read.append(r)
                self.del_col.append(col)
                self.del_len.append(ln)
                col += ln
            elif op == 4:  # soft clip
                qpos += ln

    def fill(self, base: np.ndarray, qual: np.ndarray, indel: np.ndarray, seq_codes: np.ndarray,
             qual_all: np.ndarray) -> None:
        if self.blk_read:
            rows, qidx, cols = _expand(self.blk_read, self.blk_q, self.blk_col, self.blk_len)
            base[rows, cols] = seq_codes[qidx]
            qual[rows, cols] = qual_all[qidx]
        if self.del_read:
            rows, _, cols = _expand(self.del_read, self.del_col, self.del_col, self.del_len)
            base[rows, cols] = GAP
            indel[rows, cols] = True
        if self.flag_read:
            indel[np.asarray(self.flag_read), np.asarray(self.flag_col)] = True


def collect_reads(bam, bam_contig: str, region: Region, refseq: RefSeq, filters: ReadFilters,
                  pad: int = 200, bam_path: str = "BAM", realign: RealignOptions = RealignOptions()) -> ReadRows:
    """Fetch the reads overlapping `region` (+`pad` to the right, for indels that left-align into it).

    With `realign` enabled, reads in windows with soft clips / scattered indels that fit a read-backed haplotype
    better are given their alignment through it (`realign.py`), as DeepVariant does, before anything is counted.
    """
    starts, ends, mapqs, revs = [], [], [], []
    lclips, rclips, qoffs = [], [], []
    seqs, quals = [], []
    layout = _Layout()
    qoff = 0
    last_start = -1
    min_bq = filters.min_base_quality
    try:
        it = bam.fetch(bam_contig, max(0, region.start), region.end + pad)
        for read in it:
            rs = read.reference_start
            if rs < last_start:
                raise InputError(f"{bam_path}: reads out of order at {bam_contig}:{rs + 1}; the BAM is not "
                                 f"coordinate-sorted: `samtools sort -o sorted.bam {bam_path}`")
            last_start = rs
            if not filters.keeps(read):
                continue
            seq = read.query_sequence
            cigar = read.cigartuples
            if not seq or not cigar:
                continue
            re_ = read.reference_end
            if re_ - rs > MAX_SPAN:
                continue
            q = read.query_qualities
            layout.add(len(starts), rs, cigar, seq, q, qoff, min_bq)
            starts.append(rs)
            ends.append(re_)
            lclips.append(cigar[0][1] if cigar[0][0] == 4 else 0)
            rclips.append(cigar[-1][1] if cigar[-1][0] == 4 else 0)
            mapqs.append(min(read.mapping_quality, 255))
            revs.append(read.is_reverse)
            seqs.append(seq)
            quals.append(bytes(q) if q is not None else bytes([30]) * len(seq))
            qoffs.append(qoff)
            qoff += len(seq)
    except OSError as err:
        raise read_error(bam, bam_path, bam_contig, f"{bam_contig}:{region.start + 1}-{region.end}", err) from None

    n = len(starts)
    start = np.asarray(starts, dtype=np.int64)
    end = np.asarray(ends, dtype=np.int64)
    mapq = np.asarray(mapqs, dtype=np.uint8)
    reverse = np.asarray(revs, dtype=bool)
    span = int((end - start).max()) if n else 1
    base = np.zeros((n, span), dtype=np.uint8)
    qual = np.zeros((n, span), dtype=np.uint8)
    indel = np.zeros((n, span), dtype=bool)
    raw_events = layout.raw_events
    if n:
        seq_codes = encode_bases("".join(seqs))
        qual_all = np.frombuffer(b"".join(quals), dtype=np.uint8)
        layout.fill(base, qual, indel, seq_codes, qual_all)

    if realign.enabled and n:
        lclip, rclip = np.asarray(lclips, dtype=np.int64), np.asarray(rclips, dtype=np.int64)
        margin = 2 * max(map(len, seqs)) + 2 * realign.max_window
        lo, hi = max(0, int((start - lclip).min()) - margin), int((end + rclip).max()) + margin
        ref_text = refseq.fetch(region.contig, lo, hi)
        ref_codes = encode_bases(ref_text)
        cols = np.minimum(start[:, None] - lo + np.arange(span, dtype=np.int64)[None, :], len(ref_codes) - 1)
        ref_at = ref_codes[cols]
        mismatch = (base >= A) & (base <= T) & (ref_at <= T) & (base != ref_at)
        done = realign_reads(ReadSeqs(start, end, lclip, rclip, mismatch | indel, mismatch, seqs, quals), ref_text,
                             lo, raw_events, realign, min_bq)
        done.credit(raw_events)
        moved = done.alignments
        if moved:
            # the moved reads' rows and events come from their new alignments; rows stay sorted by start
            rows = np.fromiter(moved, dtype=np.int64)
            for readers in raw_events.values():
                readers.difference_update(moved)
            again = _Layout()
            for r, (rs, cigar) in moved.items():
                again.add(r, rs, cigar, seqs[r], quals[r], qoffs[r], min_bq)
                start[r] = rs
                end[r] = rs + sum(ln for op, ln in cigar if op in _M_OPS or op == 2 or op == 3)
            span = max(span, int((end[rows] - start[rows]).max()))
            if span > base.shape[1]:
                widen = ((0, 0), (0, span - base.shape[1]))
                base, qual, indel = np.pad(base, widen), np.pad(qual, widen), np.pad(indel, widen)
            base[rows], qual[rows], indel[rows] = 0, 0, False
            again.fill(base, qual, indel, seq_codes, qual_all)
            for key, readers in again.raw_events.items():
                raw_events.setdefault(key, set()).update(readers)
            order = np.argsort(start, kind="stable")
            if (order != np.arange(n)).any():
                new_index = np.empty(n, dtype=np.int64)
                new_index[order] = np.arange(n)
                start, end, mapq, reverse = start[order], end[order], mapq[order], reverse[order]
                base, qual, indel = base[order], qual[order], indel[order]
                raw_events = {k: set(new_index[list(v)].tolist()) for k, v in raw_events.items() if v}

    # left-align each distinct indel event once, then merge the supporting reads
    events: dict[tuple, set] = defaultdict(set)
    for (pos, kind, val), readers in raw_events.items():
        if not readers:
            continue
        anchor = refseq.base(region.contig, pos)
        if not anchor or anchor == "N":
            continue
        if kind == "I":
            ref, alt = anchor, anchor + val.upper()
        else:
            ref = refseq.fetch(region.contig, pos, pos + val + 1)
            alt = anchor
        for key in normalize_allele(refseq, region.contig, pos, ref, alt):
            if len(key[1]) != len(key[2]):
                events[key].update(readers)
    return ReadRows(start, end, mapq, reverse, base, qual, indel,
                    {k: np.fromiter(sorted(v), dtype=np.int64) for k, v in events.items()}, span)


def _expand(read_idx, qstart, colstart, length):
    """Expand (read, query start, column start, length) blocks into per-base index arrays."""
    length = np.asarray(length, dtype=np.int64)
    total = int(length.sum())
    offs = np.repeat(np.cumsum(length) - length, length)
    within = np.arange(total, dtype=np.int64) - offs
    rows = np.repeat(np.asarray(read_idx, dtype=np.int64), length)
    q = np.repeat(np.asarray(qstart, dtype=np.int64), length) + within
    cols = np.repeat(np.asarray(colstart, dtype=np.int64), length) + within
    return rows, q, cols


@dataclasses.dataclass
class Candidate:
    """A candidate site: VCF-style REF and ALTs at 0-based `pos`, each alt with its normalised allele key."""

    contig: str
    pos: int
    ref: str
    alts: list[str]
    alt_keys: list[tuple[int, str, str]]  # per alt, the normalised (pos, ref, alt) it came from
    allele_counts: list[int]  # ref, alt1, alt2, ...
    depth: int
    supporters: list[np.ndarray]  # per alt, read rows supporting it

    @property
    def is_indel(self) -> list[bool]:
        return [len(k[1]) != len(k[2]) for k in self.alt_keys]


def allele_counts(rows: ReadRows, region: Region, min_base_quality: int) -> np.ndarray:
    """[len(region), 7] counts of base codes (bases with quality >= min, and deletions) per position."""
    L = len(region)
    counts = np.zeros(L * 7, dtype=np.int64)
    if rows.n == 0:
        return counts.reshape(L, 7)
    pos = rows.start[:, None] + np.arange(rows.base.shape[1])[None, :] - region.start
    ok = (rows.base > 0) & (pos >= 0) & (pos < L) & ((rows.qual >= min_base_quality) | (rows.base == GAP))
    flat = pos[ok] * 7 + rows.base[ok]
    counts += np.bincount(flat, minlength=L * 7)
    return counts.reshape(L, 7)


def find_candidates(rows: ReadRows, region: Region, refseq: RefSeq, filters: ReadFilters,
                    thresholds: CandidateThresholds) -> list[Candidate]:
    """Candidate sites with 0-based positions inside `region`, in position order."""
    ref_str = refseq.fetch(region.contig, region.start, region.end)
    ref_codes = encode_bases(ref_str)
    counts = allele_counts(rows, region, filters.min_base_quality)
    depth = counts[:, 1:].sum(axis=1)  # bases (any quality that passed) + deletions spanning
    alleles: dict[int, list[tuple[int, tuple, np.ndarray | None]]] = defaultdict(list)

    # SNVs
    acgt = counts[:, A:T + 1]
    frac_ok = acgt >= np.maximum(thresholds.min_count, thresholds.min_snv_fraction * depth)[:, None]
    is_ref = ref_codes[:, None] == np.arange(A, T + 1)[None, :]
    valid_ref = ref_codes[:, None] <= T
    hit_pos, hit_b = np.nonzero(frac_ok & ~is_ref & valid_ref)
    for p, b in zip(hit_pos.tolist(), hit_b.tolist()):
        gpos = region.start + p
        alleles[gpos].append((int(acgt[p, b]), (gpos, ref_str[p], "ACGT"[b]), None))

    # indels
    for key, readers in rows.events.items():
        gpos = key[0]
        if not region.contains(gpos):
            continue
        c = len(readers)
        d = max(int(depth[gpos - region.start]), c)
        if c >= thresholds.min_count and c >= thresholds.min_indel_fraction * d:
            alleles[gpos].append((c, key, readers))

    out = []
    for gpos in sorted(alleles):
        found = sorted(alleles[gpos], key=lambda x: (-x[0], x[1]))[: thresholds.max_alts]
        found.sort(key=lambda x: (len(x[1][1]), x[1][2]))
        ref = max((k[1] for _, k, _ in found), key=len)
        alts = [k[2] + ref[len(k[1]):] for _, k, _ in found]
        p = gpos - region.start
        cover = rows.covering(gpos)
        codes = rows.codes_at(cover, gpos)
        supporters = []
        for _, key, readers in found:
            if readers is None:
                supporters.append(cover[codes == encode_bases(key[2])[0]])
            else:
                supporters.append(readers)
        indel_readers = np.unique(np.concatenate([s for (_, k, _), s in zip(found, supporters)
                                                  if len(k[1]) != len(k[2])] or [np.zeros(0, np.int64)]))
        ref_support = int(np.count_nonzero((codes == ref_codes[p]) & ~np.isin(cover, indel_readers)))
        out.append(Candidate(region.contig, gpos, ref, alts, [k for _, k, _ in found],
                             [ref_support] + [c for c, _, _ in found], int(depth[p]), supporters))
    return out


def alt_subsets(n_alts: int) -> list[tuple[int, ...]]:
    """1-based alt index sets with one example each: every alt, and every pair of alts (as DeepVariant)."""
    singles = [(i,) for i in range(1, n_alts + 1)]
    return singles + list(itertools.combinations(range(1, n_alts + 1), 2)) if n_alts > 1 else singles
