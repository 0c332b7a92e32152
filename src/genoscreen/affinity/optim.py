"""The affinity model's optimiser: Adam after a linear warm-up, with an optional moving average of the weights."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class WeightEmaState(NamedTuple):
    count: jax.Array
    average: optax.Params


def weight_ema(decay: float) -> optax.GradientTransformation:
    """An identity transformation that keeps an exponential moving average of the weights it updates (Polyak
    averaging). The decay is min(decay, (1 + t) / (10 + t)) at step t, so early on the average spans the last ~10% of
    training rather than the random initial weights. Chain it last: it sees the final updates."""

    def init(params):
        return WeightEmaState(jnp.zeros([], jnp.int32), jax.tree_util.tree_map(jnp.copy, params))

    def update(updates, state, params):
        t = state.count.astype(jnp.float32)
        step_size = 1.0 - jnp.minimum(decay, (1.0 + t) / (10.0 + t))
        average = optax.incremental_update(optax.apply_updates(params, updates), state.average, step_size)
        return updates, WeightEmaState(state.count + 1, average)

    return optax.GradientTransformation(init, update)


def make_optimizer(learning_rate: float, warmup_steps: int = 0, ema_decay: float = 0.0) -> optax.GradientTransformation:
    """Adam (after a linear warm-up of `warmup_steps`), with a moving average of the weights when ema_decay > 0
    (see `weights_to_use`)."""
    if warmup_steps > 0:
        learning_rate = optax.linear_schedule(learning_rate / warmup_steps, learning_rate, warmup_steps)
    adam = optax.adam(learning_rate)
    return optax.chain(adam, weight_ema(ema_decay)) if ema_decay > 0 else adam


def weights_to_use(params, opt_state):
    """The weights that are scored and kept: the moving average when the optimizer keeps one, else `params`."""
    if isinstance(opt_state, tuple) and opt_state and isinstance(opt_state[-1], WeightEmaState):
        return opt_state[-1].average
    return params
