"""Queues (FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue): values against NumPy, TF's op names, static
shapes and errors, and blocking across threads (every waiting run ends: by another run, a close, the session
closing or its deadline). Threads are joined with timeouts so no test can hang."""

import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import data_flow_ops

JOIN_SECONDS = 10


class Runner:
    """Runs `sess.run(fetch)` in a thread and keeps its result or exception."""

    def __init__(self, sess, fetch, feed_dict=None, options=None) -> None:
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, args=(sess, fetch, feed_dict, options), daemon=True)
        self.thread.start()

    def _run(self, sess, fetch, feed_dict, options) -> None:
        try:
            self.result = sess.run(fetch, feed_dict, options=options)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            self.error = e

    def join(self):
        self.thread.join(JOIN_SECONDS)
        assert not self.thread.is_alive(), "the run did not end"
        return self

    def blocked(self, seconds: float = 0.2) -> bool:
        self.thread.join(seconds)
        return self.thread.is_alive()


# ----------------------------------------------------------------------------------------------------------
# Graph construction: TF's names, shapes and build-time errors
# ----------------------------------------------------------------------------------------------------------
def test_fifo_queue_op_names_and_static_shapes_match_tf():
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[2]])
    assert q.queue_ref.dtype == tf.resource and q.queue_ref.op.type == "FIFOQueueV2"
    assert q.name == "fifo_queue" and q.dtypes == [tf.float32] and q.names is None
    assert q.shapes == [tf.TensorShape([2])]
    assert q.enqueue([[1.0, 2.0]]).name == "fifo_queue_enqueue"
    assert q.enqueue([[1.0, 2.0]]).inputs[1].name == "fifo_queue_enqueue_1/component_0:0"
    assert q.enqueue_many([[[1.0, 2.0]]]).name == "fifo_queue_EnqueueMany"
    d, dm, du = q.dequeue(), q.dequeue_many(2), q.dequeue_up_to(2)
    assert (d.name, dm.name, du.name) == (
        "fifo_queue_Dequeue:0", "fifo_queue_DequeueMany:0", "fifo_queue_DequeueUpTo:0")
    assert d.shape.as_list() == [2] and dm.shape.as_list() == [2, 2] and du.shape.as_list() == [None, 2]
    assert q.close().name == "fifo_queue_Close" and q.close(True).name == "fifo_queue_Close_1"
    assert q.size().name == "fifo_queue_Size:0" and q.is_closed().name == "fifo_queue_Is_Closed:0"
    assert q.enqueue([[1.0, 2.0]]).get_attr("timeout_ms") == -1


def test_queue_attrs_as_tf_records_them():
    q = tf.RandomShuffleQueue(10, 2, [tf.int32], shapes=[[]], seed=3)
    op = q.queue_ref.op
    assert op.type == "RandomShuffleQueueV2" and op.name == "random_shuffle_queue"
    assert op.get_attr("capacity") == 10 and op.get_attr("min_after_dequeue") == 2
    # No graph seed: TF's default graph seed stands in, the op seed is seed2.
    assert (op.get_attr("seed"), op.get_attr("seed2")) == (87654321, 3)
    assert op.get_attr("component_types") == [tf.int32] and op.get_attr("shared_name") in ("", b"")
    p = tf.PaddingFIFOQueue(10, [tf.int32, tf.string], shapes=[[None], [None, 2]])
    assert p.queue_ref.op.type == "PaddingFIFOQueueV2"
    dm = p.dequeue_many(2)
    assert dm[0].shape.as_list() == [2, None] and dm[1].shape.as_list() == [2, None, 2]
    assert p.dequeue()[1].shape.as_list() == [None, 2]


def test_single_component_queue_takes_and_returns_bare_tensors():
    q = tf.FIFOQueue(5, tf.float32)
    assert q.dtypes == [tf.float32] and q.shapes[0].ndims is None
    assert isinstance(q.dequeue(), tf.Tensor)
    assert q.enqueue(1.0).type == "QueueEnqueueV2"


def test_shapes_given_as_one_bare_shape():
    assert tf.FIFOQueue(5, tf.int32, shapes=[2, 3]).shapes == [tf.TensorShape([2, 3])]
    with pytest.raises(ValueError, match="same length as dtypes"):
        tf.FIFOQueue(5, [tf.int32, tf.int32], shapes=[2, 3])


