"""The worker side of distributed tfmini, without Dask: the state a task keeps for every session and graph that
runs there (`WorkerResources`), the per-step exchange of tensors between partitions (`StepRendezvous`), the
session state a partition's kernels see (`WorkerSessionState`) and the runner of one registered partition
(`PartitionRunner`). The transport that moves values between workers plugs in through
`StepRendezvous.remote_put`; nothing here knows how it does so."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence

import numpy as np

from tfmini.client import tracing
from tfmini.client.executor import RefCell, SessionState, compile_plan, deadline_scope
from tfmini.framework import errors as _errors
from tfmini.framework import graph_io
from tfmini.framework import ops as _ops
from tfmini.framework.func_graph import FuncGraph
from tfmini.ops.sendrecv_ops import parse_rendezvous_key
from tfmini.protobuf import graph_pb2, step_stats_pb2

# Op types whose storage TF names by the node's name when `shared_name` is empty (its variable kernels share
# by node name; every other resource kernel makes a private name then).
_NODE_NAME_SHARING = frozenset({"VariableV2", "Variable"})


def task_of_device(device: str) -> str:
    """'/job:ps/replica:0/task:0' for '/job:ps/replica:0/task:0/device:CPU:0' (a task name stays itself)."""
    at = device.find("/device:")
    return device if at < 0 else device[:at]


def _default_container(task: str) -> str:
    """TF's default container of a task's resource manager: the task's job name."""
    for part in task.split("/"):
        if part.startswith("job:"):
            return part[4:]
    return "localhost"


# ----------------------------------------------------------------------------------------------------------
# The state of a task, shared by every session and graph that runs there
# ----------------------------------------------------------------------------------------------------------
class WorkerResources:
    """Everything a task keeps between steps, for every session and every graph run on it, by TF's keys:
    ref variables by (container, shared_name or node name), resource variables by (container, shared_name or
    node name) as `resource_variable_ops` keys them, and shared queues, readers, tables, iterators and
    accumulators by (kind, container, shared_name). An empty container is the task's default container, named
    after its job, as in TF.

    `reset(containers)` drops what those containers hold (all of them for None): queues are cancelled (their
    waiters end with CancelledError), variables become uninitialized for every runner that held them, and
    each `PartitionRunner` on this task recompiles its plan before its next step (`generation` changed)."""

    def __init__(self, task: str = "/job:localhost/replica:0/task:0") -> None:
        self.task = task
        self.default_container = _default_container(task)
        # One lock for the whole task: kernels of different sessions create shared state under it.
        self.lock = threading.RLock()
        self.cells: dict = {}
        self.resources: dict = {}
        self.generation = 0
        self._sessions: dict[str, SessionTables] = {}
        self._tables: weakref.WeakSet = weakref.WeakSet()

    def session_tables(self, session: str | None = None) -> SessionTables:
        """The per-session state of `session` on this task, shared by every partition registered for it (a
        fresh one, private to its caller, for None)."""
        with self.lock:
            tables = self._sessions.get(session) if session is not None else None
            if tables is None:
                tables = SessionTables()
                self._tables.add(tables)
                if session is not None:
                    self._sessions[session] = tables
            return tables

    def close_session(self, session: str) -> None:
        """Forgets what `session` kept here (its unshared queues are cancelled); shared state stays."""
        with self.lock:
            tables = self._sessions.pop(session, None)
        if tables is not None:
            for resource in tables.clear():
                _cancel(resource)

    def _container(self, key) -> str | None:
        """The container a cell or resource key belongs to (None: a key no container names)."""
        if isinstance(key, tuple) and len(key) == 3 and isinstance(key[1], str):
            container = key[1]
        elif isinstance(key, str) and key.startswith("resource:"):
            container = key.split(":", 2)[1]
        else:
            return None
        return container or self.default_container

    def containers(self) -> set[str]:
        """The containers that hold something."""
        with self.lock:
            found = {self._container(k) for k in (*self.cells, *self.resources)}
        return {c for c in found if c is not None}

    def reset(self, containers: Iterable[str] | None = None) -> None:
        """Drops what `containers` hold (every container when None), cancelling their queues; per-session
        resources no container names (unshared queues) go with the default container. Containers are named as
        TF names them: what an op without a container made is in the default container (named after the
        task's job), so an empty name matches nothing."""
        wanted = None if containers is None else set(containers)
        with self.lock:
            dropped_cells = [k for k in self.cells if wanted is None or self._container(k) in wanted]
            dropped = [k for k in self.resources if wanted is None or self._container(k) in wanted]
            cells = [self.cells.pop(k) for k in dropped_cells]
            resources = [self.resources.pop(k) for k in dropped]
            if wanted is None or self.default_container in wanted:
                for tables in list(self._tables):
                    resources.extend(tables.clear())
            self.generation += 1
        for cell in cells:
            _forget(cell)
        for resource in resources:
            _cancel(resource)


