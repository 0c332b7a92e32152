"""Train the genotype CNN on labelled examples: class-balanced loss, data parallel, best checkpoint by F1.

`train_and_evaluate(config, examples, out_dir, val_examples=...)` is the whole job; the CLI only parses flags.
Every epoch it writes a resumable checkpoint (params + optimiser state in genoscreen.common.checkpoint's layout, + history.json) to the work folder
(default `OUT.train/`), evaluates each validation folder, and replaces OUT with the model when the selection F1
improves. Data parallelism is jax.sharding over all local devices: the model state is replicated, each global
batch is split along its first axis, and XLA adds the gradient all-reduce; the result matches one device to
float rounding.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from genoscreen.caller.call_variants import predict
from genoscreen.caller.configs import CallerConfig
from genoscreen.caller.data import load_labelled
from genoscreen.caller.model import build_model, count_params, load_model, predict_fn, save_model
from genoscreen.common import checkpoint
from genoscreen.common.devices import DeviceMesh
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, atomic_path
from genoscreen.common.logging import progress
from genoscreen.variants.pileup_config import PileupConfig

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_KIND = "caller-training-state/1"
HISTORY = "history.json"
SELECT_MEAN = "mean"  # --select-on: the mean F1 over every validation folder


def genotype_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """Genotype-aware precision/recall/F1 over examples, as a variant evaluator counts them.

    A non-ref label called with the right genotype is a TP; a non-ref call with a wrong genotype is a FP (and,
    when the label is non-ref, also a FN), like vcfeval's genotype matching.
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    tp = int(np.sum((labels > 0) & (predicted == labels)))
    fp = int(np.sum((predicted > 0) & (predicted != labels)))
    fn = int(np.sum((labels > 0) & (predicted != labels)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (labels.clip(0, 2), predicted.clip(0, 2)), 1)
    return {
        "n": int(len(labels)),
        "accuracy": float(np.mean(labels == predicted)) if len(labels) else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "confusion": confusion.tolist(),
    }


def class_weights(labels: np.ndarray, enabled: bool) -> np.ndarray:
    """Per-class loss weights n / (3 n_k), clipped to [0.05, 20] and scaled to mean 1 over the examples."""
    counts = np.bincount(labels, minlength=3).astype(np.float64)
    if not enabled:
        return np.ones(3, np.float32)
    weights = np.where(counts > 0, counts.sum() / (3 * np.maximum(counts, 1)), 0.0).clip(0.05, 20.0)
    weights /= (weights * counts).sum() / counts.sum()
    return weights.astype(np.float32)


@nnx.jit(static_argnums=(5,))
def _train_step(model, optimizer, tensors, labels, weights, label_smoothing):
    def loss_fn(model):
        logits = model(tensors)
        targets = optax.smooth_labels(jax.nn.one_hot(labels, logits.shape[-1]), label_smoothing)
        per_example = optax.softmax_cross_entropy(logits, targets)
        return jnp.sum(per_example * weights) / jnp.maximum(jnp.sum(weights), 1e-6)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


def evaluate_sets(model, val_sets: dict[str, tuple[np.ndarray, np.ndarray]], batch_size: int, parallel) -> dict:
    metrics = {}
    for name, (tensors, labels) in val_sets.items():
        probs = predict(predict_fn(model), tensors, batch_size, parallel.shard)
        m = genotype_metrics(labels, probs.argmax(-1))
        m["log_loss"] = float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-7))))
        metrics[name] = m
    return metrics


def _val_name(folder: Path, taken: dict) -> str:
    name = folder.name or str(folder)
    return name if name not in taken else f"{name}#{len(taken)}"


