"""Op-building functions given bad arguments raise TF 1.15's error class and wording at graph construction:
tensors of two graphs, sizes of zero, and the other argument errors that used to escape as raw Python
exceptions (ZeroDivisionError, IndexError, ...)."""

import re

import pytest

import tfmini as tf


def _two_graphs():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        x1 = tf.constant(2.0, name="x1")
        y1 = tf.multiply(x1, 3.0, name="y1")
    with g2.as_default():
        x2 = tf.constant(1.0, name="x2")
    return x1, y1, x2


# ----------------------------------------------------------------------------------------------------------
# tf.gradients with tensors of another graph
# ----------------------------------------------------------------------------------------------------------
def _other_graph(item, first):
    return "^" + re.escape(f"{item} must be from the same graph as {first}.") + "$"


def test_gradients_with_respect_to_a_tensor_of_another_graph_is_a_value_error():
    x1, y1, x2 = _two_graphs()
    with pytest.raises(ValueError, match=_other_graph(x2, y1)):
        tf.gradients(y1, x2)
    with pytest.raises(ValueError, match=_other_graph(x2, y1)):
        tf.gradients(y1, [x1, x2])


def test_gradients_of_ys_from_two_graphs_is_a_value_error():
    x1, y1, x2 = _two_graphs()
    with pytest.raises(ValueError, match=_other_graph(x2, y1)):
        tf.gradients([y1, x2], x1)


def test_gradients_with_grad_ys_of_another_graph_is_a_value_error():
    x1, y1, x2 = _two_graphs()
    with pytest.raises(ValueError, match=_other_graph(x2, y1)):
        tf.gradients(y1, x1, grad_ys=x2)


def test_gradients_with_respect_to_a_variable_of_another_graph_is_a_value_error():
    x1, y1, _ = _two_graphs()
    with tf.Graph().as_default():
        v = tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match=_other_graph(v._as_graph_element(), y1)):
        tf.gradients(y1, v)


def test_gradients_in_one_graph_still_work():
    x1, y1, _ = _two_graphs()
    (g,) = tf.gradients(y1, x1)
    with tf.Session(graph=y1.graph) as sess:
        assert sess.run(g) == 3.0


def test_op_on_tensors_of_two_graphs_names_both():
    x1, y1, x2 = _two_graphs()
    with pytest.raises(ValueError, match=_other_graph(x2, x1)):
        tf.add(x1, x2)


# ----------------------------------------------------------------------------------------------------------
# Sizes of zero or less: TF's attr minimums, checked before any shape function divides by them
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, -1])
def test_split_into_no_pieces_is_a_value_error(n):
    with pytest.raises(ValueError, match=rf"^Attr 'num_split' of 'Split' Op passed {n} less than minimum 1\.$"):
        tf.split(tf.constant([1.0, 2.0]), n)


def test_split_with_no_sizes_is_a_value_error():
    with pytest.raises(ValueError, match=r"^Attr 'num_split' of 'SplitV' Op passed 0 less than minimum 1\.$"):
        tf.split(tf.constant([1.0, 2.0]), tf.zeros([0], tf.int32))


def test_split_of_a_tensor_of_unknown_shape_into_no_pieces_is_a_value_error():
    with pytest.raises(ValueError, match=r"^Attr 'num_split' of 'Split' Op passed 0 less than minimum 1\.$"):
        tf.split(tf.placeholder(tf.float32), 0)


def test_unstack_into_a_negative_number_of_pieces_is_a_value_error():
    with pytest.raises(ValueError, match=r"^Attr 'num' of 'Unpack' Op passed -1 less than minimum 0\.$"):
        tf.unstack(tf.placeholder(tf.float32), num=-1)


def test_unstack_of_a_zero_length_axis_gives_no_tensors():
    assert tf.unstack(tf.zeros([0, 3])) == []


def test_a_refused_split_leaves_the_graph_and_session_usable():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError):
        tf.split(x, 0)
    assert [op.type for op in tf.get_default_graph().get_operations()].count("Split") == 0
    with tf.Session() as sess:
        a, b = sess.run(tf.split(x, 2))
    assert list(a) == [1.0, 2.0] and list(b) == [3.0, 4.0]
