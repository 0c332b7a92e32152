"""Real Davis/KIBA inputs (../shared/data/dta, skipped when absent): readers, block batching, a short training run."""

import numpy as np
import pytest

from genoscreen.affinity import train as T
from genoscreen.affinity.configs import get_preset


def _load(shared, name, preset):
    folder = shared("dta", name)
    return T.load_inputs(folder / "drugs.tsv", folder / "targets.fasta", folder / "train_pairs.tsv",
                         get_preset(preset), require_labels=True)


@pytest.mark.parametrize("name, n_drugs, n_targets, n_pairs", [("davis", 68, 442, 25046), ("kiba", 2111, 229, 98545)])
def test_inputs_read_completely(shared, name, n_drugs, n_targets, n_pairs):
    data, pairs, usable = _load(shared, name, name)
    assert (len(data.drug_ids), len(data.target_ids), data.n_pairs) == (n_drugs, n_targets, n_pairs)
    assert usable.all() and sorted(np.unique(data.folds)) == [0, 1, 2, 3, 4]
    assert data.drug_tokens.shape[1] == get_preset(name).max_drug_len


def test_kiba_block_batches_share_encodings(shared):
    config = get_preset("kiba")
    data, _, _ = _load(shared, "kiba", "kiba")
    train = data.subset(T.fold_indices(data, [0, 1, 2, 3]))
    plan = T.plan_epoch(train, config, np.random.default_rng(0))
    assert int(plan["mask"].sum()) == train.n_pairs
    # each step scores ~256 pairs but encodes at most 16 proteins (the expensive branch) and 224 SMILES
    assert plan["mask"].sum(1).mean() > 200
    per_pair = T.plan_epoch(train, config, np.random.default_rng(0), "pair")
    protein_rows_block = len(plan["mask"]) * config.max_batch_targets
    protein_rows_pair = per_pair["targets"].size
    assert protein_rows_pair / protein_rows_block > 14


def test_short_training_on_davis_slice(shared):
    config = get_preset("test")
    data, _, _ = _load(shared, "davis", "test")
    data = data.subset(np.flatnonzero(data.pair_target < 8))  # 8 kinases x 68 drugs
    result = T.fit(config, data, T.fold_indices(data, [0, 1, 2, 3]), epochs=3,
                   monitor_index=T.fold_indices(data, [4]), monitor_every=1)
    mses = [h["train_mse"] for h in result.history]
    assert mses[-1] < mses[0]
    # better than chance at ranking the held-out CV fold (the output starts at the mean label, so MSE barely moves
    # in three epochs of this tiny model)
    assert result.history[-1]["monitor_ci"] > 0.55
    assert np.isfinite(T.predict(result.model, data)).all()
