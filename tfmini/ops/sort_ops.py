"""Ordering: tf.sort and tf.argsort (built on TopKV2, as TF builds them), tf.searchsorted (LowerBound and
UpperBound, declared here with their kernels)."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops, bitwise_ops, math_ops, nn_ops

_DIRECTIONS = ("ASCENDING", "DESCENDING")


# ----------------------------------------------------------------------------------------------------------
# sort / argsort
# ----------------------------------------------------------------------------------------------------------
def _static_axis(values: _ops.Tensor, axis) -> int:
    if isinstance(axis, _ops.Tensor):
        raise ValueError(f"axis must be a constant scalar: {axis}")
    axis = int(axis)
    rank = values.shape.ndims
    if rank is None:
        if axis != -1:
            raise ValueError(f"axis must be -1 when the rank of values is unknown, got {axis}")
        return -1
    if not -rank <= axis < rank:
        raise ValueError(f"axis = {axis} not in [{-rank}, {rank})")
    return axis % rank


def _descending(values: _ops.Tensor, axis: int, return_indices: bool) -> _ops.Tensor:
    """top_k over the whole sorted axis, moving that axis last and back when it is not last already."""
    rank = values.shape.ndims
    last = axis == -1 or axis == rank - 1
    if not last:
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        values = array_ops.transpose(values, perm)
    size = values.shape[-1].value if values.shape.ndims is not None else None
    k = size if size is not None else array_ops.shape(values)[-1]
    top_values, indices = nn_ops.top_k(values, k)
    result = indices if return_indices else top_values
    return result if last else array_ops.transpose(result, perm)


def _sort_or_argsort(values, axis, direction: str, return_indices: bool) -> _ops.Tensor:
    if direction not in _DIRECTIONS:
        raise ValueError(f"{direction!r} should be one of {', '.join(_DIRECTIONS)}")
    values = _ops.convert_to_tensor(values, name="values")
    axis = _static_axis(values, axis)
    if direction == "DESCENDING":
        return _descending(values, axis, return_indices)
    # Ascending order is the descending order of an order-reversing map: ~x for integers (no overflow at the
    # minimum, unlike -x), -x for floats.
    flip = bitwise_ops.invert if values.dtype.is_integer else math_ops.negative
    result = _descending(flip(values), axis, return_indices)
    return result if return_indices else flip(result)


@tf_export("sort")
def sort(values, axis=-1, direction="ASCENDING", name=None) -> _ops.Tensor:
    """`values` sorted along `axis` (a Python int), in `direction` 'ASCENDING' or 'DESCENDING'."""
    with _ops.name_scope(name, "sort"):
        return _sort_or_argsort(values, axis, direction, return_indices=False)


@tf_export("argsort")
def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> _ops.Tensor:
    """The int32 indices that sort `values` along `axis`; equal values keep their order (so `stable` holds)."""
    del stable  # top_k already breaks ties by position
    with _ops.name_scope(name, "argsort"):
        return _sort_or_argsort(values, axis, direction, return_indices=True)


# ----------------------------------------------------------------------------------------------------------
# LowerBound / UpperBound and tf.searchsorted
# ----------------------------------------------------------------------------------------------------------
def _bound_shape(op):
    seq, values = (t.shape for t in op.inputs)
    seq.with_rank(2)
    values = values.with_rank(2)
    return _shape.TensorShape([seq[0].merge_with(values[0]), values[1]])


def _bound_kernel(upper: bool):
    def kernel(sorted_inputs, values, *, out_type):
        if sorted_inputs.ndim != 2 or values.ndim != 2:
            raise _errors.InvalidArgumentError(None, None, "Input sorted_inputs and values must be matrices")
        if sorted_inputs.shape[0] != values.shape[0]:
            raise _errors.InvalidArgumentError(None, None, "Leading dim_size of both tensors must match.")
        n, m = sorted_inputs.shape[1], values.shape[1]
        keys = np.concatenate([sorted_inputs, values], axis=1)
        is_value = np.concatenate([np.zeros(n, bool), np.ones(m, bool)])
        # Sort every row with the values placed before (lower) or after (upper) sequence entries equal to them;
        # a value's bound is then the number of sequence entries sorted before it.
        tie = np.broadcast_to(is_value if upper else ~is_value, keys.shape)
        order = np.lexsort((tie, keys), axis=-1)
        sorted_is_value = is_value[order]
        seq_before = np.cumsum(~sorted_is_value, axis=1)
        out = np.empty(values.shape, dtype=out_type.as_numpy_dtype)
        rows, cols = np.nonzero(sorted_is_value)
        out[rows, order[rows, cols] - n] = seq_before[rows, cols]
        return out

    return kernel


for _name, _upper in (("LowerBound", False), ("UpperBound", True)):
    register_op(_name, inputs=["sorted_inputs: T", "values: T"], outputs=["output: out_type"],
                attrs={"out_type": ("type", _dt.int32)}, allowed={"T": _dt.REAL, "out_type": (_dt.int32, _dt.int64)},
                shape=_bound_shape, fresh_output=True)(_bound_kernel(_upper))
    NotDifferentiable(_name)


@tf_export("searchsorted")
def searchsorted(sorted_sequence, values, side="left", out_type=_dt.int32, name=None) -> _ops.Tensor:
    """For each entry of `values`, the index in the innermost row of `sorted_sequence` at which inserting it keeps
    the row sorted (before equal entries for side='left', after them for 'right'); leading dims must agree."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be either 'right' or 'left'.  Saw: {side}.")
    with _ops.name_scope(name, "searchsorted", [sorted_sequence, values]) as scope:
        sorted_sequence = _ops.convert_to_tensor(sorted_sequence, name="sorted_sequence")
        values = _ops.convert_to_tensor(values, name="values", dtype=sorted_sequence.dtype.base_dtype)
        seq_shape, values_shape = array_ops.shape(sorted_sequence), array_ops.shape(values)
        # Rows by explicit sizes, not -1, so empty rows (no values, or an empty sequence) reshape too.
        rows = math_ops.reduce_prod(seq_shape[:-1])
        seq_2d = array_ops.reshape(sorted_sequence, array_ops.stack([rows, seq_shape[-1]]))
        values_2d = array_ops.reshape(values, array_ops.stack([math_ops.reduce_prod(values_shape[:-1]),
                                                               values_shape[-1]]))
        op_type = "UpperBound" if side == "right" else "LowerBound"
        found = apply_op(op_type, [seq_2d, values_2d], {"out_type": _dt.as_dtype(out_type)}).outputs[0]
        result = array_ops.reshape(found, values_shape, name=scope)
        result.set_shape(values.shape)
        return result
