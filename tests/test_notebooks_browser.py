"""The notebooks as people see them: each is executed with a real kernel, converted to HTML as `make demo` does
(nbconvert, no script or style from the network) and opened in headless Chromium — Debian's `chromium`, driven
by Playwright's Python client. Every graph picture, timeline, heatmap and plot must render with a non-zero
size, the page must log no error, and it must ask for nothing over the network.

`make system-deps` installs chromium (as root, with apt-get) and the dev extras install playwright; without
either this test fails saying so: it never skips, and it never downloads a browser of its own."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path(os.environ.get("TFMINI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]  # containers often give /dev/shm only 64 MB
INSTALL_HINT = "run `make system-deps` as root (it runs `apt-get install chromium`), or install Debian's chromium"

# What the extension and nbconvert emit for each kind of picture: (what, CSS selector in the page, marker in
# the notebook output that nbconvert renders).
PICTURES = [
    ("graph picture", ".tfx-graph > svg", 'class="tfx-picture tfx-graph"'),
    ("trace view", ".tfx-trace-canvas", 'class="tfx-trace"'),
    ("value heatmap", "img.tfx-heatmap", 'class="tfx-heatmap"'),
    ("plot", ".jp-RenderedImage > img", None),
]
# An element that would load something from another host (links to read, <a href>, are fine).
REMOTE_ASSET = re.compile(r"""<(script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\b(src|href|data)=["']?"""
                          r"""(https?:)?//[^"'\s>]*""", re.I)
# nbconvert shows the first of these that an output has.
RENDER_PRIORITY = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]


def _load_run_demo():
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "tools" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_demo = _load_run_demo()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: {INSTALL_HINT}.", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: `make venv` installs the dev extras "
                    "(pip install -e '.[dev]'); never `playwright install`, the test drives Debian's chromium",
                    pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def expected_pictures(nb) -> dict[str, int]:
    """How many of each picture the page must show: counted in the outputs nbconvert renders."""
    counts = {what: 0 for what, _, _ in PICTURES}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            shown = next((m for m in RENDER_PRIORITY if m in data), None)
            if shown == "image/png":
                counts["plot"] += 1
            elif shown in ("text/html", "image/svg+xml"):
                for what, _, marker in PICTURES:
                    if marker:
                        counts[what] += data[shown].count(marker)
    return counts


def open_offline(browser, url: str):
    """A page at `url` whose console errors and network requests are recorded; requests other than file: and
    data: are refused before they leave."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    remote: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def on_request(request) -> None:
        if not request.url.startswith(("file:", "data:")):
            remote.append(request.url)

    def guard(route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    page.on("request", on_request)
    page.route("**/*", guard)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, errors, remote


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_page_renders_offline(browser, tmp_path, path):
    nb = run_demo.execute(path)
    html_path = run_demo.write_html(path, nb, tmp_path)
    remote_asset = REMOTE_ASSET.search(html_path.read_text(encoding="utf-8"))
    assert remote_asset is None, f"the page loads from the network: {remote_asset.group(0)}"
    page, errors, remote = open_offline(browser, html_path.as_uri())
    try:
        # Collapsed sections (a session's graph, an op's inputs) open with a click on their label; open them
        # all, as a reader would, so that the pictures inside them are measured too.
        page.evaluate("document.querySelectorAll('input.tfx-toggle').forEach(b => { b.checked = true; })")
        expected = expected_pictures(nb)
        for what, selector, _ in PICTURES:
            boxes = [el.bounding_box() for el in page.query_selector_all(selector)]
            assert len(boxes) == expected[what], f"{what}s: {len(boxes)} in the page, {expected[what]} in the notebook"
            for box in boxes:
                assert box is not None and box["width"] > 0 and box["height"] > 0, f"a {what} renders as {box}"
        broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.alt || i.src.slice(0, 60))")
        assert broken == [], f"images that did not load: {broken}"
        # The extension's styled views must win over their plain-text fallbacks (shown only when styles are stripped).
        fallbacks = page.evaluate(
            "[...document.querySelectorAll('.tfx .tfx-fallback')].filter(e => e.offsetHeight > 0).length")
        assert fallbacks == 0, f"{fallbacks} displays show their text fallback instead of their styled view"
        assert errors == [], f"the page logged errors: {errors}"
        assert remote == [], f"the page asked the network for: {remote}"
    finally:
        page.close()


def test_expected_pictures_are_counted_from_what_nbconvert_renders():
    import nbformat

    nb = nbformat.v4.new_notebook()
    html = '<div class="tfx"><div class="tfx-picture tfx-graph"><svg></svg></div><div class="tfx-trace"></div></div>'
    nb.cells.append(nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", {"text/html": html, "image/svg+xml": "<svg/>", "text/plain": "g"}),
        nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", {"text/html": '<div class="tfx-trace"></div>', "text/plain": "t"}),
    ]))
    assert expected_pictures(nb) == {"graph picture": 1, "trace view": 2, "value heatmap": 0, "plot": 1}


def test_remote_assets_are_spotted_and_links_are_not():
    assert REMOTE_ASSET.search('<script src="https://cdn.example/require.js"></script>')
    assert REMOTE_ASSET.search("<link rel=stylesheet href=//fonts.example/css>")
    assert REMOTE_ASSET.search('<img alt="x" src="http://example/a.png">')
    assert not REMOTE_ASSET.search('<a href="https://ui.perfetto.dev">Perfetto</a>')
    assert not REMOTE_ASSET.search('<img src="data:image/png;base64,iVBOR">')
