"""Panels in a model directory: ids + encodings only, refused when corrupt or built with other weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screening_helpers import random_model, random_proteins, write_fasta, write_smi
from genoscreen.common.errors import InputError
from genoscreen.screening import panels
from genoscreen.screening.screen import screen


@pytest.fixture
def model_dir(tiny_model_dir, tmp_path):
    """A private copy of the tiny model directory (panels are written into it)."""
    import shutil

    return shutil.copytree(tiny_model_dir, tmp_path / "model")


@pytest.fixture
def fasta(tmp_path):
    return write_fasta(tmp_path / "targets.fasta", random_proteins(9, seed=2))


def test_panel_round_trip_holds_ids_and_encodings_only(model_dir, fasta, tiny_model):
    from genoscreen.screening.encoding import encode_targets

    model, config = tiny_model
    path = panels.add_panel(model_dir, "kin", fasta)
    assert path == model_dir / "panels" / "kin.npz"
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"format", "target_ids", "encodings", "weights_digest", "source"}
    panel = panels.load_panel(model_dir, "kin", panels.weights_digest(model))
    proteins = random_proteins(9, seed=2)
    assert panel.target_ids == list(proteins)
    np.testing.assert_allclose(panel.encodings, encode_targets(model, config, list(proteins.values())), atol=1e-6)
    assert panels.describe_panels(model_dir) == [("kin", 9, "ok", "targets.fasta")]


def test_screen_with_panel_equals_screen_with_fasta(model_dir, fasta, tmp_path):
    library = write_smi(tmp_path / "lib.smi")
    panels.add_panel(model_dir, "kin", fasta)
    screen(model_dir, library, tmp_path / "a.tsv", targets=fasta, top_k=4)
    screen(model_dir, library, tmp_path / "b.tsv", panel="kin", top_k=4)
    a, b = (pd.read_csv(tmp_path / name, sep="\t") for name in ("a.tsv", "b.tsv"))
    pd.testing.assert_frame_equal(a, b)


def test_existing_panel_needs_force(model_dir, fasta):
    panels.add_panel(model_dir, "kin", fasta)
    with pytest.raises(InputError, match="already exists"):
        panels.add_panel(model_dir, "kin", fasta)
    panels.add_panel(model_dir, "kin", fasta, force=True)


def test_missing_panel_names_the_available_ones(model_dir, fasta):
    panels.add_panel(model_dir, "kin", fasta)
    with pytest.raises(InputError, match=r"no panel 'davis'.*panels: kin"):
        panels.load_panel(model_dir, "davis")


def test_invalid_panel_name(model_dir):
    with pytest.raises(InputError, match="invalid panel name"):
        panels.panel_path(model_dir, "../escape")


def test_corrupt_panel_is_a_clear_error(model_dir, fasta):
    path = panels.add_panel(model_dir, "kin", fasta)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(InputError, match="corrupt panel"):
        panels.load_panel(model_dir, "kin")
    assert panels.describe_panels(model_dir)[0][2].startswith("unreadable")


def test_panel_built_with_other_weights_is_refused(model_dir, fasta, tmp_path):
    from genoscreen.affinity.checkpoint import save_model

    panels.add_panel(model_dir, "kin", fasta)
    other, config = random_model(seed=99)
    save_model(other, config, model_dir)  # retrained weights; the old panel is now stale
    with pytest.raises(InputError, match="other weights"):
        screen(model_dir, write_smi(tmp_path / "lib.smi"), tmp_path / "hits.tsv", panel="kin")
    assert not (tmp_path / "hits.tsv").exists()
    assert panels.describe_panels(model_dir)[0][2].startswith("stale")
