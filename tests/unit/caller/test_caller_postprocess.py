"""postprocess: genotype merging (bi- and multi-allelic), record fields, FILTERs, VCF/gVCF files that tools read."""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
import pysam
import pytest

from genoscreen.caller.data import read_probs, write_probs
from genoscreen.caller.postprocess import (genotype_probabilities, genotypes, merge_calls, merge_site, postprocess,
                                           reference_blocks, reference_confidence)
from genoscreen.common.errors import InputError
from genoscreen.variants.regions import Region

P = np.array


def test_genotype_order_is_vcf_order():
    assert genotypes(3) == [(0, 0), (0, 1), (1, 1), (0, 2), (1, 2), (2, 2)]


def test_biallelic_probabilities_pass_through():
    probs = genotype_probabilities(1, {(1,): P([0.1, 0.7, 0.2])})
    np.testing.assert_allclose(probs, [0.1, 0.7, 0.2])


def test_multiallelic_het_alt_from_per_allele_and_pair_examples():
    # alt1 and alt2 each look het alone, the pair looks like two alt copies: 1/2
    by_key = {(1,): P([0.02, 0.96, 0.02]), (2,): P([0.03, 0.95, 0.02]), (1, 2): P([0.01, 0.02, 0.97])}
    probs = genotype_probabilities(2, by_key)
    assert genotypes(3)[int(np.argmax(probs))] == (1, 2)
    assert probs.sum() == pytest.approx(1.0)


def test_multiallelic_drops_the_alt_the_genotype_does_not_use():
    # alt2 is noise: alone it looks ref; the pair is het (one copy, alt1)
    by_key = {(1,): P([0.02, 0.96, 0.02]), (2,): P([0.97, 0.02, 0.01]), (1, 2): P([0.02, 0.95, 0.03])}
    call = merge_site("chr1", 100, "ATT", ["AT", "A"], by_key, depth=30, allele_depths=[14, 15, 1], min_qual=1.0)
    assert call.gt == (0, 1)
    assert (call.ref, call.alts) == ("AT", ["A"])  # right-trimmed once the second alt is gone
    assert call.ad == [14, 15]
    assert len(call.pl) == 3 and min(call.pl) == 0 and call.pl[1] == 0


def test_record_fields_gq_qual_pl_and_filters():
    call = merge_site("c", 5, "A", ["G"], {(1,): P([0.01, 0.9, 0.09])}, 20, [9, 11], min_qual=1.0)
    assert call.gt == (0, 1) and call.filter == "PASS"
    assert call.gq == round(-10 * math.log10(0.1))
    assert call.qual == pytest.approx(20.0)
    assert call.pl == [20, 0, 10]
    ref = merge_site("c", 5, "A", ["G"], {(1,): P([0.8, 0.15, 0.05])}, 20, [19, 1], min_qual=1.0)
    assert ref.gt == (0, 0) and ref.filter == "RefCall"
    low = merge_site("c", 5, "A", ["G"], {(1,): P([0.45, 0.5, 0.05])}, 20, [15, 5], min_qual=10.0)
    assert low.filter == "LowQual"


def _sites(rows):
    keys = ("contig", "pos", "ref", "alts", "alt_indices", "depth", "allele_depths")
    sites = {k: np.array([r[i] for r in rows]) for i, k in enumerate(keys)}
    sites["pos"] = sites["pos"].astype(np.int64)
    sites["depth"] = sites["depth"].astype(np.int32)
    return sites


def test_bad_alt_indices_are_refused():
    sites = _sites([("q", 10, "A", "C", "3", 10, "5,5")])
    with pytest.raises(InputError, match="alt_indices"):
        merge_calls(sites, P([[0.1, 0.8, 0.1]]))


@pytest.fixture
def tiny_ref(tmp_path):
    path = tmp_path / "ref.fa"
    rng = np.random.default_rng(0)
    seqs = {"c2": "".join(rng.choice(list("ACGT"), 300)), "c1": "".join(rng.choice(list("ACGT"), 400))}
    path.write_text("".join(f">{k}\n{v}\n" for k, v in seqs.items()))
    pysam.faidx(str(path))
    return path, seqs


def _rows_for(seqs):
    c1, c2 = seqs["c1"], seqs["c2"]
    alt = lambda b: "A" if b != "A" else "C"  # noqa: E731
    return [
        ("c1", 50, c1[49], alt(c1[49]), "1", 30, "15,15"),
        ("c2", 20, c2[19], alt(c2[19]), "1", 25, "0,25"),  # c2 comes first in the reference
        ("c1", 10, c1[9], alt(c1[9]), "1", 28, "27,1"),
        ("c1", 90, c1[89:92], f"{c1[89]},{c1[89:92]}T", "1", 30, "10,12,8"),
        ("c1", 90, c1[89:92], f"{c1[89]},{c1[89:92]}T", "2", 30, "10,12,8"),
        ("c1", 90, c1[89:92], f"{c1[89]},{c1[89:92]}T", "1,2", 30, "10,12,8"),
    ]


PROBS = P([[0.01, 0.97, 0.02], [0.01, 0.01, 0.98], [0.95, 0.04, 0.01],
           [0.02, 0.96, 0.02], [0.03, 0.95, 0.02], [0.01, 0.02, 0.97]], dtype=np.float32)


