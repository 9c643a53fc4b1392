"""Summaries in the notebook: SummaryView draws a log directory's scalars, histograms, images, audio and text
inline (self-contained, escaped, deterministic, with a text fallback), `%run_graph --summaries LOGDIR` shows it
(redrawn while a `%%run_graph` cell runs), and a FileWriter displays as its summaries."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ext_helpers import HOSTILE, assert_escaped, no_external_assets, run
from IPython.core.error import UsageError

import ipython_ext.summary_view as view_module
import tfmini as tf
from ipython_ext.summary_view import SummaryView, read_logdir
from tfmini.framework.summary_io import _framed


def _write_training(logdir, steps: int = 4) -> None:
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None])
        tf.summary.scalar("loss", tf.reduce_mean(x))
        tf.summary.histogram("weights", x)
        tf.summary.image("digit", tf.reshape(x[:16], [1, 4, 4, 1]))
        tf.summary.audio("beep", tf.reshape(x[:8], [1, 8]) / 20.0, 8000.0)
        tf.summary.text("note", tf.constant("**bold** <b>"))
        merged = tf.summary.merge_all()
        with tf.Session() as sess, tf.summary.FileWriter(logdir, g) as writer:
            for step in range(steps):
                writer.add_summary(sess.run(merged, {x: np.arange(16, dtype=np.float32) * (step + 1)}), step)


def test_read_logdir_collects_each_kind(tmp_path):
    _write_training(tmp_path)
    run_ = read_logdir(str(tmp_path))["."]
    assert [v for _, v in run_.scalars["loss"]] == [7.5, 15.0, 22.5, 30.0]
    assert [s for s, _ in run_.histograms["weights"]] == [0, 1, 2, 3]
    assert run_.images["digit/image/0"][0] == 3 and run_.audio["beep/audio/0"][1].sample_rate == 8000
    assert run_.texts["note"] == (3, ["**bold** <b>"]) and run_.graphs == 1


def test_html_is_self_contained_escaped_and_deterministic(tmp_path):
    _write_training(tmp_path)
    view = SummaryView(tmp_path)
    html = view.html()
    no_external_assets(html)
    assert "<polyline" in html and "<polygon" in html  # the loss curve, the ridgeline rows
    assert 'src="data:image/png;base64,' in html and 'src="data:audio/wav;base64,' in html
    assert "**bold** &lt;b&gt;" in html and "<b>" not in html
    assert html == view.html()
    assert re.search(r"scalar\s+loss: 30 at step 3 \(4 points\)", view.text())
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}


def test_hostile_tags_are_escaped(tmp_path):
    with tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag=HOSTILE, simple_value=1.0)]), 0)
    html = SummaryView(tmp_path).html()
    assert_escaped(html)


def test_runs_in_subdirectories_and_missing_directories(tmp_path):
    _write_training(tmp_path / "train", steps=2)
    _write_training(tmp_path / "eval", steps=1)
    view = SummaryView(tmp_path)
    assert list(read_logdir(str(tmp_path))) == ["eval", "train"]
    assert "run eval:" in view.text() and "run train:" in view.text()
    assert "no event files yet" in SummaryView(tmp_path / "nothing").html()


def test_a_file_still_being_written_is_read_up_to_its_last_whole_record(tmp_path):
    _write_training(tmp_path, steps=3)
    (path,) = tmp_path.glob("events.out.tfevents.*")
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    assert len(read_logdir(str(tmp_path))["."].scalars["loss"]) == 2


def test_file_derived_audio_content_type_cannot_inject_markup(tmp_path):
    hostile = '"><script>alert(1)</script><x y="'
    with tf.summary.FileWriter(tmp_path) as writer:
        for tag_, mime in (("clip", hostile), ("ogg", "audio/ogg"), ("bad", "text/html")):
            clip = tf.Summary.Audio(sample_rate=8000, num_channels=1, length_frames=1,
                                    encoded_audio_string=b"RIFF", content_type=mime)
            writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag=tag_, audio=clip)]), 1)
    html = SummaryView(tmp_path).html()
    assert "<script>" not in html and "alert(1)</script>" not in html
    assert html.count('src="data:audio/wav;base64,UklGRg=="') == 2  # the hostile type and text/html
    assert 'src="data:audio/ogg;base64,UklGRg=="' in html


def test_a_record_that_is_not_an_event_or_a_vanished_file_ends_that_file(tmp_path, monkeypatch):
    _write_training(tmp_path / "good", steps=2)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "events.out.tfevents.1.x").write_bytes(_framed(b"\xff\xff\xff"))
    runs = read_logdir(str(tmp_path))
    assert len(runs["good"].scalars["loss"]) == 2 and not runs["bad"].scalars
    assert "run bad:" in SummaryView(tmp_path).text()
    listing = view_module._event_files
    monkeypatch.setattr(view_module, "_event_files",
                        lambda d: {**listing(d), "gone": [str(tmp_path / "gone.tfevents")]})
    assert not read_logdir(str(tmp_path))["gone"].scalars


def test_non_finite_scalars_are_marked_not_drawn_as_the_minimum(tmp_path):
    with tf.summary.FileWriter(tmp_path) as writer:
        for step, value in enumerate([1.0, float("inf"), float("nan"), 2.0, float("-inf")]):
            writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="loss", simple_value=value)]), step)
    html = SummaryView(tmp_path).html()
    line = re.search(r'<polyline points="([^"]*)"', html).group(1)
    assert line == "4.0,116.0 223.0,4.0"  # steps 0 and 3 only
    marks = re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*tfx-sum-nonfinite">([^<]*)<', html)
    assert marks == [("77.0", "12.0", "+inf"), ("150.0", "60.0", "NaN"), ("296.0", "116.0", "-inf")]
    assert "3 non-finite (inf/NaN) not on the axis" in html


def test_line_magic_shows_the_summaries_of_a_path_or_a_variable(ip, tmp_path):
    _write_training(tmp_path)
    ip.user_ns["logdir"] = tmp_path
    for line in ("%run_graph --summaries logdir", f"%run_graph --summaries '{tmp_path}'"):
        ran = run(ip, line)
        assert ran.result.error_in_exec is None and len(ran.outputs) == 1
        assert ran.outputs[0]["text/plain"].startswith(f"Summaries in {tmp_path}")
        assert "<polyline" in ran.outputs[0]["text/html"]
    ip.user_ns["bad"] = 3
    with pytest.raises(UsageError, match="not a path"):
        ip.run_line_magic("run_graph", "--summaries bad")


def test_line_magic_runs_fetches_then_shows_summaries(ip, tmp_path):
    _write_training(tmp_path)
    ip.user_ns["logdir"] = str(tmp_path)
    ran = run(ip, "v = %run_graph tf.constant(2.0) --summaries logdir")
    assert ip.user_ns["v"] == 2.0
    assert ran.outputs[-1]["text/plain"].startswith("Summaries in")


def test_cell_magic_redraws_while_the_cell_trains(ip, tmp_path):
    ip.user_ns["logdir"] = str(tmp_path)
    code = (
        "%%run_graph --summaries logdir\n"
        "import time\n"
        "x = tf.placeholder(tf.float32, [])\n"
        "s = tf.summary.scalar('loss', x)\n"
        "w = tf.summary.FileWriter(logdir, flush_secs=0)\n"
        "for step in range(5):\n"
        "    w.add_summary(sess.run(s, {x: float(step)}), step)\n"
        "    w.flush()\n"
        "    time.sleep(0.3)\n"
        "w.close()\n"
    )
    ran = run(ip, code)
    assert ran.result.error_in_exec is None
    assert len(ran.outputs) >= 3  # the first drawing, redraws during the loop, the last one
    assert "no event files yet" in ran.outputs[0]["text/plain"]
    assert "loss: 4 at step 4 (5 points)" in ran.outputs[-1]["text/plain"]


def test_a_file_writer_displays_as_its_summaries(ip, tmp_path):
    ip.user_ns["logdir"] = str(tmp_path)
    run(ip, "w = tf.summary.FileWriter(logdir)\n"
            "w.add_summary(sess.run(tf.summary.scalar('acc', tf.constant(0.5))), 7)")
    data, _ = ip.display_formatter.format(ip.user_ns["w"])
    assert "acc: 0.5 at step 7" in data["text/plain"]  # flushed before drawing
    assert "<svg" in data["text/html"]
    run(ip, "w.close()")
    assert "acc: 0.5" in ip.display_formatter.format(ip.user_ns["w"])[0]["text/plain"]
