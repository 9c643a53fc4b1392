"""`tf.logging`: TF 1.x's logging functions and levels (framework/tf_logging.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
