"""The in-process engine (target ''): compiles a signature into a `Plan` once per graph version and runs it
serially on the calling thread; traced and timed runs go through the tracer's step loop. Session state lives
in its `SessionState`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence

import numpy as np

from tfmini.client import engine as _engine
from tfmini.client import tracing
from tfmini.client.executor import DEVICE_NAME, Plan, SessionState, compile_plan, silence_kernel_warnings
from tfmini.framework import ops as _ops


class LocalExecutable(_engine.Executable):
    """A compiled plan as the session runs it."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.graph_version = plan.graph_version
        # The hot path: the instance attribute shadows the method below, so a session's call reaches the
        # plan's generated function with no wrapper in between.
        self.run = plan.run

    def run(self, feed_values: Sequence) -> list:
        return self.plan.run(feed_values)

    def run_traced(self, feed_values: Sequence, options, run_metadata, deadline: float | None) -> list:
        return tracing.run_plan(self.plan, feed_values, options, run_metadata, deadline)


class LocalPartialRun(_engine.PartialRun):
    """A partial run's values (fed and computed) and the ops run so far, in one session's state."""

    def __init__(self, state: SessionState) -> None:
        self._state = state
        self._values: dict[_ops.Tensor, object] = {}
        self._done_ops: set[_ops.Operation] = set()

    def run(self, fetch_tensors: Sequence[_ops.Tensor], target_ops: Sequence[_ops.Operation], feeds: dict,
            user_fed: Collection[_ops.Tensor], deadline: float | None) -> list:
        self._values.update(feeds)
        available = tuple(self._values)
        plan = compile_plan(self._state, tuple(fetch_tensors), available, tuple(target_ops),
                            done_ops=frozenset(self._done_ops), fold_constants=False, user_fed=user_fed)
        computed: list = []

        def record(step, t0, t1, outs):
            computed.append((step.op, outs))

        results = plan.run_steps([self._values[t] for t in available], on_step=record, deadline=deadline)
        for op, outs in computed:
            self._done_ops.add(op)
            for t, v in zip(op.outputs, outs):
                self._values.setdefault(t, v)
        # A value kept for later calls is handed out as a copy: the caller may mutate what it gets.
        kept = {id(v) for v in self._values.values()}
        return [r.copy() if isinstance(r, np.ndarray) and id(r) in kept else r for r in results]


class LocalEngine(_engine.Engine):
    """Runs graphs in this process with NumPy kernels, one op after the other on the calling thread."""

    max_cached_plans = 256

    def __init__(self, graph: _ops.Graph, config=None) -> None:
        silence_kernel_warnings()
        self.state = SessionState(graph, config)
        self._executables: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def compile(self, fetch_tensors: tuple, feed_tensors: tuple, target_ops: tuple) -> LocalExecutable:
        """The cached executable for this signature, compiled on first use or when the graph changed."""
        key = (fetch_tensors, feed_tensors, target_ops)
        exe = self._executables.get(key)
        if exe is not None and exe.graph_version == self.state.graph._version:
            return exe
        exe = self._executable(compile_plan(self.state, fetch_tensors, feed_tensors, target_ops))
        with self._lock:
            self._executables[key] = exe
            self._executables.move_to_end(key)
            while len(self._executables) > self.max_cached_plans:
                self._executables.popitem(last=False)
        return exe

    def _executable(self, plan: Plan) -> LocalExecutable:
        return LocalExecutable(plan)

    @property
    def cached_plan_count(self) -> int:
        return len(self._executables)

    def partial_run(self) -> LocalPartialRun:
        return LocalPartialRun(self.state)

    def list_devices(self) -> list:
        return [_engine.DeviceAttributes(DEVICE_NAME, "CPU", 0)]

    def close(self) -> None:
        self._executables.clear()
        self.state.cells.clear()
        self.state.handles.clear()
        self.state.generators.clear()
        self.state.resources.clear()


_engine.register_engine("", LocalEngine)
