"""DeepDTA character encodings: ids as published, padding 0, unknown token, truncation counted."""

import numpy as np

from genoscreen.affinity.featurize import (
    PROTEIN_VOCAB,
    SMILES_VOCAB,
    encode_proteins,
    encode_smiles,
    vocab_size,
)


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
    tokens, n_truncated = encode_smiles(["CCO", "C" * 12, "C%Cé"], max_len=10)
    assert tokens.dtype == np.int32 and tokens.shape == (3, 10)
    assert tokens[0].tolist() == [42, 42, 48] + [0] * 7
    assert n_truncated == 1 and (tokens[1] == 42).all()
    assert tokens[2, 3] == 65  # 'é' -> unknown, never padding
    assert "unknown token" in caplog.text


def test_protein_lowercase_and_odd_letters():
    tokens, n_truncated = encode_proteins(["mkv", "MJ*"], max_len=4)
    assert n_truncated == 0
    assert tokens[0, :3].tolist() == [11, 10, 22]
    assert tokens[1, 1] == 26 and tokens[1, 2] == 26 and tokens[1, 3] == 0
