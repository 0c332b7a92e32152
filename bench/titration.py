#!/usr/bin/env python
"""Depth titration: `genoscreen call` vs `bcftools mpileup | call -mv` vs `freebayes` on real reads downsampled
to 5, 7.5, 10, 15, 20, 30x and full depth; SNP and INDEL precision / recall / F1 per depth, a table per scoring
set, JSON, TSV and a PNG plot.

What is in-sample (read this before quoting a figure):
  The caller's training recipe uses, of the real reads, only NA12878_S1 (2x101) on chr20:10,022,501-10,045,000.
  * na12878_2x101  NA12878_S1 on chr20:10,000,001-10,022,500 (~51x)   OUT-OF-SAMPLE (other half of the same run)
  * hg001_2x151    HG001 2x151 BAM (another lab) on 20:10,000,001-10,010,000 (~23x), never trained on: OUT-OF-SAMPLE
  * na12878_2x101_train_half  NA12878_S1 on chr20:10,022,501-10,045,000: IN-SAMPLE, only with --include-in-sample,
    printed in its own table labelled IN-SAMPLE (it shows how much of a figure is memorisation, nothing more).
  Both out-of-sample regions contain the confident BED (chr20:10,000,846-10,010,531); counts inside it are shown
  as scope 'bed'. Scope 'region' is the whole region: GIAB v3.3.2 has no confident BED there, so its precision is
  a lower bound. bcftools and freebayes are not trained at all; the same reads, region and threads go to all three.
  These labels hold for a model trained with that split (config/caller_training.tsv), as the shipped
  caller-wgs-illumina is (`snakemake train_caller`). The script prints the model's training folders and flags
  HG001 ones, which would make the hg001_2x151 figures in-sample.

Each depth below the full one is drawn `--replicates` times (samtools view -s with seeds 1..N through
genoscreen's `downsample`, the depth measured over the scored region); tables and the plot show the mean over
replicates, the JSON/TSV also every replicate. Full depth is the input BAM itself (one run: the callers are
deterministic). Depths at or above a set's full depth are skipped.

    python bench/titration.py                                  # all out-of-sample sets, 2 replicates
    python bench/titration.py --replicates 1 --sets hg001_2x151 --depths 10,full
    python bench/titration.py --include-in-sample --workdir .dev/titration --out-prefix .dev/titration/run
    python bench/titration.py --model path/to/model_dir

Writes OUT_PREFIX.tsv, OUT_PREFIX.png and (--json, default OUT_PREFIX.json) the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _callers import CALLER_NAMES, DEFAULT_MODEL, DEV, callers, missing_inputs, score

TYPES = ("SNP", "INDEL")
FULL = "full"
BED = DEV / "HG001_confident_subset.chr20_10000846_10010531.bed"


@dataclass(frozen=True)
class ScoringSet:
    name: str
    bam: Path
    ref: Path
    truth: Path
    region: str
    bed: Path | None = None
    contig_map: str | None = None  # BED names -> reference names
    in_sample: bool = False
    note: str = ""


NA12878 = dict(bam=DEV / "NA12878_S1.chr20.10_10p045mb.bam", ref=DEV / "ucsc.hg19.chr20.unittest.fasta.gz",
               truth=DEV / "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz")
SETS = {s.name: s for s in (
    ScoringSet("na12878_2x101", region="chr20:10000001-10022500", bed=BED, **NA12878,
               note="NA12878_S1 2x101, the half the split keeps out of training"),
    ScoringSet("hg001_2x151", bam=DEV / "HG001.chr20.10_10p1mb_sorted.bam",
               ref=DEV / "b37names.ucsc.hg19.chr20.unittest.fasta.gz",
               truth=DEV / "HG001_GIAB_v3.3.2.20_9995000_10045000.vcf.gz", region="20:10000001-10010000", bed=BED,
               contig_map="chr20=20", note="HG001 2x151 from another lab, kept out of training by the split"),
    ScoringSet("na12878_2x101_train_half", region="chr20:10022501-10045000", **NA12878, in_sample=True,
               note="NA12878_S1 2x101, the half the model WAS fine-tuned on"),
)}
OUT_OF_SAMPLE = [name for name, s in SETS.items() if not s.in_sample]


def in_sample(set_name: str, flagged=()) -> bool:
    """In-sample by the split (SETS) or because the model's training folders show it saw the set's reads."""
    return SETS[set_name].in_sample or set_name in flagged


def depth_label(depth) -> str:
    return FULL if depth == FULL else f"{float(depth):g}"


def parse_depths(spec: str) -> list:
    out = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        out.append(FULL if item.lower() == FULL else float(item))
    return out


def _mean(values):
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(vals) / len(vals) if vals else None


def aggregate(rows: list[dict]) -> list[dict]:
    """Mean over replicates of each (set, depth, caller, scope): precision, recall, F1 (replicates where a figure
    is undefined are left out of its mean) and TP/FP/FN, plus the mean measured depth and the replicate count."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        for scope in ("region", "bed"):
            if r.get(scope):
                groups.setdefault((r["set"], r["depth"], r["caller"], scope), []).append(r)
    out = []
    for (set_name, depth, caller, scope), members in groups.items():
        agg = {"set": set_name, "in_sample": members[0]["in_sample"], "depth": depth, "caller": caller,
               "scope": scope, "replicates": len(members),
               "measured_depth": _mean([m.get("measured_depth") for m in members])}
        for t in TYPES:
            agg[t] = {k: _mean([m[scope][t][k] for m in members])
                      for k in ("TP", "FP", "FN", "precision", "recall", "F1")}
        out.append(agg)
    return out


