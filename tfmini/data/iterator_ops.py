"""`tf.data.Iterator` (TF 1.15's v1 iterator): one-shot, initializable, reinitializable
(`Iterator.from_structure` + `make_initializer`) and feedable (`string_handle` /
`Iterator.from_string_handle`) iterators over the iterator ops of tfmini/ops/iterator_ops.py, and the
`tf.compat.v1.data` functions around them."""

from __future__ import annotations

import warnings

from tfmini.data.structure import SparseSpec, TensorSpec, assert_same_structure, flatten, map_structure, pack_as
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.func_graph import FuncGraph, unique_function_name
from tfmini.framework.registry import apply_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import iterator_ops as _iterator_ops  # noqa: F401 - registers the iterator ops built here
from tfmini.ops.functional_ops import copy_ops

# TF warns when get_next() is called this many times on one iterator: each call adds ops to the graph.
GET_NEXT_CALL_WARNING_THRESHOLD = 32


def _flat_attrs(structure) -> dict:
    specs = flatten(structure)
    return {"output_types": [s.dtype for s in specs], "output_shapes": [s.shape for s in specs]}


def _legacy(structure, what: str):
    if what == "types":
        return map_structure(lambda s: s.legacy_type(), structure)
    if what == "shapes":
        return map_structure(lambda s: s.legacy_shape(), structure)
    return map_structure(lambda s: s.output_class, structure)


def _structure_from(output_types, output_shapes, output_classes):
    """Specs for an element described by TF's nested output_types / output_shapes / output_classes."""
    if output_shapes is None:
        output_shapes = map_structure(lambda _: _shape.unknown_shape(), output_types)
    else:
        assert_same_structure(output_types, output_shapes)
    if output_classes is None:
        output_classes = map_structure(lambda _: _ops.Tensor, output_types)
    assert_same_structure(output_types, output_classes)
    specs = []
    for t, s, cls in zip(flatten(output_types), flatten(output_shapes), flatten(output_classes)):
        dtype, shape = _dt.as_dtype(t).base_dtype, _shape.as_shape(s)
        if cls is SparseTensor:
            specs.append(SparseSpec(dtype, shape))
        elif cls is _ops.Tensor:
            specs.append(TensorSpec(dtype, shape))
        else:
            raise TypeError(f"Iterators over elements of class {cls} are not supported; only tf.Tensor and "
                            "tf.SparseTensor.")
    return pack_as(output_types, specs)


