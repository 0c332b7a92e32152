"""Mutant targets from their names (Davis spelling), the splits of `affinity cv`, and mutation-shift scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genoscreen.affinity.mutants import (
    STATUS_BUILT,
    apply_mutations,
    build_mutants,
    numbering_offset,
    parse_mutant_name,
    wild_types,
)

RNG = np.random.default_rng(7)
AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
KINASE = "".join(RNG.choice(AMINO, 400))


def _with(seq: str, pos: int, residue: str) -> str:
    return seq[: pos - 1] + residue + seq[pos:]


def test_names_parse_in_davis_spelling():
    assert parse_mutant_name("ABL1(T315I)").mutations[0].named == (("T", 315),)
    double = parse_mutant_name("EGFR(L858RT790M)")
    assert [(m.start, m.new) for m in double.mutations] == [(858, "R"), (790, "M")]
    assert len(parse_mutant_name("KIT(V559D-T670I)").mutations) == 2
    deletion = parse_mutant_name("EGFR(E746A750del)").mutations[0]
    assert (deletion.start, deletion.end, deletion.new, deletion.named) == (746, 750, "", (("E", 746), ("A", 750)))
    assert parse_mutant_name("ABL1(T315I)p").gene == "ABL1"  # the phosphorylated form: the same mutation
    for name in ("ABL1", "FLT3(ITD)", "JAK1(JH1domain-catalytic)", "RSK1(KinDom.1-N-terminal)", "X(T5)"):
        assert parse_mutant_name(name) is None


def test_mutants_are_built_on_the_wild_type_in_the_files_numbering():
    wt = _with(_with(_with(KINASE, 100, "T"), 150, "E"), 154, "A")
    targets = {"K": wt, "K(T100I)": wt, "K(T100I)p": wt, "K(E150A154del)": wt, "K(T100IE150K)": wt, "Other": KINASE}
    out, records = build_mutants(targets)
    assert out["K(T100I)"] == _with(wt, 100, "I") and out["K(T100I)p"] == out["K(T100I)"]
    assert out["K(E150A154del)"] == wt[:149] + wt[154:]
    assert out["K(T100IE150K)"] == _with(_with(wt, 100, "I"), 150, "K")
    assert out["K"] == wt and out["Other"] == KINASE and list(out) == list(targets)
    assert {r.target_id: (r.status, r.offset) for r in records} == {
        t: (STATUS_BUILT, 0) for t in ("K(T100I)", "K(T100I)p", "K(E150A154del)", "K(T100IE150K)")}
    assert wild_types(out) == {t: "K" for t in ("K(T100I)", "K(T100I)p", "K(E150A154del)", "K(T100IE150K)")}


def test_an_offset_numbering_is_found_only_on_enough_evidence():
    # the record is numbered 10 residues past the names (as Davis' ABL1 by 37): four named residues fix it
    wt = KINASE
    names = {f"K({wt[p + 9]}{p}{'A' if wt[p + 9] != 'A' else 'C'})": p for p in (50, 120, 200, 310)}
    out, records = build_mutants({"K": wt, **{n: wt for n in names}})
    assert {r.offset for r in records} == {10} and all(r.status == STATUS_BUILT for r in records)
    for name, p in names.items():
        assert out[name] == apply_mutations(wt, parse_mutant_name(name).mutations, 10)
        assert sum(a != b for a, b in zip(out[name], wt)) == 1 and out[name][p + 9] != wt[p + 9]
    # two residues that do not sit at their positions: a shifted fit would be chance, so nothing is built
    two = {f"K({wt[p + 9]}{p}A)": wt for p in (50, 120)}
    assert numbering_offset(wt, {(wt[p + 9], p) for p in (50, 120)}) is None
    out, records = build_mutants({"K": wt, **two})
    assert all(r.status != STATUS_BUILT and out[r.target_id] == wt for r in records)


def test_names_that_are_not_mutations_are_listed_and_kept():
    out, records = build_mutants({"FLT3": KINASE, "FLT3(ITD)": KINASE, "JAK1(JH1domain-catalytic)": KINASE[:100]})
    assert out["FLT3(ITD)"] == KINASE
    assert [(r.target_id, r.status.split(";")[0]) for r in records] == [
        ("FLT3(ITD)", "not a point mutation or a stated deletion")]


def test_affinity_mutants_command(tmp_path, capsys):
    from genoscreen.cli import main

    fasta = tmp_path / "t.fasta"
    wt = _with(KINASE, 100, "T")
    fasta.write_text(f">K\n{wt}\n>K(T100I)\n{wt}\n>K(ITD)\n{wt}\n")
    assert main(["affinity", "mutants", "--targets", str(fasta), "--out", str(tmp_path / "m.fasta")]) == 0
    from genoscreen.affinity.io.proteins import read_targets

    assert read_targets(tmp_path / "m.fasta")["K(T100I)"] == _with(wt, 100, "I")
    report = pd.read_csv(tmp_path / "m.fasta.mutants.tsv", sep="\t")
    assert report["status"].tolist()[0] == "built" and report["offset"].tolist()[0] == 0
    assert main(["affinity", "mutants", "--targets", str(fasta), "--out", str(fasta)]) == 2  # never over an input
    assert "Traceback" not in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------------------------
# Splits and mutation shifts


@pytest.fixture
def mutant_data(tmp_path):
    """3 drugs x (2 wild types + 6 mutants); labels: the wild type's plus a per-mutation shift."""
    from genoscreen.affinity.configs import get_preset
    from genoscreen.affinity.data import prepare_data

    wt_a, wt_b = _with(KINASE[:120], 30, "T"), _with(KINASE[200:330], 40, "L")
    targets = {"A": wt_a, "B": wt_b}
    for pos, new in ((30, "I"), (30, "M")):
        targets[f"A(T{pos}{new})"] = _with(wt_a, pos, new)
    for pos, new in ((40, "R"), (40, "Q")):
        targets[f"B(L{pos}{new})"] = _with(wt_b, pos, new)
    targets["A(T30IT30M)x"] = wt_a  # not a mutation name: trained on, never held out
    drugs = ["CCO", "c1ccccc1", "CC(=O)O"]
    rows = [(f"D{i}", t, 6.0 + i + (0.0 if "(" not in t else (1.5 if t.endswith("I)") else -1.2)))
            for i in range(3) for t in targets]
    pairs = pd.DataFrame(rows, columns=["drug_id", "target_id", "label"])
    return prepare_data([f"D{i}" for i in range(3)], drugs, targets, pairs, get_preset("test")), targets


