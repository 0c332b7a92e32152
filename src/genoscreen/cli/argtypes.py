"""argparse `type=` checks for numeric flags: a value out of range is one usage error (exit 2) at the CLI boundary,
not a ValueError traceback from deep in the library."""

from __future__ import annotations

import argparse


def _number(kind, text: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None


def positive_int(text: str) -> int:
    value = _number(int, text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value}: must be 0 or more")
    return value


def positive_float(text: str) -> float:
    value = _number(float, text)
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{value}: must be greater than 0")
    return value


def unit_fraction(text: str) -> float:
    value = _number(float, text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value}: must be between 0 and 1")
    return value
