"""The in-process engines (target ''): each compiles a signature into a `Plan` once per graph version.
`LocalEngine` runs it serially on the calling thread; `ParallelEngine` (`inter_op_parallelism_threads` > 1,
or more than one CPU by default) runs independent costly ops concurrently on a thread pool. Traced and timed
runs go through the tracer's step loop. Session state lives in their `SessionState`."""

from __future__ import annotations

import functools
import heapq
import os
import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from concurrent import futures

import numpy as np

from tfmini.client import engine as _engine
from tfmini.client import tracing
from tfmini.client.executor import (
    DEVICE_NAME,
    Plan,
    SessionState,
    as_result,
    compile_plan,
    deadline_exceeded,
    deadline_scope,
    op_error,
    silence_kernel_warnings,
)
from tfmini.framework import ops as _ops
from tfmini.framework.errors import CancelledError, OpError


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
        return [_engine.DeviceAttributes(DEVICE_NAME, "CPU", _engine.CPU_MEMORY_LIMIT_BYTES)]

    def close(self) -> None:
        self.state.close()
        self._executables.clear()
        self.state.cells.clear()
        self.state.handles.clear()
        self.state.generators.clear()
        self.state.resources.clear()



# ----------------------------------------------------------------------------------------------------------
# The parallel engine: independent ops of a step run concurrently on a thread pool
# ----------------------------------------------------------------------------------------------------------
# An op reading fewer elements than this runs on the calling thread: handing it to a worker costs more than
# it could save (NumPy releases the GIL in BLAS calls and large ufuncs, not in small ones).
PARALLEL_MIN_ELEMENTS = 1 << 15
PARALLEL_TRIAL_RUNS = 4


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def inter_op_threads(config) -> int:
    """The threads a session's steps may use: `config.inter_op_parallelism_threads`, or for TF's default 0
    ("choose for this machine") the CPUs this process may run on divided by the threads each BLAS call
    already uses, so concurrent matrix products do not oversubscribe the cores (OpenBLAS uses every core by
    default, which makes the choice 1: serial). TFMINI_INTER_OP_THREADS overrides that choice, e.g. to run a
    test suite on one engine or the other. A positive `intra_op_parallelism_threads` is the BLAS threads per
    call (the session sets it for its runs)."""
    n = config.inter_op_parallelism_threads if config is not None else 0
    if n > 0:
        return n
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    intra = config.intra_op_parallelism_threads if config is not None else 0
    per_call = intra if intra > 0 else _blas_threads(cpus)
    return max(1, _env_int("TFMINI_INTER_OP_THREADS", cpus // max(1, min(cpus, per_call))))


@functools.cache
def _blas_threads(cpus: int) -> int:
    """The threads NumPy's BLAS uses per call, as its environment variables set them (BLAS libraries start one
    thread per CPU otherwise); asked once per process."""
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return cpus


def _cell_key(t: _ops.Tensor, memo: dict):
    """What a ref-typed tensor stands for: the op that owns the variable storage it reaches (an op's ref
    output is the storage of its first ref input, e.g. Assign's output_ref), or the tensor itself."""
    key = memo.get(t)
    if key is None:
        src = t
        while src._op._opdef.ref_inputs and src._op._inputs:
            src = src._op._inputs[min(src._op._opdef.ref_inputs)]
        key = memo[t] = src._op if not src._op._inputs else src
    return key


class _Schedule:
    """The dependencies among a plan's live steps that a concurrent run must respect: data and control edges,
    plus the order of the serial run between steps touching one variable where either writes it, and among
    the other stateful ops (prints, random generators, handles), so results are the serial engine's."""

    def __init__(self, plan: Plan, min_elements: int) -> None:
        steps = plan.live_steps
        self.steps = steps
        producer = {slot: k for k, s in enumerate(steps) for slot in s.outputs}
        position = {s.op: k for k, s in enumerate(steps)}
        preds: list[set[int]] = [set() for _ in steps]
        for k, step in enumerate(steps):
            for slot in step.inputs:
                if slot in producer:
                    preds[k].add(producer[slot])
            preds[k].update(position[c] for c in step.op._control_inputs if c in position)
            preds[k].discard(k)
        self._order_state(steps, preds)
        self.n_preds = [len(p) for p in preds]
        self.successors: list[list[int]] = [[] for _ in steps]
        for k, p in enumerate(preds):
            for j in p:
                self.successors[j].append(k)
        self.roots = [k for k, n in enumerate(self.n_preds) if n == 0]
        # Slot -> how many steps read it; a value is dropped when its last reader has started (fetched and
        # folded values are kept), as the serial run drops it after its last reader.
        kept = set(plan.fetch_slots) | set(plan.folded)
        readers: dict[int, int] = {}
        for step in steps:
            for slot in set(step.inputs):
                if slot not in kept:
                    readers[slot] = readers.get(slot, 0) + 1
        self.readers = readers
        # Whether a run may overlap costly ops: always when two independent steps are large by their static
        # shapes (or are loops); when they are large only if the fed values are, `by_feeds`.
        static_heavy, maybe_heavy = [], []
        for k, step in enumerate(steps):
            kind = _heaviness(step.op, min_elements)
            if kind is not None:
                maybe_heavy.append(k)
                if kind:
                    static_heavy.append(k)
        # Per step, whether it may be costly: only then is it worth overlapping another op with it.
        self.may_be_costly = [False] * len(steps)
        for k in maybe_heavy:
            self.may_be_costly[k] = True
        ancestors = _ancestor_bits(preds)
        self.always = _independent_pair(static_heavy, ancestors)
        self.by_feeds = not self.always and _independent_pair(maybe_heavy, ancestors)

    @staticmethod
    def _order_state(steps: list, preds: list[set[int]]) -> None:
        """Adds the serial run's order where state is involved. A read of a variable hands on a view of its
        storage, so everything a read feeds keeps its serial order with every later update of that variable
        (before it or after it, as in the serial run); a read waits for the write before it; stateful ops
        touching no variable keep their order among themselves."""
        successors: list[list[int]] = [[] for _ in steps]
        for k, p in enumerate(preds):
            for j in p:
                successors[j].append(k)
        descendants = [0] * len(steps)
        for k in range(len(steps) - 1, -1, -1):
            bits = 0
            for j in successors[k]:
                bits |= descendants[j] | (1 << j)
            descendants[k] = bits
        memo: dict = {}
        variables: dict = {}  # key -> [last writer, bits of every read of it and of what those reads feed]
        last_stateful = None
        for k, step in enumerate(steps):
            op, opdef = step.op, step.op._opdef
            touched = False
            for i, t in enumerate(op._inputs):
                if not t._dtype.is_ref:
                    continue
                touched = True
                entry = variables.setdefault(_cell_key(t, memo), [None, 0])
                if entry[0] is not None:
                    preds[k].add(entry[0])
                if i in opdef.ref_inputs or opdef.forwards_refs:
                    # Whatever holds a view of the storage sees this update in the serial run if it comes
                    # after it, and not if it comes before: keep each on its side.
                    bits = entry[1] & ~(1 << k)
                    while bits:
                        low = bits & -bits
                        j = low.bit_length() - 1
                        bits ^= low
                        if j < k:
                            preds[k].add(j)
                        else:
                            preds[j].add(k)
                    entry[0] = k
                else:
                    entry[1] |= (1 << k) | descendants[k]
            if opdef.stateful and not touched and op._inputs:
                if last_stateful is not None:
                    preds[k].add(last_stateful)
                last_stateful = k
            preds[k].discard(k)


def _ancestor_bits(preds: list[set[int]]) -> list[int]:
    """Per step (in topological order), the bits of all the steps it depends on."""
    ancestors: list[int] = []
    for p in preds:
        bits = 0
        for j in p:
            bits |= ancestors[j] | (1 << j)
        ancestors.append(bits)
    return ancestors


def _independent_pair(candidates: list[int], ancestors: list[int]) -> bool:
    """Whether two of `candidates` (ascending) have no path between them, so they could run at once."""
    seen = 0
    for k in candidates:
        if seen & ~ancestors[k]:
            return True
        seen |= 1 << k
    return False


def _heaviness(op: _ops.Operation, min_elements: int) -> bool | None:
    """True when `op` is costly by its static shapes (or is a loop or branch, whose bodies may do anything),
    False when its shapes are partly unknown (its cost depends on what is fed), None when it is small."""
    if op._opdef.forwards_refs:
        return True
    unknown = False
    for t in (*op._inputs, *op._outputs):
        dims = t.shape.as_tuple()
        if dims is None or None in dims:
            unknown = True
            continue
        n = 1
        for d in dims:
            n *= d
        if n >= min_elements:
            return True
    return False if unknown else None


def _elements(value) -> int:
    size = getattr(value, "size", None)
    if size is None:
        inner = getattr(value, "base", None)  # a variable's storage
        size = getattr(inner, "size", 1)
    return size


class ParallelExecutable(LocalExecutable):
    """A plan whose independent costly ops run concurrently: the calling thread walks the schedule, runs small
    ops itself and hands large ones to the engine's workers while other work is ready (waiting for a worker
    when all are busy). A plan with nothing to overlap runs the serial generated function."""

    def __init__(self, plan: Plan, engine: ParallelEngine) -> None:
        super().__init__(plan)
        self._engine = engine
        self._schedule = sched = _Schedule(plan, engine.min_elements)
        self.parallel = sched.always or sched.by_feeds
        # Whether overlapping pays depends on what the machine does with two kernels at once (memory
        # bandwidth, caches, GIL-holding parts): the first runs alternate the serial and the concurrent walk
        # and time them, then the faster one is kept. Both give the same bits.
        self._trials: list[float] | None = [] if engine.trial_runs else None
        if self.parallel:
            self.run = self._run_parallel

    def run_traced(self, feed_values: Sequence, options, run_metadata, deadline: float | None) -> list:
        if not self.parallel:
            return super().run_traced(feed_values, options, run_metadata, deadline)
        return tracing.run_plan(self.plan, feed_values, options, run_metadata, deadline,
                                run_steps=self._run_steps, run=self._run_parallel)

    def _concurrent(self, feed_values: Sequence) -> bool:
        """Whether this run is worth walking concurrently: not once the timed trials chose the serial walk, and
        not when small fed values keep a graph of unknown shapes small."""
        if not self.parallel:
            return False
        if self._schedule.always:
            return True
        threshold = self._engine.min_elements
        return any(_elements(v) >= threshold for v in feed_values)

    def _run_parallel(self, feed_values: Sequence) -> list:
        if not self._concurrent(feed_values):
            return self.plan.run(feed_values)
        trials = self._trials
        if trials is None:
            return self._run_steps(feed_values)
        serial_turn = len(trials) % 2 == 0
        t0 = time.perf_counter()
        results = self.plan.run(feed_values) if serial_turn else self._run_steps(feed_values)
        trials.append(time.perf_counter() - t0)
        if len(trials) >= 2 * (self._engine.trial_runs + 1):
            # The first run of each walk warms caches: compared are the ones after it.
            serial, concurrent = statistics.median(trials[2::2]), statistics.median(trials[3::2])
            self._trials = None
            if serial <= concurrent:
                self.parallel = False
                self.run = self.plan.run
        return results

    def _run_steps(self, feed_values: Sequence, on_step=None, deadline: float | None = None,
                   values: list | None = None) -> list:
        """`Plan.run_steps`' contract, run concurrently when worth it; `on_step` is called afterwards for every
        step in plan order (with the thread each ran on), as the serial loop would have called it."""
        plan, sched = self.plan, self._schedule
        if not self._concurrent(feed_values):
            return plan.run_steps(feed_values, on_step=on_step, deadline=deadline, values=values)
        vals = [None] * plan.n_slots
        for slot, v in plan.folded.items():
            vals[slot] = v
        for slot, v in zip(plan.feed_slots, feed_values):
            vals[slot] = v
        trace: dict[int, tuple] | None = {} if on_step is not None else None
        with deadline_scope(deadline):
            self._walk(sched, vals, deadline, trace)
        if on_step is not None:
            _replay(plan, feed_values, trace, on_step, values)
        try:
            return [as_result(vals[s].value if d else vals[s]) for s, d in zip(plan.fetch_slots, plan.fetch_deref)]
        except OpError as e:
            raise e from None

    def _walk(self, sched: _Schedule, vals: list, deadline: float | None, trace: dict | None) -> None:
        steps, successors, costly = sched.steps, sched.successors, sched.may_be_costly
        waiting = sched.n_preds[:]
        readers = dict(sched.readers)
        ready = list(sched.roots)
        heapq.heapify(ready)
        pool = self._engine.pool()
        workers = self._engine.workers
        min_elements = self._engine.min_elements
        running: dict = {}  # future -> step position
        failures: list[tuple[int, BaseException]] = []
        stop = threading.Event()  # set when the run fails or is interrupted: running loops stop early
        me = (threading.get_native_id(), threading.current_thread().name)
        perf = time.perf_counter

        def finish(k: int, out) -> None:
            step = steps[k]
            if step.single:
                vals[step.outputs[0]] = out
            elif step.outputs:
                for slot, o in zip(step.outputs, out):
                    vals[slot] = o
            for j in successors[k]:
                waiting[j] -= 1
                if waiting[j] == 0:
                    heapq.heappush(ready, j)

        def collect(done) -> None:
            for fut in done:
                k = running.pop(fut)
                try:
                    out, record = fut.result()
                except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
                    failures.append((k, e))
                    stop.set()
                    continue
                if trace is not None:
                    trace[steps[k].index] = (*record[:2], out, record[2])
                if not failures:
                    finish(k, out)

        try:
            while ready or running:
                while ready and not failures:
                    if running:  # what the workers finished may free one of them and make more work ready
                        collect([f for f in running if f.done()])
                        if failures:
                            break
                    k = heapq.heappop(ready)
                    step = steps[k]
                    late = deadline_exceeded(step.op, deadline)
                    if late is not None:
                        failures.append((k, late))
                        break
                    args = [vals[i].value if d else vals[i] for i, d in zip(step.inputs, step.deref)]
                    # A costly op goes to a worker when another costly op runs or is ready to run beside it
                    # (handing it over costs a thread switch); when every worker is busy it waits for one,
                    # and the calling thread goes on with small ops.
                    to_pool = ((running or any(costly[j] for j in ready))
                               and sum(_elements(a) for a in args) >= min_elements)
                    if to_pool and len(running) >= workers:
                        heapq.heappush(ready, k)
                        break
                    for slot in set(step.inputs):
                        left = readers.get(slot)
                        if left is not None:
                            readers[slot] = left - 1
                            if left == 1:
                                vals[slot] = None
                    if to_pool:
                        running[pool.submit(_run_step, step, args, deadline, stop, trace is not None)] = k
                        continue
                    try:
                        t0 = perf()
                        out = step.execute(args)
                        if trace is not None:
                            trace[step.index] = (t0, perf(), out, me)
                    except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
                        failures.append((k, e))
                        stop.set()
                        break
                    finish(k, out)
                if not running:
                    break
                done, _ = futures.wait(running, timeout=0.05, return_when=futures.FIRST_COMPLETED)
                collect(done)
                if failures and not running:
                    break
                if deadline is not None and not failures and perf() > deadline and running:
                    k = min(running.values())
                    failures.append((k, deadline_exceeded(steps[k].op, deadline)))
                    stop.set()
        except BaseException:
            # An interrupt (or any error of the loop itself): stop the running loops and let the running
            # kernels end before the run does, so none of them writes into session state after run() returned.
            stop.set()
            futures.wait(running)
            raise
        if failures:
            futures.wait(running)
            # The first failure in plan order, as the serial engine would report; a CancelledError is only
            # the echo of another failure in a concurrent op.
            first = [f for f in failures if not isinstance(f[1], CancelledError)] or failures
            k, exc = min(first, key=lambda f: f[0])
            raise op_error(exc, steps[k].op) from None


def _run_step(step, args: list, deadline: float | None, stop: threading.Event, timed: bool):
    """A worker's part: runs one step under the run's deadline and stop signal; returns its outputs and, when
    the run is traced, (start, end, thread)."""
    with deadline_scope(deadline, stop):
        t0 = time.perf_counter()
        out = step.execute(args)
        t1 = time.perf_counter()
    record = (t0, t1, (threading.get_native_id(), threading.current_thread().name)) if timed else None
    return out, record


def _replay(plan: Plan, feed_values: Sequence, trace: dict, on_step, values: list | None) -> None:
    """Calls `on_step` for every step in plan order with the times and threads it really ran at, `values`
    holding what the serial loop would hold at that point (the tracer's memory model is the serial one).
    Constant-folded steps, which did not run, take no time where the serial loop would have handed them on:
    just after the steps before them (just before the first op for those that come first)."""
    latest = min((record[0] for record in trace.values()), default=time.perf_counter()) - 1e-6
    vals = values if values is not None else [None] * plan.n_slots
    for slot, v in zip(plan.feed_slots, feed_values):
        vals[slot] = v
    folded = plan.folded_outputs
    # The replaying thread, named for folded steps: a call without a thread is a live one, whose time since the
    # op's end the recorder takes off the step's clock (a replay is not on that clock).
    here = (threading.get_native_id(), threading.current_thread().name)
    for step in plan.steps:
        if folded[step.index] is not None:
            # Just after: the serial loop's own hand-on takes about this long, and a zero-length slice at the
            # very end of the op before it would be drawn inside that op.
            latest += 1e-7
            t0 = t1 = latest
            outs, thread = folded[step.index], here
        else:
            t0, t1, out, thread = trace[step.index]
            outs = (out,) if step.single else (tuple(out) if step.outputs else ())
            latest = max(latest, t1)
        for slot, o in zip(step.outputs, outs):
            vals[slot] = o
        on_step(step, t0, t1, outs, thread)
        for s in plan.dead_after[step.index]:
            vals[s] = None


class ParallelEngine(LocalEngine):
    """The in-process engine with `threads` workers per session for costly ops (started on first need and
    stopped when the session closes); the calling thread schedules and runs the small ops."""

    def __init__(self, graph: _ops.Graph, config=None, threads: int = 2) -> None:
        super().__init__(graph, config)
        self.workers = threads
        self.min_elements = _env_int("TFMINI_PARALLEL_MIN_ELEMENTS", PARALLEL_MIN_ELEMENTS)
        # Timed runs of each walk before an executable keeps the faster (0: always walk concurrently).
        self.trial_runs = _env_int("TFMINI_PARALLEL_TRIAL_RUNS", PARALLEL_TRIAL_RUNS)
        self._pool: futures.ThreadPoolExecutor | None = None

    def pool(self) -> futures.ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = futures.ThreadPoolExecutor(self.workers, thread_name_prefix="tfmini-inter-op")
        return self._pool

    def _executable(self, plan: Plan) -> LocalExecutable:
        return ParallelExecutable(plan, self)

    def close(self) -> None:
        super().close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _local_engine(graph: _ops.Graph, config=None) -> LocalEngine:
    """The engine for target '': serial with one thread, parallel with more (see `inter_op_threads`)."""
    threads = inter_op_threads(config)
    return LocalEngine(graph, config) if threads <= 1 else ParallelEngine(graph, config, threads)


_engine.register_engine("", _local_engine)
