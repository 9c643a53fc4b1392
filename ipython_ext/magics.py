"""`%run_graph` and `%%run_graph`: evaluate fetches (or build them in a cell), run them, show the result,
the trace and the subgraph that ran. The magic body only parses options; `run_graph` does the work, and
failures become a short message naming the op and the cell line where it was created."""

from __future__ import annotations

import ast
import contextlib
import linecache
import os
import sys
import time
from dataclasses import dataclass

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

import tfmini as tf
from ipython_ext import sites
from ipython_ext.debugger import run_debug
from ipython_ext.graph_view import GraphView
from ipython_ext.markup import fmt_us
from ipython_ext.runs import fetch_names, graph_of, op_error_text, ops_that_ran
from ipython_ext.summary_view import LiveDisplay, SummaryView
from ipython_ext.trace_view import TraceView
from ipython_ext.values import FetchedValue
from ipython_ext.widgets import interactive_runner


class ReportedError(Exception):
    """A failure already phrased for the user: shown as one short message, never as a traceback.
    `original` is the exception behind it, whose traceback `%tb` shows."""

    def __init__(self, message: str, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original

    def _render_traceback_(self) -> list[str]:
        # How IPython (and %tb) shows it when it is kept as the last error: the message alone.
        return [str(self)]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: still a KeyboardInterrupt, shown by IPython as one line naming the op that was
    running and the time the run had taken, instead of the frames of the engine."""

    def _render_traceback_(self) -> list[str]:
        return [f"KeyboardInterrupt: {self}"]


@magics_class
class RunGraphMagics(Magics):
    """The extension's magics; `extension` owns the sessions they run in."""

    def __init__(self, shell, extension) -> None:
        super().__init__(shell)
        self.extension = extension

    @magic_arguments()
    @argument("fetches", nargs="*", metavar="FETCHES",
              help="a Python expression: a tensor, an operation, a name string, or a list/tuple/dict of them")
    @argument("--feed", action="append", default=[], metavar="NAME=EXPR",
              help="feed the placeholder NAME (a variable of the notebook or a tensor name) with the value of "
                   "the Python expression EXPR; repeat for several feeds")
    @argument("--trace", action="store_true", help="run with FULL_TRACE; show the timeline and the costliest ops")
    @argument("--graph", action="store_true", help="show the subgraph that ran")
    @argument("--max-nodes", type=int, default=None, metavar="N",
              help="with --graph: collapse name scopes until at most N nodes are drawn")
    @argument("--session", metavar="EXPR", help="run in this session instead of the default one")
    @argument("--out", metavar="NAME", help="also bind the fetched value to the notebook variable NAME")
    @argument("--fresh", action="store_true",
              help="(cell magic) build the cell in a new tf.Graph with its own session; the default graph is "
                   "left untouched")
    @argument("--debug", action="store_true",
              help="run keeping every tensor of the step: list them with statistics, show the first NaN/Inf")
    @argument("--interact", action="store_true",
              help="show an interactive runner: a control per placeholder, re-running on every change")
    @argument("--reset", action="store_true",
              help="start over: a new default graph and a new InteractiveSession bound to `sess`")
    @argument("--summaries", metavar="LOGDIR",
              help="show the summaries written under LOGDIR (a path, or a notebook variable holding one): "
                   "scalars, histograms, images, audio, text; the cell magic redraws them while the cell runs")
    @line_cell_magic
    def run_graph(self, line: str, cell: str | None = None):
        """Run fetches and show the result (and, on request, its trace and the subgraph that ran).

        Line form: `%run_graph c --feed x=3` returns the value, so `v = %run_graph c` works.
        Cell form: the cell's code builds ops; its last expression is what gets fetched and shown (the
        cell returns nothing, so the value is not echoed a second time; use --out NAME to keep it).
        """
        args = self.run_graph.parser.parse_args(split_args(strip_comment(line)))
        site = None if cell is not None else calling_line(self.shell)
        with sites.current_cell(site[0]) if site is not None else contextlib.nullcontext():
            return run_graph(self.extension, args, cell, site)


def strip_comment(line: str) -> str:
    """The magic's line without a trailing `# comment`: a `#` outside quotes, at the start or after a space
    (IPython hands magics the whole rest of the line, comments included)."""
    quote, escaped, prev = "", False, " "
    for i, ch in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and prev.isspace():
            return line[:i].rstrip()
        prev = ch
    return line


def calling_line(shell) -> tuple[str, int] | None:
    """(filename, line) of the notebook cell line that called the line magic: the innermost frame of code
    IPython compiled for a cell. None outside a cell (e.g. `run_line_magic` called from a module)."""
    known = getattr(getattr(shell, "compile", None), "format_code_name", None)
    if known is None:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        if known(frame.f_code.co_filename) is not None:
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def split_args(line: str) -> list[str]:
    """Splits magic arguments on spaces outside brackets and quotes, so Python expressions such as
    `[a, b]` or `x=np.ones((2, 3))` stay whole; quotes are kept (they are part of the expression)."""
    out, buf, depth, quote, escaped = [], [], 0, "", False
    for ch in line:
        if quote:
            buf.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch in "([{":
            depth += 1
            buf.append(ch)
        elif ch in ")]}":
            depth = max(0, depth - 1)
            buf.append(ch)
        elif ch.isspace() and depth == 0:
            if buf:
                out.append("".join(buf))
                buf = []
        else:
            buf.append(ch)
    if buf:
        out.append("".join(buf))
    return out


# -- the run ----------------------------------------------------------------------------------------------
_NOTHING = object()


@dataclass
class _Run:
    fetches: object
    session: object
    feeds: dict


def run_graph(extension, args, cell: str | None, site: tuple[str, int] | None = None):
    """Does what `%run_graph` / `%%run_graph` ask; returns the fetched value, or None after a reported
    failure (printed to stderr) or when nothing was fetched. `site` is the (filename, line) of the cell line
    holding a line magic: code in its expressions is compiled as that line, so ops created there name it."""
    shell = extension.shell
    if args.fresh and cell is None:
        raise UsageError("--fresh applies to the cell magic %%run_graph only")
    if cell is None and not args.fetches and not args.reset and args.summaries is None:
        raise UsageError("%run_graph needs FETCHES (see %run_graph?)")
    if cell is not None and args.fetches:
        raise UsageError("%%run_graph fetches the cell's last expression; FETCHES belong to the line magic "
                         f"(got {' '.join(args.fetches)!r})")
    if args.out is not None and not args.out.isidentifier():
        raise UsageError(f"--out takes a variable name, got {args.out!r}")
    try:
        if args.reset:
            extension.reset()
            if cell is None and not args.fetches:
                return None
        view = None if args.summaries is None else SummaryView(summaries_logdir(shell, args.summaries))
        if cell is None:
            if not args.fetches:
                display(view)
                return None
            run = _prepare(extension, args, " ".join(args.fetches), None, graph=None, site=site)
            value = _execute(extension, args, run)
            if view is not None:
                display(view)
            return value
        code = shell.transform_cell(cell)
        filename = sites.compile_name(shell, code, offset=1)
        live = None if view is None else LiveDisplay(view, display(view, display_id=True))
        try:
            with sites.current_cell(filename):
                graph = tf.Graph() if args.fresh else None
                run = _prepare(extension, args, None, (code, filename), graph)
                if run is not None:
                    _execute(extension, args, run)
        finally:
            if live is not None:
                live.stop()
        return None
    except ReportedError as e:
        _keep_for_tb(e.original if e.original is not None else e)
        print(str(e), file=sys.stderr)
        return None


def _prepare(extension, args, expr: str | None, cell: tuple[str, str] | None, graph,
             site: tuple[str, int] | None = None) -> _Run | None:
    """Evaluates the fetches (or runs the cell body, given as (code, filename)), the session and the feeds,
    inside `graph` if given."""
    shell = extension.shell
    with graph.as_default() if graph is not None else contextlib.nullcontext():
        if cell is None:
            fetches = evaluate(shell, expr, "FETCHES", site, graph_names=True)
        else:
            fetches = run_cell_body(shell, *cell)
            if fetches is _NOTHING:
                print("%%run_graph: the cell built its ops but ends in no expression to fetch.", file=sys.stderr)
                return None
        feeds = feed_dict(shell, args.feed, site)
    if graph is not None:
        session = extension.fresh_session(graph, feeds)
    elif args.session:
        session = evaluate(shell, args.session, "--session")
        if not isinstance(session, tf.BaseSession):
            raise ReportedError(f"--session {args.session} is a {type(session).__name__}, not a tf.Session")
    else:
        session = extension.session_for(graph_of(fetches))
    return _Run(fetches, session, feeds)


def _execute(extension, args, run: _Run):
    if args.interact:
        display(interactive_runner(run.fetches, run.session, feed_dict=run.feeds))
        return None
    if args.debug:
        try:
            view = run_debug(run.session, run.fetches, run.feeds or None)
        except tf.errors.OpError as e:
            raise ReportedError(op_error_text(e), e) from None
        except (TypeError, ValueError, KeyError, RuntimeError) as e:
            raise ReportedError(f"{type(e).__name__}: {e}", e) from None
        if args.out is not None:
            extension.shell.user_ns[args.out] = view.value
        display(view)
        return view.value
    md = tf.RunMetadata() if args.trace else None
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) if args.trace else None
    start = time.perf_counter()
    try:
        value = run.session.run(run.fetches, feed_dict=run.feeds or None, options=options, run_metadata=md)
    except tf.errors.OpError as e:
        raise ReportedError(op_error_text(e), e) from None
    except (TypeError, ValueError, KeyError, RuntimeError) as e:
        raise ReportedError(f"{type(e).__name__}: {e}", e) from None
    except KeyboardInterrupt as e:
        raise RunInterrupted(interrupted_text(e, run.session.graph, time.perf_counter() - start)) from None
    if args.out is not None:
        extension.shell.user_ns[args.out] = value
    display(FetchedValue(value, names=fetch_names(run.fetches, run.session.graph)))
    if md is not None:
        extension.remember_trace(md)
        display(TraceView(md, graph=run.session.graph))
    if args.graph:
        fed = [t for t in run.feeds if isinstance(t, tf.Tensor)] + _named_tensors(run.feeds, run.session.graph)
        ops = ops_that_ran(run.session.graph, run.fetches, fed)
        display(GraphView(run.session.graph, ops=ops, fed=fed, max_nodes=args.max_nodes, title="Subgraph that ran"))
    return value


