"""The screening engine: factorised tiles equal the model's per-pair path and `predict`; top-K, ranking, blocks, ties, writers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screening_helpers import SMILES, per_pair_predictions, random_proteins
from genoscreen.screening.screen import FullRanking, TileShape, TopK, block_width, screen_compounds

SMALL_TILE = TileShape(compounds=4, targets=8, chunk=12)  # forces several chunks, tiles and padding


@pytest.fixture(scope="module")
def proteins():
    return random_proteins(11, seed=1)


@pytest.fixture(scope="module")
def reference(tiny_model, proteins):
    model, config = tiny_model
    return per_pair_predictions(model, config, SMILES, list(proteins.values()))


def run(tiny_model, proteins, out, **kwargs):
    from genoscreen.screening.encoding import encode_targets

    model, config = tiny_model
    ids = [f"C{i:04d}" for i in range(len(kwargs.get("smiles", SMILES)))]
    smiles = kwargs.pop("smiles", SMILES)
    feats = encode_targets(model, config, list(proteins.values()))
    summary = screen_compounds(model, config, ids, smiles, list(proteins), feats, out, **kwargs)
    table = pd.read_parquet(out) if str(out).endswith(".parquet") else pd.read_csv(out, sep="\t", dtype={"compound_id": str})
    return summary, table


def as_matrix(table, proteins):
    pivot = table.pivot(index="compound_id", columns="target_id", values="prediction")
    return pivot.loc[[f"C{i:04d}" for i in range(len(SMILES))], list(proteins)].to_numpy()


def test_tile_scores_equal_model_head(tiny_model):
    import jax.numpy as jnp

    from genoscreen.affinity.inference import AffinityEngine

    model, _ = tiny_model
    rng = np.random.default_rng(0)
    drugs = rng.random((5, model.n_features), dtype=np.float32)
    targets = rng.random((7, model.n_features), dtype=np.float32)
    sm = AffinityEngine(model)
    ours = np.asarray(sm.score_tile(drugs, sm.project_targets(targets)))
    ref = np.asarray(model.head(jnp.asarray(np.repeat(drugs, 7, axis=0)), jnp.asarray(np.tile(targets, (5, 1)))))
    np.testing.assert_allclose(ours, ref.reshape(5, 7), atol=1e-5)


def test_screen_and_predict_give_the_same_numbers(tiny_model, proteins, tmp_path):
    """One engine: `screen`'s tiles and `affinity predict`'s listed pairs score every pair alike."""
    from genoscreen.affinity.data import prepare_data
    from genoscreen.affinity.inference import predict

    model, config = tiny_model
    ids = [f"C{i:04d}" for i in range(len(SMILES))]
    pairs = pd.DataFrame([(d, t) for d in ids for t in proteins], columns=["drug_id", "target_id"])
    data = prepare_data(ids, SMILES, proteins, pairs, config)
    listed = predict(model, data).reshape(len(ids), len(proteins))
    _, table = run(tiny_model, proteins, tmp_path / "hits.parquet", tile=SMALL_TILE)
    np.testing.assert_allclose(as_matrix(table, proteins), listed, atol=1e-5)


def test_full_table_equals_per_pair_path_sorted_by_target_then_rank(tiny_model, proteins, reference, tmp_path):
    summary, table = run(tiny_model, proteins, tmp_path / "hits.tsv", tile=SMALL_TILE)
    assert list(table.columns) == ["compound_id", "target_id", "prediction", "rank"]
    assert len(table) == summary.rows == summary.pairs == len(SMILES) * len(proteins)
    np.testing.assert_allclose(as_matrix(table, proteins), reference, atol=1e-5)
    assert table["target_id"].is_monotonic_increasing
    for _, group in table.groupby("target_id", sort=False):
        assert group["rank"].tolist() == list(range(1, len(SMILES) + 1))
        assert (np.diff(group["prediction"].to_numpy()) <= 0).all()


def test_top_k_is_the_head_of_the_full_ranking(tiny_model, proteins, tmp_path):
    _, full = run(tiny_model, proteins, tmp_path / "full.tsv", tile=SMALL_TILE)
    _, top = run(tiny_model, proteins, tmp_path / "top.tsv", tile=SMALL_TILE, top_k=5)
    expected = full[full["rank"] <= 5].reset_index(drop=True)
    pd.testing.assert_frame_equal(top, expected)


def test_top_k_beyond_the_merge_size_ranks_fully(tiny_model, proteins, tmp_path):
    _, full = run(tiny_model, proteins, tmp_path / "full.tsv", tile=SMALL_TILE)
    _, top = run(tiny_model, proteins, tmp_path / "top.tsv", tile=SMALL_TILE, top_k=20)  # <= 8 chunks of 12: merged
    _, huge = run(tiny_model, proteins, tmp_path / "huge.tsv", tile=SMALL_TILE, top_k=1000)  # > 8 x 12: full ranking
    pd.testing.assert_frame_equal(huge, full)
    pd.testing.assert_frame_equal(top, full[full["rank"] <= 20].reset_index(drop=True))


def test_min_affinity_keeps_the_strong_rows_with_their_ranks(tiny_model, proteins, tmp_path):
    _, full = run(tiny_model, proteins, tmp_path / "full.tsv")
    threshold = float(full["prediction"].median())
    _, kept = run(tiny_model, proteins, tmp_path / "kept.tsv", min_affinity=threshold)
    assert (kept["prediction"] >= threshold).all()
    pd.testing.assert_frame_equal(kept, full[full["prediction"] >= threshold].reset_index(drop=True))


def test_target_blocks_give_the_same_table(tiny_model, proteins, tmp_path):
    _, one = run(tiny_model, proteins, tmp_path / "one.tsv", tile=SMALL_TILE)
    # A score budget of 8 targets' columns forces two target blocks.
    _, blocks = run(tiny_model, proteins, tmp_path / "blocks.tsv", tile=SMALL_TILE, score_memory=8 * 4 * len(SMILES))
    pd.testing.assert_frame_equal(one, blocks)


def test_parquet_equals_tsv(tiny_model, proteins, tmp_path):
    _, tsv = run(tiny_model, proteins, tmp_path / "hits.tsv", top_k=3)
    _, parquet = run(tiny_model, proteins, tmp_path / "hits.parquet", top_k=3)
    assert str(parquet["prediction"].dtype) == "float32" and str(parquet["rank"].dtype) == "int64"
    pd.testing.assert_frame_equal(parquet[["compound_id", "target_id", "rank"]], tsv[["compound_id", "target_id", "rank"]])
    np.testing.assert_allclose(parquet["prediction"], tsv["prediction"], atol=1e-6)


def test_identical_compounds_rank_in_input_order(tiny_model, proteins, tmp_path):
    smiles = ["CCO"] * 10 + ["c1ccccc1"] * 10
    _, full = run(tiny_model, proteins, tmp_path / "full.tsv", smiles=smiles, tile=SMALL_TILE)
    _, top = run(tiny_model, proteins, tmp_path / "top.tsv", smiles=smiles, tile=SMALL_TILE, top_k=3)
    for table in (full, top):
        for _, group in table.groupby("target_id"):
            for _, same in group.groupby("prediction"):
                assert same["compound_id"].is_monotonic_increasing
    pd.testing.assert_frame_equal(top, full[full["rank"] <= 3].reset_index(drop=True))


def test_top_k_collector_matches_a_full_sort_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(50, 3)).astype(np.float32)  # many ties
    collector = TopK(3, k=7)
    for start in range(0, 50, 9):
        collector.add(start, scores[start : start + 9])
    for j in range(3):
        expected = np.lexsort((np.arange(50), -scores[:, j]))[:7]
        index, values = collector.ranked(j)
        assert index.tolist() == expected.tolist()
        assert values.tolist() == scores[expected, j].tolist()
    full = FullRanking(50, 3)
    full.add(0, scores)
    assert full.ranked(1)[0].tolist() == np.lexsort((np.arange(50), -scores[:, 1])).tolist()


def test_block_width_respects_the_memory_budget():
    assert block_width(1000, 500, top_k=10, tile_targets=32) == 500
    assert block_width(10**6, 500, top_k=100, tile_targets=32) == 500
    width = block_width(10**6, 500, top_k=None, tile_targets=32, score_memory=256 << 20)
    assert width % 32 == 0 and width * 4 * 10**6 <= 256 << 20
    assert block_width(10**5, 500, top_k=None, tile_targets=32, score_memory=10 * 4 * 10**5) == 10
    assert block_width(10**9, 500, top_k=None, tile_targets=32, score_memory=1 << 20) == 1


def test_failed_write_leaves_no_output(tmp_path):
    from genoscreen.affinity.io.hits import HitWriter

    out = tmp_path / "hits.tsv"
    with pytest.raises(RuntimeError):
        with HitWriter(out) as writer:
            writer.write(np.array(["a"], dtype=object), "T", np.array([1.0], np.float32), np.array([1]))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_bad_top_k_is_an_input_error(tiny_model, proteins, tmp_path):
    from genoscreen.common.errors import InputError

    with pytest.raises(InputError, match="top-k"):
        run(tiny_model, proteins, tmp_path / "x.tsv", top_k=0)


def test_any_spelling_of_a_molecule_gets_the_same_prediction(tiny_model_dir, proteins, tmp_path):
    """`screen` and `affinity predict` standardise every SMILES: RDKit-randomised spellings, the kekulé form and a
    salt of one molecule score alike (|Δ| < 1e-5), and alike in both commands."""
    from rdkit import Chem

    from genoscreen.affinity.predict import predict_pairs
    from genoscreen.screening.screen import screen
    from screening_helpers import write_fasta

    imatinib = Chem.MolFromSmiles(SMILES[9])
    spellings = [SMILES[9], Chem.MolToSmiles(imatinib, kekuleSmiles=True), "CS(=O)(=O)O." + SMILES[9]]
    spellings += [Chem.MolToSmiles(imatinib, doRandom=True) for _ in range(12)]
    assert len(set(spellings)) > 8
    lib = tmp_path / "lib.smi"
    lib.write_text("".join(f"{s}\tS{i:02d}\n" for i, s in enumerate(spellings)))
    fasta = write_fasta(tmp_path / "t.fasta", proteins)
    screen(tiny_model_dir, lib, tmp_path / "hits.tsv", targets=fasta)
    hits = pd.read_csv(tmp_path / "hits.tsv", sep="\t")
    spread = hits.groupby("target_id")["prediction"].agg(lambda v: v.max() - v.min())
    assert len(hits) == len(spellings) * len(proteins) and (spread < 1e-5).all()
    pairs = tmp_path / "pairs.tsv"
    pd.DataFrame([(f"S{i:02d}", t) for i in range(len(spellings)) for t in proteins],
                 columns=["drug_id", "target_id"]).to_csv(pairs, sep="\t", index=False)
    listed = predict_pairs(tiny_model_dir, lib, fasta, pairs, tmp_path / "pred.tsv")
    merged = listed.merge(hits, left_on=["drug_id", "target_id"], right_on=["compound_id", "target_id"])
    np.testing.assert_allclose(merged["prediction_x"], merged["prediction_y"], atol=1e-5)


def test_long_inputs_are_named_per_record(tiny_model_dir, tmp_path):
    """Inputs longer than the model reads are scored from their first max_len characters and named, one row each,
    in `<out>.truncated.tsv` (a header only when none is cut)."""
    from genoscreen.affinity.checkpoint import read_model_config
    from genoscreen.affinity.predict import predict_pairs
    from genoscreen.affinity.io.truncations import TRUNCATION_HEADER
    from genoscreen.screening.screen import screen
    from screening_helpers import write_fasta

    config, _ = read_model_config(tiny_model_dir)
    long_smiles = "C" * (config.max_drug_len + 5)
    proteins = random_proteins(3, seed=2, max_len=config.max_target_len)
    proteins["LONG"] = "M" + random_proteins(1, seed=5, min_len=config.max_target_len,
                                             max_len=config.max_target_len + 1)["T000"]
    lib = tmp_path / "lib.smi"
    lib.write_text(f"CCO\tshort\n{long_smiles}\tlong_one\n")
    fasta = write_fasta(tmp_path / "t.fasta", proteins)
    screen(tiny_model_dir, lib, tmp_path / "hits.tsv", targets=fasta)
    table = pd.read_csv(tmp_path / "hits.tsv.truncated.tsv", sep="\t")
    assert tuple(table.columns) == TRUNCATION_HEADER
    assert table.values.tolist() == [["compound", "long_one", config.max_drug_len + 5, config.max_drug_len],
                                     ["target", "LONG", config.max_target_len + 1, config.max_target_len]]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("drug_id\ttarget_id\nshort\tT000\nlong_one\tLONG\n")
    predict_pairs(tiny_model_dir, lib, fasta, pairs, tmp_path / "pred.tsv")
    listed = pd.read_csv(tmp_path / "pred.tsv.truncated.tsv", sep="\t")
    assert sorted(listed["id"]) == ["LONG", "long_one"]
    lib.write_text("CCO\tshort\n")
    screen(tiny_model_dir, lib, tmp_path / "hits.tsv", targets=write_fasta(tmp_path / "t.fasta", {"T0": "MKVLE"}))
    assert pd.read_csv(tmp_path / "hits.tsv.truncated.tsv", sep="\t").empty  # the earlier table does not linger


def test_a_model_trained_on_smiles_as_typed_is_refused(tiny_model_dir, tmp_path):
    import json
    import shutil

    from genoscreen.affinity.checkpoint import load_model
    from genoscreen.common.errors import InputError

    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    meta = json.loads((old / "config.json").read_text())
    del meta["smiles_form"]
    (old / "config.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="trained on SMILES as typed.*retrain"):
        load_model(old)


def test_mutant_shifts_are_the_difference_of_full_predictions(tiny_model_dir, tmp_path, capsys):
    """`screen --mutants`: every compound's mutant − wild-type prediction, ranked by |delta| per mutant, equals the
    two targets' own predictions (also with --top-k, which keeps only the best hits)."""
    from genoscreen.cli import main
    from genoscreen.affinity.io.shifts import SHIFT_COLUMNS
    from screening_helpers import write_fasta, write_smi

    wild = random_proteins(2, seed=9)
    a, b = list(wild)
    mutants = {f"{a}:p.Xaa10Trp": wild[a][:9] + "W" + wild[a][10:], f"{b}(K3R)": wild[b][:2] + "R" + wild[b][3:],
               f"{a}:p.Xaa20del": wild[a][:19] + wild[a][20:]}
    lib = write_smi(tmp_path / "lib.smi", SMILES[:9])
    common = ["screen", "--model", str(tiny_model_dir), "--compounds", str(lib), "--targets",
              str(write_fasta(tmp_path / "wt.fasta", wild)), "--mutants", str(write_fasta(tmp_path / "m.fasta", mutants))]
    assert main([*common, "--out", str(tmp_path / "all.tsv")]) == 0
    assert main([*common, "--top-k", "1", "--out", str(tmp_path / "top.tsv")]) == 0
    hits = pd.read_csv(tmp_path / "all.tsv", sep="\t").set_index(["compound_id", "target_id"])["prediction"]
    for name in ("all.tsv", "top.tsv"):
        shifts = pd.read_csv(tmp_path / f"{name}.shifts.tsv", sep="\t")
        assert tuple(shifts.columns) == SHIFT_COLUMNS and len(shifts) == 9 * 3
        for r in shifts.itertuples():
            assert r.wt_prediction == pytest.approx(hits[(r.compound_id, r.target_id)], abs=1e-5)
            assert r.mutant_prediction == pytest.approx(hits[(r.compound_id, r.mutant_id)], abs=1e-5)
            assert r.delta == pytest.approx(r.mutant_prediction - r.wt_prediction, abs=1e-5)
        for _, g in shifts.groupby("mutant_id"):
            assert g["rank"].tolist() == list(range(1, 10)) and g["delta"].abs().is_monotonic_decreasing
        assert set(shifts["target_id"]) == {a, b}
    capsys.readouterr()
    other = write_fasta(tmp_path / "other.fasta", {"NOPE:p.Ala2Val": "MKVLE", **dict(list(mutants.items())[:1])})
    assert main([*common[:-1], str(other), "--out", str(tmp_path / "other.tsv")]) == 0  # a gene outside: skipped
    assert "1 mutant(s) skipped, their wild type is not in" in capsys.readouterr().err
    assert set(pd.read_csv(tmp_path / "other.tsv.shifts.tsv", sep="\t")["mutant_id"]) == {list(mutants)[0]}
    (tmp_path / "none.fasta").write_text("")
    assert main([*common[:-1], str(tmp_path / "none.fasta"), "--out", str(tmp_path / "none.tsv")]) == 0
    assert pd.read_csv(tmp_path / "none.tsv.shifts.tsv", sep="\t").empty  # a sample without protein changes
    bad = write_fasta(tmp_path / "bad.fasta", {"not_a_mutant": "MKVLE"})
    assert main([*common[:-1], str(bad), "--out", str(tmp_path / "bad.tsv")]) == 2
    err = capsys.readouterr().err
    assert "not a mutant name" in err and not (tmp_path / "bad.tsv").exists()