def test_vcf_is_sorted_indexed_and_readable(tmp_path, tiny_ref):
    ref, seqs = tiny_ref
    out = tmp_path / "calls.vcf.gz"
    counts = postprocess(_sites(_rows_for(seqs)), PROBS, ref, out, sample="S1")
    assert counts == {"records": 4, "PASS": 3, "RefCall": 1}
    assert (tmp_path / "calls.vcf.gz.tbi").exists()
    with pysam.VariantFile(str(out)) as vcf:
        assert list(vcf.header.samples) == ["S1"]
        assert set(vcf.header.filters) >= {"PASS", "RefCall", "LowQual"}
        recs = list(vcf)
        assert [(r.contig, r.pos) for r in recs] == [("c2", 20), ("c1", 10), ("c1", 50), ("c1", 90)]
        multi = recs[-1]
        assert multi.samples["S1"]["GT"] == (1, 2) and len(multi.alts) == 2
        assert len(multi.samples["S1"]["PL"]) == 6 and len(multi.samples["S1"]["AD"]) == 3
        assert recs[0].samples["S1"]["GT"] == (1, 1)
        assert recs[0].samples["S1"]["VAF"] == (pytest.approx(1.0),)
        assert list(recs[1].filter) == ["RefCall"]
        assert list(vcf.fetch("c1", 40, 60))[0].pos == 50  # the index works


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_bcftools_reads_the_vcf_without_warnings(tmp_path, tiny_ref):
    ref, seqs = tiny_ref
    out = tmp_path / "calls.vcf.gz"
    postprocess(_sites(_rows_for(seqs)), PROBS, ref, out, sample="S1")
    result = subprocess.run(["bcftools", "view", str(out)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.count("\nc1\t") == 3


def test_output_name_must_be_a_vcf_name(tmp_path, tiny_ref):
    ref, seqs = tiny_ref
    with pytest.raises(InputError, match=".vcf.gz"):
        postprocess(_sites(_rows_for(seqs)), PROBS, ref, tmp_path / "calls.tsv")
    assert not list(tmp_path.glob("calls*"))


def test_unknown_contig_is_refused_and_leaves_nothing(tmp_path, tiny_ref):
    ref, _ = tiny_ref
    with pytest.raises(InputError, match="not in the reference"):
        postprocess(_sites([("chrX", 5, "A", "C", "1", 10, "5,5")]), PROBS[:1], ref, tmp_path / "x.vcf.gz")
    assert not list(tmp_path.glob("x.vcf.gz*"))


def test_probs_round_trip_and_corrupt_file(tmp_path, tiny_ref):
    _, seqs = tiny_ref
    sites = _sites(_rows_for(seqs))
    path = write_probs(tmp_path / "p.npz", sites, PROBS, {"sample": "S"})
    back, probs, meta = read_probs(path)
    np.testing.assert_array_equal(probs, PROBS)
    assert meta["sample"] == "S" and list(back["alts"]) == list(sites["alts"])
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InputError, match="not a readable probabilities file"):
        read_probs(tmp_path / "bad.npz")
    with pytest.raises(InputError, match="not found"):
        read_probs(tmp_path / "none.npz")


def test_reference_confidence_grows_with_depth():
    gq, pl = reference_confidence(np.array([0, 3, 10, 40, 40]), np.array([0, 3, 10, 40, 39]))
    assert gq[0] == 0 and (pl[0] == 0).all()  # no reads: no confidence
    assert gq[1] < gq[2] < gq[3] == 99
    assert gq[4] < gq[3]  # one non-reference read lowers it
    assert (pl[:, 0] == 0).all()


class _FakeBam:
    """count_coverage over a fixed depth profile: all reads carry the reference base."""

    references = ("c1",)

    def __init__(self, seq, depth):
        self.seq, self.depth = seq, depth

    def count_coverage(self, contig, start, stop, **_):
        counts = np.zeros((4, stop - start), int)
        for i in range(start, stop):
            counts["ACGT".index(self.seq[i]), i - start] = self.depth[i]
        return counts


def test_gvcf_blocks_cover_the_region_outside_calls(tmp_path, tiny_ref):
    ref, seqs = tiny_ref
    depth = np.full(400, 30)
    depth[200:220] = 2  # a low-coverage stretch gets its own, lower-GQ block
    calls = merge_calls(_sites(_rows_for(seqs)[:1]), PROBS[:1])  # c1:50
    blocks = reference_blocks(_FakeBam(seqs["c1"], depth), pysam.FastaFile(str(ref)), [Region("c1", 0, 300)], calls)
    covered = set()
    for contig, pos, line in blocks:
        fields = line.split("\t")
        end = int(fields[7].split("=")[1])
        assert fields[4] == "<*>" and pos <= end
        covered.update(range(pos, end + 1))
    assert covered == set(range(1, 301)) - {50}
    low = [line for _, pos, line in blocks if pos <= 205 and int(line.split("\t")[7][4:]) >= 205]
    assert low and int(low[0].split("\t")[9].split(":")[1]) < 20
    assert int(low[0].split("\t")[9].split(":")[2]) == 2  # MIN_DP
