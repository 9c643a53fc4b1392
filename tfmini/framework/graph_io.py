"""GraphDef I/O: Graph <-> GraphDef, with the function library its ops use. Importing only rebuilds ops from
the registry by type name; it never executes code carried in the message. NodeDefs and attr values are
node_def's."""

from __future__ import annotations

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import func_graph
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework.api_export import tf_export
from tfmini.framework.functionalize import functionalize_graph_def, parse_tensor_name
from tfmini.framework.node_def import (
    BUILD_ERRORS,
    MIN_PRODUCER,
    PRODUCER_VERSION,
    attr_value_of,
    check_node_def,
    check_static_dtypes,
    group_inputs,
    node_attrs,
    node_def_of,
    node_error,
    versions_def,
)
from tfmini.protobuf import graph_pb2


def graph_to_graph_def(graph: _ops.Graph, from_version=None, add_shapes: bool = False):
    gd = graph_pb2.GraphDef()
    gd.versions.CopyFrom(versions_def())
    for op in graph.get_operations():
        if from_version is not None and op._id <= from_version:
            continue
        nd = gd.node.add()
        nd.CopyFrom(node_def_of(op))
        if add_shapes:
            nd.attr["_output_shapes"].CopyFrom(attr_value_of("list(shape)", [t.shape for t in op.outputs]))

    exported = [op for op in graph.get_operations() if from_version is None or op._id > from_version]
    for fn in func_graph.functions_used(exported):
        gd.library.function.add().CopyFrom(func_graph.function_def(fn))
    return gd


_ops.register_graph_def_export("as_graph_def", graph_to_graph_def)


# -- import -----------------------------------------------------------------------------------------------
@tf_export("graph_util.import_graph_def", "import_graph_def")
def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None, *, allow_file_access: bool = False) -> list | None:
    """`tf.import_graph_def`: adds the nodes of `graph_def` to the default graph under scope `name`
    (default 'import'); `input_map` replaces named tensors by given Tensors.

    The GraphDef is validated as TensorFlow's importer does (node names, input references, input counts and
    dtypes, attr kinds, Const tensors, cycles, the function library); a bad one raises ValueError naming the
    node, and leaves the graph as it was. TF1 control flow (Switch, Merge, Enter, Exit, NextIteration, LoopCond,
    in the graph or in its library's functions) is rewritten into functional While and If ops first; the Exit
    and Merge names stay fetchable (see framework/functionalize.py). Importing runs nothing. Running an
    imported op that would touch the file system (a PrintV2 to 'file://...', in the graph or in a function
    body it uses) raises PermissionDeniedError unless `allow_file_access=True` (a GraphDef from an untrusted
    source could otherwise write any file)."""
    if not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}.")
    input_map = dict(input_map or {})
    for k, v in input_map.items():
        if not isinstance(k, str):
            raise TypeError(f"input_map keys must be strings, got {k!r}")
        if not isinstance(v, _ops.Tensor):
            raise TypeError(f"input_map values must be Tensors, got {v!r}")
    graph = _ops.get_default_graph()
    graph._check_not_finalized()
    for k, v in input_map.items():
        if v.graph is not graph:
            raise ValueError(f"input_map[{k!r}] = {v} must be from the graph the GraphDef is imported into "
                             "(the default graph).")
    check_versions(graph_def.versions)
    # All or nothing: whatever fails while building (a type mismatch, a shape function refusing a node, an
    # input_map key naming no node) takes out what was added, so a refused GraphDef leaves no half of itself.
    with graph._all_or_nothing():
        scope = "import" if name is None else name
        with graph.name_scope(scope if scope else None) as prefix_scope:
            prefix = prefix_scope
        # TF1 loops and conds (Switch, Merge, Enter, Exit, NextIteration, LoopCond) become functional While and
        # If nodes, once, here: running the imported graph then compiles plain plans.
        graph_def = functionalize_graph_def(graph_def, prefix)
        by_name = _checked_nodes(graph_def.node)
        order = _topological_node_order(graph_def.node, by_name)
        library = func_graph.FunctionLibrary(graph_def.library)
        created = _build_nodes(graph, by_name, order, prefix, input_map, library.importer(allow_file_access))
        _colocate_imported(graph, created)
        if not allow_file_access:
            for op in created.values():
                _registry.deny_file_access(op)
        # A key that maps nothing (no node reads it, and it names no node's output) is most likely a typo: TF
        # refuses it rather than silently mapping nothing. A key no node defines but some node reads is an
        # input the GraphDef leaves unbound (an exported scope's `$unbound_inputs_...`): mapping it is the point.
        read = {f"{node}:{idx}" for nd in graph_def.node for node, idx in
                (parse_tensor_name(i) for i in nd.input if not i.startswith("^"))}
        missing = [f"{node}:{idx}" for node, idx in map(parse_tensor_name, input_map)
                   if f"{node}:{idx}" not in read and (node not in created or idx >= len(created[node].outputs))]
        if missing:
            raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{', '.join(missing)}]")
    if return_elements is None:
        return None
    results = []
    for el in return_elements:
        if ":" in el:
            results.append(_lookup_tensor(el, created, {}, "<return_elements>"))
        else:
            results.append(_lookup_op(el, created, "<return_elements>"))
    return results


