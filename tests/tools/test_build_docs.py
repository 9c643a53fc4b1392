"""tools/build_docs.py: GitHub-style heading ids, .md links rewritten to .html, images embedded, broken links and
remote images refused, and the real guide builds."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("build_docs", ROOT / "tools" / "build_docs.py")
build_docs = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # dataclasses look it up there
_spec.loader.exec_module(build_docs)

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def write_docs(folder: Path, pages: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    (folder / "images" / "pic.svg").write_text(SVG)
    for name, text in pages.items():
        (folder / name).write_text(text)
    return sorted(folder.glob("*.md"))


@pytest.mark.parametrize("heading, slug", [
    ("Without <code>dot</code>", "without-dot"),
    ("Differences from TensorFlow 1.x", "differences-from-tensorflow-1x"),
    ("<code>run(fetches, feed_dict=None)</code>", "runfetches-feed_dictnone"),
    ("Tracing &amp; timelines", "tracing--timelines"),
])
def test_headings_get_githubs_ids(heading, slug):
    assert build_docs.slugify(heading) == slug


def test_pages_link_each_other_as_html_and_embed_images(tmp_path):
    sources = write_docs(tmp_path / "docs", {
        "a.md": "# Page A\n\nSee [b's part](b.md#a-part) and [here](#page-a).\n\n![a picture](images/pic.svg)\n",
        "b.md": "# Page B\n\n## A part\n\n## A part\n\n| x | y |\n|---|---|\n| 1 | 2 |\n",
    })
    written = build_docs.build(tmp_path / "out", sources)
    assert [p.name for p in written] == ["a.html", "b.html"]
    a = (tmp_path / "out" / "a.html").read_text()
    b = (tmp_path / "out" / "b.html").read_text()
    assert '<a href="b.html#a-part">' in a and '<a href="#page-a">' in a
    assert 'src="data:image/svg+xml;base64,' in a and "<title>Page A · tfmini</title>" in a
    assert 'id="a-part"' in b and 'id="a-part-1"' in b and "<table>" in b
    assert not re.search(r"(src|href)=\"https?:", a + b)


@pytest.mark.parametrize("text, problem", [
    ("[x](missing.md)", "there is no docs/missing.md"),
    ("[x](b.md#nowhere)", "b.md has no heading #nowhere"),
    ("[x](#nowhere)", "a.md has no heading #nowhere"),
    ("[x](../README.md)", "only other pages of docs/ can be linked relatively"),
])
def test_broken_links_fail_the_build(tmp_path, text, problem):
    sources = write_docs(tmp_path / "docs", {"a.md": f"# A\n\n{text}\n", "b.md": "# B\n"})
    with pytest.raises(build_docs.BuildError, match=re.escape(problem)):
        build_docs.build(tmp_path / "out", sources)


@pytest.mark.parametrize("url, problem", [("https://example.org/x.png", "is not in the repository"),
                                           ("images/none.png", "does not exist")])
def test_images_must_be_local_files(tmp_path, url, problem):
    sources = write_docs(tmp_path / "docs", {"a.md": f"# A\n\n![x]({url})\n"})
    with pytest.raises(build_docs.BuildError, match=problem):
        build_docs.build(tmp_path / "out", sources)


def test_the_user_guide_builds_with_every_link_resolved(tmp_path):
    written = build_docs.build(tmp_path)
    names = {p.name for p in written}
    assert {"index.html", "getting_started.html", "session.html", "tracing_guide.html", "differences.html",
            "supported_names.html", "extension.html", "tracing.html"} <= names
    index = (tmp_path / "index.html").read_text()
    assert 'href="session.html"' in index and "data:image/svg+xml;base64," in index
