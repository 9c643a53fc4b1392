"""The hierarchy the interactive graph view draws, as compact JSON: name scopes as groups, repeated scopes
and ops folded into series (`block[0-39]`), oversized scopes split into groups of one op type, auxiliary
parts (gradients, optimizer, init, save, summaries) flagged so the browser draws them aside, per op its
type, inputs, outputs, device, attrs and creation site, and, for a graph placed on several devices, the devices
(full name, short name, fill) the view colours ops by. Knows op records only, not tfmini or the browser."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from ipython_ext.markup import colour_for, visible
from ipython_ext.trace_colours import NO_DEVICE, canonical_device, device_colours, short_device_names

# A level never holds more than this many children: more are folded into series, groups of one op type,
# then runs of consecutive ops, so every level lays out in milliseconds in the browser.
MAX_CHILDREN = 120
SERIES_MIN = 3  # siblings named alike (block0, block1, block2) fold into a series from this many on

# Scopes and ops TensorBoard also draws aside: training and bookkeeping machinery with edges to everywhere.
AUXILIARY = re.compile(
    r"(gradients|init|save|restore|report_uninitialized_variables|summaries|Merge|train|global_step|"
    r"GradientDescent|Adam|Adagrad|AdagradDA|Adadelta|Momentum|RMSProp|Ftrl|ProximalAdagrad|"
    r"ProximalGradientDescent|beta1_power|beta2_power|checkpoint_initializer)(_\d+)?$")
_SUMMARY_TYPES = re.compile(r".*Summary(V2)?$")
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")
_OP_NUMBER = re.compile(r"^(.*?)(_\d+)?$")

KIND_ROOT, KIND_SCOPE, KIND_SERIES, KIND_TYPE, KIND_RUN = 0, 1, 2, 3, 4


@dataclass
class Group:
    """A box of the hierarchy: a name scope, a series of alike siblings, ops of one type, or a run of ops."""

    kind: int
    label: str  # what the box shows
    path: str  # the scope path its ops' short names are relative to ("" at the top)
    parent: int = -1
    aux: bool = False
    groups: list[int] = field(default_factory=list)  # child groups, in first-op order
    ops: list[int] = field(default_factory=list)  # ops directly inside, in graph order
    first: int = 0  # index of its first op in graph order (children sort by it)


class _Strings:
    """A table of distinct strings; records refer to entries by number."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        number = self._index.get(text)
        if number is None:
            number = self._index[text] = len(self.items)
            self.items.append(text)
        return number


def _build_scopes(names: list[str]) -> tuple[list[Group], list[int]]:
    """Scope groups from op names and the group each op sits in directly."""
    groups = [Group(KIND_ROOT, "", "")]
    by_path = {"": 0}
    owner = []
    for i, name in enumerate(names):
        parent_path, parent = "", 0
        parts = name.split("/")[:-1]
        for part in parts:
            path = f"{parent_path}/{part}" if parent_path else part
            number = by_path.get(path)
            if number is None:
                number = by_path[path] = len(groups)
                groups.append(Group(KIND_SCOPE, part, path, parent, first=i))
                groups[parent].groups.append(number)
            parent_path, parent = path, number
        groups[parent].ops.append(i)
        owner.append(parent)
    return groups, owner


def _lift_single_ops(groups: list[Group], owner: list[int]) -> None:
    """A scope that holds one op and nothing else draws as that op (`mul/y` beside `mul`)."""
    for number in range(len(groups) - 1, 0, -1):
        g = groups[number]
        if g.kind == KIND_SCOPE and not g.groups and len(g.ops) == 1:
            parent = groups[g.parent]
            parent.groups.remove(number)
            parent.ops.append(g.ops[0])
            owner[g.ops[0]] = g.parent
            g.ops = []
            g.parent = -2  # removed


def _new_group(groups: list[Group], kind: int, label: str, path: str, parent: int, first: int) -> int:
    groups.append(Group(kind, label, path, parent, first=first))
    return len(groups) - 1


