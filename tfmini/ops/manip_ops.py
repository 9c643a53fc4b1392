"""Array manipulations TF 1.15 has beside the core array ops: LinSpace, UnravelIndex, UniqueWithCounts, Bitcast,
GuaranteeConst, ParallelConcat (tf.parallel_stack) and the TensorScatter* ops, each declared with its shape
function, kernel and gradient beside its Python wrapper; and the composites tf.repeat and tf.batch_gather."""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops, sort_ops

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
            raise ValueError(f"Shape must be rank 0 but is rank {t.shape.ndims} ({what})")
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


# ----------------------------------------------------------------------------------------------------------
# TensorScatterUpdate / Add / Sub / Max / Min: a copy of a tensor with updates at index tuples
# ----------------------------------------------------------------------------------------------------------
def _tensor_scatter_shape(op):
    tensor, indices, updates = (t.shape for t in op.inputs)
    if tensor.ndims is None or indices.ndims is None or updates.ndims is None or indices[-1].value is None:
        return tensor
    depth = indices[-1].value
    if depth > tensor.ndims:
        raise ValueError(f"Dimensions [{depth},{depth}) of input[shape={tensor}] = [] must be a vector of length "
                         f"<= rank of tensor {tensor.ndims}")
    if not updates.is_compatible_with(indices[:-1].concatenate(tensor[depth:])):
        raise ValueError(f"Must have updates.shape = indices.shape[:batch_dim] + tensor.shape[slice_dim:], got "
                         f"updates.shape {updates}, indices.shape {indices}, tensor.shape {tensor}")
    return tensor


def _tensor_scatter_kernel(update):
    def kernel(tensor, indices, updates):
        if indices.ndim < 1 or indices.shape[-1] > tensor.ndim:
            raise _invalid(f"Dimensions of indices[shape={_fmt(indices.shape)}] must be a vector of length <= "
                           f"rank of tensor {tensor.ndim}")
        depth = indices.shape[-1]
        if np.shape(updates) != indices.shape[:-1] + tensor.shape[depth:]:
            raise _invalid(f"Must have updates.shape = indices.shape[:batch_dim] + tensor.shape[slice_dim:], got "
                           f"updates.shape: {_fmt(np.shape(updates))}, indices.shape: {_fmt(indices.shape)}, "
                           f"tensor.shape: {_fmt(tensor.shape)}")
        array_ops._check_nd_indices(indices, tensor.shape, "tensor shape")
        out = np.array(tensor, copy=True)
        update(out, tuple(indices[..., k] for k in range(depth)), updates)
        return out

    return kernel


def _assign_at(out, index, updates):
    out[index] = updates


_TENSOR_SCATTERS = {
    # op type: (update of the copy, allowed T)
    "TensorScatterUpdate": (_assign_at, None),
    "TensorScatterAdd": (np.add.at, _dt.NUMBER),
    "TensorScatterSub": (np.subtract.at, _dt.NUMBER),
    "TensorScatterMax": (np.maximum.at, _dt.REAL),
    "TensorScatterMin": (np.minimum.at, _dt.REAL),
}

for _name, (_update, _allowed) in _TENSOR_SCATTERS.items():
    register_op(_name, inputs=["tensor: T", "indices: Tindices", "updates: T"], outputs=["output: T"],
                allowed={"Tindices": _INDEX, **({"T": _allowed} if _allowed else {})},
                shape=_tensor_scatter_shape, fresh_output=True)(_tensor_scatter_kernel(_update))
# TF's "IGNORE" policy skips out-of-range indices; tfmini implements the default, an error.
_reg.import_only_attr(tuple(_TENSOR_SCATTERS), "bad_indices_policy", "string", "")


@RegisterGradient("TensorScatterUpdate")
def _tensor_scatter_update_grad(op, grad):
    indices, updates = op.inputs[1], op.inputs[2]
    cleared = tensor_scatter_nd_update(grad, indices, array_ops.zeros_like(updates))
    return cleared, None, array_ops.gather_nd(grad, indices)


@RegisterGradient("TensorScatterAdd")
def _tensor_scatter_add_grad(op, grad):
    return array_ops.identity(grad), None, array_ops.gather_nd(grad, op.inputs[1])


@RegisterGradient("TensorScatterSub")
def _tensor_scatter_sub_grad(op, grad):
    return array_ops.identity(grad), None, -array_ops.gather_nd(grad, op.inputs[1])


