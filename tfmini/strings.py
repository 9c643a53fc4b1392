"""`tf.strings`: the string ops under their TF 1.15 `tf.strings.*` names (tf.strings.split returns a SparseTensor,
as tf.compat.v1's does).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
