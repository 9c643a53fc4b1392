"""Distributed engine behaviour checked against TensorFlow 1.15: a step blocked on a task whose partition is
cancelled (Session.reset closing its queue) ends with CancelledError instead of waiting for ever on the other
tasks, a fed variable is read as its fed value, and deadline and partial-run errors start with TF's wording."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime, engine

PS = "/job:ps/task:0"
W0 = "/job:worker/task:0"
W1 = "/job:worker/task:1"


@pytest.fixture(scope="module", autouse=True)
def _no_leaked_threads():
    """Every thread this module's servers and sessions start is gone once they are stopped and closed."""
    before = set(threading.enumerate())
    yield
    dask_runtime.shutdown()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and set(threading.enumerate()) - before:
        time.sleep(0.05)
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def _run_in_thread(fn):
    """Starts `fn` in a daemon thread; returns the thread and a box that gets its result or error."""
    box: dict = {}

    def body():
        try:
            box["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - the error is what the test checks
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, box


def test_reset_while_a_step_waits_on_a_ps_queue_cancels_the_step(target):
    """The ps partition ends with CancelledError (its queue was closed by the reset); the worker partition,
    waiting on a recv from the ps, is aborted and the step raises CancelledError, as TF does."""
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(3, tf.float32, shapes=[], shared_name="q")
        with tf.device(W0):
            deq = q.dequeue() + 1.0
        with tf.Session(target, graph=g) as sess:
            assert sess.run(q.size()) == 0
            thread, box = _run_in_thread(lambda: sess.run(deq))
            time.sleep(0.5)
            tf.Session.reset(target)
            thread.join(20)
            assert not thread.is_alive(), "the step still waits after the reset"
            assert isinstance(box.get("error"), tf.errors.CancelledError), box
            # The session stays usable: the reset queue is made again and works.
            sess.run(q.enqueue(2.0))
            assert sess.run(deq) == 3.0


def test_a_cancelled_partition_on_a_worker_aborts_a_recv_waiting_on_it(target):
    """The same with the roles swapped: the queue (and the cancelled partition) on a worker, the recv
    waiting on it on the ps, a third task also in the step."""
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            q = tf.FIFOQueue(3, tf.float32, shapes=[], shared_name="q1")
            item = q.dequeue()
        with tf.device(PS):
            total = item * 2.0
        with tf.device(W0):
            out = total + tf.constant(1.0)
        with tf.Session(target, graph=g) as sess:
            sess.run(q.size())
            thread, box = _run_in_thread(lambda: sess.run(out))
            time.sleep(0.5)
            tf.Session.reset(target)
            thread.join(20)
            assert not thread.is_alive(), "the step still waits after the reset"
            assert isinstance(box.get("error"), tf.errors.CancelledError), box


def test_a_real_error_is_reported_before_a_cancellation_of_the_same_step(target):
    """A step failing on one task while another's partition is cancelled still reports the failure when both
    arrive together; the session stays usable."""
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            x = tf.placeholder(tf.float32, [None])
            bad = tf.debugging.check_numerics(x, "bad input")
        with tf.device(W0):
            out = bad * 2.0
        with tf.Session(target, graph=g) as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="bad input"):
                sess.run(out, {x: [np.nan]})
            np.testing.assert_array_equal(sess.run(out, {x: [1.0]}), [2.0])


def test_feeding_a_ps_variable_reads_the_fed_value(target):
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0])
        with tf.device(W0):
            y = v * 3.0
        with tf.Session(target, graph=g) as sess:
            np.testing.assert_array_equal(sess.run(y, {v: [10.0, 20.0]}), [30.0, 60.0])
            # Fetching the fed variable gives the fed value; the variable itself is untouched.
            np.testing.assert_array_equal(sess.run(v, {v: [5.0, 6.0]}), [5.0, 6.0])
            with pytest.raises(tf.errors.FailedPreconditionError):
                sess.run(y)
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run([y, v * 1.0], {v: [1.0, 1.0]}), [[3.0, 3.0], [1.0, 1.0]])
            np.testing.assert_array_equal(sess.run(y), [3.0, 6.0])


def test_feeding_a_variable_in_a_partial_run(target):
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0])
            a = tf.placeholder(tf.float32, [2])
            r1 = a * v
        with tf.device(W0):
            r2 = r1 + v
        with tf.Session(target, graph=g) as sess:
            h = sess.partial_run_setup([r1, r2], [a, v])
            np.testing.assert_array_equal(sess.partial_run(h, r1, {a: [1.0, 2.0], v: [3.0, 4.0]}), [3.0, 8.0])
            np.testing.assert_array_equal(sess.partial_run(h, r2), [6.0, 12.0])


