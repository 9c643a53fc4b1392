"""`tf.errors`: the OpError classes TF raises (InvalidArgumentError, OutOfRangeError, ...), the error codes and
the conversions between them, defined in framework/errors.py.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
