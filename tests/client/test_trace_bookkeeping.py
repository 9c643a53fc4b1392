"""A traced step's clock leaves out the recorder's own bookkeeping (the timeline's gaps are the executor's), and
the cost graph built from the plan's cached skeleton equals the one built op by op."""

import time

import numpy as np

import tfmini as tf
from tfmini.client import tracing
from tfmini.protobuf import cost_graph_pb2, step_stats_pb2

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _train_graph():
    """A small training step: variables, a fed batch, gradients (multi-output and control inputs), updates."""
    g = tf.Graph()
    rng = np.random.default_rng(0)
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 6], name="x")
        y = tf.placeholder(tf.float32, [None, 3], name="y")
        w = tf.Variable(rng.standard_normal((6, 3)).astype(np.float32), name="w")
        b = tf.Variable(np.zeros(3, np.float32), name="b")
        logits = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    feed = {x: rng.standard_normal((4, 6)).astype(np.float32), y: np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]}
    return g, [train, loss], feed, init


def _cost_graph_without_times(md):
    cg = tf.RunMetadata()
    cg.cost_graph.CopyFrom(md.cost_graph)
    for node in cg.cost_graph.node:
        node.compute_cost = node.compute_time = 0
    return cg.cost_graph


def test_cost_graph_from_the_skeleton_equals_the_op_by_op_one(monkeypatch):
    g, fetches, feed, init = _train_graph()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        fast = [tf.RunMetadata() for _ in range(2)]  # the first builds the skeleton, the second reuses it
        for md in fast:
            sess.run(fetches, feed, options=FULL, run_metadata=md)
        monkeypatch.setattr(tracing.StepRecorder, "fill_cost_graph", tracing.StepRecorder._fill_cost_graph_in_order)
        plain = tf.RunMetadata()
        sess.run(fetches, feed, options=FULL, run_metadata=plain)
    assert len(plain.cost_graph.node) == len(plain.step_stats.dev_stats[0].node_stats) > 10
    assert any(n.input_info for n in plain.cost_graph.node) and any(n.control_input for n in plain.cost_graph.node)
    for md in fast:
        assert _cost_graph_without_times(md) == _cost_graph_without_times(plain)


def test_bookkeeping_time_is_not_on_the_step_clock(monkeypatch):
    g, fetches, feed, init = _train_graph()
    delay = 0.002
    record = tracing.StepRecorder._record

    def slow_record(self, *args):
        time.sleep(delay)  # bookkeeping made costly on purpose
        return record(self, *args)

    with tf.Session(graph=g) as sess:
        sess.run(init)
        sess.run(fetches, feed, options=FULL, run_metadata=tf.RunMetadata())
        monkeypatch.setattr(tracing.StepRecorder, "_record", slow_record)
        md = tf.RunMetadata()
        t0 = time.perf_counter()
        sess.run(fetches, feed, options=FULL, run_metadata=md)
        wall = time.perf_counter() - t0
    nodes = md.step_stats.dev_stats[0].node_stats
    span_s = (max(n.all_start_nanos + n.all_end_rel_nanos for n in nodes) - min(n.all_start_nanos for n in nodes)) / 1e9
    assert wall >= len(nodes) * delay
    # The ops of this step take microseconds: the timeline spans far less than the bookkeeping slept.
    assert span_s < len(nodes) * delay / 2
    for thread in {n.thread_id for n in nodes}:  # each thread's ops still one after the other
        mine = sorted((n.all_start_nanos, n.all_start_nanos + n.all_end_rel_nanos) for n in nodes
                      if n.thread_id == thread)
        assert all(end <= start for (_, end), (start, _) in zip(mine, mine[1:]))


def test_cached_labels_are_the_ops_labels():
    g, fetches, feed, init = _train_graph()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(2):
            md = tf.RunMetadata()
            sess.run(fetches, feed, options=FULL, run_metadata=md)
            for ns in md.step_stats.dev_stats[0].node_stats:
                assert ns.timeline_label == tracing.timeline_label(g.get_operation_by_name(ns.node_name))


def test_step_stats_and_cost_graph_from_skeletons_equal_the_op_by_op_ones(monkeypatch):
    recorders = []
    fill = tracing.StepRecorder.fill_step_stats

    def capture(self, step_stats):
        recorders.append(self)
        return fill(self, step_stats)

    monkeypatch.setattr(tracing.StepRecorder, "fill_step_stats", capture)
    g, fetches, feed, init = _train_graph()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(2):  # the first run builds the skeletons, the second reuses them
            sess.run(fetches, feed, options=FULL, run_metadata=tf.RunMetadata())
    assert len(recorders) == 2
    for rec in recorders:
        fast, plain = step_stats_pb2.StepStats(), step_stats_pb2.StepStats()
        rec._fill_step_stats_from_skeleton(fast)
        rec._fill_step_stats_in_order(plain)
        assert fast == plain
        assert all(ns.HasField("memory_stats") for ns in fast.dev_stats[0].node_stats)
        fast_cg, plain_cg = cost_graph_pb2.CostGraphDef(), cost_graph_pb2.CostGraphDef()
        rec.fill_cost_graph(fast_cg)
        rec._fill_cost_graph_in_order(plain_cg)
        assert fast_cg == plain_cg
