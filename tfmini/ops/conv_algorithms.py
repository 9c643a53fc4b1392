"""The arithmetic of 2-D convolution on NHWC arrays, below the Conv2D kernels of nn_ops: im2col with the GEMM
writing straight into the output for the forward pass, the input gradient of a stride-1 convolution as a forward
convolution of the output gradient with the flipped filter, and the filter gradient as one GEMM over the
contiguous columns. Knows nothing of ops, attrs or graphs: callers pass the padded geometry.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Bytes of im2col columns built at a time, which bounds the extra memory of a large convolution. Not smaller:
# cache-sized chunks gain a little with single-threaded BLAS but make every GEMM small, and a multi-threaded
# BLAS on a busy machine then spends most of a step waking its threads (measured up to 10x slower).
COLUMN_CHUNK_BYTES = 1 << 26


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
    `xp`'s dtype. The columns (of all images, or of as many as COLUMN_CHUNK_BYTES holds) are copied out of
    the window view and multiplied with the filter matrix straight into the output."""
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


def window_taps(xp: np.ndarray, oh: int, ow: int, kh: int, kw: int, strides: tuple, dilations: tuple):
    """(i, j, view) per filter position: the (n, oh, ow, c) elements of `xp` that position multiplies."""
    (sh, sw), (dh, dw) = strides, dilations
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            yield i, j, xp[:, r0:r0 + sh * (oh - 1) + 1:sh, c0:c0 + sw * (ow - 1) + 1:sw, :]


def depthwise_conv2d(xp: np.ndarray, f: np.ndarray, oh: int, ow: int, strides: tuple,
                     dilations: tuple) -> np.ndarray:
    """Depthwise correlation of the padded NHWC input with the (kh, kw, c, m) filter: a fresh
    (n, oh, ow, c, m) array, accumulated one filter position at a time (each a broadcast multiply-add over
    the whole batch, with no columns materialized)."""
    kh, kw, c, m = f.shape
    out = np.zeros((xp.shape[0], oh, ow, c, m), dtype=xp.dtype)
    if out.size == 0:
        return out
    f = f.astype(xp.dtype, copy=False)
    term = np.empty_like(out)
    for i, j, tap in window_taps(xp, oh, ow, kh, kw, strides, dilations):
        np.multiply(tap[..., None], f[i, j], out=term)
        out += term
    return out


def depthwise_conv2d_backprop_input(dy5: np.ndarray, f: np.ndarray, padded_hw: tuple, strides: tuple,
                                    dilations: tuple) -> np.ndarray:
    """The padded (n, H, W, c) input gradient of a depthwise convolution from its (n, oh, ow, c, m) output
    gradient: each filter position adds its channels' weighted gradients onto the elements it read."""
    n, oh, ow, c, m = dy5.shape
    kh, kw = f.shape[:2]
    dxp = np.zeros((n, *padded_hw, c), dtype=dy5.dtype)
    f = f.astype(dy5.dtype, copy=False)
    term = np.empty((n, oh, ow, c), dtype=dy5.dtype)
    for i, j, tap in window_taps(dxp, oh, ow, kh, kw, strides, dilations):
        if m == 1:
            np.multiply(dy5[..., 0], f[i, j, :, 0], out=term)
        else:
            np.einsum("nhwcm,cm->nhwc", dy5, f[i, j], out=term)
        tap += term
    return dxp


def depthwise_conv2d_backprop_filter(xp: np.ndarray, dy5: np.ndarray, kh: int, kw: int, strides: tuple,
                                     dilations: tuple) -> np.ndarray:
    """The (kh, kw, c, m) filter gradient of a depthwise convolution: per filter position, the products of the
    elements it read with the output gradient, summed over batch and positions."""
    n, oh, ow, c, m = dy5.shape
    grad = np.empty((kh, kw, c, m), dtype=xp.dtype)
    for i, j, tap in window_taps(xp, oh, ow, kh, kw, strides, dilations):
        grad[i, j] = np.einsum("nhwc,nhwcm->cm", tap, dy5)
    return grad
