"""Records how TensorFlow places and partitions the steps of a few classic ps/worker programs, for
tests/distributed/test_p_partitions_against_tf.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_partitions.py

Starts in-process tf.train.Servers for a cluster of two ps tasks and one worker task on localhost, runs each
program's step from a session on the worker (the master task) with `output_partition_graphs`, and writes
tests/fixtures/tf/partitions/programs.json: per program its source (run by the test with tfmini as `tf`), the
device of every graph node that a partition holds, each partition's op types, and its transfers as
(op, client_terminated, sending task, receiving task, what is sent) without the edge numbers and incarnations
that change from run to run, and which of them stand for control edges.
"""

from __future__ import annotations

import json
import os
import re
import socket
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "partitions"

# Each program builds its graph and sets `init` (run first), `fetches`, `feeds` (placeholder -> value) and
# `targets`: the step whose partitions are recorded.
PROGRAMS = {
    # Explicit devices: a ps variable read by worker compute, an update on ps, a control edge across tasks.
    "explicit_devices": """
        with tf.device("/job:ps/task:0"):
            w = tf.Variable([[1.0, 2.0]], name="w")
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.device("/job:worker/task:0"):
            y = tf.reduce_sum(x * w, name="y")
            z = tf.identity(y, name="z")
        with tf.device("/job:ps/task:1"):
            u = tf.multiply(w, 2.0, name="u")
            with tf.control_dependencies([z]):
                after = tf.no_op(name="after")
        init = tf.global_variables_initializer()
        fetches, feeds, targets = [y, z, u], {x: [[1.0, 1.0]]}, [after]
    """,
    # replica_device_setter over the cluster: a two-layer model trained with SGD and a global step.
    "sgd_replica_device_setter": """
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            y = tf.placeholder(tf.float32, [None, 1], name="y")
            w1 = tf.Variable(tf.ones([3, 4]) * 0.1, name="w1")
            b1 = tf.Variable(tf.zeros([4]), name="b1")
            w2 = tf.Variable(tf.ones([4, 1]) * 0.2, name="w2")
            h = tf.nn.relu(tf.matmul(x, w1) + b1, name="h")
            out = tf.matmul(h, w2, name="out")
            loss = tf.reduce_mean(tf.square(out - y), name="loss")
            step = tf.train.get_or_create_global_step()
            train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        init = tf.global_variables_initializer()
        fetches, feeds, targets = [loss], {x: np.ones((2, 3), np.float32), y: np.ones((2, 1), np.float32)}, [train]
    """,
    # Resource variables and Adam under replica_device_setter.
    "adam_resource_variables": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            x = tf.placeholder(tf.float32, [None, 2], name="x")
            w = tf.get_variable("w", initializer=tf.ones([2, 2]), use_resource=True)
            b = tf.get_variable("b", initializer=tf.zeros([2]), use_resource=True)
            loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + b), name="loss")
            train = tf.train.AdamOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
        fetches, feeds, targets = [loss], {x: np.ones((1, 2), np.float32)}, [train]
    """,
    # A queue on ps shared by name, fed from the worker.
    "queue_on_ps": """
        with tf.device("/job:ps/task:1"):
            q = tf.FIFOQueue(10, [tf.float32], shapes=[[2]], shared_name="q", name="q")
        with tf.device("/job:worker/task:0"):
            v = tf.placeholder(tf.float32, [2], name="v")
            enqueue = q.enqueue([v * 2.0], name="enqueue")
            size = q.size(name="size")
        init = tf.no_op(name="init")
        fetches, feeds, targets = [size], {v: [1.0, 2.0]}, [enqueue]
    """,
}

_MADE = re.compile(r"(/ctrl)?_S\d+$")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _task(device: str) -> str:
    return device.split("/device:")[0]


def _sent(nd) -> str:
    """What a transfer carries: the fed or fetched tensor's name, or the node an edge leaves."""
    name = nd.attr["tensor_name"].s.decode()
    return re.sub(r"^edge_\d+_", "", name)


def record(source: str, target: str, cluster) -> dict:
    graph = tf.Graph()
    with graph.as_default():
        scope = {"tf": tf, "np": np, "cluster": cluster}
        exec(textwrap.dedent(source), scope)  # noqa: S102 - the programs above
        options = tf.RunOptions(output_partition_graphs=True)
        metadata = tf.RunMetadata()
        with tf.Session(target, graph=graph) as sess:
            sess.run(tf.variables_initializer(tf.global_variables()))
            sess.run(scope["init"])
            sess.run([scope["fetches"], scope["targets"]], scope["feeds"], options=options, run_metadata=metadata)
    devices, ops, transfers, controls = {}, {}, {}, set()
    for gd in metadata.partition_graphs:
        task = _task(gd.node[0].device)
        ops[task] = sorted(nd.op for nd in gd.node if nd.op not in ("_Send", "_Recv") and not _MADE.search(nd.name))
        transfers[task] = sorted(
            [nd.op, nd.attr["client_terminated"].b, _task(nd.attr["send_device"].s.decode()),
             _task(nd.attr["recv_device"].s.decode()), _sent(nd)]
            for nd in gd.node if nd.op in ("_Send", "_Recv"))
        # The names of the tensors that stand for control edges (a sent Const made for the edge).
        controls.update(_sent(nd) for nd in gd.node if nd.op == "_Send" and re.search(r"/ctrl_S\d+$", nd.input[0]))
        for nd in gd.node:
            if nd.op not in ("_Send", "_Recv") and not _MADE.search(nd.name):
                devices[nd.name] = nd.device
    return {"devices": devices, "ops": ops, "transfers": transfers, "control_transfers": sorted(controls)}


def main() -> None:
    jobs = {"ps": [f"localhost:{_port()}", f"localhost:{_port()}"], "worker": [f"localhost:{_port()}"]}
    cluster = tf.train.ClusterSpec(jobs)
    servers = [tf.train.Server(cluster, job, i) for job in ("ps", "worker") for i in range(len(jobs[job]))]
    worker = servers[-1]
    out = {"cluster": {"ps": 2, "worker": 1}, "master": "/job:worker/replica:0/task:0", "programs": {}}
    for name, source in PROGRAMS.items():
        out["programs"][name] = {"source": textwrap.dedent(source), **record(source, worker.target, cluster)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "programs.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{len(out['programs'])} programs written to {OUT / 'programs.json'}")


if __name__ == "__main__":
    main()
