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


def stats(vcf: str | Path) -> dict:
    """`bcftools stats -f PASS,.` of a VCF, the sections a QC report shows: {"snps", "indels", "ts", "tv", "tstv",
    "indel_lengths": {length: count} (deletions negative)}."""
    proc = subprocess.run([binary(), "stats", "-f", "PASS,.", str(vcf)], capture_output=True, text=True)
    if proc.returncode:
        raise ToolError(f"bcftools stats {vcf} failed: {proc.stderr.strip()[-300:]}")
    out = {"snps": 0, "indels": 0, "ts": 0, "tv": 0, "tstv": float("nan"), "indel_lengths": {}}
    for line in proc.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "SN" and len(fields) >= 4:
            if fields[2] == "number of SNPs:":
                out["snps"] = int(fields[3])
            elif fields[2] == "number of indels:":
                out["indels"] = int(fields[3])
        elif fields[0] == "TSTV" and len(fields) >= 5:
            out["ts"], out["tv"], out["tstv"] = int(fields[2]), int(fields[3]), float(fields[4])
        elif fields[0] == "IDD" and len(fields) >= 4:
            out["indel_lengths"][int(fields[2])] = int(fields[3])
    return out
