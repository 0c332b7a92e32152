"""The CPUs a command may use: `--threads N` pins the process (and the threads and processes it starts: XLA's
thread pool, make-examples workers, samtools) to N of the CPUs it was given, as Snakemake's `threads:` and SLURM's
--cpus-per-task expect. XLA's CPU client ignores its intra-op thread flags in the JAX this project pins, so the
affinity mask is what bounds it. Linux only; elsewhere a no-op."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def limit_cpus(threads: int | None) -> set[int] | None:
    """Pin this process to `threads` of its allowed CPUs; returns the CPUs kept, or None when nothing changed."""
    if not threads or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return None
    kept = set(allowed[:threads])
    os.sched_setaffinity(0, kept)
    log.debug("--threads %d: using CPUs %s of %s", threads, sorted(kept), allowed)
    return kept
