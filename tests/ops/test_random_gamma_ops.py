"""tf.random.gamma and tf.random.poisson: shapes, dtypes, seeds, the distributions' moments, RandomGamma's and
RandomPoissonV2's numbers against TensorFlow's (two runs of seeded ops recorded by
tools/tf_fixtures/gen_math_leftovers.py), the reparameterization gradient of gamma samples, and IgammaGradA."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "math_leftovers")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    _RECORDED = json.load(_f)
GAMMA_RUNS, POISSON_RUNS = _RECORDED["gamma"], _RECORDED["poisson"]
ARRAYS = np.load(os.path.join(FIXTURES, "cases.npz"))


@pytest.mark.parametrize("i", range(len(GAMMA_RUNS)))
def test_random_gamma_draws_tensorflows_numbers(i):
    case = GAMMA_RUNS[i]
    alpha = ARRAYS[f"gamma{i}/alpha"]
    sample = apply_op("RandomGamma", [np.array(case["shape"], np.int32), alpha],
                      {"seed": case["seed"], "seed2": case["seed2"]}).outputs[0]
    with tf.Session() as sess:
        for r in range(2):  # the second run continues the op's stream, as TF's does
            got = sess.run(sample)
            want = ARRAYS[f"gamma{i}/run{r}"]
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == np.float32 else 1e-13)
    with tf.Session() as sess:  # a new session starts the stream again
        np.testing.assert_allclose(sess.run(sample), ARRAYS[f"gamma{i}/run0"], rtol=1e-6)


@pytest.mark.parametrize("i", range(len(POISSON_RUNS)))
def test_random_poisson_draws_tensorflows_numbers(i):
    case = POISSON_RUNS[i]
    sample = apply_op("RandomPoissonV2", [np.array(case["shape"], np.int32), ARRAYS[f"poisson{i}/rate"]],
                      {"seed": case["seed"], "seed2": case["seed2"], "dtype": tf.as_dtype(case["dtype"])}).outputs[0]
    with tf.Session() as sess:
        for r in range(2):
            got, want = sess.run(sample), ARRAYS[f"poisson{i}/run{r}"]
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_random_gamma_through_the_wrapper_with_explicit_seeds():
    tf.set_random_seed(7)
    g = tf.random.gamma([3], np.array([0.5, 1.0, 2.5, 9.0]), dtype=tf.float64, seed=11)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g), ARRAYS["gamma0/run0"], rtol=1e-13)


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def test_gamma_shape_dtype_and_moments():
    alpha = np.array([[0.5], [3.0]], np.float32)
    beta = np.array([1.0, 4.0], np.float32)
    g = tf.random.gamma([30000], alpha, beta=beta, seed=3)
    assert g.shape.as_list() == [30000, 2, 2] and g.dtype == tf.float32
    x = _run(g)
    a, b = np.broadcast_arrays(alpha, beta)
    np.testing.assert_allclose(x.mean(0), a / b, rtol=0.03)
    np.testing.assert_allclose(x.var(0), a / b ** 2, rtol=0.06)
    assert x.min() > 0


def test_gamma_seeds_repeat_across_sessions_and_advance_within_one():
    tf.set_random_seed(5)
    g = tf.random_gamma([4], 2.0, dtype=tf.float64)
    with tf.Session() as s1, tf.Session() as s2:
        first = s1.run(g)
        np.testing.assert_array_equal(first, s2.run(g))
        assert not np.array_equal(first, s1.run(g))


def test_gamma_gradient_is_the_implicit_reparameterization():
    alpha = tf.constant([0.7, 2.0, 6.0], tf.float64)
    beta = tf.constant(2.0, tf.float64)
    g = tf.random.gamma([5000], alpha, beta=beta, dtype=tf.float64, seed=1)
    d_alpha, d_beta = tf.gradients(tf.reduce_mean(g, 0), [alpha, beta])
    # E[x] = alpha / beta: the pathwise derivative of the sample mean tends to 1 / beta and -alpha / beta^2.
    da, db = _run([d_alpha, d_beta])
    np.testing.assert_allclose(da, 0.5, rtol=0.05)
    np.testing.assert_allclose(db, -np.sum([0.7, 2.0, 6.0]) / 4, rtol=0.05)


def test_random_gamma_grad_matches_the_quantile_derivative():
    # For fixed u = P(a, x), dx/da by finite differences of the quantile, found by bisection on tf.igamma.
    a, x = np.array([0.8, 2.5, 7.0]), np.array([0.3, 2.0, 9.0])
    got = _run(apply_op("RandomGammaGrad", [tf.constant(a), tf.constant(x)]).outputs[0])
    u = _run(tf.igamma(a, x))
    h = 1e-5

    def quantile(aa):
        lo, hi = np.zeros_like(x), np.full_like(x, 100.0)
        for _ in range(200):
            mid = (lo + hi) / 2
            below = _run(tf.igamma(aa, mid)) < u
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return (lo + hi) / 2

    np.testing.assert_allclose(got, (quantile(a + h) - quantile(a - h)) / (2 * h), rtol=1e-4)


def test_igamma_gradient_in_a():
    x = np.array([0.4, 2.0, 30.0])
    check_gradients(lambda a: tf.igamma(a, x), [np.array([0.6, 1.5, 25.0])])
    check_gradients(lambda a: tf.igammac(a, x), [np.array([0.6, 1.5, 25.0])])


def test_poisson_shape_dtype_and_moments():
    lam = np.array([0.5, 4.0, 40.0], np.float32)
    p = tf.random.poisson(lam, [20000, 1], dtype=tf.int64, seed=2)
    assert p.shape.as_list() == [20000, 1, 3] and p.dtype == tf.int64
    x = _run(p)
    np.testing.assert_allclose(x.mean((0, 1)), lam, rtol=0.03)
    np.testing.assert_allclose(x.var((0, 1)), lam, rtol=0.06)
    assert _run(tf.random_poisson(2.0, [3])).dtype == np.float32
    assert tf.gradients(tf.random.poisson(tf.constant(1.0), [2]), []) == []


def test_poisson_negative_rate():
    rate = tf.placeholder(tf.float32)
    as_float = tf.random.poisson(rate, [2])
    as_int = tf.random.poisson(rate, [2], dtype=tf.int32)
    with tf.Session() as sess:
        assert np.isnan(sess.run(as_float, {rate: -1.0})).all()
        with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
            sess.run(as_int, {rate: -1.0})
        assert sess.run(as_int, {rate: 0.0}).tolist() == [0, 0]
