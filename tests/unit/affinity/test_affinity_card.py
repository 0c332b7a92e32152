"""Model cards name what a user needs to reproduce and trust the model: data, settings, training, CV."""

from genoscreen.affinity.card import render_model_card
from genoscreen.affinity.configs import get_preset

SUMMARY = {
    "inputs": {"drugs": "d.tsv", "targets": "t.fasta", "pairs": "p.tsv"}, "n_drugs": 3, "n_targets": 2,
    "n_train_pairs": 6, "train_folds": [0, 1], "epochs_run": 2, "stopped": "epochs", "steps": 4, "wall_s": 1.5,
    "device": "cpu:cpu x1", "command": "genoscreen affinity train --preset kiba", "history": [{"train_mse": 0.5}],
}


def test_card_states_warm_up_and_weight_average():
    card = render_model_card(get_preset("kiba", ema_decay=0.999, warmup_steps=400), SUMMARY)
    assert "linear warm-up over 400 steps" in card
    assert "moving average of the training weights (decay 0.999)" in card
    assert "`genoscreen affinity train --preset kiba`" in card and "final training MSE: 0.5000" in card
    plain = render_model_card(get_preset("test"), SUMMARY)
    assert "moving average" not in plain and "warm-up" not in plain


def test_card_tabulates_the_cv_folds():
    cv = {"command": "genoscreen affinity cv", "device": "cpu", "wall_s": 3.0,
          "table": [{"fold": "0", "n": 10, "ci": 0.8, "mse": 0.2, "epochs": 5},
                    {"fold": "mean", "n": float("nan"), "ci": 0.8, "mse": 0.2}]}
    card = render_model_card(get_preset("test"), SUMMARY, cv)
    assert "| 0 | 10 | 0.8000 | 0.2000 |" in card and "| mean |  | 0.8000 |" in card
