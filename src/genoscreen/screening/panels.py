"""Target panels carried by a model directory: `panels/<name>.npz` with target ids and their encodings.

A panel lets `genoscreen screen --panel NAME` score a model's own targets with no sequence file. It stores only
ids and the target branch's learned 96-float encodings (never sequences or tokens), plus a digest of the target
branch's weights, so a panel built with other weights (a retrained model) is refused instead of silently wrong.
Files are read with `allow_pickle=False`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from genoscreen.affinity.checkpoint import load_model, read_model_config
from genoscreen.affinity.io.proteins import read_targets
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path
from genoscreen.screening.encoding import encode_targets

log = logging.getLogger(__name__)

PANEL_DIR = "panels"
PANEL_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Panel:
    """Target ids and their target-branch encodings [n, 96] for one model's weights."""

    name: str
    target_ids: list[str]
    encodings: np.ndarray
    weights_digest: str
    source: str = ""


def weights_digest(model) -> str:
    """sha256 over the target branch's parameters: a panel is valid exactly as long as these are unchanged."""
    leaves = jax.tree_util.tree_flatten_with_path(nnx.state(model.target_branch, nnx.Param))[0]
    digest = hashlib.sha256()
    for path, leaf in sorted(leaves, key=lambda item: jax.tree_util.keystr(item[0])):
        array = np.ascontiguousarray(np.asarray(leaf, dtype=np.float32))
        digest.update(jax.tree_util.keystr(path).encode())
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def panel_path(model_dir: str | Path, name: str) -> Path:
    if not _NAME.match(name):
        raise InputError(f"--panel {name}: invalid panel name; use letters, digits, '_', '-' or '.'")
    return Path(model_dir) / PANEL_DIR / f"{name}.npz"


def panel_names(model_dir: str | Path) -> list[str]:
    folder = Path(model_dir) / PANEL_DIR
    return sorted(p.stem for p in folder.glob("*.npz")) if folder.is_dir() else []


def save_panel(model_dir: str | Path, panel: Panel) -> Path:
    """Write `panel` into the model directory (atomically)."""
    encodings = np.asarray(panel.encodings, dtype=np.float32)
    if encodings.ndim != 2 or encodings.shape[0] != len(panel.target_ids):
        raise ValueError(f"panel {panel.name}: {len(panel.target_ids)} ids but encodings of shape {encodings.shape}")
    path = panel_path(model_dir, panel.name)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                format=np.int64(PANEL_FORMAT),
                target_ids=np.array(panel.target_ids, dtype=str),
                encodings=encodings,
                weights_digest=np.array(panel.weights_digest),
                source=np.array(panel.source),
            )
    return path


def load_panel(model_dir: str | Path, name: str, expected_digest: str | None = None) -> Panel:
    """Read panel `name` of a model directory; InputError if absent, corrupt, or built for other weights."""
    path = panel_path(model_dir, name)
    if not path.exists():
        available = ", ".join(panel_names(model_dir)) or "none"
        raise InputError(
            f"{path}: no panel '{name}' in model {model_dir} (panels: {available}); pick one of them, give "
            "--targets T.fasta, or build it with `genoscreen affinity panels --model M --add NAME --targets T.fasta`"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            fmt = int(data["format"])
            target_ids = [str(t) for t in data["target_ids"]]
            encodings = np.asarray(data["encodings"], dtype=np.float32)
            digest = str(data["weights_digest"])
            source = str(data["source"]) if "source" in data else ""
    except Exception as err:
        raise InputError(f"{path}: corrupt panel file ({type(err).__name__}: {err}); rebuild it with --add") from err
    if fmt != PANEL_FORMAT:
        raise InputError(f"{path}: panel format {fmt}, expected {PANEL_FORMAT}; rebuild it with --add")
    if encodings.ndim != 2 or encodings.shape[0] != len(target_ids) or len(set(target_ids)) != len(target_ids):
        raise InputError(f"{path}: ids and encodings disagree (shape {encodings.shape}); rebuild it with --add")
    if expected_digest is not None and digest != expected_digest:
        raise InputError(
            f"{path}: panel '{name}' was built with other weights than {model_dir}'s target branch; rebuild it with "
            f"`genoscreen affinity panels --model {model_dir} --add {name} --targets T.fasta`"
        )
    return Panel(name, target_ids, encodings, digest, source)


def build_panel(name: str, model, config, fasta: str | Path, batch_size: int = 16) -> Panel:
    """Encode the targets of a protein FASTA with `model`'s target branch into a panel."""
    targets = read_targets(fasta)
    sequences = list(targets.values())
    encodings = encode_targets(model, config, sequences, batch_size=batch_size)
    return Panel(name, list(targets), encodings, weights_digest(model), source=Path(fasta).name)


def add_panel(model_dir: str | Path, name: str, fasta: str | Path, force: bool = False) -> Path:
    """Build panel `name` from a protein FASTA with the model in `model_dir` and store it there."""
    path = panel_path(model_dir, name)
    if path.exists() and not force:
        raise InputError(f"{path}: panel '{name}' already exists; pass --force to replace it")
    model, config = load_model(model_dir)
    panel = build_panel(name, model, config, fasta)
    save_panel(model_dir, panel)
    log.info("panel %s: %d targets from %s", name, len(panel.target_ids), fasta)
    return path


def describe_panels(model_dir: str | Path) -> list[tuple[str, int | str, str, str]]:
    """(name, targets, status, source) for each panel; status says whether it matches the model's weights."""
    names = panel_names(model_dir)
    if not names:
        read_model_config(model_dir)  # no panels is an empty table only for an affinity model
        return []
    model, _ = load_model(model_dir)
    digest = weights_digest(model)
    rows = []
    for name in names:
        try:
            panel = load_panel(model_dir, name)
        except InputError as err:
            rows.append((name, "?", f"unreadable: {err}", ""))
            continue
        status = "ok" if panel.weights_digest == digest else "stale: built with other weights, rebuild with --add --force"
        rows.append((name, len(panel.target_ids), status, panel.source))
    return rows