def _fold_series(groups: list[Group], owner: list[int], number: int, names: list[str], types: list[str]) -> None:
    """Children named prefix+number (scopes) or prefix, prefix_1, ... of one op type (ops), SERIES_MIN or
    more, become one series group."""
    g = groups[number]
    by_key: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for child in g.groups:
        m = _TRAILING_NUMBER.match(groups[child].label)
        if m:
            by_key["scope", m[1]].append((int(m[2]), child))
    for series_key, members in by_key.items():
        if len(members) < SERIES_MIN:
            continue
        members.sort()
        low, high = members[0][0], members[-1][0]
        span = f"{low}-{high}" if high - low + 1 == len(members) else f"{low}..{high}, {len(members)} of them"
        first = min(groups[c].first for _, c in members)
        s = _new_group(groups, KIND_SERIES, f"{series_key[1]}[{span}]", g.path, number, first)
        groups[s].groups = [c for _, c in members]
        for _, c in members:
            groups[c].parent = s
        chosen = {c for _, c in members}
        g.groups = [c for c in g.groups if c not in chosen] + [s]
    by_op: dict[tuple, list[int]] = defaultdict(list)
    for op in g.ops:
        short = names[op][len(g.path) + 1:] if g.path else names[op]
        if "/" not in short:
            by_op[_OP_NUMBER.match(short)[1], types[op]].append(op)
    for (prefix, _), members in by_op.items():
        if len(members) < SERIES_MIN or len(members) == len(g.ops) + len(g.groups):
            continue  # too few, or the whole group: a series inside it would only add a level
        s = _new_group(groups, KIND_SERIES, f"{prefix}_*", g.path, number, members[0])
        groups[s].ops = members
        for op in members:
            owner[op] = s
        chosen = set(members)
        g.ops = [op for op in g.ops if op not in chosen]
        g.groups.append(s)


