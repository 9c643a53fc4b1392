"""The arithmetic of 2-D convolution on NHWC arrays, below the Conv2D kernels of nn_ops: im2col in
cache-sized batch chunks for the forward pass, the input gradient of a stride-1 convolution as a forward
convolution of the output gradient with the flipped filter, and the filter gradient as one GEMM over the
contiguous columns. Knows nothing of ops, attrs or graphs: callers pass the padded geometry.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Bytes of im2col columns built at a time: small enough that the columns written by the copy are still in
# the L2 cache when the GEMM reads them, large enough that the GEMM calls stay few.
COLUMN_CHUNK_BYTES = 1 << 20


def window_columns(xp: np.ndarray, oh: int, ow: int, kh: int, kw: int, strides: tuple, dilations: tuple):
    """A read-only (n, oh, ow, kh, kw, c) view of the windows of the padded NHWC input `xp`."""
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    (sh, sw), (dh, dw) = strides, dilations
    return as_strided(xp, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)


def pad_nhwc(x: np.ndarray, pads: tuple, dtype) -> np.ndarray:
    """`x` as `dtype`, zero-padded by ((top, bottom), (left, right)); `x` itself (never written) when there
    is nothing to pad or convert."""
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return x.astype(dtype, copy=False)
    n, h, w, c = x.shape
    out = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dtype)
    out[:, pt:pt + h, pl:pl + w, :] = x
    return out


def _batch_chunk(cols_shape: tuple, itemsize: int) -> int:
    per_image = itemsize
    for d in cols_shape[1:]:
        per_image *= d
    return max(1, COLUMN_CHUNK_BYTES // max(per_image, 1))


def conv2d(xp: np.ndarray, w: np.ndarray, oh: int, ow: int, strides: tuple, dilations: tuple) -> np.ndarray:
    """Correlation of the padded NHWC input `xp` with the HWIO filter `w`: a fresh (n, oh, ow, oc) array of
    `xp`'s dtype. The columns of a few images at a time are copied out of the window view and multiplied
    with the filter matrix straight into the output."""
    kh, kw, c, oc = w.shape
    n = xp.shape[0]
    out = np.empty((n, oh, ow, oc), dtype=xp.dtype)
    if out.size == 0:
        return out
    wmat = w.reshape(kh * kw * c, oc).astype(xp.dtype, copy=False)
    if kh == kw == 1 and strides == (1, 1):
        np.matmul(xp.reshape(-1, c), wmat, out=out.reshape(-1, oc))
        return out
    view = window_columns(xp, oh, ow, kh, kw, strides, dilations)
    chunk = _batch_chunk(view.shape, xp.itemsize)
    cols = np.empty((min(chunk, n),) + view.shape[1:], dtype=xp.dtype)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = cols[:stop - start]
        np.copyto(part, view[start:stop])
        np.matmul(part.reshape(-1, kh * kw * c), wmat, out=out[start:stop].reshape(-1, oc))
    return out


def conv2d_backprop_input_stride1(dy: np.ndarray, w: np.ndarray, h: int, wd: int, pads: tuple,
                                  dilations: tuple) -> np.ndarray | None:
    """The input gradient of a stride-1 convolution: the output gradient `dy` (n, oh, ow, oc), padded by
    what the window reached past the input, correlated with the filter turned 180 degrees and with its
    channel axes swapped. Returns a fresh (n, h, wd, c) array of `dy`'s dtype, or None when a padding
    exceeds the dilated filter (then the caller's scatter path applies)."""
    kh, kw = w.shape[:2]
    (pt, pb), (pl, pr) = pads
    eh, ew = (kh - 1) * dilations[0], (kw - 1) * dilations[1]
    back = ((eh - pt, eh - pb), (ew - pl, ew - pr))
    if min(back[0] + back[1]) < 0:
        return None
    flipped = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
    return conv2d(pad_nhwc(dy, back, dy.dtype), flipped, h, wd, (1, 1), dilations)


def conv2d_backprop_filter(xp: np.ndarray, dy: np.ndarray, kh: int, kw: int, strides: tuple,
                           dilations: tuple) -> np.ndarray:
    """The filter gradient (kh, kw, c, oc) from the padded input `xp` and the output gradient `dy`: the
    transposed columns times the output gradient, summed over chunks of images."""
    n, oh, ow, oc = dy.shape
    c = xp.shape[3]
    grad = np.zeros((kh * kw * c, oc), dtype=xp.dtype)
    view = window_columns(xp, oh, ow, kh, kw, strides, dilations)
    chunk = _batch_chunk(view.shape, xp.itemsize)
    cols = np.empty((min(chunk, n),) + view.shape[1:], dtype=xp.dtype)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = cols[:stop - start]
        np.copyto(part, view[start:stop])
        grad += part.reshape(-1, kh * kw * c).T @ dy[start:stop].reshape(-1, oc)
    return grad.reshape(kh, kw, c, oc)
