"""`tf.data.experimental` (TF 1.15): transformations for `Dataset.apply` (unbatch, scan, group_by_window,
bucket_by_sequence_length, dense_to_sparse_batch, parse_example_dataset, ...), datasets (CsvDataset,
make_csv_dataset, make_batched_features_dataset, Counter, choose_from_datasets, sample_from_datasets),
cardinality, get_single_element, get_next_as_optional and Optional, TFRecordWriter, the option groups, and
AUTOTUNE."""

import collections as _collections
import csv as _csv
import glob as _glob
import io as _io
import itertools as _itertools
from collections.abc import Callable as _Callable

import numpy as _np

from tfmini.data.dataset_ops import AUTOTUNE
from tfmini.data.dataset_ops import DatasetSpec as _DatasetSpec
from tfmini.data.dataset_ops import DatasetV1 as _DatasetV1
from tfmini.data.dataset_ops import TracedFunction as _TracedFunction
from tfmini.data.dataset_ops import merge_specs as _merge_specs
from tfmini.data.dataset_ops import trace_function as _trace_function
from tfmini.data.dataset_ops import trace_with_state as _trace_with_state
from tfmini.data.readers import TFRecordDataset as _TFRecordDataset
from tfmini.data.structure import SparseSpec as _SparseSpec
from tfmini.data.structure import TensorSpec as _TensorSpec
from tfmini.data.structure import flatten as _flatten
from tfmini.data.structure import is_structure as _is_structure
from tfmini.data.structure import map_structure as _map_structure
from tfmini.data.structure import pack_as as _pack_as
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export as _tf_export
from tfmini.framework.registry import apply_op as _apply_op
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import check_ops as _check_ops
from tfmini.ops import dataset_experimental_ops as _dexp
from tfmini.ops import dataset_readers as _readers
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import parsing_ops as _parsing_ops
from tfmini.ops import random_ops as _random_ops


@_tf_export("data.experimental.unbatch")
def unbatch() -> _Callable[[_DatasetV1], _DatasetV1]:
    """Splits each element along its first dimension (as `Dataset.unbatch`)."""
    return lambda dataset: dataset.unbatch()


@_tf_export("data.experimental.enumerate_dataset")
def enumerate_dataset(start=0) -> _Callable[[_DatasetV1], _DatasetV1]:
    """Pairs each element with its index counted from `start` (as `Dataset.enumerate`)."""
    return lambda dataset: dataset.enumerate(start)


@_tf_export("data.experimental.map_and_batch")
def map_and_batch(map_func: _Callable, batch_size, num_parallel_batches=None, drop_remainder: bool = False,
                  num_parallel_calls=None) -> _Callable[[_DatasetV1], _DatasetV1]:
    """`map(map_func)` then `batch(batch_size, drop_remainder)` (the parallelism arguments are accepted)."""
    if num_parallel_batches is not None and num_parallel_calls is not None:
        raise ValueError("The `num_parallel_batches` and `num_parallel_calls` arguments are mutually exclusive.")
    return lambda dataset: dataset.map(map_func).batch(batch_size, drop_remainder)


@_tf_export("data.experimental.shuffle_and_repeat")
def shuffle_and_repeat(buffer_size, count=None, seed=None) -> _Callable[[_DatasetV1], _DatasetV1]:
    """`shuffle(buffer_size, seed)` then `repeat(count)`: each repetition is shuffled anew."""
    return lambda dataset: dataset.shuffle(buffer_size, seed).repeat(count)


@_tf_export("data.experimental.parallel_interleave")
def parallel_interleave(map_func: _Callable, cycle_length, block_length=1, sloppy: bool = False,
                        buffer_output_elements=None,
                        prefetch_input_elements=None) -> _Callable[[_DatasetV1], _DatasetV1]:
    """`interleave(map_func, cycle_length, block_length)` in its deterministic order (the parallelism and
    buffering arguments are accepted; `sloppy` orders are one of the orders TF may give)."""
    return lambda dataset: dataset.interleave(map_func, cycle_length, block_length)


@_tf_export("data.experimental.ignore_errors")
def ignore_errors() -> _Callable[[_DatasetV1], _DatasetV1]:
    """Drops the elements whose computation fails (e.g. a map body's error) instead of reporting them."""
    return lambda dataset: _unary("IgnoreErrorsDataset", dataset)


