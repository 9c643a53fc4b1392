"""The BLAS library report and `ConfigProto.intra_op_parallelism_threads`: a session with the setting runs
its steps (run, its cached fast runner, traced runs, make_callable, partial runs) with that many BLAS threads
and restores the previous count afterwards, also after a failed step and with several sessions at once."""

import os
import threading
import time
import warnings

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import blas
from tfmini.client.local_engine import inter_op_threads
from tfmini.framework import errors
from tfmini.ops import conv_algorithms

threadpoolctl = pytest.importorskip("threadpoolctl")
pytestmark = pytest.mark.skipif(not blas.blas_info(), reason="NumPy's BLAS is not visible to threadpoolctl")


def _threads() -> int:
    return blas.blas_info()[0]["num_threads"]


@pytest.fixture
def two_threads():
    """BLAS at 2 threads around the test (whatever the environment set), and back afterwards."""
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        blas._controllers = None  # the limits above changed the counts behind the cached controllers' backs
        assert _threads() == 2
        yield
    blas._controllers = None


def _observing_graph():
    """A graph whose py_func records the BLAS thread count while the step runs; returns (x, out, seen)."""
    seen: list[int] = []

    def observe(v):
        seen.append(_threads())
        return v @ v.T

    x = tf.placeholder(tf.float32, [2, 2], name="x")
    out = tf.py_func(observe, [x], tf.float32)
    return x, out, seen


def test_blas_info_names_library_kernel_and_threads():
    infos = blas.blas_info()
    assert infos[0]["library"] in {"openblas", "mkl", "blis", "flexiblas"}
    assert infos[0]["num_threads"] >= 1
    assert set(infos[0]) == {"library", "version", "kernel", "num_threads", "threading_layer", "filepath"}
    summary = blas.blas_summary()
    assert infos[0]["library"] in summary and f"{infos[0]['num_threads']} threads" in summary


def test_session_runs_with_intra_op_threads_and_restores_them(two_threads):
    x, out, seen = _observing_graph()
    feed = {x: np.eye(2, dtype=np.float32)}
    config = tf.ConfigProto(intra_op_parallelism_threads=1)
    with tf.Session(config=config) as sess:
        for _ in range(3):  # the first run compiles, later ones take the cached fast runner
            np.testing.assert_array_equal(sess.run(out, feed), np.eye(2))
            assert _threads() == 2
        md = tf.RunMetadata()
        sess.run(out, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)
        assert _threads() == 2
        call = sess.make_callable(out, [x])
        call(np.eye(2, dtype=np.float32))
        assert _threads() == 2
        handle = sess.partial_run_setup([out], [x])
        sess.partial_run(handle, out, feed)
        assert _threads() == 2
    assert seen == [1] * 6


def test_session_without_the_setting_leaves_blas_alone(two_threads):
    x, out, seen = _observing_graph()
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=1)) as sess:
        sess.run(out, {x: np.eye(2, dtype=np.float32)})
    with tf.Session() as sess:
        sess.run(out, {x: np.eye(2, dtype=np.float32)})
    assert seen == [2, 2]


def test_failed_step_restores_threads_and_session_stays_usable(two_threads):
    x = tf.placeholder(tf.float32, [None], name="x")
    checked = tf.debugging.check_numerics(x, "bad value")
    with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
        with pytest.raises(errors.InvalidArgumentError):
            sess.run(checked, {x: np.array([np.nan], np.float32)})
        assert _threads() == 2
        np.testing.assert_array_equal(sess.run(checked, {x: np.ones(2, np.float32)}), np.ones(2))
        assert _threads() == 2


def test_overlapping_limits_use_the_smallest_and_restore_the_first_count(two_threads):
    two, one = blas.ThreadLimit(2), blas.ThreadLimit(1)
    with two:
        assert _threads() == 2
        with one:
            assert _threads() == 1
            with two:  # re-entered: still the smallest in force
                assert _threads() == 1
        assert _threads() == 2
    assert _threads() == 2
    with one:
        with two:
            assert _threads() == 1
        assert _threads() == 1
    assert _threads() == 2


def test_concurrent_sessions_never_exceed_their_limits_and_restore(two_threads):
    graphs = []
    for n in (1, 2):
        g = tf.Graph()
        with g.as_default():
            x, out, seen = _observing_graph()
        graphs.append((tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=n)), x, out, seen, n))
    barrier = threading.Barrier(len(graphs))
    failures: list = []

    def work(sess, x, out, seen, n):
        try:
            barrier.wait()
            for _ in range(200):
                sess.run(out, {x: np.eye(2, dtype=np.float32)})
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=work, args=g) for g in graphs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    for sess, _, _, seen, n in graphs:
        assert len(seen) == 200 and max(seen) <= n
        sess.close()
    assert _threads() == 2


def test_thread_limit_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        blas.ThreadLimit(0)
    assert blas.session_thread_limit(None) is None
    assert blas.session_thread_limit(tf.ConfigProto()) is None
    assert blas.session_thread_limit(tf.ConfigProto(intra_op_parallelism_threads=3)).num_threads == 3


def test_intra_op_threads_count_in_the_default_inter_op_choice(monkeypatch):
    monkeypatch.delenv("TFMINI_INTER_OP_THREADS", raising=False)
    cpus = len(__import__("os").sched_getaffinity(0))
    assert inter_op_threads(tf.ConfigProto(intra_op_parallelism_threads=1)) == cpus
    assert inter_op_threads(tf.ConfigProto(intra_op_parallelism_threads=cpus)) == 1
    assert inter_op_threads(tf.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=3)) == 3


def test_split_kernels_and_sessions_share_one_owner_of_the_thread_count(two_threads):
    """A session limit that starts while a split kernel holds BLAS at one thread, and ends after the kernel,
    restores the count from before both, not the kernel's temporary 1."""
    kernel = conv_algorithms.single_threaded_blas()
    assert isinstance(kernel, blas.ThreadLimit) and kernel.num_threads == 1
    session = blas.ThreadLimit(2)
    kernel.__enter__()
    assert _threads() == 1
    session.__enter__()
    assert _threads() == 1
    kernel.__exit__(None, None, None)
    assert _threads() == 2
    session.__exit__(None, None, None)
    assert _threads() == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_with_no_limits_and_a_free_lock(two_threads):
    """A child forked while a limit is in force (another thread's split kernel, say) and while the limits' lock is
    held gets the count from before the limits back and can limit its own runs (it would keep 1 thread for good, or
    deadlock on the inherited lock)."""
    with blas.ThreadLimit(1), blas._lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a process that has threads
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                blas._controllers = None
                if not blas._active and _threads() == 2:
                    with blas.ThreadLimit(1):
                        code = 0 if _threads() == 1 else 3
                    code = code or (0 if _threads() == 2 else 4)
            finally:
                os._exit(code)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("the forked child hung on the BLAS limits' lock")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert _threads() == 2
