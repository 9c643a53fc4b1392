"""The parallel in-process engine (inter_op_parallelism_threads > 1): independent costly ops run on a
worker pool, with results bit-identical to the serial engine, one trace lane per thread, and errors,
deadlines, interrupts and variable updates behaving as in serial runs."""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import local_engine

N = 256  # 256 x 256 = 65,536 elements: above the engine's threshold for handing an op to a worker


@pytest.fixture(autouse=True)
def _default_threshold(monkeypatch):
    # These tests are about the engine's own choices: not the suite-wide override that hands every op to the
    # pool (make test runs the session and op tests once that way). They check the concurrent walk itself, so
    # executables do not time it against the serial one first (one test below checks that choice).
    monkeypatch.setenv("TFMINI_PARALLEL_MIN_ELEMENTS", str(local_engine.PARALLEL_MIN_ELEMENTS))
    monkeypatch.setenv("TFMINI_PARALLEL_TRIAL_RUNS", "0")


def test_an_executable_times_both_walks_then_keeps_the_faster(monkeypatch):
    monkeypatch.setenv("TFMINI_PARALLEL_TRIAL_RUNS", "2")
    x = tf.placeholder(tf.float32, [N, N])
    y = _branches(x)
    with tf.Session(config=_config(2)) as sess:
        exe = sess._engine.compile((y,), (x,), ())
        results = [sess.run(y, _feed(x)) for _ in range(6)]  # (2 + 1 warm-up) runs of each walk
        assert exe._trials is None  # decided
        assert exe.run == (exe._run_parallel if exe.parallel else exe.plan.run)
        results.append(sess.run(y, _feed(x)))
    assert len(set(results)) == 1


def _config(threads: int) -> tf.ConfigProto:
    return tf.ConfigProto(inter_op_parallelism_threads=threads)


def _branches(x, n=4):
    ws = [tf.constant(np.random.default_rng(i).standard_normal((N, N)).astype(np.float32) / 16) for i in range(n)]
    return tf.add_n([tf.reduce_sum(tf.tanh(x @ w) @ w) for w in ws])


def _feed(x):
    return {x: np.random.default_rng(7).standard_normal((N, N)).astype(np.float32)}


def test_the_engine_follows_inter_op_parallelism_threads():
    tf.constant(1.0)
    with tf.Session(config=_config(1)) as serial, tf.Session(config=_config(3)) as parallel:
        assert type(serial._engine) is local_engine.LocalEngine
        assert type(parallel._engine) is local_engine.ParallelEngine
        assert parallel._engine.workers == 3


def test_independent_branches_give_the_serial_engines_bits_and_one_lane_per_thread():
    x = tf.placeholder(tf.float32, [N, N])
    y = _branches(x)
    results, lanes = {}, {}
    for threads in (1, 2):
        with tf.Session(config=_config(threads)) as sess:
            results[threads] = [sess.run(y, _feed(x)) for _ in range(3)]
            md = tf.RunMetadata()
            traced = sess.run(y, _feed(x), options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                              run_metadata=md)
            assert traced == results[threads][0]
            dev = md.step_stats.dev_stats[0]
            lanes[threads] = {ns.thread_id for ns in dev.node_stats}
            assert lanes[threads] <= set(dev.thread_names)
    assert results[1] == results[2]
    assert len(lanes[1]) == 1
    assert 2 <= len(lanes[2]) <= 3  # the calling thread (small ops) and up to two workers


def test_a_chain_with_nothing_to_overlap_runs_the_serial_generated_code():
    x = tf.placeholder(tf.float32, [N, N])
    y = tf.reduce_sum(tf.tanh(x @ x) @ x)
    with tf.Session(config=_config(2)) as sess:
        exe = sess._engine.compile((y,), (x,), ())
        assert not exe.parallel and exe.run == exe.plan.run
        assert sess.run(y, _feed(x)) == exe.plan.run([_feed(x)[x]])[0]


