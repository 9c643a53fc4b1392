"""`tfmini.debug`, TF1's `tensorflow.python.debug` (imported as `tf_debug`): wrapper sessions that keep every
tensor a step computed, the dump of a step with `DebugDumpDir`'s queries, and the `has_inf_or_nan` filter.
It sits above the client (it wraps sessions) and is not part of the `tf.` namespace, as in TensorFlow."""

from tfmini.debug.debug_data import (
    DebugDump,
    DebugTensorDatum,
    InconvertibleTensor,
    WatchKeyDoesNotExistInDebugDumpDirError,
    has_inf_or_nan,
)
from tfmini.debug.wrappers import LocalCLIDebugWrapperSession, LocalDebugWrapperSession

__all__ = [
    "DebugDump",
    "DebugTensorDatum",
    "InconvertibleTensor",
    "LocalCLIDebugWrapperSession",
    "LocalDebugWrapperSession",
    "WatchKeyDoesNotExistInDebugDumpDirError",
    "has_inf_or_nan",
]
