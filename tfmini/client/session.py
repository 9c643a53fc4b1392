"""`tf.Session` and `tf.InteractiveSession`: map user fetch and feed structures to an engine's flat lists
and back, own the session's lifetime and default-session behaviour, and keep partial runs' bookkeeping.
Every way to run (`run`, `make_callable`) goes through one cached `_RunCallable` per signature; the engine
behind the target is reached through the `engine` seam only."""

from __future__ import annotations

import functools
import itertools
import reprlib
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np

from tfmini.client import blas as _blas
from tfmini.client import engine as _engine
from tfmini.client import fetch as _fetch
from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import to_numpy
from tfmini.framework.registry import FETCH_WRAPPERS as _FETCH_WRAPPERS
from tfmini.protobuf import config_pb2


class _FedRef:
    """A fed value standing in for a ref-typed tensor: consumers read `.value`. It is no variable storage, so
    an op that would update it in place (reached where the plan cannot see it, e.g. inside a loop body) gets
    TF's InvalidArgumentError, not an AttributeError."""

    __slots__ = ("value", "tensor")

    def __init__(self, value, tensor: _ops.Tensor) -> None:
        self.value = value
        self.tensor = tensor

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)  # protocol probes (NumPy's __array__ and the like) find nothing
        t = self.tensor
        raise _errors.InvalidArgumentError(
            None, None, f"{t.name} was passed {t.dtype.base_dtype.name} from a feed, incompatible with expected "
            f"{t.dtype._as_ref.name}: a fed variable can be read but not updated."
        )


class _PartialRun:
    """A partial run's contract state (what was declared, fed and fetched) and the engine's side of it."""

    def __init__(self, fetches: set, feeds: set, engine_run: _engine.PartialRun) -> None:
        self.fetches = fetches
        self.feeds = feeds
        self.fed: set = set()
        self.fetched: set = set()
        self.engine_run = engine_run


class _RunCallable:
    """How a session runs one signature (unique fetches, feed tensors): the feed converters, the engine's
    executable (resolved again when the graph changes, after TF's fetchability check), the deadline policy,
    and the turning of results into one value per unique fetch (None for an op, wrapped where the fetched op
    type asks for it). `Session.run`'s cached runners and `make_callable` both use it."""

    def __init__(self, session: BaseSession, unique_fetches: list, feed_tensors: list) -> None:
        self._session = session
        self._graph = session._graph
        self.unique_fetches = list(unique_fetches)
        self._tensors = tuple(f for f in unique_fetches if isinstance(f, _ops.Tensor))
        self._targets = tuple(f for f in unique_fetches if isinstance(f, _ops.Operation))
        self.feed_tensors = tuple(feed_tensors)
        self.convert = [session._feed_converter(t) for t in feed_tensors]
        config = session._config
        # A session-wide deadline makes every run a timed one (the plain loop, checked between ops and loops).
        self.timed = config is not None and config.operation_timeout_in_ms > 0
        self.graph_version = -1
        self.executable: _engine.Executable | None = None
        self.plain = len(self._tensors) == len(self.unique_fetches) and not any(
            t._op._type in _FETCH_WRAPPERS for t in self._tensors)

    def refresh(self) -> _engine.Executable:
        """The executable for the graph as it is now (TF's checks that each fetch may be fetched and each
        feed fed are made again whenever the graph changed)."""
        if self.graph_version != self._graph._version:
            for t in self.feed_tensors:
                if not self._graph.is_feedable(t):
                    raise ValueError(f"Tensor {t.name} may not be fed.")
            for f in self.unique_fetches:
                if not self._graph.is_fetchable(f):
                    name = f.op.name if isinstance(f, _ops.Tensor) else f.name
                    raise ValueError(f"Operation {name!r} has been marked as not fetchable.")
            self.executable = self._session._engine.compile(self._tensors, self.feed_tensors, self._targets)
            self.graph_version = self._graph._version
        return self.executable

    def __call__(self, feed_values: list, options=None, run_metadata=None) -> list:
        """One value per unique fetch, for converted `feed_values`."""
        exe = self.refresh()
        deadline = self._session._deadline(options)
        limit = self._session._blas_limit
        if limit is not None:
            with limit:
                if run_metadata is None and deadline is None:
                    results = exe.run(feed_values)
                else:
                    results = exe.run_traced(feed_values, options, run_metadata, deadline)
        elif run_metadata is None and deadline is None:
            results = exe.run(feed_values)
        else:
            results = exe.run_traced(feed_values, options, run_metadata, deadline)
        return results if self.plain else _fetched_values(self._session, self.unique_fetches, results)


