"""The arithmetic of 2-D convolution on NHWC arrays, below the Conv2D kernels of nn_ops: im2col with the GEMM
writing straight into the output for the forward pass, the input gradient of a stride-1 convolution as a forward
convolution of the output gradient with the flipped filter, and the filter gradient as one GEMM over the
contiguous columns; and the threads that share one kernel's work (`kernel_threads`, `run_parts`). Knows nothing
of ops, attrs or graphs: callers pass the padded geometry.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from numpy.lib.stride_tricks import as_strided

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - a declared dependency; without it kernels run on one thread
    threadpoolctl = None

# Bytes of im2col columns built at a time, which bounds the extra memory of a large convolution. Not smaller:
# cache-sized chunks gain a little with single-threaded BLAS but make every GEMM small, and a multi-threaded
# BLAS on a busy machine then spends most of a step waking its threads (measured up to 10x slower).
COLUMN_CHUNK_BYTES = 1 << 26
# Inside a kernel that may use several threads BLAS runs one thread per call, and there columns are built and
# multiplied a core's cache at a time (about 2 MiB of L2 per core here): 7-12% faster than in one piece.
CACHE_CHUNK_BYTES = 1 << 21

# ----------------------------------------------------------------------------------------------------------
# Threads for one kernel
# ----------------------------------------------------------------------------------------------------------
# A kernel splits its work (images, or output rows of one image) between threads only from this many
# multiply-adds on: below it, handing work to another thread costs more than it saves (a handoff is some tens
# of microseconds; with the im2col copies this is about 0.05 ms of work on one core). Above it, the kernel's
# timings decide (`_SplitTimes`).
PARALLEL_MIN_MACS = 1 << 20
# The same for the elementwise passes of pooling (elements of the input).
PARALLEL_MIN_ELEMENTS = 1 << 17
# Products below this many multiply-adds run on one BLAS thread anyway (OpenBLAS's own threshold).
BLAS_THREADED_MIN_MACS = 1 << 18

_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@functools.cache
def _default_threads() -> int:
    """Threads per kernel for sessions that leave `intra_op_parallelism_threads` at TF's 0 ("choose"): the
    threads NumPy's BLAS was told to use per call by its environment variables, else one per CPU."""
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return min(int(value), _CPUS)
    return _CPUS


def kernel_threads(ctx) -> int:
    """How many threads one kernel of a session may use: the session's `intra_op_parallelism_threads` when it
    is positive (at most one per CPU), else `_default_threads()`. `ctx` is the kernel's session state (or
    None outside a session). Without threadpoolctl (which keeps BLAS at one thread while the parts run) 1."""
    if threadpoolctl is None:
        return 1
    config = getattr(ctx, "config", None)
    n = config.intra_op_parallelism_threads if config is not None else 0
    return min(n, _CPUS) if n > 0 else _default_threads()


# What split kernels enter to hold BLAS at one thread: the client's limit (tfmini.client.blas.ThreadLimit(1)),
# which `import tfmini` registers before any kernel can run, so one mechanism keeps the process-wide count for sessions
# and kernels alike; nothing before that.
_blas_one_thread = contextlib.nullcontext()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max(1, _CPUS - 1), thread_name_prefix="tfmini-kernel")
    return _pool


def _forget_workers_after_fork() -> None:
    # A forked child has none of the parent's threads: it starts its own pool when it first needs one. Locks
    # another thread of the parent held at the fork stay held in the child (by no thread): new ones.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


def register_blas_limit(limit) -> None:
    """Makes `limit` (a re-entrant, thread-safe context manager holding BLAS at one thread, such as
    `tfmini.client.blas.ThreadLimit(1)`) the one split kernels enter. The BLAS thread count is process-wide:
    with the session's limits and the kernels' sections kept by one mechanism, a session step starting in another
    thread while a split kernel runs cannot take the kernel's temporary count for the one to restore."""
    global _blas_one_thread
    _blas_one_thread = limit


def single_threaded_blas():
    """A context manager keeping BLAS at one thread per call while it is entered (for small products in
    a step of threaded kernels: a multi-threaded call leaves BLAS's threads spinning on the cores for a
    while, which slowed the next split kernel by 10-15%)."""
    return _blas_one_thread


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers_after_fork)


