"""The tf.data graph ops: one op per dataset source or transformation (TensorSliceDataset, MapDataset,
BatchDatasetV2, ...). A dataset op's output is a scalar `variant` tensor whose run-time value is a
`DatasetValue`: an immutable recipe that makes element iterators on demand. Nothing is computed until an
iterator asks for an element, so a pipeline over a million-row source never materializes it; each iterator
yields its elements as tuples of arrays (the flat components of one element).

Functions (map, filter, flat_map, interleave bodies) are `FuncGraph`s held in a `func` attr; their captured
outer tensors are the op's `other_arguments`, bound when the dataset op runs (when an iterator is
initialized), and the kernels run the bodies as sub-plans of the session. The Python API over these ops
(tf.data.Dataset) lives in tfmini/data; iterators in iterator_ops."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import REQUIRED, NotDifferentiable, import_only_attr, register_op
from tfmini.ops.dataset_random import PhiloxStream
from tfmini.ops.dataset_sparse import batch_sparse, sparse_of, sparse_rows

AUTOTUNE = -1
_INFINITE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def dims_str(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


class DatasetValue:
    """A dataset at run time: `make()` returns a fresh iterator (an object with `__next__` returning a
    tuple of component arrays and raising StopIteration at the end). Errors raised by `__next__` leave the
    iterator usable: the next call moves on to the next element, as TF's iterators do."""

    __slots__ = ("_make", "op_name", "cardinality")

    def __init__(self, make: Callable[[], Iterator[tuple]], op_name: str = "",
                 cardinality: int = UNKNOWN_CARDINALITY) -> None:
        self._make = make
        self.op_name = op_name
        # The number of elements when it is known without iterating; INFINITE_CARDINALITY or
        # UNKNOWN_CARDINALITY otherwise (tf.data.experimental.cardinality).
        self.cardinality = cardinality

    def make_iterator(self) -> Iterator[tuple]:
        return self._make()

    def __repr__(self) -> str:
        return f"<DatasetValue of {self.op_name or 'a dataset op'}>"


class ElementIterator:
    """Base of the run-time iterators: plain Python iterators over element tuples."""

    def __iter__(self) -> ElementIterator:
        return self

    def __next__(self) -> tuple:
        raise NotImplementedError

    def next_rows(self, n: int) -> tuple | None:
        """Up to `n` elements at once as stacked component arrays (None if this iterator cannot: the caller
        then pulls elements one by one). Raises StopIteration when no element is left."""
        return None


def _dataset_shape(op: _ops.Operation) -> _shape.TensorShape:
    return _shape.TensorShape([])


_DATASET_ATTRS = {"output_types": ("list(type)", REQUIRED), "output_shapes": ("list(shape)", REQUIRED)}


def register_dataset_op(name: str, inputs: Sequence[str], attrs: dict | None = None, *, factory: Callable,
                      doc: str, file_access: Callable | None = None, forwards_refs: bool = False,
                      structure_attrs: bool = True, allowed: dict | None = None) -> None:
    """Declares a dataset op: a scalar variant output `handle`, TF's output_types/output_shapes attrs (unless
    `structure_attrs` is False: TF's file readers have none, their elements are always scalar strings), and a
    factory kernel. Dataset ops are stateful so they run (and make fresh datasets) whenever an iterator is
    initialized, never folded into a plan's constants."""
    all_attrs = dict(_DATASET_ATTRS) if structure_attrs else {}
    all_attrs.update(attrs or {})
    if "Toutput_types" in all_attrs:  # the ops over given components are typed by them, as in TF
        del all_attrs["output_types"]
    register_op(name, inputs=inputs, outputs=["handle: variant"], attrs=all_attrs, shape=_dataset_shape,
                stateful=True, factory=factory, doc=doc, file_access=file_access, forwards_refs=forwards_refs,
                allowed=allowed)
    NotDifferentiable(name)


def scalar_int(value, what: str, op_name: str) -> int:
    """A scalar integer input of a dataset op as an int (InvalidArgumentError naming the op otherwise)."""
    if np.ndim(value) != 0:
        raise _invalid(f"{op_name}: {what} must be a scalar, got shape {dims_str(np.shape(value))}")
    return int(value)


