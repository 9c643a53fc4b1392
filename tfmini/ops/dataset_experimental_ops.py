"""The ops behind tf.data.experimental: DatasetCardinality, DatasetToSingleElement, UniqueDataset,
ScanDataset, GroupByWindowDataset, DirectedInterleaveDataset (choose_from_datasets / sample_from_datasets)
and DatasetToTFRecord (experimental.TFRecordWriter)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.record_io import TFRecordOptions, TFRecordWriter
from tfmini.framework.registry import REQUIRED, NotDifferentiable, import_only_attr, register_op
from tfmini.ops.dataset_function_ops import BoundFunction
from tfmini.ops.dataset_ops import (
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    DatasetValue,
    ElementIterator,
    list_dataset,
    register_dataset_op,
    scalar_text,
)
from tfmini.ops.dataset_random import PhiloxStream, stateless_stream
from tfmini.ops.dataset_sparse import SparseComponent

__all__ = ["INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _components_shapes(op: _ops.Operation) -> list:
    return [_shape.as_shape(s) for s in op.get_attr("output_shapes")]


_COMPONENT_ATTRS = {"output_types": ("list(type)", REQUIRED), "output_shapes": ("list(shape)", REQUIRED)}


# ----------------------------------------------------------------------------------------------------------
# DatasetCardinality, DatasetToSingleElement
# ----------------------------------------------------------------------------------------------------------
@register_op("DatasetCardinality", inputs=["input_dataset: variant"], outputs=["cardinality: int64"],
             shape=lambda op: _shape.TensorShape([]), stateful=True,
             doc="The number of elements of `input_dataset`: -1 if infinite, -2 if unknown without iterating.")
def _dataset_cardinality(dataset):
    return np.int64(dataset.cardinality)


NotDifferentiable("DatasetCardinality")


@register_op("DatasetToSingleElement", inputs=["dataset: variant"], outputs=["components: output_types"],
             attrs=_COMPONENT_ATTRS, shape=_components_shapes, stateful=True,
             doc="The one element of `dataset` (InvalidArgumentError if it has none or more).")
def _dataset_to_single_element(dataset):
    it = dataset.make_iterator()
    try:
        element = next(it)
    except StopIteration:
        raise _invalid("Dataset was empty.") from None
    try:
        next(it)
    except StopIteration:
        return tuple(element)
    raise _invalid("Dataset had more than one element.")


NotDifferentiable("DatasetToSingleElement")


# ----------------------------------------------------------------------------------------------------------
# UniqueDataset
# ----------------------------------------------------------------------------------------------------------
class _UniqueIter(ElementIterator):
    __slots__ = ("_inner", "_seen")

    def __init__(self, inner) -> None:
        self._inner = inner
        self._seen: set = set()

    def __next__(self) -> tuple:
        while True:
            element = next(self._inner)
            key = np.asarray(element[0]).item()
            if key not in self._seen:
                self._seen.add(key)
                return element


def _unique_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset):
        return DatasetValue(lambda: _UniqueIter(dataset.make_iterator()), op.name)

    return run


register_dataset_op("UniqueDataset", ["input_dataset: variant"], factory=_unique_dataset_factory,
                    doc="The elements of `input_dataset` (scalars) without repetitions, in first-seen order.")


# ----------------------------------------------------------------------------------------------------------
# ScanDataset
# ----------------------------------------------------------------------------------------------------------
class _ScanIter(ElementIterator):
    __slots__ = ("_inner", "_fn", "_state")

    def __init__(self, inner, fn: Callable, state: list) -> None:
        self._inner = inner
        self._fn = fn
        self._state = list(state)

    def __next__(self) -> tuple:
        element = next(self._inner)
        values = self._fn((*self._state, *element))
        n = len(self._state)
        self._state = values[:n]
        return tuple(values[n:])


def _scan_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    body = BoundFunction(ctx, op.get_attr("f"))
    n_state = len(op.get_attr("Tstate"))

    def run(dataset, *args):
        state, captured = args[:n_state], args[n_state:]
        fn = body.bind(captured)
        return DatasetValue(lambda: _ScanIter(dataset.make_iterator(), fn, state), op.name, dataset.cardinality)

    return run


register_dataset_op("ScanDataset", ["input_dataset: variant", "initial_state: Tstate", "other_arguments: Targuments"],
                    {"f": ("func", REQUIRED), "Tstate": ("list(type)", REQUIRED),
                     "Targuments": ("list(type)", REQUIRED), "preserve_cardinality": ("bool", False)},
                    factory=_scan_dataset_factory, forwards_refs=True,
                    doc="`f(state, element) -> (new_state, output)` over `input_dataset`: the outputs.")


# ----------------------------------------------------------------------------------------------------------
# GroupByWindowDataset
# ----------------------------------------------------------------------------------------------------------
class _GroupByWindowIter(ElementIterator):
    """Groups elements by key; a group that reaches its window size (or any group left when the input
    ends, smallest key first) becomes a window dataset that `reduce` turns into the dataset whose elements
    are output."""

    __slots__ = ("_inner", "_key", "_reduce", "_size", "_groups", "_sizes", "_current", "_input_done", "_op_name")

    def __init__(self, inner, key: Callable, reduce: Callable, size: Callable, op_name: str) -> None:
        self._inner = inner
        self._key, self._reduce, self._size = key, reduce, size
        self._groups: dict[int, list] = {}
        self._sizes: dict[int, int] = {}
        self._current = None
        self._input_done = False
        self._op_name = op_name

    def _start(self, key: int) -> None:
        window = self._groups.pop(key)
        self._sizes.pop(key, None)
        out = self._reduce((np.int64(key), list_dataset(window, self._op_name)))[0]
        if not isinstance(out, DatasetValue):
            raise _invalid("reduce_func must return a dataset.")
        self._current = out.make_iterator()

    def __next__(self) -> tuple:
        while True:
            if self._current is not None:
                try:
                    return next(self._current)
                except StopIteration:
                    self._current = None
            if self._input_done:
                if not self._groups:
                    raise StopIteration
                self._start(min(self._groups))
                continue
            try:
                element = next(self._inner)
            except StopIteration:
                self._input_done = True
                continue
            key = self._key(element)[0]
            if np.ndim(key) != 0 or np.asarray(key).dtype != np.int64:
                raise _invalid("`key_func` must return a single tf.int64 scalar tensor.")
            key = int(key)
            if key not in self._sizes:
                size = self._size((np.int64(key),))[0]
                if np.ndim(size) != 0 or int(size) <= 0:
                    raise _invalid(f"Window size must be greater than zero, but got {size}.")
                self._sizes[key] = int(size)
            group = self._groups.setdefault(key, [])
            group.append(element)
            if len(group) == self._sizes[key]:
                self._start(key)


def _group_by_window_factory(op: _ops.Operation, ctx) -> Callable:
    key_body = BoundFunction(ctx, op.get_attr("key_func"))
    reduce_body = BoundFunction(ctx, op.get_attr("reduce_func"))
    size_body = BoundFunction(ctx, op.get_attr("window_size_func"))
    n_key = len(op.get_attr("Tkey_func_other_arguments"))
    n_reduce = len(op.get_attr("Treduce_func_other_arguments"))

    def run(dataset, *args):
        key_fn = key_body.bind(args[:n_key])
        reduce_fn = reduce_body.bind(args[n_key:n_key + n_reduce])
        size_fn = size_body.bind(args[n_key + n_reduce:])
        return DatasetValue(
            lambda: _GroupByWindowIter(dataset.make_iterator(), key_fn, reduce_fn, size_fn, op.name), op.name)

    return run


register_dataset_op(
    "GroupByWindowDataset",
    ["input_dataset: variant", "key_func_other_arguments: Tkey_func_other_arguments",
     "reduce_func_other_arguments: Treduce_func_other_arguments",
     "window_size_func_other_arguments: Twindow_size_func_other_arguments"],
    {"key_func": ("func", REQUIRED), "reduce_func": ("func", REQUIRED), "window_size_func": ("func", REQUIRED),
     "Tkey_func_other_arguments": ("list(type)", REQUIRED), "Treduce_func_other_arguments": ("list(type)", REQUIRED),
     "Twindow_size_func_other_arguments": ("list(type)", REQUIRED)},
    factory=_group_by_window_factory, forwards_refs=True,
    doc="Elements grouped by `key_func` into windows of `window_size_func(key)`, each reduced to a dataset by "
        "`reduce_func`.")


# ----------------------------------------------------------------------------------------------------------
# DirectedInterleaveDataset
# ----------------------------------------------------------------------------------------------------------
class _DirectedIter(ElementIterator):
    __slots__ = ("_selector", "_inputs", "_done")

    def __init__(self, selector, inputs: list) -> None:
        self._selector = selector
        self._inputs = inputs
        self._done = [False] * len(inputs)

    def __next__(self) -> tuple:
        while not all(self._done):
            (index,) = next(self._selector)
            i = int(index)
            if not 0 <= i < len(self._inputs):
                raise _invalid(f"selector_input_dataset returned {i}, but only {len(self._inputs)} data input "
                               "datasets exist.")
            if self._done[i]:
                continue
            try:
                return next(self._inputs[i])
            except StopIteration:
                self._done[i] = True
        raise StopIteration


def _directed_interleave_factory(op: _ops.Operation, ctx) -> Callable:
    def run(selector, *datasets):
        return DatasetValue(
            lambda: _DirectedIter(selector.make_iterator(), [d.make_iterator() for d in datasets]), op.name)

    return run


register_dataset_op("DirectedInterleaveDataset",
                    ["selector_input_dataset: variant", "data_input_datasets: N * variant"],
                    factory=_directed_interleave_factory,
                    doc="Elements taken from the data input that each element of `selector_input_dataset` names "
                        "(inputs that have ended are skipped).")


# ----------------------------------------------------------------------------------------------------------
# DatasetToTFRecord
# ----------------------------------------------------------------------------------------------------------
@register_op("DatasetToTFRecord", inputs=["input_dataset: variant", "filename: string", "compression_type: string"],
             stateful=True, file_access=lambda op: "the file named by its 'filename' input",
             doc="Writes the elements of `input_dataset` (scalar strings) as the records of a TFRecord file.")
def _dataset_to_tfrecord(dataset, filename, compression_type):
    path = scalar_text(filename)
    try:
        options = TFRecordOptions(scalar_text(compression_type))
    except ValueError as e:
        raise _invalid(str(e)) from None
    with TFRecordWriter(path, options) as writer:
        for (record,) in _elements(dataset):
            writer.write(np.asarray(record, dtype=object).item())


def _elements(dataset: DatasetValue):
    it = dataset.make_iterator()
    while True:
        try:
            yield next(it)
        except StopIteration:
            return


NotDifferentiable("DatasetToTFRecord")


# ----------------------------------------------------------------------------------------------------------
# DenseToSparseBatchDataset
# ----------------------------------------------------------------------------------------------------------
class _DenseToSparseBatchIter(ElementIterator):
    __slots__ = ("_inner", "_n", "_row_shape")

    def __init__(self, inner, n: int, row_shape: list[int]) -> None:
        self._inner = inner
        self._n = n
        self._row_shape = row_shape

    def __next__(self) -> tuple:
        values = []
        try:
            while len(values) < self._n:
                values.append(np.asarray(next(self._inner)[0]))
        except StopIteration:
            if not values:
                raise
        want = self._row_shape
        for v in values:
            if v.ndim != len(want) or any(d >= 0 and s > d for s, d in zip(v.shape, want)):
                raise _errors.DataLossError(
                    None, None, f"Input element had shape ({', '.join(map(str, v.shape))}) that is incompatible "
                    f"with the row shape ({', '.join(map(str, want))}).")
        dense = [d if d >= 0 else max((v.shape[k] for v in values), default=0) for k, d in enumerate(want)]
        indices = [np.concatenate([np.full((v.size, 1), k, np.int64),
                                   np.indices(v.shape).reshape(v.ndim, -1).T.astype(np.int64)], axis=1)
                   for k, v in enumerate(values)]
        return (SparseComponent(np.concatenate(indices), np.concatenate([v.reshape(-1) for v in values]),
                                np.array([len(values), *dense], np.int64)),)


def _dense_to_sparse_batch_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset, batch_size, row_shape):
        n = int(batch_size)
        if n <= 0:
            raise _invalid("Batch size must be greater than zero.")
        shape = [int(d) for d in np.asarray(row_shape).reshape(-1)]
        return DatasetValue(lambda: _DenseToSparseBatchIter(dataset.make_iterator(), n, shape), op.name)

    return run


register_dataset_op("DenseToSparseBatchDataset", ["input_dataset: variant", "batch_size: int64", "row_shape: int64"],
                    factory=_dense_to_sparse_batch_factory,
                    doc="Batches of `batch_size` dense elements as SparseTensors of dense shape [batch, row_shape] "
                        "(-1 dims: the largest in the batch).")


# ----------------------------------------------------------------------------------------------------------
# RandomDataset
# ----------------------------------------------------------------------------------------------------------
class _RandomIter(ElementIterator):
    __slots__ = ("_random",)

    def __init__(self, random: PhiloxStream) -> None:
        self._random = random

    def __next__(self) -> tuple:
        return (np.int64(self._random()),)


def _random_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(seed, seed2):
        seed, seed2 = int(seed), int(seed2)
        if seed == 0 and seed2 == 0:  # both 0: a nondeterministic stream, as in TF
            seed, seed2 = (int(x) for x in np.random.SeedSequence().generate_state(2, np.uint64))
        return DatasetValue(lambda: _RandomIter(PhiloxStream(seed, seed2)), op.name, INFINITE_CARDINALITY)

    return run


register_dataset_op("RandomDataset", ["seed: int64", "seed2: int64"], factory=_random_dataset_factory,
                    doc="An endless stream of pseudorandom int64 values (TF's Philox samples for the seeds).")


# ----------------------------------------------------------------------------------------------------------
# DatasetWeightedChoice: the selector of sample_from_datasets
# ----------------------------------------------------------------------------------------------------------
def _uint64_to_double(x0: int, x1: int) -> float:
    """TF's Uint64ToDouble: a double in [0, 1) from 52 random mantissa bits."""
    bits = (1023 << 52) | ((x0 & 0xFFFFF) << 32) | x1
    return float(np.array(bits, dtype=np.uint64).view(np.float64)) - 1.0


