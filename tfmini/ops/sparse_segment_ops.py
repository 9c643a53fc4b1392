"""Segment reductions of gathered rows (SparseSegmentSum/Mean/SqrtN, with and without num_segments, and the
gradient ops TF builds for them) and tf.sparse_matmul (SparseMatMul, a dense product with sparsity hints): the
dense-data ops of TF's sparse family, each beside its kernel and gradient."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops

_INDEX = (_dt.int32, _dt.int64)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# SparseSegmentSum/Mean/SqrtN (+WithNumSegments): segment reductions of the rows `indices` picks from `data`
# ----------------------------------------------------------------------------------------------------------
def _segment_rows(op_name: str, data, indices, segment_ids, num_segments=None):
    """The rows picked from `data` and the number of output segments, after TF's checks of the ids."""
    if np.ndim(indices) != 1 or np.ndim(segment_ids) != 1:
        raise _invalid(f"{op_name}: indices and segment_ids should be vectors, got shapes "
                       f"{_shape.dims_str(np.shape(indices))} and {_shape.dims_str(np.shape(segment_ids))}")
    if len(indices) != len(segment_ids):
        raise _invalid(f"{op_name}: segment_ids and indices should have same size. segment_ids: "
                       f"{len(segment_ids)} indices: {len(indices)}")
    if data.ndim < 1:
        raise _invalid(f"{op_name}: data must be at least 1-D")
    bad = np.flatnonzero((indices < 0) | (indices >= data.shape[0]))
    if bad.size:
        i = int(bad[0])
        raise _invalid(f"{op_name}: Bad: indices[{i}] == {int(indices[i])} out of range [0, {data.shape[0]})")
    if len(segment_ids):
        if segment_ids[0] < 0:
            raise _invalid(f"{op_name}: segment ids must be >= 0")
        down = np.flatnonzero(segment_ids[1:] < segment_ids[:-1])
        if down.size:
            i = int(down[0]) + 1
            raise _invalid(f"{op_name}: segment ids are not increasing: segment_ids[{i}] = {int(segment_ids[i])} "
                           f"follows {int(segment_ids[i - 1])}")
    last = int(segment_ids[-1]) + 1 if len(segment_ids) else 0
    if num_segments is None:
        n = last
    else:
        n = int(num_segments)
        if last > n:
            raise _invalid(f"{op_name}: segment ids must be < num_segments, got segment id {last - 1} with "
                           f"num_segments {n}")
    return data[indices], n


def _segment_counts(segment_ids, n: int) -> np.ndarray:
    return np.bincount(np.asarray(segment_ids, np.int64), minlength=n)[:n]


def _sparse_segment_kernel(op_name: str, scale):
    def kernel(data, indices, segment_ids, *rest):
        rows, n = _segment_rows(op_name, data, indices, segment_ids, rest[0] if rest else None)
        out = np.zeros((n,) + data.shape[1:], data.dtype)
        if len(rows):
            np.add.at(out, segment_ids, rows)
        if scale is not None:
            counts = _segment_counts(segment_ids, n).reshape((-1,) + (1,) * (data.ndim - 1))
            out = np.where(counts > 0, out / scale(np.maximum(counts, 1)), 0).astype(data.dtype)
        return out

    return kernel


def _sparse_segment_shape(op):
    data = op.inputs[0].shape
    if data.ndims is None:
        return _shape.unknown_shape()
    n = None
    if len(op.inputs) == 4:
        known = _reg.constant_value(op.inputs[3])
        n = None if known is None else int(known)
    return _shape.TensorShape([n]).concatenate(data.with_rank_at_least(1)[1:])


_SEGMENT_ATTRS = {"Tidx": ("type", _dt.int32), "Tsegmentids": ("type", _dt.int32),
                  "sparse_gradient": ("bool", False)}
_SEGMENT_SCALES = {"Sum": (None, _dt.REAL), "Mean": (lambda c: c, _dt.FLOATING),
                   "SqrtN": (np.sqrt, _dt.FLOATING)}
