"""Resource-variable errors name the container TF names (the handle's container, else the default container of
the task holding the variable: 'localhost' locally, the job's name on a cluster task), with the resource
manager's text TF gives ('Container ... does not exist' while nothing is in the container yet, 'Resource
.../N10tensorflow3VarE does not exist' after), and the wrong-dtype messages in TF's order and type names;
recorded from TF by tools/tf_fixtures/gen_e3_resource_errors.py and put into TF 1.15's wording of the read."""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.server import free_port
from tfmini.ops import resource_variable_ops as gen

with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "e3_resource_errors", "errors.json")) as f:
    TF = json.load(f)


def _uninitialized(name: str, case: dict) -> str:
    """TF 1.15's text for a read of resource variable `name` that does not exist (yet)."""
    return (f"Error while reading resource variable {name} from Container: {case['container']}. This could mean "
            f"that the variable was uninitialized. Not found: {case['status']}")


def _raises(sess, fetch, error: str) -> str:
    """The message of the error `error` running `fetch` raises, without the node TF appends to it."""
    with pytest.raises(getattr(tf.errors, error)) as info:
        sess.run(fetch)
    return info.value.message.split("\n\t [[node ")[0]


@pytest.fixture(scope="module", autouse=True)
def _no_leaked_threads():
    before = set(threading.enumerate())
    yield
    dask_runtime.shutdown()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and set(threading.enumerate()) - before:
        time.sleep(0.05)


def test_local_session_names_localhost_and_the_explicit_container():
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape=[2], dtype=tf.int64, use_resource=True)
        c = gen.var_handle_op(dtype=tf.float32, shape=[], container="mycont", shared_name="w", name="w")
        read_c = gen.read_variable_op(c, tf.float32)
        other = gen.var_handle_op(dtype=tf.float32, shape=[], container="mycont", shared_name="w2", name="w2")
        h = gen.var_handle_op(dtype=tf.float32, shape=[2], shared_name="f", name="f")
        with tf.Session() as sess:
            case = TF["local"]
            assert _raises(sess, v.value(), case["error"]) == _uninitialized("v", case)
            case = TF["explicit_container"]
            assert _raises(sess, read_c, case["error"]) == _uninitialized("w", case)
            # Once a variable is in the container, TF names the missing resource itself.
            sess.run(gen.assign_variable_op(other, 1.0))
            sess.run(gen.assign_variable_op(h, [1.0, 2.0]))
            case = TF["local_container_exists"]
            assert _raises(sess, v.value(), case["error"]) == _uninitialized("v", case)
            # The session stays usable.
            sess.run(v.initializer)
            assert sess.run(v).dtype == np.int64


def test_a_ref_variable_makes_the_container_exist():
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape=[2], dtype=tf.int64, use_resource=True)
        q = tf.Variable(1.0, name="q")
        with tf.Session() as sess:
            sess.run(q.initializer)
            case = TF["local_container_exists"]
            assert _raises(sess, v.value(), case["error"]) == _uninitialized("v", case)


def test_wrong_dtype_messages_name_tf_types_in_tf_order():
    with tf.Graph().as_default():
        h = gen.var_handle_op(dtype=tf.float32, shape=[2], shared_name="f", name="f")
        init = gen.assign_variable_op(h, tf.constant([1.0, 2.0], tf.float32))
        h64 = gen.var_handle_op(dtype=tf.float64, shape=[2], shared_name="f", name="f64")
        read64 = gen.read_variable_op(h64, tf.float64)
        assign64 = gen.assign_variable_op(h64, tf.constant([1.0, 2.0], tf.float64))
        with tf.Session() as sess:
            sess.run(init)
            for key, fetch in (("read_wrong_dtype", read64), ("assign_wrong_dtype", assign64)):
                assert _raises(sess, fetch, TF[key]["error"]) == TF[key]["message"]
            np.testing.assert_array_equal(sess.run(gen.read_variable_op(h, tf.float32)), [1.0, 2.0])


def test_destroying_a_missing_variable_names_its_container():
    with tf.Graph().as_default():
        c = gen.var_handle_op(dtype=tf.float32, shape=[], container="mycont", shared_name="w", name="w")
        other = gen.var_handle_op(dtype=tf.float32, shape=[], container="mycont", shared_name="w2", name="w2")
        destroy = gen.destroy_resource_op(c, ignore_lookup_error=False)
        with tf.Session() as sess:
            case = TF["destroy_no_container"]
            assert _raises(sess, destroy, case["error"]) == case["message"]
            sess.run(gen.assign_variable_op(other, 1.0))
            case = TF["destroy_missing"]
            assert _raises(sess, destroy, case["error"]) == case["message"]


def test_cluster_tasks_name_their_jobs_default_container():
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}"]})
    servers = [tf.train.Server(spec, job_name="ps", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=0)]
    try:
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                p = tf.get_variable("p", shape=[2], dtype=tf.int64, use_resource=True)
            with tf.device("/job:worker/task:0"):
                w = tf.get_variable("w", shape=[2], dtype=tf.int64, use_resource=True)
                q = tf.Variable(1.0, name="q")
            with tf.Session(servers[1].target) as sess:
                for key, var, name in (("on_ps", p, "p"), ("on_worker", w, "w")):
                    case = TF[key]
                    assert _uninitialized(name, case) in _raises(sess, var.value(), case["error"])
                sess.run(q.initializer)
                case = TF["on_worker_container_exists"]
                assert _uninitialized("w", case) in _raises(sess, w.value(), case["error"])
    finally:
        for server in reversed(servers):
            server._stop()


def test_local_server_session_names_its_job():
    """TF 1.15's create_local_server runs one task of the job 'local' (TF 2 renamed the job 'localhost', which
    is what the fixture recorded), so its default container is 'local'."""
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape=[2], dtype=tf.int64, use_resource=True)
        server = tf.train.Server.create_local_server()
        try:
            with tf.Session(server.target) as sess:
                case = TF["local_server"]
                assert case["container"] == "localhost"
                local = {"container": "local", "status": case["status"].replace("localhost", "local")}
                assert _raises(sess, v.value(), case["error"]) == _uninitialized("v", local)
        finally:
            server._stop()
