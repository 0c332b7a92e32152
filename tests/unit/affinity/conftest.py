"""Fixtures for the affinity unit tests."""

import pytest

from tests.unit.affinity.affinity_tiny import write_tiny_dta


@pytest.fixture
def tiny_dta(tmp_path):
    return write_tiny_dta(tmp_path / "dta")
