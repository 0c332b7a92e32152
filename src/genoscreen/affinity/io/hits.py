"""Hits tables, `genoscreen screen`'s output: the writer (TSV or Parquet) and the one reader (merge-hits, report).

Columns: `compound_id`, `target_id`, `prediction`, `rank` (1 = strongest within the target). `HitWriter` writes in
blocks as rows come and renames the file into place only when complete; the caller hands rows target by target,
each target's rows in rank order, so the file is sorted by target then rank without a final sort. Ids are text:
`read_hits` keeps "NA", "null" or "N/A" as names, never missing values.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path

COLUMNS = ("compound_id", "target_id", "prediction", "rank")
_PARQUET_ROW_GROUP = 1 << 20
_TSV_SLICE = 1 << 16
_NEEDS_QUOTES = re.compile(r'[\t\n\r"]')


def _tsv_field(text: str) -> str:
    """`text` as one TSV field that csv and pandas read back unchanged (quoted, quotes doubled, when needed)."""
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def is_parquet(path: str | Path) -> bool:
    return str(path).lower().endswith(".parquet")


class HitWriter(contextlib.AbstractContextManager):
    """Write result rows to `path` (Parquet if it ends in .parquet, else TSV) via a temporary file.

    Use as a context manager: the file appears under `path` when the block exits normally and is removed on error.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows = 0
        self._stack = contextlib.ExitStack()
        self._parquet = is_parquet(self.path)
        self._buffer: list = []
        self._buffered = 0

    def __enter__(self) -> "HitWriter":
        tmp = self._stack.enter_context(atomic_path(self.path))
        if self._parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema(
                [("compound_id", pa.string()), ("target_id", pa.string()), ("prediction", pa.float32()),
                 ("rank", pa.int64())]
            )
            self._handle = self._stack.enter_context(pq.ParquetWriter(tmp, self._schema))
        else:
            self._handle = self._stack.enter_context(open(tmp, "w", encoding="utf-8", newline="\n"))
            self._handle.write("\t".join(COLUMNS) + "\n")
        return self

    def write(self, compound_ids: np.ndarray, target_id: str, predictions: np.ndarray, ranks: np.ndarray) -> None:
        """Append one target's rows (already in rank order)."""
        n = len(compound_ids)
        if n == 0:
            return
        self.rows += n
        if self._parquet:
            import pyarrow as pa

            self._buffer.append(
                pa.table(
                    [pa.array(np.asarray(compound_ids, dtype=object), pa.string()),
                     pa.array(np.full(n, target_id, dtype=object), pa.string()),
                     pa.array(np.asarray(predictions, dtype=np.float32)),
                     pa.array(np.asarray(ranks, dtype=np.int64))],
                    schema=self._schema,
                )
            )
            self._buffered += n
            if self._buffered >= _PARQUET_ROW_GROUP:
                self._flush()
        else:
            tail = f"\t{_tsv_field(target_id)}\t"
            for s in range(0, n, _TSV_SLICE):  # bounded text buffers for million-row targets
                ids = compound_ids[s : s + _TSV_SLICE]
                if _NEEDS_QUOTES.search("".join(ids)):  # rare: quote as csv/pandas expect; one scan per slice
                    ids = [_tsv_field(c) for c in ids]
                rows = zip(ids, predictions[s : s + _TSV_SLICE].tolist(), ranks[s : s + _TSV_SLICE].tolist())
                self._handle.write("".join(f"{c}{tail}{p:.6f}\t{r}\n" for c, p, r in rows))

    def _flush(self) -> None:
        if self._buffer:
            import pyarrow as pa

            self._handle.write_table(pa.concat_tables(self._buffer), row_group_size=_PARQUET_ROW_GROUP)
            self._buffer, self._buffered = [], 0

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self._parquet:
            try:
                self._flush()
            except BaseException as err:
                self._stack.__exit__(type(err), err, err.__traceback__)
                raise
        return self._stack.__exit__(exc_type, exc, tb)


def read_hits(path: str | Path, columns: tuple[str, ...] = COLUMNS):
    """A hits table (TSV, or Parquet for *.parquet) as a DataFrame with text ids; InputError if it cannot be read
    or lacks one of `columns`."""
    import pandas as pd

    try:
        if is_parquet(path):
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, sep="\t", dtype={"compound_id": str, "target_id": str}, keep_default_na=False)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the hits table ({err})") from None
    missing = set(columns) - set(table.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {sorted(missing)}; expected the output of `genoscreen screen`")
    return table
