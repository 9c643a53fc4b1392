"""`tf.app`: `tf.app.run` and `tf.app.flags` (the `tf.flags` module).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""

from tfmini import flags  # noqa: F401 - tf.app.flags is the tf.flags module
