"""JSON round trips of frozen config dataclasses: tuples are written as lists and read back as tuples."""

from __future__ import annotations

import dataclasses


def to_json_dict(config) -> dict:
    """dataclasses.asdict with tuple fields as lists, so the dict equals its own JSON round trip."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def from_json_dict(cls, data: dict):
    """Build `cls` from a dict read from JSON, turning the lists of tuple-typed fields back into tuples."""
    values = dict(data)
    for field in dataclasses.fields(cls):
        if str(field.type).startswith("tuple") and isinstance(values.get(field.name), list):
            values[field.name] = tuple(values[field.name])
    return cls(**values)
