"""Math ops: elementwise unary and binary families (with broadcasting), comparisons and logic, matrix products
(MatMul, BatchMatMulV2, Einsum), reductions, scans, casts and complex parts, with the Python API and the
operators of `tf.Tensor`. Each op is declared once here with its shape function, NumPy kernel and gradient."""

from __future__ import annotations

import builtins
import functools
import math
import operator
import re
import string

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import (
    NotDifferentiable,
    RegisterGradient,
    apply_op,
    import_only_attr,
    register_op,
    register_static_value,
)
from tfmini.ops import array_ops, shape_fns
from tfmini.ops.array_ops import _reduce_to_shape, _reduction_axes

_NUM = _dt.NUMBER
_REAL = _dt.REAL
_FLOAT = _dt.FLOATING
_FLOAT_CPLX = _dt.FLOATING + _dt.COMPLEX
# TF's signed number types (its ops that negate or take signs leave unsigned integers out).
_SIGNED = _dt.FLOATING + _dt.SIGNED_INTEGER
_SIGNED_NUM = _SIGNED + _dt.COMPLEX
_INDEX = (_dt.int32, _dt.int64)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _quiet(fn):
    """Runs a kernel with NumPy's floating-point warnings off: like TF, inf and nan results are silent."""

    @functools.wraps(fn)
    def kernel(*args, **attrs):
        with np.errstate(all="ignore"):
            return fn(*args, **attrs)

    return kernel


def _in_float64(fn):
    """Applies a float64 scalar function elementwise, returning the input's dtype."""
    vec = np.vectorize(fn, otypes=[np.float64])

    def kernel(x):
        x = np.asarray(x)
        return vec(x.astype(np.float64)).astype(x.dtype) if x.size else np.empty(x.shape, x.dtype)

    return kernel


# ----------------------------------------------------------------------------------------------------------
# Gradient helpers shared by the ops below
# ----------------------------------------------------------------------------------------------------------
def _shape_of(t: _ops.Tensor) -> _ops.Tensor:
    return array_ops.shape(t)


def _reshape(t: _ops.Tensor, shape) -> _ops.Tensor:
    return array_ops.reshape(t, shape)


def _zeros_like(t: _ops.Tensor) -> _ops.Tensor:
    return array_ops.zeros_like(t)


def _conj(t: _ops.Tensor) -> _ops.Tensor:
    return conj(t) if t.dtype.is_complex else t


def _broadcast_like(t: _ops.Tensor, x: _ops.Tensor) -> _ops.Tensor:
    """`t` (whose shape broadcasts to x's) stretched to the shape of `x`."""
    if t.shape.is_fully_defined() and x.shape.is_fully_defined() and t.shape.as_list() == x.shape.as_list():
        return t
    return array_ops.broadcast_to(t, _shape_of(x))


def _binary_grads(op, gx, gy):
    """The gradients of a broadcasting binary op, each reduced to its input's shape (None stays None)."""
    x, y = op.inputs
    return (None if gx is None else _reduce_to_shape(gx, x, [y]),
            None if gy is None else _reduce_to_shape(gy, y, [x]))


# ----------------------------------------------------------------------------------------------------------
# Elementwise binary ops
# ----------------------------------------------------------------------------------------------------------
def _check_int_divisor(y):
    if np.asarray(y).dtype.kind in "iu" and np.any(np.asarray(y) == 0):
        raise _invalid("Integer division by zero")


def _trunc_div(x, y):
    if x.dtype.kind in "iu":
        _check_int_divisor(y)
        q = np.abs(x) // np.abs(y)
        return (np.sign(x) * np.sign(y) * q).astype(x.dtype)
    return np.trunc(np.divide(x, y)).astype(x.dtype, copy=False)


def _div(x, y):
    return _trunc_div(x, y) if x.dtype.kind in "iu" else np.divide(x, y)


def _floor_div(x, y):
    _check_int_divisor(y)
    return np.floor_divide(x, y)


def _floor_mod(x, y):
    _check_int_divisor(y)
    return np.mod(x, y)


def _trunc_mod(x, y):
    _check_int_divisor(y)
    return np.fmod(x, y)


def _pow(x, y):
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise _invalid("Integers to negative integer powers are not allowed")
    return np.power(x, y)


def _div_no_nan(x, y):
    out = np.divide(x, np.where(y == 0, np.ones_like(y), y))
    return np.where(y == 0, np.zeros_like(out), out)


def _bool(fn):
    def kernel(x, y):
        return np.asarray(fn(x, y), dtype=np.bool_)

    return kernel


def _broadcasting(fn):
    """A binary kernel that reports incompatible shapes as TF does."""

    def kernel(x, y):
        try:
            return fn(x, y)
        except ValueError:
            if _broadcastable(np.shape(x), np.shape(y)):
                raise
            raise _invalid(f"Incompatible shapes: {list(np.shape(x))} vs. {list(np.shape(y))}") from None

    return kernel


def _binary_factory(checked, ufunc):
    """Per-plan kernel of a binary op: the bare ufunc when both static shapes are fully known (the shape
    function has then already proved they broadcast, and feeds are checked against them), else the kernel
    that turns a run-time broadcast failure into TF's 'Incompatible shapes' error."""

    def factory(op, ctx):
        if ufunc is not None and all(t.shape.is_fully_defined() for t in op.inputs):
            return ufunc
        return checked

    return factory


def _inplace_binary(ufunc):
    """In-place variant of a binary ufunc op, writing into x (the executor checks x has the output's shape)."""
    return lambda op: lambda x, y: ufunc(x, y, out=x)


def _inplace_unary(ufunc, real_only: bool = False):
    def make(op):
        if real_only and not op.inputs[0].dtype.is_floating:
            return None
        return lambda x: ufunc(x, out=x)

    return make


def _broadcastable(a, b) -> bool:
    return all(p == q or p == 1 or q == 1 for p, q in zip(reversed(a), reversed(b)))


# op type: (kernel, allowed types, output dtype (None: T), silence floating-point warnings)
_BINARY = {
    "Add": (np.add, _NUM + (_dt.string,), None, False),
    "AddV2": (np.add, _NUM, None, False),
    "Sub": (np.subtract, _NUM, None, False),
    "Mul": (np.multiply, _NUM, None, False),
    "RealDiv": (np.divide, _FLOAT_CPLX, None, True),
    "Div": (_div, _NUM, None, True),
    "DivNoNan": (_div_no_nan, _FLOAT_CPLX, None, True),
    "TruncateDiv": (_trunc_div, _dt.INTEGER, None, False),
    "FloorDiv": (_floor_div, _REAL, None, True),
    "FloorMod": (_floor_mod, _REAL, None, True),
    "TruncateMod": (_trunc_mod, _dt.FLOATING + (_dt.int32, _dt.int64), None, True),
    "Maximum": (np.maximum, _REAL, None, False),
    "Minimum": (np.minimum, _REAL, None, False),
    "Pow": (_pow, _SIGNED_NUM, None, True),
    "SquaredDifference": (lambda x, y: np.square(np.subtract(x, y)), _FLOAT_CPLX + (_dt.int32, _dt.int64), None,
                          False),
    "Atan2": (np.arctan2, _FLOAT, None, True),
    "Less": (np.less, _REAL, _dt.bool_, False),
    "LessEqual": (np.less_equal, _REAL, _dt.bool_, False),
    "Greater": (np.greater, _REAL, _dt.bool_, False),
    "GreaterEqual": (np.greater_equal, _REAL, _dt.bool_, False),
    "Equal": (_bool(np.equal), _dt.ALL_TYPES, _dt.bool_, False),
    "NotEqual": (_bool(np.not_equal), _dt.ALL_TYPES, _dt.bool_, False),
    "LogicalAnd": (np.logical_and, (_dt.bool_,), _dt.bool_, False),
    "LogicalOr": (np.logical_or, (_dt.bool_,), _dt.bool_, False),
}

for _name, (_fn, _allowed, _out, _silent) in _BINARY.items():
    if _allowed == (_dt.bool_,):
        _ins, _outs = ["x: bool", "y: bool"], ["z: bool"]
        _allowed_map = {}
    else:
        # TF names Atan2's operands (y, x), as in atan2(y, x).
        _ins = ["y: T", "x: T"] if _name == "Atan2" else ["x: T", "y: T"]
        _outs = ["z: bool" if _out is _dt.bool_ else "z: T"]
        _allowed_map = {"T": _allowed}
    _bare = _fn if isinstance(_fn, np.ufunc) and not _silent else None
    _checked = _broadcasting(_quiet(_fn) if _silent else _fn)
    register_op(_name, inputs=_ins, outputs=_outs, allowed=_allowed_map, shape=shape_fns.broadcast,
                factory=_binary_factory(_checked, _bare),
                fresh_output=True, inplace=_inplace_binary(_bare) if _bare is not None else None)(_checked)

for _name in ("Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
              "TruncateDiv"):
    NotDifferentiable(_name)
# TF's (in)equality can answer False for operands that do not broadcast; tfmini implements its default, the error.
import_only_attr(("Equal", "NotEqual"), "incompatible_shape_error", "bool", True)


@RegisterGradient("Add")
def _add_grad(op, grad):
    return _binary_grads(op, grad, grad)


RegisterGradient("AddV2")(_add_grad)


@RegisterGradient("Sub")
def _sub_grad(op, grad):
    return _binary_grads(op, grad, -grad)


@RegisterGradient("Mul")
def _mul_grad(op, grad):
    x, y = op.inputs
    return _binary_grads(op, grad * _conj(y), _conj(x) * grad)


@RegisterGradient("RealDiv")
def _real_div_grad(op, grad):
    x, y = op.inputs
    x, y = _conj(x), _conj(y)
    return _binary_grads(op, realdiv(grad, y), grad * realdiv(realdiv(-x, y), y))


@RegisterGradient("Div")
def _div_grad(op, grad):
    x, y = op.inputs
    x, y = _conj(x), _conj(y)
    return _binary_grads(op, _binary("Div", grad, y, None), grad * _binary("Div", _binary("Div", -x, y, None), y, None))


@RegisterGradient("DivNoNan")
def _div_no_nan_grad(op, grad):
    x, y = op.inputs
    x, y = _conj(x), _conj(y)
    return _binary_grads(op, div_no_nan(grad, y), grad * div_no_nan(div_no_nan(-x, y), y))


@RegisterGradient("FloorDiv")
def _floor_div_grad(op, grad):
    return None, None


@RegisterGradient("FloorMod")
def _floor_mod_grad(op, grad):
    x, y = op.inputs
    return _binary_grads(op, grad, grad * -floordiv(x, y))


@RegisterGradient("TruncateMod")
def _truncate_mod_grad(op, grad):
    x, y = op.inputs
    if not x.dtype.is_floating:
        return None, None
    quotient = realdiv(x, y)
    truncated = sign(quotient) * floor(abs(quotient))
    return _binary_grads(op, grad, grad * -truncated)


def _min_max_grad(op, grad, x_wins):
    """x gets the gradient where it was selected (ties go to x), y elsewhere."""
    x, y = op.inputs
    chosen = x_wins(x, y)
    zeros = _zeros_like(grad)
    return _binary_grads(op, array_ops.where(chosen, grad, zeros), array_ops.where(chosen, zeros, grad))


@RegisterGradient("Maximum")
def _maximum_grad(op, grad):
    return _min_max_grad(op, grad, greater_equal)


@RegisterGradient("Minimum")
def _minimum_grad(op, grad):
    return _min_max_grad(op, grad, less_equal)


@RegisterGradient("Pow")
def _pow_grad(op, grad):
    x, y = op.inputs
    z = op.outputs[0]
    x, y, z = _conj(x), _conj(y), _conj(z)
    gx = grad * y * pow(x, y - _ops.convert_to_tensor(1, dtype=y.dtype.base_dtype))
    if x.dtype.is_complex:
        log_x = log(x)
    else:
        # log(x) only where x > 0 (elsewhere the y-gradient is 0 as in TF): log(1) there is 0.
        positive = cast(greater(x, _ops.convert_to_tensor(0, dtype=x.dtype.base_dtype)), x.dtype)
        log_x = log(maximum(x, _ops.convert_to_tensor(0, dtype=x.dtype.base_dtype)) + (1 - positive))
    return _binary_grads(op, gx, grad * z * log_x)


