"""TF1's queue-based input pipeline builders (`tf.train.batch`, `shuffle_batch`, their `_join` forms,
`string_input_producer`, `range_input_producer`, `slice_input_producer`, `input_producer`, `limit_epochs`):
each builds a queue, the ops that fill it and a QueueRunner (in the graph's QUEUE_RUNNERS collection) that runs
them in threads once `tf.train.start_queue_runners` is called. As in TF, each adds a scalar summary of how full
its queue is (`fraction_of_N_full`) to GraphKeys.SUMMARIES."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import array_ops, control_flow_ops, io_ops, math_ops, random_ops, summary_ops, variables
from tfmini.ops.data_flow_ops import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue
from tfmini.train.queue_runner_impl import QueueRunner, add_queue_runner


# ----------------------------------------------------------------------------------------------------------
# Producers
# ----------------------------------------------------------------------------------------------------------
@tf_export("io.match_filenames_once", "train.match_filenames_once")
def match_filenames_once(pattern, name=None) -> variables.Variable:
    """A local variable holding the file names `pattern` (a glob) matches, computed when it is initialized
    (`tf.local_variables_initializer()`)."""
    with _ops.name_scope(name, "matching_filenames", [pattern]) as scope:
        return variables.Variable(name=scope, initial_value=io_ops.matching_files(pattern), trainable=False,
                                  validate_shape=False, collections=[_ops.GraphKeys.LOCAL_VARIABLES])


@tf_export("train.limit_epochs")
def limit_epochs(tensor, num_epochs=None, name=None) -> _ops.Tensor:
    """`tensor`, which after `num_epochs` evaluations fails with OutOfRangeError (a local int64 variable
    `epochs` counts them, so run `tf.local_variables_initializer()` first). None: no limit."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    with _ops.name_scope(name, "limit_epochs", [tensor]) as scope:
        zero64 = _ops.convert_to_tensor(0, dtype=_dt.int64)
        epochs = variables.Variable(zero64, name="epochs", trainable=False,
                                    collections=[_ops.GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with _ops.control_dependencies([counter]):
            return array_ops.identity(tensor, name=scope)


@tf_export("train.input_producer")
def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle: bool = True, seed=None,
                   capacity: int = 32, shared_name=None, summary_name=None, name=None, cancel_op=None) -> FIFOQueue:
    """A FIFOQueue that a QueueRunner fills with the rows of `input_tensor` (shuffled per epoch when `shuffle`),
    `num_epochs` times (forever when None). With `summary_name`, a scalar summary of how full the queue is."""
    with _ops.name_scope(name, "input_producer", [input_tensor]):
        input_tensor = _ops.convert_to_tensor(input_tensor, name="input_tensor")
        in_shape = input_tensor.shape
        rows = _shape.unknown_shape() if in_shape.ndims is None else _shape.TensorShape(in_shape.dims[1:])
        element_shape = rows.merge_with(_shape.as_shape(element_shape) if element_shape is not None
                                        else _shape.unknown_shape())
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or `element_shape` must be "
                             "specified")
        if shuffle:
            input_tensor = random_ops.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        queue = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype], shapes=[element_shape],
                          shared_name=shared_name, name=name)
        enqueue = queue.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(queue, [enqueue], cancel_op=cancel_op))
        if summary_name is not None:
            _fullness_summary(summary_name, queue.size(), capacity)
        return queue


@tf_export("train.string_input_producer")
def string_input_producer(string_tensor, num_epochs=None, shuffle: bool = True, seed=None, capacity: int = 32,
                          shared_name=None, name=None, cancel_op=None) -> FIFOQueue:
    """A queue of the strings of the 1-D `string_tensor` (typically file names), `num_epochs` times."""
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, _ops.Tensor) and not _non_empty(string_tensor):
        raise ValueError(not_null_err)
    with _ops.name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = _ops.convert_to_tensor(string_tensor, dtype=_dt.string)
        check = control_flow_ops.Assert(math_ops.greater(array_ops.size(string_tensor), 0), [not_null_err])
        with _ops.control_dependencies([check]):
            string_tensor = array_ops.identity(string_tensor)
        return input_producer(input_tensor=string_tensor, element_shape=[], num_epochs=num_epochs, shuffle=shuffle,
                              seed=seed, capacity=capacity, shared_name=shared_name, name=scope,
                              summary_name=f"fraction_of_{capacity}_full", cancel_op=cancel_op)


def _non_empty(value) -> bool:
    try:
        return len(value) > 0
    except TypeError:
        return bool(value)


