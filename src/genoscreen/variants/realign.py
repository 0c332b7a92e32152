"""Local realignment of reads in active windows against read-backed haplotypes (a light DeepVariant realigner).

bwa aligns each read to the reference alone, so a read carrying an insertion near its end or next to a repeat is
often soft-clipped, or written with a shifted gap and mismatches: the indel never reaches the counts, or is split
over many representations that each stay under the candidate thresholds. In windows with such evidence (soft
clips, indel CIGARs that are scattered or under the candidate fraction), `realign_reads`

1. anchors the window in the reads by its flanking reference k-mers (unique in the window's neighbourhood, and
   clear of positions where enough reads differ from the reference: a flank over a variant would hide the reads
   that carry it) and takes each read's sequence between them: reads that span the window give its haplotypes
   whatever bwa made of them; reads that reach one flank give a prefix or suffix, joined where they overlap
   unambiguously, so a window longer than most reads can span still gets all its haplotypes. Sequences every base
   of which >= `min_reads` reads (and >= `min_fraction` of the anchored reads) agree with are the candidate
   haplotypes (the reference is always one);
2. aligns each haplotype to the reference window (affine gaps, GATK HaplotypeCaller's scores: a mismatch costs
   more than a short gap, so indels are written as a caller and a truth set write them) to get its indels, placed
   as one allele each;
3. scores every read near the window against the reference and each haplotype (the read end to end, free
   haplotype ends, a small per-base cost for clipping; Biopython's C aligner with bwa-like scores); a read that
   fits a haplotype better than the reference by > `min_gain` and covers one of its indels gets a new alignment:
   its alignment to the haplotype composed with the haplotype's to the reference, when that alignment has no gap
   of its own and no mismatch where the read had none (realignment never invents or moves substitutions). Every
   haplotype competes, substitution-only ones too: a read that fits one of those best keeps its alignment rather
   than moving to an indel haplotype sharing its substitutions. A read the haplotype explains only in part is
   credited with the haplotype indels it covers, in place of its own CIGAR indels in the window, and keeps its
   alignment.

The new alignments replace the reads' CIGARs before anything is counted, so candidates, allele depths and every
pileup channel see realigned reads like any other. Cost is bounded per window (`max_reads`, `max_haplotypes`).
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from collections import Counter

import numpy as np

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RealignOptions:
    """Where and how reads are realigned; `enabled=False` (CLI `--no-realign`) keeps bwa's alignments as they are."""

    enabled: bool = True
    min_clip: int = 5  # a soft clip this long is realignment evidence
    min_evidence: int = 2  # reads with clips / indel CIGARs within `merge` bp needed to open a window
    merge: int = 10  # evidence this close is one window
    margin: int = 5  # bp added on each side of the evidence
    anchor: int = 12  # flanking k-mer that anchors a window in the reads
    max_window: int = 80  # longest reference window (after growing to unique flanks); longer ones are skipped
    min_reads: int = 2  # reads spelling a haplotype
    min_fraction: float = 0.06  # ... as a share of the reads spanning it; a CIGAR indel under this share of the
    # reads over it is weak evidence (opens a window even alone)
    max_haplotypes: int = 4  # most-supported non-reference haplotypes kept per window
    min_gain: float = 5.0  # a read moves when it scores more than this higher on a haplotype than on the reference
    max_reads: int = 300  # reads scored per window (deterministic thinning beyond)
    min_overlap: int = 20  # a prefix and a suffix reads spell are joined where they overlap this much, unambiguously


@dataclasses.dataclass
class ReadSeqs:
    """What realignment needs of a shard's passing reads (index r = ReadRows row r)."""

    start: np.ndarray  # aligned reference start
    end: np.ndarray  # aligned reference end
    left_clip: np.ndarray  # soft-clipped bases at the start / end
    right_clip: np.ndarray
    edits: np.ndarray  # bool [n, span]: a mismatch or indel at column c (reference start + c)
    mismatch: np.ndarray  # bool [n, span]: its aligned base at column c (reference start + c) is a mismatch
    seq: list[str]
    qual: list[bytes]


_MAX_JOIN = 24  # longest novel prefixes (and suffixes) tried for joins per window

_SCORES = dict(match_score=1.0, mismatch_score=-4.0, open_gap_score=-7.0, extend_gap_score=-1.0)  # bwa mem: A1 B4 O6 E1
# haplotype vs reference: GATK HaplotypeCaller's scores (match 200, mismatch -150, gap open -260, extend -11), under
# which a substitution costs more than a short gap: a haplotype is written with the indels a variant caller (and so
# a truth set) would give it, not as one indel plus substitutions that a shift of a second indel in a repeat explains
_HAP_SCORES = dict(match_score=200.0, mismatch_score=-150.0, open_gap_score=-260.0, extend_gap_score=-11.0)


