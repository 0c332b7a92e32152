"""Shared fixtures: the real data in ../shared (skipped with a reason when absent) and tiny generated inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GENOSCREEN_SHARED", ROOT.parent / "shared")) / "data"


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared real data set); absent on this machine")
    return path


@pytest.fixture
def shared():
    return shared_path
