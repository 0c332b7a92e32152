"""Record what the shipped affinity models output, to check that a refactoring changes no number.

    python bench/affinity_outputs.py record OUT.npz [--data ../shared/data/dta] [--pairs 300]
    python bench/affinity_outputs.py compare BEFORE.npz AFTER.npz [--tol 1e-6]

`record` runs, through the command line, `affinity predict` on the first --pairs pairs of Davis and KIBA fold 0
with each shipped model (resources/models/dta-davis, dta-kiba), `screen` of those pairs' drugs against their
targets (FASTA) and against each model's own panel, and a two-epoch `affinity train` of the test preset with a
validation fold (its per-epoch validation MSE and CI: training's validation path). The inputs it cuts from the
data go to a temporary folder, never into the repository. `compare` prints the largest absolute difference per
output and fails if any exceeds --tol.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.cli import main

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"davis": ROOT / "resources/models/dta-davis", "kiba": ROOT / "resources/models/dta-kiba"}


def _subset(data: Path, name: str, n_pairs: int, work: Path) -> tuple[Path, Path, Path]:
    """drugs.tsv, targets.fasta, pairs.tsv of the first n_pairs pairs of fold 0 (and the drugs/targets they use)."""
    from genoscreen.affinity.io.proteins import read_targets

    src = data / name
    pairs = pd.read_csv(src / "train_pairs.tsv", sep="\t", dtype={"drug_id": str, "target_id": str})
    pairs = pairs[pairs["fold"] == 0].head(n_pairs)
    drugs = pd.read_csv(src / "drugs.tsv", sep="\t", dtype=str)
    drugs = drugs[drugs["drug_id"].isin(set(pairs["drug_id"]))]
    targets = read_targets(src / "targets.fasta")
    out = work / name
    out.mkdir(parents=True)
    drugs.to_csv(out / "drugs.tsv", sep="\t", index=False)
    (out / "targets.fasta").write_text("".join(f">{t}\n{targets[t]}\n" for t in dict.fromkeys(pairs["target_id"])))
    pairs[["drug_id", "target_id"]].to_csv(out / "pairs.tsv", sep="\t", index=False)
    label = pairs.columns[2]
    pairs[["drug_id", "target_id", label, "fold"]].assign(fold=np.arange(len(pairs)) % 3).to_csv(
        out / "labelled.tsv", sep="\t", index=False)
    return out / "drugs.tsv", out / "targets.fasta", out / "pairs.tsv"


def _hits(path: Path) -> np.ndarray:
    """A Parquet hits table's predictions (float32, unrounded) in (target, compound) order."""
    table = pd.read_parquet(path)
    return table.sort_values(["target_id", "compound_id"])["prediction"].to_numpy(np.float64)


def _predict_float32(model_dir: Path, drugs: Path, targets: Path, pairs: Path) -> np.ndarray:
    """`affinity predict`'s numbers before the TSV rounds them (its library call)."""
    from genoscreen.affinity.checkpoint import load_model

    try:
        from genoscreen.affinity.data import load_inputs
        from genoscreen.affinity.inference import predict
    except ImportError:  # before issue 22: one module did both
        from genoscreen.affinity.train import load_inputs, predict
    model, config = load_model(model_dir)
    data, _, _ = load_inputs(drugs, targets, pairs, config)
    return predict(model, data).astype(np.float64)


def _run(argv: list[str]) -> None:
    if main(argv) != 0:
        raise SystemExit(f"failed: genoscreen {' '.join(argv)}")


def record(out: Path, data: Path, n_pairs: int) -> None:
    results: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, model in MODELS.items():
            drugs, targets, pairs = _subset(data, name, n_pairs, work)
            for model_name, model_dir in MODELS.items():
                predicted = work / f"{name}.{model_name}.pred.tsv"
                _run(["affinity", "predict", "--model", str(model_dir), "--drugs", str(drugs), "--targets",
                      str(targets), "--pairs", str(pairs), "--out", str(predicted)])
                results[f"predict/{name}/{model_name}"] = pd.read_csv(predicted, sep="\t")["prediction"].to_numpy()
                results[f"predict_float32/{name}/{model_name}"] = _predict_float32(model_dir, drugs, targets, pairs)
                hits = work / f"{name}.{model_name}.hits.parquet"
                _run(["screen", "--model", str(model_dir), "--compounds", str(drugs), "--targets", str(targets),
                      "--out", str(hits)])
                results[f"screen/{name}/{model_name}"] = _hits(hits)
                panel_hits = work / f"{name}.{model_name}.panel.parquet"
                _run(["screen", "--model", str(model_dir), "--compounds", str(drugs), "--panel", model_name,
                      "--top-k", "5", "--out", str(panel_hits)])
                results[f"panel/{name}/{model_name}"] = _hits(panel_hits)
            trained = work / f"{name}.trained"
            _run(["affinity", "train", "--preset", "test", "--epochs", "2", "--drugs", str(drugs), "--targets",
                  str(targets), "--pairs", str(drugs.with_name("labelled.tsv")), "--val-fold", "0", "--out",
                  str(trained)])
            history = json.loads((trained / "config.json").read_text())["training"]["history"]
            results[f"train/{name}/val"] = np.array([[h["val_mse"], h["val_ci"]] for h in history])
    np.savez(out, **results)
    print(f"{out}: " + ", ".join(f"{k} ({v.size})" for k, v in results.items()))


def compare(before: Path, after: Path, tol: float) -> int:
    a, b = np.load(before), np.load(after)
    worst = 0.0
    for key in sorted(set(a.files) | set(b.files)):
        if key not in a.files or key not in b.files or a[key].shape != b[key].shape:
            print(f"{key}: missing or shape differs")
            return 1
        diff = float(np.nanmax(np.abs(a[key] - b[key]))) if a[key].size else 0.0
        same_na = bool(np.array_equal(np.isnan(a[key]), np.isnan(b[key])))
        worst = max(worst, diff if same_na else np.inf)
        print(f"{key}: {a[key].size} values, max |diff| {diff:.3g}{'' if same_na else ', NA differ'}")
    print(f"max |diff| over all outputs: {worst:.3g} (tolerance {tol:g})")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("record")
    p.add_argument("out", type=Path)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/dta")
    p.add_argument("--pairs", type=int, default=300)
    p = sub.add_parser("compare")
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--tol", type=float, default=1e-6)
    args = parser.parse_args()
    if args.command == "record":
        record(args.out, args.data, args.pairs)
        sys.exit(0)
    sys.exit(compare(args.before, args.after, args.tol))
