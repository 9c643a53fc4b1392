"""`tf.bitwise`: bitwise operations on integer tensors.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
