"""Caller presets as data: the network's size and the training schedule.

`default` is the shipped Illumina WGS model; `test` shrinks everything so the tests train in seconds on a CPU.
Presets differ by a few named fields, never by copied code.
"""

from __future__ import annotations

import dataclasses

from genoscreen.common.config import from_json_dict, to_json_dict
from genoscreen.common.errors import InputError


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The CNN: a stem conv, then stages that halve the pileup and widen the channels, each with a residual block."""

    stem_features: int = 16
    stem_strides: tuple[int, int] = (2, 1)  # halve the read rows at once; keep every column around the candidate
    stage_features: tuple[int, ...] = (24, 48, 64)
    hidden: int = 64  # dense layer after pooling over the read rows
    num_classes: int = 3  # 0, 1 or 2 copies of the alt allele(s) the example represents

    def to_dict(self) -> dict:
        return to_json_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return from_json_dict(cls, d)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule. The batch is global: it is split across devices when several are present."""

    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    label_smoothing: float = 0.01
    class_balance: bool = True  # weight the loss by inverse class frequency (hom-ref candidates dominate)
    max_examples_per_epoch: int = 0  # 0 = all; >0 samples that many (without replacement) per epoch
    eval_batch_size: int = 256
    seed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CallerConfig:
    model: ModelConfig
    train: TrainConfig
    pileup_preset: str  # name in genoscreen.variants.pileup_config.PRESETS the preset expects


PRESETS: dict[str, CallerConfig] = {
    "default": CallerConfig(model=ModelConfig(), train=TrainConfig(), pileup_preset="default"),
    "test": CallerConfig(
        model=ModelConfig(stem_features=4, stage_features=(8, 8), hidden=8),
        train=TrainConfig(epochs=2, batch_size=8, learning_rate=1e-2, warmup_steps=2, eval_batch_size=16),
        pileup_preset="test",
    ),
}


def get_config(name: str) -> CallerConfig:
    """Return the named preset, or an InputError listing the choices."""
    if name not in PRESETS:
        raise InputError(f"--preset {name}: unknown caller preset; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
