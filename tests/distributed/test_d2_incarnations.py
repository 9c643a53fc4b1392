"""Device incarnations on a distributed session (an in-process cluster of 1 ps + 1 worker): the transfer keys of
the partitions name the sending task's worker incarnation (a random 64-bit number per worker start, as TF
writes `send_device_incarnation`), `list_devices()` reports it, and a worker that restarts (a new
incarnation) gets partitions with new keys once the session notices."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.server import free_port

PS = "/job:ps/replica:0/task:0"
W0 = "/job:worker/replica:0/task:0"


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture(scope="module")
def cluster():
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}"]})
    servers = [tf.train.Server(spec, job_name="ps", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=0)]
    yield servers
    for server in reversed(servers):
        server._stop()


def _service(task: str) -> dask_runtime.TaskService:
    """The tfmini state of the in-process worker serving `task`."""
    found = [s for s in dask_runtime._IN_PROCESS.values() if s.task == task]
    assert len(found) == 1
    return found[0]


def _unsigned(value: int) -> int:
    return value & 0xFFFFFFFFFFFFFFFF


def _graph():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            x = tf.placeholder(tf.float32, [2], name="x")
            y = tf.multiply(x, 3.0, name="y")
        with tf.device("/job:worker/task:0"):
            z = tf.add(y, 1.0, name="z")
    return graph, x, z


def _traced_run(sess, fetch, feed):
    options = tf.RunOptions(output_partition_graphs=True)
    metadata = tf.RunMetadata()
    value = sess.run(fetch, feed, options=options, run_metadata=metadata)
    return value, metadata


def _transfer_incarnations(metadata) -> dict[str, set[int]]:
    """send_device -> the send_device_incarnation values of the transfers of the partition graphs."""
    found: dict[str, set[int]] = {}
    for gd in metadata.partition_graphs:
        for nd in gd.node:
            if nd.op in ("_Send", "_Recv"):
                found.setdefault(nd.attr["send_device"].s.decode(), set()).add(
                    _unsigned(nd.attr["send_device_incarnation"].i))
    return found


def test_list_devices_reports_each_workers_incarnation(cluster):
    with tf.Session(cluster[1].target, graph=tf.Graph()) as sess:
        devices = sess.list_devices()
    by_name = {d.name: d.incarnation for d in devices}
    assert by_name == {f"{PS}/device:CPU:0": _service(PS).incarnation,
                       f"{W0}/device:CPU:0": _service(W0).incarnation}
    assert all(v != 0 for v in by_name.values())
    assert by_name[f"{PS}/device:CPU:0"] != by_name[f"{W0}/device:CPU:0"]


def test_partition_transfers_name_the_sending_workers_incarnation(cluster):
    graph, x, z = _graph()
    with tf.Session(cluster[1].target, graph=graph) as sess:
        value, metadata = _traced_run(sess, z, {x: [1.0, 2.0]})
    np.testing.assert_array_equal(value, [4.0, 7.0])
    found = _transfer_incarnations(metadata)
    # ps sends y to the worker; the fetch goes from the worker to the client; the feed comes from the client,
    # TF's name for which is the master task's device (the worker's here).
    assert found == {f"{PS}/device:CPU:0": {_service(PS).incarnation},
                     f"{W0}/device:CPU:0": {_service(W0).incarnation}}


def test_a_restarted_worker_gets_partitions_with_keys_of_its_new_incarnation(cluster):
    graph, x, z = _graph()
    ps = _service(PS)
    with tf.Session(cluster[1].target, graph=graph) as sess:
        _, before = _traced_run(sess, z, {x: [1.0, 2.0]})
        # What a restart of the ps task's worker looks like to a session: a new incarnation, no partitions.
        old = ps.incarnation
        ps.incarnation = old ^ 0x5A5A5A5A5A5A5A5A
        ps.runners.clear()
        with pytest.raises(tf.errors.AbortedError, match="restarted"):
            sess.run(z, {x: [1.0, 2.0]})
        value, after = _traced_run(sess, z, {x: [5.0, 6.0]})
        np.testing.assert_array_equal(value, [16.0, 19.0])
        devices = {d.name: d.incarnation for d in sess.list_devices()}
    assert _transfer_incarnations(before)[f"{PS}/device:CPU:0"] == {old}
    assert _transfer_incarnations(after)[f"{PS}/device:CPU:0"] == {ps.incarnation}
    assert _transfer_incarnations(after)[f"{W0}/device:CPU:0"] == {_service(W0).incarnation}
    assert devices[f"{PS}/device:CPU:0"] == ps.incarnation
