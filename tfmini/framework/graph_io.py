"""GraphDef I/O: Operation <-> NodeDef and Graph <-> GraphDef. Importing only rebuilds ops from the
registry by type name; it never executes code carried in the message."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors as _errors
from tfmini.framework import func_graph, tensor_util
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework import tensor_shape as _shape
from tfmini.protobuf import attr_value_pb2, graph_pb2, node_def_pb2, versions_pb2

PRODUCER_VERSION = 27  # the GraphDef version our NodeDefs follow (TF 1.x era semantics)
MIN_CONSUMER = 0


def versions_def():
    return versions_pb2.VersionDef(producer=PRODUCER_VERSION, min_consumer=MIN_CONSUMER)


# -- attrs ------------------------------------------------------------------------------------------------
def _string_bytes(value) -> bytes:
    # surrogateescape undoes the decoding below, so attr strings that are not UTF-8 round-trip byte for byte.
    return value.encode("utf-8", errors="surrogateescape") if isinstance(value, str) else bytes(value)


# The most a tensor attr may claim to hold when its proto spells out fewer values than its shape has (TF fills
# the rest with the last value): a tiny GraphDef must not make the importer allocate gigabytes.
MAX_TENSOR_ATTR_BYTES = 1 << 30


def _read_only_array(proto):
    _check_tensor_proto(proto)
    arr = tensor_util.make_ndarray(proto)
    if arr.dtype.kind == "O" and arr.size and proto.dtype == _dtypes.string.as_datatype_enum \
            and not len(proto.string_val):
        arr = np.full(arr.shape, b"", dtype=object)  # a string tensor given no values holds empty strings
    arr.flags.writeable = False  # attrs are shared by every run, as folded constants are
    return arr


_INT_RANGES = {dt: np.iinfo(dt.as_numpy_dtype) for dt in
               (_dtypes.int8, _dtypes.int16, _dtypes.uint8, _dtypes.uint16)}


def _check_tensor_proto(proto) -> None:
    """Refuses a TensorProto that does not describe a tensor (ValueError): an unknown or ref dtype, a shape
    that is not fully defined, more values than the shape holds, content of the wrong length, values in the
    field of another dtype, or a shape claiming more than MAX_TENSOR_ATTR_BYTES."""
    try:
        dtype = _dtypes.as_dtype(proto.dtype)
    except TypeError:
        raise ValueError(f"tensor has an unknown dtype (enum {proto.dtype})") from None
    if dtype.is_ref:
        raise ValueError(f"tensor has the ref dtype {dtype.name}; a tensor value cannot be a reference")
    if proto.tensor_shape.unknown_rank:
        raise ValueError("tensor has an unknown rank; a tensor value needs a fully defined shape")
    n = 1
    for d in proto.tensor_shape.dim:
        if d.size < 0:
            raise ValueError(f"tensor shape has dimension {d.size}; a tensor value needs sizes >= 0")
        n *= d.size
    np_dtype = dtype.as_numpy_dtype
    itemsize = np.dtype(np_dtype).itemsize if np_dtype is not None else 8
    if n * itemsize > MAX_TENSOR_ATTR_BYTES and len(proto.tensor_content) != n * itemsize:
        raise ValueError(f"tensor shape {[d.size for d in proto.tensor_shape.dim]} claims {n} elements "
                         f"({n * itemsize} bytes), more than its values spell out and more than the "
                         f"{MAX_TENSOR_ATTR_BYTES}-byte limit for filling a tensor attr")
    value_field = tensor_util._VAL_FIELD.get(dtype)
    if dtype == _dtypes.variant:
        value_field = "variant_val"
    filled = [f.name for f, _ in proto.ListFields() if f.name.endswith("_val")]
    for name in filled:
        if name != value_field:
            raise ValueError(f"tensor of dtype {dtype.name} holds values in {name}, which is not where "
                             f"that dtype keeps them ({value_field or 'tensor_content'})")
    if proto.tensor_content:
        if dtype in (_dtypes.string, _dtypes.variant) or np_dtype is None:
            raise ValueError(f"tensor of dtype {dtype.name} cannot hold tensor_content")
        if len(proto.tensor_content) != n * itemsize:
            raise ValueError(f"tensor_content holds {len(proto.tensor_content)} bytes, but shape "
                             f"{[d.size for d in proto.tensor_shape.dim]} of {dtype.name} needs {n * itemsize}")
        return
    if value_field is None:
        raise ValueError(f"tensor of dtype {dtype.name} can only be given as tensor_content")
    values = getattr(proto, value_field)
    count = len(values) // 2 if dtype.is_complex else len(values)
    if dtype.is_complex and len(values) % 2:
        raise ValueError(f"tensor of dtype {dtype.name} holds an odd number of {value_field} entries "
                         "(each element takes a real and an imaginary part)")
    if count > n:
        raise ValueError(f"tensor holds {count} values, more than the {n} of its shape "
                         f"{[d.size for d in proto.tensor_shape.dim]}")
    bounds = _INT_RANGES.get(dtype) or ((0, 0xFFFF) if dtype == _dtypes.float16 else None)
    if bounds is not None and len(values):
        low, high = (bounds.min, bounds.max) if isinstance(bounds, np.iinfo) else bounds
        if min(values) < low or max(values) > high:
            raise ValueError(f"tensor of dtype {dtype.name} holds a value outside [{low}, {high}]")


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
    """Decodes an AttrValue into the Python value ops keep in their attrs; an AttrValue that does not hold a
    value of `kind` (another kind, an unknown or ref dtype, a malformed shape or tensor) is a ValueError."""
    held = av.WhichOneof("value")
    if kind == "func":
        if held != "func":
            raise ValueError(f"AttrValue holds {held or 'no value'} where a func is expected")
        return av.func.name
    is_list, (field, _, decode) = _codec(kind)
    if is_list:
        others = [f for f, _, _ in _ATTR_CODECS.values() if f != field and len(getattr(av.list, f))]
        if held != "list" or others or len(av.list.func):
            raise ValueError(f"AttrValue holds {held or 'no value'} where a {kind} is expected")
        items = getattr(av.list, field)
    elif held != field:
        raise ValueError(f"AttrValue holds {held or 'no value'} where a {kind} is expected")
    else:
        items = [getattr(av, field)]
    if field == "type":
        for enum in items:
            try:
                is_ref = _dtypes.as_dtype(enum).is_ref
            except TypeError:
                is_ref = None
            if is_ref is not False:
                raise ValueError(f"{enum} is not a valid DataType enum value for a type attr")
    values = [decode(item) for item in items]
    return values if is_list else values[0]


# -- export -----------------------------------------------------------------------------------------------
def node_def_of(op: _ops.Operation):
    """The NodeDef of `op`: name, op type, inputs ('^name' for control inputs), device and attrs."""
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


# -- import -----------------------------------------------------------------------------------------------
# What an import may refuse as a bug in the GraphDef rather than in tfmini: the errors an op's construction
# (input conversion, attr checks, shape function) raises for inputs or attrs it cannot make sense of.
_BUILD_ERRORS = (TypeError, ValueError, LookupError, ArithmeticError, AttributeError, AssertionError,
                 NotImplementedError, RecursionError, _errors.OpError)


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None, *, allow_file_access: bool = False) -> list | None:
    """`tf.import_graph_def`: adds the nodes of `graph_def` to the default graph under scope `name`
    (default 'import'); `input_map` replaces named tensors by given Tensors.

    The GraphDef is validated as TensorFlow's importer does (node names, input references, input counts and
    dtypes, attr kinds, Const tensors, cycles, the function library); a bad one raises ValueError naming the
    node, and leaves the graph as it was. Importing runs nothing. Running an imported op that would touch the
    file system (a PrintV2 to 'file://...', in the graph or in a function body it uses) raises
    PermissionDeniedError unless `allow_file_access=True` (a GraphDef from an untrusted source could otherwise
    write any file)."""
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
    by_name = _checked_nodes(graph_def.node)
    order = _topological_node_order(graph_def.node, by_name)
    library = func_graph.FunctionLibrary(graph_def.library)
    # All or nothing: whatever fails while building (a type mismatch, a shape function refusing a node, an
    # input_map key naming no node) takes out what was added, so a refused GraphDef leaves no half of itself.
    with graph._all_or_nothing():
        scope = "import" if name is None else name
        with graph.name_scope(scope if scope else None) as prefix_scope:
            prefix = prefix_scope
        created = _build_nodes(graph, by_name, order, prefix, input_map, library.importer(allow_file_access))
        if not allow_file_access:
            for op in created.values():
                _registry.deny_file_access(op)
        # A key naming no node or output is most likely a typo: TF refuses it rather than silently mapping
        # nothing.
        missing = [f"{node}:{idx}" for node, idx in map(parse_tensor_name, input_map)
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
            results.append(_lookup_op(el, created, "<return_elements>"))
    return results


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
            grouped = group_inputs(opdef, data_inputs, attrs, nd)
            with graph.name_scope(None), graph.device(nd.device or None):
                op = _registry.apply_op(nd.op, grouped, attrs, name=prefix + nd.name,
                                        control_inputs=control_inputs)
            check_static_dtypes(op)
        except _BUILD_ERRORS as e:
            raise node_error(e, f"Node '{nd.name}' (op '{nd.op}')", nd.name) from None
        created[nd.name] = op
    return created


def node_error(e: BaseException, where: str, node_name: str) -> ValueError:
    """The ValueError a GraphDef import raises for what went wrong building node `node_name`, prefixed by
    `where` (the node, and the function it is in) unless the message starts by naming the node."""
    if isinstance(e, _errors.OpError):
        message = e.message
    elif isinstance(e, (TypeError, ValueError)):
        message = str(e)
    else:  # a shape function or conversion that broke on what the node holds
        message = f"{type(e).__name__}: {e}"
    return ValueError(message if message.startswith(f"Node '{node_name}'") else f"{where}: {message}")


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


def check_node_def(nd) -> None:
    """Checks a NodeDef's name, op type and input list (control inputs after data inputs), as TF's importer
    does before building anything."""
    if not nd.name:
        raise ValueError(f"A node of op '{nd.op}' has an empty node name.")
    if not _ops.op_name_is_valid(nd.name) or nd.name.endswith("/"):
        raise ValueError(f"Node '{nd.name}': '{nd.name}' is not a valid node name")
    try:
        _registry.get_op_def(nd.op)
    except KeyError:
        raise ValueError(f"NodeDef mentions attr or op that is not registered: Op type not registered "
                         f"'{nd.op}' in node '{nd.name}'") from None
    seen_control = False
    for inp in nd.input:
        if inp.startswith("^"):
            seen_control = True
        elif seen_control:
            raise ValueError(f"Node '{nd.name}': Control dependencies must come after regular dependencies "
                             f"(input '{inp}' follows a control input).")


def node_attrs(nd, opdef, function) -> dict:
    """The Python attrs of NodeDef `nd` for op `opdef`: each declared attr decoded as its declared kind
    (`function(name)` turns a func attr into its graph), internal '_' attrs by their own kind; unknown and
    missing required attrs are refused, as TF refuses them."""
    attrs = {}
    for k, av in nd.attr.items():
        if k.startswith("_"):  # internal attrs (gradient overrides, output shapes) are kept as TF does
            attrs[k] = _undeclared_attr(av)
            continue
        if k not in opdef.attrs:
            raise ValueError(f"NodeDef mentions attr '{k}' not in Op '{nd.op}' (node '{nd.name}').")
        kind = opdef.attrs[k][0]
        try:
            attrs[k] = python_attr_of(kind, av)
        except (TypeError, ValueError) as e:
            raise ValueError(f"attr '{k}' ({kind}): {e}") from None
        if kind == "func":
            attrs[k] = function(attrs[k])
    for k, (_, default) in opdef.attrs.items():
        if default is _registry.REQUIRED and k not in attrs:
            raise ValueError(f"NodeDef missing attr '{k}' from Op '{nd.op}'")
    return attrs


def check_static_dtypes(op: _ops.Operation) -> None:
    """A source op whose value is known when it is built (a Const) must hold the dtype its outputs declare:
    a GraphDef whose `value` and `dtype` attrs disagree would otherwise produce a tensor of another dtype."""
    if op.inputs:
        return
    for t in op.outputs:
        value = _registry.constant_value(t)
        if not isinstance(value, np.ndarray):
            continue
        declared = t.dtype.base_dtype
        if value.dtype.kind == "O":
            ok = declared in (_dtypes.string, _dtypes.variant)
            held = "string"
        else:
            held_dtype = _dtypes.as_dtype(value.dtype)
            ok, held = held_dtype == declared, held_dtype.name
        if not ok:
            raise ValueError(f"its value holds {held} but its dtype attr says {declared.name}.")


def parse_tensor_name(ref: str) -> tuple[str, int]:
    """(node name, output index) of a tensor reference, as TF parses it: 'name:k' with k made of digits
    names output k of 'name'; any other string ('sp:-1', 'a:b', '') names output 0 of a node called exactly
    that, which the GraphDef then has to hold (names with ':' are not valid, so it never does)."""
    node, sep, index = ref.rpartition(":")
    if sep and node and index.isascii() and index.isdigit():
        return node, int(index)
    return ref, 0


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


def group_inputs(opdef, flat, attrs, nd) -> list:
    """The flat data inputs of NodeDef `nd` grouped as `apply_op` takes them (one entry per input arg, a list
    for list args, sized by their number or type-list attrs); counts that disagree are refused."""
    grouped, i = [], 0
    for spec in opdef.inputs:
        if spec.number_attr or spec.type_list_attr:
            if spec.number_attr:
                n = attrs.get(spec.number_attr)
                if n is None:
                    raise ValueError(f"Node '{nd.name}' lacks attr '{spec.number_attr}'")
                if n < 0:
                    raise ValueError(f"Node '{nd.name}': attr '{spec.number_attr}' is {n}, which is negative.")
            else:
                n = len(attrs.get(spec.type_list_attr, []))
            if i + n > len(flat):
                raise ValueError(f"Node '{nd.name}': input '{spec.name}' of op '{nd.op}' needs {n} tensors, "
                                 f"but the node has only {len(flat) - i} inputs left for it")
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
