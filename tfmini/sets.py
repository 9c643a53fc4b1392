"""`tf.sets`: set operations along the last dimension of dense tensors and SparseTensors.

The names are declared with `@tf_export` beside their definitions (tfmini/ops/sets_ops.py) and bound here when
tfmini is imported (framework/api_export.py).
"""
