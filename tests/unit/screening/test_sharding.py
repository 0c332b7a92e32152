"""Sharding over the compound axis: 4 (fake CPU) devices give the same table as 1 device."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from screening_helpers import random_proteins, write_fasta, write_smi

SCRIPT = """
import sys
from genoscreen.affinity.checkpoint import load_model
from genoscreen.affinity.io.compounds import read_compounds
from genoscreen.affinity.io.proteins import read_targets
from genoscreen.screening.encoding import encode_targets
from genoscreen.screening.screen import TileShape, screen_compounds

model, config = load_model(sys.argv[1])
ids, smiles, _ = read_compounds(sys.argv[2])
targets = read_targets(sys.argv[3])
feats = encode_targets(model, config, list(targets.values()))
summary = screen_compounds(model, config, ids, smiles, list(targets), feats, sys.argv[4],
                           tile=TileShape(compounds=8, targets=8, chunk=16))
print("devices", summary.devices)
"""


def run_on(devices: int, args: list[str]) -> str:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_four_devices_equal_one(tiny_model_dir, tmp_path):
    library = write_smi(tmp_path / "lib.smi")
    fasta = write_fasta(tmp_path / "t.fasta", random_proteins(11, seed=4))
    outputs = {}
    for devices in (1, 4):
        out = tmp_path / f"hits{devices}.tsv"
        assert f"devices {devices}" in run_on(devices, [str(tiny_model_dir), str(library), str(fasta), str(out)])
        outputs[devices] = pd.read_csv(out, sep="\t")
    one, four = outputs[1], outputs[4]
    pd.testing.assert_frame_equal(one.drop(columns="prediction"), four.drop(columns="prediction"))
    # the hits TSV holds 6 decimals: float32 sums in another order may round one step (1e-6) apart, no more
    assert (one["prediction"] - four["prediction"]).abs().max() <= 1e-6 + 1e-12
