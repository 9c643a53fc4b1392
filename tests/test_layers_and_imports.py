"""The layers of docs/architecture.md, checked on the source: every module of tfmini/ and ipython_ext/ is
parsed with `ast`, and its imports (at module level and inside functions) must point down the layers, form
no cycle, and never be deferred into a function except for an optional dependency named in a comment."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tfmini", "ipython_ext")

# Top to bottom; a module may import from its own layer or any layer below it, never above.
LAYERS = (
    "ipython_ext",  # the IPython extension: knows tfmini's public API (and TF's public module paths)
    "api",  # tfmini/__init__.py assembles the public API and may import everything below; tf.compat.v1 is it
    "contrib",  # tf.contrib: TF1's add-ons, built on the public layers, losses and optimizers of tf.train
    "debug",  # tfmini.debug (TF's tensorflow.python.debug, outside tf.*): wrapper sessions over the client
    "distributed",  # tf.train.Server and the engine behind grpc:// targets: sessions on a Dask cluster
    "client",  # Session, fetch/feed mapping, engines, tracing, timeline
    "train",  # optimizers, Saver, checkpoints: build graphs with the op library
    "namespaces",  # the public namespace modules (tf.nn, tf.math, tf.layers, tf.losses...): views over ops
    "ops",  # the op library, one module per family, and tf.gradients
    "framework",  # Graph, Operation, Tensor, dtypes, shapes, the op registry, errors, GraphDef I/O
    "protobuf",  # the generated protocol buffer modules
)
RANK = {name: len(LAYERS) - i for i, name in enumerate(LAYERS)}
# Public namespaces that are packages rather than single modules (tf.data with tf.data.experimental): they sit in
# the namespaces layer with the single-module ones.
NAMESPACE_PACKAGES = ("data", "lookup")

# Function-level imports of tfmini/ipython_ext modules allowed, as (importing module, imported module) -> why:
# none. A cycle is broken by moving the shared piece down, not by deferring an import; an entry here would
# excuse a cycle not yet broken that way, and the last test keeps the list from outliving the import it excuses.
FUNCTION_LEVEL_ALLOWED: dict[tuple[str, str], str] = {}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "ipython_ext":
        return "ipython_ext"
    if module == "tfmini" or parts[1] == "compat":
        return "api"
    if parts[1] in ("contrib", "debug", "distributed", "client", "train", "ops", "framework", "protobuf"):
        return parts[1]
    if len(parts) == 2 or parts[1] in NAMESPACE_PACKAGES:
        return "namespaces"
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS in {Path(__file__).name}")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool


@dataclass(frozen=True)
class DeferredImport:
    """An import inside a function of something outside the project, with whether a comment on or just above
    it explains it."""

    module: str
    imported: str
    line: int
    commented: bool


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def project_sources(root: Path = ROOT) -> dict[str, tuple[Path, str]]:
    """Module name -> (path, source) for every module of the project's packages."""
    sources = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            sources[module_name(path, root)] = (path, path.read_text(encoding="utf-8"))
    return sources