def summaries_logdir(shell, text: str) -> str:
    """--summaries LOGDIR: a notebook variable's value when LOGDIR names one, else the path itself (quotes
    around it dropped)."""
    if text.isidentifier() and text in shell.user_ns:
        value = shell.user_ns[text]
        if not isinstance(value, (str, bytes)) and not hasattr(value, "__fspath__"):
            raise UsageError(f"--summaries {text}: {text!r} is a {type(value).__name__}, not a path")
        return os.fsdecode(value)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


# -- Ctrl-C -----------------------------------------------------------------------------------------------
def interrupted_op(tb, graph) -> tuple[str, str] | None:
    """(name, type) of the op of `graph` that was running where traceback `tb` was interrupted: the
    innermost frame of a generated plan (whose source comments each kernel call with its op's name and
    type) or of an engine loop holding the op, that names an op of `graph` (an op inside a loop body names
    its loop). None when no frame tells."""
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    for frame, lineno in reversed(frames):
        if frame.f_code.co_filename.startswith("<tfmini plan"):
            named = _plan_comment(frame.f_code.co_filename, lineno)
            if named is not None and _has_op(graph, named[0]):
                return named
            continue
        for key in ("op", "step"):
            value = frame.f_locals.get(key)
            op = value if isinstance(value, tf.Operation) else getattr(value, "op", None)
            if isinstance(op, tf.Operation) and op.graph is graph:
                return op.name, op.type
    return None


