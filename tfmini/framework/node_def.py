"""NodeDefs and AttrValues: an Operation as a NodeDef, attr values to and from their protos, and the checks a
NodeDef gets before an op is rebuilt from it. Shared by GraphDef I/O and function bodies (FunctionDefs hold
NodeDefs); knows nothing of either."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework import tensor_shape as _shape
from tfmini.framework import tensor_util
from tfmini.protobuf import attr_value_pb2, node_def_pb2, versions_pb2

PRODUCER_VERSION = 27  # the GraphDef version our NodeDefs follow (TF 1.x era semantics)
MIN_CONSUMER = 0  # the oldest consumer our GraphDefs ask for
MIN_PRODUCER = 0  # the oldest GraphDef producer version we import


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
        # A variant holds run-time objects (the zero a gradient fills in for a tape) that its proto names by
        # type only; one that does not name each element cannot have been exported from a graph.
        if len(proto.variant_val) != n:
            raise ValueError(f"tensor of dtype variant names {len(proto.variant_val)} elements, but its shape "
                             f"{[d.size for d in proto.tensor_shape.dim]} holds {n}")
        value_field = "variant_val"
    filled = [f.name for f, _ in proto.ListFields() if f.name.endswith("_val")]
    for name in filled:
        if name != value_field:
            raise ValueError(f"tensor of dtype {dtype.name} holds values in {name}, which is not where "
                             f"that dtype keeps them ({value_field or 'tensor_content'})")
    if proto.tensor_content:
        if dtype == _dtypes.string or np_dtype is None:
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


def _shape_of(proto) -> _shape.TensorShape:
    if proto.unknown_rank and len(proto.dim):
        raise ValueError(f"shape has an unknown rank but lists {len(proto.dim)} dimensions")
    return _shape.TensorShape(proto)


# Attr kind -> (the AttrValue field holding it, which ListValue names alike; Python value -> field value;
# field value -> Python value). Message-typed fields (shape, tensor) are copied, the others assigned.
_ATTR_CODECS = {
    "string": ("s", _string_bytes, lambda b: b.decode("utf-8", errors="surrogateescape")),
    "int": ("i", int, int),
    "float": ("f", float, float),
    "bool": ("b", bool, bool),
    "type": ("type", lambda v: _dtypes.as_dtype(v).as_datatype_enum, _dtypes.as_dtype),
    "shape": ("shape", lambda v: _shape.as_shape(v).as_proto(), _shape_of),
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



_ops.register_graph_def_export("node_def", node_def_of)
_ops.register_graph_def_export("graph_def_versions", versions_def)


# -- checks before an op is rebuilt from a NodeDef ------------------------------------------------------
# What an import may refuse as a bug in the GraphDef rather than in tfmini: the errors an op's construction
# (input conversion, attr checks, shape function) raises for inputs or attrs it cannot make sense of.
BUILD_ERRORS = (TypeError, ValueError, LookupError, ArithmeticError, AttributeError, AssertionError,
                 NotImplementedError, RecursionError, _errors.OpError)


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
    (`function(name)` turns a func attr into its graph), internal '_' attrs by their own kind. Attrs only
    TensorFlow's op def has are dropped when they hold its default (see `registry.import_only_attr`); other
    unknown attrs and missing required ones are refused, as TF refuses them."""
    attrs = {}
    for k, av in nd.attr.items():
        if k == "_class":  # colocation groups: byte strings, as TF's get_attr returns them
            attrs[k] = list(av.list.s)
            continue
        if k.startswith("_"):  # internal attrs (gradient overrides, output shapes) are kept as TF does
            attrs[k] = _undeclared_attr(av)
            continue
        if k not in opdef.attrs:
            _check_import_only_attr(nd, k, av)
            continue
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


def _check_import_only_attr(nd, k: str, av) -> None:
    """An attr node `nd` has beyond its op's def: dropped when TensorFlow's op def declares it with this
    value as its default (or as a hint), else refused as TF refuses an attr it does not know."""
    extra = _registry.import_attrs(nd.op).get(k)
    if extra is None:
        raise ValueError(f"NodeDef mentions attr '{k}' not in Op '{nd.op}' (node '{nd.name}').")
    if extra.hint:
        return
    try:
        value = python_attr_of(extra.kind, av)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Node '{nd.name}': attr '{k}' ({extra.kind}): {e}") from None
    if value != extra.default:
        raise ValueError(f"Node '{nd.name}': attr '{k}' of op '{nd.op}' is {value!r}; tfmini implements "
                         f"{nd.op} only with TensorFlow's default {k}={extra.default!r}.")


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
