"""Training: metrics, class balance, a short run that learns, exact resume, fine-tuning checks, data parallel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from genoscreen.caller.configs import PRESETS
from genoscreen.caller.model import WEIGHTS, load_model
from genoscreen.caller.train import class_weights, genotype_metrics, train_and_evaluate
from genoscreen.common.config import override
from genoscreen.common.errors import InputError
from genoscreen.variants.pileup_config import PRESETS as PILEUPS
from tests.unit.caller.synthetic import make_examples_dir

ROOT = Path(__file__).resolve().parents[3]


def test_genotype_metrics_count_wrong_genotypes_as_fp_and_fn():
    labels = np.array([0, 1, 2, 1, 0, 2])
    called = np.array([0, 1, 1, 0, 1, 2])
    m = genotype_metrics(labels, called)
    # TP: idx1, idx5; FP: idx2 (wrong GT), idx4 (ref called het); FN: idx2, idx3
    assert (m["tp"], m["fp"], m["fn"]) == (2, 2, 2)
    assert m["f1"] == pytest.approx(0.5)
    assert m["confusion"][2][1] == 1


def test_class_weights_balance_the_loss():
    labels = np.array([0] * 80 + [1] * 15 + [2] * 5)
    w = class_weights(labels, True)
    counts = np.bincount(labels)
    assert w[2] > w[1] > w[0]
    assert (w * counts).sum() == pytest.approx(len(labels), rel=1e-5)  # mean weight 1 over the examples
    assert np.allclose(class_weights(labels, False), 1.0)


def test_short_training_learns_and_saves_the_best_epoch(trained_model):
    path, history = trained_model
    model, _, info = load_model(path)
    best = history["best_epoch"]
    assert info["training"]["best_epoch"] == best
    f1s = [e["val"]["val"]["f1"] for e in history["epochs"]]
    assert history["best_f1"] == max(f1s)
    assert max(f1s) > 0.8, f1s  # the synthetic signal is easy; chance is far below
    assert history["epochs"][-1]["train_loss"] < history["epochs"][0]["train_loss"]


def test_resume_after_interruption_matches(tmp_path, synthetic_sets, monkeypatch):
    """Kill training after epoch 1 (simulated), rerun the same command: it resumes and ends where a straight run ends."""
    import genoscreen.caller.train as train_mod

    train, _ = synthetic_sets
    config = override(PRESETS["test"], ["train.epochs=2"])
    train_and_evaluate(config, [train], tmp_path / "straight")

    real_save = train_mod._save_checkpoint
    calls = {"n": 0}

    def save_then_die(*args):
        real_save(*args)
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_mod, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate(config, [train], tmp_path / "resumed")
    monkeypatch.setattr(train_mod, "_save_checkpoint", real_save)
    history = train_and_evaluate(config, [train], tmp_path / "resumed")
    assert len(history["epochs"]) == 2
    assert (tmp_path / "straight" / WEIGHTS).read_bytes() == (tmp_path / "resumed" / WEIGHTS).read_bytes()
    # the checkpoint belongs to its examples and settings: other ones are refused, not silently resumed
    with pytest.raises(InputError, match="checkpoint was made for other examples or settings; pass --restart"):
        train_and_evaluate(config, [train, train], tmp_path / "resumed")
    with pytest.raises(InputError, match="--restart"):
        train_and_evaluate(override(PRESETS["test"], ["train.epochs=3"]), [train], tmp_path / "resumed")
    history = train_and_evaluate(override(PRESETS["test"], ["train.epochs=1"]), [train, train], tmp_path / "resumed",
                                 resume=False)
    assert len(history["epochs"]) == 1


def test_init_refuses_examples_of_another_shape(tmp_path, trained_model):
    path, _ = trained_model
    other = make_examples_dir(tmp_path / "big", PILEUPS["default"], n=8)
    with pytest.raises(InputError, match="pileup"):
        train_and_evaluate(PRESETS["test"], [other], tmp_path / "ft", init=path)


def test_unlabelled_examples_are_refused(tmp_path, test_pileup):
    folder = make_examples_dir(tmp_path / "unlab", test_pileup, n=8, labelled=False)
    with pytest.raises(InputError, match="no labelled examples"):
        train_and_evaluate(PRESETS["test"], [folder], tmp_path / "m")


_DP_SCRIPT = textwrap.dedent("""
    import sys, json
    from pathlib import Path
    import jax
    sys.path.insert(0, {root!r})
    from genoscreen.caller.configs import PRESETS
    from genoscreen.caller.train import train_and_evaluate
    from genoscreen.common.config import override
    from genoscreen.common.errors import InputError
    out = Path(sys.argv[1])
    train_and_evaluate(override(PRESETS["test"], ["train.epochs=1"]), [sys.argv[2]], out, [sys.argv[3]])
    err = ""
    try:
        train_and_evaluate(override(PRESETS["test"], ["train.epochs=1", "train.batch_size=6"]), [sys.argv[2]],
                           out.with_name("bad"))
    except InputError as e:
        err = str(e)
    json.dump({{"devices": len(jax.devices()), "error": err}}, open(out.with_name(out.name + ".json"), "w"))
""")


def _train_in_subprocess(tmp_path, name, devices, train, val):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    script = tmp_path / "dp.py"
    script.write_text(_DP_SCRIPT.format(root=str(ROOT)))
    out = tmp_path / name
    subprocess.run([sys.executable, str(script), str(out), str(train), str(val)], env=env, check=True,
                   capture_output=True, text=True, timeout=600)
    return out, json.loads(out.with_name(name + ".json").read_text())


def test_data_parallel_on_four_devices_matches_one(tmp_path, synthetic_sets):
    train, val = synthetic_sets
    one, info1 = _train_in_subprocess(tmp_path, "one", 1, train, val)
    four, info4 = _train_in_subprocess(tmp_path, "four", 4, train, val)
    assert (info1["devices"], info4["devices"]) == (1, 4)
    assert "multiple of the 4 devices" in info4["error"]
    m1, _, meta1 = load_model(one)
    m4, _, meta4 = load_model(four)
    from flax import nnx
    import jax

    leaves1 = jax.tree.leaves(nnx.state(m1, nnx.Param))
    leaves4 = jax.tree.leaves(nnx.state(m4, nnx.Param))
    for a, b in zip(leaves1, leaves4):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=2e-4, rtol=2e-3)
    assert meta4["training"]["devices"] == 4


def test_select_on_must_name_a_validation_folder(tmp_path, synthetic_sets):
    train, val = synthetic_sets
    with pytest.raises(InputError, match="--select-on nope"):
        train_and_evaluate(PRESETS["test"], [train], tmp_path / "m", [val], select_on="nope")
    assert not (tmp_path / "m").exists()
