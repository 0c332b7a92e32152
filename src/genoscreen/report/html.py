"""The workflow's HTML report: variant metrics and accuracy, per-sample call counts, affinity distribution, top hits.

One self-contained file (plots are inline PNGs), written atomically. Every figure says what it was measured on.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import io
import json
import logging
from pathlib import Path

import numpy as np

from genoscreen import __version__

from genoscreen.affinity.io.hits import read_hits
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open

log = logging.getLogger(__name__)

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em} h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em} th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4} td.l,th.l{text-align:left} .note{color:#666;font-size:.9em} img{max-width:100%}
.grid{display:flex;flex-wrap:wrap;gap:1.5em} .grid>div{flex:0 0 auto}
"""


def call_counts(vcf: str | Path) -> dict[str, int]:
    """Counts of a sample's calls: PASS SNPs / indels, het / hom-alt among PASS, and filtered records."""
    import pysam

    counts = {"records": 0, "PASS": 0, "SNP": 0, "INDEL": 0, "het": 0, "hom_alt": 0, "filtered": 0}
    try:
        vf = pysam.VariantFile(str(vcf))
    except (OSError, ValueError) as err:
        raise InputError(f"{vcf}: cannot read the VCF ({err})") from None
    with vf:
        sample = next(iter(vf.header.samples), None)
        for rec in vf:
            counts["records"] += 1
            filters = list(rec.filter.keys())
            if filters not in ([], ["PASS"]):
                counts["filtered"] += 1
                continue
            counts["PASS"] += 1
            alts = rec.alts or ()
            if alts and all(len(a) == len(rec.ref) == 1 for a in alts):
                counts["SNP"] += 1
            else:
                counts["INDEL"] += 1
            if sample is not None:
                gt = [a for a in (rec.samples[sample].get("GT") or ()) if a is not None]
                if gt and len(set(gt)) == 1 and gt[0] != 0:
                    counts["hom_alt"] += 1
                elif any(a for a in gt):
                    counts["het"] += 1
    return counts


def evaluation_rows(path: str | Path) -> list[dict]:
    """SNP / INDEL rows (type, tp, fp, fn, precision, recall, f1) from a `genoscreen evaluate` JSON file.

    Accepts the metrics per type at the top level or under a `metrics` key, with keys in any case.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the evaluation JSON ({err})") from None
    if isinstance(data, dict) and "metrics" in data:
        data = data["metrics"]
    if isinstance(data, list):
        data = {str(row.get("type", row.get("Type", i))): row for i, row in enumerate(data)}
    rows = []
    for vtype, metrics in data.items():
        if str(vtype).upper() not in ("SNP", "INDEL") or not isinstance(metrics, dict):
            continue
        m = {str(k).lower(): v for k, v in metrics.items()}
        row = {"type": str(vtype).upper()}
        for key, aliases in {
            "tp": ("tp", "true_positives", "truth_tp"), "fp": ("fp", "false_positives", "query_fp"),
            "fn": ("fn", "false_negatives", "truth_fn"), "precision": ("precision",), "recall": ("recall",),
            "f1": ("f1", "f1_score"),
        }.items():
            row[key] = next((m[a] for a in aliases if a in m), None)
        rows.append(row)
    if not rows:
        raise InputError(f"{path}: no SNP/INDEL metrics found; expected the JSON written by `genoscreen evaluate`")
    return sorted(rows, key=lambda r: r["type"] != "SNP")


def accuracy_lines(evaluations: dict[str, str | Path]) -> list[str]:
    """One line per sample and type, e.g. for the workflow's closing message."""
    lines = []
    for sample, path in evaluations.items():
        for row in evaluation_rows(path):
            lines.append(
                f"{sample} {row['type']:<5} precision {_fmt(row['precision'])} recall {_fmt(row['recall'])} "
                f"F1 {_fmt(row['f1'])} (TP {row['tp']}, FP {row['fp']}, FN {row['fn']})"
            )
    return lines


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _table(columns: list[str], rows: list[list], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(c)}</th>' for i, c in enumerate(columns))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{html.escape(_fmt(v))}</td>' for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def genotype_qc(vcf: str | Path) -> dict[str, list]:
    """GQ and DP of the PASS non-reference genotypes of a sample's VCF (its first sample), and the alt allele
    fraction (AD) of its hets."""
    import pysam

    out = {"GQ": [], "DP": [], "VAF": []}
    with pysam.VariantFile(str(vcf)) as vf:
        sample = next(iter(vf.header.samples), None)
        if sample is None:
            return out
        for rec in vf:
            if list(rec.filter.keys()) not in ([], ["PASS"]):
                continue
            call = rec.samples[sample]
            gt = [a for a in (call.get("GT") or ()) if a is not None]
            if not any(gt):
                continue
            for key in ("GQ", "DP"):
                if key in call and call[key] is not None:
                    out[key].append(call[key])
            ad = call.get("AD") if "AD" in call else None
            if len(set(gt)) > 1 and ad and None not in ad and sum(ad) > 0:
                out["VAF"].append(1 - ad[0] / sum(ad))
    return out


