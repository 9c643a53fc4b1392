"""Ops that reach outside the graph to the host: Python functions (`tf.py_func`, `tf.numpy_function`: PyFunc,
PyFuncStateless; `tf.py_function`: EagerPyFunc) and the clock (`tf.timestamp`: Timestamp).

The callable never enters the graph: the op carries a `token` attr (`pyfunc_N`), and the callable sits in a
process-wide registry under that token, as TF keeps it. The graph that made the op (the outermost one, for an op
made in a function body) keeps the callable alive; once that graph is garbage collected the token is forgotten.
So any graph of the process that holds the op -- an imported copy, the graph a server runs -- finds the callable
while the graph that made it lives; after that (or in another process) running the op fails as in TF
("callback pyfunc_N is not found").
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
import weakref
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op


class _Callback:
    """A registered callable and whether it runs eagerly (`py_function`): what a token names."""

    __slots__ = ("func", "eager", "__weakref__")

    def __init__(self, func: Callable, eager: bool) -> None:
        self.func = func
        self.eager = eager


# token -> callback, for the whole process. The registry holds callbacks weakly: the graph that made an op holds
# its callback (in `_py_funcs_used_in_graph`, as TF does), so an entry lives exactly as long as that graph, and a
# callable that refers back to its graph does not keep the graph alive.
_FUNCS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_FUNCS_LOCK = threading.Lock()
_TOKENS = itertools.count()


def _owning_graph(graph: _ops.Graph) -> _ops.Graph:
    """The outermost graph enclosing `graph` (a function body's graph is owned by the graph it is traced in)."""
    while getattr(graph, "outer_graph", None) is not None:
        graph = graph.outer_graph
    return graph


def _register_func(graph: _ops.Graph, func: Callable, eager: bool) -> str:
    callback = _Callback(func, eager)
    owner = _owning_graph(graph)
    with _FUNCS_LOCK:
        token = f"pyfunc_{next(_TOKENS)}"
        held = owner.__dict__.setdefault("_py_funcs_used_in_graph", [])
        held.append(callback)
        _FUNCS[token] = callback
    return token


def _lookup_func(token: str) -> tuple[Callable, bool] | None:
    with _FUNCS_LOCK:
        callback = _FUNCS.get(token)
    return None if callback is None else (callback.func, callback.eager)


# ----------------------------------------------------------------------------------------------------------
# What the function receives and returns
# ----------------------------------------------------------------------------------------------------------
class EagerValue(np.lib.mixins.NDArrayOperatorsMixin):
    """What `tf.py_function` hands its function for each input: the value with the EagerTensor methods TF1
    programs use on it (`numpy()`, `shape`, `dtype`), usable where NumPy expects an array. Python operators
    (`x * 2`, `x > 0`, `-x`) compute in NumPy and give EagerValues, as EagerTensor operators give EagerTensors.

    TensorFlow ops cannot run eagerly here: compute on `x.numpy()` inside the function."""

    __slots__ = ("_value", "_dtype")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            return NotImplemented
        args = [x._value if isinstance(x, EagerValue) else x for x in inputs]
        result = getattr(ufunc, method)(*args, **kwargs)
        return tuple(_as_eager(r) for r in result) if isinstance(result, tuple) else _as_eager(result)

    def __init__(self, value: np.ndarray, dtype: _dt.DType) -> None:
        self._value = value
        self._dtype = dtype

    def numpy(self):
        """The value as EagerTensor.numpy() gives it: an array, or for a scalar a NumPy scalar (bytes for a
        string)."""
        return self._value[()] if self._value.ndim == 0 else self._value

    @property
    def shape(self) -> _shape.TensorShape:
        return _shape.TensorShape(self._value.shape)

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self._value if dtype is None else self._value.astype(dtype)

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self):
        return iter(self._value)

    def __getitem__(self, key):
        return self._value[key]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        return int(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __repr__(self) -> str:
        return f"<tf.Tensor: shape={self._value.shape}, dtype={self._dtype.name}, numpy={self._value!r}>"


def _as_eager(value):
    """An operator's NumPy result as an EagerValue of its own dtype (left as it is if no TF dtype fits)."""
    arr = np.asarray(value)
    try:
        dtype = _dt.as_dtype(arr.dtype)
    except TypeError:
        return value
    return EagerValue(arr, dtype)


def _to_numpy_result(value) -> np.ndarray:
    """A returned value as TF's py_func reads it: NumPy's own dtype (a Python float is float64), text as
    an object array of UTF-8 bytes."""
    if isinstance(value, EagerValue):
        value = value.numpy()
    result = np.asarray(value, order="C")
    if result.dtype.kind == "S":
        return np.asarray(value, dtype=object)
    if result.dtype.kind == "U":
        encoded = np.empty(result.shape, dtype=object)
        encoded.ravel()[:] = [s.encode("utf-8") for s in result.ravel().tolist()]
        return encoded
    return result


# TF's DataTypeString spells these dtypes differently from their Python names.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _type_name(dtype: _dt.DType) -> str:
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def _numpy_dtype_name(arr: np.ndarray) -> str:
    if arr.dtype == object:
        return "string"
    try:
        return _type_name(_dt.as_dtype(arr.dtype))
    except TypeError:
        return str(arr.dtype)


def _check_result(arr: np.ndarray, i: int, token: str, want: _dt.DType) -> np.ndarray:
    if want == _dt.string:
        ok = arr.dtype == object and all(isinstance(v, bytes) for v in arr.ravel().tolist())
    else:
        ok = arr.dtype == want.as_numpy_dtype
    if not ok:
        raise _errors.InvalidArgumentError(
            None, None, f"{i}-th value returned by {token} is {_numpy_dtype_name(arr)}, but expects {_type_name(want)}")
    return arr


def _eager_result(value, i: int, token: str, want: _dt.DType) -> np.ndarray:
    """A py_function result converted to its declared dtype as convert_to_tensor(value, dtype) would."""
    is_python = isinstance(value, (bool, int, float, complex, list, tuple))
    if isinstance(value, EagerValue):
        value, is_python = value.numpy(), False
    arr = _to_numpy_result(value)
    if arr.dtype == want.as_numpy_dtype or (want == _dt.string and arr.dtype == object):
        return _check_result(arr, i, token, want)
    if is_python and want != _dt.string and arr.dtype != object:
        converted = arr.astype(want.as_numpy_dtype)
        # convert_to_tensor refuses Python values the dtype cannot hold (a float into an integer tensor)
        if np.array_equal(converted, arr) or want.is_floating or want.is_complex:
            return converted
    raise _errors.InvalidArgumentError(
        None, None, f"{i}-th value returned by {token} is {_numpy_dtype_name(arr)}, but expects {_type_name(want)}")


# Python exceptions raised by the function, as TF's PyFunc kernel reports them.
_ERROR_CLASSES = (
    ((ValueError, TypeError), _errors.InvalidArgumentError),
    ((StopIteration,), _errors.OutOfRangeError),
    ((MemoryError,), _errors.ResourceExhaustedError),
    ((NotImplementedError,), _errors.UnimplementedError),
)


def _as_op_error(exc: BaseException) -> _errors.OpError:
    if isinstance(exc, _errors.OpError):
        return exc
    message = f"{type(exc).__name__}: {exc}"
    for python_classes, op_error in _ERROR_CLASSES:
        if isinstance(exc, python_classes):
            return op_error(None, None, message)
    return _errors.UnknownError(None, None, message)


def _py_func_factory(op: _ops.Operation, ctx) -> Callable:
    token = op.get_attr("token")
    token = token.decode() if isinstance(token, bytes) else token
    in_types = list(op.get_attr("Tin"))
    out_types = list(op.get_attr("Tout"))
    eager = op.type == "EagerPyFunc"

    def py_func_kernel(*args):
        # Referenced here so that `op` is among this frame's locals: a traceback through a running callback
        # (a KeyboardInterrupt) then tells which op it was in, as the IPython extension reports it.
        _ = op
        entry = _lookup_func(token)
        if entry is None:
            raise _errors.InvalidArgumentError(None, None, f"ValueError: callback {token} is not found")
        func = entry[0]
        # The function gets its own writable copies: feeds, constants and variables are read-only.
        values = [np.array(a, copy=True) for a in args]
        if eager:
            values = [EagerValue(v, t) for v, t in zip(values, in_types)]
        try:
            ret = func(*values)
        except Exception as exc:  # noqa: BLE001 - every Python error becomes the op's TF error
            raise _as_op_error(exc) from exc
        if not out_types and ret is None:
            return ()
        if isinstance(ret, bytes):
            ret = [ret]
        results = list(ret) if isinstance(ret, (list, tuple)) else [ret]
        if len(results) != len(out_types):
            raise _errors.InvalidArgumentError(
                None, None, f"{token} returns {len(results)} values, but expects to see {len(out_types)} values.")
        if eager:
            return tuple(_eager_result(r, i, token, t) for i, (r, t) in enumerate(zip(results, out_types)))
        return tuple(_check_result(np.array(_to_numpy_result(r), copy=True), i, token, t)
                     for i, (r, t) in enumerate(zip(results, out_types)))

    return py_func_kernel


def _unknown_shapes(op: _ops.Operation) -> list:
    return [_shape.TensorShape(None)] * len(op.outputs)


_SCRIPT_ATTRS = {"token": ("string", REQUIRED), "Tin": ("list(type)", REQUIRED), "Tout": ("list(type)", REQUIRED)}
for _op_type, _stateful in (("PyFunc", True), ("PyFuncStateless", False)):
    register_op(_op_type, inputs=["input: Tin"], outputs=["output: Tout"], attrs=dict(_SCRIPT_ATTRS),
                stateful=_stateful, shape=_unknown_shapes, factory=_py_func_factory)
register_op("EagerPyFunc", inputs=["input: Tin"], outputs=["output: Tout"],
            attrs={**_SCRIPT_ATTRS, "is_async": ("bool", False)}, stateful=True, shape=_unknown_shapes,
            factory=_py_func_factory)
# As in TF: a Python function has no gradient unless one is given with gradient_override_map.
NotDifferentiable("PyFunc")
NotDifferentiable("PyFuncStateless")


# ----------------------------------------------------------------------------------------------------------
# The public functions
# ----------------------------------------------------------------------------------------------------------
def _internal_py_func(func, inp, Tout, stateful: bool, eager: bool, name):  # noqa: N803 - TF's argument name
    if not callable(func):
        raise ValueError(f"Expected func to be callable, got func of type {type(func)}")
    is_list = isinstance(Tout, (list, tuple))
    out_types = [_dt.as_dtype(t).base_dtype for t in (Tout if is_list else [Tout])]
    inp = [] if inp is None else list(inp)
    graph = _ops.get_default_graph()
    token = _register_func(graph, func, eager)
    inputs = [_ops.convert_to_tensor(x) for x in inp]
    op_type = "EagerPyFunc" if eager else ("PyFunc" if stateful else "PyFuncStateless")
    op = apply_op(op_type, [inputs],
                  {"token": token, "Tin": [t.dtype.base_dtype for t in inputs], "Tout": out_types}, name=name)
    if is_list:
        return list(op.outputs) if op.outputs else op
    return op.outputs[0]


@tf_export("py_func")
def py_func(func, inp, Tout, stateful=True, name=None):  # noqa: N803 - TF's argument name
    """`tf.py_func`: runs `func(*arrays)` on the NumPy values of `inp` when the op runs.

    `Tout` is a dtype (one output) or a list of dtypes (a list of outputs; an empty list gives the Operation).
    The function must return arrays of exactly those dtypes (a Python float is float64), or bytes/str for
    strings. With `stateful=False` the op may be folded and deduplicated like any stateless op. It has no
    gradient unless one is given with `gradient_override_map`.
    """
    return _internal_py_func(func, inp, Tout, stateful=stateful, eager=False, name=name)


@tf_export("numpy_function")
def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):  # noqa: N803 - TF's argument name
    """`tf.numpy_function`: `tf.py_func` under its TF2 name. Without `func` it is a decorator, and without
    `inp` it returns a function that takes the inputs (`numpy_function(Tout=tf.float32)(f)(x)`)."""
    if func is None:
        return lambda f: numpy_function(f, inp, Tout, stateful, name)
    if inp is None:
        return functools.wraps(func)(lambda *args: numpy_function(func, args, Tout, stateful, name))
    return _internal_py_func(func, inp, Tout, stateful=stateful, eager=False, name=name)


