"""Caller presets as data: the network's size and the training schedule.

`default` is the shipped Illumina WGS model; `test` shrinks everything so the tests train in seconds on a CPU.
Presets differ by a few named fields, never by copied code.
"""

from __future__ import annotations

import dataclasses

from genoscreen.common.config import from_json_dict, preset, setting, to_json_dict


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The CNN: a stem conv, then stages that halve the pileup and widen the channels, each with a residual block."""

    stem_features: int = setting(16, "channels of the stem convolution")
    stem_strides: tuple[int, int] = setting(
        (2, 1), "strides of the stem (rows, columns): halve the read rows at once; keep every column around the "
        "candidate")
    stage_features: tuple[int, ...] = setting((24, 48, 64), "channels of each stage (one stage per value)")
    hidden: int = setting(64, "width of the dense layer after pooling over the read rows")
    num_classes: int = setting(3, "genotype classes: 0, 1 or 2 copies of the alt allele(s) the example represents")

    def to_dict(self) -> dict:
        return to_json_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return from_json_dict(cls, d)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule. The batch is global: it is split across devices when several are present."""

    epochs: int = setting(10, "passes over the training examples")
    batch_size: int = setting(64, "global batch size, a multiple of the device count")
    learning_rate: float = setting(2e-3, "peak learning rate of the warmup-cosine schedule")
    weight_decay: float = setting(1e-4, "AdamW weight decay")
    warmup_steps: int = setting(100, "linear warm-up steps of the learning rate")
    label_smoothing: float = setting(
        0.01, "label smoothing of the loss; it caps the network's confidence (0.01 caps GQ near 22), so models "
        "calibrated with calibrate-caller train with 0")
    class_balance: bool = setting(True, "weight the loss by inverse class frequency (hom-ref candidates dominate)")
    max_examples_per_epoch: int = setting(0, "sample this many training examples per epoch (0 = all)")
    eval_batch_size: int = setting(256, "batch size of validation")
    seed: int = setting(0, "seed for initialisation and example order")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CallerConfig:
    """The model and its training, plus the pileup preset (genoscreen.variants.pileup_config.PRESETS) it expects.
    Override keys: `model.hidden`, `train.epochs`, `pileup_preset` (genoscreen.common.config.override)."""

    model: ModelConfig
    train: TrainConfig
    pileup_preset: str = setting(help="pileup preset (make-examples --preset) the model expects")


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
    return preset(PRESETS, name, "caller")
