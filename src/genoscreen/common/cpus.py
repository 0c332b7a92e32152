"""The CPUs a command may use: `--threads N` pins the process (and the threads and processes it starts: XLA's
thread pool, make-examples workers, samtools) to N of the CPUs it was given, as Snakemake's `threads:` and SLURM's
--cpus-per-task expect. XLA's CPU client ignores its intra-op thread flags in the JAX this project pins, so the
affinity mask is what bounds it. Linux only; elsewhere a no-op.

Concurrent commands on one machine (Snakemake's local jobs) must not all pin to the same first N CPUs: each CPU
kept is claimed with a non-blocking `flock` on a per-user lock file (in the temporary folder), held while the
command runs and released by the kernel when it ends, however it ends; a command takes the unclaimed CPUs first
and shares claimed ones only when all are taken. Under SLURM the allowed set is the job's own, so the claims of
jobs on other CPUs never meet.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def claim_folder() -> Path:
    return Path(tempfile.gettempdir()) / f"genoscreen-cpus-{os.getuid()}"


def _claim(allowed: list[int], threads: int, stack: contextlib.ExitStack) -> list[int]:
    """Up to `threads` CPUs of `allowed` that no other genoscreen command holds, locked until `stack` closes;
    then, if too few were free, the first others."""
    import fcntl

    kept: list[int] = []
    folder = claim_folder()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:  # no writable temporary folder: no coordination
        return allowed[:threads]
    for cpu in allowed:
        if len(kept) == threads:
            break
        try:
            handle = stack.enter_context(open(folder / f"cpu{cpu}.lock", "a"))
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue
        kept.append(cpu)
    return kept + [cpu for cpu in allowed if cpu not in kept][: threads - len(kept)]


def limit_cpus(threads: int | None, stack: contextlib.ExitStack | None = None) -> set[int] | None:
    """Pin this process to `threads` of its allowed CPUs; returns the CPUs kept, or None when nothing changed.
    With `stack`, the CPUs are claimed (see the module docstring) until the stack closes."""
    if not threads or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return None
    kept = set(_claim(allowed, threads, stack) if stack is not None else allowed[:threads])
    os.sched_setaffinity(0, kept)
    log.debug("--threads %d: using CPUs %s of %s", threads, sorted(kept), allowed)
    return kept
