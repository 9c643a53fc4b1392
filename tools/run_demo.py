"""`make demo`: executes the showcase notebook with a real Jupyter kernel running this environment's Python
and writes it as self-contained HTML under build/demo/, printing the paths.

Also the maintainers' notebook commands:
  tools/run_demo.py --save notebooks/03_training_digits.ipynb ...   re-execute notebooks in place (saved with
                                                                     outputs; nbval then checks against them)
  tools/run_demo.py --images                                         redraw docs/images/ (the README's pictures)
                                                                     from the showcase's own displays
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHOWCASE = [NOTEBOOKS / "00_showcase.ipynb"]
BUILD = ROOT / "build" / "demo"
IMAGES = ROOT / "docs" / "images"

# The saved notebooks name the standard kernel, so they open with any Jupyter's own Python 3.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# nbconvert's lab template loads require.js, MathJax and Mermaid from CDNs, and the widget renderer when
# widget state is saved. None of the notebooks needs them (no math, no diagrams, widgets are live only), and
# a page that fetches from the network is not self-contained, so these blocks are emptied.
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


class CurrentEnvKernelSpecs(KernelSpecManager):
    """Every kernel name resolves to ipykernel in this very Python (the project's venv), so execution never
    picks up another `python3` kernel registered on the machine (nbval's --nbval-current-env does the same)."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


def execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """The notebook at `path`, executed top to bottom in a fresh kernel whose working directory is the
    notebook's folder (as nbval runs it)."""
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=KERNELSPEC["name"], kernel_spec_manager=CurrentEnvKernelSpecs())
    client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    # The kernel process's own log (transport notices, shutdown) is noise here; what cells print is captured
    # as their outputs, and a kernel that dies is reported by nbclient.
    client.execute(stderr=subprocess.DEVNULL)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """One self-contained HTML page of `nb`: styles inlined, images embedded, no script or stylesheet from
    the network. Widget views show their text fallback (their live views need a kernel)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    exporter.extra_loaders = [_dict_loader({"tfmini_offline.html.j2": OFFLINE_TEMPLATE})]
    exporter.template_file = "tfmini_offline.html.j2"
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def _dict_loader(templates: dict):
    import jinja2

    return jinja2.DictLoader(templates)


def write_html(nb_path: Path, nb: nbformat.NotebookNode, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / (nb_path.stem + ".html")
    out.write_text(to_html(nb, nb_path.stem), encoding="utf-8")
    return out


def outputs_with(nb: nbformat.NotebookNode, mime: str, marker: str) -> list[str]:
    """Every `mime` output of `nb` whose text contains `marker`, in notebook order."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(mime)
            if data is not None and marker in data:
                found.append(data)
    return found


def standalone_svg(svg: str) -> str:
    """An inline SVG display as an .svg file: with the XML namespace browsers need for a file."""
    if "xmlns=" not in svg.split(">", 1)[0]:
        svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    return svg.strip() + "\n"


def timeline_svg(nb: nbformat.NotebookNode) -> str:
    """The first timeline drawn in `nb`, taken from the HTML display of a traced run."""
    for html in outputs_with(nb, "text/html", "tfx-timeline"):
        m = re.search(r"<svg[^>]*tfx-timeline.*?</svg>", html, re.S)
        if m:
            return m.group(0)
    raise SystemExit("no timeline display found in the showcase notebook")


def write_images(nb: nbformat.NotebookNode) -> list[Path]:
    """docs/images/graph.svg and timeline.svg: the showcase's first graph picture and first timeline."""
    graphs = outputs_with(nb, "image/svg+xml", "<svg")
    if not graphs:
        raise SystemExit("no graph picture found in the showcase notebook (is Graphviz's dot installed?)")
    IMAGES.mkdir(parents=True, exist_ok=True)
    written = []
    for name, svg in (("graph.svg", graphs[0]), ("timeline.svg", timeline_svg(nb))):
        path = IMAGES / name
        path.write_text(standalone_svg(svg), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", nargs="+", type=Path, metavar="NOTEBOOK",
                        help="re-execute these notebooks and save them in place with their outputs")
    parser.add_argument("--images", action="store_true", help="redraw docs/images/ from the showcase")
    parser.add_argument("--out", type=Path, default=BUILD, help="where the HTML goes (default: build/demo)")
    args = parser.parse_args(argv)

    for path in args.save or []:
        start = time.perf_counter()
        nb = execute(path.resolve())
        nbformat.write(nb, path)
        print(f"saved {path} ({time.perf_counter() - start:.1f} s)")
    if args.save and not args.images:
        return 0

    for path in SHOWCASE:
        start = time.perf_counter()
        nb = execute(path)
        out = write_html(path, nb, args.out)
        print(f"{path.relative_to(ROOT)} executed in {time.perf_counter() - start:.1f} s -> {out}")
        if args.images:
            for img in write_images(nb):
                print(f"picture -> {img}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
