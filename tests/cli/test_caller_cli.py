"""The caller commands end to end through `genoscreen.cli.main`: train-caller -> call-variants -> postprocess."""

from __future__ import annotations

import subprocess
import sys

import pysam
import pytest

from genoscreen.cli import main
from genoscreen.variants.pileup_config import PRESETS as PILEUPS
from tests.unit.caller.synthetic import make_examples_dir


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    pileup = PILEUPS["test"]
    train = make_examples_dir(root / "train", pileup, n=48, seed=4)
    val = make_examples_dir(root / "val", pileup, n=16, seed=5)
    calls = make_examples_dir(root / "calls", pileup, n=20, seed=6, labelled=False)
    (root / "ref.fa").write_text(">q\n" + "A" * 400 + "\n")
    pysam.faidx(str(root / "ref.fa"))
    return root, train, val, calls


def test_help_explains_every_flag(capsys):
    for command in ("train-caller", "call-variants", "postprocess", "call"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert "--out" in out and out.count("--") >= 4, command


@pytest.fixture(scope="module")
def model(workspace):
    root, train, val, _ = workspace
    model = root / "model"
    assert main(["train-caller", "--preset", "test", "--examples", str(train), "--val-examples", str(val),
                 "--out", str(model), "--epochs", "1"]) == 0
    return model


def test_train_call_variants_postprocess(workspace, model):
    root, _, _, calls = workspace
    assert (model / "weights.safetensors").exists() and (root / "model.train" / "history.json").exists()
    probs = root / "probs.npz"
    assert main(["call-variants", "--examples", str(calls), "--model", str(model), "--out", str(probs)]) == 0
    out = root / "calls.vcf.gz"
    assert main(["postprocess", "--probs", str(probs), "--ref", str(root / "ref.fa"), "--out", str(out)]) == 0
    with pysam.VariantFile(str(out)) as vcf:
        assert list(vcf.header.samples) == ["SYNTH"]  # from the examples' summary.json
        assert len(list(vcf)) == 20


def test_errors_are_one_line_with_exit_code_2(workspace, capsys):
    root, _, _, calls = workspace
    bad = root / "badmodel"
    bad.mkdir()
    (bad / "model.json").write_text("{not json")
    assert main(["call-variants", "--examples", str(calls), "--model", str(bad), "--out", str(root / "p.npz")]) == 2
    err = capsys.readouterr().err
    assert "not a valid caller model" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["postprocess", "--probs", str(root / "missing.npz"), "--ref", str(root / "ref.fa"),
                 "--out", str(root / "x.vcf.gz")]) == 2
    assert "probabilities file not found" in capsys.readouterr().err
    # a probabilities file that does not name its reads (synthetic examples, or an older version): --gvcf asks for --bam
    from genoscreen.caller.data import iter_shards, write_probs

    _, shard = next(iter_shards(calls))
    sites = {k: shard[k] for k in ("contig", "pos", "ref", "alts", "alt_indices", "depth", "allele_depths")}
    write_probs(root / "old.npz", sites, [[1.0, 0.0, 0.0]] * len(sites["pos"]), {"sample": "S"})
    assert main(["postprocess", "--probs", str(root / "old.npz"), "--ref", str(root / "ref.fa"),
                 "--out", str(root / "g.vcf.gz"), "--gvcf", str(root / "g.g.vcf.gz")]) == 2
    assert "--bam" in capsys.readouterr().err


def test_model_of_another_pileup_shape_is_refused(model, tmp_path, capsys):
    wide = make_examples_dir(tmp_path / "wide", PILEUPS["default"], n=4, labelled=False)
    assert main(["call-variants", "--examples", str(wide), "--model", str(model),
                 "--out", str(tmp_path / "p.npz")]) == 2
    assert "pileup" in capsys.readouterr().err
    assert not (tmp_path / "p.npz").exists()


def test_call_help_runs_as_a_command():
    result = subprocess.run([sys.executable, "-m", "genoscreen", "call", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--gvcf" in result.stdout


def test_train_caller_set_reaches_the_config(workspace, tmp_path, capsys):
    """`--set KEY=VALUE` and the shorthand flags both reach the config; --set wins over a flag for its key."""
    import json

    root, train, _, _ = workspace
    model = tmp_path / "m"
    assert main(["train-caller", "--preset", "test", "--examples", str(train), "--out", str(model),
                 "--set", "train.epochs=1", "--set", "model.hidden=4", "--set", "train.class_balance=false",
                 "--label-smoothing", "0", "--seed", "3", "--learning-rate", "0.5",
                 "--set", "train.learning_rate=0.02"]) == 0
    info = json.loads((model / "model.json").read_text())
    history = json.loads((tmp_path / "m.train" / "history.json").read_text())
    assert info["model"]["hidden"] == 4 and history["config"]["model"]["hidden"] == 4
    assert info["model"]["stage_features"] == [8, 8]  # the rest is the test preset's
    trained = history["config"]["train"]
    assert (trained["epochs"], trained["class_balance"], trained["label_smoothing"], trained["seed"],
            trained["learning_rate"], trained["batch_size"]) == (1, False, 0.0, 3, 0.02, 8)
    assert len(history["epochs"]) == 1
    capsys.readouterr()
    assert main(["train-caller", "--preset", "test", "--examples", str(train), "--out", str(tmp_path / "bad"),
                 "--set", "train.epoch=1"]) == 2
    err = capsys.readouterr().err
    assert "--set train.epoch=1: unknown key 'train.epoch'; did you mean train.epochs?" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "bad").exists()
