"""Split a compound library into N chunks for parallel screening, keeping its format (no SMILES parsing here).

Records are split as text: `.smi` lines, `.tsv`/`.csv` rows under a repeated header, `.sdf` blocks ending `$$$$`.
Validation stays with `genoscreen screen`, which reports invalid compounds per chunk; chunks are contiguous so row
numbers can be mapped back (each chunk's first row is in `chunks.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, open_text, strip_compression_suffix

FORMATS = (".smi", ".tsv", ".csv", ".sdf")


def library_format(path: str | Path) -> str:
    """'lib.smi.gz' -> '.smi'; an unknown suffix is an InputError naming the allowed ones."""
    name = strip_compression_suffix(path)
    for suffix in FORMATS:
        if name.endswith(suffix):
            return suffix
    raise InputError(f"{path}: unknown compound file type; use one of {', '.join(FORMATS)} (optionally .gz)")


def _records(path: str | Path, fmt: str) -> tuple[list[str], list[str]]:
    """(header lines, records) of a library, each record the text of one compound."""
    with open_text(path) as handle:
        text = handle.read()
    if fmt == ".sdf":
        blocks, current = [], []
        for line in text.splitlines(keepends=True):
            current.append(line)
            if line.strip() == "$$$$":
                blocks.append("".join(current))
                current = []
        if "".join(current).strip():
            blocks.append("".join(current) + "\n$$$$\n")
        return [], blocks
    lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines() if line.strip()]
    if fmt in (".tsv", ".csv"):
        if not lines:
            raise InputError(f"{path}: empty compound table; it needs a header with a smiles column")
        return lines[:1], lines[1:]
    return [], [line for line in lines if not line.lstrip().startswith("#")]


def split_library(path: str | Path, outputs: list[str | Path], index_out: str | Path | None = None) -> list[int]:
    """Write the library's records into len(outputs) contiguous chunks of near-equal size; return the chunk sizes."""
    fmt = library_format(path)
    header, records = _records(path, fmt)
    if not records:
        raise InputError(f"{path}: no compounds")
    n = len(outputs)
    bounds = [round(i * len(records) / n) for i in range(n + 1)]
    for i, out in enumerate(outputs):
        if library_format(out) != fmt:
            raise InputError(f"{out}: chunk must keep the library's format {fmt}")
        with atomic_open(out) as handle:
            handle.writelines(header + records[bounds[i] : bounds[i + 1]])
    sizes = [bounds[i + 1] - bounds[i] for i in range(n)]
    if index_out is not None:
        with atomic_open(index_out) as handle:
            json.dump({"library": str(path), "records": len(records), "first_record": bounds[:-1], "sizes": sizes}, handle, indent=1)
    return sizes
