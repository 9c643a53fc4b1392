"""How Python and NumPy values become the typed arrays a tensor holds at run time, with TF's type rules
(Python floats are float32, ints int32 unless too big, strings bytes). Knows graph elements only to refuse
them; below the op registry, which uses it to name the type a refused input would have had."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops


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
