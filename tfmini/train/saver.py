"""`tf.train.Saver`: saves and restores variables through SaveV2/RestoreV2 ops it adds to the graph (under
the `save/` name scope, as TF does), so a saver works on a finalized graph and from any session.

The two ops are declared here, next to their only user; their kernels read and write tfmini's checkpoint
files (see checkpoint.py and docs/checkpoint_format.md). So are ShardedFilename and MergeV2Checkpoints, which
a sharded saver uses (here and in TensorFlow's graphs): one shard per device holding variables, merged into
one checkpoint whose data files are the shards'.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid

import numpy as np

from tfmini.framework import device as _device
from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops, control_flow_ops, resource_variable_ops, state_ops
from tfmini.ops.partitioned_variables import PartitionedVariable
from tfmini.ops.variables import Variable, global_variables
from tfmini.protobuf import meta_graph_pb2, saver_pb2, tensor_bundle_pb2
from tfmini.train import checkpoint as _ckpt
from tfmini.train import meta_graph as _meta_graph
from tfmini.train import sstable, training_util
from tfmini.train import tensor_bundle as _bundle


# ----------------------------------------------------------------------------------------------------------
# The ops
# ----------------------------------------------------------------------------------------------------------
def _text(value) -> str:
    v = np.asarray(value).item() if np.ndim(value) == 0 else value
    return v.decode() if isinstance(v, bytes) else str(v)


def _texts(values) -> list[str]:
    return [_text(v) for v in np.reshape(values, -1)]


def _parse_shape_and_slice(spec: str) -> tuple[list[int], list[tuple[int, int]]]:
    """A shape_and_slices entry, 'd0 d1 ... start,length:start,length:...' ('-' for a whole dimension), as
    the full shape and the slice's (start, length) per dimension (length -1 for a whole dimension)."""
    parts = spec.split(" ")
    try:
        shape = [int(d) for d in parts[:-1]]
        extents = []
        for piece in parts[-1].split(":"):
            if piece == "-":
                extents.append((0, -1))
            else:
                start, length = piece.split(",")
                extents.append((int(start), int(length)))
    except ValueError:
        raise _errors.InvalidArgumentError(
            None, None, f"Expected a shape and slice spec 'd0 d1 ... start,length:start,length...', got: {spec!r}"
        ) from None
    if len(parts) < 2 or len(shape) != len(extents):
        raise _errors.InvalidArgumentError(
            None, None, f"Expected the slice of {spec!r} to have one extent per dimension of its shape")
    for (start, length), dim in zip(extents, shape):
        if dim < 0 or start < 0 or (length != -1 and (length < 0 or start + length > dim)):
            raise _errors.InvalidArgumentError(None, None, f"The slice of {spec!r} lies outside its shape")
    return shape, extents


def _slice_bounds(extents: list[tuple[int, int]]) -> tuple:
    return tuple(slice(None) if length == -1 else slice(start, start + length) for start, length in extents)


@register_op("SaveV2", inputs=["prefix: string", "tensor_names: string", "shape_and_slices: string",
                               "tensors: dtypes"], attrs={"dtypes": ("list(type)", _reg.REQUIRED)}, stateful=True,
             file_access=lambda op: "the checkpoint files named by its 'prefix' input (to write them)")
def _save_v2(prefix, tensor_names, shape_and_slices, *tensors):
    """Writes `tensors` under `tensor_names` to the checkpoint `prefix`; a tensor with a shape_and_slices
    spec is a slice of the named tensor (a part of a partitioned variable), stored as TF stores slices."""
    names = _texts(tensor_names)
    specs = _texts(shape_and_slices)
    if len(names) != len(tensors) or len(specs) != len(tensors):
        raise _errors.InvalidArgumentError(
            None, None, f"Got {len(tensors)} tensors, {len(names)} tensor names and {len(specs)} "
            "shape_and_slices."
        )
    out: dict = {}
    for name, spec, value in zip(names, specs, tensors):
        entry = out.get(name)
        if not spec:
            if entry is not None:
                raise _errors.InvalidArgumentError(None, None, f"Tensor {name} is saved twice")
            out[name] = value
            continue
        full_shape, extents = _parse_shape_and_slice(spec)
        if entry is None:
            entry = out[name] = _bundle.SlicedTensor(full_shape)
        elif not isinstance(entry, _bundle.SlicedTensor):
            raise _errors.InvalidArgumentError(None, None, f"Tensor {name} is saved both whole and as slices")
        elif entry.full_shape != full_shape:
            raise _errors.InvalidArgumentError(
                None, None, f"Slices of tensor {name} disagree on its shape: {entry.full_shape} and {full_shape}")
        want = tuple(dim if length == -1 else length for (_, length), dim in zip(extents, full_shape))
        if np.shape(value) != want:
            raise _errors.InvalidArgumentError(
                None, None, f"Tensor {name}: the slice {spec!r} needs a value of shape {list(want)}, got "
                f"{list(np.shape(value))}")
        entry.slices.append((extents, value))
    _ckpt.write_checkpoint(_text(prefix), out)


