"""One training set from several on one label scale: `genoscreen affinity merge` (e.g. BindingDB Kd with Davis,
both pKd = 9 - log10 Kd[nM]).

Each source is a (drugs, targets, pairs) triple read by the formats' owners (`io.compounds`, `io.proteins`,
`io.pairs`). Ids are kept: an id in two sources must name the same molecule (the same standardised SMILES) or the
same sequence, else the merge stops naming both files; the pairs keep their label under the first source's label
name (every source needs one, all named alike: one scale), and a `fold` column only when every source has one.
Compounds with an invalid SMILES are left out and counted.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd

from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)


def merge_sources(sources: list[tuple[str | Path, str | Path, str | Path]], out_dir: str | Path) -> dict:
    """Write OUT/drugs.tsv, OUT/targets.fasta and OUT/pairs.tsv from the (drugs, targets, pairs) `sources`."""
    from genoscreen.affinity.featurize import standardize_smiles
    from genoscreen.affinity.io.compounds import load_compounds
    from genoscreen.affinity.io.pairs import check_pair_ids, read_pairs
    from genoscreen.affinity.io.proteins import read_targets, write_targets
    from genoscreen.common.io import atomic_open

    drugs: dict[str, tuple[str, str, str]] = {}  # id -> (SMILES as read, its standard form, source file)
    targets: dict[str, tuple[str, str]] = {}  # id -> (sequence, source file)
    frames, label_name, invalid = [], None, 0
    for drugs_path, targets_path, pairs_path in sources:
        ids, smiles, bad = load_compounds(drugs_path)
        invalid += len(bad)
        for drug_id, text in zip(ids, smiles):
            form = standardize_smiles(text)
            if drug_id in drugs and drugs[drug_id][1] != form:
                raise InputError(f"{drugs_path}: drug {drug_id} is another molecule in {drugs[drug_id][2]}; rename "
                                 "one of them")
            drugs.setdefault(drug_id, (text, form, str(drugs_path)))
        records = read_targets(targets_path)
        for target_id, sequence in records.items():
            if target_id in targets and targets[target_id][0] != sequence:
                raise InputError(f"{targets_path}: target {target_id} has another sequence in {targets[target_id][1]};"
                                 " rename one of them")
            targets.setdefault(target_id, (sequence, str(targets_path)))
        pairs = read_pairs(pairs_path)
        name = pairs.attrs.get("label_name")
        if "label" not in pairs.columns:
            raise InputError(f"{pairs_path}: no label column; every source of a training set needs its measurements")
        if label_name is not None and name != label_name:
            raise InputError(f"{pairs_path}: label '{name}' where the first source has '{label_name}'; merge only "
                             "sources on one scale, under one column name")
        label_name = label_name or name
        check_pair_ids(pairs, ids, records, pairs_path, drugs_path, targets_path, {row[1] for row in bad})
        frames.append(pairs)
    table = pd.concat(frames, ignore_index=True)
    columns = ["drug_id", "target_id", "label"] + (["fold"] if all("fold" in f.columns for f in frames) else [])
    table = table[columns].rename(columns={"label": label_name})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / "drugs.tsv", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["drug_id", "smiles"])
        writer.writerows((drug_id, text) for drug_id, (text, _, _) in drugs.items())
    write_targets(out / "targets.fasta", {target_id: seq for target_id, (seq, _) in targets.items()})
    with atomic_open(out / "pairs.tsv", newline="") as handle:
        table.to_csv(handle, sep="\t", index=False, lineterminator="\n")
    summary = {"drugs": len(drugs), "targets": len(targets), "pairs": len(table), "invalid_smiles": invalid,
               "label": label_name, "fold": "fold" in columns}
    log.info("merged %d sources: %d drugs (%d invalid SMILES left out), %d targets, %d pairs (%s)", len(sources),
             summary["drugs"], invalid, summary["targets"], summary["pairs"], label_name)
    return summary
