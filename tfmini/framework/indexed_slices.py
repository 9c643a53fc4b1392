"""`tf.IndexedSlices` (a sparse slice-wise gradient: rows `indices` of a dense tensor hold `values`) and
`tf.IndexedSlicesValue` (its fetched value). Conversion to a dense Tensor is registered by the ops layer
(tfmini/ops/gradients_impl.py), which has the ops it needs."""

from __future__ import annotations

import collections

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import _run_using_default_session
from tfmini.framework.registry import constant_value_as_shape


@tf_export("IndexedSlicesValue")
class IndexedSlicesValue(collections.namedtuple("IndexedSlicesValue", ["values", "indices", "dense_shape"])):
    """The fetched value of an IndexedSlices: `values` [N, ...], `indices` [N], `dense_shape` (or None)."""

    __slots__ = ()


@tf_export("IndexedSlices")
class IndexedSlices:
    """Rows `indices` (1-D int32/int64) of a dense tensor of shape `dense_shape` hold `values`; other rows are
    zero and repeated indices add up. Gradients of gathers are IndexedSlices, so they stay sparse."""

    _is_composite_tensor = True

    def __init__(self, values, indices, dense_shape=None) -> None:
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    @property
    def values(self) -> _ops.Tensor:
        return self._values

    @property
    def indices(self) -> _ops.Tensor:
        return self._indices

    @property
    def dense_shape(self) -> _ops.Tensor | None:
        return self._dense_shape

    @property
    def name(self) -> str:
        return self._values.name

    @property
    def device(self) -> str:
        return self._values.device

    @property
    def op(self) -> _ops.Operation:
        return self._values.op

    @property
    def dtype(self) -> _dt.DType:
        return self._values.dtype

    @property
    def graph(self) -> _ops.Graph:
        return self._values.graph

    @property
    def shape(self) -> _shape.TensorShape:
        """The static dense shape: from `dense_shape` when known, else [?] + values.shape[1:]."""
        if self._dense_shape is not None:
            known = constant_value_as_shape(self._dense_shape)
            if known.ndims is not None:
                return known
        vals = self._values.shape
        if vals.ndims is None:
            return _shape.unknown_shape()
        return _shape.TensorShape([None] + vals.as_list()[1:])

    def get_shape(self) -> _shape.TensorShape:
        return self.shape

    def _with_values(self, values) -> IndexedSlices:
        return IndexedSlices(values, self._indices, self._dense_shape)

    def _map_components(self, fn) -> IndexedSlices:
        shape = None if self._dense_shape is None else fn(self._dense_shape)
        return IndexedSlices(fn(self._values), fn(self._indices), shape)

    def __neg__(self) -> IndexedSlices:
        return self._with_values(-self._values)

    def eval(self, feed_dict=None, session=None) -> IndexedSlicesValue:
        return _run_using_default_session(self, "tensor", feed_dict, session, "evaluate tensor using `eval()`")

    def __repr__(self) -> str:
        shape = "" if self._dense_shape is None else f", dense_shape={self._dense_shape!r}"
        return f"IndexedSlices(indices={self._indices!r}, values={self._values!r}{shape})"

    __str__ = __repr__


# How Session.run fetches and feeds an IndexedSlices: as its component tensors. tfmini/__init__.py hands
# these to the client's `register_session_run_conversion_functions`, so this layer never names the client.
def session_run_components(s: IndexedSlices) -> list:
    """The tensors Session.run fetches and feeds for an IndexedSlices (dense_shape only when it has one)."""
    return [s.values, s.indices] + ([] if s.dense_shape is None else [s.dense_shape])


def session_run_fetch(s: IndexedSlices):
    def rebuild(vals) -> IndexedSlicesValue:
        values, indices, *dense_shape = vals
        return IndexedSlicesValue(values, indices, dense_shape[0] if dense_shape else None)

    return session_run_components(s), rebuild


def session_run_feed(s: IndexedSlices, value) -> list:
    return list(zip(session_run_components(s), value))