def _restore_shape(op):
    return [None] * len(op.get_attr("dtypes"))


@register_op("RestoreV2", inputs=["prefix: string", "tensor_names: string", "shape_and_slices: string"],
             outputs=["tensors: dtypes"], attrs={"dtypes": ("list(type)", _reg.REQUIRED)}, shape=_restore_shape,
             stateful=True, file_access=lambda op: "the checkpoint files named by its 'prefix' input (to read them)")
def _restore_v2(prefix, tensor_names, shape_and_slices, *, dtypes):
    """Reads the tensors `tensor_names` from the checkpoint `prefix`; with a shape_and_slices spec, that
    slice of the tensor (however the checkpoint stores it: whole or in slices of its own)."""
    out = []
    whole: dict[str, np.ndarray] = {}
    with _ckpt.CheckpointReader(_text(prefix)) as reader:
        saved_dtypes = reader.get_variable_to_dtype_map()
        saved_shapes = reader.get_variable_to_shape_map()
        for name, spec, dtype in zip(_texts(tensor_names), _texts(shape_and_slices), dtypes):
            saved = saved_dtypes.get(name)
            if saved is not None and saved != dtype:
                raise _errors.InvalidArgumentError(
                    None, None, f"tensor_name = {name}; expected dtype {dtype.name} does not equal original dtype "
                    f"{saved.name}"
                )
            if not spec:
                out.append(reader.get_tensor(name))
                continue
            full_shape, extents = _parse_shape_and_slice(spec)
            if name in saved_shapes and saved_shapes[name] != full_shape:
                raise _errors.InvalidArgumentError(
                    None, None, f"tensor_name = {name}; shape in shape_and_slice spec {full_shape} does not match "
                    f"the shape stored in checkpoint: {saved_shapes[name]}"
                )
            if name not in whole:
                whole[name] = reader.get_tensor(name)
            out.append(np.array(whole[name][_slice_bounds(extents)]))
    return out


@register_op("ShardedFilename", inputs=["basename: string", "shard: int32", "num_shards: int32"],
             outputs=["filename: string"], shape=lambda op: _shape.TensorShape([]))
def _sharded_filename(basename, shard, num_shards):
    """The name of one shard of a sharded checkpoint: '<basename>-<shard>-of-<num_shards>', 5 digits each."""
    return np.array(f"{_text(basename)}-{int(shard):05d}-of-{int(num_shards):05d}".encode(), dtype=object)


@register_op("MergeV2Checkpoints", inputs=["checkpoint_prefixes: string", "destination_prefix: string"],
             attrs={"delete_old_dirs": ("bool", True), "allow_missing_files": ("bool", False)}, stateful=True,
             file_access=lambda op: "the checkpoint files named by its inputs (to merge them into one)")
