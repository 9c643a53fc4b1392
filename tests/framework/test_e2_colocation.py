"""Colocation groups as TF records them: the `_class` attr (`[b'loc:@name']`) of ops made under
`tf.colocate_with` (nested, `ignore_existing`, a tf.device inside) or colocated implicitly (a ref update, a
variable's read), `Operation.colocation_groups()`, the attr in NodeDefs and GraphDefs, and the import of
GraphDefs carrying it (prefixed groups, colocation overriding a NodeDef's device). Compared with TensorFlow's
records (tools/tf_fixtures/gen_e2_colocation.py) for every node both graphs have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tfmini as tf

PROGRAMS = json.loads((Path(__file__).parents[1] / "fixtures" / "tf" / "e2_colocation" / "programs.json")
                      .read_text())


def _build(source: str) -> tuple[tf.Graph, dict]:
    graph, out = tf.Graph(), {}
    with graph.as_default():
        exec(source, {"tf": tf, "out": out})  # noqa: S102 - the recorded programs
    return graph, out


def _records(graph: tf.Graph) -> dict:
    """node name -> its device and colocation groups (None without a `_class` attr)."""
    return {nd.name: {"device": nd.device,
                      "class": [s.decode() for s in nd.attr["_class"].list.s] if "_class" in nd.attr else None}
            for nd in graph.as_graph_def().node}


# The nodes each program must have in common with TensorFlow's graph (tfmini's gradient functions build some
# gradients with other ops than TF's, so not every node has a counterpart).
_SHARED = {
    "scopes": None,  # all of them
    "import": None,
    "colocated_gradients": {"cg/MatMul_grad/MatMul", "cg/MatMul_grad/MatMul_1", "cg/hid_grad/ReluGrad",
                            "cg/add_grad/Sum", "cg/loss_grad/Reshape", "cg/grad_ys_0", "cg/Square_grad/Const",
                            "pg/MatMul_grad/MatMul", "pg/hid_grad/ReluGrad", "w/Assign", "w/read", "b/read"},
    "optimizer": {"gradients/MatMul_grad/MatMul_1", "gradients/loss_grad/Reshape", "gradients/Shape",
                  "train/update_w/ApplyGradientDescent", "train", "w/Assign", "w/read"},
    "adam_slots": {"w/Adam", "w/Adam/Assign", "w/Adam/Initializer/zeros", "w/Adam/read", "b/Adam_1/read",
                   "beta1_power", "beta2_power/Assign", "train/update_w/ApplyAdam", "train/update_b/ApplyAdam",
                   "train/Assign", "train/mul", "train", "train/value", "global_step/Assign", "global_step/read"},
}

# Nodes known to differ from TensorFlow's: a variable made from an initializer function (get_variable) is not
# in its own group, nor is its initializer (TF puts both in it); the gate of an op whose gradient function
# tfmini builds with other ops is colocated with those.
_KNOWN_DIFFERENT = {
    "adam_slots": {"global_step", "global_step/Initializer/zeros", "gradients/add_grad/tuple/control_dependency",
                   "gradients/add_grad/tuple/control_dependency_1"},
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_colocation_records_match_tensorflow(name):
    recorded = PROGRAMS[name]
    graph, out = _build(recorded["source"])
    mine = _records(graph)
    shared = set(mine) & set(recorded["nodes"]) - _KNOWN_DIFFERENT.get(name, set())
    required = set(recorded["nodes"]) if _SHARED[name] is None else _SHARED[name]
    assert required <= shared
    theirs = {n: {"device": recorded["nodes"][n]["device"], "class": recorded["nodes"][n]["class"]} for n in shared}
    assert {n: mine[n] for n in shared} == theirs
    assert out == recorded["out"]


def test_every_op_of_a_colocated_backward_pass_is_grouped_with_a_forward_op():
    graph, _ = _build(PROGRAMS["colocated_gradients"]["source"])
    forward = {"loss": "/job:worker/task:1", "Square": "/job:worker/task:1", "hid": "/job:worker/task:0",
               "add": "/job:worker/task:0", "MatMul": "/job:worker/task:0"}
    for op in graph.get_operations():
        if op.name.startswith("cg/"):
            group = op.get_attr("_class")
            assert len(group) == 1 and group[0].decode()[5:] in forward, op.name
            assert op.device == forward[group[0].decode()[5:]], op.name
        elif op.name.startswith("pg/"):
            assert op.device == "" and "_class" not in op.node_def.attr, op.name


def test_an_op_colocated_with_nothing_is_its_own_group():
    with tf.Graph().as_default():
        x = tf.constant(1.0, name="x")
        assert x.op.colocation_groups() == [b"loc:@x"]
        with pytest.raises(ValueError, match="has no attr named '_class'"):
            x.op.get_attr("_class")
        assert "_class" not in x.op.node_def.attr


def test_groups_are_bytes_sorted_and_shown_in_the_node_def():
    with tf.Graph().as_default():
        p = tf.constant(1.0, name="p")
        m = tf.constant(2.0, name="m")
        with tf.colocate_with(p), tf.colocate_with(m), tf.colocate_with(p):
            y = tf.identity(m, name="y")
        assert y.op.get_attr("_class") == [b"loc:@m", b"loc:@p"]
        assert list(y.op.node_def.attr["_class"].list.s) == [b"loc:@m", b"loc:@p"]
        assert 'loc:@m' in str(y.op)


def test_a_graph_def_round_trip_keeps_groups_and_devices():
    graph, _ = _build(PROGRAMS["scopes"]["source"])
    graph_def = graph.as_graph_def()
    with tf.Graph().as_default() as copy:
        tf.import_graph_def(graph_def, name="")
    before, after = _records(graph), _records(copy)
    assert before["b"]["device"] == "/job:ps/task:1"  # made under colocate_with(v) then (w): w's device
    # An import places an op with the first op of its groups that has a device, as TF's importer does (TF moves
    # b to v's device on a round trip too).
    assert after.pop("b") == {"device": "/job:ps/task:0", "class": ["loc:@v", "loc:@w"]}
    del before["b"]
    assert after == before
    assert copy.get_operation_by_name("b").colocation_groups() == [b"loc:@v", b"loc:@w"]


def test_an_import_with_an_input_map_keeps_the_groups_of_the_graph_def():
    with tf.Graph().as_default() as source:
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(1.0, name="v")
        x = tf.placeholder(tf.float32, name="x")
        with tf.colocate_with(v):
            tf.add(x, 1.0, name="y")
    with tf.Graph().as_default() as target:
        fed = tf.constant(3.0, name="fed")
        tf.import_graph_def(source.as_graph_def(), input_map={"x:0": fed}, name="m")
        y = target.get_operation_by_name("m/y")
        assert y.get_attr("_class") == [b"loc:@m/v"] and y.device == "/job:ps/task:0"
        assert fed.op.colocation_groups() == [b"loc:@fed"]


def test_a_tensorflow_graph_def_colocating_an_op_with_one_of_another_device_puts_it_there():
    graph_def = tf.GraphDef()
    for name, device in (("a", "/job:ps/task:0"), ("b", "/job:worker/task:0"), ("c", "")):
        node = graph_def.node.add(name=name, op="Const", device=device)
        node.attr["dtype"].type = tf.float32.as_datatype_enum
        node.attr["value"].tensor.dtype = tf.float32.as_datatype_enum
    graph_def.node[1].attr["_class"].list.s.append(b"loc:@a")
    graph_def.node[0].attr["_class"].list.s.append(b"loc:@c")  # a group whose op has no device: none
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="i")
        assert g.get_operation_by_name("i/b").device == "" and g.get_operation_by_name("i/a").device == ""
        assert g.get_operation_by_name("i/b").get_attr("_class") == [b"loc:@i/a"]


def test_colocating_with_a_variable_or_its_tensors_joins_the_variables_group():
    with tf.Graph().as_default():
        v = tf.Variable([1.0], name="v")
        r = tf.Variable(2.0, name="r", use_resource=True)
        for target in (v, v.op, v.value(), v.initializer, r):
            with tf.colocate_with(target):
                y = tf.identity(1.0)
            assert y.op.colocation_groups() == [b"loc:@r" if target is r else b"loc:@v"]
        assert v.initializer.colocation_groups() == [b"loc:@v"]
        assert v.value().op.colocation_groups() == [b"loc:@v"]
        assert tf.assign_sub(v, [1.0]).op.get_attr("_class") == [b"loc:@v"]


def test_import_under_colocate_with_puts_every_op_with_that_op():
    graph, _ = _build(PROGRAMS["import"]["source"])
    for op in graph.get_operations():
        if op.name.startswith("under/"):
            assert op.get_attr("_class") == [b"loc:@q"] and op.device == "/job:ps/task:1", op.name
