"""`tf.contrib.slim` (`slim = tf.contrib.slim`): the contrib layers, initializers and regularizers, arg scopes
and variable functions under one name, with `slim.layers`, `slim.losses` and `slim.metrics`.

The names are declared in tfmini/contrib/_slim_impl.py and bound here when tfmini is imported
(framework/api_export.py); a name tfmini lacks raises an AttributeError naming docs/contrib.md.
"""

from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib.slim", name)
