"""Sparse ops over `SparseTensor`'s (indices, values, dense_shape) components: densify, reduce, matmul,
and `tf.sparse_placeholder`."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue
from tfmini.ops import array_ops, math_ops, shape_fns

_INDEX = (_dt.int32, _dt.int64)


def _as_sparse_input(sp_input) -> SparseTensor:
    """A SparseTensor (or SparseTensorValue) argument as a SparseTensor; TF's TypeError for anything else."""
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError("Input must be a SparseTensor.")
    return sp_input


def _check_indices(indices, shape, op_msg: str):
    if indices.size and (np.any(indices < 0) or np.any(indices >= np.asarray(shape)[None, :])):
        bad = int(np.argmax(np.any((indices < 0) | (indices >= np.asarray(shape)[None, :]), axis=1)))
        raise _errors.InvalidArgumentError(
            None, None, f"{op_msg}: indices[{bad}] = {_index_str(indices[bad])} is out of bounds: need 0 <= index < "
            f"{_index_str(shape)}"
        )


def _index_str(index) -> str:
    return "[" + ",".join(str(int(i)) for i in np.asarray(index).ravel()) + "]"  # TF's spelling: [2,0]


def _check_ordered(indices, op_msg: str):
    """TF's validation of densified indices: strictly increasing in row-major order, so none repeats."""
    if len(indices) < 2:
        return
    step = np.diff(indices, axis=0)
    first = step[np.arange(len(step)), np.argmax(step != 0, axis=1)]  # sign of the first differing coordinate
    bad = np.flatnonzero(first <= 0)
    if bad.size:
        n = int(bad[0]) + 1
        what = "out of order" if first[bad[0]] < 0 else "repeated"
        raise _errors.InvalidArgumentError(None, None, f"{op_msg}: indices[{n}] = {_index_str(indices[n])} is {what}")


@register_op(
    "SparseToDense",
    inputs=["sparse_indices: Tindices", "output_shape: Tindices", "sparse_values: T", "default_value: T"],
    outputs=["dense: T"],
    attrs={"validate_indices": ("bool", True)},
    allowed={"Tindices": _INDEX},
    shape=lambda op: _reg.constant_value_as_shape(op.inputs[1]),
)
def _sparse_to_dense(indices, shape, values, default, *, validate_indices):
    indices = np.asarray(indices).reshape(len(np.atleast_1d(indices)), -1) if np.ndim(indices) < 2 else indices
    if validate_indices:
        _check_indices(indices, shape, "SparseToDense")
        _check_ordered(indices, "SparseToDense")
    out = np.full(np.asarray(shape).tolist(), default, dtype=np.asarray(default).dtype)
    if indices.size:
        out[tuple(indices.T)] = values
    return out


NotDifferentiable("SparseToDense")  # as in TF: no gradient, not even for the values


