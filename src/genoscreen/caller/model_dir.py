"""The caller's model directory: the one module that reads and writes its files (no Flax import: `call` starts fast).

  model.json          format tag, ModelConfig, training metadata and metrics, the export and calibration entries
  pileup_config.json  the PileupConfig the model was trained on; examples of another shape are refused
  weights.safetensors the parameters as named leaves (genoscreen.common.checkpoint; never pickle)
  inference.jaxexport the forward pass exported with jax.export (model.export_forward, predictor.load_predictor)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from genoscreen.caller.configs import ModelConfig
from genoscreen.common import checkpoint
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open
from genoscreen.variants.pileup_config import CONFIG_FILENAME, PileupConfig

MODEL_FORMAT = "genoscreen-caller/2"  # /2: weights in the checkpoint layout (/1 was a flax msgpack)
MODEL_JSON = "model.json"
WEIGHTS = "weights.safetensors"
WEIGHTS_KIND = "caller-weights/1"
EXPORT = "inference.jaxexport"
BATCH = 64  # the one inference batch shape: exported concretely (a symbolic batch costs a shape-refinement pass)


def read_model_info(model_dir: str | Path) -> tuple[dict, ModelConfig, PileupConfig]:
    """model.json, its ModelConfig and the PileupConfig of MODEL_DIR, or an InputError naming what is wrong."""
    model_dir = Path(model_dir)
    path = model_dir / MODEL_JSON
    if not path.exists():
        raise InputError(f"{model_dir}: no {MODEL_JSON}; not a caller model directory (train one with `genoscreen train-caller`)")
    try:
        info = json.loads(path.read_text())
        if info.get("format") != MODEL_FORMAT:
            raise ValueError(f"format {info.get('format')!r}, expected {MODEL_FORMAT!r}")
        config = ModelConfig.from_dict(info["model"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError(f"{path}: not a valid caller model description ({err}); re-save or retrain the model") from None
    try:
        pileup = PileupConfig.read(model_dir)
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{model_dir}: unreadable pileup_config.json ({err}); re-save or retrain the model") from None
    return info, config, pileup


def write_weights(model_dir: str | Path, params: dict) -> Path:
    """MODEL_DIR/weights.safetensors from a pure dict of parameters."""
    return checkpoint.save(Path(model_dir) / WEIGHTS, params, WEIGHTS_KIND)


def read_weights(model_dir: str | Path) -> dict[str, np.ndarray]:
    """The parameters of MODEL_DIR by name ("stages/0/down/kernel"), checksum-verified."""
    return checkpoint.load(weights_path(model_dir), WEIGHTS_KIND, "weights")[0]


def weights_path(model_dir: str | Path) -> Path:
    """MODEL_DIR/weights.safetensors, or an InputError when it is missing (a half-copied model directory)."""
    path = Path(model_dir) / WEIGHTS
    if not path.exists():
        raise InputError(f"{model_dir}: no {WEIGHTS}; the model directory is incomplete, copy or retrain it")
    return path


def weights_digest(model_dir: str | Path) -> str:
    """SHA-256 of the weights file: what the export and the calibration entries are checked against."""
    return hashlib.sha256(weights_path(model_dir).read_bytes()).hexdigest()


def model_files(model_dir: str | Path) -> list[Path]:
    """The files a caller model is read from (for `check_outputs`: no output may replace them)."""
    return [Path(model_dir) / name for name in (MODEL_JSON, WEIGHTS, EXPORT, CONFIG_FILENAME)]


def set_model_info(model_dir: str | Path, key: str, entry: dict | None) -> Path:
    """Set (None: remove) one top-level entry of MODEL_DIR/model.json atomically, keeping every other key."""
    path = Path(model_dir) / MODEL_JSON
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the model description ({err}); copy or retrain the model") from None
    if entry is None:
        info.pop(key, None)
    else:
        info[key] = entry
    with atomic_open(path) as handle:
        handle.write(json.dumps(info, indent=2) + "\n")
    return path