def _qc_section(vcfs: dict) -> str:
    """Per-sample QC: bcftools stats (Ti/Tv, SNPs, indels, indel lengths) and the GQ / DP / het VAF distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genoscreen.variants.tools import ToolError
    from genoscreen.variants.tools.bcftools import stats

    parts = ["<h2>Call QC</h2>"]
    try:
        summary = {sample: stats(path) for sample, path in vcfs.items()}
    except ToolError as err:  # bcftools missing or failing: the rest of the report stands
        return "\n".join(parts + [f'<p class="note">No bcftools stats: {html.escape(str(err))}</p>'])
    genotypes = {sample: genotype_qc(path) for sample, path in vcfs.items()}

    def median(values):
        return float(np.median(values)) if values else float("nan")

    parts.append(_table(
        ["sample", "SNPs", "indels", "Ti/Tv", "median GQ", "median DP", "median het VAF"],
        [[s, q["snps"], q["indels"], q["tstv"], median(genotypes[s]["GQ"]), median(genotypes[s]["DP"]),
          median(genotypes[s]["VAF"])] for s, q in summary.items()]))
    parts.append('<p class="note">PASS calls; Ti/Tv and counts from <code>bcftools stats -f PASS,.</code> (a human '
                 "genome's SNPs give about 2.0-2.1 genome-wide, 3.0 in exomes; random errors 0.5); GQ, DP and the "
                 "alt fraction of hets (AD) from the samples' genotypes.</p>")
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    for s, q in summary.items():
        lengths = sorted(q["indel_lengths"].items())
        axes[0].plot([k for k, _ in lengths], [v for _, v in lengths], "o-", ms=3, label=s)
        axes[1].hist(genotypes[s]["GQ"], bins=np.arange(0, 101, 5), histtype="step", label=s)
        axes[2].hist(genotypes[s]["VAF"], bins=np.linspace(0, 1, 21), histtype="step", label=s)
    for ax, (x, title) in zip(axes, (("indel length (deletions < 0)", "Indel lengths"), ("GQ", "Genotype quality"),
                                     ("alt allele fraction", "Het allele balance"))):
        ax.set_xlabel(x)
        ax.set_title(title)
    axes[0].set_ylabel("calls")
    axes[2].legend(frameon=False, fontsize=7)
    parts.append(_png(fig))
    return "\n".join(parts)


def _variants_section(vcfs: dict, evaluations: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = ["<h2>Variant calls</h2>"]
    counts = {sample: call_counts(path) for sample, path in vcfs.items()}
    keys = ["PASS", "SNP", "INDEL", "het", "hom_alt", "filtered"]
    parts.append(_table(["sample", *keys], [[s, *(c[k] for k in keys)] for s, c in counts.items()]))
    parts.append('<p class="note">SNP / INDEL / het / hom_alt count PASS records; filtered = RefCall, LowQual and other '
                 "non-PASS records.</p>")
    if counts:
        fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(counts), 3))
        names = list(counts)
        snp = [counts[s]["SNP"] for s in names]
        indel = [counts[s]["INDEL"] for s in names]
        ax.bar(names, snp, label="SNP", color="#4477aa")
        ax.bar(names, indel, bottom=snp, label="INDEL", color="#ee6677")
        ax.set_ylabel("PASS calls")
        ax.set_title("Calls per sample")
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
        parts.append(_png(fig))
    if evaluations:
        parts.append("<h2>Accuracy against the truth</h2>")
        rows = []
        for sample, path in evaluations.items():
            for row in evaluation_rows(path):
                rows.append([sample, row["type"], row["tp"], row["fp"], row["fn"], row["precision"], row["recall"], row["f1"]])
        parts.append(_table(["sample", "type", "TP", "FP", "FN", "precision", "recall", "F1"], rows, left=2))
        parts.append('<p class="note">Measured on each sample\'s calls against its truth VCF inside its confident BED '
                     "(hap.py-style matching by <code>genoscreen evaluate</code>; a genotype error counts as FP and FN). "
                     "For the demo the truth is the variants the simulator put into the reads.</p>")
        fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(evaluations), 3))
        width = 0.38
        samples = list(evaluations)
        for j, vtype in enumerate(("SNP", "INDEL")):
            values = [next((r[7] for r in rows if r[0] == s and r[1] == vtype), None) or 0 for s in samples]
            ax.bar([i + (j - 0.5) * width for i in range(len(samples))], values, width, label=vtype,
                   color=("#4477aa", "#ee6677")[j])
        ax.set_xticks(range(len(samples)), samples)
        # -log10(1 - F1): 0.9, 0.99 and 0.999 are equally spaced, so 0.96 and 0.99 look different
        ax.set_yscale("function", functions=(lambda f: -np.log10(np.clip(1 - f, 1e-4, 1)),
                                             lambda y: 1 - 10.0 ** (-y)))
        ax.set_ylim(0, 0.9999)
        ax.set_yticks([0.5, 0.9, 0.96, 0.99, 0.999], ["0.5", "0.9", "0.96", "0.99", "0.999"])
        ax.set_ylabel("F1 (scale: -log10(1 - F1))")
        ax.set_title("F1 per sample")
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
        parts.append(_png(fig))
    return "\n".join(parts)


def model_provenance(model_dir: str | Path) -> str:
    """'FOLDER (weights.safetensors sha256:0123456789ab)': which model, and exactly which weights."""
    from genoscreen.caller.model_dir import WEIGHTS  # both models' weights file (affinity.checkpoint.WEIGHTS_FILE)

    weights = Path(model_dir) / WEIGHTS
    if not weights.is_file():
        raise InputError(f"{model_dir}: no {WEIGHTS}; give a model directory")
    return f"{model_dir} ({weights.name} sha256:{hashlib.sha256(weights.read_bytes()).hexdigest()[:12]})"


def compounds_screened(library: str | Path, errors: str | Path | None) -> tuple[int, int]:
    """(records in the library, invalid ones skipped: the rows of its errors file)."""
    from genoscreen.affinity.io.compounds import read_library_text

    records = len(read_library_text(library).records)
    invalid = 0
    if errors is not None and Path(errors).exists():
        with open(errors) as handle:
            invalid = max(sum(1 for line in handle if line.strip()) - 1, 0)
    return records, invalid


def _screening_section(hits: dict, top_hits: int, targets_shown: int, libraries: dict, errors: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    parts = ["<h2>Screening</h2>"]
    for name, path in hits.items():
        table = read_hits(path, ("compound_id", "target_id", "prediction"))
        parts.append(f"<h3>{html.escape(name)}</h3>")
        screened = ""
        if name in libraries:
            records, invalid = compounds_screened(libraries[name], errors.get(name))
            screened = (f"{records - invalid:,} compounds screened ({records:,} in {html.escape(str(libraries[name]))}, "
                        f"{invalid:,} invalid and skipped) × {table['target_id'].nunique()} targets; ")
        parts.append(
            f"<p>{screened}{table['compound_id'].nunique()} compounds × {table['target_id'].nunique()} targets in "
            f"the {len(table)} reported pairs (the top K per target); predicted affinity (pKd for a Davis model) "
            f"min {table['prediction'].min():.2f}, median {table['prediction'].median():.2f}, "
            f"max {table['prediction'].max():.2f}.</p>"
        )
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
        axes[0].hist(table["prediction"], bins=40, color="#4477aa")
        axes[0].set_xlabel("predicted affinity")
        axes[0].set_ylabel("pairs")
        axes[0].set_title("Distribution over reported pairs")
        axes[0].xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6))
        per_compound = table.groupby("compound_id")["prediction"].max().sort_values(ascending=False).head(25)
        axes[1].plot(per_compound.values[::-1], per_compound.index[::-1], "o", color="#228833")
        axes[1].grid(axis="x", alpha=0.3)
        axes[1].set_xlabel("best predicted affinity over targets")
        axes[1].set_title("Compounds by their strongest target")
        axes[1].tick_params(axis="y", labelsize=7)
        parts.append(_png(fig))
        if name in libraries:
            parts.append(_structures(table, libraries[name], top_hits))
        best = table.groupby("target_id")["prediction"].max().sort_values(ascending=False)
        parts.append(f"<p>Top {top_hits} compounds for the {min(targets_shown, len(best))} targets with the strongest "
                     "predicted binder:</p><div class=\"grid\">")
        for target in best.index[:targets_shown]:
            rows = table[table["target_id"] == target].sort_values("prediction", ascending=False).head(top_hits)
            parts.append(f"<div><b>{html.escape(str(target))}</b>"
                         + _table(["rank", "compound", "prediction"],
                                  [[i + 1, r.compound_id, float(r.prediction)] for i, r in enumerate(rows.itertuples())], left=2)
                         + "</div>")
        parts.append("</div>")
    return "\n".join(parts)


def _structures(table, library: str | Path, n: int) -> str:
    """The `n` compounds with the strongest best prediction, drawn by RDKit from their standardised SMILES (the
    form the model read), each labelled with its best target and prediction."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    from genoscreen.affinity.featurize import standardize_smiles
    from genoscreen.affinity.io.compounds import load_compounds

    best = table.loc[table.groupby("compound_id")["prediction"].idxmax()].sort_values("prediction", ascending=False)
    ids, smiles, _ = load_compounds(library, allow_empty=True)
    by_id = dict(zip(ids, smiles))
    mols, legends, rows = [], [], []
    for r in best.head(n).itertuples():
        standard = standardize_smiles(by_id[r.compound_id]) if r.compound_id in by_id else None
        mol = Chem.MolFromSmiles(standard) if standard else None
        if mol is not None:
            mols.append(mol)
            legends.append(f"{r.compound_id}: {r.target_id} {r.prediction:.2f}")
            rows.append([len(rows) + 1, r.compound_id, r.target_id, standard, float(r.prediction)])
    if not mols:
        return ""
    svg = Draw.MolsToGridImage(mols, molsPerRow=5, subImgSize=(220, 180), legends=legends, useSVG=True)
    return (f"<p>The {len(mols)} compounds with the strongest predicted binding, each with its best target and "
            f"prediction (structures as the model read them: standardised SMILES):</p><div>{svg}</div>"
            + _table(["", "compound", "best target", "standardised SMILES", "prediction"], rows, left=4))


