"""Sparse ops over `SparseTensor`'s (indices, values, dense_shape) components: `tf.sparse.*` and the TF1
`tf.sparse_*` names (densify, add, reorder, reshape, slice, split, concat, softmax, reductions, element-wise ops
with dense tensors, matmuls, segment reductions over gathered rows), each op beside its kernel and gradient."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework import tensor_util as _tensor_util
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue
from tfmini.ops import array_ops, math_ops, segment_ops, shape_fns
from tfmini.ops.control_flow_ops import Assert
from tfmini.ops.string_hash_ops import fingerprint64_many
from tfmini.protobuf import tensor_pb2

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


@tf_export("sparse.to_dense", "sparse_tensor_to_dense")
def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices=True, name=None) -> _ops.Tensor:
    """The dense tensor a SparseTensor denotes, `default_value` (zero when None) where no value is given."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseToDense", [sp_input]) as scope:
        default = _ops.convert_to_tensor(0 if default_value is None else default_value, dtype=sp_input.dtype)
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
    """Sums per output entry over the values only (never the dense input, which may be far larger)."""
    return _sparse_reduce_kernel("SparseReduceSum", np.add, False)(indices, values, shape, axes,
                                                                   keep_dims=keep_dims)


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


@tf_export("sparse.reduce_sum", "sparse_reduce_sum")
def sparse_reduce_sum(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None) -> _ops.Tensor:
    """Sums a SparseTensor's values over `axis` (all axes when None), giving a dense tensor."""
    inputs, keep = _reduce_args(sp_input, axis, keepdims, reduction_axes, keep_dims)
    return apply_op("SparseReduceSum", inputs, {"keep_dims": keep}).outputs[0]


def _sparse_matmul_shape(op):
    a = _reg.constant_value_as_shape(op.inputs[2])
    b = op.inputs[3].shape
    if a.ndims is None or b.ndims is None:
        return _shape.unknown_shape(2)
    adj_a, adj_b = op.get_attr("adjoint_a"), op.get_attr("adjoint_b")
    inner_a, inner_b = (a[0] if adj_a else a[1]), (b[1] if adj_b else b[0])
    if inner_a.value is not None and inner_b.value is not None and inner_a.value != inner_b.value:
        raise ValueError(f"Dimensions must be equal, but are {inner_a.value} and {inner_b.value}")
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
    """Row i of the product sums values[k] * b[col k] over the entries k of row i; the sparse operand is never
    densified."""
    if np.ndim(indices) != 2 or np.shape(indices)[1] != 2 or np.ndim(shape) != 1 or len(shape) != 2:
        raise _invalid(f"SparseTensorDenseMatMul: the sparse operand must be a matrix: indices shape "
                       f"{_shape.dims_str(np.shape(indices))}, shape {_index_str(shape)}")
    if b.ndim != 2:
        raise _invalid(f"SparseTensorDenseMatMul: Tensor 'b' is not a matrix: {_shape.dims_str(b.shape)}")
    rows, cols = indices[:, 0].astype(np.int64), indices[:, 1].astype(np.int64)
    n_rows, n_cols = int(shape[0]), int(shape[1])
    if adjoint_a:
        rows, cols, n_rows, n_cols = cols, rows, n_cols, n_rows
        values = values.conj()
    b = b.conj().T if adjoint_b else b
    if n_cols != b.shape[0]:
        raise _invalid(f"Cannot multiply A and B because inner dimension does not match: {n_cols} vs. "
                       f"{b.shape[0]}.")
    for what, coords, limit, column in (("i", rows, n_rows, 1 if adjoint_a else 0),
                                        ("k", cols, n_cols, 0 if adjoint_a else 1)):
        bad = np.flatnonzero((coords < 0) | (coords >= limit))
        if bad.size:
            k = int(bad[0])
            raise _invalid(f"SparseTensorDenseMatMul: {what} ({int(coords[k])}) from index[{k},{column}] out of "
                           f"bounds (>={limit})")
    out = np.zeros((n_rows, b.shape[1]), np.result_type(values.dtype, b.dtype))
    if len(rows):
        order, starts = sorted_runs(rows)
        out[rows[order[starts]]] = np.add.reduceat(values[order, None] * b[cols[order]], starts, axis=0)
    return out.astype(b.dtype, copy=False)


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


@tf_export("sparse.matmul", "sparse.sparse_dense_matmul", "sparse_tensor_dense_matmul")
def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None) -> _ops.Tensor:
    sp_a = _as_sparse_input(sp_a)
    return apply_op("SparseTensorDenseMatMul", [sp_a.indices, sp_a.values, sp_a.dense_shape, b],
                    {"adjoint_a": bool(adjoint_a), "adjoint_b": bool(adjoint_b)}, name=name).outputs[0]


@tf_export("sparse.placeholder", "sparse_placeholder")
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



# ----------------------------------------------------------------------------------------------------------
# Shared helpers: row keys, lookups, shape functions
# ----------------------------------------------------------------------------------------------------------
def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _row_ranks(rows: np.ndarray) -> np.ndarray:
    """One int64 key per row of an [n, rank] index matrix, ordered as the rows are lexicographically (equal rows
    get equal keys), so index rows can be merged, matched and sorted as plain integers."""
    n = rows.shape[0]
    if n == 0 or rows.shape[1] == 0:
        return np.zeros(n, np.int64)
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    new = np.ones(n, bool)
    new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    ranks = np.empty(n, np.int64)
    ranks[order] = np.cumsum(new) - 1
    return ranks


def _as_rows(indices) -> np.ndarray:
    """Index rows as an [n, rank] matrix (a vector is n indices of rank 1; an empty one has no columns)."""
    indices = np.asarray(indices)
    if indices.ndim == 2:
        return indices
    return indices.reshape(len(indices), -1) if indices.size else indices.reshape(len(indices), 0)


def _split_keys(*index_arrays: np.ndarray, shape=None) -> list[np.ndarray]:
    """Order-preserving int64 keys of several index matrices on one scale (the same row gets the same key in
    each): row-major positions when every index lies inside the dense `shape` and its size fits in int64
    (a matrix product, far cheaper), else `_row_ranks` of all the rows."""
    rows = np.concatenate([_as_rows(a) for a in index_arrays], axis=0)
    keys = None
    if shape is not None and len(shape) == rows.shape[1] and len(shape):
        shape = np.asarray(shape, np.int64)
        fits = float(np.prod(np.maximum(shape, 1), dtype=np.float64)) < 2.0 ** 62
        if fits and (rows.size == 0 or (rows.min(axis=0) >= 0).all() and (rows.max(axis=0) < shape).all()):
            keys = rows @ _strides(shape)
    if keys is None:
        keys = _row_ranks(rows)
    return np.split(keys, np.cumsum([len(a) for a in index_arrays])[:-1])


def _positions(table: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each key of `query`, its position in `table` (keys unique), or -1 where it is absent."""
    if table.size == 0:
        return np.full(query.shape, -1, np.int64)
    order = np.argsort(table, kind="stable")
    at = np.minimum(np.searchsorted(table[order], query), table.size - 1)
    return np.where(table[order][at] == query, order[at], -1)


def sorted_runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stable order sorting `keys` and where each run of equal keys starts in that order."""
    if len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1])):  # already in order, as SparseTensors usually are
        order, ordered = np.arange(len(keys)), keys
    else:
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
    return order, np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(keys) else np.zeros(0, np.int64)


def _strides(shape: np.ndarray) -> np.ndarray:
    """Row-major strides of a dense shape, in elements."""
    out = np.ones(len(shape), np.int64)
    if len(shape) > 1:
        out[:-1] = np.cumprod(np.asarray(shape[:0:-1], np.int64))[::-1]
    return out


def _unravel(linear: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Row-major indices [n, rank] of flat positions `linear` in a dense tensor of `shape`."""
    out = np.zeros((linear.size, len(shape)), np.int64)
    rest = linear.astype(np.int64, copy=True)
    for dim in range(len(shape) - 1, -1, -1):
        size = max(int(shape[dim]), 1)
        out[:, dim] = rest % size
        rest //= size
    return out


def _check_components(op_msg: str, indices, values, shape, prefix: str = "") -> None:
    """TF's checks of a SparseTensor's three component arrays (a matrix, a vector and a vector that agree)."""
    if np.ndim(indices) != 2:
        raise _invalid(f"{op_msg}: {prefix}indices should be a matrix but received shape "
                       f"{_shape.dims_str(np.shape(indices))}")
    if np.ndim(values) != 1:
        raise _invalid(f"{op_msg}: {prefix}values should be a vector but received shape "
                       f"{_shape.dims_str(np.shape(values))}")
    if np.ndim(shape) != 1:
        raise _invalid(f"{op_msg}: {prefix}shape should be a vector but received shape "
                       f"{_shape.dims_str(np.shape(shape))}")
    if indices.shape[0] != values.shape[0]:
        raise _invalid(f"{op_msg}: {prefix}indices and {prefix}values have {indices.shape[0]} and "
                       f"{values.shape[0]} entries; they must agree")
    if indices.shape[1] != shape.shape[0]:
        raise _invalid(f"{op_msg}: {prefix}indices has rank {indices.shape[1]} but {prefix}shape has "
                       f"{shape.shape[0]} dimensions; they must agree")


def _check_same_shape(op_msg: str, a_shape, b_shape) -> None:
    if len(a_shape) != len(b_shape):
        raise _invalid(f"{op_msg}: Operands do not have the same ranks; got shapes: {_index_str(a_shape)} and "
                       f"{_index_str(b_shape)}")
    differ = np.flatnonzero(np.asarray(a_shape) != np.asarray(b_shape))
    if differ.size:
        d = int(differ[0])
        raise _invalid(f"{op_msg}: Operands' shapes do not match: got {int(a_shape[d])} and {int(b_shape[d])} for "
                       f"dimension {d}")


def _rank_dim(indices_t: _ops.Tensor, shape_t: _ops.Tensor):
    """The static rank of a SparseTensor from its indices' columns or its dense_shape's length (or None)."""
    rank = indices_t.shape[1].value if indices_t.shape.ndims == 2 else None
    if rank is None and shape_t.shape.ndims == 1:
        rank = shape_t.shape[0].value
    return rank


def _sparse_output_shapes(indices_t: _ops.Tensor, shape_t: _ops.Tensor) -> list[_shape.TensorShape]:
    """Shapes of an op's (indices, values, shape) outputs: [?, rank], [?] and [rank]."""
    rank = _rank_dim(indices_t, shape_t)
    return [_shape.TensorShape([None, rank]), _shape.TensorShape([None]), _shape.TensorShape([rank])]


def _as_sparse_or_tensor(x):
    """A SparseTensor (from a SparseTensor or SparseTensorValue) or a dense Tensor."""
    if isinstance(x, SparseTensorValue):
        return SparseTensor.from_value(x)
    if isinstance(x, SparseTensor):
        return x
    return _ops.convert_to_tensor(x)


# ----------------------------------------------------------------------------------------------------------
# SparseAdd (two SparseTensors) and SparseTensorDenseAdd (a SparseTensor into a dense tensor)
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "SparseAdd",
    inputs=["a_indices: int64", "a_values: T", "a_shape: int64", "b_indices: int64", "b_values: T",
            "b_shape: int64", "thresh: Treal"],
    outputs=["sum_indices: int64", "sum_values: T", "sum_shape: int64"],
    allowed={"T": _dt.NUMBER, "Treal": _dt.REAL},
    shape=lambda op: _sparse_output_shapes(op.inputs[0], op.inputs[2]),
)
def _sparse_add(a_indices, a_values, a_shape, b_indices, b_values, b_shape, thresh):
    _check_components("SparseAdd", a_indices, a_values, a_shape, "a_")
    _check_components("SparseAdd", b_indices, b_values, b_shape, "b_")
    if np.ndim(thresh) != 0:
        raise _invalid(f"SparseAdd: The magnitude threshold must be a scalar: got shape "
                       f"{_shape.dims_str(np.shape(thresh))}")
    _check_same_shape("SparseAdd", a_shape, b_shape)
    rows = np.concatenate([a_indices, b_indices], axis=0)
    values = np.concatenate([a_values, b_values])
    order, starts = sorted_runs(np.concatenate(_split_keys(a_indices, b_indices, shape=a_shape)))
    first = order[starts]
    counts = np.diff(np.r_[starts, len(order)])
    sums = np.add.reduceat(values[order], starts) if len(order) else values[:0]
    # Only the entries both operands have are summed and compared with the threshold, as in TF's kernel.
    keep = (counts == 1) | (np.abs(sums) >= thresh)
    return rows[first[keep]], sums[keep], np.array(a_shape, np.int64)