# ----------------------------------------------------------------------------------------------------------
# Cardinality, single elements
# ----------------------------------------------------------------------------------------------------------
INFINITE_CARDINALITY = _dexp.INFINITE_CARDINALITY
UNKNOWN_CARDINALITY = _dexp.UNKNOWN_CARDINALITY
_tf_export("data.experimental.INFINITE_CARDINALITY").export_constant(__name__, "INFINITE_CARDINALITY")
_tf_export("data.experimental.UNKNOWN_CARDINALITY").export_constant(__name__, "UNKNOWN_CARDINALITY")


@_tf_export("data.experimental.cardinality")
def cardinality(dataset: _DatasetV1) -> _ops.Tensor:
    """An int64 scalar tensor: the number of elements of `dataset`, INFINITE_CARDINALITY (-1) or
    UNKNOWN_CARDINALITY (-2) when it cannot be known without iterating (e.g. after filter)."""
    return _apply_op("DatasetCardinality", [dataset._variant_tensor]).outputs[0]


@_tf_export("data.experimental.get_single_element")
def get_single_element(dataset: _DatasetV1):
    """The one element of `dataset` as tensors (InvalidArgumentError when they run if it has none or more)."""
    if not isinstance(dataset, _DatasetV1):
        raise TypeError("`dataset` must be a `tf.data.Dataset` object.")
    op = _apply_op("DatasetToSingleElement", [dataset._variant_tensor], _flat_attrs(dataset._structure))
    specs = _flatten(dataset._structure)
    return _pack_as(dataset._structure, [s.wrap(t) for s, t in zip(specs, op.outputs)])


def _flat_attrs(structure) -> dict:
    specs = _flatten(structure)
    return {"output_types": [s.dtype for s in specs], "output_shapes": [s.shape for s in specs]}


def _unary(op_type: str, dataset: _DatasetV1, structure=None) -> _DatasetV1:
    structure = dataset._structure if structure is None else structure
    t = _apply_op(op_type, [dataset._variant_tensor], _flat_attrs(structure)).outputs[0]
    return _DatasetV1(t, structure)


@_tf_export("data.experimental.unique")
def unique() -> _Callable[[_DatasetV1], _DatasetV1]:
    """Drops the elements seen before (elements must be single int32, int64 or string scalars)."""
    def apply(dataset: _DatasetV1) -> _DatasetV1:
        spec = dataset._structure
        if not isinstance(spec, _TensorSpec) or spec.dtype not in (_dt.int32, _dt.int64, _dt.string):
            raise TypeError("`tf.data.experimental.unique()` only supports inputs with a single `tf.int32`, "
                            "`tf.int64`, or `tf.string` component.")
        return _unary("UniqueDataset", dataset)

    return apply


# ----------------------------------------------------------------------------------------------------------
# scan, group_by_window, bucket_by_sequence_length
# ----------------------------------------------------------------------------------------------------------
@_tf_export("data.experimental.scan")
def scan(initial_state, scan_func: _Callable) -> _Callable[[_DatasetV1], _DatasetV1]:
    """`scan_func(state, element) -> (new_state, output)` carried along the dataset: the outputs."""
    def new_state_of(out):
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError(f"The scan function must return a pair comprising the new state and the output "
                            f"value, got {out}.")
        return out[0]

    def apply(dataset: _DatasetV1) -> _DatasetV1:
        flat_init, fn, state = _trace_with_state(scan_func, initial_state, dataset._structure, "Dataset_scan",
                                                "scan_func", new_state_of)
        output = fn.output_structure[1]
        t = _apply_op("ScanDataset", [dataset._variant_tensor, flat_init, fn.captured],
                     {"f": fn.graph, "Tstate": [x.dtype for x in flat_init], **fn.attrs,
                      **_flat_attrs(output)}).outputs[0]
        return _DatasetV1(t, output)

    return apply


_KEY = _TensorSpec(_dt.int64, _shape.TensorShape([]))


