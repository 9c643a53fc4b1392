"""`tf.python_io`: TFRecord files (TF 1.15's older home of the writer, the reading iterator and their options).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
