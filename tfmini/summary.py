"""`tf.summary` (TF 1.15's v1 API): the summary ops, merging them, FileWriter and FileWriterCache, and the
Summary, Event and related protos.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
