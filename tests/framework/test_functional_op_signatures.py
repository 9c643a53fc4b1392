"""An imported If or While must hold functions whose signatures fit the op (TensorFlow checks them when it
imports the GraphDef): a function taking or returning the wrong number or dtypes of tensors is a ValueError
naming the node and the function, not an error (or a silent wrong answer) when the graph runs."""

from __future__ import annotations

import pytest

import tfmini as tf
from tfmini.framework import dtypes


def _while_graph_def():
    """i < 3: i + 1 over a captured step, exported as a While whose cond and body are library functions."""
    with tf.Graph().as_default() as g:
        step = tf.constant(1, name="step")
        tf.while_loop(lambda i: i < 3, lambda i: i + step, [tf.constant(0, name="start")], name="loop")
    return g.as_graph_def()


def _cond_graph_def():
    with tf.Graph().as_default() as g:
        p = tf.placeholder(tf.bool, [], name="p")
        x = tf.constant(3.0, name="x")
        tf.cond(p, lambda: x * 2.0, lambda: tf.constant(-1.0), name="cd")
    return g.as_graph_def()


def _op_node(gd, op_type):
    return next(n for n in gd.node if n.op == op_type)


def _function(gd, attr, op_type):
    name = _op_node(gd, op_type).attr[attr].func.name
    return next(f for f in gd.library.function if f.signature.name == name)


def _refused(gd, *fragments: str) -> None:
    g = tf.Graph()
    with g.as_default(), pytest.raises(ValueError) as info:
        tf.import_graph_def(gd, name="imp")
    for fragment in fragments:
        assert fragment in str(info.value)
    assert not g.get_operations()


def _run(gd, fetch: str, feed: dict | None = None):
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="imp")
        with tf.Session(graph=g) as sess:
            return sess.run(g.get_tensor_by_name(f"imp/{fetch}"),
                            {g.get_tensor_by_name(f"imp/{k}"): v for k, v in (feed or {}).items()})


def test_the_unchanged_while_and_cond_graph_defs_import_and_run():
    gd = _while_graph_def()
    assert _run(gd, f"{_op_node(gd, 'While').name}:0") == 3
    gd = _cond_graph_def()
    assert _run(gd, f"{_op_node(gd, 'If').name}:0", {"p:0": True}) == 6.0


def test_a_while_body_missing_its_output_is_refused_naming_node_and_function():
    gd = _while_graph_def()
    body = _function(gd, "body", "While")
    del body.signature.output_arg[-1]
    _refused(gd, f"'{_op_node(gd, 'While').name}'", f"'{body.signature.name}'", "output")


def test_a_while_with_cond_and_body_swapped_is_refused():
    gd = _while_graph_def()
    node = _op_node(gd, "While")
    cond, body = node.attr["cond"].func.name, node.attr["body"].func.name
    node.attr["cond"].func.name, node.attr["body"].func.name = body, cond
    _refused(gd, f"'{node.name}'")


def test_a_while_cond_missing_an_input_is_refused_naming_the_function():
    gd = _while_graph_def()
    cond = _function(gd, "cond", "While")
    # The captured step is cond's last input; cond does not read it, so the body of the function still builds.
    del cond.signature.input_arg[-1]
    _refused(gd, f"'{_op_node(gd, 'While').name}'", f"'{cond.signature.name}'", "input")


def test_a_function_output_arg_whose_type_differs_from_its_return_value_is_refused():
    gd = _while_graph_def()
    body = _function(gd, "body", "While")
    body.signature.output_arg[0].type = dtypes.string.as_datatype_enum
    _refused(gd, f"'{body.signature.name}'", "string", "int32")


def test_a_while_whose_loop_var_types_disagree_with_its_inputs_is_refused():
    gd = _while_graph_def()
    node = _op_node(gd, "While")
    # Exported in TensorFlow's form (every input a loop variable, no Tout); tfmini's form names its loop
    # variables in Tout, and those must be the first inputs' types.
    assert "Tout" not in node.attr
    node.attr["Tout"].list.type.append(dtypes.float32.as_datatype_enum)
    _refused(gd, f"'{node.name}'", "Tout")


def test_a_while_without_tout_loops_over_every_input_as_tensorflow_writes_it():
    gd = _while_graph_def()
    node = _op_node(gd, "While")
    assert _run(gd, f"{node.name}:0") == 3
    # The captured step comes out unchanged, as the body passes it through.
    assert _run(gd, f"{node.name}:1") == 1


def test_a_while_cond_returning_two_values_is_refused():
    gd = _while_graph_def()
    cond = _function(gd, "cond", "While")
    extra = cond.signature.output_arg.add()
    extra.CopyFrom(cond.signature.output_arg[0])
    extra.name = "output_1"
    cond.ret["output_1"] = cond.ret["output_0"]
    _refused(gd, f"'{_op_node(gd, 'While').name}'", f"'{cond.signature.name}'", "one")


def test_an_if_branch_returning_another_dtype_than_tout_is_refused():
    gd = _cond_graph_def()
    node = _op_node(gd, "If")
    node.attr["Tout"].list.type[0] = dtypes.int32.as_datatype_enum
    _refused(gd, f"'{node.name}'", node.attr["then_branch"].func.name)


def test_an_if_branch_missing_an_input_is_refused():
    gd = _cond_graph_def()
    else_branch = _function(gd, "else_branch", "If")
    # Both branches take the captured x; the else branch does not read it, so it still builds without it.
    del else_branch.signature.input_arg[:]
    _refused(gd, f"'{_op_node(gd, 'If').name}'", f"'{else_branch.signature.name}'", "input")
