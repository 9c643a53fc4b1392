"""`%run_graph` and `%%run_graph` in a real InteractiveShell: every form and option, the returned values
against NumPy, what gets displayed, and failures shown as short messages instead of tracebacks."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from ext_helpers import run
from IPython.core.error import UsageError

import ipython_ext
import tfmini as tf
from ipython_ext import magics

GRAPH = """
a = tf.placeholder(tf.float32, [None, 3], name='a')
w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name='w')
with tf.name_scope('layer'):
    c = tf.matmul(a, w)
unrelated = tf.constant(7.0, name='unrelated')
"""
W = np.arange(6, dtype=np.float32).reshape(3, 2)


def _kinds(ran) -> list[str]:
    return [o["text/plain"].split(":", 1)[0] for o in ran.outputs]


def _no_traceback(ran) -> None:
    assert "Traceback" not in ran.stderr + ran.stdout
    assert ran.result.error_in_exec is None


# -- line magic -------------------------------------------------------------------------------------------
def test_line_magic_returns_the_plain_value_and_shows_it(ip):
    run(ip, GRAPH)
    ran = run(ip, "v = %run_graph c --feed a=[[1,2,3]]")
    v = ip.user_ns["v"]
    assert type(v) is np.ndarray
    np.testing.assert_allclose(v, np.array([[1, 2, 3]], np.float32) @ W)
    [shown] = ran.outputs
    assert "layer/MatMul:0: float32 (1, 2)" in shown["text/plain"]
    assert "min=16" in shown["text/plain"] and "max=22" in shown["text/plain"]
    assert "layer/MatMul:0" in shown["text/html"]


def test_line_magic_as_last_line_returns_the_value_to_out(ip):
    ran = run(ip, "%run_graph tf.constant([1, 2]) * 3")
    np.testing.assert_array_equal(ran.value, [3, 6])


def test_out_binds_the_value_in_the_line_form_too(ip):
    run(ip, "%run_graph tf.constant([1, 2]) --out got")
    np.testing.assert_array_equal(ip.user_ns["got"], [1, 2])


def test_fetch_by_name_string(ip):
    run(ip, GRAPH)
    ran = run(ip, "%run_graph 'w:0'")
    np.testing.assert_array_equal(ran.value, W)


def test_nested_fetch_structures_come_back_in_shape(ip):
    run(ip, GRAPH)
    ran = run(ip, "%run_graph {'w': w, 'pair': [unrelated, 'w:0']}")
    v = ran.value
    np.testing.assert_array_equal(v["w"], W)
    assert v["pair"][0] == 7.0
    np.testing.assert_array_equal(v["pair"][1], W)
    text = ran.outputs[0]["text/plain"]
    assert "['w'] w:0" in text and "['pair'][0] unrelated:0" in text and "['pair'][1] w:0" in text


def test_fetching_an_operation_returns_none_and_says_it_ran(ip):
    run(ip, "x = tf.constant(1.0)\ng = tf.group(x)")
    ran = run(ip, "%run_graph g")
    assert ran.value is None
    assert "an operation ran" in ran.outputs[0]["text/plain"]


def test_feeds_by_variable_name_by_tensor_name_and_with_spaces_in_brackets(ip):
    run(ip, GRAPH)
    x = np.array([[1.0, 0.5, -1.0]], np.float32)
    for feed in ("a=[[1.0, 0.5, -1.0]]", "a:0=np.array([[1.0, 0.5, -1.0]])"):
        ran = run(ip, f"%run_graph c --feed {feed}")
        np.testing.assert_allclose(ran.value, x @ W)
    run(ip, "name = 'a:0'")
    ran = run(ip, "%run_graph c --feed name=np.ones((1, 3))")
    np.testing.assert_allclose(ran.value, np.ones((1, 3)) @ W)


def test_bare_op_name_feed_means_its_first_output(ip):
    run(ip, "p = tf.placeholder(tf.int32, [], name='p')\nq = p * 2")
    del ip.user_ns["p"]
    assert run(ip, "%run_graph q --feed p=21").value == 42


def test_several_feeds(ip):
    run(ip, "x = tf.placeholder(tf.float32, [])\ny = tf.placeholder(tf.float32, [])\nz = x - y")
    assert run(ip, "%run_graph z --feed x=5 --feed y=1.5").value == 3.5


def test_session_option_runs_in_the_given_session(ip):
    run(ip, "g2 = tf.Graph()\nwith g2.as_default():\n    k = tf.constant(4.0) + 1\ns2 = tf.Session(graph=g2)")
    assert run(ip, "%run_graph k --session s2").value == 5.0


def test_session_option_rejects_a_non_session(ip):
    run(ip, "k = tf.constant(1.0)")
    ran = run(ip, "%run_graph k --session 3")
    assert "--session 3 is a int, not a tf.Session" in ran.stderr
    _no_traceback(ran)


def test_trace_shows_the_timeline_and_costliest_ops_and_keeps_the_trace(ip):
    run(ip, GRAPH)
    ran = run(ip, "%run_graph c --feed a=np.ones((4, 3)) --trace")
    assert _kinds(ran) == ["layer/MatMul", "Trace"]
    trace = ran.outputs[1]
    assert trace["image/svg+xml"].startswith("<svg")
    assert "Costliest ops" in trace["text/html"]
    assert "layer/MatMul" in trace["text/plain"]
    [md] = ipython_ext.trace_history()
    names = {n.node_name for d in md.step_stats.dev_stats for n in d.node_stats}
    assert names == {"w", "layer/MatMul"}


def test_graph_shows_only_the_subgraph_that_ran(ip):
    run(ip, GRAPH)
    ran = run(ip, "%run_graph c --feed a=np.ones((1, 3)) --graph")
    assert _kinds(ran)[1] == "Subgraph that ran"
    text = ran.outputs[1]["text/plain"]
    assert "a [fed] = Placeholder()" in text
    assert "layer/MatMul = MatMul(a:0, w:0)" in text
    assert "unrelated" not in text and "unrelated" not in ran.outputs[1]["text/html"]


def test_graph_max_nodes_collapses_scopes(ip):
    run(ip, GRAPH + "with tf.name_scope('head'):\n    out = tf.sigmoid(c) * 2.0 + 1.0")
    ran = run(ip, "%run_graph out --feed a=np.ones((1, 3)) --graph --max-nodes 4")
    assert "8 ops, 4 name scopes; 4 nodes drawn (scopes collapsed, max_nodes=4)" in ran.outputs[1]["text/plain"]


def test_help_comes_from_the_declaration(ip):
    doc = ip.find_line_magic("run_graph").__doc__
    for option in ("--feed NAME=EXPR", "--trace", "--graph", "--session EXPR", "--fresh", "--reset", "--interact"):
        assert option.split()[0] in doc
    assert doc.lstrip(": \n").startswith("%run_graph")


@pytest.mark.parametrize("line, message", [
    ("c --bogus", "unrecognized arguments"),
    ("", "needs FETCHES"),
    ("c --feed a", "NAME=EXPR"),
    ("c --fresh", "cell magic"),
    ("c --max-nodes many", "invalid int value"),
    ("c --out 1x", "variable name"),
])
def test_bad_options_raise_usage_error(ip, line, message):
    run(ip, GRAPH)
    with pytest.raises(UsageError, match=message):
        ip.run_line_magic("run_graph", line)


# -- cell magic -------------------------------------------------------------------------------------------
def test_cell_magic_builds_ops_and_fetches_the_last_expression(ip):
    ran = run(ip, "%%run_graph --out got\nx = tf.constant([1.0, 4.0])\ny = tf.sqrt(x)\ny * 10")
    assert ran.value is None  # shown once, not echoed again as Out[n]
    np.testing.assert_allclose(ip.user_ns["got"], [10.0, 20.0])
    assert isinstance(ip.user_ns["y"], tf.Tensor)
    assert ip.user_ns["y"].graph is tf.get_default_graph()
    assert "float32 (2,)" in ran.outputs[0]["text/plain"]


def test_cell_magic_with_feeds_trace_and_graph(ip):
    ran = run(ip, "%%run_graph --feed p=3 --trace --graph --out got\np = tf.placeholder(tf.int32, [])\np * p")
    assert ip.user_ns["got"] == 9
    assert _kinds(ran)[1:] == ["Trace", "Subgraph that ran"]


def test_cell_magic_runs_ipython_syntax_inside(ip):
    run(ip, "%%run_graph --out got\nn = 3\nvals = !echo 1\ntf.constant(n)")
    assert ip.user_ns["got"] == 3
    assert list(ip.user_ns["vals"]) == ["1"]


def test_fresh_builds_in_a_new_graph_and_leaves_the_default_alone(ip):
    run(ip, GRAPH)
    before = len(tf.get_default_graph().get_operations())
    run(ip, "%%run_graph --fresh --out got\nf = tf.constant(2.0)\nf * f")
    assert ip.user_ns["got"] == 4.0
    assert len(tf.get_default_graph().get_operations()) == before
    assert ip.user_ns["f"].graph is not tf.get_default_graph()
    assert run(ip, "%run_graph f + 1").value == 3.0  # the fresh graph's session is found again


def test_fresh_initializes_the_variables_of_its_new_graph(ip):
    run(ip, "%%run_graph --fresh --out got\nv = tf.Variable([1.0, 2.0])\nv * 3")
    np.testing.assert_allclose(ip.user_ns["got"], [3.0, 6.0])
    assert tf.global_variables() == []


def test_fresh_variable_initialization_failure_is_a_short_message(ip):
    ran = run(ip, "%%run_graph --fresh\np = tf.placeholder(tf.float32, [2])\nv = tf.Variable(p * 2.0)\nv")
    assert ran.stderr.startswith("initializing the cell's variables failed:\nInvalidArgumentError: ")
    assert "in op 'Placeholder' (Placeholder), created at line 2 of the cell" in ran.stderr
    _no_traceback(ran)


def test_fresh_variables_initialize_with_the_cell_feeds(ip):
    run(ip, "%%run_graph --fresh --feed p=[1.0, 2.0] --out got\np = tf.placeholder(tf.float32, [2])\n"
            "v = tf.Variable(p * 2.0)\nv + 1.0")
    np.testing.assert_allclose(ip.user_ns["got"], [3.0, 5.0])


def test_a_new_fresh_cell_closes_the_previous_fresh_session(ip):
    run(ip, "%%run_graph --fresh\nf1 = tf.constant(1.0)\nf1")
    run(ip, "%%run_graph --fresh\nf2 = tf.constant(2.0)\nf2")
    ran = run(ip, "%run_graph f1")
    assert ran.value is None
    assert "no open session runs" in ran.stderr


def test_cell_magic_rejects_fetches_on_its_line(ip):
    with pytest.raises(UsageError, match="FETCHES belong to the line magic"):
        ip.run_cell_magic("run_graph", "c", "tf.constant(1.0)")


def test_cell_without_a_final_expression_builds_and_says_so(ip):
    ran = run(ip, "%%run_graph\nz = tf.constant(1.0)")
    assert ran.value is None
    assert "no expression to fetch" in ran.stderr
    assert isinstance(ip.user_ns["z"], tf.Tensor)


# -- errors -----------------------------------------------------------------------------------------------
def test_op_error_in_a_cell_names_the_op_and_the_cell_line(ip):
    ran = run(ip, "%%run_graph --feed x=[1.0, 2.0, 3.0]\nx = tf.placeholder(tf.float32, [None])\n\n"
                  "bad = tf.reshape(x, [2])\nbad + 1")
    assert ran.value is None
    assert ran.outputs == []
    lines = ran.stderr.strip().splitlines()
    assert lines[0].startswith("InvalidArgumentError: ")
    assert "in op 'Reshape' (Reshape), created at line 4 of the cell" in lines[1]
    assert lines[2].strip() == "bad = tf.reshape(x, [2])"
    assert "[[node" not in ran.stderr
    _no_traceback(ran)


def test_op_error_for_an_op_from_an_earlier_cell_names_that_cell(ip):
    run(ip, "x = tf.placeholder(tf.float32, [None])")
    number = ip.execution_count
    run(ip, "# a comment\nbad = tf.reshape(x, [2])")
    ran = run(ip, "v = %run_graph bad --feed x=[1, 2, 3]")
    assert ip.user_ns["v"] is None
    assert f"created at line 2 of In[{number}]" in ran.stderr
    _no_traceback(ran)


def test_bad_feed_shape_is_a_short_message(ip):
    run(ip, GRAPH)
    ran = run(ip, "v = %run_graph c --feed a=[1, 2]")
    assert ip.user_ns["v"] is None
    assert ran.stderr.startswith("ValueError: Cannot feed value of shape (2,) for Tensor 'a:0'")
    _no_traceback(ran)


def test_unknown_feed_name_is_a_short_message(ip):
    run(ip, GRAPH)
    ran = run(ip, "%run_graph c --feed nosuch=1")
    assert ran.stderr.startswith("TypeError: Cannot interpret feed_dict key as Tensor")
    _no_traceback(ran)


def test_feed_name_holding_an_array_instead_of_a_tensor_is_a_usage_error(ip):
    run(ip, GRAPH)
    run(ip, "import numpy as np\nimages = np.ones(3)")
    ran = run(ip, "%run_graph c --feed images=[1.0]")
    assert "UsageError" in ran.stderr and "'images' is a numpy.ndarray in the notebook, not a tensor" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout
    assert isinstance(ran.result.error_in_exec, UsageError)


def test_failing_feed_expression_is_a_short_message(ip):
    run(ip, GRAPH)
    ran = run(ip, "%run_graph c --feed a=undefined_name")
    assert "could not evaluate the value of --feed a `undefined_name`: NameError" in ran.stderr
    _no_traceback(ran)


def test_failing_fetch_expression_is_a_short_message(ip):
    ran = run(ip, "%run_graph no_such_tensor")
    assert "could not evaluate FETCHES `no_such_tensor`: NameError" in ran.stderr
    _no_traceback(ran)


def test_python_error_in_a_cell_names_the_line_and_keeps_the_traceback_for_tb(ip):
    ran = run(ip, "%%run_graph\nx = tf.constant(1.0)\ny = tf.matmul(x, 'nope', bogus=1)\ny")
    assert ran.stderr.startswith("TypeError at line 3 of the cell: ")
    assert "y = tf.matmul(x, 'nope', bogus=1)" in ran.stderr
    assert "%tb shows the full traceback" in ran.stderr
    assert isinstance(sys.last_value, TypeError)
    _no_traceback(ran)


def test_syntax_error_in_a_cell_names_the_line(ip):
    ran = run(ip, "%%run_graph\nx = tf.constant(1.0)\ny = = x\ny")
    assert ran.stderr.startswith("SyntaxError at line 3 of the cell")
    _no_traceback(ran)


def test_closed_session_is_a_short_message(ip):
    run(ip, "k = tf.constant(1.0)\nsess.close()")
    ran = run(ip, "%run_graph k")
    assert "RuntimeError: Attempted to use a closed Session." in ran.stderr
    _no_traceback(ran)


def test_fetch_from_a_graph_no_session_runs(ip):
    run(ip, "g2 = tf.Graph()\nwith g2.as_default():\n    k = tf.constant(1.0)")
    ran = run(ip, "%run_graph k")
    assert "no open session runs" in ran.stderr and "--session" in ran.stderr
    _no_traceback(ran)


def test_interact_shows_a_runner_widget(ip):
    run(ip, "x = tf.placeholder(tf.float32, [])\ny = x * 2")
    ran = run(ip, "%run_graph y --interact --feed x=1.5")
    assert ran.value is None
    [shown] = ran.outputs
    assert "application/vnd.jupyter.widget-view+json" in shown


# -- argument splitting -----------------------------------------------------------------------------------
@pytest.mark.parametrize("line, tokens", [
    ("[a, b] --trace", ["[a, b]", "--trace"]),
    ("c --feed x=np.ones((2, 3)) --graph", ["c", "--feed", "x=np.ones((2, 3))", "--graph"]),
    ("'a b:0' --feed s='x y'", ["'a b:0'", "--feed", "s='x y'"]),
    ("{'k': t}", ["{'k': t}"]),
    (r"'it\'s a b' --trace", [r"'it\'s a b'", "--trace"]),
    ("  ", []),
])
def test_split_args_keeps_expressions_whole(line, tokens):
    assert magics.split_args(line) == tokens