def train_and_evaluate(
    config: CallerConfig,
    examples: list[str | Path],
    out_dir: str | Path,
    val_examples: list[str | Path] = (),
    *,
    init: str | Path | None = None,
    select_on: str | None = None,
    workdir: str | Path | None = None,
    resume: bool = True,
) -> dict:
    """Train, validate each epoch, keep the best model in `out_dir`; return the history dict.

    `select_on` names the validation folder (its basename) whose F1 picks the best epoch, or "mean" for the mean F1
    over all of them; default the last one given. Without validation folders the last epoch is kept.
    """
    tc = config.train
    out_dir = Path(out_dir)
    workdir = Path(workdir) if workdir else out_dir.with_name(out_dir.name + ".train")
    workdir.mkdir(parents=True, exist_ok=True)
    examples = [Path(p) for p in examples]
    if not examples:
        raise InputError("--examples: give at least one examples folder")

    pileup = PileupConfig.read(examples[0])
    if init is not None:
        model, init_pileup, _ = load_model(init)
        init_pileup.check_compatible(pileup, f"{examples[0]} (the --init model {init} was trained on another pileup)")
        model_config = model.config
        log.info("fine-tuning from %s", init)
    else:
        model_config = config.model
        model = build_model(model_config, pileup, seed=tc.seed)
    log.info("model: %d parameters, input %s", count_params(model), pileup.shape)

    tensors, labels = load_labelled(examples, pileup)
    val_sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for folder in map(Path, val_examples):
        val_sets[_val_name(folder, val_sets)] = load_labelled([folder], pileup)
    if select_on is None and val_sets:
        select_on = list(val_sets)[-1]
    if select_on == SELECT_MEAN and not val_sets:
        raise InputError(f"--select-on {SELECT_MEAN}: needs --val-examples")
    if select_on is not None and select_on != SELECT_MEAN and select_on not in val_sets:
        raise InputError(f"--select-on {select_on}: not one of the validation folders {list(val_sets)} "
                         f"(or '{SELECT_MEAN}' for their mean F1)")
    counts = np.bincount(labels, minlength=3)
    weights_by_class = class_weights(labels, tc.class_balance)
    log.info("training examples: %d (hom-ref %d, het %d, hom-alt %d); class weights %s",
             len(labels), *counts, np.round(weights_by_class, 3).tolist())
    for name, (_, val_labels) in val_sets.items():
        log.info("validation %s: %d examples %s", name, len(val_labels), np.bincount(val_labels, minlength=3).tolist())

    per_epoch = min(len(labels), tc.max_examples_per_epoch) if tc.max_examples_per_epoch > 0 else len(labels)
    steps_per_epoch = -(-per_epoch // tc.batch_size)
    total_steps = max(1, steps_per_epoch * tc.epochs)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, tc.learning_rate, min(tc.warmup_steps, total_steps // 2), total_steps, tc.learning_rate * 0.02
    )
    optimizer = nnx.Optimizer(
        model, optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=tc.weight_decay)),
        wrt=nnx.Param,
    )
    parallel = DeviceMesh.local()
    parallel.check_batch(tc.batch_size)
    eval_batch = -(-tc.eval_batch_size // parallel.count) * parallel.count

    run = {"examples": [str(p) for p in examples], "n_examples": int(len(labels)),
           "val_examples": [str(p) for p in val_examples], "init": str(init) if init else None}
    history = {"config": {"model": model_config.to_dict(), "train": tc.to_dict()}, "run": run, "epochs": [],
               "best_epoch": None, "best_f1": -1.0, "select_on": select_on, "wall_s": 0.0}
    start_epoch = 0
    state_path = workdir / CHECKPOINT
    if resume and state_path.exists() and (workdir / HISTORY).exists():
        previous = json.loads((workdir / HISTORY).read_text())
        if (previous.get("run"), previous.get("config"), previous.get("select_on")) != (
                run, history["config"], select_on):
            raise InputError(f"{workdir}: its checkpoint was made for other examples or settings; pass --restart to "
                             "start over, or give another --workdir")
        history = previous
        _restore_checkpoint(state_path, model, optimizer)
        start_epoch = len(history["epochs"])
        log.info("resuming from %s after epoch %d", state_path, start_epoch)
    parallel.replicate(model, optimizer)

    metadata_base = {
        "training": {
            "examples": [str(p) for p in examples],
            "val_examples": [str(p) for p in val_examples],
            "init": str(init) if init else None,
            "n_examples": int(len(labels)),
            "class_counts": counts.tolist(),
            "train_config": tc.to_dict(),
            "devices": parallel.count,
        }
    }
    log_every = max(50, steps_per_epoch // 10)
    for epoch in range(start_epoch, tc.epochs):
        t0 = time.time()
        rng = np.random.default_rng(tc.seed * 100_003 + epoch)
        order = rng.permutation(len(labels))[:per_epoch]
        losses = []
        for start in progress(range(0, per_epoch, tc.batch_size), desc=f"epoch {epoch + 1}", unit="batch"):
            idx = order[start : start + tc.batch_size]
            x, y = tensors[idx], labels[idx]
            w = weights_by_class[y]
            if len(idx) < tc.batch_size:  # pad the last batch with zero-weight examples: one compiled shape
                pad = tc.batch_size - len(idx)
                x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
                y = np.concatenate([y, np.zeros(pad, y.dtype)])
                w = np.concatenate([w, np.zeros(pad, w.dtype)])
            x, y, w = parallel.shard(x, y, w)
            losses.append(_train_step(model, optimizer, x, y, w, tc.label_smoothing))
            step = len(losses)
            if step % log_every == 0:
                log.info("epoch %d: step %d/%d, loss %.4f, %.1f examples/s", epoch + 1, step, steps_per_epoch,
                         float(np.mean(jax.device_get(losses[-log_every:]))),
                         step * tc.batch_size / (time.time() - t0))
        train_loss = float(np.mean(jax.device_get(losses))) if losses else float("nan")
        metrics = evaluate_sets(model, val_sets, eval_batch, parallel)
        wall = time.time() - t0
        history["wall_s"] += wall
        record = {"epoch": epoch + 1, "train_loss": train_loss, "wall_s": round(wall, 1), "val": metrics}
        history["epochs"].append(record)
        summary = "; ".join(f"{n} F1 {m['f1']:.4f} acc {m['accuracy']:.4f}" for n, m in metrics.items())
        log.info("epoch %d/%d: loss %.4f (%.0fs) %s", epoch + 1, tc.epochs, train_loss, wall, summary)
        if select_on == SELECT_MEAN:
            f1 = float(np.mean([m["f1"] for m in metrics.values()]))
        else:
            f1 = metrics[select_on]["f1"] if select_on else float(epoch)
        if f1 > history["best_f1"] or select_on is None:
            history["best_f1"], history["best_epoch"] = f1, epoch + 1
            meta = dict(metadata_base)
            meta["training"] = {**meta["training"], "epochs_trained": epoch + 1, "best_epoch": epoch + 1,
                                "select_on": select_on}
            meta["metrics"] = metrics
            save_model(model, pileup, out_dir, meta)
            log.info("saved %s (epoch %d%s)", out_dir, epoch + 1, f", {select_on} F1 {f1:.4f}" if select_on else "")
        _save_checkpoint(state_path, model, optimizer)
        with atomic_open(workdir / HISTORY) as handle:
            json.dump(history, handle, indent=2)
    return history


def _save_checkpoint(path: Path, model, optimizer) -> None:
    state = jax.device_get(nnx.to_pure_dict(nnx.state((model, optimizer))))
    checkpoint.save(path, state, CHECKPOINT_KIND)


def _restore_checkpoint(path: Path, model, optimizer) -> None:
    state = nnx.state((model, optimizer))
    template = jax.device_get(nnx.to_pure_dict(state))
    try:
        restored = checkpoint.restore_into(template, checkpoint.load(path, CHECKPOINT_KIND, "training state")[0], path)
    except InputError as err:
        raise InputError(f"{err}; delete the work folder or pass --restart") from None
    nnx.replace_by_pure_dict(state, jax.tree.map(jnp.asarray, restored))
    nnx.update((model, optimizer), state)

