"""`tf.DeviceSpec`: a device name split into job, replica, task, device type and index (TF 1.x's mutable
DeviceSpec), parsed and spelled as the graph's device stack parses and spells device strings."""

from __future__ import annotations

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export


def _optional_int(value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"DeviceSpec {what} must be an integer, got {value!r}") from None
    return value


@tf_export("DeviceSpec")
class DeviceSpec:
    """A (possibly partial) device: `/job:<name>/replica:<id>/task:<id>/device:<type>:<index>`; fields left
    None are unspecified, and `device_index` None with a type is spelled `*` (any device of that type)."""

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index")

    def __init__(self, job: str | None = None, replica: int | None = None, task: int | None = None,
                 device_type: str | None = None, device_index: int | None = None) -> None:
        self.job = job
        self.replica = replica
        self.task = task
        self.device_type = device_type
        self.device_index = device_index

    # -- fields (settable, as in TF 1.x) ---------------------------------------------------------------
    @property
    def job(self) -> str | None:
        return self._job

    @job.setter
    def job(self, job: str | None) -> None:
        self._job = None if job is None else str(job)

    @property
    def replica(self) -> int | None:
        return self._replica

    @replica.setter
    def replica(self, replica: int | None) -> None:
        self._replica = _optional_int(replica, "replica")

    @property
    def task(self) -> int | None:
        return self._task

    @task.setter
    def task(self, task: int | None) -> None:
        self._task = _optional_int(task, "task")

    @property
    def device_type(self) -> str | None:
        return self._device_type

    @device_type.setter
    def device_type(self, device_type: str | None) -> None:
        # 'cpu' and 'gpu' are spelled in capitals, as TF spells them; other types are kept as given.
        if device_type is not None and device_type.upper() in ("CPU", "GPU"):
            device_type = device_type.upper()
        self._device_type = device_type

    @property
    def device_index(self) -> int | None:
        return self._device_index

    @device_index.setter
    def device_index(self, device_index: int | None) -> None:
        self._device_index = _optional_int(device_index, "device_index")

    # -- parsing, merging, spelling --------------------------------------------------------------------
    def parse_from_string(self, spec: str) -> DeviceSpec:
        """Sets every field from `spec` (the fields it does not name become None) and returns self; a
        malformed string is a ValueError."""
        fields = _ops._parse_device(spec or "")
        self.job = fields.get("job")
        self.replica = fields.get("replica")
        self.task = fields.get("task")
        kind, index = fields["device"].rsplit(":", 1) if "device" in fields else (None, "*")
        self.device_type = kind
        self.device_index = None if index == "*" else int(index)
        return self

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        """A new DeviceSpec parsed from `spec`, e.g. "/job:ps/task:0/device:CPU:0" or "/gpu:1"."""
        return cls().parse_from_string(spec)

    def merge_from(self, dev: DeviceSpec) -> None:
        """Overwrites the fields of self that `dev` sets."""
        for field in ("job", "replica", "task", "device_type", "device_index"):
            value = getattr(dev, field)
            if value is not None:
                setattr(self, field, value)

    def make_merged_spec(self, dev: DeviceSpec) -> DeviceSpec:
        """A new DeviceSpec: self with the fields `dev` sets taken from `dev`."""
        merged = self._copy()
        merged.merge_from(dev)
        return merged

    def replace(self, **kwargs) -> DeviceSpec:
        """A new DeviceSpec with the given fields (job, replica, task, device_type, device_index) replaced."""
        spec = self._copy()
        for field, value in kwargs.items():
            if field not in ("job", "replica", "task", "device_type", "device_index"):
                raise TypeError(f"replace() got an unexpected keyword argument '{field}'")
            setattr(spec, field, value)
        return spec

    def to_string(self) -> str:
        parts = []
        if self._job is not None:
            parts.append(f"/job:{self._job}")
        if self._replica is not None:
            parts.append(f"/replica:{self._replica}")
        if self._task is not None:
            parts.append(f"/task:{self._task}")
        if self._device_type is not None:
            index = "*" if self._device_index is None else self._device_index
            parts.append(f"/device:{self._device_type}:{index}")
        return "".join(parts)

    def _copy(self) -> DeviceSpec:
        return DeviceSpec(self._job, self._replica, self._task, self._device_type, self._device_index)

    def __eq__(self, other) -> bool:
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self) -> int:
        return hash(self.to_string())

    def __repr__(self) -> str:
        return (f"<DeviceSpec(job={self._job}, replica={self._replica}, task={self._task}, "
                f"device_type={self._device_type}, device_index={self._device_index})>")
