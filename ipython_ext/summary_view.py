"""What a log directory's event files hold, drawn inline without a server: scalars as line charts, histograms
as ridgelines over steps, images as thumbnails, audio as players, text as escaped blocks, with a plain-text
summary as the fallback. Reads the files through tfmini's public `tf.train.summary_iterator`."""

from __future__ import annotations

import base64
import os
import re
import threading
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from google.protobuf.message import DecodeError

import tfmini as tf
from ipython_ext.markup import Html, esc, fmt_num, page, section, tag, truncate

# Scoped to the extension's wrapper; colours follow the notebook's theme with light-theme fallbacks.
_STYLE = Html(
    "<style>"
    ".tfx .tfx-sum-grid{display:flex;flex-wrap:wrap;gap:8px}"
    ".tfx .tfx-sum-card{border:1px solid var(--jp-border-color2,#ddd);padding:4px;border-radius:4px}"
    ".tfx .tfx-sum-title{font-weight:bold;margin-bottom:2px}"
    ".tfx .tfx-sum-note{color:var(--jp-ui-font-color2,#666);font-size:85%}"
    ".tfx .tfx-sum-frame{fill:none;stroke:var(--jp-border-color2,#ddd)}"
    ".tfx .tfx-sum-line{fill:none;stroke:var(--jp-brand-color1,#1976d2);stroke-width:1.5}"
    ".tfx .tfx-sum-dot{fill:var(--jp-brand-color1,#1976d2)}"
    ".tfx .tfx-sum-ridge{fill:var(--jp-layout-color1,#fff);fill-opacity:0.85;"
    "stroke:var(--jp-brand-color1,#1976d2)}"
    ".tfx .tfx-sum-label{font-size:9px;fill:var(--jp-ui-font-color2,#666)}"
    ".tfx .tfx-sum-thumb{image-rendering:pixelated}"
    ".tfx .tfx-sum-text{margin:0;white-space:pre-wrap}"
    ".tfx .tfx-sum-nonfinite{fill:#d32f2f;font-weight:bold}"
    "</style>"
)

CHART_W, CHART_H, PAD = 300, 120, 4
RIDGE_ROWS, RIDGE_BINS, RIDGE_ROW_H = 10, 40, 14
THUMB_PX = 160


@dataclass
class Run:
    """The summaries of one run (a directory holding event files), tag by tag."""

    scalars: dict = field(default_factory=lambda: defaultdict(list))  # tag -> [(step, value)]
    histograms: dict = field(default_factory=lambda: defaultdict(list))  # tag -> [(step, HistogramProto)]
    images: dict = field(default_factory=dict)  # tag -> (step, Summary.Image), the latest
    audio: dict = field(default_factory=dict)  # tag -> (step, Summary.Audio), the latest
    texts: dict = field(default_factory=dict)  # tag -> (step, [str]), the latest
    graphs: int = 0
    run_metadata: list = field(default_factory=list)  # tags


def _event_files(logdir: str) -> dict[str, list[str]]:
    """run name ('.' for logdir itself) -> its event files in name (so time) order."""
    runs: dict[str, list[str]] = {}
    for directory, _, files in sorted(os.walk(logdir)):
        found = sorted(f for f in files if "tfevents" in f)
        if found:
            runs[os.path.relpath(directory, logdir)] = [os.path.join(directory, f) for f in found]
    return runs


def _events(path: str):
    """The file's events; a record still being written (or damaged) at the end, or one that is not an Event,
    ends the file early, and a file deleted between listing and opening has none."""
    try:
        yield from tf.train.summary_iterator(path)
    except (tf.errors.DataLossError, tf.errors.NotFoundError, DecodeError):
        return


def _text_of(tensor) -> list[str]:
    values = tf.make_ndarray(tensor).reshape(-1)
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]


