"""What keeps a traced step cheap without changing what it records: step stats and cost graphs written as
serialized bytes (per-plan heads, per-run tails cached by what they hold, varints from tables) equal the
messages built field by field, for every kind of output, on one thread and several, across runs whose
shapes and buffers change; the encoding pieces agree with the protobuf runtime; the caches stay bounded; and
what happens between an op's end and the recorder's return stays off the step's clock."""

from __future__ import annotations

import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import local_engine, tracing
from tfmini.protobuf import cost_graph_pb2, step_stats_pb2

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


@pytest.fixture
def recorders(monkeypatch):
    """The StepRecorder of every traced run made while the test runs."""
    made = []
    fill = tracing.StepRecorder.fill_step_stats

    def capture(self, step_stats):
        made.append(self)
        return fill(self, step_stats)

    monkeypatch.setattr(tracing.StepRecorder, "fill_step_stats", capture)
    return made


def _assert_serialized_equals_field_by_field(rec) -> None:
    fast, plain = step_stats_pb2.StepStats(), step_stats_pb2.StepStats()
    fast.MergeFromString(rec.step_stats_bytes())
    rec._fill_step_stats_in_order(plain)
    assert fast == plain
    assert fast.SerializeToString(deterministic=True) == plain.SerializeToString(deterministic=True)
    fast_cg, plain_cg = cost_graph_pb2.CostGraphDef(), cost_graph_pb2.CostGraphDef()
    fast_cg.MergeFromString(rec.cost_graph_bytes())
    rec._fill_cost_graph_in_order(plain_cg)
    assert fast_cg == plain_cg


