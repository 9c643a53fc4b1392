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
from ipython_ext import trace_data
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

    _sessions = itertools.count(1)

    def __init__(self, cluster: Cluster, graph: tf.Graph, master: str = WK0) -> None:
        self.cluster = cluster
        self.graph = graph
        self.master = master
        self.session = f"session-{next(Client._sessions)}"
        self._cache: dict = {}
        self.partitions_made = 0

    def _compiled(self, fetches, feeds, targets):
        key = (tuple(fetches), tuple(feeds), tuple(targets), self.graph.version)
        found = self._cache.get(key)
        if found is None:
            step = partition(self.graph.as_graph_def(), fetches, feeds, targets, cluster=self.cluster.cluster,
                             master=self.master)
            runners = {task: PartitionRunner(gd, step.run_nodes[task], self.cluster.resources[task],
                                             session=self.session)
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
        converted = [np.asarray(v, dtype=t.dtype.base_dtype.as_numpy_dtype) for t, v in feed_dict.items()]
        for fk, value in zip(step.feed_keys, converted):
            if fk is not None:
                rdv[fk[0]].put(fk[1], value)
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
        fed = dict(zip(feeds, converted))
        keys = iter(step.fetch_keys)
        received: dict = {}
        for f in fetches:
            if isinstance(f, tf.Operation):
                out.append(None)
                continue
            key = next(keys)
            if key is None:
                value = fed[f]
                out.append(value[()] if value.ndim == 0 else value)
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


def _until_ended(thread: threading.Thread, cancel) -> None:
    """Calls `cancel` until `thread` (a step blocked on a queue) ends: a cancel that comes before the step
    made its queue finds nothing to cancel, and the step then waits on a new one."""
    time.sleep(0.1)
    for _ in range(40):
        cancel()
        thread.join(0.25)
        if not thread.is_alive():
            return
    raise AssertionError("the blocked step did not end")


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


# ----------------------------------------------------------------------------------------------------------
# Queues on ps shared between steps
# ----------------------------------------------------------------------------------------------------------
def _queue_program():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            q = tf.FIFOQueue(10, [tf.float32], shapes=[[2]], shared_name="shared_q", name="q")
        with tf.device("/job:worker/task:1"):
            v = tf.placeholder(tf.float32, [2], name="v")
            enqueue = q.enqueue([v * 2.0])
        with tf.device("/job:worker/task:0"):
            total = tf.reduce_sum(q.dequeue_many(2), axis=0) + 1.0
            size = q.size()

    def steps(run):
        run(enqueue, {v: [1.0, 2.0]})
        run(enqueue, {v: [3.0, 4.0]})
        s = run(size)
        return s, run(total), run(size)

    return graph, steps, (enqueue, v, total, size)


def test_queue_on_ps_fed_by_one_step_and_dequeued_by_another():
    graph, steps, _ = _queue_program()
    got = _distributed(graph, steps)
    _assert_same(got, _local(graph, steps))
    np.testing.assert_array_equal(got[1], [9.0, 13.0])


def test_shared_queue_is_seen_by_a_second_graph_on_the_same_task():
    cluster = Cluster()
    g1, _, (enqueue, v, _, _) = _queue_program()
    g2, _, (_, _, total, size) = _queue_program()
    a, b = Client(cluster, g1), Client(cluster, g2)
    a.run(enqueue, {v: [1.0, 1.0]})
    a.run(enqueue, {v: [2.0, 2.0]})
    assert b.run(size) == 2
    np.testing.assert_array_equal(b.run(total), [7.0, 7.0])


def _unshared_queue_program():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            q = tf.FIFOQueue(10, [tf.float32], shapes=[[]], name="q")
            noise = tf.random_uniform([3], seed=7, name="noise")
        with tf.device("/job:worker/task:0"):
            v = tf.placeholder(tf.float32, [], name="v")
            enqueue = q.enqueue([v + 1.0])
            taken = q.dequeue() * 10.0
            size = q.size()
            noisy = noise * 2.0
    return graph, enqueue, v, taken, size, noise, noisy


def test_signatures_of_one_session_share_its_unshared_queue_and_random_streams():
    graph, enqueue, v, taken, size, noise, noisy = _unshared_queue_program()

    def steps(run):
        run(enqueue, {v: 1.0})
        run(enqueue, {v: 2.0})
        return run(size), run(taken), run(size), run(noise), run(noisy), run([noise, size])

    got = _distributed(graph, steps)
    _assert_same(got, _local(graph, steps))
    assert not np.array_equal(got[3], got[4] / 2.0)  # one stream, advancing across signatures


def test_two_sessions_keep_separate_unshared_queues_and_closing_one_cancels_its_waiters():
    cluster = Cluster()
    graph, enqueue, v, taken, size, _, _ = _unshared_queue_program()
    a, b = Client(cluster, graph), Client(cluster, graph)
    a.run(enqueue, {v: 1.0})
    assert a.run(size) == 1 and b.run(size) == 0
    b._compiled([taken], [], [])
    failure = []
    th = threading.Thread(target=lambda: failure.append(pytest.raises(Exception, b.run, taken)))
    th.start()
    _until_ended(th, lambda: cluster.resources[PS0].close_session(b.session))
    assert failure[0].type is errors.CancelledError
    assert a.run(taken) == 20.0


# ----------------------------------------------------------------------------------------------------------
# Control flow on one task fed from another
# ----------------------------------------------------------------------------------------------------------
def test_cond_and_while_loop_on_the_worker_fed_from_ps():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            w = tf.Variable([1.0, -2.0, 3.0], name="w")
            scale = tf.Variable(2.0, name="scale")
        with tf.device("/job:worker/task:0"):
            p = tf.placeholder(tf.bool, [], name="p")
            c = tf.cond(p, lambda: w * scale, lambda: w - scale)
            i0 = tf.constant(0)
            _, acc = tf.while_loop(lambda i, a: i < 4, lambda i, a: (i + 1, a * 0.5 + c), [i0, tf.zeros([3])])
            grad = tf.gradients(tf.reduce_sum(acc * acc), [w, scale])
        with tf.device("/job:ps/task:0"):
            update = tf.assign_sub(w, 0.01 * grad[0])
        init = tf.global_variables_initializer()

    def steps(run):
        run(init)
        out = [run([acc, grad[1]], {p: flag}) for flag in (True, False)]
        run(update, {p: True})
        return out, run(w.value())

    got = _distributed(graph, steps)
    _assert_same(got, _local(graph, steps))


def test_resource_variable_read_inside_cond_runs_with_its_handle():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.get_variable("v", initializer=[1.0, 2.0], use_resource=True)
        with tf.device("/job:worker/task:0"):
            p = tf.placeholder(tf.bool, [])
            out = tf.cond(p, lambda: v.read_value() * 3.0, lambda: tf.zeros([2]))
        init = tf.global_variables_initializer()

    def steps(run):
        run(init)
        return run(out, {p: True}), run(out, {p: False})

    _assert_same(_distributed(graph, steps), _local(graph, steps))


# ----------------------------------------------------------------------------------------------------------
# State shared by graphs on one task, and resets
# ----------------------------------------------------------------------------------------------------------
def _shared_variable_graph():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            w = tf.Variable(tf.zeros([2]), name="w")
            r = tf.get_variable("r", initializer=[5.0], use_resource=True)
            inc = tf.assign_add(w, [1.0, 2.0])
            r_inc = r.assign_add([1.0])
        with tf.device("/job:worker/task:0"):
            doubled = w * 2.0
            r_read = r.read_value() + 0.0
        init = tf.global_variables_initializer()
    return graph, init, inc, r_inc, doubled, r_read


def test_variables_are_shared_by_two_graphs_on_the_same_task():
    cluster = Cluster()
    g1, init1, inc1, r_inc1, _, _ = _shared_variable_graph()
    g2, _, inc2, _, doubled2, r_read2 = _shared_variable_graph()
    a, b = Client(cluster, g1), Client(cluster, g2)
    a.run(init1)
    a.run(inc1)
    a.run(r_inc1)
    b.run(inc2)
    np.testing.assert_array_equal(b.run(doubled2), [4.0, 8.0])
    np.testing.assert_array_equal(b.run(r_read2), [6.0])


def test_reset_of_a_container_uninitializes_variables_and_cancels_queues():
    cluster = Cluster()
    graph, init, inc, _, doubled, r_read = _shared_variable_graph()
    client = Client(cluster, graph)
    client.run(init)
    client.run(inc)
    g2, _, (enqueue, v, total, size) = _queue_program()
    qc = Client(cluster, g2)
    qc.run(enqueue, {v: [1.0, 1.0]})
    cluster.resources[PS0].reset(["some_other_container"])
    np.testing.assert_array_equal(client.run(doubled), [2.0, 4.0])
    assert qc.run(size) == 1
    cluster.resources[PS0].reset(["ps"])  # the default container of a ps task is named after its job
    with pytest.raises(errors.FailedPreconditionError, match="uninitialized"):
        client.run(doubled)
    with pytest.raises(errors.FailedPreconditionError):
        client.run(r_read)
    assert qc.run(size) == 0  # a new queue: the old one was dropped
    client.run(init)
    np.testing.assert_array_equal(client.run(doubled), [0.0, 0.0])


def test_reset_cancels_a_blocked_dequeue():
    cluster = Cluster()
    graph, _, (_, _, total, _) = _queue_program()
    client = Client(cluster, graph)
    client._compiled([total], [], [])
    failure = []
    th = threading.Thread(target=lambda: failure.append(pytest.raises(Exception, client.run, total)))
    th.start()
    _until_ended(th, lambda: cluster.resources[PS0].reset(None))
    assert failure and failure[0].type is errors.CancelledError


# ----------------------------------------------------------------------------------------------------------
# Failures, aborts and deadlines
# ----------------------------------------------------------------------------------------------------------
def _failing_program():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            a = tf.constant([1.0, -2.0])
            bad = tf.debugging.check_numerics(tf.log(a), "bad value on ps", name="bad")
        with tf.device("/job:worker/task:0"):
            out = tf.identity(bad, name="out") + 1.0
            ok = tf.constant(3.0) * 2.0
    return graph, out, ok


def test_a_failing_op_aborts_the_step_and_the_session_stays_usable():
    graph, out, ok = _failing_program()
    client = Client(Cluster(), graph)
    with pytest.raises(errors.InvalidArgumentError, match="bad value on ps") as failure:
        client.run(out)
    # The error names the node and the task it ran on (not where the worker imported its partition).
    assert failure.value.message.endswith(f"\n\t [[node bad (on {PS0}) ]]")
    assert failure.value.op.name == "bad"
    assert client.run(ok) == 6.0
    with tf.Session(graph=graph) as sess, pytest.raises(errors.InvalidArgumentError, match="bad value on ps"):
        sess.run(out)


def test_an_abort_wakes_the_recv_another_task_is_blocked_in():
    graph, out, _ = _failing_program()
    step = partition(graph, [out], cluster=CLUSTER, master=WK0)
    resources = {t: WorkerResources(t) for t in step.graph_defs}
    runners = {t: PartitionRunner(gd, step.run_nodes[t], resources[t]) for t, gd in step.graph_defs.items()}
    rdv = {t: StepRendezvous(t, 9, remote_put=lambda t, k, v: rdv[t].put(k, v)) for t in runners}
    caught = {}

    def worker():
        try:
            runners[WK0].run(rdv[WK0])
        except Exception as e:  # noqa: BLE001 - inspected below
            caught[WK0] = e

    th = threading.Thread(target=worker)
    th.start()
    time.sleep(0.2)  # the worker now waits for the ps tensor, which never comes: the ps partition is not run
    assert th.is_alive()
    rdv[WK0].abort(errors.InvalidArgumentError(None, None, "bad value on ps"))
    th.join(10)
    assert not th.is_alive()
    assert isinstance(caught[WK0], errors.CancelledError)
    assert "Step 9 was aborted: bad value on ps" in str(caught[WK0])
    assert caught[WK0].message.endswith(f"(on {WK0}) ]]") and caught[WK0].op.type == "_Recv"
    # The same runner runs the next step.
    with pytest.raises(errors.InvalidArgumentError, match="bad value on ps"):
        runners[PS0].run(StepRendezvous(PS0, 10, remote_put=lambda t, k, v: None))


def test_deadline_ends_a_step_waiting_on_another_task():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            q = tf.FIFOQueue(3, [tf.float32], shapes=[[]])
            item = q.dequeue()
        with tf.device("/job:worker/task:0"):
            out = item * 2.0
    client = Client(Cluster(), graph)
    t0 = time.perf_counter()
    with pytest.raises(errors.DeadlineExceededError):
        client.run(out, deadline_s=0.3)
    assert time.perf_counter() - t0 < 10


# ----------------------------------------------------------------------------------------------------------
# Traced steps
# ----------------------------------------------------------------------------------------------------------
def test_traced_step_returns_each_tasks_device_stats_with_transfers():
    # One traced run on this thread first: the tracer builds its encoding tables on the first traced step of
    # the process, and two threads doing that at once can see them half built.
    with tf.Graph().as_default(), tf.Session() as sess:
        sess.run(tf.constant(1.0) + 1.0, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=tf.RunMetadata())
    graph, steps = _mlp(lambda: tf.train.GradientDescentOptimizer(0.1))
    client = Client(Cluster(), graph)
    ops = graph.get_operations()
    init = next(o for o in ops if o.name == "init")
    client.run(init)
    x, y = graph.get_tensor_by_name("x:0"), graph.get_tensor_by_name("y:0")
    loss = graph.get_tensor_by_name("Mean:0")
    client.run(loss, {x: np.ones((2, 4), np.float32), y: np.ones((2, 1), np.float32)}, traced=True)
    stats = client.last_stats
    assert set(stats) == {PS0, WK0}
    assert stats[PS0].device == PS0 + "/device:CPU:0"
    names = {ns.node_name for ns in stats[WK0].node_stats}
    assert {"_recv_x_0", "_recv_y_0", "_send_Mean_0"} <= names
    labels = {ns.node_name: ns.timeline_label for ns in stats[WK0].node_stats}
    # TF's label of a transfer: the tensor it carries and the device at its other end, by which the notebook's
    # trace view pairs each send with its receive.
    assert labels["_send_Mean_0"] == f"_send_Mean_0 = _Send(Mean:0 @{WK0}/device:CPU:0)"
    step_stats = tf.RunMetadata().step_stats
    for task in (PS0, WK0):
        step_stats.dev_stats.add().CopyFrom(stats[task])
    crossing = trace_data.run_data(step_stats, {}, {}, None)["x"]
    sent = {ns.node_name for ns in stats[PS0].node_stats if ns.timeline_label.split(" = ")[1].startswith("_Send")}
    assert sent and len([x for x in crossing if x[4] != x[5] and "client" not in x[4:6]]) == len(sent)
    assert all(x[0] >= 0 and x[1] >= 0 for x in crossing if "client" not in x[4:6])
    assert any(ns.node_name.endswith("_S0") or "_S" in ns.node_name for ns in stats[PS0].node_stats)


# ----------------------------------------------------------------------------------------------------------
# Between-graph replication and input pipelines
# ----------------------------------------------------------------------------------------------------------
def _replica(worker: int):
    graph = tf.Graph()
    with graph.as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device=f"/job:worker/task:{worker}")):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            w = tf.get_variable("w", initializer=tf.ones([3, 1]))
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
            step = tf.train.get_or_create_global_step()
            train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=step)
            init = tf.global_variables_initializer()
            read = [w.value(), step.value()]
    return graph, x, loss, train, init, read