def test_build_time_errors_match_tf():
    with pytest.raises(ValueError, match="All shapes must be fully defined"):
        tf.FIFOQueue(5, [tf.int32], shapes=[[None]])
    with pytest.raises(ValueError, match="List of names must have the same length"):
        tf.FIFOQueue(5, [tf.int32], names=["a", "b"])
    with pytest.raises(TypeError):
        tf.PaddingFIFOQueue(10, [tf.int32])  # shapes are required
    with pytest.raises(ValueError, match="Shapes must be provided for all components"):
        tf.PaddingFIFOQueue(10, [tf.int32, tf.int32], shapes=[[None]])
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[2]])
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible"):
        q.enqueue([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError):
        q.enqueue(["a"])
    with pytest.raises(ValueError, match="Dimensions 2 and 3 are not compatible"):
        tf.FIFOQueue(10, [tf.float32, tf.int32]).enqueue_many([[1.0, 2.0], [1, 2, 3]])
    with pytest.raises(ValueError, match="must have rank at least 1"):
        tf.FIFOQueue(10, [tf.int32], shapes=[[]]).enqueue_many([5])
    with pytest.raises(ValueError, match="must be >= 0"):
        tf.FIFOQueue(10, [tf.int32], shapes=[[]]).dequeue_many(-1)


def test_named_components_are_dicts():
    q = tf.FIFOQueue(5, [tf.int32, tf.float32], names=["a", "b"], shapes=[[], []])
    assert q.names == ["a", "b"]
    d = q.dequeue()
    assert sorted(d) == ["a", "b"] and d["a"].dtype == tf.int32 and d["b"].dtype == tf.float32
    with pytest.raises(ValueError, match="You must enqueue a dictionary in a Queue with names"):
        q.enqueue((1, 2.0))
    with pytest.raises(ValueError, match="Keys in dictionary to enqueue do not match names of Queue"):
        q.enqueue({"a": 1})
    with pytest.raises(ValueError, match="Queue must have names to enqueue a dictionary"):
        tf.FIFOQueue(5, [tf.int32]).enqueue({"a": 1})
    with tf.Session() as sess:
        sess.run(q.enqueue_many({"a": [1, 2], "b": [3.0, 4.0]}))
        out = sess.run(q.dequeue_many(2))
    np.testing.assert_array_equal(out["a"], [1, 2])
    np.testing.assert_array_equal(out["b"], np.float32([3, 4]))
    assert out["b"].dtype == np.float32


# ----------------------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------------------
def test_fifo_order_and_batches(sess):
    q = tf.FIFOQueue(10, [tf.int32, tf.float32], shapes=[[], [2]])
    x = np.arange(6, dtype=np.int32)
    y = np.arange(12, dtype=np.float32).reshape(6, 2)
    sess.run(q.enqueue_many([x, y]))
    sess.run(q.enqueue([np.int32(6), np.float32([12, 13])]))
    assert sess.run(q.size()) == 7
    a, b = sess.run(q.dequeue())
    assert a == 0 and a.dtype == np.int32
    np.testing.assert_array_equal(b, y[0])
    a, b = sess.run(q.dequeue_many(4))
    np.testing.assert_array_equal(a, x[1:5])
    np.testing.assert_array_equal(b, y[1:5])
    assert b.dtype == np.float32 and b.shape == (4, 2)
    a, b = sess.run(q.dequeue_many(0))
    assert a.shape == (0,) and b.shape == (0, 2) and b.dtype == np.float32
    sess.run(q.close())
    assert sess.run(q.is_closed())
    a, b = sess.run(q.dequeue_up_to(5))
    np.testing.assert_array_equal(a, [5, 6])
    np.testing.assert_array_equal(b, [[10, 11], [12, 13]])


def test_closed_queue_errors_match_tf(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[2]])
    sess.run(q.enqueue([[1.0, 2.0]]))
    sess.run(q.close())
    with pytest.raises(tf.errors.CancelledError, match=r"FIFOQueue '_\d+_fifo_queue' is closed\."):
        sess.run(q.enqueue([[1.0, 2.0]]))
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"is closed and has insufficient elements \(requested 2, current size 1\)"):
        sess.run(q.dequeue_many(2))
    # The failed dequeue_many put its element back: dequeue_up_to returns it, then the queue is exhausted.
    np.testing.assert_array_equal(sess.run(q.dequeue_up_to(2)), [[1.0, 2.0]])
    with pytest.raises(tf.errors.OutOfRangeError, match=r"\(requested 2, current size 0\)"):
        sess.run(q.dequeue_up_to(2))
    with pytest.raises(tf.errors.OutOfRangeError, match=r"\(requested 1, current size 0\)") as info:
        sess.run(q.dequeue())
    assert info.value.op.name == "fifo_queue_Dequeue"
    assert sess.run(q.size()) == 0  # the session stays usable


