"""Checkpoints both ways between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/checkpoints.py tf-write D1      # TensorFlow trains and saves
    .venv/bin/python       tools/interop/checkpoints.py tfmini-check D1  # tfmini restores and compares
    .venv/bin/python       tools/interop/checkpoints.py tfmini-write D2  # tfmini trains and saves
    /work/tfenv/bin/python tools/interop/checkpoints.py tf-check D2      # TensorFlow restores and compares

The writer trains the same small model (a linear regression with Adam and a global step) for a few steps, saves
it with a TF1 Saver, and records the variables and the loss in `expected.json`; it also saves one variable of
every common dtype (strings with arbitrary bytes, scalars, an empty tensor) as `dtypes/ckpt`. The checker
builds the same graph, restores the latest checkpoint of the directory, compares every variable and the loss,
trains one more step on both sides' terms (the loss must go down), and reads the dtypes checkpoint through
`load_checkpoint`. Any disagreement exits non-zero with a message. TensorFlow is imported only by the tf-*
commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

STEPS = 4
X = np.random.RandomState(7).randn(16, 3).astype(np.float32)
Y = (X @ np.array([[2.0], [-1.0], [0.5]], np.float32) - 0.25).astype(np.float32)


def dtype_values() -> dict:
    rng = np.random.RandomState(11)
    return {
        "f32": rng.randn(3, 2).astype(np.float32),
        "f64": rng.randn(5).astype(np.float64),
        "f16": rng.randn(2, 2).astype(np.float16),
        "i8": np.array([-7, 8], np.int8),
        "i32": np.arange(6, dtype=np.int32).reshape(2, 3),
        "i64": np.array([2**50, -3], np.int64),
        "u8": np.array([1, 255], np.uint8),
        "u16": np.array([60000], np.uint16),
        "flag": np.array([[True, False]]),
        "c64": np.array([1 + 2j, -3j], np.complex64),
        "c128": np.array([0.5 - 1j], np.complex128),
        "scalar": np.float32(-1.25),
        "empty": np.zeros((2, 0), np.float64),
        "text": np.array([b"", b"\x00\xff\x01", "na\u00efve".encode(), b"z" * 200], dtype=object),
        "text_scalar": np.array(b"one", dtype=object),
    }


def _encode(value: np.ndarray):
    if value.dtype == object:
        return {"dtype": "string", "shape": list(value.shape), "hex": [b.hex() for b in value.reshape(-1)]}
    if value.dtype.kind == "c":
        return {"dtype": value.dtype.name, "shape": list(value.shape),
                "re": value.real.reshape(-1).tolist(), "im": value.imag.reshape(-1).tolist()}
    return {"dtype": value.dtype.name, "shape": list(value.shape), "values": value.reshape(-1).tolist()}


def _decode(record: dict) -> np.ndarray:
    shape = tuple(record["shape"])
    if record["dtype"] == "string":
        out = np.empty(len(record["hex"]), dtype=object)
        out[:] = [bytes.fromhex(h) for h in record["hex"]]
        return out.reshape(shape)
    if "re" in record:
        return (np.array(record["re"]) + 1j * np.array(record["im"])).astype(record["dtype"]).reshape(shape)
    return np.array(record["values"], dtype=record["dtype"]).reshape(shape)


def _same(got, want) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    if want.dtype == object:
        got = np.array(got, dtype=object)
        return got.shape == want.shape and got.tolist() == want.tolist()
    return got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)


def _fail(message: str) -> None:
    sys.exit(f"checkpoints interop: {message}")


# ----------------------------------------------------------------------------------------------------------
# The model, written once for either library (both take TF1's API)
# ----------------------------------------------------------------------------------------------------------
def build_model(tf):
    x, y = tf.constant(X), tf.constant(Y)
    w = tf.get_variable("w", initializer=tf.constant([[0.1], [0.2], [0.3]]))
    b = tf.get_variable("b", initializer=tf.constant([0.0]))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return loss, train


def write(tf, directory: str) -> None:
    out = Path(directory)
    (out / "dtypes").mkdir(parents=True, exist_ok=True)
    with tf.Graph().as_default():
        loss, train = build_model(tf)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(STEPS):
                sess.run(train)
            prefix = saver.save(sess, str(out / "model.ckpt"), global_step=tf.train.get_global_step(),
                                write_meta_graph=False)
            variables = {v.op.name: _encode(np.asarray(sess.run(v))) for v in tf.global_variables()}
            expected = {"prefix": os.path.basename(prefix), "loss": float(sess.run(loss)), "variables": variables}
    values = dtype_values()
    with tf.Graph().as_default():
        variables = {name: tf.Variable(value, name=name) for name, value in values.items()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver(variables).save(sess, str(out / "dtypes" / "ckpt"), write_meta_graph=False,
                                           write_state=False)
    expected["dtypes"] = {name: _encode(value) for name, value in values.items()}
    (out / "expected.json").write_text(json.dumps(expected))


def check(tf, directory: str, writer: str) -> None:
    expected = json.loads((Path(directory) / "expected.json").read_text())
    with tf.Graph().as_default():
        loss, train = build_model(tf)
        saver = tf.train.Saver()
        latest = tf.train.latest_checkpoint(directory)
        if latest is None or os.path.basename(latest) != expected["prefix"]:
            _fail(f"latest_checkpoint({directory}) is {latest}, {writer} saved {expected['prefix']}")
        with tf.Session() as sess:
            saver.restore(sess, latest)
            names = {v.op.name for v in tf.global_variables()}
            if names != set(expected["variables"]):
                _fail(f"variables differ: {sorted(names)} here, {sorted(expected['variables'])} from {writer}")
            for v in tf.global_variables():
                got, want = np.asarray(sess.run(v)), _decode(expected["variables"][v.op.name])
                if not _same(got, want):
                    _fail(f"variable {v.op.name} restored as {got!r}, {writer} saved {want!r}")
            got_loss = float(sess.run(loss))
            if not np.isclose(got_loss, expected["loss"], rtol=1e-6):
                _fail(f"loss after restore is {got_loss}, {writer} had {expected['loss']}")
            sess.run(train)
            if not float(sess.run(loss)) < got_loss:
                _fail("a training step after restore did not lower the loss")
    reader = tf.train.load_checkpoint(str(Path(directory) / "dtypes" / "ckpt"))
    shapes = reader.get_variable_to_shape_map()
    for name, record in expected["dtypes"].items():
        want = _decode(record)
        if shapes.get(name) != list(want.shape):
            _fail(f"dtypes checkpoint: {name} has shape {shapes.get(name)}, {writer} saved {list(want.shape)}")
        got = reader.get_tensor(name)
        if not _same(got, want):
            _fail(f"dtypes checkpoint: {name} reads as {got!r}, {writer} saved {want!r}")
    print(f"checkpoints interop: {len(expected['variables'])} variables and {len(expected['dtypes'])} dtypes "
          f"written by {writer} agree")


def main(argv: list[str]) -> None:
    if len(argv) != 3 or argv[1] not in ("tf-write", "tf-check", "tfmini-write", "tfmini-check"):
        sys.exit(f"usage: {argv[0]} tf-write|tf-check|tfmini-write|tfmini-check DIR")
    command, directory = argv[1], argv[2]
    if command.startswith("tf-"):
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow.compat.v1 as tf  # noqa: PLC0415 - only the tf-* commands may import TensorFlow

        tf.disable_v2_behavior()
        other = "tfmini"
    else:
        import tfmini as tf  # noqa: PLC0415 - only the tfmini-* commands may import tfmini

        other = "TensorFlow"
    if command.endswith("-write"):
        write(tf, directory)
    else:
        check(tf, directory, other)


if __name__ == "__main__":
    main(sys.argv)
