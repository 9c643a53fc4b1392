"""`tf.train.ClusterSpec`: the jobs of a distributed cluster and the network address of each of their tasks,
as a Python mapping and as the `ClusterDef` protocol buffer; `tf.train.ClusterDef` and `tf.train.ServerDef`.

Only the description of a cluster lives here; nothing in this module starts a server or talks to one.
"""

from __future__ import annotations

from tfmini.framework.api_export import tf_export
from tfmini.protobuf import cluster_pb2, tensorflow_server_pb2

tf_export("train.ClusterDef")(cluster_pb2.ClusterDef)
tf_export("train.JobDef")(cluster_pb2.JobDef)
tf_export("train.ServerDef")(tensorflow_server_pb2.ServerDef)

_BAD_CLUSTER = ("`cluster` must be a dictionary mapping one or more job names to lists of network addresses, "
                "or a `ClusterDef` protocol buffer")


def _as_text(value, what: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise TypeError(f"{what} {value!r} must be bytes or unicode")


def _job_tasks_from_python(job_name, tasks) -> dict[int, object]:
    if isinstance(tasks, (list, tuple)):
        return dict(enumerate(tasks))
    if isinstance(tasks, dict):
        return {int(i): address for i, address in tasks.items()}
    raise TypeError(f"The tasks for job {job_name!r} must be a list or a dictionary from integers to strings.")


@tf_export("train.ClusterSpec")
class ClusterSpec:
    """A cluster as a set of jobs, each a set of tasks (index -> "host:port").

    Built from a dict mapping each job name to a list of addresses (task i at position i) or to a dict
    {task index: address} (a job whose tasks are sparse), from another ClusterSpec, or from a `ClusterDef`.
    """

    def __init__(self, cluster) -> None:
        if isinstance(cluster, dict):
            self._cluster_spec = {job: _job_tasks_from_python(job, tasks) for job, tasks in cluster.items()}
            self._cluster_def = self._make_cluster_def()
        elif isinstance(cluster, (ClusterSpec, cluster_pb2.ClusterDef)):
            cluster_def = cluster.as_cluster_def() if isinstance(cluster, ClusterSpec) else cluster
            self._cluster_def = cluster_pb2.ClusterDef()
            self._cluster_def.MergeFrom(cluster_def)
            self._cluster_spec = {job.name: dict(job.tasks.items()) for job in self._cluster_def.job}
        else:
            raise TypeError(_BAD_CLUSTER)

    def _make_cluster_def(self) -> cluster_pb2.ClusterDef:
        cluster_def = cluster_pb2.ClusterDef()
        # Jobs and tasks in sorted order, so equal clusters serialize to equal bytes.
        for job_name, tasks in sorted(self._cluster_spec.items(), key=lambda kv: str(kv[0])):
            job = cluster_def.job.add(name=_as_text(job_name, "Job name"))
            for index, address in sorted(tasks.items()):
                job.tasks[index] = _as_text(address, "Task address")
        return cluster_def

    def __bool__(self) -> bool:
        return bool(self._cluster_spec)

    def __eq__(self, other) -> bool:
        # Equal to a ClusterSpec with the same jobs and tasks, or to the dict {job: {index: address}}.
        if isinstance(other, ClusterSpec):
            return self._cluster_spec == other._cluster_spec
        return self._cluster_spec == other

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None  # mutable-looking and compared by value, as in TF: not hashable

    def __str__(self) -> str:
        as_dict = self.as_dict()
        items = ", ".join(f"{job!r}: {as_dict[job]!r}" for job in sorted(as_dict))
        return f"ClusterSpec({{{items}}})"

    __repr__ = __str__

    def as_dict(self) -> dict:
        """{job name: addresses}: a list where the job's task indices are 0..n-1, else {index: address}."""
        result = {}
        for job in self.jobs:
            indices = self.task_indices(job)
            if indices and max(indices) + 1 == len(indices):
                result[job] = self.job_tasks(job)
            else:
                result[job] = {i: self.task_address(job, i) for i in indices}
        return result

    def as_cluster_def(self) -> cluster_pb2.ClusterDef:
        """The `ClusterDef` protocol buffer of this cluster."""
        return self._cluster_def

    @property
    def jobs(self) -> list:
        """The job names, in the order they were given."""
        return list(self._cluster_spec)

    def _job(self, job_name) -> dict:
        try:
            return self._cluster_spec[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def num_tasks(self, job_name) -> int:
        """How many tasks `job_name` has; ValueError if there is no such job."""
        return len(self._job(job_name))

    def task_indices(self, job_name) -> list[int]:
        """The sorted task indices of `job_name`; ValueError if there is no such job."""
        return sorted(self._job(job_name))

    def task_address(self, job_name, task_index: int):
        """The address of task `task_index` of `job_name`; ValueError if either does not exist."""
        job = self._job(job_name)
        try:
            return job[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}") from None

    def job_tasks(self, job_name) -> list:
        """The addresses of `job_name` as a list indexed by task, with None where a sparse job has no task."""
        job = self._job(job_name)
        if not job:
            raise ValueError(f"Job {job_name!r} has no tasks")
        addresses = [None] * (max(job) + 1)
        for index, address in job.items():
            addresses[index] = address
        return addresses
