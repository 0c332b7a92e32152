"""`genoscreen affinity predict` as a library function: one prediction per listed drug-target pair."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.affinity.io.compounds import DEFAULT_COLUMNS, Columns

log = logging.getLogger(__name__)


def predict_pairs(model_dir: str | Path, drugs: str | Path, targets: str | Path, pairs: str | Path,
                  out: str | Path | None = None, *, errors: str | Path | None = None,
                  columns: Columns = DEFAULT_COLUMNS) -> pd.DataFrame:
    """Predict the affinity of every pair of `pairs` (drug_id, target_id) with the model `model_dir` (a folder or a
    shipped model's name, e.g. 'dta-davis'); `drugs` is a compound file, `targets` a protein FASTA.

    Returns a DataFrame (drug_id, target_id, prediction) in the pairs' order, NaN where the drug's SMILES is
    invalid; with `out`, also writes it there (TSV). Invalid SMILES are listed in `errors` (default:
    `<out>.invalid_smiles.tsv`; no file without `out`), and drugs and targets longer than the model reads in
    `<out>.truncated.tsv`, both written only together with the predictions.
    """
    from genoscreen.affinity.checkpoint import load_model, model_files
    from genoscreen.affinity.data import load_inputs
    from genoscreen.affinity.inference import predict
    from genoscreen.affinity.io.pairs import write_predictions
    from genoscreen.affinity.io.truncations import truncation_path, write_truncations
    from genoscreen.common.io import atomic_path, check_outputs
    from genoscreen.common.resources import find_model

    model_dir = find_model(model_dir)
    if errors is None and out is not None:
        errors = Path(f"{out}.invalid_smiles.tsv")
    truncated = truncation_path(out) if out is not None else None
    check_outputs({"--out": out, "--errors": errors, "its truncation table": truncated},
                  {"--drugs": drugs, "--targets": targets, "--pairs": pairs, "--model": model_files(model_dir)})
    model, config = load_model(model_dir)
    with atomic_path(errors) if errors is not None else contextlib.nullcontext() as errors_tmp:
        data, table, usable = load_inputs(drugs, targets, pairs, config, errors_tmp, columns=columns)
        prediction = np.full(len(table), np.nan)
        prediction[usable] = predict(model, data)
        if out is not None:
            with atomic_path(truncated) as truncated_tmp:
                write_truncations(truncated_tmp, data.truncated, truncated)
                write_predictions(out, table, prediction)
    if not usable.all():
        log.warning("%d pair(s) have no prediction: their drug's SMILES is invalid%s", int((~usable).sum()),
                    f" (listed in {errors})" if errors is not None else "")
    if out is not None:
        log.info("%d predictions written to %s", int(usable.sum()), out)
    return table[["drug_id", "target_id"]].assign(prediction=prediction)
