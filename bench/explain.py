#!/usr/bin/env python
"""Are `genoscreen explain`'s attributions faithful, and what do they cost? Deletion curves and the cost bound.

Affinity (integrated gradients of the prediction onto SMILES characters and residues, `affinity/explain.py`):
  A Davis model that never saw fold K (`genoscreen affinity train --train-folds <the others>`, trained here unless
  --affinity-model names one) explains --pairs pairs of fold K (held out: they chose nothing). Deletion: the top-k
  attributed positions of the drug (the target) are deleted (their one-hot rows zeroed, as padding: the IG
  baseline) for k = 5, 10, 20, 30, 50% of its positions, against k random positions (mean of 3 draws); the mean
  prediction of each, per fraction. Faithful attributions lower the prediction faster: the area between the
  curves (random − top, pKd units, mean over the fractions) is positive.
  Cost: the bound is the model's forward + backward pass on a batch of pairs, timed alone, times the integration
  steps; the achieved rate is `explain_pairs` on the held-out pairs (compiled first). Goal: >= 50% of the bound.

Calls (integrated gradients of the called genotype's probability onto the pileup, `caller/explain.py`):
  `genoscreen make-examples --truth` on the real dev reads; the true-positive non-reference calls of the shipped
  caller (argmax = label >= 1) are explained. Per read row, the attribution over the read's own channels (the
  site-summary channels site_pl_* are the same on every row and are left out). Alt vs ref: for het calls, the mean
  attribution of the rows carrying the alt (read_supports_variant 255) against the reference-carrying rows (127):
  the share of calls where alt rows get more (goal >= 90%), signed and by magnitude (|attribution|: a het's
  reference reads are evidence too, against hom-alt, so they may rightly carry positive attribution). Deletion: the top-k rows by attribution have their read
  channels zeroed (the read removed from the image; the site summary unchanged) for k = 1, 2, 4, 8, 16, against k
  random read rows (mean of 3 draws): the drop of p(called genotype), and the area between the curves.
  Sets: na12878_2x101 chr20:10,000,001-10,022,500 and hg001_2x151 20:10,000,001-10,045,000 (out-of-sample: never
  trained on), na12878_2x101_train_half chr20:10,022,501-10,045,000 (the caller was fine-tuned on it: in-sample,
  reported apart).

    python bench/explain.py                                   # both parts (~15 min on 2 cores, training included)
    python bench/explain.py --part call
    python bench/explain.py --part affinity --affinity-model results/bench/explain/davis_fold0

Writes OUT_PREFIX.json, OUT_PREFIX.tsv (the curves) and OUT_PREFIX.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DAVIS = SHARED / "dta" / "davis"
DEV = SHARED / "genomics" / "dev"
FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5)
READ_KS = (1, 2, 4, 8, 16)
DRAWS = 3
NA12878 = dict(bam=DEV / "NA12878_S1.chr20.10_10p045mb.bam", ref=DEV / "ucsc.hg19.chr20.unittest.fasta.gz",
               truth=DEV / "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz")
CALL_SETS = {
    "na12878_2x101": dict(region="chr20:10000001-10022500", in_sample=False, **NA12878),
    "hg001_2x151": dict(bam=DEV / "HG001.chr20.10_10p1mb_sorted.bam", ref=DEV / "b37names.ucsc.hg19.chr20.unittest.fasta.gz",
                        truth=DEV / "HG001_GIAB_v3.3.2.20_9995000_10045000.vcf.gz", region="20:10000001-10045000",
                        in_sample=False),
    "na12878_2x101_train_half": dict(region="chr20:10022501-10045000", in_sample=True, **NA12878),
}


def genoscreen(*args) -> None:
    subprocess.run([sys.executable, "-m", "genoscreen", "-q", *map(str, args)], check=True, stdout=subprocess.DEVNULL)


def area(xs, top, rand) -> float:
    """Mean of (rand - top) over the x range (trapezoid rule, from x = 0 where both curves start equal)."""
    xs = np.concatenate([[0.0], np.asarray(xs, float)])
    diff = np.concatenate([[0.0], np.asarray(rand) - np.asarray(top)])
    return float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(xs)) / (xs[-1] - xs[0]))


# ----------------------------------------------------------------------------------------------------------- affinity
def affinity_part(args) -> dict:
    import jax
    from flax import nnx

    from genoscreen.affinity.checkpoint import load_model
    from genoscreen.affinity.explain import _integrated_gradients, explain_pairs, onehot_inputs, predict_onehot
    from genoscreen.affinity.io.compounds import load_compounds
    from genoscreen.affinity.io.pairs import read_pairs
    from genoscreen.affinity.io.proteins import read_targets

    pairs = read_pairs(DAVIS / "train_pairs.tsv")  # ids as text, as the compound and FASTA readers give them
    model_dir = args.affinity_model
    if model_dir is None:
        model_dir = args.workdir / f"davis_fold{args.heldout_fold}"
        if not (model_dir / "config.json").exists():
            folds = sorted(int(f) for f in pairs["fold"].unique() if f != args.heldout_fold and f >= 0)
            print(f"training a Davis model without fold {args.heldout_fold} ({args.train_epochs} epochs) ...", flush=True)
            genoscreen("affinity", "train", "--drugs", DAVIS / "drugs.tsv", "--targets", DAVIS / "targets.fasta",
                       "--pairs", DAVIS / "train_pairs.tsv", "--preset", "davis", "--epochs", args.train_epochs,
                       "--train-folds", *folds, "--out", model_dir)
    model, config = load_model(model_dir)
    ids, smiles, _ = load_compounds(DAVIS / "drugs.tsv")
    by_id = dict(zip(ids, smiles))
    sequences = read_targets(DAVIS / "targets.fasta")
    held = pairs[pairs["fold"] == args.heldout_fold]
    held = held.sample(n=min(args.pairs, len(held)), random_state=0).reset_index(drop=True)
    d_ids, t_ids = list(held["drug_id"]), list(held["target_id"])
    d_smiles, t_seqs = [by_id[d] for d in d_ids], [sequences[t] for t in t_ids]
    batch, steps = args.batch, args.steps

    # the bound: forward + backward of one batch, alone, times the steps
    graphdef, state = nnx.split(model)
    d, t, masks, _ = onehot_inputs(config, d_smiles[:batch], t_seqs[:batch], batch)
    grad = jax.jit(jax.grad(lambda st, d, t: predict_onehot(graphdef, st, d, t, masks).sum(), argnums=(1, 2)))
    jax.block_until_ready(grad(state, d, t))
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        jax.block_until_ready(grad(state, d, t))
    grad_s = (time.perf_counter() - t0) / reps
    bound = batch / (grad_s * steps)
    jax.block_until_ready(_integrated_gradients(graphdef, state, d, t, masks, steps))  # compile, untimed
    t0 = time.perf_counter()
    explanations = explain_pairs(model, config, d_ids, d_smiles, t_ids, t_seqs, steps, batch)
    achieved = len(explanations) / (time.perf_counter() - t0)

    # deletion curves, drug and target apart
    rng = np.random.default_rng(0)
    curves = {"drug": {"top": [], "random": []}, "target": {"top": [], "random": []}}
    for start in range(0, len(explanations), batch):
        chunk = explanations[start : start + batch]
        d, t, masks, _ = onehot_inputs(config, d_smiles[start : start + batch], t_seqs[start : start + batch], batch)
        for side, onehot, attr_of in (("drug", d, lambda e: e.drug), ("target", t, lambda e: e.target)):
            top_rows, rand_rows = [], []
            for q in FRACTIONS:
                top = onehot.copy()
                rands = [onehot.copy() for _ in range(DRAWS)]
                for k, e in enumerate(chunk):
                    a = attr_of(e)
                    n = max(1, int(np.ceil(q * len(a))))
                    top[k, np.argsort(-a, kind="stable")[:n]] = 0
                    for r in rands:
                        r[k, rng.choice(len(a), n, replace=False)] = 0
                args_top = (top, t) if side == "drug" else (d, top)
                top_rows.append(np.asarray(predict_onehot(graphdef, state, *args_top, masks))[: len(chunk)])
                rand_pred = [np.asarray(predict_onehot(graphdef, state, *((r, t) if side == "drug" else (d, r)),
                                                       masks))[: len(chunk)] for r in rands]
                rand_rows.append(np.mean(rand_pred, axis=0))
            curves[side]["top"].append(np.stack(top_rows, 1))  # [pairs, fractions]
            curves[side]["random"].append(np.stack(rand_rows, 1))
    prediction = np.array([e.prediction for e in explanations])
    result = {"model": str(model_dir), "heldout_fold": args.heldout_fold, "pairs": len(explanations), "steps": steps,
              "batch": batch, "mean_prediction": float(prediction.mean()),
              "worst_completeness_error": float(max(e.completeness_error for e in explanations)),
              "median_completeness_error": float(np.median([e.completeness_error for e in explanations])),
              "pairs_within_1pct": float(np.mean([e.completeness_error <= 0.01 for e in explanations])),
              "worst_completeness_abs": float(max(abs(e.total - (e.prediction - e.baseline)) for e in explanations)),
              "grad_batch_s": grad_s, "bound_pairs_per_s": bound, "achieved_pairs_per_s": achieved,
              "achieved_over_bound": achieved / bound, "fractions": list(FRACTIONS)}
    for side, c in curves.items():
        top, rand = np.concatenate(c["top"]), np.concatenate(c["random"])
        result[side] = {"top": top.mean(0).tolist(), "random": rand.mean(0).tolist(),
                        "area_between": area(FRACTIONS, top.mean(0), rand.mean(0)),
                        "pairs_top_below_random_at_10pct": float(np.mean(top[:, 1] < rand[:, 1]))}
    return result


# -------------------------------------------------------------------------------------------------------------- calls
def call_part(args) -> dict:
    from genoscreen.caller.explain import explain_sites
    from genoscreen.caller.model import load_model, predict_fn
    from genoscreen.variants.examples import read_examples
    from genoscreen.variants.pileup import SITE_PL_CHANNELS

    model, pileup, _ = load_model(args.caller_model)
    forward = predict_fn(model)
    channels = list(pileup.channels)
    read_channels = [i for i, c in enumerate(channels) if c not in SITE_PL_CHANNELS]
    support = channels.index("read_supports_variant")
    R = pileup.ref_rows
    out = {"model": str(args.caller_model), "steps": args.steps, "ks": list(READ_KS), "sets": {}}
    rng = np.random.default_rng(0)
    for name, s in CALL_SETS.items():
        folder = args.workdir / f"examples_{name}"
        if not (folder / "summary.json").exists():
            genoscreen("make-examples", "--bam", s["bam"], "--ref", s["ref"], "--truth", s["truth"], "--regions",
                       s["region"], "--model", args.caller_model, "--out", folder)
        ex = read_examples(folder)
        probs = np.concatenate([np.asarray(forward(ex["tensors"][i : i + 256]))
                                for i in range(0, len(ex["tensors"]), 256)])
        called = probs.argmax(1)
        tp = np.flatnonzero((called == ex["label"]) & (ex["label"] >= 1))[: args.max_calls]
        tensors, genotypes = ex["tensors"][tp], called[tp]
        attr, p_x, _ = explain_sites(model, tensors, genotypes, args.steps)
        per_row = attr[..., read_channels].sum(axis=(2, 3))  # [n, H]
        row_support = tensors[:, :, :, support].max(axis=2)  # [n, H]: 255 alt, 127 ref, 0 no read
        alt_over_ref, alt_over_ref_abs, hets = [], [], 0
        top_curve, rand_curve = [], []
        for i in range(len(tp)):
            reads = np.flatnonzero(row_support[i, R:] > 0) + R
            alt, ref = reads[row_support[i, reads] == 255], reads[row_support[i, reads] == 127]
            if genotypes[i] == 1 and len(alt) and len(ref):
                hets += 1
                alt_over_ref.append(per_row[i, alt].mean() > per_row[i, ref].mean())
                alt_over_ref_abs.append(np.abs(per_row[i, alt]).mean() > np.abs(per_row[i, ref]).mean())
            top_row, rand_row = [], []
            for k in READ_KS:
                k = min(k, len(reads))
                order = reads[np.argsort(-per_row[i, reads], kind="stable")[:k]]
                batch = [tensors[i].copy() for _ in range(1 + DRAWS)]
                batch[0][np.ix_(order, np.arange(tensors.shape[2]), read_channels)] = 0
                for b in batch[1:]:
                    pick = rng.choice(reads, k, replace=False)
                    b[np.ix_(pick, np.arange(tensors.shape[2]), read_channels)] = 0
                p = np.asarray(forward(np.stack(batch)))[:, genotypes[i]]
                top_row.append(p_x[i] - p[0])
                rand_row.append(p_x[i] - p[1:].mean())
            top_curve.append(top_row)
            rand_curve.append(rand_row)
        top, rand = np.array(top_curve), np.array(rand_curve)
        out["sets"][name] = {
            "in_sample": s["in_sample"], "region": s["region"], "examples": int(len(ex["label"])),
            "true_positive_calls": int(len(tp)), "hets_with_alt_and_ref_reads": hets,
            "alt_reads_above_ref_reads": float(np.mean(alt_over_ref)) if alt_over_ref else None,
            "alt_reads_above_ref_reads_magnitude": float(np.mean(alt_over_ref_abs)) if alt_over_ref_abs else None,
            "drop_top": top.mean(0).tolist(), "drop_random": rand.mean(0).tolist(),
            # the drops: a faithful top-k removes more, so random - top of the *predictions* = top - random drops
            "area_between": area(READ_KS, -top.mean(0), -rand.mean(0)),
            "calls_top_drop_above_random_at_4": float(np.mean(top[:, 2] > rand[:, 2])),
            "_alt": alt_over_ref, "_alt_abs": alt_over_ref_abs, "_top": top, "_rand": rand,
        }
    pooled = [v for v in out["sets"].values() if not v["in_sample"]]
    alt = [x for v in pooled for x in v.pop("_alt")]
    alt_abs = [x for v in pooled for x in v.pop("_alt_abs")]
    top = np.concatenate([v.pop("_top") for v in pooled])
    rand = np.concatenate([v.pop("_rand") for v in pooled])
    for v in out["sets"].values():
        for key in ("_alt", "_alt_abs", "_top", "_rand"):
            v.pop(key, None)
    out["out_of_sample"] = {"true_positive_calls": int(len(top)), "hets": len(alt),
                            "alt_reads_above_ref_reads": float(np.mean(alt)),
                            "alt_reads_above_ref_reads_magnitude": float(np.mean(alt_abs)), "drop_top": top.mean(0).tolist(),
                            "drop_random": rand.mean(0).tolist(),
                            "area_between": area(READ_KS, -top.mean(0), -rand.mean(0))}
    return out


# ------------------------------------------------------------------------------------------------------------ output
def write(result: dict, prefix: Path) -> None:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_suffix(".json").write_text(json.dumps(result, indent=2))
    lines = ["part\tcurve\tx\ttop\trandom"]
    if "affinity" in result:
        a = result["affinity"]
        for side in ("drug", "target"):
            lines += [f"affinity\t{side}\t{q}\t{t:.4f}\t{r:.4f}" for q, t, r in zip(a["fractions"], a[side]["top"],
                                                                                    a[side]["random"])]
    if "call" in result:
        c = result["call"]["out_of_sample"]
        lines += [f"call\tdrop_of_p\t{k}\t{t:.4f}\t{r:.4f}" for k, t, r in zip(READ_KS, c["drop_top"], c["drop_random"])]
    prefix.with_suffix(".tsv").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("affinity", "call") if p in result]
    fig, axes = plt.subplots(1, len(panels) + ("affinity" in result), figsize=(5 * (len(panels) + 1), 4))
    axes = np.atleast_1d(axes)
    k = 0
    if "affinity" in result:
        a = result["affinity"]
        for side in ("drug", "target"):
            ax = axes[k]
            ax.plot(a["fractions"], a[side]["top"], "o-", label="top attributed deleted")
            ax.plot(a["fractions"], a[side]["random"], "s--", label="random deleted")
            ax.set(xlabel=f"fraction of {side} positions deleted", ylabel="mean predicted pKd",
                   title=f"{side} (area {a[side]['area_between']:.3f})")
            ax.legend()
            k += 1
    if "call" in result:
        c = result["call"]["out_of_sample"]
        ax = axes[k]
        ax.plot(READ_KS, c["drop_top"], "o-", label="top attributed reads removed")
        ax.plot(READ_KS, c["drop_random"], "s--", label="random reads removed")
        ax.set(xscale="log", xlabel="reads removed", ylabel="drop of p(called genotype)",
               title=f"calls, out-of-sample (alt>ref {c['alt_reads_above_ref_reads']:.0%})")
        ax.legend()
    fig.tight_layout()
    fig.savefig(prefix.with_suffix(".png"), dpi=100)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=("affinity", "call", "both"), default="both")
    p.add_argument("--affinity-model", type=Path, help="a Davis model that never saw --heldout-fold (default: "
                   "trained here into WORKDIR/davis_foldK)")
    p.add_argument("--heldout-fold", type=int, default=0, help="the Davis fold explained (default 0)")
    p.add_argument("--train-epochs", type=int, default=20, help="epochs of the model trained here (default 20)")
    p.add_argument("--pairs", type=int, default=256, help="held-out pairs explained (default 256)")
    p.add_argument("--batch", type=int, default=8, help="pairs per jitted call (default 8, as the CLI)")
    p.add_argument("--steps", type=int, default=128, help="integration steps (default 128, as the CLI)")
    p.add_argument("--caller-model", type=Path, default=ROOT / "resources" / "models" / "caller-wgs-illumina")
    p.add_argument("--max-calls", type=int, default=400, help="true-positive calls explained per set (default 400)")
    p.add_argument("--workdir", type=Path, default=ROOT / "results" / "bench" / "explain")
    p.add_argument("--out-prefix", type=Path, default=ROOT / "results" / "bench" / "explain" / "explain")
    args = p.parse_args(argv)
    need = [DAVIS / "train_pairs.tsv"] if args.part != "call" else []
    need += [DEV / "NA12878_S1.chr20.10_10p045mb.bam"] if args.part != "affinity" else []
    missing = [str(x) for x in need if not x.exists()]
    if missing:
        print(f"bench/explain.py: skipped: {', '.join(missing)} not found (../shared holds the data)", file=sys.stderr)
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = {}
    if args.part in ("affinity", "both"):
        result["affinity"] = a = affinity_part(args)
        print(f"affinity: {a['pairs']} Davis fold-{a['heldout_fold']} pairs (held out from the model), {a['steps']} "
              f"steps, completeness error: median {a['median_completeness_error']:.2%}, within 1% for "
              f"{a['pairs_within_1pct']:.0%} of pairs, worst {a['worst_completeness_error']:.1%} (relative to the "
              f"pair's f(x) - f(baseline)) = {a['worst_completeness_abs']:.3f} pKd")
        for side in ("drug", "target"):
            print(f"  deletion {side}: area between random and top curves {a[side]['area_between']:+.3f} pKd; "
                  f"top below random at 10% for {a[side]['pairs_top_below_random_at_10pct']:.0%} of pairs")
        print(f"  cost: bound {a['bound_pairs_per_s']:.1f} pairs/s (forward+backward {1000 * a['grad_batch_s']:.1f} ms "
              f"per batch of {a['batch']} x {a['steps']} steps), achieved {a['achieved_pairs_per_s']:.1f} pairs/s = "
              f"{a['achieved_over_bound']:.0%} of the bound (goal >= 50%)")
    if args.part in ("call", "both"):
        result["call"] = c = call_part(args)
        for name, s in c["sets"].items():
            print(f"calls {name} ({'IN-SAMPLE' if s['in_sample'] else 'out-of-sample'}): {s['true_positive_calls']} "
                  f"TP calls, alt reads above ref reads in {s['alt_reads_above_ref_reads']} of "
                  f"{s['hets_with_alt_and_ref_reads']} hets (by magnitude {s['alt_reads_above_ref_reads_magnitude']}), deletion area "
                  f"{s['area_between']:+.3f}")
        o = c["out_of_sample"]
        print(f"calls out-of-sample pooled: {o['true_positive_calls']} TP calls; alt reads get more attribution than "
              f"ref reads in {o['alt_reads_above_ref_reads']:.1%} of {o['hets']} hets (goal >= 90%; by magnitude "
              f"{o['alt_reads_above_ref_reads_magnitude']:.1%}); drop of p at "
              f"k={READ_KS}: top {np.round(o['drop_top'], 3).tolist()} vs random {np.round(o['drop_random'], 3).tolist()}"
              f", area {o['area_between']:+.3f}")
    write(result, args.out_prefix)
    print(f"wrote {args.out_prefix}.json/.tsv/.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
