"""`tf.lookup`: static hash and vocabulary tables and their initializers, and `tf.lookup.experimental`
(the mutable hash tables).

The names are declared with `@tf_export` beside their definitions (tfmini/ops/lookup_ops.py) and bound here when
tfmini is imported (framework/api_export.py).
"""

from tfmini.lookup import experimental  # noqa: F401 - the tf.lookup.experimental namespace
