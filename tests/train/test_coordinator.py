"""tf.train.Coordinator and tf.train.LooperThread: stop requests, reported and clean-stop exceptions, join with
its grace period. Every thread here ends within a few seconds; joins use timeouts."""

import sys
import threading
import time

import pytest

import tfmini as tf


def _stopper(coord, event):
    event.wait(5)
    coord.request_stop()


def _waiter(coord):
    while not coord.should_stop():
        time.sleep(0.005)


def test_request_stop_reaches_every_thread_and_join_returns():
    coord = tf.train.Coordinator()
    assert not coord.should_stop() and not coord.joined
    event = threading.Event()
    threads = [threading.Thread(target=_waiter, args=(coord,)) for _ in range(3)]
    threads.append(threading.Thread(target=_stopper, args=(coord, event)))
    for t in threads:
        t.start()
    event.set()
    coord.join(threads, stop_grace_period_secs=5)
    assert coord.should_stop() and coord.joined
    assert not any(t.is_alive() for t in threads)


def test_join_returns_when_all_threads_end_without_a_stop():
    coord = tf.train.Coordinator()
    threads = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in range(2)]
    for t in threads:
        t.start()
    start = time.monotonic()
    coord.join(threads)
    assert time.monotonic() - start < 2 and not coord.should_stop()


def test_join_reraises_the_first_reported_exception():
    coord = tf.train.Coordinator()

    def fail(message):
        try:
            raise RuntimeError(message)
        except RuntimeError:
            coord.request_stop(sys.exc_info())

    t1 = threading.Thread(target=fail, args=("first",))
    t1.start()
    t1.join(5)
    coord.request_stop(ValueError("second"))
    with pytest.raises(RuntimeError, match="first"):
        coord.join([t1])
    # After join, an exception reported again is raised at once: nobody would report it otherwise.
    with pytest.raises(ValueError, match="late"):
        coord.request_stop(ValueError("late"))


def test_out_of_range_is_a_clean_stop_by_default():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "input exhausted"))
    assert coord.should_stop()
    coord.join([])
    coord.raise_requested_exception()


def test_clean_stop_exception_types_can_be_chosen():
    coord = tf.train.Coordinator(clean_stop_exception_types=(ValueError,))
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "input exhausted"))
    with pytest.raises(tf.errors.OutOfRangeError):
        coord.raise_requested_exception()


def test_stop_on_exception_reports_instead_of_raising():
    coord = tf.train.Coordinator()
    with coord.stop_on_exception():
        raise KeyError("from the block")
    assert coord.should_stop()
    with pytest.raises(KeyError, match="from the block"):
        coord.join([])


def test_wait_for_stop_times_out_and_clear_stop_resets():
    coord = tf.train.Coordinator()
    assert coord.wait_for_stop(0.01) is False
    coord.request_stop(ValueError("x"))
    assert coord.wait_for_stop(0.01) is True
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    coord.raise_requested_exception()


def test_join_after_the_grace_period_names_threads_still_running():
    coord = tf.train.Coordinator()
    release = threading.Event()
    stubborn = threading.Thread(target=release.wait, args=(5,), name="stubborn-thread")
    stubborn.start()
    coord.register_thread(stubborn)
    coord.request_stop()
    try:
        with pytest.raises(RuntimeError, match="Coordinator stopped with threads still running: stubborn-thread"):
            coord.join(stop_grace_period_secs=0.05)
    finally:
        release.set()
        stubborn.join(5)
    assert not stubborn.is_alive()


def test_join_can_ignore_live_threads():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(5,))
    t.start()
    coord.request_stop()
    try:
        coord.join([t], stop_grace_period_secs=0.05, ignore_live_threads=True)
    finally:
        release.set()
        t.join(5)


def test_looper_thread_calls_its_target_until_stopped():
    coord = tf.train.Coordinator()
    calls = []
    looper = tf.train.LooperThread.loop(coord, 0.01, target=calls.append, args=("tick",))
    assert looper.daemon
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    coord.request_stop()
    coord.join(stop_grace_period_secs=5)
    assert not looper.is_alive() and len(calls) >= 3 and set(calls) == {"tick"}


def test_looper_thread_exception_requests_the_stop():
    coord = tf.train.Coordinator()

    def boom():
        raise ValueError("looper failed")

    tf.train.LooperThread.loop(coord, None, target=boom)
    with pytest.raises(ValueError, match="looper failed"):
        coord.join(stop_grace_period_secs=5)


def test_looper_thread_argument_checks():
    with pytest.raises(ValueError, match="must be a Coordinator"):
        tf.train.LooperThread(object(), 1.0)
    with pytest.raises(ValueError, match="require that you also pass 'target'"):
        tf.train.LooperThread(tf.train.Coordinator(), 1.0, args=(1,))
