"""Loading, double loading, reloading and unloading the extension in a real InteractiveShell, and
`%run_graph --reset`: what load adds, unload removes, and nothing else changes."""

from __future__ import annotations

import pytest
from ext_helpers import run

import ipython_ext
import tfmini as tf
from ipython_ext import formatters

MIMES = ("text/html", "image/svg+xml", "text/plain")


def _printers(shell) -> dict:
    return {m: dict(shell.display_formatter.formatters[m].type_printers) for m in MIMES}


def _magic_names(shell) -> dict:
    return {k: set(shell.magics_manager.magics[k]) for k in ("line", "cell")}


def test_load_binds_an_interactive_session_on_the_default_graph(ip):
    sess = ip.user_ns["sess"]
    assert isinstance(sess, tf.InteractiveSession)
    assert sess.graph is tf.get_default_graph()
    assert tf.get_default_session() is sess


def test_load_registers_the_magics_and_every_formatter(ip):
    assert "run_graph" in ip.magics_manager.magics["line"]
    assert "run_graph" in ip.magics_manager.magics["cell"]
    for mime, cls, _ in formatters.DISPLAYS:
        assert cls in ip.display_formatter.formatters[mime].type_printers


def test_loading_twice_does_nothing_more(ip):
    sess = ip.user_ns["sess"]
    printers = _printers(ip)
    ran = run(ip, "%load_ext ipython_ext")
    ipython_ext.load_ipython_extension(ip)
    assert ip.user_ns["sess"] is sess
    assert tf.get_default_session() is sess
    assert _printers(ip) == printers
    assert "already loaded" in ran.stdout


def test_a_taken_sess_name_is_left_alone_and_said_once(bare_ip):
    bare_ip.user_ns["sess"] = 42
    first = run(bare_ip, "%load_ext ipython_ext")
    second = run(bare_ip, "%reload_ext ipython_ext")
    assert bare_ip.user_ns["sess"] == 42
    assert isinstance(tf.get_default_session(), tf.InteractiveSession)
    assert "`sess` is already defined" in first.stdout
    assert "already defined" not in second.stdout


def test_reload_closes_its_session_and_makes_a_fresh_one(ip):
    old = ip.user_ns["sess"]
    printers_before = _printers(ip)
    run(ip, "%reload_ext ipython_ext")
    new = ip.user_ns["sess"]
    assert new is not old
    assert tf.get_default_session() is new
    with pytest.raises(RuntimeError, match="closed Session"):
        old.run(tf.constant(1.0))
    assert new.run(tf.constant(2.0)) == 2.0
    assert _printers(ip).keys() == printers_before.keys()
    assert run(ip, "v = %run_graph tf.constant(3.0)").result.success
    assert ip.user_ns["v"] == 3.0


def test_unload_leaves_nothing_behind(bare_ip):
    printers, magics, ns_keys = _printers(bare_ip), _magic_names(bare_ip), set(bare_ip.user_ns)
    run(bare_ip, "%load_ext ipython_ext")
    sess = bare_ip.user_ns["sess"]
    run(bare_ip, "%unload_ext ipython_ext")
    assert _printers(bare_ip) == printers
    assert _magic_names(bare_ip) == magics
    assert "RunGraphMagics" not in bare_ip.magics_manager.registry
    assert "sess" not in bare_ip.user_ns
    assert set(bare_ip.user_ns) - ns_keys <= {"_", "__", "___"} | {k for k in bare_ip.user_ns if k.startswith("_i")}
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(tf.constant(1.0))


def test_unload_closes_the_session_of_a_fresh_cell(ip):
    run(ip, "%%run_graph --fresh\nf = tf.constant(2.0)\nf")
    fresh = ipython_ext.extension.loaded(ip).fresh
    assert fresh.graph is ip.user_ns["f"].graph
    run(ip, "%unload_ext ipython_ext")
    with pytest.raises(RuntimeError, match="closed Session"):
        fresh.run(ip.user_ns["f"])


def test_reload_then_unload_leaves_no_stacked_formatters(bare_ip):
    printers = _printers(bare_ip)
    run(bare_ip, "%load_ext ipython_ext")
    run(bare_ip, "%reload_ext ipython_ext")
    run(bare_ip, "%unload_ext ipython_ext")
    assert _printers(bare_ip) == printers


def test_unload_restores_a_formatter_that_was_there_before(bare_ip):
    html = bare_ip.display_formatter.formatters["text/html"]

    def mine(t):
        return "<b>mine</b>"

    html.for_type(tf.Tensor, mine)
    run(bare_ip, "%load_ext ipython_ext")
    assert html.type_printers[tf.Tensor] is not mine
    run(bare_ip, "%unload_ext ipython_ext")
    assert html.type_printers[tf.Tensor] is mine


def test_unload_restores_a_formatter_registered_by_name_before(bare_ip):
    html = bare_ip.display_formatter.formatters["text/html"]

    def mine(t):
        return "<b>mine</b>"

    html.for_type_by_name(tf.Tensor.__module__, tf.Tensor.__name__, mine)
    run(bare_ip, "%load_ext ipython_ext")
    run(bare_ip, "%unload_ext ipython_ext")
    assert html.lookup_by_type(tf.Tensor) is mine


def test_unload_keeps_a_formatter_registered_after_load(bare_ip):
    run(bare_ip, "%load_ext ipython_ext")
    html = bare_ip.display_formatter.formatters["text/html"]

    def later(g):
        return "<b>later</b>"

    html.for_type(tf.Graph, later)
    run(bare_ip, "%unload_ext ipython_ext")
    assert html.type_printers[tf.Graph] is later
    assert tf.Tensor not in html.type_printers


def test_unload_keeps_a_sess_the_user_rebound(ip):
    ip.user_ns["sess"] = "mine"
    run(ip, "%unload_ext ipython_ext")
    assert ip.user_ns["sess"] == "mine"


def test_reset_gives_a_new_default_graph_and_session(ip):
    run(ip, "a = tf.constant(1.0)")
    old_graph, old_sess = tf.get_default_graph(), ip.user_ns["sess"]
    ran = run(ip, "%run_graph --reset")
    assert ran.result.success and ran.value is None
    assert tf.get_default_graph() is not old_graph
    assert tf.get_default_graph().get_operations() == []
    assert ip.user_ns["sess"] is not old_sess
    assert ip.user_ns["sess"].graph is tf.get_default_graph()
    assert tf.get_default_session() is ip.user_ns["sess"]
    with pytest.raises(RuntimeError):
        old_sess.run(ip.user_ns["a"])


def test_reset_then_run_in_one_line(ip):
    ran = run(ip, "v = %run_graph --reset tf.constant(5) * 2")
    assert ran.result.success
    assert ip.user_ns["v"] == 10
    assert len(tf.get_default_graph().get_operations()) == 3


def test_reset_keeps_a_sess_name_the_user_owns(bare_ip):
    bare_ip.user_ns["sess"] = "mine"
    run(bare_ip, "%load_ext ipython_ext\nimport tfmini as tf")
    run(bare_ip, "%run_graph --reset")
    assert bare_ip.user_ns["sess"] == "mine"
    assert isinstance(tf.get_default_session(), tf.InteractiveSession)


def test_reset_is_refused_inside_an_entered_graph(ip):
    old_graph, old_sess = tf.get_default_graph(), ip.user_ns["sess"]
    other = tf.Graph()
    with other.as_default():
        ran = run(ip, "%run_graph --reset")
    assert "close it first" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout
    assert tf.get_default_graph() is old_graph
    assert ip.user_ns["sess"] is old_sess
    assert old_sess.run(tf.constant(1)) == 1
