"""Many threads on one session: `use_locking=True` serializes updates of a variable (TF's semantics), runs
without it never crash, and independent runs stay exact."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tfmini as tf

N_THREADS = 4
N_RUNS = 25


def _in_threads(fn, n: int = N_THREADS) -> list:
    """Runs `fn(i)` on `n` threads started together; re-raises the first exception any of them raised."""
    errors: list = []
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait()
            fn(i)
        except BaseException as e:  # noqa: BLE001 - reported to the test below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return errors


@pytest.mark.parametrize("op_name", ["assign_add", "assign_sub"])
def test_locked_dense_updates_from_many_threads_lose_nothing(op_name):
    v = tf.Variable(tf.zeros([1_000_000]))
    update = getattr(tf, op_name)(v, tf.ones([1_000_000]), use_locking=True)
    with tf.Session() as sess:
        sess.run(v.initializer)
        _in_threads(lambda i: [sess.run(update.op) for _ in range(N_RUNS)])
        value = sess.run(v)
    expected = N_THREADS * N_RUNS * (1.0 if op_name == "assign_add" else -1.0)
    np.testing.assert_array_equal(value, np.full(1_000_000, expected, np.float32))


def test_locked_scatter_updates_from_many_threads_lose_nothing():
    v = tf.Variable(tf.zeros([1000, 100]))
    rows = tf.constant(np.arange(1000, dtype=np.int32))
    update = tf.scatter_add(v, rows, tf.ones([1000, 100]), use_locking=True)
    with tf.Session() as sess:
        sess.run(v.initializer)
        _in_threads(lambda i: [sess.run(update.op) for _ in range(N_RUNS)])
        np.testing.assert_array_equal(sess.run(v), np.full((1000, 100), N_THREADS * N_RUNS, np.float32))


def _adagrad_total(steps: int) -> float:
    # Step k (1-based) sees accum = 1 + k and adds 1 / sqrt(1 + k): each locked step is applied whole.
    return float(np.sum(1.0 / np.sqrt(1.0 + np.arange(1, steps + 1, dtype=np.float64))))


@pytest.mark.parametrize("make_optimizer, expected", [
    (lambda: tf.train.GradientDescentOptimizer(1.0, use_locking=True), float),
    (lambda: tf.train.MomentumOptimizer(1.0, 0.0, use_locking=True), float),
    (lambda: tf.train.AdagradOptimizer(1.0, initial_accumulator_value=1.0, use_locking=True), _adagrad_total),
], ids=["sgd", "momentum", "adagrad"])
def test_locked_optimizer_steps_from_many_threads_lose_nothing(make_optimizer, expected):
    # loss = -sum(w): every step moves each element of w up by the same amount, so the result after all steps
    # is the expected one only when no step was lost or torn.
    w = tf.Variable(tf.zeros([200_000]))
    step = make_optimizer().minimize(-tf.reduce_sum(w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _in_threads(lambda i: [sess.run(step) for _ in range(N_RUNS)])
        value = sess.run(w)
    np.testing.assert_allclose(value, np.full_like(value, expected(N_THREADS * N_RUNS)), rtol=1e-5)


def test_count_up_to_gives_every_thread_a_distinct_count():
    v = tf.Variable(0, dtype=tf.int64)
    count = tf.count_up_to(v, limit=N_THREADS * N_RUNS)
    seen: list = []
    with tf.Session() as sess:
        sess.run(v.initializer)
        _in_threads(lambda i: seen.extend(int(sess.run(count)) for _ in range(N_RUNS)))
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(count)
    assert sorted(seen) == list(range(N_THREADS * N_RUNS))


def test_unlocked_updates_racing_with_reshaping_assigns_never_crash():
    # Without use_locking TF promises nothing about the values, but every run must complete or fail cleanly.
    v = tf.Variable(tf.zeros([1000]), validate_shape=False)
    add = tf.assign_add(v, tf.ones([1000]))
    grow = tf.assign(v, tf.zeros([2000]), validate_shape=False, use_locking=False)
    shrink = tf.assign(v, tf.zeros([1000]), validate_shape=False, use_locking=False)
    with tf.Session() as sess:
        sess.run(v.initializer)

        def work(i):
            for k in range(50):
                try:
                    sess.run(add.op if i % 2 else (grow if k % 2 else shrink).op)
                except tf.errors.InvalidArgumentError as e:
                    assert "same size" in e.message  # an add that met the other shape
        _in_threads(work)
        assert sess.run(tf.shape(v))[0] in (1000, 2000)


def test_many_threads_running_independent_fetches_get_exact_results():
    x = tf.placeholder(tf.float64, [None, 8])
    w = tf.constant(np.arange(64, dtype=np.float64).reshape(8, 8))
    y = tf.reduce_sum(tf.nn.relu(x @ w - 100.0), axis=1)
    with tf.Session() as sess:
        def work(i):
            rng = np.random.default_rng(i)
            for _ in range(200):
                feed = rng.standard_normal((16, 8)) * 50
                expected = np.maximum(feed @ np.arange(64.0).reshape(8, 8) - 100.0, 0).sum(axis=1)
                np.testing.assert_allclose(sess.run(y, {x: feed}), expected, rtol=1e-12)
        _in_threads(work, 8)
