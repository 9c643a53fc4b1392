"""`tf.contrib.lookup`: TF1's lookup tables (HashTable, IdTableWithHashBuckets), their initializers and the
vocabulary helpers (index_table_from_tensor, index_table_from_file, index_to_string_table_from_tensor, ...).

The names are declared with `@tf_export` beside their definitions (tfmini/ops/lookup_ops.py) and bound here when
tfmini is imported (framework/api_export.py).
"""
