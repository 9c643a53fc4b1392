"""The tf.data iterator ops: IteratorV2 (a named iterator resource of the session), OneShotIterator,
MakeIterator (points an iterator at a dataset: initialization), IteratorGetNext, and the string handles of
feedable iterators (IteratorToStringHandle, IteratorFromStringHandleV2); also the dataset that calls a
Python generator (PyGeneratorDataset, behind Dataset.from_generator).

An iterator's state lives in the session (`ctx.resources`), so two sessions on one graph iterate
separately and closing a session drops its iterators. A resource tensor's run-time value is the
`IteratorResource` itself."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import REQUIRED, NotDifferentiable, register_op
from tfmini.ops.dataset_ops import DatasetValue, dims_str

_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _type_names(types) -> str:
    return "[" + ", ".join(_dt.as_dtype(t).name for t in types) + "]"


def _shape_names(shapes) -> str:
    return "[" + ", ".join(str(_shape.as_shape(s)) for s in shapes) + "]"


class IteratorResource:
    """One iterator of one session: the element types and shapes it yields, and the iterator over the
    dataset it was last initialized with (None before initialization)."""

    __slots__ = ("handle", "output_types", "output_shapes", "_iterator", "_lock")

    def __init__(self, handle: str, output_types: list, output_shapes: list) -> None:
        self.handle = handle
        self.output_types = list(output_types)
        self.output_shapes = [_shape.as_shape(s) for s in output_shapes]
        self._iterator = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<IteratorResource {self.handle}>"

    def reset(self, dataset: DatasetValue) -> None:
        with self._lock:
            self._iterator = dataset.make_iterator()

    @property
    def initialized(self) -> bool:
        return self._iterator is not None

    def get_next(self) -> tuple:
        with self._lock:
            it = self._iterator
            if it is None:
                raise _errors.FailedPreconditionError(
                    None, None, "GetNext() failed because the iterator has not been initialized. Ensure that you "
                    "have run the initializer operation for this iterator before getting the next element.")
            try:
                element = next(it)
            except StopIteration:
                raise _errors.OutOfRangeError(None, None, "End of sequence") from None
        return self._checked(element)

    def _checked(self, element: tuple) -> tuple:
        """The element with each component as an array of its declared dtype; InvalidArgumentError if its
        number, dtypes or shapes do not match what this iterator yields."""
        if len(element) != len(self.output_types):
            raise _invalid(f"Expected an element of {len(self.output_types)} components but got "
                           f"{len(element)}.")
        out = []
        for i, (value, dtype, shape) in enumerate(zip(element, self.output_types, self.output_shapes)):
            want = np.dtype(dtype.as_numpy_dtype)
            value = np.asarray(value, dtype=object) if want.kind == "O" and not isinstance(value, np.ndarray) \
                else np.asarray(value)
            if value.dtype != want:
                raise _invalid(f"Component {i} of the element has dtype {value.dtype} but the iterator yields "
                               f"{dtype.name}.")
            if not shape.is_compatible_with(value.shape):
                raise _invalid(f"Component {i} of the element has shape {dims_str(value.shape)}, which is "
                               f"incompatible with the iterator's shape {shape}.")
            out.append(value)
        return tuple(out)


def _resource_shape(op: _ops.Operation) -> _shape.TensorShape:
    return _shape.TensorShape([])


def _lookup_or_create(ctx, key: tuple, handle: str, types: list, shapes: list) -> IteratorResource:
    resources = ctx.resources
    res = resources.get(key)
    if res is None:
        with ctx.lock:
            res = resources.get(key)
            if res is None:
                res = resources[key] = IteratorResource(handle, types, shapes)
                resources[("IteratorHandle", handle)] = res
    return res


_ANONYMOUS = itertools.count()


def _resource_key(op: _ops.Operation) -> tuple:
    """The key of `op`'s iterator in the session: its container and shared name, or the op itself."""
    shared = op.get_attr("shared_name")
    if shared:
        return ("Iterator", op.get_attr("container"), shared)
    return ("Iterator", op)


def _handle_name(op: _ops.Operation) -> str:
    shared = op.get_attr("shared_name")
    name = shared or f"{op.name}_{next(_ANONYMOUS)}"
    container = op.get_attr("container") or "localhost"
    return f"{container};{name};{_DEVICE}"


def _check_same_types(res: IteratorResource, op: _ops.Operation) -> None:
    types = list(op.get_attr("output_types"))
    if [t.base_dtype for t in types] != [t.base_dtype for t in res.output_types]:
        raise _invalid(f"The iterator shared as '{op.get_attr('shared_name')}' yields types "
                       f"{_type_names(res.output_types)}, but {op.name} expects {_type_names(types)}.")