def _plan_comment(filename: str, lineno: int) -> tuple[str, str] | None:
    """The `# 'name' ('Type')` comment above a kernel call of a plan's source."""
    for n in range(lineno, max(0, lineno - 3), -1):
        text = linecache.getline(filename, n).strip()
        if text.startswith("# "):
            try:
                name, op_type = ast.literal_eval("(" + text[2:].replace(" (", ", ", 1) + ")")
            except (ValueError, SyntaxError):
                return None
            return (name, op_type) if isinstance(name, str) and isinstance(op_type, str) else None
    return None


def _has_op(graph, name: str) -> bool:
    try:
        graph.get_operation_by_name(name)
    except (KeyError, ValueError):
        return False
    return True


def interrupted_text(e: BaseException, graph, seconds: float) -> str:
    named = interrupted_op(e.__traceback__, graph)
    where = f" in op '{named[0]}' ({named[1]})" if named is not None else ""
    return f"the run was interrupted{where} after {fmt_us(seconds * 1e6)}"


# -- evaluating user code ---------------------------------------------------------------------------------
def _compiled(shell, expr: str, site: tuple[str, int] | None):
    """`expr` compiled for eval: as line `site[1]` of the cell file `site[0]` when given (so ops it creates
    name that cell line), else under a name of its own."""
    if site is None:
        return compile(expr, sites.compile_name(shell, expr, offset=0), "eval")
    tree = ast.parse(expr.strip(), site[0], "eval")
    for node in ast.walk(tree):
        if hasattr(node, "lineno"):
            node.lineno = node.end_lineno = site[1]
    return compile(tree, site[0], "eval")


