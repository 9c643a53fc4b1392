"""`tf.data.Dataset` (TF 1.15's DatasetV1): sources, transformations and iterator factories, over the dataset
ops of tfmini/ops/dataset_ops.py. A Dataset holds its variant tensor and the structure of its elements (nested
tuples and dicts of tensors or datasets, each with a dtype and a static shape). Functions given to map, filter,
flat_map and interleave are traced into function graphs; the tensors they capture become inputs of the op."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tfmini.data import iterator_ops
from tfmini.data.options import Options
from tfmini.data.structure import (
    SparseSpec,
    TensorSpec,
    assert_same_structure,
    flatten,
    is_structure,
    map_structure,
    pack_as,
    shape_str,
    structure_str,
)
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.func_graph import FuncGraph, unique_function_name
from tfmini.framework.registry import apply_op
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue
from tfmini.ops import array_ops, control_flow_ops, io_ops, math_ops, random_ops
from tfmini.ops import dataset_cache as _dataset_cache  # noqa: F401 - registers CacheDataset, built here
from tfmini.ops import dataset_function_ops as _fops
from tfmini.ops import dataset_ops as _dops
from tfmini.ops.functional_ops import body_outputs

AUTOTUNE = _dops.AUTOTUNE
tf_export("data.experimental.AUTOTUNE").export_constant(__name__, "AUTOTUNE")


@dataclass(frozen=True)
class DatasetSpec:
    """One leaf of an element that is itself a dataset (window's elements), with its element structure."""

    element: object

    dtype = _dt.variant
    shape = _shape.TensorShape([])

    @property
    def output_class(self):
        return DatasetV1

    def legacy_type(self):
        return map_structure(lambda s: s.legacy_type(), self.element)

    def legacy_shape(self):
        return map_structure(lambda s: s.legacy_shape(), self.element)

    def wrap(self, tensor: _ops.Tensor):
        return DatasetV1(tensor, self.element)


def _sparse_leaf(leaf, rows: bool) -> tuple[_ops.Tensor, SparseSpec]:
    """A SparseTensor as one variant component (or, with `rows`, a vector of its rows) and its spec."""
    st = SparseTensor.from_value(leaf)
    op = "SparseTensorToDatasetRows" if rows else "SparseTensorToDatasetVariant"
    t = apply_op(op, [st.indices, st.values, st.dense_shape]).outputs[0]
    shape = st.shape
    if rows:
        shape = shape[1:] if shape.ndims is not None else shape
    return t, SparseSpec(st.dtype.base_dtype, shape)


def _normalize_element(element, what: str = "tensors", rows: bool = False) -> tuple[list, object]:
    """The flat tensors of a user-given element and its structure of specs (with `rows`, sparse leaves
    become vectors of their rows, for slicing)."""
    leaves = flatten(element)
    tensors = []
    specs = []
    with _ops.name_scope(what):
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, (SparseTensor, SparseTensorValue)):
                t, spec = _sparse_leaf(leaf, rows)
                tensors.append(t)
                specs.append(spec)
                continue
            if isinstance(leaf, DatasetV1):
                raise TypeError(f"A Dataset cannot be a component of {what}: {leaf!r}")
            t = _ops.convert_to_tensor(leaf, name=f"component_{i}")
            tensors.append(t)
            specs.append(TensorSpec(t.dtype.base_dtype, t.shape))
    return tensors, pack_as(element, specs)


def merge_specs(a, b):
    """The spec of a component that is sometimes `a` and sometimes `b` (same kind and dtype)."""
    if isinstance(a, TensorSpec):
        return TensorSpec(a.dtype, most_specific_shape(a.shape, b.shape))
    if isinstance(a, SparseSpec):
        return SparseSpec(a.value_dtype, most_specific_shape(a.dense_shape, b.dense_shape))
    return a


def _flat_attrs(structure) -> dict:
    specs = flatten(structure)
    return {"output_types": [s.dtype for s in specs], "output_shapes": [s.shape for s in specs]}


def _legacy(structure, fn: Callable):
    return map_structure(fn, structure)


