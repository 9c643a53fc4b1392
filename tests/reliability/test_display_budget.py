"""Displays of huge graphs stay within their time budget: a flat (unscoped) graph or GraphDef of thousands of
ops, a deep scoped one, and a graph whose layout `dot` would take minutes over all draw a picture in well
under 2 s, render it once for every formatter, cache a failure, and say what was left out and how to see it;
the interactive runner and value views of huge arrays stay bounded in time and memory."""

from __future__ import annotations

import random
import subprocess
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest
from reliability_support import extension_shell

import tfmini as tf
from ipython_ext import graph_view, values

BUDGET_S = 2.0

needs_dot = pytest.mark.skipif(graph_view.find_dot() is None, reason="Graphviz's dot is not installed")


@pytest.fixture
def ip():
    with extension_shell() as shell:
        yield shell


@pytest.fixture
def dot_calls(monkeypatch):
    """Counts the `dot` processes started (the render cache starts empty)."""
    monkeypatch.setattr(graph_view, "_svg_cache", type(graph_view._svg_cache)())
    monkeypatch.setattr(graph_view, "_view_cache", type(graph_view._svg_cache)(), raising=False)
    calls = []
    real = subprocess.run

    def counting(cmd, *args, **kwargs):
        calls.append(cmd)
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(graph_view.subprocess, "run", counting)
    return calls


def flat_graph(n: int) -> tf.Graph:
    """n unscoped ops: one placeholder feeding every Add of a long Add/Identity chain (a layout that takes
    `dot` minutes when drawn op by op)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        t = x
        for i in range(n - 1):
            t = tf.identity(t) if i % 2 else tf.add(t, x)
    return g


def deep_graph(n: int) -> tf.Graph:
    """About n ops in nested name scopes, ten per innermost scope."""
    g = tf.Graph()
    with g.as_default():
        t = tf.placeholder(tf.float32, [3], name="x")
        for i in range(n // 10):
            with tf.name_scope(f"block{i}"), tf.name_scope("inner"):
                for _ in range(5):
                    t = tf.add(t, 1.0)
    return g


def fan_graph(scopes: int) -> tf.Graph:
    """A chain of small scopes that all read one placeholder: each scope collapses to one node, and the
    placeholder's edges span the whole chain."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        t = x
        for i in range(scopes):
            with tf.name_scope(f"s{i}"):
                t = tf.add(tf.multiply(t, 2.0), x)
    return g


def staircase_graph(n: int) -> tf.Graph:
    """n ops in name scopes 0 to 99 deep, each op in a scope of its own (the review's deep-scope graph)."""
    g = tf.Graph()
    with g.as_default():
        prev = tf.constant(1.0, name="c")
        for i in range(n - 1):
            with tf.name_scope("/".join(f"d{j}" for j in range(i % 100))):
                prev = tf.identity(prev, name=f"op{i}")
    return g


def noop_graph_def(n: int, depth: int) -> tf.GraphDef:
    """n NoOps each in a scope chain `depth` deep of its own under one of 100 top-level scopes, so no depth
    of collapsing fits 60 nodes; each waits on the one before."""
    gd = tf.GraphDef()
    middle = "/".join(f"s{j}" for j in range(1, depth))
    for i in range(n):
        node = gd.node.add(name=f"t{i % 100}/{middle}/op{i}", op="NoOp")
        if i:
            node.input.append("^" + gd.node[i - 1].name)
    return gd


def timed_format(shell, obj) -> tuple[dict, float]:
    start = time.perf_counter()
    data, _ = shell.display_formatter.format(obj)
    return data, time.perf_counter() - start


