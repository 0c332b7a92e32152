"""Fixtures for the caller tests: synthetic examples folders and a tiny trained model (test preset)."""

from __future__ import annotations

import pytest

from genoscreen.variants.pileup_config import PRESETS as PILEUPS
from tests.unit.caller.synthetic import make_examples_dir


@pytest.fixture(scope="session")
def test_pileup():
    return PILEUPS["test"]


@pytest.fixture(scope="session")
def synthetic_sets(tmp_path_factory, test_pileup):
    """(train, val) labelled examples folders in make-examples' format."""
    root = tmp_path_factory.mktemp("examples")
    train = make_examples_dir(root / "train", test_pileup, n=160, seed=1)
    val = make_examples_dir(root / "val", test_pileup, n=64, seed=2)
    return train, val


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory, synthetic_sets):
    """A test-preset model trained for a few epochs on the synthetic set (shared by several tests)."""
    from genoscreen.caller.configs import PRESETS
    from genoscreen.caller.train import train_and_evaluate
    from genoscreen.common.config import override

    train, val = synthetic_sets
    out = tmp_path_factory.mktemp("model") / "model"
    history = train_and_evaluate(override(PRESETS["test"], ["train.epochs=6"]), [train], out, [val])
    return out, history
