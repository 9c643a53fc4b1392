"""`tf.sets`: set operations along the last dimension of dense tensors and SparseTensors (SetSize,
DenseToDenseSetOperation, DenseToSparseSetOperation, SparseToSparseSetOperation), results as SparseTensors."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue

_SET_TYPES = (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8, _dt.uint16, _dt.string)
_OPERATIONS = ("a-b", "b-a", "intersection", "union")


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _strides(shape) -> np.ndarray:
    out = np.ones(len(shape), np.int64)
    if len(shape) > 1:
        out[:-1] = np.cumprod(np.asarray(shape[:0:-1], np.int64))[::-1]
    return out


def _index_str(index) -> str:
    return "[" + ",".join(str(int(i)) for i in np.asarray(index).ravel()) + "]"


def _dense_members(op_name: str, which: str, dense: np.ndarray):
    """(group of each element, its value, the group shape) of a dense operand: one set per last-axis row."""
    if dense.ndim < 2:
        raise _invalid(f"{op_name}: {which} must have rank >= 2, got shape {_shape.dims_str(dense.shape)}")
    n_groups = int(np.prod(dense.shape[:-1]))
    groups = np.repeat(np.arange(n_groups, dtype=np.int64), dense.shape[-1])
    return groups, dense.reshape(-1), np.asarray(dense.shape[:-1], np.int64)


def _sparse_members(op_name: str, which: str, indices, values, shape, validate: bool):
    """(group of each value, the value, the group shape) of a sparse operand: one set per index prefix."""
    if np.ndim(indices) != 2 or np.ndim(values) != 1 or np.ndim(shape) != 1 or len(indices) != len(values) \
            or indices.shape[1] != len(shape):
        raise _invalid(f"{op_name}: {which} is not a valid SparseTensor: indices {_shape.dims_str(np.shape(indices))}"
                       f", values {_shape.dims_str(np.shape(values))}, shape {_shape.dims_str(np.shape(shape))}")
    if len(shape) < 2:
        raise _invalid(f"{op_name}: {which} must have rank >= 2, got shape [{','.join(str(int(d)) for d in shape)}]")
    if validate and len(indices):
        outside = np.any((indices < 0) | (indices >= shape), axis=1)
        if outside.any():
            i = int(np.argmax(outside))
            raise _invalid(f"{op_name}: {which}: indices[{i}] = {_index_str(indices[i])} is out of bounds: need "
                           f"0 <= index < {_index_str(shape)}")
        linear = indices @ _strides(shape)
        unordered = np.flatnonzero(linear[1:] <= linear[:-1])
        if unordered.size:
            i = int(unordered[0]) + 1
            what = "repeated" if linear[i] == linear[i - 1] else "out of order"
            raise _invalid(f"{op_name}: {which}: indices[{i}] = {_index_str(indices[i])} is {what}. Many sparse "
                           "ops require sorted indices.")
    lead = np.asarray(shape[:-1], np.int64)
    groups = indices[:, :-1] @ _strides(lead) if len(indices) else np.zeros(0, np.int64)
    return groups.astype(np.int64), values, lead


def _value_codes(*value_arrays) -> list[np.ndarray]:
    """Integer codes of values on one scale (ordered as the values are), for numbers and byte strings alike."""
    joined = np.concatenate([np.asarray(v) for v in value_arrays])
    uniq, codes = np.unique(joined, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    return [uniq] + np.split(codes, np.cumsum([len(v) for v in value_arrays])[:-1])


def _set_result(op_name: str, operation: str, a, b, values_dtype):
    """The SparseTensor (indices, values, shape) of `operation` between the members of two operands."""
    (ga, va, lead_a), (gb, vb, lead_b) = a, b
    if not np.array_equal(lead_a, lead_b):
        raise _invalid(f"{op_name}: Shapes of the sets differ before the last dimension: "
                       f"[{','.join(str(int(d)) for d in lead_a)}] vs. [{','.join(str(int(d)) for d in lead_b)}]")
    uniq, ca, cb = _value_codes(va, vb)
    base = max(len(uniq), 1)
    ka, kb = np.unique(ga * base + ca), np.unique(gb * base + cb)
    if operation == "intersection":
        keys = np.intersect1d(ka, kb, assume_unique=True)
    elif operation == "union":
        keys = np.union1d(ka, kb)
    elif operation == "a-b":
        keys = np.setdiff1d(ka, kb, assume_unique=True)
    elif operation == "b-a":
        keys = np.setdiff1d(kb, ka, assume_unique=True)
    else:
        raise _invalid(f"{op_name}: Invalid set_operation {operation}")
    groups, codes = keys // base, keys % base
    # Each set's members come out sorted (keys are group-major, value-minor) and numbered 0, 1, ... in it.
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if keys.size else np.zeros(0, np.int64)
    run_start = np.repeat(starts, np.diff(np.r_[starts, keys.size]))
    position = np.arange(keys.size) - run_start
    width = int(position.max()) + 1 if keys.size else 0
    lead_index = np.zeros((keys.size, len(lead_a)), np.int64)
    rest = groups.copy()
    for d in range(len(lead_a) - 1, -1, -1):
        size = max(int(lead_a[d]), 1)
        lead_index[:, d] = rest % size
        rest //= size
    indices = np.concatenate([lead_index, position[:, None]], axis=1)
    values = np.asarray(uniq[codes] if keys.size else np.zeros(0, uniq.dtype)).astype(values_dtype, copy=False)
    return indices, values, np.concatenate([lead_a, [width]]).astype(np.int64)


def _set_op_shape(op):
    """[?, rank], [?], [rank], the rank taken from the first operand (dense, or a SparseTensor's shape)."""
    first = op.inputs[0].shape if op.type.startswith("Dense") else op.inputs[2].shape
    rank = first.ndims if op.type.startswith("Dense") else (first[0].value if first.ndims == 1 else None)
    if op.type.startswith("Dense"):
        for t in op.inputs[:1] if op.type == "DenseToSparseSetOperation" else op.inputs[:2]:
            if t.shape.ndims is not None and t.shape.ndims < 2:
                raise ValueError(f"Shape must be at least rank 2 but is rank {t.shape.ndims}")
        if op.type == "DenseToDenseSetOperation" and first.ndims is not None and op.inputs[1].shape.ndims:
            a, b = first[:-1], op.inputs[1].shape[:-1]
            if not a.is_compatible_with(b):
                raise ValueError(f"Shapes {a} and {b} must agree before their last dimension")
    return [_shape.TensorShape([None, rank]), _shape.TensorShape([None]), _shape.TensorShape([rank])]


_SET_ATTRS = {"set_operation": ("string", REQUIRED), "validate_indices": ("bool", True)}
_SET_OUTPUTS = ["result_indices: int64", "result_values: T", "result_shape: int64"]


@register_op("DenseToDenseSetOperation", inputs=["set1: T", "set2: T"], outputs=_SET_OUTPUTS, attrs=_SET_ATTRS,
             allowed={"T": _SET_TYPES}, shape=_set_op_shape)
def _dense_to_dense(set1, set2, *, set_operation):
    name = "DenseToDenseSetOperation"
    return _set_result(name, set_operation, _dense_members(name, "set1", set1), _dense_members(name, "set2", set2),
                       set1.dtype)


@register_op("DenseToSparseSetOperation", inputs=["set1: T", "set2_indices: int64", "set2_values: T",
                                                  "set2_shape: int64"],
             outputs=_SET_OUTPUTS, attrs=_SET_ATTRS, allowed={"T": _SET_TYPES}, shape=_set_op_shape)
def _dense_to_sparse(set1, set2_indices, set2_values, set2_shape, *, set_operation, validate_indices):
    name = "DenseToSparseSetOperation"
    return _set_result(name, set_operation, _dense_members(name, "set1", set1),
                       _sparse_members(name, "set2", set2_indices, set2_values, set2_shape, validate_indices),
                       set1.dtype)


@register_op("SparseToSparseSetOperation", inputs=["set1_indices: int64", "set1_values: T", "set1_shape: int64",
                                                   "set2_indices: int64", "set2_values: T", "set2_shape: int64"],
             outputs=_SET_OUTPUTS, attrs=_SET_ATTRS, allowed={"T": _SET_TYPES}, shape=_set_op_shape)
def _sparse_to_sparse(set1_indices, set1_values, set1_shape, set2_indices, set2_values, set2_shape, *,
                      set_operation, validate_indices):
    name = "SparseToSparseSetOperation"
    return _set_result(name, set_operation,
                       _sparse_members(name, "set1", set1_indices, set1_values, set1_shape, validate_indices),
                       _sparse_members(name, "set2", set2_indices, set2_values, set2_shape, validate_indices),
                       set1_values.dtype)


def _set_size_shape(op):
    return _shape.unknown_shape()


@register_op("SetSize", inputs=["set_indices: int64", "set_values: T", "set_shape: int64"], outputs=["size: int32"],
             attrs={"validate_indices": ("bool", True)}, allowed={"T": _SET_TYPES}, shape=_set_size_shape)
def _set_size(set_indices, set_values, set_shape, *, validate_indices):
    groups, values, lead = _sparse_members("SetSize", "set", set_indices, set_values, set_shape, validate_indices)
    _, codes = _value_codes(values)
    n_groups = int(np.prod(lead))
    distinct = np.unique(groups * max(len(values), 1) + codes)
    counts = np.bincount(distinct // max(len(values), 1), minlength=n_groups)[:n_groups]
    return counts.astype(np.int32).reshape(lead.tolist())


for _op_type in ("SetSize", "DenseToDenseSetOperation", "DenseToSparseSetOperation", "SparseToSparseSetOperation"):
    NotDifferentiable(_op_type)


def _operand(x, name: str):
    if isinstance(x, SparseTensorValue):
        x = SparseTensor.from_value(x)
    if isinstance(x, SparseTensor):
        return x
    return _ops.convert_to_tensor(x, name=name)


def _check_dtype(t) -> None:
    if t.dtype.base_dtype not in _SET_TYPES:
        raise TypeError(f"Invalid dtype {t.dtype.name}.")


def _set_operation(a, b, set_operation: str, validate_indices: bool) -> SparseTensor:
    a, b = _operand(a, "a"), _operand(b, "b")
    _check_dtype(a)
    _check_dtype(b)
    if a.dtype.base_dtype != b.dtype.base_dtype:
        raise TypeError(f"Types don't match, {a.dtype.name} vs {b.dtype.name}.")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        a, b = b, a  # only dense-sparse exists: flip the operands and the direction of a difference
        set_operation = {"a-b": "b-a", "b-a": "a-b"}.get(set_operation, set_operation)
    attrs = {"set_operation": set_operation, "validate_indices": bool(validate_indices)}
    if isinstance(a, SparseTensor):
        out = apply_op("SparseToSparseSetOperation", [a.indices, a.values, a.dense_shape, b.indices, b.values,
                                                      b.dense_shape], attrs).outputs
    elif isinstance(b, SparseTensor):
        out = apply_op("DenseToSparseSetOperation", [a, b.indices, b.values, b.dense_shape], attrs).outputs
    else:
        out = apply_op("DenseToDenseSetOperation", [a, b], {"set_operation": set_operation}).outputs
    return SparseTensor(*out)


@tf_export("sets.intersection", "sets.set_intersection")
def set_intersection(a, b, validate_indices=True) -> SparseTensor:
    """The intersection of the sets in the last dimension of `a` and `b` (dense or SparseTensors of one
    shape before the last dimension), as a SparseTensor with each result set sorted."""
    return _set_operation(a, b, "intersection", validate_indices)


@tf_export("sets.union", "sets.set_union")
def set_union(a, b, validate_indices=True) -> SparseTensor:
    """The union of the sets in the last dimension of `a` and `b`, as a SparseTensor of sorted sets."""
    return _set_operation(a, b, "union", validate_indices)


@tf_export("sets.difference", "sets.set_difference")
def set_difference(a, b, aminusb=True, validate_indices=True) -> SparseTensor:
    """`a - b` (or `b - a` when `aminusb` is False) of the sets in the last dimension, as a SparseTensor of
    sorted sets."""
    return _set_operation(a, b, "a-b" if aminusb else "b-a", validate_indices)


@tf_export("sets.size", "sets.set_size")
def set_size(a, validate_indices=True) -> _ops.Tensor:
    """The number of distinct values in each set of the last dimension of SparseTensor `a` (int32, shape of `a`
    without its last dimension)."""
    if isinstance(a, SparseTensorValue):
        a = SparseTensor.from_value(a)
    if not isinstance(a, SparseTensor):
        raise TypeError(f"Expected `SparseTensor`, got {a}.")
    _check_dtype(a)
    return apply_op("SetSize", [a.indices, a.values, a.dense_shape],
                    {"validate_indices": bool(validate_indices)}).outputs[0]
