import numpy as np
import pysam
import pytest

from genoscreen.variants.candidates import (CandidateThresholds, ReadFilters, alt_subsets, collect_reads,
                                            find_candidates)
from genoscreen.variants.normalize import RefSeq
from genoscreen.variants.pileup import SITE_PL_CHANNELS, build_tensor, ref_window_codes, select_reads, site_likelihoods
from genoscreen.variants.pileup_config import PRESETS, PileupConfig
from genoscreen.variants.regions import Region


@pytest.fixture(scope="module")
def found(dataset):
    bam = pysam.AlignmentFile(str(dataset.bam))
    refseq = RefSeq(pysam.FastaFile(str(dataset.ref)))
    region = Region("chrS", 0, len(dataset.seq))
    rows = collect_reads(bam, "chrS", region, refseq, ReadFilters())
    cands = find_candidates(rows, region, refseq, ReadFilters(), CandidateThresholds())
    return rows, cands, refseq


def test_every_true_variant_is_a_candidate_and_nothing_else(found, dataset):
    _, cands, _ = found
    assert [c.pos for c in cands] == [v.pos if v.pos != 3000 else c.pos for v, c in zip(dataset.variants, cands)]
    assert len(cands) == len(dataset.variants)
    multi = cands[-1]
    assert multi.ref == dataset.variants[-1].ref and sorted(multi.alts) == sorted(dataset.variants[-1].alts)


def test_allele_counts_and_depth_are_consistent(found):
    _, cands, _ = found
    for c in cands:
        assert len(c.allele_counts) == len(c.alts) + 1
        assert sum(c.allele_counts) <= c.depth
        assert all(n >= 2 for n in c.allele_counts[1:])
        for alt_idx, support in enumerate(c.supporters):
            assert len(support) == c.allele_counts[alt_idx + 1]


def test_filters_drop_low_mapq_reads(dataset):
    bam = pysam.AlignmentFile(str(dataset.bam))
    refseq = RefSeq(pysam.FastaFile(str(dataset.ref)))
    region = Region("chrS", 0, 2000)
    rows = collect_reads(bam, "chrS", region, refseq, ReadFilters(min_mapq=61))
    assert rows.n == 0
    assert find_candidates(rows, region, refseq, ReadFilters(), CandidateThresholds()) == []


def test_thresholds_are_applied(dataset):
    bam = pysam.AlignmentFile(str(dataset.bam))
    refseq = RefSeq(pysam.FastaFile(str(dataset.ref)))
    region = Region("chrS", 0, len(dataset.seq))
    rows = collect_reads(bam, "chrS", region, refseq, ReadFilters())
    strict = find_candidates(rows, region, refseq, ReadFilters(), CandidateThresholds(min_snv_fraction=0.9,
                                                                                      min_indel_fraction=0.9))
    assert [c.pos for c in strict] == [dataset.variants[1].pos]  # only the hom SNV passes 90%


def test_alt_subsets_single_and_pairs():
    assert alt_subsets(1) == [(1,)]
    assert alt_subsets(2) == [(1,), (2,), (1, 2)]
    assert len(alt_subsets(3)) == 6


@pytest.mark.parametrize("config", [PileupConfig(), PRESETS["test"]])
def test_tensor_shape_and_channels(found, config):
    rows, cands, refseq = found
    c = cands[0]  # het SNV
    ref_str = refseq.fetch("chrS", 0, 6000)
    reads = select_reads(rows, c.contig, c.pos, config.max_reads)
    t = build_tensor(rows, ref_window_codes(ref_str, 0, c.pos, config.width), c, (1,), config, reads)
    assert t.shape == config.shape and t.dtype == np.uint8
    ch = {name: t[..., i] for i, name in enumerate(config.channels)}
    centre = config.width // 2
    body = slice(config.ref_rows, config.ref_rows + len(reads))
    supports = ch["read_supports_variant"][body, centre] == 255
    differs = ch["base_differs_from_ref"][body, centre] == 255
    assert supports.sum() > 0 and (supports == differs).all()  # an SNV: supporting reads differ at the centre
    assert (ch["read_base"][: config.ref_rows] > 0).all()
    per_read = [i for i, name in enumerate(config.channels) if name not in SITE_PL_CHANNELS]
    assert (t[config.ref_rows + len(reads):, :, per_read] == 0).all()  # empty rows stay zero
    assert set(np.unique(ch["strand"][body, centre])) <= {70, 240}
    pl = [ch[name] for name in SITE_PL_CHANNELS]
    assert all((p == p[0, 0]).all() for p in pl)  # one value per site across the whole image
    assert pl[1][0, 0] == 0 and pl[0][0, 0] > 0 and pl[2][0, 0] > 0  # a het SNV: the het is the likeliest


def test_site_likelihoods_follow_the_binomial_read_model():
    q30 = np.full(20, 30, np.uint8)
    mq = np.full(20, 60, np.uint8)
    none = np.zeros(20, bool)
    het = site_likelihoods(q30, mq, np.arange(20) < 10, none)
    assert het[1] == 0 and het[0] > 100 and het[2] > 100
    hom = site_likelihoods(q30, mq, np.ones(20, bool), none)
    assert hom[2] == 0 and hom[1] == pytest.approx(20 * 10 * np.log10(0.999 / 0.5))  # each read: 1/2 vs 1-e
    # 7 reference reads out of 21 at Q30 rule out hom-alt (7 errors) and keep the het
    skewed = site_likelihoods(np.full(21, 30, np.uint8), np.full(21, 60, np.uint8),
                              np.arange(21) >= 7, np.zeros(21, bool))
    assert skewed[1] == 0 and skewed[2] > 120
    # a read of another allele counts for nothing; mapping quality caps a read's weight
    other = site_likelihoods(q30, mq, np.arange(20) < 10, np.arange(20) >= 10)
    assert other[2] == 0 and other[0] > 100
    low_mq = site_likelihoods(q30, np.full(20, 3, np.uint8), np.arange(20) < 3, none)
    assert low_mq[0] < 10


def test_downsampling_is_deterministic_and_capped(found):
    rows, cands, _ = found
    c = cands[1]
    a = select_reads(rows, c.contig, c.pos, 5)
    b = select_reads(rows, c.contig, c.pos, 5)
    assert len(a) == 5 and (a == b).all() and (np.diff(rows.start[a]) >= 0).all()


def test_indel_example_marks_indel_channel(found):
    rows, cands, refseq = found
    config = PileupConfig()
    c = next(c for c in cands if any(c.is_indel))
    reads = select_reads(rows, c.contig, c.pos, config.max_reads)
    t = build_tensor(rows, ref_window_codes(refseq.fetch("chrS", 0, 6000), 0, c.pos, config.width), c, (1,), config,
                     reads)
    k = config.channels.index("allele_is_indel")
    assert (t[: config.ref_rows, :, k] == 255).all()
    body = t[config.ref_rows: config.ref_rows + len(reads)]
    flagged = (body[:, :, k] == 255).any(axis=1)
    supports = body[:, config.width // 2, config.channels.index("read_supports_variant")] == 255
    assert flagged.sum() > 0 and (flagged == supports).all()  # reads carrying the indel, and only those
