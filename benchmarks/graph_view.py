"""`python -m benchmarks.graph_view`: size and time of a graph display at three model sizes: an MLP trained
with gradient descent (~130 ops), a 40-block residual model (~1,000 ops, `block0…block39`) and a ~10,000-op
model of the same kind. For each: the time to build every MIME type of the display (the interactive HTML,
the static Graphviz SVG and the text) and the bytes of each. `--screenshots docs/images` also writes
pictures of the interactive view (needs playwright and Debian's chromium)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import tfmini as tf
from ipython_ext import graph_view


def mlp(hidden: int = 3) -> tf.Graph:
    """An MLP classifier with `hidden` dense layers, its loss and a gradient-descent step."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 64], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        h = x
        for i in range(hidden):
            h = tf.layers.dense(h, 32, activation=tf.nn.relu, name=f"dense{i}")
        logits = tf.layers.dense(h, 10, name="logits")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), name="loss")
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        tf.global_variables_initializer()
    return g


def blocks(n: int = 40) -> tf.Graph:
    """`n` residual blocks (`block0`…) of a matmul and a relu, a loss and a gradient-descent step."""
    g = tf.Graph()
    with g.as_default():
        h = tf.placeholder(tf.float32, [None, 16], name="x")
        for i in range(n):
            with tf.variable_scope(f"block{i}"):
                w = tf.get_variable("w", [16, 16], initializer=tf.zeros_initializer())
                h = tf.nn.relu(tf.matmul(h, w) + h)
        loss = tf.reduce_mean(tf.square(h), name="loss")
        tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        tf.global_variables_initializer()
    return g


def large(ops: int = 10_000) -> tf.Graph:
    """A block model with enough blocks for about `ops` ops."""
    per_block = (len(blocks(2).get_operations()) - len(blocks(1).get_operations()))
    base = len(blocks(1).get_operations()) - per_block
    return blocks(max(1, (ops - base) // per_block))


def measure(graph: tf.Graph) -> dict:
    """Seconds to build the display's MIME types (as IPython asks for them: text, HTML, SVG) and the bytes
    of each. Run the script with PYTHONPATH pointing at an older ipython_ext to compare."""
    graph_view._svg_cache.clear()
    start = time.perf_counter()
    bundle = graph_view.GraphView(graph)._repr_mimebundle_()
    seconds = time.perf_counter() - start
    return {"ops": len(graph.get_operations()), "seconds": seconds, **{m: len(v.encode()) for m, v in bundle.items()}}


def screenshots(out: Path, chromium: str = "/usr/bin/chromium") -> list[Path]:
    """PNGs of the interactive view in Chromium (Playwright, Debian's chromium): the 40-block model as it
    opens, with its series expanded, and a search in the 10,000-op model with the details panel open."""
    from playwright.sync_api import sync_playwright  # optional: only for pictures of the view

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for name, graph, steps in [("graph_blocks", blocks(40), ["open", "expand"]),
                                   ("graph_10000", large(), ["search"])]:
            page_path = Path(tmp) / f"{name}.html"
            page_path.write_text("<!doctype html><html><head><meta charset='utf-8'></head><body>"
                                 f"{graph_view.GraphView(graph).html()}</body></html>", encoding="utf-8")
            page = browser.new_page(viewport={"width": 1100, "height": 640})
            page.goto(page_path.as_uri())
            page.wait_for_selector(".tfx-gv[data-tfx-ready]")
            view = page.query_selector(".tfx-gv")
            for step in steps:
                if step == "expand":
                    page.click(".tfx-gv-kind2 > text.tfx-gv-label")  # the series box
                elif step == "search":
                    page.fill(".tfx-gv-search", "block7/MatMul")
                    page.press(".tfx-gv-search", "Enter")
                path = out / f"{name}_{step}.png"
                view.screenshot(path=str(path))
                written.append(path)
            page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="also write PNGs of the view into DIR")
    args = parser.parse_args()
    cases = [("MLP", mlp()), ("40 blocks", blocks(40)), ("10,000 ops", large())]
    print(f"{'graph':<12}{'ops':>7}{'build s':>9}{'text/html':>12}{'image/svg':>12}{'text':>8}")
    for name, graph in cases:
        r = measure(graph)
        print(f"{name:<12}{r['ops']:>7}{r['seconds']:>9.2f}{r['text/html']:>12,}"
              f"{r.get('image/svg+xml', 0):>12,}{r['text/plain']:>8,}")
    if args.screenshots:
        for path in screenshots(args.screenshots):
            print("wrote", path)


if __name__ == "__main__":
    main()
