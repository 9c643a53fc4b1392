"""Meta graphs: a graph with its collections, Saver names and signatures as a `MetaGraphDef`, written to and
read from files (binary or text). Knows no Saver: savers reach their collection through
`register_proto_function`, as TF's ops module lets them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np
from google.protobuf import message as _message
from google.protobuf import text_format

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework.api_export import tf_export
from tfmini.framework.graph_io import import_graph_def, parse_tensor_name
from tfmini.framework.graph_util import write_graph
from tfmini.framework.node_def import attr_value_of
from tfmini.ops.variables import Variable
from tfmini.protobuf import graph_pb2, meta_graph_pb2, op_def_pb2, queue_runner_pb2, saver_pb2, variable_pb2
from tfmini.train.queue_runner_impl import QueueRunner

_logger = logging.getLogger("tfmini")

# What export_meta_graph writes into meta_info_def: the TF version whose behaviour tfmini follows (TF parses this
# field as a version number when importing) and, as the git version, who wrote it.
TENSORFLOW_VERSION = "1.15.0"
TENSORFLOW_GIT_VERSION = "tfmini"
# Inputs from outside an exported scope are renamed with this prefix and listed in this collection; an import
# has to bind them through `input_map`.
UNBOUND_INPUT_PREFIX = "$unbound_inputs_"
UNBOUND_INPUTS_KEY = "unbound_inputs"


# ----------------------------------------------------------------------------------------------------------
# Scoped names
# ----------------------------------------------------------------------------------------------------------
prepend_name_scope = _ops.prepend_name_scope
strip_name_scope = _ops.strip_name_scope
_in_scope = _ops.in_name_scope


# ----------------------------------------------------------------------------------------------------------
# Variables as VariableDef protos
# ----------------------------------------------------------------------------------------------------------
def variable_to_proto(variable: Variable, export_scope: str | None = None):
    """The `VariableDef` of a Variable, its names relative to `export_scope`; None outside that scope."""
    return variable.to_proto(export_scope=export_scope)


def variable_from_proto(variable_def, import_scope: str | None = None) -> Variable:
    """A Variable over ops already in the default graph, named by `variable_def` (under `import_scope`)."""
    return Variable.from_proto(variable_def, import_scope=import_scope)


# ----------------------------------------------------------------------------------------------------------
# Collections as CollectionDefs
# ----------------------------------------------------------------------------------------------------------
_PROTO_FUNCTIONS: dict[str, tuple[type, Callable, Callable]] = {}


def register_proto_function(collection_name: str, proto_type: type, to_proto: Callable,
                            from_proto: Callable) -> None:
    """Items of `collection_name` are stored as serialized `proto_type` messages: `to_proto(item,
    export_scope=...)` writes one (None skips it), `from_proto(proto, import_scope=...)` rebuilds it."""
    _PROTO_FUNCTIONS[collection_name] = (proto_type, to_proto, from_proto)


_VARIABLE_COLLECTIONS = (
    _ops.GraphKeys.GLOBAL_VARIABLES, _ops.GraphKeys.LOCAL_VARIABLES, _ops.GraphKeys.METRIC_VARIABLES,
    _ops.GraphKeys.MODEL_VARIABLES, _ops.GraphKeys.TRAINABLE_VARIABLES, _ops.GraphKeys.MOVING_AVERAGE_VARIABLES,
    _ops.GraphKeys.CONCATENATED_VARIABLES, _ops.GraphKeys.TRAINABLE_RESOURCE_VARIABLES,
    _ops.GraphKeys.GLOBAL_STEP,
)
for _key in _VARIABLE_COLLECTIONS:
    register_proto_function(_key, variable_pb2.VariableDef, variable_to_proto, variable_from_proto)


def queue_runner_to_proto(runner, export_scope: str | None = None):
    """The QueueRunnerDef of a QueueRunner (None when its queue lies outside `export_scope`)."""
    queue = runner.queue
    queue_name = queue.queue_ref.op.name if hasattr(queue, "queue_ref") else queue.name
    if not _in_scope(queue_name, export_scope):
        return None
    return queue_runner_pb2.QueueRunnerDef(
        queue_name=strip_name_scope(queue_name, export_scope),
        enqueue_op_name=[strip_name_scope(op.name, export_scope) for op in runner.enqueue_ops],
        close_op_name=strip_name_scope(runner.close_op.name, export_scope),
        cancel_op_name=strip_name_scope(runner.cancel_op.name, export_scope),
        queue_closed_exception_types=[_errors.error_code_from_exception_type(t)
                                      for t in runner.queue_closed_exception_types])


def queue_runner_from_proto(queue_runner_def, import_scope: str | None = None) -> QueueRunner:
    """A QueueRunner over the queue op and enqueue/close/cancel ops a QueueRunnerDef names (its `queue` is
    the queue op, as in TF)."""
    graph = _ops.get_default_graph()

    def op(name):
        return graph.as_graph_element(prepend_name_scope(name, import_scope), allow_tensor=False)

    types = [_errors.exception_type_from_error_code(code) for code in queue_runner_def.queue_closed_exception_types]
    return QueueRunner(queue=op(queue_runner_def.queue_name),
                       enqueue_ops=[op(n) for n in queue_runner_def.enqueue_op_name],
                       close_op=op(queue_runner_def.close_op_name), cancel_op=op(queue_runner_def.cancel_op_name),
                       queue_closed_exception_types=types or None)


register_proto_function(_ops.GraphKeys.QUEUE_RUNNERS, queue_runner_pb2.QueueRunnerDef, queue_runner_to_proto,
                        queue_runner_from_proto)


def _collection_kind(value) -> str:
    """How TF stores an item of a collection with no registered proto: strings as bytes, ints (bools
    included) and floats as numbers, anything else by its graph name."""
    if isinstance(value, (bytes, str)):
        return "bytes_list"
    if isinstance(value, (int, np.integer)):
        return "int64_list"
    if isinstance(value, (float, np.floating)):
        return "float_list"
    return "node_list"


def add_collection_def(meta_graph_def, key: str, graph: _ops.Graph, export_scope: str | None = None) -> None:
    """Adds collection `key` of `graph` to `meta_graph_def`: ops and tensors by name, registered kinds
    (variables, savers, queue runners) as serialized protos, numbers and strings as lists, other objects
    by their graph name. A collection that cannot be stored so (items without a name, mixed kinds) is left
    out with a warning, as TF does."""
    if not isinstance(key, str):
        _logger.warning("Only collections with string type keys will be serialized. This key has %s", type(key))
        return
    values = graph.get_collection(key)
    if not values:
        return
    col_def = meta_graph_pb2.CollectionDef()
    registered = _PROTO_FUNCTIONS.get(key)
    try:
        if registered is not None:
            protos = [registered[1](v, export_scope=export_scope) for v in values]
            col_def.bytes_list.value.extend(p.SerializeToString() for p in protos if p is not None)
        else:
            kind = _collection_kind(values[0])
            if kind == "node_list":
                names = [v.name for v in values]
                if not all(isinstance(n, str) for n in names):
                    raise TypeError("collection items must have graph names")
                col_def.node_list.value.extend(strip_name_scope(n, export_scope) for n in names
                                               if _in_scope(n, export_scope))
            elif kind == "bytes_list":
                col_def.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in values)
            elif kind == "int64_list":
                if not all(isinstance(v, (int, np.integer)) for v in values):
                    raise TypeError("the collection mixes kinds of values")
                col_def.int64_list.value.extend(int(v) for v in values)
            else:
                col_def.float_list.value.extend(values)
    except (TypeError, ValueError, AttributeError) as e:
        _logger.warning("Issue encountered when serializing: %s.\n%s", key, e)
        return
    if col_def.WhichOneof("kind") is not None and len(getattr(col_def, col_def.WhichOneof("kind")).value):
        meta_graph_def.collection_def[key].CopyFrom(col_def)


def _restore_collections(meta_graph_def, graph: _ops.Graph, import_scope: str | None) -> None:
    """Adds the collections of `meta_graph_def` to `graph`; one variable stored in several collections
    becomes one Variable object."""
    variables: dict[bytes, object] = {}
    for key in sorted(meta_graph_def.collection_def):
        if key == UNBOUND_INPUTS_KEY:
            continue
        col_def = meta_graph_def.collection_def[key]
        kind = col_def.WhichOneof("kind")
        if kind is None:
            _logger.warning("Cannot identify data type for collection %s. Skipping.", key)
            continue
        registered = _PROTO_FUNCTIONS.get(key)
        if kind == "bytes_list" and registered is not None:
            proto_type, _, from_proto = registered
            for value in col_def.bytes_list.value:
                item = variables.get(value)
                if item is None:
                    proto = proto_type()
                    proto.ParseFromString(value)
                    item = from_proto(proto, import_scope=import_scope)
                    variables[value] = item
                graph.add_to_collection(key, item)
        elif kind == "node_list":
            for name in col_def.node_list.value:
                graph.add_to_collection(key, graph.as_graph_element(prepend_name_scope(name, import_scope)))
        elif kind == "any_list":
            _logger.warning("tfmini does not restore any_list collections; skipping collection %s.", key)
        else:
            for value in getattr(col_def, kind).value:
                graph.add_to_collection(key, value)


# ----------------------------------------------------------------------------------------------------------
# Op definitions (meta_info_def.stripped_op_list) and default attrs
# ----------------------------------------------------------------------------------------------------------
_TF_ATTR_KINDS = {"string", "int", "float", "bool", "type", "shape", "tensor", "func"}


def _arg_def(spec) -> op_def_pb2.OpDef.ArgDef:
    arg = op_def_pb2.OpDef.ArgDef(name=spec.name, is_ref=spec.is_ref)
    if spec.fixed_type is not None:
        arg.type = spec.fixed_type.as_datatype_enum
    if spec.type_attr:
        arg.type_attr = spec.type_attr
    if spec.number_attr:
        arg.number_attr = spec.number_attr
    if spec.type_list_attr:
        arg.type_list_attr = spec.type_list_attr
    return arg


def op_def_proto(op_type: str) -> op_def_pb2.OpDef:
    """The OpDef proto of a registered op type: its args, attrs (kinds, defaults, allowed types) and
    statefulness."""
    opdef = _registry.get_op_def(op_type)
    proto = op_def_pb2.OpDef(name=op_type, is_stateful=opdef.stateful)
    proto.input_arg.extend(_arg_def(s) for s in opdef.inputs)
    proto.output_arg.extend(_arg_def(s) for s in opdef.outputs)
    for name, (kind, default) in opdef.attrs.items():
        base = kind[5:-1] if kind.startswith("list(") else kind
        if base not in _TF_ATTR_KINDS:
            continue
        attr = proto.attr.add(name=name, type=kind)
        if default is not _registry.REQUIRED and default is not None:
            try:
                attr.default_value.CopyFrom(attr_value_of(kind, default))
            except (TypeError, ValueError):
                attr.ClearField("default_value")
        allowed = opdef.allowed_types.get(name)
        if allowed:
            attr.allowed_values.list.type.extend(d.as_datatype_enum for d in allowed)
    return proto


def stripped_op_list_for_graph(graph_def) -> op_def_pb2.OpList:
    """The OpDefs of the op types `graph_def` uses, in its nodes and in its function bodies, sorted by name."""
    used = {nd.op for nd in graph_def.node}
    for fn in graph_def.library.function:
        used.update(nd.op for nd in fn.node_def)
    used -= {fn.signature.name for fn in graph_def.library.function}
    op_list = op_def_pb2.OpList()
    for op_type in sorted(used):
        try:
            op_list.op.add().CopyFrom(op_def_proto(op_type))
        except (KeyError, LookupError, ValueError):
            continue
    return op_list


def strip_default_attrs_from(graph_def) -> None:
    """Removes, in place, every node attr that equals its op's declared default (TF's strip_default_attrs):
    smaller files that consumers with newer op definitions still read."""
    for nd in graph_def.node:
        try:
            opdef = _registry.get_op_def(nd.op)
        except (KeyError, LookupError, ValueError):
            continue
        for name, (kind, default) in opdef.attrs.items():
            if name not in nd.attr or default is _registry.REQUIRED or default is None:
                continue
            try:
                if nd.attr[name] == attr_value_of(kind, default):
                    del nd.attr[name]
            except (TypeError, ValueError):
                continue


def apply_producer_op_list(graph_def, producer_op_list) -> None:
    """Reconciles, in place, the attrs of `graph_def` with tfmini's op definitions using the producer's
    (a meta graph's stripped_op_list), as TF's importer does with `producer_op_list`: an attr the node
    leaves out (stripped as default) gets the producer's default, and an attr tfmini's op does not declare
    is dropped when it holds the producer's default (a newer TF's attr, such as MatMul's grad_a)."""
    producer = {op.name: op for op in producer_op_list.op}
    for nd in graph_def.node:
        op = producer.get(nd.op)
        if op is None:
            continue
        try:
            declared = _registry.get_op_def(nd.op).attrs
        except (KeyError, LookupError, ValueError):
            continue
        for attr in op.attr:
            if not attr.HasField("default_value"):
                continue
            if attr.name not in nd.attr:
                if attr.name in declared:
                    nd.attr[attr.name].CopyFrom(attr.default_value)
            elif attr.name not in declared and nd.attr[attr.name] == attr.default_value:
                del nd.attr[attr.name]


# ----------------------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------------------
def _scoped_graph_def(graph_def, export_scope: str | None) -> tuple[graph_pb2.GraphDef, list[str]]:
    """The nodes of `graph_def` inside `export_scope`, renamed relative to it; inputs from outside become
    '$unbound_inputs_<name>' (returned as the second item)."""
    scoped = graph_pb2.GraphDef()
    scoped.versions.CopyFrom(graph_def.versions)
    scoped.library.CopyFrom(graph_def.library)
    unbound: list[str] = []
    for nd in graph_def.node:
        if not _in_scope(nd.name, export_scope):
            continue
        new = scoped.node.add()
        new.CopyFrom(nd)
        new.name = strip_name_scope(nd.name, export_scope)
        del new.input[:]
        for inp in nd.input:
            node = inp[1:] if inp.startswith("^") else inp
            if _in_scope(node, export_scope):
                new.input.append(strip_name_scope(inp, export_scope))
            else:
                if node not in unbound:
                    unbound.append(node)
                new.input.append(("^" if inp.startswith("^") else "") + UNBOUND_INPUT_PREFIX + node)
        cls = new.attr.get("_class")
        if cls is not None:
            locs = [strip_name_scope(v.decode()[5:], export_scope).encode() for v in cls.list.s
                    if v.startswith(b"loc:@")]
            del cls.list.s[:]
            cls.list.s.extend(b"loc:@" + v for v in locs)
    return scoped, unbound


_SAVE_AND_RESTORE_OPS = ("SaveV2", "Save", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice")


def _without_extraneous_savers(graph_def, saver_def) -> graph_pb2.GraphDef:
    """`graph_def` without the name scopes of savers other than `saver_def`'s: a scope holding a save or
    restore op that is not the scope of the kept saver's save tensor or restore op."""
    def scope_of(name: str) -> str:
        return name.rpartition("/")[0]

    keep = set()
    if saver_def is not None:
        keep = {scope_of(parse_tensor_name(saver_def.save_tensor_name)[0]) + "/",
                scope_of(saver_def.restore_op_name) + "/"}
    saver_scopes = {scope_of(nd.name) + "/" for nd in graph_def.node
                    if nd.op in _SAVE_AND_RESTORE_OPS and "/" in nd.name} - keep
    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    out.node.extend(nd for nd in graph_def.node if not any(nd.name.startswith(s) for s in saver_scopes))
    return out


def export_scoped_meta_graph(filename=None, graph_def=None, graph=None, export_scope=None, as_text=False,
                             unbound_inputs_col_name: str = UNBOUND_INPUTS_KEY, clear_devices: bool = False,
                             saver_def=None, clear_extraneous_savers: bool = False,
                             strip_default_attrs: bool = False, meta_info_def=None, collection_list=None):
    """(MetaGraphDef, {name: Variable}) of `graph` (default graph) restricted to `export_scope`; writes it
    to `filename` when given."""
    graph = graph or _ops.get_default_graph()
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    else:
        copy = graph_pb2.GraphDef()
        copy.CopyFrom(graph_def)
        graph_def = copy
    if clear_extraneous_savers:
        graph_def = _without_extraneous_savers(graph_def, saver_def)
    graph_def, unbound = _scoped_graph_def(graph_def, export_scope)
    if clear_devices:
        for nd in graph_def.node:
            nd.device = ""
        for fn in graph_def.library.function:
            for nd in fn.node_def:
                nd.device = ""
    if strip_default_attrs:
        strip_default_attrs_from(graph_def)

    mg = meta_graph_pb2.MetaGraphDef()
    if meta_info_def is not None:
        mg.meta_info_def.CopyFrom(meta_info_def)
    info = mg.meta_info_def
    if not info.tensorflow_version:
        info.tensorflow_version = TENSORFLOW_VERSION
    if not info.tensorflow_git_version:
        info.tensorflow_git_version = TENSORFLOW_GIT_VERSION
    info.stripped_default_attrs = strip_default_attrs
    info.stripped_op_list.CopyFrom(stripped_op_list_for_graph(graph_def))
    mg.graph_def.CopyFrom(graph_def)
    if saver_def is not None:
        mg.saver_def.CopyFrom(saver_def)

    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in sorted(set(keys), key=str):
        if clear_extraneous_savers and key == _ops.GraphKeys.SAVERS:
            continue
        add_collection_def(mg, key, graph, export_scope=export_scope)
    if unbound:
        mg.collection_def[unbound_inputs_col_name].node_list.value.extend(unbound)

    variables = {}
    for v in graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES) + \
            graph.get_collection(_ops.GraphKeys.LOCAL_VARIABLES):
        if isinstance(v, Variable) and _in_scope(v.name, export_scope):
            variables[strip_name_scope(v.op.name, export_scope)] = v
    if filename:
        write_graph(mg, os.path.dirname(filename), os.path.basename(filename), as_text=as_text)
    return mg, variables


@tf_export("train.export_meta_graph")
def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None, collection_list=None,
                      as_text: bool = False, graph=None, export_scope=None, clear_devices: bool = False,
                      clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                      save_debug_info: bool = False, **kwargs):
    """`tf.train.export_meta_graph`: the MetaGraphDef of `graph` (default graph) with its collections,
    `saver_def` and op definitions, written to `filename` (binary, or text with `as_text`) when given.

    `export_scope` keeps only the ops under that name scope, renamed relative to it; `clear_devices` drops
    device placements; `strip_default_attrs` drops attrs equal to their op's default; `clear_extraneous_savers`
    drops the ops of savers other than `saver_def`'s and the savers collection. A `graph_def` given is
    written instead of the graph's own. `save_debug_info` is accepted and ignored."""
    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise TypeError(f"export_meta_graph() got unexpected keyword arguments: {unknown}")
    meta_graph_def, _ = export_scoped_meta_graph(
        filename=filename, meta_info_def=meta_info_def, graph_def=graph_def, saver_def=saver_def,
        collection_list=collection_list, as_text=as_text, graph=graph, export_scope=export_scope,
        clear_devices=clear_devices, clear_extraneous_savers=clear_extraneous_savers,
        strip_default_attrs=strip_default_attrs)
    return meta_graph_def


