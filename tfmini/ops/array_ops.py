"""Array ops: placeholders and identities, shapes, filling, reshaping, joining and splitting, tiling and padding,
gathering and scattering, slicing (incl. `Tensor.__getitem__`), selection, one-hot encoding and diagonals.

Each op is declared once here with its shape function, NumPy kernel and gradient; composites (boolean_mask,
meshgrid, sequence_mask, ...) are Python functions over them. Knows the graph layer, no sessions, and sits below
math_ops (which imports it): the math ops it needs (Cast, Sum, Sub...) it creates by op type.
"""

from __future__ import annotations

import builtins
import collections
import numbers

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import (
    NotDifferentiable,
    RegisterGradient,
    apply_op,
    import_only_attr,
    register_op,
    register_static_shape,
    register_static_value,
)
from tfmini.ops import shape_fns

_INDEX = (_dt.int32, _dt.int64)
_UNKNOWN = object()  # a slice bound not known at graph-construction time


# ----------------------------------------------------------------------------------------------------------
# The math ops that array ops build on. Their kernels live in math_ops, which sits above this module and
# imports it; here they are created by op type through the registry, as TF's array_ops builds on the
# generated math op wrappers.
# ----------------------------------------------------------------------------------------------------------
def _cast(x, dtype, name=None) -> _ops.Tensor:
    """`x` as `dtype` (returned as is when it already has it), like tf.cast for a tensor-like `x`."""
    base = _dt.as_dtype(dtype).base_dtype
    x = _ops.convert_to_tensor(x, name="x")
    if x.dtype.base_dtype == base:
        return x
    return apply_op("Cast", [x], {"DstT": base}, name=name or "Cast").outputs[0]


def _binary(op_type: str, x, y, name=None) -> _ops.Tensor:
    return apply_op(op_type, [x, y], name=name).outputs[0]


def _reduction_axes(x: _ops.Tensor, axis):
    """The reduction indices for `axis`: every axis of `x` when None (static when its rank is known)."""
    if axis is not None:
        return axis
    rank_ = x.shape.ndims
    if rank_ is not None:
        return np.arange(rank_, dtype=np.int32)
    return range(0, rank(x))


