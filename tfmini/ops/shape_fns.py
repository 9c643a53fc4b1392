"""Shape functions shared by many ops (pure functions from input shapes to output shapes)."""

from __future__ import annotations

from tfmini.framework import tensor_shape as _shape


def unchanged(op):
    """Output 0 has the shape of input 0."""
    return op.inputs[0].shape


def scalar(op):
    return _shape.scalar()


def unknown(op):
    return _shape.unknown_shape()


def broadcast_static(a: _shape.TensorShape, b: _shape.TensorShape) -> _shape.TensorShape:
    """NumPy broadcasting on static shapes; raises ValueError when known dims clash."""
    da, db = a.as_tuple(), b.as_tuple()
    if da is None or db is None:
        return _shape.unknown_shape()
    n = max(len(da), len(db))
    da = (1,) * (n - len(da)) + da
    db = (1,) * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
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
    return _shape.TensorShape(out)


def broadcast(op):
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