def _iterator_factory(op: _ops.Operation, ctx) -> Callable:
    key = _resource_key(op)
    types, shapes = op.get_attr("output_types"), op.get_attr("output_shapes")

    def run():
        res = ctx.resources.get(key)
        if res is None:
            res = _lookup_or_create(ctx, key, _handle_name(op), types, shapes)
        _check_same_types(res, op)
        return res

    return run


_ITERATOR_ATTRS = {
    "shared_name": ("string", ""),
    "container": ("string", ""),
    "output_types": ("list(type)", REQUIRED),
    "output_shapes": ("list(shape)", REQUIRED),
}

# TF's IteratorV2 requires shared_name and container (its OneShotIterator defaults them to "").
register_op("IteratorV2", outputs=["handle: resource"],
            attrs={**_ITERATOR_ATTRS, "shared_name": ("string", REQUIRED), "container": ("string", REQUIRED)},
            shape=_resource_shape, stateful=True, factory=_iterator_factory,
            doc="The session's iterator of this op (or of its shared_name), created on first use.")
NotDifferentiable("IteratorV2")


def _one_shot_shape(op: _ops.Operation) -> _shape.TensorShape:
    """Checks that the dataset_factory function takes nothing and returns one dataset (ValueError)."""
    fn = op.get_attr("dataset_factory")
    if fn.inputs or len(fn.outputs) != 1 or fn.outputs[0].dtype.base_dtype != _dt.variant:
        raise ValueError(f"The dataset_factory function of OneShotIterator '{op.name}' must take no inputs and "
                         f"return one dataset (variant), but it takes {len(fn.inputs)} and returns "
                         f"{_type_names([t.dtype.base_dtype for t in fn.outputs])}")
    return _resource_shape(op)


def _one_shot_factory(op: _ops.Operation, ctx) -> Callable:
    key = ("Iterator", op)
    types, shapes = op.get_attr("output_types"), op.get_attr("output_shapes")
    factory = op.get_attr("dataset_factory")
    make_dataset = None

    def run():
        nonlocal make_dataset
        res = ctx.resources.get(key)
        if res is None:
            res = _lookup_or_create(ctx, key, _handle_name(op), types, shapes)
        with res._lock:
            if res._iterator is None:
                if make_dataset is None:
                    make_dataset = ctx.compile_subgraph(factory.outputs, [])
                (dataset,) = make_dataset([])
                if not isinstance(dataset, DatasetValue):
                    raise _invalid(f"The dataset_factory function of {op.name} returned {type(dataset).__name__}, "
                                   "not a dataset")
                res._iterator = dataset.make_iterator()
        return res

    return run


# The dataset is built by the dataset_factory function, once per session, when the iterator is first used.
register_op("OneShotIterator", outputs=["handle: resource"],
            attrs={"dataset_factory": ("func", REQUIRED), **_ITERATOR_ATTRS},
            shape=_one_shot_shape, stateful=True, factory=_one_shot_factory,
            doc="An iterator over the dataset `dataset_factory` builds, made the first time it is used in a session.")
NotDifferentiable("OneShotIterator")


@register_op("MakeIterator", inputs=["dataset: variant", "iterator: resource"], stateful=True,
             doc="(Re)initializes `iterator` to yield the elements of `dataset` from the start.")
def _make_iterator(dataset, iterator):
    if not isinstance(dataset, DatasetValue):
        raise _invalid(f"MakeIterator needs a dataset, got {type(dataset).__name__}")
    iterator.reset(dataset)


NotDifferentiable("MakeIterator")


def _get_next_shapes(op: _ops.Operation) -> list:
    return [_shape.as_shape(s) for s in op.get_attr("output_shapes")]


@register_op("IteratorGetNext", inputs=["iterator: resource"], outputs=["components: output_types"],
             attrs={"output_types": ("list(type)", REQUIRED), "output_shapes": ("list(shape)", REQUIRED)},
             shape=_get_next_shapes, stateful=True,
             doc="The next element of `iterator`; OutOfRangeError at its end.")
def _iterator_get_next(iterator):
    return iterator.get_next()


NotDifferentiable("IteratorGetNext")


@register_op("IteratorToStringHandle", inputs=["resource_handle: resource"], outputs=["string_handle: string"],
             shape=lambda op: _shape.TensorShape([]), stateful=True,
             doc="A string naming `resource_handle` in this session (for feedable iterators).")
def _iterator_to_string_handle(resource_handle):
    return np.array(resource_handle.handle.encode(), dtype=object)


