"""Training: block batches cover every pair once within the caps; deterministic; resumable; learns."""

import json

import numpy as np
import pandas as pd
import pytest

from genoscreen.affinity.batching import DRUG_SLOT_BUCKET, batch_at, plan_epoch
from genoscreen.affinity.configs import get_preset
from genoscreen.affinity.cv import cross_validate, learning_curve
from genoscreen.affinity.data import AffinityData, fold_indices, prepare_data
from genoscreen.affinity.fit import fit
from genoscreen.affinity.inference import predict
from genoscreen.affinity.io.compounds import read_compounds
from genoscreen.affinity.io.pairs import read_pairs
from genoscreen.affinity.io.proteins import read_targets
from genoscreen.affinity.model import build_model
from genoscreen.affinity.optim import weight_ema, weights_to_use
from genoscreen.affinity.step import masked_mse


@pytest.fixture
def data(tiny_dta):
    drugs, targets, pairs = tiny_dta
    config = get_preset("test")
    ids, smiles, _ = read_compounds(drugs)
    return config, prepare_data(ids, smiles, read_targets(targets), read_pairs(pairs), config)


def _pairs_of(plan):
    mask = plan["mask"] > 0
    d = np.take_along_axis(plan["drugs"], plan["pd"], 1)[mask]
    t = np.take_along_axis(plan["targets"], plan["pt"], 1)[mask]
    return sorted(zip(d.tolist(), t.tolist(), plan["y"][mask].tolist()))


@pytest.mark.parametrize("block_order", ["drug", "random"])
@pytest.mark.parametrize("length_bucket", [0, 4])
@pytest.mark.parametrize("mode", ["block", "pair"])
def test_plan_covers_each_pair_once(mode, length_bucket, block_order):
    rng = np.random.default_rng(0)
    n_drugs, n_targets = 300, 40
    keep = rng.random((n_drugs, n_targets)) < 0.3  # sparse like KIBA
    d, t = np.nonzero(keep)
    target_tokens = np.zeros((n_targets, 16), np.int32)
    lengths = rng.integers(1, 17, n_targets)
    target_tokens[np.arange(16) < lengths[:, None]] = 5
    data = AffinityData([], [], np.zeros((n_drugs, 4), np.int32), target_tokens,
                          d.astype(np.int32), t.astype(np.int32), rng.normal(size=len(d)).astype(np.float32), None)
    config = get_preset("kiba", length_bucket=length_bucket, block_order=block_order)
    plan = plan_epoch(data, config, np.random.default_rng(1), mode)
    expected = sorted(zip(d.tolist(), t.tolist(), data.labels.tolist()))
    assert _pairs_of(plan) == expected
    # every batch is padded to cover its longest protein, in whole buckets (or the full width when off)
    live = plan["mask"] > 0
    longest = np.where(live, lengths[np.take_along_axis(plan["targets"], plan["pt"], 1)], 0).max(axis=1)
    assert (plan["target_len"] >= longest).all()
    if length_bucket:
        assert set(plan["target_len"].tolist()) <= {4, 8, 12, 16}
        if mode == "block":  # blocks of similar length: padding is saved
            assert plan["target_len"].mean() < 14
    else:
        assert (plan["target_len"] == 16).all()
    if mode == "block":
        assert plan["drugs"].shape[1] == config.max_batch_drugs and plan["targets"].shape[1] == config.max_batch_targets
        # a step encodes only the drug slots in use, in whole buckets
        used = np.array([len(np.unique(p[m > 0])) for p, m in zip(plan["pd"], plan["mask"])])
        n_drugs = plan["n_drugs"]
        assert (n_drugs >= used).all() and (n_drugs - used < DRUG_SLOT_BUCKET).all()
        assert ((n_drugs % DRUG_SLOT_BUCKET == 0) | (n_drugs == config.max_batch_drugs)).all()
        assert (batch_at(plan, 0)[0]["drugs"].shape == (n_drugs[0],))
        n_encoded = (plan["targets"] > 0).sum() + (plan["drugs"] > 0).sum()
        if block_order == "drug":  # far fewer sequences encoded than pairs scored (random order: see below)
            assert plan["mask"].sum() > 1.5 * n_encoded
        assert plan["mask"].sum(1).mean() > 0.8 * config.batch_size


