"""The code examples of the tf.InteractiveSession reference page (shared/reference/interactive_session.md),
run verbatim with `import tfmini as tf`; `c = tf.constant(..)` placeholders get real values. Each example is
followed by checks of what the page says it does."""

import collections

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import dtypes
from tfmini.ops import array_ops, math_ops


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    assert tf.get_default_session() is None
    tf.reset_default_graph()


def test_interactive_session_example(capsys):
    sess = tf.InteractiveSession()
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    # We can just use 'c.eval()' without passing 'sess'
    print(c.eval())
    sess.close()

    assert capsys.readouterr().out == "30.0\n"
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(c)


def test_with_session_example(capsys):
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    with tf.Session():
        # We can also use 'c.eval()' here.
        print(c.eval())

    assert capsys.readouterr().out == "30.0\n"


def test_as_default_example(capsys):
    c = tf.constant(42.0)
    sess = tf.Session()

    with sess.as_default():
        assert tf.get_default_session() is sess
        print(c.eval())

    assert capsys.readouterr().out == "42.0\n"
    assert tf.get_default_session() is None
    sess.close()


def test_as_default_does_not_close_example(capsys):
    c = tf.constant([1, 2])
    sess = tf.Session()
    with sess.as_default():
        print(c.eval())
    # ...
    with sess.as_default():
        print(c.eval())

    sess.close()

    assert capsys.readouterr().out == "[1 2]\n[1 2]\n"


def test_partial_run_example():
    sess = tf.Session()

    a = array_ops.placeholder(dtypes.float32, shape=[])
    b = array_ops.placeholder(dtypes.float32, shape=[])
    c = array_ops.placeholder(dtypes.float32, shape=[])
    r1 = math_ops.add(a, b)
    r2 = math_ops.multiply(r1, c)

    h = sess.partial_run_setup([r1, r2], [a, b, c])
    res = sess.partial_run(h, r1, feed_dict={a: 1, b: 2})
    res = sess.partial_run(h, r2, feed_dict={c: res})

    assert res == 9.0
    sess.close()


def test_run_example():
    session = tf.Session()

    a = tf.constant([10, 20])
    b = tf.constant([1.0, 2.0])
    # 'fetches' can be a singleton
    v = session.run(a)
    # v is the numpy array [10, 20]
    assert isinstance(v, np.ndarray) and v.tolist() == [10, 20]
    # 'fetches' can be a list.
    v = session.run([a, b])
    # v is a Python list with 2 numpy arrays: the 1-D array [10, 20] and the
    # 1-D array [1.0, 2.0]
    assert isinstance(v, list) and v[0].tolist() == [10, 20] and v[1].tolist() == [1.0, 2.0]
    # 'fetches' can be arbitrary lists, tuples, namedtuple, dicts:
    MyData = collections.namedtuple('MyData', ['a', 'b'])
    v = session.run({'k1': MyData(a, b), 'k2': [b, a]})
    # v is a dict with
    # v['k1'] is a MyData namedtuple with 'a' (the numpy array [10, 20]) and
    # 'b' (the numpy array [1.0, 2.0])
    # v['k2'] is a list with the numpy array [1.0, 2.0] and the numpy array
    # [10, 20].
    assert isinstance(v, dict) and set(v) == {"k1", "k2"}
    assert isinstance(v["k1"], MyData)
    assert v["k1"].a.tolist() == [10, 20] and v["k1"].b.tolist() == [1.0, 2.0]
    assert isinstance(v["k2"], list)
    assert v["k2"][0].tolist() == [1.0, 2.0] and v["k2"][1].tolist() == [10, 20]

    session.close()


def test_graph_property_and_graph_def_property():
    c = tf.constant(1.0, name="c")
    sess = tf.InteractiveSession()
    # "The graph that was launched in this session."
    assert sess.graph is tf.get_default_graph() and sess.graph is c.graph
    # "A graph_pb2.GraphDef proto containing nodes for all of the Operations in the underlying graph."
    assert isinstance(sess.graph_def, tf.GraphDef)
    assert [n.name for n in sess.graph_def.node] == [op.name for op in sess.graph.get_operations()]
    assert sess.sess_str == ""
    sess.close()


def test_run_documented_raises():
    c = tf.constant(1.0)
    sess = tf.Session()
    with pytest.raises(TypeError):  # fetches of an inappropriate type
        sess.run(3)
    with pytest.raises(TypeError):  # feed_dict keys of an inappropriate type
        sess.run(c, {3: 1.0})
    with pytest.raises(ValueError):  # fetches referring to a Tensor that doesn't exist
        sess.run("missing:0")
    sess.close()
    with pytest.raises(RuntimeError):  # the session is in an invalid state (closed)
        sess.run(c)
