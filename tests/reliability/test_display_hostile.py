"""Hostile names, attrs, devices, values and messages in every display: each HTML output parses as HTML
under strict checks, each SVG (standalone or inside the HTML) parses as XML, nothing from the user arrives
as markup (no raw `<script`), nothing loads from the network, and what the user wrote shows as text."""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from IPython.utils.capture import capture_output
from reliability_support import TALLIES, extension_shell, no_hang

import ipython_ext
import tfmini as tf
from ipython_ext import formatters, graph_view, trace_view
from ipython_ext.values import FetchedValue

PIECES = [
    "<script>alert(1)</script>", "\"'", "&", "&bogus; &lt; &#0; &#xD800;", "]]>", "-- <!-- -->",
    "\x00\x01\x08\x0b\x0c\x0e\x1b\x1f\x7f\x85", "\u202eevil\u202c \u2066x\u2069", "\ufffe\uffff", "\r",
    "<img src=https://example.com/x.png>", '<a href="http://example.com">',
]
HOSTILE = "|".join(PIECES)
LONG = "L" * 5000 + "<script>"
# Characters XML 1.0 cannot carry; HTML treats the C1 range and DEL as parse errors too.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictHTML(HTMLParser):
    """html.parser with the checks it does not make: every element closes in order (void elements
    excepted), entity and character references exist and name characters HTML allows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.in_svg = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.problems.append("a <script> element")
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value and re.match(r"\s*(https?:)?//", value):
                self.problems.append(f"{name} loads from the network: {value[:60]}")
            if name.startswith("on"):
                self.problems.append(f"an event handler attribute {name}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_entityref(self, name):
        if name not in html.entities.name2codepoint:
            self.problems.append(f"unknown entity &{name};")

    def handle_charref(self, name):
        code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        if NOT_XML.match(chr(code)) if code < 0x110000 else True:
            self.problems.append(f"a character reference to a forbidden character &#{name};")

    def handle_decl(self, decl):
        self.problems.append(f"a declaration <!{decl}>")

    def handle_comment(self, data):
        self.problems.append("a comment")


def without_own_scripts(markup: str) -> str:
    """`markup` without the graph and trace views' own inline scripts: the views' fixed code, whose data is JSON
    with every '<', '>' and '&' escaped (so no name can close the script or start an element). Any other script
    stays, and fails the check."""
    markup = graph_view.without_view_scripts(markup)
    code = "(" + trace_view.view_script().strip().rstrip(";") + ")("

    def drop(match: re.Match) -> str:
        body = match.group(1)
        own = body.startswith(code) and not re.search("[<>&]", body[len(code):])
        return "" if own else match.group(0)

    return re.sub(r"<script>(.*?)</script>", drop, markup, flags=re.S)


def check_html(markup: str) -> None:
    assert not NOT_XML.search(markup), f"raw forbidden character {NOT_XML.search(markup)[0]!r}"
    markup = without_own_scripts(markup)
    assert "<script" not in markup.lower()
    parser = StrictHTML()
    parser.feed(markup)
    parser.close()
    assert not parser.problems, parser.problems[:5]
    assert not parser.stack, f"unclosed {parser.stack}"
    for svg in re.findall(r"<svg\b.*?</svg>", markup, re.S):
        check_svg(svg)


def check_svg(markup: str) -> ET.Element:
    assert not NOT_XML.search(markup), f"raw forbidden character {NOT_XML.search(markup)[0]!r}"
    assert "<script" not in markup.lower()
    root = ET.fromstring(markup)
    for el in root.iter():
        assert not el.tag.endswith("script") and not el.tag.endswith("foreignObject")
        for name, value in el.attrib.items():
            assert not (name.endswith("href") and re.match(r"\s*(https?:)?//", value)), (name, value)
    return root


def check_bundle(data: dict) -> None:
    assert data, "the object had no display"
    for mime, markup in data.items():
        if mime == "text/html":
            check_html(markup)
        elif mime == "image/svg+xml":
            check_svg(markup)


def svg_text(markup: str) -> str:
    return "".join(check_svg(markup).itertext()) + "".join(
        v for el in check_svg(markup).iter() for v in el.attrib.values())


@pytest.fixture
def ip():
    with extension_shell("import tfmini as tf\nimport numpy as np") as shell:
        yield shell


_NEEDS_DOT = pytest.mark.skipif(graph_view.find_dot() is None,
                                reason="Graphviz's dot is not installed (make test installs it)")


@pytest.fixture(params=[pytest.param("dot", marks=_NEEDS_DOT), "no dot"])
def dot_or_not(request, monkeypatch):
    """Every check runs with Graphviz (pictures) and without it (listings)."""
    if request.param == "no dot":
        monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(graph_view, "_svg_cache", type(graph_view._svg_cache)())
    monkeypatch.setattr(graph_view, "_view_cache", type(graph_view._svg_cache)(), raising=False)
    return request.param


def shown(shell, obj) -> dict:
    data, _ = shell.display_formatter.format(obj)
    return data


def hostile_graph_def(text: str = HOSTILE) -> tf.GraphDef:
    gd = tf.GraphDef()
    p = gd.node.add(name=text, op="Placeholder", device=text)
    p.attr["dtype"].type = tf.float32.as_datatype_enum
    p.attr["shape"].shape.dim.add(size=-1)
    q = gd.node.add(name=f"{text}/{LONG}", op=text, input=[text, f"^{text}"])
    q.attr["T"].type = tf.float32.as_datatype_enum
    q.attr[text].s = text.encode("utf-8", "surrogatepass") + b"\xff\xfe"
    r = gd.node.add(name="r", op="NoOp", input=[f"^{text}/{LONG}"])
    r.attr["list"].list.s.extend([text.encode(), LONG.encode()])
    return gd


def test_graph_def_with_hostile_names_types_attrs_and_devices(ip, dot_or_not):
    data = shown(ip, hostile_graph_def())
    check_bundle(data)
    if dot_or_not == "dot":
        text = svg_text(data["image/svg+xml"])
        assert "<script>alert(1)</script>" in text and "&bogus;" in text and "\\x01" in text
        assert "\\u202e" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in data["text/html"]


def _hostile_graph(shell) -> None:
    code = f"""
