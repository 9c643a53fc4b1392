"""`tf.summary` (TF 1.15's v1 API): the summary ops, merging them, FileWriter and FileWriterCache, and the
Summary, Event and related protos."""

from tfmini.framework.summary_io import FileWriter, FileWriterCache
from tfmini.ops.summary_ops import (
    audio,
    get_summary_description,
    histogram,
    image,
    merge,
    merge_all,
    scalar,
    tensor_summary,
    text,
)
from tfmini.protobuf.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tfmini.protobuf.summary_pb2 import Summary, SummaryDescription

__all__ = [
    "Event", "FileWriter", "FileWriterCache", "SessionLog", "Summary", "SummaryDescription", "TaggedRunMetadata",
    "audio", "get_summary_description", "histogram", "image", "merge", "merge_all", "scalar", "tensor_summary",
    "text",
]
