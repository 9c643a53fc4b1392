"""`FuncGraph`: a sub-graph built from a Python function (a cond branch, a while body), which captures the
outer-graph tensors it uses as extra placeholder inputs. Functional control-flow ops run these sub-graphs.

`GradientFuncGraph` is the gradient of such a body: instead of capturing the forward body's tensors as
inputs, it reads the values they had in the forward run from a *tape* the forward op recorded."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import node_def as _node_def
from tfmini.framework import ops as _ops
from tfmini.framework import registry
from tfmini.protobuf import function_pb2

_names = itertools.count(1)

# Collections a function body shares with its outer graph (the same list object), so variables created or
# looked up while building a body (lifted to the outer graph by init_scope) are the outer graph's. Other
# collections start as a copy, as in TF: what a body adds to them stays in the body.
_SHARED_COLLECTIONS: set = {
    _ops.GraphKeys.GLOBAL_VARIABLES,
    _ops.GraphKeys.LOCAL_VARIABLES,
    _ops.GraphKeys.TRAINABLE_VARIABLES,
}


def share_collection_with_functions(key) -> None:
    """Makes function bodies built from now on share collection `key` with their outer graph (e.g. a
    variable store kept in a collection)."""
    _SHARED_COLLECTIONS.add(key)


def unique_function_name(prefix: str) -> str:
    """A process-wide unique name for a function (names key `GraphDef.library`)."""
    return f"{prefix.replace('/', '_')}_{next(_names)}"


class FuncGraph(_ops.Graph):
    """A graph whose ops may use tensors of its outer graphs; each such tensor is captured once as a
    placeholder (`captures` maps outer tensor -> inner placeholder) and must be fed when the graph runs.

    `inputs` and `outputs` are the function's signature, set by whoever builds the functional op: inputs line
    up with the op's inputs, and every captured placeholder is among them. `control_captures` are outer ops
    the body asked to depend on (`tf.control_dependencies` inside the body): the functional op depends on
    them instead. `recorded` lists the body tensors a gradient needs: the op running this body records their
    values on its tape.
    """

    def __init__(self, name: str, outer_graph: _ops.Graph) -> None:
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.captures: dict[_ops.Tensor, _ops.Tensor] = {}
        self._capture_sources: dict[_ops.Tensor, _ops.Tensor] = {}
        self.inputs: list[_ops.Tensor] = []
        self.outputs: list[_ops.Tensor] = []
        self.control_captures: list[_ops.Operation] = []
        self.recorded: list[_ops.Tensor] = []
        # The name of the FunctionDef this graph was imported from (its own name is made unique), for errors.
        self.imported_from: str | None = None
        self.seed = outer_graph.seed
        self._gradient_override_map = dict(outer_graph._gradient_override_map)
        for key, items in outer_graph._collections.items():
            self._collections[key] = list(items)
        # Ops built in the body are named under the scope the body is built in (e.g. 'cond/mul'), as in TF1.
        self._state().name_stack = outer_graph.get_name_scope()
        for key in _SHARED_COLLECTIONS:
            self._collections[key] = outer_graph.get_collection_ref(key)

    def __repr__(self) -> str:
        return f"<FuncGraph '{self.name}'>"

    @property
    def building_function(self) -> bool:
        return True

    def is_ancestor(self, graph: _ops.Graph) -> bool:
        g = self.outer_graph
        while g is not None:
            if g is graph:
                return True
            g = getattr(g, "outer_graph", None)
        return False

    def capture(self, tensor: _ops.Tensor) -> _ops.Tensor:
        """The inner placeholder standing for outer `tensor` (created on first use)."""
        if tensor.graph is self:
            return tensor
        inner = self.captures.get(tensor)
        if inner is not None:
            return inner
        source = tensor
        if isinstance(self.outer_graph, FuncGraph) and tensor.graph is not self.outer_graph:
            source = self.outer_graph.capture(tensor)
        inner = self._stand_in(tensor, "capture", "Placeholder", [], {"dtype": tensor.dtype, "shape": tensor.shape})
        self.captures[tensor] = inner
        self._capture_sources[tensor] = source
        return inner

    def _stand_in(self, tensor: _ops.Tensor, prefix: str, op_type: str, inputs: list, attrs: dict) -> _ops.Tensor:
        """A top-level op of this graph (outside any scope or control block the body is in) whose output
        stands for outer `tensor`, named after it."""
        with self.as_default(), self.name_scope(None), self.control_dependencies(None):
            return registry.apply_op(
                op_type, inputs, attrs, name=f"{prefix}_{tensor.op.name.replace('/', '_')}_{tensor.value_index}"
            ).outputs[0]

    def capture_source(self, tensor: _ops.Tensor) -> _ops.Tensor:
        """The tensor of the outer graph standing for captured `tensor` (what a functional op must pass in):
        a tensor of an outer-outer graph is first captured by the outer graph."""
        return self._capture_sources[tensor]

    def record(self, tensor: _ops.Tensor) -> int:
        """Asks the op running this body to record `tensor`'s value on its tape; returns its tape index."""
        if tensor.graph is not self:
            raise ValueError(f"Tensor {tensor.name} is not in function {self.name}")
        for i, t in enumerate(self.recorded):
            if t is tensor:
                return i
        self.recorded.append(tensor)
        return len(self.recorded) - 1

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs) -> Iterator[None]:
        """As `Graph.control_dependencies`; outer-graph ops become dependencies of the functional op."""
        if control_inputs is None:
            with super().control_dependencies(None):
                yield
            return
        internal = []
        for c in control_inputs:
            if callable(c) and not isinstance(c, (_ops.Tensor, _ops.Operation)) and not hasattr(c, "_as_graph_element"):
                c = c()
            el = c if isinstance(c, (_ops.Tensor, _ops.Operation)) else c._as_graph_element()
            op = el.op if isinstance(el, _ops.Tensor) else el
            if isinstance(op, _ops.Operation) and op.graph is not self and self.is_ancestor(op.graph):
                if op not in self.control_captures:
                    self.control_captures.append(op)
            else:
                internal.append(el)
        with super().control_dependencies(internal):
            yield


