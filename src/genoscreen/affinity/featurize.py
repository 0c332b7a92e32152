"""SMILES and protein sequences -> DeepDTA character label encodings (the only place a string becomes a tensor).

Every SMILES is first standardised here (`standardize_smiles`), in training and at inference, whatever file it came
from: one molecule gives one tensor however it was spelled. The declared form (`SMILES_FORM`, recorded in each
model's config.json): RDKit parse and sanitize -> the largest fragment, organic preferred (salts and solvents
dropped; rdMolStandardize.LargestFragmentChooser) -> neutralised where a neutral form exists
(rdMolStandardize.Uncharger) -> RDKit's canonical isomeric SMILES, aromatic form. Tautomers and functional-group
spellings are not changed (RDKit's Normalizer rewrites sulfoxides as [S+][O-]). A string RDKit cannot parse is
encoded as typed (the compound readers have already rejected it).

Vocabularies are DeepDTA's: its 64-character isomeric-SMILES set and 25-letter protein set, with the same ids
(1..64, 1..25). Id 0 is padding (mask = tokens != 0); one extra id, len(vocabulary) + 1, is the unknown token for
characters outside the set (DeepDTA silently mapped them to padding).
"""

from __future__ import annotations

import functools
import logging

import numpy as np

log = logging.getLogger(__name__)

SMILES_FORM = "rdkit-largest-fragment-uncharged-canonical-isomeric/1"

# DeepDTA CHARISOSMISET in id order: SMILES_VOCAB[i - 1] has id i.
SMILES_VOCAB = "(.02468@BDFHLNPRTVZ\\bdfhlnrt#%)+-/13579=ACEGIKMOSUWY[]acegimosuy"
# DeepDTA CHARPROTSET in id order.
PROTEIN_VOCAB = "ACBEDGFIHKMLONQPSRUTWVYXZ"
PAD_ID = 0

assert len(SMILES_VOCAB) == 64 and len(set(SMILES_VOCAB)) == 64
assert len(PROTEIN_VOCAB) == 25 and len(set(PROTEIN_VOCAB)) == 25


@functools.lru_cache(maxsize=1 << 16)
def standardize_smiles(smiles: str) -> str:
    """`smiles` in the declared standard form `SMILES_FORM` (see the module docstring); as typed if unparsable."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem.MolStandardize import rdMolStandardize

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return smiles
    try:
        mol = rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(mol)
        mol = rdMolStandardize.Uncharger().uncharge(mol)
        text = Chem.MolToSmiles(mol)
    except Exception as err:  # RDKit raises several exception types; keep the parsed molecule's canonical form
        log.debug("standardising %s failed (%s); using RDKit's canonical SMILES", smiles, err)
        text = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    # Canonical SMILES of a re-parsed canonical SMILES can differ for some stereo cases: take the fixed point.
    again = Chem.MolFromSmiles(text)
    return Chem.MolToSmiles(again) if again is not None else text


def vocab_size(vocab: str) -> int:
    """Embedding rows: padding + characters + unknown."""
    return len(vocab) + 2


def _table(vocab: str) -> np.ndarray:
    table = np.full(256, len(vocab) + 1, dtype=np.int32)
    for i, ch in enumerate(vocab):
        table[ord(ch)] = i + 1
    return table


_TABLES: dict[str, np.ndarray] = {}


def encode(strings: list[str], max_len: int, vocab: str) -> tuple[np.ndarray, list[int], int]:
    """Label-encode `strings` into int32 [n, max_len] (right-padded with 0).

    Returns (tokens, truncated, n_unknown_chars): `truncated` lists the rows of strings longer than max_len (cut to
    max_len); characters outside `vocab` (or non-ASCII) become the unknown id and are counted.
    """
    table = _TABLES.setdefault(vocab, _table(vocab))
    unknown_id = len(vocab) + 1
    out = np.zeros((len(strings), max_len), dtype=np.int32)
    truncated: list[int] = []
    n_unknown = 0
    for row, text in enumerate(strings):
        if len(text) > max_len:
            truncated.append(row)
            text = text[:max_len]
        raw = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
        ids = table[raw]
        n_unknown += int(np.count_nonzero(ids == unknown_id))
        out[row, : len(ids)] = ids
    return out, truncated, n_unknown


def tokenize_smiles(smiles: list[str], max_len: int) -> tuple[np.ndarray, list[int], int]:
    """SMILES -> standardised -> int32 [n, max_len] with DeepDTA's SMILES ids; returns (tokens, truncated rows,
    n_unknown_chars) as `encode` (the length that counts is the standardised SMILES')."""
    return encode([standardize_smiles(s) for s in smiles], max_len, SMILES_VOCAB)


def encode_smiles(smiles: list[str], max_len: int) -> tuple[np.ndarray, list[int]]:
    """SMILES -> standardised -> int32 [n, max_len] with DeepDTA's SMILES ids; returns (tokens, truncated rows)."""
    tokens, truncated, n_unknown = tokenize_smiles(smiles, max_len)
    if n_unknown:
        log.warning("%d SMILES characters outside DeepDTA's 64-character set mapped to the unknown token", n_unknown)
    if truncated:
        log.info("%d of %d SMILES longer than %d characters were truncated", len(truncated), len(smiles), max_len)
    return tokens, truncated


def encode_proteins(sequences: list[str], max_len: int) -> tuple[np.ndarray, list[int]]:
    """Protein sequences -> int32 [n, max_len] with DeepDTA's protein ids; returns (tokens, truncated rows)."""
    tokens, truncated, n_unknown = encode([s.upper() for s in sequences], max_len, PROTEIN_VOCAB)
    if n_unknown:
        log.warning("%d protein residues outside the 25-letter alphabet mapped to the unknown token", n_unknown)
    if truncated:
        log.info("%d of %d protein sequences longer than %d residues were truncated", len(truncated), len(sequences),
                 max_len)
    return tokens, truncated
