"""The extension's rough edges, in a real InteractiveShell: trailing comments on magic lines, Ctrl-C during a
run, `%tb` after a failed run, the creation site of ops made in a `%run_graph` expression, completion through
IPython's completer hooks, the printing of half- and single-precision scalars, heatmap legends and runner
slider ranges."""

from __future__ import annotations

import base64
import re
import struct
import warnings
import zlib

import numpy as np
import pytest
from ext_helpers import HOSTILE, assert_escaped, run
from IPython.core.completer import provisionalcompleter

import tfmini as tf
from ipython_ext import magics, sites, values
from ipython_ext.values import FetchedValue

GRAPH = """
a = tf.placeholder(tf.float32, [None, 3], name='a')
w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name='w')
with tf.name_scope('layer'):
    c = tf.matmul(a, w)
loss = tf.reduce_sum(c, name='loss')
"""
W = np.arange(6, dtype=np.float32).reshape(3, 2)


def _no_traceback(ran) -> None:
    assert "Traceback" not in ran.stderr + ran.stdout
    assert ran.result.error_in_exec is None


# -- trailing comments ------------------------------------------------------------------------------------
def test_load_ext_line_of_the_readme_works(bare_ip):
    ran = run(bare_ip, "# creates `sess`, an InteractiveSession on the default graph\n%load_ext ipython_ext\n"
                       "import tfmini as tf")
    assert ran.result.error_in_exec is None
    assert isinstance(bare_ip.user_ns["sess"], tf.InteractiveSession)


def test_run_graph_ignores_a_trailing_comment(ip):
    run(ip, GRAPH)
    ran = run(ip, "v = %run_graph c --feed a=[[1, 2, 3]]  # note")
    _no_traceback(ran)
    np.testing.assert_allclose(ip.user_ns["v"], np.array([[1, 2, 3]], np.float32) @ W)


def test_cell_magic_line_ignores_a_trailing_comment(ip):
    ran = run(ip, "%%run_graph --out got  # the comment\nk = tf.constant([1.0, 2.0])\nk * 2")
    _no_traceback(ran)
    np.testing.assert_allclose(ip.user_ns["got"], [2.0, 4.0])


@pytest.mark.parametrize("line, kept", [
    ("c --feed a=1  # note", "c --feed a=1"),
    ("# all comment", ""),
    ("'a#b:0' --trace", "'a#b:0' --trace"),
    ("c --feed s='x # y'  # z", "c --feed s='x # y'"),
    ("x[0]#not a comment", "x[0]#not a comment"),
    (r"'it\'s # in' # out", r"'it\'s # in'"),
])
def test_strip_comment(line, kept):
    assert magics.strip_comment(line) == kept


# -- Ctrl-C -----------------------------------------------------------------------------------------------
INTERRUPTING = """
x = tf.placeholder(tf.float32, [3], name='x')
def interrupted(v):
    raise KeyboardInterrupt
y = tf.py_func(interrupted, [x], tf.float32, name='slow_step')
z = y * 2.0
"""


@pytest.mark.parametrize("option", ["", "--trace"])
def test_ctrl_c_during_a_run_is_one_line_naming_the_op(ip, option):
    run(ip, INTERRUPTING)
    ran = run(ip, f"%run_graph z --feed x=[1.0, 2.0, 3.0] {option}")
    assert isinstance(ran.result.error_in_exec, KeyboardInterrupt)
    shown = (ran.stdout + ran.stderr).strip()
    assert re.fullmatch(r"KeyboardInterrupt: the run was interrupted in op 'slow_step' \(PyFunc\) after "
                        r"\d+(\.\d+)? (µs|ms|s)", shown), shown
    # The session is still usable.
    assert run(ip, "%run_graph tf.constant(3.0) * 2").value == 6.0


def test_interrupted_op_names_the_loop_for_an_op_inside_its_body(ip):
    body = "lambda i, v: (i + 1, tf.reshape(tf.py_func(interrupted, [v], tf.float32), [3]))"
    run(ip, INTERRUPTING.replace("z = y * 2.0", f"z = tf.while_loop(lambda i, v: i < 2, {body}, [0, x])[1]"))
    ran = run(ip, "%run_graph z --feed x=[1.0, 2.0, 3.0]")
    assert isinstance(ran.result.error_in_exec, KeyboardInterrupt)
    assert "interrupted in op 'while" in ran.stdout + ran.stderr
    assert "<tfmini plan" not in ran.stdout + ran.stderr


# -- %tb --------------------------------------------------------------------------------------------------
def test_tb_after_a_failed_run_shows_that_failure(ip):
    run(ip, "1 / 0")  # an older, unrelated error
    run(ip, "x = tf.placeholder(tf.float32, [None])\nbad = tf.reshape(x, [2])")
    failed = run(ip, "%run_graph bad --feed x=[1, 2, 3]")
    _no_traceback(failed)
    tb = run(ip, "%tb")
    assert "InvalidArgumentError" in tb.stdout
    assert "ZeroDivisionError" not in tb.stdout


