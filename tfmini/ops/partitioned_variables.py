"""Partitioned variables: the partitioners (`tf.fixed_size_partitioner`, `tf.variable_axis_size_partitioner`,
`tf.min_max_variable_partitioner`), `PartitionedVariable` (one logical variable stored as slices `name/part_i`
along one axis, concatenated when read) and the slicing that `get_variable(..., partitioner=...)` uses.

Below variable_scope, which creates the parts through its variable store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops
from tfmini.protobuf import variable_pb2


# ----------------------------------------------------------------------------------------------------------
# Partitioners: (shape: TensorShape, dtype: DType) -> the number of parts along each axis
# ----------------------------------------------------------------------------------------------------------
def _element_bytes(dtype: _dt.DType, bytes_per_string_element: int) -> int:
    dtype = _dt.as_dtype(dtype).base_dtype
    return bytes_per_string_element if dtype == _dt.string else dtype.size


@tf_export("fixed_size_partitioner")
def fixed_size_partitioner(num_shards, axis=0) -> Callable:
    """A partitioner cutting `axis` into `num_shards` parts (fewer when the axis is shorter)."""
    def _partitioner(shape, **unused_args):
        partitions = [1] * len(shape)
        partitions[axis] = min(num_shards, _shape.dimension_value(shape[axis]))
        return partitions

    return _partitioner


@tf_export("variable_axis_size_partitioner")
def variable_axis_size_partitioner(max_shard_bytes, axis=0, bytes_per_string_element=16, max_shards=None) -> Callable:
    """A partitioner cutting `axis` into as few parts as keep each under `max_shard_bytes` (a part holds at
    least one slice of the axis), and at most `max_shards` parts."""
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError("Both max_shard_bytes and bytes_per_string_element must be positive.")
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def _partitioner(shape, dtype):
        if not isinstance(shape, _shape.TensorShape):
            raise ValueError(f"shape is not a TensorShape: {shape}")
        if not shape.is_fully_defined():
            raise ValueError(f"shape is not fully defined: {shape}")
        if not isinstance(dtype, _dt.DType):
            raise ValueError(f"dtype is not a DType: {dtype}")
        axis_len = _shape.dimension_value(shape[axis])
        slice_bytes = shape.num_elements() / axis_len * _element_bytes(dtype, bytes_per_string_element)
        slices_per_shard = max(1, math.floor(max_shard_bytes / slice_bytes))
        shards = int(math.ceil(axis_len / slices_per_shard))
        if max_shards:
            shards = min(max_shards, shards)
        partitions = [1] * shape.ndims
        partitions[axis] = shards
        return partitions

    return _partitioner


@tf_export("min_max_variable_partitioner")
def min_max_variable_partitioner(max_partitions=1, axis=0, min_slice_size=256 << 10,
                                 bytes_per_string_element=16) -> Callable:
    """A partitioner giving each part at least `min_slice_size` bytes, with at most `max_partitions` parts
    along `axis` (and no more than the axis is long)."""
    def _partitioner(shape, dtype):
        if axis >= len(shape):
            raise ValueError(f"Can not partition variable along axis {axis} when shape is only {shape}")
        total_bytes = shape.num_elements() * _element_bytes(dtype, bytes_per_string_element)
        partitions = [1] * len(shape)
        wanted = int(math.ceil(total_bytes / min_slice_size))
        partitions[axis] = max(1, min(_shape.dimension_value(shape[axis]), max_partitions, wanted))
        return partitions

    return _partitioner


# ----------------------------------------------------------------------------------------------------------
# Slicing a variable into parts
# ----------------------------------------------------------------------------------------------------------
class PartitionInfo:
    """What an initializer learns about the part it fills: the full variable's shape and the part's offset."""

    def __init__(self, full_shape, var_offset) -> None:
        if not isinstance(full_shape, (list, tuple)) or not isinstance(var_offset, (list, tuple)):
            raise TypeError("`full_shape` and `var_offset` must be sequences of ints.")
        if len(full_shape) != len(var_offset):
            raise ValueError(f"Expected equal length, but `var_offset` is of length {len(var_offset)} while "
                             f"full_shape is of length {len(full_shape)}.")
        for offset, dim in zip(var_offset, full_shape):
            if offset < 0 or offset >= dim:
                raise ValueError(f"Expected 0 <= offset < shape but found offset={var_offset}, "
                                 f"full_shape={full_shape}")
        self._full_shape = list(full_shape)
        self._var_offset = list(var_offset)

    @property
    def full_shape(self) -> list:
        return self._full_shape

    @property
    def var_offset(self) -> list:
        return self._var_offset

    def single_offset(self, shape) -> int:
        """The offset of the part along the one axis it is sliced on."""
        dim = self.single_slice_dim(shape)
        return 0 if dim is None else self._var_offset[dim]

    def single_slice_dim(self, shape) -> int | None:
        """The one axis along which the part of `shape` is a slice of the full variable (None if none)."""
        shape = list(shape)
        if len(shape) != len(self._full_shape):
            raise ValueError(f"Expected equal length, but received shape={shape} of length {len(shape)} while "
                             f"self.full_shape={self._full_shape} is of length {len(self._full_shape)}.")
        sliced = [i for i, (s, f) in enumerate(zip(shape, self._full_shape)) if s != f]
        if len(sliced) > 1:
            raise ValueError(f"Cannot use single_slice_dim() with shape={shape} and "
                             f"self.full_shape={self._full_shape} since slice dim could be one of {sliced}")
        return sliced[0] if sliced else None


class SaveSliceInfo:
    """Where a part sits in the full variable a checkpoint saves: the full variable's name and shape, and the
    part's offset and shape."""

    def __init__(self, full_name=None, full_shape=None, var_offset=None, var_shape=None,
                 save_slice_info_def=None, import_scope=None) -> None:
        if save_slice_info_def is not None:
            full_name = _ops.prepend_name_scope(save_slice_info_def.full_name, import_scope)
            full_shape = list(save_slice_info_def.full_shape)
            var_offset = list(save_slice_info_def.var_offset)
            var_shape = list(save_slice_info_def.var_shape)
        self.full_name = full_name
        self.full_shape = full_shape
        self.var_offset = var_offset
        self.var_shape = var_shape

    @property
    def spec(self) -> str:
        """The slice spec a checkpoint stores: 'd0 d1 ... offset0,len0:offset1,len1:...'."""
        full = " ".join(str(d) for d in self.full_shape) + " "
        return full + ":".join(f"{o},{s}" for o, s in zip(self.var_offset, self.var_shape))

    def to_proto(self, export_scope=None):
        if export_scope is not None and not self.full_name.startswith(export_scope):
            return None
        proto = variable_pb2.SaveSliceInfoDef()
        proto.full_name = _ops.strip_name_scope(self.full_name, export_scope)
        proto.full_shape.extend(self.full_shape)
        proto.var_offset.extend(self.var_offset)
        proto.var_shape.extend(self.var_shape)
        return proto


