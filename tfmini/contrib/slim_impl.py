"""The names of `tf.contrib.slim`: TF 1.15's slim re-exports contrib.layers (layers, initializers,
regularizers, summaries, optimize_loss) and contrib.framework's arg scopes and variable functions, and binds
the contrib.layers, contrib.losses and contrib.metrics modules as slim.layers, slim.losses and slim.metrics, and
slim's training loop module as slim.learning."""

from tfmini.contrib import framework_impl as _framework_impl  # noqa: F401 - declares contrib.framework's names
from tfmini.contrib import layers, losses, metrics  # noqa: F401 - declared below as slim.layers, slim.losses, slim.metrics
from tfmini.contrib import layers_impl as _layers_impl  # noqa: F401 - declares contrib.layers' names
from tfmini.contrib import normalization_impl as _normalization_impl  # noqa: F401 - declares the normalizations
from tfmini.contrib import optimizers_impl as _optimizers_impl  # noqa: F401 - declares optimize_loss, summaries
from tfmini.contrib import regularizers_impl as _regularizers_impl  # noqa: F401 - declares the regularizers
from tfmini.contrib import slim_learning as learning  # noqa: F401 - declared below as slim.learning
from tfmini.contrib import slim_learning_impl as _slim_learning_impl  # noqa: F401 - declares slim.learning's names
from tfmini.framework.api_export import namespace, tf_export

# contrib.framework names that live in TF's checkpoint utilities, not in the modules slim re-exports
_NOT_IN_SLIM = {"list_variables", "load_variable", "load_checkpoint"}

for _namespace in ("contrib.layers", "contrib.framework"):
    for _name, _obj in namespace(_namespace).items():
        if _name not in _NOT_IN_SLIM:
            tf_export(f"contrib.slim.{_name}")(_obj)

tf_export("contrib.slim.layers").export_constant(__name__, "layers")
tf_export("contrib.slim.losses").export_constant(__name__, "losses")
tf_export("contrib.slim.metrics").export_constant(__name__, "metrics")
tf_export("contrib.slim.learning").export_constant(__name__, "learning")
