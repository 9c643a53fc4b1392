"""Pictures of graphs: a `tf.Graph` (or part of one) or a `GraphDef` becomes plain node records, shown as
an interactive view in HTML (the hierarchy as compact JSON, laid out and drawn in the browser by
graph_view.js: pan, zoom, expand in place, search, details) and as a static Graphviz picture for front ends
without HTML (name scopes as clusters, deep scopes collapsed in large graphs), rendered to SVG by the `dot`
program — or, without `dot`, a readable listing and a line saying how to get pictures."""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import shutil
import subprocess
import time
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass
from importlib import resources

import tfmini as tf
from ipython_ext import describe, graph_model, sites
from ipython_ext.markup import (
    INSTALL_GRAPHVIZ,
    Html,
    colour_for,
    element_id,
    page,
    section,
    table,
    tag,
    truncate,
    visible,
)
from ipython_ext.options import options


@dataclass(frozen=True)
class Node:
    """One op as the picture needs it; `inputs` are (producer name, output index) pairs."""

    name: str
    op_type: str
    inputs: tuple[tuple[str, int], ...]
    control_inputs: tuple[str, ...]
    outputs: tuple[str, ...]  # "float32 (?, 3)" per output, "" where unknown
    note: str = ""  # e.g. "fed" for a tensor fed in the run a subgraph shows
    device: str = ""
    attrs: tuple[tuple[str, str], ...] = ()  # (name, value text), sorted by name
    site: str = ""  # where user code created the op: "line 3 of In[7]: y = tf.add(a, b)"


@dataclass(frozen=True)
class Kind:
    """How an op type stands out: its name in listings and its Graphviz node shape."""

    label: str
    shape: str


_OP = Kind("op", "box")
# Op types that are marked in pictures and listings; every other type draws as a plain op box.
KINDS = {
    "Placeholder": Kind("placeholder", "invhouse"),
    "PlaceholderV2": Kind("placeholder", "invhouse"),
    "PlaceholderWithDefault": Kind("placeholder", "invhouse"),
    "SparsePlaceholder": Kind("placeholder", "invhouse"),
    "Variable": Kind("variable", "cylinder"),
    "VariableV2": Kind("variable", "cylinder"),
    "VarHandleOp": Kind("variable", "cylinder"),
}


def kind_of(op_type: str) -> Kind:
    return KINDS.get(op_type, _OP)


# -- records ----------------------------------------------------------------------------------------------
def nodes_from_graph(graph, ops=None, fed=()) -> list[Node]:
    """Records of `ops` (default: every op of `graph`) in graph order; `fed` names tensors fed in a run."""
    fed_ops = {t.op.name for t in fed}
    wanted = None if ops is None else set(ops)
    chosen = [op for op in graph.get_operations() if wanted is None or op in wanted]
    return [
        Node(
            name=op.name,
            op_type=op.type,
            inputs=tuple((t.op.name, t.value_index) for t in op.inputs),
            control_inputs=tuple(c.name for c in op.control_inputs),
            outputs=tuple(describe.tensor_text(t) for t in op.outputs),
            note="fed" if op.name in fed_ops else "",
            device=op.device or "",
            attrs=tuple(describe.op_attrs(op)),
            site=_site(op),
        )
        for op in chosen
    ]


def _site(op) -> str:
    where, source = sites.op_site(op)
    return f"{where}: {source}" if where and source else where


_DTYPE_ATTRS = ("dtype", "T", "out_type", "DstT", "output_type")


def _parse_input(text: str) -> tuple[str, int, bool]:
    """NodeDef input 'name', 'name:1' or '^name' -> (name, index, is_control)."""
    if text.startswith("^"):
        return text[1:], 0, True
    name, sep, index = text.rpartition(":")
    if sep and index.isdigit():
        return name, int(index), False
    return text, 0, False


