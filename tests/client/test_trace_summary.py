"""tfmini.client.trace_summary: the costliest ops and op types of a traced step, checked against the step
stats they summarize, and their text and HTML tables (escaping, scoped theme-aware CSS, no JavaScript)."""

import html
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import tfmini as tf
from tfmini.client.trace_summary import summarize
from tfmini.client.tracing import step_peak_bytes
from tfmini.protobuf import step_stats_pb2

HOSTILE = '<script>alert("x")</script>&'


def _traced():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 16], name="x")
        h = tf.matmul(x, tf.ones([16, 32]), name="h")
        a = tf.tanh(h, name="a")
        b = tf.sigmoid(h, name="b")
        loss = tf.reduce_sum(tf.multiply(a, b, name="ab"), name="loss")
    md = tf.RunMetadata()
    with tf.Session(graph=g) as sess:
        sess.run(loss, {x: np.ones((64, 16), np.float32)}, options=tf.RunOptions(trace_level=3), run_metadata=md)
    return g, md.step_stats


def _stats(rows):
    """StepStats from (name, label, start ns, duration ns, [output bytes], bytes in use) rows."""
    stats = step_stats_pb2.StepStats()
    dev = stats.dev_stats.add(device="/device:CPU:0")
    for name, label, start, dur, outputs, in_use in rows:
        ns = dev.node_stats.add(node_name=name, timeline_label=label, all_start_nanos=start,
                                all_end_rel_nanos=dur, all_start_micros=start // 1000,
                                all_end_rel_micros=(start + dur) // 1000 - start // 1000)
        for i, nbytes in enumerate(outputs):
            td = ns.output.add(slot=i).tensor_description
            td.shape.dim.add(size=nbytes // 4)
            td.allocation_description.requested_bytes = nbytes
        ns.memory.add(allocator_name="cpu", total_bytes=sum(outputs), allocator_bytes_in_use=in_use)
    return stats


_ROWS = [
    ("c1", "c1 = Const()", 1_000, 500, [400], 0),
    ("m", "m = MatMul(x, c1)", 2_000, 9_000, [4_000], 4_400),
    ("t", "t = Tanh(m)", 12_000, 3_000, [4_000], 8_400),
    ("s", "s = Tanh(t)", 16_000, 2_500, [4_000], 8_000),
    ("r", "r = Sum(s, c1)", 19_000, 1_000, [4], 4_004),
]


# ----------------------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------------------
def test_every_op_row_agrees_with_its_node_stats():
    g, stats = _traced()
    summary = summarize(stats, top=None)
    # In start order: the plan's order on one thread, interleaved when the parallel engine spread the step.
    nodes = sorted(stats.dev_stats[0].node_stats, key=lambda ns: ns.all_start_nanos)
    first = nodes[0].all_start_nanos
    assert [r.name for r in summary.all_ops] == [ns.node_name for ns in nodes]
    for row, ns in zip(summary.all_ops, nodes):
        assert row.op_type == g.get_operation_by_name(ns.node_name).type
        assert row.start_us == pytest.approx((ns.all_start_nanos - first) / 1000)
        assert row.duration_us == pytest.approx(ns.all_end_rel_nanos / 1000)
        assert row.output_bytes == sum(o.tensor_description.allocation_description.requested_bytes
                                       for o in ns.output)
        assert row.output_shapes == tuple(
            tuple(d.size for d in o.tensor_description.shape.dim) for o in ns.output)
        assert row.device == stats.dev_stats[0].device
    assert summary.total_us == pytest.approx(sum(ns.all_end_rel_nanos for ns in nodes) / 1000)
    assert summary.total_bytes == sum(r.output_bytes for r in summary.all_ops)
    end = max(ns.all_start_nanos + ns.all_end_rel_nanos for ns in nodes)
    assert summary.wall_us == pytest.approx((end - first) / 1000)
    assert summary.peak_bytes == step_peak_bytes(stats)["cpu"] == summary.peak_bytes_by_allocator["cpu"]
    assert summary.peak_bytes >= 64 * 32 * 4 * 2  # h is held while a (or b) is allocated


def test_by_type_sums_count_time_and_bytes_per_op_type():
    summary = summarize(_stats(_ROWS), top=None)
    rows = {r.op_type: r for r in summary.by_type}
    assert set(rows) == {"Const", "MatMul", "Tanh", "Sum"}
    assert (rows["Tanh"].count, rows["Tanh"].total_us, rows["Tanh"].total_bytes) == (2, 5.5, 8_000)
    assert (rows["MatMul"].count, rows["MatMul"].total_us, rows["MatMul"].total_bytes) == (1, 9.0, 4_000)
    assert sum(r.count for r in summary.by_type) == len(_ROWS)
    assert summary.total_us == pytest.approx(16.0)
    assert summary.wall_us == pytest.approx(19.0)
    assert summary.peak_bytes == 8_400


def test_rankings_are_costliest_first_and_cut_at_top():
    summary = summarize(_stats(_ROWS), top=2)
    assert [r.name for r in summary.ops] == ["m", "t"]
    assert [r.name for r in summary.ops_by_memory] == ["m", "t"]  # ties keep start order
    assert [r.op_type for r in summary.by_type] == ["MatMul", "Tanh"]
    assert [r.op_type for r in summary.by_type_memory] == ["Tanh", "MatMul"]
    assert len(summary.all_ops) == len(_ROWS)
    assert summarize(_stats(_ROWS), top=0).ops == []
    with pytest.raises(ValueError, match="top"):
        summarize(_stats(_ROWS), top=-1)


def test_op_type_comes_from_the_label_or_else_from_the_graph():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="k")
    stats = _stats([("k", "", 0, 10, [4], 4), ("z", "z = Zeta(k)", 10, 10, [4], 8)])
    assert [r.op_type for r in summarize(stats).all_ops] == ["unknown", "Zeta"]
    assert [r.op_type for r in summarize(stats, graph=g).all_ops] == ["Const", "Zeta"]


def test_stats_without_memory_or_ops_summarize_to_zeros():
    empty = summarize(step_stats_pb2.StepStats())
    assert (empty.ops, empty.by_type, empty.total_us, empty.peak_bytes, empty.wall_us) == ([], [], 0, 0, 0.0)
    assert "(no ops)" in empty.to_text() and "(no ops)" in empty.to_html()


# ----------------------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------------------
def test_text_lists_the_costliest_ops_and_types_with_their_numbers():
    text = summarize(_stats(_ROWS), top=3).to_text()
    assert text.splitlines()[0] == "5 ops, 16.0 us of op time in 19.0 us, 12.1 KiB of outputs, peak memory 8.2 KiB"
    section = text.split("Costliest ops by time\n")[1].split("\n\n")[0].splitlines()
    assert section[0].split() == ["op", "type", "start", "(us)", "time", "(us)", "%", "time", "output", "output",
                                  "shapes"]
    assert [line.split()[:4] for line in section[2:]] == [["m", "MatMul", "1.0", "9.0"], ["t", "Tanh", "11.0", "3.0"],
                                                           ["s", "Tanh", "15.0", "2.5"]]
    assert section[2].split()[4:] == ["56.2%", "3.9", "KiB", "(1000)"]
    types = text.split("Costliest op types by time\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:3] for line in types[2:]] == [["MatMul", "1", "9.0"], ["Tanh", "2", "5.5"],
                                                        ["Sum", "1", "1.0"]]
    assert "Costliest ops by output memory" in text and "Costliest op types by output memory" in text


# ----------------------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------------------
class _TagBalance(HTMLParser):
    VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


def test_html_escapes_hostile_op_names_and_types():
    stats = _stats([(HOSTILE, f"{HOSTILE} = <img src=x onerror=alert(1)>(a&b)", 0, 10, [8], 8)])
    page = summarize(stats).to_html()
    assert "<script" not in page and "<img" not in page
    assert html.escape(HOSTILE) in page
    assert html.escape("<img src=x onerror=alert(1)>") in page
    parser = _TagBalance()
    parser.feed(page)
    assert parser.stack == []
    assert "script" not in parser.tags and "img" not in parser.tags
    assert HOSTILE in summarize(stats).to_text()  # plain text shows the name as it is


def test_html_is_self_contained_with_css_scoped_to_its_class_and_theme_variables():
    summary = summarize(_stats(_ROWS))
    page = summary.to_html()
    assert page == summary._repr_html_()
    assert page.startswith('<div class="tfmini-trace-summary">') and page.endswith("</div>")
    css = re.search(r"<style>(.*)</style>", page, re.S).group(1)
    for rule in re.findall(r"([^{}]+)\{", css):
        for selector in rule.split(","):
            assert selector.strip().startswith(".tfmini-trace-summary"), selector
    colours = re.findall(r"(?:color|background)\s*:\s*([^;]+);", css)
    assert colours and all(c.startswith("var(--jp-") and "," in c for c in colours)
    assert not re.search(r"<script|javascript:|\son\w+=|https?://", page)
    parser = _TagBalance()
    parser.feed(page)
    assert parser.stack == []
    # Bars show each row's share: MatMul took 9 of 16 µs.
    assert 'style="width:56.2%"' in page
