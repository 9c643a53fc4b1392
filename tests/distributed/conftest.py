"""Fixtures the distributed tests share: an in-process cluster of 1 ps + 2 workers (each task a
tf.train.Server with its own Dask worker in this process), worker 0's target with every container cleared, and
the check that a module's servers and sessions leave no thread behind."""

from __future__ import annotations

import threading
import time

import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.server import free_port


@pytest.fixture(scope="module")
def no_leaked_threads():
    """Every thread the module's servers and sessions start is gone once they are stopped and closed (a module
    asks for it with `pytestmark = pytest.mark.usefixtures("no_leaked_threads")`, so it is set up before and
    checked after the module's clusters)."""
    before = set(threading.enumerate())
    yield
    dask_runtime.shutdown()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and set(threading.enumerate()) - before:
        time.sleep(0.05)
    assert [t.name for t in set(threading.enumerate()) - before] == []


@pytest.fixture(scope="module")
def cluster():
    """Three in-process servers: /job:ps/task:0, /job:worker/task:0 and /job:worker/task:1."""
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"],
                                 "worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]})
    servers = [tf.train.Server(spec, job_name="ps", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=1)]
    yield servers
    for server in reversed(servers):
        server._stop()


@pytest.fixture
def target(cluster):
    """worker 0's target, with every container of the cluster cleared before the test."""
    tf.Session.reset(cluster[1].target)
    return cluster[1].target
