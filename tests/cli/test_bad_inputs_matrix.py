"""Bad inputs and outputs across the commands (issue #21): one line naming the file and the fix, exit 2, no
traceback, no input destroyed, no partial output, errors files only with their results, cleanup on SIGTERM."""

from __future__ import annotations

import gzip
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from genoscreen.cli import main
from genoscreen.variants.pileup_config import PRESETS as PILEUPS
from tests.unit.caller.synthetic import make_examples_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "screening"))
from screening_helpers import SMILES, random_model_dir, random_proteins, write_fasta, write_smi  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "affinity_tiny", Path(__file__).resolve().parents[1] / "unit" / "affinity" / "affinity_tiny.py"
)
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)

REPO = Path(__file__).resolve().parents[2]
CALLER_MODEL = REPO / "resources" / "models" / "caller-wgs-illumina"


@pytest.fixture(scope="module")
def affinity_model(tmp_path_factory):
    return random_model_dir(tmp_path_factory.mktemp("matrix") / "model", seed=5)


@pytest.fixture
def inputs(tmp_path):
    """A compound library, a target FASTA, drugs/targets/pairs of the affinity commands, an examples folder."""
    drugs, targets, pairs = _tiny.write_tiny_dta(tmp_path / "dta", invalid_smiles=True)
    return {
        "library": write_smi(tmp_path / "lib.smi", SMILES[:6]),
        "fasta": write_fasta(tmp_path / "targets.fasta", random_proteins(3, seed=7)),
        "drugs": drugs, "targets": targets, "pairs": pairs,
        "examples": make_examples_dir(tmp_path / "examples", PILEUPS["test"], n=8, shards=2, labelled=False),
        "ref": tmp_path / "ref.fa",
    }


def _one_line_error(capsys, argv, *needles):
    """Run the CLI; it must exit 2 with one error line (after any warnings) holding every needle, no traceback."""
    assert main([str(a) for a in argv]) == 2, argv
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count(": error: ") == 1 and err.endswith("\n"), err
    line = err.splitlines()[-1]
    assert line.startswith("genoscreen ") and ": error: " in line, err
    for needle in needles:
        assert needle in line, (needle, err)
    return line


# ------------------------------------------------------------------------------------------ outputs vs inputs


CLASHES = {
    "screen --out = --compounds": lambda m, i, t: (
        ["screen", "--model", m, "--compounds", i["library"], "--targets", i["fasta"], "--out", i["library"]],
        i["library"], "is the input --compounds"),
    "screen --out = --targets": lambda m, i, t: (
        ["screen", "--model", m, "--compounds", i["library"], "--targets", i["fasta"], "--out", i["fasta"]],
        i["fasta"], "is the input --targets"),
    "affinity predict --out = --pairs": lambda m, i, t: (
        ["affinity", "predict", "--model", m, "--drugs", i["drugs"], "--targets", i["targets"], "--pairs",
         i["pairs"], "--out", i["pairs"]], i["pairs"], "is the input --pairs"),
    "affinity predict --errors = --drugs": lambda m, i, t: (
        ["affinity", "predict", "--model", m, "--drugs", i["drugs"], "--targets", i["targets"], "--pairs",
         i["pairs"], "--out", t / "p.tsv", "--errors", i["drugs"]], i["drugs"], "is the input --drugs"),
    "affinity train --out = the model of an input": lambda m, i, t: (
        ["affinity", "train", "--drugs", i["drugs"], "--targets", i["targets"], "--pairs", i["pairs"],
         "--preset", "test", "--errors", i["pairs"], "--out", t / "new_model"], i["pairs"], "is the input --pairs"),
    "call-variants --out = an examples shard": lambda m, i, t: (
        ["call-variants", "--examples", i["examples"], "--model", CALLER_MODEL, "--out",
         i["examples"] / "examples-00000.npz"], i["examples"] / "examples-00000.npz", "is the input --examples"),
    "call --gvcf = --out": lambda m, i, t: (
        ["call", "--bam", t / "reads.bam", "--ref", i["ref"], "--out", t / "calls.vcf.gz", "--gvcf",
         t / "calls.vcf.gz"], None, "--gvcf"),
    "postprocess --gvcf = --out": lambda m, i, t: (
        ["postprocess", "--probs", t / "p.npz", "--ref", i["ref"], "--bam", t / "reads.bam", "--out",
         t / "calls.vcf.gz", "--gvcf", t / "calls.vcf.gz"], None, "give each output its own name"),
    "merge-hits --out = a chunk's hits": lambda m, i, t: (
        ["merge-hits", i["library"], i["fasta"], "--out", i["fasta"]], i["fasta"], "is the input inputs"),
    "make-examples --out = the folder of --bam": lambda m, i, t: (
        ["make-examples", "--bam", i["drugs"], "--ref", i["ref"], "--out", i["drugs"].parent],
        i["drugs"], "holds the input --bam"),
}


