"""The one checkpoint layout: a safetensors file of named leaves, with a kind, a schema version and a checksum.

Model weights and resumable training states are nested dicts of arrays (a Flax NNX pure dict, an optimiser state).
They are stored flat, each array under its path in the tree ("stages/0/down/kernel"), in safetensors: a JSON
header and raw little-endian buffers, never pickle, readable without Flax (fast start-up) and by any safetensors
tool. The header's metadata holds one entry, "genoscreen": a JSON object (sorted keys, so the file's bytes are a
function of its content: safetensors writes its metadata map in no fixed order) with

  format   "genoscreen-checkpoint"       what wrote the file
  version  CHECKPOINT_VERSION            the layout's version
  kind     e.g. "caller-weights/1"       what the tree is, so a file is never restored as something else
  sha256   over every name, dtype, shape and buffer: a corrupt or hand-edited file is refused, not half-loaded

plus any string metadata the writer adds. Restoring goes by name: `restore_into(tree, flat)` fills a model's own
pure dict, checking that the names and shapes are exactly those it expects.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open

FORMAT = "genoscreen-checkpoint"
CHECKPOINT_VERSION = "1"
META_KEY = "genoscreen"


def flatten(tree: Mapping, prefix: str = "") -> dict[str, np.ndarray]:
    """{"a": {"b": x}} -> {"a/b": x}; integer keys (list indices) become their decimal names."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if "/" in str(key):
            raise ValueError(f"checkpoint key {key!r} contains '/'")
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        else:
            flat[name] = np.asarray(value)
    return flat


def restore_into(tree: Mapping, flat: Mapping[str, np.ndarray], where: str | Path, prefix: str = "") -> dict:
    """`tree` (a model's or optimiser's pure dict: the structure and shapes expected) with every leaf replaced by
    the array of the same name in `flat`; an InputError naming what is missing, extra or of the wrong shape."""
    expected = flatten(tree, prefix)
    missing = sorted(set(expected) - set(flat))
    extra = sorted(set(flat) - set(expected)) if not prefix else []
    wrong = sorted(k for k in expected if k in flat and tuple(np.shape(flat[k])) != tuple(np.shape(expected[k])))
    if missing or extra or wrong:
        raise InputError(f"{where}: parameters do not match the model (missing {missing[:3]}, unexpected {extra[:3]}, "
                         f"wrong shape {wrong[:3]}); the file belongs to another model, copy or retrain it")

    def fill(node: Mapping, name: str):
        return {k: fill(v, f"{name}/{k}" if name else str(k)) if isinstance(v, Mapping)
                else flat[f"{name}/{k}" if name else str(k)].astype(np.asarray(v).dtype, copy=False)
                for k, v in node.items()}

    return fill(tree, prefix)


def checksum(flat: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(flat):
        array = np.require(flat[name], requirements="C")
        h.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def save(path: str | Path, tree: Mapping, kind: str, metadata: Mapping[str, str] | None = None) -> Path:
    """Write `tree` to `path` (atomically: a temp file renamed into place)."""
    from safetensors.numpy import save as st_save

    flat = {k: np.require(v, requirements="C") for k, v in flatten(tree).items()}  # (ascontiguousarray makes 0-d 1-d)
    meta = {**{k: str(v) for k, v in (metadata or {}).items()},
            "format": FORMAT, "version": CHECKPOINT_VERSION, "kind": kind, "sha256": checksum(flat)}
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        handle.write(st_save(flat, metadata={META_KEY: json.dumps(meta, sort_keys=True)}))
    return path


def load(path: str | Path, kind: str, what: str = "checkpoint") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(flat arrays by name, metadata) of a checkpoint of `kind`, or an InputError saying what is wrong and the fix
    (`what` names the file in messages: "weights", "training state")."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: missing; the model or checkpoint directory is incomplete, copy or recreate it")
    try:
        with safe_open(str(path), framework="np") as handle:
            meta = json.loads((handle.metadata() or {}).get(META_KEY, "{}"))
            flat = {name: handle.get_tensor(name) for name in handle.keys()}
        if not isinstance(meta, dict):
            raise ValueError("metadata is not an object")
    except (SafetensorError, ValueError, OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: corrupt {what} file ({type(err).__name__}); copy the file again or retrain") from None
    if meta.get("format") != FORMAT or meta.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"{path}: corrupt {what} file: not a genoscreen checkpoint of version {CHECKPOINT_VERSION} (format "
                         f"{meta.get('format')!r}, version {meta.get('version')!r}); copy or retrain it")
    if meta.get("kind") != kind:
        raise InputError(f"{path}: holds {meta.get('kind')!r}, not {kind!r}; point at the right file")
    if meta.get("sha256") != checksum(flat):
        raise InputError(f"{path}: corrupt {what} file: checksum mismatch (altered or damaged); copy it again or retrain")
    return flat, meta