def _int64_scalar_function(func: _Callable, structure, name: str, what: str) -> _TracedFunction:
    fn = _trace_function(func, structure, name, what)
    out = fn.output_structure
    if not isinstance(out, _TensorSpec) or out.dtype != _dt.int64 or out.shape.ndims not in (None, 0):
        raise ValueError(f"`{what}` must return a single tf.int64 scalar tensor.")
    return fn


@_tf_export("data.experimental.group_by_window")
def group_by_window(key_func: _Callable, reduce_func: _Callable, window_size=None,
                    window_size_func: _Callable | None = None) -> _Callable[[_DatasetV1], _DatasetV1]:
    """Groups elements by `key_func(element)` (an int64 scalar) into windows of `window_size` (or
    `window_size_func(key)`) elements; `reduce_func(key, window_dataset)` turns each full window (and each
    window left when the input ends) into a dataset whose elements are output."""
    if (window_size is None) == (window_size_func is None):
        raise ValueError("Either the `window_size` argument or the `window_size_func` argument must be specified, "
                         "and not both.")
    if window_size_func is None:
        def window_size_func(_key):
            return _ops.convert_to_tensor(window_size, dtype=_dt.int64)

    def apply(dataset: _DatasetV1) -> _DatasetV1:
        key_fn = _int64_scalar_function(key_func, dataset._structure, "Dataset_group_key", "key_func")
        size_fn = _int64_scalar_function(window_size_func, _KEY, "Dataset_group_window_size", "window_size_func")
        reduce_fn = _trace_function(reduce_func, (_KEY, _DatasetSpec(dataset._structure)), "Dataset_group_reduce",
                                   "reduce_func")
        if not isinstance(reduce_fn.output_structure, _DatasetSpec):
            raise TypeError("`reduce_func` must return a `Dataset` object.")
        element = reduce_fn.output_structure.element
        fns = (key_fn, reduce_fn, size_fn)
        with _ops.control_dependencies([op for f in fns for op in f.graph.control_captures] or None):
            t = _apply_op("GroupByWindowDataset",
                         [dataset._variant_tensor, key_fn.captured, reduce_fn.captured, size_fn.captured],
                         {"key_func": key_fn.graph, "reduce_func": reduce_fn.graph, "window_size_func": size_fn.graph,
                          "Tkey_func_other_arguments": [x.dtype for x in key_fn.captured],
                          "Treduce_func_other_arguments": [x.dtype for x in reduce_fn.captured],
                          "Twindow_size_func_other_arguments": [x.dtype for x in size_fn.captured],
                          **_flat_attrs(element)}).outputs[0]
        return _DatasetV1(t, element)

    return apply


@_tf_export("data.experimental.bucket_by_sequence_length")
def bucket_by_sequence_length(element_length_func: _Callable, bucket_boundaries, bucket_batch_sizes,
                              padded_shapes=None, padding_values=None, pad_to_bucket_boundary: bool = False,
                              no_padding: bool = False,
                              drop_remainder: bool = False) -> _Callable[[_DatasetV1], _DatasetV1]:
    """Batches elements of similar length together: an element of length L goes to the bucket whose
    boundaries hold it (bucket i holds bucket_boundaries[i-1] <= L < bucket_boundaries[i]), and each bucket
    is batched by its own bucket_batch_sizes entry, padded to the longest in the batch (or, with
    `pad_to_bucket_boundary`, to the bucket's boundary - 1)."""
    boundaries = [int(b) for b in bucket_boundaries]
    sizes = [int(b) for b in bucket_batch_sizes]
    if len(sizes) != len(boundaries) + 1:
        raise ValueError("len(bucket_batch_sizes) must equal len(bucket_boundaries) + 1")
    if any(b <= a for a, b in zip(boundaries, boundaries[1:])):
        raise ValueError("bucket_boundaries must be sorted in increasing order.")
    int64_max = _np.iinfo(_np.int64).max

    def key(*args):
        length = element_length_func(*args)
        length = _math_ops.cast(length, _dt.int64)
        lows = _ops.convert_to_tensor(_np.array([_np.iinfo(_np.int64).min, *boundaries], _np.int64))
        highs = _ops.convert_to_tensor(_np.array([*boundaries, int64_max], _np.int64))
        inside = _math_ops.logical_and(_math_ops.greater_equal(length, lows), _math_ops.less(length, highs))
        return _math_ops.reduce_min(_array_ops.where(inside)[:, 0])

    def window_size(bucket_id):
        return _array_ops.gather(_ops.convert_to_tensor(_np.array(sizes, _np.int64)), bucket_id)

    def batch_window(bucket_id, window: _DatasetV1) -> _DatasetV1:
        batch_size = window_size(bucket_id)
        if no_padding:
            return window.batch(batch_size, drop_remainder=drop_remainder)
        shapes = padded_shapes if padded_shapes is not None else window.output_shapes
        if pad_to_bucket_boundary:
            check = _check_ops.assert_less(
                bucket_id, _np.int64(len(boundaries)),
                message="When pad_to_bucket_boundary=True, elements must have length < max(bucket_boundaries).")
            with _ops.control_dependencies([check]):
                filler = _array_ops.gather(_ops.convert_to_tensor(_np.array(boundaries, _np.int64)), bucket_id) - 1
            shapes = _map_structure_shapes(shapes, lambda dims: _array_ops.stack(
                [filler if d is None else _np.int64(d) for d in dims]) if None in dims else dims)
        return window.padded_batch(batch_size, shapes, padding_values, drop_remainder=drop_remainder)

    return group_by_window(key, batch_window, window_size_func=window_size)