for _kind, (_scale, _allowed) in _SEGMENT_SCALES.items():
    _allowed_types = {"T": _allowed, "Tidx": _INDEX, "Tsegmentids": _INDEX}
    register_op(f"SparseSegment{_kind}", inputs=["data: T", "indices: Tidx", "segment_ids: Tsegmentids"],
                outputs=["output: T"], attrs=_SEGMENT_ATTRS, allowed=_allowed_types,
                shape=_sparse_segment_shape)(_sparse_segment_kernel(f"SparseSegment{_kind}", _scale))
    register_op(f"SparseSegment{_kind}WithNumSegments",
                inputs=["data: T", "indices: Tidx", "segment_ids: Tsegmentids", "num_segments: Tnumsegments"],
                outputs=["output: T"], attrs={**_SEGMENT_ATTRS, "Tnumsegments": ("type", _dt.int32)},
                allowed={**_allowed_types, "Tnumsegments": _INDEX}, shape=_sparse_segment_shape)(
        _sparse_segment_kernel(f"SparseSegment{_kind}WithNumSegments", _scale))


def _scaled_grad_rows(op_name: str, scale, grad, indices, segment_ids, output_dim0):
    """TF's checks of a segment gradient's inputs, then each picked row's share of its segment's output
    gradient (divided by the segment's count, or its square root)."""
    n = grad.shape[0] if grad.ndim else 0
    if len(indices) != len(segment_ids):
        raise _invalid(f"{op_name}: segment_ids and indices should have same size.")
    if np.any((segment_ids < 0) | (segment_ids >= n)):
        raise _invalid(f"{op_name}: Segment id out of range [0, {n})")
    dim0 = int(output_dim0)
    if np.any((indices < 0) | (indices >= dim0)):
        raise _invalid(f"{op_name}: Index out of range [0, {dim0})")
    rows = grad[segment_ids]
    if scale is not None:
        counts = _segment_counts(segment_ids, n)[segment_ids].reshape((-1,) + (1,) * (grad.ndim - 1))
        rows = rows / scale(counts)
    return rows.astype(grad.dtype, copy=False), dim0


def _sparse_segment_grad_kernel(op_name: str, scale):
    """The dense gradient of data: each picked row gets its share; rows picked several times add up."""
    def kernel(grad, indices, segment_ids, output_dim0):
        rows, dim0 = _scaled_grad_rows(op_name, scale, grad, indices, segment_ids, output_dim0)
        out = np.zeros((dim0,) + grad.shape[1:], grad.dtype)
        np.add.at(out, indices, rows)
        return out

    return kernel


def _sparse_segment_grad_v2_kernel(op_name: str, scale):
    """The gradient of data's picked rows only: one row per distinct index (in increasing order, returned
    beside them), the shares of a row picked several times added up."""
    def kernel(grad, indices, segment_ids, dense_output_dim0):
        rows, _ = _scaled_grad_rows(op_name, scale, grad, indices, segment_ids, dense_output_dim0)
        unique, position = np.unique(indices, return_inverse=True)
        out = np.zeros((len(unique),) + grad.shape[1:], grad.dtype)
        np.add.at(out, position.reshape(-1), rows)
        return out, unique.astype(indices.dtype, copy=False)

    return kernel


def _segment_grad_shape(op):
    dim0 = _reg.constant_value(op.inputs[3])
    grad = op.inputs[0].shape
    if grad.ndims is None:
        return _shape.unknown_shape()
    return _shape.TensorShape([None if dim0 is None else int(dim0)]).concatenate(grad[1:])


def _segment_grad_v2_shape(op):
    grad = op.inputs[0].shape
    rows = _shape.unknown_shape() if grad.ndims is None else _shape.TensorShape([None]).concatenate(grad[1:])
    return [rows, _shape.TensorShape([None])]


