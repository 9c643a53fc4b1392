"""Index ops TensorFlow's gradients build and TF1 programs call: sorted-segment reductions (SegmentSum, Mean, Max,
Min, Prod), DynamicStitch and ParallelDynamicStitch, DynamicPartition and ListDiff (tf.setdiff1d).

Each op is declared here with its shape function, NumPy kernel and gradient, beside its Python wrapper.
"""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, attr_minimum, register_op
from tfmini.ops import array_ops, math_ops

_INDEX = (_dt.int32, _dt.int64)
_fmt = _shape.dims_str


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# Sorted-segment reductions
# ----------------------------------------------------------------------------------------------------------
def _segment_shape(op):
    data, ids = op.inputs[0].shape, op.inputs[1].shape.with_rank(1)
    if data.ndims is None:
        return _shape.unknown_shape()
    data = data.with_rank_at_least(1)
    data[:1].merge_with(ids)
    known = _reg.constant_value(op.inputs[1])
    n = None if known is None else (int(known[-1]) + 1 if np.size(known) else 0)
    return _shape.TensorShape([n]).concatenate(data[1:])


def _segment_ids_checked(data: np.ndarray, ids: np.ndarray) -> int:
    """The number of segments sorted ids [0..k] make; bad ids are TF's InvalidArgumentError."""
    if ids.ndim != 1:
        raise _invalid(f"segment_ids should be a vector, got shape {_fmt(ids.shape)}")
    if data.ndim < 1 or data.shape[0] != ids.shape[0]:
        raise _invalid(f"segment_ids should be the same size as dimension 0 of input: segment_ids shape "
                       f"{_fmt(ids.shape)}, input shape {_fmt(data.shape)}")
    if not ids.size:
        return 0
    if ids[0] < 0:
        raise _invalid(f"segment ids must be >= 0, got segment_ids[0] = {int(ids[0])}")
    dec = np.nonzero(ids[1:] < ids[:-1])[0]
    if dec.size:
        i = int(dec[0]) + 1
        raise _invalid(f"segment ids are not increasing: segment_ids[{i}] = {int(ids[i])} follows "
                       f"{int(ids[i - 1])}")
    return int(ids[-1]) + 1


def _segment_reduce(ufunc, empty_value):
    def kernel(data, segment_ids):
        ids = np.asarray(segment_ids)
        n = _segment_ids_checked(data, ids)
        out = np.zeros((n,) + data.shape[1:], dtype=data.dtype)
        if not ids.size:
            return out
        # Sorted ids: each segment is one run, so reduceat over the run starts reduces every present segment.
        starts = np.concatenate([[0], np.nonzero(np.diff(ids))[0] + 1])
        present = ids[starts]
        out[present] = ufunc.reduceat(data, starts, axis=0)
        if empty_value != 0 and present.size != n:
            missing = np.ones(n, dtype=bool)
            missing[present] = False
            out[missing] = empty_value
        return out

    return kernel


