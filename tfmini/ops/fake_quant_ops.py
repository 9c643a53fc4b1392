"""Fake quantization (the FakeQuantWithMinMax* ops and their gradient ops): float32 values clamped to a range and
rounded to one of 2^num_bits evenly spaced levels, as quantization-aware training simulates integer inference.

TF first nudges the range so that 0 is exactly one of the levels, then rounds in float32; the kernels here do the
same arithmetic in float32 in the same order, so the results are TF's bit for bit. The gradient is the
straight-through estimator: the incoming gradient passes where the input lies inside the nudged range; for the
Vars forms, what falls below (above) the range goes to min (max).
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op

_F32 = np.float32
_QUANT_ATTRS = {"num_bits": ("int", 8), "narrow_range": ("bool", False)}


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _check_bits(num_bits: int) -> None:
    if not 2 <= num_bits <= 16:
        raise _invalid(f"num_bits is out of range, expected between 2 and 16, was: {num_bits}")


def _nudge(min_val, max_val, num_bits: int, narrow_range: bool):
    """(nudged_min, nudged_max, scale) as float32 arrays: the range moved so that 0 falls exactly on a level."""
    quant_min = _F32(1 if narrow_range else 0)
    quant_max = _F32((1 << num_bits) - 1)
    min_val, max_val = np.asarray(min_val, _F32), np.asarray(max_val, _F32)
    scale = (max_val - min_val) / (quant_max - quant_min)
    with np.errstate(divide="ignore", invalid="ignore"):
        zero_point_from_min = quant_min - min_val / scale
    # Rounded half away from zero (std::round); clamped to the quantized range.
    rounded = np.where(zero_point_from_min < 0, -np.floor(-zero_point_from_min + _F32(0.5)),
                       np.floor(zero_point_from_min + _F32(0.5)))
    zero_point = np.clip(np.where(np.isnan(rounded), quant_min, rounded), quant_min, quant_max).astype(_F32)
    return (quant_min - zero_point) * scale, (quant_max - zero_point) * scale, scale


def _fake_quant(x, nudged_min, nudged_max, scale):
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_scale = _F32(1) / scale
        # Clamped from above first, then from below, as TF does (it matters when min > max).
        shifted = np.maximum(np.minimum(x, nudged_max), nudged_min) - nudged_min
        return (np.floor(shifted * inv_scale + _F32(0.5)) * scale + nudged_min).astype(_F32)


def _inside(x, nudged_min, nudged_max):
    return (x >= nudged_min) & (x <= nudged_max)


# ----------------------------------------------------------------------------------------------------------
# Args: the range is an attribute
# ----------------------------------------------------------------------------------------------------------
def _args_range(min, max, num_bits, narrow_range):  # noqa: A002 - TF's attr names
    if not min < max:
        raise _invalid(f"min has to be smaller than max, was: {min} >= {max}")
    _check_bits(num_bits)
    return _nudge(min, max, num_bits, narrow_range)


_ARGS_ATTRS = {"min": ("float", -6.0), "max": ("float", 6.0), **_QUANT_ATTRS}


@register_op("FakeQuantWithMinMaxArgs", inputs=["inputs: float32"], outputs=["outputs: float32"], attrs=_ARGS_ATTRS,
             shape=lambda op: op.inputs[0].shape, fresh_output=True)
def _fake_quant_args(inputs, *, min, max, num_bits, narrow_range):  # noqa: A002 - TF's attr names
    return _fake_quant(inputs, *_args_range(min, max, num_bits, narrow_range))


@register_op("FakeQuantWithMinMaxArgsGradient", inputs=["gradients: float32", "inputs: float32"],
             outputs=["backprops: float32"], attrs=_ARGS_ATTRS, shape=lambda op: op.inputs[1].shape,
             fresh_output=True)
def _fake_quant_args_gradient(gradients, inputs, *, min, max, num_bits, narrow_range):  # noqa: A002
    if np.shape(gradients) != np.shape(inputs):
        raise _invalid(f"gradients and inputs must have the same shape: {list(np.shape(gradients))} vs. "
                       f"{list(np.shape(inputs))}")
    nudged_min, nudged_max, _ = _args_range(min, max, num_bits, narrow_range)
    return np.where(_inside(inputs, nudged_min, nudged_max), gradients, _F32(0)).astype(_F32)


def _attrs_of(op, names) -> dict:
    return {k: op.get_attr(k) for k in names}


@RegisterGradient("FakeQuantWithMinMaxArgs")
def _fake_quant_args_grad(op, grad):
    attrs = _attrs_of(op, _ARGS_ATTRS)
    return apply_op("FakeQuantWithMinMaxArgsGradient", [grad, op.inputs[0]], attrs).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Vars and VarsPerChannel: the range is a pair of input tensors (scalars, or one per last-dim channel)
# ----------------------------------------------------------------------------------------------------------
def _vars_range(inputs, min_val, max_val, num_bits, narrow_range, per_channel: bool):
    _check_bits(num_bits)
    if per_channel:
        depth = np.shape(inputs)[-1] if np.ndim(inputs) else None
        if np.shape(min_val) != (depth,) or np.shape(max_val) != (depth,):
            raise _invalid(f"min and max must be vectors of the last dimension of inputs ({depth}), got shapes "
                           f"{list(np.shape(min_val))} and {list(np.shape(max_val))}")
    elif np.ndim(min_val) != 0 or np.ndim(max_val) != 0:
        raise _invalid("min and max must be scalars")
    return _nudge(min_val, max_val, num_bits, narrow_range)


def _zero_range(min_val, max_val) -> np.ndarray:
    """Where the range is exactly [0, 0]: TF then outputs 0 and passes the whole gradient to the input."""
    return (np.asarray(min_val) == 0) & (np.asarray(max_val) == 0)


def _vars_kernel(per_channel: bool):
    def kernel(inputs, min, max, *, num_bits, narrow_range):  # noqa: A002 - TF's input names
        nudged_min, nudged_max, scale = _vars_range(inputs, min, max, num_bits, narrow_range, per_channel)
        out = _fake_quant(inputs, nudged_min, nudged_max, scale)
        return np.where(_zero_range(min, max), _F32(0), out).astype(_F32)

    return kernel


def _vars_gradient_kernel(per_channel: bool):
    def kernel(gradients, inputs, min, max, *, num_bits, narrow_range):  # noqa: A002 - TF's input names
        if np.shape(gradients) != np.shape(inputs):
            raise _invalid(f"gradients and inputs must have the same shape: {list(np.shape(gradients))} vs. "
                           f"{list(np.shape(inputs))}")
        nudged_min, nudged_max, _ = _vars_range(inputs, min, max, num_bits, narrow_range, per_channel)
        zero, passthrough = _F32(0), _zero_range(min, max)
        wrt_input = np.where(_inside(inputs, nudged_min, nudged_max) | passthrough, gradients, zero).astype(_F32)
        below = np.where((inputs < nudged_min) & ~passthrough, gradients, zero)
        above = np.where((inputs > nudged_max) & ~passthrough, gradients, zero)
        axes = tuple(range(np.ndim(inputs) - 1)) if per_channel else None
        return (wrt_input, np.sum(below, axis=axes, dtype=_F32).astype(_F32),
                np.sum(above, axis=axes, dtype=_F32).astype(_F32))

    return kernel


for _suffix, _per_channel in (("", False), ("PerChannel", True)):
    register_op(f"FakeQuantWithMinMaxVars{_suffix}", inputs=["inputs: float32", "min: float32", "max: float32"],
                outputs=["outputs: float32"], attrs=dict(_QUANT_ATTRS), shape=lambda op: op.inputs[0].shape,
                fresh_output=True)(_vars_kernel(_per_channel))
    register_op(f"FakeQuantWithMinMaxVars{_suffix}Gradient",
                inputs=["gradients: float32", "inputs: float32", "min: float32", "max: float32"],
                outputs=["backprops_wrt_input: float32", "backprop_wrt_min: float32", "backprop_wrt_max: float32"],
                attrs=dict(_QUANT_ATTRS),
                shape=lambda op: [op.inputs[1].shape, op.inputs[2].shape, op.inputs[3].shape],
                fresh_output=True)(_vars_gradient_kernel(_per_channel))


def _vars_grad(gradient_op: str):
    def gradient(op, grad):
        inputs, min_val, max_val = op.inputs
        return apply_op(gradient_op, [grad, inputs, min_val, max_val], _attrs_of(op, _QUANT_ATTRS)).outputs

    return gradient


RegisterGradient("FakeQuantWithMinMaxVars")(_vars_grad("FakeQuantWithMinMaxVarsGradient"))
RegisterGradient("FakeQuantWithMinMaxVarsPerChannel")(_vars_grad("FakeQuantWithMinMaxVarsPerChannelGradient"))


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
def _args_attrs(min, max, num_bits, narrow_range) -> dict:  # noqa: A002 - TF's argument names
    return {"min": float(min), "max": float(max), "num_bits": int(num_bits), "narrow_range": bool(narrow_range)}


@tf_export("fake_quant_with_min_max_args")
def fake_quant_with_min_max_args(inputs, min=-6, max=6, num_bits=8, narrow_range=False,  # noqa: A002
                                 name=None) -> _ops.Tensor:
    """float32 `inputs` clamped to [min, max] (nudged so 0 is a level) and rounded to 2^num_bits levels."""
    return apply_op("FakeQuantWithMinMaxArgs", [inputs], _args_attrs(min, max, num_bits, narrow_range),
                    name=name).outputs[0]


@tf_export("fake_quant_with_min_max_args_gradient")
def fake_quant_with_min_max_args_gradient(gradients, inputs, min=-6, max=6, num_bits=8,  # noqa: A002
                                          narrow_range=False, name=None) -> _ops.Tensor:
    """`gradients` where `inputs` lies inside the nudged [min, max], 0 elsewhere."""
    return apply_op("FakeQuantWithMinMaxArgsGradient", [gradients, inputs],
                    _args_attrs(min, max, num_bits, narrow_range), name=name).outputs[0]


def _quant_attrs(num_bits, narrow_range) -> dict:
    return {"num_bits": int(num_bits), "narrow_range": bool(narrow_range)}


@tf_export("fake_quant_with_min_max_vars")
def fake_quant_with_min_max_vars(inputs, min, max, num_bits=8, narrow_range=False,  # noqa: A002
                                 name=None) -> _ops.Tensor:
    """fake_quant_with_min_max_args with the range given by scalar float32 tensors (differentiable in them)."""
    return apply_op("FakeQuantWithMinMaxVars", [inputs, min, max], _quant_attrs(num_bits, narrow_range),
                    name=name).outputs[0]


@tf_export("fake_quant_with_min_max_vars_gradient")
def fake_quant_with_min_max_vars_gradient(gradients, inputs, min, max, num_bits=8, narrow_range=False,  # noqa: A002
                                          name=None) -> tuple:
    """(backprops_wrt_input, backprop_wrt_min, backprop_wrt_max) of fake_quant_with_min_max_vars."""
    return tuple(apply_op("FakeQuantWithMinMaxVarsGradient", [gradients, inputs, min, max],
                          _quant_attrs(num_bits, narrow_range), name=name).outputs)


@tf_export("fake_quant_with_min_max_vars_per_channel")
def fake_quant_with_min_max_vars_per_channel(inputs, min, max, num_bits=8, narrow_range=False,  # noqa: A002
                                             name=None) -> _ops.Tensor:
    """fake_quant_with_min_max_vars with one range per channel of the last dimension (min, max: [d] tensors)."""
    return apply_op("FakeQuantWithMinMaxVarsPerChannel", [inputs, min, max], _quant_attrs(num_bits, narrow_range),
                    name=name).outputs[0]


@tf_export("fake_quant_with_min_max_vars_per_channel_gradient")
def fake_quant_with_min_max_vars_per_channel_gradient(gradients, inputs, min, max, num_bits=8,  # noqa: A002
                                                      narrow_range=False, name=None) -> tuple:
    """(backprops_wrt_input, backprop_wrt_min, backprop_wrt_max) of the per-channel fake quantization."""
    return tuple(apply_op("FakeQuantWithMinMaxVarsPerChannelGradient", [gradients, inputs, min, max],
                          _quant_attrs(num_bits, narrow_range), name=name).outputs)

