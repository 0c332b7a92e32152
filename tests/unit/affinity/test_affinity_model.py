"""DeepDTA model: pinned parameter count, shapes, padding invariance, split first layer == concatenation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genoscreen.affinity.configs import get_preset
from genoscreen.affinity.featurize import encode_proteins, encode_smiles
from genoscreen.affinity.model import build_model, count_params


@pytest.mark.parametrize("preset, expected", [("davis", 1_981_441), ("kiba", 1_932_289), ("test", 18_673)])
def test_parameter_count_pinned(preset, expected):
    # davis/kiba: embeddings 66x128 + 27x128, convs 128->32->64->96 with SMILES/protein kernels 8/8 (davis) and
    # 4/8 (kiba), dense 192->1024->1024->512->1.
    assert count_params(build_model(get_preset(preset))) == expected


def test_kernel_size_changes_count():
    small = count_params(build_model(get_preset("davis")))
    big = count_params(build_model(get_preset("davis", kernel_target=12)))
    assert big - small == 4 * (128 * 32 + 32 * 64 + 64 * 96)


@pytest.fixture(scope="module")
def model():
    return build_model(get_preset("test"), seed=3)


def test_padding_invariance(model):
    smiles = ["CC(=O)OC1=CC=CC=C1C(=O)O", "CCO"]
    proteins = ["MKVLAAGIVGLLLAVPAHA", "MSTNPKPQRKTKRNTNRRPQDVKFPGG"]
    d_short, _ = encode_smiles(smiles, 30)
    d_long, _ = encode_smiles(smiles, 64)
    t_short, _ = encode_proteins(proteins, 32)
    t_long, _ = encode_proteins(proteins, 256)
    np.testing.assert_allclose(model.encode_drugs(d_short), model.encode_drugs(d_long), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.encode_targets(t_short), model.encode_targets(t_long), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(d_short, t_short), model(d_long, t_long), rtol=1e-5, atol=1e-6)
    # and the padding really is masked: features differ from those of a sequence with a residue changed
    t_mut, _ = encode_proteins(["MKVLAAGIVGLLLAVPAHW", proteins[1]], 32)
    assert not np.allclose(model.encode_targets(t_mut)[0], model.encode_targets(t_short)[0])


def test_shapes_and_split_head(model):
    rng = np.random.default_rng(0)
    drugs = jnp.asarray(rng.integers(1, 65, (3, 64)), dtype=jnp.int32)
    targets = jnp.asarray(rng.integers(1, 26, (4, 256)), dtype=jnp.int32)
    d, t = model.encode_drugs(drugs), model.encode_targets(targets)
    assert d.shape == (3, 24) and t.shape == (4, 24)
    di = jnp.array([0, 1, 2, 2, 0]); ti = jnp.array([3, 0, 1, 2, 2])
    pairwise = model.head(d[di], t[ti])
    assert pairwise.shape == (5,)
    np.testing.assert_allclose(model.score_pairs(d, t, di, ti), pairwise, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(drugs[di], targets[ti]), pairwise, rtol=1e-5, atol=1e-5)
    w_d, w_t, b = model.head_first_layer_split()
    np.testing.assert_allclose(model.head_from_first_layer(d[di] @ w_d + t[ti] @ w_t + b), pairwise, rtol=1e-5, atol=1e-5)


def test_dropout_only_with_key(model):
    drugs = jnp.ones((2, 64), jnp.int32)
    targets = jnp.ones((2, 256), jnp.int32)
    a, b = model(drugs, targets), model(drugs, targets)
    np.testing.assert_array_equal(a, b)
    c = model(drugs, targets, key=jax.random.PRNGKey(0))
    assert not np.allclose(a, c)


@pytest.mark.parametrize("branch, vocab, kernel", [("drug_branch", 66, 4), ("target_branch", 27, 8)])
def test_first_layer_equals_embedding_then_convolution(branch, vocab, kernel):
    """The one-hot form of embedding + conv1 is the published layer pair: same values and same gradients."""
    from flax import nnx

    module = getattr(build_model(get_preset("davis", kernel_drug=kernel, kernel_target=kernel), seed=1), branch)
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, vocab, (3, 40))  # every id, the unknown token (vocab - 1) included
    tokens[2, :2] = vocab - 1
    tokens[0, 25:] = 0  # padding
    tokens[1, 5:] = 0
    tokens = jnp.asarray(tokens, dtype=jnp.int32)

    def reference(m):
        x = m.embed(tokens) * (tokens != 0)[..., None]
        return m.conv1(x)

    graphdef, params = nnx.split(module, nnx.Param)

    def loss(params, fn):
        out = fn(nnx.merge(graphdef, params))
        return (jax.nn.relu(out) ** 2 * jnp.arange(out.shape[-1])).sum(), out

    (l_ref, y_ref), g_ref = jax.value_and_grad(loss, has_aux=True)(params, reference)
    (l_new, y_new), g_new = jax.value_and_grad(loss, has_aux=True)(params, lambda m: m.embed_conv1(tokens))
    np.testing.assert_allclose(y_new, y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(l_new, l_ref, rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(g_new), jax.tree_util.tree_leaves(g_ref)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
