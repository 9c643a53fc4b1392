"""Fingerprint (tf.fingerprint): a FarmHash Fingerprint64 of each row of a tensor (its first dimension), as eight
little-endian bytes, declared with its shape function and kernel beside its Python wrapper."""

from __future__ import annotations

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops.string_hash_ops import fingerprint64_many

_METHODS = (b"farmhash64",)


def _fingerprint_shape(op):
    data = op.inputs[0].shape.with_rank_at_least(1)
    op.inputs[1].shape.with_rank(0)
    return _shape.TensorShape([data[0], 8])


def _as_bytes(fingerprints: np.ndarray) -> np.ndarray:
    """uint64 fingerprints as rows of 8 little-endian bytes."""
    return fingerprints.astype("<u8").view(np.uint8).reshape(-1, 8)


@register_op("Fingerprint", inputs=["data: T", "method: string"], outputs=["fingerprint: uint8"],
             shape=_fingerprint_shape, fresh_output=True)
def _fingerprint_kernel(data, method):
    if np.ndim(method) != 0:
        raise _errors.InvalidArgumentError(None, None, f"`method` should be a scalar string: {method}")
    method = method.item() if isinstance(method, np.ndarray) else method
    if method not in _METHODS:
        raise _errors.InvalidArgumentError(None, None, f"Unsupported fingerprint method is used: {method}")
    if np.ndim(data) < 1:
        raise _errors.InvalidArgumentError(None, None, f"`data` should have at least one dimension: "
                                           f"{list(np.shape(data))}")
    rows = data.shape[0]
    if data.dtype.kind in "OSU":
        strings = np.asarray(data, dtype=object).reshape(rows, -1)
        if strings.shape[1] == 1:
            return _as_bytes(fingerprint64_many(strings[:, 0]))
        # Several strings a row: the fingerprint of the concatenated fingerprints of the row's strings.
        each = _as_bytes(fingerprint64_many(strings.reshape(-1))).reshape(rows, -1)
        return _as_bytes(fingerprint64_many(np.array([row.tobytes() for row in each], dtype=object)))
    raw = np.ascontiguousarray(data).reshape(rows, -1).view(np.uint8) if data.size else np.zeros((rows, 0), np.uint8)
    return _as_bytes(fingerprint64_many(np.array([row.tobytes() for row in raw], dtype=object)))


NotDifferentiable("Fingerprint")


@tf_export("fingerprint")
def fingerprint(data, method="farmhash64", name=None) -> _ops.Tensor:
    """A [rows, 8] uint8 tensor: the FarmHash Fingerprint64 of each row of `data` (of its bytes, or of its
    strings), stable across platforms and runs, as TensorFlow computes it."""
    return apply_op("Fingerprint", [data, _ops.convert_to_tensor(method, name="method")], name=name).outputs[0]
