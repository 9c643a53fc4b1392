"""`Timeline`: turns `StepStats` into Chrome Trace Event JSON that Perfetto and chrome://tracing open, as
`tensorflow.python.client.timeline` does. A reader of step stats only: it knows no session, plan or op.

The trace holds, per device, a "<device> Compute" process whose threads are the threads ops ran on; one
complete ("X") event per op named by its type; with `show_dataflow`, a flow ("s" then "f") from the op that
produced each input to the op that consumed it; with `show_memory`, an "Allocators" process with a counter
("C") per allocator of the bytes in use over the step. Timestamps are microseconds (fractions keep the
nanoseconds) from the step's first op start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import NamedTuple

_LABEL = re.compile(r"(.*) = (.*)\((.*)\)")


def parse_op_label(label: str) -> tuple[str, str, list[str]]:
    """(node name, op type, inputs) of a step-stats timeline label 'name = Type(in, in:1, ^ctrl)';
    ('unknown', 'unknown', []) for a label of another form."""
    match = _LABEL.match(label)
    if match is None:
        return "unknown", "unknown", []
    name, op_type, inputs = match.groups()
    return name, op_type, inputs.split(", ") if inputs else []


def op_type_of(node_name: str, label_type: str, graph=None) -> str:
    """An op's type as its timeline label gives it, else (for a label of another form) as `graph` does."""
    if label_type != "unknown" or graph is None:
        return label_type
    try:
        return graph.get_operation_by_name(node_name).type
    except (KeyError, ValueError):
        return label_type


def node_times_ns(ns) -> tuple[int, int]:
    """(start, end) of a NodeExecStats in epoch nanoseconds, from its nanosecond fields when set."""
    if ns.all_start_nanos:
        return ns.all_start_nanos, ns.all_start_nanos + max(0, ns.all_end_rel_nanos)
    start = ns.all_start_micros * 1000
    return start, start + max(0, ns.all_end_rel_micros) * 1000


class _ChromeTrace:
    """Collects trace events; metadata events come first in the output, as viewers expect."""

    def __init__(self) -> None:
        self.metadata: list[dict] = []
        self.events: list[dict] = []

    def name_process(self, pid: int, name: str, sort_index: int) -> None:
        self.metadata.append({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}})
        self.metadata.append({"name": "process_sort_index", "ph": "M", "pid": pid,
                              "args": {"sort_index": sort_index}})

    def name_thread(self, pid: int, tid: int, name: str, sort_index: int) -> None:
        self.metadata.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})
        self.metadata.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                              "args": {"sort_index": sort_index}})

    def complete(self, pid: int, tid: int, ts: float, dur: float, cat: str, name: str, args: dict) -> None:
        self.events.append({"ph": "X", "cat": cat, "name": name, "pid": pid, "tid": tid, "ts": ts, "dur": dur,
                            "args": args})

    def flow(self, flow_id: int, name: str, start: tuple[int, int, float], end: tuple[int, int, float]) -> None:
        """A flow arrow from the slice enclosing `start` to the slice enclosing `end` ((pid, tid, ts) each)."""
        (spid, stid, sts), (epid, etid, ets) = start, end
        self.events.append({"ph": "s", "cat": "DataFlow", "name": name, "id": flow_id, "pid": spid, "tid": stid,
                            "ts": sts})
        self.events.append({"ph": "f", "bp": "e", "cat": "DataFlow", "name": name, "id": flow_id, "pid": epid,
                            "tid": etid, "ts": ets})

    def counter(self, pid: int, ts: float, name: str, values: dict) -> None:
        self.events.append({"ph": "C", "cat": "Memory", "name": name, "pid": pid, "tid": 0, "ts": ts,
                            "args": values})

    def to_json(self) -> str:
        """The trace, indented as TF's timeline writes it."""
        return json.dumps({"traceEvents": self.metadata + self.events}, indent=4, separators=(",", ": "))


def assign_tracks(nodes: Sequence, times: list[tuple[int, int]]) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """A track (trace tid) per node such that slices on one track never overlap: a node stays on its thread's
    track unless it starts before the previous node there ended (stats merged from elsewhere), in which case
    it moves to an extra track of that thread. Returns the tids and tid -> (thread id, extra-track index)."""
    lane_ends: dict[int, list[int]] = {}  # thread id -> end time of each of its tracks
    lane_tids: dict[tuple[int, int], int] = {}
    origin: dict[int, tuple[int, int]] = {}
    used = {ns.thread_id for ns in nodes}
    next_tid = max(used, default=0) + 1
    tids = []
    for ns, (start, end) in zip(nodes, times):
        ends = lane_ends.setdefault(ns.thread_id, [])
        lane = next((i for i, e in enumerate(ends) if start >= e), len(ends))
        if lane == len(ends):
            ends.append(end)
        else:
            ends[lane] = end
        key = (ns.thread_id, lane)
        if key not in lane_tids:
            tid = ns.thread_id if lane == 0 else next_tid
            next_tid += lane > 0
            lane_tids[key] = tid
            origin[tid] = key
        tids.append(lane_tids[key])
    return tids, origin