def test_run_time_shape_and_batch_errors_match_tf(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[2]])
    ph = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Shape mismatch in tuple component 0\. Expected \[2\], got \[3\]"):
        sess.run(q.enqueue([ph]), {ph: [1.0, 2.0, 3.0]})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected \[1,2\], got \[1,3\]"):
        sess.run(q.enqueue_many([ph]), {ph: [[1.0, 2.0, 3.0]]})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected \[2,2\], got \[2\]"):
        sess.run(q.enqueue_many([ph]), {ph: [1.0, 2.0]})
    q2 = tf.FIFOQueue(10, [tf.float32, tf.int32])
    p2 = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="All input tensors must have the same size in the 0th "
                       "dimension. Component 1 has 3, and should have 2"):
        sess.run(q2.enqueue_many([[1.0, 2.0], p2]), {p2: [1, 2, 3]})
    sess.run(q2.enqueue_many([[1.0, 2.0], [[1], [2]]]))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="FIFOQueue's DequeueMany and DequeueUpTo require the components to have specified shapes"):
        sess.run(q2.dequeue_many(2))
    a, b = sess.run(q2.dequeue())  # unknown shapes are fine one element at a time
    assert a == 1.0 and b.tolist() == [1]
    q3 = tf.FIFOQueue(5, [tf.int32])
    p3 = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least one dimension"):
        sess.run(q3.enqueue_many([p3]), {p3: 5})


def test_enqueued_values_are_the_queues_own(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[3]])
    v = tf.Variable([1.0, 2.0, 3.0])
    ph = tf.placeholder(tf.float32, [3])
    sess.run(v.initializer)
    sess.run(q.enqueue([v]))
    fed = np.float32([4, 5, 6])
    sess.run(q.enqueue([ph]), {ph: fed})
    sess.run(v.assign([7.0, 8.0, 9.0]))
    fed[:] = 0
    np.testing.assert_array_equal(sess.run(q.dequeue()), [1, 2, 3])
    np.testing.assert_array_equal(sess.run(q.dequeue()), [4, 5, 6])
    np.testing.assert_array_equal(fed, [0, 0, 0])


def test_padding_fifo_queue_pads_with_zeros_and_empty_strings(sess):
    q = tf.PaddingFIFOQueue(10, [tf.int32, tf.string], shapes=[[None], [None, 2]])
    a, b = tf.placeholder(tf.int32), tf.placeholder(tf.string)
    enq = q.enqueue([a, b])
    sess.run(enq, {a: [1], b: [["x", "y"]]})
    sess.run(enq, {a: [1, 2, 3], b: [["x", "y"], ["z", "w"]]})
    ints, strs = sess.run(q.dequeue_many(2))
    np.testing.assert_array_equal(ints, [[1, 0, 0], [1, 2, 3]])
    assert ints.dtype == np.int32
    assert strs.tolist() == [[[b"x", b"y"], [b"", b""]], [[b"x", b"y"], [b"z", b"w"]]]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected \[\?\], got \[1,1\]"):
        sess.run(enq, {a: [[1]], b: [["x", "y"]]})
    sess.run(q.enqueue_many([a, b]), {a: [[1, 2], [3, 4]], b: [[["x", "y"]], [["z", "w"]]]})
    ints, strs = sess.run(q.dequeue_many(2))
    np.testing.assert_array_equal(ints, [[1, 2], [3, 4]])
    assert strs.shape == (2, 1, 2)
    ints, strs = sess.run(q.dequeue_many(0))
    assert ints.shape == (0, 0) and strs.shape == (0, 0, 2)


def _drain(sess, q, n):
    return [sess.run(q.dequeue()) for _ in range(n)]


def test_random_shuffle_queue_dequeues_a_permutation(sess):
    q = tf.RandomShuffleQueue(100, 0, [tf.int32], shapes=[[]], seed=7)
    sess.run(q.enqueue_many([np.arange(50, dtype=np.int32)]))
    out = _drain(sess, q, 20) + list(sess.run(q.dequeue_many(30)))
    assert sorted(out) == list(range(50))
    assert out != list(range(50))