def test_tb_after_a_run_refused_for_its_session_shows_that_message(ip):
    run(ip, "1 / 0")
    run(ip, "g2 = tf.Graph()\nwith g2.as_default():\n    k = tf.constant(1.0)")
    run(ip, "%run_graph k")
    tb = run(ip, "%tb")
    assert "no open session runs" in tb.stdout
    assert "ZeroDivisionError" not in tb.stdout


# -- creation sites of ops made in the magic's expressions --------------------------------------------------
def test_op_made_in_a_line_magic_expression_names_its_cell_line(ip):
    run(ip, "x = tf.placeholder(tf.float32, [None])")
    ran = run(ip, "a = 1\nv = %run_graph tf.reshape(x, [2], name='shaped') --feed x=[1.0, 2.0, 3.0]  # note")
    lines = ran.stderr.strip().splitlines()
    assert "in op 'shaped' (Reshape), created at line 2 of the cell" in lines[1]
    assert lines[2].strip() == "v = %run_graph tf.reshape(x, [2], name='shaped') --feed x=[1.0, 2.0, 3.0]  # note"
    number = ip.execution_count - 1
    op = tf.get_default_graph().get_operation_by_name("shaped")
    shown = ip.display_formatter.format(op)[0]["text/html"]
    assert f"line 2 of In[{number}]" in shown
    assert "%run_graph tf.reshape(x, [2], name=&#x27;shaped&#x27;)" in shown


def test_op_made_in_a_feed_expression_names_its_cell_line(ip):
    run(ip, "x = tf.placeholder(tf.float32, [None])")
    run(ip, "one = 1\ntwo = 2\nv = %run_graph x + 1.0 --feed x=tf.constant([1.0], name='made_in_feed')")
    number = ip.execution_count - 1
    op = tf.get_default_graph().get_operation_by_name("made_in_feed")
    assert sites.op_site(op)[0] == f"line 3 of In[{number}]"


# -- bare graph names as fetches --------------------------------------------------------------------------
def test_a_graph_name_that_is_no_python_name_fetches_that_tensor(ip):
    run(ip, GRAPH)
    v = run(ip, "%run_graph layer/MatMul --feed a=[[1, 2, 3]]").value
    np.testing.assert_allclose(v, np.array([[1, 2, 3]], np.float32) @ W)
    v = run(ip, "%run_graph layer/MatMul:0 --feed a=[[1, 2, 3]]").value
    np.testing.assert_allclose(v, np.array([[1, 2, 3]], np.float32) @ W)


def test_an_undefined_name_that_names_nothing_in_the_graph_is_still_reported(ip):
    ran = run(ip, "%run_graph nosuch")
    assert "could not evaluate FETCHES `nosuch`: NameError" in ran.stderr


