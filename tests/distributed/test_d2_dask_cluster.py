"""Partial runs, cost graphs and incarnations on an existing Dask cluster (a dask:// target; the tfmini
handlers installed on its workers through the scheduler, every call through Dask's comms)."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.engine import assign_tasks

distributed = dask_runtime.dask()


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture(scope="module")
def target():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                       dashboard_address=":0", silence_logs=40)
    assign_tasks(cluster.scheduler_address, {"ps": 1, "worker": 1})
    yield "dask://" + cluster.scheduler_address.split("://", 1)[1]
    cluster.close()


def _graph():
    with tf.device("/job:ps/task:0"):
        a = tf.placeholder(tf.float32, [3], name="a")
        r1 = tf.square(a, name="r1")
    with tf.device("/job:worker/task:0"):
        b = tf.placeholder(tf.float32, [], name="b")
        r2 = tf.reduce_sum(r1 * b, name="r2")
    return a, b, r1, r2


def test_a_partial_run_on_an_existing_dask_cluster(target):
    a, b, r1, r2 = _graph()
    with tf.Session(target) as sess:
        h = sess.partial_run_setup([r1, r2], [a, b])
        np.testing.assert_array_equal(sess.partial_run(h, r1, {a: [1.0, 2.0, 3.0]}), [1.0, 4.0, 9.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="already been fetched"):
            sess.partial_run(h, r1)
        assert sess.partial_run(h, r2, {b: 2.0}) == 28.0
        # Every declared fetch was fetched: the partial run is over and its handle forgotten, as in TF.
        with pytest.raises(tf.errors.InvalidArgumentError, match="Must run 'setup'"):
            sess.partial_run(h, r2)


def test_incarnations_and_the_cost_graph_on_an_existing_dask_cluster(target):
    a, b, r1, r2 = _graph()
    with tf.Session(target) as sess:
        incarnations = {d.name: d.incarnation for d in sess.list_devices()}
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)
        metadata = tf.RunMetadata()
        sess.run(r2, {a: [1.0, 1.0, 1.0], b: 1.0}, options=options, run_metadata=metadata)
    assert len(incarnations) == 2 and all(incarnations.values())
    sent = {nd.attr["send_device"].s.decode(): nd.attr["send_device_incarnation"].i & 0xFFFFFFFFFFFFFFFF
            for gd in metadata.partition_graphs for nd in gd.node if nd.op == "_Send"}
    assert sent and all(incarnations[device] == value for device, value in sent.items())
    assert {node.device for node in metadata.cost_graph.node} == set(incarnations)