def _forget(cell) -> None:
    """Makes a dropped variable's storage uninitialized for any plan still holding it."""
    if isinstance(cell, RefCell):
        cell.base = None
        cell._view = None


def _cancel(resource) -> None:
    cancel = getattr(resource, "cancel", None)
    if callable(cancel):
        cancel()


class SessionTables:
    """What TF keeps per session on a task rather than per container, by node name, so every partition of
    one session shares it (TF shares a session's stateful kernels across its partitions by node name): the
    unshared resources (queues and readers without a shared_name), other ops' cells, random generators and
    session handles."""

    def __init__(self) -> None:
        self.cells: dict = {}
        self.resources: dict = {}
        self.generators: dict = {}
        self.handles: dict[str, object] = {}
        self.handle_counter = itertools.count()

    def clear(self) -> list:
        """Forgets the resources and cells (a reset of the default container); returns the resources, for the
        caller to cancel."""
        dropped = list(self.resources.values())
        self.resources.clear()
        for cell in self.cells.values():
            _forget(cell)
        self.cells.clear()
        return dropped


def _node_id(op: _ops.Operation):
    """What names `op` in every partition of a session: its name, with its function's for a body's op."""
    graph = op.graph
    return (graph.name, op.name) if isinstance(graph, FuncGraph) else op.name


def _by_name(key):
    """A key with its ops replaced by their names: the same node of two partitions of one session is one op."""
    if isinstance(key, _ops.Operation):
        return _node_id(key)
    if isinstance(key, tuple):
        return tuple(_node_id(k) if isinstance(k, _ops.Operation) else k for k in key)
    return key


class _Generators(MutableMapping):
    """A session state's random generators, kept by op name in the session's tables."""

    def __init__(self, table: dict) -> None:
        self.table = table

    def __getitem__(self, op):
        return self.table[_by_name(op)]

    def __setitem__(self, op, value) -> None:
        self.table[_by_name(op)] = value

    def __delitem__(self, op) -> None:
        del self.table[_by_name(op)]

    def get(self, op, default=None):
        return self.table.get(_by_name(op), default)

    def __iter__(self) -> Iterator:
        return iter(list(self.table))

    def __len__(self) -> int:
        return len(self.table)


class _RoutedResources(MutableMapping):
    """A session state's `resources`: keys (kind, container, shared name) live in the task's shared table,
    every other key (an unshared queue keyed by its op, a Print counter) in the session's tables, by op name."""

    def __init__(self, shared: dict, private: dict) -> None:
        self.shared = shared
        self.private = private

    @staticmethod
    def _is_shared(key) -> bool:
        return isinstance(key, tuple) and len(key) == 3 and all(isinstance(k, str) for k in key)

    def _route(self, key) -> tuple[dict, object]:
        return (self.shared, key) if self._is_shared(key) else (self.private, _by_name(key))

    def __getitem__(self, key):
        table, key = self._route(key)
        return table[key]

    def __setitem__(self, key, value) -> None:
        table, key = self._route(key)
        table[key] = value

    def __delitem__(self, key) -> None:
        table, key = self._route(key)
        del table[key]

    def __contains__(self, key) -> bool:
        table, key = self._route(key)
        return key in table

    def get(self, key, default=None):
        table, key = self._route(key)
        return table.get(key, default)

    def setdefault(self, key, default=None):
        table, key = self._route(key)
        return table.setdefault(key, default)

    def __iter__(self) -> Iterator:
        yield from list(self.private)
        yield from list(self.shared)

    def __len__(self) -> int:
        return len(self.private) + len(self.shared)


