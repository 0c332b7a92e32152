"""Benchmark: DeepDTA training with block batching (each distinct drug/target encoded once per step) versus the
per-pair path (every pair encodes its own drug and protein), same model, same loss, same pairs, one run.

    python bench/affinity_train.py [--data ../shared/data/dta/davis] [--preset davis]

Timing: one epoch of folds 0-3 is planned in both modes (XLA's FLOP count of a step is printed too, a
hardware-independent ratio); after warm-up (compile) calls each mode runs a fixed
number of steps (block batching: by default its whole epoch), and the epoch time is steps/epoch x seconds/step. Prints `speedup X` (per-pair epoch time /
block epoch time). Accuracy: both modes train the same number of epochs on folds 0-3 (optionally only the pairs
of the first --accuracy-targets targets, to fit a CPU) and are scored on fold 4 (CV fold; nothing is selected on
it). Writes the figures as JSON with --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from genoscreen.affinity.batching import batch_at, plan_epoch
from genoscreen.affinity.configs import get_preset
from genoscreen.common.config import override
from genoscreen.affinity.data import fold_indices, load_inputs
from genoscreen.affinity.fit import device_description, fit
from genoscreen.affinity.metrics import evaluate
from genoscreen.affinity.model import build_model
from genoscreen.affinity.optim import make_optimizer
from genoscreen.affinity.step import run_steps, train_step

log = logging.getLogger("bench.affinity_train")


def time_mode(config, data, mode: str, steps: int, seed: int) -> dict:
    """Seconds per step of `mode` (after a compile call) and its batches per epoch."""
    plan = plan_epoch(data, config, np.random.default_rng(seed), mode)
    n_batches = len(plan["mask"])
    model = build_model(config, seed)
    graphdef, params = nnx.split(model, nnx.Param)
    opt_state = make_optimizer(config.learning_rate, config.warmup_steps, config.ema_decay).init(params)
    key = jax.random.PRNGKey(seed)
    tables = jnp.asarray(data.drug_tokens), jnp.asarray(data.target_tokens)
    steps = steps or n_batches
    # One batch of each padded shape first (the compiles), then `steps` batches, through the training loop itself.
    first_of_each_shape = _shapes(plan)[1]
    state = params, opt_state, key
    t0 = time.perf_counter()
    state = run_steps(*state, *tables, {k: v[first_of_each_shape] for k, v in plan.items()}, config, graphdef)[:3]
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - t0
    flops = step_flops(config, graphdef, params, opt_state, key, tables, plan)
    reps = np.arange(steps) % n_batches
    t0 = time.perf_counter()
    jax.block_until_ready(run_steps(*state, *tables, {k: v[reps] for k, v in plan.items()}, config, graphdef)[:3])
    per_step = (time.perf_counter() - t0) / steps
    return {
        "mode": mode,
        "batches_per_epoch": n_batches,
        "pairs_per_epoch": int(plan["mask"].sum()),
        # padded slots, i.e. what each step computes
        "sequences_encoded_per_step": float(plan["n_drugs"].mean()) + plan["targets"].shape[1],
        "first_call_s": round(compile_s, 2),
        "s_per_step": per_step,
        "epoch_s": per_step * n_batches,
        # XLA's count for one compiled step at the plan's mean padded protein length: a hardware-independent cost
        "gflop_per_step": flops / 1e9,
        "gflop_per_epoch": flops * n_batches / 1e9,
    }


def _shapes(plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plan's distinct padded shapes (protein length, drug slots): (shapes, first batch of each, counts)."""
    return np.unique(np.stack([plan["target_len"], plan["n_drugs"]], 1), axis=0, return_index=True, return_counts=True)


