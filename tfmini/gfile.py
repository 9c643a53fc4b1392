"""`tf.gfile` (TF 1.15's file API: GFile, Exists, Glob, MakeDirs, ...), over framework/file_io.py, which also
gives `tf.io.gfile` its lower-case names."""

from collections.abc import Iterator as _Iterator

from tfmini.framework import file_io as _file_io
from tfmini.framework.api_export import tf_export
from tfmini.framework.file_io import FastGFile, GFile

Copy = _file_io.copy
DeleteRecursively = _file_io.rmtree
Exists = _file_io.exists
Glob = _file_io.glob
IsDirectory = _file_io.isdir
ListDirectory = _file_io.listdir
MakeDirs = _file_io.makedirs
MkDir = _file_io.mkdir
Open = GFile
Remove = _file_io.remove
Rename = _file_io.rename
Stat = _file_io.stat


@tf_export("gfile.Walk")
def Walk(top, in_order: bool = True) -> _Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802 - TF's name
    """(directory, subdirectory names, file names) for `top` and the directories below it; parents first when
    `in_order`."""
    return _file_io.walk(top, topdown=in_order)


__all__ = [
    "Copy", "DeleteRecursively", "Exists", "FastGFile", "GFile", "Glob", "IsDirectory", "ListDirectory", "MakeDirs",
    "MkDir", "Open", "Remove", "Rename", "Stat", "Walk",
]
