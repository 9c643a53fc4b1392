"""The threads of split conv and pool kernels (tfmini/ops/conv_algorithms.py) at the edges of a process's life:
kernels run from atexit handlers (the workers take no more work then), a Ctrl-C while the calling thread waits
for a worker's part, a fork while another thread holds the pool's lock, and the splitting thresholds read when
a kernel runs (so that lowering them splits small kernels too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import tfmini
from tfmini.ops import conv_algorithms

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tfmini.__file__)))


def _run_python(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=_PACKAGE_ROOT)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


# A split convolution whose parts always run side by side, big enough to split on any machine.
_SPLIT_CONV = """
    import numpy as np
    from tfmini.ops import conv_algorithms as ca
    ca._SplitTimes.choose_concurrent = lambda self: True
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 24, 24, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    def conv():
        return ca.conv2d(x, w, 22, 22, (1, 1), (1, 1), threads=2)
    assert len(ca._parts(4, 22, 4 * 22 * 22 * 9 * 16 * 16, 2)) == 2
"""


def test_a_split_kernel_runs_in_an_atexit_handler():
    # atexit handlers run after concurrent.futures has shut its workers down: the kernel runs its parts itself.
    result = _run_python(_SPLIT_CONV + """
    import atexit
    import tfmini as tf
    want = conv()
    def at_exit():
        assert np.array_equal(conv(), want)
        g = tf.Graph()
        with g.as_default():
            y = tf.nn.conv2d(tf.constant(x), tf.constant(w), [1, 1, 1, 1], "VALID")
        with tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=2)) as sess:
            got = sess.run(y)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        print("atexit ok")
    atexit.register(at_exit)
    """)
    assert result.returncode == 0, result.stderr
    assert "atexit ok" in result.stdout, result.stderr


def test_ctrl_c_while_waiting_for_a_part_returns_once_every_part_has_ended():
    result = _run_python("""
    import os, signal, threading, time
    from tfmini.ops import conv_algorithms as ca
    ca._SplitTimes.choose_concurrent = lambda self: True
    started = threading.Event()
    ended = []
    def part(i):
        if i == 0:
            started.set()  # the calling thread now waits for part 1
            return 0
        started.wait()
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        ended.append(i)
        return i
    try:
        ca.run_parts(part, [(0,), (1,)], 2, ("ctrl-c",), blas=False)
    except KeyboardInterrupt:
        print("interrupted; part 1 ended:", bool(ended))
    """)
    assert result.returncode == 0, result.stderr
    assert "interrupted; part 1 ended: True" in result.stdout, result.stdout + result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_the_pool_lock_is_held_starts_its_own_pool():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 24, 24, 16))
    w = rng.standard_normal((3, 3, 16, 16))
    assert len(conv_algorithms._parts(4, 22, 4 * 22 * 22 * 9 * 16 * 16, 2)) == 2
    want = conv_algorithms.conv2d(x, w, 22, 22, (1, 1), (1, 1), threads=1)
    # As when another thread creates the pool at the moment of the fork: the child inherits the lock held (and
    # no pool, which a fork forgets).
    with conv_algorithms._pool_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running: what this tests
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                conv_algorithms._SplitTimes.choose_concurrent = lambda self: True
                got = conv_algorithms.conv2d(x, w, 22, 22, (1, 1), (1, 1), threads=2)
                code = 0 if np.allclose(got, want, rtol=0, atol=1e-10) else 2
            finally:
                os._exit(code)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung on the pool lock")
        time.sleep(0.02)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_lowering_the_splitting_threshold_splits_small_convolutions(monkeypatch):
    seen = []
    run_parts = conv_algorithms.run_parts

    def spy(fn, parts, threads, key=(), blas=True):
        seen.append(len(parts))
        return run_parts(fn, parts, threads, key, blas)

    monkeypatch.setattr(conv_algorithms, "run_parts", spy)
    monkeypatch.setattr(conv_algorithms, "BLAS_THREADED_MIN_MACS", 0)
    x = np.random.default_rng(2).standard_normal((3, 6, 6, 2))
    w = np.random.default_rng(3).standard_normal((3, 3, 2, 2))
    want = conv_algorithms.conv2d(x, w, 4, 4, (1, 1), (1, 1), threads=1)
    monkeypatch.setattr(conv_algorithms, "PARALLEL_MIN_MACS", 0)
    got = conv_algorithms.conv2d(x, w, 4, 4, (1, 1), (1, 1), threads=3)
    assert seen[-1] == 3
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
