"""The compact data the interactive trace view embeds: everything it draws and everything the Chrome trace it
downloads holds (the same events `tfmini.client.timeline.Timeline` writes with dataflow and memory), in a
form several times smaller than the trace itself.

Per run (one StepStats), with ops in the order the Chrome trace lists them (devices in order, then ops as
recorded):

- ``devices``: device names, in order of first appearance (the trace's "<device> Compute" processes, pids from 1;
  pid 0 is the "Allocators" process of the memory counters); several DeviceStepStats of one device (TF records
  a worker's RPC transfers apart from its ops) are one device, whose ops follow each other;
- ``groups``: per device, ``[short name, fill]`` (``trace_colours.short_device_names``: "ps:0");
- ``tracks``: ``[device index, tid, thread name, sort index, lane label, label within the device]``, one per
  lane, a device's lanes together; a thread whose recorded slices overlap gets extra tracks, as the Chrome
  trace does;
- ``np`` / ``ns``: op names front-coded, name i = name i-1 [:np[i]] + ns[i];
- ``t`` (index into the view's ``types``), ``k`` (index into ``tracks``), ``s`` / ``d``: start from the run's
  first op and duration, integer nanoseconds;
- ``o``: per op, ``[output descriptor index, requested bytes]`` per output (descriptors "dtype shape" are
  shared in ``outs``);
- ``i``: per op, its label's inputs: ``j`` (output 0 of op j), ``[j, slot]``, ``-(j + 1)`` (control input
  ``^name`` of op j) or the input's text when no traced op produced it;
- ``m``: per op, ``[allocator index, bytes in use after it, bytes it allocated]`` per allocator record;
  ``allocators`` names them;
- ``x``: the transfers between devices, ``[from op, to op, bytes, tensor, from device, to device]``: a
  ``_Send`` and the ``_Recv`` of the same rendezvous (labels ``name = _Send(tensor @recv_device)`` and
  ``name = _Recv(tensor @send_device)``, or a rendezvous key ``src;incarnation;dst;tensor;0:0``), or a
  ``RecvTensor`` record of TF's worker (``[24B] [1.6Mb/s] tensor from src to dst``) from the op on the sending
  device that produced ``edge_N_<op>``; an end not in the trace is -1, bytes unknown are -1, devices are short
  names where the trace has them, and "client" for a feed's receive or a fetch's send (TF writes those with
  the task's own device at both ends).
"""

from __future__ import annotations

import hashlib
import json
import re

from ipython_ext import describe
from ipython_ext.trace_colours import canonical_device, device_colours, short_device_names, type_colour
from tfmini.client.timeline import assign_tracks, node_times_ns, op_type_of, parse_op_label


def _front_code(names: list[str]) -> tuple[list[int], list[str]]:
    prefixes, suffixes, prev = [], [], ""
    for name in names:
        n = 0
        limit = min(len(name), len(prev))
        while n < limit and name[n] == prev[n]:
            n += 1
        prefixes.append(n)
        suffixes.append(name[n:])
        prev = name
    return prefixes, suffixes


def _output_text(td) -> str:
    dtype = describe.dtype_text(td.dtype) if td.dtype else "?"
    return f"{dtype} {describe.shape_text(td.shape)}"


class _Device:
    """One device of a step: its node stats from every DeviceStepStats that names it, and its thread names."""

    def __init__(self, name: str) -> None:
        self.device = name
        self.node_stats: list = []
        self.thread_names: dict[int, str] = {}


def _devices(step_stats) -> list[_Device]:
    by_name: dict[str, _Device] = {}
    for dev in step_stats.dev_stats:
        d = by_name.get(dev.device)
        if d is None:
            d = by_name[dev.device] = _Device(dev.device)
        d.node_stats.extend(dev.node_stats)
        for tid, name in dev.thread_names.items():
            d.thread_names.setdefault(tid, name)
    return list(by_name.values())


