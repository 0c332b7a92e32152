"""Synthetic examples folders in make-examples' exact format, with a genotype signal a tiny CNN learns fast."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from genoscreen.variants.pileup import SITE_PL_CHANNELS, site_likelihoods
from genoscreen.variants.pileup_config import PileupConfig


def make_examples_dir(folder: Path, pileup: PileupConfig, n: int = 96, seed: int = 0, shards: int = 2,
                      contig: str = "q", labelled: bool = True, sites: list[dict] | None = None) -> Path:
    """Write `n` examples whose label is encoded by the fraction of reads supporting the alt in the centre column.

    `sites` (optional) gives contig/pos/ref/alts/alt_indices/label per example instead of random SNPs.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pileup.write(folder)
    h, w, c = pileup.shape
    if sites is None:
        labels = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
        sites = [{"contig": contig, "pos": 100 + 7 * i, "ref": "A", "alts": "C", "alt_indices": "1",
                  "label": int(labels[i])} for i in range(n)]
    n = len(sites)
    labels = np.array([s["label"] for s in sites])
    tensors = rng.integers(0, 60, size=(n, h, w, c), dtype=np.uint8)
    reads = h - pileup.ref_rows
    support = np.array([{0: 0.03, 1: 0.5, 2: 0.97}[int(max(lab, 0))] for lab in labels])
    supports = rng.random((n, reads)) < support[:, None]
    tensors[:, pileup.ref_rows:, w // 2, 4] = np.where(supports, 254, 0)
    tensors[:, pileup.ref_rows:, w // 2, 5] = np.where(supports, 254, 0)
    for i, name in enumerate(SITE_PL_CHANNELS):  # the per-site genotype likelihoods, as make-examples writes them
        if name in pileup.channels:
            pls = [site_likelihoods(np.full(reads, 30), np.full(reads, 60), s, np.zeros(reads, bool)) for s in supports]
            tensors[..., pileup.channels.index(name)] = np.minimum(np.rint(2 * np.array(pls)[:, i]), 255)[:, None, None]
    depth = np.full(n, reads, np.int32)
    alt_depth = supports.sum(1)
    fields = {
        "tensors": tensors,
        "label": (labels if labelled else np.full(n, -1)).astype(np.int8),
        "contig": np.array([s["contig"] for s in sites]),
        "pos": np.array([s["pos"] for s in sites], np.int64),
        "ref": np.array([s["ref"] for s in sites]),
        "alts": np.array([s["alts"] for s in sites]),
        "alt_indices": np.array([s["alt_indices"] for s in sites]),
        "depth": depth,
        "allele_depths": np.array([f"{reads - a},{a}" if s["alts"].count(",") == 0 else
                                   ",".join([str(reads - a), str(a)] + ["1"] * s["alts"].count(","))
                                   for a, s in zip(alt_depth, sites)]),
    }
    bounds = np.linspace(0, n, shards + 1).astype(int)
    for i in range(shards):
        sl = slice(bounds[i], bounds[i + 1])
        np.savez_compressed(folder / f"examples-{i:05d}.npz", **{k: v[sl] for k, v in fields.items()})
    (folder / "summary.json").write_text(json.dumps({"examples": n, "sample": "SYNTH"}))
    return folder
