"""tf.gradients and tf.hessians: how gradients are summed, reduced, stopped and reported, independent of any one
op's derivative (those are checked per op against finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed)


# Test-only ops, to drive tf.gradients through situations the op library does not produce on demand.
register_op("GradTestNoGradient", inputs=["x: T"], outputs=["y: T"], shape=lambda op: op.inputs[0].shape)(
    lambda x: x)
register_op("GradTestNotDifferentiable", inputs=["x: T"], outputs=["y: T"],
            shape=lambda op: op.inputs[0].shape)(lambda x: x)
NotDifferentiable("GradTestNotDifferentiable")


@register_op("GradTestTwoOutputs", inputs=["x: float64"], outputs=["double: float64", "triple: float64",
                                                                    "count: int32"],
             shape=lambda op: [op.inputs[0].shape, op.inputs[0].shape, []])
def _two_outputs(x):
    return 2 * x, 3 * x, np.int32(x.size)


_SEEN_OUTPUT_GRADS: list = []


@RegisterGradient("GradTestTwoOutputs")
def _two_outputs_grad(op, g_double, g_triple, g_count):
    _SEEN_OUTPUT_GRADS.append((g_double, g_triple, g_count))
    return 2 * g_double + 3 * g_triple


@register_op("GradTestRows", inputs=["params: float64", "rows: int32"], outputs=["out: float64"],
             shape=lambda op: op.inputs[1].shape.concatenate(op.inputs[0].shape[1:]))
def _rows(params, rows):
    return params[rows]


@RegisterGradient("GradTestRows")
def _rows_grad(op, grad):
    return tf.IndexedSlices(grad, op.inputs[1], tf.shape(op.inputs[0])), None


register_op("GradTestWrongCount", inputs=["x: T"], outputs=["y: T"], shape=lambda op: op.inputs[0].shape)(
    lambda x: x)
RegisterGradient("GradTestWrongCount")(lambda op, g: [g, g])
register_op("GradTestWrongShape", inputs=["x: T"], outputs=["y: T"], shape=lambda op: op.inputs[0].shape)(
    lambda x: x)
RegisterGradient("GradTestWrongShape")(lambda op, g: tf.reduce_sum(g, axis=0))


# ----------------------------------------------------------------------------------------------------------
# Summation, broadcasting, grad_ys, several ys
# ----------------------------------------------------------------------------------------------------------
def test_fan_out_gradients_are_summed():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0], tf.float64)
        y = x * x + 3.0 * x + tf.sin(x)
        (g,) = tf.gradients(y, x)
        got = _run(g)
    np.testing.assert_allclose(got, 2 * np.array([1.0, 2.0]) + 3 + np.cos([1.0, 2.0]))


def test_fan_out_sum_is_one_add_n_in_the_gradients_scope():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        (g,) = tf.gradients(x * 2.0 + x * 3.0 + x * 4.0, x)
        assert g.op.type == "AddN" and len(g.op.inputs) == 3
        assert g.name.startswith("gradients/")
        np.testing.assert_allclose(_run(g), [9.0, 9.0])


def test_gradient_ops_live_under_the_gradients_scope_with_an_op_grad_scope_each():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.multiply(x, x, name="square_me")
        tf.gradients(y, x)
        tf.gradients(y, x)
        names = [op.name for op in tf.get_default_graph().get_operations()]
    assert any(n.startswith("gradients/square_me_grad/") for n in names)
    assert any(n.startswith("gradients_1/square_me_grad/") for n in names)
    assert all(n in ("Const", "square_me") or n.startswith(("gradients/", "gradients_1/")) for n in names)


@pytest.mark.parametrize("known", [True, False], ids=["static shapes", "run-time shapes"])
def test_broadcast_dimensions_are_reduced(known):
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float64, [2, 1] if known else None)
        b = tf.placeholder(tf.float64, [1, 3] if known else None)
        c = tf.placeholder(tf.float64, [3] if known else None)
        s = tf.placeholder(tf.float64, [] if known else None)
        y = a * b + c - s
        grads = tf.gradients(y, [a, b, c, s])
        if known:
            assert [g.shape.as_list() for g in grads] == [[2, 1], [1, 3], [3], []]
        feed = {a: np.array([[1.0], [2.0]]), b: np.array([[1.0, 2.0, 3.0]]), c: np.ones(3), s: 5.0}
        got = _run(grads, feed)
    np.testing.assert_allclose(got[0], [[6.0], [6.0]])
    np.testing.assert_allclose(got[1], [[3.0, 3.0, 3.0]])
    np.testing.assert_allclose(got[2], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(got[3], -6.0)


def test_grad_ys_weight_each_y():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0, 3.0])
        (g,) = tf.gradients(x * x, x, grad_ys=tf.constant([1.0, 0.0, -2.0]))
        (g_list,) = tf.gradients([x * x], [x], grad_ys=[[1.0, 0.0, -2.0]])
        got = _run([g, g_list])
    np.testing.assert_allclose(got[0], [2.0, 0.0, -12.0])
    np.testing.assert_allclose(got[1], [2.0, 0.0, -12.0])


def test_default_grad_ys_are_ones_shaped_like_y():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        (g,) = tf.gradients(3.0 * x, x)
        got = _run(g, {x: np.zeros(4, np.float32)})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [3, 3, 3, 3])


def test_grad_ys_errors():
    with tf.Graph().as_default():
        x = tf.constant([1.0])
        with pytest.raises(ValueError, match="Passed 2 grad_ys for 1 ys"):
            tf.gradients(x * 2.0, x, grad_ys=[x, x])
        with pytest.raises(TypeError, match="must be real"):
            tf.gradients(x * 2.0, x, grad_ys=tf.constant([True]))
        z = tf.complex(x, x)
        with pytest.raises(TypeError, match="Gradients of complex tensors must set grad_ys"):
            tf.gradients(z, x)


def test_several_ys_sum_their_gradients():
    with tf.Graph().as_default():
        x = tf.constant(2.0, tf.float64)
        y = tf.constant(5.0, tf.float64)
        gx, gy = tf.gradients([x * y, x * x, tf.sin(y)], [x, y])
        got = _run([gx, gy])
    np.testing.assert_allclose(got, [5.0 + 4.0, 2.0 + np.cos(5.0)])


def test_several_ys_with_finite_differences():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2, 3])
        w = tf.placeholder(tf.float64, [3])
        ys = [tf.reduce_sum(x * w, axis=1), tf.tanh(x) * tf.exp(w), tf.reduce_max(x)]
        check_gradients(ys, {x: random_array((2, 3), seed=1), w: random_array((3,), seed=2)})


def test_x_that_is_a_y_gets_its_grad_y():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        gx, = tf.gradients(x, x)
        gy, = tf.gradients([x, x * 3.0], x)
        np.testing.assert_allclose(_run([gx, gy]), [[1.0, 1.0], [4.0, 4.0]])


def test_x_depending_on_another_x_gets_the_total_derivative():
    with tf.Graph().as_default():
        a = tf.constant(3.0)
        b = a * a
        ga, gb = tf.gradients(b * 2.0, [a, b])
        np.testing.assert_allclose(_run([ga, gb]), [12.0, 2.0])


# ----------------------------------------------------------------------------------------------------------
# Unconnected, stopped and non-differentiable paths
# ----------------------------------------------------------------------------------------------------------
def test_unconnected_xs_give_none_or_zeros():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        other = tf.constant([[5.0]], tf.float64)
        y = x * 2.0
        assert tf.gradients(y, [x, other])[1] is None
        assert tf.gradients(tf.constant(1.0), x) == [None]
        g = tf.gradients(y, other, unconnected_gradients=tf.UnconnectedGradients.ZERO)[0]
        g2 = tf.gradients(y, other, unconnected_gradients="zero")[0]
        got = _run([g, g2])
        assert got[0].dtype == np.float64 and got[0].tolist() == [[0.0]] and got[1].tolist() == [[0.0]]
        with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
            tf.gradients(y, x, unconnected_gradients="never")


def test_stop_gradients_argument_stops_at_the_named_tensors():
    with tf.Graph().as_default():
        a = tf.constant(0.0)
        b = 2.0 * a
        ga, gb = tf.gradients(a + b, [a, b], stop_gradients=[a, b])
        assert _run([ga, gb]) == [1.0, 1.0]
        h = tf.sin(a)
        (g,) = tf.gradients(h * 3.0, a, stop_gradients=[h])
        assert g is None


def test_stop_gradient_op_blocks_its_path_only():
    with tf.Graph().as_default():
        x = tf.constant(3.0)
        y = tf.stop_gradient(x * x) * x
        (g,) = tf.gradients(y, x)
        assert _run(g) == 9.0
        assert tf.gradients(tf.stop_gradient(x), x) == [None]


def test_not_differentiable_ops_give_none_without_error():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = apply_op("GradTestNotDifferentiable", [x]).outputs[0]
        assert tf.gradients(y, x) == [None]
        (g,) = tf.gradients(y + x, x)
        assert _run(g).tolist() == [1.0, 1.0]


def test_op_without_gradient_on_the_path_raises_lookup_error():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = apply_op("GradTestNoGradient", [x], name="mystery").outputs[0]
        with pytest.raises(LookupError, match=r"No gradient defined for operation 'mystery' \(op type: "
                                              r"GradTestNoGradient\)"):
            tf.gradients(y * 2.0, x)


def test_op_without_gradient_off_the_path_is_fine():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        c = apply_op("GradTestNoGradient", [tf.constant([3.0, 4.0])]).outputs[0]
        (g,) = tf.gradients(x * c, x)
        assert _run(g).tolist() == [3.0, 4.0]
        # An x produced by such an op: backpropagation ends at x, so the op's gradient is never needed.
        produced = apply_op("GradTestNoGradient", [tf.constant([1.0, 2.0])]).outputs[0]
        (g_produced,) = tf.gradients(produced * 2.0, produced)
        assert _run(g_produced).tolist() == [2.0, 2.0]


def test_gradient_override_map_applies_to_ops_created_under_it():
    with tf.Graph().as_default() as g:
        x = tf.constant(0.5, tf.float64)
        with g.gradient_override_map({"Sin": "Cos"}):
            y = tf.sin(x)
        z = tf.sin(x)
        got = _run(tf.gradients([y], x) + tf.gradients([z], x))
    np.testing.assert_allclose(got, [-np.sin(0.5), np.cos(0.5)])


def test_gradient_function_with_wrong_arity_or_shape_raises_value_error():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 2.0]])
        with pytest.raises(ValueError, match="Num gradients 2 generated for op"):
            tf.gradients(apply_op("GradTestWrongCount", [x]).outputs[0], x)
        with pytest.raises(ValueError, match="Incompatible shapes between op input and calculated input gradient"):
            tf.gradients(apply_op("GradTestWrongShape", [x]).outputs[0], x)


def test_integer_paths_give_none():
    with tf.Graph().as_default():
        x = tf.constant([1.5, 2.5], tf.float64)
        y = tf.cast(tf.cast(x, tf.int32) * 2, tf.float64)
        assert tf.gradients(y, x) == [None]


# ----------------------------------------------------------------------------------------------------------
# Ops with several outputs
# ----------------------------------------------------------------------------------------------------------
def test_unused_float_outputs_get_zeros_and_integer_outputs_none():
    _SEEN_OUTPUT_GRADS.clear()
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0], tf.float64)
        op = apply_op("GradTestTwoOutputs", [x])
        (g,) = tf.gradients(op.outputs[0] * 5.0, x)
        got = _run(g)
        g_double, g_triple, g_count = _SEEN_OUTPUT_GRADS[-1]
        assert g_count is None
        assert isinstance(g_triple, tf.Tensor)
        assert _run(g_triple).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(got, [10.0, 10.0])


def test_op_with_several_used_outputs():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0], tf.float64)
        op = apply_op("GradTestTwoOutputs", [x])
        (g,) = tf.gradients([op.outputs[0], op.outputs[1] * op.outputs[1]], x)
        np.testing.assert_allclose(_run(g), 2.0 + 3.0 * 2 * 3.0 * np.array([1.0, 2.0]))


def test_op_whose_outputs_get_no_gradient_is_not_asked_for_one():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0], tf.float64)
        op = apply_op("GradTestTwoOutputs", [x])
        y = tf.cast(op.outputs[2], tf.float64)
        assert tf.gradients(y, x) == [None]


# ----------------------------------------------------------------------------------------------------------
# IndexedSlices
# ----------------------------------------------------------------------------------------------------------
def _rows_of(params, rows):
    return apply_op("GradTestRows", [params, np.asarray(rows, np.int32)]).outputs[0]


def test_indexed_slices_gradient_fetches_as_indexed_slices_value():
    with tf.Graph().as_default():
        p = tf.constant(np.arange(6.0).reshape(3, 2))
        (g,) = tf.gradients(_rows_of(p, [2, 0, 2]) * 2.0, p)
        assert isinstance(g, tf.IndexedSlices)
        assert g.dtype == tf.float64 and g.shape.as_list() == [3, 2]
        value = _run(g)
        dense = _run(tf.convert_to_tensor(g))
    assert isinstance(value, tf.IndexedSlicesValue)
    assert value.indices.tolist() == [2, 0, 2] and value.dense_shape.tolist() == [3, 2]
    np.testing.assert_array_equal(value.values, np.full((3, 2), 2.0))
    np.testing.assert_array_equal(dense, [[2.0, 2.0], [0.0, 0.0], [4.0, 4.0]])


def test_indexed_slices_from_two_uses_stay_sparse():
    with tf.Graph().as_default():
        p = tf.constant(np.arange(6.0).reshape(3, 2))
        (g,) = tf.gradients([_rows_of(p, [0]), _rows_of(p, [0, 1]) * 3.0], p)
        assert isinstance(g, tf.IndexedSlices)
        dense = _run(tf.convert_to_tensor(g))
    np.testing.assert_array_equal(dense, [[4.0, 4.0], [3.0, 3.0], [0.0, 0.0]])


def test_indexed_slices_mixed_with_dense_gradients_become_dense():
    with tf.Graph().as_default():
        p = tf.constant(np.arange(6.0).reshape(3, 2))
        (g,) = tf.gradients([_rows_of(p, [1]), p * 2.0], p)
        assert isinstance(g, tf.Tensor)
        np.testing.assert_array_equal(_run(g), [[2.0, 2.0], [3.0, 3.0], [2.0, 2.0]])


def test_indexed_slices_gradient_matches_finite_differences():
    check_gradients(lambda p: tf.sin(_rows_of(p, [1, 1, 0])), [random_array((3, 2), seed=3)])


def test_indexed_slices_without_dense_shape_cannot_be_densified():
    with tf.Graph().as_default():
        s = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]))
        with pytest.raises(ValueError, match="without dense_shape"):
            tf.convert_to_tensor(s)
        value = _run(s)
        assert value.dense_shape is None and value.indices.tolist() == [0]


def test_feeding_indexed_slices():
    with tf.Graph().as_default():
        values = tf.placeholder(tf.float32, [None, 2])
        indices = tf.placeholder(tf.int32, [None])
        s = tf.IndexedSlices(values, indices, tf.constant([3, 2]))
        got = _run(tf.convert_to_tensor(s), {s: tf.IndexedSlicesValue(np.ones((1, 2), np.float32), [1], [3, 2])})
    np.testing.assert_array_equal(got, [[0, 0], [1, 1], [0, 0]])


# ----------------------------------------------------------------------------------------------------------
# Higher order, options
# ----------------------------------------------------------------------------------------------------------
def test_gradient_of_a_gradient():
    with tf.Graph().as_default():
        x = tf.constant([0.5, 2.0], tf.float64)
        y = x * x * x + tf.exp(2.0 * x)
        (g,) = tf.gradients(y, x)
        (gg,) = tf.gradients(g, x)
        (ggg,) = tf.gradients(gg, x)
        got = _run([g, gg, ggg])
    v = np.array([0.5, 2.0])
    np.testing.assert_allclose(got[0], 3 * v ** 2 + 2 * np.exp(2 * v))
    np.testing.assert_allclose(got[1], 6 * v + 4 * np.exp(2 * v))
    np.testing.assert_allclose(got[2], 6 + 8 * np.exp(2 * v))


def test_second_order_gradient_through_broadcasts_and_reductions():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2, 3])
        w = tf.placeholder(tf.float64, [3])
        loss = tf.reduce_mean(tf.square(x * w - 1.0))
        (gw,) = tf.gradients(loss, w)
        check_gradients(gw, {x: random_array((2, 3), seed=4), w: random_array((3,), seed=5)})


def test_hessians_of_a_quadratic_form():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    with tf.Graph().as_default():
        x = tf.constant([[1.0, -1.0]], tf.float64)
        y = tf.matmul(tf.matmul(x, tf.constant(a)), x, transpose_b=True)
        (h,) = tf.hessians(y, x)
        assert h.shape.as_list() == [1, 2, 1, 2]
        got = _run(h)
    np.testing.assert_allclose(got.reshape(2, 2), a + a.T)


def test_hessians_of_elementwise_function_is_diagonal():
    with tf.Graph().as_default():
        x = tf.constant([0.3, 1.2, -0.7], tf.float64)
        (h,) = tf.hessians(tf.reduce_sum(tf.sin(x)), x)
        np.testing.assert_allclose(_run(h), np.diag(-np.sin([0.3, 1.2, -0.7])), atol=1e-15)


@pytest.mark.parametrize("method", [None, tf.AggregationMethod.ADD_N, tf.AggregationMethod.EXPERIMENTAL_TREE,
                                    tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N])
def test_aggregation_methods_and_gate_gradients_give_the_same_sum(method):
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = x * 2.0 + x * 3.0 + tf.square(x)
        (g,) = tf.gradients(y, x, aggregation_method=method, gate_gradients=True)
        np.testing.assert_allclose(_run(g), [7.0, 9.0])


def test_invalid_aggregation_method():
    with tf.Graph().as_default():
        x = tf.constant(1.0)
        with pytest.raises(ValueError, match="Invalid aggregation_method specified 7"):
            tf.gradients(x * x, x, aggregation_method=7)


def test_gradients_in_a_graph_that_is_not_the_default():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(2.0)
        y = x * x
    (dx,) = tf.gradients(y, x)
    assert dx.graph is g
    with tf.Session(graph=g) as sess:
        assert sess.run(dx) == 4.0


@pytest.mark.parametrize("x_shape, y_shape, x_value, y_value", [
    ([None, 5], [5], (3, 5), (5,)),            # a bias: y reduced over the batch axis, x passes through
    ([None, 1], [None, 4], (2, 1), (2, 4)),    # x stretched along a known axis; the batch axis undecided
    ([None, 1, 3], [4, 1], (2, 1, 3), (4, 1)),  # both stretched on different axes
    ([None, None], [None], (2, 3), (3,)),     # nothing decidable: the run-time path
])
def test_broadcast_gradients_with_partly_known_shapes_match_finite_differences(x_shape, y_shape, x_value, y_value):
    x = tf.placeholder(tf.float64, x_shape)
    y = tf.placeholder(tf.float64, y_shape)
    z = x * y + x
    check_gradients(z, {x: random_array(x_value, np.float64, seed=1), y: random_array(y_value, np.float64, seed=2)})


def test_bias_gradient_needs_no_run_time_shape_ops():
    x = tf.placeholder(tf.float32, [None, 5])
    b = tf.constant(np.ones(5, np.float32))
    gx, gb = tf.gradients(tf.reduce_sum(x + b), [x, b])
    grad_types = {op.type for op in tf.get_default_graph().get_operations() if op.name.startswith("gradients/add")}
    assert not grad_types & {"BroadcastGradientArgs", "Shape", "Reshape"}
    assert gb.shape.as_list() == [5] and gx.shape.as_list() == [None, 5]
    gx_v, gb_v = _run([gx, gb], {x: np.ones((3, 5), np.float32)})
    np.testing.assert_array_equal(gb_v, np.full(5, 3.0))
    np.testing.assert_array_equal(gx_v, np.ones((3, 5)))


def test_gating_leaves_out_gradients_that_flow_nowhere():
    # GATE_OP groups the gradients an op hands on towards the variables; the gradient with respect to a fed
    # input (the first layer's dx) is not in the group, so a training step never computes it.
    x = tf.placeholder(tf.float32, [8, 4])
    w = tf.Variable(np.ones((4, 3), np.float32))
    loss = tf.reduce_sum(tf.matmul(x, w))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(step, {x: np.ones((8, 4), np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
    ran = [n.node_name for d in meta.step_stats.dev_stats for n in d.node_stats]
    # The step needs no loss value, so of the three products only dW = x^T dy runs (dx = dy w^T does not).
    assert [name for name in ran if name.split("/")[-1].startswith("MatMul")] == ["gradients/MatMul_grad/MatMul_1"]
    # With two inputs both leading to variables, the group holds both, as in TF.
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    tf.gradients(a * b, [a, b], gate_gradients=True)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert any(n.endswith("mul_grad/tuple/group_deps") for n in names)
