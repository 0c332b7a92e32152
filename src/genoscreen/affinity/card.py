"""MODEL_CARD.md text from a training summary (and optionally the CV summary that chose the hyper-parameters)."""

from __future__ import annotations

from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.featurize import SMILES_FORM

_METRICS = ("ci", "mse", "pearson", "spearman", "rm2", "aupr")


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def render_model_card(config: AffinityConfig, summary: dict, cv: dict | None = None, notes: str | None = None) -> str:
    """Markdown model card: data, architecture, training, CV metrics per fold, wall time, machine, command; then
    `notes` (prose beside the figures, e.g. how the preset was chosen)."""
    lines = [
        f"# DeepDTA — preset `{config.preset}`",
        "",
        "Drug-target binding affinity regression (DeepDTA, Öztürk et al. 2018, Bioinformatics 34:i821) "
        "reimplemented in JAX/Flax NNX by genoscreen.",
        "",
        "## Data",
        f"- drugs: `{summary['inputs']['drugs']}` ({summary.get('n_drugs')} compounds)",
        f"- targets: `{summary['inputs']['targets']}` ({summary.get('n_targets')} proteins)",
        f"- pairs: `{summary['inputs']['pairs']}`: {summary.get('n_train_pairs')} training pairs, "
        f"folds {summary.get('train_folds')}" + (f", validation fold {summary['val_fold']}" if summary.get("val_fold") is not None else ""),
        "",
        "## Model",
        f"- every SMILES standardised by the featurizer before encoding (`{SMILES_FORM}`: largest fragment, "
        "neutralised, RDKit canonical isomeric SMILES), in training and at inference",
        f"- SMILES max length {config.max_drug_len}, protein max length {config.max_target_len} (longer inputs truncated)",
        f"- embedding {config.embed_dim}; Conv1D filters {list(config.filters)}; kernel sizes: SMILES "
        f"{config.kernel_drug}, protein {config.kernel_target}; ReLU; masked global max-pool",
        f"- dense {list(config.dense)} -> 1, dropout {config.dropout}; Adam lr {config.learning_rate}"
        + (f" (linear warm-up over {config.warmup_steps} steps)" if config.warmup_steps else "")
        + f", batch {config.batch_size} pairs, MSE loss, seed {config.seed}",
    ]
    if config.ema_decay:
        lines.append(f"- weights: the moving average of the training weights (decay {config.ema_decay}), not the last step's")
    lines += [
        "",
        "## Training",
        f"- epochs run: {summary['epochs_run']} (stopped by: {summary['stopped']}"
        + (f", best epoch {summary['best_epoch']}" if summary.get("best_epoch") else "") + ")",
        f"- steps: {summary.get('steps')}; wall time {summary['wall_s']} s on `{summary['device']}`",
        f"- command: `{summary['command']}`",
    ]
    if summary.get("history"):
        last = summary["history"][-1]
        lines.append(f"- final training MSE: {last['train_mse']:.4f}")
    if summary.get("val_metrics"):
        v = summary["val_metrics"]
        lines.append("- validation fold: " + ", ".join(f"{m} {_fmt(v[m])}" for m in _METRICS))
    if cv:
        lines += [
            "",
            "## Cross-validation (CV over the training folds, each fold held out in turn)",
            f"- command: `{cv.get('command')}`; device `{cv.get('device')}`; wall time {cv.get('wall_s')} s",
            f"- split `{cv.get('split', 'random')}`"
            + (f" ({cv['n_folds']} folds drawn with the seed)" if cv.get("n_folds") else " (the pairs' fold column)")
            + f"; folds held out: {', '.join(str(r['fold']) for r in cv.get('table', []) if str(r['fold']).isdigit())}"
            + (" (the preset's settings were chosen earlier by CV on these same folds: a selection figure, not a"
               " test figure)" if cv.get("split", "random") == "random" else ""),
            "",
            "| fold | n | " + " | ".join(_METRICS) + " | epochs |",
            "|---" * (len(_METRICS) + 3) + "|",
        ]
        for row in cv.get("table", []):
            count = lambda v: "" if v is None or v != v else str(int(v))  # noqa: E731 (mean/sd rows have none)
            lines.append(
                f"| {row['fold']} | {count(row.get('n'))} | " + " | ".join(_fmt(row.get(m)) for m in _METRICS)
                + f" | {count(row.get('epochs'))} |"
            )
    if cv and cv.get("mutant_shifts"):
        shifts = cv["mutant_shifts"]
        lines += [
            "",
            "### Mutation effects on held-out mutants",
            "Each fold's model never saw its mutants' pairs (their wild types and all other targets stay in "
            "training). Per held-out (drug, mutant) pair, the predicted ΔpKd = prediction(mutant) − "
            "prediction(wild type) against the measured one:",
            "",
            "| " + " | ".join(shifts) + " |",
            "|---" * len(shifts) + "|",
            "| " + " | ".join(_fmt(v) for v in shifts.values()) + " |",
        ]
    lines += [
        "",
        "## Intended use and limits",
        "- Ranking compounds against kinase-like targets similar to the training data (DeepDTA setting 1: "
        "drugs and targets seen in training). Accuracy on new scaffolds or protein families is lower and unmeasured.",
        "- Files: `config.json` (config, vocabularies, training summary), `weights.safetensors` (named leaves with a checksum, genoscreen.common.checkpoint; no pickle).",
        "",
    ]
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines)