def test_cold_and_mutant_splits_hold_out_whole_entities(mutant_data):
    from genoscreen.affinity.cv import ALWAYS_TRAIN, shift_partners, split_folds

    data, targets = mutant_data
    for split, entity in (("cold-drug", data.pair_drug), ("cold-target", data.pair_target)):
        folds = split_folds(data, split, n_folds=2, seed=1)
        assert set(folds) == {0, 1}
        assert all(len(set(folds[entity == e])) == 1 for e in np.unique(entity))  # an entity never straddles folds
    wild = wild_types(targets)
    assert sorted(wild) == ["A(T30I)", "A(T30M)", "B(L40Q)", "B(L40R)"]
    folds = split_folds(data, "mutant", n_folds=2, seed=1, wild_type_of=wild)
    held = {data.target_ids[t] for t in data.pair_target[folds != ALWAYS_TRAIN]}
    assert held == set(wild)
    assert np.array_equal(folds, split_folds(data, "mutant", n_folds=2, seed=1, wild_type_of=wild))  # seeded
    partners = shift_partners(data, wild)
    for i in np.flatnonzero(partners >= 0):
        j = partners[i]
        assert data.pair_drug[i] == data.pair_drug[j]
        assert data.target_ids[data.pair_target[j]] == wild[data.target_ids[data.pair_target[i]]]
    assert (partners >= 0).sum() == 3 * 4
    from genoscreen.common.errors import InputError

    with pytest.raises(InputError, match="fewer than --n-folds 5"):
        split_folds(data, "mutant", n_folds=5, wild_type_of=wild)


def test_mutant_cv_scores_shifts(mutant_data):
    from genoscreen.affinity.configs import get_preset
    from genoscreen.affinity.cv import cross_validate, shift_metrics, shift_partners, split_folds

    data, targets = mutant_data
    wild = wild_types(targets)
    import dataclasses

    data = dataclasses.replace(data, folds=split_folds(data, "mutant", n_folds=2, seed=0, wild_type_of=wild))
    table, details = cross_validate(get_preset("test"), data, epochs=1, monitor_every=1,
                                    partners=shift_partners(data, wild))
    assert table["fold"].tolist() == ["0", "1", "mean", "sd"]
    assert sum(len(d["shift_measured"]) for d in details) == 12
    measured = np.concatenate([d["shift_measured"] for d in details])
    assert sorted(set(np.round(measured, 3))) == [-1.2, 1.5]
    metrics = shift_metrics(details)
    assert metrics["n"] == 12 and metrics["n_abs_gt_1"] == 12
    assert -1.0 <= metrics["spearman"] <= 1.0 or np.isnan(metrics["spearman"])


def test_cv_split_mutant_without_mutants_is_one_clear_line(tiny_dta, tmp_path, capsys):
    from genoscreen.cli import main

    drugs, targets, pairs = tiny_dta
    assert main(["affinity", "cv", "--drugs", str(drugs), "--targets", str(targets), "--pairs", str(pairs),
                 "--preset", "test", "--epochs", "1", "--split", "mutant", "--out", str(tmp_path / "cv")]) == 2
    err = capsys.readouterr().err
    assert "--split mutant: 0 mutant target(s)" in err and "Traceback" not in err
    assert not (tmp_path / "cv" / "cv_summary.json").exists()