@tf_export("sparse_tensor_to_dense")
def sparse_tensor_to_dense(sp_input, default_value=0, validate_indices=True, name=None) -> _ops.Tensor:
    """The dense tensor a SparseTensor denotes, `default_value` where no value is given."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseToDense", [sp_input]) as scope:
        default = _ops.convert_to_tensor(default_value, dtype=sp_input.dtype)
        return apply_op("SparseToDense", [sp_input.indices, sp_input.dense_shape, sp_input.values, default],
                        {"validate_indices": bool(validate_indices)}, name=scope).outputs[0]


def _sparse_reduce_shape(op):
    dense = _reg.constant_value_as_shape(op.inputs[2])
    axes = _reg.constant_value(op.inputs[3])
    if axes is None:
        return _shape.unknown_shape()
    axes = np.reshape(axes, [-1]).tolist()
    return shape_fns.reduced(dense, axes or None, op.get_attr("keep_dims"))


@register_op(
    "SparseReduceSum",
    inputs=["input_indices: int64", "input_values: T", "input_shape: int64", "reduction_axes: int32"],
    outputs=["output: T"],
    attrs={"keep_dims": ("bool", False)},
    allowed={"T": _dt.NUMBER},
    shape=_sparse_reduce_shape,
)
def _sparse_reduce_sum(indices, values, shape, axes, *, keep_dims):
    dense = np.zeros(np.asarray(shape).tolist(), dtype=values.dtype)
    if indices.size:
        np.add.at(dense, tuple(indices.T), values)
    axes = np.reshape(axes, [-1])
    axis = tuple(int(a) % dense.ndim for a in axes) if axes.size else None
    return np.asarray(np.sum(dense, axis=axis, keepdims=keep_dims, dtype=values.dtype))


@RegisterGradient("SparseReduceSum")
def _sparse_reduce_sum_grad(op, grad):
    """Each value gets the output gradient of the element it was summed into: the gradient is reshaped to
    keep_dims form and read at each value's index with the reduced coordinates set to 0."""
    indices, _, dense_shape, axes = op.inputs
    rank = array_ops.size(dense_shape)
    axes = math_ops.floormod(array_ops.reshape(axes, [-1]), rank)
    reduced = math_ops.reduce_any(
        math_ops.equal(array_ops.reshape(array_ops.range(rank), [-1, 1]), array_ops.reshape(axes, [1, -1])), axis=1)
    reduced = math_ops.logical_or(reduced, math_ops.equal(array_ops.size(axes), 0))  # no axes: all of them
    kept = array_ops.where(reduced, array_ops.ones_like(dense_shape), dense_shape)
    kept_grad = array_ops.reshape(grad, kept)
    return None, array_ops.gather_nd(kept_grad, indices // (dense_shape // kept)), None, None


@tf_export("sparse_reduce_sum")
def sparse_reduce_sum(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None) -> _ops.Tensor:
    """Sums a SparseTensor's values over `axis` (all axes when None), giving a dense tensor."""
    sp_input = _as_sparse_input(sp_input)
    axis = reduction_axes if axis is None else axis
    keep = bool(keepdims if keepdims is not None else keep_dims)
    axes = np.asarray([] if axis is None else axis, dtype=np.int32).reshape(-1)
    return apply_op("SparseReduceSum", [sp_input.indices, sp_input.values, sp_input.dense_shape, axes],
                    {"keep_dims": keep}).outputs[0]


def _sparse_matmul_shape(op):
    a = _reg.constant_value_as_shape(op.inputs[2])
    b = op.inputs[3].shape
    if a.ndims is None or b.ndims is None:
        return _shape.unknown_shape(2)
    adj_a, adj_b = op.get_attr("adjoint_a"), op.get_attr("adjoint_b")
    rows = a[1] if adj_a else a[0]
    cols = b[0] if adj_b else b[1]
    return [rows, cols]


@register_op(
    "SparseTensorDenseMatMul",
    inputs=["a_indices: Tindices", "a_values: T", "a_shape: int64", "b: T"],
    outputs=["product: T"],
    attrs={"adjoint_a": ("bool", False), "adjoint_b": ("bool", False), "Tindices": ("type", _dt.int64)},
    allowed={"Tindices": _INDEX},
    shape=_sparse_matmul_shape,
)
def _sparse_dense_matmul(indices, values, shape, b, *, adjoint_a, adjoint_b):
    a = np.zeros(np.asarray(shape).tolist(), dtype=values.dtype)
    if indices.size:
        np.add.at(a, tuple(indices.T), values)
    a = a.conj().T if adjoint_a else a
    b = b.conj().T if adjoint_b else b
    if a.shape[1] != b.shape[0]:
        raise _errors.InvalidArgumentError(
            None, None, f"Cannot multiply A and B because inner dimension does not match: {a.shape[1]} vs. "
            f"{b.shape[0]}."
        )
    return a @ b


@RegisterGradient("SparseTensorDenseMatMul")
def _sparse_dense_matmul_grad(op, grad):
    """For b, the sparse operand's adjoint times the output gradient; for each value a[i, j] of the sparse
    operand, the dot product of the gradient's row i with b's row j (rows and columns swapped by the adjoints)."""
    indices, values, dense_shape, b = op.inputs
    adj_a, adj_b = op.get_attr("adjoint_a"), op.get_attr("adjoint_b")
    if values.dtype.is_complex:
        raise NotImplementedError("SparseTensorDenseMatMul op does not support complex gradients.")
    b_grad = apply_op("SparseTensorDenseMatMul", [indices, values, dense_shape, grad],
                      {"adjoint_a": not adj_a, "adjoint_b": False}).outputs[0]
    if adj_b:
        b_grad = array_ops.transpose(b_grad)
    rows, cols = indices[:, 0], indices[:, 1]
    if adj_a:
        rows, cols = cols, rows
    b_rows = array_ops.gather(array_ops.transpose(b) if adj_b else b, cols)
    values_grad = math_ops.reduce_sum(array_ops.gather(grad, rows) * b_rows, axis=1)
    return None, values_grad, None, b_grad


@tf_export("sparse_tensor_dense_matmul")
def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None) -> _ops.Tensor:
    sp_a = _as_sparse_input(sp_a)
    return apply_op("SparseTensorDenseMatMul", [sp_a.indices, sp_a.values, sp_a.dense_shape, b],
                    {"adjoint_a": bool(adjoint_a), "adjoint_b": bool(adjoint_b)}, name=name).outputs[0]


@tf_export("sparse_placeholder")
def sparse_placeholder(dtype, shape=None, name=None) -> SparseTensor:
    """A SparseTensor whose three components are placeholders; feed it a SparseTensorValue."""
    with _ops.name_scope(name, "SparseTensor", []) as scope:
        base = scope.rstrip("/") if name else None
        prefix = f"{base}/" if base else ""
    rank = None
    if shape is not None:
        shape_ts = _shape.as_shape(shape)
        rank = shape_ts.ndims
    values = array_ops.placeholder(dtype, shape=[None], name=f"{prefix}values" if prefix else None)
    indices = array_ops.placeholder(_dt.int64, shape=[None, rank], name=f"{prefix}indices" if prefix else None)
    if shape is not None and shape_ts.is_fully_defined():
        dense_shape = _ops.convert_to_tensor(np.asarray(shape_ts.as_list(), dtype=np.int64),
                                             name=f"{prefix}shape" if prefix else None)
    else:
        dense_shape = array_ops.placeholder(_dt.int64, shape=[rank], name=f"{prefix}shape" if prefix else None)
    return SparseTensor(indices, values, dense_shape)

