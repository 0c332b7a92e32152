import pytest

from tests.unit.variants.synth import make_dataset


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """The synthetic genome, BAM and truth (built once per test session)."""
    return make_dataset(tmp_path_factory.mktemp("synth"))
