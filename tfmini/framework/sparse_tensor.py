"""`tf.SparseTensor` (three dense component tensors) and `tf.SparseTensorValue` (their fetched values)."""

from __future__ import annotations

import collections

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import _run_using_default_session
from tfmini.framework.registry import constant_value_as_shape


@tf_export("SparseTensorValue")
class SparseTensorValue(collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])):
    """The value of a SparseTensor: int64 indices [N, rank], values [N], int64 dense_shape [rank]."""

    __slots__ = ()


@tf_export("SparseTensor", "sparse.SparseTensor")
class SparseTensor:
    """A sparse tensor built from `indices` (int64 [N, rank]), `values` ([N]) and `dense_shape` (int64 [rank])."""

    _is_composite_tensor = True

    def __init__(self, indices, values, dense_shape) -> None:
        with _ops.name_scope(None, "SparseTensor", [indices, values, dense_shape]):
            self._indices = _ops.convert_to_tensor(indices, name="indices", dtype=_dt.int64)
            self._values = _ops.convert_to_tensor(values, name="values")
            self._dense_shape = _ops.convert_to_tensor(dense_shape, name="dense_shape", dtype=_dt.int64)
        self._indices.shape.with_rank(2)
        self._values.shape.with_rank(1)
        self._dense_shape.shape.with_rank(1)

    @classmethod
    def from_value(cls, value) -> SparseTensor:
        if isinstance(value, SparseTensor):
            return value
        if not isinstance(value, SparseTensorValue):
            raise TypeError(f"Neither a SparseTensor nor SparseTensorValue: {value}.")
        return cls(value.indices, value.values, value.dense_shape)

    @property
    def indices(self) -> _ops.Tensor:
        return self._indices

    @property
    def values(self) -> _ops.Tensor:
        return self._values

    @property
    def dense_shape(self) -> _ops.Tensor:
        return self._dense_shape

    @property
    def dtype(self) -> _dt.DType:
        return self._values.dtype

    @property
    def op(self) -> _ops.Operation:
        return self._values.op

    @property
    def graph(self) -> _ops.Graph:
        return self._indices.graph

    @property
    def shape(self) -> _shape.TensorShape:
        return constant_value_as_shape(self._dense_shape)

    def get_shape(self) -> _shape.TensorShape:
        return self.shape

    def eval(self, feed_dict=None, session=None) -> SparseTensorValue:
        return _run_using_default_session(self, "tensor", feed_dict, session, "evaluate tensor using `eval()`")

    def _with_values(self, values) -> SparseTensor:
        return SparseTensor(self._indices, values, self._dense_shape)

    def _map_components(self, fn) -> SparseTensor:
        return SparseTensor(fn(self._indices), fn(self._values), fn(self._dense_shape))

    def __repr__(self) -> str:
        return f"SparseTensor(indices={self._indices!r}, values={self._values!r}, dense_shape={self._dense_shape!r})"

    __str__ = __repr__


def is_sparse(x) -> bool:
    return isinstance(x, (SparseTensor, SparseTensorValue))


# How Session.run fetches and feeds a SparseTensor: as its three component tensors. tfmini/__init__.py hands
# these to the client's `register_session_run_conversion_functions`, so this layer never names the client.
def session_run_components(st: SparseTensor) -> list:
    """The tensors Session.run fetches and feeds for a SparseTensor."""
    return [st.indices, st.values, st.dense_shape]


def session_run_fetch(st: SparseTensor):
    return session_run_components(st), lambda vals: SparseTensorValue(*vals)


def session_run_feed(st: SparseTensor, value) -> list:
    if isinstance(value, SparseTensor):
        raise TypeError("The value of a feed cannot be a tf.SparseTensor object; feed a tf.SparseTensorValue.")
    if not isinstance(value, (SparseTensorValue, tuple, list)) or len(value) != 3:
        raise TypeError(f"A SparseTensor must be fed a SparseTensorValue (indices, values, dense_shape), got "
                        f"{value!r}")
    return list(zip(session_run_components(st), value))
