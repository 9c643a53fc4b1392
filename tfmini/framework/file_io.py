"""File access as TensorFlow's `tf.gfile` / `tf.io.gfile` give it: GFile (opened on first use, text or binary),
and the file-system functions with TensorFlow's error classes (NotFoundError, AlreadyExistsError,
FailedPreconditionError, PermissionDeniedError) instead of OSError. Local paths only: TF's other file
systems (gs://, hdfs://, s3://) raise UnimplementedError."""

from __future__ import annotations

import errno
import glob as _glob
import os
import re
import shutil
from collections.abc import Iterator

from tfmini.framework import errors as _errors
from tfmini.framework.api_export import tf_export

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def _local(path) -> str:
    """`path` as a local file-system path (a `file://` prefix dropped); other schemes are refused."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    match = _SCHEME.match(path)
    if match:
        if match.group(1) != "file":
            raise _errors.UnimplementedError(
                None, None, f"File system scheme '{match.group(1)}' not implemented (file: '{path}'); tfmini "
                "reads and writes local files only")
        path = path[len("file://"):]
    return path


def _error(exc: OSError, path: str) -> _errors.OpError:
    """The TensorFlow error for an OSError on `path`, in TF's wording ('<path>; No such file or directory')."""
    text = f"{path}; {exc.strerror or exc}"
    if exc.errno == errno.ENOENT:
        return _errors.NotFoundError(None, None, text)
    if exc.errno == errno.EEXIST:
        return _errors.AlreadyExistsError(None, None, text)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _errors.PermissionDeniedError(None, None, text)
    if exc.errno in (errno.EISDIR, errno.ENOTDIR, errno.ENOTEMPTY):
        return _errors.FailedPreconditionError(None, None, text)
    return _errors.UnknownError(None, None, text)


class FileStatistics:
    """What `stat` returns: `length` in bytes, `mtime_nsecs` and `is_directory`."""

    def __init__(self, length: int = 0, mtime_nsecs: int = 0, is_directory: bool = False) -> None:
        self.length = length
        self.mtime_nsecs = mtime_nsecs
        self.is_directory = is_directory

    def __repr__(self) -> str:
        return (f"FileStatistics(length={self.length}, mtime_nsecs={self.mtime_nsecs}, "
                f"is_directory={self.is_directory})")


@tf_export("gfile.FastGFile", "gfile.GFile", "gfile.Open", "io.gfile.GFile")
class GFile:
    """A file, as tf.gfile.GFile: opened when first read or written (so a missing file is a NotFoundError at
    the first read), text in modes without 'b' and bytes with it, usable in `with` and as an iterator of
    lines."""

    def __init__(self, name, mode: str = "r") -> None:
        self._path = _local(name)
        self._name = os.fspath(name) if not isinstance(name, bytes) else name.decode("utf-8")
        if not mode or mode.strip("rwab+") or mode[0] not in "rwa":
            raise _errors.InvalidArgumentError(None, None, f"mode is not 'r' or 'w' or 'a' (with 'b', '+'): {mode!r}")
        self._mode = mode
        self._file = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def mode(self) -> str:
        return self._mode

    def _open(self):
        if self._file is None:
            try:
                self._file = open(self._path, self._mode, **({} if "b" in self._mode else {"encoding": "utf-8"}))
            except OSError as exc:
                raise _error(exc, self._name) from None
        return self._file

    def _call(self, method: str, *args):
        try:
            return getattr(self._open(), method)(*args)
        except OSError as exc:
            raise _error(exc, self._name) from None

    def size(self) -> int:
        """The file's length in bytes."""
        return stat(self._path).length

    def read(self, n: int = -1):
        """The next `n` characters (bytes in binary mode), or the rest of the file."""
        return self._call("read", n)

    def readline(self):
        return self._call("readline")

    def readlines(self) -> list:
        return self._call("readlines")

    def write(self, file_content) -> None:
        if "b" not in self._mode and isinstance(file_content, bytes):
            file_content = file_content.decode("utf-8")
        elif "b" in self._mode and isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        self._call("write", file_content)

    def seek(self, offset: int | None = None, whence: int = 0, position: int | None = None) -> int:
        """Moves to `offset` (relative to `whence`: 0 start, 1 current, 2 end); `position` is TF's old name."""
        if position is not None:
            if offset is not None:
                raise TypeError("seek() takes offset or position, not both")
            offset = position
        return self._call("seek", offset or 0, whence)

    def tell(self) -> int:
        return self._call("tell")

    def flush(self) -> None:
        if self._file is not None:
            self._call("flush")

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:
                raise _error(exc, self._name) from None

    def seekable(self) -> bool:
        return True

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __enter__(self) -> GFile:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()


FastGFile = GFile  # TF 1.x's FastGFile is a GFile without thread locking


@tf_export("io.gfile.exists")
def exists(path) -> bool:
    return os.path.exists(_local(path))


