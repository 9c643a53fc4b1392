"""The stacks of TF1 loop gradients (StackV2, StackPushV2, StackPopV2, StackCloseV2) and ControlTrigger: order,
TensorFlow's errors (messages as TensorFlow's kernels give them), storage per run (never shared by two runs,
two threads or two sessions), the parallel engine, and a stack carried through a tfmini while loop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import stack_ops
from tfmini.ops.stack_ops import stack_close_v2, stack_pop_v2, stack_push_v2, stack_v2


def _chain(*builders):
    """Builds ops one after the other, each under a control dependency on the one before."""
    out, prev = [], None
    for build in builders:
        with tf.control_dependencies([prev] if prev is not None else []):
            prev = build()
        out.append(prev)
    return out


def test_pops_return_pushed_values_last_first_with_their_shapes_and_dtypes():
    h = stack_v2(-1, tf.float64, stack_name="s")
    a, b = np.arange(3.0), np.ones([2, 2])
    _, _, p1, p2 = _chain(lambda: stack_push_v2(h, a), lambda: stack_push_v2(h, b),
                          lambda: stack_pop_v2(h, tf.float64), lambda: stack_pop_v2(h, tf.float64))
    with tf.Session() as sess:
        got1, got2 = sess.run([p1, p2])
    np.testing.assert_array_equal(got1, b)
    np.testing.assert_array_equal(got2, a)
    assert got1.dtype == np.float64 and got2.shape == (3,)


def test_push_forwards_its_element_and_shapes_are_tensorflows():
    h = stack_v2(5, tf.int32)
    pushed = stack_push_v2(h, tf.constant([[1, 2, 3]]))
    popped = stack_pop_v2(h, tf.int32)
    assert h.dtype == tf.resource and h.shape.as_list() == [2]
    assert pushed.shape.as_list() == [1, 3] and pushed.dtype == tf.int32
    assert popped.shape.ndims is None
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(pushed), [[1, 2, 3]])


def test_op_signatures_and_attr_defaults():
    h = stack_v2(3, tf.float32)
    assert h.op.type == "StackV2" and h.op.get_attr("stack_name") == "" and h.op.get_attr("elem_type") == tf.float32
    push = stack_push_v2(h, 1.0)
    assert push.op.type == "StackPushV2" and push.op.get_attr("swap_memory") is False
    assert push.op.get_attr("T") == tf.float32
    pop = stack_pop_v2(h, tf.float32)
    assert pop.op.get_attr("elem_type") == tf.float32
    close = stack_close_v2(h)
    assert close.type == "StackCloseV2" and not close.outputs
    trigger = stack_ops.control_trigger()
    assert trigger.type == "ControlTrigger" and not trigger.inputs and not trigger.outputs


def test_pop_of_an_empty_stack_is_invalid_argument_and_the_session_stays_usable():
    h = stack_v2(-1, tf.float32, stack_name="empty")
    pop = stack_pop_v2(h, tf.float32)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match=r"Stack\[empty_\d+\] is empty when calling Pop\(\)") as e:
            sess.run(pop)
        assert e.value.op is pop.op
        assert sess.run(tf.constant(2.0) * 3.0) == 6.0


def test_push_beyond_a_positive_max_size_overflows():
    h = stack_v2(2, tf.float32, stack_name="small")
    ops = _chain(*(lambda k=k: stack_push_v2(h, float(k)) for k in range(3)))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(ops[1]), 1.0)
        with pytest.raises(errors.InvalidArgumentError, match=r"Stack\[small_\d+\] overflowed its max_size \(2\)"):
            sess.run(ops[2])


@pytest.mark.parametrize("max_size", [0, -1])
def test_zero_or_negative_max_size_means_no_limit(max_size):
    h = stack_v2(max_size, tf.float32)
    ops = _chain(*(lambda k=k: stack_push_v2(h, float(k)) for k in range(50)), lambda: stack_pop_v2(h, tf.float32))
    with tf.Session() as sess:
        assert sess.run(ops[-1]) == 49.0


def test_push_and_pop_after_close_fail_and_a_second_close_does_nothing():
    h = stack_v2(-1, tf.float32, stack_name="closed")
    push, close, close_again = _chain(lambda: stack_push_v2(h, 1.0), lambda: stack_close_v2(h),
                                      lambda: stack_close_v2(h))
    with tf.control_dependencies([close]):
        pop = stack_pop_v2(h, tf.float32)
        push_after = stack_push_v2(h, 2.0)
    with tf.Session() as sess:
        sess.run(close_again)
        for op in (pop, push_after):
            with pytest.raises(errors.InvalidArgumentError, match=r"Stack\[closed_\d+\] has already been closed\."):
                sess.run(op)


def test_push_of_another_dtype_is_invalid_and_pop_of_another_elem_type_is_internal():
    h = stack_v2(-1, tf.float32, stack_name="typed")
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match=r"must have type float but got int32"):
            sess.run(stack_push_v2(h, 1))
        push = stack_push_v2(h, 1.0)
        with tf.control_dependencies([push]):
            pop = stack_pop_v2(h, tf.int32)
        with pytest.raises(errors.InternalError, match="of type float does not match declared output type int32"):
            sess.run(pop)


def test_max_size_must_be_a_scalar():
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        stack_v2([3], tf.float32)
    size = tf.placeholder(tf.int32)
    h = stack_v2(size, tf.float32)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError,
                                             match=r"Stack size must be a scalar, but had shape: \[1\]"):
        sess.run(stack_push_v2(h, 1.0), {size: [1]})


def test_wrong_input_dtypes_are_type_errors_at_graph_build():
    with pytest.raises(TypeError):
        stack_v2(tf.constant(2.0), tf.float32)
    with pytest.raises(TypeError):
        stack_pop_v2(tf.constant(1.0), tf.float32)


def test_each_run_gets_a_fresh_stack():
    h = stack_v2(-1, tf.float32)
    x = tf.placeholder(tf.float32, [])
    push = stack_push_v2(h, x)
    with tf.control_dependencies([push]):
        pop = stack_pop_v2(h, tf.float32)
    pop_only = stack_pop_v2(h, tf.float32)
    with tf.Session() as sess:
        sess.run(push, {x: 1.0})
        with pytest.raises(errors.InvalidArgumentError, match="is empty"):
            sess.run(pop_only)
        assert [sess.run(pop, {x: float(k)}) for k in range(3)] == [0.0, 1.0, 2.0]


def test_runs_in_threads_and_sessions_never_share_a_stack():
    x = tf.placeholder(tf.float32, [None])
    h = stack_v2(-1, tf.float32)
    pushes = _chain(lambda: stack_push_v2(h, x), lambda: stack_push_v2(h, x * 2.0))
    with tf.control_dependencies(pushes[-1:]):
        top = stack_pop_v2(h, tf.float32)
    with tf.control_dependencies([top]):
        bottom = stack_pop_v2(h, tf.float32)
    errors_seen, done = [], []
    with tf.Session() as sess, tf.Session() as other:
        def work(k: int, session) -> None:
            try:
                for _ in range(25):
                    v = np.full([k + 1], float(k), np.float32)
                    got_top, got_bottom = session.run([top, bottom], {x: v})
                    np.testing.assert_array_equal(got_top, v * 2.0)
                    np.testing.assert_array_equal(got_bottom, v)
                done.append(k)
            except Exception as e:  # noqa: BLE001 - reported below
                errors_seen.append(e)

        threads = [threading.Thread(target=work, args=(k, sess if k % 2 else other)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors_seen, errors_seen
    assert sorted(done) == [0, 1, 2, 3]


def test_parallel_engine_keeps_pushes_and_pops_in_order():
    xs = [tf.constant(np.full([300, 300], k, np.float32)) for k in range(4)]
    h = stack_v2(-1, tf.float32)
    builders = [lambda x=x: stack_push_v2(h, tf.matmul(x, x)) for x in xs]
    builders += [lambda: stack_pop_v2(h, tf.float32) for _ in xs]
    ops = _chain(*builders)
    pops = ops[len(xs):]
    config = tf.ConfigProto(inter_op_parallelism_threads=3)
    with tf.Session(config=config) as sess:
        got = sess.run(pops)
    for value, k in zip(got, reversed(range(len(xs)))):
        np.testing.assert_allclose(value, np.full([300, 300], 300.0 * k * k, np.float32))


def test_a_while_loop_pushes_each_iteration_and_pops_come_back_reversed():
    n = tf.placeholder(tf.int32, [])
    h = stack_v2(-1, tf.int32)

    def body(i):
        with tf.control_dependencies([stack_push_v2(h, i * 10)]):
            return i + 1

    done = tf.while_loop(lambda i: i < n, body, [tf.constant(0)])

    def pop_body(i, acc):
        return i - 1, tf.concat([acc, tf.reshape(stack_pop_v2(h, tf.int32), [1])], 0)

    with tf.control_dependencies([done]):
        start = tf.identity(done)
    _, popped = tf.while_loop(lambda i, acc: i > 0, pop_body, [start, tf.zeros([0], tf.int32)],
                              shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(popped, {n: 5}), [40, 30, 20, 10, 0])
        np.testing.assert_array_equal(sess.run(popped, {n: 0}), np.zeros([0], np.int32))


def test_control_trigger_runs_its_control_inputs_and_nothing_else():
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        trigger = stack_ops.control_trigger(name="b_sync")
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(trigger) is None
        sess.run(trigger)
        assert sess.run(v) == 2.0


def test_stack_ops_have_no_gradients():
    x = tf.constant(2.0)
    h = stack_v2(-1, tf.float32)
    pushed = stack_push_v2(h, x * 3.0)
    with tf.control_dependencies([pushed]):
        popped = stack_pop_v2(h, tf.float32)
    assert tf.gradients(popped, x) == [None]
    assert tf.gradients(pushed * 1.0, x) == [None]