class GradientFuncGraph(FuncGraph):
    """The gradient of a forward body `forward`: its first input `tape` (a variant placeholder) is fed the
    values the forward op recorded, and every forward tensor it uses is read from the tape (`TapeRead`)
    rather than captured, so nothing of the forward body runs again (no repeated side effects, the same
    random draws)."""

    def __init__(self, name: str, forward: FuncGraph) -> None:
        super().__init__(name, forward)
        self.forward = forward
        self.tape_reads: dict[_ops.Tensor, _ops.Tensor] = {}

        with self.as_default():
            self.tape = registry.apply_op(
                "Placeholder", [], {"dtype": _dtypes.variant, "shape": []}, name="tape").outputs[0]
        self.inputs.append(self.tape)

    def capture(self, tensor: _ops.Tensor) -> _ops.Tensor:
        if tensor.graph is self:
            return tensor
        inner = self.tape_reads.get(tensor)
        if inner is not None:
            return inner
        if tensor.graph is not self.forward:
            raise ValueError(
                f"The gradient of function {self.forward.name} uses {tensor.name}, which is not a tensor of it; "
                "only the forward function's own tensors can be read back from its tape."
            )
        index = self.forward.record(tensor)
        inner = self._stand_in(tensor, "read", "TapeRead", [self.tape],
                               {"index": index, "dtype": tensor.dtype.base_dtype, "shape": tensor.shape})
        self.tape_reads[tensor] = inner
        return inner