def read_only(value):
    """`value` as a read-only array the dataset owns. A dataset outlives the run that made it, so an array that
    is a view of memory it does not own (a fed array is a read-only view of the caller's) is copied, as
    TensorFlow copies a feed into its tensor: changing the fed array later cannot change the dataset. Arrays
    that own their data (constants, kernel results) are shared, made read-only; Session.run copies what it
    hands out."""
    if isinstance(value, np.ndarray):
        if value.base is not None:
            value = value.copy()
        if value.flags.writeable:
            value = value.view()
            value.flags.writeable = False
    return value


def scalar_text(value) -> str:
    """A scalar string tensor's value as text."""
    v = value[()] if isinstance(value, np.ndarray) else value
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


# ----------------------------------------------------------------------------------------------------------
# Sources: TensorDataset, TensorSliceDataset, RangeDataset
# ----------------------------------------------------------------------------------------------------------
class _TensorIter(ElementIterator):
    __slots__ = ("_element", "_done")

    def __init__(self, element: tuple) -> None:
        self._element = element
        self._done = False

    def __next__(self) -> tuple:
        if self._done:
            raise StopIteration
        self._done = True
        return self._element


def _zip_cardinality(counts: list) -> int:
    finite = [c for c in counts if c >= 0]
    if finite:
        return min(finite)
    return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in counts else INFINITE_CARDINALITY


def _concat_cardinality(a: int, b: int) -> int:
    if a == INFINITE_CARDINALITY or b == INFINITE_CARDINALITY:
        return INFINITE_CARDINALITY
    if a == UNKNOWN_CARDINALITY or b == UNKNOWN_CARDINALITY:
        return UNKNOWN_CARDINALITY
    return a + b


def _batch_cardinality(n: int, size: int, drop: bool) -> int:
    if n < 0:
        return n
    return n // size if drop else -(-n // size)


def _repeat_cardinality(n: int, count: int) -> int:
    if count == 0 or n == 0:
        return 0
    if n < 0:
        return n
    return INFINITE_CARDINALITY if count < 0 else n * count


def _take_cardinality(n: int, count: int) -> int:
    if count < 0:
        return n
    if n == INFINITE_CARDINALITY:
        return count
    return n if n == UNKNOWN_CARDINALITY else min(n, count)


def _skip_cardinality(n: int, count: int) -> int:
    if n < 0:
        return n
    return 0 if count < 0 else max(n - count, 0)


def _shard_cardinality(n: int, num: int, index: int) -> int:
    if n < 0:
        return n
    return n // num + (1 if index < n % num else 0)


def _tensor_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(*components):
        element = tuple(read_only(c) for c in components)
        return DatasetValue(lambda: _TensorIter(element), op.name, 1)

    return run


register_dataset_op("TensorDataset", ["components: Toutput_types"],
                  {"Toutput_types": ("list(type)", REQUIRED)}, factory=_tensor_dataset_factory,
                  doc="A dataset of one element: `components`.")


class _SliceIter(ElementIterator):
    __slots__ = ("_components", "_n", "_i")

    def __init__(self, components: tuple, n: int) -> None:
        self._components = components
        self._n = n
        self._i = 0

    def __next__(self) -> tuple:
        i = self._i
        if i >= self._n:
            raise StopIteration
        self._i = i + 1
        return tuple(c[i, ...] for c in self._components)

    def next_rows(self, n: int) -> tuple:
        i = self._i
        if i >= self._n:
            raise StopIteration
        j = min(i + n, self._n)
        self._i = j
        return tuple(c[i:j] for c in self._components)


def _tensor_slice_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(*components):
        for i, c in enumerate(components):
            if np.ndim(c) == 0:
                raise _invalid(f"Component {i} of TensorSliceDataset must have rank at least 1 to be sliced, "
                               "but it is a scalar.")
        n = np.shape(components[0])[0]
        for i, c in enumerate(components[1:], 1):
            if np.shape(c)[0] != n:
                raise _invalid(f"All components must have the same size in the 0th dimension: component 0 has "
                               f"{n} rows, component {i} has {np.shape(c)[0]}.")
        parts = tuple(read_only(c) for c in components)
        return DatasetValue(lambda: _SliceIter(parts, n), op.name, n)

    return run


register_dataset_op("TensorSliceDataset", ["components: Toutput_types"],
                  {"Toutput_types": ("list(type)", REQUIRED)}, factory=_tensor_slice_dataset_factory,
                  doc="The slices of `components` along their first dimension, one element per row.")


