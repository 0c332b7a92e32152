"""Calibrated genotype probabilities: GQ and QUAL as Phred-scaled empirical error rates.

The network is trained with label smoothing, so its softmax is capped (a clean hom-alt call gets GQ ~20) and its
confidence is not an error rate. A calibration maps the model's 3-class probabilities p (0, 1, 2 copies of the
example's alt) to softmax(log(max(p, FLOOR)) / T + b): temperature scaling (b = 0, keeps every call, monotone in
the log-odds) or temperature scaling with a per-class bias (b[0] = 0; may move calls near a class boundary); and
`temperature+mix` mixes the tempered probabilities with the uniform one, (1 - m) softmax(log p / T) + m / 3: an error
floor (GQ and QUAL at most about -10 log10(2m/3)), for a network that is right at any confidence except a fixed share
of sites it cannot see (label noise, pileups that look clean and are not), where no temperature fits both the
uncertain calls and the sure ones. It keeps every call. Since
the exported forward pass is softmax(logits), log p / T is the logits / T up to a constant: exact temperature scaling.

It is fitted by minimising the negative log-likelihood of labelled examples (make-examples --truth) of raw model
probabilities, stored in MODEL_DIR/model.json under "calibration" and applied in numpy by
`predictor.Predictor` after the forward pass, so `call-variants`, `call` and everything else that goes through the
Predictor gets calibrated probabilities; the weights and the export are untouched.

Fitting a model's calibration from examples folders is calibrate.py (`calibrate-caller`); this module is the
transform, its fit on arrays, and the measurement. `reliability_table` is the one measurement of calibration (used by `calibrate-caller`, bench/calibration.py and
the tests): per stated-quality bin, the observed error rate as Phred, against the stated value.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from genoscreen.caller.model_dir import MODEL_JSON, WEIGHTS, weights_digest
from genoscreen.caller.postprocess import MAX_GQ
from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)

KEY = "calibration"
METHODS = ("temperature", "temperature+bias", "temperature+mix")
MIX_BOUNDS = (1e-7, 0.3)
FLOOR = 1e-8  # log(p) is taken of max(p, FLOOR)
T_BOUNDS = (0.02, 20.0)
# Bins of stated quality (inclusive edges): 5 wide up to 40, where calibration is required, then coarser.
BINS = ((0, 4), (5, 9), (10, 14), (15, 19), (20, 24), (25, 29), (30, 34), (35, 39), (40, 49), (50, 99))
TOLERANCE = 3.0  # Phred
PSEUDO_COUNT = 0.5  # errors assumed in a bin with none, for its observed Phred
FIX = "refit it with `genoscreen calibrate-caller`, or delete the \"calibration\" entry"


@dataclasses.dataclass(frozen=True)
class Calibration:
    """probs -> (1 - mix) softmax(log(max(probs, FLOOR)) / temperature + bias) + mix / 3, row by row."""

    method: str = "temperature"
    temperature: float = 1.0
    bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mix: float = 0.0

    def apply(self, probs: np.ndarray) -> np.ndarray:
        probs = np.asarray(probs)
        logits = np.log(np.maximum(probs.astype(np.float64), FLOOR)) / self.temperature + np.asarray(self.bias)
        logits -= logits.max(axis=-1, keepdims=True)
        out = np.exp(logits)
        out /= out.sum(axis=-1, keepdims=True)
        if self.mix:
            out = (1.0 - self.mix) * out + self.mix / out.shape[-1]
        return out.astype(probs.dtype if probs.dtype.kind == "f" else np.float32)

    def describe(self) -> str:
        """One line for provenance (a VCF header, a PROBS file's meta)."""
        bias = "" if self.method != "temperature+bias" else f" bias={','.join(f'{b:.4g}' for b in self.bias)}"
        mix = f" mix={self.mix:.4g}" if self.method == "temperature+mix" else ""
        return f"{self.method} T={self.temperature:.4g}{bias}{mix}"

    @classmethod
    def from_entry(cls, entry, where: str | Path) -> "Calibration":
        """The calibration of a model.json entry, or an InputError naming the file and the fix."""
        try:
            if not isinstance(entry, dict):
                raise ValueError(f"expected an object, got {type(entry).__name__}")
            method = entry.get("method")
            if method not in METHODS:
                raise ValueError(f"method {method!r}, expected one of {list(METHODS)}")
            temperature = float(entry["temperature"])
            if not math.isfinite(temperature) or temperature <= 0:
                raise ValueError(f"temperature {temperature!r} must be a positive number")
            bias = tuple(float(b) for b in entry.get("bias", (0.0, 0.0, 0.0)))
            if len(bias) != 3 or not all(math.isfinite(b) for b in bias):
                raise ValueError(f"bias {entry.get('bias')!r} must be 3 finite numbers")
            if method != "temperature+bias" and any(bias):
                raise ValueError(f"method {method!r} with a non-zero bias {list(bias)}")
            mix = float(entry.get("mix", 0.0))
            if not (0.0 <= mix < 1.0) or (method != "temperature+mix" and mix):
                raise ValueError(f"mix {entry.get('mix')!r} must be in [0, 1), and 0 unless the method is "
                                 "'temperature+mix'")
        except (KeyError, TypeError, ValueError) as err:
            detail = f"missing {err}" if isinstance(err, KeyError) else str(err)
            raise InputError(f"{where}: malformed \"{KEY}\" entry ({detail}); {FIX}") from None
        return cls(method, temperature, bias, mix)


def from_model_info(info: dict, model_dir: str | Path, digest: str | None = None) -> Calibration | None:
    """The model's calibration (None when model.json has none); checks that it was fitted for these weights
    (`digest`: their SHA-256 when the caller has it already)."""
    if KEY not in info:
        return None
    where = Path(model_dir) / MODEL_JSON
    calibration = Calibration.from_entry(info[KEY], where)
    fitted_for = info[KEY].get("weights_sha256")
    if fitted_for is not None and (Path(model_dir) / WEIGHTS).exists() and \
            fitted_for != (digest or weights_digest(model_dir)):
        raise InputError(f"{where}: the \"{KEY}\" entry was fitted for other weights; {FIX}")
    return calibration


# ---- fitting -------------------------------------------------------------------------------------------------


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (nats) of the labels, probabilities floored at FLOOR."""
    picked = np.asarray(probs, np.float64)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(picked, FLOOR))))


def fit(probs: np.ndarray, labels: np.ndarray, method: str = "temperature") -> Calibration:
    """The calibration of `method` that minimises the NLL of `labels` (0/1/2) under calibrated `probs` [n, 3]."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    if method not in METHODS:
        raise InputError(f"--method {method}: expected one of {', '.join(METHODS)}")
    probs, labels = np.asarray(probs, np.float64), np.asarray(labels, np.int64)
    if len(labels) == 0:
        raise InputError("no labelled examples to fit a calibration on")
    z = np.log(np.maximum(probs, FLOOR))
    picked = z[np.arange(len(labels)), labels]
    with_bias = method == "temperature+bias"
    if method == "temperature+mix":
        return _fit_mix(z, labels)

    def objective(x):
        inv_t = math.exp(-x[0])
        bias = np.array([0.0, x[1], x[2]]) if with_bias else np.zeros(3)
        logits = z * inv_t + bias
        lse = logsumexp(logits, axis=1)
        soft = np.exp(logits - lse[:, None])
        value = np.mean(lse - (picked * inv_t + bias[labels]))
        # d/d(log T): d(logits)/d(log T) = -z / T
        dz = -(z * inv_t)
        grad_t = np.mean(np.sum(soft * dz, axis=1) - dz[np.arange(len(labels)), labels])
        if not with_bias:
            return value, np.array([grad_t])
        counts = np.bincount(labels, minlength=3) / len(labels)
        grad_b = soft.mean(axis=0) - counts
        return value, np.array([grad_t, grad_b[1], grad_b[2]])

    bounds = [tuple(math.log(b) for b in T_BOUNDS)] + ([(-20.0, 20.0)] * 2 if with_bias else [])
    x0 = np.zeros(3 if with_bias else 1)
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    temperature = math.exp(float(result.x[0]))
    if not result.success:
        log.warning("calibration fit did not converge (%s); using its last estimate", result.message)
    if min(abs(temperature - b) / b for b in T_BOUNDS) < 1e-3:
        log.warning("fitted temperature %.3g is at its bound %s: too few errors among the examples to fit it",
                    temperature, T_BOUNDS)
    bias = (0.0, float(result.x[1]), float(result.x[2])) if with_bias else (0.0, 0.0, 0.0)
    return Calibration(method, temperature, bias)


def _fit_mix(z: np.ndarray, labels: np.ndarray) -> Calibration:
    """temperature+mix: (log T, log mix) minimising the NLL, from the temperature-only fit and a 1e-3 mix."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    rows = np.arange(len(labels))

    def objective(x):
        mix = math.exp(x[1])
        picked = np.exp(log_softmax(z * math.exp(-x[0]), axis=1)[rows, labels])
        return float(-np.mean(np.log((1.0 - mix) * picked + mix / 3.0)))

    start = fit(np.exp(z), labels, "temperature").temperature
    bounds = [tuple(math.log(b) for b in T_BOUNDS), tuple(math.log(b) for b in MIX_BOUNDS)]
    result = minimize(objective, np.array([math.log(start), math.log(1e-3)]), method="L-BFGS-B", bounds=bounds)
    if not result.success:
        log.warning("calibration fit did not converge (%s); using its last estimate", result.message)
    temperature, mix = math.exp(float(result.x[0])), math.exp(float(result.x[1]))
    if abs(math.log(mix) - bounds[1][0]) < 1e-3:
        log.warning("fitted mix %.3g is at its lower bound: no error floor among the examples; use temperature", mix)
    return Calibration("temperature+mix", temperature, (0.0, 0.0, 0.0), mix)


# ---- measuring -----------------------------------------------------------------------------------------------


def phred(error: np.ndarray) -> np.ndarray:
    return -10.0 * np.log10(np.maximum(np.asarray(error, np.float64), 1e-30))


def gq(probs: np.ndarray) -> np.ndarray:
    """Per example GQ = min(99, round(phred(1 - max p))), 1 - max p summed from the other classes (no
    cancellation)."""
    probs = np.asarray(probs, np.float64)
    error = probs.sum(axis=1) - probs.max(axis=1)
    return np.minimum(MAX_GQ, np.round(phred(error / probs.sum(axis=1)))).astype(int)


def qual(probs: np.ndarray) -> np.ndarray:
    """Per example QUAL = min(99, round(phred(p(0 copies))))."""
    probs = np.asarray(probs, np.float64)
    return np.minimum(MAX_GQ, np.round(phred(probs[:, 0] / probs.sum(axis=1)))).astype(int)


def reliability_table(probs: np.ndarray, labels: np.ndarray, kind: str = "GQ",
                      bins: Sequence[tuple[int, int]] = BINS) -> list[dict]:
    """Stated vs observed quality per bin of stated quality (empty bins left out).

    kind "GQ": stated = `gq(probs)`, an error is argmax != label. kind "QUAL": stated = `qual(probs)`, an error is
    a label of 0 (the example's alt is not there). Observed = phred(errors / n); a bin with no errors gets
    phred(PSEUDO_COUNT / n) and `zero_errors` true. `within` is |observed - stated| <= TOLERANCE (the point
    estimate). `ci` is the 95% Clopper-Pearson interval of the observed Phred (no upper end with 0 errors);
    `ci_ok` says whether it meets the stated ± TOLERANCE band, i.e. the bin's counts do not contradict the stated
    value (a bin of few examples, or with 0 errors, is `ci_ok` unless it is clearly off).
    """
    from scipy.stats import beta

    labels = np.asarray(labels)
    if kind == "GQ":
        stated, errors = gq(probs), np.asarray(probs).argmax(axis=1) != labels
    elif kind == "QUAL":
        stated, errors = qual(probs), labels == 0
    else:
        raise ValueError(f"kind {kind!r}: expected GQ or QUAL")
    rows = []
    for lo, hi in bins:
        inside = (stated >= lo) & (stated <= hi)
        n = int(inside.sum())
        if n == 0:
            continue
        e = int(errors[inside].sum())
        observed = float(phred((e if e else PSEUDO_COUNT) / n))
        rate_hi = float(beta.ppf(0.975, e + 1, n - e))
        rate_lo = float(beta.ppf(0.025, e, n - e + 1)) if e else 0.0
        mean_stated = float(stated[inside].mean())
        ci = (float(phred(rate_hi)), math.inf if e == 0 else float(phred(rate_lo)))
        rows.append({
            "bin": f"{lo}-{hi}", "n": n, "errors": e, "stated": round(mean_stated, 2),
            "observed": round(observed, 2), "zero_errors": e == 0,
            "ci": [round(ci[0], 2), None if e == 0 else round(ci[1], 2)],
            "diff": round(observed - mean_stated, 2), "within": bool(abs(observed - mean_stated) <= TOLERANCE),
            "ci_ok": bool(ci[0] <= mean_stated + TOLERANCE and ci[1] >= mean_stated - TOLERANCE),
        })
    return rows


def report(probs: np.ndarray, labels: np.ndarray) -> dict:
    """The GQ and QUAL tables plus the overall NLL and accuracy of `probs` against `labels`."""
    return {"n": int(len(labels)), "nll": round(nll(probs, labels), 6),
            "accuracy": round(float(np.mean(np.asarray(probs).argmax(axis=1) == labels)), 6),
            "GQ": reliability_table(probs, labels, "GQ"), "QUAL": reliability_table(probs, labels, "QUAL")}


def format_table(rows: list[dict], kind: str = "GQ", markdown: bool = False) -> list[str]:
    """Text (or Markdown, for a model card) lines of a reliability table; '*' marks a 0-error bin (observed
    from a 0.5 pseudo-count error; its CI has no upper end)."""
    head = [f"{kind} bin", "n", "errors", f"stated {kind}", "observed", "95% CI", "diff", f"within ±{TOLERANCE:g}",
            "CI meets ±3"]
    body = []
    for r in rows:
        lo, hi = r["ci"]
        ci = f"{lo:.1f}-{'inf' if hi is None else f'{hi:.1f}'}"
        body.append([r["bin"], str(r["n"]), str(r["errors"]), f"{r['stated']:.1f}",
                     f"{r['observed']:.1f}{'*' if r['zero_errors'] else ''}", ci, f"{r['diff']:+.1f}",
                     "yes" if r["within"] else "NO", "yes" if r["ci_ok"] else "NO"])
    if markdown:
        return [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}"] + [f"| {' | '.join(b)} |" for b in body]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    return ["  ".join(x.rjust(w) for x, w in zip(line, widths)) for line in [head, *body]]


def calibration_card_lines(info: dict, bench: dict | None = None) -> list[str]:
    """Model-card Markdown: the calibration in model.json (`info`) and the held-out reliability tables of
    bench/calibration.py's JSON (`bench`, optional)."""
    entry = info.get(KEY)
    if entry is None:
        lines = ["No calibration: GQ and QUAL are the network's softmax probabilities as Phred (the network was "
                 "trained with label smoothing, so they are capped)."]
    else:
        calibration = Calibration.from_entry(entry, MODEL_JSON)
        form = {"temperature": "softmax(log p / T)", "temperature+bias": "softmax(log p / T + bias)",
                "temperature+mix": "(1 - mix) softmax(log p / T) + mix / 3"}[calibration.method]
        lines = [f"`genoscreen calibrate-caller`: {calibration.describe()} (probabilities -> {form}), fitted by NLL on "
                 f"{entry.get('n_examples')} labelled examples of {', '.join(map(str, entry.get('fitted_on') or []))};"
                 f" NLL {entry.get('nll_before')} -> {entry.get('nll_after')} on them. Applied after the forward "
                 "pass by every `call`/`call-variants`."]
    if not bench:
        return lines + ["", "No held-out reliability table was measured."]
    pooled, raw = bench.get("pooled") or {}, bench.get("pooled_raw")
    stated = "uncalibrated" if bench.get("raw") or not bench.get("calibration") else "calibrated"
    if entry is not None and bench.get("calibration") and bench["calibration"] != entry:
        lines += ["", "**The table below was measured with another calibration than this model's.**"]
    lines += ["", f"Reliability on {pooled.get('n')} labelled examples of {', '.join(bench.get('scored', []))} "
              f"(bench/calibration.py{'; IN-SAMPLE for the calibration' if bench.get('in_sample') else ''}): "
              f"per bin of stated quality, observed Phred = -10 log10(errors / n), '*' = no errors (0.5 errors "
              f"assumed), 95% Clopper-Pearson interval; the requirement is ±{TOLERANCE:g} up to GQ 40.", "",
              f"GQ ({stated}; error = called genotype != truth), NLL {pooled.get('nll')}:", "",
              *format_table(pooled.get("GQ", []), "GQ", markdown=True)]
    if raw:
        lines += ["", f"GQ of the same examples, uncalibrated, NLL {raw.get('nll')}:", "",
                  *format_table(raw.get("GQ", []), "GQ", markdown=True)]
    lines += ["", f"QUAL ({stated}; error = the example's alt is not in the truth):", "",
              *format_table(pooled.get("QUAL", []), "QUAL", markdown=True)]
    return lines


def reliability_plot(tables: dict[str, list[dict]], path: str | Path, title: str = "") -> Path:
    """PNG of stated vs observed Phred per bin (95% CI bars; open markers: 0-error bins) with the ±3 band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = 60
    fig, ax = plt.subplots(figsize=(5.5, 5))
    grid = np.array([0, top])
    ax.fill_between(grid, grid - TOLERANCE, grid + TOLERANCE, color="0.85", label=f"±{TOLERANCE:g} Phred")
    ax.plot(grid, grid, color="0.4", lw=1)
    for (name, rows), color in zip(tables.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        x = np.array([r["stated"] for r in rows])
        y = np.array([r["observed"] for r in rows])
        lo = np.array([r["ci"][0] for r in rows])
        hi = np.array([top if r["ci"][1] is None else r["ci"][1] for r in rows])
        zero = np.array([r["zero_errors"] for r in rows], bool)
        ax.errorbar(x, y, yerr=[np.maximum(y - lo, 0), np.maximum(hi - y, 0)], fmt="none", ecolor=color, alpha=0.5)
        ax.plot(x[~zero], y[~zero], "o", color=color, label=name)
        ax.plot(x[zero], y[zero], "o", mfc="none", color=color)
    ax.plot([], [], "o", mfc="none", color="0.3", label="0 errors (0.5 pseudo-count)")
    ax.axvline(40, color="0.6", ls=":", lw=1)
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="stated quality (mean per bin)", ylabel="observed Phred",
           title=title or "reliability")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
