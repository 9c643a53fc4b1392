"""The partitions of many programs run in threads, one per task, each with its own WorkerResources and per-step
StepRendezvous wired to the others (no Dask), give exactly the local engine's results: training on ps variables
with worker compute, queues shared between steps, control flow fed from another task, variables shared by two
graphs, container resets, failures aborting the step, deadlines."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import partition
from tfmini.distributed.worker import PartitionRunner, StepRendezvous, WorkerResources
from tfmini.framework import errors

CLUSTER = {"ps": ["localhost:1"], "worker": ["localhost:2", "localhost:3"]}
PS0, WK0, WK1 = ("/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0", "/job:worker/replica:0/task:1")


class Cluster:
    """Tasks as WorkerResources; a step runs each task's partition in a thread of its own."""

    _step_ids = itertools.count(1)

    def __init__(self, cluster=CLUSTER) -> None:
        self.cluster = cluster
        self.resources = {t: WorkerResources(t) for t in (PS0, WK0, WK1)}


class Client:
    """One session's view: caches partition runners per signature, as the engine registers them once."""

    def __init__(self, cluster: Cluster, graph: tf.Graph, master: str = WK0) -> None:
        self.cluster = cluster
        self.graph = graph
        self.master = master
        self._cache: dict = {}
        self.partitions_made = 0

    def _compiled(self, fetches, feeds, targets):
        key = (tuple(fetches), tuple(feeds), tuple(targets), self.graph.version)
        found = self._cache.get(key)
        if found is None:
            step = partition(self.graph.as_graph_def(), fetches, feeds, targets, cluster=self.cluster.cluster,
                             master=self.master)
            runners = {task: PartitionRunner(gd, step.run_nodes[task], self.cluster.resources[task])
                       for task, gd in step.graph_defs.items()}
            found = self._cache[key] = (step, runners)
            self.partitions_made += 1
        return found

    def run(self, fetches, feed_dict=None, targets=(), deadline_s: float | None = None, traced: bool = False):
        feed_dict = feed_dict or {}
        single = not isinstance(fetches, (list, tuple))
        fetches = [fetches] if single else list(fetches)
        fetch_t = [f for f in fetches if isinstance(f, tf.Tensor)]
        target_ops = [f for f in fetches if isinstance(f, tf.Operation)] + list(targets)
        feeds = list(feed_dict)
        step, runners = self._compiled(fetch_t, feeds, target_ops)
        step_id = next(Cluster._step_ids)
        deadline = None if deadline_s is None else time.perf_counter() + deadline_s
        rdv: dict[str, StepRendezvous] = {}
        for task in runners:
            rdv[task] = StepRendezvous(task, step_id, remote_put=lambda t, k, v: rdv[t].put(k, v))
        for fk, (t, v) in zip(step.feed_keys, feed_dict.items()):
            if fk is not None:
                rdv[fk[0]].put(fk[1], np.asarray(v, dtype=t.dtype.base_dtype.as_numpy_dtype))
        errs: list[tuple[str, BaseException]] = []
        stats = {}

        def run(task):
            try:
                stats[task] = runners[task].run(rdv[task], deadline, traced)
            except Exception as e:  # noqa: BLE001 - the harness aborts the step everywhere, as the engine does
                errs.append((task, e))
                for r in rdv.values():
                    r.abort(e)

        threads = [threading.Thread(target=run, args=(t,)) for t in runners]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
            assert not th.is_alive(), "a partition hung"
        if errs:
            real = [e for _, e in errs if not isinstance(e, errors.CancelledError)] or [errs[0][1]]
            raise real[0]
        out = []
        fed = dict(zip(feeds, feed_dict.values()))
        keys = iter(step.fetch_keys)
        received: dict = {}
        for f in fetches:
            if isinstance(f, tf.Operation):
                out.append(None)
                continue
            key = next(keys)
            if key is None:
                out.append(fed[f])
            else:
                if key not in received:
                    received[key] = rdv[key[0]].recv(key[1])
                out.append(received[key])
        self.last_stats = stats
        return out[0] if single else out


def _local(graph, steps):
    """Runs `steps(run)` with a local session's run, returning what it returns."""
    with tf.Session(graph=graph) as sess:
        return steps(sess.run)


def _assert_same(a, b):
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif a is None:
        assert b is None
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert np.asarray(a).dtype == np.asarray(b).dtype


def _distributed(graph, steps, cluster=None):
    client = Client(cluster or Cluster(), graph)
    return steps(lambda fetches, feed_dict=None: client.run(fetches, feed_dict))


# ----------------------------------------------------------------------------------------------------------
# Training on ps variables with worker compute
# ----------------------------------------------------------------------------------------------------------
def _mlp(optimizer, use_resource=False):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(3)
        with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device="/job:worker/task:0")):
            x = tf.placeholder(tf.float32, [None, 4], name="x")
            y = tf.placeholder(tf.float32, [None, 1], name="y")
            with tf.variable_scope("mlp", use_resource=use_resource):
                h = tf.layers.dense(x, 8, activation=tf.nn.relu, name="h")
                out = tf.layers.dense(h, 1, name="out")
            loss = tf.reduce_mean(tf.square(out - y))
            step = tf.train.get_or_create_global_step()
            train = optimizer().minimize(loss, global_step=step)
            init = tf.global_variables_initializer()
            final = [v.value() for v in tf.global_variables()]
    rng = np.random.RandomState(0)
    data = [(rng.randn(5, 4).astype(np.float32), rng.randn(5, 1).astype(np.float32)) for _ in range(4)]

    def steps(run):
        run(init)
        losses = [run([loss, train], {x: a, y: b})[0] for a, b in data]
        return losses, run(final)

    return graph, steps


@pytest.mark.parametrize("optimizer,use_resource", [
    (lambda: tf.train.GradientDescentOptimizer(0.1), False),
    (lambda: tf.train.AdamOptimizer(0.01), False),
    (lambda: tf.train.AdamOptimizer(0.01), True),
    (lambda: tf.train.MomentumOptimizer(0.1, 0.9), True),
])
def test_mlp_training_on_ps_variables_matches_the_local_engine(optimizer, use_resource):
    graph, steps = _mlp(optimizer, use_resource)
    _assert_same(_distributed(graph, steps), _local(graph, steps))


def test_mlp_partitions_are_made_once_per_signature_and_reused():
    graph, steps = _mlp(lambda: tf.train.GradientDescentOptimizer(0.1))
    client = Client(Cluster(), graph)
    steps(lambda f, d=None: client.run(f, d))
    # init, the training step, the final read
    assert client.partitions_made == 3
    (step, runners), = [v for k, v in client._cache.items() if len(k[1]) == 2]
    assert set(step.graph_defs) == {PS0, WK0}
    ps_ops = {nd.op for nd in step.graph_defs[PS0].node}
    wk_ops = {nd.op for nd in step.graph_defs[WK0].node}
    assert {"VariableV2", "ApplyGradientDescent", "_Recv", "_Send"} <= ps_ops
    assert {"MatMul", "Relu", "_Recv", "_Send"} <= wk_ops and "VariableV2" not in wk_ops
