"""TensorList ops (the lists TensorFlow's control flow v2 writes into loops and their gradients): values
against NumPy, immutability (every op makes a new list) and TF's errors."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.registry import apply_op


def _op(op_type, inputs, attrs=None):
    return apply_op(op_type, inputs, attrs or {}).outputs


def test_push_pop_length_and_stack():
    a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    (empty,) = _op("EmptyTensorList", [tf.constant([2]), tf.constant(-1)], {"element_dtype": tf.float32})
    (one,) = _op("TensorListPushBack", [empty, tf.constant(a)])
    (two,) = _op("TensorListPushBack", [one, tf.constant(b)])
    rest, last = _op("TensorListPopBack", [two, tf.constant([2])], {"element_dtype": tf.float32})
    lengths = [_op("TensorListLength", [t])[0] for t in (empty, one, two, rest)]
    (element_shape,) = _op("TensorListElementShape", [two], {"shape_type": tf.int32})
    (unknown,) = _op("EmptyTensorList", [tf.constant(-1), tf.constant(-1)], {"element_dtype": tf.float32})
    (unknown_shape,) = _op("TensorListElementShape", [unknown], {"shape_type": tf.int64})
    (stacked,) = _op("TensorListStack", [two, tf.constant([2])], {"element_dtype": tf.float32})
    (empty_stack,) = _op("TensorListStack", [empty, tf.constant([2])], {"element_dtype": tf.float32})
    with tf.Session() as sess:
        got = sess.run(lengths + [last, stacked, empty_stack])
        np.testing.assert_array_equal(sess.run(element_shape), [2])
        assert sess.run(unknown_shape) == -1
    assert got[:4] == [0, 1, 2, 1]
    np.testing.assert_array_equal(got[4], b)
    np.testing.assert_array_equal(got[5], np.stack([a, b]))
    assert got[6].shape == (0, 2) and got[6].dtype == np.float32


def test_reserve_set_get_and_from_tensor():
    rows = np.arange(6, dtype=np.int32).reshape(3, 2)
    (reserved,) = _op("TensorListReserve", [tf.constant([2]), tf.constant(3)], {"element_dtype": tf.int32})
    (set1,) = _op("TensorListSetItem", [reserved, tf.constant(1), tf.constant([7, 8])])
    unset = _op("TensorListGetItem", [set1, tf.constant(0), tf.constant([2])], {"element_dtype": tf.int32})[0]
    item = _op("TensorListGetItem", [set1, tf.constant(1), tf.constant([2])], {"element_dtype": tf.int32})[0]
    (from_rows,) = _op("TensorListFromTensor", [tf.constant(rows), tf.constant([2])])
    (stacked,) = _op("TensorListStack", [from_rows, tf.constant([2])], {"element_dtype": tf.int32})
    still_unset = _op("TensorListGetItem", [reserved, tf.constant(1), tf.constant([2])],
                      {"element_dtype": tf.int32})[0]
    with tf.Session() as sess:
        u, i, s, still = sess.run([unset, item, stacked, still_unset])
    np.testing.assert_array_equal(u, [0, 0])
    np.testing.assert_array_equal(i, [7, 8])
    np.testing.assert_array_equal(s, rows)
    np.testing.assert_array_equal(still, [0, 0])  # setting made a new list; the reserved one is unchanged


def test_errors_are_tensorflows():
    (empty,) = _op("EmptyTensorList", [tf.constant(-1), tf.constant(-1)], {"element_dtype": tf.float32})
    _, popped = _op("TensorListPopBack", [empty, tf.constant(-1)], {"element_dtype": tf.float32})
    (shaped,) = _op("EmptyTensorList", [tf.constant([2]), tf.constant(-1)], {"element_dtype": tf.float32})
    (bad_shape,) = _op("TensorListPushBack", [shaped, tf.constant([1.0, 2.0, 3.0])])
    (one,) = _op("TensorListPushBack", [shaped, tf.constant([1.0, 2.0])])
    out_of_range = _op("TensorListGetItem", [one, tf.constant(3), tf.constant([2])],
                       {"element_dtype": tf.float32})[0]
    unknown_stack = _op("TensorListStack", [empty, tf.constant(-1)], {"element_dtype": tf.float32})[0]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="pop from an empty list"):
            sess.run(popped)
        with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
            sess.run(bad_shape)
        with pytest.raises(tf.errors.InvalidArgumentError, match="element 3 in a list with 1 elements"):
            sess.run(out_of_range)
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-fully-defined element_shape"):
            sess.run(unknown_stack)
        assert sess.run(_op("TensorListLength", [one])[0]) == 1