def nodes_from_graph_def(graph_def) -> list[Node]:
    """Records of a GraphDef's nodes; dtypes and shapes come from attrs where the NodeDef carries them
    (`_output_shapes`, `shape`, `dtype`/`T`), since a foreign GraphDef may name ops tfmini lacks."""
    parsed = {nd.name: [_parse_input(i) for i in nd.input] for nd in graph_def.node}
    n_outputs: Counter = Counter()
    for ins in parsed.values():
        for name, index, control in ins:
            if not control:
                n_outputs[name] = max(n_outputs[name], index + 1)
    nodes = []
    for nd in graph_def.node:
        attr = nd.attr
        dtype = next((describe.attr_value_text(attr[a]) for a in _DTYPE_ATTRS if a in attr), "")
        shapes = [describe.shape_text(s) for s in attr["_output_shapes"].list.shape] if "_output_shapes" in attr else []
        if not shapes and "shape" in attr and attr["shape"].WhichOneof("value") == "shape":
            shapes = [describe.shape_text(attr["shape"].shape)]
        count = max(n_outputs[nd.name], len(shapes), 1)
        outputs = tuple(" ".join(p for p in (dtype, shapes[i] if i < len(shapes) else "") if p) for i in range(count))
        ins = parsed[nd.name]
        nodes.append(Node(
            name=nd.name,
            op_type=nd.op,
            inputs=tuple((n, i) for n, i, c in ins if not c),
            control_inputs=tuple(n for n, _, c in ins if c),
            outputs=outputs,
            device=nd.device,
            attrs=tuple((k, describe.attr_value_text(attr[k])) for k in sorted(attr) if k != "_output_shapes"),
        ))
    return nodes


# -- collapsing -------------------------------------------------------------------------------------------
_SLASH = re.compile("/")


def _scopes(name: str) -> list[str]:
    return [name[: m.start()] for m in _SLASH.finditer(name)]


class PlanOverrun(Exception):
    """Planning a picture ran past its time budget."""


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise PlanOverrun


class ScopeIndex:
    """The name scopes of a list of ops, each numbered once (a scope before the scopes inside it), and how
    many units each depth of collapsing leaves, counted in one pass over the scopes and one over the ops.
    Choosing a depth for a `max_nodes` is then a look-up, and only the chosen depth's scope names are spelled
    (rebuilding every prefix of every name at every depth tried took seconds in graphs with deep scopes).

    At depth D an op's unit is its scope at level min(first collapsed level, max(D, open levels) + 1), or
    the op itself when that level is below its innermost scope; a scope listed in `expand`, and every scope
    around one, is open. Each scope is therefore a unit over one interval of depths, and each op on its own
    over one interval too."""

    def __init__(self, nodes: list[Node], collapse=(), expand=(), deadline: float | None = None) -> None:
        self.names = list(dict.fromkeys(n.name for n in nodes))
        numbers: dict[tuple[int, str], int] = {}  # (parent scope, name part) -> scope; -1 is the top
        parents: list[int] = []
        levels: list[int] = []
        self._first_op: list[int] = []  # scope -> an op inside it, whose name spells the scope's
        self.chains: list[tuple[int, ...]] = []  # op -> its scopes, outermost first
        for i, name in enumerate(self.names):
            _check(deadline)
            chain: list[int] = []
            parent = -1
            for part in name.split("/")[:-1]:
                scope = numbers.get((parent, part))
                if scope is None:
                    scope = numbers[parent, part] = len(parents)
                    parents.append(parent)
                    levels.append(len(chain) + 1)
                    self._first_op.append(i)
                chain.append(scope)
                parent = scope
            self.chains.append(tuple(chain))
        self.scope_count = len(parents)

        def find(scope: str):
            """The scopes along `scope`'s name, outermost first, as far as they exist."""
            number = -1
            for part in scope.split("/"):
                number = numbers.get((number, part))
                if number is None:
                    return
                yield number

        closed = {found[-1] for c in collapse if len(found := list(find(c))) == len(c.split("/"))}
        opened = {number for e in expand for number in find(e)}
        # Per scope: the level of the outermost closed scope at or around it (0: none), and of the innermost
        # open one (open scopes sit outermost in a chain: a scope around an open one is open).
        first_closed = [0] * len(parents)
        last_open = [0] * len(parents)
        self.deepest = max(levels, default=0)
        changes = [0] * (self.deepest + 2)  # units per depth, as differences
        cluster_changes = [0] * (self.deepest + 2)  # open scopes drawn as clusters per depth, likewise
        for s, (parent, level) in enumerate(zip(parents, levels)):
            if s % 4096 == 0:
                _check(deadline)
            outer_closed = first_closed[parent] if parent >= 0 else 0
            outer_open = last_open[parent] if parent >= 0 else 0
            first_closed[s] = outer_closed or (level if s in closed else 0)
            last_open[s] = level if s in opened else outer_open
            if outer_closed:
                continue  # drawn inside a closed scope
            if s not in closed:
                cluster_changes[0 if s in opened else level] += 1
                if s in opened:
                    continue  # never a unit
            low = 0 if outer_open == level - 1 else level - 1
            high = self.deepest if s in closed else level - 1
            changes[low] += 1
            changes[high + 1] -= 1
        # Per op: its first closed level and how many of its outer levels are open.
        self._closed_at = [first_closed[c[-1]] if c else 0 for c in self.chains]
        self._open_to = [last_open[c[-1]] if c else 0 for c in self.chains]
        for chain, closed_at, open_to in zip(self.chains, self._closed_at, self._open_to):
            if not closed_at:  # on its own from the depth of its innermost scope (from 0 if all are open)
                changes[0 if open_to == len(chain) else len(chain)] += 1
        self.counts = list(itertools.accumulate(changes))[: self.deepest + 1]
        self.clusters = list(itertools.accumulate(cluster_changes))[: self.deepest + 1]

    def depth_for(self, max_nodes: int) -> int:
        """The deepest level that leaves at most `max_nodes` units, else the deepest that leaves fewest,
        among the levels whose clusters Graphviz can lay out in time (always level 0)."""
        depths = [d for d in range(self.deepest, -1, -1) if d == 0 or self.clusters[d] <= LAYOUT_BUDGET]
        return next((d for d in depths if self.counts[d] <= max_nodes), min(depths, key=self.counts.__getitem__))

    def units(self, max_nodes: int) -> dict[str, tuple[str, str]]:
        """Op name -> ('op', name) or ('scope', s) at the depth `depth_for` picks; a scope holding one op
        draws better as that op (e.g. the `mul/y` constant of a `mul`)."""
        depth = self.depth_for(max_nodes)
        names: dict[int, str] = {}
        units = {}
        for name, chain, closed_at, open_to in zip(self.names, self.chains, self._closed_at, self._open_to):
            level = max(depth, open_to) + 1
            if closed_at:
                level = min(level, closed_at)
            if level > len(chain):
                units[name] = ("op", name)
                continue
            scope = chain[level - 1]
            if scope not in names:
                names[scope] = "/".join(self.names[self._first_op[scope]].split("/")[:level])
            units[name] = ("scope", names[scope])
        sizes = Counter(units.values())
        return {name: ("op", name) if sizes[u] == 1 else u for name, u in units.items()}


