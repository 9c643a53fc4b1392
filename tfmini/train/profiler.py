"""`tf.profiler`: TF1's model analyzer (tfprof) over a tfmini graph: parameter counts of variables, float
operations from op shapes (TF's registered flops of MatMul, Conv2D, pooling, reductions and elementwise ops),
and time and memory from the RunMetadata of traced runs; returned as TF's GraphNodeProto / MultiGraphNodeProto
and printed as tfprof's tables. It reads graphs and RunMetadata only: it runs no session.
"""

from __future__ import annotations

import copy
import linecache
import math
import os
import re
import sys
from collections.abc import Callable

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import GraphKeys
from tfmini.protobuf import tensor_shape_pb2, tfprof_log_pb2, tfprof_output_pb2

TRAINABLE_VARIABLES = "_trainable_variables"
_ROOT = "_TFProfRoot"
_VARIABLE_TYPES = ("Variable", "VariableV2", "VarHandleOp")


# ----------------------------------------------------------------------------------------------------------
# Options
# ----------------------------------------------------------------------------------------------------------
def _options(**overrides) -> dict:
    options = {"max_depth": 100, "min_bytes": 0, "min_micros": 0, "min_params": 0, "min_float_ops": 0,
               "min_occurrence": 0, "order_by": "name", "account_type_regexes": [".*"],
               "start_name_regexes": [".*"], "trim_name_regexes": [], "show_name_regexes": [".*"],
               "hide_name_regexes": [], "account_displayed_op_only": False, "select": ["micros"], "step": -1,
               "output": "stdout"}
    options.update(overrides)
    return options


@tf_export("profiler.ProfileOptionBuilder")
class ProfileOptionBuilder:
    """Builds the options dict of `tf.profiler.profile` / `Profiler.profile_*`: start from one of the
    presets (or the defaults), adjust with the `with_*` methods, then `build()`."""

    def __init__(self, options: dict | None = None) -> None:
        self._options = copy.deepcopy(options) if options is not None else _options()

    @staticmethod
    def trainable_variables_parameter() -> dict:
        """The parameters of the trainable variables, by name scope."""
        return _options(max_depth=10000, account_type_regexes=[TRAINABLE_VARIABLES],
                        account_displayed_op_only=True, select=["params"])

    @staticmethod
    def float_operation() -> dict:
        """The float operations of the ops with registered counts (the op must have known shapes)."""
        return _options(max_depth=10000, min_float_ops=1, order_by="float_ops", account_displayed_op_only=True,
                        select=["float_ops"])

    @staticmethod
    def time_and_memory(min_micros=1, min_bytes=1, min_accelerator_micros=0, min_cpu_micros=0, min_peak_bytes=0,
                        min_residual_bytes=0, min_output_bytes=0) -> dict:
        """Execution time and memory of the ops recorded in traced runs' RunMetadata."""
        return _options(max_depth=10000, min_bytes=min_bytes, min_peak_bytes=min_peak_bytes,
                        min_residual_bytes=min_residual_bytes, min_output_bytes=min_output_bytes,
                        min_micros=min_micros, min_accelerator_micros=min_accelerator_micros,
                        min_cpu_micros=min_cpu_micros, order_by="micros", account_displayed_op_only=True,
                        select=["micros", "bytes"])

    def build(self) -> dict:
        return copy.deepcopy(self._options)

    def with_max_depth(self, max_depth: int) -> ProfileOptionBuilder:
        self._options["max_depth"] = max_depth
        return self

    def with_min_memory(self, min_bytes=0, min_peak_bytes=0, min_residual_bytes=0,
                        min_output_bytes=0) -> ProfileOptionBuilder:
        self._options.update(min_bytes=min_bytes, min_peak_bytes=min_peak_bytes,
                             min_residual_bytes=min_residual_bytes, min_output_bytes=min_output_bytes)
        return self

    def with_min_execution_time(self, min_micros=0, min_accelerator_micros=0,
                                min_cpu_micros=0) -> ProfileOptionBuilder:
        self._options.update(min_micros=min_micros, min_accelerator_micros=min_accelerator_micros,
                             min_cpu_micros=min_cpu_micros)
        return self

    def with_min_parameters(self, min_params: int) -> ProfileOptionBuilder:
        self._options["min_params"] = min_params
        return self

    def with_min_occurrence(self, min_occurrence: int) -> ProfileOptionBuilder:
        self._options["min_occurrence"] = min_occurrence
        return self

    def with_min_float_operations(self, min_float_ops: int) -> ProfileOptionBuilder:
        self._options["min_float_ops"] = min_float_ops
        return self

    def with_accounted_types(self, account_type_regexes) -> ProfileOptionBuilder:
        self._options["account_type_regexes"] = copy.copy(account_type_regexes)
        return self

    def with_node_names(self, start_name_regexes=None, show_name_regexes=None, hide_name_regexes=None,
                        trim_name_regexes=None) -> ProfileOptionBuilder:
        for key, value in (("start_name_regexes", start_name_regexes), ("show_name_regexes", show_name_regexes),
                           ("hide_name_regexes", hide_name_regexes), ("trim_name_regexes", trim_name_regexes)):
            if value is not None:
                self._options[key] = copy.copy(value)
        return self

    def account_displayed_op_only(self, is_true: bool) -> ProfileOptionBuilder:
        self._options["account_displayed_op_only"] = is_true
        return self

    def with_empty_output(self) -> ProfileOptionBuilder:
        self._options["output"] = "none"
        return self

    def with_stdout_output(self) -> ProfileOptionBuilder:
        self._options["output"] = "stdout"
        return self

    def with_file_output(self, outfile: str) -> ProfileOptionBuilder:
        self._options["output"] = "file:outfile=" + outfile
        return self

    def with_timeline_output(self, timeline_file: str) -> ProfileOptionBuilder:
        self._options["output"] = "timeline:outfile=" + timeline_file
        return self

    def with_pprof_output(self, pprof_file: str) -> ProfileOptionBuilder:
        self._options["output"] = "pprof:outfile=" + pprof_file
        return self

    def order_by(self, attribute: str) -> ProfileOptionBuilder:
        self._options["order_by"] = attribute
        return self

    def select(self, attributes) -> ProfileOptionBuilder:
        self._options["select"] = copy.copy(attributes)
        return self

    def with_step(self, step: int) -> ProfileOptionBuilder:
        self._options["step"] = step
        return self


