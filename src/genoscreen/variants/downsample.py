"""Downsampling a BAM to a target depth with `samtools view -s` (read pairs kept together), as DeepVariant's
training data does: the same reads enter training at a spread of depths, and titration benchmarks use the same
step on real reads.

The depth to scale from is measured with `samtools coverage` (mean depth of reads that pass its default filters:
not unmapped, secondary, QC-fail or duplicate) over the given regions, weighted by their lengths.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Sequence

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path, check_outputs
from genoscreen.variants.regions import Region
from genoscreen.variants.tools import samtools

log = logging.getLogger(__name__)


def mean_depth(bam: str | Path, regions: Sequence[Region]) -> float:
    """Length-weighted mean read depth of `bam` over `regions` (samtools coverage)."""
    total = length = 0.0
    for r in regions:
        cov = samtools.coverage(bam, f"{r.contig}:{r.start + 1}-{r.end}")
        total += cov["meandepth"] * len(r)
        length += len(r)
    if length == 0:
        raise InputError(f"{bam}: no region to measure the depth over")
    return total / length


def downsample(bam: str | Path, out: str | Path, *, fraction: float | None = None, depth: float | None = None,
               regions: Sequence[Region] = (), seed: int = 0, threads: int = 1) -> dict:
    """Write `out` (+ .bai) holding a `fraction` of the read pairs of `bam`, or as many as bring the mean depth
    over `regions` to `depth`. Returns {"input_depth", "fraction", "expected_depth"} (depths None when not measured).
    A target at or above the measured depth copies the reads unchanged (fraction 1)."""
    bam, out = Path(bam), Path(out)
    check_outputs({"--out": out, "--out's index": f"{out}.bai"}, {"--bam": bam})
    if (fraction is None) == (depth is None):
        raise InputError("give exactly one of a fraction or a target depth")
    input_depth = None
    if depth is not None:
        if depth <= 0:
            raise InputError(f"target depth {depth}: must be > 0")
        if not regions:
            raise InputError("a target depth needs the regions to measure the input depth over (--regions)")
        input_depth = mean_depth(bam, regions)
        if input_depth <= 0:
            raise InputError(f"{bam}: no reads in {', '.join(map(str, regions))}; nothing to downsample")
        fraction = min(1.0, depth / input_depth)
    elif not 0 < fraction <= 1:
        raise InputError(f"fraction {fraction}: must be in (0, 1]")
    with atomic_path(out) as tmp:
        if fraction >= 1:
            shutil.copyfile(bam, tmp)
        else:
            samtools.subsample(bam, tmp, fraction, seed, threads)
        samtools.index(tmp)
        os.replace(f"{tmp}.bai", f"{out}.bai")
    log.info("%s: %.4f of the read pairs of %s%s", out, fraction, bam,
             f" (mean depth {input_depth:.1f} -> ~{input_depth * fraction:.1f})" if input_depth else "")
    return {"bam": str(out), "input": str(bam), "fraction": fraction, "seed": seed, "input_depth": input_depth,
            "expected_depth": None if input_depth is None else input_depth * fraction}
