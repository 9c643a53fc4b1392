"""Plans: prunes a graph to what a run needs, compiles the pruned ops into a `Plan` (resolved kernels and
value slots, constant folding, when each value dies, a generated run loop that runs the op chains of
`nn_ops.FUSED_CHAINS` as one kernel each) and runs it. Also the session state kernels see (`SessionState`:
variables, handles, random generators). Knows the registry's kernels, never an op type by name; engines
(`local_engine`) decide when and where plans run."""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import linecache
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Collection, Iterator, Sequence

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.ops import nn_ops as _nn_ops

DEVICE_NAME = "/job:localhost/replica:0/task:0/device:CPU:0"

# Like TensorFlow, kernels produce inf and nan silently. NumPy reports them as RuntimeWarnings attributed to
# the calling frame: a generated plan (module `tfmini._plan`), the plain step loop, or an op-library
# kernel. Filtering those locations costs nothing per run (np.errstate would cost more than a small op) and
# leaves warnings from the user's own NumPy code alone.
_KERNEL_MODULES = r"tfmini\._plan$|tfmini\.client\.executor$|tfmini\.ops\."


def silence_kernel_warnings() -> None:
    """Installs the filter unless present (called per engine too: tools such as pytest restore the filter
    list after each test)."""
    for _action, _, category, module, _ in warnings.filters:
        if category is RuntimeWarning and module is not None and module.pattern == _KERNEL_MODULES:
            return
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=_KERNEL_MODULES)


silence_kernel_warnings()


# ----------------------------------------------------------------------------------------------------------
# Session state
# ----------------------------------------------------------------------------------------------------------
# Settings of the run in progress on each thread, seen by kernels that run sub-plans (loop bodies) through
# `SessionState.check_deadline`: `deadline` is a perf_counter time, or None for a run without one.
_RUN = threading.local()


def _deadline_exceeded(op) -> _errors.DeadlineExceededError:
    return _errors.DeadlineExceededError(None, op, "Timed out waiting for notification")


def deadline_exceeded(op, deadline: float | None) -> _errors.DeadlineExceededError | None:
    """The error to raise before running `op` when `deadline` (perf_counter seconds) has passed, else None."""
    return _deadline_exceeded(op) if deadline is not None and time.perf_counter() > deadline else None


@contextlib.contextmanager
def deadline_scope(deadline: float | None, stop: threading.Event | None = None) -> Iterator[None]:
    """Within the block, looping kernels on this thread stop at `deadline` (the earlier of it and any
    deadline already in force) and, with CancelledError, once `stop` is set (a concurrent run whose other op
    failed or was interrupted); None for either changes nothing."""
    if deadline is None and stop is None:
        yield
        return
    outer, outer_stop = getattr(_RUN, "deadline", None), getattr(_RUN, "stop", None)
    if deadline is not None:
        _RUN.deadline = deadline if outer is None else min(outer, deadline)
    if stop is not None:
        _RUN.stop = stop
    try:
        yield
    finally:
        _RUN.deadline, _RUN.stop = outer, outer_stop


class RefCell:
    """The storage behind a ref-typed tensor (a Variable's value); reading it before assignment fails.

    `base` is the writable array that in-place kernels (AssignAdd, Apply*) update; `value` is a read-only
    view of it, so readers cannot write through it and fetched values are copied (see `as_result`). `lock`
    serializes the updates of ops run with `use_locking=True` (TF's mutex on a ref input); reads never take it.
    """

    __slots__ = ("name", "base", "_view", "op", "lock")

    def __init__(self, name: str, op=None) -> None:
        self.name = name
        self.base = None
        self._view = None
        self.op = op
        self.lock = threading.Lock()

    @property
    def value(self):
        v = self._view
        if v is None:
            raise _errors.FailedPreconditionError(
                None, self.op, f"Attempting to use uninitialized value {self.name}"
            )
        return v

    @value.setter
    def value(self, v) -> None:
        """Stores a private copy of `v` (the caller may keep and mutate its own array)."""
        base = np.array(v, copy=True)
        view = base.view() if isinstance(base, np.ndarray) else base
        if isinstance(view, np.ndarray):
            view.flags.writeable = False
        self.base, self._view = base, view

    def set_base(self, base: np.ndarray) -> None:
        """Adopts `base` (a fresh array no one else holds) as the storage, without copying."""
        view = base.view()
        view.flags.writeable = False
        self.base, self._view = base, view

    @property
    def initialized(self) -> bool:
        return self._view is not None


