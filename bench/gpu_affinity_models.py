"""Choose the DeepDTA training settings by 5-fold CV and train the shipped models, in parallel on one GPU.

    python bench/gpu_affinity_models.py --data .gpu/dta --out $OUT [--budget 270] [--preset-suffix ""]

Davis: each candidate setting runs `genoscreen affinity cv` (5 folds, the held-out fold's CI recorded every 5
epochs); KIBA: one setting, its 5 folds as parallel processes. The epoch count is the argmax of the mean held-out
CI over the learning curve, the setting the best mean CI at that epoch; the final models are then trained on all
five folds with that setting and epoch count (`genoscreen affinity train`), and their model cards cite the CV.
Every process gets a --time-budget so the whole run ends inside --budget seconds. Results: dta-davis.tar.gz,
dta-kiba.tar.gz, cv.tar.gz (every CV folder + selection.json), logs.tar.gz.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pandas as pd

DAVIS_SETTINGS = {
    "block16_warm": ["warmup_steps=400", "block_targets=16", "max_batch_targets=16", "max_batch_drugs=72"],
    "block6_warm": ["warmup_steps=400"],
    "block16_warm_k12": ["warmup_steps=400", "block_targets=16", "max_batch_targets=16", "max_batch_drugs=72",
                         "kernel_target=12"],
}
KIBA_SETTING = ["warmup_steps=400", "block_targets=16", "max_batch_targets=16", "max_batch_drugs=224"]


def best_epoch(curve: pd.DataFrame) -> dict | None:
    """The row of a learning curve (epoch, ci_mean, mse_mean, n_folds) with the best mean held-out CI over the
    epochs every fold reached; None when no epoch was reached by all."""
    curve = curve[curve["n_folds"] == curve["n_folds"].max()]
    if curve.empty:
        return None
    row = curve.loc[curve["ci_mean"].idxmax()]
    return {"epoch": int(row["epoch"]), "ci_mean": float(row["ci_mean"]), "mse_mean": float(row["mse_mean"]),
            "n_folds": int(row["n_folds"])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=".gpu/dta")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/gpu_affinity_work")
    ap.add_argument("--budget", type=float, default=270.0)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--davis-preset", default="davis")
    ap.add_argument("--kiba-preset", default="kiba")
    ap.add_argument("--davis-settings", default=",".join(DAVIS_SETTINGS), help="comma-separated subset (dry runs)")
    ap.add_argument("--kiba-folds", type=int, default=5, help="run KIBA CV folds 0..N-1 (dry runs)")
    args = ap.parse_args()
    t0 = time.time()
    deadline = t0 + args.budget
    out, work = Path(args.out), Path(args.work)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false", PYTHONUNBUFFERED="1",
               PYTHONPATH=f"{Path('src').resolve()}:{os.environ.get('PYTHONPATH', '')}")

    def inputs(name):
        d = Path(args.data) / name
        return ["--drugs", str(d / "drugs.tsv"), "--targets", str(d / "targets.fasta"), "--pairs", str(d / "train_pairs.tsv")]

    def launch(tag, argv, budget):
        log = open(work / "logs" / f"{tag}.log", "w")
        cmd = [sys.executable, "-m", "genoscreen", "affinity", *argv, "--time-budget", str(int(budget))]
        log.write(" ".join(cmd) + "\n")
        log.flush()
        return tag, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)

    def wait(procs):
        for tag, p in procs:
            try:
                rc = p.wait(timeout=max(5, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                rc = "killed at the deadline"
            print(f"{time.time() - t0:6.1f}s {tag} rc={rc}", flush=True)

    def sets(items):
        return [w for item in items for w in ("--set", item)]

    cv_budget = 0.55 * args.budget
    procs = []
    settings = {name: DAVIS_SETTINGS[name] for name in args.davis_settings.split(",")}
    for name, items in settings.items():
        procs.append(launch(f"davis_cv_{name}", ["cv", *inputs("davis"), "--preset", args.davis_preset, "--epochs",
                                                 str(args.epochs), "--monitor-every", "5", "--out",
                                                 str(work / "cv" / f"davis_{name}"), *sets(items)], cv_budget))
    for k in range(args.kiba_folds):
        procs.append(launch(f"kiba_cv_fold{k}", ["cv", *inputs("kiba"), "--preset", args.kiba_preset, "--epochs",
                                                 str(args.epochs), "--monitor-every", "5", "--folds", str(k), "--out",
                                                 str(work / "cv" / f"kiba_fold{k}"), *sets(KIBA_SETTING)], cv_budget))
    wait(procs)

    # Davis: setting and epoch count by the mean held-out CI over the learning curve.
    selection = {"davis": {}, "kiba": {}}
    best = None
    for name in settings:
        curve_path = work / "cv" / f"davis_{name}" / "learning_curve.tsv"
        if not curve_path.exists():
            continue
        choice = best_epoch(pd.read_csv(curve_path, sep="\t"))
        if choice is None:
            continue
        selection["davis"][name] = choice
        if best is None or choice["ci_mean"] > selection["davis"][best]["ci_mean"]:
            best = name
    selection["davis_choice"] = best
    # KIBA: merge the per-fold runs into one CV summary, epoch count by the same rule.
    kiba_rows, kiba_folds, curves, kiba_summary = [], [], [], {}
    for k in range(args.kiba_folds):
        s = work / "cv" / f"kiba_fold{k}" / "cv_summary.json"
        if s.exists():
            d = json.loads(s.read_text())
            kiba_summary = kiba_summary or d
            kiba_rows += [r for r in d["table"] if r["fold"] not in ("mean", "sd")]
            kiba_folds += d["folds"]
            curves.append(pd.read_csv(s.parent / "learning_curve.tsv", sep="\t")[["epoch", "ci_mean", "mse_mean"]])
    kiba_epochs = args.epochs
    if kiba_rows:
        table = pd.DataFrame(kiba_rows)
        metrics = [c for c in ("ci", "mse", "pearson", "spearman", "rm2", "aupr") if c in table]
        table = pd.concat([table, pd.DataFrame([{"fold": "mean", **table[metrics].mean().to_dict()},
                                                {"fold": "sd", **table[metrics].std(ddof=1).to_dict()}])])
        merged = pd.concat(curves).groupby("epoch").agg(ci_mean=("ci_mean", "mean"), mse_mean=("mse_mean", "mean"),
                                                         n_folds=("ci_mean", "size")).reset_index()
        merged.to_csv(work / "cv" / "kiba_learning_curve.tsv", sep="\t", index=False)
        choice = best_epoch(merged)
        if choice is not None:
            kiba_epochs = choice["epoch"]
            selection["kiba"] = {**choice, "setting": KIBA_SETTING}
        summary = dict(kiba_summary)
        summary.update({"table": json.loads(table.to_json(orient="records")), "folds": kiba_folds,
                        "command": "5 x genoscreen affinity cv --folds K (parallel), see logs/kiba_cv_fold*.log"})
        (work / "cv" / "kiba_cv_summary.json").write_text(json.dumps(summary))
    (work / "cv" / "selection.json").write_text(json.dumps(selection, indent=1))
    print(json.dumps(selection, indent=1), flush=True)

    left = deadline - time.time() - 25
    procs = []
    if best is not None:
        d_items = settings[best]
        procs.append(launch("davis_final", ["train", *inputs("davis"), "--preset", args.davis_preset, "--epochs",
                                            str(selection["davis"][best]["epoch"]), "--out", str(work / "models" / "dta-davis"),
                                            "--cv-summary", str(work / "cv" / f"davis_{best}" / "cv_summary.json"),
                                            *sets(d_items)], left))
    procs.append(launch("kiba_final", ["train", *inputs("kiba"), "--preset", args.kiba_preset, "--epochs",
                                       str(kiba_epochs), "--out", str(work / "models" / "dta-kiba"),
                                       *(["--cv-summary", str(work / "cv" / "kiba_cv_summary.json")] if kiba_rows else []),
                                       *sets(KIBA_SETTING)], left))
    wait(procs)

    for name in ("dta-davis", "dta-kiba"):
        if (work / "models" / name).exists():
            with tarfile.open(out / f"{name}.tar.gz", "w:gz") as tar:
                tar.add(work / "models" / name, arcname=name)
    with tarfile.open(out / "cv.tar.gz", "w:gz") as tar:
        tar.add(work / "cv", arcname="cv", filter=lambda ti: None if "/work" in ti.name or ti.name.endswith(".msgpack") else ti)
    with tarfile.open(out / "logs.tar.gz", "w:gz") as tar:
        tar.add(work / "logs", arcname="logs")
    print(f"done in {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
