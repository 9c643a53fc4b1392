"""Helpers for the extension tests (import as `from ext_helpers import run, HOSTILE, ...`): run a cell in a
shell capturing what it displayed, and check markup for escaping and self-containment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from IPython.utils.capture import capture_output

HOSTILE = "<img src=x onerror=alert(1)>"


@dataclass
class Ran:
    result: object  # IPython's ExecutionResult
    stdout: str
    stderr: str
    outputs: list  # one mimebundle dict per display

    @property
    def value(self):
        return self.result.result


def run(shell, code: str) -> Ran:
    """Runs `code` as a numbered notebook cell and captures stdout, stderr and displays."""
    with capture_output() as cap:
        result = shell.run_cell(code, store_history=True)
    return Ran(result, cap.stdout, cap.stderr, [o.data for o in cap.outputs])


def assert_escaped(markup_text: str) -> None:
    """The hostile string appears only escaped: as text, never as an element or attribute."""
    assert HOSTILE not in markup_text
    assert "<img src=x" not in markup_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup_text


def no_external_assets(markup_text: str) -> None:
    assert not re.search(r"<script\b[^>]*\bsrc=", markup_text)  # inline view scripts only, never loaded ones
    assert "<link" not in markup_text
    assert not re.search(r'(src|href)="(https?:)?//', markup_text)
