"""What a debugged step kept: one `DebugTensorDatum` per output of every op that ran (in execution order,
with a read-only copy of its value), queried through `DebugDump` with the methods of TF's `DebugDumpDir`,
and TF's `has_inf_or_nan` tensor filter. Pure data; running a step belongs to `wrappers`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from tfmini.framework import ops as _ops

DEBUG_OP = "DebugIdentity"


class WatchKeyDoesNotExistInDebugDumpDirError(ValueError):
    """A (node, output slot, debug op) that no datum of the dump holds."""


class InconvertibleTensor:
    """Stands for a value that is no NumPy array (a resource, a variable not yet initialized), as TF's
    `InconvertibleTensorProto` does: `has_inf_or_nan` and the statistics skip it."""

    def __init__(self, description: str, initialized: bool = True) -> None:
        self._description = description
        self._initialized = initialized

    @property
    def initialized(self) -> bool:
        return self._initialized

    def __str__(self) -> str:
        return self._description if self._initialized else f"Uninitialized tensor: {self._description}"

    __repr__ = __str__


class DebugTensorDatum:
    """One dumped output of one op: where it came from (node, output slot, device, debug op), when
    (`timestamp`: microseconds since the epoch) and its value (`get_tensor()`, a read-only array)."""

    def __init__(self, op: _ops.Operation, output_slot: int, value, timestamp: int, device_name: str,
                 order: int) -> None:
        self._op = op
        self._output_slot = output_slot
        self._value = value
        self._timestamp = timestamp
        self._device_name = device_name
        self._order = order

    @property
    def node_name(self) -> str:
        return self._op.name

    @property
    def output_slot(self) -> int:
        return self._output_slot

    @property
    def debug_op(self) -> str:
        return DEBUG_OP

    @property
    def device_name(self) -> str:
        return self._device_name

    @property
    def timestamp(self) -> int:
        return self._timestamp

    @property
    def extended_timestamp(self) -> str:
        """The timestamp with the datum's position in the step, unique within a dump."""
        return f"{self._timestamp}-{self._order}"

    @property
    def tensor_name(self) -> str:
        return f"{self.node_name}:{self._output_slot}"

    @property
    def watch_key(self) -> str:
        return f"{self.tensor_name}:{DEBUG_OP}"

    @property
    def file_path(self) -> None:
        """None: a dump is kept in memory, not written to files."""
        return None

    @property
    def dump_size_bytes(self) -> int:
        """Bytes of the kept value (a string array counts its strings' lengths)."""
        return _nbytes(self._value)

    @property
    def op(self) -> _ops.Operation:
        """The Operation that produced this value."""
        return self._op

    @property
    def op_type(self) -> str:
        return self._op.type

    def get_tensor(self):
        """The dumped value: a read-only NumPy array (copy it to change it), or an `InconvertibleTensor`."""
        return self._value

    def __repr__(self) -> str:
        return f"{{DebugTensorDatum ({self._device_name}) {self.watch_key} @ {self._timestamp}}}"


def _nbytes(value) -> int:
    if not isinstance(value, np.ndarray):
        return 0
    if value.dtype.kind == "O":
        return int(sum(len(x) if isinstance(x, (bytes, str)) else 8 for x in value.ravel()))
    return int(value.nbytes)


def has_inf_or_nan(datum: DebugTensorDatum, tensor) -> bool:
    """TF's tensor filter: whether `tensor` (a datum's value) holds any infinity or NaN. Values that are no
    numeric array (strings, resources, uninitialized variables) have none."""
    del datum  # the filter looks at the value only
    if not isinstance(tensor, (np.ndarray, np.generic)):
        return False
    if tensor.dtype.kind not in "fc":
        return False  # integers, booleans and strings cannot hold inf or nan
    return not bool(np.isfinite(tensor).all())