def test_random_shuffle_queue_with_an_op_seed_repeats_across_sessions():
    q = tf.RandomShuffleQueue(100, 0, [tf.int32], shapes=[[]], seed=11)
    enq = q.enqueue_many([np.arange(40, dtype=np.int32)])
    batch = q.dequeue_many(40)
    runs = []
    for _ in range(2):
        with tf.Session() as sess:
            sess.run(enq)
            runs.append(sess.run(batch).tolist())
    assert runs[0] == runs[1] and sorted(runs[0]) == list(range(40))


def test_random_shuffle_queue_keeps_min_after_dequeue_until_closed(sess):
    q = tf.RandomShuffleQueue(10, 3, [tf.int32], shapes=[[]])
    sess.run(q.enqueue_many([np.arange(5, dtype=np.int32)]))
    taken = list(sess.run(q.dequeue_many(2)))
    assert sess.run(q.size()) == 3
    # A third dequeue would leave fewer than min_after_dequeue: it waits (here until its deadline).
    with pytest.raises(tf.errors.DeadlineExceededError):
        sess.run(q.dequeue(), options=tf.RunOptions(timeout_in_ms=150))
    assert sess.run(q.size()) == 3
    sess.run(q.close())
    taken += list(sess.run(q.dequeue_many(2)))
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"RandomShuffleQueue '_\d+_random_shuffle_queue' is closed and has insufficient "
                             r"elements \(requested 2, current size 1\)"):
        sess.run(q.dequeue_many(2))
    taken += list(sess.run(q.dequeue_up_to(2)))
    assert sorted(taken) == [0, 1, 2, 3, 4]


def test_random_shuffle_queue_min_after_dequeue_must_be_below_capacity(sess):
    q = tf.RandomShuffleQueue(2, 5, [tf.int32])
    with pytest.raises(tf.errors.InvalidArgumentError, match="min_after_dequeue 5 must be < capacity 2"):
        sess.run(q.size())


def test_shared_queues_share_state_and_check_their_declarations(sess):
    q1 = tf.FIFOQueue(5, [tf.int32], shared_name="shq", name="a1")
    q2 = tf.FIFOQueue(5, [tf.int32], shared_name="shq", name="a2")
    sess.run(q1.enqueue([7]))
    assert sess.run(q2.size()) == 1 and sess.run(q2.dequeue()) == 7
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Shared queue 'shq' has capacity 5 but requested capacity was 6"):
        sess.run(tf.FIFOQueue(6, [tf.int32], shared_name="shq", name="a3").size())
    with pytest.raises(tf.errors.InvalidArgumentError, match="Shared queue 'shq' has component types int32 but "
                       "requested component types were float"):
        sess.run(tf.FIFOQueue(5, [tf.float32], shared_name="shq", name="a4").size())


def test_two_sessions_have_separate_queues():
    q = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    enq = q.enqueue([1])
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(enq)
        s1.run(enq)
        assert s1.run(q.size()) == 2 and s2.run(q.size()) == 0
        s2.run(q.close())
        assert s1.run(q.is_closed()) == np.False_ and s2.run(q.is_closed()) == np.True_


def test_from_list_selects_a_queue_at_run_time(sess):
    q1 = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    q2 = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    i = tf.placeholder(tf.int32, [])
    q = tf.QueueBase.from_list(i, [q1, q2])
    assert q.dtypes == [tf.int32] and q.shapes == [tf.TensorShape([])]
    sess.run(q.enqueue([3]), {i: 1})
    assert sess.run([q1.size(), q2.size()]) == [0, 1]
    assert sess.run(q.dequeue(), {i: 1}) == 3
    with pytest.raises(TypeError, match="Queues do not have matching component dtypes"):
        tf.QueueBase.from_list(0, [q1, tf.FIFOQueue(5, [tf.float32])])


def test_queue_namespace():
    assert tf.queue.FIFOQueue is tf.FIFOQueue is data_flow_ops.FIFOQueue
    assert tf.queue.RandomShuffleQueue is tf.RandomShuffleQueue
    assert tf.queue.PaddingFIFOQueue is tf.PaddingFIFOQueue and tf.queue.QueueBase is tf.QueueBase


