"""Integrated gradients of the affinity model (`genoscreen explain affinity`) on a tiny random model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screening_helpers import SMILES, random_proteins, write_fasta


def test_attributions_are_complete_and_map_to_atoms(tiny_model):
    from genoscreen.affinity.explain import explain_pairs

    model, config = tiny_model
    proteins = random_proteins(2, seed=4)
    smiles = [SMILES[9], "Clc1ccccc1", "C[C@@H](N)C(=O)[O-].[Na+]"]
    ex = explain_pairs(model, config, ["imatinib", "chlorobenzene", "alanine"], smiles, ["T000"] * 3,
                       [proteins["T000"]] * 3, steps=256, batch=2)
    import jax.numpy as jnp

    from genoscreen.affinity.featurize import encode_proteins, encode_smiles

    d, _ = encode_smiles(smiles, config.max_drug_len)
    t, _ = encode_proteins([proteins["T000"]] * 3, config.max_target_len)
    direct = np.asarray(model(jnp.asarray(d), jnp.asarray(t)))
    for e, f in zip(ex, direct):
        assert e.prediction == pytest.approx(float(f), abs=1e-5)  # the model's own prediction
        assert e.completeness_error < 0.01  # Σ attributions = f(x) - f(baseline) within 1%
        per_atom, structure = e.atoms()
        assert sum(per_atom) + structure == pytest.approx(float(e.drug.sum()), abs=1e-6)
    chloro = ex[1]
    assert chloro.smiles == "Clc1ccccc1" and len(chloro.atoms()[0]) == 7  # 'Cl' is one atom of two characters
    assert chloro.atoms()[0][0] == pytest.approx(float(chloro.drug[:2].sum()), abs=1e-7)
    assert ex[2].smiles == "C[C@@H](N)C(=O)O"  # standardised: the salt's sodium and the charge are gone


def test_explain_affinity_command(tiny_model_dir, tmp_path, capsys):
    from genoscreen.cli import main

    proteins = random_proteins(2, seed=4)
    fasta = write_fasta(tmp_path / "t.fasta", proteins)
    lib = tmp_path / "lib.smi"
    lib.write_text(f"{SMILES[9]} imatinib\n{SMILES[0]} aspirin\nC1CC( broken\n")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("drug_id\ttarget_id\nimatinib\tT000\naspirin\tT001\nbroken\tT000\n")
    out = tmp_path / "explained"
    assert main(["explain", "affinity", "--model", str(tiny_model_dir), "--drugs", str(lib), "--targets", str(fasta),
                 "--pairs", str(pairs), "--out", str(out), "--steps", "64"]) == 0
    summary = pd.read_csv(out / "pairs.tsv", sep="\t")
    assert summary["drug_id"].tolist() == ["imatinib", "aspirin"]  # the invalid drug's pair skipped
    assert (out / summary["image"].iloc[0]).stat().st_size > 1000
    atoms = pd.read_csv(out / "atoms.tsv", sep="\t")
    residues = pd.read_csv(out / "residues.tsv", sep="\t")
    assert len(atoms[atoms["drug_id"] == "aspirin"]) == 13 and set(atoms["element"]) >= {"C", "O", "N"}
    assert len(residues[residues["target_id"] == "T001"]) == len(proteins["T001"])
    capsys.readouterr()
    pairs.write_text("drug_id\ttarget_id\nimatinib\tNOPE\n")
    assert main(["explain", "affinity", "--model", str(tiny_model_dir), "--drugs", str(lib), "--targets", str(fasta),
                 "--pairs", str(pairs), "--out", str(tmp_path / "bad")]) == 2
    assert "NOPE" in capsys.readouterr().err and not (tmp_path / "bad").exists()



def test_explain_the_top_hits_of_a_screen(tiny_model_dir, tmp_path):
    """--hits-table with --top N: the N best-ranked compounds of each target of a `screen` table, the targets read from
    two FASTAs (a wild type and its mutant, as the variant screen writes them); a hit naming an unknown compound is
    one clear line with the hits file's row."""
    from genoscreen.cli import main

    proteins = random_proteins(2, seed=4)
    wild = write_fasta(tmp_path / "wt.fasta", {"T000": proteins["T000"]})
    mutant = write_fasta(tmp_path / "mut.fasta", {"T000:p.Ala5Val": proteins["T001"]})
    lib = tmp_path / "lib.smi"
    lib.write_text("".join(f"{s} c{i}\n" for i, s in enumerate(SMILES[:4])))
    hits = tmp_path / "hits.tsv"
    assert main(["screen", "--model", str(tiny_model_dir), "--compounds", str(lib), "--targets", str(wild),
                 "--out", str(hits)]) == 0
    table = pd.read_csv(hits, sep="\t")
    table = pd.concat([table, table.assign(target_id="T000:p.Ala5Val")])
    table.to_csv(hits, sep="\t", index=False)
    out = tmp_path / "why"
    assert main(["explain", "affinity", "--model", str(tiny_model_dir), "--drugs", str(lib), "--targets", str(wild),
                 "--targets", str(mutant), "--hits-table", str(hits), "--top", "2", "--out", str(out), "--steps", "32"]) == 0
    explained = pd.read_csv(out / "pairs.tsv", sep="\t")
    best = table[table["rank"] <= 2].sort_values(["target_id", "rank"])
    (tmp_path / "none.fasta").write_text("")  # a sample without mutants: its empty FASTA beside the wild types
    assert main(["explain", "affinity", "--model", str(tiny_model_dir), "--drugs", str(lib), "--targets", str(wild),
                 str(tmp_path / "none.fasta"), "--hits-table", str(hits), "--top", "1", "--out", str(tmp_path / "wt"),
                 "--steps", "8"]) == 0
    assert pd.read_csv(tmp_path / "wt" / "pairs.tsv", sep="\t")["target_id"].tolist() == ["T000"]
    assert explained[["drug_id", "target_id"]].values.tolist() == best[["compound_id", "target_id"]].values.tolist()
    table.iloc[[3], table.columns.get_loc("compound_id")] = "ghost"
    table.to_csv(hits, sep="\t", index=False)
    assert main(["explain", "affinity", "--model", str(tiny_model_dir), "--drugs", str(lib), "--targets", str(wild),
                 str(mutant), "--hits-table", str(hits), "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()
