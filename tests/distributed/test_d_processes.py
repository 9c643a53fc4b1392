"""Distributed sessions on separate processes: a ps and two workers, each a TF1-style script
(`tf.train.Server(...)`, `server.join()`, d_task_server.py) on its own localhost port, and this process as the
client. Training gives the local engine's numbers, a killed worker fails the step in bounded time with
UnavailableError, and the session works again once a new process serves that task; other client processes
share the ps's variables and queues and reset its containers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.server import free_port

SCRIPT = Path(__file__).with_name("d_task_server.py")


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def _start(spec: dict, job: str, index: int) -> subprocess.Popen:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, str(SCRIPT), json.dumps(spec), job, str(index)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    proc.stdout.close()


@pytest.fixture(scope="module")
def cluster():
    spec = {"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    procs = {("ps", 0): _start(spec, "ps", 0), ("worker", 0): _start(spec, "worker", 0),
             ("worker", 1): _start(spec, "worker", 1)}
    for proc in procs.values():
        assert proc.stdout.readline().startswith("serving")
    yield spec, procs
    for proc in procs.values():
        _stop(proc)


def _target(spec: dict) -> str:
    return f"grpc://{spec['worker'][0]}"


def _model():
    with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device="/job:worker/task:1")):
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.get_variable("w", initializer=np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2))
        b = tf.get_variable("b", initializer=np.zeros(2, np.float32))
        loss = tf.reduce_mean(tf.square(tf.nn.relu(tf.matmul(x, w) + b) - 1.0))
        train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    return x, loss, train, tf.global_variables_initializer(), (w, b)


def _train(sess, x, loss, train, init, variables, steps=5):
    data = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    sess.run(init)
    losses = [sess.run([loss, train], {x: data})[0] for _ in range(steps)]
    return losses, sess.run(variables)


def test_ps_worker_training_across_processes_gives_the_local_engines_numbers(cluster):
    spec, _ = cluster
    local, dist = tf.Graph(), tf.Graph()
    with local.as_default():
        built = _model()
    with tf.Session(graph=local) as sess:
        expected = _train(sess, *built)
    with dist.as_default():
        built = _model()
    tf.Session.reset(_target(spec))
    with tf.Session(_target(spec), graph=dist) as sess:
        got = _train(sess, *built)
        devices = [d.name for d in sess.list_devices()]
    with tf.Session(_target(spec), graph=dist) as sess:  # a traced step: one device per task, one clock
        x, loss = built[0], built[1]
        metadata = tf.RunMetadata()
        before = time.time() * 1e6
        sess.run(loss, {x: np.ones((2, 4), np.float32)}, run_metadata=metadata,
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))
        after = time.time() * 1e6
    assert {d.device for d in metadata.step_stats.dev_stats} == {
        "/job:ps/replica:0/task:0/device:CPU:0", "/job:worker/replica:0/task:1/device:CPU:0"}
    starts = [n.all_start_micros for d in metadata.step_stats.dev_stats for n in d.node_stats]
    assert before - 2000 <= min(starts) and max(starts) <= after + 2000
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-6)
    for g, e in zip(got[1], expected[1]):
        np.testing.assert_allclose(g, e, rtol=1e-6)
    assert devices == ["/job:ps/replica:0/task:0/device:CPU:0", "/job:worker/replica:0/task:0/device:CPU:0",
                       "/job:worker/replica:0/task:1/device:CPU:0"]


def test_a_killed_worker_fails_in_bounded_time_and_a_restarted_one_serves_again(cluster):
    spec, procs = cluster
    with tf.device("/job:ps/task:0"):
        total = tf.Variable(0.0, name="total")
    with tf.device("/job:worker/task:1"):
        q = tf.FIFOQueue(3, tf.float32, shapes=[[]])
        blocked = q.dequeue()
        add = tf.assign_add(total, tf.constant(2.0) * 3.0)
    with tf.Session(_target(spec)) as sess:
        sess.run(total.initializer)
        assert sess.run(add) == 6.0
        failure: list = []

        def run_blocked():
            try:
                sess.run(blocked)
            except Exception as exc:  # noqa: BLE001 - examined below
                failure.append(exc)

        thread = threading.Thread(target=run_blocked)
        thread.start()
        time.sleep(0.5)  # the step is waiting on worker 1's queue
        start = time.perf_counter()
        procs[("worker", 1)].kill()
        thread.join(30)
        assert not thread.is_alive()
        assert len(failure) == 1 and isinstance(failure[0], (tf.errors.UnavailableError, tf.errors.AbortedError))
        assert time.perf_counter() - start < 15
        with pytest.raises((tf.errors.UnavailableError, tf.errors.AbortedError)):
            sess.run(add, options=tf.RunOptions(timeout_in_ms=2000))
        _stop(procs[("worker", 1)])
        procs[("worker", 1)] = _start(spec, "worker", 1)
        assert procs[("worker", 1)].stdout.readline().startswith("serving")
        deadline = time.perf_counter() + 30
        while True:
            try:
                value = sess.run(add)
                break
            except (tf.errors.UnavailableError, tf.errors.AbortedError):
                assert time.perf_counter() < deadline
                time.sleep(0.2)
        assert value == 12.0  # the ps kept its variable; worker 1 computed again


def test_a_second_client_process_updates_the_same_ps_variable(cluster):
    spec, _ = cluster
    tf.Session.reset(_target(spec))
    with tf.device("/job:ps/task:0"):
        shared = tf.get_variable("shared", initializer=np.float32(1.0))
    with tf.Session(_target(spec)) as sess:
        sess.run(shared.initializer)
        code = (
            "import sys, numpy as np, tfmini as tf\n"
            "with tf.device('/job:ps/task:0'):\n"
            "    shared = tf.get_variable('shared', initializer=np.float32(0.0))\n"
            "with tf.device('/job:worker/task:1'):\n"
            "    bump = tf.assign_add(shared, 10.0)\n"
            "with tf.Session(sys.argv[1]) as sess:\n"
            "    print(sess.run(bump))\n")
        out = subprocess.run([sys.executable, "-c", code, f"grpc://{spec['worker'][1]}"], capture_output=True,
                             text=True, timeout=60, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        assert out.returncode == 0, out.stderr
        assert float(out.stdout.split()[-1]) == 11.0
        assert sess.run(shared) == 11.0



def _client_process(code: str, target: str) -> str:
    """Runs `code` (with `target` as sys.argv[1]) in a client process of its own; returns its output."""
    out = subprocess.run([sys.executable, "-c", code, target], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_queue_on_the_ps_is_shared_between_client_processes(cluster):
    """A FIFOQueue with a shared_name on the ps: another client process enqueues, this one dequeues."""
    spec, _ = cluster
    tf.Session.reset(_target(spec))
    with tf.device("/job:ps/task:0"):
        queue = tf.FIFOQueue(10, tf.float32, shapes=[2], shared_name="between_clients")
    with tf.device("/job:worker/task:0"):
        taken = queue.dequeue_many(2) * 10.0
    with tf.Session(_target(spec)) as sess:
        code = (
            "import sys, tfmini as tf\n"
            "with tf.device('/job:ps/task:0'):\n"
            "    q = tf.FIFOQueue(10, tf.float32, shapes=[2], shared_name='between_clients')\n"
            "with tf.Session(sys.argv[1]) as sess:\n"
            "    sess.run(q.enqueue_many([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]))\n"
            "    print(sess.run(q.size()))\n")
        assert _client_process(code, f"grpc://{spec['worker'][1]}").split()[-1] == "3"
        np.testing.assert_array_equal(sess.run(taken), [[10.0, 20.0], [30.0, 40.0]])
        assert sess.run(queue.size()) == 1


def test_session_reset_from_another_process_clears_one_container(cluster):
    """Session.reset(target, ["experiment"]) in another client process drops the variables of that container on
    the ps; a variable in the default container keeps its value."""
    spec, _ = cluster
    tf.Session.reset(_target(spec))
    with tf.device("/job:ps/task:0"):
        with tf.container("experiment"):
            scratch = tf.Variable(5.0, name="scratch")
        kept = tf.Variable(7.0, name="kept")
    with tf.Session(_target(spec)) as sess:
        sess.run([scratch.initializer, kept.initializer])
        _client_process("import sys, tfmini as tf\ntf.Session.reset(sys.argv[1], ['experiment'])\n",
                        f"grpc://{spec['worker'][1]}")
        assert sess.run(kept) == 7.0
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(scratch)
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"scratch"]