def step_flops(config, graphdef, params, opt_state, key, tables, plan) -> float:
    """Floating-point operations of one training step (forward, backward, Adam) as XLA counts them, averaged over
    the plan's padded shapes (one compile per shape)."""
    _, first, counts = _shapes(plan)
    total = 0.0
    for b, count in zip(first.tolist(), counts.tolist()):
        batch, length = batch_at(plan, b)
        compiled = train_step.lower(
            params, opt_state, key, *tables, batch, graphdef=graphdef, target_len=length,
            learning_rate=config.learning_rate, warmup_steps=config.warmup_steps, ema_decay=config.ema_decay,
        ).compile()
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, (list, tuple)) and cost else cost
        if not cost or "flops" not in cost:
            return float("nan")  # this backend does not count
        total += float(cost["flops"]) * count
    return total / len(plan["target_len"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/dta/davis"),
                        help="folder with drugs.tsv, targets.fasta, train_pairs.tsv (default ../shared/data/dta/davis)")
    parser.add_argument("--preset", default="davis", help="model preset (default davis)")
    parser.add_argument("--steps-block", type=int, default=0,
                        help="timed steps with block batching (default 0 = the whole epoch, as step costs vary with "
                             "the padded protein length)")
    parser.add_argument("--steps-pair", type=int, default=2, help="timed steps with per-pair encoding")
    parser.add_argument("--accuracy-epochs", type=int, default=2,
                        help="epochs each mode trains for the accuracy check (0 = timing only)")
    parser.add_argument("--block-epochs", type=int, default=0,
                        help="block batching trains this many epochs in the accuracy check (default: as many as "
                             "per-pair), to find when it reaches per-pair's accuracy")
    parser.add_argument("--monitor-every", type=int, default=5, help="held-out fold scored every N epochs")
    parser.add_argument("--accuracy-targets", type=int, default=0,
                        help="accuracy check on the pairs of the first N targets only (0 = all; use ~30 on a CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="config override, as for `genoscreen affinity train` (e.g. --set max_batch_targets=6)")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    if args.accuracy_epochs % args.monitor_every:
        parser.error("--accuracy-epochs must be a multiple of --monitor-every (the comparison reads that epoch)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")

    config = override(get_preset(args.preset, seed=args.seed), args.set)
    folder = Path(args.data)
    data, _, _ = load_inputs(folder / "drugs.tsv", folder / "targets.fasta", folder / "train_pairs.tsv", config)
    train = data.subset(fold_indices(data, [0, 1, 2, 3]))
    result = {"device": device_description(), "preset": args.preset, "data": str(folder),
              "train_pairs": train.n_pairs, "batch_size": config.batch_size}

    block = time_mode(config, train, "block", args.steps_block, args.seed)
    log.info("block: %s", block)
    pair = time_mode(config, train, "pair", args.steps_pair, args.seed)
    log.info("per-pair: %s", pair)
    result["timing"] = {"block": block, "pair": pair}
    result["speedup"] = pair["epoch_s"] / block["epoch_s"]
    result["flop_ratio"] = pair["gflop_per_epoch"] / block["gflop_per_epoch"]

    print(f"device {result['device']}; {args.preset} folds 0-3, {train.n_pairs} pairs per epoch")
    print(f"block batching: {block['batches_per_epoch']} steps/epoch, {block['s_per_step'] * 1e3:.1f} ms/step, "
          f"epoch {block['epoch_s']:.2f} s, {block['sequences_encoded_per_step']:.0f} sequences encoded/step")
    print(f"per-pair:       {pair['batches_per_epoch']} steps/epoch, {pair['s_per_step'] * 1e3:.1f} ms/step, "
          f"epoch {pair['epoch_s']:.2f} s, {pair['sequences_encoded_per_step']} sequences encoded/step")
    print(f"GFLOP per epoch (XLA's count): block {block['gflop_per_epoch']:.0f} ({block['gflop_per_step']:.1f}/step), "
          f"per-pair {pair['gflop_per_epoch']:.0f} ({pair['gflop_per_step']:.1f}/step): ratio {result['flop_ratio']:.1f}")
    print(f"speedup {result['speedup']:.1f}", flush=True)
    if args.accuracy_epochs > 0:
        result["accuracy"] = acc = accuracy(config, data, args)
        n = acc["epochs"]
        b, p = acc["block"]["curve"][n], acc["pair"]["curve"][n]
        print(f"accuracy after {n} epochs (train folds 0-3, {acc['train_pairs']} pairs; CV fold 4, "
              f"{acc['fold4_pairs']} pairs): block CI {b['ci']:.4f} MSE {b['mse']:.4f} | "
              f"per-pair CI {p['ci']:.4f} MSE {p['mse']:.4f}")
        # Time to the same accuracy: the first scored epoch at which each mode reaches per-pair's CI after n epochs.
        goal = p["ci"]
        first = {m: next((e for e, r in sorted(acc[m]["curve"].items()) if r["ci"] >= goal), None) for m in ("block", "pair")}
        acc["same_accuracy"] = {"ci": goal, "epochs_block": first["block"], "epochs_pair": first["pair"]}
        if first["block"] is not None:
            acc["same_accuracy"]["speedup"] = result["speedup"] * first["pair"] / first["block"]
            print(f"CI {goal:.4f}: per-pair after {first['pair']} epochs, block batching after {first['block']}: "
                  f"speedup at the same accuracy {acc['same_accuracy']['speedup']:.1f}")
        else:
            print(f"CI {goal:.4f}: per-pair after {first['pair']} epochs; block batching did not reach it in "
                  f"{max(acc['block']['curve'])} epochs")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


def accuracy(config, data, args) -> dict:
    """Both modes train on folds 0-3 (block batching optionally longer) and are scored on CV fold 4 every
    --monitor-every epochs (and at the last epoch); returns the curves."""
    acc_data = data
    if args.accuracy_targets:
        keep = np.flatnonzero(data.pair_target < args.accuracy_targets)
        acc_data = data.subset(keep)
    train_idx, val_idx = fold_indices(acc_data, [0, 1, 2, 3]), fold_indices(acc_data, [4])
    out = {"epochs": args.accuracy_epochs, "train_pairs": int(len(train_idx)), "fold4_pairs": int(len(val_idx))}
    for mode in ("block", "pair"):
        epochs = max(args.block_epochs, args.accuracy_epochs) if mode == "block" else args.accuracy_epochs
        result = fit(config, acc_data, train_idx, epochs=epochs, mode=mode, monitor_index=val_idx,
                     monitor_every=args.monitor_every)
        curve = {h["epoch"]: {"ci": h["monitor_ci"], "mse": h["monitor_mse"]} for h in result.history if "monitor_ci" in h}
        out[mode] = {"curve": curve, "train_wall_s": round(result.wall_s, 1)}
        log.info("%s: CV fold 4 CI by epoch %s", mode, {e: round(r["ci"], 4) for e, r in curve.items()})
    return out


if __name__ == "__main__":
    main()
