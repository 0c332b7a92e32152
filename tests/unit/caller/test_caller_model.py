"""The CNN: pinned size and shapes, batch independence, and the safe model directory with its errors."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from flax import nnx

from genoscreen.caller.call_variants import predict
from genoscreen.caller.configs import PRESETS
from genoscreen.caller.model import WEIGHTS, abstract_model, build_model, predict_fn, count_params, load_model, save_model
from genoscreen.common.errors import InputError
from genoscreen.variants.pileup_config import PRESETS as PILEUPS


@pytest.mark.parametrize("preset, params, shape", [("default", 190_067, (64, 33, 10)), ("test", 3_923, (20, 15, 10))])
def test_parameter_count_and_input_shape(preset, params, shape):
    config = PRESETS[preset]
    pileup = PILEUPS[config.pileup_preset]
    model = abstract_model(config.model, pileup)
    assert pileup.shape == shape
    assert count_params(model) == params
    logits = nnx.eval_shape(lambda m, x: m(x), model, jax.ShapeDtypeStruct((2, *shape), np.uint8))
    assert logits.shape == (2, 3)


def test_each_example_is_independent_of_its_batch(test_pileup):
    """LayerNorm, no batch statistics: padding a batch cannot change a call."""
    model = build_model(PRESETS["test"].model, test_pileup)
    x = np.random.default_rng(0).integers(0, 255, (5, *test_pileup.shape), dtype=np.uint8)
    alone = predict(predict_fn(model), x[:1], batch_size=1)
    padded = predict(predict_fn(model), x[:1], batch_size=8)
    np.testing.assert_allclose(alone, padded, atol=1e-6)


@pytest.fixture
def saved(tmp_path, test_pileup):
    model = build_model(PRESETS["test"].model, test_pileup, seed=3)
    return model, save_model(model, test_pileup, tmp_path / "m", {"note": "x"})


def test_save_load_round_trip(saved, test_pileup):
    model, path = saved
    loaded, pileup, info = load_model(path)
    assert pileup == test_pileup and info["note"] == "x"
    x = np.random.default_rng(1).integers(0, 255, (3, *test_pileup.shape), dtype=np.uint8)
    np.testing.assert_array_equal(predict(predict_fn(model), x, 4), predict(predict_fn(loaded), x, 4))
    assert not any(p.suffix in {".pkl", ".pickle"} for p in path.iterdir())


def test_corrupt_weights_are_a_clear_error(saved):
    _, path = saved
    (path / WEIGHTS).write_bytes(b"\x00not msgpack at all")
    with pytest.raises(InputError, match="corrupt weights"):
        load_model(path)


def test_weights_of_another_model_are_refused(saved, tmp_path, test_pileup):
    _, path = saved
    other = build_model(PRESETS["default"].model, test_pileup)
    save_model(other, test_pileup, tmp_path / "other")
    (path / WEIGHTS).write_bytes((tmp_path / "other" / WEIGHTS).read_bytes())
    with pytest.raises(InputError, match="do not match"):
        load_model(path)


def test_missing_or_foreign_model_json(saved, tmp_path):
    with pytest.raises(InputError, match="not a caller model directory"):
        load_model(tmp_path / "nowhere")
    _, path = saved
    (path / "model.json").write_text(json.dumps({"format": "something-else/9"}))
    with pytest.raises(InputError, match="not a valid caller model"):
        load_model(path)


def test_exported_forward_matches_flax_and_falls_back(saved, test_pileup, caplog):
    """`call` loads the jax.export forward pass (no Flax); it must give the Flax model's numbers."""
    from genoscreen.caller.model_dir import EXPORT
    from genoscreen.caller.predictor import load_predictor

    model, path = saved
    x = np.random.default_rng(2).integers(0, 255, (5, *test_pileup.shape), dtype=np.uint8)
    fast = load_predictor(path)
    assert fast.how == "export" and fast.pileup == test_pileup
    np.testing.assert_allclose(predict(fast, x), predict(predict_fn(model), x), atol=1e-6)
    (path / EXPORT).unlink()
    slow = load_predictor(path)
    assert slow.how == "flax"
    np.testing.assert_allclose(predict(slow, x), predict(predict_fn(model), x), atol=1e-6)


def test_export_of_other_weights_is_not_used(saved, tmp_path, test_pileup):
    from genoscreen.caller.predictor import load_predictor

    _, path = saved
    other = save_model(build_model(PRESETS["test"].model, test_pileup, seed=9), test_pileup, tmp_path / "o")
    (path / WEIGHTS).write_bytes((other / WEIGHTS).read_bytes())  # weights swapped behind the export's back
    assert load_predictor(path).how == "flax"


def test_export_and_pileup_config_that_disagree_are_a_clear_error(saved):
    """An edited pileup_config.json (or a non-object `export` entry) is one InputError, not a JAX shape traceback."""
    from genoscreen.caller.predictor import load_predictor

    _, path = saved
    config = json.loads((path / "pileup_config.json").read_text())
    (path / "pileup_config.json").write_text(json.dumps({**config, "height": config["height"] + 10}))
    with pytest.raises(InputError, match="pileup_config.json gives pileups of shape"):
        load_predictor(path)
    (path / "pileup_config.json").write_text(json.dumps(config))
    info = json.loads((path / "model.json").read_text())
    (path / "model.json").write_text(json.dumps({**info, "export": "yes"}))
    with pytest.raises(InputError, match="'export' must be an object"):
        load_predictor(path)
