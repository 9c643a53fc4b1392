"""`tf.test`: TestCase, gradient checks and test helpers (client/test_util.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