@register_op("DatasetWeightedChoice", inputs=["seed: int64", "logits: T"], outputs=["index: int64"],
             allowed={"T": (_dt.float16, _dt.float32, _dt.float64)}, shape=lambda op: _shape.TensorShape([]),
             doc="One class drawn from the 1 x N `logits` as TF's stateless multinomial draws it for the seed pair "
                 "`seed` (the selector of sample_from_datasets).")
def _dataset_weighted_choice(seed, logits):
    if np.shape(seed) != (2,) or np.ndim(logits) != 2 or np.shape(logits)[0] != 1:
        raise _invalid("DatasetWeightedChoice needs a seed pair and 1 x N logits.")
    row = np.asarray(logits[0], dtype=np.float64)
    finite = np.isfinite(row)
    if not finite.any():
        raise _invalid("sample_from_datasets needs at least one finite logit.")
    weights = np.where(finite, np.exp(row - row[finite].max()), 0.0)
    cdf = np.cumsum(weights)
    random = stateless_stream(int(seed[0]), int(seed[1]))
    x0, x1 = random(), random()
    return np.int64(np.searchsorted(cdf, _uint64_to_double(x0, x1) * cdf[-1], side="right"))


NotDifferentiable("DatasetWeightedChoice")


# Attrs TensorFlow's op defs give these datasets beyond tfmini's: debugging metadata and scheduling hints
# (dropped on import whatever they hold), and options tfmini implements at TF's default only.
import_only_attr("DatasetCardinality", "cardinality_options", "string", "")
import_only_attr(("DatasetToSingleElement", "GroupByWindowDataset", "RandomDataset", "ScanDataset", "UniqueDataset"),
                 "metadata", "string", "", hint=True)
import_only_attr("DirectedInterleaveDataset", "stop_on_empty_dataset", "bool", False)
import_only_attr("ScanDataset", "use_default_device", "bool", True, hint=True)
