"""The one config mechanism (genoscreen.common.config): `--set KEY=VALUE` over frozen nested dataclasses, typed from
the annotations, with one-line errors; the same keys for both models; flags derived from the fields."""

from __future__ import annotations

import argparse
import dataclasses
import enum
from typing import Literal

import pytest

from genoscreen.common.config import (add_config_flags, config_from_args, config_keys, override, replace_values,
                                      setting)
from genoscreen.common.errors import InputError


class Mode(enum.Enum):
    fast = 1
    slow = 2


@dataclasses.dataclass(frozen=True)
class Inner:
    width: int = setting(4, "layer width")
    rate: float = setting(0.5, "a rate")
    flag: bool = setting(True, "a switch")
    sizes: tuple[int, ...] = setting((1, 2), "any number of sizes")
    pair: tuple[int, int] = setting((3, 4), "exactly two")
    kind: Literal["a", "b"] = setting("a", "a choice")
    mode: Mode = setting(Mode.fast, "an enum")


@dataclasses.dataclass(frozen=True)
class Outer:
    inner: Inner
    name: str = setting("x", "a name")


@dataclasses.dataclass(frozen=True)
class Flat:
    name: str = setting("p", settable=False)
    epochs: int = setting(3, "passes", group="train")
    hidden: int = setting(8, "width", group="model")


BASE = Outer(inner=Inner())


def test_nested_keys_are_typed_from_annotations():
    config = override(BASE, ["inner.width=16", "inner.rate=1e-3", "inner.flag=false", "inner.sizes=5,6,7",
                             "inner.pair=9,10", "inner.kind=b", "inner.mode=slow", "name=y"])
    assert config == Outer(Inner(width=16, rate=1e-3, flag=False, sizes=(5, 6, 7), pair=(9, 10), kind="b",
                                 mode=Mode.slow), name="y")
    assert isinstance(config.inner.rate, float) and config.inner.flag is False
    assert override(BASE, ["inner.flag=yes"]).inner.flag is True
    assert override(BASE, []) is not None and override(BASE, []) == BASE  # frozen: a new object, same values
    assert BASE.inner.width == 4  # the original is untouched


def test_keys_listed_in_field_order_and_grouped_flat_fields():
    assert config_keys(Outer) == ["inner.width", "inner.rate", "inner.flag", "inner.sizes", "inner.pair",
                                  "inner.kind", "inner.mode", "name"]
    assert config_keys(Flat) == ["train.epochs", "model.hidden"]  # `name` is not settable
    flat = Flat()
    assert override(flat, ["train.epochs=5", "hidden=2"]) == Flat(epochs=5, hidden=2)  # bare field name too
    assert replace_values(flat, {"train.epochs": 7, "model.hidden": None}) == Flat(epochs=7)  # None: unchanged