_NUMBERED = re.compile(r"_\d+$")


def _group_key(node: Node, by: str) -> str:
    """The group an op that shows on its own joins when its scope holds too many: ops named alike
    (`add`, `add_1`, ... -> `add_*`) or, failing that, ops of one type (`Add ops`), inside its own scope."""
    parent, _, short = node.name.rpartition("/")
    label = _NUMBERED.sub("", short) + "_*" if by == "name" else node.op_type.replace("/", "|") + " ops"
    return f"{parent}/{label}" if parent else label


def assign_units(nodes: list[Node], max_nodes: int, collapse=(), expand=(),
                 index: ScopeIndex | None = None) -> dict[str, tuple[str, str]]:
    """Op name -> the unit it is drawn as. Name scopes collapse first (deepest level up, top-level ops
    never); if too many units remain, ops that show on their own are grouped by name prefix, then by op
    type ('group' units). Ops inside a scope listed in `expand` always show on their own. `index` is the
    nodes' ScopeIndex for these `collapse` and `expand`, when the caller has one."""
    index = index or ScopeIndex(nodes, collapse, expand)
    return _grouped(nodes, index.units(max_nodes), max_nodes, expand)


def _grouped(nodes: list[Node], units: dict, max_nodes: int, expand) -> dict:
    """`units` with the ops that show on their own grouped by name prefix, then by op type, while more
    than `max_nodes` units remain (ops inside a scope listed in `expand` stay on their own)."""
    kept = tuple(e + "/" for e in expand)
    for by in ("name", "type"):
        if len(set(units.values())) <= max_nodes:
            break
        grouped = {}
        for n in nodes:
            u = units[n.name]
            alone = u[0] == "op" and not n.name.startswith(kept)
            grouped[n.name] = ("group", _group_key(n, by)) if alone else u
        sizes = Counter(grouped.values())
        units = {name: ("op", name) if u[0] == "group" and sizes[u] == 1 else u for name, u in grouped.items()}
    return units


def _top_level_units(nodes: list[Node], max_nodes: int, expand) -> dict:
    """Units that cost one split per op: every scope collapsed to its top-level scope, except the ops inside
    a scope listed in `expand`, which show on their own; then grouped as `assign_units` groups."""
    kept = tuple(e + "/" for e in expand)
    units = {}
    for n in nodes:
        top, nested, _ = n.name.partition("/")
        units[n.name] = ("scope", top) if nested and not n.name.startswith(kept) else ("op", n.name)
    sizes = Counter(units.values())
    units = {name: ("op", name) if sizes[u] == 1 else u for name, u in units.items()}
    return _grouped(nodes, units, max_nodes, expand)


