"""`tf.lookup.experimental`: the mutable hash tables, DenseHashTable and MutableHashTable.

The names are declared with `@tf_export` beside their definitions (tfmini/ops/lookup_ops.py) and bound here when
tfmini is imported (framework/api_export.py).
"""
