"""Array manipulations TF 1.15 has beside the core array ops: LinSpace, UnravelIndex,
UniqueWithCounts, Bitcast, GuaranteeConst and ParallelConcat (tf.parallel_stack), each declared with its shape
function and kernel beside its Python wrapper; and the `tf.manip` names of the existing array functions."""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops

_INDEX = (_dt.int32, _dt.int64)
_fmt = _shape.dims_str


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# LinSpace
# ----------------------------------------------------------------------------------------------------------
def _lin_space_shape(op):
    for t, what in zip(op.inputs, ("start", "stop", "num")):
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {t.shape.ndims} for '{op.name}' ({what})")
    num = _reg.constant_value(op.inputs[2])
    if num is None:
        return _shape.TensorShape([None])
    if int(num) <= 0:
        raise ValueError(f"Requires num > 0: {int(num)}")
    return _shape.TensorShape([int(num)])


@register_op("LinSpace", inputs=["start: T", "stop: T", "num: Tidx"], outputs=["output: T"],
             attrs={"Tidx": ("type", _dt.int32)}, allowed={"T": _dt.FLOATING, "Tidx": _INDEX},
             shape=_lin_space_shape, fresh_output=True)
def _lin_space_kernel(start, stop, num):
    for v, what in ((start, "start"), (stop, "stop"), (num, "num")):
        if np.ndim(v) != 0:
            raise _invalid(f"{what} must be a scalar, not shape {_fmt(np.shape(v))}")
    n = int(num)
    if n <= 0:
        raise _invalid(f"Requires num > 0: {n}")
    dtype = np.asarray(start).dtype
    if n == 1:
        return np.array([start], dtype=dtype)
    # start + i * step in the op's dtype, with the last point exactly `stop`.
    step = (stop - start) / dtype.type(n - 1)
    out = (start + step * np.arange(n, dtype=dtype)).astype(dtype, copy=False)
    out[-1] = stop
    return out


NotDifferentiable("LinSpace")


