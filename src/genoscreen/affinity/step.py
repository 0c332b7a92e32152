"""One training step of the affinity model (masked MSE, Adam) and the loop over an epoch's batches.

Steps are dispatched one jitted call each (asynchronously): a `lax.scan` over chunks of steps was measured 28x
slower per step on XLA:CPU (8.0 s vs 0.28 s, Davis preset, 2 cores), with nothing to gain on a GPU where a Davis
step takes about a millisecond.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from genoscreen.affinity.batching import batch_at
from genoscreen.affinity.configs import AffinityConfig
from genoscreen.affinity.optim import make_optimizer

SYNC_EVERY = 16  # steps between host syncs (deadline checks, bounded dispatch queue)


def masked_mse(params, graphdef, drug_table, target_table, batch, key, target_len):
    """The loss: mean squared error over the batch's real pairs (mask 1), dropout drawn from `key`."""
    model = nnx.merge(graphdef, params)
    d = model.encode_drugs(drug_table[batch["drugs"]])
    t = model.encode_targets(target_table[batch["targets"], :target_len])
    pred = model.score_pairs(d, t, batch["pd"], batch["pt"], key)
    err = (pred - batch["y"]) ** 2 * batch["mask"]
    return err.sum() / jnp.maximum(batch["mask"].sum(), 1.0)


@functools.partial(
    jax.jit, static_argnames=("graphdef", "target_len", "learning_rate", "warmup_steps", "ema_decay"),
    donate_argnums=(0, 1),
)
def train_step(params, opt_state, key, drug_table, target_table, batch, *, graphdef, target_len, learning_rate,
               warmup_steps=0, ema_decay=0.0):
    """One Adam step on one batch (row b of a `plan_epoch` plan, see `batch_at`); returns (params, opt_state, key, loss)."""
    tx = make_optimizer(learning_rate, warmup_steps, ema_decay)
    key, sub = jax.random.split(key)
    loss, grads = jax.value_and_grad(masked_mse)(params, graphdef, drug_table, target_table, batch, sub, target_len)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, key, loss


def run_steps(params, opt_state, key, drug_table, target_table, plan: dict, config: AffinityConfig,
              graphdef, deadline: float | None = None):
    """Train on the batches of `plan` in order; stops early past `deadline` (time.time()).

    Returns (params, opt_state, key, losses [steps run], counts [steps run]).
    """
    n_batches = len(plan["mask"])
    losses = []
    for b in range(n_batches):
        batch, target_len = batch_at(plan, b)
        params, opt_state, key, loss = train_step(
            params, opt_state, key, drug_table, target_table, batch, graphdef=graphdef, target_len=target_len,
            learning_rate=config.learning_rate, warmup_steps=config.warmup_steps, ema_decay=config.ema_decay,
        )
        losses.append(loss)
        if (b + 1) % SYNC_EVERY == 0:
            # keep the dispatch queue short so the clock (and the deadline) mean something
            losses[-SYNC_EVERY // 2].block_until_ready()
            if deadline is not None and time.time() > deadline:
                break
    counts = plan["mask"][: len(losses)].sum(axis=1)
    return params, opt_state, key, np.asarray(jnp.stack(losses)) if losses else np.zeros(0, np.float32), counts
