"""Local realignment of reads in active windows against read-backed haplotypes (a light DeepVariant realigner).

bwa aligns each read to the reference alone, so a read carrying an insertion near its end or next to a repeat is
often soft-clipped, or written with a shifted gap and mismatches: the indel never reaches the counts, or is split
over many representations that each stay under the candidate thresholds. In windows with such evidence (soft
clips, indel CIGARs), `realign_events`

1. anchors the window in the reads by its flanking reference k-mers (unique in the window's neighbourhood) and
   takes each read's sequence between them: reads that span the window give its haplotypes whatever bwa made of
   them. Sequences seen in >= `min_reads` reads and >= `min_fraction` of the spanning reads are the candidate
   haplotypes (the reference is always one);
2. aligns each haplotype to the reference window (affine gaps) to get its indels, placed as one allele each;
3. scores every read near the window against the reference and each haplotype (the read end to end, free
   haplotype ends, a small per-base cost for clipping; Biopython's C aligner with bwa-like scores) and moves the
   reads that fit a haplotype better than the reference by > `min_gain` onto that haplotype's indels that they
   cover (their own CIGAR indels in the window are dropped).

The result is per-read indel support in the same raw form as the CIGAR-derived events, so candidate counting,
left-alignment and the pileup's read-supports-alt channel treat realigned reads like any other.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from collections import Counter, defaultdict

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
    min_fraction: float = 0.06  # ... as a share of the reads spanning the window
    max_haplotypes: int = 4  # most-supported non-reference haplotypes kept per window
    min_gain: float = 5.0  # a read moves when it scores more than this higher on a haplotype than on the reference
    max_reads: int = 300  # reads scored per window (deterministic thinning beyond)


@dataclasses.dataclass
class ReadSeqs:
    """What realignment needs of a shard's passing reads (index r = ReadRows row r)."""

    start: np.ndarray  # aligned reference start
    end: np.ndarray  # aligned reference end
    left_clip: np.ndarray  # soft-clipped bases at the start / end
    right_clip: np.ndarray
    edited: np.ndarray  # bool: the read has a mismatch, indel or clip (one without fits the reference best)
    seq: list[str]
    qual: list[bytes]


_SCORES = dict(match_score=1.0, mismatch_score=-4.0, open_gap_score=-7.0, extend_gap_score=-1.0)  # bwa mem: A1 B4 O6 E1


def _aligners():
    from Bio.Align import PairwiseAligner

    hap = PairwiseAligner(mode="global", **_SCORES)  # haplotype vs reference window, both end to end
    read = PairwiseAligner(mode="global", **_SCORES)  # read end to end (clipping at 1/base) in a longer target
    read.end_deletion_score = 0.0
    read.end_insertion_score = -1.0
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


def _hap_indels(aligner, ref_ext: str, hap_ext: str, ref_offset: int, hap_offset: int) -> list[tuple[tuple, int, int]]:
    """Indels of `hap_ext` against `ref_ext` as (raw event key, hap start, hap end) with raw keys as CIGARs give
    them: (anchor, "I", inserted) / (anchor, "D", length); positions in reference / haplotype-target coordinates."""
    aln = aligner.align(ref_ext, hap_ext)[0]
    c = aln.coordinates
    out = []
    for i in range(c.shape[1] - 1):
        t0, t1, q0, q1 = int(c[0, i]), int(c[0, i + 1]), int(c[1, i]), int(c[1, i + 1])
        if t0 == 0 or q0 == 0 or t1 == len(ref_ext) or q1 == len(hap_ext):
            continue  # an end gap: the flanks anchor both ends, so only a degenerate alignment has one
        if t1 == t0 and q1 > q0:
            out.append(((ref_offset + t0 - 1, "I", hap_ext[q0:q1]), hap_offset + q0, hap_offset + q1))
        elif q1 == q0 and t1 > t0:
            out.append(((ref_offset + t0 - 1, "D", t1 - t0), hap_offset + q0, hap_offset + q0))
    return out