@tf_export("lin_space", "linspace")
def lin_space(start, stop, num, name=None, axis=0) -> _ops.Tensor:
    """`num` evenly spaced values from `start` to `stop` inclusive (scalars; TF 1.15 has no batched form, so
    `axis` must be 0)."""
    if axis != 0:
        raise ValueError(f"lin_space of scalars has only axis 0, got axis={axis}")
    with _ops.name_scope(name, "LinSpace", [start, stop, num]) as scope:
        start = _ops.convert_to_tensor(start, name="start")
        stop = _ops.convert_to_tensor(stop, name="stop", dtype=start.dtype.base_dtype)
        return apply_op("LinSpace", [start, stop, num], name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# UnravelIndex
# ----------------------------------------------------------------------------------------------------------
def _unravel_index_shape(op):
    indices, dims = op.inputs[0].shape, op.inputs[1].shape.with_rank(1)
    if indices.ndims is None:
        return _shape.unknown_shape()
    return _shape.TensorShape([dims[0]]).concatenate(indices)


@register_op("UnravelIndex", inputs=["indices: Tidx", "dims: Tidx"], outputs=["output: Tidx"],
             attrs={"Tidx": ("type", _dt.int32)}, allowed={"Tidx": _INDEX}, shape=_unravel_index_shape,
             fresh_output=True)
def _unravel_index_kernel(indices, dims):
    if dims.ndim != 1:
        raise _invalid(f"The indices can only be 1-D, got {_fmt(dims.shape)}")
    if indices.ndim > 1:
        raise _invalid(f"The indices can only be scalar or vector, got \"{_fmt(indices.shape)}\"")
    if (dims <= 0).any():
        raise _invalid("All dims must be positive.")
    total = int(np.prod(dims.astype(np.int64)))
    if ((indices < 0) | (indices >= total)).any():
        raise _invalid(f"index out of bounds for array in dimension; indices must be in [0, {total})")
    coords = np.unravel_index(indices.astype(np.int64), tuple(int(d) for d in dims))
    return np.stack(coords).astype(dims.dtype) if indices.ndim else np.array(coords, dtype=dims.dtype)


NotDifferentiable("UnravelIndex")


@tf_export("unravel_index")
def unravel_index(indices, dims, name=None) -> _ops.Tensor:
    """The coordinates in an array of shape `dims` of the flat (row-major) `indices`: shape [len(dims)] for a
    scalar index, [len(dims), n] for n indices."""
    return apply_op("UnravelIndex", [indices, dims], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# UniqueWithCounts
# ----------------------------------------------------------------------------------------------------------
def _unique_with_counts_shape(op):
    x = op.inputs[0].shape.with_rank(1)
    return [_shape.TensorShape([None]), x, _shape.TensorShape([None])]


@register_op("UniqueWithCounts", inputs=["x: T"], outputs=["y: T", "idx: out_idx", "count: out_idx"],
             attrs={"out_idx": ("type", _dt.int32)}, allowed={"out_idx": _INDEX}, shape=_unique_with_counts_shape,
             fresh_output=True)
def _unique_with_counts_kernel(x, *, out_idx):
    if x.ndim != 1:
        raise _invalid(f"unique expects a 1D vector, got shape {_fmt(x.shape)}")
    values, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    # TF lists the distinct values in order of first appearance, not sorted.
    order = np.argsort(first, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    index_type = out_idx.as_numpy_dtype
    return (values[order], position[inverse.reshape(-1)].astype(index_type),
            counts[order].astype(index_type))


NotDifferentiable("UniqueWithCounts")
UniqueWithCountsOutput = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


@tf_export("unique_with_counts")
def unique_with_counts(x, out_idx=_dt.int32, name=None) -> tuple:
    """(y, idx, count): the distinct values of 1-D `x` in order of first appearance, each element's position in
    y, and how often each distinct value occurs."""
    op = apply_op("UniqueWithCounts", [x], {"out_idx": _dt.as_dtype(out_idx)}, name=name)
    return UniqueWithCountsOutput(*op.outputs)


# ----------------------------------------------------------------------------------------------------------
# Bitcast
# ----------------------------------------------------------------------------------------------------------
_BITCAST_TYPES = tuple(t for t in _dt.NUMBER)


def _bitcast_dims(dims: list, from_dtype: _dt.DType, to_dtype: _dt.DType) -> list:
    """The output dims of bitcasting `dims`, TF's rule: a wider input gains a last dimension, a narrower one
    loses its last dimension, which must be the size ratio."""
    size_in = np.dtype(from_dtype.as_numpy_dtype).itemsize
    size_out = np.dtype(to_dtype.as_numpy_dtype).itemsize
    if size_in == size_out:
        return dims
    if size_in > size_out:
        return dims + [size_in // size_out]
    if not dims or dims[-1] not in (None, size_out // size_in):
        raise ValueError(f"Cannot bitcast from {from_dtype.name} to {to_dtype.name}: shape {_fmt(dims)}")
    return dims[:-1]


def _bitcast_shape(op):
    x = op.inputs[0].shape
    if x.ndims is None:
        return _shape.unknown_shape()
    return _shape.TensorShape(_bitcast_dims(x.as_list(), op.inputs[0].dtype, op.get_attr("type")))


@register_op("Bitcast", inputs=["input: T"], outputs=["output: type"], allowed={"T": _BITCAST_TYPES,
             "type": _BITCAST_TYPES}, shape=_bitcast_shape, fresh_output=True)
def _bitcast_kernel(x, *, type):  # noqa: A002 - TF's attr name
    try:
        dims = _bitcast_dims(list(x.shape), _dt.as_dtype(x.dtype), type)
    except ValueError as e:
        raise _invalid(str(e)) from None
    return np.ascontiguousarray(x).view(type.as_numpy_dtype).reshape(dims).copy()


NotDifferentiable("Bitcast")


@tf_export("bitcast")
def bitcast(input, type, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument names
    """The bytes of `input` read as `type`, without copying values: see `Bitcast` for how the shape changes."""
    return apply_op("Bitcast", [input], {"type": _dt.as_dtype(type)}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# GuaranteeConst
# ----------------------------------------------------------------------------------------------------------
register_op("GuaranteeConst", inputs=["input: T"], outputs=["output: T"], shape=lambda op: op.inputs[0].shape,
            stateful=True, doc="Passes its input through, promising it is constant across runs.")(lambda x: x)


@tf_export("guarantee_const")
def guarantee_const(input, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """`input` unchanged, with the promise that its value does not change between runs (TF uses the hint for
    constant folding; tfmini passes it through). Like TF, it has no gradient."""
    return apply_op("GuaranteeConst", [input], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# ParallelConcat and tf.parallel_stack
# ----------------------------------------------------------------------------------------------------------
def _parallel_concat_shape(op):
    out = _shape.as_shape(op.get_attr("shape"))
    for t in op.inputs:
        s = t.shape
        if s.ndims is not None and s.ndims >= 1 and s[0].value not in (None, 1):
            raise ValueError(f"Each input of ParallelConcat must have first dimension 1, got {s}")
    return out


def _parallel_concat_kernel(*values, shape):
    for i, v in enumerate(values):
        if v.ndim < 1 or v.shape[0] != 1:
            raise _invalid(f"Input {i} of ParallelConcat should have first dimension 1, got shape {_fmt(v.shape)}")
    out = np.concatenate(values, axis=0)
    if not _shape.as_shape(shape).is_compatible_with(out.shape):
        raise _invalid(f"ParallelConcat's shape attr {shape} does not match its output shape {_fmt(out.shape)}")
    return out


register_op("ParallelConcat", inputs=["values: N * T"], outputs=["output: T"],
            attrs={"shape": ("shape", _reg.REQUIRED)}, shape=_parallel_concat_shape,
            fresh_output=True)(_parallel_concat_kernel)
_reg.attr_minimum("ParallelConcat", "N", 1)


@tf_export("parallel_stack")
def parallel_stack(values, name="parallel_stack") -> _ops.Tensor:
    """Stacks tensors of one fully known shape into a tensor with a new first dimension (like `stack` along 0;
    TF may copy the inputs in parallel). Like TF, it has no gradient."""
    with _ops.name_scope(name) as scope:
        values = [_ops.convert_to_tensor(v) for v in values]
        if not values:
            raise ValueError("parallel_stack needs at least one value")
        value_shape = values[0].shape
        output_shape = _shape.TensorShape([len(values)]).concatenate(value_shape)
        expanded = [array_ops.expand_dims(v, 0) for v in values]
        return apply_op("ParallelConcat", [expanded], {"shape": output_shape}, name=scope).outputs[0]
