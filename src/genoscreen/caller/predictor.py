"""Inference from a model directory: `load_predictor(MODEL_DIR)(tensors) -> genotype probabilities`.

The fast path needs no Flax: `inference.jaxexport` (model.export_forward) is the StableHLO of softmax(model(x))
for a batch of BATCH pileups with the parameters as arguments; it is loaded with jax.export and fed the weights by
name, so `genoscreen call` skips importing Flax, rebuilding the module and tracing it (seconds on a busy 2-core
machine, more than the calling itself on a small region). When the export is absent, was made for other weights,
or was lowered for another platform, inference goes through the Flax model (`model.load_model`, imported only
then); both give the same numbers.

When model.json has a "calibration" entry (calibration.py), the Predictor applies it to the probabilities after
the forward pass, in numpy; without one, its output is the forward pass's.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from genoscreen.caller import calibration
from genoscreen.common import compile_cache
from genoscreen.caller.model_dir import BATCH, EXPORT, MODEL_JSON, WEIGHTS, read_model_info, read_weights, weights_digest
from genoscreen.common.errors import InputError
from genoscreen.variants.pileup_config import PileupConfig

log = logging.getLogger(__name__)

# jax.default_backend() names an NVIDIA or AMD GPU "gpu"; jax.export names the platforms it lowered for "cuda"/"rocm"
_EXPORT_PLATFORMS = {"gpu": ("cuda", "rocm")}


class Predictor:
    """`predictor(tensors uint8 [b,H,W,C]) -> probs [b,3]` for one model directory, plus its pileup config.

    `calibration` (a calibration.Calibration, or None) maps the forward pass's probabilities to calibrated ones.
    """

    def __init__(self, apply: Callable, pileup: PileupConfig, info: dict, how: str, calibration=None,
                 model_dir: str | Path | None = None):
        self.apply, self.pileup, self.info, self.how = apply, pileup, info, how
        self.calibration, self.model_dir = calibration, model_dir

    def provenance(self) -> dict:
        """What a VCF header and a PROBS file record of the model: its folder and calibration."""
        meta = {"model": str(self.model_dir)}
        if self.calibration is not None:
            meta["calibration"] = self.calibration.describe()
        return meta

    def __call__(self, tensors) -> np.ndarray:
        probs = np.asarray(self.apply(tensors))
        return probs if self.calibration is None else self.calibration.apply(probs)


def export_usable_here(platforms) -> bool:
    """Whether an export lowered for `platforms` runs on this JAX backend."""
    import jax

    backend = jax.default_backend()
    return any(p in platforms for p in (backend, *_EXPORT_PLATFORMS.get(backend, ())))


def load_predictor(model_dir: str | Path, calibrated: bool = True) -> Predictor:
    """The exported forward pass when usable here, else the Flax model; refuses broken model directories.

    With `calibrated` (the default) the model.json "calibration" entry, when there is one, is applied to the
    probabilities; `calibrated=False` gives the network's raw probabilities (to fit a calibration on).
    """
    import jax

    compile_cache.enable_from_env()
    model_dir = Path(model_dir)
    info, _, pileup = read_model_info(model_dir)
    digest = weights_digest(model_dir)  # read and hashed once: the export and the calibration are checked against it
    calib = calibration.from_model_info(info, model_dir, digest) if calibrated else None
    export_path = model_dir / EXPORT
    export_info = info.get("export")
    if export_info is not None and not isinstance(export_info, dict):
        raise InputError(f"{model_dir / MODEL_JSON}: 'export' must be an object, not {export_info!r}; the model "
                         "directory is corrupt, copy or retrain it")
    if export_path.exists() and (export_info or {}).get("weights_sha256"):
        try:
            exported = jax.export.deserialize(bytearray(export_path.read_bytes()))
            usable = export_usable_here(exported.platforms)
        except Exception as err:  # a newer/older serialisation, a truncated file: use the Flax path
            log.warning("%s: cannot use the exported model (%s); using the Flax model", export_path, err)
            usable = False
        if usable and export_info["weights_sha256"] == digest:
            leaves = _leaves_in_order(read_weights(model_dir), export_info.get("leaf_paths", []), exported, model_dir)
            if tuple(exported.in_avals[-1].shape) != (BATCH, *pileup.shape):
                raise InputError(
                    f"{model_dir}: pileup_config.json gives pileups of shape {tuple(pileup.shape)} but {EXPORT} was "
                    f"made for {tuple(exported.in_avals[-1].shape[1:])}; the model directory is inconsistent, copy or "
                    "retrain it")
            leaves = jax.device_put(leaves)
            compiled = {}

            def apply(x):  # lower and compile once (persistent cache), then call the executable directly
                if "f" not in compiled:
                    compiled["f"] = jax.jit(exported.call).lower(leaves, x).compile()
                return compiled["f"](leaves, x)

            return Predictor(apply, pileup, info, "export", calib, model_dir)
        if usable:
            log.warning("%s: exported for other weights; using the Flax model", export_path)
    from genoscreen.caller.model import load_model, predict_fn  # Flax, imported only when the export cannot serve

    model, pileup, info = load_model(model_dir)
    return Predictor(predict_fn(model), pileup, info, "flax", calib, model_dir)


def _leaves_in_order(weights: dict[str, np.ndarray], leaf_paths: list[str], exported, model_dir: Path) -> list:
    """The weights as the export's flat argument list (the order of `leaf_paths`), checked by name, shape, dtype."""
    avals = exported.in_avals[:-1]
    bad = sorted(weights) != sorted(leaf_paths) or len(avals) != len(leaf_paths) or any(
        tuple(weights[name].shape) != tuple(aval.shape) or weights[name].dtype != aval.dtype
        for name, aval in zip(leaf_paths, avals))
    if bad:
        raise InputError(f"{model_dir / WEIGHTS}: parameters do not match {EXPORT}; the model directory is "
                         "inconsistent, copy or retrain it")
    return [weights[name] for name in leaf_paths]
