"""The one inference engine of the affinity model: `affinity predict`, `screen`, panels and training's validation.

Each distinct drug and target is encoded once; pairs are scored through the split of DeepDTA's first dense layer,
which is linear in [d; t]: W·[d; t] + b = d·W_d + (t·W_t + b) (`DeepDTA.head_first_layer_split`), then the rest of
the head (`DeepDTA.head_from_first_layer`). Two layouts of the same numbers:

- listed pairs (`predict`, `AffinityEngine.score_pairs`): gather each pair's drug and target features
  (predict, evaluation, training's validation and CV);
- all-by-all tiles (`AffinityEngine.project_targets` + `score_tile`): each target is projected once
  (A_t = t·W_t + b), and a tile of Tc compounds × Tt targets is the [Tc·Tt, 1024] matrix relu(A_d[i] + A_t[j]) fed
  through the rest of the head as matrix products (screen).

The model is passed to the jitted functions as its nnx state (an argument, never a closure); the graph definition
is a static (hashed) argument, so compiled functions are shared by every model of the same architecture and shape.
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
from flax import nnx

ENCODE_CHUNK = 256  # rows per encoder call when encoding a token table (`predict`)
SCORE_CHUNK = 8192  # pairs per scoring call (`predict`)


class AffinityEngine:
    """A DeepDTA split into graph and state, with jitted drug/target encoders and pair and tile scorers.

    `sharding`: a `jax.sharding.NamedSharding` replicating the state over the devices (None: default device).
    """

    def __init__(self, model, sharding=None):
        self.graphdef, state = nnx.split(model)
        self.state = jax.device_put(state, sharding) if sharding is not None else state
        self.n_features = int(model.n_features)

    def encode_drugs(self, tokens) -> jax.Array:
        """SMILES tokens int32 [n, Ld] -> drug features float32 [n, 96]."""
        return _encode(self.graphdef, "encode_drugs", self.state, tokens)

    def encode_targets(self, tokens) -> jax.Array:
        """Protein tokens int32 [n, Lt] -> target features float32 [n, 96]."""
        return _encode(self.graphdef, "encode_targets", self.state, tokens)

    def score_pairs(self, drug_feats, target_feats, drug_index, target_index) -> jax.Array:
        """Pairs (drug_index[i], target_index[i]) of the given features -> predictions [n]."""
        return _score_pairs(self.graphdef, self.state, drug_feats, target_feats, drug_index, target_index)

    def project_targets(self, target_feats) -> jax.Array:
        """Target features [n, 96] -> A_t = t·W_t + b, [n, 1024]."""
        return _project_targets(self.graphdef, self.state, target_feats)

    def score_tile(self, drug_feats, a_target) -> jax.Array:
        """Drug features [Tc, 96] × projected targets [Tt, 1024] -> predictions [Tc, Tt]."""
        return _tile_scores(self.graphdef, self.state, drug_feats, a_target)

    def encode_table(self, tokens: np.ndarray, branch: str) -> jax.Array:
        """Every row of a token table -> features [n, 96] ("drug" or "target" branch), in chunks of ENCODE_CHUNK
        rows padded to a power of two (few compiles for tables of any size)."""
        encode = self.encode_drugs if branch == "drug" else self.encode_targets
        feats = []
        for start in range(0, len(tokens), ENCODE_CHUNK):
            chunk = tokens[start : start + ENCODE_CHUNK]
            k = len(chunk)
            feats.append(encode(pad_rows(chunk, _bucket(k, ENCODE_CHUNK)))[:k])
        return jax.numpy.concatenate(feats, axis=0)


def predict(model, data) -> np.ndarray:
    """Predictions float32 [n_pairs] for every pair of `data` (an `AffinityData`), each distinct drug and target
    encoded once."""
    engine = AffinityEngine(model)
    drug_feats = engine.encode_table(data.drug_tokens, "drug")
    target_feats = engine.encode_table(data.target_tokens, "target")
    out = np.empty(data.n_pairs, dtype=np.float32)
    for start in range(0, data.n_pairs, SCORE_CHUNK):
        d = data.pair_drug[start : start + SCORE_CHUNK]
        t = data.pair_target[start : start + SCORE_CHUNK]
        k = len(d)
        size = _bucket(k, SCORE_CHUNK)
        out[start : start + k] = np.asarray(engine.score_pairs(drug_feats, target_feats, pad_rows(d, size),
                                                               pad_rows(t, size))[:k])
    return out


@partial(jax.jit, static_argnums=(0, 1))
def _encode(graphdef, method: str, state, tokens):
    return getattr(nnx.merge(graphdef, state), method)(tokens)


@partial(jax.jit, static_argnums=0)
def _score_pairs(graphdef, state, drug_feats, target_feats, drug_index, target_index):
    return nnx.merge(graphdef, state).score_pairs(drug_feats, target_feats, drug_index, target_index)


@partial(jax.jit, static_argnums=0)
def _project_targets(graphdef, state, target_feats):
    _, w_t, b = nnx.merge(graphdef, state).head_first_layer_split()
    return target_feats @ w_t + b


@partial(jax.jit, static_argnums=0)
def _tile_scores(graphdef, state, drug_feats, a_target):
    model = nnx.merge(graphdef, state)
    w_d, _, _ = model.head_first_layer_split()
    a_drug = drug_feats @ w_d
    n_c, n_t = drug_feats.shape[0], a_target.shape[0]
    h = (a_drug[:, None, :] + a_target[None, :, :]).reshape(n_c * n_t, a_drug.shape[-1])
    return model.head_from_first_layer(h).reshape(n_c, n_t)


def _bucket(n: int, cap: int) -> int:
    """Padded size for n rows: the next power of two (at least 16), at most cap; keeps compiles few."""
    return min(cap, max(16, 1 << max(0, n - 1).bit_length()))


def pad_rows(array: np.ndarray, n_rows: int) -> np.ndarray:
    """`array` with zero rows appended up to `n_rows` (padding rows are sliced off the results: the mask)."""
    if len(array) == n_rows:
        return array
    out = np.zeros((n_rows, *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple
