"""Initializers: values against NumPy, the distributions' scales, seeding, configuration and TF's errors."""

import math

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import init_ops


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _value(init, shape, dtype=tf.float32):
    with tf.Session() as sess:
        return sess.run(init(shape, dtype=dtype))


def test_zeros_and_ones():
    z = _value(tf.zeros_initializer(), [2, 3])
    o = _value(tf.ones_initializer(dtype=tf.int32), [4], dtype=None)
    np.testing.assert_array_equal(z, np.zeros([2, 3], np.float32))
    assert o.dtype == np.int32 and o.tolist() == [1, 1, 1, 1]


def test_constant_fills_and_pads_with_the_last_element():
    np.testing.assert_array_equal(_value(tf.constant_initializer(2.5), [2, 2]), np.full([2, 2], 2.5, np.float32))
    np.testing.assert_array_equal(_value(tf.constant_initializer([1, 2]), [4]), [1, 2, 2, 2])
    np.testing.assert_array_equal(_value(tf.constant_initializer([[1, 2], [3, 4]]), [2, 2]), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="Too many elements provided"):
        _value(tf.constant_initializer([1, 2, 3]), [2])
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        tf.constant_initializer({"a": 1})
    with pytest.raises(TypeError):
        _value(tf.constant_initializer([1, 2], verify_shape=True), [4])


def test_random_uniform_range_and_integer_dtype():
    u = _value(tf.random_uniform_initializer(-2.0, 3.0, seed=1), [2000])
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.15
    i = _value(tf.random_uniform_initializer(0, 5, seed=1, dtype=tf.int32), [200], dtype=None)
    assert i.dtype == np.int32 and set(i.tolist()) <= set(range(5))


def test_random_normal_and_truncated_normal_statistics():
    n = _value(tf.random_normal_initializer(1.0, 2.0, seed=3), [20000])
    assert abs(n.mean() - 1.0) < 0.06 and abs(n.std() - 2.0) < 0.06
    t = _value(tf.truncated_normal_initializer(0.0, 1.0, seed=3), [20000])
    assert np.abs(t).max() <= 2.0 and abs(t.std() - 0.8796) < 0.03


def test_random_initializers_require_float_dtypes():
    for cls in (tf.random_normal_initializer, tf.truncated_normal_initializer, tf.glorot_uniform_initializer):
        with pytest.raises(ValueError, match="Expected floating point type"):
            cls(dtype=tf.int32)


def test_compute_fans_of_dense_and_convolution_shapes():
    assert init_ops._compute_fans([]) == (1, 1)
    assert init_ops._compute_fans([5]) == (5, 5)
    assert init_ops._compute_fans([5, 7]) == (5, 7)
    assert init_ops._compute_fans([3, 3, 4, 8]) == (36, 72)


@pytest.mark.parametrize("mode,expected_n", [("fan_in", 200), ("fan_out", 100), ("fan_avg", 150)])
def test_variance_scaling_uniform_has_the_requested_variance(mode, expected_n):
    w = _value(tf.variance_scaling_initializer(2.0, mode, "uniform", seed=5), [200, 100])
    limit = math.sqrt(3.0 * 2.0 / expected_n)
    assert np.abs(w).max() <= limit
    np.testing.assert_allclose(w.var(), 2.0 / expected_n, rtol=0.05)


def test_variance_scaling_normal_distributions_have_the_requested_variance():
    trunc = _value(tf.variance_scaling_initializer(1.0, "fan_in", "truncated_normal", seed=5), [400, 100])
    plain = _value(tf.variance_scaling_initializer(1.0, "fan_in", "untruncated_normal", seed=5), [400, 100])
    np.testing.assert_allclose(trunc.var(), 1.0 / 400, rtol=0.05)
    np.testing.assert_allclose(plain.var(), 1.0 / 400, rtol=0.05)
    assert np.abs(trunc).max() <= 2 * math.sqrt(1.0 / 400) / 0.87962566103423978 + 1e-6


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`scale` must be positive float"):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError, match="Invalid `distribution` argument"):
        tf.variance_scaling_initializer(distribution="cauchy")


def test_glorot_uniform_limit_and_glorot_normal_variance():
    w = _value(tf.glorot_uniform_initializer(seed=2), [300, 100])
    limit = math.sqrt(6.0 / 400)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    n = _value(tf.glorot_normal_initializer(seed=2), [300, 100])
    np.testing.assert_allclose(n.var(), 2.0 / 400, rtol=0.05)


def test_he_and_lecun_initializers_scale_by_fan_in():
    np.testing.assert_allclose(_value(tf.initializers.he_normal(seed=1), [500, 60]).var(), 2.0 / 500, rtol=0.05)
    np.testing.assert_allclose(_value(tf.initializers.lecun_uniform(seed=1), [500, 60]).var(), 1.0 / 500, rtol=0.05)


def test_identity_initializer():
    np.testing.assert_array_equal(_value(tf.initializers.identity(gain=2.0), [2, 3]), 2 * np.eye(2, 3))
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        _value(tf.initializers.identity(), [2])


def test_seeded_initializers_repeat_across_graphs_and_sessions():
    def draw():
        with tf.Graph().as_default():
            tf.set_random_seed(42)
            v = tf.get_variable("w", [5, 5])
            with tf.Session() as sess:
                sess.run(v.initializer)
                return sess.run(v)

    np.testing.assert_array_equal(draw(), draw())


def test_op_seeded_initializer_gives_the_same_values_each_call():
    init = tf.random_normal_initializer(seed=7)
    a, b = init([3]), init([3])
    with tf.Session() as sess:
        np.testing.assert_array_equal(*sess.run([a, b]))


def test_config_round_trip():
    init = tf.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=3)
    again = init_ops.VarianceScaling.from_config(init.get_config())
    assert again.get_config() == init.get_config()


def test_initializers_namespace():
    assert tf.initializers.zeros is tf.zeros_initializer
    assert tf.initializers.glorot_uniform is tf.glorot_uniform_initializer
    v = tf.Variable(1.0)
    assert tf.initializers.global_variables().type == "NoOp"
    assert tf.initializers.variables([v]).type == "NoOp"
