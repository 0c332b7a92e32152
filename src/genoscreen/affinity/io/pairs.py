"""Pairs tables (drug_id, target_id, optional label and fold) and `affinity predict`'s predictions table.

A pairs table is what `affinity train|cv|predict|evaluate` read; the predictions table (drug_id, target_id,
prediction; NA where the drug's SMILES is invalid) is what `affinity predict` writes and `affinity evaluate` reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, strip_compression_suffix

LABEL_COLUMNS = ("label", "affinity", "pkd", "kiba_score", "y")
PREDICTION_COLUMNS = ("drug_id", "target_id", "prediction")


def read_pairs(path: str | Path) -> pd.DataFrame:
    """Read a pairs TSV: columns `drug_id`, `target_id`, an optional label, an optional integer `fold`.

    The label is the column named `label`, `affinity`, `pkd`, `kiba_score` or `y`, else the single other column when
    at least half its values are numbers.
    Returns a DataFrame with `drug_id`, `target_id` (str) and, when present, `label` (float) and `fold` (int);
    `df.attrs["label_name"]` keeps the label column's original name.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: pairs file not found; check the path")
    sep = "," if strip_compression_suffix(path).endswith(".csv") else "\t"
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except Exception as err:
        raise InputError(f"{path}: cannot read as a table ({err}); give a TSV with drug_id and target_id") from err
    missing = [c for c in ("drug_id", "target_id") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; the header needs drug_id and target_id")
    if frame.empty:
        raise InputError(f"{path}: no pairs; add rows")
    out = pd.DataFrame({"drug_id": frame["drug_id"].str.strip(), "target_id": frame["target_id"].str.strip()})
    others = [c for c in frame.columns if c not in ("drug_id", "target_id", "fold")]
    label_col = next((c for c in others if c.lower() in LABEL_COLUMNS), None)
    if label_col is None and len(others) == 1:
        # an unnamed extra column is the label when it is mostly numbers (a typo in a row is then reported);
        # a text column (e.g. notes in a predict/screen pairs file) is not
        numeric = pd.to_numeric(frame[others[0]], errors="coerce").notna().mean()
        label_col = others[0] if numeric >= 0.5 else None
    if label_col is not None:
        values = pd.to_numeric(frame[label_col], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            raise InputError(
                f"{path}: row {bad[0] + 2}: label '{frame[label_col].iloc[bad[0]]}' in column {label_col} is not a "
                "number; fix or remove the row"
            )
        out["label"] = values.to_numpy(dtype=np.float64)
    if "fold" in frame.columns:
        folds = pd.to_numeric(frame["fold"], errors="coerce")
        bad = np.flatnonzero(folds.isna().to_numpy() | (folds % 1 != 0).to_numpy())
        if len(bad):
            raise InputError(f"{path}: row {bad[0] + 2}: fold '{frame['fold'].iloc[bad[0]]}' is not an integer")
        out["fold"] = folds.to_numpy().astype(np.int64)
    out.attrs["label_name"] = label_col
    return out


def check_pair_ids(pairs: pd.DataFrame, drug_ids, target_ids, pairs_path, drugs_path, targets_path,
                   invalid_drugs: set[str] | frozenset = frozenset()) -> None:
    """InputError if a pair names a drug or target absent from the inputs (invalid-SMILES drugs are not 'absent')."""
    known_drugs = set(drug_ids) | set(invalid_drugs)
    for column, known, source in (("drug_id", known_drugs, drugs_path), ("target_id", set(target_ids), targets_path)):
        values = pairs[column].to_numpy()
        missing = ~np.isin(values, list(known))
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            n_missing = len(set(values[missing]))
            raise InputError(
                f"{pairs_path}: row {first + 2}: {column} '{values[first]}' not found in {source}"
                f" ({n_missing} unknown {column} value(s) in total); add it there or remove the pair"
            )


def write_predictions(path: str | Path, pairs: pd.DataFrame, predictions: np.ndarray) -> None:
    """Write one row per pair (drug_id, target_id, prediction) in input order; NaN predictions are written NA."""
    frame = pairs[["drug_id", "target_id"]].copy()
    frame["prediction"] = predictions
    with atomic_open(path) as handle:
        frame.to_csv(handle, sep="\t", index=False, float_format="%.5f", na_rep="NA")


def read_predictions(path: str | Path) -> pd.DataFrame:
    """Read a predictions table; `prediction` is float with NaN for NA (a pair `affinity predict` could not score)."""
    try:
        preds = pd.read_csv(path, sep="\t", dtype={"drug_id": str, "target_id": str})
    except (OSError, UnicodeDecodeError, ValueError) as err:  # pandas' parser errors are ValueErrors
        raise InputError(f"{path}: cannot read ({err}); give the TSV from `affinity predict`") from err
    missing = [c for c in PREDICTION_COLUMNS if c not in preds]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; give `affinity predict` output")
    values = pd.to_numeric(preds["prediction"], errors="coerce")
    not_number = values.isna() & preds["prediction"].notna()
    if not_number.any():
        i = int(not_number.to_numpy().nonzero()[0][0])
        raise InputError(f"{path}: row {i + 2}: prediction '{preds['prediction'].iloc[i]}' is not a number; "
                         "fix the row or write it as NA")
    preds["prediction"] = values
    return preds