def _tensor_scatter_min_or_max_grad(op, grad):
    """The gradient goes to whichever of the tensor element and its updates is the result (to both on a tie,
    as TF does)."""
    tensor, indices, updates = op.inputs
    out = op.outputs[0]
    zero = array_ops.zeros_like(grad)
    from_tensor = array_ops.where(math_ops.equal(tensor, out), grad, zero)
    out_at_updates = array_ops.gather_nd(out, indices)
    from_updates = array_ops.where(math_ops.equal(updates, out_at_updates), array_ops.gather_nd(grad, indices),
                                   array_ops.zeros_like(updates))
    return from_tensor, None, from_updates


RegisterGradient("TensorScatterMax")(_tensor_scatter_min_or_max_grad)
RegisterGradient("TensorScatterMin")(_tensor_scatter_min_or_max_grad)


def _check_policy(bad_indices_policy: str) -> None:
    if bad_indices_policy not in ("", "DEFAULT", "ERROR"):
        raise ValueError(f"tfmini's tensor scatter ops raise on out-of-range indices; bad_indices_policy "
                         f"{bad_indices_policy!r} is not supported")


@tf_export("tensor_scatter_nd_update", "tensor_scatter_update")
def tensor_scatter_nd_update(tensor, indices, updates, name=None) -> _ops.Tensor:
    """A copy of `tensor` with `updates` written at the index tuples (or slices) `indices`."""
    return apply_op("TensorScatterUpdate", [tensor, indices, updates], name=name).outputs[0]


@tf_export("tensor_scatter_nd_add", "tensor_scatter_add")
def tensor_scatter_nd_add(tensor, indices, updates, bad_indices_policy="", name=None) -> _ops.Tensor:
    """A copy of `tensor` with `updates` added at the index tuples (or slices) `indices` (repeats add up)."""
    _check_policy(bad_indices_policy)
    return apply_op("TensorScatterAdd", [tensor, indices, updates], name=name).outputs[0]


@tf_export("tensor_scatter_nd_sub", "tensor_scatter_sub")
def tensor_scatter_nd_sub(tensor, indices, updates, bad_indices_policy="", name=None) -> _ops.Tensor:
    """A copy of `tensor` with `updates` subtracted at the index tuples (or slices) `indices`."""
    _check_policy(bad_indices_policy)
    return apply_op("TensorScatterSub", [tensor, indices, updates], name=name).outputs[0]


@tf_export("tensor_scatter_nd_max")
def tensor_scatter_nd_max(tensor, indices, updates, bad_indices_policy="", name=None) -> _ops.Tensor:
    """A copy of `tensor` holding the maximum of each element and the updates at its index tuple."""
    _check_policy(bad_indices_policy)
    return apply_op("TensorScatterMax", [tensor, indices, updates], name=name).outputs[0]


@tf_export("tensor_scatter_nd_min")
def tensor_scatter_nd_min(tensor, indices, updates, bad_indices_policy="", name=None) -> _ops.Tensor:
    """A copy of `tensor` holding the minimum of each element and the updates at its index tuple."""
    _check_policy(bad_indices_policy)
    return apply_op("TensorScatterMin", [tensor, indices, updates], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# tf.repeat, tf.batch_gather (composites over gather)
# ----------------------------------------------------------------------------------------------------------
@tf_export("repeat")
def repeat(input, repeats, axis=None, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """Each slice of `input` along `axis` repeated `repeats` times (a scalar, or one count per slice); with
    axis=None the flattened input."""
    with _ops.name_scope(name, "Repeat", [input, repeats]):
        input = _ops.convert_to_tensor(input, name="input")
        repeats = _ops.convert_to_tensor(repeats, name="repeats", dtype=_dt.int32)
        if axis is None:
            input = array_ops.reshape(input, [-1])
            axis = 0
        size = array_ops.shape(input)[axis]
        counts = array_ops.broadcast_to(repeats, array_ops.expand_dims(size, 0))
        ends = math_ops.cumsum(counts)
        positions = array_ops.range(math_ops.reduce_sum(counts))
        # The slice an output position copies is the number of slices that end at or before it.
        source = sort_ops.searchsorted(ends, positions, side="right")
        return array_ops.gather(input, source, axis=axis)


@tf_export("batch_gather")
def batch_gather(params, indices, name=None) -> _ops.Tensor:
    """gather with every leading dimension of `indices` but the last one a batch dimension of `params`."""
    with _ops.name_scope(name, "BatchGather", [params, indices]):
        indices = _ops.convert_to_tensor(indices, name="indices")
        params = _ops.convert_to_tensor(params, name="params")
        if indices.shape.ndims is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        batch_dims = indices.shape.ndims - 1
        return array_ops.gather(params, indices, axis=batch_dims, batch_dims=batch_dims)
