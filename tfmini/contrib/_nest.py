"""`tf.contrib.framework.nest`: functions over nested structures of lists, tuples, namedtuples and dicts.

The names are declared with `@tf_export` beside their definitions (tfmini/contrib/_nest_impl.py) and bound here
when tfmini is imported (framework/api_export.py); a name tfmini lacks raises an AttributeError naming
docs/contrib.md.
"""

from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib.framework.nest", name)
