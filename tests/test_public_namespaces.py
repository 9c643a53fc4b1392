"""The public namespaces hold exactly what is declared: every public attribute of tf, tf.nn, tf.data.experimental,
tf.saved_model.loader, ... is a name declared with `@tf_export` for that namespace or a namespace module (nothing
exported by accident: no stray imports, helpers or `from __future__ import annotations`), and every module that
declares names is imported by `import tfmini`, so no declaration can be silently missing."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

import tfmini as tf
from tfmini.framework import api_export

ROOT = Path(__file__).resolve().parents[1]


def _namespaces() -> list[str]:
    declared = set(api_export.namespaces())
    parents = {ns.rsplit(".", i)[0] for ns in declared if ns for i in range(1, ns.count(".") + 1)}
    return sorted(declared | parents)


def _module(namespace: str) -> types.ModuleType:
    target = tf
    for part in namespace.split(".") if namespace else ():
        target = getattr(target, part)
    return target


NAMESPACES = _namespaces()
NAMESPACE_MODULES = {id(_module(ns)) for ns in NAMESPACES}


def _undeclared_public_attributes(namespace: str, *, strict: bool = False) -> list[str]:
    """The public attributes of a namespace that are neither declared names nor sub-namespaces; unless `strict`,
    a submodule of the package that the import system binds (tfmini.ops, tfmini.train.saver) is let through."""
    module = _module(namespace)
    declared = api_export.namespace(namespace)
    stray = []
    for attr in sorted(vars(module)):
        if attr.startswith("_") or attr in declared:
            continue
        value = vars(module)[attr]
        if isinstance(value, types.ModuleType) and (
            id(value) in NAMESPACE_MODULES or (not strict and value.__name__ == f"{module.__name__}.{attr}")
        ):
            continue
        stray.append(attr)
    return stray


def test_the_namespaces_include_the_nested_and_the_new_ones():
    for ns in ("", "nn", "nn.rnn_cell", "math", "train", "train.queue_runner", "data.experimental", "io.gfile",
               "saved_model.loader", "contrib.rnn", "errors", "dtypes", "compat"):
        assert ns in NAMESPACES, ns


@pytest.mark.parametrize("namespace", NAMESPACES, ids=lambda ns: f"tf.{ns}" if ns else "tf")
def test_every_public_attribute_of_a_namespace_is_declared(namespace):
    assert _undeclared_public_attributes(namespace) == []


CONTRIB_NAMESPACES = [ns for ns in NAMESPACES if ns == "contrib" or ns.startswith("contrib.")]


@pytest.mark.parametrize("namespace", CONTRIB_NAMESPACES, ids=lambda ns: f"tf.{ns}")
def test_contrib_namespaces_show_no_implementation_modules(namespace):
    """`dir(tf.contrib.layers)` and tab completion see declared names and sub-namespaces only: the modules that
    implement tf.contrib are private (`_layers_impl`, `_partial`, ...), not public attributes of the package."""
    assert _undeclared_public_attributes(namespace, strict=True) == []


def test_the_strict_check_reports_a_public_implementation_module(monkeypatch):
    impl = types.ModuleType("tfmini.contrib.layers_impl")
    monkeypatch.setattr(tf.contrib, "layers_impl", impl, raising=False)
    assert _undeclared_public_attributes("contrib") == []
    assert _undeclared_public_attributes("contrib", strict=True) == ["layers_impl"]


def test_a_stray_import_in_a_namespace_is_reported(monkeypatch):
    monkeypatch.setattr(tf.nn, "np", types.ModuleType("numpy"), raising=False)
    monkeypatch.setattr(tf.nn, "annotations", object(), raising=False)
    assert _undeclared_public_attributes("nn") == ["annotations", "np"]


def _declaring_modules() -> set[str]:
    """The tfmini modules whose source declares a name (`tf_export(...)`, decorator or call)."""
    out = set()
    for path in (ROOT / "tfmini").rglob("*.py"):
        if path.name == "api_export.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.lstrip("_") ==
               "tf_export" for node in ast.walk(tree)):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            out.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_import_tfmini_imports_every_module_that_declares_names():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, tfmini; print(*sorted(m for m in sys.modules if m.startswith('tfmini')))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    declaring = _declaring_modules()
    assert len(declaring) > 60
    assert sorted(declaring - set(loaded)) == []


def test_namespace_modules_export_nothing_by_hand():
    """No namespace module lists its names itself: `__all__` is written by populate from the declarations."""
    for ns in NAMESPACES:
        module = _module(ns)
        path = getattr(module, "__file__", None)
        if path is None:  # a namespace object made in its parent's module (tf.io.gfile)
            continue
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        assigned = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AugAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
        assert "__all__" not in assigned, path