@RegisterGradient("SquaredDifference")
def _squared_difference_grad(op, grad):
    x, y = op.inputs
    two = _ops.convert_to_tensor(2, dtype=grad.dtype.base_dtype)
    gx = grad * (two * (x - y))
    return _binary_grads(op, gx, -gx)


@RegisterGradient("Atan2")
def _atan2_grad(op, grad):
    y, x = op.inputs
    scale = realdiv(grad, square(x) + square(y))
    return _binary_grads(op, x * scale, -y * scale)


# ----------------------------------------------------------------------------------------------------------
# Special functions (no SciPy): digamma and polygamma by recurrence plus asymptotic series
# ----------------------------------------------------------------------------------------------------------
def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # poles at 0, -1, -2, ...
        return math.inf


_BERNOULLI_2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _digamma64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    out = np.full(x.shape, np.nan)
    pole = (x <= 0) & (x == np.floor(x))
    reflect = (x < 0.5) & ~pole
    # psi(x) = psi(1 - x) - pi / tan(pi x) brings every argument above 1/2.
    z = np.where(reflect, 1.0 - x, x)
    z = np.where(pole | np.isnan(z), 1.0, z)
    acc = np.zeros_like(z)
    for _ in builtins.range(10):  # psi(z) = psi(z + 1) - 1/z up to z >= 10, where the series is exact enough
        low = z < 10
        acc -= np.where(low, 1.0 / z, 0.0)
        z = np.where(low, z + 1, z)
    inv2 = 1.0 / (z * z)
    series = sum(b / (2 * k) * inv2 ** k for k, b in enumerate(_BERNOULLI_2K, start=1))
    result = acc + np.log(z) - 0.5 / z - series
    result = np.where(reflect, result - np.pi / np.tan(np.pi * x), result)
    out = np.where(pole, np.nan, result)
    out = np.where(np.isnan(x), np.nan, out)
    return np.where(np.isposinf(x), np.inf, out)