@pytest.mark.parametrize("case", list(CLASHES))
def test_an_output_that_is_an_input_is_refused_before_any_work(case, affinity_model, inputs, tmp_path, capsys):
    argv, victim, message = CLASHES[case](affinity_model, inputs, tmp_path)
    before = victim.read_bytes() if victim is not None else None
    _one_line_error(capsys, argv, message)
    if victim is not None:
        assert victim.read_bytes() == before
    assert not list(tmp_path.rglob(".*tmp*")) and not (tmp_path / "calls.vcf.gz").exists()


def test_unwritable_output_folder_is_refused_before_the_calling(monkeypatch, inputs, tmp_path, capsys):
    import genoscreen.caller.pipeline as pipeline

    monkeypatch.setattr(pipeline, "call", lambda *a, **k: pytest.fail("`call` ran before the output check"))
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    _one_line_error(capsys, ["call", "--bam", tmp_path / "reads.bam", "--ref", inputs["ref"],
                             "--out", blocker / "calls.vcf.gz"], "is a file, not a folder")
    _one_line_error(capsys, ["call", "--bam", tmp_path / "reads.bam", "--ref", inputs["ref"],
                             "--out", "/proc/genoscreen/calls.vcf.gz"], "cannot write in /proc")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_read_only_folder_is_refused(affinity_model, inputs, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _one_line_error(capsys, ["screen", "--model", affinity_model, "--compounds", inputs["library"], "--targets",
                                 inputs["fasta"], "--out", locked / "hits.tsv"], "cannot write in", "locked")
    finally:
        locked.chmod(0o755)


# ------------------------------------------------------------------------------------------ non-UTF-8 records


def test_non_utf8_records_are_skipped_into_the_errors_file(affinity_model, inputs, tmp_path, capsys):
    from rdkit import Chem

    smi = tmp_path / "lib.smi.gz"
    with gzip.open(smi, "wb") as handle:
        handle.write(b"CCO good1\nCC\xff bad\nc1ccccc1 good2\n")
    blocks = []
    for name, smiles in (("s_ok", "CCO"), ("s_NAME", "CCN")):
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", name)
        blocks.append(Chem.MolToMolBlock(mol) + "$$$$\n")
    sdf = tmp_path / "lib.sdf"
    sdf.write_bytes("".join(blocks).encode().replace(b"s_NAME", b"s_\xe9t\xe9"))
    tsv = tmp_path / "lib.tsv"
    tsv.write_bytes(b"compound_id\tsmiles\nt_ok\tCCO\nt_\xff\tCCC\n")
    for library, bad_row, good in ((smi, 2, 2), (sdf, 2, 1), (tsv, 3, 1)):
        out = tmp_path / f"{library.name}.hits.tsv"
        assert main(["screen", "--model", str(affinity_model), "--compounds", str(library), "--targets",
                     str(inputs["fasta"]), "--out", str(out)]) == 0, library
        assert "(1 invalid, skipped)" in capsys.readouterr().err
        assert pd.read_csv(out, sep="\t")["compound_id"].nunique() == good
        errors = pd.read_csv(f"{out}.errors.tsv", sep="\t")
        assert errors["row"].tolist() == [bad_row] and errors["reason"].str.contains("not UTF-8").all(), errors


def test_non_utf8_fasta_header_is_one_line(affinity_model, inputs, tmp_path, capsys):
    fasta = tmp_path / "bad.fasta"
    fasta.write_bytes(b">T1\nMKVLA\n>T\xff2 kinase\nMKV\n")
    out = tmp_path / "hits.tsv"
    _one_line_error(capsys, ["screen", "--model", affinity_model, "--compounds", inputs["library"], "--targets",
                             fasta, "--out", out], "bad.fasta: line 3 (a header): byte 0xff", "UTF-8")
    fasta.write_bytes(b">T1\nMKV\xc3LA\n")
    _one_line_error(capsys, ["screen", "--model", affinity_model, "--compounds", inputs["library"], "--targets",
                             fasta, "--out", out], "line 2 (in record T1)")
    assert not out.exists()


# ------------------------------------------------------------------------------------------ errors files


def test_failed_screen_keeps_the_errors_file_of_the_good_run(affinity_model, inputs, tmp_path, capsys):
    library = tmp_path / "chunk.smi"
    library.write_text("CCO good\nC1CC( broken\n")
    out = tmp_path / "hits.tsv"
    args = ["screen", "--model", affinity_model, "--targets", inputs["fasta"], "--out", out]
    assert main([str(a) for a in [*args, "--compounds", library]]) == 0
    assert f"invalid compounds listed in {out}.errors.tsv" in capsys.readouterr().err
    hits, errors = out.read_bytes(), Path(f"{out}.errors.tsv").read_bytes()
    library.write_text("C1CC( other_broken\n")  # no valid compound: the run fails
    _one_line_error(capsys, [*args, "--compounds", library], "no valid compounds")
    assert out.read_bytes() == hits and Path(f"{out}.errors.tsv").read_bytes() == errors
    assert not list(tmp_path.glob(".*tmp*"))


def test_failed_predict_and_train_keep_earlier_errors_files(affinity_model, inputs, tmp_path, capsys):
    drugs, targets, pairs = inputs["drugs"], inputs["targets"], inputs["pairs"]
    unknown = tmp_path / "unknown_pairs.tsv"
    unknown.write_text("drug_id\ttarget_id\nnot_a_drug\tP0\n")
    no_labels = tmp_path / "no_labels.tsv"
    no_labels.write_text("drug_id\ttarget_id\naspirin\tP0\n")
    earlier = "row\tid\tsmiles\treason\n99\tearlier\tC\tfrom the good run\n"
    for command, bad_pairs, extra, errors in (
        ("predict", unknown, ["--model", affinity_model, "--out", tmp_path / "p.tsv"],
         tmp_path / "p.tsv.invalid_smiles.tsv"),
        ("train", no_labels, ["--preset", "test", "--out", tmp_path / "m"], tmp_path / "m.invalid_smiles.tsv"),
    ):
        errors.write_text(earlier)
        _one_line_error(capsys, ["affinity", command, "--drugs", drugs, "--targets", targets, "--pairs", bad_pairs,
                                 *extra], str(bad_pairs))
        assert errors.read_text() == earlier, command
    assert not list(tmp_path.glob(".*tmp*")) and not (tmp_path / "m").exists()


# ------------------------------------------------------------------------------------------ SIGTERM


def test_sigterm_removes_partial_outputs_and_exits_143(tmp_path):
    """What SLURM sends at a time limit: the temporary output goes, as on Ctrl-C, and the exit code says why."""
    script = textwrap.dedent("""
        import argparse, sys, time
        from genoscreen import cli
        from genoscreen.common.io import atomic_open

        def slow(args):
            with atomic_open(args.out) as handle:
                handle.write("partial")
                handle.flush()
                print("writing", flush=True)
                time.sleep(120)

        def build_parser():
            parser = argparse.ArgumentParser(prog="genoscreen")
            sub = parser.add_subparsers(dest="command", required=True)
            p = sub.add_parser("slow")
            p.add_argument("--out")
            p.set_defaults(func=slow, verbose=0, quiet=False)
            return parser

        cli.build_parser = build_parser
        sys.exit(cli.main(["slow", "--out", sys.argv[1]]))
    """)
    out = tmp_path / "hits.tsv"
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)
    assert proc.stdout.readline().strip() == "writing"
    assert [p.name for p in tmp_path.iterdir()] == [f".hits.tmp{proc.pid}.tsv"]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "terminated" in err and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ model directories


