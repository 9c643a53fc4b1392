"""`tf.contrib.signal`: TF 1.15 kept its signal-processing functions here too; they are `tf.signal`'s.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
