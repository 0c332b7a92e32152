"""The one resolver of the shipped models and workflow (genoscreen.common.resources): where it looks, in what order,
and the one error when nothing is there."""

import pytest

from genoscreen.caller.pipeline import default_model_dir
from genoscreen.common import resources
from genoscreen.common.errors import InputError


def test_checkout_models_and_workflow_are_found():
    """In a checkout (no package data), the top-level resources/models and the Snakefile at the root."""
    assert {"caller-wgs-illumina", "dta-davis", "dta-kiba"} <= set(resources.model_names())
    assert default_model_dir() == resources.model_dir("caller-wgs-illumina")
    assert (default_model_dir() / "model.json").is_file()
    assert (resources.workflow_dir() / "workflow" / "rules" / "common.smk").is_file()


def test_package_data_comes_before_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "models" / "dta-davis").mkdir(parents=True)
    monkeypatch.setattr(resources, "PACKAGE_DATA", tmp_path)
    assert resources.model_dir("dta-davis") == tmp_path / "models" / "dta-davis"
    assert resources.workflow_dir() == resources.SOURCE_TREE  # no workflow/ in the package data: the checkout's


def test_the_setting_is_the_only_place_looked_in(tmp_path, monkeypatch):
    (tmp_path / "models" / "mine").mkdir(parents=True)
    monkeypatch.setenv(resources.ENV, str(tmp_path))
    assert resources.model_names() == ["mine"]
    with pytest.raises(InputError, match=r"no shipped model named 'caller-wgs-illumina' .* shipped models: mine"):
        default_model_dir()
    with pytest.raises(InputError, match=rf"workflow \(Snakefile\) not found .*; fix {resources.ENV} or unset it"):
        resources.workflow_dir()


def test_nothing_found_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "PACKAGE_DATA", tmp_path / "none")
    monkeypatch.setattr(resources, "SOURCE_TREE", tmp_path / "none")
    with pytest.raises(InputError, match=rf"shipped models not found .*reinstall genoscreen .* or set {resources.ENV}"):
        resources.models_dir()


def test_a_model_argument_is_a_folder_or_a_shipped_name(tmp_path, monkeypatch):
    assert resources.find_model("dta-davis") == resources.model_dir("dta-davis")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dta-davis").mkdir()
    assert resources.find_model("dta-davis") == tmp_path.joinpath("dta-davis").relative_to(tmp_path)  # as given
    for given in ("no-such-model", "sub/dta-kiba"):
        assert str(resources.find_model(given)) == given  # left for the caller's own "not a model" error