def test_queue_graph_survives_graph_def_round_trip():
    q = tf.FIFOQueue(5, [tf.int32], shapes=[[2]], name="q")
    q.enqueue_many([[[1, 2], [3, 4]]], name="fill")
    q.dequeue_many(2, name="take")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=g) as sess:
            sess.run("fill")
            np.testing.assert_array_equal(sess.run("take:0"), [[1, 2], [3, 4]])
            assert g.get_tensor_by_name("take:0").shape.as_list() == [2, 2]


# ----------------------------------------------------------------------------------------------------------
# Blocking across threads
# ----------------------------------------------------------------------------------------------------------
def test_dequeue_waits_for_an_enqueue_in_another_run(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[]])
    waiting = Runner(sess, q.dequeue())
    assert waiting.blocked()
    sess.run(q.enqueue([5.0]))
    assert waiting.join().result == 5.0 and waiting.error is None


def test_enqueue_waits_for_room(sess):
    q = tf.FIFOQueue(2, [tf.int32], shapes=[[]])
    sess.run(q.enqueue_many([[1, 2]]))
    waiting = Runner(sess, q.enqueue([3]))
    assert waiting.blocked()
    assert sess.run(q.dequeue()) == 1
    waiting.join()
    assert waiting.error is None
    assert sess.run(q.dequeue_many(2)).tolist() == [2, 3]


def test_dequeue_many_larger_than_capacity_takes_elements_as_they_come(sess):
    q = tf.FIFOQueue(2, [tf.int32], shapes=[[]])
    waiting = Runner(sess, q.dequeue_many(5))
    for i in range(5):
        sess.run(q.enqueue([i]))
    assert waiting.join().result.tolist() == [0, 1, 2, 3, 4]


def test_close_wakes_a_waiting_dequeue_with_out_of_range(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[]])
    waiting = Runner(sess, q.dequeue())
    assert waiting.blocked()
    sess.run(q.close())
    assert isinstance(waiting.join().error, tf.errors.OutOfRangeError)


def test_dequeue_up_to_on_close_returns_the_partial_batch(sess):
    q = tf.FIFOQueue(10, [tf.int32], shapes=[[]])
    waiting = Runner(sess, q.dequeue_up_to(4))
    sess.run(q.enqueue_many([[1, 2]]))
    assert waiting.blocked()
    sess.run(q.close())
    assert waiting.join().result.tolist() == [1, 2]


def test_close_without_cancel_lets_a_pending_enqueue_finish(sess):
    q = tf.FIFOQueue(1, [tf.float32], shapes=[[]])
    sess.run(q.enqueue([1.0]))
    pending = Runner(sess, q.enqueue([2.0]))
    assert pending.blocked()
    sess.run(q.close())
    assert pending.blocked(0.1)
    assert sess.run(q.dequeue()) == 1.0
    assert pending.join().error is None
    assert sess.run(q.dequeue()) == 2.0


def test_close_with_cancel_pending_enqueues(sess):
    q = tf.FIFOQueue(1, [tf.float32], shapes=[[]])
    sess.run(q.enqueue([1.0]))
    pending = Runner(sess, q.enqueue([2.0]))
    assert pending.blocked()
    sess.run(q.close(cancel_pending_enqueues=True))
    error = pending.join().error
    assert isinstance(error, tf.errors.CancelledError) and "Enqueue operation was cancelled" in str(error)
    assert sess.run(q.dequeue()) == 1.0


def test_closing_the_session_cancels_waiting_runs():
    q = tf.FIFOQueue(1, [tf.float32], shapes=[[]])
    sess = tf.Session()
    sess.run(q.enqueue([1.0]))
    blocked_enqueue = Runner(sess, q.enqueue([2.0]))
    other = tf.FIFOQueue(1, [tf.float32], shapes=[[]])
    blocked_dequeue = Runner(sess, other.dequeue())
    assert blocked_enqueue.blocked() and blocked_dequeue.blocked(0.05)
    sess.close()
    enqueue_error, dequeue_error = blocked_enqueue.join().error, blocked_dequeue.join().error
    assert isinstance(enqueue_error, tf.errors.CancelledError)
    assert "Enqueue operation was cancelled" in str(enqueue_error)
    assert isinstance(dequeue_error, tf.errors.CancelledError)
    assert "Dequeue operation was cancelled" in str(dequeue_error)


