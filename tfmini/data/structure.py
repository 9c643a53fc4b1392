"""Element structures of tf.data: the nest helpers (tuples and dicts are structure; everything else, lists
included, is a leaf, as in TF's data/util/nest) and `TensorSpec`, one tensor component of an element."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable
from dataclasses import dataclass

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import apply_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import dataset_sparse as _dataset_sparse  # noqa: F401 - registers the sparse component ops
from tfmini.ops.functional_ops import children, rebuild


def is_structure(x) -> bool:
    return isinstance(x, (tuple, collections.abc.Mapping))


def flatten(structure) -> list:
    """The leaves of `structure`, depth first; dicts in sorted key order."""
    if not is_structure(structure):
        return [structure]
    out: list = []
    for child in children(structure):
        out.extend(flatten(child))
    return out


def pack_as(structure, flat: list):
    """`flat` rebuilt in the shape of `structure` (the inverse of `flatten`)."""
    flat = list(flat)
    if len(flatten(structure)) != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {len(flatten(structure))} elements, but "
                         f"flat_sequence had {len(flat)} elements.")
    pos = 0

    def pack(like):
        nonlocal pos
        if not is_structure(like):
            pos += 1
            return flat[pos - 1]
        return rebuild(like, [pack(c) for c in children(like)])

    return pack(structure)


def map_structure(fn: Callable, *structures):
    first = structures[0]
    for other in structures[1:]:
        assert_same_structure(first, other)
    flats = [flatten(s) for s in structures]
    return pack_as(first, [fn(*xs) for xs in zip(*flats)])


def assert_same_structure(a, b) -> None:
    """ValueError unless `a` and `b` nest the same way (tuples, dicts with the same keys, leaves)."""
    def check(x, y) -> None:
        if is_structure(x) != is_structure(y):
            raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                             f"{a!r}\n\nSecond structure: {b!r}")
        if not is_structure(x):
            return
        if isinstance(x, collections.abc.Mapping) != isinstance(y, collections.abc.Mapping) or len(x) != len(y) or (
                isinstance(x, collections.abc.Mapping) and set(x) != set(y)):
            raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                             f"{a!r}\n\nSecond structure: {b!r}")
        for cx, cy in zip(children(x), children(y)):
            check(cx, cy)

    check(a, b)


@dataclass(frozen=True)
class TensorSpec:
    """One leaf of an element: a tensor of `dtype` and static `shape`."""

    dtype: _dt.DType
    shape: _shape.TensorShape

    @property
    def output_class(self):
        return _ops.Tensor

    def legacy_type(self):
        return self.dtype

    def legacy_shape(self):
        return self.shape

    def wrap(self, tensor: _ops.Tensor):
        return tensor


@dataclass(frozen=True)
class SparseSpec:
    """One leaf of an element that is a SparseTensor of `value_dtype` with static dense shape `dense_shape`:
    one variant component in the dataset ops."""

    value_dtype: _dt.DType
    dense_shape: _shape.TensorShape

    dtype = _dt.variant
    shape = _shape.TensorShape([])

    @property
    def output_class(self):
        return SparseTensor

    def legacy_type(self):
        return self.value_dtype

    def legacy_shape(self):
        return self.dense_shape

    def wrap(self, tensor: _ops.Tensor) -> SparseTensor:
        op = apply_op("DatasetVariantToSparseTensor", [tensor], {"dtype": self.value_dtype, "shape": self.dense_shape})
        return SparseTensor(*op.outputs)


def structure_str(structure, fn: Callable) -> str:
    def render(x) -> str:
        if isinstance(x, collections.abc.Mapping):
            return "{" + ", ".join(f"{k!r}: {render(x[k])}" for k in x) + "}"
        if isinstance(x, tuple):
            inner = ", ".join(render(c) for c in x)
            return f"({inner},)" if len(x) == 1 else f"({inner})"
        return fn(x)

    return render(structure)


def shape_str(shape: _shape.TensorShape) -> str:
    if shape.ndims is None:
        return "<unknown>"
    dims = ["?" if d is None else str(d) for d in shape.as_list()]
    return f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"