def _polygamma64(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) for integer n >= 1 (n = 0 is digamma); nan for other n and at the poles."""
    n, x = np.broadcast_arrays(np.asarray(n, np.float64), np.asarray(x, np.float64))
    out = np.full(x.shape, np.nan)
    is_digamma = n == 0
    if np.any(is_digamma):
        out = np.where(is_digamma, _digamma64(x), out)
    valid = (n >= 1) & (n == np.floor(n)) & ~((x <= 0) & (x == np.floor(x))) & ~np.isnan(x)
    if not np.any(valid):
        return out
    nv, z = np.where(valid, n, 1.0), np.where(valid, x, 1.0)
    fact_n = np.vectorize(math.gamma, otypes=[np.float64])(nv + 1)
    sign_n = np.where(nv % 2 == 1, 1.0, -1.0)  # (-1)^(n+1)
    acc = np.zeros_like(z)
    threshold = np.maximum(15.0, nv + 10)
    while np.any(z < threshold):  # psi^(n)(z) = psi^(n)(z + 1) + (-1)^(n+1) n! / z^(n+1)
        low = z < threshold
        acc += np.where(low, sign_n * fact_n / np.where(low, z, 1.0) ** (nv + 1), 0.0)
        z = np.where(low, z + 1, z)
    fact_nm1 = fact_n / nv
    series = fact_nm1 / z ** nv + fact_n / (2 * z ** (nv + 1))
    for k, b in enumerate(_BERNOULLI_2K, start=1):
        coeff = np.vectorize(lambda m, k=k: math.gamma(2 * k + m) / math.factorial(2 * k), otypes=[np.float64])(nv)
        series = series + b * coeff / z ** (2 * k + nv)
    return np.where(valid, acc + sign_n * series, out)


def _digamma(x):
    return _digamma64(np.asarray(x)).astype(np.asarray(x).dtype)


@register_op("Polygamma", inputs=["a: T", "x: T"], outputs=["z: T"], allowed={"T": (_dt.float32, _dt.float64)},
             shape=shape_fns.broadcast)
@_quiet
def _polygamma_kernel(a, x):
    return _polygamma64(a, x).astype(np.asarray(x).dtype)


@RegisterGradient("Polygamma")
def _polygamma_grad(op, grad):
    a, x = op.inputs
    return _binary_grads(op, None, grad * polygamma(a + 1, x))


# ----------------------------------------------------------------------------------------------------------
# Elementwise unary ops: kernel, allowed types, gradient (op, grad, x, y) -> dx, silence warnings
# ----------------------------------------------------------------------------------------------------------
def _sigmoid(x):
    return (0.5 * (np.tanh(0.5 * x) + 1.0)).astype(x.dtype, copy=False)


def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _sign(x):
    """np.sign, except that the sign of NaN is 0, as in TF (NumPy gives NaN)."""
    if x.dtype.kind == "f":
        return np.where(np.isnan(x), x.dtype.type(0), np.sign(x))
    return np.sign(x)


def _one(t):
    return _ops.convert_to_tensor(1, dtype=t.dtype.base_dtype)


def _erf_scale(x):
    return _ops.convert_to_tensor(2 / np.sqrt(np.pi), dtype=x.dtype.base_dtype) * exp(-square(x))


_UNARY = {
    "Neg": (np.negative, _SIGNED_NUM, lambda op, g, x, y: -g, False),
    "Abs": (np.abs, _SIGNED, lambda op, g, x, y: g * sign(x), False),
    "Square": (np.square, _NUM,
               lambda op, g, x, y: g * (_ops.convert_to_tensor(2, dtype=x.dtype.base_dtype) * _conj(x)), True),
    "Sqrt": (np.sqrt, _FLOAT_CPLX,
             lambda op, g, x, y: g * realdiv(_ops.convert_to_tensor(0.5, dtype=y.dtype.base_dtype), _conj(y)), True),
    "Rsqrt": (_rsqrt, _FLOAT_CPLX,
              lambda op, g, x, y: g * (_ops.convert_to_tensor(-0.5, dtype=y.dtype.base_dtype) * _conj(y * y * y)),
              True),
    "Exp": (np.exp, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(y), True),
    "Expm1": (np.expm1, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(exp(x)), True),
    "Log": (np.log, _FLOAT_CPLX, lambda op, g, x, y: g * reciprocal(_conj(x)), True),
    "Log1p": (np.log1p, _FLOAT_CPLX, lambda op, g, x, y: g * reciprocal(_conj(_one(x) + x)), True),
    "Sin": (np.sin, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(cos(x)), True),
    "Cos": (np.cos, _FLOAT_CPLX, lambda op, g, x, y: -g * _conj(sin(x)), True),
    "Tan": (np.tan, _FLOAT_CPLX, lambda op, g, x, y: g * square(reciprocal(_conj(cos(x)))), True),
    "Asin": (np.arcsin, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(rsqrt(_one(x) - square(x))), True),
    "Acos": (np.arccos, _FLOAT_CPLX, lambda op, g, x, y: -g * _conj(rsqrt(_one(x) - square(x))), True),
    "Atan": (np.arctan, _FLOAT_CPLX, lambda op, g, x, y: g * reciprocal(_conj(_one(x) + square(x))), True),
    "Sinh": (np.sinh, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(cosh(x)), True),
    "Cosh": (np.cosh, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(sinh(x)), True),
    "Asinh": (np.arcsinh, _FLOAT_CPLX, lambda op, g, x, y: g * reciprocal(_conj(cosh(y))), True),
    "Acosh": (np.arccosh, _FLOAT_CPLX, lambda op, g, x, y: g * reciprocal(_conj(sinh(y))), True),
    "Atanh": (np.arctanh, _FLOAT_CPLX, lambda op, g, x, y: g * reciprocal(_conj(_one(x) - square(x))), True),
    "Tanh": (np.tanh, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(_one(y) - y * y), True),
    "Sigmoid": (_sigmoid, _FLOAT_CPLX, lambda op, g, x, y: g * _conj(y * (_one(y) - y)), True),
    "Reciprocal": (np.reciprocal, _FLOAT_CPLX, lambda op, g, x, y: -g * _conj(y * y), True),
    "Erf": (_in_float64(math.erf), _FLOAT, lambda op, g, x, y: g * _erf_scale(x), False),
    "Erfc": (_in_float64(math.erfc), _FLOAT, lambda op, g, x, y: -g * _erf_scale(x), False),
    "Lgamma": (_in_float64(_lgamma_scalar), _FLOAT, lambda op, g, x, y: g * digamma(x), False),
    "Digamma": (_digamma, _FLOAT, lambda op, g, x, y: g * polygamma(_ops.convert_to_tensor(
        1, dtype=x.dtype.base_dtype), x), True),
    "Sign": (_sign, _SIGNED_NUM, lambda op, g, x, y: _zeros_like(x), False),
    "Floor": (np.floor, _FLOAT, lambda op, g, x, y: None, False),
    "Ceil": (np.ceil, _FLOAT, lambda op, g, x, y: None, False),
    "Round": (np.round, _SIGNED_NUM, lambda op, g, x, y: None, False),
    "Rint": (np.rint, _FLOAT, lambda op, g, x, y: None, False),
}


def _unary_grad(grad_fn):
    def gradient(op, grad):
        return grad_fn(op, grad, op.inputs[0], op.outputs[0])

    return gradient


# These raise no floating-point warnings on real inputs (only complex ones can overflow), so a plan on real
# data runs them bare rather than under np.errstate, which costs more than the op on small arrays.
_WARN_FREE_ON_REAL = {"Tanh", "Sigmoid"}


def _unary_factory(fn, quiet_fn):
    def factory(op, ctx):
        return fn if op.inputs[0].dtype.is_floating else quiet_fn

    return factory


for _name, (_fn, _allowed, _grad, _silent) in _UNARY.items():
    _bare = _fn if isinstance(_fn, np.ufunc) and (not _silent or _name in _WARN_FREE_ON_REAL) else None
    register_op(_name, inputs=["x: T"], outputs=["y: T"], allowed={"T": _allowed}, shape=shape_fns.unchanged,
                fresh_output=True,
                factory=_unary_factory(_fn, _quiet(_fn)) if _silent and _name in _WARN_FREE_ON_REAL else None,
                inplace=_inplace_unary(_bare, _silent) if _bare is not None else None)(
        _quiet(_fn) if _silent else _fn
    )
    RegisterGradient(_name)(_unary_grad(_grad))

# TF's gradient helpers of the activations above, `z = helper(y, dy)` from an op's output y and the gradient dy
# flowing into it (complex values use y's conjugate, as TF's kernels do). TF's tf.gradients builds them; tfmini's
# own gradients compute the same products from primitives, so graphs TensorFlow wrote import and run here.
def _conj_np(y):
    return np.conj(y) if y.dtype.kind == "c" else y


_GRAD_HELPERS = {
    "SigmoidGrad": lambda y, dy: dy * _conj_np(y * (y.dtype.type(1) - y)),
    "TanhGrad": lambda y, dy: dy * _conj_np(y.dtype.type(1) - y * y),
    "SqrtGrad": lambda y, dy: dy * (y.dtype.type(0.5) / _conj_np(y)),
    "RsqrtGrad": lambda y, dy: dy * _conj_np(y * y * y) * y.dtype.type(-0.5),
    "ReciprocalGrad": lambda y, dy: -dy * _conj_np(y * y),
}


def _grad_helper_kernel(fn):
    def kernel(y, dy):
        if y.shape != dy.shape:
            raise _invalid(f"Inputs to operation must have the same size and shape: y {list(y.shape)} vs. "
                           f"dy {list(dy.shape)}")
        return np.asarray(fn(y, dy), dtype=y.dtype)

    return _quiet(kernel)


def _grad_helper_shape(op):
    return op.inputs[0].shape.merge_with(op.inputs[1].shape)


for _name, _fn in _GRAD_HELPERS.items():
    register_op(_name, inputs=["y: T", "dy: T"], outputs=["z: T"], allowed={"T": _FLOAT_CPLX},
                shape=_grad_helper_shape, fresh_output=True)(_grad_helper_kernel(_fn))


def _helper(op_type: str, y, dy) -> _ops.Tensor:
    return apply_op(op_type, [y, dy]).outputs[0]


def _const_like(value, t) -> _ops.Tensor:
    return _ops.convert_to_tensor(value, dtype=t.dtype.base_dtype)


# Each helper is linear in dy (its gradient there is the helper applied to the incoming gradient, as in TF); the
# gradient in y is the derivative of the product with respect to y.
@RegisterGradient("SigmoidGrad")
def _sigmoid_grad_grad(op, grad):
    y, dy = op.inputs
    gb = grad * dy
    return gb - _const_like(2, y) * gb * y, _helper("SigmoidGrad", y, grad)


@RegisterGradient("TanhGrad")
def _tanh_grad_grad(op, grad):
    y, dy = op.inputs
    return _const_like(-2, y) * grad * dy * _conj(y), _helper("TanhGrad", y, grad)


@RegisterGradient("SqrtGrad")
def _sqrt_grad_grad(op, grad):
    y, dy = op.inputs
    ga = grad * _conj(op.outputs[0] / y)  # d(0.5 dy / y)/dy_in = -z / y
    return -ga, _helper("SqrtGrad", y, grad)


@RegisterGradient("RsqrtGrad")
def _rsqrt_grad_grad(op, grad):
    y, dy = op.inputs
    return grad * _conj(_const_like(-1.5, y) * dy * y * y), _helper("RsqrtGrad", y, grad)


@RegisterGradient("ReciprocalGrad")
def _reciprocal_grad_grad(op, grad):
    y, dy = op.inputs
    return grad * _conj(_const_like(-2, y) * dy * y), _helper("ReciprocalGrad", y, grad)


for _name, _fn in {"IsNan": np.isnan, "IsInf": np.isinf, "IsFinite": np.isfinite}.items():
    register_op(_name, inputs=["x: T"], outputs=["y: bool"], allowed={"T": _FLOAT}, shape=shape_fns.unchanged)(_fn)
    NotDifferentiable(_name)

register_op("LogicalNot", inputs=["x: bool"], outputs=["y: bool"], shape=shape_fns.unchanged)(np.logical_not)
NotDifferentiable("LogicalNot")


# ----------------------------------------------------------------------------------------------------------
# Complex parts
# ----------------------------------------------------------------------------------------------------------
@register_op("Conj", inputs=["input: T"], outputs=["output: T"], attrs={"T": ("type", _dt.complex64)},
             allowed={"T": _dt.COMPLEX}, shape=shape_fns.unchanged)
def _conj_kernel(x):
    return np.conj(x)


@RegisterGradient("Conj")
def _conj_grad(op, grad):
    return conj(grad)


# TF names ComplexAbs's argument and result x and y, Real's and Imag's input and output.
for _name, _fn, _x, _y in (("Real", np.real, "input", "output"), ("Imag", np.imag, "input", "output"),
                           ("ComplexAbs", np.abs, "x", "y")):
    def _part_kernel(x, *, Tout, _fn=_fn):  # noqa: N803 - TF's attr name
        return np.asarray(_fn(x)).astype(Tout.as_numpy_dtype)

    register_op(
        _name, inputs=[f"{_x}: T"], outputs=[f"{_y}: Tout"],
        attrs={"T": ("type", _dt.complex64), "Tout": ("type", _dt.float32)},
        allowed={"T": _dt.COMPLEX, "Tout": (_dt.float32, _dt.float64)}, shape=shape_fns.unchanged,
    )(_part_kernel)


@register_op(
    "Complex", inputs=["real: T", "imag: T"], outputs=["out: Tout"],
    attrs={"T": ("type", _dt.float32), "Tout": ("type", _dt.complex64)},
    allowed={"T": (_dt.float32, _dt.float64), "Tout": _dt.COMPLEX}, shape=shape_fns.broadcast,
)
def _complex_kernel(re, im, *, Tout):  # noqa: N803 - TF's attr name
    return (np.asarray(re) + 1j * np.asarray(im)).astype(Tout.as_numpy_dtype)


@RegisterGradient("Real")
def _real_grad(op, grad):
    return complex(grad, _zeros_like(grad))


@RegisterGradient("Imag")
def _imag_grad(op, grad):
    return complex(_zeros_like(grad), grad)


@RegisterGradient("Complex")
def _complex_grad(op, grad):
    return _binary_grads(op, real(grad), imag(grad))


@RegisterGradient("ComplexAbs")
def _complex_abs_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return div_no_nan(complex(grad, _zeros_like(grad)) * x, complex(y, _zeros_like(y)))


# ----------------------------------------------------------------------------------------------------------
# AddN, Cast
# ----------------------------------------------------------------------------------------------------------
def _add_n_shape(op):
    result = _shape.unknown_shape()
    for t in op.inputs:
        result = result.merge_with(t.shape)
    return result


@register_op("AddN", inputs=["inputs: N * T"], outputs=["sum: T"], allowed={"T": (*_NUM, _dt.variant)},
             shape=_add_n_shape)
def _add_n(*inputs, T):  # noqa: N803 - TF's attr name
    if T == _dt.variant:
        # Variants that can be summed (TensorList values, which TF's while_v2 gradients add) define `+`.
        try:
            return functools.reduce(operator.add, inputs)
        except TypeError:
            kinds = sorted({type(x).__name__ for x in inputs})
            raise _invalid(f"AddN cannot add variants holding {', '.join(kinds)}") from None
    first = np.shape(inputs[0])
    for i, x in enumerate(inputs):
        if np.shape(x) != first:
            raise _invalid(f"Inputs to operation AddN of type AddN must have the same size and shape.  Input 0: "
                           f"{list(first)} != input {i}: {list(np.shape(x))}")
    out = np.add(inputs[0], inputs[1]) if len(inputs) > 1 else np.array(inputs[0], copy=True)
    for x in inputs[2:]:
        out = np.add(out, x)
    return out


_reg.attr_minimum("AddN", "N", 1)


@RegisterGradient("AddN")
def _add_n_grad(op, grad):
    return [grad] * len(op.inputs)


@register_op(
    "Cast",
    inputs=["x: SrcT"],
    outputs=["y: DstT"],
    attrs={"Truncate": ("bool", False)},
    shape=shape_fns.unchanged,
)
@_quiet
def _cast(x, *, DstT):  # noqa: N803 - TF's attr name
    x = np.asarray(x)
    if (x.dtype.kind == "O") != (DstT.base_dtype == _dt.string):
        # TF has no string <-> number cast (NumPy would parse b"1.5"); tf.strings.to_number is the way.
        raise NotImplementedError(f"Cast {_dt.as_dtype(x.dtype).name} to {DstT.name} is not supported")
    want = DstT.as_numpy_dtype
    if x.dtype.kind == "c" and np.dtype(want).kind != "c":
        x = np.real(x)  # TF keeps the real part when casting complex to real
    return x.astype(want, copy=False)


@register_static_value("Cast")
def _cast_static(t):
    v = _reg.constant_value(t.op.inputs[0])
    return None if v is None else _cast(np.asarray(v), DstT=t.dtype.base_dtype)


_CASTABLE_GRAD = frozenset(_dt.FLOATING + _dt.COMPLEX + (_dt.bfloat16,))


@RegisterGradient("Cast")
def _cast_grad(op, grad):
    src = op.inputs[0].dtype.base_dtype
    if src in _CASTABLE_GRAD and grad.dtype.base_dtype in _CASTABLE_GRAD:
        return cast(grad, src)
    return None


# ----------------------------------------------------------------------------------------------------------
# Matrix products: MatMul (2-D), BatchMatMulV2 (broadcast batch dims), Einsum
# ----------------------------------------------------------------------------------------------------------
def _matmul_shape(op):
    a, b = op.inputs[0].shape.with_rank(2), op.inputs[1].shape.with_rank(2)
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    m, ka = (a[1], a[0]) if ta else (a[0], a[1])
    kb, n = (b[1], b[0]) if tb else (b[0], b[1])
    if not ka.is_compatible_with(kb):
        raise ValueError(f"Dimensions must be equal, but are {ka} and {kb}")
    return [m, n]


_MATMUL_TYPES = _dt.FLOATING + (_dt.int32, _dt.int64) + _dt.COMPLEX


@register_op(
    "MatMul",
    inputs=["a: T", "b: T"],
    outputs=["product: T"],
    attrs={"transpose_a": ("bool", False), "transpose_b": ("bool", False)},
    allowed={"T": _MATMUL_TYPES},
    shape=_matmul_shape,
    fresh_output=True,
)
def _matmul(a, b, *, transpose_a, transpose_b):
    if a.ndim != 2 or b.ndim != 2:
        raise _invalid(f"In[0] and In[1] must be matrices, got shapes {list(a.shape)} and {list(b.shape)}")
    if transpose_a:
        a = a.T
    if transpose_b:
        b = b.T
    if a.shape[1] != b.shape[0]:
        raise _invalid(f"Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: {list(b.shape)}")
    return np.matmul(a, b)


# TF marks products it builds for gradients (a hint for kernels that fuse them): an import ignores it.
import_only_attr("MatMul", "grad_a", "bool", False, hint=True)
import_only_attr("MatMul", "grad_b", "bool", False, hint=True)


@RegisterGradient("MatMul")
def _matmul_grad(op, grad):
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    a, b = _conj(op.inputs[0]), _conj(op.inputs[1])

    def mm(x, y, tx=False, ty=False):
        return apply_op("MatMul", [x, y], {"transpose_a": tx, "transpose_b": ty}).outputs[0]

    if not ta and not tb:
        return mm(grad, b, ty=True), mm(a, grad, tx=True)
    if not ta and tb:
        return mm(grad, b), mm(grad, a, tx=True)
    if ta and not tb:
        return mm(b, grad, ty=True), mm(a, grad)
    return mm(b, grad, tx=True, ty=True), mm(grad, a, tx=True, ty=True)


def _batch_matmul_shape(op):
    a, b = op.inputs[0].shape, op.inputs[1].shape
    if a.ndims is None or b.ndims is None:
        return _shape.unknown_shape()
    if a.ndims < 2 or b.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {min(a.ndims, b.ndims)}")
    adj_x, adj_y = op.get_attr("adj_x"), op.get_attr("adj_y")
    ad, bd = a.as_list(), b.as_list()
    m, ka = (ad[-1], ad[-2]) if adj_x else (ad[-2], ad[-1])
    kb, n = (bd[-1], bd[-2]) if adj_y else (bd[-2], bd[-1])
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"Dimensions must be equal, but are {ka} and {kb}")
    batch = shape_fns.broadcast_static(_shape.TensorShape(ad[:-2]), _shape.TensorShape(bd[:-2]))
    return batch.concatenate([m, n])


def _adjoint(x, adj):
    x = np.swapaxes(x, -1, -2) if adj else x
    return np.conj(x) if adj and x.dtype.kind == "c" else x


@register_op(
    "BatchMatMulV2",
    inputs=["x: T", "y: T"],
    outputs=["output: T"],
    attrs={"adj_x": ("bool", False), "adj_y": ("bool", False)},
    allowed={"T": _MATMUL_TYPES},
    shape=_batch_matmul_shape,
    fresh_output=True,
)
def _batch_matmul(x, y, *, adj_x, adj_y):
    if x.ndim < 2 or y.ndim < 2:
        raise _invalid(f"In[0] and In[1] must have rank >= 2, got shapes {list(x.shape)} and {list(y.shape)}")
    a, b = _adjoint(x, adj_x), _adjoint(y, adj_y)
    if a.shape[-1] != b.shape[-2]:
        raise _invalid(f"Matrix size-incompatible: In[0]: {list(x.shape)}, In[1]: {list(y.shape)}")
    if not _broadcastable(a.shape[:-2], b.shape[:-2]):
        raise _invalid(f"In[0] and In[1] must have compatible batch dimensions: {list(x.shape)} vs. {list(y.shape)}")
    return np.matmul(a, b)


import_only_attr("BatchMatMulV2", "grad_x", "bool", False, hint=True)
import_only_attr("BatchMatMulV2", "grad_y", "bool", False, hint=True)


@RegisterGradient("BatchMatMulV2")
def _batch_matmul_grad(op, grad):
    x, y = op.inputs
    adj_x, adj_y = op.get_attr("adj_x"), op.get_attr("adj_y")

    def bmm(a, b, ax=False, ay=False):
        return apply_op("BatchMatMulV2", [a, b], {"adj_x": ax, "adj_y": ay}).outputs[0]

    if not adj_x and not adj_y:
        gx, gy = bmm(grad, y, ay=True), bmm(x, grad, ax=True)
    elif not adj_x:
        gx, gy = bmm(grad, y), bmm(grad, x, ax=True)
    elif not adj_y:
        gx, gy = bmm(y, grad, ay=True), bmm(x, grad)
    else:
        gx, gy = bmm(y, grad, ax=True, ay=True), bmm(grad, x, ax=True, ay=True)
    return _reduce_to_shape(gx, x), _reduce_to_shape(gy, y)


def _parse_einsum(equation: str, ranks: list[int | None]):
    """Splits an einsum equation into per-input subscripts and the output subscripts ('.' marks '...')."""
    eq = equation.replace(" ", "").replace("...", ".")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ranks):
        raise ValueError(f"Expected {len(ins)} inputs for equation {equation!r}, got {len(ranks)}")
    for s in ins + ([rhs] if arrow else []):
        if any(c not in string.ascii_letters and c != "." for c in s) or s.count(".") > 1:
            raise ValueError(f"Invalid einsum equation {equation!r}")
    if not arrow:
        letters = "".join(ins).replace(".", "")
        rhs = ("." if any("." in s for s in ins) else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    for c in rhs:
        if c != "." and c not in lhs:
            raise ValueError(f"Output subscript {c!r} of einsum equation {equation!r} appears in no input")
    return ins, rhs


def _einsum_shape(op):
    shapes = [t.shape for t in op.inputs]
    if any(s.ndims is None for s in shapes):
        return _shape.unknown_shape()
    ins, rhs = _parse_einsum(op.get_attr("equation"), [s.ndims for s in shapes])
    dims: dict = {}
    ell = _shape.scalar()
    for subs, s in zip(ins, shapes):
        d = s.as_list()
        n_ell = len(d) - len(subs.replace(".", ""))
        if n_ell < 0 or (n_ell and "." not in subs):
            raise ValueError(f"Input of rank {len(d)} does not match einsum subscripts {subs!r}")
        i = 0
        for c in subs:
            if c == ".":
                ell = shape_fns.broadcast_static(ell, _shape.TensorShape(d[i:i + n_ell]))
                i += n_ell
                continue
            prev = dims.get(c)
            if prev is not None and d[i] is not None and prev != d[i] and prev != 1 and d[i] != 1:
                raise ValueError(f"Dimensions must be equal for einsum subscript {c!r}, but are {prev} and {d[i]}")
            if prev is None or prev == 1:
                dims[c] = d[i]
            i += 1
    out = []
    for c in rhs:
        out.extend(ell.as_list() if c == "." else [dims[c]])
    return out


@register_op(
    "Einsum",
    inputs=["inputs: N * T"],
    outputs=["output: T"],
    attrs={"equation": ("string", _reg.REQUIRED)},
    allowed={"T": _NUM},
    shape=_einsum_shape,
)
def _einsum_kernel(*inputs, equation):
    try:
        out = np.einsum(equation, *inputs)
    except ValueError as e:
        raise _invalid(f"Einsum {equation!r}: {e}") from None
    return np.asarray(out, dtype=inputs[0].dtype)


_reg.attr_minimum("Einsum", "N", 1)


@RegisterGradient("Einsum")
def _einsum_grad(op, grad):
    """Each operand's gradient is an einsum of the output gradient with the other operands (and with ones over
    the subscripts only that operand has, which it summed on its own)."""
    ins, rhs = _parse_einsum(op.get_attr("equation"), [t.shape.ndims for t in op.inputs])
    grads = []
    for i, (x, subs) in enumerate(zip(op.inputs, ins)):
        if len(set(subs)) != len(subs) or ("." in subs and not subs.startswith(".")):
            raise ValueError(f"Gradient of einsum {op.get_attr('equation')!r} is not supported: operand {i} "
                             "repeats a subscript or has '...' after a subscript")
        others = [(s, t) for j, (s, t) in enumerate(zip(ins, op.inputs)) if j != i]
        elsewhere = set(rhs).union(*(s for s, _ in others))
        own = "".join(c for c in subs if c != "." and c not in elsewhere)
        terms, operands = [rhs] + [s for s, _ in others], [grad] + [_conj(t) for _, t in others]
        if own:
            terms.append(own)
            operands.append(_ones_over(x, subs, own))
        eq = (",".join(terms) + "->" + subs).replace(".", "...")
        g = apply_op("Einsum", [operands], {"equation": eq}).outputs[0]
        if "." in subs and not (g.shape.is_fully_defined() and g.shape == x.shape):
            # g's ellipsis dims are the output's: x's broadcast with the other operands' (or dropped, if the
            # output has none). Stretch g over x's, then sum away what x did not have.
            g = _reduce_to_shape(g + _zeros_like(x), x)
        grads.append(g)
    return grads


def _ones_over(x: _ops.Tensor, subs: str, letters: str):
    """Ones shaped like the dims of x that `letters` label in `subs` (letters are x's trailing dims)."""
    positions = [subs.index(c) - len(subs) for c in letters]
    if x.shape.is_fully_defined():
        dims = x.shape.as_list()
        return np.ones([dims[p] for p in positions], dtype=x.dtype.as_numpy_dtype)
    sx = _shape_of(x)
    return array_ops.ones(array_ops.stack([sx[p] for p in positions]), dtype=x.dtype.base_dtype)


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
    """The reduction axes as non-negative ints; as in TF, a scalar has no axis to reduce over."""
    axis = np.reshape(axis, [-1])
    if not _axes_valid(axis, x.ndim):
        bad = next(int(a) for a in axis if not -x.ndim <= a < x.ndim)
        raise _invalid(f"Invalid reduction dimension ({bad} for input with {x.ndim} dimension(s)")
    return tuple(int(a) % x.ndim for a in axis)


def _int_mean(x, axis, keepdims):
    s = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
    n = max(1, x.size // max(1, np.size(s)))
    return np.trunc(s / n).astype(x.dtype)


def _mean(x, axis, keepdims):
    if x.dtype.kind in "iu":
        return _int_mean(x, axis, keepdims)
    count = int(np.prod([x.shape[a] for a in axis])) if axis else 1
    acc = np.float32 if x.dtype == np.float16 else x.dtype  # half sums accumulate in float32, as in TF
    with np.errstate(all="ignore"):  # an empty reduction is 0/0 = nan, silently
        return np.true_divide(np.sum(x, axis=axis, keepdims=keepdims, dtype=acc), count).astype(x.dtype)


def _lowest(x):
    return -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min


def _highest(x):
    return np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max


_REDUCTIONS = {
    "Sum": (lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype), _NUM),
    "Prod": (lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype), _NUM),
    "Mean": (_mean, _NUM),
    "Max": (lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims, initial=_lowest(x)), _REAL),
    "Min": (lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims, initial=_highest(x)), _REAL),
}


