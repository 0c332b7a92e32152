"""JAX's persistent compilation cache, opt-in: set GENOSCREEN_JAX_CACHE=DIR to reuse compiled XLA programs across
runs (a cluster job array calling thousands of shards compiles once). Unset or empty: nothing is written anywhere."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "GENOSCREEN_JAX_CACHE"


def enable_from_env() -> Path | None:
    """Point JAX at $GENOSCREEN_JAX_CACHE (created if needed) and cache every program; the folder, or None."""
    path = os.environ.get(ENV, "")
    if not path:
        return None
    import jax

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except (OSError, AttributeError) as err:  # an unwritable folder or an older jax: compile every time
        log.warning("%s=%s: no persistent compilation cache (%s)", ENV, path, err)
        return None
    return Path(path)
