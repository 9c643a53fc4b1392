"""TF's band-diagonal ops, MatrixDiagV3, MatrixDiagPartV3 and MatrixSetDiagV3: diagonals k[0]..k[1] of the last two
dimensions (0 the main diagonal, > 0 above it), each stored in a row of length max_diag_len and aligned by `align`
(superdiagonals first, then subdiagonals: "RIGHT_LEFT", TF's default, puts superdiagonals right and subdiagonals
left). Graphs TensorFlow 2.x writes for tf.linalg.diag, diag_part and set_diag use them.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops

_ALIGNS = ("LEFT_RIGHT", "RIGHT_LEFT", "LEFT_LEFT", "RIGHT_RIGHT")
_ALIGN_ATTR = {"align": ("string", "RIGHT_LEFT")}
_fmt = _shape.dims_str


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _band(k) -> tuple[int, int]:
    k = np.reshape(np.asarray(k), [-1])
    if k.size not in (1, 2):
        raise _invalid(f"diag_index must have only one or two elements, received {k.size} elements.")
    lo, hi = int(k[0]), int(k[-1])
    if lo > hi:
        raise _invalid(f"lower_diag_index must not be larger than upper_diag_index: {lo} > {hi}")
    return lo, hi


def _check_align(align: str) -> None:
    if align not in _ALIGNS:
        raise ValueError(f"align must be one of {', '.join(_ALIGNS)}, got {align!r}")


def _diag_len(d: int, rows: int, cols: int) -> int:
    return max(min(rows + min(0, d), cols - max(0, d)), 0)


def _placements(lo: int, hi: int, rows: int, cols: int, align: str, max_len: int | None = None):
    """(max_len, one entry per stored diagonal row i, diagonal d = hi - i: (i, matrix rows, matrix cols,
    positions in the stored row)). `max_len`, the stored rows' length, defaults to the longest diagonal of the
    band; matrix elements whose position falls outside a stored row are padding."""
    if max_len is None:
        max_len = max(min(rows + min(hi, 0), cols - max(lo, 0)), 0)
    left_super = align in ("LEFT_LEFT", "LEFT_RIGHT")
    left_sub = align in ("LEFT_LEFT", "RIGHT_LEFT")
    out = []
    for i, d in enumerate(range(hi, lo - 1, -1)):
        n = _diag_len(d, rows, cols)
        j = np.arange(n)
        right = (d >= 0 and not left_super) or (d <= 0 and not left_sub)
        p = j + (max_len - n if right else 0)
        keep = (p >= 0) & (p < max_len)
        out.append((i, (j - min(0, d))[keep], (j + max(0, d))[keep], p[keep]))
    return max_len, out


def _diag_v3_kernel(diagonal, k, num_rows, num_cols, padding_value, *, align):
    lo, hi = _band(k)
    diagonal = np.asarray(diagonal)
    single = lo == hi
    if diagonal.ndim < (1 if single else 2):
        raise _invalid(f"diagonal must be at least {1 if single else 2}-dim, received shape {_fmt(diagonal.shape)}")
    stored = diagonal[..., None, :] if single else diagonal
    if stored.shape[-2] != hi - lo + 1:
        raise _invalid(f"The number of diagonals provided in the input does not match the lower_diag_index and "
                       f"upper_diag_index range: {stored.shape[-2]} vs. {hi - lo + 1}")
    max_len = stored.shape[-1]
    min_rows, min_cols = max_len - min(hi, 0), max_len + max(lo, 0)
    rows, cols = int(num_rows), int(num_cols)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows < min_rows or cols < min_cols or (rows != min_rows and cols != min_cols):
        raise _invalid(f"The number of rows or columns is not consistent with the specified d_lower, d_upper, and "
                       f"diagonal: num_rows {rows}, num_cols {cols}, diagonal shape {_fmt(diagonal.shape)}")
    out = np.full(stored.shape[:-2] + (rows, cols), np.asarray(padding_value, dtype=diagonal.dtype),
                  dtype=diagonal.dtype)
    _, places = _placements(lo, hi, rows, cols, align, max_len)
    for i, r, c, p in places:
        out[..., r, c] = stored[..., i, p]
    return out


def _diag_v3_shape(op):
    _check_align(op.get_attr("align"))
    k = _reg.constant_value(op.inputs[1])
    rows, cols = (_reg.constant_value(t) for t in op.inputs[2:4])
    diag = op.inputs[0].shape
    if k is None or diag.ndims is None:
        return _shape.unknown_shape()
    lo, hi = _band(k)
    batch = diag[:-1] if lo == hi else diag[:-2]
    max_len = diag[-1].value
    if rows is None or cols is None or max_len is None:
        return batch.concatenate([None, None])
    rows, cols = int(rows), int(cols)
    min_rows, min_cols = max_len - min(hi, 0), max_len + max(lo, 0)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    rows = min_rows if rows == -1 else rows
    cols = min_cols if cols == -1 else cols
    return batch.concatenate([rows, cols])


register_op("MatrixDiagV3", inputs=["diagonal: T", "k: int32", "num_rows: int32", "num_cols: int32",
                                    "padding_value: T"], outputs=["output: T"], attrs=dict(_ALIGN_ATTR),
            shape=_diag_v3_shape, fresh_output=True)(_diag_v3_kernel)


def _diag_part_v3_kernel(x, k, padding_value, *, align):
    lo, hi = _band(k)
    x = np.asarray(x)
    if x.ndim < 2:
        raise _invalid(f"input must be at least 2-dim, received shape: {_fmt(x.shape)}")
    rows, cols = x.shape[-2:]
    if not (-rows < lo <= 0 or 0 <= lo < cols or (rows == 0 or cols == 0)) or \
            not (-rows < hi <= 0 or 0 <= hi < cols or (rows == 0 or cols == 0)):
        raise _invalid(f"The diagonal indices {lo}, {hi} are out of bounds for a {rows}x{cols} matrix.")
    max_len, places = _placements(lo, hi, rows, cols, align)
    out = np.full(x.shape[:-2] + (hi - lo + 1, max_len), np.asarray(padding_value, dtype=x.dtype), dtype=x.dtype)
    for i, r, c, p in places:
        out[..., i, p] = x[..., r, c]
    return out[..., 0, :] if lo == hi else out


def _diag_part_v3_shape(op):
    _check_align(op.get_attr("align"))
    k = _reg.constant_value(op.inputs[1])
    x = op.inputs[0].shape
    if k is None or x.ndims is None:
        return _shape.unknown_shape()
    x = x.with_rank_at_least(2)
    lo, hi = _band(k)
    rows, cols = x[-2].value, x[-1].value
    max_len = None if rows is None or cols is None else max(min(rows + min(hi, 0), cols - max(lo, 0)), 0)
    return x[:-2].concatenate([max_len] if lo == hi else [hi - lo + 1, max_len])


register_op("MatrixDiagPartV3", inputs=["input: T", "k: int32", "padding_value: T"], outputs=["diagonal: T"],
            attrs=dict(_ALIGN_ATTR), shape=_diag_part_v3_shape, fresh_output=True)(_diag_part_v3_kernel)


def _set_diag_v3_kernel(x, diagonal, k, *, align):
    lo, hi = _band(k)
    x, diagonal = np.asarray(x), np.asarray(diagonal)
    if x.ndim < 2:
        raise _invalid(f"input must be at least 2-dim, received shape: {_fmt(x.shape)}")
    rows, cols = x.shape[-2:]
    max_len, places = _placements(lo, hi, rows, cols, align)
    stored = diagonal[..., None, :] if lo == hi else diagonal
    want = x.shape[:-2] + (hi - lo + 1, max_len)
    if stored.shape != want:
        raise _invalid(f"diagonal must have shape {_fmt(want[:-2] + want[-1:] if lo == hi else want)}, received "
                       f"{_fmt(diagonal.shape)}")
    out = x.copy()
    for i, r, c, p in places:
        out[..., r, c] = stored[..., i, p]
    return out


def _set_diag_v3_shape(op):
    _check_align(op.get_attr("align"))
    return op.inputs[0].shape


register_op("MatrixSetDiagV3", inputs=["input: T", "diagonal: T", "k: int32"], outputs=["output: T"],
            attrs=dict(_ALIGN_ATTR), shape=_set_diag_v3_shape, fresh_output=True)(_set_diag_v3_kernel)


def _zero_of(t):
    return array_ops.zeros([], dtype=t.dtype.base_dtype)


def _diag_part(x, k, align):
    return apply_op("MatrixDiagPartV3", [x, k, _zero_of(x)], {"align": align}).outputs[0]


def _set_diag(x, diagonal, k, align):
    return apply_op("MatrixSetDiagV3", [x, diagonal, k], {"align": align}).outputs[0]


@RegisterGradient("MatrixDiagV3")
def _diag_v3_grad(op, grad):
    return _diag_part(grad, op.inputs[1], op.get_attr("align")), None, None, None, None


@RegisterGradient("MatrixDiagPartV3")
def _diag_part_v3_grad(op, grad):
    x, k = op.inputs[0], op.inputs[1]
    return _set_diag(array_ops.zeros_like(x), grad, k, op.get_attr("align")), None, None


@RegisterGradient("MatrixSetDiagV3")
def _set_diag_v3_grad(op, grad):
    x, diagonal, k = op.inputs
    align = op.get_attr("align")
    return (_set_diag(grad, array_ops.zeros_like(diagonal), k, align), _diag_part(grad, k, align), None)
