"""Check ops behind `tf.debugging`: numeric checks (the CheckNumerics op, `check_numerics`, `verify_tensor_all_finite`,
`add_check_numerics_ops`) and the `assert_*` family, which check statically when the values are known at
graph-construction time and otherwise build `Assert` ops that raise InvalidArgumentError when run."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops, shape_fns
from tfmini.ops.control_flow_ops import Assert, group, no_op, with_dependencies
from tfmini.ops.math_ops import is_finite, is_inf, is_nan  # noqa: F401 - part of tf.debugging


# ----------------------------------------------------------------------------------------------------------
# CheckNumerics
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "CheckNumerics",
    inputs=["tensor: T"],
    outputs=["output: T"],
    attrs={"message": ("string", _reg.REQUIRED)},
    allowed={"T": _dt.FLOATING},
    shape=shape_fns.unchanged,
    stateful=True,  # its point is to fail at run time: never folded away at compile time
)
def _check_numerics(x, *, message):
    """`x` unchanged, or InvalidArgumentError if it holds NaN or Inf values."""
    has_nan = bool(np.isnan(x).any())
    has_inf = bool(np.isinf(x).any())
    if has_nan or has_inf:
        what = "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
        raise _errors.InvalidArgumentError(None, None, f"{message} : Tensor had {what} values")
    return x


@RegisterGradient("CheckNumerics")
def _check_numerics_grad(op: _ops.Operation, grad):
    return check_numerics(
        grad, "Not a number (NaN) or infinity (Inf) values detected in gradient. " + op.get_attr("message"))


@tf_export("check_numerics", "debugging.check_numerics")
def check_numerics(tensor, message: str, name=None) -> _ops.Tensor:
    """`tensor`, checked when it is computed: raises InvalidArgumentError "<message> : Tensor had NaN
    values" (or Inf) at run time."""
    return apply_op("CheckNumerics", [tensor], {"message": message}, name=name).outputs[0]


@tf_export("debugging.assert_all_finite", "debugging.verify_tensor_all_finite", "verify_tensor_all_finite")
def verify_tensor_all_finite(t=None, msg=None, name=None, x=None, message=None) -> _ops.Tensor:
    """`t` (alias `x`), available only once it has been checked to hold no NaN or Inf."""
    t = x if t is None else t
    msg = message if msg is None else msg
    with _ops.name_scope(name, "VerifyFinite", [t]) as scope:
        t = _ops.convert_to_tensor(t, name="t")
        verify = check_numerics(t, message=msg)
        return with_dependencies([verify], t, name=scope)


@tf_export("add_check_numerics_ops", "debugging.add_check_numerics_ops")
def add_check_numerics_ops() -> _ops.Operation:
    """A group of CheckNumerics ops over every floating-point output in the default graph."""
    graph = _ops.get_default_graph()
    checks = []
    for op in graph.get_operations():
        for out in op.outputs:
            if out.dtype.base_dtype in _dt.FLOATING:
                with _ops.control_dependencies(None), graph.name_scope(op.name + "/"):
                    checks.append(check_numerics(out, f"{op.name}:{out.value_index}"))
    return group(*checks)


# ----------------------------------------------------------------------------------------------------------
# assert_*
# ----------------------------------------------------------------------------------------------------------
def _static_string(t) -> str:
    if not isinstance(t, _ops.Tensor):
        return str(t)
    value = _reg.constant_value(t)
    return str(t) if value is None else str(value)


def _assert_static(condition, data) -> None:
    """Raises the InvalidArgumentError a failing run would, now (the values are known)."""
    if not condition:
        raise _errors.InvalidArgumentError(None, None, "\n".join(_static_string(x) for x in data))


