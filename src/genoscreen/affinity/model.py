"""DeepDTA (Öztürk et al. 2018) in Flax NNX.

Two CNN branches (SMILES, protein): embedding -> three Conv1D (filters 32/64/96, one kernel size per branch,
ReLU) -> global max-pool, giving 96 features each; then a head on the concatenation: Dense 1024 -> dropout ->
Dense 1024 -> dropout -> Dense 512 -> Dense 1.

Differences from the Keras original, on purpose: padding is masked (padded positions are zeroed after the
embedding and after every convolution, and since ReLU outputs are >= 0 the max-pool over the zeroed array equals
the max over real positions), so a sequence gives the same features whatever length it is padded to; convolutions
use 'SAME' padding so short sequences still have outputs. Dropout takes an explicit PRNG key (None = inference).
The embedding and the first convolution are computed together as a convolution of the one-hot tokens with E @ W1
(`CNNBranch.embed_conv1`): the same parameters, function and gradients, at a fraction of the first layer's cost.

For screening, the first head layer is linear in the concatenation, so it splits:
``dense1(concat(d, t)) = d @ W_d + t @ W_t + b`` with ``W_d, W_t, b = model.head_first_layer_split()``; compute
``d @ W_d`` once per drug and ``t @ W_t + b`` once per target, add them for any pair and finish with
``model.head_from_first_layer(h)``. Training uses the same path (`score_pairs`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.featurize import PROTEIN_VOCAB, SMILES_VOCAB, vocab_size

_glorot = nnx.initializers.xavier_uniform()


class CNNBranch(nnx.Module):
    """Embedding -> 3 x (Conv1D + ReLU) -> masked global max-pool; tokens int32 [n, L] -> features [n, filters[-1]]."""

    def __init__(self, n_tokens: int, embed_dim: int, filters: tuple[int, int, int], kernel: int, *, rngs: nnx.Rngs):
        self.embed = nnx.Embed(
            n_tokens, embed_dim, embedding_init=nnx.initializers.uniform(scale=0.1), rngs=rngs
        )
        f1, f2, f3 = filters
        self.conv1 = nnx.Conv(embed_dim, f1, kernel_size=(kernel,), padding="SAME", kernel_init=_glorot, rngs=rngs)
        self.conv2 = nnx.Conv(f1, f2, kernel_size=(kernel,), padding="SAME", kernel_init=_glorot, rngs=rngs)
        self.conv3 = nnx.Conv(f2, f3, kernel_size=(kernel,), padding="SAME", kernel_init=_glorot, rngs=rngs)

    def __call__(self, tokens: jax.Array) -> jax.Array:
        mask = (tokens != 0)[..., None].astype(jnp.float32)
        x = jax.nn.relu(self.embed_conv1(tokens)) * mask
        x = jax.nn.relu(self.conv2(x)) * mask
        x = jax.nn.relu(self.conv3(x)) * mask
        return jnp.max(x, axis=1)

    def embed_conv1(self, tokens: jax.Array) -> jax.Array:
        """conv1(embed(tokens) with padding zeroed), computed as a convolution of the one-hot tokens with the
        per-offset tables E @ W1[k]: the same function (and gradients), but over vocabulary-size (27 / 66) channels
        instead of the embedding's 128, which makes the first layer several times cheaper to train."""
        table = self.embed.embedding[...].at[0].set(0.0)  # token 0 is padding: embeds to zero, as the mask does
        kernel = jnp.einsum("ve,keo->kvo", table, self.conv1.kernel[...])
        onehot = jax.nn.one_hot(tokens, table.shape[0], dtype=table.dtype)
        out = jax.lax.conv_general_dilated(onehot, kernel, (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))
        return out + self.conv1.bias[...]


def _dropout(x: jax.Array, rate: float, key: jax.Array | None) -> jax.Array:
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


