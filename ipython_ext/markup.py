"""Small pure helpers every display uses: escaping, tables, collapsible sections, deterministic ids, the
scoped stylesheet and the page wrapper with its plain-text fallback. Knows nothing about tfmini."""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

INSTALL_GRAPHVIZ = (
    "Install Graphviz's dot program for graph pictures: apt-get install graphviz · conda install graphviz · "
    "brew install graphviz"
)


class Html(str):
    """A string that is already markup; everything else put into markup gets escaped, also when it is
    added to an Html with `+`."""

    __slots__ = ()

    def __add__(self, other) -> Html:
        return Html(str.__add__(self, esc(other)))

    def __radd__(self, other) -> Html:
        return Html(str.__add__(esc(other), self))


# Characters that XML 1.0 cannot carry (C0 controls but tab and newline, lone surrogates, U+FFFE/U+FFFF),
# C1 controls and DEL (HTML parse errors), and the bidi embeddings, overrides and isolates that can make a
# name read as something else on screen: shown as visible escapes instead.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every character that must not reach markup raw written as `\\xNN` / `\\uNNNN`."""
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def esc(value) -> Html:
    """`value` as escaped text (quotes too, so the result is safe in attributes), with characters that
    XML cannot carry, controls and bidi overrides made visible."""
    if isinstance(value, Html):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    return Html(html.escape(visible(str(value)), quote=True))


def join(parts: Iterable, sep: str = "") -> Html:
    return Html(esc(sep).join(esc(p) for p in parts))


def tag(name: str, body="", **attrs) -> Html:
    """`<name attrs>body</name>`; attribute names use `_` for `-` and a trailing `_` for keywords (class_)."""
    text = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None
    )
    return Html(f"<{name}{text}>{esc(body)}</{name}>")


def mono(text) -> Html:
    return tag("code", text)


def table(headers: list, rows: Iterable[list], numeric: Iterable[int] = (), class_: str = "") -> Html:
    """A themed table; cells that are not `Html` are escaped. `numeric` lists right-aligned columns."""
    num = set(numeric)
    head = "".join(tag("th", h, class_="tfx-num" if i in num else None) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(tag("td", c, class_="tfx-num" if i in num else None) for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    return Html(f'<table class="tfx-table {esc(class_)}">{thead}<tbody>{body}</tbody></table>')


def fields(pairs: Iterable[tuple]) -> Html:
    """A two-column table of (label, value) rows."""
    rows = "".join(f"<tr>{tag('th', k)}{tag('td', v)}</tr>" for k, v in pairs)
    return Html(f'<table class="tfx-table tfx-fields"><tbody>{rows}</tbody></table>')


# Per-process occurrence counts make ids unique within a notebook yet identical on every re-run.
_id_counts: Counter = Counter()


def element_id(prefix: str, content: str) -> str:
    """A deterministic id: a hash of `content` plus how many times that hash was asked for before."""
    digest = hashlib.sha1(content.encode("utf-8", "backslashreplace")).hexdigest()[:10]
    n = _id_counts[(prefix, digest)]
    _id_counts[(prefix, digest)] += 1
    return f"tfx-{prefix}-{digest}-{n}"


def section(title, body, key: str, open_: bool = False) -> Html:
    """A section that collapses with CSS only (a hidden checkbox and its label), as xarray's repr does."""
    ident = element_id("sec", f"{title}\0{key}")
    checked = " checked" if open_ else ""
    return Html(
        f'<div class="tfx-section"><input type="checkbox" class="tfx-toggle" id="{ident}"{checked}>'
        f'<label for="{ident}">{esc(title)}</label><div class="tfx-body">{esc(body)}</div></div>'
    )


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return resources.files("ipython_ext").joinpath("style.css").read_text(encoding="utf-8")


def page(body, fallback: str, kind: str = "") -> Html:
    """A complete display: scoped styles, the rich body, and a `<pre>` fallback that shows only when the
    front end strips styles (untrusted notebooks, some static renderers) — the body is then hidden."""
    badge = tag("span", kind, class_="tfx-kind") if kind else ""
    return Html(
        f'<div class="tfx"><style>{stylesheet()}</style>'
        f'<pre class="tfx-fallback">{esc(fallback)}</pre>'
        f'<div class="tfx-wrap" style="display:none">{badge}{esc(body)}</div></div>'
    )


def fmt_bytes(n: int | float) -> str:
    n = float(n)
    for unit in ("B", "KiB", "MiB"):
        if abs(n) < 1024:
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def fmt_us(us: float) -> str:
    """A duration with its unit; every timing in every display has this form (`<number> µs|ms|s`) so one
    sanitize rule (regex `[0-9.]+ (µs|ms|s)`) can replace them when notebooks are validated."""
    if us < 10:
        return f"{us:.2f} µs"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 1_000_000:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1_000_000:.2f} s"


def fmt_num(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


# Pastel fills that carry dark text and read on light and dark backgrounds (ColorBrewer Set3).
PALETTE = (
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f",
)


def colour_for(key: str) -> str:
    """The same op type gets the same colour in every graph and every timeline."""
    return PALETTE[int(hashlib.md5(key.encode()).hexdigest(), 16) % len(PALETTE)]