@needs_dot
@pytest.mark.parametrize("as_graph_def", [False, True], ids=["Graph", "GraphDef"])
def test_flat_5000_op_graph_draws_a_grouped_picture_within_the_budget_rendered_once(ip, dot_calls, as_graph_def):
    g = flat_graph(5000)
    obj = g.as_graph_def() if as_graph_def else g
    data, seconds = timed_format(ip, obj)
    assert seconds < BUDGET_S, f"display took {seconds:.2f} s"
    assert "image/svg+xml" in data and 'class="tfx-gv"' in data["text/html"]
    assert len(dot_calls) == 1  # the HTML and the SVG formatter share one render
    plain = data["text/plain"]
    assert "5000 ops" in plain and "grouped" in plain and "max_nodes" in plain
    assert "Add_*" in data["image/svg+xml"] and "2500 ops" in data["image/svg+xml"]
    _, again = timed_format(ip, obj)
    assert len(dot_calls) == 1 and again < BUDGET_S


@needs_dot
def test_deep_scoped_1000_op_graph_draws_within_the_budget(ip, dot_calls):
    data, seconds = timed_format(ip, deep_graph(1000))
    assert seconds < BUDGET_S and "image/svg+xml" in data and len(dot_calls) == 1


def picture_or_note(data: dict) -> None:
    """A display draws a picture that parses as XML, or says why it shows a listing instead."""
    if "image/svg+xml" in data:
        ET.fromstring(data["image/svg+xml"])
    else:
        assert "could not draw" in data["text/html"] or "apt-get install graphviz" in data["text/html"]


DEEP_CASES = {
    "staircase-Graph": lambda: staircase_graph(3000),
    "staircase-GraphDef": lambda: staircase_graph(3000).as_graph_def(),
    "NoOps-5000-depth-60": lambda: noop_graph_def(5000, 60),
    "NoOps-10000-depth-30": lambda: noop_graph_def(10000, 30),
}


@pytest.mark.parametrize("case", list(DEEP_CASES))
def test_deep_name_scopes_display_within_the_budget_rendered_once(ip, dot_calls, case):
    obj = DEEP_CASES[case]()
    data, seconds = timed_format(ip, obj)
    assert seconds < BUDGET_S, f"display took {seconds:.2f} s"
    picture_or_note(data)
    assert len(dot_calls) <= 1
    assert "nodes drawn" in data["text/plain"]


def test_planning_past_its_budget_draws_top_level_scopes_and_says_how_to_see_more(ip, dot_calls, monkeypatch):
    monkeypatch.setattr(graph_view, "PLAN_BUDGET_S", 0.0)
    data, seconds = timed_format(ip, deep_graph(1000))
    assert seconds < BUDGET_S, f"display took {seconds:.2f} s"
    picture_or_note(data)
    plain = data["text/plain"]
    assert "planning" in plain and "top level" in plain and "expand=" in plain
    if "image/svg+xml" in data:
        assert "block0/" in data["image/svg+xml"] and "inner" not in data["image/svg+xml"]


def _reference_units(names: list[str], max_nodes: int, collapse: set, expand: list) -> dict:
    """Collapsing by its definition, one depth at a time: the deepest level up until at most `max_nodes`
    units remain, else the fewest; a scope holding one op draws as that op."""
    def scopes(name):
        parts = name.split("/")
        return ["/".join(parts[:k]) for k in range(1, len(parts))]

    def unit(name, depth):
        for k, s in enumerate(scopes(name), start=1):
            if s in collapse or (k > depth and not any(e == s or e.startswith(s + "/") for e in expand)):
                return ("scope", s)
        return ("op", name)

    best = {}
    for depth in range(max((len(scopes(n)) for n in names), default=0), -1, -1):
        units = {n: unit(n, depth) for n in names}
        sizes = Counter(units.values())
        units = {n: ("op", n) if sizes[u] == 1 else u for n, u in units.items()}
        if not best or len(set(units.values())) < len(set(best.values())):
            best = units
        if len(set(units.values())) <= max_nodes:
            break
    return best


