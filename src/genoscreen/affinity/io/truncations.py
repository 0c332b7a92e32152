"""The truncation table: inputs longer than a model reads, one row per record, next to the results they affect.

A compound whose standardised SMILES is longer than the model's `max_drug_len`, or a protein longer than
`max_target_len`, is kept and scored from its first max_len characters (DeepDTA's rule); this table names each
one so a user can see which predictions rest on a cut input. TSV columns `TRUNCATION_HEADER`: kind (compound or
target), id, length (of the standardised SMILES / the sequence), max_length. Written by `screen` (as
`<out>.truncated.tsv`), `affinity predict` and `affinity train|cv` (next to their errors file), always (header only
when nothing was cut) and atomically with the results, so an earlier run's table never outlives its results.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Iterable

from genoscreen.common.io import atomic_open

log = logging.getLogger(__name__)

TRUNCATION_HEADER = ("kind", "id", "length", "max_length")

Truncation = tuple[str, str, int, int]  # (kind, id, length, max_length)


def truncations(kind: str, ids: list[str], texts: list[str], rows: Iterable[int], max_len: int) -> list[Truncation]:
    """The rows of the table for records `rows` (indexes into `ids`/`texts`) of one kind."""
    return [(kind, ids[i], len(texts[i]), max_len) for i in rows]


def truncation_path(results: str | Path) -> Path:
    """`hits.tsv` -> `hits.tsv.truncated.tsv`: the table next to a results file."""
    return Path(f"{results}.truncated.tsv")


def write_truncations(path: str | Path, rows: list[Truncation], final: str | Path | None = None) -> Path:
    """Write the table (header only when `rows` is empty), atomically; log how many records were cut, naming the
    table as `final` (its name once in place, when `path` is a temporary)."""
    with atomic_open(path, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(TRUNCATION_HEADER)
        writer.writerows(rows)
    for kind in sorted({r[0] for r in rows}):
        n = sum(r[0] == kind for r in rows)
        log.warning("%d %s(s) longer than the model reads were cut to its maximum length and scored; listed in %s",
                    n, kind, final or path)
    return Path(path)
