"""`tf.train.Coordinator` (threads agree on when to stop and report the error that stopped them) and
`tf.train.LooperThread` (a thread that repeats a function until the coordinator says stop). Plain Python
threading: knows no session and no op."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from tfmini.framework import errors as _errors
from tfmini.framework.api_export import tf_export

# How often `join` looks at the threads while no stop was requested (a stop request wakes it at once).
_JOIN_POLL_SECONDS = 0.05


@tf_export("train.Coordinator")
class Coordinator:
    """Lets threads stop together: any of them may `request_stop()` (optionally with the exception that made
    it stop), all of them poll `should_stop()`, and `join()` waits for them and re-raises the first reported
    exception. Exceptions of `clean_stop_exception_types` (OutOfRangeError by default: an input ran out) stop
    the threads without being reported."""

    def __init__(self, clean_stop_exception_types: Iterable[type] | None = None) -> None:
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (_errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exception: BaseException | None = None
        self._joined = False
        self._registered_threads: set[threading.Thread] = set()

    def _filter_exception(self, ex) -> BaseException | None:
        """The exception to report for `ex` (an exception or a `sys.exc_info()` tuple), None for a clean stop."""
        if isinstance(ex, tuple):
            ex = ex[1]
        if ex is None or isinstance(ex, self._clean_stop_exception_types):
            return None
        if not isinstance(ex, BaseException):
            raise TypeError(f"ex must be an exception or a sys.exc_info() tuple, got {ex!r}")
        return ex

    def request_stop(self, ex=None) -> None:
        """Asks every thread to stop. `ex` (an exception or a `sys.exc_info()` tuple) is reported by `join()`
        unless an exception was reported before or it is a clean-stop type. After `join()`, an exception
        passed here is raised at once, since nothing would report it any more."""
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined and ex is not None:
                raise ex
            if not self._stop_event.is_set():
                if ex is not None and self._exception is None:
                    self._exception = ex
                self._stop_event.set()

    def clear_stop(self) -> None:
        """Forgets a stop request and its exception, so threads can be started again."""
        with self._lock:
            self._joined = False
            self._exception = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self) -> Iterator[None]:
        """A block in which an exception requests a stop (and is reported) instead of propagating."""
        try:
            yield
        except:  # noqa: E722 - every exception, as the block promises
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        """Waits until a stop is requested (at most `timeout` seconds); returns whether one was."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        """Adds `thread` to those `join()` waits for."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads: Iterable[threading.Thread] | None = None, stop_grace_period_secs: float = 120,
             ignore_live_threads: bool = False) -> None:
        """Waits until every thread (registered or in `threads`) has ended or a stop is requested; after a stop
        request, waits up to `stop_grace_period_secs` more for them to end. Then re-raises the reported
        exception if any, else raises RuntimeError naming the threads still running (unless
        `ignore_live_threads`)."""
        with self._lock:
            all_threads = set(self._registered_threads)
        if threads is not None:
            all_threads.update(threads)
        while any(t.is_alive() for t in all_threads) and not self.wait_for_stop(_JOIN_POLL_SECONDS):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        pause = 0.001
        while any(t.is_alive() for t in all_threads) and time.monotonic() < deadline:
            time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
            pause = min(pause * 2, 0.1)
        stragglers = [t.name for t in all_threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            exception = self._exception
        if exception is not None:
            raise exception
        if stragglers and not ignore_live_threads:
            raise RuntimeError(f"Coordinator stopped with threads still running: {' '.join(stragglers)}")

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        """Raises the exception reported with a stop request, if any."""
        with self._lock:
            exception = self._exception
        if exception is not None:
            raise exception


@tf_export("train.LooperThread")
class LooperThread(threading.Thread):
    """A daemon thread registered with `coord` that calls `target(*args, **kwargs)` (or `run_loop()` of a
    subclass) every `timer_interval_secs` seconds, or back to back when that is None, until a stop is
    requested; an exception it raises requests the stop."""

    def __init__(self, coord: Coordinator, timer_interval_secs: float | None, target: Callable | None = None,
                 args=None, kwargs=None) -> None:
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        if self._target:
            self._args = args or ()
            self._kwargs = kwargs or {}
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass 'target'")
        self._coord.register_thread(self)

    @staticmethod
    def loop(coord: Coordinator, timer_interval_secs: float | None, target: Callable, args=None,
             kwargs=None) -> LooperThread:
        """Starts and returns a LooperThread calling `target`."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args, kwargs=kwargs)
        looper.start()
        return looper

    def run(self) -> None:
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(max(next_time - time.monotonic(), 0.0)):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self) -> None:
        """Called once before the loop (for subclasses)."""

    def stop_loop(self) -> None:
        """Called once after the loop (for subclasses)."""

    def run_loop(self) -> None:
        """One iteration: calls the target."""
        if self._target:
            self._target(*self._args, **self._kwargs)


__all__ = ["Coordinator", "LooperThread"]
