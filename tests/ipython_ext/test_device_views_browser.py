"""The views of distributed runs in a real browser (Debian's chromium driven by Playwright, as the other view
tests do: never a downloaded browser, never skipped): the graph view of an MLP trained on two worker towers
with its variables on a ps task opens coloured by device, with a legend, a type | device control, device
strips on collapsed scopes, edges between devices marked and the device in the details; the trace view of
its distributed step (about 600 ops on three devices) groups lanes per device, draws the transfers, tells
their times in the hover card and panel, and downloads a Chrome trace with one process per device; TF's own
distributed step (RecvTensor records, two records per device) draws the same way; hostile device names stay
text; nothing logs an error or asks the network."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from ext_helpers import HOSTILE
from test_device_views import PS, WORKER0, WORKER1, distributed_step, mlp_graph, tf_cluster_step

import tfmini as tf
from ipython_ext import graph_view
from ipython_ext.trace_colours import device_colours
from ipython_ext.trace_view import TraceView
from tfmini.client.timeline import node_times_ns

OPEN_BUDGET_MS = 3000  # a loaded 2-core machine; the views open in well under a second
SHORT = ["ps:0", "worker:0", "worker:1"]




@pytest.fixture(scope="module")
def mlp():
    return mlp_graph(layers=8)


@pytest.fixture(scope="module")
def step(mlp):
    return distributed_step(*mlp)


class Page:
    """A page of `html` whose console errors and non-local requests are recorded (and the requests refused)."""

    def __init__(self, browser, tmp_path: Path, html: str, ready: str) -> None:
        path = tmp_path / "view.html"
        path.write_text(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{html}</body></html>",
                        encoding="utf-8")
        self.page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.route("**/*", self._guard)
        start = time.perf_counter()
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_selector(ready, timeout=20_000)
        self.open_ms = (time.perf_counter() - start) * 1000

    def _guard(self, route) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.remote.append(route.request.url)
            route.abort()

    def clean(self) -> bool:
        return self.errors == [] and self.remote == []


# -- the graph view ---------------------------------------------------------------------------------------
def node_fill(page, key: str) -> str:
    return page.eval_on_selector(f'.tfx-gv-node[data-key="{key}"] > rect', "r => r.getAttribute('fill')")


def find(page, name: str) -> None:
    """Searches `name` and steps through the matches (names holding it) until the op itself is selected."""
    search = page.locator(".tfx-gv-search")
    search.fill(name)
    for _ in range(40):
        search.press("Enter")
        if page.locator(".tfx-gv-panel .tfx-gv-title").text_content() == name:
            return
    raise AssertionError(f"search did not reach {name}")


def test_graph_view_colours_by_device_with_a_legend_a_toggle_strips_and_marked_edges(browser, tmp_path, mlp):
    graph = mlp[0]
    p = Page(browser, tmp_path, graph_view.GraphView(graph).html(), ".tfx-gv[data-tfx-ready]")
    page = p.page
    try:
        assert p.open_ms < OPEN_BUDGET_MS
        view = page.locator(".tfx-gv")
        assert view.get_attribute("data-tfx-colour-by") == "device"  # several devices: device by default
        assert page.locator('[data-action="colour-device"]').get_attribute("aria-pressed") == "true"
        names = page.locator(".tfx-gv-legend .tfx-gv-device-name").all_text_contents()
        assert names == SHORT + ["(no device)"]
        counts = Counter(op.device for op in graph.get_operations())
        items = page.locator(".tfx-gv-legend .tfx-gv-device")
        ps_title = items.nth(0).get_attribute("title")
        assert ps_title.startswith(PS) and "as written: /job:ps/task:0" in ps_title
        assert f"{counts['/job:ps/task:0']} ops" in items.nth(0).text_content()
        colours = dict(zip(SHORT, device_colours(SHORT)))
        swatches = page.eval_on_selector_all(".tfx-gv-legend .tfx-swatch", "s => s.map(e => e.style.background)")
        assert len(set(swatches)) == 4

        # an op on worker:1, then (through its input link) the variable's read on ps:0: each box wears its
        # device's fill and the panel names the device
        ops = {op.name: i for i, op in enumerate(graph.get_operations())}
        for name, short, written in (("tower1/mlp/dense3/MatMul", "worker:1", "/job:worker/task:1"),
                                     ("mlp/dense3/kernel/read", "ps:0", "/job:ps/task:0")):
            if name.endswith("/read"):
                page.locator(".tfx-gv-panel a.tfx-gv-link", has_text=name + ":0").first.click()
                assert page.locator(".tfx-gv-panel .tfx-gv-title").text_content() == name
            else:
                find(page, name)
            row = page.locator(".tfx-gv-panel .tfx-gv-row[data-device]")
            assert row.locator(".tfx-gv-key").text_content() == "device"
            assert row.locator(".tfx-gv-value").text_content() == f"{short} \u2014 {written}"
            assert node_fill(page, f"o{ops[name]}") == colours[short]
        # the MatMul's input from ps:0 says where it comes from; the read's consumers are on the workers
        find(page, "tower1/mlp/dense3/MatMul")
        froms = page.locator(".tfx-gv-panel .tfx-gv-from").all_text_contents()
        assert froms == [" \u00b7 from ps:0"]
        assert "master task" in items.nth(3).get_attribute("title")
        # crossing edges are marked and say which devices they join
        crossing = page.locator("path.tfx-gv-cross")
        assert crossing.count() > 0
        titles = crossing.evaluate_all("ps => ps.map(p => p.querySelector('title').textContent)")
        assert all("between devices: " in t for t in titles)
        assert any("ps:0 \u2192 worker:1" in t for t in titles)
        # collapsed scopes spanning several devices carry a split strip
        page.locator('[data-action="collapse"]').click()
        spanning = page.locator(".tfx-gv-group:not([data-devices='1'])")
        assert spanning.count() > 0
        strip = spanning.first.locator(".tfx-gv-strip rect")
        assert strip.count() == int(spanning.first.get_attribute("data-devices")) >= 2
        assert page.locator(".tfx-gv-group[data-devices='1'] .tfx-gv-strip rect").count() == \
            page.locator(".tfx-gv-group[data-devices='1']").count()  # one device: a strip of its colour
        widths = strip.evaluate_all("rs => rs.map(r => +r.getAttribute('width'))")
        assert widths == sorted(widths, reverse=True)  # the device with most ops first
        assert "devices: " in spanning.first.locator("title").first.text_content()

        # switch to op types (the C key): type fills, no legend, no strips; and back with the button
        page.locator(".tfx-graph").focus()
        page.keyboard.press("c")
        assert view.get_attribute("data-tfx-colour-by") == "type"
        assert page.locator(".tfx-gv-legend").is_hidden() and page.locator(".tfx-gv-strip").count() == 0
        find(page, "tower1/mlp/dense3/MatMul")
        assert node_fill(page, f"o{ops['tower1/mlp/dense3/MatMul']}") == graph_view.colour_for("MatMul")
        page.locator('[data-action="colour-device"]').click()
        assert node_fill(page, f"o{ops['tower1/mlp/dense3/MatMul']}") == colours["worker:1"]

        # a legend entry marks that device's ops
        items.nth(2).click()
        assert f"{counts['/job:worker/task:1']} ops on worker:1" in page.locator(".tfx-gv-status").text_content()
        assert page.locator(".tfx-gv-hit").count() > 0
        assert p.clean(), (p.errors, p.remote)
    finally:
        page.close()


def test_a_graph_on_one_device_has_no_colour_control_and_keeps_type_colours(browser, tmp_path):
    graph = tf.Graph()
    with graph.as_default(), tf.device("/job:worker/task:0"):
        tf.add(tf.constant(1.0, name="a"), 2.0, name="b")
    p = Page(browser, tmp_path, graph_view.GraphView(graph).html(), ".tfx-gv[data-tfx-ready]")
    try:
        assert p.page.locator(".tfx-gv-colour-by, .tfx-gv-legend, .tfx-gv-strip, .tfx-gv-cross").count() == 0
        assert p.page.locator(".tfx-gv").get_attribute("data-tfx-colour-by") is None
        assert node_fill(p.page, "o0") == graph_view.colour_for("Const")
        p.page.locator('.tfx-gv-node[data-key="o0"]').click()
        assert "/job:worker/task:0" in p.page.locator(".tfx-gv-panel").inner_text()
        assert p.clean()
    finally:
        p.page.close()


# -- the trace view ---------------------------------------------------------------------------------------
V = "document.querySelector('.tfx-trace').tfxTrace"


def op_point(page, name: str) -> tuple[float, float]:
    """Page coordinates of the middle of op `name`'s bar as drawn now."""
    x, y = page.evaluate(f"""name => {{
        const v = {V}, op = v.ops.find(o => o.name === name);
        return [(Math.max(v.xOf(op.s), v.xOf(v.view.t0)) + Math.min(v.xOf(op.e), v.xOf(v.view.t1))) / 2,
                v.laneY(op.lane) + 7];
    }}""", name)
    box = page.locator(".tfx-trace-canvas").first.bounding_box()
    return box["x"] + x, box["y"] + y