class _RangeIter(ElementIterator):
    __slots__ = ("_next", "_stop", "_step", "_dtype")

    def __init__(self, start: int, stop: int, step: int, dtype) -> None:
        self._next, self._stop, self._step, self._dtype = start, stop, step, dtype

    def remaining(self) -> int:
        n = (self._stop - self._next + self._step + (-1 if self._step > 0 else 1)) // self._step
        return max(n, 0)

    def __next__(self) -> tuple:
        v = self._next
        if (self._step > 0 and v >= self._stop) or (self._step < 0 and v <= self._stop):
            raise StopIteration
        self._next = v + self._step
        return (self._dtype(v),)

    def next_rows(self, n: int) -> tuple:
        k = min(n, self.remaining())
        if k <= 0:
            raise StopIteration
        out = self._next + self._step * np.arange(k, dtype=self._dtype)
        self._next += self._step * k
        return (out,)


def _range_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    dtype = op.get_attr("output_types")[0].as_numpy_dtype

    def run(start, stop, step):
        start, stop, step = (scalar_int(v, w, "RangeDataset") for v, w in
                             ((start, "start", ), (stop, "stop"), (step, "step")))
        if step == 0:
            raise _invalid("step must be a non-zero integer.")
        return DatasetValue(lambda: _RangeIter(start, stop, step, dtype), op.name,
                            _RangeIter(start, stop, step, dtype).remaining())

    return run


register_dataset_op("RangeDataset", ["start: int64", "stop: int64", "step: int64"],
                  factory=_range_dataset_factory, doc="The integers from `start` up to `stop` by `step`.")


# ----------------------------------------------------------------------------------------------------------
# ZipDataset, ConcatenateDataset
# ----------------------------------------------------------------------------------------------------------
class _ZipIter(ElementIterator):
    __slots__ = ("_inners", "_done")

    def __init__(self, inners: list) -> None:
        self._inners = inners
        self._done = False

    def __next__(self) -> tuple:
        if self._done:
            raise StopIteration
        out: list = []
        try:
            for it in self._inners:
                out.extend(next(it))
        except StopIteration:
            self._done = True
            raise
        return tuple(out)


def _zip_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(*datasets):
        return DatasetValue(lambda: _ZipIter([d.make_iterator() for d in datasets]), op.name,
                            _zip_cardinality([d.cardinality for d in datasets]))

    return run


register_dataset_op("ZipDataset", ["input_datasets: N * variant"], factory=_zip_dataset_factory,
                  doc="Elements of the input datasets side by side, until the shortest ends.")


class _ConcatIter(ElementIterator):
    __slots__ = ("_current", "_second")

    def __init__(self, first: DatasetValue, second: DatasetValue) -> None:
        self._current = first.make_iterator()
        self._second = second

    def __next__(self) -> tuple:
        while True:
            try:
                return next(self._current)
            except StopIteration:
                if self._second is None:
                    raise
                self._current, self._second = self._second.make_iterator(), None


def _concatenate_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(first, second):
        return DatasetValue(lambda: _ConcatIter(first, second), op.name,
                            _concat_cardinality(first.cardinality, second.cardinality))

    return run


register_dataset_op("ConcatenateDataset", ["input_dataset: variant", "another_dataset: variant"],
                  factory=_concatenate_dataset_factory,
                  doc="The elements of `input_dataset`, then those of `another_dataset`.")


# ----------------------------------------------------------------------------------------------------------
# BatchDatasetV2, PaddedBatchDatasetV2, UnbatchDataset
# ----------------------------------------------------------------------------------------------------------
def _pull(inner, n: int) -> list:
    """Up to `n` elements of `inner` (fewer at its end, none raises StopIteration)."""
    elements = []
    try:
        while len(elements) < n:
            elements.append(next(inner))
    except StopIteration:
        if not elements:
            raise
    return elements


def stack_component(values: list, index: int) -> np.ndarray:
    """Component `index` of a batch: the elements' values stacked (TF's error when their shapes differ)."""
    first = np.shape(values[0])
    for k, v in enumerate(values[1:], 1):
        if np.shape(v) != first:
            raise _invalid(f"Cannot batch tensors with different shapes in component {index}. First element had "
                           f"shape {dims_str(first)} and element {k} had shape {dims_str(np.shape(v))}.")
    return np.stack(values)


def batch_component(values: list, index: int):
    """Component `index` of a batch of elements: stacked, or batched as a sparse tensor."""
    if sparse_of(values[0]) is not None:
        return batch_sparse(values, index)
    return stack_component(values, index)


