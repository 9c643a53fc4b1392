"""Records the RunMetadata of one traced training step of a small model on a real two-task TensorFlow cluster
(one ps, one worker, both tf.train.Servers on localhost), for tests/ipython_ext/test_device_views.py: what TF
puts in step_stats for a distributed step (a DeviceStepStats per task device for the ops, another per device
for the RPC transfers it received, labelled "[24B] [1.6Mb/s] edge_4_w/read from <src> to <dst>") and the
partition graphs with their _Send/_Recv pairs.

    /work/tfenv/bin/python tools/tf_fixtures/gen_device_views.py

Writes tests/fixtures/tf/device_views/distributed_step.pb (a serialized RunMetadata, a few KB).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

os.environ.update(TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")

import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "device_views" / "distributed_step.pb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def main() -> None:
    cluster = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}"]})
    servers = [tf.train.Server(cluster, "ps", 0), tf.train.Server(cluster, "worker", 0)]
    with tf.device("/job:ps/task:0"):
        w = tf.Variable(tf.ones([3, 2]), name="w")
    with tf.device("/job:worker/task:0"):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.matmul(x, w, name="y")
        loss = tf.reduce_sum(y, name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)
    with tf.Session(servers[1].target) as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        sess.run(train, {x: [[1.0, 2.0, 3.0]]}, options=options, run_metadata=md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(md.SerializeToString(deterministic=True))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
