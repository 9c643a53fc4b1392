"""Distributed sessions on an in-process cluster (1 ps + 2 workers, each task a tf.train.Server with its own
Dask worker in this process): TF1 ps/worker programs give the local engine's numbers, state is shared by
container and name across sessions and graphs, and failures come back as TF's error classes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime

PS = "/job:ps/replica:0/task:0"
W0 = "/job:worker/replica:0/task:0"
W1 = "/job:worker/replica:0/task:1"


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def _model(graph: tf.Graph, worker: int = 0):
    """A two-layer regression on ps variables (replica_device_setter), compute on worker `worker`."""
    with graph.as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device=f"/job:worker/task:{worker}")):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            y = tf.placeholder(tf.float32, [None, 1], name="y")
            w1 = tf.get_variable("w1", initializer=np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
            b1 = tf.get_variable("b1", initializer=np.full(4, 0.1, np.float32))
            w2 = tf.get_variable("w2", initializer=np.linspace(1, -1, 4, dtype=np.float32).reshape(4, 1))
            h = tf.nn.tanh(tf.matmul(x, w1) + b1)
            loss = tf.reduce_mean(tf.square(tf.matmul(h, w2) - y))
            step = tf.train.get_or_create_global_step()
            train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
            init = tf.global_variables_initializer()
    return x, y, loss, train, init, (w1, b1, w2)


def _train(sess, x, y, loss, train, init, steps=6):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((8, 3)).astype(np.float32)
    labels = data.sum(1, keepdims=True).astype(np.float32)
    sess.run(init)
    return [sess.run([loss, train], {x: data, y: labels})[0] for _ in range(steps)]


def test_ps_worker_training_gives_the_local_engines_numbers(target):
    local_graph, dist_graph = tf.Graph(), tf.Graph()
    lx, ly, lloss, ltrain, linit, lvars = _model(local_graph)
    dx, dy, dloss, dtrain, dinit, dvars = _model(dist_graph)
    with tf.Session(graph=local_graph) as sess:
        expected = _train(sess, lx, ly, lloss, ltrain, linit)
        expected_vars = sess.run(lvars)
    with tf.Session(target, graph=dist_graph) as sess:
        got = _train(sess, dx, dy, dloss, dtrain, dinit)
        got_vars = sess.run(dvars)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    for g, e in zip(got_vars, expected_vars):
        np.testing.assert_allclose(g, e, rtol=1e-6)


def test_through_dask_connections_as_between_processes(target, monkeypatch):
    # Workers of this process are normally called directly; without that shortcut every request, reply and
    # worker-to-worker tensor goes through Dask's comms, as between processes.
    monkeypatch.setattr(dask_runtime, "_IN_PROCESS", {})
    local_graph, dist_graph = tf.Graph(), tf.Graph()
    lx, ly, lloss, ltrain, linit, _ = _model(local_graph)
    dx, dy, dloss, dtrain, dinit, _ = _model(dist_graph, worker=1)
    with tf.Session(graph=local_graph) as sess:
        expected = _train(sess, lx, ly, lloss, ltrain, linit, steps=3)
    with tf.Session(target, graph=dist_graph) as sess:
        np.testing.assert_allclose(_train(sess, dx, dy, dloss, dtrain, dinit, steps=3), expected, rtol=1e-6)
        with dist_graph.as_default():
            with tf.device("/job:worker/task:1"):
                bad = tf.debugging.check_numerics(tf.math.log(tf.constant(-1.0)), "log of -1")
            with tf.device("/job:ps/task:0"):
                q = tf.FIFOQueue(1, tf.float32, shapes=[[]], shared_name="comms_q")
            with tf.device("/job:worker/task:0"):
                waiting = q.dequeue() + bad
        with pytest.raises(tf.errors.InvalidArgumentError, match="log of -1"):
            sess.run(waiting)
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(q.dequeue(), options=tf.RunOptions(timeout_in_ms=200))
        metadata = tf.RunMetadata()
        sess.run(dloss, {dx: np.ones((2, 3), np.float32), dy: np.ones((2, 1), np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=metadata)
        assert {d.device for d in metadata.step_stats.dev_stats} == {f"{PS}/device:CPU:0", f"{W1}/device:CPU:0"}


def test_between_graph_replication_shares_ps_variables(cluster, target):
    graphs = [tf.Graph(), tf.Graph()]
    built = [_model(g, worker=i) for i, g in enumerate(graphs)]
    sessions = [tf.Session(cluster[1 + i].target, graph=g) for i, g in enumerate(graphs)]
    try:
        x, y, loss, train, init, _ = built[0]
        sessions[0].run(init)
        with graphs[1].as_default():
            ready = tf.report_uninitialized_variables()
        assert sessions[1].run(ready).size == 0  # initialized by the other client
        data = np.ones((4, 3), np.float32)
        for i in (0, 1, 0, 1):
            xi, yi, _, train_i, _, _ = built[i]
            sessions[i].run(train_i, {xi: data, yi: data[:, :1]})
        steps = [s.run(tf.train.get_global_step(g)) for s, g in zip(sessions, graphs)]
        assert steps == [4, 4]
        w_seen = [s.run(b[5][0]) for s, b in zip(sessions, built)]
        np.testing.assert_array_equal(w_seen[0], w_seen[1])
    finally:
        for s in sessions:
            s.close()


def test_queue_with_shared_name_is_shared_between_sessions(cluster, target):
    producer, consumer = tf.Graph(), tf.Graph()
    with producer.as_default(), tf.device("/job:ps/task:0"):
        q = tf.FIFOQueue(10, tf.float32, shapes=[[2]], shared_name="shared_q")
        enqueue = q.enqueue_many([[[1.0, 2.0], [3.0, 4.0]]])
    with consumer.as_default(), tf.device("/job:ps/task:0"):
        q2 = tf.FIFOQueue(10, tf.float32, shapes=[[2]], shared_name="shared_q")
        with tf.device("/job:worker/task:1"):
            dequeued = q2.dequeue() * 10.0
        size = q2.size()
    with tf.Session(cluster[1].target, graph=producer) as s1, tf.Session(cluster[2].target, graph=consumer) as s2:
        s1.run(enqueue)
        assert s2.run(size) == 2
        np.testing.assert_array_equal(s2.run(dequeued), [10.0, 20.0])
        np.testing.assert_array_equal(s2.run(dequeued), [30.0, 40.0])


def test_reset_clears_a_container_on_every_task(target):
    with tf.device("/job:ps/task:0"):
        kept = tf.Variable(1.0, name="kept")
        with tf.container("experiment"):
            dropped = tf.Variable(2.0, name="dropped")
    with tf.Session(target) as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([kept, dropped]) == [1.0, 2.0]
        tf.Session.reset(target, ["experiment"])
        assert sess.run(kept) == 1.0
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(dropped)
        sess.run(dropped.initializer)
        assert sess.run(dropped) == 2.0


def test_timeout_in_ms_bounds_a_step_across_workers_and_the_session_stays_usable(target):
    with tf.device("/job:ps/task:0"):
        q = tf.FIFOQueue(2, tf.float32, shapes=[[]], shared_name="timeout_q")
    with tf.device("/job:worker/task:1"):
        waiting = q.dequeue() + 1.0
    with tf.device("/job:worker/task:0"):
        fine = tf.constant(3.0) * 2.0
    with tf.Session(target) as sess:
        start = time.perf_counter()
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(waiting, options=tf.RunOptions(timeout_in_ms=300))
        assert time.perf_counter() - start < 5.0
        assert sess.run(fine) == 6.0
        sess.run(q.enqueue(4.0))
        assert sess.run(waiting) == 5.0


def test_an_unshared_queue_is_one_queue_for_the_whole_session(target):
    with tf.device("/job:ps/task:0"):
        q = tf.FIFOQueue(4, tf.float32, shapes=[[]])
    with tf.device("/job:worker/task:1"):
        enqueue = q.enqueue(tf.constant(2.0) * 3.0)
        dequeued = q.dequeue() + 1.0
    with tf.Session(target) as sess:
        sess.run(enqueue)
        sess.run(enqueue)
        assert sess.run([dequeued, dequeued]) == [7.0, 7.0]  # one dequeue per run, whatever it is fetched as
        assert sess.run(dequeued) == 7.0
    with tf.Session(target) as other:  # another session has a queue of its own
        with pytest.raises(tf.errors.DeadlineExceededError):
            other.run(dequeued, options=tf.RunOptions(timeout_in_ms=200))


def test_operation_timeout_in_ms_of_the_config_bounds_every_step(target):
    with tf.device("/job:ps/task:0"):
        q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
        waiting = q.dequeue()
    config = tf.ConfigProto(operation_timeout_in_ms=200)
    with tf.Session(target, config=config) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(waiting)


def test_a_failing_op_on_one_task_fails_the_step_with_its_error_and_task(target):
    with tf.device("/job:ps/task:0"):
        v = tf.Variable([1.0, -1.0], name="v")
    with tf.device("/job:worker/task:1"):
        checked = tf.debugging.check_numerics(tf.sqrt(v), "sqrt of v")
    with tf.device("/job:worker/task:0"):
        total = tf.reduce_sum(checked) + tf.reduce_sum(v)
    with tf.Session(target) as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="sqrt of v") as info:
            sess.run(total)
        assert "CheckNumerics" in str(info.value) and W1 in str(info.value)
        sess.run(v.assign([4.0, 9.0]))
        assert sess.run(total) == 18.0


def test_bad_devices_raise_invalid_argument_and_soft_placement_moves_off_a_gpu(target):
    # TF places the whole graph, so each impossible device gets a graph of its own.
    for i, device in enumerate(("/job:nowhere/task:0", "/job:worker/task:7", "/job:ps/task:0/device:GPU:0")):
        graph = tf.Graph()
        with graph.as_default(), tf.device(device):
            out = tf.constant(float(i)) + 1.0
        with tf.Session(target, graph=graph) as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device") as info:
                sess.run(out)
            assert device in str(info.value)
    # Soft placement moves an op off a device type its task lacks (not off a job or task the cluster lacks).
    with tf.Session(target, graph=graph, config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        assert sess.run(out) == 3.0


def test_closing_a_session_frees_what_it_registered_on_every_task(cluster, target):
    def registered():
        return sum(len(server._node.worker.tfmini.runners) for server in cluster)

    start = registered()
    with tf.device("/job:ps/task:0"):
        v = tf.Variable(2.0)
    with tf.device("/job:worker/task:1"):
        doubled = v * 2.0
    sess = tf.Session(target)
    sess.run(v.initializer)
    assert sess.run(doubled) == 4.0
    assert registered() > start
    sess.close()
    assert registered() == start


def test_closing_a_session_cancels_its_steps_in_flight(target):
    with tf.device("/job:ps/task:0"):
        q = tf.FIFOQueue(2, tf.float32, shapes=[[]], shared_name="close_q")
    with tf.device("/job:worker/task:1"):
        waiting = q.dequeue() * 2.0
    sess = tf.Session(target)
    failure: list = []

    def run():
        try:
            sess.run(waiting)
        except Exception as exc:  # noqa: BLE001 - examined below
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    sess.close()
    thread.join(10)
    assert not thread.is_alive()
    assert len(failure) == 1 and isinstance(failure[0], tf.errors.CancelledError)


def test_a_tensor_put_for_a_step_that_never_runs_here_is_dropped_in_time(cluster, target, monkeypatch):
    service = cluster[0]._node.worker.tfmini
    loop = dask_runtime.event_loop()
    loop.run(service.tfmini_put(step_id=12345, key="k", value=np.zeros(2)))
    assert 12345 in service.steps and 12345 in service.waiting
    monkeypatch.setattr(service, "orphan_seconds", 0.0)
    with tf.device("/job:ps/task:0"):
        x = tf.constant(1.0) + 1.0
    with tf.Session(target) as sess:
        assert sess.run(x) == 2.0  # a step finishing on the task sweeps the orphan
    assert 12345 not in service.steps and 12345 not in service.waiting and not service.active
    loop.run(service.tfmini_put(step_id=12345, key="k", value=np.zeros(2)))
    assert 12345 not in service.steps  # a late tensor of a dropped step is not kept


def test_list_devices_names_every_tasks_cpu(target):
    with tf.Session(target) as sess:
        names = [d.name for d in sess.list_devices()]
    assert names == [f"{t}/device:CPU:0" for t in (PS, W0, W1)]
    assert all(d.device_type == "CPU" for d in tf.Session(target).list_devices())


def test_device_filters_limit_the_tasks_a_session_sees(target):
    with tf.device("/job:worker/task:1"):
        tf.add(tf.constant(1.0), 1.0, name="elsewhere")
    with tf.device("/job:ps/task:0"):
        on_ps = tf.constant(2.0) * 3.0
    config = tf.ConfigProto(device_filters=["/job:ps"])
    with tf.Session(target, config=config) as sess:
        assert [d.name for d in sess.list_devices()] == [f"{t}/device:CPU:0" for t in (PS, W0)]
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device"):
            sess.run(on_ps)  # the whole graph is placed: worker 1 is not among this session's devices
    graph = tf.Graph()
    with graph.as_default(), tf.device("/job:ps/task:0"):
        fine = tf.constant(2.0) * 3.0
    with tf.Session(target, graph=graph, config=config) as sess:
        assert sess.run(fine) == 6.0


def test_traced_steps_report_one_device_per_task_with_sends_and_recvs(target):
    with tf.device("/job:ps/task:0"):
        w = tf.Variable(np.eye(3, dtype=np.float32), name="w")
    with tf.device("/job:worker/task:0"):
        a = tf.matmul(w, w)
    with tf.device("/job:worker/task:1"):
        b = tf.reduce_sum(a * 2.0)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)
    metadata = tf.RunMetadata()
    with tf.Session(target) as sess:
        sess.run(w.initializer)
        before = time.time() * 1e6
        assert sess.run(b, options=options, run_metadata=metadata) == 6.0
        after = time.time() * 1e6
    devices = {d.device for d in metadata.step_stats.dev_stats}
    assert devices == {f"{t}/device:CPU:0" for t in (PS, W0, W1)}
    ops = {d.device: {n.timeline_label.split(" = ")[-1].split("(")[0] for n in d.node_stats}
           for d in metadata.step_stats.dev_stats}
    assert "_Send" in ops[f"{PS}/device:CPU:0"] and "_Recv" in ops[f"{W0}/device:CPU:0"]
    starts = [n.all_start_micros for d in metadata.step_stats.dev_stats for n in d.node_stats]
    assert before - 1000 <= min(starts) and max(starts) <= after + 1000  # one clock: the client's
    assert len(metadata.partition_graphs) == 3
    node_ops = {n.op for g in metadata.partition_graphs for n in g.node}
    assert {"_Send", "_Recv", "MatMul", "Sum"} <= node_ops


def test_fetching_a_fed_tensor_and_nested_fetch_structures(target):
    with tf.device("/job:worker/task:1"):
        x = tf.placeholder(tf.float32, [2], name="x")
        y = x * 3.0
    with tf.Session(target) as sess:
        out = sess.run({"y": y, "pair": (x, [y])}, {x: [1.0, 2.0]})
    np.testing.assert_array_equal(out["y"], [3.0, 6.0])
    np.testing.assert_array_equal(out["pair"][0], [1.0, 2.0])
    np.testing.assert_array_equal(out["pair"][1][0], [3.0, 6.0])


def test_strings_integers_booleans_and_empty_tensors_cross_tasks_and_results_are_writable(target):
    with tf.device("/job:ps/task:0"):
        words = tf.constant(["ab", "cd"])
        ints = tf.constant(np.arange(6, dtype=np.int64).reshape(2, 3))
        flags = tf.constant([True, False])
        suffix = tf.placeholder(tf.string, [])
    with tf.device("/job:worker/task:1"):
        joined = tf.strings.join([words, tf.fill([2], suffix)], separator="-")
        doubled = ints * 2
        negated = tf.logical_not(flags)
        empty = tf.zeros([0, 3])
    with tf.Session(target) as sess:
        j, d, n, e = sess.run([joined, doubled, negated, empty], {suffix: "zz"})
    assert j.tolist() == [b"ab-zz", b"cd-zz"]
    assert d.dtype == np.int64 and d.tolist() == [[0, 2, 4], [6, 8, 10]]
    assert n.tolist() == [False, True] and e.shape == (0, 3) and e.dtype == np.float32
    d += 1  # a fetched array belongs to the caller
    assert d[0, 0] == 1


def test_make_callable_and_feeding_an_intermediate_tensor_on_another_task(target):
    with tf.device("/job:ps/task:0"):
        base = tf.constant([1.0, 2.0]) * 10.0
    with tf.device("/job:worker/task:1"):
        out = base + 1.0
    with tf.Session(target) as sess:
        run = sess.make_callable(out, feed_list=[base])
        np.testing.assert_array_equal(run([5.0, 6.0]), [6.0, 7.0])
        np.testing.assert_array_equal(sess.run(out), [11.0, 21.0])
        np.testing.assert_array_equal(sess.make_callable([out, base])()[0], [11.0, 21.0])


def test_monitored_training_session_with_hooks_on_a_server_target(cluster, target):
    with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device="/job:worker/task:0")):
        step = tf.train.get_or_create_global_step()
        w = tf.get_variable("w", initializer=np.float32(5.0))
        loss = tf.square(w)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    losses = []
    hooks = [tf.train.StopAtStepHook(last_step=4)]
    with tf.train.MonitoredTrainingSession(master=cluster[1].target, is_chief=True, hooks=hooks) as sess:
        while not sess.should_stop():
            losses.append(sess.run([loss, train])[0])
    assert len(losses) == 4
    np.testing.assert_allclose(losses, [25.0 * 0.64 ** k for k in range(4)], rtol=1e-5)


def test_a_chief_and_a_non_chief_train_one_model_with_monitored_sessions(cluster, target):
    graphs = [tf.Graph(), tf.Graph()]
    trains, steps = [], []
    for i, graph in enumerate(graphs):
        with graph.as_default(), tf.device(tf.train.replica_device_setter(
                ps_tasks=1, worker_device=f"/job:worker/task:{i}")):
            step = tf.train.get_or_create_global_step()
            w = tf.get_variable("w", initializer=np.float32(5.0))
            trains.append(tf.train.GradientDescentOptimizer(0.1).minimize(tf.square(w), global_step=step))
            steps.append(step)
    counts, failures = [0, 0], []
    chief_ready = threading.Event()

    def train(i):
        try:
            with graphs[i].as_default():
                hooks = [tf.train.StopAtStepHook(last_step=20)]
                with tf.train.MonitoredTrainingSession(master=cluster[1 + i].target, is_chief=(i == 0),
                                                       hooks=hooks) as sess:
                    chief_ready.set()
                    while not sess.should_stop():
                        sess.run(trains[i])
                        counts[i] += 1
        except Exception as exc:  # noqa: BLE001 - examined below
            failures.append(exc)
            chief_ready.set()

    chief = threading.Thread(target=train, args=(0,))
    chief.start()
    assert chief_ready.wait(30)
    other = threading.Thread(target=train, args=(1,))
    other.start()
    chief.join(60)
    other.join(60)
    assert failures == []
    with tf.Session(cluster[2].target, graph=graphs[1]) as sess:
        final = sess.run(steps[1])
    assert final >= 20 and counts[0] >= 1 and sum(counts) >= 20  # the non-chief joined without a failure


# The chief's token queue runner is still waiting for the next step's gradients when its session closes; the
# close cancels that step and the runner's thread raises the CancelledError after its coordinator was joined,
# as TF's Coordinator.request_stop does.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_sync_replicas_optimizer_aggregates_the_gradients_of_two_clients(cluster, target):
    graphs, built = [tf.Graph(), tf.Graph()], []
    for i, graph in enumerate(graphs):
        with graph.as_default(), tf.device(tf.train.replica_device_setter(
                ps_tasks=1, worker_device=f"/job:worker/task:{i}")):
            step = tf.train.get_or_create_global_step()
            w = tf.get_variable("w", initializer=np.float32(5.0))
            opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), replicas_to_aggregate=2,
                                                 total_num_replicas=2)
            train = opt.minimize(tf.square(w - 2.0 * i), global_step=step)
            built.append((train, opt.make_session_run_hook(is_chief=(i == 0)), step, w))
    done, failures = {}, []
    chief_ready = threading.Event()

    def run(i):
        train, hook, _, _ = built[i]
        try:
            with graphs[i].as_default(), tf.train.MonitoredTrainingSession(
                    master=cluster[1 + i].target, is_chief=(i == 0), stop_grace_period_secs=1,
                    hooks=[hook, tf.train.StopAtStepHook(last_step=4)],
                    config=tf.ConfigProto(operation_timeout_in_ms=30000)) as sess:
                chief_ready.set()
                while not sess.should_stop():
                    sess.run(train)
            done[i] = True
        except Exception as exc:  # noqa: BLE001 - examined below
            failures.append(exc)
            chief_ready.set()

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    threads[0].start()
    assert chief_ready.wait(30)
    threads[1].start()
    for t in threads:
        t.join(60)
    for t in threading.enumerate():  # the chief's token queue runner ends with its session's close
        if t.name.startswith("QueueRunnerThread-sync_token_q"):
            t.join(10)
    assert failures == [] and done == {0: True, 1: True}
    with tf.Session(target, graph=graphs[0]) as sess:
        final_step, w = sess.run([built[0][2], built[0][3]])
    # Four updates, each the mean of two gradients 2 * (w - target) taken at the current w, target 0 for the
    # chief's and 2 for the other's: w <- 0.8 w (both from the chief) or 0.8 w + 0.2 (one from each).
    assert final_step == 4
    assert 5.0 * 0.8 ** 4 - 1e-5 <= w <= 1.0 + 4.0 * 0.8 ** 4 + 1e-5


def test_concurrent_sessions_run_steps_at_the_same_time(target):
    with tf.device("/job:ps/task:0"):
        counter = tf.Variable(0, name="counter")
    with tf.device("/job:worker/task:1"):
        bump = tf.assign_add(counter, 1, use_locking=True)
    errors = []
    with tf.Session(target) as sess:
        sess.run(counter.initializer)

        def work():
            try:
                for _ in range(10):
                    sess.run(bump.op)
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and sess.run(counter) == 30
