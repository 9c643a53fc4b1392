"""`tf.TensorArray` and the TensorArrayV3 op family: per-run arrays of tensors, written and read one element
(or a batch of elements) at a time, with the scalar *flow* tensor that orders their uses, and their gradients
(a gradient TensorArray, found by `TensorArrayGradV3` from the forward one, collects the gradients of reads).

The handle an array's `TensorArrayV3` op outputs carries the array's storage, created fresh each time the op
runs: it lives as long as the run (or the loop iteration) that created it, and concurrent runs never share
one. Knows the op registry and the array/math ops; nothing of sessions or control flow."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import (
    REQUIRED,
    NotDifferentiable,
    RegisterGradient,
    apply_op,
    constant_value,
    register_op,
)
from tfmini.ops import array_ops, gradients_impl, math_ops

_UNKNOWN = _shape.unknown_shape()

# TF's names of data types in kernel messages ('float', not 'float32').
_TYPE_NAMES = {"float32": "float", "float64": "double"}


def _type_name(dtype: _dt.DType) -> str:
    name = dtype.base_dtype.name
    return _TYPE_NAMES.get(name, name)


def _shape_str(shape: _shape.TensorShape) -> str:
    """A partial shape as TF's kernels print it: [2,?] or <unknown>."""
    return "<unknown>" if shape.ndims is None else _shape.dims_str(shape)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _index(value) -> int:
    if getattr(value, "ndim", 0) != 0:
        raise _invalid(f"TensorArray index must be a scalar, got shape {list(np.shape(value))}")
    return int(value)


