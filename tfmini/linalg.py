"""`tf.linalg`: matrix decompositions, inverses, solves, determinants, norms and the other linear algebra.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
