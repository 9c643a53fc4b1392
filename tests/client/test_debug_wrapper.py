"""tfmini.debug: the debug wrapper session returns what the session returns, keeps a read-only copy of every
tensor of the step in execution order (checked against NumPy), answers DebugDumpDir's queries, applies TF's
has_inf_or_nan filter, keeps a failed step's tensors, and leaves the session's own runs untouched."""

from __future__ import annotations

import collections
import threading

import numpy as np
import pytest

import tfmini as tf
from tfmini import debug as tf_debug
from tfmini.client.executor import Plan


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def _model():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    with tf.name_scope("layer"):
        w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
        y = tf.matmul(x, w, name="y")
        z = tf.log(y, name="z")
    loss = tf.reduce_sum(z, name="loss")
    return x, w, y, z, loss


X_GOOD = np.array([[1.0, 0.5], [2.0, 1.0]], np.float32)
X_BAD = np.array([[1.0, -1.0], [2.0, 1.0]], np.float32)  # y[0, 0] = -2: log gives NaN


def _session(config=None):
    sess = tf.Session(config=config)
    sess.run(tf.global_variables_initializer())
    return sess


def test_run_returns_what_the_session_returns_for_any_fetch_structure(graph):
    x, w, y, z, loss = _model()
    sess = _session()
    debug = tf_debug.LocalDebugWrapperSession(sess)
    pair = collections.namedtuple("pair", "a b")
    fetches = {"loss": loss, "parts": [y, pair(z, w)], "op": tf.no_op(name="nop")}
    got = debug.run(fetches, feed_dict={x: X_GOOD})
    want = sess.run(fetches, feed_dict={x: X_GOOD})
    assert got["op"] is None and want["op"] is None
    np.testing.assert_array_equal(got["loss"], want["loss"])
    np.testing.assert_array_equal(got["parts"][0], want["parts"][0])
    assert isinstance(got["parts"][1], pair)
    np.testing.assert_array_equal(got["parts"][1].a, want["parts"][1].a)
    assert debug.run(loss, {x: X_GOOD}) == sess.run(loss, {x: X_GOOD})


def test_the_dump_holds_every_computed_tensor_in_execution_order_with_numpy_values(graph):
    x, w, y, z, loss = _model()
    debug = tf_debug.LocalDebugWrapperSession(_session())
    debug.run(loss, {x: X_GOOD})
    dump = debug.last_dump
    assert dump.node_names() == ["layer/w", "layer/w/read", "layer/y", "layer/z", "Const", "loss"]
    assert [d.watch_key for d in dump.dumped_tensor_data][2:4] == ["layer/y:0:DebugIdentity",
                                                                   "layer/z:0:DebugIdentity"]
    w_np = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    y_np = X_GOOD @ w_np
    np.testing.assert_allclose(dump.get_tensors("layer/y", 0, "DebugIdentity")[0], y_np, rtol=1e-6)
    np.testing.assert_allclose(dump.get_tensors("layer/z", 0, "DebugIdentity")[0], np.log(y_np), rtol=1e-6)
    np.testing.assert_allclose(dump.get_tensors("loss", 0, "DebugIdentity")[0], np.log(y_np).sum(), rtol=1e-6)
    datum = dump.watch_key_to_data("layer/z:0:DebugIdentity")[0]
    assert (datum.node_name, datum.output_slot, datum.debug_op, datum.tensor_name) == (
        "layer/z", 0, "DebugIdentity", "layer/z:0")
    assert datum.device_name == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert datum.dump_size_bytes == 16 and datum.file_path is None and datum.op_type == "Log"
    stamps = [d.timestamp for d in dump.dumped_tensor_data]
    assert stamps == sorted(stamps) and dump.t0 == stamps[0]
    assert dump.get_rel_timestamps("loss", 0, "DebugIdentity")[0] >= 0
    assert dump.size == 6 and dump.devices() == [datum.device_name]
    assert dump.run_fetches_info == ["loss:0"] and dump.run_feed_keys_info == ["x:0"]
    np.testing.assert_array_equal(dump.fed_tensors["x:0"], X_GOOD)


def test_dumped_values_are_read_only_copies_that_later_changes_do_not_reach(graph):
    x, w, y, z, loss = _model()
    sess = _session()
    debug = tf_debug.LocalDebugWrapperSession(sess)
    fed = X_GOOD.copy()
    debug.run(loss, {x: fed})
    dump = debug.last_dump
    before = dump.get_tensors("layer/w", 0, "DebugIdentity")[0].copy()
    sess.run(tf.assign_add(w, tf.ones([2, 2])))
    fed[:] = 100.0
    for datum in dump.dumped_tensor_data:
        value = datum.get_tensor()
        assert not value.flags.writeable
        with pytest.raises(ValueError):
            value[...] = 0
    np.testing.assert_array_equal(dump.get_tensors("layer/w", 0, "DebugIdentity")[0], before)
    np.testing.assert_array_equal(dump.fed_tensors["x:0"], X_GOOD)
    np.testing.assert_array_equal(sess.run(w), before + 1)  # the session's variable is untouched by the dump