def _aligners():
    from Bio.Align import PairwiseAligner

    hap = PairwiseAligner(mode="global", **_HAP_SCORES)  # haplotype vs reference window, both end to end
    read = PairwiseAligner(mode="global", **_SCORES)  # read end to end (clipping at 1/base) in a longer target
    try:
        read.end_deletion_score, read.end_insertion_score = 0.0, -1.0
    except AttributeError:  # Biopython before the insertion/deletion names
        read.query_end_gap_score, read.target_end_gap_score = 0.0, -1.0
    return hap, read


def _unique(text: str, kmer: str) -> bool:
    i = text.find(kmer)
    return i >= 0 and text.find(kmer, i + 1) < 0


def _windows(pos: np.ndarray, tag: np.ndarray, opts: RealignOptions) -> list[tuple[int, int]]:
    """[start, end) windows around clusters of >= min_evidence evidence positions, skipping clusters that are one
    well-supported CIGAR indel alone (already counted as it should be). Tags: -1 a soft clip, -2 a CIGAR indel
    under `min_fraction` of the reads, >= 0 the id of a CIGAR indel above it."""
    order = np.argsort(pos, kind="stable")
    pos, tag = pos[order], tag[order]
    breaks = np.nonzero(np.diff(pos) > opts.merge)[0] + 1
    out: list[tuple[int, int]] = []
    for cp, ct in zip(np.split(pos, breaks), np.split(tag, breaks)):
        if len(cp) < opts.min_evidence or ((ct >= 0).all() and (ct == ct[0]).all()):
            continue
        ws, we = int(cp[0]) - opts.margin, int(cp[-1]) + opts.margin + 1
        if out and ws <= out[-1][1]:
            out[-1] = (out[-1][0], we)
        else:
            out.append((ws, we))
    return out


def _hap_indels(aligner, ref_ext: str, hap_ext: str, ref_offset: int, hap_offset: int
                ) -> tuple[list[tuple[tuple, int, int]], np.ndarray]:
    """Align `hap_ext` to `ref_ext` (which starts at `ref_offset`). Returns its indels as (raw event key, hap start,
    hap end) with keys as CIGARs give them ((anchor, "I", inserted) / (anchor, "D", length); hap positions
    offset by `hap_offset`), and the reference position of each `hap_ext` base (-1: inserted)."""
    c = aligner.align(ref_ext, hap_ext)[0].coordinates
    to_ref = np.full(len(hap_ext), -1, dtype=np.int64)
    out = []
    for i in range(c.shape[1] - 1):
        t0, t1, q0, q1 = int(c[0, i]), int(c[0, i + 1]), int(c[1, i]), int(c[1, i + 1])
        if t1 > t0 and q1 > q0:
            to_ref[q0:q1] = ref_offset + np.arange(t0, t1)
        elif t0 == 0 or q0 == 0 or t1 == len(ref_ext) or q1 == len(hap_ext):
            continue  # an end gap: the flanks anchor both ends, so only a degenerate alignment has one
        elif t1 == t0:
            out.append(((ref_offset + t0 - 1, "I", hap_ext[q0:q1]), hap_offset + q0, hap_offset + q1))
        else:
            out.append(((ref_offset + t0 - 1, "D", t1 - t0), hap_offset + q0, hap_offset + q0))
    return out, to_ref


def _cigar(refpos: np.ndarray) -> tuple[int, list[tuple[int, int]]] | None:
    """(reference start, CIGAR) of a read whose bases align to reference positions `refpos` (-1: not aligned to
    the reference; inserted inside, soft-clipped at the ends)."""
    q = np.nonzero(refpos >= 0)[0]
    if len(q) == 0:
        return None
    r = refpos[q]
    ins, dels = np.diff(q) - 1, np.diff(r) - 1
    breaks = np.nonzero((ins != 0) | (dels != 0))[0]
    cigar = [(4, int(q[0]))] if q[0] > 0 else []
    prev = 0
    for b in breaks.tolist():
        cigar.append((0, b + 1 - prev))
        if ins[b]:
            cigar.append((1, int(ins[b])))
        if dels[b]:
            cigar.append((2, int(dels[b])))
        prev = b + 1
    cigar.append((0, len(q) - prev))
    if q[-1] < len(refpos) - 1:
        cigar.append((4, int(len(refpos) - 1 - q[-1])))
    return int(r[0]), cigar


