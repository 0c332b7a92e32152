"""Split a compound library into N chunks for parallel screening, keeping its format (no SMILES parsing here).

The library is read as text records by the compound reader's module (`affinity.io.compounds.read_library_text`):
`.smi` lines, `.tsv`/`.csv` rows under a repeated header, `.sdf` blocks ending `$$$$`, with the rows and ids
`genoscreen screen` reports, so every file `screen` accepts can be split, under the same extensions. Validation
stays with `genoscreen screen`, which reports invalid compounds per chunk; chunks are contiguous, and the index
(`--index`) gives each chunk's row offset, with which `merge-hits --index` reports library rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from genoscreen.affinity.io.compounds import DEFAULT_COLUMNS, Columns, compound_format, read_library_text
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open


def library_format(path: str | Path) -> str:
    """The extension a library's chunks take: its format's canonical one ('lib.smiles.gz' -> '.smi')."""
    return compound_format(path)


def split_library(path: str | Path, outputs: list[str | Path], index_out: str | Path | None = None,
                  columns: Columns = DEFAULT_COLUMNS) -> list[int]:
    """Write the library's records into len(outputs) contiguous chunks of near-equal size; return the chunk sizes.

    Duplicate compound ids are refused here, as `genoscreen screen` refuses them in one file: chunks would each
    accept their copy. `index_out` (JSON) records each chunk's first record, size and `row_offset`: a row number
    that `genoscreen screen` reports for the chunk, plus its row_offset, is the row in the library (see
    `merge_hits`). `columns`: where the library keeps its ids (and SMILES), as `genoscreen screen` is told.
    """
    library = read_library_text(path)
    fmt, records, rows = library.format, library.records, library.rows
    if not records:
        raise InputError(f"{path}: no compounds")
    library.check_unique_ids(path, columns)
    n = len(outputs)
    bounds = [round(i * len(records) / n) for i in range(n + 1)]
    for i, out in enumerate(outputs):
        if compound_format(out) != fmt:
            raise InputError(f"{out}: chunk must keep the library's format {fmt}")
        with atomic_open(out) as handle:
            handle.writelines(library.header + records[bounds[i] : bounds[i + 1]])
    sizes = [bounds[i + 1] - bounds[i] for i in range(n)]
    if index_out is not None:
        # In its chunk, record b sits at row rows[0] (.smi: after its own leading lines): the offset is the difference.
        row_offset = [rows[b] - (records[b].count("\n") if fmt == ".smi" else rows[0]) if b < len(records) else 0
                      for b in bounds[:-1]]
        with atomic_open(index_out) as handle:
            json.dump({"library": str(path), "records": len(records), "first_record": bounds[:-1], "sizes": sizes,
                       "row_offset": row_offset}, handle, indent=1)
    return sizes