def test_between_graph_replication_trains_one_model_on_shared_ps_variables():
    rng = np.random.RandomState(1)
    batches = [rng.randn(4, 3).astype(np.float32) for _ in range(4)]
    cluster = Cluster()
    chief_graph, x0, loss0, train0, init0, read0 = _replica(0)
    other_graph, x1, loss1, train1, _, read1 = _replica(1)
    chief = Client(cluster, chief_graph, master=WK0)
    other = Client(cluster, other_graph, master=WK1)
    chief.run(init0)
    got = []
    for k, batch in enumerate(batches):
        client, x, loss, train = (chief, x0, loss0, train0) if k % 2 == 0 else (other, x1, loss1, train1)
        got.append(client.run([loss, train], {x: batch})[0])
    # One session on one graph running the same steps in the same order.
    graph, x, loss, train, init, read = _replica(0)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        want = [sess.run([loss, train], {x: batch})[0] for batch in batches]
        final = sess.run(read)
    _assert_same(got, want)
    _assert_same(other.run(read1), final)
    _assert_same(chief.run(read0), final)
    assert chief.run(read0)[1] == 4


def test_dataset_iterator_on_the_worker_feeding_ps_variables():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            w = tf.Variable([1.0, 2.0], name="w")
        with tf.device("/job:worker/task:0"):
            it = tf.data.Dataset.range(5).map(lambda i: tf.cast(i, tf.float32)).batch(2).make_initializable_iterator()
            batch = it.get_next()
            total = tf.reduce_sum(batch) * w
        with tf.device("/job:ps/task:0"):
            upd = tf.assign_add(w, total)
        init = tf.global_variables_initializer()

    def steps(run):
        run(init)
        run(it.initializer)
        out = [run(upd) for _ in range(3)]
        with pytest.raises(errors.OutOfRangeError):
            run(upd)
        return out

    _assert_same(_distributed(graph, steps), _local(graph, steps))