def verdicts(agg: list[dict], scope: str = "region", baseline: str = "bcftools") -> dict[str, dict[str, list]]:
    """set -> type -> [(depth, genoscreen F1 >= baseline F1)] for the mean figures, in depth order."""
    table = {(a["set"], a["depth"], a["caller"]): a for a in agg if a["scope"] == scope}
    out: dict[str, dict[str, list]] = {}
    for (set_name, depth, caller), a in table.items():
        base = table.get((set_name, depth, baseline))
        if caller != "genoscreen" or base is None:
            continue
        for t in TYPES:
            ours, theirs = a[t]["F1"], base[t]["F1"]
            ok = ours is not None and (theirs is None or ours >= theirs)
            out.setdefault(set_name, {}).setdefault(t, []).append((depth, ok))
    for per_type in out.values():
        for t in per_type:
            per_type[t].sort(key=lambda d: _depth_key(d[0]))
    return out


def _depth_key(depth):
    return math.inf if depth == FULL else float(depth)


def _f(x, fmt=".4f", width=6):
    return f"{'NA':>{width}}" if x is None else f"{x:>{width}{fmt}}"


def format_table(agg: list[dict], set_name: str, scope: str) -> str:
    rows = sorted((a for a in agg if a["set"] == set_name and a["scope"] == scope),
                  key=lambda a: (_depth_key(a["depth"]), CALLER_NAMES.index(a["caller"])))
    lines = [f"{'depth':>5} {'~x':>5} {'caller':<10} {'n':>1}  {'SNP P':>6} {'SNP R':>6} {'SNP F1':>6} "
             f"{'TP':>5} {'FP':>4} {'FN':>4}  {'IND P':>6} {'IND R':>6} {'IND F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}"]
    for a in rows:
        cells = []
        for t in TYPES:
            s = a[t]
            cells.append(f"{_f(s['precision'])} {_f(s['recall'])} {_f(s['F1'])} {_f(s['TP'], '.1f', 5)} "
                         f"{_f(s['FP'], '.1f', 4)} {_f(s['FN'], '.1f', 4)}")
        lines.append(f"{a['depth']:>5} {_f(a['measured_depth'], '.1f', 5)} {a['caller']:<10} {a['replicates']:>1}  "
                     + "  ".join(cells))
    return "\n".join(lines)


def verdict_lines(agg: list[dict], flagged=()) -> list[str]:
    lines = []
    for scope in ("region", "bed"):
        for set_name, per_type in verdicts(agg, scope).items():
            label = "IN-SAMPLE" if in_sample(set_name, flagged) else "out-of-sample"
            parts = []
            for t in TYPES:
                ok = [d for d, good in per_type.get(t, []) if good]
                parts.append(f"{t} F1 >= bcftools at {', '.join(ok) if ok else 'no depth'} "
                             f"({len(ok)}/{len(per_type.get(t, []))})")
            lines.append(f"VERDICT {set_name} ({label}, scope {scope}): genoscreen " + "; ".join(parts))
    return lines


