"""TF1 dataflow control flow (Switch, Merge, Enter, Exit, NextIteration, LoopCond) imported as functional While
and If: GraphDefs recorded from TensorFlow (tools/tf_fixtures/gen_control_flow_v1.py) import and give
TensorFlow's values, by the tensor names TensorFlow gave them; structures that cannot be rewritten are refused
with a ValueError naming the node."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import graph_util
from tfmini.framework.functionalize import CONTROL_FLOW_OPS, functionalize_graph_def
from tfmini.protobuf import graph_pb2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "control_flow_v1"
CASES = json.loads((FIXTURES / "cases.json").read_text())
FORWARD_CASES = sorted(name for name, entry in CASES.items() if "train" not in entry)


def _graph_def(name: str) -> graph_pb2.GraphDef:
    return graph_pb2.GraphDef.FromString((FIXTURES / f"{name}.pb").read_bytes())


def _values(name: str):
    return np.load(FIXTURES / f"{name}.npz")


def _check_runs(sess, name: str) -> None:
    entry, values = CASES[name], _values(name)
    for k, run in enumerate(entry["runs"]):
        feeds = {f: values[f"feed{k}/{f}"] for f in run["feeds"]}
        got = sess.run(entry["fetches"], feeds)
        for fetch, value in zip(entry["fetches"], got):
            expected = values[f"fetch{k}/{fetch}"]
            assert np.asarray(value).dtype == expected.dtype, (name, k, fetch)
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} run {k} {fetch}")


@pytest.mark.parametrize("name", FORWARD_CASES)
def test_tf_recorded_control_flow_imports_and_gives_tf_values(name):
    with tf.Graph().as_default():
        tf.import_graph_def(_graph_def(name), name="")
        with tf.Session() as sess:
            _check_runs(sess, name)


@pytest.mark.parametrize("name", FORWARD_CASES)
def test_rewrite_leaves_no_dataflow_control_flow_and_keeps_fetched_names(name):
    gd = _graph_def(name)
    out = functionalize_graph_def(gd)
    assert not [n.name for n in out.node if n.op in CONTROL_FLOW_OPS]
    for fn in out.library.function:
        assert not [n.name for n in fn.node_def if n.op in CONTROL_FLOW_OPS]
    names = {n.name for n in out.node}
    for fetch in CASES[name]["fetches"]:
        assert fetch.rpartition(":")[0] in names
    # The Defun case's loop and cond are in its function, which the graph calls.
    assert {n.op for n in out.node} & {"While", "If", "StatefulPartitionedCall"}
    # The caller's message is left as it was.
    assert gd == _graph_def(name)


def test_graph_def_without_control_flow_is_returned_unchanged():
    with tf.Graph().as_default() as g:
        tf.add(tf.constant(1.0), 2.0, name="a")
    gd = g.as_graph_def()
    assert functionalize_graph_def(gd) is gd


def test_loops_become_while_nodes_with_bodies_in_the_library():
    out = functionalize_graph_def(_graph_def("nested_while"))
    whiles = [n for n in out.node if n.op == "While"]
    assert len(whiles) == 1
    body = {f.signature.name: f for f in out.library.function}[whiles[0].attr["body"].func.name]
    # The inner loop is a While inside the outer loop's body.
    assert [n.op for n in body.node_def].count("While") == 1


def test_imported_loop_under_a_scope_with_input_map_and_return_elements():
    values = _values("invariants")
    x_value = values["feed0/x:0"]
    with tf.Graph().as_default():
        x = tf.constant(x_value)
        (h,) = tf.import_graph_def(_graph_def("invariants"), input_map={"x:0": x},
                                   return_elements=["while/Exit_1:0"], name="net")
        assert h.name == "net/while/Exit_1:0"
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(h), values["fetch0/while/Exit_1:0"], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(sess.run("net/while/Exit_1:0"), values["fetch0/while/Exit_1:0"],
                                       rtol=1e-5, atol=1e-6)


def test_imported_loop_is_differentiable_in_tfmini():
    values = _values("invariants")
    x_value = values["feed0/x:0"]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4, 3])
        (h,) = tf.import_graph_def(_graph_def("invariants"), input_map={"x:0": x}, return_elements=["while/Exit_1:0"])
        weights = np.random.RandomState(0).uniform(-1, 1, [4, 3]).astype(np.float32)
        loss = tf.reduce_sum(h * weights)
        (grad,) = tf.gradients(loss, [x])
        with tf.Session() as sess:
            g = sess.run(grad, {x: x_value})
            numeric = np.zeros_like(x_value)
            delta = 1e-2
            for idx in np.ndindex(*x_value.shape):
                up, down = x_value.copy(), x_value.copy()
                up[idx] += delta
                down[idx] -= delta
                numeric[idx] = (sess.run(loss, {x: up}) - sess.run(loss, {x: down})) / (2 * delta)
    np.testing.assert_allclose(g, numeric, rtol=2e-2, atol=2e-3)


def test_merge_value_index_output_stays_readable():
    gd = _graph_def("cond")
    index = gd.node.add(name="which", op="Identity", input=["cond/Merge:1"])
    index.attr["T"].type = tf.int32.as_datatype_enum
    values = _values("cond")
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            # Merge's second output is the index of the input that arrived: [false branch, true branch].
            assert sess.run("which:0", {"x:0": values["feed0/x:0"]}) == 1
            assert sess.run("which:0", {"x:0": values["feed1/x:0"]}) == 0
            np.testing.assert_allclose(sess.run("cond/Merge:0", {"x:0": values["feed1/x:0"]}),
                                       values["fetch1/cond/Merge:0"], rtol=1e-6)


def test_one_plan_runs_the_imported_loop_many_times():
    values = _values("while")
    with tf.Graph().as_default() as g:
        tf.import_graph_def(_graph_def("while"), name="")
        version = g.version
        with tf.Session() as sess:
            run = sess.make_callable(["while/Exit_1:0"], ["x:0", "n:0"])
            for _ in range(3):
                (acc,) = run(values["feed0/x:0"], values["feed0/n:0"])
                np.testing.assert_allclose(acc, values["fetch0/while/Exit_1:0"], rtol=1e-5, atol=1e-6)
        assert g.version == version


def test_training_graph_forward_part_runs_on_its_own():
    # The whole training graph (its gradient loop pops stacks) is replayed in test_functionalize_training.py.
    gd = _graph_def("while_gradient")
    values = _values("while_gradient")
    forward = graph_util.extract_sub_graph(gd, ["loss", "w/Assign"])
    with tf.Graph().as_default():
        tf.import_graph_def(forward, name="")
        with tf.Session() as sess:
            sess.run("w/Assign")
            y, loss = sess.run(["while/Exit_1:0", "loss:0"], {"x:0": values["feed0/x:0"]})
    np.testing.assert_allclose(y, values["fetch0/while/Exit_1:0"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, values["train_losses"][0], rtol=1e-5)


def test_loop_without_loop_cond_is_refused_naming_the_frame():
    gd = _graph_def("while")
    kept = [n for n in gd.node if n.op != "LoopCond"]
    del gd.node[:]
    gd.node.extend(kept)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="While loop 'while/while_context' has 0 LoopCond"):
        tf.import_graph_def(gd, name="")


def test_lone_switch_is_refused_naming_the_node():
    with tf.Graph().as_default() as g:
        tf.placeholder(tf.float32, [], name="x")
        tf.placeholder(tf.bool, [], name="p")
    gd = g.as_graph_def()
    sw = gd.node.add(name="sw", op="Switch", input=["x", "p"])
    sw.attr["T"].type = tf.float32.as_datatype_enum
    with tf.Graph().as_default(), pytest.raises(ValueError, match=r"Node 'sw' \(op 'Switch'\)"):
        tf.import_graph_def(gd, name="")


def test_unregistered_op_inside_a_loop_body_is_refused_naming_the_node():
    gd = _graph_def("while")
    for n in gd.node:
        if n.name == "while/mul":
            n.op = "NoSuchOp"
    with tf.Graph().as_default(), pytest.raises(ValueError, match="'NoSuchOp' in node 'while/mul'"):
        tf.import_graph_def(gd, name="")


@pytest.mark.parametrize("name", ["cond_in_while", "while_in_cond"])
def test_damaged_control_flow_is_refused_with_value_error(name):
    """Each control-flow node in turn loses its first input or is renamed away from its readers: the import
    either succeeds or raises ValueError (never another exception), and leaves the graph empty when it fails."""
    gd = _graph_def(name)
    for i, node in enumerate(gd.node):
        if node.op not in CONTROL_FLOW_OPS:
            continue
        for damage in ("drop_input", "rename"):
            broken = graph_pb2.GraphDef()
            broken.CopyFrom(gd)
            target = broken.node[i]
            if damage == "drop_input":
                del target.input[0]
            else:
                target.name = target.name + "_moved"
            with tf.Graph().as_default() as g:
                try:
                    tf.import_graph_def(broken, name="")
                except ValueError:
                    assert not g.get_operations()


def test_control_flow_inside_a_library_function_is_rewritten_and_computes_tf_values():
    gd = functionalize_graph_def(_graph_def("defun"))
    # The Defun call (op type: the function's name) becomes a StatefulPartitionedCall of the function.
    (call,) = [n for n in gd.node if n.op == "StatefulPartitionedCall"]
    fn = {f.signature.name: f for f in gd.library.function}[call.attr["f"].func.name]
    assert fn.signature.name.startswith("fn_")
    assert not [n.name for n in fn.node_def if n.op in CONTROL_FLOW_OPS]
    assert {"If", "While"} <= {n.op for n in fn.node_def}
    with tf.Graph().as_default():
        tf.import_graph_def(_graph_def("defun"), name="")
        with tf.Session() as sess:
            _check_runs(sess, "defun")


def test_tf1_meta_graph_with_loop_and_cond_restores_and_runs():
    meta = FIXTURES / "graph_meta"
    values = np.load(meta / "values.npz")
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(str(meta / "model.meta"))
        (z,) = tf.get_collection("outputs")
        assert z.name == "c/Merge:0"
        with tf.Session() as sess:
            saver.restore(sess, str(meta / "model"))
            np.testing.assert_allclose(sess.run(z, {"x:0": values["x"]}), values["z"], rtol=1e-6)
