"""`tf.train.replica_device_setter`: a device function placing the variables (and the other ps ops) of a
model on parameter-server tasks and everything else on the worker, for between-graph replication."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tfmini.framework import tf_logging as _logging
from tfmini.framework.api_export import tf_export
from tfmini.framework.device import DeviceSpec
from tfmini.train.server_lib import ClusterSpec

# The op types that hold state a worker reads and a ps serves: placed on the ps job by default (TF 1.15's list).
STANDARD_PS_OPS = (
    "Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable", "MutableHashTableV2",
    "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
    "MutableDenseHashTableV2", "VarHandleOp", "BoostedTreesEnsembleResourceHandleOp",
    "BoostedTreesQuantileStreamResourceHandleOp", "ResourceConditionalAccumulator",
)


class _RoundRobinStrategy:
    """The ps task for each ps op in turn: 0, 1, ..., num_tasks - 1, 0, ..."""

    def __init__(self, num_tasks: int) -> None:
        self._num_tasks = num_tasks
        self._next_task = 0

    def __call__(self, unused_op) -> int:
        task = self._next_task
        self._next_task = (self._next_task + 1) % self._num_tasks
        return task


def _op_type(op) -> str:
    # A device function may be given an Operation or a NodeDef (TF allows both).
    return op.type if hasattr(op, "type") else op.op


class _ReplicaDeviceChooser:
    """The device function `replica_device_setter` returns, as an object holding its settings."""

    def __init__(self, ps_tasks: int, ps_device: str, worker_device: str, merge_devices: bool,
                 ps_ops: Iterable[str], ps_strategy: Callable) -> None:
        self._ps_tasks = ps_tasks
        self._ps_device = ps_device
        self._worker_device = worker_device
        self._merge_devices = merge_devices
        self._ps_ops = frozenset(ps_ops)
        self._ps_strategy = ps_strategy

    def device_function(self, op) -> str:
        """The device of `op`: a ps op goes to `ps_device` (with the strategy's task when the op's own job,
        if any, is the ps job), any other op to `worker_device`; the fields the op's device already sets win.
        Without `merge_devices` an op that already has a device keeps it unchanged."""
        if not self._merge_devices and op.device:
            return op.device
        current = DeviceSpec.from_string(op.device or "")
        if self._ps_tasks and self._ps_device and _op_type(op) in self._ps_ops:
            ps_device = DeviceSpec.from_string(self._ps_device)
            if ps_device.job and (not current.job or current.job == ps_device.job):
                ps_device.task = self._ps_strategy(op)
            ps_device.merge_from(current)
            return ps_device.to_string()
        worker_device = DeviceSpec.from_string(self._worker_device or "")
        worker_device.merge_from(current)
        return worker_device.to_string()


@tf_export("train.replica_device_setter")
def replica_device_setter(ps_tasks: int = 0, ps_device: str = "/job:ps", worker_device: str = "/job:worker",
                          merge_devices: bool = True, cluster=None, ps_ops=None, ps_strategy=None):
    """A device function for `tf.device`: ps ops (`ps_ops`, by default the variable and mutable-table ops of
    STANDARD_PS_OPS) on `ps_device` with the task chosen by `ps_strategy` (round robin over `ps_tasks` by
    default), every other op on `worker_device`.

    With `cluster` (a ClusterSpec or the dict one is built from), the number of ps tasks is the size of the
    job `ps_device` names. Returns None (no device function: `tf.device(None)` clears the outer device scopes,
    as in TF) when there are no ps tasks or `cluster` has no such job.
    """
    if cluster is not None:
        cluster_spec = (cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)).as_dict()
        ps_job_name = DeviceSpec.from_string(ps_device).job
        if ps_job_name not in cluster_spec or cluster_spec[ps_job_name] is None:
            return None
        ps_tasks = len(cluster_spec[ps_job_name])
    if ps_tasks == 0:
        return None
    if ps_ops is None:
        ps_ops = list(STANDARD_PS_OPS)
    if not merge_devices:
        _logging.warning(
            "DEPRECATION NOTE: replica_device_setter(merge_devices=False) keeps the device an op already has "
            "instead of merging it with the ps or worker device; device merging will always be done.")
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")
    chooser = _ReplicaDeviceChooser(ps_tasks, ps_device, worker_device, merge_devices, ps_ops, ps_strategy)
    return chooser.device_function
