"""Training batches of the affinity model: an epoch's pairs cut into padded batches that share encodings.

Block batching: a step gathers the distinct drugs and targets of its pairs into fixed-size padded index arrays,
encodes each of them once, and scores all its pairs by gathering the shared features (`DeepDTA.score_pairs`).
Batches are cut from pairs ordered by target block then by a random drug order, so a step of 256 pairs encodes
only a handful of proteins. The per-pair path (every pair encodes its own drug and protein) is the same step with
"unique" arrays equal to the pairs' own indices, used by bench/affinity_train.py for the speed comparison.
Every batch has the same padded shapes, so a preset compiles one step.
"""

from __future__ import annotations

import math

import numpy as np

from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.data import AffinityData

# A training batch encodes only the drug slots it uses, rounded up to a multiple of this (one compile per size):
# KIBA batches use 49-138 of their 224 padded slots (median 72), Davis ~16-24 of 72.
DRUG_SLOT_BUCKET = 32
STATIC_KEYS = ("target_len", "n_drugs")  # per-batch shapes of a plan, not arrays of the batch


def _pack(order, pair_drug, pair_target, max_pairs, max_drugs, max_targets) -> list[int]:
    """Greedy cut of pairs (taken in `order`) into batches within the pair/drug/target caps; returns cut points."""
    cuts = []
    n_pairs = 0
    drugs: set[int] = set()
    targets: set[int] = set()
    drug_of, target_of = pair_drug[order].tolist(), pair_target[order].tolist()
    for pos, (d, t) in enumerate(zip(drug_of, target_of)):
        if n_pairs and (
            n_pairs == max_pairs
            or (d not in drugs and len(drugs) == max_drugs)
            or (t not in targets and len(targets) == max_targets)
        ):
            cuts.append(pos)
            n_pairs = 0
            drugs, targets = set(), set()
        drugs.add(d)
        targets.add(t)
        n_pairs += 1
    return cuts


def padded_target_lengths(data: AffinityData, config: AffinityConfig) -> np.ndarray:
    """Per target row: its token count rounded up to `config.length_bucket` (max_target_len when bucketing is off)."""
    width = data.target_tokens.shape[1]
    if not config.length_bucket:
        return np.full(len(data.target_tokens), width, np.int32)
    n = (data.target_tokens != 0).sum(axis=1)
    bucket = config.length_bucket
    return np.minimum(width, np.maximum(1, -(-n // bucket)) * bucket).astype(np.int32)


def plan_epoch(data: AffinityData, config: AffinityConfig, rng: np.random.Generator, mode: str = "block") -> dict:
    """One epoch of batches as stacked, padded numpy arrays [n_batches, ...].

    Keys: drugs [Du], targets [Tu] (rows of the token tables), pd/pt [P] (pair -> position in drugs/targets),
    y [P], mask [P], and two static shapes that are not part of the batch (see `batch_at`): target_len (the batch's
    padded protein length) and n_drugs (its drug slots in use, rounded up to DRUG_SLOT_BUCKET).
    mode "block" shares encodings; "pair" encodes every pair's own drug and target (Du = Tu = P).
    """
    P = config.batch_size
    n = data.n_pairs
    padded_len = padded_target_lengths(data, config)
    if mode == "pair":
        order = rng.permutation(n)
        n_batches = math.ceil(n / P)
        idx = np.full(n_batches * P, -1, dtype=np.int64)
        idx[:n] = order
        idx = idx.reshape(n_batches, P)
        mask = idx >= 0
        safe = np.where(mask, idx, 0)
        local = np.broadcast_to(np.arange(P, dtype=np.int32), (n_batches, P))
        targets = data.pair_target[safe].astype(np.int32)
        return {
            "drugs": data.pair_drug[safe].astype(np.int32),
            "targets": targets,
            "pd": local.copy(),
            "pt": local.copy(),
            "y": np.where(mask, data.labels[safe], 0.0).astype(np.float32),
            "mask": mask.astype(np.float32),
            "target_len": np.where(mask, padded_len[targets], 0).max(axis=1).astype(np.int32),
            "n_drugs": np.full(n_batches, P, np.int32),
        }
    if mode != "block":
        raise ValueError(f"unknown batching mode {mode}")
    Du, Tu = config.max_batch_drugs, config.max_batch_targets
    targets = rng.permutation(np.unique(data.pair_target))
    # Length strata (random order inside each) when bucketing, so a block's proteins need similar padding.
    targets = targets[np.argsort(padded_len[targets], kind="stable")]
    target_block = np.empty(len(data.target_tokens), dtype=np.int64)
    target_block[targets] = np.arange(len(targets)) // config.block_targets
    drug_rank = rng.permutation(int(data.pair_drug.max()) + 1)
    if config.block_order == "random":
        drug_rank = np.zeros_like(drug_rank)
    order = np.lexsort((rng.random(n), drug_rank[data.pair_drug], target_block[data.pair_target]))
    cuts = _pack(order, data.pair_drug, data.pair_target, P, Du, Tu)
    batches = np.split(order, cuts)
    nb = len(batches)
    out = {
        "drugs": np.zeros((nb, Du), np.int32),
        "targets": np.zeros((nb, Tu), np.int32),
        "pd": np.zeros((nb, P), np.int32),
        "pt": np.zeros((nb, P), np.int32),
        "y": np.zeros((nb, P), np.float32),
        "mask": np.zeros((nb, P), np.float32),
        "target_len": np.zeros(nb, np.int32),
        "n_drugs": np.zeros(nb, np.int32),
    }
    for b, pairs in enumerate(batches):
        k = len(pairs)
        drugs, local_d = np.unique(data.pair_drug[pairs], return_inverse=True)
        tgts, local_t = np.unique(data.pair_target[pairs], return_inverse=True)
        out["drugs"][b, : len(drugs)] = drugs
        out["targets"][b, : len(tgts)] = tgts
        out["pd"][b, :k] = local_d.reshape(-1)
        out["pt"][b, :k] = local_t.reshape(-1)
        out["y"][b, :k] = data.labels[pairs]
        out["mask"][b, :k] = 1.0
        out["target_len"][b] = padded_len[tgts].max()
        out["n_drugs"][b] = min(Du, -(-len(drugs) // DRUG_SLOT_BUCKET) * DRUG_SLOT_BUCKET)
    # Shuffle batch order so consecutive steps come from different blocks.
    perm = rng.permutation(nb)
    return {k: v[perm] for k, v in out.items()}


def batch_at(plan: dict, b: int) -> tuple[dict, int]:
    """Batch b of a plan (arrays, its drug slots cut to those in use) and its padded protein length (a static int)."""
    batch = {k: v[b] for k, v in plan.items() if k not in STATIC_KEYS}
    batch["drugs"] = batch["drugs"][: int(plan["n_drugs"][b])]
    return batch, int(plan["target_len"][b])