class DebugDump:
    """The tensors one debugged step dumped, in execution order, with `DebugDumpDir`'s queries.

    `error` is the OpError that ended the step early, or None (a failed step keeps what ran before the
    failing op). `fed_tensors` maps each fed tensor's name to a read-only copy of its fed value (fed tensors
    are not computed, so no datum holds them)."""

    def __init__(self, graph: _ops.Graph, data: Sequence[DebugTensorDatum], fetches: Sequence[str],
                 feed_keys: Sequence[str], fed_tensors: dict, run_index: int, error=None) -> None:
        self._graph = graph
        self._data = list(data)
        self._fetches = list(fetches)
        self._feed_keys = list(feed_keys)
        self._fed = dict(fed_tensors)
        self._run_index = run_index
        self._error = error
        self._by_key: dict[str, list[DebugTensorDatum]] = {}
        self._ops: dict[str, _ops.Operation] = {}
        for datum in self._data:
            self._by_key.setdefault(datum.watch_key, []).append(datum)
            self._ops.setdefault(datum.node_name, datum.op)

    # -- the step --------------------------------------------------------------
    @property
    def graph(self) -> _ops.Graph:
        return self._graph

    @property
    def run_index(self) -> int:
        """Which `run()` call of the wrapper session made this dump (1 for the first)."""
        return self._run_index

    @property
    def error(self):
        return self._error

    @property
    def fed_tensors(self) -> dict:
        return dict(self._fed)

    @property
    def run_fetches_info(self) -> list[str]:
        """The names of the run's fetches (tensors and ops)."""
        return list(self._fetches)

    @property
    def run_feed_keys_info(self) -> list[str]:
        """The names of the run's fed tensors."""
        return list(self._feed_keys)

    @property
    def dumped_tensor_data(self) -> list[DebugTensorDatum]:
        return list(self._data)

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def t0(self) -> int | None:
        """The timestamp of the first datum (microseconds since the epoch), None for an empty dump."""
        return self._data[0].timestamp if self._data else None

    def devices(self) -> list[str]:
        return sorted({d.device_name for d in self._data})

    # -- nodes -----------------------------------------------------------------
    def node_names(self) -> list[str]:
        """The names of the ops whose outputs were dumped, in execution order."""
        return list(self._ops)

    def node_exists(self, node_name: str, device_name: str | None = None) -> bool:
        return node_name in self._ops and (device_name is None or device_name in self.devices())

    def _op(self, node_name: str) -> _ops.Operation:
        op = self._ops.get(node_name)
        if op is None:
            try:
                op = self._graph.get_operation_by_name(node_name)
            except (KeyError, ValueError):
                raise ValueError(f"There is no node named '{node_name}' in the partition graphs") from None
        return op

    def node_op_type(self, node_name: str, device_name: str | None = None) -> str:
        return self._op(node_name).type

    def node_device(self, node_name: str) -> str:
        datum = next((d for d in self._data if d.node_name == node_name), None)
        if datum is None:
            self._op(node_name)
            raise ValueError(f"Node '{node_name}' did not run in this step, so it has no device")
        return datum.device_name

    def node_inputs(self, node_name: str, is_control: bool = False, device_name: str | None = None) -> list[str]:
        """The node's inputs as a NodeDef names them ('x', 'split:1'), or its control inputs' names."""
        op = self._op(node_name)
        if is_control:
            return [c.name for c in op.control_inputs]
        return [t._as_node_def_input() for t in op.inputs]

    def node_recipients(self, node_name: str, is_control: bool = False,
                        device_name: str | None = None) -> list[str]:
        """The names of the ops that read the node's outputs (or that it is a control input of)."""
        op = self._op(node_name)
        if is_control:
            return [c.name for c in op._control_outputs]
        return list(dict.fromkeys(c.name for t in op.outputs for c in t.consumers()))

    def transitive_inputs(self, node_name: str, include_control: bool = True,
                          device_name: str | None = None) -> list[str]:
        """The names of every op the node depends on, nearest first."""
        seen: dict[str, None] = {}
        frontier = [self._op(node_name)]
        while frontier:
            op = frontier.pop(0)
            deps = [t.op for t in op.inputs] + (list(op.control_inputs) if include_control else [])
            for dep in deps:
                if dep.name not in seen:
                    seen[dep.name] = None
                    frontier.append(dep)
        return list(seen)

    def node_traceback(self, element_name: str) -> list[tuple[str, int, str]]:
        """Where user code created the op (or the op of the tensor) named `element_name`, as
        (file, line, function)."""
        op = self._op(element_name.split(":")[0])
        file, line, func = op.traceback
        return [(file, line, func)] if line else []

    # -- watch keys ------------------------------------------------------------
    def debug_watch_keys(self, node_name: str, device_name: str | None = None) -> list[str]:
        return [k for k in self._by_key if k.rsplit(":", 2)[0] == node_name]

    def watch_key_to_data(self, debug_watch_key: str, device_name: str | None = None) -> list[DebugTensorDatum]:
        """The data dumped under `debug_watch_key` ('node:slot:DebugIdentity'); [] for an unknown key."""
        data = self._by_key.get(debug_watch_key, [])
        return [d for d in data if device_name is None or d.device_name == device_name]

    def _watch_data(self, node_name: str, output_slot: int, debug_op: str) -> list[DebugTensorDatum]:
        key = f"{node_name}:{output_slot}:{debug_op}"
        data = self._by_key.get(key)
        if not data:
            raise WatchKeyDoesNotExistInDebugDumpDirError(
                f"Watch key \"{key}\" does not exist in the debug dump")
        return data

    def get_tensors(self, node_name: str, output_slot: int, debug_op: str, device_name: str | None = None) -> list:
        return [d.get_tensor() for d in self._watch_data(node_name, output_slot, debug_op)]

    def get_dump_sizes_bytes(self, node_name: str, output_slot: int, debug_op: str,
                             device_name: str | None = None) -> list[int]:
        return [d.dump_size_bytes for d in self._watch_data(node_name, output_slot, debug_op)]

    def get_rel_timestamps(self, node_name: str, output_slot: int, debug_op: str,
                           device_name: str | None = None) -> list[int]:
        """Microseconds from the dump's first datum to each datum of the watch key."""
        return [d.timestamp - self.t0 for d in self._watch_data(node_name, output_slot, debug_op)]

    # -- search ----------------------------------------------------------------
    def find(self, predicate: Callable, first_n: int = 0, device_name: str | None = None,
             exclude_node_names: str | None = None) -> list[DebugTensorDatum]:
        """The data for which `predicate(datum, tensor)` is true, in execution order; the first `first_n`
        only when it is positive; nodes whose names match the regex `exclude_node_names` are skipped."""
        if exclude_node_names is not None:
            exclude = re.compile(exclude_node_names)
        found = []
        for datum in self._data:
            if device_name is not None and datum.device_name != device_name:
                continue
            if exclude_node_names is not None and exclude.match(datum.node_name):
                continue
            if predicate(datum, datum.get_tensor()):
                found.append(datum)
                if 0 < first_n <= len(found):
                    break
        return found

    def input_values(self, node_name: str) -> list[tuple[str, object]]:
        """(tensor name, value) for each data input of the node: the dumped value, the fed value, or None
        when the step neither computed nor fed it."""
        out = []
        for t in self._op(node_name).inputs:
            if t.name in self._fed:
                value = self._fed[t.name]
            else:
                data = self._by_key.get(f"{t.name}:{DEBUG_OP}")
                value = data[-1].get_tensor() if data else None
            out.append((t.name, value))
        return out

    def __repr__(self) -> str:
        failed = f", failed at {self._error.op.name}" if self._error is not None and self._error.op else ""
        return f"<DebugDump of run {self._run_index}: {self.size} tensors from {len(self._ops)} ops{failed}>"


__all__ = ["DebugDump", "DebugTensorDatum", "InconvertibleTensor", "WatchKeyDoesNotExistInDebugDumpDirError",
           "has_inf_or_nan"]
