"""`tf.saved_model.utils`: TensorInfo protos for the tensors of signatures, and back."""

from __future__ import annotations

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.protobuf import meta_graph_pb2
from tfmini.train.meta_graph import prepend_name_scope


@tf_export("saved_model.build_tensor_info", "saved_model.utils.build_tensor_info")
def build_tensor_info(tensor) -> meta_graph_pb2.TensorInfo:
    """The TensorInfo of a Tensor (its name, dtype and static shape) or of a SparseTensor (the names of its
    indices, values and dense_shape tensors, the values' dtype and the dense shape)."""
    if isinstance(tensor, SparseTensor):
        info = meta_graph_pb2.TensorInfo(dtype=tensor.dtype.as_datatype_enum,
                                         tensor_shape=tensor.get_shape().as_proto())
        info.coo_sparse.values_tensor_name = tensor.values.name
        info.coo_sparse.indices_tensor_name = tensor.indices.name
        info.coo_sparse.dense_shape_tensor_name = tensor.dense_shape.name
        return info
    if not isinstance(tensor, _ops.Tensor):
        tensor = _ops.convert_to_tensor(tensor)
    return meta_graph_pb2.TensorInfo(name=tensor.name, dtype=tensor.dtype.base_dtype.as_datatype_enum,
                                     tensor_shape=tensor.get_shape().as_proto())


@tf_export("saved_model.get_tensor_from_tensor_info", "saved_model.utils.get_tensor_from_tensor_info")
def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The Tensor (or SparseTensor) a TensorInfo names in `graph` (the default graph), under
    `import_scope`; KeyError when it is not there, ValueError for an encoding tfmini does not know."""
    graph = graph or _ops.get_default_graph()

    def tensor(name):
        return graph.get_tensor_by_name(prepend_name_scope(name, import_scope))

    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return tensor(tensor_info.name)
    if encoding == "coo_sparse":
        coo = tensor_info.coo_sparse
        return SparseTensor(tensor(coo.indices_tensor_name), tensor(coo.values_tensor_name),
                            tensor(coo.dense_shape_tensor_name))
    raise ValueError(f"Invalid TensorInfo.encoding: {encoding}")