def test_small_feeds_of_an_unknown_shape_graph_stay_on_the_serial_path():
    x = tf.placeholder(tf.float32, [None, N])
    y = tf.add_n([tf.reduce_sum(x @ tf.ones([N, 8]) * float(k)) for k in range(4)])  # large only if x is
    with tf.Session(config=_config(2)) as sess:
        exe = sess._engine.compile((y,), (x,), ())
        assert exe.parallel and not exe._concurrent([np.ones((2, N), np.float32)])
        assert exe._concurrent([np.ones((N, N), np.float32)])


def test_variable_reads_and_in_place_updates_keep_the_serial_order():
    # No control dependencies: the serial order (creation order) decides what each read sees; the parallel
    # engine must keep it, including for values computed from a read (they view the variable's storage).
    v = tf.Variable(np.ones((N, N), np.float32))
    x = tf.placeholder(tf.float32, [N, N])
    before = tf.reduce_sum(x @ v.value())
    bump = tf.assign_add(v, tf.ones([N, N]))
    after = tf.reduce_sum(x @ tf.identity(v))
    other = tf.reduce_sum(tf.tanh(x @ x))
    outs = {}
    for threads in (1, 2):
        with tf.Session(config=_config(threads)) as sess:
            sess.run(v.initializer)
            outs[threads] = [sess.run([before, bump.op, after, other], _feed(x)) for _ in range(5)]
    assert outs[1] == outs[2]


def test_the_first_failing_op_in_plan_order_is_reported_and_the_session_stays_usable():
    x = tf.placeholder(tf.float32, [N, N])
    idx = tf.placeholder(tf.int32, [])
    bad_first = tf.reduce_sum(tf.gather(x, idx, name="bad_first") * x[0])
    slow = tf.reduce_sum(tf.tanh(x @ x) @ x, name="slow")
    bad_later = tf.gather(x, idx + 1, name="bad_later")
    with tf.Session(config=_config(2)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run([bad_first, slow, bad_later], {**_feed(x), idx: N + 5})
        assert "bad_first" in info.value.message.split("[[node ")[1]
        assert sess.run(slow, _feed(x)) == pytest.approx(sess.run(slow, _feed(x)))


def test_a_deadline_stops_a_loop_running_on_a_worker():
    x = tf.placeholder(tf.float32, [N, N])
    n = tf.placeholder(tf.int32, [])
    _, looped = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, tf.tanh(a @ a)), [tf.constant(0), x])
    other = tf.reduce_sum(tf.tanh(x @ x))
    with tf.Session(config=_config(2)) as sess:
        t0 = time.perf_counter()
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run([looped, other], {**_feed(x), n: 10**6}, options=tf.RunOptions(timeout_in_ms=200))
        assert time.perf_counter() - t0 < 5.0
        assert sess.run(other, _feed(x)) == sess.run(other, _feed(x))


def test_an_interrupt_stops_the_workers_loops_and_leaves_the_session_usable():
    x = tf.placeholder(tf.float32, [N, N])
    n = tf.placeholder(tf.int32, [])
    loops = [tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, tf.tanh(a @ a)), [tf.constant(0), x])[1]
             for _ in range(2)]
    with tf.Session(config=_config(2)) as sess:
        previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.perf_counter()
        try:
            with pytest.raises(KeyboardInterrupt):
                sess.run(loops, {**_feed(x), n: 10**6})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        assert time.perf_counter() - t0 < 5.0  # the worker's loop was stopped, not waited out
        assert sess.run(loops[0], {**_feed(x), n: 1}).shape == (N, N)


def test_closing_the_session_stops_its_worker_pool():
    x = tf.placeholder(tf.float32, [N, N])
    y = _branches(x)
    sess = tf.Session(config=_config(2))
    sess.run(y, _feed(x))
    pool = sess._engine._pool
    assert pool is not None
    sess.close()
    assert sess._engine._pool is None
    with pytest.raises(RuntimeError):
        pool.submit(int)
