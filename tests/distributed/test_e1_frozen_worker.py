"""A task server process that stops answering (SIGSTOP) without closing its connections: a step waiting on a
tensor from it ends in bounded time with UnavailableError naming the task, steps not needing it still run,
and once it answers again the session works on. Servers are TF1-style scripts (d_task_server.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime, engine
from tfmini.distributed.server import free_port

SCRIPT = Path(__file__).with_name("d_task_server.py")


@pytest.fixture(scope="module", autouse=True)
def _no_leaked_threads():
    """Every thread this module's sessions start is gone once they are closed."""
    before = set(threading.enumerate())
    yield
    dask_runtime.shutdown()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and set(threading.enumerate()) - before:
        time.sleep(0.05)
    assert [t.name for t in set(threading.enumerate()) - before] == []


def _start(spec: dict, job: str, index: int) -> subprocess.Popen:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return subprocess.Popen([sys.executable, str(SCRIPT), json.dumps(spec), job, str(index)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


@pytest.fixture(scope="module")
def cluster():
    spec = {"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    procs = {("ps", 0): _start(spec, "ps", 0), ("worker", 0): _start(spec, "worker", 0),
             ("worker", 1): _start(spec, "worker", 1)}
    try:
        for proc in procs.values():
            assert proc.stdout.readline().startswith("serving")
        yield spec, procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
            proc.wait(10)
            proc.stdout.close()


def _target(spec: dict) -> str:
    return f"grpc://{spec['worker'][0]}"


def test_a_frozen_worker_fails_a_step_waiting_on_it_in_bounded_time(cluster, monkeypatch):
    """A worker that stops answering without closing its connections (SIGSTOP) while another task waits on a
    tensor from it: the liveness check ends the step with UnavailableError naming the task, no deadline set."""
    monkeypatch.setattr(engine, "LIVENESS_SECONDS", 1.0)
    monkeypatch.setattr(engine, "LIVENESS_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(engine, "ABORT_GRACE_SECONDS", 1.0)
    monkeypatch.setattr(dask_runtime, "CONNECT_TIMEOUT", 1.0)
    spec, procs = cluster
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:worker/task:1"):
            q = tf.FIFOQueue(3, tf.float32, shapes=[[]])
            item = q.dequeue()
        with tf.device("/job:ps/task:0"):
            out = item * 2.0
        with tf.Session(_target(spec), graph=g) as sess:
            assert sess.run(q.size()) == 0
            failure: list = []

            def run_blocked():
                try:
                    sess.run(out)
                except Exception as exc:  # noqa: BLE001 - examined below
                    failure.append(exc)

            thread = threading.Thread(target=run_blocked, daemon=True)
            thread.start()
            time.sleep(0.5)  # the ps waits on worker 1's dequeued item
            start = time.perf_counter()
            os.kill(procs[("worker", 1)].pid, signal.SIGSTOP)
            try:
                thread.join(20)
                assert not thread.is_alive()
                assert time.perf_counter() - start < 10
                # While worker 1 stays frozen, steps that do not need it run (it counts as not serving).
                with tf.device("/job:ps/task:0"):
                    local = tf.constant(3.0) * 2.0
                assert sess.run(local) == 6.0
                with pytest.raises(tf.errors.UnavailableError, match="task:1"):
                    sess.run(out, options=tf.RunOptions(timeout_in_ms=1500))
            finally:
                os.kill(procs[("worker", 1)].pid, signal.SIGCONT)
            assert len(failure) == 1 and isinstance(failure[0], tf.errors.UnavailableError), failure
            assert "/job:worker/replica:0/task:1" in failure[0].message
            # Worker 1 answers again: the session works on.
            sess.run(q.enqueue(4.0))
            deadline = time.perf_counter() + 30
            while True:
                try:
                    assert sess.run(out) == 8.0
                    break
                except (tf.errors.UnavailableError, tf.errors.AbortedError):
                    assert time.perf_counter() < deadline
                    time.sleep(0.2)
