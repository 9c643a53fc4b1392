"""The traced run loop: runs a plan's steps one by one and records what each op did (times, thread, outputs,
memory) as plain data in `RunMetadata` (`step_stats`, `cost_graph`, `partition_graphs`). Formatting that
data (Chrome trace, tables) belongs to `timeline` and `trace_summary`; untraced runs take the fast path.

Memory model (one allocator, "cpu"): a step starts with its fed values in use; each op allocates its outputs
when it runs; a value is freed right after its last consumer in the plan unless it is fetched, and values no
op consumes stay until the step returns (the policy of the fast path's generated code). Memory is counted per
buffer, so an output that is, or is a view of, a buffer in use allocates nothing. Buffers that outlive the
step are persistent, not step memory: constant-folded outputs and variable storage (a RefCell).

What it costs: while the step runs, the recorder keeps a few numbers per op and output (plain lists and
tuples, no protos); after it, the protos are written in the protobuf wire format (the per-plan parts once per
plan, each op's outputs and memory figures once per distinct set, the times and addresses per run) and parsed
by the protobuf runtime in one call per message (docs/performance.md, Tracing).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from tfmini.client.executor import DEVICE_NAME, Plan, RefCell, Step
from tfmini.framework import graph_io
from tfmini.protobuf import cost_graph_pb2, step_stats_pb2
from tfmini.protobuf.allocation_description_pb2 import AllocationDescription as _allocation_description

ALLOCATOR = "cpu"
_perf_counter = time.perf_counter


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


def _ctypes_data(arr: np.ndarray) -> int:
    return arr.ctypes.data


def _struct_data_reader() -> Callable[[np.ndarray], int] | None:
    """A reader of an array's data address from the array object itself, where NumPy keeps it right after the
    Python object header (the `data` field that NumPy's PyArrayObject_fields starts with):
    `ndarray.ctypes.data` builds a ctypes object per call and costs three times as much. Checked here against
    ctypes on arrays, views and an empty array; None when this build lays its arrays out otherwise."""
    offset = object.__basicsize__
    from_address = ctypes.c_void_p.from_address

    def read(arr: np.ndarray) -> int:
        return from_address(id(arr) + offset).value or 0

    probe = np.arange(24, dtype=np.float64).reshape(4, 6)
    samples = (probe, probe[1:, 2:], probe.T, np.zeros(0), np.ones(3, np.int8)[::2], probe.view(np.int64))
    try:
        if all(read(a) == a.ctypes.data for a in samples):
            return read
    except (ValueError, OverflowError, TypeError):
        pass
    return None


# The address of an array's data, as TF's AllocationDescription.ptr records it.
_data_address = _struct_data_reader() or _ctypes_data


# What `_record` keeps of an output that holds no array: (shape, nbytes, alias_input).
_NO_ARRAY = (None, 0, -1)
# `_root_ids` marker for a slot holding a variable (or a fed ref): its buffer is looked up when read, since an
# assignment may have replaced it since.
_LIVE = object()


class StepRecorder:
    """Watches one `Plan.run_steps` call (`on_step` is its callback; `values` its slot list) and applies the
    memory model, keeping per op only the facts the protos are built from.

    Memory is accounted per buffer (a root array): slots holding views of one buffer share it, so an op that
    hands on its input (Identity) or a view of it (Reshape) allocates nothing, and the buffer is freed when its
    last holder is.

    `records` holds one list per op that ran, in the order they were recorded:
    `[step, t0, t1, (thread id, thread name), outputs, ptrs, allocations, in_use, allocated, persistent]`,
    with `outputs` one `(shape, nbytes, alias_input)` per output (shape None when it holds no array), `ptrs`
    the address of each output's data (0 without an array; apart, since it is what changes from run to run),
    `allocations` its buffers' `(perf_counter seconds, signed bytes)` events (allocations, then frees as they
    happen), `in_use` the step-memory bytes in use once it ran, `allocated` the bytes its outputs added and
    `persistent` the bytes of persistent buffers it was the first of the step to hand out."""

    def __init__(self, plan: Plan, feed_values: Sequence) -> None:
        self.plan = plan
        self.values: list = [None] * plan.n_slots
        self.thread = (threading.get_native_id(), threading.current_thread().name)
        # One wall-clock origin for epoch times; per-op offsets come from perf_counter for resolution.
        self.wall0_ns = time.time_ns()
        self.perf0 = time.perf_counter()
        # Seconds of bookkeeping while the step ran (from each live op's end to the return of its `on_step`):
        # taken off every later time, so the timeline shows the step as it runs untraced (its gaps are the
        # executor's, not the recorder's).
        self.paused = 0.0
        self.records: list[list] = []
        self.in_use = 0
        # id(root) -> [root, nbytes, the allocating op's allocation events (None for a feed), holders]: step memory in
        # use. The root is held so that its id stays its own while it is accounted.
        self._buffers: dict[int, list] = {}
        self._slot_buffer: dict[int, int] = {}  # slot -> id(root) of the buffer it holds
        # Per slot, id() of the root array of its value as it was set (None without an array, _LIVE for a
        # variable): the inputs' buffers an output may alias, without looking at the inputs again.
        self._root_ids: list = [None] * plan.n_slots
        self._persistent: dict[int, object] = dict(_folded_roots(plan))
        self._reads_live = _reads_live(plan)
        self._charged: set[int] = set()  # persistent buffers already charged to an op of this step
        for slot, v in zip(plan.feed_slots, feed_values):
            arr = _array(v)
            if arr is None:
                continue
            root = _root(arr)
            self._root_ids[slot] = id(root) if isinstance(v, (np.ndarray, np.generic)) else _LIVE
            if id(root) not in self._persistent:
                self._hold(slot, root, None)

    def _hold(self, slot: int, root, owner: list | None) -> int:
        """Makes `slot` a holder of `root`'s buffer; returns the bytes newly allocated (0 if already held).
        `owner`: the allocation events list of the op whose output it is (None for a feed)."""
        key = id(root)
        self._slot_buffer[slot] = key
        buf = self._buffers.get(key)
        if buf is not None:
            buf[3] += 1
            return 0
        nbytes = _nbytes(root)
        self._buffers[key] = [root, nbytes, owner, 1]
        self.in_use += nbytes
        return nbytes

    def on_step(self, step: Step, t0: float, t1: float, outs, thread: tuple[int, str] | None = None) -> None:
        """Records a step that ran from `t0` to `t1` on `thread` ((native id, name); the recording thread by
        default). Steps come in plan order, with `values` holding what the plain loop holds after each.

        Without `thread` the call is live (made by the step loop right after the op ran, before the next one
        starts): the time from the op's end to this call's return (handing the outputs over, recording them)
        is bookkeeping, and is taken off the times of every later op, with one clock reading per op besides
        the loop's own two. A replay after a concurrent run (with `thread`) is not on the step's clock."""
        if thread is None:
            shift = self.paused
            self._record(step, t0 - shift, t1 - shift, outs, self.thread)
            self.paused = shift + (_perf_counter() - t1)
        else:
            self._record(step, t0, t1, outs, thread)

    def _record(self, step: Step, t0: float, t1: float, outs, thread: tuple[int, str]) -> None:
        root_ids = self._root_ids
        persistent = self._persistent
        folded = self.plan.folded
        outputs = []
        ptrs = []
        allocations: list[tuple[float, int]] = []
        in_roots = None
        allocated = charged = 0
        for slot, v in zip(step.outputs, outs):
            if type(v) is np.ndarray:
                arr, live = v, False
            elif isinstance(v, np.generic):
                arr, live = v, False
            else:
                arr, live = _array(v), not isinstance(v, np.ndarray)
            if arr is None:
                root_ids[slot] = None
                outputs.append(_NO_ARRAY)
                ptrs.append(0)
                continue
            root = arr if arr.base is None else _root(arr)
            key = id(root)
            # A string array's nbytes counts pointers: `_nbytes` counts its strings.
            nbytes = arr.nbytes if arr.dtype.kind != "O" else _nbytes(arr)
            root_ids[slot] = _LIVE if live else key
            fresh = False
            if (live and isinstance(v, RefCell)) or key in persistent or slot in folded:
                if key not in persistent:
                    persistent[key] = root
                if key not in self._charged:
                    self._charged.add(key)
                    charged += nbytes if root is arr else _nbytes(root)
            else:
                self._slot_buffer[slot] = key
                buf = self._buffers.get(key)
                if buf is None:
                    fresh = True
                    size = nbytes if root is arr else _nbytes(root)
                    self._buffers[key] = [root, size, allocations, 1]
                    self.in_use += size
                    if size:
                        allocated += size
                        allocations.append((t0, size))
                else:
                    buf[3] += 1
            if fresh and not self._reads_live[step.index]:
                # Every input's buffer is in use or persistent, so a buffer new to the step is none of them.
                alias = -1
            else:
                if in_roots is None:
                    in_roots = [root_ids[s] for s in step.inputs]
                    if _LIVE in in_roots:
                        in_roots = [self._live_root(s) if r is _LIVE else r
                                    for s, r in zip(step.inputs, in_roots)]
                alias = in_roots.index(key) if key in in_roots else -1
            ptrs.append(_data_address(arr) if isinstance(arr, np.ndarray) else 0)
            outputs.append((arr.shape, nbytes, alias))
        self.records.append([step, t0, t1, thread, tuple(outputs), ptrs, allocations, self.in_use, allocated,
                             charged])
        dead = self.plan.dead_after[step.index]
        if dead:
            self._release(dead, t1)

    def _live_root(self, slot: int):
        arr = _array(self.values[slot])
        return None if arr is None else id(_root(arr))

    def _release(self, slots, t: float) -> None:
        buffers, slot_buffer = self._buffers, self._slot_buffer
        for slot in slots:
            key = slot_buffer.pop(slot, None)
            if key is None:
                continue
            buf = buffers[key]
            buf[3] -= 1
            if buf[3] == 0:
                del buffers[key]
                self.in_use -= buf[1]
                if buf[2] is not None:
                    buf[2].append((t, -buf[1]))

    # -- to protos -------------------------------------------------------------
    def _ns(self, t: float) -> int:
        return self.wall0_ns + int((t - self.perf0) * 1e9)

    def _in_plan_order(self) -> bool:
        """Whether the records are every step of the plan, in plan order (what a finished run records)."""
        steps = self.plan.steps
        return len(self.records) == len(steps) and all(r[0] is s for r, s in zip(self.records, steps))

    def fill_step_stats(self, step_stats) -> None:
        """Adds this run's DeviceStepStats to `step_stats`."""
        steps = self.plan.steps
        if all(0 <= r[0].index < len(steps) and steps[r[0].index] is r[0] for r in self.records):
            self._fill_step_stats_from_skeleton(step_stats)
        else:
            self._fill_step_stats_in_order(step_stats)

    def _fill_step_stats_from_skeleton(self, step_stats) -> None:
        """`fill_step_stats` for records of the plan's own steps: the serialized message (`step_stats_bytes`)
        parsed in one call."""
        step_stats.MergeFromString(self.step_stats_bytes())

    def step_stats_bytes(self) -> bytes:
        """This run's StepStats (one DeviceStepStats), serialized: the same message `_fill_step_stats_in_order`
        builds field by field. The per-plan parts (names, labels, output dtypes) are cached on the plan, and so
        are the encoded outputs and memory figures, which repeat from run to run."""
        codec = _codec(self.plan)
        heads, cache, size_fields = codec.node_heads, codec.node_tails, codec.size_fields
        varint, tiny, v14 = _varint, _BYTES, _V14
        wall0_ns, perf0 = self.wall0_ns, self.perf0
        thread_fields = {}
        nodes = []
        allocation_id = 0
        # Times are big numbers whose varints end alike within a step: their bits above 28 are encoded once.
        c14 = _C14
        high_ns = high_us = None  # not -1: that is the high part of the times just before 1970
        high_ns_bytes = high_us_bytes = thread_field = b""
        last_thread = None
        for step, t0, t1, thread, outputs, ptrs, allocations, in_use, allocated, persistent in self.records:
            k = step.index
            start = wall0_ns + int((t0 - perf0) * 1e9)
            end = wall0_ns + int((t1 - perf0) * 1e9)
            if end < start:
                end = start
            # Micros are derived from the nanos so both describe the same interval.
            start_us = start // 1000
            if start >> 28 != high_ns:
                high_ns = start >> 28
                high_ns_bytes = _high_bits(high_ns)
            if start_us >> 28 != high_us:
                high_us = start_us >> 28
                high_us_bytes = _high_bits(high_us)
            start_ns_field = c14[start & 0x3FFF] + c14[(start >> 14) & 0x3FFF] + high_ns_bytes
            start_us_field = c14[start_us & 0x3FFF] + c14[(start_us >> 14) & 0x3FFF] + high_us_bytes
            if thread is not last_thread:  # records of one thread share its tuple
                last_thread = thread
                thread_field = thread_fields.get(thread)
                if thread_field is None:
                    thread_field = thread_fields[thread] = _field(b"\x50", thread[0])
            # all_start_micros, scheduled_micros, all_start_nanos, scheduled_nanos, thread_id.
            parts = [heads[k], b"\x10", start_us_field, b"\x48", start_us_field, b"\x68", start_ns_field,
                     b"\x88\x01", start_ns_field, thread_field]
            end_us = end // 1000
            if end_us != start_us:  # op_end_rel_micros, all_end_rel_micros
                d = end_us - start_us
                d = v14[d] if d < 0x4000 else varint(d)
                parts += (b"\x20", d, b"\x28", d)
            if end != start:  # op_end_rel_nanos, all_end_rel_nanos
                d = end - start
                d = v14[d] if d < 0x4000 else c14[d & 0x3FFF] + v14[d >> 14] if d < 0x10000000 else varint(d)
                parts += (b"\x78", d, b"\x80\x01", d)
            # Outputs, memory figures and memory_stats repeat from run to run: encoded once per distinct set.
            key = (k, allocation_id, outputs, allocated, in_use, persistent)
            tail = cache.get(key)
            if tail is None:
                tail = cache.put(key, codec.node_tail(k, allocation_id, outputs, allocated, in_use, persistent))
            fields, ids, memory, memory_and_stats = tail
            allocation_id += ids
            for (field, size), ptr in zip(fields, ptrs):
                if not ptr:
                    parts += (b"\x3a", v14[size], field)
                else:
                    # The address as a second TensorDescription{AllocationDescription{ptr}}, which parsing
                    # merges into the output's first one. (Addresses of 43 to 56 bits are the usual ones.)
                    if 0x40000000000 <= ptr < 0x100000000000000:
                        ptr = (b"\x30" + c14[ptr & 0x3FFF] + c14[(ptr >> 14) & 0x3FFF] + c14[(ptr >> 28) & 0x3FFF]
                               + v14[ptr >> 42])
                    else:
                        ptr = b"\x30" + varint(ptr)
                    parts += (b"\x3a", v14[size + len(ptr) + 4], field, _PTR_WRAP[len(ptr)], ptr)
            if allocations:
                pieces = [memory]
                for t, nbytes in allocations:
                    us = (wall0_ns + int((t - perf0) * 1e9)) // 1000
                    if us >> 28 != high_us:
                        high_us = us >> 28
                        high_us_bytes = _high_bits(high_us)
                    size_field = size_fields.get(nbytes)
                    if size_field is None:
                        size_field = size_fields.put(nbytes, _field(b"\x10", nbytes))
                    rec = b"\x08" + c14[us & 0x3FFF] + c14[(us >> 14) & 0x3FFF] + high_us_bytes + size_field
                    pieces += (b"\x32", tiny[len(rec)], rec)
                memory = b"".join(pieces)
                size = len(memory)
                parts += (b"\x32", v14[size] if size < 0x4000 else varint(size), memory, memory_and_stats[1])
            else:
                parts.append(memory_and_stats[0])
            node = b"".join(parts)
            size = len(node)
            nodes.append(b"\x12" + (v14[size] if size < 0x4000 else varint(size)) + node)
        for thread_id, thread_name in set(thread_fields) | {self.thread}:
            nodes.append(_message(b"\x1a", _field(b"\x08", thread_id) + _message(b"\x12", thread_name.encode())))
        dev = _DEVICE_FIELD + b"".join(nodes)
        return b"\x0a" + varint(len(dev)) + dev

    def _fill_step_stats_in_order(self, step_stats) -> None:
        """`fill_step_stats` one field at a time (any records; the reference the serialized build is tested
        against)."""
        dev = step_stats.dev_stats.add(device=DEVICE_NAME)
        for thread_id, thread_name in {rec[3] for rec in self.records} | {self.thread}:
            dev.thread_names[thread_id] = thread_name
        allocation_id = 0
        labels = _op_facts(self.plan)
        wall0_ns, perf0 = self.wall0_ns, self.perf0
        for step, t0, t1, thread, outputs, ptrs, allocations, in_use, allocated, persistent in self.records:
            op = step.op
            label, dtypes = labels[step.index]
            start_ns = wall0_ns + int((t0 - perf0) * 1e9)
            end_ns = max(start_ns, wall0_ns + int((t1 - perf0) * 1e9))
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
                thread_id=thread[0],
                timeline_label=label,
            )
            for i, (dtype, (shape, nbytes, _alias), ptr) in enumerate(zip(dtypes, outputs, ptrs)):
                td = ns.output.add(slot=i).tensor_description
                td.dtype = dtype
                if shape is None:
                    continue
                dim = td.shape.dim
                for d in shape:
                    dim.add(size=d)
                allocation_id += 1
                td.allocation_description.MergeFrom(_allocation_description(
                    requested_bytes=nbytes, allocated_bytes=nbytes, allocator_name=ALLOCATOR,
                    allocation_id=allocation_id, ptr=ptr))
            mem = ns.memory.add(
                allocator_name=ALLOCATOR,
                total_bytes=allocated,
                peak_bytes=allocated,
                live_bytes=allocated,
                allocator_bytes_in_use=in_use,
            )
            for t, nbytes in allocations:
                mem.allocation_records.add(alloc_micros=self._ns(t) // 1000, alloc_bytes=nbytes)
            ns.memory_stats.temp_memory_size = 0
            ns.memory_stats.persistent_memory_size = persistent

    def fill_cost_graph(self, cost_graph) -> None:
        """Adds a node per recorded op to `cost_graph` (ids in execution order)."""
        if self._in_plan_order():
            cost_graph.MergeFromString(self.cost_graph_bytes())
        else:
            self._fill_cost_graph_in_order(cost_graph)

    def cost_graph_bytes(self) -> bytes:
        """This run's CostGraphDef, serialized, for a run of every step in plan order: each node's
        graph-given fields (name, device, id, edges) cached on the plan, its outputs' OutputInfo cached by
        what they hold; the same message `_fill_cost_graph_in_order` builds field by field."""
        codec = _codec(self.plan)
        heads, cache = codec.cost_heads, codec.cost_tails
        varint = _varint
        nodes = []
        for step, t0, t1, _thread, outputs, _ptrs, _allocations, _in_use, _allocated, persistent in self.records:
            k = step.index
            parts = [heads[k]]
            micros = round((t1 - t0) * 1e6)
            if micros:  # compute_cost, compute_time
                d = varint(micros)
                parts += (b"\x48", d, b"\x70", d)
            key = (k, outputs, persistent)
            tail = cache.get(key)
            if tail is None:
                tail = cache.put(key, codec.cost_tail(k, outputs, persistent))
            parts.append(tail)
            node = b"".join(parts)
            nodes.append(b"\x0a" + varint(len(node)) + node)
        return b"".join(nodes)

    def _fill_cost_graph_in_order(self, cost_graph) -> None:
        """`fill_cost_graph` one field at a time (any records; the reference the serialized build is tested
        against)."""
        ids: dict = {}
        final = set(self.plan.target_ops)
        fetched = set(self.plan.fetch_slots)
        for step, t0, t1, _thread, outputs, _ptrs, _allocations, _in_use, _allocated, persistent in self.records:
            op = step.op
            ids[op] = len(ids)
            node = cost_graph.node.add(name=op.name, device=DEVICE_NAME, id=ids[op])
            node.is_final = op in final or any(s in fetched for s in step.outputs)
            node.compute_cost = node.compute_time = round((t1 - t0) * 1e6)
            node.persistent_memory_size = persistent
            for t in op.inputs:
                if t.op in ids:
                    node.input_info.add(preceding_node=ids[t.op], preceding_port=t.value_index)
            for c in op.control_inputs:
                if c in ids:
                    node.control_input.append(ids[c])
            for t, (shape, nbytes, alias) in zip(op.outputs, outputs):
                info = node.output_info.add(size=nbytes, alias_input_port=alias,
                                            dtype=t.dtype.base_dtype.as_datatype_enum)
                for d in shape or ():
                    info.shape.dim.add(size=d)


# ----------------------------------------------------------------------------------------------------------
# Protocol-buffer wire format, for the messages a traced run writes
# ----------------------------------------------------------------------------------------------------------
_BYTES = [bytes((i,)) for i in range(256)]
# The varints of 0 .. 2**14-1, and 14 bits as the two leading bytes of a longer varint (continuation bits
# set): a varint of up to 64 bits is then a few table lookups. Built on the first traced run.
_V14: list[bytes] = []
_C14: list[bytes] = []


_TABLES_LOCK = threading.Lock()


def _build_tables() -> None:
    with _TABLES_LOCK:
        if _C14:
            return
        _V14.extend(bytes((i,)) if i < 0x80 else bytes(((i & 0x7F) | 0x80, i >> 7)) for i in range(1 << 14))
        _C14.extend(bytes(((i & 0x7F) | 0x80, (i >> 7) | 0x80)) for i in range(1 << 14))


def _varint(n: int) -> bytes:
    """Protobuf's base-128 varint of an int64 or uint64 (a negative int64 takes ten bytes)."""
    if 0 <= n < 0x4000:
        return _V14[n]
    if n < 0:
        n += 1 << 64
    c = _C14
    if n < 1 << 28:
        return c[n & 0x3FFF] + _V14[n >> 14]
    if n < 1 << 42:
        return c[n & 0x3FFF] + c[(n >> 14) & 0x3FFF] + _V14[n >> 28]
    if n < 1 << 56:
        return c[n & 0x3FFF] + c[(n >> 14) & 0x3FFF] + c[(n >> 28) & 0x3FFF] + _V14[n >> 42]
    return c[n & 0x3FFF] + c[(n >> 14) & 0x3FFF] + c[(n >> 28) & 0x3FFF] + c[(n >> 42) & 0x3FFF] + _V14[n >> 56]


def _high_bits(high: int) -> bytes:
    """The varint bytes after the first two of an int64 whose bits from 28 up are `high` (`n >> 28`): a time
    before 1970 is negative, and its varint is that of n + 2**64, whose bits from 28 up are high + 2**36."""
    return _varint(high if high >= 0 else high + (1 << 36))


def _field(tag: bytes, n: int) -> bytes:
    """A varint field; nothing when it is 0 (proto3 leaves default scalars out)."""
    return tag + _varint(n) if n else b""


def _message(tag: bytes, body: bytes) -> bytes:
    """A length-delimited field (an embedded message or a string)."""
    return tag + _varint(len(body)) + body


# DeviceStepStats.device and AllocationDescription.allocator_name (both shorter than 128 bytes, so their
# length is one byte; written before the tables exist).
_DEVICE_FIELD = b"\x0a" + bytes((len(DEVICE_NAME),)) + DEVICE_NAME.encode()
_ALLOCATOR_FIELD = b"\x1a" + bytes((len(ALLOCATOR),)) + ALLOCATOR.encode()


def _shape_dims(shape: tuple) -> bytes:
    """TensorShapeProto's dims: one Dim{size} per axis."""
    return b"".join(_message(b"\x12", _field(b"\x08", d)) for d in shape)


def _node_output(slot: int, dtype: int, out: tuple, allocation_id: int) -> bytes:
    """The body of a NodeExecStats.output field for an output holding an array (`out`: its recorded facts),
    without its data's address."""
    shape, nbytes, _alias = out
    allocation = (_field(b"\x08", nbytes) + _field(b"\x10", nbytes) + _ALLOCATOR_FIELD
                  + _field(b"\x20", allocation_id))
    description = _field(b"\x08", dtype)
    if shape:
        description += _message(b"\x12", _shape_dims(shape))
    description += _message(b"\x22", allocation)
    return _field(b"\x08", slot) + _message(b"\x1a", description)


# An output's address field (tag included, `n` bytes) as TensorDescription{AllocationDescription{ptr}}.
_PTR_WRAP = [bytes((0x1A, n + 2, 0x22, n)) for n in range(16)]


# A plan's caches of encoded pieces hold up to this many entries per step of the plan, and at least
# _CACHE_MIN: a step's pieces repeat from run to run, so a few sets per step cover a training loop, and the
# memory they take stays in proportion to the plan's own.
_CACHE_PER_STEP = 4
_CACHE_MIN = 1024


class _Cache(dict):
    """A dict of encoded pieces that starts over past `limit` entries (shapes that change every run must not
    grow it without bound)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class _PlanCodec:
    """What the serialized protos of a plan's traced runs share across runs: per step, its NodeExecStats
    head (name, label), its output dtypes, its NodeOutput for an output holding no array and its cost-graph
    node's graph-given fields; caches of encoded pieces keyed by what they encode."""

    def __init__(self, plan: Plan) -> None:
        _build_tables()
        facts = _op_facts(plan)
        self.dtypes = [dtypes for _, dtypes in facts]
        self.node_heads = [step_stats_pb2.NodeExecStats(node_name=step.op.name, timeline_label=label)
                           .SerializeToString() for step, (label, _) in zip(plan.steps, facts)]
        self.bare_outputs = [[_field(b"\x08", j) + _message(b"\x1a", _field(b"\x08", d)) for j, d in enumerate(dtypes)]
                             for dtypes in self.dtypes]
        self.cost_heads = _cost_graph_heads(plan)
        limit = max(_CACHE_MIN, _CACHE_PER_STEP * len(plan.steps))
        self.node_tails = _Cache(limit)
        self.cost_tails = _Cache(limit)
        self.size_fields = _Cache(limit)  # AllocationRecord.alloc_bytes fields by value

    def node_tail(self, k: int, allocation_id: int, outputs: tuple, allocated: int, in_use: int,
                  persistent: int) -> tuple[list[tuple[bytes, int]], int, bytes, tuple[bytes, bytes]]:
        """Step `k`'s NodeExecStats fields besides its name, label and times, for these recorded figures, its
        first output numbered after `allocation_id`: (per output, the body of its field without the data's
        address and that body's length; how many allocation ids they took; its AllocatorMemoryUsed body
        without allocation records; (its memory and memory_stats fields for a node without allocation
        records, its memory_stats field))."""
        fields = []
        ids = 0
        for j, (dtype, out) in enumerate(zip(self.dtypes[k], outputs)):
            if out[0] is None:
                body = self.bare_outputs[k][j]
            else:
                ids += 1
                body = _node_output(j, dtype, out, allocation_id + ids)
            fields.append((body, len(body)))
        memory = (b"\x0a" + _ALLOCATOR_FIELD[1:] + _field(b"\x10", allocated) + _field(b"\x18", allocated)
                  + _field(b"\x20", allocated) + _field(b"\x28", in_use))
        stats = _message(b"\x62", _field(b"\x18", persistent))
        return fields, ids, memory, (_message(b"\x32", memory) + stats, stats)

    def cost_tail(self, k: int, outputs: tuple, persistent: int) -> bytes:
        """Step `k`'s cost-graph node fields besides the graph-given ones and its time: persistent memory and
        one OutputInfo per output."""
        fields = [_field(b"\x60", persistent)]
        for dtype, (shape, nbytes, alias) in zip(self.dtypes[k], outputs):
            body = _field(b"\x08", nbytes) + _field(b"\x10", alias)
            if shape:
                body += _message(b"\x1a", _shape_dims(shape))
            fields.append(_message(b"\x2a", body + _field(b"\x20", dtype)))
        return b"".join(fields)


def _codec(plan: Plan) -> _PlanCodec:
    codec = plan.__dict__.get("_trace_codec")
    if codec is None:
        codec = plan._trace_codec = _PlanCodec(plan)
    return codec


def _cost_graph_heads(plan: Plan) -> list[bytes]:
    """Per step, its cost-graph node in a run of every step of `plan`, without this run's figures (time,
    persistent memory) and its outputs, serialized."""
    heads = []
    ids = {step.op: i for i, step in enumerate(plan.steps)}
    final = set(plan.target_ops)
    fetched = set(plan.fetch_slots)
    for i, step in enumerate(plan.steps):
        op = step.op
        node = cost_graph_pb2.CostGraphDef.Node(name=op.name, device=DEVICE_NAME, id=i)
        node.is_final = op in final or any(s in fetched for s in step.outputs)
        for t in op.inputs:
            if ids.get(t.op, i) < i:
                node.input_info.add(preceding_node=ids[t.op], preceding_port=t.value_index)
        for c in op.control_inputs:
            if ids.get(c, i) < i:
                node.control_input.append(ids[c])
        heads.append(node.SerializeToString())
    return heads


def _folded_roots(plan: Plan) -> dict[int, object]:
    """id() of the root array of each constant-folded value of `plan` (persistent buffers), kept on the plan."""
    roots = plan.__dict__.get("_trace_folded_roots")
    if roots is None:
        roots = plan._trace_folded_roots = {id(_root(v)): v for v in plan.folded.values()}
    return roots


def _reads_live(plan: Plan) -> list[bool]:
    """Per step, whether an input may hold a variable (a ref) or an object wrapping an array (a resource or
    variant), whose buffer is looked up when read; kept on the plan."""
    flags = plan.__dict__.get("_trace_reads_live")
    if flags is None:
        flags = plan._trace_reads_live = [
            any(t.dtype.is_ref or not t.dtype.is_numpy_compatible for t in step.op.inputs) for step in plan.steps]
    return flags


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
