"""Named configurations of the DeepDTA model and its training (presets `davis`, `kiba`, `test`).

Config is data: presets differ only by a few named fields. The architecture fields follow the DeepDTA paper
(Öztürk et al. 2018, Table 3): embedding 128, Conv1D filters 32/64/96 with one kernel size per branch, dense
1024-1024-512, dropout 0.1, Adam 1e-3, batch 256 pairs, max lengths Davis 85/1200 and KIBA 100/1000.
Batching, warm-up and epochs of the presets were chosen by 5-fold CV on the training folds (see the model
cards): blocks of 16 targets x ~16 drugs per step with a 400-step linear warm-up train stably, while blocks of 6
targets without warm-up let the ReLU channels of the protein branch die in some folds (Davis CV CI 0.75 there).
Fewer distinct targets per step is cheaper (the protein branch is most of a step) but learns less per epoch: 6-target
blocks, or 5-10 targets with length buckets, lost ~0.01 CI in Davis CV at the same epochs; whole targets, 6 per
batch with all their drugs (16.6x fewer FLOPs than per-pair, near the ~18x ceiling at batch 256), lost 0.009 CI on
3 Davis CV folds at 40 epochs and learned the same per FLOP (dta-davis card). Blocks drawn from targets
of similar length (`length_bucket`) save padding but trailed by ~0.04 CI on a 60-target Davis subset at 40 epochs.
`block_order="random"` (off in the presets) fills the same padded drug slots with ~67 distinct drugs per Davis batch
instead of ~24 (16 in a full batch); on that subset it gained ~0.01 CI at 25-30 epochs (2 seeds), but on Davis fold 0
it gave the same CI at 40 epochs (0.879 vs 0.880). On KIBA its batches hit the 224-drug cap, ~5% more steps/epoch.
The Davis preset uses SMILES kernel 8 (paper grid {4, 6, 8}): Davis 5-fold CV at 40 epochs gave CI 0.8868 / MSE
0.2398 against 0.8838 / 0.2476 with kernel 4; the KIBA preset keeps 4 until a KIBA CV picks one (needs a GPU).
`ema_decay` scores and saves a moving average of the weights (both presets use 0.999). Davis 5-fold CV at epoch
40: CI 0.8931 / MSE 0.2320 with it, against 0.8868 / 0.2398 for the raw weights (dta-davis card). KIBA 5-fold CV at
epoch 50: CI 0.8633 / MSE 0.1806 with it, against 0.8525 / 0.2016 for the raw weights of the same runs
(dta-kiba card).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Literal

from genoscreen.common.config import (from_json_dict, preset, replace_values, setting,
                                      to_json_dict)
from genoscreen.common.errors import InputError


_MODEL, _TRAIN = "model", "train"


@dataclass(frozen=True)
class AffinityConfig:
    """Everything that defines a DeepDTA model and how it is trained; stored flat in each model's config.json.
    Override keys group the fields as the caller's do: `model.kernel_drug`, `train.epochs` (the bare field names
    are accepted too; genoscreen.common.config.override)."""

    preset: str = setting(help="the preset this config started from", settable=False)
    max_drug_len: int = setting(help="SMILES tokens kept per drug (longer ones are cut)", group=_MODEL)
    max_target_len: int = setting(help="residues kept per protein (longer ones are cut)", group=_MODEL)
    kernel_drug: int = setting(4, "SMILES convolution kernel size", group=_MODEL)
    kernel_target: int = setting(8, "protein convolution kernel size", group=_MODEL)
    embed_dim: int = setting(128, "token embedding width", group=_MODEL)
    filters: tuple[int, int, int] = setting((32, 64, 96), "filters of the three conv layers of each branch",
                                            group=_MODEL)
    dense: tuple[int, int, int] = setting((1024, 1024, 512), "widths of the three dense layers after the branches",
                                          group=_MODEL)
    dropout: float = setting(0.1, "dropout rate of the dense layers", group=_MODEL)
    learning_rate: float = setting(1e-3, "Adam learning rate", group=_TRAIN)
    # Linear warm-up of the Adam learning rate over the first steps (0 = none): keeps the first, largest Adam
    # steps from killing ReLU channels when a batch holds few distinct targets.
    warmup_steps: int = setting(0, "linear warm-up steps of the learning rate (0 = none)", group=_TRAIN)
    # Exponential moving average of the weights (Polyak averaging; 0 = off): the optimizer is unchanged, the average is
    # what is scored, early-stopped on and saved. See `train.weight_ema`.
    ema_decay: float = setting(0.0, "decay of the weights' moving average that is scored and saved (0 = off)",
                               group=_TRAIN)
    # "block": batches share drug/target encodings (below); "pair": random batches, every pair encoded alone.
    batching: Literal["block", "pair"] = setting(
        "block", "block: batches share drug/target encodings; pair: random batches", group=_TRAIN)
    batch_size: int = setting(256, "pairs per batch", group=_TRAIN)
    epochs: int = setting(100, "training epochs", group=_TRAIN)
    patience: int = setting(10, "early-stopping patience in epochs when a validation fold is used", group=_TRAIN)
    # Block batching (item 4 of the design): targets are grouped into blocks of `block_targets`; the pairs of a
    # block are taken in a random drug order and cut into batches of at most `batch_size` pairs,
    # `max_batch_targets` distinct targets and `max_batch_drugs` distinct drugs (the fixed padded sizes).
    block_targets: int = setting(1, "targets per block of block batching", group=_TRAIN)
    # Order of a block's pairs before it is cut into batches: "drug" (grouped by drug: a batch holds few distinct
    # drugs) or "random" (a batch holds up to max_batch_drugs distinct drugs, at the same padded cost).
    block_order: Literal["drug", "random"] = setting(
        "drug", "order of a block's pairs before it is cut into batches", group=_TRAIN)
    max_batch_targets: int = setting(6, "distinct targets per batch (padded size)", group=_TRAIN)
    max_batch_drugs: int = setting(96, "distinct drugs per batch (padded size)", group=_TRAIN)
    # Protein length buckets (0 = off): blocks are drawn from targets of similar length (random within each
    # bucket) and a batch's protein tokens are cut to its longest target rounded up to a multiple of this. Padding
    # is masked, so the features are the same; the compute on padding is saved, at one compile per bucket.
    length_bucket: int = setting(0, "draw blocks from targets of similar length, cut to a multiple of this (0 = off)",
                                 group=_TRAIN)
    seed: int = setting(0, "random seed for initialisation, dropout and batch order", group=_TRAIN)
    # Label threshold for AUPR (Davis pKd >= 7, KIBA score >= 12.1).
    aupr_threshold: float = setting(7.0, "label threshold of the AUPR metric (pKd 7, KIBA score 12.1)", group=_TRAIN)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value, kind = getattr(self, field.name), str(field.type)
            if kind == "int":
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            elif kind == "float":
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            elif kind == "str":
                ok = isinstance(value, str)
            elif kind.startswith("Literal"):
                allowed = typing.get_args(typing.get_type_hints(AffinityConfig)[field.name])
                if value not in allowed:
                    raise InputError(f"{field.name}={value!r}: choose {' or '.join(allowed)}")
                continue
            else:  # tuple[int, int, int] (three conv or dense layers)
                ok = (isinstance(value, tuple) and len(value) > 0 and all(isinstance(v, int) and v > 0 for v in value)
                      and len(value) == kind.count("int"))
            if not ok:
                raise InputError(f"{field.name}={value!r}: expected {'a non-negative int' if kind == 'int' else kind}")

    def replace(self, **changes) -> "AffinityConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The fields as written to JSON (tuples as lists), so the dict equals its own JSON round trip."""
        return to_json_dict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> "AffinityConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        missing = sorted(f.name for f in dataclasses.fields(cls) if f.name not in data and f.default is dataclasses.MISSING)
        if unknown or missing:
            raise InputError(
                f"{source}: unknown fields {unknown} / missing fields {missing}; "
                "the model directory was written by an incompatible version, retrain or re-download it"
            )
        try:
            return from_json_dict(cls, data)
        except InputError as err:
            raise InputError(f"{source}: {err}; the model directory is corrupt, re-create it") from None