def download(page) -> dict:
    with page.expect_download() as info:
        page.locator("a.tfx-trace-download").first.click()
    return json.loads(Path(info.value.path()).read_text(encoding="utf-8"))


def test_trace_view_groups_lanes_per_device_and_draws_transfers(browser, tmp_path, step):
    sizes = {d.device: len(d.node_stats) for d in step.step_stats.dev_stats}
    assert min(sizes.values()) > 150 and sum(sizes.values()) > 550  # a few hundred ops per device
    p = Page(browser, tmp_path, TraceView(step).html(), ".tfx-trace[data-ready]")
    page = p.page
    try:
        assert p.open_ms < OPEN_BUDGET_MS
        groups = page.evaluate(f"{V}.groups.map(g => [g.short, g.full, g.colour, g.lanes.length, g.ops])")
        assert [g[:3] for g in groups] == [list(g) for g in zip(SHORT, [PS, WORKER0, WORKER1],
                                                                device_colours(SHORT))]
        assert [g[4] for g in groups] == [sizes[PS], sizes[WORKER0], sizes[WORKER1]]
        lanes = page.evaluate(f"{V}.lanes.map(l => [l.inner, l.label])")
        assert all(inner.startswith("thread ") and label.endswith(" · " + inner) for inner, label in lanes)
        # every op sits in its device's group
        wrong = page.evaluate(f"{V}.ops.filter(o => !{V}.lanes[o.lane].group.lanes.includes(o.lane)).length")
        assert wrong == 0
        transfers = page.evaluate(f"{V}.transfers.map(t => [t.from.name, t.to.name, t.src, t.dst, t.bytes])")
        sends = sum("= _Send(" in ns.timeline_label for d in step.step_stats.dev_stats for ns in d.node_stats)
        assert len(transfers) == sends > 30
        root = page.locator(".tfx-trace")
        assert int(root.get_attribute("data-transfers-drawn")) == len(transfers)
        summary = page.locator(".tfx-trace-transfers").text_content()
        assert summary.startswith(f"{len(transfers)} transfers between 3 devices")

        # the header of a group names the device in full on hover
        box = page.locator(".tfx-trace-canvas").bounding_box()
        top = page.evaluate(f"{V}.groups[1].top")
        page.mouse.move(box["x"] + 40, box["y"] + top + 8)
        card = page.locator(".tfx-trace-card")
        assert card.is_visible() and card.locator(".tfx-trace-card-name").text_content() == "worker:0"
        assert WORKER0 in card.text_content() and f"{sizes[WORKER0]} ops" in card.text_content()

        # a receive: its hover card and panel tell the transfer, and link to its send
        send, recv, src, dst, size = transfers[0]
        page.locator(".tfx-trace-search").fill(recv)
        page.locator(".tfx-trace-search").press("Enter")
        page.mouse.move(*op_point(page, recv))
        assert f"transfer {src} \u2192 {dst}" in card.text_content() and "from send to arrival" in card.text_content()
        page.mouse.click(*op_point(page, recv))
        panel = page.locator(".tfx-trace-panel")
        assert f"{src} \u2192 {dst}" in panel.locator("tr", has_text="transfer").text_content()
        assert panel.locator("tr:has(th:text-is('device')) td").text_content().startswith(dst + " \u2014 /job:")
        panel.locator("tr", has_text="sent by").locator("a").click()
        assert panel.locator(".tfx-head").text_content() == send
        assert panel.locator("tr", has_text="received by").locator("a").text_content().startswith(recv)

        # T hides the transfer arrows and shows them again
        page.locator(".tfx-trace-box").focus()
        page.keyboard.press("t")
        assert root.get_attribute("data-transfers") == "0" and root.get_attribute("data-transfers-drawn") == "0"
        page.keyboard.press("t")
        assert root.get_attribute("data-transfers") == "1"

        # the download: one process per device, every op on its device's process, transfers as flows
        trace = download(page)
        events = trace["traceEvents"]
        processes = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
        assert processes == {0: "Allocators", 1: f"{PS} Compute", 2: f"{WORKER0} Compute", 3: f"{WORKER1} Compute"}
        per_pid = Counter(e["pid"] for e in events if e["ph"] == "X")
        assert per_pid == {1: sizes[PS], 2: sizes[WORKER0], 3: sizes[WORKER1]}
        flows = [e for e in events if e.get("cat") == "Transfer"]
        assert len(flows) == 2 * len(transfers)
        pid_of = {processes[k].split(" ")[0]: k for k in processes if k}
        short_pid = dict(zip(SHORT, (pid_of[PS], pid_of[WORKER0], pid_of[WORKER1])))
        starts = [(e["pid"], e["name"]) for e in flows if e["ph"] == "s"]
        ends = [(e["pid"], e["name"]) for e in flows if e["ph"] == "f"]
        assert Counter(p for p, _ in starts) == Counter(short_pid[t[2]] for t in transfers)
        assert Counter(p for p, _ in ends) == Counter(short_pid[t[3]] for t in transfers)
        assert p.clean(), (p.errors, p.remote)
    finally:
        page.close()