def _make_reduction(fn):
    def kernel(x, axis, *, keep_dims):
        return np.asarray(fn(x, _axes(x, axis), keep_dims), dtype=x.dtype)

    return kernel


# Reductions whose result already has the input's dtype when computed by these ufuncs.
_UFUNC_REDUCTIONS = {"Sum": np.add, "Prod": np.multiply}


def _reduction_factory(name: str, fn):
    """Per-plan kernel: with static axes and input rank (the usual case) the axes are normalized once and,
    for Sum/Prod, the ufunc reduces directly; otherwise the general kernel checks the axes every run."""
    general = _make_reduction(fn)
    ufunc = _UFUNC_REDUCTIONS.get(name)

    def factory(op, ctx):
        keep = op.get_attr("keep_dims")
        axis = _reg.constant_value(op.inputs[1])
        rank = op.inputs[0].shape.ndims
        if axis is None or rank is None or not _axes_valid(axis, rank):
            return lambda x, a: general(x, a, keep_dims=keep)
        axes = tuple(sorted({int(a) % rank for a in np.reshape(axis, [-1])}))
        if ufunc is not None:
            reduce = ufunc.reduce
            if not axes:
                return lambda x, a: x  # reducing over no axis is the identity
            return lambda x, a: reduce(x, axis=axes, dtype=x.dtype, keepdims=keep)
        return lambda x, a: np.asarray(fn(x, axes, keep), dtype=x.dtype)

    return factory


def _axes_valid(axis, rank: int) -> bool:
    return all(-rank <= int(a) < rank for a in np.reshape(axis, [-1]))


for _name, (_fn, _allowed) in _REDUCTIONS.items():
    register_op(
        _name,
        inputs=["input: T", "reduction_indices: Tidx"],
        outputs=["output: T"],
        attrs={"keep_dims": ("bool", False), "Tidx": ("type", _dt.int32)},
        allowed={"T": _allowed, "Tidx": _INDEX},
        shape=_reduction_shape,
        factory=_reduction_factory(_name, _fn),
    )(_make_reduction(_fn))

# keepdims by keyword: np.all/np.any take `out` as their third positional parameter.
for _name, _fn in {"All": lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims),
                   "Any": lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims)}.items():
    register_op(
        _name,
        inputs=["input: bool", "reduction_indices: Tidx"],
        outputs=["output: bool"],
        attrs={"keep_dims": ("bool", False), "Tidx": ("type", _dt.int32)},
        allowed={"Tidx": _INDEX},
        shape=_reduction_shape,
    )(_make_reduction(_fn))
    NotDifferentiable(_name)


def _kept_dims_shape(x: _ops.Tensor, axes: _ops.Tensor):
    """The shape of reduce(x, axes, keepdims=True): statically when rank and axes are known."""
    rank = x.shape.ndims
    axes_value = _reg.constant_value(axes)
    if rank is not None and axes_value is not None:
        reduced = {int(a) % rank for a in np.reshape(axes_value, [-1])} if rank else set()
        if x.shape.is_fully_defined():
            return np.asarray([1 if i in reduced else d for i, d in enumerate(x.shape.as_list())], dtype=np.int32)
        keep = np.asarray([0 if i in reduced else 1 for i in builtins.range(rank)], dtype=np.int32)
        return _shape_of(x) * keep + (1 - keep)
    r = array_ops.rank(x)
    axes = floormod(cast(axes, _dt.int32), r)
    hit = reduce_any(equal(_reshape(array_ops.range(0, r), [-1, 1]), _reshape(axes, [1, -1])), axis=1)
    hit = cast(hit, _dt.int32)
    return _shape_of(x) * (1 - hit) + hit


def _grad_at_input_shape(op, grad):
    """The reduction's output gradient reshaped to keep_dims form, stretched over the reduced axes."""
    x, axes = op.inputs
    if not op.get_attr("keep_dims"):
        grad = _reshape(grad, _kept_dims_shape(x, axes))
    return _broadcast_like(grad, x)


@RegisterGradient("Sum")
def _sum_grad(op, grad):
    return _grad_at_input_shape(op, grad), None