# ----------------------------------------------------------------------------------------------------------
# Functions traced into function graphs
# ----------------------------------------------------------------------------------------------------------
@dataclass
class TracedFunction:
    """A user function traced for a dataset op: its graph, the structure it returns, and the outer tensors
    it captured (the op's other_arguments)."""

    graph: FuncGraph
    output_structure: object
    captured: list

    @property
    def attrs(self) -> dict:
        return {"Targuments": [t.dtype for t in self.captured]}


def trace_function(func: Callable, input_structure, name: str, what: str = "map_func") -> TracedFunction:
    """Traces `func` over placeholders standing for one element of `input_structure` (a tuple element is
    passed as separate arguments, as TF does). A returned list is treated as a tuple, as in TF 1.15."""
    if not callable(func):
        raise TypeError(f"`{what}` must be callable, got {func!r}")
    outer = _ops.get_default_graph()
    graph = FuncGraph(unique_function_name(name), outer)
    with graph.as_default():
        leaves = []
        for i, spec in enumerate(flatten(input_structure)):
            ph = array_ops.placeholder(spec.dtype, spec.shape, name=f"args_{i}")
            graph.inputs.append(ph)
            leaves.append(spec.wrap(ph))
        args = pack_as(input_structure, leaves)
        ret = func(*args) if type(args) is tuple else func(args)
        if isinstance(ret, list):
            ret = tuple(ret)
        if ret is None:
            raise TypeError(f"`{what}` must return a value (a nested structure of tensors), but it returned None.")
        tensors, specs = [], []
        for i, leaf in enumerate(flatten(ret)):
            if isinstance(leaf, DatasetV1):
                tensors.append(leaf._variant_tensor)
                specs.append(DatasetSpec(leaf._structure))
                continue
            if isinstance(leaf, (SparseTensor, SparseTensorValue)):
                t, spec = _sparse_leaf(leaf, rows=False)
                tensors.append(t)
                specs.append(spec)
                continue
            if isinstance(leaf, _ops.Operation):
                raise TypeError(f"`{what}` returned an Operation ({leaf.name}); it must return tensors.")
            try:
                t = _ops.convert_to_tensor(leaf, name=f"component_{i}")
            except (TypeError, ValueError) as e:
                raise TypeError(f"`{what}` returned a value that is not a tensor: {leaf!r} ({e})") from None
            tensors.append(t)
            specs.append(TensorSpec(t.dtype.base_dtype, t.shape))
        structure = pack_as(ret, specs)
    graph.outputs = body_outputs(graph, tensors)
    keys = list(graph.captures)
    graph.inputs.extend(graph.captures[k] for k in keys)
    captured = [graph.capture_source(k) for k in keys]
    return TracedFunction(graph, structure, captured)


def trace_with_state(func: Callable, initial_state, element_structure, name: str, what: str,
                     new_state_of: Callable) -> tuple[list, TracedFunction, object]:
    """Traces `func(state, element)` whose result holds the next state (`new_state_of(result structure)`):
    the state's structure and dtypes must stay those of `initial_state`; where its shapes change from step
    to step, `func` is traced again with the shapes both share, as TF does. Returns the initial state's
    tensors, the traced function and the state's structure."""
    flat_init, state_structure = _normalize_element(initial_state, "initial_state")
    for _ in range(len(flat_init) + 2):
        fn = trace_function(func, (state_structure, element_structure), name, what)
        new_state = new_state_of(fn.output_structure)
        try:
            assert_same_structure(state_structure, new_state)
        except ValueError:
            raise TypeError(f"The element structure of the new state {new_state} does not match that of the "
                            f"initial state {state_structure}.") from None
        old, new = flatten(state_structure), flatten(new_state)
        for o, n in zip(old, new):
            if not isinstance(n, TensorSpec) or o.dtype != n.dtype:
                raise TypeError(f"The element types for the new state must match the initial state. Expected "
                                f"{o.dtype}; got {getattr(n, 'dtype', n)}.")
        relaxed = [TensorSpec(o.dtype, most_specific_shape(o.shape, n.shape)) for o, n in zip(old, new)]
        if all(r.shape.as_list() == o.shape.as_list() if r.shape.ndims is not None else o.shape.ndims is None
               for r, o in zip(relaxed, old)):
            return flat_init, fn, state_structure
        state_structure = pack_as(state_structure, relaxed)
    raise TypeError(f"The shape of the state of `{what}` does not settle.")