def test_a_real_tensorflow_cluster_step_draws_one_group_per_device_and_its_rpc_transfers(browser, tmp_path):
    md = tf_cluster_step()
    p = Page(browser, tmp_path, TraceView(md).html(), ".tfx-trace[data-ready]")
    page = p.page
    try:
        assert page.evaluate(f"{V}.groups.map(g => g.short)") == ["worker:0", "ps:0"]
        transfers = page.evaluate(f"{V}.transfers.map(t => [t.from.name, t.to.type, t.bytes, t.src, t.dst])")
        assert sorted(transfers) == [["GradientDescent/learning_rate", "RecvTensor", 4, "worker:0", "ps:0"],
                                     ["gradients/y_grad/MatMul_1", "RecvTensor", 24, "worker:0", "ps:0"],
                                     ["w/read", "RecvTensor", 24, "ps:0", "worker:0"]]
        assert page.locator(".tfx-trace").get_attribute("data-transfers-drawn") == "3"
        recv = page.evaluate(f"{V}.transfers.find(t => t.tensor === 'edge_4_w/read').to")
        rpc = next(ns for d in md.step_stats.dev_stats for ns in d.node_stats if "edge_4_w/read" in ns.timeline_label)
        start, end = node_times_ns(rpc)
        assert recv["d"] == end - start  # TF's RecvTensor record is the transfer's time
        trace = download(page)
        processes = [e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "process_name"]
        assert processes == ["Allocators", f"{WORKER0} Compute", f"{PS} Compute"]  # one each, in trace order
        xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
        assert len(xs) == sum(len(d.node_stats) for d in md.step_stats.dev_stats)
        assert Counter(e["name"] for e in xs)["RecvTensor"] == 3
        assert p.page.evaluate(f"{V}.ops.filter(o => o.type === 'RecvTensor').length") == 3
        assert "RecvTensor" in page.locator(".tfx-trace-legend").text_content()
        assert p.clean(), (p.errors, p.remote)
    finally:
        page.close()


