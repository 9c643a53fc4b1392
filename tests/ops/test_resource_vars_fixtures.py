"""GraphDefs TensorFlow 2.21 (tf.compat.v1, resource variables, control flow v2) wrote, imported and run here:
training graphs for every optimizer (ResourceApply*, ResourceSparseApply*, ResourceGather, ResourceScatterAdd)
and If/StatelessIf/While/StatelessWhile with resource captures and a stateful loop body give TensorFlow's
numbers (recorded by tools/tf_fixtures/gen_resource_vars.py)."""

import json
import os

import numpy as np
import pytest

import tfmini as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "resource_vars")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)["cases"]


def _graph(name: str) -> tf.Graph:
    with open(os.path.join(FIXTURES, f"{name}.pb"), "rb") as f:
        gd = tf.GraphDef.FromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(gd, name="")
    return graph


def _replay(graph: tf.Graph, meta: dict, feeds: dict, expected: dict, prefix: str, rtol: float) -> None:
    with tf.Session(graph=graph) as sess:
        sess.run("init")
        for k in range(meta["steps"]):
            values = sess.run(meta["fetches"] + meta["run"], feeds)
            for i, v in enumerate(values[:len(meta["fetches"])]):
                np.testing.assert_allclose(v, expected[f"{prefix}step{k}_{i}"], rtol=rtol, atol=1e-6,
                                           err_msg=f"step {k}, {meta['fetches'][i]}")
        for i, v in enumerate(sess.run(meta["final"], feeds)):
            np.testing.assert_allclose(v, expected[f"{prefix}final_{i}"], rtol=rtol, atol=1e-6,
                                       err_msg=meta["final"][i])


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("mlp_")))
def test_training_graphs_give_tensorflows_losses_and_weights(name):
    meta = CASES[name]
    graph = _graph(name)
    data = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    feeds = {graph.get_tensor_by_name(t): data[f"feed_{i}"] for i, t in enumerate(meta["feeds"])}
    _replay(graph, meta, feeds, data, "", rtol=2e-5)
    types = {op.type for op in graph.get_operations()}
    assert "ResourceGather" in types and not types & {"VariableV2", "Assign"}


@pytest.mark.parametrize("name", sorted(n for n in CASES if not n.startswith("mlp_")))
def test_control_flow_v2_graphs_give_tensorflows_values(name):
    meta = CASES[name]
    graph = _graph(name)
    data = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    for j in range(meta["variants"]):
        feeds = {graph.get_tensor_by_name(t): data[f"v{j}_feed_{i}"] for i, t in enumerate(meta["feeds"])}
        _replay(graph, meta, feeds, data, f"v{j}_", rtol=1e-5)


def test_the_fixtures_hold_tensorflows_v2_control_flow_op_types():
    found = set()
    for name in CASES:
        found |= {op.type for op in _graph(name).get_operations()}
    assert {"If", "StatelessIf", "While", "StatelessWhile", "VarHandleOp", "ResourceApplyAdam"} <= found