def _segment_mean(data, segment_ids):
    total = _segment_reduce(np.add, 0)(data, segment_ids)
    counts = np.bincount(np.asarray(segment_ids, dtype=np.int64), minlength=total.shape[0])
    counts = np.maximum(counts, 1).reshape((-1,) + (1,) * (data.ndim - 1))
    if data.dtype.kind in "iu":
        return (total // counts.astype(data.dtype)).astype(data.dtype)
    return (total / counts).astype(data.dtype)


_SEGMENT_OPS = {
    "SegmentSum": (_segment_reduce(np.add, 0), _dt.NUMBER),
    "SegmentProd": (_segment_reduce(np.multiply, 1), _dt.NUMBER),
    "SegmentMax": (_segment_reduce(np.maximum, 0), _dt.REAL),
    "SegmentMin": (_segment_reduce(np.minimum, 0), _dt.REAL),
    "SegmentMean": (_segment_mean, _dt.NUMBER),
}

for _name, (_kernel, _allowed) in _SEGMENT_OPS.items():
    register_op(_name, inputs=["data: T", "segment_ids: Tindices"], outputs=["output: T"],
                allowed={"T": _allowed, "Tindices": _INDEX},
                shape=_segment_shape, fresh_output=True)(_kernel)


@RegisterGradient("SegmentSum")
def _segment_sum_grad(op, grad):
    return array_ops.gather(grad, op.inputs[1]), None


@RegisterGradient("SegmentMean")
def _segment_mean_grad(op, grad):
    data, ids = op.inputs
    ones = array_ops.ones_like(array_ops.gather(array_ops.reshape(data, [array_ops.shape(data)[0], -1]), 0,
                                                axis=1))
    counts = segment_sum(ones, ids)
    rank = array_ops.rank(data)
    counts = array_ops.reshape(counts, array_ops.concat([array_ops.shape(counts), array_ops.ones(
        array_ops.expand_dims(rank - 1, 0), _dt.int32)], 0))
    return array_ops.gather(grad / counts, ids), None


def _segment_min_or_max_grad(op, grad):
    """Each segment's gradient goes to the elements equal to its max (min), shared evenly among ties, as in TF."""
    data, ids = op.inputs
    selected = math_ops.equal(data, array_ops.gather(op.outputs[0], ids))
    n_selected = segment_sum(math_ops.cast(selected, grad.dtype), ids)
    shared = array_ops.gather(grad / n_selected, ids)
    return array_ops.where(selected, shared, array_ops.zeros_like(shared)), None


RegisterGradient("SegmentMax")(_segment_min_or_max_grad)
RegisterGradient("SegmentMin")(_segment_min_or_max_grad)


def _segment_api(op_type: str, what: str):
    def fn(data, segment_ids, name=None) -> _ops.Tensor:
        return apply_op(op_type, [data, segment_ids], name=name).outputs[0]

    fn.__name__ = fn.__qualname__ = "segment_" + op_type[len("Segment"):].lower()
    fn.__doc__ = (f"The {what} of `data` over each segment of its first dimension; `segment_ids` (sorted, from 0) "
                  f"names each row's segment, and segments no row names hold {0 if what != 'product' else 1}.")
    return fn


segment_sum = _segment_api("SegmentSum", "sum")
tf_export("math.segment_sum", "segment_sum")(segment_sum)
segment_mean = _segment_api("SegmentMean", "mean")
tf_export("math.segment_mean", "segment_mean")(segment_mean)
segment_max = _segment_api("SegmentMax", "maximum")
tf_export("math.segment_max", "segment_max")(segment_max)
segment_min = _segment_api("SegmentMin", "minimum")
tf_export("math.segment_min", "segment_min")(segment_min)
segment_prod = _segment_api("SegmentProd", "product")
tf_export("math.segment_prod", "segment_prod")(segment_prod)


# ----------------------------------------------------------------------------------------------------------
# DynamicStitch, ParallelDynamicStitch, DynamicPartition
# ----------------------------------------------------------------------------------------------------------
def _stitch_shape(op):
    n = op.get_attr("N")
    indices, data = op.inputs[:n], op.inputs[n:]
    rest = _shape.unknown_shape()
    for idx, d in zip(indices, data):
        if idx.shape.ndims is not None and d.shape.ndims is not None:
            d.shape[:idx.shape.ndims].merge_with(idx.shape)
            rest = rest.merge_with(d.shape[idx.shape.ndims:])
    known = [_reg.constant_value(t) for t in indices]
    first = None
    if all(v is not None for v in known):
        first = max((int(np.max(v)) + 1 for v in known if np.size(v)), default=0)
    return _shape.TensorShape([first]).concatenate(rest)


def _stitch(*args):
    n = len(args) // 2
    indices, data = [np.asarray(a) for a in args[:n]], [np.asarray(a) for a in args[n:]]
    rest = None
    for m, (idx, d) in enumerate(zip(indices, data)):
        if d.shape[:idx.ndim] != idx.shape:
            raise _invalid(f"data[{m}].shape = {_fmt(d.shape)} does not start with indices[{m}].shape = "
                           f"{_fmt(idx.shape)}")
        if rest is None:
            rest = d.shape[idx.ndim:]
        elif d.shape[idx.ndim:] != rest:
            raise _invalid(f"Need data[{m}].shape[{idx.ndim}:] = {_fmt(d.shape[idx.ndim:])} to match data[0]'s "
                           f"trailing shape {_fmt(rest)}")
        if idx.size and idx.min() < 0:
            raise _invalid(f"indices[{m}] holds the negative index {int(idx.min())}")
    size = max((int(idx.max()) + 1 for idx in indices if idx.size), default=0)
    out = np.zeros((size,) + tuple(rest or ()), dtype=data[0].dtype if data else np.float32)
    for idx, d in zip(indices, data):  # later inputs win where indices repeat, as in TF's serial kernel
        out[idx.reshape(-1)] = d.reshape((-1,) + out.shape[1:])
    return out


for _name in ("DynamicStitch", "ParallelDynamicStitch"):
    register_op(_name, inputs=["indices: N * int32", "data: N * T"], outputs=["merged: T"], shape=_stitch_shape,
                fresh_output=True)(_stitch)
    attr_minimum(_name, "N", 1)


def _stitch_grad(op, grad):
    n = op.get_attr("N")
    return [None] * n + [array_ops.gather(grad, idx) for idx in op.inputs[:n]]


RegisterGradient("DynamicStitch")(_stitch_grad)
RegisterGradient("ParallelDynamicStitch")(_stitch_grad)


@tf_export("dynamic_stitch")
def dynamic_stitch(indices, data, name=None) -> _ops.Tensor:
    """Interleaves the values of `data` into one tensor: merged[indices[m][i]] = data[m][i]."""
    return apply_op("DynamicStitch", [list(indices), list(data)], name=name).outputs[0]


def _partition_shape(op):
    data, parts = op.inputs[0].shape, op.inputs[1].shape
    n = op.get_attr("num_partitions")
    if data.ndims is None or parts.ndims is None:
        return [_shape.unknown_shape()] * n
    data[:parts.ndims].merge_with(parts)
    return [_shape.TensorShape([None]).concatenate(data[parts.ndims:])] * n


@register_op("DynamicPartition", inputs=["data: T", "partitions: int32"], outputs=["outputs: num_partitions * T"],
             shape=_partition_shape)
def _dynamic_partition(data, partitions, *, num_partitions):
    parts = np.asarray(partitions)
    if data.shape[:parts.ndim] != parts.shape:
        raise _invalid(f"data.shape must start with partitions.shape, got data.shape = {_fmt(data.shape)}, "
                       f"partitions.shape = {_fmt(parts.shape)}")
    bad = (parts < 0) | (parts >= num_partitions)
    if np.any(bad):
        pos = np.argwhere(bad)[0]
        raise _invalid(f"partitions[{','.join(str(int(p)) for p in pos)}] = {int(parts[tuple(pos)])} is not in "
                       f"[0, {num_partitions})")
    flat = data.reshape((-1,) + data.shape[parts.ndim:])
    keys = parts.reshape(-1)
    return [flat[keys == i] for i in range(num_partitions)]


attr_minimum("DynamicPartition", "num_partitions", 1)


@RegisterGradient("DynamicPartition")
def _dynamic_partition_grad(op, *grads):
    data, parts = op.inputs
    n = op.get_attr("num_partitions")
    prefix = array_ops.shape(parts)
    positions = array_ops.reshape(array_ops.range(math_ops.reduce_prod(prefix)), prefix)
    moved = apply_op("DynamicPartition", [positions, parts], {"num_partitions": n}).outputs
    grads = [array_ops.zeros_like(out) if g is None else g for g, out in zip(grads, op.outputs)]
    merged = apply_op("ParallelDynamicStitch", [moved, grads]).outputs[0]
    return array_ops.reshape(merged, array_ops.shape(data)), None


@tf_export("dynamic_partition")
def dynamic_partition(data, partitions, num_partitions, name=None) -> list:
    """Splits `data` into `num_partitions` tensors by the partition index `partitions` gives each element."""
    return apply_op("DynamicPartition", [data, partitions], {"num_partitions": num_partitions}, name=name).outputs


# ----------------------------------------------------------------------------------------------------------
# ListDiff (tf.setdiff1d)
# ----------------------------------------------------------------------------------------------------------
def _list_diff_shape(op):
    op.inputs[0].shape.with_rank(1)
    op.inputs[1].shape.with_rank(1)
    return [[None], [None]]


@register_op("ListDiff", inputs=["x: T", "y: T"], outputs=["out: T", "idx: out_idx"],
             attrs={"out_idx": ("type", _dt.int32)}, allowed={"out_idx": _INDEX}, shape=_list_diff_shape)
def _list_diff(x, y, *, out_idx):
    if x.ndim != 1 or y.ndim != 1:
        raise _invalid(f"x and y should be 1D vectors, got shapes {_fmt(x.shape)} and {_fmt(y.shape)}")
    keep = np.nonzero(~np.isin(x, y))[0]
    return x[keep], keep.astype(out_idx.as_numpy_dtype)


NotDifferentiable("ListDiff")


_ListDiffResult = collections.namedtuple("ListDiff", ["out", "idx"])


@tf_export("setdiff1d")
def setdiff1d(x, y, index_dtype=_dt.int32, name=None):
    """The values of 1-D `x` not in `y`, in their order in `x`, and their positions in `x`: (out, idx)."""
    return _ListDiffResult(*apply_op("ListDiff", [x, y], {"out_idx": index_dtype}, name=name).outputs)


# ----------------------------------------------------------------------------------------------------------
# Unsorted-segment reductions beside UnsortedSegmentSum (math_ops): Max, Min, Prod, and the mean and sqrt_n
# composites TF builds from sums
# ----------------------------------------------------------------------------------------------------------
def _unsorted_reduce(ufunc, empty_value):
    """A kernel reducing the rows of `data` into `num_segments` segments; segments no id names hold
    `empty_value(dtype)` (the lowest value for max, the highest for min, 1 for prod) and negative ids are
    dropped, as in TF."""

    def kernel(data, segment_ids, num_segments):
        n = int(num_segments)
        ids = np.asarray(segment_ids)
        if data.shape[:ids.ndim] != ids.shape:
            raise _invalid(f"data.shape = {list(data.shape)} does not start with segment_ids.shape = "
                           f"{list(ids.shape)}")
        bad = ids >= n
        if np.any(bad):
            raise _invalid(f"segment_ids[{np.argwhere(bad)[0].tolist()}] = {ids[bad][0]} is out of range [0, {n})")
        out = np.full((n,) + data.shape[ids.ndim:], empty_value(data.dtype), dtype=data.dtype)
        keep = ids >= 0
        ufunc.at(out, ids[keep], data[keep])
        return out

    return kernel


def _lowest(dtype):
    return np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.finfo(dtype).max if dtype.kind == "f" else np.iinfo(dtype).max


_UNSORTED_SEGMENT_OPS = {
    "UnsortedSegmentMax": (_unsorted_reduce(np.maximum, _lowest), _dt.REAL),
    "UnsortedSegmentMin": (_unsorted_reduce(np.minimum, _highest), _dt.REAL),
    "UnsortedSegmentProd": (_unsorted_reduce(np.multiply, lambda dtype: 1), _dt.NUMBER),
}

for _name, (_kernel, _allowed) in _UNSORTED_SEGMENT_OPS.items():
    register_op(_name, inputs=["data: T", "segment_ids: Tindices", "num_segments: Tnumsegments"],
                outputs=["output: T"], attrs={"Tnumsegments": ("type", _dt.int32)},
                allowed={"T": _allowed, "Tindices": _INDEX, "Tnumsegments": _INDEX},
                shape=math_ops._segment_sum_shape, fresh_output=True)(_kernel)


def _gather_valid_rows(values, ids):
    """values[ids] for the non-negative ids, zeros where an id is negative (a dropped row)."""
    zero_ids = array_ops.zeros_like(ids)
    gathered = array_ops.gather(values, math_ops.maximum(ids, zero_ids))
    valid = math_ops.greater_equal(ids, zero_ids)
    rank_gap = array_ops.rank(gathered) - array_ops.rank(ids)
    valid = array_ops.reshape(valid, array_ops.concat([array_ops.shape(ids), array_ops.ones(
        array_ops.expand_dims(rank_gap, 0), _dt.int32)], 0))
    valid = math_ops.logical_and(valid, array_ops.ones_like(gathered, dtype=_dt.bool_))
    return array_ops.where(valid, gathered, array_ops.zeros_like(gathered)), valid


def _unsorted_segment_min_or_max_grad(op, grad):
    """Each segment's gradient goes to the rows equal to its max (min), shared evenly among ties."""
    data, ids, num_segments = op.inputs
    reduced, valid = _gather_valid_rows(op.outputs[0], ids)
    selected = math_ops.logical_and(math_ops.equal(data, reduced), valid)
    n_selected = math_ops.unsorted_segment_sum(math_ops.cast(selected, grad.dtype), ids, num_segments)
    shared, _ = _gather_valid_rows(grad / n_selected, ids)
    return array_ops.where(selected, shared, array_ops.zeros_like(shared)), None, None


RegisterGradient("UnsortedSegmentMax")(_unsorted_segment_min_or_max_grad)
RegisterGradient("UnsortedSegmentMin")(_unsorted_segment_min_or_max_grad)


@RegisterGradient("UnsortedSegmentProd")
def _unsorted_segment_prod_grad(op, grad):
    """d prod / d x_i is the product of the other rows of the segment: prod / x_i, or, for the one zero row of a
    segment, the product of its non-zero rows (segments with two or more zeros have gradient 0 everywhere)."""
    data, ids, num_segments = op.inputs
    is_zero = math_ops.equal(data, array_ops.zeros_like(data))
    zeros_per_segment = math_ops.unsorted_segment_sum(math_ops.cast(is_zero, _dt.int32), ids, num_segments)
    grad = array_ops.where(math_ops.greater(zeros_per_segment, 1), array_ops.zeros_like(grad), grad)
    nonzero_data = array_ops.where(is_zero, array_ops.ones_like(data), data)
    nonzero_prod = apply_op("UnsortedSegmentProd", [nonzero_data, ids, num_segments]).outputs[0]
    prod_at_row, _ = _gather_valid_rows(op.outputs[0], ids)
    nonzero_prod_at_row, _ = _gather_valid_rows(nonzero_prod, ids)
    safe_data = array_ops.where(is_zero, array_ops.ones_like(data), data)
    partial = array_ops.where(is_zero, nonzero_prod_at_row, prod_at_row / safe_data)
    grad_at_row, _ = _gather_valid_rows(grad, ids)
    return grad_at_row * partial, None, None


def _unsorted_segment_api(op_type: str, what: str):
    def fn(data, segment_ids, num_segments, name=None) -> _ops.Tensor:
        return apply_op(op_type, [data, segment_ids, num_segments], name=name).outputs[0]

    fn.__name__ = fn.__qualname__ = "unsorted_segment_" + op_type[len("UnsortedSegment"):].lower()
    fn.__doc__ = (f"The {what} of the rows of `data` in each of `num_segments` segments; `segment_ids` (any order, "
                  f"a prefix of data's shape) names each row's segment, and rows with negative ids are dropped.")
    return fn


unsorted_segment_max = _unsorted_segment_api("UnsortedSegmentMax", "maximum")
tf_export("math.unsorted_segment_max", "unsorted_segment_max")(unsorted_segment_max)
unsorted_segment_min = _unsorted_segment_api("UnsortedSegmentMin", "minimum")
tf_export("math.unsorted_segment_min", "unsorted_segment_min")(unsorted_segment_min)
unsorted_segment_prod = _unsorted_segment_api("UnsortedSegmentProd", "product")
tf_export("math.unsorted_segment_prod", "unsorted_segment_prod")(unsorted_segment_prod)


def _segment_counts(data: _ops.Tensor, segment_ids: _ops.Tensor, num_segments) -> _ops.Tensor:
    """How many rows each segment has (at least 1), shaped to broadcast against the segment reduction."""
    ones = array_ops.ones(array_ops.shape(segment_ids), dtype=data.dtype)
    counts = math_ops.unsorted_segment_sum(ones, segment_ids, num_segments)
    rank_gap = array_ops.rank(data) - array_ops.rank(segment_ids)
    counts = array_ops.reshape(counts, array_ops.concat([array_ops.shape(counts), array_ops.ones(
        array_ops.expand_dims(rank_gap, 0), _dt.int32)], 0))
    return math_ops.maximum(counts, array_ops.ones_like(counts))


@tf_export("math.unsorted_segment_mean", "unsorted_segment_mean")
def unsorted_segment_mean(data, segment_ids, num_segments, name=None) -> _ops.Tensor:
    """The mean of the rows of `data` in each segment (0 for an empty segment); ids as in unsorted_segment_sum."""
    with _ops.name_scope(name, "UnsortedSegmentMean"):
        data = _ops.convert_to_tensor(data)
        segment_ids = _ops.convert_to_tensor(segment_ids)
        total = math_ops.unsorted_segment_sum(data, segment_ids, num_segments)
        return total / _segment_counts(data, segment_ids, num_segments)


@tf_export("math.unsorted_segment_sqrt_n", "unsorted_segment_sqrt_n")
def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None) -> _ops.Tensor:
    """The sum of the rows of `data` in each segment divided by the square root of their count (0 for an empty
    segment)."""
    with _ops.name_scope(name, "UnsortedSegmentSqrtN"):
        data = _ops.convert_to_tensor(data)
        segment_ids = _ops.convert_to_tensor(segment_ids)
        total = math_ops.unsorted_segment_sum(data, segment_ids, num_segments)
        return total / math_ops.sqrt(_segment_counts(data, segment_ids, num_segments))