def _first_units(units: dict, count: int) -> dict:
    """The ops of the first `count` units (in graph order); the others are left out of the picture."""
    kept = dict.fromkeys(list(dict.fromkeys(units.values()))[:count])
    return {name: u for name, u in units.items() if u in kept}


@dataclass(frozen=True)
class Plan:
    """What the picture draws: `units` maps each drawn op to its unit; `max_nodes` is the limit that
    made the layout fit the time budget (it may be below the one asked for); `note` says why the picture
    is coarser than that, when planning itself ran out of time."""

    units: dict
    max_nodes: int
    asked: int
    total: int  # ops in the view
    scopes: int | None = None  # name scopes in the view; None when planning ran out of time to count them
    note: str = ""

    @property
    def drawn_units(self) -> int:
        return len(set(self.units.values()))

    @property
    def hidden_ops(self) -> int:
        return self.total - len(self.units)

    @property
    def grouped(self) -> bool:
        return any(u[0] == "group" for u in self.units.values())

    @property
    def collapsed(self) -> bool:
        return any(u[0] == "scope" for u in self.units.values())


# Graphviz's time grows with the virtual nodes its layout adds (one per rank an edge crosses, twice as many
# with edge labels) far more than with the nodes drawn: a node feeding a 60-node chain takes `dot` seconds
# to minutes. A plan whose estimate passes this many is simplified before `dot` ever sees it.
LAYOUT_BUDGET = 1500
MIN_NODES = 8


def _cluster_count(units: dict, cap: int) -> int:
    """The name scopes drawn as clusters around `units` (counting stops past `cap`)."""
    seen: set = set()
    for _, name in set(units.values()):
        while len(seen) <= cap:
            name, nested, _ = name.rpartition("/")
            if not nested or name in seen:
                break
            seen.add(name)
    return len(seen)


def layout_cost(nodes: list[Node], units: dict) -> int:
    """An estimate of Graphviz's work: units plus, per drawn edge between units, the ranks it spans in a
    longest-path layering (doubled, as edge labels double the ranks), plus half the clusters (deeply nested
    scopes cost `dot` about 0.1 ms each). Cycles between units are broken."""
    by_name = {n.name: n for n in nodes}
    succ: dict = {}
    for n in nodes:
        dst = units.get(n.name)
        if dst is None:
            continue
        for src_name in [s for s, _ in n.inputs] + list(n.control_inputs):
            src = units.get(src_name) if src_name in by_name else None
            if src is not None and src != dst:
                succ.setdefault(src, set()).add(dst)
    order = list(dict.fromkeys(units.values()))
    indegree = Counter(d for ds in succ.values() for d in ds)
    rank = dict.fromkeys(order, 0)
    ready = [u for u in order if indegree[u] == 0]
    done: set = set()
    while len(done) < len(order):
        if not ready:  # a cycle: start from any unit not placed yet
            ready = [next(u for u in order if u not in done)]
        u = ready.pop()
        if u in done:
            continue
        done.add(u)
        for d in succ.get(u, ()):
            if d not in done:
                rank[d] = max(rank[d], rank[u] + 1)
                indegree[d] -= 1
                if indegree[d] <= 0:
                    ready.append(d)
    spans = sum(max(1, rank[d] - rank[s]) for s, ds in succ.items() for d in ds)
    return len(order) + 2 * spans + _cluster_count(units, 2 * LAYOUT_BUDGET) // 2


# Planning has a budget of its own, as `dot`'s timeout cannot cut short the Python that runs before it.
PLAN_BUDGET_S = 0.3


