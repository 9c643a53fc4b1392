"""The interactive trace view in a real browser: Debian's chromium driven by Playwright (as
tests/test_notebooks_browser.py does: never a downloaded browser, never skipped). A traced training step of a
few hundred ops is displayed as the extension displays it, and the test zooms (keys, wheel, buttons), pans
(drag, keys), hovers, clicks, searches, draws the flow arrows and downloads the Chrome trace, checking what
the page shows after each step, timing each interaction, and failing on any console error. The step is the
583-op one benchmarks/trace_view.py measures.

With TFMINI_SCREENSHOTS=1 it also writes docs/images/trace_*.png."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from ext_helpers import HOSTILE

import tfmini as tf
from benchmarks.trace_view import training_step
from ipython_ext.trace_view import TraceView
from tfmini.client.timeline import Timeline, parse_op_label

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = os.environ.get("TFMINI_SCREENSHOTS") == "1"
# Each interaction must have redrawn within this many milliseconds (they take a few ms; the bound is for a
# loaded 2-core machine).
BUDGET_MS = 400
TIMINGS: dict[str, float] = {}


def write_page(path: Path, html: str) -> str:
    path.write_text('<!doctype html><html><head><meta charset="utf-8"><title>trace</title></head><body>'
                    + str(html) + "</body></html>", encoding="utf-8")
    return path.as_uri()


@pytest.fixture(scope="module")
def browser(browser):
    """The shared browser; the module prints the interaction timings it measured once it is done."""
    yield browser
    if TIMINGS:
        print("\ntrace view interactions (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items()))


@pytest.fixture(scope="module")
def step():
    return training_step()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:", "blob:"))
               else route.abort())
    page.goto(url, wait_until="load")
    return page, errors


def window(page, n: int = 0) -> tuple[float, float]:
    t0, t1 = page.locator(".tfx-trace").nth(n).get_attribute("data-window").split(":")
    return float(t0), float(t1)


def timed(name: str, page, action) -> None:
    """Runs `action`, waits for the page to have painted, and records how long that took."""
    start = time.perf_counter()
    action()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    TIMINGS[name] = ms = (time.perf_counter() - start) * 1000
    assert ms < BUDGET_MS, f"{name} took {ms:.0f} ms"


def op_point(page, name: str) -> tuple[float, float]:
    """Page coordinates of the middle of op `name`'s bar as drawn now."""
    x, y = page.evaluate("""name => {
        const v = document.querySelector('.tfx-trace').tfxTrace, op = v.ops.find(o => o.name === name);
        return [(Math.max(v.xOf(op.s), v.xOf(v.view.t0)) + Math.min(v.xOf(op.e), v.xOf(v.view.t1))) / 2,
                v.laneY(op.lane) + 7];
    }""", name)
    box = page.locator(".tfx-trace-canvas").first.bounding_box()
    return box["x"] + x, box["y"] + y