# ----------------------------------------------------------------------------------------------------------
# Storage: what a handle carries at run time
# ----------------------------------------------------------------------------------------------------------
class TensorArrayStorage:
    """The elements of one TensorArray in one run, the element shape known so far and the gradient arrays made
    from it (by gradient source).

    An element is a value written on its own (`values`, by index) or a row of a block a scatter wrote at once
    (`blocks`, `block_of`, `row_of`), so unstacking n rows and stacking them again cost O(n) NumPy work, not n
    Python steps. Per-element flags are NumPy arrays with spare capacity, so growing one element at a time is
    amortized O(1)."""

    __slots__ = ("name", "dtype", "_n", "values", "shapes", "written", "cleared", "block_of", "row_of", "blocks",
                 "element_shape", "_dims", "_known", "np_dtype", "dynamic_size", "clear_after_read",
                 "identical_shapes", "aggregate", "forward",
                 "closed", "grads")

    def __init__(self, name: str, dtype: _dt.DType, size: int, element_shape: _shape.TensorShape, *,
                 dynamic_size: bool, clear_after_read: bool, identical_shapes: bool, aggregate: bool = False,
                 forward: TensorArrayStorage | None = None) -> None:
        self.name = name
        self.dtype = dtype.base_dtype
        self._n = 0
        self.values: dict[int, np.ndarray] = {}
        # The shape of each element written on its own, kept after a clearing read: a gradient array reads
        # the zeros of an element nobody differentiated with the shape its forward element had.
        self.shapes: dict[int, tuple] = {}
        self.written = np.zeros(0, bool)
        self.cleared = np.zeros(0, bool)
        self.block_of = np.zeros(0, np.int32)
        self.row_of = np.zeros(0, np.int32)
        self.blocks: list[np.ndarray] = []
        self.np_dtype = self.dtype.as_numpy_dtype
        self._set_element_shape(element_shape)
        self.dynamic_size = dynamic_size
        self.clear_after_read = clear_after_read
        self.identical_shapes = identical_shapes
        self.aggregate = aggregate  # gradient arrays sum repeated writes to one index
        self.forward = forward
        self.closed = False
        self.grads: dict[str, TensorArrayStorage] = {}
        self.grow(size)

    def __repr__(self) -> str:
        return f"<TensorArray '{self.name}' size={self._n} dtype={self.dtype.name}>"

    @property
    def size(self) -> int:
        return self._n

    def check_open(self) -> None:
        if self.closed:
            raise _invalid(f"TensorArray {self.name} has already been closed.")

    def close(self) -> None:
        self.closed = True
        self.values, self.blocks = {}, []

    def grow(self, size: int) -> None:
        """Makes the array at least `size` elements long."""
        if size <= self._n:
            return
        capacity = len(self.written)
        if size > capacity:
            # An array made with its size gets exactly that; one that grows by writes doubles its capacity.
            new = size if capacity == 0 else max(size, 2 * capacity)
            self.written = _extended(self.written, new, False)
            self.cleared = _extended(self.cleared, new, False)
            self.block_of = _extended(self.block_of, new, -1)
            self.row_of = _extended(self.row_of, new, 0)
        self._n = size

    def _shape_at(self, index: int):
        b = self.block_of[index]
        return self.shapes.get(index) if b < 0 else self.blocks[b].shape[1:]

    def _value_at(self, index: int):
        b = self.block_of[index]
        return self.values[index] if b < 0 else self.blocks[b][self.row_of[index]]

    def _set_element_shape(self, shape: _shape.TensorShape) -> None:
        self.element_shape = shape
        # The same as plain tuples, for the per-write check: dims (None where unknown; None for an unknown
        # rank) and the shape when fully defined.
        self._dims = shape.as_tuple()
        self._known = self._dims if shape.is_fully_defined() else None

    def _learn_shape(self, index: int, shape: tuple) -> None:
        """Checks an element's shape against the element shape, which identical-shape arrays learn from it."""
        if shape == self._known:
            return
        dims = self._dims
        if dims is not None and (len(dims) != len(shape) or any(d is not None and d != n for d, n in zip(dims, shape))):
            raise _invalid(f"TensorArray {self.name}: Could not write to TensorArray index {index} because the "
                           f"value shape is {_shape.dims_str(shape)} which is incompatible with the TensorArray's "
                           f"inferred element shape: {_shape_str(self.element_shape)} (consider setting "
                           "infer_shape=False).")
        if self.identical_shapes and self._known is None:
            self._set_element_shape(_shape.TensorShape(shape))

    def _check_write_range(self, index: int) -> None:
        if index < 0 or (index >= self._n and not self.dynamic_size):
            raise _invalid(f"TensorArray {self.name}: Tried to write to index {index} but array is not resizeable "
                           f"and size is: {self._n}")

    def write(self, index: int, value: np.ndarray) -> None:
        """Stores `value` (not copied: arrays passed between kernels are never written into) at `index`."""
        self._check_write_range(index)
        self.grow(index + 1)
        shape = np.shape(value)
        self._learn_shape(index, shape)
        if self.written[index]:
            if self.cleared[index]:
                raise _invalid(f"TensorArray {self.name}: Could not write to TensorArray index {index} because it "
                               "has already been read.")
            if not self.aggregate:
                raise _invalid(f"TensorArray {self.name}: Could not write to TensorArray index {index} because it "
                               "has already been written to.")
            old = self._value_at(index)
            if np.shape(old) != shape:
                raise _invalid(f"TensorArray {self.name}: Could not aggregate to TensorArray index {index} because "
                               f"the existing shape is {_shape.dims_str(np.shape(old))} but the new input shape is "
                               f"{_shape.dims_str(shape)}.")
            value = np.add(old, value)
        self.values[index] = value
        self.shapes[index] = shape
        self.block_of[index] = -1
        self.written[index] = True

    def scatter(self, indices: np.ndarray, value: np.ndarray) -> None:
        """Writes row k of `value` at indices[k]: as one block when no index repeats or was written before."""
        if indices.size and int(indices.min()) < 0:
            self._check_write_range(int(indices.min()))
        if indices.size:
            self.grow(int(indices.max()) + 1)
        k = indices.size
        # The usual case, unstack: the indices are a run start, start+1, ... and can be written as slices.
        run = k > 0 and int(indices[-1]) - int(indices[0]) == k - 1 and (k == 1 or bool((np.diff(indices) == 1).all()))
        where = slice(int(indices[0]), int(indices[0]) + k) if run else indices
        fresh = k > 0 and not self.written[where].any() and (run or int(np.bincount(indices).max()) == 1)
        if not fresh:
            for row, i in enumerate(indices.tolist()):
                self.write(i, value[row])
            return
        self._learn_shape(int(indices[0]), value.shape[1:])
        self.block_of[where] = len(self.blocks)
        self.row_of[where] = np.arange(k, dtype=np.int32)
        self.blocks.append(value)
        self.written[where] = True

    def _zeros_shape(self, index: int):
        """The shape an unwritten element reads as (zeros), or None when it cannot be known."""
        if self._known is not None:
            return self._known
        forward = self.forward
        if forward is not None and index < forward.size and forward.written[index]:
            return forward._shape_at(index)
        return None

    def _check_read_range(self, index: int) -> None:
        if index < 0 or index >= self._n:
            raise _invalid(f"TensorArray {self.name}: Tried to read from index {index} but array size is: {self._n}")

    def read(self, index: int) -> np.ndarray:
        self._check_read_range(index)
        if self.cleared[index]:
            raise _invalid(f"TensorArray {self.name}: Could not read index {index} twice because it was cleared "
                           "after a previous read (perhaps try setting clear_after_read = false?).")
        if not self.written[index]:
            shape = self._zeros_shape(index)
            if shape is None:
                raise _invalid(f"TensorArray {self.name}: Could not read from TensorArray index {index} because it "
                               "has not yet been written to, and its element shape "
                               f"{_shape_str(self.element_shape)} is not fully defined (an unwritten element of a "
                               "TensorArray with a fully defined element_shape reads as zeros).")
            return np.zeros(shape, dtype=self.np_dtype)
        value = self._value_at(index)
        if self.clear_after_read:
            self.values.pop(index, None)
            self.cleared[index] = True
        return value

    def read_many(self, indices) -> list:
        return [self.read(i) for i in indices]

    def gather_block(self, indices: np.ndarray):
        """The elements at `indices` stacked, in one NumPy step when they are rows of one block that can all
        be read; else None."""
        if not indices.size or int(indices.min()) < 0 or int(indices.max()) >= self._n:
            return None
        blocks = self.block_of[indices]
        b = int(blocks[0])
        if b < 0 or not (blocks == b).all() or self.cleared[indices].any():
            return None
        if self.clear_after_read:
            if int(np.bincount(indices).max()) > 1:
                return None  # the element-wise path reports the second read of a cleared element
            self.cleared[indices] = True
        return self.blocks[b][self.row_of[indices]]