class _SplitTimes:
    """How long one kernel shape took with its parts run one after the other and side by side (moving
    averages), and how often it ran. Whether threads pay depends on more than the shape: on a machine whose
    other cores are busy, a part handed to another thread waits for a core, and the split kernel ran up to
    1.2x slower than the same parts on one thread."""

    __slots__ = ("serial", "concurrent", "calls")

    def __init__(self) -> None:
        self.serial = self.concurrent = 0.0
        self.calls = 0

    def choose_concurrent(self) -> bool:
        calls = self.calls
        self.calls = calls + 1
        if calls <= _SPLIT_TRIAL_CALLS:
            return calls % 2 == 0
        prefer = self.concurrent <= self.serial
        # Now and then the other way again: the machine's load changes.
        return prefer if calls % _SPLIT_RETRY_EVERY else not prefer

    def record(self, concurrent: bool, seconds: float) -> None:
        if self.calls == 1:
            return  # the first run warms up (the workers start, buffers are first touched)
        if concurrent:
            self.concurrent = seconds if not self.concurrent else (
                self.concurrent + _SPLIT_AVERAGING * (seconds - self.concurrent))
        else:
            self.serial = seconds if not self.serial else self.serial + _SPLIT_AVERAGING * (seconds - self.serial)


_SPLIT_TRIAL_CALLS = 6
_SPLIT_RETRY_EVERY = 16
_SPLIT_AVERAGING = 0.25
_split_times: dict[tuple, _SplitTimes] = {}


def run_parts(fn: Callable, parts: Sequence[tuple], threads: int, key: tuple = (), blas: bool = True) -> list:
    """[fn(*part) for part in parts]. With `threads` > 1 and several parts, the parts run side by side (the
    first on the calling thread, the others on the kernel workers) or one after the other, whichever has
    been faster lately for this `key` (the kernel and its shapes); the parts, and so the results, are the
    same either way. While a kernel that may use several threads and calls BLAS (`blas`) runs, BLAS runs at
    one thread per call: the kernel's own split uses the cores, and a multi-threaded BLAS call waits for its
    slowest thread, which on a busy machine made small GEMMs several times slower than on one thread.
    Returns when every part has ended; the first exception raised by a part is raised again."""
    if threads <= 1:
        return [fn(*p) for p in parts]
    with _blas_one_thread if blas else contextlib.nullcontext():
        if len(parts) == 1:
            return [fn(*parts[0])]
        times = _split_times.get(key)
        if times is None:
            if len(_split_times) >= 4096:
                _split_times.clear()
            times = _split_times[key] = _SplitTimes()
        concurrent = times.choose_concurrent()
        start = time.perf_counter()
        results = _run_concurrently(fn, parts) if concurrent else [fn(*p) for p in parts]
        times.record(concurrent, time.perf_counter() - start)
        return results


def _run_concurrently(fn: Callable, parts: Sequence[tuple]) -> list:
    pool = _workers()
    futures = []
    try:
        for p in parts[1:]:
            futures.append(pool.submit(fn, *p))
    except RuntimeError:
        # The workers take no more work once the interpreter has begun to exit (atexit handlers run after
        # that): the parts not handed over run on this thread.
        pass
    except BaseException:  # an interrupt while handing the parts over: those handed over end first
        _settle(futures)
        raise
    local = parts[1 + len(futures):]
    error = None
    try:
        first = fn(*parts[0])
    except BaseException as e:  # noqa: BLE001 - re-raised below, once the other parts have ended
        error, first = e, None
    results = [first]
    for f in futures:
        try:
            results.append(f.result())
        except BaseException as e:  # noqa: BLE001 - the first failure wins
            error = error or e
    for p in local:
        if error is not None:
            break
        try:
            results.append(fn(*p))
        except BaseException as e:  # noqa: BLE001 - raised below like the others
            error = e
    if error is not None:
        _settle(futures)
        raise error
    return results


