"""Sessions on an existing Dask cluster (a dask:// target naming its scheduler): tasks mapped onto its workers
with assign_tasks, or served by workers whose Dask name is a task name; the tfmini handlers are installed on
the workers through the scheduler."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.engine import assign_tasks

distributed = dask_runtime.dask()


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture(scope="module")
def dask_cluster():
    cluster = distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=False, protocol="tcp://",
                                       dashboard_address=":0", silence_logs=40)
    yield cluster
    cluster.close()


def test_assign_tasks_maps_jobs_onto_workers_and_sessions_find_them(dask_cluster):
    mapping = assign_tasks(dask_cluster.scheduler_address, {"ps": 1, "worker": 2})
    assert sorted(mapping) == ["/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0",
                               "/job:worker/replica:0/task:1"]
    assert len(set(mapping.values())) == 3
    target = "dask://" + dask_cluster.scheduler_address.split("://", 1)[1]
    with tf.device("/job:ps/task:0"):
        w = tf.Variable(np.arange(4, dtype=np.float32), name="w")
    with tf.device("/job:worker/task:1"):
        doubled = w * 2.0
    total = tf.reduce_sum(doubled)  # the master task of a dask:// session: /job:worker/task:0
    with tf.Session(target) as sess:
        sess.run(w.initializer)
        assert sess.run(total) == 12.0
        assert [d.name for d in sess.list_devices()] == [f"{t}/device:CPU:0" for t in sorted(mapping)]
    tf.Session.reset(target)
    with tf.Session(target) as sess:
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(total)


def test_assign_tasks_refuses_more_tasks_than_workers(dask_cluster):
    with pytest.raises(tf.errors.InvalidArgumentError, match="3 workers"):
        assign_tasks(dask_cluster.scheduler_address, {"ps": 2, "worker": 2})
