"""Replays op calls recorded from TensorFlow by tools/tf_fixtures/gen_records.py (op_cases.json) on tfmini.

Import from tests in tests/ops as `from tf_recorded_cases import CASES, run_case, check_case`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "records"
_DATA = json.loads((FIXTURES / "op_cases.json").read_text())
CASES = {name: (path, args, kwargs) for name, path, args, kwargs in _DATA["cases"]}
RESULTS = _DATA["results"]
# the cases of decode_ops and of string_hash_ops (the rest are string_ops')
DECODE_PREFIXES = ("csv_", "decode_raw", "serialize_", "parse_tensor", "decompress_")
HASH_PREFIX = "hash_"


def decode_arg(value):
    """A recorded argument as the API call takes it (the generator's convention)."""
    if isinstance(value, dict):
        if "__dtype__" in value:
            return getattr(tf, value["__dtype__"])
        if "__complex__" in value:
            return complex(*value["__complex__"])
        if "__bytes__" in value:
            return value["__bytes__"].encode("latin-1")
        if "__const__" in value:
            return tf.constant(decode_arg(value["__const__"]), dtype=getattr(tf, value["dtype"]))
    if isinstance(value, list):
        return [decode_arg(v) for v in value]
    return value


def decode_result(enc):
    if "sparse" in enc:
        return tf.SparseTensorValue(*(decode_result(e) for e in enc["sparse"]))
    if "list" in enc:
        return [decode_result(e) for e in enc["list"]]
    if enc["dtype"] == "string":
        out = np.empty(len(enc["values"]), dtype=object)
        out[:] = [v.encode("latin-1") for v in enc["values"]]
        return out.reshape(enc["shape"])
    if enc["dtype"].startswith("complex"):
        return np.array([complex(*v) for v in enc["values"]], dtype=enc["dtype"]).reshape(enc["shape"])
    values = [float(v) if isinstance(v, str) else v for v in enc["values"]]
    return np.array(values, dtype=enc["dtype"]).reshape(enc["shape"])


def run_case(name: str):
    """Builds the recorded call in a fresh graph and runs it."""
    path, args, kwargs = CASES[name]
    fn = tf
    for part in path.split("."):
        fn = getattr(fn, part)
    with tf.Graph().as_default(), tf.Session() as sess:
        out = fn(*decode_arg(args), **{k: decode_arg(v) for k, v in kwargs.items()})
        return sess.run(out)


def assert_same(got, want) -> None:
    if isinstance(want, tf.SparseTensorValue):
        assert isinstance(got, tf.SparseTensorValue)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    else:
        got = np.asarray(got, dtype=object) if want.dtype == object else np.asarray(got)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        assert got.shape == want.shape, (got.shape, want.shape)
        if want.dtype == object:
            assert got.tolist() == want.tolist()
        else:
            np.testing.assert_array_equal(got, want)


def check_case(name: str) -> None:
    """Runs case `name` and compares it with TensorFlow's value, or its error class and message. A graph-time
    ValueError from a shape function is compared up to TF's node listing, which names TF's own nodes."""
    recorded = RESULTS[name]
    if "value" in recorded:
        assert_same(run_case(name), decode_result(recorded["value"]))
        return
    cls_name, message = recorded["error"]
    cls = getattr(errors, cls_name, None) or {"ValueError": ValueError, "TypeError": TypeError}[cls_name]
    with pytest.raises(cls) as info:
        run_case(name)
    got = info.value.message if isinstance(info.value, errors.OpError) else str(info.value)
    want = message.split(" for '{{node")[0]
    assert got.startswith(want) or want in got, (got, want)
