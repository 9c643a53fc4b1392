"""tf.random.stateless_*: the numbers are a function of (shape, seed) only, equal to TensorFlow's (the raw ops
are replayed bit for bit in test_math_leftovers; here the wrappers scale them as TF does), with TF's argument
checks; and the distributions' statistics."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "math_leftovers")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)["cases"]
ARRAYS = np.load(os.path.join(FIXTURES, "cases.npz"))


def _recorded(op: str, dtype: str, seed: list[int]) -> np.ndarray:
    """TF's output of the raw op `op` of shape [3, 5] and `dtype` for `seed`."""
    for i, case in enumerate(CASES):
        if (case["op"] == op and case["attrs"].get("dtype") == dtype and ARRAYS[f"{i}/in0"].tolist() == [3, 5]
                and ARRAYS[f"{i}/in1"].tolist() == seed):
            return ARRAYS[f"{i}/out0"]
    raise KeyError((op, dtype, seed))


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wrappers_scale_tensorflows_numbers(dtype):
    seed = [1, 2]
    uniform = _run(tf.random.stateless_uniform([3, 5], seed, minval=-2, maxval=3, dtype=dtype))
    np.testing.assert_allclose(uniform, _recorded("StatelessRandomUniform", dtype, seed) * 5 - 2, rtol=1e-6)
    normal = _run(tf.random.stateless_normal([3, 5], seed, mean=1.0, stddev=2.0, dtype=dtype))
    np.testing.assert_allclose(normal, _recorded("StatelessRandomNormal", dtype, seed) * 2 + 1, rtol=1e-5, atol=1e-6)
    truncated = _run(tf.random.stateless_truncated_normal([3, 5], seed, dtype=dtype))
    np.testing.assert_allclose(truncated, _recorded("StatelessTruncatedNormal", dtype, seed), rtol=1e-5, atol=1e-6)


def test_same_seed_same_numbers_in_every_run_and_session():
    seed = tf.placeholder(tf.int64, [2])
    x = tf.random.stateless_normal([4, 3], seed)
    with tf.Session() as a, tf.Session() as b:
        first = a.run(x, {seed: [5, 6]})
        np.testing.assert_array_equal(first, a.run(x, {seed: [5, 6]}))
        np.testing.assert_array_equal(first, b.run(x, {seed: [5, 6]}))
        assert not np.array_equal(first, a.run(x, {seed: [5, 7]}))


def test_a_longer_draw_starts_with_a_shorter_one():
    short = _run(tf.random.stateless_uniform([10], [3, 4]))
    long = _run(tf.random.stateless_uniform([1000], [3, 4]))
    np.testing.assert_array_equal(long[:10], short)


def test_distribution_statistics():
    n = 200_000
    u = _run(tf.random.stateless_uniform([n], [7, 8], dtype=tf.float64))
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    z = _run(tf.random.stateless_normal([n], [7, 8]))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    t = _run(tf.random.stateless_truncated_normal([n], [7, 8]))
    assert np.abs(t).max() < 2 and abs(t.std() - 0.8796) < 0.01
    k = _run(tf.random.stateless_uniform([n], [7, 8], minval=-3, maxval=4, dtype=tf.int32))
    assert k.dtype == np.int32 and set(np.unique(k)) == set(range(-3, 4))


def test_categorical_draws_from_the_logits():
    with np.errstate(divide="ignore"):  # class 2 of row 0 has probability 0: logit -inf
        logits = np.log(np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]], np.float32))
    draws = _run(tf.random.stateless_categorical(logits, 20000, [1, 1]))
    assert draws.dtype == np.int64 and draws.shape == (2, 20000)
    assert not (draws[0] == 2).any()
    np.testing.assert_allclose(np.bincount(draws[0], minlength=3) / 20000, [0.2, 0.8, 0.0], atol=0.015)
    np.testing.assert_allclose(np.bincount(draws[1], minlength=3) / 20000, [0.5, 0.25, 0.25], atol=0.015)
    # One stream runs through the rows, so only the first row of a shorter draw is a prefix of a longer one.
    again = _run(tf.random.stateless_multinomial(logits, 5, [1, 1], output_dtype=tf.int32))
    assert again.dtype == np.int32
    np.testing.assert_array_equal(again[0], draws[0, :5])


def test_argument_errors():
    with pytest.raises(ValueError, match="maxval"):
        tf.random.stateless_uniform([2], [1, 2], dtype=tf.int32)
    with pytest.raises(ValueError):
        tf.random.stateless_normal([2], [1, 2, 3])
    with pytest.raises(ValueError, match="Philox"):
        tf.random.stateless_normal([2], [1, 2], alg="threefry")
    with pytest.raises(TypeError):
        tf.random.stateless_uniform([2], [1.0, 2.0])
    seed = tf.placeholder(tf.int64)
    x = tf.random.stateless_uniform([2], seed)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="seed must have shape"):
            sess.run(x, {seed: [1, 2, 3]})
        assert sess.run(x, {seed: [1, 2]}).shape == (2,)


def test_stateless_ops_have_no_gradient():
    mean = tf.constant(0.5)
    x = tf.random.stateless_normal([3], [1, 2], mean=mean)
    g = tf.gradients(x, mean)[0]
    assert _run(g) == pytest.approx(3.0)
