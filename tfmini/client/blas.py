"""The BLAS library behind NumPy's matrix products: what it is (library, version, the CPU kernel it chose, its
thread count) and, for sessions whose `ConfigProto` sets `intra_op_parallelism_threads`, the thread count it
uses while their steps run.

BLAS thread counts are process-wide, so runs that ask for different counts at the same time cannot each have
their own: while any limited run is in progress the library uses the smallest count asked for (never more
threads than any of them wants), and when the last one ends it gets back the counts it had before the first
began. Runs of sessions without the setting take whatever is in force.

threadpoolctl finds and drives the library (OpenBLAS, MKL, BLIS, ...); without it nothing is limited and
`blas_info()` is empty.
"""

from __future__ import annotations

import os
import threading

from tfmini.ops import conv_algorithms

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - a declared dependency, but tfmini still runs without it
    threadpoolctl = None

_lock = threading.Lock()
_controllers: list | None = None  # threadpoolctl controllers of the BLAS libraries, found on first use
_active: dict[int, int] = {}  # thread count asked for -> number of runs in progress asking for it
_saved: list[int] | None = None  # each library's thread count before the first limited run began
_current: int | None = None  # the count in force while limited runs are in progress


def _blas_controllers() -> list:
    """The controllers of every BLAS library loaded in this process (NumPy's at least), found once."""
    global _controllers
    if _controllers is None:
        if threadpoolctl is None:
            _controllers = []
        else:
            found = threadpoolctl.ThreadpoolController()
            _controllers = [c for c in found.lib_controllers if c.user_api == "blas"]
    return _controllers


def blas_info() -> list[dict]:
    """One dict per BLAS library loaded in this process: `library` (openblas, mkl, blis, ...), `version`,
    `kernel` (the CPU architecture the library picked its kernels for, e.g. 'Haswell' or 'SkylakeX'; None
    when the library does not say), `num_threads` (now), `threading_layer` and `filepath`."""
    with _lock:
        controllers = _blas_controllers()
        return [{
            "library": c.internal_api,
            "version": c.version,
            "kernel": getattr(c, "architecture", None),
            "num_threads": c.num_threads,
            "threading_layer": getattr(c, "threading_layer", None),
            "filepath": c.filepath,
        } for c in controllers]


def blas_summary() -> str:
    """A one-line description of the BLAS libraries, e.g. 'openblas 0.3.31 (SkylakeX kernel, 2 threads)'."""
    infos = blas_info()
    if not infos:
        return "no BLAS library found (threadpoolctl missing or nothing loaded)"
    return "; ".join(f"{i['library']} {i['version']} ({i['kernel'] or 'unknown'} kernel, {i['num_threads']} threads)"
                     for i in infos)


def _apply(counts: list[int]) -> None:
    for c, n in zip(_blas_controllers(), counts):
        if c.num_threads != n:
            # threadpoolctl's OpenBLAS controller lets only one "controlling" Python thread change the count
            # and silently ignores the others; this module serializes changes itself (under `_lock`) and
            # must work from whichever thread a session runs on, so it calls the library's own setter.
            getattr(c, "_real_set_num_threads", c.set_num_threads)(n)


class ThreadLimit:
    """A context manager that makes BLAS use `num_threads` threads while it is entered (see the module
    docstring for overlapping limits). Reusable, re-entrant and safe to enter from several threads."""

    __slots__ = ("num_threads",)

    def __init__(self, num_threads: int) -> None:
        if num_threads < 1:
            raise ValueError(f"a BLAS thread limit must be positive, got {num_threads}")
        self.num_threads = int(num_threads)

    def __enter__(self) -> ThreadLimit:
        global _saved, _current
        n = self.num_threads
        with _lock:
            controllers = _blas_controllers()
            if not _active:
                _saved = [c.num_threads for c in controllers]
            _active[n] = _active.get(n, 0) + 1
            want = min(_active)
            if want != _current:
                _current = want
                _apply([want] * len(controllers))
        return self

    def __exit__(self, *exc) -> None:
        global _saved, _current
        n = self.num_threads
        with _lock:
            left = _active[n] - 1
            if left:
                _active[n] = left
            else:
                del _active[n]
            if not _active:
                _current = None
                if _saved is not None:
                    _apply(_saved)
                _saved = None
            elif min(_active) != _current:
                _current = min(_active)
                _apply([_current] * len(_blas_controllers()))


def session_thread_limit(config) -> ThreadLimit | None:
    """The BLAS limit for a session's runs: `config.intra_op_parallelism_threads` when it is positive (TF's
    0 means "the library's own choice"), else None."""
    if config is None:
        return None
    n = config.intra_op_parallelism_threads
    return ThreadLimit(n) if n > 0 else None


def _reset_after_fork() -> None:
    """In a forked child, the limits of the parent's other threads (which the child does not have) are over: the
    counts from before them come back, and the lock starts free (it may have been held at the fork)."""
    global _lock, _saved, _current
    _lock = threading.Lock()
    if _active and _saved is not None:
        try:
            _apply(_saved)
        except Exception:  # the child's BLAS state is the library's; keep the child alive whatever it says
            pass
    _active.clear()
    _saved = None
    _current = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# The op library's split kernels hold BLAS at one thread while they run; they do it through this module's limits,
# so one mechanism keeps the process-wide count: a session step that starts in another thread while a split
# kernel runs never saves the kernel's temporary count of 1 as the count to restore.
if threadpoolctl is not None:
    conv_algorithms.register_blas_limit(ThreadLimit(1))
