"""Math ops against NumPy references (values and dtypes, with broadcasting) and their gradients against finite
differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from gradient_checker import (
    BROADCAST_SHAPES,
    FLOAT_DTYPES,
    INT_DTYPES,
    check_against_numpy,
    check_gradients,
    random_array,
)

import tfmini as tf
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops

GRAD_SHAPES = [((), ()), ((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), (2, 3))]


def _pair(shapes, dtype=np.float64, low=-2.0, high=2.0, y_low=None, y_high=None):
    sx, sy = shapes
    x = random_array(sx, dtype, low, high, seed=1)
    y = random_array(sy, dtype, low if y_low is None else y_low, high if y_high is None else y_high, seed=2)
    return x, y


def _away_from_zero(a, margin=0.25):
    """Values pushed out of (-margin, margin), keeping their sign (divisors, kinks)."""
    return np.where(a >= 0, a + margin, a - margin).astype(a.dtype)


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed_dict=feed)


# ----------------------------------------------------------------------------------------------------------
# Elementwise binary ops
# ----------------------------------------------------------------------------------------------------------
def _np_trunc_div(x, y):
    if np.asarray(x).dtype.kind in "iu":
        return (np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))).astype(np.asarray(x).dtype)
    return np.trunc(x / y)


def _add_v2(x, y):
    return apply_op("AddV2", [x, y]).outputs[0]


# name: (tf function, NumPy reference, dtypes, x range, y range (None: same), y kept away from zero)
BINARY = {
    "add_v2": (_add_v2, np.add, FLOAT_DTYPES + INT_DTYPES, (-5, 5), None, False),
    "add": (tf.add, np.add, FLOAT_DTYPES + INT_DTYPES, (-5, 5), None, False),
    "subtract": (tf.subtract, np.subtract, FLOAT_DTYPES + INT_DTYPES, (-5, 5), None, False),
    "multiply": (tf.multiply, np.multiply, FLOAT_DTYPES + INT_DTYPES, (-5, 5), None, False),
    "realdiv": (tf.realdiv, np.divide, FLOAT_DTYPES, (-5, 5), None, True),
    "div_float": (tf.div, np.divide, FLOAT_DTYPES, (-5, 5), None, True),
    "div_int_floors": (tf.div, np.floor_divide, INT_DTYPES, (-9, 9), None, True),
    "floordiv": (tf.floordiv, np.floor_divide, FLOAT_DTYPES + INT_DTYPES, (-9, 9), None, True),
    "floormod": (tf.floormod, np.mod, FLOAT_DTYPES + INT_DTYPES, (-9, 9), None, True),
    "truncatediv": (tf.truncatediv, _np_trunc_div, INT_DTYPES, (-9, 9), None, True),
    "truncatemod": (tf.truncatemod, np.fmod, FLOAT_DTYPES + INT_DTYPES, (-9, 9), None, True),
    "maximum": (tf.maximum, np.maximum, FLOAT_DTYPES + INT_DTYPES, (-5, 5), None, False),
    "minimum": (tf.minimum, np.minimum, FLOAT_DTYPES + INT_DTYPES, (-5, 5), None, False),
    "pow": (tf.pow, np.power, FLOAT_DTYPES, (0.5, 2), (-2, 2), False),
    "pow_int": (tf.pow, np.power, INT_DTYPES, (-4, 4), (0, 4), False),
    "squared_difference": (tf.squared_difference, lambda x, y: np.square(x - y), FLOAT_DTYPES + INT_DTYPES,
                           (-5, 5), None, False),
    "atan2": (tf.atan2, np.arctan2, FLOAT_DTYPES, (-2, 2), None, False),
    "div_no_nan": (tf.div_no_nan, np.divide, (np.float32, np.float64), (-5, 5), None, True),
    "less": (tf.less, np.less, FLOAT_DTYPES + INT_DTYPES, (-3, 3), None, False),
    "less_equal": (tf.less_equal, np.less_equal, FLOAT_DTYPES + INT_DTYPES, (-3, 3), None, False),
    "greater": (tf.greater, np.greater, FLOAT_DTYPES + INT_DTYPES, (-3, 3), None, False),
    "greater_equal": (tf.greater_equal, np.greater_equal, FLOAT_DTYPES + INT_DTYPES, (-3, 3), None, False),
    "equal": (tf.equal, np.equal, FLOAT_DTYPES + INT_DTYPES, (-3, 3), None, False),
    "not_equal": (tf.not_equal, np.not_equal, FLOAT_DTYPES + INT_DTYPES, (-3, 3), None, False),
}


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_matches_numpy_with_broadcasting(name, shapes):
    tf_fn, np_fn, dtypes, (lo, hi), y_range, nonzero = BINARY[name]
    y_lo, y_hi = y_range or (lo, hi)
    x, y = _pair(shapes, np.float64, lo, hi, y_lo, y_hi)
    if dtypes[0] in INT_DTYPES:
        x, y = np.floor(x), np.floor(y)
    if nonzero:
        y = _away_from_zero(y, 1.0)
    if shapes == ((2, 3), (3,)):
        check_against_numpy(tf_fn, np_fn, x, y, dtypes=dtypes)  # every dtype on one broadcast
    else:
        check_against_numpy(tf_fn, np_fn, x, y, dtypes=dtypes[:1], modes=("feed",))


def test_comparison_with_ties_and_equal_on_strings():
    x = np.array([1.0, 2.0, 3.0], np.float32)
    check_against_numpy(tf.less_equal, np.less_equal, x, np.float32(2.0))
    check_against_numpy(tf.equal, np.equal, np.array([b"a", b"b"], object), np.array([b"a", b"c"], object),
                        expected_dtype=np.bool_)


def test_add_concatenates_strings():
    with tf.Graph().as_default():
        out = _run(tf.add(tf.constant([b"ab", b"c"]), tf.constant(b"!")))
    assert out.tolist() == [b"ab!", b"c!"]


def test_truediv_casts_integers_to_floats():
    expect = {np.int8: np.float32, np.int16: np.float32, np.int32: np.float64, np.int64: np.float64}
    for dtype, out in expect.items():
        check_against_numpy(tf.truediv, np.true_divide, np.array([7, -7, 1], dtype), np.array([2, 2, 3], dtype),
                            expected_dtype=out)


def test_floor_and_truncate_division_signs():
    x, y = np.array([7, -7, 7, -7], np.int32), np.array([2, 2, -2, -2], np.int32)
    check_against_numpy(tf.floordiv, lambda a, b: np.array([3, -4, -4, 3], np.int32), x, y)
    check_against_numpy(tf.floormod, lambda a, b: np.array([1, 1, -1, -1], np.int32), x, y)
    check_against_numpy(tf.truncatediv, lambda a, b: np.array([3, -3, -3, 3], np.int32), x, y)
    check_against_numpy(tf.truncatemod, lambda a, b: np.array([1, -1, 1, -1], np.int32), x, y)


@pytest.mark.parametrize("fn", [tf.floordiv, tf.floormod, tf.truncatediv, tf.truncatemod, tf.div])
def test_integer_division_by_zero_is_invalid_argument(fn):
    with tf.Graph().as_default():
        y = tf.placeholder(tf.int32)
        z = fn(tf.constant([4, 5]), y)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
            _run(z, {y: np.array([1, 0], np.int32)})


def test_integer_pow_with_negative_exponent_is_invalid_argument():
    with tf.Graph().as_default():
        y = tf.placeholder(tf.int32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="negative integer powers"):
            _run(tf.pow(tf.constant([2, 3]), y), {y: np.array([1, -1], np.int32)})


def test_float_division_by_zero_gives_inf_and_nan_silently():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32)
        outs = [x / 0.0, tf.log(x - 1.0), tf.sqrt(x - 2.0), tf.pow(x - 1.0, -1.0), tf.floormod(x, 0.0),
                tf.reciprocal(x - 1.0), tf.rsqrt(x - 1.0), tf.reduce_mean(tf.zeros([0])), tf.lgamma(x - 1.0)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = _run(outs, {x: np.float32(1.0)})
    assert np.isposinf(got[0]) and np.isneginf(got[1]) and np.isnan(got[2]) and np.isposinf(got[3])
    assert np.isnan(got[4]) and np.isposinf(got[5]) and np.isposinf(got[6]) and np.isnan(got[7])
    assert np.isposinf(got[8])
    assert all(np.asarray(g).dtype == np.float32 for g in got)


def test_div_no_nan_is_zero_where_divisor_is_zero():
    check_against_numpy(tf.div_no_nan, lambda x, y: np.array([0.0, 2.0, 0.0], np.float32),
                        np.array([1.0, 4.0, 0.0], np.float32), np.array([0.0, 2.0, 0.0], np.float32))


def test_incompatible_shapes_raise_value_error_at_construction():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 2 and 3.*'Add'"):
            tf.add(tf.zeros([2]), tf.zeros([3]))


def test_incompatible_shapes_at_run_time_are_invalid_argument():
    with tf.Graph().as_default():
        x, y = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
            _run(tf.multiply(x, y), {x: np.zeros(2, np.float32), y: np.zeros(3, np.float32)})


def test_mismatched_dtypes_raise_type_error():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="float32.*int32|int32.*float32"):
            tf.add(tf.zeros([2]), tf.zeros([2], tf.int32))
        with pytest.raises(TypeError, match="not in list of allowed values"):
            tf.realdiv(tf.constant([1]), tf.constant([2]))


def test_logical_ops_with_broadcasting():
    x = np.array([[True, False], [True, True]])
    y = np.array([True, False])
    check_against_numpy(tf.logical_and, np.logical_and, x, y)
    check_against_numpy(tf.logical_or, np.logical_or, x, y)
    check_against_numpy(tf.logical_xor, np.logical_xor, x, y)
    check_against_numpy(tf.logical_not, np.logical_not, x)


def test_tensor_operators_build_the_math_ops():
    with tf.Graph().as_default():
        a = tf.constant([[1.0, -2.0], [3.0, 4.0]])
        b = tf.constant([[0.5, 1.0], [2.0, -1.0]])
        outs = [a + b, a - b, a * b, a / b, a // b, a % b, a ** 2.0, -a, abs(a), a @ b, 2.0 - a, 1.0 / a,
                a < b, a >= b]
        types = [o.op.type for o in outs]
        got = _run(outs)
    assert types == ["Add", "Sub", "Mul", "RealDiv", "FloorDiv", "FloorMod", "Pow", "Neg", "Abs", "MatMul", "Sub",
                     "RealDiv", "Less", "GreaterEqual"]
    an, bn = np.array([[1.0, -2.0], [3.0, 4.0]], np.float32), np.array([[0.5, 1.0], [2.0, -1.0]], np.float32)
    want = [an + bn, an - bn, an * bn, an / bn, an // bn, an % bn, an ** 2, -an, abs(an), an @ bn, 2 - an, 1 / an,
            an < bn, an >= bn]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
        assert g.dtype == w.dtype


# name: (tf function, x range, y range, y kept away from zero)
BINARY_GRADS = {
    "add_v2": (_add_v2, (-2, 2), None, False),
    "add": (tf.add, (-2, 2), None, False),
    "subtract": (tf.subtract, (-2, 2), None, False),
    "multiply": (tf.multiply, (-2, 2), None, False),
    "realdiv": (tf.realdiv, (-2, 2), None, True),
    "div": (tf.div, (-2, 2), None, True),
    "div_op": (lambda x, y: apply_op("Div", [x, y]).outputs[0], (-2, 2), None, True),  # TF graphs use Div
    "truediv": (tf.truediv, (-2, 2), None, True),
    "div_no_nan": (tf.div_no_nan, (-2, 2), None, True),
    "floormod": (tf.floormod, (0.1, 0.9), (1.1, 1.9), False),
    "truncatemod": (tf.truncatemod, (0.1, 0.9), (1.1, 1.9), False),
    "maximum": (tf.maximum, (-2, 2), None, False),
    "minimum": (tf.minimum, (-2, 2), None, False),
    "pow": (tf.pow, (0.5, 2), (-2, 2), False),
    "squared_difference": (tf.squared_difference, (-2, 2), None, False),
    "atan2": (tf.atan2, (-2, 2), None, True),
}


@pytest.mark.parametrize("shapes", GRAD_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY_GRADS))
def test_binary_op_gradient_matches_finite_differences(name, shapes):
    tf_fn, (lo, hi), y_range, nonzero = BINARY_GRADS[name]
    y_lo, y_hi = y_range or (lo, hi)
    x, y = _pair(shapes, np.float64, lo, hi, y_lo, y_hi)
    if nonzero:
        y = _away_from_zero(y)
    check_gradients(tf_fn, [x, y])


def test_pow_gradient_wrt_exponent_is_zero_for_nonpositive_base():
    with tf.Graph().as_default():
        x = tf.constant([-2.0, 0.0, 3.0], tf.float64)
        y = tf.constant([2.0, 2.0, 2.0], tf.float64)
        gx, gy = _run(tf.gradients(tf.pow(x, y), [x, y]))
    np.testing.assert_allclose(gx, [-4.0, 0.0, 6.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 9.0 * np.log(3.0)])


def test_maximum_and_minimum_send_tied_gradients_to_x():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0, 3.0], tf.float64)
        y = tf.constant(2.0, tf.float64)
        got = _run(tf.gradients(tf.maximum(x, y), [x, y]) + tf.gradients(tf.minimum(x, y), [x, y]))
    np.testing.assert_array_equal(got[0], [0, 1, 1])
    assert got[1] == 1.0
    np.testing.assert_array_equal(got[2], [1, 1, 0])
    assert got[3] == 1.0


def test_comparisons_and_integer_division_have_no_gradient():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0], tf.float64)
        y = tf.cast(tf.less(x, 1.5), tf.float64) * x
        assert _run(tf.gradients(y, x)[0]).tolist() == [1.0, 0.0]
        assert tf.gradients(tf.floordiv(x, 2.0), x) == [None]


# ----------------------------------------------------------------------------------------------------------
# Elementwise unary ops
# ----------------------------------------------------------------------------------------------------------
_erf = np.vectorize(math.erf)


def _sigmoid_ref(x):
    return 1.0 / (1.0 + np.exp(-x))


# name: (tf function, NumPy reference, dtypes, domain)
UNARY = {
    "negative": (tf.negative, np.negative, FLOAT_DTYPES + INT_DTYPES, (-3, 3)),
    "abs": (tf.abs, np.abs, FLOAT_DTYPES + INT_DTYPES, (-3, 3)),
    "square": (tf.square, np.square, FLOAT_DTYPES + INT_DTYPES, (-3, 3)),
    "sqrt": (tf.sqrt, np.sqrt, FLOAT_DTYPES, (0.1, 4)),
    "rsqrt": (tf.rsqrt, lambda x: 1 / np.sqrt(x), FLOAT_DTYPES, (0.1, 4)),
    "exp": (tf.exp, np.exp, FLOAT_DTYPES, (-3, 3)),
    "expm1": (tf.expm1, np.expm1, FLOAT_DTYPES, (-3, 3)),
    "log": (tf.log, np.log, FLOAT_DTYPES, (0.1, 4)),
    "log1p": (tf.log1p, np.log1p, FLOAT_DTYPES, (-0.9, 3)),
    "sin": (tf.sin, np.sin, FLOAT_DTYPES, (-3, 3)),
    "cos": (tf.cos, np.cos, FLOAT_DTYPES, (-3, 3)),
    "tan": (tf.tan, np.tan, FLOAT_DTYPES, (-1.2, 1.2)),
    "asin": (tf.asin, np.arcsin, FLOAT_DTYPES, (-0.9, 0.9)),
    "acos": (tf.acos, np.arccos, FLOAT_DTYPES, (-0.9, 0.9)),
    "atan": (tf.atan, np.arctan, FLOAT_DTYPES, (-3, 3)),
    "sinh": (tf.sinh, np.sinh, FLOAT_DTYPES, (-3, 3)),
    "cosh": (tf.cosh, np.cosh, FLOAT_DTYPES, (-3, 3)),
    "asinh": (tf.asinh, np.arcsinh, FLOAT_DTYPES, (-3, 3)),
    "acosh": (tf.acosh, np.arccosh, FLOAT_DTYPES, (1.1, 4)),
    "atanh": (tf.atanh, np.arctanh, FLOAT_DTYPES, (-0.9, 0.9)),
    "tanh": (tf.tanh, np.tanh, FLOAT_DTYPES, (-3, 3)),
    "sigmoid": (tf.sigmoid, _sigmoid_ref, FLOAT_DTYPES, (-6, 6)),
    "reciprocal": (tf.reciprocal, np.reciprocal, FLOAT_DTYPES, (0.2, 3)),
    "erf": (tf.erf, _erf, FLOAT_DTYPES, (-2, 2)),
    "erfc": (tf.erfc, lambda x: 1.0 - _erf(x), FLOAT_DTYPES, (-2, 2)),
    "lgamma": (tf.lgamma, np.vectorize(math.lgamma), FLOAT_DTYPES, (0.2, 5)),
    "sign": (tf.sign, np.sign, FLOAT_DTYPES + INT_DTYPES, (-3, 3)),
    "floor": (tf.floor, np.floor, FLOAT_DTYPES, (-3, 3)),
    "ceil": (tf.ceil, np.ceil, FLOAT_DTYPES, (-3, 3)),
    "round": (tf.round, np.round, FLOAT_DTYPES + INT_DTYPES, (-3, 3)),
    "rint": (tf.rint, np.rint, FLOAT_DTYPES, (-3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_matches_numpy(name):
    tf_fn, np_fn, dtypes, (lo, hi) = UNARY[name]
    x = random_array((2, 3), np.float64, lo, hi, seed=3)
    if dtypes[0] in INT_DTYPES or name in ("negative", "abs", "square", "sign", "round"):
        x = np.concatenate([x, np.floor(x)], axis=0)  # integer-valued floats for the integer dtypes
    with np.errstate(all="ignore"):
        check_against_numpy(tf_fn, lambda v: np.asarray(np_fn(v)).astype(v.dtype), x, dtypes=dtypes)


def test_sign_of_nan_is_zero_as_in_tf():
    x = np.array([np.nan, -2.0, 0.0, 3.0, -np.inf], np.float32)
    check_against_numpy(tf.sign, lambda v: np.array([0.0, -1.0, 0.0, 1.0, -1.0], v.dtype), x, dtypes=FLOAT_DTYPES)


def test_round_and_rint_round_halves_to_even():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, 0.6], np.float32)
    want = np.array([-2, -2, -0, 0, 2, 2, 0, 1], np.float32)
    check_against_numpy(tf.round, lambda v: want, x)
    check_against_numpy(tf.rint, lambda v: want, x)


def test_special_functions_at_known_values():
    with tf.Graph().as_default():
        x = tf.constant([0.5, 1.0, 3.0, 10.0], tf.float64)
        erf, lgamma, digamma = _run([tf.erf(x), tf.lgamma(x), tf.digamma(x)])
    euler = 0.5772156649015329
    np.testing.assert_allclose(erf, [0.5204998778130465, 0.8427007929497149, 0.9999779095030014, 1.0], rtol=1e-14)
    np.testing.assert_allclose(lgamma, [0.5 * np.log(np.pi), 0.0, np.log(2.0), np.log(362880.0)], atol=1e-14)
    np.testing.assert_allclose(digamma, [-euler - 2 * np.log(2), -euler, 1.5 - euler,
                                         sum(1 / k for k in range(1, 10)) - euler], rtol=1e-12)


def test_lgamma_is_inf_at_poles_and_handles_negative_arguments():
    with tf.Graph().as_default():
        got = _run(tf.lgamma(tf.constant([0.0, -1.0, -0.5, -2.5], tf.float64)))
    assert np.isposinf(got[0]) and np.isposinf(got[1])
    np.testing.assert_allclose(got[2:], [math.lgamma(-0.5), math.lgamma(-2.5)], rtol=1e-14)


def _polygamma_by_series(n: int, x: float) -> float:
    """psi^(n)(x) = (-1)^(n+1) n! sum_k 1/(x+k)^(n+1), summed far out plus an Euler-Maclaurin tail."""
    k = np.arange(200000, dtype=np.float64)
    terms = 1.0 / (x + k) ** (n + 1)
    end = x + 200000
    tail = 1.0 / (n * end ** n) + 1.0 / (2 * end ** (n + 1))
    return (-1) ** (n + 1) * math.factorial(n) * (terms.sum() + tail)


def test_digamma_matches_derivative_of_lgamma_including_negative_arguments():
    xs = np.array([-2.7, -0.3, 0.2, 1.7, 6.5, 25.0])
    h = 1e-6
    want = np.array([(math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h) for v in xs])
    check_against_numpy(tf.digamma, lambda v: want.astype(v.dtype), xs, dtypes=[np.float64], rtol=1e-7)
    check_against_numpy(tf.digamma, lambda v: want.astype(v.dtype), xs, dtypes=[np.float32], rtol=1e-5)


def test_polygamma_matches_series():
    xs = np.array([0.3, 1.0, 2.5, 12.0])
    for n in (1, 2, 3):
        want = np.array([_polygamma_by_series(n, v) for v in xs])
        check_against_numpy(tf.polygamma, lambda a, x, want=want: want, np.full(4, float(n)), xs,
                            dtypes=[np.float64], rtol=1e-9)


def test_predicates_on_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.5], np.float32)
    check_against_numpy(tf.is_nan, np.isnan, x)
    check_against_numpy(tf.is_inf, np.isinf, x)
    check_against_numpy(tf.is_finite, np.isfinite, x)


def test_complex_parts_and_conjugate():
    z = np.array([1 + 2j, -3 - 0.5j], np.complex64)
    check_against_numpy(tf.conj, np.conj, z)
    check_against_numpy(tf.real, np.real, z)
    check_against_numpy(tf.imag, np.imag, z)
    check_against_numpy(tf.abs, np.abs, z)
    check_against_numpy(tf.complex, lambda a, b: a + 1j * b, np.array([1.0, 2.0]), np.array([3.0, -1.0]),
                        expected_dtype=np.complex128)
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        assert tf.conj(x) is x and tf.real(x) is x
        assert _run(tf.imag(x)).tolist() == [0.0, 0.0]


def test_gradient_through_complex_ops_matches_finite_differences():
    def fn(a, b):
        z = tf.complex(a, b)
        w = z * tf.conj(z) + tf.exp(z) * tf.complex(b, a)
        return tf.real(w) + 2.0 * tf.imag(w) + tf.abs(z)

    check_gradients(fn, [random_array((3,), seed=1), random_array((3,), seed=2)])


# name: (tf function, domain)
UNARY_GRADS = {
    "negative": (tf.negative, (-3, 3)),
    "abs": (tf.abs, (-3, 3)),
    "square": (tf.square, (-3, 3)),
    "sqrt": (tf.sqrt, (0.2, 4)),
    "rsqrt": (tf.rsqrt, (0.2, 4)),
    "exp": (tf.exp, (-2, 2)),
    "expm1": (tf.expm1, (-2, 2)),
    "log": (tf.log, (0.2, 4)),
    "log1p": (tf.log1p, (-0.8, 3)),
    "sin": (tf.sin, (-3, 3)),
    "cos": (tf.cos, (-3, 3)),
    "tan": (tf.tan, (-1.2, 1.2)),
    "asin": (tf.asin, (-0.9, 0.9)),
    "acos": (tf.acos, (-0.9, 0.9)),
    "atan": (tf.atan, (-3, 3)),
    "sinh": (tf.sinh, (-2, 2)),
    "cosh": (tf.cosh, (-2, 2)),
    "asinh": (tf.asinh, (-3, 3)),
    "acosh": (tf.acosh, (1.2, 4)),
    "atanh": (tf.atanh, (-0.9, 0.9)),
    "tanh": (tf.tanh, (-2, 2)),
    "sigmoid": (tf.sigmoid, (-4, 4)),
    "reciprocal": (tf.reciprocal, (0.3, 3)),
    "erf": (tf.erf, (-2, 2)),
    "erfc": (tf.erfc, (-2, 2)),
    "lgamma": (tf.lgamma, (0.3, 5)),
    "digamma": (tf.digamma, (0.3, 5)),
    "sign": (tf.sign, (-3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY_GRADS))
def test_unary_op_gradient_matches_finite_differences(name):
    tf_fn, (lo, hi) = UNARY_GRADS[name]
    x = random_array((2, 3), np.float64, lo, hi, seed=4)
    if name in ("abs", "sign"):
        x = _away_from_zero(x)
    check_gradients(tf_fn, [x], rtol=1e-4 if name in ("digamma", "lgamma") else 1e-5)


def test_polygamma_gradient_wrt_x_matches_finite_differences():
    check_gradients(lambda x: tf.polygamma(tf.constant(1.0, tf.float64), x), [np.array([0.5, 1.5, 4.0])],
                    rtol=1e-4)


@pytest.mark.parametrize("fn", [tf.floor, tf.ceil, tf.round, tf.rint])
def test_rounding_ops_have_no_gradient(fn):
    with tf.Graph().as_default():
        x = tf.constant([1.5, 2.5], tf.float64)
        assert tf.gradients(fn(x), x) == [None]


def test_second_derivatives_of_unary_ops():
    with tf.Graph().as_default():
        x = tf.constant([0.3, 1.2], tf.float64)
        outs = []
        for fn in (tf.tanh, tf.sigmoid, tf.sqrt, tf.log, tf.exp, tf.sin):
            (g,) = tf.gradients(fn(x), x)
            outs.append(tf.gradients(g, x)[0])
        got = _run(outs)
    v = np.array([0.3, 1.2])
    t, s = np.tanh(v), _sigmoid_ref(v)
    want = [-2 * t * (1 - t * t), s * (1 - s) * (1 - 2 * s), -0.25 * v ** -1.5, -1 / v ** 2, np.exp(v), -np.sin(v)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------
# AddN, Cast
# ----------------------------------------------------------------------------------------------------------
def test_add_n_matches_numpy_and_checks_shapes():
    a, b, c = (random_array((2, 3), seed=s) for s in (1, 2, 3))
    check_against_numpy(lambda *xs: tf.add_n(list(xs)), lambda *xs: xs[0] + xs[1] + xs[2], a, b, c,
                        dtypes=FLOAT_DTYPES + INT_DTYPES)
    check_gradients(lambda *xs: tf.add_n(list(xs)), [a, b, c])
    with tf.Graph().as_default():
        x, y = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have the same size and shape"):
            _run(tf.add_n([x, y]), {x: np.zeros(2, np.float32), y: np.zeros(3, np.float32)})
        with pytest.raises(ValueError):
            tf.add_n([])
        assert tf.add_n([x]) is x  # one input: itself, as in TF, unless a name asks for an op
        assert tf.add_n([x], name="total").op.type == "Identity"


def test_scalar_mul_scales_tensors_and_indexed_slices_by_a_scalar_of_known_rank():
    a = random_array((2, 3), seed=1)
    check_against_numpy(lambda x: tf.scalar_mul(3, x), lambda x: 3 * x, a, dtypes=[np.float32, np.int32])
    with tf.Graph().as_default():
        slices = tf.IndexedSlices(tf.constant(a), tf.constant([0, 2]), tf.constant([4, 3]))
        scaled = tf.scalar_mul(2.0, slices)
        assert isinstance(scaled, tf.IndexedSlices)
        np.testing.assert_allclose(_run(scaled.values), 2 * a)
        with pytest.raises(ValueError, match="Only scalar multiply works"):
            tf.scalar_mul([1.0, 2.0], tf.constant(a))
        with pytest.raises(ValueError, match="Only scalar multiply works"):
            tf.scalar_mul(tf.placeholder(tf.float64), tf.constant(a))


def test_accumulate_n_sums_and_checks_its_shape_and_dtype_arguments():
    a, b = random_array((2, 3), seed=1), random_array((2, 3), seed=2)
    check_against_numpy(lambda x, y: tf.accumulate_n([x, y], shape=[2, 3], tensor_dtype=tf.float32),
                        lambda x, y: x + y, a, b, dtypes=[np.float32])
    with tf.Graph().as_default():
        x = tf.constant(a)
        assert tf.accumulate_n([x]) is x  # a single input, unnamed, is returned as is (as in TF)
        with pytest.raises(ValueError):
            tf.accumulate_n([x, x], shape=[3, 2])
        with pytest.raises(TypeError, match="tensor_dtype is"):
            tf.accumulate_n([x, x], tensor_dtype=tf.float32)
        with pytest.raises(ValueError, match="same dtype and shape"):
            tf.accumulate_n([x, tf.constant(a, tf.float32)])
        with pytest.raises(ValueError, match="at least one Tensor"):
            tf.accumulate_n([])


@pytest.mark.parametrize("src", [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("dst", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_cast_matches_numpy(src, dst):
    x = np.array([-2.7, -1.0, 0.0, 0.5, 3.2])
    check_against_numpy(lambda t: tf.cast(t, dst), lambda v: v.astype(dst), x, dtypes=[src])


def test_cast_between_strings_and_numbers_is_unimplemented_as_in_tf():
    with tf.Graph().as_default():
        text, number = tf.constant(["1.5"]), tf.constant([1.5])
        for cast in (tf.cast(text, tf.float32), tf.cast(number, tf.string)):
            with pytest.raises(tf.errors.UnimplementedError, match="Cast (string to float32|float32 to string) is not"):
                _run(cast)


def test_cast_gradient_flows_between_floats_only():
    # Linear through float32: large steps keep float32 rounding out of the finite differences.
    check_gradients(lambda x: tf.cast(tf.cast(x, tf.float32) * 2.0, tf.float64), [np.array([1.0, -2.0])],
                    delta=1e-2, rtol=1e-4, atol=1e-4)
    with tf.Graph().as_default():
        x = tf.constant([1.5], tf.float64)
        assert tf.gradients(tf.cast(x, tf.int32), x) == [None]


def test_cast_complex_to_real_keeps_real_part():
    check_against_numpy(lambda t: tf.cast(t, tf.float32), np.real, np.array([1 + 2j, -3 - 1j], np.complex64))


def test_saturate_cast_clamps_before_casting():
    check_against_numpy(lambda t: tf.saturate_cast(t, tf.uint8), lambda v: np.array([0, 7, 255], np.uint8),
                        np.array([-5.0, 7.0, 300.0], np.float32))


def test_cast_helpers_name_their_dtype():
    with tf.Graph().as_default():
        x = tf.constant([1, 2])
        assert [t.dtype for t in (tf.to_float(x), tf.to_double(x), tf.to_int64(x), tf.to_int32(tf.to_float(x)))] \
            == [tf.float32, tf.float64, tf.int64, tf.int32]
        assert tf.to_complex64(tf.to_float(x)).dtype == tf.complex64


# ----------------------------------------------------------------------------------------------------------
# MatMul, BatchMatMulV2, Einsum, tensordot
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_with_transposes_matches_numpy_and_finite_differences(ta, tb):
    a = random_array((3, 2) if ta else (2, 3), seed=1)
    b = random_array((4, 3) if tb else (3, 4), seed=2)

    def fn(x, y):
        return tf.matmul(x, y, transpose_a=ta, transpose_b=tb)

    def ref(x, y):
        return (x.T if ta else x) @ (y.T if tb else y)

    check_against_numpy(fn, ref, a, b, dtypes=FLOAT_DTYPES + INT_DTYPES)
    check_gradients(fn, [a, b])


def test_matmul_adjoint_conjugates_complex_operands():
    a = np.array([[1 + 1j, 2], [0, 1 - 2j]], np.complex64)
    b = np.array([[1, 1j], [2 - 1j, 3]], np.complex64)
    check_against_numpy(lambda x, y: tf.matmul(x, y, adjoint_a=True, adjoint_b=True),
                        lambda x, y: x.conj().T @ y.conj().T, a, b)
    check_against_numpy(lambda x, y: tf.matmul(x, y, adjoint_a=True),
                        lambda x, y: np.swapaxes(x, -1, -2).conj() @ y, a[None], b[None])


@pytest.mark.parametrize("shapes", [((2, 2, 3), (2, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (4, 3, 2)),
                                    ((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (4, 3, 1))], ids=str)
@pytest.mark.parametrize("adj", [(False, False), (True, False), (False, True), (True, True)], ids=str)
def test_batch_matmul_broadcasts_batch_dims(shapes, adj):
    sa, sb = shapes
    adj_a, adj_b = adj
    sa = sa[:-2] + sa[-2:][::-1] if adj_a else sa
    sb = sb[:-2] + sb[-2:][::-1] if adj_b else sb
    a, b = random_array(sa, seed=1), random_array(sb, seed=2)

    def fn(x, y):
        return tf.matmul(x, y, adjoint_a=adj_a, adjoint_b=adj_b)

    def ref(x, y):
        return np.matmul(np.swapaxes(x, -1, -2) if adj_a else x, np.swapaxes(y, -1, -2) if adj_b else y)

    check_against_numpy(fn, ref, a, b, dtypes=[np.float32, np.float64])
    check_gradients(fn, [a, b])


def test_batch_matmul_gradient_with_unknown_shapes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 2, 3])
        y = tf.placeholder(tf.float64, None)
        z = tf.matmul(x, y)
        assert z.op.type == "BatchMatMulV2"
        check_gradients(z, {x: random_array((4, 2, 3), seed=1), y: random_array((3, 5), seed=2)})


def test_matmul_shape_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5]))
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.matmul(tf.zeros([7, 2, 3]), tf.zeros([7, 4, 5]))
        with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
            tf.matmul(tf.zeros([2, 2]), tf.zeros([2, 2]), transpose_a=True, adjoint_a=True)
        x, y = tf.placeholder(tf.float32, [None, None]), tf.placeholder(tf.float32, [None, None])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"):
            _run(tf.matmul(x, y), {x: np.zeros((2, 3), np.float32), y: np.zeros((2, 3), np.float32)})


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,ij->", [(2, 3), (2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("ijk,k->i", [(2, 3, 4), (4,)]),
    ("ij,jk", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_matches_numpy_and_finite_differences(equation, shapes):
    arrays = [random_array(s, seed=i + 1) for i, s in enumerate(shapes)]

    def fn(*xs):
        return tf.einsum(equation, *xs)

    check_against_numpy(fn, lambda *xs: np.einsum(equation, *xs), *arrays, dtypes=[np.float32, np.float64, np.int32])
    check_gradients(fn, arrays)


def test_einsum_static_shape_and_errors():
    with tf.Graph().as_default():
        out = tf.einsum("bij,jk->bik", tf.placeholder(tf.float32, [None, 2, 3]), tf.zeros([3, 5]))
        assert out.shape.as_list() == [None, 2, 5]
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.einsum("ij,jk->ik", tf.zeros([2, 3]), tf.zeros([4, 5]))
        with pytest.raises(ValueError, match="appears in no input"):
            tf.einsum("ij->k", tf.zeros([2, 3]))


TENSORDOTS = [
    ((3, 2, 4), (4, 5), 1),
    ((3, 2, 4), (2, 4, 5), 2),
    ((3, 2), (2,), 0),
    ((3, 2, 4), (2, 3, 2), [[1], [0]]),
    ((3, 2, 4), (4, 3, 2), [[0, 2], [1, 0]]),
    ((3, 2, 4), (4, 2), ([2], [0])),
    ((3, 2), (2, 5), [1, 0]),
]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOTS, ids=str)
def test_tensordot_matches_numpy_and_finite_differences(sa, sb, axes):
    a, b = random_array(sa, seed=1), random_array(sb, seed=2)

    def fn(x, y):
        return tf.tensordot(x, y, axes)

    check_against_numpy(fn, lambda x, y: np.tensordot(x, y, axes), a, b, dtypes=[np.float32, np.float64])
    check_gradients(fn, [a, b])


def test_tensordot_rejects_bad_axes():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.tensordot(tf.zeros([2, 3]), tf.zeros([3]), 3)
        with pytest.raises(ValueError):
            tf.tensordot(tf.zeros([2, 3]), tf.zeros([3]), [[0, 1], [0]])


# ----------------------------------------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------------------------------------
REDUCTIONS = {
    "sum": (tf.reduce_sum, np.sum, FLOAT_DTYPES + INT_DTYPES),
    "mean": (tf.reduce_mean, np.mean, FLOAT_DTYPES),
    "prod": (tf.reduce_prod, np.prod, FLOAT_DTYPES + INT_DTYPES),
    "max": (tf.reduce_max, np.max, FLOAT_DTYPES + INT_DTYPES),
    "min": (tf.reduce_min, np.min, FLOAT_DTYPES + INT_DTYPES),
    "logsumexp": (tf.reduce_logsumexp, lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                                              keepdims=keepdims)), FLOAT_DTYPES),
    "variance": (tf.math.reduce_variance, np.var, FLOAT_DTYPES),
    "std": (tf.math.reduce_std, np.std, FLOAT_DTYPES),
    "euclidean_norm": (tf.math.reduce_euclidean_norm,
                       lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)), FLOAT_DTYPES),
}
AXES = [None, 0, 1, -1, [0, 2], [0, 1, 2], []]


def _as_np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_numpy(name, axis, keepdims):
    tf_fn, np_fn, dtypes = REDUCTIONS[name]
    x = np.round(random_array((2, 3, 4), seed=5, low=0.5, high=2.0) * 4) / 4

    def ref(v):
        out = np_fn(v.astype(np.float64) if v.dtype == np.float16 else v, axis=_as_np_axis(axis), keepdims=keepdims)
        return np.asarray(out).astype(v.dtype)

    if axis in (1, [0, 2]):
        check_against_numpy(lambda t: tf_fn(t, axis=axis, keepdims=keepdims), ref, x, dtypes=dtypes)
    else:
        check_against_numpy(lambda t: tf_fn(t, axis=axis, keepdims=keepdims), ref, x, dtypes=[np.float32])


# std over no axes is sqrt(0), whose gradient is nan (as in TF): not a finite-difference case.
REDUCTION_GRAD_CASES = [(n, a) for n in sorted(REDUCTIONS) for a in AXES if not (n == "std" and a == [])]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name,axis", REDUCTION_GRAD_CASES, ids=str)
def test_reduction_gradient_matches_finite_differences(name, axis, keepdims):
    tf_fn = REDUCTIONS[name][0]
    x = random_array((2, 3, 2), seed=6, low=0.5, high=2.0)
    check_gradients(lambda t: tf_fn(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "logsumexp"])
def test_reduction_gradient_with_unknown_shape_and_rank(name):
    tf_fn = REDUCTIONS[name][0]
    for shape, axis in (([None, 3], 1), (None, None), (None, [0, -1]), ([None, None, 2], [1])):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float64, shape)
            check_gradients(tf_fn(x, axis=axis), {x: random_array((2, 3, 2), seed=7, low=0.5, high=2.0)
                                                  if shape is None or len(shape) == 3 else
                                                  random_array((2, 3), seed=7, low=0.5, high=2.0)})


def test_prod_gradient_with_zeros_is_exact():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    for axis in (None, 0, 1, [0, 1]):
        check_gradients(lambda t, axis=axis: tf.reduce_prod(t, axis=axis), [x])
        with tf.Graph().as_default():  # axes and rank known only at run time
            p, a = tf.placeholder(tf.float64), tf.placeholder(tf.int32)
            all_axes = [0, 1] if axis is None else axis
            check_gradients(tf.reduce_prod(p, axis=a), {p: x}, feed_dict={a: all_axes})


def test_max_gradient_splits_between_ties():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], tf.float64)
        g = _run(tf.gradients(tf.reduce_max(x, axis=1), x)[0])
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5], [1, 0, 0]])


def test_logsumexp_is_stable_and_handles_infinities():
    with tf.Graph().as_default():
        x = tf.constant([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [-1000.0, -1000.0]], tf.float64)
        got = _run(tf.reduce_logsumexp(x, axis=1))
        g = _run(tf.gradients(tf.reduce_logsumexp(x[0]), x)[0])
    np.testing.assert_allclose(got[[0, 3]], [1000 + np.log(2), -1000 + np.log(2)])
    assert np.isneginf(got[1]) and np.isposinf(got[2])
    np.testing.assert_allclose(g[0], [0.5, 0.5])


def test_integer_mean_truncates_and_bool_reductions():
    check_against_numpy(lambda t: tf.reduce_mean(t, axis=0), lambda v: np.array([1, -1], np.int32),
                        np.array([[1, -1], [2, -2]], np.int32))
    b = np.array([[True, False], [True, True]])
    for axis in (None, 0, 1):
        for keepdims in (False, True):
            for tf_fn, np_fn in ((tf.reduce_all, np.all), (tf.reduce_any, np.any)):
                check_against_numpy(lambda t, f=tf_fn, a=axis, k=keepdims: f(t, axis=a, keepdims=k),
                                    lambda v, f=np_fn, a=axis, k=keepdims: f(v, axis=a, keepdims=k), b)


def test_reduction_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Invalid reduction dimension"):
            tf.reduce_sum(tf.zeros([2, 3]), axis=2)
        with pytest.raises(ValueError, match="Cannot specify both"):
            tf.reduce_sum(tf.zeros([2]), axis=0, reduction_indices=0)
        x, a = tf.placeholder(tf.float32), tf.placeholder(tf.int32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid reduction dimension"):
            _run(tf.reduce_sum(x, axis=a), {x: np.zeros((2, 3), np.float32), a: 5})
        # A scalar has no axis 0, at graph construction and at run time (static or fed axes) alike.
        with pytest.raises(ValueError, match="Invalid reduction dimension"):
            tf.reduce_sum(tf.constant(3.0), axis=0)
        for reduce in (tf.reduce_sum, tf.reduce_max, tf.reduce_mean):
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid reduction dimension \(0 for input"):
                _run(reduce(x, axis=0), {x: np.float32(3.0)})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid reduction dimension \(-1 for input"):
                _run(reduce(x, axis=a), {x: np.float32(3.0), a: -1})
        assert _run(tf.reduce_sum(x), {x: np.float32(3.0)}) == 3.0


def test_count_nonzero():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    check_against_numpy(lambda t: tf.count_nonzero(t), lambda v: np.int64(3), x)
    check_against_numpy(lambda t: tf.count_nonzero(t, axis=1, dtype=tf.int32),
                        lambda v: np.array([1, 2], np.int32), x)


def test_argmax_argmin():
    x = random_array((3, 4), seed=9)
    for axis in (0, 1, -1):
        check_against_numpy(lambda t, axis=axis: tf.argmax(t, axis=axis), lambda v, axis=axis: np.argmax(v, axis),
                            x, dtypes=[np.float32, np.int32])
        check_against_numpy(lambda t, axis=axis: tf.argmin(t, axis=axis, output_type=tf.int32),
                            lambda v, axis=axis: np.argmin(v, axis).astype(np.int32), x)
    with tf.Graph().as_default():
        p, a = tf.placeholder(tf.float32), tf.placeholder(tf.int32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected dimension in the range"):
            _run(tf.argmax(p, a), {p: np.zeros((2, 2), np.float32), a: 2})
        x_t = tf.constant(x)
        assert tf.gradients(tf.cast(tf.argmax(x_t, 1), tf.float32), x_t) == [None]


# ----------------------------------------------------------------------------------------------------------
# Scans
# ----------------------------------------------------------------------------------------------------------
def _np_scan(fn, ident, x, axis, exclusive, reverse):
    v = np.flip(x, axis) if reverse else x
    out = fn(v, axis=axis)
    if exclusive:
        pad = np.full_like(np.take(out, [0], axis=axis), ident)
        out = np.concatenate([pad, np.take(out, range(v.shape[axis] - 1), axis=axis)], axis=axis)
    return np.flip(out, axis) if reverse else out


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scans_match_numpy_and_finite_differences(op, axis, reverse, exclusive):
    tf_fn = tf.cumsum if op == "cumsum" else tf.cumprod
    np_fn, ident = (np.cumsum, 0) if op == "cumsum" else (np.cumprod, 1)
    x = random_array((3, 4), seed=10, low=0.5, high=1.5)

    def fn(t):
        return tf_fn(t, axis=axis, exclusive=exclusive, reverse=reverse)

    check_against_numpy(fn, lambda v: _np_scan(np_fn, ident, v, axis, exclusive, reverse).astype(v.dtype), x,
                        dtypes=[np.float32, np.float64, np.int32])
    check_gradients(fn, [x])


# ----------------------------------------------------------------------------------------------------------
# Clipping and norms
# ----------------------------------------------------------------------------------------------------------
def test_clip_by_value_values_and_gradient():
    x = np.array([[-3.0, 0.5], [1.5, 4.0]])
    check_against_numpy(lambda t: tf.clip_by_value(t, -1.0, 2.0), lambda v: np.clip(v, -1, 2), x,
                        dtypes=FLOAT_DTYPES)
    check_against_numpy(lambda t: tf.clip_by_value(t, -1, 2), lambda v: np.clip(v, -1, 2), x.astype(np.int32))
    with tf.Graph().as_default():
        t = tf.constant(x)
        g = _run(tf.gradients(tf.clip_by_value(t, -1.0, 2.0), t)[0])
        np.testing.assert_array_equal(g, [[0, 1], [1, 0]])
        with pytest.raises(ValueError):
            tf.clip_by_value(tf.zeros([2]), tf.zeros([3, 2]), 1.0)


def test_clip_by_norm_values_and_gradient():
    x = np.array([[3.0, 4.0], [0.3, 0.4]])

    def ref(v, norm, axes):
        n = np.sqrt(np.sum(v * v, axis=axes, keepdims=True))
        return v * norm / np.maximum(n, norm)

    for axes in (None, 1):
        check_against_numpy(lambda t, axes=axes: tf.clip_by_norm(t, 2.0, axes=axes),
                            lambda v, axes=axes: ref(v, 2.0, axes).astype(v.dtype), x, dtypes=[np.float32, np.float64])
        check_gradients(lambda t, axes=axes: tf.clip_by_norm(t, 2.0, axes=axes), [x])
    with tf.Graph().as_default():
        z = tf.zeros([3], tf.float64)
        g = _run(tf.gradients(tf.clip_by_norm(z, 1.0), z)[0])
    assert np.all(np.isfinite(g))


def test_global_norm_and_clip_by_global_norm():
    a, b = np.array([3.0, 0.0]), np.array([[4.0]])
    with tf.Graph().as_default():
        ta, tb = tf.constant(a), tf.constant(b)
        norm = tf.global_norm([ta, None, tb])
        clipped, used = tf.clip_by_global_norm([ta, None, tb], 1.0)
        same, _ = tf.clip_by_global_norm([ta, tb], 10.0)
        bad, _ = tf.clip_by_global_norm([ta], 1.0, use_norm=tf.constant(np.inf, tf.float64))
        got = _run([norm, clipped[0], clipped[2], used, same[0], bad[0]])
        assert clipped[1] is None
        with pytest.raises(TypeError, match="t_list should be a sequence"):
            tf.clip_by_global_norm(ta, 1.0)
    np.testing.assert_allclose(got[0], 5.0)
    np.testing.assert_allclose(got[1], a / 5)
    np.testing.assert_allclose(got[2], b / 5)
    np.testing.assert_allclose(got[3], 5.0)
    np.testing.assert_allclose(got[4], a)
    assert np.all(np.isnan(got[5]))
    check_gradients(lambda x, y: tf.clip_by_global_norm([x, y], 1.0)[0], [a, b])


# ----------------------------------------------------------------------------------------------------------
# UnsortedSegmentSum, BroadcastGradientArgs
# ----------------------------------------------------------------------------------------------------------
def test_unsorted_segment_sum_values_and_gradient():
    data = random_array((4, 2), seed=11)
    ids = np.array([2, 0, 2, -1], np.int32)

    def ref(d):
        out = np.zeros((3, 2), d.dtype)
        for i, s in enumerate(ids):
            if s >= 0:
                out[s] += d[i]
        return out

    check_against_numpy(lambda d: tf.unsorted_segment_sum(d, ids, 3), ref, data, dtypes=[np.float32, np.int32])
    check_gradients(lambda d: tf.unsorted_segment_sum(d, ids, 3), [data])
    with tf.Graph().as_default():
        # Unknown ranks: the gradient drops the rows of negative ids at run time, not whole columns.
        d = tf.placeholder(tf.float64, shape=None)
        i = tf.placeholder(tf.int32, shape=None)
        weights = np.arange(6.0).reshape(3, 2)
        grad = tf.gradients(tf.reduce_sum(tf.unsorted_segment_sum(d, i, 3) * weights), d)[0]
        got = _run(grad, {d: data, i: ids})
        np.testing.assert_array_equal(got, [weights[2], weights[0], weights[2], [0.0, 0.0]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
            _run(tf.unsorted_segment_sum(tf.constant(data), np.array([0, 1, 5, 0], np.int32), 3))


def test_broadcast_gradient_args():
    with tf.Graph().as_default():
        s0, s1 = tf.placeholder(tf.int32), tf.placeholder(tf.int32)
        r0, r1 = array_ops.broadcast_gradient_args(s0, s1)
        got = _run([r0, r1], {s0: [2, 1, 3], s1: [4, 1, 1, 1]})
        assert [v.tolist() for v in got] == [[0, 2], [1, 2, 3]]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
            _run(r0, {s0: [2], s1: [3]})


def test_tf_math_namespace_holds_the_same_functions():
    assert tf.math.log is tf.log and tf.math.reduce_sum is tf.reduce_sum and tf.math.mod is tf.floormod
    for name in tf.math.__all__:
        assert callable(getattr(tf.math, name)), name


@pytest.mark.parametrize("ord_", ["euclidean", 1, 2, np.inf, 3.0])
@pytest.mark.parametrize("axis", [None, 0, -1, [1]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norm_matches_numpy(ord_, axis, keepdims):
    x = random_array((3, 4), np.float64, seed=5)
    np_ord = 2 if ord_ == "euclidean" else ord_
    np_axis = axis[0] if isinstance(axis, list) else axis
    want = (np.linalg.norm(x.ravel(), ord=np_ord).reshape([1, 1] if keepdims else []) if axis is None
            else np.linalg.norm(x, ord=np_ord, axis=np_axis, keepdims=keepdims))
    with tf.Session() as sess:
        got = sess.run(tf.norm(tf.constant(x), ord=ord_, axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("ord_", ["fro", "euclidean", 1, np.inf])
def test_matrix_norm_matches_numpy(ord_):
    x = random_array((2, 3, 4), np.float64, seed=6)
    want = np.linalg.norm(x, ord="fro" if ord_ == "euclidean" else ord_, axis=(1, 2))
    with tf.Session() as sess:
        got = sess.run(tf.norm(tf.constant(x), ord=ord_, axis=(1, 2)))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_spectral_norm_is_the_largest_singular_value():
    x = random_array((3, 4, 5), np.float64, seed=9)
    placeholder = tf.placeholder(tf.float64, [None, 4, None])
    with tf.Session() as sess:
        got, kept, fed = sess.run([tf.norm(tf.constant(x), ord=2, axis=(1, 2)),
                                   tf.norm(tf.constant(x), ord=2, axis=(-1, 0), keepdims=True),
                                   tf.norm(placeholder, ord=2, axis=[1, 2], keepdims=True)], {placeholder: x})
    np.testing.assert_allclose(got, np.linalg.norm(x, ord=2, axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(kept, np.linalg.norm(x, ord=2, axis=(2, 0), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(fed, np.linalg.norm(x, ord=2, axis=(1, 2), keepdims=True), rtol=1e-12)


def test_norm_gradient_and_errors():
    check_gradients(lambda x: tf.norm(x, axis=1), [random_array((3, 4), np.float64, seed=7)])
    check_gradients(lambda x: tf.norm(x, ord=3.0), [random_array((5,), np.float64, seed=8)])
    x = tf.constant(np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="'ord' must be a supported matrix norm"):
        tf.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(ValueError, match="'ord' must be a supported vector norm"):
        tf.norm(x, ord="fro")
    with pytest.raises(ValueError, match="'axis' must be None, an integer, or a tuple of 2 unique integers"):
        tf.norm(x, axis=(1, 1))
