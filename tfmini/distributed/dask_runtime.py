"""The Dask side of distributed tfmini: the event-loop thread a process talks to Dask on, the scheduler and
worker a `tf.train.Server` starts, the handlers a Dask worker serving a TF task gets (register, run, put,
abort, deregister, reset, incarnation, and the partial runs' stores), and the client's calls to them with
Dask's failures mapped to TF's error classes. Dask (`distributed`) is an optional extra: it is imported on
first use, never by `import tfmini`. The graph side (placement, partitions, the worker's run-time state)
knows nothing of Dask."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import random
import re
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Coroutine

import numpy as np

from tfmini.distributed import worker as _worker
from tfmini.framework import errors as _errors
from tfmini.protobuf import config_pb2, graph_pb2

EXTRA = "tfmini[distributed]"
# TF's name for the client's device: feeds come from it and fetches go to it.
CLIENT_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
# Dask's handler names for the tfmini operations on a worker.
HANDLERS = ("tfmini_incarnation", "tfmini_register", "tfmini_run", "tfmini_put", "tfmini_abort",
            "tfmini_deregister", "tfmini_reset", "tfmini_partial_put", "tfmini_partial_get", "tfmini_partial_end")
# Scheduler metadata keys: the ClusterDef of a tf.train.Server cluster, and assign_tasks' mapping.
CLUSTER_KEY = ["tfmini", "cluster"]
TASKS_KEY = ["tfmini", "tasks"]
# How long a connection attempt to a worker may take before the task counts as unavailable (seconds).
CONNECT_TIMEOUT = 5.0
# How often (seconds) a step waiting for its tensors to reach other tasks looks whether it was aborted.
SEND_POLL_SECONDS = 0.2

_TASK_RE = re.compile(r"^/job:([A-Za-z0-9_.\-]+)(?:/replica:0)?/task:(\d+)$")


def dask():
    """Dask's `distributed` package, or ImportError naming the extra that installs it."""
    try:
        # Dask is an optional dependency (the extra tfmini[distributed]); only servers and distributed sessions
        # need it, so it is imported here rather than when tfmini is.
        import distributed
        import distributed.core  # the optional extra, as above: comms and the connection pool
        import distributed.protocol  # the optional extra, as above: serialization of arrays
    except ImportError as exc:
        raise ImportError(
            f"tf.train.Server and distributed sessions run on Dask, which is not installed: "
            f"pip install '{EXTRA}' ({exc})") from exc
    return distributed


def task_name(job: str, index: int) -> str:
    """TF's full name of a task, the Dask worker name that serves it: "/job:ps/replica:0/task:0"."""
    return f"/job:{job}/replica:0/task:{index}"


def parse_task(name) -> tuple[str, int] | None:
    """(job, task index) of a worker name naming a task ("/job:ps/task:0" or the full form), else None."""
    match = _TASK_RE.match(name) if isinstance(name, str) else None
    return (match.group(1), int(match.group(2))) if match else None


def dask_address(address: str) -> str:
    """A cluster address ("host:port") as Dask writes it ("tcp://host:port")."""
    return address if "://" in address else f"tcp://{address}"


# ----------------------------------------------------------------------------------------------------------
# The process's event loop thread: Dask's servers and comms run on it, callers wait on futures
# ----------------------------------------------------------------------------------------------------------
class EventLoopThread:
    """An asyncio loop running in a daemon thread, shared by every server and session of the process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="tfmini-dask-loop", daemon=True)
        running = threading.Event()
        self.loop.call_soon(running.set)
        self.thread.start()
        running.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine) -> concurrent.futures.Future:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("tfmini's Dask calls cannot wait on the event loop thread they run on")
        if not self.thread.is_alive() or not self.loop.is_running():
            coro.close()
            raise _errors.UnavailableError(None, None, "tfmini's Dask event loop was shut down")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine, timeout: float | None = None):
        """Runs `coro` on the loop and returns its result (waiting in slices so Ctrl-C reaches the caller)."""
        future = self.submit(coro)
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = 0.5 if end is None else min(0.5, max(0.0, end - time.monotonic()))
            try:
                return future.result(wait)
            except concurrent.futures.TimeoutError:
                if end is not None and time.monotonic() >= end:
                    future.cancel()
                    raise
            except BaseException:
                if not future.done():
                    future.cancel()
                raise

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


_LOOP: EventLoopThread | None = None
_LOOP_LOCK = threading.Lock()


def event_loop() -> EventLoopThread:
    """The process's event loop thread, started on first use."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None or not _LOOP.thread.is_alive():
            _LOOP = EventLoopThread()
        return _LOOP


