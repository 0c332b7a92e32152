"""Examples in, probabilities out: the caller's view of make-examples shards and the PROBS file between stages.

Examples folders are written by `genoscreen make-examples` (see genoscreen.variants.examples). PROBS
(`call-variants --out`) is one `.npz` (no object arrays, read with allow_pickle=False) holding, per example, the
site fields postprocess needs plus `probs` float32 [n, 3], and a `meta` JSON string (sample, model, pileup).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path
from genoscreen.variants import examples
from genoscreen.variants.pileup_config import PileupConfig

SITE_FIELDS = ("contig", "pos", "ref", "alts", "alt_indices", "depth", "allele_depths")
PROBS_FORMAT = "genoscreen-probs/1"


def iter_shards(folder: str | Path) -> Iterator[tuple[Path, dict[str, np.ndarray]]]:
    """(path, fields) per shard of an examples folder, through the one examples reader."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: examples folder not found; write it with `genoscreen make-examples`")
    yield from examples.iter_shards(folder)


def read_summary(folder: str | Path) -> dict:
    """The examples folder's summary.json ({} when absent or unreadable: it is informative only)."""
    try:
        return examples.read_summary(folder)
    except (InputError, OSError, ValueError):
        return {}


def load_labelled(folders: list[str | Path], pileup: PileupConfig) -> tuple[np.ndarray, np.ndarray]:
    """All labelled examples (label >= 0) of the folders as (tensors uint8 [n,H,W,C], labels int32 [n])."""
    tensors, labels = [], []
    for folder in folders:
        pileup.check_compatible(PileupConfig.read(folder), f"{folder}")
        for path, shard in iter_shards(folder):
            _check_shard(path, shard, pileup)
            keep = shard["label"] >= 0
            tensors.append(shard["tensors"][keep])
            labels.append(shard["label"][keep].astype(np.int32))
    if not tensors or sum(len(t) for t in tensors) == 0:
        raise InputError(f"{', '.join(map(str, folders))}: no labelled examples; make them with `make-examples --truth`")
    return np.concatenate(tensors), np.concatenate(labels)


def _check_shard(path: Path, shard: dict, pileup: PileupConfig) -> None:
    tensors = shard.get("tensors")
    if tensors is None or "label" not in shard:
        raise InputError(f"{path}: not an examples shard (no tensors/label arrays); remake it with `make-examples`")
    if tensors.ndim != 4 or tuple(tensors.shape[1:]) != pileup.shape:
        raise InputError(
            f"{path}: tensors of shape {tuple(tensors.shape[1:])} but the pileup config says {pileup.shape}; "
            "remake the examples"
        )


def write_probs(path: str | Path, sites: dict[str, np.ndarray], probs: np.ndarray, meta: dict) -> Path:
    """Write PROBS atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise InputError(f"{path}: the probabilities file must end in .npz")
    arrays = {k: np.asarray(sites[k]) for k in SITE_FIELDS}
    arrays["probs"] = np.asarray(probs, dtype=np.float32)
    arrays["meta"] = np.asarray(json.dumps({"format": PROBS_FORMAT, **meta}))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return path


def read_probs(path: str | Path) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """(sites, probs [n,3], meta) from a PROBS file, or an InputError saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: probabilities file not found; write it with `genoscreen call-variants`")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except Exception as err:  # zip, npy and json errors all mean the same thing here
        raise InputError(f"{path}: not a readable probabilities file ({type(err).__name__}: {err}); rerun call-variants") from None
    if meta.get("format") != PROBS_FORMAT:
        raise InputError(f"{path}: format {meta.get('format')!r}, expected {PROBS_FORMAT!r}; rerun call-variants")
    missing = [k for k in (*SITE_FIELDS, "probs") if k not in arrays]
    if missing:
        raise InputError(f"{path}: missing arrays {missing}; rerun call-variants")
    probs = arrays.pop("probs")
    if probs.ndim != 2 or probs.shape[1] != 3 or len(probs) != len(arrays["pos"]):
        raise InputError(f"{path}: probs has shape {probs.shape}, expected [{len(arrays['pos'])}, 3]; rerun call-variants")
    return arrays, probs, meta
