"""Learning-rate schedules of `tf.train` (exponential_decay, piecewise_constant, polynomial_decay, ...): graph
functions of the global step, evaluated each time the optimizer's update runs."""

from __future__ import annotations

import math

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import control_flow_ops, math_ops


def _require_step(global_step, fn: str) -> None:
    if global_step is None:
        raise ValueError(f"global_step is required for {fn}.")


def _decay_base(learning_rate, global_step, decay_steps):
    """(learning_rate tensor, its dtype, global_step and decay_steps cast to it)."""
    lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
    dtype = lr.dtype
    return lr, dtype, math_ops.cast(global_step, dtype), math_ops.cast(decay_steps, dtype)


def _progress(step, steps, staircase: bool):
    """global_step / decay_steps, floored to whole decay periods with `staircase`."""
    p = step / steps
    return math_ops.floor(p) if staircase else p


@tf_export("train.exponential_decay")
def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False,
                      name=None) -> _ops.Tensor:
    """learning_rate * decay_rate ** (global_step / decay_steps) (the exponent floored with `staircase`)."""
    _require_step(global_step, "exponential_decay")
    with _ops.name_scope(name, "ExponentialDecay", [learning_rate, global_step, decay_steps, decay_rate]) as name:
        lr, dtype, step, steps = _decay_base(learning_rate, global_step, decay_steps)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = _progress(step, steps, staircase)
        return math_ops.multiply(lr, math_ops.pow(decay_rate, p), name=name)


@tf_export("train.natural_exp_decay")
def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False,
                      name=None) -> _ops.Tensor:
    """learning_rate * exp(-decay_rate * global_step / decay_steps) (the exponent floored with `staircase`)."""
    _require_step(global_step, "natural_exp_decay")
    with _ops.name_scope(name, "NaturalExpDecay", [learning_rate, global_step, decay_rate]) as name:
        lr, dtype, step, steps = _decay_base(learning_rate, global_step, decay_steps)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = _progress(step, steps, staircase)
        return math_ops.multiply(lr, math_ops.exp(math_ops.multiply(math_ops.negative(decay_rate), p)), name=name)


@tf_export("train.inverse_time_decay")
def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False,
                       name=None) -> _ops.Tensor:
    """learning_rate / (1 + decay_rate * global_step / decay_steps) (the ratio floored with `staircase`)."""
    _require_step(global_step, "inverse_time_decay")
    with _ops.name_scope(name, "InverseTimeDecay", [learning_rate, global_step, decay_rate]) as name:
        lr, dtype, step, steps = _decay_base(learning_rate, global_step, decay_steps)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = _progress(step, steps, staircase)
        denom = math_ops.add(math_ops.cast(1, dtype), math_ops.multiply(decay_rate, p))
        return math_ops.div(lr, denom, name=name)


@tf_export("train.polynomial_decay")
def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0,
                     cycle: bool = False, name=None) -> _ops.Tensor:
    """(learning_rate - end) * (1 - step / decay_steps) ** power + end, the step clipped at decay_steps (or,
    with `cycle`, decay_steps stretched to the next multiple above the step)."""
    _require_step(global_step, "polynomial_decay")
    with _ops.name_scope(name, "PolynomialDecay", [learning_rate, global_step, decay_steps, end_learning_rate,
                                                   power]) as name:
        lr, dtype, step, steps = _decay_base(learning_rate, global_step, decay_steps)
        end_lr = math_ops.cast(end_learning_rate, dtype)
        power = math_ops.cast(power, dtype)
        if cycle:
            # The first multiple of decay_steps at or above the step (1 at step 0).
            multiplier = math_ops.maximum(math_ops.ceil(step / steps), math_ops.cast(1.0, dtype))
            steps = math_ops.multiply(steps, multiplier)
        else:
            step = math_ops.minimum(step, steps)
        p = math_ops.div(step, steps)
        return math_ops.add(math_ops.multiply(lr - end_lr, math_ops.pow(1 - p, power)), end_lr, name=name)


@tf_export("train.cosine_decay")
def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None) -> _ops.Tensor:
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)."""
    _require_step(global_step, "cosine decay")
    with _ops.name_scope(name, "CosineDecay", [learning_rate, global_step]) as name:
        lr, dtype, step, steps = _decay_base(learning_rate, global_step, decay_steps)
        step = math_ops.minimum(step, steps)
        completed = step / steps
        cosine = 0.5 * (1.0 + math_ops.cos(math_ops.cast(math.pi, dtype) * completed))
        decayed = (1 - math_ops.cast(alpha, dtype)) * cosine + math_ops.cast(alpha, dtype)
        return math_ops.multiply(lr, decayed, name=name)


@tf_export("train.piecewise_constant", "train.piecewise_constant_decay")
def piecewise_constant(x, boundaries, values, name=None) -> _ops.Tensor:
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <= boundaries[i], values[-1]
    after the last boundary."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with _ops.name_scope(name, "PiecewiseConstant", [x, boundaries, values]):
        boundaries = _ops.convert_n_to_tensor(boundaries)
        values = _ops.convert_n_to_tensor(values)
        x = _ops.convert_to_tensor(x)
        x_dtype = x.dtype.base_dtype
        for i, b in enumerate(boundaries):
            if b.dtype.base_dtype != x_dtype:
                if b.dtype.base_dtype.name == "int32" and x_dtype.name == "int64":
                    boundaries[i] = math_ops.cast(b, x_dtype)
                else:
                    raise ValueError(f"Boundaries ({b.dtype.base_dtype}) must have the same dtype as x ({x_dtype}).")
        for v in values[1:]:
            if v.dtype.base_dtype != values[0].dtype.base_dtype:
                raise ValueError(f"Values must have elements all with the same dtype ({values[0].dtype.base_dtype} "
                                 f"vs {v.dtype.base_dtype}).")
        pairs = [(x <= boundaries[0], lambda: values[0]), (x > boundaries[-1], lambda: values[-1])]
        for low, high, v in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            pairs.append(((x > low) & (x <= high), lambda v=v: v))
        return control_flow_ops.case(pairs, lambda: values[0], exclusive=True)