def test_caller_model_without_weights_is_one_line(inputs, tmp_path, capsys):
    model = tmp_path / "caller"
    shutil.copytree(CALLER_MODEL, model)
    (model / "weights.safetensors").unlink()
    assert (model / "inference.jaxexport").exists()
    _one_line_error(capsys, ["call-variants", "--examples", inputs["examples"], "--model", model,
                             "--out", tmp_path / "p.npz"], "no weights.safetensors")
    assert not (tmp_path / "p.npz").exists()


def test_affinity_panels_refuses_a_caller_model(capsys):
    _one_line_error(capsys, ["affinity", "panels", "--model", CALLER_MODEL], "not an affinity model")


# ------------------------------------------------------------------------------------------ flag values


@pytest.mark.parametrize("argv, flag", [
    (["make-examples", "--bam", "x.bam", "--ref", "r.fa", "--out", "ex", "--shard-size", "0"], "--shard-size"),
    (["make-examples", "--bam", "x.bam", "--ref", "r.fa", "--out", "ex", "--min-snv-fraction", "2"],
     "--min-snv-fraction"),
    (["call", "--bam", "x.bam", "--ref", "r.fa", "--out", "c.vcf.gz", "--threads", "0"], "--threads"),
    (["simulate-reads", "--ref", "r.fa", "--truth", "t.vcf", "--regions", "c:1-9", "--out", "o.bam",
      "--coverage", "-3"], "--coverage"),
    (["train-caller", "--examples", "ex", "--out", "m", "--batch-size", "zero"], "--batch-size"),
    (["affinity", "cv", "--drugs", "d", "--targets", "t", "--pairs", "p", "--preset", "test", "--out", "o",
      "--monitor-every", "0"], "--monitor-every"),
])
def test_out_of_range_flags_are_usage_errors(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"argument {flag}" in err and "Traceback" not in err
