"""The interactive graph view's data and markup, checked as strings and JSON: the hierarchy (scopes, series,
auxiliary parts, oversized levels), the first expansion, names escaped inside the script, deterministic ids,
one SVG per output, and unknown scopes in collapse=/expand= refused by name."""

from __future__ import annotations

import json
import re

import pytest

import tfmini as tf
from benchmarks.graph_view import blocks, mlp
from ipython_ext import graph_model, graph_view, markup
from ipython_ext.graph_view import GraphView, Node


def data_of(html: str) -> dict:
    """The JSON the view's data script holds."""
    text = re.search(r'<script type="application/json" data-tfx="graph-data">(.*?)</script>', html, re.S)[1]
    return json.loads(text)


def groups_by_label(data: dict) -> dict[str, int]:
    return {data["strings"][s]: i for i, s in enumerate(data["groups"]["label"])}


def test_repeated_block_scopes_fold_into_one_series_and_training_parts_are_auxiliary():
    data = data_of(GraphView(blocks(40)).html())
    labels = groups_by_label(data)
    series = labels["block[0-39]"]
    assert data["groups"]["kind"][series] == graph_model.KIND_SERIES
    members = [i for i, p in enumerate(data["groups"]["parent"]) if p == series]
    assert len(members) == 40
    assert data["groups"]["aux"][labels["gradients"]] == 1
    assert data["groups"]["aux"][labels["GradientDescent"]] == 1
    assert data["groups"]["aux"][series] == 0
    init = data["strings"].index("init")
    assert data["ops"]["aux"][str(data["ops"]["name"].index(init))] == 1
    assert series not in data["expanded"]  # series stay closed when the view opens


def test_every_op_keeps_its_type_outputs_attrs_site_and_inputs(monkeypatch):
    g = tf.Graph()
    with g.as_default(), g.device("/cpu:0"):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        first = tf.constant(1.0, name="first")
        with tf.name_scope("layer"), tf.control_dependencies([first.op]):
            y = tf.nn.relu(tf.matmul(x, tf.ones([3, 2]), name="mm"), name="act")
    data = data_of(GraphView(g).html())
    strings, ops = data["strings"], data["ops"]
    names = [strings[n] for n in ops["name"]]
    mm = names.index("mm")
    assert data["types"][ops["type"][mm]] == "MatMul"
    assert strings[ops["outputs"][mm]] == "float32 (?, 2)"  # one output: its entry alone
    assert mm - ops["inputs"][mm][0] == names.index("x")  # inputs count back from the op
    assert [mm - d for d in ops["control"][str(mm)]] == [names.index("first")]
    assert "transpose_a = False" in [strings[s] for s in data["attr_sets"][ops["attrs"][mm]]]
    assert strings[ops["device"][str(mm)]] == y.op.device == "/device:CPU:0"
    assert "test_graph_view_model.py" in strings[ops["site"][mm]] and "tf.matmul" in strings[ops["site"][mm]]
    assert data["kinds"][ops["type"][names.index("x")]] == "placeholder"


def test_a_flat_scope_with_thousands_of_ops_is_split_so_no_level_passes_the_limit():
    gd = tf.GraphDef()
    for i in range(3000):
        gd.node.add(name=f"op{i}", op=f"Type{i % 7}")
    for i in range(2000):
        gd.node.add(name=f"n{i}", op=f"Distinct{i}")
    data = data_of(GraphView(gd).html())
    parents = data["groups"]["parent"] + data["ops"]["group"]
    widest = max(parents.count(p) for p in set(parents))
    assert widest <= graph_model.MAX_CHILDREN


def test_names_are_escaped_inside_the_script_and_no_other_script_is_there():
    gd = tf.GraphDef()
    hostile = "</script><img src=x onerror=alert(1)>&amp;"
    gd.node.add(name=f"s/{hostile}", op="<b>Op</b>")
    gd.node.add(name="s/other", op="Const", device=hostile)
    html = GraphView(gd).html()
    assert "<img" not in html and "</script><" not in html.replace("</script><script", "").replace(
        "</script></div>", "")
    assert "<script" not in graph_view.without_view_scripts(html)
    data = data_of(html)
    assert hostile in data["strings"] and "<b>Op</b>" in data["types"]


def test_the_output_is_the_same_on_a_rerun_and_stores_one_svg():
    g = mlp()
    first = GraphView(g)._repr_mimebundle_()
    markup._id_counts.clear()
    graph_view._svg_cache.clear()
    again = GraphView(g)._repr_mimebundle_()
    assert first == again
    assert "<svg" not in first["text/html"]  # the static picture lives in image/svg+xml only
    assert first["text/plain"].startswith("Graph: 141 ops")


def test_the_first_view_opens_scopes_breadth_first_within_max_nodes_and_honours_expand_and_collapse():
    g = mlp()
    h = graph_model.build(graph_view.nodes_from_graph(g))
    scopes = h.scope_groups()
    small = graph_model.initial_expansion(h, 5)
    assert small == [0]
    opened = graph_model.initial_expansion(h, 60, expand=["dense1/kernel/Initializer"], collapse=["logits"])
    assert scopes["dense1/kernel/Initializer"] in opened and scopes["dense1/kernel"] in opened
    assert scopes["logits"] not in opened


@pytest.mark.parametrize("arg", ["expand", "collapse"])
def test_unknown_scope_names_are_refused_by_name(arg):
    g = mlp()
    with pytest.raises(ValueError, match=rf"unknown name scopes in {arg}=\['nope', 'logits/nope'\].*dense0"):
        GraphView(g, **{arg: ["logits", "nope", "logits/nope"]})
    with pytest.raises(TypeError, match="list of name scopes"):
        GraphView(g, **{arg: "logits"})


def test_the_script_is_inlined_and_loads_nothing():
    html = GraphView(mlp()).html()
    script = graph_view.graph_script()
    assert script in html
    code = script.replace('"http://www.w3.org/2000/svg"', "")  # the SVG namespace names, it loads nothing
    assert not re.search(r"\b(fetch|XMLHttpRequest|import\(|src=|https?:)", code)
    assert "innerHTML" not in script  # names reach the page as text only


def test_single_op_scopes_draw_as_their_op_and_scopes_of_one_op_type_fold_into_a_series():
    nodes = [Node("mul", "Mul", (), (), ()), Node("mul/y", "Const", (), (), ()),
             *[Node(f"s/add{'_' + str(i) if i else ''}", "Add", (), (), ()) for i in range(4)],
             Node("s/other", "Neg", (), (), ())]
    h = graph_model.build(nodes)
    live = [g for g in h.groups if g.parent != -2]
    assert [g.label for g in live] == ["", "s", "add_*"]
    assert h.owner[1] == 0  # mul/y sits beside mul
