"""tf.Session / tf.InteractiveSession lifetime: constructor arguments, graph / graph_def / sess_str, default
sessions (thread-local, as_default not closing, not changing the default graph), close, with-blocks, and
Tensor.eval / Operation.run through the default session."""

import threading
import warnings

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import ops as framework_ops
from tfmini.protobuf import config_pb2, graph_pb2


@pytest.fixture(autouse=True)
def _fresh_default_graph_and_no_default_session():
    tf.reset_default_graph()
    yield
    # Nothing a test does may leave a default session behind for the next one.
    assert tf.get_default_session() is None
    tf.reset_default_graph()


# ----------------------------------------------------------------------------------------------------------
# Constructor and properties
# ----------------------------------------------------------------------------------------------------------
def test_session_launches_the_default_graph():
    c = tf.constant(1.0)
    sess = tf.Session()
    assert sess.graph is tf.get_default_graph()
    assert sess.run(c) == 1.0
    sess.close()


def test_session_launches_an_explicit_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(2.0)
    sess = tf.Session(graph=g)
    assert sess.graph is g
    assert sess.run(c) == 2.0
    sess.close()


def test_one_graph_can_be_used_by_several_sessions():
    c = tf.constant(3.0)
    s1, s2 = tf.Session(), tf.Session()
    assert s1.run(c) == s2.run(c) == 3.0
    s1.close()
    assert s2.run(c) == 3.0
    s2.close()


def test_target_and_sess_str():
    tf.constant(1)
    assert tf.Session().sess_str == ""
    assert tf.Session(target=b"").sess_str == ""
    with pytest.raises(tf.errors.NotFoundError, match="No session factory registered") as info:
        tf.Session(target="foo://localhost:2222")
    assert info.value.error_code == tf.errors.NOT_FOUND
    with pytest.raises(TypeError):
        tf.Session(target=3)


def test_graph_argument_must_be_a_graph():
    with pytest.raises(TypeError, match="graph must be a tf.Graph"):
        tf.Session(graph=tf.get_default_graph().as_graph_def())
    with pytest.raises(TypeError):
        tf.InteractiveSession(graph="not a graph")


def test_config_argument_must_be_a_config_proto():
    tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=1000)).close()
    with pytest.raises(TypeError, match="config must be a tf.ConfigProto"):
        tf.Session(config={"operation_timeout_in_ms": 1000})
    with pytest.raises(TypeError):
        tf.Session(config=tf.RunOptions())


def test_graph_def_is_a_graph_def_of_all_operations():
    a = tf.constant(1.0, name="a")
    b = tf.add(a, 2.0, name="b")
    sess = tf.Session()
    gd = sess.graph_def
    assert isinstance(gd, graph_pb2.GraphDef) and isinstance(gd, tf.GraphDef)
    assert [n.name for n in gd.node] == ["a", "b/y", "b"]
    assert gd == tf.get_default_graph().as_graph_def()
    assert {n.name: n.op for n in gd.node}["b"] == "Add"
    assert b.op.name == "b"
    # graph_def reflects ops added after the session was created
    tf.constant(0, name="late")
    assert "late" in [n.name for n in sess.graph_def.node]
    sess.close()


def test_protos_are_importable_from_tf():
    assert tf.GraphDef is graph_pb2.GraphDef
    assert tf.ConfigProto is config_pb2.ConfigProto
    assert tf.RunOptions is config_pb2.RunOptions
    assert tf.RunMetadata is config_pb2.RunMetadata
    assert tf.RunOptions.FULL_TRACE == 3 and tf.RunOptions.NO_TRACE == 0
    assert tf.RunOptions(timeout_in_ms=5).timeout_in_ms == 5


# ----------------------------------------------------------------------------------------------------------
# Default session
# ----------------------------------------------------------------------------------------------------------
def test_as_default_installs_the_session_and_does_not_close_it():
    c = tf.constant(4.0)
    sess = tf.Session()
    assert tf.get_default_session() is None
    with sess.as_default() as entered:
        assert entered is sess
        assert tf.get_default_session() is sess
        assert c.eval() == 4.0
    assert tf.get_default_session() is None
    with sess.as_default():  # entering again works: the session is still open
        assert c.eval() == 4.0
    assert sess.run(c) == 4.0
    sess.close()


def test_as_default_nests():
    tf.constant(1)
    s1, s2 = tf.Session(), tf.Session()
    with s1.as_default():
        with s2.as_default():
            assert tf.get_default_session() is s2
        assert tf.get_default_session() is s1
    s1.close()
    s2.close()


def test_as_default_does_not_change_the_default_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(5.0)
    sess = tf.Session(graph=g)
    with sess.as_default():
        assert tf.get_default_graph() is not g
        assert c.eval() == 5.0  # eval uses c's graph, which is the session's
        d = tf.constant(1.0)  # goes to the default graph, not the session's
        with pytest.raises(ValueError, match="graph is different"):
            d.eval()
        with sess.graph.as_default():
            assert tf.get_default_graph() is g
    sess.close()


