"""The trace view's Python side: the compact data it embeds (decoded here as the browser decodes it, and
checked against the step stats and against the Chrome trace `Timeline` writes), the op-type colours, the
escaping of the embedded script, the static picture, determinism, and the output size of a 583-op step.
The browser side is tests/ipython_ext/test_trace_view_browser.py."""

from __future__ import annotations

import json
import re

import pytest
from ext_helpers import HOSTILE

import tfmini as tf
from benchmarks.trace_view import measure, training_step
from ipython_ext import markup
from ipython_ext.trace_colours import COMMON, PALETTE, type_colour
from ipython_ext.trace_data import script_json, trace_data
from ipython_ext.trace_view import DETAILED_OPS, TraceView, op_stats, timeline_svg
from tfmini.client.timeline import Timeline, node_times_ns, parse_op_label


@pytest.fixture(scope="module")
def step():
    return training_step()


def decode_names(run: dict) -> list[str]:
    names, prev = [], ""
    for n, suffix in zip(run["np"], run["ns"]):
        prev = prev[:n] + suffix
        names.append(prev)
    return names


def input_text(ref, names: list[str]) -> str:
    if isinstance(ref, str):
        return ref
    if isinstance(ref, int):
        return "^" + names[-ref - 1] if ref < 0 else names[ref]
    return f"{names[ref[0]]}:{ref[1]}"


# -- colours ----------------------------------------------------------------------------------------------
def _fnv1a(text: str, basis: int) -> int:
    h = basis
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) % 2**32
    return h


def test_common_op_types_all_get_different_colours():
    required = ["MatMul", "Mul", "Maximum", "Add", "Identity", "Fill", "Reshape", "VariableV2"]
    assert len({type_colour(t) for t in required}) == len(required)
    assert len({type_colour(t) for t in COMMON}) == len(COMMON)
    assert len(set(PALETTE)) == len(PALETTE)


def test_colours_are_a_stable_hash_of_the_type():
    # The same function of the name in every process: FNV-1a from the module's basis, modulo the palette.
    from ipython_ext import trace_colours

    for op_type in ("MatMul", "ApplyAdam", "SparseSoftmaxCrossEntropyWithLogits", "é", HOSTILE):
        assert type_colour(op_type) == PALETTE[_fnv1a(op_type, trace_colours._SEED) % len(PALETTE)]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in PALETTE)


# -- the embedded data ------------------------------------------------------------------------------------
def test_compact_data_decodes_to_the_recorded_step(step):
    md, graph = step
    data = trace_data([md.step_stats], graph)
    [run] = data["runs"]
    nodes = [ns for dev in md.step_stats.dev_stats for ns in dev.node_stats]
    names = decode_names(run)
    assert names == [ns.node_name for ns in nodes]
    times = [node_times_ns(ns) for ns in nodes]
    origin = min(s for s, _ in times)
    assert run["s"] == [s - origin for s, _ in times] and run["d"] == [e - s for s, e in times]
    assert [data["types"][t] for t in run["t"]] == [parse_op_label(ns.timeline_label)[1] for ns in nodes]
    assert [[input_text(r, names) for r in refs] for refs in run["i"]] == \
        [parse_op_label(ns.timeline_label)[2] for ns in nodes]
    for outputs, ns in zip(run["o"], nodes):
        assert [b for _, b in outputs] == [o.tensor_description.allocation_description.requested_bytes
                                           for o in ns.output]
    shape = next(data["outs"][o[0][0]] for o, n in zip(run["o"], names) if n == "block1/dense/MatMul")
    assert shape == "float32 (64, 64)"
    assert run["m"][5] == [[0, ns.memory[0].allocator_bytes_in_use, ns.memory[0].total_bytes]
                           for ns in [nodes[5]]]
    assert run["allocators"] == ["cpu"] and run["devices"] == [md.step_stats.dev_stats[0].device]
    assert [t[4] for t in run["tracks"]] == ["thread 1"]
    assert data["colours"] == [type_colour(t) for t in data["types"]]