def _read_to_ref(c: np.ndarray, to_ref: np.ndarray, a: int, n: int) -> np.ndarray | None:
    """Reference position of each of the `n` bases of a read whose alignment to `hap[a:...]` has coordinates `c`
    (-1: inserted against the reference or clipped), or None when that alignment has gaps of its own (the
    haplotype does not explain the read); `to_ref` maps haplotype positions to the reference."""
    out = np.full(n, -1, dtype=np.int64)
    for i in range(c.shape[1] - 1):
        t0, t1, q0, q1 = int(c[0, i]), int(c[0, i + 1]), int(c[1, i]), int(c[1, i + 1])
        if t1 > t0 and q1 > q0:
            out[q0:q1] = to_ref[a + t0: a + t1]
        elif 0 < i < c.shape[1] - 2:
            return None
    return out


@dataclasses.dataclass
class Realigned:
    """What realignment changed: reads the haplotype explains get a new alignment; reads it only partly explains
    (they carry other indels the window's haplotypes lack) are credited with the haplotype indels they cover in
    place of their own CIGAR indels inside the window."""

    alignments: dict[int, tuple[int, list[tuple[int, int]]]]  # read row -> (reference start, CIGAR)
    credited: dict[int, list[tuple[int, int, set]]]  # read row -> [(window start, window end, raw indel keys)]

    def credit(self, raw_events: dict[tuple, set]) -> None:
        """Move the credited reads' indel support inside their windows onto the haplotype indels they cover."""
        if not self.credited:
            return
        by_read: dict[int, list[tuple]] = {}
        for key, readers in raw_events.items():
            for r in readers & self.credited.keys():
                by_read.setdefault(r, []).append(key)
        for r, windows in self.credited.items():
            for ws, we, keys in windows:
                for key in by_read.get(r, ()):
                    if ws - 1 <= key[0] < we:
                        raw_events[key].discard(r)
                for key in keys:
                    raw_events.setdefault(key, set()).add(r)


