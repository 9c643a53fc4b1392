"""Traced runs: trace levels, the per-op step stats checked against the plan that ran and the values it
computed, the memory model, cost and partition graphs, timeouts, and the fast path staying untouched."""

import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import executor
from tfmini.client.tracing import step_peak_bytes

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _mlp():
    """x -> MatMul -> Tanh -> Identity -> Square -> Sum, with a folded weight constant."""
    g = tf.Graph()
    rng = np.random.default_rng(0)
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 8], name="x")
        w = tf.constant(rng.standard_normal((8, 16)).astype(np.float32), name="w")
        h = tf.tanh(tf.matmul(x, w), name="h")
        h2 = tf.identity(h, name="h2")
        loss = tf.reduce_sum(tf.square(h2), name="loss")
    return g, x, loss


def _feed():
    return np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32)


def _nodes(md):
    (dev,) = md.step_stats.dev_stats
    return list(dev.node_stats)


def _traced(sess, fetches, feed_dict=None, options=FULL):
    md = tf.RunMetadata()
    out = sess.run(fetches, feed_dict, options=options, run_metadata=md)
    return out, md


# ----------------------------------------------------------------------------------------------------------
# Trace levels and the fast path
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", [tf.RunOptions.SOFTWARE_TRACE, tf.RunOptions.HARDWARE_TRACE,
                                   tf.RunOptions.FULL_TRACE])
def test_every_trace_level_above_no_trace_records_per_op_stats(level):
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        out, md = _traced(sess, loss, {x: _feed()}, tf.RunOptions(trace_level=level))
        assert out == sess.run(loss, {x: _feed()})
    assert [ns.node_name for ns in _nodes(md)] == ["w", "MatMul", "h", "h2", "Square", "Const", "loss"]


def test_no_trace_records_nothing_and_replaces_earlier_metadata():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, loss, {x: _feed()})
        assert md.step_stats.dev_stats
        sess.run(loss, {x: _feed()}, options=tf.RunOptions(trace_level=tf.RunOptions.NO_TRACE), run_metadata=md)
    assert not md.HasField("step_stats") and not md.HasField("cost_graph") and not md.partition_graphs


def test_untraced_runs_take_the_fast_path_and_never_the_step_loop(monkeypatch):
    g, x, loss = _mlp()

    def refuse(*args, **kwargs):
        raise AssertionError("run_steps must not run when tracing is off")

    monkeypatch.setattr(executor.Plan, "run_steps", refuse)
    with tf.Session(graph=g) as sess:
        plain = sess.run(loss, {x: _feed()})
        md = tf.RunMetadata()
        no_trace = sess.run(loss, {x: _feed()}, options=tf.RunOptions(), run_metadata=md)
        no_metadata = sess.run(loss, {x: _feed()}, options=FULL)  # tracing needs somewhere to write
    assert plain == no_trace == no_metadata


def test_traced_run_uses_the_step_loop_with_a_callback(monkeypatch):
    g, x, loss = _mlp()
    calls = []
    original = executor.Plan.run_steps

    def spy(self, feed_values, on_step=None, deadline=None, values=None):
        calls.append(on_step is not None)
        return original(self, feed_values, on_step=on_step, deadline=deadline, values=values)

    monkeypatch.setattr(executor.Plan, "run_steps", spy)
    with tf.Session(graph=g) as sess:
        _traced(sess, loss, {x: _feed()})
    assert calls == [True]


# ----------------------------------------------------------------------------------------------------------
# Step stats against the plan and the values
# ----------------------------------------------------------------------------------------------------------
def test_every_op_of_the_executed_plan_appears_exactly_once_in_plan_order():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, loss, {x: _feed()})
        plan = sess._engine.compile((loss,), (x,), ()).plan
    names = [ns.node_name for ns in _nodes(md)]
    assert names == [op.name for op in plan.ops]
    assert len(set(names)) == len(names)
    assert md.step_stats.dev_stats[0].device == executor.DEVICE_NAME


