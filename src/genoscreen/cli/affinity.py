"""CLI: `genoscreen affinity train|cv|predict|evaluate` — thin wrappers over genoscreen.affinity."""

from __future__ import annotations

import argparse
import logging
import time

from genoscreen.affinity.configs import PRESETS, AffinityConfig
from genoscreen.cli.argtypes import positive_int
from genoscreen.cli.screen import DEFAULT_MODEL, add_column_args, columns_of, register_panels
from genoscreen.common.config import add_config_flags, config_from_args

log = logging.getLogger(__name__)

PRESET_CHOICES = tuple(PRESETS)
# the shorthand flags of train and cv: each is `--set KEY=VALUE` for its key
TRAIN_FLAGS = {"--epochs": "train.epochs", "--seed": "train.seed", "--kernel-drug": "model.kernel_drug",
               "--kernel-target": "model.kernel_target", "--patience": "train.patience"}


def _add_inputs(p: argparse.ArgumentParser, labels: bool) -> None:
    p.add_argument("--drugs", required=True, metavar="FILE",
                   help="compounds: .smi (SMILES id), .tsv/.csv with 'smiles' and 'drug_id'/'compound_id'/'id', or .sdf; "
                        "optionally gzipped")
    add_column_args(p)
    p.add_argument("--targets", required=True, metavar="FASTA", help="protein sequences (FASTA, optionally gzipped)")
    p.add_argument("--pairs", required=True, metavar="TSV",
                   help="pairs TSV with drug_id, target_id" + (", a label column and a fold column" if labels else ""))
    p.add_argument("--errors", metavar="TSV",
                   help="write compounds with invalid SMILES here (row, id, smiles, reason); default: OUT-based name")


def _add_training(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", required=True, choices=PRESET_CHOICES,
                   help="named config: max lengths, kernel sizes, batching (davis 85/1200, kiba 100/1000, bindingdb 100/1200 for sparse many-compound sets; test = tiny CPU model)")
    add_config_flags(p, AffinityConfig, TRAIN_FLAGS, PRESETS)
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="stop training this many seconds after the command started (within 16 steps; "
                        "results are still written, the summary says stopped: time_budget)")


def _config(args):
    from genoscreen.affinity.configs import get_preset

    return config_from_args(get_preset(args.preset), args, TRAIN_FLAGS)  # --set wins over a flag for the same key


def _deadline(args) -> float | None:
    """time.time() at which training stops: --time-budget seconds after the command started (its imports of JAX
    and its compiles included), None without a budget."""
    return time.time() + args.time_budget if args.time_budget else None


