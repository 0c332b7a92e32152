"""bcftools: the classical `mpileup | call` caller, used as the speed and accuracy floor in benchmarks."""

from __future__ import annotations

import subprocess
from pathlib import Path

from genoscreen.variants.tools import ToolError, require


def binary() -> str:
    return require("bcftools", "bcftools")


def mpileup_call(bam: str | Path, ref: str | Path, out_vcf: str | Path, region: str | None = None,
                 threads: int = 1) -> None:
    """`bcftools mpileup -f ref [-r region] bam | bcftools call -mv -Oz -o out_vcf`."""
    exe = binary()
    cmd1 = [exe, "mpileup", "-f", str(ref), "-a", "AD,DP", "--threads", str(threads)]
    if region:
        cmd1 += ["-r", region]
    cmd1.append(str(bam))
    p1 = subprocess.Popen(cmd1, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p2 = subprocess.run([exe, "call", "-mv", "--threads", str(threads), "-Oz", "-o", str(out_vcf)], stdin=p1.stdout,
                        stderr=subprocess.PIPE)
    p1.stdout.close()
    p1.wait()
    if p1.returncode or p2.returncode:
        raise ToolError(f"bcftools mpileup|call failed: {p2.stderr.decode(errors='replace').strip()[-300:]}")