def _extended(flags: np.ndarray, size: int, fill) -> np.ndarray:
    out = np.full(size, fill, flags.dtype)
    out[:len(flags)] = flags
    return out


def _storage(handle) -> TensorArrayStorage:
    if not isinstance(handle, TensorArrayStorage):
        raise _invalid(f"Expected a TensorArray handle, got {type(handle).__name__}")
    handle.check_open()
    return handle


def _check_dtype(storage: TensorArrayStorage, value) -> None:
    if getattr(value, "dtype", None) == storage.np_dtype:
        return
    dtype = _dt.as_dtype(np.asarray(value).dtype).base_dtype
    if dtype != storage.dtype:
        raise _invalid(f"TensorArray dtype is {_type_name(storage.dtype)} but Op is trying to write dtype "
                       f"{_type_name(dtype)}.")


def _check_read_dtype(storage: TensorArrayStorage, dtype: _dt.DType) -> None:
    if _dt.as_dtype(dtype).base_dtype != storage.dtype:
        raise _invalid(f"TensorArray dtype is {_type_name(storage.dtype)} but Op requested dtype "
                       f"{_type_name(_dt.as_dtype(dtype))}.")


_FLOW = np.float32(0.0)


# ----------------------------------------------------------------------------------------------------------
# Shape functions
# ----------------------------------------------------------------------------------------------------------
def _with_rank(t: _ops.Tensor, rank: int, what: str, op: _ops.Operation) -> None:
    if t.shape.ndims is not None and t.shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {t.shape.ndims} ({what} has shape {t.shape})")


def _scalar_flow_shape(op: _ops.Operation, checks: dict) -> _shape.TensorShape:
    for i, (rank, what) in checks.items():
        _with_rank(op.inputs[i], rank, what, op)
    return _shape.TensorShape([])


def _attr_shape(op: _ops.Operation, attr: str) -> _shape.TensorShape:
    return _shape.as_shape(op.get_attr(attr))


# ----------------------------------------------------------------------------------------------------------
# TensorArrayV3 and TensorArrayGradV3: creating arrays
# ----------------------------------------------------------------------------------------------------------
def _tensor_array_shapes(op: _ops.Operation) -> list:
    _with_rank(op.inputs[0], 0, "size", op)
    return [_shape.TensorShape([2]), _shape.TensorShape([])]


def _tensor_array_factory(op: _ops.Operation, ctx):
    name = op.get_attr("tensor_array_name") or op.name
    dtype = _dt.as_dtype(op.get_attr("dtype"))
    element_shape = _attr_shape(op, "element_shape")
    dynamic_size, clear_after_read = op.get_attr("dynamic_size"), op.get_attr("clear_after_read")
    identical = op.get_attr("identical_element_shapes")

    def run_tensor_array(size):
        if np.ndim(size) != 0:
            raise _invalid(f"TensorArray size must be scalar, but had shape: {list(np.shape(size))}")
        if int(size) < 0:
            raise _invalid(f"Size should be >= 0, got: {int(size)}")
        storage = TensorArrayStorage(name, dtype, int(size), element_shape, dynamic_size=dynamic_size,
                                     clear_after_read=clear_after_read, identical_shapes=identical)
        return storage, _FLOW

    return run_tensor_array


register_op(
    "TensorArrayV3",
    inputs=["size: int32"],
    outputs=["handle: resource", "flow: float32"],
    attrs={"dtype": ("type", REQUIRED), "element_shape": ("shape", _UNKNOWN), "dynamic_size": ("bool", False),
           "clear_after_read": ("bool", True), "identical_element_shapes": ("bool", False),
           "tensor_array_name": ("string", "")},
    shape=_tensor_array_shapes,
    stateful=True,
    factory=_tensor_array_factory,
    doc="A new TensorArray of `size` elements for this run: its handle and its flow.",
)


