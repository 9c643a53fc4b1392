"""tf.bitwise: and/or/xor/invert against NumPy on every integer dtype, TF's clamped shifts, broadcasting, the
errors for non-integer and mismatched operands, and no gradient (TF's values are replayed in test_math_leftovers)."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import BROADCAST_SHAPES, check_against_numpy

import tfmini as tf
from tfmini.framework import errors

INT_TYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)


def _ints(shape, dtype, seed=0):
    info = np.iinfo(dtype)
    rng = np.random.RandomState(seed)
    return rng.randint(max(info.min, -1000), min(info.max, 1000), size=shape).astype(dtype)


@pytest.mark.parametrize("fn, ref", [(tf.bitwise.bitwise_and, np.bitwise_and), (tf.bitwise.bitwise_or, np.bitwise_or),
                                     (tf.bitwise.bitwise_xor, np.bitwise_xor)])
@pytest.mark.parametrize("dtype", INT_TYPES)
def test_binary_bitwise_ops_match_numpy(fn, ref, dtype):
    check_against_numpy(fn, ref, _ints((3, 4), dtype, 1), _ints((3, 4), dtype, 2))


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES)
def test_bitwise_ops_broadcast(shapes):
    a, b = _ints(shapes[0], np.int32, 3), _ints(shapes[1], np.int32, 4)
    check_against_numpy(tf.bitwise.bitwise_xor, np.bitwise_xor, a, b)


@pytest.mark.parametrize("dtype", INT_TYPES)
def test_invert_flips_every_bit(dtype):
    check_against_numpy(tf.bitwise.invert, np.invert, _ints((5,), dtype))


@pytest.mark.parametrize("dtype", INT_TYPES)
def test_shifts_clamp_the_amount_to_the_type_width(dtype):
    bits = np.iinfo(dtype).bits
    x = np.array([1, 3, 5, 7], dtype)
    y = np.array([0, 1, bits - 1, bits + 3], dtype)
    clamped = np.minimum(y, bits - 1).astype(dtype)
    with tf.Session() as sess:
        left, right = sess.run([tf.bitwise.left_shift(x, y), tf.bitwise.right_shift(x, y)])
    np.testing.assert_array_equal(left, np.left_shift(x, clamped))
    np.testing.assert_array_equal(right, np.right_shift(x, clamped))


def test_signed_shifts_are_arithmetic_and_negative_amounts_count_as_zero():
    x = np.array([-8, -1, -128, 64], np.int8)
    with tf.Session() as sess:
        right = sess.run(tf.bitwise.right_shift(x, np.array([1, 7, 20, -3], np.int8)))
        left = sess.run(tf.bitwise.left_shift(x, np.array([1, -2, 1, 1], np.int8)))
    np.testing.assert_array_equal(right, [-4, -1, -1, 64])
    np.testing.assert_array_equal(left, [-16, -1, 0, -128])


def test_bitwise_ops_refuse_floats_and_mixed_dtypes():
    with pytest.raises(TypeError):
        tf.bitwise.bitwise_and(tf.constant([1.0]), tf.constant([2.0]))
    with pytest.raises(TypeError):
        tf.bitwise.bitwise_or(tf.constant([1], tf.int32), tf.constant([2], tf.int64))


def test_mismatched_shapes_fail_at_graph_time_or_run_time():
    with pytest.raises(ValueError):
        tf.bitwise.bitwise_and(tf.constant([1, 2, 3]), tf.constant([1, 2]))
    a, b = tf.placeholder(tf.int32), tf.placeholder(tf.int32)
    z = tf.bitwise.bitwise_and(a, b)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Incompatible shapes"):
            sess.run(z, {a: [1, 2, 3], b: [1, 2]})
        assert sess.run(z, {a: [6], b: [3]}).tolist() == [2]


def test_bitwise_ops_have_no_gradient():
    x = tf.constant([1, 2], tf.int32)
    assert tf.gradients(tf.cast(tf.bitwise.invert(x), tf.float32), x) == [None]


def test_bitwise_names_are_declared():
    assert sorted(tf.bitwise.__all__) == ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift",
                                          "right_shift"]
