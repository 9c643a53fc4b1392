"""`tf.saved_model` (TF1): SavedModel directories in TensorFlow's layout, written by `SavedModelBuilder` or
`simple_save` and loaded by `loader.load`; signatures, tags and the constants of the format. Implemented in
train/saved_model/, on the Saver and meta graphs.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py). The sub-namespaces (`tf.saved_model.loader`, ...) are namespace objects of their own,
filled the same way.
"""

import types as _types


def _sub_namespace(name: str, doc: str) -> _types.ModuleType:
    return _types.ModuleType(f"{__name__}.{name}", doc)


builder = _sub_namespace("builder", "`tf.saved_model.builder`: SavedModelBuilder.")
constants = _sub_namespace("constants", "`tf.saved_model.constants`: the file and collection names of the format.")
loader = _sub_namespace("loader", "`tf.saved_model.loader`: load and maybe_saved_model_directory.")
main_op = _sub_namespace("main_op", "`tf.saved_model.main_op`: main_op and main_op_with_restore.")
signature_constants = _sub_namespace("signature_constants",
                                     "`tf.saved_model.signature_constants`: signature keys and method names.")
signature_def_utils = _sub_namespace("signature_def_utils",
                                     "`tf.saved_model.signature_def_utils`: building and checking SignatureDefs.")
tag_constants = _sub_namespace("tag_constants", "`tf.saved_model.tag_constants`: the standard meta graph tags.")
utils = _sub_namespace("utils", "`tf.saved_model.utils`: TensorInfo protos from tensors and back.")