def test_trace_view_zoom_pan_hover_click_search_arrows_download(browser, step, tmp_path):
    md, graph = step
    stats = [ns for dev in md.step_stats.dev_stats for ns in dev.node_stats]
    assert len(stats) > 500
    start = time.perf_counter()
    page, errors = open_page(browser, write_page(tmp_path / "trace.html", TraceView(md, graph=graph).html()))
    TIMINGS["open"] = (time.perf_counter() - start) * 1000
    try:
        root = page.locator(".tfx-trace")
        assert root.get_attribute("data-ready") == "1"
        assert page.locator(".tfx-trace-static").is_hidden()        # the script replaced the static picture
        canvas = page.locator(".tfx-trace-canvas")
        box = canvas.bounding_box()
        assert box["width"] > 600 and box["height"] > 40
        span = float(root.get_attribute("data-span"))
        assert window(page) == (0, round(span))
        whole_tick = float(root.get_attribute("data-tick"))
        assert 0 < whole_tick < span
        if SCREENSHOTS:
            page.locator(".tfx-trace-view").screenshot(path=str(ROOT / "docs/images/trace_view.png"))

        # zoom: W around the pointer, S back, the + button, Ctrl+wheel
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 28)
        canvas.click(position={"x": 5, "y": 5})                      # focus (the lane labels: no op there)
        timed("zoom W", page, lambda: page.keyboard.press("w"))
        t0, t1 = window(page)
        assert t1 - t0 == pytest.approx(0.8 * span, rel=0.01)
        timed("zoom S", page, lambda: page.keyboard.press("s"))
        assert window(page)[1] - window(page)[0] == pytest.approx(span, rel=0.01)
        timed("zoom button", page, lambda: page.locator(".tfx-trace-btn", has_text="+").click())
        assert window(page)[1] - window(page)[0] == pytest.approx(span / 2, rel=0.01)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 28)
        page.keyboard.down("Control")
        timed("zoom wheel", page, lambda: page.mouse.wheel(0, -300))
        page.keyboard.up("Control")
        w0, w1 = window(page)
        assert w1 - w0 < span / 2 * 0.8
        assert float(root.get_attribute("data-tick")) < whole_tick     # the time axis rescaled with the zoom
        # pan: drag to the left shows later times; A moves back; D forward
        before = window(page)
        drag = (box["x"] + 700, box["y"] + 60)
        page.mouse.move(*drag)

        def do_drag():
            page.mouse.down()
            page.mouse.move(drag[0] - 200, drag[1], steps=4)
            page.mouse.up()
        timed("pan drag", page, do_drag)
        after = window(page)
        # times are whole nanoseconds: a pan may round the window's width by one
        assert after[0] > before[0] and after[1] - after[0] == pytest.approx(before[1] - before[0], abs=2)
        timed("pan A", page, lambda: page.keyboard.press("a"))
        assert window(page)[0] < after[0]
        timed("fit 0", page, lambda: page.keyboard.press("0"))
        assert window(page) == (0, round(span))

        # hover: the card names the op under the pointer, fast and without a native tooltip
        longest = max(stats, key=lambda ns: ns.all_end_rel_nanos)
        timed("hover", page, lambda: page.mouse.move(*op_point(page, longest.node_name)))
        card = page.locator(".tfx-trace-card")
        assert card.is_visible()
        assert card.locator(".tfx-trace-card-name").text_content() == longest.node_name
        assert page.locator(".tfx-trace title").count() == 0 or page.locator(".tfx-trace-static").is_hidden()

        # hover over the memory track: the bytes in use at that time, within the step's peak
        mem_y = box["y"] + box["height"] - 12
        timed("hover memory", page, lambda: page.mouse.move(box["x"] + box["width"] * 0.6, mem_y))
        assert card.is_visible() and card.locator(".tfx-trace-card-name").text_content() == "memory (cpu)"
        assert " in use at +" in card.text_content()
        page.mouse.move(box["x"] + 5, box["y"] + 5)
        assert card.is_hidden()

        # click: the details panel gives type, time, outputs, bytes, inputs and consumers
        matmul = next(ns for ns in stats if ns.node_name == "block1/dense/MatMul")
        page.keyboard.press("0")
        # zoom until the op is a few pixels wide, by searching for it and jumping to it
        search = page.locator(".tfx-trace-search")
        timed("search", page, lambda: search.fill("block1/dense/MatMul"))
        expected = sum("block1/dense/matmul" in ns.node_name.lower() for ns in stats)
        assert int(root.get_attribute("data-matches")) == expected
        timed("search next", page, lambda: search.press("Enter"))
        panel = page.locator(".tfx-trace-panel")
        assert panel.is_visible() and panel.locator(".tfx-head").text_content() == "block1/dense/MatMul"
        if SCREENSHOTS:
            page.locator(".tfx-trace-view").screenshot(path=str(ROOT / "docs/images/trace_search.png"))
        page.locator(".tfx-trace-box").focus()
        page.keyboard.press("Escape")
        assert panel.is_hidden()
        timed("click", page, lambda: page.mouse.click(*op_point(page, "block1/dense/MatMul")))
        assert panel.locator(".tfx-head").text_content() == "block1/dense/MatMul"
        text = panel.text_content()
        assert "MatMul" in text and "float32 (64, 64)" in text and "16.0 KiB" in text
        inputs = panel.locator("tr", has_text="inputs").locator("a").all_text_contents()
        assert inputs == parse_op_label(matmul.timeline_label)[2] and len(inputs) == 2
        consumers = panel.locator("tr", has_text="consumers").locator("a").all_text_contents()
        assert "block1/dense/BiasAdd" in consumers
        # an input link selects its producer
        timed("follow input", page, lambda: panel.locator("tr", has_text="inputs").locator("a").last.click())
        assert panel.locator(".tfx-head").text_content() == inputs[-1]

        # flow arrows on demand (F): for the selected op; the canvas changes where they are drawn
        snap = canvas.screenshot()
        timed("arrows", page, lambda: page.locator(".tfx-trace-btn", has_text="arrows").click())
        assert root.get_attribute("data-arrows") == "1" and canvas.screenshot() != snap
        if SCREENSHOTS:
            # the forward MatMul centred and selected, its arrows drawn, the hover card of its consumer
            search.fill("block1/dense/MatMul")
            search.press("Enter")
            search.fill("")
            page.mouse.move(*op_point(page, "block1/dense/BiasAdd"))
            page.locator(".tfx-trace-view").screenshot(path=str(ROOT / "docs/images/trace_details.png"))

        # the Chrome-trace download is built in the page and holds what Timeline writes
        with page.expect_download() as info:
            start = time.perf_counter()
            page.locator("a.tfx-trace-download").click()
        TIMINGS["download"] = (time.perf_counter() - start) * 1000
        got = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        want = json.loads(Timeline(md.step_stats, graph).generate_chrome_trace_format(show_dataflow=True,
                                                                                      show_memory=True))
        assert got == want
        assert info.value.suggested_filename.startswith("tfmini-trace-")
        assert errors == [], f"the page logged errors: {errors}"
    finally:
        page.close()