def _fetched_values(session: BaseSession, unique_fetches: list, results: list) -> list:
    """One value per unique fetch from an engine's results (one per fetched Tensor): None for an Operation,
    and a fetched value wrapped where its op type asks for it (e.g. GetSessionHandle -> TensorHandle)."""
    out, it = [], iter(results)
    for f in unique_fetches:
        if isinstance(f, _ops.Tensor):
            v = next(it)
            wrap = _FETCH_WRAPPERS.get(f._op._type)
            out.append(v if wrap is None else wrap(session, f, v))
        else:
            out.append(None)
    return out


@tf_export("BaseSession")
class BaseSession:
    """What Session and InteractiveSession share: the `run()` contract over an engine chosen by `target`."""

    def __init__(self, target: str = "", graph: _ops.Graph | None = None, config=None) -> None:
        if graph is None:
            graph = _ops.get_default_graph()
        elif not isinstance(graph, _ops.Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(graph)}")
        if config is not None and not isinstance(config, config_pb2.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, but got {type(config)}")
        if isinstance(target, bytes):
            target = target.decode()
        if not isinstance(target, str):
            raise TypeError(f"target must be a string, but got {type(target)}")
        self._graph = graph
        self._target = target
        self._config = config
        self._closed = False
        self._default_graph_context_manager = None
        self._default_session_context_manager = None
        self._partial_runs: dict[str, _PartialRun] = {}
        self._runners: dict = {}  # fetches and feed keys of a call -> a ready runner (see _remember_runner)
        self._callables: dict = {}  # (unique fetches, feed tensors) -> _RunCallable
        self._partial_counter = itertools.count()
        self._engine = _engine.engine_for(target, graph, config)
        # ConfigProto.intra_op_parallelism_threads: the BLAS thread count while this session's steps run.
        self._blas_limit = _blas.session_thread_limit(config)

    # -- properties ------------------------------------------------------------
    @property
    def graph(self) -> _ops.Graph:
        """The graph that was launched in this session."""
        return self._graph

    @property
    def graph_def(self):
        """A GraphDef proto with a NodeDef for every Operation of the graph."""
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        """The target this session runs on ('' for the in-process engine)."""
        return self._target

    # -- lifetime --------------------------------------------------------------
    def as_default(self):
        """A context manager that makes this the default session of the current thread (it does not close
        the session on exit, nor change the default graph)."""
        return _ops.default_session(self)

    def close(self) -> None:
        """Releases the session's state (variable values, handles, partial runs). Idempotent."""
        if not self._closed:
            self._closed = True
            self._partial_runs.clear()
            self._runners.clear()
            self._callables.clear()
            self._engine.close()

    def __enter__(self):
        if self._default_graph_context_manager is None:
            self._default_graph_context_manager = self.graph.as_default()
        else:
            raise RuntimeError(
                "Session context managers are not re-entrant. Use `Session.as_default()` if you want to enter "
                "a session multiple times."
            )
        if self._default_session_context_manager is None:
            self._default_session_context_manager = self.as_default()
        self._default_graph_context_manager.__enter__()
        return self._default_session_context_manager.__enter__()

    def __exit__(self, exec_type, exec_value, exec_tb) -> None:
        try:
            self._default_session_context_manager.__exit__(exec_type, exec_value, exec_tb)
        finally:
            self._default_graph_context_manager.__exit__(exec_type, exec_value, exec_tb)
            self._default_session_context_manager = None
            self._default_graph_context_manager = None
            self.close()

    def __del__(self) -> None:
        try:
            BaseSession.close(self)
        except Exception:  # noqa: BLE001 - nothing may escape a finalizer
            pass

    def list_devices(self) -> list:
        """The devices of the engine behind this session's target."""
        return self._engine.list_devices()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    # -- run -------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs one step: computes every Tensor and runs every Operation in `fetches` (any nesting of lists,
        tuples, namedtuples and dicts), substituting `feed_dict` values; returns values in the same structure.
        With `options.trace_level` set and a `run_metadata`, per-op stats are recorded in it."""
        if options is None and run_metadata is None and not self._closed:
            # Repeated calls with the same fetch elements and feed keys reuse a resolved runner.
            kind = type(fetches)
            try:
                runner = self._runners[(
                    fetches if kind is _ops.Tensor or kind is _ops.Operation else (kind, *fetches),
                    tuple(feed_dict) if feed_dict else (),
                )]
            except (KeyError, TypeError):
                runner = None
            if runner is not None:
                return runner(feed_dict)
        self._check_open()
        if self._graph.version == 0:
            raise RuntimeError("The Session graph is empty. Add operations to the graph before calling run().")
        if options is not None or run_metadata is not None:
            if options is not None and not isinstance(options, config_pb2.RunOptions):
                raise TypeError(f"options must be a tf.RunOptions proto, got {type(options)}")
            if run_metadata is not None and not isinstance(run_metadata, config_pb2.RunMetadata):
                raise TypeError(f"run_metadata must be a tf.RunMetadata proto, got {type(run_metadata)}")
        mapper = _fetch.FetchMapper.for_fetch(fetches, self._graph)
        feed_tensors, feed_values = self._process_feeds(feed_dict)
        call = self._callable(mapper.unique_fetches, feed_tensors)
        values = call(feed_values, options, run_metadata)
        if options is None and run_metadata is None:
            self._remember_runner(fetches, feed_dict, mapper, call)
        return mapper.build_results(values)

    def _callable(self, unique_fetches: list, feed_tensors: list) -> _RunCallable:
        """The cached callable of this signature."""
        key = (tuple(unique_fetches), tuple(feed_tensors))
        call = self._callables.get(key)
        if call is None:
            if len(self._callables) > 256:
                self._callables.clear()
            call = self._callables[key] = _RunCallable(self, unique_fetches, feed_tensors)
        return call

    def _deadline(self, options) -> float | None:
        """The perf_counter time a run started now must end by (RunOptions first, then the session's
        ConfigProto), or None."""
        timeout_ms = options.timeout_in_ms if options is not None else 0
        if not timeout_ms and self._config is not None:
            timeout_ms = self._config.operation_timeout_in_ms
        return time.perf_counter() + timeout_ms / 1000.0 if timeout_ms > 0 else None

    def _remember_runner(self, fetches, feed_dict, mapper: _fetch.FetchMapper, call: _RunCallable) -> None:
        """Caches a runner for this call's signature when its fetches are graph elements (alone or in a flat
        list/tuple) and its feed keys are Tensors of this graph: later calls then skip structure mapping and
        key resolution and only convert feed values (with the same checks) before running the signature's
        executable, re-resolved when the graph changes."""
        kind = type(fetches)
        if kind is _ops.Tensor or kind is _ops.Operation:
            pass
        elif kind is list or kind is tuple:
            if not all(type(f) is _ops.Tensor or type(f) is _ops.Operation for f in fetches):
                return
        else:
            return
        keys = tuple(feed_dict) if feed_dict else ()
        if len(keys) != len(call.feed_tensors) or any(k is not t for k, t in zip(keys, call.feed_tensors)):
            return  # string, tuple or SparseTensor keys: resolved each call
        if call.timed or any(type(f) is _ops.Tensor and f._op._type in _FETCH_WRAPPERS for f in call.unique_fetches):
            return
        build = mapper.fast_builder()
        convert = call.convert
        graph = self._graph

        def runner(feed_dict):
            exe = call.executable if call.graph_version == graph._version else call.refresh()
            if feed_dict:
                return build(exe.run([c(v) for c, v in zip(convert, feed_dict.values())]))
            return build(exe.run(()))

        limit = self._blas_limit
        if limit is not None:
            plain_runner = runner

            def runner(feed_dict):
                with limit:
                    return plain_runner(feed_dict)

        key = (fetches if kind is not list and kind is not tuple else (kind, *fetches), keys)
        if len(self._runners) > 256:
            self._runners.clear()
        self._runners[key] = runner

    # -- feeds -----------------------------------------------------------------
    def _process_feeds(self, feed_dict) -> tuple[list, list]:
        if not feed_dict:
            return [], []
        if not isinstance(feed_dict, dict):
            raise TypeError(f"feed_dict must be a dictionary, got {type(feed_dict).__name__}")
        feeds: dict = {}
        for key, value in feed_dict.items():
            for subfeed, subvalue in _expand_feed(key, value):
                tensor = self._feed_tensor(subfeed)
                feeds[tensor] = self._feed_value(tensor, subvalue)
        return list(feeds), list(feeds.values())

    def _feed_converter(self, tensor: _ops.Tensor) -> Callable:
        """`value -> array` for feeds of `tensor`: an ndarray of the exact dtype and a fitting shape is taken
        as a read-only view with no further work; anything else goes through `_feed_value`'s full checks."""
        general = functools.partial(self._feed_value, tensor)
        if tensor.dtype.is_ref or tensor.dtype.base_dtype is _dt.string:
            return general
        np_dtype = np.dtype(tensor.dtype.as_numpy_dtype)
        dims = tensor.shape.as_tuple()
        ndarray = np.ndarray

        def convert(value):
            if type(value) is ndarray and value.dtype is np_dtype and _shape_accepts(dims, value.shape):
                view = value.view()
                view.flags.writeable = False
                return view
            return general(value)

        return convert

    def _feed_tensor(self, subfeed) -> _ops.Tensor:
        if type(subfeed) is _ops.Tensor and subfeed._op._graph is self._graph:
            tensor = subfeed  # the common case, resolved without the general lookup
        else:
            try:
                tensor = self._graph.as_graph_element(subfeed, allow_tensor=True, allow_operation=False)
            except Exception as e:  # noqa: BLE001 - TF reports any bad key as a TypeError
                msg = e.args[0] if e.args else str(e)
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {msg}") from None
        if not self._graph.is_feedable(tensor):
            raise ValueError(f"Tensor {tensor.name} may not be fed.")
        return tensor

    def _feed_value(self, tensor: _ops.Tensor, value):
        """`value` converted to the array fed for `tensor`, with TF's checks. Every feed path (run, cached
        runners, make_callable, partial runs) comes through here, so they all reject the same values."""
        dtype = tensor.dtype.base_dtype
        if isinstance(value, _ops.Tensor):
            raise TypeError(
                "The value of a feed cannot be a tf.Tensor object. Acceptable feed values include Python "
                "scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, the tensor "
                f"object was {value} which was passed to the feed with key {tensor}."
            )
        if type(value) is not np.ndarray:
            if isinstance(value, np.ndarray) and isinstance(value, np.ma.MaskedArray):
                # np.asarray drops the mask and would feed the masked-out entries as they are.
                raise TypeError(
                    f"Cannot feed a masked array for Tensor {tensor.name!r}: its mask would be dropped and the "
                    "masked-out entries fed as they are. Feed x.filled(fill_value) to replace them, or "
                    "np.asarray(x.data) to feed the data under the mask as it is."
                )
            raw = getattr(value, "_feed_value", None)  # e.g. a TensorHandle stands for its value
            if raw is not None:
                value = raw(tensor, self)
        try:
            arr = _converted_feed(value, dtype)
        except (TypeError, ValueError) as e:
            # The plain class: some subclasses (UnicodeDecodeError) cannot be rebuilt from a message alone.
            plain = TypeError if isinstance(e, TypeError) else ValueError
            raise plain(f"{e} (feeding Tensor {tensor.name!r})") from None
        if not _shape_accepts(tensor.shape.as_tuple(), arr.shape):
            raise ValueError(
                f"Cannot feed value of shape {arr.shape!r} for Tensor {tensor.name!r}, which has shape "
                f"{str(tensor.shape)!r}"
            )
        # Whatever was fed, the run reads a read-only view of it: the array may share the caller's buffer
        # (an ndarray or a view of one, a memoryview, bytearray, ctypes or array.array buffer, an ndarray
        # subclass, an object's __array__), so no kernel writes into it and a fetch of it is copied (see
        # executor.as_result); writing into a result never reaches the caller's object, nor the reverse.
        arr = arr.view()
        arr.flags.writeable = False
        return _FedRef(arr, tensor) if tensor.dtype.is_ref else arr

    # -- callables -------------------------------------------------------------
    def make_callable(self, fetches, feed_list=None, accept_options: bool = False) -> Callable:
        """A function `f(*feed_values)` equivalent to `run(fetches, dict(zip(feed_list, feed_values)))`,
        with the fetch and feed structure resolved once, running the signature's cached callable (as a
        cached `run` runner does)."""
        mapper = _fetch.FetchMapper.for_fetch(fetches, self._graph)
        feed_tensors = [self._feed_tensor(f) for f in feed_list or []]
        run_call = self._callable(mapper.unique_fetches, feed_tensors)
        convert = run_call.convert
        n_feeds = len(feed_tensors)

        def call(*feed_values, options=None, run_metadata=None):
            self._check_open()
            if len(feed_values) != n_feeds:
                raise ValueError(f"Expected {n_feeds} feed values, got {len(feed_values)}")
            values = run_call([c(v) for c, v in zip(convert, feed_values)], options, run_metadata)
            return mapper.build_results(values)

        return call

    # -- partial runs ----------------------------------------------------------
    def partial_run_setup(self, fetches, feeds=None) -> str:
        """Declares the fetches and feeds of a sequence of `partial_run` calls; returns its handle."""
        self._check_open()
        if not isinstance(fetches, (list, tuple)):
            fetches = [fetches]
        mapper = _fetch.FetchMapper.for_fetch(list(fetches), self._graph)
        feed_set: set = set()
        for f in feeds if isinstance(feeds, (list, tuple)) else ([] if feeds is None else [feeds]):
            conv = _fetch.conversion_for(f)
            parts = conv[3](f) if conv is not None and conv[3] is not None else [f]
            for p in parts:
                feed_set.add(self._feed_tensor(p))
        handle = f"{next(self._partial_counter)};partial_run"
        self._partial_runs[handle] = _PartialRun(set(mapper.unique_fetches), feed_set, self._engine.partial_run())
        return handle

    def partial_run(self, handle: str, fetches, feed_dict=None):
        """Continues the partial run `handle`: feeds more values and fetches more results, running only the
        ops not already run in earlier calls."""
        self._check_open()
        pr = self._partial_runs.get(handle)
        if pr is None:
            raise _errors.InvalidArgumentError(
                None, None, f"Must run 'setup' before performing partial runs! (unknown handle {handle!r})"
            )
        mapper = _fetch.FetchMapper.for_fetch(fetches, self._graph)
        for f in mapper.unique_fetches:
            if f not in pr.fetches:
                raise _errors.InvalidArgumentError(
                    None, None, f"Fetch {f.name} was not specified in partial_run_setup."
                )
            if f in pr.fetched:
                raise _errors.InvalidArgumentError(None, None, f"Fetch {f.name} has already been fetched.")
        feed_tensors, feed_values = self._process_feeds(feed_dict)
        for t in feed_tensors:
            if t not in pr.feeds:
                raise _errors.InvalidArgumentError(
                    None, t.op, f"Feed {t.name} was not specified in partial_run_setup."
                )
            if t in pr.fed:
                raise _errors.InvalidArgumentError(None, t.op, f"Feed {t.name} has already been fed.")
        tensors = [f for f in mapper.unique_fetches if isinstance(f, _ops.Tensor)]
        targets = [f for f in mapper.unique_fetches if isinstance(f, _ops.Operation)]
        _check_computable(tensors, pr.feeds, pr.fed.union(feed_tensors))
        # Kept across calls: private copies, or a later call would read what the caller wrote into their fed
        # object in between.
        feeds = {t: _private_copy(v) for t, v in zip(feed_tensors, feed_values)}
        if self._blas_limit is None:
            results = pr.engine_run.run(tensors, targets, feeds, pr.fed.union(feed_tensors), self._deadline(None))
        else:
            with self._blas_limit:
                results = pr.engine_run.run(tensors, targets, feeds, pr.fed.union(feed_tensors),
                                            self._deadline(None))
        pr.fed.update(feed_tensors)
        pr.fetched.update(mapper.unique_fetches)
        if pr.fetched >= pr.fetches:
            # Every declared fetch is out: the partial run is over, as in TF (its handle is forgotten) and the
            # engine frees what it kept for it (values computed so far, on other tasks for a distributed one).
            del self._partial_runs[handle]
            close = getattr(pr.engine_run, "close", None)
            if close is not None:
                close()
        return mapper.build_results(_fetched_values(self, mapper.unique_fetches, results))