def _function_op(op_type: str, inputs: list, fn: TracedFunction, func_attr: str, structure, attrs=None,
                 name=None) -> _ops.Tensor:
    graph = _ops.get_default_graph()
    with graph.control_dependencies(fn.graph.control_captures or []):
        return apply_op(op_type, [inputs[0], fn.captured, *inputs[1:]],
                        {func_attr: fn.graph, **fn.attrs, **_flat_attrs(structure), **(attrs or {})},
                        name=name).outputs[0]


def _int64(value, name: str) -> _ops.Tensor:
    return _ops.convert_to_tensor(value, dtype=_dt.int64, name=name)


def _static_int(t: _ops.Tensor):
    v = _reg.constant_value(t)
    return None if v is None else int(v)


# ----------------------------------------------------------------------------------------------------------
# Dataset
# ----------------------------------------------------------------------------------------------------------
@tf_export("data.Dataset", "data.DatasetV1")
class DatasetV1:
    """A sequence of elements computed lazily by a graph of dataset ops (TF 1.15's `tf.data.Dataset`).

    Elements are nested structures (tuples, dicts) of tensors; `output_types`, `output_shapes` and
    `output_classes` describe them. Iterate with `make_one_shot_iterator()` or
    `make_initializable_iterator()` and `Session.run(iterator.get_next())`."""

    def __init__(self, variant_tensor: _ops.Tensor, structure) -> None:
        self._variant_tensor = variant_tensor
        self._structure = structure

    def __repr__(self) -> str:
        shapes = structure_str(self._structure, lambda s: shape_str(s.shape) if isinstance(s, TensorSpec)
                                else repr(s))
        types = structure_str(self._structure, lambda s: f"tf.{s.dtype.name}" if isinstance(s, TensorSpec)
                               else repr(s))
        return f"<DatasetV1Adapter shapes: {shapes}, types: {types}>"

    def __iter__(self):
        raise RuntimeError("dataset.__iter__() is only supported when eager execution is enabled.")

    def _as_variant_tensor(self) -> _ops.Tensor:
        return self._variant_tensor

    # -- element structure ---------------------------------------------------
    @property
    def output_types(self):
        """The dtypes of an element's components, in the element's structure."""
        return _legacy(self._structure, lambda s: s.legacy_type())

    @property
    def output_shapes(self):
        """The static shapes of an element's components, in the element's structure."""
        return _legacy(self._structure, lambda s: s.legacy_shape())

    @property
    def output_classes(self):
        """The classes of an element's components (tf.Tensor, or Dataset for datasets of datasets)."""
        return _legacy(self._structure, lambda s: s.output_class)

    # -- sources ---------------------------------------------------------------
    @staticmethod
    def from_tensors(tensors) -> DatasetV1:
        """A dataset with the single element `tensors`."""
        flat, structure = _normalize_element(tensors)
        specs = flatten(structure)
        t = apply_op("TensorDataset", [flat], {"output_shapes": [s.shape for s in specs]}).outputs[0]
        return DatasetV1(t, structure)

    @staticmethod
    def from_tensor_slices(tensors) -> DatasetV1:
        """A dataset of the slices of `tensors` along their first dimension (all components must agree on
        its size)."""
        flat, structure = _normalize_element(tensors, rows=True)
        first = None
        for t, spec in zip(flat, flatten(structure)):
            if isinstance(spec, SparseSpec):
                continue
            if t.shape.ndims == 0:
                raise ValueError(f"Shape must be at least rank 1 but is rank 0 for 'TensorSliceDataset' "
                                 f"(component {t.name})")
            dim = t.shape[0].value if t.shape.ndims is not None else None
            if dim is not None:
                if first is not None and dim != first:
                    raise ValueError(f"Dimensions {first} and {dim} are not compatible: all components of "
                                     "from_tensor_slices must have the same size in their first dimension.")
                first = dim
        specs = [s if isinstance(s, SparseSpec) else
                 TensorSpec(s.dtype, s.shape[1:] if s.shape.ndims is not None else _shape.unknown_shape())
                 for s in flatten(structure)]
        structure = pack_as(structure, specs)
        t = apply_op("TensorSliceDataset", [flat], {"output_shapes": [s.shape for s in specs]}).outputs[0]
        return DatasetV1(t, structure)

    @staticmethod
    def from_sparse_tensor_slices(sparse_tensor) -> DatasetV1:
        """The rows of `sparse_tensor` as SparseTensors of one rank less (as from_tensor_slices)."""
        if not isinstance(sparse_tensor, (SparseTensor, SparseTensorValue)):
            raise TypeError(f"`sparse_tensor` must be a `tf.SparseTensor` object. Was {sparse_tensor}.")
        return DatasetV1.from_tensor_slices(sparse_tensor)

    @staticmethod
    def range(*args, output_type=_dt.int64) -> DatasetV1:
        """`range(stop)`, `range(start, stop)` or `range(start, stop, step)`: int64 scalars as Python's range."""
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to RangeDataset: {args}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
        structure = TensorSpec(_dt.as_dtype(output_type), _shape.TensorShape([]))
        t = apply_op("RangeDataset", [_int64(start, "start"), _int64(stop, "stop"), _int64(step, "step")],
                     _flat_attrs(structure)).outputs[0]
        return DatasetV1(t, structure)

    @staticmethod
    def zip(datasets) -> DatasetV1:
        """Elements of the nested structure of `datasets` side by side (until the shortest ends)."""
        leaves = flatten(datasets)
        if not leaves or not all(isinstance(d, DatasetV1) for d in leaves):
            raise TypeError("The argument to `Dataset.zip()` must be a nested structure of `Dataset` objects.")
        structure = pack_as(datasets, [d._structure for d in leaves])
        t = apply_op("ZipDataset", [[d._variant_tensor for d in leaves]], _flat_attrs(structure)).outputs[0]
        return DatasetV1(t, structure)

    @staticmethod
    def from_generator(generator: Callable, output_types, output_shapes=None, args=None) -> DatasetV1:
        """A dataset of the elements `generator(*args)` yields, pulled when an iterator asks for them (the
        generator runs in this process, as TF's py_func does). Each element is converted to `output_types`
        and must match `output_shapes` (unknown when not given)."""
        if not callable(generator):
            raise TypeError("`generator` must be callable.")
        if output_shapes is None:
            output_shapes = map_structure(lambda _: _shape.unknown_shape(), output_types)
        else:
            assert_same_structure(output_types, output_shapes)
        specs = [TensorSpec(_dt.as_dtype(t).base_dtype, _shape.as_shape(s))
                 for t, s in zip(flatten(output_types), flatten(output_shapes))]
        structure = pack_as(output_types, specs)
        arg_tensors = [] if args is None else [_ops.convert_to_tensor(a, name=f"arg_{i}")
                                                for i, a in enumerate(args)]
        token = _fops.register_generator(generator)

        def flatten_yielded(value) -> list:
            if is_structure(output_types) and isinstance(value, list):
                value = tuple(value)
            assert_same_structure(output_types, value)
            return flatten(value)

        _fops.register_generator_structure(token, flatten_yielded)
        t = apply_op("PyGeneratorDataset", [arg_tensors], {"token": token, **_flat_attrs(structure)}).outputs[0]
        return DatasetV1(t, structure)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None) -> DatasetV1:
        """The paths matching the glob `file_pattern` (a string or a vector of them), shuffled unless
        `shuffle` is False; running the iterator's initializer fails with InvalidArgumentError when nothing
        matches."""
        with _ops.name_scope("list_files"):
            pattern = _ops.convert_to_tensor(file_pattern, dtype=_dt.string, name="file_pattern")
            matches = io_ops.matching_files(pattern)
            count = array_ops.shape(matches, out_type=_dt.int64)[0]
            condition = math_ops.greater(count, 0, name="match_not_empty")
            check = control_flow_ops.Assert(condition, ["No files matched pattern:", pattern], summarize=10,
                                            name="assert_not_empty")
            with _ops.control_dependencies([check]):
                matches = array_ops.identity(matches)
            dataset = DatasetV1.from_tensor_slices(matches)
            if shuffle is None or shuffle:
                dataset = dataset.shuffle(math_ops.maximum(count, 1), seed=seed)
            return dataset

    # -- transformations ------------------------------------------------------
    def apply(self, transformation_func: Callable) -> DatasetV1:
        """`transformation_func(self)`, which must return a Dataset."""
        dataset = transformation_func(self)
        if not isinstance(dataset, DatasetV1):
            raise TypeError(f"`transformation_func` must return a Dataset. Got {dataset}.")
        return dataset

    def concatenate(self, dataset: DatasetV1) -> DatasetV1:
        """This dataset's elements followed by `dataset`'s."""
        if not isinstance(dataset, DatasetV1):
            raise TypeError(f"`dataset` must be a Dataset, got {dataset!r}")
        types_a, types_b = self.output_types, dataset.output_types
        try:
            assert_same_structure(types_a, types_b)
        except ValueError:
            raise TypeError(f"Two datasets to concatenate have different types {types_a} and {types_b}") from None
        if types_a != types_b:
            raise TypeError(f"Two datasets to concatenate have different types {types_a} and {types_b}")
        if self.output_classes != dataset.output_classes:
            raise TypeError(f"Two datasets to concatenate have different classes {self.output_classes} and "
                            f"{dataset.output_classes}")

        structure = map_structure(merge_specs, self._structure, dataset._structure)
        t = apply_op("ConcatenateDataset", [self._variant_tensor, dataset._variant_tensor],
                     _flat_attrs(structure)).outputs[0]
        return DatasetV1(t, structure)

    def map(self, map_func: Callable, num_parallel_calls=None) -> DatasetV1:
        """`map_func` applied to each element (computed in order; `num_parallel_calls` is accepted)."""
        fn = trace_function(map_func, self._structure, "Dataset_map", "map_func")
        if num_parallel_calls is None:
            t = _function_op("MapDataset", [self._variant_tensor], fn, "f", fn.output_structure)
        else:
            n = _ops.convert_to_tensor(num_parallel_calls, dtype=_dt.int32, name="num_parallel_calls")
            t = _function_op("ParallelMapDataset", [self._variant_tensor, n], fn, "f", fn.output_structure)
        return DatasetV1(t, fn.output_structure)

    def map_with_legacy_function(self, map_func: Callable, num_parallel_calls=None) -> DatasetV1:
        """As `map` (TF traced this variant differently; here both trace the same way)."""
        return self.map(map_func, num_parallel_calls)

    def filter_with_legacy_function(self, predicate: Callable) -> DatasetV1:
        """As `filter` (TF traced this variant differently; here both trace the same way)."""
        return self.filter(predicate)

    def filter(self, predicate: Callable) -> DatasetV1:
        """The elements for which `predicate` returns True (a scalar bool tensor)."""
        fn = trace_function(predicate, self._structure, "Dataset_filter", "predicate")
        out = fn.output_structure
        if not isinstance(out, TensorSpec) or out.dtype != _dt.bool_ or out.shape.ndims not in (None, 0):
            raise ValueError(f"`predicate` return type must be convertible to a scalar boolean tensor. Was {out}.")
        t = _function_op("FilterDataset", [self._variant_tensor], fn, "predicate", self._structure)
        return DatasetV1(t, self._structure)

    def _dataset_function(self, map_func: Callable, name: str) -> TracedFunction:
        fn = trace_function(map_func, self._structure, name, "map_func")
        if not isinstance(fn.output_structure, DatasetSpec):
            raise TypeError(f"`map_func` must return a `Dataset` object. Got {fn.output_structure}")
        return fn

    def flat_map(self, map_func: Callable) -> DatasetV1:
        """The elements of the datasets `map_func` returns for each element, one dataset after another."""
        fn = self._dataset_function(map_func, "Dataset_flat_map")
        element = fn.output_structure.element
        t = _function_op("FlatMapDataset", [self._variant_tensor], fn, "f", element)
        return DatasetV1(t, element)

    def interleave(self, map_func: Callable, cycle_length=AUTOTUNE, block_length=1,
                   num_parallel_calls=None) -> DatasetV1:
        """The elements of the datasets `map_func` returns, `cycle_length` datasets at a time, taking
        `block_length` consecutive elements from each in turn (AUTOTUNE: as many as CPUs)."""
        fn = self._dataset_function(map_func, "Dataset_interleave")
        element = fn.output_structure.element
        inputs = [self._variant_tensor, _int64(cycle_length, "cycle_length"), _int64(block_length, "block_length")]
        if num_parallel_calls is None:
            t = _function_op("InterleaveDataset", inputs, fn, "f", element)
        else:
            inputs.append(_int64(num_parallel_calls, "num_parallel_calls"))
            t = _function_op("ParallelInterleaveDatasetV2", inputs, fn, "f", element)
        return DatasetV1(t, element)

    def batch(self, batch_size, drop_remainder: bool = False) -> DatasetV1:
        """Consecutive elements stacked into batches: each component's shape gains a leading dimension
        (None unless `drop_remainder` and a static batch size)."""
        size = _int64(batch_size, "batch_size")
        drop = _ops.convert_to_tensor(drop_remainder, dtype=_dt.bool_, name="drop_remainder")
        static_drop = _reg.constant_value(drop)
        n = _static_int(size) if static_drop is not None and bool(static_drop) else None
        structure = map_structure(lambda s: _batched(s, n), self._structure)
        t = apply_op("BatchDatasetV2", [self._variant_tensor, size, drop], _flat_attrs(structure)).outputs[0]
        return DatasetV1(t, structure)

    def padded_batch(self, batch_size, padded_shapes, padding_values=None, drop_remainder: bool = False) -> DatasetV1:
        """Batches whose components are padded to `padded_shapes` (None/-1 dims: the longest in the batch)
        with `padding_values` (0, False or b'' by default)."""
        specs = flatten(self._structure)
        try:
            assert_same_structure(self._structure, padded_shapes) if is_structure(self._structure) else None
        except ValueError:
            raise ValueError(f"padded_shapes {padded_shapes} does not match the structure of the dataset's "
                             f"elements {self.output_shapes}") from None
        shape_leaves = [padded_shapes] if not is_structure(self._structure) else flatten(padded_shapes)
        if padding_values is None:
            pad_leaves = [None] * len(specs)
        else:
            pad_leaves = [padding_values] if not is_structure(self._structure) else flatten(padding_values)
            if len(pad_leaves) != len(specs):
                raise ValueError("padding_values does not match the structure of the dataset's elements")
        shape_tensors, pad_tensors, padded = [], [], []
        for i, (spec, ps, pv) in enumerate(zip(specs, shape_leaves, pad_leaves)):
            if not isinstance(spec, TensorSpec):
                raise TypeError("padded_batch can only batch dense tensors, not datasets or SparseTensors.")
            tensor, static = _padded_shape(ps, i)
            if not _padded_shape_fits(static, spec.shape):
                raise ValueError(f"The padded shape {static} is not compatible with the corresponding input "
                                 f"component shape {spec.shape}.")
            shape_tensors.append(tensor)
            if pv is None:
                pv = b"" if spec.dtype == _dt.string else np.zeros([], spec.dtype.as_numpy_dtype)
            pad = _ops.convert_to_tensor(pv, dtype=spec.dtype, name=f"padding_value_{i}")
            if pad.shape.ndims not in (None, 0):
                raise ValueError(f"Padding value {i} must be a scalar, but has shape {pad.shape}.")
            pad_tensors.append(pad)
            padded.append(static)
        size = _int64(batch_size, "batch_size")
        drop = _ops.convert_to_tensor(drop_remainder, dtype=_dt.bool_, name="drop_remainder")
        static_drop = _reg.constant_value(drop)
        n = _static_int(size) if static_drop is not None and bool(static_drop) else None
        structure = pack_as(self._structure, [TensorSpec(s.dtype, _shape.TensorShape([n]).concatenate(p))
                                              for s, p in zip(specs, padded)])
        t = apply_op("PaddedBatchDatasetV2", [self._variant_tensor, size, shape_tensors, pad_tensors, drop],
                     {"output_shapes": [s.shape for s in flatten(structure)]}).outputs[0]
        return DatasetV1(t, structure)

    def unbatch(self) -> DatasetV1:
        """Each element split along its first dimension into consecutive elements."""
        structure = map_structure(_unbatched, self._structure)
        t = apply_op("UnbatchDataset", [self._variant_tensor], _flat_attrs(structure)).outputs[0]
        return DatasetV1(t, structure)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None) -> DatasetV1:
        """The elements in random order through a buffer of `buffer_size` (TF1's graph/op seed rules; with
        `reshuffle_each_iteration`, the default, each pass over it, e.g. after repeat(), is ordered anew)."""
        size = _int64(buffer_size, "buffer_size")
        # The op seed derived from a graph seed counts the ops made so far, buffer_size included, as in TF.
        seed1, seed2 = random_ops.get_seed(seed)
        reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        t = apply_op("ShuffleDataset",
                     [self._variant_tensor, size, _int64(seed1 or 0, "seed"), _int64(seed2 or 0, "seed2")],
                     {"reshuffle_each_iteration": reshuffle, **_flat_attrs(self._structure)}).outputs[0]
        return DatasetV1(t, self._structure)

    def _counted(self, op_type: str, count, name: str) -> DatasetV1:
        t = apply_op(op_type, [self._variant_tensor, _int64(count, name)], _flat_attrs(self._structure)).outputs[0]
        return DatasetV1(t, self._structure)

    def repeat(self, count=None) -> DatasetV1:
        """This dataset `count` times over (None or -1: forever)."""
        return self._counted("RepeatDataset", -1 if count is None else count, "count")

    def take(self, count) -> DatasetV1:
        """At most the first `count` elements (-1: all)."""
        return self._counted("TakeDataset", count, "count")

    def skip(self, count) -> DatasetV1:
        """All but the first `count` elements (-1: none)."""
        return self._counted("SkipDataset", count, "count")

    def prefetch(self, buffer_size) -> DatasetV1:
        """The same elements (tfmini computes each when it is asked for; `buffer_size` is checked only)."""
        return self._counted("PrefetchDataset", buffer_size, "buffer_size")

    def shard(self, num_shards, index) -> DatasetV1:
        """Every `num_shards`-th element, starting with element `index`."""
        t = apply_op("ShardDataset", [self._variant_tensor, _int64(num_shards, "num_shards"), _int64(index, "index")],
                     _flat_attrs(self._structure)).outputs[0]
        return DatasetV1(t, self._structure)

    def cache(self, filename="") -> DatasetV1:
        """The same elements, read from this dataset once and then replayed from memory."""
        name = _ops.convert_to_tensor(filename, dtype=_dt.string, name="filename")
        t = apply_op("CacheDataset", [self._variant_tensor, name], _flat_attrs(self._structure)).outputs[0]
        return DatasetV1(t, self._structure)

    def enumerate(self, start=0) -> DatasetV1:
        """(index, element) pairs, the index counting from `start`."""
        return DatasetV1.zip((DatasetV1.range(start, np.iinfo(np.int64).max), self))

    def window(self, size, shift=None, stride=1, drop_remainder: bool = False) -> DatasetV1:
        """A dataset of windows: each element is a (structure of) dataset(s) of `size` consecutive elements
        (`stride` apart), windows starting every `shift` elements (default `size`)."""
        for s in flatten(self._structure):
            if isinstance(s, DatasetSpec):
                raise TypeError("window() of a dataset of datasets is not supported.")
        structure = map_structure(lambda s: DatasetSpec(s), self._structure)
        t = apply_op("WindowDataset",
                     [self._variant_tensor, _int64(size, "size"), _int64(size if shift is None else shift, "shift"),
                      _int64(stride, "stride"),
                      _ops.convert_to_tensor(drop_remainder, dtype=_dt.bool_, name="drop_remainder")],
                     _flat_attrs(structure)).outputs[0]
        return DatasetV1(t, structure)

    def reduce(self, initial_state, reduce_func: Callable):
        """`reduce_func(state, element)` folded over every element, starting from `initial_state`: tensors
        with the state's structure (computed when they run, reading the whole dataset)."""
        flat_init, fn, state_structure = trace_with_state(reduce_func, initial_state, self._structure,
                                                          "Dataset_reduce", "reduce_func", lambda out: out)
        out = apply_op("ReduceDataset", [self._variant_tensor, flat_init, fn.captured],
                       {"f": fn.graph, "Tstate": [t.dtype for t in flat_init], **fn.attrs,
                        **_flat_attrs(state_structure)})
        return pack_as(state_structure, out.outputs)

    # -- options ------------------------------------------------------------------
    def options(self) -> Options:
        """The options set on this dataset and on the datasets it is built from, merged."""
        merged = Options()
        seen = set()
        stack = [self._variant_tensor]
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            own = _DATASET_OPTIONS.get(t)
            if own is not None:
                merged = merged.merge(own)
            stack.extend(x for x in t.op.inputs if x.dtype.base_dtype == _dt.variant)
        return merged

    def with_options(self, options: Options) -> DatasetV1:
        """This dataset with `options` set (merged with those it has; ValueError on a conflict). The
        options are recorded; none of them changes what tfmini yields."""
        if not isinstance(options, Options):
            raise TypeError(f"options must be a tf.data.Options, got {options!r}")
        self.options().merge(options)  # refuses conflicting values now, as TF does
        t = array_ops.identity(self._variant_tensor, name="OptionsDataset")
        _DATASET_OPTIONS[t] = options
        return DatasetV1(t, self._structure)

    # -- iterators --------------------------------------------------------------
    def make_one_shot_iterator(self):
        """An iterator over this dataset that initializes itself on first use (the pipeline may not depend
        on placeholders or variables: use make_initializable_iterator for those)."""
        return iterator_ops.make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name=None):
        """An iterator whose `initializer` (re)starts it at this dataset's first element."""
        return iterator_ops.make_initializable_iterator(self, shared_name)


