"""Where user code created an op, said the way a notebook user reads it: "line 3 of the cell",
"line 2 of In[7]" or "model.py:41", with the source line when it is known."""

from __future__ import annotations

import ast
import contextlib
import linecache
import re
from collections.abc import Iterator

# Filenames under which %%run_graph compiled cell bodies -> how many lines sit above the body in the
# cell (the `%%run_graph` line), so line numbers match the cell as the user sees it.
_body_offsets: dict[str, int] = {}
_current: list[str] = []


def compile_name(shell, code: str, offset: int) -> str:
    """Registers `code` with IPython's compiler cache (so tracebacks and linecache see it) and returns
    the filename to compile it under."""
    number = getattr(shell, "execution_count", 0) if shell is not None else 0
    if shell is not None and hasattr(shell, "compile"):
        name = shell.compile.cache(code, number)
    else:
        name = f"<run_graph-{abs(hash(code)):x}>"
        linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)
    _body_offsets[name] = offset
    return name


@contextlib.contextmanager
def current_cell(filename: str) -> Iterator[None]:
    """While running a cell body compiled as `filename`, sites in it read as "line N of the cell"."""
    _current.append(filename)
    try:
        yield
    finally:
        _current.remove(filename)


def _cell_label(filename: str) -> str | None:
    if _current and filename == _current[-1]:
        return "the cell"
    try:
        from IPython import get_ipython  # optional: outside IPython no cell or In[k] names the code
    except ImportError:
        return None
    shell = get_ipython()
    fmt = getattr(getattr(shell, "compile", None), "format_code_name", None)
    named = fmt(filename) if fmt is not None else None
    return named[1] if named else None


def site_text(filename: str, line: int) -> str:
    """'line N of the cell' / 'line N of In[k]' for notebook code, 'file:line' otherwise."""
    label = _cell_label(filename)
    if label is None:
        return f"{filename}:{line}"
    return f"line {line + _body_offsets.get(filename, 0)} of {label}"


# A line magic as IPython rewrites it before compiling the cell: `x = get_ipython().run_line_magic('name', '...')`.
_LINE_MAGIC = re.compile(r"""get_ipython\(\)\.run_line_magic\('(\w+)', ('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\)""")


def _as_typed(source: str) -> str:
    """A cell line as the user typed it: line magics IPython rewrote shown again as `%name args`."""
    def magic(m: re.Match) -> str:
        try:
            args = ast.literal_eval(m[2])
        except (ValueError, SyntaxError):
            return m[0]
        return f"%{m[1]} {args}".rstrip()
    return _LINE_MAGIC.sub(magic, source)


def source_line(filename: str, line: int) -> str:
    return _as_typed(linecache.getline(filename, line).strip())


def op_site(op) -> tuple[str, str]:
    """(where, source line) for an Operation, from its public `traceback` (filename, line, function)."""
    try:
        filename, line, _ = op.traceback
    except (AttributeError, TypeError, ValueError):
        return "", ""
    if not line:
        return "", ""
    return site_text(filename, line), source_line(filename, line)
