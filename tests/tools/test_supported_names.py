"""tools/supported_names.py: reading the TF1 names list, resolving names against a module, and the generated
table."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

import tfmini

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("supported_names", ROOT / "tools" / "supported_names.py")
supported_names = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # dataclasses look it up there
_spec.loader.exec_module(supported_names)


def fake_tf() -> types.ModuleType:
    """A stand-in for tfmini: tf.a, tf.nn.relu and an unlisted tf.extra (all "defined in tfmini")."""
    tf = types.ModuleType("fake_tf")
    tf.nn = types.ModuleType("fake_tf.nn")

    def relu(x):
        return x

    def a():
        return None

    def extra():
        return None

    for f in (relu, a, extra):
        f.__module__ = "tfmini.fake"
    tf.nn.relu, tf.a, tf.extra, tf.np = relu, a, extra, types.ModuleType("numpy")
    return tf


def test_names_file_sections_and_comments(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# comment\n\n## top\ntf.a\ntf.b\n## tf.nn\n# another\ntf.nn.relu\ntf.nn.gelu\n")
    sections = supported_names.read_names(path)
    assert [(s.title, s.names) for s in sections] == [("top", ("tf.a", "tf.b")),
                                                     ("tf.nn", ("tf.nn.relu", "tf.nn.gelu"))]


@pytest.mark.parametrize("text, problem", [("## s\ntf.a\ntf.a\n", "listed twice"),
                                           ("## s\nnp.zeros\n", "is not a name under tf."),
                                           ("tf.a\n## s\n", "before the first")])
def test_names_file_errors(tmp_path, text, problem):
    path = tmp_path / "names.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem):
        supported_names.read_names(path)


def test_render_counts_marks_and_lists_unlisted_names(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("## top\ntf.a\ntf.b\n## tf.nn\ntf.nn.relu\ntf.nn.gelu\ntf.nn.rnn_cell.LSTMCell\n")
    text = supported_names.render(fake_tf(), supported_names.read_names(path))
    assert "Of the 5 commonly used `tf.compat.v1` names" in text and "tfmini has **2** (40%)" in text
    assert "| [top](#top) | 2 | 1 |" in text and "| [tf.nn](#tfnn) | 3 | 1 |" in text
    assert "| `tf.a` | yes |" in text and "| `tf.b` | **no** |" in text
    assert "| `tf.nn.rnn_cell.LSTMCell` | **no** |" in text
    assert "- `tf`: `extra`" in text          # listed namespaces' unlisted public names; modules (np) are not


def test_the_tf1_list_against_tfmini():
    sections = supported_names.read_names()
    names = [n for s in sections for n in s.names]
    assert len(names) > 800 and all(s.names for s in sections)
    for name in ("tf.Session", "tf.placeholder", "tf.nn.relu", "tf.train.AdamOptimizer", "tf.errors.OpError"):
        assert name in names and supported_names.has_name(tfmini, name)
    for name in ("tf.keras.Sequential", "tf.estimator.Estimator"):
        assert name in names and not supported_names.has_name(tfmini, name)
    present = [n for n in names if supported_names.has_name(tfmini, n)]
    assert not [n for n in present if isinstance(supported_names.resolve(tfmini, n), types.ModuleType)
                and n not in ("tf.compat.v1", "tf.compat.v2", "tf.app.flags", "tf.contrib.slim")]


def test_committed_table_is_the_one_the_code_generates():
    """docs/supported_names.md is generated from the code: regenerate it (`make docs`) when names change."""
    import tfmini

    committed = (ROOT / "docs" / "supported_names.md").read_text()
    assert committed == supported_names.render(tfmini, supported_names.read_names()), (
        "docs/supported_names.md is stale: run `make docs` and commit it"
    )