TSV_COLUMNS = ("set", "in_sample", "scope", "depth", "replicate", "seed", "measured_depth", "fraction", "caller",
               "wall_s") + tuple(f"{t}_{k}" for t in TYPES for k in ("TP", "FP", "FN", "precision", "recall", "F1"))


def tsv_lines(rows: list[dict], agg: list[dict]) -> list[str]:
    """Per-replicate rows, then the means (replicate 'mean')."""
    def cell(v):
        return "" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)

    lines = ["\t".join(TSV_COLUMNS)]
    for r in rows:
        for scope in ("region", "bed"):
            if r.get(scope):
                vals = {**r, "scope": scope, **{f"{t}_{k}": r[scope][t][k] for t in TYPES for k in
                                                 ("TP", "FP", "FN", "precision", "recall", "F1")}}
                lines.append("\t".join(cell(vals.get(c)) for c in TSV_COLUMNS))
    for a in agg:
        vals = {**a, "replicate": "mean", **{f"{t}_{k}": a[t][k] for t in TYPES for k in
                                             ("TP", "FP", "FN", "precision", "recall", "F1")}}
        lines.append("\t".join(cell(vals.get(c)) for c in TSV_COLUMNS))
    return lines


Y_TICKS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def plot(agg: list[dict], rows: list[dict], full_depths: dict[str, float], path: Path, hi: float = 0.999,
         flagged=()) -> None:
    """F1 vs depth, SNP and INDEL panels, one row per scoring set, one line per caller (replicate means; faint
    dots are single replicates). The y axis is logit, so 0.96 vs 0.99 is visible; F1 is clipped to [lo, hi], lo
    per panel the highest tick under its lowest F1 (at least 0.05), hi = 0.999 (1.0 is drawn there)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    set_names = list(dict.fromkeys(a["set"] for a in agg))
    fig, axes = plt.subplots(len(set_names), 2, figsize=(11, 3.6 * len(set_names)), squeeze=False)
    colors = {"genoscreen": "tab:red", "bcftools": "tab:blue", "freebayes": "tab:green"}

    def x_of(set_name, depth):
        return full_depths[set_name] if depth == FULL else float(depth)

    for i, set_name in enumerate(set_names):
        for j, t in enumerate(TYPES):
            ax = axes[i][j]
            low = min([r["region"][t]["F1"] for r in rows if r["set"] == set_name
                       and r["region"][t]["F1"] is not None] + [hi])
            lo = max([y for y in Y_TICKS if y <= low] + [Y_TICKS[0]])

            def clip(v, lo=lo):
                return min(hi, max(lo, v))

            for caller in CALLER_NAMES:
                pts = sorted((x_of(set_name, a["depth"]), a[t]["F1"]) for a in agg
                             if a["set"] == set_name and a["caller"] == caller and a["scope"] == "region"
                             and a[t]["F1"] is not None)
                if not pts:
                    continue
                ax.plot([p[0] for p in pts], [clip(p[1]) for p in pts], "o-", color=colors[caller], label=caller)
                reps = [(x_of(set_name, r["depth"]), r["region"][t]["F1"]) for r in rows
                        if r["set"] == set_name and r["caller"] == caller and r["region"][t]["F1"] is not None]
                ax.scatter([p[0] for p in reps], [clip(p[1]) for p in reps], s=10, color=colors[caller], alpha=0.3)
            ax.set_yscale("logit")
            ax.set_ylim(lo, hi)
            ax.set_xscale("log")
            ticks = sorted({x_of(set_name, a["depth"]) for a in agg if a["set"] == set_name})
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{x:g}" if x != full_depths[set_name] else f"{x:.0f}\n(full)" for x in ticks])
            ax.minorticks_off()
            ticks_y = [y for y in Y_TICKS if y >= lo]
            ax.set_yticks(ticks_y)
            ax.set_yticklabels([f"{y:g}" if y < hi else f"≥{y:g}" for y in ticks_y])
            ax.grid(True, alpha=0.3)
            tag = "IN-SAMPLE" if in_sample(set_name, flagged) else "out-of-sample"
            ax.set_title(f"{set_name} ({tag}): {t} F1, whole region", fontsize=10)
            ax.set_xlabel("mean depth (x)")
            if j == 0:
                ax.set_ylabel("F1 (logit axis)")
            if i == 0 and j == 0:
                ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def model_training_folders(model: Path) -> list[str]:
    """The distinct example folders a model's model.json says it was trained on (empty when it does not say)."""
    try:
        meta = json.loads((model / "model.json").read_text())
    except (OSError, ValueError):
        return []
    return list(dict.fromkeys(str(e) for e in (meta.get("training") or {}).get("examples") or []))


