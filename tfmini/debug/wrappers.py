"""Debug wrapper sessions (TF's `LocalCLIDebugWrapperSession` shape): `run()` returns what the wrapped
session's `run()` returns and keeps a read-only copy of every tensor the step computed, as a `DebugDump`.
Debugged steps run the engine's compiled plan through its step loop (`Plan.run_steps` with an `on_step`
callback, the loop traced runs use), so the wrapped session's own runs stay on their fast path."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import numpy as np

from tfmini.client import fetch as _fetch
from tfmini.client import tracing as _tracing
from tfmini.client.executor import DEVICE_NAME, RefCell
from tfmini.client.session import BaseSession, _fetched_values
from tfmini.debug import debug_utils as _debug_utils
from tfmini.debug.debug_data import DebugDump, DebugTensorDatum, InconvertibleTensor, has_inf_or_nan
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.protobuf import config_pb2


def _kept(value):
    """A read-only private copy of a step value (a variable's storage is read as its current value)."""
    if isinstance(value, RefCell):
        if not value.initialized:
            return InconvertibleTensor(value.name, initialized=False)
        value = value.value
    elif not isinstance(value, (np.ndarray, np.generic)):
        inner = getattr(value, "value", None)  # a fed ref tensor
        if isinstance(inner, (np.ndarray, np.generic)):
            value = inner
        else:
            return InconvertibleTensor(f"{type(value).__name__} {value!r}"[:200])
    copy = np.array(value, copy=True)
    copy.flags.writeable = False
    return copy


class _StepDumper:
    """Collects the outputs of each step of one plan run, in the order the steps ran."""

    def __init__(self, watched: set[tuple[str, int]] | None) -> None:
        self.watched = watched  # (node name, output slot) pairs to keep; None keeps every output
        self.data: list[DebugTensorDatum] = []
        self._wall0_us = time.time_ns() // 1000
        self._perf0 = time.perf_counter()

    def on_step(self, step, t0: float, t1: float, outs) -> None:
        stamp = self._wall0_us + int((t1 - self._perf0) * 1e6)
        watched, name = self.watched, step.op.name
        for slot, value in enumerate(outs):
            if watched is not None and (name, slot) not in watched:
                continue
            self.data.append(DebugTensorDatum(step.op, slot, _kept(value), stamp, DEVICE_NAME, len(self.data)))


class LocalDebugWrapperSession:
    """Wraps a `tf.Session`: every `run()` behaves as the session's and keeps every intermediate tensor of
    the step (`last_dump`, a `DebugDump`); tensor filters (`has_inf_or_nan` is registered) find the
    tensors worth a look. There is no terminal UI: the dump is read in Python or shown in a notebook with
    the extension's debugger view (`%run_graph --debug`).

    `dump_root`, `log_usage`, `ui_type` and `config_file_path` are accepted for TF's signature: dumps stay
    in memory and there is no curses or readline UI to configure. `thread_name_filter` (a regex) limits
    debugging to runs from threads whose name matches; other threads' runs go straight to the session."""

    def __init__(self, sess: BaseSession, dump_root: str | None = None, log_usage: bool = True,
                 ui_type: str = "curses", thread_name_filter: str | None = None,
                 config_file_path: str | bool = False) -> None:
        if not isinstance(sess, BaseSession):
            raise TypeError(f"Expected type {BaseSession}; got type {type(sess)}")
        if ui_type not in ("curses", "readline"):
            raise ValueError(f"Invalid ui_type: '{ui_type}'")
        self._sess = sess
        self._thread_name_filter = None if thread_name_filter is None else re.compile(thread_name_filter)
        self._tensor_filters: dict[str, Callable] = {}
        self._run_call_count = 0
        self._last_dump: DebugDump | None = None
        self._first_passing: dict[str, DebugDump] = {}
        self._lock = threading.Lock()
        self._default_session_context_manager = None
        self._default_graph_context_manager = None
        self.add_tensor_filter("has_inf_or_nan", has_inf_or_nan)

    # -- the wrapped session ---------------------------------------------------
    @property
    def session(self) -> BaseSession:
        return self._sess

    @property
    def graph(self) -> _ops.Graph:
        return self._sess.graph

    @property
    def graph_def(self):
        return self._sess.graph_def

    @property
    def sess_str(self) -> str:
        return self._sess.sess_str

    @property
    def run_call_count(self) -> int:
        return self._run_call_count

    @property
    def last_dump(self) -> DebugDump | None:
        """The dump of the latest debugged run (also of a failed one), or None before any."""
        return self._last_dump

    @property
    def tensor_filters(self) -> dict[str, Callable]:
        """The registered filters by name (a copy)."""
        return dict(self._tensor_filters)

    def add_tensor_filter(self, filter_name: str, tensor_filter: Callable) -> None:
        """Registers `tensor_filter(datum, tensor) -> bool` under `filter_name` (replacing one of that name,
        whose first passing dump is then forgotten). Every debugged run applies the filters that have not
        passed yet (see `first_passing_dump`)."""
        if not isinstance(filter_name, str):
            raise TypeError(f"filter_name must be a str, got {type(filter_name)}")
        if not callable(tensor_filter):
            raise TypeError(f"tensor_filter must be callable, got {type(tensor_filter)}")
        self._tensor_filters[filter_name] = tensor_filter
        self._first_passing.pop(filter_name, None)

    def first_passing_dump(self, filter_name: str) -> DebugDump | None:
        """The dump of the first debugged run in which the filter named `filter_name` passed a tensor (what
        tfdbg's `run --till_filter_pass` stops at), or None while none has. In a training loop whose loss
        turned to NaN, this is the step where the first NaN appeared, not a later one where everything is NaN."""
        if filter_name not in self._tensor_filters:
            raise ValueError(f"There is no tensor filter named \"{filter_name}\"; registered: "
                             f"{', '.join(sorted(self._tensor_filters))}")
        return self._first_passing.get(filter_name)

    def _note_passing_filters(self, dump: DebugDump) -> None:
        for name, tensor_filter in self._tensor_filters.items():
            if name not in self._first_passing and dump.find(tensor_filter, first_n=1):
                self._first_passing[name] = dump

    def find(self, filter_name: str, first_n: int = 0) -> list[DebugTensorDatum]:
        """The latest dump's data that the filter named `filter_name` passes, in execution order."""
        tensor_filter = self._tensor_filters.get(filter_name)
        if tensor_filter is None:
            raise ValueError(f"There is no tensor filter named \"{filter_name}\"; registered: "
                             f"{', '.join(sorted(self._tensor_filters))}")
        if self._last_dump is None:
            raise ValueError("No run has been debugged yet: call run() first")
        return self._last_dump.find(tensor_filter, first_n=first_n)

    # -- running -----------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs `fetches` as `Session.run` does and keeps the step's tensors in `last_dump`: all of them, or
        those `options.debug_options` watches (see `watch_graph`). A step that fails keeps what ran before
        the failing op (`last_dump.error` holds the error), then raises it."""
        sess = self._sess
        if self._thread_name_filter is not None and not self._thread_name_filter.match(
                threading.current_thread().name):
            return sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
        sess._check_open()
        graph = sess.graph
        if graph.version == 0:
            raise RuntimeError("The Session graph is empty. Add operations to the graph before calling run().")
        if options is not None and not isinstance(options, config_pb2.RunOptions):
            raise TypeError(f"options must be a tf.RunOptions proto, got {type(options)}")
        if run_metadata is not None and not isinstance(run_metadata, config_pb2.RunMetadata):
            raise TypeError(f"run_metadata must be a tf.RunMetadata proto, got {type(run_metadata)}")
        self._last_dump = None
        mapper = _fetch.FetchMapper.for_fetch(fetches, graph)
        feed_tensors, feed_values = sess._process_feeds(feed_dict)
        call = sess._callable(mapper.unique_fetches, feed_tensors)
        executable = call.refresh()
        plan = getattr(executable, "plan", None)
        if plan is None:
            raise _errors.UnimplementedError(
                None, None, f"Debugging a step needs the in-process engine; target {sess.sess_str!r} runs elsewhere")
        with self._lock:
            self._run_call_count += 1
            run_index = self._run_call_count
        dumper = _StepDumper(_debug_utils.watched_tensors(options))

        def watched_steps(step_feeds, on_step=None, deadline=None, values=None):
            """The plan's step loop with the dumper watching each step (before a tracer's `on_step`)."""
            def both(step, t0, t1, outs):
                dumper.on_step(step, t0, t1, outs)
                if on_step is not None:
                    on_step(step, t0, t1, outs)
            return plan.run_steps(step_feeds, on_step=both, deadline=deadline, values=values)

        fed = {t.name: _kept(v) for t, v in zip(feed_tensors, feed_values)}
        names = [f.name for f in mapper.unique_fetches]
        try:
            results = _tracing.run_plan(plan, feed_values, options, run_metadata, sess._deadline(options),
                                        run_steps=watched_steps, run=watched_steps)
        except _errors.OpError as e:
            self._last_dump = DebugDump(graph, dumper.data, names, list(fed), fed, run_index, error=e)
            self._note_passing_filters(self._last_dump)
            raise
        self._last_dump = DebugDump(graph, dumper.data, names, list(fed), fed, run_index)
        self._note_passing_filters(self._last_dump)
        values = results if call.plain else _fetched_values(sess, call.unique_fetches, results)
        return mapper.build_results(values)

    def make_callable(self, fetches, feed_list=None, accept_options: bool = False) -> Callable:
        """A function `f(*feed_values)` that runs `fetches` through this wrapper (so each call is debugged)."""
        feed_list = list(feed_list or [])

        def call(*feed_values, options=None, run_metadata=None):
            if len(feed_values) != len(feed_list):
                raise ValueError(f"Expected {len(feed_list)} feed values, got {len(feed_values)}")
            if not accept_options and (options is not None or run_metadata is not None):
                raise TypeError("options and run_metadata need make_callable(..., accept_options=True)")
            return self.run(fetches, feed_dict=dict(zip(feed_list, feed_values)), options=options,
                            run_metadata=run_metadata)

        return call

    def partial_run_setup(self, fetches, feeds=None):
        raise NotImplementedError("partial_run_setup is not implemented for debug-wrapper sessions.")

    def partial_run(self, handle, fetches, feed_dict=None):
        raise NotImplementedError("partial_run is not implemented for debug-wrapper sessions.")

    def list_devices(self) -> list:
        return self._sess.list_devices()

    def should_stop(self) -> bool:
        """Whether the wrapped session should stop (a MonitoredSession's question; False for a tf.Session)."""
        should_stop = getattr(self._sess, "should_stop", None)
        return bool(should_stop()) if callable(should_stop) else False

    # -- lifetime ----------------------------------------------------------------
    def as_default(self):
        return _ops.default_session(self)

    def close(self) -> None:
        self._sess.close()

    def __enter__(self):
        self._default_session_context_manager = self.as_default()
        self._default_graph_context_manager = self.graph.as_default()
        self._default_graph_context_manager.__enter__()
        return self._default_session_context_manager.__enter__()

    def __exit__(self, exec_type, exec_value, exec_tb) -> None:
        try:
            self._default_session_context_manager.__exit__(exec_type, exec_value, exec_tb)
        finally:
            self._default_graph_context_manager.__exit__(exec_type, exec_value, exec_tb)
            self._default_session_context_manager = self._default_graph_context_manager = None
            self.close()


# TF1 code names the wrapper after its terminal UI; here the same class keeps the dump for Python and the
# notebook view instead of opening that UI.
LocalCLIDebugWrapperSession = LocalDebugWrapperSession


__all__ = ["LocalCLIDebugWrapperSession", "LocalDebugWrapperSession"]