def shutdown() -> None:
    """Closes the process's Dask connections and stops its event loop thread, once its servers are stopped
    and its distributed sessions closed (a later server or session starts them again)."""
    global _LOOP
    with _LOOP_LOCK:
        current, _LOOP = _LOOP, None
    if current is None or not current.thread.is_alive():
        return

    async def close() -> None:
        loop = asyncio.get_running_loop()
        pool = _POOLS.pop(loop, None)
        if pool is not None:
            await pool.close()
        await loop.shutdown_default_executor()

    try:
        current.run(close(), timeout=10)
    finally:
        current.stop()


# ----------------------------------------------------------------------------------------------------------
# Values and errors on the wire
# ----------------------------------------------------------------------------------------------------------
def wire_value(value):
    """A tensor value as a message carries it: NumPy arrays through Dask's serialization (their buffers are
    sent as frames, not copied into the message), anything else as an array first."""
    return dask().protocol.to_serialize(np.asarray(value) if not isinstance(value, np.ndarray) else value)


def error_message(exc: BaseException) -> dict:
    """An exception raised by a step as a reply: its TF error code, message and op name."""
    if isinstance(exc, _errors.OpError):
        op = exc.op
        return {"status": "error", "code": exc.error_code, "message": exc.message,
                "node": getattr(op, "name", None)}
    # Not a TF error: a fault of tfmini itself, reported with where it happened on the worker.
    where = "".join(traceback.format_exception(exc)[-3:]).strip()
    return {"status": "error", "code": _errors.INTERNAL, "message": f"{type(exc).__name__}: {exc}\n{where}",
            "node": None}


def raise_error(reply: dict, task: str):
    """Raises the OpError a worker's error reply describes (its message already names the op)."""
    cls = _errors.exception_type_from_error_code(reply["code"])
    message = reply["message"]
    if reply["code"] not in (_errors.CANCELLED,) and task not in message:
        message = f"{message} (on task {task})"
    raise cls(None, None, message)