class _BatchIter(ElementIterator):
    __slots__ = ("_inner", "_n", "_drop")

    def __init__(self, inner, n: int, drop: bool) -> None:
        self._inner = inner
        self._n = n
        self._drop = drop

    def __next__(self) -> tuple:
        rows = self._inner.next_rows(self._n) if isinstance(self._inner, ElementIterator) else None
        if rows is not None:
            if self._drop and len(rows[0]) < self._n:
                raise StopIteration
            return tuple(batch_sparse(list(r), i) if r.dtype == object and r.size and sparse_of(r[0]) is not None
                         else np.array(r) for i, r in enumerate(rows))
        elements = _pull(self._inner, self._n)
        if self._drop and len(elements) < self._n:
            raise StopIteration
        return tuple(batch_component([e[i] for e in elements], i) for i in range(len(elements[0])))


def _batch_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, batch_size, drop_remainder):
        n = scalar_int(batch_size, "batch_size", op.type)
        if n <= 0:
            raise _invalid("Batch size must be greater than zero.")
        drop = bool(drop_remainder)
        return DatasetValue(lambda: _BatchIter(dataset.make_iterator(), n, drop), op.name,
                            _batch_cardinality(dataset.cardinality, n, drop))

    return run


register_dataset_op("BatchDatasetV2", ["input_dataset: variant", "batch_size: int64", "drop_remainder: bool"],
                  {"parallel_copy": ("bool", False)}, factory=_batch_dataset_factory,
                  doc="Consecutive elements stacked into batches of `batch_size` (the last one smaller unless "
                      "`drop_remainder`).")


class _PaddedBatchIter(ElementIterator):
    __slots__ = ("_inner", "_n", "_drop", "_shapes", "_pads")

    def __init__(self, inner, n: int, drop: bool, shapes: list, pads: list) -> None:
        self._inner = inner
        self._n = n
        self._drop = drop
        self._shapes = shapes
        self._pads = pads

    def _component(self, values: list, i: int) -> np.ndarray:
        if sparse_of(values[0]) is not None:
            raise _invalid("padded_batch cannot pad sparse components.")
        want = self._shapes[i]
        for v in values:
            if np.ndim(v) != len(want):
                raise _invalid(f"All elements in a batch must have the same rank as the padded shape for "
                               f"component {i}: expected rank {len(want)} but got element with rank {np.ndim(v)}")
        size = [int(d) if d >= 0 else max((np.shape(v)[k] for v in values), default=0) for k, d in enumerate(want)]
        for v in values:
            if any(s < d for s, d in zip(size, np.shape(v))):
                # TF reports this as DataLossError (recorded).
                raise _errors.DataLossError(
                    None, None, f"Attempted to pad to a smaller size than the input element: component {i} of "
                    f"shape {dims_str(np.shape(v))} padded to {dims_str(size)}.")
        pad = self._pads[i]
        out = np.full([len(values), *size], pad, dtype=np.asarray(pad).dtype)
        for k, v in enumerate(values):
            out[(k, *(slice(0, d) for d in np.shape(v)))] = v
        return out

    def __next__(self) -> tuple:
        elements = _pull(self._inner, self._n)
        if self._drop and len(elements) < self._n:
            raise StopIteration
        return tuple(self._component([e[i] for e in elements], i) for i in range(len(self._shapes)))


def _padded_batch_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    n_components = op.get_attr("N")

    def run(dataset, batch_size, *args):
        shapes = [np.asarray(s).reshape(-1).tolist() for s in args[:n_components]]
        pads = list(args[n_components:2 * n_components])
        drop = bool(args[-1])
        n = scalar_int(batch_size, "batch_size", op.type)
        if n <= 0:
            raise _invalid("Batch size must be greater than zero.")
        for i, p in enumerate(pads):
            if np.ndim(p) != 0:
                raise _invalid(f"All padding values must be scalars, but padding value {i} has shape "
                               f"{dims_str(np.shape(p))}")
        return DatasetValue(lambda: _PaddedBatchIter(dataset.make_iterator(), n, drop, shapes, pads), op.name,
                            _batch_cardinality(dataset.cardinality, n, drop))

    return run