def _zoo():
    """One op of each kind of output a trace describes: several outputs, strings, scalars, empty arrays,
    views and hand-ons, a variable's storage and its reads, an op with no outputs, a folded constant."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 6], name="x")
        words = tf.placeholder(tf.string, [None], name="words")
        v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
        halves = tf.split(x, 2, axis=1, name="halves")  # two outputs, views of x
        sq = tf.square(x, name="sq")
        pair = tf.identity_n([sq, halves[1]], name="pair")  # hands on inputs 0 and 1
        square = tf.square(pair[1], name="square")
        flat = tf.reshape(square, [-1], name="flat")  # a view of square
        total = tf.reduce_sum(flat, name="total")  # a NumPy scalar
        empty = tf.zeros(tf.stack([tf.shape(x)[0], 0]), name="empty")
        joined = tf.strings.join([words, tf.as_string(total)], separator="/", name="joined")
        uniq, idx = tf.unique(words, name="uniq")
        read = tf.identity(v, name="read")  # reads the variable's storage
        bump = tf.assign_add(v, tf.ones([2, 3]), name="bump")
        folded = tf.constant(np.ones((2, 2), np.float32)) * 3.0
        with tf.control_dependencies([bump]):
            done = tf.no_op(name="done")
        init = tf.global_variables_initializer()
    fetches = [total, empty, joined, uniq, idx, read, folded, pair[0], done]
    return g, x, words, fetches, init


def _zoo_feed(x, words, rows: int):
    rng = np.random.default_rng(rows)
    return {x: rng.standard_normal((rows, 6)).astype(np.float32),
            words: np.array([b"a", b"bb", b"a", b"ccc"][:max(rows, 1)] * 2, dtype=object)}


def test_serialized_protos_equal_the_field_by_field_ones_for_every_kind_of_output(recorders):
    g, x, words, fetches, init = _zoo()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        # Cold caches, warm ones, and shapes (hence sizes, allocation ids and buffers) that change.
        for rows in (3, 3, 5, 0, 3):
            md = tf.RunMetadata()
            sess.run(fetches, _zoo_feed(x, words, rows), options=FULL, run_metadata=md)
            assert len(md.step_stats.dev_stats[0].node_stats) == len(md.cost_graph.node)
    assert len(recorders) == 5
    for rec in recorders:
        _assert_serialized_equals_field_by_field(rec)
    outputs = {r[0].op.name: r[4] for r in recorders[-1].records}
    assert [o[2] for o in outputs["pair"]] == [0, 1]  # each output hands on an input
    assert outputs["flat"][0][2] == 0 and outputs["read"][0][2] == 0  # a view; the variable's storage
    assert outputs["square"][0][2] == -1
    assert outputs["total"][0][0] == () and outputs["empty"][0][0] == (3, 0)
    assert outputs["done"] == ()


def test_serialized_protos_keep_each_threads_lane_on_the_parallel_engine(recorders, monkeypatch):
    monkeypatch.setenv("TFMINI_PARALLEL_MIN_ELEMENTS", "1")
    monkeypatch.setenv("TFMINI_PARALLEL_TRIAL_RUNS", "0")
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [64, 64], name="x")
        ws = [tf.constant(np.random.default_rng(i).standard_normal((64, 64)).astype(np.float32)) for i in range(4)]
        y = tf.add_n([tf.reduce_sum(tf.tanh(x @ w)) for w in ws])
    with tf.Session(graph=g, config=tf.ConfigProto(inter_op_parallelism_threads=2)) as sess:
        assert type(sess._engine) is local_engine.ParallelEngine
        for _ in range(2):
            md = tf.RunMetadata()
            sess.run(y, {x: np.ones((64, 64), np.float32)}, options=FULL, run_metadata=md)
    for rec in recorders:
        _assert_serialized_equals_field_by_field(rec)
    threads = {r[3] for r in recorders[-1].records}
    assert len(threads) >= 2
    assert {t for t, _ in threads} <= set(md.step_stats.dev_stats[0].thread_names)


def test_records_of_part_of_a_plan_are_written_field_by_field_and_equal_the_serialized_stats(recorders):
    g, x, words, fetches, init = _zoo()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        sess.run(fetches, _zoo_feed(x, words, 2), options=FULL, run_metadata=tf.RunMetadata())
    rec = recorders[-1]
    rec.records = rec.records[::2]  # not every step, so no cost graph from the plan's cached heads
    fast, plain = step_stats_pb2.StepStats(), step_stats_pb2.StepStats()
    rec.fill_step_stats(fast)
    rec._fill_step_stats_in_order(plain)
    assert fast == plain
    cg, plain_cg = cost_graph_pb2.CostGraphDef(), cost_graph_pb2.CostGraphDef()
    rec.fill_cost_graph(cg)
    rec._fill_cost_graph_in_order(plain_cg)
    assert cg == plain_cg and [n.id for n in cg.node] == list(range(len(rec.records)))


def test_step_stats_added_beside_another_devices_keep_both(recorders):
    g, x, words, fetches, init = _zoo()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        sess.run(fetches, _zoo_feed(x, words, 2), options=FULL, run_metadata=tf.RunMetadata())
    stats = step_stats_pb2.StepStats()
    stats.dev_stats.add(device="/job:worker/replica:0/task:1/device:CPU:0").node_stats.add(node_name="other")
    recorders[-1].fill_step_stats(stats)
    assert [d.device for d in stats.dev_stats] == ["/job:worker/replica:0/task:1/device:CPU:0",
                                                   tracing.DEVICE_NAME]
    assert len(stats.dev_stats[1].node_stats) == len(recorders[-1].records)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**14 - 1, 2**14, 2**21, 2**28 - 1, 2**28, 2**35, 2**42 - 1,
                                   2**42, 2**49, 2**56 - 1, 2**56, 2**62, 2**63 - 1, -1, -2, -8000, -(2**63)])
def test_varints_are_the_protobuf_runtimes(value):
    tracing._build_tables()
    record = step_stats_pb2.AllocationRecord(alloc_bytes=value)
    assert tracing._field(b"\x10", value) == record.SerializeToString()
    assert step_stats_pb2.AllocationRecord.FromString(b"\x10" + tracing._varint(value)).alloc_bytes == value


def test_times_far_from_the_epoch_and_durations_of_every_size_encode_as_the_runtime_does(recorders):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        y = tf.add(x, 1.0, name="y")
    with tf.Session(graph=g) as sess:
        sess.run(y, {x: np.zeros(4, np.float32)}, options=FULL, run_metadata=tf.RunMetadata())
    rec = recorders[-1]
    step, t0, t1, *rest = rec.records[-1]
    assert step.op.name == "y"
    # The same record at moments and durations whose varints take every length the tables produce.
    for offset in (0.0, 1e-7, 3e-4, 0.27, 300.0, 1e5):
        for duration in (0.0, 1e-9, 1e-6, 2e-5, 0.02, 3.0, 400.0):
            rec.records[-1] = [step, t0 + offset, t0 + offset + duration, *rest]
            _assert_serialized_equals_field_by_field(rec)


def test_data_addresses_are_numpys():
    base = np.arange(60, dtype=np.float64).reshape(6, 10)

    class Sub(np.ndarray):
        pass

    arrays = [base, base[2:, 3:], base.T, base[::2, ::3], np.zeros(0), np.zeros((0, 4), np.int8), base.view(Sub),
              np.frombuffer(b"abcdefgh", np.uint8), np.array(["a", "bc"], dtype=object), np.float32(1.0) * np.ones(1)]
    readonly = base.copy()
    readonly.flags.writeable = False
    arrays.append(readonly)
    for a in arrays:
        assert tracing._data_address(a) == a.ctypes.data


def test_encoded_pieces_are_cached_per_plan_and_the_caches_stay_bounded(recorders, monkeypatch):
    monkeypatch.setattr(tracing, "_CACHE_MIN", 8)
    monkeypatch.setattr(tracing, "_CACHE_PER_STEP", 1)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        y = tf.reduce_sum(tf.square(x) + 1.0, name="y")
    with tf.Session(graph=g) as sess:
        for n in range(1, 30):  # a new shape every run: new tails every run
            sess.run(y, {x: np.ones(n, np.float32)}, options=FULL, run_metadata=tf.RunMetadata())
        plan = recorders[-1].plan
        codec = plan._trace_codec
        assert 0 < len(codec.node_tails) <= 8 and 0 < len(codec.cost_tails) <= 8
        assert codec.node_tails.limit == max(8, len(plan.steps))
        for rec in recorders[-3:]:
            _assert_serialized_equals_field_by_field(rec)


def test_steps_that_repeat_encode_their_outputs_and_memory_figures_once(recorders, monkeypatch):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.Variable(np.ones((4, 3), np.float32), name="w")
        loss = tf.reduce_sum(tf.square(tf.matmul(x, w)), name="loss")
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([w]))
        feed = {x: np.ones((2, 4), np.float32)}
        sess.run([train, loss], feed, options=FULL, run_metadata=tf.RunMetadata())
        codec = recorders[-1].plan._trace_codec
        built = []
        for name in ("node_tail", "cost_tail"):
            encode = getattr(codec, name)
            monkeypatch.setattr(codec, name, lambda *args, encode=encode: built.append(args[0]) or encode(*args))
        for _ in range(3):
            sess.run([train, loss], feed, options=FULL, run_metadata=tf.RunMetadata())
    assert built == []
    for rec in recorders:
        _assert_serialized_equals_field_by_field(rec)


def test_a_step_that_runs_no_op_still_names_its_device_and_thread(recorders):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
    with tf.Session(graph=g) as sess:
        md = tf.RunMetadata()
        out = sess.run(x, {x: np.ones(2, np.float32)}, options=FULL, run_metadata=md)
    np.testing.assert_array_equal(out, np.ones(2, np.float32))
    (dev,) = md.step_stats.dev_stats
    assert dev.device == tracing.DEVICE_NAME and not dev.node_stats and len(dev.thread_names) == 1
    assert not md.cost_graph.node
    _assert_serialized_equals_field_by_field(recorders[-1])


def test_time_between_an_ops_end_and_the_recorder_is_off_the_step_clock():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8], name="x")
        y = x
        for i in range(6):
            y = tf.add(y, float(i), name=f"add{i}")
    delay = 0.003
    with tf.Session(graph=g) as sess:
        plan = sess._engine.compile((y,), (x,), ()).plan

        def watched_steps(feed_values, on_step=None, deadline=None, values=None):
            """The step loop with slow work between each op and the recorder (as a debugger dumping outputs)."""
            def both(step, t0, t1, outs):
                time.sleep(delay)
                on_step(step, t0, t1, outs)
            return plan.run_steps(feed_values, on_step=both, deadline=deadline, values=values)

        md = tf.RunMetadata()
        wall = time.perf_counter()
        (out,) = tracing.run_plan(plan, [np.zeros(8, np.float32)], FULL, md, None, run_steps=watched_steps)
        wall = time.perf_counter() - wall
    np.testing.assert_array_equal(out, np.full(8, 15.0, np.float32))
    nodes = md.step_stats.dev_stats[0].node_stats
    assert len(nodes) >= 6 and wall >= len(nodes) * delay
    span_s = (max(n.all_start_nanos + n.all_end_rel_nanos for n in nodes) - min(n.all_start_nanos for n in nodes)) / 1e9
    assert span_s < len(nodes) * delay / 2
    spans = sorted((n.all_start_nanos, n.all_start_nanos + n.all_end_rel_nanos) for n in nodes)
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))