# -- completion -------------------------------------------------------------------------------------------
def _complete(shell, line: str) -> list[str]:
    """What IPython's completer offers at the end of `line` (its classic interface, which runs the
    `complete_command` hooks as Jupyter's completion request does)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return shell.complete("", line, len(line))[1]


def test_completes_tensor_and_op_names_of_the_default_graph(ip):
    run(ip, GRAPH)
    assert _complete(ip, "%run_graph lo") == ["loss"]
    assert _complete(ip, "%run_graph lay") == ["layer/MatMul"]
    assert "layer/MatMul" in _complete(ip, "%run_graph --trace lay")


def test_completes_options_after_dashes(ip):
    assert _complete(ip, "%run_graph loss --fe") == ["--feed"]
    assert _complete(ip, "%%run_graph --fr") == ["--fresh"]
    assert set(_complete(ip, "%run_graph c --")) >= {"--feed", "--trace", "--graph", "--max-nodes", "--out"}


def test_completes_placeholder_names_after_feed(ip):
    run(ip, GRAPH + "inputs = a\nb2 = tf.placeholder(tf.int32, [], name='batch')")
    assert _complete(ip, "%run_graph loss --feed ") == ["a=", "inputs=", "b2=", "batch="]
    assert _complete(ip, "%run_graph loss --feed ba") == ["batch="]


def test_the_completion_api_jupyter_uses_offers_them_too(ip):
    run(ip, GRAPH)
    with provisionalcompleter():
        cases = [("%run_graph lo", "loss"), ("%run_graph loss --feed ", "a="), ("%run_graph c --tr", "--trace")]
        for line, expected in cases:
            assert expected in [c.text for c in ip.Completer.completions(line, len(line))], line


def test_unload_removes_the_completer(ip):
    run(ip, GRAPH)
    ip.run_line_magic("unload_ext", "ipython_ext")
    assert "loss" not in _complete(ip, "%run_graph lo")
    dispatch = ip.strdispatchers["complete_command"]
    assert "%run_graph" not in dispatch.strs and "%%run_graph" not in dispatch.strs


# -- scalars print with their dtype's precision ------------------------------------------------------------
def test_float32_and_float16_scalars_print_with_their_own_precision(ip):
    ran = run(ip, "v = %run_graph tf.constant(0.0758771225810051, tf.float32)")
    [shown] = ran.outputs
    assert "0.07587712" in shown["text/plain"] and "0.0758771225810051" not in shown["text/plain"]
    assert "0.07587712" in shown["text/html"]
    assert FetchedValue(np.float16(0.1)).__repr__().splitlines()[1] == "0.1"
    assert FetchedValue(np.float64(0.0758771225810051)).__repr__().splitlines()[1] == "0.0758771225810051"


def test_arrays_keep_numpys_printing():
    arr = np.array([0.0758771225810051, 1.5], np.float32)
    assert FetchedValue(arr).__repr__().splitlines()[1] == "[0.0759, 1.5   ]"


# -- heatmaps ---------------------------------------------------------------------------------------------
def _decode_png(data: bytes) -> np.ndarray:
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h = struct.unpack(">II", chunks[b"IHDR"][:8])
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + 3 * w)
    return raw[:, 1:].reshape(h, w, 3)


def test_heatmap_has_a_colour_scale_with_the_finite_min_and_max():
    arr = np.array([[-2.5, 1.0, 7.25], [4.0, np.nan, np.inf], [0.0, -np.inf, np.nan]])
    html = values.heatmap_html(arr)
    assert "<code>-2.5</code>" in html and "<code>7.25</code>" in html
    assert "NaN (2)" in html and "+Inf (1)" in html and "-Inf (1)" in html
    assert "colour scale -2.5 (purple) to 7.25 (yellow); NaN: 2 cells; +Inf: 1 cells; -Inf: 1 cells" in html
    scale = _decode_png(base64.b64decode(re.findall(r"base64,([^\"]+)", html)[1]))
    np.testing.assert_array_equal(scale[0, 0], values.colormap(np.array(0.0)))
    np.testing.assert_array_equal(scale[0, -1], values.colormap(np.array(1.0)))


def test_heatmap_special_colours_are_distinct_from_the_scale_and_each_other():
    ramp = values.colormap(np.linspace(0, 1, 256)).astype(int)
    colours = list(values.SPECIAL_RGB.values())
    assert len(set(colours)) == 3
    for rgb in colours:
        assert np.abs(ramp - np.array(rgb)).sum(axis=1).min() > 80


def test_a_single_nan_stays_visible_in_a_strided_down_heatmap():
    arr = np.zeros((1000, 1000), np.float32)
    arr[1, 3] = np.nan  # not on the stride grid: sampling alone would drop it
    arr[998, 997] = -np.inf
    hm = values.heatmap(arr)
    assert hm.rgb.shape[:2] == (250, 250)
    assert (hm.rgb == values.SPECIAL_RGB["NaN"]).all(axis=-1).sum() == 1
    assert (hm.rgb[-1, -1] == values.SPECIAL_RGB["-Inf"]).all()
    assert hm.special == {"NaN": 1, "-Inf": 1}


def test_heatmap_of_finite_values_has_no_swatches_and_legend_is_escaped():
    html = values.heatmap_html(np.arange(6.0).reshape(2, 3))
    assert "NaN" not in html and "Inf" not in html
    assert "<code>0</code>" in html and "<code>5</code>" in html
    shown = values.html(FetchedValue({HOSTILE: np.arange(6.0).reshape(2, 3)}))
    assert_escaped(shown)


# -- runner sliders ---------------------------------------------------------------------------------------
ipywidgets = pytest.importorskip("ipywidgets")


@pytest.mark.parametrize("value, lo, hi, step", [
    (0.001, -0.009, 0.011, 0.0001),
    (1000.0, -9000.0, 11000.0, 100.0),
    (-2.5, -13.0, 8.0, 0.1),
])
def test_float_slider_takes_its_range_from_the_value(value, lo, hi, step):
    from ipython_ext.widgets import interactive_runner
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * 2.0
        with tf.Session(graph=g) as sess:
            runner = interactive_runner(y, sess, feed_dict={x: value})
            slider = runner.controls["x"]
            assert (slider.min, slider.max, slider.step) == (lo, hi, step)
            assert slider.value == value
            np.testing.assert_allclose(runner.value, np.float32(value) * 2)


def test_int_slider_takes_its_range_from_the_value():
    from ipython_ext.widgets import interactive_runner
    g = tf.Graph()
    with g.as_default():
        n = tf.placeholder(tf.int32, [], name="n")
        with tf.Session(graph=g) as sess:
            slider = interactive_runner(n + 1, sess, feed_dict={n: 300}).controls["n"]
            assert (slider.min, slider.max, slider.step, slider.value) == (-700, 1300, 10, 300)
