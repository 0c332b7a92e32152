"""Model directories: round trip, and clear errors for corrupt or mismatched contents."""

import json

import numpy as np
import pytest

from genoscreen.affinity.checkpoint import load_model, save_model
from genoscreen.affinity.configs import get_preset
from genoscreen.affinity.model import build_model
from genoscreen.common.errors import InputError


@pytest.fixture
def model_dir(tmp_path):
    config = get_preset("test")
    model = build_model(config, seed=1)
    save_model(model, config, tmp_path / "m", training={"epochs_run": 0})
    return tmp_path / "m", model


def test_round_trip(model_dir):
    path, model = model_dir
    assert sorted(p.name for p in path.iterdir()) == ["MODEL_CARD.md", "config.json", "weights.safetensors"]
    restored, config = load_model(path)
    assert config == get_preset("test")
    rng = np.random.default_rng(0)
    drugs = rng.integers(1, 65, (3, 64)).astype(np.int32)
    targets = rng.integers(1, 26, (3, 256)).astype(np.int32)
    np.testing.assert_array_equal(model(drugs, targets), restored(drugs, targets))


def test_corrupt_weights(model_dir):
    path, _ = model_dir
    (path / "weights.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="weights.safetensors"):
        load_model(path)


def test_truncated_weights(model_dir):
    path, _ = model_dir
    data = (path / "weights.safetensors").read_bytes()
    (path / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="weights.safetensors"):
        load_model(path)


def test_config_mismatch(model_dir):
    path, _ = model_dir
    meta = json.loads((path / "config.json").read_text())
    meta["config"]["kernel_target"] = 12
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="has shape .* config.json implies"):
        load_model(path)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: (p / "config.json").unlink(), "config.json: missing"),
        (lambda p: (p / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda p: (p / "weights.safetensors").unlink(), "weights.safetensors: missing"),
        (lambda p: (p / "config.json").write_text(json.dumps({"format": "other"})), "not a genoscreen-deepdta"),
    ],
)
def test_broken_dirs(model_dir, mutate, message):
    path, _ = model_dir
    mutate(path)
    with pytest.raises(InputError, match=message):
        load_model(path)


def test_missing_dir(tmp_path):
    with pytest.raises(InputError, match="model directory not found"):
        load_model(tmp_path / "nope")


def _drop_checksum(path):
    meta = json.loads((path / "config.json").read_text())
    del meta["weights_sha256"]  # as in directories written before the checksum existed
    (path / "config.json").write_text(json.dumps(meta))


def test_corrupt_weights_without_checksum(model_dir):
    path, _ = model_dir
    _drop_checksum(path)
    assert load_model(path)[1] == get_preset("test")
    (path / "weights.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="weights.safetensors: cannot be decoded"):
        load_model(path)


def test_weights_from_another_save(model_dir, tmp_path):
    # a save cut short between the two files: new weights (same shapes), old config.json
    path, _ = model_dir
    config = get_preset("test")
    save_model(build_model(config, seed=2), config, tmp_path / "other")
    (path / "weights.safetensors").write_bytes((tmp_path / "other" / "weights.safetensors").read_bytes())
    with pytest.raises(InputError, match="checksum differs"):
        load_model(path)


@pytest.mark.parametrize("field, value", [("filters", [32, 64]), ("dense", "wide"), ("embed_dim", -3), ("dropout", "x")])
def test_config_values_checked(model_dir, field, value):
    path, _ = model_dir
    meta = json.loads((path / "config.json").read_text())
    meta["config"][field] = value
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=f"config.json: {field}=.*corrupt"):
        load_model(path)


def test_train_state_is_named_leaves_with_a_checksum(tmp_path):
    """The resumable training state: every leaf under its name (params, optimiser moments, key), restored by name;
    a changed byte is refused by the checksum."""
    import jax
    from flax import nnx
    from safetensors import safe_open

    from genoscreen.affinity.checkpoint import load_train_state, save_train_state
    from genoscreen.affinity.optim import make_optimizer

    model = build_model(get_preset("test"), 0)
    _, params = nnx.split(model, nnx.Param)
    state = {"params": params, "opt": make_optimizer(1e-3, 10, 0.9).init(params), "key": jax.random.PRNGKey(1)}
    path = tmp_path / "state.safetensors"
    save_train_state(path, state, {"epoch": 3})
    with safe_open(str(path), framework="np") as handle:
        names = set(handle.keys())
    assert "params/dense1/kernel/value" in names and "opt/0/0/mu/dense1/kernel/value" in names and "key" in names
    restored, meta = load_train_state(path, state)
    assert meta == {"epoch": 3}
    for a, b in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(restored)):
        np.testing.assert_array_equal(a, b)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="checkpoint cannot be read .*checksum"):
        load_train_state(path, state)