def _variant_screen_section(proteins: dict, shifts: list, top: int) -> str:
    """Per sample: its protein-changing variants, and for each mutant the compounds whose predicted affinity it
    changes most (losses first)."""
    import pandas as pd

    from genoscreen.affinity.io.shifts import read_shifts

    parts = ["<h2>Variant-aware screening</h2>",
             '<p class="note">Each sample\'s called variants that change a protein of the annotation (<code>genoscreen '
             "consequences</code>), screened as mutant targets beside their wild types (<code>genoscreen screen "
             "--mutants</code>): delta = prediction(mutant) − prediction(wild type), negative when the mutation is "
             "predicted to lose affinity. Unphased variants are each applied on their own.</p>"]
    by_sample: dict[str, list] = {}
    for sample, path in shifts:
        by_sample.setdefault(sample, []).append(read_shifts(path))
    for sample in dict.fromkeys([*proteins, *by_sample]):
        parts.append(f"<h3>{html.escape(sample)}</h3>")
        if sample in proteins:
            table = pd.read_csv(proteins[sample], sep="\t", dtype=str, keep_default_na=False)
            changing = table[table["consequence"] != "synonymous"]
            if changing.empty:
                parts.append("<p>No called variant changes a protein of the annotation.</p>")
            else:
                parts.append(_table(["gene", "change", "consequence", "variant", "haplotype"], [
                    [r.gene, r.hgvs_p, r.consequence, f"{r.contig}:{r.pos} {r.ref}>{r.alt}", r.haplotype]
                    for r in changing.itertuples()], left=5))
        frames = [f for f in by_sample.get(sample, []) if not f.empty]
        if not frames:
            continue
        merged = pd.concat(frames, ignore_index=True)
        for mutant, group in merged.groupby("mutant_id", sort=True):
            losses = group.sort_values("delta").head(top)
            wild = group["target_id"].iloc[0]
            worst = losses.iloc[0]
            parts.append(f"<p><b>{html.escape(sample)} carries {html.escape(mutant)}</b>: the largest predicted "
                         f"loss of affinity is for {html.escape(str(worst.compound_id))} (delta {worst.delta:+.2f}: "
                         f"{worst.wt_prediction:.2f} on {html.escape(wild)}, {worst.mutant_prediction:.2f} on the "
                         "mutant).</p>")
            parts.append(_table(["compound", "wild type", "mutant", "delta"], [
                [r.compound_id, float(r.wt_prediction), float(r.mutant_prediction), float(r.delta)]
                for r in losses.itertuples()]))
    return "\n".join(parts)


