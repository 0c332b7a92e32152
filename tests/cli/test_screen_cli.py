"""`genoscreen screen` and `genoscreen affinity panels` end to end: formats, errors, exit codes, atomic output."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from genoscreen.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "screening"))
from screening_helpers import SMILES, random_model_dir, random_proteins, write_fasta, write_smi  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return random_model_dir(tmp_path_factory.mktemp("cli") / "model", seed=5)


@pytest.fixture
def fasta(tmp_path):
    return write_fasta(tmp_path / "targets.fasta", random_proteins(6, seed=7))


def test_smi_library_with_invalid_smiles(model_dir, fasta, tmp_path, capsys):
    lines = "".join(f"{s} C{i:04d}\n" for i, s in enumerate(SMILES[:10]))
    library = tmp_path / "lib.smi"
    library.write_text(lines + "C1CC( broken\nnot_a_smiles alsobroken\n")
    out = tmp_path / "hits.tsv"
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(out)]) == 0
    assert "screened 12 compounds (2 invalid, skipped) x 6 targets = 60 pairs" in capsys.readouterr().err
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 10 * 6 and table.groupby("target_id")["rank"].max().eq(10).all()
    errors = pd.read_csv(tmp_path / "hits.tsv.errors.tsv", sep="\t")
    assert errors["id"].tolist() == ["broken", "alsobroken"]
    assert errors["row"].tolist() == [11, 12] and errors["reason"].str.contains("RDKit").all()


def test_deeppurpose_library_with_named_columns(model_dir, fasta, tmp_path, capsys):
    """--id-column 1 --smiles-column 2 reads DeepPurpose's `name SMILES` lines: the same hits as the .smi with the
    fields the other way round; a column name in a .smi (no header) is one error line, exit 2."""
    (tmp_path / "dp.smi").write_text("".join(f"C{i:04d} {s}\n" for i, s in enumerate(SMILES[:8])))
    (tmp_path / "ref.smi").write_text("".join(f"{s} C{i:04d}\n" for i, s in enumerate(SMILES[:8])))
    base = ["screen", "--model", str(model_dir), "--targets", str(fasta)]
    assert main([*base, "--compounds", str(tmp_path / "ref.smi"), "--out", str(tmp_path / "ref.tsv")]) == 0
    assert main([*base, "--compounds", str(tmp_path / "dp.smi"), "--id-column", "1", "--smiles-column", "2",
                 "--out", str(tmp_path / "dp.tsv")]) == 0
    hits = pd.read_csv(tmp_path / "dp.tsv", sep="\t")
    assert set(hits["compound_id"]) == {f"C{i:04d}" for i in range(8)}
    pd.testing.assert_frame_equal(hits, pd.read_csv(tmp_path / "ref.tsv", sep="\t"))
    capsys.readouterr()
    assert main([*base, "--compounds", str(tmp_path / "dp.smi"), "--id-column", "name", "--out",
                 str(tmp_path / "bad.tsv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a .smi file has no header" in err and "Traceback" not in err
    assert not (tmp_path / "bad.tsv").exists()


def test_gzipped_csv_to_parquet_with_top_k(model_dir, fasta, tmp_path):
    library = tmp_path / "lib.csv.gz"
    with gzip.open(library, "wt") as handle:
        handle.write("compound_id,smiles\n" + "".join(f"M{i},{s}\n" for i, s in enumerate(SMILES)))
    out = tmp_path / "hits.parquet"
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(out), "--top-k", "3"]) == 0
    table = pd.read_parquet(out)
    assert list(table.columns) == ["compound_id", "target_id", "prediction", "rank"]
    assert len(table) == 3 * 6 and table["rank"].tolist() == [1, 2, 3] * 6


def test_sdf_library(model_dir, fasta, tmp_path):
    from rdkit import Chem

    library = tmp_path / "lib.sdf"
    with Chem.SDWriter(str(library)) as writer:
        for i, smi in enumerate(SMILES[:5]):
            mol = Chem.MolFromSmiles(smi)
            mol.SetProp("_Name", f"S{i}")
            writer.write(mol)
    out = tmp_path / "hits.tsv"
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(out), "--min-affinity", "-1000"]) == 0
    assert set(pd.read_csv(out, sep="\t")["compound_id"]) == {f"S{i}" for i in range(5)}


def test_duplicate_ids_fail_before_any_work(model_dir, fasta, tmp_path, capsys):
    library = tmp_path / "lib.smi"
    library.write_text("CCO a\nCCC b\nCCN a\n")
    out = tmp_path / "hits.tsv"
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "duplicate compound id 'a'" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--panel", "nope"], "no panel 'nope'"),
    (["--targets", "missing.fasta"], "not found"),
    (["--targets", "{fasta}", "--top-k", "0"], "--top-k 0"),
])
def test_bad_inputs_exit_2_with_one_line(model_dir, fasta, tmp_path, capsys, extra, message):
    library = write_smi(tmp_path / "lib.smi", SMILES[:3])
    out = tmp_path / "hits.tsv"
    extra = [e.format(fasta=fasta) for e in extra]
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_targets_and_panel_are_exclusive(model_dir, fasta, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["screen", "--model", str(model_dir), "--compounds", "x.smi", "--out", "o.tsv",
              "--targets", str(fasta), "--panel", "p"])
    assert exit_.value.code == 2


def test_corrupt_model_dir_is_a_clear_error(model_dir, fasta, tmp_path, capsys):
    broken = shutil.copytree(model_dir, tmp_path / "broken")
    (broken / "weights.safetensors").write_bytes(b"\x00garbage")
    library = write_smi(tmp_path / "lib.smi", SMILES[:3])
    assert main(["screen", "--model", str(broken), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(tmp_path / "hits.tsv")]) == 2
    assert "weights.safetensors" in capsys.readouterr().err


def test_panels_add_list_and_screen(model_dir, fasta, tmp_path, capsys):
    model = shutil.copytree(model_dir, tmp_path / "model")
    assert main(["affinity", "panels", "--model", str(model), "--add", "kin", "--targets", str(fasta)]) == 0
    capsys.readouterr()
    assert main(["affinity", "panels", "--model", str(model)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing == ["name\ttargets\tstatus\tsource", "kin\t6\tok\ttargets.fasta"]
    library = write_smi(tmp_path / "lib.smi", SMILES[:8])
    for flag, value, name in (("--panel", "kin", "a.tsv"), ("--targets", str(fasta), "b.tsv")):
        assert main(["screen", "--model", str(model), "--compounds", str(library), flag, value,
                     "--out", str(tmp_path / name), "--top-k", "2"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.tsv", sep="\t"), pd.read_csv(tmp_path / "b.tsv", sep="\t"))
    assert main(["affinity", "panels", "--model", str(model), "--add", "kin"]) == 2


def test_help_explains_every_flag():
    result = subprocess.run([sys.executable, "-m", "genoscreen", "screen", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--model", "--compounds", "--targets", "--panel", "--out", "--top-k", "--min-affinity"):
        assert flag in result.stdout


def test_progress_bar_shows_pairs_per_second_and_eta(model_dir, fasta, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENOSCREEN_PROGRESS", "1")
    library = write_smi(tmp_path / "lib.smi", SMILES[:8])
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(tmp_path / "hits.tsv")]) == 0
    err = capsys.readouterr().err
    assert "screening" in err and "pairs/s" in err and "<" in err  # tqdm: elapsed<remaining, rate


def test_ids_with_quotes_and_tabs_read_back_with_pandas(model_dir, fasta, tmp_path):
    """The hits TSV quotes an id that holds a tab or a double quote, as csv and pandas expect."""
    library = tmp_path / "lib.csv"
    names = ['"q1', "tab\there", "plain"]
    quoted = ['"""q1"', '"tab\there"', "plain"]
    library.write_text("compound_id,smiles\n" + "".join(f"{q},{s}\n" for q, s in zip(quoted, SMILES)))
    out = tmp_path / "hits.tsv"
    assert main(["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta),
                 "--out", str(out)]) == 0
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 3 * 6 and sorted(set(table["compound_id"])) == sorted(names)
    assert table["rank"].notna().all() and table["prediction"].notna().all()


