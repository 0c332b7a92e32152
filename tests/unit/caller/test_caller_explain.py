"""Integrated gradients of the caller, batched: the same attributions as one site at a time, completeness."""

import numpy as np

from genoscreen.caller.explain import explain_site, explain_sites
from genoscreen.caller.model import load_model
from genoscreen.variants.examples import read_examples


def test_batched_sites_match_single_sites(trained_model, synthetic_sets):
    model_dir, _ = trained_model
    model, pileup, _ = load_model(model_dir)
    examples = read_examples(synthetic_sets[1])
    tensors, genotypes = examples["tensors"][:5], np.array([0, 1, 2, 1, 1])
    attributions, probs, bases = explain_sites(model, tensors, genotypes, steps=64, batch=2)  # 2 + 2 + 1 (padded)
    assert attributions.shape == tensors.shape and probs.shape == bases.shape == (5,)
    for i in (0, 4):
        one, p, b = explain_site(model, pileup, tensors[i], int(genotypes[i]), steps=64)
        np.testing.assert_allclose(attributions[i], one, rtol=1e-4, atol=1e-6)
        assert abs(probs[i] - p) < 1e-5 and abs(bases[i] - b) < 1e-5
    gaps = probs - bases
    sums = attributions.reshape(5, -1).sum(axis=1)
    assert np.all(np.abs(sums - gaps) <= 0.05 * np.abs(gaps) + 1e-4)  # completeness
