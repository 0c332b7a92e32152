"""Realignment of reads in active windows (realign.py) on tiny synthetic BAMs written with pysam.

Each test builds a random reference, a haplotype with one change, and reads whose CIGARs write that change the way
bwa often does on real data: soft-clipped at an insertion, or one insertion at different places in a repeat.
"""

import random

import numpy as np
import pysam
import pytest

from genoscreen.variants.candidates import CandidateThresholds, ReadFilters, collect_reads, find_candidates
from genoscreen.variants.normalize import RefSeq, normalize_allele
from genoscreen.variants.pileup import build_tensor, ref_window_codes, select_reads
from genoscreen.variants.pileup_config import PileupConfig
from genoscreen.variants.realign import ReadSeqs, RealignOptions, _aligners, _hap_indels, _spelled
from genoscreen.variants.regions import Region
from tests.unit.variants.synth import random_genome, write_reference

CONTIG, LENGTH, READ_LEN = "chrR", 1200, 100


def _write_bam(path, reads: list[tuple[int, str, list[tuple[int, int]]]]):
    """Write (start, sequence, cigar) reads sorted by start, MAPQ 60, base quality 40; index it."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": CONTIG, "LN": LENGTH}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for i, (start, seq, cigar) in enumerate(sorted(reads, key=lambda r: r[0])):
            a = pysam.AlignedSegment()
            a.query_name, a.query_sequence, a.flag = f"r{i}", seq, 16 if i % 2 else 0
            a.reference_id, a.reference_start, a.mapping_quality, a.cigartuples = 0, start, 60, cigar
            a.query_qualities = pysam.qualitystring_to_array("I" * len(seq))
            out.write(a)
    pysam.index(str(path))
    return path


def _candidates(tmp_path, ref: str, reads, realign=RealignOptions()):
    fa = write_reference(tmp_path / "ref.fa", ref, CONTIG)
    bam = pysam.AlignmentFile(str(_write_bam(tmp_path / "reads.bam", reads)))
    refseq = RefSeq(pysam.FastaFile(str(fa)))
    region = Region(CONTIG, 0, LENGTH)
    rows = collect_reads(bam, CONTIG, region, refseq, ReadFilters(), realign=realign)
    return rows, find_candidates(rows, region, refseq, ReadFilters(), CandidateThresholds()), refseq


def _ref_reads(ref: str, starts) -> list:
    return [(s, ref[s:s + READ_LEN], [(0, READ_LEN)]) for s in starts]


INS_AT, INSERTED = 600, "GTTCAG"  # inserted after reference base 600


def _clipped_insertion_reads(ref: str) -> list:
    """~30x: half the reads from the reference, half from a haplotype with INSERTED after INS_AT; every alt read
    over the insertion is soft-clipped at it (left or right, whichever side is shorter), none carries an 'I'."""
    hap = ref[:INS_AT + 1] + INSERTED + ref[INS_AT + 1:]
    reads = _ref_reads(ref, range(300, 900, 6))
    for s in range(303, 900, 6):
        seq = hap[s:s + READ_LEN]
        if s > INS_AT:  # past the insertion: plain
            reads.append((s - len(INSERTED), seq, [(0, READ_LEN)]))
            continue
        if s + READ_LEN <= INS_AT + 1:
            reads.append((s, seq, [(0, READ_LEN)]))
            continue
        before = INS_AT + 1 - s  # read bases up to and including the anchor base
        if before >= READ_LEN - before:
            reads.append((s, seq, [(0, before), (4, READ_LEN - before)]))
        else:
            clip = before + len(INSERTED)
            reads.append((INS_AT + 1, seq, [(4, clip), (0, READ_LEN - clip)]))
    return reads


def test_soft_clipped_insertion_becomes_a_candidate_and_its_reads_support_it(tmp_path):
    ref = random_genome(11, LENGTH)
    reads = _clipped_insertion_reads(ref)

    rows_off, cands_off, _ = _candidates(tmp_path, ref, reads, RealignOptions(enabled=False))
    assert not [c for c in cands_off if any(c.is_indel)]  # bwa-like clips alone: the insertion is invisible

    rows, cands, refseq = _candidates(tmp_path, ref, reads)
    key = normalize_allele(refseq, CONTIG, INS_AT, ref[INS_AT], ref[INS_AT] + INSERTED)[0]
    indels = [c for c in cands if any(c.is_indel)]
    assert [c.alt_keys for c in indels] == [[key]]
    cand = indels[0]
    assert cand.allele_counts[1] >= 15  # of the 17 alt reads over the insertion, all soft-clipped

    # the realigned reads now carry the insertion in their rows: all cover it, and its pileup marks exactly them
    # as supporting, with the indel channel set
    assert np.isin(cand.supporters[0], rows.covering(cand.pos)).all()
    assert rows.indel[cand.supporters[0], cand.pos - rows.start[cand.supporters[0]]].all()
    config = PileupConfig()
    picked = select_reads(rows, CONTIG, cand.pos, config.max_reads, cand.supporters[0])
    assert np.isin(cand.supporters[0], picked).all()
    tensor = build_tensor(rows, ref_window_codes(refseq.fetch(CONTIG, 0, LENGTH), 0, cand.pos, config.width), cand,
                          (1,), config, picked)
    channel = tensor[config.ref_rows: config.ref_rows + len(picked), :, config.channels.index("read_supports_variant")]
    marked = (channel == 255).any(axis=1)
    assert (marked == np.isin(picked, cand.supporters[0])).all() and marked.sum() == cand.allele_counts[1]


def test_str_insertion_written_in_several_ways_is_one_allele(tmp_path):
    ref = list(random_genome(12, LENGTH))
    ref[500:520] = "CA" * 10  # (CA)10 repeat at 500..519
    ref = "".join(ref)
    hap = ref[:510] + "CA" + ref[510:]
    reads = _ref_reads(ref, range(400, 620, 8))
    alt = []
    for i, s in enumerate(range(404, 500, 4)):
        cut = 500 + 2 * (i % 4) + (i // 4) % 2  # the 2 bp insertion written at 8 places in the repeat
        seq = hap[s:s + READ_LEN]
        alt.append((s, seq, [(0, cut - s), (1, 2), (0, READ_LEN - (cut - s) - 2)]))
    rows, cands, _ = _candidates(tmp_path, ref, reads + alt)
    indels = [c for c in cands if any(c.is_indel)]
    assert len(indels) == 1 and len(indels[0].alts) == 1
    anchor = 499  # left-aligned: the base before the repeat
    assert indels[0].alt_keys[0][0] == anchor and len(indels[0].alt_keys[0][2]) == 3
    assert indels[0].allele_counts[1] == len(alt)


def test_clip_that_matches_nothing_gives_no_candidate(tmp_path):
    ref = random_genome(13, LENGTH)
    rng = random.Random(5)
    reads = _ref_reads(ref, range(300, 900, 4))
    foreign = "".join(rng.choice("ACGT") for _ in range(READ_LEN))  # e.g. a chimeric junction's other side
    for s in range(560, 640, 4):  # reads clipped at reference base 640, the same foreign tail in each
        keep = 640 - s
        reads.append((s, ref[s:640] + foreign[:READ_LEN - keep], [(0, keep), (4, READ_LEN - keep)]))
    rows, cands, _ = _candidates(tmp_path, ref, reads)
    assert not [c for c in cands if any(c.is_indel)]
    assert not [k for k, v in rows.events.items() if len(v)]


def test_realign_can_be_turned_off_and_leaves_plain_indels_alone(tmp_path):
    """A clean deletion carried in the CIGARs of all its reads gives the same candidate either way."""
    ref = random_genome(14, LENGTH)
    hap = ref[:700] + ref[703:]
    reads = _ref_reads(ref, range(400, 900, 6))
    for s in range(603, 700, 6):
        reads.append((s, hap[s:s + READ_LEN], [(0, 700 - s), (2, 3), (0, READ_LEN - (700 - s))]))
    _, on, refseq = _candidates(tmp_path, ref, reads)
    _, off, _ = _candidates(tmp_path, ref, reads, RealignOptions(enabled=False))
    assert [(c.pos, c.ref, c.alts, c.allele_counts) for c in on] == [(c.pos, c.ref, c.alts, c.allele_counts)
                                                                     for c in off]
    assert [c.alt_keys for c in on] == [normalize_allele(refseq, CONTIG, 699, ref[699:703], ref[699])[:1]]


@pytest.mark.parametrize("seed", [1, 2])
def test_error_free_reference_reads_give_nothing(tmp_path, seed):
    ref = random_genome(20 + seed, LENGTH)
    rows, cands, _ = _candidates(tmp_path, ref, _ref_reads(ref, range(0, LENGTH - READ_LEN, 3)))
    assert cands == [] and not rows.events


def test_clipped_insertion_next_to_a_homozygous_snp(tmp_path):
    """A hom SNP 10 bp before a soft-clipped het insertion: the window's natural left flank covers the SNP, which
    every read carries, so no read would contain it; the flank must move past the SNP for the insertion to be
    spelled (and the SNP keeps every read)."""
    ref = random_genome(15, LENGTH)
    snp_at = INS_AT - 10
    alt_base = "A" if ref[snp_at] != "A" else "C"
    sample = ref[:snp_at] + alt_base + ref[snp_at + 1:]  # both haplotypes carry the SNP
    rows, cands, refseq = _candidates(tmp_path, ref, _clipped_insertion_reads(sample))
    key = normalize_allele(refseq, CONTIG, INS_AT, ref[INS_AT], ref[INS_AT] + INSERTED)[0]
    assert [c.alt_keys for c in cands if any(c.is_indel)] == [[key]]
    assert [c.allele_counts[1] for c in cands if any(c.is_indel)][0] >= 15
    snp = [c for c in cands if c.pos == snp_at]
    assert len(snp) == 1 and snp[0].alts == [alt_base] and snp[0].allele_counts[0] == 0


def _read_seqs(seqs: list[str]) -> ReadSeqs:
    n = len(seqs)
    z = np.zeros(n, dtype=np.int64)
    return ReadSeqs(z, z, z, z, np.zeros((n, 1), bool), np.zeros((n, 1), bool), seqs, [b"I" * len(s) for s in seqs])


def test_haplotype_no_read_spans_is_joined_from_reads_reaching_one_flank():
    """Window + flanks longer than the reads: each read reaches one flank. Prefixes and suffixes that overlap at
    one offset are joined; support is the fewest reads agreeing at any base, so one read's error stays under
    min_reads, and a join whose overlap lies in a repeat (its length open) is not made."""
    rng = random.Random(3)
    left, right = "ACGTTGCAACGT", "TTGACCGTAGCA"
    middle = "".join(rng.choice("ACGT") for _ in range(70))
    hap_reads = [left + middle[:50], left + middle[:45], middle[25:] + right, middle[30:] + right]
    noisy = left + middle[:20] + ("A" if middle[20] != "A" else "C") + middle[21:48]
    spelled, anchored = _spelled(_read_seqs(hap_reads + [noisy]), np.arange(5), left, right, 10, 20)
    assert anchored == 5
    assert spelled[middle] == 2
    assert all(c < 2 for h, c in spelled.items() if h != middle)

    repeat = "CA" * 30  # both reads end inside it: the repeat length cannot be told
    spelled, _ = _spelled(_read_seqs([left + "GG" + repeat[:50], left + "GG" + repeat[:48],
                                      repeat[:40] + "TT" + right, repeat[:44] + "TT" + right]),
                          np.arange(4), left, right, 10, 20)
    assert not spelled


def test_haplotype_to_reference_alignment_writes_two_indels_not_an_indel_and_a_substitution():
    """In a repeat, a haplotype with a 2 bp insertion near one end and a 6 bp one near the other also aligns as one
    8 bp insertion plus a substitution; under bwa's scores that is cheaper, under a caller's it is not. The
    haplotype's indels must be the two a caller (and a truth set) would write."""
    rng = random.Random(4)
    flank = "".join(rng.choice("ACGT") for _ in range(15))
    ref = flank + "AAAG" * 2 + "AG" * 12 + "AAGAAGG" + flank[::-1]
    first, second = len(flank) + 7, len(flank) + 8 + 24  # insertion anchors (0-based, in `ref`)
    hap = ref[:first + 1] + "AA" + ref[first + 1:second + 1] + "GGGAGG" + ref[second + 1:]
    hap_aligner, _ = _aligners()
    indels, to_ref = _hap_indels(hap_aligner, ref, hap, 1000, 0)
    assert sorted((key[1], len(key[2])) for key, _, _ in indels) == [("I", 2), ("I", 6)]
    assert (to_ref >= 0).sum() == len(ref)  # no base of the reference lost: only insertions


def test_reads_of_a_substitution_only_haplotype_keep_their_alignment(tmp_path):
    """Four hom SNPs around a soft-clipped het insertion: the reference-length haplotype (SNPs only) fits its
    reads better than the insertion haplotype does, though the latter beats the reference on them by more than
    min_gain; they must stay with it, not be credited with the insertion (which would then outnumber its reads)."""
    ref = random_genome(16, LENGTH)
    sample = list(ref)
    for d in (-9, -5, 4, 8):
        sample[INS_AT + d] = "A" if ref[INS_AT + d] != "A" else "C"
    reads = _clipped_insertion_reads("".join(sample))
    carriers = sum(1 for s in range(303, 900, 6) if s <= INS_AT < s + READ_LEN - 1)  # alt reads over the insertion
    _, cands, _ = _candidates(tmp_path, ref, reads)
    indel_counts = [n for c in cands for n, indel in zip(c.allele_counts[1:], c.is_indel) if indel]
    assert indel_counts and max(indel_counts) <= carriers
    assert max(c.allele_counts[0] for c in cands if any(c.is_indel)) >= 10  # the SNP-only reads, as reference
