"""`tf.saved_model.builder.SavedModelBuilder`: writes a SavedModel directory in TensorFlow's layout:
`saved_model.pb` (or `.pbtxt`) holding one MetaGraphDef per tag set, `variables/variables.*` (the Saver's
checkpoint of the first meta graph's variables) and `assets/` (copies of the asset files)."""

from __future__ import annotations

import os
import shutil

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework.api_export import tf_export
from tfmini.framework.graph_util import write_graph
from tfmini.protobuf import meta_graph_pb2, saved_model_pb2
from tfmini.train.meta_graph import export_meta_graph
from tfmini.train.saved_model import constants
from tfmini.train.saved_model.utils import build_tensor_info
from tfmini.train.saver import Saver


def _asset_path(tensor) -> str:
    """The file an asset tensor names: it must be a scalar string Const."""
    if not isinstance(tensor, _ops.Tensor):
        raise TypeError(f"Asset path tensor must be a Tensor, got {tensor!r}.")
    if tensor.op.type != "Const":
        raise TypeError("Asset path tensor must be of type constant.")
    if tensor.dtype != _dtypes.string:
        raise TypeError("Asset path tensor must be of type string.")
    value = _registry.constant_value(tensor)
    if value is None or np.ndim(value) != 0:
        raise TypeError("Asset path tensor must be a scalar.")
    value = np.asarray(value).item()
    return value.decode() if isinstance(value, bytes) else str(value)


@tf_export("saved_model.Builder", "saved_model.builder.SavedModelBuilder")
class SavedModelBuilder:
    """Builds a SavedModel in `export_dir` (which must not exist or be empty): first
    `add_meta_graph_and_variables(sess, tags, ...)`, then any `add_meta_graph(tags, ...)` for other tag sets
    of the same variables, then `save()`."""

    def __init__(self, export_dir) -> None:
        self._export_dir = os.fspath(export_dir)
        if os.path.exists(self._export_dir):
            if os.listdir(self._export_dir):
                raise AssertionError(
                    f"Export directory already exists, and isn't empty. Please choose a different export "
                    f"directory, or delete all the contents of the specified directory: {self._export_dir}")
        else:
            os.makedirs(self._export_dir)
        self._saved_model = saved_model_pb2.SavedModel(
            saved_model_schema_version=constants.SAVED_MODEL_SCHEMA_VERSION)
        self._has_saved_variables = False

    # -- pieces --------------------------------------------------------------
    def _copy_assets(self, assets_collection, meta_graph_def) -> None:
        """Copies each asset file into `assets/` and records it as an AssetFileDef of the meta graph."""
        if not assets_collection:
            return
        assets_dir = os.path.join(self._export_dir, constants.ASSETS_DIRECTORY)
        for tensor in assets_collection:
            source = _asset_path(tensor)
            filename = os.path.basename(source)
            if not any(a.filename == filename for a in meta_graph_def.asset_file_def):
                meta_graph_def.asset_file_def.add(filename=filename, tensor_info=build_tensor_info(tensor))
            os.makedirs(assets_dir, exist_ok=True)
            target = os.path.join(assets_dir, filename)
            if not os.path.exists(target):
                shutil.copyfile(source, target)

    @staticmethod
    def _add_main_op(main_op) -> None:
        if main_op is None:
            return
        if not isinstance(main_op, _ops.Operation):
            raise TypeError(f"main_op needs to be an Operation: {main_op!r}")
        _ops.add_to_collection(constants.MAIN_OP_KEY, main_op)

    @staticmethod
    def _validate_signature_def_map(signature_def_map) -> None:
        for key, signature in signature_def_map.items():
            if not isinstance(signature, meta_graph_pb2.SignatureDef):
                raise TypeError(f"signature_def_map[{key!r}] must be a SignatureDef, got {type(signature)}.")
            for info in list(signature.inputs.values()) + list(signature.outputs.values()):
                if not info.WhichOneof("encoding") or not info.dtype:
                    raise AssertionError(f"All TensorInfo protos used in the SignatureDefs must have the name "
                                         f"and dtype fields set: {info}")

    @staticmethod
    def _saver(saver):
        if saver is not None:
            return saver
        return Saver(_ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)
                     + _ops.get_collection(_ops.GraphKeys.SAVEABLE_OBJECTS), allow_empty=True)

    def _tag_and_add_meta_graph(self, meta_graph_def, tags, signature_def_map) -> None:
        for tag in tags:
            meta_graph_def.meta_info_def.tags.append(tag)
        for key, signature in (signature_def_map or {}).items():
            meta_graph_def.signature_def[key].CopyFrom(signature)
        self._saved_model.meta_graphs.add().CopyFrom(meta_graph_def)

    def _export(self, saver, tags, signature_def_map, assets_collection, main_op, clear_devices,
                strip_default_attrs):
        if isinstance(tags, str):
            tags = [tags]
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        self._add_main_op(main_op)
        meta_graph_def = export_meta_graph(graph_def=_ops.get_default_graph().as_graph_def(add_shapes=True),
                                           saver_def=saver.saver_def, clear_devices=clear_devices,
                                           strip_default_attrs=strip_default_attrs)
        self._copy_assets(assets_collection, meta_graph_def)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)

    # -- public ----------------------------------------------------------------
    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None, assets_collection=None,
                                     legacy_init_op=None, clear_devices: bool = False, main_op=None,
                                     strip_default_attrs: bool = False, saver=None) -> None:
        """Saves the variables of `sess` to `variables/` and adds the session's graph as a meta graph tagged
        `tags`, with `signature_def_map`, the asset files of `assets_collection` and `main_op` (or
        `legacy_init_op`), run by the loader after the variables are restored."""
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been saved. Please "
                                 "invoke `add_meta_graph()` instead.")
        with sess.graph.as_default():
            saver = self._saver(saver)
            variables_dir = os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY)
            os.makedirs(variables_dir, exist_ok=True)
            saver.save(sess, os.path.join(variables_dir, constants.VARIABLES_FILENAME), write_meta_graph=False,
                       write_state=False)
            self._export(saver, tags, signature_def_map, assets_collection, main_op or legacy_init_op,
                         clear_devices, strip_default_attrs)
        self._has_saved_variables = True

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None, legacy_init_op=None,
                       clear_devices: bool = False, main_op=None, strip_default_attrs: bool = False,
                       saver=None) -> None:
        """Adds the default graph as another meta graph tagged `tags`, over the variables already saved."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been saved yet. Please "
                                 "invoke `add_meta_graph_and_variables()` first.")
        self._export(self._saver(saver), tags, signature_def_map, assets_collection, main_op or legacy_init_op,
                     clear_devices, strip_default_attrs)

    def save(self, as_text: bool = False) -> bytes:
        """Writes `saved_model.pb` (or `saved_model.pbtxt` with `as_text`) and returns its path (bytes, as
        TF does)."""
        name = constants.SAVED_MODEL_FILENAME_PBTXT if as_text else constants.SAVED_MODEL_FILENAME_PB
        path = write_graph(self._saved_model, self._export_dir, name, as_text=as_text)
        return path.encode()


Builder = SavedModelBuilder
