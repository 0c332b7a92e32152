"""Where the shipped models and the workflow files are, installed or in a checkout: the one place that knows.

A wheel carries them inside the package, as genoscreen/_resources/models/<name>/ and genoscreen/_resources/workflow/
(Snakefile, workflow/, config/, profiles/, envs/; setup.py copies them there at build time). A checkout (and an
editable install) has them at the top of the repository: resources/models/<name>/, and the workflow at the root.
The environment variable GENOSCREEN_RESOURCES names a folder laid out like genoscreen/_resources (models/<name>/,
optionally workflow/) and, when set, is the only place looked in.
"""

from __future__ import annotations

import os
from pathlib import Path

from genoscreen.common.errors import InputError

ENV = "GENOSCREEN_RESOURCES"
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "_resources"  # genoscreen/_resources of an installed wheel
SOURCE_TREE = Path(__file__).resolve().parents[3]  # the repository root, when running from a checkout


def _places() -> list[tuple[Path, Path]]:
    """(models folder, workflow folder) of each place to look, in order."""
    if os.environ.get(ENV):
        root = Path(os.environ[ENV]).expanduser()
        return [(root / "models", root / "workflow")]
    return [(PACKAGE_DATA / "models", PACKAGE_DATA / "workflow"), (SOURCE_TREE / "resources" / "models", SOURCE_TREE)]


def _not_found(what: str, looked: list[Path]) -> InputError:
    where = ", ".join(str(p) for p in looked)
    fix = (f"fix {ENV} or unset it" if os.environ.get(ENV) else
           f"reinstall genoscreen (pip install .) or set {ENV} to a folder with models/<name>/ and workflow/")
    return InputError(f"the shipped {what} not found (looked in {where}); {fix}")


def models_dir() -> Path:
    """The folder of the shipped models (one sub-folder per model)."""
    looked = [models for models, _ in _places()]
    for folder in looked:
        if folder.is_dir():
            return folder
    raise _not_found("models", looked)


def model_names() -> list[str]:
    """The names of the shipped models, e.g. ['caller-wgs-illumina', 'dta-davis', 'dta-kiba']."""
    return sorted(p.name for p in models_dir().iterdir() if p.is_dir())


def model_dir(name: str) -> Path:
    """The shipped model `name` (e.g. 'caller-wgs-illumina', 'dta-davis')."""
    folder = models_dir() / name
    if not folder.is_dir():
        raise InputError(f"no shipped model named {name!r} in {models_dir()}; the shipped models: "
                         f"{', '.join(model_names()) or 'none'}")
    return folder


def find_model(model: str | Path) -> Path:
    """A --model argument: an existing folder as given, else the name of a shipped model (`screen --model dta-davis`)."""
    path = Path(model)
    if path.exists() or len(path.parts) != 1:
        return path
    try:
        return model_dir(path.name)
    except InputError:
        return path  # the caller's own error names the folder as given


def workflow_dir() -> Path:
    """The folder holding the Snakefile (with workflow/, config/, profiles/ and envs/ beside it)."""
    looked = [workflow for _, workflow in _places()]
    for folder in looked:
        if (folder / "Snakefile").is_file():
            return folder
    raise _not_found("workflow (Snakefile)", looked)
