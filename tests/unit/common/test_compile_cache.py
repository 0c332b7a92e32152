"""JAX's persistent compilation cache is opt-in (GENOSCREEN_JAX_CACHE)."""

from __future__ import annotations


def test_compilation_cache_is_opt_in(tmp_path, monkeypatch):
    import jax

    from genoscreen.common import compile_cache

    before = jax.config.jax_compilation_cache_dir
    monkeypatch.delenv(compile_cache.ENV, raising=False)
    assert compile_cache.enable_from_env() is None and jax.config.jax_compilation_cache_dir == before
    monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "cache"))
    try:
        assert compile_cache.enable_from_env() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "cache")
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
