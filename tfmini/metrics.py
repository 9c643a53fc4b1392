"""`tf.metrics`: TF1's streaming metrics, each a value tensor and an update op over local variables.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
