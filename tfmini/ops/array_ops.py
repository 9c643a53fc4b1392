"""Array ops: placeholders, identity, shapes and reshaping, slicing (incl. `Tensor.__getitem__`), packing
and filling. Each op is declared once here with its shape function and NumPy kernel."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import apply_op, register_op, register_static_value
from tfmini.ops import shape_fns

_INDEX = (_dt.int32, _dt.int64)


# ----------------------------------------------------------------------------------------------------------
# Placeholders and identity
# ----------------------------------------------------------------------------------------------------------
def _dims_str(shape: _shape.TensorShape) -> str:
    dims = shape.as_tuple()
    if dims is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def _placeholder_factory(op, ctx):
    dtype, shape = op.get_attr("dtype"), op.get_attr("shape")
    shape_part = "" if shape.ndims is None else f" and shape {_dims_str(shape)}"
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


@register_op("Identity", inputs=["input: T"], outputs=["output: T"], shape=shape_fns.unchanged)
def _identity(x):
    return x


@register_op("StopGradient", inputs=["input: T"], outputs=["output: T"], shape=shape_fns.unchanged)
def _stop_gradient(x):
    return x


register_static_value("Identity")(lambda t: _reg.constant_value(t.op.inputs[0]))


def placeholder(dtype, shape=None, name=None) -> _ops.Tensor:
    """A tensor whose value must be fed at run time; a fed value is checked against `shape`."""
    shape = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
    return apply_op("Placeholder", [], {"dtype": _dt.as_dtype(dtype), "shape": shape}, name=name).outputs[0]


def placeholder_with_default(input, shape, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """Passes `input` through unless the output is fed."""
    return apply_op("PlaceholderWithDefault", [input], {"shape": _shape.as_shape(shape)}, name=name).outputs[0]


def identity(input, name=None) -> _ops.Tensor:  # noqa: A002
    if hasattr(input, "_is_composite_tensor"):
        return input._map_components(lambda t: identity(t))
    if hasattr(input, "_as_graph_element") and not isinstance(input, _ops.Tensor) and hasattr(input, "value"):
        input = input.value()
    return apply_op("Identity", [input], name=name).outputs[0]


def stop_gradient(input, name=None) -> _ops.Tensor:  # noqa: A002
    return apply_op("StopGradient", [input], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------------
def _shape_of_shape(op):
    return [op.inputs[0].shape.ndims]


@register_op(
    "Shape", inputs=["input: T"], outputs=["output: out_type"], attrs={"out_type": ("type", _dt.int32)},
    allowed={"out_type": _INDEX}, shape=_shape_of_shape,
)
def _shape_kernel(x, *, out_type):
    return np.array(np.shape(x), dtype=out_type.as_numpy_dtype)


@register_static_value("Shape")
def _shape_static(t):
    s = t.op.inputs[0].shape
    return np.array(s.as_list(), dtype=t.dtype.as_numpy_dtype) if s.is_fully_defined() else None


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
    return np.int32(np.ndim(x))


@register_static_value("Rank")
def _rank_static(t):
    n = t.op.inputs[0].shape.ndims
    return None if n is None else np.int32(n)


def shape(input, name=None, out_type=_dt.int32) -> _ops.Tensor:  # noqa: A002
    if hasattr(input, "_is_composite_tensor"):
        return cast_to(input.dense_shape, out_type)
    return apply_op("Shape", [input], {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


def size(input, name=None, out_type=_dt.int32) -> _ops.Tensor:  # noqa: A002
    return apply_op("Size", [input], {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


def rank(input, name=None) -> _ops.Tensor:  # noqa: A002
    return apply_op("Rank", [input], name=name).outputs[0]


def cast_to(x, dtype):
    from tfmini.ops import math_ops

    return math_ops.cast(x, dtype)


def _reshape_shape(op):
    target = _reg.constant_value_as_shape(op.inputs[1])
    dims = target.as_tuple()
    if dims is None:
        return _shape.unknown_shape()
    n_in = op.inputs[0].shape.num_elements()
    if -1 in [d if d is not None else 0 for d in dims]:
        dims = [None if d == -1 else d for d in dims]
    known = [d for d in dims if d is not None]
    unknown = [i for i, d in enumerate(dims) if d is None]
    prod = int(np.prod(known)) if known else 1
    if n_in is not None and len(unknown) == 1 and prod:
        if n_in % prod:
            raise ValueError(f"Cannot reshape a tensor with {n_in} elements to shape {list(target.as_tuple())}")
        dims = list(dims)
        dims[unknown[0]] = n_in // prod
    elif n_in is not None and not unknown and n_in != prod:
        raise ValueError(
            f"Cannot reshape a tensor with {n_in} elements to shape {list(dims)} ({prod} elements)"
        )
    return dims


@register_op(
    "Reshape", inputs=["tensor: T", "shape: Tshape"], outputs=["output: T"], allowed={"Tshape": _INDEX},
    shape=_reshape_shape,
)
def _reshape_kernel(x, shape):
    try:
        return np.reshape(x, shape)
    except ValueError:
        want = [int(d) for d in np.reshape(shape, [-1])]
        n = int(np.prod([d for d in want if d != -1])) if want else 1
        raise _errors.InvalidArgumentError(
            None, None,
            f"Input to reshape is a tensor with {np.size(x)} values, but the requested shape has {n}",
        ) from None


@register_static_value("Reshape")
def _reshape_static(t):
    v, s = _reg.constant_value(t.op.inputs[0]), _reg.constant_value(t.op.inputs[1])
    return None if v is None or s is None else np.reshape(v, s)


def reshape(tensor, shape, name=None) -> _ops.Tensor:
    return apply_op("Reshape", [tensor, shape], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Pack, Fill, Range
# ----------------------------------------------------------------------------------------------------------
def _pack_shape(op):
    result = _shape.unknown_shape()
    for t in op.inputs:
        result = result.merge_with(t.shape)
    dims = result.as_tuple()
    if dims is None:
        return _shape.unknown_shape()
    axis = op.get_attr("axis")
    rank = len(dims) + 1
    if axis < -rank or axis >= rank:
        raise ValueError(f"axis = {axis} not in [{-rank}, {rank})")
    axis %= rank
    return list(dims[:axis]) + [len(op.inputs)] + list(dims[axis:])


@register_op(
    "Pack", inputs=["values: N * T"], outputs=["output: T"], attrs={"axis": ("int", 0)}, shape=_pack_shape
)
def _pack_kernel(*values, axis):
    return np.stack(values, axis=axis)


@register_static_value("Pack")
def _pack_static(t):
    vals = [_reg.constant_value(x) for x in t.op.inputs]
    if any(v is None for v in vals):
        return None
    return np.stack(vals, axis=t.op.get_attr("axis")).astype(t.dtype.as_numpy_dtype)


def stack(values, axis=0, name="stack") -> _ops.Tensor:
    """Packs a list of rank-R tensors into one rank-(R+1) tensor along `axis`."""
    return apply_op("Pack", [list(values)], {"axis": int(axis)}, name=name).outputs[0]


def _fill_shape(op):
    return _reg.constant_value_as_shape(op.inputs[0])


@register_op(
    "Fill", inputs=["dims: index_type", "value: T"], outputs=["output: T"], allowed={"index_type": _INDEX},
    shape=_fill_shape,
)
def _fill_kernel(dims, value):
    return np.full(dims, value, dtype=np.asarray(value).dtype)


def fill(dims, value, name=None) -> _ops.Tensor:
    return apply_op("Fill", [dims, value], name=name).outputs[0]


def zeros(shape, dtype=_dt.float32, name=None) -> _ops.Tensor:
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "zeros", []) as scope:
        zero = b"" if dtype == _dt.string else (False if dtype.is_bool else 0)
        return fill(_shape_arg(shape), _ops.convert_to_tensor(zero, dtype=dtype), name=scope)


def ones(shape, dtype=_dt.float32, name=None) -> _ops.Tensor:
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "ones", []) as scope:
        one = True if dtype.is_bool else 1
        return fill(_shape_arg(shape), _ops.convert_to_tensor(one, dtype=dtype), name=scope)


def _shape_arg(shape):
    if isinstance(shape, _shape.TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and not any(isinstance(s, _ops.Tensor) for s in shape):
        return np.asarray(shape, dtype=np.int32).reshape(-1)
    if isinstance(shape, (list, tuple)):
        return stack(shape)
    return shape


def _range_shape(op):
    vals = [_reg.constant_value(t) for t in op.inputs]
    if any(v is None for v in vals):
        return [None]
    return [len(np.arange(*[v.item() for v in vals]))]


@register_op(
    "Range", inputs=["start: Tidx", "limit: Tidx", "delta: Tidx"], outputs=["output: Tidx"],
    allowed={"Tidx": _dt.REAL}, shape=_range_shape,
)
def _range_kernel(start, limit, delta):
    if delta == 0:
        raise _errors.InvalidArgumentError(None, None, "Requires delta != 0")
    return np.arange(start, limit, delta, dtype=np.asarray(start).dtype)


def range(start, limit=None, delta=1, dtype=None, name="range") -> _ops.Tensor:  # noqa: A001
    """`tf.range`: like Python's range; `range(n)` counts from 0."""
    if limit is None:
        start, limit = 0, start
    with _ops.name_scope(name, "Range", [start, limit, delta]) as scope:
        tensors = [x for x in (start, limit, delta) if isinstance(x, _ops.Tensor)]
        if dtype is None:
            if tensors:
                dtype = tensors[0].dtype
            else:
                dtype = _dt.float32 if any(isinstance(x, float) for x in (start, limit, delta)) else _dt.int32
        vals = [_ops.convert_to_tensor(x, dtype=dtype, name=n) for x, n in
                zip((start, limit, delta), ("start", "limit", "delta"))]
        return apply_op("Range", vals, name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# StridedSlice and Tensor.__getitem__
# ----------------------------------------------------------------------------------------------------------
_SLICE_ATTRS = {
    "begin_mask": ("int", 0), "end_mask": ("int", 0), "ellipsis_mask": ("int", 0),
    "new_axis_mask": ("int", 0), "shrink_axis_mask": ("int", 0),
}


def _slice_index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask):
    """The NumPy index tuple equivalent to a StridedSlice specification."""
    idx = []
    for i in builtins_range(len(begin)):
        bit = 1 << i
        if ellipsis_mask & bit:
            idx.append(Ellipsis)
        elif new_axis_mask & bit:
            idx.append(np.newaxis)
        elif shrink_axis_mask & bit:
            idx.append(int(begin[i]))
        else:
            b = None if begin_mask & bit else int(begin[i])
            e = None if end_mask & bit else int(end[i])
            s = int(strides[i])
            if s == 0:
                raise _errors.InvalidArgumentError(None, None, f"strides[{i}] must be non-zero")
            idx.append(slice(b, e, s))
    return tuple(idx)