def test_default_session_is_thread_local():
    c = tf.constant(6.0)
    sess = tf.Session()
    seen = {}

    def worker():
        seen["before"] = tf.get_default_session()
        with sess.as_default():
            seen["inside"] = tf.get_default_session()
            seen["value"] = c.eval()

    with sess.as_default():
        t = threading.Thread(target=worker)
        t.start()
        t.join(5)
    assert seen["before"] is None  # the other thread does not see this thread's default session
    assert seen["inside"] is sess and seen["value"] == 6.0
    sess.close()


def test_with_session_is_default_session_and_default_graph_and_closes():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(7.0)
    sess = tf.Session(graph=g)
    with sess as entered:
        assert entered is sess
        assert tf.get_default_session() is sess
        assert tf.get_default_graph() is g  # a with-block also makes sess.graph the default graph
        assert c.eval() == 7.0
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(c)


def test_with_session_closes_on_exception():
    c = tf.constant(1.0)
    sess = tf.Session()
    with pytest.raises(KeyError):
        with sess:
            raise KeyError("boom")
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(c)


def test_session_context_manager_is_not_reentrant():
    tf.constant(1.0)
    sess = tf.Session()
    with sess:
        with pytest.raises(RuntimeError, match="not re-entrant"):
            with sess:
                pass
        assert tf.get_default_session() is sess


def test_close_is_idempotent_and_closed_session_raises_runtime_error():
    c = tf.constant(1.0)
    p = tf.placeholder(tf.float32)
    sess = tf.Session()
    sess.close()
    sess.close()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session"):
        sess.run(c)
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session"):
        sess.partial_run_setup([c], [p])
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session"):
        sess.partial_run("0;partial_run", c)
    with sess.as_default():
        with pytest.raises(RuntimeError, match="closed"):
            c.eval()


def test_partial_run_handle_of_a_session_closed_afterwards_raises_runtime_error():
    a = tf.placeholder(tf.float32)
    r = a + 1.0
    sess = tf.Session()
    h = sess.partial_run_setup([r], [a])
    sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        sess.partial_run(h, r, {a: 1.0})


def test_empty_graph_cannot_be_run():
    g = tf.Graph()
    with tf.Session(graph=g) as sess:
        with pytest.raises(RuntimeError, match="graph is empty"):
            sess.run([])


def test_two_sessions_have_separate_state():
    c = tf.constant(8.0)
    s1, s2 = tf.Session(), tf.Session()
    h = s1.run(tf.get_session_handle(c))
    holder, reader = tf.get_session_tensor(h.handle, tf.float32)
    assert s1.run(reader, {holder: h.handle}) == 8.0
    with pytest.raises(tf.errors.InvalidArgumentError):
        s2.run(reader, {holder: h.handle})
    s1.close()
    s2.close()


