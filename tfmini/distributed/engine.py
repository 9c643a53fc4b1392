"""The distributed engine behind `grpc://` (a tf.train.Server's target) and `dask://` / `tcp://` (an
existing Dask scheduler) sessions: it places each signature's ops on the cluster's tasks, cuts the graph into
one partition per task, registers each partition once on the Dask worker serving its task, and runs a step
as concurrent requests to those workers (feeds in the requests, fetches in the replies, tensors between
tasks sent worker to worker). Talks to workers directly: the scheduler is asked only where the tasks are.
Partial runs cut each call into a step of its own, the values computed staying on their tasks."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from tfmini.client import engine as _engine
from tfmini.client import session as _session
from tfmini.client.executor import as_result
from tfmini.distributed import dask_runtime, partition
from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.protobuf import cluster_pb2, cost_graph_pb2, graph_pb2, step_stats_pb2

# How long a session waits for the tasks a step needs to join the cluster when no operation timeout is set
# (TF waits for ever; a bounded wait turns a missing task into UnavailableError).
TASK_WAIT_SECONDS = 60.0
# After a step fails on one task, how long the others may take to report their (cancelled) end.
ABORT_GRACE_SECONDS = 5.0
# While a step waits on its tasks, how often (seconds) the workers it still waits on are asked whether they
# are alive and the same (a worker that hangs or restarted without closing its connection ends the step).
LIVENESS_SECONDS = 5.0
# How long such a worker may take to answer before it counts as gone (generous: a busy worker still answers).
LIVENESS_TIMEOUT_SECONDS = 15.0
# TF's message for a step that ran past its deadline (RunOptions.timeout_in_ms, operation_timeout_in_ms).
TIMED_OUT = "Operation timed out."
# The prefix of a colocation group in a NodeDef's `_class` attr ("loc:@<node name>").
_COLOCATION = b"loc:@"


def _host_port(address: str) -> str:
    return address.split("://", 1)[-1]


class ClusterView:
    """Where a session's tasks are: the scheduler, each task's worker address and incarnation, the tasks the
    cluster declares (a tf.train.Server cluster records its ClusterDef with the scheduler), and the master
    task (the one whose server the session connected to)."""

    def __init__(self, target: str) -> None:
        self.target = target
        scheme, _, rest = target.partition("://")
        self.scheme = scheme
        self.address = rest
        self.scheduler: str | None = None
        self.cluster_def: cluster_pb2.ClusterDef | None = None
        self.workers: dict[str, str] = {}  # task -> Dask worker address
        self.incarnations: dict[str, int] = {}
        self.master = ""
        self.generation = 0
        self.stale = True
        self.plugin_installed = False

    @property
    def tasks(self) -> list[str]:
        """Every task of the cluster, in ClusterDef order (jobs by name, then index)."""
        if self.cluster_def is not None:
            names = [dask_runtime.task_name(job.name, index) for job in self.cluster_def.job for index in job.tasks]
        else:
            names = list(self.workers)
        return sorted(names, key=lambda t: (dask_runtime.parse_task(t)[0], dask_runtime.parse_task(t)[1]))

    async def refresh(self) -> None:
        """Asks the scheduler where each task's worker is now and each worker its incarnation."""
        if self.scheduler is None:
            self.scheduler = await self._find_scheduler()
        scheduler = self.scheduler
        identity = await dask_runtime.call(scheduler, "the scheduler", "identity")
        cluster = await dask_runtime.call(scheduler, "the scheduler", "get_metadata",
                                          keys=dask_runtime.CLUSTER_KEY, default=None)
        assigned = await dask_runtime.call(scheduler, "the scheduler", "get_metadata",
                                           keys=dask_runtime.TASKS_KEY, default=None)
        if cluster:
            self.cluster_def = cluster_pb2.ClusterDef.FromString(cluster)
        by_name = {}
        for address, info in identity.get("workers", {}).items():
            by_name[info.get("name")] = address
            by_name[address] = address
        workers = {}
        for address, info in identity.get("workers", {}).items():
            parsed = dask_runtime.parse_task(info.get("name"))
            if parsed is not None:
                workers[dask_runtime.task_name(*parsed)] = address
        for task, worker in (assigned or {}).items():
            if worker in by_name:
                workers[task] = by_name[worker]
        if self.scheme in ("dask", "tcp") and not self.plugin_installed:
            await self._install_plugin()
            self.plugin_installed = True
        # A worker that does not answer in time (stopped, or hung) counts as not serving its task.
        replies = await dask_runtime.gather_replies(
            {task: asyncio.wait_for(dask_runtime.call(address, task, "tfmini_incarnation"),
                                    dask_runtime.CONNECT_TIMEOUT) for task, address in workers.items()})
        incarnations = {task: r["incarnation"] for task, r in replies.items() if isinstance(r, dict)}
        workers = {task: address for task, address in workers.items() if task in incarnations}
        if workers != self.workers or incarnations != self.incarnations:
            self.generation += 1
        self.workers, self.incarnations = workers, incarnations
        self.master = self._master()
        self.stale = False

    async def _find_scheduler(self) -> str:
        address = dask_runtime.dask_address(self.address)
        if self.scheme in ("dask", "tcp"):
            return address
        identity = await dask_runtime.call(address, self.target, "identity")
        if identity.get("type") == "Scheduler":
            return address
        return identity["scheduler"]

    async def _install_plugin(self) -> None:
        """Registers the tfmini worker plugin on every worker of an existing Dask cluster (once: Dask keeps
        it for workers that join later)."""
        pickle = dask_runtime.dask().protocol.pickle
        await dask_runtime.call(self.scheduler, "the scheduler", "register_worker_plugin",
                                plugin=pickle.dumps(dask_runtime.worker_plugin()), name="tfmini", idempotent=True)

    def _master(self) -> str:
        if self.cluster_def is not None and self.scheme == "grpc":
            for job in self.cluster_def.job:
                for index, address in job.tasks.items():
                    if address == self.address:
                        return dask_runtime.task_name(job.name, index)
            port = self.address.rpartition(":")[2]
            for job in self.cluster_def.job:
                for index, address in job.tasks.items():
                    if address.rpartition(":")[2] == port:
                        return dask_runtime.task_name(job.name, index)
        tasks = self.tasks
        worker0 = dask_runtime.task_name("worker", 0)
        if worker0 in tasks:
            return worker0
        if not tasks:
            raise _errors.UnavailableError(None, None, f"No task serves the cluster at {self.target}")
        return tasks[0]


