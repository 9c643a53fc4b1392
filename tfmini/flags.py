"""`tf.flags` (the same module as `tf.app.flags`): command-line flags (framework/flags.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
