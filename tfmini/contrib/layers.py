"""`tf.contrib.layers`: TF 1.15's contrib layers (fully_connected, conv2d, batch_norm, ...), initializers,
regularizers, summaries and `optimize_loss`, all usable inside `tf.contrib.framework.arg_scope`.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py); a name tfmini lacks raises an AttributeError naming docs/contrib.md.
"""

from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib.layers", name)