def _resolve(target: str, config) -> ClusterView:
    view = ClusterView(target)
    dask_runtime.event_loop().run(view.refresh(), timeout=_wait_seconds(config))
    return view


def _wait_seconds(config) -> float:
    if config is not None and config.operation_timeout_in_ms > 0:
        return config.operation_timeout_in_ms / 1000.0
    return TASK_WAIT_SECONDS


class DistributedExecutable(_engine.Executable):
    """One signature's partitions: registered on each task's worker once per worker incarnation, run as one
    concurrent request per task."""

    def __init__(self, engine: DistributedEngine, make_step, fetch_tensors: Sequence, feed_tensors: Sequence,
                 graph_version: int, replied: int | None = None) -> None:
        self.engine = engine
        # incarnations (task -> its worker's incarnation) -> the PartitionedStep whose keys name them
        self._make_step = make_step
        self.fetch_tensors = list(fetch_tensors)
        self.feed_tensors = list(feed_tensors)
        # The fetches whose values come back to the client: the first `replied` (a partial run's others are
        # kept on their tasks).
        self.replied = len(self.fetch_tensors) if replied is None else replied
        self.graph_version = graph_version
        self._use(engine.incarnations())

    def _use(self, incarnations: dict[str, int]) -> None:
        """Partitions the signature with the workers' `incarnations` in its transfer keys (TF writes the
        sending device's incarnation into every `_Send`/`_Recv`, so a restarted worker's keys differ); any
        partition registered before is forgotten."""
        old = getattr(self, "registered", None)
        if old:
            self.engine._forget(self)
        step = self._make_step(incarnations)
        self.step = step
        self.tasks = sorted(step.graph_defs)
        # The tasks whose incarnations the keys hold: every partition's, and the master's (the client device).
        self.key_tasks = sorted({*self.tasks, self.engine.view.master})
        self.incarnations = {task: incarnations.get(task, 0) for task in self.key_tasks}
        self.handles = {task: f"{self.engine.session}/{next(self.engine.handle_ids)}" for task in self.tasks}
        self.registered: dict[str, int] = {}  # task -> the incarnation its partition is registered with
        # Per task, as its registration reply says: the partition's device, and the partition's names of the
        # nodes its traces name otherwise (imported name -> (node name, timeline label)).
        self.devices: dict[str, str] = {}
        self.stat_names: dict[str, dict[str, tuple[str, str]]] = {}
        self.graph_bytes = {task: _importable(step.graph_defs[task]).SerializeToString() for task in self.tasks}
        self.feeds_by_task: dict[str, list[tuple[int, str]]] = {task: [] for task in self.tasks}
        for i, entry in enumerate(step.feed_keys):
            if entry is not None:  # None: a feed no partition reads
                task, key = entry
                self.feeds_by_task.setdefault(task, []).append((i, key))
        self.fetch_keys: dict[str, list[str]] = {task: [] for task in self.tasks}
        # Per fetch: (task, position in that task's reply), or (None, index of the feed it returns).
        self.fetch_from: list[tuple[str | None, int]] = []
        positions: dict[tuple[str, str], int] = {}
        for j, entry in enumerate(step.fetch_keys[:self.replied]):
            if entry is None:
                self.fetch_from.append((None, self.feed_tensors.index(self.fetch_tensors[j])))
                continue
            task, key = entry
            if entry not in positions:  # a tensor fetched twice is received once
                positions[entry] = len(self.fetch_keys[task])
                self.fetch_keys[task].append(key)
            self.fetch_from.append((task, positions[entry]))

    def run(self, feed_values: Sequence) -> list:
        return self.engine.loop.run(self._run(_fed_values(feed_values), None, False, None))

    def run_traced(self, feed_values: Sequence, options, run_metadata, deadline: float | None) -> list:
        traced = run_metadata is not None and options is not None and options.trace_level > 0
        results = self.engine.loop.run(self._run(_fed_values(feed_values), deadline, traced, run_metadata))
        if run_metadata is not None and options is not None and options.output_partition_graphs:
            for task in self.tasks:
                run_metadata.partition_graphs.add().CopyFrom(self.step.graph_defs[task])
        return results

    # -- on the event loop -----------------------------------------------------------------------------------
    async def _register(self, deadline: float | None) -> None:
        view = self.engine.view
        if view.stale:
            await view.refresh()
        missing = [t for t in self.tasks if t not in view.workers]
        wait_until = time.perf_counter() + (
            deadline - time.perf_counter() if deadline is not None else _wait_seconds(self.engine.config))
        while missing:
            if time.perf_counter() > wait_until:
                raise _errors.UnavailableError(
                    None, None, f"Task{'s' if len(missing) > 1 else ''} {', '.join(missing)} of the cluster at "
                    f"{view.target} {'are' if len(missing) > 1 else 'is'} not serving")
            await asyncio.sleep(0.05)
            await view.refresh()
            missing = [t for t in self.tasks if t not in view.workers]
        current = {task: view.incarnations.get(task, 0) for task in self.key_tasks}
        if current != self.incarnations:
            # A worker restarted since the signature was partitioned: its keys name the old incarnation.
            self._use(current)
        todo = [t for t in self.tasks if self.registered.get(t) != view.incarnations[t]]
        if not todo:
            return
        config = self.engine.config.SerializeToString() if self.engine.config is not None else b""
        replies = await _bounded({
            task: dask_runtime.call(view.workers[task], task, "tfmini_register", handle=self.handles[task],
                                    session=self.engine.session, task=task, graph_def=self.graph_bytes[task],
                                    run_nodes=list(self.step.run_nodes.get(task, ())), config=config)
            for task in todo}, deadline, _wait_seconds(self.engine.config), view, "registering the graph")
        for task, reply in replies.items():
            if isinstance(reply, BaseException):
                view.stale = True
                raise reply
            if reply.get("status") != "ok":
                dask_runtime.raise_error(reply, task)
            self.registered[task] = reply["incarnation"]
            self.devices[task] = reply.get("device") or partition.device_of_task(task)
            self.stat_names[task] = {name: tuple(pair) for name, pair in (reply.get("names") or {}).items()}
            if reply["incarnation"] != view.incarnations.get(task):
                # The worker restarted after the cluster was last asked: the next run partitions again.
                view.incarnations[task] = reply["incarnation"]
                view.stale = True
                raise _errors.AbortedError(
                    None, None, f"Task {task} restarted while this session registered its graph there: the step "
                    "was aborted; the next run registers it again")

    async def _run(self, feed_values: Sequence, deadline: float | None, traced: bool, run_metadata,
                   partial: DistributedPartialRun | None = None) -> list:
        engine = self.engine
        view = engine.view
        if view.stale or len(self.registered) != len(self.tasks) or any(
                self.registered[t] != view.incarnations.get(t) for t in self.tasks):
            await self._register(deadline)
        step_id = engine.next_step_id()
        engine.running[step_id] = self.tasks
        try:
            return await self._step(step_id, feed_values, deadline, traced, run_metadata, partial)
        finally:
            del engine.running[step_id]

    async def _step(self, step_id: int, feed_values: Sequence, deadline: float | None, traced: bool,
                    run_metadata, partial: DistributedPartialRun | None = None) -> list:
        workers = self.engine.view.workers
        peers = {task: workers[task] for task in workers}
        extra: dict[str, dict] = {}
        if partial is not None:
            # Values earlier calls computed go from the tasks keeping them into this step's rendezvous.
            try:
                extra = await partial.prepare_step(self, step_id, peers, deadline)
            except Exception as exc:
                # Drops what reached the step's rendezvous before the failure (no run request will take it).
                await dask_runtime.gather_replies({
                    task: dask_runtime.call(workers[task], task, "tfmini_abort", step_id=step_id,
                                            code=_errors.CANCELLED, message=f"Step aborted: {exc}")
                    for task in self.tasks if task in workers})
                raise
        requests = {}
        sent = {}
        for task in self.tasks:
            feeds = {key: dask_runtime.wire_value(feed_values[i]) for i, key in self.feeds_by_task[task]
                     if feed_values[i] is not KEPT}
            timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
            sent[task] = time.time()
            requests[task] = asyncio.ensure_future(dask_runtime.call(
                workers[task], task, "tfmini_run", handle=self.handles[task], step_id=step_id, feeds=feeds,
                fetch_keys=self.fetch_keys[task], timeout=timeout, traced=traced, peers=peers,
                incarnation=self.registered[task], **extra.get(task, {})))
        replies, received = await self._collect(requests, step_id, deadline)
        results = []
        for task, position in self.fetch_from:
            value = feed_values[position] if task is None else replies[task]["fetches"][position]
            results.append(as_result(value))
        if run_metadata is not None:
            run_metadata.Clear()  # a successful run replaces what the metadata held, as in TF
            if traced:
                self._fill_step_stats(run_metadata, replies, sent, received)
        return results

    async def _collect(self, requests: dict, step_id: int, deadline: float | None):
        """The replies of every task, or the step's first error once every task stopped: a failure on one task
        (or the deadline, or a worker found gone) aborts the step on all of them. A task's CancelledError is
        the step's error too (its queue was closed by a reset, its worker shut down, the session was closed):
        the engine cancels nothing of a running step itself before it has an error, and a task waiting on a
        recv from the cancelled one would otherwise wait for ever. A real error arriving with it (or while
        the others stop) is reported in its place."""
        by_future = {future: task for task, future in requests.items()}
        replies: dict[str, dict] = {}
        received: dict[str, float] = {}
        error: BaseException | None = None
        pending = set(requests.values())
        next_check = time.perf_counter() + LIVENESS_SECONDS
        while pending and error is None:
            now = time.perf_counter()
            wait = next_check - now if deadline is None else min(next_check, deadline) - now
            done, pending = await asyncio.wait(pending, timeout=max(0.0, wait), return_when=asyncio.FIRST_COMPLETED)
            if not done:
                if deadline is not None and time.perf_counter() >= deadline:
                    error = _errors.DeadlineExceededError(
                        None, None, f"{TIMED_OUT} ({', '.join(sorted(by_future[f] for f in pending))} had not "
                        "finished the step when the run's deadline passed)")
                    break
                error = await self._liveness([by_future[f] for f in pending])
                next_check = time.perf_counter() + LIVENESS_SECONDS
                continue
            cancelled: list = []
            for future in done:
                task = by_future[future]
                received[task] = time.time()
                error = error or self._reply_error(task, future, replies, cancelled)
            error = error or (cancelled[0] if cancelled else None)
        if error is None:
            return replies, received
        stopped = await self._abort(step_id, error, pending, by_future)
        if isinstance(error, _errors.CancelledError):
            # A real error of a task that stopped meanwhile is the step's cause rather than the cancellation.
            real = []
            for future in stopped:
                self._reply_error(by_future[future], future, {}, [], real)
            error = real[0] if real else error
        raise _timed_out(error, deadline)

    async def _liveness(self, tasks: list[str]) -> BaseException | None:
        """UnavailableError when a worker the step waits on does not answer, AbortedError when it restarted
        (its part of the step is gone); None when every one is there."""
        view = self.engine.view
        replies = await dask_runtime.gather_replies({
            task: asyncio.wait_for(dask_runtime.call(view.workers[task], task, "tfmini_incarnation"),
                                   LIVENESS_TIMEOUT_SECONDS) for task in tasks})
        for task in sorted(replies):
            reply = replies[task]
            if isinstance(reply, BaseException):
                view.stale = True
                if isinstance(reply, _errors.OpError):
                    return reply
                return dask_runtime.unavailable(task, view.workers[task], "it did not answer while the step "
                                                "waited on it")
            if reply.get("incarnation") != self.registered.get(task):
                view.stale = True
                return _errors.AbortedError(
                    None, None, f"Task {task} restarted while the step ran there: the step was aborted; its "
                    "partition is registered again on the next run (variables there must be initialized again)")
        return None

    def _reply_error(self, task: str, future: asyncio.Future, replies: dict, cancelled: list,
                     errors: list | None = None) -> BaseException | None:
        """The error a task's reply (or failed call) stands for, None for a result (kept in `replies`) and for
        a cancellation (kept in `cancelled`). With `errors`, the error is appended there instead of returned."""
        if future.cancelled():
            return None
        exc = future.exception()
        if exc is None:
            reply = future.result()
            status = reply.get("status")
            if status == "ok":
                replies[task] = reply
                return None
            if status == "unregistered":
                self.registered.pop(task, None)
                self.engine.view.stale = True
                exc = _errors.AbortedError(
                    None, None, f"Task {task} restarted since this session registered its graph there: the step "
                    "was aborted; its partition is registered again on the next run (variables there must be "
                    "initialized again)")
            else:
                try:
                    dask_runtime.raise_error(reply, task)
                except _errors.OpError as raised:
                    exc = raised
                if isinstance(exc, _errors.CancelledError):
                    cancelled.append(exc)
                    return None
        elif isinstance(exc, _errors.UnavailableError):
            self.engine.view.stale = True
        if errors is not None:
            errors.append(exc)
            return None
        return exc

    async def _abort(self, step_id: int, error: BaseException, pending: set, by_future: dict) -> set:
        """Aborts the step on every task still running it and waits (bounded) for them to stop; returns the
        requests that ended meanwhile."""
        if not pending:
            return set()
        view = self.engine.view
        aborts = [dask_runtime.call(view.workers[by_future[f]], by_future[f], "tfmini_abort", step_id=step_id,
                                    code=_errors.CANCELLED,
                                    message=f"Step aborted: {getattr(error, 'message', error)}")
                  for f in pending if by_future[f] in view.workers]
        await asyncio.wait([asyncio.ensure_future(a) for a in aborts] + list(pending), timeout=ABORT_GRACE_SECONDS)
        for future in pending:
            if not future.done():
                future.cancel()
        return {f for f in pending if f.done() and not f.cancelled()}

    def _fill_step_stats(self, run_metadata, replies: dict, sent: dict, received: dict) -> None:
        """One DeviceStepStats per task device, moved onto the client's clock (each worker's offset is taken
        as the mean of (its receive time - our send time) and (its reply time - our receive time)), and the
        partitions' cost graphs in one CostGraphDef (each partition's node ids moved past the ones before)."""
        cost_graph = run_metadata.cost_graph
        next_id = 0
        for task in self.tasks:
            reply = replies[task]
            data = reply.get("stats")
            if not data:
                continue
            device_name = self.devices.get(task) or partition.device_of_task(task)
            names = self.stat_names.get(task, {})
            device = step_stats_pb2.StepStats.FromString(data).dev_stats[0]
            device.device = device_name
            offset_us = int(((reply["received"] - sent[task]) + (reply["replied"] - received[task])) / 2 * 1e6)
            for node in device.node_stats:
                node.all_start_micros -= offset_us
                if node.all_start_nanos:
                    node.all_start_nanos -= offset_us * 1000
                renamed = names.get(node.node_name)
                if renamed is not None:
                    node.node_name, node.timeline_label = renamed
            run_metadata.step_stats.dev_stats.add().CopyFrom(device)
            costs = cost_graph_pb2.CostGraphDef.FromString(reply.get("costs") or b"")
            base, last = next_id, next_id - 1
            for node in costs.node:
                node.device = device_name
                renamed = names.get(node.name)
                if renamed is not None:
                    node.name = renamed[0]
                node.id += base
                last = max(last, node.id)
                for info in node.input_info:
                    info.preceding_node += base
                node.control_input[:] = [c + base for c in node.control_input]
            cost_graph.node.extend(costs.node)
            next_id = last + 1