class WorkerSessionState(SessionState):
    """The session state the kernels of one partition see on a worker: variables and shared resources come
    from the task's `WorkerResources` (so every graph run there shares them by container and name), while
    what TF keeps per session (unshared queues, random generators, session handles) comes from the
    `SessionTables` of `session`, shared by every partition of that session on the task (private to this
    state when `session` is None). `rendezvous` is the rendezvous of the step running on the calling thread
    (None outside a step)."""

    def __init__(self, graph: _ops.Graph, resources: WorkerResources, config=None,
                 session: str | None = None) -> None:
        super().__init__(graph, config)
        self.worker = resources
        self.session = session
        self.tables = resources.session_tables(session)
        self.lock = resources.lock
        self.cells = resources.cells
        self.resources = _RoutedResources(resources.resources, self.tables.resources)
        self.generators = _Generators(self.tables.generators)
        self.handles = self.tables.handles
        self._handle_counter = self.tables.handle_counter
        self._step = threading.local()

    def new_handle(self, op_name: str, value) -> str:
        """A session handle naming this task's device, as TF's handles name the device that keeps the value."""
        handle = f"{op_name};{next(self._handle_counter)};{self.worker.task}/device:CPU:0"
        self.handles[handle] = value
        return handle

    @property
    def rendezvous(self):
        return getattr(self._step, "rendezvous", None)

    @contextlib.contextmanager
    def running(self, rendezvous) -> Iterator[None]:
        """Within the block, kernels on this thread transfer tensors through `rendezvous`."""
        outer = getattr(self._step, "rendezvous", None)
        self._step.rendezvous = rendezvous
        try:
            yield
        finally:
            self._step.rendezvous = outer

    def cell(self, op: _ops.Operation) -> RefCell:
        """A variable's storage from the task's shared table (keyed by container and shared name, or node name
        for TF's variables); other ops' cells stay with this session graph."""
        key = self._shared_cell_key(op)
        if key is None:
            table, key, name = self.tables.cells, _node_id(op), op.name
        else:
            table, name = self.cells, key[2]
        cell = table.get(key)
        if cell is None:
            with self.lock:
                cell = table.get(key)
                if cell is None:
                    cell = table[key] = RefCell(name, op)
        if cell.op is not None and cell.op is not op:
            _check_shared_dtype(op, cell.op)
        return cell

    @staticmethod
    def _shared_cell_key(op: _ops.Operation) -> tuple | None:
        attrs = op._attrs
        if "shared_name" not in attrs or "container" not in attrs or not op._outputs:
            return None
        if not op._outputs[0].dtype.is_ref:
            return None
        shared = _text(attrs["shared_name"])
        if not shared and op.type not in _NODE_NAME_SHARING:
            return None
        kind = "variable" if op.type in _NODE_NAME_SHARING else op.type
        return (kind, _text(attrs["container"]), shared or op.name)

    def close(self) -> None:
        """Marks this state closed; what a private state (no session) kept is cancelled and dropped (a named
        session's state goes with `WorkerResources.close_session`)."""
        self.closed = True
        if self.session is None:
            with self.lock:
                dropped = self.tables.clear()
            for resource in dropped:
                _cancel(resource)


# TF's names of the dtypes whose name differs from NumPy's.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _check_shared_dtype(op: _ops.Operation, maker: _ops.Operation) -> None:
    """TF's InternalError when a graph declares a variable another graph made on this task with another
    dtype (its kernel's output would not be of the type the graph declares)."""
    have, want = maker._outputs[0].dtype, op._outputs[0].dtype
    if have != want:
        def name(dtype):
            return _TF_TYPE_NAMES.get(dtype.base_dtype.name, dtype.base_dtype.name) + "_ref"

        raise _errors.InternalError(
            None, op, f"Output 0 of type {name(have)} does not match declared output type {name(want)} for node "
            f"{op.name}")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# ----------------------------------------------------------------------------------------------------------
