"""Core behaviour a between-graph program relies on, on an in-process cluster of 1 ps + 1 worker: the devices
a session lists report TF's CPU memory limit, the tasks run a graph's Python functions (TF's registry of them
is process-wide), and gradients colocated with their forward ops run on the forward ops' tasks."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import place
from tfmini.distributed.server import free_port

PS = "/job:ps/replica:0/task:0"
W0 = "/job:worker/replica:0/task:0"


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture(scope="module")
def cluster():
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}"]})
    servers = [tf.train.Server(spec, job_name="ps", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=0)]
    yield servers
    for server in reversed(servers):
        server._stop()


def test_list_devices_reports_tfs_cpu_memory_limit(cluster):
    with tf.Graph().as_default(), tf.Session(cluster[1].target) as sess:
        devices = sess.list_devices()
    assert [d.name for d in devices] == [f"{t}/device:CPU:0" for t in (PS, W0)]
    assert [d.memory_limit_bytes for d in devices] == [268435456, 268435456]


def test_a_py_func_runs_on_a_server_of_the_same_process(cluster):
    with tf.Graph().as_default():
        with tf.device("/job:worker/task:0"):
            x = tf.placeholder(tf.float32, [2])
            y = tf.py_func(lambda a: a * 10, [x], tf.float32)
        with tf.device("/job:ps/task:0"):
            z = tf.numpy_function(lambda a: a + 1, [y], tf.float32)
        with tf.Session(cluster[1].target) as sess:
            np.testing.assert_array_equal(sess.run(z, {x: [1, 2]}), [11, 21])


def _between_graph_model(colocate: bool):
    """A model whose forward pass runs on the ps (the variable) and the worker (the loss), trained by a client
    whose master is the worker: with `colocate`, each gradient op goes where its forward op runs."""
    with tf.device("/job:ps/task:0"):
        w = tf.Variable([[1.0], [2.0]], name="w")
        hidden = tf.matmul(tf.constant([[1.0, 3.0]]), w, name="hidden")
    with tf.device("/job:worker/task:0"):
        loss = tf.reduce_sum(tf.square(hidden), name="loss")
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, colocate_gradients_with_ops=colocate)
    return w, train


def test_colocated_gradients_run_where_their_forward_ops_run(cluster):
    devices = {}
    for colocate in (False, True):
        with tf.Graph().as_default() as graph:
            _between_graph_model(colocate)
            placed = place(graph.as_graph_def(), {"ps": ["a:1"], "worker": ["b:1"]}, W0)
        devices[colocate] = placed["gradients/hidden_grad/MatMul_1"]
    assert devices == {False: f"{W0}/device:CPU:0", True: f"{PS}/device:CPU:0"}


def test_a_colocated_training_step_on_the_cluster(cluster):
    values = []
    for colocate in (False, True):
        with tf.Graph().as_default():
            w, train = _between_graph_model(colocate)
            with tf.Session(cluster[1].target) as sess:
                sess.run(w.initializer)
                sess.run(train)
                values.append(sess.run(w))
    np.testing.assert_allclose(values[0], [[0.86], [1.58]], rtol=1e-6)
    np.testing.assert_array_equal(values[0], values[1])
