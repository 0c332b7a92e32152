"""Model directories (`config.json` + `weights.safetensors` + `MODEL_CARD.md`) and resumable training states.

Safe formats only, never pickle; both files of parameters are in `genoscreen.common.checkpoint`'s layout.

`weights.safetensors` holds the model's nnx.Param state by name ("drug_conv/0/kernel"), with its kind, schema version
and checksum; loading restores it into `nnx.eval_shape` of the model built from `config.json`, after checking every
array's name and shape, so a corrupt or mismatched directory is a clear InputError, not a traceback. Other
engineers may add subfolders (e.g. `panels/`); saving only replaces the three files above.

A training state (`train_state.safetensors`: params, optimiser state, PRNG key, best weights, and the run's JSON
meta) is stored in `genoscreen.common.checkpoint`'s layout: named leaves ("opt/0/mu/dense1/kernel/value"), a
schema version and a checksum, restored by name into the state a run would start from.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from genoscreen import __version__
from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.featurize import PROTEIN_VOCAB, SMILES_FORM, SMILES_VOCAB
from genoscreen.affinity.model import DeepDTA, count_params
from genoscreen.common import checkpoint
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open

FORMAT = "genoscreen-deepdta"
FORMAT_VERSION = 2  # 2: weights.safetensors (1: a flax msgpack weights.msgpack)
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
WEIGHTS_KIND = "affinity-weights/1"
CARD_FILE = "MODEL_CARD.md"
TRAIN_STATE_FILE = "train_state.safetensors"
TRAIN_STATE_KIND = "affinity-train-state/1"


def params_to_pure_dict(model: DeepDTA) -> dict:
    """The model's parameters as a nested dict of numpy arrays (the serialized form)."""
    pure = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    return jax.tree_util.tree_map(lambda x: np.asarray(x), pure)