def read_logdir(logdir: str) -> dict[str, Run]:
    """Every run under `logdir` with what its event files hold, in file and record order."""
    runs = {}
    for name, paths in _event_files(logdir).items():
        run = Run()
        plugins: dict[str, str] = {}  # a tag's plugin is named in its first value only
        for path in paths:
            for event in _events(path):
                what = event.WhichOneof("what")
                if what == "graph_def":
                    run.graphs += 1
                elif what == "tagged_run_metadata":
                    run.run_metadata.append(event.tagged_run_metadata.tag)
                elif what == "summary":
                    for v in event.summary.value:
                        if v.metadata.plugin_data.plugin_name:
                            plugins[v.tag] = v.metadata.plugin_data.plugin_name
                        kind = v.WhichOneof("value")
                        if kind == "simple_value":
                            run.scalars[v.tag].append((event.step, v.simple_value))
                        elif kind == "histo":
                            run.histograms[v.tag].append((event.step, v.histo))
                        elif kind == "image":
                            run.images[v.tag] = (event.step, v.image)
                        elif kind == "audio":
                            run.audio[v.tag] = (event.step, v.audio)
                        elif kind == "tensor" and plugins.get(v.tag) == "text":
                            run.texts[v.tag] = (event.step, _text_of(v.tensor))
        runs[name] = run
    return runs


# -- pictures ---------------------------------------------------------------------------------------------
def _coord(x: float) -> str:
    return f"{x:.1f}"


def scalar_svg(points: list[tuple[int, float]]) -> Html:
    """A line chart of (step, value) points, steps left to right, with the value range and last value."""
    steps = np.array([p[0] for p in points], dtype=np.float64)
    values = np.array([p[1] for p in points], dtype=np.float64)
    finite = np.isfinite(values)
    lo, hi = (values[finite].min(), values[finite].max()) if finite.any() else (0.0, 1.0)
    s0, s1 = steps.min(), steps.max()
    xs = PAD + (steps - s0) / ((s1 - s0) or 1.0) * (CHART_W - 2 * PAD)
    ys = CHART_H - PAD - (np.where(finite, values, lo) - lo) / ((hi - lo) or 1.0) * (CHART_H - 2 * PAD)
    if len(points) == 1:
        xs = np.array([CHART_W / 2])
    # The line joins the finite values only; an inf or NaN is not a value on the axis, so it gets a marker of
    # its own (+inf at the top edge, -inf at the bottom, NaN in the middle) and a note naming how many there are.
    line = " ".join(f"{_coord(x)},{_coord(y)}" for x, y in zip(xs[finite], ys[finite]))
    shape = (f'<polyline points="{line}" class="tfx-sum-line"/>' if finite.sum() > 1 else
             f'<circle cx="{_coord(xs[finite][0])}" cy="{_coord(ys[finite][0])}" r="3" class="tfx-sum-dot"/>'
             if finite.any() else "")
    markers = []
    for x, v in zip(xs[~finite], values[~finite]):
        glyph, y = ("NaN", CHART_H / 2) if np.isnan(v) else ("+inf", 12.0) if v > 0 else ("-inf", CHART_H - PAD)
        markers.append(f'<text x="{_coord(x)}" y="{_coord(y)}" text-anchor="middle" '
                       f'class="tfx-sum-label tfx-sum-nonfinite">{glyph}</text>')
    labels = (f'<text x="{PAD}" y="12" class="tfx-sum-label">{esc(fmt_num(float(hi)))}</text>'
              f'<text x="{PAD}" y="{CHART_H - PAD}" class="tfx-sum-label">{esc(fmt_num(float(lo)))}</text>')
    if not finite.all():
        labels += (f'<text x="{CHART_W - PAD}" y="{CHART_H - PAD}" text-anchor="end" class="tfx-sum-label">'
                   f'{int((~finite).sum())} non-finite (inf/NaN) not on the axis</text>')
    return Html(f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" '
                f'viewBox="0 0 {CHART_W} {CHART_H}" class="tfx-sum-chart" role="img">'
                f'<rect width="{CHART_W}" height="{CHART_H}" class="tfx-sum-frame"/>{shape}{"".join(markers)}'
                f'{labels}</svg>')


def _histogram_density(histo, lo: float, hi: float) -> np.ndarray:
    """The histogram's counts re-binned into RIDGE_BINS equal bins over [lo, hi], each bucket's count going to
    the bin holding the middle of the part of the bucket inside [histo.min, histo.max]."""
    limits = np.array(histo.bucket_limit, dtype=np.float64)
    counts = np.array(histo.bucket, dtype=np.float64)
    left = np.concatenate([[histo.min], limits[:-1]])
    middle = (np.maximum(left, histo.min) + np.minimum(limits, histo.max)) / 2
    bins = np.clip(((middle - lo) / ((hi - lo) or 1.0) * RIDGE_BINS).astype(np.int64), 0, RIDGE_BINS - 1)
    return np.bincount(bins, weights=counts, minlength=RIDGE_BINS)