def evaluate(shell, expr: str, what: str, site: tuple[str, int] | None = None, graph_names: bool = False):
    """The value of a Python expression in the user namespace; failures are reported, not raised. With
    `graph_names`, an expression that is no defined Python name but the name of an op or tensor of the
    default graph (`loss`, `layer/MatMul`, `layer/MatMul:0`) stands for it: an op's name for its first
    output (for the op itself when it has none)."""
    try:
        return eval(_compiled(shell, expr, site), shell.user_ns)
    except Exception as e:  # noqa: BLE001 - any failure of user code is reported to the user
        named = _graph_name(expr) if graph_names and isinstance(e, (NameError, SyntaxError)) else None
        if named is not None:
            return named
        _keep_for_tb(e)
        raise ReportedError(f"could not evaluate {what} `{expr}`: {type(e).__name__}: {e}", e) from None


def _graph_name(expr: str) -> str | None:
    graph = tf.get_default_graph()
    name = expr.strip()
    try:
        element = graph.as_graph_element(name, allow_tensor=True, allow_operation=True)
    except (KeyError, ValueError, TypeError):
        return None
    if isinstance(element, tf.Operation) and element.outputs:
        return element.outputs[0].name
    return element.name


def run_cell_body(shell, code: str, filename: str):
    """Runs cell `code` (compiled as `filename`) in the user namespace; returns the value of its last line
    if that is an expression, else `_NOTHING`."""
    try:
        tree = ast.parse(code, filename)
    except SyntaxError as e:
        raise ReportedError(f"SyntaxError at {sites.site_text(filename, e.lineno or 0)}: {e.msg}", e) from None
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    try:
        exec(compile(tree, filename, "exec"), shell.user_ns)
        if last is None:
            return _NOTHING
        return eval(compile(ast.Expression(last.value), filename, "eval"), shell.user_ns)
    except Exception as e:  # noqa: BLE001 - any failure of user code is reported to the user
        _keep_for_tb(e)
        raise ReportedError(_cell_error_text(e, filename), e) from None


def _keep_for_tb(e: BaseException) -> None:
    """Keeps the full traceback where IPython's %tb finds it, while only a short message is shown."""
    sys.last_type, sys.last_value, sys.last_traceback = type(e), e, e.__traceback__
    if sys.version_info >= (3, 12):
        sys.last_exc = e


def _cell_error_text(e: BaseException, filename: str) -> str:
    line = None
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(e, tf.errors.OpError):
        return op_error_text(e)
    if line is None:
        return f"{type(e).__name__}: {e}  (%tb shows the full traceback)"
    source = sites.source_line(filename, line)
    return (f"{type(e).__name__} at {sites.site_text(filename, line)}: {e}" + (f"\n    {source}" if source else "")
            + "\n(%tb shows the full traceback)")


