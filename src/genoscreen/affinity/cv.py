"""Cross-validation of the affinity model: the splits, the per-fold table, the learning curve, mutation shifts.

Splits (`split_folds`): `random` is the pairs' own `fold` column (DeepDTA's folds); `cold-drug` and `cold-target`
hold out every pair of a drug (a target) at once, so each test drug (target) is new to its model; `mutant` holds
out every pair of each mutant target whose sequence differs from its wild type's (`affinity.mutants`), the wild
type and all other targets staying in training, so a test mutation is new to its model. Pairs with fold -1 are
never held out.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.data import AffinityData, fold_indices
from genoscreen.affinity.fit import fit
from genoscreen.affinity.inference import predict
from genoscreen.affinity.metrics import evaluate
from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)

SPLITS = ("random", "cold-drug", "cold-target", "mutant")
ALWAYS_TRAIN = -1  # the fold of pairs that are never held out


def split_folds(data: AffinityData, split: str, n_folds: int = 5, seed: int = 0,
                wild_type_of: dict[str, str] | None = None) -> np.ndarray:
    """The fold of every pair of `data` under `split` (see the module docstring); ALWAYS_TRAIN for pairs never held
    out. `wild_type_of` (mutant target id -> wild type id) is the `mutant` split's list of mutants."""
    if split == "random":
        if data.folds is None:
            raise InputError("--split random uses the pairs' 'fold' column, and the pairs file has none; add one or "
                             "choose --split cold-drug or cold-target")
        return np.asarray(data.folds)
    if split not in SPLITS:
        raise InputError(f"--split {split}: choose one of {', '.join(SPLITS)}")
    if n_folds < 2:
        raise InputError(f"--n-folds {n_folds}: cross-validation needs at least 2 folds")
    rng = np.random.default_rng(seed)
    if split in ("cold-drug", "cold-target"):
        entity = data.pair_drug if split == "cold-drug" else data.pair_target
        order = rng.permutation(np.unique(entity))
        fold_of = np.empty(int(entity.max()) + 1, np.int64)
        fold_of[order] = np.arange(len(order)) % n_folds
        return fold_of[entity]
    mutants = [t for t in data.target_ids if t in (wild_type_of or {}) and wild_type_of[t] in data.target_ids]
    if len(mutants) < n_folds:
        raise InputError(f"--split mutant: {len(mutants)} mutant target(s) with their wild type in the data, fewer "
                         f"than --n-folds {n_folds}; rebuild the mutants first (`genoscreen affinity mutants`)")
    row = {t: i for i, t in enumerate(data.target_ids)}
    fold_of = np.full(len(data.target_ids), ALWAYS_TRAIN, np.int64)
    fold_of[[row[t] for t in rng.permutation(mutants)]] = np.arange(len(mutants)) % n_folds
    return fold_of[data.pair_target]


def shift_partners(data: AffinityData, wild_type_of: dict[str, str]) -> np.ndarray:
    """For every pair (drug, mutant), the index of the pair (drug, its wild type), else -1: the pairs on which a
    mutation's measured effect (ΔpKd = mutant − wild type) can be compared with the predicted one."""
    index = {(int(d), int(t)): i for i, (d, t) in enumerate(zip(data.pair_drug, data.pair_target))}
    row = {t: i for i, t in enumerate(data.target_ids)}
    wt_row = np.full(len(data.target_ids), -1, np.int64)
    for mutant, wild in wild_type_of.items():
        if mutant in row and wild in row:
            wt_row[row[mutant]] = row[wild]
    return np.array([index.get((int(d), int(wt_row[t])), -1) if wt_row[t] >= 0 else -1
                     for d, t in zip(data.pair_drug, data.pair_target)], np.int64)


def shift_metrics(details: list[dict], min_shift: float = 1.0) -> dict:
    """Spearman of predicted vs measured ΔpKd over the held-out (drug, mutant) pairs of all folds, and over those
    whose measured |ΔpKd| > `min_shift` (the shifts the data can tell from noise)."""
    from scipy.stats import spearmanr

    measured = np.concatenate([d["shift_measured"] for d in details if "shift_measured" in d] or [np.zeros(0)])
    predicted = np.concatenate([d["shift_predicted"] for d in details if "shift_predicted" in d] or [np.zeros(0)])
    big = np.abs(measured) > min_shift

    def rho(mask) -> float:
        if mask.sum() < 3 or np.ptp(predicted[mask]) == 0 or np.ptp(measured[mask]) == 0:
            return float("nan")
        return float(spearmanr(predicted[mask], measured[mask])[0])

    return {"n": int(len(measured)), "spearman": rho(np.ones(len(measured), bool)),
            f"n_abs_gt_{min_shift:g}": int(big.sum()), f"spearman_abs_gt_{min_shift:g}": rho(big),
            "sign_agreement_abs_gt": float(np.mean(np.sign(predicted[big]) == np.sign(measured[big])))
            if big.any() else float("nan")}


