"""tf.train.QueueRunner, add_queue_runner and start_queue_runners: threads fill queues, close them when their
input runs out, report errors to a coordinator, and all end when a stop is requested or the session closes
under them. Every thread is joined with a timeout."""

import threading

import numpy as np
import pytest

import tfmini as tf

JOIN_SECONDS = 10


def _all_ended(threads) -> bool:
    for t in threads:
        t.join(JOIN_SECONDS)
    return not any(t.is_alive() for t in threads)


def _source_queue(sess, values):
    """A closed queue holding `values`: dequeuing past them is OutOfRangeError, the end of an input."""
    src = tf.FIFOQueue(len(values) + 1, [tf.int32], shapes=[[]])
    sess.run(src.enqueue_many([np.asarray(values, np.int32)]))
    sess.run(src.close())
    return src


def test_queue_runner_properties_and_default_ops():
    q = tf.FIFOQueue(10, [tf.float32], shapes=[[]])
    enq = q.enqueue([1.0])
    qr = tf.train.QueueRunner(q, [enq])
    assert qr.queue is q and qr.enqueue_ops == [enq] and qr.name == "fifo_queue"
    assert qr.close_op.name == "fifo_queue_Close" and qr.cancel_op.name == "fifo_queue_Close_1"
    assert qr.cancel_op.get_attr("cancel_pending_enqueues") is True
    assert qr.queue_closed_exception_types == (tf.errors.OutOfRangeError,)
    assert qr.exceptions_raised == []
    assert tf.train.queue_runner.QueueRunner is tf.train.QueueRunner
    assert tf.train.queue_runner.start_queue_runners is tf.train.start_queue_runners
    with pytest.raises(ValueError, match="Must provide queue and enqueue_ops"):
        tf.train.QueueRunner(q, [])
    with pytest.raises(TypeError, match="must be a tuple of tf.error types"):
        tf.train.QueueRunner(q, [enq], queue_closed_exception_types=(ValueError,))


def test_add_queue_runner_uses_the_collection():
    q = tf.FIFOQueue(10, [tf.float32], shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue([1.0])])
    tf.train.add_queue_runner(qr)
    tf.train.add_queue_runner(qr, collection="mine")
    assert tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS) == [qr] and tf.get_collection("mine") == [qr]


def test_runner_fills_the_queue_until_a_stop_is_requested(sess):
    q = tf.FIFOQueue(4, [tf.float32], shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue([1.0])] * 2)
    coord = tf.train.Coordinator()
    threads = qr.create_threads(sess, coord=coord, start=True)
    assert len(threads) == 3  # one per enqueue op and the canceller
    assert {t.name for t in threads} >= {"QueueRunnerThread-fifo_queue-close_on_stop"}
    assert qr.create_threads(sess, coord=coord) == []  # already running in this session
    np.testing.assert_array_equal(sess.run(q.dequeue_many(6)), np.ones(6, np.float32))
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=JOIN_SECONDS)
    assert _all_ended(threads)
    assert sess.run(q.is_closed())  # the canceller closed it


def test_exhausted_input_closes_the_queue_after_the_last_thread(sess):
    src = _source_queue(sess, range(7))
    q = tf.FIFOQueue(3, [tf.int32], shapes=[[]])
    enq = q.enqueue([src.dequeue()])
    qr = tf.train.QueueRunner(q, [enq, enq])
    threads = qr.create_threads(sess, start=True)
    got = []
    with pytest.raises(tf.errors.OutOfRangeError):
        while True:
            got.append(sess.run(q.dequeue()))
    assert sorted(got) == list(range(7))
    assert _all_ended(threads) and qr.exceptions_raised == []
    assert sess.run(q.is_closed())


def test_errors_are_reported_to_the_coordinator(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    qr = tf.train.QueueRunner(q, [q.enqueue([x])])
    coord = tf.train.Coordinator()
    threads = qr.create_threads(sess, coord=coord, start=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="placeholder"):
        coord.join(threads, stop_grace_period_secs=JOIN_SECONDS)
    assert _all_ended(threads)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_errors_without_a_coordinator_are_kept(sess):
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    qr = tf.train.QueueRunner(q, [q.enqueue([x])])
    threads = qr.create_threads(sess, start=True, daemon=True)
    assert threads[0].daemon and _all_ended(threads)
    assert len(qr.exceptions_raised) == 1
    assert isinstance(qr.exceptions_raised[0], tf.errors.InvalidArgumentError)


def test_start_queue_runners_uses_the_default_session_and_collection():
    q = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue([3])]))
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(coord=coord)
        assert all(t.daemon for t in threads) and len(threads) == 2
        assert sess.run(q.dequeue_many(3)).tolist() == [3, 3, 3]
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=JOIN_SECONDS)
    assert _all_ended(threads)
    other = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(other, [other.enqueue([1])]), collection="other")
    with tf.Session() as sess:
        threads = tf.train.start_queue_runners(sess, start=False, collection="other")
        assert len(threads) == 1 and not threads[0].is_alive()


def test_start_queue_runners_argument_errors():
    with pytest.raises(ValueError, match="No default session is registered"):
        tf.train.start_queue_runners()
    with pytest.raises(TypeError, match="sess must be a `tf.Session` object"):
        tf.train.start_queue_runners(sess=object())


def test_closing_the_session_ends_blocked_runners_and_a_blocked_main_dequeue():
    full = tf.FIFOQueue(1, [tf.int32], shapes=[[]])  # its runner blocks on a full queue
    starved_in = tf.FIFOQueue(2, [tf.int32], shapes=[[]])  # never fed: its reader blocks
    starved_out = tf.FIFOQueue(2, [tf.int32], shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(full, [full.enqueue([1])]))
    tf.train.add_queue_runner(tf.train.QueueRunner(starved_out, [starved_out.enqueue([starved_in.dequeue()])]))
    main_dequeue = tf.FIFOQueue(2, [tf.int32], shapes=[[]]).dequeue()
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)
    closer = threading.Timer(0.3, sess.close)
    closer.start()
    with pytest.raises(tf.errors.CancelledError, match="Dequeue operation was cancelled"):
        sess.run(main_dequeue)
    closer.join(JOIN_SECONDS)
    with pytest.raises(tf.errors.CancelledError):
        coord.join(threads, stop_grace_period_secs=JOIN_SECONDS)
    assert _all_ended(threads)