def _check_computable(fetches, declared: set, fed: set) -> None:
    """InvalidArgumentError, as TF words it, when a partial run's fetch needs a declared feed not fed yet (the
    walk back from the fetches stops at declared feeds: their producers never run in a partial run)."""
    stack = [t.op for t in fetches]
    seen = set(stack)
    while stack:
        op = stack.pop()
        for t in op.inputs:
            if t in declared:
                if t not in fed:
                    raise _errors.InvalidArgumentError(
                        None, None, f"Fetch {t.name} can't be computed from the feeds that have been fed so far.")
                continue
            if t.op not in seen:
                seen.add(t.op)
                stack.append(t.op)
        for dep in op.control_inputs:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)


def _private_copy(fed):
    """A read-only copy of a fed value (the array of a `_FedRef` for a fed ref tensor)."""
    if isinstance(fed, _FedRef):
        return _FedRef(_private_copy(fed.value), fed.tensor)
    copy = np.array(fed, copy=True)
    copy.flags.writeable = False
    return copy


def _shape_accepts(static_dims, shape: tuple) -> bool:
    """Whether a value of `shape` fits static dims (None = unknown rank/dim); cheap, it runs on every feed."""
    if static_dims is None:
        return True
    if len(static_dims) != len(shape):
        return False
    for d, s in zip(static_dims, shape):
        if d is not None and d != s:
            return False
    return True


