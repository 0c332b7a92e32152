"""Atomic output paths and transparent reading of (b)gzipped text files."""

from __future__ import annotations

import contextlib
import gzip
import os
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it to `path` only if the block succeeds.

    The temporary name keeps the final suffix (so format detection by extension still works) and is removed on
    failure, so no partial output is ever left under the final name.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp{os.getpid()}{''.join(final.suffixes) or ''}")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            if tmp.is_dir():
                import shutil

                shutil.rmtree(tmp)
            else:
                tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing and rename it to `path` when the block completes."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as handle:
            yield handle


def is_gzipped(path: str | os.PathLike) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a plain or (b)gzipped text file for reading."""
    if is_gzipped(path):
        return gzip.open(path, "rt")
    return open(path, "rt")


def strip_compression_suffix(path: str | os.PathLike) -> str:
    """'lib.smi.gz' -> 'lib.smi': the name used for format detection."""
    name = Path(path).name.lower()
    for suffix in (".gz", ".bgz", ".gzip"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