register_dataset_op("PaddedBatchDatasetV2",
                  ["input_dataset: variant", "batch_size: int64", "padded_shapes: N * int64",
                   "padding_values: Toutput_types", "drop_remainder: bool"],
                  {"Toutput_types": ("list(type)", REQUIRED), "parallel_copy": ("bool", False)},
                  factory=_padded_batch_dataset_factory,
                  doc="Batches of `batch_size` elements, each component padded with its padding value to "
                      "`padded_shapes` (-1: the longest in the batch).")


class _UnbatchIter(ElementIterator):
    __slots__ = ("_inner", "_current", "_i", "_n")

    def __init__(self, inner) -> None:
        self._inner = inner
        self._current: tuple = ()
        self._i = 0
        self._n = 0

    def __next__(self) -> tuple:
        while self._i >= self._n:
            element = tuple(c if sparse_of(c) is None else sparse_rows(sparse_of(c)) for c in next(self._inner))
            if any(np.ndim(c) == 0 for c in element):
                raise _invalid("Input element must have a non-scalar value in each component.")
            n = np.shape(element[0])[0]
            if any(np.shape(c)[0] != n for c in element):
                raise _invalid("Input element must have the same batch size in each component. Component 0 "
                               f"had size {n} but component "
                               f"{next(k for k, c in enumerate(element) if np.shape(c)[0] != n)} had size "
                               f"{next(np.shape(c)[0] for c in element if np.shape(c)[0] != n)}.")
            self._current, self._i, self._n = element, 0, n
        i = self._i
        self._i = i + 1
        return tuple(c[i, ...] for c in self._current)


def _unbatch_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset):
        return DatasetValue(lambda: _UnbatchIter(dataset.make_iterator()), op.name)

    return run


register_dataset_op("UnbatchDataset", ["input_dataset: variant"], factory=_unbatch_dataset_factory,
                  doc="The rows of each element of `input_dataset`, one element per row.")


# ----------------------------------------------------------------------------------------------------------
# ShuffleDataset, RepeatDataset, TakeDataset, SkipDataset, ShardDataset, PrefetchDataset
# ----------------------------------------------------------------------------------------------------------
class _ShuffleIter(ElementIterator):
    """TF's buffered shuffle: keeps up to `size` elements; each output is the one at a uniformly drawn offset
    (a Philox sample modulo the count) from the oldest, which then takes its place."""

    __slots__ = ("_inner", "_size", "_random", "_buffer", "_start", "_end", "_input_done")

    def __init__(self, inner, size: int, random: PhiloxStream) -> None:
        self._inner = inner
        self._size = size
        self._random = random
        self._buffer: list = [None] * min(size, 1 << 16)
        self._start = 0
        self._end = 0
        self._input_done = False

    def _put(self, element: tuple) -> None:
        slot = self._end % self._size
        if slot >= len(self._buffer):
            self._buffer.extend([None] * (slot + 1 - len(self._buffer)))
        self._buffer[slot] = element
        self._end += 1

    def __next__(self) -> tuple:
        while not self._input_done and self._end - self._start < self._size:
            try:
                self._put(next(self._inner))
            except StopIteration:
                self._input_done = True
        count = self._end - self._start
        if count == 0:
            raise StopIteration
        buf, size = self._buffer, self._size
        index = (self._start + self._random() % count) % size
        first = self._start % size
        out = buf[index]
        buf[index] = buf[first]
        buf[first] = None
        self._start += 1
        return out


def _shuffle_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    reshuffle = op.get_attr("reshuffle_each_iteration")

    def run(dataset, buffer_size, seed, seed2):
        size = scalar_int(buffer_size, "buffer_size", op.type)
        if size <= 0:
            raise _invalid("buffer_size must be greater than zero.")
        seed, seed2 = int(seed), int(seed2)
        if seed == 0 and seed2 == 0:  # both 0: a nondeterministic order, as in TF
            seed, seed2 = (int(x) for x in np.random.SeedSequence().generate_state(2, np.uint64))
        # As TF: with reshuffle_each_iteration, each iterator (e.g. each repeat() epoch) seeds its shuffle
        # generator with the next two samples of a seed generator this dataset owns; without, with the seeds.
        seeds = PhiloxStream(seed, seed2)
        lock = threading.Lock()

        def make() -> _ShuffleIter:
            if reshuffle:
                with lock:
                    pair = (seeds(), seeds())
            else:
                pair = (seed, seed2)
            return _ShuffleIter(dataset.make_iterator(), size, PhiloxStream(*pair))

        return DatasetValue(make, op.name, dataset.cardinality)

    return run


