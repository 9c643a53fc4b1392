"""`tf.constant` and the Const op, plus how Python and NumPy values become typed arrays."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework import tensor_shape as _shape


def _has_python_float(value) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_python_float(v) for v in value)
    return False


def _infer_python_dtype(value) -> _dtypes.DType:
    """TF's default dtype for a Python value: floats -> float32, ints -> int32 (int64 if too big), ..."""
    arr = np.asarray(value)
    kind = arr.dtype.kind
    numpy_value = isinstance(value, (np.ndarray, np.generic))  # NumPy values keep their dtype
    if kind == "f":
        return _dtypes.as_dtype(arr.dtype) if numpy_value else _dtypes.float32
    if kind in "iu":
        if isinstance(value, (np.ndarray, np.generic)):
            return _dtypes.as_dtype(arr.dtype)
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            return _dtypes.int64
        return _dtypes.int32
    if kind == "c":
        return _dtypes.as_dtype(arr.dtype) if numpy_value else _dtypes.complex128
    if kind == "b":
        return _dtypes.bool_
    if kind in "SUO":
        return _dtypes.string
    raise TypeError(f"Failed to convert object of type {type(value)} to Tensor. Contents: {value!r}.")


def _to_bytes(x):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, np.bytes_):
        return bytes(x)
    raise TypeError(f"Expected string, got {x!r} of type '{type(x).__name__}' instead.")


def to_numpy(value, dtype: _dtypes.DType | None = None) -> np.ndarray:
    """Converts a Python/NumPy value to the ndarray that holds it at run time, with TF's type rules."""
    if isinstance(value, (_ops.Tensor, _ops.Operation)):
        raise TypeError(f"Expected a Python or NumPy value, got the graph element {value!r}.")
    if value is None:
        raise ValueError("None values not supported.")
    if dtype is None:
        dtype = _infer_python_dtype(value)
    dtype = dtype.base_dtype
    if dtype == _dtypes.string:
        arr = np.asarray(value, dtype=object)
        if arr.dtype.kind == "O":
            flat = [_to_bytes(x) for x in arr.reshape(-1)]
            out = np.empty(arr.shape, dtype=object)
            out.reshape(-1)[:] = flat if flat else []
            return out
        raise TypeError(f"Expected string, got {value!r} instead.")
    src = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if src.dtype.kind in "SUO" and src.size:
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type '{type(value).__name__}' instead.")
    if (dtype.is_integer or dtype.is_bool) and not isinstance(value, (np.ndarray, np.generic)) and \
            _has_python_float(value):
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type 'float' instead.")
    if dtype.is_integer and src.dtype.kind in "iu" and src.size and not isinstance(value, np.ndarray):
        info = np.iinfo(dtype.as_numpy_dtype)
        if src.max() > info.max or src.min() < info.min:
            raise TypeError(f"Value {value!r} is out of range for dtype {dtype.name}")
    if dtype.is_bool and src.dtype.kind != "b" and src.size and not isinstance(value, np.ndarray):
        raise TypeError(f"Expected bool, got {value!r} of type '{type(value).__name__}' instead.")
    if dtype.is_complex is False and src.dtype.kind == "c":
        raise TypeError(f"Expected {dtype.name}, got complex value {value!r} instead.")
    return np.asarray(src, dtype=dtype.as_numpy_dtype)


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
