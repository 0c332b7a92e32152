"""Real Davis/KIBA inputs (../shared/data/dta, skipped when absent): readers, block batching, a short training run."""

import numpy as np
import pytest

from genoscreen.affinity.batching import plan_epoch
from genoscreen.affinity.configs import get_preset
from genoscreen.affinity.data import fold_indices, load_inputs
from genoscreen.affinity.fit import fit
from genoscreen.affinity.inference import predict


def _load(shared, name, preset):
    folder = shared("dta", name)
    return load_inputs(folder / "drugs.tsv", folder / "targets.fasta", folder / "train_pairs.tsv",
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
    train = data.subset(fold_indices(data, [0, 1, 2, 3]))
    plan = plan_epoch(train, config, np.random.default_rng(0))
    assert int(plan["mask"].sum()) == train.n_pairs
    # each step scores ~256 pairs but encodes at most 16 proteins (the expensive branch) and 224 SMILES
    assert plan["mask"].sum(1).mean() > 200
    per_pair = plan_epoch(train, config, np.random.default_rng(0), "pair")
    protein_rows_block = len(plan["mask"]) * config.max_batch_targets
    protein_rows_pair = per_pair["targets"].size
    assert protein_rows_pair / protein_rows_block > 14


def test_short_training_on_davis_slice(shared):
    config = get_preset("test")
    data, _, _ = _load(shared, "davis", "test")
    data = data.subset(np.flatnonzero(data.pair_target < 8))  # 8 kinases x 68 drugs
    result = fit(config, data, fold_indices(data, [0, 1, 2, 3]), epochs=20,
                   monitor_index=fold_indices(data, [4]), monitor_every=5)
    mses = [h["train_mse"] for h in result.history]
    # the output starts at the mean label, so the tiny model's loss moves slowly at first, then falls
    assert mses[-1] < 0.8 * mses[0]
    # and it ranks the held-out CV fold better than chance (0.65 at 20 epochs when written)
    cis = [h["monitor_ci"] for h in result.history if "monitor_ci" in h]
    assert cis[-1] > 0.62 and cis[-1] > cis[0]
    assert np.isfinite(predict(result.model, data)).all()