_GRAD_ATTRS = {"Tidx": ("type", _dt.int32), "Tsegmentids": ("type", _dt.int32)}
_GRAD_ALLOWED = {"T": _dt.FLOATING, "Tidx": _INDEX, "Tsegmentids": _INDEX}
for _kind, (_scale, _allowed) in _SEGMENT_SCALES.items():
    register_op(f"SparseSegment{_kind}Grad",
                inputs=["grad: T", "indices: Tidx", "segment_ids: Tsegmentids", "output_dim0: int32"],
                outputs=["output: T"], attrs=_GRAD_ATTRS, allowed=_GRAD_ALLOWED,
                shape=_segment_grad_shape)(_sparse_segment_grad_kernel(f"SparseSegment{_kind}Grad", _scale))
    # TF 2.x's gradient of an op with sparse_gradient=True (tf.nn.embedding_lookup_sparse's): IndexedSlices.
    register_op(f"SparseSegment{_kind}GradV2",
                inputs=["grad: T", "indices: Tidx", "segment_ids: Tsegmentids", "dense_output_dim0: int32"],
                outputs=["output: T", "sorted_unique_indices: Tidx"], attrs=_GRAD_ATTRS, allowed=_GRAD_ALLOWED,
                shape=_segment_grad_v2_shape)(
        _sparse_segment_grad_v2_kernel(f"SparseSegment{_kind}GradV2", _scale))


def _data_rows(op) -> _ops.Tensor:
    return array_ops.shape(op.inputs[0])[0]


def _sparse_grad(kind: str, op, grad):
    """With sparse_gradient (TF 2.x): the gradient of the picked rows only, as IndexedSlices."""
    data_shape = array_ops.shape(op.inputs[0])
    values, indices = apply_op(f"SparseSegment{kind}GradV2", [grad, op.inputs[1], op.inputs[2], data_shape[0]]
                               ).outputs
    return IndexedSlices(values, indices, data_shape)


def _sparse_segment_sum_grad(op, grad):
    """Scattered back to the picked rows with an unsorted segment sum (rows picked twice add up)."""
    if op.get_attr("sparse_gradient"):
        data_grad = _sparse_grad("Sum", op, grad)
    else:
        data_grad = math_ops.unsorted_segment_sum(array_ops.gather(grad, op.inputs[2]), op.inputs[1],
                                                  _data_rows(op))
    return (data_grad, None, None) + ((None,) if len(op.inputs) == 4 else ())


def _sparse_segment_scaled_grad(kind: str):
    def grad_fn(op, grad):
        if op.get_attr("sparse_gradient"):
            data_grad = _sparse_grad(kind, op, grad)
        else:
            data_grad = apply_op(f"SparseSegment{kind}Grad", [grad, op.inputs[1], op.inputs[2], _data_rows(op)]
                                 ).outputs[0]
        return (data_grad, None, None) + ((None,) if len(op.inputs) == 4 else ())

    return grad_fn


for _suffix in ("", "WithNumSegments"):
    RegisterGradient(f"SparseSegmentSum{_suffix}")(_sparse_segment_sum_grad)
    RegisterGradient(f"SparseSegmentMean{_suffix}")(_sparse_segment_scaled_grad("Mean"))
    RegisterGradient(f"SparseSegmentSqrtN{_suffix}")(_sparse_segment_scaled_grad("SqrtN"))


def _sparse_segment_api(kind: str, what: str):
    def fn(data, indices, segment_ids, name=None, num_segments=None, sparse_gradient=False) -> _ops.Tensor:
        attrs = {"sparse_gradient": bool(sparse_gradient)}
        if num_segments is None:
            return apply_op(f"SparseSegment{kind}", [data, indices, segment_ids], attrs, name=name).outputs[0]
        return apply_op(f"SparseSegment{kind}WithNumSegments", [data, indices, segment_ids, num_segments], attrs,
                        name=name).outputs[0]

    fn.__name__ = fn.__qualname__ = f"sparse_segment_{kind.lower() if kind != 'SqrtN' else 'sqrt_n'}"
    fn.__doc__ = (f"The {what} over each segment of the rows `data[indices]`: `segment_ids` (sorted, one per "
                  "index) names each picked row's output row; `num_segments` fixes the number of output rows "
                  "(else the last id + 1). Segments nothing is picked into are 0.")
    return fn


sparse_segment_sum = tf_export("sparse.segment_sum", "sparse_segment_sum")(
    _sparse_segment_api("Sum", "sum"))