# -- feeds, fetches, sessions -----------------------------------------------------------------------------
def feed_dict(shell, feeds: list[str], site: tuple[str, int] | None = None) -> dict:
    """--feed NAME=EXPR items as a feed_dict: NAME is a notebook variable (a tensor) or a tensor name."""
    out = {}
    for item in feeds:
        name, sep, expr = item.partition("=")
        name = name.strip()
        if not sep or not name or not expr.strip():
            raise UsageError(f"--feed takes NAME=EXPR, got {item!r}")
        key = shell.user_ns[name] if name.isidentifier() and name in shell.user_ns else name
        if not isinstance(key, (str, tf.Tensor, tf.SparseTensor)) and not hasattr(key, "_as_graph_element"):
            raise UsageError(
                f"--feed {name}=...: {name!r} is a {type(key).__module__}.{type(key).__name__} in the notebook, "
                "not a tensor; NAME must be a variable holding the placeholder (or tensor) to feed, or a tensor "
                "name such as 'x:0'"
            )
        if isinstance(key, str) and ":" not in key:
            key += ":0"  # an op name stands for its first output, as in a fetch
        out[key] = evaluate(shell, expr, f"the value of --feed {name}", site)
    return out


def _named_tensors(feeds: dict, graph) -> list:
    out = []
    for key in feeds:
        if isinstance(key, str):
            with contextlib.suppress(KeyError, ValueError, TypeError):
                out.append(graph.as_graph_element(key, allow_tensor=True, allow_operation=False))
    return out


# -- completion -------------------------------------------------------------------------------------------
COMPLETION_LIMIT = 500  # names offered at most (a 10,000-op graph completes as fast as a small one)
PLACEHOLDER_TYPES = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "SparsePlaceholder"})


def options_of(magic, valued: bool | None = None) -> list[str]:
    """The long options a magic's `magic_arguments` declaration gives it, in declaration order; only those
    that take a value (or only flags) when `valued` is True (False)."""
    return [s for action in magic.parser._actions for s in action.option_strings if s.startswith("--")
            and (valued is None or valued == (action.nargs != 0))]


def fetch_completions(shell, prefix: str) -> list[str]:
    """What FETCHES may start with: notebook variables holding tensors, ops or variables, then the op names
    of the default graph (and `name:i` for each output of ops with several)."""
    names = [k for k, v in shell.user_ns.items() if k.startswith(prefix) and not k.startswith("_")
             and isinstance(v, (tf.Tensor, tf.Operation, tf.Variable, tf.SparseTensor))]
    for op in tf.get_default_graph().get_operations():
        if len(names) >= COMPLETION_LIMIT:
            break
        if op.name.startswith(prefix):
            names.append(op.name)
        if len(op.outputs) > 1:
            names += [t.name for t in op.outputs if t.name.startswith(prefix)]
    return list(dict.fromkeys(names))[:COMPLETION_LIMIT]


def feed_completions(shell, prefix: str) -> list[str]:
    """What `--feed ` may start with: `NAME=` for notebook variables holding placeholders, then for the
    placeholder op names of the default graph."""
    names = [k for k, v in shell.user_ns.items() if k.startswith(prefix) and not k.startswith("_")
             and isinstance(v, tf.Tensor) and v.op.type in PLACEHOLDER_TYPES]
    names += [op.name for op in tf.get_default_graph().get_operations()
              if op.type in PLACEHOLDER_TYPES and op.name.startswith(prefix)]
    return [n + "=" for n in dict.fromkeys(names)][:COMPLETION_LIMIT]


def complete_run_graph(shell, event) -> list[str]:
    """IPython's `complete_command` hook for `%run_graph` / `%%run_graph`: options after `-`, placeholder
    names after `--feed`, tensor and op names elsewhere. `event.symbol` is the word being completed,
    `event.text_until_cursor` the line up to the cursor."""
    symbol = event.symbol or ""
    before = event.text_until_cursor[: len(event.text_until_cursor) - len(symbol)]
    words = before.split()
    previous = words[-1] if len(words) > 1 else ""
    if symbol.startswith("-"):
        return [o for o in options_of(RunGraphMagics.run_graph) if o.startswith(symbol)]
    if previous == "--feed":
        return feed_completions(shell, symbol)
    if previous in options_of(RunGraphMagics.run_graph, valued=True):
        return []  # the value of another option (a session, a variable name, a path): nothing to offer
    return fetch_completions(shell, symbol)