class SessionState:
    """Everything a session owns at run time. Kernels that need it receive it as `ctx`."""

    def __init__(self, graph: _ops.Graph, config=None) -> None:
        self.graph = graph
        self.config = config
        self.lock = threading.RLock()
        self.cells: dict[str, RefCell] = {}
        self.handles: dict[str, object] = {}
        self.generators: dict[_ops.Operation, np.random.Generator] = {}
        self.resources: dict[str, object] = {}
        self._handle_counter = itertools.count()
        # Set when the session closes: kernels that create resources (queues) refuse to create new ones.
        self.closed = False

    def cell(self, op: _ops.Operation) -> RefCell:
        """The RefCell of a stateful op (e.g. a variable), created on first use."""
        cell = self.cells.get(op.name)
        if cell is None:
            with self.lock:
                cell = self.cells.get(op.name)
                if cell is None:
                    cell = self.cells[op.name] = RefCell(op.name, op)
        return cell

    def close(self) -> None:
        """Marks the state closed and cancels every resource that can be (a queue's `cancel()` wakes the ops
        waiting on it with CancelledError), so runs blocked on them in other threads end."""
        with self.lock:
            self.closed = True
            resources = list(self.resources.values())
        for resource in resources:
            cancel = getattr(resource, "cancel", None)
            if callable(cancel):
                cancel()

    def new_handle(self, op_name: str, value) -> str:
        handle = f"{op_name};{next(self._handle_counter)};{DEVICE_NAME}"
        self.handles[handle] = value
        return handle

    def compile_subgraph(self, fetch_tensors: Sequence[_ops.Tensor], feed_tensors: Sequence[_ops.Tensor]) -> Callable:
        """A function `run(feed_values) -> fetched values` for a sub-graph (a FuncGraph body), compiled once,
        whose kernels share this session's state."""
        return compile_plan(self, tuple(fetch_tensors), tuple(feed_tensors), (), user_fed=(), raw_results=True).run

    @staticmethod
    def check_deadline(op: _ops.Operation) -> None:
        """Raises DeadlineExceededError naming `op` when the run on this thread has passed its deadline (or
        CancelledError when the run was cancelled). Kernels that can run for unbounded time (loops) call it once
        per iteration."""
        deadline = getattr(_RUN, "deadline", None)
        if deadline is not None and time.perf_counter() > deadline:
            raise _deadline_exceeded(op)
        stop = getattr(_RUN, "stop", None)
        if stop is not None and stop.is_set():
            raise _errors.CancelledError(None, op, "Step was cancelled: another op of it failed or it was interrupted")

    def generator(self, op: _ops.Operation, seed: int) -> np.random.Generator:
        """A per-op random generator, seeded deterministically, that advances across runs."""
        gen = self.generators.get(op)
        if gen is None:
            with self.lock:
                gen = self.generators.get(op)
                if gen is None:
                    gen = self.generators[op] = np.random.default_rng(seed)
        return gen


# ----------------------------------------------------------------------------------------------------------
# Errors from kernels
# ----------------------------------------------------------------------------------------------------------
def op_error(exc: BaseException, op: _ops.Operation) -> _errors.OpError:
    """Turns an exception raised while running `op` into the matching OpError naming the op and where user
    code created it."""
    if isinstance(exc, _errors.OpError):
        if getattr(exc, "_tfmini_located", False):
            return exc
        cls, msg = type(exc), exc.message
        op = exc.op or op
    elif isinstance(exc, MemoryError):
        cls, msg = _errors.ResourceExhaustedError, f"OOM when running {op.type}: {exc}"
    elif isinstance(exc, NotImplementedError):
        cls, msg = _errors.UnimplementedError, str(exc) or f"{op.type} is not implemented"
    elif isinstance(exc, (ValueError, TypeError, IndexError, ZeroDivisionError, FloatingPointError, KeyError,
                          OverflowError)):
        cls, msg = _errors.InvalidArgumentError, str(exc)
    else:
        cls, msg = _errors.InternalError, f"{type(exc).__name__}: {exc}"
    located = f"{msg}\n\t [[node {op.name} (defined at {op.where_created()}) ]]"
    err = cls(None, op, located)
    err._tfmini_located = True
    return err


