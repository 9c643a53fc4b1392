"""`tf.graph_util`: GraphDef surgery (freezing variables into constants, extracting the subgraph that
outputs need, removing training-only nodes) and writing graph files (`tf.train.write_graph`). Works on
GraphDef protos; freezing reads variable values through the session it is given and knows nothing else of
sessions."""

from __future__ import annotations

import logging
import os

from google.protobuf import message as _message
from google.protobuf import text_format

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_util
from tfmini.framework.api_export import tf_export
from tfmini.framework.graph_io import import_graph_def, parse_tensor_name
from tfmini.protobuf import graph_pb2, node_def_pb2

_logger = logging.getLogger("tfmini")

_VARIABLE_OPS = ("Variable", "VariableV2", "VarHandleOp")


def _node_name(ref: str) -> str:
    """The node a NodeDef input ('name', 'name:1', '^name') refers to."""
    return parse_tensor_name(ref[1:] if ref.startswith("^") else ref)[0]


def _check_graph_def(graph_def) -> None:
    if not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError("graph_def must be a graph_pb2.GraphDef proto.")


@tf_export("graph_util.must_run_on_cpu")
def must_run_on_cpu(node, pin_variables_on_cpu: bool = False) -> bool:
    """Whether `node` (an Operation or NodeDef) has to be placed on the CPU: int32 and string constants,
    int32 DynamicStitch and Cast from int32, and variables when `pin_variables_on_cpu`."""
    node_def = node.node_def if isinstance(node, _ops.Operation) else node
    if pin_variables_on_cpu and node_def.op in _VARIABLE_OPS:
        return True
    host_types = (_dtypes.int32.as_datatype_enum, _dtypes.string.as_datatype_enum)
    if node_def.op == "Const":
        return node_def.attr["dtype"].type in host_types
    if node_def.op in ("DynamicStitch", "ParallelDynamicStitch"):
        return node_def.attr["T"].type == _dtypes.int32.as_datatype_enum
    if node_def.op == "Cast":
        return node_def.attr["SrcT"].type == _dtypes.int32.as_datatype_enum
    return False


@tf_export("graph_util.extract_sub_graph")
def extract_sub_graph(graph_def, dest_nodes):
    """The GraphDef of the nodes `dest_nodes` (names) depend on, through data and control inputs, in the
    order `graph_def` lists them, with its versions and function library."""
    _check_graph_def(graph_def)
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list.")
    by_name = {nd.name: nd for nd in graph_def.node}
    for d in dest_nodes:
        if d not in by_name:
            raise AssertionError(f"{d} is not in graph")
    keep, stack = set(), list(dest_nodes)
    while stack:
        name = stack.pop()
        if name in keep:
            continue
        keep.add(name)
        node = by_name.get(name)
        if node is not None:
            stack.extend(_node_name(i) for i in node.input)
    out = graph_pb2.GraphDef()
    out.node.extend(nd for nd in graph_def.node if nd.name in keep)
    out.library.CopyFrom(graph_def.library)
    out.versions.CopyFrom(graph_def.versions)
    return out


@tf_export("graph_util.tensor_shape_from_node_def_name")
def tensor_shape_from_node_def_name(graph, input_name):
    """The static shape of the tensor `input_name` ('node' meaning 'node:0') in `graph`."""
    name = input_name if ":" in input_name else input_name + ":0"
    return graph.get_tensor_by_name(name).get_shape()


