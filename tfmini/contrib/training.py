"""`tf.contrib.training`: `HParams` and `parse_values`.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py); a name tfmini lacks raises an AttributeError naming docs/contrib.md.
"""

from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib.training", name)
