"""Training of the affinity model: `fit` runs epochs of steps with validation, early stopping, a time budget and a
resumable train state (a library; the CLI in genoscreen.cli.affinity is thin)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from genoscreen.affinity.batching import plan_epoch
from genoscreen.affinity.checkpoint import TRAIN_STATE_FILE, load_train_state, save_train_state
from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.data import AffinityData
from genoscreen.affinity.inference import predict
from genoscreen.affinity.metrics import concordance_index
from genoscreen.affinity.model import DeepDTA, build_model
from genoscreen.affinity.optim import make_optimizer, weights_to_use
from genoscreen.affinity.step import run_steps
from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)


def _data_fingerprint(data: AffinityData, train_index: np.ndarray, val_index: np.ndarray | None) -> str:
    """Hash of what a training run sees (encoded drugs/targets, its pairs, labels and validation pairs), kept in
    the checkpoint so a resume against other data or another fold selection is refused, not silently reused."""
    digest = hashlib.sha256()
    train_index = np.asarray(train_index, dtype=np.int64)
    for part in (data.drug_tokens, data.target_tokens, data.pair_drug[train_index], data.pair_target[train_index],
                 data.labels[train_index], np.asarray(val_index if val_index is not None else [], dtype=np.int64)):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()[:16]


@dataclasses.dataclass
class FitResult:
    model: DeepDTA
    history: list[dict]
    epochs_run: int
    best_epoch: int | None
    stopped: str  # "epochs" | "early_stopping" | "time_budget"
    wall_s: float

    # Totals over the whole history, so a resumed run reports all its epochs.
    @property
    def steps(self) -> int:
        return sum(h["steps"] for h in self.history)

    @property
    def pairs_scored(self) -> int:
        return sum(h.get("pairs", 0) for h in self.history)  # checkpoints before 2026-11-28 lack "pairs"


def fit(
    config: AffinityConfig,
    data: AffinityData,
    train_index: np.ndarray,
    *,
    val_index: np.ndarray | None = None,
    monitor_index: np.ndarray | None = None,
    epochs: int | None = None,
    patience: int | None = None,
    seed: int | None = None,
    mode: str | None = None,
    checkpoint_dir: str | Path | None = None,
    deadline: float | None = None,
    monitor_every: int = 1,
) -> FitResult:
    """Train DeepDTA on `train_index` pairs with Adam and masked MSE.

    val_index: early stopping on its MSE (patience epochs), the best epoch's weights are returned.
    monitor_index: pairs evaluated every `monitor_every` epochs for the learning curve only (never for selection).
    checkpoint_dir: the full train state is saved there after every epoch and resumed from if present.
    deadline: time.time() after which training stops ("time_budget"): no epoch starts that the last epoch's
        duration says would overrun it, and a running epoch stops at the next chunk of steps.
    """
    epochs = config.epochs if epochs is None else epochs
    patience = config.patience if patience is None else patience
    seed = config.seed if seed is None else seed
    if len(train_index) == 0:
        raise InputError("no training pairs left after the fold selection; check --folds / --train-folds / --val-fold")
    train = data.subset(train_index)
    model = build_model(config, seed)
    # Start the output at the mean training label (pKd ~5.4, KIBA ~11.7) instead of 0: Adam moves a bias by
    # ~lr per step, so a zero start wastes the first epochs fitting the offset.
    model.out.bias[...] = jnp.full_like(model.out.bias[...], float(np.mean(train.labels)))
    graphdef, params = nnx.split(model, nnx.Param)
    opt_state = make_optimizer(config.learning_rate, config.warmup_steps, config.ema_decay).init(params)
    key = jax.random.PRNGKey(seed + 1)
    mode = config.batching if mode is None else mode
    drug_table = jnp.asarray(data.drug_tokens)
    target_table = jnp.asarray(data.target_tokens)

    history: list[dict] = []
    best = {"mse": math.inf, "epoch": None, "params": None}
    start_epoch = 0
    bad_epochs = 0
    ckpt = Path(checkpoint_dir) / TRAIN_STATE_FILE if checkpoint_dir else None
    fingerprint = _data_fingerprint(data, train_index, val_index) if ckpt is not None else None
    if ckpt is not None and ckpt.exists():
        like = {"params": params, "opt": opt_state, "key": key, "best": params}
        state, meta = load_train_state(ckpt, like)
        # through from_dict, so a checkpoint written before a config field was added resumes with its default
        if AffinityConfig.from_dict(meta.get("config", {}), str(ckpt)) != config or meta.get("seed") != seed:
            raise InputError(f"{ckpt}: checkpoint was written with another config/seed; delete it or use another --out")
        if meta.get("data", fingerprint) != fingerprint:  # checkpoints before 2026-11-28 lack it
            raise InputError(f"{ckpt}: checkpoint was written for other data or another fold selection; "
                             "delete it or use another --out")
        params, opt_state, key = state["params"], state["opt"], state["key"]
        history, start_epoch, bad_epochs = meta["history"], meta["epoch"], meta["bad_epochs"]
        best = {"mse": meta["best_mse"], "epoch": meta["best_epoch"], "params": state["best"] if meta["best_epoch"] else None}
        log.info("resumed from %s at epoch %d", ckpt, start_epoch)

    t0 = time.time()
    wall_before = history[-1]["wall_s"] if history else 0.0
    stopped = "epochs"

    # the scored subsets, built once
    val_data = data.subset(val_index) if val_index is not None else None
    monitor_data = data.subset(monitor_index) if monitor_index is not None else None

    def make_plan(e: int) -> dict:
        return plan_epoch(train, config, np.random.default_rng([seed, e]), mode)

    for epoch in range(start_epoch, epochs):
        if deadline is not None and history:
            last = history[-1].get("epoch_s", 0.0)
            if time.time() + last > deadline:
                stopped = "time_budget"
                break
        te = time.time()
        plan = make_plan(epoch)
        params, opt_state, key, loss, count = run_steps(
            params, opt_state, key, drug_table, target_table, plan, config, graphdef, deadline
        )
        if len(loss) < len(plan["mask"]):
            stopped = "time_budget"
        row = {
            "epoch": epoch + 1,
            "train_mse": float((loss * count).sum() / max(count.sum(), 1)),
            "steps": int((count > 0).sum()),
            "pairs": int(count.sum()),
            "complete": stopped != "time_budget",
        }
        weights = weights_to_use(params, opt_state)
        current = nnx.merge(graphdef, weights)
        if val_index is not None:
            pred = predict(current, val_data)
            y = val_data.labels
            row["val_mse"] = float(np.mean((pred - y) ** 2))
            row["val_ci"] = concordance_index(y, pred)
            if row["val_mse"] < best["mse"]:
                best = {"mse": row["val_mse"], "epoch": epoch + 1, "params": jax.tree_util.tree_map(jnp.copy, weights)}
                bad_epochs = 0
            else:
                bad_epochs += 1
        if monitor_index is not None and ((epoch + 1) % monitor_every == 0 or epoch + 1 == epochs):
            pred = predict(current, monitor_data)
            y = monitor_data.labels
            row["monitor_mse"] = float(np.mean((pred - y) ** 2))
            row["monitor_ci"] = concordance_index(y, pred)
            if weights is not params:  # a weight average is kept: the raw weights' curve too, to compare
                raw = predict(nnx.merge(graphdef, params), monitor_data)
                row["monitor_mse_raw"] = float(np.mean((raw - y) ** 2))
                row["monitor_ci_raw"] = concordance_index(y, raw)
        row["epoch_s"] = time.time() - te
        row["wall_s"] = wall_before + time.time() - t0
        history.append(row)
        log.info("epoch %d/%d %s", epoch + 1, epochs,
                 " ".join(f"{k}={v:.4g}" for k, v in row.items() if k not in ("epoch", "steps", "pairs")))
        if ckpt is not None:
            save_train_state(
                ckpt,
                {"params": params, "opt": opt_state, "key": key, "best": best["params"] if best["params"] is not None else params},
                {"config": config.to_dict(), "seed": seed, "data": fingerprint, "epoch": epoch + 1, "history": history,
                 "bad_epochs": bad_epochs, "best_mse": best["mse"], "best_epoch": best["epoch"]},
            )
        if stopped == "time_budget":
            break
        if val_index is not None and patience and bad_epochs >= patience:
            stopped = "early_stopping"
            break
    final = best["params"] if (val_index is not None and best["params"] is not None) else weights_to_use(params, opt_state)
    return FitResult(
        model=nnx.merge(graphdef, final),
        history=history,
        epochs_run=len(history),
        best_epoch=best["epoch"],
        stopped=stopped,
        wall_s=history[-1]["wall_s"] if history else 0.0,
    )


def device_description() -> str:
    dev = jax.devices()[0]
    return f"{dev.platform}:{getattr(dev, 'device_kind', dev.platform)} x{jax.device_count()}"
