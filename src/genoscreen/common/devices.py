"""The one device mesh: a 1-D `jax.sharding.Mesh` over the local devices, for data parallelism.

Both models use it the same way: state (parameters, optimiser) is replicated on every device and each batch is
split along its first axis, so XLA runs one program per device and adds the collectives (the gradient all-reduce
in the caller's training, nothing in the screen's encoding and scoring). On one device it is a no-op; on CPU it is
tested with XLA_FLAGS=--xla_force_host_platform_device_count=4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from genoscreen.common.errors import InputError

AXIS = "batch"


@dataclass(frozen=True)
class DeviceMesh:
    mesh: Mesh = field(repr=False)

    @classmethod
    def local(cls) -> "DeviceMesh":
        return cls(Mesh(np.asarray(jax.local_devices()), (AXIS,)))

    @property
    def count(self) -> int:
        return int(self.mesh.devices.size)

    @property
    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, PartitionSpec())

    @property
    def split(self) -> NamedSharding:
        """Arrays split along their first axis over the devices."""
        return NamedSharding(self.mesh, PartitionSpec(AXIS))

    def check_batch(self, batch_size: int, flag: str = "--batch-size") -> None:
        if batch_size % self.count:
            raise InputError(f"{flag} {batch_size}: must be a multiple of the {self.count} devices; choose e.g. "
                             f"{self.count * max(1, batch_size // self.count)}")

    def replicate(self, *nodes) -> None:
        """Put the state of Flax NNX modules/optimisers on every device."""
        from flax import nnx

        nnx.update(nodes, jax.device_put(nnx.state(nodes), self.replicated))

    def shard(self, *arrays) -> tuple:
        return tuple(jax.device_put(a, self.split) for a in arrays)