def check_versions(versions) -> None:
    """Refuses a GraphDef whose VersionDef rules out this consumer, as TF's importer does: a producer below
    MIN_PRODUCER, a min_consumer above our PRODUCER_VERSION, or our version among its bad_consumers."""
    if versions.producer < MIN_PRODUCER:
        raise ValueError(f"GraphDef producer version {versions.producer} below min producer {MIN_PRODUCER} "
                         f"supported by tfmini (GraphDef version {PRODUCER_VERSION}). Please regenerate your graph.")
    if versions.min_consumer > PRODUCER_VERSION:
        raise ValueError(f"GraphDef min consumer version {versions.min_consumer} above current version "
                         f"{PRODUCER_VERSION} for tfmini. Please upgrade tfmini.")
    if PRODUCER_VERSION in versions.bad_consumers:
        raise ValueError(f"GraphDef disallows consumer version {PRODUCER_VERSION}. Please upgrade tfmini: this "
                         "version is likely buggy.")


def _build_nodes(graph, by_name, order, prefix, input_map, functions) -> dict[str, _ops.Operation]:
    created: dict[str, _ops.Operation] = {}
    for node_name in order:
        nd = by_name[node_name]
        try:
            opdef = _registry.get_op_def(nd.op)
            attrs = node_attrs(nd, opdef, lambda fn_name: functions.get(fn_name, graph))
            data_inputs, control_inputs = [], []
            for inp in nd.input:
                if inp.startswith("^"):
                    control_inputs.append(_lookup_op(inp[1:], created, nd.name))
                else:
                    data_inputs.append(_lookup_tensor(inp, created, input_map, nd.name))
            if "_class" in attrs:
                attrs["_class"] = _imported_groups(attrs["_class"], prefix)
            grouped = group_inputs(opdef, data_inputs, attrs, nd)
            with graph.name_scope(None), graph.device(nd.device or None):
                op = _registry.apply_op(nd.op, grouped, attrs, name=prefix + nd.name,
                                        control_inputs=control_inputs)
            check_static_dtypes(op)
            if not op.inputs and any(t.dtype.base_dtype == _dtypes.variant for t in op.outputs):
                # Its objects did not survive the export (the proto names their types only): fetching it
                # would give None where the exporting graph held a value.
                graph.prevent_fetching(op)
        except BUILD_ERRORS as e:
            raise node_error(e, f"Node '{nd.name}' (op '{nd.op}')", nd.name) from None
        created[nd.name] = op
    return created


def _imported_groups(groups: list, prefix: str) -> list:
    """A NodeDef's colocation groups (`_class`) in the graph it is imported into: each `loc:@name` now under the
    import's prefix, as TF's importer has it."""
    return [_ops.COLOCATION_PREFIX + prefix.encode("utf-8", errors="surrogateescape") +
            g[len(_ops.COLOCATION_PREFIX):] if g.startswith(_ops.COLOCATION_PREFIX) else g for g in groups]


def _colocate_imported(graph: _ops.Graph, created: dict) -> None:
    """Imported ops colocated with other ops of the graph (by `_class`) take the device of the first of those
    that has one, or none, whatever their NodeDef said: TF's importer lets colocation override the device. A
    group naming no op of the graph (the GraphDef was cut from a larger graph, as a partition is) is kept but
    places nothing."""
    for op in created.values():
        names = [g[len(_ops.COLOCATION_PREFIX):].decode("utf-8", errors="surrogateescape")
                 for g in op.colocation_groups()]
        others = [graph._nodes_by_name[name] for name in names if name != op.name and name in graph._nodes_by_name]
        if others:
            op._device = next((o.device for o in others if o.device), "")


def _checked_nodes(nodes) -> dict:
    """The GraphDef's nodes by name, after the checks that need no op built: names valid and unique, op
    types registered, input references well formed with control inputs last."""
    by_name = {}
    for nd in nodes:
        check_node_def(nd)
        if nd.name in by_name:
            raise ValueError(f"Node '{nd.name}' is not unique: the GraphDef has two nodes of that name.")
        by_name[nd.name] = nd
    return by_name


def _topological_node_order(nodes, by_name) -> list[str]:
    deps = {}
    for nd in nodes:
        deps[nd.name] = [parse_tensor_name(i[1:])[0] if i.startswith("^") else parse_tensor_name(i)[0]
                         for i in nd.input]
    order, state = [], {}
    for root in by_name:
        stack = [(root, False)]
        while stack:
            n, done = stack.pop()
            if done:
                state[n] = 2
                order.append(n)
                continue
            if state.get(n) == 2:
                continue
            if state.get(n) == 1:
                raise ValueError(f"GraphDef has a cycle through node '{n}'.")
            state[n] = 1
            stack.append((n, True))
            for d in deps[n]:
                if d not in by_name:
                    continue
                if state.get(d) != 2:
                    stack.append((d, False))
    return order


def _lookup_tensor(inp: str, created, input_map, node_name) -> _ops.Tensor:
    op_name, idx = parse_tensor_name(inp)
    key = f"{op_name}:{idx}"
    if key in input_map:
        return input_map[key]
    if idx == 0 and op_name in input_map:
        return input_map[op_name]
    if op_name not in created:
        raise ValueError(f"Node '{node_name}': Unknown input node '{inp}'")
    outs = created[op_name].outputs
    if idx >= len(outs):
        raise ValueError(f"Node '{node_name}': Connecting to invalid output {idx} of source node {op_name} "
                         f"which has {len(outs)} outputs.")
    return outs[idx]


def _lookup_op(name: str, created, node_name) -> _ops.Operation:
    if name not in created:
        raise ValueError(f"Node '{node_name}': Unknown input node '^{name}'")
    return created[name]