def test_session_reset_checks_the_target_and_keeps_each_sessions_own_state():
    v = tf.Variable(3.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        tf.Session.reset("")
        assert sess.run(v) == 3.0
    with pytest.raises(tf.errors.NotFoundError, match="No session factory registered"):
        tf.Session.reset("foo://nowhere:2222")


# ----------------------------------------------------------------------------------------------------------
# InteractiveSession
# ----------------------------------------------------------------------------------------------------------
def test_interactive_session_installs_itself_as_default():
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    sess = tf.InteractiveSession()
    try:
        assert tf.get_default_session() is sess
        assert c.eval() == 30.0
        assert c.op.run() is None
        assert tf.get_default_graph() is sess.graph
    finally:
        sess.close()
    assert tf.get_default_session() is None
    with pytest.raises(ValueError, match="No default session"):
        c.eval()


def test_interactive_session_with_explicit_graph_makes_it_default_until_closed():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(2.0)
    outer = tf.get_default_graph()
    sess = tf.InteractiveSession(graph=g)
    assert tf.get_default_graph() is g
    assert c.eval() == 2.0
    sess.close()
    assert tf.get_default_graph() is outer


def test_second_interactive_session_warns():
    tf.constant(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s1 = tf.InteractiveSession()
        assert not caught
        s2 = tf.InteractiveSession()
        assert len(caught) == 1
        assert issubclass(caught[0].category, UserWarning)
        assert "An interactive session is already active" in str(caught[0].message)
        assert tf.get_default_session() is s2
        s2.close()
        assert tf.get_default_session() is s1
        s1.close()
        s3 = tf.InteractiveSession()  # none active any more: no warning
        s3.close()
        assert len(caught) == 1


def test_interactive_session_close_is_idempotent_and_usable_with_a_with_block():
    c = tf.constant(1.0)
    sess = tf.InteractiveSession()
    sess.close()
    sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(c)
    with tf.InteractiveSession() as s:
        assert tf.get_default_session() is s
        assert c.eval() == 1.0
    assert tf.get_default_session() is None


def test_interactive_session_closed_out_of_order():
    tf.constant(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s1 = tf.InteractiveSession()
        s2 = tf.InteractiveSession()
        s1.close()
        assert tf.get_default_session() is s2
        s2.close()


def test_interactive_session_config_and_graph_def():
    c = tf.constant(1.0, name="only")
    sess = tf.InteractiveSession(config=tf.ConfigProto())
    assert [n.name for n in sess.graph_def.node] == ["only"]
    assert sess.sess_str == ""
    assert c.eval() == 1.0
    sess.close()


# ----------------------------------------------------------------------------------------------------------
# eval / run through the default session
# ----------------------------------------------------------------------------------------------------------
def test_eval_and_run_accept_feed_dict_and_explicit_session():
    p = tf.placeholder(tf.float32, shape=[2])
    y = p * 3.0
    sess = tf.Session()
    np.testing.assert_array_equal(y.eval(feed_dict={p: [1.0, 2.0]}, session=sess), [3.0, 6.0])
    assert y.op.run(feed_dict={p: [1.0, 1.0]}, session=sess) is None
    with sess.as_default():
        np.testing.assert_array_equal(y.eval({p: [0.0, 1.0]}), [0.0, 3.0])
    sess.close()


def test_eval_raises_value_error_without_default_session():
    c = tf.constant(1.0)
    with pytest.raises(ValueError, match="Cannot evaluate tensor using `eval\\(\\)`: No default session"):
        c.eval()
    with pytest.raises(ValueError, match="Cannot execute operation using `run\\(\\)`: No default session"):
        c.op.run()


def test_sparse_tensor_eval():
    st = tf.SparseTensor(indices=[[0, 1]], values=[3.0], dense_shape=[2, 2])
    with tf.Session():
        v = st.eval()
    assert isinstance(v, tf.SparseTensorValue)
    np.testing.assert_array_equal(v.values, [3.0])


def test_default_session_stack_is_cleaned_up_when_as_default_blocks_exit_out_of_order():
    tf.constant(1)
    s1, s2 = tf.Session(), tf.Session()
    cm1, cm2 = s1.as_default(), s2.as_default()
    cm1.__enter__()
    cm2.__enter__()
    cm1.__exit__(None, None, None)
    assert tf.get_default_session() is s2
    cm2.__exit__(None, None, None)
    assert framework_ops.get_default_session() is None
    s1.close()
    s2.close()


def test_session_stays_usable_after_an_error():
    p = tf.placeholder(tf.float32)
    y = p + 1.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(y)
        with pytest.raises(ValueError):
            sess.run(y, {p: "not a number"})
        with pytest.raises(TypeError):
            sess.run(None)
        assert sess.run(y, {p: 1.0}) == 2.0


def test_make_callable_runs_fetches_with_positional_feeds():
    p = tf.placeholder(tf.float32, shape=[2])
    q = tf.placeholder(tf.float32, shape=[])
    y = p * q
    with tf.Session() as sess:
        f = sess.make_callable({"y": y, "sum": tf.reduce_sum(y)}, feed_list=[p, q])
        out = f([1.0, 2.0], 3.0)
        np.testing.assert_array_equal(out["y"], [3.0, 6.0])
        assert out["sum"] == 9.0
        with pytest.raises(ValueError):
            f([1.0, 2.0])
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            f([1.0], 3.0)
        g = sess.make_callable(y.op, feed_list=["Placeholder:0", q])
        assert g([0.0, 0.0], 1.0) is None
        md = tf.RunMetadata()
        traced = sess.make_callable(y, feed_list=[p, q], accept_options=True)
        np.testing.assert_array_equal(
            traced([1.0, 1.0], 2.0, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md),
            [2.0, 2.0])
        assert len(md.step_stats.dev_stats) == 1
    with pytest.raises(RuntimeError, match="closed"):
        f([1.0, 2.0], 3.0)


def test_make_callable_follows_graph_changes_made_after_it():
    p = tf.placeholder(tf.float32, shape=[2])
    v = tf.Variable([1.0, 1.0])
    y = p * v
    with tf.Session() as sess:
        sess.run(v.initializer)
        f = sess.make_callable([y, y.op], feed_list=[p])
        np.testing.assert_array_equal(f([2.0, 3.0])[0], [2.0, 3.0])
        assert f([2.0, 3.0])[1] is None
        sess.run(v.assign([10.0, 10.0]))  # grows the graph: the callable re-plans and sees the new value
        np.testing.assert_array_equal(f([2.0, 3.0])[0], [20.0, 30.0])
        tf.get_default_graph().prevent_fetching(y.op)
        with pytest.raises(ValueError, match="marked as not fetchable"):
            f([2.0, 3.0])


def test_make_callable_runs_with_a_deadline_when_the_session_has_an_operation_timeout(monkeypatch):
    from tfmini.client import tracing

    deadlines = []

    def run_plan(plan, feed_values, options, run_metadata, deadline):
        deadlines.append(deadline)
        return real_run_plan(plan, feed_values, options, run_metadata, deadline)

    real_run_plan = tracing.run_plan
    monkeypatch.setattr(tracing, "run_plan", run_plan)
    p = tf.placeholder(tf.float32, shape=[])
    y = p + 1.0
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=60000)) as sess:
        assert sess.make_callable(y, feed_list=[p])(1.0) == 2.0
    assert len(deadlines) == 1 and deadlines[0] is not None