@tf_export("train.range_input_producer")
def range_input_producer(limit, num_epochs=None, shuffle: bool = True, seed=None, capacity: int = 32,
                         shared_name=None, name=None) -> FIFOQueue:
    """A queue of the integers 0 .. limit-1, `num_epochs` times."""
    with _ops.name_scope(name, "input_producer", [limit]) as scope:
        range_tensor = array_ops.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              f"fraction_of_{capacity}_full", scope)


@tf_export("train.slice_input_producer")
def slice_input_producer(tensor_list, num_epochs=None, shuffle: bool = True, seed=None, capacity: int = 32,
                         shared_name=None, name=None) -> list[_ops.Tensor]:
    """One row of every tensor of `tensor_list` (the same row of each) per evaluation, each row `num_epochs`
    times; rows come from a range_input_producer of row indices."""
    with _ops.name_scope(name, "input_producer", list(tensor_list)):
        tensors = [_ops.convert_to_tensor(t) for t in tensor_list]
        if not tensors:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = array_ops.shape(tensors[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [array_ops.gather(t, index) for t in tensors]


# ----------------------------------------------------------------------------------------------------------
# Batching
# ----------------------------------------------------------------------------------------------------------
def _as_tensor_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    return tensors


def _as_tensor_list_list(tensors_list):
    if not tensors_list:
        raise ValueError("Expected at least one set of tensors")
    if isinstance(tensors_list[0], dict):
        expected = set(tensors_list[0].keys())
        result = []
        for tensors in tensors_list:
            if set(tensors.keys()) != expected:
                raise ValueError("All dictionaries in tensors_list must have the same keys")
            result.append(_as_tensor_list(tensors))
        return result
    return tensors_list


def _as_original_type(original, dequeued):
    """The dequeued tensors in the caller's structure: a dict by key for a dict; otherwise as dequeued (one
    tensor for one component, else a list), as TF returns them."""
    if isinstance(original, dict):
        if len(original) == 1:
            dequeued = [dequeued]
        return {k: dequeued[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list, what: str) -> list[_ops.Tensor]:
    """The tensors to batch, converted; SparseTensors are refused (see the module's note)."""
    tensor_list = _flat(tensor_list)
    for t in tensor_list:
        if isinstance(t, SparseTensor):
            raise TypeError(f"{what} does not batch SparseTensors in tfmini (TF stores them in a SparseTensorsMap); "
                            "batch their dense components instead")
    tensors = [_ops.convert_to_tensor(t) for t in tensor_list]
    if not tensors:
        raise ValueError(f"Expected at least one tensor in {what}.")
    return tensors


def _dtypes(tensor_list_list) -> list[_dt.DType]:
    types = [t.dtype.base_dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        other_types = [t.dtype.base_dtype for t in other]
        if other_types != types:
            raise TypeError(f"Expected types to be consistent: {', '.join(t.name for t in types)} vs. "
                            f"{', '.join(t.name for t in other_types)}.")
    return types


def _merge_shapes(shapes: list, enqueue_many: bool) -> list:
    shapes = [_shape.as_shape(s) for s in shapes]
    if enqueue_many:
        shapes = [_shape.TensorShape(s.with_rank_at_least(1).dims[1:]) for s in shapes]
    merged = shapes[0]
    for s in shapes[1:]:
        merged = merged.merge_with(s)
    return merged.as_list()


def _shapes(tensor_list_list, shapes, enqueue_many: bool):
    if shapes is None:
        n = len(tensor_list_list[0])
        for tl in tensor_list_list:
            for i in range(n):
                if tl[i].shape.ndims is None:
                    raise ValueError(f"Cannot infer Tensor's rank: {tl[i]}")
        shapes = [_merge_shapes([tl[i].shape for tl in tensor_list_list], enqueue_many) for i in range(n)]
    return shapes


def _validate_keep_input(keep_input, enqueue_many: bool) -> _ops.Tensor:
    keep_input = _ops.convert_to_tensor(keep_input, dtype=_dt.bool_)
    ndims = keep_input.shape.ndims
    if ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _enqueue_ops(queue, tensor_list_list, enqueue_many: bool, keep_input: _ops.Tensor) -> list[_ops.Operation]:
    """One enqueue op per tensor list, enqueuing only what `keep_input` keeps: per example for a vector
    (with `enqueue_many`), all or nothing for a scalar (decided at build time when it is a constant)."""
    enqueue = queue.enqueue_many if enqueue_many else queue.enqueue
    if keep_input.shape.ndims == 1:
        return [enqueue([array_ops.boolean_mask(t, keep_input) for t in tl]) for tl in tensor_list_list]
    known = _reg.constant_value(keep_input)
    if known is not None:
        return [enqueue(tl) if bool(known) else control_flow_ops.no_op() for tl in tensor_list_list]
    return [control_flow_ops.cond(keep_input, lambda tl=tl: enqueue(tl), control_flow_ops.no_op).op
            for tl in tensor_list_list]


def _fullness_summary(name: str, filled: _ops.Tensor, capacity: int) -> None:
    """TF's summary of a queue's fill level: `filled` (the queue's size, or what is above min_after_dequeue)
    as a fraction of `capacity`."""
    summary_ops.scalar(name, math_ops.cast(filled, _dt.float32) * (1.0 / capacity))


def _dequeue(queue, batch_size, allow_smaller_final_batch: bool, name: str):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _batch(tensor_list_list, keep_input, batch_size, num_threads: int, capacity: int, enqueue_many: bool, shapes,
           dynamic_pad: bool, allow_smaller_final_batch: bool, shared_name, scope: str, join: bool):
    keep_input = _validate_keep_input(keep_input, enqueue_many)
    types = _dtypes(tensor_list_list)
    shapes = _shapes(tensor_list_list, shapes, enqueue_many)
    queue_class = PaddingFIFOQueue if dynamic_pad else FIFOQueue
    queue = queue_class(capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
    ops_ = _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input)
    # Without join, `num_threads` threads run the same enqueue op, as in TF.
    add_queue_runner(QueueRunner(queue, ops_ if join else ops_ * num_threads))
    _fullness_summary(f"fraction_of_{capacity}_full", queue.size(), capacity)
    return _dequeue(queue, batch_size, allow_smaller_final_batch, scope)


def _single(tensors, keep_input, build, name, default_name: str):
    """Runs `build(tensor_lists, keep_input, scope, join=False)` for one list (or dict) of tensors, in TF's name
    scope, and returns the batch in the caller's structure."""
    tensor_list = _as_tensor_list(tensors)
    with _ops.name_scope(name, default_name, [*_flat(tensor_list), keep_input]) as scope:
        tensor_list = _validate(tensor_list, f"{default_name}()")
        return _as_original_type(tensors, build([tensor_list], keep_input, scope, False))


def _joined(tensors_list, keep_input, build, name, default_name: str):
    """Like `_single` for several lists of tensors (one enqueue op each)."""
    tensor_list_list = _as_tensor_list_list(tensors_list)
    values = [t for tl in tensor_list_list for t in _flat(tl)]
    with _ops.name_scope(name, default_name, [*values, keep_input]) as scope:
        tensor_list_list = [_validate(tl, f"{default_name}()") for tl in tensor_list_list]
        return _as_original_type(tensors_list[0], build(tensor_list_list, keep_input, scope, True))


@tf_export("train.batch")
def batch(tensors, batch_size, num_threads: int = 1, capacity: int = 32, enqueue_many: bool = False, shapes=None,
          dynamic_pad: bool = False, allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """Batches `tensors` (a list or dict) through a FIFOQueue (a PaddingFIFOQueue with `dynamic_pad`) that
    `num_threads` threads fill; returns the batch in the same structure. With `enqueue_many`, each tensor is
    already a batch of examples along dimension 0. `allow_smaller_final_batch` lets the last batch be short."""
    return maybe_batch(tensors, True, batch_size, num_threads, capacity, enqueue_many, shapes, dynamic_pad,
                       allow_smaller_final_batch, shared_name, name)


@tf_export("train.maybe_batch")
def maybe_batch(tensors, keep_input, batch_size, num_threads: int = 1, capacity: int = 32,
                enqueue_many: bool = False, shapes=None, dynamic_pad: bool = False,
                allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """`batch` that enqueues only when `keep_input` (a bool scalar; with `enqueue_many` also a vector, one per
    example) is true."""
    def build(lists, keep, scope, join):
        return _batch(lists, keep, batch_size, num_threads, capacity, enqueue_many, shapes, dynamic_pad,
                      allow_smaller_final_batch, shared_name, scope, join)

    return _single(tensors, keep_input, build, name, "batch")


@tf_export("train.batch_join")
def batch_join(tensors_list, batch_size, capacity: int = 32, enqueue_many: bool = False, shapes=None,
               dynamic_pad: bool = False, allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """Like `batch`, from several lists of tensors of the same types (one enqueue thread each), so a batch
    mixes examples read by several readers."""
    return maybe_batch_join(tensors_list, True, batch_size, capacity, enqueue_many, shapes, dynamic_pad,
                            allow_smaller_final_batch, shared_name, name)


@tf_export("train.maybe_batch_join")
def maybe_batch_join(tensors_list, keep_input, batch_size, capacity: int = 32, enqueue_many: bool = False,
                     shapes=None, dynamic_pad: bool = False, allow_smaller_final_batch: bool = False,
                     shared_name=None, name=None):
    """`batch_join` that enqueues only what `keep_input` keeps."""
    def build(lists, keep, scope, join):
        return _batch(lists, keep, batch_size, 1, capacity, enqueue_many, shapes, dynamic_pad,
                      allow_smaller_final_batch, shared_name, scope, join)

    return _joined(tensors_list, keep_input, build, name, "batch_join")


def _shuffle_batch(tensor_list_list, keep_input, batch_size, capacity: int, min_after_dequeue: int, num_threads: int,
                   seed, enqueue_many: bool, shapes, allow_smaller_final_batch: bool, shared_name, scope: str,
                   join: bool):
    if capacity <= min_after_dequeue:
        raise ValueError(f"capacity {capacity} must be bigger than min_after_dequeue {min_after_dequeue}.")
    keep_input = _validate_keep_input(keep_input, enqueue_many)
    types = _dtypes(tensor_list_list)
    shapes = _shapes(tensor_list_list, shapes, enqueue_many)
    queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed, dtypes=types,
                               shapes=shapes, shared_name=shared_name)
    ops_ = _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input)
    add_queue_runner(QueueRunner(queue, ops_ if join else ops_ * num_threads))
    above = math_ops.maximum(0, queue.size() - min_after_dequeue)
    _fullness_summary(f"fraction_over_{min_after_dequeue}_of_{capacity - min_after_dequeue}_full", above,
                      capacity - min_after_dequeue)
    return _dequeue(queue, batch_size, allow_smaller_final_batch, scope)


@tf_export("train.shuffle_batch")
def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads: int = 1, seed=None,
                  enqueue_many: bool = False, shapes=None, allow_smaller_final_batch: bool = False, shared_name=None,
                  name=None):
    """Batches `tensors` in random order through a RandomShuffleQueue that keeps at least `min_after_dequeue`
    examples to mix (until its input runs out)."""
    return maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, True, num_threads, seed,
                               enqueue_many, shapes, allow_smaller_final_batch, shared_name,
                               name)


@tf_export("train.maybe_shuffle_batch")
def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input, num_threads: int = 1,
                        seed=None, enqueue_many: bool = False, shapes=None, allow_smaller_final_batch: bool = False,
                        shared_name=None, name=None):
    """`shuffle_batch` that enqueues only what `keep_input` keeps."""
    def build(lists, keep, scope, join):
        return _shuffle_batch(lists, keep, batch_size, capacity, min_after_dequeue, num_threads, seed,
                              enqueue_many, shapes, allow_smaller_final_batch, shared_name, scope, join)

    return _single(tensors, keep_input, build, name, "shuffle_batch")


@tf_export("train.shuffle_batch_join")
def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None, enqueue_many: bool = False,
                       shapes=None, allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """Like `shuffle_batch`, from several lists of tensors of the same types (one enqueue thread each)."""
    return maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, True, seed,
                                    enqueue_many, shapes, allow_smaller_final_batch, shared_name,
                                    name)


@tf_export("train.maybe_shuffle_batch_join")
def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input, seed=None,
                             enqueue_many: bool = False, shapes=None, allow_smaller_final_batch: bool = False,
                             shared_name=None, name=None):
    """`shuffle_batch_join` that enqueues only what `keep_input` keeps."""
    def build(lists, keep, scope, join):
        return _shuffle_batch(lists, keep, batch_size, capacity, min_after_dequeue, 1, seed, enqueue_many,
                              shapes, allow_smaller_final_batch, shared_name, scope, join)

    return _joined(tensors_list, keep_input, build, name, "shuffle_batch_join")


def _flat(tensor_list) -> list:
    """`tensor_list` (a list or tuple of tensors) as a list; a bare tensor is refused, as TF cannot iterate it."""
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError(f"Expected a list, tuple or dict of tensors to batch, got {tensor_list!r}")
    return list(tensor_list)


__all__ = [
    "batch", "batch_join", "input_producer", "limit_epochs", "match_filenames_once", "maybe_batch", "maybe_batch_join",
    "maybe_shuffle_batch", "maybe_shuffle_batch_join", "range_input_producer", "shuffle_batch", "shuffle_batch_join",
    "slice_input_producer", "string_input_producer",
]
