"""RunMetadata.cost_graph of a traced distributed step (an in-process cluster of 1 ps + 2 workers): one node
per op of every partition, named and placed as the partition graphs are, with its partition's edges, and
the output facts the local engine reports for the same ops."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime

PS = "/job:ps/replica:0/task:0"
W0 = "/job:worker/replica:0/task:0"
W1 = "/job:worker/replica:0/task:1"


pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def _model():
    with tf.device("/job:ps/task:0"):
        w = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4), name="w")
    with tf.device("/job:worker/task:1"):
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        h = tf.matmul(x, w, name="h")
    with tf.device("/job:worker/task:0"):
        y = tf.reduce_sum(tf.nn.relu(h, name="act"), name="y")
    return w, x, h, y


def _traced(sess, fetch, feed):
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)
    metadata = tf.RunMetadata()
    value = sess.run(fetch, feed, options=options, run_metadata=metadata)
    return value, metadata


FEED = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)


def _distributed_metadata(target):
    graph = tf.Graph()
    with graph.as_default():
        w, x, h, y = _model()
    with tf.Session(target, graph=graph) as sess:
        sess.run(w.initializer)
        return _traced(sess, y, {x: FEED})


def test_the_cost_graph_has_every_partition_node_on_its_device_with_its_edges(cluster):
    value, metadata = _distributed_metadata(cluster[1].target)
    assert value == pytest.approx(float(np.maximum(FEED @ np.arange(12).reshape(3, 4), 0).sum()))
    cost = metadata.cost_graph
    ids = [node.id for node in cost.node]
    assert len(set(ids)) == len(ids)
    by_id = {node.id: node for node in cost.node}
    partitions = {gd.node[0].device: gd for gd in metadata.partition_graphs}
    assert set(partitions) == {f"{t}/device:CPU:0" for t in (PS, W0, W1)}
    for device, gd in partitions.items():
        nodes = [node for node in cost.node if node.device == device]
        assert sorted(node.name for node in nodes) == sorted(nd.name for nd in gd.node)
        inputs = {nd.name: {i.partition(":")[0] for i in nd.input if not i.startswith("^")} for nd in gd.node}
        controls = {nd.name: {i[1:] for i in nd.input if i.startswith("^")} for nd in gd.node}
        for node in nodes:
            assert {by_id[i.preceding_node].name for i in node.input_info} == inputs[node.name]
            assert {by_id[c].name for c in node.control_input} == controls[node.name]
            assert all(by_id[i.preceding_node].device == device for i in node.input_info)
            assert node.compute_time >= 0
    transfers = [node.name for node in cost.node if node.name.startswith(("_send", "_recv"))]
    assert transfers  # the partitions' own names of the transfer nodes, not the names the worker imported


def test_the_cost_graph_reports_the_local_engines_output_facts(cluster):
    _, dist = _distributed_metadata(cluster[1].target)
    graph = tf.Graph()
    with graph.as_default():
        w, x, h, y = _model()
    with tf.Session(graph=graph) as sess:
        sess.run(w.initializer)
        _, local = _traced(sess, y, {x: FEED})

    def facts(cost):
        return {node.name: [(o.size, o.dtype, [d.size for d in o.shape.dim]) for o in node.output_info]
                for node in cost.node}

    local_facts, dist_facts = facts(local.cost_graph), facts(dist.cost_graph)
    for name in ("h", "act", "y", "x"):
        if name in local_facts:
            assert dist_facts[name] == local_facts[name]
    assert dist_facts["h"] == [(2 * 4 * 4, tf.float32.as_datatype_enum, [2, 4])]
    by_name = {node.name: node for node in dist.cost_graph.node}
    assert by_name["h"].device == f"{W1}/device:CPU:0" and by_name["y"].device == f"{W0}/device:CPU:0"


def test_an_untraced_run_replaces_the_metadata_of_a_traced_one(cluster):
    graph = tf.Graph()
    with graph.as_default():
        w, x, h, y = _model()
    with tf.Session(cluster[1].target, graph=graph) as sess:
        sess.run(w.initializer)
        _, metadata = _traced(sess, y, {x: FEED})
        assert len(metadata.cost_graph.node) > 0 and len(metadata.step_stats.dev_stats) == 3
        sess.run(y, {x: FEED}, options=tf.RunOptions(), run_metadata=metadata)
    assert len(metadata.cost_graph.node) == 0
    assert len(metadata.step_stats.dev_stats) == 0


def test_through_dask_connections_as_between_processes(cluster, monkeypatch):
    # Without the direct call to workers of this process the recorders' serialized messages cross Dask's comms.
    monkeypatch.setattr(dask_runtime, "_IN_PROCESS", {})
    _, metadata = _distributed_metadata(cluster[1].target)
    devices = {node.device for node in metadata.cost_graph.node}
    assert devices == {f"{t}/device:CPU:0" for t in (PS, W0, W1)}
    assert {"w", "h", "y"} <= {node.name for node in metadata.cost_graph.node}
