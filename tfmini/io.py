"""`tf.io`: TFRecord files, whole-file reads and writes, and the parsing and decoding ops under their TF 1.15
`tf.io.*` names."""

from tfmini.framework.record_io import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator
from tfmini.ops.decode_ops import (
    decode_compressed,
    decode_csv,
    decode_json_example,
    decode_raw,
    parse_tensor,
    serialize_tensor,
)
from tfmini.ops.io_ops import matching_files, read_file, write_file
from tfmini.ops.parsing_ops import (
    FixedLenFeature,
    FixedLenSequenceFeature,
    SparseFeature,
    VarLenFeature,
    parse_example,
    parse_sequence_example,
    parse_single_example,
    parse_single_sequence_example,
)
from tfmini.ops.string_ops import decode_base64, encode_base64

__all__ = [
    "FixedLenFeature", "FixedLenSequenceFeature", "SparseFeature", "TFRecordCompressionType", "TFRecordOptions",
    "TFRecordWriter", "VarLenFeature", "decode_base64", "decode_compressed", "decode_csv", "decode_json_example",
    "decode_raw",
    "encode_base64", "matching_files", "parse_example", "parse_sequence_example", "parse_single_example",
    "parse_single_sequence_example", "parse_tensor", "read_file", "serialize_tensor", "tf_record_iterator",
    "write_file",
]

# -- graph files
# isort: split
from tfmini.framework.graph_util import write_graph  # noqa: E402

__all__ += ["write_graph"]

# -- queues (TF 1.15's tf.io also exported the queue classes, though not FIFOQueue)
# isort: split
from tfmini.ops.data_flow_ops import PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue  # noqa: E402

__all__ += ["PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"]

# -- gfile: tf.io.gfile, TF's lower-case file API
# isort: split
import types as _types  # noqa: E402

from tfmini.framework import file_io as _file_io  # noqa: E402

gfile = _types.ModuleType("tfmini.io.gfile", "`tf.io.gfile`: GFile and the file-system functions (local paths).")
for _name in ("GFile", "copy", "exists", "glob", "isdir", "join", "listdir", "makedirs", "mkdir", "remove", "rename",
              "rmtree", "stat", "walk"):
    setattr(gfile, _name, getattr(_file_io, _name))
del _name

__all__ += ["gfile"]
