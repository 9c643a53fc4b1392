"""Bitwise ops on integer tensors (`tf.bitwise`): BitwiseAnd, BitwiseOr, BitwiseXor, Invert, LeftShift, RightShift
and PopulationCount, each with its shape function and NumPy kernel beside its Python wrapper. None of them is
differentiable."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import math_ops, shape_fns

_INT = _dt.INTEGER


def _shift_amount(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """TF clamps a shift to [0, bits - 1] instead of leaving out-of-range shifts undefined."""
    bits = x.dtype.itemsize * 8
    return np.clip(y, 0, bits - 1).astype(x.dtype, copy=False)


def _left_shift(x, y):
    x, y = np.asarray(x), np.asarray(y)
    # Shift the bits as unsigned, so a signed value shifts its sign bit out instead of overflowing.
    unsigned = np.dtype(f"u{x.dtype.itemsize}")
    shifted = np.left_shift(x.view(unsigned), _shift_amount(x, y).astype(unsigned))
    return np.asarray(shifted).view(x.dtype)


def _right_shift(x, y):
    x, y = np.asarray(x), np.asarray(y)
    # Signed values shift arithmetically (the sign bit fills in), unsigned ones logically, as in C++.
    return np.right_shift(x, _shift_amount(x, y))


_BINARY = {
    "BitwiseAnd": np.bitwise_and,
    "BitwiseOr": np.bitwise_or,
    "BitwiseXor": np.bitwise_xor,
    "LeftShift": _left_shift,
    "RightShift": _right_shift,
}

for _name, _fn in _BINARY.items():
    register_op(_name, inputs=["x: T", "y: T"], outputs=["z: T"], allowed={"T": _INT}, shape=shape_fns.broadcast,
                fresh_output=True)(math_ops._broadcasting(_fn))
    NotDifferentiable(_name)

register_op("Invert", inputs=["x: T"], outputs=["y: T"], allowed={"T": _INT}, shape=shape_fns.unchanged,
            fresh_output=True)(np.invert)
NotDifferentiable("Invert")


def _popcount(x):
    as_bytes = np.ascontiguousarray(x).view(np.uint8).reshape(np.shape(x) + (x.dtype.itemsize,))
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1, dtype=np.uint8)


register_op("PopulationCount", inputs=["x: T"], outputs=["y: uint8"], allowed={"T": _INT},
            shape=shape_fns.unchanged, fresh_output=True)(_popcount)
NotDifferentiable("PopulationCount")


@tf_export("bitwise.bitwise_and")
def bitwise_and(x, y, name=None) -> _ops.Tensor:
    """Elementwise bitwise AND of two integer tensors of one dtype (broadcasting)."""
    return apply_op("BitwiseAnd", [x, y], name=name).outputs[0]


@tf_export("bitwise.bitwise_or")
def bitwise_or(x, y, name=None) -> _ops.Tensor:
    """Elementwise bitwise OR of two integer tensors of one dtype (broadcasting)."""
    return apply_op("BitwiseOr", [x, y], name=name).outputs[0]


@tf_export("bitwise.bitwise_xor")
def bitwise_xor(x, y, name=None) -> _ops.Tensor:
    """Elementwise bitwise XOR of two integer tensors of one dtype (broadcasting)."""
    return apply_op("BitwiseXor", [x, y], name=name).outputs[0]


@tf_export("bitwise.invert")
def invert(x, name=None) -> _ops.Tensor:
    """Flips every bit of an integer tensor (~x)."""
    return apply_op("Invert", [x], name=name).outputs[0]


@tf_export("bitwise.left_shift")
def left_shift(x, y, name=None) -> _ops.Tensor:
    """x << y elementwise; shifts below 0 count as 0 and shifts past the width as width - 1, as in TF."""
    return apply_op("LeftShift", [x, y], name=name).outputs[0]


@tf_export("bitwise.right_shift")
def right_shift(x, y, name=None) -> _ops.Tensor:
    """x >> y elementwise (arithmetic for signed types); shifts are clamped to [0, width - 1], as in TF."""
    return apply_op("RightShift", [x, y], name=name).outputs[0]