# ----------------------------------------------------------------------------------------------------------
# Float operations from static shapes (TF's registered "flops" statistics)
# ----------------------------------------------------------------------------------------------------------
def _elements(shape) -> int | None:
    dims = shape.as_list() if shape.ndims is not None else None
    if dims is None or any(d is None for d in dims):
        return None
    return math.prod(dims)


def _output_elements(op) -> int | None:
    return _elements(op.outputs[0].shape)


def _reduction(reduce_flops: int, finalize_flops: int) -> Callable:
    def flops(op):
        n_in, n_out = _elements(op.inputs[0].shape), _output_elements(op)
        if n_in is None or n_out is None:
            return None
        return n_in * reduce_flops + n_out * (finalize_flops - reduce_flops)

    return flops


def _matmul_flops(op):
    a = op.inputs[0].shape
    if a.ndims is None:
        return None
    k = a.as_list()[-2 if op.get_attr("transpose_a") else -1]
    n_out = _output_elements(op)
    return None if k is None or n_out is None else 2 * k * n_out


def _conv2d_flops(op):
    filter_shape = op.inputs[1].shape.as_list() if op.inputs[1].shape.ndims == 4 else None
    n_out = _output_elements(op)
    if filter_shape is None or None in filter_shape or n_out is None:
        return None
    height, width, in_depth = filter_shape[:3]
    return 2 * n_out * in_depth * height * width


def _pool_flops(op):
    ksize = op.get_attr("ksize")
    n_out = _output_elements(op)
    return None if n_out is None else math.prod(ksize) * n_out


_UNARY = ("Reciprocal", "Square", "Rsqrt", "Log", "Neg", "AssignSub", "AssignAdd", "Sqrt", "Exp")
_BINARY = ("Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Pow", "RsqrtGrad", "GreaterEqual",
           "Greater", "LessEqual", "Less", "Equal", "NotEqual", "SquaredDifference", "BiasAdd")
