"""Traced steps written as serialized protobuf (tfmini/client/tracing.py) against the field-by-field build, for
outputs and clocks out of the ordinary: strings, resource handles, TensorArrays, empty, 0-d and high-rank
values, a wall clock before 1970, and several threads tracing one session at once.
"""

from __future__ import annotations

import threading

import numpy as np

import tfmini as tf
from tfmini.client import tracing
from tfmini.protobuf import cost_graph_pb2, step_stats_pb2

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _capture(monkeypatch) -> list:
    """Collects the recorder of every traced run."""
    recorders = []
    fill = tracing.StepRecorder.fill_step_stats

    def capture(self, step_stats):
        recorders.append(self)
        return fill(self, step_stats)

    monkeypatch.setattr(tracing.StepRecorder, "fill_step_stats", capture)
    return recorders


def _assert_serialized_equals_field_by_field(rec) -> None:
    fast, plain = step_stats_pb2.StepStats(), step_stats_pb2.StepStats()
    fast.MergeFromString(rec.step_stats_bytes())
    rec._fill_step_stats_in_order(plain)
    assert fast == plain
    fast_cg, plain_cg = cost_graph_pb2.CostGraphDef(), cost_graph_pb2.CostGraphDef()
    fast_cg.MergeFromString(rec.cost_graph_bytes())
    rec._fill_cost_graph_in_order(plain_cg)
    assert fast_cg == plain_cg


def _unusual_graph():
    g = tf.Graph()
    with g.as_default():
        words = tf.placeholder(tf.string, [None], name="words")
        joined = tf.strings.join([tf.constant(["ab", "cde"]), words])
        empty = tf.zeros([0, 3]) + 1.0
        scalar = tf.placeholder(tf.float32, [], name="scalar")
        doubled = scalar * 2.0
        ref_var = tf.Variable(np.ones(3, np.float32), name="ref_var")
        res_var = tf.get_variable("res_var", shape=[2], use_resource=True, initializer=tf.zeros_initializer())
        stacked = tf.TensorArray(tf.float32, size=2).write(0, [1.0]).write(1, [2.0]).stack()
        high_rank = tf.reshape(tf.range(12), [1, 1, 1, 1, 2, 3, 2]) + 1
        fetches = [joined, empty, doubled, ref_var * 2.0, res_var + 1.0, stacked, high_rank]
        init = tf.global_variables_initializer()
    return g, fetches, {words: ["x", "yy"], scalar: 3.0}, init


def test_unusual_outputs_serialize_as_the_field_by_field_build(monkeypatch):
    recorders = _capture(monkeypatch)
    g, fetches, feed, init = _unusual_graph()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(2):  # the first run fills the plan's caches, the second reads them
            md = tf.RunMetadata()
            sess.run(fetches, feed, options=FULL, run_metadata=md)
    assert len(recorders) == 2
    outputs = [o for r in recorders[-1].records for o in r[4]]
    assert any(o[0] is None for o in outputs)  # a value holding no array (a resource handle or flow)
    assert any(o[0] == () for o in outputs) and any(o[0] and 0 in o[0] for o in outputs)
    assert any(o[0] and len(o[0]) == 7 for o in outputs)
    for rec in recorders:
        _assert_serialized_equals_field_by_field(rec)


def test_a_wall_clock_before_1970_gives_the_same_step_stats(monkeypatch):
    # Times are int64 nanoseconds since the epoch; before it they are negative (ten-byte varints).
    monkeypatch.setattr(tracing.time, "time_ns", lambda: -3_000_000_000_000_000_000)
    recorders = _capture(monkeypatch)
    g, fetches, feed, init = _unusual_graph()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        md = tf.RunMetadata()
        sess.run(fetches, feed, options=FULL, run_metadata=md)
    node_stats = md.step_stats.dev_stats[0].node_stats
    assert node_stats and all(ns.all_start_nanos < 0 and ns.all_start_micros < 0 for ns in node_stats)
    for rec in recorders:
        _assert_serialized_equals_field_by_field(rec)
    records = [r for ns in node_stats for m in ns.memory for r in m.allocation_records]
    assert records and all(r.alloc_micros < 0 for r in records)


def test_threads_tracing_one_session_at_once_each_get_their_own_consistent_metadata(monkeypatch):
    recorders = _capture(monkeypatch)
    g, fetches, feed, init = _unusual_graph()
    errors = []
    with tf.Session(graph=g) as sess:
        sess.run(init)

        def trace():
            try:
                for _ in range(5):
                    md = tf.RunMetadata()
                    sess.run(fetches, feed, options=FULL, run_metadata=md)
                    names = [ns.node_name for ns in md.step_stats.dev_stats[0].node_stats]
                    assert names == [n.name for n in md.cost_graph.node]
            except BaseException as e:  # noqa: BLE001 - reported by the test thread
                errors.append(e)

        threads = [threading.Thread(target=trace) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert len(recorders) == 20
    for rec in recorders:
        _assert_serialized_equals_field_by_field(rec)
