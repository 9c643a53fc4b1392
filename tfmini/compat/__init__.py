"""`tf.compat`: `tf.compat.v1` is tfmini itself (the TF1 surface), for code written as
`tf.compat.v1.Session()`; plus TF's bytes/text and path helpers and the shape-compatibility helpers.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""

import os as _os
import sys as _sys

from tfmini.framework.api_export import tf_export as _tf_export

# tfmini is being imported when this module runs (tf.compat is one of its namespaces), so the package is taken
# from sys.modules: importing it here would be an import cycle.
v1 = _sys.modules["tfmini"]
_tf_export("compat.v1").export_constant(__name__, "v1")


@_tf_export("compat.as_bytes")
def as_bytes(bytes_or_text, encoding: str = "utf-8") -> bytes:
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


@_tf_export("compat.as_str", "compat.as_text")
def as_text(bytes_or_text, encoding: str = "utf-8") -> str:
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


@_tf_export("compat.as_str_any")
def as_str_any(value) -> str:
    """`value` as a str: bytes are decoded as UTF-8, anything else goes through `str()`."""
    if isinstance(value, bytes):
        return as_text(value)
    return str(value)


@_tf_export("compat.path_to_str")
def path_to_str(path):
    """A path-like object (`pathlib.Path`, anything with `__fspath__`) as a str; other values unchanged."""
    if hasattr(path, "__fspath__"):
        return as_str_any(_os.fspath(path))
    return path