def realign_reads(reads: ReadSeqs, ref_text: str, ref_offset: int, raw_events: dict[tuple, set],
                  opts: RealignOptions, min_base_quality: int) -> Realigned:
    """Realign the reads that fit a read-backed haplotype better than the reference (see the module docstring).

    `raw_events` holds the CIGAR indels (key -> read rows) that, with soft clips, mark the windows. `ref_text` is
    the reference from `ref_offset`, covering the reads.
    """
    n = len(reads.seq)
    out = Realigned({}, {})
    moved = out.alignments
    if not opts.enabled or n == 0:
        return out
    clip_pos = np.concatenate([reads.start[reads.left_clip >= opts.min_clip],
                               reads.end[reads.right_clip >= opts.min_clip]])
    pos, tag = [clip_pos], [np.full(len(clip_pos), -1, dtype=np.int64)]
    sorted_start, sorted_end = np.sort(reads.start), np.sort(reads.end)
    for i, (key, readers) in enumerate(raw_events.items()):
        depth = np.searchsorted(sorted_start, key[0], "right") - np.searchsorted(sorted_end, key[0], "right")
        pos.append(np.full(len(readers), key[0] + 1, dtype=np.int64))
        tag.append(np.full(len(readers), i if len(readers) >= opts.min_fraction * depth else -2, dtype=np.int64))
    windows = _windows(np.concatenate(pos), np.concatenate(tag), opts)
    if not windows:
        return out
    hap_aligner, read_aligner = _aligners()
    ustart = reads.start - reads.left_clip  # unclipped read span in reference coordinates
    uend = reads.end + reads.right_clip
    order = np.argsort(ustart, kind="stable")
    sorted_ustart = ustart[order]
    max_len = max(len(s) for s in reads.seq)
    k = opts.anchor
    ref_end = ref_offset + len(ref_text)
    ref_codes = np.frombuffer(ref_text.encode(), dtype=np.uint8)

    def ref(a: int, b: int) -> str:
        return ref_text[max(0, a - ref_offset): max(0, b - ref_offset)]

    busy = np.concatenate([[0], np.cumsum(_busy(reads, raw_events, ref_offset, len(ref_text), opts))])

    def busy_in(a: int, b: int) -> bool:
        a, b = min(max(0, a - ref_offset), len(ref_text)), min(max(0, b - ref_offset), len(ref_text))
        return bool(busy[b] > busy[a])

    event_keys = sorted(raw_events, key=lambda key: key[0])
    event_pos = [key[0] for key in event_keys]
    pad = max_len + 10
    scored = 0
    for ws0, we0 in windows:
        # haplotypes: the reference with each indel some read's CIGAR shows here (most-supported first) ...
        found = [key for key in event_keys[bisect.bisect_left(event_pos, ws0 - 1): bisect.bisect_left(event_pos, we0)]
                 if raw_events[key]]
        found.sort(key=lambda key: -len(raw_events[key]))
        # ... and the sequences reads spell between the window's flanks, which must be unique around it and clear
        # of read variation: grow the window until they are (a repeat, a nearby variant is then inside it); where
        # that takes more than max_window, flanks that are only unique
        for quiet in (busy_in, lambda a, b: False):
            ws, we = ws0, we0
            while (quiet(ws - k, ws) or not _unique(ref(ws - max_len, we + max_len), ref(ws - k, ws))) \
                    and we - ws <= opts.max_window:
                ws -= 1
            while (quiet(we, we + k) or not _unique(ref(ws - max_len, we + max_len), ref(we, we + k))) \
                    and we - ws <= opts.max_window:
                we += 1
            if we - ws <= opts.max_window:
                break
        lo, hi_ref = min(ws, ws0) - pad, max(we, we0) + pad
        if lo < ref_offset or hi_ref > ref_end:
            continue
        ref_full = ref(lo, hi_ref)
        ident = np.arange(lo, hi_ref, dtype=np.int64)
        hi = np.searchsorted(sorted_ustart, max(we, we0), side="left")
        near = order[:hi][uend[order[:hi]] > min(ws, ws0)]
        if len(near) > opts.max_reads:
            near = near[np.linspace(0, len(near) - 1, opts.max_reads).astype(np.int64)]
        # haplotype over [lo, hi_ref) -> (its indels, the reference position of each of its bases)
        haps: dict[str, tuple[list[tuple[tuple, int, int]], np.ndarray]] = {}
        for key in found[: opts.max_haplotypes]:
            anchor, kind, val = key
            cut = anchor + 1 - lo
            if kind == "I":
                seq = ref_full[:cut] + val + ref_full[cut:]
                hap = ([(key, cut, cut + len(val))],
                       np.concatenate([ident[:cut], np.full(len(val), -1, dtype=np.int64), ident[cut:]]))
            else:
                seq = ref_full[:cut] + ref_full[cut + val:]
                hap = ([(key, cut, cut)], np.concatenate([ident[:cut], ident[cut + val:]]))
            haps.setdefault(seq, hap)
        left, right = ref(ws - k, ws), ref(we, we + k)
        spelled, n_anchored = _spelled(reads, near, left, right, min_base_quality,
                                       opts.min_overlap) if we - ws <= opts.max_window else (Counter(), 0)
        ref_win = ref(ws, we)
        for h, c in spelled.most_common(opts.max_haplotypes + 1):
            if h == ref_win or c < opts.min_reads or c < opts.min_fraction * n_anchored:
                continue
            seq = ref(lo, ws) + h + ref(we, hi_ref)
            if seq not in haps:
                indels, ext = _hap_indels(hap_aligner, left + ref_win + right, left + h + right, ws - k, ws - k - lo)
                haps[seq] = (indels, np.concatenate([ident[:ws - k - lo], ext, ident[we + k - lo:]]))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("window %d-%d (%d-%d): %d reads anchored, spelled %s; haplotype indels %s", ws0, we0, ws, we,
                      n_anchored, spelled.most_common(4), [v[0] for v in haps.values()])
        if not any(indels for indels, _ in haps.values()):
            continue
        # every read-backed haplotype competes, substitution-only ones too: a read that fits one best keeps its
        # alignment rather than moving to an indel haplotype that shares its substitutions
        hap_seqs = [h for h in haps if h != ref_full]
        shift = [len(h) - len(ref_full) for h in hap_seqs]
        for r in near[_edited_near(reads, near, min(ws, ws0) - 20, max(we, we0) + 20, opts.min_gain)].tolist():
            if r in moved:  # already explained by a haplotype of an earlier window
                continue
            s = reads.seq[r]
            a = max(0, int(min(ustart[r], ws, ws0)) - 10 - lo)  # target span for this read, in [lo, ...) coordinates
            b = int(max(uend[r], we, we0)) + 10 - lo
            scored += 1
            ref_score = read_aligner.score(ref_full[a:b], s)
            if len(s) - ref_score <= opts.min_gain:  # no haplotype can beat the reference by more
                continue
            scores = np.asarray([read_aligner.score(h[a:b + d], s) for h, d in zip(hap_seqs, shift)])
            best = scores.max()
            if best - ref_score <= opts.min_gain:
                continue
            i, *others = np.nonzero(scores == best)[0].tolist()
            c = read_aligner.align(hap_seqs[i][a:b + shift[i]], s)[0].coordinates
            span_lo, span_hi = a + int(c[0, 0]), a + int(c[0, -1])
            covered = {key for key, h0, h1 in haps[hap_seqs[i]][0] if span_lo < h0 and span_hi > h1}
            if not covered or any(covered != _covered(read_aligner, hap_seqs[j], a, b + shift[j], s,
                                                      haps[hap_seqs[j]][0], int(ustart[r]) - lo,
                                                      int(uend[r]) - lo + shift[j]) for j in others):
                continue  # the read reaches none of the haplotype's indels, or cannot tell haplotypes apart
            refpos = _read_to_ref(c, haps[hap_seqs[i]][1], a, len(s))
            new = None
            if refpos is not None:  # the haplotype explains the read: take its alignment unless it adds mismatches
                on = refpos >= 0
                read_codes = np.frombuffer(s.encode(), dtype=np.uint8)[on]
                wrong = refpos[on][(read_codes != ref_codes[refpos[on] - ref_offset]) & (read_codes != 78)]
                cols = wrong - reads.start[r]
                inside = (cols >= 0) & (cols < reads.mismatch.shape[1])
                if inside.all() and reads.mismatch[r, cols].all():
                    new = _cigar(refpos)
            if new is not None:
                moved[r] = new
                out.credited.pop(r, None)
            else:
                out.credited.setdefault(r, []).append((min(ws, ws0), max(we, we0), covered))
    log.debug("realigned: %d windows, %d reads scored, %d given new alignments, %d credited", len(windows), scored,
              len(moved), len(out.credited))
    return out