def _reduced_count(op) -> _ops.Tensor:
    """How many input elements went into each output element of a reduction."""
    x, y = op.inputs[0], op.outputs[0]
    nx, ny = x.shape.num_elements(), y.shape.num_elements()
    if nx is not None and ny is not None:
        return _ops.convert_to_tensor(nx // max(ny, 1), dtype=_dt.int32)
    return floordiv(array_ops.size(x), maximum(array_ops.size(y), 1))


@RegisterGradient("Mean")
def _mean_grad(op, grad):
    return realdiv(_grad_at_input_shape(op, grad), cast(_reduced_count(op), grad.dtype)), None


@RegisterGradient("Prod")
def _prod_grad(op, grad):
    """d prod / d x_i is the product of all the other reduced elements, computed without dividing by x_i (so
    zeros are fine) from exclusive cumulative products: per static axis in turn, or at run time over the
    reduced axes transposed to the front and flattened."""
    x, axes = op.inputs
    g = _grad_at_input_shape(op, grad)
    axes_value, rank = _reg.constant_value(axes), x.shape.ndims
    if axes_value is None or rank is None:
        reduced, rest = _axes_and_rest(x, axes)
        perm = array_ops.concat([reduced, rest], 0)
        permuted = array_ops.transpose(x, perm)
        sx = _shape_of(x)
        rows = _reshape(permuted, array_ops.stack([reduce_prod(array_ops.gather(sx, reduced)),
                                                   reduce_prod(array_ops.gather(sx, rest))]))
        others = cumprod(rows, 0, exclusive=True) * cumprod(rows, 0, exclusive=True, reverse=True)
        others = array_ops.transpose(_reshape(others, _shape_of(permuted)), array_ops.invert_permutation(perm))
        return g * others, None
    reduced = sorted({int(a) % rank for a in np.reshape(axes_value, [-1])}) if rank else []
    others = None
    partial = x
    for a in reduced:
        excl = (cumprod(partial, axis=a, exclusive=True) * cumprod(partial, axis=a, exclusive=True, reverse=True))
        others = excl if others is None else others * excl
        partial = reduce_prod(partial, axis=a, keepdims=True)
    if others is None:
        return g, None
    return g * _broadcast_like(others, x), None


def _min_or_max_grad(op, grad):
    x, axes = op.inputs
    kept = _kept_dims_shape(x, axes)
    y = _reshape(op.outputs[0], kept)
    g = _reshape(grad, kept)
    chosen = cast(equal(y, x), grad.dtype)
    count = _reshape(reduce_sum(chosen, axes), kept)
    return realdiv(chosen, count) * g, None


RegisterGradient("Max")(_min_or_max_grad)
RegisterGradient("Min")(_min_or_max_grad)


def _argminmax_shape(op):
    axis = _reg.constant_value(op.inputs[1])
    if axis is None:
        return _shape.unknown_shape()
    return shape_fns.reduced(op.inputs[0].shape, [int(axis)], False)


for _name, _fn in {"ArgMax": np.argmax, "ArgMin": np.argmin}.items():
    def _arg_kernel(x, dimension, *, output_type, _fn=_fn):
        d = int(dimension)
        if not -x.ndim <= d < x.ndim:
            raise _invalid(f"Expected dimension in the range [{-x.ndim}, {x.ndim}), but got {d}")
        if x.shape[d] == 0:
            raise _invalid(f"Reduction axis {d} is empty in shape {list(x.shape)}")
        return np.asarray(_fn(x, axis=d)).astype(output_type.as_numpy_dtype)

    register_op(
        _name,
        inputs=["input: T", "dimension: Tidx"],
        outputs=["output: output_type"],
        attrs={"output_type": ("type", _dt.int64), "Tidx": ("type", _dt.int32)},
        allowed={"T": _REAL, "Tidx": _INDEX, "output_type": _INDEX},
        shape=_argminmax_shape,
    )(_arg_kernel)
    NotDifferentiable(_name)


# ----------------------------------------------------------------------------------------------------------
# Scans: Cumsum, Cumprod
# ----------------------------------------------------------------------------------------------------------
def _make_scan(ufunc):
    def kernel(x, axis, *, exclusive, reverse):
        a = int(axis)
        if not -x.ndim <= a < x.ndim:
            raise _invalid(f"Expected scan axis in the range [{-x.ndim}, {x.ndim}), but got {a}")
        v = np.flip(x, a) if reverse else x
        out = ufunc.accumulate(v, axis=a, dtype=x.dtype)
        n = x.shape[a]
        if exclusive and n:
            ident = np.full_like(np.take(out, [0], axis=a), ufunc.identity)
            out = np.concatenate([ident, np.take(out, np.arange(n - 1), axis=a)], axis=a)
        return np.flip(out, a) if reverse else out

    return _quiet(kernel)


for _name, _ufunc in {"Cumsum": np.add, "Cumprod": np.multiply}.items():
    register_op(
        _name,
        inputs=["x: T", "axis: Tidx"],
        outputs=["out: T"],
        attrs={"exclusive": ("bool", False), "reverse": ("bool", False), "Tidx": ("type", _dt.int32)},
        allowed={"T": _NUM, "Tidx": _INDEX},
        shape=shape_fns.unchanged,
    )(_make_scan(_ufunc))


@RegisterGradient("Cumsum")
def _cumsum_grad(op, grad):
    return cumsum(grad, op.inputs[1], exclusive=op.get_attr("exclusive"), reverse=not op.get_attr("reverse")), None


@RegisterGradient("Cumprod")
def _cumprod_grad(op, grad):
    x, axis = op.inputs
    exclusive, reverse = op.get_attr("exclusive"), op.get_attr("reverse")
    prod = cumprod(x, axis, exclusive=exclusive, reverse=reverse)
    out = cumsum(prod * grad, axis, exclusive=exclusive, reverse=not reverse)
    return realdiv(out, x), None


# ----------------------------------------------------------------------------------------------------------
# UnsortedSegmentSum (the dense form of IndexedSlices)
# ----------------------------------------------------------------------------------------------------------
def _segment_sum_shape(op):
    data, ids = op.inputs[0].shape, op.inputs[1].shape
    n = _reg.constant_value(op.inputs[2])
    if data.ndims is None or ids.ndims is None:
        return _shape.unknown_shape()
    return [None if n is None else int(n)] + data.as_list()[ids.ndims:]


@register_op(
    "UnsortedSegmentSum",
    inputs=["data: T", "segment_ids: Tindices", "num_segments: Tnumsegments"],
    outputs=["output: T"],
    attrs={"Tnumsegments": ("type", _dt.int32)},
    allowed={"T": _NUM, "Tindices": _INDEX, "Tnumsegments": _INDEX},
    shape=_segment_sum_shape,
)
def _unsorted_segment_sum(data, segment_ids, num_segments):
    n = int(num_segments)
    ids = np.asarray(segment_ids)
    if data.shape[:ids.ndim] != ids.shape:
        raise _invalid(f"data.shape = {list(data.shape)} does not start with segment_ids.shape = {list(ids.shape)}")
    bad = ids >= n
    if np.any(bad):
        raise _invalid(f"segment_ids[{np.argwhere(bad)[0].tolist()}] = {ids[bad][0]} is out of range [0, {n})")
    out = np.zeros((n,) + data.shape[ids.ndim:], dtype=data.dtype)
    keep = ids >= 0  # negative ids are dropped, as in TF
    np.add.at(out, ids[keep], data[keep])
    return out


@RegisterGradient("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, grad):
    ids = op.inputs[1]
    valid = greater_equal(ids, _ops.convert_to_tensor(0, dtype=ids.dtype.base_dtype))
    gathered = array_ops.gather(grad, maximum(ids, _ops.convert_to_tensor(0, dtype=ids.dtype.base_dtype)))
    mask = cast(valid, grad.dtype)
    # The mask has the ids' rank; the gathered rows may have more dims, so give the mask trailing 1s.
    if gathered.shape.ndims is not None and ids.shape.ndims is not None:
        trailing = np.ones(gathered.shape.ndims - ids.shape.ndims, np.int32)
    else:
        trailing = array_ops.ones(array_ops.reshape(array_ops.rank(gathered) - array_ops.rank(ids), [1]),
                                  _dt.int32)
    mask = _reshape(mask, array_ops.concat([_shape_of(ids), trailing], 0))
    return gathered * mask, None, None


# ----------------------------------------------------------------------------------------------------------
# Python API: elementwise ops
# ----------------------------------------------------------------------------------------------------------
def _binary(op_type: str, x, y, name):
    return apply_op(op_type, [x, y], name=name).outputs[0]


def _unary(op_type: str, x, name):
    return apply_op(op_type, [x], name=name).outputs[0]


@tf_export("add", "math.add")
def add(x, y, name=None) -> _ops.Tensor:
    return _binary("Add", x, y, name)


@tf_export("math.subtract", "sub", "subtract")
def subtract(x, y, name=None) -> _ops.Tensor:
    return _binary("Sub", x, y, name)


@tf_export("math.multiply", "mul", "multiply")
def multiply(x, y, name=None) -> _ops.Tensor:
    return _binary("Mul", x, y, name)


@tf_export("math.scalar_mul", "scalar_mul")
def scalar_mul(scalar, x, name=None) -> _ops.Tensor | IndexedSlices:
    """`scalar * x` for a scalar and a Tensor or IndexedSlices."""
    scalar = _ops.convert_to_tensor(scalar, dtype=x.dtype.base_dtype, name="scalar")
    if scalar.shape.ndims != 0:  # as in TF, the scalar's rank must be known
        raise ValueError(f"Only scalar multiply works, got shape {scalar.shape}")
    if hasattr(x, "_is_composite_tensor"):
        return x._with_values(multiply(scalar, x.values, name=name))
    return multiply(scalar, x, name=name)


@tf_export("math.realdiv", "realdiv")
def realdiv(x, y, name=None) -> _ops.Tensor:
    return _binary("RealDiv", x, y, name)


@tf_export("div_no_nan", "math.divide_no_nan")
def div_no_nan(x, y, name=None) -> _ops.Tensor:
    """x / y, or 0 where y is 0."""
    with _ops.name_scope(name, "div_no_nan", [x, y]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        y = _ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        return apply_op("DivNoNan", [x, y], name=scope).outputs[0]


divide_no_nan = div_no_nan


@tf_export("floordiv", "math.floordiv")
def floordiv(x, y, name=None) -> _ops.Tensor:
    return _binary("FloorDiv", x, y, name or "floordiv")


@tf_export("floormod", "math.floormod", "math.mod", "mod")
def floormod(x, y, name=None) -> _ops.Tensor:
    return _binary("FloorMod", x, y, name)


@tf_export("math.truncatediv", "truncatediv")
def truncatediv(x, y, name=None) -> _ops.Tensor:
    return _binary("TruncateDiv", x, y, name)


@tf_export("math.truncatemod", "truncatemod")
def truncatemod(x, y, name=None) -> _ops.Tensor:
    return _binary("TruncateMod", x, y, name)


@tf_export("div")
def div(x, y, name=None) -> _ops.Tensor:
    """`tf.div`: Python 2 division semantics (integer inputs floor-divide, floats divide)."""
    x = _ops.convert_to_tensor(x)
    y = _ops.convert_to_tensor(y, dtype=x.dtype.base_dtype)
    if x.dtype.is_integer:
        return _binary("FloorDiv", x, y, name or "div")
    return _binary("RealDiv", x, y, name or "div")


@tf_export("divide", "math.divide", "math.truediv", "truediv")
def truediv(x, y, name=None) -> _ops.Tensor:
    """`tf.truediv`: integer inputs are cast to floats first (int8/16 -> float32, int32/64 -> float64)."""
    with _ops.name_scope(name, "truediv", [x, y]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        if not isinstance(y, _ops.Tensor):
            y = _ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        return _truediv_scoped(x, y, scope)


divide = truediv


@tf_export("math.maximum", "maximum")
def maximum(x, y, name=None) -> _ops.Tensor:
    return _binary("Maximum", x, y, name)


@tf_export("math.minimum", "minimum")
def minimum(x, y, name=None) -> _ops.Tensor:
    return _binary("Minimum", x, y, name)


@tf_export("math.pow", "pow")
def pow(x, y, name=None) -> _ops.Tensor:  # noqa: A001 - TF's public name
    return _binary("Pow", x, y, name)


@tf_export("math.squared_difference", "squared_difference")
def squared_difference(x, y, name=None) -> _ops.Tensor:
    return _binary("SquaredDifference", x, y, name)


@tf_export("atan2", "math.atan2")
def atan2(y, x, name=None) -> _ops.Tensor:
    return _binary("Atan2", y, x, name)


@tf_export("math.polygamma", "polygamma")
def polygamma(a, x, name=None) -> _ops.Tensor:
    """The n-th derivative of digamma at x, for integer-valued n = a >= 0."""
    return _binary("Polygamma", a, x, name)


@tf_export("less", "math.less")
def less(x, y, name=None) -> _ops.Tensor:
    return _binary("Less", x, y, name)


@tf_export("less_equal", "math.less_equal")
def less_equal(x, y, name=None) -> _ops.Tensor:
    return _binary("LessEqual", x, y, name)


@tf_export("greater", "math.greater")
def greater(x, y, name=None) -> _ops.Tensor:
    return _binary("Greater", x, y, name)


@tf_export("greater_equal", "math.greater_equal")
def greater_equal(x, y, name=None) -> _ops.Tensor:
    return _binary("GreaterEqual", x, y, name)


@tf_export("equal", "math.equal")
def equal(x, y, name=None) -> _ops.Tensor:
    return _binary("Equal", x, y, name)


@tf_export("math.not_equal", "not_equal")
def not_equal(x, y, name=None) -> _ops.Tensor:
    return _binary("NotEqual", x, y, name)


@tf_export("logical_and", "math.logical_and")
def logical_and(x, y, name=None) -> _ops.Tensor:
    return _binary("LogicalAnd", x, y, name)


@tf_export("logical_or", "math.logical_or")
def logical_or(x, y, name=None) -> _ops.Tensor:
    return _binary("LogicalOr", x, y, name)


@tf_export("logical_not", "math.logical_not")
def logical_not(x, name=None) -> _ops.Tensor:
    return _unary("LogicalNot", x, name)


@tf_export("logical_xor", "math.logical_xor")
def logical_xor(x, y, name="LogicalXor") -> _ops.Tensor:
    with _ops.name_scope(name, "LogicalXor", [x, y]):
        return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


@tf_export("math.negative", "neg", "negative")
def negative(x, name=None) -> _ops.Tensor:
    return _unary("Neg", x, name)


@tf_export("abs", "math.abs")
def abs(x, name=None) -> _ops.Tensor:  # noqa: A001 - TF's public name
    """|x|; for complex x, the magnitude (a real tensor)."""
    with _ops.name_scope(name, "Abs", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        if x.dtype.is_complex:
            return apply_op("ComplexAbs", [x], {"Tout": x.dtype.real_dtype}, name=scope).outputs[0]
        return apply_op("Abs", [x], name=scope).outputs[0]


def _api_name(op_type: str) -> str:
    """The Python name of the op's wrapper: 'IsNan' -> 'is_nan'."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op_type).lower()


def _named(fn, op_type: str, doc: str):
    fn.__name__ = fn.__qualname__ = _api_name(op_type)
    fn.__doc__ = doc
    return fn


def _unary_api(op_type: str, doc: str = ""):
    def fn(x, name=None) -> _ops.Tensor:
        return _unary(op_type, x, name)

    return _named(fn, op_type, doc or f"Elementwise `{op_type}` of x.")


square = _unary_api("Square")
tf_export("math.square", "square")(square)
sqrt = _unary_api("Sqrt")
tf_export("math.sqrt", "sqrt")(sqrt)
rsqrt = _unary_api("Rsqrt", "1 / sqrt(x), elementwise.")
tf_export("math.rsqrt", "rsqrt")(rsqrt)
exp = _unary_api("Exp")
tf_export("exp", "math.exp")(exp)
expm1 = _unary_api("Expm1", "exp(x) - 1, accurate for small x.")
tf_export("expm1", "math.expm1")(expm1)
log = _unary_api("Log", "Natural logarithm, elementwise.")
tf_export("log", "math.log")(log)
log1p = _unary_api("Log1p", "log(1 + x), accurate for small x.")
tf_export("log1p", "math.log1p")(log1p)
sin = _unary_api("Sin")
tf_export("math.sin", "sin")(sin)
cos = _unary_api("Cos")
tf_export("cos", "math.cos")(cos)
tan = _unary_api("Tan")
tf_export("math.tan", "tan")(tan)
asin = _unary_api("Asin")
tf_export("asin", "math.asin")(asin)
acos = _unary_api("Acos")
tf_export("acos", "math.acos")(acos)
atan = _unary_api("Atan")
tf_export("atan", "math.atan")(atan)
sinh = _unary_api("Sinh")
tf_export("math.sinh", "sinh")(sinh)
cosh = _unary_api("Cosh")
tf_export("cosh", "math.cosh")(cosh)
asinh = _unary_api("Asinh")
tf_export("asinh", "math.asinh")(asinh)
acosh = _unary_api("Acosh")
tf_export("acosh", "math.acosh")(acosh)
atanh = _unary_api("Atanh")
tf_export("atanh", "math.atanh")(atanh)
tanh = _unary_api("Tanh")
tf_export("math.tanh", "nn.tanh", "tanh")(tanh)
sigmoid = _unary_api("Sigmoid", "1 / (1 + exp(-x)), elementwise.")
tf_export("math.sigmoid", "nn.sigmoid", "sigmoid")(sigmoid)
reciprocal = _unary_api("Reciprocal", "1 / x, elementwise.")
tf_export("math.reciprocal", "reciprocal")(reciprocal)
erf = _unary_api("Erf", "The Gauss error function, elementwise.")
tf_export("erf", "math.erf")(erf)
erfc = _unary_api("Erfc", "1 - erf(x), elementwise.")
tf_export("erfc", "math.erfc")(erfc)
lgamma = _unary_api("Lgamma", "log|Gamma(x)|, elementwise.")
tf_export("lgamma", "math.lgamma")(lgamma)
digamma = _unary_api("Digamma", "The derivative of lgamma, elementwise.")
tf_export("digamma", "math.digamma")(digamma)
sign = _unary_api("Sign", "-1, 0 or 1 by the sign of x (x / |x| for complex x).")
tf_export("math.sign", "sign")(sign)
floor = _unary_api("Floor")
tf_export("floor", "math.floor")(floor)
ceil = _unary_api("Ceil")
tf_export("ceil", "math.ceil")(ceil)
round = _unary_api("Round", "x rounded to the nearest integer, halves to even.")  # noqa: A001 - TF's public name
tf_export("math.round", "round")(round)
rint = _unary_api("Rint", "x rounded to the nearest integer, halves to even.")
tf_export("math.rint", "rint")(rint)
is_nan = _unary_api("IsNan")
tf_export("debugging.is_nan", "is_nan", "math.is_nan")(is_nan)
is_inf = _unary_api("IsInf")
tf_export("debugging.is_inf", "is_inf", "math.is_inf")(is_inf)
is_finite = _unary_api("IsFinite")
tf_export("debugging.is_finite", "is_finite", "math.is_finite")(is_finite)


@tf_export("conj", "math.conj")
def conj(x, name=None) -> _ops.Tensor:
    """The complex conjugate; real tensors are returned unchanged."""
    x = _ops.convert_to_tensor(x)
    if x.dtype.is_complex:
        return apply_op("Conj", [x], name=name).outputs[0]
    if x.dtype.is_floating or x.dtype.is_integer:
        return x
    raise TypeError(f"Expected numeric tensor, got dtype {x.dtype!r}")


@tf_export("math.real", "real")
def real(input, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """The real part of a complex tensor (a real tensor is returned unchanged)."""
    x = _ops.convert_to_tensor(input)
    if not x.dtype.is_complex:
        return x
    return apply_op("Real", [x], {"Tout": x.dtype.real_dtype}, name=name).outputs[0]


@tf_export("imag", "math.imag")
def imag(input, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """The imaginary part of a complex tensor (zeros for a real tensor)."""
    x = _ops.convert_to_tensor(input)
    if not x.dtype.is_complex:
        return _zeros_like(x)
    return apply_op("Imag", [x], {"Tout": x.dtype.real_dtype}, name=name).outputs[0]


@tf_export("complex", "dtypes.complex", "math.complex")
def complex(real, imag, name=None) -> _ops.Tensor:  # noqa: A001 - TF's public name
    """real + 1j * imag; float32 parts give complex64, float64 parts complex128."""
    real = _ops.convert_to_tensor(real, name="real")
    imag = _ops.convert_to_tensor(imag, dtype=real.dtype.base_dtype, name="imag")
    tout = {_dt.float32: _dt.complex64, _dt.float64: _dt.complex128}.get(real.dtype.base_dtype)
    if tout is None:
        raise TypeError(f"real and imag must be float32 or float64, got {real.dtype.name}")
    return apply_op("Complex", [real, imag], {"Tout": tout}, name=name).outputs[0]


@tf_export("add_n", "math.add_n")
def add_n(inputs, name=None) -> _ops.Tensor:
    """Sums a list of tensors of the same shape and dtype."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the same dtype and shape")
    if any(hasattr(t, "_is_composite_tensor") for t in inputs):
        inputs = [_ops.convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:  # as in TF: the input itself, or a named Identity of it when a name is given
        value = _ops.convert_to_tensor(inputs[0])
        return array_ops.identity(value, name=name) if name else value
    return apply_op("AddN", [list(inputs)], name=name).outputs[0]


@tf_export("accumulate_n", "math.accumulate_n")
def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None) -> _ops.Tensor:
    """`tf.accumulate_n`: the sum of tensors of one dtype and shape, as add_n; `shape` and `tensor_dtype`, when
    given, must agree with the inputs (ValueError / TypeError otherwise)."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")
    inputs = [_ops.convert_to_tensor(t) for t in inputs]
    if any(t.dtype != inputs[0].dtype for t in inputs):
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")
    merged = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
    for t in inputs:
        merged = merged.merge_with(t.shape)
    if tensor_dtype is not None and _dt.as_dtype(tensor_dtype) != inputs[0].dtype:
        raise TypeError(f"tensor_dtype is {tensor_dtype}, but input is of type {inputs[0].dtype}")
    if len(inputs) == 1 and name is None:
        return inputs[0]
    return add_n(inputs, name=name)


# ----------------------------------------------------------------------------------------------------------
# Python API: matrix products
# ----------------------------------------------------------------------------------------------------------
@tf_export("linalg.matmul", "matmul")
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None) -> _ops.Tensor:
    """Matrix product; inputs of rank > 2 are batches of matrices, with broadcast batch dimensions.

    `transpose_*` / `adjoint_*` (conjugate transpose) apply to the last two dimensions of an operand.
    """
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    with _ops.name_scope(name, "MatMul", [a, b]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")  # as in TF1: no conversion to a's dtype
        ra, rb = a.shape.ndims, b.shape.ndims
        if ra is None or rb is None or ra > 2 or rb > 2:
            if transpose_a and a.dtype.is_complex:
                a, adjoint_a = conj(a), True
            if transpose_b and b.dtype.is_complex:
                b, adjoint_b = conj(b), True
            return apply_op(
                "BatchMatMulV2", [a, b],
                {"adj_x": bool(transpose_a or adjoint_a), "adj_y": bool(transpose_b or adjoint_b)}, name=scope,
            ).outputs[0]
        if adjoint_a:
            a = conj(a)
        if adjoint_b:
            b = conj(b)
        return apply_op(
            "MatMul", [a, b],
            {"transpose_a": bool(transpose_a or adjoint_a), "transpose_b": bool(transpose_b or adjoint_b)},
            name=scope,
        ).outputs[0]


@tf_export("einsum", "linalg.einsum")
def einsum(equation, *inputs, **kwargs) -> _ops.Tensor:
    """`tf.einsum`: a tensor contraction written in Einstein summation notation ('ij,jk->ik')."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"invalid keyword arguments for this function: {', '.join(sorted(kwargs))}")
    with _ops.name_scope(name, "einsum", list(inputs)) as scope:
        tensors = [_ops.convert_to_tensor(x, name="input") for x in inputs]
        return apply_op("Einsum", [tensors], {"equation": equation}, name=scope).outputs[0]


@tf_export("linalg.tensordot", "tensordot")
def tensordot(a, b, axes, name=None) -> _ops.Tensor:
    """Sums the products of a's and b's elements over the given axes (an int n: a's last n with b's first n;
    or a pair of axis lists). Both inputs need a known rank."""
    with _ops.name_scope(name, "Tensordot", [a, b, axes]) as scope:
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")  # as in TF1: no conversion to a's dtype
        ra, rb = a.shape.ndims, b.shape.ndims
        if isinstance(axes, (int, np.integer)):
            n = int(axes)
            if n < 0:
                raise ValueError(f"'axes' must be at least 0, got {n}.")
            if (ra is not None and n > ra) or (rb is not None and n > rb):
                raise ValueError(f"'axes' must not be larger than the number of dimensions of tensor {a}.")
            a_axes, b_axes = list(builtins.range(-n, 0)), list(builtins.range(n))
        else:
            if len(axes) != 2:
                raise ValueError(f"'axes' must be an integer or have length 2, got {axes!r}")
            a_axes, b_axes = ([int(v)] if np.ndim(v) == 0 else [int(i) for i in v] for v in axes)
            if len(a_axes) != len(b_axes):
                raise ValueError(f"Different number of contraction axes 'a' and 'b', {len(a_axes)} != {len(b_axes)}.")
        if ra is None or rb is None:
            return _tensordot_by_matmul(a, b, a_axes, b_axes, scope)
        for axis, rank in [(i, ra) for i in a_axes] + [(j, rb) for j in b_axes]:
            if not -rank <= axis < rank:
                raise ValueError(f"tensordot axis {axis} is out of range for a tensor of rank {rank}")
        a_axes = [i % ra for i in a_axes]
        b_axes = [i % rb for i in b_axes]
        letters = iter(string.ascii_letters)
        sa = [next(letters) for _ in builtins.range(ra)]
        sb = [next(letters) for _ in builtins.range(rb)]
        for i, j in zip(a_axes, b_axes):
            sb[j] = sa[i]
        out = [c for i, c in enumerate(sa) if i not in a_axes] + [c for j, c in enumerate(sb) if j not in b_axes]
        eq = f"{''.join(sa)},{''.join(sb)}->{''.join(out)}"
        return apply_op("Einsum", [[a, b]], {"equation": eq}, name=scope).outputs[0]


def _axes_and_rest(x: _ops.Tensor, axes) -> tuple[_ops.Tensor, _ops.Tensor]:
    """At run time: `axes` of x made non-negative, and x's other axes in order (int32 vectors)."""
    rank = array_ops.rank(x)
    axes = floormod(cast(_reshape(axes, [-1]), _dt.int32), rank)
    every = array_ops.range(rank)
    is_axis = reduce_any(equal(_reshape(every, [-1, 1]), _reshape(axes, [1, -1])), axis=1)
    return axes, array_ops.boolean_mask(every, logical_not(is_axis))


def _tensordot_by_matmul(a, b, a_axes, b_axes, name):
    """tensordot for operands of unknown rank: each operand transposed and reshaped to a matrix (contracted dims
    together), one MatMul, and the result reshaped to a's free dims followed by b's."""
    def as_matrix(x, axes, contracted_first):
        shape = array_ops.shape(x)
        axes, free = _axes_and_rest(x, np.asarray(axes, dtype=np.int32))
        free_dims = array_ops.gather(shape, free)
        n_free, n_axes = reduce_prod(free_dims), reduce_prod(array_ops.gather(shape, axes))
        if contracted_first:
            perm, dims = array_ops.concat([axes, free], 0), array_ops.stack([n_axes, n_free])
        else:
            perm, dims = array_ops.concat([free, axes], 0), array_ops.stack([n_free, n_axes])
        return _reshape(array_ops.transpose(x, perm), dims), free_dims

    a2, a_free = as_matrix(a, a_axes, False)
    b2, b_free = as_matrix(b, b_axes, True)
    return array_ops.reshape(matmul(a2, b2), array_ops.concat([a_free, b_free], 0), name=name)


# ----------------------------------------------------------------------------------------------------------
# Python API: casts
# ----------------------------------------------------------------------------------------------------------
@tf_export("cast", "dtypes.cast")
def cast(x, dtype, name=None) -> _ops.Tensor:
    """Casts `x` to `dtype` (a no-op returning `x` when it already has that dtype)."""
    base = _dt.as_dtype(dtype).base_dtype
    if hasattr(x, "_is_composite_tensor"):
        return x._with_values(cast(x.values, base, name=name))
    x = _ops.convert_to_tensor(x, name="x")
    if x.dtype.base_dtype == base:
        return x
    return apply_op("Cast", [x], {"DstT": base}, name=name or "Cast").outputs[0]


@tf_export("dtypes.saturate_cast", "saturate_cast")
def saturate_cast(value, dtype, name=None) -> _ops.Tensor:
    """Casts `value` to `dtype`, clamping it to the range of `dtype` first."""
    with _ops.name_scope(name, "saturate_cast", [value]) as scope:
        value = _ops.convert_to_tensor(value, name="value")
        dtype = _dt.as_dtype(dtype).base_dtype
        if value.dtype.min < dtype.min:
            value = maximum(value, _ops.convert_to_tensor(dtype.min, dtype=value.dtype.base_dtype))
        if value.dtype.max > dtype.max:
            value = minimum(value, _ops.convert_to_tensor(dtype.max, dtype=value.dtype.base_dtype))
        return cast(value, dtype, name=scope)


@tf_export("to_float")
def to_float(x, name="ToFloat") -> _ops.Tensor:
    return cast(x, _dt.float32, name=name)


@tf_export("to_double")
def to_double(x, name="ToDouble") -> _ops.Tensor:
    return cast(x, _dt.float64, name=name)


@tf_export("to_int32")
def to_int32(x, name="ToInt32") -> _ops.Tensor:
    return cast(x, _dt.int32, name=name)


@tf_export("to_int64")
def to_int64(x, name="ToInt64") -> _ops.Tensor:
    return cast(x, _dt.int64, name=name)


@tf_export("to_bfloat16")
def to_bfloat16(x, name="ToBFloat16") -> _ops.Tensor:
    return cast(x, _dt.bfloat16, name=name)


@tf_export("to_complex64")
def to_complex64(x, name="ToComplex64") -> _ops.Tensor:
    return cast(x, _dt.complex64, name=name)


@tf_export("to_complex128")
def to_complex128(x, name="ToComplex128") -> _ops.Tensor:
    return cast(x, _dt.complex128, name=name)


# ----------------------------------------------------------------------------------------------------------
# Python API: reductions and scans
# ----------------------------------------------------------------------------------------------------------
def _merge_reduce_args(axis, keepdims, reduction_indices, keep_dims):
    if reduction_indices is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'reduction_indices'.")
        axis = reduction_indices
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
        keepdims = keep_dims
    return axis, bool(keepdims)


def _reduce(op_type: str, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    axis, keepdims = _merge_reduce_args(axis, keepdims, reduction_indices, keep_dims)
    x = _ops.convert_to_tensor(input_tensor)
    with x.graph.as_default():
        axes = _ops.convert_to_tensor(_reduction_axes(x, axis), preferred_dtype=_dt.int32)
        return apply_op(op_type, [x, axes], {"keep_dims": keepdims}, name=name).outputs[0]


def _reduction_api(op_type: str, doc: str):
    def reduce(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> _ops.Tensor:
        return _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)

    fn = _named(reduce, op_type, doc)
    fn.__name__ = fn.__qualname__ = "reduce_" + fn.__name__
    return fn


reduce_sum = _reduction_api("Sum", "The sum of the elements over `axis` (all axes when None).")
tf_export("math.reduce_sum", "reduce_sum")(reduce_sum)
reduce_prod = _reduction_api("Prod", "The product of the elements over `axis` (all axes when None).")
tf_export("math.reduce_prod", "reduce_prod")(reduce_prod)
reduce_mean = _reduction_api("Mean", "The mean of the elements over `axis` (all axes when None), truncated for ints.")
tf_export("math.reduce_mean", "reduce_mean")(reduce_mean)
reduce_max = _reduction_api("Max", "The largest element over `axis` (all axes when None).")
tf_export("math.reduce_max", "reduce_max")(reduce_max)
reduce_min = _reduction_api("Min", "The smallest element over `axis` (all axes when None).")
tf_export("math.reduce_min", "reduce_min")(reduce_min)
reduce_all = _reduction_api("All", "Logical and over `axis` (all axes when None).")
tf_export("math.reduce_all", "reduce_all")(reduce_all)
reduce_any = _reduction_api("Any", "Logical or over `axis` (all axes when None).")
tf_export("math.reduce_any", "reduce_any")(reduce_any)


@tf_export("math.reduce_logsumexp", "reduce_logsumexp")
def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None) -> _ops.Tensor:
    """log(sum(exp(x))) over `axis`, computed stably by shifting by the (finite part of the) maximum."""
    axis, keepdims = _merge_reduce_args(axis, keepdims, reduction_indices, keep_dims)
    with _ops.name_scope(name, "ReduceLogSumExp", [input_tensor]) as scope:
        x = _ops.convert_to_tensor(input_tensor)
        raw_max = reduce_max(x, axis, keepdims=True)
        # Clamping to the finite range keeps an infinite max from turning inf - inf into nan.
        big = _ops.convert_to_tensor(x.dtype.max, dtype=x.dtype.base_dtype)
        shift = array_ops.stop_gradient(minimum(maximum(raw_max, -big), big))
        result = log(reduce_sum(exp(x - shift), axis, keepdims=keepdims))
        if not keepdims:
            shift = _reshape(shift, _shape_of(result))
        return add(result, shift, name=scope)


@tf_export("math.reduce_variance")
def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> _ops.Tensor:
    """The variance, mean(|x - mean(x)|^2), over `axis`."""
    with _ops.name_scope(name, "reduce_variance", [input_tensor]):
        x = _ops.convert_to_tensor(input_tensor)
        means = reduce_mean(x, axis, keepdims=True)
        return reduce_mean(square(abs(x - means)), axis, keepdims=keepdims)


@tf_export("math.reduce_std")
def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> _ops.Tensor:
    """The standard deviation over `axis`."""
    with _ops.name_scope(name, "reduce_std", [input_tensor]):
        return sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


@tf_export("math.reduce_euclidean_norm")
def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None) -> _ops.Tensor:
    """sqrt(sum(x^2)) over `axis`."""
    with _ops.name_scope(name, "reduce_euclidean_norm", [input_tensor]):
        return sqrt(reduce_sum(square(input_tensor), axis, keepdims=keepdims))


@tf_export("count_nonzero", "math.count_nonzero")
def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=_dt.int64, name=None, reduction_indices=None,
                  keep_dims=None, input=None) -> _ops.Tensor:  # noqa: A002 - TF's deprecated argument name
    """How many elements along `axis` are not zero (not False, not empty); `input` is the old name of
    `input_tensor`."""
    if input is not None:
        if input_tensor is not None:
            raise ValueError("Cannot specify both 'input' and 'input_tensor'.")
        input_tensor = input
    axis, keepdims = _merge_reduce_args(axis, keepdims, reduction_indices, keep_dims)
    with _ops.name_scope(name, "count_nonzero", [input_tensor]):
        x = _ops.convert_to_tensor(input_tensor, name="input_tensor")
        zero = _ops.convert_to_tensor(b"" if x.dtype == _dt.string else (False if x.dtype.is_bool else 0),
                                      dtype=x.dtype.base_dtype)
        return cast(reduce_sum(cast(not_equal(x, zero), _dt.int64), axis, keepdims=keepdims), dtype)


@tf_export("argmax", "math.argmax")
def argmax(input, axis=None, name=None, dimension=None, output_type=_dt.int64) -> _ops.Tensor:  # noqa: A002
    if dimension is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dimension'.")
        axis = dimension
    axis = 0 if axis is None else axis
    return apply_op("ArgMax", [input, axis], {"output_type": output_type}, name=name).outputs[0]


@tf_export("argmin", "math.argmin")
def argmin(input, axis=None, name=None, dimension=None, output_type=_dt.int64) -> _ops.Tensor:  # noqa: A002
    if dimension is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dimension'.")
        axis = dimension
    axis = 0 if axis is None else axis
    return apply_op("ArgMin", [input, axis], {"output_type": output_type}, name=name).outputs[0]


@tf_export("arg_max")
def arg_max(input, dimension, output_type=_dt.int64, name=None) -> _ops.Tensor:  # noqa: A002 - TF's name
    """The ArgMax op itself: the index of the largest entry along `dimension` (TF1's name of argmax)."""
    return apply_op("ArgMax", [input, dimension], {"output_type": _dt.as_dtype(output_type)}, name=name).outputs[0]


@tf_export("arg_min")
def arg_min(input, dimension, output_type=_dt.int64, name=None) -> _ops.Tensor:  # noqa: A002 - TF's name
    """The ArgMin op itself: the index of the smallest entry along `dimension` (TF1's name of argmin)."""
    return apply_op("ArgMin", [input, dimension], {"output_type": _dt.as_dtype(output_type)}, name=name).outputs[0]


@tf_export("floor_div")
def floor_div(x, y, name=None) -> _ops.Tensor:
    """The FloorDiv op itself: x / y rounded towards negative infinity (no Python-operator conversions)."""
    return _binary("FloorDiv", x, y, name)


@tf_export("cumsum", "math.cumsum")
def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> _ops.Tensor:
    """Cumulative sum along `axis` (exclusive: shifted by one, starting at 0; reverse: from the end)."""
    attrs = {"exclusive": bool(exclusive), "reverse": bool(reverse)}
    return apply_op("Cumsum", [x, axis], attrs, name=name).outputs[0]


@tf_export("cumprod", "math.cumprod")
def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> _ops.Tensor:
    """Cumulative product along `axis` (exclusive: shifted by one, starting at 1; reverse: from the end)."""
    attrs = {"exclusive": bool(exclusive), "reverse": bool(reverse)}
    return apply_op("Cumprod", [x, axis], attrs, name=name).outputs[0]


@tf_export("math.unsorted_segment_sum", "unsorted_segment_sum")
def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> _ops.Tensor:
    """output[i] = sum of data[j] over j with segment_ids[j] == i (negative ids are dropped)."""
    return apply_op("UnsortedSegmentSum", [data, segment_ids, num_segments], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Python API: clipping
# ----------------------------------------------------------------------------------------------------------
@tf_export("clip_by_value")
def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> _ops.Tensor:
    """Clamps `t` to [clip_value_min, clip_value_max]; the gradient reaches t where it was not clipped."""
    with _ops.name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as scope:
        values = _ops.convert_to_tensor(t.values if hasattr(t, "_is_composite_tensor") else t, name="t")
        t_min = minimum(values, clip_value_max)
        values.shape.merge_with(t_min.shape)  # a bound must not broadcast t to a bigger shape
        t_max = maximum(t_min, clip_value_min, name=scope)
        values.shape.merge_with(t_max.shape)
        return t._with_values(t_max) if hasattr(t, "_is_composite_tensor") else t_max


def _l2_norm_safe(values, axes):
    """sqrt(sum(values^2, axes, keepdims)) with a gradient that stays finite at the zero vector."""
    l2sum = reduce_sum(values * values, axes, keepdims=True)
    zero = cast(less_equal(l2sum, _ops.convert_to_tensor(0, dtype=l2sum.dtype.base_dtype)), l2sum.dtype)
    return sqrt(l2sum + zero) * (1 - zero)


@tf_export("clip_by_norm")
def clip_by_norm(t, clip_norm, axes=None, name=None) -> _ops.Tensor:
    """Rescales `t` so that its L2 norm over `axes` is at most `clip_norm`."""
    with _ops.name_scope(name, "clip_by_norm", [t, clip_norm]) as scope:
        values = _ops.convert_to_tensor(t.values if hasattr(t, "_is_composite_tensor") else t, name="t")
        clip_norm = _ops.convert_to_tensor(clip_norm, dtype=values.dtype.base_dtype)
        l2norm = _l2_norm_safe(values, axes)
        clipped = array_ops.identity(values * clip_norm / maximum(l2norm, clip_norm), name=scope)
        return t._with_values(clipped) if hasattr(t, "_is_composite_tensor") else clipped


@tf_export("clip_by_average_norm")
def clip_by_average_norm(t, clip_norm, name=None) -> _ops.Tensor:
    """Rescales `t` so that its L2 norm divided by its number of elements is at most `clip_norm`."""
    with _ops.name_scope(name, "clip_by_average_norm", [t, clip_norm]) as scope:
        t = _ops.convert_to_tensor(t, name="t")
        n_element = cast(array_ops.size(t), _dt.float32)
        l2norm_inv = rsqrt(reduce_sum(t * t, array_ops.range(array_ops.rank(t))))
        one = _ops.convert_to_tensor(1.0)
        return array_ops.identity(t * clip_norm * minimum(l2norm_inv * n_element, one / clip_norm), name=scope)


@tf_export("global_norm", "linalg.global_norm")
def global_norm(t_list, name=None) -> _ops.Tensor:
    """sqrt of the sum of squares of every element of every tensor in `t_list` (None entries are skipped)."""
    if not isinstance(t_list, (list, tuple)) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    with _ops.name_scope(name, "global_norm", [t for t in t_list if t is not None]) as scope:
        squares = []
        for i, t in enumerate(t_list):
            if t is None:
                continue
            v = _ops.convert_to_tensor(t.values if hasattr(t, "_is_composite_tensor") else t, name=f"t_{i}")
            squares.append(reduce_sum(v * v))
        if not squares:
            raise ValueError("global_norm needs at least one tensor")
        return sqrt(add_n(squares), name=scope)


@tf_export("linalg.norm", "norm")
def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None, keep_dims=None) -> _ops.Tensor:  # noqa: A002
    """`tf.norm`: the vector p-norm over `axis` (an int, or all elements when None) or the matrix norm over a
    2-tuple `axis`. Vectors: 'euclidean' (2), 1, np.inf or any p > 0; matrices: 'euclidean'/'fro', 1 (largest
    column sum), np.inf (largest row sum) and 2 (the largest singular value)."""
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
        keepdims = keep_dims
    keepdims = bool(keepdims)
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if isinstance(axis, (list, tuple)) and len(axis) not in (1, 2) or (
            is_matrix and axis[0] == axis[1]):
        raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
    supported = ["euclidean", "fro", 1, 2, np.inf] if is_matrix else ["euclidean", 1, 2, np.inf]
    if ord not in supported and (is_matrix or not (isinstance(ord, (int, float)) and ord > 0)):
        raise ValueError(f"'ord' must be a supported {'matrix' if is_matrix else 'vector'} norm, got {ord}")
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    with _ops.name_scope(name, "norm", [tensor]):
        x = _ops.convert_to_tensor(tensor)
        mag = abs(x)
        if is_matrix:
            rows, cols = axis
            if ord in ("euclidean", "fro"):
                result = sqrt(reduce_sum(mag * mag, axis=list(axis), keepdims=True))
            elif ord == 1:  # the largest absolute column sum
                result = reduce_max(reduce_sum(mag, axis=rows, keepdims=True), axis=cols, keepdims=True)
            elif ord == 2:
                return _spectral_norm(x, axis, keepdims)
            else:  # np.inf: the largest absolute row sum
                result = reduce_max(reduce_sum(mag, axis=cols, keepdims=True), axis=rows, keepdims=True)
            return result if keepdims else _squeeze(result, list(axis))
        if ord in ("euclidean", 2):
            result = sqrt(reduce_sum(mag * mag, axis=axis, keepdims=True))
        elif ord == 1:
            result = reduce_sum(mag, axis=axis, keepdims=True)
        elif ord == np.inf:
            result = reduce_max(mag, axis=axis, keepdims=True)
        else:
            p = _ops.convert_to_tensor(ord, dtype=mag.dtype.base_dtype)
            result = pow(reduce_sum(pow(mag, p), axis=axis, keepdims=True), 1.0 / p)
        if keepdims:
            return result
        return array_ops.reshape(result, []) if axis is None else _squeeze(result, [axis])


def _spectral_norm(x: _ops.Tensor, axis, keepdims: bool) -> _ops.Tensor:
    """The largest singular value of the matrices over the two `axis` of x (the Svd op is created by type: the
    linear-algebra module sits above this one)."""
    ndims = x.shape.ndims
    if ndims is not None:
        axes = [int(a) % ndims for a in axis]
        perm = [i for i in builtins.range(ndims) if i not in axes] + axes
        kept_shape = [1 if i in axes else d for i, d in enumerate(x.shape.as_list())]
    else:
        axes, rest = _axes_and_rest(x, np.asarray(axis, np.int32))
        perm = array_ops.concat([rest, axes], 0)
        every = array_ops.range(array_ops.rank(x))
        is_axis = reduce_any(equal(_reshape(every, [-1, 1]), _reshape(axes, [1, -1])), axis=1)
        shape = array_ops.shape(x)
        kept_shape = array_ops.where_v2(is_axis, array_ops.ones_like(shape), shape)
    moved = array_ops.transpose(x, perm)
    values = apply_op("Svd", [moved], {"compute_uv": False, "full_matrices": False}).outputs[0]
    result = reduce_max(abs(values), axis=-1)
    if not keepdims:
        return result
    if ndims is not None and None in kept_shape:
        kept_shape = array_ops.where_v2(
            _ops.convert_to_tensor([i in axes for i in builtins.range(ndims)]),
            array_ops.ones([ndims], _dt.int32), array_ops.shape(x))
    return array_ops.reshape(result, kept_shape)


def _squeeze(x, axes):
    return array_ops.squeeze(x, axis=list(axes))


@tf_export("clip_by_global_norm")
def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None) -> tuple[list, _ops.Tensor]:
    """Scales every tensor in `t_list` by clip_norm / max(global_norm, clip_norm); returns (list, norm).

    If the norm is inf or nan, every entry becomes nan, as in TF.
    """
    if not isinstance(t_list, (list, tuple)) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with _ops.name_scope(name, "clip_by_global_norm", [t for t in t_list if t is not None] + [clip_norm]):
        use_norm = _ops.convert_to_tensor(use_norm)
        clip_norm = _ops.convert_to_tensor(clip_norm, dtype=use_norm.dtype.base_dtype, name="clip_norm")
        one = _ops.convert_to_tensor(1.0, dtype=use_norm.dtype.base_dtype)
        scale = clip_norm * minimum(one / use_norm, one / clip_norm)
        nan = _ops.convert_to_tensor(np.nan, dtype=use_norm.dtype.base_dtype)
        scale = array_ops.where(is_finite(use_norm), scale, nan)  # every entry nan when the norm is not finite
        clipped = []
        for i, t in enumerate(t_list):
            if t is None:
                clipped.append(None)
                continue
            v = t.values if hasattr(t, "_is_composite_tensor") else _ops.convert_to_tensor(t)
            out = array_ops.identity(v * cast(scale, v.dtype), name=f"_clipped_{i}")
            clipped.append(t._with_values(out) if hasattr(t, "_is_composite_tensor") else out)
        return clipped, use_norm


# ----------------------------------------------------------------------------------------------------------
# Tensor operators
# ----------------------------------------------------------------------------------------------------------
def _binary_operator(fn, op_name: str):
    def forward(x, y):
        with _ops.name_scope(None, op_name, [x, y]) as scope:
            if not isinstance(y, _ops.Tensor):
                # Only a non-tensor converts to x's dtype; two tensors meet in the op itself, whose dtype
                # check is TF's TypeError naming both inputs.
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
    if y.dtype.base_dtype != dt:
        raise TypeError(f"x and y must have the same dtype, got {dt!r} != {y.dtype.base_dtype!r}")
    if dt.is_bool or dt == _dt.string:
        raise TypeError(f"Invalid dtype {dt!r} in __truediv__")
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


def _comparison(op_type: str):
    def compare(x, y):
        return apply_op(op_type, [x, y], name=op_type).outputs[0]

    return compare


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
        # As in TF, comparisons are the ops themselves: y converts as the op's input 'y' does.
        setattr(T, f"__{dunder}__", _comparison(op_type))
    T.__neg__ = lambda x: apply_op("Neg", [x], name="Neg").outputs[0]
    T.__abs__ = lambda x: abs(x, name="Abs")
    T.__invert__ = lambda x: apply_op("LogicalNot", [x], name="LogicalNot").outputs[0]


_install_operators()