# ----------------------------------------------------------------------------------------------------------
# Plans
# ----------------------------------------------------------------------------------------------------------
class Step:
    """One op of a plan: its kernel `fn` (called as `fn(*inputs, **kwargs)`, attrs resolved once), the slots it
    reads (and which of them to dereference: variables read as values) and the slots it writes."""

    __slots__ = ("op", "fn", "kwargs", "inputs", "deref", "outputs", "single", "index")

    def __init__(self, *, op, fn, kwargs, inputs, deref, outputs, single, index) -> None:
        self.op = op
        self.fn = fn
        self.kwargs = kwargs
        self.inputs = inputs
        self.deref = deref
        self.outputs = outputs
        self.single = single
        self.index = index

    def execute(self, args: list):
        """The kernel's result for these input values (the plain loop and constant folding call this; the
        generated run loop inlines the same call)."""
        return self.fn(*args, **self.kwargs) if self.kwargs else self.fn(*args)


def as_result(v):
    """A value as `Session.run` hands it out: 0-d arrays become NumPy scalars; shared read-only buffers
    (folded constants, variable storage) are copied so the caller may mutate what it gets."""
    if type(v) is np.ndarray:
        if v.ndim == 0:
            return v[()]
        if not v.flags.writeable:
            return v.copy()
    return v


def as_body_result(v):
    """A value as a body run inside a kernel hands it on: an array stays an array (0-d included), and shared
    read-only buffers are copied as for `as_result`, so a later in-place update cannot reach it."""
    if type(v) is np.ndarray and not v.flags.writeable:
        return v.copy()
    return v


class Plan:
    """A compiled run: the pruned ops in order with resolved kernels and slots, when each value dies, and the
    generated straight-line function that runs them."""

    def __init__(self, *, graph_version: int, steps: list[Step], slot_of: dict, feed_slots: list[int],
                 fetch_slots: list[int], fetch_deref: list[bool], n_slots: int, folded: dict[int, object],
                 dead_after: list[tuple[int, ...]], target_ops: list, raw_results: bool = False,
                 fused: dict[int, Fusion] | None = None) -> None:
        self.graph_version = graph_version
        self.steps = steps
        self.slot_of: dict[_ops.Tensor, int] = slot_of
        self.feed_slots = feed_slots
        self.fetch_slots = fetch_slots
        self.fetch_deref = fetch_deref
        self.n_slots = n_slots
        # Slot -> value computed at compile time (constant folding); those steps do not run.
        self.folded = folded
        # Per step, the slots it is the last reader of (fetched and folded values excepted): both run loops
        # drop them right after it, so a traced run holds no more memory than an untraced one.
        self.dead_after = dead_after
        self.target_ops = target_ops
        self.raw_results = raw_results
        # Last step index -> the op chain the generated run loop computes as one kernel there (the plain
        # loop, tracing, partial runs, the debugger and concurrent walks run every step as it is).
        self.fused = fused or {}
        self.fast_fn, self.line_to_step, self.source = _generate(self)

    @property
    def ops(self) -> list[_ops.Operation]:
        return [s.op for s in self.steps]

    @functools.cached_property
    def folded_outputs(self) -> list[tuple | None]:
        """Per step, its outputs' values when constant folding computed them all at compile time, else None."""
        return [tuple(self.folded[o] for o in step.outputs)
                if step.outputs and all(o in self.folded for o in step.outputs) else None for step in self.steps]

    @functools.cached_property
    def live_steps(self) -> list[Step]:
        """The steps that run (those constant folding did not compute)."""
        return [s for s in self.steps if self.folded_outputs[s.index] is None]

    # -- the fast path ---------------------------------------------------------
    def run(self, feed_values: Sequence) -> list:
        try:
            return self.fast_fn(feed_values)
        except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
            raise self._locate(e) from None

    def _locate(self, exc: BaseException) -> BaseException:
        tb = exc.__traceback__
        step = None
        code = self.fast_fn.__code__
        while tb is not None:
            if tb.tb_frame.f_code is code:
                step = self.line_to_step.get(tb.tb_lineno)
            tb = tb.tb_next
        if step is None:
            return exc
        return op_error(exc, step.op)

    # -- the plain path (tracing, timeouts, partial runs) ----------------------
    def run_steps(self, feed_values: Sequence, on_step: Callable | None = None, deadline: float | None = None,
                  values: list | None = None) -> list:
        """Runs every step in order; `on_step(step, seconds_start, seconds_end, outputs)` is called after each
        step when given. A step whose outputs were folded hands them on without running, as in the fast path.
        Past `deadline` (perf_counter seconds) the run fails with DeadlineExceededError, between steps here and
        inside looping kernels (which check it per iteration)."""
        with deadline_scope(deadline):
            return self._run_steps(feed_values, on_step, deadline, values)

    @functools.cached_property
    def _loop(self) -> list[tuple]:
        """Per step, what the plain loop reads of it: (the step, its input slots when it dereferences none of
        them else None, its (input slot, dereference) pairs, its outputs' values when folded else None, the
        slots that die after it)."""
        return [(step, None if any(step.deref) else step.inputs, tuple(zip(step.inputs, step.deref)),
                 self.folded_outputs[step.index], self.dead_after[step.index]) for step in self.steps]

    def _run_steps(self, feed_values: Sequence, on_step: Callable | None, deadline: float | None,
                   values: list | None) -> list:
        vals = values if values is not None else [None] * self.n_slots
        for slot, v in zip(self.feed_slots, feed_values):
            vals[slot] = v
        perf = time.perf_counter
        timed = on_step is not None
        t0 = t1 = 0.0
        for step, inputs, deref_inputs, folded, dead in self._loop:
            if deadline is not None and perf() > deadline:
                raise _deadline_exceeded(step.op)
            if folded is not None:
                if timed:
                    t0 = t1 = perf()
                out = folded[0] if step.single else folded
            else:
                try:
                    if inputs is not None:
                        args = [vals[i] for i in inputs]
                    else:
                        args = [vals[i].value if d else vals[i] for i, d in deref_inputs]
                    # The kernel is called as `Step.execute` calls it (read from the step each time).
                    kwargs = step.kwargs
                    if timed:
                        t0 = perf()
                        out = step.fn(*args, **kwargs) if kwargs else step.fn(*args)
                        t1 = perf()
                    else:
                        out = step.fn(*args, **kwargs) if kwargs else step.fn(*args)
                except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
                    raise op_error(e, step.op) from None
            if step.single:
                vals[step.outputs[0]] = out
                outs = (out,)
            else:
                outs = tuple(out) if step.outputs else ()
                for slot, o in zip(step.outputs, outs):
                    vals[slot] = o
            if timed:
                on_step(step, t0, t1, outs)
            for s in dead:
                vals[s] = None
        try:
            return [as_result(vals[s].value if d else vals[s]) for s, d in zip(self.fetch_slots, self.fetch_deref)]
        except _errors.OpError as e:
            raise e from None