def _busy(reads: ReadSeqs, raw_events: dict[tuple, set], offset: int, length: int, opts: RealignOptions
          ) -> np.ndarray:
    """bool [length]: reference positions (from `offset`) where enough reads differ from the reference that their
    haplotype could pass `min_reads` / `min_fraction`: a mismatch there, a deleted base, or an insertion after it
    (the base on each side). A window's flanks must avoid them: reads carrying the change would not contain the
    flank, so the haplotype they spell would go unseen."""
    depth = np.zeros(length + 1, dtype=np.int64)
    np.add.at(depth, np.clip(reads.start - offset, 0, length), 1)
    np.add.at(depth, np.clip(reads.end - offset, 0, length), -1)
    depth = np.cumsum(depth)[:length]
    rows, cols = np.nonzero(reads.mismatch)
    at = reads.start[rows] + cols - offset
    diff = np.bincount(at[(at >= 0) & (at < length)], minlength=length)
    for (anchor, kind, val), readers in raw_events.items():
        a = anchor - offset
        span = slice(max(0, a + 1), max(0, a + 1 + val)) if kind == "D" else slice(max(0, a), max(0, a + 2))
        diff[span] += len(readers)
    return (diff >= opts.min_reads) & (diff >= opts.min_fraction * depth)


def _edited_near(reads: ReadSeqs, rows: np.ndarray, lo: int, hi: int, min_gain: float) -> np.ndarray:
    """Which of `rows` have a mismatch, indel or soft clip in [lo, hi) and could move: the others fit the reference
    there, and a read with m mismatches and no gap or clip at all scores within 5 m of the best (match 1,
    mismatch -4), so it cannot gain more than `min_gain` when 5 m <= min_gain."""
    cols = np.arange(lo, hi)[None, :] - reads.start[rows][:, None]
    inside = (cols >= 0) & (cols < reads.edits.shape[1])
    near = (reads.edits[rows[:, None], np.where(inside, cols, 0)] & inside).any(axis=1)
    starts, ends = reads.start[rows], reads.end[rows]
    near |= (reads.left_clip[rows] > 0) & (starts >= lo) & (starts < hi)
    near |= (reads.right_clip[rows] > 0) & (ends >= lo) & (ends <= hi)
    few = (5 * reads.mismatch[rows].sum(axis=1) <= min_gain) & ~(reads.edits[rows] & ~reads.mismatch[rows]).any(axis=1)
    return near & ~(few & (reads.left_clip[rows] == 0) & (reads.right_clip[rows] == 0))


