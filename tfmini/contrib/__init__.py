"""`tf.contrib`: the parts of TF 1.15's contrib that TF1 programs commonly use (`tf.contrib.rnn`)."""

from tfmini.contrib import rnn  # noqa: F401 - the tf.contrib.rnn namespace

# -- contrib common subset
# isort: split
# the public sub-namespaces; the modules declaring their names are private (a leading underscore), so
# `dir(tf.contrib)` and tab completion show only the namespaces
from tfmini.contrib import (  # noqa: F401
    _framework_impl,
    _initializers_impl,
    _layers_impl,
    _losses_impl,
    _metrics_impl,
    _nest_impl,
    _normalization_impl,
    _optimizers_impl,
    _regularizers_impl,
    _slim_impl,
    _training_impl,
    framework,
    layers,
    losses,
    metrics,
    slim,
    training,
)
from tfmini.contrib._partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib", name)

# -- misc core
# isort: split
from tfmini.contrib import lookup  # noqa: E402,F401 - the tf.contrib.lookup namespace

# -- contrib signal
# isort: split
from tfmini.contrib import signal  # noqa: E402,F401 - the tf.contrib.signal namespace (tf.signal's functions)