@pytest.mark.parametrize("item, message", [
    ("inner.widht=3", "--set inner.widht=3: unknown key 'inner.widht'; did you mean inner.width? valid keys: "
                      "inner.width, inner.rate,"),
    ("inner=3", "unknown key 'inner'"),
    ("width", "--set width: expected KEY=VALUE"),
    ("inner.width=3.5", "--set inner.width='3.5': expected an int"),
    ("inner.rate=fast", "--set inner.rate='fast': expected a number"),
    ("inner.flag=maybe", "--set inner.flag='maybe': expected true or false"),
    ("inner.pair=1,2,3", "--set inner.pair='1,2,3': expected 2 comma-separated values, each an int"),
    ("inner.sizes=1,x", "--set inner.sizes='1,x': expected comma-separated values, each an int"),
    ("inner.kind=c", "--set inner.kind='c': choose a or b"),
    ("inner.mode=medium", "--set inner.mode='medium': choose fast or slow"),
])
def test_bad_key_or_value_is_one_line(item, message):
    with pytest.raises(InputError) as err:
        override(BASE, [item])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_both_models_share_keys():
    from genoscreen.affinity.configs import PRESETS as AFFINITY
    from genoscreen.caller.configs import PRESETS as CALLER

    caller = override(CALLER["test"], ["train.epochs=5", "model.hidden=32", "model.stage_features=4,4,4",
                                       "train.class_balance=false", "train.learning_rate=0.1"])
    assert (caller.train.epochs, caller.model.hidden, caller.model.stage_features) == (5, 32, (4, 4, 4))
    assert caller.train.class_balance is False and caller.train.learning_rate == 0.1
    assert caller.train.batch_size == CALLER["test"].train.batch_size  # the rest is the preset's
    affinity = override(AFFINITY["test"], ["train.epochs=5", "model.dense=16,16,8", "train.batching=pair"])
    assert (affinity.epochs, affinity.dense, affinity.batching) == (5, (16, 16, 8), "pair")
    with pytest.raises(InputError, match="--set model.dense='16,8': expected 3 comma-separated values, each an int"):
        override(AFFINITY["test"], ["model.dense=16,8"])  # the network has three dense layers
    common = {"train.epochs", "train.batch_size", "train.learning_rate", "train.warmup_steps", "train.seed"}
    assert common <= set(config_keys(CALLER["test"])) & set(config_keys(AFFINITY["test"]))
    with pytest.raises(InputError, match="--set epochs=-1: expected a non-negative int"):
        override(AFFINITY["test"], ["train.epochs=-1"])  # refused by AffinityConfig itself, named as the --set


def test_flags_derive_help_and_defaults_and_set_wins():
    presets = {"small": Outer(Inner(width=2)), "big": Outer(Inner(width=64))}
    flags = {"--width": "inner.width", "--rate": "inner.rate"}
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Outer, flags, presets)
    text = parser.format_help()
    assert "layer width (= --set inner.width=...; default: the preset's: small 2, big 64)" in " ".join(text.split())
    assert "default: the preset's, 0.5" in " ".join(text.split())
    args = parser.parse_args(["--width", "7", "--rate", "0.25"])
    assert config_from_args(presets["small"], args, flags).inner == Inner(width=7, rate=0.25)
    args = parser.parse_args(["--width", "7", "--set", "inner.width=9"])
    assert config_from_args(presets["small"], args, flags).inner.width == 9
    assert config_from_args(presets["big"], parser.parse_args([]), flags) == presets["big"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--width", "wide"])


@pytest.mark.parametrize("module, what", [("genoscreen.caller.configs", "caller"),
                                          ("genoscreen.affinity.configs", "affinity"),
                                          ("genoscreen.variants.pileup_config", "pileup")])
def test_presets_are_looked_up_one_way(module, what):
    import importlib

    from genoscreen.common.config import preset

    presets = importlib.import_module(module).PRESETS
    assert preset(presets, "test", what) is presets["test"]
    with pytest.raises(InputError, match=f"--preset big: unknown {what} preset; choose one of .*test"):
        preset(presets, "big", what)


def test_shipped_models_configs_read_as_their_presets():
    """The stored layouts are unchanged: dta-davis/dta-kiba's flat config.json and caller-wgs-illumina's model.json
    read back as the presets they were trained from, and write back byte-for-byte the same dict."""
    import json
    from pathlib import Path

    from genoscreen.affinity.configs import PRESETS as AFFINITY
    from genoscreen.affinity.configs import AffinityConfig
    from genoscreen.caller.configs import PRESETS as CALLER
    from genoscreen.caller.configs import ModelConfig

    models = Path(__file__).resolve().parents[3] / "resources" / "models"
    for name, preset_name in (("dta-davis", "davis"), ("dta-kiba", "kiba")):
        stored = json.loads((models / name / "config.json").read_text())["config"]
        config = AffinityConfig.from_dict(stored)
        assert config == AFFINITY[preset_name] and config.to_dict() == stored
    stored = json.loads((models / "caller-wgs-illumina" / "model.json").read_text())["model"]
    assert ModelConfig.from_dict(stored) == CALLER["default"].model and ModelConfig.from_dict(stored).to_dict() == stored
