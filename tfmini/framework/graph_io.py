"""GraphDef I/O: Operation <-> NodeDef and Graph <-> GraphDef. Importing only rebuilds ops from the
registry by type name; it never executes code carried in the message."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework import tensor_shape as _shape
from tfmini.framework import tensor_util

PRODUCER_VERSION = 27  # the GraphDef version our NodeDefs follow (TF 1.x era semantics)
MIN_CONSUMER = 0


def versions_def():
    from tfmini.protobuf import versions_pb2

    return versions_pb2.VersionDef(producer=PRODUCER_VERSION, min_consumer=MIN_CONSUMER)


# -- attrs ------------------------------------------------------------------------------------------------
def _string_bytes(value) -> bytes:
    # surrogateescape undoes the decoding below, so attr strings that are not UTF-8 round-trip byte for byte.
    return value.encode("utf-8", errors="surrogateescape") if isinstance(value, str) else bytes(value)


def _read_only_array(proto):
    arr = tensor_util.make_ndarray(proto)
    arr.flags.writeable = False  # attrs are shared by every run, as folded constants are
    return arr


# Attr kind -> (the AttrValue field holding it, which ListValue names alike; Python value -> field value;
# field value -> Python value). Message-typed fields (shape, tensor) are copied, the others assigned.
_ATTR_CODECS = {
    "string": ("s", _string_bytes, lambda b: b.decode("utf-8", errors="surrogateescape")),
    "int": ("i", int, int),
    "float": ("f", float, float),
    "bool": ("b", bool, bool),
    "type": ("type", lambda v: _dtypes.as_dtype(v).as_datatype_enum, _dtypes.as_dtype),
    "shape": ("shape", lambda v: _shape.as_shape(v).as_proto(), _shape.TensorShape),
    "tensor": ("tensor", tensor_util.make_tensor_proto, _read_only_array),
}
_MESSAGE_FIELDS = frozenset({"shape", "tensor"})


def _codec(kind: str) -> tuple[bool, tuple]:
    """(is a list kind, the codec of its elements) for a declared attr kind such as 'int' or 'list(shape)'."""
    is_list = kind.startswith("list(")
    codec = _ATTR_CODECS.get(kind[5:-1] if is_list else kind)
    if codec is None:
        raise TypeError(f"Unsupported attr kind {kind}")
    return is_list, codec


def attr_value_of(kind: str, value):
    """Encodes a Python attr value as an AttrValue message according to its declared kind."""
    from tfmini.protobuf import attr_value_pb2

    if kind == "any":
        return _attr_value_guess(value)
    av = attr_value_pb2.AttrValue()
    if kind == "func":
        av.func.name = value if isinstance(value, str) else value.name  # a FuncGraph: its library name
        return av
    is_list, (field, encode, _) = _codec(kind)
    if is_list:
        av.list.SetInParent()
        repeated = getattr(av.list, field)
        for item in value:
            if field in _MESSAGE_FIELDS:
                repeated.add().CopyFrom(encode(item))
            else:
                repeated.append(encode(item))
    elif field in _MESSAGE_FIELDS:
        getattr(av, field).CopyFrom(encode(value))
    else:
        setattr(av, field, encode(value))
    return av


_KINDS_BY_TYPE = (("type", _dtypes.DType), ("shape", _shape.TensorShape), ("bool", bool), ("int", int),
                  ("float", float), ("string", (str, bytes)), ("tensor", np.ndarray))


def _attr_value_guess(value):
    """The AttrValue of an attr no op declares (such as `_gradient_op_type`), its kind told by its type."""
    items = value if isinstance(value, list) else [value]
    for kind, types in _KINDS_BY_TYPE:
        if all(isinstance(v, types) for v in items):
            return attr_value_of(f"list({kind})" if isinstance(value, list) else kind, value)
    raise TypeError(f"Cannot encode attr value {value!r}")


def _undeclared_attr(av):
    """The Python value of an attr no op declares (such as `_gradient_op_type` or `_output_shapes`), its kind
    told by the field the AttrValue sets."""
    field = av.WhichOneof("value")
    if field == "list":
        field = next((f for f, _, _ in _ATTR_CODECS.values() if len(getattr(av.list, f))), "s")
        kind = next(k for k, (f, _, _) in _ATTR_CODECS.items() if f == field)
        return python_attr_of(f"list({kind})", av)
    kind = next((k for k, (f, _, _) in _ATTR_CODECS.items() if f == field), None)
    if kind is None:
        raise ValueError(f"Cannot decode attr value {av}")
    return python_attr_of(kind, av)


def python_attr_of(kind: str, av):
    """Decodes an AttrValue into the Python value ops keep in their attrs."""
    if kind == "func":
        return av.func.name
    is_list, (field, _, decode) = _codec(kind)
    if is_list:
        return [decode(item) for item in getattr(av.list, field)]
    return decode(getattr(av, field))


# -- export -----------------------------------------------------------------------------------------------
def node_def_of(op: _ops.Operation):
    """The NodeDef of `op`: name, op type, inputs ('^name' for control inputs), device and attrs."""
    from tfmini.protobuf import node_def_pb2

    nd = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device)
    nd.input.extend(t._as_node_def_input() for t in op.inputs)
    nd.input.extend("^" + c.name for c in op.control_inputs)
    kinds = op.op_def.attrs
    for k, v in op._attrs.items():
        kind = kinds[k][0] if k in kinds else "any"
        if v is None:
            continue
        nd.attr[k].CopyFrom(attr_value_of(kind, v))
    return nd


def graph_to_graph_def(graph: _ops.Graph, from_version=None, add_shapes: bool = False):
    from tfmini.protobuf import graph_pb2

    gd = graph_pb2.GraphDef()
    gd.versions.CopyFrom(versions_def())
    for op in graph.get_operations():
        if from_version is not None and op._id <= from_version:
            continue
        nd = gd.node.add()
        nd.CopyFrom(node_def_of(op))
        if add_shapes:
            nd.attr["_output_shapes"].CopyFrom(attr_value_of("list(shape)", [t.shape for t in op.outputs]))
    from tfmini.framework import func_graph

    exported = [op for op in graph.get_operations() if from_version is None or op._id > from_version]
    for fn in func_graph.functions_used(exported):
        gd.library.function.add().CopyFrom(func_graph.function_def(fn))
    return gd


# -- import -----------------------------------------------------------------------------------------------
def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None, *, allow_file_access: bool = False) -> list | None:
    """`tf.import_graph_def`: adds the nodes of `graph_def` to the default graph under scope `name`
    (default 'import'); `input_map` replaces named tensors by given Tensors.

    Importing runs nothing. Running an imported op that would touch the file system (a PrintV2 to
    'file://...', in the graph or in a function body it uses) raises PermissionDeniedError unless
    `allow_file_access=True` (a GraphDef from an untrusted source could otherwise write any file)."""
    from tfmini.protobuf import graph_pb2

    if not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}.")
    input_map = dict(input_map or {})
    for k, v in input_map.items():
        if not isinstance(k, str):
            raise TypeError(f"input_map keys must be strings, got {k!r}")
        if not isinstance(v, _ops.Tensor):
            raise TypeError(f"input_map values must be Tensors, got {v!r}")
    graph = _ops.get_default_graph()
    by_name = {nd.name: nd for nd in graph_def.node}
    if len(by_name) != len(graph_def.node):
        raise ValueError("GraphDef has duplicate node names.")
    for nd in graph_def.node:
        try:
            _registry.get_op_def(nd.op)
        except KeyError:
            raise ValueError(f"NodeDef mentions attr or op that is not registered: Op type not registered "
                             f"'{nd.op}' in node '{nd.name}'") from None
    order = _topological_node_order(graph_def.node, by_name)
    created: dict[str, _ops.Operation] = {}
    scope = "import" if name is None else name
    with graph.name_scope(scope if scope else None) as prefix_scope:
        prefix = prefix_scope
    from tfmini.framework import func_graph

    functions = func_graph.FunctionImporter(graph_def.library, allow_file_access=allow_file_access)
    for node_name in order:
        nd = by_name[node_name]
        opdef = _registry.get_op_def(nd.op)
        attrs = {}
        for k, av in nd.attr.items():
            if k.startswith("_"):  # internal attrs (gradient overrides, output shapes) are kept as TF does
                attrs[k] = _undeclared_attr(av)
                continue
            if k not in opdef.attrs:
                raise ValueError(f"NodeDef mentions attr '{k}' not in Op '{nd.op}' (node '{nd.name}').")
            attrs[k] = python_attr_of(opdef.attrs[k][0], av)
            if opdef.attrs[k][0] == "func":
                attrs[k] = functions.get(attrs[k], graph)
        data_inputs, control_inputs = [], []
        for inp in nd.input:
            if inp.startswith("^"):
                control_inputs.append(_lookup_op(inp[1:], created, input_map, nd.name))
            else:
                data_inputs.append(_lookup_tensor(inp, created, input_map, nd.name))
        grouped = _group_inputs(opdef, data_inputs, attrs, nd)
        with graph.name_scope(None), graph.device(nd.device or None):
            op = _registry.apply_op(nd.op, grouped, attrs, name=prefix + nd.name,
                                    control_inputs=control_inputs)
        if not allow_file_access:
            _registry.deny_file_access(op)
        created[nd.name] = op
    # A key naming no node or output is most likely a typo: TF refuses it rather than silently mapping nothing.
    missing = [f"{node}:{idx}" for node, idx in map(_split_input, input_map)
               if node not in created or idx >= len(created[node].outputs)]
    if missing:
        raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{', '.join(missing)}]")
    if return_elements is None:
        return None
    results = []
    for el in return_elements:
        if ":" in el:
            results.append(_lookup_tensor(el, created, {}, "<return_elements>"))
        else:
            results.append(_lookup_op(el, created, {}, "<return_elements>"))
    return results


def _split_input(inp: str) -> tuple[str, int]:
    op_name, _, idx = inp.partition(":")
    return op_name, int(idx) if idx else 0


def _topological_node_order(nodes, by_name) -> list[str]:
    deps = {}
    for nd in nodes:
        deps[nd.name] = [_split_input(i.lstrip("^"))[0] for i in nd.input]
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
    op_name, idx = _split_input(inp)
    key = f"{op_name}:{idx}"
    if key in input_map:
        return input_map[key]
    if idx == 0 and op_name in input_map:
        return input_map[op_name]
    if op_name not in created:
        raise ValueError(f"Node '{node_name}': Unknown input node '{inp}'")
    outs = created[op_name].outputs
    if idx >= len(outs):
        raise ValueError(f"Node '{node_name}': input '{inp}' refers to an output that does not exist")
    return outs[idx]


def _lookup_op(name: str, created, input_map, node_name) -> _ops.Operation:
    if name not in created:
        raise ValueError(f"Node '{node_name}': Unknown input node '^{name}'")
    return created[name]


def _group_inputs(opdef, flat, attrs, nd) -> list:
    grouped, i = [], 0
    for spec in opdef.inputs:
        if spec.number_attr:
            n = attrs.get(spec.number_attr)
            if n is None:
                raise ValueError(f"Node '{nd.name}' lacks attr '{spec.number_attr}'")
            grouped.append(flat[i:i + n])
            i += n
        elif spec.type_list_attr:
            n = len(attrs.get(spec.type_list_attr, []))
            grouped.append(flat[i:i + n])
            i += n
        else:
            if i >= len(flat):
                raise ValueError(f"Node '{nd.name}' has too few inputs for op '{nd.op}'")
            grouped.append(flat[i])
            i += 1
    if i != len(flat):
        raise ValueError(f"Node '{nd.name}' has {len(flat)} inputs; op '{nd.op}' takes {i}")
    return grouped
