"""Records TensorFlow's colocation records for a few TF1 programs, for tests/framework/test_e2_colocation.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_e2_colocation.py

Writes tests/fixtures/tf/e2_colocation/programs.json: for each program its source (run by the test with tfmini
as `tf`) and, for every node of `as_graph_def()`, its op type, device and `_class` attr (the colocation groups),
plus what a program stores in `out` (colocation_groups() of some ops, devices and groups after an import).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "e2_colocation"

PROGRAMS = {
    # colocate_with an op, a Variable and a tensor; nesting, ignore_existing, a tf.device inside, ops that
    # inherit groups from the op they colocate with, and a ref update colocated implicitly.
    "scopes": """
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(1.0, name="v")
        with tf.device("/job:ps/task:1"):
            w = tf.Variable([1.0, 2.0], name="w")
        x = tf.constant(3.0, name="x")
        with tf.colocate_with(v):
            a = tf.identity(x, name="a")
            with tf.colocate_with(w.op):
                b = tf.identity(x, name="b")
                with tf.colocate_with(None, ignore_existing=True):
                    c = tf.identity(x, name="c")
                with tf.colocate_with(x, ignore_existing=True):
                    d = tf.identity(x, name="d")
            with tf.device("/job:worker/task:1"):
                e = tf.identity(x, name="e")
        with tf.colocate_with(a):
            f = tf.identity(x, name="f")
        with tf.colocate_with(v.value()):
            h = tf.identity(x, name="h")
        up = tf.assign_add(v, 1.0, name="up")
        out["groups"] = {op.name: [g.decode() for g in op.colocation_groups()] for op in (x.op, a.op, b.op, c.op, d.op)}
    """,
    # Importing: groups get the import prefix, colocation overrides the device a NodeDef names, and an import
    # under colocate_with puts everything with that op.
    "import": """
        g = tf.Graph()
        with g.as_default():
            with tf.device("/job:ps/task:0"):
                src_v = tf.Variable(1.0, name="v")
            src_x = tf.constant(1.0, name="x")
            with tf.device("/job:worker/task:3"):
                src_y = tf.identity(src_x, name="y")
            with tf.colocate_with(src_y):
                tf.identity(src_x, name="z")
        gd = g.as_graph_def()
        for nd in gd.node:
            if nd.name == "z":
                nd.device = "/job:worker/task:0"
        tf.import_graph_def(gd, name="imp")
        tf.import_graph_def(gd, name="")
        imported = tf.get_default_graph()
        out["imported"] = {n: [imported.get_operation_by_name(n).device,
                               [s.decode() for s in imported.get_operation_by_name(n).get_attr("_class")]]
                           for n in ("imp/z", "imp/v/Assign", "z")}
        with tf.device("/job:ps/task:1"):
            q = tf.constant(2.0, name="q")
        with tf.colocate_with(q):
            tf.import_graph_def(gd, name="under")
    """,
    # colocate_gradients_with_ops: every gradient op is placed with (and grouped with) its forward op.
    "colocated_gradients": """
        with tf.device("/job:ps/task:0"):
            w = tf.Variable(tf.ones([3, 2]), name="w")
            b = tf.Variable(tf.zeros([2]), name="b")
        with tf.device("/job:worker/task:0"):
            xin = tf.placeholder(tf.float32, [None, 3], name="xin")
            hid = tf.nn.relu(tf.matmul(xin, w) + b, name="hid")
        with tf.device("/job:worker/task:1"):
            loss = tf.reduce_sum(tf.square(hid), name="loss")
        grads = tf.gradients(loss, [w, b], colocate_gradients_with_ops=True, name="cg")
        plain = tf.gradients(loss, [w, b], name="pg")
    """,
    # The optimizer flag, with its gate (GATE_OP groups each op's input gradients).
    "optimizer": """
        with tf.device("/job:ps/task:0"):
            w = tf.Variable(tf.ones([3, 2]), name="w")
        with tf.device("/job:worker/task:0"):
            xin = tf.placeholder(tf.float32, [None, 3], name="xin")
            loss = tf.reduce_sum(tf.matmul(xin, w), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, colocate_gradients_with_ops=True,
                                                                name="train")
    """,
    # Slots and non-slot variables of an optimizer, colocated with their variables, under a device setter.
    "adam_slots": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:0")):
            w = tf.Variable(tf.ones([3, 2]), name="w")
            b = tf.Variable(tf.zeros([2]), name="b")
            xin = tf.placeholder(tf.float32, [None, 3], name="xin")
            loss = tf.reduce_sum(tf.matmul(xin, w) + b, name="loss")
            step = tf.train.get_or_create_global_step()
            train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=step, name="train")
    """,
}


def record(source: str) -> dict:
    graph = tf.Graph()
    out: dict = {}
    with graph.as_default():
        exec(textwrap.dedent(source), {"tf": tf, "out": out})  # noqa: S102 - the programs above
    nodes = {nd.name: {"op": nd.op, "device": nd.device,
                       "class": [s.decode() for s in nd.attr["_class"].list.s] if "_class" in nd.attr else None}
             for nd in graph.as_graph_def().node}
    return {"nodes": nodes, "out": out}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    programs = {name: {"source": textwrap.dedent(src), **record(src)} for name, src in PROGRAMS.items()}
    (OUT / "programs.json").write_text(json.dumps(programs, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
