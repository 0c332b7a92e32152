"""The one definition of the pileup tensor: its shape and channels.

Written as `pileup_config.json` beside every examples folder, and stored in every caller model, so a model can
refuse examples it was not trained for.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from genoscreen.common.config import from_json_dict, to_json_dict
from genoscreen.common.errors import InputError

CONFIG_FILENAME = "pileup_config.json"


@dataclasses.dataclass(frozen=True)
class PileupConfig:
    height: int = 64  # reference rows + read rows
    width: int = 33  # columns centred on the candidate (odd)
    ref_rows: int = 4
    channels: tuple[str, ...] = (
        "read_base",
        "base_quality",
        "mapping_quality",
        "strand",
        "read_supports_variant",
        "base_differs_from_ref",
        "allele_is_indel",
        "site_pl_hom_ref",
        "site_pl_het",
        "site_pl_hom_alt",
    )

    @property
    def max_reads(self) -> int:
        return self.height - self.ref_rows

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, len(self.channels))

    def to_dict(self) -> dict:
        return to_json_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "PileupConfig":
        return from_json_dict(cls, d)

    def write(self, folder: str | Path) -> None:
        Path(folder, CONFIG_FILENAME).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read(cls, folder: str | Path) -> "PileupConfig":
        path = Path(folder, CONFIG_FILENAME)
        if not path.exists():
            raise InputError(f"{folder}: no {CONFIG_FILENAME}; is this an examples folder written by `genoscreen make-examples`?")
        return cls.from_dict(json.loads(path.read_text()))

    def check_compatible(self, examples: "PileupConfig", what: str) -> None:
        """`self` is a model's pileup config; `examples` that of the examples (`what`) it is given."""
        if self != examples:
            raise InputError(
                f"{what}: pileup shape/channels {examples.shape} {list(examples.channels)} differ from the model's "
                f"{self.shape} {list(self.channels)}; remake the examples with the model's pileup config"
            )


PRESETS = {
    "default": PileupConfig(),
    "test": PileupConfig(height=20, width=15),
}