def _reduce(op_type: str, x, axis=None, keepdims: bool = False, name=None) -> _ops.Tensor:
    """A reduction op (Sum, Prod, Max...) over `axis` (all axes when None), as tf.reduce_* builds it."""
    x = _ops.convert_to_tensor(x)
    with x.graph.as_default():
        axes = _ops.convert_to_tensor(_reduction_axes(x, axis), preferred_dtype=_dt.int32)
        return apply_op(op_type, [x, axes], {"keep_dims": keepdims}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Helpers for shape functions and kernels
# ----------------------------------------------------------------------------------------------------------
def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


_fmt = _shape.dims_str


def _with_rank(dims, rank: int) -> tuple:
    if dims is None:
        return (None,) * rank
    if len(dims) != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {len(dims)}")
    return dims


def _with_rank_at_least(dims, rank: int):
    if dims is not None and len(dims) < rank:
        raise ValueError(f"Shape must be at least rank {rank} but is rank {len(dims)}")
    return dims


_merge = shape_fns.merge_dims


def _static(t):
    return _reg.constant_value(t)


def _static_scalar(t):
    """The static int value of a scalar (or 1-element) tensor, else None."""
    v = _static(t)
    if v is None or np.size(v) != 1:
        return None
    return int(np.reshape(v, [-1])[0])


def _static_dims(t):
    """The partially known shape that 1-D shape tensor `t` denotes, as a tuple (None for unknown rank)."""
    return _reg.constant_value_as_shape(t).as_tuple()


def _check_axis(axis: int, rank: int, what: str = "axis") -> int:
    if axis < -rank or axis >= rank:
        raise ValueError(f"{what} = {axis} not in [{-rank}, {rank})")
    return axis % rank if rank else 0


def _np_index_str(pos) -> str:
    return ",".join(str(int(p)) for p in pos)


def _as_array(v, dtype) -> np.ndarray:
    """NumPy indexing with only integers gives a scalar (a Python object for strings): make it a 0-d array."""
    return v if type(v) is np.ndarray else np.asarray(v, dtype=dtype)


def _shape_tensor(x, out_type=_dt.int32):
    """The shape of `x` as a tensor: a constant when fully known (as TF's shape_internal does)."""
    return _shape_internal(x, None, True, out_type)


def _int_arg(value):
    """An index-like argument whose op attr defaults to int32 (as in TF): a Python value becomes int32 when it
    fits, so an empty list is an empty int32 vector rather than float32."""
    if _is_tensor_like(value) or isinstance(value, np.ndarray):
        return value
    return _ops.convert_to_tensor(value, preferred_dtype=_dt.int32)


def _dense(grad):
    """A gradient as a dense Tensor (IndexedSlices from gathers are densified)."""
    return grad if isinstance(grad, _ops.Tensor) else _ops.convert_to_tensor(grad)


def _pass_through_grad(op, *grads):
    return list(grads) if len(grads) > 1 else grads[0]


def _reshape_back_grad(op, grad):
    """For ops that only rearrange the shape: the gradient is the output gradient in the input's shape."""
    return [reshape(_dense(grad), _shape_tensor(op.inputs[0]))] + [None] * (len(op.inputs) - 1)


# ----------------------------------------------------------------------------------------------------------
# Placeholders and identities
# ----------------------------------------------------------------------------------------------------------
def _placeholder_factory(op, ctx):
    dtype, shape = op.get_attr("dtype"), op.get_attr("shape")
    shape_part = "" if shape.ndims is None else f" and shape {_fmt(shape.as_tuple())}"
    msg = (f"You must feed a value for placeholder tensor '{op.name}' with dtype "
           f"{dtype.name.replace('float32', 'float')}{shape_part}")

    def unfed():
        raise _errors.InvalidArgumentError(None, op, msg)

    return unfed


register_op(
    "Placeholder",
    outputs=["output: dtype"],
    attrs={"dtype": ("type", _reg.REQUIRED), "shape": ("shape", _shape.unknown_shape())},
    shape=lambda op: op.get_attr("shape"),
    stateful=True,  # never constant-folded: its value only exists when fed
    factory=_placeholder_factory,
)
# A function body stands for a variable it captures with a placeholder of the variable's ref dtype, which
# the functional op feeds with the variable's storage.
_reg.keep_ref_type_attr("Placeholder", "dtype")


def _placeholder_with_default_shape(op):
    shape = op.get_attr("shape")
    op.inputs[0].shape.merge_with(shape)  # the default must fit the declared (possibly less precise) shape
    return shape


@register_op(
    "PlaceholderWithDefault",
    inputs=["input: dtype"],
    outputs=["output: dtype"],
    attrs={"shape": ("shape", _reg.REQUIRED)},
    shape=_placeholder_with_default_shape,
    stateful=True,  # its value may be fed, so it must not be folded into its default
)
def _placeholder_with_default(x):
    return x


RegisterGradient("PlaceholderWithDefault")(_pass_through_grad)


@register_op("Identity", inputs=["input: T"], outputs=["output: T"], shape=shape_fns.unchanged)
def _identity(x):
    return x


RegisterGradient("Identity")(_pass_through_grad)
register_static_value("Identity")(lambda t: _static(t.op.inputs[0]))
register_static_shape("Identity")(lambda t: _static_dims(t.op.inputs[0]))


@register_op(
    "IdentityN", inputs=["input: T"], outputs=["output: T"], attrs={"T": ("list(type)", _reg.REQUIRED)},
    shape=lambda op: [t.shape for t in op.inputs],
)
def _identity_n(*xs):
    return list(xs)


RegisterGradient("IdentityN")(lambda op, *grads: list(grads))


@register_op("StopGradient", inputs=["input: T"], outputs=["output: T"], shape=shape_fns.unchanged)
def _stop_gradient(x):
    return x


NotDifferentiable("StopGradient")
register_static_value("StopGradient")(lambda t: _static(t.op.inputs[0]))


@tf_export("placeholder")
def placeholder(dtype, shape=None, name=None) -> _ops.Tensor:
    """A tensor whose value must be fed at run time; a fed value is checked against `shape`."""
    shape = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
    try:
        dtype = _dt.as_dtype(dtype).base_dtype  # as in TF, a ref dtype asks for a placeholder of its base dtype
    except TypeError:
        raise TypeError(f"Expected DataType for argument 'dtype' not {dtype!r}.") from None
    return apply_op("Placeholder", [], {"dtype": dtype, "shape": shape}, name=name).outputs[0]


@tf_export("placeholder_with_default")
def placeholder_with_default(input, shape, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """Passes `input` through unless the output is fed."""
    return apply_op("PlaceholderWithDefault", [input], {"shape": _shape.as_shape(shape)}, name=name).outputs[0]


@tf_export("identity")
def identity(input, name=None) -> _ops.Tensor:  # noqa: A002
    if hasattr(input, "_is_composite_tensor"):
        return input._map_components(lambda t: identity(t))
    if hasattr(input, "_as_graph_element") and not isinstance(input, _ops.Tensor) and hasattr(input, "value"):
        input = input.value()
    return apply_op("Identity", [input], name=name).outputs[0]


@tf_export("identity_n")
def identity_n(input, name=None) -> list:  # noqa: A002
    """Identities of a list of tensors, as one op."""
    return apply_op("IdentityN", [list(input)], name=name).outputs


@tf_export("stop_gradient")
def stop_gradient(input, name=None) -> _ops.Tensor:  # noqa: A002
    return apply_op("StopGradient", [input], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Shape, ShapeN, Size, Rank
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "Shape", inputs=["input: T"], outputs=["output: out_type"], attrs={"out_type": ("type", _dt.int32)},
    allowed={"out_type": _INDEX}, shape=lambda op: [op.inputs[0].shape.ndims],
)
def _shape_kernel(x, *, out_type):
    return np.array(np.shape(x), dtype=out_type.as_numpy_dtype)


def _static_shape_of_input(t):
    s = t.op.inputs[t.value_index].shape
    return np.array(s.as_list(), dtype=t.dtype.as_numpy_dtype) if s.is_fully_defined() else None


register_static_value("Shape")(_static_shape_of_input)
register_static_shape("Shape")(lambda t: t.op.inputs[0].shape)


@register_op(
    "ShapeN", inputs=["input: N * T"], outputs=["output: N * out_type"], attrs={"out_type": ("type", _dt.int32)},
    allowed={"out_type": _INDEX}, shape=lambda op: [[t.shape.ndims] for t in op.inputs],
)
def _shape_n_kernel(*xs, out_type):
    return [np.array(np.shape(x), dtype=out_type.as_numpy_dtype) for x in xs]


_reg.attr_minimum("ShapeN", "N", 1)
register_static_value("ShapeN")(_static_shape_of_input)
register_static_shape("ShapeN")(lambda t: t.op.inputs[t.value_index].shape)


@register_op(
    "Size", inputs=["input: T"], outputs=["output: out_type"], attrs={"out_type": ("type", _dt.int32)},
    allowed={"out_type": _INDEX}, shape=shape_fns.scalar,
)
def _size_kernel(x, *, out_type):
    return np.asarray(np.size(x), dtype=out_type.as_numpy_dtype)


@register_static_value("Size")
def _size_static(t):
    n = t.op.inputs[0].shape.num_elements()
    return None if n is None else np.asarray(n, dtype=t.dtype.as_numpy_dtype)


@register_op("Rank", inputs=["input: T"], outputs=["output: int32"], shape=shape_fns.scalar)
def _rank_kernel(x):
    return np.asarray(np.ndim(x), dtype=np.int32)


@register_static_value("Rank")
def _rank_static(t):
    n = t.op.inputs[0].shape.ndims
    return None if n is None else np.asarray(n, dtype=np.int32)


for _op_type in ("Shape", "ShapeN", "Size", "Rank"):
    NotDifferentiable(_op_type)


def _shape_internal(input, name, optimize: bool, out_type):  # noqa: A002
    out_type = _dt.as_dtype(out_type)
    with _ops.name_scope(name, "Shape", [input]) as scope:
        if hasattr(input, "_is_composite_tensor") and hasattr(input, "dense_shape"):
            return _cast(input.dense_shape, out_type)
        x = _ops.convert_to_tensor(input)
        if optimize and x.shape.is_fully_defined():
            return constant(x.shape.as_list(), dtype=out_type, name=scope)
        return apply_op("Shape", [x], {"out_type": out_type}, name=scope).outputs[0]


@tf_export("shape")
def shape(input, name=None, out_type=_dt.int32) -> _ops.Tensor:  # noqa: A002
    """The shape of `input` as a 1-D tensor (a constant when it is fully known statically, as in TF)."""
    return _shape_internal(input, name, True, out_type)


@tf_export("shape_n")
def shape_n(input, out_type=_dt.int32, name=None) -> list:  # noqa: A002
    """The shapes of a list of tensors, as one op."""
    return apply_op("ShapeN", [list(input)], {"out_type": _dt.as_dtype(out_type)}, name=name).outputs


@tf_export("size")
def size(input, name=None, out_type=_dt.int32) -> _ops.Tensor:  # noqa: A002
    """The number of elements of `input` (a constant when it is known statically, as in TF)."""
    out_type = _dt.as_dtype(out_type)
    with _ops.name_scope(name, "Size", [input]) as scope:
        if hasattr(input, "_is_composite_tensor") and hasattr(input, "dense_shape"):
            return _reduce("Prod", _cast(input.dense_shape, out_type), name=scope)
        x = _ops.convert_to_tensor(input)
        dims = x.shape.as_tuple()
        if dims is not None and (None not in dims or 0 in dims):
            n = 0 if 0 in dims else int(np.prod(dims, dtype=np.int64))
            return constant(n, dtype=out_type, name=scope)
        return apply_op("Size", [x], {"out_type": out_type}, name=scope).outputs[0]


@tf_export("rank")
def rank(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The number of dimensions of `input` (a constant when it is known statically, as in TF)."""
    with _ops.name_scope(name, "Rank", [input]) as scope:
        if hasattr(input, "_is_composite_tensor") and hasattr(input, "dense_shape"):
            return size(input.dense_shape, name=scope)
        x = _ops.convert_to_tensor(input)
        if x.shape.ndims is not None:
            return constant(x.shape.ndims, dtype=_dt.int32, name=scope)
        return apply_op("Rank", [x], name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Lists that hold tensors convert to a tensor by packing (`tf.constant`-like lists of Tensors)
# ----------------------------------------------------------------------------------------------------------
def _is_tensor_like(v) -> bool:
    return isinstance(v, _ops.Tensor) or (
        hasattr(v, "_as_graph_element") and isinstance(getattr(v, "dtype", None), _dt.DType)
        and not isinstance(v, _ops.Operation)
    )


def _nested_dtype(values):
    """The dtype of the first tensor found in nested lists, or None if they hold no tensor."""
    for v in values:
        if _is_tensor_like(v):
            return v.dtype.base_dtype
        if isinstance(v, (list, tuple)):
            found = _nested_dtype(v)
            if found is not None:
                return found
    return None


def _pack_nested(values, dtype, name):
    """Packs nested lists holding tensors into one tensor; a list without tensors stays a list."""
    with _ops.name_scope(name) as scope:
        elems, has_tensor = [], False
        for i, v in enumerate(values):
            if _is_tensor_like(v):
                v = _ops.convert_to_tensor(v)
                if v.dtype.base_dtype != dtype:
                    raise TypeError(
                        f"Cannot convert a list containing a tensor of dtype {v.dtype.name} to {dtype.name} "
                        f"(Tensor is: {v!r})"
                    )
                has_tensor = True
            elif isinstance(v, (list, tuple)):
                v = _pack_nested(v, dtype, str(i))
                has_tensor = has_tensor or isinstance(v, _ops.Tensor)
            elems.append(v)
        if not has_tensor:
            return elems
        tensors = [e if isinstance(e, _ops.Tensor) else constant(e, dtype=dtype, name=str(i))
                   for i, e in enumerate(elems)]
        return apply_op("Pack", [tensors], {"axis": 0}, name=scope).outputs[0]


def _autopacking_conversion(value, dtype=None, name=None, as_ref=False):
    if as_ref:
        return NotImplemented
    inferred = _nested_dtype(value)
    if inferred is None:
        return NotImplemented
    if dtype is not None and dtype.base_dtype != inferred:
        value = _cast_nested(value, dtype.base_dtype)
    return _pack_nested(value, dtype.base_dtype if dtype is not None else inferred, name or "packed")


def _cast_nested(values, dtype):
    return [_cast(v, dtype) if _is_tensor_like(v) else
            (_cast_nested(v, dtype) if isinstance(v, (list, tuple)) else v) for v in values]


_ops.register_tensor_conversion_function((list, tuple), _autopacking_conversion, 99)


# ----------------------------------------------------------------------------------------------------------
# Fill, ZerosLike, OnesLike, Range
# ----------------------------------------------------------------------------------------------------------
def _fill_shape(op):
    _with_rank(op.inputs[0].shape.as_tuple(), 1)
    _with_rank(op.inputs[1].shape.as_tuple(), 0)
    dims = _static(op.inputs[0])
    if dims is not None and np.any(np.asarray(dims) < 0):
        raise ValueError(f"Fill dimensions must be >= 0, got {list(np.reshape(dims, [-1]))}")
    return _reg.constant_value_as_shape(op.inputs[0])


@register_op(
    "Fill", inputs=["dims: index_type", "value: T"], outputs=["output: T"], attrs={"index_type": ("type", _dt.int32)},
    allowed={"index_type": _INDEX}, shape=_fill_shape,
)
def _fill_kernel(dims, value, *, T):  # noqa: N803 - TF's attr name
    if np.ndim(dims) != 1:
        raise _invalid(f"dims must be a vector, got shape {_fmt(np.shape(dims))}")
    if np.ndim(value) != 0:
        raise _invalid(f"value must be a scalar, got shape {_fmt(np.shape(value))}")
    if np.any(dims < 0):
        raise _invalid(f"Fill dimensions must be >= 0, got {list(dims)}")
    return np.full([int(d) for d in dims], value, dtype=T.as_numpy_dtype)


@register_static_value("Fill")
def _fill_static(t):
    dims, value = _static(t.op.inputs[0]), _static(t.op.inputs[1])
    if dims is None or value is None or np.prod(dims) > 10_000:  # only small fills are worth holding
        return None
    return np.full([int(d) for d in dims], value, dtype=t.dtype.as_numpy_dtype)


@RegisterGradient("Fill")
def _fill_grad(op, grad):
    return [None, _reduce("Sum", _dense(grad))]


def _filled_like(x, value):
    if x.dtype == object:
        return np.full(x.shape, b"" if value == 0 else value, dtype=object)
    return np.full(np.shape(x), value, dtype=x.dtype)


@register_op("ZerosLike", inputs=["x: T"], outputs=["y: T"], shape=shape_fns.unchanged)
def _zeros_like_kernel(x):
    # A variant value that defines its zero (a TensorList: a list of zeros as long as it, as TF's
    # TensorListZerosLike) gives that; an array gives zeros of its shape and dtype.
    zeros_like = getattr(x, "zeros_like", None)
    if zeros_like is not None:
        return zeros_like()
    return _filled_like(np.asarray(x), 0)


register_op("OnesLike", inputs=["x: T"], outputs=["y: T"], allowed={"T": _dt.NUMBER + (_dt.bool_,)},
            shape=shape_fns.unchanged)(lambda x: _filled_like(np.asarray(x), 1))
NotDifferentiable("ZerosLike")
NotDifferentiable("OnesLike")


def _range_size(start, limit, delta) -> int:
    """The number of elements of Range(start, limit, delta), computed as TF's kernel does."""
    if delta == 0:
        raise _invalid(f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise _invalid(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise _invalid(f"Requires start >= limit when delta < 0: {start}/{limit}")
    if isinstance(start, (np.integer, int)):
        return int((abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta)))
    # In the values' own type, as TF's kernel computes it (float32 rounding can change the count).
    return int(np.ceil(np.abs((limit - start) / delta)))


def _range_shape(op):
    for t in op.inputs:
        _with_rank(t.shape.as_tuple(), 0)
    vals = [_static(t) for t in op.inputs]
    if any(v is None for v in vals):
        return [None]
    try:
        return [_range_size(*(v[()] for v in map(np.asarray, vals)))]
    except _errors.InvalidArgumentError as e:
        raise ValueError(e.message) from None


@register_op(
    "Range", inputs=["start: Tidx", "limit: Tidx", "delta: Tidx"], outputs=["output: Tidx"],
    attrs={"Tidx": ("type", _dt.int32)}, allowed={"Tidx": (_dt.float32, _dt.float64, _dt.int32, _dt.int64)},
    shape=_range_shape,
)
def _range_kernel(start, limit, delta):
    for what, v in (("start", start), ("limit", limit), ("delta", delta)):
        if np.ndim(v) != 0:
            raise _invalid(f"{what} must be a scalar, not shape {_fmt(np.shape(v))}")
    start, limit, delta = (np.asarray(v)[()] for v in (start, limit, delta))
    n = _range_size(start, limit, delta)
    dtype = np.asarray(start).dtype
    if dtype.kind in "iu":
        return (start + delta * np.arange(n, dtype=dtype)).astype(dtype)
    # TF accumulates `value += delta` in the output type; a running sum in that type gives the same rounding.
    steps = np.full(n, delta, dtype=dtype)
    if n:
        steps[0] = start
    return np.cumsum(steps, dtype=dtype)


@register_static_value("Range")
def _range_static(t):
    vals = [_static(x) for x in t.op.inputs]
    return None if any(v is None for v in vals) else _range_kernel(*vals)


NotDifferentiable("Range")


@tf_export("fill")
def fill(dims, value, name=None) -> _ops.Tensor:
    """A tensor of shape `dims` with every element `value` (of `value`'s dtype)."""
    return apply_op("Fill", [_int_arg(dims), value], name=name).outputs[0]


def _constant_if_small(value, shape, dtype, name):
    """A Const for shapes of fewer than 1000 elements (as TF makes them), else None."""
    try:
        n = np.prod(shape)
    except TypeError:
        return None
    if np.ndim(n) == 0 and n < 1000:
        return constant(value, shape=shape, dtype=dtype, name=name)
    return None


def _filled(shape, value, dtype, name):
    """tf.zeros / tf.ones: a Const for small static shapes, a Fill op otherwise."""
    if not isinstance(shape, _ops.Tensor):
        if isinstance(shape, _shape.TensorShape):
            shape = shape.as_list()
        if not (isinstance(shape, (list, tuple)) and any(_is_tensor_like(s) for s in shape)):
            small = _constant_if_small(value, shape, dtype, name)
            if small is not None:
                return small
        shape = _ops.convert_to_tensor(shape, dtype=_dt.int32 if not _needs_int64(shape) else _dt.int64)
    if shape.shape.ndims == 0:
        shape = reshape(shape, [-1])
    return fill(shape, constant(value, dtype=dtype), name=name)


def _needs_int64(shape) -> bool:
    try:
        return bool(np.any(np.abs(np.asarray(shape, dtype=np.int64)) > np.iinfo(np.int32).max))
    except (TypeError, ValueError):
        return False


@tf_export("zeros")
def zeros(shape, dtype=_dt.float32, name=None) -> _ops.Tensor:
    """A tensor of `shape` (a list, TensorShape or 1-D int tensor) filled with zeros ('' for strings)."""
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "zeros", [shape]) as scope:
        zero = "" if dtype == _dt.string else (False if dtype.is_bool else 0)
        return _filled(shape, zero, dtype, scope)


@tf_export("ones")
def ones(shape, dtype=_dt.float32, name=None) -> _ops.Tensor:
    """A tensor of `shape` (a list, TensorShape or 1-D int tensor) filled with ones."""
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "ones", [shape]) as scope:
        return _filled(shape, True if dtype.is_bool else 1, dtype, scope)


@tf_export("zeros_like")
def zeros_like(tensor, dtype=None, name=None, optimize=True) -> _ops.Tensor:
    """Zeros shaped like `tensor` (of `dtype`, default `tensor`'s)."""
    with _ops.name_scope(name, "zeros_like", [tensor]) as scope:
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        dtype = None if dtype is None else _dt.as_dtype(dtype).base_dtype
        if optimize and tensor.shape.is_fully_defined():
            return zeros(tensor.shape, dtype=dtype or tensor.dtype.base_dtype, name=scope)
        if dtype is not None and dtype != tensor.dtype.base_dtype:
            return zeros(_shape_internal(tensor, None, optimize, _dt.int32), dtype=dtype, name=scope)
        return apply_op("ZerosLike", [tensor], name=scope).outputs[0]


@tf_export("ones_like")
def ones_like(tensor, dtype=None, name=None, optimize=True) -> _ops.Tensor:
    """Ones shaped like `tensor` (of `dtype`, default `tensor`'s)."""
    with _ops.name_scope(name, "ones_like", [tensor]) as scope:
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        dims = _shape_internal(tensor, None, optimize, _dt.int32)
        result = ones(dims, dtype=dtype or tensor.dtype.base_dtype, name=scope)
        result.set_shape(tensor.shape)
        return result


@tf_export("range")
def range(start, limit=None, delta=1, dtype=None, name="range") -> _ops.Tensor:  # noqa: A001
    """`tf.range`: like Python's range; `range(n)` counts from 0; the widest input dtype wins."""
    if limit is None:
        start, limit = 0, start
    with _ops.name_scope(name, "Range", [start, limit, delta]) as scope:
        dtype = None if dtype is None else _dt.as_dtype(dtype)
        vals = [_ops.convert_to_tensor(x, dtype=dtype, name=n) for x, n in
                zip((start, limit, delta), ("start", "limit", "delta"))]
        if dtype is None:
            hierarchy = [_dt.int32, _dt.int64, _dt.float32, _dt.float64]
            widest = max((v.dtype.base_dtype for v in vals), key=hierarchy.index)
            vals = [_cast(v, widest) for v in vals]
        return apply_op("Range", vals, name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Reshape, ExpandDims, Squeeze
# ----------------------------------------------------------------------------------------------------------
def _reshape_dims(n_in, target: list, runtime: bool) -> list:
    """The output dims of reshaping `n_in` elements (None when unknown) to `target`, whose one -1 (or, statically,
    one unknown dim) is inferred. Raises TF's ValueError (static) or InvalidArgumentError (`runtime`)."""
    error = _invalid if runtime else ValueError
    wild = [i for i, d in enumerate(target) if d == -1]
    if len(wild) > 1:
        raise error(f"Only one input size may be -1, not both {wild[0]} and {wild[1]}")
    for i, d in enumerate(target):
        if d is not None and d < -1:
            raise error(f"Size {i} must be non-negative, not {d}")
    missing = [i for i, d in enumerate(target) if d is None or d == -1]
    known = int(np.prod([d for d in target if d is not None and d != -1], dtype=np.int64))
    if n_in is None or len(missing) > 1:
        return [None if d == -1 else d for d in target]
    if not missing:
        if n_in != known:
            raise error(f"Input to reshape is a tensor with {n_in} values, but the requested shape has {known}"
                        if runtime else
                        f"Cannot reshape a tensor with {n_in} elements to shape {_fmt(target)} ({known} elements)")
        return target
    if known == 0 and n_in == 0:
        raise error("Reshape cannot infer the missing input size for an empty tensor unless all specified input "
                    "sizes are non-zero")
    if known == 0 or n_in % known:
        raise error(f"Input to reshape is a tensor with {n_in} values, but the requested shape requires a multiple "
                    f"of {known}" if runtime else f"Dimension size must be evenly divisible by {known} but is {n_in}")
    return [n_in // known if i == missing[0] else d for i, d in enumerate(target)]


def _reshape_shape(op):
    _with_rank(op.inputs[1].shape.as_tuple(), 1)
    value = _static(op.inputs[1])
    if value is not None:
        target = [int(d) for d in np.reshape(value, [-1])]
    else:
        target = _static_dims(op.inputs[1])
        if target is None:
            return _shape.unknown_shape()
    return _reshape_dims(op.inputs[0].shape.num_elements(), list(target), runtime=False)


@register_op(
    "Reshape", inputs=["tensor: T", "shape: Tshape"], outputs=["output: T"], attrs={"Tshape": ("type", _dt.int32)},
    allowed={"Tshape": _INDEX}, shape=_reshape_shape,
)
def _reshape_kernel(x, shape):
    if np.ndim(shape) != 1:
        raise _invalid(f"shape must be a vector, got shape {_fmt(np.shape(shape))}")
    x = np.asarray(x)
    return x.reshape(_reshape_dims(x.size, [int(d) for d in shape], runtime=True))


@register_static_value("Reshape")
def _reshape_static(t):
    v, s = _static(t.op.inputs[0]), _static(t.op.inputs[1])
    return None if v is None or s is None else np.reshape(v, s)


RegisterGradient("Reshape")(_reshape_back_grad)


@tf_export("manip.reshape", "reshape")
def reshape(tensor, shape, name=None) -> _ops.Tensor:  # noqa: A002
    """`tensor`'s elements in row-major order, arranged in `shape` (one dim may be -1: inferred)."""
    return apply_op("Reshape", [tensor, _int_arg(shape)], name=name).outputs[0]


def _expand_dims_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    axis = _static_scalar(op.inputs[1])
    if dims is None:
        return _shape.unknown_shape()
    if axis is None:
        return _shape.unknown_shape(len(dims) + 1)
    if axis < -len(dims) - 1 or axis > len(dims):
        raise ValueError(f"Tried to expand dim index {axis} for tensor with {len(dims)} dimensions.")
    axis = axis % (len(dims) + 1)
    return list(dims[:axis]) + [1] + list(dims[axis:])


@register_op(
    "ExpandDims", inputs=["input: T", "dim: Tdim"], outputs=["output: T"], attrs={"Tdim": ("type", _dt.int32)},
    allowed={"Tdim": _INDEX}, shape=_expand_dims_shape,
)
def _expand_dims_kernel(x, dim):
    if np.size(dim) != 1:
        raise _invalid(f"'dim' must be a tensor with a single value, got shape {_fmt(np.shape(dim))}")
    x, axis = np.asarray(x), int(np.reshape(dim, [-1])[0])
    if axis < -x.ndim - 1 or axis > x.ndim:
        raise _invalid(f"Tried to expand dim index {axis} for tensor with {x.ndim} dimensions.")
    return np.expand_dims(x, axis)


@register_static_value("ExpandDims")
def _expand_dims_static(t):
    v, d = _static(t.op.inputs[0]), _static(t.op.inputs[1])
    return None if v is None or d is None else _expand_dims_kernel(v, d)


RegisterGradient("ExpandDims")(_reshape_back_grad)


@tf_export("expand_dims")
def expand_dims(input, axis=None, name=None, dim=None) -> _ops.Tensor:  # noqa: A002
    """`input` with a dimension of size 1 inserted at `axis` (negative counts from the end)."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return apply_op("ExpandDims", [input, _int_arg(axis)], name=name).outputs[0]


def _squeeze_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    axes = op.get_attr("squeeze_dims")
    if dims is None:
        return _shape.unknown_shape()
    rank = len(dims)
    wanted = set()
    for a in axes:
        if a < -rank or a >= rank:
            raise ValueError(f"Tried to squeeze dim index {a} for tensor with {rank} dimensions.")
        wanted.add(a % rank)
    out = []
    for i, d in enumerate(dims):
        if d is None:
            if i in wanted:
                continue  # assumed 1: the kernel checks
            if not axes:
                return _shape.unknown_shape()
        elif d == 1 and (i in wanted or not axes):
            continue
        elif i in wanted:
            raise ValueError(f"Can not squeeze dim[{i}], expected a dimension of 1, got {d}")
        out.append(d)
    return out


@register_op(
    "Squeeze", inputs=["input: T"], outputs=["output: T"], attrs={"squeeze_dims": ("list(int)", [])},
    shape=_squeeze_shape,
)
def _squeeze_kernel(x, *, squeeze_dims):
    x = np.asarray(x)
    axes = []
    for a in squeeze_dims:
        if a < -x.ndim or a >= x.ndim:
            raise _invalid(f"Tried to squeeze dim index {a} for tensor with {x.ndim} dimensions.")
        a %= x.ndim
        if x.shape[a] != 1:
            raise _invalid(f"Can not squeeze dim[{a}], expected a dimension of 1, got {x.shape[a]}")
        axes.append(a)
    return np.squeeze(x, axis=tuple(axes) if squeeze_dims else None)


@register_static_value("Squeeze")
def _squeeze_static(t):
    v = _static(t.op.inputs[0])
    return None if v is None else _squeeze_kernel(v, squeeze_dims=t.op.get_attr("squeeze_dims"))


RegisterGradient("Squeeze")(_reshape_back_grad)


@tf_export("squeeze")
def squeeze(input, axis=None, name=None, squeeze_dims=None) -> _ops.Tensor:  # noqa: A002
    """`input` without its size-1 dims (only those in `axis`, when given)."""
    if squeeze_dims is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'squeeze_dims'.")
        axis = squeeze_dims
    if axis is None:
        axis = []
    elif np.isscalar(axis) or isinstance(axis, numbers.Integral):
        axis = [axis]
    return apply_op("Squeeze", [input], {"squeeze_dims": [int(a) for a in axis]}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Transpose, InvertPermutation
# ----------------------------------------------------------------------------------------------------------
def _transpose_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    perm_shape = _with_rank(op.inputs[1].shape.as_tuple(), 1)
    perm = _static(op.inputs[1])
    rank = len(dims) if dims is not None else (perm_shape[0] if perm is None else np.size(perm))
    if rank is None:
        return _shape.unknown_shape()
    if perm_shape[0] is not None and dims is not None and perm_shape[0] != len(dims):
        raise ValueError(f"Dimension must be {len(dims)} but is {perm_shape[0]}")
    if perm is None:
        return _shape.unknown_shape(rank)
    perm = [int(p) for p in np.reshape(perm, [-1])]
    for p in perm:
        if p < 0 or p >= rank:
            raise ValueError(f"perm dim {p} is out of range of input rank {rank}")
    if len(set(perm)) != rank:
        raise ValueError(f"Invalid permutation {perm}: each dimension must appear exactly once")
    if dims is None:
        return _shape.unknown_shape(rank)
    return [dims[p] for p in perm]


def _check_perm(x, perm):
    perm = [int(p) for p in np.reshape(perm, [-1])]
    if np.ndim(perm) != 1 or len(perm) != x.ndim:
        raise _invalid(f"transpose expects a vector of size {x.ndim}. But input(1) is a vector of size {len(perm)}")
    for p in perm:
        if not 0 <= p < x.ndim:
            raise _invalid(f"{p} is out of range [0 .. {x.ndim})")
    for d in builtins.range(x.ndim):
        if d not in perm:
            raise _invalid(f"{d} is missing from {{{','.join(str(p) for p in perm)}}}.")
    return perm


@register_op(
    "Transpose", inputs=["x: T", "perm: Tperm"], outputs=["y: T"], attrs={"Tperm": ("type", _dt.int32)},
    allowed={"Tperm": _INDEX}, shape=_transpose_shape,
)
def _transpose_kernel(x, perm):
    x = np.asarray(x)
    return np.transpose(x, _check_perm(x, perm))


@register_op(
    "ConjugateTranspose", inputs=["x: T", "perm: Tperm"], outputs=["y: T"], attrs={"Tperm": ("type", _dt.int32)},
    allowed={"Tperm": _INDEX}, shape=_transpose_shape,
)
def _conjugate_transpose_kernel(x, perm):
    x = np.asarray(x)
    return np.conj(np.transpose(x, _check_perm(x, perm)))


@register_static_value("Transpose")
def _transpose_static(t):
    v, p = _static(t.op.inputs[0]), _static(t.op.inputs[1])
    return None if v is None or p is None else _transpose_kernel(v, p)


@RegisterGradient("Transpose")
def _transpose_grad(op, grad):
    return [transpose(_dense(grad), invert_permutation(op.inputs[1])), None]


@RegisterGradient("ConjugateTranspose")
def _conjugate_transpose_grad(op, grad):
    return [transpose(_dense(grad), invert_permutation(op.inputs[1]), conjugate=True), None]


@tf_export("transpose")
def transpose(a, perm=None, name="transpose", conjugate=False) -> _ops.Tensor:
    """`a` with its dimensions permuted by `perm` (default: reversed); `conjugate` also conjugates complex values."""
    with _ops.name_scope(name, "transpose", [a]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        op_type = "ConjugateTranspose" if conjugate and a.dtype.is_complex else "Transpose"
        if perm is not None:
            return apply_op(op_type, [a, _int_arg(perm)], name=scope).outputs[0]
        rank_ = a.shape.ndims
        if rank_:
            perm = np.arange(rank_ - 1, -1, -1, dtype=np.int32)
        else:
            r = rank(a)
            perm = _binary("Sub", r - 1, range(0, r, 1))
        result = apply_op(op_type, [a, perm], name=scope).outputs[0]
        if a.shape.ndims is not None:
            result.set_shape(a.shape.as_tuple()[::-1])
        return result


@register_op("InvertPermutation", inputs=["x: T"], outputs=["y: T"], attrs={"T": ("type", _dt.int32)},
             allowed={"T": _INDEX}, shape=lambda op: _with_rank(op.inputs[0].shape.as_tuple(), 1))
def _invert_permutation_kernel(x):
    if np.ndim(x) != 1:
        raise _invalid(f"invert_permutation expects a 1D vector, got shape {_fmt(np.shape(x))}")
    n = len(x)
    out = np.full(n, -1, dtype=x.dtype)
    for i, d in enumerate(x):
        if d < 0 or d >= n:
            raise _invalid(f"{d} is not between 0 and {n}")
        if out[d] != -1:
            raise _invalid(f"{d} is duplicated in the input.")
        out[d] = i
    return out


@register_static_value("InvertPermutation")
def _invert_permutation_static(t):
    v = _static(t.op.inputs[0])
    return None if v is None else _invert_permutation_kernel(np.asarray(v))


NotDifferentiable("InvertPermutation")


@tf_export("invert_permutation", "math.invert_permutation")
def invert_permutation(x, name=None) -> _ops.Tensor:
    """The inverse permutation: y[x[i]] = i."""
    return apply_op("InvertPermutation", [x], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Broadcasting: BroadcastTo, BroadcastArgs, and a broadcast gradient reduced back to its operand
# ----------------------------------------------------------------------------------------------------------
def _stretched_axes(x: _shape.TensorShape, others: list, out_rank: int):
    """The output axes along which broadcasting stretched an operand of static shape `x` against `others`,
    when static shapes decide it (unknown dims included: an axis x lacks is stretched; a known dim > 1 is not;
    an unknown or 1 dim is not stretched where no other operand has a dim other than 1 there); else None."""
    xd = x.as_tuple()
    if xd is None or any(o.ndims is None for o in others):
        return None
    axes = []
    for i in builtins.range(out_rank):
        j = i - (out_rank - len(xd))
        if j < 0:
            axes.append(i)
            continue
        if xd[j] is not None and xd[j] != 1:
            continue
        other_dims = [o.as_tuple()[i - (out_rank - o.ndims)] for o in others if i - (out_rank - o.ndims) >= 0]
        if all(d == 1 for d in other_dims):
            continue
        if xd[j] == 1 and all(d is not None for d in other_dims):
            axes.append(i)
            continue
        return None
    return axes


def _reduce_to_shape(grad: _ops.Tensor, x: _ops.Tensor, others: list | None = None) -> _ops.Tensor:
    """`grad`, shaped like a broadcast of `x` with `others`, summed back down to the shape of `x`: with
    static axes when shapes decide them (e.g. a bias gradient is one Sum over the batch axis, the other
    operand's gradient passes through), else with BroadcastGradientArgs at run time."""
    if others is not None and grad.shape.ndims is not None:
        axes = _stretched_axes(x.shape, [o.shape for o in others], grad.shape.ndims)
        if axes is not None:
            lead = grad.shape.ndims - x.shape.ndims
            inner = [a for a in axes if a >= lead]
            out = _reduce("Sum", grad, np.asarray(inner, dtype=np.int32), keepdims=True) if inner else grad
            leading = [a for a in axes if a < lead]
            return _reduce("Sum", out, np.asarray(leading, dtype=np.int32)) if leading else out

    xs, gs = x.shape, grad.shape
    if xs.is_fully_defined() and gs.is_fully_defined():
        xd, gd = xs.as_list(), gs.as_list()
        if xd == gd:
            return grad
        lead = len(gd) - len(xd)
        axes = list(builtins.range(lead)) + [lead + i for i, d in enumerate(xd) if d == 1 and gd[lead + i] != 1]
        out = _reduce("Sum", grad, np.asarray(axes, dtype=np.int32)) if axes else grad
        return out if out.shape.as_list() == xd else reshape(out, np.asarray(xd, dtype=np.int32))
    sx = shape(x)
    rx, _ = broadcast_gradient_args(sx, shape(grad))
    return reshape(_reduce("Sum", grad, rx), sx)


# BroadcastGradientArgs: the axes along which each operand of a broadcast was stretched
@register_op(
    "BroadcastGradientArgs",
    inputs=["s0: T", "s1: T"],
    outputs=["r0: T", "r1: T"],
    attrs={"T": ("type", _dt.int32)},
    allowed={"T": _INDEX},
    shape=lambda op: [_shape.TensorShape([None]), _shape.TensorShape([None])],
)
def _broadcast_gradient_args(s0, s1):
    a, b = [int(d) for d in np.reshape(s0, [-1])], [int(d) for d in np.reshape(s1, [-1])]
    n = max(len(a), len(b))
    pa, pb = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    for da, db in zip(pa, pb):
        if da != db and da != 1 and db != 1:
            raise _invalid(f"Incompatible shapes: [{','.join(map(str, a))}] vs. [{','.join(map(str, b))}]")
    # As in TF, a dim where both are 1 is listed for both: summing over it changes nothing.
    dtype = np.asarray(s0).dtype
    return (np.asarray([i for i in builtins.range(n) if pa[i] == 1], dtype=dtype),
            np.asarray([i for i in builtins.range(n) if pb[i] == 1], dtype=dtype))


@register_static_value("BroadcastGradientArgs")
def _broadcast_gradient_args_static(t):
    a, b = _reg.constant_value(t.op.inputs[0]), _reg.constant_value(t.op.inputs[1])
    return None if a is None or b is None else _broadcast_gradient_args(np.asarray(a), np.asarray(b))[t.value_index]


NotDifferentiable("BroadcastGradientArgs")


def broadcast_gradient_args(s0, s1, name=None) -> tuple[_ops.Tensor, _ops.Tensor]:
    """The reduction axes (r0, r1) that sum a broadcast result's gradient back to shapes `s0` and `s1`."""
    op = apply_op("BroadcastGradientArgs", [s0, s1], name=name)
    return op.outputs[0], op.outputs[1]


def _broadcast_concrete(a, b) -> list:
    """The NumPy broadcast of two run-time shapes, or TF's InvalidArgumentError."""
    try:
        return shape_fns.broadcast_dims(a, b)
    except ValueError:
        raise _invalid(f"Incompatible shapes: {_fmt(a)} vs. {_fmt(b)}") from None


def _broadcast_to_shape(op):
    target = _static_dims(op.inputs[1])
    dims = op.inputs[0].shape.as_tuple()
    if target is None:
        return _shape.unknown_shape()
    if dims is not None:
        if len(dims) > len(target):
            raise ValueError(f"Rank of input ({len(dims)}) must be no greater than rank of output shape "
                             f"({len(target)}).")
        for d, t in zip(dims[::-1], target[::-1]):
            if d is not None and t is not None and d != 1 and d != t:
                raise ValueError(f"Incompatible shapes: {_fmt(dims)} vs. {_fmt(target)}")
    return target


@register_op(
    "BroadcastTo", inputs=["input: T", "shape: Tidx"], outputs=["output: T"], attrs={"Tidx": ("type", _dt.int32)},
    allowed={"Tidx": _INDEX}, shape=_broadcast_to_shape,
)
def _broadcast_to_kernel(x, shape):
    x = np.asarray(x)
    target = [int(d) for d in shape]
    if x.ndim > len(target) or _broadcast_concrete(x.shape, target) != target:
        raise _invalid(f"Incompatible shapes: {_fmt(x.shape)} vs. {_fmt(target)}")
    # A copy, not NumPy's read-only zero-stride view: the output is a tensor of its own.
    return np.array(np.broadcast_to(x, target))


@RegisterGradient("BroadcastTo")
def _broadcast_to_grad(op, grad):
    return [_reduce_to_shape(_dense(grad), op.inputs[0]), None]


@tf_export("broadcast_to")
def broadcast_to(input, shape, name=None) -> _ops.Tensor:  # noqa: A002
    """`input` broadcast (NumPy rules) to `shape`."""
    return apply_op("BroadcastTo", [input, _int_arg(shape)], name=name).outputs[0]


def _vector_shape(op):
    for t in op.inputs:
        _with_rank(t.shape.as_tuple(), 1)
    return [None]


@register_op("BroadcastArgs", inputs=["s0: T", "s1: T"], outputs=["r0: T"], attrs={"T": ("type", _dt.int32)},
             allowed={"T": _INDEX}, shape=_vector_shape)
def _broadcast_args_kernel(s0, s1):
    return np.asarray(_broadcast_concrete([int(d) for d in s0], [int(d) for d in s1]), dtype=s0.dtype)


@register_static_value("BroadcastArgs")
def _broadcast_args_static(t):
    a, b = _static(t.op.inputs[0]), _static(t.op.inputs[1])
    return None if a is None or b is None else _broadcast_args_kernel(np.asarray(a), np.asarray(b))


NotDifferentiable("BroadcastArgs")


@tf_export("broadcast_dynamic_shape")
def broadcast_dynamic_shape(shape_x, shape_y) -> _ops.Tensor:
    """The broadcast of two 1-D shape tensors, as a tensor."""
    return apply_op("BroadcastArgs", [shape_x, shape_y]).outputs[0]


@tf_export("broadcast_static_shape")
def broadcast_static_shape(shape_x, shape_y) -> _shape.TensorShape:
    """The broadcast of two TensorShapes; raises ValueError if they are incompatible."""
    shape_x, shape_y = _shape.as_shape(shape_x), _shape.as_shape(shape_y)
    try:
        return shape_fns.broadcast_static(shape_x, shape_y)
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: {shape_x} and {shape_y}") from None



# ----------------------------------------------------------------------------------------------------------
# Pack, Unpack
# ----------------------------------------------------------------------------------------------------------
def _pack_shape(op):
    dims = None
    for t in op.inputs:
        dims = _merge(dims, t.shape.as_tuple())
    if dims is None:
        return _shape.unknown_shape()
    axis = _check_axis(op.get_attr("axis"), len(dims) + 1)
    return list(dims[:axis]) + [len(op.inputs)] + list(dims[axis:])


@register_op(
    "Pack", inputs=["values: N * T"], outputs=["output: T"], attrs={"axis": ("int", 0)}, shape=_pack_shape
)
def _pack_kernel(*values, axis):
    values = [np.asarray(v) for v in values]
    for i, v in enumerate(values[1:], 1):
        if v.shape != values[0].shape:
            raise _invalid(f"Shapes of all inputs must match: values[0].shape = {_fmt(values[0].shape)} != "
                           f"values[{i}].shape = {_fmt(v.shape)}")
    return np.stack(values, axis=axis)


@register_static_value("Pack")
def _pack_static(t):
    vals = [_static(x) for x in t.op.inputs]
    if any(v is None for v in vals):
        return None
    return np.stack(vals, axis=t.op.get_attr("axis")).astype(t.dtype.as_numpy_dtype)


@register_static_shape("Pack")
def _pack_static_shape(t):
    dims = []
    for x in t.op.inputs:
        v = _static_scalar(x) if x.shape.ndims == 0 else None
        dims.append(None if v is None or v == -1 else v)
    return dims


_reg.attr_minimum("Pack", "N", 1)


@RegisterGradient("Pack")
def _pack_grad(op, grad):
    return unstack(_dense(grad), num=op.get_attr("N"), axis=op.get_attr("axis"))


@tf_export("stack")
def stack(values, axis=0, name="stack") -> _ops.Tensor:
    """Packs a list of rank-R tensors into one rank-(R+1) tensor along `axis`."""
    if axis == 0:
        try:
            # A list of constants becomes one constant; a list holding tensors becomes one Pack.
            return _ops.convert_to_tensor(values, name=name)
        except (TypeError, ValueError):
            pass
    dims = _ops.convert_to_tensor(values[0], name=name).shape.as_tuple()
    if dims is not None:
        _check_axis(axis, len(dims) + 1)
    return apply_op("Pack", [list(values)], {"axis": int(axis)}, name=name).outputs[0]


def _unpack_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    num = op.get_attr("num")
    if dims is None:
        return [_shape.unknown_shape()] * num
    axis = _check_axis(op.get_attr("axis"), len(dims))
    if dims[axis] is not None and dims[axis] != num:
        raise ValueError(f"Dimension must be {num} but is {dims[axis]}")
    return [list(dims[:axis]) + list(dims[axis + 1:])] * num


@register_op(
    "Unpack", inputs=["value: T"], outputs=["output: num * T"], attrs={"num": ("int", _reg.REQUIRED),
                                                                    "axis": ("int", 0)},
    shape=_unpack_shape,
)
def _unpack_kernel(x, *, num, axis):
    x = np.asarray(x)
    if axis < -x.ndim or axis >= x.ndim:
        raise _invalid(f"axis = {axis} not in [{-x.ndim}, {x.ndim})")
    axis %= x.ndim
    if x.shape[axis] != num:
        raise _invalid(f"Input shape axis {axis} must equal {num}, got shape {_fmt(x.shape)}")
    moved = np.moveaxis(x, axis, 0)
    return [_as_array(moved[i], x.dtype) for i in builtins.range(num)]


_reg.attr_minimum("Unpack", "num", 0)


@RegisterGradient("Unpack")
def _unpack_grad(op, *grads):
    grads = [_dense(g) if g is not None else zeros_like(t) for g, t in zip(grads, op.outputs)]
    return stack(grads, axis=op.get_attr("axis"))


@tf_export("unstack")
def unstack(value, num=None, axis=0, name="unstack") -> list:
    """Splits `value` along `axis` into a list of `num` tensors of one rank less."""
    if num is None:
        value = _ops.convert_to_tensor(value)
        dims = value.shape.as_tuple()
        if dims is not None:
            num = dims[_check_axis(axis, len(dims))]
        if num is None:
            raise ValueError(f"Cannot infer num from shape {value.shape}")
    return apply_op("Unpack", [value], {"num": int(num), "axis": int(axis)}, name=name).outputs


# ----------------------------------------------------------------------------------------------------------
# ConcatV2, Split, SplitV
# ----------------------------------------------------------------------------------------------------------
def _concat_axis_error(axis, rank) -> str:
    return f"ConcatOp : Expected concatenating dimensions in the range [{-rank}, {rank}), but got {axis}"


def _concat_shape(op):
    values = op.inputs[:-1]
    _with_rank(op.inputs[-1].shape.as_tuple(), 0)
    all_dims = [t.shape.as_tuple() for t in values]
    rank = next((len(d) for d in all_dims if d is not None), None)
    if rank is None:
        return _shape.unknown_shape()
    if rank == 0:
        raise ValueError("Can't concatenate scalars (use tf.stack instead)")
    for d in all_dims:
        if d is not None and len(d) != rank:
            raise ValueError(f"Shape must be rank {rank} but is rank {len(d)}")
    axis = _static_scalar(op.inputs[-1])
    if axis is None:
        return _shape.unknown_shape(rank)
    if axis < -rank or axis >= rank:
        raise ValueError(_concat_axis_error(axis, rank))
    axis %= rank
    total, merged = 0, (None,) * rank
    for d in all_dims:
        if d is None:
            total = None
            continue
        total = None if total is None or d[axis] is None else total + d[axis]
        merged = _merge(merged, d[:axis] + (None,) + d[axis + 1:])
    return list(merged[:axis]) + [total] + list(merged[axis + 1:])


@register_op(
    "ConcatV2", inputs=["values: N * T", "axis: Tidx"], outputs=["output: T"],
    attrs={"Tidx": ("type", _dt.int32)}, allowed={"Tidx": _INDEX}, shape=_concat_shape,
)
def _concat_kernel(*args):
    values, axis = [np.asarray(v) for v in args[:-1]], int(args[-1])
    first = values[0]
    rank = first.ndim
    if not (-rank <= axis < rank):
        raise _invalid(_concat_axis_error(axis, rank))
    axis %= rank
    for i, v in enumerate(values[1:], 1):
        if v.ndim != rank:
            raise _invalid(f"ConcatOp : Ranks of all input tensors should match: shape[0] = {_fmt(first.shape)} vs. "
                           f"shape[{i}] = {_fmt(v.shape)}")
        if v.shape[:axis] != first.shape[:axis] or v.shape[axis + 1:] != first.shape[axis + 1:]:
            raise _invalid(f"ConcatOp : Dimensions of inputs should match: shape[0] = {_fmt(first.shape)} vs. "
                           f"shape[{i}] = {_fmt(v.shape)}")
    return np.concatenate(values, axis=axis)


def _concat_offset_shape(op):
    op.inputs[0].shape.with_rank(0)
    return [t.shape.with_rank(1) for t in op.inputs[1:]]


@register_op("ConcatOffset", inputs=["concat_dim: int32", "shape: N * shape_type"],
             outputs=["offset: N * shape_type"], attrs={"shape_type": ("type", _dt.int32)},
             allowed={"shape_type": _INDEX}, shape=_concat_offset_shape)
def _concat_offset_kernel(concat_dim, *shapes):
    """Where each input of a concatenation along `concat_dim` starts in its output (TF's concat gradient)."""
    first = np.asarray(shapes[0])
    rank = first.size
    axis = int(concat_dim)
    if not (-rank <= axis < rank):
        raise _invalid(f"Concat dim is out of range: {axis} vs. {rank}")
    axis %= rank
    offsets, start = [], 0
    for i, s in enumerate(shapes):
        s = np.asarray(s)
        if s.shape != first.shape:
            raise _invalid(f"input {i} should contain {rank} elements, but got {s.size}")
        other = np.arange(rank) != axis
        if np.any(s[other] != first[other]):
            raise _invalid(f"All dimensions except {axis} must match. Input {i} has shape [{' '.join(map(str, s))}] "
                           f"and doesn't match input 0 with shape [{' '.join(map(str, first))}].")
        off = np.zeros(rank, dtype=first.dtype)
        off[axis] = start
        offsets.append(off)
        start += int(s[axis])
    return offsets


_reg.attr_minimum("ConcatOffset", "N", 2)
NotDifferentiable("ConcatOffset")


@register_static_value("ConcatV2")
def _concat_static(t):
    vals = [_static(x) for x in t.op.inputs]
    if any(v is None for v in vals):
        return None
    return _concat_kernel(*vals).astype(t.dtype.as_numpy_dtype)


@register_static_shape("ConcatV2")
def _concat_static_shape(t):
    dims = []
    for x in t.op.inputs[:-1]:
        part = _static_dims(x)
        if part is None:
            return None
        dims.extend(part)
    return dims


_reg.attr_minimum("ConcatV2", "N", 2)


@RegisterGradient("ConcatV2")
def _concat_grad(op, grad):
    values, axis = op.inputs[:-1], op.inputs[-1]
    grad = _dense(grad)
    if len(values) == 1:
        return [grad, None]
    static_axis = _static_scalar(axis)
    ranks = {v.shape.ndims for v in values}
    sizes = None
    if static_axis is not None and len(ranks) == 1 and None not in ranks:
        r = ranks.pop()
        along = [v.shape.as_tuple()[static_axis % r] for v in values]
        if None not in along:
            sizes = np.asarray(along, dtype=np.int32)
    if sizes is None:
        index = _binary("FloorMod", _cast(axis, _dt.int32), rank(values[0]))
        sizes = stack([gather(s, index) for s in shape_n(values)])
    return split(grad, sizes, axis=_cast(axis, _dt.int32), num=len(values)) + [None]


@tf_export("concat")
def concat(values, axis, name="concat") -> _ops.Tensor:
    """Joins tensors along dimension `axis` (negative counts from the end)."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:
        with _ops.name_scope(name) as scope:
            _ops.convert_to_tensor(axis, name="concat_dim", dtype=_dt.int32).shape.assert_has_rank(0)
            return identity(values[0], name=scope)
    return apply_op("ConcatV2", [list(values), _int_arg(axis)], name=name).outputs[0]


def _split_shape(op):
    num = op.get_attr("num_split")
    dims = op.inputs[1].shape.as_tuple()
    axis = _static_scalar(op.inputs[0])
    if dims is None:
        return [_shape.unknown_shape()] * num
    if axis is None:
        return [_shape.unknown_shape(len(dims))] * num
    axis = _check_axis(axis, len(dims), "split_dim")
    d = dims[axis]
    if d is not None and d % num:
        raise ValueError(f"Dimension size must be evenly divisible by {num} but is {d}")
    piece = None if d is None else d // num
    return [list(dims[:axis]) + [piece] + list(dims[axis + 1:])] * num


@register_op(
    "Split", inputs=["split_dim: int32", "value: T"], outputs=["output: num_split * T"],
    attrs={"num_split": ("int", _reg.REQUIRED)}, shape=_split_shape,
)
def _split_kernel(split_dim, x, *, num_split):
    x, axis = np.asarray(x), int(split_dim)
    if not -x.ndim <= axis < x.ndim:
        raise _invalid(f"-input rank(-{x.ndim}) <= split_dim < input rank ({x.ndim}), but got {axis}")
    axis %= x.ndim
    if x.shape[axis] % num_split:
        raise _invalid(f"Number of ways to split should evenly divide the split dimension, but got split_dim {axis} "
                       f"(size = {x.shape[axis]}) and num_split {num_split}")
    return np.split(x, num_split, axis=axis)


_reg.attr_minimum("Split", "num_split", 1)


@RegisterGradient("Split")
def _split_grad(op, *grads):
    grads = [_dense(g) if g is not None else zeros_like(t) for g, t in zip(grads, op.outputs)]
    return [None, concat(grads, op.inputs[0])]


def _resolve_size_splits(sizes: list, dim, error) -> list:
    """size_splits with its one -1 resolved against the split dimension `dim` (None entries stay unknown)."""
    wild = [i for i, s in enumerate(sizes) if s == -1]
    if len(wild) > 1:
        raise error(f"Only one dimensions can have a value of -1. Second one found at dimension {wild[1]}")
    known = sum(s for s in sizes if s != -1)
    if dim is None:
        return [None if s == -1 else s for s in sizes]
    if (not wild and known != dim) or (wild and known > dim):
        raise error("Determined shape must either match input shape along split_dim exactly if fully specified, or "
                    f"be less than the size of the input along split_dim if not fully specified.  Got: {known}")
    return [dim - known if s == -1 else s for s in sizes]


def _split_v_shape(op):
    num = op.get_attr("num_split")
    dims = op.inputs[0].shape.as_tuple()
    axis = _static_scalar(op.inputs[2])
    sizes = _static(op.inputs[1])
    if dims is None:
        return [_shape.unknown_shape()] * num
    if axis is None:
        return [_shape.unknown_shape(len(dims))] * num
    axis = _check_axis(axis, len(dims), "split_dim")
    if sizes is None:
        pieces = [None] * num
    else:
        sizes = [int(s) for s in np.reshape(sizes, [-1])]
        if len(sizes) != num:
            raise ValueError(f"Dimension must be {num} but is {len(sizes)}")
        pieces = _resolve_size_splits(sizes, dims[axis], ValueError)
    return [list(dims[:axis]) + [p] + list(dims[axis + 1:]) for p in pieces]


@register_op(
    "SplitV", inputs=["value: T", "size_splits: Tlen", "split_dim: int32"], outputs=["output: num_split * T"],
    attrs={"num_split": ("int", _reg.REQUIRED), "Tlen": ("type", _dt.int64)}, allowed={"Tlen": _INDEX},
    shape=_split_v_shape,
)
def _split_v_kernel(x, size_splits, split_dim, *, num_split):
    x, axis = np.asarray(x), int(split_dim)
    if not -x.ndim <= axis < x.ndim:
        raise _invalid(f"-input rank(-{x.ndim}) <= split_dim < input rank ({x.ndim}), but got {axis}")
    axis %= x.ndim
    sizes = [int(s) for s in np.reshape(size_splits, [-1])]
    if len(sizes) != num_split:
        raise _invalid(f"Number of ways to split should match the number of size_splits: {num_split} vs. "
                       f"{len(sizes)}")
    sizes = _resolve_size_splits(sizes, x.shape[axis], _invalid)
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


_reg.attr_minimum("SplitV", "num_split", 1)


@RegisterGradient("SplitV")
def _split_v_grad(op, *grads):
    grads = [_dense(g) if g is not None else zeros_like(t) for g, t in zip(grads, op.outputs)]
    return [concat(grads, op.inputs[2]), None, None]


@tf_export("split")
def split(value, num_or_size_splits, axis=0, num=None, name="split") -> list:
    """Splits `value` along `axis` into `num_or_size_splits` equal pieces, or pieces of the given sizes."""
    if isinstance(num_or_size_splits, (numbers.Integral, _shape.Dimension)) and not isinstance(
            num_or_size_splits, bool):
        n = int(_shape.dimension_value(num_or_size_splits))
        return apply_op("Split", [axis, value], {"num_split": n}, name=name).outputs
    size_splits = _ops.convert_to_tensor(num_or_size_splits)
    if size_splits.shape.ndims == 0:
        raise ValueError("Rank-0 tensors are not supported as the num_or_size_splits argument to split. Argument "
                         f"provided: {num_or_size_splits}")
    if num is None:
        dims = size_splits.shape.as_tuple()
        num = dims[0] if dims else None
        if num is None:
            raise ValueError(f"Cannot infer num from shape {num_or_size_splits}")
    return apply_op("SplitV", [value, size_splits, axis], {"num_split": int(num)}, name=name).outputs


# ----------------------------------------------------------------------------------------------------------
# Tile, Pad, MirrorPad, ReverseV2
# ----------------------------------------------------------------------------------------------------------
def _tile_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    m_len = _with_rank(op.inputs[1].shape.as_tuple(), 1)[0]
    rank = len(dims) if dims is not None else m_len
    if rank is None:
        return _shape.unknown_shape()
    dims = _with_rank(dims, rank)
    if m_len is not None and m_len != rank:
        raise ValueError(f"Shape must be rank {m_len} but is rank {rank}")
    mult = _static(op.inputs[1])
    if mult is None:
        known = _static_dims(op.inputs[1])
        mult = known if known is not None else (None,) * rank
    mult = [None if m is None else int(m) for m in np.reshape(np.asarray(mult, dtype=object), [-1])]
    for i, m in enumerate(mult):
        if m is not None and m < 0:
            raise ValueError(f"Expected multiples[{i}] >= 0, but got {m}")
    return [None if d is None or m is None else d * m for d, m in zip(dims, mult)]


@register_op(
    "Tile", inputs=["input: T", "multiples: Tmultiples"], outputs=["output: T"],
    attrs={"Tmultiples": ("type", _dt.int32)}, allowed={"Tmultiples": _INDEX}, shape=_tile_shape,
)
def _tile_kernel(x, multiples):
    x = np.asarray(x)
    if np.ndim(multiples) != 1 or len(multiples) != x.ndim:
        raise _invalid(f"Expected multiples argument to be a vector of length {x.ndim} but got length "
                       f"{np.size(multiples)}")
    for i, m in enumerate(multiples):
        if m < 0:
            raise _invalid(f"Expected multiples[{i}] >= 0, but got {m}")
    return np.tile(x, [int(m) for m in multiples]) if x.ndim else x.copy()


@RegisterGradient("Tile")
def _tile_grad(op, grad):
    x, multiples = op.inputs
    # Interleave [m0, d0, m1, d1, ...]: each input element's copies then lie along the even axes.
    x_shape = _shape_tensor(x, multiples.dtype)
    split_shape = reshape(stack([multiples, x_shape], axis=1), [-1])
    axes = range(0, size(split_shape), 2)
    x_grad = _reduce("Sum", reshape(_dense(grad), split_shape), axes)
    x_grad.set_shape(x.shape)
    return [x_grad, None]


@tf_export("manip.tile", "tile")
def tile(input, multiples, name=None) -> _ops.Tensor:  # noqa: A002
    """`input` repeated `multiples[i]` times along each dimension i."""
    return apply_op("Tile", [input, _int_arg(multiples)], name=name).outputs[0]


def _padded_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    p_dims = _with_rank(op.inputs[1].shape.as_tuple(), 2)
    if p_dims[1] is not None and p_dims[1] != 2:
        raise ValueError(f"Dimension must be 2 but is {p_dims[1]}")
    rank = len(dims) if dims is not None else p_dims[0]
    if rank is None:
        return _shape.unknown_shape()
    if p_dims[0] is not None and p_dims[0] != rank:
        raise ValueError(f"Shape must be rank {p_dims[0]} but is rank {rank}")
    dims = _with_rank(dims, rank)
    pads = _static(op.inputs[1])
    if pads is None:
        return _shape.unknown_shape(rank)
    pads = np.reshape(pads, [rank, 2])
    if np.any(pads < 0):
        raise ValueError(f"Paddings must be non-negative: {pads.min()}")
    mode = op.get_attr("mode") if "mode" in op._attrs else b"CONSTANT"
    offset = {b"REFLECT": 1, b"SYMMETRIC": 0}.get(_mode_bytes(mode))
    out = []
    for d, (before, after) in zip(dims, pads):
        if d is not None and offset is not None and (before > d - offset or after > d - offset):
            raise ValueError(f"Paddings must be no greater than the dimension size: {before}, {after} greater than "
                             f"{d - offset}")
        out.append(None if d is None else d + int(before) + int(after))
    return out


def _mode_bytes(mode) -> bytes:
    return mode if isinstance(mode, bytes) else str(mode).encode()


def _check_paddings(x, paddings):
    if np.ndim(paddings) != 2 or np.shape(paddings)[1] != 2 or np.shape(paddings)[0] != x.ndim:
        raise _invalid(f"The first dimension of paddings must be the rank of inputs{_fmt(np.shape(paddings))} "
                       f"{_fmt(x.shape)}")
    if np.any(paddings < 0):
        bad = np.argwhere(paddings < 0)[0][0]
        raise _invalid(f"Paddings must be non-negative: {paddings[bad][0]} {paddings[bad][1]}")
    return [(int(a), int(b)) for a, b in paddings]


def _pad_constant(x, paddings, value):
    x = np.asarray(x)
    pads = _check_paddings(x, paddings)
    out = np.full([d + a + b for d, (a, b) in zip(x.shape, pads)], value, dtype=x.dtype)
    out[tuple(builtins.slice(a, a + d) for d, (a, _) in zip(x.shape, pads))] = x
    return out


@register_op(
    "Pad", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
    attrs={"Tpaddings": ("type", _dt.int32)}, allowed={"Tpaddings": _INDEX}, shape=_padded_shape,
)
def _pad_kernel(x, paddings):
    x = np.asarray(x)
    return _pad_constant(x, paddings, b"" if x.dtype == object else 0)


@register_op(
    "PadV2", inputs=["input: T", "paddings: Tpaddings", "constant_values: T"], outputs=["output: T"],
    attrs={"Tpaddings": ("type", _dt.int32)}, allowed={"Tpaddings": _INDEX}, shape=_padded_shape,
)
def _pad_v2_kernel(x, paddings, constant_values):
    if np.ndim(constant_values) != 0:
        raise _invalid(f"constant_values must be a scalar. Got: {_fmt(np.shape(constant_values))}")
    return _pad_constant(x, paddings, constant_values)


def _pad_grad(op, grad):
    x, paddings = op.inputs[0], op.inputs[1]
    begin = reshape(slice(paddings, [0, 0], [-1, 1]), [-1])
    x_grad = slice(_dense(grad), begin, _shape_tensor(x, paddings.dtype))
    return [x_grad] + [None] * (len(op.inputs) - 1)


RegisterGradient("Pad")(_pad_grad)
RegisterGradient("PadV2")(_pad_grad)


def _mirror_indices(n: int, before: int, after: int, mode: bytes) -> np.ndarray:
    """For each position of a mirror-padded axis of length n, the input position it copies."""
    return np.pad(np.arange(n), (before, after), mode="reflect" if mode == b"REFLECT" else "symmetric")


def _mirror_pads(x, paddings, mode):
    pads = _check_paddings(x, paddings)
    offset = 1 if mode == b"REFLECT" else 0
    for d, (a, b) in zip(x.shape, pads):
        if a > d - offset or b > d - offset:
            if offset:
                raise _invalid(f"paddings must be less than the dimension size: {a}, {b} not less than {d}")
            raise _invalid(f"paddings must be no greater than the dimension size: {a}, {b} greater than {d}")
    return pads


@register_op(
    "MirrorPad", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
    attrs={"Tpaddings": ("type", _dt.int32), "mode": ("string", _reg.REQUIRED)}, allowed={"Tpaddings": _INDEX},
    shape=_padded_shape,
)
def _mirror_pad_kernel(x, paddings, *, mode):
    x, mode = np.asarray(x), _mode_bytes(mode)
    pads = _mirror_pads(x, paddings, mode)
    index = np.ix_(*[_mirror_indices(d, a, b, mode) for d, (a, b) in zip(x.shape, pads)])
    return x[index] if x.ndim else x.copy()


def _mirror_pad_grad_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    pads = _static(op.inputs[1])
    if dims is None or pads is None:
        return _shape.unknown_shape(None if dims is None else len(dims))
    pads = np.reshape(pads, [len(dims), 2])
    return [None if d is None else d - int(a) - int(b) for d, (a, b) in zip(dims, pads)]


@register_op(
    "MirrorPadGrad", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
    attrs={"Tpaddings": ("type", _dt.int32), "mode": ("string", _reg.REQUIRED)}, allowed={"Tpaddings": _INDEX},
    shape=_mirror_pad_grad_shape,
)
def _mirror_pad_grad_kernel(dy, paddings, *, mode):
    """Folds the gradient of MirrorPad back: each padded position adds into the input position it copied."""
    out, mode = np.asarray(dy), _mode_bytes(mode)
    pads = [(int(a), int(b)) for a, b in np.reshape(paddings, [-1, 2])]
    for axis, (a, b) in enumerate(pads):
        n = out.shape[axis] - a - b
        folded = np.zeros(out.shape[:axis] + (n,) + out.shape[axis + 1:], dtype=out.dtype)
        np.add.at(folded, (builtins.slice(None),) * axis + (_mirror_indices(n, a, b, mode),), out)
        out = folded
    return out


@RegisterGradient("MirrorPad")
def _mirror_pad_grad(op, grad):
    mode = op.get_attr("mode")
    return [apply_op("MirrorPadGrad", [_dense(grad), op.inputs[1]], {"mode": mode}).outputs[0], None]


@RegisterGradient("MirrorPadGrad")
def _mirror_pad_grad_grad(op, grad):
    mode = op.get_attr("mode")
    return [apply_op("MirrorPad", [_dense(grad), op.inputs[1]], {"mode": mode}).outputs[0], None]


@tf_export("pad")
def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0) -> _ops.Tensor:
    """Pads `tensor` by `paddings` ([rank, 2]: before/after per dim) in mode CONSTANT, REFLECT or SYMMETRIC."""
    mode = str(mode).upper()
    paddings = _int_arg(paddings)
    if mode == "CONSTANT":
        if not _is_tensor_like(constant_values) and np.all(np.asarray(constant_values) == 0) and not isinstance(
                constant_values, (str, bytes)):
            return apply_op("Pad", [tensor, paddings], name=name).outputs[0]
        return apply_op("PadV2", [tensor, paddings, constant_values], name=name).outputs[0]
    if mode in ("REFLECT", "SYMMETRIC"):
        return apply_op("MirrorPad", [tensor, paddings], {"mode": mode.encode()}, name=name).outputs[0]
    raise ValueError(f"Unknown padding mode: {mode}")


def _reverse_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    _with_rank(op.inputs[1].shape.as_tuple(), 1)
    axes = _static(op.inputs[1])
    if dims is not None and axes is not None:
        _reverse_axes(len(dims), axes, ValueError)
    return op.inputs[0].shape


def _reverse_axes(rank: int, axes, error) -> tuple:
    seen = set()
    for a in np.reshape(axes, [-1]):
        a = int(a)
        if a < -rank or a >= rank:
            raise error(f"'axis'[{len(seen)}] = {a} is out of valid range [0, {rank - 1}")
        if a % rank in seen:
            raise error(f"axis {a % rank} specified more than once.")
        seen.add(a % rank)
    return tuple(sorted(seen))


@register_op(
    "ReverseV2", inputs=["tensor: T", "axis: Tidx"], outputs=["output: T"], attrs={"Tidx": ("type", _dt.int32)},
    allowed={"Tidx": _INDEX, "T": _dt.ALL_TYPES}, shape=_reverse_shape,
)
def _reverse_kernel(x, axis):
    x = np.asarray(x)
    axes = _reverse_axes(x.ndim, axis, _invalid)
    return np.flip(x, axes) if axes else x


@RegisterGradient("ReverseV2")
def _reverse_grad(op, grad):
    return [reverse(_dense(grad), op.inputs[1]), None]


@tf_export("manip.reverse", "reverse", "reverse_v2")
def reverse(tensor, axis, name=None) -> _ops.Tensor:
    """`tensor` with the dimensions in `axis` reversed."""
    return apply_op("ReverseV2", [tensor, _int_arg(axis)], name=name).outputs[0]


reverse_v2 = reverse


# ----------------------------------------------------------------------------------------------------------
# GatherV2, GatherNd, ScatterNd
# ----------------------------------------------------------------------------------------------------------
def _gather_shape(op):
    params, indices = op.inputs[0].shape.as_tuple(), op.inputs[1].shape.as_tuple()
    _with_rank(op.inputs[2].shape.as_tuple(), 0)
    axis = _static_scalar(op.inputs[2])
    batch_dims = op.get_attr("batch_dims")
    if params is None or indices is None:
        return _shape.unknown_shape()
    if batch_dims < 0:
        batch_dims += len(indices)
    if axis is None:
        return _shape.unknown_shape(len(params) + len(indices) - 1 - batch_dims)
    if axis >= len(params):
        raise ValueError(f"Shape must be at least rank {axis + 1} but is rank {len(params)}")
    if axis < -len(params):
        raise ValueError(f"Shape must be at least rank {-axis} but is rank {len(params)}")
    axis %= len(params)
    if not 0 <= batch_dims <= min(axis, len(indices)):
        raise ValueError(f"batch_dims ({op.get_attr('batch_dims')}) must be in [{-len(indices)}, {len(indices)}] "
                         f"and no greater than axis ({axis})")
    batch = _merge(params[:batch_dims], indices[:batch_dims])
    return list(batch) + list(params[batch_dims:axis]) + list(indices[batch_dims:]) + list(params[axis + 1:])


def _check_gather_indices(indices, limit: int) -> None:
    bad = (indices < 0) | (indices >= limit)
    if np.any(bad):
        pos = np.unravel_index(int(np.argmax(bad)), indices.shape)
        raise _invalid(f"indices[{_np_index_str(pos)}] = {indices[pos]} is not in [0, {limit})")


def _gather(params, indices, axis: int, batch_dims: int):
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    # Gather each batch entry separately, then restore the batch dims.
    batch = params.shape[:batch_dims]
    flat_p = params.reshape((-1,) + params.shape[batch_dims:])
    flat_i = indices.reshape((-1,) + indices.shape[batch_dims:])
    parts = [np.take(p, i, axis=axis - batch_dims) for p, i in zip(flat_p, flat_i)]
    out_tail = params.shape[batch_dims:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]
    return np.stack(parts).reshape(batch + out_tail) if parts else np.zeros(batch + out_tail, params.dtype)


@register_op(
    "GatherV2", inputs=["params: Tparams", "indices: Tindices", "axis: Taxis"], outputs=["output: Tparams"],
    attrs={"batch_dims": ("int", 0)}, allowed={"Tindices": _INDEX, "Taxis": _INDEX}, shape=_gather_shape,
)
def _gather_kernel(params, indices, axis, *, batch_dims):
    params, indices = np.asarray(params), np.asarray(indices)
    axis = int(axis)
    if not -params.ndim <= axis < params.ndim:
        raise _invalid(f"Expected axis in the range [{-params.ndim}, {params.ndim}), but got {axis}")
    axis %= params.ndim
    if batch_dims < 0:
        batch_dims += indices.ndim
    if params.shape[:batch_dims] != indices.shape[:batch_dims]:
        raise _invalid(f"params.shape[:{batch_dims}] should equal indices.shape[:{batch_dims}] but got "
                       f"{_fmt(params.shape)} and {_fmt(indices.shape)}")
    _check_gather_indices(indices, params.shape[axis])
    return _gather(params, indices, axis, batch_dims)


@register_static_value("GatherV2")
def _gather_static(t):
    vals = [_static(x) for x in t.op.inputs]
    if any(v is None for v in vals):
        return None
    return _gather_kernel(*vals, batch_dims=t.op.get_attr("batch_dims"))


@register_static_shape("GatherV2")
def _gather_static_shape(t):
    dims, index = _static_dims(t.op.inputs[0]), _static(t.op.inputs[1])
    if dims is None or index is None or _static_scalar(t.op.inputs[2]) != 0 or np.ndim(index) != 1:
        return None
    return [dims[int(i)] for i in index]


@RegisterGradient("GatherV2")
def _gather_grad(op, grad):
    params, indices, axis = op.inputs
    grad = _dense(grad)
    params_shape = _shape_tensor(params)
    static_axis = _static_scalar(axis)
    batch_dims = op.get_attr("batch_dims")
    if batch_dims == 0 and static_axis == 0:
        # Only the gathered rows get a gradient: keep it sparse, as TF does for embeddings.
        n = expand_dims(size(indices), 0)
        values = reshape(grad, concat([n, params_shape[1:]], 0))
        return [IndexedSlices(values, reshape(indices, n), params_shape), None, None]
    if batch_dims == 0 and static_axis is not None and params.shape.ndims is not None \
            and indices.shape.ndims is not None:
        return [_gather_axis_grad(params, indices, grad, static_axis % params.shape.ndims), None, None]
    # General case (batch dims, unknown axis): the coordinates of each gathered element, scattered back.
    coords = reshape(where(ones_like(params, dtype=_dt.bool_)),
                     concat([params_shape, expand_dims(rank(params), 0)], 0))
    # The coordinates have one more (trailing) dim than params, so a negative axis is made positive first.
    axis = _binary("FloorMod", axis, _cast(rank(params), axis.dtype.base_dtype))
    gathered = apply_op("GatherV2", [coords, indices, axis], {"batch_dims": batch_dims}).outputs[0]
    return [scatter_nd(gathered, grad, _cast(params_shape, _dt.int64)), None, None]


def _gather_axis_grad(params, indices, grad, axis: int):
    """The dense gradient of a gather along a static `axis` > 0: the gathered axis moved first, scattered, moved
    back."""
    p_rank, i_rank = params.shape.ndims, indices.shape.ndims
    outer, inner = list(builtins.range(axis)), list(builtins.range(axis + i_rank, p_rank - 1 + i_rank))
    moved = transpose(grad, np.asarray(list(builtins.range(axis, axis + i_rank)) + outer + inner, dtype=np.int32))
    params_shape = _shape_tensor(params, indices.dtype)
    moved_shape = concat([params_shape[axis:axis + 1], params_shape[:axis], params_shape[axis + 1:]], 0)
    flat_indices = reshape(indices, [-1, 1])
    flat = reshape(moved, concat([[-1], moved_shape[1:]], 0))
    scattered = scatter_nd(flat_indices, flat, moved_shape)
    back = list(builtins.range(1, axis + 1)) + [0] + list(builtins.range(axis + 1, p_rank))
    return transpose(scattered, np.asarray(back, dtype=np.int32))


@tf_export("gather")
def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0) -> _ops.Tensor:
    """Slices of `params` along `axis` (default 0, or `batch_dims`) at `indices`."""
    del validate_indices  # indices are always checked, as in TF on CPU
    if axis is None:
        axis = batch_dims
    if axis == 0 and batch_dims == 0 and hasattr(params, "sparse_read"):
        return params.sparse_read(indices, name=name)
    return apply_op("GatherV2", [params, indices, axis], {"batch_dims": int(batch_dims)}, name=name).outputs[0]


def _gather_nd_shape(op):
    params, indices = op.inputs[0].shape.as_tuple(), op.inputs[1].shape.as_tuple()
    _with_rank_at_least(indices, 1)
    if params is None or indices is None or indices[-1] is None:
        return _shape.unknown_shape()
    r = indices[-1]
    if r > len(params):
        raise ValueError(f"indices.shape[-1] must be <= params.rank, but saw indices shape: {_fmt(indices)} and "
                         f"params shape: {_fmt(params)}")
    return list(indices[:-1]) + list(params[r:])


def _check_nd_indices(indices, shape, what: str) -> None:
    limits = np.asarray(shape[:indices.shape[-1]], dtype=np.int64)
    bad = np.any((indices < 0) | (indices >= limits), axis=-1)
    if np.any(bad):
        pos = np.unravel_index(int(np.argmax(bad)), bad.shape)
        coords = ", ".join(str(int(c)) for c in indices[pos])
        raise _invalid(f"indices[{_np_index_str(pos)}] = [{coords}] does not index into {what} {_fmt(shape)}")


@register_op(
    "GatherNd", inputs=["params: Tparams", "indices: Tindices"], outputs=["output: Tparams"],
    allowed={"Tindices": _INDEX}, shape=_gather_nd_shape,
)
def _gather_nd_kernel(params, indices):
    params, indices = np.asarray(params), np.asarray(indices)
    if indices.ndim < 1:
        raise _invalid(f"indices must be at least a vector, got shape {_fmt(indices.shape)}")
    r = indices.shape[-1]
    if r > params.ndim:
        raise _invalid(f"index innermost dimension length must be <= params rank; saw: {r} vs. {params.ndim}")
    _check_nd_indices(indices, params.shape, "param shape")
    out = params[tuple(indices[..., k] for k in builtins.range(r))]
    return _as_array(out, params.dtype) if r else np.broadcast_to(
        params, indices.shape[:-1] + params.shape).copy()


@RegisterGradient("GatherNd")
def _gather_nd_grad(op, grad):
    params, indices = op.inputs
    return [scatter_nd(indices, _dense(grad), _shape_tensor(params, indices.dtype)), None]


@tf_export("manip.gather_nd", "gather_nd")
def gather_nd(params, indices, name=None, batch_dims=0) -> _ops.Tensor:
    """Slices of `params` at the index tuples in the last dimension of `indices` (after `batch_dims` batch dims)."""
    if batch_dims == 0:
        return apply_op("GatherNd", [params, indices], name=name).outputs[0]
    with _ops.name_scope(name, "BatchGatherND", [params, indices]) as scope:
        params = _ops.convert_to_tensor(params, name="params")
        indices = _ops.convert_to_tensor(indices, name="indices")
        # Prefix every index tuple with its batch coordinates, then gather over the flattened batch.
        idx_shape = _shape_tensor(indices, indices.dtype)
        batch_shape = idx_shape[:batch_dims]
        n_batch = _reduce("Prod", batch_shape)
        batch_ids = reshape(range(0, n_batch, 1, dtype=indices.dtype),
                            concat([batch_shape, ones([rank(indices) - batch_dims], indices.dtype)], 0))
        batch_ids = broadcast_to(batch_ids, concat([idx_shape[:-1], [1]], 0))
        flat_params = reshape(params, concat([[-1], _shape_tensor(params, indices.dtype)[batch_dims:]], 0))
        flat_indices = concat([batch_ids, indices], -1)
        flat_indices = reshape(flat_indices, concat([[-1], _shape_tensor(flat_indices, indices.dtype)[batch_dims:]],
                                                    0))
        out = apply_op("GatherNd", [flat_params, flat_indices]).outputs[0]
        return reshape(out, concat([batch_shape, _shape_tensor(out, indices.dtype)[1:]], 0), name=scope)


def _scatter_nd_shape(op):
    return _reg.constant_value_as_shape(op.inputs[2])


@register_op(
    "ScatterNd", inputs=["indices: Tindices", "updates: T", "shape: Tindices"], outputs=["output: T"],
    allowed={"Tindices": _INDEX}, shape=_scatter_nd_shape,
)
def _scatter_nd_kernel(indices, updates, shape):
    indices, updates = np.asarray(indices), np.asarray(updates)
    shape = tuple(int(d) for d in shape)
    r = indices.shape[-1] if indices.ndim else 0
    if indices.ndim < 1 or r > len(shape):
        raise _invalid(f"Dimensions [0,1) of indices[shape={_fmt(indices.shape)}] must be a vector of length <= "
                       f"rank of shape {len(shape)}")
    want = indices.shape[:-1] + shape[r:]
    if updates.shape != want:
        raise _invalid(f"Must have updates.shape = indices.shape[:batch_dim] + shape[slice_dim:], got updates.shape: "
                       f"{_fmt(updates.shape)}, indices.shape: {_fmt(indices.shape)}, shape: {_fmt(shape)}")
    _check_nd_indices(indices, shape, "shape")
    out = np.zeros(shape, dtype=updates.dtype)
    np.add.at(out, tuple(indices[..., k] for k in builtins.range(r)), updates)
    return out


# TF's "IGNORE" policy zero-fills out-of-range indices; tfmini implements the default, an error.
import_only_attr(("GatherNd", "ScatterNd"), "bad_indices_policy", "string", "")


@RegisterGradient("ScatterNd")
def _scatter_nd_grad(op, grad):
    return [None, gather_nd(_dense(grad), op.inputs[0]), None]


@tf_export("manip.scatter_nd", "scatter_nd")
def scatter_nd(indices, updates, shape, name=None) -> _ops.Tensor:
    """A zero tensor of `shape` with `updates` added at the index tuples in `indices` (repeats add up)."""
    return apply_op("ScatterNd", [indices, updates, shape], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Slice, StridedSlice, StridedSliceGrad and Tensor.__getitem__
# ----------------------------------------------------------------------------------------------------------
def _slice_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    b_len = _with_rank(op.inputs[1].shape.as_tuple(), 1)[0]
    s_len = _with_rank(op.inputs[2].shape.as_tuple(), 1)[0]
    rank = len(dims) if dims is not None else (b_len if b_len is not None else s_len)
    if rank is None:
        return _shape.unknown_shape()
    for n in (b_len, s_len):
        if n is not None and n != rank:
            raise ValueError(f"Shape must be rank {n} but is rank {rank}")
    dims = _with_rank(dims, rank)
    begin, sizes = _static(op.inputs[1]), _static(op.inputs[2])
    if sizes is None:
        known = _static_dims(op.inputs[2])
        return _shape.unknown_shape(rank) if known is None else [None if s is None or s < 0 else s for s in known]
    out = []
    for i, d in enumerate(dims):
        s, b = int(sizes[i]), None if begin is None else int(begin[i])
        if b is not None and d is not None and not 0 <= b <= d:
            raise ValueError(f"Expected begin[{i}] in [0, {d}], but got {b}")
        if s == -1:
            out.append(None if d is None or b is None else d - b)
            continue
        if s < 0 or (b is not None and d is not None and b + s > d):
            limit = "?" if b is None or d is None else d - b
            raise ValueError(f"Expected size[{i}] in [0, {limit}], but got {s}")
        out.append(s)
    return out


@register_op(
    "Slice", inputs=["input: T", "begin: Index", "size: Index"], outputs=["output: T"], allowed={"Index": _INDEX},
    shape=_slice_shape,
)
def _slice_kernel(x, begin, size):
    x = np.asarray(x)
    if np.ndim(begin) != 1 or np.ndim(size) != 1 or len(begin) != x.ndim or len(size) != x.ndim:
        raise _invalid(f"Expected begin and size arguments to be 1-D tensors of size {x.ndim}, but got shapes "
                       f"{_fmt(np.shape(begin))} and {_fmt(np.shape(size))} instead.")
    index = []
    for i, d in enumerate(x.shape):
        b, s = int(begin[i]), int(size[i])
        if s == -1:
            s = d - b
        if not 0 <= b <= d:
            raise _invalid(f"Expected begin[{i}] in [0, {d}], but got {b}")
        if not 0 <= s <= d - b:
            raise _invalid(f"Expected size[{i}] in [0, {d - b}], but got {s}")
        index.append(builtins.slice(b, b + s))
    return x[tuple(index)]


@register_static_value("Slice")
def _slice_static(t):
    vals = [_static(x) for x in t.op.inputs]
    return None if any(v is None for v in vals) else _slice_kernel(*vals)


@register_static_shape("Slice")
def _slice_static_shape(t):
    dims, begin, sizes = _static_dims(t.op.inputs[0]), _static(t.op.inputs[1]), _static(t.op.inputs[2])
    if dims is None or begin is None or sizes is None:
        return None
    b, s = int(begin[0]), int(sizes[0])
    return list(dims[b:] if s == -1 else dims[b:b + s])


@RegisterGradient("Slice")
def _slice_grad(op, grad):
    x, begin = op.inputs[0], op.inputs[1]
    after = (_shape_tensor(x, begin.dtype) - _shape_tensor(op.outputs[0], begin.dtype)) - begin
    return [pad(_dense(grad), stack([begin, after], axis=1)), None, None]


@tf_export("slice")
def slice(input_, begin, size, name=None) -> _ops.Tensor:  # noqa: A001 - TF's public name
    """The block of `input_` starting at `begin` of extent `size` (-1: to the end of that dimension)."""
    return apply_op("Slice", [input_, begin, size], name=name).outputs[0]


_SLICE_ATTRS = {
    "begin_mask": ("int", 0), "end_mask": ("int", 0), "ellipsis_mask": ("int", 0),
    "new_axis_mask": ("int", 0), "shrink_axis_mask": ("int", 0),
}


def _slice_index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask,
                 error) -> tuple:
    """The NumPy index tuple equivalent to a StridedSlice spec; bounds from an unknown (None) `begin` or `end`
    are _UNKNOWN."""
    n = np.size(strides)
    if any(v is not None and (np.ndim(v) != 1 or np.size(v) != n) for v in (begin, end)) or np.ndim(strides) != 1:
        shapes = ", ".join(_fmt(np.shape(v)) if v is not None else "[?]" for v in (begin, end))
        raise error(f"Expected begin, end, and strides to be 1D equal size tensors, but got shapes {shapes}, and "
                    f"{_fmt(np.shape(strides))} instead.")
    if bin(ellipsis_mask & ((1 << n) - 1)).count("1") > 1:
        raise error("Multiple ellipses in slice spec not allowed")
    index = []
    for i in builtins.range(n):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif new_axis_mask & bit:
            index.append(None)
        elif shrink_axis_mask & bit:
            index.append(_UNKNOWN if begin is None else int(begin[i]))
        else:
            step = int(strides[i])
            if step == 0:
                raise error(f"strides[{i}] must be non-zero")
            b = None if begin_mask & bit else (_UNKNOWN if begin is None else int(begin[i]))
            e = None if end_mask & bit else (_UNKNOWN if end is None else int(end[i]))
            index.append(builtins.slice(b, e, step))
    return tuple(index)


def _sliced_dims(dims, index: tuple, error) -> list:
    """The dims (ints, None when unknown) that indexing a tensor of `dims` with `index` gives; checks the
    indices of shrunk dims against known dims."""
    n_real = sum(1 for it in index if it is not None and it is not Ellipsis)
    if not any(it is Ellipsis for it in index):
        index = index + (Ellipsis,)
    if n_real > len(dims):
        raise error(f"Index out of range using input dim {len(dims)}; input has only {len(dims)} dims")
    out, axis = [], 0
    for it in index:
        if it is Ellipsis:
            span = len(dims) - n_real
            out.extend(dims[axis:axis + span])
            axis += span
        elif it is None:
            out.append(1)
        elif isinstance(it, builtins.slice):
            d = dims[axis]
            axis += 1
            if d is None or it.start is _UNKNOWN or it.stop is _UNKNOWN:
                out.append(None)
            else:
                out.append(len(builtins.range(*it.indices(d))))
        else:
            d = dims[axis]
            if it is not _UNKNOWN and d is not None and not -d <= it < d:
                raise error(f"slice index {it} of dimension {axis} out of bounds.")
            axis += 1
    return out


def _slice_masks(op) -> list:
    return [op.get_attr(k) for k in _SLICE_ATTRS]


def _strided_slice_shape(op):
    for t in op.inputs[1:]:
        _with_rank(t.shape.as_tuple(), 1)
    dims = op.inputs[0].shape.as_tuple()
    strides = _static(op.inputs[3])
    if dims is None or strides is None:
        return _shape.unknown_shape()
    begin, end = _static(op.inputs[1]), _static(op.inputs[2])
    return _sliced_dims(dims, _slice_index(begin, end, strides, *_slice_masks(op), ValueError), ValueError)


@register_op(
    "StridedSlice", inputs=["input: T", "begin: Index", "end: Index", "strides: Index"], outputs=["output: T"],
    attrs=dict(_SLICE_ATTRS), allowed={"Index": _INDEX}, shape=_strided_slice_shape,
)
def _strided_slice_kernel(x, begin, end, strides, *, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                          shrink_axis_mask):
    x = np.asarray(x)
    index = _slice_index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask,
                         _invalid)
    _sliced_dims(x.shape, index, _invalid)
    return _as_array(x[index], x.dtype)


@register_static_value("StridedSlice")
def _strided_slice_static(t):
    vals = [_static(x) for x in t.op.inputs]
    if any(v is None for v in vals):
        return None
    return _strided_slice_kernel(*vals, **{k: t.op.get_attr(k) for k in _SLICE_ATTRS})


@register_static_shape("StridedSlice")
def _strided_slice_static_shape(t):
    op = t.op
    if op.get_attr("ellipsis_mask") or op.get_attr("new_axis_mask") or op.get_attr("shrink_axis_mask"):
        return None
    dims = _static_dims(op.inputs[0])
    begin, end, strides = (_static(x) for x in op.inputs[1:])
    if dims is None or begin is None or end is None or strides is None or np.size(strides) != 1:
        return None
    (index,) = _slice_index(begin, end, strides, *_slice_masks(op), ValueError)
    return list(dims)[index]


@RegisterGradient("StridedSlice")
def _strided_slice_grad(op, grad):
    x, begin, end, strides = op.inputs
    masks = {k: op.get_attr(k) for k in _SLICE_ATTRS}
    dx = apply_op("StridedSliceGrad", [_shape_tensor(x, begin.dtype), begin, end, strides, _dense(grad)],
                  masks).outputs[0]
    return [dx, None, None, None]


@register_op(
    "StridedSliceGrad", inputs=["shape: Index", "begin: Index", "end: Index", "strides: Index", "dy: T"],
    outputs=["output: T"], attrs=dict(_SLICE_ATTRS), allowed={"Index": _INDEX},
    shape=lambda op: _reg.constant_value_as_shape(op.inputs[0]),
)
def _strided_slice_grad_kernel(shape, begin, end, strides, dy, *, begin_mask, end_mask, ellipsis_mask,
                               new_axis_mask, shrink_axis_mask):
    """Scatters `dy` into zeros of `shape` where StridedSlice with the same spec took its values from."""
    dy = np.asarray(dy)
    out = np.zeros([int(d) for d in shape], dtype=dy.dtype)
    index = _slice_index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask,
                         _invalid)
    _sliced_dims(out.shape, index, _invalid)
    out[index] = dy
    return out


@RegisterGradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, grad):
    _, begin, end, strides, _ = op.inputs
    masks = {k: op.get_attr(k) for k in _SLICE_ATTRS}
    return [None, None, None, None, strided_slice(_dense(grad), begin, end, strides, **masks)]


@tf_export("strided_slice")
def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None) -> _ops.Tensor:
    """`input_[begin:end:strides]` per dimension, with TF's masks for omitted bounds, `...`, new axes and
    single indices (see `Tensor.__getitem__`)."""
    del var  # sliced assignment to variables lives with the variables
    if strides is None:
        strides = ones_like(begin)
    attrs = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    return apply_op("StridedSlice", [input_, begin, end, strides], attrs, name=name).outputs[0]


def _index_part(x):
    if isinstance(x, _ops.Tensor):
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, _shape.Dimension) and x.value is not None:
        return int(x.value)
    # As in TF, anything scalar with an int32/int64 dtype indexes: a Variable, a 0-d NumPy array
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not isinstance(x, (list, tuple)):
        try:
            base = _dt.as_dtype(dtype).base_dtype
        except TypeError:
            base = None
        if base in _INDEX and len(getattr(x, "shape", ())) == 0:
            return _ops.convert_to_tensor(x)
    raise TypeError(
        "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar tf.int32/tf.int64 "
        f"tensors are valid indices, got {x!r}"
    )


def _slice_helper(tensor, slice_spec, var=None):
    """`Tensor.__getitem__`: NumPy-style basic indexing lowered to one StridedSlice."""
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    masks = dict.fromkeys(_SLICE_ATTRS, 0)
    for i, s in enumerate(slice_spec):
        bit = 1 << i
        if isinstance(s, builtins.slice):
            b, e, st = s.start, s.stop, s.step
            begin.append(0 if b is None else _index_part(b))
            end.append(0 if e is None else _index_part(e))
            strides.append(1 if st is None else _index_part(st))
            if b is None:
                masks["begin_mask"] |= bit
            if e is None:
                masks["end_mask"] |= bit
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["new_axis_mask"] |= bit
        else:
            if isinstance(s, _ops.Tensor) and s.dtype.base_dtype not in _INDEX:
                raise TypeError(
                    "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                    f"tf.int32/tf.int64 tensors are valid indices, got {s!r}"
                )
            part = _index_part(s)
            begin.append(part)
            end.append(part + 1)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    with _ops.name_scope(None, "strided_slice", [tensor] + begin + end + strides) as scope:
        tensors = [x for x in begin + end + strides if isinstance(x, _ops.Tensor)]
        if tensors:
            # An int64 index tensor makes every part int64, as in TF.
            index_dtype = _dt.int64 if any(x.dtype.base_dtype == _dt.int64 for x in tensors) else _dt.int32
            packed = [stack([_cast(x, index_dtype) if isinstance(x, _ops.Tensor) else
                             _ops.convert_to_tensor(x, dtype=index_dtype) for x in part])
                      for part in (begin, end, strides)]
        else:
            packed = [np.asarray(part, dtype=np.int32) for part in (begin, end, strides)]
        return apply_op("StridedSlice", [tensor] + packed, masks, name=scope).outputs[0]


_ops.Tensor.__getitem__ = _slice_helper

newaxis = None
tf_export("newaxis").export_constant(__name__, "newaxis")


# ----------------------------------------------------------------------------------------------------------
# Where, Select, SelectV2, OneHot
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "Where", inputs=["input: T"], outputs=["index: int64"], attrs={"T": ("type", _dt.bool_)},
    allowed={"T": _dt.NUMBER + (_dt.bool_,)}, shape=lambda op: [None, op.inputs[0].shape.ndims],
)
def _where_kernel(x):
    return np.argwhere(np.asarray(x)).astype(np.int64)


NotDifferentiable("Where")


def _select_shape(op):
    c, t, e = (x.shape.as_tuple() for x in op.inputs)
    out = _merge(t, e)
    if c is None or out is None or len(c) == 0:
        return _shape.unknown_shape() if out is None else list(out)
    if len(c) == 1 and len(out) > 1:
        first = _merge(c, out[:1])
        return list(first) + list(out[1:])
    return list(_merge(c, out))


@register_op(
    "Select", inputs=["condition: bool", "t: T", "e: T"], outputs=["output: T"], shape=_select_shape,
)
def _select_kernel(cond, t, e):
    cond, t, e = np.asarray(cond), np.asarray(t), np.asarray(e)
    if t.shape != e.shape:
        raise _invalid(f"'then' and 'else' must have the same size.  but are: {_fmt(t.shape)} vs. {_fmt(e.shape)}")
    if cond.ndim == 0:
        return t if cond else e
    if cond.ndim == 1 and t.ndim > 1:
        if cond.shape[0] != t.shape[0]:
            raise _invalid(f"Number of batches of 'then' must match size of 'cond', but saw: {t.shape[0]} vs. "
                           f"{cond.shape[0]}")
        cond = cond.reshape((-1,) + (1,) * (t.ndim - 1))
    elif cond.shape != t.shape:
        raise _invalid(f"'cond' and 'then' must have the same size.  but are: {_fmt(cond.shape)} vs. "
                       f"{_fmt(t.shape)}")
    return np.where(cond, t, e)


@RegisterGradient("Select")
def _select_grad(op, grad):
    c, t = op.inputs[0], op.inputs[1]
    grad = _dense(grad)
    zeros = zeros_like(t)
    return [None, where(c, grad, zeros), where(c, zeros, grad)]


def _select_v2_shape(op):
    c, t, e = (x.shape for x in op.inputs)
    return shape_fns.broadcast_static(shape_fns.broadcast_static(c, t), e)


@register_op(
    "SelectV2", inputs=["condition: bool", "t: T", "e: T"], outputs=["output: T"], shape=_select_v2_shape,
)
def _select_v2_kernel(cond, t, e):
    try:
        return np.where(cond, t, e)
    except ValueError:
        raise _invalid(f"condition {_fmt(np.shape(cond))}, then {_fmt(np.shape(t))}, and else {_fmt(np.shape(e))} "
                       "must be broadcastable") from None


@RegisterGradient("SelectV2")
def _select_v2_grad(op, grad):
    c, t, e = op.inputs
    grad = _dense(grad)
    zero = constant(0, dtype=grad.dtype.base_dtype)
    dt = _reduce_to_shape(where_v2(c, grad, zero), t)
    de = _reduce_to_shape(where_v2(c, zero, grad), e)
    return [None, dt, de]


@tf_export("where")
def where(condition, x=None, y=None, name=None) -> _ops.Tensor:
    """With only `condition`: the int64 coordinates of its true (non-zero) elements, one row each. With `x` and `y`:
    elements of `x` where `condition` holds, else of `y` (condition: same shape, a scalar, or a vector over the
    first dimension)."""
    if x is None and y is None:
        with _ops.name_scope(name, "Where", [condition]) as scope:
            condition = _ops.convert_to_tensor(condition, preferred_dtype=_dt.bool_, name="condition")
            return apply_op("Where", [condition], name=scope).outputs[0]
    if x is not None and y is not None:
        return apply_op("Select", [condition, x, y], name=name).outputs[0]
    raise ValueError("x and y must both be non-None or both be None.")


@tf_export("where_v2")
def where_v2(condition, x=None, y=None, name=None) -> _ops.Tensor:
    """`tf.where` of TF2: like `where`, with `condition`, `x` and `y` broadcast against each other."""
    if x is None and y is None:
        return where(condition, name=name)
    if x is not None and y is not None:
        return apply_op("SelectV2", [condition, x, y], name=name).outputs[0]
    raise ValueError("x and y must both be non-None or both be None.")


def _one_hot_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    depth = _static_scalar(op.inputs[1])
    axis = op.get_attr("axis")
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be non-negative, got: {depth}")
    if dims is None:
        return _shape.unknown_shape()
    if axis < -1 or axis > len(dims):
        raise ValueError(f"Expected axis to be -1 or between [0, {len(dims) + 1}).  But received: {axis}")
    axis = len(dims) if axis == -1 else axis
    return list(dims[:axis]) + [depth] + list(dims[axis:])


@register_op(
    "OneHot", inputs=["indices: TI", "depth: int32", "on_value: T", "off_value: T"], outputs=["output: T"],
    attrs={"axis": ("int", -1), "TI": ("type", _dt.int64)}, allowed={"TI": (_dt.uint8, _dt.int32, _dt.int64)},
    shape=_one_hot_shape,
)
def _one_hot_kernel(indices, depth, on_value, off_value, *, axis, T):  # noqa: N803 - TF's attr name
    indices = np.asarray(indices)
    depth = int(depth)
    if depth < 0:
        raise _invalid(f"depth must be non-negative, got: {depth}")
    if np.ndim(on_value) or np.ndim(off_value):
        raise _invalid("on_value and off_value must be scalars")
    if axis < -1 or axis > indices.ndim:
        raise _invalid(f"Expected axis to be -1 or between [0, {indices.ndim + 1}).  But received: {axis}")
    hot = indices[..., None] == np.arange(depth, dtype=indices.dtype)
    if axis != -1:
        hot = np.moveaxis(hot, -1, axis)
    return np.where(hot, on_value, off_value).astype(T.as_numpy_dtype)


NotDifferentiable("OneHot")


@tf_export("one_hot")
def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> _ops.Tensor:
    """A one-hot encoding of `indices`: `on_value` at each index, `off_value` elsewhere (out-of-range indices
    give all `off_value`); the new dimension of size `depth` goes at `axis` (default: last)."""
    with _ops.name_scope(name, "one_hot", [indices, depth, on_value, off_value, axis, dtype]) as scope:
        dtype = None if dtype is None else _dt.as_dtype(dtype).base_dtype
        if on_value is not None:
            on_value = _ops.convert_to_tensor(on_value, name="on_value")
        if off_value is not None:
            off_value = _ops.convert_to_tensor(off_value, name="off_value")
        on_dtype = None if on_value is None else on_value.dtype.base_dtype
        off_dtype = None if off_value is None else off_value.dtype.base_dtype
        if on_value is not None or off_value is not None:
            if dtype is not None:
                for what, got in (("on_value", on_dtype), ("off_value", off_dtype)):
                    if got is not None and got != dtype:
                        raise TypeError(f"dtype {got} of {what} does not match dtype parameter {dtype}")
            else:
                dtype = on_dtype if on_dtype is not None else off_dtype
        elif dtype is None:
            dtype = _dt.float32
        if on_value is None:
            on_value = constant(1, dtype=dtype, name="on_value")
            on_dtype = dtype
        if off_value is None:
            off_value = constant(0, dtype=dtype, name="off_value")
            off_dtype = dtype
        if on_dtype != off_dtype:
            raise TypeError(f"dtype {on_dtype} of on_value does not match dtype {off_dtype} of off_value")
        return apply_op("OneHot", [indices, depth, on_value, off_value], {"axis": -1 if axis is None else int(axis)},
                        name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Composites: boolean_mask, sequence_mask, meshgrid
# ----------------------------------------------------------------------------------------------------------
@tf_export("boolean_mask")
def boolean_mask(tensor, mask, name="boolean_mask", axis=None) -> _ops.Tensor:
    """The elements (or slices) of `tensor` where the boolean `mask`, covering dims axis..axis+mask.ndim-1, is
    true, flattened into one dimension at `axis`."""
    with _ops.name_scope(name, values=[tensor, mask]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        mask = _ops.convert_to_tensor(mask, name="mask")
        mask_dims = mask.shape.ndims
        if mask_dims == 0:
            raise ValueError("mask cannot be scalar.")
        if mask_dims is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.  E.g. "
                             "shape=[None] is ok, but shape=None is not.")
        axis = 0 if axis is None else int(axis)
        static = tensor.shape
        static[axis:axis + mask_dims].assert_is_compatible_with(mask.shape)
        dims = _shape_tensor(tensor)
        leading = _reduce("Prod", dims[axis:axis + mask_dims], [0])
        tensor = reshape(tensor, concat([dims[:axis], [leading], dims[axis + mask_dims:]], 0))
        if static.ndims is not None:
            tensor.set_shape(static[:axis].concatenate([static[axis:axis + mask_dims].num_elements()])
                             .concatenate(static[axis + mask_dims:]))
        indices = squeeze(where(reshape(mask, [-1])), axis=[1])
        return gather(tensor, indices, axis=axis)


@tf_export("sequence_mask")
def sequence_mask(lengths, maxlen=None, dtype=_dt.bool_, name=None) -> _ops.Tensor:
    """mask[i..., j] = j < lengths[i...], for j in [0, maxlen) (default maxlen: the largest length)."""
    with _ops.name_scope(name, "SequenceMask", [lengths, maxlen]):
        lengths = _ops.convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = _reduce("Max", lengths)
            maxlen = _binary("Maximum", constant(0, dtype=maxlen.dtype), maxlen)
        else:
            maxlen = _ops.convert_to_tensor(maxlen)
        if maxlen.shape.ndims is not None and maxlen.shape.ndims != 0:
            raise ValueError("maxlen must be scalar for sequence_mask")
        row = range(constant(0, dtype=maxlen.dtype), maxlen, constant(1, dtype=maxlen.dtype))
        # maxlen bounds every length, so its dtype holds them all.
        result = _binary("Less", row, _cast(expand_dims(lengths, -1), maxlen.dtype))
        dtype = _dt.as_dtype(dtype)
        return result if dtype.base_dtype == _dt.bool_ else _cast(result, dtype)


@tf_export("meshgrid")
def meshgrid(*args, **kwargs) -> list:
    """N-D coordinate arrays from 1-D coordinate vectors, `indexing` 'xy' (Cartesian, default) or 'ij' (matrix)."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this function")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with _ops.name_scope(name, "meshgrid", list(args)):
        n = len(args)
        vectors = [reshape(stack(x), [-1]) for x in args]
        sizes = [size(v) for v in vectors]
        outputs = []
        for i, v in enumerate(vectors):
            at = i if indexing == "ij" or n < 2 or i > 1 else 1 - i
            outputs.append(reshape(v, np.asarray([1] * at + [-1] + [1] * (n - at - 1), dtype=np.int32)))
        if indexing == "xy" and n > 1:
            sizes[0], sizes[1] = sizes[1], sizes[0]
        full = stack(sizes)
        return [broadcast_to(o, full) for o in outputs]


# ----------------------------------------------------------------------------------------------------------
# Diagonals: MatrixDiag, MatrixDiagPart, MatrixSetDiag, Diag, DiagPart
# ----------------------------------------------------------------------------------------------------------
def _matrix_diag_shape(op):
    dims = _with_rank_at_least(op.inputs[0].shape.as_tuple(), 1)
    return _shape.unknown_shape() if dims is None else list(dims) + [dims[-1]]


def _set_diagonal(out, diagonal):
    """Writes `diagonal` [..., k] onto the main diagonal of the last two dims of `out`, in place."""
    k = diagonal.shape[-1]
    rows = np.arange(k)
    out[..., rows, rows] = diagonal


@register_op("MatrixDiag", inputs=["diagonal: T"], outputs=["output: T"], shape=_matrix_diag_shape)
def _matrix_diag_kernel(diagonal):
    diagonal = np.asarray(diagonal)
    if diagonal.ndim < 1:
        raise _invalid(f"input must be at least 1-dim, received shape: {_fmt(diagonal.shape)}")
    out = np.zeros(diagonal.shape + diagonal.shape[-1:], dtype=diagonal.dtype)
    _set_diagonal(out, diagonal)
    return out


def _matrix_diag_part_shape(op):
    dims = _with_rank_at_least(op.inputs[0].shape.as_tuple(), 2)
    if dims is None:
        return _shape.unknown_shape()
    m, n = dims[-2:]
    return list(dims[:-2]) + [None if m is None or n is None else min(m, n)]


@register_op("MatrixDiagPart", inputs=["input: T"], outputs=["diagonal: T"], shape=_matrix_diag_part_shape)
def _matrix_diag_part_kernel(x):
    x = np.asarray(x)
    if x.ndim < 2:
        raise _invalid(f"input must be at least 2-dim, received shape: {_fmt(x.shape)}")
    return np.diagonal(x, axis1=-2, axis2=-1).copy()


def _matrix_set_diag_shape(op):
    dims = _with_rank_at_least(op.inputs[0].shape.as_tuple(), 2)
    diag = _with_rank_at_least(op.inputs[1].shape.as_tuple(), 1)
    if dims is not None and diag is not None:
        m, n = dims[-2:]
        want = list(dims[:-2]) + [None if m is None or n is None else min(m, n)]
        _merge(tuple(want), diag)
    return op.inputs[0].shape


@register_op("MatrixSetDiag", inputs=["input: T", "diagonal: T"], outputs=["output: T"],
             shape=_matrix_set_diag_shape)
def _matrix_set_diag_kernel(x, diagonal):
    x, diagonal = np.asarray(x), np.asarray(diagonal)
    if x.ndim < 2 or diagonal.shape != x.shape[:-2] + (min(x.shape[-2:]),):
        raise _invalid(f"must have diagonal.shape == input.shape[:-2] + [min(input.shape[-2:])], but received input "
                       f"shape: {_fmt(x.shape)} and diagonal shape: {_fmt(diagonal.shape)}")
    out = x.copy()
    _set_diagonal(out, diagonal)
    return out


@RegisterGradient("MatrixDiag")
def _matrix_diag_grad(op, grad):
    return matrix_diag_part(_dense(grad))


@RegisterGradient("MatrixDiagPart")
def _matrix_diag_part_grad(op, grad):
    dims = op.inputs[0].shape.as_tuple()
    if dims is not None and None not in dims[-2:] and dims[-1] == dims[-2]:
        return matrix_diag(_dense(grad))
    return matrix_set_diag(zeros_like(op.inputs[0]), _dense(grad))


@RegisterGradient("MatrixSetDiag")
def _matrix_set_diag_grad(op, grad):
    grad = _dense(grad)
    return [matrix_set_diag(grad, zeros_like(op.inputs[1])), matrix_diag_part(grad)]


def matrix_diag(diagonal, name=None) -> _ops.Tensor:
    """Batched diagonal matrices: [..., N] -> [..., N, N] with `diagonal` on the main diagonals."""
    return apply_op("MatrixDiag", [diagonal], name=name).outputs[0]


def matrix_diag_part(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The main diagonals of a batch of matrices: [..., M, N] -> [..., min(M, N)]."""
    return apply_op("MatrixDiagPart", [input], name=name).outputs[0]


def matrix_set_diag(input, diagonal, name=None) -> _ops.Tensor:  # noqa: A002
    """A batch of matrices with their main diagonals replaced by `diagonal`."""
    return apply_op("MatrixSetDiag", [input, diagonal], name=name).outputs[0]


def _diag_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    return _shape.unknown_shape() if dims is None else list(dims) * 2


@register_op("Diag", inputs=["diagonal: T"], outputs=["output: T"],
             allowed={"T": _dt.FLOATING + _dt.COMPLEX + (_dt.int32, _dt.int64)}, shape=_diag_shape)
def _diag_kernel(diagonal):
    diagonal = np.asarray(diagonal)
    if diagonal.ndim < 1:
        raise _invalid("Input must be at least rank 1, got 0")
    n = diagonal.size
    flat = np.zeros((n, n), dtype=diagonal.dtype)
    flat[np.arange(n), np.arange(n)] = diagonal.reshape(-1)
    return flat.reshape(diagonal.shape * 2)


def _diag_part_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    if dims is None:
        return _shape.unknown_shape()
    if len(dims) % 2:
        raise ValueError(f"Input must have even rank <= 6, input rank is {len(dims)}")
    half = len(dims) // 2
    return list(_merge(dims[:half], dims[half:]))


@register_op("DiagPart", inputs=["input: T"], outputs=["diagonal: T"],
             allowed={"T": _dt.FLOATING + _dt.COMPLEX + (_dt.int32, _dt.int64)}, shape=_diag_part_shape)
def _diag_part_kernel(x):
    x = np.asarray(x)
    half = x.ndim // 2
    if x.ndim % 2 or x.ndim == 0 or x.shape[:half] != x.shape[half:]:
        raise _invalid(f"Invalid shape {_fmt(x.shape)}: dimensions must be of the form [D1, ..., Dk, D1, ..., Dk]")
    n = int(np.prod(x.shape[:half]))
    return x.reshape(n, n)[np.arange(n), np.arange(n)].reshape(x.shape[:half])


RegisterGradient("Diag")(lambda op, grad: diag_part(_dense(grad)))
RegisterGradient("DiagPart")(lambda op, grad: diag(_dense(grad)))


@tf_export("diag", "linalg.tensor_diag")
def diag(diagonal, name=None) -> _ops.Tensor:
    """The tensor of rank 2k with `diagonal` (rank k) on its diagonal: out[i..., i...] = diagonal[i...]."""
    return apply_op("Diag", [diagonal], name=name).outputs[0]


@tf_export("diag_part", "linalg.tensor_diag_part")
def diag_part(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The inverse of `diag`: out[i...] = input[i..., i...]."""
    return apply_op("DiagPart", [input], name=name).outputs[0]


def _band_part_shape(op):
    _with_rank_at_least(op.inputs[0].shape.as_tuple(), 2)
    for t in op.inputs[1:]:
        _with_rank(t.shape.as_tuple(), 0)
    return op.inputs[0].shape


@register_op(
    "MatrixBandPart", inputs=["input: T", "num_lower: Tindex", "num_upper: Tindex"], outputs=["band: T"],
    attrs={"Tindex": ("type", _dt.int64)}, allowed={"Tindex": _INDEX}, shape=_band_part_shape,
)
def _band_part_kernel(x, num_lower, num_upper):
    x = np.asarray(x)
    if x.ndim < 2:
        raise _invalid(f"input must be at least 2-dim, received shape: {_fmt(x.shape)}")
    m, n = x.shape[-2:]
    lower, upper = int(num_lower), int(num_upper)
    if lower > m:
        raise _invalid(f"num_lower must be negative or less or equal to number of rows ({m}) got: {lower}")
    if upper > n:
        raise _invalid(f"num_upper must be negative or less or equal to number of columns ({n}) got: {upper}")
    # Keep x[..., i, j] where (lower < 0 or i - j <= lower) and (upper < 0 or j - i <= upper).
    offset = np.arange(m)[:, None] - np.arange(n)[None, :]
    keep = ((lower < 0) | (offset <= lower)) & ((upper < 0) | (-offset <= upper))
    return np.where(keep, x, np.zeros((), x.dtype) if x.dtype != object else b"")


@RegisterGradient("MatrixBandPart")
def _band_part_grad(op, grad):
    return [matrix_band_part(_dense(grad), op.inputs[1], op.inputs[2]), None, None]


@tf_export("linalg.band_part", "matrix_band_part")
def matrix_band_part(input, num_lower, num_upper, name=None) -> _ops.Tensor:  # noqa: A002
    """The band of each innermost matrix: `num_lower` subdiagonals and `num_upper` superdiagonals kept (a
    negative count keeps the whole triangle), everything else zero."""
    if not _is_tensor_like(num_lower) and not _is_tensor_like(num_upper):
        num_lower, num_upper = np.int64(num_lower), np.int64(num_upper)
    return apply_op("MatrixBandPart", [input, num_lower, num_upper], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# ReverseSequence, Roll, EnsureShape
# ----------------------------------------------------------------------------------------------------------
def _reverse_sequence_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    lengths = _with_rank(op.inputs[1].shape.as_tuple(), 1)
    if dims is None:
        return _shape.unknown_shape()
    seq_dim, batch_dim = op.get_attr("seq_dim"), op.get_attr("batch_dim")
    for what, d in (("seq_dim", seq_dim), ("batch_dim", batch_dim)):
        if not 0 <= d < len(dims):
            raise ValueError(f"{what} must be < input rank: {d} >= {len(dims)}")
    if seq_dim == batch_dim:
        raise ValueError(f"batch_dim == seq_dim == {seq_dim}")
    merged = _merge((dims[batch_dim],), lengths)
    return list(dims[:batch_dim]) + list(merged) + list(dims[batch_dim + 1:])


@register_op(
    "ReverseSequence", inputs=["input: T", "seq_lengths: Tlen"], outputs=["output: T"],
    attrs={"seq_dim": ("int", _reg.REQUIRED), "batch_dim": ("int", 0), "Tlen": ("type", _dt.int64)},
    allowed={"Tlen": _INDEX}, shape=_reverse_sequence_shape,
)
def _reverse_sequence_kernel(x, seq_lengths, *, seq_dim, batch_dim):
    x = np.asarray(x)
    if len(seq_lengths) != x.shape[batch_dim]:
        raise _invalid(f"Length of seq_lengths != input.dims({batch_dim}), ({len(seq_lengths)} vs. "
                       f"{x.shape[batch_dim]})")
    out = x.copy()
    for b, n in enumerate(seq_lengths):
        n = int(n)
        if n < 0 or n > x.shape[seq_dim]:
            raise _invalid(f"seq_lens({b}) = {n} is not in [0, {x.shape[seq_dim]}]" if n >= 0 else
                           f"seq_lens({b}) < 0")
        index = [builtins.slice(None)] * x.ndim
        index[batch_dim] = b
        index[seq_dim] = builtins.slice(0, n)
        out[tuple(index)] = np.flip(x[tuple(index)], axis=seq_dim - (batch_dim < seq_dim))
    return out


@RegisterGradient("ReverseSequence")
def _reverse_sequence_grad(op, grad):
    return [reverse_sequence(_dense(grad), op.inputs[1], op.get_attr("seq_dim"), op.get_attr("batch_dim")), None]


@tf_export("reverse_sequence")
def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None, seq_dim=None,  # noqa: A002
                     batch_dim=None) -> _ops.Tensor:
    """For each batch entry b, reverses the first `seq_lengths[b]` elements along `seq_axis`."""
    if seq_dim is not None:
        if seq_axis is not None:
            raise ValueError("Cannot specify both 'seq_axis' and 'seq_dim'")
        seq_axis = seq_dim
    if batch_dim is not None:
        if batch_axis is not None:
            raise ValueError("Cannot specify both 'batch_axis' and 'batch_dim'")
        batch_axis = batch_dim
    attrs = {"seq_dim": int(seq_axis), "batch_dim": 0 if batch_axis is None else int(batch_axis)}
    return apply_op("ReverseSequence", [input, seq_lengths], attrs, name=name).outputs[0]


def _roll_shape(op):
    _with_rank_at_least(op.inputs[0].shape.as_tuple(), 1)
    shift, axis = (t.shape.as_tuple() for t in op.inputs[1:])
    if shift is not None and axis is not None and len(shift) != len(axis):
        raise ValueError("shift and axis must have the same rank")
    if shift is not None and axis is not None and shift and axis and None not in shift + axis and shift != axis:
        raise ValueError(f"shift and axis must have the same size: {_fmt(shift)} vs. {_fmt(axis)}")
    return op.inputs[0].shape


@register_op(
    "Roll", inputs=["input: T", "shift: Tshift", "axis: Taxis"], outputs=["output: T"],
    allowed={"Tshift": _INDEX, "Taxis": _INDEX}, shape=_roll_shape,
)
def _roll_kernel(x, shift, axis):
    x = np.asarray(x)
    shift, axis = np.reshape(shift, [-1]), np.reshape(axis, [-1])
    if shift.shape != axis.shape:
        raise _invalid(f"shift and axis must have the same size, got {shift.size} and {axis.size}")
    for a in axis:
        if not -x.ndim <= a < x.ndim:
            raise _invalid(f"axis {a} is out of range")
    return np.roll(x, [int(s) for s in shift], [int(a) for a in axis])


@RegisterGradient("Roll")
def _roll_grad(op, grad):
    return [roll(_dense(grad), -op.inputs[1], op.inputs[2]), None, None]


@tf_export("manip.roll", "roll")
def roll(input, shift, axis, name=None) -> _ops.Tensor:  # noqa: A002
    """`input` rotated by `shift` positions along `axis` (both scalars or equally long lists)."""
    return apply_op("Roll", [input, shift, axis], name=name).outputs[0]


def _ensure_shape_shape(op):
    return op.inputs[0].shape.merge_with(op.get_attr("shape"))


def _ensure_shape_factory(op, ctx):
    want = op.get_attr("shape")

    def check(x):
        if not want.is_compatible_with(np.shape(x)):
            raise _invalid(f"Shape of tensor {op.inputs[0].op.name} {_fmt(np.shape(x))} is not compatible with "
                           f"expected shape {_fmt(want.as_tuple())}.")
        return x

    return check


register_op(
    "EnsureShape", inputs=["input: T"], outputs=["output: T"], attrs={"shape": ("shape", _reg.REQUIRED)},
    shape=_ensure_shape_shape, factory=_ensure_shape_factory,
)
RegisterGradient("EnsureShape")(_pass_through_grad)


@tf_export("ensure_shape")
def ensure_shape(x, shape, name=None) -> _ops.Tensor:
    """`x`, checked at run time to have a shape compatible with `shape` (which also refines its static shape)."""
    return apply_op("EnsureShape", [x], {"shape": _shape.as_shape(shape)}, name=name or "EnsureShape").outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Unique
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "Unique", inputs=["x: T"], outputs=["y: T", "idx: out_idx"], attrs={"out_idx": ("type", _dt.int32)},
    allowed={"out_idx": _INDEX}, shape=lambda op: [[None], _with_rank(op.inputs[0].shape.as_tuple(), 1)],
)
def _unique_kernel(x, *, out_idx):
    x = np.asarray(x)
    if x.ndim != 1:
        raise _invalid(f"unique expects a 1D vector, got shape {_fmt(x.shape)}")
    # TF lists the unique values in order of first appearance, not sorted.
    first, seen = [], {}
    idx = np.empty(len(x), dtype=out_idx.as_numpy_dtype)
    for i, v in enumerate(x.tolist()):
        k = seen.get(v)
        if k is None:
            k = seen[v] = len(first)
            first.append(i)
        idx[i] = k
    return x[np.asarray(first, dtype=np.int64)], idx


NotDifferentiable("Unique")
UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])


@tf_export("unique")
def unique(x, out_idx=_dt.int32, name=None) -> tuple:
    """(y, idx): the distinct values of 1-D `x` in order of first appearance, and for each element of `x` the
    position of its value in y."""
    op = apply_op("Unique", [x], {"out_idx": _dt.as_dtype(out_idx)}, name=name)
    return UniqueOutput(op.outputs[0], op.outputs[1])