class _Kept:
    """Stands, among a partial run step's feed values, for a value an earlier call keeps on a task."""

    def __repr__(self) -> str:
        return "KEPT"


KEPT = _Kept()


class DistributedPartialRun(_engine.PartialRun):
    """A partial run on a distributed session (TF's PRunSetup/PRun on a master). Each call places and cuts
    only the ops its fetches and targets need that no earlier call ran, as a step of its own; every value such
    a step computes stays on the task that computed it (in this partial run's store on that worker, named by
    `handle`) and goes from there, worker to worker, to the step of a later call that reads it, or to the
    client when a later call fetches it. Fed values stay with the client and go where a step reads them. The
    stores are freed by `close()` and when the session closes.

    Variables and other resources are not values: a later call reading a variable (a ref or resource
    handle an earlier call's op produced) runs the op giving its storage or handle again (which does not
    change the variable), and a ref an earlier update produced (Assign's output) is read as its variable."""

    def __init__(self, engine: DistributedEngine) -> None:
        self.engine = engine
        self.handle = f"{engine.session}/partial/{next(engine.handle_ids)}"
        self.fed: dict[str, object] = {}  # tensor name -> fed value
        self.kept: dict[str, tuple[str, int]] = {}  # tensor name -> (task keeping it, that worker's incarnation)
        self.done: set[str] = set()  # the ops earlier calls ran
        self.keep: set[str] = set()  # the values the current call's step keeps
        self.tasks: set[str] = set()  # the tasks keeping values of this partial run
        self._lock = threading.Lock()
        # Frees the stores when the partial run is dropped without `close()` (scheduled, never waited for).
        self._finalizer = weakref.finalize(self, _free_partial_run, engine.loop, engine.view, self.handle,
                                           self.tasks)

    def run(self, fetch_tensors: Sequence[_ops.Tensor], target_ops: Sequence[_ops.Operation], feeds: dict,
            user_fed, deadline: float | None) -> list:
        with self._lock:
            return self._run(fetch_tensors, target_ops, feeds, deadline)

    def _run(self, fetch_tensors, target_ops, feeds: dict, deadline: float | None) -> list:
        engine = self.engine
        if engine._closed:
            raise _errors.CancelledError(None, None, "The session was closed")
        for t, value in feeds.items():
            self.fed[t.name] = value.value if isinstance(value, _session._FedRef) else value
        graph_def, devices = engine._placement()
        remaining = self._remaining(graph_def)
        fetch_names = [self._source(t).name for t in fetch_tensors]
        earlier = [n for n in dict.fromkeys(fetch_names) if n in self.kept and n not in self.fed]
        compute = [n for n in dict.fromkeys(fetch_names) if n not in self.fed and n not in self.kept]
        targets = [op.name for op in target_ops if op.name not in self.done]
        available = [*self.fed, *(n for n in self.kept if n not in self.fed)]
        tasks, master, soft = engine.tasks(), engine.view.master, engine._soft

        def cut(fetches: list[str], incarnations: dict[str, int] | None = None) -> partition.PartitionedStep:
            return partition.partition(remaining, fetches, available, targets, cluster=tasks, master=master,
                                       allow_soft_placement=soft, devices=devices, incarnations=incarnations)

        values: dict[str, object] = {}
        if earlier:
            values.update(zip(earlier, engine.loop.run(self._gather_kept(earlier, deadline))))
        if compute or targets:
            ran = cut(compute).devices
            keep = [name for op in ran for name in self._values_of(op)
                    if name not in self.fed and name not in self.kept]
            computing = set(compute)
            fetches = compute + [n for n in keep if n not in computing]
            self.keep = set(keep)
            exe = DistributedExecutable(engine, lambda incarnations: cut(fetches, incarnations), fetches, available,
                                        engine.graph._version, replied=len(compute))
            feed_values = [self.fed[n] if n in self.fed else KEPT for n in available]
            try:
                results = engine.loop.run(exe._run(feed_values, deadline, False, None, self))
            finally:
                engine._forget(exe)
                self.keep = set()
            self.done.update(ran)
            for name, entry in zip(fetches, exe.step.fetch_keys):
                if name in keep and entry is not None:
                    task = entry[0]
                    self.kept[name] = (task, exe.registered.get(task, engine.view.incarnations.get(task, 0)))
                    self.tasks.add(task)
            values.update(zip(compute, results))
        out = []
        for name in fetch_names:
            value = self.fed[name] if name in self.fed else values[name]
            result = as_result(value)
            # What the caller gets is theirs to change: never a value this partial run (or a task) still holds.
            out.append(result.copy() if result is value and isinstance(result, np.ndarray) else result)
        return out

    def _source(self, t: _ops.Tensor) -> _ops.Tensor:
        """The tensor a later call reads for `t`: a ref an earlier call's op produced is read as the variable
        storage it reaches (Assign's output as its variable), the op of which runs again."""
        if not t.dtype.is_ref or t.op.name not in self.done:
            return t
        while t.op._opdef.ref_inputs and t.op._inputs:
            t = t.op._inputs[min(t.op._opdef.ref_inputs)]
        return t

    def _remaining(self, graph_def):
        """`graph_def` with what earlier calls ran taken as done: control edges from their ops dropped (the
        dependency was met), and refs they produced read from their variables."""
        if not self.done:
            return graph_def
        graph = self.engine.graph
        gd = graph_pb2.GraphDef()
        gd.CopyFrom(graph_def)
        done = self.done
        for nd in gd.node:
            if not any(inp.lstrip("^").partition(":")[0] in done for inp in nd.input):
                continue
            inputs = []
            for inp in nd.input:
                if inp.startswith("^"):
                    if inp[1:] not in done:
                        inputs.append(inp)
                    continue
                node, _, port = inp.partition(":")
                if node in done:
                    source = self._source(graph.get_tensor_by_name(f"{node}:{port or 0}"))
                    inp = source.op.name if source.value_index == 0 else source.name
                inputs.append(inp)
            del nd.input[:]
            nd.input.extend(inputs)
        return gd

    def _values_of(self, op_name: str) -> list[str]:
        """The outputs of op `op_name` a later call may read as values (not refs or resource handles)."""
        op = self.engine.graph.get_operation_by_name(op_name)
        return [t.name for t in op.outputs if not t.dtype.is_ref and t.dtype.base_dtype != _dtypes.resource]

    def _check_kept(self, names) -> None:
        """AbortedError when a task keeping one of `names` restarted since (its values are gone)."""
        incarnations = self.engine.view.incarnations
        for name in names:
            task, incarnation = self.kept[name]
            if incarnations.get(task) != incarnation:
                raise _errors.AbortedError(
                    None, None, f"Task {task} restarted during the partial run: the value of {name} an earlier "
                    "call computed there is gone")

    # -- on the event loop -----------------------------------------------------------------------------------
    async def prepare_step(self, exe: DistributedExecutable, step_id: int, peers: dict,
                           deadline: float | None) -> dict[str, dict]:
        """Puts the kept values the step `exe` reads into its rendezvous on the tasks reading them; returns
        each task's extra run arguments (the values its partition computes that this partial run keeps)."""
        kept_at = {i: name for i, name in enumerate(exe.feed_tensors) if name in self.kept and name not in self.fed}
        puts: dict[str, list] = {}
        for task, entries in exe.feeds_by_task.items():
            for i, key in entries:
                name = kept_at.get(i)
                if name is not None:
                    puts.setdefault(self.kept[name][0], []).append((task, key, name))
        self._check_kept(n for entries in puts.values() for _, _, n in entries)
        await self._call_holders({task: dict(step_id=step_id, puts=entries, peers=peers)
                                  for task, entries in puts.items()}, "tfmini_partial_put", deadline)
        extra: dict[str, dict] = {}
        for name, entry in zip(exe.fetch_tensors, exe.step.fetch_keys):
            if name in self.keep and entry is not None:
                task, key = entry
                extra.setdefault(task, {"partial": self.handle, "keep": []})["keep"].append((key, name))
        return extra

    async def _gather_kept(self, names: list[str], deadline: float | None) -> list:
        self._check_kept(names)
        by_task: dict[str, list[str]] = {}
        for name in names:
            by_task.setdefault(self.kept[name][0], []).append(name)
        replies = await self._call_holders({task: {"names": wanted} for task, wanted in by_task.items()},
                                           "tfmini_partial_get", deadline)
        found = {name: value for task, wanted in by_task.items()
                 for name, value in zip(wanted, replies[task]["values"])}
        return [found[name] for name in names]

    async def _call_holders(self, calls: dict[str, dict], op: str, deadline: float | None) -> dict[str, dict]:
        view = self.engine.view
        replies = await _bounded({
            task: dask_runtime.call(view.workers[task], task, op, handle=self.handle, **kwargs)
            for task, kwargs in calls.items()}, deadline, _wait_seconds(self.engine.config), view,
            "handing over the partial run's values")
        for task, reply in replies.items():
            if isinstance(reply, BaseException):
                if isinstance(reply, _errors.UnavailableError):
                    view.stale = True
                raise reply
            if reply.get("status") != "ok":
                dask_runtime.raise_error(reply, task)
        return replies

    def close(self) -> None:
        """Frees the values this partial run keeps on its tasks."""
        self._finalizer()