def _png_file(path: Path, width: int = 640) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(Path(path).name)}" width="{width}" src="data:image/png;base64,{data}">'


def _explanations_section(folders: list[str | Path], shown: int) -> str:
    """The `genoscreen explain` folders: affinity ones (pairs.tsv: a drawing per pair) and call ones
    (summary.tsv with a folder per call: the pileup beside its attributions), at most `shown` images each."""
    import pandas as pd

    parts = ["<h2>Explanations</h2>",
             '<p class="note">Integrated gradients (<code>genoscreen explain</code>): how much each atom and residue '
             "moved a predicted affinity away from the all-zero encoding's, and each read row and channel moved a "
             "called genotype's probability away from a featureless pileup's (red: towards the prediction or call, "
             "blue: against it). Attributions sum to that difference (the completeness error says how far).</p>"]
    for folder in map(Path, folders):
        if (folder / "pairs.tsv").exists():
            table = pd.read_csv(folder / "pairs.tsv", sep="\t", dtype={"drug_id": str, "target_id": str},
                                keep_default_na=False)
            parts.append(f"<h3>{html.escape(folder.name)}: {len(table)} pair(s)</h3>")
            if table.empty:
                parts.append("<p>Nothing to explain (no hit of a target whose sequence was given).</p>")
            for row in table.head(shown).itertuples():
                parts.append(f"<p>{html.escape(row.drug_id)} on {html.escape(row.target_id)}: prediction "
                             f"{float(row.prediction):.2f} (baseline {float(row.baseline):.2f}, completeness error "
                             f"{float(row.completeness_error):.1%})</p>" + _png_file(folder / row.image))
        elif (folder / "summary.tsv").exists():
            table = pd.read_csv(folder / "summary.tsv", sep="\t", dtype={"contig": str}, keep_default_na=False)
            parts.append(f"<h3>calls of {html.escape(folder.name)}: {len(table)}</h3>")
            if table.empty:
                parts.append("<p>No call with an alt allele in the regions of interest.</p>")
            for row in table.head(shown).itertuples():
                parts.append(f"<p>{html.escape(str(row.contig))}:{row.pos} {html.escape(row.ref)}&gt;"
                             f"{html.escape(row.alts)}, {row.genotype} alt cop{'y' if row.genotype == 1 else 'ies'} "
                             f"called with p = {float(row.probability):.3f}</p>"
                             + _png_file(folder / row.folder / "pileup.png", 800))
    return "\n".join(parts)


