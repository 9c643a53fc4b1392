"""tools/supported_names.py: reading the TF1 names list, resolving names against a module, and the generated
table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import tfmini

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("supported_names", ROOT / "tools" / "supported_names.py")
supported_names = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # dataclasses look it up there
_spec.loader.exec_module(supported_names)


def fake_api() -> supported_names.Api:
    """A stand-in for tfmini's declarations: tf.a, tf.nn.relu and an unlisted tf.extra."""
    return supported_names.Api(names=frozenset({"tf.a", "tf.nn.relu", "tf.extra"}),
                               namespaces=frozenset({"tf", "tf.nn"}))


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
    text = supported_names.render(fake_api(), supported_names.read_names(path))
    assert "Of the 5 commonly used `tf.compat.v1` names" in text and "tfmini has **2** (40%)" in text
    assert "| [top](#top) | 2 | 1 |" in text and "| [tf.nn](#tfnn) | 3 | 1 |" in text
    assert "| `tf.a` | yes |" in text and "| `tf.b` | **no** |" in text
    assert "| `tf.nn.rnn_cell.LSTMCell` | **no** |" in text
    assert "- `tf`: `extra`" in text          # listed namespaces' unlisted declared names


def test_a_name_is_present_when_declared_not_merely_reachable():
    api = supported_names.Api.declared()
    assert supported_names.has_name(api, "tf.nn.relu") and supported_names.has_name(api, "tf.nn.rnn_cell")
    assert supported_names.has_name(api, "tf.app.flags")  # the tf.flags namespace under its second name
    assert tfmini.framework is not None and not supported_names.has_name(api, "tf.framework")
    assert not supported_names.has_name(api, "tf.nn.rnn_cell_impl")


def test_the_tf1_list_against_tfmini():
    api = supported_names.Api.declared()
    sections = supported_names.read_names()
    names = [n for s in sections for n in s.names]
    assert len(names) > 800 and all(s.names for s in sections)
    for name in ("tf.Session", "tf.placeholder", "tf.nn.relu", "tf.train.AdamOptimizer", "tf.errors.OpError"):
        assert name in names and supported_names.has_name(api, name)
    for name in ("tf.keras.Sequential", "tf.estimator.Estimator"):
        assert name in names and not supported_names.has_name(api, name)
    # a listed name counted as a namespace is one TF also has as a module
    assert {n for n in names if n in api.namespaces and n not in api.names} <= {"tf.app.flags", "tf.contrib.slim"}


def test_committed_table_is_the_one_the_code_generates():
    """docs/supported_names.md is generated from the declarations: regenerate it (`make docs`) when names change."""
    committed = (ROOT / "docs" / "supported_names.md").read_text()
    assert committed == supported_names.render(supported_names.Api.declared(), supported_names.read_names()), (
        "docs/supported_names.md is stale: run `make docs` and commit it"
    )