sparse_segment_mean = tf_export("sparse.segment_mean", "sparse_segment_mean")(
    _sparse_segment_api("Mean", "mean"))
sparse_segment_sqrt_n = tf_export("sparse.segment_sqrt_n", "sparse_segment_sqrt_n")(
    _sparse_segment_api("SqrtN", "sum divided by the square root of the count"))


# ----------------------------------------------------------------------------------------------------------
# SparseMatMul: a dense float32 matmul whose operands may be flagged as mostly zeros (tf.sparse_matmul)
# ----------------------------------------------------------------------------------------------------------
def _sparse_matmul_shape(op):
    a, b = op.inputs[0].shape.with_rank(2), op.inputs[1].shape.with_rank(2)
    if a.ndims is None or b.ndims is None:
        return _shape.unknown_shape(2)
    rows = a[1] if op.get_attr("transpose_a") else a[0]
    cols = b[0] if op.get_attr("transpose_b") else b[1]
    return _shape.TensorShape([rows, cols])


@register_op(
    "SparseMatMul",
    inputs=["a: Ta", "b: Tb"],
    outputs=["product: float32"],
    attrs={"transpose_a": ("bool", False), "transpose_b": ("bool", False), "a_is_sparse": ("bool", False),
           "b_is_sparse": ("bool", False), "Ta": ("type", _dt.float32), "Tb": ("type", _dt.float32)},
    allowed={"Ta": (_dt.float32,), "Tb": (_dt.float32,)},
    shape=_sparse_matmul_shape,
)
def _sparse_matmul(a, b, *, transpose_a, transpose_b):
    """The sparsity flags are hints for TF's kernel choice; the product is the same dense one."""
    if a.ndim != 2 or b.ndim != 2:
        raise _invalid(f"SparseMatMul: a and b must be matrices, got shapes {_shape.dims_str(a.shape)} and "
                       f"{_shape.dims_str(b.shape)}")
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    if a.shape[1] != b.shape[0]:
        raise _invalid(f"SparseMatMul: Matrix size-incompatible: In[0]: {_shape.dims_str(a.shape)}, In[1]: "
                       f"{_shape.dims_str(b.shape)}")
    return np.matmul(a, b).astype(np.float32, copy=False)


@RegisterGradient("SparseMatMul")
def _sparse_matmul_grad(op, grad):
    """As MatMul's gradient, each product keeping the sparsity hint of the operand it reuses."""
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    a, b = op.inputs
    a_sparse, b_sparse = op.get_attr("a_is_sparse"), op.get_attr("b_is_sparse")

    def mm(x, y, tx=False, ty=False, x_sparse=False, y_sparse=False):
        return apply_op("SparseMatMul", [x, y], {"transpose_a": tx, "transpose_b": ty, "a_is_sparse": x_sparse,
                                                 "b_is_sparse": y_sparse}).outputs[0]

    if not ta and not tb:
        return mm(grad, b, ty=True, y_sparse=b_sparse), mm(a, grad, tx=True, x_sparse=a_sparse)
    if not ta and tb:
        return mm(grad, b, y_sparse=b_sparse), mm(grad, a, tx=True, y_sparse=a_sparse)
    if ta and not tb:
        return mm(b, grad, ty=True, x_sparse=b_sparse), mm(a, grad, x_sparse=a_sparse)
    return (mm(b, grad, tx=True, ty=True, x_sparse=b_sparse),
            mm(grad, a, tx=True, ty=True, y_sparse=a_sparse))


@tf_export("sparse_matmul")
def sparse_matmul(a, b, transpose_a=False, transpose_b=False, a_is_sparse=False, b_is_sparse=False,
                  name=None) -> _ops.Tensor:
    """The float32 matrix product of two dense matrices; `a_is_sparse`/`b_is_sparse` only say an operand is
    mostly zeros (TF picks a kernel by them), the result is the same."""
    return apply_op("SparseMatMul", [a, b], {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b),
                                             "a_is_sparse": bool(a_is_sparse), "b_is_sparse": bool(b_is_sparse)},
                    name=name).outputs[0]
