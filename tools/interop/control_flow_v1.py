"""TF1 dataflow control flow between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/control_flow_v1.py tf-write DIR      TensorFlow writes v1 control flow
    .venv/bin/python       tools/interop/control_flow_v1.py tfmini-check DIR  tfmini imports and runs it
    .venv/bin/python       tools/interop/control_flow_v1.py tfmini-write DIR  tfmini writes its control flow
    /work/tfenv/bin/python tools/interop/control_flow_v1.py tf-check DIR      TensorFlow imports and runs it

TensorFlow -> tfmini: TensorFlow (with control flow v2 disabled, so loops and conds are Switch, Merge, Enter,
Exit, NextIteration and LoopCond nodes) builds one program of conds, loops (nested, with loop invariants, with a
cond inside, inside a cond, with maximum_iterations) and tf.case, and writes its GraphDef, feeds and values;
tfmini imports the GraphDef (which rewrites that control flow into functional While and If), fetches the same
tensor names and requires TensorFlow's values, then builds the same program itself and requires them again.
tfmini -> TensorFlow (the exporter's direction, checked here on a small case): tfmini writes a cond and a loop
without captured tensors as its functional If and While; TensorFlow imports and runs them and requires tfmini's
values. Exits non-zero with a message on any disagreement. TensorFlow is imported only by the tf-* commands,
tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys
from types import ModuleType

import numpy as np
from _driver import CheckFailed, import_tensorflow, run

FEEDS = {"x:0": np.array([0.5, -1.25, 2.0], np.float32), "n:0": np.int32(4), "k:0": np.int32(1)}
WEIGHTS = np.random.RandomState(3).uniform(-1, 1, [3, 3]).astype(np.float32)


def _program(tf: ModuleType) -> dict:
    """The TensorFlow -> tfmini program, in whichever library `tf` is: output name -> tensor."""
    x = tf.placeholder(tf.float32, [3], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    k = tf.placeholder(tf.int32, [], name="k")
    out = {"cond": tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.sin(x) * 2.0, lambda: x - 1.0)}
    _, out["loop"] = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * x + 1.0), [0, tf.zeros([3])])
    w = tf.constant(WEIGHTS)
    _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))), [0, x[None]])
    out["invariants"] = h

    def outer(i, total):
        _, s = tf.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + tf.cast(j, tf.float32) * x),
                             [0, tf.zeros([3])])
        return i + 1, total + s

    _, out["nested"] = tf.while_loop(lambda i, t: i < n, outer, [0, tf.zeros([3])])
    _, out["cond_in_loop"] = tf.while_loop(
        lambda i, v: i < 5, lambda i, v: (i + 1, tf.cond(tf.equal(i % 2, 0), lambda: v * 2.0, lambda: v - x)),
        [0, x])
    out["loop_in_cond"] = tf.cond(
        n > 2, lambda: tf.while_loop(lambda j, r: j < n, lambda j, r: (j + 1, r * x), [0, tf.ones([3])])[1],
        lambda: -x)
    out["case"] = tf.case([(tf.equal(k, 0), lambda: x + 10.0), (tf.equal(k, 1), lambda: x * 3.0)],
                          default=lambda: tf.negative(x))
    out["max_iterations"] = tf.while_loop(lambda v: tf.reduce_sum(v) < 1000.0, lambda v: v * 2.0 + 1.0, [x],
                                          maximum_iterations=n)
    return out


def _reverse_program(tf: ModuleType) -> dict:
    """The tfmini -> TensorFlow case: a cond and a loop that read no tensor from outside their functions."""
    x = tf.placeholder(tf.float32, [3], name="x")
    cond = tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.constant([1.0, 2.0, 3.0]), lambda: tf.constant([0.0] * 3))
    _, loop = tf.while_loop(lambda i, a: i < 5, lambda i, a: (i + 1, a * 1.5 + 1.0), [tf.constant(0), x])
    return {"cond": cond * x, "loop": loop}


def _write(tf: ModuleType, program, out_dir: str) -> str:
    with tf.Graph().as_default() as graph:
        outputs = program(tf)
        with tf.Session() as sess:
            values = sess.run(outputs, {k: v for k, v in FEEDS.items() if k in _placeholders(graph)})
        with open(os.path.join(out_dir, "graph.pb"), "wb") as f:
            f.write(graph.as_graph_def().SerializeToString())
    with open(os.path.join(out_dir, "fetches.json"), "w") as f:
        json.dump({name: t.name for name, t in outputs.items()}, f, indent=1, sort_keys=True)
    np.savez(os.path.join(out_dir, "values.npz"), **values)
    ops = sorted({op.type for op in graph.get_operations()})
    return f"wrote {len(outputs)} outputs over op types {', '.join(ops)}"


def _placeholders(graph) -> set:
    return {op.name + ":0" for op in graph.get_operations() if op.type == "Placeholder"}


def _check(tf: ModuleType, graph_def, out_dir: str, own_program=None) -> str:
    with open(os.path.join(out_dir, "fetches.json")) as f:
        fetches = json.load(f)
    expected = np.load(os.path.join(out_dir, "values.npz"))
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            got = sess.run(fetches, {k: v for k, v in FEEDS.items() if k in _placeholders(graph)})
    _compare(got, expected, "the imported graph")
    if own_program is None:
        return f"{len(fetches)} outputs of the imported graph agree"
    with tf.Graph().as_default() as graph:
        outputs = own_program(tf)
        with tf.Session() as sess:
            own = sess.run(outputs, {k: v for k, v in FEEDS.items() if k in _placeholders(graph)})
    _compare(own, expected, "this side's own build of the program")
    return f"{len(fetches)} outputs agree, imported and built here"


def _compare(got: dict, expected, what: str) -> None:
    for name, value in got.items():
        want = expected[name]
        value = np.asarray(value)
        if value.dtype != want.dtype or value.shape != want.shape:
            raise CheckFailed(f"{what}: output '{name}' is {value.dtype}{list(value.shape)}, the writer's "
                              f"{want.dtype}{list(want.shape)}")
        if not np.allclose(value, want, rtol=1e-5, atol=1e-6):
            raise CheckFailed(f"{what}: output '{name}' is {value}, the writer computed {want}")


def tf_write(out_dir: str) -> str:
    return _write(_import_tensorflow(), _program, out_dir)


def tf_check(out_dir: str) -> str:
    tf = _import_tensorflow()
    with open(os.path.join(out_dir, "graph.pb"), "rb") as f:
        graph_def = tf.GraphDef.FromString(f.read())
    return _check(tf, graph_def, out_dir)


def tfmini_write(out_dir: str) -> str:
    import tfmini

    return _write(tfmini, _reverse_program, out_dir)


def tfmini_check(out_dir: str) -> str:
    import tfmini
    from tfmini.protobuf import graph_pb2

    with open(os.path.join(out_dir, "graph.pb"), "rb") as f:
        graph_def = graph_pb2.GraphDef.FromString(f.read())
    control_flow = {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"}
    found = {nd.op for nd in graph_def.node} & control_flow
    if found != control_flow:
        raise CheckFailed(f"TensorFlow's graph holds only {sorted(found)} of the TF1 control-flow ops")
    return _check(tfmini, graph_def, out_dir, _program)


def _import_tensorflow() -> ModuleType:
    tf = import_tensorflow()
    tf.disable_control_flow_v2()
    return tf


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}


def main(argv: list[str]) -> int:
    return run("control_flow_v1", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
