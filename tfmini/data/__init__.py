"""`tf.data` (TF 1.15): `Dataset`, `Iterator`, the file datasets and `tf.data.experimental`; also the
`tf.compat.v1.data` functions (make_one_shot_iterator, make_initializable_iterator, get_output_*)."""

from __future__ import annotations

from tfmini.data import experimental
from tfmini.data.dataset_ops import Dataset, DatasetV1
from tfmini.data.iterator_ops import (
    Iterator,
    get_output_classes,
    get_output_shapes,
    get_output_types,
    make_initializable_iterator,
    make_one_shot_iterator,
)
from tfmini.data.options import Options
from tfmini.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset

__all__ = [
    "Dataset",
    "FixedLengthRecordDataset",
    "TFRecordDataset",
    "TextLineDataset",
    "DatasetV1",
    "Iterator",
    "Options",
    "experimental",
    "get_output_classes",
    "get_output_shapes",
    "get_output_types",
    "make_initializable_iterator",
    "make_one_shot_iterator",
]