@RegisterGradient("SparseAdd")
def _sparse_add_grad(op, _indices_grad, values_grad, _shape_grad):
    a_grad, b_grad = apply_op("SparseAddGrad", [values_grad, op.inputs[0], op.inputs[3], op.outputs[0]]).outputs
    return None, a_grad, None, None, b_grad, None, None


@register_op(
    "SparseAddGrad",
    inputs=["backprop_val_grad: T", "a_indices: int64", "b_indices: int64", "sum_indices: int64"],
    outputs=["a_val_grad: T", "b_val_grad: T"],
    allowed={"T": _dt.NUMBER},
    shape=lambda op: [_shape.TensorShape([op.inputs[1].shape[0] if op.inputs[1].shape.ndims else None]),
                      _shape.TensorShape([op.inputs[2].shape[0] if op.inputs[2].shape.ndims else None])],
)
def _sparse_add_grad_kernel(grad, a_indices, b_indices, sum_indices):
    """Each operand's value gets the gradient of the sum entry at its index (zero where the threshold dropped
    that entry)."""
    if len(grad) != len(sum_indices):
        raise _invalid(f"SparseAddGrad: backprop_val_grad has {len(grad)} entries but sum_indices has "
                       f"{len(sum_indices)}")
    a_keys, b_keys, sum_keys = _split_keys(a_indices, b_indices, sum_indices)
    out = []
    for keys in (a_keys, b_keys):
        at = _positions(sum_keys, keys)
        out.append(np.where(at >= 0, grad[np.maximum(at, 0)] if grad.size else np.zeros(at.shape, grad.dtype),
                            np.zeros((), grad.dtype)).astype(grad.dtype))
    return tuple(out)


NotDifferentiable("SparseAddGrad")


def _sparse_dense_add_shape(op):
    return op.inputs[3].shape


@register_op(
    "SparseTensorDenseAdd",
    inputs=["a_indices: Tindices", "a_values: T", "a_shape: Tindices", "b: T"],
    outputs=["output: T"],
    allowed={"T": _dt.NUMBER, "Tindices": _INDEX},
    shape=_sparse_dense_add_shape,
)
def _sparse_tensor_dense_add(a_indices, a_values, a_shape, b):
    if len(a_shape) != b.ndim:
        raise _invalid(f"SparseTensorDenseAdd: Dimensions of the sparse and dense operands differ: sparse shape "
                       f"{_index_str(a_shape)} vs. dense shape {_index_str(b.shape)} (no broadcasting is supported)")
    differ = np.flatnonzero(np.asarray(a_shape) != np.asarray(b.shape))
    if differ.size:
        d = int(differ[0])
        raise _invalid(f"SparseTensorDenseAdd: Dimension {d} does not equal (no broadcasting is supported): sparse "
                       f"side {int(a_shape[d])} vs dense side {b.shape[d]}")
    indices = _as_rows(a_indices)
    _check_indices(indices, a_shape, "SparseTensorDenseAdd")
    out = np.array(b, copy=True)
    if b.ndim == 0:
        out += np.sum(a_values, dtype=b.dtype)
    elif len(a_values):
        np.add.at(out, tuple(indices.T), a_values)
    return out


@RegisterGradient("SparseTensorDenseAdd")
def _sparse_tensor_dense_add_grad(op, grad):
    return None, array_ops.gather_nd(grad, op.inputs[0]), None, grad


@tf_export("sparse.add", "sparse_add")
def sparse_add(a, b, threshold=None, thresh=None):
    """`a + b` where at least one operand is a SparseTensor: a SparseTensor when both are (sums whose magnitude
    is below `threshold` are dropped), else a dense Tensor."""
    if threshold is not None and thresh is not None:
        raise ValueError("Cannot specify both 'threshold' and 'thresh'; 'thresh' is the deprecated name.")
    threshold = 0 if threshold is None and thresh is None else (thresh if threshold is None else threshold)
    a, b = _as_sparse_or_tensor(a), _as_sparse_or_tensor(b)
    if not isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        raise TypeError("At least one input should be SparseTensor; do you mean to use tf.add()?")
    if isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        a.shape.assert_is_compatible_with(b.shape)
        with _ops.name_scope(None, "SparseAdd", [a, b, threshold]):
            thresh_t = _ops.convert_to_tensor(threshold, dtype=a.values.dtype.real_dtype, name="threshold")
            out = apply_op("SparseAdd", [a.indices, a.values, a.dense_shape, b.indices, b.values, b.dense_shape,
                                         thresh_t]).outputs
        return SparseTensor(*out)
    if isinstance(b, SparseTensor):
        a, b = b, a
    return apply_op("SparseTensorDenseAdd", [a.indices, a.values, a.dense_shape, b]).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Reorder, reshape, slice, split, concat: index bookkeeping (values move, they do not change)
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "SparseReorder",
    inputs=["input_indices: int64", "input_values: T", "input_shape: int64"],
    outputs=["output_indices: int64", "output_values: T"],
    shape=lambda op: [op.inputs[0].shape, op.inputs[1].shape],
)
def _sparse_reorder(indices, values, shape):
    _check_components("SparseReorder", indices, values, shape, "input_")
    order = np.argsort(_split_keys(indices, shape=shape)[0], kind="stable")
    return indices[order], values[order]


@RegisterGradient("SparseReorder")
def _sparse_reorder_grad(op, _indices_grad, values_grad):
    """The gradient goes back through the inverse of the permutation the reorder applied (found by reordering
    the positions 0..n-1 the same way)."""
    indices, values, shape = op.inputs
    positions = array_ops.range(array_ops.shape(values, out_type=_dt.int64)[0], dtype=_dt.int64)
    permutation = apply_op("SparseReorder", [indices, positions, shape]).outputs[1]
    return None, array_ops.gather(values_grad, array_ops.invert_permutation(permutation)), None


@tf_export("sparse.reorder", "sparse_reorder")
def sparse_reorder(sp_input, name=None) -> SparseTensor:
    """The same SparseTensor with its entries in row-major (lexicographic) index order."""
    sp_input = _as_sparse_input(sp_input)
    indices, values = apply_op("SparseReorder", [sp_input.indices, sp_input.values, sp_input.dense_shape],
                               name=name).outputs
    return SparseTensor(indices, values, sp_input.dense_shape)


def _reshape_target(shape: np.ndarray, new_shape: np.ndarray, op_msg: str) -> np.ndarray:
    """`new_shape` with its -1 resolved against the dense size of `shape` (TF's rules and errors)."""
    dense_size = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    unknown = np.flatnonzero(new_shape == -1)
    if unknown.size > 1:
        raise _invalid(f"{op_msg}: only one output dimension may be -1, not both {int(unknown[0])} and "
                       f"{int(unknown[1])}")
    negative = np.flatnonzero(new_shape < -1)
    if negative.size:
        d = int(negative[0])
        raise _invalid(f"{op_msg}: size {d} must be non-negative, not {int(new_shape[d])}")
    known = int(np.prod(np.where(new_shape == -1, 1, new_shape), dtype=np.int64))
    out = np.array(new_shape, np.int64)
    if unknown.size:
        if known == 0 or dense_size % known:
            raise _invalid(f"{op_msg}: Input to reshape is a SparseTensor with {dense_size} dense values, but "
                           f"the requested shape requires a multiple of {known}")
        out[unknown[0]] = dense_size // known
    elif known != dense_size:
        raise _invalid(f"{op_msg}: Input to reshape is a tensor with {dense_size} dense values, but the "
                       f"requested shape has {known}")
    return out


def _sparse_reshape_shape(op):
    rank = op.inputs[2].shape[0].value if op.inputs[2].shape.ndims == 1 else None
    return [_shape.TensorShape([op.inputs[0].shape[0] if op.inputs[0].shape.ndims else None, rank]),
            _shape.TensorShape([rank])]


@register_op(
    "SparseReshape",
    inputs=["input_indices: int64", "input_shape: int64", "new_shape: int64"],
    outputs=["output_indices: int64", "output_shape: int64"],
    shape=_sparse_reshape_shape,
)
def _sparse_reshape(indices, shape, new_shape):
    if np.ndim(indices) != 2 or np.ndim(shape) != 1 or np.ndim(new_shape) != 1:
        raise _invalid("SparseReshape: input_indices must be a matrix, input_shape and new_shape vectors")
    if indices.shape[1] != len(shape):
        raise _invalid(f"SparseReshape: input_indices has rank {indices.shape[1]} but input_shape has "
                       f"{len(shape)} dimensions")
    target = _reshape_target(np.asarray(shape, np.int64), np.asarray(new_shape, np.int64), "SparseReshape")
    if len(indices) == 0:
        return np.zeros((0, len(target)), np.int64), target
    linear = indices @ _strides(np.asarray(shape, np.int64)) if indices.shape[1] else np.zeros(len(indices),
                                                                                              np.int64)
    return _unravel(linear, target), target


