"""Deadlines (`RunOptions.timeout_in_ms`, `ConfigProto.operation_timeout_in_ms`) hold inside control flow,
and interrupts: the run stops with DeadlineExceededError (or KeyboardInterrupt) naming where it was, and the
session stays usable."""

from __future__ import annotations

import signal
import threading
import time

import numpy as np
import pytest

import tfmini as tf

# Each loop below would run for minutes; a 100 ms deadline must stop it long before this bound (generous, so
# a busy machine cannot make the test flaky).
STOPPED_WITHIN_S = 5.0


def _long_loop(x):
    """A while_loop of ~10^7 iterations of a small matmul: minutes of work."""
    def body(i, a):
        return i + 1, tf.tanh(a @ a)

    return tf.while_loop(lambda i, a: i < 10**7, body, [tf.constant(0), x])[1]


def _assert_deadline_stops(sess, fetch, feed, options=None, op_types=("While",)):
    t0 = time.perf_counter()
    with pytest.raises(tf.errors.DeadlineExceededError) as info:
        sess.run(fetch, feed, options=options)
    elapsed = time.perf_counter() - t0
    assert elapsed < STOPPED_WITHIN_S
    assert info.value.op is not None and info.value.op.type in op_types
    assert "Timed out" in info.value.message and "[[node " in info.value.message


def _eye():
    return np.eye(16, dtype=np.float32)


def test_run_options_deadline_stops_a_while_loop_and_the_session_stays_usable():
    x = tf.placeholder(tf.float32, [16, 16])
    y = _long_loop(x)
    with tf.Session() as sess:
        _assert_deadline_stops(sess, y, {x: _eye()}, tf.RunOptions(timeout_in_ms=100))
        assert sess.run(tf.reduce_sum(x), {x: _eye()}) == 16.0
        # The same loop with few iterations still runs to the end afterwards.
        short = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)])
        assert sess.run(short, options=tf.RunOptions(timeout_in_ms=10_000)) == 10


def test_config_operation_timeout_stops_a_while_loop_in_run_and_make_callable():
    x = tf.placeholder(tf.float32, [16, 16])
    y = _long_loop(x)
    config = tf.ConfigProto(operation_timeout_in_ms=100)
    with tf.Session(config=config) as sess:
        _assert_deadline_stops(sess, y, {x: _eye()})
        call = sess.make_callable(y, [x])
        t0 = time.perf_counter()
        with pytest.raises(tf.errors.DeadlineExceededError):
            call(_eye())
        assert time.perf_counter() - t0 < STOPPED_WITHIN_S


def test_deadline_stops_a_loop_nested_in_a_cond_branch():
    x = tf.placeholder(tf.float32, [16, 16])
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: _long_loop(x), lambda: x)
    with tf.Session() as sess:
        _assert_deadline_stops(sess, y, {x: _eye()}, tf.RunOptions(timeout_in_ms=100))


def test_deadline_stops_map_fn_over_many_elements():
    x = tf.placeholder(tf.float32, [None, 16, 16])
    y = tf.map_fn(lambda m: tf.tanh(m @ m), x)
    with tf.Session() as sess:
        _assert_deadline_stops(sess, y, {x: np.zeros((10**6, 16, 16), np.float32)},
                               tf.RunOptions(timeout_in_ms=100))


def test_deadline_stops_the_gradient_of_a_long_loop():
    x = tf.placeholder(tf.float32, [])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, tf.sin(a)), [tf.constant(0), x])
    (g,) = tf.gradients(y, [x])
    with tf.Session() as sess:
        # Forward and backward each take a fraction of a second per 10^4 steps; 3 * 10^5 steps take seconds.
        # The deadline may strike in the forward loop or in its gradient loop, whichever is running then.
        _assert_deadline_stops(sess, g, {x: 0.5, n: 300_000}, tf.RunOptions(timeout_in_ms=100),
                               op_types=("While", "WhileGrad"))
        assert np.isclose(sess.run(g, {x: 0.5, n: 1}), np.cos(0.5))


def test_a_deadline_is_per_run_and_per_thread():
    # A timed run on one thread must not put a deadline on an untimed run on another.
    x = tf.placeholder(tf.float32, [16, 16])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, tf.tanh(a @ a)), [tf.constant(0), x])
    with tf.Session() as sess:
        results: dict = {}

        def untimed():
            results["untimed"] = sess.run(y, {x: _eye(), n: 20_000})

        t = threading.Thread(target=untimed)
        t.start()
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(y, {x: _eye(), n: 10**7}, options=tf.RunOptions(timeout_in_ms=50))
        t.join(120)
        assert results["untimed"].shape == (16, 16)
        # After the timed run, the same thread's untimed runs have no deadline left over.
        assert sess.run(y, {x: _eye(), n: 2000}).shape == (16, 16)


def test_keyboard_interrupt_inside_a_loop_leaves_the_session_usable():
    x = tf.placeholder(tf.float32, [16, 16])
    y = _long_loop(x)
    v = tf.Variable(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        try:
            with pytest.raises(KeyboardInterrupt):
                sess.run(y, {x: _eye()})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        assert sess.run(v + 1.0) == 2.0
        assert sess.run(tf.reduce_sum(x), {x: _eye()}) == 16.0


def test_a_session_wide_timeout_holds_on_every_repeated_run():
    # Repeated runs of one signature take a cached fast path; the session's deadline must hold there too.
    x = tf.placeholder(tf.float32, [16, 16])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, tf.tanh(a @ a)), [tf.constant(0), x])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=100)) as sess:
        for _ in range(3):
            assert sess.run(y, {x: _eye(), n: 3}).shape == (16, 16)
        for _ in range(2):
            _assert_deadline_stops(sess, y, {x: _eye(), n: 10**7})


def test_a_session_wide_timeout_holds_in_partial_runs():
    x = tf.placeholder(tf.float32, [16, 16])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, tf.tanh(a @ a)), [tf.constant(0), x])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=100)) as sess:
        h = sess.partial_run_setup([y], [x, n])
        t0 = time.perf_counter()
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.partial_run(h, y, {x: _eye(), n: 10**7})
        assert time.perf_counter() - t0 < STOPPED_WITHIN_S
        h = sess.partial_run_setup([y], [x, n])
        assert sess.partial_run(h, y, {x: _eye(), n: 3}).shape == (16, 16)