def _merge_v2_checkpoints(checkpoint_prefixes, destination_prefix, *, delete_old_dirs, allow_missing_files):
    """Merges the V2 checkpoints `checkpoint_prefixes` (the shards a sharded save wrote) into
    `destination_prefix` as TensorFlow does: the data files are renamed, not rewritten, each becoming one
    shard `<destination>.data-<i>-of-<n>` (numbered in the order their tensors are met), and one index
    describes them all (a sliced tensor's slices from several sources joined in one entry). The sources'
    index files are removed and, with `delete_old_dirs`, their directories when left empty."""
    sources = _texts(checkpoint_prefixes)
    destination = _text(destination_prefix)
    entries: dict[bytes, tensor_bundle_pb2.BundleEntryProto] = {}
    shard_of: dict[str, int] = {}  # a source data file -> its shard number in the merged checkpoint
    endianness = None
    merged = []
    for source in sources:
        index = _bundle.index_path(source)
        if not os.path.isfile(index):
            if allow_missing_files:
                continue
            raise _errors.NotFoundError(None, None, f"{index}; No such file or directory")
        items = _bundle.read_index(index)
        header = _bundle.parse_header(items[0][1]) if items and items[0][0] == _bundle.HEADER_KEY else None
        if header is None or header.num_shards < 1:
            raise _errors.DataLossError(None, None, f"Checkpoint file {index} is corrupted: no bundle header")
        if endianness is None:
            endianness = header.endianness
        elif header.endianness != endianness:
            raise _errors.InvalidArgumentError(
                None, None, "Merging bundles with conflicting endianness; inputs corrupted?")
        for key, value in items[1:]:
            key = bytes(key)
            entry = tensor_bundle_pb2.BundleEntryProto.FromString(bytes(value))
            have = entries.get(key)
            if have is not None:
                # Only the entries of a sliced tensor may repeat: each source adds its slices.
                if not have.slices or not entry.slices:
                    raise _errors.InvalidArgumentError(
                        None, None, f"Duplicate tensor keyed by {key.decode('utf-8', 'replace')} encountered, "
                        f"when merging prefix: {source}")
                if have.dtype != entry.dtype or have.shape != entry.shape:
                    raise _errors.InvalidArgumentError(
                        None, None, f"Sliced tensor {key.decode('utf-8', 'replace')} has another dtype or shape "
                        f"in {source}")
                have.slices.extend(entry.slices)
                continue
            data = _bundle.data_path(source, entry.shard_id, header.num_shards)
            entry.shard_id = shard_of.setdefault(data, len(shard_of))
            entries[key] = entry
        merged.append(source)
    num_shards = len(shard_of)
    new_header = tensor_bundle_pb2.BundleHeaderProto(num_shards=max(num_shards, 1), endianness=endianness or 0)
    new_header.version.producer = _bundle.BUNDLE_VERSION
    table = sstable.build_table([(_bundle.HEADER_KEY, new_header.SerializeToString()),
                                 *((k, e.SerializeToString()) for k, e in sorted(entries.items()))])
    index = _bundle.index_path(destination)
    try:
        directory = os.path.dirname(destination)
        if directory:
            os.makedirs(directory, exist_ok=True)
        # The old index goes first, so a crash never pairs it with this save's data files.
        if os.path.isfile(index):
            os.remove(index)
        for data, shard in shard_of.items():
            os.replace(data, _bundle.data_path(destination, shard, num_shards))
        _ckpt._write_atomically(index, lambda f: f.write(table))
    except OSError as e:
        raise _ckpt._os_error(e, index) from None
    for source in merged:
        if source == destination:
            continue
        with contextlib.suppress(OSError):
            os.remove(_bundle.index_path(source))
        directory = os.path.dirname(source)
        if delete_old_dirs and directory and directory != os.path.dirname(destination):
            with contextlib.suppress(OSError):
                os.rmdir(directory)  # only an empty directory goes: another shard may still be in it


def _canonical_device(device: str) -> str:
    """A device string in its canonical spelling ('/job:ps/task:0'), as TF groups a sharded save's tensors."""
    return _device.DeviceSpec.from_string(device).to_string() if device else ""


def _cpu0(device: str) -> str:
    """`device` with its device part set to CPU 0: where TF puts a shard's save."""
    return _device.DeviceSpec.from_string(device or "").replace(device_type="CPU", device_index=0).to_string()


