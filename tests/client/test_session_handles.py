"""Session handles: tf.get_session_handle keeps a value in the session; the fetched TensorHandle is an
ndarray that can eval() and delete(); tf.get_session_tensor reads by handle, tf.delete_session_tensor frees;
a handle can be fed back in place of the tensor it names."""

import pickle

import numpy as np
import pytest

import tfmini as tf


def test_fetched_handle_is_an_ndarray_holding_the_handle_string():
    c = tf.constant([1.0, 2.0]) * 10.0
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(c))
        assert isinstance(h, np.ndarray)
        assert h.shape == () and h.dtype == object
        assert isinstance(h.handle, str) and h.handle
        assert h.get_raw_handle() == h.handle
        assert str(h) == h.handle
        assert h.item() == h.handle.encode()
        np.testing.assert_array_equal(h.eval(), [10.0, 20.0])


def test_each_run_of_the_handle_op_stores_a_new_value():
    p = tf.placeholder(tf.float32)
    op = tf.get_session_handle(p * 2.0)
    with tf.Session() as sess:
        h1 = sess.run(op, {p: 1.0})
        h2 = sess.run(op, {p: 5.0})
        assert h1.handle != h2.handle
        assert h1.eval() == 2.0 and h2.eval() == 10.0


def test_get_session_tensor_reads_the_value_by_handle_string_or_handle():
    a = tf.constant(10)
    b = tf.constant(5)
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(a * b))
        holder, x = tf.get_session_tensor(h.handle, tf.int32)
        assert holder.dtype == tf.string and x.dtype == tf.int32
        y = x * 10
        assert sess.run(y, {holder: h.handle}) == 500
        assert sess.run(y, {holder: h}) == 500  # the TensorHandle itself can be fed to the holder


def test_handle_fed_directly_in_place_of_its_tensor():
    a = tf.constant(10.0)
    b = tf.constant(5.0)
    c = a * b
    d = c * c
    with tf.Session() as sess:
        h_c = sess.run(tf.get_session_handle(c))
        assert sess.run(d, feed_dict={c: h_c}) == 2500.0
        other = tf.placeholder(tf.float32)
        assert sess.run(other + 1.0, {other: h_c}) == 51.0


def test_handles_chain_across_runs():
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(tf.constant(1.0)))
        holder, x = tf.get_session_tensor(h.handle, tf.float32)
        step = tf.get_session_handle(x + 1.0)
        for _ in range(3):
            h = sess.run(step, {holder: h.handle})
        assert h.eval() == 4.0


def test_delete_frees_the_value():
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(tf.constant(3.0)))
        holder, x = tf.get_session_tensor(h.handle, tf.float32)
        assert sess.run(x, {holder: h.handle}) == 3.0
        h.delete()
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in the session store"):
            sess.run(x, {holder: h.handle})
        with pytest.raises(tf.errors.InvalidArgumentError):
            h.eval()


def test_delete_session_tensor_op():
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(tf.constant([1, 2])))
        del_holder, deleter = tf.delete_session_tensor(h.handle)
        assert deleter.type == "DeleteSessionTensor"
        assert sess.run(deleter, {del_holder: h.handle}) is None
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in the session store"):
            sess.run(deleter, {del_holder: h.handle})  # deleting twice


def test_unknown_handle_string_raises_invalid_argument():
    holder, x = tf.get_session_tensor("nope", tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="'nope' is not in the session store") as info:
            sess.run(x, {holder: "nope"})
        assert info.value.op is x.op


def test_handles_belong_to_their_session():
    c = tf.constant(2.0)
    s1 = tf.Session()
    h = s1.run(tf.get_session_handle(c))
    holder, x = tf.get_session_tensor(h.handle, tf.float32)
    with tf.Session() as s2:
        with pytest.raises(tf.errors.InvalidArgumentError):
            s2.run(x, {holder: h.handle})
    assert s1.run(x, {holder: h.handle}) == 2.0
    s1.close()
    with tf.Session() as s3:  # a closed session's store is gone with it
        with pytest.raises(tf.errors.InvalidArgumentError):
            s3.run(x, {holder: h.handle})


def test_get_session_handle_requires_a_tensor():
    with pytest.raises(TypeError):
        tf.get_session_handle(3.0)
    with pytest.raises(TypeError):
        tf.get_session_handle(tf.no_op())


def test_handle_is_not_picklable():
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(tf.constant(1)))
        with pytest.raises(TypeError):
            pickle.dumps(h)


def test_handle_in_a_nested_fetch_with_values():
    c = tf.constant(7)
    with tf.Session() as sess:
        out = sess.run({"h": tf.get_session_handle(c), "v": c})
        assert out["v"] == 7 and out["h"].eval() == 7


# ----------------------------------------------------------------------------------------------------------
# Stored values are the session's own: what comes back is a copy, and what went in cannot change
# ----------------------------------------------------------------------------------------------------------
def test_value_read_through_a_handle_string_is_a_copy():
    p = tf.placeholder(tf.float32, shape=[3])
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(p * 2.0), {p: [1.0, 2.0, 3.0]})
        holder, x = tf.get_session_tensor(h.handle, tf.float32)
        for fetch in (x, tf.identity(x), tf.reshape(x, [3])):
            out = sess.run(fetch, {holder: h.handle})
            out[:] = -1.0  # the caller may write into what run() returns ...
            np.testing.assert_array_equal(sess.run(x, {holder: h.handle}), [2.0, 4.0, 6.0])  # ... harmlessly


def test_handle_eval_returns_a_copy():
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(p + 1.0), {p: [0.0, 1.0, 2.0, 3.0]})
        first = h.eval()
        first[0] = 100.0
        np.testing.assert_array_equal(h.eval(), [1.0, 2.0, 3.0, 4.0])


def test_handle_fed_in_place_of_its_tensor_is_not_written_through():
    p = tf.placeholder(tf.float32, shape=[2])
    c = p + 1.0
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(c), {p: [1.0, 2.0]})
        out = sess.run(tf.identity(c), {c: h})
        out[:] = 0.0
        np.testing.assert_array_equal(h.eval(), [2.0, 3.0])


def test_stored_value_is_not_changed_through_the_same_runs_fetch():
    p = tf.placeholder(tf.float32)
    c = p * 2.0
    with tf.Session() as sess:
        h, value = sess.run([tf.get_session_handle(c), c], {p: [0.0, 1.0, 2.0]})
        value[:] = 7.0  # the fetched array of the tensor the handle stores
        np.testing.assert_array_equal(h.eval(), [0.0, 2.0, 4.0])


def test_stored_value_is_not_changed_through_the_callers_fed_array():
    p = tf.placeholder(tf.float32, shape=[2])
    x = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        h = sess.run(tf.get_session_handle(p), {p: x})
        x[:] = -5.0  # the caller reuses its buffer after the run
        np.testing.assert_array_equal(h.eval(), [1.0, 2.0])
        assert x.flags.writeable  # and its array is left as it was (still writable)


def test_stored_value_is_not_changed_when_its_variable_is_updated():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        h = sess.run(tf.get_session_handle(v.value()))
        sess.run(v.assign_add([10.0, 10.0]))
        np.testing.assert_array_equal(h.eval(), [1.0, 2.0])
