"""The code in the README and the user guide runs as written. Every fenced block carries a language: blocks
marked `python` must be plain Python and `ipython` blocks may use IPython syntax (magics); each is either
complete or preceded by the line `<!-- fragment -->` (an illustration that leaves out its context). The
complete blocks of one page run in order, as cells of one notebook would: in one fresh IPython shell whose
working directory is a temporary one, `python` blocks compiled as plain Python and executed in the shell's
namespace, `ipython` blocks run as cells. A block fails when it raises, and an `ipython` block also when it
writes to stderr (a failing `%run_graph` reports there instead of raising)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

import ipython_ext
import tfmini as tf

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FRAGMENT = "<!-- fragment -->"
RUNNABLE = {"python", "ipython"}
# Languages a block may have that are not run: shell commands, file contents and printed output.
NOT_RUN = {"sh", "ini", "json", "text"}
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass
class Block:
    page: str
    line: int
    language: str
    code: str
    fragment: bool

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language or 'no language'})"


def blocks_of(path: Path, root: Path = ROOT) -> list[Block]:
    """The fenced code blocks of a Markdown page (fences at the start of a line), with their first line."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        before = text[: m.start()].rstrip().rsplit("\n", 1)[-1].strip()
        out.append(Block(path.relative_to(root).as_posix(), text.count("\n", 0, m.start()) + 1,
                         m.group(1).strip(), m.group(2), before == FRAGMENT))
    return out


def test_the_fence_pattern_finds_blocks_and_fragment_markers(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("text\n\n```python\nx = 1\n```\n\n<!-- fragment -->\n```ipython\n%magic\n```\n```\nout\n```\n")
    found = [(b.line, b.language, b.code, b.fragment) for b in blocks_of(page, root=tmp_path)]
    assert found == [(3, "python", "x = 1\n", False), (8, "ipython", "%magic\n", True), (11, "", "out\n", False)]


def test_every_block_has_a_known_language():
    bad = [str(b) for page in PAGES for b in blocks_of(page) if b.language not in RUNNABLE | NOT_RUN]
    assert not bad, f"code blocks without a known language (use one of {sorted(RUNNABLE | NOT_RUN)}): {bad}"


def test_python_blocks_are_plain_python():
    for page in PAGES:
        for b in blocks_of(page):
            if b.language == "python":
                try:
                    compile(b.code, str(b), "exec")
                except SyntaxError as e:
                    pytest.fail(f"{b} is not plain Python (mark IPython syntax as `ipython`): {e}")


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A fresh IPython shell (history in memory) in an empty working directory, with a clean default graph
    and no default session around it."""
    monkeypatch.chdir(tmp_path)
    tf.reset_default_graph()
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    yield ip
    ipython_ext.unload_ipython_extension(ip)
    InteractiveShell.clear_instance()
    while tf.get_default_session() is not None:
        tf.get_default_session().close()
    tf.reset_default_graph()


def _run(ip, block: Block) -> None:
    if block.language == "python":
        code = compile(block.code, f"<{block}>", "exec")
        try:
            exec(code, ip.user_ns)  # noqa: S102 - the documentation's own code, run as a reader would
        except Exception as e:  # noqa: BLE001 - any failure is the block's failure
            pytest.fail(f"{block} failed: {type(e).__name__}: {e}")
        return
    with capture_output() as cap:
        result = ip.run_cell(block.code, store_history=True)
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        pytest.fail(f"{block} failed: {type(error).__name__}: {error}\n{cap.stdout}")
    if cap.stderr.strip():
        pytest.fail(f"{block} wrote to stderr:\n{cap.stderr}")


RUN_PAGES = [p for p in PAGES if any(b.language in RUNNABLE and not b.fragment for b in blocks_of(p))]


@pytest.mark.parametrize("page", RUN_PAGES, ids=[p.name for p in RUN_PAGES])
def test_complete_blocks_of_the_page_run(page, shell):
    for block in blocks_of(page):
        if block.language in RUNNABLE and not block.fragment:
            _run(shell, block)