def _map_structure_shapes(shapes, fn: _Callable):
    """`fn(dims)` for each shape leaf of `shapes` (TensorShapes or lists of dims)."""
    def one(s):
        if isinstance(s, _ops.Tensor):
            return s
        return fn(_shape.as_shape(s).as_list())

    if _is_structure(shapes):
        return _pack_as(shapes, [one(s) for s in _flatten(shapes)])
    return one(shapes)


# ----------------------------------------------------------------------------------------------------------
# choose_from_datasets, sample_from_datasets, Counter
# ----------------------------------------------------------------------------------------------------------
def _directed_interleave(selector: _DatasetV1, datasets: list) -> _DatasetV1:
    if not datasets or not all(isinstance(d, _DatasetV1) for d in datasets):
        raise TypeError("`datasets` must be a non-empty list of `tf.data.Dataset` objects.")
    first = datasets[0]
    for d in datasets[1:]:
        if d.output_types != first.output_types or d.output_classes != first.output_classes:
            raise TypeError(f"Datasets must have the same type structure. {first.output_types} vs "
                            f"{d.output_types}.")
    structure = first._structure
    for d in datasets[1:]:
        structure = _map_structure(_merge_specs, structure, d._structure)
    t = _apply_op("DirectedInterleaveDataset", [selector._variant_tensor, [d._variant_tensor for d in datasets]],
                 _flat_attrs(structure)).outputs[0]
    return _DatasetV1(t, structure)


@_tf_export("data.experimental.choose_from_datasets")
def choose_from_datasets(datasets, choice_dataset: _DatasetV1) -> _DatasetV1:
    """The next element of `datasets[i]` for each `i` that `choice_dataset` (int64 scalars) yields."""
    spec = choice_dataset._structure
    if not isinstance(spec, _TensorSpec) or spec.dtype != _dt.int64 or not spec.shape.is_compatible_with([]):
        raise TypeError("`choice_dataset` must be a dataset of scalar `tf.int64` tensors.")
    return _directed_interleave(choice_dataset, list(datasets))


@_tf_export("data.experimental.sample_from_datasets")
def sample_from_datasets(datasets, weights=None, seed=None) -> _DatasetV1:
    """Elements drawn from `datasets` at random, dataset i with probability `weights[i]` (uniform when None),
    in the order TensorFlow draws them for the same seed; datasets that run out are skipped."""
    datasets = list(datasets)
    n = len(datasets)
    if isinstance(weights, _DatasetV1):
        raise TypeError("Weights given as a Dataset are not supported; give a list or a tensor.")
    if weights is None:
        logits = _ops.convert_to_tensor(_np.ones([1, n], _np.float32), name="logits")
    else:
        w = _ops.convert_to_tensor(weights, dtype=_dt.float32, name="weights")
        if w.shape.ndims not in (None, 1) or (w.shape.ndims == 1 and w.shape[0].value not in (None, n)):
            raise ValueError(f"`weights` must be a vector of length `len(datasets)` ({n}).")
        logits = _array_ops.expand_dims(_math_ops.log(w, name="logits"), 0)
    if n == 1:
        return datasets[0]
    selector = RandomDataset(seed).batch(2).map(
        lambda pair: _apply_op("DatasetWeightedChoice", [pair, logits]).outputs[0])
    return _directed_interleave(selector, datasets)


