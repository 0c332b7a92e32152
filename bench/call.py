#!/usr/bin/env python
"""Benchmark `genoscreen call` against `bcftools mpileup | bcftools call -mv` and `freebayes` on the dev BAM.

All three callers run in this one script on the same region and cores; each is timed end to end as a command
(process start, imports, reading, writing), and scored with genoscreen's evaluator (SNP / INDEL precision, recall,
F1) over the whole region and inside the confident BED. Precision outside the BED is a lower bound (the truth
set has no confident regions there).

    python bench/call.py                        # dev defaults from ../shared/data/genomics/dev
    python bench/call.py --json .dev/bench_call.json --repeats 3

The first genoscreen run may compile (persistent JAX cache cold); `wall_s` is the best of --repeats runs of each
caller and `first_wall_s` the first one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _callers import DEV, callers, missing_inputs, score


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bam", type=Path, default=DEV / "NA12878_S1.chr20.10_10p045mb.bam")
    p.add_argument("--ref", type=Path, default=DEV / "ucsc.hg19.chr20.unittest.fasta.gz")
    p.add_argument("--truth", type=Path, default=DEV / "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz")
    p.add_argument("--bed", type=Path, default=DEV / "HG001_confident_subset.chr20_10000846_10010531.bed")
    p.add_argument("--regions", default="chr20:10000001-10045000", help="1-based region all callers run on")
    p.add_argument("--model", type=Path, help="caller model (default: the shipped one)")
    p.add_argument("--threads", type=int, default=1, help="threads/processes given to every caller")
    p.add_argument("--repeats", type=int, default=2, help="runs of each caller; the best wall time is reported")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--workdir", type=Path, help="keep the VCFs here (default: a temporary folder)")
    args = p.parse_args(argv)
    problem = missing_inputs((args.bam, args.ref, args.truth, args.bed), "bench/call.py")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_call_"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, run in callers(args.model).items():
        out = workdir / f"{name}.vcf.gz"
        walls = [run(args.bam, args.ref, args.regions, out, threads=args.threads) for _ in range(max(1, args.repeats))]
        results[name] = {"wall_s": round(min(walls), 3), "first_wall_s": round(walls[0], 3),
                         **score(args.truth, out, args.ref, args.regions, bed=args.bed)}
    base = results["bcftools"]["wall_s"]
    for r in results.values():
        r["wall_vs_bcftools"] = round(r["wall_s"] / base, 2)

    def f(x):
        return "  NA  " if x is None else f"{x:.4f}"

    print(f"# {args.bam.name} {args.regions}, threads {args.threads}; scope 'region' = the whole region "
          f"(precision a lower bound), 'bed' = inside {args.bed.name}")
    print(f"{'caller':<11} {'scope':<6} {'wall_s':>7} {'x bcf':>6}  {'SNP P':>6} {'SNP R':>6} {'SNP F1':>6}  "
          f"{'IND P':>6} {'IND R':>6} {'IND F1':>6}")
    for name, r in results.items():
        for scope in ("region", "bed"):
            s, i = r[scope]["SNP"], r[scope]["INDEL"]
            print(f"{name:<11} {scope:<6} {r['wall_s']:>7.2f} {r['wall_vs_bcftools']:>6.2f}  "
                  f"{f(s['precision'])} {f(s['recall'])} {f(s['F1'])}  {f(i['precision'])} {f(i['recall'])} {f(i['F1'])}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"inputs": {k: str(v) for k, v in vars(args).items()}, "results": results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