# ----------------------------------------------------------------------------------------------------------
# Import
# ----------------------------------------------------------------------------------------------------------
def read_meta_graph_file(filename: str):
    """The MetaGraphDef in `filename`, binary or text; IOError when the file does not exist."""
    if not os.path.exists(filename):
        raise OSError(f"File {filename} does not exist.")
    with open(filename, "rb") as f:
        data = f.read()
    mg = meta_graph_pb2.MetaGraphDef()
    try:
        mg.ParseFromString(data)
        return mg
    except _message.DecodeError:
        pass
    try:
        text_format.Merge(data.decode("utf-8"), mg)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise OSError(f"Cannot parse file {filename}: {e}.") from None
    return mg


def import_scoped_meta_graph(meta_graph_or_file, clear_devices: bool = False, graph=None, import_scope=None,
                             input_map=None, unbound_inputs_col_name: str = UNBOUND_INPUTS_KEY,
                             restore_collections_predicate=lambda key: True, return_elements=None):
    """Imports a MetaGraphDef (or the file holding one) into `graph` (default graph) under `import_scope`:
    its GraphDef (devices cleared if asked, `input_map` applied) and its collections. Returns ({name:
    Variable} of the imported variables, the `return_elements`)."""
    if isinstance(meta_graph_or_file, meta_graph_pb2.MetaGraphDef):
        meta_graph_def = meta_graph_or_file
    else:
        meta_graph_def = read_meta_graph_file(os.fspath(meta_graph_or_file))
    graph = graph or _ops.get_default_graph()
    input_map = dict(input_map or {})
    unbound = list(meta_graph_def.collection_def[unbound_inputs_col_name].node_list.value) \
        if unbound_inputs_col_name in meta_graph_def.collection_def else []
    if unbound:
        missing = [n for n in unbound if n not in input_map and n + ":0" not in input_map
                   and not any(parse_tensor_name(k)[0] == n for k in input_map)]
        if missing:
            raise ValueError(f"Graph contains unbound inputs: {missing}. Must provide these inputs through "
                             "input_map.")
        input_map = {(UNBOUND_INPUT_PREFIX + k if parse_tensor_name(k)[0] in unbound else k): v
                     for k, v in input_map.items()}
    graph_def = graph_pb2.GraphDef()
    graph_def.CopyFrom(meta_graph_def.graph_def)
    if clear_devices:
        for nd in graph_def.node:
            nd.device = ""
    apply_producer_op_list(graph_def, meta_graph_def.meta_info_def.stripped_op_list)
    with graph.as_default():
        scope = graph.unique_name(import_scope or "", mark_as_used=False) if import_scope else ""
        # A meta graph carries its Saver, whose SaveV2/RestoreV2 ops exist to read and write checkpoints.
        returned = import_graph_def(graph_def, input_map=input_map or None, return_elements=return_elements,
                                    name=scope, allow_file_access=True)
        filtered = meta_graph_pb2.MetaGraphDef()
        for key in meta_graph_def.collection_def:
            if restore_collections_predicate(key):
                filtered.collection_def[key].CopyFrom(meta_graph_def.collection_def[key])
        _restore_collections(filtered, graph, scope or None)
    variables = {}
    for v in graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES, scope=scope or None):
        if isinstance(v, Variable):
            variables[strip_name_scope(v.op.name, scope)] = v
    return variables, returned


def saver_def_names(saver_def, import_scope: str | None = None) -> tuple[str, str, str]:
    """(filename tensor, save tensor, restore op) names of a SaverDef under `import_scope`."""
    if not isinstance(saver_def, saver_pb2.SaverDef):
        raise TypeError(f"saver_def must be a saver_pb2.SaverDef: {saver_def!r}")
    return (prepend_name_scope(saver_def.filename_tensor_name, import_scope),
            prepend_name_scope(saver_def.save_tensor_name, import_scope),
            prepend_name_scope(saver_def.restore_op_name, import_scope))
