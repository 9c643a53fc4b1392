"""Short text for tfmini things every display names: dtypes, static shapes, attr values (Python values and
AttrValue protos) and tensor summaries. Uses tfmini's public API only and never runs anything."""

from __future__ import annotations

import numpy as np

import tfmini as tf
from ipython_ext.markup import truncate

ATTR_LIMIT = 120


def dtype_text(dtype) -> str:
    try:
        return tf.as_dtype(dtype).name
    except (TypeError, ValueError, KeyError):
        return str(dtype)


def shape_text(shape) -> str:
    """'(?, 3)' for a TensorShape or a TensorShapeProto; '<unknown>' for an unknown rank."""
    if isinstance(shape, tf.TensorShapeProto):
        if shape.unknown_rank:
            return "<unknown>"
        dims = ["?" if d.size < 0 else str(d.size) for d in shape.dim]
    else:
        dims_list = tf.TensorShape(shape).dims
        if dims_list is None:
            return "<unknown>"
        dims = ["?" if tf.dimension_value(d) is None else str(tf.dimension_value(d)) for d in dims_list]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def tensor_text(t) -> str:
    """'float32 (?, 3)' for a Tensor."""
    return f"{dtype_text(t.dtype)} {shape_text(t.shape)}"


def _array_text(arr: np.ndarray) -> str:
    with np.printoptions(threshold=8, edgeitems=2, precision=4, suppress=True):
        values = np.array2string(arr, separator=", ") if arr.ndim else repr(arr.item())
    return truncate(f"{arr.dtype.name if arr.dtype.kind != 'O' else 'string'} {arr.shape} {values}", ATTR_LIMIT)


def attr_text(value) -> str:
    """A Python attr value (what `Operation.get_attr` returns) in one short line."""
    if isinstance(value, tf.DType):
        return value.name
    if isinstance(value, tf.TensorShape):
        return shape_text(value)
    if isinstance(value, np.ndarray):
        return _array_text(value)
    if isinstance(value, bytes):
        return truncate(value.decode("utf-8", "backslashreplace"), ATTR_LIMIT)
    if isinstance(value, (list, tuple)):
        # Only the items that can fit the line are formatted, so a list attr of a million items costs nothing.
        more = ", …" if len(value) > ATTR_LIMIT // 2 else ""
        return truncate("[" + ", ".join(attr_text(v) for v in value[: ATTR_LIMIT // 2]) + more + "]", ATTR_LIMIT)
    if isinstance(value, tf.AttrValue):
        return attr_value_text(value)
    return truncate(repr(value), ATTR_LIMIT)


def attr_value_text(av) -> str:
    """An AttrValue proto (from a NodeDef) in one short line."""
    kind = av.WhichOneof("value")
    if kind == "type":
        return dtype_text(av.type)
    if kind == "shape":
        return shape_text(av.shape)
    if kind == "tensor":
        try:
            return _array_text(np.asarray(tf.make_ndarray(av.tensor)))
        except Exception:  # noqa: BLE001 - a malformed tensor in a foreign GraphDef still gets displayed
            return f"tensor of {dtype_text(av.tensor.dtype)}"
    if kind == "s":
        return truncate(av.s.decode("utf-8", "backslashreplace"), ATTR_LIMIT)
    if kind == "func":
        return av.func.name
    if kind == "placeholder":
        return "$" + av.placeholder
    if kind == "list":
        lv = av.list
        items = ([dtype_text(t) for t in lv.type] + [shape_text(s) for s in lv.shape]
                 + [s.decode("utf-8", "backslashreplace") for s in lv.s] + [str(i) for i in lv.i]
                 + [f"{f:.4g}" for f in lv.f] + [str(b) for b in lv.b] + [f.name for f in lv.func])
        return truncate("[" + ", ".join(items) + "]", ATTR_LIMIT)
    if kind is None:
        return ""
    return truncate(str(getattr(av, kind)), ATTR_LIMIT)


def op_attrs(op) -> list[tuple[str, str]]:
    """(name, text) for each attr of an Operation, sorted by name (a proto map has no stable order)."""
    out = []
    for name in sorted(op.node_def.attr):
        try:
            out.append((name, attr_text(op.get_attr(name))))
        except ValueError:
            continue
    return out
