"""Benchmark make-examples on the real dev BAM against `bcftools mpileup | bcftools call`, in one run.

Measures, on the same region and number of cores: wall time of `genoscreen make-examples` (the CLI, as a user
runs it; no truth, so labelling is not timed), of the same with `--no-realign` (the realigner's cost) and of
`bcftools mpileup -f REF -r REGION BAM | bcftools call -mv`, each the median of --repeats interleaved runs;
examples/s; and candidate recall by type against the GIAB truth, inside the confident BED and over the whole
read-covered region, with and without the realigner. Prints one JSON object (also written to --out).

    python bench/make_examples.py [--threads 1] [--repeats 3] [--out bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("GENOSCREEN_SHARED", ROOT.parent / "shared")) / "data" / "genomics" / "dev"
BAM = DEV / "NA12878_S1.chr20.10_10p045mb.bam"
REF = DEV / "ucsc.hg19.chr20.unittest.fasta.gz"
TRUTH = DEV / "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz"
CONF = DEV / "HG001_confident_subset.chr20_10000846_10010531.bed"
REGION = "chr20:10000001-10045000"  # the part of the dev region that has reads


def _timed(cmd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   executable="/bin/bash")
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main() -> int:
    global BAM, REF, TRUTH, CONF
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="cores for both tools (default 1)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each tool; the median is reported")
    ap.add_argument("--region", default=REGION, help=f"region (default {REGION})")
    ap.add_argument("--bam", type=Path, default=BAM, help="BAM (default: the dev NA12878 BAM)")
    ap.add_argument("--ref", type=Path, default=REF, help="reference of --bam")
    ap.add_argument("--truth", type=Path, default=TRUTH, help="truth VCF for candidate recall")
    ap.add_argument("--confident-bed", type=Path, default=CONF, help="confident BED of the truth")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    BAM, REF, TRUTH, CONF = args.bam, args.ref, args.truth, args.confident_bed
    for p in (BAM, REF, TRUTH, CONF):
        if not p.exists():
            sys.exit(f"needs {p} (the shared dev data)")
    for tool in ("bcftools",):
        if shutil.which(tool) is None:
            sys.exit(f"needs {tool}: apt-get install {tool}")
    genoscreen = shutil.which("genoscreen") or f"{sys.executable} -m genoscreen"
    with tempfile.TemporaryDirectory() as tmp:
        me = (f"{genoscreen} -q make-examples --bam {BAM} --ref {REF} --regions {args.region} "
              f"--threads {args.threads} --out {tmp}/ex")
        bcf = (f"bcftools mpileup --threads {args.threads} -f {REF} -r {args.region} {BAM} | "
               f"bcftools call --threads {args.threads} -mv -Oz -o {tmp}/bcftools.vcf.gz")
        me_off = me.replace(f"--out {tmp}/ex", f"--out {tmp}/ex_off --no-realign")
        me_runs, off_runs, bcf_runs = [], [], []
        for _ in range(args.repeats):  # interleaved so machine load affects all alike
            me_runs.append(_timed(me))
            off_runs.append(_timed(me_off))
            bcf_runs.append(_timed(bcf))
        me_times, bcf_times = [w for w, _ in me_runs], [w for w, _ in bcf_runs]
        me_cpu, bcf_cpu = statistics.median(c for _, c in me_runs), statistics.median(c for _, c in bcf_runs)
        summary = json.loads(Path(tmp, "ex", "summary.json").read_text())

        summary_off = json.loads(Path(tmp, "ex_off", "summary.json").read_text())

        from genoscreen.variants.evaluate import evaluate
        from genoscreen.variants.make_examples import make_examples
        from genoscreen.variants.realign import RealignOptions

        recall, recall_off = {}, {}
        for out, realign in ((recall, RealignOptions()), (recall_off, RealignOptions(enabled=False))):
            for name, bed in (("confident_bed", CONF), ("region", None)):
                s = make_examples(BAM, REF, Path(tmp, f"lab_{name}_{realign.enabled}"), regions=args.region,
                                  truth=TRUTH, confident_bed=bed, threads=args.threads, realign=realign)
                out[name] = {k: {"truth": s["truth"][k], "without_candidate": s["truth_without_candidate"][k],
                                 "recall": round(1 - s["truth_without_candidate"][k] / s["truth"][k], 4)
                                 if s["truth"][k] else None} for k in ("SNP", "INDEL")}
        bcftools_eval = {name: {k: evaluate(TRUTH, Path(tmp, "bcftools.vcf.gz"), REF, bed=bed, regions=args.region)[k]
                                for k in ("SNP", "INDEL")}
                         for name, bed in (("confident_bed", CONF), ("region", None))}
    me_t, bcf_t = statistics.median(me_times), statistics.median(bcf_times)
    off_t = statistics.median(w for w, _ in off_runs)
    result = {
        "data": f"{BAM.name}, {args.region}, truth {TRUTH.name}",
        "threads": args.threads,
        "make_examples_s": round(me_t, 3),
        "bcftools_mpileup_call_s": round(bcf_t, 3),
        "ratio_make_examples_over_bcftools": round(me_t / bcf_t, 3),
        "make_examples_no_realign_s": round(off_t, 3),
        "ratio_no_realign_over_bcftools": round(off_t / bcf_t, 3),
        "make_examples_cpu_s": round(me_cpu, 3),
        "bcftools_cpu_s": round(bcf_cpu, 3),
        "cpu_ratio": round(me_cpu / bcf_cpu, 3),
        "target_ratio": 3.0,
        "candidates": summary["candidates"],
        "examples": summary["examples"],
        "examples_per_s": round(summary["examples"] / me_t, 1),
        "candidates_no_realign": summary_off["candidates"],
        "examples_no_realign": summary_off["examples"],
        "candidate_recall": recall,
        "candidate_recall_no_realign": recall_off,
        "bcftools_calls_vs_truth": bcftools_eval,
        "runs": {"make_examples_s": [round(t, 3) for t in me_times],
                 "make_examples_no_realign_s": [round(w, 3) for w, _ in off_runs],
                 "bcftools_s": [round(t, 3) for t in bcf_times]},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