def _free_partial_run(loop, view: ClusterView, handle: str, tasks: set[str]) -> None:
    """Drops a partial run's stores on `tasks` (scheduled on the event loop from any thread; nothing waits)."""
    for task in list(tasks):
        address = view.workers.get(task)
        if address is not None and loop.thread.is_alive():
            asyncio.run_coroutine_threadsafe(
                _quietly(dask_runtime.call(address, task, "tfmini_partial_end", handle=handle)), loop.loop)
    tasks.clear()


def _importable(graph_def: graph_pb2.GraphDef) -> graph_pb2.GraphDef:
    """A partition as its worker imports it: colocation groups (`_class` "loc:@name") naming a node the
    partition does not hold (pruned away by a feed, or placed elsewhere) are dropped, since importing refuses
    them and colocation means nothing across partitions; `graph_def` itself (what partition_graphs reports)
    is left as it is."""
    names = {nd.name for nd in graph_def.node}

    def dangling(nd) -> bool:
        groups = nd.attr["_class"].list.s if "_class" in nd.attr else ()
        return any(g.startswith(_COLOCATION) and g[len(_COLOCATION):].decode("utf-8", "surrogateescape") not in names
                   for g in groups)

    if not any(dangling(nd) for nd in graph_def.node):
        return graph_def
    out = graph_pb2.GraphDef()
    out.CopyFrom(graph_def)
    for nd in out.node:
        if dangling(nd):
            kept = [g for g in nd.attr["_class"].list.s if not g.startswith(_COLOCATION)
                    or g[len(_COLOCATION):].decode("utf-8", "surrogateescape") in names]
            if kept:
                nd.attr["_class"].list.s[:] = kept
            else:
                del nd.attr["_class"]
    return out


