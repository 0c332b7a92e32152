"""Shift tables, `genoscreen screen --mutants`' second output: each compound's predicted change of affinity from a
target's wild type to each of its mutants.

Columns `SHIFT_COLUMNS`: compound_id, target_id (the wild type), mutant_id, wt_prediction, mutant_prediction,
delta (mutant − wild type, in the model's label units: ΔpKd for the Davis and BindingDB models; negative = the
mutation loses affinity), rank (1 = the largest |delta| of the mutant). Sorted by mutant_id, then rank.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.common.io import atomic_open

SHIFT_COLUMNS = ("compound_id", "target_id", "mutant_id", "wt_prediction", "mutant_prediction", "delta", "rank")


def shift_table(compound_ids: list[str], pairs: list[tuple[str, str]], wt_scores: np.ndarray,
                mutant_scores: np.ndarray) -> pd.DataFrame:
    """The table of (wild type, mutant) `pairs`, column k of `wt_scores` / `mutant_scores` [n_compounds, n_pairs]
    scoring pair k."""
    frames = []
    for k, (wild, mutant) in enumerate(pairs):
        delta = mutant_scores[:, k] - wt_scores[:, k]
        order = np.argsort(-np.abs(delta), kind="stable")
        frames.append(pd.DataFrame({
            "compound_id": np.asarray(compound_ids, dtype=object)[order], "target_id": wild, "mutant_id": mutant,
            "wt_prediction": wt_scores[order, k], "mutant_prediction": mutant_scores[order, k],
            "delta": delta[order], "rank": np.arange(1, len(order) + 1)}))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(SHIFT_COLUMNS))
    return table.sort_values(["mutant_id", "rank"], kind="stable")[list(SHIFT_COLUMNS)]


def write_shifts(path: str | Path, table: pd.DataFrame) -> Path:
    with atomic_open(path) as handle:
        table.to_csv(handle, sep="\t", index=False, float_format="%.6f")
    return Path(path)


def read_shifts(path: str | Path) -> pd.DataFrame:
    """A shift table with text ids (as `read_hits`: "NA" stays a name); InputError if it lacks a column."""
    from genoscreen.common.errors import InputError

    try:
        table = pd.read_csv(path, sep="\t", dtype={"compound_id": str, "target_id": str, "mutant_id": str},
                            keep_default_na=False)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the shift table ({err})") from None
    missing = set(SHIFT_COLUMNS) - set(table.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {sorted(missing)}; expected `genoscreen screen --mutants` output")
    return table
