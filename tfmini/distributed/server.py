"""`tf.train.Server`: one task of a TF cluster, served in this process by a Dask worker named after the task
(the cluster's first task also runs the Dask scheduler, listening on its address). Importing this module
registers the distributed engine for `grpc://` and `dask://` targets; Dask itself is imported only when a
server starts or a distributed session is made."""

from __future__ import annotations

import atexit
import concurrent.futures
import socket
import threading
import weakref

from tfmini.distributed import dask_runtime
from tfmini.distributed import engine as _engine
from tfmini.framework import errors as _errors
from tfmini.framework.api_export import tf_export
from tfmini.protobuf import cluster_pb2, config_pb2, tensorflow_server_pb2
from tfmini.train.server_lib import ClusterSpec

# How long start() waits for its worker to be listening before leaving it to join the scheduler in the
# background (a task whose scheduler, on the cluster's first task, is not up yet keeps retrying).
_START_WAIT = 2.0


def _make_server_def(server_or_cluster_def, job_name, task_index, protocol, config):
    """The ServerDef of a new server: TF's rules for which job and task it serves when not given."""
    if isinstance(server_or_cluster_def, tensorflow_server_pb2.ServerDef):
        server_def = tensorflow_server_pb2.ServerDef()
        server_def.CopyFrom(server_or_cluster_def)
        if job_name is not None:
            server_def.job_name = job_name
        if task_index is not None:
            server_def.task_index = task_index
        if protocol is not None:
            server_def.protocol = protocol
    else:
        try:
            cluster_spec = ClusterSpec(server_or_cluster_def)
        except TypeError:
            raise TypeError("Could not convert `server_or_cluster_def` to a `tf.train.ServerDef` or "
                            "`tf.train.ClusterSpec`.") from None
        if job_name is None:
            if len(cluster_spec.jobs) != 1:
                raise ValueError("Must specify an explicit `job_name`.")
            job_name = cluster_spec.jobs[0]
        if task_index is None:
            indices = cluster_spec.task_indices(job_name)
            if len(indices) != 1:
                raise ValueError("Must specify an explicit `task_index`.")
            task_index = indices[0]
        server_def = tensorflow_server_pb2.ServerDef(
            cluster=cluster_spec.as_cluster_def(), job_name=job_name, task_index=task_index,
            protocol=protocol if protocol is not None else "grpc")
    if config is not None:
        if not isinstance(config, config_pb2.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, but got {type(config)}")
        server_def.default_session_config.MergeFrom(config)
    return server_def


def _task_address(server_def) -> str:
    for job in server_def.cluster.job:
        if job.name == server_def.job_name:
            if server_def.task_index in job.tasks:
                address = job.tasks[server_def.task_index]
                if server_def.port:
                    address = f"{address.rpartition(':')[0]}:{server_def.port}"
                return address
            raise _errors.InvalidArgumentError(
                None, None, f"Task {server_def.task_index} was not defined in job \"{server_def.job_name}\"")
    raise _errors.InvalidArgumentError(
        None, None, f"Job \"{server_def.job_name}\" was not defined in cluster")


def first_task(cluster_def: cluster_pb2.ClusterDef) -> tuple[str, int, str]:
    """(job, index, address) of the cluster's first task (jobs by name, then task index): it runs the Dask
    scheduler on its address."""
    jobs = sorted(cluster_def.job, key=lambda j: j.name)
    for job in jobs:
        if job.tasks:
            index = min(job.tasks)
            return job.name, index, job.tasks[index]
    raise _errors.InvalidArgumentError(None, None, "The cluster has no tasks")


def free_port() -> int:
    """A TCP port free on localhost now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SERVERS: weakref.WeakSet = weakref.WeakSet()


@tf_export("train.Server")
class Server:
    """An in-process server, one task of a cluster: `Server(cluster, job_name="ps", task_index=0)`.

    Sessions connect to it with `tf.Session(server.target)`; `join()` blocks while it serves. Every task's
    Dask worker joins the scheduler on the cluster's first task (jobs sorted by name, then task index), so
    servers may start in any order."""

    def __init__(self, server_or_cluster_def, job_name=None, task_index=None, protocol=None, config=None,
                 start: bool = True) -> None:
        self._server_def = _make_server_def(server_or_cluster_def, job_name, task_index, protocol, config)
        if self._server_def.protocol != "grpc":
            raise _errors.NotFoundError(
                None, None, f"No server factory registered for the given ServerDef: protocol "
                f"\"{self._server_def.protocol}\" (tfmini's servers speak \"grpc\" only)")
        self._address = _task_address(self._server_def)
        self._task = dask_runtime.task_name(self._server_def.job_name, self._server_def.task_index)
        dask_runtime.dask()  # ImportError naming the extra now rather than at start()
        self._node: dask_runtime.TaskNode | None = None
        self._starting: concurrent.futures.Future | None = None
        self._lock = threading.Lock()
        if start:
            self.start()

    @property
    def server_def(self):
        """The `tf.train.ServerDef` this server was made from."""
        return self._server_def

    @property
    def target(self) -> str:
        """The target for `tf.Session` to connect to this server: "grpc://<this task's address>"."""
        return f"grpc://{self._address}"

    def start(self) -> None:
        """Starts the server (its Dask worker, and the scheduler on the cluster's first task). Idempotent."""
        with self._lock:
            if self._starting is not None:
                return
            job, index, address = first_task(self._server_def.cluster)
            runs_scheduler = (job, index) == (self._server_def.job_name, self._server_def.task_index)
            loop = dask_runtime.event_loop()
            self._starting = loop.submit(dask_runtime.start_task_node(
                self._task, self._address, None if runs_scheduler else address,
                self._server_def.cluster.SerializeToString()))
            _SERVERS.add(self)
        try:
            self._node = self._starting.result(_START_WAIT)
        except concurrent.futures.TimeoutError:
            if runs_scheduler:
                raise _errors.UnavailableError(
                    None, None, f"The server for {self._task} did not start at {self._address}") from None
        except OSError as exc:
            self._starting = None
            raise _errors.UnknownError(
                None, None, f"Could not start the server for {self._task} at {self._address}: {exc}") from None

    def join(self) -> None:
        """Blocks until the server has shut down (TF1 servers serve until their process ends)."""
        if self._starting is None:
            raise _errors.FailedPreconditionError(None, None, "The server has not been started")
        node = self._starting.result()
        dask_runtime.event_loop().run(node.finished())

    def _stop(self) -> None:
        """Shuts the server's Dask worker (and scheduler) down; tests and process exit use it."""
        with self._lock:
            starting, self._starting = self._starting, None
        if starting is None:
            return
        try:
            node = starting.result(0.1)
        except concurrent.futures.TimeoutError:
            starting.cancel()
            return
        except Exception:  # noqa: BLE001 - a server that failed to start has nothing to stop
            return
        dask_runtime.event_loop().run(node.close(), timeout=15)

    @staticmethod
    def create_local_server(config=None, start: bool = True) -> Server:
        """A server for a one-task cluster {"local": ["localhost:<free port>"]} in this process."""
        return Server({"local": [f"localhost:{free_port()}"]}, protocol="grpc", config=config, start=start)


@atexit.register
def _stop_servers() -> None:
    for server in list(_SERVERS):
        try:
            server._stop()
        except Exception:  # noqa: BLE001 - process exit: nothing more can be done for a server that fails
            pass


_engine.register_targets()
