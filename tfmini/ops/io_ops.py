"""File ops: ReadFile and WriteFile (tf.io.read_file, tf.io.write_file), a whole file as one string, and
MatchingFiles (tf.io.matching_files), the paths a glob pattern names. All touch the file system, so a graph
imported without `allow_file_access` cannot run them."""

from __future__ import annotations

import fnmatch
import os

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op

__all__ = ["matching_files", "read_file", "write_file"]

# How an OSError of the file system maps to TF's error classes (the message names the path, as TF's does).
_OS_ERRORS = (
    (FileNotFoundError, _errors.NotFoundError, "No such file or directory"),
    (IsADirectoryError, _errors.FailedPreconditionError, "Is a directory"),
    (NotADirectoryError, _errors.FailedPreconditionError, "Not a directory"),
    (PermissionError, _errors.PermissionDeniedError, "Permission denied"),
)


def _file_error(path: str, error: OSError) -> _errors.OpError:
    for os_class, tf_class, text in _OS_ERRORS:
        if isinstance(error, os_class):
            return tf_class(None, None, f"{path}; {text}")
    return _errors.UnknownError(None, None, f"{path}; {error.strerror or error}")


def _scalar_path(filename: np.ndarray) -> str:
    if np.ndim(filename) != 0:
        raise _errors.InvalidArgumentError(
            None, None, f"Input filename tensor must be scalar, but had shape: {_shape.dims_str(np.shape(filename))}"
        )
    return np.asarray(filename).item().decode("utf-8", "surrogateescape")


def _scalar_shape(op):
    return _shape.TensorShape([])


def _named_file(op: _ops.Operation) -> str:
    return "the file named by its 'filename' input"


# Stateful, so the file is read on every run (a folded constant would keep its first contents).
@register_op("ReadFile", inputs=["filename: string"], outputs=["contents: string"], stateful=True,
             shape=_scalar_shape, file_access=_named_file)
def _read_file(filename):
    path = _scalar_path(filename)
    try:
        with open(path, "rb") as f:
            return np.array(f.read(), dtype=object)
    except OSError as e:
        raise _file_error(path, e) from None


@register_op("WriteFile", inputs=["filename: string", "contents: string"], stateful=True, file_access=_named_file)
def _write_file(filename, contents):
    path = _scalar_path(filename)
    if np.ndim(contents) != 0:
        raise _errors.InvalidArgumentError(
            None, None, f"Contents tensor must be scalar, but had shape: {_shape.dims_str(np.shape(contents))}"
        )
    try:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)  # TF creates missing directories
        with open(path, "wb") as f:
            f.write(np.asarray(contents).item())
    except OSError as e:
        raise _file_error(path, e) from None
    return []


NotDifferentiable("ReadFile")
NotDifferentiable("WriteFile")


@tf_export("io.read_file", "read_file")
def read_file(filename, name: str | None = None) -> _ops.Tensor:
    """The whole contents of the file `filename` as a scalar string."""
    return apply_op("ReadFile", [_ops.convert_to_tensor(filename, dtype=_dt.string)], name=name).outputs[0]


@tf_export("io.write_file", "write_file")
def write_file(filename, contents, name: str | None = None) -> _ops.Operation:
    """An op that writes the scalar string `contents` to the file `filename` (replacing it, creating missing
    directories)."""
    return apply_op("WriteFile", [_ops.convert_to_tensor(filename, dtype=_dt.string),
                                  _ops.convert_to_tensor(contents, dtype=_dt.string)], name=name)


def _glob(pattern: str) -> list[str]:
    """The paths `pattern` matches, component by component with fnmatch's *, ? and [...] (case-sensitive, and
    names starting with a dot are matched too, as TF's file system does)."""
    parts = [p for p in pattern.split(os.sep) if p]
    paths = [os.sep if pattern.startswith(os.sep) else ""]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        found = []
        for base in paths:
            if any(c in part for c in "*?["):
                try:
                    names = [n for n in os.listdir(base or ".") if fnmatch.fnmatchcase(n, part)]
                except OSError:
                    continue
            else:
                names = [part]
            for name in names:
                candidate = os.path.join(base, name) if base else name
                if os.path.lexists(candidate) if last else os.path.isdir(candidate):
                    found.append(candidate)
        paths = found
    return paths


# Stateful for the same reason as ReadFile: the directory listing is taken when the op runs.
@register_op("MatchingFiles", inputs=["pattern: string"], outputs=["filenames: string"], stateful=True,
             shape=lambda op: _shape.TensorShape([None]),
             file_access=lambda op: "the directories named by its 'pattern' input")
def _matching_files(pattern):
    if np.ndim(pattern) > 1:
        raise _errors.InvalidArgumentError(
            None, None, f"Input patterns tensor must be scalar or vector, but had shape: "
            f"{_shape.dims_str(np.shape(pattern))}"
        )
    # As TF: the matches of every pattern together, sorted as bytes; a file two patterns match is listed twice.
    found = []
    for p in np.asarray(pattern).reshape(-1):
        found.extend(_glob(p.decode("utf-8", "surrogateescape")))
    out = np.empty(len(found), dtype=object)
    out[:] = sorted(f.encode("utf-8", "surrogateescape") for f in found)
    return out


NotDifferentiable("MatchingFiles")


@tf_export("io.matching_files", "matching_files")
def matching_files(pattern, name: str | None = None) -> _ops.Tensor:
    """The sorted paths that match the glob `pattern` (a string or a vector of them): *, ? and [...] match
    within one path component."""
    return apply_op("MatchingFiles", [_ops.convert_to_tensor(pattern, dtype=_dt.string)], name=name).outputs[0]