async def _bounded(calls: dict, deadline: float | None, wait: float, view: ClusterView, what: str) -> dict:
    """`gather_replies(calls)` bounded by the run's deadline (DeadlineExceededError), or without one by `wait`
    seconds (UnavailableError naming the tasks that did not answer)."""
    futures = {task: asyncio.ensure_future(coro) for task, coro in calls.items()}
    limit = wait if deadline is None else max(0.0, deadline - time.perf_counter())
    if futures:
        await asyncio.wait(list(futures.values()), timeout=limit)
    late = sorted(task for task, future in futures.items() if not future.done())
    for future in futures.values():
        future.cancel()
    if late:
        view.stale = True
        if deadline is not None:
            raise _errors.DeadlineExceededError(
                None, None, f"{TIMED_OUT} ({', '.join(late)} had not answered {what} when the run's deadline "
                "passed)")
        raise _errors.UnavailableError(
            None, None, f"Task{'s' if len(late) > 1 else ''} {', '.join(late)} did not answer {what} within "
            f"{wait:g} s")
    return {task: future.exception() or future.result() for task, future in futures.items()}


def _fed_values(feed_values: Sequence) -> list:
    """The fed values as arrays: a fed variable (a ref tensor) comes from the session wrapped as a fed ref,
    which a partition reads as the value it stands for."""
    return [v.value if isinstance(v, _session._FedRef) else v for v in feed_values]