def test_random_block_order_mixes_drugs_at_the_same_padded_cost():
    """A dense Davis-like grid: grouped by drug a 256-pair batch of 16 targets holds 16 drugs; in random order it holds
    most of the drugs the block has, in the same padded slots, and still every pair once."""
    n_drugs, n_targets = 68, 64
    d, t = (a.ravel() for a in np.meshgrid(np.arange(n_drugs), np.arange(n_targets), indexing="ij"))
    data = AffinityData([], [], np.zeros((n_drugs, 4), np.int32), np.ones((n_targets, 16), np.int32),
                          d.astype(np.int32), t.astype(np.int32), np.arange(len(d), dtype=np.float32), None)
    distinct = {}
    for order in ("drug", "random"):
        config = get_preset("davis", block_order=order)
        plan = plan_epoch(data, config, np.random.default_rng(0), "block")
        assert sorted(plan["y"][plan["mask"] > 0].tolist()) == list(range(len(d)))
        assert plan["drugs"].shape[1] == config.max_batch_drugs
        full = plan["mask"].sum(1) == config.batch_size
        drugs_used = np.array([len(np.unique(p[m > 0])) for p, m in zip(plan["pd"], plan["mask"])])
        distinct[order] = drugs_used[full].mean()
        assert ((plan["targets"] > 0).sum(1) <= 16).all()
    assert distinct["drug"] == 16
    assert distinct["random"] > 50


def test_cut_padding_gives_the_same_loss_and_gradients(data):
    """Training on a batch cut to its bucketed protein length and its drug slots in use is the same computation as
    at the full width and all the padded drug slots."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    config, d = data
    config = config.replace(length_bucket=32, block_targets=1, max_batch_targets=1)
    plan = plan_epoch(d, config, np.random.default_rng(0), "block")
    b = int(np.argmin(plan["target_len"]))
    batch, target_len = batch_at(plan, b)
    assert target_len < d.target_tokens.shape[1]
    graphdef, params = nnx.split(build_model(config, 0), nnx.Param)
    tables = jnp.asarray(d.drug_tokens), jnp.asarray(d.target_tokens)
    key = jax.random.PRNGKey(3)
    grad = jax.value_and_grad(masked_mse)
    assert len(batch["drugs"]) < config.max_batch_drugs
    cut = grad(params, graphdef, *tables, batch, key, target_len)
    full = grad(params, graphdef, *tables, {**batch, "drugs": plan["drugs"][b]}, key, d.target_tokens.shape[1])
    np.testing.assert_allclose(cut[0], full[0], rtol=1e-5)
    for a, f in zip(jax.tree_util.tree_leaves(cut[1]), jax.tree_util.tree_leaves(full[1])):
        np.testing.assert_allclose(a, f, rtol=1e-4, atol=1e-6)


def test_fit_deterministic_resumable_and_learns(data, tmp_path):
    config, d = data
    idx = np.arange(d.n_pairs)
    a = fit(config, d, idx, epochs=3)
    b = fit(config, d, idx, epochs=3)
    np.testing.assert_array_equal(predict(a.model, d), predict(b.model, d))
    assert a.history[-1]["train_mse"] < a.history[0]["train_mse"]
    # interrupted after 2 epochs, then resumed to 3: same weights as uninterrupted
    fit(config, d, idx, epochs=2, checkpoint_dir=tmp_path / "ck")
    c = fit(config, d, idx, epochs=3, checkpoint_dir=tmp_path / "ck")
    assert [h["epoch"] for h in c.history] == [1, 2, 3]
    assert (c.steps, c.pairs_scored) == (a.steps, a.pairs_scored) and a.pairs_scored == 3 * d.n_pairs
    np.testing.assert_allclose(predict(a.model, d), predict(c.model, d), rtol=1e-5, atol=1e-5)


def test_resume_from_a_checkpoint_written_before_a_config_field_existed(data, tmp_path):
    """A train state whose stored config lacks a newer field (here block_order) resumes with the field's default;
    a checkpoint of another config is still refused."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from genoscreen.affinity.checkpoint import TRAIN_STATE_FILE
    from genoscreen.common.errors import InputError

    config, d = data
    idx = np.arange(d.n_pairs)
    fit(config, d, idx, epochs=1, checkpoint_dir=tmp_path / "ck")
    path = tmp_path / "ck" / TRAIN_STATE_FILE
    with safe_open(str(path), framework="np") as handle:
        header = json.loads(handle.metadata()["genoscreen"])
        arrays = {name: handle.get_tensor(name) for name in handle.keys()}
    meta = json.loads(header["meta"])
    del meta["config"]["block_order"]
    header["meta"] = json.dumps(meta)
    save_file(arrays, str(path), metadata={"genoscreen": json.dumps(header)})
    resumed = fit(config, d, idx, epochs=2, checkpoint_dir=tmp_path / "ck")
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    with pytest.raises(InputError, match="another config"):
        fit(config.replace(block_order="random"), d, idx, epochs=3, checkpoint_dir=tmp_path / "ck")