_FLOPS: dict[str, Callable] = {
    **dict.fromkeys(_UNARY + _BINARY, _output_elements),
    "MatMul": _matmul_flops,
    "Conv2D": _conv2d_flops,
    "MaxPool": _pool_flops,
    "AvgPool": _pool_flops,
    "Mean": _reduction(1, 1),
    "Sum": _reduction(1, 0),
    "ArgMax": _reduction(1, 0),
    "ArgMin": _reduction(1, 0),
    "L2Loss": lambda op: None if (n := _elements(op.inputs[0].shape)) is None else 3 * n,
    "Softmax": lambda op: None if (n := _output_elements(op)) is None else 5 * n,
}


def _float_ops(op) -> int:
    count = _FLOPS.get(op.type)
    if count is None or not op.outputs:
        return 0
    return int(count(op) or 0)


# ----------------------------------------------------------------------------------------------------------
# Op logs: extra types and float-op counts per op
# ----------------------------------------------------------------------------------------------------------
def _merged_op_log(graph, op_log) -> dict[str, tuple[set, int]]:
    """name -> (extra types, float ops): the trainable variables' type, the registered float-op counts,
    and what `op_log` (an OpLogProto) adds (its types added, its positive float-op counts replacing)."""
    entries: dict[str, tuple[set, int]] = {}
    for op in graph.get_operations():
        entries[op.name] = (set(), _float_ops(op))
    for v in graph.get_collection(GraphKeys.TRAINABLE_VARIABLES):
        if v.op.name in entries:
            entries[v.op.name][0].add(TRAINABLE_VARIABLES)
    if op_log is not None:
        for entry in op_log.log_entries:
            types, flops = entries.get(entry.name, (set(), 0))
            entries[entry.name] = (types | set(entry.types), entry.float_ops if entry.float_ops > 0 else flops)
    return entries


def _op_log_proto(graph, op_log=None) -> tfprof_log_pb2.OpLogProto:
    out = tfprof_log_pb2.OpLogProto()
    for name, (types, flops) in sorted(_merged_op_log(graph, op_log).items()):
        if types or flops:
            out.log_entries.add(name=name, float_ops=flops, types=sorted(types))
    return out


@tf_export("profiler.write_op_log")
def write_op_log(graph, log_dir, op_log=None, run_meta=None, add_trace: bool = True) -> None:
    """Writes `log_dir`/tfprof_log.pb: the OpLogProto of `graph` (the trainable variables' extra type and each
    op's float-op count) merged with `op_log`. `run_meta` and `add_trace` are accepted; code traces are not
    written."""
    if not isinstance(graph, _ops.Graph):
        raise TypeError(f"graph must be a Graph, got {type(graph).__name__}")
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "tfprof_log.pb"), "wb") as f:
        f.write(_op_log_proto(graph, op_log).SerializeToString())


# ----------------------------------------------------------------------------------------------------------
# The profiler's nodes and their statistics
# ----------------------------------------------------------------------------------------------------------
_STATS = ("run_count", "exec_micros", "accelerator_exec_micros", "cpu_exec_micros", "requested_bytes", "peak_bytes",
          "residual_bytes", "output_bytes")
# select name -> (GraphNodeProto field, header, unit formatter)
_SELECT = {
    "bytes": ("requested_bytes", "requested bytes", lambda v: _format_memory(v)),
    "peak_bytes": ("peak_bytes", "peak bytes", lambda v: _format_memory(v)),
    "residual_bytes": ("residual_bytes", "residual bytes", lambda v: _format_memory(v)),
    "output_bytes": ("output_bytes", "output bytes", lambda v: _format_memory(v)),
    "micros": ("exec_micros", "total execution time", lambda v: _format_time(v)),
    "accelerator_micros": ("accelerator_exec_micros", "accelerator execution time", lambda v: _format_time(v)),
    "cpu_micros": ("cpu_exec_micros", "cpu execution time", lambda v: _format_time(v)),
    "params": ("parameters", "# parameters", lambda v: f"{_format_number(v)} params"),
    "float_ops": ("float_ops", "# float_ops", lambda v: f"{_format_number(v)} flops"),
    "occurrence": ("run_count", "# occurrence", lambda v: f"{v}"),
}
_ORDER_BY = {"name": None, "bytes": "requested_bytes", "peak_bytes": "peak_bytes",
             "residual_bytes": "residual_bytes", "output_bytes": "output_bytes", "micros": "exec_micros",
             "accelerator_micros": "accelerator_exec_micros", "cpu_micros": "cpu_exec_micros",
             "params": "parameters", "float_ops": "float_ops", "occurrence": "run_count"}
