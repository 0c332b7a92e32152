"""ART (art-nextgen-simulation-tools): learn an Illumina quality profile and simulate paired reads."""

from __future__ import annotations

from pathlib import Path

from genoscreen.variants.tools import ToolError, require, run

APT = "art-nextgen-simulation-tools"

# ART's built-in quality profiles (`-ss`) and the longest read each covers
SYSTEMS = {"HS10": 100, "HS20": 100, "HS25": 150, "HSXn": 150, "HSXt": 150, "MSv1": 250, "MSv3": 250, "NS50": 75,
           "MinS": 50, "GA2": 75}
DEFAULT_SYSTEM = "HS25"


def illumina() -> str:
    return require("art_illumina", APT)


def profiler() -> str:
    return require("art_profiler_illumina", APT)


def learn_profile(fastq_dir: str | Path, name: str | Path, threads: int = 1) -> tuple[Path, Path]:
    """Run art_profiler_illumina on `fastq_dir/*_1.fq` + `*_2.fq`; returns the R1 and R2 profile files."""
    exe = profiler()
    name = Path(name).resolve()
    run([exe, name.name, str(Path(fastq_dir).resolve()), "fq", str(threads)], cwd=name.parent,
        what="art_profiler_illumina")
    r1, r2 = name.parent / f"{name.name}R1.txt", name.parent / f"{name.name}R2.txt"
    if not (r1.exists() and r2.exists()):
        raise ToolError(f"art_profiler_illumina wrote no {r1.name}/{r2.name} in {name.parent}; were the FASTQs empty?")
    return r1, r2


def simulate_pairs(fasta: str | Path, out_prefix: str | Path, *, coverage: float, read_length: int = 150,
                   fragment_mean: int = 400, fragment_sd: int = 50, seed: int = 0,
                   profile: tuple[Path, Path] | None = None, system: str | None = None) -> tuple[Path, Path]:
    """Simulate 2 x `read_length` reads at `coverage`x of each sequence in `fasta` with a learned `profile` (R1, R2
    files) or a built-in `system` (default HS25); returns the two FASTQs."""
    cmd = [illumina(), "-i", str(fasta), "-p", "-l", str(read_length), "-f", str(coverage), "-m", str(fragment_mean),
           "-s", str(fragment_sd), "-rs", str(seed), "-na", "-q", "-o", str(out_prefix)]
    if profile is not None:
        cmd += ["-1", str(profile[0]), "-2", str(profile[1])]
    else:
        cmd += ["-ss", system or DEFAULT_SYSTEM]
    run(cmd, what="art_illumina")
    return Path(f"{out_prefix}1.fq"), Path(f"{out_prefix}2.fq")
