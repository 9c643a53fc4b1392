"""The notebook debugger view: statistics checked against NumPy, the first NaN/Inf with its inputs and
creation site, filters (in Python and as CSS checkboxes), escaping, deterministic markup, failed steps, and the
view in a real browser (Debian's chromium, as the other browser tests: never skipped)."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from ext_helpers import HOSTILE

import tfmini as tf
from ipython_ext import markup
from ipython_ext.debugger import DebugView, run_debug, tensor_stats
from tfmini import debug as tf_debug

CHROMIUM = Path(os.environ.get("TFMINI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
X_BAD = np.array([[1.0, -1.0], [2.0, 1.0]], np.float32)  # y[0, 0] < 0: log gives NaN


@pytest.fixture
def model():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.name_scope("layer"):
            w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
            y = tf.matmul(x, w, name="y")
            z = tf.log(y, name="z")  # the line the view must name
        loss = tf.reduce_sum(z, name="loss")
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
        yield x, z, loss, sess
        sess.close()


@pytest.mark.parametrize("value", [
    np.array([[1.5, np.nan, -2.0], [np.inf, 4.0, -np.inf]], np.float32),
    np.array([3, -7, 11], np.int64),
    np.array([65504.0, -65504.0, 3.0], np.float16),  # float16 sums would overflow: computed in float64
])
def test_stats_against_numpy_over_the_finite_entries(value):
    st = tensor_stats(value)
    finite = value[np.isfinite(value)].astype(np.float64)
    assert (st.dtype, st.shape) == (value.dtype.name, value.shape)
    assert st.min == finite.min() and st.max == finite.max()
    assert math.isclose(st.mean, finite.mean()) and math.isclose(st.std, finite.std())
    assert (st.nan, st.inf) == (int(np.isnan(value).sum()), int(np.isinf(value).sum()))


def test_stats_of_booleans_complex_strings_empty_and_inconvertible_values():
    assert tensor_stats(np.array([True, False, True])).mean == pytest.approx(2 / 3)
    st = tensor_stats(np.array([3 + 4j, complex(np.nan, 0)], np.complex64))
    assert (st.min, st.max, st.nan, st.inf) == (5.0, 5.0, 1, 0)
    assert tensor_stats(np.array([b"a"], object)).cells()[:2] == ["string", "[1]"]
    assert tensor_stats(np.zeros((0, 3), np.float32)).cells() == ["float32", "[0, 3]", "", "", "", "", "0", "0"]
    assert tensor_stats(np.full(2, np.nan)).min is None
    assert tensor_stats(tf_debug.InconvertibleTensor("v", initialized=False)).dtype == "uninitialized"


def test_the_view_names_the_first_nan_its_inputs_and_where_it_was_created(model):
    x, z, loss, sess = model
    view = run_debug(sess, loss, {x: X_BAD})
    assert np.isnan(view.value)
    assert view.culprit.node_name == "layer/z"
    text = view.text()
    line = z.op.traceback[1]
    assert f"First NaN/Inf: layer/z:0 (Log), 2 NaN, 0 Inf, created at {__file__}:{line}" in text
    assert "z = tf.log(y, name=\"z\")  # the line the view must name" in text
    assert "input layer/y:0: float32 [2, 2] NaN=0 Inf=0" in text
    html = view.html()
    assert "First op that produced a NaN or an Inf" in html
    assert "Around layer/z" in html  # the graph view of its neighbourhood
    assert f"{__file__}:{line}" in html
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}


def test_rows_carry_one_class_per_filter_that_passes_and_the_first_nan_is_marked(model):
    x, z, loss, sess = model
    negative = {"negative": lambda datum, t: isinstance(t, np.ndarray) and bool((t < 0).any())}
    view = run_debug(sess, loss, {x: X_BAD}, filters=negative)
    html = view.html()
    rows = re.findall(r'<tr class="([^"]*)" data-name="([^"]*)">', html)
    assert rows[2:] == [("tfx-dbg-f1", "layer/y:0"), ("tfx-dbg-f0 tfx-dbg-first", "layer/z:0"),
                        ("", "const:0"), ("tfx-dbg-f0", "loss:0")]
    assert "only has_inf_or_nan" in html and "only negative" in html
    assert re.search(r"#tfx-dbg-[0-9a-f]+-0-f0:checked ~ table tbody tr:not\(\.tfx-dbg-f0\)", html)


def test_python_side_filters_restrict_the_rows(model):
    x, z, loss, sess = model
    dump = run_debug(sess, loss, {x: X_BAD}).dump
    assert [r.datum.node_name for r in DebugView(dump, filter_name="has_inf_or_nan").rows()] == ["layer/z", "loss"]
    assert [r.datum.node_name for r in DebugView(dump, node_name_regex="^layer/").rows()] == [
        "layer/w", "layer/w/read", "layer/y", "layer/z"]
    assert [r.datum.node_name for r in DebugView(dump, op_type_regex="MatMul|Sum").rows()] == ["layer/y", "loss"]
    with pytest.raises(ValueError, match="no tensor filter named"):
        DebugView(dump, filter_name="nope")


def test_rows_past_the_limit_are_counted_but_flagged_rows_are_always_drawn(model):
    x, z, loss, sess = model
    view = DebugView(run_debug(sess, loss, {x: X_BAD}).dump, max_rows=1)
    html = view.html()
    assert re.findall(r'data-name="([^"]*)"', html) == ["layer/w:0", "layer/z:0", "loss:0"]
    assert "... 3 more tensors not drawn" in html


def test_a_clean_step_says_so_and_draws_no_neighbourhood(model):
    x, z, loss, sess = model
    view = run_debug(sess, loss, {x: np.ones((2, 2), np.float32)})
    assert view.culprit is None and view.graph_view() is None
    assert "no NaN or Inf" in view.text()
    assert "No tensor of this step holds a NaN or an infinity." in view.html()


def test_a_failed_step_shows_its_error_and_what_ran_before_it():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None], name="a")
        doubled = tf.multiply(a, 2.0, name="doubled")
        bad = tf.reshape(doubled, [2, 2], name="bad")
        with tf.Session() as sess:
            view = run_debug(sess, bad, {a: [1.0, 2.0, 3.0]})
            assert view.value is None and "doubled" in view.dump.node_names()
            assert "bad" not in view.dump.node_names()
            text = view.text()
            assert "failed at bad" in text and "InvalidArgumentError" in text
            assert "Around bad" in view.html()
            assert sess.run(bad, {a: [1.0, 2.0, 3.0, 4.0]}).shape == (2, 2)


def test_everything_shown_is_escaped():
    with tf.Graph().as_default():
        bad = tf.log(tf.constant(-1.0), name="bad")  # <img src=x onerror=alert(1)>
        with tf.Session() as sess:
            view = run_debug(sess, bad)
            html = view.html()
    assert HOSTILE in view.text()  # the source line of the culprit, shown
    assert HOSTILE not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_markup_is_the_same_on_every_rerun(model):
    x, z, loss, sess = model
    first = run_debug(sess, loss, {x: X_BAD}).html()
    markup._id_counts.clear()
    again = run_debug(sess, loss, {x: X_BAD}).html()
    # Only the run number may differ between the two wrappers' views; both are run 1.
    assert first == again


def test_the_filters_work_in_a_browser(model, tmp_path):
    x, z, loss, sess = model
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps` as root (apt-get install chromium)",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright  # optional: the dev extras install it
    except ImportError:
        pytest.fail("the playwright package is missing: `make venv` installs the dev extras", pytrace=False)
    page_file = tmp_path / "debug.html"
    page_file.write_text('<!doctype html><html><head><meta charset="utf-8"></head><body>'
                         + run_debug(sess, loss, {x: X_BAD}).html() + "</body></html>", encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                   else route.abort())
        page.goto(page_file.as_uri(), wait_until="load")
        # The graph around the first NaN opens with its op selected, the details panel naming it.
        assert page.locator(".tfx-dbg-graph .tfx-gv-selected").count() == 1
        assert page.locator(".tfx-dbg-graph input.tfx-gv-search").input_value() == "layer/z"
        assert "Log" in page.locator(".tfx-dbg-graph .tfx-gv-selected").text_content()
        rows = page.locator(".tfx-dbg tbody tr")

        def visible_names() -> list[str]:
            return [rows.nth(i).get_attribute("data-name") for i in range(rows.count()) if rows.nth(i).is_visible()]

        assert visible_names() == ["layer/w:0", "layer/w/read:0", "layer/y:0", "layer/z:0", "const:0", "loss:0"]
        page.locator(".tfx-dbg label", has_text="only has_inf_or_nan").click()
        assert visible_names() == ["layer/z:0", "loss:0"]
        page.locator(".tfx-dbg label", has_text="only has_inf_or_nan").click()
        page.locator(".tfx-dbg input.tfx-dbg-search").fill("W/")
        assert visible_names() == ["layer/w/read:0"]
        browser.close()
    assert errors == []


def test_a_long_step_computes_statistics_only_for_the_rows_it_draws(monkeypatch):
    import ipython_ext.debugger as debugger

    with tf.Graph().as_default():
        h = tf.placeholder(tf.float32, [4], name="h")
        x = h
        for _ in range(300):
            x = tf.tanh(x)
        with tf.Session() as sess:
            dump = run_debug(sess, x, {h: np.ones(4, np.float32)}).dump
    calls = []
    real = debugger.tensor_stats
    monkeypatch.setattr(debugger, "tensor_stats", lambda v: calls.append(1) or real(v))
    view = DebugView(dump, max_rows=10)
    html = view.html()
    assert len(re.findall(r"<tr class=", html)) == 10 and "... 290 more tensors not drawn" in html
    assert len(calls) == debugger.TEXT_ROWS  # the plain-text fallback's rows, which include the 10 drawn


def test_run_debug_takes_a_wrapper_and_offers_its_filters(model):
    x, z, loss, sess = model
    wrapper = tf_debug.LocalDebugWrapperSession(sess)
    wrapper.add_tensor_filter("large", lambda datum, t: isinstance(t, np.ndarray) and bool((abs(t) > 4).any()))
    view = run_debug(wrapper, loss, {x: X_BAD})
    assert view.dump is wrapper.last_dump and list(view.filters) == ["has_inf_or_nan", "large"]
    assert [r.datum.node_name for r in view.rows() if r.passed[1]] == ["layer/y"]
    assert "only large" in view.html()


def test_run_graph_debug_shows_the_step_and_returns_the_value(ip):
    """`%run_graph --debug` runs through the debug wrapper: the value as a plain run gives it, the view of every
    tensor with the first NaN/Inf, and a failing run reported without a traceback."""
    from ext_helpers import run

    run(ip, "x = tf.placeholder(tf.float32, [2], name='x')\ny = tf.log(x, name='y')\nz = tf.reduce_sum(y, name='z')")
    ran = run(ip, "v = %run_graph --debug z --feed x=[1.0, -1.0]  # note")
    assert ran.result.error_in_exec is None and "Traceback" not in ran.stderr
    assert np.isnan(ip.user_ns["v"])
    html = next(d["text/html"] for d in ran.outputs if "text/html" in d)
    assert "y" in html and "has_inf_or_nan" in html
    bad = run(ip, "%run_graph --debug z")  # x not fed: the view shows the failed step, without a traceback
    assert "Traceback" not in bad.stderr + bad.stdout and bad.result.error_in_exec is None
    text = next(d["text/plain"] for d in bad.outputs if "text/plain" in d)
    assert "x" in text and "feed" in text.lower()
