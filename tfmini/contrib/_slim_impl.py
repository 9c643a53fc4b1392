"""The names of `tf.contrib.slim`: TF 1.15's slim re-exports contrib.layers (layers, initializers,
regularizers, summaries, optimize_loss) and contrib.framework's arg scopes and variable functions, and binds
the contrib.layers, contrib.losses and contrib.metrics modules as slim.layers, slim.losses and slim.metrics, and
slim's training loop module as slim.learning."""

# the modules declaring contrib.framework's, contrib.layers' (with the normalizations, optimize_loss, summaries and
# regularizers) and slim.learning's names, and the namespaces bound below as slim.layers, .losses, .metrics, .learning
from tfmini.contrib import (  # noqa: F401
    _framework_impl,
    _layers_impl,
    _normalization_impl,
    _optimizers_impl,
    _regularizers_impl,
    _slim_learning_impl,
    layers,
    losses,
    metrics,
)
from tfmini.contrib import _slim_learning as learning  # noqa: F401
from tfmini.framework.api_export import namespace, tf_export

# slim re-exports contrib.framework's arg_scope and variables modules, not its checkpoint utilities, sort or nest
_FRAMEWORK_NAMES_IN_SLIM = (
    "add_arg_scope", "arg_scope", "arg_scope_func_key", "arg_scoped_arguments", "current_arg_scope", "has_arg_scope",
    "add_model_variable", "assert_global_step", "assert_or_get_global_step", "assign_from_checkpoint",
    "assign_from_checkpoint_fn", "assign_from_values", "assign_from_values_fn", "create_global_step",
    "filter_variables", "get_global_step", "get_local_variables", "get_model_variables", "get_or_create_global_step",
    "get_trainable_variables", "get_unique_variable", "get_variable_full_name", "get_variables",
    "get_variables_by_name", "get_variables_by_suffix", "get_variables_to_restore", "global_variable",
    "local_variable", "model_variable", "variable",
)

for _name, _obj in namespace("contrib.layers").items():
    tf_export(f"contrib.slim.{_name}")(_obj)
for _name in _FRAMEWORK_NAMES_IN_SLIM:
    tf_export(f"contrib.slim.{_name}")(namespace("contrib.framework")[_name])

tf_export("contrib.slim.layers").export_constant(__name__, "layers")
tf_export("contrib.slim.losses").export_constant(__name__, "losses")
tf_export("contrib.slim.metrics").export_constant(__name__, "metrics")
tf_export("contrib.slim.learning").export_constant(__name__, "learning")