def _build_sharded(prefix: _ops.Tensor, saved: list, reads: dict, reshape: bool) -> tuple:
    """A sharded saver's save tensor and restore op, as TF 1.15 builds them: the saved tensors grouped by
    device (in device order), one shard per device. The shard of device d is written by a SaveV2 on d's CPU
    0 to `<prefix>_temp_<uuid>/part-<i>-of-<n>`; MergeV2Checkpoints (on the last device) then moves the
    shards' data files to `<prefix>.data-<i>-of-<n>`, writes the one index and removes the temporary
    directory, and the save tensor is `prefix`. So, as in TF, the prefix's directory must exist already
    (the shards' own directory is the one level SaveV2 creates). Each device restores its own tensors
    (RestoreV2 on its CPU 0, the assignments on the device) in a `restore_shard` group."""
    per_device: dict[str, list] = {}
    for item in saved:
        per_device.setdefault(_canonical_device(item[2].device), []).append(item)
    shards = sorted(per_device.items())
    temp = apply_op("StringJoin", [[prefix, f"_temp_{uuid.uuid4().hex}/part"]], name="StringJoin").outputs[0]
    num_shards = constant(len(shards), dtype=_dt.int32, name="num_shards")
    filenames, written = [], []
    for shard, (device, items) in enumerate(shards):
        with _ops.device(_cpu0(device)):
            filename = apply_op("ShardedFilename", [temp, shard, num_shards], name="ShardedFilename").outputs[0]
            values = [reads.get(ref) if ref in reads else _saved_value(ref) for _, _, ref in items]
            save = apply_op("SaveV2", [filename, [n for n, _, _ in items], [sp for _, sp, _ in items], values],
                            name="SaveV2")
            written.append(control_flow_ops.with_dependencies([save], filename))
            filenames.append(filename)
    # The merge waits for every shard through its packed input (so, as in TF, it has no control input of
    # its own); the result waits for the merge and the shards.
    waits = [w.op for w in written]
    with _ops.device(_cpu0(shards[-1][0])):
        with _ops.name_scope(None, "MergeV2Checkpoints") as scope:
            with _ops.control_dependencies(waits):
                prefixes = array_ops.stack(filenames, name="checkpoint_prefixes")
            merge = apply_op("MergeV2Checkpoints", [prefixes, prefix], {"delete_old_dirs": True}, name=scope)
        with _ops.control_dependencies([merge, *waits]):
            save_tensor = array_ops.identity(prefix)
    restores = []
    for device, items in shards:
        with _ops.device(device):
            with _ops.device("/device:CPU:0"):
                restored = apply_op("RestoreV2", [prefix, [n for n, _, _ in items], [sp for _, sp, _ in items]],
                                    {"dtypes": [_value_dtype(ref) for _, _, ref in items]}, name="RestoreV2").outputs
            assigns = []
            for (_, _, ref), value in zip(items, restored):
                resource = ref.dtype.base_dtype == _dt.resource
                shape = ref.op.get_attr("shape") if resource else ref.shape
                if resource:
                    with _ops.device(ref.device):
                        value = array_ops.identity(value)
                assigns.append(_restore_one(ref, value, not reshape and shape.is_fully_defined()))
            restores.append(control_flow_ops.group(*assigns, name="restore_shard"))
    return save_tensor, control_flow_ops.group(*restores, name="restore_all")


NotDifferentiable("SaveV2")
NotDifferentiable("RestoreV2")
NotDifferentiable("ShardedFilename")
NotDifferentiable("MergeV2Checkpoints")


# ----------------------------------------------------------------------------------------------------------
# What to save
# ----------------------------------------------------------------------------------------------------------
def _is_variable_tensor(t) -> bool:
    """A ref variable's tensor, or a resource variable's handle."""
    return isinstance(t, _ops.Tensor) and t.op.type in ("VariableV2", "VarHandleOp")


def _saved_value(ref: _ops.Tensor) -> _ops.Tensor:
    """What SaveV2 writes for a variable: a ref variable's tensor, or a read of a resource variable."""
    if ref.dtype.base_dtype != _dt.resource:
        return ref
    return resource_variable_ops.read_variable_op(ref, ref.op.get_attr("dtype"))


def _value_dtype(ref: _ops.Tensor) -> _dt.DType:
    return ref.op.get_attr("dtype") if ref.dtype.base_dtype == _dt.resource else ref.dtype.base_dtype


def _restore_one(ref: _ops.Tensor, value: _ops.Tensor, validate: bool):
    if ref.dtype.base_dtype == _dt.resource:
        if validate:
            ref.op.get_attr("shape").assert_is_compatible_with(value.shape)
        return resource_variable_ops.assign_variable_op(ref, value)
    return state_ops.assign(ref, value, validate_shape=validate)


def _variable_ref(var) -> _ops.Tensor:
    ref = var._ref() if isinstance(var, Variable) else var
    if not _is_variable_tensor(ref):
        raise TypeError(f"Variable to save is not a Variable: {var}")
    return ref


def _variable_reads(var_list) -> dict:
    """{resource handle: the variable's own read tensor} for the resource variables in `var_list` (a list or
    dict of Variables, PartitionedVariables or lists of parts): what TF's sharded save writes for them."""
    values = var_list.values() if isinstance(var_list, dict) else var_list
    reads = {}
    for value in values:
        for var in (value if isinstance(value, (list, tuple, PartitionedVariable)) else [value]):
            element = getattr(var, "_graph_element", None) if isinstance(var, Variable) else None
            if isinstance(element, _ops.Tensor) and element.op.type == "ReadVariableOp":
                reads[element.op.inputs[0]] = element
    return reads