register_dataset_op("ShuffleDataset", ["input_dataset: variant", "buffer_size: int64", "seed: int64", "seed2: int64"],
                  {"reshuffle_each_iteration": ("bool", True)}, factory=_shuffle_dataset_factory,
                  doc="The elements of `input_dataset` randomly shuffled through a buffer of `buffer_size`.")


class _RepeatIter(ElementIterator):
    __slots__ = ("_dataset", "_left", "_current", "_fresh")

    def __init__(self, dataset: DatasetValue, count: int) -> None:
        self._dataset = dataset
        self._left = count
        self._current = dataset.make_iterator() if count != 0 else None
        self._fresh = True

    def __next__(self) -> tuple:
        while self._current is not None:
            try:
                element = next(self._current)
            except StopIteration:
                # An input with no elements ends even an infinite repeat, as in TF.
                if self._fresh or self._left == 1:
                    self._current = None
                    break
                if self._left > 0:
                    self._left -= 1
                self._current = self._dataset.make_iterator()
                self._fresh = True
                continue
            self._fresh = False
            return element
        raise StopIteration


def _repeat_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, count):
        n = scalar_int(count, "count", op.type)
        return DatasetValue(lambda: _RepeatIter(dataset, n if n >= 0 else _INFINITE), op.name,
                            _repeat_cardinality(dataset.cardinality, n))

    return run


register_dataset_op("RepeatDataset", ["input_dataset: variant", "count: int64"], factory=_repeat_dataset_factory,
                  doc="`input_dataset` repeated `count` times (-1: forever).")


class _TakeIter(ElementIterator):
    __slots__ = ("_inner", "_left")

    def __init__(self, inner, count: int) -> None:
        self._inner = inner
        self._left = count

    def __next__(self) -> tuple:
        if self._left == 0:
            raise StopIteration
        element = next(self._inner)
        if self._left > 0:
            self._left -= 1
        return element

    def next_rows(self, n: int) -> tuple | None:
        if self._left == 0:
            raise StopIteration
        if not isinstance(self._inner, ElementIterator):
            return None
        rows = self._inner.next_rows(n if self._left < 0 else min(n, self._left))
        if rows is not None and self._left > 0:
            self._left -= len(rows[0])
        return rows


def _take_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, count):
        n = scalar_int(count, "count", op.type)
        return DatasetValue(lambda: _TakeIter(dataset.make_iterator(), n), op.name,
                            _take_cardinality(dataset.cardinality, n))

    return run


register_dataset_op("TakeDataset", ["input_dataset: variant", "count: int64"], factory=_take_dataset_factory,
                  doc="The first `count` elements of `input_dataset` (-1: all).")


class _SkipIter(ElementIterator):
    __slots__ = ("_inner", "_skip")

    def __init__(self, inner, count: int) -> None:
        self._inner = inner
        self._skip = count

    def __next__(self) -> tuple:
        while self._skip != 0:
            next(self._inner)  # the end of the input ends this dataset too
            if self._skip > 0:
                self._skip -= 1
        return next(self._inner)


def _skip_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, count):
        n = scalar_int(count, "count", op.type)
        return DatasetValue(lambda: _SkipIter(dataset.make_iterator(), n), op.name,
                            _skip_cardinality(dataset.cardinality, n))

    return run


register_dataset_op("SkipDataset", ["input_dataset: variant", "count: int64"], factory=_skip_dataset_factory,
                  doc="`input_dataset` without its first `count` elements (-1: all of them).")


class _ShardIter(ElementIterator):
    __slots__ = ("_inner", "_num", "_index")

    def __init__(self, inner, num: int, index: int) -> None:
        self._inner = inner
        self._num = num
        self._index = index

    def __next__(self) -> tuple:
        for _ in range(self._index):
            next(self._inner)
        element = next(self._inner)
        for _ in range(self._num - self._index - 1):
            try:
                next(self._inner)
            except StopIteration:
                break
        return element


def _shard_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, num_shards, index):
        num = scalar_int(num_shards, "num_shards", op.type)
        i = scalar_int(index, "index", op.type)
        if num <= 0:
            raise _invalid("Number of shards must be greater than zero (currently num_shards = {num}).")
        if not 0 <= i < num:
            raise _invalid(f"Index must be between 0 and {num - 1} (currently index = {i}).")
        return DatasetValue(lambda: _ShardIter(dataset.make_iterator(), num, i), op.name,
                            _shard_cardinality(dataset.cardinality, num, i))

    return run