# ----------------------------------------------------------------------------------------------------------
# Export: FunctionDefs for GraphDef.library
# ----------------------------------------------------------------------------------------------------------
RECORDED_ATTR = "_tfmini_recorded"  # FunctionDef attr: the body tensors its op records on its tape, in order


def _arg_name(name: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not base or not base[0].isalpha():
        base = "arg_" + base
    arg, i = base, 1
    while arg in used:
        arg, i = f"{base}_{i}", i + 1
    used.add(arg)
    return arg


def _output_args(op: _ops.Operation) -> Iterator[tuple[str, int]]:
    """(name, number of tensors) per output arg of `op`, in order."""
    for spec in op.op_def.outputs:
        if spec.type_list_attr:
            yield spec.name, len(op.get_attr(spec.type_list_attr))
        elif spec.number_attr:
            yield spec.name, op.get_attr(spec.number_attr)
        else:
            yield spec.name, 1


def function_tensor_ref(t: _ops.Tensor) -> str:
    """A tensor as a FunctionDef node input names it: `node:output_arg:index`."""
    op = t.op
    pos = t.value_index
    for arg, n in _output_args(op):
        if pos < n:
            return f"{op.name}:{arg}:{pos}"
        pos -= n
    return f"{op.name}:output:{t.value_index}"


def function_def(graph: FuncGraph):
    """`graph` as a FunctionDef: its inputs become input args, its other ops nodes, its outputs the returns."""
    fd = function_pb2.FunctionDef()
    fd.signature.name = graph.name
    arg_of: dict[_ops.Tensor, str] = {}
    input_ops = {t.op for t in graph.inputs}
    used = {op.name for op in graph.get_operations() if op not in input_ops}
    for t in graph.inputs:
        arg = fd.signature.input_arg.add(name=_arg_name(t.op.name, used), type=t.dtype.base_dtype.as_datatype_enum)
        arg_of[t] = arg.name
    for op in graph.get_operations():
        if op in input_ops:
            continue
        nd = fd.node_def.add()
        nd.CopyFrom(_node_def.node_def_of(op))
        del nd.input[:]
        nd.input.extend(arg_of[t] if t in arg_of else function_tensor_ref(t) for t in op.inputs)
        nd.input.extend("^" + c.name for c in op.control_inputs)
    for i, t in enumerate(graph.outputs):
        out = fd.signature.output_arg.add(name=f"output_{i}", type=t.dtype.base_dtype.as_datatype_enum)
        fd.ret[out.name] = arg_of[t] if t in arg_of else function_tensor_ref(t)
    if graph.recorded:
        # Gradient functions read these by position from the tape: keep the order across export/import.
        fd.attr[RECORDED_ATTR].list.s.extend(
            (arg_of[t] if t in arg_of else function_tensor_ref(t)).encode() for t in graph.recorded)
    return fd


def functions_used(operations) -> list[FuncGraph]:
    """The function graphs that `operations` hold in attrs, and those their bodies use, each once."""
    found: dict[FuncGraph, None] = {}
    stack = list(operations)
    while stack:
        op = stack.pop()
        for value in op._attrs.values():
            if isinstance(value, FuncGraph) and value not in found:
                found[value] = None
                stack.extend(value.get_operations())
    return list(found)


# ----------------------------------------------------------------------------------------------------------
# Import: FuncGraphs from GraphDef.library
# ----------------------------------------------------------------------------------------------------------
class FunctionLibrary:
    """The FunctionDefs of a GraphDef's library by name, checked as TF checks a library it adds: names
    unique, every node's name valid and unique in its function (ValueError). Op types are checked only when a
    function is instantiated (`FunctionImporter`), as TF does: a library may hold functions nothing calls
    that use ops tfmini does not have."""

    def __init__(self, library) -> None:
        self.defs: dict = {}
        for fd in library.function:
            name = fd.signature.name
            if not name:
                raise ValueError("The GraphDef's function library holds a function with no name.")
            if name in self.defs:
                raise ValueError(f"The GraphDef's function library defines function '{name}' twice.")
            self.defs[name] = fd
            nodes: set = set()
            for nd in fd.node_def:
                try:
                    _node_def.check_node_def(nd if _op_is_registered(nd.op) else _with_op_type(nd, "NoOp"))
                except ValueError as e:
                    raise ValueError(f"Function '{name}': {e}") from None
                if nd.name in nodes:
                    raise ValueError(f"Function '{name}': node '{nd.name}' is not unique.")
                nodes.add(nd.name)

    def importer(self, allow_file_access: bool) -> FunctionImporter:
        return FunctionImporter(self, allow_file_access)


def _with_op_type(nd, op_type: str):
    """A copy of NodeDef `nd` of another op type: its name and inputs checked apart from its op."""
    out = type(nd)()
    out.CopyFrom(nd)
    out.op = op_type
    return out


def _op_is_registered(op_type: str) -> bool:
    try:
        registry.get_op_def(op_type)
    except KeyError:
        return False
    return True


class FunctionImporter:
    """Builds FuncGraphs from a FunctionLibrary, on demand, each once per outer graph.

    Only registered op types are rebuilt, through the registry, as for the GraphDef's own nodes; without
    `allow_file_access` the body ops are kept from touching files, as the GraphDef's own nodes are."""

    def __init__(self, library: FunctionLibrary, allow_file_access: bool = False) -> None:
        self._defs = library.defs
        self._allow_file_access = allow_file_access
        self._built: dict[tuple[str, int], FuncGraph] = {}
        self._building: list[str] = []

    def get(self, name: str, outer_graph: _ops.Graph) -> FuncGraph:
        key = (name, id(outer_graph))
        graph = self._built.get(key)
        if graph is None:
            fd = self._defs.get(name)
            if fd is None:
                raise ValueError(f"Function '{name}' is not in the GraphDef's library.")
            if name in self._building:
                chain = " -> ".join([*self._building[self._building.index(name):], name])
                raise ValueError(f"Function '{name}' calls itself ({chain}); functions cannot recurse.")
            self._building.append(name)
            try:
                graph = self._built[key] = self._build(fd, outer_graph)
            finally:
                self._building.pop()
        return graph

    def _build(self, fd, outer_graph: _ops.Graph) -> FuncGraph:
        fn_name = fd.signature.name
        graph = FuncGraph(unique_function_name(fn_name), outer_graph)
        graph.imported_from = fn_name
        tensors: dict[str, _ops.Tensor] = {}
        ops_by_name: dict[str, _ops.Operation] = {}

        def tensor(ref: str) -> _ops.Tensor:
            if ref in tensors:
                return tensors[ref]
            node, _, rest = ref.partition(":")
            if node not in ops_by_name:
                raise ValueError(f"unknown input '{ref}'")
            return _output_by_ref(ops_by_name[node], rest)

        def control(ref: str) -> _ops.Operation:
            if ref not in ops_by_name:
                raise ValueError(f"unknown control input '^{ref}'")
            return ops_by_name[ref]

        # As TF instantiates a function: every op type is looked up before any node is built.
        for nd in fd.node_def:
            if not _op_is_registered(nd.op):
                raise ValueError(f"Function '{fn_name}', node '{nd.name}': Op type not registered '{nd.op}'; "
                                 f"the function cannot be instantiated.")
        by_name = {nd.name: nd for nd in fd.node_def}
        with graph.as_default():
            for arg in fd.signature.input_arg:
                try:
                    dtype = _dtypes.as_dtype(arg.type)
                except TypeError:
                    dtype = None
                if dtype is None or dtype.is_ref:
                    raise ValueError(f"Function '{fn_name}': input '{arg.name}' has an invalid type {arg.type}")
                try:
                    t = registry.apply_op("Placeholder", [], {"dtype": dtype}, name=arg.name)
                except ValueError as e:
                    raise ValueError(f"Function '{fn_name}': input '{arg.name}': {e}") from None
                tensors[arg.name] = t.outputs[0]
                graph.inputs.append(t.outputs[0])
            for name in _node_order(fd.node_def, fn_name):
                nd = by_name[name]
                try:
                    opdef = registry.get_op_def(nd.op)
                    attrs = _node_def.node_attrs(nd, opdef, lambda f: self.get(f, graph))
                    data = [tensor(i) for i in nd.input if not i.startswith("^")]
                    controls = [control(i[1:]) for i in nd.input if i.startswith("^")]
                    grouped = _node_def.group_inputs(opdef, data, attrs, nd)
                    op = ops_by_name[nd.name] = registry.apply_op(nd.op, grouped, attrs, name=nd.name,
                                                                  control_inputs=controls)
                    _node_def.check_static_dtypes(op)
                except _node_def.BUILD_ERRORS as e:
                    raise _node_def.node_error(e, f"Function '{fn_name}', node '{nd.name}' (op '{nd.op}')",
                                              nd.name) from None
                if not self._allow_file_access:
                    registry.deny_file_access(op)
        try:
            missing = [arg.name for arg in fd.signature.output_arg if arg.name not in fd.ret]
            if missing:
                raise ValueError(f"outputs {missing} have no return value in 'ret'")
            graph.outputs = [tensor(fd.ret[arg.name]) for arg in fd.signature.output_arg]
            for arg, t in zip(fd.signature.output_arg, graph.outputs):
                if arg.type != t.dtype.base_dtype.as_datatype_enum:
                    raise ValueError(f"output '{arg.name}' is declared {_type_name(arg.type)}, but its return value "
                                     f"'{fd.ret[arg.name]}' is {t.dtype.base_dtype.name}")
            if RECORDED_ATTR in fd.attr:
                graph.recorded = [tensor(ref.decode("utf-8", errors="replace"))
                                  for ref in fd.attr[RECORDED_ATTR].list.s]
        except ValueError as e:
            raise ValueError(f"Function '{fn_name}': {e}") from None
        return graph


def _type_name(enum: int) -> str:
    try:
        return _dtypes.as_dtype(enum).name
    except TypeError:
        return f"DataType enum {enum}"


def _node_order(nodes, fn_name: str) -> list[str]:
    """The FunctionDef's node names, each after the nodes it reads (inputs are `node:arg:i`, `^node` or args)."""
    deps = {nd.name: [i.lstrip("^").partition(":")[0] for i in nd.input] for nd in nodes}
    order: list[str] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done
    for root in deps:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(deps[root]))]
        while stack:
            name, pending = stack[-1]
            for d in pending:
                if d not in deps or state.get(d) == 2:
                    continue
                if state.get(d) == 1:
                    raise ValueError(f"Function '{fn_name}': its body has a cycle through node '{d}'.")
                state[d] = 1
                stack.append((d, iter(deps[d])))
                break
            else:
                stack.pop()
                state[name] = 2
                order.append(name)
    return order


def _output_by_ref(op: _ops.Operation, ref: str) -> _ops.Tensor:
    """The output of `op` that `output_arg:index` (a FunctionDef input's tail) names."""
    arg, _, index = ref.partition(":")
    if index and not (index.isascii() and index.isdigit()):
        raise ValueError(f"input '{op.name}:{ref}' has a malformed output index '{index}'")
    index = int(index) if index else 0
    if not arg:
        if not op.outputs:
            raise ValueError(f"input '{op.name}' refers to an op with no outputs")
        return op.outputs[0]
    pos = 0
    for name, n in _output_args(op):
        if name == arg:
            if index >= n:
                raise ValueError(f"input '{op.name}:{ref}' refers to output {index} of '{arg}', which has {n}")
            return op.outputs[pos + index]
        pos += n
    raise ValueError(f"Op {op.name} has no output '{arg}'")