def plan_units(nodes: list[Node], max_nodes: int, collapse=(), expand=()) -> Plan:
    """The units to draw: at most `max_nodes`, fewer when Graphviz could not lay them out in time; if
    planning passes PLAN_BUDGET_S, scopes collapse to the top level instead, and the plan's note says so."""
    deadline = time.monotonic() + PLAN_BUDGET_S
    try:
        index = ScopeIndex(nodes, collapse, expand, deadline)
        limit = max(1, max_nodes)
        while True:
            units = assign_units(nodes, limit, collapse, expand, index)
            if layout_cost(nodes, units) <= LAYOUT_BUDGET:
                return Plan(units, limit, max_nodes, len(nodes), index.scope_count)
            _check(deadline)
            if limit <= MIN_NODES:
                break
            limit = max(MIN_NODES, limit // 2)
    except PlanOverrun:
        units = _top_level_units(nodes, max_nodes, expand)
        limit, index = max(1, max_nodes), None
    # Nothing collapses or groups far enough (e.g. thousands of distinct op types, or a huge expanded
    # scope): draw the first units that fit and say how many ops were left out.
    count = len(set(units.values()))
    while count > 1 and layout_cost(nodes, _first_units(units, count)) > LAYOUT_BUDGET:
        count = min(count // 2, max(limit, MIN_NODES))
    if index is not None:
        return Plan(_first_units(units, count), limit, max_nodes, len(nodes), index.scope_count)
    note = (f"planning the picture passed its {PLAN_BUDGET_S:g} s budget, so name scopes are collapsed to the "
            "top level: ipython_ext.show_graph(graph, expand=[a scope]) draws that scope's ops on their own, and "
            "ipython_ext.GraphView(graph, ops=[...]) draws a part of the graph")
    return Plan(_first_units(units, count), limit, max_nodes, len(nodes), note=note)


# -- DOT --------------------------------------------------------------------------------------------------
LABEL_LIMIT = 48  # characters of a name or op type on a node; the tooltip and the listing give it whole
TOOLTIP_LIMIT = 600


def dot_str(text: str) -> str:
    """A DOT double-quoted string; backslashes are doubled so Graphviz's escapes (\\N, \\G, ...) cannot
    fire, newlines become DOT's centred line breaks, characters XML cannot carry (control characters, lone
    surrogates, U+FFFE/U+FFFF) and bidi overrides show as visible escapes, and `&` is written as `&amp;`
    because Graphviz passes entity references through to the SVG (so `&bogus;` would break the XML and
    `&lt;` would show as `<`)."""
    text = visible(text).replace("&", "&amp;")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw) -> str:
    return "[" + ", ".join(f"{k}={dot_str(str(v))}" for k, v in kw.items()) + "]"


_HEADER = """digraph G {
  graph [rankdir=TB, bgcolor="transparent", fontname="Helvetica", fontsize=10, nodesep=0.25, ranksep=0.35];
  node [shape=box, style="rounded,filled", color="#5f6b7a", fontname="Helvetica", fontsize=10,
        fontcolor="#1b1b1b", height=0.3, margin="0.08,0.03"];
  edge [color="#8c8c8c", fontcolor="#8c8c8c", fontname="Helvetica", fontsize=8, arrowsize=0.6];
"""


def dot_source(nodes: list[Node], max_nodes: int | None = None, collapse=(), expand=(),
               plan: Plan | None = None) -> str:
    """The DOT text of the picture; node ids are n0, n1, ... in graph order, so equal graphs give equal text."""
    if plan is None:
        plan = plan_units(nodes, options.max_graph_nodes if max_nodes is None else max_nodes, collapse, expand)
    units = plan.units
    by_name = {n.name: n for n in nodes if n.name in units}
    nodes = list(by_name.values())
    ids: dict[tuple[str, str], str] = {}
    members: dict[tuple[str, str], list[Node]] = {}
    for n in nodes:
        u = units[n.name]
        ids.setdefault(u, f"n{len(ids)}")
        members.setdefault(u, []).append(n)

    children: dict[str, dict] = {}  # scope -> its child scopes and units, in first-seen order
    for u in ids:
        scopes = _scopes(u[1]) if u[0] == "op" else _scopes(u[1] + "/x")[:-1]
        parent = ""
        for s in scopes:
            children.setdefault(parent, {})[("scope", s)] = None
            parent = s
        children.setdefault(parent, {})[("unit", u)] = None

    lines = [_HEADER]
    cluster_ids = itertools.count()

    def emit(scope: str, indent: str) -> None:
        for kind, item in children.get(scope, {}):
            if kind == "unit":
                lines.append(f"{indent}{ids[item]} {_node_attrs(item, members[item])};")
            else:
                label = item.rsplit("/", 1)[-1]
                lines.append(f"{indent}subgraph cluster_{next(cluster_ids)} {{")
                lines.append(f'{indent}  label={dot_str(label)}; tooltip={dot_str(item)}; style="rounded,dashed"; '
                             f'color="#9a9a9a"; fontcolor="#8c8c8c"; fontsize=9;')
                emit(item, indent + "  ")
                lines.append(f"{indent}}}")

    emit("", "  ")

    edges: dict[tuple[str, str, bool], list[str]] = {}
    for n in nodes:
        dst = ids[units[n.name]]
        for src_name, index in n.inputs:
            src = by_name.get(src_name)
            if src is not None and ids[units[src_name]] != dst:
                desc = src.outputs[index] if index < len(src.outputs) else ""
                edges.setdefault((ids[units[src_name]], dst, False), []).append(desc)
        for src_name in n.control_inputs:
            if src_name in by_name and ids[units[src_name]] != dst:
                edges.setdefault((ids[units[src_name]], dst, True), []).append("")
    for (src, dst, control), descs in edges.items():
        if control:
            lines.append(f'  {src} -> {dst} [style="dashed", arrowhead="odot"];')
        else:
            label = descs[0] if len(descs) == 1 else f"{len(descs)} tensors"
            lines.append(f"  {src} -> {dst} {_attrs(label=label, tooltip=label)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_attrs(unit: tuple[str, str], members: list[Node]) -> str:
    if unit[0] != "op":
        types = Counter(m.op_type for m in members).most_common(6)
        tail = "/" if unit[0] == "scope" else ""
        tip = f"{unit[1]}{tail} ({len(members)} ops): " + ", ".join(f"{t} ×{c}" for t, c in types)
        return _attrs(label=f"{truncate(unit[1].rsplit('/', 1)[-1], LABEL_LIMIT)}{tail}\n{len(members)} ops",
                      tooltip=truncate(tip, TOOLTIP_LIMIT), shape="box3d", style="filled", fillcolor="#e4e4e4")
    n = members[0]
    kind = kind_of(n.op_type)
    tip = f"{n.name} ({n.op_type})" + "".join(f"\n:{i} {o}" for i, o in enumerate(n.outputs[:8]) if o)
    short, op_type = truncate(n.name.rsplit("/", 1)[-1], LABEL_LIMIT), truncate(n.op_type, LABEL_LIMIT)
    label = (op_type if short == op_type else f"{short}\n{op_type}") + (f"\n[{n.note}]" if n.note else "")
    extra = {} if kind is _OP else {"shape": kind.shape, "style": "filled", "penwidth": "2"}
    return _attrs(label=label, tooltip=truncate(tip, TOOLTIP_LIMIT), fillcolor=colour_for(n.op_type), **extra)


# -- rendering --------------------------------------------------------------------------------------------
def find_dot() -> str | None:
    """The `dot` program on PATH, or None (then graphs show as listings)."""
    return shutil.which("dot")


_svg_cache: OrderedDict[str, str | None] = OrderedDict()  # DOT source -> SVG, or None when `dot` failed
_CLEAN = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)


def render_svg(source: str) -> str | None:
    """SVG text for a DOT source, or None when `dot` is missing, fails or runs past
    `options.dot_timeout_s`. A result is cached, a failure too, so a graph is handed to `dot` once however
    many formatters show it. The XML prolog and Graphviz's comments (which carry its version) are
    dropped, so the same graph gives the same bytes everywhere."""
    if source in _svg_cache:
        _svg_cache.move_to_end(source)
        return _svg_cache[source]
    dot = find_dot()
    if dot is None:
        return None  # not cached: installing Graphviz makes the next display draw
    try:
        proc = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                              timeout=options.dot_timeout_s, check=False)
        ok = proc.returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    svg = _CLEAN.sub("", proc.stdout.decode("utf-8", "replace")).strip() if ok else None
    _svg_cache[source] = svg
    while len(_svg_cache) > 32:
        _svg_cache.popitem(last=False)
    return svg


