"""Graphs that call functions, between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/graph_calls.py tf-write DIR      TensorFlow writes its graphs
    .venv/bin/python       tools/interop/graph_calls.py tfmini-check DIR  tfmini imports and runs them
    .venv/bin/python       tools/interop/graph_calls.py tfmini-write DIR  tfmini writes its graphs
    /work/tfenv/bin/python tools/interop/graph_calls.py tf-check DIR      TensorFlow imports and runs them

TensorFlow -> tfmini: a tf.data pipeline read by a one-shot iterator (OneShotIterator builds its dataset with
its `dataset_factory` function), a TF1 graph calling tf.functions (StatefulPartitionedCall) trained by Adam
through TensorFlow's gradient calls (PartitionedCall), and TF1 conds and a loop assigning reference variables
(RefSwitch, RefMerge, RefEnter); tfmini imports each GraphDef and repeats TensorFlow's runs, values and
end of sequence included. tfmini -> TensorFlow: the same one-shot pipeline written by tfmini; TensorFlow imports
and runs it. Exits non-zero with a message on any disagreement. TensorFlow is imported only by the tf-*
commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys
from types import ModuleType

import numpy as np
from _driver import CheckFailed, expect, import_tensorflow, run

_rng = np.random.RandomState(5)
X = _rng.standard_normal((4, 3)).astype(np.float32)
W = (_rng.standard_normal((3, 2)) * 0.5).astype(np.float32)


def _pipeline(tf: ModuleType) -> list:
    """A one-shot iterator over sliced, mapped, batched and repeated tensors: three batches, then the end."""
    ds = tf.data.Dataset.from_tensor_slices((np.arange(6, dtype=np.float32), np.arange(6, dtype=np.int64)))
    ds = ds.map(lambda a, b: (a * 2.0 + 1.0, b * 3)).repeat(2).batch(4)
    a, b = tf.data.make_one_shot_iterator(ds).get_next()
    a, b = tf.identity(a, name="a"), tf.identity(b, name="b")
    return [{"fetches": [a, b]} for _ in range(3)] + [{"fetches": [a], "end": True}]


def _function_calls(tf: ModuleType) -> list:
    """TensorFlow only: tf.functions called in a TF1 graph, trained by Adam."""
    import tensorflow as tf2  # only tf-write calls this

    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w", initializer=tf.constant(W), use_resource=True)

    @tf2.function
    def squash(h):
        return tf.tanh(h) * 0.5 + h * 0.1

    @tf2.function
    def layer(inputs):
        return squash(tf.matmul(inputs, w))

    loss = tf.reduce_mean(tf.square(layer(x) - 0.25), name="loss")
    train = tf.train.AdamOptimizer(0.1).minimize(loss, name="train")
    return [{"fetches": [loss], "targets": [train], "feeds": {x: X}} for _ in range(5)]


def _reference_assignments(tf: ModuleType) -> list:
    """TensorFlow only (TF1 control flow): conds and a loop that assign reference variables."""
    tf.disable_control_flow_v2()
    x = tf.placeholder(tf.float32, [3], name="x")
    v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0, 3.0]), use_resource=False)
    count = tf.get_variable("count", initializer=tf.constant(0), use_resource=False)
    updated = tf.cond(tf.reduce_sum(x) > 0, lambda: tf.assign_add(v, x), lambda: tf.assign(v, x * 2.0))

    def body(i, s):
        with tf.control_dependencies([tf.assign_add(count, 1)]):
            return i + 1, s + tf.reduce_sum(updated)

    _, total = tf.while_loop(lambda i, s: i < 3, body, [0, 0.0])
    runs = []
    for feed in ([1.0, -0.5, 0.25], [-2.0, 0.5, 0.25], [0.5, 0.5, 0.5]):
        runs.append({"fetches": [total], "feeds": {x: np.array(feed, np.float32)}})
        runs.append({"fetches": [v.value(), count.value()]})
    return runs


def _write(tf: ModuleType, programs: dict, out_dir: str) -> str:
    cases = {}
    for name, program in programs.items():
        with tf.Graph().as_default() as graph:
            runs = program(tf)
            init = tf.global_variables_initializer() if tf.global_variables() else None
            values, entries = {}, []
            with tf.Session() as sess:
                if init is not None:
                    sess.run(init)
                for k, r in enumerate(runs):
                    feeds = r.get("feeds", {})
                    entries.append({"fetches": [t.name for t in r["fetches"]],
                                    "targets": [op.name for op in r.get("targets", [])],
                                    "feeds": [t.name for t in feeds], "end": r.get("end", False)})
                    for t, value in feeds.items():
                        values[f"feed{k}/{t.name}"] = value
                    if r.get("end"):
                        try:
                            sess.run(r["fetches"])
                        except tf.errors.OutOfRangeError:
                            continue
                        raise CheckFailed(f"{name}: run {k} was to reach the end of the sequence")
                    got = sess.run(r["fetches"] + r.get("targets", []), feeds)
                    for t, value in zip(r["fetches"], got):
                        values[f"fetch{k}/{t.name}"] = np.asarray(value)
            with open(os.path.join(out_dir, f"{name}.pb"), "wb") as f:
                f.write(graph.as_graph_def().SerializeToString())
        np.savez(os.path.join(out_dir, f"{name}.npz"), **values)
        cases[name] = {"init": None if init is None else init.name, "runs": entries,
                       "ops": sorted({op.type for op in graph.get_operations()})}
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
    return "wrote " + "; ".join(f"{name} ({len(c['runs'])} runs)" for name, c in cases.items())


def _check(tf: ModuleType, parse, out_dir: str) -> str:
    with open(os.path.join(out_dir, "cases.json")) as f:
        cases = json.load(f)
    for name, case in cases.items():
        with open(os.path.join(out_dir, f"{name}.pb"), "rb") as f:
            graph_def = parse(f.read())
        values = np.load(os.path.join(out_dir, f"{name}.npz"))
        with tf.Graph().as_default():
            tf.import_graph_def(graph_def, name="")
            with tf.Session() as sess:
                if case["init"]:
                    sess.run(case["init"])
                for k, r in enumerate(case["runs"]):
                    feeds = {t: values[f"feed{k}/{t}"] for t in r["feeds"]}
                    if r["end"]:
                        try:
                            sess.run(r["fetches"], feeds)
                        except tf.errors.OutOfRangeError:
                            continue
                        raise CheckFailed(f"{name}: run {k} did not reach the end of the sequence")
                    got = sess.run(r["fetches"] + r["targets"], feeds)
                    for t, value in zip(r["fetches"], got):
                        want, value = values[f"fetch{k}/{t}"], np.asarray(value)
                        expect(value.dtype == want.dtype and value.shape == want.shape,
                               f"{name}: run {k} gives {t} as {value.dtype}{list(value.shape)}, the writer "
                               f"{want.dtype}{list(want.shape)}")
                        expect(np.allclose(value, want, rtol=1e-5, atol=1e-5),
                               f"{name}: run {k} gives {t} = {value}, the writer computed {want}")
    return "every run agrees: " + ", ".join(sorted(cases))


def tf_write(out_dir: str) -> str:
    tf = import_tensorflow()
    return _write(tf, {"pipeline": _pipeline, "function_calls": _function_calls,
                       "reference_assignments": _reference_assignments}, out_dir)


def tf_check(out_dir: str) -> str:
    tf = import_tensorflow()
    return _check(tf, tf.GraphDef.FromString, out_dir)


def tfmini_write(out_dir: str) -> str:
    import tfmini

    return _write(tfmini, {"pipeline": _pipeline}, out_dir)


def tfmini_check(out_dir: str) -> str:
    import tfmini
    from tfmini.protobuf import graph_pb2

    with open(os.path.join(out_dir, "cases.json")) as f:
        ops = {op for case in json.load(f).values() for op in case["ops"]}
    wanted = {"OneShotIterator", "StatefulPartitionedCall", "PartitionedCall", "RefSwitch", "RefMerge", "RefEnter"}
    expect(wanted <= ops, f"TensorFlow's graphs lack {sorted(wanted - ops)}")
    return _check(tfmini, graph_pb2.GraphDef.FromString, out_dir)


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}


def main(argv: list[str]) -> int:
    return run("graph_calls", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
