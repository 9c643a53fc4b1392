"""Special functions without SciPy: values against closed forms and NumPy (np.i0, series), gradients against
finite differences, and TF's errors; TF's own values are replayed from fixtures in test_math_leftovers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradient_checker import check_against_numpy, check_gradients

import tfmini as tf
from tfmini.framework import errors


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def test_bessel_functions_match_numpy_i0_and_the_series_of_i1():
    x = np.array([-40.0, -3.0, -0.2, 0.0, 0.7, 5.0, 29.5, 30.5, 100.0])
    np.testing.assert_allclose(_run(tf.math.bessel_i0e(x)), np.i0(x) * np.exp(-np.abs(x)), rtol=1e-13)
    np.testing.assert_allclose(_run(tf.math.bessel_i0(x[1:-1])), np.i0(x[1:-1]), rtol=1e-13)
    k = np.arange(60)
    i1 = np.array([np.sum((v / 2) ** (2 * k + 1) / np.array([math.factorial(j) * math.factorial(j + 1) for j in k],
                                                             dtype=float)) for v in x[1:-2]])
    np.testing.assert_allclose(_run(tf.math.bessel_i1(x[1:-2])), i1, rtol=1e-12)
    np.testing.assert_allclose(_run(tf.math.bessel_i1e(x)), -_run(tf.math.bessel_i1e(-x)), rtol=1e-15)


def test_incomplete_gamma_closed_forms():
    x = np.array([0.0, 0.1, 1.0, 2.5, 10.0, 50.0])
    np.testing.assert_allclose(_run(tf.igamma(np.ones_like(x), x)), 1 - np.exp(-x), rtol=1e-13, atol=1e-15)
    # Q(2, x) = (1 + x) exp(-x); P + Q = 1
    q = _run(tf.math.igammac(2 * np.ones_like(x), x))
    np.testing.assert_allclose(q, (1 + x) * np.exp(-x), rtol=1e-12, atol=1e-300)
    a = np.array([0.3, 4.0, 30.0, 200.0])
    xx = np.array([0.5, 3.0, 35.0, 190.0])
    np.testing.assert_allclose(_run(tf.igamma(a, xx) + tf.igammac(a, xx)), 1.0, rtol=1e-12)
    # P(1/2, x) = erf(sqrt(x))
    np.testing.assert_allclose(_run(tf.igamma(0.5 * np.ones_like(x), x)),
                               [math.erf(math.sqrt(v)) for v in x], rtol=1e-12)


def test_incomplete_gamma_is_nan_outside_its_domain():
    out = _run(tf.igamma(np.array([-1.0, 0.0, 1.0]), np.array([1.0, 1.0, -1.0])))
    assert np.isnan(out).all()


def test_incomplete_beta_closed_forms():
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(_run(tf.betainc(np.float64(1), np.float64(1), x)), x, atol=1e-14)
    # I_x(a, 1) = x^a ; I_x(1, b) = 1 - (1 - x)^b ; I_x(2, 2) = 3x^2 - 2x^3
    np.testing.assert_allclose(_run(tf.betainc(np.float64(3.5), np.float64(1), x)), x ** 3.5, atol=1e-14)
    np.testing.assert_allclose(_run(tf.betainc(np.float64(1), np.float64(4), x)), 1 - (1 - x) ** 4, atol=1e-14)
    np.testing.assert_allclose(_run(tf.betainc(np.float64(2), np.float64(2), x)), 3 * x ** 2 - 2 * x ** 3, atol=1e-14)
    # symmetry I_x(a, b) = 1 - I_(1-x)(b, a)
    a, b, y = np.float64(7.3), np.float64(2.1), np.array([0.1, 0.5, 0.93])
    np.testing.assert_allclose(_run(tf.betainc(a, b, y)), 1 - _run(tf.betainc(b, a, 1 - y)), rtol=1e-12, atol=1e-15)


def test_betainc_requires_one_shape_or_scalars():
    with pytest.raises(ValueError, match="inconsistent"):
        tf.betainc(tf.ones([2]), tf.ones([3]), tf.ones([2]))
    a = tf.placeholder(tf.float64)
    z = tf.betainc(a, 2.0, tf.constant([0.5, 0.5], tf.float64))
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="inconsistent"):
            sess.run(z, {a: [1.0, 2.0, 3.0]})
        assert sess.run(z, {a: [1.0, 1.0]}).tolist() == pytest.approx([0.75, 0.75])


def test_zeta_closed_forms_and_poles():
    np.testing.assert_allclose(_run(tf.zeta(np.array([2.0, 4.0, 3.0]), np.ones(3))),
                               [np.pi ** 2 / 6, np.pi ** 4 / 90, 1.2020569031595942], rtol=1e-14)
    # zeta(x, q) - zeta(x, q + 1) = q^-x
    q = np.array([0.3, 2.0, 17.5])
    s = np.float64(2.5)
    np.testing.assert_allclose(_run(tf.zeta(s, q) - tf.zeta(s, q + 1)), q ** -2.5, rtol=1e-11)
    out = _run(tf.zeta(np.array([1.0, 0.5, 2.0]), np.array([1.0, 1.0, -2.0])))
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == np.inf


def test_zero_safe_products():
    x = np.array([0.0, 0.0, 2.0, 3.0])
    y = np.array([0.0, np.inf, 0.5, 4.0])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_run(tf.math.xlogy(x, y)), [0.0, 0.0, 2 * np.log(0.5), 3 * np.log(4.0)])
        np.testing.assert_array_equal(_run(tf.math.xdivy(x, y)), [0.0, 0.0, 4.0, 0.75])
        np.testing.assert_allclose(_run(tf.math.xlog1py(x, y)), [0.0, 0.0, 2 * np.log1p(0.5), 3 * np.log1p(4.0)])
    np.testing.assert_array_equal(_run(tf.math.multiply_no_nan([np.inf, np.nan, 2.0], [0.0, 0.0, 3.0])),
                                  [0.0, 0.0, 6.0])
    np.testing.assert_array_equal(_run(tf.math.reciprocal_no_nan([0.0, 4.0, -0.5])), [0.0, 0.25, -2.0])


def test_multiply_no_nan_refuses_mixed_dtypes():
    with pytest.raises((TypeError, ValueError)):
        tf.math.multiply_no_nan(tf.constant([1.0], tf.float32), tf.constant([1.0], tf.float64))


@pytest.mark.parametrize("kwargs", [{}, {"exclusive": True}, {"reverse": True}, {"exclusive": True, "reverse": True}])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumulative_logsumexp_matches_log_of_cumsum(kwargs, axis):
    x = np.random.RandomState(0).uniform(-3, 3, (3, 4))

    def reference(v):
        e = np.exp(v)
        if kwargs.get("reverse"):
            e = np.flip(e, axis)
        c = np.cumsum(e, axis=axis)
        if kwargs.get("exclusive"):
            c = c - e
        if kwargs.get("reverse"):
            c = np.flip(c, axis)
        with np.errstate(divide="ignore"):
            return np.log(c)

    check_against_numpy(lambda v: tf.math.cumulative_logsumexp(v, axis=axis, **kwargs), reference, x, rtol=1e-12)


def test_cumulative_logsumexp_does_not_overflow():
    out = _run(tf.math.cumulative_logsumexp(np.array([1000.0, 1000.0, -1000.0])))
    np.testing.assert_allclose(out, [1000.0, 1000.0 + np.log(2), 1000.0 + np.log(2)])


def test_lbeta_log_sigmoid_polyval_and_angle():
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 4.0]])
    want = [sum(math.lgamma(v) for v in row) - math.lgamma(sum(row)) for row in x]
    np.testing.assert_allclose(_run(tf.lbeta(x)), want, rtol=1e-13)
    assert _run(tf.math.lbeta(np.zeros((2, 0)))).tolist() == [-np.inf, -np.inf]
    v = np.array([-800.0, -1.0, 0.0, 3.0, 800.0])
    np.testing.assert_allclose(_run(tf.math.log_sigmoid(v)), -np.logaddexp(0, -v), rtol=1e-14)
    np.testing.assert_allclose(_run(tf.math.polyval([2.0, -1.0, 3.0], np.array([0.0, 1.5, -2.0], np.float32))),
                               np.polyval([2.0, -1.0, 3.0], [0.0, 1.5, -2.0]))
    assert _run(tf.math.polyval([], tf.constant([1.0, 2.0]))).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        tf.math.polyval(tf.constant([1.0]), 2.0)
    z = np.array([1 + 1j, -2.0 + 0.5j, -1j], np.complex64)
    got = _run(tf.math.angle(z))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.angle(z), rtol=1e-6)
    assert _run(tf.angle(tf.constant([-1.0, 2.0]))).tolist() == [0.0, 0.0]  # TF 1.15: real input gives zeros


@pytest.mark.parametrize("fn, low, high", [
    (tf.math.bessel_i0e, -4.0, 4.0),
    (tf.math.bessel_i1e, -4.0, 4.0),
    (tf.math.bessel_i0, -3.0, 3.0),
    (tf.math.log_sigmoid, -5.0, 5.0),
    (lambda x: tf.math.cumulative_logsumexp(x, axis=1, exclusive=True), -2.0, 2.0),
    (lambda x: tf.math.cumulative_logsumexp(x, axis=0, reverse=True), -2.0, 2.0),
    (tf.lbeta, 0.5, 3.0),
    (lambda x: tf.math.polyval([x[0], np.float64(2), x[1]], x), -1.0, 1.0),
])
def test_unary_gradients_match_finite_differences(fn, low, high):
    x = np.random.RandomState(1).uniform(low, high, (2, 3))
    check_gradients(fn, [x])


def test_bessel_i1e_gradient_at_zero_is_one_half():
    x = tf.constant([0.0], tf.float64)
    assert _run(tf.gradients(tf.math.bessel_i1e(x), x)[0]).tolist() == [0.5]


@pytest.mark.parametrize("fn", [tf.math.xlogy, tf.math.xdivy, tf.math.xlog1py, tf.math.multiply_no_nan])
def test_zero_safe_products_gradients(fn):
    x = np.random.RandomState(2).uniform(0.5, 2.0, (2, 3))
    y = np.random.RandomState(3).uniform(0.5, 2.0, (3,))
    check_gradients(fn, [x, y])


def test_xlogy_gradient_is_zero_where_x_is_zero():
    x, y = tf.constant([0.0, 1.0], tf.float64), tf.constant([0.0, 2.0], tf.float64)
    gx, gy = _run(tf.gradients(tf.math.xlogy(x, y), [x, y]))
    assert gx.tolist() == [0.0, np.log(2.0)]
    assert gy.tolist() == [0.0, 0.5]


def test_special_function_gradients_in_their_differentiable_argument():
    a = np.array([0.7, 2.0, 5.0])
    x = np.array([0.4, 1.5, 6.0])
    check_gradients(lambda t: tf.igamma(tf.constant(a), t), [x])
    check_gradients(lambda t: tf.igammac(tf.constant(a), t), [x])
    b = np.array([1.5, 3.0, 0.8])
    check_gradients(lambda t: tf.betainc(tf.constant(a), tf.constant(b), t), [np.array([0.2, 0.5, 0.9])])
    check_gradients(lambda t: tf.zeta(tf.constant([2.0, 3.5, 5.0], tf.float64), t), [np.array([0.5, 1.5, 4.0])])


def test_parameters_without_a_tensorflow_gradient_get_none():
    a, x = tf.constant([1.5], tf.float64), tf.constant([0.5], tf.float64)
    assert tf.gradients(tf.betainc(a, a, x), a) == [None]
    assert tf.gradients(tf.zeta(a + 1, x), a) == [None]


def test_special_functions_refuse_integer_input():
    for fn in (tf.math.bessel_i0e, lambda v: tf.igamma(v, v), lambda v: tf.zeta(v, v)):
        with pytest.raises(TypeError):
            fn(tf.constant([1, 2]))


def test_ndtri_and_erfinv_invert_the_cdf_and_erf():
    p = np.array([1e-300, 1e-20, 1e-5, 0.02, 0.3, 0.5, 0.7, 0.98, 1 - 1e-12])
    x = _run(tf.math.ndtri(p))
    np.testing.assert_allclose([0.5 * math.erfc(-v / math.sqrt(2)) for v in x], p, rtol=1e-12)
    y = np.array([-0.999999, -0.5, -1e-12, 0.0, 1e-300, 1e-9, 0.3, 0.9999999999])
    e = _run(tf.math.erfinv(y))
    np.testing.assert_allclose([math.erf(v) for v in e], y, rtol=1e-12)
    np.testing.assert_allclose(_run(tf.math.erfcinv(np.array([0.1, 1.0, 1.7]))),
                               _run(tf.math.erfinv(np.array([0.9, 0.0, -0.7]))), rtol=1e-12, atol=1e-15)
    edges = _run(tf.math.ndtri(np.array([0.0, 1.0, -0.5, 2.0])))
    assert edges[0] == -np.inf and edges[1] == np.inf and np.isnan(edges[2:]).all()


@pytest.mark.parametrize("fn, low, high", [(tf.math.ndtri, 0.05, 0.95), (tf.math.erfinv, -0.9, 0.9),
                                           (tf.math.erfcinv, 0.2, 1.8)])
def test_inverse_function_gradients(fn, low, high):
    check_gradients(fn, [np.random.RandomState(5).uniform(low, high, (2, 3))])


def test_nextafter_steps_one_ulp():
    got = _run(tf.math.nextafter(np.float32([1.0, 1.0, 0.0]), np.float32([2.0, 0.0, -1.0])))
    np.testing.assert_array_equal(got, np.nextafter(np.float32([1.0, 1.0, 0.0]), np.float32([2.0, 0.0, -1.0])))
    with pytest.raises(TypeError):
        tf.math.nextafter(tf.constant([1, 2]), tf.constant([1, 2]))


def test_nextafter_gradient_is_one_for_x1_and_zero_for_x2_as_tf():
    with tf.Graph().as_default():
        x1, x2 = tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([5.0, 0.0])
        g1, g2 = tf.gradients(tf.math.nextafter(x1, x2), [x1, x2], grad_ys=tf.constant([[1.0, 2.0], [3.0, 4.0]]))
        with tf.Session() as sess:
            d1, d2 = sess.run([g1, g2])
    np.testing.assert_array_equal(d1, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(d2, [0.0, 0.0])


def test_incomplete_gamma_stays_a_probability_for_tiny_a():
    a = np.array([1e-30, 1e-20, 1e-8])
    with tf.Graph().as_default(), tf.Session() as sess:
        q, p = sess.run([tf.math.igammac(a, a), tf.math.igamma(a, a)])
    assert np.all((q >= 0) & (q <= 1)) and np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(q + p, 1.0)
    assert q[2] > 1e-7  # still resolved where 1 - p does not cancel to nothing
