"""`tf.contrib.slim.learning`: slim's `create_train_op` and `train` loop (with `train_step`), and the gradient
helpers it re-exports from tf.contrib.training.

The names are declared with `@tf_export` beside their definitions (tfmini/contrib/_slim_learning_impl.py) and
bound here when tfmini is imported (framework/api_export.py); a name tfmini lacks raises an AttributeError
naming docs/contrib.md.
"""

from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib.slim.learning", name)