def run_data(step_stats, types: dict[str, int], outs: dict[str, int], multi_run: int | None, graph=None) -> dict:
    """The compact form of one StepStats; `types` and `outs` are the view's shared tables (filled in
    place); `multi_run` is the run's number when several runs share the view (lane labels say it)."""
    devices = _devices(step_stats)
    nodes, times, dev_of = [], [], []
    for d, dev in enumerate(devices):
        for ns in dev.node_stats:
            nodes.append(ns)
            times.append(node_times_ns(ns))
            dev_of.append(d)
    origin = min((s for s, _ in times), default=0)

    tracks: list[list] = []
    track_of: list[int] = [0] * len(nodes)
    pos = 0
    for d, dev in enumerate(devices):
        dev_nodes = dev.node_stats
        tids, origin_of_tid = assign_tracks(dev_nodes, times[pos:pos + len(dev_nodes)])
        index_of_tid = {}
        ordered = sorted(origin_of_tid.items(), key=lambda kv: kv[1])
        thread_number: dict[int, int] = {}
        # Lanes show threads numbered 1, 2, ... in order of their first op (thread ids mean nothing to a reader).
        for tid in tids:
            thread_id = origin_of_tid[tid][0]
            thread_number.setdefault(thread_id, len(thread_number) + 1)
        for order, (tid, (thread_id, extra)) in enumerate(ordered):
            name = dev.thread_names.get(thread_id) or f"thread {thread_id}"
            inner = f"thread {thread_number[thread_id]}" + (f" (overlap {extra})" if extra else "")
            lane = (f"run {multi_run} · " if multi_run else "") + (f"{dev.device} · " if len(devices) > 1 else "")
            index_of_tid[tid] = len(tracks)
            tracks.append([d, tid, f"{name} (overlap {extra})" if extra else name, order, lane + inner, inner])
        for j, tid in enumerate(tids):
            track_of[pos + j] = index_of_tid[tid]
        pos += len(dev_nodes)

    names = [ns.node_name for ns in nodes]
    labels = [parse_op_label(ns.timeline_label) for ns in nodes]
    # The tensors the Chrome trace draws flows from: output 0 as 'op', output k as 'op:k'.
    produced: dict[str, tuple[int, int]] = {}
    for j, ns in enumerate(nodes):
        for slot in range(max(1, len(ns.output))):
            produced[ns.node_name if slot == 0 else f"{ns.node_name}:{slot}"] = (j, slot)
    index_of_name = {name: j for j, name in enumerate(names)}

    type_idx, outputs, inputs, memory, allocators = [], [], [], [], {}
    for ns, (_, label_type, label_inputs) in zip(nodes, labels):
        op_type = op_type_of(ns.node_name, label_type, graph)
        if op_type == "unknown" and _RECV_TENSOR_LABEL.match(ns.timeline_label):
            op_type = ns.node_name  # TF's record of a transfer it received ("RecvTensor"), which has no op
        type_idx.append(types.setdefault(op_type, len(types)))
        outputs.append([[outs.setdefault(_output_text(o.tensor_description), len(outs)),
                         int(o.tensor_description.allocation_description.requested_bytes)] for o in ns.output])
        refs: list = []
        for text in label_inputs:
            if text in produced:
                k, slot = produced[text]
                refs.append(k if slot == 0 else [k, slot])
            elif text.startswith("^") and text[1:] in index_of_name:
                refs.append(-(index_of_name[text[1:]] + 1))
            else:
                refs.append(text)
        inputs.append(refs)
        memory.append([[allocators.setdefault(m.allocator_name, len(allocators)), int(m.allocator_bytes_in_use),
                        int(m.total_bytes)] for m in ns.memory])
    prefixes, suffixes = _front_code(names)
    short = short_device_names([dev.device for dev in devices])
    return {
        "devices": [dev.device for dev in devices],
        "groups": [list(g) for g in zip(short, device_colours(short))],
        "tracks": tracks,
        "allocators": list(allocators),
        "np": prefixes, "ns": suffixes, "t": type_idx, "k": track_of,
        "s": [s - origin for s, _ in times], "d": [e - s for s, e in times],
        "o": outputs, "i": inputs, "m": memory,
        "x": transfers(nodes, dev_of, [dev.device for dev in devices], short),
    }


_TRANSFER_LABEL = re.compile(r"^(.*) = (_Send|_Recv|_HostSend|_HostRecv)\((.*?)\)?$")
_RECV_TENSOR_LABEL = re.compile(r"^\[([\d.]+)(B|MB)\] \[[^\]]*\] (\S+) from (\S+) to (\S+)$")
_EDGE = re.compile(r"^edge_\d+_(.*)$")
CLIENT = "client"  # the other end of a feed's receive or a fetch's send