def ridgeline_svg(series: list[tuple[int, object]]) -> Html:
    """Histograms over steps as stacked outlines, the oldest at the top, at most RIDGE_ROWS of them picked
    evenly from the series (the last always shown)."""
    series = [(s, h) for s, h in series if h.num > 0]
    if not series:
        return Html(tag("div", "no values", class_="tfx-sum-note"))
    picks = sorted(set(np.linspace(0, len(series) - 1, min(RIDGE_ROWS, len(series))).round().astype(int)))
    chosen = [series[i] for i in picks]
    lo = min(h.min for _, h in chosen)
    hi = max(h.max for _, h in chosen)
    densities = [_histogram_density(h, lo, hi) for _, h in chosen]
    peak = max(float(d.max()) for d in densities) or 1.0
    height = PAD * 2 + RIDGE_ROW_H * (len(chosen) + 2)
    xs = PAD + 40 + np.arange(RIDGE_BINS + 1) * (CHART_W - 2 * PAD - 40) / RIDGE_BINS
    rows = []
    for i, ((step, _), d) in enumerate(zip(chosen, densities)):
        base = PAD + RIDGE_ROW_H * (i + 3)
        heights = d / peak * RIDGE_ROW_H * 2.5
        pts = [f"{_coord(xs[0])},{_coord(base)}"]
        for b in range(RIDGE_BINS):
            y = _coord(base - heights[b])
            pts += [f"{_coord(xs[b])},{y}", f"{_coord(xs[b + 1])},{y}"]
        pts.append(f"{_coord(xs[-1])},{_coord(base)}")
        rows.append(f'<polygon points="{" ".join(pts)}" class="tfx-sum-ridge"/>'
                    f'<text x="{PAD}" y="{_coord(base)}" class="tfx-sum-label">{esc(step)}</text>')
    axis = (f'<text x="{PAD + 40}" y="{height - 2}" class="tfx-sum-label">{esc(fmt_num(float(lo)))}</text>'
            f'<text x="{CHART_W - PAD}" y="{height - 2}" text-anchor="end" class="tfx-sum-label">'
            f'{esc(fmt_num(float(hi)))}</text>')
    return Html(f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{height}" '
                f'viewBox="0 0 {CHART_W} {height}" class="tfx-sum-chart" role="img">{"".join(rows)}{axis}</svg>')


# The audio content types a player is given as they are; anything else in the file is replaced by audio/wav.
_AUDIO_MIME = re.compile(r"audio/[\w.+-]+", re.ASCII)


