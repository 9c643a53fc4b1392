"""`tfmini.debug`, TF1's `tensorflow.python.debug` (imported as `tf_debug`): wrapper sessions that keep every
tensor a step computed (or the ones `watch_graph` names), the dump of a step with `DebugDumpDir`'s queries,
and the `has_inf_or_nan` filter.
It sits above the client (it wraps sessions) and is not part of the `tf.` namespace, as in TensorFlow."""

from tfmini.debug.debug_data import (
    DebugDump,
    DebugTensorDatum,
    InconvertibleTensor,
    WatchKeyDoesNotExistInDebugDumpDirError,
    has_inf_or_nan,
)
from tfmini.debug.debug_utils import add_debug_tensor_watch, watch_graph, watch_graph_with_blacklist
from tfmini.debug.wrappers import LocalCLIDebugWrapperSession, LocalDebugWrapperSession

__all__ = [
    "DebugDump",
    "DebugTensorDatum",
    "InconvertibleTensor",
    "LocalCLIDebugWrapperSession",
    "LocalDebugWrapperSession",
    "WatchKeyDoesNotExistInDebugDumpDirError",
    "add_debug_tensor_watch",
    "has_inf_or_nan",
    "watch_graph",
    "watch_graph_with_blacklist",
]
