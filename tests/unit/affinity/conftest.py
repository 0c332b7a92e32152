"""Fixtures for the affinity unit tests."""

import pytest

from affinity_tiny import write_tiny_dta  # this folder is on sys.path (pytest rootdir-less import mode)


@pytest.fixture
def tiny_dta(tmp_path):
    return write_tiny_dta(tmp_path / "dta")
