"""Helpers shared by the tf.image modules: the kernels' error and compute types, and the Python API's checks of
image shapes (static where the shape is known, run-time Asserts where it is not). Knows no image op."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.ops import array_ops, control_flow_ops, math_ops

_HALF_FLOAT = (_dt.float16, _dt.float32)


def _invalid(message: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, message)


def _float_type(dtype: np.dtype) -> type:
    """The type TF's CPU kernels compute a float op in: float for half precision, else the input's."""
    return np.float64 if dtype == np.float64 else np.float32


# ----------------------------------------------------------------------------------------------------------
# Python API: shape checks shared by the image functions
# ----------------------------------------------------------------------------------------------------------
def _is_tensor(x) -> bool:
    return isinstance(x, _ops.Tensor)


def _assert(cond, exc_type, message: str) -> list:
    """A run-time Assert when `cond` is a tensor; otherwise raise `exc_type` now if it is false."""
    if _is_tensor(cond):
        return [control_flow_ops.Assert(cond, [message])]
    if not cond:
        raise exc_type(message)
    return []


def _with_checks(checks: list, image: _ops.Tensor) -> _ops.Tensor:
    return control_flow_ops.with_dependencies(checks, image) if checks else image


def _dimensions(image: _ops.Tensor, rank: int) -> list:
    """Each dimension of `image`: a Python int where it is known statically, else a scalar tensor."""
    static = image.shape.with_rank(rank).as_list()
    if all(d is not None for d in static):
        return static
    dynamic = array_ops.unstack(array_ops.shape(image), rank)
    return [s if s is not None else d for s, d in zip(static, dynamic)]


def _check_at_least_3d(image: _ops.Tensor, require_static: bool = True) -> list:
    """TF's checks that `image` is an image: rank >= 3 and no empty dimension among the last three."""
    shape = image.shape
    if shape.ndims is None:
        if require_static:
            raise ValueError(f"'image' ({image.name}) must be fully defined.")
        return []
    if shape.ndims < 3:
        raise ValueError(f"'image' (shape {shape}) must be at least three-dimensional.")
    last = shape.as_list()[-3:]
    if require_static and any(d is None for d in last):
        raise ValueError(f"'image' (shape {shape}) must be fully defined.")
    if any(d == 0 for d in last):
        raise ValueError(f"all dims of 'image.shape' must be > 0: {shape}")
    if any(d is None for d in last):
        dims = array_ops.shape(image)[-3:]
        return [control_flow_ops.Assert(math_ops.reduce_all(math_ops.greater(dims, 0)),
                                        ["all dims of 'image.shape' must be > 0."])]
    return []


def _as_batch(image: _ops.Tensor) -> tuple[_ops.Tensor, bool]:
    """`image` as a 4-D batch, and whether it was one already (rank 3 gets a batch dimension)."""
    ndims = image.shape.ndims
    if ndims == 3:
        return array_ops.expand_dims(image, 0), False
    if ndims is None:
        image = array_ops.expand_dims(image, 0)
        image.set_shape([None] * 4)
        return image, False
    if ndims != 4:
        raise ValueError("'image' must have either 3 or 4 dimensions.")
    return image, True


def _target_batch(image, target_height, target_width) -> tuple[_ops.Tensor, bool]:
    """`image` as a checked 4-D batch (and whether it was one) for the functions that bring it to
    [target_height, target_width]: it must be an image and the target size positive."""
    image = _ops.convert_to_tensor(image, name="image")
    image, is_batch = _as_batch(image)
    checks = _check_at_least_3d(image, require_static=False)
    checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
    checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
    return _with_checks(checks, image), is_batch


def _unbatch(image: _ops.Tensor, is_batch: bool) -> _ops.Tensor:
    return image if is_batch else array_ops.squeeze(image, axis=[0])


def _int_vector(values) -> _ops.Tensor:
    """A 1-D int32 tensor of ints and scalar tensors."""
    if not any(_is_tensor(v) for v in values):
        return _ops.convert_to_tensor(np.asarray(values, dtype=np.int32))
    return array_ops.stack([math_ops.cast(v, _dt.int32) if _is_tensor(v) else
                            _ops.convert_to_tensor(np.int32(v)) for v in values])


def _static_or_none(values) -> list:
    return [None if _is_tensor(v) else v for v in values]
