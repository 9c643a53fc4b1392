"""Shape functions shared by many ops (pure functions from input shapes to output shapes)."""

from __future__ import annotations

from collections.abc import Sequence

from tfmini.framework import tensor_shape as _shape


def unchanged(op) -> _shape.TensorShape:
    """Output 0 has the shape of input 0."""
    return op.inputs[0].shape


def scalar(op) -> _shape.TensorShape:
    return _shape.scalar()


def unknown(op) -> _shape.TensorShape:
    return _shape.unknown_shape()


def merge_dims(a: tuple | None, b: tuple | None) -> tuple | None:
    """The most specific dims compatible with both (tuples with None for unknown dims, None for an unknown
    rank); ValueError with TF's message when they clash."""
    if a is None:
        return b
    if b is None:
        return a
    if len(a) != len(b):
        raise ValueError(f"Shapes must be equal rank, but are {len(a)} and {len(b)}")
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x is not None and y is not None and x != y:
            raise ValueError(f"Dimension {i} in both shapes must be equal, but are {x} and {y}. Shapes are "
                             f"{_shape.dims_str(a)} and {_shape.dims_str(b)}.")
        out.append(x if x is not None else y)
    return tuple(out)


def broadcast_dims(a: Sequence, b: Sequence) -> list:
    """NumPy broadcasting of two dim sequences (ints, or None where unknown); ValueError when known dims clash.
    Shape functions and kernels (on concrete shapes) share it."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)
        elif y is None or x == y:
            out.append(x)
        else:
            raise ValueError(f"Dimensions must be equal, but are {x} and {y}")
    return out


def broadcast_static(a: _shape.TensorShape, b: _shape.TensorShape) -> _shape.TensorShape:
    """NumPy broadcasting on static shapes; raises ValueError when known dims clash."""
    da, db = a.as_tuple(), b.as_tuple()
    if da is None or db is None:
        return _shape.unknown_shape()
    return _shape.TensorShape(broadcast_dims(da, db))


def broadcast(op) -> _shape.TensorShape:
    result = op.inputs[0].shape
    for t in op.inputs[1:]:
        result = broadcast_static(result, t.shape)
    return result


def reduced(input_shape: _shape.TensorShape, axes, keep_dims: bool) -> _shape.TensorShape:
    """The shape after reducing `axes` (None = all; an unknown list gives unknown rank/shape)."""
    dims = input_shape.as_tuple()
    if axes is None:
        if keep_dims:
            return _shape.unknown_shape() if dims is None else _shape.TensorShape([1] * len(dims))
        return _shape.scalar()
    if dims is None:
        return _shape.unknown_shape()
    rank = len(dims)
    norm = set()
    for a in axes:
        a = int(a)
        if a < -rank or a >= rank:
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions")
        norm.add(a % rank if rank else 0)
    if keep_dims:
        return _shape.TensorShape([1 if i in norm else d for i, d in enumerate(dims)])
    return _shape.TensorShape([d for i, d in enumerate(dims) if i not in norm])
