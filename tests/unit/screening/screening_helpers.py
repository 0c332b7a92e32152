"""Helpers for the screening tests: a tiny random DeepDTA (the `test` preset), hand-written drug-like SMILES,
seeded random protein sequences (no data from ../shared) and the model's own per-pair predictions."""

from __future__ import annotations

import numpy as np

SMILES = [
    "CC(=O)OC1=CC=CC=C1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O",
    "CC(=O)NC1=CC=C(C=C1)O", "c1ccccc1", "Cc1ccccc1", "Oc1ccccc1", "CCO", "c1ccncc1",
    "CC1=C(C=C(C=C1)NC(=O)C2=CC=C(C=C2)CN3CCN(CC3)C)NC4=NC=CC(=N4)C5=CN=CC=C5",
    "COC1=C(C=C2C(=C1)N=CN=C2NC3=CC(=C(C=C3)F)Cl)OCCCN4CCOCC4",
    "COCCOC1=C(C=C2C(=C1)C(=NC=N2)NC3=CC=CC(=C3)C#C)OCCOC", "CN1CCCC1C2=CN=CC=C2", "c1ccc2ccccc2c1",
    "c1ccc2[nH]ccc2c1", "NCC(=O)O", "CC(N)C(=O)O", "CC(=O)C", "C1CCCCC1", "Clc1ccccc1", "OC(=O)c1ccccc1",
    "Nc1ccccc1", "CO", "NC(N)=O", "Cn1c2c(c(=O)n(C)c1=O)[nH]cn2", "OC(=O)c1ccccc1O", "c1ccoc1", "c1ccsc1",
    "CCN(CC)CC", "CCCCCCCCCCCCCCCC(=O)O", "FC(F)(F)c1ccc(cc1)C#N", "O=C1NC(=O)C=C1",
]
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def random_proteins(n: int, seed: int = 0, min_len: int = 60, max_len: int = 300) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list(AMINO_ACIDS))
    return {f"T{i:03d}": "".join(rng.choice(letters, rng.integers(min_len, max_len))) for i in range(n)}


def write_fasta(path, proteins: dict[str, str]):
    path.write_text("".join(f">{k}\n{v}\n" for k, v in proteins.items()))
    return path


def write_smi(path, smiles=SMILES, prefix="C"):
    path.write_text("".join(f"{s} {prefix}{i:04d}\n" for i, s in enumerate(smiles)))
    return path


def random_model(seed: int = 3):
    """A `test`-preset DeepDTA with seeded random weights, made without eager initialisers (each of which
    compiles, ~40 s in all on a busy 2-core machine)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from genoscreen.affinity.configs import get_preset
    from genoscreen.affinity.model import DeepDTA

    config = get_preset("test")
    graphdef, state = nnx.split(nnx.eval_shape(lambda: DeepDTA(config, rngs=nnx.Rngs(0))))
    rng = np.random.default_rng(seed)

    def fill(spec):
        fan_in = int(np.prod(spec.shape[:-1])) if len(spec.shape) > 1 else 16
        return jnp.asarray(rng.normal(0.0, 1.0 / np.sqrt(fan_in), spec.shape).astype(np.float32))

    return nnx.merge(graphdef, jax.tree.map(fill, state)), config


def random_model_dir(path, seed: int = 3):
    """`random_model(seed)` saved as a model directory at `path`; returns `path`."""
    from genoscreen.affinity.checkpoint import save_model

    model, config = random_model(seed)
    save_model(model, config, path)
    return path


def per_pair_predictions(model, config, smiles: list[str], sequences: list[str]) -> np.ndarray:
    """The model's own per-pair path (`DeepDTA.__call__`) on every compound × target: [n_compounds, n_targets]."""
    import jax
    from flax import nnx

    from genoscreen.affinity.featurize import encode_proteins, encode_smiles

    drugs, _ = encode_smiles(smiles, config.max_drug_len)
    targets, _ = encode_proteins(sequences, config.max_target_len)
    d = np.repeat(drugs, len(sequences), axis=0)
    t = np.tile(targets, (len(smiles), 1))
    call = nnx.jit(lambda m, a, b: m(a, b))
    return np.asarray(call(model, jax.numpy.asarray(d), jax.numpy.asarray(t))).reshape(len(smiles), len(sequences))
