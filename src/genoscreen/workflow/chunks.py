"""Split a compound library into N chunks for parallel screening, keeping its format (no SMILES parsing here).

Records are split as text: `.smi` lines, `.tsv`/`.csv` rows under a repeated header, `.sdf` blocks ending `$$$$`.
Validation stays with `genoscreen screen`, which reports invalid compounds per chunk; chunks are contiguous, and
the index (`--index`) gives each chunk's row offset, with which `merge-hits --index` reports library rows.
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


def _records(path: str | Path, fmt: str) -> tuple[list[str], list[str], list[int]]:
    """(header lines, records, row offsets): each record is the text of one compound, and `row offsets[j]` is
    what turns a row number that `genoscreen screen` reports for a chunk starting at record j into the library's.

    Rows are as the compound reader counts them: .smi file lines (blank and `#` lines are kept with the record that
    follows them, so a chunk's lines are the library's lines), .tsv/.csv non-blank lines, .sdf records.
    """
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
        return [], blocks, list(range(len(blocks)))
    if fmt in (".tsv", ".csv"):
        lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines() if line.strip()]
        if not lines:
            raise InputError(f"{path}: empty compound table; it needs a header with a smiles column")
        return lines[:1], lines[1:], list(range(len(lines) - 1))
    records, offsets, pending, start = [], [], [], 1
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        pending.append(line + "\n")
        if line.strip() and not line.lstrip().startswith("#"):
            records.append("".join(pending))
            offsets.append(start - 1)
            pending = []
    return [], records, offsets


def split_library(path: str | Path, outputs: list[str | Path], index_out: str | Path | None = None) -> list[int]:
    """Write the library's records into len(outputs) contiguous chunks of near-equal size; return the chunk sizes.

    `index_out` (JSON) records each chunk's first record, size and `row_offset`: a row number that `genoscreen
    screen` reports for the chunk, plus its row_offset, is the row in the library (see `merge_hits`).
    """
    fmt = library_format(path)
    header, records, offsets = _records(path, fmt)
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
        row_offset = [offsets[b] if b < len(records) else 0 for b in bounds[:-1]]
        with atomic_open(index_out) as handle:
            json.dump({"library": str(path), "records": len(records), "first_record": bounds[:-1], "sizes": sizes,
                       "row_offset": row_offset}, handle, indent=1)
    return sizes