def _needed_ops(fetch_tensors, target_ops, fed: set, done: frozenset) -> list[_ops.Operation]:
    needed: dict[_ops.Operation, None] = {}
    stack = [t.op for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed or op in done:
            continue
        needed[op] = None
        for t in op._inputs:
            if t not in fed:
                stack.append(t._op)
        # A fed source op (a placeholder) is satisfied by its feed, for control edges too, as in TF.
        stack.extend(c for c in op._control_inputs
                     if c._inputs or not c._outputs or not all(t in fed for t in c._outputs))
    return list(needed)


def _topological(ops_: list[_ops.Operation]) -> list[_ops.Operation]:
    """Creation order is topological unless control inputs were added to existing ops; check, else sort."""
    ordered = sorted(ops_, key=lambda o: o._id)
    pos = {op: i for i, op in enumerate(ordered)}
    if all(pos.get(t._op, -1) < pos[op] for op in ordered for t in op._inputs) and all(
        pos.get(c, -1) < pos[op] for op in ordered for c in op._control_inputs
    ):
        return ordered
    indeg = {op: 0 for op in ordered}
    users: dict[_ops.Operation, list] = {op: [] for op in ordered}
    for op in ordered:
        for dep in {t._op for t in op._inputs} | set(op._control_inputs):
            if dep in indeg:
                indeg[op] += 1
                users[dep].append(op)
    ready = [op for op in ordered if indeg[op] == 0]
    out = []
    while ready:
        ready.sort(key=lambda o: o._id)
        op = ready.pop(0)
        out.append(op)
        for u in users[op]:
            indeg[u] -= 1
            if indeg[u] == 0:
                ready.append(u)
    if len(out) != len(ordered):
        raise _errors.InvalidArgumentError(None, None, "Graph contains a cycle among the ops to run.")
    return out


def compile_plan(state: SessionState, fetch_tensors: Sequence[_ops.Tensor], feed_tensors: Sequence[_ops.Tensor],
                 target_ops: Sequence[_ops.Operation], done_ops: frozenset = frozenset(),
                 fold_constants: bool = True, user_fed: Collection[_ops.Tensor] | None = None,
                 raw_results: bool = False) -> Plan:
    """Prunes the graph to what `fetch_tensors` and `target_ops` need given `feed_tensors`, resolves kernels
    and value slots once, folds feed-independent stateless ops, and generates the fast run loop.
    `user_fed`: the feeds that are values a user fed (all of them by default); other feeds of ref-typed
    tensors hold variables' storage (a loop body's captured variables, a partial run's earlier results), so
    ops may update them in place. `raw_results`: return arrays as arrays (`as_body_result`, for a body run
    inside a kernel, whose results feed other kernels), not as `Session.run` hands them out (`as_result`:
    a 0-d string array would become `bytes`, which kernels do not take)."""
    graph = state.graph
    version = graph.version
    fed = set(feed_tensors)
    user_fed = fed if user_fed is None else set(user_fed)
    ops_ = _topological(_needed_ops(fetch_tensors, target_ops, fed, done_ops))

    slot_of: dict[_ops.Tensor, int] = {}
    for t in feed_tensors:
        slot_of.setdefault(t, len(slot_of))
    feed_slots = [slot_of[t] for t in feed_tensors]
    n_slots = len(slot_of)
    steps: list[Step] = []
    for op in ops_:
        opdef = op._opdef
        in_slots, deref = [], []
        for i, t in enumerate(op._inputs):
            if t not in slot_of:
                raise _errors.InvalidArgumentError(
                    None, op, f"Input {i} of node {op.name} was not computed before it ({t.name})."
                )
            if t in user_fed and i in opdef.ref_inputs:
                # A fed value is no variable: an op that updates its input in place cannot take it (TF rejects
                # the feed the same way, naming both dtypes).
                raise op_error(_errors.InvalidArgumentError(
                    None, op, f"Input {i} of node {op.name} was passed {t.dtype.base_dtype.name} from {t.name} "
                    f"incompatible with expected {t.dtype._as_ref.name}."
                ), op)
            in_slots.append(slot_of[t])
            deref.append(t._dtype.is_ref and not opdef.forwards_refs and i not in opdef.ref_inputs)
        out_slots = []
        for t in op._outputs:
            # A fed output keeps its feed's slot; what its producer computes for it goes to a scratch slot.
            if t not in fed:
                slot_of[t] = n_slots
            out_slots.append(n_slots)
            n_slots += 1
        try:
            fn, kwargs = opdef.kernel_call(op, state)
        except Exception as e:  # noqa: BLE001 - a kernel that cannot be built fails its op
            raise op_error(e, op) from None
        steps.append(Step(op=op, fn=fn, kwargs=kwargs, inputs=in_slots, deref=deref, outputs=out_slots,
                          single=opdef.single_output, index=len(steps)))

    fetch_slots, fetch_deref = [], []
    for t in fetch_tensors:
        if t not in slot_of:
            raise _errors.InvalidArgumentError(None, t.op, f"Tensor {t.name} was not computed by the plan.")
        fetch_slots.append(slot_of[t])
        fetch_deref.append(t._dtype.is_ref)

    folded = _fold_constants(steps, fed) if fold_constants else {}
    fused = _fused_chains(state, steps, folded, set(feed_slots), set(fetch_slots))
    return Plan(graph_version=version, steps=steps, slot_of=slot_of, feed_slots=feed_slots,
                fetch_slots=fetch_slots, fetch_deref=fetch_deref, n_slots=n_slots, folded=folded,
                dead_after=_dead_after(steps, folded, fetch_slots), target_ops=list(target_ops),
                raw_results=raw_results, fused=fused)


def _dead_after(steps: list[Step], folded: dict, fetch_slots: list[int]) -> list[tuple[int, ...]]:
    """Per step, the slots whose last reader among the steps that run it is (fetched and folded values are
    kept): the one liveness table both run loops and the tracer's memory model use."""
    last: dict[int, int] = {}
    for step in steps:
        if step.outputs and all(o in folded for o in step.outputs):
            continue
        for slot in step.inputs:
            last[slot] = step.index
    dead: list[list[int]] = [[] for _ in steps]
    kept = set(fetch_slots) | set(folded)
    for slot, k in last.items():
        if slot not in kept:
            dead[k].append(slot)
    return [tuple(sorted(d)) for d in dead]


def _fold_constants(steps: list[Step], fed: set) -> dict[int, object]:
    """Evaluates stateless steps whose inputs are all known at compile time; returns slot -> value."""
    known: dict[int, object] = {}
    for step in steps:
        opdef = step.op._opdef
        if opdef.stateful or any(d for d in step.deref) or any(s not in known for s in step.inputs):
            continue
        if step.op._control_inputs:
            # Its control dependencies must run before its consumers do (e.g. limit_epochs' counter before
            # the enqueue that reads the identity it guards): a folded value would drop that edge from a
            # concurrent walk's schedule.
            continue
        if any(t in fed for t in step.op._outputs):
            continue
        try:
            # As at run time, inf/nan results are silent (TF raises no warnings for them).
            with np.errstate(all="ignore"):
                out = step.execute([known[s] for s in step.inputs])
        except Exception:  # noqa: BLE001 - left to fail at run time, with the op named
            continue
        outs = (out,) if step.single else tuple(out)
        for slot, v in zip(step.outputs, outs):
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
            known[slot] = v
    return known


class _PlanNumbers:
    """Numbers for plans' file names, reused once a plan is gone: CPython keeps a compiled file name (interned
    with its code), so a fresh name per plan would grow memory by one string for every plan ever compiled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[int] = []
        self._next = itertools.count(1)

    def take(self) -> int:
        with self._lock:
            return heapq.heappop(self._free) if self._free else next(self._next)

    def give_back(self, number: int) -> None:
        with self._lock:
            heapq.heappush(self._free, number)


_plan_numbers = _PlanNumbers()


def _forget_plan(filename: str, number: int) -> None:
    linecache.cache.pop(filename, None)
    _plan_numbers.give_back(number)


def _generate(plan: Plan) -> tuple[Callable, dict[int, Step], str]:
    """Generates the plan's run loop as Python source (slots become locals, dead values are deleted after
    their last use, each call is commented with its op's name and type), compiles it and registers the
    source with `linecache` under the plan's own file name, so tracebacks and debuggers show it. Names from
    the graph appear only in comments, escaped with `ascii()` (a comment cannot end early); the code itself
    holds slot numbers only. A fused chain (`plan.fused`) is one call, at its last op's place."""
    folded, steps = plan.folded, plan.live_steps
    env: dict[str, object] = {"_as_result": as_body_result if plan.raw_results else as_result,
                              "__name__": "tfmini._plan"}
    lines = ["def _plan_run(feeds):"]
    line_to_step: dict[int, Step] = {}
    for j, slot in enumerate(plan.feed_slots):
        lines.append(f"    s{slot} = feeds[{j}]")
    inplace = _inplace_kernels(steps, set(plan.feed_slots), set(plan.fetch_slots), folded)
    hidden = {s.index for f in plan.fused.values() for s in f.steps[:-1]}
    # (step, kernel, kwargs, input slots, dereferences) per call, in order.
    calls: list[tuple[Step, Callable, dict, Sequence[int], Sequence[bool]]] = []
    for step in steps:
        fusion = plan.fused.get(step.index)
        if fusion is not None:
            calls.append((step, fusion.kernel, {}, fusion.inputs, fusion.deref))
        elif step.index not in hidden:
            fn, kwargs = (inplace[step.index], {}) if step.index in inplace else (step.fn, step.kwargs)
            calls.append((step, fn, kwargs, step.inputs, step.deref))
    if plan.fused:
        # The calls read other slots at other places than the steps: when each value dies follows them.
        kept = set(plan.fetch_slots) | set(folded)
        last = {slot: k for k, call in enumerate(calls) for slot in call[3]}
        dead: list[list[int]] = [[] for _ in calls]
        for slot, k in last.items():
            if slot not in kept:
                dead[k].append(slot)
        dead_after = [tuple(sorted(d)) for d in dead]
    else:
        dead_after = [plan.dead_after[call[0].index] for call in calls]

    def ref(slot: int, deref: bool) -> str:
        base = f"C{slot}" if slot in folded else f"s{slot}"
        return f"{base}.value" if deref else base

    for slot, v in folded.items():
        env[f"C{slot}"] = v
    for (step, fn, kwargs, inputs, derefs), dead_slots in zip(calls, dead_after):
        # Attrs are passed as keyword constants in the call itself: cheaper than any bound wrapper.
        env[f"K{step.index}"] = fn
        args = [ref(s, d) for s, d in zip(inputs, derefs)]
        for name, value in kwargs.items():
            env[f"A{step.index}_{name}"] = value
            args.append(f"{name}=A{step.index}_{name}")
        call = f"K{step.index}({', '.join(args)})"
        fusion = plan.fused.get(step.index)
        if fusion is None:
            lines.append(f"    # {ascii(step.op.name)} ({ascii(step.op.type)})")
        else:
            chain = " -> ".join(f"{ascii(s.op.name)} ({ascii(s.op.type)})" for s in fusion.steps)
            lines.append(f"    # fused: {chain}")
        if step.single:
            lines.append(f"    s{step.outputs[0]} = {call}")
        elif step.outputs:
            lines.append(f"    {', '.join(f's{o}' for o in step.outputs)}, = {call}")
        else:
            lines.append(f"    {call}")
        line_to_step[len(lines)] = step
        if dead_slots:
            lines.append(f"    del {', '.join(f's{s}' for s in dead_slots)}")
    outs = [f"_as_result({ref(s, d)})" for s, d in zip(plan.fetch_slots, plan.fetch_deref)]
    lines.append(f"    return [{', '.join(outs)}]")
    line_to_step[len(lines)] = _fetch_step(plan.steps, plan.fetch_slots)
    # Kernels, constants and attrs become parameter defaults: read as fast locals, not global lookups.
    names = sorted(n for n in env if not n.startswith("__"))
    lines[0] = f"def _plan_run(feeds, {', '.join(f'{n}={n}' for n in names)}):"
    source = "\n".join(lines) + "\n"
    number = _plan_numbers.take()
    filename = f"<tfmini plan {number}>"
    code = compile(source, filename, "exec")
    exec(code, env)  # noqa: S102 - source generated above from slot numbers; names only in escaped comments
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(plan, _forget_plan, filename, number)
    return env["_plan_run"], line_to_step, source


class Fusion:
    """An op chain the generated run loop computes with one kernel: `steps` (each reading the previous one's
    output as its input 0, which nothing else reads), `kernel` (called with the values of `inputs`, those
    marked in `deref` dereferenced; it returns the last step's output)."""

    __slots__ = ("steps", "kernel", "inputs", "deref")

    def __init__(self, steps: tuple[Step, ...], kernel: Callable) -> None:
        self.steps = steps
        self.inputs = tuple(steps[0].inputs) + tuple(s for st in steps[1:] for s in st.inputs[1:])
        self.deref = tuple(steps[0].deref) + tuple(d for st in steps[1:] for d in st.deref[1:])
        self.kernel = _with_located_errors(kernel, steps)


def _with_located_errors(kernel: Callable, steps: tuple[Step, ...]) -> Callable:
    """`kernel`, but when it fails the chain's steps run one by one (kernels never write into their inputs, so
    they see what it saw): the error raised is the failing op's own, naming it, as without fusion."""
    def fused(*args):
        try:
            return kernel(*args)
        except Exception:  # noqa: BLE001 - the steps below raise the error of the op that fails
            pass
        return _run_chain(steps, args)

    return fused


def _run_chain(steps: tuple[Step, ...], args: tuple):
    at = len(steps[0].inputs)
    value = None
    for k, step in enumerate(steps):
        if k == 0:
            step_args = list(args[:at])
        else:
            n = len(step.inputs) - 1
            step_args = [value, *args[at:at + n]]
            at += n
        try:
            value = step.execute(step_args)
        except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
            raise op_error(e, step.op) from None
    return value


def _fused_chains(state: SessionState, steps: list[Step], folded: dict, feed_slots: set,
                  fetched: set) -> dict[int, Fusion]:
    """The op chains of `nn_ops.FUSED_CHAINS` the generated run loop may run as one kernel, by their last
    step's index: each op's output is read only by the next op (as its input 0), is neither fed, fetched nor
    folded, and no op has a control dependency on it; and no step that runs between the chain's first and
    last op may update a variable in place (the chain reads its inputs at its last op's place)."""
    chains = _nn_ops.FUSED_CHAINS
    firsts = {types[0] for types in chains}
    live = [s for s in steps if not (s.outputs and all(o in folded for o in s.outputs))]
    if not any(s.op.type in firsts for s in live):
        return {}
    readers: dict[int, list[tuple[Step, int]]] = {}
    for st in live:
        for pos, slot in enumerate(st.inputs):
            readers.setdefault(slot, []).append((st, pos))
    controlled = {c for st in live for c in st.op._control_inputs}
    position = {st.index: k for k, st in enumerate(live)}
    taken: set[int] = set()
    fused: dict[int, Fusion] = {}
    for types, factory in chains.items():
        for first in live:
            if first.op.type != types[0] or first.index in taken:
                continue
            chain = _match_chain(first, types, readers, controlled, folded, feed_slots, fetched, taken)
            if chain is None:
                continue
            between = live[position[first.index] + 1:position[chain[-1].index]]
            if any(st.op._opdef.ref_inputs or st.op._opdef.forwards_refs for st in between if st not in chain):
                continue
            kernel = factory(*(st.op for st in chain), ctx=state)
            if kernel is None:
                continue
            taken.update(st.index for st in chain)
            fused[chain[-1].index] = Fusion(tuple(chain), kernel)
    return fused


def _match_chain(first: Step, types: tuple[str, ...], readers: dict, controlled: set, folded: dict,
                 feed_slots: set, fetched: set, taken: set[int]) -> list[Step] | None:
    """The steps from `first` along sole readers whose op types are `types`, or None where that breaks."""
    chain = [first]
    for op_type in types[1:]:
        cur = chain[-1]
        if not cur.single or len(cur.outputs) != 1 or cur.op in controlled:
            return None
        slot = cur.outputs[0]
        if slot in fetched or slot in folded or slot in feed_slots:
            return None
        users = readers.get(slot, ())
        if len(users) != 1:
            return None
        nxt, pos = users[0]
        if pos != 0 or nxt.op.type != op_type or nxt.deref[0] or nxt.index in taken:
            return None
        chain.append(nxt)
    last = chain[-1]
    return chain if last.single and len(last.outputs) == 1 else None


def _inplace_kernels(live_steps: list[Step], feed_slots: set, fetched: set, folded: dict) -> dict[int, Callable]:
    """Step index -> an in-place variant of its kernel, for steps whose input 0 is a value the plan owns
    outright: produced fresh by a kernel (not a feed, constant, variable or view), read by no other step,
    not fetched, and of the output's dtype and a static shape compatible with the output's (checked at run
    time when the static shapes do not prove them equal). Such a step reuses that buffer instead of
    allocating (e.g. MatMul -> bias Add -> Relu runs in one buffer, also with an unknown batch dim)."""
    producer = {o: st for st in live_steps for o in st.outputs}
    readers: dict[int, int] = {}
    for st in live_steps:
        for slot in set(st.inputs):
            readers[slot] = readers.get(slot, 0) + 1
    chosen: dict[int, Callable] = {}
    for step in live_steps:
        make = step.op._opdef.inplace
        if make is None or not step.single or not step.inputs or step.deref[0]:
            continue
        slot = step.inputs[0]
        prod = producer.get(slot)
        if (prod is None or not prod.op._opdef.fresh_output or readers.get(slot) != 1 or slot in fetched
                or slot in folded or slot in feed_slots):
            continue
        src, out = step.op.inputs[0], step.op.outputs[0]
        if not (src.shape.ndims and src.dtype.base_dtype == out.dtype.base_dtype
                and src.shape.is_compatible_with(out.shape)):
            continue
        kernel = make(step.op)
        if kernel is None:
            continue
        if src.shape.is_fully_defined() and src.shape.as_tuple() == out.shape.as_tuple():
            chosen[step.index] = kernel
        else:
            chosen[step.index] = _shape_checked(kernel, step.fn, step.kwargs)
    return chosen


def _shape_checked(inplace: Callable, plain: Callable, kwargs: dict) -> Callable:
    """An in-place kernel for a step whose static shapes do not prove the output has input 0's shape (a batch
    dim unknown until run time): NumPy refuses, before writing anything, an `out=` of another shape than the
    result's, and the plain kernel then computes (or rejects) the step as it always does."""
    def kernel(x, *rest):
        try:
            return inplace(x, *rest)
        except ValueError:
            return plain(x, *rest, **kwargs)

    return kernel


def _fetch_step(steps, fetch_slots):
    """The step whose output a failing fetch read (for errors raised while dereferencing a fetched ref)."""
    for step in reversed(steps):
        if any(o in fetch_slots for o in step.outputs):
            return step
    return steps[-1] if steps else None


__all__ = ["Fusion", "Plan", "RefCell", "SessionState", "Step", "compile_plan", "op_error"]
