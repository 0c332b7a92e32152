"""Cross-validation of the affinity model over the pairs' `fold` column, its table and its learning curve."""

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
) -> tuple[pd.DataFrame, list[dict]]:
    """K-fold CV over the `fold` column: for each test fold k, train on the others and score fold k.

    Default: a fixed number of epochs (no selection on fold k; its learning curve is recorded every
    `monitor_every` epochs to choose the epoch count). inner_validation: early stopping on fold (k+1) mod K,
    training on the remaining folds. Returns (table of metrics per fold + mean + sd, per-fold histories).
    """
    if data.folds is None or data.labels is None:
        raise InputError("cross-validation needs a pairs file with a label column and a 'fold' column")
    all_folds = sorted(int(f) for f in np.unique(data.folds))
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
        others = [f for f in all_folds if f != k]
        val_index = None
        if inner_validation:
            v = all_folds[(all_folds.index(k) + 1) % len(all_folds)]
            others = [f for f in others if f != v]
            val_index = fold_indices(data, [v])
        test_index = fold_indices(data, [k])
        result = fit(
            config, data, fold_indices(data, others), val_index=val_index,
            monitor_index=None if inner_validation else test_index, epochs=epochs, seed=seed,
            checkpoint_dir=Path(work_dir) / f"fold{k}" if work_dir else None, deadline=fold_deadline,
            monitor_every=monitor_every,
        )
        pred = predict(result.model, data.subset(test_index))
        metrics = evaluate(data.labels[test_index], pred, config.aupr_threshold)
        rows.append({"fold": str(k), **metrics, "epochs": result.epochs_run, "best_epoch": result.best_epoch,
                     "stopped": result.stopped, "wall_s": round(result.wall_s, 1)})
        details.append({"fold": k, "history": result.history, "metrics": metrics})
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
