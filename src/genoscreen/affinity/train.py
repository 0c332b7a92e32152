"""Training, prediction and cross-validation of DeepDTA (a library; the CLI in genoscreen.cli.affinity is thin).

Block batching: a step gathers the distinct drugs and targets of its pairs into fixed-size padded index arrays,
encodes each of them once, and scores all its pairs by gathering the shared features (`DeepDTA.score_pairs`).
Batches are cut from pairs ordered by target block then by a random drug order, so a step of 256 pairs encodes
only a handful of proteins. The per-pair path (every pair encodes its own drug and protein) is the same step with
"unique" arrays equal to the pairs' own indices, used by bench/affinity_train.py for the speed comparison.
Every batch has the same padded shapes, so a preset compiles one step. Steps are dispatched one jitted call each
(asynchronously): a `lax.scan` over chunks of steps was measured 28x slower per step on XLA:CPU (8.0 s vs 0.28 s,
Davis preset, 2 cores), with nothing to gain on a GPU where a Davis step takes about a millisecond.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import math
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from flax import nnx, serialization

from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.data import AffinityData, load_inputs, prepare_data  # noqa: F401  (re-exported for now)
from genoscreen.affinity.inference import predict
from genoscreen.affinity.metrics import concordance_index, evaluate
from genoscreen.affinity.model import DeepDTA, build_model
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open

log = logging.getLogger(__name__)

SYNC_EVERY = 16  # steps between host syncs (deadline checks, bounded dispatch queue)
# A training batch encodes only the drug slots it uses, rounded up to a multiple of this (one compile per size):
# KIBA batches use 49-138 of their 224 padded slots (median 72), Davis ~16-24 of 72.
DRUG_SLOT_BUCKET = 32


# ----------------------------------------------------------------------------------------------- batch plans


def _pack(order, pair_drug, pair_target, max_pairs, max_drugs, max_targets) -> list[int]:
    """Greedy cut of pairs (taken in `order`) into batches within the pair/drug/target caps; returns cut points."""
    cuts = []
    n_pairs = 0
    drugs: set[int] = set()
    targets: set[int] = set()
    drug_of, target_of = pair_drug[order].tolist(), pair_target[order].tolist()
    for pos, (d, t) in enumerate(zip(drug_of, target_of)):
        if n_pairs and (
            n_pairs == max_pairs
            or (d not in drugs and len(drugs) == max_drugs)
            or (t not in targets and len(targets) == max_targets)
        ):
            cuts.append(pos)
            n_pairs = 0
            drugs, targets = set(), set()
        drugs.add(d)
        targets.add(t)
        n_pairs += 1
    return cuts


def padded_target_lengths(data: AffinityData, config: AffinityConfig) -> np.ndarray:
    """Per target row: its token count rounded up to `config.length_bucket` (max_target_len when bucketing is off)."""
    width = data.target_tokens.shape[1]
    if not config.length_bucket:
        return np.full(len(data.target_tokens), width, np.int32)
    n = (data.target_tokens != 0).sum(axis=1)
    bucket = config.length_bucket
    return np.minimum(width, np.maximum(1, -(-n // bucket)) * bucket).astype(np.int32)


def plan_epoch(data: AffinityData, config: AffinityConfig, rng: np.random.Generator, mode: str = "block") -> dict:
    """One epoch of batches as stacked, padded numpy arrays [n_batches, ...].

    Keys: drugs [Du], targets [Tu] (rows of the token tables), pd/pt [P] (pair -> position in drugs/targets),
    y [P], mask [P], and two static shapes that are not part of the batch (see `batch_at`): target_len (the batch's
    padded protein length) and n_drugs (its drug slots in use, rounded up to DRUG_SLOT_BUCKET).
    mode "block" shares encodings; "pair" encodes every pair's own drug and target (Du = Tu = P).
    """
    P = config.batch_size
    n = data.n_pairs
    padded_len = padded_target_lengths(data, config)
    if mode == "pair":
        order = rng.permutation(n)
        n_batches = math.ceil(n / P)
        idx = np.full(n_batches * P, -1, dtype=np.int64)
        idx[:n] = order
        idx = idx.reshape(n_batches, P)
        mask = idx >= 0
        safe = np.where(mask, idx, 0)
        local = np.broadcast_to(np.arange(P, dtype=np.int32), (n_batches, P))
        targets = data.pair_target[safe].astype(np.int32)
        return {
            "drugs": data.pair_drug[safe].astype(np.int32),
            "targets": targets,
            "pd": local.copy(),
            "pt": local.copy(),
            "y": np.where(mask, data.labels[safe], 0.0).astype(np.float32),
            "mask": mask.astype(np.float32),
            "target_len": np.where(mask, padded_len[targets], 0).max(axis=1).astype(np.int32),
            "n_drugs": np.full(n_batches, P, np.int32),
        }
    if mode != "block":
        raise ValueError(f"unknown batching mode {mode}")
    Du, Tu = config.max_batch_drugs, config.max_batch_targets
    targets = rng.permutation(np.unique(data.pair_target))
    # Length strata (random order inside each) when bucketing, so a block's proteins need similar padding.
    targets = targets[np.argsort(padded_len[targets], kind="stable")]
    target_block = np.empty(len(data.target_tokens), dtype=np.int64)
    target_block[targets] = np.arange(len(targets)) // config.block_targets
    drug_rank = rng.permutation(int(data.pair_drug.max()) + 1)
    if config.block_order == "random":
        drug_rank = np.zeros_like(drug_rank)
    order = np.lexsort((rng.random(n), drug_rank[data.pair_drug], target_block[data.pair_target]))
    cuts = _pack(order, data.pair_drug, data.pair_target, P, Du, Tu)
    batches = np.split(order, cuts)
    nb = len(batches)
    out = {
        "drugs": np.zeros((nb, Du), np.int32),
        "targets": np.zeros((nb, Tu), np.int32),
        "pd": np.zeros((nb, P), np.int32),
        "pt": np.zeros((nb, P), np.int32),
        "y": np.zeros((nb, P), np.float32),
        "mask": np.zeros((nb, P), np.float32),
        "target_len": np.zeros(nb, np.int32),
        "n_drugs": np.zeros(nb, np.int32),
    }
    for b, pairs in enumerate(batches):
        k = len(pairs)
        drugs, local_d = np.unique(data.pair_drug[pairs], return_inverse=True)
        tgts, local_t = np.unique(data.pair_target[pairs], return_inverse=True)
        out["drugs"][b, : len(drugs)] = drugs
        out["targets"][b, : len(tgts)] = tgts
        out["pd"][b, :k] = local_d.reshape(-1)
        out["pt"][b, :k] = local_t.reshape(-1)
        out["y"][b, :k] = data.labels[pairs]
        out["mask"][b, :k] = 1.0
        out["target_len"][b] = padded_len[tgts].max()
        out["n_drugs"][b] = min(Du, -(-len(drugs) // DRUG_SLOT_BUCKET) * DRUG_SLOT_BUCKET)
    # Shuffle batch order so consecutive steps come from different blocks.
    perm = rng.permutation(nb)
    return {k: v[perm] for k, v in out.items()}


# ----------------------------------------------------------------------------------------------- jitted steps


class WeightEmaState(NamedTuple):
    count: jax.Array
    average: optax.Params


def weight_ema(decay: float) -> optax.GradientTransformation:
    """An identity transformation that keeps an exponential moving average of the weights it updates (Polyak
    averaging). The decay is min(decay, (1 + t) / (10 + t)) at step t, so early on the average spans the last ~10% of
    training rather than the random initial weights. Chain it last: it sees the final updates."""

    def init(params):
        return WeightEmaState(jnp.zeros([], jnp.int32), jax.tree_util.tree_map(jnp.copy, params))

    def update(updates, state, params):
        t = state.count.astype(jnp.float32)
        step_size = 1.0 - jnp.minimum(decay, (1.0 + t) / (10.0 + t))
        average = optax.incremental_update(optax.apply_updates(params, updates), state.average, step_size)
        return updates, WeightEmaState(state.count + 1, average)

    return optax.GradientTransformation(init, update)


def make_optimizer(learning_rate: float, warmup_steps: int = 0, ema_decay: float = 0.0) -> optax.GradientTransformation:
    """Adam (after a linear warm-up of `warmup_steps`), with a moving average of the weights when ema_decay > 0
    (see `weights_to_use`)."""
    if warmup_steps > 0:
        learning_rate = optax.linear_schedule(learning_rate / warmup_steps, learning_rate, warmup_steps)
    adam = optax.adam(learning_rate)
    return optax.chain(adam, weight_ema(ema_decay)) if ema_decay > 0 else adam


def weights_to_use(params, opt_state):
    """The weights that are scored and kept: the moving average when the optimizer keeps one, else `params`."""
    if isinstance(opt_state, tuple) and opt_state and isinstance(opt_state[-1], WeightEmaState):
        return opt_state[-1].average
    return params


def _loss(params, graphdef, drug_table, target_table, batch, key, target_len):
    model = nnx.merge(graphdef, params)
    d = model.encode_drugs(drug_table[batch["drugs"]])
    t = model.encode_targets(target_table[batch["targets"], :target_len])
    pred = model.score_pairs(d, t, batch["pd"], batch["pt"], key)
    err = (pred - batch["y"]) ** 2 * batch["mask"]
    return err.sum() / jnp.maximum(batch["mask"].sum(), 1.0)


@functools.partial(
    jax.jit, static_argnames=("graphdef", "target_len", "learning_rate", "warmup_steps", "ema_decay"),
    donate_argnums=(0, 1),
)
def train_step(params, opt_state, key, drug_table, target_table, batch, *, graphdef, target_len, learning_rate,
               warmup_steps=0, ema_decay=0.0):
    """One Adam step on one batch (row b of a `plan_epoch` plan, see `batch_at`); returns (params, opt_state, key, loss)."""
    tx = make_optimizer(learning_rate, warmup_steps, ema_decay)
    key, sub = jax.random.split(key)
    loss, grads = jax.value_and_grad(_loss)(params, graphdef, drug_table, target_table, batch, sub, target_len)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, key, loss


STATIC_KEYS = ("target_len", "n_drugs")


def batch_at(plan: dict, b: int) -> tuple[dict, int]:
    """Batch b of a plan (arrays, its drug slots cut to those in use) and its padded protein length (a static int)."""
    batch = {k: v[b] for k, v in plan.items() if k not in STATIC_KEYS}
    batch["drugs"] = batch["drugs"][: int(plan["n_drugs"][b])]
    return batch, int(plan["target_len"][b])


def run_steps(params, opt_state, key, drug_table, target_table, plan: dict, config: AffinityConfig,
              graphdef, deadline: float | None = None):
    """Train on the batches of `plan` in order; stops early past `deadline` (time.time()).

    Returns (params, opt_state, key, losses [steps run], counts [steps run]).
    """
    n_batches = len(plan["mask"])
    losses = []
    for b in range(n_batches):
        batch, target_len = batch_at(plan, b)
        params, opt_state, key, loss = train_step(
            params, opt_state, key, drug_table, target_table, batch, graphdef=graphdef, target_len=target_len,
            learning_rate=config.learning_rate, warmup_steps=config.warmup_steps, ema_decay=config.ema_decay,
        )
        losses.append(loss)
        if (b + 1) % SYNC_EVERY == 0:
            # keep the dispatch queue short so the clock (and the deadline) mean something
            losses[-SYNC_EVERY // 2].block_until_ready()
            if deadline is not None and time.time() > deadline:
                break
    counts = plan["mask"][: len(losses)].sum(axis=1)
    return params, opt_state, key, np.asarray(jnp.stack(losses)) if losses else np.zeros(0, np.float32), counts


# ----------------------------------------------------------------------------------------------- checkpoints


def _save_train_state(path: Path, tree, meta: dict) -> None:
    leaves = jax.tree_util.tree_leaves(tree)
    payload = {"meta": json.dumps(meta), "leaves": {str(i): np.asarray(x) for i, x in enumerate(leaves)}}
    with atomic_open(path, "wb") as handle:
        handle.write(serialization.msgpack_serialize(payload))


def _load_train_state(path: Path, like):
    try:
        payload = serialization.msgpack_restore(path.read_bytes())
        stored, meta = payload["leaves"], json.loads(payload["meta"])
    except Exception as err:  # msgpack raises several exception types on corrupt input
        raise InputError(f"{path}: checkpoint cannot be read ({type(err).__name__}); delete it to start afresh") from err
    leaves, treedef = jax.tree_util.tree_flatten(like)
    if len(stored) != len(leaves):
        raise InputError(f"{path}: checkpoint does not match this model/optimizer; delete it to start afresh")
    restored = [jnp.asarray(stored[str(i)], dtype=np.asarray(x).dtype) for i, x in enumerate(leaves)]
    for new, old in zip(restored, leaves):
        if new.shape != np.shape(old):
            raise InputError(f"{path}: checkpoint shapes do not match this config; delete it to start afresh")
    return jax.tree_util.tree_unflatten(treedef, restored), meta


def _data_fingerprint(data: AffinityData, train_index: np.ndarray, val_index: np.ndarray | None) -> str:
    """Hash of what a training run sees (encoded drugs/targets, its pairs, labels and validation pairs), kept in
    the checkpoint so a resume against other data or another fold selection is refused, not silently reused."""
    digest = hashlib.sha256()
    train_index = np.asarray(train_index, dtype=np.int64)
    for part in (data.drug_tokens, data.target_tokens, data.pair_drug[train_index], data.pair_target[train_index],
                 data.labels[train_index], np.asarray(val_index if val_index is not None else [], dtype=np.int64)):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- training


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
    ckpt = Path(checkpoint_dir) / "train_state.msgpack" if checkpoint_dir else None
    fingerprint = _data_fingerprint(data, train_index, val_index) if ckpt is not None else None
    if ckpt is not None and ckpt.exists():
        like = {"params": params, "opt": opt_state, "key": key, "best": params}
        state, meta = _load_train_state(ckpt, like)
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
            _save_train_state(
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


def fold_indices(data: AffinityData, folds: list[int]) -> np.ndarray:
    if data.folds is None:
        raise InputError("pairs file has no 'fold' column; add one (integers) to choose folds")
    present = sorted(int(f) for f in np.unique(data.folds))
    unknown = sorted(set(int(f) for f in folds) - set(present))
    if unknown:
        raise InputError(f"fold {', '.join(map(str, unknown))}: no pair has this fold; the pairs' folds are {present}")
    return np.flatnonzero(np.isin(data.folds, folds))


def device_description() -> str:
    dev = jax.devices()[0]
    return f"{dev.platform}:{getattr(dev, 'device_kind', dev.platform)} x{jax.device_count()}"


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