@tf_export("sparse.reshape", "sparse_reshape")
def sparse_reshape(sp_input, shape, name=None) -> SparseTensor:
    """The SparseTensor holding the same values in a dense shape `shape` (one dimension may be -1), row-major
    as tf.reshape. A shape known when the graph is built is checked then (ValueError)."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseReshape", [sp_input]) as scope:
        shape_t = _ops.convert_to_tensor(shape, dtype=_dt.int64, name="shape")
        in_shape, new_shape = sp_input.shape, _reg.constant_value(shape_t)
        resolved = None
        if in_shape.is_fully_defined() and new_shape is not None:
            try:
                resolved = _reshape_target(np.asarray(in_shape.as_list(), np.int64),
                                           np.asarray(new_shape, np.int64), "SparseReshape")
            except _errors.InvalidArgumentError as e:
                raise ValueError(e.message) from None
        indices, dense_shape = apply_op("SparseReshape", [sp_input.indices, sp_input.dense_shape, shape_t],
                                        name=scope).outputs
        if resolved is not None:
            # Known when the graph is built (the -1 resolved), so the result's static shape is known, as in TF.
            dense_shape = _ops.convert_to_tensor(resolved, dtype=_dt.int64)
    return SparseTensor(indices, sp_input.values, dense_shape)


def _slice_bounds(shape, start, size, op_msg: str):
    rank = len(shape)
    for what, vec in (("start", start), ("size", size)):
        if np.ndim(vec) != 1 or len(vec) != rank:
            raise _invalid(f"{op_msg}: Expected {what} to be a vector of length {rank} but got length "
                           f"{np.size(vec)}")
    if np.any(start < 0) or np.any(size < 0):
        raise _invalid(f"{op_msg}: start and size must be non-negative, got start {_index_str(start)} and size "
                       f"{_index_str(size)}")


@register_op(
    "SparseSlice",
    inputs=["indices: int64", "values: T", "shape: int64", "start: int64", "size: int64"],
    outputs=["output_indices: int64", "output_values: T", "output_shape: int64"],
    shape=lambda op: _sparse_output_shapes(op.inputs[0], op.inputs[2]),
)
def _sparse_slice(indices, values, shape, start, size):
    _check_components("SparseSlice", indices, values, shape)
    _slice_bounds(shape, start, size, "SparseSlice")
    inside = np.all((indices >= start) & (indices < start + size), axis=1)
    out_shape = np.maximum(np.minimum(start + size, shape) - start, 0).astype(np.int64)
    return indices[inside] - start, values[inside], out_shape


@register_op(
    "SparseSliceGrad",
    inputs=["backprop_val_grad: T", "input_indices: int64", "input_start: int64", "output_indices: int64"],
    outputs=["val_grad: T"],
    allowed={"T": _dt.NUMBER},
    shape=lambda op: _shape.TensorShape([op.inputs[1].shape[0] if op.inputs[1].shape.ndims else None]),
)
def _sparse_slice_grad_kernel(grad, input_indices, input_start, output_indices):
    """The slice's value gradients at the input entries they came from; zero for entries outside the slice."""
    in_keys, out_keys = _split_keys(input_indices, output_indices + input_start)
    out = np.zeros(len(input_indices), grad.dtype)
    at = _positions(in_keys, out_keys)
    if np.any(at < 0):
        raise _invalid("SparseSliceGrad: an output index (shifted by input_start) is not among the input indices")
    out[at] = grad
    return out


@RegisterGradient("SparseSlice")
def _sparse_slice_grad(op, _indices_grad, values_grad, _shape_grad):
    val_grad = apply_op("SparseSliceGrad", [values_grad, op.inputs[0], op.inputs[3], op.outputs[0]]).outputs[0]
    return None, val_grad, None, None, None


@tf_export("sparse.slice", "sparse_slice")
def sparse_slice(sp_input, start, size, name=None) -> SparseTensor:
    """The entries of `sp_input` inside the box [start, start + size), shifted to start at 0; the box is clipped
    to the dense shape."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseSlice", [sp_input]) as scope:
        start = _ops.convert_to_tensor(start, dtype=_dt.int64, name="start")
        size = _ops.convert_to_tensor(size, dtype=_dt.int64, name="size")
        out = apply_op("SparseSlice", [sp_input.indices, sp_input.values, sp_input.dense_shape, start, size],
                       name=scope).outputs
    return SparseTensor(*out)


def _sparse_split_shape(op):
    n = op.get_attr("num_split")
    shapes = _sparse_output_shapes(op.inputs[1], op.inputs[3])
    return [shapes[0]] * n + [shapes[1]] * n + [shapes[2]] * n


@register_op(
    "SparseSplit",
    inputs=["split_dim: int64", "indices: int64", "values: T", "shape: int64"],
    outputs=["output_indices: num_split * int64", "output_values: num_split * T",
             "output_shape: num_split * int64"],
    attrs={"num_split": ("int", _reg.REQUIRED)},
    shape=_sparse_split_shape,
)
def _sparse_split(split_dim, indices, values, shape, *, num_split):
    _check_components("SparseSplit", indices, values, shape)
    rank = len(shape)
    dim = int(split_dim)
    if not -rank <= dim < rank:
        raise _invalid(f"SparseSplit: Input axis should be in range [{-rank}, {rank}), got {dim}")
    dim %= rank
    if not 1 <= num_split <= shape[dim]:
        raise _invalid(f"SparseSplit: Input num_split should be between 1 and the splitting dimension size "
                       f"({int(shape[dim])}), got {num_split}")
    # The first (size % num_split) pieces are one longer, as tf.sparse.split documents.
    base, longer = divmod(int(shape[dim]), num_split)
    sizes = np.array([base + 1] * longer + [base] * (num_split - longer), np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    piece = np.searchsorted(starts, indices[:, dim], side="right") - 1
    out_indices, out_values, out_shapes = [], [], []
    for i in range(num_split):
        mine = piece == i
        part = indices[mine].copy()
        part[:, dim] -= starts[i]
        out_indices.append(part)
        out_values.append(values[mine])
        piece_shape = np.array(shape, np.int64)
        piece_shape[dim] = sizes[i]
        out_shapes.append(piece_shape)
    return out_indices + out_values + out_shapes


_reg.attr_minimum("SparseSplit", "num_split", 1)


@tf_export("sparse.split", "sparse_split")
def sparse_split(keyword_required=None, sp_input=None, num_split=None, axis=None, name=None,
                 split_dim=None) -> list[SparseTensor]:
    """Splits `sp_input` along `axis` into `num_split` SparseTensors (the first size % num_split pieces one
    longer). Every argument must be given by keyword."""
    if keyword_required is not None:
        raise ValueError("Keyword arguments are required for this function.")
    if sp_input is None:
        raise ValueError("sp_input is required")
    if num_split is None:
        raise ValueError("num_split is required")
    if axis is not None and split_dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'split_dim'; 'split_dim' is the deprecated name.")
    axis = split_dim if axis is None else axis
    if axis is None:
        raise ValueError("axis is required")
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseSplit", [sp_input]) as scope:
        axis_t = _ops.convert_to_tensor(axis, dtype=_dt.int64, name="split_dim")
        out = apply_op("SparseSplit", [axis_t, sp_input.indices, sp_input.values, sp_input.dense_shape],
                       {"num_split": int(num_split)}, name=scope).outputs
    n = int(num_split)
    return [SparseTensor(out[i], out[n + i], out[2 * n + i]) for i in range(n)]


def _sparse_concat_shape(op):
    n = op.get_attr("N")
    return _sparse_output_shapes(op.inputs[0], op.inputs[2 * n])


@register_op(
    "SparseConcat",
    inputs=["indices: N * int64", "values: N * T", "shapes: N * int64"],
    outputs=["output_indices: int64", "output_values: T", "output_shape: int64"],
    attrs={"concat_dim": ("int", _reg.REQUIRED)},
    shape=_sparse_concat_shape,
)
def _sparse_concat(*components, concat_dim):
    n = len(components) // 3
    indices, values, shapes = components[:n], components[n:2 * n], components[2 * n:]
    for i in range(n):
        _check_components("SparseConcat", indices[i], values[i], shapes[i])
    rank = len(shapes[0])
    if not -rank <= concat_dim < rank:
        raise _invalid(f"SparseConcat: Concat dimension is out of range: concat_dim {concat_dim}, rank {rank}")
    dim = concat_dim % rank
    for i, s in enumerate(shapes[1:], 1):
        if len(s) != rank:
            raise _invalid(f"SparseConcat: Ranks of all input tensors must match: expected {rank} but got "
                           f"{len(s)} at position {i}")
        for d in range(rank):
            if d != dim and s[d] != shapes[0][d]:
                raise _invalid(f"SparseConcat: Input shapes must match: expected {int(shapes[0][d])} for "
                               f"dimension {d} but got {int(s[d])} at position {i}")
    offsets = np.concatenate([[0], np.cumsum([int(s[dim]) for s in shapes])])
    shifted = []
    for i in range(n):
        part = indices[i].copy()
        part[:, dim] += offsets[i]
        shifted.append(part)
    all_indices = np.concatenate(shifted, axis=0)
    all_values = np.concatenate(values)
    order = np.lexsort(all_indices.T[::-1]) if rank else np.arange(len(all_values))
    out_shape = np.array(shapes[0], np.int64)
    out_shape[dim] = offsets[-1]
    return all_indices[order], all_values[order], out_shape


_reg.attr_minimum("SparseConcat", "N", 2)
NotDifferentiable("SparseConcat")


@tf_export("sparse.concat", "sparse_concat")
def sparse_concat(axis, sp_inputs, name=None, expand_nonconcat_dim=False, concat_dim=None,
                  expand_nonconcat_dims=None) -> SparseTensor:
    """Concatenates SparseTensors along `axis`; with `expand_nonconcat_dim` the other dimensions grow to the
    largest input's instead of having to match."""
    if concat_dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'concat_dim'; 'concat_dim' is the deprecated name.")
        axis = concat_dim
    if expand_nonconcat_dims is not None:
        expand_nonconcat_dim = expand_nonconcat_dims
    sp_inputs = [_as_sparse_input(sp) for sp in sp_inputs]
    if len(sp_inputs) == 1:
        return sp_inputs[0]
    axis = int(axis)
    with _ops.name_scope(name, "SparseConcat", sp_inputs) as scope:
        shapes = [sp.dense_shape for sp in sp_inputs]
        if expand_nonconcat_dim:
            largest = math_ops.reduce_max(array_ops.stack(shapes), axis=0)
            rank = array_ops.shape(largest, out_type=_dt.int64)[0]
            at = math_ops.floormod(_ops.convert_to_tensor(axis, dtype=_dt.int64), rank)
            is_axis = math_ops.equal(array_ops.range(rank, dtype=_dt.int64), at)
            shapes = [array_ops.where(is_axis, s, largest) for s in shapes]
        out = apply_op("SparseConcat", [[sp.indices for sp in sp_inputs], [sp.values for sp in sp_inputs], shapes],
                       {"concat_dim": axis}, name=scope).outputs
    return SparseTensor(*out)


