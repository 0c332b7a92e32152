"""The one device mesh: replication and first-axis splitting, and the batch-size check (4 CPU devices in a
subprocess, as XLA_FLAGS must be set before JAX starts)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import numpy as np
from genoscreen.common.devices import DeviceMesh
from genoscreen.common.errors import InputError

mesh = DeviceMesh.local()
assert mesh.count == 4
(x,) = mesh.shard(np.arange(8.0).reshape(8, 1))
assert len(x.sharding.device_set) == 4 and [s.data.shape for s in x.addressable_shards] == [(2, 1)] * 4
import jax
r = jax.device_put(np.ones(3), mesh.replicated)
assert all(s.data.shape == (3,) for s in r.addressable_shards)
try:
    mesh.check_batch(6)
except InputError as err:
    assert "multiple of the 4 devices; choose e.g. 4" in str(err)
else:
    raise AssertionError("a batch of 6 over 4 devices was accepted")
mesh.check_batch(8)
print("ok")
"""


def test_mesh_splits_batches_and_replicates_state():
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
