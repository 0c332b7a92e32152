"""Metrics: exact CI against brute force (with label and prediction ties), r_m^2, AUPR, Spearman."""

import math

import numpy as np
import pytest

from genoscreen.affinity.metrics import (
    aupr,
    concordance_index,
    evaluate,
    rm2,
    spearman,
)


def brute_ci(y, p):
    num = den = 0.0
    for i in range(len(y)):
        for j in range(len(y)):
            if y[i] > y[j]:
                den += 1
                num += 1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0
    return num / den


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [2, 7, 50, 301])
def test_ci_matches_brute_force_with_ties(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, n).astype(float)  # many label ties (like Davis' pKd 5.0 floor)
    p = rng.integers(0, 9, n) / 3.0  # many prediction ties
    if len(set(y)) == 1:
        y[0] += 1
    assert concordance_index(y, p) == pytest.approx(brute_ci(y, p), abs=1e-12)


def test_ci_edge_cases():
    y = np.arange(10.0)
    assert concordance_index(y, y * 2) == 1.0
    assert concordance_index(y, -y) == 0.0
    assert concordance_index(y, np.zeros(10)) == 0.5
    assert math.isnan(concordance_index(np.ones(4), np.arange(4.0)))


def test_ci_large_input_is_exact():
    # 200k pairs (~2e10 pair comparisons): the tau-b product must round to the exact integer P - Q.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 500, 200_000).astype(float)
    p = y + rng.normal(0, 50, len(y)).round()
    ci = concordance_index(y, p)
    # the same count over a random subsample by brute force agrees to sampling error
    idx = rng.choice(len(y), 400, replace=False)
    assert abs(ci - brute_ci(y[idx], p[idx])) < 0.03
    assert ci * 1 == concordance_index(y[::-1].copy(), p[::-1].copy())  # order-invariant, exactly


def test_spearman_with_ties():
    # ranks [2, 3.5, 3.5, 1] vs [1, 2, 3, 4]
    assert spearman([10, 20, 20, 5], [1, 2, 3, 4]) == pytest.approx(np.corrcoef([2, 3.5, 3.5, 1], [1, 2, 3, 4])[0, 1])
    assert spearman([1, 2, 3, 4], [1, 4, 9, 16]) == pytest.approx(1.0)


def test_rm2_deepdta_definition():
    y = np.array([5.0, 6.0, 7.0, 8.0, 9.0])
    p = np.array([5.2, 5.9, 7.4, 7.7, 9.1])
    r2 = np.corrcoef(y, p)[0, 1] ** 2
    k = (y * p).sum() / (p * p).sum()
    r02 = 1 - ((y - k * p) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert rm2(y, p) == pytest.approx(r2 * (1 - math.sqrt(abs(r2 * r2 - r02 * r02))))
    assert rm2(y, y) == pytest.approx(1.0)


def test_aupr_average_precision():
    # The classic example: labels 0,0,1,1 with scores .1,.4,.35,.8 -> AP = (1 + 2/3) / 2.
    assert aupr([6.0, 6.0, 8.0, 8.0], [0.1, 0.4, 0.35, 0.8], threshold=7.0) == pytest.approx(0.8333333, rel=1e-6)
    assert aupr([6.0, 8.0], [1.0, 2.0], threshold=7.0) == 1.0
    assert math.isnan(aupr([6.0, 6.5], [1.0, 2.0], threshold=7.0))
    # ties in the score are one threshold: precision at the tie = 1/2
    assert aupr([6.0, 8.0], [1.0, 1.0], threshold=7.0) == pytest.approx(0.5)


def test_evaluate_keys():
    rng = np.random.default_rng(0)
    y = rng.normal(6, 1, 100)
    m = evaluate(y, y + rng.normal(0, 0.3, 100), aupr_threshold=7.0)
    assert set(m) == {"n", "ci", "mse", "pearson", "spearman", "rm2", "aupr"}
    assert m["n"] == 100 and 0.8 < m["ci"] <= 1 and m["mse"] < 0.2
