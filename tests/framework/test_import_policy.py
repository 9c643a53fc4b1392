"""GraphDef import drops the attrs TensorFlow's op defs have beyond tfmini's when they hold TF's default (or are
mere hints, such as MatMul's grad_a), and refuses other values naming the node and the attr, as TF's importer
treats attrs unknown to an older consumer."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import registry
from tfmini.framework.node_def import attr_value_of


def _graph_def_with(build, op_type: str, extra: dict):
    """The GraphDef of the graph `build()` makes, with `extra` ({attr: (kind, value)}) set on its `op_type` node."""
    g = tf.Graph()
    with g.as_default():
        build()
    gd = g.as_graph_def()
    node = next(n for n in gd.node if n.op == op_type)
    for k, (kind, value) in extra.items():
        node.attr[k].CopyFrom(attr_value_of(kind, value))
    return gd


def _run(gd, fetch: str):
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
    with tf.Session(graph=g) as sess:
        return g, sess.run(g.get_tensor_by_name(fetch))


A = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
B = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)


def _matmul():
    tf.matmul(tf.constant(A), tf.constant(B), name="mm")


@pytest.mark.parametrize("value", [False, True])
def test_matmul_grad_hints_are_accepted_with_any_value_and_dropped(value):
    gd = _graph_def_with(_matmul, "MatMul", {"grad_a": ("bool", value), "grad_b": ("bool", not value)})
    g, out = _run(gd, "mm:0")
    np.testing.assert_allclose(out, A @ B)
    op = g.get_operation_by_name("mm")
    assert "grad_a" not in op.node_def.attr and "grad_b" not in op.node_def.attr


def test_batch_matmul_grad_hints_are_accepted():
    def build():
        tf.matmul(tf.constant(A[None]), tf.constant(B[None]), name="bmm")

    gd = _graph_def_with(build, "BatchMatMulV2", {"grad_x": ("bool", True), "grad_y": ("bool", False)})
    np.testing.assert_allclose(_run(gd, "bmm:0")[1], (A @ B)[None])


def _equal():
    tf.equal(tf.constant([1, 2, 3]), tf.constant([1, 0, 3]), name="eq")


def test_attr_holding_tensorflows_default_is_dropped():
    gd = _graph_def_with(_equal, "Equal", {"incompatible_shape_error": ("bool", True)})
    g, out = _run(gd, "eq:0")
    np.testing.assert_array_equal(out, [True, False, True])
    assert "incompatible_shape_error" not in g.get_operation_by_name("eq").node_def.attr


def test_attr_with_another_value_is_refused_naming_node_and_attr():
    gd = _graph_def_with(_equal, "Equal", {"incompatible_shape_error": ("bool", False)})
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"'eq'.*incompatible_shape_error"):
            tf.import_graph_def(gd, name="")


def test_list_attr_default_is_dropped_and_other_values_refused():
    def build():
        tf.nn.max_pool(tf.constant(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)), [1, 2, 2, 1],
                       [1, 2, 2, 1], "VALID", name="pool")

    gd = _graph_def_with(build, "MaxPool", {"explicit_paddings": ("list(int)", [])})
    np.testing.assert_array_equal(_run(gd, "pool:0")[1].ravel(), [5, 7, 13, 15])
    gd = _graph_def_with(build, "MaxPool", {"explicit_paddings": ("list(int)", [0, 0, 1, 1, 1, 1, 0, 0])})
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"'pool'.*explicit_paddings"):
            tf.import_graph_def(gd, name="")


def test_string_attr_default_is_dropped_and_other_values_refused():
    def build():
        tf.gather_nd(tf.constant(A), tf.constant([[1, 0]]), name="g")

    gd = _graph_def_with(build, "GatherNd", {"bad_indices_policy": ("string", "")})
    np.testing.assert_array_equal(_run(gd, "g:0")[1], [3.0])
    gd = _graph_def_with(build, "GatherNd", {"bad_indices_policy": ("string", "IGNORE")})
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"'g'.*bad_indices_policy"):
            tf.import_graph_def(gd, name="")


def test_import_only_attr_of_the_wrong_kind_is_refused():
    gd = _graph_def_with(_equal, "Equal", {"incompatible_shape_error": ("int", 1)})
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"'eq'.*incompatible_shape_error"):
            tf.import_graph_def(gd, name="")


def test_attr_no_op_def_declares_is_still_refused():
    gd = _graph_def_with(_matmul, "MatMul", {"use_magic": ("bool", False)})
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"attr 'use_magic' not in Op 'MatMul' \(node 'mm'\)"):
            tf.import_graph_def(gd, name="")


def test_dataset_metadata_hint_is_dropped():
    def build():
        ds = tf.data.Dataset.range(3).map(lambda x: x * 2)
        it = tf.data.make_one_shot_iterator(ds)
        tf.identity(it.get_next(), name="out")

    gd = _graph_def_with(build, "MapDataset", {"metadata": ("string", "\n\x08MapDataset"),
                                              "force_synchronous": ("bool", True)})
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
    with tf.Session(graph=g) as sess:
        assert [sess.run("out:0") for _ in range(3)] == [0, 2, 4]


def test_import_only_attr_cannot_shadow_a_declared_attr():
    with pytest.raises(KeyError, match="declared twice"):
        registry.import_only_attr("MatMul", "transpose_a", "bool", False)
    with pytest.raises(KeyError, match="declared twice"):
        registry.import_only_attr("MatMul", "grad_a", "bool", False, hint=True)
