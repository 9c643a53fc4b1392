"""`tf.saved_model.simple_save`: a SavedModel for serving in one call."""

from __future__ import annotations

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.train.saved_model import signature_constants, tag_constants
from tfmini.train.saved_model.builder import SavedModelBuilder
from tfmini.train.saved_model.signature_def_utils import predict_signature_def


@tf_export("saved_model.simple_save")
def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None) -> None:
    """Saves `session`'s graph and variables to `export_dir` with the tag 'serve' and one predict signature
    'serving_default' of `inputs` and `outputs` ({name: Tensor}); devices are cleared and the graph's
    ASSET_FILEPATHS are copied as assets."""
    signature_def_map = {signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
                         predict_signature_def(inputs, outputs)}
    builder = SavedModelBuilder(export_dir)
    builder.add_meta_graph_and_variables(
        session, tags=[tag_constants.SERVING], signature_def_map=signature_def_map,
        assets_collection=session.graph.get_collection(_ops.GraphKeys.ASSET_FILEPATHS),
        main_op=legacy_init_op, clear_devices=True)
    builder.save()