def test_config_values_are_checked():
    from genoscreen.affinity.configs import AffinityConfig
    from genoscreen.common.config import override
    from genoscreen.common.errors import InputError

    with pytest.raises(InputError, match="block_order='grouped': choose drug or random"):
        get_preset("davis", block_order="grouped")
    with pytest.raises(InputError, match="batching='pairs': choose block or pair"):
        override(get_preset("davis"), ["batching=pairs"])
    data = get_preset("kiba").to_dict()
    data["block_order"] = "shuffled"
    with pytest.raises(InputError, match="block_order"):
        AffinityConfig.from_dict(data)


def test_early_stopping_keeps_best(data):
    config, d = data
    val = fold_indices(d, [4])
    r = fit(config.replace(learning_rate=0.05), d, fold_indices(d, [0, 1, 2, 3]), val_index=val,
              epochs=6, patience=1)
    best = min(h["val_mse"] for h in r.history)
    pred = predict(r.model, d.subset(val))
    assert np.mean((pred - d.labels[val]) ** 2) == pytest.approx(best, rel=1e-4)
    assert r.best_epoch == 1 + int(np.argmin([h["val_mse"] for h in r.history]))


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_cross_validate_table(data, ema_decay):
    config, d = data
    table, details = cross_validate(config.replace(ema_decay=ema_decay), d, folds=[0, 1], epochs=2, monitor_every=1)
    assert table["fold"].tolist() == ["0", "1", "mean", "sd"]
    assert {"ci", "mse", "pearson", "spearman", "rm2", "aupr"} <= set(table.columns)
    curve = learning_curve(details)
    assert curve["n_folds"].tolist() == [2, 2]
    assert {"mse_fold0", "ci_fold0", "mse_fold1", "ci_fold1"} <= set(curve.columns)
    # the last epoch's curve point is the model the table scores
    assert curve["ci_mean"].iloc[-1] == pytest.approx(table.set_index("fold").loc["mean", "ci"], rel=1e-6)
    if ema_decay:  # the curve of the raw weights is kept next to the average's, and differs from it
        assert not np.allclose(curve["mse_raw_mean"], curve["mse_mean"])
    else:
        assert "mse_raw_mean" not in curve.columns


def test_weight_ema_keeps_a_moving_average_of_the_weights():
    import jax.numpy as jnp
    import optax

    params = {"w": jnp.zeros(3)}
    tx = optax.chain(optax.sgd(1.0), weight_ema(0.5))
    state = tx.init(params)
    assert weights_to_use(params, optax.sgd(1.0).init(params)) is params  # no average kept: the weights themselves
    expected = np.zeros(3)
    for t in range(6):
        updates, state = tx.update({"w": -jnp.full(3, t + 1.0)}, state, params)
        params = optax.apply_updates(params, updates)
        decay = min(0.5, (1 + t) / (10 + t))
        expected = decay * expected + (1 - decay) * np.asarray(params["w"])
    np.testing.assert_allclose(weights_to_use(params, state)["w"], expected, rtol=1e-6)
    assert not np.allclose(expected, params["w"])


def test_fit_with_weight_ema_returns_the_average_and_resumes(data, tmp_path):
    config, d = data
    idx = np.arange(d.n_pairs)
    plain = fit(config, d, idx, epochs=3)
    averaged = fit(config.replace(ema_decay=0.9), d, idx, epochs=3)
    # same raw trajectory (same seed, same batches), but the model returned is the average
    assert averaged.history[-1]["train_mse"] == pytest.approx(plain.history[-1]["train_mse"], rel=1e-5)
    assert not np.allclose(predict(plain.model, d), predict(averaged.model, d), atol=1e-4)
    fit(config.replace(ema_decay=0.9), d, idx, epochs=2, checkpoint_dir=tmp_path / "ck")
    resumed = fit(config.replace(ema_decay=0.9), d, idx, epochs=3, checkpoint_dir=tmp_path / "ck")
    np.testing.assert_allclose(predict(averaged.model, d), predict(resumed.model, d), rtol=1e-5, atol=1e-5)
