"""tf.train.Server: TF's rules for the ServerDef it is made from, `target`, `server_def`, `join`,
`create_local_server`, the distributed targets Session accepts, and the ImportError naming the extra when
Dask is missing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.server import free_port

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture(scope="module")
def local_server():
    server = tf.train.Server.create_local_server()
    yield server
    server._stop()


def test_server_def_follows_tfs_rules_for_job_and_task():
    cluster = tf.train.ClusterSpec({"ps": ["localhost:1111"], "worker": ["localhost:2222", "localhost:3333"]})
    server = tf.train.Server(cluster, job_name="worker", task_index=1, start=False)
    sd = server.server_def
    assert (sd.job_name, sd.task_index, sd.protocol) == ("worker", 1, "grpc")
    assert tf.train.ClusterSpec(sd.cluster) == cluster
    assert server.target == "grpc://localhost:3333"
    only = tf.train.Server({"local": ["localhost:4444"]}, start=False)
    assert (only.server_def.job_name, only.server_def.task_index) == ("local", 0)
    with pytest.raises(ValueError, match="job_name"):
        tf.train.Server(cluster, start=False)
    with pytest.raises(ValueError, match="task_index"):
        tf.train.Server(cluster, job_name="worker", start=False)
    with pytest.raises(TypeError):
        tf.train.Server(42, start=False)
    config = tf.ConfigProto(allow_soft_placement=True)
    from_def = tf.train.Server(sd, task_index=0, config=config, start=False)
    assert from_def.server_def.task_index == 0 and from_def.target == "grpc://localhost:2222"
    assert from_def.server_def.default_session_config.allow_soft_placement
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.train.Server(cluster, job_name="chief", task_index=0, start=False)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.train.Server(cluster, job_name="worker", task_index=5, start=False)
    with pytest.raises(tf.errors.NotFoundError, match="No server factory"):
        tf.train.Server(cluster, job_name="ps", protocol="grpc+verbs", start=False)


def test_create_local_server_runs_a_session(local_server):
    sd = local_server.server_def
    assert sd.job_name == "local" and sd.task_index == 0 and sd.protocol == "grpc"
    assert local_server.target == f"grpc://{sd.cluster.job[0].tasks[0]}"
    x = tf.placeholder(tf.float32, [2, 2])
    v = tf.Variable(np.eye(2, dtype=np.float32))
    y = tf.matmul(x, v) + 1.0
    with tf.Session(local_server.target) as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(y, {x: [[1, 2], [3, 4]]}), [[2, 3], [4, 5]])
        assert [d.name for d in sess.list_devices()] == ["/job:local/replica:0/task:0/device:CPU:0"]


def test_start_is_idempotent_and_join_returns_when_the_server_stops():
    server = tf.train.Server.create_local_server(start=False)
    server.start()
    server.start()
    joined = threading.Event()
    thread = threading.Thread(target=lambda: (server.join(), joined.set()))
    thread.start()
    time.sleep(0.2)
    assert not joined.is_set()
    server._stop()
    thread.join(10)
    assert joined.is_set()


def test_a_target_nobody_serves_is_unavailable():
    with pytest.raises(tf.errors.UnavailableError, match="unavailable"):
        tf.Session(f"grpc://localhost:{free_port()}")


def test_an_unknown_target_scheme_is_not_found():
    with pytest.raises(tf.errors.NotFoundError):
        tf.Session("nonsense://localhost:1")


def test_missing_dask_raises_import_error_naming_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "distributed" or m.startswith("distributed.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"tfmini\[distributed\]"):
        dask_runtime.dask()
    with pytest.raises(ImportError, match=r"tfmini\[distributed\]"):
        tf.train.Server.create_local_server(start=False)


def test_import_tfmini_does_not_import_dask():
    code = "import sys, tfmini; print('distributed' in sys.modules, hasattr(tfmini.train, 'Server'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