def test_session_handles_name_the_task_that_keeps_the_value():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            value = tf.constant([1.0, 2.0]) * 3.0
            handle = tf.get_session_handle(value)
    client = Client(Cluster(), graph)
    got = client.run(handle)  # the raw string the op outputs (a session would wrap it in a TensorHandle)
    assert np.asarray(got).item().decode().endswith(";" + PS0 + "/device:CPU:0")


def test_repeated_fetches_fed_fetches_and_feeds_read_on_two_tasks():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            p = tf.placeholder(tf.float32, [2], name="p")
            on_ps = p * 2.0
        with tf.device("/job:worker/task:1"):
            on_worker = p + on_ps
            q = tf.placeholder_with_default(tf.constant([9.0, 9.0]), [2], name="q")
            both = on_worker * q

    def steps(run):
        return (run([on_worker, on_worker, p, both], {p: [1.0, 2.0]}),
                run([both, q], {p: [1.0, 2.0], q: [0.5, 0.5]}))

    _assert_same(_distributed(graph, steps), _local(graph, steps))


def test_random_ops_of_the_same_name_in_a_branch_and_outside_keep_their_own_streams():
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(5)
        with tf.device("/job:worker/task:0"):
            p = tf.placeholder(tf.bool, [])
            outside = tf.random_uniform([3], name="draw")
            inside = tf.cond(p, lambda: tf.random_uniform([3], name="draw"), lambda: tf.zeros([3]))

    def steps(run):
        return [run([outside, inside], {p: True}) for _ in range(3)]

    _assert_same(_distributed(graph, steps), _local(graph, steps))