class Timeline:
    """The execution of one step as a Chrome trace: `Timeline(run_metadata.step_stats)`.

    `graph` (optional, the graph that ran) supplies the op type of nodes whose timeline label does not name it.
    """

    def __init__(self, step_stats, graph=None) -> None:
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow: bool = True, show_memory: bool = False,
                                     op_time: str = "schedule") -> str:
        """The step as Chrome Trace Event JSON (an object with "traceEvents").

        Args:
          show_dataflow: add a flow arrow from each op to the ops that consumed its outputs.
          show_memory: add a counter per allocator of the bytes in use over the step.
          op_time: accepted for TF's signature; every tfmini op runs on the CPU, so its one time is its
            scheduling time ("schedule", "gpu" and "all" give the same trace).
        """
        del op_time
        return self._analyze(show_dataflow, show_memory).to_json()

    def _analyze(self, show_dataflow: bool, show_memory: bool) -> _ChromeTrace:
        trace = _ChromeTrace()
        devices = [(dev, list(dev.node_stats)) for dev in self._step_stats.dev_stats]
        times = [[node_times_ns(ns) for ns in nodes] for _, nodes in devices]
        origin_ns = min((start for dev_times in times for start, _ in dev_times), default=0)

        def us(t_ns: int) -> float:
            return round((t_ns - origin_ns) / 1000.0, 3)

        next_pid = 0
        if show_memory:
            allocators_pid, next_pid = next_pid, next_pid + 1
            trace.name_process(allocators_pid, "Allocators", allocators_pid)
        # Place every slice first, so that a flow may come from an op of any device.
        slices: list[_Slice] = []
        for (dev, nodes), dev_times in zip(devices, times):
            pid, next_pid = next_pid, next_pid + 1
            trace.name_process(pid, f"{dev.device} Compute", pid)
            tids, tracks = assign_tracks(nodes, dev_times)
            for order, (tid, (thread_id, extra)) in enumerate(sorted(tracks.items(), key=lambda kv: kv[1])):
                name = dev.thread_names.get(thread_id) or f"thread {thread_id}"
                trace.name_thread(pid, tid, f"{name} (overlap {extra})" if extra else name, order)
            for ns, tid, (start, end) in zip(nodes, tids, dev_times):
                _, label_type, inputs = parse_op_label(ns.timeline_label)
                op_type = op_type_of(ns.node_name, label_type, self._graph)
                slices.append(_Slice(ns, op_type, inputs, pid, tid, start, end))
        # Flow points sit mid-slice, so that every viewer binds them to that slice whatever its rounding.
        produced = {}  # tensor as labels name inputs ('op' for output 0, 'op:k') -> (pid, tid, ts)
        for sl in slices:
            for slot in range(max(1, len(sl.node.output))):
                produced[sl.node.node_name if slot == 0 else f"{sl.node.node_name}:{slot}"] = sl.mid(us)

        flow_id = 0
        for sl in slices:
            args = {"name": sl.node.node_name, "op": sl.op_type}
            args.update((f"input{i}", name) for i, name in enumerate(sl.inputs))
            trace.complete(sl.pid, sl.tid, us(sl.start), round((sl.end - sl.start) / 1000.0, 3), "Op", sl.op_type,
                           args)
            if show_dataflow:
                for name in sl.inputs:
                    if name in produced:
                        trace.flow(flow_id, name, produced[name], sl.mid(us))
                        flow_id += 1
        if show_memory:
            for allocator, series in _memory_series(slices).items():
                for t_ns, in_use in series:
                    trace.counter(allocators_pid, us(t_ns), allocator, {allocator: in_use})
        return trace


class _Slice(NamedTuple):
    node: object  # NodeExecStats
    op_type: str
    inputs: list
    pid: int
    tid: int
    start: int  # epoch ns
    end: int

    def mid(self, us) -> tuple[int, int, float]:
        return self.pid, self.tid, us((self.start + self.end) // 2)  # integer ns: exact at epoch magnitudes


def _memory_series(slices: list[_Slice]) -> dict[str, list[tuple[int, int]]]:
    """Per allocator, (epoch ns, bytes in use) over the step: before an op starts, what was in use after the
    previous frees; when it ends, that plus what it allocated (its `allocator_bytes_in_use`)."""
    series: dict[str, list[tuple[int, int]]] = {}
    for sl in slices:
        for mem in sl.node.memory:
            points = series.setdefault(mem.allocator_name, [])
            points.append((sl.start, mem.allocator_bytes_in_use - max(0, mem.total_bytes)))
            points.append((sl.end, mem.allocator_bytes_in_use))
    return {name: sorted(points, key=lambda p: p[0]) for name, points in series.items()}


__all__ = ["Timeline", "node_times_ns", "op_type_of", "parse_op_label"]
