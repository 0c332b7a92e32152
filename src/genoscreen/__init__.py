"""genoscreen: germline variant calling with a pileup CNN and drug-target affinity screening (JAX/Flax).

The functions the CLI runs, for use from Python (imported on first use, so `import genoscreen` stays fast):

- `call(bam, ref, out, regions=..., ...)`: `genoscreen call`; writes the VCF `out`, returns a summary dict.
- `screen(model, compounds, out, panel=... | targets=..., top_k=...)`: `genoscreen screen`; writes the hits table
  `out`, returns a `ScreenSummary` (its `.out` is the table's path: read it with pandas).
- `predict(model, drugs, targets, pairs, out=None)`: `genoscreen affinity predict`; returns a pandas DataFrame
  (drug_id, target_id, prediction), also written to `out` when given.

A model is a folder or a shipped model's name: 'caller-wgs-illumina' (the default of `call`), 'dta-bindingdb'
(the default of the `screen` and `affinity predict` commands), 'dta-davis', 'dta-kiba'.
"""

__version__ = "0.1.0"

__all__ = ["call", "predict", "screen"]

_API = {  # name: (module, function)
    "call": ("genoscreen.caller.pipeline", "call"),
    "screen": ("genoscreen.screening.screen", "screen"),
    "predict": ("genoscreen.affinity.predict", "predict_pairs"),
}


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'genoscreen' has no attribute {name!r}")
    import importlib

    module, function = _API[name]
    value = getattr(importlib.import_module(module), function)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
