"""GraphDefs written by real TensorFlow (tools/tf_fixtures/gen_tf_graphs.py) import here: a forward graph of ops
whose TF op defs carry attrs TF 1.x lacked (MatMul grad_a, Equal incompatible_shape_error, ...) and a frozen MLP
give TF's outputs, and training graphs train with TF's losses: an MLP (SigmoidGrad, TanhGrad, SqrtGrad, RsqrtGrad,
ReciprocalGrad, Adam), a conv net with fused batch norm, depthwise convolution and LRN (their backprop ops,
Momentum), and a graph of segment sums, dynamic partition/stitch, setdiff1d and band-diagonal ops whose gradients
TF built (ConcatOffset, ParallelDynamicStitch)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import registry
from tfmini.protobuf import graph_pb2

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "tf_graphs")
with open(os.path.join(FIXTURES, "manifest.json")) as _f:
    MANIFEST = json.load(_f)
GRAPHS = sorted(k for k in MANIFEST if not k.startswith("_"))
TRAINING = [k for k in GRAPHS if MANIFEST[k]["kind"] == "train"]
FORWARD = [k for k in GRAPHS if MANIFEST[k]["kind"] == "forward"]


def _load(name: str):
    gd = graph_pb2.GraphDef()
    with open(os.path.join(FIXTURES, f"{name}.pb"), "rb") as f:
        gd.ParseFromString(f.read())
    data = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    feeds = {k[len("feed/"):]: data[k] for k in data.files if k.startswith("feed/")}
    return gd, feeds, data


@pytest.mark.parametrize("name", FORWARD)
def test_tensorflow_forward_graph_gives_tensorflows_outputs(name):
    gd, feeds, data = _load(name)
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
    fetches = MANIFEST[name]["fetches"]
    with tf.Session(graph=g) as sess:
        got = sess.run(fetches, feeds)
    for fetch, value in zip(fetches, got):
        want = data[f"fetch/{fetch}"]
        assert value.dtype == want.dtype, fetch
        np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-6, err_msg=fetch)


@pytest.mark.parametrize("name", TRAINING)
def test_tensorflow_training_graph_trains_with_tensorflows_losses(name):
    gd, feeds, data = _load(name)
    losses, final = data["losses"], float(data["final"])
    entry = MANIFEST[name]
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
    loss, train = g.get_tensor_by_name(entry["loss"]), g.get_operation_by_name(entry["train"])
    with tf.Session(graph=g) as sess:
        sess.run(g.get_operation_by_name(entry["init"]))
        got = [sess.run([loss, train], feeds)[0] for _ in losses]
        got_final = sess.run(loss, feeds)
    np.testing.assert_allclose(got, losses, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_final, final, rtol=5e-5, atol=5e-5)


@pytest.mark.parametrize("name", GRAPHS)
def test_every_op_type_in_the_tensorflow_graph_is_registered(name):
    missing = [op for op in MANIFEST[name]["ops"] if op not in registry._REGISTRY]
    assert not missing