# The rendezvous of one step on one task
# ----------------------------------------------------------------------------------------------------------
class StepRendezvous:
    """The tensors of one step (`step_id`) on one task (`task`, '/job:J/replica:0/task:T'), by TF's rendezvous
    keys. Thread-safe.

    `send` keeps a value whose receiving device is this task, or that the client will collect (a
    client-terminated send), and hands any other to `remote_put(task, key, value)` (the transport, which calls
    `put` on the receiving task's rendezvous). A value put before its recv waits for it; each value is
    received once. `recv` blocks until the value is there, the step is aborted (CancelledError, or the abort's
    DeadlineExceededError) or the deadline passes (DeadlineExceededError naming the op). Values sent by
    reference to read-only storage (variables, constants) are copied, so a later in-place update of the sender
    cannot change what was sent."""

    def __init__(self, task: str = "/job:localhost/replica:0/task:0", step_id: int = 0,
                 remote_put: Callable[[str, str, object], None] | None = None,
                 deadline: float | None = None) -> None:
        self.task = task
        self.step_id = step_id
        self.remote_put = remote_put
        self.deadline = deadline
        self._values: dict[str, object] = {}
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        # Set on abort: looping kernels (queue waits, While) of this step stop with CancelledError.
        self.stopped = threading.Event()

    @property
    def error(self) -> BaseException | None:
        """The error the step was aborted with, or None."""
        return self._error

    def bound(self, deadline: float | None) -> None:
        """Makes the earlier of `deadline` and the current one bound every wait of the step."""
        if deadline is not None:
            with self._cond:
                self.deadline = deadline if self.deadline is None else min(self.deadline, deadline)
                self._cond.notify_all()

    def put(self, key: str, value) -> None:
        """Deposits `value` under `key` for a recv on this task (dropped once the step is aborted)."""
        with self._cond:
            if self._error is not None:
                return
            self._values[key] = value
            self._cond.notify_all()

    def send(self, key: str, value, op=None, client_terminated: bool = False) -> None:
        """Sends `value` under `key` to the task of the key's receiving device (kept here for this task and for
        the client)."""
        if self._error is not None:
            raise self._aborted_error(op)
        if isinstance(value, np.ndarray) and not value.flags.writeable:
            value = value.copy()
        if client_terminated:
            self.put(key, value)
            return
        task = task_of_device(parse_rendezvous_key(key)[2])
        if task == self.task:
            self.put(key, value)
        elif self.remote_put is None:
            raise _errors.InternalError(None, op, f"No transport to send {key} from {self.task} to {task}.")
        else:
            self.remote_put(task, key, value)

    def recv(self, key: str, op=None, deadline: float | None = None):
        """The value sent under `key`, once; waits for it until the step's (or the given, earlier) deadline."""
        with self._cond:
            while True:
                if key in self._values:
                    return self._values.pop(key)
                if self._error is not None:
                    raise self._aborted_error(op)
                limit = self.deadline if deadline is None else (
                    deadline if self.deadline is None else min(deadline, self.deadline))
                if limit is None:
                    self._cond.wait()
                    continue
                left = limit - time.perf_counter()
                if left <= 0:
                    raise _errors.DeadlineExceededError(None, op, "Timed out waiting for notification")
                self._cond.wait(left)

    def abort(self, error: BaseException | None = None) -> None:
        """Ends the step here: every waiting and later recv fails (CancelledError, or DeadlineExceededError when
        `error` is one) and the values kept are dropped. The first abort's error is kept."""
        with self._cond:
            if self._error is None:
                self._error = error if error is not None else _errors.CancelledError(None, None, "Step was cancelled")
                self._values.clear()
            self._cond.notify_all()
        self.stopped.set()

    def _aborted_error(self, op) -> _errors.OpError:
        error = self._error
        message = getattr(error, "message", None) or str(error)
        if isinstance(error, _errors.DeadlineExceededError):
            return _errors.DeadlineExceededError(None, op, message)
        return _errors.CancelledError(None, op, f"Step {self.step_id} was aborted: {message}")

    def pending(self) -> list[str]:
        """The keys of values kept and not yet received."""
        with self._cond:
            return list(self._values)


