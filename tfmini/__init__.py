"""tfmini: the TensorFlow 1.x graph-and-session programming model, computed with NumPy.

`import tfmini as tf` gives TF1's public names (tf.Session, tf.placeholder, tf.constant, ...).
"""

from tfmini import ops as _ops_package
from tfmini.client.fetch import register_session_run_conversion_functions
from tfmini.client.session import BaseSession, InteractiveSession, Session
from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors
from tfmini.framework import indexed_slices as _indexed_slices
from tfmini.framework import sparse_tensor as _sparse_tensor
from tfmini.framework.constant_op import constant
from tfmini.framework.dtypes import (
    DType,
    as_dtype,
    bfloat16,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    resource,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
    variant,
)
from tfmini.framework.graph_io import import_graph_def
from tfmini.framework.ops import (
    Graph,
    Operation,
    Tensor,
    add_to_collection,
    add_to_collections,
    colocate_with,
    control_dependencies,
    convert_to_tensor,
    device,
    get_collection,
    get_collection_ref,
    get_default_graph,
    get_default_session,
    name_scope,
    register_tensor_conversion_function,
    reset_default_graph,
)
from tfmini.framework.registry import NoGradient, NotDifferentiable, RegisterGradient
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue
from tfmini.framework.tensor_shape import Dimension, TensorShape, dimension_value
from tfmini.framework.tensor_util import make_ndarray, make_tensor_proto
from tfmini.ops.array_ops import (
    fill,
    identity,
    newaxis,
    ones,
    placeholder,
    placeholder_with_default,
    range,  # noqa: A004 - TF's public name
    rank,
    reshape,
    shape,
    size,
    stack,
    stop_gradient,
    strided_slice,
    zeros,
)
from tfmini.ops.control_flow_ops import group, no_op, tuple
from tfmini.ops.math_ops import (
    abs,
    add,
    add_n,
    argmax,
    argmin,
    cast,
    ceil,
    cos,
    div,
    divide,
    equal,
    exp,
    expm1,
    floor,
    floordiv,
    floormod,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    realdiv,
    reciprocal,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    squared_difference,
    subtract,
    tanh,
    to_double,
    to_float,
    to_int32,
    to_int64,
    truediv,
    truncatediv,
)
from tfmini.ops.session_ops import delete_session_tensor, get_session_handle, get_session_tensor
from tfmini.ops.sparse_ops import (
    sparse_placeholder,
    sparse_reduce_sum,
    sparse_tensor_dense_matmul,
    sparse_tensor_to_dense,
)
from tfmini.protobuf.attr_value_pb2 import AttrValue
from tfmini.protobuf.config_pb2 import (
    ConfigProto,
    GPUOptions,
    GraphOptions,
    OptimizerOptions,
    RunMetadata,
    RunOptions,
)
from tfmini.protobuf.graph_pb2 import GraphDef
from tfmini.protobuf.node_def_pb2 import NodeDef
from tfmini.protobuf.step_stats_pb2 import StepStats
from tfmini.protobuf.tensor_pb2 import TensorProto
from tfmini.protobuf.tensor_shape_pb2 import TensorShapeProto

bool = _dtypes.bool_  # noqa: A001 - tf.bool
mod = floormod
sub = subtract
mul = multiply
neg = negative

__version__ = "0.1.0"
VERSION = "1.15.0-tfmini"
GRAPH_DEF_VERSION = 27
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0

# -- compat (lead)
from tfmini import compat

# -- random ops and seeds, tf.nn
# isort: split
from tfmini import layers, losses, nn, random
from tfmini.ops.random_ops import (
    get_seed,
    multinomial,
    random_crop,
    random_normal,
    random_shuffle,
    random_uniform,
    set_random_seed,
    truncated_normal,
)

