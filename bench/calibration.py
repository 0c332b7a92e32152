#!/usr/bin/env python
"""Are the caller's GQ and QUAL Phred-scaled error rates? Reliability of a model on labelled examples folders.

For every labelled example (make-examples --truth) of the folders: GQ = min(99, round(phred(1 - max p))), an
error when argmax p != label; QUAL = min(99, round(phred(p(0 copies)))), an error when the label is 0. Per bin of
stated quality it prints n, errors, the mean stated value, the observed Phred = -10 log10(errors / n) (a bin with
0 errors uses 0.5 errors, marked '*'), its 95% Clopper-Pearson interval, the difference and whether it is within
±3 Phred; the requirement is that up to GQ 40. Writes OUT_PREFIX.json (tables, per folder too),
OUT_PREFIX.tsv (pooled tables) and OUT_PREFIX.png (reliability plot, pooled GQ and QUAL). With a calibrated
model the JSON also holds the uncalibrated tables of the same examples ("pooled_raw"), from the same forward pass.

Score folders that did NOT fit the calibration (the model's "calibration.fitted_on" is printed; a scored folder
of the same name is flagged as in-sample).

    python bench/calibration.py --examples .dev/cal/ex_score20 .dev/cal/ex_dev_confident
    python bench/calibration.py --model .dev/cal/model --examples .dev/cal/ex_score20 --raw   # uncalibrated
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "caller-wgs-illumina"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=MODEL, help="caller model directory (default: the shipped one)")
    p.add_argument("--examples", type=Path, nargs="+", required=True, metavar="DIR",
                   help="labelled examples folders to score (held out from the calibration fit)")
    p.add_argument("--out-prefix", type=Path, default=ROOT / ".dev" / "calibration" / "reliability",
                   help="write OUT_PREFIX.json, .tsv and .png (default: .dev/calibration/reliability)")
    p.add_argument("--raw", action="store_true", help="score the network's uncalibrated probabilities")
    args = p.parse_args(argv)
    missing = [path for path in (args.model / "model.json", *args.examples) if not path.exists()]
    if missing:
        print(f"bench/calibration.py: not found: {', '.join(map(str, missing))} (a model directory and labelled "
              "examples folders from `genoscreen make-examples --truth`)", file=sys.stderr)
        return 2

    import numpy as np

    from genoscreen.caller import calibration as cal
    from genoscreen.caller.calibrate import labelled_probs
    from genoscreen.caller.predictor import load_predictor
    from genoscreen.common.errors import GenoscreenError

    try:
        predictor = load_predictor(args.model, calibrated=False)
        calibration = None if args.raw else cal.from_model_info(predictor.info, args.model)
        per_folder = {str(f): labelled_probs(predictor, [f]) for f in args.examples}
    except GenoscreenError as err:
        print(f"bench/calibration.py: {err}", file=sys.stderr)
        return 2
    entry = predictor.info.get(cal.KEY) if calibration is not None else None
    fitted_on = [str(f) for f in (entry or {}).get("fitted_on") or []]
    if calibration is None:
        applied = "none (raw network probabilities)" if args.raw else "none (the model has no calibration)"
    else:
        applied = (f"{calibration.describe()} fitted on {', '.join(fitted_on) or '?'} "
                   f"({entry.get('n_examples')} examples)")
    fitted_names = {Path(f).name for f in fitted_on}
    in_sample = [f for f in args.examples if f.name in fitted_names]

    def stated(probs):
        return probs if calibration is None else calibration.apply(probs)

    raw = np.concatenate([pr for pr, _ in per_folder.values()])
    labels = np.concatenate([lab for _, lab in per_folder.values()])
    pooled = cal.report(stated(raw), labels)
    pooled_raw = cal.report(raw, labels) if calibration is not None else None
    folders = {name: cal.report(stated(pr), lab) for name, (pr, lab) in per_folder.items()}

    print(f"# model {args.model}; calibration applied: {applied}")
    print(f"# scored folders: {', '.join(str(f) for f in args.examples)}")
    if in_sample:
        print(f"# WARNING: {', '.join(map(str, in_sample))} share a name with a folder the calibration was fitted on: "
              "in-sample")
    for name, r in folders.items():
        print(f"#   {name}: {r['n']} examples, accuracy {r['accuracy']:.4f}, NLL {r['nll']:.4f}")
    print(f"# pooled: {pooled['n']} examples, accuracy {pooled['accuracy']:.4f}, NLL {pooled['nll']:.4f}"
          + (f" (uncalibrated NLL {pooled_raw['nll']:.4f})" if pooled_raw else ""))
    print(f"# observed = -10 log10(errors/n); '*' = 0 errors, observed from 0.5 errors (pseudo-count); "
          f"requirement: within ±{cal.TOLERANCE:g} up to GQ 40")
    for kind in ("GQ", "QUAL"):
        print()
        print("\n".join(cal.format_table(pooled[kind], kind)))
    if pooled_raw:
        print("\n# the same examples, uncalibrated:")
        print("\n".join(cal.format_table(pooled_raw["GQ"], "GQ")))

    prefix = args.out_prefix
    prefix.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": str(args.model), "calibration": entry, "raw": args.raw,
            "scored": [str(f) for f in args.examples], "in_sample": [str(f) for f in in_sample]}
    Path(f"{prefix}.json").write_text(json.dumps({**meta, "pooled": pooled, "pooled_raw": pooled_raw,
                                                  "folders": folders}, indent=2) + "\n")
    columns = ["bin", "n", "errors", "stated", "observed", "zero_errors", "ci", "diff", "within", "ci_ok"]
    with open(f"{prefix}.tsv", "w") as handle:
        handle.write("\t".join(["kind", *columns]) + "\n")
        for kind in ("GQ", "QUAL"):
            for row in pooled[kind]:
                handle.write("\t".join([kind, *(str(row[c]) for c in columns)]) + "\n")
    title = f"{args.model.name} ({'raw' if calibration is None else 'calibrated'}), n={pooled['n']}"
    cal.reliability_plot({kind: pooled[kind] for kind in ("GQ", "QUAL")}, f"{prefix}.png", title)
    print(f"\n# wrote {prefix}.json, {prefix}.tsv, {prefix}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
