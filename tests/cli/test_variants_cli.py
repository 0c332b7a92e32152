"""`genoscreen make-examples`, `evaluate`, `simulate-reads` from the command line."""

import json
import shutil
import subprocess
import sys

import pytest

from genoscreen.cli import main
from genoscreen.variants.examples import read_examples
from tests.unit.variants.synth import make_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("cli"))


def test_make_examples_writes_folder_and_prints_summary(dataset, tmp_path, capsys):
    out = tmp_path / "ex"
    rc = main(["make-examples", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--out", str(out),
               "--truth", str(dataset.truth), "--preset", "test", "--regions", "chrS:1-4500", "--threads", "1"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["candidates"] == 4 and len(read_examples(out)["label"]) == summary["examples"]


def test_pileups_follow_the_model_unless_a_preset_is_named(dataset, tmp_path, capsys):
    """By default make-examples makes the shipped model's pileups (so call-variants takes them), --model another
    model's, --preset a named shape to train on; --model and --preset together are refused."""
    from genoscreen.caller.pipeline import default_model_dir
    from genoscreen.variants.pileup_config import PRESETS, PileupConfig

    other = tmp_path / "model"
    shutil.copytree(default_model_dir(), other)
    PRESETS["test"].write(other)
    common = ["--bam", str(dataset.bam), "--ref", str(dataset.ref), "--regions", "chrS:1-4500"]
    for name, extra, expected in [("default", [], PileupConfig.read(default_model_dir())),
                                  ("model", ["--model", str(other)], PRESETS["test"]),
                                  ("preset", ["--preset", "default"], PRESETS["default"])]:
        assert main(["make-examples", *common, "--out", str(tmp_path / f"ex_{name}"), *extra]) == 0
        assert PileupConfig.read(tmp_path / f"ex_{name}") == expected, name
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["make-examples", *common, "--out", str(tmp_path / "both"), "--model", str(other), "--preset", "test"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_set_changes_a_preset_pileup(dataset, tmp_path, capsys):
    """--set KEY=VALUE changes one field of a preset's pileup config (the one config override path); without
    --preset, or with a value the pileup cannot have, it is one clear line."""
    import numpy as np

    from genoscreen.variants.pileup_config import PileupConfig

    common = ["make-examples", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--regions", "chrS:1-4500"]
    assert main([*common, "--out", str(tmp_path / "wide"), "--preset", "test", "--set", "width=21",
                 "--set", "channels=read_base,strand"]) == 0
    config = PileupConfig.read(tmp_path / "wide")
    assert (config.height, config.width, config.channels) == (20, 21, ("read_base", "strand"))
    shard = np.load(next((tmp_path / "wide").glob("examples-*.npz")))
    assert shard["tensors"].shape[1:] == (20, 21, 2)
    capsys.readouterr()
    for extra, message in [(["--set", "width=21"], "give --preset default too"),
                           (["--preset", "test", "--set", "width=20"], "width must be odd"),
                           (["--preset", "test", "--set", "channels=read_base,colour"], "not implemented"),
                           (["--preset", "test", "--set", "depth=3"], "depth")]:
        assert main([*common, "--out", str(tmp_path / "bad"), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
        assert not (tmp_path / "bad").exists()


def test_no_realign_flag(dataset, tmp_path, capsys, monkeypatch):
    """--no-realign reaches make_examples as RealignOptions(enabled=False); the default realigns."""
    import genoscreen.variants.make_examples as me

    seen = []
    real = me.make_examples
    monkeypatch.setattr(me, "make_examples", lambda *a, **k: seen.append(k["realign"]) or real(*a, **k))
    for extra in ([], ["--no-realign"]):
        rc = main(["make-examples", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--out",
                   str(tmp_path / f"ex{len(extra)}"), "--preset", "test", "--regions", "chrS:1-4500", *extra])
        assert rc == 0 and json.loads(capsys.readouterr().out)["candidates"] == 4
    assert [r.enabled for r in seen] == [True, False]


def test_bad_input_is_one_line_exit_2(dataset, tmp_path, capsys):
    rc = main(["make-examples", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--out", str(tmp_path / "x"),
               "--regions", "chrS:1-99999"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "past the end of chrS" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_bad_input_via_subprocess(dataset, tmp_path):
    empty = tmp_path / "e.bam"
    empty.write_bytes(b"")
    r = subprocess.run([sys.executable, "-m", "genoscreen", "make-examples", "--bam", str(empty), "--ref",
                        str(dataset.ref), "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 2 and "empty file" in r.stderr and "Traceback" not in r.stderr


def test_evaluate_table_and_json(dataset, tmp_path, capsys):
    js = tmp_path / "eval.json"
    rc = main(["evaluate", "--truth", str(dataset.truth), "--calls", str(dataset.truth), "--ref", str(dataset.ref),
               "--json", str(js)])
    assert rc == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:4] == ["type", "TP", "FP", "FN"] and "INDEL" in table
    result = json.loads(js.read_text())
    assert result["SNP"]["recall"] == 1.0 and result["INDEL"]["TP"] == 2
    assert main(["evaluate", "--truth", str(dataset.truth), "--calls", str(dataset.truth), "--ref", str(dataset.ref),
                 "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["ALL"]["F1"] == 1.0


def test_help_explains_flags(capsys):
    for cmd in ("make-examples", "evaluate", "simulate-reads"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        out = capsys.readouterr().out
        assert "--regions" in out and "--ref" in out


@pytest.mark.skipif(not all(shutil.which(b) for b in ("art_illumina", "bwa", "samtools")),
                    reason="needs art_illumina, bwa and samtools (apt-get install art-nextgen-simulation-tools bwa samtools)")
def test_simulate_reads_tiny_region(dataset, tmp_path, capsys):
    out = tmp_path / "sim.bam"
    rc = main(["simulate-reads", "--ref", str(dataset.ref), "--truth", str(dataset.truth), "--regions",
               "chrS:1-6000", "--out", str(out), "--coverage", "20", "--read-length", "100", "--edge", "300",
               "--seed", "1"])
    assert rc == 0
    info = json.loads(capsys.readouterr().out)
    assert info["alleles_applied"] == 7 and out.exists() and (tmp_path / "sim.bam.bai").exists()
    assert main(["make-examples", "--bam", str(out), "--ref", str(dataset.ref), "--out", str(tmp_path / "ex"),
                 "--truth", str(dataset.truth), "--confident-bed", str(tmp_path / "sim.bam.confident.bed"),
                 "--preset", "test"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["truth"] == {"SNP": 4, "INDEL": 2}
    assert summary["truth_without_candidate"] == {"SNP": 0, "INDEL": 0}


def test_call_refuses_bad_bams_and_outputs_before_any_work(dataset, tmp_path, capsys):
    """`call`: a missing or non-BAM file, a gVCF name that is no VCF name (.vcf.gz, .vcf, .bcf), and a BED that selects nothing are one
    line each (exit 2), and leave no output behind."""
    out = tmp_path / "calls.vcf.gz"
    text = tmp_path / "reads.bam"
    text.write_text("not a bam\n")
    empty_bed = tmp_path / "empty.bed"
    empty_bed.write_text("")
    common = ["--ref", str(dataset.ref), "--out", str(out)]
    cases = [
        (["--bam", str(tmp_path / "missing.bam"), "--regions", "chrS:1-4500"], "alignment file not found"),
        (["--bam", str(text), "--regions", "chrS:1-4500"], "not a BAM or CRAM"),
        (["--bam", str(dataset.bam), "--regions", "chrS:1-4500", "--gvcf", str(tmp_path / "calls.gvcf")],
         "must end in .vcf.gz"),
        (["--bam", str(dataset.bam), "--bed", str(empty_bed)], "no region to call"),
    ]
    for args, message in cases:
        assert main(["call", *common, *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1, err
        assert list(tmp_path.glob("calls*")) == []


def test_make_examples_records_the_read_group_sample(dataset, tmp_path, capsys):
    """summary.json carries the BAM's SM, so a staged `postprocess` names the VCF's sample without --bam."""
    import pysam

    bam = tmp_path / "rg.bam"
    with pysam.AlignmentFile(str(dataset.bam)) as source:
        header = source.header.to_dict()
        header["RG"] = [{"ID": "rg1", "SM": "NA00001"}]
        with pysam.AlignmentFile(str(bam), "wb", header=header) as sink:
            for read in source:
                sink.write(pysam.AlignedSegment.fromstring(read.to_string(), sink.header))
    pysam.index(str(bam))
    assert main(["make-examples", "--bam", str(bam), "--ref", str(dataset.ref), "--out", str(tmp_path / "ex"),
                 "--preset", "test", "--regions", "chrS:1-4500"]) == 0
    assert json.loads(capsys.readouterr().out)["sample"] == "NA00001"


@pytest.mark.skipif(shutil.which("samtools") is None, reason="samtools not installed (apt-get install samtools)")
def test_downsample_cli(dataset, tmp_path, capsys):
    out = tmp_path / "ds.bam"
    rc = main(["downsample", "--bam", str(dataset.bam), "--regions", "chrS:1001-5000", "--depth", "10", "--seed", "2",
               "--out", str(out)])
    info = json.loads(capsys.readouterr().out)
    assert rc == 0 and out.exists() and info["expected_depth"] == pytest.approx(10)
    assert main(["downsample", "--bam", str(dataset.bam), "--fraction", "0.5", "--out", str(dataset.bam)]) == 2
    assert "overwrite the input" in capsys.readouterr().err
    assert main(["downsample", "--bam", str(tmp_path / "missing.bam"), "--fraction", "0.5", "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err


def test_staged_gvcf_needs_only_probs_ref_and_out(dataset, tmp_path, capsys):
    """make-examples records the reads, the regions and the contig names; call-variants carries them into PROBS, so
    `postprocess --gvcf` needs no --bam/--regions and writes the gVCF that one `call --gvcf` writes."""
    import gzip

    ex, probs = tmp_path / "ex", tmp_path / "probs.npz"
    region = ["--regions", "chrS:1-4500"]
    assert main(["make-examples", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--out", str(ex), *region]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["regions"] == ["chrS:1-4500"] and summary["bam_names"] == {"chrS": "chrS"}
    assert summary["bam"] == str(dataset.bam.resolve())
    assert main(["call-variants", "--examples", str(ex), "--out", str(probs)]) == 0
    assert main(["postprocess", "--probs", str(probs), "--ref", str(dataset.ref), "--out", str(tmp_path / "s.vcf.gz"),
                 "--gvcf", str(tmp_path / "s.g.vcf.gz")]) == 0
    assert main(["call", "--bam", str(dataset.bam), "--ref", str(dataset.ref), *region, "--out",
                 str(tmp_path / "o.vcf.gz"), "--gvcf", str(tmp_path / "o.g.vcf.gz")]) == 0

    def records(path):
        with gzip.open(path, "rt") as handle:
            return [line for line in handle if not line.startswith("#")]

    staged, oneshot = records(tmp_path / "s.g.vcf.gz"), records(tmp_path / "o.g.vcf.gz")
    assert staged and staged == oneshot and any("<*>" in line for line in staged)
    assert records(tmp_path / "s.vcf.gz") == records(tmp_path / "o.vcf.gz")


def test_call_sample_of_a_multi_sample_bam(dataset, tmp_path, capsys):
    """`call --sample A` on a two-sample BAM counts only A's reads, in the gVCF's reference blocks too."""
    import gzip

    from tests.unit.variants.test_make_examples import _two_sample_bam

    bam = _two_sample_bam(dataset, tmp_path)
    region = ["--regions", "chrS:1-4500"]
    assert main(["call", "--bam", str(bam), "--ref", str(dataset.ref), *region, "--out", str(tmp_path / "x.vcf.gz")]) == 2
    assert "several samples" in capsys.readouterr().err
    for name, path in (("two", bam), ("alone", dataset.bam)):
        assert main(["call", "--bam", str(path), "--ref", str(dataset.ref), *region, "--sample", "A", "--out",
                     str(tmp_path / f"{name}.vcf.gz"), "--gvcf", str(tmp_path / f"{name}.g.vcf.gz")]) == 0

    def blocks(path):
        with gzip.open(path, "rt") as handle:
            return [line for line in handle if not line.startswith("#") and "\t<*>\t" in line]

    assert blocks(tmp_path / "two.g.vcf.gz") == blocks(tmp_path / "alone.g.vcf.gz") != []


def test_call_writes_every_vcf_flavour_bcftools_reads(dataset, tmp_path, capsys):
    """--out .vcf.gz (+.tbi), .vcf, .bcf (+.csi) and - (stdout) hold the same records; the header records the
    command line with its date and the LowQual threshold in use, as bcftools users expect."""
    import pysam

    common = ["call", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--regions", "chrS:1-4500",
              "--min-qual", "3"]
    records = {}
    for name in ("o.vcf.gz", "o.vcf", "o.bcf"):
        assert main([*common, "--out", str(tmp_path / name)]) == 0
        with pysam.VariantFile(str(tmp_path / name)) as vf:
            records[name] = [str(r) for r in vf]
            header = str(vf.header)
        assert "##genoscreenCommand=genoscreen call --bam" in header and "; Date=" in header
        assert "(QUAL < 3)" in header
    assert (tmp_path / "o.vcf.gz.tbi").exists() and (tmp_path / "o.bcf.csi").exists()
    assert not (tmp_path / "o.vcf.tbi").exists()
    capsys.readouterr()
    assert main([*common, "--out", "-"]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("##fileformat=VCFv4.2")
    body = [line + "\n" for line in stdout.splitlines() if not line.startswith("#")]
    assert records["o.vcf.gz"] and records["o.vcf.gz"] == records["o.vcf"] == records["o.bcf"] == body
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.bcf", "o.bcf.csi", "o.vcf", "o.vcf.gz", "o.vcf.gz.tbi"]


def test_call_refuses_an_unknown_vcf_suffix_and_two_stdout_outputs(dataset, tmp_path, capsys):
    common = ["call", "--bam", str(dataset.bam), "--ref", str(dataset.ref), "--regions", "chrS:1-4500"]
    assert main([*common, "--out", str(tmp_path / "o.txt")]) == 2
    assert ".vcf.gz" in capsys.readouterr().err
    assert main([*common, "--out", "-", "--gvcf", "-"]) == 2
    assert "only one output can go to stdout" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
