"""`tf.python_io`: TFRecord files (TF 1.15's older home of the writer, the reading iterator and their options)."""

from tfmini.framework.record_io import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator"]
