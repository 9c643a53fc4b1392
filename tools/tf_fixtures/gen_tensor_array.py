"""Record a TensorFlow graph built with tf.TensorArray (unstack, read, gather, write, concat, split, scatter on
a growing array, size, and the gradients of all of them) with its outputs.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_tensor_array.py``.
Writes ``graph.pb`` (the GraphDef), ``fetches.json`` (tensor names to fetch, and the input to feed) and
``values.npz`` (the input and TensorFlow's values) into ``tests/fixtures/tf/tensor_array/``; the tests import
the GraphDef into tfmini, run it and compare.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "tensor_array"


def build() -> dict:
    """The graph's named outputs (name -> tensor) over a float32 placeholder `x` of shape [4, 3]."""
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    rows = tf.TensorArray(tf.float32, size=4, clear_after_read=False, name="rows").unstack(x)
    read = rows.read(2)
    gathered = rows.gather([3, 0, 3])
    pieces = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, x[:1]).write(1, x[1:4])
    concat = pieces.concat()
    split = tf.TensorArray(tf.float32, size=3, infer_shape=False, clear_after_read=False).split(x, [1, 2, 1])
    split_concat = split.concat()
    split_read = split.read(1)
    grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[3]).scatter([5, 1], x[:2])
    grown_stack = grown.stack()
    grown_size = grown.size()
    ys = [tf.sin(read) * 2.0, gathered * gathered, tf.cos(concat), split_concat * 3.0, split_read,
          grown_stack * grown_stack]
    # Fixed weights for each y (shapes as the values will have them), so the gradient graph needs no
    # reduction over a tensor of unknown rank.
    shapes = [[3], [3, 3], [4, 3], [4, 3], [2, 3], [6, 3]]
    rng = np.random.RandomState(5)
    weights = [tf.constant(rng.uniform(-1, 1, s).astype(np.float32)) for s in shapes]
    (grad,) = tf.gradients(ys, [x], grad_ys=weights)
    return {"read": read, "gathered": gathered, "concat": concat, "split_concat": split_concat,
            "split_read": split_read, "grown_stack": grown_stack, "grown_size": grown_size, "grad": grad}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        outputs = build()
        x_value = np.random.RandomState(11).uniform(-1, 1, [4, 3]).astype(np.float32)
        with tf.Session() as sess:
            values = sess.run(outputs, {"x:0": x_value})
    (OUT / "graph.pb").write_bytes(graph.as_graph_def().SerializeToString())
    fetches = {name: t.name for name, t in outputs.items()}
    (OUT / "fetches.json").write_text(json.dumps({"feed": "x:0", "fetches": fetches}, indent=1, sort_keys=True) + "\n")
    np.savez(OUT / "values.npz", x=x_value, **{name: np.asarray(v) for name, v in values.items()})


if __name__ == "__main__":
    main()