def _check_shrink_bounds(x, idx):
    axis = 0
    for item in idx:
        if item is Ellipsis:
            axis = x.ndim - sum(1 for j in idx if j is not None and j is not Ellipsis) + axis
            continue
        if item is None:
            continue
        if isinstance(item, int):
            n = x.shape[axis]
            if item < -n or item >= n:
                raise _errors.InvalidArgumentError(
                    None, None, f"slice index {item} of dimension {axis} out of bounds."
                )
        axis += 1


def _strided_slice_shape(op):
    x = op.inputs[0].shape
    b, e, s = (_reg.constant_value(t) for t in op.inputs[1:])
    masks = [op.get_attr(k) for k in _SLICE_ATTRS]
    if x.ndims is None or b is None or e is None or s is None:
        return _shape.unknown_shape()
    idx = _slice_index(b, e, s, *masks)
    dims = x.as_tuple()
    # Unknown dims are probed large enough that no index is out of bounds in them.
    unknown_size = min(2 ** 16, 2 + int(max(np.max(np.abs(b), initial=0), np.max(np.abs(e), initial=0))))
    probe_dims = [unknown_size if d is None else d for d in dims]
    # Slice a zero-strided dummy of the known dims; unknown dims become unknown in the result.
    probe = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape=probe_dims, strides=[0] * len(dims))
    try:
        out_shape = list(probe[idx].shape)
    except IndexError as err:
        if None in dims:
            return _shape.unknown_shape()
        raise ValueError(str(err)) from None
    # Map output axes back to input axes to mark unknown ones.
    out_axis, in_axis, result = 0, 0, list(out_shape)
    n_real = sum(1 for it in idx if it is not None and it is not Ellipsis)
    for it in idx:
        if it is Ellipsis:
            span = len(dims) - n_real
            for _ in builtins_range(span):
                if dims[in_axis] is None:
                    result[out_axis] = None
                in_axis += 1
                out_axis += 1
        elif it is None:
            out_axis += 1
        elif isinstance(it, int):
            in_axis += 1
        else:
            if dims[in_axis] is None:
                result[out_axis] = None
            in_axis += 1
            out_axis += 1
    while in_axis < len(dims):
        if dims[in_axis] is None:
            result[out_axis] = None
        in_axis += 1
        out_axis += 1
    return result