def op_list_to_dict(op_list) -> dict:
    """{checkpoint name: what is saved under it}: a variable's ref tensor, or a list of the Variables that
    are slices of one saved tensor (the parts of a partitioned variable).

    From a list, a variable is named by its op, a part of a partitioned variable (it has a save slice info)
    joins the other parts under the full variable's name, and a PartitionedVariable gives its parts under
    its name; a dict names each value, a list or PartitionedVariable there being the slices of that name."""
    if not isinstance(op_list, (list, tuple, set, dict)):
        raise TypeError(f"Variables to save should be passed in a dict or a list: {op_list}")
    names_to_saveables: dict = {}
    if isinstance(op_list, dict):
        for name, var in sorted(op_list.items(), key=lambda kv: kv[0]):
            if not isinstance(name, str):
                raise TypeError(f"Checkpoint names must be strings, got {name!r}")
            if isinstance(var, (list, tuple, PartitionedVariable)):
                names_to_saveables[name] = list(var)
            else:
                names_to_saveables[name] = _variable_ref(var)
        return names_to_saveables
    for var in op_list:
        if isinstance(var, PartitionedVariable):
            if var.name in names_to_saveables:
                raise ValueError(f"At least two variables have the same name: {var.name}")
            names_to_saveables[var.name] = list(var)
        elif isinstance(var, Variable) and var._save_slice_info is not None:
            name = var._save_slice_info.full_name
            if name in names_to_saveables:
                if not isinstance(names_to_saveables[name], list):
                    raise ValueError(f"Mixing slices and non-slices with the same name: {name}")
                names_to_saveables[name].append(var)
            else:
                names_to_saveables[name] = [var]
        else:
            ref = _variable_ref(var)
            name = ref.op.name
            if name in names_to_saveables:
                raise ValueError(f"At least two variables have the same name: {name}")
            names_to_saveables[name] = ref
    return names_to_saveables


def _saved_tensors(names_to_saveables: dict) -> list[tuple[str, str, _ops.Tensor]]:
    """(checkpoint name, shape_and_slices spec, variable ref) per tensor SaveV2 writes, in name order, the
    slices of one name in the order given (as TF's saver orders them)."""
    out = []
    seen: set = set()
    for name in sorted(names_to_saveables):
        saveable = names_to_saveables[name]
        if not isinstance(saveable, list):
            items = [("", saveable)]
        else:
            items = []
            slice_name = None
            for var in saveable:
                if not isinstance(var, Variable):
                    raise ValueError(f"Slices must all be Variables: {var}")
                info = var._save_slice_info
                if info is None:
                    raise ValueError(f"Slices must all be slices: {var}")
                if slice_name is None:
                    slice_name = info.full_name
                elif slice_name != info.full_name:
                    raise ValueError(f"Slices must all be from the same tensor: {slice_name} != {info.full_name}")
                items.append((info.spec, var._ref()))
        for spec, ref in items:
            if ref.op in seen:
                raise ValueError(f"The same saveable will be restored with two names: {name}")
            seen.add(ref.op)
            out.append((name, spec, ref))
    return out


def _wrap_restore_error(err: _errors.OpError, extra: str) -> _errors.OpError:
    msg = (f"Restoring from checkpoint failed. This is most likely due to {extra} from the checkpoint. Please "
           f"ensure that you have not altered the graph expected based on the checkpoint. Original error:\n\n"
           f"{err.message}")
    return type(err)(err.node_def, err.op, msg)


