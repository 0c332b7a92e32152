"""MODEL_CARD.md of a caller model, generated from the run that made it (`snakemake train_caller`).

Every figure comes from a file the run wrote: the training-data table and each examples folder's summary.json, the
training history (validation F1 per epoch), the calibration fitted into model.json and its reliability table on
the held-out test rows (bench/calibration.py), `genoscreen evaluate` of the held-out simulated windows, the titration
on real reads (bench/titration.py), and Snakemake's benchmark files (wall time). Prose may be appended from a notes
file; it never replaces a figure.
"""

from __future__ import annotations

import csv
import json
import os
import platform
from pathlib import Path
from typing import Sequence

from genoscreen.caller.model_dir import read_model_info

COMMAND = "snakemake --cores 2 train_caller --configfile config/config.yaml config/training.yaml"
_TABLE_COLUMNS = ("name", "split", "source", "regions", "depth", "depths", "profile", "read_length", "fragment_mean",
                  "fragment_sd", "quality_binning", "duplicates", "artifacts", "weight")


def _f(v, digits: int = 4) -> str:
    return f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(_f(v) for v in row) + " |" for row in rows]


def _examples_count(folder: str | Path) -> int | None:
    path = Path(folder) / "summary.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("examples")


def data_section(table: str | Path, folders: Sequence[str]) -> list[str]:
    """The training-data table as run, with the examples each row contributed (all depths, before repeats)."""
    with open(table, newline="") as handle:
        rows = list(csv.DictReader((ln for ln in handle if not ln.startswith("#")), delimiter="\t"))
    by_row: dict[str, int] = {}
    for folder in dict.fromkeys(folders):  # each folder once (train rows may be repeated)
        name = Path(folder).name.split(".")[0]
        by_row[name] = by_row.get(name, 0) + (_examples_count(folder) or 0)
    out = _table([*_TABLE_COLUMNS, "examples"], [[r.get(c, "") for c in _TABLE_COLUMNS] + [by_row.get(r["name"], "")]
                                                  for r in rows])
    total = sum(v for k, v in by_row.items() if any(r["name"] == k and r["split"] == "train" for r in rows))
    return [f"From `{table}` (one row per BAM; `depths` lists the depths it enters at, `full` = as simulated or as "
            f"sequenced; sim rows carry HG002 GIAB v4.2.1 variants on GRCh38 chr20). Training examples over all "
            f"depths: {total:,} (before the `weight` repeats).", "", *out]


def history_section(history: dict) -> list[str]:
    """Training settings and the validation curve (F1 per validation folder per epoch)."""
    tc = history["config"]["train"]
    names = list(history["epochs"][0]["val"]) if history["epochs"] else []
    rows = []
    for e in history["epochs"]:
        f1s = [e["val"][n]["f1"] for n in names]
        rows.append([e["epoch"], round(e["train_loss"], 4), int(round(e["wall_s"])), *[round(v, 4) for v in f1s],
                     round(sum(f1s) / len(f1s), 4) if f1s else ""])
    return [
        f"- optimiser: AdamW, peak learning rate {tc['learning_rate']}, warm-up {tc['warmup_steps']} steps then cosine; "
        f"batch {tc['batch_size']}; label smoothing {tc['label_smoothing']}; class-balanced loss "
        f"{tc['class_balance']}; {tc['max_examples_per_epoch'] or 'all'} examples sampled per epoch; seed {tc['seed']}",
        f"- epochs: {len(history['epochs'])}; kept epoch {history['best_epoch']} by `{history['select_on']}` "
        f"(validation F1: a selection figure, not a test figure); training wall time {history['wall_s']:.0f} s",
        "", *_table(["epoch", "train loss", "wall s", *names, "mean F1"], rows)]


def heldout_section(evaluations: Sequence[str | Path]) -> list[str]:
    """`genoscreen evaluate` of the held-out simulated windows (test rows: they chose nothing)."""
    rows = []
    for path in evaluations:
        ev = json.loads(Path(path).read_text())
        name = Path(path).name.removesuffix(".eval.json")
        rows.append([name, *[ev[t][k] for t in ("SNP", "INDEL") for k in ("precision", "recall", "F1")],
                     ev["SNP"]["truth_alleles"], ev["INDEL"]["truth_alleles"]])
    return _table(["row.depth", "SNP P", "SNP R", "SNP F1", "INDEL P", "INDEL R", "INDEL F1", "SNP truth",
                   "INDEL truth"], rows)


