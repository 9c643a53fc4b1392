"""`tf.io`: TFRecord files, whole-file reads and writes, the parsing and decoding ops, graph files and (as TF 1.15's
tf.io did) the queue classes but FIFOQueue; and `tf.io.gfile`, TF's lower-case file API over framework/file_io.py.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""

import types as _types

gfile = _types.ModuleType("tfmini.io.gfile", "`tf.io.gfile`: GFile and the file-system functions (local paths).")
