"""Math ops: elementwise unary and binary families, comparisons, MatMul, Cast, reductions, and the Python
operators of `tf.Tensor`. Each op is declared once here with its shape function and NumPy kernel."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import apply_op, register_op, register_static_value
from tfmini.ops import shape_fns

_NUM = _dt.NUMBER
_REAL = _dt.REAL
_FLOAT_CPLX = _dt.FLOATING + _dt.COMPLEX
_INT_FLOAT = _dt.FLOATING + _dt.INTEGER


# ----------------------------------------------------------------------------------------------------------
# Elementwise binary ops
# ----------------------------------------------------------------------------------------------------------
def _int_trunc_div(x, y):
    if x.dtype.kind in "iu":
        q = np.abs(x) // np.abs(y)
        return (np.sign(x) * np.sign(y) * q).astype(x.dtype)
    return np.divide(x, y)


def _pow(x, y):
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise _errors_invalid("Integers to negative integer powers are not allowed")
    return np.power(x, y)


def _errors_invalid(msg):
    from tfmini.framework import errors

    return errors.InvalidArgumentError(None, None, msg)


def _bool(fn):
    def kernel(x, y):
        return np.asarray(fn(x, y), dtype=np.bool_)

    return kernel


_BINARY = {
    # op type: (kernel, allowed types, output is bool)
    "Add": (np.add, _NUM + (_dt.string,), False),
    "AddV2": (np.add, _NUM, False),
    "Sub": (np.subtract, _NUM, False),
    "Mul": (np.multiply, _NUM, False),
    "RealDiv": (np.divide, _FLOAT_CPLX, False),
    "Div": (_int_trunc_div, _NUM, False),
    "TruncateDiv": (_int_trunc_div, _dt.INTEGER, False),
    "FloorDiv": (np.floor_divide, _REAL, False),
    "FloorMod": (np.mod, _REAL, False),
    "Maximum": (np.maximum, _REAL, False),
    "Minimum": (np.minimum, _REAL, False),
    "Pow": (_pow, _NUM, False),
    "SquaredDifference": (lambda x, y: np.square(x - y), _NUM, False),
    "Less": (np.less, _REAL, True),
    "LessEqual": (np.less_equal, _REAL, True),
    "Greater": (np.greater, _REAL, True),
    "GreaterEqual": (np.greater_equal, _REAL, True),
    "Equal": (_bool(np.equal), _dt.ALL_TYPES, True),
    "NotEqual": (_bool(np.not_equal), _dt.ALL_TYPES, True),
}

for _name, (_fn, _allowed, _is_cmp) in _BINARY.items():
    register_op(
        _name,
        inputs=["x: T", "y: T"],
        outputs=["z: bool" if _is_cmp else "z: T"],
        allowed={"T": _allowed},
        shape=shape_fns.broadcast,
    )(_fn)

for _name, _fn in {"LogicalAnd": np.logical_and, "LogicalOr": np.logical_or}.items():
    register_op(_name, inputs=["x: bool", "y: bool"], outputs=["z: bool"], shape=shape_fns.broadcast)(_fn)


# ----------------------------------------------------------------------------------------------------------
# Elementwise unary ops
# ----------------------------------------------------------------------------------------------------------
def _sigmoid(x):
    return (0.5 * (np.tanh(0.5 * x) + 1.0)).astype(x.dtype, copy=False)


def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _sign(x):
    return np.sign(x)


_UNARY = {
    "Neg": (np.negative, _NUM),
    "Abs": (np.abs, _REAL),
    "Square": (np.square, _NUM),
    "Sqrt": (np.sqrt, _FLOAT_CPLX),
    "Rsqrt": (_rsqrt, _FLOAT_CPLX),
    "Exp": (np.exp, _FLOAT_CPLX),
    "Log": (np.log, _FLOAT_CPLX),
    "Log1p": (np.log1p, _FLOAT_CPLX),
    "Expm1": (np.expm1, _FLOAT_CPLX),
    "Tanh": (np.tanh, _FLOAT_CPLX),
    "Sigmoid": (_sigmoid, _FLOAT_CPLX),
    "Sin": (np.sin, _FLOAT_CPLX),
    "Cos": (np.cos, _FLOAT_CPLX),
    "Reciprocal": (np.reciprocal, _FLOAT_CPLX),
    "Sign": (_sign, _NUM),
    "Floor": (np.floor, _dt.FLOATING),
    "Ceil": (np.ceil, _dt.FLOATING),
    "Round": (np.round, _NUM),
}

for _name, (_fn, _allowed) in _UNARY.items():
    register_op(_name, inputs=["x: T"], outputs=["y: T"], allowed={"T": _allowed}, shape=shape_fns.unchanged)(_fn)

register_op("LogicalNot", inputs=["x: bool"], outputs=["y: bool"], shape=shape_fns.unchanged)(np.logical_not)


# ----------------------------------------------------------------------------------------------------------
# AddN, MatMul, Cast
# ----------------------------------------------------------------------------------------------------------
def _add_n_shape(op):
    result = _shape.unknown_shape()
    for t in op.inputs:
        result = result.merge_with(t.shape)
    return result


@register_op("AddN", inputs=["inputs: N * T"], outputs=["sum: T"], allowed={"T": _NUM}, shape=_add_n_shape)
def _add_n(*inputs):
    out = inputs[0] + inputs[1] if len(inputs) > 1 else np.array(inputs[0], copy=True)
    for x in inputs[2:]:
        out += x
    return out


def _matmul_shape(op):
    a, b = op.inputs[0].shape.with_rank(2), op.inputs[1].shape.with_rank(2)
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    m, ka = (a[1], a[0]) if ta else (a[0], a[1])
    kb, n = (b[1], b[0]) if tb else (b[0], b[1])
    if not ka.is_compatible_with(kb):
        raise ValueError(f"Dimensions must be equal, but are {ka} and {kb}")
    return [m, n]


@register_op(
    "MatMul",
    inputs=["a: T", "b: T"],
    outputs=["product: T"],
    attrs={"transpose_a": ("bool", False), "transpose_b": ("bool", False)},
    allowed={"T": _dt.FLOATING + _dt.SIGNED_INTEGER + _dt.COMPLEX},
    shape=_matmul_shape,
)
def _matmul(a, b, *, transpose_a, transpose_b):
    if a.ndim != 2 or b.ndim != 2:
        raise _errors_invalid(f"In[0] and In[1] must be matrices, got shapes {list(a.shape)} and {list(b.shape)}")
    if transpose_a:
        a = a.T
    if transpose_b:
        b = b.T
    if a.shape[1] != b.shape[0]:
        raise _errors_invalid(
            f"Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: {list(b.shape)}"
        )
    return np.matmul(a, b)


@register_op(
    "Cast",
    inputs=["x: SrcT"],
    outputs=["y: DstT"],
    attrs={"Truncate": ("bool", False)},
    shape=shape_fns.unchanged,
)
def _cast(x, *, DstT):  # noqa: N803 - TF's attr name
    return np.asarray(x).astype(DstT.as_numpy_dtype, copy=False)


@register_static_value("Cast")
def _cast_static(t):
    v = _reg.constant_value(t.op.inputs[0])
    return None if v is None else np.asarray(v).astype(t.dtype.as_numpy_dtype)


# ----------------------------------------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------------------------------------
def _reduction_shape(op):
    axes = _reg.constant_value(op.inputs[1])
    keep = op.get_attr("keep_dims")
    if axes is None:
        rank = op.inputs[0].shape.ndims
        return _shape.unknown_shape(rank if keep else None)
    return shape_fns.reduced(op.inputs[0].shape, np.reshape(axes, [-1]).tolist(), keep)


def _axes(x, axis):
    axis = np.reshape(axis, [-1])
    for a in axis:
        if a < -x.ndim or a >= max(x.ndim, 1):
            raise _errors_invalid(f"Invalid reduction dimension ({a} for input with {x.ndim} dimension(s)")
    return tuple(int(a) % max(x.ndim, 1) for a in axis) if x.ndim else ()


def _int_mean(x, axis, keepdims):
    s = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
    n = max(1, x.size // max(1, np.size(s)))
    return np.trunc(s / n).astype(x.dtype)


def _mean(x, axis, keepdims):
    if x.dtype.kind in "iu":
        return _int_mean(x, axis, keepdims)
    return np.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


_REDUCTIONS = {
    "Sum": (lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype), _NUM),
    "Prod": (lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype), _NUM),
    "Mean": (_mean, _NUM),
    "Max": (lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims, initial=_lowest(x)), _REAL),
    "Min": (lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims, initial=_highest(x)), _REAL),
}


def _lowest(x):
    return -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min


def _highest(x):
    return np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max


def _make_reduction(fn):
    def kernel(x, axis, *, keep_dims):
        return np.asarray(fn(x, _axes(x, axis), keep_dims), dtype=x.dtype)

    return kernel


for _name, (_fn, _allowed) in _REDUCTIONS.items():
    register_op(
        _name,
        inputs=["input: T", "reduction_indices: Tidx"],
        outputs=["output: T"],
        attrs={"keep_dims": ("bool", False)},
        allowed={"T": _allowed, "Tidx": (_dt.int32, _dt.int64)},
        shape=_reduction_shape,
    )(_make_reduction(_fn))

# keepdims by keyword: np.all/np.any take `out` as their third positional parameter.
for _name, _fn in {"All": lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims),
                   "Any": lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims)}.items():
    register_op(
        _name,
        inputs=["input: bool", "reduction_indices: Tidx"],
        outputs=["output: bool"],
        attrs={"keep_dims": ("bool", False)},
        allowed={"Tidx": (_dt.int32, _dt.int64)},
        shape=_reduction_shape,
    )(_make_reduction(_fn))


def _argminmax_shape(op):
    axis = _reg.constant_value(op.inputs[1])
    if axis is None:
        return _shape.unknown_shape()
    return shape_fns.reduced(op.inputs[0].shape, [int(axis)], False)


for _name, _fn in {"ArgMax": np.argmax, "ArgMin": np.argmin}.items():
    def _arg_kernel(x, dimension, *, output_type, _fn=_fn):
        return _fn(x, axis=int(dimension)).astype(output_type.as_numpy_dtype)

    register_op(
        _name,
        inputs=["input: T", "dimension: Tidx"],
        outputs=["output: output_type"],
        attrs={"output_type": ("type", _dt.int64)},
        allowed={"T": _REAL, "Tidx": (_dt.int32, _dt.int64), "output_type": (_dt.int32, _dt.int64)},
        shape=_argminmax_shape,
    )(_arg_kernel)


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
def _binary(op_type: str, x, y, name):
    return apply_op(op_type, [x, y], name=name).outputs[0]


def _unary(op_type: str, x, name):
    return apply_op(op_type, [x], name=name).outputs[0]


def add(x, y, name=None):
    return _binary("Add", x, y, name)


def subtract(x, y, name=None):
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None):
    return _binary("Mul", x, y, name)


def realdiv(x, y, name=None):
    return _binary("RealDiv", x, y, name)


def floordiv(x, y, name=None):
    return _binary("FloorDiv", x, y, name or "floordiv")


def floormod(x, y, name=None):
    return _binary("FloorMod", x, y, name)


def truncatediv(x, y, name=None):
    return _binary("TruncateDiv", x, y, name)


def div(x, y, name=None):
    """`tf.div`: Python 2 division semantics (integer inputs floor-divide, floats divide)."""
    x = _ops.convert_to_tensor(x)
    y = _ops.convert_to_tensor(y, dtype=x.dtype.base_dtype)
    if x.dtype.is_integer:
        return _binary("FloorDiv", x, y, name or "div")
    return _binary("RealDiv", x, y, name or "div")


def truediv(x, y, name=None):
    """`tf.truediv`: integer inputs are cast to floats first (int8/16 -> float32, int32/64 -> float64)."""
    with _ops.name_scope(name, "truediv", [x, y]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        y = _ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        dt = x.dtype.base_dtype
        if dt.is_integer:
            target = _dt.float32 if dt.size <= 2 else _dt.float64
            x, y = cast(x, target), cast(y, target)
        return apply_op("RealDiv", [x, y], name=scope).outputs[0]


divide = truediv


def maximum(x, y, name=None):
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    return _binary("Minimum", x, y, name)


def pow(x, y, name=None):  # noqa: A001 - TF's public name
    return _binary("Pow", x, y, name)


def squared_difference(x, y, name=None):
    return _binary("SquaredDifference", x, y, name)


def less(x, y, name=None):
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    return _binary("GreaterEqual", x, y, name)


def equal(x, y, name=None):
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    return _binary("NotEqual", x, y, name)


def logical_and(x, y, name=None):
    return _binary("LogicalAnd", x, y, name)


def logical_or(x, y, name=None):
    return _binary("LogicalOr", x, y, name)


def logical_not(x, name=None):
    return _unary("LogicalNot", x, name)


def logical_xor(x, y, name="LogicalXor"):
    with _ops.name_scope(name, "LogicalXor", [x, y]):
        return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


def negative(x, name=None):
    return _unary("Neg", x, name)


def abs(x, name=None):  # noqa: A001 - TF's public name
    return _unary("Abs", x, name)


def square(x, name=None):
    return _unary("Square", x, name)


def sqrt(x, name=None):
    return _unary("Sqrt", x, name)


def rsqrt(x, name=None):
    return _unary("Rsqrt", x, name)


def exp(x, name=None):
    return _unary("Exp", x, name)


def log(x, name=None):
    return _unary("Log", x, name)


def log1p(x, name=None):
    return _unary("Log1p", x, name)


def expm1(x, name=None):
    return _unary("Expm1", x, name)


def tanh(x, name=None):
    return _unary("Tanh", x, name)


def sigmoid(x, name=None):
    return _unary("Sigmoid", x, name)


def sin(x, name=None):
    return _unary("Sin", x, name)


def cos(x, name=None):
    return _unary("Cos", x, name)


def reciprocal(x, name=None):
    return _unary("Reciprocal", x, name)


def sign(x, name=None):
    return _unary("Sign", x, name)


def floor(x, name=None):
    return _unary("Floor", x, name)


def ceil(x, name=None):
    return _unary("Ceil", x, name)


def round(x, name=None):  # noqa: A001 - TF's public name
    return _unary("Round", x, name)


def add_n(inputs, name=None):
    """Sums a list of tensors of the same shape and dtype."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")
    if len(inputs) == 1:
        from tfmini.ops import array_ops

        return array_ops.identity(inputs[0], name=name)
    return apply_op("AddN", [list(inputs)], name=name).outputs[0]


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """Matrix product of 2-D tensors (`transpose_*` / `adjoint_*` flip an operand first)."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    with _ops.name_scope(name, "MatMul", [a, b]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")  # as in TF1: no conversion to a's dtype
        if adjoint_a and a.dtype.is_complex:
            a = apply_op("Conj", [a]).outputs[0]
        if adjoint_b and b.dtype.is_complex:
            b = apply_op("Conj", [b]).outputs[0]
        return apply_op(
            "MatMul", [a, b],
            {"transpose_a": bool(transpose_a or adjoint_a), "transpose_b": bool(transpose_b or adjoint_b)},
            name=scope,
        ).outputs[0]


def cast(x, dtype, name=None):
    """Casts `x` to `dtype` (a no-op returning `x` when it already has that dtype)."""
    base = _dt.as_dtype(dtype).base_dtype
    if hasattr(x, "_is_composite_tensor"):
        return x._with_values(cast(x.values, base, name=name))
    x = _ops.convert_to_tensor(x, name="x")
    if x.dtype.base_dtype == base:
        return x
    return apply_op("Cast", [x], {"DstT": base}, name=name or "Cast").outputs[0]


def to_float(x, name="ToFloat"):
    return cast(x, _dt.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, _dt.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, _dt.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, _dt.int64, name=name)


def _reduction_axes(x: _ops.Tensor, axis):
    from tfmini.ops import array_ops

    if axis is not None:
        return axis
    rank = x.shape.ndims
    if rank is not None:
        return np.arange(rank, dtype=np.int32)
    return array_ops.range(0, array_ops.rank(x))


def _reduce(op_type: str, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    if reduction_indices is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'reduction_indices'.")
        axis = reduction_indices
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
        keepdims = keep_dims
    x = _ops.convert_to_tensor(input_tensor)
    with x.graph.as_default():
        axes = _ops.convert_to_tensor(_reduction_axes(x, axis), preferred_dtype=_dt.int32)
        return apply_op(op_type, [x, axes], {"keep_dims": bool(keepdims)}, name=name).outputs[0]


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def argmax(input, axis=None, name=None, dimension=None, output_type=_dt.int64):  # noqa: A002
    if dimension is not None:
        axis = dimension
    axis = 0 if axis is None else axis
    return apply_op("ArgMax", [input, axis], {"output_type": output_type}, name=name).outputs[0]


def argmin(input, axis=None, name=None, dimension=None, output_type=_dt.int64):  # noqa: A002
    if dimension is not None:
        axis = dimension
    axis = 0 if axis is None else axis
    return apply_op("ArgMin", [input, axis], {"output_type": output_type}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Tensor operators
# ----------------------------------------------------------------------------------------------------------
def _binary_operator(fn, op_name: str):
    def forward(x, y):
        with _ops.name_scope(None, op_name, [x, y]) as scope:
            y = _ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
            return fn(x, y, name=scope)

    def reverse(y, x):
        with _ops.name_scope(None, op_name, [x, y]) as scope:
            x = _ops.convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
            return fn(x, y, name=scope)

    return forward, reverse


def _scoped(op_type):
    def fn(x, y, name):
        return apply_op(op_type, [x, y], name=name).outputs[0]

    return fn


def _truediv_scoped(x, y, name):
    dt = x.dtype.base_dtype
    if dt.is_integer:
        target = _dt.float32 if dt.size <= 2 else _dt.float64
        x, y = cast(x, target), cast(y, target)
    return apply_op("RealDiv", [x, y], name=name).outputs[0]


def _matmul_scoped(x, y, name):
    return matmul(x, y, name=name)


_OPERATORS = {
    "add": ("Add", "add"),
    "sub": ("Sub", "sub"),
    "mul": ("Mul", "mul"),
    "floordiv": ("FloorDiv", "floordiv"),
    "mod": ("FloorMod", "mod"),
    "pow": ("Pow", "pow"),
    "and": ("LogicalAnd", "and"),
    "or": ("LogicalOr", "or"),
}


def _install_operators() -> None:
    T = _ops.Tensor
    for dunder, (op_type, op_name) in _OPERATORS.items():
        fwd, rev = _binary_operator(_scoped(op_type), op_name)
        setattr(T, f"__{dunder}__", fwd)
        setattr(T, f"__r{dunder}__", rev)
    fwd, rev = _binary_operator(_truediv_scoped, "truediv")
    T.__truediv__, T.__rtruediv__ = fwd, rev
    fwd, rev = _binary_operator(_matmul_scoped, "matmul")
    T.__matmul__, T.__rmatmul__ = fwd, rev
    fwd, rev = _binary_operator(
        lambda x, y, name: logical_xor(x, y, name=name), "xor"
    )
    T.__xor__, T.__rxor__ = fwd, rev
    for dunder, op_type in {"lt": "Less", "le": "LessEqual", "gt": "Greater", "ge": "GreaterEqual"}.items():
        fwd, _ = _binary_operator(_scoped(op_type), op_type)
        setattr(T, f"__{dunder}__", fwd)
    T.__neg__ = lambda x: apply_op("Neg", [x], name="Neg").outputs[0]
    T.__abs__ = lambda x: apply_op("Abs", [x], name="Abs").outputs[0]
    T.__invert__ = lambda x: apply_op("LogicalNot", [x], name="LogicalNot").outputs[0]


_install_operators()
