"""The affinity model's data: the three inputs of train/cv/predict read (through `affinity.io`) and encoded.

`AffinityData` holds token tables for the distinct drugs and targets and the pairs as indices into them, so each
drug and protein is encoded once however many pairs name it.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.featurize import encode_proteins, encode_smiles, standardize_smiles
from genoscreen.affinity.io.compounds import DEFAULT_COLUMNS, Columns, load_compounds
from genoscreen.affinity.io.pairs import check_pair_ids, read_pairs
from genoscreen.affinity.io.proteins import read_targets
from genoscreen.affinity.io.truncations import Truncation, truncations
from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)


@dataclasses.dataclass
class AffinityData:
    """Encoded inputs: token tables for distinct drugs/targets and pairs as indices into them."""

    drug_ids: list[str]
    target_ids: list[str]
    drug_tokens: np.ndarray  # int32 [n_drugs, max_drug_len]
    target_tokens: np.ndarray  # int32 [n_targets, max_target_len]
    pair_drug: np.ndarray  # int32 [n_pairs]
    pair_target: np.ndarray  # int32 [n_pairs]
    labels: np.ndarray | None  # float32 [n_pairs]
    folds: np.ndarray | None  # int64 [n_pairs]
    truncated: list[Truncation] = dataclasses.field(default_factory=list)  # drugs and targets cut to max length

    @property
    def n_pairs(self) -> int:
        return len(self.pair_drug)

    def subset(self, index: np.ndarray) -> "AffinityData":
        return dataclasses.replace(
            self,
            pair_drug=self.pair_drug[index],
            pair_target=self.pair_target[index],
            labels=None if self.labels is None else self.labels[index],
            folds=None if self.folds is None else self.folds[index],
        )


def prepare_data(
    drug_ids: list[str], smiles: list[str], targets: dict[str, str], pairs: pd.DataFrame, config: AffinityConfig
) -> AffinityData:
    """Encode drugs/targets with the config's max lengths and map pairs to row indices (ids must all be known)."""
    drug_tokens, long_drugs = encode_smiles(smiles, config.max_drug_len)
    target_ids = list(targets)
    sequences = [targets[t] for t in target_ids]
    target_tokens, long_targets = encode_proteins(sequences, config.max_target_len)
    drug_row = pd.Series(np.arange(len(drug_ids)), index=drug_ids)
    target_row = pd.Series(np.arange(len(target_ids)), index=target_ids)
    return AffinityData(
        drug_ids=list(drug_ids),
        target_ids=target_ids,
        drug_tokens=drug_tokens,
        target_tokens=target_tokens,
        pair_drug=drug_row.reindex(pairs["drug_id"]).to_numpy().astype(np.int32),
        pair_target=target_row.reindex(pairs["target_id"]).to_numpy().astype(np.int32),
        labels=pairs["label"].to_numpy(np.float32) if "label" in pairs else None,
        folds=pairs["fold"].to_numpy() if "fold" in pairs else None,
        truncated=truncations("compound", list(drug_ids), [standardize_smiles(s) for s in smiles], long_drugs,
                              config.max_drug_len)
        + truncations("target", target_ids, sequences, long_targets, config.max_target_len),
    )


def load_inputs(
    drugs_path, targets_path, pairs_path, config: AffinityConfig, errors_path=None, require_labels: bool = False,
    columns: Columns = DEFAULT_COLUMNS,
) -> tuple[AffinityData, pd.DataFrame, np.ndarray]:
    """Read and encode the three inputs of train/cv/predict.

    Returns (data over the usable pairs, the pairs table as read, boolean mask of usable pairs). Pairs whose drug
    had an invalid SMILES are not usable (counted, warned); an id absent from the drugs or targets file is an
    InputError. `columns`: where the drugs file keeps ids and SMILES (see `Columns`).
    """
    drug_ids, smiles, invalid = load_compounds(drugs_path, errors_path, columns=columns)
    targets = read_targets(targets_path)
    pairs = read_pairs(pairs_path)
    if require_labels and "label" not in pairs:
        raise InputError(f"{pairs_path}: no label column; training needs one (e.g. 'label', 'pkd' or 'kiba_score')")
    invalid_ids = {rec[1] for rec in invalid}
    check_pair_ids(pairs, drug_ids, targets, pairs_path, drugs_path, targets_path, invalid_ids)
    usable = ~pairs["drug_id"].isin(invalid_ids).to_numpy()
    if not usable.all():
        log.warning("%d pair(s) use a drug with an invalid SMILES and are skipped", int((~usable).sum()))
    if not usable.any():
        raise InputError(f"{pairs_path}: no pair has a valid drug; see the errors file")
    data = prepare_data(drug_ids, smiles, targets, pairs[usable].reset_index(drop=True), config)
    return data, pairs, usable


def fold_indices(data: AffinityData, folds: list[int]) -> np.ndarray:
    if data.folds is None:
        raise InputError("pairs file has no 'fold' column; add one (integers) to choose folds")
    present = sorted(int(f) for f in np.unique(data.folds))
    unknown = sorted(set(int(f) for f in folds) - set(present))
    if unknown:
        raise InputError(f"fold {', '.join(map(str, unknown))}: no pair has this fold; the pairs' folds are {present}")
    return np.flatnonzero(np.isin(data.folds, folds))
