"""Displays of huge graphs stay within their time budget: a flat (unscoped) graph or GraphDef of thousands of
ops, a deep scoped one, and a graph whose layout `dot` would take minutes over all draw a picture in well
under 2 s, render it once for every formatter, cache a failure, and say what was left out and how to see it;
the interactive runner and value views of huge arrays stay bounded in time and memory."""

from __future__ import annotations

import subprocess
import time
import tracemalloc

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
    assert "image/svg+xml" in data and "<svg" in data["text/html"]
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
