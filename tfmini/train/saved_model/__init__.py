"""`tf.saved_model` (TF1): SavedModel directories in TensorFlow's layout, written by `SavedModelBuilder` or
`simple_save` and loaded by `loader.load`; signatures, tags and the constants of the format. Built on the
Saver and meta graphs, so it sits in the train layer.

The names are declared with `@tf_export` beside their definitions and bound here (and in the sub-namespaces
`tf.saved_model.loader`, `tf.saved_model.tag_constants`, ...) when tfmini is imported (framework/api_export.py).
"""

from tfmini.train.saved_model import (  # noqa: F401 - the sub-namespaces and their declarations
    builder,
    constants,
    loader,
    main_op,
    signature_constants,
    signature_def_utils,
    simple_save,
    tag_constants,
    utils,
)
