"""Where a screen's proteins and compounds become features: each encoded once, on every local device.

Targets are encoded in fixed batches (one compiled shape); compounds stream through in fixed batches, tokenized on
the host while the previous batch runs, into a `FeatureSpill` (96 floats a compound, on disk, not in RAM).
Batches are sharded over the compound axis across all local devices (`common.devices.DeviceMesh`); the model is replicated.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import jax
import numpy as np

from genoscreen.affinity.featurize import encode_proteins, tokenize_smiles
from genoscreen.affinity.inference import AffinityEngine, pad_rows, round_up
from genoscreen.common.devices import DeviceMesh

log = logging.getLogger(__name__)

ENCODE_BATCH = 256  # compounds per drug-encoder call (a multiple of the device count is used)
TARGET_BATCH = 16


def encode_targets(model, config, sequences: list[str], batch_size: int = TARGET_BATCH, engine=None,
                   devices: DeviceMesh | None = None) -> np.ndarray:
    """Protein sequences -> target-branch features float32 [n, 96], in fixed batches (one compiled shape)."""
    devices = devices or DeviceMesh.local()
    sm = engine or AffinityEngine(model, devices.replicated)
    batch = round_up(batch_size, devices.count)
    tokens, _ = encode_proteins(sequences, config.max_target_len)
    out = np.zeros((len(sequences), sm.n_features), np.float32)
    for start in range(0, len(sequences), batch):
        chunk = tokens[start : start + batch]
        feats = sm.encode_targets(put(pad_rows(chunk, batch), devices.split))
        out[start : start + len(chunk)] = np.asarray(feats)[: len(chunk)]
    return out


class FeatureSpill:
    """Drug features [n, D] float32 appended chunk by chunk to an anonymous temporary file and read back by range."""

    def __init__(self, dim: int, directory: str | Path | None = None):
        self.dim = dim
        self.n = 0
        self._file = tempfile.TemporaryFile(dir=directory, prefix=".genoscreen-features-")

    def append(self, feats: np.ndarray) -> None:
        self._file.seek(0, 2)
        self._file.write(np.ascontiguousarray(feats, dtype=np.float32).tobytes())
        self.n += len(feats)

    def read(self, start: int, stop: int) -> np.ndarray:
        self._file.seek(start * self.dim * 4)
        data = np.fromfile(self._file, dtype=np.float32, count=(stop - start) * self.dim)
        return data.reshape(stop - start, self.dim)

    def close(self) -> None:
        self._file.close()


def encode_compounds(sm, config, smiles: list[str], devices: DeviceMesh, directory=None,
                     bar=None) -> tuple[FeatureSpill, list[int]]:
    """Encode every SMILES once (standardised by the featurizer), in fixed batches, into a FeatureSpill; returns
    (spill, the indexes of the SMILES longer than the model's max_drug_len, which were truncated)."""
    batch = round_up(ENCODE_BATCH, devices.count)
    spill = FeatureSpill(sm.n_features, directory)
    truncated: list[int] = []
    n_unknown = 0
    pending = None
    for start in range(0, len(smiles), batch):
        chunk = smiles[start : start + batch]
        tokens, trunc, unknown = tokenize_smiles(chunk, config.max_drug_len)
        truncated += [start + row for row in trunc]
        n_unknown += unknown
        feats = sm.encode_drugs(put(pad_rows(tokens, batch), devices.split))
        if pending is not None:  # keep one batch in flight while the host tokenizes the next
            spill.append(np.asarray(pending[0])[: pending[1]])
        pending = (feats, len(chunk))
        if bar is not None:
            bar.update(len(chunk))
    if pending is not None:
        spill.append(np.asarray(pending[0])[: pending[1]])
    if n_unknown:
        log.warning("%d SMILES characters outside DeepDTA's 64-character set mapped to the unknown token", n_unknown)
    if truncated:
        log.info("%d of %d SMILES longer than %d characters were truncated", len(truncated), len(smiles),
                 config.max_drug_len)
    return spill, truncated


def put(array: np.ndarray, sharding):
    """`array` on the devices of `sharding`."""
    return jax.device_put(array, sharding)
