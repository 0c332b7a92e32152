"""The genotype CNN over pileup tensors, and the model directory that stores it safely.

A compact residual CNN instead of DeepVariant's InceptionV3, so inference keeps pace with make-examples on a
2-core CPU: a 3x3 stem that halves the read rows, stages that halve height and width with a strided conv followed by one residual block,
then a mean over the read rows (reads are exchangeable; the column keeps where they are relative to the
candidate), a dense layer and 3 logits (0, 1, 2 copies of the alt allele(s) the example represents).
LayerNorm rather than BatchNorm: no running statistics, so each example's output is independent of its batch
(padding and sharding cannot change a call) and training and inference run the same code.

Saved to and restored from a model directory (its files: model_dir.py) by `save_model` / `load_model`;
`export_forward` writes the exported forward pass that predictor.py runs without Flax.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from genoscreen.caller.configs import ModelConfig
from genoscreen.caller.model_dir import (BATCH, EXPORT, MODEL_FORMAT, MODEL_JSON, WEIGHTS, read_model_info,
                                         read_weights, weights_digest, write_weights)
from genoscreen.common import checkpoint
from genoscreen.common.io import atomic_path
from genoscreen.variants.pileup_config import PileupConfig

log = logging.getLogger(__name__)



class ResidualBlock(nnx.Module):
    """Two 3x3 convs with LayerNorm and a skip connection."""

    def __init__(self, features: int, *, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(features, features, (3, 3), use_bias=False, rngs=rngs)
        self.norm1 = nnx.LayerNorm(features, rngs=rngs)
        self.conv2 = nnx.Conv(features, features, (3, 3), use_bias=False, rngs=rngs)
        self.norm2 = nnx.LayerNorm(features, scale_init=nnx.initializers.zeros, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        y = nnx.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return nnx.relu(x + y)


class Stage(nnx.Module):
    """A strided conv that halves height and width and changes the channel count, then a residual block."""

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs):
        self.down = nnx.Conv(in_features, out_features, (3, 3), strides=(2, 2), use_bias=False, rngs=rngs)
        self.norm = nnx.LayerNorm(out_features, rngs=rngs)
        self.block = ResidualBlock(out_features, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.block(nnx.relu(self.norm(self.down(x))))


class CallerCNN(nnx.Module):
    """uint8 pileups [B, H, W, C] -> genotype logits [B, 3]."""

    def __init__(self, config: ModelConfig, pileup: PileupConfig, *, rngs: nnx.Rngs):
        self.config = config
        self.input_shape = pileup.shape
        height, width, channels = pileup.shape
        self.stem = nnx.Conv(channels, config.stem_features, (3, 3), strides=config.stem_strides, use_bias=False,
                             rngs=rngs)
        width = -(-width // config.stem_strides[1])
        self.stem_norm = nnx.LayerNorm(config.stem_features, rngs=rngs)
        stages, features = [], config.stem_features
        for out in config.stage_features:
            stages.append(Stage(features, out, rngs=rngs))
            features = out
            width = (width + 1) // 2
        self.stages = nnx.List(stages) if hasattr(nnx, "List") else stages
        self.hidden = nnx.Linear(width * features, config.hidden, rngs=rngs)
        self.head = nnx.Linear(config.hidden, config.num_classes, rngs=rngs)

    def __call__(self, pileups: jax.Array) -> jax.Array:
        x = pileups.astype(jnp.float32) / 255.0
        x = nnx.relu(self.stem_norm(self.stem(x)))
        for stage in self.stages:
            x = stage(x)
        x = x.mean(axis=1)  # over read rows -> [B, W', F]
        x = x.reshape(x.shape[0], x.shape[1] * x.shape[2])
        x = nnx.relu(self.hidden(x))
        return self.head(x)


def build_model(config: ModelConfig, pileup: PileupConfig, seed: int = 0) -> CallerCNN:
    """A freshly initialised model: LeCun-normal kernels, zero biases, unit norms (zero on each residual's last).

    Drawn with NumPy into the abstract model: JAX's random initialisers cost an XLA compile per parameter shape,
    tens of seconds on a busy 2-core machine, for a few thousand numbers.
    """
    model = abstract_model(config, pileup)
    rng = np.random.default_rng(seed)
    state = nnx.state(model, nnx.Param)
    structure = jax.tree.map(lambda leaf: np.zeros(leaf.shape, leaf.dtype), nnx.to_pure_dict(state))
    flat = checkpoint.flatten(structure)
    values = {}
    for name, leaf in flat.items():
        shape, dtype = tuple(leaf.shape), leaf.dtype
        if name.endswith("kernel"):
            fan_in = int(np.prod(shape[:-1]))
            # truncated at 2 sd and rescaled to unit variance, as jax.nn.initializers.lecun_normal
            draw = np.clip(rng.standard_normal(shape), -2.0, 2.0) / 0.87962566103423978
            values[name] = (draw / np.sqrt(fan_in)).astype(dtype)
        elif name.endswith("scale"):
            values[name] = np.full(shape, 0.0 if "norm2" in name else 1.0, dtype)
        else:
            values[name] = np.zeros(shape, dtype)
    nnx.replace_by_pure_dict(state, jax.tree.map(jnp.asarray, checkpoint.restore_into(structure, values, "init")))
    nnx.update(model, state)
    return model


def abstract_model(config: ModelConfig, pileup: PileupConfig) -> CallerCNN:
    """The model's structure with shapes only (no computation), to restore weights into."""
    return nnx.eval_shape(lambda: CallerCNN(config, pileup, rngs=nnx.Rngs(0)))


def count_params(model: nnx.Module) -> int:
    return int(sum(np.prod(x.shape) for x in jax.tree.leaves(nnx.state(model, nnx.Param))))


def save_model(model: CallerCNN, pileup: PileupConfig, out_dir: str | Path, metadata: dict | None = None) -> Path:
    """Write MODEL_DIR atomically (a temp folder renamed into place; an existing model there is replaced).

    Besides the weights it writes the exported forward pass (`export_forward`) that `call` loads without Flax.
    """
    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        pileup.write(tmp)
        write_weights(tmp, jax.device_get(nnx.to_pure_dict(nnx.state(model, nnx.Param))))
        export = export_forward(model, pileup, tmp, weights_digest(tmp))
        payload = {"format": MODEL_FORMAT, "model": model.config.to_dict(), "export": export, **(metadata or {})}
        (tmp / MODEL_JSON).write_text(json.dumps(payload, indent=2) + "\n")
        if out_dir.exists():  # os.replace cannot replace a non-empty folder
            import shutil

            shutil.rmtree(out_dir)
    return out_dir


def load_model(model_dir: str | Path) -> tuple[CallerCNN, PileupConfig, dict]:
    """Restore a CallerCNN from MODEL_DIR into an abstract (eval_shape) model; checks every parameter's name and shape."""
    model_dir = Path(model_dir)
    info, config, pileup = read_model_info(model_dir)
    model = abstract_model(config, pileup)
    state = nnx.state(model, nnx.Param)
    expected = jax.tree.map(lambda leaf: np.zeros(leaf.shape, leaf.dtype), nnx.to_pure_dict(state))
    restored = checkpoint.restore_into(expected, read_weights(model_dir), model_dir / WEIGHTS)
    nnx.replace_by_pure_dict(state, jax.tree.map(jnp.asarray, restored))
    nnx.update(model, state)
    return model, pileup, info


def export_forward(model, pileup: PileupConfig, out_dir: Path, weights_sha256: str,
                   platforms: tuple[str, ...] = ("cpu", "cuda")) -> dict:
    """Write out_dir/inference.jaxexport for `model`; return the model.json entry describing it (its weights'
    digest and the names of its flat parameter arguments, in order)."""
    graphdef, state = nnx.split(model, nnx.Param)
    params = jax.device_get(nnx.to_pure_dict(state))
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    paths = ["/".join(str(getattr(k, "key", k)) for k in path) for path, _ in flat]
    leaves = [leaf for _, leaf in flat]

    def forward(leaves, tensors):  # a flat list: jax.export serialises only string-keyed trees
        s = nnx.state(model, nnx.Param)
        nnx.replace_by_pure_dict(s, jax.tree.unflatten(treedef, leaves))
        return jax.nn.softmax(nnx.merge(graphdef, s)(tensors), axis=-1)

    x = jax.ShapeDtypeStruct((BATCH, *pileup.shape), np.uint8)
    try:
        exported = jax.export.export(jax.jit(forward), platforms=platforms)(leaves, x)
    except Exception as err:  # a platform this jax cannot lower for: export for the CPU alone
        log.debug("export for %s failed (%s); exporting for cpu only", platforms, err)
        platforms = ("cpu",)
        exported = jax.export.export(jax.jit(forward), platforms=platforms)(leaves, x)
    (out_dir / EXPORT).write_bytes(exported.serialize())
    return {"file": EXPORT, "platforms": list(platforms), "weights_sha256": weights_sha256,
            "jax": jax.__version__, "leaf_paths": paths}


@nnx.jit
def _predict(model, tensors):
    return jax.nn.softmax(model(tensors), axis=-1)


def predict_fn(model: CallerCNN):
    """`f(tensors) -> probs` through the Flax model (jitted; one compile per batch shape)."""
    return lambda tensors: _predict(model, tensors)
