"""The tf.data ops that call user code: MapDataset / ParallelMapDataset, FilterDataset, FlatMapDataset,
InterleaveDataset / ParallelInterleaveDatasetV2, whose functions are FuncGraphs run as sub-plans of the
session, and PyGeneratorDataset, which pulls elements from a Python generator at run time (behind
Dataset.from_generator). A function's captured outer tensors are the op's `other_arguments`, bound when the
dataset op runs (when an iterator is initialized)."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.numpy_values import to_numpy
from tfmini.framework.registry import REQUIRED, NotDifferentiable, import_only_attr, register_op
from tfmini.ops.dataset_ops import (
    AUTOTUNE,
    DatasetValue,
    ElementIterator,
    dims_str,
    read_only,
    register_dataset_op,
    scalar_int,
)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# Functions: the bodies of map, filter, flat_map, interleave
# ----------------------------------------------------------------------------------------------------------
class BoundFunction:
    """A dataset function (a FuncGraph attr of `op`) bound to the values of the op's other_arguments: calling
    it with an element's components runs the body as a sub-plan and returns its outputs. The sub-plan is
    compiled on first use and shared by every dataset the op makes in this session."""

    __slots__ = ("_ctx", "_graph", "_run", "_lock")

    def __init__(self, ctx, graph) -> None:
        self._ctx = ctx
        self._graph = graph
        self._run = None
        self._lock = threading.Lock()

    def bind(self, captured: Sequence) -> Callable[[tuple], list]:
        # The values are those of the run that made the dataset: owned copies, never views of a feed or of a
        # variable's storage that a later run could change.
        captured = [read_only(c) for c in captured]

        def call(element: tuple) -> list:
            run = self._run
            if run is None:
                with self._lock:
                    if self._run is None:
                        self._run = self._ctx.compile_subgraph(self._graph.outputs, self._graph.inputs)
                    run = self._run
            return run([*element, *captured])

        return call


def _function_op_attrs(func_attr: str) -> dict:
    return {func_attr: ("func", REQUIRED), "Targuments": ("list(type)", REQUIRED)}


# ----------------------------------------------------------------------------------------------------------
# MapDataset, ParallelMapDataset
# ----------------------------------------------------------------------------------------------------------
class _MapIter(ElementIterator):
    __slots__ = ("_inner", "_fn")

    def __init__(self, inner: Iterator[tuple], fn: Callable) -> None:
        self._inner = inner
        self._fn = fn

    def __next__(self) -> tuple:
        return tuple(self._fn(next(self._inner)))


def _map_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    body = BoundFunction(ctx, op.get_attr("f"))
    n_args = len(op.get_attr("Targuments"))

    def run(dataset, *args):
        captured = args[:n_args]
        fn = body.bind(captured)
        return DatasetValue(lambda: _MapIter(dataset.make_iterator(), fn), op.name, dataset.cardinality)

    return run


register_dataset_op("MapDataset", ["input_dataset: variant", "other_arguments: Targuments"],
                  {**_function_op_attrs("f"), "use_inter_op_parallelism": ("bool", True),
                   "preserve_cardinality": ("bool", False)},
                  factory=_map_dataset_factory, forwards_refs=True,
                  doc="`f` applied to every element of `input_dataset`.")
register_dataset_op("ParallelMapDataset",
                  ["input_dataset: variant", "other_arguments: Targuments", "num_parallel_calls: int32"],
                  {**_function_op_attrs("f"), "use_inter_op_parallelism": ("bool", True), "sloppy": ("bool", False),
                   "preserve_cardinality": ("bool", False)},
                  factory=_map_dataset_factory, forwards_refs=True,
                  doc="As MapDataset (elements are computed in order, one at a time; num_parallel_calls is "
                      "accepted and does not change the result).")


# ----------------------------------------------------------------------------------------------------------
# FilterDataset
# ----------------------------------------------------------------------------------------------------------
class _FilterIter(ElementIterator):
    __slots__ = ("_inner", "_pred", "_check")

    def __init__(self, inner: Iterator[tuple], pred: Callable, check: Callable) -> None:
        self._inner = inner
        self._pred = pred
        self._check = check

    def __next__(self) -> tuple:
        while True:
            self._check()
            element = next(self._inner)
            keep = self._pred(element)[0]
            if np.ndim(keep) != 0 or np.asarray(keep).dtype != np.bool_:
                raise _invalid("Filter predicate `f` must return a scalar bool.")
            if keep:
                return element


def _filter_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    body = BoundFunction(ctx, op.get_attr("predicate"))

    def check() -> None:
        ctx.check_deadline(op)

    def run(dataset, *captured):
        pred = body.bind(captured)
        return DatasetValue(lambda: _FilterIter(dataset.make_iterator(), pred, check), op.name)

    return run


register_dataset_op("FilterDataset", ["input_dataset: variant", "other_arguments: Targuments"],
                  _function_op_attrs("predicate"), factory=_filter_dataset_factory, forwards_refs=True,
                  doc="The elements of `input_dataset` for which `predicate` holds.")


# ----------------------------------------------------------------------------------------------------------
# FlatMapDataset, InterleaveDataset
# ----------------------------------------------------------------------------------------------------------
def _inner_dataset(values: list, op_name: str) -> DatasetValue:
    value = values[0]
    if not isinstance(value, DatasetValue):
        raise _invalid(f"{op_name}: the function must return a dataset, got {type(value).__name__}")
    return value


class _InterleaveIter(ElementIterator):
    """Cycles over up to `cycle_length` datasets made from consecutive input elements, taking `block_length`
    elements from each in turn; an exhausted one is replaced by the next input's dataset in its slot.
    flat_map is the case cycle_length=1."""

    __slots__ = ("_inner", "_fn", "_cycle", "_block", "_slots", "_index", "_taken", "_open", "_input_done",
                 "_op_name", "_check")

    def __init__(self, inner: Iterator[tuple], fn: Callable, cycle: int, block: int, op_name: str,
                 check: Callable) -> None:
        self._inner = inner
        self._fn = fn
        self._cycle = cycle
        self._block = block
        self._slots: list = [None] * cycle
        self._index = 0
        self._taken = 0
        self._open = 0
        self._input_done = False
        self._op_name = op_name
        self._check = check

    def _advance_slot(self) -> None:
        self._taken = 0
        self._index = (self._index + 1) % self._cycle

    def __next__(self) -> tuple:
        while not self._input_done or self._open > 0:
            self._check()
            current = self._slots[self._index]
            if current is not None:
                try:
                    element = next(current)
                except StopIteration:
                    self._slots[self._index] = None
                    self._open -= 1
                    self._advance_slot()
                    continue
                self._taken += 1
                if self._taken == self._block:
                    self._advance_slot()
                return element
            if not self._input_done:
                try:
                    args = next(self._inner)
                except StopIteration:
                    self._input_done = True
                    continue
                self._slots[self._index] = _inner_dataset(self._fn(args), self._op_name).make_iterator()
                self._open += 1
            else:
                self._advance_slot()
        raise StopIteration


def _flat_map_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    body = BoundFunction(ctx, op.get_attr("f"))

    def check() -> None:
        ctx.check_deadline(op)

    def run(dataset, *captured):
        fn = body.bind(captured)
        return DatasetValue(lambda: _InterleaveIter(dataset.make_iterator(), fn, 1, 1, op.name, check), op.name)

    return run


register_dataset_op("FlatMapDataset", ["input_dataset: variant", "other_arguments: Targuments"],
                  _function_op_attrs("f"), factory=_flat_map_dataset_factory, forwards_refs=True,
                  doc="The elements of the datasets `f` makes from each element of `input_dataset`, in order.")


def interleave_cycle_length(cycle_length: int) -> int:
    """The cycle length InterleaveDataset uses: AUTOTUNE (-1) stands for the number of CPUs, as in TF."""
    return os.cpu_count() or 1 if cycle_length == AUTOTUNE else cycle_length


def _interleave_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    body = BoundFunction(ctx, op.get_attr("f"))
    n_args = len(op.get_attr("Targuments"))

    def check() -> None:
        ctx.check_deadline(op)

    def run(dataset, *args):
        captured, rest = args[:n_args], args[n_args:]
        cycle = interleave_cycle_length(scalar_int(rest[0], "cycle_length", op.type))
        block = scalar_int(rest[1], "block_length", op.type)
        if cycle <= 0:
            raise _invalid("cycle_length must be greater than zero.")
        if block <= 0:
            raise _invalid("block_length must be greater than zero.")
        fn = body.bind(captured)
        return DatasetValue(lambda: _InterleaveIter(dataset.make_iterator(), fn, cycle, block, op.name, check),
                            op.name)

    return run


register_dataset_op("InterleaveDataset",
                  ["input_dataset: variant", "other_arguments: Targuments", "cycle_length: int64",
                   "block_length: int64"],
                  _function_op_attrs("f"), factory=_interleave_dataset_factory, forwards_refs=True,
                  doc="Interleaves the datasets `f` makes from the elements of `input_dataset`: cycle_length "
                      "of them at a time, block_length consecutive elements from each.")
register_dataset_op("ParallelInterleaveDatasetV2",
                  ["input_dataset: variant", "other_arguments: Targuments", "cycle_length: int64",
                   "block_length: int64", "num_parallel_calls: int64"],
                  {**_function_op_attrs("f"), "sloppy": ("bool", False)},
                  factory=_interleave_dataset_factory, forwards_refs=True,
                  doc="As InterleaveDataset, in the same deterministic order (num_parallel_calls is accepted; "
                      "elements are computed one at a time).")


# ----------------------------------------------------------------------------------------------------------
# PyGeneratorDataset: the elements a Python generator yields
# ----------------------------------------------------------------------------------------------------------
_GENERATORS: dict[str, Callable] = {}
_GENERATOR_TOKENS = itertools.count()


def register_generator(generator: Callable) -> str:
    """Keeps `generator` (a callable returning an iterable) for PyGeneratorDataset ops; returns its token."""
    token = f"pygen_{next(_GENERATOR_TOKENS)}"
    _GENERATORS[token] = generator
    return token


class _GeneratorIter(ElementIterator):
    __slots__ = ("_source", "_types", "_shapes", "_flatten", "_token")

    def __init__(self, source, types: list, shapes: list, flatten: Callable, token: str) -> None:
        self._source = source
        self._types = types
        self._shapes = shapes
        self._flatten = flatten
        self._token = token

    def __next__(self) -> tuple:
        try:
            value = next(self._source)
        except StopIteration:
            raise
        except (TypeError, ValueError) as e:
            raise _invalid(f"{type(e).__name__}: {e}") from None
        except Exception as e:  # noqa: BLE001 - the user's generator failed: TF reports it as UnknownError
            raise _errors.UnknownError(None, None, f"{type(e).__name__}: {e}") from None
        try:
            flat = self._flatten(value)
        except (TypeError, ValueError) as e:
            raise _invalid(f"`generator` yielded an element that did not match the expected structure: {e}") \
                from None
        out = []
        for i, (v, dtype, shape) in enumerate(zip(flat, self._types, self._shapes)):
            try:
                arr = np.array(to_numpy(v, dtype), copy=True)  # the generator may reuse its buffer
            except (TypeError, ValueError) as e:
                raise _invalid(f"TypeError: `generator` yielded an element that could not be converted to the "
                               f"expected type. The expected type was {dtype.name}, but the yielded element "
                               f"was {v!r}. ({e})") from None
            if not shape.is_compatible_with(arr.shape):
                raise _invalid(f"`generator` yielded an element of shape {dims_str(arr.shape)} where an element "
                               f"of shape {shape} was expected (component {i}).")
            out.append(arr)
        return tuple(out)


_FLATTENERS: dict[str, Callable] = {}


def register_generator_structure(token: str, flatten: Callable) -> None:
    """How to flatten what the generator of `token` yields into the element's components."""
    _FLATTENERS[token] = flatten


