"""Fixtures for the screening tests: a tiny random model directory (helpers in screening_helpers.py)."""

from __future__ import annotations

import pytest

from screening_helpers import random_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from genoscreen.affinity.checkpoint import save_model

    model, config = random_model(seed=3)
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_model(model, config, path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from genoscreen.affinity.checkpoint import load_model

    return load_model(tiny_model_dir)
