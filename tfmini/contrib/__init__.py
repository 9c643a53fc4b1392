"""`tf.contrib`: the parts of TF 1.15's contrib that TF1 programs commonly use (`tf.contrib.rnn`)."""

from tfmini.contrib import rnn  # noqa: F401 - the tf.contrib.rnn namespace

# -- contrib common subset
# isort: split
from tfmini.contrib import (  # noqa: F401 - the namespaces, and the modules declaring their names
    framework,
    framework_impl,
    initializers_impl,
    layers,
    layers_impl,
    losses,
    losses_impl,
    metrics,
    metrics_impl,
    nest_impl,
    normalization_impl,
    optimizers_impl,
    regularizers_impl,
    slim,
    slim_impl,
    training,
    training_impl,
)
from tfmini.contrib.partial import missing_name as _missing_name


def __getattr__(name: str):
    raise _missing_name("contrib", name)

# -- misc core
# isort: split
from tfmini.contrib import lookup  # noqa: E402,F401 - the tf.contrib.lookup namespace
