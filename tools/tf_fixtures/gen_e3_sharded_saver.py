"""Records a sharded tf.train.Saver of TensorFlow for variables on two devices (/job:ps/task:0 and
/job:worker/task:0): the save/ part of its graph (name, op, device, inputs of each node), the checkpoint it
writes on a 1 ps + 1 worker cluster (its files, byte for byte) and the device each SaveV2 ran on.

Run: /work/tfenv/bin/python tools/tf_fixtures/gen_e3_sharded_saver.py
Writes tests/fixtures/tf/e3_sharded_saver/{graph.json,run.json,ckpt/model.*}.

TF 2 builds the temporary shard prefix with a regex test for s3:// paths (StaticRegexFullMatch, Select and
'_temp/part' constants on /device:CPU:*); TF 1.15 joins '_temp_<uuid>/part' in a StringJoin of its own. The
tests replace those nodes by TF 1.15's; every other node is as recorded here.
"""

import json
import os
import shutil
import socket
import tempfile

os.environ.update(TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "tf", "e3_sharded_saver")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def build():
    """The model the tests build the same way in tfmini."""
    with tf.device("/job:ps/task:0"):
        a = tf.Variable([1.0, 2.0], name="a")
        s = tf.Variable([b"x", b"yz"], name="s")
    with tf.device("/job:worker/task:0"):
        b = tf.Variable([[3]], name="b", dtype=tf.int32)
        r = tf.get_variable("r", initializer=np.array([4.0, 5.0], np.float32), use_resource=True)
    return [a, s, b, r], tf.train.Saver(sharded=True)


def main() -> None:
    os.makedirs(os.path.join(OUT, "ckpt"), exist_ok=True)
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{_port()}"], "worker": [f"localhost:{_port()}"]})
    tf.train.Server(spec, job_name="ps", task_index=0)
    worker = tf.train.Server(spec, job_name="worker", task_index=0)
    with tf.Graph().as_default() as graph:
        _, saver = build()
        nodes = [[n.name, n.op, n.device, list(n.input)] for n in graph.as_graph_def().node
                 if n.name.startswith("save/")]
        saver_def = {"filename_tensor_name": saver.saver_def.filename_tensor_name,
                     "save_tensor_name": saver.saver_def.save_tensor_name,
                     "restore_op_name": saver.saver_def.restore_op_name, "sharded": saver.saver_def.sharded}
        with open(os.path.join(OUT, "graph.json"), "w") as f:
            f.write('{"saver_def": ' + json.dumps(saver_def, sort_keys=True) + ',\n "nodes": [\n')
            f.write(",\n".join("  " + json.dumps(n) for n in nodes) + "\n]}\n")
        work = tempfile.mkdtemp()
        try:
            with tf.Session(worker.target) as sess:
                sess.run(tf.global_variables_initializer())
                meta = tf.RunMetadata()
                options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
                prefix = os.path.join(work, "model")
                path = sess.run(saver.saver_def.save_tensor_name, {saver.saver_def.filename_tensor_name: prefix},
                                options=options, run_metadata=meta)
                assert path.decode() == prefix
                ran_on = {}
                for dev in meta.step_stats.dev_stats:
                    for node in dev.node_stats:
                        if node.node_name in ("save/SaveV2", "save/SaveV2_1", "save/MergeV2Checkpoints"):
                            ran_on[node.node_name] = dev.device
            files = sorted(os.listdir(work))
            for name in files:
                if name.startswith("model."):
                    shutil.copy(os.path.join(work, name), os.path.join(OUT, "ckpt", name))
        finally:
            shutil.rmtree(work)
    with open(os.path.join(OUT, "run.json"), "w") as f:
        json.dump({"files": files, "ran_on": ran_on}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