def _settle(futures: list) -> None:
    """Returns once none of `futures` runs any more: those not started never will, the running ones end. An
    interrupt of the calling thread (Ctrl-C) ends its wait for a part's result while the part still runs; the
    kernel must not return (and give back BLAS's thread count) while a worker still computes into its output,
    or occupies a worker the next kernel waits for."""
    for f in futures:
        f.cancel()
    pending = [f for f in futures if not f.done()]
    while pending:
        try:
            wait(pending)
        except BaseException:  # noqa: BLE001, S110 - a further interrupt: the first error is raised once they end
            pass
        pending = [f for f in pending if not f.done()]


def split(total: int, count: int) -> list[tuple[int, int]]:
    """`total` items as at most `count` contiguous (start, stop) ranges of near-equal size."""
    count = max(1, min(count, total))
    bounds = [total * k // count for k in range(count + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(count)]


def _threads_for_gemms(macs: int, threads: int) -> int:
    """1 for a kernel whose GEMMs are too small for BLAS to use threads itself (OpenBLAS runs a product
    of fewer than 2^18 multiply-adds on one thread): it neither splits nor pays for holding BLAS at one
    thread (a few microseconds)."""
    return threads if macs >= BLAS_THREADED_MIN_MACS else 1


def _parts(n: int, rows: int, work: int, threads: int, min_work: int | None = None) -> list[tuple]:
    """(b0, b1, r0, r1) pieces of an (n, rows, ...) output for `threads` threads: ranges of images when there
    are enough of them, else ranges of rows of each image; one piece when `work` is below `min_work`
    (PARALLEL_MIN_MACS as it is when called)."""
    if min_work is None:
        min_work = PARALLEL_MIN_MACS
    if threads <= 1 or work < min_work or n * rows < 2:
        return [(0, n, 0, rows)]
    if n >= threads:
        return [(b0, b1, 0, rows) for b0, b1 in split(n, threads)]
    per_image = -(-threads // n)
    return [(b, b + 1, r0, r1) for b in range(n) for r0, r1 in split(rows, per_image)]


# ----------------------------------------------------------------------------------------------------------
# Conv2D and its backprops
# ----------------------------------------------------------------------------------------------------------
# Below this input depth the columns are built transposed, (kh * kw * c, positions), one filter position at a
# time: each copy then moves whole rows of the image, where a copy of the window view moves a few elements
# per inner loop (with one channel, im2col ran 2x slower). The GEMM reads the transposed columns as they are.
_TAP_COPY_MAX_DEPTH = 4


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


def _batch_chunk(cols_shape: tuple, itemsize: int, budget: int) -> int:
    per_image = itemsize
    for d in cols_shape[1:]:
        per_image *= d
    return max(1, budget // max(per_image, 1))


def _column_chunks(view: np.ndarray, budget: int):
    """Yields (start, stop, columns) over the images of the window view: each a (images * oh * ow,
    kh * kw * c) copy of their windows (C-ordered, or for few channels the transpose of a C-ordered array),
    `budget` bytes at a time; the buffer is reused, so each chunk is valid until the next one."""
    n, oh, ow, kh, kw, c = view.shape
    k = kh * kw * c
    chunk = _batch_chunk(view.shape, view.itemsize, budget)
    if c < _TAP_COPY_MAX_DEPTH:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            cols = np.empty((kh, kw, c, stop - start, oh, ow), dtype=view.dtype)
            for i in range(kh):
                for j in range(kw):
                    cols[i, j] = view[start:stop, :, :, i, j, :].transpose(3, 0, 1, 2)
            yield start, stop, cols.reshape(k, -1).T
        return
    cols = np.empty((min(chunk, n),) + view.shape[1:], dtype=view.dtype)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = cols[:stop - start]
        np.copyto(part, view[start:stop])
        yield start, stop, part.reshape(-1, k)


def _column_budget(threads: int, parts: int) -> int:
    """Bytes of columns per GEMM of one part (see CACHE_CHUNK_BYTES)."""
    return CACHE_CHUNK_BYTES if threads > 1 else COLUMN_CHUNK_BYTES // parts


def _padded_source(x: np.ndarray, pads: tuple, dtype, parts: list, rows: int):
    """(source, pads left to apply per part): the input padded once up front when the parts split the rows of
    an image (each would pad it whole), else `x` itself, each part padding its own images."""
    if any(r0 != 0 or r1 != rows for _, _, r0, r1 in parts):
        return pad_nhwc(x, pads, dtype), ((0, 0), (0, 0))
    return x, pads


def conv2d(xp: np.ndarray, w: np.ndarray, oh: int, ow: int, strides: tuple, dilations: tuple, *,
           pads: tuple = ((0, 0), (0, 0)), dtype=None, threads: int = 1) -> np.ndarray:
    """Correlation of the NHWC input `xp`, zero-padded by `pads` ((top, bottom), (left, right)), with the HWIO
    filter `w`: a fresh (n, oh, ow, oc) array of `dtype` (default `xp`'s), in which `xp` and `w` are computed.
    The columns (of all images, or of as many as COLUMN_CHUNK_BYTES holds) are copied out of the window view
    and multiplied with the filter matrix straight into the output; with `threads` > 1 and enough work, each
    thread does this for its own images (or rows of an image), padding them itself."""
    kh, kw, c, oc = w.shape
    n = xp.shape[0]
    dtype = np.dtype(xp.dtype if dtype is None else dtype)
    out = np.empty((n, oh, ow, oc), dtype=dtype)
    if out.size == 0:
        return out
    wmat = w.reshape(kh * kw * c, oc).astype(dtype, copy=False)
    macs = n * oh * ow * kh * kw * c * oc
    threads = _threads_for_gemms(macs, threads)
    parts = _parts(n, oh, macs, threads)
    source, part_pads = _padded_source(xp, pads, dtype, parts, oh)
    pointwise = kh == kw == 1 and strides == (1, 1) and not any(part_pads[0] + part_pads[1])
    budget = _column_budget(threads, len(parts))

    def part(b0: int, b1: int, r0: int, r1: int) -> None:
        src = pad_nhwc(source[b0:b1], part_pads, dtype)
        dst = out[b0:b1, r0:r1]
        if pointwise:
            np.matmul(src[:, r0:r1].reshape(-1, c), wmat, out=dst.reshape(-1, oc))
            return
        view = window_columns(src, oh, ow, kh, kw, strides, dilations)[:, r0:r1]
        for start, stop, cols in _column_chunks(view, budget):
            np.matmul(cols, wmat, out=dst[start:stop].reshape(-1, oc))

    run_parts(part, parts, threads, ("conv2d", xp.shape, w.shape, strides, dilations, pads))
    return out


def conv2d_bias_relu_max_pool(x: np.ndarray, w: np.ndarray, bias: np.ndarray, oh: int, ow: int, strides: tuple,
                              dilations: tuple, pool: tuple, *, pads: tuple = ((0, 0), (0, 0)), dtype=None,
                              threads: int = 1) -> np.ndarray:
    """max_pool(relu(conv2d(x, w) + bias)) for a pool whose (kh, kw) windows tile the convolution's output
    without overlap or padding (rows and columns past the last whole window are never computed). Each part
    pools its GEMM output first and then adds the bias and clamps at zero on the pooled values, a quarter of
    them for 2x2 windows: rounding x + b is monotone in x and relu is monotone, so the maximum of the
    biased, rectified values is the biased, rectified maximum, bit for bit (the GEMMs themselves may see
    other row counts than an unfused convolution's, which a BLAS may round differently). A fresh
    (n, oh // kh, ow // kw, oc) array of `dtype` (default `x`'s); `threads` as in `conv2d`."""
    kh, kw, c, oc = w.shape
    ph, pw = pool
    n = x.shape[0]
    dtype = np.dtype(x.dtype if dtype is None else dtype)
    poh, pow_ = oh // ph, ow // pw
    out = np.empty((n, poh, pow_, oc), dtype=dtype)
    if out.size == 0:
        return out
    wmat = w.reshape(kh * kw * c, oc).astype(dtype, copy=False)
    b = bias.astype(dtype, copy=False)
    zero = dtype.type(0)
    macs = n * poh * ph * pow_ * pw * kh * kw * c * oc
    threads = _threads_for_gemms(macs, threads)
    parts = _parts(n, poh, macs, threads)
    source, part_pads = _padded_source(x, pads, dtype, parts, poh)
    budget = _column_budget(threads, len(parts))

    def part(b0: int, b1: int, r0: int, r1: int) -> None:
        src = pad_nhwc(source[b0:b1], part_pads, dtype)
        view = window_columns(src, oh, ow, kh, kw, strides, dilations)[:, r0 * ph:r1 * ph, :pow_ * pw]
        conv = np.empty(view.shape[:3] + (oc,), dtype=dtype)
        for start, stop, cols in _column_chunks(view, budget):
            np.matmul(cols, wmat, out=conv[start:stop].reshape(-1, oc))
        dst = out[b0:b1, r0:r1]
        _max_blocks_into(conv, ph, pw, dst)
        np.add(dst, b, out=dst)
        np.maximum(dst, zero, out=dst)

    run_parts(part, parts, threads, ("conv2d_bias_relu_max_pool", x.shape, w.shape, strides, dilations, pads, pool))
    return out


def conv2d_backprop_input_stride1(dy: np.ndarray, w: np.ndarray, h: int, wd: int, pads: tuple,
                                  dilations: tuple, *, threads: int = 1) -> np.ndarray | None:
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
    return conv2d(dy, flipped, h, wd, (1, 1), dilations, pads=back, threads=threads)


def conv2d_backprop_filter(xp: np.ndarray, dy: np.ndarray, kh: int, kw: int, strides: tuple,
                           dilations: tuple, *, pads: tuple = ((0, 0), (0, 0)), dtype=None,
                           threads: int = 1) -> np.ndarray:
    """The filter gradient (kh, kw, c, oc) from the input `xp` (zero-padded by `pads`) and the output
    gradient `dy`, both computed in `dtype` (default `xp`'s): the transposed columns times the output
    gradient, summed over chunks of images (and over the threads' parts)."""
    n, oh, ow, oc = dy.shape
    c = xp.shape[3]
    dtype = np.dtype(xp.dtype if dtype is None else dtype)
    macs = n * oh * ow * kh * kw * c * oc
    threads = _threads_for_gemms(macs, threads)
    parts = _parts(n, oh, macs, threads)
    source, part_pads = _padded_source(xp, pads, dtype, parts, oh)
    budget = _column_budget(threads, len(parts))

    def part(b0: int, b1: int, r0: int, r1: int) -> np.ndarray:
        src = pad_nhwc(source[b0:b1], part_pads, dtype)
        g = dy[b0:b1, r0:r1].astype(dtype, copy=False)
        view = window_columns(src, oh, ow, kh, kw, strides, dilations)[:, r0:r1]
        grad = None
        for start, stop, cols in _column_chunks(view, budget):
            term = cols.T @ g[start:stop].reshape(-1, oc)
            grad = term if grad is None else np.add(grad, term, out=grad)
        return grad

    key = ("conv2d_backprop_filter", xp.shape, dy.shape, kh, kw, strides, dilations, pads)
    partials = [p for p in run_parts(part, parts, threads, key) if p is not None]
    if not partials:
        return np.zeros((kh, kw, c, oc), dtype=dtype)
    grad = partials[0]
    for p in partials[1:]:
        grad += p
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


# ----------------------------------------------------------------------------------------------------------
# Max pooling over non-overlapping windows
# ----------------------------------------------------------------------------------------------------------
def pool_blocks(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """The (n, oh, kh, ow, kw, c) view of the NHWC `x` cut into kh x kw blocks (rows and columns past the last
    whole block left out): the windows of a pool whose strides equal its window and which pads nothing."""
    n, h, w, c = x.shape
    oh, ow = h // kh, w // kw
    return x[:, :oh * kh, :ow * kw].reshape(n, oh, kh, ow, kw, c)


def _max_blocks_into(x: np.ndarray, kh: int, kw: int, out: np.ndarray) -> None:
    blocks = pool_blocks(x, kh, kw)
    if kw == 1:
        np.copyto(out, blocks[:, :, 0, :, 0])
        for i in range(1, kh):
            np.maximum(out, blocks[:, :, i, :, 0], out=out)
        return
    # Whole rows first (long contiguous runs), then the columns of the kh-row maxima.
    rows = blocks[:, :, 0]
    if kh > 1:
        rows = np.maximum(rows, blocks[:, :, 1])
        for i in range(2, kh):
            np.maximum(rows, blocks[:, :, i], out=rows)
    np.maximum(rows[:, :, :, 0], rows[:, :, :, 1], out=out)
    for j in range(2, kw):
        np.maximum(out, rows[:, :, :, j], out=out)


def max_pool_blocks(x: np.ndarray, kh: int, kw: int, *, threads: int = 1) -> np.ndarray:
    """Max pooling of the NHWC `x` over non-overlapping kh x kw windows: a fresh (n, h // kh, w // kw, c)
    array; with `threads` > 1 and enough elements, each thread pools its own images (or rows)."""
    n, h, w, c = x.shape
    oh, ow = h // kh, w // kw
    out = np.empty((n, oh, ow, c), dtype=x.dtype)
    if out.size == 0:
        return out

    def part(b0: int, b1: int, r0: int, r1: int) -> None:
        _max_blocks_into(x[b0:b1, r0 * kh:r1 * kh], kh, kw, out[b0:b1, r0:r1])

    run_parts(part, _parts(n, oh, x.size, threads, PARALLEL_MIN_ELEMENTS), threads,
              ("max_pool", x.shape, kh, kw), blas=False)
    return out


def max_pool_blocks_grad(x: np.ndarray, grad: np.ndarray, kh: int, kw: int, *, threads: int = 1) -> np.ndarray:
    """The gradient of `max_pool_blocks` with respect to `x` for the output gradient `grad`: each window's
    gradient goes to its first maximum in row-major order (as TensorFlow's CPU kernel chooses), every other
    element of `x` gets zero (even where a window's gradient is infinite or NaN). A fresh array of `grad`'s dtype
    and `x`'s shape; one comparison, one mask update and one product per window position, split between
    threads as `max_pool_blocks` is."""
    n, h, w, c = x.shape
    oh, ow = h // kh, w // kw
    dx = np.empty((n, h, w, c), dtype=grad.dtype)
    if oh * kh < h:
        dx[:, oh * kh:] = 0
    if ow * kw < w:
        dx[:, :, ow * kw:] = 0
    if oh == 0 or ow == 0 or dx.size == 0:
        return dx
    last = (kh - 1, kw - 1)
    floats = grad.dtype.kind in "fc"

    def part(b0: int, b1: int, r0: int, r1: int) -> None:
        xs = x[b0:b1, r0 * kh:r1 * kh]
        g = grad[b0:b1, r0:r1]
        # A product with the mask would turn an infinite or NaN gradient into NaN at the window's other
        # positions, which get exactly 0 in TensorFlow: gradients that are not all finite are copied where
        # the mask is set instead.
        masked_copy = floats and not np.isfinite(g).all()
        best = np.empty(g.shape, dtype=x.dtype)
        _max_blocks_into(xs, kh, kw, best)
        blocks, dblocks = pool_blocks(xs, kh, kw), pool_blocks(dx[b0:b1, r0 * kh:r1 * kh], kh, kw)
        taken = None
        for i in range(kh):
            for j in range(kw):
                hit = np.equal(blocks[:, :, i, :, j], best)
                if taken is None:
                    taken = hit  # written into only after its product is taken
                else:
                    np.greater(hit, taken, out=hit)  # a maximum not taken by an earlier position
                    if (i, j) != last:
                        np.logical_or(taken, hit, out=taken)
                if masked_copy:
                    d = dblocks[:, :, i, :, j]
                    d[...] = 0
                    np.copyto(d, g, where=hit)
                else:
                    np.multiply(g, hit, out=dblocks[:, :, i, :, j])

    run_parts(part, _parts(n, oh, x.size, threads, PARALLEL_MIN_ELEMENTS), threads,
              ("max_pool_grad", x.shape, kh, kw), blas=False)
    return dx
