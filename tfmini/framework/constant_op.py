"""`tf.constant` and the Const op; how Python and NumPy values become typed arrays is in numpy_values."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.numpy_values import to_numpy


@_registry.register_op(
    "Const",
    outputs=["output: dtype"],
    attrs={"value": ("tensor", _registry.REQUIRED), "dtype": ("type", _registry.REQUIRED)},
    shape=lambda op: op.get_attr("value").shape,
)
def _const_kernel(*, value):
    """A constant tensor; its value is part of the graph."""
    return value


@_registry.register_static_value("Const")
def _const_static(tensor):
    return tensor.op.get_attr("value")


# Values whose conversion always builds a new array (lists, tuples, Python and NumPy scalars).
_BUILT_FRESH = (list, tuple, int, float, complex, str, bytes, np.generic)


@tf_export("constant")
def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False) -> _ops.Tensor:
    """`tf.constant`: a Const op holding `value` (broadcast or padded with its last element to `shape`)."""
    dtype = None if dtype is None else _dtypes.as_dtype(dtype)
    arr = to_numpy(value, dtype)
    if dtype is None:
        dtype = _dtypes.as_dtype(arr.dtype) if arr.dtype.kind != "O" else _dtypes.string
    if shape is not None:
        shape = [int(d) for d in _shape.as_shape(shape).as_list()]
        n = int(np.prod(shape, dtype=np.int64))
        if verify_shape and list(arr.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        if arr.ndim == 0 or arr.size == 1:
            arr = np.full(shape, arr.reshape(-1)[0] if arr.size else arr, dtype=arr.dtype)
        elif arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size < n:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.repeat(flat[-1:], n - arr.size)]).reshape(shape)
        else:
            raise TypeError(f"Too many elements provided. Needed at most {n}, but received {arr.size}")
    if not isinstance(value, _BUILT_FRESH) or not arr.flags.owndata:
        # The graph keeps its own read-only copy, never memory the caller can reach: their ndarray, or the
        # buffer behind a memoryview, bytearray or __array__ object that np.asarray may return as it is.
        arr = arr.copy()
    arr.flags.writeable = False
    op = _registry.apply_op("Const", [], {"value": arr, "dtype": dtype}, name=name)
    return op.outputs[0]


_ops.register_constant_conversion(constant)
