"""Split a compound library into N chunks for parallel screening, keeping its format (no SMILES parsing here).

Records are split as text: `.smi` lines, `.tsv`/`.csv` rows under a repeated header, `.sdf` blocks ending `$$$$`.
Validation stays with `genoscreen screen`, which reports invalid compounds per chunk; chunks are contiguous, and
the index (`--index`) gives each chunk's row offset, with which `merge-hits --index` reports library rows.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from genoscreen.affinity.data import ID_COLUMNS
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, open_text, strip_compression_suffix

FORMATS = (".smi", ".tsv", ".csv", ".sdf")
_SDF_PROP = re.compile(r"^>.*<([^>]+)>")


def library_format(path: str | Path) -> str:
    """'lib.smi.gz' -> '.smi'; an unknown suffix is an InputError naming the allowed ones."""
    name = strip_compression_suffix(path)
    for suffix in FORMATS:
        if name.endswith(suffix):
            return suffix
    raise InputError(f"{path}: unknown compound file type; use one of {', '.join(FORMATS)} (optionally .gz)")


def _records(path: str | Path, fmt: str) -> tuple[list[str], list[str], list[int]]:
    """(header lines, records, rows): each record is the text of one compound and rows[j] its row as the compound
    reader counts rows: .smi file lines (blank and `#` lines are kept with the record that follows them, so a
    chunk's lines are the library's lines), .tsv/.csv non-blank lines (header = 1), .sdf records.
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
        return [], blocks, list(range(1, len(blocks) + 1))
    if fmt in (".tsv", ".csv"):
        lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines() if line.strip()]
        if not lines:
            raise InputError(f"{path}: empty compound table; it needs a header with a smiles column")
        return lines[:1], lines[1:], list(range(2, len(lines) + 1))
    records, rows, pending = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        pending.append(line + "\n")
        if line.strip() and not line.lstrip().startswith("#"):
            records.append("".join(pending))
            rows.append(number)
            pending = []
    return [], records, rows


def _record_ids(fmt: str, header: list[str], records: list[str]) -> list[str | None]:
    """Each record's compound id as the compound reader will take it (None where it will make one up or fail)."""
    if fmt == ".smi":
        return [(fields[1] if len(fields) > 1 else None)
                for fields in (record.rstrip("\n").rsplit("\n", 1)[-1].split() for record in records)]
    if fmt in (".tsv", ".csv"):
        delimiter = "\t" if fmt == ".tsv" else ","
        columns = [c.strip().lower() for c in next(csv.reader(header, delimiter=delimiter))]
        column = next((columns.index(c) for c in ID_COLUMNS if c in columns), None)
        if column is None:
            return [None] * len(records)
        return [(row[column].strip() if len(row) > column else None)
                for row in csv.reader(records, delimiter=delimiter)]
    ids = []
    for record in records:
        lines = record.splitlines()
        props = {m.group(1): lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if (m := _SDF_PROP.match(line))}
        ids.append(next((props[p] for p in ID_COLUMNS if p in props), None) or lines[0].strip() or None)
    return ids


def _check_unique_ids(path, fmt: str, header: list[str], records: list[str], rows: list[int]) -> None:
    """Duplicate compound ids are refused here, as `genoscreen screen` refuses them in one file: chunks would
    each accept their copy."""
    seen: dict[str, int] = {}
    for ident, row in zip(_record_ids(fmt, header, records), rows):
        if ident is None:
            continue
        if ident in seen:
            raise InputError(f"{path}: row {row}: duplicate compound id '{ident}' (first at row {seen[ident]}); "
                             "make ids unique")
        seen[ident] = row


def split_library(path: str | Path, outputs: list[str | Path], index_out: str | Path | None = None) -> list[int]:
    """Write the library's records into len(outputs) contiguous chunks of near-equal size; return the chunk sizes.

    `index_out` (JSON) records each chunk's first record, size and `row_offset`: a row number that `genoscreen
    screen` reports for the chunk, plus its row_offset, is the row in the library (see `merge_hits`).
    """
    fmt = library_format(path)
    header, records, rows = _records(path, fmt)
    if not records:
        raise InputError(f"{path}: no compounds")
    _check_unique_ids(path, fmt, header, records, rows)
    n = len(outputs)
    bounds = [round(i * len(records) / n) for i in range(n + 1)]
    for i, out in enumerate(outputs):
        if library_format(out) != fmt:
            raise InputError(f"{out}: chunk must keep the library's format {fmt}")
        with atomic_open(out) as handle:
            handle.writelines(header + records[bounds[i] : bounds[i + 1]])
    sizes = [bounds[i + 1] - bounds[i] for i in range(n)]
    if index_out is not None:
        # In its chunk, record b sits at row rows[0] (.smi: after its own leading lines): the offset is the difference.
        row_offset = [rows[b] - (records[b].count("\n") if fmt == ".smi" else rows[0]) if b < len(records) else 0
                      for b in bounds[:-1]]
        with atomic_open(index_out) as handle:
            json.dump({"library": str(path), "records": len(records), "first_record": bounds[:-1], "sizes": sizes,
                       "row_offset": row_offset}, handle, indent=1)
    return sizes