# -- the view ---------------------------------------------------------------------------------------------
class GraphView:
    """A displayable picture of a Graph, a part of one (`ops`), or a GraphDef."""

    def __init__(self, source, ops=None, fed=(), max_nodes: int | None = None, collapse=(), expand=(),
                 title: str | None = None) -> None:
        self.source = source
        if isinstance(source, tf.GraphDef):
            self.nodes = nodes_from_graph_def(source)
            self.title = title or "GraphDef"
        else:
            self.nodes = nodes_from_graph(source, ops, fed)
            self.title = title or ("Graph" if ops is None else "Subgraph")
        self.max_nodes = options.max_graph_nodes if max_nodes is None else max_nodes
        self.collapse = tuple(c.rstrip("/") for c in _names_arg("collapse", collapse))
        self.expand = tuple(e.rstrip("/") for e in _names_arg("expand", expand))
        check_scopes(self.nodes, collapse=self.collapse, expand=self.expand)

    @functools.cached_property
    def plan(self) -> Plan:
        return plan_units(self.nodes, self.max_nodes, self.collapse, self.expand)

    @functools.cached_property
    def hierarchy(self) -> graph_model.Hierarchy:
        return graph_model.build(self.nodes)

    def interactive_html(self) -> Html:
        """The interactive view: a container, the hierarchy as JSON and the script that draws it; a note
        shows in its place where scripts do not run."""
        h = self.hierarchy
        opened = graph_model.initial_expansion(h, self.max_nodes, self.expand, self.collapse)
        data = graph_model.to_json(self.nodes, h, opened, {t: k.label for t, k in KINDS.items()})
        # from names only: the data holds creation sites, whose cell numbers vary between runs of a notebook
        ident = element_id("graph", "\0".join([self.title, str(len(self.nodes))] + [n.name for n in self.nodes[:64]]))
        note = tag("div", "The interactive view needs JavaScript: trust the notebook (or open the exported HTML "
                          "in a browser) to pan, zoom, expand name scopes and search; the op listing is below.",
                   class_="tfx-note tfx-gv-nojs")
        return Html(f'<div class="tfx-gv" id="{ident}">{note}<div class="tfx-picture tfx-graph"></div>'
                    f'<script type="application/json" data-tfx="graph-data">{data}</script>'
                    f'<script data-tfx="graph">{graph_script()}(document.currentScript || '
                    f'document.querySelector("#{ident} > script[data-tfx=graph]"));</script></div>')

    @functools.cached_property
    def dot(self) -> str:
        return dot_source(self.nodes, plan=self.plan)

    def svg(self) -> str | None:
        return render_svg(self.dot) if self.nodes else None

    def summary(self) -> str:
        plan = self.plan
        scopes = "" if plan.scopes is None else f", {plan.scopes} name scopes"
        text = f"{self.title}: {len(self.nodes)} ops{scopes}"
        if plan.drawn_units < len(self.nodes):
            how = [w for w, on in (("scopes collapsed", plan.collapsed),
                                   ("ops grouped by name or type", plan.grouped)) if on]
            limit = f"max_nodes={plan.max_nodes}" + (f" to fit the time budget (asked {plan.asked})"
                                                    if plan.max_nodes < plan.asked else "")
            text += f"; {plan.drawn_units} nodes drawn ({', '.join(how + [limit])})"
        if plan.hidden_ops:
            text += (f"; {plan.hidden_ops} ops not drawn (only the first {plan.drawn_units} nodes fit): "
                     "pass collapse=[scopes] or draw a part with ipython_ext.show_graph(graph, max_nodes=N)")
        if plan.note:
            text += f"; {plan.note}"
        return text

    def listing_rows(self) -> list[list[str]]:
        return [
            [n.name + (f" [{n.note}]" if n.note else ""), n.op_type,
             ", ".join(f"{s}:{i}" for s, i in n.inputs) + "".join(f" ^{c}" for c in n.control_inputs),
             "; ".join(o for o in n.outputs if o)]
            for n in self.nodes[: options.max_listing_rows]
        ]

    def text(self) -> str:
        lines = [self.summary()]
        for name, op_type, ins, outs in self.listing_rows()[:40]:
            lines.append(f"  {name} = {op_type}({ins})" + (f" -> {outs}" if outs else ""))
        if len(self.nodes) > 40:
            lines.append(f"  ... {len(self.nodes) - 40} more ops")
        return "\n".join(lines)

    def listing_html(self) -> Html:
        body = table(["op", "type", "inputs", "outputs"], self.listing_rows())
        hidden = len(self.nodes) - options.max_listing_rows
        if hidden > 0:
            body += tag("div", f"... {hidden} more ops", class_="tfx-note")
        return body

    def html(self) -> Html:
        return page(self.body(), self.text(), kind=self.title)

    def body(self) -> Html:
        """The display without its page wrapper, for embedding in other displays."""
        scopes = len(self.hierarchy.scope_groups())
        parts = [tag("div", f"{self.title}: {len(self.nodes)} ops, {scopes} name scopes", class_="tfx-head")]
        if self.nodes:
            parts.append(self.interactive_html())
            parts.append(tag("div", "click a box to open or close it · drag to pan · wheel, +/− or the buttons to "
                                    "zoom · / to search · stacked box: a series of alike scopes · boxes on the "
                                    "right: auxiliary parts (gradients, optimizer, init, save), joined by stubs",
                             class_="tfx-note"))
            parts.append(section(f"Operations ({len(self.nodes)})", self.listing_html(),
                                 key=f"{self.title}\0{len(self.nodes)}\0{self.nodes[0].name}"))
            if self.svg() is None:  # the static picture other front ends show is missing: say why
                if find_dot() is not None:
                    parts.append(tag("div", self._timeout_note(), class_="tfx-note"))
                parts.append(tag("div", INSTALL_GRAPHVIZ + " (the static picture for front ends without HTML)",
                                 class_="tfx-note"))
        parts.append(self._collections_html())
        return Html("".join(parts))

    def _timeout_note(self) -> str:
        return (f"Graphviz could not draw this picture within {options.dot_timeout_s:g} s (or failed); the listing "
                f"shows the ops instead. Draw fewer nodes with ipython_ext.show_graph(graph, max_nodes="
                f"{max(MIN_NODES, self.plan.max_nodes // 2)}), collapse=[scopes] or expand=[a scope], or raise "
                "ipython_ext.options.dot_timeout_s.")

    def _collections_html(self) -> Html:
        if isinstance(self.source, tf.GraphDef) or not hasattr(self.source, "get_all_collection_keys"):
            return Html("")
        keys = sorted(self.source.get_all_collection_keys())
        if not keys:
            return Html("")
        rows = []
        for k in keys:
            items = self.source.get_collection(k)
            rows.append([k, str(len(items)), truncate(", ".join(_item_text(i) for i in items[:8]), 300)])
        return section(f"Collections ({len(keys)})", table(["collection", "items", "first items"], rows, [1]),
                       key=repr(keys))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": self.text(), "text/html": self.html()}
        svg = self.svg()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


