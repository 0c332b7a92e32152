"""One logging setup for every command, and progress bars that respect it."""

from __future__ import annotations

import logging
import sys

from tqdm.auto import tqdm


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
    """A tqdm progress bar on stderr, hidden when stderr is not a terminal unless forced on by GENOSCREEN_PROGRESS=1."""
    import os

    disable = not (sys.stderr.isatty() or os.environ.get("GENOSCREEN_PROGRESS") == "1")
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, dynamic_ncols=True, **kwargs)