def _timed_out(error: BaseException, deadline: float | None) -> BaseException:
    """A step's error; past the run's deadline a DeadlineExceededError of a task says so in TF's words first."""
    if (deadline is not None and isinstance(error, _errors.DeadlineExceededError)
            and not error.message.startswith(TIMED_OUT)):
        return _errors.DeadlineExceededError(error.node_def, error.op, f"{TIMED_OUT} {error.message}")
    return error


class DistributedEngine(_engine.Engine):
    """Runs a session's graph on the tasks of a Dask-served cluster."""

    max_cached_executables = 256

    def __init__(self, graph: _ops.Graph, config, target: str) -> None:
        self.graph = graph
        self.config = config
        self.target = target
        self.loop = dask_runtime.event_loop()
        self.view = _resolve(target, config)
        self.session = f"{random.getrandbits(64):016x}"
        self.handle_ids = itertools.count()
        self._step_base = random.getrandbits(62) << 1
        self._step_ids = itertools.count(1)
        self._executables: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False
        self._partial_runs: weakref.WeakSet = weakref.WeakSet()
        # step id -> the tasks it runs on, for the steps in flight (touched on the event loop only)
        self.running: dict[int, list[str]] = {}
        self._soft = bool(config is not None and config.allow_soft_placement)
        self._placed_version = -1
        self._graph_def = None
        self._devices: dict[str, str] = {}

    def next_step_id(self) -> int:
        return (self._step_base + next(self._step_ids)) & 0x7FFFFFFFFFFFFFFF

    def compile(self, fetch_tensors: tuple, feed_tensors: tuple, target_ops: tuple) -> DistributedExecutable:
        key = (fetch_tensors, feed_tensors, target_ops)
        exe = self._executables.get(key)
        if exe is not None and exe.graph_version == self.graph._version:
            return exe
        version = self.graph._version
        graph_def, devices = self._placement()
        tasks, master, soft = self.tasks(), self.view.master, self._soft

        def make_step(incarnations: dict[str, int]) -> partition.PartitionedStep:
            return partition.partition(graph_def, fetch_tensors, feed_tensors, target_ops, cluster=tasks,
                                       master=master, allow_soft_placement=soft, devices=devices,
                                       incarnations=incarnations)

        exe = DistributedExecutable(self, make_step, fetch_tensors, feed_tensors, version)
        with self._lock:
            old = self._executables.pop(key, None)
            self._executables[key] = exe
            while len(self._executables) > self.max_cached_executables:
                _, dropped = self._executables.popitem(last=False)
                self._forget(dropped)
        if old is not None:
            self._forget(old)
        return exe

    def _placement(self) -> tuple:
        """The graph's GraphDef and every node's device, computed once per graph version."""
        version = self.graph._version
        if self._placed_version != version:
            self._graph_def = self.graph.as_graph_def()
            self._devices = partition.place(self._graph_def, self.tasks(), self.view.master, self._soft)
            self._placed_version = version
        return self._graph_def, self._devices

    def incarnations(self) -> dict[str, int]:
        """Each task's worker incarnation as last seen (0 for a task no worker serves yet)."""
        return dict(self.view.incarnations)

    def _forget(self, exe: DistributedExecutable) -> None:
        """Deregisters a replaced executable's partitions (in the background: nothing waits for it)."""
        for task, incarnation in exe.registered.items():
            address = self.view.workers.get(task)
            if address is not None and self.view.incarnations.get(task) == incarnation:
                # Scheduled without waiting, from any thread (the event loop's own when a step re-partitions).
                asyncio.run_coroutine_threadsafe(_quietly(dask_runtime.call(
                    address, task, "tfmini_deregister", session=self.session, handles=[exe.handles[task]])),
                    self.loop.loop)

    def partial_run(self) -> DistributedPartialRun:
        run = DistributedPartialRun(self)
        self._partial_runs.add(run)
        return run

    def list_devices(self) -> list:
        """The CPU device of every task the session sees, with its worker's current incarnation (as TF's
        ListDevices reports it; 0 for a task no worker serves)."""
        self.loop.run(self.view.refresh(), timeout=_wait_seconds(self.config))
        devices = []
        for task in self.tasks():
            device = _engine.DeviceAttributes(f"{task}/device:CPU:0", "CPU", _engine.CPU_MEMORY_LIMIT_BYTES)
            device.incarnation = self.view.incarnations.get(task, 0)
            devices.append(device)
        return devices

    def tasks(self) -> list[str]:
        """The tasks this session sees: every task of the cluster, or with `ConfigProto.device_filters` the
        master task and the tasks a filter matches (TF's way to keep a worker's session off other workers)."""
        filters = self.config.device_filters if self.config is not None else ()
        return partition.session_tasks(self.view.tasks, self.view.master, filters)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        tasks = {task for exe in self._executables.values() for task in exe.registered}
        for run in list(self._partial_runs):
            # Closing the session's registrations on those tasks frees the partial run's stores there too.
            tasks |= run.tasks
            run.tasks.clear()
        self._executables.clear()
        try:
            self.loop.run(self._close(tasks), timeout=ABORT_GRACE_SECONDS)
        except Exception:  # noqa: BLE001 - closing frees what it can; an unreachable task holds nothing more
            pass

    async def _close(self, tasks: set[str]) -> None:
        """Cancels the session's steps in flight (as TF's session close does: a step blocked on a queue or an
        accumulator ends with CancelledError), then frees its partitions on every task."""
        workers = self.view.workers
        aborts = {(step_id, task): dask_runtime.call(workers[task], task, "tfmini_abort", step_id=step_id,
                                                     code=_errors.CANCELLED, message="The session was closed")
                  for step_id, step_tasks in list(self.running.items()) for task in step_tasks if task in workers}
        await dask_runtime.gather_replies(aborts)
        await dask_runtime.gather_replies({
            task: dask_runtime.call(workers[task], task, "tfmini_deregister", session=self.session)
            for task in tasks if task in workers})


