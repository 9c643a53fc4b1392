"""`tf.train`: optimizers, the global step, learning-rate schedules, Saver and checkpoint utilities."""

from tfmini.train.checkpoint import (
    CheckpointReader,
    CheckpointState,
    NewCheckpointReader,
    checkpoint_exists,
    get_checkpoint_mtimes,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_checkpoint,
    load_variable,
    remove_checkpoint,
    update_checkpoint_state,
)
from tfmini.train.learning_rate_decay import (
    cosine_decay,
    exponential_decay,
    inverse_time_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)
from tfmini.train.moving_averages import ExponentialMovingAverage
from tfmini.train.optimizer import (
    AdadeltaOptimizer,
    AdagradOptimizer,
    AdamOptimizer,
    GradientDescentOptimizer,
    MomentumOptimizer,
    Optimizer,
    RMSPropOptimizer,
)
from tfmini.train.saver import Saver
from tfmini.train.training_util import (
    assert_global_step,
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

piecewise_constant_decay = piecewise_constant

__all__ = [
    "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer", "CheckpointReader", "CheckpointState",
    "ExponentialMovingAverage", "GradientDescentOptimizer", "MomentumOptimizer", "NewCheckpointReader", "Optimizer",
    "RMSPropOptimizer", "Saver", "assert_global_step", "checkpoint_exists", "cosine_decay", "create_global_step",
    "exponential_decay", "get_checkpoint_mtimes", "get_checkpoint_state", "get_global_step",
    "get_or_create_global_step", "global_step", "inverse_time_decay", "latest_checkpoint", "list_variables",
    "load_checkpoint", "load_variable", "natural_exp_decay", "piecewise_constant", "piecewise_constant_decay",
    "polynomial_decay", "remove_checkpoint", "update_checkpoint_state",
]

# -- Example protos
# isort: split
from tfmini.protobuf.example_pb2 import Example, SequenceExample  # noqa: E402 - blocks follow the assignments above
from tfmini.protobuf.feature_pb2 import (  # noqa: E402
    BytesList,
    Feature,
    FeatureList,
    FeatureLists,
    Features,
    FloatList,
    Int64List,
)

__all__ += [
    "BytesList", "Example", "Feature", "FeatureList", "FeatureLists", "Features", "FloatList", "Int64List",
    "SequenceExample",
]

# -- meta graphs
# isort: split
from tfmini.protobuf.saver_pb2 import SaverDef  # noqa: E402
from tfmini.train.meta_graph import export_meta_graph, write_graph  # noqa: E402
from tfmini.train.saver import import_meta_graph  # noqa: E402

__all__ += ["SaverDef", "export_meta_graph", "import_meta_graph", "write_graph"]

# -- summary files
# isort: split
from tfmini.framework import summary_io as _summary_io  # noqa: E402
from tfmini.framework.summary_io import summary_iterator  # noqa: E402
from tfmini.train import meta_graph as _meta_graph_for_summaries  # noqa: E402

_summary_io.register_meta_graph_exporter(_meta_graph_for_summaries.export_meta_graph)

__all__ += ["summary_iterator"]

# -- queues and input producers
# isort: split
from tfmini.train import queue_runner  # noqa: E402 - blocks follow the assignments above
from tfmini.train.coordinator import Coordinator, LooperThread  # noqa: E402
from tfmini.train.input import (  # noqa: E402
    batch,
    batch_join,
    input_producer,
    limit_epochs,
    match_filenames_once,
    maybe_batch,
    maybe_batch_join,
    maybe_shuffle_batch,
    maybe_shuffle_batch_join,
    range_input_producer,
    shuffle_batch,
    shuffle_batch_join,
    slice_input_producer,
    string_input_producer,
)
from tfmini.train.queue_runner_impl import QueueRunner, add_queue_runner, start_queue_runners  # noqa: E402

__all__ += [
    "Coordinator", "LooperThread", "QueueRunner", "add_queue_runner", "batch", "batch_join", "input_producer",
    "limit_epochs", "match_filenames_once", "maybe_batch", "maybe_batch_join", "maybe_shuffle_batch",
    "maybe_shuffle_batch_join", "queue_runner", "range_input_producer", "shuffle_batch", "shuffle_batch_join",
    "slice_input_producer", "start_queue_runners", "string_input_producer",
]

# -- monitored training
# isort: split
from tfmini.train.basic_session_run_hooks import (  # noqa: E402
    CheckpointSaverHook,
    CheckpointSaverListener,
    FeedFnHook,
    FinalOpsHook,
    GlobalStepWaiterHook,
    LoggingTensorHook,
    NanLossDuringTrainingError,
    NanTensorHook,
    ProfilerHook,
    SecondOrStepTimer,
    StepCounterHook,
    StopAtStepHook,
    SummarySaverHook,
)
from tfmini.train.monitored_session import (  # noqa: E402
    ChiefSessionCreator,
    MonitoredSession,
    MonitoredTrainingSession,
    Scaffold,
    SessionCreator,
    SingularMonitoredSession,
    WorkerSessionCreator,
)
from tfmini.train.session_manager import SessionManager  # noqa: E402
from tfmini.train.session_run_hook import (  # noqa: E402
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
    SessionRunValues,
)

__all__ += [
    "CheckpointSaverHook", "CheckpointSaverListener", "ChiefSessionCreator", "FeedFnHook", "FinalOpsHook",
    "GlobalStepWaiterHook", "LoggingTensorHook", "MonitoredSession", "MonitoredTrainingSession",
    "NanLossDuringTrainingError", "NanTensorHook", "ProfilerHook", "Scaffold", "SecondOrStepTimer", "SessionCreator",
    "SessionManager", "SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues",
    "SingularMonitoredSession", "StepCounterHook", "StopAtStepHook", "SummarySaverHook", "WorkerSessionCreator",
]
