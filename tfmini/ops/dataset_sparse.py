"""SparseTensor components of tf.data elements. A sparse component travels through a pipeline as one
variant value, a `SparseComponent` (its indices, values and dense shape), so every dataset op handles it as
a single component; batch and unbatch know how to stack and split it. The ops here convert between
SparseTensors and such variants: SparseTensorToDatasetVariant (one sparse tensor), SparseTensorToDatasetRows
(the rows of a sparse tensor, for from_tensor_slices) and DatasetVariantToSparseTensor."""

from __future__ import annotations

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import REQUIRED, NotDifferentiable, register_op, register_static_shape


class SparseComponent:
    """The run-time value of a sparse component: int64 indices [N, rank], values [N], int64 dense_shape."""

    __slots__ = ("indices", "values", "dense_shape")

    def __init__(self, indices: np.ndarray, values: np.ndarray, dense_shape: np.ndarray) -> None:
        self.indices = indices
        self.values = values
        self.dense_shape = dense_shape

    def __repr__(self) -> str:
        return f"SparseComponent(dense_shape={self.dense_shape.tolist()}, nnz={len(self.values)})"


def sparse_of(value) -> SparseComponent | None:
    """`value` as a SparseComponent if it holds one (bare or in a 0-d object array), else None."""
    if isinstance(value, SparseComponent):
        return value
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        inner = value[()]
        return inner if isinstance(inner, SparseComponent) else None
    return None


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def batch_sparse(values: list, index: int) -> SparseComponent:
    """Sparse components stacked along a new first dimension; the batch's dense shape is the largest of
    each dimension, as in TF."""
    parts = [sparse_of(v) for v in values]
    rank = len(parts[0].dense_shape)
    for k, p in enumerate(parts[1:], 1):
        if len(p.dense_shape) != rank:
            raise _invalid(f"Cannot batch sparse tensors of different ranks in component {index}: element 0 has "
                           f"rank {rank} and element {k} has rank {len(p.dense_shape)}.")
    indices = [np.concatenate([np.full((len(p.values), 1), k, np.int64), p.indices.reshape(-1, rank)], axis=1)
               for k, p in enumerate(parts)]
    dense = np.max(np.stack([p.dense_shape for p in parts]), axis=0) if rank else np.zeros([0], np.int64)
    return SparseComponent(np.concatenate(indices).astype(np.int64),
                           np.concatenate([p.values for p in parts]),
                           np.concatenate([[len(parts)], dense]).astype(np.int64))


def sparse_rows(value: SparseComponent) -> np.ndarray:
    """The rows of a sparse component (rank >= 1) as a 1-D object array of sparse components."""
    if len(value.dense_shape) == 0:
        raise _invalid("Cannot split a scalar SparseTensor into rows.")
    n = int(value.dense_shape[0])
    first = value.indices[:, 0] if len(value.indices) else np.zeros([0], np.int64)
    order = np.argsort(first, kind="stable")
    bounds = np.searchsorted(first[order], np.arange(n + 1))
    out = np.empty(n, dtype=object)
    for i in range(n):
        sel = order[bounds[i]:bounds[i + 1]]
        out[i] = SparseComponent(value.indices[sel, 1:], value.values[sel], value.dense_shape[1:].copy())
    return out


def _check_parts(indices, values, dense_shape) -> None:
    if np.ndim(indices) != 2 or np.ndim(values) != 1 or np.ndim(dense_shape) != 1:
        raise _invalid("A SparseTensor needs 2-D indices, 1-D values and a 1-D dense_shape.")
    if np.shape(indices)[0] != np.shape(values)[0] or np.shape(indices)[1] != np.shape(dense_shape)[0]:
        raise _invalid(f"SparseTensor parts disagree: indices {list(np.shape(indices))}, values "
                       f"{list(np.shape(values))}, dense_shape {list(np.shape(dense_shape))}.")


@register_op("SparseTensorToDatasetVariant", inputs=["indices: int64", "values: T", "dense_shape: int64"],
             outputs=["variant: variant"], shape=lambda op: _shape.TensorShape([]),
             doc="A SparseTensor as one dataset component.")
def _sparse_to_variant(indices, values, dense_shape):
    _check_parts(indices, values, dense_shape)
    return SparseComponent(np.asarray(indices), np.asarray(values), np.asarray(dense_shape))


@register_op("SparseTensorToDatasetRows", inputs=["indices: int64", "values: T", "dense_shape: int64"],
             outputs=["rows: variant"], shape=lambda op: _shape.TensorShape([None]),
             doc="The rows of a SparseTensor as a vector of dataset components.")
def _sparse_to_rows(indices, values, dense_shape):
    _check_parts(indices, values, dense_shape)
    return sparse_rows(SparseComponent(np.asarray(indices), np.asarray(values), np.asarray(dense_shape)))


def _variant_to_sparse_shapes(op: _ops.Operation) -> list:
    rank = op.get_attr("shape").ndims
    return [_shape.TensorShape([None, rank]), _shape.TensorShape([None]), _shape.TensorShape([rank])]


@register_op("DatasetVariantToSparseTensor", inputs=["variant: variant"],
             outputs=["indices: int64", "values: dtype", "dense_shape: int64"],
             attrs={"dtype": ("type", REQUIRED), "shape": ("shape", _shape.unknown_shape())},
             shape=_variant_to_sparse_shapes,
             doc="The parts of the SparseTensor a dataset component holds (`shape`: its static dense shape).")
def _variant_to_sparse(variant, *, dtype):
    value = sparse_of(variant)
    if value is None:
        raise _invalid(f"Expected a sparse dataset component, got {type(variant).__name__}.")
    return value.indices, value.values.astype(dtype.as_numpy_dtype, copy=False), value.dense_shape


@register_static_shape("DatasetVariantToSparseTensor")
def _static_dense_shape(tensor: _ops.Tensor):
    """What the dense_shape output denotes: the component's static dense shape (SparseTensor.shape)."""
    if tensor.value_index != 2:
        return None
    shape = tensor.op.get_attr("shape")
    return None if shape.ndims is None else shape


for _name in ("SparseTensorToDatasetVariant", "SparseTensorToDatasetRows", "DatasetVariantToSparseTensor"):
    NotDifferentiable(_name)
