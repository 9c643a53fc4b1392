"""tf.gradients(..., colocate_gradients_with_ops=True) and the optimizers' flag: every op of the backward pass is
colocated with the forward op it differentiates (its device and colocation group), the numbers do not change,
and the gate of GATE_OP colocates each of its identities with the gradient it passes on, as in TF."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf

PS, W0, W1 = "/job:ps/task:0", "/job:worker/task:0", "/job:worker/task:1"


def _model():
    with tf.device(PS):
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, name="w")
        emb = tf.Variable(np.ones((4, 2), np.float32), name="emb")
    with tf.device(W0):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        ids = tf.placeholder(tf.int32, [None], name="ids")
        h = tf.tanh(tf.matmul(x, w), name="h") + tf.gather(emb, ids, name="rows")
    with tf.device(W1):
        # h and w are read twice: their gradients are summed, w's with w's read on the ps
        loss = tf.add(tf.reduce_sum(tf.square(h) * h), tf.reduce_sum(w), name="loss")
    return w, emb, x, ids, loss


def _forward_of(op: tf.Operation) -> tf.Operation:
    (group,) = op.get_attr("_class")
    return op.graph.get_operation_by_name(group.decode()[len("loc:@"):])


def test_every_gradient_op_is_placed_and_grouped_with_its_forward_op():
    with tf.Graph().as_default() as g:
        w, emb, _, _, loss = _model()
        before = set(g.get_operations())
        tf.gradients(loss, [w, emb], colocate_gradients_with_ops=True)
        made = [op for op in g.get_operations() if op not in before]
    assert made
    for op in made:
        forward = _forward_of(op)
        assert forward in before and op.device == forward.device, op.name
    devices = {op.device for op in made}
    assert devices == {PS, W0, W1}  # the sum for a variable's gradient goes with the variable, as in TF


def test_without_the_flag_gradient_ops_follow_the_device_scopes_only():
    with tf.Graph().as_default() as g:
        w, emb, _, _, loss = _model()
        before = set(g.get_operations())
        with tf.device(W1):
            tf.gradients(loss, [w, emb])
        made = [op for op in g.get_operations() if op not in before]
    assert {op.device for op in made} == {W1}
    assert not any("_class" in op.node_def.attr for op in made)


def test_colocated_gradients_have_the_same_values():
    feed_x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], np.float32)
    results = []
    for colocate in (False, True):
        with tf.Graph().as_default():
            w, emb, x, ids, loss = _model()
            grads = tf.gradients(loss, [w, emb], colocate_gradients_with_ops=colocate)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                results.append(sess.run([grads[0], tf.convert_to_tensor(grads[1])], {x: feed_x, ids: [1, 3]}))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [
    lambda loss: tf.train.GradientDescentOptimizer(0.1).minimize(loss, colocate_gradients_with_ops=True),
    lambda loss: tf.train.AdamOptimizer(0.1).minimize(loss, colocate_gradients_with_ops=True),
], ids=["sgd", "adam"])
def test_optimizers_colocate_their_gradients(make):
    with tf.Graph().as_default() as g:
        _, _, _, _, loss = _model()
        make(loss)
        grads = [op for op in g.get_operations() if op.name.startswith("gradients/")]
    assert grads
    for op in grads:
        if op.type == "NoOp":  # a GATE_OP group goes on the device of the gradients it waits for
            assert op.device == {c.device for c in op.control_inputs}.pop()
            continue
        assert op.device == _forward_of(op).device, op.name


def test_the_gate_colocates_each_identity_with_its_gradient():
    with tf.Graph().as_default() as g:
        with tf.device(PS):
            a = tf.Variable([1.0, 2.0], name="a")
            b = tf.Variable([3.0, 4.0], name="b")
        with tf.device(W0):
            y = tf.reduce_sum(a * b, name="y")
        tf.gradients(y, [a, b], gate_gradients=True, colocate_gradients_with_ops=True)
        identities = [op for op in g.get_operations() if "tuple/control_dependency" in op.name]
        group = g.get_operation_by_name("gradients/mul_grad/tuple/group_deps")
    assert len(identities) == 2
    for op in identities:
        source = op.inputs[0].op
        assert op.get_attr("_class") == source.get_attr("_class") == [b"loc:@mul"] and op.device == W0
    assert group.device == W0 and "_class" not in group.node_def.attr


def test_hessians_take_the_flag():
    with tf.Graph().as_default() as g:
        with tf.device(W0):
            x = tf.placeholder(tf.float32, [2], name="x")
            y = tf.reduce_sum(x * x * x, name="y")
        before = set(g.get_operations())
        (hess,) = tf.hessians(y, x, colocate_gradients_with_ops=True)
        made = [op for op in g.get_operations() if op not in before]
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(hess, {x: [1.0, 2.0]}), np.diag([6.0, 12.0]))
    assert any("_class" in op.node_def.attr for op in made)
