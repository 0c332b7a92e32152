"""Affinity metrics: exact concordance index, MSE, Pearson, Spearman, DeepDTA's r_m^2, AUPR at a label threshold.

The concordance index counts *every* comparable pair (DeepDTA's evaluation scored only part of them): pairs tied
in the label are not comparable, prediction ties count 0.5. It is exact and O(n log n) (Kendall's tau-b from scipy,
a merge-sort count of discordant pairs), fine for millions of pairs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import kendalltau, rankdata

METRIC_NAMES = ("n", "ci", "mse", "pearson", "spearman", "rm2", "aupr")


def _dense_ranks(x: np.ndarray) -> np.ndarray:
    return np.unique(x, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _tied_pairs(codes: np.ndarray) -> int:
    counts = np.unique(codes, return_counts=True)[1].astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def concordance_index(labels, predictions) -> float:
    """Exact CI over all pairs with different labels; prediction ties count 0.5. NaN if no comparable pair.

    With C comparable pairs (labels differ), P concordant, Q discordant and T tied in the prediction only,
    CI = (P + T/2) / C = 1/2 + (P - Q) / 2C. P - Q is Kendall's tau-b times sqrt(C (N - pairs tied in the
    prediction)); scipy counts it exactly with a merge sort in O(n log n), so the rounded product is the integer.
    """
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    p = np.asarray(predictions, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise ValueError("labels and predictions differ in length")
    n = len(y)
    total = n * (n - 1) // 2
    ry, rp = _dense_ranks(y), _dense_ranks(p)
    comparable = total - _tied_pairs(ry)
    if comparable == 0:
        return float("nan")
    untied_pred = total - _tied_pairs(rp)
    if untied_pred == 0:
        return 0.5
    tau = kendalltau(ry, rp, variant="b").statistic
    p_minus_q = round(float(tau) * math.sqrt(comparable) * math.sqrt(untied_pred))
    return 0.5 + p_minus_q / (2 * comparable)


def pearson(y, p) -> float:
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) < 2 or y.std() == 0 or p.std() == 0:
        return float("nan")
    return float(np.corrcoef(y, p)[0, 1])


def spearman(y, p) -> float:
    """Pearson correlation of the average ranks (ties share their mean rank)."""
    return pearson(rankdata(y), rankdata(p))


def rm2(y, p) -> float:
    """DeepDTA's r_m^2 (emetrics.get_rm2): r^2 * (1 - sqrt(|r^2^2 - r0^2^2|)), r0^2 through the origin."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    r = pearson(y, p)
    if math.isnan(r) or not np.any(p):
        return float("nan")
    r2 = r * r
    k = float(np.sum(y * p) / np.sum(p * p))
    r02 = 1.0 - float(np.sum((y - k * p) ** 2) / np.sum((y - y.mean()) ** 2))
    return r2 * (1.0 - math.sqrt(abs(r2 * r2 - r02 * r02)))


def aupr(y, p, threshold: float) -> float:
    """Average precision (area under the precision-recall curve) for the classes label >= threshold."""
    positive = np.asarray(y, float) >= threshold
    p = np.asarray(p, float)
    n_pos = int(positive.sum())
    if n_pos == 0 or n_pos == len(p):
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    p_sorted, pos_sorted = p[order], positive[order]
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    tp = np.cumsum(pos_sorted)[last_of_tie]
    total = np.flatnonzero(last_of_tie) + 1
    precision = tp / total
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def evaluate(labels, predictions, aupr_threshold: float) -> dict[str, float]:
    """All item-5 metrics as a dict (n, ci, mse, pearson, spearman, rm2, aupr)."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(predictions, dtype=np.float64)
    return {
        "n": int(len(y)),
        "ci": concordance_index(y, p),
        "mse": float(np.mean((y - p) ** 2)),
        "pearson": pearson(y, p),
        "spearman": spearman(y, p),
        "rm2": rm2(y, p),
        "aupr": aupr(y, p, aupr_threshold),
    }