def titration_section(titration: dict, scopes: Sequence[str] = ("region", "bed")) -> list[str]:
    """F1 per depth of genoscreen / bcftools / freebayes per scoring set (means over replicates) and the verdicts."""
    means = titration.get("means", [])
    callers = list(dict.fromkeys(m["caller"] for m in means))
    lines = [f"Callers: {' / '.join(callers)}; F1 as the mean over {titration['inputs'].get('replicates')} "
             "downsampling replicates. Scope `region`: the whole scored region (precision a lower bound: GIAB v3.3.2 "
             "has no confident BED there); `bed`: inside the 9 kb confident BED."]
    for set_name in dict.fromkeys(m["set"] for m in means):
        in_sample = any(m["in_sample"] for m in means if m["set"] == set_name)
        for scope in scopes:
            rows = [m for m in means if m["set"] == set_name and m["scope"] == scope]
            if not rows:
                continue
            label = "IN-SAMPLE (trained on these reads)" if in_sample else "out-of-sample"
            lines += ["", f"**{set_name}**, scope `{scope}`, {label}:", ""]
            table = []
            for depth in dict.fromkeys(m["depth"] for m in rows):
                by = {m["caller"]: m for m in rows if m["depth"] == depth}
                measured = next(iter(by.values())).get("measured_depth")
                table.append([depth, f"{measured:.1f}" if measured else "",
                              *[" / ".join(_f(by[c][t]["F1"], 3) if c in by else "" for c in callers)
                                for t in ("SNP", "INDEL")]])
            lines += _table(["depth", "measured", f"SNP F1 ({'/'.join(callers)})",
                             f"INDEL F1 ({'/'.join(callers)})"], table)
    verdicts = titration.get("verdicts", [])
    if verdicts:
        lines += ["", *[f"- {v}" for v in verdicts]]
    return lines


def wall_section(benchmarks: str | Path | None) -> list[str]:
    """Wall time per rule from Snakemake's benchmark files, and the machine."""
    lines = []
    if benchmarks and Path(benchmarks).is_dir():
        per_rule: dict[str, float] = {}
        for tsv in Path(benchmarks).rglob("*.tsv"):
            rule = tsv.parent.name if tsv.parent != Path(benchmarks) else tsv.stem
            if not (rule.startswith("training_") or rule.startswith("train_caller")):
                continue
            with open(tsv) as handle:
                row = next(csv.DictReader(handle, delimiter="\t"), None)
            if row and row.get("s"):
                per_rule[rule] = per_rule.get(rule, 0.0) + float(row["s"])
        if per_rule:
            lines += _table(["rule", "wall s (sum over jobs)"], [(r, f"{v:.0f}") for r, v in sorted(per_rule.items())])
            lines.append("")
    import jax

    lines.append(f"- machine: {platform.platform()}, {os.cpu_count()} CPU cores, JAX {jax.__version__} on "
                 f"{jax.default_backend()} ({jax.device_count()} device(s))")
    return lines


def render_caller_card(model_dir: str | Path, *, training_data: str | Path, histories: Sequence[dict],
                       calibration: dict | None = None, titration: dict | None = None,
                       heldout: Sequence[str | Path] = (), benchmarks: str | Path | None = None,
                       notes: str | None = None, name: str | None = None) -> str:
    """The model card's Markdown text."""
    from genoscreen.caller.calibration import calibration_card_lines

    info, config, pileup = read_model_info(model_dir)
    training = info.get("training", {})
    lines = [
        f"# {name or Path(model_dir).resolve().name}",
        "",
        "Germline genotype CNN over pileup tensors (the DeepVariant recipe), the default model of `genoscreen call`.",
        f"`genoscreen.caller.model.CallerCNN`: {config.to_dict()}; input {pileup.height}x{pileup.width}x"
        f"{len(pileup.channels)} uint8 pileups (channels {', '.join(pileup.channels)}); output p(0, 1, 2 copies of "
        "the example's alt(s)), calibrated (below). Weights: safetensors, named leaves with a checksum (genoscreen.common.checkpoint; no pickle).",
        "",
        "Generated by the run that made the model; rebuild it with:",
        "",
        "```",
        COMMAND,
        "```",
        "",
        "## Training data",
        *data_section(training_data, [*training.get("examples", []), *training.get("val_examples", [])]),
        "",
        "## Training",
    ]
    for stage, history in enumerate(histories, start=1):
        run = history.get("run", {})
        if len(histories) > 1:
            lines += ["", f"### Stage {stage}" + (f": from `{run['init']}`" if run.get("init") else ": from scratch")]
        lines += history_section(history)
    lines += [
        "",
        "## Calibration (GQ and QUAL as Phred-scaled error rates)",
    ]
    lines += calibration_card_lines(info, calibration)
    if heldout:
        lines += ["", "## Held-out simulated windows (test rows: never trained on, chose nothing)",
                  "`genoscreen call` + `genoscreen evaluate` inside each BAM's confident BED.", "",
                  *heldout_section(heldout)]
    if titration:
        lines += ["", "## Titration on real reads (bench/titration.py)", *titration_section(titration)]
    lines += ["", "## Wall time and machine", *wall_section(benchmarks)]
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(lines) + "\n"