def test_several_runs_get_their_own_lanes_and_memory_tracks(browser, step, tmp_path):
    md, graph = step
    page, errors = open_page(browser, write_page(tmp_path / "runs.html", TraceView(md, md, graph=graph).html()))
    try:
        labels = page.evaluate("document.querySelector('.tfx-trace').tfxTrace.lanes.map(l => l.label)")
        assert labels == ["run 1 · thread 1", "run 2 · thread 1"]
        assert page.locator("a.tfx-trace-download").all_text_contents() == [
            "Download the Chrome trace of run 1", "Download the Chrome trace of run 2"]
        with page.expect_download() as info:
            page.locator("a.tfx-trace-download").nth(1).click()
        want = json.loads(Timeline(md.step_stats, graph).generate_chrome_trace_format(show_memory=True))
        assert json.loads(Path(info.value.path()).read_text(encoding="utf-8")) == want
        assert errors == []
    finally:
        page.close()


def test_hostile_names_stay_text_in_the_view(browser, tmp_path):
    stats = tf.StepStats()
    dev = stats.dev_stats.add(device="/cpu:0")
    names = [HOSTILE, "</script><script>window.pwned=1</script>", "\u202eevil"]
    for i, name in enumerate(names):
        ns = dev.node_stats.add(node_name=name, timeline_label=f"{name} = {HOSTILE}()", all_start_micros=10 * i,
                                op_end_rel_micros=5, all_end_rel_micros=5, thread_id=7)
        ns.output.add(slot=0).tensor_description.allocation_description.requested_bytes = 4
    page, errors = open_page(browser, write_page(tmp_path / "hostile.html", TraceView(stats).html()))
    try:
        assert page.evaluate("window.pwned") is None
        assert page.locator(".tfx-trace-view img").count() == 0
        page.mouse.click(*op_point(page, names[1]))
        assert page.locator(".tfx-trace-panel .tfx-head").text_content() == names[1]
        page.mouse.click(*op_point(page, names[2]))
        assert page.locator(".tfx-trace-panel .tfx-head").text_content() == "\\u202eevil"
        assert errors == []
    finally:
        page.close()


def test_without_scripts_the_static_picture_shows(browser, step, tmp_path):
    md, graph = step
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(write_page(tmp_path / "static.html", TraceView(md, graph=graph).html()))
        assert page.locator(".tfx-trace-static svg.tfx-timeline").is_visible()
        assert page.locator(".tfx-trace-downloads").is_hidden()   # the download needs the script
    finally:
        context.close()