def transfer_of(label: str, device: str) -> tuple[str, str, str, bool] | None:
    """(sending device, receiving device, tensor name, is the sending side) of a `_Send`/`_Recv` timeline
    label recorded on `device`, or of TF's `RecvTensor` record; None for any other label."""
    m = _TRANSFER_LABEL.match(label)
    if m:
        sending = m[2].endswith("Send")
        arg = m[3]
        parts = arg.split(";")
        if len(parts) == 5:  # a rendezvous key: src;incarnation;dst;tensor;frame:iter
            return parts[0], parts[2], parts[3], sending
        tensor, _, other = arg.rpartition(" @")
        if not tensor:
            return None
        return (device, other, tensor, True) if sending else (other, device, tensor, False)
    m = _RECV_TENSOR_LABEL.match(label)
    if m:
        return m[4], m[5], m[3], False
    return None


def _bytes_of(ns) -> int:
    m = _RECV_TENSOR_LABEL.match(ns.timeline_label)
    if m:
        return round(float(m[1]) * (1048576 if m[2] == "MB" else 1))
    sizes = [int(o.tensor_description.allocation_description.requested_bytes) for o in ns.output]
    return sum(sizes) if sizes else -1


def transfers(nodes: list, dev_of: list[int], devices: list[str], short: list[str]) -> list[list]:
    """The step's transfers between devices (the ``x`` column): sends paired with the receives of the same
    (sending device, receiving device, tensor) in the order they ran, TF's RecvTensor records joined to the
    op that produced the tensor on the sending device."""
    canonical = {canonical_device(d): i for i, d in enumerate(devices)}

    def device_text(name: str) -> tuple[int, str]:
        number = canonical.get(canonical_device(name), -1)
        return number, short[number] if number >= 0 else name

    sends: dict[tuple, list[int]] = {}
    recvs: list[tuple[tuple, int, bool]] = []
    for j, ns in enumerate(nodes):
        found = transfer_of(ns.timeline_label, devices[dev_of[j]])
        if found is None:
            continue
        src, dst, tensor, sending = found
        key = (canonical_device(src), canonical_device(dst), tensor)
        if sending:
            sends.setdefault(key, []).append(j)
        else:
            recvs.append((key, j, not _TRANSFER_LABEL.match(ns.timeline_label)))
    by_name = {(dev_of[j], ns.node_name): j for j, ns in enumerate(nodes)}
    out: list[list] = []
    for key, j, rpc in sorted(recvs, key=lambda r: r[1]):
        src, dst, tensor = key
        waiting = sends.get(key)
        start = waiting.pop(0) if waiting else -1
        if start < 0 and rpc:
            producer = _EDGE.match(tensor)
            start = by_name.get((device_text(src)[0], producer[1] if producer else tensor), -1)
        # A _Recv that no recorded _Send of a traced device feeds is client-terminated (a feed): a partition names
        # the client by the session's master device, which may be the receiver's own or another task's. Only
        # tfmini records _Send/_Recv (TF records RecvTensor), and it records every send of a traced device.
        source = CLIENT if start < 0 and not rpc and device_text(src)[0] >= 0 else device_text(src)[1]
        out.append([start, j, _bytes_of(nodes[j]), tensor, source, device_text(dst)[1]])
    for key, left in sends.items():
        for j in left:  # sent to a device the trace does not have, or a fetch: to the client, named by a traced
            target = CLIENT if device_text(key[1])[0] >= 0 else device_text(key[1])[1]  # (master) device
            out.append([j, -1, -1, key[2], device_text(key[0])[1], target])
    return out


def trace_data(runs: list, graph=None, highlight: str | None = None) -> dict:
    """The view's data for a list of StepStats (one run each)."""
    types: dict[str, int] = {}
    outs: dict[str, int] = {}
    multi = len(runs) > 1
    data_runs = [run_data(s, types, outs, r + 1 if multi else None, graph) for r, s in enumerate(runs)]
    for r, run in enumerate(data_runs):
        digest = hashlib.sha1(json.dumps(run, sort_keys=True).encode()).hexdigest()[:8]
        run["file"] = f"tfmini-trace-{digest}.json"
        run["label"] = f"run {r + 1}" if multi else ""
    return {"types": list(types), "colours": [type_colour(t) for t in types], "outs": list(outs), "runs": data_runs,
            "highlight": highlight}


def script_json(value) -> str:
    """`value` as JSON that is safe inside a <script> element of an HTML page: no '<', '>' or '&' (so no
    '</script>' or '<!--'), only ASCII (so no U+2028/U+2029, which some JavaScript parsers refuse)."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