def call_partitioner(partitioner: Callable, shape: _shape.TensorShape, dtype: _dt.DType) -> list:
    """The partitioner's answer for a new variable, checked as TF checks it."""
    if not shape.is_fully_defined():
        raise ValueError(f"Shape of a new partitioned variable must be fully defined, but instead was {shape}.")
    if shape.ndims < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1, shape: {shape}")
    partitions = partitioner(shape=shape, dtype=dtype)
    if not isinstance(partitions, Sequence):
        raise ValueError(f"Partitioner must return a sequence, but saw: {partitions}")
    if len(partitions) != shape.ndims:
        raise ValueError(f"Partitioner returned a partition list that does not match the Variable's rank: "
                         f"{partitions} vs. {shape}")
    if any(p < 1 for p in partitions):
        raise ValueError(f"Partitioner returned zero partitions for some axes: {partitions}")
    return list(partitions)


def slice_dim_and_num_slices(partitions: Sequence[int]) -> tuple[int, int]:
    """The one axis that is cut and into how many parts ((0, 1) when nothing is cut)."""
    cut = [(i, p) for i, p in enumerate(partitions) if p > 1]
    if len(cut) > 1:
        raise ValueError(f"Can only slice a variable along one dimension: shape: {partitions}, partitioning: "
                         f"{partitions}")
    return cut[0] if cut else (0, 1)


def iter_slices(full_shape: list, num_slices: int, slice_dim: int) -> Iterator[tuple[list, list]]:
    """(offset, shape) of each part: the first `len % num_slices` parts are one longer than the others."""
    longer = full_shape[slice_dim] % num_slices
    base = full_shape[slice_dim] // num_slices
    offset = [0] * len(full_shape)
    for i in range(num_slices):
        shape = list(full_shape)
        shape[slice_dim] = base + (1 if i < longer else 0)
        yield list(offset), shape
        offset[slice_dim] += shape[slice_dim]


