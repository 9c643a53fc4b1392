"""File ops: ReadFile and WriteFile (tf.io.read_file, tf.io.write_file), a whole file as one string. Both may
touch the file system, so a graph imported without `allow_file_access` cannot run them."""

from __future__ import annotations

import os

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op

__all__ = ["read_file", "write_file"]

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


def read_file(filename, name: str | None = None) -> _ops.Tensor:
    """The whole contents of the file `filename` as a scalar string."""
    return apply_op("ReadFile", [_ops.convert_to_tensor(filename, dtype=_dt.string)], name=name).outputs[0]


def write_file(filename, contents, name: str | None = None) -> _ops.Operation:
    """An op that writes the scalar string `contents` to the file `filename` (replacing it, creating missing
    directories)."""
    return apply_op("WriteFile", [_ops.convert_to_tensor(filename, dtype=_dt.string),
                                  _ops.convert_to_tensor(contents, dtype=_dt.string)], name=name)
