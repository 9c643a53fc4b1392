"""`tf.gfile` (TF 1.15's file API: GFile, Exists, Glob, MakeDirs, ...), over framework/file_io.py, which also
gives `tf.io.gfile` its lower-case names.

The names are declared with `@tf_export` beside their definitions (Walk here, the rest in framework/file_io.py)
and bound here when tfmini is imported (framework/api_export.py).
"""

from collections.abc import Iterator as _Iterator

from tfmini.framework import file_io as _file_io
from tfmini.framework.api_export import tf_export as _tf_export


@_tf_export("gfile.Walk")
def Walk(top, in_order: bool = True) -> _Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802 - TF's name
    """(directory, subdirectory names, file names) for `top` and the directories below it; parents first when
    `in_order`."""
    return _file_io.walk(top, topdown=in_order)