@_tf_export("data.experimental.Counter")
def Counter(start=0, step=1, dtype=_dt.int64) -> _DatasetV1:  # noqa: N802 - TF's public name
    """`start`, `start + step`, ... without end."""
    info = _np.iinfo(_np.int64)
    limit = info.max if (not isinstance(step, int) or step > 0) else info.min
    return _DatasetV1.range(start, limit, step, output_type=dtype)


# ----------------------------------------------------------------------------------------------------------
# TFRecordWriter, device placement
# ----------------------------------------------------------------------------------------------------------
@_tf_export("data.experimental.TFRecordWriter")
class TFRecordWriter:
    """Writes a dataset of scalar strings to a TFRecord file: `write(dataset)` returns the op that does it."""

    def __init__(self, filename, compression_type=None) -> None:
        self._filename = _ops.convert_to_tensor(filename, dtype=_dt.string, name="filename")
        self._compression_type = _ops.convert_to_tensor(compression_type or "", dtype=_dt.string,
                                                        name="compression_type")

    def write(self, dataset: _DatasetV1) -> _ops.Operation:
        spec = dataset._structure
        if not isinstance(spec, _TensorSpec) or spec.dtype != _dt.string or not spec.shape.is_compatible_with([]):
            raise TypeError(f"`dataset` must produce scalar `DT_STRING` tensors whereas it produces shape "
                            f"{dataset.output_shapes} and types {dataset.output_types}")
        return _apply_op("DatasetToTFRecord", [dataset._variant_tensor, self._filename, self._compression_type])


@_tf_export("data.experimental.prefetch_to_device")
def prefetch_to_device(device: str, buffer_size=None) -> _Callable[[_DatasetV1], _DatasetV1]:
    """tfmini runs on the CPU only: the dataset, prefetched (computed on demand) as `Dataset.prefetch`."""
    return lambda dataset: dataset.prefetch(1 if buffer_size is None else buffer_size)


@_tf_export("data.experimental.copy_to_device")
def copy_to_device(target_device: str, source_device: str = "/cpu:0") -> _Callable[[_DatasetV1], _DatasetV1]:
    """tfmini runs on the CPU only: the dataset itself."""
    return lambda dataset: dataset


# ----------------------------------------------------------------------------------------------------------
# CsvDataset
# ----------------------------------------------------------------------------------------------------------
def _record_default(value, i: int) -> _ops.Tensor:
    """A record default as the op takes it: a dtype stands for a required field (an empty tensor)."""
    if isinstance(value, _dt.DType) or (isinstance(value, type) and issubclass(value, _np.generic)):
        dtype = _dt.as_dtype(value)
        return _ops.convert_to_tensor(_np.zeros([0], dtype.as_numpy_dtype) if dtype != _dt.string
                                      else _np.array([], dtype=object), dtype=dtype, name=f"record_default_{i}")
    t = _ops.convert_to_tensor(value, name=f"record_default_{i}")
    if t.dtype.base_dtype not in (_dt.int32, _dt.int64, _dt.float32, _dt.float64, _dt.string):
        raise TypeError(f"record_defaults[{i}] has dtype {t.dtype.name}; CSV fields are int32, int64, float32, "
                        "float64 or string.")
    if t.shape.ndims is not None and t.shape.num_elements() is not None and t.shape.num_elements() > 1:
        raise ValueError(f"record_defaults[{i}] must have at most one element, got shape {t.shape}.")
    return t


