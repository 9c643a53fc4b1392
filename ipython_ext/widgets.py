"""ipywidgets tools: `interactive_runner(fetch)` turns the placeholders a fetch needs into controls
(sliders for scalars, a text box for small arrays) and re-runs and redraws on every change;
`trace_explorer(run_metadata)` picks an op of a traced run and shows its stats on the timeline."""

from __future__ import annotations

import ast
import contextlib

import numpy as np

import tfmini as tf
from ipython_ext import describe
from ipython_ext.markup import Html, fields, fmt_bytes, fmt_us, mono, page, table, tag, truncate
from ipython_ext.runs import fetch_names, op_error_text, ops_that_ran
from ipython_ext.trace_view import TraceView, op_stats, step_stats_of
from ipython_ext.values import FetchedValue
from ipython_ext.values import html as value_html

INSTALL = ("ipython_ext.widgets needs ipywidgets 8: pip install 'ipywidgets>=8' "
           "(or conda install -c conda-forge ipywidgets), then restart the kernel.")

PLACEHOLDER_TYPES = frozenset({"Placeholder", "PlaceholderV2"})
SLIDER_RANGE = (-10.0, 10.0)  # a slider with no given value (or 0) spans this, in steps of 0.1
SLIDER_SPAN = 10  # a given value v of magnitude m = 10**floor(log10|v|) gets v ± 10 m, in steps of m / 10


def _ipywidgets():
    try:
        import ipywidgets  # optional: only the interactive runner needs ipywidgets
    except ImportError as e:
        raise ImportError(INSTALL) from e
    return ipywidgets


class _WidgetView:
    """Shows as its `widget` wherever it is displayed."""

    widget: object

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# -- interactive runner -----------------------------------------------------------------------------------
def placeholders_of(fetch, graph) -> list:
    """The placeholders (their output tensors) a run of `fetch` needs, in graph order."""
    needed = ops_that_ran(graph, fetch, fed=())
    return [op.outputs[0] for op in graph.get_operations() if op in needed and op.type in PLACEHOLDER_TYPES]


def parse_array(text: str, tensor) -> np.ndarray:
    """A small literal array (`[[1, 2], [3, 4]]`, `3`, `1e-3`) as a value for `tensor`; a single number fills
    a placeholder of fully known shape. ValueError if it is not a literal or does not fit the placeholder's
    static shape."""
    try:
        literal = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError) as e:
        raise ValueError(f"{tensor.op.name}: {truncate(text, 60)!r} is not a number or a (nested) list of "
                         "numbers") from e
    arr = np.asarray(literal, dtype=tensor.dtype.base_dtype.as_numpy_dtype)
    if arr.ndim == 0 and tensor.shape.is_fully_defined() and tensor.shape.ndims:
        return np.full(tensor.shape.as_list(), arr, dtype=arr.dtype)
    if not tensor.shape.is_compatible_with(arr.shape):
        raise ValueError(f"{tensor.op.name}: shape {arr.shape} does not fit {describe.shape_text(tensor.shape)}")
    return arr


# A text box holds a literal of at most this many elements; a larger placeholder starts as one number that
# fills it, and a larger given value is kept as it is (the box names it) until the box is edited.
LITERAL_ELEMENTS = 64


def _initial_text(tensor) -> str:
    dims = tensor.shape.as_list() if tensor.shape.dims is not None else None
    if dims is None or any(d is None for d in dims) or int(np.prod(dims)) > LITERAL_ELEMENTS:
        return "0"
    return repr(np.zeros(dims, dtype=int).tolist())


def given_text(value) -> str:
    """The text box of a given value: the literal when small, else a line naming it (kept as fed)."""
    arr = np.asarray(value)
    if arr.size <= LITERAL_ELEMENTS:
        return repr(arr.tolist())
    return f"<the given {arr.dtype.name} array of shape {arr.shape}; type a number or a literal to replace it>"


def slider_range(value: float, integer: bool = False, unsigned: bool = False) -> tuple[float, float, float]:
    """(min, max, step) of a slider starting at `value`, from its order of magnitude m: `value ± 10 m` on a
    grid of m, moved in steps of m / 10 (at least 1 for integers; never below 0 when unsigned). A learning
    rate of 0.001 gets [-0.009, 0.011] in steps of 0.0001, a count of 300 [-700, 1300] in steps of 10."""
    if value == 0 or not np.isfinite(value):
        lo, hi = SLIDER_RANGE
        step = 1.0 if integer else 0.1
    else:
        m = 10.0 ** np.floor(np.log10(abs(value)))
        lo = np.floor((value - SLIDER_SPAN * m) / m) * m
        hi = np.ceil((value + SLIDER_SPAN * m) / m) * m
        step = m / 10
        if integer:
            step = max(1.0, step)
            lo, hi = np.floor(lo), np.ceil(hi)
    if unsigned:
        lo = max(lo, 0.0)

    def tidy(x) -> float:  # 0.009000000000000001 -> 0.009
        return float(f"{float(x):.12g}")
    return tidy(min(lo, value)), tidy(max(hi, value)), tidy(step)


def _readout(step: float) -> str:
    """A slider's readout format that shows the digits its step moves."""
    digits = max(0, int(-np.floor(np.log10(step))))
    return f".{digits}f" if digits <= 6 else ".3e"