def _command_line(args) -> str:
    """The command as typed; rebuilt from the parsed flags when called as a library (no `args.argv`)."""
    import shlex

    from genoscreen.common.io import command_line

    if getattr(args, "argv", None) is not None:
        return command_line(args.argv)
    words = ["genoscreen", "affinity", args.affinity_command]
    for key, value in vars(args).items():
        if key in ("func", "command", "affinity_command", "verbose", "quiet", "argv") or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "set":  # repeatable FIELD=VALUE flag
            for item in value:
                words.extend([flag, item])
            continue
        words.append(flag)
        if value is not True:
            words.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    return " ".join(shlex.quote(w) for w in words)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `affinity` and its sub-commands."""
    parser = sub.add_parser(
        "affinity",
        help="drug-target binding affinity: train, cross-validate, predict, evaluate (DeepDTA)",
        description="DeepDTA binding-affinity model (Öztürk et al. 2018) in JAX/Flax: train, cross-validate, "
                    "predict and evaluate.",
    )
    affinity_sub = parser.add_subparsers(dest="affinity_command", metavar="COMMAND", required=True)

    p = affinity_sub.add_parser("train", help="train a model directory (config.json, weights.safetensors, MODEL_CARD.md)",
                                description="Train DeepDTA. Without --val-fold all pairs are used for --epochs epochs; "
                                            "with --val-fold K, fold K is held out for early stopping and the best "
                                            "epoch's weights are kept.")
    _add_inputs(p, labels=True)
    _add_training(p)
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--val-fold", type=int, metavar="K", help="early stopping on this fold (taken out of training)")
    p.add_argument("--train-folds", type=int, nargs="+", metavar="K", help="train only on these folds (default: all)")
    p.add_argument("--cv-summary", metavar="JSON", help="cv_summary.json of `affinity cv` to cite in the model card")
    p.add_argument("--card-notes", metavar="MD", help="Markdown prose appended to the generated model card")
    p.set_defaults(func=run_train)

    p = affinity_sub.add_parser("cv", help="k-fold cross-validation over the pairs' fold column",
                                description="For each fold k: train on the other folds for --epochs epochs, score "
                                            "fold k. Writes cv_metrics.tsv (every metric per fold, mean and sd), "
                                            "learning_curve.tsv and cv_summary.json into --out; prints the table.")
    _add_inputs(p, labels=True)
    _add_training(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--folds", type=int, nargs="+", metavar="K", help="test folds to run (default: all)")
    p.add_argument("--split", choices=("random", "cold-drug", "cold-target", "mutant"), default="random",
                   help="random: the pairs' fold column; cold-drug / cold-target: every pair of a drug / target held "
                        "out at once (new drugs / targets); mutant: every pair of a rebuilt mutant target held out "
                        "(`affinity mutants`), scored also as predicted vs measured ΔpKd against its wild type "
                        "(default random)")
    p.add_argument("--n-folds", type=positive_int, default=5, metavar="K",
                   help="folds of the cold and mutant splits (default 5; drawn with the config's seed)")
    p.add_argument("--inner-val", action="store_true",
                   help="early stopping on fold k+1 (training on the remaining folds) instead of fixed epochs")
    p.add_argument("--monitor-every", type=positive_int, default=5, metavar="N",
                   help="score the held-out fold every N epochs for the learning curve (default 5)")
    p.set_defaults(func=run_cv)

    p = affinity_sub.add_parser("predict", help="predict affinities for pairs with a trained model",
                                description="Writes a TSV with drug_id, target_id, prediction: one row per input "
                                            "pair in input order (NA where the drug's SMILES is invalid).")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="MODEL_DIR",
                   help="model directory or a shipped model's name (dta-bindingdb, dta-davis, dta-kiba; default: "
                        "%(default)s, the general model)")
    _add_inputs(p, labels=False)
    p.add_argument("--out", required=True, metavar="TSV", help="predictions TSV to write")
    p.set_defaults(func=run_predict)

    p = affinity_sub.add_parser(
        "merge", help="one training set from several (drugs, targets, pairs) on one label scale",
        description="Writes OUT/drugs.tsv, OUT/targets.fasta and OUT/pairs.tsv from the sources, given in the same "
                    "order to each flag (e.g. BindingDB Kd and Davis, both pKd). Ids are kept; an id in two sources "
                    "must be the same molecule or sequence; every source's label column must have the same name; "
                    "a fold column is kept only when every source has one. Invalid SMILES are left out and counted.")
    p.add_argument("--drugs", required=True, nargs="+", metavar="LIB", help="compound files, one per source")
    p.add_argument("--targets", required=True, nargs="+", metavar="FASTA", help="protein FASTAs, one per source")
    p.add_argument("--pairs", required=True, nargs="+", metavar="TSV", help="labelled pairs TSVs, one per source")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (its three files are replaced)")
    p.set_defaults(func=run_merge)

    p = affinity_sub.add_parser(
        "mutants", help="rebuild mutant targets from their names (ABL1(T315I), EGFR(E746A750del)) on the wild type",
        description="Davis gives most mutant kinases the wild type's sequence. Writes --out: the FASTA with every "
                    "mutant whose name states its change (point mutations, several at once, deletions) rebuilt on "
                    "its gene's record (the file's residue numbering, offset per gene where the named residues say "
                    "so); other records unchanged. --report lists each mutant name: built (with the offset) or why "
                    "not.")
    p.add_argument("--targets", required=True, metavar="FASTA", help="protein FASTA with wild types and mutant names")
    p.add_argument("--out", required=True, metavar="FASTA", help="the FASTA with mutants rebuilt")
    p.add_argument("--report", metavar="TSV", help="one row per mutant name: target_id, gene, status, offset "
                                                  "(default: OUT.mutants.tsv)")
    p.set_defaults(func=run_mutants)

    p = affinity_sub.add_parser("evaluate", help="metrics of predictions against labels",
                                description="CI (exact, all comparable pairs), MSE, Pearson, Spearman, r_m^2 "
                                            "(DeepDTA's definition) and AUPR; prints a two-column TSV.")
    p.add_argument("--predictions", required=True, metavar="TSV", help="output of `affinity predict`")
    p.add_argument("--labels", required=True, metavar="TSV", help="pairs TSV with drug_id, target_id and a label column")
    p.add_argument("--threshold", type=float,
                   help="label threshold for AUPR (default: 12.1 for a kiba_score column, else 7.0 = pKd)")
    p.add_argument("--out", metavar="JSON", help="also write the metrics as JSON")
    p.set_defaults(func=run_evaluate)

    register_panels(affinity_sub)


def _errors_path(args, default_stem):
    from pathlib import Path

    return Path(args.errors) if args.errors else Path(f"{default_stem}.invalid_smiles.tsv")


def _report_errors(path) -> None:
    """Name the errors file once it is in place, when it lists any compound."""
    with open(path) as handle:
        n = sum(1 for _ in handle) - 1
    if n > 0:
        log.warning("%d compound(s) with an invalid SMILES listed in %s", n, path)


def _check_paths(args, outputs: dict) -> None:
    """`check_outputs` of a train/cv/predict command: its outputs against its inputs, before any work."""
    from genoscreen.affinity.checkpoint import model_files
    from genoscreen.common.io import check_outputs

    model = getattr(args, "model", None)
    check_outputs(outputs, {"--drugs": args.drugs, "--targets": args.targets, "--pairs": args.pairs,
                            "--model": model_files(model) if model else None,
                            "--cv-summary": getattr(args, "cv_summary", None),
                            "--card-notes": getattr(args, "card_notes", None)})


def run_train(args) -> int:
    from pathlib import Path

    import numpy as np

    from genoscreen.affinity.card import render_model_card
    from genoscreen.affinity.checkpoint import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, save_model
    from genoscreen.affinity.data import fold_indices, load_inputs
    from genoscreen.affinity.fit import device_description, fit
    from genoscreen.affinity.inference import predict
    from genoscreen.affinity.io.truncations import truncation_path, write_truncations
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import atomic_path

    deadline = _deadline(args)
    out = Path(args.out)
    errors = _errors_path(args, out)
    truncated = truncation_path(out)
    _check_paths(args, {"--out": [out / CONFIG_FILE, out / WEIGHTS_FILE, out / CARD_FILE], "--errors": errors,
                        "its truncation table": truncated})
    config = _config(args)
    cv = None
    if args.cv_summary:  # read first: a bad path should not cost a training run
        import json

        try:
            cv = json.loads(Path(args.cv_summary).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(f"{args.cv_summary}: cannot read ({err}); give the cv_summary.json of `affinity cv`") from err
    notes = None
    if args.card_notes:
        try:
            notes = Path(args.card_notes).read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"{args.card_notes}: cannot read ({err}); give a UTF-8 Markdown file") from err
    # the errors file replaces an earlier one only together with the new model (both only when training succeeds)
    with atomic_path(errors) as errors_tmp:
        data, _, _ = load_inputs(args.drugs, args.targets, args.pairs, config, errors_tmp, require_labels=True,
                                 columns=columns_of(args))
        index = np.arange(data.n_pairs)
        if args.train_folds is not None:
            index = fold_indices(data, args.train_folds)
        val_index = None
        if args.val_fold is not None:
            val_index = fold_indices(data, [args.val_fold])
            index = np.setdiff1d(index, val_index)
        if len(index) == 0:
            raise InputError(f"{args.pairs}: no training pairs left after the fold selection")
        work = out.with_name(f".{out.name}.train_state")
        result = fit(config, data, index, val_index=val_index, checkpoint_dir=work, deadline=deadline)
        summary = {
            "command": _command_line(args),
            "preset": config.preset,
            "inputs": {"drugs": str(args.drugs), "targets": str(args.targets), "pairs": str(args.pairs)},
            "n_train_pairs": int(len(index)),
            "n_drugs": len(data.drug_ids),
            "n_targets": len(data.target_ids),
            "train_folds": sorted(int(f) for f in np.unique(data.folds[index])) if data.folds is not None else None,
            "val_fold": args.val_fold,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "stopped": result.stopped,
            "steps": result.steps,
            "wall_s": round(result.wall_s, 1),
            "device": device_description(),
            "history": result.history,
        }
        if val_index is not None:
            from genoscreen.affinity.metrics import evaluate

            pred = predict(result.model, data.subset(val_index))
            summary["val_metrics"] = evaluate(data.labels[val_index], pred, config.aupr_threshold)
        save_model(result.model, config, out, card=render_model_card(config, summary, cv, notes), training=summary)
        write_truncations(truncated, data.truncated)
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        log.info("model written to %s (%d epochs, %s, %.0f s)", out, result.epochs_run, result.stopped, result.wall_s)
    _report_errors(errors)
    return 0


def run_cv(args) -> int:
    from pathlib import Path

    import dataclasses

    from genoscreen.affinity.cv import shift_partners, split_folds
    from genoscreen.affinity.data import load_inputs
    from genoscreen.affinity.io.proteins import read_targets
    from genoscreen.affinity.io.truncations import write_truncations
    from genoscreen.affinity.mutants import wild_types
    from genoscreen.common.io import atomic_path

    deadline = _deadline(args)
    out = Path(args.out)
    errors = _errors_path(args, out / "drugs")
    _check_paths(args, {"--out": [out / name for name in ("cv_metrics.tsv", "learning_curve.tsv", "cv_summary.json",
                                                          "truncated.tsv")],
                        "--errors": errors})
    config = _config(args)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(errors) as errors_tmp:  # kept only with the results it belongs to
        data, _, _ = load_inputs(args.drugs, args.targets, args.pairs, config, errors_tmp, require_labels=True,
                                 columns=columns_of(args))
        wild = None
        if args.split == "mutant":
            wild = wild_types(read_targets(args.targets))
        data = dataclasses.replace(data, folds=split_folds(data, args.split, args.n_folds, config.seed, wild))
        _cross_validate(args, config, data, out, deadline, shift_partners(data, wild) if wild else None)
        write_truncations(out / "truncated.tsv", data.truncated)
    _report_errors(errors)
    return 0


def _cross_validate(args, config, data, out, deadline: float | None, partners=None) -> None:
    """`affinity cv` after its inputs are read: the folds, then the three result files."""
    import json

    from genoscreen.affinity.cv import cross_validate, learning_curve, shift_metrics
    from genoscreen.affinity.fit import device_description
    from genoscreen.common.io import atomic_open

    start = time.time()
    table, details = cross_validate(
        config, data, folds=args.folds, inner_validation=args.inner_val, work_dir=out / "work",
        deadline=deadline, monitor_every=args.monitor_every, partners=partners,
    )
    wall = time.time() - start
    shifts = shift_metrics(details) if partners is not None else None
    for d in details:  # the per-pair shifts are summarised, not stored
        d.pop("shift_measured", None), d.pop("shift_predicted", None)
    with atomic_open(out / "cv_metrics.tsv") as handle:
        table.to_csv(handle, sep="\t", index=False, float_format="%.6g")
    curve = learning_curve(details)
    with atomic_open(out / "learning_curve.tsv") as handle:
        curve.to_csv(handle, sep="\t", index=False, float_format="%.6g")
    summary = {
        "command": _command_line(args),
        "preset": config.preset,
        "config": config.to_dict(),
        "inputs": {"drugs": str(args.drugs), "targets": str(args.targets), "pairs": str(args.pairs)},
        "inner_validation": bool(args.inner_val),
        "split": args.split,
        **({"n_folds": args.n_folds} if args.split != "random" else {}),
        **({"mutant_shifts": shifts} if shifts is not None else {}),
        "device": device_description(),
        "wall_s": round(wall, 1),
        "folds": details,
        "table": json.loads(table.to_json(orient="records")),
    }
    with atomic_open(out / "cv_summary.json") as handle:
        json.dump(summary, handle, indent=1)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    mean, sd = table.iloc[-2], table.iloc[-1]
    print("CV " + "  ".join(f"{m} {mean[m]:.4f} ± {sd[m]:.4f}" for m in ("ci", "mse", "rm2", "aupr")))
    if shifts is not None:
        print("mutant shifts (predicted vs measured ΔpKd, held-out mutants): "
              + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in shifts.items()))


def run_predict(args) -> int:
    from pathlib import Path

    from genoscreen.affinity import predict

    predict.predict_pairs(args.model, args.drugs, args.targets, args.pairs, Path(args.out), errors=args.errors,
                          columns=columns_of(args))  # checks its outputs first; names the errors file if it lists any
    return 0


def run_mutants(args) -> int:
    import csv
    from pathlib import Path

    from genoscreen.affinity.io.proteins import read_targets, write_targets
    from genoscreen.affinity.mutants import STATUS_BUILT, build_mutants
    from genoscreen.common.io import atomic_open, check_outputs

    report = Path(args.report) if args.report else Path(f"{args.out}.mutants.tsv")
    check_outputs({"--out": args.out, "--report": report}, {"--targets": args.targets})
    targets, records = build_mutants(read_targets(args.targets))
    with atomic_open(report, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["target_id", "gene", "status", "offset"])
        writer.writerows([r.target_id, r.gene, r.status, "" if r.offset is None else r.offset] for r in records)
    write_targets(args.out, targets)
    built = sum(r.status == STATUS_BUILT for r in records)
    log.info("%d of %d mutant names rebuilt on their wild type; %d kept as in %s (listed in %s)", built,
             len(records), len(records) - built, args.targets, report)
    return 0


def run_evaluate(args) -> int:
    import json

    from genoscreen.affinity.io.pairs import read_pairs, read_predictions
    from genoscreen.affinity.metrics import METRIC_NAMES, evaluate
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import atomic_open, check_outputs

    check_outputs({"--out": args.out}, {"--predictions": args.predictions, "--labels": args.labels})
    labels = read_pairs(args.labels)
    if "label" not in labels:
        raise InputError(f"{args.labels}: no label column; give the pairs file with labels")
    preds = read_predictions(args.predictions)
    keys = ["drug_id", "target_id"]
    for frame, name in ((labels, args.labels), (preds, args.predictions)):
        dup = frame.duplicated(keys)
        if dup.any():
            row = frame[dup].iloc[0]
            raise InputError(f"{name}: pair {row.drug_id}/{row.target_id} appears more than once; pairs must be unique")
    merged = labels.merge(preds[keys + ["prediction"]], on=keys, how="left", indicator=True)
    absent = (merged["_merge"] == "left_only").to_numpy()
    if absent.any():
        row = merged[absent].iloc[0]
        raise InputError(
            f"{args.predictions}: no prediction for {int(absent.sum())} labelled pair(s), e.g. "
            f"{row.drug_id}/{row.target_id}; predict all pairs of {args.labels}"
        )
    # NA: `affinity predict` could not score the pair (an invalid SMILES, listed in its errors file)
    skipped = merged["prediction"].isna().to_numpy()
    if skipped.all():
        raise InputError(f"{args.predictions}: every labelled pair's prediction is NA; nothing to score")
    if skipped.any():
        log.warning("%d labelled pair(s) have prediction NA (inputs `affinity predict` could not score); "
                    "scored without them", int(skipped.sum()))
        merged = merged[~skipped]
    threshold = args.threshold
    if threshold is None:
        threshold = 12.1 if str(labels.attrs.get("label_name", "")).lower() == "kiba_score" else 7.0
        log.info("AUPR threshold %g (label column %r; KIBA scores in another column need --threshold 12.1)",
                 threshold, labels.attrs.get("label_name"))
    metrics = evaluate(merged["label"].to_numpy(), merged["prediction"].to_numpy(), threshold)
    print("metric\tvalue")
    for name in METRIC_NAMES:
        print(f"{name}\t{metrics[name]:.6g}" if name != "n" else f"n\t{metrics['n']}")
    print(f"aupr_threshold\t{threshold:g}")
    if args.out:
        with atomic_open(args.out) as handle:
            json.dump({**metrics, "aupr_threshold": threshold, "n_skipped_na": int(skipped.sum())}, handle, indent=2)
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from genoscreen.affinity.merge import merge_sources
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import check_outputs

    if not len(args.drugs) == len(args.targets) == len(args.pairs):
        raise InputError(f"{len(args.drugs)} --drugs, {len(args.targets)} --targets and {len(args.pairs)} --pairs: "
                         "give one of each per source, in the same order")
    out = Path(args.out)
    check_outputs({"--out": [out / "drugs.tsv", out / "targets.fasta", out / "pairs.tsv"]},
                  {"--drugs": args.drugs, "--targets": args.targets, "--pairs": args.pairs})
    merge_sources(list(zip(args.drugs, args.targets, args.pairs)), out)
    return 0
