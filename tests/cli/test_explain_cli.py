"""`genoscreen explain call`: attributions of a called genotype onto its pileup, with the shipped caller."""

import pandas as pd
import pysam
import pytest

from genoscreen.cli import main
from tests.unit.variants.synth import make_dataset


@pytest.fixture(scope="module")
def called(tmp_path_factory):
    data = make_dataset(tmp_path_factory.mktemp("explain"))
    vcf = data.folder / "calls.vcf.gz"
    assert main(["call", "--bam", str(data.bam), "--ref", str(data.ref), "--out", str(vcf)]) == 0
    return data, vcf


def test_explain_a_het_call(called, tmp_path):
    data, vcf = called
    with pysam.VariantFile(str(vcf)) as handle:
        het = next(r for r in handle if "PASS" in r.filter.keys() and sorted(r.samples[0]["GT"]) == [0, 1]
                   and len(r.ref) == 1 and len(r.alts[0]) == 1)
    out = tmp_path / "why"
    assert main(["explain", "call", "--bam", str(data.bam), "--ref", str(data.ref), "--vcf", str(vcf),
                 "--site", f"{het.contig}:{het.pos}", "--out", str(out), "--steps", "64"]) == 0
    summary = pd.read_csv(out / "summary.tsv", sep="\t").iloc[0]
    assert summary["genotype"] == 1 and summary["pos"] == het.pos
    assert summary["completeness_error"] < 0.05  # the sum of attributions is p(x) - p(empty pileup)
    rows = pd.read_csv(out / "rows.tsv", sep="\t")
    channels = pd.read_csv(out / "channels.tsv", sep="\t")
    assert len(rows) == 64 and rows["kind"].tolist()[:4] == ["reference"] * 4
    assert len(channels) == 10 and "read_supports_variant" in set(channels["channel"])
    assert rows["attribution"].sum() == pytest.approx(channels["attribution"].sum(), abs=1e-4)
    assert (out / "pileup.png").stat().st_size > 5000


def test_explain_call_bad_sites(called, tmp_path, capsys):
    data, vcf = called
    for site, message in [("chrS:3", "no variant at chrS:3"), ("nope:5", "no contig nope"), ("chrS", "CONTIG:POS")]:
        assert main(["explain", "call", "--bam", str(data.bam), "--ref", str(data.ref), "--vcf", str(vcf),
                     "--site", site, "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert not (tmp_path / "x").exists()


def test_explain_every_call_in_regions(called, tmp_path):
    """--regions: every call carrying an alt allele there, one folder each, listed in OUT/summary.tsv; the same
    attributions as --site for the same call."""
    data, vcf = called
    with pysam.VariantFile(str(vcf)) as handle:
        contig = next(iter(handle.header.contigs))
        nonref = [r for r in handle if any(a for a in r.samples[0]["GT"] if a is not None)]
    out = tmp_path / "why"
    assert main(["explain", "call", "--bam", str(data.bam), "--ref", str(data.ref), "--vcf", str(vcf),
                 "--regions", contig, "--out", str(out), "--steps", "32"]) == 0
    summary = pd.read_csv(out / "summary.tsv", sep="\t")
    assert summary["pos"].tolist() == [r.pos for r in nonref if r.contig == contig]
    first = summary.iloc[0]
    assert (out / first["folder"] / "pileup.png").exists() and (out / first["folder"] / "rows.tsv").exists()
    single = tmp_path / "one"
    assert main(["explain", "call", "--bam", str(data.bam), "--ref", str(data.ref), "--vcf", str(vcf),
                 "--site", f"{contig}:{first['pos']}", "--out", str(single), "--steps", "32"]) == 0
    one = pd.read_csv(single / "summary.tsv", sep="\t").iloc[0]
    assert one["probability"] == pytest.approx(first["probability"], abs=1e-5)
    assert one["attribution_sum"] == pytest.approx(first["attribution_sum"], abs=1e-4)
