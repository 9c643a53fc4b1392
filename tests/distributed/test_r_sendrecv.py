"""Values that are not plain arrays cross tasks as Dask carries them: a variant (the TensorList a loop's
gradient accumulates into) travels wrapped in a 0-d object array and arrives as the value it was, so a loop
on one task differentiated with accumulators on another gives the local session's numbers."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import partition
from tfmini.distributed.worker import PartitionRunner, StepRendezvous, WorkerResources

pytest.importorskip("distributed")
from distributed.protocol import deserialize, serialize  # noqa: E402 - once Dask is known to be there

from tfmini.distributed import dask_runtime  # noqa: E402 - the wire format of values between workers

CLUSTER = {"ps": ["localhost:1"], "worker": ["localhost:2", "localhost:3"]}
TASKS = ("/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0", "/job:worker/replica:0/task:1")
_steps = itertools.count(1)


def _over_the_wire(value):
    """`value` as the receiving worker gets it through Dask's comms."""
    return deserialize(*serialize(dask_runtime.wire_value(value).data))


class Tasks:
    """The cluster's tasks in threads of this process, values between them sent as Dask sends them."""

    def __init__(self) -> None:
        self.resources = {t: WorkerResources(t) for t in TASKS}

    def run(self, graph, fetches=(), feeds=None, targets=()):
        feeds = feeds or {}
        step = partition(graph.as_graph_def(), fetches, list(feeds), targets, cluster=CLUSTER,
                         master="/job:worker/task:0")
        runners = {t: PartitionRunner(gd, step.run_nodes[t], self.resources[t], session="s")
                   for t, gd in step.graph_defs.items()}
        step_id = next(_steps)
        rdv: dict[str, StepRendezvous] = {}
        for task in runners:
            rdv[task] = StepRendezvous(task, step_id, remote_put=lambda t, k, v: rdv[t].put(k, _over_the_wire(v)))
        for (task, key), value in zip(step.feed_keys, feeds.values()):
            rdv[task].put(key, _over_the_wire(value))
        errors = []

        def run(task):
            try:
                runners[task].run(rdv[task])
            except Exception as e:  # noqa: BLE001 - a failure aborts the step everywhere, as the engine does
                errors.append(e)
                for r in rdv.values():
                    r.abort(e)

        threads = [threading.Thread(target=run, args=(t,)) for t in runners]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        if errors:
            raise errors[0]
        return [rdv[task].recv(key) for task, key in step.fetch_keys], step


def _loop_model():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [4, 3], name="x")
        with tf.device("/job:ps/task:0"):
            w = tf.Variable(np.full((3, 3), 0.2, np.float32), name="w")
        with tf.device("/job:worker/task:1"):
            _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))),
                                 [tf.constant(0), x])
            loss = tf.reduce_sum(tf.square(h - 0.5))
        (grad,) = tf.gradients(loss, [w])
    return graph, x, w, grad


def test_a_loop_on_one_task_differentiated_with_accumulators_on_another():
    data = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    graph, x, w, grad = _loop_model()
    with tf.Session(graph=graph) as sess:
        sess.run(w.initializer)
        expected = sess.run(grad, {x: data})
    tasks = Tasks()
    tasks.run(graph, targets=[w.initializer])
    (got,), step = tasks.run(graph, [grad], {x: data})
    variants = [nd for gd in step.graph_defs.values() for nd in gd.node
                if nd.op == "_Send" and nd.attr["T"].type == tf.variant.as_datatype_enum]
    assert variants, "a variant must cross tasks for this test to mean anything"
    np.testing.assert_allclose(got, expected, rtol=1e-6)
