"""`tf.strings`: the string ops under their TF 1.15 `tf.strings.*` names (tf.strings.split returns a SparseTensor,
as tf.compat.v1's does)."""

from tfmini.ops.string_hash_ops import string_to_hash_bucket as to_hash_bucket
from tfmini.ops.string_hash_ops import string_to_hash_bucket_fast as to_hash_bucket_fast
from tfmini.ops.string_hash_ops import string_to_hash_bucket_strong as to_hash_bucket_strong
from tfmini.ops.string_ops import (
    as_string,
    ngrams,
    reduce_join,
    regex_full_match,
    regex_replace,
    substr,
    unicode_transcode,
)
from tfmini.ops.string_ops import string_format as format  # noqa: A004 - TF's name
from tfmini.ops.string_ops import string_join as join
from tfmini.ops.string_ops import string_length as length
from tfmini.ops.string_ops import string_lower as lower
from tfmini.ops.string_ops import string_split_v2 as split
from tfmini.ops.string_ops import string_strip as strip
from tfmini.ops.string_ops import string_to_number as to_number
from tfmini.ops.string_ops import string_upper as upper

__all__ = [
    "as_string", "format", "join", "length", "lower", "ngrams", "reduce_join", "regex_full_match", "regex_replace",
    "split", "strip", "substr", "to_hash_bucket", "to_hash_bucket_fast", "to_hash_bucket_strong", "to_number",
    "unicode_transcode", "upper",
]
