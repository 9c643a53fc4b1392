"""`tf.initializers`: the initializers under their TF 1.15 `tf.initializers.*` names.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