def test_hostile_device_names_stay_text_in_both_views(browser, tmp_path):
    bad = f"/job:{HOSTILE}/task:0"
    script = "</script><script>window.pwned=1</script>"
    gd = tf.GraphDef()
    gd.node.add(name="a", op="Const", device=bad)
    gd.node.add(name="b", op="Identity", input=["a"], device=f"/job:{script}/task:1")
    p = Page(browser, tmp_path, graph_view.GraphView(gd).html(), ".tfx-gv[data-tfx-ready]")
    try:
        # a job name with a slash is no device string TF writes: it stays whole
        assert p.page.locator(".tfx-gv-legend .tfx-gv-device-name").all_text_contents() == [
            f"/job:{script}/task:1", f"{HOSTILE}:0"]
        assert p.page.evaluate("window.pwned") is None
        assert p.page.evaluate("document.querySelectorAll('.tfx-gv img').length") == 0
        p.page.locator('.tfx-gv-node[data-key="o1"]').click()
        assert script in p.page.locator(".tfx-gv-panel").inner_text()
        assert p.clean()
    finally:
        p.page.close()
    stats = tf.StepStats()
    for k, device in enumerate((bad, f"/job:{script}/task:1")):
        ns = stats.dev_stats.add(device=device).node_stats.add(
            node_name=f"op{k}", timeline_label=f"op{k} = _{'Send' if k == 0 else 'Recv'}(t @{device if k else bad})",
            all_start_micros=10 * k, all_end_rel_micros=5)
        ns.output.add(slot=0)
    stats.dev_stats[0].node_stats[0].timeline_label = f"op0 = _Send(t @/job:{script}/task:1)"
    stats.dev_stats[1].node_stats[0].timeline_label = f"op1 = _Recv(t @{bad})"
    p = Page(browser, tmp_path, TraceView(stats).html(), ".tfx-trace[data-ready]")
    try:
        page = p.page
        assert page.evaluate(f"{V}.groups.map(g => g.short)") == [f"{HOSTILE}:0", f"/job:{script}/task:1"]
        assert page.evaluate(f"{V}.transfers.length") == 1
        page.mouse.move(*op_point(page, "op1"))
        want = f"transfer {HOSTILE}:0 \u2192 /job:{script}/task:1"
        assert want in page.locator(".tfx-trace-card").text_content()
        assert page.evaluate("window.pwned") is None
        assert page.evaluate("document.querySelectorAll('.tfx-trace img').length") == 0
        assert p.clean()
    finally:
        p.page.close()


