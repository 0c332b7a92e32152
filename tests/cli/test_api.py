"""The Python API (`from genoscreen import call, screen, predict`): the functions the CLI runs, imported lazily."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import genoscreen
from genoscreen.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "screening"))
from screening_helpers import random_model_dir  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "affinity_tiny", Path(__file__).resolve().parents[1] / "unit" / "affinity" / "affinity_tiny.py")
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)


def test_import_genoscreen_does_not_import_jax():
    code = "import sys, genoscreen; print('jax' in sys.modules, 'genoscreen.caller' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_api_is_the_library_functions():
    from genoscreen.affinity.predict import predict_pairs
    from genoscreen.caller.pipeline import call
    from genoscreen.screening.screen import screen

    assert (genoscreen.call, genoscreen.screen, genoscreen.predict) == (call, screen, predict_pairs)
    assert {"call", "screen", "predict"} <= set(dir(genoscreen))
    with pytest.raises(AttributeError):
        genoscreen.no_such_thing


def _runs(monkeypatch, module, name, argv) -> bool:
    """Whether `genoscreen ARGV` runs module.name (replaced by a recorder)."""
    seen = []
    monkeypatch.setattr(module, name, lambda *a, **k: seen.append((a, k)) or {})
    main([str(a) for a in argv])
    return bool(seen)


def test_the_cli_runs_call_and_screen(monkeypatch, tmp_path):
    import genoscreen.caller.pipeline as pipeline
    import genoscreen.screening.screen as screening

    (tmp_path / "reads.bam").write_bytes(b"")
    (tmp_path / "ref.fa").write_text(">c\nACGT\n")
    assert _runs(monkeypatch, pipeline, "call", ["call", "--bam", tmp_path / "reads.bam", "--ref",
                                                 tmp_path / "ref.fa", "--out", tmp_path / "c.vcf.gz"])
    assert _runs(monkeypatch, screening, "screen", ["screen", "--model", "dta-davis", "--panel", "davis",
                                                    "--compounds", tmp_path / "l.smi", "--out", tmp_path / "h.tsv"])


@pytest.fixture(scope="module")
def affinity_inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    return random_model_dir(root / "model", seed=5), *_tiny.write_tiny_dta(root / "in", invalid_smiles=True)


def test_predict_returns_what_affinity_predict_writes(affinity_inputs, tmp_path):
    model, drugs, targets, pairs = affinity_inputs
    assert main(["affinity", "predict", "--model", str(model), "--drugs", str(drugs), "--targets", str(targets),
                 "--pairs", str(pairs), "--out", str(tmp_path / "cli.tsv")]) == 0
    table = genoscreen.predict(model, drugs, targets, pairs, tmp_path / "api.tsv")
    assert list(table.columns) == ["drug_id", "target_id", "prediction"]
    written = pd.read_csv(tmp_path / "cli.tsv", sep="\t")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "api.tsv", sep="\t"), written)
    pd.testing.assert_frame_equal(table.round(5), written, check_dtype=False)
    assert (tmp_path / "api.tsv.invalid_smiles.tsv").read_text() == (tmp_path / "cli.tsv.invalid_smiles.tsv").read_text()
    pd.testing.assert_frame_equal(genoscreen.predict(model, drugs, targets, pairs), table)  # no file without out
    assert (tmp_path / "api.tsv.truncated.tsv").read_text() == (tmp_path / "cli.tsv.truncated.tsv").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.tsv", "api.tsv.invalid_smiles.tsv",
                                                          "api.tsv.truncated.tsv", "cli.tsv",
                                                          "cli.tsv.invalid_smiles.tsv", "cli.tsv.truncated.tsv"]


def test_the_cli_runs_predict(monkeypatch, affinity_inputs, tmp_path):
    import genoscreen.affinity.predict as predict

    model, drugs, targets, pairs = affinity_inputs
    assert _runs(monkeypatch, predict, "predict_pairs", ["affinity", "predict", "--model", model, "--drugs", drugs,
                                                         "--targets", targets, "--pairs", pairs,
                                                         "--out", tmp_path / "p.tsv"])