@tf_export("data.Iterator")
class Iterator:
    """Yields the elements of a dataset through `get_next()`: each `Session.run` of its result takes the
    next element; at the end it raises `tf.errors.OutOfRangeError`, after which the iterator can be
    initialized again."""

    def __init__(self, iterator_resource: _ops.Tensor, initializer: _ops.Operation | None, structure) -> None:
        self._iterator_resource = iterator_resource
        self._initializer = initializer
        self._structure = structure
        self._string_handle = None
        self._get_next_calls = 0

    # -- construction ------------------------------------------------------------
    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None) -> Iterator:
        """A reinitializable iterator for elements of this structure, not bound to any dataset: point it at
        one with `make_initializer(dataset)`."""
        structure = _structure_from(output_types, output_shapes, output_classes)
        resource = apply_op("IteratorV2", [], {"shared_name": shared_name or "", "container": "",
                                               **_flat_attrs(structure)}, name="Iterator").outputs[0]
        return Iterator(resource, None, structure)

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None, output_classes=None) -> Iterator:
        """A feedable iterator: which iterator it reads is decided at run time by the string handle fed to
        `string_handle` (the value of another iterator's `string_handle()`)."""
        structure = _structure_from(output_types, output_shapes, output_classes)
        handle = _ops.convert_to_tensor(string_handle, dtype=_dt.string)
        if handle.shape.ndims not in (None, 0):
            raise ValueError(f"string_handle must be a scalar string tensor, got shape {handle.shape}")
        resource = apply_op("IteratorFromStringHandleV2", [handle], _flat_attrs(structure)).outputs[0]
        return Iterator(resource, None, structure)

    # -- use ------------------------------------------------------------------------
    @property
    def initializer(self) -> _ops.Operation:
        """The op that (re)starts this iterator at the first element of its dataset."""
        if self._initializer is not None:
            return self._initializer
        raise ValueError("Iterator does not have an initializer.")

    def make_initializer(self, dataset, name=None) -> _ops.Operation:
        """An op that (re)starts this iterator on `dataset`, whose elements must have this iterator's
        types and compatible shapes."""
        with _ops.name_scope(name, "make_initializer") as scope:
            types, dtypes = _legacy(self._structure, "types"), _legacy(dataset._structure, "types")
            try:
                assert_same_structure(self._structure, dataset._structure)
            except ValueError:
                raise TypeError(f"Expected output types {types!r} but got dataset with output types {dtypes!r}.") \
                    from None
            if flatten(types) != flatten(dtypes):
                raise TypeError(f"Expected output types {types!r} but got dataset with output types {dtypes!r}.")
            mine, theirs = flatten(self._structure), flatten(dataset._structure)
            if any(type(a) is not type(b) for a, b in zip(mine, theirs)):
                raise TypeError(f"Expected output classes {self.output_classes!r} but got dataset with output "
                                f"classes {dataset.output_classes!r}.")
            if not all(a.shape.is_compatible_with(b.shape) for a, b in zip(mine, theirs)):
                raise TypeError(f"Expected output shapes compatible with {self.output_shapes!r} but got dataset "
                                f"with output shapes {dataset.output_shapes!r}.")
            return apply_op("MakeIterator", [dataset._variant_tensor, self._iterator_resource], name=scope)

    def get_next(self, name=None):
        """The next element, as a structure of tensors; running them advances the iterator."""
        self._get_next_calls += 1
        if self._get_next_calls > GET_NEXT_CALL_WARNING_THRESHOLD:
            warnings.warn("An unusually high number of `Iterator.get_next()` calls was detected. This often "
                          "indicates that `Iterator.get_next()` is being called inside a training loop, which "
                          "will cause gradual slowdown and eventual resource exhaustion. If this is the case, "
                          "restructure your code to call `next_element = iterator.get_next()` once outside the "
                          "loop, and use `next_element` as the input to some computation that is invoked "
                          "inside the loop.", stacklevel=2)
        op = apply_op("IteratorGetNext", [self._iterator_resource], _flat_attrs(self._structure),
                      name=name or "IteratorGetNext")
        specs = flatten(self._structure)
        return pack_as(self._structure, [s.wrap(t) for s, t in zip(specs, op.outputs)])

    def string_handle(self, name=None) -> _ops.Tensor:
        """A scalar string tensor naming this iterator in the running session, to feed to an iterator made
        by `Iterator.from_string_handle`."""
        if name is None:
            if self._string_handle is None:
                self._string_handle = apply_op("IteratorToStringHandle", [self._iterator_resource]).outputs[0]
            return self._string_handle
        return apply_op("IteratorToStringHandle", [self._iterator_resource], name=name).outputs[0]

    @property
    def output_types(self):
        return _legacy(self._structure, "types")

    @property
    def output_shapes(self):
        return _legacy(self._structure, "shapes")

    @property
    def output_classes(self):
        return _legacy(self._structure, "classes")


def _check_capturable(dataset) -> None:
    """A one-shot iterator builds its dataset once, by value, as TF's does: the pipeline may not read
    placeholders or variables (TF's ValueError)."""
    seen = set()
    stack = [dataset._variant_tensor.op]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type in ("Placeholder", "PlaceholderV2"):
            raise ValueError(f"Cannot capture a placeholder (name:{op.name}, type:{op.type}) by value.")
        if any(t.dtype.is_ref or t.dtype.base_dtype == _dt.resource for t in op.outputs):
            raise ValueError(f"Cannot capture a stateful node (name:{op.name}, type:{op.type}) by value.")
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)