def unavailable(task: str, address: str, exc: BaseException | str) -> _errors.UnavailableError:
    why = exc if isinstance(exc, str) else (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return _errors.UnavailableError(None, None, f"Task {task} at {address} is unavailable: {why}")


# ----------------------------------------------------------------------------------------------------------
# The worker side: what a Dask worker serving a task holds, and its handlers
# ----------------------------------------------------------------------------------------------------------
class TaskService:
    """The tfmini state of one Dask worker: its resources (variables, queues, ... shared by every session
    and graph that runs there), its registered partitions, the rendezvous of its running steps, and the
    thread pool partitions run on (never the event loop: a step may block on a queue or a recv)."""

    # Step ids a finished step leaves behind, so a tensor put after the step ended is dropped, not kept.
    finished_memory = 4096
    # Seconds a step's rendezvous made by a peer's tensor waits for the step's own run request before it is
    # dropped (its client went away before sending it).
    orphan_seconds = 600.0

    def __init__(self, worker) -> None:
        self.worker = worker
        # TF's device incarnation: a random 64-bit number per device per process start (never 0).
        self.incarnation = random.getrandbits(64) or 1
        self.resources: _worker.WorkerResources | None = None
        self.runners: dict[str, _worker.PartitionRunner] = {}
        self.sessions: dict[str, set[str]] = collections.defaultdict(set)
        self.steps: dict[int, _worker.StepRendezvous] = {}
        # Per running step: (task, future) of each tensor it sent to another task, in flight or delivered.
        self.sends: dict[int, list[tuple[str, concurrent.futures.Future]]] = {}
        self.finished: collections.OrderedDict[int, None] = collections.OrderedDict()
        # step id -> when a peer's tensor made its rendezvous, until the step's run request arrives
        self.waiting: dict[int, float] = {}
        self.active: set[int] = set()  # the steps whose run request arrived and has not finished
        # Partial run handle ("<session>/partial/<n>") -> tensor name -> a value a step of it computed here.
        self.partials: dict[str, dict[str, object]] = {}
        self.lock = threading.Lock()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="tfmini-step")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.peers: dict[str, str] = {}
        parsed = parse_task(worker.name)
        # The task this worker serves: its name says so, or the first partition registered here does (a
        # worker of an existing Dask cluster that assign_tasks mapped to a task).
        self.task = ""
        if parsed is not None:
            self._serve(task_name(*parsed))

    def _serve(self, task: str) -> None:
        if self.task != task:
            self.task = task
            self.resources = _worker.WorkerResources(task)

    def install(self) -> None:
        """Adds the handlers to the worker (on its event loop), and makes the worker reachable without a
        connection from this process's code running on the same loop."""
        for name in HANDLERS:
            self.worker.handlers[name] = getattr(self, name)
        self.loop = asyncio.get_running_loop()
        _IN_PROCESS[self.worker.address] = self

    def close(self) -> None:
        if _IN_PROCESS.get(self.worker.address) is self:
            del _IN_PROCESS[self.worker.address]
        with self.lock:
            steps = list(self.steps.values())
            self.steps.clear()
        for rendezvous in steps:
            rendezvous.abort(_errors.CancelledError(None, None, "The worker is shutting down"))
        self.partials.clear()
        if self.resources is not None:
            self.resources.reset(None)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- handlers (coroutines on the worker's event loop) --------------------------------------------------
    async def tfmini_incarnation(self, comm=None) -> dict:
        return {"incarnation": self.incarnation, "name": self.worker.name}

    async def tfmini_register(self, comm=None, handle: str = "", session: str = "", task: str = "",
                              graph_def: bytes = b"", run_nodes=(), config: bytes = b"") -> dict:
        """Imports and compiles one partition once (in the step pool: importing is CPU work)."""
        runner = self.runners.get(handle)
        if runner is not None:
            return self._registered(runner)
        proto = config_pb2.ConfigProto.FromString(config) if config else None
        loop = asyncio.get_running_loop()
        try:
            runner = await loop.run_in_executor(
                self.pool, self._make_runner, graph_def, list(run_nodes), proto, task, session)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the client as a TF error
            return error_message(exc)
        self.runners[handle] = runner
        self.sessions[session].add(handle)
        return self._registered(runner)

    def _registered(self, runner: _worker.PartitionRunner) -> dict:
        """The reply to a registration: this worker's incarnation, and what the client needs to read the
        partition's traces (its device, and the partition's name of each node a trace names otherwise)."""
        return {"status": "ok", "incarnation": self.incarnation, "device": runner.device,
                "names": runner.stat_names}

    def _make_runner(self, graph_def: bytes, run_nodes: list, config, task: str,
                     session: str) -> _worker.PartitionRunner:
        with self.lock:
            if task:
                self._serve(task)
        # The partitions of one session share what TF keeps per session (unshared queues, random streams).
        return _worker.PartitionRunner(graph_pb2.GraphDef.FromString(graph_def), run_nodes, self.resources, config,
                                       session=session)

    async def tfmini_deregister(self, comm=None, session: str = "", handles=None) -> dict:
        """Forgets a session's partitions (all of them when `handles` is None)."""
        owned = self.sessions.get(session, set())
        for handle in list(owned if handles is None else handles):
            owned.discard(handle)
            runner = self.runners.pop(handle, None)
            if runner is not None:
                runner.close()
        if handles is None:
            for handle in [h for h in self.partials if h.startswith(session + "/")]:
                del self.partials[handle]
        if handles is None and self.resources is not None:
            self.resources.close_session(session)
        if not owned:
            self.sessions.pop(session, None)
        return {"status": "ok"}

    async def tfmini_reset(self, comm=None, containers=None) -> dict:
        if self.resources is not None:
            self.resources.reset(None if containers is None else list(containers))
        return {"status": "ok"}

    async def tfmini_put(self, comm=None, step_id: int = 0, key: str = "", value=None) -> dict:
        """A tensor another task sent to a step here (kept for the step when it has not started yet)."""
        rendezvous = self._rendezvous(step_id)
        if rendezvous is not None:
            rendezvous.put(key, value)
            with self.lock:
                if step_id not in self.active:
                    self.waiting.setdefault(step_id, time.monotonic())
        return {"status": "ok"}

    async def tfmini_abort(self, comm=None, step_id: int = 0, code: int = _errors.CANCELLED,
                           message: str = "") -> dict:
        rendezvous = self._rendezvous(step_id)
        if rendezvous is not None:
            rendezvous.abort(_errors.exception_type_from_error_code(code)(None, None, message))
        self._finish(step_id)
        return {"status": "ok"}

    async def tfmini_run(self, comm=None, handle: str = "", step_id: int = 0, feeds=None, fetch_keys=(),
                         timeout: float | None = None, traced: bool = False, peers=None,
                         incarnation: int = 0, partial: str = "", keep=()) -> dict:
        """Runs one registered partition for one step: feeds go into the step's rendezvous, the partition
        runs on a pool thread, fetched keys are taken from the rendezvous; the reply carries them (and the
        device's step stats when traced, with this worker's receive and reply times). A step of partial run
        `partial` keeps the values `keep` names ((key, tensor name) pairs) in that partial run's store."""
        received = time.time()
        runner = self.runners.get(handle)
        if runner is None or (incarnation and incarnation != self.incarnation):
            return {"status": "unregistered", "incarnation": self.incarnation}
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if peers:
            self.peers.update(peers)
        deadline = None if timeout is None else time.perf_counter() + timeout
        rendezvous = self._rendezvous(step_id)
        if rendezvous is None:
            return {"status": "error", "code": _errors.ABORTED,
                    "message": f"Step {step_id} was already aborted", "node": None}
        with self.lock:
            self.waiting.pop(step_id, None)
            self.active.add(step_id)
        for key, value in (feeds or {}).items():
            rendezvous.put(key, value)
        keys = list(fetch_keys)  # unique: a tensor fetched twice is asked for once
        if keep:
            fetched = set(keys)
            keys += [key for key in dict.fromkeys(key for key, _ in keep) if key not in fetched]
        try:
            received_values, stats = await self.loop.run_in_executor(
                self.pool, self._run_step, runner, step_id, rendezvous, deadline, traced, keys)
        except Exception as exc:  # noqa: BLE001 - the step's error goes back to the client
            rendezvous.abort(exc if isinstance(exc, _errors.OpError)
                             else _errors.CancelledError(None, None, "Step aborted"))
            return error_message(exc)
        finally:
            self._finish(step_id)
        if keep:
            by_key = dict(zip(keys, received_values))
            store = self.partials.setdefault(partial, {})
            for key, name in keep:
                store[name] = by_key[key]
        reply = {"status": "ok", "fetches": [wire_value(v) for v in received_values[:len(fetch_keys)]]}
        if traced:
            # The recorder's serialized StepStats and CostGraphDef, as they are (the client names the nodes).
            reply["stats"], reply["costs"] = stats if stats is not None else (b"", b"")
            reply["received"] = received
            reply["replied"] = time.time()
        return reply

    async def tfmini_partial_put(self, comm=None, handle: str = "", step_id: int = 0, puts=(),
                                 peers=None) -> dict:
        """Puts values partial run `handle` keeps here into the rendezvous of its step `step_id` on the tasks
        reading them ((task, key, tensor name) triples), this task's own or, worker to worker, another's."""
        store = self.partials.get(handle, {})
        missing = [name for _, _, name in puts if name not in store]
        if missing:
            return self._lost(handle, missing)
        if peers:
            self.peers.update(peers)
        sends = []
        for task, key, name in puts:
            if task == self.task:
                await self.tfmini_put(step_id=step_id, key=key, value=store[name])
            else:
                sends.append(call(self.peers[task], task, "tfmini_put", step_id=step_id, key=key,
                                  value=wire_value(store[name])))
        for reply in (await gather_replies(dict(enumerate(sends)))).values():
            if isinstance(reply, BaseException):
                return error_message(reply)
        return {"status": "ok"}

    async def tfmini_partial_get(self, comm=None, handle: str = "", names=()) -> dict:
        """The values `names` partial run `handle` keeps here."""
        store = self.partials.get(handle, {})
        missing = [name for name in names if name not in store]
        if missing:
            return self._lost(handle, missing)
        return {"status": "ok", "values": [wire_value(store[name]) for name in names]}

    async def tfmini_partial_end(self, comm=None, handle: str = "") -> dict:
        """Frees what partial run `handle` keeps here."""
        self.partials.pop(handle, None)
        return {"status": "ok"}

    def _lost(self, handle: str, names: list[str]) -> dict:
        return {"status": "error", "code": _errors.ABORTED, "node": None,
                "message": f"Task {self.task} no longer keeps {', '.join(names)} of partial run {handle} (the "
                "partial run ended, or the task restarted)"}

    # -- the step ------------------------------------------------------------------------------------------
    def _rendezvous(self, step_id: int) -> _worker.StepRendezvous | None:
        """The step's rendezvous, made on first use (a put may arrive before the step's run request); None
        once the step has finished."""
        with self.lock:
            rendezvous = self.steps.get(step_id)
            if rendezvous is None:
                if step_id in self.finished:
                    return None
                sends: list = []

                def remote_put(task: str, key: str, value) -> None:
                    sends.append(self._remote_put(step_id, task, key, value))

                rendezvous = _worker.StepRendezvous(task=self.task, step_id=step_id, remote_put=remote_put)
                self.steps[step_id] = rendezvous
                self.sends[step_id] = sends
            return rendezvous

    def _finish(self, step_id: int) -> None:
        with self.lock:
            self.waiting.pop(step_id, None)
            now = time.monotonic()
            orphans = [sid for sid, born in self.waiting.items() if now - born > self.orphan_seconds]
            self.active.discard(step_id)
            for sid in (step_id, *orphans):
                self.waiting.pop(sid, None)
                self.steps.pop(sid, None)
                self.sends.pop(sid, None)
                self.finished[sid] = None
            while len(self.finished) > self.finished_memory:
                self.finished.popitem(last=False)

    def _remote_put(self, step_id: int, task: str, key: str, value) -> tuple[str, concurrent.futures.Future]:
        """Sends a tensor to the step's rendezvous on another task's worker, worker to worker (called on the
        step's thread: the send is queued on the event loop, the step does not wait for it)."""
        address = self.peers.get(task)
        if address is None:
            raise _errors.InternalError(None, None, f"No address known for task {task}")
        coro = call(address, task, "tfmini_put", step_id=step_id, key=key, value=wire_value(value))
        return task, asyncio.run_coroutine_threadsafe(coro, self.loop)

    def _run_step(self, runner, step_id, rendezvous, deadline, traced, fetch_keys):
        recorder = runner.record(rendezvous, deadline, traced)
        stats = None if recorder is None else (recorder.step_stats_bytes(), recorder.cost_graph_bytes())
        values = [rendezvous.recv(key, None) for key in fetch_keys]
        # The step is done once the tensors it sent to other tasks were delivered, or once it is aborted (the
        # client gave up on the step: a receiving worker that stopped answering never acknowledges).
        for task, future in self.sends.get(step_id, ()):
            while True:
                if rendezvous.error is not None:
                    raise rendezvous.error
                timeout = SEND_POLL_SECONDS if deadline is None else min(
                    SEND_POLL_SECONDS, max(0.0, deadline - time.perf_counter()))
                try:
                    future.result(timeout)
                    break
                except concurrent.futures.TimeoutError:
                    if deadline is not None and time.perf_counter() >= deadline:
                        raise _errors.DeadlineExceededError(
                            None, None, f"Timed out sending a tensor to {task}") from None
        return values, stats


def _plugin_setup(worker) -> None:
    if getattr(worker, "tfmini", None) is None:
        worker.tfmini = TaskService(worker)
        worker.tfmini.install()


def _plugin_teardown(worker) -> None:
    service = getattr(worker, "tfmini", None)
    if service is not None:
        service.close()
        worker.tfmini = None


def _make_plugin_class() -> type:
    """The Dask WorkerPlugin class installing the tfmini handlers on a worker (given to the Worker a
    tf.train.Server starts, or registered through the scheduler on every worker of an existing cluster).
    Dask requires a subclass of its own WorkerPlugin, so the class is made once Dask is imported; it is
    bound in this module as `TfminiWorkerPlugin`, where unpickling on a worker finds it."""
    plugin_class = type("TfminiWorkerPlugin", (dask().WorkerPlugin,), {
        "__module__": __name__,
        "__doc__": "Installs the tfmini handlers (register, run, put, abort, reset) on a Dask worker.",
        "name": "tfmini",
        "idempotent": True,
        "setup": lambda self, worker: _plugin_setup(worker),
        "teardown": lambda self, worker: _plugin_teardown(worker),
    })
    globals()["TfminiWorkerPlugin"] = plugin_class
    return plugin_class


def __getattr__(name: str):
    if name == "TfminiWorkerPlugin":
        return _make_plugin_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def worker_plugin():
    """A new tfmini worker plugin."""
    plugin_class = globals().get("TfminiWorkerPlugin") or _make_plugin_class()
    return plugin_class()


# ----------------------------------------------------------------------------------------------------------
# The client side: calls to workers and the scheduler
# ----------------------------------------------------------------------------------------------------------
# One pool per event loop: a Dask comm belongs to the loop that opened it (a worker of an existing cluster
# puts tensors to its peers from its own loop, the client calls from the process's loop thread).
_POOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def connection_pool():
    """The running loop's pool of Dask connections (reused across calls: no handshake on the step path)."""
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None:
        pool = dask().core.ConnectionPool(limit=1024, timeout=CONNECT_TIMEOUT)
        await pool
        _POOLS[loop] = pool
    return pool


# Dask worker address -> the TaskService of a worker running in this process.
_IN_PROCESS: dict[str, TaskService] = {}


def _local_value(value):
    """A message value as the handler would receive it from a connection: Dask's Serialize wrappers
    unwrapped (also in dicts and lists, e.g. a run's feeds and a reply's fetches)."""
    if isinstance(value, dict):
        return {k: _local_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_local_value(v) for v in value]
    data = getattr(value, "data", None)
    return data if data is not None and type(value).__name__ == "Serialize" else value


async def call(address: str, task: str, op: str, /, **kwargs) -> dict:
    """One request to a worker's (or the scheduler's) handler `op`; UnavailableError naming the task when the
    connection fails or closes before the reply. A tfmini handler of a worker in this process on this event
    loop (servers of an in-process cluster, a TF1 worker process's own task) is called directly: the values
    are handed over as they are, which kernels and rendezvous treat as read-only, as they do feeds."""
    service = _IN_PROCESS.get(address)
    if service is not None and op in HANDLERS and service.loop is asyncio.get_running_loop():
        return _local_value(await getattr(service, op)(**_local_value(kwargs)))
    pool = await connection_pool()
    try:
        return await getattr(pool(address), op)(**kwargs)
    except (OSError, asyncio.TimeoutError, EOFError) as exc:
        pool.remove(address)
        raise unavailable(task, address, exc) from None
    except Exception as exc:
        if type(exc).__name__ in ("CommClosedError", "StreamClosedError"):
            pool.remove(address)
            raise unavailable(task, address, exc) from None
        raise


async def gather_replies(calls: dict[str, Coroutine]) -> dict[str, object]:
    """Runs the calls concurrently; each value is its reply or the exception it raised."""
    keys = list(calls)
    results = await asyncio.gather(*calls.values(), return_exceptions=True)
    return dict(zip(keys, results))


# ----------------------------------------------------------------------------------------------------------
# Starting a task's Dask worker (and the scheduler on the cluster's first task)
# ----------------------------------------------------------------------------------------------------------
class TaskNode:
    """The Dask servers one tf.train.Server runs in its process: its task's worker, and the scheduler when
    the task is the cluster's first."""

    def __init__(self, scheduler, worker) -> None:
        self.scheduler = scheduler
        self.worker = worker

    async def close(self) -> None:
        if self.worker is not None:
            await self.worker.close(timeout=5)
        if self.scheduler is not None:
            await self.scheduler.close()

    async def finished(self) -> None:
        await self.worker.finished()


def quiet_dask_logs() -> None:
    """Dask's servers log every start, connection and stop at INFO; a TF server is quiet unless something
    goes wrong. Dask's logger is set to WARNING while it still has Dask's own default level (INFO); a level
    the user chose is left alone."""
    logger = logging.getLogger("distributed")
    if logger.level == logging.INFO:
        logger.setLevel(logging.WARNING)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


async def start_task_node(task: str, address: str, scheduler_address: str | None, cluster_def: bytes,
                          connect: Callable[[], None] | None = None) -> TaskNode:
    """Starts the Dask servers of one task: with `scheduler_address` None the scheduler listens on `address`
    (the cluster's first task) and the task's worker on a free port; otherwise the worker listens on
    `address` and joins the scheduler at `scheduler_address`, retrying until it is up."""
    distributed = dask()
    quiet_dask_logs()
    scheduler = None
    host, port = _host_port(address)
    if scheduler_address is None:
        scheduler = await distributed.Scheduler(host=host, port=port, dashboard=False, dashboard_address=":0",
                                                validate=False)
        scheduler.set_metadata(keys=CLUSTER_KEY, value=cluster_def)
        scheduler_address = scheduler.address
        worker_port = 0
    else:
        worker_port = port
    worker = distributed.Worker(
        dask_address(scheduler_address), name=task, host=host, port=worker_port, nthreads=1, dashboard=False,
        plugins=(worker_plugin(),), silence_logs=logging.WARNING, memory_limit=0, heartbeat_interval="1s",
        death_timeout=None, validate=False)
    await worker
    return TaskNode(scheduler, worker)