def _data_uri(mime: str, data: bytes) -> Html:
    """A data: URI, escaped for an attribute value."""
    return esc(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")


def _audio_mime(content_type: str) -> str:
    """The clip's content type when it is a plain audio/<subtype>, else audio/wav (the type is file-derived)."""
    return content_type if _AUDIO_MIME.fullmatch(content_type) else "audio/wav"


def _image_mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


# -- the view ---------------------------------------------------------------------------------------------
class SummaryView:
    """A displayable snapshot of the summaries under `logdir` (read when the view is drawn, so displaying
    the same view again shows what was written since)."""

    def __init__(self, logdir) -> None:
        self.logdir = os.fspath(logdir)

    def runs(self) -> dict[str, Run]:
        return read_logdir(self.logdir)

    def text(self, runs: dict[str, Run] | None = None) -> str:
        runs = self.runs() if runs is None else runs
        if not runs:
            return f"Summaries in {self.logdir}: no event files yet"
        lines = [f"Summaries in {self.logdir}:"]
        for name, run in runs.items():
            if len(runs) > 1 or name != ".":
                lines.append(f"run {name}:")
            for t, pts in run.scalars.items():
                lines.append(f"  scalar     {t}: {fmt_num(float(pts[-1][1]))} at step {pts[-1][0]} "
                             f"({len(pts)} points)")
            for t, series in run.histograms.items():
                step, h = series[-1]
                lines.append(f"  histogram  {t}: {int(h.num)} values in [{fmt_num(h.min)}, {fmt_num(h.max)}] "
                             f"at step {step} ({len(series)} steps)")
            for t, (step, img) in run.images.items():
                lines.append(f"  image      {t}: {img.width}x{img.height} at step {step}")
            for t, (step, clip) in run.audio.items():
                lines.append(f"  audio      {t}: {clip.length_frames} frames at {fmt_num(clip.sample_rate)} Hz "
                             f"at step {step}")
            for t, (step, values) in run.texts.items():
                lines.append(f"  text       {t}: {truncate(' | '.join(values), 60)!r} at step {step}")
            if run.graphs:
                lines.append("  graph      written")
            if run.run_metadata:
                lines.append(f"  run metadata: {', '.join(run.run_metadata)}")
        return "\n".join(lines)

    def html(self) -> Html:
        runs = self.runs()
        parts = [_STYLE, tag("div", f"Summaries in {self.logdir}", class_="tfx-head")]
        for name, run in runs.items():
            body = _run_html(run)
            parts.append(section(f"run {name}", body, key=f"{self.logdir}\0{name}", open_=True)
                         if len(runs) > 1 or name != "." else body)
        if not runs:
            parts.append(tag("div", "no event files yet", class_="tfx-sum-note"))
        return page(Html("".join(parts)), self.text(runs), kind="Summaries")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": self.text(), "text/html": self.html()}


def _card(title, body) -> Html:
    return tag("div", tag("div", title, class_="tfx-sum-title") + body, class_="tfx-sum-card")


def _run_html(run: Run) -> Html:
    cards = []
    for t, pts in run.scalars.items():
        cards.append(_card(t, scalar_svg(pts) + tag("div", f"{fmt_num(float(pts[-1][1]))} at step {pts[-1][0]}",
                                                     class_="tfx-sum-note")))
    for t, series in run.histograms.items():
        cards.append(_card(t, ridgeline_svg(series)))
    for t, (step, img) in run.images.items():
        data = img.encoded_image_string
        picture = Html(f'<img src="{_data_uri(_image_mime(data), data)}" width="{min(THUMB_PX, img.width * 8)}" '
                       f'class="tfx-sum-thumb" alt="{esc(t)}">')
        cards.append(_card(t, picture + tag("div", f"step {step}, {img.width}x{img.height}", class_="tfx-sum-note")))
    for t, (step, clip) in run.audio.items():
        player = Html(f'<audio controls src="{_data_uri(_audio_mime(clip.content_type), clip.encoded_audio_string)}">'
                      "</audio>")
        cards.append(_card(t, player + tag("div", f"step {step}", class_="tfx-sum-note")))
    for t, (step, values) in run.texts.items():
        cards.append(_card(t, tag("pre", "\n".join(values), class_="tfx-sum-text")
                           + tag("div", f"step {step}", class_="tfx-sum-note")))
    extra = []
    if run.graphs:
        extra.append("graph written")
    if run.run_metadata:
        extra.append("run metadata: " + ", ".join(run.run_metadata))
    if extra:
        cards.append(tag("div", "; ".join(extra), class_="tfx-sum-note"))
    return tag("div", Html("".join(cards)), class_="tfx-sum-grid")


def writer_view(writer) -> SummaryView:
    """The view of a FileWriter's directory, after flushing what it has queued."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flushing a closed writer warns, and changes nothing
        writer.flush()
    return SummaryView(writer.get_logdir())


def writer_html(writer) -> Html:
    return writer_view(writer).html()


def writer_text(writer) -> str:
    return writer_view(writer).text()


def _signature(logdir: str) -> tuple:
    """What changes when an event file under `logdir` grows or appears."""
    out = []
    for paths in _event_files(logdir).values():
        for path in paths:
            try:
                out.append((path, os.path.getsize(path)))
            except OSError:
                continue
    return tuple(out)


class LiveDisplay:
    """Redraws a displayed SummaryView while a cell runs: a thread compares the event files' sizes every
    `interval` seconds and updates the display when they changed; `stop()` ends it with a last redraw.
    Display updates are not replayed by nbval: validated notebooks show summaries with the line magic."""

    def __init__(self, view: SummaryView, handle, interval: float = 0.5) -> None:
        self.view, self.handle, self.interval = view, handle, interval
        self._seen = _signature(view.logdir)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="tfx-summaries", daemon=True)
        self._thread.start()

    def _refresh(self, force: bool = False) -> None:
        now = _signature(self.view.logdir)
        if force or now != self._seen:
            self._seen = now
            self.handle.update(self.view)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._refresh()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._refresh(force=True)  # the cell's output always ends with the final state
