"""`tf.saved_model.tag_constants`: the standard tags of a SavedModel's meta graphs."""

from tfmini.framework.api_export import tf_export

SERVING = "serve"
TRAINING = "train"
EVAL = "eval"
GPU = "gpu"
TPU = "tpu"

# tf.saved_model.X and tf.saved_model.tag_constants.X
for _name in ("GPU", "SERVING", "TPU", "TRAINING"):
    tf_export(f"saved_model.{_name}", f"saved_model.tag_constants.{_name}").export_constant(__name__, _name)
del _name
