"""Which TensorFlow 1.x names tfmini has: checks every name of tools/tf1_names.txt against the names tfmini
declares with `@tf_export` (framework/api_export.py) and writes docs/supported_names.md (a summary per namespace,
then each name with a mark), plus the declared names that the list does not mention.

  tools/supported_names.py            write docs/supported_names.md
  tools/supported_names.py --print    print the summary table only
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
NAMES_FILE = ROOT / "tools" / "tf1_names.txt"
OUTPUT = ROOT / "docs" / "supported_names.md"


@dataclass(frozen=True)
class Section:
    """A heading of tf1_names.txt and the fully qualified names listed under it."""

    title: str
    names: tuple[str, ...]


def read_names(path: Path = NAMES_FILE) -> list[Section]:
    """The sections of a names file: `## title` starts one; other `#` lines and blank lines are comments."""
    sections: list[tuple[str, list[str]]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line and not line.startswith("#"):
            if not line.startswith("tf."):
                raise ValueError(f"{path.name}: {line!r} is not a name under tf.")
            if not sections:
                raise ValueError(f"{path.name}: {line!r} comes before the first '## section'")
            sections[-1][1].append(line)
    seen: set[str] = set()
    for _, names in sections:
        for name in names:
            if name in seen:
                raise ValueError(f"{path.name}: {name} is listed twice")
            seen.add(name)
    return [Section(title, tuple(names)) for title, names in sections]


@dataclass(frozen=True)
class Api:
    """The public names tfmini declares (`tf.nn.relu`, ...) and its namespaces (`tf`, `tf.nn`, `tf.nn.rnn_cell`)."""

    names: frozenset[str]
    namespaces: frozenset[str]

    @classmethod
    def declared(cls) -> Api:
        """tfmini's declarations (framework/api_export.py), read after `import tfmini` filled the namespaces."""
        import tfmini  # importing tfmini registers every declaration (a tool's deferred import of the package)
        from tfmini.framework import api_export

        names = frozenset(name for name, _ in api_export.declared_names())
        namespaces = {f"tf.{ns}" if ns else "tf" for ns in api_export.namespaces()}
        # a namespace with only sub-namespaces (tf.contrib has only tf.contrib.rnn) is a namespace too
        namespaces |= {ns.rsplit(".", i)[0] for ns in namespaces for i in range(1, ns.count(".") + 1)}
        # and so is a namespace module under a second name (tf.app.flags is the tf.flags module)
        modules = {id(_resolve(tfmini, ns)): ns for ns in namespaces}
        for ns in sorted(namespaces):
            for attr, value in vars(_resolve(tfmini, ns)).items():
                if not attr.startswith("_") and id(value) in modules and modules[id(value)] != f"{ns}.{attr}":
                    namespaces.add(f"{ns}.{attr}")
        return cls(names, frozenset(namespaces))


def _resolve(root: ModuleType, name: str) -> ModuleType:
    """The module of namespace `name` (`tf.nn.rnn_cell`) below `root` (tfmini)."""
    for part in name.split(".")[1:]:
        root = getattr(root, part)
    return root


def has_name(api: Api, name: str) -> bool:
    """Whether tfmini declares `name` (`tf.nn.relu`), or has it as a namespace (`tf.nn.rnn_cell`)."""
    return name in api.names or name in api.namespaces


def namespace_of(name: str) -> str:
    """`tf.nn.rnn_cell.LSTMCell` -> `tf.nn.rnn_cell`; `tf.Session` -> `tf`."""
    return name.rsplit(".", 1)[0]


def unlisted_names(api: Api, listed: set[str]) -> dict[str, list[str]]:
    """Declared tfmini names, per namespace that the list covers, which the list does not mention."""
    covered = {namespace_of(n) for n in listed}
    out: dict[str, list[str]] = {}
    for name in sorted(api.names - listed):
        if namespace_of(name) in covered:
            out.setdefault(namespace_of(name), []).append(name)
    return dict(sorted(out.items()))


def summary_rows(api: Api, sections: list[Section]) -> list[tuple[str, int, int]]:
    """(section title, names listed, names tfmini has) per section."""
    return [(s.title, len(s.names), sum(has_name(api, n) for n in s.names)) for s in sections]


def _anchor(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in " -_" else "" for c in title.lower())
    return keep.strip().replace(" ", "-")


def render(api: Api, sections: list[Section]) -> str:
    """docs/supported_names.md as text."""
    listed = {n for s in sections for n in s.names}
    rows = summary_rows(api, sections)
    total, present = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines = [
        "# Supported TensorFlow 1.x names",
        "",
        "<!-- Generated by tools/supported_names.py from tools/tf1_names.txt and the code; `make docs` rewrites it."
        " Do not edit. -->",
        "",
        f"Of the {total} commonly used `tf.compat.v1` names listed in `tools/tf1_names.txt`, tfmini has "
        f"**{present}** ({100 * present / total:.0f}%). A name counts as present when tfmini declares it "
        "(with `@tf_export` beside its definition) or has it as a namespace; what each one does is checked by the "
        "tests, not here. What tfmini leaves out on purpose is explained in "
        "[Differences from TensorFlow 1.x](differences.md).",
        "",
        "| namespace | listed | in tfmini | |",
        "|---|---:|---:|---|",
    ]
    for title, n, k in rows:
        bar = "█" * round(10 * k / n) + "░" * (10 - round(10 * k / n))
        lines.append(f"| [{title}](#{_anchor(title)}) | {n} | {k} | `{bar}` |")
    lines.append(f"| **all** | **{total}** | **{present}** | |")
    for section in sections:
        have = {n for n in section.names if has_name(api, n)}
        lines += ["", f"## {section.title}", "", f"{len(have)} of {len(section.names)}.", "",
                  "| name | in tfmini |", "|---|---|"]
        lines += [f"| `{n}` | {'yes' if n in have else '**no**'} |" for n in section.names]
    extra = unlisted_names(api, listed)
    if extra:
        lines += ["", "## Also in tfmini", "",
                  "Names tfmini declares in these namespaces that the list above does not mention:", ""]
        lines += [f"- `{ns}`: " + ", ".join(f"`{n.rsplit('.', 1)[1]}`" for n in names) for ns, names in extra.items()]
    return "\n".join(lines) + "\n"


def write(output: Path = OUTPUT) -> Path:
    output.write_text(render(Api.declared(), read_names()), encoding="utf-8")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--print", action="store_true", help="print the summary instead of writing the page")
    args = parser.parse_args(argv)
    if args.print:
        for title, n, k in summary_rows(Api.declared(), read_names()):
            print(f"{k:4d} / {n:<4d} {title}")
        return 0
    print(f"wrote {write()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