register_dataset_op("ShardDataset", ["input_dataset: variant", "num_shards: int64", "index: int64"],
                  {"require_non_empty": ("bool", False)}, factory=_shard_dataset_factory,
                  doc="Every `num_shards`-th element of `input_dataset`, starting at `index`.")


def _prefetch_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, buffer_size):
        size = scalar_int(buffer_size, "buffer_size", op.type)
        if size < AUTOTUNE:
            raise _invalid("buffer_size must be >= 0 or set buffer_size to be tf.data.experimental.AUTOTUNE.")
        return dataset

    return run


register_dataset_op("PrefetchDataset", ["input_dataset: variant", "buffer_size: int64"],
                  {"slack_period": ("int", 0), "legacy_autotune": ("bool", True)},
                  factory=_prefetch_dataset_factory,
                  doc="`input_dataset` unchanged: elements are computed when asked for (no background thread).")


# ----------------------------------------------------------------------------------------------------------
# WindowDataset: a dataset of datasets
# ----------------------------------------------------------------------------------------------------------
def list_dataset(values: list, op_name: str) -> DatasetValue:
    """A dataset of the given elements (tuples of component arrays)."""
    return DatasetValue(lambda: iter(values), op_name, len(values))


class _WindowIter(ElementIterator):
    """Windows of `size` elements `stride` apart, starting every `shift` elements; each element of the
    result holds one dataset per component (the window's values of that component)."""

    __slots__ = ("_inner", "_size", "_shift", "_stride", "_drop", "_buffer", "_input_done", "_op_name")

    def __init__(self, inner, size: int, shift: int, stride: int, drop: bool, op_name: str) -> None:
        self._inner = inner
        self._size, self._shift, self._stride, self._drop = size, shift, stride, drop
        self._buffer: list = []
        self._input_done = False
        self._op_name = op_name

    def __next__(self) -> tuple:
        span = (self._size - 1) * self._stride + 1
        buf = self._buffer
        while not self._input_done and len(buf) < span:
            try:
                buf.append(next(self._inner))
            except StopIteration:
                self._input_done = True
        if not buf or (self._drop and len(buf) < span):
            raise StopIteration
        window = buf[:span:self._stride]
        if len(buf) >= self._shift:
            del buf[:self._shift]
        else:
            # The next window would start past the elements left: pull and drop the rest of the shift.
            skip = self._shift - len(buf)
            buf.clear()
            try:
                for _ in range(skip):
                    next(self._inner)
            except StopIteration:
                self._input_done = True
        n = len(window[0])
        return tuple(list_dataset([(e[i],) for e in window], self._op_name) for i in range(n))


def _window_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, size, shift, stride, drop_remainder):
        size = scalar_int(size, "size", op.type)
        shift = scalar_int(shift, "shift", op.type)
        stride = scalar_int(stride, "stride", op.type)
        for what, v in (("size", size), ("shift", shift), ("stride", stride)):
            if v <= 0:
                raise _invalid(f"Window {what} must be greater than zero, but got {v}.")
        drop = bool(drop_remainder)
        return DatasetValue(lambda: _WindowIter(dataset.make_iterator(), size, shift, stride, drop, op.name),
                            op.name)

    return run


register_dataset_op("WindowDataset",
                  ["input_dataset: variant", "size: int64", "shift: int64", "stride: int64", "drop_remainder: bool"],
                  factory=_window_dataset_factory,
                  doc="Windows of `input_dataset`'s elements as datasets (one per component).")


# Attrs TensorFlow's op defs give these datasets beyond tfmini's: debugging metadata and scheduling hints
# (dropped on import whatever they hold), and options tfmini implements at TF's default only.
import_only_attr("PrefetchDataset", "buffer_size_min", "int", 0, hint=True)
import_only_attr("TensorSliceDataset", "is_files", "bool", False, hint=True)
import_only_attr((
    "BatchDatasetV2", "ConcatenateDataset", "PaddedBatchDatasetV2", "PrefetchDataset", "RangeDataset",
    "RepeatDataset", "ShardDataset", "ShuffleDataset", "SkipDataset", "TakeDataset", "TensorDataset",
    "TensorSliceDataset", "UnbatchDataset", "WindowDataset", "ZipDataset",
), "metadata", "string", "", hint=True)
import_only_attr(("RangeDataset", "TensorSliceDataset"),
                 "replicate_on_split", "bool", False, hint=True)
