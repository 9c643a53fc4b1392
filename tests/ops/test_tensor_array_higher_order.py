"""tf.map_fn, tf.scan, tf.foldl and tf.foldr built on TensorArrays: values against NumPy, nesting, linear cost
in the number of elements, and gradients through them checked by finite differences."""

from __future__ import annotations

import time

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


def test_map_fn_reads_and_writes_through_tensor_arrays():
    x = tf.placeholder(tf.float32, [5, 3])
    y = tf.map_fn(lambda r: tf.reduce_sum(r * r), x)
    assert y.shape.as_list() == [5]
    ops = {op.type for op in tf.get_default_graph().get_operations()}
    assert {"TensorArrayV3", "TensorArrayScatterV3", "TensorArrayGatherV3", "While"} <= ops
    xv = np.arange(15, dtype=np.float32).reshape(5, 3)
    np.testing.assert_allclose(_run(y, {x: xv}), (xv * xv).sum(1))


def test_map_fn_nested_in_map_fn_creates_arrays_per_iteration():
    x = tf.placeholder(tf.float64, [3, 4])
    y = tf.map_fn(lambda row: tf.map_fn(lambda v: v * 2.0 + 1.0, row), x)
    xv = np.random.RandomState(0).randn(3, 4)
    np.testing.assert_allclose(_run(y, {x: xv}), xv * 2 + 1)


def test_map_fn_with_structured_elems_and_dtype():
    a = tf.constant([1, 2, 3])
    b = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = tf.map_fn(lambda t: {"s": tf.cast(t[0], tf.float32) + tf.reduce_sum(t[1]), "i": t[0] * 2}, (a, b),
                    dtype={"s": tf.float32, "i": tf.int32})
    got = _run(out)
    np.testing.assert_array_equal(got["s"], [4.0, 9.0, 14.0])
    np.testing.assert_array_equal(got["i"], [2, 4, 6])


def test_scan_and_folds_over_structures_in_both_directions():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    y = tf.constant([10.0, 20.0, 30.0, 40.0])
    s = tf.scan(lambda acc, e: (acc[0] + e[0], acc[1] * e[1]), (x, y), reverse=True)
    fr = tf.foldr(lambda acc, e: acc * 10.0 + e, x)
    fl = tf.foldl(lambda acc, e: acc + e[0] * e[1], (x, y), initializer=tf.constant(0.5))
    got_s, got_fr, got_fl = _run([s, fr, fl])
    np.testing.assert_array_equal(got_s[0], [10.0, 9.0, 7.0, 4.0])
    np.testing.assert_array_equal(got_s[1], [240000.0, 24000.0, 1200.0, 40.0])
    assert got_fr == 4321.0
    assert got_fl == 0.5 + 10 + 40 + 90 + 160


def test_scan_of_matrices_keeps_static_shapes():
    x = tf.placeholder(tf.float32, [6, 2, 2])
    s = tf.scan(lambda a, m: tf.matmul(a, m), x, initializer=tf.constant(np.eye(2, dtype=np.float32)))
    assert s.shape.as_list() == [6, 2, 2]
    xv = np.random.RandomState(1).uniform(-1, 1, [6, 2, 2]).astype(np.float32)
    want, acc = [], np.eye(2, dtype=np.float32)
    for m in xv:
        acc = acc @ m
        want.append(acc)
    np.testing.assert_allclose(_run(s, {x: xv}), np.array(want), rtol=1e-5)


def test_map_fn_cost_is_linear_in_the_number_of_elements():
    def seconds(n: int) -> float:
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [None, 4])
            y = tf.map_fn(lambda r: r + 1.0, x)
            with tf.Session() as sess:
                v = np.zeros([n, 4], np.float32)
                sess.run(y, {x: v})
                best = float("inf")
                for _ in range(2):
                    t0 = time.perf_counter()
                    sess.run(y, {x: v})
                    best = min(best, time.perf_counter() - t0)
                return best

    small, large = seconds(500), seconds(4000)
    # 8x the elements: linear is ~8x; the concatenating collector this replaced was quadratic (~64x).
    assert large < 20 * small, (small, large)


def test_gradients_through_map_fn_of_a_matrix_product():
    check_gradients(lambda x, w: tf.map_fn(lambda r: tf.tanh(tf.matmul(r[None, :], w))[0], x),
                    [np.random.RandomState(2).randn(4, 3), np.random.RandomState(3).randn(3, 2)])


def test_gradients_through_scan_with_an_initializer_and_reverse():
    check_gradients(lambda x, a: tf.scan(lambda acc, v: tf.sin(acc) * v, x, initializer=a, reverse=True),
                    [np.random.RandomState(4).randn(5, 2), np.array([0.3, -0.7])])


def test_gradients_through_foldr_of_a_structure():
    check_gradients(lambda x, y, a: tf.foldr(lambda acc, e: acc * e[0] + e[1], (x, y), initializer=a),
                    [np.array([0.5, 1.5, -0.5]), np.array([1.0, 2.0, 3.0]), np.array(0.25)])


def test_gradients_through_nested_map_fn():
    check_gradients(lambda x: tf.map_fn(lambda row: tf.map_fn(lambda v: v * v * v, row), x),
                    [np.random.RandomState(5).randn(2, 3)])
