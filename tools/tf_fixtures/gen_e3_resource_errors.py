"""Records TensorFlow's resource-variable error texts that tfmini matches: the container a read of an
uninitialized resource variable names and the resource manager's text for it (local session, explicit
container, a variable on /job:ps and one on /job:worker of a 1 ps + 1 worker cluster, a create_local_server
session; 'Container ... does not exist' while the container holds nothing, 'Resource ... does not exist' once
another variable is in it), DestroyResourceOp's texts, and the wrong-dtype messages of a read and an
assignment.

Run: /work/tfenv/bin/python tools/tf_fixtures/gen_e3_resource_errors.py
Writes tests/fixtures/tf/e3_resource_errors/errors.json.

TF 2.x words the uninitialized-read message differently from TF 1.15 ("Could not find variable v ...
container=ps"); the container it names is the same, so the fixture keeps only the container and the tests
check them inside TF 1.15's wording ('Error while reading resource variable v from Container: localhost. This
could mean that the variable was uninitialized. Not found: <the resource manager's text>').
"""

import json
import os
import re
import socket

os.environ.update(TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")

import tensorflow.compat.v1 as tf  # noqa: E402
from tensorflow.python.ops import gen_resource_variable_ops as gen  # noqa: E402

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "tf", "e3_resource_errors")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _container(sess, fetch) -> dict:
    try:
        sess.run(fetch)
    except tf.errors.OpError as err:
        found = re.search(r"container=(\w+), status error message=(.*?)\n", err.message)
        return {"error": type(err).__name__, "container": found.group(1), "status": found.group(2)}
    raise AssertionError("no error")


def _last_line(sess, fetch) -> dict:
    try:
        sess.run(fetch)
    except tf.errors.OpError as err:
        lines = [ln for ln in err.message.splitlines() if ln.startswith(("Trying", "Resource", "Container"))]
        return {"error": type(err).__name__, "message": lines[0]}
    raise AssertionError("no error")


def main() -> None:
    out = {}
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape=[2], dtype=tf.int64, use_resource=True)
        c = gen.var_handle_op(dtype=tf.float32, shape=[], container="mycont", shared_name="w", name="w")
        read_c = gen.read_variable_op(c, tf.float32)
        other = gen.var_handle_op(dtype=tf.float32, shape=[], container="mycont", shared_name="w2", name="w2")
        h = gen.var_handle_op(dtype=tf.float32, shape=[2], shared_name="f", name="f")
        init = gen.assign_variable_op(h, tf.constant([1.0, 2.0], tf.float32))
        h64 = gen.var_handle_op(dtype=tf.float64, shape=[2], shared_name="f", name="f64")
        read64 = gen.read_variable_op(h64, tf.float64)
        assign64 = gen.assign_variable_op(h64, tf.constant([1.0, 2.0], tf.float64))
        with tf.Session() as sess:
            out["local"] = _container(sess, v.value())
            out["explicit_container"] = _container(sess, read_c)
            out["destroy_no_container"] = _last_line(sess, gen.destroy_resource_op(c, ignore_lookup_error=False))
            sess.run(gen.assign_variable_op(other, 1.0))
            out["destroy_missing"] = _last_line(sess, gen.destroy_resource_op(c, ignore_lookup_error=False))
            sess.run(init)
            out["local_container_exists"] = _container(sess, v.value())
            out["read_wrong_dtype"] = _last_line(sess, read64)
            out["assign_wrong_dtype"] = _last_line(sess, assign64)
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{_port()}"], "worker": [f"localhost:{_port()}"]})
    tf.train.Server(spec, job_name="ps", task_index=0)
    worker = tf.train.Server(spec, job_name="worker", task_index=0)
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            p = tf.get_variable("p", shape=[2], dtype=tf.int64, use_resource=True)
        with tf.device("/job:worker/task:0"):
            w = tf.get_variable("w", shape=[2], dtype=tf.int64, use_resource=True)
        q = tf.Variable(1.0, name="q")  # a ref variable, on the worker
        with tf.Session(worker.target) as sess:
            out["on_ps"] = _container(sess, p.value())
            out["on_worker"] = _container(sess, w.value())
            sess.run(q.initializer)
            out["on_worker_container_exists"] = _container(sess, w.value())
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape=[2], dtype=tf.int64, use_resource=True)
        with tf.Session(tf.train.Server.create_local_server().target) as sess:
            out["local_server"] = _container(sess, v.value())
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "errors.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
