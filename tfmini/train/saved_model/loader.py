"""`tf.saved_model.loader`: loads a SavedModel's meta graph for a tag set into a session: the graph and its
collections, the variables from `variables/`, then the model's main op with its asset files fed."""

from __future__ import annotations

import logging
import os

from google.protobuf import message as _message
from google.protobuf import text_format

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.protobuf import saved_model_pb2
from tfmini.train.meta_graph import prepend_name_scope
from tfmini.train.saved_model import constants
from tfmini.train.saver import import_meta_graph

_logger = logging.getLogger("tfmini")


def _saved_model_files(export_dir: str) -> tuple[str, str]:
    return (os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB),
            os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT))


def parse_saved_model(export_dir) -> saved_model_pb2.SavedModel:
    """The SavedModel proto of `export_dir` (saved_model.pb, else saved_model.pbtxt); OSError when neither
    exists or the file does not parse."""
    export_dir = os.fspath(export_dir)
    pb, pbtxt = _saved_model_files(export_dir)
    saved_model = saved_model_pb2.SavedModel()
    try:
        if os.path.isfile(pb):
            with open(pb, "rb") as f:
                saved_model.ParseFromString(f.read())
        elif os.path.isfile(pbtxt):
            with open(pbtxt, encoding="utf-8") as f:
                text_format.Merge(f.read(), saved_model)
        else:
            raise OSError(f"SavedModel file does not exist at: {export_dir}{os.sep}"
                          f"{{{constants.SAVED_MODEL_FILENAME_PBTXT}|{constants.SAVED_MODEL_FILENAME_PB}}}")
    except (_message.DecodeError, text_format.ParseError, UnicodeDecodeError) as e:
        raise OSError(f"Cannot parse file {pb if os.path.isfile(pb) else pbtxt}: {e}.") from None
    return saved_model


@tf_export(
    "saved_model.contains_saved_model", "saved_model.loader.maybe_saved_model_directory",
    "saved_model.maybe_saved_model_directory",
)
def maybe_saved_model_directory(export_dir) -> bool:
    """Whether `export_dir` holds a saved_model.pb or saved_model.pbtxt."""
    return any(os.path.isfile(p) for p in _saved_model_files(os.fspath(export_dir)))


contains_saved_model = maybe_saved_model_directory


def _meta_graph_for_tags(saved_model, tags, export_dir):
    wanted = set(tags)
    for meta_graph_def in saved_model.meta_graphs:
        if set(meta_graph_def.meta_info_def.tags) == wanted:
            return meta_graph_def
    available = [list(mg.meta_info_def.tags) for mg in saved_model.meta_graphs]
    raise RuntimeError(f"MetaGraphDef associated with tags {str(list(tags)).strip('[]')} could not be found in "
                       f"SavedModel at {export_dir}. Available tag sets: {available}")


def _init_op(meta_graph_def, import_scope):
    graph = _ops.get_default_graph()
    for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
        if key in meta_graph_def.collection_def:
            names = list(meta_graph_def.collection_def[key].node_list.value)
            if len(names) != 1:
                raise RuntimeError(f"Expected exactly one SavedModel main op. Found: {names}")
            return graph.as_graph_element(prepend_name_scope(names[0], import_scope))
    return None


@tf_export("saved_model.load", "saved_model.loader.load")
def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """Loads the meta graph tagged exactly `tags` from the SavedModel in `export_dir` into `sess`'s graph
    (under `import_scope`), restores its variables and runs its main op; returns the MetaGraphDef.
    Keyword arguments go to `tf.train.import_meta_graph` (e.g. `clear_devices`)."""
    export_dir = os.fspath(export_dir)
    if isinstance(tags, str):
        tags = [tags]
    meta_graph_def = _meta_graph_for_tags(parse_saved_model(export_dir), tags, export_dir)
    with sess.graph.as_default():
        saver = import_meta_graph(meta_graph_def, import_scope=import_scope, **saver_kwargs)
        if saver is not None:
            saver.restore(sess, os.path.join(export_dir, constants.VARIABLES_DIRECTORY,
                                             constants.VARIABLES_FILENAME))
        else:
            _logger.info("The specified SavedModel has no variables; no checkpoints were restored.")
        assets = {}
        graph = _ops.get_default_graph()
        for asset in meta_graph_def.asset_file_def:
            tensor = graph.get_tensor_by_name(prepend_name_scope(asset.tensor_info.name, import_scope))
            assets[tensor] = os.path.join(export_dir, constants.ASSETS_DIRECTORY, asset.filename)
        init_op = _init_op(meta_graph_def, import_scope)
        if init_op is not None:
            sess.run(init_op, feed_dict=assets)
    return meta_graph_def
