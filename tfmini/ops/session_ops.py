"""Session handles: keep a tensor's value in the session across runs (`tf.get_session_handle`), read it
back (`tf.get_session_tensor`) and free it (`tf.delete_session_tensor`)."""

from __future__ import annotations

import weakref

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import apply_op, register_fetch_wrapper, register_op
from tfmini.ops import array_ops, shape_fns


def _handle_array(handle: str) -> np.ndarray:
    return np.asarray(handle.encode(), dtype=object)


def _stored_value(value):
    """The session's own read-only copy of a value kept by handle. The value may be the caller's fed array,
    a variable's storage that later assigns change, or an array the same run hands to the caller, so only a
    copy stays what it was; being read-only, every read of it is copied again on its way out of `run()`."""
    stored = np.array(value, copy=True)
    stored.flags.writeable = False
    return stored


def _get_handle_factory(op, ctx):
    name = op.name

    def store(value):
        return _handle_array(ctx.new_handle(name, _stored_value(value)))

    return store


register_op("GetSessionHandle", inputs=["value: T"], outputs=["handle: string"], stateful=True,
            shape=shape_fns.scalar, factory=_get_handle_factory)


def _lookup(ctx, handle, op):
    key = handle.decode() if isinstance(handle, bytes) else str(handle)
    try:
        return ctx.handles[key]
    except KeyError:
        raise _errors.InvalidArgumentError(
            None, op, f"The tensor with handle '{key}' is not in the session store."
        ) from None


def _get_tensor_factory(op, ctx):
    def read(handle):
        return _lookup(ctx, np.asarray(handle).item(), op)

    return read


register_op("GetSessionTensor", inputs=["handle: string"], outputs=["value: dtype"],
            attrs={"dtype": ("type", _reg.REQUIRED)}, stateful=True, shape=shape_fns.unknown,
            factory=_get_tensor_factory)


def _delete_factory(op, ctx):
    def delete(handle):
        key = np.asarray(handle).item()
        _lookup(ctx, key, op)
        del ctx.handles[key.decode() if isinstance(key, bytes) else str(key)]

    return delete


register_op("DeleteSessionTensor", inputs=["handle: string"], stateful=True, factory=_delete_factory)


class TensorHandle(np.ndarray):
    """A fetched session handle: a 0-d NumPy array holding the handle string, which can also `eval()` the
    tensor it names, be fed back in place of that tensor, and `delete()` it."""

    def __new__(cls, handle: str, dtype, session) -> TensorHandle:
        obj = _handle_array(handle).view(cls)
        obj._handle = handle
        obj._value_dtype = _dt.as_dtype(dtype)
        obj._session = session
        return obj

    def __array_finalize__(self, obj) -> None:
        self._handle = getattr(obj, "_handle", None)
        self._value_dtype = getattr(obj, "_value_dtype", None)
        self._session = getattr(obj, "_session", None)

    def __reduce__(self):
        raise TypeError("A TensorHandle belongs to a live session and cannot be pickled.")

    @property
    def handle(self) -> str:
        return self._handle

    def get_raw_handle(self) -> str:
        return self._handle

    def eval(self):
        """The value the handle refers to, read back from the session."""
        holder, reader = _get_handle_reader(self._session.graph, self._value_dtype)
        return self._session.run(reader, feed_dict={holder: self._handle})

    def delete(self) -> None:
        """Frees the value in the session; the handle is invalid afterwards."""
        holder, deleter = _get_handle_deleter(self._session.graph)
        self._session.run(deleter, feed_dict={holder: self._handle})

    def _feed_value(self, tensor=None, session=None):
        """Fed to a string tensor, the handle string; fed to any other tensor, the value it refers to."""
        if tensor is not None and tensor.dtype.base_dtype != _dt.string:
            return self.eval()
        return _handle_array(self._handle)

    def __str__(self) -> str:
        return self._handle

    def __repr__(self) -> str:
        return f"TensorHandle({self._handle!r}, dtype={self._value_dtype.name})"


_readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _get_handle_reader(graph: _ops.Graph, dtype):
    cache = _readers.setdefault(graph, {})
    key = ("reader", _dt.as_dtype(dtype))
    if key not in cache:
        with graph.as_default(), graph.name_scope(None):
            cache[key] = get_session_tensor(None, dtype)
    return cache[key]


def _get_handle_deleter(graph: _ops.Graph):
    cache = _readers.setdefault(graph, {})
    if "deleter" not in cache:
        with graph.as_default(), graph.name_scope(None):
            cache["deleter"] = delete_session_tensor(None)
    return cache["deleter"]


@tf_export("get_session_handle")
def get_session_handle(data, name=None) -> _ops.Tensor:
    """A string tensor whose fetched value is a handle to `data`'s value, kept in the session."""
    if not isinstance(data, _ops.Tensor):
        raise TypeError("`data` must be of type Tensor.")
    return apply_op("GetSessionHandle", [data], name=name).outputs[0]


@tf_export("get_session_tensor")
def get_session_tensor(handle, dtype, name=None) -> tuple[_ops.Tensor, _ops.Tensor]:
    """Returns `(holder, tensor)`: feed a handle string to `holder` to read its value as `tensor`."""
    holder = array_ops.placeholder(_dt.string, shape=_shape.scalar())
    tensor = apply_op("GetSessionTensor", [holder], {"dtype": _dt.as_dtype(dtype)}, name=name).outputs[0]
    return holder, tensor


@tf_export("delete_session_tensor")
def delete_session_tensor(handle, name=None) -> tuple[_ops.Tensor, _ops.Operation]:
    """Returns `(holder, deleter)`: run `deleter` with a handle string fed to `holder` to free it."""
    holder = array_ops.placeholder(_dt.string, shape=_shape.scalar())
    deleter = apply_op("DeleteSessionTensor", [holder], name=name)
    return holder, deleter


def _wrap_fetched_handle(session, tensor, value):
    return TensorHandle(np.asarray(value).item().decode(), tensor.op.inputs[0].dtype.base_dtype, session)


register_fetch_wrapper("GetSessionHandle", _wrap_fetched_handle)