# ----------------------------------------------------------------------------------------------------------
# Saver
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.Saver")
class Saver:
    """`tf.train.Saver(var_list=None, max_to_keep=5, ...)`: `save(sess, path)` writes the variables' values in
    `sess` to a checkpoint and records it in the directory's `checkpoint` file; `restore(sess, path)` assigns
    them back. Keeps the newest `max_to_keep` checkpoints (all if None or 0)."""

    def __init__(self, var_list=None, reshape: bool = False, sharded: bool = False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially: bool = False,
                 saver_def=None, builder=None, defer_build: bool = False, allow_empty: bool = False,
                 write_version=2, pad_step_number: bool = False, save_relative_paths: bool = False,
                 filename=None) -> None:
        if builder is not None:
            raise NotImplementedError("tfmini's Saver cannot be built with a custom builder.")
        if defer_build and var_list is not None:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either set defer_build=False "
                             "or var_list=None.")
        self._var_list = var_list
        self._reshape = reshape
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._last_checkpoints: list[tuple[str, float]] = []
        self._checkpoints_to_be_deleted: list[tuple[str, float]] = []
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._is_built = False
        self._is_empty = False
        self._sharded = sharded
        self._write_version = write_version
        self.saver_def = None
        if saver_def is not None:
            self._init_from_saver_def(saver_def)
        elif not defer_build:
            self.build()

    def _init_from_saver_def(self, saver_def) -> None:
        """Uses the save and restore ops a SaverDef names (under the scope `name`, when given) instead of
        building new ones: the Saver of an imported meta graph."""
        if not isinstance(saver_def, saver_pb2.SaverDef):
            raise ValueError(f"saver_def must be a saver_pb2.SaverDef: {saver_def}")
        if not saver_def.save_tensor_name:
            raise ValueError(f"saver_def must specify the save_tensor_name: {saver_def}")
        if not saver_def.restore_op_name:
            raise ValueError(f"saver_def must specify the restore_op_name: {saver_def}")
        filename, save, restore = _meta_graph.saver_def_names(saver_def, self._name)
        self.saver_def = saver_pb2.SaverDef()
        self.saver_def.CopyFrom(saver_def)
        self.saver_def.filename_tensor_name = filename
        self.saver_def.save_tensor_name = save
        self.saver_def.restore_op_name = restore
        graph = _ops.get_default_graph()
        self._filename_tensor = graph.as_graph_element(filename, allow_operation=False)
        self._save_tensor = graph.as_graph_element(save, allow_operation=False)
        self._restore_op = graph.as_graph_element(restore, allow_tensor=False)
        self._max_to_keep = saver_def.max_to_keep
        self._keep_checkpoint_every_n_hours = saver_def.keep_checkpoint_every_n_hours
        self._next_checkpoint_time = time.time() + saver_def.keep_checkpoint_every_n_hours * 3600
        self._sharded = saver_def.sharded
        self._write_version = saver_def.version
        self._is_built = True

    def build(self) -> None:
        """Adds the save and restore ops to the graph (done by the constructor unless `defer_build`)."""
        if self._is_built:
            return
        var_list = self._var_list
        if var_list is None:
            var_list = global_variables() + _ops.get_collection(_ops.GraphKeys.SAVEABLE_OBJECTS)
        if not var_list:
            if self._allow_empty:
                self._is_empty = True
                self._is_built = True
                return
            raise ValueError("No variables to save")
        saved = _saved_tensors(op_list_to_dict(var_list))
        names = [name for name, _, _ in saved]
        refs = [ref for _, _, ref in saved]
        with _ops.name_scope(self._name, "save", refs):
            filename = array_ops.placeholder_with_default(self._filename or "model", shape=(), name="filename")
            self._filename_tensor = array_ops.placeholder_with_default(filename, shape=(), name="Const")
            if self._sharded:
                self._save_tensor, self._restore_op = _build_sharded(
                    self._filename_tensor, saved, _variable_reads(var_list), self._reshape)
            else:
                self._build_single(saved, refs, names)
        self.saver_def = saver_pb2.SaverDef(
            filename_tensor_name=self._filename_tensor.name, save_tensor_name=self._save_tensor.name,
            restore_op_name=self._restore_op.name, max_to_keep=self._max_to_keep or 0, sharded=self._sharded,
            keep_checkpoint_every_n_hours=self._keep_checkpoint_every_n_hours,
            version=saver_pb2.SaverDef.V2 if self._write_version == 2 else saver_pb2.SaverDef.V1)
        self._is_built = True

    def _build_single(self, saved: list, refs: list, names: list) -> None:
        """The save tensor and restore op of a saver that writes one shard: one SaveV2 and one RestoreV2."""
        names_t = constant(names, dtype=_dt.string, name="tensor_names")
        slices_t = constant([spec for _, spec, _ in saved], dtype=_dt.string, name="shape_and_slices")
        values = [_saved_value(r) for r in refs]
        save = apply_op("SaveV2", [self._filename_tensor, names_t, slices_t, values], name="SaveV2")
        self._save_tensor = control_flow_ops.with_dependencies([save], self._filename_tensor)
        restored = apply_op("RestoreV2", [self._filename_tensor, names_t, slices_t],
                            {"dtypes": [_value_dtype(r) for r in refs]}, name="RestoreV2").outputs
        assigns = []
        for ref, value in zip(refs, restored):
            shape = ref.op.get_attr("shape") if ref.dtype.base_dtype == _dt.resource else ref.shape
            validate = not self._reshape and shape.is_fully_defined()
            assigns.append(_restore_one(ref, value, validate))
        self._restore_op = control_flow_ops.group(*assigns, name="restore_all")

    # -- as a proto ------------------------------------------------------------
    def as_saver_def(self):
        """The SaverDef naming this saver's filename tensor, save tensor and restore op (None for an empty
        saver)."""
        return self.saver_def

    def to_proto(self, export_scope=None):
        """The SaverDef with names relative to `export_scope` (None when the saver lies outside it)."""
        if self.saver_def is None:
            return None
        if export_scope is None:
            return self.saver_def
        names = (self.saver_def.filename_tensor_name, self.saver_def.save_tensor_name,
                 self.saver_def.restore_op_name)
        scope = export_scope.rstrip("/") + "/"
        if not all(n.startswith(scope) for n in names):
            return None
        proto = saver_pb2.SaverDef()
        proto.CopyFrom(self.saver_def)
        proto.filename_tensor_name, proto.save_tensor_name, proto.restore_op_name = (
            _meta_graph.strip_name_scope(n, export_scope) for n in names)
        return proto

    @staticmethod
    def from_proto(saver_def, import_scope=None) -> Saver:
        """A Saver over the ops `saver_def` names (under `import_scope`) in the default graph."""
        return Saver(saver_def=saver_def, name=import_scope)

    def export_meta_graph(self, filename=None, collection_list=None, as_text: bool = False, export_scope=None,
                          clear_devices: bool = False, clear_extraneous_savers: bool = False,
                          strip_default_attrs: bool = False, save_debug_info: bool = False):
        """`tf.train.export_meta_graph` of the default graph with this saver's SaverDef."""
        return _meta_graph.export_meta_graph(
            filename=filename, graph_def=_ops.get_default_graph().as_graph_def(add_shapes=True),
            saver_def=self.saver_def, collection_list=collection_list, as_text=as_text,
            export_scope=export_scope, clear_devices=clear_devices,
            clear_extraneous_savers=clear_extraneous_savers, strip_default_attrs=strip_default_attrs,
            save_debug_info=save_debug_info)

    # -- what it built ---------------------------------------------------------
    @property
    def last_checkpoints(self) -> list[str]:
        """The kept checkpoints, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints) -> None:
        if not isinstance(last_checkpoints, list):
            raise AssertionError(f"last_checkpoints must be a list: {last_checkpoints}")
        self._last_checkpoints = [(p, float("inf")) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time) -> None:
        if not isinstance(last_checkpoints_with_time, list):
            raise AssertionError(f"last_checkpoints_with_time must be a list: {last_checkpoints_with_time}")
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths) -> None:
        """Takes over the existing checkpoints among `checkpoint_paths` (e.g. after a restart)."""
        mtimes = _ckpt.get_checkpoint_mtimes(checkpoint_paths)
        self.set_last_checkpoints_with_time(list(zip([p for p in checkpoint_paths if _ckpt.checkpoint_exists(p)],
                                                     mtimes)))

    # -- saving ----------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None, meta_graph_suffix: str = "meta",
             write_meta_graph: bool = True, write_state: bool = True, strip_default_attrs: bool = False,
             save_debug_info: bool = False):
        """Writes the variables' values in `sess` to `save_path` (suffixed `-<global_step>` when given) and
        returns that checkpoint prefix (None for an empty saver). With `write_meta_graph`, the session's graph
        is also exported to `<prefix>.<meta_graph_suffix>` with this saver's SaverDef."""
        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = training_util.global_step(sess, global_step)
            step = f"{global_step:08d}" if self._pad_step_number else f"{global_step:d}"
            checkpoint_file = f"{save_path}-{step}"
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename:
                raise ValueError(f"'latest_filename' collides with 'save_path': '{latest_filename}' and "
                                 f"'{save_path}'")
        if not (hasattr(sess, "run") and hasattr(sess, "graph")):
            raise TypeError(f"'sess' must be a Session; {sess}")
        save_dir = os.path.dirname(save_path)
        if self._is_empty:
            return None
        try:
            path = sess.run(self._save_tensor, {self._filename_tensor: checkpoint_file})
        except (_errors.FailedPreconditionError, _errors.NotFoundError) as exc:
            if not os.path.isdir(save_dir or "."):
                raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.") from None
            raise exc from None
        path = path.decode() if isinstance(path, bytes) else str(path)
        if write_state:
            self._record_last_checkpoint(path)
            _ckpt.update_checkpoint_state(
                save_dir, path, self.last_checkpoints, latest_filename,
                save_relative_paths=self._save_relative_paths)
            self._maybe_delete_old_checkpoints(meta_graph_suffix)
        if write_meta_graph:
            with sess.graph.as_default():
                self.export_meta_graph(meta_graph_filename(checkpoint_file, meta_graph_suffix),
                                       strip_default_attrs=strip_default_attrs)
        return path

    def _record_last_checkpoint(self, path: str) -> None:
        if not self._max_to_keep:
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        if len(self._last_checkpoints) > self._max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix: str) -> None:
        while self._checkpoints_to_be_deleted:
            path, saved_at = self._checkpoints_to_be_deleted.pop(0)
            # One checkpoint per keep_checkpoint_every_n_hours survives deletion.
            if saved_at > self._next_checkpoint_time:
                self._next_checkpoint_time += self._keep_checkpoint_every_n_hours * 3600
                continue
            _ckpt.remove_checkpoint(path, meta_graph_suffix=meta_graph_suffix)

    # -- restoring -------------------------------------------------------------
    def restore(self, sess, save_path) -> None:
        """Assigns the values saved in checkpoint `save_path` to the variables in `sess`."""
        if self._is_empty:
            return
        if not self._is_built:
            raise RuntimeError("`build()` should be called before restore if defer_build==True")
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not _ckpt.checkpoint_exists(save_path):
            raise ValueError("The passed save_path is not a valid checkpoint: " + save_path)
        try:
            sess.run(self._restore_op, {self._filename_tensor: save_path})
        except _errors.NotFoundError as err:
            raise _wrap_restore_error(err, "a Variable name or other graph key that is missing") from None
        except _errors.InvalidArgumentError as err:
            raise _wrap_restore_error(err, "a mismatch between the current graph and the graph") from None