def _py_generator_factory(op: _ops.Operation, ctx) -> Callable:
    token = op.get_attr("token")
    generator = _GENERATORS.get(token)
    if generator is None:
        raise _errors.FailedPreconditionError(
            None, op, f"The Python generator of {op.name} (token '{token}') is not registered in this process.")
    types = [t.base_dtype for t in op.get_attr("output_types")]
    shapes = [_shape.as_shape(s) for s in op.get_attr("output_shapes")]
    flatten = _FLATTENERS[token]

    def run(*args):
        def make():
            try:
                source = iter(generator(*[a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a for a in args]))
            except Exception as e:  # noqa: BLE001 - the user's generator failed: report it as TF does
                raise _invalid(f"{type(e).__name__}: {e}") from None
            return _GeneratorIter(source, types, shapes, flatten, token)

        return DatasetValue(make, op.name)

    return run


register_dataset_op("PyGeneratorDataset", ["args: Targs"],
                  {"token": ("string", REQUIRED), "Targs": ("list(type)", [])},
                  factory=_py_generator_factory,
                  doc="The elements the registered Python generator `token` yields when called with `args`.")


# ----------------------------------------------------------------------------------------------------------
# ReduceDataset: a dataset folded into one value
# ----------------------------------------------------------------------------------------------------------
def _reduce_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    body = BoundFunction(ctx, op.get_attr("f"))
    n_state = len(op.get_attr("Tstate"))

    def run(dataset, *args):
        state, captured = list(args[:n_state]), args[n_state:]
        fn = body.bind(captured)
        it = dataset.make_iterator()
        while True:
            ctx.check_deadline(op)
            try:
                element = next(it)
            except StopIteration:
                break
            state = fn((*state, *element))
        return tuple(state)

    return run


