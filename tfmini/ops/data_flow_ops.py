"""Queues, TF1's input-pipeline buffers: the FIFOQueueV2 / RandomShuffleQueueV2 / PaddingFIFOQueueV2 resources,
the ops that enqueue to, dequeue from, close and measure them, and the Python classes over them (`tf.QueueBase`,
`tf.FIFOQueue`, `tf.RandomShuffleQueue`, `tf.PaddingFIFOQueue`).

A queue lives in the session's state (`ctx.resources`), so two sessions on one graph have separate queues. Ops
that cannot proceed (a dequeue from an empty queue, an enqueue into a full one) block until a run on another
thread makes room or adds elements, wake periodically to honour the run's deadline, and end with CancelledError
when the session closes."""

from __future__ import annotations

import collections
import hashlib
import heapq
import itertools
import threading
from collections.abc import Callable, Sequence

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops, random_ops, shape_fns

# How often a blocked op wakes up to check the run's deadline and cancellation (state changes wake it at once).
_POLL_SECONDS = 0.02

# Resource names of unshared queues, "_<n>_<op name>" as TF's resource manager makes them, numbered per process.
_queue_ids = itertools.count()


def _dims(shape: _shape.TensorShape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


class QueueResource:
    """One queue's run-time state in one session: the elements (tuples of arrays), whether it is closed, and
    the ops waiting on it. Waiting enqueues and dequeues are served in arrival order, as in TF; a dequeue of
    several elements takes them as they arrive, so it can ask for more than the capacity. Elements leave in
    arrival order, in random order (given `rng`), or by their first component, lowest first (`kind`
    PriorityQueue; equal priorities in arrival order)."""

    def __init__(self, kind: str, name: str, dtypes: list, shapes: list, capacity: int,
                 min_after_dequeue: int = 0, rng: np.random.Generator | None = None) -> None:
        self.kind = kind
        self.name = name
        self.dtypes = dtypes
        self.shapes = shapes
        self.capacity = capacity
        self.min_after_dequeue = min_after_dequeue
        self._rng = rng
        self._by_priority = kind == "PriorityQueue"
        self._items: collections.deque | list = [] if rng is not None or self._by_priority else collections.deque()
        self._arrivals = itertools.count()  # ties among equal priorities
        self._cond = threading.Condition()
        self._closed = False
        self._cancel_enqueues = False
        self._cancelled = False
        self._givers: collections.deque = collections.deque()
        self._takers: collections.deque = collections.deque()

    # -- state -------------------------------------------------------------------------------------------
    def size(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, cancel_pending_enqueues: bool) -> None:
        """No more enqueues; waiting enqueues still finish unless `cancel_pending_enqueues`."""
        with self._cond:
            self._closed = True
            if cancel_pending_enqueues:
                self._cancel_enqueues = True
            self._cond.notify_all()

    def cancel(self) -> None:
        """The session is closing: every waiting op and every later one ends with CancelledError."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def _wait(self, op, what: str, check_deadline: Callable) -> None:
        self._cond.wait(_POLL_SECONDS)
        if self._cancelled:
            raise _errors.CancelledError(None, op, f"{what} operation was cancelled")
        check_deadline(op)

    # -- enqueue -----------------------------------------------------------------------------------------
    def put(self, op, elements: list[tuple], check_deadline: Callable) -> None:
        """Appends `elements` in order, waiting for room when the queue is full."""
        with self._cond:
            if self._cancelled:
                raise _errors.CancelledError(None, op, "Enqueue operation was cancelled")
            if self._closed:
                raise _errors.CancelledError(None, op, f"{self.kind} '{self.name}' is closed.")
            token = object()
            self._givers.append(token)
            try:
                done = 0
                while True:
                    if self._givers[0] is token:
                        left = len(elements) - done
                        room = left if self.capacity < 0 else min(left, self.capacity - len(self._items))
                        if room > 0:
                            self._push(elements[done:done + room])
                            done += room
                            self._cond.notify_all()
                        if done == len(elements):
                            return
                    self._wait(op, "Enqueue", check_deadline)
                    if self._cancel_enqueues:
                        raise _errors.CancelledError(None, op, "Enqueue operation was cancelled")
            finally:
                self._givers.remove(token)
                self._cond.notify_all()

    # -- dequeue -----------------------------------------------------------------------------------------
    def _push(self, elements: list[tuple]) -> None:
        if self._by_priority:
            for e in elements:
                heapq.heappush(self._items, (int(e[0]), next(self._arrivals), e))
        else:
            self._items.extend(elements)

    def _pop(self, k: int) -> list[tuple]:
        items = self._items
        if self._by_priority:
            return [heapq.heappop(items)[2] for _ in range(k)]
        if self._rng is None:
            return [items.popleft() for _ in range(k)]
        taken = []
        for _ in range(k):
            i = int(self._rng.integers(len(items)))
            items[i], items[-1] = items[-1], items[i]
            taken.append(items.pop())
        return taken

    def _restore(self, held: list[tuple]) -> None:
        if self._rng is None and not self._by_priority:
            self._items.extendleft(reversed(held))
        else:
            self._push(held)

    def take(self, op, n: int, up_to: bool, check_deadline: Callable) -> list[tuple]:
        """Removes `n` elements, waiting for them. On a closed queue with too few, OutOfRangeError (the
        elements taken so far go back); with `up_to`, whatever is left (at least one)."""
        with self._cond:
            if self._cancelled:
                raise _errors.CancelledError(None, op, "Dequeue operation was cancelled")
            token = object()
            self._takers.append(token)
            held: list[tuple] = []
            try:
                while True:
                    if self._takers[0] is token:
                        floor = 0 if self._closed else self.min_after_dequeue
                        k = min(n - len(held), len(self._items) - floor)
                        if k > 0:
                            held.extend(self._pop(k))
                            self._cond.notify_all()
                        if len(held) == n:
                            return held
                        if self._closed:
                            if up_to and held:
                                return held
                            if not up_to or not self._givers:
                                self._restore(held)
                                held = []
                                raise _errors.OutOfRangeError(
                                    None, op, f"{self.kind} '{self.name}' is closed and has insufficient elements "
                                    f"(requested {n}, current size {len(self._items)})")
                    self._wait(op, "Dequeue", check_deadline)
            except BaseException:
                if held:
                    self._restore(held)
                raise
            finally:
                self._takers.remove(token)
                self._cond.notify_all()


# ----------------------------------------------------------------------------------------------------------
# The queue resources
# ----------------------------------------------------------------------------------------------------------
_QUEUE_ATTRS = {
    "component_types": ("list(type)", _reg.REQUIRED),
    "shapes": ("list(shape)", []),
    "capacity": ("int", -1),
    "container": ("string", ""),
    "shared_name": ("string", ""),
}
_KINDS = {"FIFOQueueV2": "FIFOQueue", "RandomShuffleQueueV2": "RandomShuffleQueue",
          "PaddingFIFOQueueV2": "PaddingFIFOQueue", "PriorityQueueV2": "PriorityQueue"}


def _declared(op) -> tuple[list, list]:
    """The component dtypes and shapes a queue op declares; a PriorityQueue's elements lead with their int64
    scalar priority, which its attrs leave out."""
    dtypes = [_dt.as_dtype(t) for t in op.get_attr("component_types")]
    shapes = [_shape.as_shape(s) for s in op.get_attr("shapes")]
    if op.type == "PriorityQueueV2":
        dtypes = [_dt.int64, *dtypes]
        shapes = [_shape.scalar(), *shapes] if shapes else shapes
    return dtypes, shapes


def _attr_str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _handle_array(queue: QueueResource) -> np.ndarray:
    handle = np.empty((), dtype=object)
    handle[()] = queue
    return handle


def _new_queue(op, kind: str, dtypes: list, shapes: list, capacity: int) -> QueueResource:
    if kind == "RandomShuffleQueue":
        min_after = op.get_attr("min_after_dequeue")
        if capacity >= 0 and min_after >= capacity:
            raise _errors.InvalidArgumentError(
                None, op, f"min_after_dequeue {min_after} must be < capacity {capacity}")
        seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
        rng = np.random.default_rng(None if seed == 0 and seed2 == 0 else [seed, seed2])
        return QueueResource(kind, "", dtypes, shapes, capacity, max(0, min_after), rng)
    if kind in ("PaddingFIFOQueue", "PriorityQueue") and len(shapes) != len(dtypes):
        raise _errors.InvalidArgumentError(
            None, op, f"Shapes must be provided for all components, but received {len(dtypes)} dtypes and "
            f"{len(shapes)} shapes.")
    return QueueResource(kind, "", dtypes, shapes, capacity)


def _check_shared(op, queue: QueueResource, kind: str, dtypes: list, shapes: list, capacity: int) -> None:
    """A shared queue found under its name must be what this op declares (TF's InvalidArgumentErrors)."""
    name = queue.name
    if queue.kind != kind:
        raise _errors.InvalidArgumentError(None, op, f"Shared queue '{name}' is a {queue.kind}, not a {kind}")
    if queue.capacity != capacity:
        raise _errors.InvalidArgumentError(
            None, op, f"Shared queue '{name}' has capacity {queue.capacity} but requested capacity was {capacity}")
    if queue.dtypes != dtypes:
        have = ", ".join(d.name for d in queue.dtypes)
        want = ", ".join(d.name for d in dtypes)
        raise _errors.InvalidArgumentError(
            None, op, f"Shared queue '{name}' has component types {have} but requested component types were {want}")
    if shapes and [s.as_list() for s in queue.shapes] != [s.as_list() for s in shapes]:
        raise _errors.InvalidArgumentError(
            None, op, f"Shared queue '{name}' has component shapes {[_dims(s) for s in queue.shapes]} but "
            f"requested component shapes were {[_dims(s) for s in shapes]}")


def _queue_factory(op, ctx) -> Callable:
    """The queue op finds its queue in the session's resources (created on first run) and outputs a handle
    to it."""
    kind = _KINDS[op.type]
    dtypes, shapes = _declared(op)
    capacity = op.get_attr("capacity")
    shared = _attr_str(op.get_attr("shared_name"))
    key = ("queue", _attr_str(op.get_attr("container")), shared) if shared else ("queue", op)

    def queue_handle():
        queue = ctx.resources.get(key)
        if queue is None:
            with ctx.lock:
                if getattr(ctx, "closed", False):
                    raise _errors.CancelledError(None, op, "Session has been closed.")
                queue = ctx.resources.get(key)
                if queue is None:
                    queue = _new_queue(op, kind, dtypes, shapes, capacity)
                    queue.name = shared or f"_{next(_queue_ids)}_{op.name}"
                    ctx.resources[key] = queue
                    return _handle_array(queue)
        if shared:
            _check_shared(op, queue, kind, dtypes, shapes, capacity)
        return _handle_array(queue)

    return queue_handle


for _op_type in ("FIFOQueueV2", "PaddingFIFOQueueV2"):
    register_op(_op_type, outputs=["handle: resource"], attrs=dict(_QUEUE_ATTRS), stateful=True,
                shape=shape_fns.scalar, factory=_queue_factory)
# TF's PriorityQueueV2 may hold priorities only (component_types defaults to []) and must say its shapes.
register_op("PriorityQueueV2", outputs=["handle: resource"],
            attrs={**_QUEUE_ATTRS, "component_types": ("list(type)", []), "shapes": ("list(shape)", _reg.REQUIRED)},
            stateful=True, shape=shape_fns.scalar, factory=_queue_factory)
register_op("RandomShuffleQueueV2", outputs=["handle: resource"],
            attrs={**_QUEUE_ATTRS, "min_after_dequeue": ("int", 0), "seed": ("int", 0), "seed2": ("int", 0)},
            stateful=True, shape=shape_fns.scalar, factory=_queue_factory)


# ----------------------------------------------------------------------------------------------------------
# Enqueue
# ----------------------------------------------------------------------------------------------------------
def _queue_of(handle) -> QueueResource:
    queue = handle.item() if isinstance(handle, np.ndarray) else handle
    if not isinstance(queue, QueueResource):
        raise _errors.InvalidArgumentError(None, None, "The handle does not refer to a queue.")
    return queue


def _check_types(op, queue: QueueResource, types) -> None:
    if list(types) != queue.dtypes:
        have = ", ".join(d.name for d in types)
        want = ", ".join(d.name for d in queue.dtypes)
        raise _errors.InvalidArgumentError(
            None, op, f"Type mismatch in the components given to {queue.kind} '{queue.name}': expected [{want}], "
            f"got [{have}]")


def _owned(value) -> np.ndarray:
    """The queue's own copy of an enqueued value (it may be a fed array or a variable's storage)."""
    return np.array(value, copy=True)


def _check_component_shape(op, queue: QueueResource, i: int, shape: tuple, batch: int | None) -> None:
    if not queue.shapes:
        return
    want = queue.shapes[i]
    if batch is not None:
        want = _shape.TensorShape([batch]).concatenate(want)
    if not want.is_compatible_with(_shape.TensorShape(list(shape))):
        raise _errors.InvalidArgumentError(
            None, op, f"Shape mismatch in tuple component {i}. Expected {_dims(want)}, got "
            f"{_dims(_shape.TensorShape(list(shape)))}")


def _enqueue_factory(op, ctx) -> Callable:
    types = [_dt.as_dtype(t) for t in op.get_attr("Tcomponents")]
    check_deadline = ctx.check_deadline

    def enqueue(handle, *components):
        queue = _queue_of(handle)
        _check_types(op, queue, types)
        values = [np.asarray(c) for c in components]
        for i, v in enumerate(values):
            _check_component_shape(op, queue, i, v.shape, None)
        queue.put(op, [tuple(_owned(v) for v in values)], check_deadline)

    return enqueue


def _enqueue_many_factory(op, ctx) -> Callable:
    types = [_dt.as_dtype(t) for t in op.get_attr("Tcomponents")]
    check_deadline = ctx.check_deadline

    def enqueue_many(handle, *components):
        queue = _queue_of(handle)
        _check_types(op, queue, types)
        values = [_owned(c) for c in components]
        for i, v in enumerate(values):
            if v.ndim == 0:
                raise _errors.InvalidArgumentError(
                    None, op, f"Component {i} of an EnqueueMany must have at least one dimension (the batch), "
                    "got a scalar")
        n = values[0].shape[0]
        for i, v in enumerate(values):
            if v.shape[0] != n:
                raise _errors.InvalidArgumentError(
                    None, op, "All input tensors must have the same size in the 0th dimension. Component "
                    f"{i} has {v.shape[0]}, and should have {n}")
            _check_component_shape(op, queue, i, v.shape, n)
        queue.put(op, list(zip(*values)) if n else [], check_deadline)

    return enqueue_many


for _op_type, _factory in (("QueueEnqueueV2", _enqueue_factory), ("QueueEnqueueManyV2", _enqueue_many_factory)):
    register_op(_op_type, inputs=["handle: resource", "components: Tcomponents"],
                attrs={"Tcomponents": ("list(type)", _reg.REQUIRED), "timeout_ms": ("int", -1)},
                stateful=True, factory=_factory)


# ----------------------------------------------------------------------------------------------------------
# Dequeue
# ----------------------------------------------------------------------------------------------------------
def _queue_shapes(op) -> list | None:
    """The component shapes the queue behind `op`'s handle declares, when the handle comes from a queue op."""
    source = op.inputs[0].op
    if source.type in _KINDS:
        shapes = _declared(source)[1]
        if shapes:
            return shapes
    return None


def _dequeue_shapes(op) -> list:
    shapes = _queue_shapes(op)
    n_out = len(op.outputs)
    if shapes is None or len(shapes) != n_out:
        return [_shape.unknown_shape()] * n_out
    if op.type == "QueueDequeueV2":
        return shapes
    if op.type == "QueueDequeueManyV2":
        n = _reg.constant_value(op.inputs[1])
        if n is not None and int(n) < 0:
            raise ValueError(f"Input 'n' must be >= 0, but is {int(n)}")
        batch = _shape.TensorShape([None if n is None else int(n)])
    else:
        batch = _shape.TensorShape([None])
    return [batch.concatenate(s) for s in shapes]


def _stack(queue: QueueResource, elements: list[tuple], i: int) -> np.ndarray:
    """Component `i` of `elements` as one batch (padded with zeros / empty strings in a PaddingFIFOQueue)."""
    dtype = queue.dtypes[i].as_numpy_dtype
    parts = [e[i] for e in elements]
    if queue.kind != "PaddingFIFOQueue":
        if not parts:
            return np.zeros((0, *queue.shapes[i].as_list()), dtype=dtype)
        return np.stack(parts)
    declared = queue.shapes[i].as_list()
    if parts:
        dims = [max(p.shape[d] for p in parts) for d in range(len(declared))]
    else:
        dims = [0 if d is None else d for d in declared]
    out = np.full((len(parts), *dims), b"" if queue.dtypes[i] == _dt.string else 0, dtype=dtype)
    for k, p in enumerate(parts):
        out[(k, *(slice(0, s) for s in p.shape))] = p
    return out


def _dequeue_factory(op, ctx) -> Callable:
    check_deadline = ctx.check_deadline
    many = op.type != "QueueDequeueV2"
    up_to = op.type == "QueueDequeueUpToV2"
    types = [_dt.as_dtype(t) for t in op.get_attr("component_types")]

    def dequeue(handle, n=None):
        queue = _queue_of(handle)
        _check_types(op, queue, types)
        if not many:
            return list(queue.take(op, 1, False, check_deadline)[0])
        n = int(n)
        if n < 0:
            raise _errors.InvalidArgumentError(None, op, f"Request of {n} elements is negative")
        if queue.kind != "PaddingFIFOQueue" and (
                len(queue.shapes) != len(types) or not all(s.is_fully_defined() for s in queue.shapes)):
            raise _errors.InvalidArgumentError(
                None, op, f"{queue.kind}'s DequeueMany and DequeueUpTo require the components to have specified "
                "shapes.")
        elements = queue.take(op, n, up_to, check_deadline)
        return [_stack(queue, elements, i) for i in range(len(types))]

    return dequeue


_DEQUEUE_ATTRS = {"component_types": ("list(type)", _reg.REQUIRED), "timeout_ms": ("int", -1)}
register_op("QueueDequeueV2", inputs=["handle: resource"], outputs=["components: component_types"],
            attrs=dict(_DEQUEUE_ATTRS), stateful=True, shape=_dequeue_shapes, factory=_dequeue_factory)
for _op_type in ("QueueDequeueManyV2", "QueueDequeueUpToV2"):
    register_op(_op_type, inputs=["handle: resource", "n: int32"], outputs=["components: component_types"],
                attrs=dict(_DEQUEUE_ATTRS), stateful=True, shape=_dequeue_shapes, factory=_dequeue_factory)


# ----------------------------------------------------------------------------------------------------------
# Close, size, is_closed
# ----------------------------------------------------------------------------------------------------------
@register_op("QueueCloseV2", inputs=["handle: resource"], attrs={"cancel_pending_enqueues": ("bool", False)},
             stateful=True)
def _queue_close(handle, *, cancel_pending_enqueues):
    _queue_of(handle).close(bool(cancel_pending_enqueues))


@register_op("QueueSizeV2", inputs=["handle: resource"], outputs=["size: int32"], stateful=True,
             shape=shape_fns.scalar)
def _queue_size(handle):
    return np.int32(_queue_of(handle).size())


@register_op("QueueIsClosedV2", inputs=["handle: resource"], outputs=["is_closed: bool"], stateful=True,
             shape=shape_fns.scalar)
def _queue_is_closed(handle):
    return np.bool_(_queue_of(handle).closed)


for _op_type in (*_KINDS, "QueueEnqueueV2", "QueueEnqueueManyV2", "QueueDequeueV2", "QueueDequeueManyV2",
                 "QueueDequeueUpToV2", "QueueCloseV2", "QueueSizeV2", "QueueIsClosedV2"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# The Python classes
# ----------------------------------------------------------------------------------------------------------
def _as_type_list(dtypes) -> list[_dt.DType]:
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes]
    return [_dt.as_dtype(t) for t in dtypes]


def _as_shape_list(shapes, dtypes: list, unknown_dim_allowed: bool = False,
                   unknown_rank_allowed: bool = False) -> list[_shape.TensorShape] | None:
    """`shapes` as one TensorShape per component (a single shape may be given bare), or None."""
    del dtypes
    if shapes is None:
        return None
    if isinstance(shapes, _shape.TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (tuple, list)):
        raise TypeError("shapes must be a TensorShape or a list or tuple of TensorShapes.")
    if all(s is None or isinstance(s, (int, np.integer)) for s in shapes):
        shapes = [shapes]
    shapes = [_shape.as_shape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes):
        raise ValueError(f"All shapes must be fully defined: {shapes}")
    if not unknown_rank_allowed and any(s.ndims is None for s in shapes):
        raise ValueError(f"All shapes must have a defined rank: {shapes}")
    return shapes


def _as_name_list(names, dtypes: list) -> list | None:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtypes):
        raise ValueError("List of names must have the same length as the list of dtypes")
    return list(names)


def _shape_list_for(shapes, dtypes: list) -> list[_shape.TensorShape]:
    if shapes is None:
        return [_shape.unknown_shape() for _ in dtypes]
    if len(shapes) != len(dtypes):
        raise ValueError("Queue shapes must have the same length as dtypes")
    return list(shapes)


@tf_export("QueueBase", "io.QueueBase", "queue.QueueBase")
class QueueBase:
    """`tf.QueueBase`: a queue in the graph, reached through its resource handle `queue_ref`. Elements are
    tuples of tensors (dicts when the queue has `names`) of the queue's dtypes and, where given, shapes."""

    def __init__(self, dtypes, shapes, names, queue_ref) -> None:
        self._dtypes = list(dtypes)
        self._shapes = _shape_list_for(shapes, self._dtypes)
        if names is not None and len(names) != len(self._dtypes):
            raise ValueError("Queue names must have the same length as dtypes")
        self._names = names
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def from_list(index, queues: Sequence[QueueBase]) -> QueueBase:
        """A queue that stands for `queues[index]` (index a scalar int32 tensor); the queues must have the same
        dtypes, names and (where known) compatible shapes."""
        if not queues or not isinstance(queues, (list, tuple)) or not all(isinstance(q, QueueBase) for q in queues):
            raise TypeError("A list of queues expected")
        dtypes = queues[0].dtypes
        if not all(q.dtypes == dtypes for q in queues[1:]):
            raise TypeError("Queues do not have matching component dtypes.")
        names = queues[0].names
        if not all(q.names == names for q in queues[1:]):
            raise TypeError("Queues do not have matching component names.")
        shapes = [_shape.unknown_shape() if s.ndims is None else s for s in queues[0].shapes]
        for q in queues[1:]:
            shapes = [_common_shape(a, b) for a, b in zip(shapes, q.shapes)]
        handles = array_ops.stack([q.queue_ref for q in queues], name="queue_refs")
        selected = array_ops.gather(handles, index)
        return QueueBase(dtypes=dtypes, shapes=shapes, names=names, queue_ref=selected)

    # -- properties ----------------------------------------------------------------------------------------
    @property
    def queue_ref(self) -> _ops.Tensor:
        """The underlying queue's resource handle."""
        return self._queue_ref

    @property
    def name(self) -> str:
        """The name of the underlying queue (its op's name)."""
        return self._queue_ref.op.name

    @property
    def dtypes(self) -> list[_dt.DType]:
        return self._dtypes

    @property
    def shapes(self) -> list[_shape.TensorShape]:
        return self._shapes

    @property
    def names(self) -> list | None:
        return self._names

    # -- enqueue -------------------------------------------------------------------------------------------
    def _check_enqueue_dtypes(self, vals) -> list[_ops.Tensor]:
        """`vals` (a tensor, list, tuple or dict by name) as one tensor per component, converted to the
        queue's dtypes."""
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError("Keys in dictionary to enqueue do not match names of Queue.  Dictionary: "
                                 f"{sorted(vals.keys())},Queue: {sorted(self._names)}")
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        tensors = []
        for i, (val, dtype) in enumerate(zip(vals, self._dtypes)):
            tensors.append(_ops.convert_to_tensor(val, dtype=dtype, name=f"component_{i}"))
        return tensors

    @staticmethod
    def _scope_vals(vals) -> list:
        if isinstance(vals, (list, tuple)):
            return list(vals)
        if isinstance(vals, dict):
            return list(vals.values())
        return [vals]

    def enqueue(self, vals, name=None) -> _ops.Operation:
        """Adds one element; at run time it waits while the queue is full, and fails with CancelledError
        once the queue is closed."""
        with _ops.name_scope(name, f"{self._name}_enqueue", self._scope_vals(vals)) as scope:
            vals = self._check_enqueue_dtypes(vals)
            for val, shape in zip(vals, self._shapes):
                val.shape.assert_is_compatible_with(shape)
            return apply_op("QueueEnqueueV2", [self._queue_ref, vals], name=scope)

    def enqueue_many(self, vals, name=None) -> _ops.Operation:
        """Adds the elements that slicing every component along dimension 0 gives (all components must have
        the same size there)."""
        with _ops.name_scope(name, f"{self._name}_EnqueueMany", self._scope_vals(vals)) as scope:
            vals = self._check_enqueue_dtypes(vals)
            batch_dim = _shape.Dimension(None)
            for val, shape in zip(vals, self._shapes):
                val_shape = val.shape.with_rank_at_least(1)
                if val_shape.ndims is None:
                    continue
                batch_dim = batch_dim.merge_with(val_shape.dims[0])
                _shape.TensorShape(val_shape.dims[1:]).assert_is_compatible_with(shape)
            return apply_op("QueueEnqueueManyV2", [self._queue_ref, vals], name=scope)

    # -- dequeue -------------------------------------------------------------------------------------------
    def _dequeue_return_value(self, tensors: list):
        if self._names:
            return dict(zip(self._names, tensors))
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def _dequeue_op(self, op_type: str, inputs: list, name: str):
        return apply_op(op_type, [self._queue_ref, *inputs], {"component_types": self._dtypes}, name=name)

    def dequeue(self, name=None):
        """Removes and returns one element; at run time it waits while the queue is empty, and fails with
        OutOfRangeError once the queue is closed and empty."""
        op = self._dequeue_op("QueueDequeueV2", [], name or f"{self._name}_Dequeue")
        for output, shape in zip(op.outputs, self._shapes):
            output.set_shape(shape)
        return self._dequeue_return_value(list(op.outputs))

    def dequeue_many(self, n, name=None):
        """Removes `n` elements and returns them batched along a new dimension 0; OutOfRangeError once the
        queue is closed with fewer than `n` left."""
        op = self._dequeue_op("QueueDequeueManyV2", [n], name or f"{self._name}_DequeueMany")
        n_static = _reg.constant_value(op.inputs[1])
        batch = _shape.TensorShape([None if n_static is None else int(n_static)])
        for output, shape in zip(op.outputs, self._shapes):
            output.set_shape(batch.concatenate(shape))
        return self._dequeue_return_value(list(op.outputs))

    def dequeue_up_to(self, n, name=None):
        """Like `dequeue_many`, but once the queue is closed it returns what is left (fewer than `n`, at least
        one) before failing with OutOfRangeError."""
        op = self._dequeue_op("QueueDequeueUpToV2", [n], name or f"{self._name}_DequeueUpTo")
        for output, shape in zip(op.outputs, self._shapes):
            output.set_shape(_shape.TensorShape([None]).concatenate(shape))
        return self._dequeue_return_value(list(op.outputs))

    # -- close, state ----------------------------------------------------------------------------------------
    def close(self, cancel_pending_enqueues: bool = False, name=None) -> _ops.Operation:
        """Closes the queue: later enqueues fail; waiting enqueues finish unless `cancel_pending_enqueues`
        (then they fail with CancelledError); dequeues drain what is left."""
        return apply_op("QueueCloseV2", [self._queue_ref], {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                        name=name or f"{self._name}_Close")

    def is_closed(self, name=None) -> _ops.Tensor:
        """A bool tensor: whether the queue is closed."""
        return apply_op("QueueIsClosedV2", [self._queue_ref], name=name or f"{self._name}_Is_Closed").outputs[0]

    def size(self, name=None) -> _ops.Tensor:
        """An int32 tensor: the number of elements in the queue."""
        return apply_op("QueueSizeV2", [self._queue_ref], name=name or f"{self._name}_Size").outputs[0]


def _common_shape(a: _shape.TensorShape, b: _shape.TensorShape) -> _shape.TensorShape:
    """The most specific shape both `a` and `b` satisfy (unknown where they differ)."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return _shape.unknown_shape()
    return _shape.TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def _queue_attrs(dtypes: list, shapes: list | None, capacity, shared_name) -> dict:
    return {"component_types": dtypes, "shapes": shapes or [], "capacity": int(capacity),
            "shared_name": shared_name or ""}


@tf_export("FIFOQueue", "queue.FIFOQueue")
class FIFOQueue(QueueBase):
    """`tf.FIFOQueue`: dequeues elements in the order they were enqueued."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue") -> None:
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        ref = apply_op("FIFOQueueV2", [], _queue_attrs(dtypes, shapes, capacity, shared_name), name=name).outputs[0]
        super().__init__(dtypes, shapes, names, ref)


@tf_export("PaddingFIFOQueue", "io.PaddingFIFOQueue", "queue.PaddingFIFOQueue")
class PaddingFIFOQueue(QueueBase):
    """`tf.PaddingFIFOQueue`: a FIFOQueue whose shapes may have unknown dimensions; `dequeue_many` pads each
    component to the largest size in the batch with zeros (empty strings for strings)."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None, name="padding_fifo_queue") -> None:
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes, unknown_dim_allowed=True)
        names = _as_name_list(names, dtypes)
        if len(dtypes) != len(shapes):
            raise ValueError(f"Shapes must be provided for all components, but received {len(dtypes)} dtypes and "
                             f"{len(shapes)} shapes.")
        ref = apply_op("PaddingFIFOQueueV2", [], _queue_attrs(dtypes, shapes, capacity, shared_name),
                       name=name).outputs[0]
        super().__init__(dtypes, shapes, names, ref)


@tf_export("PriorityQueue", "io.PriorityQueue", "queue.PriorityQueue")
class PriorityQueue(QueueBase):
    """`tf.PriorityQueue`: every element leads with an int64 scalar priority; dequeues take the lowest
    priority first. `shapes` (of the other components) are required; `names`, when given, name every
    component including the priority."""

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None, name="priority_queue") -> None:
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes, types)
        if shapes is None:
            raise TypeError("Expected list for 'shapes' argument to 'PriorityQueueV2' Op, not None.")
        ref = apply_op("PriorityQueueV2", [], _queue_attrs(types, shapes, capacity, shared_name), name=name).outputs[0]
        super().__init__([_dt.int64, *types], [_shape.scalar(), *shapes], names, ref)


_MAXINT31 = 0x7FFFFFFF


@tf_export("RandomShuffleQueue", "io.RandomShuffleQueue", "queue.RandomShuffleQueue")
class RandomShuffleQueue(QueueBase):
    """`tf.RandomShuffleQueue`: dequeues elements in a random order, keeping at least `min_after_dequeue`
    elements in the queue until it is closed (so a dequeue mixes them well)."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None, shared_name=None,
                 name="random_shuffle_queue") -> None:
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = random_ops.get_seed(seed)
        if seed1 is None and seed2 is None:
            seed1, seed2 = 0, 0
        elif seed is None and shared_name is not None:
            # A graph seed but no op seed: queues sharing a name must shuffle alike whatever their op count,
            # so the op seed is derived from the shared name.
            digest = hashlib.md5((str(seed1) + shared_name).encode("utf-8")).hexdigest()  # noqa: S324
            seed2 = int(digest[:8], 16) & _MAXINT31
        attrs = _queue_attrs(dtypes, shapes, capacity, shared_name)
        attrs.update(min_after_dequeue=int(min_after_dequeue), seed=int(seed1), seed2=int(seed2))
        ref = apply_op("RandomShuffleQueueV2", [], attrs, name=name).outputs[0]
        super().__init__(dtypes, shapes, names, ref)


__all__ = ["FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "QueueResource", "RandomShuffleQueue"]