def save_model(
    model: DeepDTA, config: AffinityConfig, model_dir: str | Path, card: str | None = None, training: dict | None = None
) -> Path:
    """Write weights.safetensors, config.json and MODEL_CARD.md into `model_dir` (each file atomically).

    config.json is written after the weights and carries their SHA-256, so a save cut short between the two files
    (new weights, old config) is caught by `load_model` even when the shapes match.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    weights_path = checkpoint.save(model_dir / WEIGHTS_FILE, params_to_pure_dict(model), WEIGHTS_KIND)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "genoscreen_version": __version__,
        "config": config.to_dict(),
        "smiles_form": SMILES_FORM,
        "vocabularies": {"smiles": SMILES_VOCAB, "protein": PROTEIN_VOCAB, "padding_id": 0,
                         "unknown_id": {"smiles": len(SMILES_VOCAB) + 1, "protein": len(PROTEIN_VOCAB) + 1}},
        "n_params": count_params(model),
        "weights_sha256": hashlib.sha256(weights_path.read_bytes()).hexdigest(),
        "training": training or {},
    }
    with atomic_open(model_dir / CONFIG_FILE) as handle:
        json.dump(meta, handle, indent=2)
        handle.write("\n")
    if card is not None or not (model_dir / CARD_FILE).exists():
        with atomic_open(model_dir / CARD_FILE) as handle:
            handle.write(card or f"# DeepDTA model ({config.preset})\n\nWritten by genoscreen {__version__}.\n")
    return model_dir


def model_files(model_dir: str | Path) -> list[Path]:
    """The files a model is read from (for `check_outputs`: no output may replace them)."""
    return [Path(model_dir) / CONFIG_FILE, Path(model_dir) / WEIGHTS_FILE]


def read_model_config(model_dir: str | Path) -> tuple[AffinityConfig, dict]:
    """(config, full config.json dict) of a model directory, validated."""
    model_dir = Path(model_dir)
    path = model_dir / CONFIG_FILE
    if not model_dir.is_dir():
        raise InputError(f"{model_dir}: model directory not found; give a directory written by `genoscreen affinity train`")
    if not path.exists():
        raise InputError(f"{path}: missing; {model_dir} is not an affinity model (give a DeepDTA model directory "
                         "written by `genoscreen affinity train`, e.g. resources/models/dta-davis)")
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not valid JSON ({err}); the model directory is corrupt, re-create it") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"{path}: not a {FORMAT} config; give a directory written by `genoscreen affinity train`")
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: format_version {meta.get('format_version')} but this genoscreen reads {FORMAT_VERSION}; "
            "upgrade genoscreen or retrain the model"
        )
    vocab = meta.get("vocabularies") or {}
    if vocab.get("smiles") != SMILES_VOCAB or vocab.get("protein") != PROTEIN_VOCAB:
        raise InputError(f"{path}: vocabularies differ from this genoscreen's DeepDTA encoding; retrain the model")
    if meta.get("smiles_form") != SMILES_FORM:
        found = meta.get("smiles_form") or "SMILES as typed"
        raise InputError(f"{path}: trained on {found}, but this genoscreen standardises every SMILES to {SMILES_FORM} "
                         "(one molecule, one prediction); retrain the model with `genoscreen affinity train`")
    config = AffinityConfig.from_dict(meta.get("config") or {}, source=str(path))
    return config, meta


def load_model(model_dir: str | Path) -> tuple[DeepDTA, AffinityConfig]:
    """Restore a model directory into a DeepDTA; InputError when corrupt or mismatched."""
    model_dir = Path(model_dir)
    config, meta = read_model_config(model_dir)
    weights_path = model_dir / WEIGHTS_FILE
    if not weights_path.exists():
        raise InputError(f"{weights_path}: missing; the model directory is incomplete, re-create it")
    raw = weights_path.read_bytes()
    if meta.get("weights_sha256") not in (None, hashlib.sha256(raw).hexdigest()):
        raise InputError(
            f"{weights_path}: checksum differs from the weights_sha256 in {CONFIG_FILE}; the file is corrupt or the "
            "two files come from different saves; re-create the model directory"
        )
    try:
        found, _ = checkpoint.load(weights_path, WEIGHTS_KIND, "weights")
    except InputError as err:
        raise InputError(f"{weights_path}: cannot be decoded ({str(err).removeprefix(f'{weights_path}: ')})") from None

    try:
        abstract = nnx.eval_shape(lambda: DeepDTA(config, rngs=nnx.Rngs(0)))
    except (TypeError, ValueError) as err:
        raise InputError(f"{model_dir / CONFIG_FILE}: its config does not build a model ({err}); re-create it") from err
    graphdef, state = nnx.split(abstract, nnx.Param)
    template = jax.tree_util.tree_map(lambda leaf: np.zeros(leaf.shape, np.float32), nnx.to_pure_dict(state))
    expected = checkpoint.flatten(template)
    if set(expected) != set(found):
        diff = sorted(set(expected) ^ set(found))[:3]
        raise InputError(
            f"{weights_path}: parameter names do not match config.json's architecture (e.g. {diff}); "
            "weights and config come from different models"
        )
    for key, spec in expected.items():
        if tuple(found[key].shape) != tuple(spec.shape):
            raise InputError(
                f"{weights_path}: {key} has shape {tuple(found[key].shape)}, config.json implies {tuple(spec.shape)}; "
                "weights and config come from different models"
            )
    pure = checkpoint.restore_into(template, found, weights_path)
    nnx.replace_by_pure_dict(state, jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype=jnp.float32), pure))
    return nnx.merge(graphdef, state), config


def _leaf_names(tree) -> list[tuple[str, ...]]:
    """Each leaf's path in `tree` as names (dict keys, attribute names, sequence indices), in leaf order."""
    return [tuple(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path)
            for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _as_nested_dict(tree) -> dict:
    """A pytree (nnx State, optax states, arrays) as nested dicts of numpy arrays keyed by its leaves' paths."""
    out: dict = {}
    for names, leaf in zip(_leaf_names(tree), jax.tree_util.tree_leaves(tree)):
        node = out
        for name in names[:-1]:
            node = node.setdefault(name, {})
        node[names[-1]] = np.asarray(leaf)
    return out


def save_train_state(path: str | Path, tree, meta: dict) -> None:
    """Write a training state (a pytree of arrays) and its JSON-able `meta`, atomically."""
    checkpoint.save(path, _as_nested_dict(tree), TRAIN_STATE_KIND, {"meta": json.dumps(meta)})


def load_train_state(path: str | Path, like) -> tuple[object, dict]:
    """(state shaped as `like`, meta) of a training state; InputError if it cannot be read or does not match."""
    try:
        flat, stored = checkpoint.load(path, TRAIN_STATE_KIND, "training state")
        meta = json.loads(stored["meta"])
    except (InputError, KeyError, ValueError) as err:
        raise InputError(f"{path}: checkpoint cannot be read ({err}); delete it to start afresh") from None
    try:
        restored = checkpoint.restore_into(_as_nested_dict(like), flat, path)
    except InputError as err:
        raise InputError(f"{path}: checkpoint does not match this model, optimizer or config ({err}); delete it to "
                         "start afresh") from None
    leaves = []
    for names in _leaf_names(like):
        node = restored
        for name in names:
            node = node[name]
        leaves.append(jnp.asarray(node))
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like), leaves), meta
