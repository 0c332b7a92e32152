"""Fixtures for the screening tests: a tiny random model directory (helpers in screening_helpers.py)."""

from __future__ import annotations

import pytest

from screening_helpers import random_model_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return random_model_dir(tmp_path_factory.mktemp("models") / "tiny", seed=3)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from genoscreen.affinity.checkpoint import load_model

    return load_model(tiny_model_dir)
