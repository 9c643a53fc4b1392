"""Replays the cases tools/tf_fixtures/gen_conv.py recorded from TensorFlow (tests/fixtures/tf/conv): each is an
expression over inputs a, b, c in the TF 1.x API, evaluated here with tfmini, with its outputs and the gradients
of its floating outputs (for recorded grad_ys) compared with TensorFlow's.

Import from tests in tests/ops as `from conv_recorded_cases import CASES, check_recorded_case`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import tfmini as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "conv"
CASES: dict = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))
_ARRAYS = np.load(FIXTURES / "cases.npz")


def cases_starting(*prefixes: str) -> list[str]:
    return sorted(name for name in CASES if name.startswith(prefixes))


def check_recorded_case(name: str, rtol: float = 2e-5, atol: float = 2e-5) -> None:
    case = CASES[name]
    with tf.Graph().as_default(), tf.Session() as sess:
        inputs = {k: tf.constant(_ARRAYS[f"{name}/{k}"]) for k in case["inputs"]}
        outs = eval(case["expr"], {"tf": tf}, dict(inputs))  # noqa: S307 - the recorded case table
        outs = outs if isinstance(outs, list) else [outs]
        grads = []
        if case["diff"]:
            ys = [y for y in outs if y.dtype.is_floating]
            grad_ys = [tf.constant(_ARRAYS[f"{name}/grad_ys{j}"]) for j in range(len(ys))]
            grads = tf.gradients(ys, [inputs[k] for k in case["diff"]], grad_ys=grad_ys)
        got_outs, got_grads = sess.run([outs, grads])
    for j, got in enumerate(got_outs):
        want = _ARRAYS[f"{name}/out{j}"]
        assert got.dtype == want.dtype, (name, j, got.dtype, want.dtype)
        assert got.shape == want.shape, (name, j, got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name} output {j}")
    for k, got in zip(case["diff"], got_grads):
        want = _ARRAYS[f"{name}/grad_{k}"]
        assert got.shape == want.shape, (name, k, got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name} gradient of {k}")