class DeepDTA(nnx.Module):
    """The DeepDTA network; see the module docstring for the split of the first head layer."""

    def __init__(self, config: AffinityConfig, *, rngs: nnx.Rngs):
        self.dropout_rate = float(config.dropout)
        self.drug_branch = CNNBranch(
            vocab_size(SMILES_VOCAB), config.embed_dim, config.filters, config.kernel_drug, rngs=rngs
        )
        self.target_branch = CNNBranch(
            vocab_size(PROTEIN_VOCAB), config.embed_dim, config.filters, config.kernel_target, rngs=rngs
        )
        d1, d2, d3 = config.dense
        n_feat = config.filters[-1]
        self.n_features = n_feat
        self.dense1 = nnx.Linear(2 * n_feat, d1, kernel_init=_glorot, rngs=rngs)
        self.dense2 = nnx.Linear(d1, d2, kernel_init=_glorot, rngs=rngs)
        self.dense3 = nnx.Linear(d2, d3, kernel_init=_glorot, rngs=rngs)
        self.out = nnx.Linear(d3, 1, kernel_init=nnx.initializers.normal(0.05), rngs=rngs)

    def encode_drugs(self, tokens: jax.Array) -> jax.Array:
        """SMILES tokens int32 [n, Ld] -> drug features [n, 96]."""
        return self.drug_branch(tokens)

    def encode_targets(self, tokens: jax.Array) -> jax.Array:
        """Protein tokens int32 [n, Lt] -> target features [n, 96]."""
        return self.target_branch(tokens)

    def head_first_layer_split(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        """(W_d [96, 1024], W_t [96, 1024], b [1024]) with dense1(concat(d, t)) == d @ W_d + t @ W_t + b."""
        kernel = self.dense1.kernel[...]
        return kernel[: self.n_features], kernel[self.n_features :], self.dense1.bias[...]

    def head_from_first_layer(self, h: jax.Array, key: jax.Array | None = None) -> jax.Array:
        """Finish the head from the first layer's pre-activation h [n, 1024] -> predictions [n]."""
        k1, k2 = jax.random.split(key) if key is not None else (None, None)
        x = _dropout(jax.nn.relu(h), self.dropout_rate, k1)
        x = _dropout(jax.nn.relu(self.dense2(x)), self.dropout_rate, k2)
        x = jax.nn.relu(self.dense3(x))
        return self.out(x)[:, 0]

    def head(self, drug_feats: jax.Array, target_feats: jax.Array, key: jax.Array | None = None) -> jax.Array:
        """Row-wise pairs: drug_feats [n, 96], target_feats [n, 96] -> predictions [n]."""
        h = self.dense1(jnp.concatenate([drug_feats, target_feats], axis=-1))
        return self.head_from_first_layer(h, key)

    def score_pairs(
        self,
        drug_feats: jax.Array,
        target_feats: jax.Array,
        drug_index: jax.Array,
        target_index: jax.Array,
        key: jax.Array | None = None,
    ) -> jax.Array:
        """Score pairs (drug_index[i], target_index[i]) from features of unique drugs/targets, sharing dense1 work."""
        w_d, w_t, b = self.head_first_layer_split()
        hd = drug_feats @ w_d
        ht = target_feats @ w_t + b
        return self.head_from_first_layer(hd[drug_index] + ht[target_index], key)

    def __call__(self, drug_tokens: jax.Array, target_tokens: jax.Array, key: jax.Array | None = None) -> jax.Array:
        """Per-pair path: row i of drug_tokens with row i of target_tokens -> predictions [n]."""
        return self.head(self.encode_drugs(drug_tokens), self.encode_targets(target_tokens), key)


def build_model(config: AffinityConfig, seed: int | None = None) -> DeepDTA:
    return DeepDTA(config, rngs=nnx.Rngs(config.seed if seed is None else seed))


def count_params(model: nnx.Module) -> int:
    return sum(int(x.size) for x in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param)))