NotDifferentiable("IteratorToStringHandle")


def _from_string_handle_factory(op: _ops.Operation, ctx) -> Callable:
    types = [t.base_dtype for t in op.get_attr("output_types")]
    shapes = [_shape.as_shape(s) for s in op.get_attr("output_shapes")]

    def run(string_handle):
        if np.ndim(string_handle) != 0:
            raise _invalid(f"string_handle must be a scalar, got shape {dims_str(np.shape(string_handle))}")
        handle = string_handle[()] if isinstance(string_handle, np.ndarray) else string_handle
        handle = handle.decode(errors="replace") if isinstance(handle, bytes) else str(handle)
        res = ctx.resources.get(("IteratorHandle", handle))
        if res is None:
            raise _errors.NotFoundError(
                None, None, f"Could not find an iterator with string handle '{handle}' in this session: a string "
                "handle names an iterator of the session that made it.")
        if types and types != [t.base_dtype for t in res.output_types]:
            raise _invalid(f"The iterator named by the string handle yields types {_type_names(res.output_types)}, "
                           f"but this op expects {_type_names(types)}.")
        if shapes and any(not a.is_compatible_with(b) for a, b in zip(shapes, res.output_shapes)):
            raise _invalid(f"The iterator named by the string handle yields shapes "
                           f"{_shape_names(res.output_shapes)}, which are incompatible with {_shape_names(shapes)}.")
        return res

    return run


register_op("IteratorFromStringHandleV2", inputs=["string_handle: string"], outputs=["resource_handle: resource"],
            attrs={"output_types": ("list(type)", []), "output_shapes": ("list(shape)", [])},
            shape=_resource_shape, stateful=True, factory=_from_string_handle_factory,
            doc="The iterator of this session that `string_handle` names.")
NotDifferentiable("IteratorFromStringHandleV2")


# ----------------------------------------------------------------------------------------------------------
# Optionals: an element or nothing (tf.data.experimental.get_next_as_optional)
# ----------------------------------------------------------------------------------------------------------
class OptionalValue:
    """The run-time value of an optional variant: a tuple of components, or None for no value."""

    __slots__ = ("element",)

    def __init__(self, element: tuple | None) -> None:
        self.element = element

    def __repr__(self) -> str:
        return "OptionalValue(none)" if self.element is None else f"OptionalValue({len(self.element)} components)"


def _scalar_shape(op: _ops.Operation) -> _shape.TensorShape:
    return _shape.TensorShape([])


@register_op("IteratorGetNextAsOptional", inputs=["iterator: resource"], outputs=["optional: variant"],
             attrs={"output_types": ("list(type)", REQUIRED), "output_shapes": ("list(shape)", REQUIRED)},
             shape=_scalar_shape, stateful=True,
             doc="The next element of `iterator` as an optional, which has no value at the end.")
def _iterator_get_next_as_optional(iterator):
    try:
        return OptionalValue(iterator.get_next())
    except _errors.OutOfRangeError:
        return OptionalValue(None)


@register_op("OptionalFromValue", inputs=["components: Toutput_types"], outputs=["optional: variant"],
             attrs={"Toutput_types": ("list(type)", REQUIRED)}, shape=_scalar_shape,
             doc="An optional holding `components`.")
def _optional_from_value(*components):
    return OptionalValue(tuple(components))


@register_op("OptionalNone", outputs=["optional: variant"], shape=_scalar_shape, doc="An optional with no value.")
def _optional_none():
    return OptionalValue(None)


@register_op("OptionalHasValue", inputs=["optional: variant"], outputs=["has_value: bool"], shape=_scalar_shape,
             doc="Whether `optional` holds a value.")
def _optional_has_value(optional):
    return np.bool_(_optional(optional).element is not None)


@register_op("OptionalGetValue", inputs=["optional: variant"], outputs=["components: output_types"],
             attrs={"output_types": ("list(type)", REQUIRED), "output_shapes": ("list(shape)", REQUIRED)},
             shape=_get_next_shapes, doc="The components `optional` holds (InvalidArgumentError if none).")
def _optional_get_value(optional):
    element = _optional(optional).element
    if element is None:
        raise _invalid("The optional does not have a value.")
    return element


def _optional(value) -> OptionalValue:
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        value = value[()]
    if not isinstance(value, OptionalValue):
        raise _invalid(f"Expected an optional, got {type(value).__name__}.")
    return value


for _name in ("IteratorGetNextAsOptional", "OptionalFromValue", "OptionalNone", "OptionalHasValue",
              "OptionalGetValue"):
    NotDifferentiable(_name)