@register_op(
    "StridedSlice",
    inputs=["input: T", "begin: Index", "end: Index", "strides: Index"],
    outputs=["output: T"],
    attrs=dict(_SLICE_ATTRS),
    allowed={"Index": _INDEX},
    shape=_strided_slice_shape,
)
def _strided_slice_kernel(x, begin, end, strides, *, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                          shrink_axis_mask):
    idx = _slice_index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    if shrink_axis_mask:
        _check_shrink_bounds(x, idx)
    return np.asarray(x)[idx]


@register_static_value("StridedSlice")
def _strided_slice_static(t):
    vals = [_reg.constant_value(x) for x in t.op.inputs]
    if any(v is None for v in vals):
        return None
    return _strided_slice_kernel(*vals, **{k: t.op.get_attr(k) for k in _SLICE_ATTRS})


builtins_range = __builtins__["range"] if isinstance(__builtins__, dict) else __builtins__.range


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None) -> _ops.Tensor:
    if strides is None:
        strides = np.ones(len(begin), dtype=np.int32) if isinstance(begin, (list, tuple)) else ones_like_index(begin)
    attrs = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    return apply_op("StridedSlice", [input_, begin, end, strides], attrs, name=name).outputs[0]


def ones_like_index(t):
    return fill(shape(t), _ops.convert_to_tensor(1, dtype=t.dtype))


def _index_part(x):
    if isinstance(x, _ops.Tensor):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
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
        if isinstance(s, slice):
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
            end.append(part + 1 if isinstance(part, int) else part + 1)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    with _ops.name_scope(None, "strided_slice", [tensor] + begin + end + strides) as scope:
        tensors = [x for x in begin + end + strides if isinstance(x, _ops.Tensor)]
        if tensors:
            # An int64 index tensor makes every part int64, as in TF.
            index_dtype = _dt.int64 if any(x.dtype.base_dtype == _dt.int64 for x in tensors) else _dt.int32
            packed = [stack([cast_to(x, index_dtype) if isinstance(x, _ops.Tensor) else
                             _ops.convert_to_tensor(x, dtype=index_dtype) for x in part])
                      for part in (begin, end, strides)]
        else:
            packed = [np.asarray(part, dtype=np.int32) for part in (begin, end, strides)]
        return apply_op("StridedSlice", [tensor] + packed, masks, name=scope).outputs[0]


_ops.Tensor.__getitem__ = _slice_helper

newaxis = None