async def _quietly(coro) -> None:
    try:
        await coro
    except Exception:  # noqa: BLE001 - a background clean-up on a task that went away has nothing to free
        pass


def assign_tasks(scheduler_address: str, jobs: dict[str, int]) -> dict[str, str]:
    """Maps TF tasks onto the workers of an existing Dask cluster: `jobs` gives each job's task count
    ({"ps": 1, "worker": 2}); workers are taken in the order of their names (or addresses), jobs by name and
    tasks by index, and the mapping is recorded with the scheduler, where every session on
    "dask://<scheduler address>" finds it. Returns task -> worker address. A worker whose Dask name already
    is a task name ("/job:ps/task:0") serves that task without being assigned."""
    address = dask_runtime.dask_address(scheduler_address.split("://", 1)[-1])
    wanted = [dask_runtime.task_name(job, i) for job in sorted(jobs) for i in range(int(jobs[job]))]

    async def assign() -> dict[str, str]:
        identity = await dask_runtime.call(address, "the scheduler", "identity")
        workers = sorted(identity.get("workers", {}).items(), key=lambda kv: (str(kv[1].get("name")), kv[0]))
        if len(workers) < len(wanted):
            raise _errors.InvalidArgumentError(
                None, None, f"The Dask cluster at {address} has {len(workers)} workers; {len(wanted)} tasks "
                f"({', '.join(wanted)}) need one each")
        mapping = {task: (info.get("name") if info.get("name") is not None else worker, worker)
                   for task, (worker, info) in zip(wanted, workers)}
        cluster_def = cluster_pb2.ClusterDef()
        for job in sorted(jobs):
            job_def = cluster_def.job.add(name=job)
            for i in range(int(jobs[job])):
                job_def.tasks[i] = _host_port(mapping[dask_runtime.task_name(job, i)][1])
        await dask_runtime.call(address, "the scheduler", "set_metadata", keys=dask_runtime.TASKS_KEY,
                                value={task: name for task, (name, _) in mapping.items()})
        await dask_runtime.call(address, "the scheduler", "set_metadata", keys=dask_runtime.CLUSTER_KEY,
                                value=cluster_def.SerializeToString())
        return {task: worker for task, (_, worker) in mapping.items()}

    return dask_runtime.event_loop().run(assign(), timeout=TASK_WAIT_SECONDS)


class _EngineFactory:
    """`Session(target)` for distributed targets: the engine, and `Session.reset` on every task."""

    takes_target = True

    def __call__(self, graph: _ops.Graph, config, target: str) -> DistributedEngine:
        return DistributedEngine(graph, config, target)

    @staticmethod
    def reset(target: str, containers, config) -> None:
        view = _resolve(target, config)
        calls = {task: dask_runtime.call(address, task, "tfmini_reset", containers=containers)
                 for task, address in view.workers.items()}
        replies = dask_runtime.event_loop().run(dask_runtime.gather_replies(calls), timeout=_wait_seconds(config))
        for reply in replies.values():
            if isinstance(reply, BaseException):
                raise reply


_FACTORY = _EngineFactory()


def register_targets() -> None:
    """Makes grpc:// (tf.train.Server targets), dask:// and tcp:// (Dask schedulers) sessions distributed."""
    for prefix in ("grpc://", "dask://", "tcp://"):
        _engine.register_engine(prefix, _FACTORY)


__all__ = ["ClusterView", "DistributedEngine", "DistributedExecutable", "DistributedPartialRun", "assign_tasks",
           "register_targets"]