def test_scope_collapsing_in_one_pass_agrees_with_its_per_depth_definition():
    rng = random.Random(17)
    for _ in range(300):
        names = set()
        for _ in range(rng.randint(1, 40)):
            parts = [rng.choice("abc") for _ in range(rng.randint(0, 5))]
            names.add("/".join(parts + [f"op{len(names)}"]))
        names = sorted(names, key=lambda _: rng.random())
        scopes = sorted({n.rsplit("/", k)[0] for n in names for k in range(1, n.count("/") + 1)})
        collapse = set(rng.sample(scopes, min(len(scopes), rng.randint(0, 2))))
        expand = rng.sample(scopes, min(len(scopes), rng.randint(0, 2)))
        max_nodes = rng.randint(1, 12)
        nodes = [graph_view.Node(n, f"Type{i}", (), (), ()) for i, n in enumerate(names)]  # nothing groups
        got = graph_view.assign_units(nodes, max_nodes, collapse, expand)
        assert got == _reference_units(names, max_nodes, collapse, expand), (names, collapse, expand, max_nodes)


@needs_dot
def test_a_layout_dot_would_take_minutes_over_is_simplified_until_it_fits(ip, dot_calls):
    g = fan_graph(55)  # 56 units fit max_nodes=60, yet x's 55 long edges make dot take seconds to minutes
    data, seconds = timed_format(ip, g)
    assert seconds < BUDGET_S, f"display took {seconds:.2f} s"
    assert "image/svg+xml" in data and len(dot_calls) == 1
    assert "max_nodes" in data["text/plain"]


@needs_dot
def test_a_graph_grows_and_the_display_follows_its_version(ip, dot_calls):
    g = flat_graph(10)
    first, _ = timed_format(ip, g)
    with g.as_default():
        tf.constant(1.0, name="late")
    second, _ = timed_format(ip, g)
    assert "late" not in first["text/plain"] and "late" in second["text/plain"]
    assert len(dot_calls) == 2


def test_a_dot_that_hangs_is_cut_off_the_failure_is_cached_and_the_display_says_how_to_see_more(
        ip, dot_calls, tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nexec /bin/sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    g = deep_graph(200)
    data, seconds = timed_format(ip, g)
    assert seconds < BUDGET_S, f"display took {seconds:.2f} s"
    assert "image/svg+xml" not in data
    html = data["text/html"]
    assert "could not draw" in html and "max_nodes" in html and "<td>x</td>" in html
    _, again = timed_format(ip, g)
    assert len(dot_calls) == 1 and again < 0.5


# -- values and the interactive runner --------------------------------------------------------------------
def _bounded(fn, seconds: float = 1.0, megabytes: float = 50.0):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = fn()
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < megabytes * 2**20, f"peak {peak / 2**20:.1f} MiB"
    return result


def test_interactive_runner_on_a_1000x1000_placeholder_is_bounded(ip):
    pytest.importorskip("ipywidgets")
    from ipython_ext.widgets import interactive_runner

    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [1000, 1000], name="x")
        y = tf.reduce_sum(x * 2.0)
        with tf.Session(graph=g) as sess:
            runner = _bounded(lambda: interactive_runner(y, sess))
            control = runner.controls["x"]
            assert len(control.value) < 200 and runner.error is None and runner.value == 0.0
            control.value = "1.5"  # a scalar fills the placeholder's shape
            assert runner.error is None and runner.value == pytest.approx(3e6)
            big = np.ones((1000, 1000), np.float32)
            given = _bounded(lambda: interactive_runner(y, sess, feed_dict={x: big}))
            assert len(given.controls["x"].value) < 200 and given.value == pytest.approx(2e6)


def test_value_views_of_huge_arrays_and_strings_are_bounded():
    arr = np.random.default_rng(0).standard_normal((1000, 1000))
    fv = values.FetchedValue({"a": arr, "s": np.array([b"x" * 5_000_000, b"y"], dtype=object)})
    text = _bounded(lambda: values.text(fv), megabytes=40)
    html = _bounded(lambda: values.html(fv), megabytes=40)
    assert len(text) < 20_000 and len(html) < 200_000
    assert "…" in text



def test_a_list_attr_of_a_million_items_formats_only_what_fits_its_line():
    from ipython_ext import describe

    items = list(range(1_000_000))
    text = _bounded(lambda: describe.attr_text(items), seconds=0.05, megabytes=1)
    assert text.startswith("[0, 1, 2") and len(text) <= describe.ATTR_LIMIT