@register_op(
    "TensorArrayGradV3",
    inputs=["handle: resource", "flow_in: float32"],
    outputs=["grad_handle: resource", "flow_out: float32"],
    attrs={"source": ("string", REQUIRED)},
    shape=lambda op: [_shape.TensorShape([2]), _shape.TensorShape([])],
    stateful=True,
)
def _tensor_array_grad(handle, flow_in, *, source):
    """The gradient TensorArray of `handle` for gradient computation `source` (created on first use, with the
    forward array's size and element shape; repeated writes to one of its elements add up)."""
    forward = _storage(handle)
    grad = forward.grads.get(source)
    if grad is None:
        grad = forward.grads[source] = TensorArrayStorage(
            f"{forward.name}@{source}", forward.dtype, forward.size, forward.element_shape, dynamic_size=False,
            clear_after_read=False, identical_shapes=forward.identical_shapes, aggregate=True, forward=forward)
    return grad, flow_in


# ----------------------------------------------------------------------------------------------------------
# Element-wise access: write, read
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "TensorArrayWriteV3",
    inputs=["handle: resource", "index: int32", "value: T", "flow_in: float32"],
    outputs=["flow_out: float32"],
    shape=lambda op: _scalar_flow_shape(op, {1: (0, "index"), 3: (0, "flow_in")}),
    stateful=True,
)
def _tensor_array_write(handle, index, value, flow_in):
    """Writes `value` to element `index`; returns the new flow."""
    storage = _storage(handle)
    _check_dtype(storage, value)
    storage.write(_index(index), value)
    return flow_in


def _read_shape(op: _ops.Operation) -> _shape.TensorShape:
    """Unknown: the Python wrapper sets the element shape it knows."""
    _scalar_flow_shape(op, {1: (0, "index"), 2: (0, "flow_in")})
    return _UNKNOWN


@register_op(
    "TensorArrayReadV3",
    inputs=["handle: resource", "index: int32", "flow_in: float32"],
    outputs=["value: dtype"],
    attrs={"dtype": ("type", REQUIRED)},
    shape=_read_shape,
    stateful=True,
)
def _tensor_array_read(handle, index, flow_in, *, dtype):
    """Element `index` (zeros if unwritten and the element shape is fully defined)."""
    storage = _storage(handle)
    _check_read_dtype(storage, dtype)
    return storage.read(_index(index))


# ----------------------------------------------------------------------------------------------------------
# Many elements at once: gather/scatter, concat/split, size, close
# ----------------------------------------------------------------------------------------------------------
def _stack_values(storage: TensorArrayStorage, values: list, element_shape: _shape.TensorShape) -> np.ndarray:
    """`values` (elements read from `storage`) stacked along a new axis 0; all must have one shape."""
    if not values:
        shape = element_shape.merge_with(storage.element_shape) if element_shape.is_compatible_with(
            storage.element_shape) else element_shape
        if not shape.is_fully_defined():
            raise _errors.UnimplementedError(
                None, None, f"TensorArray has size zero, but element shape {_shape_str(shape)} is not fully defined. "
                "Currently only static shapes are supported when packing zero-size TensorArrays.")
        return np.zeros((0, *shape.as_tuple()), dtype=storage.np_dtype)
    first = np.shape(values[0])
    for k, v in enumerate(values):
        if np.shape(v) != first:
            raise _invalid(f"TensorArray has inconsistent shapes.  Index 0 has shape: {_shape.dims_str(first)} but "
                           f"index {k} has shape: {_shape.dims_str(np.shape(v))}")
    return np.stack(values)


def _gather_shape(op: _ops.Operation) -> _shape.TensorShape:
    _with_rank(op.inputs[1], 1, "indices", op)
    _with_rank(op.inputs[2], 0, "flow_in", op)
    element = _attr_shape(op, "element_shape")
    if element.ndims is None:
        return _UNKNOWN
    return _shape.TensorShape([op.inputs[1].shape[0] if op.inputs[1].shape.ndims else None]).concatenate(element)


@register_op(
    "TensorArrayGatherV3",
    inputs=["handle: resource", "indices: int32", "flow_in: float32"],
    outputs=["value: dtype"],
    attrs={"dtype": ("type", REQUIRED), "element_shape": ("shape", _UNKNOWN)},
    shape=_gather_shape,
    stateful=True,
    fresh_output=True,
)
def _tensor_array_gather(handle, indices, flow_in, *, dtype, element_shape):
    """The elements at `indices`, stacked along a new axis 0."""
    storage = _storage(handle)
    _check_read_dtype(storage, dtype)
    indices = np.asarray(indices)
    if indices.ndim != 1:
        raise _invalid(f"indices must be a vector, but had shape: {_shape.dims_str(indices.shape)}")
    stacked = storage.gather_block(indices)
    if stacked is not None:
        return stacked
    return _stack_values(storage, storage.read_many(indices.tolist()), _shape.as_shape(element_shape))


