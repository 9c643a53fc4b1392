"""tf.graph_util: freezing variables into constants (whitelist, blacklist), extract_sub_graph,
remove_training_nodes, must_run_on_cpu, tensor_shape_from_node_def_name, and a frozen GraphDef recorded by
TensorFlow running here with its recorded outputs."""

from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import graph_pb2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "meta_graphs"


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _model():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
    b = tf.Variable([0.5, -0.5], name="b")
    y = tf.nn.relu(tf.matmul(x, w) + b, name="y")
    tf.identity(y * 2.0, name="unused")
    return x, w, b, y


def _run_graph_def(graph_def, fetch, feeds):
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            return sess.run(fetch, feeds)


def test_convert_variables_to_constants_freezes_the_values_in_the_session():
    x, w, b, y = _model()
    feed = np.array([[1.0, -1.0], [0.5, 2.0]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign_add(tf.ones([2, 2])))
        expected = sess.run(y, {x: feed})
        graph_def = sess.graph.as_graph_def()
        frozen = tf.graph_util.convert_variables_to_constants(sess, graph_def, ["y"])
    ops = {nd.name: nd.op for nd in frozen.node}
    assert ops["w"] == "Const" and ops["b"] == "Const"
    assert "unused" not in ops and "w/Assign" not in ops and "init" not in ops
    assert not any(op in ("VariableV2", "Assign") for op in ops.values())
    np.testing.assert_array_equal(tf.make_ndarray(next(nd for nd in frozen.node if nd.name == "w")
                                                  .attr["value"].tensor), [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(_run_graph_def(frozen, "y:0", {"x:0": feed}), expected)
    # the GraphDef given is left as it was
    assert any(nd.op == "VariableV2" for nd in graph_def.node)


def test_whitelist_and_blacklist_choose_the_variables():
    x, w, b, y = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gd = sess.graph.as_graph_def()
        only_w = tf.graph_util.convert_variables_to_constants(sess, gd, ["y"], variable_names_whitelist=["w"])
        not_w = tf.graph_util.convert_variables_to_constants(sess, gd, ["y"], variable_names_blacklist=["w"])
    assert {nd.name: nd.op for nd in only_w.node}["b"] == "VariableV2"
    assert {nd.name: nd.op for nd in only_w.node}["w"] == "Const"
    assert {nd.name: nd.op for nd in not_w.node}["w"] == "VariableV2"
    assert {nd.name: nd.op for nd in not_w.node}["b"] == "Const"


def test_freezing_an_uninitialized_variable_fails_in_the_session():
    _model()
    with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError):
        tf.graph_util.convert_variables_to_constants(sess, sess.graph.as_graph_def(), ["y"])


def test_extract_sub_graph_keeps_dependencies_in_order():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([b]):
        c = tf.identity(a, name="c")
    tf.add(c, 1.0, name="d")
    tf.constant(3.0, name="e")
    gd = tf.get_default_graph().as_graph_def()
    sub = tf.graph_util.extract_sub_graph(gd, ["c"])
    assert [nd.name for nd in sub.node] == ["a", "b", "c"]
    assert sub.versions == gd.versions
    with pytest.raises(TypeError, match="must be a list"):
        tf.graph_util.extract_sub_graph(gd, "c")
    with pytest.raises(TypeError, match="GraphDef"):
        tf.graph_util.extract_sub_graph("not a graph", ["c"])
    with pytest.raises(AssertionError, match="zz is not in graph"):
        tf.graph_util.extract_sub_graph(gd, ["zz"])


def test_remove_training_nodes_splices_identities_and_check_numerics():
    x = tf.placeholder(tf.float32, [2], name="x")
    i1 = tf.identity(x, name="id1")
    i2 = tf.identity(i1, name="id2")
    checked = tf.debugging.check_numerics(i2, "bad", name="check")
    kept = tf.identity(checked, name="kept")
    tf.multiply(kept, 3.0, name="out")
    with tf.control_dependencies([kept]):
        tf.identity(x, name="ctl")
    gd = tf.get_default_graph().as_graph_def()
    cleaned = tf.graph_util.remove_training_nodes(gd, protected_nodes=["ctl"])
    by_name = {nd.name: nd for nd in cleaned.node}
    assert "id1" not in by_name and "id2" not in by_name and "check" not in by_name
    # 'kept' is used as a control input, 'ctl' is protected: both stay
    assert "kept" in by_name and "ctl" in by_name
    assert list(by_name["kept"].input) == ["x"]
    np.testing.assert_array_equal(_run_graph_def(cleaned, "out:0", {"x:0": [1.0, 2.0]}), [3.0, 6.0])


def test_must_run_on_cpu():
    c32 = tf.constant(1, name="c32")
    cf = tf.constant(1.0, name="cf")
    cs = tf.constant("s", name="cs")
    cast = tf.cast(c32, tf.float32, name="cast")
    v = tf.Variable(1.0, name="v")
    assert tf.graph_util.must_run_on_cpu(c32.op)
    assert tf.graph_util.must_run_on_cpu(cs.op.node_def)
    assert not tf.graph_util.must_run_on_cpu(cf.op)
    assert tf.graph_util.must_run_on_cpu(cast.op)
    assert not tf.graph_util.must_run_on_cpu(v.op)
    assert tf.graph_util.must_run_on_cpu(v.op, pin_variables_on_cpu=True)


def test_tensor_shape_from_node_def_name_and_import_alias():
    tf.placeholder(tf.float32, [None, 4], name="p")
    g = tf.get_default_graph()
    assert tf.graph_util.tensor_shape_from_node_def_name(g, "p").as_list() == [None, 4]
    assert tf.graph_util.tensor_shape_from_node_def_name(g, "p:0").as_list() == [None, 4]
    assert tf.graph_util.import_graph_def is tf.import_graph_def


def test_frozen_graph_written_by_tensorflow_runs_with_its_outputs():
    expected = np.load(FIXTURES / "expected.npz")
    gd = graph_pb2.GraphDef()
    gd.ParseFromString((FIXTURES / "frozen.pb").read_bytes())
    assert {nd.op for nd in gd.node} >= {"Const", "MatMul", "Relu", "Softmax", "Placeholder"}
    got = _run_graph_def(gd, "probs:0", {"x:0": expected["x"]})
    np.testing.assert_allclose(got, expected["probs_saved"], rtol=1e-6)


def test_freezing_the_tensorflow_model_here_matches_tensorflows_frozen_graph():
    expected = np.load(FIXTURES / "expected.npz")
    saver = tf.train.import_meta_graph(str(FIXTURES / "model.ckpt-1.meta"))
    with tf.Session() as sess:
        saver.restore(sess, str(FIXTURES / "model.ckpt-1"))
        frozen = tf.graph_util.convert_variables_to_constants(sess, sess.graph.as_graph_def(), ["probs"])
    theirs = graph_pb2.GraphDef()
    theirs.ParseFromString((FIXTURES / "frozen.pb").read_bytes())
    assert sorted(nd.name for nd in frozen.node) == sorted(nd.name for nd in theirs.node)
    consts = {nd.name: tf.make_ndarray(nd.attr["value"].tensor) for nd in theirs.node if nd.op == "Const"}
    for nd in frozen.node:
        if nd.name in ("w", "b"):
            np.testing.assert_array_equal(tf.make_ndarray(nd.attr["value"].tensor), consts[nd.name])
    got = _run_graph_def(frozen, "probs:0", {"x:0": expected["x"]})
    np.testing.assert_allclose(got, expected["probs_saved"], rtol=1e-6)


def test_resource_variables_freeze_into_constants_read_by_identities_and_gathers():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.Variable([[1.0], [2.0]], name="w", use_resource=True)
        table = tf.get_variable("table", initializer=tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
                                use_resource=True)
        rows = table.sparse_read([2, 0], name="rows")
        out = tf.add(tf.matmul(x, w), tf.reduce_sum(rows), name="out")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign([[3.0], [4.0]]))
            feed = {x: [[1.0, 1.0]]}
            expected = sess.run(out, feed)
            frozen = tf.graph_util.convert_variables_to_constants(sess, sess.graph_def, ["out"])
    ops = {nd.name: nd.op for nd in frozen.node}
    assert ops["w"] == "Const" and ops["table"] == "Const" and ops["rows"] == "GatherV2"
    assert "VarHandleOp" not in ops.values() and "ReadVariableOp" not in ops.values()
    with tf.Graph().as_default():
        y, = tf.import_graph_def(frozen, return_elements=["out:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {"x:0": [[1.0, 1.0]]}), expected)
    assert expected.tolist() == [[7.0 + 14.0]]
