"""Partitioned variables in checkpoints, both ways between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/partitioned.py tf-write DIR      TensorFlow trains and saves
    .venv/bin/python       tools/interop/partitioned.py tfmini-check DIR  tfmini restores and compares
    .venv/bin/python       tools/interop/partitioned.py tfmini-write DIR  tfmini trains and saves
    /work/tfenv/bin/python tools/interop/partitioned.py tf-check DIR      TensorFlow restores and compares

Both sides build one model: an embedding [13, 3] cut into 4 parts (4, 3, 3, 3 rows) looked up with the "mod"
strategy, a second embedding [9, 3] cut into 2 parts looked up with "div", and a dense layer whose kernel [3, 2]
is cut along its columns; trained with gradient descent (sparse updates of the looked-up rows) for a few steps
and saved by tf.train.Saver, which stores each partitioned variable as one tensor written in slices. The
writer records every full variable and the loss in expected.json. The checker builds the same model with
another partitioning of the "div" embedding (3 parts: under "div" the rows keep their ids; under "mod" they
would not), restores the latest checkpoint, compares each variable
(also through tf.train.load_variable) and the loss, then trains one more step, which must lower the loss.
TensorFlow is imported only by the tf-* commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys
from types import ModuleType

import numpy as np
from _driver import expect, import_tensorflow, run

STEPS = 4
_rng = np.random.RandomState(23)
EMB_A = (_rng.standard_normal((13, 3)) * 0.5).astype(np.float32)
EMB_B = (_rng.standard_normal((9, 3)) * 0.5).astype(np.float32)
KERNEL = (_rng.standard_normal((3, 2)) * 0.5).astype(np.float32)
IDS_A = np.array([0, 12, 5, 7, 7, 3], np.int64)
IDS_B = np.array([8, 1, 4, 4, 0, 6], np.int64)
Y = _rng.standard_normal((6, 2)).astype(np.float32)
NAMES = ("model/emb_a", "model/emb_b", "model/kernel")


def build_model(tf, emb_b_parts: int):
    """The loss, a training op and the three variables (partitioned) of the shared model."""
    with tf.variable_scope("model"):
        emb_a = tf.get_variable("emb_a", [13, 3], initializer=tf.constant_initializer(0.0),
                                partitioner=tf.fixed_size_partitioner(4))
        emb_b = tf.get_variable("emb_b", [9, 3], initializer=tf.constant_initializer(0.0),
                                partitioner=tf.fixed_size_partitioner(emb_b_parts))
        kernel = tf.get_variable("kernel", [3, 2], initializer=tf.constant_initializer(0.0),
                                 partitioner=tf.fixed_size_partitioner(2, axis=1))
    hidden = (tf.nn.embedding_lookup(emb_a, IDS_A, partition_strategy="mod")
              + tf.nn.embedding_lookup(emb_b, IDS_B, partition_strategy="div"))
    loss = tf.reduce_mean(tf.square(tf.matmul(tf.tanh(hidden), kernel) - Y))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    return loss, train, {"model/emb_a": emb_a, "model/emb_b": emb_b, "model/kernel": kernel}


def _assign_initial(tf, sess, variables: dict) -> None:
    for name, value in zip(NAMES, (EMB_A, EMB_B, KERNEL)):
        sess.run(variables[name].assign(value))


def _write(tf, out_dir: str, writer: str) -> str:
    with tf.Graph().as_default():
        loss, train, variables = build_model(tf, 2)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            _assign_initial(tf, sess, variables)
            for _ in range(STEPS):
                sess.run(train)
            prefix = saver.save(sess, os.path.join(out_dir, "model.ckpt"), global_step=STEPS,
                                write_meta_graph=False)
            values = {name: sess.run(tf.convert_to_tensor(v)).tolist() for name, v in variables.items()}
            expected = {"prefix": os.path.basename(prefix), "loss": float(sess.run(loss)), "variables": values,
                        "writer": writer}
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f)
    return f"saved {len(values)} partitioned variables after {STEPS} steps (loss {expected['loss']:.6f})"


def _check(tf, out_dir: str) -> str:
    with open(os.path.join(out_dir, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    writer = expected["writer"]
    latest = tf.train.latest_checkpoint(out_dir)
    expect(latest is not None and os.path.basename(latest) == expected["prefix"],
           f"latest_checkpoint({out_dir}) is {latest}, {writer} saved {expected['prefix']}")
    listed = dict(tf.train.list_variables(latest))
    for name, value in expected["variables"].items():
        want = np.array(value, np.float32)
        expect(list(listed.get(name, [])) == list(want.shape),
               f"list_variables gives {name} shape {listed.get(name)}, {writer} saved {list(want.shape)}")
        expect(np.allclose(tf.train.load_variable(latest, name), want, rtol=1e-6, atol=1e-7),
               f"load_variable({name}) differs from what {writer} saved")
    with tf.Graph().as_default():
        loss, train, variables = build_model(tf, 3)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, latest)
            for name, v in variables.items():
                got, want = sess.run(tf.convert_to_tensor(v)), np.array(expected["variables"][name], np.float32)
                expect(np.allclose(got, want, rtol=1e-6, atol=1e-7),
                       f"{name} restored as {got.tolist()}, {writer} saved {want.tolist()}")
            got_loss = float(sess.run(loss))
            expect(np.isclose(got_loss, expected["loss"], rtol=1e-5),
                   f"loss after restore is {got_loss}, {writer} had {expected['loss']}")
            sess.run(train)
            expect(float(sess.run(loss)) < got_loss, "a training step after restore did not lower the loss")
    return f"{len(expected['variables'])} partitioned variables written by {writer} agree"


def _tensorflow() -> ModuleType:
    return import_tensorflow()


def _tfmini() -> ModuleType:
    import tfmini  # only the tfmini-* commands import tfmini

    return tfmini


COMMANDS = {
    "tf-write": lambda d: _write(_tensorflow(), d, "TensorFlow"),
    "tf-check": lambda d: _check(_tensorflow(), d),
    "tfmini-write": lambda d: _write(_tfmini(), d, "tfmini"),
    "tfmini-check": lambda d: _check(_tfmini(), d),
}


def main(argv: list[str]) -> int:
    return run("partitioned", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