_OWN_SCRIPT = re.compile(r'<script( type="application/json")? data-tfx="graph(-data)?">.*?</script>', re.S)


def without_view_scripts(markup: str) -> str:
    """`markup` without the interactive view's own two script elements (for checks that no other script is
    there: every name reaches the page as JSON text inside the data script, never as markup)."""
    return _OWN_SCRIPT.sub("", markup)


@functools.lru_cache(maxsize=1)
def graph_script() -> str:
    return resources.files("ipython_ext").joinpath("graph_view.js").read_text(encoding="utf-8")


def _names_arg(what: str, names) -> tuple[str, ...]:
    if isinstance(names, str):
        raise TypeError(f"GraphView: {what}= takes a list of name scopes, not the string {names!r}")
    return tuple(names)


def check_scopes(nodes: list[Node], collapse=(), expand=()) -> None:
    """Raises ValueError naming every scope in `collapse` / `expand` that no op of the view sits in."""
    wanted = set(collapse) | set(expand)
    if not wanted:
        return
    found = set()
    for n in nodes:
        parts = n.name.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            found.add("/".join(parts[:k]))
    problems = [f"{what}={[s for s in names if s not in found]}" for what, names in
                (("collapse", collapse), ("expand", expand)) if any(s not in found for s in names)]
    if problems:
        tops = sorted({n.name.split("/")[0] for n in nodes if "/" in n.name})
        shown = ", ".join(tops[:20]) + (", …" if len(tops) > 20 else "")
        raise ValueError(f"GraphView: unknown name scopes in {' and '.join(problems)}; the graph's top-level "
                         f"scopes are: {shown or '(none)'}")


