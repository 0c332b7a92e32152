"""Calibrated genotype probabilities: the fit, its application in the Predictor, model.json, the CLI and the
reliability table shared with bench/calibration.py."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from genoscreen.caller import calibration as cal
from genoscreen.caller.model_dir import WEIGHTS, set_model_info
from genoscreen.caller.predictor import load_predictor
from genoscreen.caller import calibrate
from genoscreen.common.errors import InputError
from tests.unit.caller.synthetic import make_examples_dir

ROOT = Path(__file__).resolve().parents[3]


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sample(n=20_000, seed=0, bias=(0.0, 0.0, 0.0)):
    """(true logits, labels drawn from softmax(logits + bias))."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, 3))
    true = _softmax(logits + np.asarray(bias))
    labels = (rng.random(n)[:, None] > np.cumsum(true, axis=1)).sum(axis=1)
    return logits, labels


def test_fit_recovers_a_known_temperature():
    logits, labels = _sample()
    overconfident = _softmax(2.5 * logits).astype(np.float32)  # a network twice and a half too sure of itself
    fitted = cal.fit(overconfident, labels, "temperature")
    assert fitted.temperature == pytest.approx(2.5, rel=0.05)
    assert fitted.bias == (0.0, 0.0, 0.0)
    assert cal.nll(fitted.apply(overconfident), labels) < cal.nll(overconfident, labels)


def test_fit_with_bias_recovers_a_known_bias():
    logits, labels = _sample(bias=(0.0, 1.0, -0.5), seed=1)
    fitted = cal.fit(_softmax(logits), labels, "temperature+bias")
    assert fitted.temperature == pytest.approx(1.0, rel=0.05)
    np.testing.assert_allclose(fitted.bias, (0.0, 1.0, -0.5), atol=0.1)


def test_fit_with_mix_recovers_an_error_floor():
    """Labels that are right with the model's probability except for a fixed 1% drawn at random: the fit finds the
    mix (and the temperature), caps GQ near -10 log10(2m/3), keeps every call; the entry round-trips."""
    logits, labels = _sample(n=40_000, seed=3)
    rng = np.random.default_rng(4)
    noisy = np.where(rng.random(len(labels)) < 0.01, rng.integers(0, 3, len(labels)), labels)
    probs = _softmax(logits).astype(np.float32)
    fitted = cal.fit(probs, noisy, "temperature+mix")
    assert fitted.method == "temperature+mix" and fitted.mix == pytest.approx(0.01, rel=0.3)
    assert fitted.temperature == pytest.approx(1.0, rel=0.1)
    out = fitted.apply(probs)
    np.testing.assert_array_equal(out.argmax(axis=1), probs.argmax(axis=1))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    assert cal.gq(out).max() <= round(-10 * np.log10(2 * fitted.mix / 3)) + 1
    assert cal.nll(out, noisy) < cal.nll(cal.fit(probs, noisy, "temperature").apply(probs), noisy)
    entry = {"method": "temperature+mix", "temperature": fitted.temperature, "mix": fitted.mix}
    assert cal.Calibration.from_entry(entry, "m/model.json") == fitted
    assert "mix=" in fitted.describe()


def test_temperature_keeps_calls_and_sums_to_one():
    probs = _softmax(np.random.default_rng(2).normal(0, 4, (500, 3))).astype(np.float32)
    for temperature in (0.3, 1.0, 4.0):
        out = cal.Calibration("temperature", temperature).apply(probs)
        assert out.dtype == np.float32 and out.shape == probs.shape
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
        np.testing.assert_array_equal(out.argmax(axis=1), probs.argmax(axis=1))
    np.testing.assert_allclose(cal.Calibration().apply(probs), probs, atol=1e-6)
    sharper = cal.Calibration("temperature", 0.5).apply(probs)
    assert np.all(sharper.max(axis=1) >= probs.max(axis=1) - 1e-6)


