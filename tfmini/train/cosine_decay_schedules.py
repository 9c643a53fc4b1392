"""The cosine learning-rate schedules with restarts or a linear factor (`tf.train.cosine_decay_restarts`,
`linear_cosine_decay`, `noisy_linear_cosine_decay`): graph functions of the global step."""

from __future__ import annotations

import math

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, control_flow_ops, math_ops, random_ops


def _require_step(global_step, what: str) -> None:
    if global_step is None:
        raise ValueError(f"{what} requires global_step")


def _cosine(fraction, dtype):
    """0.5 * (1 + cos(pi * fraction))."""
    return 0.5 * (1.0 + math_ops.cos(math_ops.cast(math.pi, dtype) * fraction))


@tf_export("train.cosine_decay_restarts")
def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                          name=None) -> _ops.Tensor:
    """SGDR (Loshchilov & Hutter): cosine decay over `first_decay_steps`, then restarted with periods `t_mul`
    times longer and peaks `m_mul` times lower each time; `alpha` is the floor as a fraction of the rate."""
    _require_step(global_step, "cosine decay restarts")
    with _ops.name_scope(name, "SGDRDecay", [learning_rate, global_step]) as name:
        lr = _ops.convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype
        first_decay_steps = math_ops.cast(first_decay_steps, dtype)
        alpha = math_ops.cast(alpha, dtype)
        t_mul = math_ops.cast(t_mul, dtype)
        m_mul = math_ops.cast(m_mul, dtype)
        completed = math_ops.cast(global_step, dtype) / first_decay_steps

        def equal_periods():
            restarts = math_ops.floor(completed)
            return restarts, completed - restarts

        def growing_periods():
            # Period i lasts t_mul**i first periods: restart i begins at (1 - t_mul**i) / (1 - t_mul).
            restarts = math_ops.floor(math_ops.log(1.0 - completed * (1.0 - t_mul)) / math_ops.log(t_mul))
            done = (1.0 - t_mul ** restarts) / (1.0 - t_mul)
            return restarts, (completed - done) / t_mul ** restarts

        restarts, fraction = control_flow_ops.cond(math_ops.equal(t_mul, 1.0), equal_periods, growing_periods)
        decayed = (1 - alpha) * (m_mul ** restarts * _cosine(fraction, dtype)) + alpha
        return math_ops.multiply(lr, decayed, name=name)


def _linear_cosine_parts(global_step, decay_steps, num_periods, dtype):
    """(step clipped at decay_steps, decay_steps, the linear factor, the cosine factor)."""
    decay_steps = math_ops.cast(decay_steps, dtype)
    num_periods = math_ops.cast(num_periods, dtype)
    step = math_ops.minimum(math_ops.cast(global_step, dtype), decay_steps)
    linear = (decay_steps - step) / decay_steps
    cosine = _cosine(2.0 * num_periods * (step / decay_steps), dtype)
    return step, linear, cosine


@tf_export("train.linear_cosine_decay")
def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001,
                        name=None) -> _ops.Tensor:
    """learning_rate * ((alpha + linear) * cosine + beta), linear = 1 - step / decay_steps and cosine =
    0.5 * (1 + cos(2 pi num_periods step / decay_steps)), the step clipped at decay_steps."""
    _require_step(global_step, "linear cosine decay")
    with _ops.name_scope(name, "LinearCosineDecay", [learning_rate, global_step]) as name:
        lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
        dtype = lr.dtype
        _, linear, cosine = _linear_cosine_parts(global_step, decay_steps, num_periods, dtype)
        decayed = (math_ops.cast(alpha, dtype) + linear) * cosine + math_ops.cast(beta, dtype)
        return math_ops.multiply(lr, decayed, name=name)


@tf_export("train.noisy_linear_cosine_decay")
def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0, variance_decay=0.55,
                              num_periods=0.5, alpha=0.0, beta=0.001, name=None) -> _ops.Tensor:
    """linear_cosine_decay with Gaussian noise of variance initial_variance / (1 + step) ** variance_decay added
    to the linear factor (a new sample each run, drawn by a RandomStandardNormal seeded from the graph seed)."""
    _require_step(global_step, "noisy linear cosine decay")
    with _ops.name_scope(name, "NoisyLinearCosineDecay", [learning_rate, global_step]) as name:
        lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
        dtype = lr.dtype
        step, linear, cosine = _linear_cosine_parts(global_step, decay_steps, num_periods, dtype)
        variance = math_ops.cast(initial_variance, dtype) / math_ops.pow(1.0 + step,
                                                                          math_ops.cast(variance_decay, dtype))
        noisy = linear + random_ops.random_normal(array_ops.shape(linear), stddev=math_ops.sqrt(variance),
                                                  dtype=dtype)
        decayed = (math_ops.cast(alpha, dtype) + noisy) * cosine + math_ops.cast(beta, dtype)
        return math_ops.multiply(lr, decayed, name=name)
