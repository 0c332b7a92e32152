"""samtools: FASTQ from BAM, sort and index."""

from __future__ import annotations

import subprocess
from pathlib import Path

from genoscreen.variants.tools import ToolError, require, run


def binary() -> str:
    return require("samtools", "samtools")


def bam_to_fastq(bam: str | Path, fq1: str | Path, fq2: str | Path, threads: int = 1) -> None:
    """Write the primary read pairs of a BAM as two FASTQ files (samtools collate | samtools fastq)."""
    exe = binary()
    collate = subprocess.Popen([exe, "collate", "-u", "-O", "-@", str(threads), str(bam), str(Path(fq1).with_suffix(".collate"))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fastq = subprocess.run([exe, "fastq", "-F", "0x900", "-1", str(fq1), "-2", str(fq2), "-0", "/dev/null",
                            "-s", "/dev/null", "-n", "-"], stdin=collate.stdout, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    collate.stdout.close()
    collate.wait()
    if collate.returncode or fastq.returncode:
        raise ToolError(f"samtools collate|fastq failed on {bam}: {fastq.stderr.decode(errors='replace').strip()[-300:]}")


def sort(sam_stdin, out_bam: str | Path, threads: int = 1, memory: str = "256M") -> subprocess.Popen:
    """Start `samtools sort` reading SAM from `sam_stdin`; the caller waits on the returned process."""
    return subprocess.Popen([binary(), "sort", "-@", str(max(0, threads - 1)), "-m", memory, "-o", str(out_bam), "-"],
                            stdin=sam_stdin, stderr=subprocess.PIPE)


def index(bam: str | Path) -> None:
    run([binary(), "index", str(bam)], what="samtools index")


def faidx(fasta: str | Path) -> None:
    run([binary(), "faidx", str(fasta)], what="samtools faidx")


def coverage(bam: str | Path, region: str, min_mapq: int = 0) -> dict:
    """`samtools coverage -r REGION` of one region as a dict (numreads, covbases, meandepth, ...)."""
    text = subprocess.run([binary(), "coverage", "-q", str(min_mapq), "-r", region, str(bam)],
                          capture_output=True, text=True)
    if text.returncode:
        raise ToolError(f"samtools coverage -r {region} failed on {bam}: {text.stderr.strip()[-300:]}")
    lines = [ln for ln in text.stdout.splitlines() if ln.strip()]
    if len(lines) != 2:
        raise ToolError(f"samtools coverage -r {region} on {bam}: unexpected output {text.stdout[:200]!r}")
    head, row = lines[0].lstrip("#").split("\t"), lines[1].split("\t")
    out = dict(zip(head, row))
    return {k: (v if k == "rname" else float(v)) for k, v in out.items()}


def subsample(bam: str | Path, out_bam: str | Path, fraction: float, seed: int = 0, threads: int = 1) -> None:
    """`samtools view -s SEED.FRACTION`: keep each read pair (by name hash) with probability `fraction`."""
    if not 0 < fraction < 1:
        raise ValueError(f"subsample fraction must be in (0, 1), got {fraction}")
    frac = f"{fraction:.6f}".split(".")[1].rstrip("0") or "0"
    run([binary(), "view", "-b", "-@", str(max(0, threads - 1)), "-s", f"{int(seed)}.{frac}", "-o", str(out_bam),
         str(bam)], what="samtools view -s")
