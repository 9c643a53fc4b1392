"""`tf.train.QueueRunner`: threads that keep running a queue's enqueue ops in a session (closing the queue when
the input they read runs out), with `add_queue_runner` and `start_queue_runners` over the graph's
QUEUE_RUNNERS collection. Reaches sessions only through their `run`/`make_callable`/`graph`."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.train.coordinator import Coordinator

_log = logging.getLogger("tfmini")


@tf_export("train.QueueRunner", "train.queue_runner.QueueRunner")
class QueueRunner:
    """Holds a queue, the ops that enqueue into it (one thread each), the op that closes it when an enqueue
    finds its input exhausted (`queue_closed_exception_types`, OutOfRangeError by default), and the op that
    cancels its pending enqueues when a coordinator asks the threads to stop."""

    def __init__(self, queue=None, enqueue_ops: Sequence | None = None, close_op=None, cancel_op=None,
                 queue_closed_exception_types: Sequence[type] | None = None) -> None:
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(cancel_pending_enqueues=True)
        if not queue_closed_exception_types:
            self._queue_closed_exception_types = (_errors.OutOfRangeError,)
        else:
            types = tuple(queue_closed_exception_types)
            if not all(isinstance(t, type) and issubclass(t, _errors.OpError) for t in types):
                raise TypeError("queue_closed_exception_types, when provided, must be a tuple of tf.error types, "
                                f"but saw: {queue_closed_exception_types}")
            self._queue_closed_exception_types = types
        self._lock = threading.Lock()
        # Per session: how many enqueue threads are still running (the last one to end closes the queue).
        self._runs_per_session: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._exceptions_raised: list[BaseException] = []

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self) -> list:
        return self._enqueue_ops

    @property
    def close_op(self):
        return self._close_op

    @property
    def cancel_op(self):
        return self._cancel_op

    @property
    def queue_closed_exception_types(self) -> tuple:
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self) -> list[BaseException]:
        """The exceptions the enqueue threads raised when run without a coordinator."""
        return self._exceptions_raised

    @property
    def name(self) -> str:
        """The name of the queue this runner fills."""
        return self._queue.name

    def _run(self, sess, enqueue_op, coord: Coordinator | None) -> None:
        """One enqueue thread: runs `enqueue_op` until a stop is requested or the input runs out (then the
        last thread of this session closes the queue). Other errors are reported to `coord`, or kept in
        `exceptions_raised` and re-raised without one."""
        counted_down = False
        try:
            enqueue = sess.make_callable(enqueue_op)
            while not (coord and coord.should_stop()):
                try:
                    enqueue()
                except self._queue_closed_exception_types:
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        counted_down = True
                        if self._runs_per_session[sess] == 0:
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001 - closing is best effort, as in TF
                                _log.debug("Ignored exception while closing a queue: %s", e)
                    return
        except Exception as e:
            if coord:
                coord.request_stop(e)
            else:
                _log.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not counted_down:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, cancel_op, coord: Coordinator) -> None:
        """Waits for a stop request, then closes the queue cancelling its pending enqueues."""
        coord.wait_for_stop()
        try:
            sess.run(cancel_op)
        except Exception as e:  # noqa: BLE001 - the session may be closed already; nothing is left to cancel
            _log.debug("Ignored exception while cancelling a queue: %s", e)

    def create_threads(self, sess, coord: Coordinator | None = None, daemon: bool = False,
                       start: bool = False) -> list[threading.Thread]:
        """One thread per enqueue op (and, with `coord`, one that cancels the queue's pending enqueues when a
        stop is requested), registered with `coord`; started when `start`. Returns [] when this runner's
        threads already run in `sess`."""
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self.name}-{op.name}") for op in self._enqueue_ops]
        if coord:
            threads.append(threading.Thread(target=self._close_on_stop, args=(sess, self._cancel_op, coord),
                                            name=f"QueueRunnerThread-{self.name}-close_on_stop"))
        for t in threads:
            if coord:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads


@tf_export("train.add_queue_runner", "train.queue_runner.add_queue_runner")
def add_queue_runner(qr: QueueRunner, collection: str = _ops.GraphKeys.QUEUE_RUNNERS) -> None:
    """Adds `qr` to `collection` of the default graph (where `start_queue_runners` finds it)."""
    _ops.add_to_collection(collection, qr)


@tf_export("train.queue_runner.start_queue_runners", "train.start_queue_runners")
def start_queue_runners(sess=None, coord: Coordinator | None = None, daemon: bool = True, start: bool = True,
                        collection: str = _ops.GraphKeys.QUEUE_RUNNERS) -> list[threading.Thread]:
    """Creates (and by default starts) the threads of every QueueRunner in `collection` of the session's graph,
    for `sess` (the default session when None); returns them."""
    if sess is None:
        sess = _ops.get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. Use `with "
                             "sess.as_default()` or pass an explicit session to tf.start_queue_runners(sess=sess)")
    if not (callable(getattr(sess, "run", None)) and hasattr(sess, "graph")):
        raise TypeError(f"sess must be a `tf.Session` object. Given class: {sess.__class__}")
    queue_runners = sess.graph.get_collection(collection)
    if not queue_runners:
        _log.warning("`tf.train.start_queue_runners()` was called when no queue runners were defined. You can "
                     "safely remove the call to this deprecated function.")
    threads: list[threading.Thread] = []
    with sess.graph.as_default():
        for qr in queue_runners:
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads


__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]
