"""The ipywidgets tools, built and driven without a browser (ipywidgets 8 with `comm` uses a dummy comm
outside a kernel): controls per placeholder, re-runs on change against NumPy, errors in place, the trace
explorer, and the message when ipywidgets is missing."""

from __future__ import annotations

import sys

import ipywidgets
import numpy as np
import pytest
from ext_helpers import HOSTILE, assert_escaped

import tfmini as tf
from ipython_ext import widgets


@pytest.fixture
def graph():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    m = tf.placeholder(tf.float32, [2, 2], name="m")
    flag = tf.placeholder(tf.bool, [], name="flag")
    y = x * tf.cast(n, tf.float32) + tf.reduce_sum(m)
    z = tf.logical_not(flag)
    unused = tf.placeholder(tf.float32, [None], name="unused")
    with tf.Session() as sess:
        yield sess, {"x": x, "n": n, "m": m, "flag": flag, "y": y, "z": z, "unused": unused}
    tf.reset_default_graph()


def test_runner_makes_a_control_per_needed_placeholder(graph):
    sess, t = graph
    runner = widgets.interactive_runner(t["y"], sess)
    assert list(runner.controls) == ["x", "n", "m"]
    assert isinstance(runner.controls["x"], ipywidgets.FloatSlider)
    assert isinstance(runner.controls["n"], ipywidgets.IntSlider)
    assert isinstance(runner.controls["m"], ipywidgets.Text)
    assert runner.controls["m"].value == "[[0, 0], [0, 0]]"
    assert runner.value == 0.0 and runner.error is None
    assert isinstance(runner.widget, ipywidgets.VBox)
    assert "application/vnd.jupyter.widget-view+json" in runner._repr_mimebundle_()


def test_runner_reruns_and_redraws_on_every_change(graph):
    sess, t = graph
    runner = widgets.interactive_runner(t["y"], sess)
    runner.controls["x"].value = 2.5
    runner.controls["n"].value = 4
    assert runner.value == pytest.approx(10.0)
    m = np.array([[1.0, 2.0], [3.0, -0.5]])
    runner.controls["m"].value = "[[1, 2], [3, -0.5]]"
    assert runner.value == pytest.approx(2.5 * 4 + m.sum())
    assert "<b>add:0</b>" in runner.output.value and "15.5" in runner.output.value


def test_runner_takes_first_values_from_a_feed_dict_and_a_checkbox_for_bools(graph):
    sess, t = graph
    runner = widgets.interactive_runner([t["y"], t["z"]], sess,
                                        feed_dict={t["x"]: 1.5, "n:0": 2, t["m"]: np.eye(2), t["flag"]: True})
    assert isinstance(runner.controls["flag"], ipywidgets.Checkbox)
    assert runner.value[0] == pytest.approx(1.5 * 2 + 2.0)
    assert not runner.value[1]
    runner.controls["flag"].value = False
    assert runner.value[1]


def test_runner_slider_of_an_unsigned_placeholder_offers_no_negative_values():
    tf.reset_default_graph()
    u = tf.placeholder(tf.uint8, [], name="u")
    with tf.Session() as sess:
        runner = widgets.interactive_runner(u + 1, sess)
        slider = runner.controls["u"]
        assert (slider.min, slider.max) == (0, 10)
        slider.value = 7
        assert runner.value == 8 and runner.error is None


def test_runner_shows_parse_and_shape_errors_in_place(graph):
    sess, t = graph
    runner = widgets.interactive_runner(t["y"], sess)
    runner.controls["m"].value = "[[1, 2], [3"
    assert "is not a number or a (nested) list of numbers" in runner.error
    assert "tfx-error" in runner.output.value
    runner.controls["m"].value = "[1, 2, 3]"
    assert "shape (3,) does not fit (2, 2)" in runner.error
    runner.controls["m"].value = "[[1, 1], [1, 1]]"
    assert runner.error is None and runner.value == pytest.approx(4.0)


def test_runner_shows_run_errors_as_the_short_op_message():
    tf.reset_default_graph()
    p = tf.placeholder(tf.float32, [None], name="p")
    bad = tf.reshape(p, [2])
    with tf.Session() as sess:
        runner = widgets.interactive_runner(bad, sess, feed_dict={p: [1.0, 2.0]})
        assert runner.error is None
        runner.controls["p"].value = "[1, 2, 3]"
        assert runner.error.startswith("InvalidArgumentError: ")
        assert "in op 'Reshape' (Reshape)" in runner.error


def test_runner_escapes_fetched_strings():
    tf.reset_default_graph()
    s = tf.placeholder(tf.string, [], name="s")
    with tf.Session() as sess:
        runner = widgets.interactive_runner(tf.identity(s), sess)
        runner.controls["s"].value = repr(HOSTILE)
        assert runner.value == HOSTILE.encode()
        assert_escaped(runner.output.value)


def test_runner_uses_the_default_session(graph):
    sess, t = graph
    assert tf.get_default_session() is sess
    assert widgets.interactive_runner(t["y"]).session is sess


def test_runner_without_any_session_says_it_needs_one():
    tf.reset_default_graph()
    assert tf.get_default_session() is None
    with pytest.raises(ValueError, match="needs a session"):
        widgets.interactive_runner(tf.constant(1.0))


def _traced(sess, t) -> tf.RunMetadata:
    md = tf.RunMetadata()
    sess.run(t["y"], {t["x"]: 1.0, t["n"]: 2, t["m"]: np.ones((2, 2))},
             options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)
    return md


def test_trace_explorer_lists_ops_costliest_first_and_shows_the_chosen_one(graph):
    sess, t = graph
    md = _traced(sess, t)
    explorer = widgets.trace_explorer(md)
    durations = [s.duration_us for s in explorer.stats]
    assert durations == sorted(durations, reverse=True)
    assert {s.name for s in explorer.stats} == {n.node_name for d in md.step_stats.dev_stats for n in d.node_stats}
    chosen = next(i for i, s in enumerate(explorer.stats) if s.name == "Cast")
    explorer.chooser.value = chosen
    assert "<code>Cast</code>" in explorer.details.value
    assert "Cast = Cast(n)" in explorer.details.value
    assert "float32" in explorer.details.value and "4 B" in explorer.details.value
    assert explorer.timeline.value.count('stroke="#d62728"') == 1
    assert "<title>Cast (Cast)" in explorer.timeline.value


def test_trace_explorer_escapes_recorded_names():
    stats = tf.StepStats()
    dev = stats.dev_stats.add(device="/cpu:0")
    dev.node_stats.add(node_name=HOSTILE, timeline_label=f"{HOSTILE} = Foo()", all_start_micros=1,
                       op_end_rel_micros=3, all_end_rel_micros=3)
    explorer = widgets.trace_explorer(stats)
    assert HOSTILE in explorer.chooser.options[0][0]  # a Dropdown label is text, not markup
    assert_escaped(explorer.details.value)
    assert_escaped(explorer.timeline.value)


def test_trace_explorer_of_an_untraced_run_says_so():
    explorer = widgets.trace_explorer(tf.RunMetadata())
    assert explorer.chooser.options == ()
    assert "no step stats" in explorer.details.value


def test_without_ipywidgets_a_clear_import_error(graph, monkeypatch):
    sess, t = graph
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match=r"pip install 'ipywidgets>=8'"):
        widgets.interactive_runner(t["y"], sess)
    with pytest.raises(ImportError, match="conda install -c conda-forge ipywidgets"):
        widgets.trace_explorer(tf.RunMetadata())
