"""notebooks/09_distributed.ipynb as saved: nbval re-runs it and compares its outputs, but its trace (timings) is
not compared, and the ports it picks differ on every run. These tests read the saved notebook: the placed step is
drawn coloured by task, the traced step has a lane group per task with every tensor that crossed tasks joined
send to receive, the sanitizer masks every port the notebook prints, and the guide lists every notebook."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "09_distributed.ipynb"
SANITIZE = ROOT / "notebooks" / "nbval_sanitize.cfg"
GRAPH_DATA = re.compile(r'<script type="application/json" data-tfx="graph-data">(.*?)</script>', re.S)
# The trace view's data is the first argument of the script that draws it: `})({...}, "<element id>");`.
TRACE_DATA = re.compile(r'\}\)\((\{.*\}), "tfx-trace-[^"]*"\);', re.S)


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def outputs_of(nb, marker: str) -> list[dict]:
    """The outputs of the one code cell whose source contains `marker`."""
    cells = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"{len(cells)} cells contain {marker!r}"
    assert cells[0].outputs, f"the cell with {marker!r} has no saved outputs"
    return cells[0].outputs


def html_of(outputs: list[dict]) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in outputs)


@pytest.mark.parametrize("marker, tasks", [
    ("--session sessions[0] --feed", ["ps:0", "worker:0"]),              # a between-graph worker's step
    ("--session ingraph_sess --graph", ["ps:0", "worker:0", "worker:1"]),  # the in-graph step on every task
])
def test_the_placed_steps_are_drawn_coloured_by_task(notebook, marker, tasks):
    html = html_of(outputs_of(notebook, marker))
    found = GRAPH_DATA.findall(html)
    assert len(found) == 1
    data = json.loads(found[0])
    strings, devices, ops = data["strings"], data["devices"], data["ops"]
    assert [strings[i] for i in devices["short"]] == tasks
    assert [strings[i] for i in devices["name"]] == [
        f"/job:{t.split(':')[0]}/replica:0/task:{t.split(':')[1]}/device:CPU:0" for t in tasks]
    device_of = {}
    for number, kind in enumerate(ops["type"]):
        device_of.setdefault(data["types"][kind], set()).add(devices["of_op"][number])
    assert sorted(set(devices["of_op"])) == list(range(len(tasks)))  # every op placed, every task used
    assert device_of["VariableV2"] == device_of["ApplyGradientDescent"] == {0}  # state and updates on the ps
    assert device_of["MatMul"] == device_of["Relu"] == set(range(1, len(tasks)))  # computation on the workers


def test_the_traced_step_has_a_lane_group_per_task_and_joins_its_transfers(notebook):
    html = html_of(outputs_of(notebook, "FULL_TRACE"))
    found = TRACE_DATA.findall(html)
    assert len(found) == 1
    data = json.loads(found[0])
    (run,) = data["runs"]
    assert [name for name, _ in run["groups"]] == ["ps:0", "worker:0", "worker:1"]
    # Tensors crossing tasks are edge_<n>_<tensor> (feeds and fetches keep their own names): each worker
    # receives the 4 variables and sends back 4 gradients and its loss.
    crossing = [x for x in run["x"] if x[3].startswith("edge_")]
    assert len(crossing) == 18
    assert all(x[0] >= 0 and x[1] >= 0 for x in crossing), "a send without its receive, or the other way"
    directions = sorted((x[4], x[5]) for x in crossing)
    assert directions == sorted([("ps:0", "worker:0")] * 4 + [("ps:0", "worker:1")] * 4 +
                                [("worker:0", "ps:0")] * 5 + [("worker:1", "ps:0")] * 5)


def sanitize(text: str) -> str:
    """`text` with nbval's replacements (notebooks/nbval_sanitize.cfg) applied in order."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(SANITIZE)
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def test_the_sanitizer_masks_every_port_the_notebook_prints(notebook):
    texts = [json.dumps(o) for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    printed = [t for t in texts if "localhost:" in t]
    assert len(printed) >= 3  # the cluster, the servers' targets, a session's target
    for text in printed:
        masked = sanitize(text)
        assert re.search(r"localhost:\d", masked) is None
        assert "localhost:PORT" in masked
    cluster = sanitize(outputs_of(notebook, "cluster = tf.train.ClusterSpec")[0]["data"]["text/plain"])
    assert cluster == ("ClusterSpec({'ps': ['localhost:PORT'], "
                       "'worker': ['localhost:PORT', 'localhost:PORT']})")


def test_the_sanitizer_leaves_other_numbers_alone():
    assert sanitize("grpc://localhost:40031 step 40031 tcp://host:40031") == \
        "grpc://localhost:PORT step 40031 tcp://host:40031"


def test_the_guide_lists_every_notebook_and_the_readme_points_to_the_distributed_one():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+\.ipynb)` \|", index, re.M))
    assert listed == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "notebooks/09_distributed.ipynb" in readme and "(docs/distributed.md)" in readme