@_tf_export("data.experimental.CsvDataset")
class CsvDataset(_DatasetV1):
    """The records of CSV files, each a tuple of scalars typed by `record_defaults` (a value per column: its
    default for empty or `na_value` fields; a dtype for a required column). `select_cols` picks columns."""

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None, header: bool = False,
                 field_delim=",", use_quote_delim: bool = True, na_value="", select_cols=None) -> None:
        with _ops.name_scope("CsvDataset"):
            names = _array_ops.reshape(_ops.convert_to_tensor(filenames, dtype=_dt.string, name="filenames"), [-1])
            defaults = [_record_default(d, i) for i, d in enumerate(record_defaults)]
            if select_cols is not None and len(select_cols) != len(defaults):
                raise ValueError("Length of select_cols and record_defaults do not match.")
            cols = _np.array([] if select_cols is None else list(select_cols), dtype=_np.int64)
            if cols.size and (_np.any(_np.diff(cols) <= 0) or cols[0] < 0):
                raise ValueError("select_cols is not strictly increasing.")
            structure = tuple(_TensorSpec(d.dtype.base_dtype, _shape.TensorShape([])) for d in defaults)
            t = _apply_op("CSVDataset", [
                names, _ops.convert_to_tensor(compression_type or "", dtype=_dt.string, name="compression_type"),
                _ops.convert_to_tensor(-1 if buffer_size is None else buffer_size, dtype=_dt.int64, name="buffer_size"),
                _ops.convert_to_tensor(header, dtype=_dt.bool_, name="header"),
                _ops.convert_to_tensor(field_delim, dtype=_dt.string, name="field_delim"),
                _ops.convert_to_tensor(use_quote_delim, dtype=_dt.bool_, name="use_quote_delim"),
                _ops.convert_to_tensor(na_value, dtype=_dt.string, name="na_value"),
                _ops.convert_to_tensor(cols, dtype=_dt.int64, name="select_cols"), defaults],
                {"output_shapes": [s.shape for s in structure], "output_types": [s.dtype for s in structure]},
            ).outputs[0]
        super().__init__(t, structure)


@_tf_export("data.experimental.dense_to_sparse_batch")
def dense_to_sparse_batch(batch_size, row_shape) -> _Callable[[_DatasetV1], _DatasetV1]:
    """Batches of `batch_size` elements (single tensors of varying shape) as SparseTensors of dense shape
    [batch, *row_shape]; a -1 (or None) in `row_shape` is the largest in the batch."""
    def apply(dataset: _DatasetV1) -> _DatasetV1:
        spec = dataset._structure
        if not isinstance(spec, _TensorSpec):
            raise TypeError("dense_to_sparse_batch needs elements that are single dense tensors.")
        if isinstance(row_shape, _ops.Tensor):
            shape_t, static = row_shape, _reg.constant_value_as_shape(row_shape)
        else:
            static = _shape.as_shape(row_shape)
            shape_t = _ops.convert_to_tensor(_np.array([-1 if d is None else d for d in static.as_list()], _np.int64),
                                             name="row_shape")
        structure = _SparseSpec(spec.dtype, _shape.TensorShape([None]).concatenate(static))
        t = _apply_op("DenseToSparseBatchDataset",
                     [dataset._variant_tensor, _ops.convert_to_tensor(batch_size, dtype=_dt.int64, name="batch_size"),
                      _ops.convert_to_tensor(shape_t, dtype=_dt.int64)], _flat_attrs(structure)).outputs[0]
        return _DatasetV1(t, structure)

    return apply


# ----------------------------------------------------------------------------------------------------------
# make_csv_dataset
# ----------------------------------------------------------------------------------------------------------
def _csv_rows(path: str, compression: str, delim: str, quote: bool, limit: int) -> list[list[str]]:
    """The first `limit` rows of a CSV file, read when the pipeline is built (for names and types)."""
    stream = _io.TextIOWrapper(_readers.open_stream(path, compression, 0), encoding="utf-8", newline="")
    try:
        reader = _csv.reader(stream, delimiter=delim, quotechar='"',
                            quoting=_csv.QUOTE_MINIMAL if quote else _csv.QUOTE_NONE)
        return list(_itertools.islice(reader, limit))
    finally:
        stream.close()


