"""`tf.contrib.metrics`: TF 1.15's streaming metrics (predictions before labels) over tf.metrics, `accuracy`,
`aggregate_metrics` and `aggregate_metric_map`.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py); a name tfmini lacks raises an AttributeError naming docs/contrib.md.
"""

from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib.metrics", name)