def test_a_run_past_its_deadline_says_operation_timed_out(target):
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(3, tf.float32, shapes=[])
        with tf.device(W0):
            deq = q.dequeue() * 2.0
        with tf.Session(target, graph=g) as sess:
            with pytest.raises(tf.errors.DeadlineExceededError) as info:
                sess.run(deq, options=tf.RunOptions(timeout_in_ms=300))
            assert info.value.message.startswith("Operation timed out.")
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            q = tf.FIFOQueue(3, tf.float32, shapes=[])
            deq = q.dequeue()
        with tf.Session(target, graph=g, config=tf.ConfigProto(operation_timeout_in_ms=300)) as sess:
            with pytest.raises(tf.errors.DeadlineExceededError) as info:
                sess.run(deq)
            assert info.value.message.startswith("Operation timed out.")
            assert sess.run(tf.constant(1.0) + 1.0) == 2.0


def _partial_graph():
    with tf.device(PS):
        a = tf.placeholder(tf.float32, [], name="a")
        r1 = tf.multiply(a, 2.0, name="r1")
    with tf.device(W1):
        b = tf.placeholder(tf.float32, [], name="b")
        r2 = tf.add(r1, b, name="r2")
    return a, b, r1, r2


@pytest.mark.parametrize("distributed", [False, True])
def test_a_partial_run_missing_a_feed_names_the_unfed_feed_as_tf_does(target, distributed):
    """TF checks a partial run's fetches before running: the message names the declared feed not fed yet
    (recorded from TensorFlow: "Fetch b:0 can't be computed from the feeds that have been fed so far.")."""
    g = tf.Graph()
    with g.as_default():
        a, b, r1, r2 = _partial_graph()
        r3 = tf.identity(r2, name="r3")
        with tf.Session(target if distributed else "", graph=g) as sess:
            message = "Fetch b:0 can't be computed from the feeds that have been fed so far."
            h = sess.partial_run_setup([r3], [a, b])
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.partial_run(h, r3, {a: 1.0})
            assert info.value.message == message
            # Nothing ran and nothing was fed: the partial run goes on.
            assert sess.partial_run(h, r3, {a: 1.0, b: 3.0}) == 5.0
            h = sess.partial_run_setup([r1, r2], [a, b])
            with pytest.raises(tf.errors.InvalidArgumentError, match="Fetch a:0 can't be computed"):
                sess.partial_run(h, r1)
            assert sess.partial_run(h, r1, {a: 1.0}) == 2.0
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.partial_run(h, r2)
            assert info.value.message == message
            assert sess.partial_run(h, r2, {b: 1.0}) == 3.0


def test_closing_the_session_ends_a_step_waiting_for_a_send_to_be_acknowledged(target, monkeypatch):
    """A task whose tensor reached its peer but was never acknowledged (a peer that stopped answering) keeps
    its step open; cancelling the step (here: closing the session) ends it there too, and the step raises
    CancelledError instead of waiting for ever."""
    ps = next(s for s in dask_runtime._IN_PROCESS.values() if s.task == "/job:ps/replica:0/task:0")
    original = ps._remote_put
    never = concurrent.futures.Future()

    def delivered_but_never_acknowledged(step_id, task, key, value):
        original(step_id, task, key, value)
        return task, never

    monkeypatch.setattr(ps, "_remote_put", delivered_but_never_acknowledged)
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            x = tf.constant([1.0, 2.0]) * 2.0
        with tf.device(W0):
            y = x + 1.0
        sess = tf.Session(target, graph=g)
        thread, box = _run_in_thread(lambda: sess.run(y))
        time.sleep(1.0)
        assert thread.is_alive()
        sess.close()
        thread.join(20)
        assert not thread.is_alive(), "the step still waits after the session closed"
        assert isinstance(box.get("error"), tf.errors.CancelledError), box


def test_a_partition_is_imported_without_colocation_groups_naming_nodes_it_does_not_hold():
    gd = tf.GraphDef()
    read = gd.node.add(name="v/read", op="Identity")
    read.attr["_class"].list.s.extend([b"loc:@v", b"loc:@v/read"])
    other = gd.node.add(name="w/read", op="Identity")
    other.attr["_class"].list.s.append(b"loc:@w")
    gd.node.add(name="v/read/peer", op="Identity").attr["_class"].list.s.append(b"loc:@v/read")
    before = gd.SerializeToString()
    out = engine._importable(gd)
    assert list(out.node[0].attr["_class"].list.s) == [b"loc:@v/read"]
    assert "_class" not in out.node[1].attr
    assert list(out.node[2].attr["_class"].list.s) == [b"loc:@v/read"]
    assert gd.SerializeToString() == before  # what partition_graphs reports keeps TF's attrs
    kept = tf.GraphDef()
    kept.node.add(name="v/read", op="Identity").attr["_class"].list.s.append(b"loc:@v/read")
    assert engine._importable(kept) is kept
