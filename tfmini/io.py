"""`tf.io`: TFRecord files, and the parsing and decoding ops under their TF 1.15 `tf.io.*` names."""

from tfmini.framework.record_io import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator"]
