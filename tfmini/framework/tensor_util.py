"""Conversions between NumPy arrays and `TensorProto` messages (`tf.make_tensor_proto`, `tf.make_ndarray`)."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.numpy_values import to_numpy
from tfmini.framework.registry import constant_value
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.protobuf import tensor_pb2

# The repeated field of TensorProto that holds values of each dtype when tensor_content is not used.
_VAL_FIELD = {
    _dtypes.float16: "half_val",
    _dtypes.float32: "float_val",
    _dtypes.float64: "double_val",
    _dtypes.int8: "int_val",
    _dtypes.int16: "int_val",
    _dtypes.int32: "int_val",
    _dtypes.uint8: "int_val",
    _dtypes.uint16: "int_val",
    _dtypes.int64: "int64_val",
    _dtypes.uint32: "uint32_val",
    _dtypes.uint64: "uint64_val",
    _dtypes.bool_: "bool_val",
    _dtypes.string: "string_val",
    _dtypes.complex64: "scomplex_val",
    _dtypes.complex128: "dcomplex_val",
}


@tf_export("make_tensor_proto")
def make_tensor_proto(values, dtype=None, shape=None, verify_shape: bool = False, allow_broadcast: bool = False):
    """A TensorProto holding `values`: several numeric values go into `tensor_content` as little-endian bytes, a
    single one into its typed field, strings into `string_val` (TensorFlow's layout).

    Given a `shape`, fewer values than it holds are padded with the last one and more are refused; with
    `allow_broadcast`, a scalar or one-element value fills the shape and any other must have exactly its size
    (`allow_broadcast` and `verify_shape` exclude each other, as in TF)."""
    if verify_shape and allow_broadcast:
        raise ValueError("allow_broadcast and verify_shape are not both allowed.")
    dtype = None if dtype is None else _dtypes.as_dtype(dtype)
    if dtype == _dtypes.variant or (dtype is None and _holds_opaque_objects(values)):
        return _variant_proto(values)
    arr = to_numpy(values, dtype)
    if dtype is None:
        dtype = _dtypes.string if arr.dtype.kind == "O" else _dtypes.as_dtype(arr.dtype)
    if shape is not None:
        shape = _shape.as_shape(shape).as_list()
        size = int(np.prod(shape))
        if verify_shape and list(arr.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        if allow_broadcast and arr.shape not in ((), (1,)) and arr.size != size:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        if arr.size > size:
            raise ValueError(f"Too many elements provided. Needed at most {size}, but received {arr.size}")
        if arr.size == 1 and size != 1:
            arr = np.full(shape, arr.reshape(-1)[0], dtype=arr.dtype)
        elif 0 < arr.size < size:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.repeat(flat[-1:], size - flat.size)]).reshape(shape)
        else:
            arr = arr.reshape(shape)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=_shape.TensorShape(arr.shape).as_proto())
    flat = arr.reshape(-1)
    if dtype == _dtypes.string:
        proto.string_val.extend(flat.tolist())
    elif flat.size > 1:
        proto.tensor_content = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    else:
        # A scalar (or single value) goes into the typed field, as TensorFlow writes it (e.g. `float_val: 5`).
        field = getattr(proto, _VAL_FIELD[dtype])
        if dtype == _dtypes.float16:
            field.extend(flat.view(np.uint16).astype(np.int64).tolist())
        elif dtype.is_complex:
            field.extend(v for c in flat.tolist() for v in (c.real, c.imag))
        else:
            field.extend(flat.tolist())
    return proto


def _holds_opaque_objects(values) -> bool:
    """Whether `values` is an object array of something other than strings: a variant tensor's value."""
    return isinstance(values, np.ndarray) and values.dtype.kind == "O" and any(
        not isinstance(x, (bytes, str, np.bytes_)) for x in values.reshape(-1))


def _variant_proto(values):
    """A variant tensor holds opaque run-time objects (e.g. a control-flow tape, or the zero a gradient fills
    in for one); its proto records the shape and each element's type name, not the objects."""
    arr = np.asarray(values, dtype=object)
    proto = tensor_pb2.TensorProto(dtype=_dtypes.variant.as_datatype_enum,
                                   tensor_shape=_shape.TensorShape(arr.shape).as_proto())
    for x in arr.reshape(-1):
        proto.variant_val.add(type_name=type(x).__name__)
    return proto


@tf_export("make_ndarray")
def make_ndarray(tensor) -> np.ndarray:
    """The NumPy array that a TensorProto holds (from tensor_content or the typed repeated fields); a variant
    tensor's elements, which protos do not carry, come back as None."""
    dtype = _dtypes.as_dtype(tensor.dtype)
    shape = [d.size for d in tensor.tensor_shape.dim]
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == _dtypes.variant:
        return np.full(shape, None, dtype=object)
    if dtype == _dtypes.string:
        vals = list(tensor.string_val)
        out = np.empty(n, dtype=object)
        # Missing values repeat the last one, as for numbers; with none at all they are empty strings (TF's
        # default for a string tensor), never None.
        out[:] = vals if len(vals) == n else (vals + [vals[-1]] * (n - len(vals)) if vals else [b""] * n)
        return out.reshape(shape)
    if dtype.as_numpy_dtype is None:
        raise TypeError(f"Cannot convert a TensorProto of dtype {dtype.name} to a NumPy array.")
    npt = np.dtype(dtype.as_numpy_dtype)
    if tensor.tensor_content:
        return np.frombuffer(tensor.tensor_content, dtype=npt.newbyteorder("<")).astype(npt).reshape(shape).copy()
    field = _VAL_FIELD[dtype]
    vals = list(getattr(tensor, field))
    if dtype == _dtypes.float16:
        flat = np.array(vals, dtype=np.uint16).view(np.float16)
    elif dtype.is_complex:
        flat = np.array(vals[0::2], dtype=npt) + 1j * np.array(vals[1::2], dtype=npt)
    else:
        flat = np.array(vals, dtype=npt)
    if flat.size == n:
        return flat.reshape(shape)
    if flat.size == 0:
        return np.zeros(shape, dtype=npt)
    return np.concatenate([flat, np.repeat(flat[-1:], n - flat.size)]).reshape(shape)


@tf_export("is_tensor")
def is_tensor(x) -> bool:
    """Whether `x` is tensor-like: a Tensor, a Variable, a SparseTensor or IndexedSlices (not a NumPy array)."""
    return isinstance(x, (_ops.Tensor, SparseTensor, IndexedSlices)) or (
        hasattr(x, "_as_graph_element") and hasattr(x, "dtype") and hasattr(x, "op"))


@tf_export("get_static_value")
def get_static_value(tensor, partial: bool = False):
    """The NumPy value of `tensor` when the graph alone determines it, else None; a value that is not a tensor is
    returned as it is. As in TF, a tensor whose value was read this way can no longer be fed."""
    if not is_tensor(tensor):
        return tensor
    if not isinstance(tensor, _ops.Tensor):
        return None
    value = constant_value(tensor)
    if value is None:
        return None
    tensor.graph.prevent_feeding(tensor)
    return np.asarray(value)