def cross_validate(
    config: AffinityConfig,
    data: AffinityData,
    *,
    folds: list[int] | None = None,
    epochs: int | None = None,
    inner_validation: bool = False,
    seed: int | None = None,
    work_dir: str | Path | None = None,
    deadline: float | None = None,
    monitor_every: int = 5,
    partners: np.ndarray | None = None,
) -> tuple[pd.DataFrame, list[dict]]:
    """K-fold CV over the `fold` column (see `split_folds` for other splits): for each test fold k, train on the
    others (and the ALWAYS_TRAIN pairs) and score fold k.

    Default: a fixed number of epochs (no selection on fold k; its learning curve is recorded every
    `monitor_every` epochs to choose the epoch count). inner_validation: early stopping on fold (k+1) mod K,
    training on the remaining folds. `partners` (`shift_partners`): each fold's details also get the measured and
    predicted ΔpKd of its held-out (drug, mutant) pairs. Returns (table of metrics per fold + mean + sd, per-fold
    histories).
    """
    if data.folds is None or data.labels is None:
        raise InputError("cross-validation needs a pairs file with a label column and a 'fold' column")
    all_folds = sorted(int(f) for f in np.unique(data.folds) if f != ALWAYS_TRAIN)
    if len(all_folds) < 2:
        raise InputError(f"cross-validation needs at least 2 folds, the pairs file has {all_folds}")
    run_folds = all_folds if folds is None else folds
    fold_indices(data, run_folds)  # an unknown fold is an error before any training
    if inner_validation and len(all_folds) < 3:
        raise InputError(f"--inner-val needs at least 3 folds (test, validation, training); the folds are {all_folds}")
    rows = []
    details = []
    for i, k in enumerate(run_folds):
        fold_deadline = None
        if deadline is not None:
            remaining = deadline - time.time()
            fold_deadline = time.time() + remaining / (len(run_folds) - i)
        held_out = [k]
        val_index = None
        if inner_validation:
            v = all_folds[(all_folds.index(k) + 1) % len(all_folds)]
            held_out.append(v)
            val_index = fold_indices(data, [v])
        test_index = fold_indices(data, [k])
        result = fit(
            config, data, np.flatnonzero(~np.isin(data.folds, held_out)), val_index=val_index,
            monitor_index=None if inner_validation else test_index, epochs=epochs, seed=seed,
            checkpoint_dir=Path(work_dir) / f"fold{k}" if work_dir else None, deadline=fold_deadline,
            monitor_every=monitor_every,
        )
        pred = predict(result.model, data.subset(test_index))
        metrics = evaluate(data.labels[test_index], pred, config.aupr_threshold)
        rows.append({"fold": str(k), **metrics, "epochs": result.epochs_run, "best_epoch": result.best_epoch,
                     "stopped": result.stopped, "wall_s": round(result.wall_s, 1)})
        details.append({"fold": k, "history": result.history, "metrics": metrics})
        if partners is not None:
            with_wt = test_index[partners[test_index] >= 0]
            wt_pred = predict(result.model, data.subset(partners[with_wt]))
            mut_pred = pred[np.isin(test_index, with_wt)]
            details[-1]["shift_measured"] = data.labels[with_wt] - data.labels[partners[with_wt]]
            details[-1]["shift_predicted"] = mut_pred - wt_pred
        log.info("CV fold %d: %s", k, " ".join(f"{m}={metrics[m]:.4f}" for m in ("ci", "mse", "rm2", "aupr")))
    return with_mean_sd(pd.DataFrame(rows)), details


def with_mean_sd(table: pd.DataFrame) -> pd.DataFrame:
    """Per-fold metric rows + a "mean" and an "sd" row (the CV table of `affinity cv` and its merges)."""
    metric_cols = [c for c in ("ci", "mse", "pearson", "spearman", "rm2", "aupr") if c in table]
    mean = {"fold": "mean", **{c: float(table[c].mean()) for c in metric_cols}}
    sd = {"fold": "sd", **{c: float(table[c].std(ddof=1)) if len(table) > 1 else float("nan") for c in metric_cols}}
    return pd.concat([table, pd.DataFrame([mean, sd])], ignore_index=True)


def learning_curve(details: list[dict]) -> pd.DataFrame:
    """Held-out-fold MSE/CI per epoch across CV folds (long rows -> one row per epoch with fold means, and per-fold
    MSE and CI). With a weight average (`ema_decay`), also the raw weights' means (mse_raw_mean, ci_raw_mean)."""
    rows = [
        {"epoch": h["epoch"], "fold": d["fold"], "mse": h["monitor_mse"], "ci": h["monitor_ci"],
         "mse_raw": h.get("monitor_mse_raw", np.nan), "ci_raw": h.get("monitor_ci_raw", np.nan)}
        for d in details for h in d["history"] if "monitor_mse" in h
    ]
    if not rows:
        return pd.DataFrame(columns=["epoch", "n_folds", "mse_mean", "ci_mean"])
    long = pd.DataFrame(rows)
    curve = long.groupby("epoch").agg(n_folds=("fold", "size"), mse_mean=("mse", "mean"), ci_mean=("ci", "mean"),
                                      mse_raw_mean=("mse_raw", "mean"), ci_raw_mean=("ci_raw", "mean"))
    curve = curve.dropna(axis=1, how="all")
    wide = [long.pivot(index="epoch", columns="fold", values=m).add_prefix(f"{m}_fold") for m in ("mse", "ci")]
    return curve.join(wide).reset_index()
