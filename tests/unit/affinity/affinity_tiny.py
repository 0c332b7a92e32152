"""Tiny synthetic affinity inputs (hand-written public SMILES, random protein sequences) for unit and CLI tests."""

from __future__ import annotations

import numpy as np

SMILES = {
    "aspirin": "CC(=O)OC1=CC=CC=C1C(=O)O",
    "caffeine": "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "ibuprofen": "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O",
    "paracetamol": "CC(=O)NC1=CC=C(C=C1)O",
    "benzene": "c1ccccc1",
    "ethanol": "CCO",
}
AMINO = "ACDEFGHIKLMNPQRSTVWY"


def write_tiny_dta(root, n_targets: int = 5, seed: int = 0, invalid_smiles: bool = False):
    """Write drugs.tsv, targets.fasta, pairs.tsv (all drug x target pairs, label, fold) under root; return paths."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    drugs = root / "drugs.tsv"
    lines = ["drug_id\tsmiles"] + [f"{k}\t{v}" for k, v in SMILES.items()]
    if invalid_smiles:
        lines.append("broken\tC1CC(")
    drugs.write_text("\n".join(lines) + "\n")
    targets = root / "targets.fasta"
    seqs = {f"P{i}": "".join(rng.choice(list(AMINO), size=int(rng.integers(40, 300)))) for i in range(n_targets)}
    targets.write_text("".join(f">{k} random protein\n{v}\n" for k, v in seqs.items()))
    pairs = root / "pairs.tsv"
    rows = ["drug_id\ttarget_id\tpkd\tfold"]
    i = 0
    for d in SMILES:
        for t in seqs:
            label = 5.0 + 0.5 * len(SMILES[d]) / 10 + 0.3 * int(t[1:]) + rng.normal(0, 0.1)
            rows.append(f"{d}\t{t}\t{label:.3f}\t{i % 5}")
            i += 1
    pairs.write_text("\n".join(rows) + "\n")
    return drugs, targets, pairs
