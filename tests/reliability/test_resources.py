"""Resources stay bounded: memory is flat over many runs (plain, fed, traced, timed, with handles), and
sessions, their variables and their plans are freed when closed."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np

import tfmini as tf

# Growth allowed between two measurements after warm-up: far below what one leaked value per run would
# cost over the runs in between (each leak would be at least a few hundred bytes per run).
SLACK_BYTES = 64 * 1024


def _growth(run, warmup: int, runs: int) -> int:
    """Bytes still allocated after `runs` more calls of `run` than after `warmup` calls."""
    for _ in range(warmup):
        run()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(runs):
            run()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def _train_graph():
    x = tf.placeholder(tf.float32, [None, 8])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([8, 1]))
    loss = tf.reduce_mean(tf.square(x @ w - y))
    step = tf.train.AdamOptimizer(0.01).minimize(loss)
    return x, y, loss, step


def test_memory_is_flat_over_many_fed_training_runs():
    x, y, loss, step = _train_graph()
    xs, ys = np.ones((4, 8), np.float32), np.ones((4, 1), np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert _growth(lambda: sess.run([loss, step], {x: xs, y: ys}), 200, 1000) < SLACK_BYTES


def test_memory_is_flat_over_many_traced_and_timed_runs():
    x, y, loss, step = _train_graph()
    xs, ys = np.ones((4, 8), np.float32), np.ones((4, 1), np.float32)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, timeout_in_ms=60_000)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        metadata = tf.RunMetadata()
        assert _growth(lambda: sess.run(step, {x: xs, y: ys}, options=options, run_metadata=metadata),
                       150, 150) < SLACK_BYTES


def test_memory_is_flat_over_many_while_loop_runs():
    n = tf.placeholder(tf.int32, [])
    _, total = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + tf.cast(i, tf.float32)),
                             [tf.constant(0), tf.constant(0.0)])
    with tf.Session() as sess:
        assert _growth(lambda: sess.run(total, {n: 20}), 50, 300) < SLACK_BYTES


def test_deleted_session_handles_free_their_values():
    x = tf.placeholder(tf.float32, [1000])
    h_op = tf.get_session_handle(x * 2.0)
    with tf.Session() as sess:
        def store_and_delete():
            sess.run(h_op, {x: np.ones(1000, np.float32)}).delete()

        assert _growth(store_and_delete, 20, 300) < SLACK_BYTES


def test_closed_sessions_are_freed_with_their_variables_and_plans():
    x, y, _, step = _train_graph()
    init = tf.global_variables_initializer()
    refs = []

    def open_run_close():
        sess = tf.Session()
        sess.run(init)
        sess.run(step, {x: np.ones((2, 8), np.float32), y: np.ones((2, 1), np.float32)})
        sess.close()
        refs.append(weakref.ref(sess))

    assert _growth(open_run_close, 10, 100) < SLACK_BYTES
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_many_live_sessions_keep_separate_state_and_close_cleanly():
    v = tf.Variable(0.0)
    add = v.assign_add(1.0)
    sessions = [tf.Session() for _ in range(200)]
    for k, sess in enumerate(sessions):
        sess.run(v.initializer)
        for _ in range(k % 5):
            sess.run(add)
    assert [float(s.run(v)) for s in sessions] == [float(k % 5) for k in range(200)]
    for sess in sessions:
        sess.close()
    gc.collect()
