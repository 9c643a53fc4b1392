"""What the interop parts share: their failure exception and the four-command entry point (`make interop`
skips this module, whose name starts with an underscore)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import ModuleType


class CheckFailed(Exception):
    """A disagreement between the two sides: the part exits 1 with this message."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def import_tensorflow() -> ModuleType:
    """TensorFlow's v1 API, quiet and with reproducible numbers (only the tf-* commands call this)."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow.compat.v1 as tf  # only the tf-* commands may import TensorFlow

    tf.disable_v2_behavior()
    return tf


def run(part: str, commands: dict[str, Callable[[str], str | None]], argv: list[str]) -> int:
    """Runs `commands[argv[0]]` on the directory `argv[1]` (created if missing) and prints what it says;
    2 for a usage error, 1 when a check fails."""
    if len(argv) != 2 or argv[0] not in commands:
        print(f"usage: {part}.py {{{','.join(commands)}}} DIR", file=sys.stderr)
        return 2
    command, directory = argv
    os.makedirs(directory, exist_ok=True)
    try:
        print(f"{part} {command}: {commands[command](directory)}")
    except CheckFailed as e:
        print(f"{part} {command}: FAILED: {e}", file=sys.stderr)
        return 1
    return 0
