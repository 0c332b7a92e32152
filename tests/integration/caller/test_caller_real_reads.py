"""`genoscreen call` on real reads (../shared fixtures and dev BAM): valid VCF/gVCF that tools read.

These check the pipeline and file formats with the shipped model; accuracy figures come from bench/call.py.
"""

from __future__ import annotations

import shutil
import subprocess

import pysam
import pytest

from genoscreen.caller.model_dir import WEIGHTS
from genoscreen.caller.pipeline import call, default_model_dir
from tests.conftest import shared_path

REGION = "chr20:10000001-10006000"


@pytest.fixture(scope="module")
def called(tmp_path_factory):
    if not (default_model_dir() / WEIGHTS).exists():
        pytest.skip("the shipped model resources/models/caller-wgs-illumina is absent")
    dev = shared_path("genomics", "dev")
    out_dir = tmp_path_factory.mktemp("call")
    vcf, gvcf = out_dir / "calls.vcf.gz", out_dir / "calls.g.vcf.gz"
    counts = call(dev / "NA12878_S1.chr20.10_10p045mb.bam", dev / "ucsc.hg19.chr20.unittest.fasta.gz", vcf,
                  regions=REGION, gvcf=gvcf)
    return dev, vcf, gvcf, counts


def test_vcf_has_sample_from_read_group_and_fields(called):
    _, vcf, _, counts = called
    assert counts["examples"] > 10
    with pysam.VariantFile(str(vcf)) as handle:
        assert list(handle.header.samples) == ["NA12878"]
        records = list(handle)
    assert records and all(10_000_001 <= r.pos <= 10_006_000 for r in records)
    positions = [r.pos for r in records]
    assert positions == sorted(positions)
    passing = [r for r in records if list(r.filter) == ["PASS"]]
    assert passing, "no PASS calls in 6 kb of 52x NA12878"
    for r in passing:
        sample = r.samples["NA12878"]
        assert sample["GT"] != (0, 0) and sample["GQ"] is not None and len(sample["AD"]) == len(r.alleles)
        assert sample["DP"] >= sum(sample["AD"]) - 1 or sample["DP"] > 0


def test_gvcf_blocks_tile_the_region(called):
    _, _, gvcf, _ = called
    covered = set()
    with pysam.VariantFile(str(gvcf)) as handle:
        for r in handle:
            assert "<*>" in r.alts
            covered.update(range(r.start, r.stop))  # pysam's stop follows INFO END for blocks
    wanted = set(range(10_000_000, 10_006_000))
    assert wanted <= covered  # every base of the region (N-free here) is in a block or a record


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_bcftools_reads_both_without_warnings(called):
    _, vcf, gvcf, _ = called
    for path in (vcf, gvcf):
        result = subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True)
        assert result.returncode == 0 and result.stderr == "", result.stderr


def test_small_fixture_bam(tmp_path):
    if not (default_model_dir() / WEIGHTS).exists():
        pytest.skip("the shipped model resources/models/caller-wgs-illumina is absent")
    bam = shared_path("genomics", "fixtures", "NA12878_small.bam")
    ref = shared_path("genomics", "dev", "ucsc.hg19.chr20.unittest.fasta.gz")
    counts = call(bam, ref, tmp_path / "small.vcf.gz", sample="X")
    assert counts["records"] >= 0
    with pysam.VariantFile(str(tmp_path / "small.vcf.gz")) as handle:
        assert list(handle.header.samples) == ["X"]