def test_times_are_ordered_non_negative_and_within_the_run():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        before = time.time_ns()
        _, md = _traced(sess, loss, {x: _feed()})
    nodes = _nodes(md)
    assert nodes[0].all_start_nanos >= before
    previous_end = 0
    for ns in nodes:
        assert ns.all_start_nanos > 0 and ns.all_end_rel_nanos >= 0
        assert 0 <= ns.op_start_rel_nanos <= ns.op_end_rel_nanos <= ns.all_end_rel_nanos
        assert ns.all_start_nanos >= previous_end  # one op at a time, in plan order
        previous_end = ns.all_start_nanos + ns.all_end_rel_nanos
        # The micros describe the same interval as the nanos.
        assert ns.all_start_micros == ns.all_start_nanos // 1000
        assert ns.all_start_micros + ns.all_end_rel_micros == previous_end // 1000
        assert ns.scheduled_micros <= ns.all_start_micros


def test_output_descriptions_match_the_values_the_ops_computed():
    g, x, loss = _mlp()
    feed = {x: _feed()}
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, loss, feed)
        for ns in _nodes(md):
            op = g.get_operation_by_name(ns.node_name)
            assert len(ns.output) == len(op.outputs)
            for out, t in zip(ns.output, op.outputs):
                value = np.asarray(sess.run(t, feed))
                td = out.tensor_description
                assert td.dtype == t.dtype.as_datatype_enum
                assert tuple(d.size for d in td.shape.dim) == value.shape
                assert td.allocation_description.requested_bytes == value.nbytes
                assert td.allocation_description.allocated_bytes == value.nbytes
                assert td.allocation_description.allocator_name == "cpu"
    ids = [o.tensor_description.allocation_description.allocation_id for ns in _nodes(md) for o in ns.output]
    assert sorted(ids) == list(range(1, len(ids) + 1))


def test_label_names_the_op_its_type_and_its_inputs_as_nodedefs_do():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        c = tf.no_op(name="first")
        with tf.control_dependencies([c]):
            y = tf.add(x, x, name="y")
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, y, {x: np.ones(3, np.float32)})
    labels = {ns.node_name: ns.timeline_label for ns in _nodes(md)}
    assert labels == {"first": "first = NoOp()", "y": "y = Add(x, x, ^first)"}


def test_thread_is_the_native_id_of_the_thread_that_ran_the_step():
    g, x, loss = _mlp()
    seen = {}

    def run():
        with tf.Session(graph=g) as sess:
            seen["md"] = _traced(sess, loss, {x: _feed()})[1]
        seen["tid"] = threading.get_native_id()
        seen["name"] = threading.current_thread().name

    worker = threading.Thread(target=run, name="tracing-worker")
    worker.start()
    worker.join()
    dev = seen["md"].step_stats.dev_stats[0]
    assert {ns.thread_id for ns in dev.node_stats} == {seen["tid"]}
    assert dict(dev.thread_names) == {seen["tid"]: "tracing-worker"}


# ----------------------------------------------------------------------------------------------------------
# Memory model
# ----------------------------------------------------------------------------------------------------------
def test_memory_model_counts_feeds_and_outputs_and_frees_after_the_last_consumer():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [1000], name="x")  # 8000 bytes fed
        a = tf.add(x, 1.0, name="a")
        b = tf.multiply(a, 2.0, name="b")
        c = tf.subtract(b, 3.0, name="c")
    with tf.Session(graph=g) as sess:
        out, md = _traced(sess, c, {x: np.arange(1000.0)})
    np.testing.assert_array_equal(out, (np.arange(1000.0) + 1) * 2 - 3)
    mem = {ns.node_name: ns.memory[0] for ns in _nodes(md)}
    # Each op's output is allocated while its input is still held: feed/previous (8000) + new (8000).
    for name in "abc":
        assert (mem[name].total_bytes, mem[name].peak_bytes, mem[name].live_bytes) == (8000, 8000, 8000)
        assert mem[name].allocator_bytes_in_use == 16000
    # a and b are freed once their one consumer ran; c is fetched, so it stays with the caller.
    for name in "ab":
        assert [r.alloc_bytes for r in mem[name].allocation_records] == [8000, -8000]
    assert [r.alloc_bytes for r in mem["c"].allocation_records] == [8000]
    assert step_peak_bytes(md.step_stats) == {"cpu": 16000}


