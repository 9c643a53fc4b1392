"""`tf.math`: the math functions under their TF 1.15 `tf.math.*` names (the same objects as the top-level ones).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
