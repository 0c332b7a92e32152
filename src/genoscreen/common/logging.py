"""One logging setup for every command, and progress that respects it.

On a terminal, `progress` is a tqdm bar on stderr. Anywhere else (a Snakemake or SLURM log, a pipe) it is a log
line every `GENOSCREEN_PROGRESS_SECONDS` (default 30) seconds with done/total, rate and ETA, plus one at the end,
so a cluster log shows how far a long job is. GENOSCREEN_PROGRESS=1 forces the bar, =0 silences both.
"""

from __future__ import annotations

import logging
import os
import sys
import time

log = logging.getLogger("genoscreen.progress")
_IMPORTED = time.monotonic()


def process_seconds() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere: since genoscreen's logging was imported)."""
    try:
        with open("/proc/self/stat") as handle:
            started_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return max(0.0, uptime - started_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


def setup_logging(verbosity: int = 0) -> None:
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    # JAX logs its search for a TPU at INFO on every start; not news to our users.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", **kwargs):
    """A progress bar on a terminal, periodic log lines elsewhere (see the module docstring); tqdm's interface
    (iterate, `update(n)`, `close()`, a context manager)."""
    mode = os.environ.get("GENOSCREEN_PROGRESS")
    if mode == "1" or (mode is None and sys.stderr.isatty()):
        from tqdm.auto import tqdm  # imported here: tqdm.auto costs a few hundred ms of start-up

        return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True, **kwargs)
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    every = float(os.environ.get("GENOSCREEN_PROGRESS_SECONDS", "30"))
    return LogProgress(iterable, total=total, desc=desc, unit=unit, every=every, quiet=mode == "0")  # (tqdm-only
    # display options in kwargs, e.g. unit_scale, do not apply to log lines)


class LogProgress:
    """Progress as log lines: at most one per `every` seconds, and one when done (if any was written or the
    work took longer than `every`)."""

    def __init__(self, iterable=None, *, total=None, desc: str = "", unit: str = "it", every: float = 30.0,
                 quiet: bool = False, clock=time.monotonic):
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc or "progress", unit.strip() or "it"
        self.every, self.quiet, self.clock = every, quiet, clock
        self.n, self.start, self.last, self.lines, self.closed = 0, clock(), clock(), 0, False

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self._log(now)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        now = self.clock()
        if self.lines or now - self.start >= self.every:
            self._log(now, done=True)

    def line(self, now: float, done: bool = False) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.n / elapsed
        text = f"{self.desc}: {self.n:,}" + (f"/{self.total:,} ({100 * self.n / self.total:.0f}%)" if self.total else "")
        text += f" {self.unit}, {rate:,.1f} {self.unit}/s, {_clock(elapsed)} elapsed"
        if not done and self.total and rate > 0:
            text += f", ETA {_clock(max(self.total - self.n, 0) / rate)}"
        return text + (" (done)" if done else "")

    def _log(self, now: float, done: bool = False) -> None:
        self.lines += 1
        if not self.quiet:
            log.info(self.line(now, done))


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
