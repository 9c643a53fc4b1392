"""partial_run_setup / partial_run: the reference example, results in the fetch structure, ops run once
across the calls of one partial run, independent handles, and the errors TF raises."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import dtypes
from tfmini.ops import array_ops, math_ops


@pytest.fixture
def abc():
    a = array_ops.placeholder(dtypes.float32, shape=[])
    b = array_ops.placeholder(dtypes.float32, shape=[])
    c = array_ops.placeholder(dtypes.float32, shape=[])
    r1 = math_ops.add(a, b)
    r2 = math_ops.multiply(r1, c)
    return a, b, c, r1, r2


def test_reference_example(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b, c])
        res = sess.partial_run(h, r1, feed_dict={a: 1, b: 2})
        assert res == 3.0 and isinstance(res, np.float32)
        res = sess.partial_run(h, r2, feed_dict={c: res})
        assert res == 9.0


def test_handle_is_a_string_and_handles_are_independent(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h1 = sess.partial_run_setup([r1, r2], [a, b, c])
        h2 = sess.partial_run_setup([r1, r2], [a, b, c])
        assert isinstance(h1, str) and h1 != h2
        assert sess.partial_run(h1, r1, {a: 1.0, b: 1.0}) == 2.0
        assert sess.partial_run(h2, r1, {a: 5.0, b: 5.0}) == 10.0
        assert sess.partial_run(h1, r2, {c: 10.0}) == 20.0
        assert sess.partial_run(h2, r2, {c: 2.0}) == 20.0
        # Ordinary runs are unaffected by pending partial runs.
        assert sess.run(r2, {a: 1.0, b: 1.0, c: 1.0}) == 2.0


def test_results_follow_the_fetch_structure(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2, a], [a, b, c])
        out = sess.partial_run(h, [r1, a], {a: 1.0, b: 2.0})
        assert out == [3.0, 1.0]
        out = sess.partial_run(h, {"r2": r2}, {c: 2.0})
        assert out == {"r2": 6.0}


def test_single_element_setup_arguments(abc):
    a, b, c, r1, r2 = abc
    d = a * 2.0
    with tf.Session() as sess:
        h = sess.partial_run_setup(d, a)
        assert sess.partial_run(h, d, {a: 4.0}) == 8.0


def test_fetch_by_name_and_operation_targets(abc):
    a, b, c, r1, r2 = abc
    noop = tf.no_op(name="done")
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1.name, noop], [a, b])
        assert sess.partial_run(h, r1.name, {a: 1.0, b: 1.0}) == 2.0
        assert sess.partial_run(h, noop) is None


def test_ops_already_run_are_not_rerun():
    a = tf.placeholder(tf.float32, shape=[])
    c = tf.placeholder(tf.float32, shape=[])
    handle_op = tf.get_session_handle(a * 2.0)  # stateful: every execution stores a new handle
    handle_string = tf.identity(handle_op)
    later = handle_string  # fetched in the second call: must reuse the first call's handle op result
    combined = a * c
    with tf.Session() as sess:
        h = sess.partial_run_setup([handle_op, later, combined], [a, c])
        first = sess.partial_run(h, handle_op, {a: 3.0})
        assert first.eval() == 6.0
        second = sess.partial_run(h, [later, combined], {c: 2.0})
        assert second[0].decode() == first.handle  # the same execution, not a new handle
        assert second[1] == 6.0


def test_fetch_not_in_setup_raises_invalid_argument(abc):
    a, b, c, r1, r2 = abc
    other = a - b
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1], [a, b])
        with pytest.raises(tf.errors.InvalidArgumentError, match="not specified in partial_run_setup"):
            sess.partial_run(h, other, {a: 1.0, b: 1.0})


def test_feed_not_in_setup_raises_invalid_argument(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b])
        with pytest.raises(tf.errors.InvalidArgumentError, match="not specified in partial_run_setup"):
            sess.partial_run(h, r2, {a: 1.0, b: 1.0, c: 1.0})


def test_feeding_twice_raises_invalid_argument(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b, c])
        sess.partial_run(h, r1, {a: 1.0, b: 1.0})
        with pytest.raises(tf.errors.InvalidArgumentError, match="has already been fed"):
            sess.partial_run(h, r2, {a: 2.0, c: 1.0})


def test_fetching_twice_raises_invalid_argument(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b, c])
        sess.partial_run(h, r1, {a: 1.0, b: 1.0})
        with pytest.raises(tf.errors.InvalidArgumentError, match="has already been fetched"):
            sess.partial_run(h, r1)


def test_fetch_needing_an_unfed_input_raises_invalid_argument(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b, c])
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.partial_run(h, r2, {a: 1.0, b: 1.0})


def test_unknown_handle_raises_invalid_argument(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.partial_run("no such handle", r1, {a: 1.0, b: 1.0})


def test_setup_with_bad_fetches_or_feeds_raises_type_error(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.partial_run_setup(None, [a])
        with pytest.raises(TypeError):
            sess.partial_run_setup([r1, 3], [a])
        with pytest.raises(TypeError):
            sess.partial_run_setup([r1], [a, 3])
        with pytest.raises(ValueError):
            sess.partial_run_setup(["nope:0"], [a])


def test_partial_run_feed_shape_check(abc):
    a, b, c, r1, r2 = abc
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1], [a, b])
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.partial_run(h, r1, {a: [1.0, 2.0], b: 1.0})


def test_partial_run_with_sparse_feeds():
    sp = tf.sparse_placeholder(tf.float32)
    scale = tf.placeholder(tf.float32, shape=[])
    total = tf.sparse_reduce_sum(sp)
    scaled = total * scale
    with tf.Session() as sess:
        h = sess.partial_run_setup([total, scaled], [sp, scale])
        value = tf.SparseTensorValue([[0, 0], [1, 1]], [1.0, 2.0], [2, 2])
        assert sess.partial_run(h, total, {sp: value}) == 3.0
        assert sess.partial_run(h, scaled, {scale: 10.0}) == 30.0


def test_partial_run_kernel_error_names_the_op():
    x = tf.placeholder(tf.float32)
    shape = tf.placeholder(tf.int32)
    r = tf.reshape(x, shape, name="bad_reshape")
    with tf.Session() as sess:
        h = sess.partial_run_setup([r], [x, shape])
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_reshape") as info:
            sess.partial_run(h, r, {x: [1.0, 2.0, 3.0], shape: [2, 2]})
        assert info.value.op is r.op
        np.testing.assert_array_equal(sess.run(r, {x: [1.0, 2.0], shape: [2]}), [1.0, 2.0])


def test_mutating_a_result_does_not_change_later_calls():
    a = tf.placeholder(tf.float32, shape=[2])
    c = tf.placeholder(tf.float32, shape=[])
    r1 = a * 2.0
    r2 = r1 * c
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, c])
        first = sess.partial_run(h, r1, {a: [1.0, 2.0]})
        first += 100.0
        np.testing.assert_array_equal(sess.partial_run(h, r2, {c: 1.0}), [2.0, 4.0])


def test_a_partial_run_keeps_its_own_copy_of_what_was_fed():
    a = tf.placeholder(tf.float32, [2])
    b = tf.placeholder(tf.float32, [])
    first = a * 1.0
    second = a * b
    fed = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        h = sess.partial_run_setup([first, second], [a, b])
        np.testing.assert_array_equal(sess.partial_run(h, first, {a: fed}), [1.0, 2.0])
        fed[:] = 100.0  # the caller reuses their buffer between calls
        np.testing.assert_array_equal(sess.partial_run(h, second, {b: 3.0}), [3.0, 6.0])


def test_the_last_declared_fetch_ends_the_partial_run():
    """As in TF, a partial run whose declared fetches have all been fetched is over: its handle is forgotten
    (and the values it kept are freed)."""
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [], name="b")
    r1 = tf.multiply(a, 2.0, name="r1")
    r2 = tf.add(r1, b, name="r2")
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b])
        assert sess.partial_run(h, r1, {a: 1.0}) == 2.0
        assert sess.partial_run(h, r2, {b: 3.0}) == 5.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="Must run 'setup' before performing partial runs"):
            sess.partial_run(h, r1, {a: 1.0})
        assert not sess._partial_runs
