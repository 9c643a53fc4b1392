"""`tf.compat`: `tf.compat.v1` is tfmini itself (the TF1 surface), for code written as
`tf.compat.v1.Session()`; plus TF's bytes/text helpers."""

from __future__ import annotations

import sys

from tfmini.framework.api_export import tf_export


@tf_export("compat.as_bytes")
def as_bytes(bytes_or_text, encoding: str = "utf-8") -> bytes:
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


@tf_export("compat.as_str", "compat.as_text")
def as_text(bytes_or_text, encoding: str = "utf-8") -> str:
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text


def __getattr__(name: str):
    if name == "v1":
        return sys.modules["tfmini"]
    raise AttributeError(f"module 'tfmini.compat' has no attribute {name!r}")