def _scatter_shape(op: _ops.Operation) -> _shape.TensorShape:
    indices, value = op.inputs[1].shape, op.inputs[2].shape
    _with_rank(op.inputs[1], 1, "indices", op)
    _with_rank(op.inputs[3], 0, "flow_in", op)
    if indices.ndims and value.ndims:
        n, m = indices[0].value, value[0].value
        if n is not None and m is not None and n != m:
            raise ValueError(f"Dimensions must be equal, but are {n} and {m}")
    return _shape.TensorShape([])


@register_op(
    "TensorArrayScatterV3",
    inputs=["handle: resource", "indices: int32", "value: T", "flow_in: float32"],
    outputs=["flow_out: float32"],
    shape=_scatter_shape,
    stateful=True,
)
def _tensor_array_scatter(handle, indices, value, flow_in):
    """Writes row k of `value` to element indices[k]."""
    storage = _storage(handle)
    _check_dtype(storage, value)
    indices = np.asarray(indices)
    value = np.asarray(value)
    if indices.ndim != 1:
        raise _invalid(f"indices must be a vector, but had shape: {_shape.dims_str(indices.shape)}")
    if value.ndim == 0 or value.shape[0] != indices.shape[0]:
        rows = "a scalar" if value.ndim == 0 else value.shape[0]
        raise _invalid(f"Expected len(indices) == values.shape[0], but saw: {indices.shape[0]} vs. {rows}")
    if indices.size:
        top = int(indices.max())
        if not storage.dynamic_size and top >= storage.size:
            raise _invalid(f"Max scatter index must be < array size ({top} vs. {storage.size})")
    storage.scatter(indices, value)
    return flow_in


def _concat_shapes(op: _ops.Operation) -> list:
    _with_rank(op.inputs[1], 0, "flow_in", op)
    rest = _attr_shape(op, "element_shape_except0")
    value = _UNKNOWN if rest.ndims is None else _shape.TensorShape([None]).concatenate(rest)
    return [value, _shape.TensorShape([None])]


@register_op(
    "TensorArrayConcatV3",
    inputs=["handle: resource", "flow_in: float32"],
    outputs=["value: dtype", "lengths: int64"],
    attrs={"dtype": ("type", REQUIRED), "element_shape_except0": ("shape", _UNKNOWN)},
    shape=_concat_shapes,
    stateful=True,
)
def _tensor_array_concat(handle, flow_in, *, dtype, element_shape_except0):
    """All elements concatenated along axis 0, and each element's length along it."""
    storage = _storage(handle)
    _check_read_dtype(storage, dtype)
    values = storage.read_many(range(storage.size))
    if not values:
        rest = _shape.as_shape(element_shape_except0)
        if not rest.is_fully_defined():
            raise _errors.UnimplementedError(
                None, None, f"TensorArray has size zero, but element shape {_shape_str(rest)} is not fully defined. "
                "Currently only static shapes are supported when concatenating zero-size TensorArrays.")
        return np.zeros((0, *rest.as_tuple()), dtype=storage.np_dtype), np.zeros([0], np.int64)
    for k, v in enumerate(values):
        if np.ndim(v) == 0:
            raise _invalid(f"Concat saw a scalar shape at index {k} but requires at least vectors.  Did you mean "
                           "to call stack?")
    rest0 = np.shape(values[0])[1:]
    for k, v in enumerate(values):
        if np.shape(v)[1:] != rest0:
            raise _invalid("TensorArray has inconsistent shapes.  Index 0 has (excepting dimension 0) shape: "
                           f"{_shape.dims_str(rest0)} but index {k} has (excepting dimension 0) shape: "
                           f"{_shape.dims_str(np.shape(v)[1:])}")
    lengths = np.array([np.shape(v)[0] for v in values], dtype=np.int64)
    return np.concatenate(values, axis=0), lengths


def _split_shape(op: _ops.Operation) -> _shape.TensorShape:
    _with_rank(op.inputs[2], 1, "lengths", op)
    _with_rank(op.inputs[3], 0, "flow_in", op)
    return _shape.TensorShape([])


