#!/usr/bin/env python
"""The cost and the gain of the candidate thresholds: DeepVariant's (2 reads and 12% for SNVs, 6% for indels: a het
with 2 of 4 reads is a candidate) against a stricter set, on the real NA12878 dev reads at full depth (~52x) and
downsampled to low depth.

For each depth and threshold set, `genoscreen make-examples` runs as a command (timed end to end) over the dev
region with the truth, and the script reports candidates, examples, truth variants without a candidate (the recall
the model can never recover) and the wall time. The cost is read at full depth (more candidates to tensorise and
classify), the gain at low depth (fewer truth variants lost before the model sees them).

    python bench/candidates.py                      # depths 5, 10 and full; writes .dev/candidates.json
    python bench/candidates.py --depths 4,full --json out.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _callers import DEV

REGION = "chr20:10000001-10045000"
BAM = DEV / "NA12878_S1.chr20.10_10p045mb.bam"
REF = DEV / "ucsc.hg19.chr20.unittest.fasta.gz"
TRUTH = DEV / "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz"
THRESHOLDS = {
    "deepvariant (2 reads, SNV 12%, indel 6%)": [],  # genoscreen's defaults
    "strict (3 reads, SNV 20%, indel 12%)": ["--min-alt-count", "3", "--min-snv-fraction", "0.2",
                                             "--min-indel-fraction", "0.12"],
}


def make_examples(bam: Path, out: Path, extra: list[str]) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "genoscreen", "-q", "make-examples", "--bam", str(bam), "--ref", str(REF),
           "--regions", REGION, "--truth", str(TRUTH), "--out", str(out), *extra]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    return json.loads((out / "summary.json").read_text()), wall


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depths", default="5,10,full", help="comma-separated depths ('full' = the BAM as is)")
    p.add_argument("--seed", type=int, default=1, help="downsampling seed")
    p.add_argument("--json", type=Path, default=Path(".dev/candidates.json"))
    args = p.parse_args(argv)
    missing = [str(f) for f in (BAM, REF, TRUTH) if not f.exists()]
    if missing:
        sys.exit(f"bench/candidates.py: missing {', '.join(missing)} (the dev data in ../shared); nothing to measure")
    from genoscreen.variants.downsample import downsample
    from genoscreen.variants.regions import Region

    region = Region("chr20", 10_000_000, 10_045_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for depth in args.depths.split(","):
            bam = BAM
            if depth != "full":
                bam = Path(tmp, f"d{depth}.bam")
                downsample(BAM, bam, depth=float(depth), regions=[region], seed=args.seed)
            for name, extra in THRESHOLDS.items():
                summary, wall = make_examples(bam, Path(tmp, f"ex_{depth}_{len(rows)}"), extra)
                missed = summary["truth_without_candidate"]
                rows.append({"depth": depth, "thresholds": name, "candidates": summary["candidates"],
                             "examples": summary["examples"], "truth_snp": summary["truth"]["SNP"],
                             "truth_indel": summary["truth"]["INDEL"], "snp_without_candidate": missed["SNP"],
                             "indel_without_candidate": missed["INDEL"], "wall_s": round(wall, 2)})
    print(f"NA12878_S1 {REGION} (real dev reads, full depth ~52x), make-examples with the truth:")
    print(f"{'depth':>6} {'thresholds':<42} {'cand':>6} {'examples':>8} {'SNP lost':>9} {'INDEL lost':>10} {'wall s':>7}")
    for r in rows:
        print(f"{r['depth']:>6} {r['thresholds']:<42} {r['candidates']:>6} {r['examples']:>8} "
              f"{r['snp_without_candidate']:>4}/{r['truth_snp']:<4} {r['indel_without_candidate']:>5}/{r['truth_indel']:<4} "
              f"{r['wall_s']:>7.2f}")
    full = [r for r in rows if r["depth"] == "full"]
    if len(full) == 2:
        print(f"cost at full depth: {full[0]['examples'] / max(1, full[1]['examples']):.2f}x the examples, "
              f"{full[0]['wall_s'] / full[1]['wall_s']:.2f}x the make-examples wall time of the strict thresholds")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"region": REGION, "bam": str(BAM), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