def _resolve(name: str, known: set[str]) -> str | None:
    """The project module that `import name` loads last, or None for anything outside the project."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str, package: bool, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if not package:
                anchor.pop()
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        # `from pkg import name` loads the submodule pkg.name when there is one, else pkg itself.
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    return [t for t in dict.fromkeys(_resolve(n, known) for n in names) if t is not None]


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, package: bool, known: set[str], lines: list[str]) -> None:
        self.module, self.package, self.known, self.lines = module, package, known, lines
        self.depth = 0
        self.imports: list[Import] = []
        self.deferred: list[DeferredImport] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function  # noqa: N815 - ast's visitor names

    def _commented(self, node: ast.stmt) -> bool:
        own = self.lines[node.lineno - 1 : node.end_lineno]
        above = self.lines[node.lineno - 2].strip() if node.lineno > 1 else ""
        return any("#" in line for line in own) or above.startswith("#")

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        in_function = self.depth > 0
        targets = _targets(node, self.module, self.package, self.known)
        for target in targets:
            self.imports.append(Import(self.module, target, node.lineno, in_function))
        if in_function and not targets:  # the project's own modules answer to FUNCTION_LEVEL_ALLOWED instead
            what = ", ".join(a.name for a in node.names) if isinstance(node, ast.Import) else node.module or "."
            self.deferred.append(DeferredImport(self.module, what, node.lineno, self._commented(node)))

    visit_Import = visit_ImportFrom = _import  # noqa: N815 - ast's visitor names


def scan(sources: dict[str, tuple[Path, str]]) -> tuple[list[Import], list[DeferredImport]]:
    known = set(sources)
    imports: list[Import] = []
    deferred: list[DeferredImport] = []
    for module, (path, text) in sources.items():
        visitor = _ImportVisitor(module, is_package(path), known, text.splitlines())
        visitor.visit(ast.parse(text, filename=str(path)))
        imports += visitor.imports
        deferred += visitor.deferred
    return imports, deferred


def upward_imports(imports: list[Import]) -> list[str]:
    return [
        f"{i.importer} ({layer_of(i.importer)}) line {i.line} imports {i.imported} ({layer_of(i.imported)})"
        for i in imports
        if RANK[layer_of(i.imported)] > RANK[layer_of(i.importer)]
    ]


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """The strongly connected components of the module-level import graph that hold a cycle (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        if not i.in_function:
            graph.setdefault(i.importer, set()).add(i.imported)
            graph.setdefault(i.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def function_level_project_imports(imports: list[Import]) -> list[str]:
    return [
        f"{i.importer} line {i.line} imports {i.imported} inside a function"
        for i in imports
        if i.in_function and (i.importer, i.imported) not in FUNCTION_LEVEL_ALLOWED
    ]


def unexplained_deferred_imports(deferred: list[DeferredImport]) -> list[str]:
    return [f"{d.module} line {d.line} defers `{d.imported}` without a comment" for d in deferred if not d.commented]


@pytest.fixture(scope="module")
def project() -> tuple[list[Import], list[DeferredImport]]:
    return scan(project_sources())


def test_every_module_of_the_project_has_a_layer(project):
    imports, _ = project
    assert project_sources()
    for module in project_sources():
        assert layer_of(module) in RANK


def test_no_module_imports_from_a_layer_above_its_own(project):
    imports, _ = project
    assert upward_imports(imports) == []


def test_modules_import_each_other_without_cycles(project):
    imports, _ = project
    assert import_cycles(imports) == []


def test_no_project_module_is_imported_inside_a_function(project):
    imports, _ = project
    assert function_level_project_imports(imports) == []


def test_every_import_inside_a_function_names_the_optional_dependency_it_defers(project):
    _, deferred = project
    assert unexplained_deferred_imports(deferred) == []


def test_the_allow_list_names_only_imports_that_exist(project):
    imports, _ = project
    present = {(i.importer, i.imported) for i in imports if i.in_function}
    assert set(FUNCTION_LEVEL_ALLOWED) <= present


# The checks themselves, on a small made-up project, so that a checker which sees nothing cannot pass.
def _fake_project(tmp_path: Path, files: dict[str, str]) -> tuple[list[Import], list[DeferredImport]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return scan(project_sources(tmp_path))


_FAKE_BASE = {
    "tfmini/__init__.py": "from tfmini.client import session\n",
    "tfmini/client/__init__.py": "",
    "tfmini/client/session.py": "from tfmini.ops import a\n",
    "tfmini/ops/__init__.py": "from tfmini.ops import a, b\n",
    "tfmini/framework/__init__.py": "",
    "tfmini/framework/ops.py": "",
    "ipython_ext/__init__.py": "import tfmini as tf\n",
}


def test_the_checker_finds_an_upward_import_at_module_level_and_inside_a_function(tmp_path):
    imports, _ = _fake_project(tmp_path, {
        **_FAKE_BASE,
        "tfmini/ops/a.py": "from tfmini.client.session import run\n",
        "tfmini/ops/b.py": "def f():\n    import tfmini.client  # reason\n",
        "tfmini/framework/ops.py": "from .. import nn\n",
        "tfmini/nn.py": "from tfmini.ops import a\n",
    })
    found = upward_imports(imports)
    assert len(found) == 3
    assert any("tfmini.ops.a" in f and "tfmini.client.session (client)" in f for f in found)
    assert any("tfmini.ops.b" in f and "tfmini.client (client)" in f for f in found)
    assert any("tfmini.framework.ops (framework)" in f and "tfmini.nn (namespaces)" in f for f in found)


def test_the_checker_finds_a_module_level_cycle_but_not_one_closed_inside_a_function(tmp_path):
    imports, _ = _fake_project(tmp_path, {
        **_FAKE_BASE,
        "tfmini/ops/a.py": "from tfmini.ops import b\n",
        "tfmini/ops/b.py": "from tfmini.ops.c import g\n",
        "tfmini/ops/c.py": "from tfmini.ops import a\n",
        "tfmini/ops/d.py": "from tfmini.ops import a\ndef f():\n    from tfmini.ops import d\n",
    })
    assert import_cycles(imports) == [["tfmini.ops.a", "tfmini.ops.b", "tfmini.ops.c"]]
    assert function_level_project_imports(imports) == ["tfmini.ops.d line 3 imports tfmini.ops.d inside a function"]


def test_the_checker_wants_a_comment_on_every_deferred_import(tmp_path):
    _, deferred = _fake_project(tmp_path, {
        **_FAKE_BASE,
        "tfmini/ops/a.py": "def f():\n    import graphviz\n",
        "tfmini/ops/b.py": (
            "class C:\n    def f(self):\n        import ipywidgets  # optional: ipywidgets\n"
            "    def g(self):\n        # optional: matplotlib\n        import matplotlib\n"
        ),
    })
    assert unexplained_deferred_imports(deferred) == ["tfmini.ops.a line 2 defers `graphviz` without a comment"]
    assert len(deferred) == 3