# ----------------------------------------------------------------------------------------------------------
# SparseSoftmax, SparseSparseMaximum/Minimum, SparseFillEmptyRows
# ----------------------------------------------------------------------------------------------------------
def _group_ids(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense group numbers 0..k-1 of index rows (equal rows, one group) and the number of groups k."""
    keys = _row_ranks(rows)
    return keys, (int(keys.max()) + 1 if keys.size else 0)


@register_op(
    "SparseSoftmax",
    inputs=["sp_indices: int64", "sp_values: T", "sp_shape: int64"],
    outputs=["output: T"],
    allowed={"T": _dt.FLOATING},
    shape=lambda op: op.inputs[1].shape,
)
def _sparse_softmax(indices, values, shape):
    _check_components("SparseSoftmax", indices, values, shape, "sp_")
    if len(shape) < 2:
        raise _invalid(f"SparseSoftmax: Input should have rank >= 2, but received shape: {_index_str(shape)}")
    groups, n = _group_ids(indices[:, :-1])
    peak = np.full(n, -np.inf, values.dtype)
    np.maximum.at(peak, groups, values)
    e = np.exp(values - peak[groups])
    total = np.zeros(n, values.dtype)
    np.add.at(total, groups, e)
    return (e / total[groups]).astype(values.dtype)


@RegisterGradient("SparseSoftmax")
def _sparse_softmax_grad(op, grad):
    """As for a dense softmax: (grad - sum over the row of grad * y) * y, the sum taken over each row's
    present entries (a dense [..., 1] reduction read back at every entry)."""
    indices, _, shape = op.inputs
    y = op.outputs[0]
    row_sums = sparse_reduce_sum(SparseTensor(indices, grad * y, shape), axis=[-1], keepdims=True)
    rank = array_ops.shape(indices, out_type=_dt.int64)[1]
    row_of = indices * array_ops.concat([array_ops.ones(array_ops.reshape(rank - 1, [1]), _dt.int64),
                                         array_ops.zeros([1], _dt.int64)], 0)
    return None, (grad - array_ops.gather_nd(row_sums, row_of)) * y, None


@tf_export("sparse.softmax", "sparse_softmax")
def sparse_softmax(sp_input, name=None) -> SparseTensor:
    """Softmax over the last dimension of a SparseTensor of rank >= 2, taken over the present entries only
    (missing entries are not treated as zeros); the result has the same indices."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseSoftmax", [sp_input]) as scope:
        values = apply_op("SparseSoftmax", [sp_input.indices, sp_input.values, sp_input.dense_shape],
                          name=scope).outputs[0]
    return SparseTensor(sp_input.indices, values, sp_input.dense_shape)


def _sparse_min_or_max(name: str, pick):
    def kernel(a_indices, a_values, a_shape, b_indices, b_values, b_shape):
        _check_components(name, a_indices, a_values, a_shape, "a_")
        _check_components(name, b_indices, b_values, b_shape, "b_")
        _check_same_shape(name, a_shape, b_shape)
        a_keys, b_keys = _split_keys(a_indices, b_indices, shape=a_shape)
        union, first = np.unique(np.concatenate([a_keys, b_keys]), return_index=True)
        rows = np.concatenate([a_indices, b_indices], axis=0)[first]
        zero = np.zeros(len(union), a_values.dtype)
        a_full, b_full = zero.copy(), zero.copy()  # a missing entry is an implicit zero
        a_full[np.searchsorted(union, a_keys)] = a_values
        b_full[np.searchsorted(union, b_keys)] = b_values
        return rows, pick(a_full, b_full)

    return kernel


for _name, _pick, _allowed in (("SparseSparseMaximum", np.maximum, _dt.REAL),
                               ("SparseSparseMinimum", np.minimum, _dt.NUMBER)):
    register_op(_name,
                inputs=["a_indices: int64", "a_values: T", "a_shape: int64", "b_indices: int64", "b_values: T",
                        "b_shape: int64"],
                outputs=["output_indices: int64", "output_values: T"],
                allowed={"T": _allowed},
                shape=lambda op: _sparse_output_shapes(op.inputs[0], op.inputs[2])[:2])(
        _sparse_min_or_max(_name, _pick))


def _no_min_max_gradient(op, *grads):
    raise NotImplementedError(f"Gradient for {op.type} is not implemented.")


RegisterGradient("SparseSparseMaximum")(_no_min_max_gradient)
RegisterGradient("SparseSparseMinimum")(_no_min_max_gradient)


def _min_max_api(op_type: str, what: str):
    def fn(sp_a, sp_b, name=None) -> SparseTensor:
        sp_a, sp_b = _as_sparse_input(sp_a), _as_sparse_input(sp_b)
        with _ops.name_scope(name, op_type, [sp_a, sp_b]) as scope:
            indices, values = apply_op(op_type, [sp_a.indices, sp_a.values, sp_a.dense_shape, sp_b.indices,
                                                 sp_b.values, sp_b.dense_shape], name=scope).outputs
        return SparseTensor(indices, values, sp_a.dense_shape)

    fn.__name__ = fn.__qualname__ = "sparse_" + what
    fn.__doc__ = (f"The element-wise {what} of two SparseTensors of one shape, over the union of their indices "
                  "(a missing entry counts as zero); both must be in row-major order.")
    return fn


sparse_maximum = tf_export("sparse.maximum", "sparse_maximum")(_min_max_api("SparseSparseMaximum", "maximum"))
sparse_minimum = tf_export("sparse.minimum", "sparse_minimum")(_min_max_api("SparseSparseMinimum", "minimum"))


def _fill_empty_rows_shape(op):
    indices, values, shape = op.inputs[:3]
    rank = _rank_dim(indices, shape)
    rows = _reg.constant_value_as_shape(shape)
    n_rows = rows[0].value if rows.ndims else None
    return [_shape.TensorShape([None, rank]), _shape.TensorShape([None]), _shape.TensorShape([n_rows]),
            _shape.TensorShape([indices.shape[0] if indices.shape.ndims else None])]


@register_op(
    "SparseFillEmptyRows",
    inputs=["indices: int64", "values: T", "dense_shape: int64", "default_value: T"],
    outputs=["output_indices: int64", "output_values: T", "empty_row_indicator: bool",
             "reverse_index_map: int64"],
    shape=_fill_empty_rows_shape,
)
def _sparse_fill_empty_rows(indices, values, dense_shape, default_value):
    _check_components("SparseFillEmptyRows", indices, values, dense_shape)
    if np.ndim(default_value) != 0:
        raise _invalid(f"SparseFillEmptyRows: default_value must be a scalar, got shape "
                       f"{_shape.dims_str(np.shape(default_value))}")
    if len(dense_shape) == 0:
        raise _invalid("SparseFillEmptyRows: dense_shape must have at least one dimension")
    n_rows = int(dense_shape[0])
    rows = indices[:, 0]
    bad = np.flatnonzero((rows < 0) | (rows >= n_rows))
    if bad.size:
        row = int(rows[bad[0]])
        raise _invalid(f"SparseFillEmptyRows: indices({int(bad[0])}, 0) is invalid: {row} "
                       f"{'< 0' if row < 0 else f'>= {n_rows}'}")
    counts = np.bincount(rows, minlength=n_rows)
    empty = counts == 0
    slots = np.maximum(counts, 1)
    row_start = np.cumsum(slots) - slots
    # Entries keep their order within a row; rows come out in order, an empty row as [row, 0, ..., 0].
    order = np.argsort(rows, kind="stable")
    within = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows[order]]
    reverse = np.empty(len(rows), np.int64)
    reverse[order] = row_start[rows[order]] + within
    total = int(slots.sum())
    out_indices = np.zeros((total, len(dense_shape)), np.int64)
    out_values = np.empty(total, values.dtype)
    out_indices[reverse] = indices
    out_values[reverse] = values
    empty_rows = np.flatnonzero(empty)
    out_indices[row_start[empty_rows], 0] = empty_rows
    out_values[row_start[empty_rows]] = default_value
    return out_indices, out_values, empty, reverse


@register_op(
    "SparseFillEmptyRowsGrad",
    inputs=["reverse_index_map: int64", "grad_values: T"],
    outputs=["d_values: T", "d_default_value: T"],
    shape=lambda op: [op.inputs[0].shape, _shape.scalar()],
)
def _sparse_fill_empty_rows_grad_kernel(reverse_index_map, grad_values):
    """The input values get the gradients at the places they went to; the default value those of the rest."""
    bad = np.flatnonzero((reverse_index_map < 0) | (reverse_index_map >= len(grad_values)))
    if bad.size:
        raise _invalid(f"SparseFillEmptyRowsGrad: Elements in reverse index must be in [0, {len(grad_values)}) "
                       f"but got {int(reverse_index_map[bad[0]])}")
    d_values = grad_values[reverse_index_map]
    unused = np.ones(len(grad_values), bool)
    unused[reverse_index_map] = False
    return d_values, np.asarray(np.sum(grad_values[unused], dtype=grad_values.dtype))


@RegisterGradient("SparseFillEmptyRows")
def _sparse_fill_empty_rows_grad(op, _indices_grad, values_grad, _indicator_grad, _map_grad):
    d_values, d_default = apply_op("SparseFillEmptyRowsGrad", [op.outputs[3], values_grad]).outputs
    return None, d_values, None, d_default