def test_a_variable_updated_during_the_step_is_dumped_as_each_op_saw_it(graph):
    v = tf.Variable(1.0, name="v")
    before = tf.identity(v, name="before")
    with tf.control_dependencies([before]):
        update = tf.assign_add(v, 2.0, name="update")
    sess = _session()
    debug = tf_debug.LocalDebugWrapperSession(sess)
    debug.run([before, update])
    dump = debug.last_dump
    assert dump.get_tensors("before", 0, "DebugIdentity") == [1.0]
    assert dump.get_tensors("update", 0, "DebugIdentity") == [3.0]


@pytest.mark.parametrize(("value", "expected"), [
    (np.array([1.0, np.nan], np.float32), True),
    (np.array([1.0, -np.inf]), True),
    (np.array([np.complex64(1 + 1j), np.complex64(complex(0, np.inf))]), True),
    (np.float16(np.nan), True),
    (np.array([1.0, 2.0]), False),
    (np.array([1, 2], np.int32), False),
    (np.array([True]), False),
    (np.array([b"nan", b"inf"], object), False),
    (np.zeros((0,), np.float32), False),
    (tf_debug.InconvertibleTensor("v", initialized=False), False),
])
def test_has_inf_or_nan_as_tensorflow_defines_it(value, expected):
    assert tf_debug.has_inf_or_nan(None, value) is expected


def test_find_returns_matches_in_execution_order_with_first_n_and_excluded_names(graph):
    x, w, y, z, loss = _model()
    debug = tf_debug.LocalDebugWrapperSession(_session())
    debug.run(loss, {x: X_BAD})
    dump = debug.last_dump
    bad = dump.find(tf_debug.has_inf_or_nan)
    assert [d.node_name for d in bad] == ["layer/z", "loss"]
    assert [d.node_name for d in dump.find(tf_debug.has_inf_or_nan, first_n=1)] == ["layer/z"]
    assert [d.node_name for d in dump.find(tf_debug.has_inf_or_nan, exclude_node_names="layer/.*")] == ["loss"]
    assert [d.node_name for d in debug.find("has_inf_or_nan")] == ["layer/z", "loss"]
    assert dump.find(lambda datum, tensor: False) == []
    assert [name for name, _ in dump.input_values("layer/z")] == ["layer/y:0"]
    np.testing.assert_allclose(dump.input_values("layer/y")[0][1], X_BAD)  # a fed input: its fed value


def test_graph_queries_of_the_dump(graph):
    x, w, y, z, loss = _model()
    debug = tf_debug.LocalDebugWrapperSession(_session())
    debug.run(loss, {x: X_GOOD})
    dump = debug.last_dump
    assert dump.node_op_type("layer/y") == "MatMul"
    assert dump.node_inputs("layer/y") == ["x", "layer/w/read"]
    assert dump.node_recipients("layer/y") == ["layer/z"]
    assert dump.node_exists("loss") and not dump.node_exists("x")
    assert dump.debug_watch_keys("layer/z") == ["layer/z:0:DebugIdentity"]
    assert dump.watch_key_to_data("nope:0:DebugIdentity") == []
    assert "layer/w" in dump.transitive_inputs("loss") and "x" in dump.transitive_inputs("loss")
    file, line, _ = dump.node_traceback("layer/z:0")[0]
    assert file == __file__ and line == z.op.traceback[1]
    with pytest.raises(ValueError, match="no node named 'ghost'"):
        dump.node_op_type("ghost")
    with pytest.raises(tf_debug.WatchKeyDoesNotExistInDebugDumpDirError):
        dump.get_tensors("layer/z", 1, "DebugIdentity")


def test_a_failing_step_keeps_what_ran_before_it_and_the_session_stays_usable(graph):
    a = tf.placeholder(tf.float32, [None], name="a")
    doubled = tf.multiply(a, 2.0, name="doubled")
    bad = tf.reshape(doubled, [2, 2], name="bad")
    out = tf.identity(bad, name="out")
    sess = tf.Session()
    debug = tf_debug.LocalDebugWrapperSession(sess)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        debug.run(out, {a: [1.0, 2.0, 3.0]})
    dump = debug.last_dump
    assert dump.error is info.value and info.value.op.name == "bad"
    assert "doubled" in dump.node_names() and "bad" not in dump.node_names()
    np.testing.assert_array_equal(debug.run(out, {a: [1.0, 2.0, 3.0, 4.0]}), [[2.0, 4.0], [6.0, 8.0]])
    assert debug.last_dump.error is None and debug.run_call_count == 2


