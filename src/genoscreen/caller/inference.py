"""Fast inference from a model directory without importing Flax: the model's forward pass exported with jax.export.

`save_model` writes, beside the weights, `inference.jaxexport`: the StableHLO of softmax(model(x)) for a batch
of BATCH pileups with the parameters as an argument, serialised by jax.export. Loading it needs only JAX and the
weights, so `genoscreen call` skips importing Flax, rebuilding the module and tracing it (seconds on a busy
2-core machine, more than the calling itself on a small region). When the export is absent or was lowered for
another platform, inference goes through the Flax model instead (`model.load_model`); both give the same numbers.

When model.json has a "calibration" entry (see calibration.py), the Predictor applies it to the probabilities
after the forward pass, in numpy; without one, its output is the forward pass's.

Also the one reader of the model directory's description and weights (flax.serialization's msgpack format, read
with `msgpack` directly: ndarray leaves are ext type 1 holding (shape, dtype, buffer)).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from genoscreen.caller.configs import ModelConfig
from genoscreen.common.errors import InputError
from genoscreen.variants.pileup_config import CONFIG_FILENAME, PileupConfig

log = logging.getLogger(__name__)

MODEL_FORMAT = "genoscreen-caller/1"
MODEL_JSON = "model.json"
WEIGHTS = "weights.msgpack"
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


def _ext_hook(code: int, data: bytes):
    import msgpack

    if code in (1, 3):  # ndarray, numpy scalar
        shape, dtype, buffer = msgpack.unpackb(data, raw=True)
        array = np.frombuffer(buffer, dtype=np.dtype(dtype.decode() if isinstance(dtype, bytes) else dtype))
        array = array.reshape(shape)
        return array if code == 1 else array[()]
    return msgpack.ExtType(code, data)


def read_weights(model_dir: str | Path) -> dict:
    """The parameter tree (nested dicts of numpy arrays) of MODEL_DIR/weights.msgpack."""
    import msgpack

    path = weights_path(model_dir)
    try:
        tree = msgpack.unpackb(path.read_bytes(), ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except Exception as err:  # msgpack raises several unrelated types on corrupt input
        raise InputError(f"{path}: corrupt weights file ({type(err).__name__}); copy or retrain the model") from None
    if not isinstance(tree, dict):
        raise InputError(f"{path}: corrupt weights file (not a parameter tree); copy or retrain the model")
    return tree


def weights_path(model_dir: str | Path) -> Path:
    """MODEL_DIR/weights.msgpack, or an InputError when it is missing (a half-copied model directory)."""
    path = Path(model_dir) / WEIGHTS
    if not path.exists():
        raise InputError(f"{model_dir}: no {WEIGHTS}; the model directory is incomplete, copy or retrain it")
    return path


def weights_digest(model_dir: str | Path) -> str:
    return hashlib.sha256(weights_path(model_dir).read_bytes()).hexdigest()


def model_files(model_dir: str | Path) -> list[Path]:
    """The files a caller model is read from (for `check_outputs`: no output may replace them)."""
    return [Path(model_dir) / name for name in (MODEL_JSON, WEIGHTS, EXPORT, CONFIG_FILENAME)]


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


def load_predictor(model_dir: str | Path, calibrated: bool = True) -> Predictor:
    """The exported forward pass when usable here, else the Flax model; refuses broken model directories.

    With `calibrated` (the default) the model.json "calibration" entry, when there is one, is applied to the
    probabilities; `calibrated=False` gives the network's raw probabilities (to fit a calibration on).
    """
    import jax

    from genoscreen.caller import calibration

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
            usable = jax.default_backend() in exported.platforms
        except Exception as err:  # a newer/older serialisation, a truncated file: use the Flax path
            log.warning("%s: cannot use the exported model (%s); using the Flax model", export_path, err)
            usable = False
        if usable and info["export"]["weights_sha256"] == digest:
            leaves = _leaves_in_order(read_weights(model_dir), info["export"].get("leaf_paths", []), exported,
                                      model_dir)
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
    from genoscreen.caller.model import load_model, predict_fn

    model, pileup, info = load_model(model_dir)
    return Predictor(predict_fn(model), pileup, info, "flax", calib, model_dir)


def _paths_and_leaves(tree: dict) -> tuple[list[str], list]:
    import jax

    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return ["/".join(str(getattr(k, "key", k)) for k in path) for path, _ in flat], [leaf for _, leaf in flat]


def _leaves_in_order(params: dict, leaf_paths: list[str], exported, model_dir: Path) -> list:
    """The weights as the export's flat argument list, checked by name, shape and dtype."""
    paths, leaves = _paths_and_leaves(params)
    avals = exported.in_avals[: len(leaves)]
    bad = paths != leaf_paths or len(exported.in_avals) != len(leaves) + 1 or any(
        tuple(leaf.shape) != tuple(aval.shape) or leaf.dtype != aval.dtype for leaf, aval in zip(leaves, avals))
    if bad:
        raise InputError(f"{model_dir / WEIGHTS}: parameters do not match {EXPORT}; the model directory is "
                         "inconsistent, copy or retrain it")
    return leaves


def export_forward(model, pileup: PileupConfig, out_dir: Path, weights_sha256: str,
                   platforms: tuple[str, ...] = ("cpu", "cuda")) -> dict:
    """Write out_dir/inference.jaxexport for `model`; return the model.json entry describing it."""
    import jax
    from flax import nnx

    graphdef, state = nnx.split(model, nnx.Param)
    params = jax.device_get(nnx.to_pure_dict(state))
    paths, leaves = _paths_and_leaves(params)
    treedef = jax.tree.structure(params)

    def forward(leaves, tensors):  # a flat list: jax.export serialises only string-keyed trees
        s = nnx.state(model, nnx.Param)
        nnx.replace_by_pure_dict(s, jax.tree.unflatten(treedef, leaves))
        return jax.nn.softmax(nnx.merge(graphdef, s)(tensors), axis=-1)

    x = jax.ShapeDtypeStruct((BATCH, *pileup.shape), np.uint8)
    try:
        exported = jax.export.export(jax.jit(forward), platforms=platforms)(leaves, x)
    except Exception as err:  # a platform this jax cannot lower for: export for the CPU alone
        log.debug("export for %s failed (%s); exporting for cpu only", platforms, err)
        platforms = ("cpu",)
        exported = jax.export.export(jax.jit(forward), platforms=platforms)(leaves, x)
    (out_dir / EXPORT).write_bytes(exported.serialize())
    return {"file": EXPORT, "platforms": list(platforms), "weights_sha256": weights_sha256,
            "jax": jax.__version__, "leaf_paths": paths}