# ----------------------------------------------------------------------------------------------------------
# One registered partition
# ----------------------------------------------------------------------------------------------------------
def _importable_names(graph_def) -> tuple[graph_pb2.GraphDef, dict[str, str]]:
    """`graph_def` with the node names an import refuses (TF's '_send_x_0', '_recv_x_0') renamed, and
    imported name -> partition name for those."""
    bad = [nd.name for nd in graph_def.node if not _ops.op_name_is_valid(nd.name)]
    if not bad:
        return graph_def, {}
    taken = {nd.name for nd in graph_def.node}
    renamed: dict[str, str] = {}
    for name in bad:
        base = "tfmini" + (name if name.startswith("_") else "_" + name)
        new, k = base, 1
        while new in taken or not _ops.op_name_is_valid(new):
            new, k = f"{base}_{k}", k + 1
        taken.add(new)
        renamed[name] = new
    gd = graph_pb2.GraphDef()
    gd.CopyFrom(graph_def)
    for nd in gd.node:
        nd.name = renamed.get(nd.name, nd.name)
        for i, inp in enumerate(nd.input):
            control = inp.startswith("^")
            node, sep, port = (inp[1:] if control else inp).partition(":")
            if node in renamed:
                nd.input[i] = ("^" if control else "") + renamed[node] + sep + port
    return gd, {new: old for old, new in renamed.items()}


_TRANSFER_OPS = frozenset({"_Send", "_HostSend", "_Recv", "_HostRecv"})


def _label(nd) -> str:
    """A node's timeline label as TF writes it: a transfer names the tensor it carries and the device at its
    other end (what the trace view pairs a send with its receive by); other nodes list their inputs."""
    if nd.op in ("_Send", "_HostSend"):
        return f"{nd.name} = {nd.op}({nd.attr['tensor_name'].s.decode()} @{nd.attr['recv_device'].s.decode()})"
    if nd.op in ("_Recv", "_HostRecv"):
        return f"{nd.name} = {nd.op}({nd.attr['tensor_name'].s.decode()} @{nd.attr['send_device'].s.decode()})"
    return f"{nd.name} = {nd.op}({', '.join(nd.input)})"


