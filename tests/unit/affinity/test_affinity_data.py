"""Readers: compound formats, invalid SMILES to the errors file, FASTA checks, pairs tables."""

import gzip
import logging

import pandas as pd
import pytest

from genoscreen.affinity.io.compounds import load_compounds, read_compounds
from genoscreen.affinity.io.pairs import check_pair_ids, read_pairs
from genoscreen.affinity.io.proteins import read_targets
from genoscreen.common.errors import InputError


def test_smi_tsv_csv_gz(tmp_path):
    (tmp_path / "a.smi").write_text("smiles id\nCCO ethanol\nc1ccccc1 benzene\n")
    (tmp_path / "a.tsv").write_text("compound_id\tsmiles\nethanol\tCCO\nbenzene\tc1ccccc1\n")
    (tmp_path / "a.csv").write_text("id,SMILES\nethanol,CCO\nbenzene,c1ccccc1\n")
    with gzip.open(tmp_path / "b.smi.gz", "wt") as handle:
        handle.write("CCO ethanol\nc1ccccc1 benzene\n")
    for name in ("a.smi", "a.tsv", "a.csv", "b.smi.gz"):
        ids, smiles, n_invalid = read_compounds(tmp_path / name)
        assert ids == ["ethanol", "benzene"] and smiles == ["CCO", "c1ccccc1"] and n_invalid == 0, name


def test_sdf(tmp_path):
    from rdkit import Chem

    writer = Chem.SDWriter(str(tmp_path / "m.sdf"))
    for name, smi in (("ethanol", "CCO"), ("acetic", "CC(=O)O")):
        mol = Chem.MolFromSmiles(smi)
        mol.SetProp("_Name", name)
        writer.write(mol)
    writer.close()
    ids, smiles, n_invalid = read_compounds(tmp_path / "m.sdf")
    assert ids == ["ethanol", "acetic"] and smiles == ["CCO", "CC(=O)O"] and n_invalid == 0


def test_sdf_gz_with_a_bad_record(tmp_path):
    from rdkit import Chem

    pentavalent = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)
    pentavalent.SetProp("_Name", "five_bonds")
    ethanol = Chem.MolFromSmiles("CCO")
    ethanol.SetProp("_Name", "ethanol")
    with gzip.open(tmp_path / "m.sdf.gz", "wt") as handle:
        for mol in (pentavalent, ethanol):
            handle.write(Chem.MolToMolBlock(mol, kekulize=False) + "$$$$\n")
    ids, smiles, invalid = load_compounds(tmp_path / "m.sdf.gz", tmp_path / "errors.tsv")
    assert ids == ["ethanol"] and smiles == ["CCO"]
    assert [(row, ident) for row, ident, _, _ in invalid] == [(1, "five_bonds")]
    errors = pd.read_csv(tmp_path / "errors.tsv", sep="\t")
    assert errors["id"].tolist() == ["five_bonds"] and "valence" in errors["reason"][0].lower()