@register_op(
    "TensorArraySplitV3",
    inputs=["handle: resource", "value: T", "lengths: int64", "flow_in: float32"],
    outputs=["flow_out: float32"],
    shape=_split_shape,
    stateful=True,
)
def _tensor_array_split(handle, value, lengths, flow_in):
    """Writes consecutive pieces of `value` along axis 0, of `lengths` rows each, to elements 0, 1, ..."""
    storage = _storage(handle)
    _check_dtype(storage, value)
    value, lengths = np.asarray(value), np.asarray(lengths)
    if lengths.ndim != 1:
        raise _invalid(f"Expected lengths to be a vector, received shape: {_shape.dims_str(lengths.shape)}")
    if value.ndim == 0:
        raise _invalid(f"Expected value to be at least a vector, but received shape: {_shape.dims_str(value.shape)}")
    if np.any(lengths < 0):
        raise _invalid(f"Expected lengths to be non-negative, got {lengths.tolist()}")
    total = int(lengths.sum())
    if total != value.shape[0]:
        raise _invalid(f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths is {total} and "
                       f"value's shape is: {_shape.dims_str(value.shape)}")
    n = lengths.shape[0]
    if not storage.dynamic_size and n != storage.size:
        raise _invalid(f"TensorArray's size is not equal to the size of lengths ({n} vs. {storage.size}), and the "
                       "TensorArray is not marked as dynamically resizeable")
    storage.grow(n)
    ends = np.cumsum(lengths)
    for k in range(n):
        storage.write(k, value[ends[k] - lengths[k]:ends[k]])
    return flow_in


@register_op(
    "TensorArraySizeV3",
    inputs=["handle: resource", "flow_in: float32"],
    outputs=["size: int32"],
    shape=lambda op: _scalar_flow_shape(op, {1: (0, "flow_in")}),
    stateful=True,
)
def _tensor_array_size(handle, flow_in):
    """The current number of elements."""
    return np.int32(_storage(handle).size)


@register_op(
    "TensorArrayCloseV3",
    inputs=["handle: resource"],
    stateful=True,
)
def _tensor_array_close(handle):
    """Releases the elements; later uses of the array fail."""
    _storage(handle).close()