register_op(
    "ReduceDataset",
    inputs=["input_dataset: variant", "initial_state: Tstate", "other_arguments: Targuments"],
    outputs=["components: output_types"],
    attrs={"f": ("func", REQUIRED), "Tstate": ("list(type)", REQUIRED), "Targuments": ("list(type)", REQUIRED),
           "output_types": ("list(type)", REQUIRED), "output_shapes": ("list(shape)", REQUIRED),
           "use_inter_op_parallelism": ("bool", True)},
    shape=lambda op: [_shape.as_shape(s) for s in op.get_attr("output_shapes")],
    stateful=True, forwards_refs=True, factory=_reduce_dataset_factory,
    doc="`f(state, element)` folded over the elements of `input_dataset`, starting from `initial_state`.")
NotDifferentiable("ReduceDataset")


# ----------------------------------------------------------------------------------------------------------
# IgnoreErrorsDataset
# ----------------------------------------------------------------------------------------------------------
class _IgnoreErrorsIter(ElementIterator):
    __slots__ = ("_inner",)

    def __init__(self, inner) -> None:
        self._inner = inner

    def __next__(self) -> tuple:
        while True:
            try:
                return next(self._inner)
            except StopIteration:
                raise
            except Exception:  # noqa: BLE001 - every failed element is skipped, as in TF
                continue


def _ignore_errors_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    def run(dataset):
        return DatasetValue(lambda: _IgnoreErrorsIter(dataset.make_iterator()), op.name)

    return run


register_dataset_op("IgnoreErrorsDataset", ["input_dataset: variant"], factory=_ignore_errors_dataset_factory,
                    doc="The elements of `input_dataset`, skipping those whose computation failed.")


# Attrs TensorFlow's op defs give these datasets beyond tfmini's: debugging metadata and scheduling hints
# (dropped on import whatever they hold), and options tfmini implements at TF's default only.
import_only_attr("MapDataset", "force_synchronous", "bool", False, hint=True)
import_only_attr("IgnoreErrorsDataset", "log_warning", "bool", False, hint=True)
import_only_attr((
    "FilterDataset", "FlatMapDataset", "InterleaveDataset", "MapDataset", "ParallelInterleaveDatasetV2",
    "ParallelMapDataset", "ReduceDataset",
), "metadata", "string", "", hint=True)