def build_report(
    out: str | Path,
    *,
    vcfs: dict[str, str | Path] | None = None,
    evaluations: dict[str, str | Path] | None = None,
    hits: dict[str, str | Path] | None = None,
    top_hits: int = 10,
    targets_shown: int = 12,
    title: str = "genoscreen report",
    about: dict[str, str] | None = None,
    models: dict[str, str | Path] | None = None,
    libraries: dict[str, str | Path] | None = None,
    compound_errors: dict[str, str | Path] | None = None,
    command: str | None = None,
    proteins: dict[str, str | Path] | None = None,
    shifts: list[tuple[str, str | Path]] | None = None,
    explained: list[str | Path] | None = None,
) -> Path:
    """Write the HTML report to `out` from the given per-sample VCFs, evaluation JSONs and hits tables.

    Shown first, so every figure has its context: the provenance (genoscreen version, date, `command`, each of
    `models` by folder and weights digest) and `about`, what the run used (reference, panel, shards). `libraries`
    (and their `compound_errors` files), by hits name, give the number of compounds actually screened, which the
    top-K hits tables do not show. `proteins` (sample: `genoscreen consequences` table) and `shifts` ((sample,
    `screen --mutants` shift table) pairs) add the variant-aware screening section; `explained` (folders of
    `genoscreen explain affinity` or `explain call --regions`) the explanations, `top_hits` images each.
    """
    vcfs, evaluations, hits = dict(vcfs or {}), dict(evaluations or {}), dict(hits or {})
    body = [f"<h1>{html.escape(title)}</h1>"]
    provenance = [["genoscreen", __version__],
                  ["date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")]]
    if command:
        provenance.append(["command", command])
    provenance += [[f"{name} model", model_provenance(path)] for name, path in (models or {}).items()]
    body.append(_table(["setting", "value"], provenance + [[k, v] for k, v in (about or {}).items()], left=2))
    if evaluations:
        body.append("<p><b>Accuracy against the truth, inside each sample's confident BED:</b><br>" + "<br>".join(html.escape(l) for l in accuracy_lines(evaluations)) + "</p>")
    if vcfs:
        body.append(_variants_section(vcfs, evaluations))
        body.append(_qc_section(vcfs))
    if hits:
        body.append(_screening_section(hits, top_hits, targets_shown, dict(libraries or {}), dict(compound_errors or {})))
    if proteins or shifts:
        body.append(_variant_screen_section(dict(proteins or {}), list(shifts or []), top_hits))
    if explained:
        body.append(_explanations_section(list(explained), top_hits))
    if not (vcfs or hits):
        body.append("<p>No variant calls or screening hits were given.</p>")
    page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n")
    with atomic_open(out) as handle:
        handle.write(page)
    log.info("wrote %s", out)
    return Path(out)