@tf_export("sparse.fill_empty_rows", "sparse_fill_empty_rows")
def sparse_fill_empty_rows(sp_input, default_value, name=None) -> tuple[SparseTensor, _ops.Tensor]:
    """`sp_input` with an entry [row, 0, ..., 0] = `default_value` added to every row that has none, and the
    boolean vector of which rows were empty."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseFillEmptyRows", [sp_input]) as scope:
        default = _ops.convert_to_tensor(default_value, dtype=sp_input.dtype, name="default_value")
        indices, values, empty, _ = apply_op(
            "SparseFillEmptyRows", [sp_input.indices, sp_input.values, sp_input.dense_shape, default],
            name=scope).outputs
    return SparseTensor(indices, values, sp_input.dense_shape), empty


# ----------------------------------------------------------------------------------------------------------
# SparseReduceMax (dense result), SparseReduceMaxSparse and SparseReduceSumSparse (sparse results)
# ----------------------------------------------------------------------------------------------------------
def _reduction_groups(indices, shape, axes, keep_dims: bool, op_msg: str):
    """How values reduce into output entries: (a stable order of the values by output entry, where each
    entry's run starts in it, the entries' output index rows in row-major order, the output dense shape).
    Only entries that receive at least one value exist."""
    rank = len(shape)
    axes = np.reshape(axes, [-1]).astype(np.int64)
    bad = np.flatnonzero((axes < -rank) | (axes >= rank))
    if bad.size:
        raise _invalid(f"{op_msg}: Invalid reduction dimension {int(axes[bad[0]])}, for input with {rank} "
                       "dimensions.")
    reduced = np.zeros(rank, bool)
    reduced[axes % rank if rank else axes] = True
    if not axes.size:
        reduced[:] = True
    kept = indices.copy()
    kept[:, reduced] = 0
    out_shape = np.where(reduced, 1, shape).astype(np.int64)
    order, starts = sorted_runs(_split_keys(kept, shape=out_shape)[0])
    rows = kept[order[starts]]
    if not keep_dims:
        rows, out_shape = rows[:, ~reduced], out_shape[~reduced]
    return order, starts, rows, out_shape


def _sparse_reduce_kernel(op_name: str, ufunc, sparse_output: bool):
    def kernel(indices, values, shape, axes, *, keep_dims):
        _check_components(op_name, indices, values, shape, "input_")
        order, starts, rows, out_shape = _reduction_groups(indices, shape, axes, keep_dims, op_name)
        n = len(starts)
        reduced = ufunc.reduceat(values[order], starts) if n else np.zeros(0, values.dtype)
        if sparse_output:
            return rows, reduced, out_shape
        # Outputs that no value reduces into are 0: the reduction runs over the present values only.
        dense = np.zeros(out_shape.tolist(), values.dtype)
        if n:
            dense[tuple(rows.T) if rows.shape[1] else ()] = reduced if rows.shape[1] else reduced[0]
        return dense

    return kernel


def _sparse_reduce_sparse_shape(op):
    out = _sparse_reduce_shape(op)
    rank = out.ndims
    return [_shape.TensorShape([None, rank]), _shape.TensorShape([None]), _shape.TensorShape([rank])]


_REDUCE_INPUTS = ["input_indices: int64", "input_values: T", "input_shape: int64", "reduction_axes: int32"]
register_op("SparseReduceMax", inputs=_REDUCE_INPUTS, outputs=["output: T"], attrs={"keep_dims": ("bool", False)},
            allowed={"T": _dt.REAL}, shape=_sparse_reduce_shape)(
    _sparse_reduce_kernel("SparseReduceMax", np.maximum, False))
_SPARSE_OUTPUTS = ["output_indices: int64", "output_values: T", "output_shape: int64"]
register_op("SparseReduceMaxSparse", inputs=_REDUCE_INPUTS, outputs=_SPARSE_OUTPUTS,
            attrs={"keep_dims": ("bool", False)}, allowed={"T": _dt.REAL}, shape=_sparse_reduce_sparse_shape)(
    _sparse_reduce_kernel("SparseReduceMaxSparse", np.maximum, True))
register_op("SparseReduceSumSparse", inputs=_REDUCE_INPUTS, outputs=_SPARSE_OUTPUTS,
            attrs={"keep_dims": ("bool", False)}, allowed={"T": _dt.NUMBER}, shape=_sparse_reduce_sparse_shape)(
    _sparse_reduce_kernel("SparseReduceSumSparse", np.add, True))
# As in TF, the three have no gradient: tf.gradients through them raises LookupError.


def _reduce_args(sp_input, axis, keepdims, reduction_axes, keep_dims):
    if axis is not None and reduction_axes is not None:
        raise ValueError("Cannot specify both 'axis' and 'reduction_axes'; 'reduction_axes' is the deprecated "
                         "name.")
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'; 'keep_dims' is the deprecated name.")
    axis = reduction_axes if axis is None else axis
    keep = bool(keepdims if keepdims is not None else keep_dims)
    axes = _ops.convert_to_tensor([] if axis is None else axis, dtype=_dt.int32, name="reduction_axes")
    sp_input = _as_sparse_input(sp_input)
    return [sp_input.indices, sp_input.values, sp_input.dense_shape, array_ops.reshape(axes, [-1])], keep


@tf_export("sparse.reduce_max", "sparse_reduce_max")
def sparse_reduce_max(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None) -> _ops.Tensor:
    """The largest value of a SparseTensor over `axis` (all axes when None), as a dense tensor: the maximum is
    taken over the present values only, and an output that no value reaches is 0."""
    inputs, keep = _reduce_args(sp_input, axis, keepdims, reduction_axes, keep_dims)
    return apply_op("SparseReduceMax", inputs, {"keep_dims": keep}).outputs[0]


@tf_export("sparse.reduce_max_sparse", "sparse_reduce_max_sparse")
def sparse_reduce_max_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
                             keep_dims=None) -> SparseTensor:
    """As `sparse.reduce_max`, as a SparseTensor holding only the outputs some value reaches."""
    inputs, keep = _reduce_args(sp_input, axis, keepdims, reduction_axes, keep_dims)
    return SparseTensor(*apply_op("SparseReduceMaxSparse", inputs, {"keep_dims": keep}).outputs)


@tf_export("sparse.reduce_sum_sparse", "sparse_reduce_sum_sparse")
def sparse_reduce_sum_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
                             keep_dims=None) -> SparseTensor:
    """As `sparse.reduce_sum`, as a SparseTensor holding only the outputs some value reaches."""
    inputs, keep = _reduce_args(sp_input, axis, keepdims, reduction_axes, keep_dims)
    return SparseTensor(*apply_op("SparseReduceSumSparse", inputs, {"keep_dims": keep}).outputs)


# ----------------------------------------------------------------------------------------------------------
# SparseDenseCwiseMul/Div/Add: a dense operand broadcast to the sparse one's shape, read at its entries
# ----------------------------------------------------------------------------------------------------------
def _dense_at_entries(op_name: str, indices, shape, dense):
    """The dense operand broadcast to `shape` (dense to sparse only), read at each sparse entry."""
    rank, d_rank = len(shape), dense.ndim
    fits = d_rank <= rank and all(d in (1, s) for d, s in zip(dense.shape, shape[rank - d_rank:]))
    if not fits:
        raise _invalid(f"{op_name}: SparseDenseBinaryOpShared broadcasts dense to sparse only; got incompatible "
                       f"shapes: [{','.join(str(int(d)) for d in shape)}] vs. "
                       f"[{','.join(str(d) for d in dense.shape)}]")
    cols = indices[:, rank - d_rank:] if d_rank else indices[:, :0]
    cols = np.where(np.asarray(dense.shape) == 1, 0, cols)
    return dense[tuple(cols.T)] if d_rank else np.broadcast_to(dense, (len(indices),))


def _sparse_dense_cwise(op_name: str, fn):
    def kernel(sp_indices, sp_values, sp_shape, dense):
        _check_components(op_name, sp_indices, sp_values, sp_shape, "sp_")
        other = _dense_at_entries(op_name, sp_indices, sp_shape, dense)
        return np.asarray(fn(sp_values, other)).astype(sp_values.dtype, copy=False)

    return kernel


def _divide(x, y):
    """TF's Div: integers divide rounding toward zero (as C++ does), refusing a zero divisor."""
    if x.dtype.kind not in "iu":
        return x / y
    if np.any(y == 0):
        raise _invalid("SparseDenseCwiseDiv: Integer division by zero")
    quotient = x // y
    return quotient + ((x % y != 0) & ((x < 0) != (y < 0)))


for _name, _fn in (("SparseDenseCwiseMul", np.multiply), ("SparseDenseCwiseDiv", _divide),
                   ("SparseDenseCwiseAdd", np.add)):
    register_op(_name, inputs=["sp_indices: int64", "sp_values: T", "sp_shape: int64", "dense: T"],
                outputs=["output: T"], allowed={"T": _dt.NUMBER},
                shape=lambda op: _shape.TensorShape([op.inputs[0].shape.with_rank(2)[0]]))(
                    _sparse_dense_cwise(_name, _fn))  # one output per sparse entry, as in TF


@RegisterGradient("SparseDenseCwiseAdd")
def _sparse_dense_cwise_add_grad(op, grad):
    raise NotImplementedError("Gradient for SparseDenseCwiseAdd is not implemented.")