def _control(w, tensor, initial):
    """The control for one placeholder: a slider for a scalar number, a checkbox for a scalar bool,
    a text box (parsed as a literal array) for everything else."""
    dtype = tensor.dtype.base_dtype
    scalar = tensor.shape.dims is not None and tensor.shape.ndims == 0
    label = tensor.op.name
    if scalar and dtype.is_floating:
        value = 0.0 if initial is None else float(initial)
        lo, hi, step = slider_range(value)
        return w.FloatSlider(value=value, min=lo, max=hi, step=step, readout_format=_readout(step),
                             description=label, continuous_update=False)
    if scalar and dtype.is_integer:
        value = 0 if initial is None else int(initial)
        # A negative value could not be fed to an unsigned placeholder.
        lo, hi, step = slider_range(value, integer=True, unsigned=dtype.is_unsigned)
        return w.IntSlider(value=value, min=int(lo), max=int(hi), step=int(step), description=label,
                           continuous_update=False)
    if scalar and dtype.is_bool:
        return w.Checkbox(value=bool(initial), description=label)
    text = _initial_text(tensor) if initial is None else given_text(initial)
    return w.Text(value=text, description=label, continuous_update=False)


class InteractiveRunner(_WidgetView):
    """A fetch with a control per placeholder; every change re-runs it and redraws the result."""

    def __init__(self, fetch, session=None, feed_dict=None) -> None:
        w = _ipywidgets()
        self.session = session or tf.get_default_session()
        if self.session is None:
            raise ValueError("interactive_runner needs a session: pass session=... or create a default one")
        self.fetch = fetch
        given = dict(feed_dict or {})
        self.placeholders = placeholders_of(fetch, self.session.graph)
        initial = {_tensor_key(k, self.session.graph): v for k, v in given.items()}
        # Given values too large for a text box, by placeholder name, with the text that stands for them.
        self.kept = {t.op.name: (given_text(initial[t]), initial[t]) for t in self.placeholders
                     if t in initial and np.asarray(initial[t]).size > LITERAL_ELEMENTS}
        self.controls = {t.op.name: _control(w, t, initial.get(t)) for t in self.placeholders}
        self.output = w.HTML()
        self.value = None
        self.error = None
        for c in self.controls.values():
            c.observe(self._on_change, names="value")
        self.widget = w.VBox([*self.controls.values(), self.output])
        self.run()

    def feeds(self) -> dict:
        out = {}
        for t in self.placeholders:
            v = self.controls[t.op.name].value
            kept = self.kept.get(t.op.name)
            if kept is not None and v == kept[0]:
                out[t] = kept[1]
            else:
                out[t] = parse_array(v, t) if isinstance(v, str) else v
        return out

    def run(self) -> None:
        """Runs the fetch with the controls' values and redraws; errors show in place of the result."""
        try:
            self.value = self.session.run(self.fetch, feed_dict=self.feeds())
            self.error = None
        except tf.errors.OpError as e:
            self.error = op_error_text(e)
        except (ValueError, TypeError, RuntimeError) as e:
            self.error = f"{type(e).__name__}: {e}"
        if self.error is None:
            self.output.value = value_html(FetchedValue(self.value, fetch_names(self.fetch, self.session.graph)))
        else:
            self.output.value = page(tag("pre", self.error, class_="tfx-error"), self.error)

    def _on_change(self, change) -> None:
        self.run()


def _tensor_key(key, graph):
    with contextlib.suppress(KeyError, ValueError, TypeError):
        return graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    return key


def interactive_runner(fetch, session=None, feed_dict=None) -> InteractiveRunner:
    """An interactive runner for `fetch` (anything Session.run accepts) in `session` (default: the default
    session); `feed_dict` gives the controls' first values."""
    return InteractiveRunner(fetch, session, feed_dict)


# -- trace explorer ---------------------------------------------------------------------------------------
class TraceExplorer(_WidgetView):
    """A traced run: choose an op (costliest first) to see its stats and its bar ringed on the timeline."""

    def __init__(self, run_metadata, graph=None) -> None:
        w = _ipywidgets()
        self.run_metadata = run_metadata
        self.graph = graph
        self.stats = sorted(op_stats(step_stats_of(run_metadata)), key=lambda s: -s.duration_us)
        self.total_us = sum(s.duration_us for s in self.stats) or 1.0
        options = [(f"{s.name} ({s.op_type}) · {fmt_us(s.duration_us)}", i) for i, s in enumerate(self.stats)]
        self.chooser = w.Dropdown(options=options, value=0 if options else None, description="op")
        self.details = w.HTML()
        self.timeline = w.HTML()
        self.chooser.observe(self._on_change, names="value")
        self.widget = w.VBox([self.chooser, self.details, self.timeline])
        self.show()

    def show(self) -> None:
        """Redraws the stats and the timeline for the chosen op."""
        if self.chooser.value is None:
            self.details.value = page(tag("div", "This run has no step stats.", class_="tfx-note"), "no step stats")
            return
        s = self.stats[self.chooser.value]
        rows = [
            ("op", mono(s.name)), ("type", s.op_type), ("device", s.device),
            ("time", f"{fmt_us(s.duration_us)} ({100 * s.duration_us / self.total_us:.1f}% of op time)"),
            ("starts at", "+" + fmt_us(s.start_us - min(x.start_us for x in self.stats))),
            ("recorded as", mono(s.label)),
        ]
        outs = table(["#", "dtype", "shape", "bytes"],
                     [[str(i), d, sh, fmt_bytes(b)] for i, (d, sh, b) in enumerate(s.outputs)], numeric=[0, 3])
        text = f"{s.name} ({s.op_type}) {fmt_us(s.duration_us)}"
        self.details.value = page(Html(fields(rows) + tag("div", "Outputs", class_="tfx-head") + outs), text)
        view = TraceView(self.run_metadata, graph=self.graph, highlight=s.name)
        self.timeline.value = page(tag("div", Html(view.svg()), class_="tfx-picture"), view.summary())

    def _on_change(self, change) -> None:
        self.show()


def trace_explorer(run_metadata, graph=None) -> TraceExplorer:
    """A trace explorer for a traced run (RunMetadata or StepStats)."""
    return TraceExplorer(run_metadata, graph)
