"""Screening real DeepDTA inputs (../shared/data/dta): KIBA compounds × Davis kinases, equal to the per-pair path."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "screening"))
from screening_helpers import per_pair_predictions, random_model  # noqa: E402

SHIPPED_DAVIS = Path(__file__).resolve().parents[3] / "resources" / "models" / "dta-davis"


def _subset(shared, tmp_path, n_compounds: int, n_targets: int):
    from genoscreen.affinity.io.proteins import read_targets

    drugs = pd.read_csv(shared("dta", "kiba", "drugs.tsv"), sep="\t").head(n_compounds)
    library = tmp_path / "library.tsv"
    drugs.to_csv(library, sep="\t", index=False)
    targets = dict(list(read_targets(shared("dta", "davis", "targets.fasta")).items())[:n_targets])
    fasta = tmp_path / "targets.fasta"
    fasta.write_text("".join(f">{k}\n{v}\n" for k, v in targets.items()))
    return drugs, library, targets, fasta


def _matrix(table: pd.DataFrame, compound_ids, target_ids) -> np.ndarray:
    return table.pivot(index="compound_id", columns="target_id", values="prediction").loc[compound_ids, target_ids].to_numpy()


def test_kiba_compounds_by_davis_targets_equal_per_pair_path(shared, tmp_path):
    from genoscreen.affinity.checkpoint import save_model
    from genoscreen.screening.screen import screen

    drugs, library, targets, fasta = _subset(shared, tmp_path, 40, 12)
    model, config = random_model(seed=11)
    save_model(model, config, tmp_path / "model")
    summary = screen(tmp_path / "model", library, tmp_path / "hits.tsv", targets=fasta)
    assert summary.invalid == 0 and summary.pairs == 40 * 12
    assert pd.read_csv(summary.errors_path, sep="\t").empty
    table = pd.read_csv(tmp_path / "hits.tsv", sep="\t")
    expected = per_pair_predictions(model, config, drugs["smiles"].tolist(), list(targets.values()))
    np.testing.assert_allclose(_matrix(table, drugs["drug_id"].tolist(), list(targets)), expected, atol=1e-5)


@pytest.mark.skipif(not (SHIPPED_DAVIS / "weights.safetensors").exists(), reason="shipped dta-davis weights not present")
def test_shipped_davis_panel_screens_the_442_kinases(shared, tmp_path):
    from genoscreen.affinity.checkpoint import load_model
    from genoscreen.screening import panels
    from genoscreen.screening.screen import screen

    (name, n_targets, status, _), *_ = [row for row in panels.describe_panels(SHIPPED_DAVIS) if row[0] == "davis"]
    assert (n_targets, status) == (442, "ok")
    from genoscreen.affinity.io.proteins import read_targets
    from genoscreen.affinity.mutants import build_mutants

    drugs, library, targets, _ = _subset(shared, tmp_path, 4, 6)
    # the panel holds the targets the model was trained on: the Davis file's, its mutants rebuilt from their names
    rebuilt, _ = build_mutants(read_targets(shared("dta", "davis", "targets.fasta")))
    targets = {name: rebuilt[name] for name in targets}
    summary = screen(SHIPPED_DAVIS, library, tmp_path / "hits.tsv", panel="davis", top_k=442)
    assert summary.pairs == 4 * 442
    table = pd.read_csv(tmp_path / "hits.tsv", sep="\t")
    model, config = load_model(SHIPPED_DAVIS)
    expected = per_pair_predictions(model, config, drugs["smiles"].tolist(), list(targets.values()))
    np.testing.assert_allclose(_matrix(table, drugs["drug_id"].tolist(), list(targets)), expected, atol=1e-4)
