"""Training: block batches cover every pair once within the caps; deterministic; resumable; learns."""

import numpy as np
import pandas as pd
import pytest

from genoscreen.affinity import train as T
from genoscreen.affinity.configs import get_preset
from genoscreen.affinity.data import read_compounds, read_pairs, read_targets


@pytest.fixture
def data(tiny_dta):
    drugs, targets, pairs = tiny_dta
    config = get_preset("test")
    ids, smiles, _ = read_compounds(drugs)
    return config, T.prepare_data(ids, smiles, read_targets(targets), read_pairs(pairs), config)


def _pairs_of(plan):
    mask = plan["mask"] > 0
    d = np.take_along_axis(plan["drugs"], plan["pd"], 1)[mask]
    t = np.take_along_axis(plan["targets"], plan["pt"], 1)[mask]
    return sorted(zip(d.tolist(), t.tolist(), plan["y"][mask].tolist()))


@pytest.mark.parametrize("mode", ["block", "pair"])
def test_plan_covers_each_pair_once(mode):
    rng = np.random.default_rng(0)
    n_drugs, n_targets = 300, 40
    keep = rng.random((n_drugs, n_targets)) < 0.3  # sparse like KIBA
    d, t = np.nonzero(keep)
    data = T.AffinityData([], [], np.zeros((n_drugs, 4), np.int32), np.zeros((n_targets, 4), np.int32),
                          d.astype(np.int32), t.astype(np.int32), rng.normal(size=len(d)).astype(np.float32), None)
    config = get_preset("kiba")
    plan = T.plan_epoch(data, config, np.random.default_rng(1), mode)
    expected = sorted(zip(d.tolist(), t.tolist(), data.labels.tolist()))
    assert _pairs_of(plan) == expected
    if mode == "block":
        assert plan["drugs"].shape[1] == config.max_batch_drugs and plan["targets"].shape[1] == config.max_batch_targets
        # far fewer sequences encoded than pairs scored
        n_encoded = (plan["targets"] > 0).sum() + (plan["drugs"] > 0).sum()
        assert plan["mask"].sum() > 1.5 * n_encoded
        assert plan["mask"].sum(1).mean() > 0.8 * config.batch_size


def test_fit_deterministic_resumable_and_learns(data, tmp_path):
    config, d = data
    idx = np.arange(d.n_pairs)
    a = T.fit(config, d, idx, epochs=3)
    b = T.fit(config, d, idx, epochs=3)
    np.testing.assert_array_equal(T.predict(a.model, d), T.predict(b.model, d))
    assert a.history[-1]["train_mse"] < a.history[0]["train_mse"]
    # interrupted after 2 epochs, then resumed to 3: same weights as uninterrupted
    T.fit(config, d, idx, epochs=2, checkpoint_dir=tmp_path / "ck")
    c = T.fit(config, d, idx, epochs=3, checkpoint_dir=tmp_path / "ck")
    assert [h["epoch"] for h in c.history] == [1, 2, 3]
    np.testing.assert_allclose(T.predict(a.model, d), T.predict(c.model, d), rtol=1e-5, atol=1e-5)


def test_early_stopping_keeps_best(data):
    config, d = data
    val = T.fold_indices(d, [4])
    r = T.fit(config.replace(learning_rate=0.05), d, T.fold_indices(d, [0, 1, 2, 3]), val_index=val,
              epochs=6, patience=1)
    best = min(h["val_mse"] for h in r.history)
    pred = T.predict(r.model, d.subset(val))
    assert np.mean((pred - d.labels[val]) ** 2) == pytest.approx(best, rel=1e-4)
    assert r.best_epoch == 1 + int(np.argmin([h["val_mse"] for h in r.history]))


def test_cross_validate_table(data):
    config, d = data
    table, details = T.cross_validate(config, d, folds=[0, 1], epochs=1, monitor_every=1)
    assert table["fold"].tolist() == ["0", "1", "mean", "sd"]
    assert {"ci", "mse", "pearson", "spearman", "rm2", "aupr"} <= set(table.columns)
    curve = T.learning_curve(details)
    assert curve["n_folds"].tolist() == [2]
    assert isinstance(table, pd.DataFrame)
