"""Session.partial_run on a distributed session (an in-process cluster of 1 ps + 2 workers): each call runs
only the ops not yet run, values computed by earlier calls stay on their tasks and reach later calls from
there, feeds may come in later calls, and the results and errors are the local engine's."""

from __future__ import annotations

import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime

PS = "/job:ps/replica:0/task:0"
W0 = "/job:worker/replica:0/task:0"
W1 = "/job:worker/replica:0/task:1"


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def _service(task: str) -> dask_runtime.TaskService:
    found = [s for s in dask_runtime._IN_PROCESS.values() if s.task == task]
    assert len(found) == 1
    return found[0]


def _both(build, steps, target):
    """Runs `steps(sess, *built)` on a fresh graph from `build()` in a local session and in one on `target`;
    returns both results."""
    results = []
    for where in ("", target):
        graph = tf.Graph()
        with graph.as_default():
            built = build()
        with tf.Session(where, graph=graph) as sess:
            results.append(steps(sess, *built))
    return results


def _chain():
    """a (fed on ps) -> r1 on ps -> r2 on worker 1 (with b) -> r3 on worker 0 (with c); a counter on ps
    that r1 depends on, so running it twice would show."""
    with tf.device("/job:ps/task:0"):
        a = tf.placeholder(tf.float32, [2], name="a")
        count = tf.Variable(0, name="count")
        bump = tf.assign_add(count, 1, name="bump")
        with tf.control_dependencies([bump]):
            r1 = tf.multiply(a, 2.0, name="r1")
    with tf.device("/job:worker/task:1"):
        b = tf.placeholder(tf.float32, [2], name="b")
        r2 = tf.add(r1, b, name="r2")
    with tf.device("/job:worker/task:0"):
        c = tf.placeholder(tf.float32, [], name="c")
        r3 = tf.reduce_sum(r2 * c, name="r3")
        both = tf.add(r1, r3, name="both")
    return a, b, c, count, r1, r2, r3, both


def test_each_call_runs_what_is_new_and_later_calls_read_earlier_values_where_they_are(target):
    def steps(sess, a, b, c, count, r1, r2, r3, both):
        sess.run(count.initializer)
        h = sess.partial_run_setup([r1, r2, r3, both, count], [a, b, c])
        out = [sess.partial_run(h, r1, {a: [1.0, 2.0]})]
        out.append(sess.partial_run(h, {"r2": r2}, {b: [10.0, 20.0]}))  # r1 goes from ps to worker 1
        out.append(sess.partial_run(h, [r3, both], {c: 3.0}))  # r1 and r2 reach worker 0 from their tasks
        out.append(sess.partial_run(h, count))  # the counter ran once
        return out

    local, dist = _both(_chain, steps, target)
    np.testing.assert_array_equal(dist[0], local[0])
    np.testing.assert_array_equal(dist[1]["r2"], local[1]["r2"])
    for got, want in zip(dist[2], local[2]):
        np.testing.assert_array_equal(got, want)
    assert dist[3] == local[3] == 1
    assert dist[2][0] == 3.0 * (2.0 + 10.0 + 4.0 + 20.0)


def test_a_value_computed_as_a_dependency_is_fetched_later_from_its_task(target):
    def steps(sess, a, b, c, count, r1, r2, r3, both):
        sess.run(count.initializer)
        h = sess.partial_run_setup([r1, r2, count], [a, b])
        first = sess.partial_run(h, r2, {a: [1.0, 2.0], b: [0.5, 0.5]})
        return first, sess.partial_run(h, [r1, count])

    local, dist = _both(_chain, steps, target)
    np.testing.assert_array_equal(dist[0], local[0])
    np.testing.assert_array_equal(dist[1][0], local[1][0])
    assert dist[1][1] == local[1][1] == 1


def test_values_stay_on_their_tasks_until_the_session_closes(target):
    graph = tf.Graph()
    with graph.as_default():
        a, b, c, count, r1, r2, r3, both = _chain()
    sess = tf.Session(target, graph=graph)
    sess.run(count.initializer)
    h = sess.partial_run_setup([r1, r2, r3], [a, b, c])
    sess.partial_run(h, r1, {a: [1.0, 2.0]})
    kept = {task: {name for store in _service(task).partials.values() for name in store} for task in (PS, W0, W1)}
    assert "r1:0" in kept[PS] and not kept[W0] and not kept[W1]
    sess.partial_run(h, r2, {b: [1.0, 1.0]})
    assert any("r2:0" in store for store in _service(W1).partials.values())
    sess.close()
    assert all(not _service(task).partials for task in (PS, W0, W1))