PRESETS: dict[str, AffinityConfig] = {
    "davis": AffinityConfig(
        preset="davis", max_drug_len=85, max_target_len=1200, kernel_drug=8, kernel_target=8, epochs=40,
        warmup_steps=400, ema_decay=0.999, block_targets=16, max_batch_targets=16, max_batch_drugs=72,
        aupr_threshold=7.0,
    ),
    "kiba": AffinityConfig(
        preset="kiba", max_drug_len=100, max_target_len=1000, kernel_drug=4, kernel_target=8, epochs=50,
        warmup_steps=400, ema_decay=0.999, block_targets=16, max_batch_targets=16, max_batch_drugs=224,
        aupr_threshold=12.1,
    ),
    # A general model over many compounds and protein families (BindingDB Kd + Davis): sparse pairs (~2 per
    # compound), so a batch gathers 16 targets' pairs with up to 224 distinct compounds; Davis' lengths and kernels,
    # KIBA's longer SMILES.
    "bindingdb": AffinityConfig(
        preset="bindingdb", max_drug_len=100, max_target_len=1200, kernel_drug=8, kernel_target=8, epochs=40,
        warmup_steps=400, ema_decay=0.999, block_targets=16, max_batch_targets=16, max_batch_drugs=224,
        aupr_threshold=7.0,
    ),
    # A CPU-sized variant for tests and CI: same code path, tiny widths.
    "test": AffinityConfig(
        preset="test", max_drug_len=64, max_target_len=256, kernel_drug=4, kernel_target=8,
        embed_dim=16, filters=(8, 16, 24), dense=(64, 64, 32), batch_size=64, epochs=3, patience=2,
        block_targets=1, max_batch_targets=4, max_batch_drugs=64, aupr_threshold=7.0,
    ),
}


def get_preset(name: str, **overrides) -> AffinityConfig:
    """The named preset with `overrides` (field names or keys such as `train.epochs`; None values ignored)."""
    return replace_values(preset(PRESETS, name, "affinity"), overrides)

