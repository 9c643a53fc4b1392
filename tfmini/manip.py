"""`tf.manip`: TF 1.x's second home of some array functions (gather_nd, reshape, reverse, roll, scatter_nd, tile).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