def _converted_feed(value, dtype: _dt.DType) -> np.ndarray:
    """`value` as an ndarray of `dtype`, converted as TF converts feeds (np.asarray to the dtype; only a
    Python int is checked for loss). Raises TypeError or ValueError for what cannot be fed."""
    if dtype is _dt.string:
        return to_numpy(value, _dt.string)
    if isinstance(value, (str, bytes)):
        raise ValueError(f"could not convert string to {dtype.name}: {reprlib.repr(value)}")
    try:
        arr = np.asarray(value, dtype=dtype.as_numpy_dtype)
        lossy = isinstance(value, int) and not isinstance(value, bool) and arr.item() != value
    except OverflowError:
        lossy = True
    if lossy:
        raise TypeError(
            f"Type of feed value {reprlib.repr(value)} with type {type(value)} is not compatible with Tensor "
            f"type {dtype.name}. Try explicitly setting the type of the feed tensor to a larger type (e.g. int64)."
        )
    return arr


def _expand_feed(key, value):
    """(tensor-like, value) pairs of one feed_dict entry: nested tuples and registered types expand."""
    if type(key) is _ops.Tensor:
        yield key, value
        return
    conv = _fetch.conversion_for(key)
    if conv is not None and conv[2] is not None:
        yield from conv[2](key, value)
    elif isinstance(key, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(key):
            raise ValueError(f"The feed value for the tuple key {key!r} must be a tuple of {len(key)} values.")
        for k, v in zip(key, value):
            yield from _expand_feed(k, v)
    else:
        yield key, value


@tf_export("Session")
class Session(BaseSession):
    """A class for running graphs: `with tf.Session() as sess: sess.run(fetches, feed_dict)`."""

    def __init__(self, target: str = "", graph: _ops.Graph | None = None, config=None) -> None:
        super().__init__(target, graph, config=config)

    @staticmethod
    def reset(target, containers=None, config=None) -> None:
        """Resets resource containers on `target` (all of them when `containers` is None): the engine
        serving it clears the containers its sessions share (a distributed engine, on every task). The
        in-process engine shares no containers between sessions (each session owns its variables), so there
        is nothing to clear; an unknown target raises NotFoundError as creating a session on it would."""
        target = target.decode() if isinstance(target, bytes) else target
        reset = getattr(_engine.engine_factory(target), "reset", None)
        if reset is not None:
            reset(target, None if containers is None else list(containers), config)


@tf_export("InteractiveSession")
class InteractiveSession(BaseSession):
    """A Session that installs itself as the default session on construction, for shells and notebooks."""

    _count_lock = threading.Lock()
    _active_session_count = 0

    def __init__(self, target: str = "", graph: _ops.Graph | None = None, config=None) -> None:
        if config is None:
            config = config_pb2.ConfigProto()
            config.graph_options.place_pruned_graph = True
        super().__init__(target, graph, config)
        with InteractiveSession._count_lock:
            if InteractiveSession._active_session_count > 0:
                warnings.warn(
                    "An interactive session is already active. This can cause out-of-memory errors in some "
                    "cases. You must explicitly call `InteractiveSession.close()` to release resources held by "
                    "the other session(s).",
                    stacklevel=2,
                )
            InteractiveSession._active_session_count += 1
        self._explicitly_closed = False
        self._default_session = self.as_default()
        self._default_session.__enter__()
        self._default_graph = None
        if graph is not None:
            self._default_graph = graph.as_default()
            self._default_graph.__enter__()

    def close(self) -> None:
        """Closes the session and removes it (and its explicit graph) from the defaults."""
        super().close()
        with InteractiveSession._count_lock:
            if self._explicitly_closed:
                return
            InteractiveSession._active_session_count -= 1
            self._explicitly_closed = True
        if self._default_graph is not None:
            self._default_graph.__exit__(None, None, None)
            self._default_graph = None
        self._default_session.__exit__(None, None, None)
        self._default_session = None