def _infer_type(values: list[str]) -> _dt.DType:
    """The narrowest of int32, int64, float32 and string that holds every value (TF's inference order)."""
    def all_parse(fn) -> bool:
        try:
            for v in values:
                fn(v)
        except (ValueError, OverflowError):
            return False
        return True

    def int32(v: str) -> None:
        if not -2**31 <= int(v) < 2**31:
            raise OverflowError(v)

    def int64(v: str) -> None:
        if not -2**63 <= int(v) < 2**63:
            raise OverflowError(v)

    for dtype, check in ((_dt.int32, int32), (_dt.int64, int64), (_dt.float32, float)):
        if all_parse(check):
            return dtype
    return _dt.string


@_tf_export("data.experimental.make_csv_dataset")
def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None, label_name=None,
                     select_columns=None, field_delim=",", use_quote_delim: bool = True, na_value="",
                     header: bool = True, num_epochs=None, shuffle: bool = True, shuffle_buffer_size=10000,
                     shuffle_seed=None, prefetch_buffer_size=AUTOTUNE, num_parallel_reads=1, sloppy: bool = False,
                     num_rows_for_inference=100, compression_type=None, ignore_errors: bool = False) -> _DatasetV1:
    """Batches of (features, label) from CSV files: `features` maps each (selected) column name to a batch of
    its values. Column names come from the header when not given, and column types are inferred from the
    first `num_rows_for_inference` rows when `column_defaults` is not given (int32, int64, float32 or
    string). The files are read `num_epochs` times (None: forever, then the last partial batch is
    dropped), shuffled unless `shuffle` is False."""
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(file_pattern)
    filenames = sorted({f for p in patterns for f in _glob.glob(p.decode() if isinstance(p, bytes) else p)})
    if not filenames:
        raise ValueError(f"No files match `file_pattern` {file_pattern}.")
    compression = compression_type or ""
    rows = _csv_rows(filenames[0], compression, field_delim, use_quote_delim,
                     1 + (num_rows_for_inference or 0) if header else (num_rows_for_inference or 0))
    if column_names is None:
        if not header:
            raise ValueError("Cannot infer column names without a header line.")
        if not rows:
            raise ValueError(f"The file {filenames[0]} has no header line.")
        column_names = rows[0]
    column_names = list(column_names)
    if len(set(column_names)) != len(column_names):
        raise ValueError("Cannot have duplicate column names.")
    select = _column_indices(select_columns, column_names)
    names = [column_names[i] for i in select]
    if label_name is not None and label_name not in names:
        raise ValueError(f"`label_name` provided must be one of the columns: {names}. Got {label_name}.")
    if column_defaults is None:
        body = rows[1:] if header else rows
        defaults = []
        for i in select:
            values = [r[i] for r in body if i < len(r) and r[i] not in ("", na_value)]
            dtype = _infer_type(values)
            defaults.append(_ops.convert_to_tensor("" if dtype == _dt.string else _np.zeros([], dtype.as_numpy_dtype),
                                                   dtype=dtype))
    else:
        defaults = list(column_defaults)
        if len(defaults) != len(select):
            raise ValueError("The number of column_defaults must match the number of selected columns.")

    def read(filename):
        return CsvDataset(filename, defaults, compression_type=compression, header=header, field_delim=field_delim,
                          use_quote_delim=use_quote_delim, na_value=na_value,
                          select_cols=None if select_columns is None else select)

    dataset = _DatasetV1.from_tensor_slices(filenames)
    if shuffle:
        dataset = dataset.shuffle(len(filenames), shuffle_seed)
    dataset = dataset.interleave(read, cycle_length=num_parallel_reads, block_length=1)
    if ignore_errors:
        dataset = _unary("IgnoreErrorsDataset", dataset)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, shuffle_seed)
    if num_epochs != 1:
        dataset = dataset.repeat(num_epochs)
    dataset = dataset.batch(batch_size, drop_remainder=num_epochs is None)

    def to_features(*columns):
        features = _collections.OrderedDict(zip(names, columns))
        if label_name is None:
            return features
        label = features.pop(label_name)
        return features, label

    return dataset.map(to_features).prefetch(prefetch_buffer_size)


def _column_indices(select_columns, column_names: list) -> list[int]:
    """The sorted indices of the selected columns, given by name or index (all columns when None)."""
    if select_columns is None:
        return list(range(len(column_names)))
    indices = set()
    for c in select_columns:
        if isinstance(c, str) and c in column_names:
            indices.add(column_names.index(c))
        elif isinstance(c, int) and 0 <= c < len(column_names):
            indices.add(c)
        else:
            raise ValueError(f"select_columns {select_columns} must name columns of {column_names} or be their "
                             "indices.")
    return sorted(indices)