def test_the_last_declared_fetch_ends_the_partial_run_and_frees_its_values(target):
    graph = tf.Graph()
    with graph.as_default():
        a, b, c, count, r1, r2, r3, both = _chain()
    with tf.Session(target, graph=graph) as sess:
        sess.run(count.initializer)
        h = sess.partial_run_setup([r1, r2], [a, b])
        sess.partial_run(h, r1, {a: [1.0, 2.0]})
        assert any(_service(task).partials for task in (PS, W0, W1))
        sess.partial_run(h, r2, {b: [1.0, 1.0]})
        deadline = time.monotonic() + 5
        while any(_service(task).partials for task in (PS, W0, W1)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not any(_service(task).partials for task in (PS, W0, W1))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Must run 'setup'"):
            sess.partial_run(h, r1, {a: [1.0, 2.0]})


def test_closing_a_partial_run_frees_its_values(target):
    graph = tf.Graph()
    with graph.as_default():
        a, b, c, count, r1, r2, r3, both = _chain()
    with tf.Session(target, graph=graph) as sess:
        sess.run(count.initializer)
        sess.partial_run_setup([r1, r2], [a, b])
        run = next(iter(sess._engine._partial_runs))
        run.run([r1], [], {a: np.array([1.0, 2.0], np.float32)}, {a}, None)
        assert run.handle in _service(PS).partials
        run.close()
        deadline = time.monotonic() + 5
        while run.handle in _service(PS).partials and time.monotonic() < deadline:
            time.sleep(0.01)
        assert run.handle not in _service(PS).partials


def test_targets_and_variables_across_calls(target):
    def build():
        with tf.device("/job:ps/task:0"):
            x = tf.placeholder(tf.float32, [], name="x")
            w = tf.Variable(1.0, name="w")
            v = tf.Variable(5.0, name="v", use_resource=True)
            set_w = tf.assign(w, x, name="set_w")
        with tf.device("/job:worker/task:1"):
            after = tf.identity(set_w, name="after") * 2.0  # reads set_w's ref: the variable
            read_v = v.read_value() + 1.0
            add_v = v.assign_add(x)
        return x, w, v, set_w, after, read_v, add_v

    def steps(sess, x, w, v, set_w, after, read_v, add_v):
        sess.run([w.initializer, v.initializer])
        h = sess.partial_run_setup([set_w.op, after, read_v, add_v.op], [x])
        out = [sess.partial_run(h, set_w.op, {x: 4.0}), sess.partial_run(h, after)]
        out.append(sess.partial_run(h, read_v))
        out.append(sess.partial_run(h, add_v.op))
        out.append(sess.run([w, v]))
        return out

    local, dist = _both(build, steps, target)
    assert dist[0] is None and local[0] is None
    assert dist[1] == local[1] == 8.0
    assert dist[2] == local[2] == 6.0
    assert dist[4] == local[4] == [4.0, 9.0]


def test_partial_run_errors_are_the_local_engines(target):
    def build():
        with tf.device("/job:ps/task:0"):
            a = tf.placeholder(tf.float32, [], name="a")
            b = tf.placeholder(tf.float32, [], name="b")
            other = tf.placeholder(tf.float32, [], name="other")
        with tf.device("/job:worker/task:1"):
            r1 = tf.add(a, 1.0, name="r1")
            r2 = tf.multiply(r1, b, name="r2")
            extra = tf.negative(a, name="extra")
        return a, b, other, r1, r2, extra

    def steps(sess, a, b, other, r1, r2, extra):
        h = sess.partial_run_setup([r1, r2], [a, b])
        caught = []
        for call in (lambda: sess.partial_run(h, extra, {a: 1.0}),  # not a declared fetch
                     lambda: sess.partial_run(h, r1, {other: 1.0}),  # not a declared feed
                     lambda: sess.partial_run(h, r2, {a: 1.0}),  # b was never fed
                     lambda: sess.partial_run("nonsense", r1, {a: 1.0})):
            with pytest.raises(tf.errors.OpError) as error:
                call()
            caught.append((type(error.value), error.value.message.split(" (")[0]))
        first = sess.partial_run(h, r1, {a: 1.0})
        for call in (lambda: sess.partial_run(h, r1),  # fetched twice
                     lambda: sess.partial_run(h, r2, {a: 2.0})):  # fed twice
            with pytest.raises(tf.errors.OpError) as error:
                call()
            caught.append((type(error.value), error.value.message))
        return caught, first, sess.partial_run(h, r2, {b: 3.0})

    local, dist = _both(build, steps, target)
    assert [cls for cls, _ in dist[0]] == [cls for cls, _ in local[0]]
    assert all(cls is tf.errors.InvalidArgumentError for cls, _ in dist[0])
    for (_, dist_message), (_, local_message) in zip(dist[0][:2] + dist[0][3:], local[0][:2] + local[0][3:]):
        assert dist_message == local_message
    assert "b" in dist[0][2][1]
    assert dist[1:] == local[1:] == (2.0, 6.0)


def test_a_failing_call_names_its_op_and_the_session_stays_usable(target):
    with tf.device("/job:ps/task:0"):
        a = tf.placeholder(tf.float32, [None], name="a")
        r1 = tf.identity(a, name="r1")
    with tf.device("/job:worker/task:1"):
        idx = tf.placeholder(tf.int32, [], name="idx")
        picked = tf.gather(r1, idx, name="picked")
    with tf.Session(target) as sess:
        h = sess.partial_run_setup([r1, picked], [a, idx])
        np.testing.assert_array_equal(sess.partial_run(h, r1, {a: [1.0, 2.0]}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="picked"):
            sess.partial_run(h, picked, {idx: 7})
        h2 = sess.partial_run_setup([r1, picked], [a, idx])
        sess.partial_run(h2, r1, {a: [3.0, 4.0]})
        assert sess.partial_run(h2, picked, {idx: 1}) == 4.0
        assert sess.run(picked, {a: [5.0], idx: 0}) == 5.0


def test_a_partial_run_after_a_worker_restart_is_aborted(target):
    with tf.device("/job:ps/task:0"):
        a = tf.placeholder(tf.float32, [], name="a")
        r1 = tf.add(a, 1.0, name="r1")
    with tf.device("/job:worker/task:1"):
        r2 = tf.multiply(r1, 2.0, name="r2")
    ps = _service(PS)
    with tf.Session(target) as sess:
        h = sess.partial_run_setup([r1, r2], [a])
        sess.partial_run(h, r1, {a: 1.0})
        # A restart of the ps task's worker: a new incarnation, and what it kept is gone.
        ps.incarnation ^= 0x0F0F0F0F0F0F0F0F
        ps.runners.clear()
        ps.partials.clear()
        sess.list_devices()  # the session learns the new incarnation
        with pytest.raises(tf.errors.AbortedError, match="restarted"):
            sess.partial_run(h, r2)
        h2 = sess.partial_run_setup([r2], [a])
        assert sess.partial_run(h2, r2, {a: 2.0}) == 6.0


def test_through_dask_connections_as_between_processes(target, monkeypatch):
    # Workers of this process are normally called directly; without that shortcut every request, reply and
    # kept value goes through Dask's comms, as between processes.
    monkeypatch.setattr(dask_runtime, "_IN_PROCESS", {})

    def steps(sess, a, b, c, count, r1, r2, r3, both):
        sess.run(count.initializer)
        h = sess.partial_run_setup([r1, r2, r3, count], [a, b, c])
        out = [sess.partial_run(h, r2, {a: [1.0, 2.0], b: [3.0, 4.0]})]
        out.append(sess.partial_run(h, [r3, r1], {c: 0.5}))
        out.append(sess.partial_run(h, count))
        return out

    local, dist = _both(_chain, steps, target)
    np.testing.assert_array_equal(dist[0], local[0])
    assert dist[1][0] == local[1][0] == 0.5 * (2.0 + 3.0 + 4.0 + 4.0)
    np.testing.assert_array_equal(dist[1][1], local[1][1])
    assert dist[2] == local[2] == 1


def test_results_are_handed_out_as_session_run_hands_them_out(target):
    def build():
        with tf.device("/job:ps/task:0"):
            a = tf.placeholder(tf.float32, [], name="a")
            r1 = tf.add(a, 1.0, name="r1")
            v1 = tf.stack([r1, r1], name="v1")
        with tf.device("/job:worker/task:1"):
            r2 = tf.add(v1, 1.0, name="r2")
        return a, r1, v1, r2

    def steps(sess, a, r1, v1, r2):
        h = sess.partial_run_setup([a, r1, v1, r2], [a])
        first = sess.partial_run(h, r2, {a: 1.0})
        later = sess.partial_run(h, [a, r1, v1])  # fed, and computed in the first call on ps
        for value in (first, later[2]):
            value += 100.0  # the caller's to change
        return first, later

    local, dist = _both(build, steps, target)
    np.testing.assert_array_equal(dist[0], local[0])
    assert [type(v) for v in dist[1]] == [type(v) for v in local[1]]
    assert dist[1][:2] == local[1][:2] == [np.float32(1.0), np.float32(2.0)]
    np.testing.assert_array_equal(dist[1][2], local[1][2])