Dataset = DatasetV1

# Options set with with_options, by the dataset tensor they were set on (dropped with the graph).
_DATASET_OPTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def most_specific_shape(a: _shape.TensorShape, b: _shape.TensorShape) -> _shape.TensorShape:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return _shape.unknown_shape()
    return _shape.TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def _unbatched(spec):
    if isinstance(spec, DatasetSpec):
        raise ValueError("Cannot unbatch an input whose components are datasets.")
    shape = spec.dense_shape if isinstance(spec, SparseSpec) else spec.shape
    if shape.ndims == 0:
        raise ValueError("Cannot unbatch an input with scalar components.")
    rest = shape[1:] if shape.ndims is not None else _shape.unknown_shape()
    return SparseSpec(spec.value_dtype, rest) if isinstance(spec, SparseSpec) else TensorSpec(spec.dtype, rest)


def _batched(spec, n):
    if isinstance(spec, DatasetSpec):
        raise TypeError("batch() cannot batch elements that are datasets; use flat_map(lambda d: d.batch(n)) on "
                        "each window instead.")
    if isinstance(spec, SparseSpec):
        return SparseSpec(spec.value_dtype, _shape.TensorShape([n]).concatenate(spec.dense_shape))
    return TensorSpec(spec.dtype, _shape.TensorShape([n]).concatenate(spec.shape))


def _padded_shape_fits(padded: _shape.TensorShape, shape: _shape.TensorShape) -> bool:
    """Whether elements of `shape` can be padded to `padded`: the same rank, and no known padded dimension
    smaller than the element's known dimension."""
    if padded.ndims is None or shape.ndims is None:
        return True
    if padded.ndims != shape.ndims:
        return False
    return all(p is None or d is None or p >= d for p, d in zip(padded.as_list(), shape.as_list()))


def _padded_shape(value, index: int) -> tuple[_ops.Tensor, _shape.TensorShape]:
    """A padded shape given as a TensorShape, list or tensor: the int64 vector for the op (-1 for unknown
    dims) and the static shape it denotes."""
    if isinstance(value, _ops.Tensor):
        t = _ops.convert_to_tensor(value, dtype=_dt.int64) if value.dtype != _dt.int64 else value
        return t, _reg.constant_value_as_shape(t)
    shape = _shape.as_shape(value)
    if shape.ndims is None:
        raise ValueError(f"Padded shape {index} must have a known rank.")
    dims = [-1 if d is None else d for d in shape.as_list()]
    t = _ops.convert_to_tensor(np.array(dims, dtype=np.int64), dtype=_dt.int64, name=f"padded_shape_{index}")
    return t, shape