with tf.device('/cpu:0'):
    s = tf.constant(np.array([{HOSTILE.encode()!r}, {LONG.encode()!r}, b'\\xff\\xfe'], dtype=object), name='s')
x = tf.placeholder(tf.float32, [None, 3], name='x')
with tf.name_scope('scope'):
    y = tf.identity(x * 2.0, name='y')
v = tf.Variable(tf.zeros([2]), name='v')
tf.add_to_collection({HOSTILE!r}, {HOSTILE!r})
tf.add_to_collection('long', {LONG!r})
"""
    result = shell.run_cell(code)
    result.raise_error()


def test_graph_tensor_operation_and_session_with_hostile_devices_values_and_collections(ip, dot_or_not):
    _hostile_graph(ip)
    g = tf.get_default_graph()
    s = ip.user_ns["s"]
    for obj in (g, g.as_graph_def(), s, s.op, ip.user_ns["y"], ip.user_ns["v"].op, ip.user_ns["sess"]):
        check_bundle(shown(ip, obj))
    assert "&lt;script&gt;" in shown(ip, s.op)["text/html"]


def test_fetched_values_with_hostile_strings_keys_and_bytes(ip):
    _hostile_graph(ip)
    value = ip.user_ns["sess"].run({HOSTILE: ip.user_ns["s"]})
    fv = FetchedValue({**value, "u": "\ud800" + HOSTILE, "n": np.array([HOSTILE, LONG]), "b": b"\x00<script>"},
                      names={HOSTILE: HOSTILE})
    check_bundle(fv._repr_mimebundle_())
    assert "\\ud800" in fv._repr_mimebundle_()["text/html"]


def _hostile_step_stats() -> tf.RunMetadata:
    md = tf.RunMetadata()
    dev = md.step_stats.dev_stats.add(device=HOSTILE)
    for i, name in enumerate((HOSTILE, LONG, "plain")):
        ns = dev.node_stats.add(node_name=name, all_start_micros=10 * i + 1, op_end_rel_micros=5,
                                all_end_rel_micros=6, timeline_label=f"{name} = {HOSTILE}({name})", thread_id=i)
        out = ns.output.add(slot=0)
        out.tensor_description.dtype = tf.float32.as_datatype_enum
        out.tensor_description.shape.dim.add(size=3)
    return md


def test_traces_with_hostile_names_labels_and_devices(ip):
    md = _hostile_step_stats()
    for obj in (md, md.step_stats):
        data = shown(ip, obj)
        check_bundle(data)
        assert "<script>alert(1)</script>" in svg_text(data["image/svg+xml"])
    check_bundle(ipython_ext.show_trace(md, md)._repr_mimebundle_())


def test_trace_explorer_and_interactive_runner_markup_with_hostile_input(ip):
    pytest.importorskip("ipywidgets")
    from ipython_ext.widgets import interactive_runner, trace_explorer

    explorer = trace_explorer(_hostile_step_stats())
    for i in range(3):
        explorer.chooser.value = i
        check_html(explorer.details.value)
        check_html(explorer.timeline.value)
    ip.run_cell("x2 = tf.placeholder(tf.float32, [2], name='x2')\ny2 = x2 * 2.0")
    runner = interactive_runner(ip.user_ns["y2"], ip.user_ns["sess"])
    check_html(runner.output.value)
    runner.controls["x2"].value = HOSTILE  # not a literal: the error shows in place of the value
    assert runner.error is not None
    check_html(runner.output.value)
    assert "&lt;script&gt;" in runner.output.value


def test_run_graph_outputs_and_error_displays_with_hostile_names(ip, dot_or_not):
    _hostile_graph(ip)
    with capture_output() as cap:
        ip.run_cell("%run_graph [s, y] --feed x=np.ones((2,3)) --graph --trace")
        ip.run_cell(f"bad = tf.strings.to_number(tf.constant({HOSTILE!r}))")
        ip.run_cell("%run_graph bad --graph")
    mimes = [o.data for o in cap.outputs]
    assert len(mimes) >= 3
    for data in mimes:
        check_bundle(data)
    assert "Error" in cap.stderr


def test_a_display_that_fails_with_a_hostile_message_shows_it_as_text(ip, monkeypatch):
    def broken(obj):
        raise ValueError(HOSTILE)

    rich = formatters._guarded("text/html", broken)
    markup = rich(object())
    check_html(markup)
    assert "&lt;script&gt;" in markup


@pytest.fixture(scope="module")
def shell_for_fuzz():
    with extension_shell() as shell:
        yield shell


NAME_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40) | st.sampled_from(PIECES)


@given(names=st.lists(NAME_TEXT, min_size=1, max_size=4, unique=True), attr=st.binary(max_size=40),
       op_type=NAME_TEXT)
def test_fuzz_graph_def_names_always_display_as_valid_markup(shell_for_fuzz, names, attr, op_type):
    gd = tf.GraphDef()
    for i, name in enumerate(names):
        nd = gd.node.add(name=name, op=op_type if i else "Placeholder", device=name,
                         input=[names[i - 1]] if i else [])
        nd.attr["note"].s = attr
    with no_hang(10):
        data = shown(shell_for_fuzz, gd)
        check_bundle(data)
    TALLIES["display_graph_def_names"]["examples"] += 1
    TALLIES["display_graph_def_names"]["with picture" if "image/svg+xml" in data else "listing"] += 1
