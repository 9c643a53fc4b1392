"""The file datasets of tf.data (TF 1.15's v1 classes): `TFRecordDataset`, `TextLineDataset` and
`FixedLengthRecordDataset`. Each reads the files named by a string, a list or vector of strings, or a
Dataset of file names, one file after another (or `num_parallel_reads` files interleaved)."""

from __future__ import annotations

from collections.abc import Callable

from tfmini.data.dataset_ops import DatasetV1
from tfmini.data.structure import TensorSpec
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops
from tfmini.ops import dataset_readers as _readers  # noqa: F401 - registers the file dataset ops built here

_DEFAULT_BUFFER_SIZE = 256 * 1024
_STRING = TensorSpec(_dt.string, _shape.TensorShape([]))


def _string_scalar(value, default: str, name: str) -> _ops.Tensor:
    return _ops.convert_to_tensor(default if value is None else value, dtype=_dt.string, name=name)


def _int64_scalar(value, default: int, name: str) -> _ops.Tensor:
    return _ops.convert_to_tensor(default if value is None else value, dtype=_dt.int64, name=name)


def _filename_dataset(filenames) -> DatasetV1:
    """The file names as a dataset of scalar strings."""
    if isinstance(filenames, DatasetV1):
        if filenames.output_types != _dt.string:
            raise TypeError("`filenames` must be a `tf.data.Dataset` of `tf.string` elements.")
        if not filenames.output_shapes.is_compatible_with(_shape.TensorShape([])):
            raise TypeError("`filenames` must be a `tf.data.Dataset` of scalar `tf.string` elements.")
        return filenames
    names = _ops.convert_to_tensor(filenames, dtype=_dt.string, name="filenames")
    names = array_ops.reshape(names, [-1], name="flat_filenames")
    return DatasetV1.from_tensor_slices(names)


def _read_files(filenames, read_one: Callable[[_ops.Tensor], DatasetV1], num_parallel_reads) -> DatasetV1:
    names = _filename_dataset(filenames)
    if num_parallel_reads is None:
        return names.flat_map(read_one)
    return names.interleave(read_one, cycle_length=num_parallel_reads, block_length=1,
                            num_parallel_calls=num_parallel_reads)


def _reader(op_type: str, inputs: list) -> DatasetV1:
    t = apply_op(op_type, inputs).outputs[0]
    return DatasetV1(t, _STRING)


@tf_export("data.TFRecordDataset")
class TFRecordDatasetV1(DatasetV1):
    """The records (scalar strings) of TFRecord files; `compression_type` is "", "ZLIB" or "GZIP"."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None) -> None:
        def read_one(filename: _ops.Tensor) -> DatasetV1:
            return _reader("TFRecordDataset", [
                filename, _string_scalar(compression_type, "", "compression_type"),
                _int64_scalar(buffer_size, _DEFAULT_BUFFER_SIZE, "buffer_size")])

        dataset = _read_files(filenames, read_one, num_parallel_reads)
        super().__init__(dataset._variant_tensor, dataset._structure)


@tf_export("data.TextLineDataset")
class TextLineDatasetV1(DatasetV1):
    """The lines of text files (scalar strings, without the line end)."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None) -> None:
        def read_one(filename: _ops.Tensor) -> DatasetV1:
            return _reader("TextLineDataset", [
                filename, _string_scalar(compression_type, "", "compression_type"),
                _int64_scalar(buffer_size, _DEFAULT_BUFFER_SIZE, "buffer_size")])

        dataset = _read_files(filenames, read_one, num_parallel_reads)
        super().__init__(dataset._variant_tensor, dataset._structure)


@tf_export("data.FixedLengthRecordDataset")
class FixedLengthRecordDatasetV1(DatasetV1):
    """The `record_bytes`-byte records of binary files, after `header_bytes` and before `footer_bytes`."""

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None, buffer_size=None,
                 compression_type=None, num_parallel_reads=None) -> None:
        def read_one(filename: _ops.Tensor) -> DatasetV1:
            return _reader("FixedLengthRecordDatasetV2", [
                filename, _int64_scalar(header_bytes, 0, "header_bytes"),
                _int64_scalar(record_bytes, 0, "record_bytes"), _int64_scalar(footer_bytes, 0, "footer_bytes"),
                _int64_scalar(buffer_size, _DEFAULT_BUFFER_SIZE, "buffer_size"),
                _string_scalar(compression_type, "", "compression_type")])

        dataset = _read_files(filenames, read_one, num_parallel_reads)
        super().__init__(dataset._variant_tensor, dataset._structure)


TFRecordDataset = TFRecordDatasetV1
TextLineDataset = TextLineDatasetV1
FixedLengthRecordDataset = FixedLengthRecordDatasetV1
