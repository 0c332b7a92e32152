"""Helpers shared by the variant-calling benchmarks (bench/call.py, bench/titration.py): run `genoscreen call`,
`bcftools mpileup | bcftools call -mv` and `freebayes` on one BAM and region, timed end to end as commands, and
score their VCFs with genoscreen's evaluator over the whole region and inside a confident BED.

Scripts in bench/ import this as `_callers` (their own folder is on sys.path when run as `python bench/x.py`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from genoscreen.caller.pipeline import default_model_dir

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "genomics" / "dev"
DEFAULT_MODEL = default_model_dir()
CALLER_NAMES = ("genoscreen", "bcftools", "freebayes")


def timed(cmd: list[str], stdout=None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=stdout, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def run_genoscreen(bam: Path, ref: Path, region: str, out: Path, threads: int = 1, model: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "genoscreen", "-q", "call", "--bam", str(bam), "--ref", str(ref),
           "--regions", region, "--out", str(out), "--threads", str(threads)]
    if model:
        cmd += ["--model", str(model)]
    return timed(cmd)


def run_bcftools(bam: Path, ref: Path, region: str, out: Path, threads: int = 1) -> float:
    """bcftools reads the bgzipped FASTA (with its .fai/.gzi) directly."""
    t0 = time.perf_counter()
    from genoscreen.variants.tools.bcftools import mpileup_call

    mpileup_call(bam, ref, out, region=region, threads=threads)
    return time.perf_counter() - t0


def plain_reference(ref: Path, workdir: Path) -> Path:
    """freebayes needs an uncompressed FASTA: write one (untimed) into `workdir`, once per reference."""
    import pysam

    plain = workdir / Path(ref).name.removesuffix(".gz")
    if plain == Path(ref):
        return plain
    if not plain.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        tmp = plain.with_name(plain.name + ".tmp")
        with pysam.FastaFile(str(ref)) as fasta, open(tmp, "w") as handle:
            for name in fasta.references:
                seq = fasta.fetch(name)
                handle.write(f">{name}\n")
                for i in range(0, len(seq), 80):
                    handle.write(seq[i : i + 80] + "\n")
        tmp.replace(plain)
        pysam.faidx(str(plain))
    return plain


def run_freebayes(bam: Path, ref: Path, region: str, out: Path, threads: int = 1, refdir: Path | None = None) -> float:
    """freebayes (single-threaded: `threads` is ignored) on a plain copy of `ref` kept in `refdir` (default: beside
    `out`); writes `out` as a bgzipped, indexed VCF (`out` must end in .gz)."""
    import pysam

    plain_ref = plain_reference(ref, refdir or out.parent)
    contig, _, span = region.partition(":")
    start, _, end = span.replace(",", "").partition("-")
    fb_region = f"{contig}:{int(start) - 1}-{end}"  # freebayes regions are 0-based, end excluded
    plain = out.with_suffix("")  # x.vcf
    t0 = time.perf_counter()
    with open(plain, "w") as handle:
        subprocess.run(["freebayes", "-f", str(plain_ref), "-r", fb_region, str(bam)], check=True,
                       stdout=handle, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    return wall


def callers(model: Path | None = None, refdir: Path | None = None) -> dict[str, Callable[..., float]]:
    """name -> run(bam, ref, region, out, threads) for genoscreen, bcftools and (when on PATH) freebayes."""
    found = {"genoscreen": lambda *a, **k: run_genoscreen(*a, **k, model=model), "bcftools": run_bcftools}
    if shutil.which("freebayes"):
        found["freebayes"] = lambda *a, **k: run_freebayes(*a, **k, refdir=refdir)
    return found


def score(truth: Path, calls: Path, ref: Path, region: str, bed: Path | None = None,
          contig_map: str | None = None) -> dict:
    """{"region": {SNP, INDEL}, "bed": {SNP, INDEL} or None}: the evaluation over the whole region (precision a
    lower bound where the truth has no confident BED) and inside `bed`."""
    from genoscreen.variants.evaluate import TYPES, evaluate

    whole = evaluate(truth, calls, ref, regions=region, contig_map=contig_map)
    in_bed = evaluate(truth, calls, ref, bed=bed, regions=region, contig_map=contig_map) if bed else None
    return {"region": {t: whole[t] for t in TYPES}, "bed": {t: in_bed[t] for t in TYPES} if in_bed else None}


def missing_inputs(paths, script: str) -> str | None:
    """A one-line message naming the first input that does not exist, or None."""
    for path in paths:
        if path is not None and not Path(path).exists():
            return f"{script}: {path} not found (needs ../shared/data/genomics/dev)"
    return None
