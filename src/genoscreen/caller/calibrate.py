"""`calibrate-caller`: fit a calibration (calibration.py) of a model's raw probabilities on labelled examples
folders and store it in the model directory's model.json."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from genoscreen.caller.calibration import FLOOR, KEY, METHODS, fit, nll, report
from genoscreen.caller.call_variants import predict
from genoscreen.caller.data import load_labelled
from genoscreen.caller.model_dir import set_model_info, weights_digest
from genoscreen.caller.predictor import load_predictor
from genoscreen.common.errors import InputError
from genoscreen.variants.pileup_config import PileupConfig

log = logging.getLogger(__name__)


def labelled_probs(predictor, folders: Sequence[str | Path]) -> tuple[np.ndarray, np.ndarray]:
    """(probs [n, 3], labels [n]) of `predictor` over every labelled example of the folders (one folder in
    memory at a time)."""
    for folder in folders:  # every folder readable and of the model's shape before any work
        predictor.pileup.check_compatible(PileupConfig.read(folder), f"{folder}")
    probs, labels = [], []
    for folder in folders:
        tensors, folder_labels = load_labelled([folder], predictor.pileup)
        probs.append(predict(predictor, tensors))
        labels.append(folder_labels)
    return np.concatenate(probs), np.concatenate(labels)


def calibrate_model(model_dir: str | Path, folders: Sequence[str | Path], method: str = "temperature") -> dict:
    """Fit a calibration of MODEL_DIR's raw probabilities on labelled examples folders and store it in model.json
    (replacing any earlier one). Returns {"entry", "before", "after"}: the entry and the in-sample reports."""
    if method not in METHODS:
        raise InputError(f"--method {method}: expected one of {', '.join(METHODS)}")
    predictor = load_predictor(model_dir, calibrated=False)
    probs, labels = labelled_probs(predictor, folders)
    counts = np.bincount(labels, minlength=3)
    log.info("fitting a %s calibration on %d labelled examples (hom-ref %d, het %d, hom-alt %d)",
             method, len(labels), *counts)
    if len(labels) < 200:
        log.warning("only %d labelled examples: the calibration will be noisy; give more --examples folders",
                    len(labels))
    calibration = fit(probs, labels, method)
    calibrated = calibration.apply(probs)
    entry = {
        "method": calibration.method,
        "temperature": round(calibration.temperature, 6),
        "bias": [round(b, 6) for b in calibration.bias],
        **({"mix": float(f"{calibration.mix:.6g}")} if calibration.method == "temperature+mix" else {}),
        "floor": FLOOR,
        "fitted_on": [str(f) for f in folders],
        "n_examples": int(len(labels)),
        "class_counts": counts.tolist(),
        "nll_before": round(nll(probs, labels), 6),
        "nll_after": round(nll(calibrated, labels), 6),
        "weights_sha256": weights_digest(model_dir),
    }
    set_model_info(model_dir, KEY, entry)
    return {"entry": entry, "before": report(probs, labels), "after": report(calibrated, labels)}