def test_outputs_sharing_a_buffer_allocate_nothing_and_keep_it_until_the_last_holder_is_done():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [10, 100], name="x")
        a = tf.square(x, name="a")  # 8000 bytes
        same = tf.identity(a, name="same")  # hands `a` on
        view = tf.reshape(same, [1000], name="view")  # a view of `a`'s buffer
        total = tf.reduce_sum(view, name="total")
    with tf.Session(graph=g) as sess:
        out, md = _traced(sess, total, {x: np.ones((10, 100))})
    assert out == 1000.0
    mem = {ns.node_name: ns.memory[0] for ns in _nodes(md)}
    assert mem["a"].total_bytes == 8000
    assert mem["same"].total_bytes == mem["view"].total_bytes == 0
    assert mem["same"].allocator_bytes_in_use == mem["view"].allocator_bytes_in_use == 8000  # x was freed
    # `a`'s buffer is freed after `total`, the last reader of the view that still held it.
    assert [r.alloc_bytes for r in mem["a"].allocation_records] == [8000, -8000]
    nodes = {n.name: n for n in md.cost_graph.node}
    assert nodes["same"].output_info[0].alias_input_port == nodes["view"].output_info[0].alias_input_port == 0
    assert mem["total"].allocator_bytes_in_use == 8000 + 8
    assert [ns.output[0].tensor_description.allocation_description.requested_bytes for ns in _nodes(md)
            if ns.node_name in ("same", "view")] == [8000, 8000]


def test_variable_storage_is_persistent_and_reading_it_allocates_nothing():
    from tfmini.ops import state_ops, variables

    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = variables.Variable(np.ones((3, 4), np.float32), name="w")
        y = tf.matmul(x, w, name="y")
        bump = state_ops.assign_add(w, tf.ones([3, 4]), name="bump")
        init = variables.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        _, md_init = _traced(sess, init)
        out, md = _traced(sess, [y, bump], {x: np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(out[0], np.full((2, 4), 3.0, np.float32))
    init_nodes = {ns.node_name: ns for ns in _nodes(md_init)}
    assert init_nodes["w/Assign"].memory_stats.persistent_memory_size == 48  # the first to hand out the storage
    assert len(init_nodes["w"].output[0].tensor_description.shape.dim) == 0  # not yet initialized
    nodes = {ns.node_name: ns for ns in _nodes(md)}
    assert nodes["w"].memory_stats.persistent_memory_size == 48
    assert nodes["w"].output[0].tensor_description.allocation_description.requested_bytes == 48
    for name in ("w", "w/read", "bump"):
        assert nodes[name].memory[0].total_bytes == 0
        assert nodes[name].memory_stats.persistent_memory_size == (48 if name == "w" else 0)
    assert nodes["y"].memory[0].total_bytes == 32
    assert step_peak_bytes(md.step_stats) == {"cpu": 24 + 32}  # the feed and y


def test_folded_constants_are_persistent_memory_not_step_memory():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, loss, {x: _feed()})
    w = next(ns for ns in _nodes(md) if ns.node_name == "w")
    assert w.all_end_rel_nanos == 0  # computed at compile time: the traced run hands the value on
    assert w.memory[0].total_bytes == 0
    assert w.memory_stats.persistent_memory_size == 8 * 16 * 4
    assert w.memory[0].allocator_bytes_in_use == _feed().nbytes  # only the feed is in use yet


def test_folded_subgraphs_are_not_recomputed_by_traced_or_timed_runs(monkeypatch):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        scale = tf.multiply(tf.ones([3, 3]), 0.5, name="scale")  # feed-independent: folded
        y = tf.matmul(x, scale, name="y")
    calls = []

    def counted(kernel, name):
        def run(*args, **kwargs):
            calls.append(name)
            return kernel(*args, **kwargs)
        return run

    with tf.Session(graph=g) as sess:
        plan = sess._engine.compile((y,), (x,), ()).plan
        for step in plan.steps:  # the plain loop calls `step.fn`; the fast path bound its kernels already
            step.fn = counted(step.fn, step.op.name)
        _, md = _traced(sess, y, {x: np.ones((2, 3), np.float32)})
        assert calls == ["y"]
        out = sess.run(y, {x: np.ones((2, 3), np.float32)}, options=tf.RunOptions(timeout_in_ms=60_000))
        assert calls == ["y", "y"]
    np.testing.assert_array_equal(out, np.full((2, 3), 1.5, np.float32))
    nodes = {ns.node_name: ns for ns in _nodes(md)}
    assert nodes["scale"].all_end_rel_nanos == 0 and nodes["scale"].memory_stats.persistent_memory_size == 36
    assert nodes["y"].memory[0].total_bytes == 24


def test_peak_is_at_least_the_largest_output_the_step_allocated():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 5], name="x")
        big = tf.matmul(x, tf.ones([5, 300]), name="big")  # the largest output, live while reduced
        small = tf.reduce_mean(big, axis=1, name="small")
        total = tf.reduce_sum(small, name="total")
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, total, {x: np.ones((40, 5), np.float32)})
    step_allocated = [ns.memory[0].total_bytes for ns in _nodes(md)]
    peak = step_peak_bytes(md.step_stats)["cpu"]
    assert max(step_allocated) == 40 * 300 * 4
    assert peak >= max(step_allocated) + 40 * 5 * 4  # the feed is still held when `big` is allocated
    assert peak == max(ns.memory[0].allocator_bytes_in_use for ns in _nodes(md))


