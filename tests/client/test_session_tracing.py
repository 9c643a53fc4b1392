"""Tracing basics through Session.run: FULL_TRACE with a RunMetadata records one NodeExecStats per executed
op on one device, with timings and output shapes/bytes; without trace options nothing is recorded."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import step_stats_pb2

_FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _graph():
    x = tf.placeholder(tf.float32, shape=[None, 3], name="x")
    w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
    tf.constant(5.0, name="unused")
    mm = tf.matmul(x, w, name="mm")
    total = tf.reduce_sum(mm, name="total")
    return x, mm, total


def test_full_trace_records_one_node_stats_per_executed_op():
    x, mm, total = _graph()
    md = tf.RunMetadata()
    with tf.Session() as sess:
        value = sess.run(total, {x: np.ones((4, 3))}, options=_FULL, run_metadata=md)
    assert value == pytest.approx(4 * (0 + 2 + 4 + 1 + 3 + 5))
    assert isinstance(md.step_stats, step_stats_pb2.StepStats)
    assert len(md.step_stats.dev_stats) == 1
    dev = md.step_stats.dev_stats[0]
    assert dev.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    names = [ns.node_name for ns in dev.node_stats]
    # Each op that ran, once; not the pruned 'unused' constant, not the fed placeholder.
    assert sorted(names) == sorted({"w", "mm", "total", total.op.inputs[1].op.name})
    assert "unused" not in names and "x" not in names


def test_node_stats_fields():
    x, mm, total = _graph()
    md = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(total, {x: np.ones((4, 3))}, options=_FULL, run_metadata=md)
    stats = {ns.node_name: ns for ns in md.step_stats.dev_stats[0].node_stats}
    ns = stats["mm"]
    assert ns.timeline_label == "mm = MatMul(x, w)"
    assert ns.all_start_micros > 0
    assert 0 <= ns.op_start_rel_micros <= ns.op_end_rel_micros <= ns.all_end_rel_micros
    assert len(ns.output) == 1
    desc = ns.output[0].tensor_description
    assert desc.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in desc.shape.dim] == [4, 2]
    assert desc.allocation_description.requested_bytes == 4 * 2 * 4
    scalar = stats["total"].output[0].tensor_description
    assert [d.size for d in scalar.shape.dim] == []
    starts = [s.all_start_micros for s in md.step_stats.dev_stats[0].node_stats]
    assert starts == sorted(starts)  # recorded in execution order


def test_no_trace_options_records_nothing():
    x, mm, total = _graph()
    md = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(total, {x: np.ones((2, 3))}, run_metadata=md)
        assert len(md.step_stats.dev_stats) == 0
        sess.run(total, {x: np.ones((2, 3))}, options=tf.RunOptions(), run_metadata=md)
        assert len(md.step_stats.dev_stats) == 0


def test_trace_options_without_run_metadata_just_run():
    x, mm, total = _graph()
    with tf.Session() as sess:
        assert sess.run(total, {x: np.zeros((2, 3))}, options=_FULL) == 0.0


def test_traced_and_untraced_runs_agree():
    x, mm, total = _graph()
    feed = {x: np.random.RandomState(0).rand(5, 3)}
    with tf.Session() as sess:
        plain = sess.run([mm, total], feed)
        traced = sess.run([mm, total], feed, options=_FULL, run_metadata=tf.RunMetadata())
    np.testing.assert_array_equal(plain[0], traced[0])
    assert plain[1] == traced[1]


def test_run_metadata_serializes():
    x, mm, total = _graph()
    md = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(total, {x: np.ones((1, 3))}, options=_FULL, run_metadata=md)
    back = tf.RunMetadata.FromString(md.SerializeToString())
    assert back.step_stats == md.step_stats