def realign_events(reads: ReadSeqs, ref_text: str, ref_offset: int, raw_events: dict[tuple, set],
                   opts: RealignOptions, min_base_quality: int) -> int:
    """Move reads that fit a read-backed haplotype onto its indels, in `raw_events` (key -> set of read rows).

    `ref_text` is the reference from `ref_offset`, covering the reads. Returns the number of reads moved.
    """
    n = len(reads.seq)
    if not opts.enabled or n == 0:
        return 0
    clip_pos = np.concatenate([reads.start[reads.left_clip >= opts.min_clip], reads.end[reads.right_clip >= opts.min_clip]])
    pos, tag = [clip_pos], [np.full(len(clip_pos), -1, dtype=np.int64)]
    sorted_start, sorted_end = np.sort(reads.start), np.sort(reads.end)
    for i, (key, readers) in enumerate(raw_events.items()):
        depth = np.searchsorted(sorted_start, key[0], "right") - np.searchsorted(sorted_end, key[0], "right")
        pos.append(np.full(len(readers), key[0] + 1, dtype=np.int64))
        tag.append(np.full(len(readers), i if len(readers) >= opts.min_fraction * depth else -2, dtype=np.int64))
    windows = _windows(np.concatenate(pos), np.concatenate(tag), opts)
    if not windows:
        return 0
    hap_aligner, read_aligner = _aligners()
    ustart = reads.start - reads.left_clip  # unclipped read span in reference coordinates
    uend = reads.end + reads.right_clip
    order = np.argsort(ustart, kind="stable")
    sorted_ustart = ustart[order]
    max_len = max(len(s) for s in reads.seq)
    k = opts.anchor
    ref_end = ref_offset + len(ref_text)

    def ref(a: int, b: int) -> str:
        return ref_text[max(0, a - ref_offset): max(0, b - ref_offset)]

    by_read: dict[int, list[tuple]] = defaultdict(list)  # read -> its raw CIGAR event keys
    for key, readers in raw_events.items():
        for r in readers:
            by_read[r].append(key)
    event_keys = sorted(raw_events, key=lambda key: key[0])
    event_pos = [key[0] for key in event_keys]
    pad = max_len + 10
    moved = scored = 0
    for ws0, we0 in windows:
        # haplotypes: the reference with each indel some read's CIGAR shows here (most-supported first) ...
        found = [key for key in event_keys[bisect.bisect_left(event_pos, ws0 - 1): bisect.bisect_left(event_pos, we0)]
                 if raw_events[key]]
        found.sort(key=lambda key: -len(raw_events[key]))
        # ... and the sequences reads spell between the window's flanks, which must be unique around it: grow the
        # window until they are (a repeat is then inside it)
        ws, we = ws0, we0
        while not _unique(ref(ws - max_len, we + max_len), ref(ws - k, ws)) and we - ws <= opts.max_window:
            ws -= 1
        while not _unique(ref(ws - max_len, we + max_len), ref(we, we + k)) and we - ws <= opts.max_window:
            we += 1
        lo, hi_ref = min(ws, ws0) - pad, max(we, we0) + pad
        if lo < ref_offset or hi_ref > ref_end:
            continue
        ref_full = ref(lo, hi_ref)
        hi = np.searchsorted(sorted_ustart, max(we, we0), side="left")
        near = order[:hi][uend[order[:hi]] > min(ws, ws0)]
        if len(near) > opts.max_reads:
            near = near[np.linspace(0, len(near) - 1, opts.max_reads).astype(np.int64)]
        haps: dict[str, list[tuple[tuple, int, int]]] = {}  # haplotype over [lo, hi_ref) -> its indels
        for key in found[: opts.max_haplotypes]:
            anchor, kind, val = key
            cut = anchor + 1 - lo
            if kind == "I":
                seq, indel = ref_full[:cut] + val + ref_full[cut:], (key, cut, cut + len(val))
            else:
                seq, indel = ref_full[:cut] + ref_full[cut + val:], (key, cut, cut)
            haps.setdefault(seq, [indel])
        spelled = _spelled(reads, near, ref(ws - k, ws), ref(we, we + k), min_base_quality) \
            if we - ws <= opts.max_window else Counter()
        ref_win = ref(ws, we)
        n_spanning = sum(spelled.values())
        for h, c in spelled.most_common(opts.max_haplotypes + 1):
            if h == ref_win or c < opts.min_reads or c < opts.min_fraction * n_spanning:
                continue
            seq = ref(lo, ws) + h + ref(we, hi_ref)
            if seq not in haps:
                left, right = ref(ws - k, ws), ref(we, we + k)
                haps[seq] = _hap_indels(hap_aligner, left + ref_win + right, left + h + right, ws - k, ws - k - lo)
        log.debug("window %d-%d (%d-%d): %d reads spelled %s; haplotype indels %s", ws0, we0, ws, we, n_spanning,
                  spelled.most_common(4), list(haps.values()))
        hap_seqs = [h for h, indels in haps.items() if indels]
        if not hap_seqs:
            continue
        shift = [len(h) - len(ref_full) for h in hap_seqs]
        for r in near[reads.edited[near]].tolist():
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
            supported: set | None = None
            for i in np.nonzero(scores == best)[0].tolist():
                keys = _covered(read_aligner, hap_seqs[i], a, b + shift[i], s, haps[hap_seqs[i]],
                                int(ustart[r]) - lo, int(uend[r]) - lo + shift[i])
                supported = keys if supported is None else supported & keys
            if not supported:
                continue
            for key in by_read.get(r, ()):
                if min(ws, ws0) - 1 <= key[0] < max(we, we0):
                    raw_events[key].discard(r)
            for key in supported:
                raw_events.setdefault(key, set()).add(r)
                by_read[r].append(key)
            moved += 1
    log.debug("realigned: %d windows, %d reads scored, %d moved onto haplotype indels", len(windows), scored, moved)
    return moved


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


def _spelled(reads: ReadSeqs, rows: np.ndarray, left: str, right: str, min_base_quality: int) -> Counter:
    """How many reads spell each sequence between the flanks `left` and `right` (each found once in the read),
    counting reads whose bases there all pass `min_base_quality`."""
    out: Counter = Counter()
    k = len(left)
    for r in rows.tolist():
        s = reads.seq[r]
        i = s.find(left)
        if i < 0 or s.find(left, i + 1) >= 0:
            continue
        j = s.find(right, i + k)
        if j < 0 or s.find(right, j + 1) >= 0:
            continue
        if min(reads.qual[r][i:j + k], default=0) >= min_base_quality:
            out[s[i + k:j]] += 1
    return out
