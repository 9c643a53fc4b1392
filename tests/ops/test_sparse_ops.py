"""Sparse ops against NumPy on the dense form (SparseToDense, SparseReduceSum, SparseTensorDenseMatMul), their
run-time errors, and their gradients against finite differences (SparseToDense has none, as in TF)."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients, random_array

import tfmini as tf

INDICES = np.array([[0, 1], [1, 0], [1, 2], [2, 2]], np.int64)
SHAPE = np.array([3, 3], np.int64)


def _dense(values: np.ndarray) -> np.ndarray:
    out = np.zeros(SHAPE, values.dtype)
    out[tuple(INDICES.T)] = values
    return out


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_sparse_tensor_to_dense_fills_the_default_value():
    values = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, values, SHAPE)
        got = _run(tf.sparse_tensor_to_dense(sp, default_value=-1.0))
    want = np.where(_dense(values) == 0, -1.0, _dense(values)).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32


def test_sparse_tensor_to_dense_rejects_out_of_bounds_indices():
    with tf.Graph().as_default():
        sp = tf.SparseTensor([[0, 3]], [1.0], [3, 3])
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
            _run(tf.sparse_tensor_to_dense(sp))


def test_sparse_tensor_to_dense_has_no_gradient_as_in_tf():
    with tf.Graph().as_default():
        values = tf.constant([1.0, 2.0, 3.0, 4.0])
        dense = tf.sparse_tensor_to_dense(tf.SparseTensor(INDICES, values, SHAPE))
        assert tf.gradients(tf.reduce_sum(dense), values) == [None]


@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 1]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sparse_reduce_sum_matches_numpy_and_differentiates(axis, keepdims):
    values = random_array((4,), seed=3)
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, tf.constant(values), SHAPE)
        got = _run(tf.sparse_reduce_sum(sp, axis=axis, keepdims=keepdims))
    want = np.sum(_dense(values), axis=None if axis is None else tuple(np.atleast_1d(axis)), keepdims=keepdims)
    np.testing.assert_allclose(got, want)
    check_gradients(lambda v: tf.sparse_reduce_sum(tf.SparseTensor(INDICES, v, SHAPE), axis=axis,
                                                   keepdims=keepdims), [values])


@pytest.mark.parametrize("adjoint_a", [False, True])
@pytest.mark.parametrize("adjoint_b", [False, True])
def test_sparse_dense_matmul_matches_numpy_and_differentiates(adjoint_a, adjoint_b):
    values = random_array((4,), seed=4)
    b = random_array((2, 3) if adjoint_b else (3, 2), seed=5)

    def ref(v, m):
        a = _dense(v).T if adjoint_a else _dense(v)
        return a @ (m.T if adjoint_b else m)

    def product(v, m):
        return tf.sparse_tensor_dense_matmul(tf.SparseTensor(INDICES, v, SHAPE), m, adjoint_a=adjoint_a,
                                             adjoint_b=adjoint_b)

    with tf.Graph().as_default():
        np.testing.assert_allclose(_run(product(tf.constant(values), tf.constant(b))), ref(values, b))
    check_gradients(product, [values, b])


def test_sparse_dense_matmul_rejects_mismatched_inner_dimensions_at_run_time():
    with tf.Graph().as_default():
        b = tf.placeholder(tf.float32)
        product = tf.sparse_tensor_dense_matmul(tf.SparseTensor(INDICES, np.ones(4, np.float32), SHAPE), b)
        with pytest.raises(tf.errors.InvalidArgumentError, match="inner dimension does not match"):
            _run(product, {b: np.ones((2, 2), np.float32)})


@pytest.mark.parametrize("fn", [tf.sparse_tensor_to_dense, tf.sparse_reduce_sum,
                                lambda sp: tf.sparse_tensor_dense_matmul(sp, tf.ones([2, 2]))],
                         ids=["to_dense", "reduce_sum", "dense_matmul"])
def test_sparse_ops_given_a_dense_tensor_raise_tfs_type_error(fn):
    with pytest.raises(TypeError, match="Input must be a SparseTensor."):
        fn(tf.ones([2, 2]))


def test_sparse_tensor_from_value_refuses_what_is_not_sparse():
    with pytest.raises(TypeError, match="Neither a SparseTensor nor SparseTensorValue"):
        tf.SparseTensor.from_value(tf.ones([2]))
