"""tf.data pipelines against what TensorFlow yielded for the same pipelines (recorded by
tools/tf_fixtures/gen_data.py into tests/fixtures/tf/data/): element orders of interleave, window,
padded_batch, unbatch, shard, ..., and the file datasets reading files TensorFlow wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "data"
CASES = json.loads((FIXTURES / "cases.json").read_text())
FILES = {p.name: str(p) for p in FIXTURES.iterdir() if p.name != "cases.json"}


def _decode(recorded):
    if isinstance(recorded, list):
        return tuple(_decode(r) for r in recorded)
    if "sparse" in recorded:
        return tf.SparseTensorValue(*(_decode(part) for part in recorded["sparse"]))
    if "bytes_hex" in recorded:
        values = [bytes.fromhex(h) for h in recorded["bytes_hex"]]
        return np.array(values, dtype=object).reshape(recorded["shape"])
    if "values" not in recorded:
        return {k: _decode(v) for k, v in recorded.items()}
    return np.array(recorded["values"], dtype=recorded["dtype"]).reshape(recorded["shape"])


def _assert_same(got, want) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        assert isinstance(got, tf.SparseTensorValue) == isinstance(want, tf.SparseTensorValue)
        for g, w in zip(got, want):
            _assert_same(g, w)
        return
    if isinstance(want, dict):
        assert set(got) == set(want)
        for k in want:
            _assert_same(got[k], want[k])
        return
    got = np.asarray(got, dtype=object if want.dtype == object else None)
    assert got.shape == want.shape
    if want.dtype != object:
        assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("name", sorted(CASES))
def test_pipeline_yields_what_tensorflow_yielded(name):
    case = CASES[name]
    dataset = eval(case["expression"], {"tf": tf, "files": FILES})  # noqa: S307 - the recorded case expressions
    nxt = dataset.make_one_shot_iterator().get_next()
    wanted = [_decode(e) for e in case["elements"]]
    with tf.Session() as sess:
        for want in wanted:
            _assert_same(sess.run(nxt), want)
        if "error" in case:
            with pytest.raises(getattr(tf.errors, case["error"])):
                sess.run(nxt)
        else:
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(nxt)