_MIN_OPTIONS = {"min_bytes": "requested_bytes", "min_peak_bytes": "peak_bytes",
                "min_residual_bytes": "residual_bytes", "min_output_bytes": "output_bytes",
                "min_micros": "exec_micros", "min_accelerator_micros": "accelerator_exec_micros",
                "min_cpu_micros": "cpu_exec_micros", "min_params": "parameters", "min_float_ops": "float_ops",
                "min_occurrence": "run_count"}


def _format_number(n: int) -> str:
    if n < 1000:
        return f"{n}"
    if n < 1000000:
        return f"{n / 1000:.2f}k"
    if n < 1000000000:
        return f"{n / 1000000:.2f}m"
    return f"{n / 1000000000:.2f}b"


def _format_memory(n: int) -> str:
    if n > 1000000:
        return f"{n / 1000000:.2f}MB"
    if n > 1000:
        return f"{n / 1000:.2f}KB"
    return f"{n}B"


def _format_time(micros: int) -> str:
    if micros > 1000000:
        return f"{micros / 1000000:.2f}sec"
    if micros > 1000:
        return f"{micros / 1000:.2f}ms"
    return f"{micros}us"


def _shape_proto(shape) -> tensor_shape_pb2.TensorShapeProto:
    """tfprof's shapes: a scalar is shown as [1], an unknown dimension as -1."""
    out = tensor_shape_pb2.TensorShapeProto()
    dims = shape.as_list() if shape.ndims is not None else []
    for d in dims or ([1] if shape.ndims == 0 else []):
        out.dim.add(size=-1 if d is None else d)
    return out


