"""SMILES and protein sequences -> DeepDTA character label encodings (the only place a string becomes a tensor).

Vocabularies are DeepDTA's: its 64-character isomeric-SMILES set and 25-letter protein set, with the same ids
(1..64, 1..25). Id 0 is padding (mask = tokens != 0); one extra id, len(vocabulary) + 1, is the unknown token for
characters outside the set (DeepDTA silently mapped them to padding).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

# DeepDTA CHARISOSMISET in id order: SMILES_VOCAB[i - 1] has id i.
SMILES_VOCAB = "(.02468@BDFHLNPRTVZ\\bdfhlnrt#%)+-/13579=ACEGIKMOSUWY[]acegimosuy"
# DeepDTA CHARPROTSET in id order.
PROTEIN_VOCAB = "ACBEDGFIHKMLONQPSRUTWVYXZ"
PAD_ID = 0

assert len(SMILES_VOCAB) == 64 and len(set(SMILES_VOCAB)) == 64
assert len(PROTEIN_VOCAB) == 25 and len(set(PROTEIN_VOCAB)) == 25


def vocab_size(vocab: str) -> int:
    """Embedding rows: padding + characters + unknown."""
    return len(vocab) + 2


def _table(vocab: str) -> np.ndarray:
    table = np.full(256, len(vocab) + 1, dtype=np.int32)
    for i, ch in enumerate(vocab):
        table[ord(ch)] = i + 1
    return table


_TABLES: dict[str, np.ndarray] = {}


def encode(strings: list[str], max_len: int, vocab: str) -> tuple[np.ndarray, int, int]:
    """Label-encode `strings` into int32 [n, max_len] (right-padded with 0).

    Returns (tokens, n_truncated, n_unknown_chars): strings longer than max_len are cut and counted; characters
    outside `vocab` (or non-ASCII) become the unknown id and are counted.
    """
    table = _TABLES.setdefault(vocab, _table(vocab))
    unknown_id = len(vocab) + 1
    out = np.zeros((len(strings), max_len), dtype=np.int32)
    n_truncated = 0
    n_unknown = 0
    for row, text in enumerate(strings):
        if len(text) > max_len:
            n_truncated += 1
            text = text[:max_len]
        raw = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
        ids = table[raw]
        n_unknown += int(np.count_nonzero(ids == unknown_id))
        out[row, : len(ids)] = ids
    return out, n_truncated, n_unknown


def encode_smiles(smiles: list[str], max_len: int) -> tuple[np.ndarray, int]:
    """SMILES -> int32 [n, max_len] with DeepDTA's SMILES ids; returns (tokens, n_truncated)."""
    tokens, n_truncated, n_unknown = encode(smiles, max_len, SMILES_VOCAB)
    if n_unknown:
        log.warning("%d SMILES characters outside DeepDTA's 64-character set mapped to the unknown token", n_unknown)
    if n_truncated:
        log.info("%d of %d SMILES longer than %d characters were truncated", n_truncated, len(smiles), max_len)
    return tokens, n_truncated


def encode_proteins(sequences: list[str], max_len: int) -> tuple[np.ndarray, int]:
    """Protein sequences -> int32 [n, max_len] with DeepDTA's protein ids; returns (tokens, n_truncated)."""
    tokens, n_truncated, n_unknown = encode([s.upper() for s in sequences], max_len, PROTEIN_VOCAB)
    if n_unknown:
        log.warning("%d protein residues outside the 25-letter alphabet mapped to the unknown token", n_unknown)
    if n_truncated:
        log.info("%d of %d protein sequences longer than %d residues were truncated", n_truncated, len(sequences), max_len)
    return tokens, n_truncated