def test_invalid_smiles_go_to_errors_file(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("drug_id\tsmiles\nok\tCCO\nbad_parse\tC1CC(\nbad_valence\tC(C)(C)(C)(C)C\nalso_ok\tc1ccccc1\n")
    ids, smiles, n_invalid = read_compounds(path, tmp_path / "errors.tsv")
    assert ids == ["ok", "also_ok"] and n_invalid == 2
    errors = pd.read_csv(tmp_path / "errors.tsv", sep="\t")
    assert errors["row"].tolist() == [3, 4]
    assert errors["id"].tolist() == ["bad_parse", "bad_valence"]
    assert "parse" in errors["reason"][0] and "valence" in errors["reason"][1].lower()


def test_duplicate_compound_id(tmp_path):
    path = tmp_path / "d.smi"
    path.write_text("CCO x\nCC x\n")
    with pytest.raises(InputError, match="row 2: duplicate compound id 'x'"):
        read_compounds(path)


def test_missing_columns(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("name\tsmiles\nx\tCCO\n")
    with pytest.raises(InputError, match="no id column"):
        read_compounds(path)


def test_fasta_checks(tmp_path, caplog):
    good = tmp_path / "p.fasta"
    good.write_text(">P1 desc\nMKV\nLAG\n>P2\nmkjx*\n")
    with caplog.at_level(logging.WARNING):
        targets = read_targets(good)
    assert targets == {"P1": "MKVLAG", "P2": "MKJX*"}
    assert "2 residue(s) in 1 sequence(s) outside" in caplog.text  # J and *
    cases = {
        "dna.fa": (">g\nACGTACGTTGCAACGTNACGT\n", "looks like a DNA"),
        "empty.fa": (">a\n\n>b\nMKV\n", "a: empty sequence"),
        "dup.fa": (">a\nMKV\n>a\nMKV\n", "a: duplicate sequence id"),
        "notfasta.fa": ("MKV\n", "not a FASTA"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError, match=message):
            read_targets(tmp_path / name)


def test_pairs(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("drug_id\ttarget_id\tkiba_score\tfold\nd1\tt1\t11.5\t0\nd2\tt1\t12.5\t1\n")
    pairs = read_pairs(path)
    assert pairs["label"].tolist() == [11.5, 12.5] and pairs["fold"].tolist() == [0, 1]
    assert pairs.attrs["label_name"] == "kiba_score"
    (tmp_path / "nolabel.tsv").write_text("drug_id\ttarget_id\nd1\tt1\n")
    assert "label" not in read_pairs(tmp_path / "nolabel.tsv")
    (tmp_path / "bad.tsv").write_text("drug_id\ttarget_id\tpkd\nd1\tt1\tfive\n")
    with pytest.raises(InputError, match="row 2: label 'five'"):
        read_pairs(tmp_path / "bad.tsv")
    # one unnamed extra column: the label if mostly numbers (a typo is reported), ignored if text
    (tmp_path / "kd.tsv").write_text("drug_id\ttarget_id\tkd_nm\nd1\tt1\t12\nd2\tt1\t7.5\n")
    assert read_pairs(tmp_path / "kd.tsv")["label"].tolist() == [12.0, 7.5]
    (tmp_path / "typo.tsv").write_text("drug_id\ttarget_id\tkd_nm\nd1\tt1\t12\nd2\tt1\t7,5\nd3\tt1\t3\n")
    with pytest.raises(InputError, match="row 3: label '7,5' in column kd_nm"):
        read_pairs(tmp_path / "typo.tsv")
    (tmp_path / "note.tsv").write_text("drug_id\ttarget_id\tnote\nd1\tt1\tfrom vendor A\nd2\tt1\tcheck\n")
    assert "label" not in read_pairs(tmp_path / "note.tsv")
    with pytest.raises(InputError, match="target_id 't9' not found in T.fa"):
        check_pair_ids(pd.DataFrame({"drug_id": ["d1"], "target_id": ["t9"]}), ["d1"], ["t1"], "P", "D", "T.fa")


def test_named_id_and_smiles_columns(tmp_path):
    """Columns: DeepPurpose's `name SMILES` lines as a .smi by field number, a table's columns by name or number
    (matched ignoring case), an SDF id property; a column that is not there, or does not fit the format, is one
    InputError line."""
    from rdkit import Chem

    from genoscreen.affinity.io.compounds import Columns

    (tmp_path / "dp.smi").write_text("ethanol CCO\nbenzene c1ccccc1\nlonely\n")
    ids, smiles, invalid = load_compounds(tmp_path / "dp.smi", columns=Columns(id="1", smiles="2"))
    assert ids == ["ethanol", "benzene"] and smiles == ["CCO", "c1ccccc1"]
    assert [(row, ident) for row, ident, _, _ in invalid] == [(3, "lonely")] and "no field 2" in invalid[0][3]
    (tmp_path / "t.tsv").write_text("name\tcanonical_smiles\tmw\nethanol\tCCO\t46\nbenzene\tc1ccccc1\t78\n")
    for columns in (Columns(id="name", smiles="Canonical_SMILES"), Columns(id=1, smiles=2)):
        assert read_compounds(tmp_path / "t.tsv", columns=columns)[:2] == (["ethanol", "benzene"], ["CCO", "c1ccccc1"])
    writer = Chem.SDWriter(str(tmp_path / "m.sdf"))
    mol = Chem.MolFromSmiles("CCO")
    mol.SetProp("_Name", "title")
    mol.SetProp("catalog", "Z123")
    writer.write(mol)
    writer.close()
    assert read_compounds(tmp_path / "m.sdf", columns=Columns(id="catalog"))[0] == ["Z123"]
    for path, columns, message in [
        ("t.tsv", Columns(smiles="smi"), r"no SMILES column 'smi' \(columns: name, canonical_smiles, mw\)"),
        ("t.tsv", Columns(id="7", smiles="2"), "no id column 7: the table has 3 column"),
        ("t.tsv", Columns(id="name", smiles="name"), "the id and SMILES columns are both 'name'"),
        ("dp.smi", Columns(id="name"), "a .smi file has no header .* give its field number"),
        ("m.sdf", Columns(smiles="2"), "an SDF record holds its structure"),
    ]:
        with pytest.raises(InputError, match=message) as err:
            read_compounds(tmp_path / path, columns=columns)
        assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="field number \\(1 = the first\\)"):
        Columns(smiles="0")
    (tmp_path / "dp.txt").write_text("ethanol CCO\n")
    with pytest.raises(InputError, match=r"rename it .*\(--id-column 1 --smiles-column 2\)"):
        read_compounds(tmp_path / "dp.txt")


def test_merge_two_sources_into_one_training_set(tmp_path):
    """affinity merge: ids kept, a shared id must be the same molecule (any spelling) or sequence, one label scale,
    fold kept only when every source has it; the merged set trains as any other."""
    from genoscreen.affinity.merge import merge_sources
    from genoscreen.affinity.io.pairs import read_pairs
    from genoscreen.affinity.io.proteins import read_targets
    from genoscreen.common.errors import InputError

    def source(name, drugs, targets, pairs, fold=True):
        (tmp_path / f"{name}.tsv").write_text("drug_id\tsmiles\n" + "".join(f"{d}\t{s}\n" for d, s in drugs))
        (tmp_path / f"{name}.fasta").write_text("".join(f">{t}\n{s}\n" for t, s in targets))
        head = "drug_id\ttarget_id\tpkd" + ("\tfold" if fold else "")
        (tmp_path / f"{name}.pairs.tsv").write_text(head + "\n" + "".join(
            "\t".join(map(str, p[: 4 if fold else 3])) + "\n" for p in pairs))
        return tmp_path / f"{name}.tsv", tmp_path / f"{name}.fasta", tmp_path / f"{name}.pairs.tsv"

    a = source("a", [("d1", "CCO"), ("d2", "c1ccccc1O")], [("T1", "MKVLA"), ("T2", "MKKLL")],
               [("d1", "T1", 5.0, 0), ("d2", "T2", 6.5, 1)])
    b = source("b", [("d1", "OCC"), ("d3", "CC(=O)O")], [("T1", "MKVLA"), ("P1", "MSTNP")],
               [("d3", "P1", 7.25, 0)], fold=False)
    summary = merge_sources([a, b], tmp_path / "out")
    assert summary == {"drugs": 3, "targets": 3, "pairs": 3, "invalid_smiles": 0, "label": "pkd", "fold": False}
    pairs = read_pairs(tmp_path / "out" / "pairs.tsv")
    assert pairs["label"].tolist() == [5.0, 6.5, 7.25] and "fold" not in pairs.columns
    assert list(read_targets(tmp_path / "out" / "targets.fasta")) == ["T1", "T2", "P1"]
    c = source("c", [("d1", "CCN")], [("T9", "MKVLA")], [("d1", "T9", 5.0, 0)])
    with pytest.raises(InputError, match="drug d1 is another molecule"):
        merge_sources([a, c], tmp_path / "bad")
    d = source("d", [("d9", "CCN")], [("T1", "MKVLAW")], [("d9", "T1", 5.0, 0)])
    with pytest.raises(InputError, match="target T1 has another sequence"):
        merge_sources([a, d], tmp_path / "bad")
