"""Random ops: distributions and dtypes against NumPy statistics, TF1's seed rules, determinism across
sessions, fresh numbers on every run, and the errors TF raises."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import random_ops


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


# ----------------------------------------------------------------------------------------------------------
# Distributions, shapes and dtypes
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_random_normal_has_requested_moments_shape_and_dtype(dtype):
    with tf.Graph().as_default():
        x = tf.random_normal([200, 100], mean=3.0, stddev=2.0, dtype=dtype, seed=1)
        assert x.shape.as_list() == [200, 100]
        assert x.dtype == dtype
        v = _run(x)
    assert v.dtype == dtype.as_numpy_dtype
    v = v.astype(np.float64)
    assert abs(v.mean() - 3.0) < 0.05
    assert abs(v.std() - 2.0) < 0.05


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_truncated_normal_stays_within_two_stddev(dtype):
    with tf.Graph().as_default():
        v = _run(tf.truncated_normal([20000], mean=-1.0, stddev=0.5, dtype=dtype, seed=3))
    assert v.dtype == dtype.as_numpy_dtype
    v = v.astype(np.float64)
    assert v.min() >= -2.0 - 1e-3 and v.max() <= 1e-3
    # The standard deviation of N(0, 1) truncated to [-2, 2] is about 0.8796.
    assert abs(v.std() / 0.5 - 0.8796) < 0.02
    assert abs(v.mean() + 1.0) < 0.02


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_random_uniform_float_covers_half_open_range(dtype):
    with tf.Graph().as_default():
        v = _run(tf.random_uniform([50000], minval=-2.0, maxval=3.0, dtype=dtype, seed=4))
    assert v.dtype == dtype.as_numpy_dtype
    assert v.min() >= -2.0 and v.max() < 3.0
    assert abs(v.astype(np.float64).mean() - 0.5) < 0.05
    counts, _ = np.histogram(v.astype(np.float64), bins=5, range=(-2, 3))
    assert counts.min() > 0.9 * len(v) / 5


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_random_uniform_int_covers_every_value_in_range(dtype):
    with tf.Graph().as_default():
        x = tf.random_uniform([3000], minval=-3, maxval=4, dtype=dtype, seed=5)
        assert x.op.type == "RandomUniformInt"
        v = _run(x)
    assert v.dtype == dtype.as_numpy_dtype
    assert set(np.unique(v).tolist()) == set(range(-3, 4))


def test_random_uniform_accepts_tensor_bounds_and_shape():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        lo = tf.placeholder(tf.float32, [])
        x = tf.random_uniform([n, 2], minval=lo, maxval=lo + 1.0, seed=6)
        assert x.shape.as_list() == [None, 2]
        v = _run(x, {n: 7, lo: 10.0})
    assert v.shape == (7, 2)
    assert v.min() >= 10.0 and v.max() < 11.0


def test_shape_given_as_tensor_shape_or_unknown_tensor():
    with tf.Graph().as_default():
        s = tf.placeholder(tf.int32, [3])
        x = tf.random_normal(s)
        assert x.shape.as_list() == [None, None, None]
        y = tf.random_normal(tf.TensorShape([2, 5]))
        assert y.shape.as_list() == [2, 5]
        vx, vy = _run([x, y], {s: [1, 2, 3]})
    assert vx.shape == (1, 2, 3) and vy.shape == (2, 5)


def test_random_shuffle_permutes_first_dimension():
    value = np.arange(40, dtype=np.int64).reshape(20, 2)
    with tf.Graph().as_default():
        x = tf.random_shuffle(value, seed=7)
        assert x.shape.as_list() == [20, 2]
        v = _run(x)
    assert v.dtype == np.int64
    assert not np.array_equal(v, value)
    assert sorted(v[:, 0].tolist()) == list(range(0, 40, 2))
    np.testing.assert_array_equal(v[:, 1], v[:, 0] + 1)


def test_random_shuffle_of_scalar_and_single_row_is_identity():
    with tf.Graph().as_default():
        a, b = _run([tf.random_shuffle(5.0), tf.random_shuffle([[1, 2]])])
    assert a == 5.0
    np.testing.assert_array_equal(b, [[1, 2]])


def test_multinomial_frequencies_follow_softmax_of_logits():
    logits = np.array([[0.0, np.log(2.0), np.log(7.0)], [np.log(9.0), -np.inf, 0.0]], dtype=np.float32)
    with tf.Graph().as_default():
        x = tf.multinomial(logits, 20000, seed=8)
        assert x.shape.as_list() == [2, 20000]
        assert x.dtype == tf.int64
        v = _run(x)
    freq0 = np.bincount(v[0], minlength=3) / v.shape[1]
    np.testing.assert_allclose(freq0, [0.1, 0.2, 0.7], atol=0.015)
    assert not np.any(v[1] == 1)  # probability 0
    np.testing.assert_allclose(np.mean(v[1] == 0), 0.9, atol=0.015)


def test_categorical_takes_dtype_and_unknown_sample_count():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        x = tf.random.categorical([[1.0, 1.0]], n, dtype=tf.int32, seed=1)
        assert x.dtype == tf.int32
        assert x.shape.as_list() == [1, None]
        v = _run(x, {n: 4})
    assert v.dtype == np.int32 and v.shape == (1, 4)


def test_zero_sized_shapes_give_empty_arrays():
    with tf.Graph().as_default():
        a, b = _run([tf.random_normal([0, 3]), tf.random_uniform([0], maxval=5, dtype=tf.int32)])
    assert a.shape == (0, 3) and a.dtype == np.float32
    assert b.shape == (0,) and b.dtype == np.int32


# ----------------------------------------------------------------------------------------------------------
# Seeds
# ----------------------------------------------------------------------------------------------------------
def test_get_seed_rules():
    with tf.Graph().as_default() as g:
        assert random_ops.get_seed(None) == (None, None)
        assert random_ops.get_seed(5) == (random_ops.DEFAULT_GRAPH_SEED, 5)
        tf.set_random_seed(11)
        assert g.seed == 11
        assert random_ops.get_seed(5) == (11, 5)
        first = random_ops.get_seed(None)
        tf.constant(1.0)
        second = random_ops.get_seed(None)
        assert first[0] == second[0] == 11
        assert first[1] != second[1]
        tf.random.set_random_seed(0)
        assert random_ops.get_seed(0) == (0, 2**31 - 1)


def test_seed_attrs_are_recorded_on_the_op():
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        x = tf.random_normal([2], seed=9)
        op = x.op.inputs[0].op.inputs[0].op
        assert op.type == "RandomStandardNormal"
        assert (op.get_attr("seed"), op.get_attr("seed2")) == (3, 9)


def _program(graph_seed, op_seeds):
    """Builds a small random program in a fresh graph and returns two runs of it in one session."""
    with tf.Graph().as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        xs = [tf.random_normal([4], seed=op_seeds[0]), tf.random_uniform([4], seed=op_seeds[1]),
              tf.truncated_normal([4], seed=op_seeds[2]), tf.random_shuffle(np.arange(10), seed=op_seeds[3]),
              tf.multinomial([[0.0, 0.0, 0.0]], 6, seed=op_seeds[4]),
              tf.random_uniform([4], maxval=100, dtype=tf.int64, seed=op_seeds[5])]
        with tf.Session() as sess:
            return sess.run(xs), sess.run(xs)


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def _all_differ(a, b):
    return all(not np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("graph_seed,op_seeds", [(42, [None] * 6), (42, [1, 2, 3, 4, 5, 6]),
                                                 (None, [1, 2, 3, 4, 5, 6])])
def test_fixed_seeds_repeat_across_sessions_and_graphs_but_advance_between_runs(graph_seed, op_seeds):
    first_a, second_a = _program(graph_seed, op_seeds)
    first_b, second_b = _program(graph_seed, op_seeds)
    assert _same(first_a, first_b)
    assert _same(second_a, second_b)
    assert _all_differ(first_a, second_a)


def test_without_seeds_runs_are_not_repeatable():
    first_a, _ = _program(None, [None] * 6)
    first_b, _ = _program(None, [None] * 6)
    # Shuffles of 10 and 3-class draws can collide by chance; the continuous samples cannot.
    assert _all_differ(first_a[:3], first_b[:3])


def test_different_op_seeds_differ_and_equal_op_seeds_agree():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        a = tf.random_normal([5], seed=1)
        b = tf.random_normal([5], seed=2)
        c = tf.random_normal([5], seed=1)
        d = tf.random_normal([5])
        e = tf.random_normal([5])
        va, vb, vc, vd, ve = _run([a, b, c, d, e])
    assert not np.array_equal(va, vb)
    np.testing.assert_array_equal(va, vc)
    assert not np.array_equal(vd, ve)


def test_graph_seed_changes_the_numbers():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        a = _run(tf.random_normal([5], seed=1))
    with tf.Graph().as_default():
        tf.set_random_seed(2)
        b = _run(tf.random_normal([5], seed=1))
    assert not np.array_equal(a, b)


def test_random_values_are_never_constant_folded():
    with tf.Graph().as_default():
        x = tf.random_uniform([3], seed=1) * 2.0 + 1.0
        with tf.Session() as sess:
            assert not np.array_equal(sess.run(x), sess.run(x))


# ----------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------
def test_integer_uniform_needs_maxval():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
            tf.random_uniform([2], dtype=tf.int32)


def test_unsupported_dtypes_are_type_errors():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.random_normal([2], dtype=tf.int32)
        with pytest.raises(TypeError):
            tf.random_uniform([2], maxval=3, dtype=tf.int8)
        with pytest.raises(TypeError):
            tf.truncated_normal([2], dtype=tf.bool)


def test_uniform_int_with_empty_range_fails_at_run_time():
    with tf.Graph().as_default():
        hi = tf.placeholder(tf.int32, [])
        x = tf.random_uniform([3], minval=2, maxval=hi, dtype=tf.int32)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval: 2 >= 2"):
                sess.run(x, {hi: 2})
            assert sess.run(x, {hi: 3}).tolist() == [2, 2, 2]


def test_negative_shape_fails_at_run_time():
    with tf.Graph().as_default():
        s = tf.placeholder(tf.int32, [2])
        x = tf.random_normal(s)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(x, {s: [2, -1]})


def test_multinomial_needs_matrix_logits():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.multinomial([1.0, 2.0], 3)
        with pytest.raises(ValueError):
            tf.multinomial([[1.0, 2.0]], [3])


def test_random_ops_are_not_differentiable_but_mean_and_stddev_are():
    with tf.Graph().as_default():
        mean = tf.constant(1.0)
        stddev = tf.constant(2.0)
        x = tf.random_normal([4], mean=mean, stddev=stddev, seed=1)
        g_mean, g_std = tf.gradients(tf.reduce_sum(x), [mean, stddev])
        with tf.Session() as sess:
            xv, gm, gs = sess.run([x, g_mean, g_std])
    assert gm == pytest.approx(4.0)
    assert gs == pytest.approx(float(np.sum((xv - 1.0) / 2.0)), rel=1e-5)
    with tf.Graph().as_default():
        shuffle_in = tf.constant([1.0, 2.0])
        assert tf.gradients(tf.random_shuffle(shuffle_in), shuffle_in) == [None]


def test_random_crop_takes_a_window_at_a_random_offset():
    value = np.arange(60).reshape(6, 10)
    with tf.Graph().as_default():
        crop = tf.random_crop(value, [2, 3], seed=1)
        with tf.Session() as sess:
            crops = [sess.run(crop) for _ in range(30)]
    offsets = set()
    for c in crops:
        assert c.shape == (2, 3)
        r, col = divmod(int(c[0, 0]), 10)
        np.testing.assert_array_equal(c, value[r:r + 2, col:col + 3])
        offsets.add((r, col))
    assert len(offsets) > 5


def test_random_crop_larger_than_value_fails_at_run_time():
    with tf.Graph().as_default():
        size = tf.placeholder(tf.int32, [2])
        crop = tf.random_crop(np.zeros((3, 3)), size)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
                sess.run(crop, {size: [4, 1]})
            assert sess.run(crop, {size: [3, 3]}).shape == (3, 3)