def test_several_distributed_runs_get_a_lane_group_per_run_and_device(browser, tmp_path, step):
    p = Page(browser, tmp_path, TraceView(step, step).html(), ".tfx-trace[data-ready]")
    page = p.page
    try:
        labels = page.evaluate(f"{V}.groups.map(g => g.label)")
        assert labels == [f"run {r} \u00b7 {d}" for r in (1, 2) for d in SHORT]
        per_run = page.evaluate(f"[0, 1].map(r => {V}.transfers.filter(t => t.run === r && t.from.run === r"
                                " && t.to.run === r).length)")
        assert per_run[0] == per_run[1] == page.evaluate(f"{V}.transfers.length") // 2
        with page.expect_download() as info:
            page.locator("a.tfx-trace-download").nth(1).click()
        events = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))["traceEvents"]
        assert sum(1 for e in events if e.get("cat") == "Transfer") == 2 * per_run[1]
        assert p.clean(), (p.errors, p.remote)
    finally:
        page.close()


def test_a_transfer_arriving_before_it_was_sent_says_the_clocks_differ_and_a_feed_names_the_client(browser,
                                                                                                    tmp_path):
    stats = tf.StepStats()
    stats.dev_stats.add(device=PS).node_stats.add(
        node_name="w/_0", timeline_label=f"w/_0 = _Send(edge_1_w @{WORKER0})", all_start_micros=50,
        all_end_rel_micros=5)
    worker = stats.dev_stats.add(device=WORKER0)
    worker.node_stats.add(
        node_name="w/_1", timeline_label=f"w/_1 = _Recv(edge_1_w @{PS})", all_start_micros=10, all_end_rel_micros=20)
    worker.node_stats.add(node_name="_recv_x_0", timeline_label=f"_recv_x_0 = _Recv(x:0 @{WORKER0})",
                          all_start_micros=40, all_end_rel_micros=20)
    p = Page(browser, tmp_path, TraceView(stats).html(), ".tfx-trace[data-ready]")
    try:
        p.page.mouse.move(*op_point(p.page, "w/_1"))
        text = p.page.locator(".tfx-trace-card").text_content()
        assert "transfer ps:0 \u2192 worker:0 \u00b7 edge_1_w" in text
        assert "arrived 20 \u00b5s before it was sent: the devices' clocks differ" in text
        p.page.mouse.move(*op_point(p.page, "_recv_x_0"))
        text = p.page.locator(".tfx-trace-card").text_content()
        assert "transfer client \u2192 worker:0 \u00b7 x:0" in text and "fed by the client" in text
        assert p.page.locator(".tfx-trace").get_attribute("data-transfers-drawn") == "1"
        assert p.clean()
    finally:
        p.page.close()