def test_allow_empty_writes_a_header_only_table(model_dir, fasta, tmp_path, capsys):
    """A library chunk with no valid compound: an error by default, a header-only table with --allow-empty."""
    library = tmp_path / "chunk.smi"
    library.write_text("C1CC( broken\n")
    out = tmp_path / "hits.tsv"
    args = ["screen", "--model", str(model_dir), "--compounds", str(library), "--targets", str(fasta), "--out", str(out)]
    assert main(args) == 2 and "no valid compounds" in capsys.readouterr().err and not out.exists()
    assert main([*args, "--allow-empty"]) == 0
    assert out.read_text() == "compound_id\ttarget_id\tprediction\trank\n"
    assert pd.read_csv(tmp_path / "hits.tsv.errors.tsv", sep="\t")["id"].tolist() == ["broken"]


@pytest.mark.skipif(not (Path(__file__).resolve().parents[2] / "resources" / "models" / "dta-bindingdb"
                         / "weights.safetensors").exists(), reason="the shipped dta-bindingdb is not present")
def test_screen_and_predict_default_to_the_general_model(fasta, tmp_path):
    """Without --model, `screen` and `affinity predict` use the shipped general model dta-bindingdb (its panel too):
    the same numbers as that model's per-pair path."""
    import numpy as np

    from genoscreen.affinity.checkpoint import load_model
    from genoscreen.common.resources import find_model
    from screening_helpers import per_pair_predictions

    library = write_smi(tmp_path / "lib.smi", SMILES[:3])
    assert main(["screen", "--compounds", str(library), "--targets", str(fasta), "--out", str(tmp_path / "h.tsv")]) == 0
    hits = pd.read_csv(tmp_path / "h.tsv", sep="\t", dtype={"compound_id": str})
    model, config = load_model(find_model("dta-bindingdb"))
    proteins = random_proteins(6, seed=7)
    expected = per_pair_predictions(model, config, SMILES[:3], list(proteins.values()))
    ids = [f"C{i:04d}" for i in range(3)]  # write_smi's ids
    table = hits.pivot(index="compound_id", columns="target_id", values="prediction").loc[ids, list(proteins)]
    np.testing.assert_allclose(table.to_numpy(), expected, atol=1e-4)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("drug_id\ttarget_id\n" + "".join(f"{c}\t{t}\n" for c, t in zip(hits["compound_id"][:3],
                                                                                      hits["target_id"][:3])))
    assert main(["affinity", "predict", "--drugs", str(library), "--targets", str(fasta), "--pairs", str(pairs),
                 "--out", str(tmp_path / "p.tsv")]) == 0
    predicted = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    np.testing.assert_allclose(predicted["prediction"], hits["prediction"][:3], atol=1e-5)
    assert main(["screen", "--compounds", str(library), "--panel", "bindingdb", "--top-k", "5",
                 "--out", str(tmp_path / "panel.tsv")]) == 0
    panel = pd.read_csv(tmp_path / "panel.tsv", sep="\t")
    assert len(panel) == 3 * 1523 and panel["target_id"].nunique() == 1523