def test_stateful_outputs_are_step_memory():
    g = tf.Graph()
    with g.as_default():
        r = tf.random_uniform([50, 10], seed=1, name="r")
        total = tf.reduce_sum(r, name="total")
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, total)
    by_name = {ns.node_name: ns for ns in _nodes(md)}
    assert by_name["r/RandomUniform"].memory[0].total_bytes == 50 * 10 * 4
    assert by_name["r/RandomUniform"].memory_stats.persistent_memory_size == 0
    # What is computed from it is not foldable either; the bounds it is scaled by are.
    assert by_name["r/mul"].memory[0].total_bytes == 50 * 10 * 4
    assert by_name["r/sub"].memory[0].total_bytes == 0


def test_functional_control_flow_ops_appear_once_with_their_bodies_inside():
    from tfmini.ops import control_flow_ops

    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        _, doubled = control_flow_ops.while_loop(lambda i, v: i < 5, lambda i, v: (i + 1, v * 2.0),
                                                 [tf.constant(0), x], name="loop")
        picked = control_flow_ops.cond(tf.reduce_sum(x) > 0, lambda: x * 3.0, lambda: x - 1.0, name="pick")
    with tf.Session(graph=g) as sess:
        (loop_out, pick_out), md = _traced(sess, [doubled, picked], {x: np.ones(4, np.float32)})
        plan = sess._engine.compile((doubled, picked), (x,), ()).plan
    np.testing.assert_array_equal(loop_out, np.full(4, 32.0, np.float32))
    np.testing.assert_array_equal(pick_out, np.full(4, 3.0, np.float32))
    names = [ns.node_name for ns in _nodes(md)]
    assert names == [op.name for op in plan.ops]
    types = {ns.node_name: ns.timeline_label.split(" = ")[1].split("(")[0] for ns in _nodes(md)}
    assert sorted(t for t in types.values() if t in ("While", "If")) == ["If", "While"]
    assert not {"Mul", "Less"} & set(types.values())  # the bodies' ops run inside, unrecorded
    loop = next(ns for ns in _nodes(md) if types[ns.node_name] == "While")
    assert [o.tensor_description.allocation_description.requested_bytes for o in loop.output][:2] == [4, 16]


# ----------------------------------------------------------------------------------------------------------
# Cost graph and partition graphs
# ----------------------------------------------------------------------------------------------------------
def test_cost_graph_has_a_node_per_op_with_its_cost_sizes_and_edges():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        _, md = _traced(sess, loss, {x: _feed()})
    stats = {ns.node_name: ns for ns in _nodes(md)}
    nodes = {n.name: n for n in md.cost_graph.node}
    assert list(nodes) == [ns.node_name for ns in _nodes(md)]
    by_id = {n.id: n.name for n in md.cost_graph.node}
    for name, node in nodes.items():
        ns = stats[name]
        assert node.device == executor.DEVICE_NAME
        assert abs(node.compute_cost - ns.all_end_rel_nanos / 1000) <= 1
        assert [o.size for o in node.output_info] == [
            o.tensor_description.allocation_description.requested_bytes for o in ns.output]
        assert [tuple(d.size for d in o.shape.dim) for o in node.output_info] == [
            tuple(d.size for d in o.tensor_description.shape.dim) for o in ns.output]
        op = g.get_operation_by_name(name)
        assert [(by_id[i.preceding_node], i.preceding_port) for i in node.input_info] == [
            (t.op.name, t.value_index) for t in op.inputs if t.op.name in nodes]
    assert nodes["h2"].output_info[0].alias_input_port == 0  # Identity hands its input on
    assert nodes["MatMul"].output_info[0].alias_input_port == -1
    assert [n.name for n in md.cost_graph.node if n.is_final] == ["loss"]