def flagged_in_sample(folders: list[str]) -> set[str]:
    """Sets the model's training folders show it was trained on against the split (HG001 examples)."""
    return {"hg001_2x151"} if any("hg001" in f.lower() for f in folders) else set()


def provenance_warnings(folders: list[str]) -> list[str]:
    """The in-sample labels assume the split of config/caller_training.tsv; say so, and flag what the model's
    training folders show breaks it (HG001 2x151 examples make hg001_2x151 in-sample)."""
    lines = ["# the OUT-OF-SAMPLE labels assume the model follows the split of config/caller_training.tsv (real reads "
             "= NA12878_S1 chr20:10,022,501-10,045,000 only); check the training folders: "
             + (", ".join(folders) if folders else "(model.json lists none)")]
    if flagged_in_sample(folders):
        lines.append("# WARNING: this model was trained on HG001 examples: its hg001_2x151 figures are IN-SAMPLE")
    return lines


def run_set(s: ScoringSet, depths: list, replicates: int, threads: int, model: Path, workdir: Path,
            log=print) -> tuple[list[dict], float]:
    """Downsample, call with the three callers and score; returns per-replicate rows and the full depth."""
    from genoscreen.variants.downsample import downsample, mean_depth
    from genoscreen.variants.regions import open_reference, parse_regions, reference_lengths

    regions = parse_regions(s.region, reference_lengths(open_reference(s.ref)))
    full = mean_depth(s.bam, regions)
    setdir = workdir / s.name
    setdir.mkdir(parents=True, exist_ok=True)
    run_callers = callers(model, refdir=workdir / "ref")
    rows = []
    for depth in depths:
        if depth != FULL and depth >= full:
            log(f"# {s.name}: skip {depth:g}x (full depth is {full:.1f}x)")
            continue
        for rep in range(1 if depth == FULL else replicates):
            label = depth_label(depth)
            rundir = setdir / (f"d{label}" if depth == FULL else f"d{label}_s{rep + 1}")
            rundir.mkdir(exist_ok=True)
            if depth == FULL:
                bam, info = s.bam, {"fraction": 1.0, "seed": None, "measured_depth": full}
            else:
                bam = rundir / "reads.bam"
                info_path = rundir / "downsample.json"
                if bam.exists() and Path(f"{bam}.bai").exists() and info_path.exists():
                    info = json.loads(info_path.read_text())  # a BAM kept in --workdir by an earlier run
                else:
                    info = downsample(s.bam, bam, depth=float(depth), regions=regions, seed=rep + 1, threads=threads)
                    info_path.write_text(json.dumps(info) + "\n")
                info["measured_depth"] = mean_depth(bam, regions)
            for name, run in run_callers.items():
                out = rundir / f"{name}.vcf.gz"
                wall = run(bam, s.ref, s.region, out, threads=threads)
                scored = score(s.truth, out, s.ref, s.region, bed=s.bed, contig_map=s.contig_map)
                rows.append({"set": s.name, "in_sample": s.in_sample, "depth": label, "replicate": rep + 1,
                             "seed": info["seed"], "fraction": round(info["fraction"], 6),
                             "measured_depth": round(info["measured_depth"], 2), "caller": name,
                             "wall_s": round(wall, 2), "bam": str(bam), "vcf": str(out), **scored})
                reg = scored["region"]
                log(f"# {s.name} {label + 'x':>5} rep {rep + 1} {name:<10} {wall:6.1f}s  SNP F1 {_f(reg['SNP']['F1'])}"
                    f"  INDEL F1 {_f(reg['INDEL']['F1'])}")
    return rows, full


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="caller model dir (default: the shipped one)")
    p.add_argument("--depths", default="5,7.5,10,15,20,30,full", help="comma-separated depths; 'full' = input BAM")
    p.add_argument("--replicates", type=int, default=2, help="downsampling seeds per depth (default 2)")
    p.add_argument("--threads", type=int, default=1, help="threads/processes given to every caller (default 1)")
    p.add_argument("--workdir", type=Path, help="keep BAMs/VCFs here and reuse the BAMs (default: a temp folder)")
    p.add_argument("--out-prefix", type=Path, default=Path(".dev/titration"),
                   help="writes PREFIX.tsv, PREFIX.png, PREFIX.json (default .dev/titration)")
    p.add_argument("--json", type=Path, help="JSON path (default PREFIX.json)")
    p.add_argument("--sets", default=",".join(OUT_OF_SAMPLE),
                   help=f"comma-separated scoring sets among {', '.join(OUT_OF_SAMPLE)} (default: all of them)")
    p.add_argument("--include-in-sample", action="store_true",
                   help="also score the half the model was fine-tuned on (na12878_2x101_train_half), in its own "
                        "IN-SAMPLE table")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        p.error(f"--sets: unknown {', '.join(unknown)}; choose among {', '.join(SETS)}")
    if args.include_in_sample:
        names += [n for n, s in SETS.items() if s.in_sample and n not in names]
    sets = [SETS[n] for n in names]
    try:
        depths = parse_depths(args.depths)
    except ValueError:
        p.error(f"--depths {args.depths!r}: expected numbers and/or 'full', e.g. 5,10,full")
    problem = missing_inputs([x for s in sets for x in (s.bam, s.ref, s.truth, s.bed)], "bench/titration.py")
    if not problem and not (args.model / "model.json").exists():
        problem = f"bench/titration.py: {args.model}: not a caller model folder (no model.json)"
    if problem:
        print(problem, file=sys.stderr)
        return 2

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_titration_"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows, full_depths = [], {}
    for s in sets:
        set_rows, full_depths[s.name] = run_set(s, depths, max(1, args.replicates), args.threads, args.model, workdir)
        rows += set_rows
    agg = aggregate(rows)

    folders = model_training_folders(args.model)
    warnings, flagged = provenance_warnings(folders), flagged_in_sample(folders)
    print()
    for line in warnings:
        print(line)
    print(f"# model {args.model}; threads {args.threads}; replicates {args.replicates}; figures are means over "
          f"replicates (n); '~x' = measured mean depth over the scored region")
    print("# scope 'region' = the whole scored region: GIAB v3.3.2 has no confident BED there, so PRECISION IS A "
          "LOWER BOUND; scope 'bed' = inside the confident BED " + BED.name)
    for inside in (False, True):
        for s in (s for s in sets if in_sample(s.name, flagged) == inside):
            tag = ("IN-SAMPLE (the model was fine-tuned on these reads)" if s.in_sample else
                   "IN-SAMPLE for this model (its training folders hold these reads)" if inside else "OUT-OF-SAMPLE")
            for scope in ("region", "bed"):
                if not any(a["set"] == s.name and a["scope"] == scope for a in agg):
                    continue
                print(f"\n## {s.name}: {tag}; {s.bam.name} {s.region} (full {full_depths[s.name]:.1f}x); "
                      f"scope {scope}" + ("" if scope == "bed" else " (precision a lower bound)") + f"; {s.note}")
                print(format_table(agg, s.name, scope))
    print()
    for line in verdict_lines(agg, flagged) + warnings[1:]:
        print(line)

    prefix = args.out_prefix
    prefix.parent.mkdir(parents=True, exist_ok=True)
    tsv, png, js = (Path(f"{prefix}.tsv"), Path(f"{prefix}.png"), args.json or Path(f"{prefix}.json"))
    tsv.write_text("\n".join(tsv_lines(rows, agg)) + "\n")
    plot(agg, rows, full_depths, png, flagged=flagged)
    js.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps({"inputs": {k: str(v) for k, v in vars(args).items()},
                              "in_sample_sets": [s.name for s in sets if s.in_sample],
                              "full_depths": full_depths, "model_training_folders": folders,
                              "provenance": warnings,
                              "in_sample_for_this_model": sorted(flagged), "verdicts": verdict_lines(agg, flagged),
                              "means": agg, "replicates": rows}, indent=2) + "\n")
    print(f"\n# wrote {tsv}, {png}, {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