@tf_export("py_function")
def py_function(func=None, inp=None, Tout=None, name=None):  # noqa: N803 - TF's argument name
    """`tf.py_function`: runs `func` on the values of `inp`, each given as an EagerTensor-like value
    (`x.numpy()`); the results are converted to `Tout` as `tf.convert_to_tensor(result, dtype)` does, so a
    Python float fills a float32 output.
    """
    if func is None:
        return lambda f: py_function(f, inp, Tout, name)
    if inp is None:
        return functools.wraps(func)(lambda *args: py_function(func, args, Tout, name))
    return _internal_py_func(func, inp, Tout, stateful=True, eager=True, name=name)


# ----------------------------------------------------------------------------------------------------------
# tf.timestamp
# ----------------------------------------------------------------------------------------------------------
@register_op("Timestamp", outputs=["ts: float64"], stateful=True, shape=lambda op: _shape.TensorShape([]))
def _timestamp():
    """Seconds since the Unix epoch when the op runs (stateful: never folded, a new value every run)."""
    return np.float64(time.time())


@tf_export("timestamp")
def timestamp(name=None) -> _ops.Tensor:
    """`tf.timestamp`: a float64 scalar, the time in seconds since the Unix epoch at which the op runs."""
    return apply_op("Timestamp", [], name=name).outputs[0]