def _sync_replica(worker: int):
    graph = tf.Graph()
    with graph.as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device=f"/job:worker/task:{worker}")):
            x = tf.placeholder(tf.float32, [None, 2], name="x")
            w = tf.get_variable("w", initializer=tf.ones([2, 1]))
            loss = tf.reduce_sum(tf.matmul(x, w))
            step = tf.train.get_or_create_global_step()
            opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=2,
                                                 total_num_replicas=2)
            train = opt.minimize(loss, global_step=step)
            init = tf.global_variables_initializer()
            tokens = opt.get_init_tokens_op()
            sync = opt.get_chief_queue_runner().enqueue_ops[0]
            read = [w.value(), step.value()]
    return graph, x, train, init, opt, tokens, sync, read


def test_sync_replicas_aggregates_two_clients_gradients_in_shared_accumulators():
    cluster = Cluster()
    g0, x0, train0, init, opt0, tokens, sync, read = _sync_replica(0)
    g1, x1, train1, _, opt1, _, _, _ = _sync_replica(1)
    chief, other = Client(cluster, g0, master=WK0), Client(cluster, g1, master=WK1)
    chief.run(init)
    chief.run(opt0.chief_init_op)
    other.run(opt1.local_step_init_op)
    chief.run(tokens)
    threads = [threading.Thread(target=chief.run, args=(sync,)),
               threading.Thread(target=chief.run, args=(train0, {x0: [[1.0, 2.0]]})),
               threading.Thread(target=other.run, args=(train1, {x1: [[3.0, 4.0]]}))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(20)
        assert not th.is_alive()
    w, step = chief.run(read)
    # One step of the mean gradient of the two replicas: the gradient of sum(x w) is x.
    np.testing.assert_allclose(w, 1.0 - 0.5 * np.mean([[1.0, 2.0], [3.0, 4.0]], axis=0)[:, None])
    assert step == 1
