"""Colours of op types in the trace view: a deterministic hash of the op type into a palette, so the same type
has the same colour in every trace, every run and every kernel. The hash's seed was chosen so that the op types
a training step is made of most (COMMON) all land on different colours; any other type still gets a stable
colour, possibly shared. Also the devices both views colour and name: TF device strings parsed, completed and
shortened ('ps:0'), each with a stable fill."""

from __future__ import annotations

import re

# Twenty fills that carry dark text and read on light and dark backgrounds alike (ColorBrewer Set3 with the
# light half of Tableau 20 and two darker earth tones), ordered so that neighbours differ in hue.
PALETTE = (
    "#8dd3c7", "#ffed6f", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd",
    "#ccebc5", "#ffffb3", "#aec7e8", "#ff9896", "#98df8a", "#c49c94", "#dbdb8d", "#9edae5", "#e6ab02", "#a6761d",
)

# The op types that must never share a colour: the bulk of a dense network's training step.
COMMON = ("MatMul", "Mul", "Maximum", "Add", "Identity", "Fill", "Reshape", "VariableV2", "Const", "AddV2", "Sub",
          "BiasAdd")

# FNV-1a's offset basis moved by a search over seeds until COMMON had no collision in PALETTE.
_SEED = 2166136616
_PRIME = 16777619


def type_hash(op_type: str) -> int:
    """32-bit FNV-1a of the type's UTF-8 bytes, from `_SEED`."""
    h = _SEED
    for b in op_type.encode("utf-8", "backslashreplace"):
        h = ((h ^ b) * _PRIME) & 0xFFFFFFFF
    return h


def type_colour(op_type: str) -> str:
    """The fill of `op_type`'s bars: the same in every trace."""
    return PALETTE[type_hash(op_type) % len(PALETTE)]


# -- devices ------------------------------------------------------------------------------------------------
# Fills for devices (graph boxes coloured by device, lane headers, legends): light enough for dark text, far
# apart in hue, and ordered so that the usual tasks hash to clearly different ones (ps:0 orange, worker:0
# blue, worker:1 green, worker:2 purple).
DEVICE_PALETTE = (
    "#fc9fb5", "#d9a27f", "#e3a6e0", "#fdae6b", "#e6d36b", "#7fd4c8", "#c6b3e6", "#a1d99b", "#9ecae1",
    "#c2e07a", "#f2b880", "#b8c4d6",
)
NO_DEVICE = "(no device)"  # the group of ops a graph leaves unplaced beside placed ones
NO_DEVICE_COLOUR = "#d9d9d9"

_DEVICE_PART = re.compile(r"/?(job|replica|task|device|cpu|gpu|CPU|GPU):?([^/]*)")


def parse_device(device: str) -> dict[str, str] | None:
    """The fields of a TF device string ('/job:ps/replica:0/task:1/device:CPU:0', '/job:ps/task:1', '/cpu:0',
    '/device:GPU:1'), with 'type' and 'index' split from the device part; None for a string of another form."""
    fields: dict[str, str] = {}
    pos = 0
    for m in _DEVICE_PART.finditer(device):
        if m.start() != pos:
            return None
        key, value = m[1], m[2]
        if key in ("cpu", "gpu", "CPU", "GPU"):
            fields["type"], fields["index"] = key.upper(), value or "0"
        elif key == "device":
            kind, _, index = value.partition(":")
            fields["type"], fields["index"] = kind.upper(), index or "0"
        else:
            fields[key] = value
        pos = m.end()
    return fields if pos == len(device) and fields else None


def canonical_device(device: str) -> str:
    """`device` in TF's full form as far as it says: replica 0 and the CPU filled in beside a job or task
    (as placement completes them), missing job and task left out; a string of another form unchanged."""
    f = parse_device(device)
    if f is None:
        return device
    parts = []
    if "job" in f:
        parts.append(f"/job:{f['job']}")
    if "job" in f or "task" in f:
        parts.append(f"/replica:{f.get('replica', '0')}")
    elif "replica" in f:
        parts.append(f"/replica:{f['replica']}")
    if "task" in f:
        parts.append(f"/task:{f['task']}")
    if "type" in f or "job" in f or "task" in f:
        parts.append(f"/device:{f.get('type', 'CPU')}:{f.get('index', '0')}")
    return "".join(parts)


def short_device_names(devices: list[str]) -> list[str]:
    """Short names of distinct devices, as few fields as tell them apart: 'ps:0' for one device per task,
    'ps:0/GPU:1' where a task has several, 'GPU:1' where they share one task; a string of another form
    (or an empty one) is its own short name."""
    parsed = [parse_device(d) for d in devices]

    def task(f: dict) -> str:
        job, number = f.get("job", ""), f.get("task", "")
        return f"{job}:{number}" if job and number else job or (f"task:{number}" if number else "")

    def unit(f: dict) -> str:
        return f"{f.get('type', 'CPU')}:{f.get('index', '0')}"

    tasks = [task(f) if f else None for f in parsed]
    per_task: dict[str | None, int] = {}
    for t in tasks:
        per_task[t] = per_task.get(t, 0) + 1
    # devices that all sit on one task are told apart by device alone ('CPU:0', 'GPU:0')
    one_task = len({t for t in tasks if t is not None}) == 1 and sum(t is not None for t in tasks) > 1
    names = []
    for device, f, t in zip(devices, parsed, tasks):
        if f is None:
            names.append(device or NO_DEVICE)
        elif not t or one_task:
            names.append(unit(f))
        else:
            names.append(t if per_task[t] == 1 else f"{t}/{unit(f)}")
    return names


def device_colours(short_names: list[str]) -> list[str]:
    """A fill per device, keyed by its short name: each takes its hash's palette entry, or the next free one
    when another device (in sorted order) took it, so 'ps:0' keeps its colour in every view of a cluster."""
    taken: dict[int, str] = {}
    colour: dict[str, str] = {}
    for name in sorted(set(short_names)):
        if name == NO_DEVICE:
            colour[name] = NO_DEVICE_COLOUR
            continue
        slot = type_hash(name) % len(DEVICE_PALETTE)
        if len(taken) < len(DEVICE_PALETTE):
            while slot in taken:
                slot = (slot + 1) % len(DEVICE_PALETTE)
        taken.setdefault(slot, name)
        colour[name] = DEVICE_PALETTE[slot]
    return [colour[n] for n in short_names]
