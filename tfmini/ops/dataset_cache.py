"""The tf.data CacheDataset op: a dataset read once and then replayed, from memory or from a cache file
(written by the first pass that reads its input to the end)."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import weakref
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.registry import constant_value, import_only_attr
from tfmini.ops.dataset_ops import DatasetValue, ElementIterator, register_dataset_op, scalar_text


# ----------------------------------------------------------------------------------------------------------
# CacheDataset: in memory, or in a file
# ----------------------------------------------------------------------------------------------------------
class _MemoryCache:
    """The elements of a dataset, recorded by the first iterator that reads it to the end; later iterators
    replay them (an iterator started before the cache completed reads its input)."""

    __slots__ = ("elements", "lock")

    def __init__(self) -> None:
        self.elements: list | None = None
        self.lock = threading.Lock()


class _CacheWriteIter(ElementIterator):
    __slots__ = ("_inner", "_cache", "_seen")

    def __init__(self, inner, cache: _MemoryCache) -> None:
        self._inner = inner
        self._cache = cache
        self._seen: list | None = []

    def __next__(self) -> tuple:
        try:
            element = next(self._inner)
        except StopIteration:
            if self._seen is not None:
                with self._cache.lock:
                    if self._cache.elements is None:
                        self._cache.elements = self._seen
                self._seen = None
            raise
        if self._seen is not None:
            self._seen.append(tuple(_frozen(v) for v in element))
        return element


def _frozen(value):
    """A read-only copy of an array component, so what a caller does to a value it got cannot change what
    later epochs replay (other values are kept as they are)."""
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
    return value


CACHE_SUFFIX = ".tfmini-cache"


def _write_component(f, value, is_string: bool) -> None:
    if is_string:
        arr = np.asarray(value, dtype=object)
        parts = [bytes(x) for x in arr.reshape(-1)]
        np.save(f, np.array(arr.shape, dtype=np.int64), allow_pickle=False)
        np.save(f, np.array([len(p) for p in parts], dtype=np.int64), allow_pickle=False)
        np.save(f, np.frombuffer(b"".join(parts), dtype=np.uint8), allow_pickle=False)
    else:
        np.save(f, np.asarray(value), allow_pickle=False)


class _DamagedCache(Exception):
    """What is wrong with a cache file; reported as a DataLossError naming the file."""


def _load_npy(f, size: int) -> np.ndarray:
    """The next .npy array of the file `f` (`size` bytes long), its data never larger than what is left of the
    file: the header's shape and dtype are checked against the remaining bytes before anything is allocated."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise _DamagedCache(f"unknown array format version {version}")
    except (ValueError, EOFError) as e:
        raise _DamagedCache(str(e)) from None
    if dtype.hasobject or any(d < 0 for d in shape):
        raise _DamagedCache(f"an array header holds dtype {dtype} and shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    left = size - f.tell()
    if nbytes > left:
        raise _DamagedCache(f"an array of shape {shape} and dtype {dtype} needs {nbytes} bytes, {left} are left")
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise _DamagedCache("the file ends inside an array")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _read_component(f, is_string: bool, size: int):
    if not is_string:
        return _load_npy(f, size)
    shape = _load_npy(f, size)
    lengths = _load_npy(f, size)
    if shape.dtype != np.int64 or shape.ndim != 1 or lengths.dtype != np.int64 or lengths.ndim != 1:
        raise _DamagedCache("a string component's shape or lengths are not int64 vectors")
    dims = shape.tolist()
    if any(d < 0 for d in dims) or math.prod(dims) != lengths.size:
        raise _DamagedCache(f"a string component of shape {dims} has {lengths.size} lengths")
    sizes = lengths.tolist()
    if any(n < 0 for n in sizes):
        raise _DamagedCache("a string component has a negative length")
    blob = _load_npy(f, size)
    if blob.dtype != np.uint8 or blob.ndim != 1 or sum(sizes) != blob.size:  # Python ints: no wrap-around
        raise _DamagedCache(f"a string component's lengths add up to {sum(sizes)}, its data holds {blob.size}")
    data = blob.tobytes()
    ends = list(itertools.accumulate(sizes))
    out = np.empty(len(sizes), dtype=object)
    out[:] = [data[e - n:e] for e, n in zip(ends, sizes)]
    return out.reshape(dims)


class _FileCacheWriteIter(ElementIterator):
    """Reads the input and appends each element to a temporary file, which becomes the cache (renamed into
    place) when the input ends; an iterator dropped earlier leaves no cache."""

    __slots__ = ("_inner", "_path", "_strings", "_file", "_tmp")

    def __init__(self, inner, path: str, strings: list[bool]) -> None:
        self._inner = inner
        self._path = path
        self._strings = strings
        self._tmp = f"{path}.tmp-{os.getpid()}-{next(_CACHE_WRITERS)}"
        try:
            self._file = open(self._tmp, "wb")  # closed at the end of the input or when dropped
        except OSError as e:
            raise _errors.NotFoundError(None, None, f"Cannot write the cache file {self._tmp}: {e}") from None
        weakref.finalize(self, _discard, self._file, self._tmp)

    def __next__(self) -> tuple:
        try:
            element = next(self._inner)
        except StopIteration:
            if not self._file.closed:
                self._file.close()
                os.replace(self._tmp, self._path)
            raise
        if not self._file.closed:
            for value, is_string in zip(element, self._strings):
                _write_component(self._file, value, is_string)
        return element


def _discard(file, tmp: str) -> None:
    if not file.closed:
        file.close()
        with contextlib.suppress(OSError):
            os.remove(tmp)


class _FileCacheReadIter(ElementIterator):
    __slots__ = ("_file", "_strings", "_size", "_path")

    def __init__(self, path: str, strings: list[bool]) -> None:
        self._file = open(path, "rb")  # closed at its end or by the garbage collector with the iterator
        self._size = os.fstat(self._file.fileno()).st_size
        self._strings = strings
        self._path = path

    def __next__(self) -> tuple:
        if self._file.closed or self._file.tell() >= self._size:
            self._file.close()
            raise StopIteration
        try:
            return tuple(_read_component(self._file, s, self._size) for s in self._strings)
        except (_DamagedCache, ValueError, EOFError) as e:
            self._file.close()
            raise _errors.DataLossError(None, None, f"The cache file {self._path} is damaged: {e}") from None


_CACHE_WRITERS = itertools.count()


def _cache_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    strings = [t.base_dtype == _dt.string for t in op.get_attr("output_types")]

    def run(dataset, filename):
        name = scalar_text(filename)
        if name:
            path = name + CACHE_SUFFIX

            def make_file_iter():
                if os.path.exists(path):
                    return _FileCacheReadIter(path, strings)
                return _FileCacheWriteIter(dataset.make_iterator(), path, strings)

            return DatasetValue(make_file_iter, op.name, dataset.cardinality)
        cache = _MemoryCache()

        def make():
            elements = cache.elements
            if elements is not None:
                return iter(elements)
            return _CacheWriteIter(dataset.make_iterator(), cache)

        return DatasetValue(make, op.name, dataset.cardinality)

    return run


def _cache_file_access(op: _ops.Operation) -> str | None:
    name = constant_value(op.inputs[1])
    if name is not None and scalar_text(name) == "":
        return None
    return "the cache files named by its 'filename' input"


register_dataset_op("CacheDataset", ["input_dataset: variant", "filename: string"], factory=_cache_dataset_factory,
                    file_access=_cache_file_access,
                    doc="`input_dataset`, read once and then replayed from memory (no filename) or from the "
                        "cache file `filename` + '.tfmini-cache', written by the first pass to read it all.")


# Attrs TensorFlow's op defs give these datasets beyond tfmini's: debugging metadata and scheduling hints
# (dropped on import whatever they hold), and options tfmini implements at TF's default only.
import_only_attr("CacheDataset", "metadata", "string", "", hint=True)
