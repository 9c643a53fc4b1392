"""`tf.dtypes`: the DType class, the dtype constants and casts.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