def test_partition_graphs_hold_the_ops_that_ran_even_without_tracing():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        md = tf.RunMetadata()
        sess.run(loss, {x: _feed()}, options=tf.RunOptions(output_partition_graphs=True), run_metadata=md)
        plan = sess._engine.compile((loss,), (x,), ()).plan
    assert not md.step_stats.dev_stats
    (gd,) = md.partition_graphs
    assert [n.name for n in gd.node] == [op.name for op in plan.ops]
    assert {n.device for n in gd.node} == {executor.DEVICE_NAME}
    assert next(n for n in gd.node if n.name == "MatMul").input == ["x", "w"]


def test_a_second_traced_run_replaces_the_metadata():
    g, x, loss = _mlp()
    with tf.Session(graph=g) as sess:
        md = tf.RunMetadata()
        for _ in range(2):
            sess.run(loss, {x: _feed()}, options=FULL, run_metadata=md)
    assert len(md.step_stats.dev_stats) == 1
    assert len(md.cost_graph.node) == len(md.step_stats.dev_stats[0].node_stats)


def test_a_failing_traced_run_raises_leaves_the_metadata_and_the_session_usable():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None, None], name="a")
        b = tf.placeholder(tf.float32, [None, None], name="b")
        p = tf.matmul(a, b, name="p")
    with tf.Session(graph=g) as sess:
        md = tf.RunMetadata()
        md.step_stats.dev_stats.add(device="earlier")
        with pytest.raises(tf.errors.InvalidArgumentError, match="p"):
            sess.run(p, {a: np.ones((2, 3)), b: np.ones((4, 2))}, options=FULL, run_metadata=md)
        assert [d.device for d in md.step_stats.dev_stats] == ["earlier"]
        out = sess.run(p, {a: np.ones((2, 3)), b: np.ones((3, 2))}, options=FULL, run_metadata=md)
    np.testing.assert_array_equal(out, np.full((2, 2), 3.0))
    assert [ns.node_name for ns in _nodes(md)] == ["p"]


# ----------------------------------------------------------------------------------------------------------
# Timeouts
# ----------------------------------------------------------------------------------------------------------
def _long_chain(n=2000):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [300, 300], name="x")
        v = x
        for _ in range(n):
            v = tf.add(v, x)
    return g, x, v


def test_timeout_ends_a_long_run_with_deadline_exceeded_and_the_session_stays_usable():
    g, x, v = _long_chain()
    feed = {x: np.ones((300, 300), np.float32)}
    with tf.Session(graph=g) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError, match="Timed out"):
            sess.run(v, feed, options=tf.RunOptions(timeout_in_ms=1))
        out = sess.run(v, feed)
        generous = sess.run(v, feed, options=tf.RunOptions(timeout_in_ms=600_000))
    np.testing.assert_array_equal(out, np.full((300, 300), 2001.0, np.float32))
    np.testing.assert_array_equal(generous, out)


def test_timeout_applies_to_traced_runs_and_leaves_their_metadata_alone():
    g, x, v = _long_chain()
    with tf.Session(graph=g) as sess:
        md = tf.RunMetadata()
        opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, timeout_in_ms=1)
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(v, {x: np.ones((300, 300), np.float32)}, options=opts, run_metadata=md)
    assert not md.step_stats.dev_stats


def test_config_operation_timeout_is_the_default_deadline():
    g, x, v = _long_chain()
    config = tf.ConfigProto(operation_timeout_in_ms=1)
    with tf.Session(graph=g, config=config) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(v, {x: np.ones((300, 300), np.float32)})
