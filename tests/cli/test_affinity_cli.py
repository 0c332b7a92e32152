"""`genoscreen affinity train|cv|predict|evaluate` end to end on tiny synthetic inputs, and its one-line errors."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genoscreen.cli import main

_spec = importlib.util.spec_from_file_location(
    "affinity_tiny", Path(__file__).resolve().parents[1] / "unit" / "affinity" / "affinity_tiny.py"
)
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)
write_tiny_dta = _tiny.write_tiny_dta  # the unit tests' tiny-input writer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("affinity_cli")
    drugs, targets, pairs = write_tiny_dta(root / "in", invalid_smiles=True)
    model = root / "model"
    code = main(["affinity", "train", "--drugs", str(drugs), "--targets", str(targets), "--pairs", str(pairs),
                 "--preset", "test", "--epochs", "2", "--val-fold", "4", "--seed", "1", "--out", str(model)])
    assert code == 0
    return root, drugs, targets, pairs, model


def test_train_writes_model_dir_and_errors(trained):
    root, _, _, _, model = trained
    assert {"config.json", "weights.safetensors", "MODEL_CARD.md"} <= {p.name for p in model.iterdir()}
    meta = json.loads((model / "config.json").read_text())
    assert meta["training"]["epochs_run"] == 2 and meta["training"]["val_fold"] == 4
    assert "command" in meta["training"] and "val_metrics" in meta["training"]
    errors = pd.read_csv(root / "model.invalid_smiles.tsv", sep="\t")
    assert errors["id"].tolist() == ["broken"] and errors["row"].tolist() == [8]
    assert "genoscreen affinity train" in (model / "MODEL_CARD.md").read_text()
    # the command as typed, nothing of argparse's bookkeeping (main() keeps the argv on the namespace)
    assert meta["training"]["command"].startswith("genoscreen affinity train --drugs ")
    assert "--argv" not in meta["training"]["command"] and "--seed 1" in meta["training"]["command"]


def test_predict_then_evaluate(trained, tmp_path, capsys):
    root, drugs, targets, pairs, model = trained
    sub = pd.read_csv(pairs, sep="\t").sample(frac=1.0, random_state=0)  # shuffled order must be kept
    sub = pd.concat([sub, pd.DataFrame({"drug_id": ["broken"], "target_id": ["P0"], "pkd": [5.0], "fold": [0]})])
    sub.to_csv(tmp_path / "pairs.tsv", sep="\t", index=False)
    preds = tmp_path / "preds.tsv"
    assert main(["affinity", "predict", "--model", str(model), "--drugs", str(drugs), "--targets", str(targets),
                 "--pairs", str(tmp_path / "pairs.tsv"), "--out", str(preds)]) == 0
    out = pd.read_csv(preds, sep="\t")
    assert out.columns.tolist() == ["drug_id", "target_id", "prediction"]
    assert out["drug_id"].tolist() == sub["drug_id"].tolist() and out["target_id"].tolist() == sub["target_id"].tolist()
    assert out["prediction"].iloc[:-1].notna().all() and np.isnan(out["prediction"].iloc[-1])
    capsys.readouterr()
    assert main(["affinity", "evaluate", "--predictions", str(preds), "--labels", str(pairs),
                 "--out", str(tmp_path / "m.json")]) == 0
    text = capsys.readouterr().out
    for name in ("ci", "mse", "pearson", "spearman", "rm2", "aupr"):
        assert f"\n{name}\t" in text
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["n"] == 30 and 0 <= metrics["ci"] <= 1
    # against the pairs it predicted: the invalid-SMILES pair's NA is skipped and counted, not "missing"
    assert main(["affinity", "evaluate", "--predictions", str(preds), "--labels", str(tmp_path / "pairs.tsv"),
                 "--out", str(tmp_path / "m2.json")]) == 0
    again = json.loads((tmp_path / "m2.json").read_text())
    assert again["n"] == 30 and again["n_skipped_na"] == 1 and again["ci"] == metrics["ci"]
    assert "1 labelled pair(s) have prediction NA" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    ("", "cannot read"),
    ("drug_id\ttarget_id\tprediction\nd0\tP0\thigh\n", "row 2: prediction 'high' is not a number"),
])
def test_evaluate_bad_predictions(trained, tmp_path, capsys, content, message):
    _, _, _, pairs, _ = trained
    (tmp_path / "preds.tsv").write_text(content)
    assert message in _error_line(capsys, ["affinity", "evaluate", "--predictions", str(tmp_path / "preds.tsv"),
                                           "--labels", str(pairs)])


def test_cv_table(trained, tmp_path, capsys):
    _, drugs, targets, pairs, _ = trained
    out = tmp_path / "cv"
    assert main(["affinity", "cv", "--drugs", str(drugs), "--targets", str(targets), "--pairs", str(pairs),
                 "--preset", "test", "--epochs", "1", "--folds", "0", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out / "cv_metrics.tsv", sep="\t")
    assert table["fold"].astype(str).tolist() == ["0", "1", "mean", "sd"]
    assert "CV ci" in capsys.readouterr().out
    summary = json.loads((out / "cv_summary.json").read_text())
    assert len(summary["folds"]) == 2 and summary["device"]


def _error_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("genoscreen affinity: error: ")]
    assert len(errors) == 1 and "Traceback" not in err  # warnings may precede it (the tiny drugs have a bad SMILES)
    return errors[0]


def test_predict_with_named_columns(trained, tmp_path, capsys):
    """--id-column / --smiles-column: DeepPurpose-style `name SMILES` drugs give the predictions of the same drugs
    as a drugs.tsv; a column the file lacks is one error line."""
    _, drugs, targets, pairs, model = trained
    table = pd.read_csv(drugs, sep="\t")
    (tmp_path / "dp.smi").write_text("".join(f"{d} {s}\n" for d, s in zip(table["drug_id"], table["smiles"])))
    base = ["affinity", "predict", "--model", str(model), "--targets", str(targets), "--pairs", str(pairs)]
    assert main([*base, "--drugs", str(drugs), "--out", str(tmp_path / "ref.tsv")]) == 0
    assert main([*base, "--drugs", str(tmp_path / "dp.smi"), "--id-column", "1", "--smiles-column", "2",
                 "--out", str(tmp_path / "dp.tsv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "dp.tsv", sep="\t"), pd.read_csv(tmp_path / "ref.tsv", sep="\t"))
    capsys.readouterr()
    err = _error_line(capsys, [*base, "--drugs", str(drugs), "--smiles-column", "canonical", "--out",
                               str(tmp_path / "bad.tsv")])
    assert "no SMILES column 'canonical' (columns: drug_id, smiles)" in err
    assert not (tmp_path / "bad.tsv").exists()


def test_cv_fold_choices_checked(trained, tmp_path, capsys):
    _, drugs, targets, pairs, _ = trained
    base = ["affinity", "cv", "--drugs", str(drugs), "--targets", str(targets), "--preset", "test", "--epochs", "1"]
    err = _error_line(capsys, base + ["--pairs", str(pairs), "--folds", "9", "--out", str(tmp_path / "a")])
    assert "fold 9: no pair has this fold" in err
    two = pd.read_csv(pairs, sep="\t").query("fold < 2")
    two.to_csv(tmp_path / "two.tsv", sep="\t", index=False)
    err = _error_line(capsys, base + ["--pairs", str(tmp_path / "two.tsv"), "--inner-val", "--out", str(tmp_path / "b")])
    assert "--inner-val needs at least 3 folds" in err


def test_cv_resume_refuses_other_data_and_corrupt_state(trained, tmp_path, capsys):
    _, drugs, targets, pairs, _ = trained
    out = tmp_path / "cv"
    base = ["affinity", "cv", "--drugs", str(drugs), "--targets", str(targets), "--preset", "test", "--epochs", "1",
            "--folds", "0", "--out", str(out)]
    assert main(base + ["--pairs", str(pairs)]) == 0
    capsys.readouterr()
    assert main(base + ["--pairs", str(pairs)]) == 0  # same data: resumes from the finished checkpoint
    assert "resumed from" in capsys.readouterr().err
    other = pd.read_csv(pairs, sep="\t")
    other["pkd"] += 1.0
    other.to_csv(tmp_path / "other.tsv", sep="\t", index=False)
    assert "written for other data" in _error_line(capsys, base + ["--pairs", str(tmp_path / "other.tsv")])
    (out / "work" / "fold0" / "train_state.safetensors").write_bytes(b"\x93broken")
    assert "checkpoint cannot be read" in _error_line(capsys, base + ["--pairs", str(pairs)])


def test_dna_fasta_is_one_line_error(trained, tmp_path, capsys):
    _, drugs, _, pairs, model = trained
    (tmp_path / "dna.fa").write_text(">P0\nACGTACGTACGTTTGACCAGT\n")
    err = _error_line(capsys, ["affinity", "predict", "--model", str(model), "--drugs", str(drugs),
                               "--targets", str(tmp_path / "dna.fa"), "--pairs", str(pairs), "--out", str(tmp_path / "p.tsv")])
    assert "looks like a DNA" in err
    assert not (tmp_path / "p.tsv").exists()


def test_odd_protein_letters_warned(trained, tmp_path, capsys):
    _, drugs, targets, pairs, model = trained
    text = Path(targets).read_text().replace(">P1 random protein\n", ">P1 random protein\nJJ*")
    (tmp_path / "odd.fa").write_text(text)
    assert main(["affinity", "predict", "--model", str(model), "--drugs", str(drugs), "--targets",
                 str(tmp_path / "odd.fa"), "--pairs", str(pairs), "--out", str(tmp_path / "p.tsv")]) == 0
    assert "3 residue(s) in 1 sequence(s) outside" in capsys.readouterr().err


def test_missing_id_is_error(trained, tmp_path, capsys):
    _, drugs, targets, _, model = trained
    (tmp_path / "pairs.tsv").write_text("drug_id\ttarget_id\naspirin\tP0\naspirin\tNOPE\n")
    err = _error_line(capsys, ["affinity", "predict", "--model", str(model), "--drugs", str(drugs), "--targets",
                               str(targets), "--pairs", str(tmp_path / "pairs.tsv"), "--out", str(tmp_path / "p.tsv")])
    assert "row 3: target_id 'NOPE' not found" in err


def test_corrupt_model_dir_is_error(trained, tmp_path, capsys):
    _, drugs, targets, pairs, model = trained
    bad = tmp_path / "bad_model"
    bad.mkdir()
    (bad / "config.json").write_text((model / "config.json").read_text())
    (bad / "weights.safetensors").write_bytes(b"not msgpack at all")
    err = _error_line(capsys, ["affinity", "predict", "--model", str(bad), "--drugs", str(drugs), "--targets",
                               str(targets), "--pairs", str(pairs), "--out", str(tmp_path / "p.tsv")])
    assert "weights.safetensors" in err and "corrupt" in err


def test_help_is_instant_and_lists_commands():
    result = subprocess.run([sys.executable, "-m", "genoscreen", "affinity", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("train", "cv", "predict", "evaluate"):
        assert command in result.stdout
    result = subprocess.run([sys.executable, "-m", "genoscreen", "affinity", "train", "--help"],
                            capture_output=True, text=True)
    for flag in ("--drugs", "--targets", "--pairs", "--preset", "--out", "--val-fold", "--epochs", "--seed"):
        assert flag in result.stdout


def test_train_set_reaches_the_config(trained, tmp_path, capsys):
    """`affinity train --set KEY=VALUE` (the caller's keys: model.*, train.*) and the shorthand flags reach
    config.json; --set wins over a flag for the same key; a bad key or value is one error line."""
    _, drugs, targets, pairs, _ = trained
    base = ["affinity", "train", "--drugs", str(drugs), "--targets", str(targets), "--pairs", str(pairs),
            "--preset", "test"]
    model = tmp_path / "m"
    assert main([*base, "--out", str(model), "--epochs", "3", "--set", "train.epochs=1", "--kernel-drug", "3",
                 "--set", "model.dense=16,16,8", "--set", "train.batching=pair", "--set", "warmup_steps=5"]) == 0
    config = json.loads((model / "config.json").read_text())["config"]
    assert (config["epochs"], config["kernel_drug"], config["dense"], config["batching"], config["warmup_steps"]) \
        == (1, 3, [16, 16, 8], "pair", 5)
    assert config["embed_dim"] == 16 and config["kernel_target"] == 8  # the rest is the test preset's
    capsys.readouterr()
    err = _error_line(capsys, [*base, "--out", str(tmp_path / "x"), "--set", "train.batching=pairs"])
    assert "--set train.batching='pairs': choose block or pair" in err
    err = _error_line(capsys, [*base, "--out", str(tmp_path / "x"), "--set", "model.filters=8,16"])
    assert "--set model.filters='8,16': expected 3 comma-separated values, each an int" in err
    assert not (tmp_path / "x").exists()


def test_merge_then_train_on_the_merge(trained, tmp_path, capsys):
    """affinity merge: the tiny set with a second source of its own; the merged set trains; one source per flag
    in order, and an output that would overwrite an input is refused before work starts."""
    root, drugs, targets, pairs, _ = trained
    (tmp_path / "b.tsv").write_text("drug_id\tsmiles\nextra1\tCCOC(=O)c1ccccc1\n")
    (tmp_path / "b.fasta").write_text(">EXTRA\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ\n")
    first_target = next(line[1:].split()[0] for line in Path(targets).read_text().splitlines() if line.startswith(">"))
    (tmp_path / "b.pairs.tsv").write_text(f"drug_id\ttarget_id\tpkd\tfold\nextra1\tEXTRA\t6.5\t0\n")
    out = tmp_path / "merged"
    assert main(["affinity", "merge", "--drugs", str(drugs), str(tmp_path / "b.tsv"), "--targets", str(targets),
                 str(tmp_path / "b.fasta"), "--pairs", str(pairs), str(tmp_path / "b.pairs.tsv"), "--out", str(out)]) == 0
    merged = pd.read_csv(out / "pairs.tsv", sep="\t")
    assert len(merged) == len(pd.read_csv(pairs, sep="\t")) + 1 and "fold" in merged.columns
    assert ">EXTRA" in (out / "targets.fasta").read_text() and f">{first_target}" in (out / "targets.fasta").read_text()
    assert main(["affinity", "train", "--drugs", str(out / "drugs.tsv"), "--targets", str(out / "targets.fasta"),
                 "--pairs", str(out / "pairs.tsv"), "--preset", "test", "--epochs", "1", "--out", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    assert main(["affinity", "merge", "--drugs", str(drugs), "--targets", str(targets), str(tmp_path / "b.fasta"),
                 "--pairs", str(pairs), "--out", str(out)]) == 2
    assert "give one of each per source" in capsys.readouterr().err
    assert main(["affinity", "merge", "--drugs", str(drugs), "--targets", str(targets), "--pairs", str(pairs),
                 "--out", str(Path(pairs).parent)]) == 2
    assert "overwrite the input" in capsys.readouterr().err
