"""Benchmark `genoscreen screen` (issue 3), every figure measured in one run on this machine.

1. `genoscreen screen`: KIBA's 2,111 compounds x the 442 Davis targets (933k pairs) with the shipped Davis model
   (its `davis` panel when it carries one, else the FASTA), full table; end-to-end wall time, CPU time and peak
   RSS (VmHWM) of the command, run as a child process.
2. The same 933k pairs through `genoscreen affinity predict` (which already encodes each distinct drug and target
   once and shares the first dense layer): wall time, peak RSS, largest |difference| from the screen's table.
3. The per-pair path, DeepDTA's `__call__` (both sequences encoded for every pair, as the original DeepDTA and
   DeepPurpose predict), on a random sample of the pairs after a warm-up, extrapolated to pairs/s; largest
   |difference| from the screen's table on the sample.
4. Memory: `genoscreen screen` on generated libraries (KIBA's valid SMILES repeated under unique ids) of growing
   size x 8 Davis targets, with --top-k 100 at each size and the full table at the largest: peak RSS, its slope
   per compound, and the figure extrapolated to 1M compounds x 500 targets (targets add 4 KiB each; the
   full table's score block is capped by SCORE_MEMORY, added on top).

Writes <work>/bench_screen.json and prints a summary. Example:
    python bench/screen.py --work .dev/bench-screen
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.common.resources import model_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GENOSCREEN_SHARED", ROOT.parent / "shared")) / "data" / "dta"


# Runs a genoscreen command and reports its own peak RSS (VmHWM of the exec'd image) on stderr at exit. The
# rusage of wait4 is not used for memory: Linux carries the parent's high-water mark across fork/exec into it.
_HWM_WRAPPER = """
import atexit, sys
def _report():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("\\nVmHWM_KB " + line.split()[1] + "\\n")
atexit.register(_report)
from genoscreen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_child(argv: list[str], log_path: Path) -> dict:
    """Run `genoscreen ARGV`: wall seconds, CPU seconds (wait4) and its peak RSS in GiB (VmHWM); log in log_path."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", _HWM_WRAPPER, *argv], stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    text = log_path.read_text()
    if code != 0:
        sys.exit(f"genoscreen {' '.join(argv)} failed ({code}); see {log_path}:\n{text[-3000:]}")
    hwm_kb = int(text.rsplit("VmHWM_KB ", 1)[1].split()[0])
    return {"seconds": round(wall, 2), "peak_rss_gib": round(hwm_kb / 2**20, 3),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}


def genoscreen(*args: str) -> list[str]:
    return list(args)


def per_pair_path(model_dir: Path, drugs: pd.DataFrame, targets: dict[str, str], pairs: pd.DataFrame,
                  batch: int) -> tuple[np.ndarray, float, float]:
    """Predictions of `DeepDTA.__call__` for `pairs` (each pair encodes its own drug and target); wall and CPU s."""
    from flax import nnx

    from genoscreen.affinity.checkpoint import load_model
    from genoscreen.affinity.featurize import encode_proteins, encode_smiles

    model, config = load_model(model_dir)
    smiles = dict(zip(drugs["drug_id"], drugs["smiles"]))
    d_tokens, _ = encode_smiles([smiles[d] for d in pairs["drug_id"]], config.max_drug_len)
    t_tokens, _ = encode_proteins([targets[t] for t in pairs["target_id"]], config.max_target_len)
    call = nnx.jit(lambda m, d, t: m(d, t))
    call(model, d_tokens[:batch], t_tokens[:batch]).block_until_ready()  # compile outside the timing
    start, cpu = time.perf_counter(), time.process_time()
    out = [np.asarray(call(model, d_tokens[i : i + batch], t_tokens[i : i + batch]))
           for i in range(0, len(pairs), batch)]
    return np.concatenate(out), time.perf_counter() - start, time.process_time() - cpu


def synthetic_library(path: Path, smiles: list[str], n: int) -> Path:
    """n compounds: the given valid SMILES repeated, ids L0000000... (unique)."""
    with open(path, "w") as handle:
        handle.write("compound_id\tsmiles\n")
        for i in range(n):
            handle.write(f"L{i:07d}\t{smiles[i % len(smiles)]}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=model_dir("dta-davis"))
    parser.add_argument("--compounds", type=Path, default=SHARED / "kiba" / "drugs.tsv")
    parser.add_argument("--targets", type=Path, default=SHARED / "davis" / "targets.fasta")
    parser.add_argument("--panel", default="davis", help="use this panel of the model when it has it")
    parser.add_argument("--work", type=Path, default=ROOT / ".dev" / "bench-screen")
    parser.add_argument("--per-pair-sample", type=int, default=1024, help="pairs timed on the per-pair path")
    parser.add_argument("--predict-sample", type=int, default=0,
                        help="pairs sent through `affinity predict` (0 = all, the default)")
    parser.add_argument("--memory-sizes", default="20000,100000",
                        help="library sizes for the memory runs (comma-separated; empty to skip)")
    parser.add_argument("--memory-targets", type=int, default=8, help="targets in the memory runs")
    args = parser.parse_args()

    from genoscreen.affinity.io.proteins import read_targets
    from genoscreen.screening.panels import panel_names
    from genoscreen.screening.screen import SCORE_MEMORY

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    drugs = pd.read_csv(args.compounds, sep="\t", dtype=str)
    targets = read_targets(args.targets)
    n_pairs = len(drugs) * len(targets)
    use_panel = args.panel in panel_names(args.model)
    target_flag = ["--panel", args.panel] if use_panel else ["--targets", str(args.targets)]
    result: dict = {
        "machine": f"{os.cpu_count()} CPU cores, {os.uname().machine}, load average {os.getloadavg()[0]:.1f} at start",
        "model": str(args.model), "compounds": str(args.compounds), "targets": str(args.targets),
        "target_source": f"panel {args.panel}" if use_panel else "FASTA", "pairs": n_pairs,
    }

    # 1. screen
    screen_out = work / "screen.tsv"
    screen = run_child(genoscreen("screen", "--model", str(args.model), "--compounds", str(args.compounds),
                                  *target_flag, "--out", str(screen_out)), work / "screen.log")
    screen["pairs_per_s"] = round(n_pairs / screen["seconds"])
    screen["pairs_per_cpu_s"] = round(n_pairs / screen["cpu_seconds"])
    result["screen"] = screen
    print(f"screen: {n_pairs} pairs in {screen['seconds']} s = {screen['pairs_per_s']:,} pairs/s "
          f"({screen['pairs_per_cpu_s']:,} per CPU-s), peak RSS {screen['peak_rss_gib']} GiB", flush=True)
    table = pd.read_csv(screen_out, sep="\t", dtype={"compound_id": str, "target_id": str})
    screened = table.set_index(["compound_id", "target_id"])["prediction"]

    # 2. affinity predict on the same pairs
    all_pairs = pd.DataFrame({"drug_id": np.repeat(drugs["drug_id"].to_numpy(), len(targets)),
                              "target_id": np.tile(np.array(list(targets)), len(drugs))})
    pairs = all_pairs if not args.predict_sample else all_pairs.sample(args.predict_sample, random_state=0)
    pairs.to_csv(work / "pairs.tsv", sep="\t", index=False)
    predict = run_child(genoscreen("affinity", "predict", "--model", str(args.model), "--drugs", str(args.compounds),
                                   "--targets", str(args.targets), "--pairs", str(work / "pairs.tsv"),
                                   "--out", str(work / "predict.tsv")), work / "predict.log")
    predicted = pd.read_csv(work / "predict.tsv", sep="\t", dtype={"drug_id": str, "target_id": str})
    predict["pairs"] = len(pairs)
    predict["pairs_per_s"] = round(len(pairs) / predict["seconds"])
    predict["pairs_per_cpu_s"] = round(len(pairs) / predict["cpu_seconds"])
    diff = np.abs(predicted["prediction"].to_numpy()
                  - screened.loc[list(zip(predicted["drug_id"], predicted["target_id"]))].to_numpy())
    predict["max_abs_diff_vs_screen"] = float(np.nanmax(diff))
    result["affinity_predict"] = predict
    print(f"affinity predict: {len(pairs)} pairs in {predict['seconds']} s = {predict['pairs_per_s']:,} pairs/s "
          f"({predict['pairs_per_cpu_s']:,} per CPU-s); "
          f"max |diff| vs screen {predict['max_abs_diff_vs_screen']:.2e}", flush=True)

    # 3. the per-pair path on a sample
    sample = all_pairs.sample(min(args.per_pair_sample, n_pairs), random_state=1).reset_index(drop=True)
    values, seconds, cpu = per_pair_path(args.model, drugs, targets, sample, batch=64)
    per_pair = {"pairs": len(sample), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 1),
                "pairs_per_s": round(len(sample) / seconds, 1), "pairs_per_cpu_s": round(len(sample) / cpu, 1)}
    per_pair["max_abs_diff_vs_screen"] = float(np.max(np.abs(
        values - screened.loc[list(zip(sample["drug_id"], sample["target_id"]))].to_numpy())))
    result["per_pair_path"] = per_pair
    print(f"per-pair path: {len(sample)} pairs in {per_pair['seconds']} s = {per_pair['pairs_per_s']:,} pairs/s "
          f"({per_pair['pairs_per_cpu_s']:,} per CPU-s); "
          f"max |diff| vs screen {per_pair['max_abs_diff_vs_screen']:.2e}", flush=True)
    # Ratios of wall-clock rates, and of rates per CPU-second (robust to other jobs sharing the cores).
    result["speedup_vs_per_pair_path"] = round(screen["pairs_per_s"] / per_pair["pairs_per_s"], 1)
    result["speedup_vs_per_pair_path_cpu"] = round(screen["pairs_per_cpu_s"] / per_pair["pairs_per_cpu_s"], 1)
    result["speedup_vs_affinity_predict"] = round(screen["pairs_per_s"] / predict["pairs_per_s"], 2)
    result["speedup_vs_affinity_predict_cpu"] = round(screen["pairs_per_cpu_s"] / predict["pairs_per_cpu_s"], 2)

    # 4. memory against library size
    sizes = [int(s) for s in args.memory_sizes.split(",") if s.strip()]
    if sizes:
        fasta = work / "memory_targets.fasta"
        fasta.write_text("".join(f">{k}\n{v}\n" for k, v in list(targets.items())[: args.memory_targets]))
        smiles = drugs["smiles"].tolist()
        runs = []
        for n in sizes:
            library = synthetic_library(work / f"library_{n}.tsv", smiles, n)
            # --top-k at every size (the slope per compound); the full table at the largest (its extra memory).
            for mode, extra in (("top-100", ["--top-k", "100"]), ("full", [])):
                if mode == "full" and n != max(sizes):
                    continue
                out = work / f"memory_{n}_{mode}.parquet"
                run = run_child(genoscreen("screen", "--model", str(args.model), "--compounds", str(library),
                                           "--targets", str(fasta), "--out", str(out), *extra),
                                work / f"memory_{n}_{mode}.log")
                run.update(compounds=n, targets=args.memory_targets, mode=mode)
                runs.append(run)
                out.unlink()
                print(f"memory: {n} compounds x {args.memory_targets} targets, {mode}: peak RSS "
                      f"{run['peak_rss_gib']} GiB ({run['seconds']} s)", flush=True)
            library.unlink()
        memory: dict = {"runs": runs}
        top = [(r["compounds"], r["peak_rss_gib"]) for r in runs if r["mode"] == "top-100"]
        full = [r["peak_rss_gib"] for r in runs if r["mode"] == "full"]
        if len(top) >= 2:
            (n0, m0), (n1, m1) = top[0], top[-1]
            slope = (m1 - m0) / (n1 - n0)  # GiB per compound
            top_1m = m1 + slope * (1_000_000 - n1)
            memory["bytes_per_compound"] = round(slope * 2**30)
            memory["extrapolated_1M_x_500_gib"] = {
                "top-100": round(top_1m, 2),
                # plus the full table's extra at the largest size and its score block, capped by SCORE_MEMORY
                "full": round(top_1m + (full[0] - m1) + SCORE_MEMORY / 2**30, 2) if full else None,
            }
            print(f"memory: {memory['bytes_per_compound']} bytes/compound -> 1M x 500 extrapolated "
                  f"{memory['extrapolated_1M_x_500_gib']} GiB", flush=True)
        result["memory"] = memory

    (work / "bench_screen.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"speedup {result['speedup_vs_per_pair_path']}x vs the per-pair path "
          f"({result['speedup_vs_per_pair_path_cpu']}x per CPU-s), {result['speedup_vs_affinity_predict']}x vs "
          f"affinity predict ({result['speedup_vs_affinity_predict_cpu']}x per CPU-s); details in "
          f"{work / 'bench_screen.json'}")


if __name__ == "__main__":
    main()
