"""tf.train.SyncReplicasOptimizer in between-graph replication on an in-process cluster (1 ps + 2 workers, each
task a tf.train.Server): each worker builds its own graph and trains in a MonitoredTrainingSession on its own
server with the optimizer's hook (worker 0 the chief), sharing the ps variables, accumulators and token queue
by name; the result is plain GradientDescent's for the number of steps the chief applied."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tfmini as tf

pytest.importorskip("distributed")  # the optional Dask runtime behind tf.train.Server

from tfmini.distributed.server import free_port  # noqa: E402 - only with the runtime installed

LAST_STEP = 6


@pytest.fixture(scope="module")
def cluster():
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"],
                                 "worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]})
    servers = [tf.train.Server(spec, job_name="ps", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=1)]
    yield spec, servers
    for server in reversed(servers):
        server._stop()


def _model(spec, worker: int):
    """The model of tools/tf_fixtures/gen_sync_replicas.py, its variables on the ps, computed on `worker`."""
    with tf.device(tf.train.replica_device_setter(cluster=spec, worker_device=f"/job:worker/task:{worker}")):
        global_step = tf.train.get_or_create_global_step()
        x = tf.constant([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], name="x")
        y = tf.constant([[1.0], [0.0], [2.0]], name="y")
        w = tf.Variable([[0.5], [-0.25]], name="w")
        b = tf.Variable(0.1, name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y), name="loss")
    return global_step, loss, w, b


class _Created(tf.train.SessionRunHook):
    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def after_create_session(self, session, coord) -> None:
        self._event.set()


def test_two_workers_train_synchronously_through_their_servers(cluster):
    spec, servers = cluster
    tf.Session.reset(servers[1].target)
    chief_ready = threading.Event()
    local_steps: dict[int, list] = {}
    failures: list = []

    def worker(index: int) -> None:
        try:
            with tf.Graph().as_default():
                global_step, loss, _, _ = _model(spec, index)
                with tf.device(tf.train.replica_device_setter(cluster=spec,
                                                              worker_device=f"/job:worker/task:{index}")):
                    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1),
                                                         replicas_to_aggregate=2, total_num_replicas=2)
                    train = opt.minimize(loss, global_step=global_step)
                hooks = [opt.make_session_run_hook(is_chief=index == 0), tf.train.StopAtStepHook(last_step=LAST_STEP)]
                if index == 0:
                    hooks.append(_Created(chief_ready))
                seen = []
                with tf.train.MonitoredTrainingSession(master=servers[1 + index].target, is_chief=index == 0,
                                                       hooks=hooks, stop_grace_period_secs=1) as sess:
                    while not sess.should_stop():
                        seen.append(int(sess.run(train)))
                local_steps[index] = seen
        except Exception as e:  # noqa: BLE001 - reported by the test below
            failures.append(e)
            chief_ready.set()

    chief = threading.Thread(target=worker, args=(0,))
    chief.start()
    # The other worker starts once the chief initialized the model (else it would wait SessionManager's 30 s).
    assert chief_ready.wait(30)
    other = threading.Thread(target=worker, args=(1,))
    other.start()
    chief.join(60)
    other.join(60)
    assert not failures and not chief.is_alive() and not other.is_alive()
    # A replica's local steps never go back, and the run that saw LAST_STEP ended its loop.
    for seen in local_steps.values():
        assert seen == sorted(seen) and seen[-1] >= LAST_STEP - 1
    with tf.Graph().as_default():
        global_step, _, w, b = _model(spec, 0)
        with tf.Session(servers[1].target) as sess:
            got_w, got_b, steps = sess.run([w, b, global_step])
    assert steps >= LAST_STEP
    # Every applied step averaged two gradients computed from that step's variables (stale ones are dropped),
    # so the run is plain GradientDescent for `steps` steps.
    with tf.Graph().as_default():
        _, loss, w, b = _model(spec, 0)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            want_w, want_b = sess.run([w, b])
    np.testing.assert_allclose(got_w, want_w, rtol=1e-6)
    np.testing.assert_allclose(got_b, want_b, rtol=1e-6)
