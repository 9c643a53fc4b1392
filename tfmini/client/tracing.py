"""The traced run loop: runs a plan's steps one by one and records what each op did (times, thread, outputs,
memory) as plain data in `RunMetadata` (`step_stats`, `cost_graph`, `partition_graphs`). Formatting that
data (Chrome trace, tables) belongs to `timeline` and `trace_summary`; untraced runs take the fast path.

Memory model (one allocator, "cpu"): a step starts with its fed values in use; each op allocates its outputs
when it runs; a value is freed right after its last consumer in the plan unless it is fetched, and values no
op consumes stay until the step returns (the policy of the fast path's generated code). Memory is counted per
buffer, so an output that is, or is a view of, a buffer in use allocates nothing. Buffers that outlive the
step are persistent, not step memory: constant-folded outputs and variable storage (a RefCell).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from tfmini.client.executor import DEVICE_NAME, Plan, RefCell, Step
from tfmini.framework import graph_io
from tfmini.protobuf import cost_graph_pb2, step_stats_pb2
from tfmini.protobuf.allocation_description_pb2 import AllocationDescription as _allocation_description

ALLOCATOR = "cpu"


def _array(v):
    """The NumPy value behind a slot value (an array, a NumPy scalar or a variable's storage), else None."""
    if isinstance(v, (np.ndarray, np.generic)):
        return v
    if isinstance(v, RefCell):
        return v.value if v.initialized else None
    inner = getattr(v, "value", None)  # a fed ref
    return inner if isinstance(inner, (np.ndarray, np.generic)) else None


def _nbytes(arr) -> int:
    """Bytes of a value; a string array counts its strings' lengths (its nbytes would count pointers)."""
    if arr is None:
        return 0
    if arr.dtype.kind == "O":
        return int(sum(len(x) if isinstance(x, (bytes, str)) else 8 for x in np.ravel(arr)))
    return int(arr.nbytes)


def _root(arr):
    """The array that owns `arr`'s memory (itself unless `arr` is a view)."""
    while isinstance(getattr(arr, "base", None), np.ndarray):
        arr = arr.base
    return arr


class _OutputRecord:
    """What the trace keeps of one output: its description and what it cost the step.

    `allocated`: step-memory bytes it added (0 when it shares a buffer already in use or persistent);
    `persistent`: bytes of a persistent buffer this op is the first of the step to hand out."""

    __slots__ = ("shape", "nbytes", "ptr", "alias_input", "allocated", "persistent")

    def __init__(self, shape, nbytes, ptr, alias_input, allocated, persistent) -> None:
        self.shape = shape
        self.nbytes = nbytes
        self.ptr = ptr
        self.alias_input = alias_input
        self.allocated = allocated
        self.persistent = persistent


class _OpRecord:
    """One executed step: its times (perf_counter seconds), outputs and the bytes in use at its end."""

    __slots__ = ("step", "t0", "t1", "thread", "outputs", "in_use", "allocations")

    def __init__(self, step: Step, t0: float, t1: float, thread: tuple[int, str]) -> None:
        self.step = step
        self.t0 = t0
        self.t1 = t1
        self.thread = thread  # (native id, name) of the thread that ran it
        self.outputs: list[_OutputRecord] = []
        self.in_use = 0
        # (perf_counter seconds, signed bytes): its buffers' allocations, then their frees as they happen.
        self.allocations: list[tuple[float, int]] = []


class _Buffer:
    """A step-memory buffer (a root array) and how many live slots hold it."""

    __slots__ = ("root", "nbytes", "owner", "holders")

    def __init__(self, root, nbytes: int, owner: _OpRecord | None) -> None:
        self.root = root  # held so that its id stays its own while it is accounted
        self.nbytes = nbytes
        self.owner = owner
        self.holders = 1


class StepRecorder:
    """Watches one `Plan.run_steps` call (`on_step` is its callback; `values` its slot list) and applies the
    memory model, keeping per op only the facts the protos are built from.

    Memory is accounted per buffer (a root array): slots holding views of one buffer share it, so an op that
    hands on its input (Identity) or a view of it (Reshape) allocates nothing, and the buffer is freed when its
    last holder is."""

    def __init__(self, plan: Plan, feed_values: Sequence) -> None:
        self.plan = plan
        self.values: list = [None] * plan.n_slots
        self.thread = (threading.get_native_id(), threading.current_thread().name)
        # One wall-clock origin for epoch times; per-op offsets come from perf_counter for resolution.
        self.wall0_ns = time.time_ns()
        self.perf0 = time.perf_counter()
        # Seconds this recorder has spent in `on_step` while the step ran: taken off every later time, so the
        # timeline shows the step as it runs untraced (its gaps are the executor's, not the recorder's).
        self.paused = 0.0
        self.records: list[_OpRecord] = []
        self.in_use = 0
        self._buffers: dict[int, _Buffer] = {}  # id(root) -> buffer, for step memory in use
        self._slot_buffer: dict[int, int] = {}  # slot -> id(root) of the buffer it holds
        self._persistent: dict[int, object] = {id(_root(v)): v for v in plan.folded.values()}
        self._charged: set[int] = set()  # persistent buffers already charged to an op of this step
        for slot, v in zip(plan.feed_slots, feed_values):
            arr = _array(v)
            if arr is not None and id(_root(arr)) not in self._persistent:
                self._hold(slot, _root(arr), None)

    def _hold(self, slot: int, root, owner: _OpRecord | None) -> int:
        """Makes `slot` a holder of `root`'s buffer; returns the bytes newly allocated (0 if already held)."""
        key = id(root)
        self._slot_buffer[slot] = key
        buf = self._buffers.get(key)
        if buf is not None:
            buf.holders += 1
            return 0
        buf = self._buffers[key] = _Buffer(root, _nbytes(root), owner)
        self.in_use += buf.nbytes
        return buf.nbytes

    def _release(self, slot: int, t: float) -> None:
        key = self._slot_buffer.pop(slot, None)
        if key is None:
            return
        buf = self._buffers[key]
        buf.holders -= 1
        if buf.holders == 0:
            del self._buffers[key]
            self.in_use -= buf.nbytes
            if buf.owner is not None:
                buf.owner.allocations.append((t, -buf.nbytes))

    def on_step(self, step: Step, t0: float, t1: float, outs, thread: tuple[int, str] | None = None) -> None:
        """Records a step that ran from `t0` to `t1` on `thread` ((native id, name); the recording thread by
        default). Steps come in plan order, with `values` holding what the plain loop holds after each.

        Without `thread` the call is live (made by the step loop right after the op ran, before the next one
        starts): the time it takes is bookkeeping, and is taken off the times of every later op. A replay
        after a concurrent run (with `thread`) is not on the step's clock."""
        if thread is None:
            enter = time.perf_counter()
            shift = self.paused
            self._record(step, t0 - shift, t1 - shift, outs, self.thread)
            self.paused = shift + (time.perf_counter() - enter)
        else:
            self._record(step, t0, t1, outs, thread)

    def _record(self, step: Step, t0: float, t1: float, outs, thread: tuple[int, str]) -> None:
        vals = self.values
        input_roots = [None if a is None else id(_root(a)) for a in (_array(vals[s]) for s in step.inputs)]
        record = _OpRecord(step, t0, t1, thread)
        for slot, v in zip(step.outputs, outs):
            arr = _array(v)
            root = None if arr is None else _root(arr)
            allocated = charged = 0
            if root is not None:
                key = id(root)
                if slot in self.plan.folded or isinstance(v, RefCell) or key in self._persistent:
                    self._persistent.setdefault(key, root)
                    if key not in self._charged:
                        self._charged.add(key)
                        charged = _nbytes(root)
                else:
                    allocated = self._hold(slot, root, record)
                    if allocated:
                        record.allocations.append((t0, allocated))
            alias = input_roots.index(id(root)) if root is not None and id(root) in input_roots else -1
            ptr = arr.ctypes.data if isinstance(arr, np.ndarray) else 0  # (__array_interface__ costs 2x more)
            shape = None if arr is None else arr.shape
            record.outputs.append(_OutputRecord(shape, _nbytes(arr), ptr, alias, allocated, charged))
        record.in_use = self.in_use
        self.records.append(record)
        for s in self.plan.dead_after[step.index]:
            self._release(s, t1)

    # -- to protos -------------------------------------------------------------
    def _ns(self, t: float) -> int:
        return self.wall0_ns + int((t - self.perf0) * 1e9)

    def fill_step_stats(self, step_stats) -> None:
        steps = self.plan.steps
        records = self.records
        if (not step_stats.dev_stats and len(records) == len(steps)
                and all(r.step is s for r, s in zip(records, steps))):
            self._fill_step_stats_from_skeleton(step_stats)
        else:
            self._fill_step_stats_in_order(step_stats)

    def _fill_step_stats_from_skeleton(self, step_stats) -> None:
        """`fill_step_stats` for a run of every step in plan order: the plan's cached skeleton (names, labels,
        output dtypes, allocators), then this run's figures."""
        step_stats.MergeFromString(_step_stats_skeleton(self.plan))
        dev = step_stats.dev_stats[0]
        for thread_id, thread_name in {rec.thread for rec in self.records} | {self.thread}:
            dev.thread_names[thread_id] = thread_name
        allocation_id = 0
        wall0_ns, perf0 = self.wall0_ns, self.perf0
        for ns, rec in zip(dev.node_stats, self.records):
            start_ns = wall0_ns + int((rec.t0 - perf0) * 1e9)
            end_ns = max(start_ns, wall0_ns + int((rec.t1 - perf0) * 1e9))
            start_us = start_ns // 1000
            ns.all_start_micros = ns.scheduled_micros = start_us
            ns.op_end_rel_micros = ns.all_end_rel_micros = end_ns // 1000 - start_us
            ns.all_start_nanos = ns.scheduled_nanos = start_ns
            ns.op_end_rel_nanos = ns.all_end_rel_nanos = end_ns - start_ns
            ns.thread_id = rec.thread[0]
            for output, out in zip(ns.output, rec.outputs):
                if out.shape is None:
                    continue
                td = output.tensor_description
                dim = td.shape.dim
                for d in out.shape:
                    dim.add(size=d)
                allocation_id += 1
                td.allocation_description.MergeFrom(_allocation_description(
                    requested_bytes=out.nbytes, allocated_bytes=out.nbytes, allocator_name=ALLOCATOR,
                    allocation_id=allocation_id, ptr=out.ptr))
            allocated = sum(o.allocated for o in rec.outputs)
            mem = ns.memory[0]
            mem.total_bytes = mem.peak_bytes = mem.live_bytes = allocated
            mem.allocator_bytes_in_use = rec.in_use
            for t, nbytes in rec.allocations:
                mem.allocation_records.add(alloc_micros=self._ns(t) // 1000, alloc_bytes=nbytes)
            ns.memory_stats.persistent_memory_size = sum(o.persistent for o in rec.outputs)

    def _fill_step_stats_in_order(self, step_stats) -> None:
        dev = step_stats.dev_stats.add(device=DEVICE_NAME)
        for thread_id, thread_name in {rec.thread for rec in self.records} | {self.thread}:
            dev.thread_names[thread_id] = thread_name
        allocation_id = 0
        labels = _op_facts(self.plan)
        wall0_ns, perf0 = self.wall0_ns, self.perf0
        for rec in self.records:
            op = rec.step.op
            label, dtypes = labels[rec.step.index]
            start_ns = wall0_ns + int((rec.t0 - perf0) * 1e9)
            end_ns = max(start_ns, wall0_ns + int((rec.t1 - perf0) * 1e9))
            start_us = start_ns // 1000
            # Micros are derived from the nanos so both describe the same interval.
            ns = dev.node_stats.add(
                node_name=op.name,
                all_start_micros=start_us,
                op_start_rel_micros=0,
                op_end_rel_micros=end_ns // 1000 - start_us,
                all_end_rel_micros=end_ns // 1000 - start_us,
                scheduled_micros=start_us,
                all_start_nanos=start_ns,
                op_start_rel_nanos=0,
                op_end_rel_nanos=end_ns - start_ns,
                all_end_rel_nanos=end_ns - start_ns,
                scheduled_nanos=start_ns,
                thread_id=rec.thread[0],
                timeline_label=label,
            )
            for i, (dtype, out) in enumerate(zip(dtypes, rec.outputs)):
                td = ns.output.add(slot=i).tensor_description
                td.dtype = dtype
                if out.shape is None:
                    continue
                dim = td.shape.dim
                for d in out.shape:
                    dim.add(size=d)
                allocation_id += 1
                td.allocation_description.MergeFrom(_allocation_description(
                    requested_bytes=out.nbytes, allocated_bytes=out.nbytes, allocator_name=ALLOCATOR,
                    allocation_id=allocation_id, ptr=out.ptr))
            allocated = sum(o.allocated for o in rec.outputs)
            mem = ns.memory.add(
                allocator_name=ALLOCATOR,
                total_bytes=allocated,
                peak_bytes=allocated,
                live_bytes=allocated,
                allocator_bytes_in_use=rec.in_use,
            )
            for t, nbytes in rec.allocations:
                mem.allocation_records.add(alloc_micros=self._ns(t) // 1000, alloc_bytes=nbytes)
            ns.memory_stats.temp_memory_size = 0
            ns.memory_stats.persistent_memory_size = sum(o.persistent for o in rec.outputs)

    def fill_cost_graph(self, cost_graph) -> None:
        steps = self.plan.steps
        records = self.records
        if len(records) == len(steps) and all(r.step is s for r, s in zip(records, steps)):
            # Every step, in plan order: the plan's cost graph skeleton, then this run's figures.
            cost_graph.MergeFromString(_cost_graph_skeleton(self.plan))
            for node, rec in zip(cost_graph.node, records):
                node.compute_cost = node.compute_time = round((rec.t1 - rec.t0) * 1e6)
                node.persistent_memory_size = sum(o.persistent for o in rec.outputs)
                for info, out in zip(node.output_info, rec.outputs):
                    info.size = out.nbytes
                    info.alias_input_port = out.alias_input
                    dim = info.shape.dim
                    for d in out.shape or ():
                        dim.add(size=d)
            return
        self._fill_cost_graph_in_order(cost_graph)

    def _fill_cost_graph_in_order(self, cost_graph) -> None:
        ids: dict = {}
        final = set(self.plan.target_ops)
        fetched = set(self.plan.fetch_slots)
        for rec in self.records:
            op = rec.step.op
            ids[op] = len(ids)
            node = cost_graph.node.add(name=op.name, device=DEVICE_NAME, id=ids[op])
            node.is_final = op in final or any(s in fetched for s in rec.step.outputs)
            node.compute_cost = node.compute_time = round((rec.t1 - rec.t0) * 1e6)
            node.persistent_memory_size = sum(o.persistent for o in rec.outputs)
            for t in op.inputs:
                if t.op in ids:
                    node.input_info.add(preceding_node=ids[t.op], preceding_port=t.value_index)
            for c in op.control_inputs:
                if c in ids:
                    node.control_input.append(ids[c])
            for t, out in zip(op.outputs, rec.outputs):
                info = node.output_info.add(size=out.nbytes, alias_input_port=out.alias_input,
                                            dtype=t.dtype.base_dtype.as_datatype_enum)
                for d in out.shape or ():
                    info.shape.dim.add(size=d)


def _step_stats_skeleton(plan: Plan) -> bytes:
    """The serialized StepStats of a run of every step of `plan` without its per-run figures (times, thread,
    shapes, allocations, memory); kept on the plan after its first traced run."""
    skeleton = plan.__dict__.get("_trace_step_stats")
    if skeleton is None:
        stats = step_stats_pb2.StepStats()
        dev = stats.dev_stats.add(device=DEVICE_NAME)
        for step, (label, dtypes) in zip(plan.steps, _op_facts(plan)):
            ns = dev.node_stats.add(node_name=step.op.name, timeline_label=label)
            for i, dtype in enumerate(dtypes):
                ns.output.add(slot=i).tensor_description.dtype = dtype
            ns.memory.add(allocator_name=ALLOCATOR)
            ns.memory_stats.temp_memory_size = 0
        skeleton = plan._trace_step_stats = stats.SerializeToString()
    return skeleton


def _cost_graph_skeleton(plan: Plan) -> bytes:
    """The serialized CostGraphDef of a run of every step of `plan` without its per-run figures (times,
    persistent memory, output sizes, aliases and shapes); kept on the plan after its first traced run."""
    skeleton = plan.__dict__.get("_trace_cost_graph")
    if skeleton is None:
        graph = cost_graph_pb2.CostGraphDef()
        ids = {step.op: i for i, step in enumerate(plan.steps)}
        final = set(plan.target_ops)
        fetched = set(plan.fetch_slots)
        for i, step in enumerate(plan.steps):
            op = step.op
            node = graph.node.add(name=op.name, device=DEVICE_NAME, id=i)
            node.is_final = op in final or any(s in fetched for s in step.outputs)
            for t in op.inputs:
                if ids.get(t.op, i) < i:
                    node.input_info.add(preceding_node=ids[t.op], preceding_port=t.value_index)
            for c in op.control_inputs:
                if ids.get(c, i) < i:
                    node.control_input.append(ids[c])
            for t in op.outputs:
                node.output_info.add(dtype=t.dtype.base_dtype.as_datatype_enum)
        skeleton = plan._trace_cost_graph = graph.SerializeToString()
    return skeleton


def _op_facts(plan: Plan) -> list:
    """Per plan step, what its trace records never change: (timeline label, output dtype enums); kept on the
    plan after its first traced run."""
    facts = plan.__dict__.get("_trace_facts")
    if facts is None:
        facts = plan._trace_facts = [
            (timeline_label(step.op), [t.dtype.base_dtype.as_datatype_enum for t in step.op.outputs])
            for step in plan.steps]
    return facts


def timeline_label(op) -> str:
    """TF's label for an op in step stats: 'name = Type(input, input:1, ^control)'."""
    inputs = [t._as_node_def_input() for t in op.inputs] + ["^" + c.name for c in op.control_inputs]
    return f"{op.name} = {op.type}({', '.join(inputs)})"


def step_peak_bytes(step_stats) -> dict[str, int]:
    """The step's peak memory per allocator: the most bytes in use right after any op ran."""
    peaks: dict[str, int] = {}
    for dev in step_stats.dev_stats:
        for ns in dev.node_stats:
            for mem in ns.memory:
                peaks[mem.allocator_name] = max(peaks.get(mem.allocator_name, 0), mem.allocator_bytes_in_use)
    return peaks


def run_plan(plan: Plan, feed_values: Sequence, options, run_metadata, deadline: float | None,
             run_steps: Callable | None = None, run: Callable | None = None) -> list:
    """Runs `plan` for a `Session.run` given a RunMetadata or a deadline (perf_counter seconds).

    With a trace level above NO_TRACE and a `run_metadata`, records step stats and a cost graph; with
    `options.output_partition_graphs`, the graph that ran. A successful run replaces what `run_metadata` held
    (as TF does); a failed one leaves it alone. Past `deadline` the run fails with DeadlineExceededError.
    `run_steps` and `run` are the engine's step loop (with `Plan.run_steps`'s signature; it calls `on_step` in
    plan order, naming the thread each step ran on) and its untraced run: the plan's own by default.
    """
    run_steps = plan.run_steps if run_steps is None else run_steps
    tracing = run_metadata is not None and options is not None and options.trace_level > 0
    recorder = None
    if tracing:
        recorder = StepRecorder(plan, feed_values)
        results = run_steps(feed_values, on_step=recorder.on_step, deadline=deadline, values=recorder.values)
    elif deadline is not None:
        results = run_steps(feed_values, deadline=deadline)
    else:
        results = (plan.run if run is None else run)(feed_values)
    if run_metadata is not None:
        run_metadata.Clear()
        if recorder is not None:
            recorder.fill_step_stats(run_metadata.step_stats)
            recorder.fill_cost_graph(run_metadata.cost_graph)
        if options is not None and options.output_partition_graphs:
            _fill_partition_graph(run_metadata, plan)
    return results


def _fill_partition_graph(run_metadata, plan: Plan) -> None:
    gd = run_metadata.partition_graphs.add()
    gd.versions.CopyFrom(graph_io.versions_def())
    for step in plan.steps:
        nd = gd.node.add()
        nd.CopyFrom(graph_io.node_def_of(step.op))
        nd.device = DEVICE_NAME