# ----------------------------------------------------------------------------------------------------------
# PartitionedVariable
# ----------------------------------------------------------------------------------------------------------
class PartitionedVariable:
    """One variable of shape `shape` stored as the variables of `variable_list`, slices along one axis.

    Iterating gives the parts in order; used as a tensor it is their concatenation (read-only: it cannot be
    used as a reference). `assign`, `assign_add` and `assign_sub` split the value over the parts.
    """

    def __init__(self, name, shape, dtype, variable_list, partitions) -> None:
        if not isinstance(variable_list, (list, tuple)):
            raise TypeError(f"variable_list is not a list or tuple: {variable_list}")
        if not isinstance(partitions, (list, tuple)):
            raise TypeError(f"partitions is not a list or tuple: {partitions}")
        if not all(p >= 1 for p in partitions):
            raise ValueError(f"partition values must be positive: {partitions}")
        if not variable_list:
            raise ValueError("variable_list may not be empty")
        for v in variable_list:
            if getattr(v, "_save_slice_info", None) is None:
                names = [v.name for v in variable_list]
                raise ValueError(f"All variables must have a save_slice_info available: {names}")
        shape = _shape.as_shape(shape)
        if len(shape) != len(partitions):
            raise ValueError(f"len(shape) != len(partitions): {shape} vs. {partitions}")
        if not all(v.dtype.base_dtype == _dt.as_dtype(dtype).base_dtype for v in variable_list):
            raise ValueError(f"All variables' dtypes must match dtype {dtype}")
        self._variable_list = sorted(variable_list, key=lambda v: v._save_slice_info.var_offset)
        self._name = name
        self._shape = shape
        self._dtype = _dt.as_dtype(dtype).base_dtype
        self._partitions = list(partitions)
        self._as_tensor = None

    def __iter__(self) -> Iterator:
        return iter(self._variable_list)

    def __len__(self) -> int:
        axes = self._partition_axes()
        if len(axes) > 1:
            raise ValueError(f"Cannot get a length for {len(axes)} > 1 partition axes")
        return len(self._variable_list)

    def _partition_axes(self) -> list:
        return [i for i, p in enumerate(self._partitions) if p > 1] or [0]

    def _concat(self) -> _ops.Tensor:
        if len(self._variable_list) == 1:
            with _ops.name_scope(None):
                return array_ops.identity(self._variable_list[0], name=self._name)
        axes = self._partition_axes()
        if len(axes) > 1:
            raise NotImplementedError(f"Cannot concatenate along more than one dimension: {axes}. Multi-axis "
                                      "partition concat is not supported")
        with _ops.name_scope(self._name + "/ConcatPartitions/"):
            concatenated = array_ops.concat(list(self._variable_list), axes[0])
        with _ops.name_scope(None):
            return array_ops.identity(concatenated, name=self._name)

    def as_tensor(self) -> _ops.Tensor:
        """The parts concatenated into the full value (built outside any control dependencies)."""
        with _ops.control_dependencies(None):
            return self._concat()

    @staticmethod
    def _tensor_conversion(v, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
        if as_ref:
            raise NotImplementedError("PartitionedVariable doesn't support being used as a reference.")
        if dtype is not None and not dtype.is_compatible_with(v.dtype):
            raise ValueError(f"Incompatible type conversion requested to type '{dtype.name}' for variable of "
                             f"type '{v.dtype.name}'")
        return v.as_tensor()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def shape(self) -> _shape.TensorShape:
        return self.get_shape()

    def get_shape(self) -> _shape.TensorShape:
        return self._shape

    def _get_variable_list(self) -> list:
        return self._variable_list

    def _get_partitions(self) -> list:
        return self._partitions

    def _apply_assign_fn(self, assign_fn: Callable, value) -> list:
        axes = self._partition_axes()
        if len(axes) > 1:
            raise NotImplementedError(f"Cannot do assign action along more than one dimension: {axes}. "
                                      "Multi-axis partition assign action is not supported ")
        if isinstance(value, list):
            if len(value) != len(self._variable_list):
                raise ValueError(f"Expected {len(self._variable_list)} values, one per part, got {len(value)}")
            values = value
        elif isinstance(value, PartitionedVariable):
            values = list(value)
        else:
            sizes = [_shape.dimension_value(v.shape[axes[0]]) for v in self._variable_list]
            values = array_ops.split(value, sizes, axis=axes[0])
        return [assign_fn(v, values[i]) for i, v in enumerate(self._variable_list)]

    def assign(self, value, use_locking=False, name=None, read_value=True) -> list:
        """Assigns each part its slice of `value` (a tensor of the full shape, a list of parts, or another
        PartitionedVariable); the assigned parts (their ops with `read_value=False`)."""
        parts = self._apply_assign_fn(
            lambda v, x: v.assign(x, use_locking=use_locking, name=name, read_value=read_value), value)
        return parts if read_value else [p.op if isinstance(p, _ops.Tensor) else p for p in parts]

    def assign_add(self, value, use_locking=False, name=None, read_value=True) -> list:
        parts = self._apply_assign_fn(
            lambda v, x: v.assign_add(x, use_locking=use_locking, name=name, read_value=read_value), value)
        return parts if read_value else [p.op if isinstance(p, _ops.Tensor) else p for p in parts]

    def assign_sub(self, value, use_locking=False, name=None, read_value=True) -> list:
        parts = self._apply_assign_fn(
            lambda v, x: v.assign_sub(x, use_locking=use_locking, name=name, read_value=read_value), value)
        return parts if read_value else [p.op if isinstance(p, _ops.Tensor) else p for p in parts]

    def __repr__(self) -> str:
        return (f"<PartitionedVariable '{self._name}' shape={self._shape} dtype={self._dtype.name} "
                f"parts={len(self._variable_list)}>")


_ops.register_tensor_conversion_function(PartitionedVariable, PartitionedVariable._tensor_conversion)
