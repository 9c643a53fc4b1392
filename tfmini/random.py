"""`tf.random`: the random sampling functions and seed control under their TF 1.15 `tf.random.*` names.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
