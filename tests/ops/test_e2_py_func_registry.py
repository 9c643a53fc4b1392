"""The registry of Python functions behind py_func / numpy_function / py_function is process-wide, keyed by TF's
`pyfunc_N` tokens: any graph of the process holding the op finds the callable while the graph that made it
lives, and the entry goes when that graph is garbage collected."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import script_ops


def _graph_def_with(make):
    """A graph holding one Python-function op `f` of x -> x + 1, and its GraphDef."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        make(x)
    return graph, graph.as_graph_def()


@pytest.mark.parametrize("make", [
    lambda x: tf.py_func(lambda a: a + 1, [x], tf.float32, name="f"),
    lambda x: tf.numpy_function(lambda a: a + 1, [x], tf.float32, name="f"),
    lambda x: tf.py_function(lambda a: a + 1, [x], tf.float32, name="f"),
], ids=["py_func", "numpy_function", "py_function"])
def test_a_graph_imported_in_the_same_process_finds_the_function(make):
    maker, graph_def = _graph_def_with(make)
    token = next(n for n in graph_def.node if n.name == "f").attr["token"].s
    assert token.startswith(b"pyfunc_") and token[7:].isdigit()
    other = tf.Graph()
    with other.as_default():
        tf.import_graph_def(graph_def, name="imported")
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run("imported/f:0", {"imported/x:0": [1, 2]}), [2, 3])
    del maker


def test_tokens_count_up_across_graphs():
    tokens = []
    for _ in range(2):
        with tf.Graph().as_default():
            op = tf.py_func(lambda: np.float32(1), [], tf.float32).op
            tokens.append(int(op.get_attr("token")[7:]))
    assert tokens[1] == tokens[0] + 1


def test_the_entry_goes_with_the_graph_that_made_it():
    maker, graph_def = _graph_def_with(lambda x: tf.py_func(lambda a: a + 1, [x], tf.float32, name="f"))
    token = next(n for n in graph_def.node if n.name == "f").attr["token"].s.decode()
    assert script_ops._lookup_func(token) is not None
    dead = weakref.ref(maker)
    del maker
    gc.collect()
    assert dead() is None and script_ops._lookup_func(token) is None
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match=f"callback {token} is not found"):
            sess.run("f:0", {"x:0": [1, 2]})
        assert sess._closed


def test_a_function_that_refers_to_its_graph_does_not_keep_the_graph_alive():
    def build():
        graph = tf.Graph()
        with graph.as_default():
            tf.py_func(lambda: np.float32(len(graph.get_operations())), [], tf.float32)
        return weakref.ref(graph)

    dead = build()
    gc.collect()
    assert dead() is None


def test_a_function_made_in_a_dataset_function_is_held_by_the_outer_graph():
    graph = tf.Graph()
    with graph.as_default():
        dataset = tf.data.Dataset.range(3).map(lambda v: tf.py_func(lambda a: a * 2, [v], tf.int64))
        element = tf.data.make_one_shot_iterator(dataset).get_next()
        gc.collect()
        with tf.Session() as sess:
            assert [sess.run(element) for _ in range(3)] == [0, 2, 4]
    assert len(graph._py_funcs_used_in_graph) == 1
