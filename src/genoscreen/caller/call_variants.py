"""Stage 2: genotype probabilities for every example, by batched jit inference with one fixed batch shape."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from genoscreen.caller.data import SITE_FIELDS, iter_shards, read_summary, write_probs
from genoscreen.caller.model_dir import BATCH
from genoscreen.caller.predictor import load_predictor
from genoscreen.common.logging import progress
from genoscreen.variants.pileup_config import PileupConfig

log = logging.getLogger(__name__)

DEFAULT_BATCH = BATCH


def predict(apply, tensors: np.ndarray, batch_size: int = DEFAULT_BATCH, shard=None) -> np.ndarray:
    """Genotype probabilities [n,3] from `apply(batch) -> probs`; every batch is zero-padded to `batch_size`,
    so the forward pass compiles once. `shard` (optional) places each batch on devices (common.devices.DeviceMesh.shard).
    """
    out = np.zeros((len(tensors), 3), np.float32)
    for start in range(0, len(tensors), batch_size):
        batch = tensors[start : start + batch_size]
        n = len(batch)
        if n < batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - n, *batch.shape[1:]), batch.dtype)])
        if shard is not None:
            (batch,) = shard(batch)
        out[start : start + n] = np.asarray(apply(batch))[:n]
    return out


def predict_stream(apply, chunks: Iterable[dict[str, np.ndarray]], batch_size: int = DEFAULT_BATCH
                   ) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """(site fields, probs) per chunk of examples (a shard, or a batch from make-examples in memory)."""
    for chunk in chunks:
        if len(chunk["tensors"]):
            yield {k: chunk[k] for k in SITE_FIELDS}, predict(apply, chunk["tensors"], batch_size)


def concat_sites(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {"contig": np.array([], "U1"), "pos": np.array([], np.int64), "ref": np.array([], "U1"),
                "alts": np.array([], "U1"), "alt_indices": np.array([], "U1"), "depth": np.array([], np.int32),
                "allele_depths": np.array([], "U1")}
    return {k: np.concatenate([p[k] for p in parts]) for k in SITE_FIELDS}


def call_variants(examples_dir: str | Path, model_dir: str | Path, out: str | Path) -> Path:
    """Run the model over every example of `examples_dir` and write PROBS (`.npz`)."""
    predictor = load_predictor(model_dir)
    pileup = predictor.pileup
    pileup.check_compatible(PileupConfig.read(examples_dir), f"{examples_dir}")
    sites, probs = [], []
    for fields, p in predict_stream(predictor, (shard for _, shard in progress(
            iter_shards(examples_dir), desc="call-variants", unit="shard"))):
        sites.append(fields)
        probs.append(p)
    merged = concat_sites(sites)
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, 3), np.float32)
    summary = read_summary(examples_dir)
    meta = {"sample": summary.get("sample"), **predictor.provenance(), "examples": str(examples_dir),
            "pileup": pileup.to_dict(),
            **{k: summary.get(k) for k in ("bam", "reference", "regions", "bam_names", "read_groups")}}  # for --gvcf
    log.info("call-variants: %d examples from %s", len(probs_arr), examples_dir)
    return write_probs(out, merged, probs_arr, meta)
