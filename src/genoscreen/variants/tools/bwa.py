"""bwa: index a reference and align read pairs with `bwa mem`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from genoscreen.variants.tools import require, run


def binary() -> str:
    return require("bwa", "bwa")


def index(fasta: str | Path) -> None:
    """Build the bwa index beside `fasta` (skipped when it exists)."""
    if Path(str(fasta) + ".bwt").exists():
        return
    run([binary(), "index", str(fasta)], what="bwa index")


def mem(fasta: str | Path, fq1: str | Path, fq2: str | Path, read_group: str, threads: int = 1) -> subprocess.Popen:
    """Start `bwa mem` writing SAM to its stdout (pipe it into samtools sort)."""
    return subprocess.Popen([binary(), "mem", "-t", str(threads), "-R", read_group, str(fasta), str(fq1), str(fq2)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