# ----------------------------------------------------------------------------------------------------------
# parse_example_dataset, make_batched_features_dataset
# ----------------------------------------------------------------------------------------------------------
@_tf_export("data.experimental.parse_example_dataset")
def parse_example_dataset(features: dict, num_parallel_calls=1) -> _Callable[[_DatasetV1], _DatasetV1]:
    """Parses each element (a vector of serialized tf.train.Example protos) into a dict of features, as
    `tf.parse_example` does (`num_parallel_calls` is accepted)."""
    if features is None:
        raise ValueError("Missing: features was None.")

    def apply(dataset: _DatasetV1) -> _DatasetV1:
        spec = dataset._structure
        if not isinstance(spec, _TensorSpec) or spec.dtype != _dt.string or spec.shape.ndims not in (None, 1):
            raise TypeError("Input dataset should be a dataset of vectors of strings")
        return dataset.map(lambda serialized: _parsing_ops.parse_example(serialized, features))

    return apply


@_tf_export("data.experimental.make_batched_features_dataset")
def make_batched_features_dataset(file_pattern, batch_size, features: dict, reader=None, label_key=None,
                                  reader_args=None, num_epochs=None, shuffle: bool = True,
                                  shuffle_buffer_size=10000, shuffle_seed=None,
                                  prefetch_buffer_size=AUTOTUNE, reader_num_threads=1, parser_num_threads=2,
                                  sloppy_ordering: bool = False, drop_final_batch: bool = False) -> _DatasetV1:
    """Batches of parsed tf.train.Example features from the files matching `file_pattern` (read with
    `reader`, TFRecordDataset by default): the files are interleaved `reader_num_threads` at a time, the
    records shuffled (unless `shuffle` is False) and repeated `num_epochs` times (None: forever, dropping
    the last partial batch), batched, and parsed with `features`; with `label_key`, (features, label)."""
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(file_pattern)
    filenames = sorted({f for p in patterns for f in _glob.glob(p.decode() if isinstance(p, bytes) else p)})
    if not filenames:
        raise ValueError(f"No files match `file_pattern` {file_pattern}.")
    if label_key is not None and label_key not in features:
        raise ValueError(f"The `label_key` provided ({label_key}) must be one of the `features` keys.")
    read = _TFRecordDataset if reader is None else reader
    args = list(reader_args or [])
    dataset = _DatasetV1.from_tensor_slices(filenames)
    if shuffle:
        dataset = dataset.shuffle(len(filenames), shuffle_seed)
    dataset = dataset.interleave(lambda filename: read(filename, *args), cycle_length=reader_num_threads,
                                 block_length=1)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, shuffle_seed)
    if num_epochs != 1:
        dataset = dataset.repeat(num_epochs)
    dataset = dataset.batch(batch_size, drop_remainder=drop_final_batch or num_epochs is None)
    dataset = dataset.apply(parse_example_dataset(features, parser_num_threads))
    if label_key is not None:
        dataset = dataset.map(lambda parsed: (
            {k: v for k, v in parsed.items() if k != label_key}, parsed[label_key]))
    return dataset.prefetch(prefetch_buffer_size)


@_tf_export("data.experimental.RandomDataset")
class RandomDataset(_DatasetV1):
    """An endless dataset of pseudorandom int64 scalars, the same TensorFlow draws for the same seeds (TF1's
    graph and op seed rules; both unset: a different stream each time)."""

    def __init__(self, seed=None) -> None:
        seed1, seed2 = _random_ops.get_seed(seed)
        structure = _TensorSpec(_dt.int64, _shape.TensorShape([]))
        t = _apply_op("RandomDataset", [_ops.convert_to_tensor(seed1 or 0, dtype=_dt.int64, name="seed"),
                                       _ops.convert_to_tensor(seed2 or 0, dtype=_dt.int64, name="seed2")],
                     _flat_attrs(structure)).outputs[0]
        super().__init__(t, structure)