def _split_oversized(groups: list[Group], owner: list[int], number: int, types: list[str]) -> None:
    """A group with more than MAX_CHILDREN children keeps its groups and folds its ops by type, then into
    runs of consecutive ops, until it fits."""
    g = groups[number]
    if len(g.groups) + len(g.ops) <= MAX_CHILDREN:
        return
    by_type: dict[str, list[int]] = defaultdict(list)
    for op in g.ops:
        by_type[types[op]].append(op)
    if g.kind != KIND_TYPE and len(by_type) < len(g.ops):
        singles = []
        for op_type, members in by_type.items():
            if len(members) == 1:
                singles.append(members[0])
                continue
            t = _new_group(groups, KIND_TYPE, f"{op_type} ops", g.path, number, members[0])
            groups[t].ops = members
            for op in members:
                owner[op] = t
            g.groups.append(t)
        g.ops = sorted(singles)
    room = max(1, MAX_CHILDREN - len(g.groups))
    if len(g.ops) > room:
        size = -(-len(g.ops) // room)
        ops, g.ops = g.ops, []
        for start in range(0, len(ops), size):
            chunk = ops[start:start + size]
            r = _new_group(groups, KIND_RUN, f"ops {start + 1}-{start + len(chunk)}", g.path, number, chunk[0])
            groups[r].ops = chunk
            for op in chunk:
                owner[op] = r
            g.groups.append(r)
    for c in g.groups:
        if groups[c].kind in (KIND_TYPE, KIND_RUN):
            _split_oversized(groups, owner, c, types)
    while len(g.groups) > MAX_CHILDREN:  # thousands of sibling scopes: runs of them
        size = -(-len(g.groups) // MAX_CHILDREN)
        children, g.groups = sorted(g.groups, key=lambda c: groups[c].first), []
        for start in range(0, len(children), size):
            chunk = children[start:start + size]
            label = f"{groups[chunk[0]].label} … {groups[chunk[-1]].label}"
            r = _new_group(groups, KIND_RUN, label, g.path, number, groups[chunk[0]].first)
            groups[r].groups = chunk
            for c in chunk:
                groups[c].parent = r
            g.groups.append(r)
        for c in g.groups:
            _split_oversized(groups, owner, c, types)


@dataclass
class Hierarchy:
    """The folded hierarchy: groups (0 is the top), the group each op sits in, and its scope paths."""

    groups: list[Group]
    owner: list[int]

    def scope_groups(self) -> dict[str, int]:
        return {g.path: i for i, g in enumerate(self.groups) if g.kind == KIND_SCOPE and g.parent != -2}


def build(nodes) -> Hierarchy:
    """The hierarchy of op records (`graph_view.Node`) in graph order."""
    names = [n.name for n in nodes]
    types = [n.op_type for n in nodes]
    groups, owner = _build_scopes(names)
    _lift_single_ops(groups, owner)
    for number in range(len(groups)):
        if groups[number].parent != -2:
            _fold_series(groups, owner, number, names, types)
    for number in range(len(groups)):
        if groups[number].parent != -2:
            _split_oversized(groups, owner, number, types)
    for g in groups:
        if g.kind in (KIND_SCOPE, KIND_SERIES) and g.parent >= 0:
            g.aux = bool(AUXILIARY.match(g.label))
        g.groups.sort(key=lambda c: groups[c].first)
    return Hierarchy(groups, owner)


def initial_expansion(h: Hierarchy, budget: int, expand=(), collapse=()) -> list[int]:
    """Groups open when the view first draws: breadth first from the top while at most `budget` boxes show
    (series, auxiliary parts and `collapse`d scopes stay closed), plus each `expand`ed scope and the groups
    around it."""
    scopes = h.scope_groups()
    closed = {scopes[c] for c in collapse if c in scopes}
    opened = {0}
    shown = len(h.groups[0].groups) + len(h.groups[0].ops)
    queue = list(h.groups[0].groups)
    while queue:
        number = queue.pop(0)
        g = h.groups[number]
        if g.kind == KIND_SERIES or g.aux or number in closed:
            continue
        size = len(g.groups) + len(g.ops)
        if shown - 1 + size > budget:
            continue
        opened.add(number)
        shown += size - 1
        queue.extend(g.groups)
    for e in expand:
        number = scopes.get(e)
        while number is not None and number >= 0:
            opened.add(number)
            number = h.groups[number].parent
    return sorted(opened - closed)


def is_auxiliary_op(name: str, op_type: str) -> bool:
    return bool(AUXILIARY.match(name.rsplit("/", 1)[-1]) or _SUMMARY_TYPES.match(op_type))


@dataclass
class Devices:
    """The devices a graph's ops are placed on, each once in TF's full form (strings that differ only in what
    placement fills in, '/job:ps/task:0' and '/job:ps/replica:0/task:0/device:CPU:0', are one device), with
    its short name, fill and the strings ops wrote for it; `of_op` is each op's device (-1 for none)."""

    names: list[str]
    short: list[str]
    colours: list[str]
    written: list[list[str]]
    of_op: list[int]

    @property
    def several(self) -> bool:
        """Whether the view colours by device: two named devices, or unplaced ops beside ops placed on a job
        (which a distributed session puts on its master task); ops pinned to '/cpu:0' beside unplaced ones
        run on one device in a local session."""
        named = [n for n in self.names if n != NO_DEVICE]
        return len(named) > 1 or (len(self.names) > 1 and any(n.startswith("/job:") for n in named))


def _natural(text: str) -> list:
    """A sort key that orders task:2 before task:10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def devices_of(nodes) -> Devices:
    """The devices of op records in graph order; ops without a device are a group of their own ('(no
    device)') when other ops have one."""
    index: dict[str, int] = {}
    names: list[str] = []
    written: list[list[str]] = []
    of_op = []
    placed = any(n.device for n in nodes)
    for n in nodes:
        if not n.device and not placed:
            of_op.append(-1)
            continue
        full = canonical_device(n.device) if n.device else NO_DEVICE
        number = index.get(full)
        if number is None:
            number = index[full] = len(names)
            names.append(full)
            written.append([])
        if n.device and n.device not in written[number]:
            written[number].append(n.device)
        of_op.append(number)
    order = sorted(range(len(names)), key=lambda i: (names[i] == NO_DEVICE, _natural(names[i])))
    renumber = {old: new for new, old in enumerate(order)}
    names = [names[i] for i in order]
    written = [written[i] for i in order]
    short = [NO_DEVICE if n == NO_DEVICE else s for n, s in zip(names, short_device_names(names))]
    return Devices(names, short, device_colours(short), written, [renumber.get(d, -1) for d in of_op])


def _devices_json(nodes, strings: _Strings) -> dict:
    """The view's device table: empty for a graph on one device (or none), which the view draws as before."""
    d = devices_of(nodes)
    if not d.several:
        return {}
    return {"name": [strings(visible(n)) for n in d.names], "short": [strings(visible(n)) for n in d.short],
            "colour": d.colours, "written": [[strings(visible(w)) for w in ws] for ws in d.written],
            "of_op": d.of_op}


def to_json(nodes, h: Hierarchy, expanded: list[int], kinds: dict[str, str]) -> str:
    """The view's data: a string table and columns per group and per op (indices into the table), with
    every `<` and `&` escaped so the text can sit inside a `<script>` element."""
    strings = _Strings()
    strings("")  # entry 0: what the sparse columns mean for the ops they leave out
    index = {n.name: i for i, n in enumerate(nodes)}
    kept = [i for i, g in enumerate(h.groups) if g.parent != -2]
    renumber = {old: new for new, old in enumerate(kept)}
    types = _Strings()
    colours = []
    op_type = []
    for n in nodes:
        number = types(visible(n.op_type))
        if number == len(colours):
            colours.append(colour_for(n.op_type))
        op_type.append(number)

    def inputs(i: int, n) -> list:
        """Data inputs as distances back to their producer ([distance, output] past output 0): short numbers."""
        out: list = []
        for name, k in n.inputs:
            src = index.get(name)
            if src is not None:
                out.append(i - src if k == 0 else [i - src, k])
        return out

    attr_sets = _Strings()

    def short(i: int, n) -> str:
        path = h.groups[h.owner[i]].path
        return n.name[len(path) + 1:] if path and n.name.startswith(path + "/") else n.name

    data = {
        "groups": {
            "parent": [renumber.get(h.groups[i].parent, -1) for i in kept],
            "kind": [h.groups[i].kind for i in kept],
            "label": [strings(visible(h.groups[i].label)) for i in kept],
            "path": [strings(visible(h.groups[i].path)) for i in kept],
            "aux": [int(h.groups[i].aux) for i in kept],
        },
        "ops": {
            "group": [renumber[h.owner[i]] for i in range(len(nodes))],
            "name": [strings(visible(short(i, n))) for i, n in enumerate(nodes)],
            "type": op_type,
            "inputs": [inputs(i, n) for i, n in enumerate(nodes)],
            "outputs": [o[0] if len(o) == 1 else o for o in
                        ([strings(visible(t)) for t in n.outputs] for n in nodes)],
            "attrs": [attr_sets(json.dumps([strings(visible(f"{k} = {v}")) for k, v in n.attrs])) for n in nodes],
            "site": [strings(visible(n.site)) for n in nodes],
            # sparse columns, {op: value} for the few ops that have one
            "control": {i: [i - index[c] for c in n.control_inputs if c in index]
                        for i, n in enumerate(nodes) if any(c in index for c in n.control_inputs)},
            "device": {i: strings(visible(n.device)) for i, n in enumerate(nodes) if n.device},
            "note": {i: strings(n.note) for i, n in enumerate(nodes) if n.note},
            "aux": {i: 1 for i, n in enumerate(nodes) if is_auxiliary_op(n.name, n.op_type)},
        },
        "attr_sets": [json.loads(a) for a in attr_sets.items],
        "types": types.items,
        "colours": colours,
        "kinds": [kinds.get(t, "op") for t in types.items],
        "strings": strings.items,
        "expanded": [renumber[i] for i in expanded if i in renumber],
        "devices": _devices_json(nodes, strings),
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")

