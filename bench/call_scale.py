#!/usr/bin/env python
"""Calling at scale, per core: `genoscreen call` vs `bcftools mpileup | call -mv` on a >= 2 Mb region at 30x.

The reads are simulated once (ART HiSeq X, 2x150, HG002 GIAB v4.2.1 variants on GRCh38 chr20, from
../shared/data/genomics/sim) into --workdir and reused. Then, on the same region and cores, in one run:

  * `genoscreen call` end to end (a command: start-up, reading, inference, writing) and bcftools: the ratio
    genoscreen / bcftools is the figure (issue 17: <= 1.5x at 2 Mb);
  * the three stages as commands (make-examples, call-variants, postprocess), to see where the time goes;
  * the start-up: `genoscreen call` on a 1 bp region (imports, model load, no reads to speak of), and the time
    from the process start to the first read being read (the issue's start-up figure: JAX is imported after it);
  * with --profile, cProfile of make-examples in this process: the functions that cost the most.

Both callers are scored against the truth inside the simulated confident BED.

    python bench/call_scale.py                                   # 2 Mb at 30x, 1 thread
    python bench/call_scale.py --threads 2 --json .dev/call_scale.json --profile
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _callers import ROOT, run_bcftools, run_genoscreen, score, timed

SIM = ROOT.parent / "shared" / "data" / "genomics" / "sim"
REF = SIM / "grch38.chr20_and_21_10M.fa.gz"
TRUTH = SIM / "HG002_GIAB_v4.2.1.GRCh38.chr20_1_10000000.vcf.gz"
BED = SIM / "HG002_GIAB_v4.2.1.GRCh38.chr20_1_10000000.benchmark.bed"


def simulate(region: str, coverage: float, workdir: Path, threads: int) -> tuple[Path, Path]:
    """(BAM, confident BED) of the region, simulated once into workdir."""
    bam = workdir / f"sim_{region.replace(':', '_').replace('-', '_')}_{coverage:g}x.bam"
    bed = Path(f"{bam}.confident.bed")  # written by simulate-reads beside the BAM
    if not (bam.exists() and bed.exists()):
        subprocess.run([sys.executable, "-m", "genoscreen", "-q", "simulate-reads", "--ref", str(REF),
                        "--truth", str(TRUTH), "--benchmark-bed", str(BED), "--regions", region,
                        "--coverage", str(coverage), "--art-system", "HSXt", "--read-length", "150",
                        "--fragment-mean", "400", "--fragment-sd", "80", "--seed", "7", "--threads", str(threads),
                        "--workdir", str(workdir / "simwork"), "--out", str(bam)], check=True,
                       stdout=subprocess.DEVNULL)
    return bam, bed


def first_read_seconds(bam: Path, region: str, workdir: Path, threads: int) -> float:
    """Seconds from the start of `genoscreen call` to its first read (its debug log line), on `region`."""
    import re

    cmd = [sys.executable, "-m", "genoscreen", "-v", "call", "--bam", str(bam), "--ref", str(REF), "--regions",
           region, "--out", str(workdir / "first_read.vcf.gz"), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    found = re.search(r"reading reads ([0-9.]+) s after the process started", proc.stderr)
    if found is None:
        raise RuntimeError("genoscreen call -v logged no 'reading reads' line")
    return float(found.group(1))


def stage_times(bam: Path, region: str, workdir: Path, threads: int) -> dict[str, float]:
    g = [sys.executable, "-m", "genoscreen", "-q"]
    ex, probs, vcf = workdir / "stages.examples", workdir / "stages.probs.npz", workdir / "stages.vcf.gz"
    return {
        "make_examples": timed([*g, "make-examples", "--bam", str(bam), "--ref", str(REF), "--regions", region,
                                "--threads", str(threads), "--out", str(ex)], stdout=subprocess.DEVNULL),
        "call_variants": timed([*g, "call-variants", "--examples", str(ex), "--out", str(probs),
                                "--threads", str(threads)]),
        "postprocess": timed([*g, "postprocess", "--probs", str(probs), "--ref", str(REF), "--out", str(vcf)]),
    }


def profile_make_examples(bam: Path, region: str, workdir: Path, top: int = 15) -> list[str]:
    import cProfile
    import io
    import pstats

    from genoscreen.variants.make_examples import make_examples

    profiler = cProfile.Profile()
    profiler.enable()
    make_examples(bam, REF, workdir / "profiled.examples", regions=region)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue().splitlines()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--region", default="chr20:8000001-10000000", help="region to simulate and call (>= 2 Mb)")
    p.add_argument("--coverage", type=float, default=30.0)
    p.add_argument("--threads", type=int, default=1, help="threads/processes given to both callers")
    p.add_argument("--repeats", type=int, default=2, help="runs of each caller; the best wall time is reported")
    p.add_argument("--workdir", type=Path, default=ROOT / ".dev" / "call_scale")
    p.add_argument("--profile", action="store_true", help="also cProfile make-examples in this process")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    for path in (REF, TRUTH, BED):
        if not path.exists():
            print(f"bench/call_scale.py: {path} not found (needs ../shared/data/genomics/sim)", file=sys.stderr)
            return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    bam, bed = simulate(args.region, args.coverage, args.workdir, max(args.threads, 2))
    print(f"# reads: {bam} ({time.perf_counter() - t0:.0f} s, cached after the first run)")
    walls: dict[str, list[float]] = {"genoscreen": [], "bcftools": []}
    outs = {name: args.workdir / f"{name}.vcf.gz" for name in walls}
    for _ in range(max(1, args.repeats)):
        walls["genoscreen"].append(run_genoscreen(bam, REF, args.region, outs["genoscreen"], args.threads))
        walls["bcftools"].append(run_bcftools(bam, REF, args.region, outs["bcftools"], args.threads))
    contig = args.region.split(":")[0]
    startup = min(run_genoscreen(bam, REF, f"{contig}:1-1", args.workdir / "startup.vcf.gz", args.threads)
                  for _ in range(2))
    first_read = min(first_read_seconds(bam, args.region, args.workdir, args.threads) for _ in range(2))
    stages = stage_times(bam, args.region, args.workdir, args.threads)
    result = {
        "region": args.region, "coverage": args.coverage, "threads": args.threads,
        "wall_s": {name: round(min(w), 2) for name, w in walls.items()},
        "ratio_genoscreen_over_bcftools": round(min(walls["genoscreen"]) / min(walls["bcftools"]), 2),
        "startup_s": round(startup, 2),
        "first_read_s": round(first_read, 2),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "accuracy": {name: score(TRUTH, out, REF, args.region, bed=bed)["bed"] for name, out in outs.items()},
    }
    print(f"# {args.region} at {args.coverage:g}x, {args.threads} thread(s); best of {args.repeats}")
    print(f"genoscreen call {result['wall_s']['genoscreen']:8.2f} s   bcftools {result['wall_s']['bcftools']:8.2f} s"
          f"   ratio {result['ratio_genoscreen_over_bcftools']:.2f}x (target <= 1.5x)")
    print(f"start-up: first read {first_read:.2f} s after the process started (target < 1.5 s); a whole call on a "
          f"1 bp region {startup:.2f} s; stages: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in result["stages_s"].items()))
    for name, acc in result["accuracy"].items():
        print(f"{name:<10} SNP F1 {acc['SNP']['F1']:.4f}  INDEL F1 {acc['INDEL']['F1']:.4f}  (inside the confident BED)")
    if args.profile:
        result["profile_make_examples"] = profile_make_examples(bam, args.region, args.workdir)
        print("\n".join(result["profile_make_examples"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
