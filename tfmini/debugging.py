"""`tf.debugging`: numeric checks and the `assert_*` family (implemented in tfmini/ops/check_ops.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
