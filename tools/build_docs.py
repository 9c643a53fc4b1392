"""`make docs`: the user guide in docs/*.md as self-contained HTML pages in build/docs/ (styles inlined, images
embedded as data: URIs, nothing loaded from the network), after regenerating docs/supported_names.md from the
code. Links between pages become links between the HTML files; a link to a missing page or heading fails the
build, so the guide cannot rot silently.

Markdown is rendered with mistune, the renderer nbconvert uses for the notebooks' Markdown cells, so the guide
and the notebooks read the same dialect (GitHub-style tables and fenced code).
"""

from __future__ import annotations

import argparse
import base64
import html
import mimetypes
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import mistune
from mistune.renderers.html import HTMLRenderer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUILD = ROOT / "build" / "docs"
FIRST_PAGES = ["index.md", "getting_started.md", "session.md", "extension.md", "tracing_guide.md",
               "differences.md", "supported_names.md"]  # the guide's reading order; the rest follow by name

STYLE = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0;
        --code: #f6f8fa; --link: #0969da; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --code: #151b23; --link: #4493f8; }
}
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 16px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
nav { border-bottom: 1px solid var(--line); padding: 10px 24px; font-size: 14px;
      display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { white-space: nowrap; }
nav a.here { font-weight: 600; color: var(--fg); }
main { max-width: 920px; margin: 0 auto; padding: 8px 24px 48px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
h1, h2, h3 { line-height: 1.25; margin: 1.4em 0 0.5em; }
h1 { font-size: 2em; border-bottom: 1px solid var(--line); padding-bottom: 0.3em; }
h2 { font-size: 1.5em; border-bottom: 1px solid var(--line); padding-bottom: 0.2em; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.88em; }
code { background: var(--code); padding: 0.15em 0.35em; border-radius: 5px; }
pre { background: var(--code); padding: 12px 14px; border-radius: 6px; overflow-x: auto; line-height: 1.45; }
pre code { background: none; padding: 0; font-size: 1em; }
table { border-collapse: collapse; margin: 12px 0; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 5px 12px; text-align: left; vertical-align: top; }
th { background: var(--code); }
blockquote { margin: 0; padding: 0 1em; color: var(--muted); border-left: 4px solid var(--line); }
img { max-width: 100%; background: #fff; border-radius: 4px; }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
"""


def slugify(text: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@dataclass
class Page:
    """One Markdown page being rendered: its headings' ids and the links and images it holds."""

    source: Path
    ids: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    title: str = ""


class GuideRenderer(HTMLRenderer):
    """Headings get GitHub's ids, links to .md pages point at the .html pages, images are embedded."""

    def __init__(self, page: Page) -> None:
        # The guide's own Markdown is trusted (raw HTML passes); data: URLs are allowed for embedded images only.
        super().__init__(escape=False, allow_harmful_protocols=("data:image/",))
        self.page = page

    def heading(self, text: str, level: int, **attrs) -> str:
        base = slugify(text)
        slug, n = base, 0
        while slug in self.page.ids:
            n += 1
            slug = f"{base}-{n}"
        self.page.ids.append(slug)
        if level == 1 and not self.page.title:
            self.page.title = html.unescape(re.sub(r"<[^>]+>", "", text))
        return f'<h{level} id="{slug}">{text}</h{level}>\n'

    def link(self, text: str, url: str, title: str | None = None) -> str:
        parts = urlsplit(url)
        if not parts.scheme and not parts.netloc:
            self.page.links.append(url)
            if parts.path.endswith(".md"):
                url = parts.path[:-3] + ".html" + (f"#{parts.fragment}" if parts.fragment else "")
        return super().link(text, url, title)

    def image(self, text: str, url: str, title: str | None = None) -> str:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            raise BuildError(f"{self.page.source.name}: image {url} is not in the repository (pages must not "
                             "load anything from the network)")
        path = (self.page.source.parent / parts.path).resolve()
        if not path.is_file():
            raise BuildError(f"{self.page.source.name}: image {url} does not exist")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return super().image(text, f"data:{mime};base64,{data}", title)


class BuildError(Exception):
    """A page that cannot be built as it is: a broken link or a missing image."""


def render_page(source: Path) -> tuple[Page, str]:
    """The page's metadata and its body HTML."""
    page = Page(source)
    md = mistune.create_markdown(renderer=GuideRenderer(page), plugins=["table", "strikethrough", "url"])
    body = md(source.read_text(encoding="utf-8"))
    page.title = page.title or source.stem
    return page, body


def check_links(pages: dict[str, Page]) -> list[str]:
    """Every relative link must reach a page of the guide (and a heading of it, when it names one)."""
    problems = []
    for name, page in pages.items():
        for url in page.links:
            parts = urlsplit(url)
            target = parts.path or name
            if not target.endswith(".md") or "/" in target:
                problems.append(f"{name}: link to {url}: only other pages of docs/ can be linked relatively")
            elif target not in pages:
                problems.append(f"{name}: link to {url}: there is no docs/{target}")
            elif parts.fragment and parts.fragment not in pages[target].ids:
                problems.append(f"{name}: link to {url}: {target} has no heading #{parts.fragment}")
    return problems


def page_order(sources: list[Path]) -> list[Path]:
    first = [DOCS / n for n in FIRST_PAGES if (DOCS / n) in sources]
    return first + sorted(s for s in sources if s not in first)


HERE = ' class="here"'


def wrap(page: Page, body: str, nav: list[tuple[str, str]]) -> str:
    """A whole HTML document around one page's body, with the guide's navigation."""
    here = page.source.stem + ".html"
    links = "".join(f'<a href="{href}"{HERE if href == here else ""}>{html.escape(title)}</a>' for href, title in nav)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(page.title)} · tfmini</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<nav>{links}</nav>\n<main>\n{body}<footer>Built from docs/{page.source.name} by tools/build_docs.py."
            f"</footer>\n</main>\n</body>\n</html>\n")


def build(out_dir: Path = BUILD, sources: list[Path] | None = None) -> list[Path]:
    """Renders every page to `out_dir`; BuildError lists every broken link at once."""
    sources = page_order(sources if sources is not None else sorted(DOCS.glob("*.md")))
    rendered = {s.name: render_page(s) for s in sources}
    problems = check_links({name: page for name, (page, _) in rendered.items()})
    if problems:
        raise BuildError("broken links:\n  " + "\n  ".join(problems))
    nav = [(s.stem + ".html", rendered[s.name][0].title) for s in sources if s.name in FIRST_PAGES]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for s in sources:
        page, body = rendered[s.name]
        out = out_dir / (s.stem + ".html")
        out.write_text(wrap(page, body, nav), encoding="utf-8")
        written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=BUILD, help="where the pages go (default: build/docs)")
    parser.add_argument("--keep-names", action="store_true",
                        help="do not regenerate docs/supported_names.md from the code first")
    args = parser.parse_args(argv)
    if not args.keep_names:
        sys.path.insert(0, str(ROOT / "tools"))
        import supported_names

        print(f"regenerated {supported_names.write().relative_to(ROOT)}")
    try:
        written = build(args.out)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"{len(written)} pages; start at {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