class _Node:
    """One graph op (or, in the scope view, a name scope without an op) and what the profiler knows of it."""

    def __init__(self, name: str, op=None, types=(), float_ops: int = 0) -> None:
        self.name = name
        self.op = op
        self.types = set(types) | ({op.type} if op is not None else set())
        self.float_ops = float_ops
        self.parameters = 0
        if op is not None and op.type in _VARIABLE_TYPES:
            shape = op.get_attr("shape") if op.type == "VarHandleOp" else op.outputs[0].shape
            self.parameters = _elements(_as_shape(shape)) or 0
        self.steps: dict[int, dict[str, int]] = {}
        self.devices: set[str] = set()

    def stats(self, step: int) -> dict[str, int]:
        """The run statistics of `step`, or their mean over the steps it ran in (step -1)."""
        if step >= 0:
            return self.steps.get(step, {})
        if not self.steps:
            return {}
        n = len(self.steps)
        return {k: sum(s.get(k, 0) for s in self.steps.values()) // n for k in _STATS}


def _as_shape(shape):
    from_list = getattr(shape, "as_list", None)
    if from_list is not None:
        return shape
    return _shape.TensorShape(shape)


def _regex_match(patterns, text: str) -> bool:
    return any(re.fullmatch(p, text) for p in patterns)


@tf_export("profiler.Profiler")
class Profiler:
    """Profiles a graph over the steps added with `add_step(step, run_meta)`:

        profiler = tf.profiler.Profiler(sess.graph)
        run_meta = tf.RunMetadata()
        sess.run(train_op, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_meta)
        profiler.add_step(0, run_meta)
        profiler.profile_name_scope(tf.profiler.ProfileOptionBuilder.time_and_memory())
    """

    def __init__(self, graph=None, op_log=None) -> None:
        if graph is None:
            graph = _ops.get_default_graph()
        self._graph = graph
        self._nodes: dict[str, _Node] = {}
        for name, (types, flops) in _merged_op_log(graph, op_log).items():
            try:
                op = graph.get_operation_by_name(name)
            except KeyError:
                continue
            self._nodes[name] = _Node(name, op, types, flops)
        self._steps: list[int] = []

    def add_step(self, step: int, run_meta) -> None:
        """Adds the timings and memory of one traced run (a RunMetadata with step_stats) as step `step`."""
        if step not in self._steps:
            self._steps.append(step)
        for dev in run_meta.step_stats.dev_stats:
            for ns in dev.node_stats:
                node = self._nodes.get(ns.node_name.split(":")[0])
                if node is None:
                    continue
                outputs = sum(o.tensor_description.allocation_description.requested_bytes for o in ns.output)
                requested = sum(m.total_bytes for m in ns.memory) or outputs
                peak = max([m.peak_bytes for m in ns.memory] + [requested])
                residual = sum(m.live_bytes for m in ns.memory)
                micros = max(ns.all_end_rel_micros, ns.op_end_rel_micros - ns.op_start_rel_micros, 0)
                s = node.steps.setdefault(step, dict.fromkeys(_STATS, 0))
                s["run_count"] += 1
                s["exec_micros"] += micros
                s["cpu_exec_micros"] += micros
                s["requested_bytes"] += requested
                s["peak_bytes"] = max(s["peak_bytes"], peak)
                s["residual_bytes"] += residual
                s["output_bytes"] += outputs
                node.devices.add(dev.device)

    # -- views -------------------------------------------------------------------------------------------
    def profile_name_scope(self, options: dict) -> tfprof_output_pb2.GraphNodeProto:
        """The nodes by name scope (a tree like a file system), with their own and total statistics."""
        children: dict[str, list[str]] = {_ROOT: []}
        nodes = dict(self._nodes)
        for name in sorted(self._nodes):
            parts = name.split("/")
            for i in range(1, len(parts) + 1):
                path = "/".join(parts[:i])
                if path in children:
                    continue
                children[path] = []
                children["/".join(parts[:i - 1]) if i > 1 else _ROOT].append(path)
                nodes.setdefault(path, _Node(path))
        return self._show_tree("scope", nodes, children, options)

    def profile_graph(self, options: dict) -> tfprof_output_pb2.GraphNodeProto:
        """The nodes by data flow: the root holds the ops no other op consumes, each node its inputs' ops
        (each op shown once, at its first place)."""
        consumed = {t.op.name for op in self._graph.get_operations() for t in op.inputs}
        children: dict[str, list[str]] = {_ROOT: []}
        placed: set[str] = set()

        def place(name: str, parent: str) -> None:
            if name in placed or name not in self._nodes:
                return
            placed.add(name)
            children[parent].append(name)
            children[name] = []
            for t in self._nodes[name].op.inputs:
                place(t.op.name, name)

        for name in sorted(self._nodes):
            if name not in consumed:
                place(name, _ROOT)
        return self._show_tree("graph", dict(self._nodes), children, options)

    def profile_operations(self, options: dict) -> tfprof_output_pb2.MultiGraphNodeProto:
        """The nodes grouped by op type (and the extra types of the op log)."""
        options = _options(**options)
        groups: dict[str, list[_Node]] = {}
        for node in self._nodes.values():
            for t in node.types:
                if _regex_match(options["account_type_regexes"], t):
                    groups.setdefault(t, []).append(node)
        rows = self._group_rows(groups, options)
        root = tfprof_output_pb2.MultiGraphNodeProto(name=_ROOT)
        # As tfprof does, each group holds the next as its child, and totals run to the end of the list.
        parent = root
        for group in rows:
            parent.children.append(group)
            parent = parent.children[-1]
        self._multi_totals(root)
        self._emit(options, "op", self._op_table(root, rows, options))
        return root

    def profile_python(self, options: dict) -> tfprof_output_pb2.MultiGraphNodeProto:
        """The nodes grouped by the line of Python code that created them ('file:line:function:source';
        tfmini records one frame per op, the user's, so the groups are the root's children)."""
        options = _options(**options)
        groups: dict[str, list[_Node]] = {}
        for node in self._nodes.values():
            if any(_regex_match(options["account_type_regexes"], t) for t in node.types):
                file, line, function = node.op.traceback
                source = linecache.getline(file, line).strip()
                groups.setdefault(f"{os.path.basename(file)}:{line}:{function}:{source}", []).append(node)
        rows = self._group_rows(groups, options)
        root = tfprof_output_pb2.MultiGraphNodeProto(name=_ROOT)
        root.children.extend(rows)
        self._multi_totals(root)
        self._emit(options, "code", self._op_table(root, rows, options))
        return root

    def _group_rows(self, groups: dict[str, list[_Node]], options: dict) -> list:
        """A MultiGraphNodeProto per group shown, with its shown nodes, in the options' order."""
        step = options["step"]
        rows = []
        for group_name, members in groups.items():
            if not self._name_shown(group_name, options):
                continue
            protos = [self._own_proto(n, step, True) for n in sorted(members, key=lambda n: n.name)]
            for p in protos:
                self._set_totals(p, [])
            if options["account_displayed_op_only"]:
                protos = [p for p in protos if self._passes_minimums(p, options)]
            group = tfprof_output_pb2.MultiGraphNodeProto(name=group_name)
            for field in ("exec_micros", "accelerator_exec_micros", "cpu_exec_micros", "requested_bytes",
                          "peak_bytes", "residual_bytes", "output_bytes", "parameters", "float_ops"):
                setattr(group, field, sum(getattr(p, field) for p in protos))
            group.graph_nodes.extend(protos)
            if self._passes_minimums(group, options, sum(p.run_count for p in protos)):
                rows.append(group)
        order_field = _ORDER_BY.get(options["order_by"]) or "name"
        return self._sorted(rows, options["order_by"], lambda g: getattr(g, order_field))

    def advise(self, options: dict | None = None) -> tfprof_output_pb2.AdviceProto:
        """The advisor's reports: ExpensiveOperationChecker names the op types taking the most time over the
        steps added; OperationChecker and the others report nothing on the CPU."""
        options = ALL_ADVICE if options is None or options == 0 else options
        advice = tfprof_output_pb2.AdviceProto()
        if "ExpensiveOperationChecker" in options:
            checker = advice.checkers["ExpensiveOperationChecker"]
            totals: dict[str, list[int]] = {}
            for node in self._nodes.values():
                s = node.stats(-1)
                if s.get("run_count"):
                    entry = totals.setdefault(node.op.type, [0, 0])
                    entry[0] += s["exec_micros"]
                    entry[1] += s["run_count"]
            all_micros = sum(m for m, _ in totals.values()) or 1
            for op_type, (micros, count) in sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[:3]:
                checker.reports.append(f"top {op_type}: {count} runs, {_format_time(micros)} per step "
                                       f"({100.0 * micros / all_micros:.2f}% of the time)")
        for name in ("AcceleratorUtilizationChecker", "OperationChecker", "JobChecker"):
            if name in options:
                advice.checkers[name].SetInParent()
        return advice

    # -- building and printing trees ---------------------------------------------------------------------
    def _own_proto(self, node: _Node, step: int, accounted: bool) -> tfprof_output_pb2.GraphNodeProto:
        p = tfprof_output_pb2.GraphNodeProto(name=node.name)
        if accounted:
            p.parameters = node.parameters
            p.float_ops = node.float_ops
            for k, v in node.stats(step).items():
                setattr(p, k, v)
        if node.op is not None:
            p.devices.extend(sorted(node.devices))
            for i, t in enumerate(node.op.inputs):
                p.input_shapes[i].CopyFrom(_shape_proto(t.shape))
        return p

    @staticmethod
    def _set_totals(p, children) -> None:
        for field in ("run_count", "exec_micros", "accelerator_exec_micros", "cpu_exec_micros", "requested_bytes",
                      "peak_bytes", "residual_bytes", "output_bytes", "parameters", "float_ops"):
            setattr(p, "total_" + field, getattr(p, field) + sum(getattr(c, "total_" + field) for c in children))
        p.total_definition_count = 1 + sum(c.total_definition_count for c in children)

    @staticmethod
    def _passes_minimums(p, options: dict, run_count: int | None = None) -> bool:
        """Whether `p`'s own values reach the options' minimums (`run_count` for protos without one)."""
        def value(field):
            return run_count if field == "run_count" and run_count is not None else getattr(p, field)

        return all(value(field) >= options.get(key, 0) for key, field in _MIN_OPTIONS.items())

    @staticmethod
    def _name_shown(name: str, options: dict) -> bool:
        return (_regex_match(options["show_name_regexes"], name)
                and not _regex_match(options["hide_name_regexes"], name))

    @staticmethod
    def _sorted(items: list, order_by: str, key: Callable) -> list:
        if order_by not in _ORDER_BY:
            raise _errors.InvalidArgumentError(None, None, f"Unknown order_by: {order_by}")
        if _ORDER_BY[order_by] is None:
            return sorted(items, key=lambda x: x.name)
        return sorted(items, key=lambda x: (-key(x), x.name))

    def _show_tree(self, view: str, nodes: dict, children: dict, options: dict) -> tfprof_output_pb2.GraphNodeProto:
        options = _options(**options)
        step = options["step"]
        order_field = _ORDER_BY.get(options["order_by"])
        accounted_types = options["account_type_regexes"]

        def build(name: str, depth: int) -> list:
            """The protos shown in place of `name`: its own, or (hidden) those of its shown descendants."""
            node = nodes[name]
            accounted = any(_regex_match(accounted_types, t) for t in node.types)
            below = [p for child in children.get(name, []) for p in build(child, depth + 1)]
            p = self._own_proto(node, step, accounted)
            trimmed = _regex_match(options["trim_name_regexes"], name) if options["trim_name_regexes"] else False
            shown = (not trimmed and depth <= options["max_depth"] and self._name_shown(name, options)
                     and self._passes_minimums(p, options)
                     and (accounted or (node.op is None and bool(below))))
            if not shown:
                if not options["account_displayed_op_only"] and accounted:
                    # Not shown but still accounted: its values reach the totals of the shown ancestor.
                    self._set_totals(p, below)
                    p.ClearField("children")
                    p.name = ""
                    return below + [p]
                return below
            hidden_values = [c for c in below if not c.name]
            shown_children = [c for c in below if c.name]
            self._set_totals(p, shown_children + hidden_values)
            p.total_definition_count -= sum(c.total_definition_count for c in hidden_values)
            key = (lambda c: getattr(c, "total_" + order_field)) if order_field else None
            p.children.extend(self._sorted(shown_children, options["order_by"], key))
            return [p]

        root = self._own_proto(_Node(_ROOT), step, False)
        below = [p for child in children[_ROOT] for p in build(child, 1)]
        hidden_values = [c for c in below if not c.name]
        shown_children = [c for c in below if c.name]
        self._set_totals(root, shown_children + hidden_values)
        root.total_definition_count -= sum(c.total_definition_count for c in hidden_values)
        key = (lambda c: getattr(c, "total_" + order_field)) if order_field else None
        root.children.extend(self._sorted(shown_children, options["order_by"], key))
        self._emit(options, view, self._tree_table(root, nodes, options))
        return root

    def _multi_totals(self, group) -> None:
        for child in group.children:
            self._multi_totals(child)
        for field in ("exec_micros", "accelerator_exec_micros", "cpu_exec_micros", "requested_bytes", "peak_bytes",
                      "residual_bytes", "output_bytes", "parameters", "float_ops"):
            setattr(group, "total_" + field,
                    getattr(group, field) + sum(getattr(c, "total_" + field) for c in group.children))

    def _tree_table(self, root, nodes: dict, options: dict) -> list[str]:
        selects = [s for s in options["select"] if s in _SELECT]
        lines = ["node name | " + " | ".join(_SELECT[s][1] for s in selects)]

        def line(p, depth: int) -> None:
            node = nodes.get(p.name)
            accounted = node is not None and any(_regex_match(options["account_type_regexes"], t)
                                                 for t in node.types)
            values = []
            for s in selects:
                field, _, fmt = _SELECT[s]
                own = fmt(getattr(p, field)).split(" ")[0] if accounted else "--"
                total = fmt(getattr(p, "total_" + field))
                values.append(f"{own}/{total}")
            shape = ""
            if accounted and "params" in selects and node.op is not None and node.op.type in _VARIABLE_TYPES:
                var_shape = node.op.get_attr("shape") if node.op.type == "VarHandleOp" else node.op.outputs[0].shape
                dims = _as_shape(var_shape).as_list() or []
                shape = "x".join(str(d) for d in dims) + ", " if dims else ""
            lines.append("  " * depth + f"{p.name} ({shape}{', '.join(values)})")
            for c in p.children:
                line(c, depth + 1)

        line(root, 0)
        return lines

    @staticmethod
    def _op_table(root, rows: list, options: dict) -> list[str]:
        """One line per op type: each selected value with (its share of the rest of the list, its own share)."""
        selects = [s for s in options["select"] if s in _SELECT]
        lines = ["node name | " + " | ".join(_SELECT[s][1] for s in selects)]
        remaining = {s: getattr(root, "total_" + _SELECT[s][0]) for s in selects}
        for g in rows:
            parts = []
            for s in selects:
                field, _, fmt = _SELECT[s]
                total = getattr(root, "total_" + field) or 1
                own = getattr(g, field)
                parts.append(f"{fmt(own).replace(' flops', ' float_ops')} ({100.0 * remaining[s] / total:.2f}%, "
                             f"{100.0 * own / total:.2f}%)")
                remaining[s] -= own
            value_width = len(parts[0].split(" ")[0])
            lines.append(g.name + " " * max(1, 30 - len(g.name) - value_width) + ", ".join(parts))
        return lines

    @staticmethod
    def _emit(options: dict, view: str, lines: list[str]) -> None:
        output = options.get("output", "stdout")
        if output == "none":
            return
        text = f"\nDoc:\n{view} view, {', '.join(options['select'])}\n\nProfile:\n" + "\n".join(lines) + "\n"
        if output == "stdout":
            sys.stdout.write(text)
        elif output.startswith("file:outfile="):
            with open(output[len("file:outfile="):], "w") as f:
                f.write(text)
        else:
            raise _errors.InvalidArgumentError(None, None, f"Unsupported profiler output: {output} (tfmini writes "
                                                           "'stdout', 'file:outfile=...' or 'none')")


ALL_ADVICE = {"ExpensiveOperationChecker": {}, "AcceleratorUtilizationChecker": {}, "JobChecker": {},
              "OperationChecker": {}}


@tf_export("profiler.profile")
def profile(graph=None, run_meta=None, op_log=None, cmd: str = "scope", options=0):
    """Profiles `graph` (default: the default graph) with the RunMetadata `run_meta` of one traced run:
    `cmd` 'scope' and 'graph' return a GraphNodeProto, 'op' and 'code' a MultiGraphNodeProto. `options` (from
    ProfileOptionBuilder) default to the trainable variables' parameters."""
    if options == 0:
        options = ProfileOptionBuilder.trainable_variables_parameter()
    if graph is None:
        graph = _ops.get_default_graph()
    profiler = Profiler(graph, op_log)
    if run_meta is not None:
        profiler.add_step(0, run_meta)
    views = {"scope": profiler.profile_name_scope, "graph": profiler.profile_graph,
             "op": profiler.profile_operations, "code": profiler.profile_python}
    if cmd not in views:
        raise _errors.InvalidArgumentError(None, None, f"unknown cmd: {cmd}\n")
    return views[cmd](options)


@tf_export("profiler.advise")
def advise(graph=None, run_meta=None, options=0) -> tfprof_output_pb2.AdviceProto:
    """The advisor's reports on `graph` and the traced run `run_meta` (default checkers: ALL_ADVICE)."""
    if not run_meta:
        raise ValueError("run_meta must be provided for advise.")
    profiler = Profiler(graph, None)
    profiler.add_step(0, run_meta)
    return profiler.advise(ALL_ADVICE if options == 0 else options)


GraphNodeProto = tfprof_output_pb2.GraphNodeProto
MultiGraphNodeProto = tfprof_output_pb2.MultiGraphNodeProto
AdviceProto = tfprof_output_pb2.AdviceProto
OpLogProto = tfprof_log_pb2.OpLogProto
tf_export("profiler.GraphNodeProto").export_constant(__name__, "GraphNodeProto")
tf_export("profiler.MultiGraphNodeProto").export_constant(__name__, "MultiGraphNodeProto")
tf_export("profiler.AdviceProto").export_constant(__name__, "AdviceProto")
tf_export("profiler.OpLogProto").export_constant(__name__, "OpLogProto")