def _sparse_dense_mul_or_div_grad(op, grad, is_mul: bool):
    """The sparse values' gradient is read at each entry; the dense operand's adds up every entry that read
    each of its elements (several may, through broadcasting), so it is scattered with a sum."""
    indices, values, sp_shape, dense = op.inputs
    dense_shape = math_ops.cast(array_ops.shape(dense), _dt.int64)
    added = array_ops.reshape(array_ops.size(sp_shape) - array_ops.size(dense_shape), [1])
    padded = array_ops.concat([array_ops.ones(added, _dt.int64), dense_shape], 0)
    at = array_ops.slice(indices // (sp_shape // padded), array_ops.concat([[0], added], 0), [-1, -1])
    read = array_ops.gather_nd(dense, at)
    if is_mul:
        d_values, d_read = grad * read, grad * values
    else:
        d_values, d_read = grad / read, grad * (-values / math_ops.square(read))
    d_dense = apply_op("SparseTensorDenseAdd", [at, d_read, dense_shape, array_ops.zeros_like(dense)]).outputs[0]
    return None, d_values, None, d_dense


RegisterGradient("SparseDenseCwiseMul")(lambda op, grad: _sparse_dense_mul_or_div_grad(op, grad, True))
RegisterGradient("SparseDenseCwiseDiv")(lambda op, grad: _sparse_dense_mul_or_div_grad(op, grad, False))


def _sparse_dense_cwise_api(op_type: str, sp_t: SparseTensor, dense, name=None) -> SparseTensor:
    """`sp_t <op> dense` at the sparse entries (the dense operand broadcast to the sparse shape): what
    SparseTensor's `*` and `/` with a dense tensor compute."""
    sp_t = _as_sparse_input(sp_t)
    with _ops.name_scope(name, op_type, [sp_t, dense]) as scope:
        dense = _ops.convert_to_tensor(dense, dtype=sp_t.dtype, name="dense")
        values = apply_op(op_type, [sp_t.indices, sp_t.values, sp_t.dense_shape, dense], name=scope).outputs[0]
    return SparseTensor(sp_t.indices, values, sp_t.dense_shape)


def sparse_dense_cwise_mul(sp_t, dense, name=None) -> SparseTensor:
    """The product of a SparseTensor's values with a dense tensor broadcast to its shape (a SparseTensor)."""
    return _sparse_dense_cwise_api("SparseDenseCwiseMul", sp_t, dense, name)


def sparse_dense_cwise_div(sp_t, dense, name=None) -> SparseTensor:
    """A SparseTensor's values divided by a dense tensor broadcast to its shape (a SparseTensor)."""
    return _sparse_dense_cwise_api("SparseDenseCwiseDiv", sp_t, dense, name)


def sparse_dense_cwise_add(sp_t, dense, name=None) -> SparseTensor:
    """A SparseTensor's values plus a dense tensor broadcast to its shape, at the sparse entries only."""
    return _sparse_dense_cwise_api("SparseDenseCwiseAdd", sp_t, dense, name)


def _sparse_times(sp_x: SparseTensor, y) -> SparseTensor:
    """`sp_x * y` for a dense `y` broadcast to sp_x's shape: a SparseTensor with sp_x's indices."""
    with _ops.name_scope(None, "mul", [sp_x, y]) as scope:
        y = _ops.convert_to_tensor(y, dtype=sp_x.dtype.base_dtype, name="y")
        return _sparse_dense_cwise_api("SparseDenseCwiseMul", sp_x, y, scope)


def _sparse_divided_by(sp_x: SparseTensor, y) -> SparseTensor:
    """`sp_x / y` for a dense `y`: true division, integers (and their divisor) cast to a float first, as for
    dense tensors."""
    with _ops.name_scope(None, "truediv", [sp_x, y]) as scope:
        y = _ops.convert_to_tensor(y, dtype=sp_x.dtype.base_dtype, name="y")
        dt = sp_x.dtype.base_dtype
        if dt.is_integer:
            target = _dt.float32 if dt.size <= 2 else _dt.float64
            sp_x = SparseTensor(sp_x.indices, math_ops.cast(sp_x.values, target), sp_x.dense_shape)
            y = math_ops.cast(y, target)
        return _sparse_dense_cwise_api("SparseDenseCwiseDiv", sp_x, y, scope)


# As math_ops gives Tensor its operators, this module gives SparseTensor TF1's: `*` and `/` with a dense
# tensor (only on the left: a dense tensor times a SparseTensor is not defined, as in TF).
SparseTensor.__mul__ = _sparse_times
SparseTensor.__truediv__ = _sparse_divided_by


# ----------------------------------------------------------------------------------------------------------
# SparseCross: per batch row, every combination of one feature from each input, joined or hashed
# ----------------------------------------------------------------------------------------------------------
_CROSS_TYPES = (_dt.int64, _dt.string)
_DEFAULT_HASH_KEY = 0xDECAFCAFFE
_FP_MUL = np.uint64(0xC6A4A7935BD1E995)


def _fingerprint_cat64(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """TF's FingerprintCat64: combines two 64-bit fingerprints (element-wise on uint64 arrays)."""
    def shift_mix(v):
        return v ^ (v >> np.uint64(47))

    with np.errstate(over="ignore"):
        out = first ^ _FP_MUL
        out ^= shift_mix(second * _FP_MUL) * _FP_MUL
        out *= _FP_MUL
        return shift_mix(shift_mix(out) * _FP_MUL)


def _cross_columns(op_name: str, n_sparse: int, args):
    """Each input as (features per batch row, first feature's position per row, flat features), and the batch
    size; sparse inputs first, then dense ones, as the op lists them."""
    indices, values, shapes = args[:n_sparse], args[n_sparse:2 * n_sparse], args[2 * n_sparse:3 * n_sparse]
    dense = args[3 * n_sparse:]
    batch_sizes = [int(s[0]) for s in shapes] + [d.shape[0] for d in dense]
    if not batch_sizes:
        raise _invalid(f"{op_name}: at least one input is needed")
    batch = batch_sizes[0]
    for size in batch_sizes[1:]:
        if size != batch:
            raise _invalid(f"{op_name}: Expected batch size {batch} got {size}")
    columns = []
    for i in range(n_sparse):
        _check_components(op_name, indices[i], values[i], shapes[i])
        if len(shapes[i]) != 2:
            raise _invalid(f"{op_name}: Expected a 2-D SparseTensor, got shape {_index_str(shapes[i])} for input {i}")
        rows = indices[i][:, 0]
        if np.any(rows[1:] < rows[:-1]) or (len(rows) and (rows[0] < 0 or rows[-1] >= batch)):
            raise _invalid(f"{op_name}: the indices of sparse input {i} must be in row order and within the batch")
        counts = np.bincount(rows, minlength=batch)[:batch].astype(np.int64)
        columns.append((counts, np.cumsum(counts) - counts, values[i]))
    for j, d in enumerate(dense):
        if d.ndim != 2:
            raise _invalid(f"{op_name}: Dense inputs should be a matrix but received shape "
                           f"{_shape.dims_str(d.shape)} for input {j}")
        width = d.shape[1]
        columns.append((np.full(batch, width, np.int64), np.arange(batch, dtype=np.int64) * width, d.reshape(-1)))
    return columns, batch


def _cross(op_name: str, args, n_sparse: int, hashed: bool, num_buckets: int, hash_key: int, separator: bytes):
    """(indices, values, shape) of the cross of the inputs `args` (the op's flat input list)."""
    columns, batch = _cross_columns(op_name, n_sparse, args)
    per_row = np.ones(batch, np.int64)
    for counts, _, _ in columns:
        per_row *= counts
    total = int(per_row.sum())
    row_of = np.repeat(np.arange(batch, dtype=np.int64), per_row)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    rest = within.copy()
    picks = [None] * len(columns)
    for j in range(len(columns) - 1, -1, -1):  # the last input varies fastest
        counts, starts, _ = columns[j]
        c = np.maximum(counts[row_of], 1)
        picks[j] = starts[row_of] + rest % c
        rest //= c
    if hashed:
        out = np.full(total, np.uint64(hash_key & 0xFFFFFFFFFFFFFFFF), np.uint64)
        for (_, _, feats), pick in zip(columns, picks):
            picked = feats[pick]
            fp = fingerprint64_many(picked) if picked.dtype == object else picked.astype(np.int64).view(np.uint64)
            out = _fingerprint_cat64(out, fp)
        out %= np.uint64(num_buckets if num_buckets > 0 else np.iinfo(np.int64).max)
        values = out.astype(np.int64)
    else:
        parts = [[f if isinstance(f, bytes) else str(int(f)).encode() for f in feats[pick]]
                 for (_, _, feats), pick in zip(columns, picks)]
        values = np.array([separator.join(p) for p in zip(*parts)] if total else [], dtype=object)
    indices = np.stack([row_of, within], axis=1).reshape(total, 2)
    return indices, values, np.array([batch, int(per_row.max()) if batch else 0], np.int64)


def _cross_kernel(*args, N, hashed_output, num_buckets, hash_key):  # noqa: N803 - TF's attr name
    return _cross("SparseCross", args, N, hashed_output, num_buckets, hash_key, b"_X_")


def _cross_v2_kernel(*args, N):  # noqa: N803 - TF's attr name
    separator = args[-1]
    return _cross("SparseCrossV2", args[:-1], N, False, 0, 0,
                  separator if isinstance(separator, bytes) else np.asarray(separator).item())


register_op(
    "SparseCross",
    inputs=["indices: N * int64", "values: sparse_types", "shapes: N * int64", "dense_inputs: dense_types"],
    outputs=["output_indices: int64", "output_values: out_type", "output_shape: int64"],
    attrs={"hashed_output": ("bool", _reg.REQUIRED), "num_buckets": ("int", _reg.REQUIRED),
           "hash_key": ("int", _reg.REQUIRED), "sparse_types": ("list(type)", _reg.REQUIRED),
           "dense_types": ("list(type)", _reg.REQUIRED), "out_type": ("type", _reg.REQUIRED),
           "internal_type": ("type", _reg.REQUIRED)},
    allowed={"sparse_types": _CROSS_TYPES, "dense_types": _CROSS_TYPES, "out_type": _CROSS_TYPES,
             "internal_type": _CROSS_TYPES},
    shape=lambda op: [_shape.TensorShape([None, 2]), _shape.TensorShape([None]), _shape.TensorShape([2])],
)(_cross_kernel)
_reg.attr_minimum("SparseCross", "num_buckets", 0)
register_op(
    "SparseCrossV2",
    inputs=["indices: N * int64", "values: sparse_types", "shapes: N * int64", "dense_inputs: dense_types",
            "sep: string"],
    outputs=["output_indices: int64", "output_values: string", "output_shape: int64"],
    attrs={"sparse_types": ("list(type)", _reg.REQUIRED), "dense_types": ("list(type)", _reg.REQUIRED)},
    allowed={"sparse_types": _CROSS_TYPES, "dense_types": _CROSS_TYPES},
    shape=lambda op: [_shape.TensorShape([None, 2]), _shape.TensorShape([None]), _shape.TensorShape([2])],
)(_cross_v2_kernel)


def _sparse_cross(inputs, hashed_output: bool, num_buckets: int, hash_key, name, separator=None) -> SparseTensor:
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("Inputs must be a list")
    if not all(isinstance(i, (SparseTensor, SparseTensorValue, _ops.Tensor)) for i in inputs):
        raise TypeError("All inputs must be SparseTensors or Tensors")
    sparse = [_as_sparse_input(i) for i in inputs if isinstance(i, (SparseTensor, SparseTensorValue))]
    dense = [i for i in inputs if isinstance(i, _ops.Tensor)]
    values = [sp.values for sp in sparse]
    with _ops.name_scope(name, "SparseCross", inputs) as scope:
        values = [v if v.dtype == _dt.string else math_ops.cast(v, _dt.int64) for v in values]
        dense = [d if d.dtype == _dt.string else math_ops.cast(d, _dt.int64) for d in dense]
        internal = _dt.string if any(t.dtype == _dt.string for t in values + dense) else _dt.int64
        inputs = [[sp.indices for sp in sparse], values, [sp.dense_shape for sp in sparse], dense]
        if separator is not None:
            out = apply_op("SparseCrossV2", inputs + [_ops.convert_to_tensor(separator, _dt.string)],
                           name=scope).outputs
        else:
            out = apply_op("SparseCross", inputs,
                           {"hashed_output": hashed_output, "num_buckets": int(num_buckets),
                            "hash_key": _DEFAULT_HASH_KEY if hash_key is None else int(hash_key),
                            "out_type": _dt.int64 if hashed_output else _dt.string, "internal_type": internal},
                           name=scope).outputs
    return SparseTensor(*out)


@tf_export("sparse.cross")
def sparse_cross(inputs, name=None, separator=None) -> SparseTensor:
    """Per batch row, every combination of one feature from each input (2-D SparseTensors first, then dense
    [batch, k] tensors, int64 or string), joined into strings as 'a_X_b_X_c' (TF 1.x's SparseCross), or with
    `separator` between them (SparseCrossV2)."""
    return _sparse_cross(inputs, False, 0, None, name, separator)


@tf_export("sparse.cross_hashed")
def sparse_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None) -> SparseTensor:
    """As `sparse.cross`, each combination hashed (TF's FingerprintCat64 chain from `hash_key`) into int64
    buckets [0, num_buckets) (or [0, 2**63 - 1) when num_buckets is 0)."""
    return _sparse_cross(inputs, True, num_buckets, hash_key, name)


# ----------------------------------------------------------------------------------------------------------
# SerializeSparse / DeserializeSparse (+Many): a SparseTensor as three serialized TensorProtos
# ----------------------------------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _tensor_proto_bytes(arr: np.ndarray, dtype: _dt.DType) -> bytes:
    """A serialized TensorProto of `arr` with every value in tensor_content, as TF's kernels write it (strings
    as their varint lengths followed by their bytes)."""
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=_shape.TensorShape(arr.shape).as_proto())
    flat = arr.reshape(-1)
    if dtype == _dt.string:
        items = [v if isinstance(v, bytes) else str(v).encode() for v in flat.tolist()]
        proto.tensor_content = b"".join(_varint(len(v)) for v in items) + b"".join(items)
    else:
        proto.tensor_content = np.ascontiguousarray(flat).astype(flat.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto.SerializeToString()


def _decode_strings(content: bytes, n: int) -> np.ndarray:
    lengths, at = [], 0
    for _ in range(n):
        value = shift = 0
        while True:
            byte = content[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        lengths.append(value)
    out = np.empty(n, dtype=object)
    for i, length in enumerate(lengths):
        out[i] = content[at:at + length]
        at += length
    if at != len(content):
        raise ValueError("string tensor content has trailing bytes")
    return out


def _tensor_of(serialized: bytes, op_msg: str, what: str) -> np.ndarray:
    proto = tensor_pb2.TensorProto()
    try:
        proto.ParseFromString(serialized)
        shape = [d.size for d in proto.tensor_shape.dim]
        if proto.dtype == _dt.string.as_datatype_enum and proto.tensor_content:
            return _decode_strings(proto.tensor_content, int(np.prod(shape, dtype=np.int64))).reshape(shape)
        return _tensor_util.make_ndarray(proto)
    except Exception as e:  # noqa: BLE001 - any malformed bytes are the caller's bad input
        raise _invalid(f"{op_msg}: Could not parse the serialized {what}: {e}") from None


def _serialize_components(op_msg: str, indices, values, shape) -> list[bytes]:
    _check_components(op_msg, indices, values, shape)
    return [_tensor_proto_bytes(np.asarray(indices, np.int64), _dt.int64),
            _tensor_proto_bytes(values, _dt.as_dtype(values.dtype) if values.dtype != object else _dt.string),
            _tensor_proto_bytes(np.asarray(shape, np.int64), _dt.int64)]


_SERIALIZE_INPUTS = ["sparse_indices: int64", "sparse_values: T", "sparse_shape: int64"]


@register_op("SerializeSparse", inputs=_SERIALIZE_INPUTS, outputs=["serialized_sparse: out_type"],
             attrs={"out_type": ("type", _dt.string)}, allowed={"out_type": (_dt.string,)},
             shape=lambda op: _shape.TensorShape([3]))
def _serialize_sparse(indices, values, shape):
    return np.array(_serialize_components("SerializeSparse", indices, values, shape), dtype=object)


@register_op("SerializeManySparse", inputs=_SERIALIZE_INPUTS, outputs=["serialized_sparse: out_type"],
             attrs={"out_type": ("type", _dt.string)}, allowed={"out_type": (_dt.string,)},
             shape=lambda op: _shape.TensorShape([None, 3]))
def _serialize_many_sparse(indices, values, shape):
    """One row per entry of the first dimension: the SparseTensor of rank R-1 of that minibatch element."""
    _check_components("SerializeManySparse", indices, values, shape)
    if len(shape) < 2:
        raise _invalid(f"SerializeManySparse: Input must be at least rank 2, got shape {_index_str(shape)}")
    rows = indices[:, 0]
    if np.any(rows[1:] < rows[:-1]):
        raise _invalid("SerializeManySparse: the indices must be ordered by their first dimension")
    n = int(shape[0])
    if len(rows) and (rows[0] < 0 or rows[-1] >= n):
        raise _invalid(f"SerializeManySparse: a first-dimension index is outside [0, {n})")
    bounds = np.searchsorted(rows, np.arange(n + 1))
    out = np.empty((n, 3), dtype=object)
    for i in range(n):  # one serialized SparseTensor per minibatch element
        part = slice(bounds[i], bounds[i + 1])
        out[i] = _serialize_components("SerializeManySparse", indices[part, 1:], values[part], shape[1:])
    return out


def _deserialize(op_msg: str, serialized: np.ndarray, dtype: _dt.DType):
    if serialized.ndim < 1 or serialized.shape[-1] != 3:
        raise _invalid(f"{op_msg}: Serialized sparse should have 3 as the last dimension, got shape "
                       f"{_shape.dims_str(serialized.shape)}")
    batch_shape = serialized.shape[:-1]
    items = serialized.reshape(-1, 3)
    parts, rank = [], None
    for i, (ind_b, val_b, shp_b) in enumerate(items):  # one parse per serialized SparseTensor
        shape = _tensor_of(shp_b, op_msg, "shape").astype(np.int64).reshape(-1)
        indices = _tensor_of(ind_b, op_msg, "indices").astype(np.int64).reshape(-1, len(shape))
        values = _tensor_of(val_b, op_msg, "values")
        want = np.dtype(object) if dtype == _dt.string else np.dtype(dtype.as_numpy_dtype)
        if values.dtype != want:
            raise _invalid(f"{op_msg}: Requested SparseTensor of type {dtype.name} but SparseTensor[{i}].values."
                           f"dtype() == {_dt.as_dtype(values.dtype).name if values.dtype != object else 'string'}")
        if rank is not None and len(shape) != rank:
            raise _invalid(f"{op_msg}: Inconsistent shape across SparseTensors: rank prior to SparseTensor[{i}] "
                           f"was: {rank} but rank of SparseTensor[{i}] is: {len(shape)}")
        rank = len(shape)
        _check_components(op_msg, indices, values.reshape(-1), shape)
        parts.append((indices, values.reshape(-1), shape))
    rank = 0 if rank is None else rank
    if not batch_shape:
        return parts[0]
    counts = np.array([len(p[1]) for p in parts], np.int64)
    lead = _unravel(np.repeat(np.arange(len(parts), dtype=np.int64), counts), np.asarray(batch_shape, np.int64))
    inner = np.concatenate([p[0] for p in parts], axis=0) if parts else np.zeros((0, rank), np.int64)
    values = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype.as_numpy_dtype or object)
    widest = np.max(np.stack([p[2] for p in parts]), axis=0) if parts else np.zeros(rank, np.int64)
    out_shape = np.concatenate([np.asarray(batch_shape, np.int64), widest]).astype(np.int64)
    return np.concatenate([lead, inner], axis=1), values, out_shape


def _deserialize_shape(op):
    """The rank of the serialized SparseTensors is known only when they are read."""
    return [_shape.TensorShape([None, None]), _shape.TensorShape([None]), _shape.TensorShape([None])]


@register_op("DeserializeSparse", inputs=["serialized_sparse: Tserialized"],
             outputs=["sparse_indices: int64", "sparse_values: dtype", "sparse_shape: int64"],
             attrs={"dtype": ("type", _reg.REQUIRED), "Tserialized": ("type", _dt.string)},
             allowed={"Tserialized": (_dt.string,)}, shape=_deserialize_shape)
def _deserialize_sparse(serialized, *, dtype):
    return _deserialize("DeserializeSparse", np.asarray(serialized, dtype=object), dtype)


@register_op("DeserializeManySparse", inputs=["serialized_sparse: string"],
             outputs=["sparse_indices: int64", "sparse_values: dtype", "sparse_shape: int64"],
             attrs={"dtype": ("type", _reg.REQUIRED)}, shape=_deserialize_shape)
def _deserialize_many_sparse(serialized, *, dtype):
    serialized = np.asarray(serialized, dtype=object)
    if serialized.ndim != 2 or serialized.shape[1] != 3:
        raise _invalid(f"DeserializeManySparse: Serialized sparse should be a matrix with 3 columns, got shape "
                       f"{_shape.dims_str(serialized.shape)}")
    return _deserialize("DeserializeManySparse", serialized, dtype)


@tf_export("io.serialize_sparse", "serialize_sparse")
def serialize_sparse(sp_input, name=None, out_type=_dt.string) -> _ops.Tensor:
    """A SparseTensor as a string vector [3]: its indices, values and shape as serialized TensorProtos."""
    sp_input = _as_sparse_input(sp_input)
    return apply_op("SerializeSparse", [sp_input.indices, sp_input.values, sp_input.dense_shape],
                    {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


@tf_export("io.serialize_many_sparse", "serialize_many_sparse")
def serialize_many_sparse(sp_input, name=None, out_type=_dt.string) -> _ops.Tensor:
    """A minibatch SparseTensor (rank >= 2, ordered by its first dimension) as a string matrix [N, 3]: row i
    serializes the SparseTensor of element i."""
    sp_input = _as_sparse_input(sp_input)
    return apply_op("SerializeManySparse", [sp_input.indices, sp_input.values, sp_input.dense_shape],
                    {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


@tf_export("io.deserialize_many_sparse", "deserialize_many_sparse")
def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None) -> SparseTensor:
    """The minibatch SparseTensor of a string matrix [N, 3] of serialized SparseTensors (their ranks must
    agree; each dimension of the result is the largest of theirs)."""
    indices, values, shape = apply_op("DeserializeManySparse", [serialized_sparse],
                                      {"dtype": _dt.as_dtype(dtype)}, name=name).outputs
    if rank is not None:
        indices.set_shape([None, rank])
        shape.set_shape([rank])
    return SparseTensor(indices, values, shape)


# ----------------------------------------------------------------------------------------------------------
# Composites over the ops above: no kernels or gradients of their own
# ----------------------------------------------------------------------------------------------------------
@tf_export("sparse_to_dense")
def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0, validate_indices=True,
                    name=None) -> _ops.Tensor:
    """A dense tensor of `output_shape` holding `sparse_values` at `sparse_indices` (a scalar value is used at
    every index) and `default_value` elsewhere; indices must be in order and unique when validated."""
    with _ops.name_scope(name, "SparseToDense", [sparse_indices, output_shape, sparse_values]) as scope:
        sparse_values = _ops.convert_to_tensor(sparse_values, name="sparse_values")
        default = _ops.convert_to_tensor(default_value, dtype=sparse_values.dtype, name="default_value")
        return apply_op("SparseToDense", [sparse_indices, output_shape, sparse_values, default],
                        {"validate_indices": bool(validate_indices)}, name=scope).outputs[0]


@tf_export("sparse.transpose", "sparse_transpose")
def sparse_transpose(sp_input, perm=None, name=None) -> SparseTensor:
    """The SparseTensor with its dimensions permuted by `perm` (reversed when None), in row-major order."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseTranspose", [sp_input]) as scope:
        if perm is None:
            rank = array_ops.shape(sp_input.dense_shape)[0]
            perm = array_ops.range(rank - 1, -1, -1)
        perm = _ops.convert_to_tensor(perm, dtype=_dt.int32, name="perm")
        indices = array_ops.transpose(array_ops.gather(array_ops.transpose(sp_input.indices), perm))
        dense_shape = array_ops.gather(sp_input.dense_shape, perm)
        return sparse_reorder(SparseTensor(indices, sp_input.values, dense_shape), name=scope)


@tf_export("sparse.retain", "sparse_retain")
def sparse_retain(sp_input, to_retain) -> SparseTensor:
    """The entries of `sp_input` where the boolean vector `to_retain` (one flag per entry) is True."""
    sp_input = _as_sparse_input(sp_input)
    to_retain = _ops.convert_to_tensor(to_retain, dtype=_dt.bool_)
    n = sp_input.values.shape[0].value if sp_input.values.shape.ndims else None
    flags = to_retain.shape.with_rank(1)
    if n is not None and flags[0].value is not None and flags[0].value != n:
        raise ValueError(f"Shapes ({flags[0].value},) and ({n},) are incompatible")
    where = array_ops.reshape(array_ops.where(to_retain), [-1])
    return SparseTensor(array_ops.gather(sp_input.indices, where), array_ops.gather(sp_input.values, where),
                        array_ops.identity(sp_input.dense_shape))


@tf_export("sparse.reset_shape", "sparse_reset_shape")
def sparse_reset_shape(sp_input, new_shape=None) -> SparseTensor:
    """`sp_input` with dense shape `new_shape` (which must hold every index: checked when run), or, when None,
    the tightest shape holding its indices (the largest index + 1 per dimension)."""
    sp_input = _as_sparse_input(sp_input)
    indices, values = array_ops.identity(sp_input.indices), array_ops.identity(sp_input.values)
    if new_shape is None:
        dense_shape = math_ops.reduce_max(indices, axis=0) + 1
        return SparseTensor(indices, values, dense_shape)
    new_shape = _ops.convert_to_tensor(new_shape, dtype=_dt.int64, name="new_shape")
    new_shape.shape.with_rank(1)
    static_new, static_old = _reg.constant_value(new_shape), sp_input.shape
    if static_new is not None and static_old.ndims is not None:
        if len(static_new) != static_old.ndims:
            raise ValueError(f"Shapes ({len(static_new)},) and ({static_old.ndims},) are incompatible")
        if static_old.is_fully_defined() and np.any(np.asarray(static_new) < np.asarray(static_old.as_list())):
            raise ValueError("Shape must be greater than or equal to the shape of sp_input: new_shape "
                             f"{_index_str(static_new)} vs. {_index_str(static_old.as_list())}")
    fits = math_ops.reduce_all(math_ops.less_equal(sp_input.dense_shape, new_shape))
    with _ops.control_dependencies([Assert(fits, ["new_shape must be larger than or equal to the shape of "
                                                  "sp_input"])]):
        return SparseTensor(indices, values, array_ops.identity(new_shape))


@tf_export("sparse.from_dense")
def from_dense(tensor, name=None) -> SparseTensor:
    """The SparseTensor of the non-zero elements of a dense tensor (non-empty strings for strings)."""
    with _ops.name_scope(name, "dense_to_sparse", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        indices = array_ops.where(math_ops.not_equal(tensor, array_ops.zeros_like(tensor)))
        values = array_ops.gather_nd(tensor, indices)
        shape = array_ops.shape(tensor, out_type=_dt.int64)
        return SparseTensor(indices, values, shape)


@tf_export("sparse.eye")
def eye(num_rows, num_columns=None, dtype=_dt.float32, name=None) -> SparseTensor:
    """The sparse identity matrix [num_rows, num_columns] (square when num_columns is None)."""
    with _ops.name_scope(name, "eye", [num_rows, num_columns]):
        num_rows = _ops.convert_to_tensor(num_rows, dtype=_dt.int64, name="num_rows")
        num_columns = num_rows if num_columns is None else _ops.convert_to_tensor(num_columns, dtype=_dt.int64,
                                                                                   name="num_columns")
        diag = math_ops.minimum(num_rows, num_columns)
        positions = array_ops.range(diag, dtype=_dt.int64)
        return SparseTensor(array_ops.stack([positions, positions], axis=1),
                            array_ops.ones(array_ops.reshape(diag, [1]), dtype=dtype),
                            array_ops.stack([num_rows, num_columns]))


@tf_export("sparse.expand_dims")
def expand_dims(sp_input, axis=None, name=None) -> SparseTensor:
    """`sp_input` with a dimension of size 1 inserted at `axis` (negative counts from the end; the default -1
    appends one)."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "expand_dims", [sp_input]) as scope:
        axis = _ops.convert_to_tensor(-1 if axis is None else axis, dtype=_dt.int64, name="axis")
        rank = array_ops.shape(sp_input.dense_shape, out_type=_dt.int64)[0]
        axis = array_ops.where(math_ops.less(axis, 0), axis + rank + 1, axis)
        column = array_ops.zeros(array_ops.stack([array_ops.shape(sp_input.indices, out_type=_dt.int64)[0], 1]),
                                 dtype=_dt.int64)
        indices = array_ops.concat([sp_input.indices[:, :axis], column, sp_input.indices[:, axis:]], axis=1)
        one = array_ops.ones([1], dtype=_dt.int64)
        shape = array_ops.concat([sp_input.dense_shape[:axis], one, sp_input.dense_shape[axis:]], axis=0)
        return SparseTensor(indices, array_ops.identity(sp_input.values), array_ops.identity(shape, name=scope))


@tf_export("sparse.mask", "sparse_mask")
def sparse_mask(a, mask_indices, name=None) -> IndexedSlices:
    """The slices of IndexedSlices `a` whose indices are not in `mask_indices`."""
    with _ops.name_scope(name, "sparse_mask", [a, mask_indices]) as scope:
        kept_indices, kept = segment_ops.setdiff1d(a.indices, mask_indices)
        return IndexedSlices(array_ops.gather(a.values, kept, name=scope), kept_indices, a.dense_shape)


@tf_export("sparse.to_indicator", "sparse_to_indicator")
def sparse_to_indicator(sp_input, vocab_size, name=None) -> _ops.Tensor:
    """A dense bool tensor with one more dimension of size `vocab_size`: true at [..., id] for every id value
    of `sp_input` (int32/int64 ids) at index [...]."""
    sp_input = _as_sparse_input(sp_input)
    with _ops.name_scope(name, "SparseToIndicator", [sp_input]) as scope:
        num_entries = array_ops.shape(sp_input.indices)[0]
        new_values = array_ops.fill(array_ops.expand_dims(num_entries, 0), True)
        as_bool = SparseTensor(sp_input.indices, new_values, sp_input.dense_shape)
        merged = sparse_merge_impl(sp_input, as_bool, vocab_size)
        return apply_op("SparseToDense", [merged.indices, merged.dense_shape, merged.values,
                                          _ops.convert_to_tensor(False)], {"validate_indices": False},
                        name=scope).outputs[0]


def sparse_merge_impl(sp_ids, sp_values, vocab_size, name=None, already_sorted=False) -> SparseTensor:
    """sparse.merge without its deprecation: one SparseTensor whose last index is each entry's id."""
    if isinstance(sp_ids, (SparseTensor, SparseTensorValue)):
        sp_ids = [_as_sparse_input(sp_ids)]
        vocab_size = [vocab_size]
    else:
        sp_ids = [_as_sparse_input(s) for s in sp_ids]
        if not isinstance(vocab_size, (list, tuple)) or len(vocab_size) != len(sp_ids):
            raise ValueError("sp_ids and vocab_size have to be lists of the same length")
    sp_values = _as_sparse_input(sp_values)
    for ids in sp_ids:
        if not ids.values.dtype.is_integer:
            raise TypeError(f"sp_ids.values.dtype={ids.values.dtype} is not an integer type")
    with _ops.name_scope(name, "SparseMerge", [*sp_ids, sp_values]):
        columns = [math_ops.cast(ids.values, _dt.int64) for ids in sp_ids]
        vocab = [math_ops.cast(_ops.convert_to_tensor(v), _dt.int64) for v in vocab_size]
        leading = array_ops.slice(sp_ids[0].indices, [0, 0], array_ops.stack(
            [-1, array_ops.shape(sp_ids[0].indices)[1] - 1]))
        indices = array_ops.concat([leading] + [array_ops.expand_dims(c, 1) for c in columns], axis=1)
        leading_shape = array_ops.slice(sp_ids[0].dense_shape, [0], array_ops.expand_dims(
            array_ops.shape(sp_ids[0].dense_shape)[0] - 1, 0))
        shape = array_ops.concat([leading_shape, array_ops.reshape(array_ops.stack(vocab), [-1])], 0)
        merged = SparseTensor(indices, sp_values.values, shape)
        return merged if already_sorted else sparse_reorder(merged)


@tf_export("sparse.merge", "sparse_merge")
def sparse_merge(sp_ids, sp_values, vocab_size, name=None, already_sorted=False) -> SparseTensor:
    """Moves ids into the last index: entry [..., k] with id v and weight w becomes [..., v] = w in a
    SparseTensor whose last dimension is `vocab_size` (lists of ids and sizes give one id dimension each)."""
    return sparse_merge_impl(sp_ids, sp_values, vocab_size, name, already_sorted)


@tf_export("convert_to_tensor_or_sparse_tensor")
def convert_to_tensor_or_sparse_tensor(value, dtype=None, name=None):
    """A SparseTensor (or SparseTensorValue) as a SparseTensor, anything else as a Tensor."""
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
    if isinstance(value, SparseTensorValue):
        value = SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        if dtype and not dtype.is_compatible_with(value.dtype):
            raise RuntimeError(f"Sparse dtype: requested = {dtype}, actual = {value.dtype}")
        return value
    return _ops.convert_to_tensor(value, dtype=dtype, name=name)


@tf_export("convert_to_tensor_or_indexed_slices")
def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    """An IndexedSlices (or SparseTensor) as it is, anything else as a Tensor."""
    if isinstance(value, (IndexedSlices, SparseTensor)):
        if dtype and not _dt.as_dtype(dtype).is_compatible_with(value.dtype):
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for Tensor with dtype "
                             f"{value.dtype.name}: {value!r}")
        return value
    return _ops.convert_to_tensor(value, dtype=dtype, name=name)
