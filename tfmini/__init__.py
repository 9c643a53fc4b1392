"""tfmini: the TensorFlow 1.x graph-and-session programming model, computed with NumPy.

`import tfmini as tf` gives TF1's public names (tf.Session, tf.placeholder, tf.constant, ...). Each public name is
declared once, with `@tf_export` beside its definition (framework/api_export.py); this module imports the
namespace modules and the modules that hold declarations, wires the layers together, and binds every declared
name into its namespace at the end.
"""

from tfmini import (
    compat,
    contrib,
    data,
    debugging,
    errors,
    gfile,
    graph_util,
    initializers,
    io,
    layers,
    losses,
    math,
    nn,
    python_io,
    queue,
    random,
    saved_model,
    strings,
    summary,
    train,
)
from tfmini import ops as _ops_package  # noqa: F401 - registers every op and declares the op library's names
from tfmini.client import session as _session
from tfmini.client import timeline as _timeline
from tfmini.client.fetch import register_session_run_conversion_functions as _register_session_run_conversion
from tfmini.framework import graph_util as _graph_util  # noqa: F401 - declares tf.graph_util's names
from tfmini.framework import indexed_slices as _indexed_slices
from tfmini.framework import proto_exports as _proto_exports  # noqa: F401 - declares tf.GraphDef, tf.train.Example...
from tfmini.framework import sparse_tensor as _sparse_tensor
from tfmini.framework import versions as _versions  # noqa: F401 - declares tf.VERSION, tf.GRAPH_DEF_VERSION, ...
from tfmini.train import basic_session_run_hooks as _basic_session_run_hooks
from tfmini.train import session_manager as _session_manager

# Session.run fetches and feeds the framework's composite tensors as their component tensors: the client's
# extension point is filled here, where the API is assembled, because the framework may not name the client.
_register_session_run_conversion(
    _sparse_tensor.SparseTensor, _sparse_tensor.session_run_fetch, _sparse_tensor.session_run_feed,
    _sparse_tensor.session_run_components,
)
_register_session_run_conversion(
    _indexed_slices.IndexedSlices, _indexed_slices.session_run_fetch, _indexed_slices.session_run_feed,
    _indexed_slices.session_run_components,
)

# tf.train's monitored sessions create tf.Session, and ProfilerHook writes Chrome traces with the client's
# Timeline, through tables in train (which may not import the client).
_session_manager.register_session_factory(_session.Session)
_basic_session_run_hooks.register_timeline_class(_timeline.Timeline)

# -- tf.logging, tf.flags, tf.app, tf.test
# isort: split
from tfmini import app, flags, logging, test
from tfmini.client import test_util as _test_util  # noqa: F401 - declares tf.test's names
from tfmini.framework import flags as _flags  # noqa: F401 - declares tf.flags' names
from tfmini.framework import tf_logging as _tf_logging  # noqa: F401 - declares tf.logging's names

# -- sparse
# isort: split
from tfmini import sets

# -- math leftovers
# isort: split
from tfmini import manip, spectral

# -- misc core
# isort: split
from tfmini import lookup

# -- conv
# isort: split
from tfmini import conv_layers as _conv_layers  # noqa: F401 - declares tf.layers' convolution and pooling layers

# -- train more
# isort: split
from tfmini import profiler

# -- signal
# isort: split
from tfmini import signal

# -- distributed api
# isort: split
from tfmini.framework import device as _device  # noqa: F401 - declares tf.DeviceSpec
from tfmini.train import device_setter as _device_setter  # noqa: F401 - declares tf.train.replica_device_setter
from tfmini.train import server_lib as _server_lib  # noqa: F401 - declares tf.train.ClusterSpec and its protos

# -- distributed runtime
# isort: split
from tfmini.distributed import server as _distributed_server  # noqa: F401 - tf.train.Server, grpc:// targets

# -- sync replicas
# isort: split
from tfmini.train import sync_replicas_optimizer as _sync_replicas  # noqa: F401 - tf.train.SyncReplicasOptimizer

# -- namespaces whose names are all declared with @tf_export
# isort: split
from tfmini import bitwise, dtypes, image, linalg, metrics, sparse

# -- every namespace gets the names declared with @tf_export (framework/api_export.py); this stays last
# isort: split
import sys as _sys

from tfmini.framework.api_export import populate_all as _populate_all

_populate_all(_sys.modules[__name__])
