"""`tf.gfile` (TF 1.15's file API: GFile, Exists, Glob, MakeDirs, ...), over framework/file_io.py, which also
gives `tf.io.gfile` its lower-case names.

TF 1.15 names the arguments of these functions differently from `tf.io.gfile`'s (`Exists(filename)`,
`exists(path)`), so each is a function of its own here. The names are declared with `@tf_export` beside their
definitions (GFile and its aliases in framework/file_io.py) and bound here when tfmini is imported
(framework/api_export.py).
"""

from collections.abc import Iterator as _Iterator

from tfmini.framework import file_io as _file_io
from tfmini.framework.api_export import tf_export as _tf_export


@_tf_export("gfile.Exists")
def Exists(filename) -> bool:  # noqa: N802 - TF's name
    """Whether `filename` (a file or a directory) exists."""
    return _file_io.exists(filename)


@_tf_export("gfile.IsDirectory")
def IsDirectory(dirname) -> bool:  # noqa: N802 - TF's name
    return _file_io.isdir(dirname)


@_tf_export("gfile.ListDirectory")
def ListDirectory(dirname) -> list[str]:  # noqa: N802 - TF's name
    """The names of the entries of `dirname` (NotFoundError when it is not a directory)."""
    return _file_io.listdir(dirname)


@_tf_export("gfile.Glob")
def Glob(filename) -> list[str]:  # noqa: N802 - TF's name
    """The paths matching the pattern `filename` (or any of a list of patterns)."""
    return _file_io.glob(filename)


@_tf_export("gfile.MkDir")
def MkDir(dirname) -> None:  # noqa: N802 - TF's name
    _file_io.mkdir(dirname)


@_tf_export("gfile.MakeDirs")
def MakeDirs(dirname) -> None:  # noqa: N802 - TF's name
    """Creates `dirname` and any missing parents."""
    _file_io.makedirs(dirname)


@_tf_export("gfile.Remove")
def Remove(filename) -> None:  # noqa: N802 - TF's name
    _file_io.remove(filename)


@_tf_export("gfile.DeleteRecursively")
def DeleteRecursively(dirname) -> None:  # noqa: N802 - TF's name
    _file_io.rmtree(dirname)


@_tf_export("gfile.Copy")
def Copy(oldpath, newpath, overwrite: bool = False) -> None:  # noqa: N802 - TF's name
    _file_io.copy(oldpath, newpath, overwrite)


@_tf_export("gfile.Rename")
def Rename(oldname, newname, overwrite: bool = False) -> None:  # noqa: N802 - TF's name
    _file_io.rename(oldname, newname, overwrite)


@_tf_export("gfile.Stat")
def Stat(filename) -> _file_io.FileStatistics:  # noqa: N802 - TF's name
    return _file_io.stat(filename)


@_tf_export("gfile.Walk")
def Walk(top, in_order: bool = True) -> _Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802 - TF's name
    """(directory, subdirectory names, file names) for `top` and the directories below it; parents first when
    `in_order`."""
    return _file_io.walk(top, topdown=in_order)