def _item_text(item) -> str:
    name = getattr(item, "name", None)
    return name if isinstance(name, str) else repr(item)


# One view per displayed object and version, shared by the text, HTML and SVG formatters (IPython calls
# each of them for one display), so records, plan and picture are made once.
_view_cache: OrderedDict[tuple, tuple[object, GraphView]] = OrderedDict()


def _view_key(obj) -> tuple:
    settings = (options.max_graph_nodes, options.dot_timeout_s)
    if isinstance(obj, tf.GraphDef):
        return ("GraphDef", hashlib.sha1(obj.SerializeToString(deterministic=True)).hexdigest(), *settings)
    return ("Graph", id(obj), obj.version, *settings)


def view_of(obj) -> GraphView:
    """The cached GraphView of a Graph (same object, same version) or a GraphDef (same content)."""
    key = _view_key(obj)
    hit = _view_cache.get(key)
    if hit is not None and (isinstance(obj, tf.GraphDef) or hit[0]() is obj):
        _view_cache.move_to_end(key)
        return hit[1]
    view = GraphView(obj)
    _view_cache[key] = (weakref.ref(obj) if not isinstance(obj, tf.GraphDef) else None, view)
    while len(_view_cache) > 8:
        _view_cache.popitem(last=False)
    return view


def graph_text(obj) -> str:
    return view_of(obj).text()


def graph_html(obj) -> str:
    return view_of(obj).html()


def graph_svg(obj) -> str | None:
    return view_of(obj).svg()
