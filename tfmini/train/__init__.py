"""`tf.train`: optimizers, the global step, learning-rate schedules, Saver and checkpoint utilities, Example
protos, queues and input producers, and monitored training sessions with their hooks.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""

from tfmini.framework import summary_io as _summary_io
from tfmini.train import (  # noqa: F401 - their declarations
    basic_session_run_hooks,
    checkpoint,
    coordinator,
    input,
    learning_rate_decay,
    meta_graph,
    monitored_session,
    moving_averages,
    optimizer,
    queue_runner,
    queue_runner_impl,
    saved_model,
    saver,
    session_manager,
    session_run_hook,
    training_util,
)

# A FileWriter given a graph also writes its meta graph: the framework's writer reaches the train layer's
# exporter through this table.
_summary_io.register_meta_graph_exporter(meta_graph.export_meta_graph)

# -- train more
# isort: split
from tfmini.train import (  # noqa: E402,F401 - their declarations
    adagrad_da,
    checkpoint_utils,
    cosine_decay_schedules,
    ftrl,
    profiler,
    proximal_adagrad,
    proximal_gradient_descent,
    supervisor,
    tracking,
)

# -- sync replicas
# isort: split
from tfmini.train import sync_replicas_optimizer  # noqa: E402,F401 - declares tf.train.SyncReplicasOptimizer