def test_compact_data_holds_the_chrome_trace_events(step):
    md, graph = step
    [run] = trace_data([md.step_stats], graph)["runs"]
    names = decode_names(run)
    events = json.loads(Timeline(md.step_stats, graph).generate_chrome_trace_format(show_memory=True))["traceEvents"]
    ops = [e for e in events if e["ph"] == "X"]
    assert [e["args"]["name"] for e in ops] == names
    assert [e["ts"] for e in ops] == [s / 1000 for s in run["s"]]
    assert [e["dur"] for e in ops] == [d / 1000 for d in run["d"]]
    tracks = {(t[0] + 1, t[1]): t[2] for t in run["tracks"]}
    named = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert named == tracks
    flows = sum(1 for e in events if e["ph"] == "s")
    assert flows == sum(1 for refs in run["i"] for r in refs if not isinstance(r, str) and not
                        (isinstance(r, int) and r < 0))


def test_several_runs_share_the_tables_and_get_their_lanes(step):
    md, graph = step
    data = trace_data([md.step_stats, md.step_stats], graph)
    assert [t[4] for r in data["runs"] for t in r["tracks"]] == ["run 1 · thread 1", "run 2 · thread 1"]
    assert data["runs"][0]["t"] == data["runs"][1]["t"]
    assert len(data["types"]) == len(set(data["types"]))
    files = [r["file"] for r in data["runs"]]
    assert len(set(files)) == 2 and all(re.fullmatch(r"tfmini-trace-[0-9a-f]{8}\.json", f) for f in files)


def test_script_json_cannot_end_the_script_and_round_trips():
    value = {"names": [HOSTILE, "</script><script>alert(1)</script>", "<!--", "a & b", "\u2028\u2029", "é"]}
    text = script_json(value)
    assert not re.search(r"[<>&\u2028\u2029]", text) and text.isascii()
    assert json.loads(text) == value


def test_hostile_names_never_reach_the_markup_raw():
    stats = tf.StepStats()
    dev = stats.dev_stats.add(device="/cpu:0")
    for i, name in enumerate([HOSTILE, "</script><b>x</b>"]):
        ns = dev.node_stats.add(node_name=name, timeline_label=f"{name} = {HOSTILE}()", all_start_micros=10 * i,
                                all_end_rel_micros=5, thread_id=7)
        ns.output.add(slot=0).tensor_description.allocation_description.requested_bytes = 4
    html = TraceView(stats).html()
    assert "<img src=x" not in html and "<b>x</b>" not in html
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    assert "</" not in script.split("})(", 1)[1]        # the data part of the script


# -- the display ------------------------------------------------------------------------------------------
def test_display_has_the_view_the_static_picture_and_the_download(step):
    md, graph = step
    markup._id_counts.clear()
    html = TraceView(md, graph=graph).html()
    assert html.count("<script>") == 1 and html.count('class="tfx-trace"') == 1
    assert re.search(r'data-tfx-id="tfx-trace-[0-9a-f]{10}-0"', html)
    assert re.search(r'<a class="tfx-link tfx-trace-download" href="#" data-run="0" '
                     r'download="tfmini-trace-[0-9a-f]{8}\.json">Download the Chrome trace</a>', html)
    assert 'class="tfx-timeline"' in html and "Costliest ops" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)           # nothing from the network
    assert "base64" not in html


def test_display_is_deterministic_and_leaves_the_run_metadata_alone(step):
    md, graph = step
    before = md.SerializeToString()
    markup._id_counts.clear()
    first = TraceView(md, graph=graph, highlight="block1/dense/MatMul").html()
    markup._id_counts.clear()
    second = TraceView(md, graph=graph, highlight="block1/dense/MatMul").html()
    assert first == second
    assert '"highlight":"block1/dense/MatMul"' in first
    assert md.SerializeToString() == before


def test_static_picture_has_a_bar_per_op_when_small_and_merged_paths_when_large(step):
    md, _ = step
    stats = op_stats(md.step_stats)
    assert len(stats) > DETAILED_OPS
    svg = timeline_svg([stats])
    assert "<title>" not in svg and svg.count("<path") <= len({s.op_type for s in stats})
    assert 'stroke="#d62728"' not in svg
    assert timeline_svg([stats], highlight="block1/dense/MatMul").count('stroke="#d62728"') == 1
    small = timeline_svg([stats[:20]], highlight=stats[3].name)
    assert small.count("<title>") == 20 and small.count('stroke="#d62728"') == 1


def test_a_583_op_training_step_weighs_well_under_200_kb():
    m = measure()
    assert m["ops"] == 583
    assert m["total"] < 150_000, m["sizes"]
    assert m["chrome_trace_base64"] > 10 * m["html_parts"]["data"]   # what used to be embedded