def test_a_waiting_dequeue_honours_the_run_deadline_and_the_session_stays_usable(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[]])
    start = time.perf_counter()
    with pytest.raises(tf.errors.DeadlineExceededError) as info:
        sess.run(q.dequeue(), options=tf.RunOptions(timeout_in_ms=100))
    assert time.perf_counter() - start < 2
    assert info.value.op.name == "fifo_queue_Dequeue"
    sess.run(q.enqueue([4.0]))
    assert sess.run(q.dequeue()) == 4.0


def test_a_waiting_enqueue_honours_the_session_operation_timeout():
    q = tf.FIFOQueue(1, [tf.float32], shapes=[[]])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=100)) as sess:
        sess.run(q.enqueue([1.0]))
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(q.enqueue([2.0]))
        assert sess.run(q.size()) == 1


def test_many_producers_and_consumers_deliver_each_element_once(sess):
    q = tf.FIFOQueue(4, [tf.int32], shapes=[[]])
    ph = tf.placeholder(tf.int32, [None])
    enq = q.enqueue_many([ph])
    deq = q.dequeue_many(5)
    producers = [Runner(sess, enq, {ph: np.arange(k * 10, k * 10 + 10, dtype=np.int32)}) for k in range(3)]
    consumers = [Runner(sess, deq) for _ in range(6)]
    got = []
    for r in producers + consumers:
        r.join()
        assert r.error is None
    for r in consumers:
        got.extend(r.result.tolist())
    assert sorted(got) == list(range(30))


# ----------------------------------------------------------------------------------------------------------
# PriorityQueue
# ----------------------------------------------------------------------------------------------------------
def test_priority_queue_names_shapes_and_attrs_match_tf():
    q = tf.PriorityQueue(10, [tf.string], shapes=[[]])
    assert q.dtypes == [tf.int64, tf.string] and q.shapes == [tf.TensorShape([]), tf.TensorShape([])]
    op = q.queue_ref.op
    assert (op.name, op.type) == ("priority_queue", "PriorityQueueV2")
    assert op.get_attr("component_types") == [tf.string] and len(op.get_attr("shapes")) == 1
    p, v = q.dequeue_many(2)
    assert (p.name, p.shape.as_list(), v.shape.as_list()) == ("priority_queue_DequeueMany:0", [2], [2])
    assert q.enqueue((1, "a")).name == "priority_queue_enqueue"
    assert tf.queue.PriorityQueue is tf.PriorityQueue
    with pytest.raises(TypeError, match="Expected list for 'shapes'"):
        tf.PriorityQueue(10, [tf.string])
    with pytest.raises(ValueError, match="All shapes must be fully defined"):
        tf.PriorityQueue(10, [tf.string], shapes=[None])


def test_priority_queue_dequeues_lowest_priority_first(sess):
    q = tf.PriorityQueue(10, [tf.string], shapes=[[]])
    sess.run(q.enqueue_many(([5, 1, 3, 1], ["e", "a", "c", "a2"])))
    priorities, values = sess.run(q.dequeue_many(3))
    assert priorities.tolist() == [1, 1, 3] and priorities.dtype == np.int64
    assert values.tolist() == [b"a", b"a2", b"c"]
    assert sess.run(q.dequeue()) == [5, b"e"]
    p = tf.placeholder(tf.int64)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected \[\], got \[2\]"):
        sess.run(q.enqueue((p, "a")), {p: [1, 2]})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected \[2\], got \[2,1\]"):
        sess.run(q.enqueue_many((p, ["a", "b"])), {p: [[1], [2]]})
    sess.run(q.close())
    with pytest.raises(tf.errors.OutOfRangeError, match=r"PriorityQueue '_\d+_priority_queue' is closed and has "
                       r"insufficient elements \(requested 1, current size 0\)"):
        sess.run(q.dequeue())


def test_priority_queue_random_priorities_against_numpy(sess):
    rng = np.random.RandomState(3)
    priorities = rng.randint(0, 1000, size=50).astype(np.int64)
    values = rng.randn(50, 2).astype(np.float32)
    q = tf.PriorityQueue(64, [tf.float32], shapes=[[2]])
    sess.run(q.enqueue_many((priorities, values)))
    got_p, got_v = sess.run(q.dequeue_many(50))
    order = np.argsort(priorities, kind="stable")
    np.testing.assert_array_equal(got_p, priorities[order])
    np.testing.assert_array_equal(got_v, values[order])
