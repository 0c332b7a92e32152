"""Jitted pieces of a screen: the two encoders and the factorised head over a tile of compounds × targets.

DeepDTA's first dense layer is linear in [d; t], so W·[d; t] + b = d·W_d + (t·W_t + b)
(`DeepDTA.head_first_layer_split`). Each target is projected once (A_t = t·W_t + b), each compound once per tile
(A_d = d·W_d, 96 -> 1024, negligible next to the pairs), and a tile of Tc compounds × Tt targets is the
[Tc·Tt, 1024] matrix relu(A_d[i] + A_t[j]) fed through the rest of the head (`DeepDTA.head_from_first_layer`) as
matrix products. The model is passed to the jitted functions as its nnx state (an argument, never a closure).
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
from flax import nnx


class ScreeningModel:
    """A DeepDTA split into graph and state, with jitted drug/target encoders and the tile scorer.

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

    def project_targets(self, target_feats) -> jax.Array:
        """Target features [n, 96] -> A_t = t·W_t + b, [n, 1024]."""
        return _project_targets(self.graphdef, self.state, target_feats)

    def score_tile(self, drug_feats, a_target) -> jax.Array:
        """Drug features [Tc, 96] × projected targets [Tt, 1024] -> predictions [Tc, Tt]."""
        return _tile_scores(self.graphdef, self.state, drug_feats, a_target)


# The graph definition is a static (hashed) argument, so compiled functions are shared by every model instance
# of the same architecture and tile shape.
@partial(jax.jit, static_argnums=(0, 1))
def _encode(graphdef, method: str, state, tokens):
    return getattr(nnx.merge(graphdef, state), method)(tokens)


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


def pad_rows(array: np.ndarray, n_rows: int) -> np.ndarray:
    """`array` with zero rows appended up to `n_rows` (padding rows are sliced off the results: the mask)."""
    if len(array) == n_rows:
        return array
    out = np.zeros((n_rows, *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple

