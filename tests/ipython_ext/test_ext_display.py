"""Every display's mimebundle through the shell's formatters: Tensor, Operation, Graph, GraphDef (with and
without `dot`), Session, RunMetadata / StepStats, fetched values; hostile strings stay text; no network
assets; ids repeat in a fresh kernel."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import numpy as np
import pytest
from ext_helpers import HOSTILE, assert_escaped, no_external_assets, run

import tfmini as tf
from ipython_ext import graph_view, markup, objects, values
from ipython_ext.graph_view import GraphView
from ipython_ext.trace_view import TraceView, op_stats, timeline_svg


def bundle(shell, obj) -> dict:
    data, _ = shell.display_formatter.format(obj)
    return data


@pytest.fixture
def no_dot(monkeypatch):
    """`dot` missing from PATH (and the render cache empty, so nothing drawn earlier is reused)."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(graph_view, "_svg_cache", type(graph_view._svg_cache)())
    assert graph_view.find_dot() is None


def _traced(shell, code: str = "c = tf.matmul(a, w)") -> tf.RunMetadata:
    run(shell, "a = tf.placeholder(tf.float32, [None, 3], name='a')\nw = tf.ones([3, 2], name='w')\n" + code)
    run(shell, "md = tf.RunMetadata()\n_ = sess.run(c, {a: np.ones((4, 3))}, "
               "options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)")
    return shell.user_ns["md"]


# -- Tensor and Operation ---------------------------------------------------------------------------------
def test_tensor_display_names_its_op_type_dtype_shape_inputs_and_site(ip):
    run(ip, "a = tf.placeholder(tf.float32, [None, 3], name='a')\nb = tf.reduce_sum(a, axis=1, name='total')")
    number = ip.execution_count - 1
    data = bundle(ip, ip.user_ns["b"])
    assert data["text/plain"] == repr(ip.user_ns["b"])
    html = data["text/html"]
    for part in ("total:0", "Sum", "float32", "(?,)", "a:0", "float32 (?, 3)",
                 f"line 2 of In[{number}]", "b = tf.reduce_sum(a, axis=1, name=&#x27;total&#x27;)"):
        assert part in html
    no_external_assets(html)


def test_operation_display_lists_inputs_outputs_control_inputs_and_attrs(ip):
    run(ip, "x = tf.constant([1.0, 2.0], name='x')\nwith tf.control_dependencies([x.op]):\n"
            "    y = tf.cast(tf.constant([3, 4]), tf.float32, name='y')\nz = tf.add(x, y, name='z')")
    y_op = ip.user_ns["y"].op
    html = bundle(ip, y_op)["text/html"]
    assert "y = Cast" in html and "control inputs" in html and "<code>x</code>" not in html
    assert "DstT" in html and "float32" in html and "SrcT" in html and "int32" in html
    assert "z" in html  # consumer of y:0
    assert bundle(ip, y_op)["text/plain"] == repr(y_op)


def test_operation_display_marks_placeholders(ip):
    run(ip, "p = tf.placeholder(tf.float32, [2], name='p')")
    assert "<th>kind</th><td>placeholder</td>" in bundle(ip, ip.user_ns["p"].op)["text/html"]


def test_tensor_and_operation_displays_never_run_anything(ip, monkeypatch):
    run(ip, "p = tf.placeholder(tf.float32, [2])\nq = tf.exp(p)")

    def refuse(*args, **kwargs):
        raise AssertionError("a display ran the graph")

    monkeypatch.setattr(tf.BaseSession, "run", refuse)
    assert "Exp" in bundle(ip, ip.user_ns["q"])["text/html"]
    assert "Exp" in bundle(ip, ip.user_ns["q"].op)["text/html"]


def test_hostile_string_constant_is_text_in_tensor_operation_and_value_displays(ip):
    run(ip, f"h = tf.constant({HOSTILE!r}, name='h')")
    for obj in (ip.user_ns["h"], ip.user_ns["h"].op):
        assert_escaped(bundle(ip, obj)["text/html"])
    ran = run(ip, "v = %run_graph h")
    assert ip.user_ns["v"] == HOSTILE.encode()
    assert_escaped(ran.outputs[0]["text/html"])


# -- Graph ------------------------------------------------------------------------------------------------
SCOPED = """
x = tf.placeholder(tf.float32, [None, 4], name='x')
with tf.name_scope('encoder'):
    h = tf.sigmoid(tf.matmul(x, tf.ones([4, 3])))
    with tf.name_scope('inner'):
        h2 = h * 2.0
with tf.control_dependencies([h2]):
    out = tf.identity(h, name='out')
"""


def test_graph_picture_has_scopes_as_clusters_types_shapes_control_deps_and_marks(ip):
    run(ip, SCOPED)
    g = tf.get_default_graph()
    dot = GraphView(g).dot
    assert re.search(r'subgraph cluster_\d+ \{\n\s+label="encoder"', dot)
    assert re.search(r'subgraph cluster_\d+ \{\n\s+label="inner"', dot)
    assert 'label="MatMul"' in dot and 'label="out\\nIdentity"' in dot
    assert 'label="float32 (?, 4)"' in dot and 'label="float32 (?, 3)"' in dot
    assert 'style="dashed"' in dot  # the control dependency out <- encoder/inner/mul
    assert 'shape="invhouse"' in dot  # the placeholder
    data = bundle(ip, g)
    assert data["image/svg+xml"].startswith("<svg")
    assert 'class="cluster"' in data["image/svg+xml"]
    assert 'class="tfx-gv"' in data["text/html"] and "tfx-graph" in data["text/html"]
    assert data["text/plain"].startswith("Graph: 7 ops, 3 name scopes")
    no_external_assets(graph_view.without_view_scripts(data["text/html"]))


def test_graph_svg_is_stable_and_carries_no_graphviz_version(ip):
    run(ip, SCOPED)
    first = GraphView(tf.get_default_graph()).svg()
    graph_view._svg_cache.clear()
    assert GraphView(tf.get_default_graph()).svg() == first
    assert "<!--" not in first and "<?xml" not in first


def test_large_graphs_collapse_deep_scopes_into_counted_nodes(ip):
    code = "t = tf.constant(1.0)\nfor i in range(6):\n    with tf.name_scope(f'block{i}'):\n" \
           "        with tf.name_scope('mlp'):\n            t = tf.sigmoid(t * 2.0 + 1.0)\n"
    run(ip, code)
    g = tf.get_default_graph()
    nodes = graph_view.nodes_from_graph(g)
    assert len(nodes) == 1 + 6 * 5
    view = GraphView(g, max_nodes=10)  # the deepest level that fits collapses: blockN/mlp, 5 ops each
    assert view.dot.count('shape="box3d"') == 6 and 'label="mlp/\\n5 ops"' in view.dot
    assert 'label="block0"' in view.dot  # the enclosing scope stays a cluster
    assert "7 nodes drawn (scopes collapsed, max_nodes=10)" in view.summary()
    assert "box3d" not in GraphView(g, max_nodes=40).dot
    assert 'label="block3/\\n5 ops"' in GraphView(g, max_nodes=40, collapse=["block3"]).dot
    expanded = GraphView(g, max_nodes=10, expand=["block2/mlp"]).dot
    assert expanded.count('shape="box3d"') == 5 and 'tooltip="block2/mlp/ (5 ops)' not in expanded
    assert 'tooltip="block2/mlp/Sigmoid (Sigmoid)' in expanded


def test_without_dot_graphs_show_a_listing_and_how_to_get_pictures(ip, no_dot):
    run(ip, SCOPED + f"tf.add_to_collection('notes', {HOSTILE!r})")
    data = bundle(ip, tf.get_default_graph())
    assert "image/svg+xml" not in data
    html = data["text/html"]
    assert "<svg" not in html
    assert "apt-get install graphviz" in html and "conda install graphviz" in html and "brew install graphviz" in html
    assert "<td>encoder/MatMul</td><td>MatMul</td><td>x:0, encoder/ones:0</td><td>float32 (?, 3)</td>" in html
    assert_escaped(html)
    assert GraphView(tf.get_default_graph()).svg() is None


def test_a_failing_dot_falls_back_to_the_listing(ip, tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(graph_view, "_svg_cache", type(graph_view._svg_cache)())
    run(ip, SCOPED)
    data = bundle(ip, tf.get_default_graph())
    assert "image/svg+xml" not in data and "apt-get install graphviz" in data["text/html"]


def test_collection_content_is_escaped_in_graph_displays(ip):
    run(ip, f"tf.constant(1.0)\ntf.add_to_collection('notes', {HOSTILE!r})")
    html = bundle(ip, tf.get_default_graph())["text/html"]
    assert "Collections (1)" in html
    assert_escaped(html)


def _hostile_graph_def() -> tf.GraphDef:
    gd = tf.GraphDef()
    p = gd.node.add(name=HOSTILE, op="Placeholder")
    p.attr["dtype"].type = tf.float32.as_datatype_enum
    p.attr["shape"].shape.dim.add(size=-1)
    q = gd.node.add(name="q", op="Identity", input=[HOSTILE])
    q.attr["T"].type = tf.float32.as_datatype_enum
    r = gd.node.add(name="r/s", op="NoOp", input=["^q"])
    r.attr["note"].s = HOSTILE.encode()
    return gd


def test_graph_def_display_with_a_hostile_node_name(ip):
    data = bundle(ip, _hostile_graph_def())
    assert data["text/plain"].startswith("GraphDef: 3 ops, 1 name scopes")
    for key in ("text/html", "image/svg+xml"):
        assert_escaped(data[key])
    view = GraphView(_hostile_graph_def())
    assert 'label="float32 (?,)"' in view.dot
    assert 'style="dashed"' in view.dot


def test_graph_def_display_without_dot(ip, no_dot):
    data = bundle(ip, _hostile_graph_def())
    assert "image/svg+xml" not in data
    assert_escaped(data["text/html"])
    assert "apt-get install graphviz" in data["text/html"]


def test_dot_strings_cannot_escape_their_quotes():
    assert graph_view.dot_str('a"b\\N\nc') == '"a\\"b\\\\N\\nc"'


# -- Session ----------------------------------------------------------------------------------------------
def test_session_display_shows_target_graph_and_that_it_is_default(ip):
    run(ip, "k = tf.constant(1.0)")
    data = bundle(ip, ip.user_ns["sess"])
    assert data["text/plain"].startswith("<InteractiveSession>")
    assert "default session: yes" in data["text/plain"]
    assert "1 ops (version 1), the default graph" in data["text/plain"]
    assert "in-process" in data["text/html"] and "Graph" in data["text/html"]


def test_session_display_reports_which_variables_are_initialized_without_adding_ops(ip):
    run(ip, "v = tf.Variable([1.0, 2.0], name='v')\nw = tf.Variable(3, name='w')\n_ = sess.run(v.initializer)")
    graph = tf.get_default_graph()
    ops_before = len(graph.get_operations())
    sess = ip.user_ns["sess"]
    assert objects.session_variables(sess) == [("v:0", "float32", "(2,)", "yes"), ("w:0", "int32", "()", "no")]
    data = bundle(ip, sess)
    assert "Variables (2)" in data["text/html"]
    assert "<td>w:0</td><td>int32</td><td>()</td><td>no</td>" in data["text/html"]
    assert "v:0 float32 (2,) initialized=yes" in data["text/plain"]
    assert len(graph.get_operations()) == ops_before


def test_session_display_of_a_graph_without_variables(ip):
    run(ip, "k = tf.constant(1.0)")
    assert "No global variables" in bundle(ip, ip.user_ns["sess"])["text/html"]


def test_session_display_of_a_closed_session_does_not_raise(ip):
    run(ip, "k = tf.constant(1.0)\ns2 = tf.Session()\ns2.close()")
    assert "default session: no" in bundle(ip, ip.user_ns["s2"])["text/plain"]


def test_session_graph_section_escapes_collections(ip):
    run(ip, f"tf.constant(1.0)\ntf.add_to_collection('notes', {HOSTILE!r})")
    assert_escaped(bundle(ip, ip.user_ns["sess"])["text/html"])


# -- traces -----------------------------------------------------------------------------------------------
def test_run_metadata_display_draws_the_timeline_table_and_chrome_link(ip):
    md = _traced(ip)
    data = bundle(ip, md)
    svg = data["image/svg+xml"]
    assert svg.count("<rect") >= 2 + 2  # a bar per op, a legend swatch per op type
    assert "<title>MatMul (MatMul)\n" in svg and "out float32 (4, 2): 32 B" in svg
    assert "thread 1" in svg
    html = data["text/html"]
    assert "Costliest ops" in html and "<code>MatMul</code>" in html
    assert html.count('class="tfx-trace"') == 1 and html.count("<script>") == 1 and '"MatMul"' in html
    assert re.search(r'<a class="tfx-link tfx-trace-download" href="#" data-run="0" '
                     r'download="tfmini-trace-[0-9a-f]{8}\.json">Download the Chrome trace</a>', html)
    assert data["text/plain"].startswith("Trace: ")
    no_external_assets(html)


def test_step_stats_display_is_the_same_trace(ip):
    md = _traced(ip)
    assert bundle(ip, md.step_stats)["image/svg+xml"] == bundle(ip, md)["image/svg+xml"]


def test_untraced_run_metadata_says_how_to_trace(ip):
    data = bundle(ip, tf.RunMetadata())
    assert "text/html" not in data
    assert "FULL_TRACE" in data["text/plain"]


def test_timings_have_one_sanitizable_form(ip):
    html = TraceView(_traced(ip)).html()
    assert re.findall(r"\d+(?:\.\d+)? (?:µs|ms|s)\b", html)
    assert not re.search(r"\d (?:us|usec|microseconds)\b", html)


def test_hostile_names_in_step_stats_are_text(ip):
    stats = tf.StepStats()
    dev = stats.dev_stats.add(device="/cpu:0")
    for i, name in enumerate([HOSTILE, "ok"]):
        ns = dev.node_stats.add(node_name=name, timeline_label=f"{name} = {HOSTILE}()", all_start_micros=10 * i,
                                op_end_rel_micros=5, all_end_rel_micros=5, thread_id=7)
        ns.output.add(slot=0).tensor_description.allocation_description.requested_bytes = 4
    data = bundle(ip, stats)
    for key in ("text/html", "image/svg+xml"):
        assert_escaped(data[key])


def test_several_runs_draw_as_lanes_of_one_timeline(ip):
    md = _traced(ip)
    svg = TraceView(md, md).svg()
    assert "run 1 · thread 1" in svg and "run 2 · thread 1" in svg


def test_timeline_rings_the_highlighted_op(ip):
    md = _traced(ip)
    svg = timeline_svg([op_stats(md.step_stats)], highlight="MatMul")
    assert svg.count('stroke="#d62728"') == 1


# -- fetched values ---------------------------------------------------------------------------------------
def test_value_display_statistics_match_numpy():
    arr = np.array([[1.0, np.nan, 3.0], [np.inf, -2.0, 0.5]], np.float32)
    text = repr(values.FetchedValue(arr, names="t:0"))
    finite = arr[np.isfinite(arr)]
    assert text.splitlines()[0] == (f"t:0: float32 (2, 3)  min={finite.min():.4g}  max={finite.max():.4g}  "
                                    f"mean={finite.mean():.4g}  NaN=1  Inf=1")


def test_value_display_integer_bool_and_string_statistics():
    assert values.stats(np.array([3, -1, 4], np.int64)) == [("min", "-1"), ("max", "4"), ("mean", "2")]
    assert values.stats(np.array([True, False, True])) == [("true", "2")]
    assert values.stats(np.array([b"a"], dtype=object)) == []


def test_large_values_are_truncated_readably():
    text = repr(values.FetchedValue(np.arange(10000.0).reshape(100, 100)))
    assert "..." in text and len(text) < 2000


def _decode_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + 3 * w)
    assert not raw[:, 0].any()
    return raw[:, 1:].reshape(h, w, 3)


def test_heatmap_png_decodes_to_the_colormap_of_the_values():
    arr = np.array([[0.0, 1.0, 2.0], [4.0, np.nan, np.inf]])
    html = values.heatmap_html(arr)
    pixels = _decode_png(base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)))
    finite = np.where(np.isfinite(arr), arr, 0.0)
    expected = values.colormap(finite / 4.0)
    expected[1, 1], expected[1, 2] = values.SPECIAL_RGB["NaN"], values.SPECIAL_RGB["+Inf"]
    np.testing.assert_array_equal(pixels, expected)
    assert 'width="180" height="120"' in html


def test_image_like_arrays_show_their_colours_and_1d_arrays_no_heatmap():
    img = np.zeros((4, 5, 3), np.uint8)
    img[..., 0] = 200
    pixels = _decode_png(base64.b64decode(re.search(r"base64,([^\"]+)", values.heatmap_html(img)).group(1)))
    np.testing.assert_array_equal(pixels, img)
    assert values.heatmap_html(np.arange(5.0)) == ""
    assert values.heatmap_html(np.zeros((3, 3, 7))) == ""


def test_big_heatmaps_are_strided_down():
    rgb = values.heatmap_rgb(np.random.default_rng(0).random((1000, 300)))
    assert rgb.shape == (250, 150, 3)