@pytest.mark.parametrize("entry, why", [
    ("yes", "expected an object"),
    ({"method": "isotonic", "temperature": 1.0}, "method 'isotonic'"),
    ({"method": "temperature"}, "missing 'temperature'"),
    ({"method": "temperature", "temperature": -1}, "positive"),
    ({"method": "temperature", "temperature": "hot"}, "could not convert"),
    ({"method": "temperature+bias", "temperature": 1.0, "bias": [0, 1]}, "3 finite numbers"),
    ({"method": "temperature", "temperature": 1.0, "bias": [0, 1, 0]}, "non-zero bias"),
    ({"method": "temperature+mix", "temperature": 1.0, "mix": 1.5}, "mix 1.5 must be in [0, 1)"),
    ({"method": "temperature", "temperature": 1.0, "mix": 0.01}, "0 unless the method"),
])
def test_malformed_entry_is_one_input_error(entry, why):
    with pytest.raises(InputError, match="model.json: malformed \"calibration\" entry") as err:
        cal.Calibration.from_entry(entry, "m/model.json")
    assert why in str(err.value) and "calibrate-caller" in str(err.value)
    assert "\n" not in str(err.value)


def test_reliability_table_counts_and_bins():
    n = 1000
    probs = np.tile([0.99, 0.005, 0.005], (n, 1))  # GQ 20
    labels = np.zeros(n, int)
    labels[:10] = 1  # 10 errors in 1000: observed Phred 20
    clean = np.tile([0.0005, 0.9990, 0.0005], (200, 1))  # GQ 30, no errors
    rows = cal.reliability_table(np.vstack([probs, clean]), np.concatenate([labels, np.ones(200, int)]))
    by_bin = {r["bin"]: r for r in rows}
    assert set(by_bin) == {"20-24", "30-34"}
    r = by_bin["20-24"]
    assert (r["n"], r["errors"], r["stated"], r["observed"], r["within"], r["ci_ok"]) == (1000, 10, 20, 20, True, True)
    z = by_bin["30-34"]
    assert z["zero_errors"] and z["observed"] == pytest.approx(-10 * np.log10(0.5 / 200), abs=0.01)
    assert z["ci"][1] is None and z["ci_ok"]
    qual = cal.reliability_table(probs, labels, "QUAL")  # QUAL 0: every label-0 example is an "error"
    assert qual[0]["bin"] == "0-4" and qual[0]["errors"] == 990
    assert len(cal.format_table(rows, markdown=True)) == 2 + len(rows)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A saved test-preset model (untrained) and a labelled examples folder."""
    from genoscreen.caller.configs import PRESETS
    from genoscreen.caller.model import build_model, save_model
    from genoscreen.variants.pileup_config import PRESETS as PILEUPS

    root = tmp_path_factory.mktemp("calibration")
    pileup = PILEUPS["test"]
    model = save_model(build_model(PRESETS["test"].model, pileup, seed=5), pileup, root / "model", {"note": "x"})
    examples = make_examples_dir(root / "ex_val", pileup, n=64, seed=7)
    return model, examples


@pytest.fixture
def model_dir(tiny, tmp_path):
    model, examples = tiny
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    return copy, examples


def _tensors(examples):
    from genoscreen.caller.data import iter_shards

    return np.concatenate([shard["tensors"] for _, shard in iter_shards(examples)])


def test_model_without_calibration_predicts_as_before(model_dir):
    path, examples = model_dir
    x = _tensors(examples)  # one inference batch (the export's shape)
    predictor = load_predictor(path)
    assert predictor.calibration is None
    np.testing.assert_array_equal(predictor(x), np.asarray(predictor.apply(x)))
    np.testing.assert_array_equal(predictor(x), load_predictor(path, calibrated=False)(x))


def test_calibration_entry_is_applied_and_other_keys_kept(model_dir):
    path, examples = model_dir
    x = _tensors(examples)
    before = json.loads((path / "model.json").read_text())
    weights = hashlib.sha256((path / WEIGHTS).read_bytes()).hexdigest()
    raw = load_predictor(path)(x)
    set_model_info(path, "calibration", {"method": "temperature", "temperature": 0.5, "bias": [0, 0, 0]})
    after = json.loads((path / "model.json").read_text())
    assert {k: v for k, v in after.items() if k != "calibration"} == before
    assert hashlib.sha256((path / WEIGHTS).read_bytes()).hexdigest() == weights
    predictor = load_predictor(path)
    np.testing.assert_allclose(predictor(x), cal.Calibration("temperature", 0.5).apply(raw), atol=1e-6)
    np.testing.assert_array_equal(load_predictor(path, calibrated=False)(x), raw)


def test_malformed_or_stale_entry_in_model_json_is_refused(model_dir):
    path, _ = model_dir
    set_model_info(path, "calibration", {"method": "temperature", "temperature": 0})
    with pytest.raises(InputError, match=r"model\.json: malformed \"calibration\" entry .*calibrate-caller"):
        load_predictor(path)
    set_model_info(path, "calibration", {"method": "temperature", "temperature": 1.2, "weights_sha256": "0" * 64})
    with pytest.raises(InputError, match="fitted for other weights"):
        load_predictor(path)


def test_calibrate_caller_cli_writes_the_entry(model_dir, capsys):
    from genoscreen.cli import main

    path, examples = model_dir
    before = json.loads((path / "model.json").read_text())
    set_model_info(path, "calibration", {"method": "temperature", "temperature": "broken"})  # a refit replaces even a bad one
    assert main(["calibrate-caller", "--model", str(path), "--examples", str(examples)]) == 0
    info = json.loads((path / "model.json").read_text())
    entry = info.pop("calibration")
    assert info == before
    assert entry["method"] == "temperature" and entry["fitted_on"] == [str(examples)] and entry["n_examples"] == 64
    assert entry["nll_after"] <= entry["nll_before"] + 1e-6 and entry["temperature"] > 0
    assert load_predictor(path).calibration == cal.Calibration("temperature", entry["temperature"])
    assert main(["calibrate-caller", "--model", str(path), "--examples", str(examples),
                 "--method", "temperature+bias"]) == 0
    assert json.loads((path / "model.json").read_text())["calibration"]["method"] == "temperature+bias"
    assert main(["calibrate-caller", "--model", str(path), "--examples", str(path / "nowhere")]) == 2
    assert "nowhere: no pileup_config.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["calibrate-caller", "--help"])
    assert exit_.value.code == 0
    assert "Example: genoscreen calibrate-caller" in capsys.readouterr().out


def test_bench_script_writes_table_and_plot(model_dir, tmp_path, capsys):
    path, examples = model_dir
    spec = importlib.util.spec_from_file_location("bench_calibration", ROOT / "bench" / "calibration.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    prefix = tmp_path / "out" / "rel"
    assert bench.main(["--model", str(path), "--examples", str(examples), "--out-prefix", str(prefix), "--raw"]) == 0
    out = capsys.readouterr().out
    assert f"scored folders: {examples}" in out and "GQ bin" in out
    report = json.loads(Path(f"{prefix}.json").read_text())
    assert report["raw"] and report["pooled"]["n"] == 64
    assert Path(f"{prefix}.png").stat().st_size > 0 and Path(f"{prefix}.tsv").read_text().startswith("kind\tbin")
    assert bench.main(["--model", str(path), "--examples", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_model_card_lines_from_model_json_and_bench_json(model_dir, tmp_path):
    path, examples = model_dir
    info = json.loads((path / "model.json").read_text())
    assert "No calibration" in cal.calibration_card_lines(info)[0]
    assert calibrate.calibrate_model(path, [examples])["entry"]["n_examples"] == 64
    spec = importlib.util.spec_from_file_location("bench_calibration", ROOT / "bench" / "calibration.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    prefix = tmp_path / "rel"
    assert bench.main(["--model", str(path), "--examples", str(examples), "--out-prefix", str(prefix)]) == 0
    report = json.loads(Path(f"{prefix}.json").read_text())
    assert report["in_sample"] == [str(examples)] and report["pooled_raw"]["n"] == 64
    info = json.loads((path / "model.json").read_text())
    text = "\n".join(cal.calibration_card_lines(info, report))
    assert "temperature T=" in text and "IN-SAMPLE" in text and "| GQ bin |" in text and "uncalibrated" in text