# -- math ops, tf.math, tf.gradients
# isort: split
from tfmini import math
from tfmini.framework.indexed_slices import IndexedSlices, IndexedSlicesValue
from tfmini.ops.gradients_impl import AggregationMethod, UnconnectedGradients, gradients, hessians
from tfmini.ops.math_ops import (
    accumulate_n,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    complex,
    conj,
    cosh,
    count_nonzero,
    cumprod,
    cumsum,
    digamma,
    div_no_nan,
    einsum,
    erf,
    erfc,
    global_norm,
    imag,
    is_finite,
    is_inf,
    is_nan,
    lgamma,
    norm,
    polygamma,
    real,
    reduce_logsumexp,
    rint,
    saturate_cast,
    scalar_mul,
    sinh,
    tan,
    tensordot,
    to_bfloat16,
    to_complex64,
    to_complex128,
    truncatemod,
    unsorted_segment_sum,
)

# -- array ops
# isort: split
from tfmini.ops.array_ops import (
    boolean_mask,
    broadcast_dynamic_shape,
    broadcast_static_shape,
    broadcast_to,
    concat,
    diag,
    diag_part,
    ensure_shape,
    expand_dims,
    gather,
    gather_nd,
    identity_n,
    invert_permutation,
    matrix_band_part,
    matrix_diag,
    matrix_diag_part,
    matrix_set_diag,
    meshgrid,
    one_hot,
    ones_like,
    pad,
    reverse,
    reverse_sequence,
    reverse_v2,
    roll,
    scatter_nd,
    sequence_mask,
    shape_n,
    slice,  # noqa: A004 - TF's public name
    split,
    squeeze,
    tile,
    transpose,
    unique,
    unstack,
    where,
    where_v2,
    zeros_like,
)

# -- variables, variable scopes, initializers, tf.train
# isort: split
from tfmini import initializers, train
from tfmini.framework.ops import GraphKeys, init_scope
from tfmini.ops.init_ops import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    truncated_normal_initializer,
    uniform_unit_scaling_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from tfmini.ops.state_ops import (
    assign,
    assign_add,
    assign_sub,
    count_up_to,
    scatter_add,
    scatter_max,
    scatter_min,
    scatter_mul,
    scatter_sub,
    scatter_update,
)
from tfmini.ops.variable_scope import (
    AUTO_REUSE,
    VariableScope,
    get_local_variable,
    get_variable,
    get_variable_scope,
    no_regularizer,
    variable_op_scope,
    variable_scope,
)
from tfmini.ops.variables import (
    Variable,
    VariableAggregation,
    VariableSynchronization,
    all_variables,
    assert_variables_initialized,
    global_variables,
    global_variables_initializer,
    initialize_all_variables,
    initialize_local_variables,
    initialize_variables,
    is_variable_initialized,
    local_variables,
    local_variables_initializer,
    model_variables,
    moving_average_variables,
    report_uninitialized_variables,
    trainable_variables,
    variables_initializer,
)

# -- control flow, assertions, printing, tf.debugging
# isort: split
from tfmini import debugging
from tfmini.debugging import (
    add_check_numerics_ops,
    assert_equal,
    assert_greater,
    assert_greater_equal,
    assert_integer,
    assert_less,
    assert_less_equal,
    assert_near,
    assert_negative,
    assert_non_negative,
    assert_non_positive,
    assert_none_equal,
    assert_positive,
    assert_proper_iterable,
    assert_rank,
    assert_rank_at_least,
    assert_rank_in,
    assert_same_float_dtype,
    assert_scalar,
    assert_type,
    check_numerics,
    is_non_decreasing,
    is_numeric_tensor,
    is_strictly_increasing,
    verify_tensor_all_finite,
)
from tfmini.ops.control_flow_ops import Assert, Print, case, cond, while_loop
from tfmini.ops.control_flow_ops import print_v2 as print  # noqa: A001 - tf.print
from tfmini.ops.higher_order_ops import foldl, foldr, map_fn, scan

# -- eager-mode switches that TF1 programs call first: graph mode is the only mode
# isort: split
from tfmini.framework.ops import disable_eager_execution, disable_v2_behavior, executing_eagerly

# Session.run fetches and feeds the framework's composite tensors as their component tensors: the client's
# extension point is filled here, where the API is assembled, because the framework may not name the client.
register_session_run_conversion_functions(
    SparseTensor, _sparse_tensor.session_run_fetch, _sparse_tensor.session_run_feed,
    _sparse_tensor.session_run_components,
)
register_session_run_conversion_functions(
    IndexedSlices, _indexed_slices.session_run_fetch, _indexed_slices.session_run_feed,
    _indexed_slices.session_run_components,
)

