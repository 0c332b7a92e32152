"""make-examples on real Illumina reads (../shared/data/genomics): candidate recall, contig naming, CRAM, fixtures."""

import shutil
import subprocess

import numpy as np
import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.examples import FIELDS, read_examples
from genoscreen.variants.make_examples import make_examples
from genoscreen.variants.pileup_config import PRESETS
from genoscreen.variants.realign import RealignOptions
from tests.integration.variants.dev_data import CONF, DEV, REF, TRUTH, recall

BAM = "NA12878_S1.chr20.10_10p045mb.bam"


def test_dev_candidate_recall_inside_confident_bed(shared, tmp_path):
    d = shared(*DEV)
    s = make_examples(d / BAM, d / REF, tmp_path / "ex", regions="chr20:10000001-10045000", truth=d / TRUTH,
                      confident_bed=d / CONF, config=PRESETS["test"])
    assert s["truth"]["SNP"] >= 40 and s["truth"]["INDEL"] >= 4
    assert recall(s, "SNP") >= 0.99 and recall(s, "INDEL") >= 0.95
    labels = read_examples(tmp_path / "ex")["label"]
    assert set(np.unique(labels)) <= {0, 1, 2} and (labels > 0).sum() >= s["truth"]["SNP"]


def test_dev_candidate_recall_over_the_read_covered_region(shared, tmp_path):
    """The whole 45 kb with reads (no confident BED): every SNP and >= 95% of indels are candidates. Three of the
    26 truth indels need the realigner (two insertions bwa soft-clips, one in a GATA repeat written many ways)."""
    d = shared(*DEV)
    kwargs = dict(regions="chr20:10000001-10045000", truth=d / TRUTH, config=PRESETS["test"], threads=2,
                  shard_size=15_000)
    s = make_examples(d / BAM, d / REF, tmp_path / "ex", **kwargs)
    assert s["truth"]["INDEL"] >= 20
    assert recall(s, "SNP") == 1.0
    assert recall(s, "INDEL") >= 0.95
    off = make_examples(d / BAM, d / REF, tmp_path / "off", realign=RealignOptions(enabled=False), **kwargs)
    assert off["truth_without_candidate"]["INDEL"] > s["truth_without_candidate"]["INDEL"]
    assert off["truth_without_candidate"]["SNP"] == 0 and abs(off["candidates"] - s["candidates"]) <= 10


def test_bam_named_20_against_chr20_reference(shared, tmp_path):
    d = shared(*DEV)
    bam = d / "HG001.chr20.10_10p1mb_sorted.bam"
    with pytest.raises(InputError) as err:
        make_examples(bam, d / REF, tmp_path / "ex", regions="chr20:10000001-10010000", config=PRESETS["test"])
    assert "20" in str(err.value) and "chr20" in str(err.value) and "--contig-map 20=chr20" in str(err.value)
    s = make_examples(bam, d / REF, tmp_path / "ex", regions="chr20:10000001-10010000", truth=d / TRUTH,
                      confident_bed=d / CONF, contig_map="20=chr20", config=PRESETS["test"])
    assert s["candidates"] > 20 and recall(s, "SNP") >= 0.99


def test_fixture_tiny_bam_finds_every_giab_snp(shared, tmp_path):
    f = shared("genomics", "fixtures")
    s = make_examples(f / "NA12878.chr22.tiny.bam", f / "q.fa", tmp_path / "ex",
                      truth=f / "NA12878.chr22.tiny.giab.vcf", config=PRESETS["test"])
    assert s["truth"] == {"SNP": 14, "INDEL": 0}
    assert s["truth_without_candidate"] == {"SNP": 0, "INDEL": 0}


@pytest.mark.skipif(shutil.which("samtools") is None, reason="needs samtools (apt-get install samtools)")
def test_cram_gives_the_same_examples_as_bam(shared, tmp_path):
    d, f = shared(*DEV), shared("genomics", "fixtures")
    cram = tmp_path / "small.cram"
    subprocess.run(["samtools", "view", "-C", "-T", str(d / REF), "-o", str(cram), str(f / "NA12878_small.bam")],
                   check=True)
    region = "chr20:9999901-10001900"
    a = make_examples(f / "NA12878_small.bam", d / REF, tmp_path / "bam_ex", regions=region, config=PRESETS["test"])
    b = make_examples(cram, d / REF, tmp_path / "cram_ex", regions=region, config=PRESETS["test"])
    assert a.pop("bam") != b.pop("bam")  # each summary names its own reads
    assert a == b and a["candidates"] > 0
    ea, eb = read_examples(tmp_path / "bam_ex"), read_examples(tmp_path / "cram_ex")
    for k in FIELDS:
        assert np.array_equal(ea[k], eb[k]), k


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools (apt-get install bcftools)")
def test_evaluate_bcftools_calls_on_dev(shared, tmp_path):
    from genoscreen.variants.evaluate import evaluate
    from genoscreen.variants.tools.bcftools import mpileup_call

    d = shared(*DEV)
    calls = tmp_path / "bcftools.vcf.gz"
    mpileup_call(d / BAM, d / REF, calls, region="chr20:10000001-10012000")
    r = evaluate(d / TRUTH, calls, d / REF, bed=d / CONF)
    assert r["SNP"]["TP"] >= 40 and r["SNP"]["recall"] >= 0.95 and r["SNP"]["precision"] >= 0.95
    assert r["SNP"]["TP"] + r["SNP"]["FN"] == r["SNP"]["truth_alleles"]