@tf_export("data.make_one_shot_iterator")
def make_one_shot_iterator(dataset) -> Iterator:
    """`tf.compat.v1.data.make_one_shot_iterator`: an iterator that initializes itself the first time it
    is used in a session (it cannot be re-initialized)."""
    _check_capturable(dataset)
    # As TF's: a function that builds the dataset (a copy of the ops that made it), run by the iterator.
    graph = _ops.get_default_graph()
    factory = FuncGraph(unique_function_name("_make_dataset"), graph)
    with factory.as_default():
        factory.outputs = copy_ops([dataset._variant_tensor])
    resource = apply_op("OneShotIterator", [],
                        {"dataset_factory": factory, "shared_name": "", "container": "",
                         **_flat_attrs(dataset._structure)},
                        name="OneShotIterator").outputs[0]
    return Iterator(resource, None, dataset._structure)


@tf_export("data.make_initializable_iterator")
def make_initializable_iterator(dataset, shared_name=None) -> Iterator:
    """`tf.compat.v1.data.make_initializable_iterator`: an iterator with an `initializer` op, so the
    pipeline may depend on placeholders (fed when the initializer runs) and can be restarted."""
    resource = apply_op("IteratorV2", [], {"shared_name": shared_name or "", "container": "",
                                           **_flat_attrs(dataset._structure)}, name="Iterator").outputs[0]
    initializer = apply_op("MakeIterator", [dataset._variant_tensor, resource])
    return Iterator(resource, initializer, dataset._structure)


@tf_export("data.get_output_types")
def get_output_types(dataset_or_iterator):
    """The nested dtypes of the elements of a Dataset or Iterator."""
    return dataset_or_iterator.output_types


@tf_export("data.get_output_shapes")
def get_output_shapes(dataset_or_iterator):
    """The nested static shapes of the elements of a Dataset or Iterator."""
    return dataset_or_iterator.output_shapes


@tf_export("data.get_output_classes")
def get_output_classes(dataset_or_iterator):
    """The nested classes of the elements of a Dataset or Iterator."""
    return dataset_or_iterator.output_classes


@tf_export("data.experimental.Optional")
class Optional:
    """A structure of tensors or nothing (`tf.data.experimental.Optional`): `has_value()` says which,
    `get_value()` gives the tensors (InvalidArgumentError when run on an empty optional)."""

    def __init__(self, variant: _ops.Tensor, structure) -> None:
        self._variant_tensor = variant
        self._structure = structure

    @staticmethod
    def from_value(value) -> Optional:
        """An optional holding `value` (a structure of tensors)."""
        specs, tensors = [], []
        for i, leaf in enumerate(flatten(value)):
            t = _ops.convert_to_tensor(leaf, name=f"component_{i}")
            tensors.append(t)
            specs.append(TensorSpec(t.dtype.base_dtype, t.shape))
        variant = apply_op("OptionalFromValue", [tensors]).outputs[0]
        return Optional(variant, pack_as(value, specs))

    @staticmethod
    def none_from_structure(value_structure) -> Optional:
        """An optional with no value, for elements of `value_structure` (a structure of TensorSpec-like
        objects with dtype and shape)."""
        specs = [TensorSpec(_dt.as_dtype(s.dtype).base_dtype, _shape.as_shape(s.shape))
                 for s in flatten(value_structure)]
        return Optional(apply_op("OptionalNone").outputs[0], pack_as(value_structure, specs))

    def has_value(self, name=None) -> _ops.Tensor:
        return apply_op("OptionalHasValue", [self._variant_tensor], name=name).outputs[0]

    def get_value(self, name=None):
        op = apply_op("OptionalGetValue", [self._variant_tensor], _flat_attrs(self._structure), name=name)
        specs = flatten(self._structure)
        return pack_as(self._structure, [s.wrap(t) for s, t in zip(specs, op.outputs)])

    @property
    def value_structure(self):
        return self._structure


@tf_export("data.experimental.get_next_as_optional")
def get_next_as_optional(iterator: Iterator) -> Optional:
    """The next element of `iterator` as an Optional that has no value at the end (instead of raising
    OutOfRangeError)."""
    variant = apply_op("IteratorGetNextAsOptional", [iterator._iterator_resource],
                       _flat_attrs(iterator._structure)).outputs[0]
    return Optional(variant, iterator._structure)
