"""`genoscreen caller-card`: the model card comes from the files of the run (table, history, calibration, held-out
evaluations, titration); a figure in an input file is a figure in the card."""

from __future__ import annotations

import json

import pytest

from genoscreen.caller.configs import PRESETS
from genoscreen.caller.train import SELECT_MEAN, train_and_evaluate
from genoscreen.common.config import override
from genoscreen.cli import main
from genoscreen.variants.pileup_config import PRESETS as PILEUPS
from tests.unit.caller.synthetic import make_examples_dir

TABLE = ("name\tsplit\tsource\tregions\tdepth\tdepths\tprofile\tread_length\n"
         "s01\ttrain\tsim\tq:1-1000\t30\t5,full\tHS25\t150\n"
         "v01\tval\tsim\tq:1001-2000\t30\tfull\tHSXt\t150\n")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny model trained for two epochs on two 'depth' folders, picked by the mean validation F1, calibrated."""
    from genoscreen.caller.calibrate import calibrate_model

    root = tmp_path_factory.mktemp("card")
    pileup = PILEUPS["test"]
    train = [make_examples_dir(root / "ex" / name, pileup, n=48, seed=i) for i, name in enumerate(["s01.5x", "s01.full"])]
    val = make_examples_dir(root / "ex" / "v01.full", pileup, n=32, seed=9)
    model = root / "model"
    history = train_and_evaluate(override(PRESETS["test"], ["train.epochs=2"]), train, model, [val],
                                 select_on=SELECT_MEAN, workdir=root / "work")
    calibrate_model(model, [val])
    (root / "table.tsv").write_text(TABLE)
    heldout = root / "t01.30x.eval.json"
    heldout.write_text(json.dumps({t: {"precision": 0.99, "recall": 0.98, "F1": 0.98497, "truth_alleles": 100}
                                   for t in ("SNP", "INDEL")}))
    row = {"set": "na12878_2x101", "in_sample": False, "depth": "5", "caller": "genoscreen", "scope": "region",
           "measured_depth": 5.1, "SNP": {"F1": 0.912345}, "INDEL": {"F1": 0.75}}
    titration = {"inputs": {"replicates": 2}, "provenance": ["# labels assume the split"],
                 "verdicts": ["VERDICT na12878_2x101: genoscreen SNP F1 >= bcftools at 5"],
                 "means": [row, {**row, "caller": "bcftools", "SNP": {"F1": 0.9}, "INDEL": {"F1": 0.7}}]}
    (root / "titration.json").write_text(json.dumps(titration))
    return root, model, history, heldout


def test_card_carries_the_runs_figures(run, capsys):
    root, model, history, heldout = run
    out = root / "MODEL_CARD.md"
    rc = main(["caller-card", "--model", str(model), "--training-data", str(root / "table.tsv"), "--history",
               str(root / "work" / "history.json"), str(root / "work" / "history.json"), "--name", "my-caller",
               "--titration", str(root / "titration.json"), "--heldout",
               str(heldout), "--out", str(out)])
    assert rc == 0
    card = out.read_text()
    assert card.startswith("# my-caller\n") and "snakemake --cores 2 train_caller" in card
    assert "### Stage 1: from scratch" in card and "### Stage 2" in card  # one curve per training stage
    assert "| s01 | train | sim | q:1-1000 | 30 | 5,full | HS25 | 150 |" in card  # the table as data
    assert "Training examples over all depths: 96" in card  # 48 + 48, from the folders' summary.json
    assert f"kept epoch {history['best_epoch']} by `{SELECT_MEAN}`" in card
    for epoch in history["epochs"]:
        assert f"| {epoch['epoch']} | {epoch['train_loss']:.4f} | {int(round(epoch['wall_s']))} |" in card
    assert "temperature T=" in card
    assert "| t01.30x | 0.9900 | 0.9800 | 0.9850 |" in card
    assert "**na12878_2x101**, scope `region`, out-of-sample" in card and "0.912 / 0.900" in card
    assert "VERDICT na12878_2x101" in card and "machine:" in card


def test_card_with_a_missing_input_is_one_line(run, capsys):
    root, model, _, _ = run
    rc = main(["caller-card", "--model", str(model), "--training-data", str(root / "table.tsv"), "--history",
               str(root / "nope.json"), "--out", str(root / "x.md")])
    assert rc == 2 and "nope.json: cannot read it as JSON" in capsys.readouterr().err
    assert not (root / "x.md").exists()
