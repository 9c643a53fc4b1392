"""How much a traced step weighs in a notebook, and how long the display takes to build: the inline trace view
of a 583-op training step (a batch-normalized MLP with Adam, plus its loss and accuracy), output by output
(text/html, image/svg+xml, text/plain) and the HTML by part (script, embedded data, static picture, tables,
styles), against the Chrome trace it can download (indented as `Timeline` writes it; the view used to embed
it base64-encoded).

    .venv/bin/python benchmarks/trace_view.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import re
import time

import numpy as np

import tfmini as tf
from ipython_ext import markup
from ipython_ext.trace_data import script_json, trace_data
from ipython_ext.trace_view import TraceView, view_script, view_style
from tfmini.client.timeline import Timeline


def training_step(blocks: int = 4, plain: int = 2) -> tuple[tf.RunMetadata, tf.Graph]:
    """One traced training step: `blocks` dense + batch-norm blocks and `plain` dense layers under Adam, with
    the loss and the accuracy fetched (583 ops with the defaults), traced after three warm-up steps."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 32], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        h = x
        for i in range(blocks):
            with tf.variable_scope(f"block{i}"):
                h = tf.layers.dense(h, 64, activation=tf.nn.relu, name="dense")
                h = tf.layers.batch_normalization(h, training=True)
        for i in range(plain):
            h = tf.layers.dense(h, 64, activation=tf.nn.relu, name=f"plain{i}")
        logits = tf.layers.dense(h, 10, name="logits")
        loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32), name="accuracy")
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        rng = np.random.default_rng(0)
        feed = {x: rng.standard_normal((64, 32)).astype(np.float32), y: rng.integers(0, 10, 64)}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):  # the first run of these fetches compiles their plan: keep it out of the trace
                sess.run([train, loss, accuracy], feed)
            md = tf.RunMetadata()
            sess.run([train, loss, accuracy], feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=md)
    return md, graph


def measure(runs: int = 1) -> dict:
    """Sizes (bytes of UTF-8) and build times of the display of `runs` copies of the step in one view."""
    md, graph = training_step()
    view_runs = [md] * runs
    start = time.perf_counter()
    view = TraceView(*view_runs, graph=graph)
    bundle = view._repr_mimebundle_()
    build_s = time.perf_counter() - start
    html = bundle["text/html"]
    svg_in_html = sum(len(m.encode()) for m in re.findall(r"<svg.*?</svg>", html, re.S))
    chrome = Timeline(md.step_stats, graph).generate_chrome_trace_format(show_dataflow=True, show_memory=True)
    return {
        "ops": sum(len(d.node_stats) for d in md.step_stats.dev_stats) * runs,
        "sizes": {mime: len(text.encode()) for mime, text in bundle.items()},
        "total": sum(len(text.encode()) for text in bundle.values()),
        "html_parts": {
            "script": len(view_script().encode()),
            "data": len(script_json(trace_data([md.step_stats] * runs, graph)).encode()),
            "static picture": svg_in_html,
            "styles": len(markup.stylesheet().encode()) + len(view_style().encode()),
        },
        "chrome_trace": len(chrome.encode()) * runs,
        "chrome_trace_base64": len(base64.b64encode(chrome.encode())) * runs,
        "build_s": build_s,
    }


def _kb(n: int) -> str:
    return f"{n / 1000:.1f} kB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="runs of the step shown in one view (default 1)")
    args = parser.parse_args(argv)
    m = measure(args.runs)
    print(f"trace view of {m['ops']} ops ({args.runs} run{'s' if args.runs != 1 else ''}): {_kb(m['total'])} "
          f"of output, built in {m['build_s'] * 1000:.0f} ms")
    for mime, n in m["sizes"].items():
        print(f"  {mime:<14} {_kb(n):>10}")
    print("  text/html parts:")
    for part, n in m["html_parts"].items():
        print(f"    {part:<14} {_kb(n):>10}")
    print(f"  the Chrome trace it downloads: {_kb(m['chrome_trace'])} as Timeline writes it "
          f"({_kb(m['chrome_trace_base64'])} base64), built in the browser, not embedded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