for _op_type in ("TensorArrayV3", "TensorArrayGradV3", "TensorArraySizeV3", "TensorArrayCloseV3"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# Gradients: reads become writes into the gradient array, writes become reads, and so on
# ----------------------------------------------------------------------------------------------------------
def _grad_array(op: _ops.Operation, dtype: _dt.DType, flow: _ops.Tensor) -> TensorArray:
    """The gradient TensorArray of `op`'s array for the gradient computation being built, with `flow`."""
    forward = TensorArray(dtype=dtype, handle=op.inputs[0], flow=flow, colocate_with_first_write_call=False)
    return forward.grad(source=gradients_impl.gradient_source(), flow=flow)


@RegisterGradient("TensorArrayReadV3")
def _tensor_array_read_grad(op: _ops.Operation, grad):
    g = _grad_array(op, op.get_attr("dtype"), op.inputs[2])
    return [None, None, g.write(op.inputs[1], grad).flow]


@RegisterGradient("TensorArrayWriteV3")
def _tensor_array_write_grad(op: _ops.Operation, flow):
    g = _grad_array(op, op.get_attr("T"), flow)
    return [None, None, g.read(op.inputs[1]), flow]


@RegisterGradient("TensorArrayGatherV3")
def _tensor_array_gather_grad(op: _ops.Operation, grad):
    g = _grad_array(op, op.get_attr("dtype"), op.inputs[2])
    return [None, None, g.scatter(op.inputs[1], grad).flow]


@RegisterGradient("TensorArrayScatterV3")
def _tensor_array_scatter_grad(op: _ops.Operation, flow):
    g = _grad_array(op, op.get_attr("T"), flow)
    return [None, None, g.gather(op.inputs[1]), flow]


@RegisterGradient("TensorArrayConcatV3")
def _tensor_array_concat_grad(op: _ops.Operation, grad, unused_lengths_grad):
    g = _grad_array(op, op.get_attr("dtype"), op.inputs[1])
    return [None, g.split(grad, op.outputs[1]).flow]


@RegisterGradient("TensorArraySplitV3")
def _tensor_array_split_grad(op: _ops.Operation, flow):
    g = _grad_array(op, op.get_attr("T"), flow)
    return [None, g.concat(), None, flow]


# ----------------------------------------------------------------------------------------------------------
# tf.TensorArray
# ----------------------------------------------------------------------------------------------------------
@tf_export("TensorArray")
class TensorArray:
    """`tf.TensorArray`: a write-once array of tensors of one dtype for use in `tf.while_loop` bodies (and
    `tf.map_fn`, `tf.scan`), supporting gradients.

    Each method that changes the array returns a new TensorArray object holding the new flow: use it (not
    the old object) for what should see the change. With `infer_shape` (the default) every element must have
    the same shape, inferred from the writes when `element_shape` is not given. `clear_after_read` (default
    True) frees an element when it is read, so it can be read only once. Elements live for one run.
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape: bool = True, element_shape=None,
                 colocate_with_first_write_call: bool = True, name=None) -> None:
        if clear_after_read is None:
            clear_after_read = True
        if handle is not None and tensor_array_name:
            raise ValueError("Cannot construct with both handle and tensor_array_name")
        if handle is not None and not isinstance(handle, _ops.Tensor):
            raise TypeError("Handle must be a Tensor")
        if handle is None and size is None:
            raise ValueError("Size must be provided if handle is not provided")
        if handle is not None and size is not None:
            raise ValueError("Cannot provide both a handle and size at the same time")
        if handle is not None and element_shape is not None:
            raise ValueError("Cannot provide both a handle and element_shape at the same time")
        if handle is not None and dynamic_size is not None:
            raise ValueError("Cannot provide both a handle and dynamic_size at the same time")
        if handle is not None and clear_after_read is not True:
            raise ValueError("Cannot provide both a handle and clear_after_read at the same time")
        if handle is None and flow is not None:
            raise ValueError("flow must be None if handle is None")
        self._dtype = _dt.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._size = None  # the size tensor given at construction (for `size()` of a fixed-size array)
        self._clear_after_read = clear_after_read
        self._colocate_with_first_write_call = colocate_with_first_write_call
        # One list shared by every TensorArray object of this array (each write returns a new object), so a
        # shape learned from one write is known to all of them.
        if element_shape is None:
            self._infer_shape = infer_shape
            self._element_shape: list[_shape.TensorShape] = []
        else:
            self._infer_shape = True
            self._element_shape = [_shape.as_shape(element_shape)]
        if handle is not None:
            self._handle = handle
            self._flow = flow if flow is not None else handle.op.outputs[1] if len(handle.op.outputs) > 1 else None
            if self._flow is None:
                raise ValueError("flow must be given with a handle that is not a TensorArray op's output")
            return
        with _ops.name_scope(name, "TensorArray", [size]) as scope:
            self._size = _ops.convert_to_tensor(size, dtype=_dt.int32, name="size")
            op = apply_op(
                "TensorArrayV3", [self._size],
                {"dtype": self._dtype,
                 "element_shape": self._element_shape[0] if self._element_shape else _UNKNOWN,
                 "dynamic_size": self._dynamic_size, "clear_after_read": bool(clear_after_read),
                 "identical_element_shapes": bool(infer_shape), "tensor_array_name": tensor_array_name or ""},
                name=scope,
            )
        self._handle, self._flow = op.outputs

    # -- properties ----------------------------------------------------------------------------------------
    @property
    def flow(self) -> _ops.Tensor:
        """The flow tensor: a scalar whose data dependencies order the array's reads and writes."""
        return self._flow

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def handle(self) -> _ops.Tensor:
        return self._handle

    @property
    def element_shape(self) -> _shape.TensorShape:
        """The shape of the elements as far as it is known when the graph is built."""
        return self._element_shape[0] if self._element_shape else _UNKNOWN

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    def __repr__(self) -> str:
        return f"<tf.TensorArray '{self._handle.op.name}' dtype={self._dtype.name}>"

    # -- helpers -------------------------------------------------------------------------------------------
    def _with_flow(self, flow: _ops.Tensor) -> TensorArray:
        """This array with another flow (what each changing method returns)."""
        ta = TensorArray(self._dtype, handle=self._handle, flow=flow, infer_shape=self._infer_shape,
                         colocate_with_first_write_call=self._colocate_with_first_write_call)
        ta._element_shape = self._element_shape
        ta._dynamic_size = self._dynamic_size
        ta._size = self._size
        ta._clear_after_read = self._clear_after_read
        return ta

    def _merge_element_shape(self, shape: _shape.TensorShape) -> None:
        """Learns `shape` as the element shape (ValueError if it contradicts what is known)."""
        if self._element_shape:
            if not shape.is_compatible_with(self._element_shape[0]):
                raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self._element_shape[0]} "
                                 "(and infer_shape=True)")
            self._element_shape[0] = self._element_shape[0].merge_with(shape)
        else:
            self._element_shape.append(shape)

    def _value(self, value, name: str = "value") -> _ops.Tensor:
        return _ops.convert_to_tensor(value, preferred_dtype=self._dtype, name=name)

    # -- element access ------------------------------------------------------------------------------------
    def read(self, index, name=None) -> _ops.Tensor:
        """Element `index` (an int32 scalar)."""
        value = apply_op("TensorArrayReadV3", [self._handle, index, self._flow], {"dtype": self._dtype},
                         name=name).outputs[0]
        if self._element_shape:
            value.set_shape(self._element_shape[0])
        return value

    def write(self, index, value, name=None) -> TensorArray:
        """The array with `value` written at `index`."""
        with _ops.name_scope(name, "TensorArrayWrite", [self._handle, index, value]):
            value = self._value(value)
            if self._infer_shape:
                self._merge_element_shape(value.shape)
            flow = apply_op("TensorArrayWriteV3", [self._handle, index, value, self._flow]).outputs[0]
        return self._with_flow(flow)

    def gather(self, indices, name=None) -> _ops.Tensor:
        """The elements at `indices`, stacked along a new axis 0."""
        element = self.element_shape
        value = apply_op("TensorArrayGatherV3", [self._handle, indices, self._flow],
                         {"dtype": self._dtype, "element_shape": element}, name=name).outputs[0]
        return value

    def stack(self, name=None) -> _ops.Tensor:
        """All elements stacked along a new axis 0."""
        with _ops.name_scope(name, "TensorArrayStack", [self._handle]):
            return self.gather(array_ops.range(0, self.size()), name=name)

    def scatter(self, indices, value, name=None) -> TensorArray:
        """The array with row k of `value` written at indices[k]."""
        with _ops.name_scope(name, "TensorArrayScatter", [self._handle, value, indices]):
            value = self._value(value)
            if self._infer_shape and value.shape.ndims is not None:
                self._merge_element_shape(value.shape[1:])
            flow = apply_op("TensorArrayScatterV3", [self._handle, indices, value, self._flow],
                            ).outputs[0]
        return self._with_flow(flow)

    def unstack(self, value, name=None) -> TensorArray:
        """The array with the rows of `value` (along axis 0) written at 0, 1, ..."""
        with _ops.name_scope(name, "TensorArrayUnstack", [self._handle, value]):
            value = self._value(value)
            n = array_ops.shape(value)[0]
            return self.scatter(array_ops.range(0, n), value, name=name)

    def concat(self, name=None) -> _ops.Tensor:
        """All elements concatenated along axis 0 (each must be at least a vector)."""
        element = self.element_shape
        rest = _UNKNOWN if element.ndims is None or element.ndims == 0 else element[1:]
        value = apply_op("TensorArrayConcatV3", [self._handle, self._flow],
                         {"dtype": self._dtype, "element_shape_except0": rest}, name=name).outputs[0]
        return value

    def split(self, value, lengths, name=None) -> TensorArray:
        """The array with consecutive pieces of `value` along axis 0, of `lengths` rows each, written at 0, 1,
        ..."""
        with _ops.name_scope(name, "TensorArraySplit", [self._handle, value, lengths]):
            value = self._value(value)
            lengths = math_ops.cast(lengths, _dt.int64)
            known = constant_value(lengths)
            if (self._infer_shape and value.shape.ndims is not None and known is not None and np.size(known)
                    and np.max(known) == np.min(known)):
                self._merge_element_shape(_shape.TensorShape([int(np.reshape(known, [-1])[0])]).concatenate(
                    value.shape[1:]))
            flow = apply_op("TensorArraySplitV3", [self._handle, value, lengths, self._flow]).outputs[0]
        return self._with_flow(flow)

    def size(self, name=None) -> _ops.Tensor:
        """The current number of elements (int32): the size it was made with, unless it can grow."""
        if not self._dynamic_size and self._size is not None:
            return self._size
        return apply_op("TensorArraySizeV3", [self._handle, self._flow], name=name).outputs[0]

    def close(self, name=None) -> _ops.Operation:
        """An op that releases the array."""
        return apply_op("TensorArrayCloseV3", [self._handle], name=name)

    def identity(self) -> TensorArray:
        """This array with a new flow: an identity of the current one (use it to add control dependencies)."""
        return self._with_flow(array_ops.identity(self._flow))

    def grad(self, source: str, flow=None, name=None) -> TensorArray:
        """The gradient TensorArray of this array for gradient computation `source`."""
        flow = self._flow if flow is None else flow
        with _ops.name_scope(name, "TensorArrayGrad", [self._handle]):
            g_handle, _ = apply_op("TensorArrayGradV3", [self._handle, flow], {"source": source}).outputs
            with _ops.control_dependencies([g_handle]):
                flow = array_ops.identity(flow, name="gradient_flow")
        g = TensorArray(self._dtype, handle=g_handle, flow=flow, infer_shape=self._infer_shape,
                        colocate_with_first_write_call=False)
        g._element_shape = self._element_shape
        return g


def is_tensor_array(value) -> bool:
    return isinstance(value, TensorArray)


def with_flow(ta: TensorArray, flow: _ops.Tensor) -> TensorArray:
    """`ta` with flow `flow` (how control flow rebuilds an array from a loop variable or a branch output)."""
    return ta._with_flow(flow)


__all__ = ["TensorArray", "TensorArrayStorage", "is_tensor_array", "with_flow"]