def _binary_assert(sym: str, opname: str, op_func, static_func, x, y, data, summarize, message, name):
    message = message or ""
    with _ops.name_scope(name, opname, [x, y] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        y = _ops.convert_to_tensor(y, name="y")
        if data is None:
            data = [message, f"Condition x {sym} y did not hold element-wise:", f"x ({x.name}) = ", x,
                    f"y ({y.name}) = ", y]
        condition = math_ops.reduce_all(op_func(x, y))
        x_static, y_static = _reg.constant_value(x), _reg.constant_value(y)
        if x_static is not None and y_static is not None:
            _assert_static(bool(np.all(static_func(x_static, y_static))), data)
        return Assert(condition, data, summarize=summarize)


@tf_export("assert_equal", "debugging.assert_equal")
def assert_equal(x, y, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    """An op raising InvalidArgumentError unless x == y element-wise (raised now if both are known)."""
    return _binary_assert("==", "assert_equal", math_ops.equal, np.equal, x, y, data, summarize, message, name)


@tf_export("assert_none_equal", "debugging.assert_none_equal")
def assert_none_equal(x, y, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _binary_assert("!=", "assert_none_equal", math_ops.not_equal, np.not_equal, x, y, data, summarize,
                          message, name)


@tf_export("assert_less", "debugging.assert_less")
def assert_less(x, y, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _binary_assert("<", "assert_less", math_ops.less, np.less, x, y, data, summarize, message, name)


@tf_export("assert_less_equal", "debugging.assert_less_equal")
def assert_less_equal(x, y, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _binary_assert("<=", "assert_less_equal", math_ops.less_equal, np.less_equal, x, y, data, summarize,
                          message, name)


@tf_export("assert_greater", "debugging.assert_greater")
def assert_greater(x, y, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _binary_assert(">", "assert_greater", math_ops.greater, np.greater, x, y, data, summarize, message,
                          name)


@tf_export("assert_greater_equal", "debugging.assert_greater_equal")
def assert_greater_equal(x, y, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _binary_assert(">=", "assert_greater_equal", math_ops.greater_equal, np.greater_equal, x, y, data,
                          summarize, message, name)


def _unary_assert(sym: str, opname: str, binary, zero_first: bool, x, data, summarize, message, name):
    message = message or ""
    with _ops.name_scope(name, opname, [x] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        if data is None:
            data = [message, f"Condition x {sym} 0 did not hold element-wise:", f"x ({x.name}) = ", x]
        zero = _ops.convert_to_tensor(0, dtype=x.dtype.base_dtype)
        return binary(zero, x, data=data, summarize=summarize) if zero_first else binary(
            x, zero, data=data, summarize=summarize)


@tf_export("assert_positive", "debugging.assert_positive")
def assert_positive(x, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _unary_assert(">", "assert_positive", assert_less, True, x, data, summarize, message, name)


@tf_export("assert_negative", "debugging.assert_negative")
def assert_negative(x, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _unary_assert("<", "assert_negative", assert_less, False, x, data, summarize, message, name)


@tf_export("assert_non_negative", "debugging.assert_non_negative")
def assert_non_negative(x, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _unary_assert(">=", "assert_non_negative", assert_less_equal, True, x, data, summarize, message, name)


@tf_export("assert_non_positive", "debugging.assert_non_positive")
def assert_non_positive(x, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    return _unary_assert("<=", "assert_non_positive", assert_less_equal, False, x, data, summarize, message,
                         name)


def _assert_rank_condition(x, rank, static_condition, dynamic_condition, what: str, data, summarize, message):
    rank = _ops.convert_to_tensor(rank, name="rank")
    if rank.dtype.base_dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"{message}  {rank.name} must be of type int32 or int64, got {rank.dtype.name}")
    if data is None:
        data = [message, f"Tensor {x.name} must have rank{what}", rank, "Received shape: ", array_ops.shape(x)]
    rank_static = _reg.constant_value(rank)
    if rank_static is not None:
        if np.ndim(rank_static) != 0:
            raise ValueError("Rank must be a scalar.")
        x_rank = x.shape.ndims
        if x_rank is not None:
            if not static_condition(x_rank, int(rank_static)):
                raise ValueError(
                    f"{message}.  Tensor {x.name} must have rank{what} {int(rank_static)}.  Received rank {x_rank}, "
                    f"shape {x.shape}"
                )
            return no_op(name="static_checks_determined_all_ok")
    condition = dynamic_condition(array_ops.rank(x), math_ops.cast(rank, _dt.int32))
    return Assert(condition, data, summarize=summarize)


@tf_export("assert_rank", "debugging.assert_rank")
def assert_rank(x, rank, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    """An op raising InvalidArgumentError unless `x` has rank `rank`; ValueError now if both are known and
    differ."""
    with _ops.name_scope(name, "assert_rank", [x, rank] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        return _assert_rank_condition(x, rank, lambda a, b: a == b, math_ops.equal, "", data, summarize,
                                      message or "")


@tf_export("assert_rank_at_least", "debugging.assert_rank_at_least")
def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    with _ops.name_scope(name, "assert_rank_at_least", [x, rank] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        return _assert_rank_condition(x, rank, lambda a, b: a >= b, math_ops.greater_equal, " at least", data,
                                      summarize, message or "")


@tf_export("assert_type", "debugging.assert_type")
def assert_type(tensor, tf_type, message=None, name=None) -> _ops.Operation:
    """Raises TypeError now unless `tensor` has dtype `tf_type`."""
    message = message or ""
    with _ops.name_scope(name, "assert_type", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        if tensor.dtype.base_dtype != _dt.as_dtype(tf_type).base_dtype:
            raise TypeError(f"{message}  {tensor.name} must be of type {_dt.as_dtype(tf_type)!r}")
        return no_op(name="statically_determined_correct_type")


@tf_export("assert_integer", "debugging.assert_integer")
def assert_integer(x, message=None, name=None) -> _ops.Operation:
    """Raises TypeError now unless `x` has an integer dtype."""
    message = message or ""
    with _ops.name_scope(name, "assert_integer", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        if not x.dtype.base_dtype.is_integer:
            raise TypeError(f"{message} Expected \"x\" to be integer type.  Found: {x.name} of dtype {x.dtype!r}")
        return no_op("statically_determined_was_integer")


@tf_export("assert_scalar", "debugging.assert_scalar")
def assert_scalar(tensor, name=None, message=None) -> _ops.Tensor:
    """`tensor`, after checking now that its static shape is a scalar's (ValueError otherwise)."""
    with _ops.name_scope(name, "assert_scalar", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        shape = tensor.shape
        prefix = f"{message} " if message else ""
        if shape.ndims != 0:
            if shape.ndims is None:
                raise ValueError(f"{prefix}Expected scalar shape, saw unknown shape.")
            raise ValueError(f"{prefix}Expected scalar shape for {tensor.name}, saw shape: {shape}.")
        return tensor


@tf_export("assert_near", "debugging.assert_near")
def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    """An op raising InvalidArgumentError unless |x - y| <= atol + rtol * |y| element-wise (both tolerances
    default to 10 * eps of x's dtype)."""
    message = message or ""
    with _ops.name_scope(name, "assert_near", [x, y, rtol, atol] + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        y = _ops.convert_to_tensor(y, name="y", dtype=x.dtype.base_dtype)
        eps = np.finfo(x.dtype.base_dtype.as_numpy_dtype).eps
        rtol = _ops.convert_to_tensor(10 * eps if rtol is None else rtol, name="rtol", dtype=x.dtype.base_dtype)
        atol = _ops.convert_to_tensor(10 * eps if atol is None else atol, name="atol", dtype=x.dtype.base_dtype)
        if data is None:
            data = [message, f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}", f"x ({x.name}) = ", x,
                    f"y ({y.name}) = ", y]
        tol = atol + rtol * math_ops.abs(y)
        condition = math_ops.reduce_all(math_ops.less_equal(math_ops.abs(x - y), tol))
        return Assert(condition, data, summarize=summarize)


@tf_export("assert_rank_in", "debugging.assert_rank_in")
def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    """An op raising InvalidArgumentError unless the rank of `x` is one of `ranks`; ValueError now if known."""
    message = message or ""
    with _ops.name_scope(name, "assert_rank_in", [x] + list(ranks) + list(data or [])):
        x = _ops.convert_to_tensor(x, name="x")
        ranks = [_ops.convert_to_tensor(r, name="rank") for r in ranks]
        statics = [_reg.constant_value(r) for r in ranks]
        if x.shape.ndims is not None and all(v is not None for v in statics):
            wanted = [int(v) for v in statics]
            if x.shape.ndims not in wanted:
                raise ValueError(f"{message}.  Tensor {x.name} must have rank in {tuple(wanted)}.  Received rank "
                                 f"{x.shape.ndims}, shape {x.shape}")
            return no_op(name="static_checks_determined_all_ok")
        if data is None:
            data = [message, f"Tensor {x.name} must have rank in", *ranks, "Received shape: ", array_ops.shape(x)]
        rank = array_ops.rank(x)
        condition = math_ops.reduce_any(array_ops.stack(
            [math_ops.equal(rank, math_ops.cast(r, _dt.int32)) for r in ranks]))
        return Assert(condition, data, summarize=summarize)


@tf_export("debugging.assert_shapes")
def assert_shapes(shapes, data=None, summarize=None, message=None, name=None) -> _ops.Operation:
    """Checks that tensors have the shapes `shapes` gives: (tensor, spec) pairs (or a dict), a spec listing
    each dimension as an int, a symbol (a string: the same symbol means the same size everywhere) or None
    (any size), optionally starting with '...' (any leading dimensions); a string spec such as 'NHW' gives
    one symbol per character. Raises ValueError now for what
    the static shapes contradict; the rest is checked by Assert ops when the returned op runs."""
    message = message or ""
    pairs = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    with _ops.name_scope(name, "assert_shapes", [t for t, _ in pairs]):
        static_sizes: dict = {}
        dynamic_sizes: dict = {}
        checks = []
        for x, spec in pairs:
            x = _ops.convert_to_tensor(x, name="x")
            if isinstance(spec, _shape.TensorShape):
                spec = spec.as_list()
            spec = list(spec)  # a string spec is one symbol per character
            open_prefix = bool(spec) and spec[0] in ("...", Ellipsis)
            dims = spec[1:] if open_prefix else spec
            rank = len(dims)
            if x.shape.ndims is not None:
                if (x.shape.ndims < rank) if open_prefix else (x.shape.ndims != rank):
                    need = f"at least {rank}" if open_prefix else str(rank)
                    raise ValueError(f"{message}.  Tensor {x.name} must have rank {need}.  Received rank "
                                     f"{x.shape.ndims}, shape {x.shape}")
            elif not open_prefix:
                checks.append(assert_rank(x, rank, message=message))
            else:
                checks.append(assert_rank_at_least(x, rank, message=message))
            shape = array_ops.shape(x)
            for i, d in enumerate(dims):
                if d is None:
                    continue
                axis = x.shape.ndims - rank + i if (open_prefix and x.shape.ndims is not None) else (
                    i - rank if open_prefix else i)
                known = x.shape[axis].value if x.shape.ndims is not None else None
                if isinstance(d, str):
                    if d in static_sizes and known is not None and static_sizes[d][0] != known:
                        size, where = static_sizes[d]
                        raise ValueError(f"{message}.  Specified by {where}: tensor {x.name} dimension {axis} must "
                                         f"have size {size}.  Received size {known}, shape {x.shape}")
                    if known is not None and d not in static_sizes:
                        static_sizes[d] = (known, f"tensor {x.name} dimension {axis}")
                    size_now = shape[axis]
                    if d in dynamic_sizes:
                        want = dynamic_sizes[d]
                        if known is None or _reg.constant_value(want) is None:
                            checks.append(assert_equal(size_now, want, message=message,
                                                       data=[message, f"{x.name} dimension {axis} must match {d}:",
                                                             size_now, want]))
                    else:
                        dynamic_sizes[d] = size_now if known is None else _ops.convert_to_tensor(known)
                    continue
                if known is not None:
                    if known != d:
                        raise ValueError(f"{message}.  Tensor {x.name} dimension {axis} must have size {d}.  "
                                         f"Received size {known}, shape {x.shape}")
                    continue
                checks.append(assert_equal(shape[axis], d, message=message,
                                           data=[message, f"{x.name} dimension {axis} must have size {d}:",
                                                 shape[axis]]))
        return group(*checks) if checks else no_op(name="static_checks_determined_all_ok")


@tf_export("debugging.is_numeric_tensor", "is_numeric_tensor")
def is_numeric_tensor(tensor) -> bool:
    """Whether `tensor` is a Tensor of a numeric dtype."""
    numeric = _dt.FLOATING + _dt.COMPLEX + _dt.INTEGER + (_dt.bfloat16,)
    return isinstance(tensor, _ops.Tensor) and tensor.dtype.base_dtype in numeric


def _diff_of_flattened(x):
    x = _ops.convert_to_tensor(x, name="x")
    if not is_numeric_tensor(x):
        raise TypeError(f"Expected x to be numeric, instead found: {x.dtype.name}")
    flat = array_ops.reshape(x, [-1])
    return flat[1:] - flat[:-1]


@tf_export("debugging.is_non_decreasing", "is_non_decreasing", "math.is_non_decreasing")
def is_non_decreasing(x, name=None) -> _ops.Tensor:
    """True iff the elements of `x` (flattened) never decrease."""
    with _ops.name_scope(name, "is_non_decreasing", [x]):
        diff = _diff_of_flattened(x)
        return math_ops.reduce_all(math_ops.less_equal(_ops.convert_to_tensor(0, dtype=diff.dtype), diff))


@tf_export("debugging.is_strictly_increasing", "is_strictly_increasing", "math.is_strictly_increasing")
def is_strictly_increasing(x, name=None) -> _ops.Tensor:
    """True iff the elements of `x` (flattened) always increase."""
    with _ops.name_scope(name, "is_strictly_increasing", [x]):
        diff = _diff_of_flattened(x)
        return math_ops.reduce_all(math_ops.less(_ops.convert_to_tensor(0, dtype=diff.dtype), diff))


@tf_export("assert_proper_iterable", "debugging.assert_proper_iterable")
def assert_proper_iterable(values) -> None:
    """Raises TypeError unless `values` is an iterable that is not a Tensor, an ndarray or a string."""
    unintentional = (_ops.Tensor, np.ndarray, bytes, str)
    if isinstance(values, unintentional):
        raise TypeError(f"Expected argument \"values\" to be a \"proper\" iterable.  Found: {type(values)}")
    if not hasattr(values, "__iter__"):
        raise TypeError(f"Expected argument \"values\" to be iterable.  Found: {type(values)}")


@tf_export("assert_same_float_dtype", "debugging.assert_same_float_dtype")
def assert_same_float_dtype(tensors=None, dtype=None) -> _dt.DType:
    """The one floating dtype of `tensors` (and `dtype`); ValueError if they disagree or are not floating.
    float32 when there is nothing to go by."""
    dtypes_seen = [t.dtype.base_dtype for t in (tensors or []) if t is not None]
    if dtype is not None:
        dtypes_seen.insert(0, _dt.as_dtype(dtype).base_dtype)
    if not dtypes_seen:
        return _dt.float32
    first = dtypes_seen[0]
    for d in dtypes_seen[1:]:
        if d != first:
            raise ValueError(f"{d.name}, type={d.name} must be {first.name}.")
    if not first.is_floating:
        raise ValueError(f"Expected floating point type, got {first.name}.")
    return first