def test_an_uninitialized_variable_is_dumped_as_inconvertible(graph):
    v = tf.Variable(1.0, name="v")
    debug = tf_debug.LocalDebugWrapperSession(tf.Session())
    with pytest.raises(tf.errors.FailedPreconditionError):
        debug.run(v + 1.0)
    (datum,) = debug.last_dump.dumped_tensor_data
    assert not datum.get_tensor().initialized and not tf_debug.has_inf_or_nan(datum, datum.get_tensor())


def test_the_sessions_own_runs_never_take_the_step_loop(graph, monkeypatch):
    x, w, y, z, loss = _model()
    sess = _session()
    debug = tf_debug.LocalDebugWrapperSession(sess)
    debug.run(loss, {x: X_GOOD})  # compiles and caches the signature in the session's engine

    def refuse(*args, **kwargs):
        raise AssertionError("an untraced run took the step loop")

    monkeypatch.setattr(Plan, "run_steps", refuse)
    np.testing.assert_allclose(sess.run(loss, {x: X_GOOD}), debug.last_dump.get_tensors("loss", 0, "DebugIdentity")[0])


def test_traced_runs_fill_run_metadata_and_the_dump(graph):
    x, w, y, z, loss = _model()
    debug = tf_debug.LocalDebugWrapperSession(_session())
    md = tf.RunMetadata()
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)
    debug.run(loss, {x: X_GOOD}, options=options, run_metadata=md)
    traced = [n.node_name for n in md.step_stats.dev_stats[0].node_stats]
    assert traced == debug.last_dump.node_names()
    assert len(md.partition_graphs) == 1
    with pytest.raises(TypeError, match="RunOptions"):
        debug.run(loss, {x: X_GOOD}, options=md)


def test_the_parallel_engine_and_functional_control_flow(graph):
    i = tf.constant(0, name="i")
    looped = tf.while_loop(lambda i: i < 5, lambda i: i + 1, [i])
    chosen = tf.cond(looped > 3, lambda: tf.constant(1.0), lambda: tf.constant(2.0))
    sess = tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=2))
    debug = tf_debug.LocalDebugWrapperSession(sess)
    assert debug.run([looped, chosen]) == [5, 1.0]
    dump = debug.last_dump
    assert dump.get_tensors(looped.op.name, 0, "DebugIdentity") == [5]
    assert dump.node_op_type(chosen.op.name) in ("If", "StatelessIf")


def test_filters_callables_defaults_and_the_wrapper_contract(graph):
    x, w, y, z, loss = _model()
    sess = _session()
    debug = tf_debug.LocalDebugWrapperSession(sess)
    assert list(debug.tensor_filters) == ["has_inf_or_nan"]
    debug.add_tensor_filter("negative", lambda datum, t: isinstance(t, np.ndarray) and bool((t < 0).any()))
    with pytest.raises(ValueError, match="No run has been debugged"):
        debug.find("negative")
    run = debug.make_callable(loss, [x])
    assert np.isnan(run(X_BAD))
    assert [d.node_name for d in debug.find("negative")] == ["layer/y"]
    with pytest.raises(ValueError, match="no tensor filter named"):
        debug.find("missing")
    with pytest.raises(TypeError):
        debug.add_tensor_filter("bad", 3)
    with pytest.raises(NotImplementedError):
        debug.partial_run_setup([loss], [x])
    with debug.as_default():
        loss.eval({x: X_GOOD})
    assert debug.run_call_count == 2 and not np.isnan(debug.last_dump.get_tensors("loss", 0, "DebugIdentity")[0])
    assert debug.graph is sess.graph and debug.session is sess and debug.sess_str == ""
    with pytest.raises(TypeError, match="Expected type"):
        tf_debug.LocalDebugWrapperSession(object())
    with pytest.raises(ValueError, match="Invalid ui_type: 'tk'"):
        tf_debug.LocalDebugWrapperSession(sess, ui_type="tk")
    assert tf_debug.LocalCLIDebugWrapperSession is tf_debug.LocalDebugWrapperSession