# -- files, records and strings
# isort: split
from tfmini import io, python_io, strings
from tfmini.ops.decode_ops import (
    decode_compressed,
    decode_csv,
    decode_json_example,
    decode_raw,
    parse_tensor,
    serialize_tensor,
)
from tfmini.ops.io_ops import matching_files, read_file, write_file
from tfmini.ops.parsing_ops import (
    FixedLenFeature,
    FixedLenSequenceFeature,
    SparseFeature,
    VarLenFeature,
    parse_example,
    parse_single_example,
    parse_single_sequence_example,
)
from tfmini.ops.string_hash_ops import string_to_hash_bucket, string_to_hash_bucket_fast, string_to_hash_bucket_strong
from tfmini.ops.string_ops import (
    as_string,
    decode_base64,
    encode_base64,
    reduce_join,
    regex_replace,
    string_join,
    string_split,
    string_strip,
    string_to_number,
    substr,
)

# -- TensorArray
# isort: split
from tfmini.ops.tensor_array_ops import TensorArray

# -- tf.data
# isort: split
from tfmini import data

# -- tf.contrib
# isort: split
from tfmini import contrib

# -- meta graphs and SavedModel
# isort: split
from tfmini.framework import graph_util
from tfmini.protobuf.meta_graph_pb2 import MetaGraphDef, TensorInfo
from tfmini.train import saved_model

# -- summaries
# isort: split
from tfmini import summary
from tfmini.protobuf.event_pb2 import Event, LogMessage, SessionLog
from tfmini.protobuf.summary_pb2 import HistogramProto, Summary, SummaryMetadata

# -- queues
# isort: split
from tfmini import queue
from tfmini.ops.data_flow_ops import FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue

# -- file readers
# isort: split
from tfmini.ops.reader_ops import (
    FixedLengthRecordReader,
    IdentityReader,
    ReaderBase,
    TextLineReader,
    TFRecordReader,
    WholeFileReader,
)

# -- monitored training sessions
# isort: split
from tfmini.client import timeline as _timeline_for_hooks
from tfmini.train import basic_session_run_hooks as _basic_session_run_hooks
from tfmini.train import session_manager as _session_manager

# tf.train's monitored sessions create tf.Session, and ProfilerHook writes Chrome traces with the client's
# Timeline, through tables in train (which may not import the client).
_session_manager.register_session_factory(Session)
_basic_session_run_hooks.register_timeline_class(_timeline_for_hooks.Timeline)

# -- tf.gfile
# isort: split
from tfmini import gfile

# -- resource variables
# isort: split
from tfmini.ops.variable_scope import (
    disable_resource_variables,
    enable_resource_variables,
    resource_variables_enabled,
)

# -- TensorFlow's index, band-diagonal and gradient-helper ops
# isort: split
from tfmini.ops import matrix_diag_ops as _matrix_diag_ops  # noqa: F401 - registers MatrixDiagV3 and its kin
from tfmini.ops.segment_ops import (
    dynamic_partition,
    dynamic_stitch,
    segment_max,
    segment_mean,
    segment_min,
    segment_prod,
    segment_sum,
    setdiff1d,
)

# -- stacks of TF1 loop gradients
# isort: split
from tfmini.ops import stack_ops as _stack_ops  # noqa: F401 - registers StackV2, StackPushV2, ... ControlTrigger

# -- tf.logging, tf.flags, tf.app, tf.test
# isort: split
from tfmini import app, flags, logging, test
from tfmini.client import test_util as _test_util  # noqa: F401 - declares tf.test's names
from tfmini.framework import flags as _flags  # noqa: F401 - declares tf.flags' names
from tfmini.framework import tf_logging as _tf_logging  # noqa: F401 - declares tf.logging's names

# -- namespaces whose names are all declared with @tf_export
# isort: split
from tfmini import bitwise, dtypes, image, linalg, metrics, sparse

# -- every namespace gets the names declared with @tf_export (framework/api_export.py); this stays last
# isort: split
import sys as _sys

from tfmini.framework.api_export import populate_all as _populate_all

_populate_all(_sys.modules[__name__])