def synthetic_step() -> tf.StepStats:
    """Two devices; on the first, two ops of one thread overlap (so the thread gets a second track) and a thread
    has a name; the op on the second device reads output 1 of an op, has a control input and an input no traced
    op produced; memory is recorded on two allocators."""
    stats = tf.StepStats()
    cpu = stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:CPU:0")
    cpu.thread_names[9] = "worker"
    gpu = stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:GPU:0")
    base = 1_700_000_000_000_000_000

    def add(dev, name, label, start, dur, thread, outputs=1, memory=()):
        ns = dev.node_stats.add(node_name=name, timeline_label=label, all_start_nanos=base + start,
                                all_end_rel_nanos=dur, op_end_rel_nanos=dur, thread_id=thread)
        for k in range(outputs):
            ns.output.add(slot=k).tensor_description.allocation_description.requested_bytes = 4 * (k + 1)
        for allocator, in_use, total in memory:
            ns.memory.add(allocator_name=allocator, allocator_bytes_in_use=in_use, total_bytes=total)

    add(cpu, "a", "a = Const()", 0, 10_000, 7, memory=[("cpu", 64, 64)])
    add(cpu, "b", "b = Neg(a)", 5_000, 10_000, 7, memory=[("cpu", 128, 64), ("gpu_host", 32, 32)])
    add(cpu, "c", "c = Unique(a)", 12_345, 3_001, 9, outputs=2, memory=[("cpu", 96, 8)])
    add(gpu, "d", "d = AddN(a, c:1, missing:0, ^b)", 20_000, 7_777, 3, memory=[("gpu_host", 40, 8)])
    return stats


def test_devices_threads_overlaps_and_allocators_reach_the_view_and_the_download(browser, tmp_path):
    stats = synthetic_step()
    page, errors = open_page(browser, write_page(tmp_path / "devices.html", TraceView(stats).html()))
    try:
        v = "document.querySelector('.tfx-trace').tfxTrace"
        labels = page.evaluate(f"{v}.lanes.map(l => l.label)")
        cpu, gpu = (d.device for d in stats.dev_stats)
        assert labels == [f"{cpu} · thread 1", f"{cpu} · thread 1 (overlap 1)", f"{cpu} · thread 2",
                          f"{gpu} · thread 1"]
        assert page.evaluate(f"{v}.ops.map(o => o.lane)") == [0, 1, 2, 3]
        with page.expect_download() as info:
            page.locator("a.tfx-trace-download").click()
        want = json.loads(Timeline(stats).generate_chrome_trace_format(show_dataflow=True, show_memory=True))
        got = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        assert got == want
        assert {e["name"] for e in got["traceEvents"] if e["ph"] == "C"} == {"cpu", "gpu_host"}
        assert [e["name"] for e in got["traceEvents"] if e["ph"] == "s"] == ["a", "a", "a", "c:1"]
        page.mouse.click(*op_point(page, "d"))
        rows = page.locator(".tfx-trace-panel tr", has_text="inputs")
        assert rows.locator("a").all_text_contents() == ["a", "c:1", "^b"]
        assert "missing:0" in rows.text_content()
        assert errors == []
    finally:
        page.close()


# What JupyterLab (and VS Code's notebook renderer) do with a trusted text/html output: set it as innerHTML of
# an output node, whose scripts therefore do not run, then replace each script by a fresh copy, which runs once
# the node is in the document. Here the same output goes in twice, as "Create New View for Output" does.
RENDER_LIKE_JUPYTERLAB = """html => {
    for (let n = 0; n < 2; n++) {
        const host = document.createElement('div');
        host.className = 'jp-OutputArea-output';
        host.innerHTML = html;
        for (const old of host.querySelectorAll('script')) {
            const fresh = document.createElement('script');
            for (const a of old.attributes) fresh.setAttribute(a.name, a.value);
            fresh.textContent = old.textContent;
            old.parentNode.replaceChild(fresh, old);
        }
        document.body.appendChild(host);
    }
}"""


def test_outputs_rendered_as_jupyterlab_does_work_each_on_its_own(browser, step, tmp_path):
    md, graph = step
    url = write_page(tmp_path / "empty.html", "")
    page, errors = open_page(browser, url)
    try:
        page.evaluate(RENDER_LIKE_JUPYTERLAB, str(TraceView(md, graph=graph).html()))
        roots = page.locator(".tfx-trace")
        assert roots.count() == 2
        assert [roots.nth(i).get_attribute("data-ready") for i in range(2)] == ["1", "1"]
        assert page.locator(".tfx-trace-canvas").count() == 2
        # each view zooms on its own
        page.locator(".tfx-trace-box").nth(1).focus()
        page.keyboard.press("w")
        span = float(roots.nth(0).get_attribute("data-span"))
        assert window(page, 0) == (0, round(span))
        assert window(page, 1)[1] - window(page, 1)[0] == pytest.approx(0.8 * span, rel=0.01)
        assert errors == []
    finally:
        page.close()