def test_thread_name_filter_debugs_only_matching_threads(graph):
    x, w, y, z, loss = _model()
    debug = tf_debug.LocalDebugWrapperSession(_session(), thread_name_filter="worker")
    debug.run(loss, {x: X_GOOD})
    assert debug.last_dump is None and debug.run_call_count == 0
    worker = threading.Thread(target=debug.run, args=(loss, {x: X_GOOD}), name="worker-1")
    worker.start()
    worker.join()
    assert debug.last_dump is not None and debug.last_dump.node_names()[-1] == "loss"


def test_closing_the_wrapper_closes_the_session(graph):
    c = tf.constant(1.0)
    sess = tf.Session()
    with tf_debug.LocalDebugWrapperSession(sess) as debug:
        assert tf.get_default_session() is debug
        assert debug.run(c) == 1.0
    with pytest.raises(RuntimeError, match="closed Session"):
        debug.run(c)


def test_first_passing_dump_is_the_step_where_the_first_inf_appeared(graph):
    v = tf.Variable(2.0, name="v")
    logged = tf.log(v, name="logged")  # finite while v > 0, -inf at 0, nan below
    with tf.control_dependencies([logged]):
        step = tf.assign_sub(v, 1.0, name="step")
    debug = tf_debug.LocalDebugWrapperSession(_session())
    assert debug.first_passing_dump("has_inf_or_nan") is None
    for _ in range(4):
        debug.run([logged, step])
    first = debug.first_passing_dump("has_inf_or_nan")
    assert first.run_index == 3 and debug.last_dump.run_index == 4
    (datum,) = first.find(tf_debug.has_inf_or_nan)
    assert datum.node_name == "logged" and datum.get_tensor() == -np.inf
    debug.add_tensor_filter("has_inf_or_nan", tf_debug.has_inf_or_nan)  # registering again starts over
    assert debug.first_passing_dump("has_inf_or_nan") is None
    with pytest.raises(ValueError, match="no tensor filter named"):
        debug.first_passing_dump("other")


def _watched(options) -> list[tuple[str, int, list, list]]:
    return [(w.node_name, w.output_slot, list(w.debug_ops), list(w.debug_urls))
            for w in options.debug_options.debug_tensor_watch_opts]


def test_add_debug_tensor_watch_fills_the_run_options():
    options = tf.RunOptions()
    tf_debug.add_debug_tensor_watch(options, "foo/node_a", 1, debug_urls="file:///tmp/tfdbg_a", global_step=7)
    tf_debug.add_debug_tensor_watch(options, "foo/node_b", debug_ops=["DebugIdentity", "DebugNumericSummary"])
    assert _watched(options) == [("foo/node_a", 1, ["DebugIdentity"], ["file:///tmp/tfdbg_a"]),
                                 ("foo/node_b", 0, ["DebugIdentity", "DebugNumericSummary"], [])]


def test_watch_graph_selects_by_node_name_op_type_and_dtype(graph):
    a1 = tf.Variable([[1.0, 2.0]], name="a1")
    b = tf.Variable([[3.0], [4.0]], name="b")
    tf.matmul(a1, b, name="p1")
    tf.add(a1, a1, name="s2")
    options = tf.RunOptions()
    tf_debug.watch_graph(options, graph, node_name_regex_whitelist="([a-z]+1$)", op_type_regex_whitelist="(MatMul)")
    assert [w[0] for w in _watched(options)] == ["p1"]
    options = tf.RunOptions()
    tf_debug.watch_graph(options, graph, debug_urls="file:///tmp/tfdbg_1", tensor_dtype_regex_whitelist=".*_ref",
                         reset_disk_byte_usage=True)
    assert [w[0] for w in _watched(options)] == ["a1", "a1/Assign", "b", "b/Assign"]
    assert options.debug_options.reset_disk_byte_usage
    options = tf.RunOptions()
    tf_debug.watch_graph_with_blacklist(options, graph, node_name_regex_blacklist=".*/(initial_value|read)$",
                                        op_type_regex_blacklist="Assign|VariableV2")
    assert [w[0] for w in _watched(options)] == ["p1", "s2"]


def test_the_wrapper_dumps_only_the_watched_tensors(graph):
    x, w, y, z, loss = _model()
    debug = tf_debug.LocalDebugWrapperSession(_session())
    options = tf.RunOptions()
    tf_debug.watch_graph(options, graph, op_type_regex_whitelist="MatMul|Log")
    value = debug.run(loss, {x: X_GOOD}, options=options)
    np.testing.assert_allclose(value, np.log(X_GOOD @ np.array([[1, 2], [3, 4]], np.float32)).sum(), rtol=1e-6)
    assert debug.last_dump.node_names() == ["layer/y", "layer/z"]
    debug.run(loss, {x: X_GOOD})
    assert len(debug.last_dump.node_names()) == 6  # a run without watches dumps everything again