@tf_export("graph_util.convert_variables_to_constants")
def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """Freezes a graph: the subgraph `output_node_names` need, with every variable in it (limited by the
    whitelist, minus the blacklist, both node names) replaced by a Const holding its value in `sess`.
    Reads the values with one `sess.run`; the GraphDef given is not changed."""
    graph_def = extract_sub_graph(input_graph_def, output_node_names)
    whitelist = None if variable_names_whitelist is None else set(variable_names_whitelist)
    blacklist = set(variable_names_blacklist or ())
    names = [nd.name for nd in graph_def.node if nd.op in _VARIABLE_OPS
             and (whitelist is None or nd.name in whitelist) and nd.name not in blacklist]
    resources = {nd.name for nd in graph_def.node if nd.name in names and nd.op == "VarHandleOp"}
    # A resource variable's value is what its `<name>/Read/ReadVariableOp` reads, as TF's freezing reads it.
    fetches = [n + "/Read/ReadVariableOp:0" if n in resources else n + ":0" for n in names]
    values = dict(zip(names, sess.run(fetches))) if names else {}
    out = graph_pb2.GraphDef()
    for nd in graph_def.node:
        reads = nd.input and _node_name(nd.input[0]) in resources
        if reads and nd.op == "ReadVariableOp":
            # The read of a frozen resource variable becomes an Identity of its Const.
            ident = out.node.add(name=nd.name, op="Identity", device=nd.device, input=list(nd.input))
            ident.attr["T"].CopyFrom(nd.attr["dtype"])
        elif reads and nd.op == "ResourceGather":
            gather = out.node.add(name=nd.name + "/axis", op="Const", device=nd.device)
            gather.attr["dtype"].type = _dtypes.int32.as_datatype_enum
            gather.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(0, dtype=_dtypes.int32))
            gather = out.node.add(name=nd.name, op="GatherV2", device=nd.device,
                                  input=list(nd.input[:2]) + [nd.name + "/axis"] + list(nd.input[2:]))
            gather.attr["Tparams"].CopyFrom(nd.attr["dtype"])
            gather.attr["Tindices"].CopyFrom(nd.attr["Tindices"])
            gather.attr["Taxis"].type = _dtypes.int32.as_datatype_enum
            gather.attr["batch_dims"].CopyFrom(nd.attr["batch_dims"])
        elif nd.name in values:
            const = out.node.add(name=nd.name, op="Const", device=nd.device)
            const.attr["dtype"].CopyFrom(nd.attr["dtype"])
            value = values[nd.name]
            const.attr["value"].tensor.CopyFrom(
                tensor_util.make_tensor_proto(value, dtype=_dtypes.as_dtype(nd.attr["dtype"].type),
                                              shape=value.shape))
        else:
            out.node.add().CopyFrom(nd)
    out.library.CopyFrom(graph_def.library)
    out.versions.CopyFrom(graph_def.versions)
    _logger.info("Converted %d variables to const ops.", len(values))
    return out


@tf_export("graph_util.remove_training_nodes")
def remove_training_nodes(input_graph, protected_nodes=None):
    """A copy of `input_graph` without the nodes only training needs: Identity and CheckNumerics nodes are
    spliced out (their consumers read their input directly), except nodes in `protected_nodes` and those
    with or used as control inputs."""
    _check_graph_def(input_graph)
    protected = set(protected_nodes or ())
    with_control_input, used_as_control = set(), set()
    for nd in input_graph.node:
        for inp in nd.input:
            if inp.startswith("^"):
                with_control_input.add(nd.name)
                used_as_control.add(inp[1:])
    splice = {nd.name: nd.input[0] for nd in input_graph.node
              if nd.op in ("Identity", "CheckNumerics") and nd.name not in protected and nd.input
              and not nd.input[0].startswith("^") and nd.name not in with_control_input
              and nd.name not in used_as_control}
    out = graph_pb2.GraphDef()
    for nd in input_graph.node:
        if nd.name in splice:
            continue
        new = node_def_pb2.NodeDef()
        new.CopyFrom(nd)
        del new.input[:]
        for inp in nd.input:
            while not inp.startswith("^") and parse_tensor_name(inp)[0] in splice:
                inp = splice[parse_tensor_name(inp)[0]]
            new.input.append(inp)
        out.node.add().CopyFrom(new)
    out.library.CopyFrom(input_graph.library)
    out.versions.CopyFrom(input_graph.versions)
    return out


# ----------------------------------------------------------------------------------------------------------
# Writing graph files
# ----------------------------------------------------------------------------------------------------------
def _write_atomically(path: str, data: bytes) -> None:
    """Writes `data` to a temporary file synced to disk, renames it to `path` and syncs the directory, so a
    reader never sees half a file and a crash leaves the previous one."""
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@tf_export("io.write_graph", "train.write_graph")
def write_graph(graph_or_graph_def, logdir, name, as_text: bool = True) -> str:
    """`tf.train.write_graph` / `tf.io.write_graph`: writes a Graph's GraphDef (or any proto given, such as a
    GraphDef or MetaGraphDef) to `logdir/name` in text format (or binary with `as_text=False`), creating
    `logdir` if needed. Returns the path written."""
    if isinstance(graph_or_graph_def, _ops.Graph):
        proto = graph_or_graph_def.as_graph_def()
    elif isinstance(graph_or_graph_def, _message.Message):
        proto = graph_or_graph_def
    else:
        raise TypeError(f"graph_or_graph_def must be a Graph or a GraphDef proto, got "
                        f"{type(graph_or_graph_def).__name__}.")
    logdir = os.fspath(logdir)
    if logdir:
        os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, os.fspath(name))
    data = text_format.MessageToString(proto).encode("utf-8") if as_text else proto.SerializeToString()
    _write_atomically(path, data)
    return path



__all__ = ["convert_variables_to_constants", "extract_sub_graph", "import_graph_def", "must_run_on_cpu",
           "remove_training_nodes", "tensor_shape_from_node_def_name"]
