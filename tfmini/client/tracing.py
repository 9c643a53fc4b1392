"""The traced run loop: runs a plan's steps one by one and records a NodeExecStats per executed op into
`RunMetadata.step_stats`. Only used when tracing or a timeout is asked for; untraced runs never get here."""

from __future__ import annotations

import threading
import time

import numpy as np

from tfmini.client.executor import DEVICE_NAME, Plan
from tfmini.framework import errors as _errors

ALLOCATOR = "cpu"


def _nbytes(v) -> int:
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "O":
            return int(sum(len(x) if isinstance(x, bytes) else 8 for x in v.reshape(-1)))
        return int(v.nbytes)
    if isinstance(v, np.generic):
        return int(v.nbytes)
    return 0


def _array(v):
    if isinstance(v, (np.ndarray, np.generic)):
        return v
    inner = getattr(v, "value", None)
    if isinstance(inner, (np.ndarray, np.generic)):
        return inner
    return None


def run_plan(plan: Plan, feed_values, trace_level: int, run_metadata, deadline: float | None, options=None):
    """Runs `plan` step by step; when `trace_level` > 0 fills `run_metadata.step_stats` (and, if asked,
    `partition_graphs` and `cost_graph`). Raises DeadlineExceededError past `deadline` (perf_counter s)."""
    if not trace_level:
        return plan.run_steps(feed_values, deadline=deadline)
    from tfmini.protobuf import step_stats_pb2

    # Wall-clock origin for all_start_micros; per-op times come from perf_counter for resolution.
    wall0_ns = time.time_ns()
    perf0 = time.perf_counter()
    thread_id = threading.get_ident() & 0x7FFFFFFF
    records: list = []
    live_bytes = 0
    peak_bytes = 0
    consumers_left: dict[int, int] = {}
    for step in plan.steps:
        for s in step.inputs:
            consumers_left[s] = consumers_left.get(s, 0) + 1
    fetched = set(plan.fetch_slots)
    slot_bytes: dict[int, int] = {}

    def on_step(step, t0, t1, outs):
        nonlocal live_bytes, peak_bytes
        out_bytes = []
        for slot, v in zip(step.outputs, outs):
            b = _nbytes(_array(v)) if _array(v) is not None else 0
            out_bytes.append(b)
            slot_bytes[slot] = b
            live_bytes += b
        peak_bytes = max(peak_bytes, live_bytes)
        records.append((step, t0, t1, outs, out_bytes, live_bytes, peak_bytes))
        for s in step.inputs:
            consumers_left[s] -= 1
            if consumers_left[s] == 0 and s not in fetched:
                live_bytes -= slot_bytes.pop(s, 0)

    try:
        results = plan.run_steps(feed_values, on_step=on_step, deadline=deadline)
    except _errors.OpError:
        _fill(run_metadata, step_stats_pb2, records, wall0_ns, perf0, thread_id)
        raise
    _fill(run_metadata, step_stats_pb2, records, wall0_ns, perf0, thread_id)
    if options is not None and options.output_partition_graphs:
        _fill_partition_graph(run_metadata, plan)
    _fill_cost_graph(run_metadata, records)
    return results


def _fill(run_metadata, step_stats_pb2, records, wall0_ns, perf0, thread_id) -> None:
    dev = run_metadata.step_stats.dev_stats.add(device=DEVICE_NAME)
    for step, t0, t1, outs, out_bytes, live, peak in records:
        op = step.op
        start_ns = wall0_ns + int((t0 - perf0) * 1e9)
        dur_ns = max(0, int((t1 - t0) * 1e9))
        ns = dev.node_stats.add(
            node_name=op.name,
            all_start_micros=start_ns // 1000,
            op_start_rel_micros=0,
            op_end_rel_micros=dur_ns // 1000,
            all_end_rel_micros=dur_ns // 1000,
            all_start_nanos=start_ns,
            op_start_rel_nanos=0,
            op_end_rel_nanos=dur_ns,
            all_end_rel_nanos=dur_ns,
            scheduled_micros=start_ns // 1000,
            scheduled_nanos=start_ns,
            thread_id=thread_id,
            timeline_label=f"{op.name} = {op.type}({', '.join(t.name for t in op.inputs)})",
        )
        for i, (t, v, b) in enumerate(zip(op.outputs, outs, out_bytes)):
            arr = _array(v)
            out = ns.output.add(slot=i)
            td = out.tensor_description
            td.dtype = t.dtype.base_dtype.as_datatype_enum
            if arr is not None:
                for d in np.shape(arr):
                    td.shape.dim.add(size=int(d))
                ad = td.allocation_description
                ad.requested_bytes = b
                ad.allocated_bytes = b
                ad.allocator_name = ALLOCATOR
                if isinstance(arr, np.ndarray):
                    ad.ptr = int(arr.__array_interface__["data"][0])
        if any(out_bytes):
            ns.memory.add(
                allocator_name=ALLOCATOR,
                total_bytes=sum(out_bytes),
                peak_bytes=peak,
                live_bytes=live,
                allocator_bytes_in_use=live,
            )
        ns.memory_stats.temp_memory_size = 0
        ns.memory_stats.persistent_memory_size = 0


def _fill_partition_graph(run_metadata, plan: Plan) -> None:
    from tfmini.framework import graph_io

    gd = run_metadata.partition_graphs.add()
    gd.versions.CopyFrom(graph_io.versions_def())
    for step in plan.steps:
        nd = graph_io.node_def_of(step.op)
        nd.device = DEVICE_NAME
        gd.node.add().CopyFrom(nd)


def _fill_cost_graph(run_metadata, records) -> None:
    cg = run_metadata.cost_graph
    ids = {}
    for step, t0, t1, outs, out_bytes, _, _ in records:
        op = step.op
        ids[op] = len(ids)
        node = cg.node.add(name=op.name, device=DEVICE_NAME, id=ids[op], is_final=False)
        node.compute_cost = max(0, int((t1 - t0) * 1e6))
        node.compute_time = node.compute_cost
        for i, (t, b) in enumerate(zip(op.outputs, out_bytes)):
            oi = node.output_info.add(size=b, alias_input_port=-1, dtype=t.dtype.base_dtype.as_datatype_enum)
            arr = _array(outs[i]) if i < len(outs) else None
            if arr is not None:
                for d in np.shape(arr):
                    oi.shape.dim.add(size=int(d))
        for t in op.inputs:
            if t.op in ids:
                node.input_info.add(preceding_node=ids[t.op], preceding_port=t.value_index)
        for c in op.control_inputs:
            if c in ids:
                node.control_input.append(ids[c])