# -- markup hygiene ---------------------------------------------------------------------------------------
def test_every_style_rule_is_scoped_to_the_extension_class():
    css = re.sub(r"/\*.*?\*/", "", markup.stylesheet(), flags=re.S)
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", css) for s in block.split(",")]
    assert selectors and all(s.startswith(".tfx") for s in selectors)
    assert "var(--jp-" in css


def test_ids_repeat_in_a_fresh_kernel_and_differ_within_one(ip):
    run(ip, SCOPED)
    op = tf.get_default_graph().get_operation_by_name("encoder/MatMul")
    first, second = objects.operation_html(op), objects.operation_html(op)
    ids = re.findall(r'id="(tfx-[^"]+)"', first)
    assert ids and not set(ids) & set(re.findall(r'id="(tfx-[^"]+)"', second))
    markup._id_counts.clear()
    assert objects.operation_html(op) == first
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", first)  # no uuid4


def test_text_fallback_is_present_for_stripped_styles(ip):
    run(ip, "k = tf.constant(1.0, name='k')")
    html = bundle(ip, ip.user_ns["k"])["text/html"]
    assert '<pre class="tfx-fallback">&lt;tf.Tensor &#x27;k:0&#x27; shape=() dtype=float32&gt;</pre>' in html
    assert '<div class="tfx-wrap" style="display:none">' in html


def test_a_failing_display_shows_one_escaped_line(ip, monkeypatch):
    class Failing:
        def __getattr__(self, name):
            raise ValueError(HOSTILE)

    monkeypatch.setattr(objects, "describe", Failing())
    run(ip, "k = tf.constant(1.0)")
    html = bundle(ip, ip.user_ns["k"])["text/html"]
    assert "ipython_ext could not draw this Tensor: ValueError: " in html
    assert_escaped(html)
