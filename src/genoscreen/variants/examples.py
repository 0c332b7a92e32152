"""Examples folders: `pileup_config.json`, `summary.json` and shards `examples-00000.npz`, ...

Each shard is an `np.savez_compressed` file with no object arrays (strings are fixed-width unicode), one row per
example:

| key | dtype | meaning |
|---|---|---|
| tensors | uint8 [n, H, W, C] | pileup tensors (shape and channels in pileup_config.json) |
| label | int8 [n] | copies (0/1/2) of the example's alt(s) in the truth; -1 without truth |
| contig | str [n] | contig (reference naming) |
| pos | int64 [n] | VCF POS (1-based) |
| ref | str [n] | REF allele |
| alts | str [n] | all ALT alleles of the site, comma-joined (VCF alleles, indels with anchor base) |
| alt_indices | str [n] | 1-based indices into alts that this example represents: "1", or "1,2" |
| depth | int32 [n] | reads counted at the site |
| allele_depths | str [n] | comma-joined read counts ref,alt1,alt2,... |
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open
from genoscreen.variants.pileup_config import PileupConfig

FIELDS = ("tensors", "label", "contig", "pos", "ref", "alts", "alt_indices", "depth", "allele_depths")
STRING_FIELDS = ("contig", "ref", "alts", "alt_indices", "allele_depths")
SHARD_GLOB = "examples-*.npz"
SUMMARY_FILENAME = "summary.json"
_SHARD_RE = re.compile(r"^examples-(\d{5,})\.npz$")


def shard_name(index: int) -> str:
    return f"examples-{index:05d}.npz"


def empty_arrays(config: PileupConfig) -> dict[str, np.ndarray]:
    return {
        "tensors": np.zeros((0, *config.shape), dtype=np.uint8),
        "label": np.zeros(0, dtype=np.int8),
        "contig": np.zeros(0, dtype="<U1"),
        "pos": np.zeros(0, dtype=np.int64),
        "ref": np.zeros(0, dtype="<U1"),
        "alts": np.zeros(0, dtype="<U1"),
        "alt_indices": np.zeros(0, dtype="<U1"),
        "depth": np.zeros(0, dtype=np.int32),
        "allele_depths": np.zeros(0, dtype="<U1"),
    }


def concat_arrays(parts: list[dict[str, np.ndarray]], config: PileupConfig) -> dict[str, np.ndarray]:
    parts = [p for p in parts if len(p["label"])]
    if not parts:
        return empty_arrays(config)
    return {k: np.concatenate([p[k] for p in parts]) for k in FIELDS}


def write_shard(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write one shard atomically (compressed npz, no pickled objects)."""
    missing = [k for k in FIELDS if k not in arrays]
    if missing:
        raise ValueError(f"shard arrays lack {missing}")
    for k in FIELDS:
        if arrays[k].dtype == object:
            raise ValueError(f"shard array {k!r} has dtype object; use fixed-width strings")
    with atomic_open(path, "wb") as handle:
        np.savez_compressed(handle, **{k: arrays[k] for k in FIELDS})


def load_shard(path: str | Path, config: PileupConfig | None = None) -> dict[str, np.ndarray]:
    """Read one shard, checking its fields (and tensor shape against `config` when given)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as err:
        raise InputError(f"{path}: not a readable examples shard ({err}); remake it with `genoscreen make-examples`") from None
    missing = [k for k in FIELDS if k not in arrays]
    if missing:
        raise InputError(f"{path}: examples shard lacks {missing}; remake it with `genoscreen make-examples`")
    n = len(arrays["label"])
    if any(len(arrays[k]) != n for k in FIELDS):
        raise InputError(f"{path}: examples shard arrays have different lengths; the file is corrupt")
    if config is not None and arrays["tensors"].shape[1:] != config.shape:
        raise InputError(f"{path}: tensors of shape {arrays['tensors'].shape[1:]} but pileup_config.json says "
                         f"{config.shape}; remake the examples")
    return arrays


def shard_paths(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: examples folder not found")
    return sorted(p for p in folder.glob(SHARD_GLOB) if _SHARD_RE.match(p.name))


def iter_shards(folder: str | Path) -> Iterator[tuple[Path, dict[str, np.ndarray]]]:
    """Yield (path, arrays) for each shard of an examples folder, in order, checked against its config."""
    config = PileupConfig.read(folder)
    for path in shard_paths(folder):
        yield path, load_shard(path, config)


def read_examples(folder: str | Path) -> dict[str, np.ndarray]:
    """All shards of an examples folder concatenated into one dict of arrays."""
    config = PileupConfig.read(folder)
    return concat_arrays([arrays for _, arrays in iter_shards(folder)], config)


def read_summary(folder: str | Path) -> dict:
    path = Path(folder, SUMMARY_FILENAME)
    if not path.exists():
        raise InputError(f"{folder}: no {SUMMARY_FILENAME}; was make-examples interrupted?")
    return json.loads(path.read_text())


class ShardWriter:
    """Buffers examples and writes `examples-NNNNN.npz` files of about `examples_per_file` examples each."""

    def __init__(self, folder: str | Path, config: PileupConfig, examples_per_file: int = 4000):
        self.folder = Path(folder)
        self.config = config
        self.examples_per_file = examples_per_file
        self.buffer: list[dict[str, np.ndarray]] = []
        self.buffered = 0
        self.index = 0
        self.written = 0

    def add(self, arrays: dict[str, np.ndarray]) -> None:
        if not len(arrays["label"]):
            return
        self.buffer.append(arrays)
        self.buffered += len(arrays["label"])
        if self.buffered >= self.examples_per_file:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        arrays = concat_arrays(self.buffer, self.config)
        write_shard(self.folder / shard_name(self.index), arrays)
        self.index += 1
        self.written += len(arrays["label"])
        self.buffer, self.buffered = [], 0


def write_summary(folder: str | Path, summary: dict) -> None:
    with atomic_open(Path(folder, SUMMARY_FILENAME)) as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")


__all__ = ["FIELDS", "read_examples", "iter_shards", "write_shard", "load_shard", "read_summary", "write_summary"]
