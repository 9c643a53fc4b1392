"""`python -m benchmarks.imported_graphs`: the time of one training step of GraphDefs TensorFlow wrote (the
training graphs of tests/fixtures/tf: an MLP, a conv net, segment ops, TF1 loops and conds rewritten on import,
a control-flow-v2 TensorList loop, tf.function calls), imported with tf.import_graph_def and run by tfmini.
Run it with TensorFlow's interpreter and `--tensorflow` to time TensorFlow on the same GraphDefs:

    .venv/bin/python -m benchmarks.imported_graphs
    /work/tfenv/bin/python -m benchmarks.imported_graphs --tensorflow

Prints the median of the step times (loss and train op fetched together, after warm-up steps) in
milliseconds, one line per graph."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "tf")


def _npz(part: str, name: str):
    return np.load(os.path.join(FIXTURES, part, f"{name}.npz"))


def training_graphs() -> list[tuple[str, str, str, str, str, dict]]:
    """(name, GraphDef path, initializer op, train op, loss tensor, feeds) of each recorded training graph."""
    out = []
    with open(os.path.join(FIXTURES, "tf_graphs", "manifest.json")) as f:
        manifest = json.load(f)
    for name in ("mlp", "convnet", "segments"):
        data, entry = _npz("tf_graphs", name), manifest[name]
        feeds = {k[len("feed/"):]: data[k] for k in data.files if k.startswith("feed/")}
        out.append((name, os.path.join(FIXTURES, "tf_graphs", f"{name}.pb"), entry["init"], entry["train"],
                    entry["loss"], feeds))
    with open(os.path.join(FIXTURES, "control_flow_v1_training", "cases.json")) as f:
        cases = json.load(f)
    for name in ("dynamic_rnn_training", "sequence_loss", "nested_loops", "cond_in_loop"):
        data, entry = _npz("control_flow_v1_training", name), cases[name]
        out.append((name, os.path.join(FIXTURES, "control_flow_v1_training", f"{name}.pb"), entry["init"],
                    entry["train"], entry["loss"], {t: data[f"feed/{t}"] for t in entry["feeds"]}))
    with open(os.path.join(FIXTURES, "tf_graphs_more", "cases.json")) as f:
        cases = json.load(f)
    for name in ("tensor_list_training", "function_call"):
        data, entry = _npz("tf_graphs_more", name), cases[name]
        run = entry["runs"][0]
        out.append((name, os.path.join(FIXTURES, "tf_graphs_more", f"{name}.pb"), entry["init"], run["targets"][0],
                    run["fetches"][0], {t: data[f"feed0/{t}"] for t in run["feeds"]}))
    return out


def _library(use_tensorflow: bool):
    """(the tf module, a parser of GraphDef bytes)."""
    if use_tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        import tensorflow.compat.v1 as tf  # noqa: PLC0415 - only for the optional comparison

        tf.disable_v2_behavior()
        return tf, tf.GraphDef.FromString
    import tfmini as tf  # noqa: PLC0415 - not imported when TensorFlow is timed
    from tfmini.protobuf import graph_pb2  # noqa: PLC0415

    return tf, graph_pb2.GraphDef.FromString


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensorflow", action="store_true", help="time TensorFlow instead of tfmini")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per graph")
    parser.add_argument("names", nargs="*", help="only these graphs")
    args = parser.parse_args()
    tf, parse = _library(args.tensorflow)
    print(f"{'graph':24s} {'ms/step':>9s}   ({'TensorFlow' if args.tensorflow else 'tfmini'})")
    for name, path, init, train, loss, feeds in training_graphs():
        if args.names and name not in args.names:
            continue
        graph = tf.Graph()
        with graph.as_default():
            with open(path, "rb") as f:
                tf.import_graph_def(parse(f.read()), name="")
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            for _ in range(5):
                sess.run([loss, train], feeds)
            times = []
            for _ in range(args.steps):
                start = time.perf_counter()
                sess.run([loss, train], feeds)
                times.append(time.perf_counter() - start)
        print(f"{name:24s} {statistics.median(times) * 1e3:9.3f}")


if __name__ == "__main__":
    main()