class PartitionRunner:
    """One partition GraphDef of a step signature, registered on a task: imported into a Graph of its own and
    compiled into one plan (running `run_nodes`: its sends and target ops) once, with a `WorkerSessionState`
    on the task's `resources`. `run` runs it for one step; the plan is recompiled only after a reset of the
    task's containers. Feeds and fetches travel through the step's rendezvous (client-terminated recvs and
    sends), so a step has no argument or result but the rendezvous. Runners given one `session` name share
    what TF keeps per session (unshared queues, random generators, handles) by node name, as the partitions
    of one TF session do; without one a runner keeps its own."""

    def __init__(self, graph_def, run_nodes: Sequence[str], resources: WorkerResources, config=None,
                 session: str | None = None) -> None:
        self.graph_def = graph_def
        self.resources = resources
        self.device = next((nd.device for nd in graph_def.node if nd.device), resources.task + "/device:CPU:0")
        gd, self._tf_names = _importable_names(graph_def)
        imported = {v: k for k, v in self._tf_names.items()}
        self.graph = _ops.Graph()
        with self.graph.as_default():
            graph_io.import_graph_def(gd, name="", allow_file_access=True)
        self._targets = tuple(self.graph.get_operation_by_name(imported.get(n, n)) for n in run_nodes)
        self.state = WorkerSessionState(self.graph, resources, config, session)
        by_name = {nd.name: nd for nd in graph_def.node}
        touched = set(self._tf_names.values())
        # Step stats name nodes as the partition does: imported name -> (TF's name, TF's timeline label), for
        # renamed nodes, their readers, and every transfer (whose label names its tensor and other end).
        self.stat_names = {imported.get(nd.name, nd.name): (nd.name, _label(nd)) for nd in by_name.values()
                           if nd.name in touched or nd.op in _TRANSFER_OPS
                           or any(i.lstrip("^").partition(":")[0] in touched for i in nd.input)}
        self._lock = threading.Lock()
        self._generation = None
        self.plan = None
        self._compile()

    def _compile(self):
        with self._lock:
            generation = self.resources.generation
            if self._generation != generation:
                try:
                    self.plan = compile_plan(self.state, (), (), self._targets)
                except _errors.OpError as e:
                    raise self._located_here(e) from None
                self._generation = generation
            return self.plan

    def run(self, rendezvous: StepRendezvous, deadline: float | None = None,
            traced: bool = False) -> step_stats_pb2.DeviceStepStats | None:
        """Runs the partition for the step of `rendezvous` until `deadline` (perf_counter seconds; it also
        bounds the rendezvous' waits). Raises the failing op's error (the caller aborts the step). Traced, it
        returns the DeviceStepStats of this task's device (times on this process's clock)."""
        recorder = self.record(rendezvous, deadline, traced)
        if recorder is None:
            return None
        stats = step_stats_pb2.StepStats()
        recorder.fill_step_stats(stats)
        dev = stats.dev_stats[0]
        dev.device = self.device
        names = self.stat_names
        if names:
            for ns in dev.node_stats:
                renamed = names.get(ns.node_name)
                if renamed is not None:
                    ns.node_name, ns.timeline_label = renamed
        return dev

    def record(self, rendezvous: StepRendezvous, deadline: float | None = None,
               traced: bool = True) -> tracing.StepRecorder | None:
        """`run`, returning the traced run's StepRecorder (None untraced). Its serialized step stats and cost
        graph (`step_stats_bytes`, `cost_graph_bytes`: a finished run ran every step in plan order) name the
        local device and the nodes as imported: `device` and `stat_names` give the partition's names."""
        plan = self.plan if self._generation == self.resources.generation else self._compile()
        rendezvous.bound(deadline)
        try:
            with self.state.running(rendezvous), deadline_scope(deadline, rendezvous.stopped):
                if not traced:
                    if deadline is None:
                        plan.run([])
                    else:
                        plan.run_steps([], deadline=deadline)
                    return None
                recorder = tracing.StepRecorder(plan, [])
                plan.run_steps([], on_step=recorder.on_step, deadline=deadline, values=recorder.values)
        except _errors.OpError as e:
            raise self._located_here(e) from None
        return recorder

    def _located_here(self, error: _errors.OpError) -> _errors.OpError:
        """`error` naming its node as the partition does and the task it ran on, in place of the place where
        this worker imported the node (the client knows where its user created it). The node may belong to
        another partition of this task: a variable's storage, shared by every partition that uses it, names
        the node of the partition that made it."""
        op = error.op
        if op is None:
            return error
        suffix = f"\n\t [[node {op.name} (defined at {op.where_created()}) ]]"
        if op.graph is not self.graph and not error.message.endswith(suffix):
            return error
        message = error.message[:-len(suffix)] if error.message.endswith(suffix) else error.message
        name = self._tf_names.get(op.name, op.name) if op.graph is self.graph else op.name
        located = type(error)(None, op, f"{message}\n\t [[node {name} (on {self.resources.task}) ]]")
        located._tfmini_located = True
        return located

    def close(self) -> None:
        """Forgets this partition: a runner without a session cancels its unshared queues; a session's stay
        for its other partitions until `WorkerResources.close_session`. The task's shared state stays."""
        self.state.close()


__all__ = ["PartitionRunner", "StepRendezvous", "WorkerResources", "WorkerSessionState", "task_of_device"]