def meta_graph_filename(checkpoint_filename: str, meta_graph_suffix: str = "meta") -> str:
    """The meta graph file of a checkpoint: its prefix (without a '-?????-of-NNNNN' shard suffix) plus
    '.<meta_graph_suffix>'."""
    base = re.sub(r"-[\d\?]+-of-\d+$", "", checkpoint_filename)
    return f"{base}.{meta_graph_suffix}"


def _saver_to_proto(saver, export_scope=None):
    return saver.to_proto(export_scope=export_scope)


_meta_graph.register_proto_function(_ops.GraphKeys.SAVERS, saver_pb2.SaverDef, _saver_to_proto, Saver.from_proto)


# ----------------------------------------------------------------------------------------------------------
# import_meta_graph
# ----------------------------------------------------------------------------------------------------------
_IMPORT_KWARGS = {"input_map", "return_elements", "restore_collections_predicate", "unbound_inputs_col_name"}


@tf_export("train.import_meta_graph")
def import_meta_graph(meta_graph_or_file, clear_devices: bool = False, import_scope=None, **kwargs):
    """`tf.train.import_meta_graph`: adds the graph of a MetaGraphDef (or of the `.meta` file holding one) to
    the default graph under `import_scope`, with its collections (variables, train op, losses, ...), and
    returns a Saver for its variables: the meta graph's own save/restore ops when it has a SaverDef, a new
    Saver when it only has variables, None when it has neither.

    Keyword arguments `input_map` and `return_elements` go to the GraphDef import (the returned elements
    are not returned, as in TF)."""
    unknown = set(kwargs) - _IMPORT_KWARGS
    if unknown:
        raise TypeError(f"import_meta_graph() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    if isinstance(meta_graph_or_file, meta_graph_pb2.MetaGraphDef):
        meta_graph_def = meta_graph_or_file
    else:
        meta_graph_def = _meta_graph.read_meta_graph_file(os.fspath(meta_graph_or_file))
    imported_vars, _ = _meta_graph.import_scoped_meta_graph(
        meta_graph_def, clear_devices=clear_devices, import_scope=import_scope, **kwargs)
    return _saver_for_imported_meta_graph(meta_graph_def, import_scope, imported_vars)


def _saver_for_imported_meta_graph(meta_graph_def, import_scope, imported_vars):
    if meta_graph_def.HasField("saver_def"):
        scope = import_scope
        if imported_vars:
            # The import scope as made unique by the import: the prefix of an imported variable's name.
            sample_key, sample_var = next(iter(imported_vars.items()))
            scope = sample_var.op.name[:-len(sample_key)]
        return Saver(saver_def=meta_graph_def.saver_def, name=scope or None)
    if _ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES, scope=import_scope) or \
            _ops.get_collection(_ops.GraphKeys.SAVEABLE_OBJECTS, scope=import_scope):
        return Saver()
    return None