@tf_export("io.gfile.isdir")
def isdir(path) -> bool:
    return os.path.isdir(_local(path))


@tf_export("io.gfile.listdir")
def listdir(path) -> list[str]:
    """The names in directory `path` (sorted), without '.' and '..'."""
    local = _local(path)
    if not os.path.isdir(local):
        raise _errors.NotFoundError(None, None, f"Could not find directory {os.fspath(path)}")
    try:
        return sorted(os.listdir(local))
    except OSError as exc:
        raise _error(exc, os.fspath(path)) from None


@tf_export("io.gfile.glob")
def glob(pattern) -> list[str]:
    """The paths matching `pattern` (or any of a list of patterns), sorted; none when the directory is missing."""
    patterns = [pattern] if isinstance(pattern, (str, bytes, os.PathLike)) else list(pattern)
    found: set[str] = set()
    for p in patterns:
        found.update(_glob.glob(_local(p)))
    return sorted(found)


@tf_export("io.gfile.mkdir")
def mkdir(path) -> None:
    """Creates directory `path`; its parent must exist (an existing directory is fine, as in TF)."""
    local = _local(path)
    try:
        os.mkdir(local)
    except FileExistsError:
        if not os.path.isdir(local):
            raise _errors.AlreadyExistsError(None, None, f"{os.fspath(path)}; File exists") from None
    except OSError as exc:
        raise _error(exc, os.fspath(path)) from None


@tf_export("io.gfile.makedirs")
def makedirs(path) -> None:
    """Creates directory `path` and its missing parents."""
    try:
        os.makedirs(_local(path), exist_ok=True)
    except OSError as exc:
        raise _error(exc, os.fspath(path)) from None


@tf_export("io.gfile.remove")
def remove(path) -> None:
    """Deletes the file `path` (a directory is FailedPreconditionError, a missing file NotFoundError)."""
    local = _local(path)
    if os.path.isdir(local):
        raise _errors.FailedPreconditionError(None, None, f"{os.fspath(path)}; Is a directory")
    try:
        os.remove(local)
    except OSError as exc:
        raise _error(exc, os.fspath(path)) from None


@tf_export("io.gfile.rmtree")
def rmtree(path) -> None:
    """Deletes directory `path` and everything in it."""
    local = _local(path)
    if not os.path.exists(local):
        raise _errors.NotFoundError(None, None, f"{os.fspath(path)} not found")
    try:
        if os.path.isdir(local) and not os.path.islink(local):
            shutil.rmtree(local)
        else:
            os.remove(local)
    except OSError as exc:
        raise _error(exc, os.fspath(path)) from None


@tf_export("io.gfile.copy")
def copy(src, dst, overwrite: bool = False) -> None:
    """Copies file `src` to `dst`; an existing `dst` is AlreadyExistsError unless `overwrite`."""
    source, target = _local(src), _local(dst)
    if not overwrite and os.path.exists(target):
        raise _errors.AlreadyExistsError(None, None, "file already exists")
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise _error(exc, os.fspath(src)) from None


@tf_export("io.gfile.rename")
def rename(src, dst, overwrite: bool = False) -> None:
    """Renames `src` to `dst`; an existing `dst` is AlreadyExistsError unless `overwrite`."""
    source, target = _local(src), _local(dst)
    if not overwrite and os.path.exists(target):
        raise _errors.AlreadyExistsError(None, None, "file already exists")
    try:
        os.replace(source, target)
    except OSError as exc:
        raise _error(exc, os.fspath(src)) from None


@tf_export("io.gfile.stat")
def stat(path) -> FileStatistics:
    try:
        st = os.stat(_local(path))
    except OSError as exc:
        raise _error(exc, os.fspath(path)) from None
    return FileStatistics(length=st.st_size, mtime_nsecs=st.st_mtime_ns, is_directory=os.path.isdir(_local(path)))


@tf_export("io.gfile.walk")
def walk(top, topdown: bool = True, onerror=None) -> Iterator[tuple[str, list[str], list[str]]]:
    """(directory, subdirectory names, file names) for `top` and every directory below it (top-down unless
    `topdown` is False), names sorted; nothing for a missing `top`."""
    local = _local(top)
    if not os.path.isdir(local):
        return
    try:
        names = sorted(os.listdir(local))
    except OSError as exc:
        if onerror is not None:
            onerror(_error(exc, local))
        return
    subdirs = [n for n in names if os.path.isdir(os.path.join(local, n))]
    files = [n for n in names if n not in subdirs]
    if topdown:
        yield local, subdirs, files
    for sub in subdirs:
        yield from walk(os.path.join(local, sub), topdown, onerror)
    if not topdown:
        yield local, subdirs, files


@tf_export("io.gfile.join")
def join(path, *paths) -> str:
    return os.path.join(os.fspath(path), *map(os.fspath, paths))