def _covered(aligner, hap: str, a: int, b: int, read: str, indels: list[tuple[tuple, int, int]], approx_lo: int,
             approx_hi: int) -> set:
    """Keys of the haplotype indels that `read` covers (>= 1 base each side) when aligned to `hap[a:b]`. The
    read's unclipped span on the haplotype (`approx_lo`, `approx_hi`) decides when it is clear by a margin; the
    alignment is computed only otherwise."""
    out, unsure = set(), []
    for key, h0, h1 in indels:
        margin = 10 + h1 - h0 + (key[2] if key[1] == "D" else 0)
        if approx_lo + margin < h0 and approx_hi - margin > h1:
            out.add(key)
        elif approx_hi + margin < h0 or approx_lo - margin > h1:
            continue
        else:
            unsure.append((key, h0, h1))
    if unsure:
        c = aligner.align(hap[a:b], read)[0].coordinates
        lo, hi = a + int(c[0, 0]), a + int(c[0, -1])
        out.update(key for key, h0, h1 in unsure if lo < h0 and hi > h1)
    return out


def _spelled(reads: ReadSeqs, rows: np.ndarray, left: str, right: str, min_base_quality: int, min_overlap: int
             ) -> tuple[Counter, int]:
    """The sequences reads spell between the flanks `left` and `right` (each found once in a read), with their
    support, and the number of reads that spell some of it.

    A read with both flanks spells the whole sequence; a read with one flank (or a base under `min_base_quality`
    between them) spells a prefix or suffix of it, up to its end or that base. Where a window is long for the reads,
    a haplotype may be spelled by no single read, so prefixes and suffixes no whole sequence explains are joined
    where they overlap by >= `min_overlap` bases at exactly one offset (a repeat they both end in leaves its length
    open: no join). A sequence's support is the fewest reads consistent with it over any of its bases."""
    k = len(left)
    low_q = bytes(0 if v < min_base_quality else 1 for v in range(256))
    whole: Counter = Counter()
    prefixes: Counter = Counter()
    suffixes: Counter = Counter()
    for r in rows.tolist():
        s = reads.seq[r]
        i = s.find(left)
        if i >= 0 and s.find(left, i + 1) >= 0:
            i = -1
        j = s.find(right, i + k if i >= 0 else 0)
        if j >= 0 and s.find(right, j + 1) >= 0:
            j = -1
        if i < 0 and j < 0:
            continue
        ok = reads.qual[r].translate(low_q)
        if i >= 0:
            bad = ok.find(0, i, j + k if j >= 0 else len(s))
            if j >= 0 and bad < 0:
                whole[s[i + k:j]] += 1
            elif (bad if bad >= 0 else len(s)) > i + k:
                prefixes[s[i + k: bad if bad >= 0 else len(s)]] += 1
        elif j >= 0:
            bad = ok.rfind(0, 0, j + k)
            if bad + 1 < j:
                suffixes[s[bad + 1:j]] += 1
    n_anchored = sum(whole.values()) + sum(prefixes.values()) + sum(suffixes.values())
    # joins of the prefixes and suffixes that no whole sequence explains
    novel_p = [p for p in prefixes if len(p) >= min_overlap and not any((h + right).startswith(p) for h in whole)]
    novel_s = [x for x in suffixes if len(x) >= min_overlap and not any((left + h).endswith(x) for h in whole)]
    haps = set(whole)
    for p in sorted(novel_p, key=len, reverse=True)[:_MAX_JOIN]:
        for x in sorted(novel_s, key=len, reverse=True)[:_MAX_JOIN]:
            joins, at = [], p.find(x[:min_overlap])
            while at >= 0 and len(joins) < 2:
                if len(x) >= len(p) - at and x.startswith(p[at:]):
                    joins.append(p[:at] + x)
                at = p.find(x[:min_overlap], at + 1)
            if len(joins) == 1:
                haps.add(joins[0])
    out: Counter = Counter()
    for h in haps:
        cover = np.zeros(len(h) + 1, dtype=np.int64)
        cover[0] += whole.get(h, 0)
        full, back = h + right, left + h
        for p, c in prefixes.items():
            if full.startswith(p):
                cover[0] += c
                cover[min(len(p), len(h))] -= c
        for x, c in suffixes.items():
            if back.endswith(x):
                cover[max(0, len(h) - len(x))] += c
        out[h] = int(np.cumsum(cover)[:len(h)].min()) if h else whole.get(h, 0)
    return out, n_anchored
