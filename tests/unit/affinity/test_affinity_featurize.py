"""DeepDTA character encodings: ids as published, padding 0, unknown token, truncated rows named; every SMILES
standardised first (one molecule, one tensor)."""

import numpy as np
import pytest

from genoscreen.affinity.featurize import (
    PROTEIN_VOCAB,
    SMILES_VOCAB,
    encode_proteins,
    encode_smiles,
    standardize_smiles,
    vocab_size,
)

# Public structures, each written as a chemist might type it: imatinib (free base), imatinib mesylate (a salt),
# sorafenib with explicit hydrogens, a carboxylate written as its sodium salt, dasatinib, and (R)-ibuprofen.
MOLECULES = {
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "imatinib_mesylate": "CS(=O)(=O)O.Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "sorafenib": "[H]N(C(=O)N([H])c1ccc(Cl)c(C(F)(F)F)c1)c1ccc(Oc2ccnc(C(=O)NC)c2)cc1",
    "sodium_benzoate": "[Na+].[O-]C(=O)c1ccccc1",
    "dasatinib": "Cc1nc(Nc2ncc(C(=O)Nc3c(C)cccc3Cl)s2)cc(N2CCN(CCO)CC2)n1",
    "r_ibuprofen": "CC(C)Cc1ccc([C@@H](C)C(=O)O)cc1",
}


def test_ids_match_deepdta_tables():
    # Spot checks against DeepDTA's CHARISOSMISET / CHARPROTSET.
    smiles_ids = {"(": 1, ".": 2, "@": 8, "C": 42, "N": 14, "O": 48, "=": 40, "c": 56, "y": 64, "#": 29, "\\": 20}
    for ch, i in smiles_ids.items():
        assert SMILES_VOCAB[i - 1] == ch
    protein_ids = {"A": 1, "C": 2, "B": 3, "K": 10, "L": 12, "X": 24, "Z": 25}
    for ch, i in protein_ids.items():
        assert PROTEIN_VOCAB[i - 1] == ch
    assert vocab_size(SMILES_VOCAB) == 66 and vocab_size(PROTEIN_VOCAB) == 27


def test_padding_truncation_and_unknown(caplog):
    tokens, truncated = encode_smiles(["CCO", "C" * 12, "C%Cé"], max_len=10)
    assert tokens.dtype == np.int32 and tokens.shape == (3, 10)
    assert tokens[0].tolist() == [42, 42, 48] + [0] * 7
    assert truncated == [1] and (tokens[1] == 42).all()
    assert tokens[2, 3] == 65  # 'é' -> unknown, never padding
    assert "unknown token" in caplog.text


def test_protein_lowercase_and_odd_letters():
    tokens, truncated = encode_proteins(["mkv", "MJ*"], max_len=4)
    assert truncated == []
    assert tokens[0, :3].tolist() == [11, 10, 22]
    assert tokens[1, 1] == 26 and tokens[1, 2] == 26 and tokens[1, 3] == 0


@pytest.mark.parametrize("name", sorted(MOLECULES))
def test_any_spelling_gives_one_tensor(name):
    from rdkit import Chem

    mol = Chem.MolFromSmiles(MOLECULES[name])
    spellings = {MOLECULES[name], Chem.MolToSmiles(mol, kekuleSmiles=True, canonical=False)}
    spellings |= {Chem.MolToSmiles(mol, doRandom=True) for _ in range(20)}
    assert len(spellings) > 5  # really different strings
    tokens, _ = encode_smiles(sorted(spellings), max_len=100)
    assert (tokens == tokens[0]).all()


def test_standard_form_drops_salts_and_charges_keeps_stereo():
    assert standardize_smiles(MOLECULES["imatinib_mesylate"]) == standardize_smiles(MOLECULES["imatinib"])
    assert standardize_smiles(MOLECULES["sodium_benzoate"]) == "O=C(O)c1ccccc1"
    assert standardize_smiles("C[N+](C)(C)C") == "C[N+](C)(C)C"  # a quaternary ammonium has no neutral form
    assert standardize_smiles(MOLECULES["sorafenib"]) == standardize_smiles(
        "CNC(=O)c1cc(Oc2ccc(NC(=O)Nc3ccc(Cl)c(C(F)(F)F)c3)cc2)ccn1")
    r = standardize_smiles(MOLECULES["r_ibuprofen"])
    assert "@" in r and r != standardize_smiles(MOLECULES["r_ibuprofen"].replace("@@", "@"))
    assert standardize_smiles("CS(C)=O") == "CS(C)=O"  # sulfoxides are not rewritten as [S+][O-]
    assert standardize_smiles("not a smiles") == "not a smiles"  # readers reject these; encoded as typed
