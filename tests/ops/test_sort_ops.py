"""tf.sort, tf.argsort and tf.searchsorted against NumPy (every axis, both directions, integer extremes, ties),
their errors, and the gradient of sort (through TopKV2)."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.int8])
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort_and_argsort_match_numpy(dtype, axis, direction):
    x = np.random.RandomState(0).randint(0, 6, (3, 4, 5)).astype(dtype)  # many ties
    if np.issubdtype(dtype, np.signedinteger):
        x[0, 0, :2] = [np.iinfo(dtype).min, np.iinfo(dtype).max]
    if direction == "ASCENDING":
        want_idx = np.argsort(x, axis=axis, kind="stable")
    else:
        # descending and stable: equal values keep their order
        want_idx = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
        want_idx = x.shape[axis] - 1 - want_idx
    got_sorted, got_idx = _run([tf.sort(x, axis=axis, direction=direction),
                                tf.argsort(x, axis=axis, direction=direction, stable=True)])
    assert got_idx.dtype == np.int32 and got_sorted.dtype == dtype
    np.testing.assert_array_equal(got_idx, want_idx)
    np.testing.assert_array_equal(got_sorted, np.take_along_axis(x, want_idx, axis))


def test_sort_keeps_the_static_shape_and_takes_unknown_shapes_on_the_last_axis():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.sort(x).shape.as_list() == [None, 3]
    y = tf.placeholder(tf.float32)
    np.testing.assert_array_equal(_run(tf.sort(y), {y: [[3.0, 1.0, 2.0]]}), [[1.0, 2.0, 3.0]])


def test_sort_errors():
    with pytest.raises(ValueError, match="ASCENDING"):
        tf.sort([1, 2], direction="UP")
    with pytest.raises(ValueError):
        tf.sort(tf.constant([[1, 2]]), axis=2)
    with pytest.raises(ValueError):
        tf.sort(tf.constant([1, 2]), axis=tf.constant(0))


def test_sort_gradient_routes_each_value_back():
    check_gradients(lambda x: tf.sort(x, axis=0, direction="DESCENDING"),
                    [np.random.RandomState(1).uniform(-1, 1, (4, 3))])
    check_gradients(lambda x: tf.sort(x), [np.random.RandomState(2).uniform(-1, 1, (2, 5))])


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("out_type", [tf.int32, tf.int64])
def test_searchsorted_matches_numpy_per_row(side, out_type):
    rng = np.random.RandomState(3)
    seq = np.sort(rng.randint(0, 8, (2, 3, 6)), axis=-1).astype(np.float32)
    values = rng.randint(-1, 10, (2, 3, 4)).astype(np.float32)
    got = _run(tf.searchsorted(seq, values, side=side, out_type=out_type))
    want = np.array([[np.searchsorted(s, v, side=side) for s, v in zip(srow, vrow)]
                     for srow, vrow in zip(seq, values)])
    assert got.dtype == out_type.as_numpy_dtype
    np.testing.assert_array_equal(got, want)


def test_searchsorted_on_vectors_and_its_errors():
    assert _run(tf.searchsorted([1, 3, 3, 7], [0, 3, 4, 9])).tolist() == [0, 1, 3, 4]
    with pytest.raises(ValueError, match="side"):
        tf.searchsorted([1, 2], [1], side="middle")
    seq, vals = tf.placeholder(tf.int32), tf.placeholder(tf.int32)
    found = tf.searchsorted(seq, vals)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Leading dim_size"):
            sess.run(found, {seq: [[1, 2], [3, 4]], vals: [[1], [2], [3]]})
        assert sess.run(found, {seq: [[1, 2]], vals: [[2]]}).tolist() == [[1]]
