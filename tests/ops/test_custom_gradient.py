"""tf.custom_gradient in graph mode (values and gradients recorded from TensorFlow in
tests/fixtures/tf/misc_core/custom_gradient.npz), tf.switch_case, tf.container and tf.no_gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "misc_core"
RECORDED = np.load(FIXTURES / "custom_gradient.npz")


def _run(fetches, init: bool = False):
    with tf.Session() as sess:
        if init:
            sess.run(tf.global_variables_initializer())
        return sess.run(fetches)


def test_the_gradient_function_replaces_autodiff_as_in_tf():
    with tf.Graph().as_default():
        @tf.custom_gradient
        def log1pexp(x):
            e = tf.exp(x)

            def grad(dy):
                return dy * (1 - 1 / (1 + e))
            return tf.log(1 + e), grad

        @tf.custom_gradient
        def clip_gradient(x):
            def grad(dy):
                return tf.clip_by_norm(dy, 0.5)
            return tf.identity(x) * 3.0, grad

        x = tf.constant(RECORDED["x"])
        y1, y2 = log1pexp(x), clip_gradient(x)
        g1 = tf.gradients(y1, x)[0]
        g2 = tf.gradients(y2 * y2, x)[0]
        values = _run({"y1": y1, "g1": g1, "y2": y2, "g2": g2})
    for key, value in values.items():
        np.testing.assert_allclose(value, RECORDED[key], rtol=1e-12, err_msg=key)
    # autodiff through exp would give nan at x = 40 (inf / inf); the custom gradient gives 1
    assert np.isfinite(values["g1"]).all()


def test_a_body_reading_a_variable_gets_its_gradient_from_the_variables_argument():
    with tf.Graph().as_default():
        w = tf.get_variable("w", initializer=np.array([[0.5, -1.0], [2.0, 0.25]]), use_resource=True)
        x = tf.constant([[1.0, 2.0], [3.0, -4.0]], tf.float64)
        seen = {}

        @tf.custom_gradient
        def scaled_matmul(x):
            y = tf.matmul(x, w)

            def grad(dy, variables=None):
                seen["variables"] = variables
                dx = tf.matmul(dy, w, transpose_b=True) * 2.0
                dw = tf.matmul(x, dy, transpose_a=True) * 3.0
                return dx, [dw]
            return y, grad

        y = scaled_matmul(x)
        gx, gw = tf.gradients(tf.reduce_sum(y * y), [x, w])
        assert seen["variables"] == [w]
        y_v, gx_v, gw_v = _run([y, gx, gw], init=True)
    np.testing.assert_allclose(y_v, RECORDED["var_y"])
    np.testing.assert_allclose(gx_v, RECORDED["var_gx"])
    np.testing.assert_allclose(gw_v, RECORDED["var_gw"])


def test_a_ref_variable_read_in_the_body_is_found_too():
    with tf.Graph().as_default():
        v = tf.Variable(3.0)
        x = tf.constant(2.0)

        @tf.custom_gradient
        def f(x):
            def grad(dy, variables):
                return dy * 10.0, [dy * 100.0]
            return x * v, grad

        gx, gv = tf.gradients(f(x), [x, v])
        assert _run([gx, gv], init=True) == [10.0, 100.0]


def test_a_body_using_variables_needs_a_grad_fn_taking_variables():
    with tf.Graph().as_default():
        v = tf.get_variable("v", initializer=1.0, use_resource=True)

        @tf.custom_gradient
        def f(x):
            return x * v, lambda dy: dy

        with pytest.raises(TypeError, match="grad_fn must accept a keyword argument 'variables'"):
            f(tf.constant(1.0))


def test_a_grad_fn_must_return_one_gradient_per_variable():
    with tf.Graph().as_default():
        v = tf.get_variable("v", initializer=1.0, use_resource=True)

        @tf.custom_gradient
        def f(x):
            return x * v, lambda dy, variables=None: (dy, [])

        y = f(tf.constant(1.0))
        with pytest.raises(ValueError, match="Must return gradient for each variable"):
            tf.gradients(y, v)


def test_variables_created_in_the_body_must_be_resource_variables():
    with tf.Graph().as_default():
        @tf.custom_gradient
        def f(x):
            v = tf.get_variable("inner", initializer=1.0, use_resource=False)
            return x * v, lambda dy, variables=None: (dy, [dy])

        with pytest.raises(TypeError, match="must be `ResourceVariable`s"):
            f(tf.constant(1.0))


def test_several_inputs_and_nested_results():
    with tf.Graph().as_default():
        @tf.custom_gradient
        def pair(a, b):
            def grad(d_sum, d_prod):
                return d_sum * 2.0, d_prod * 5.0
            return (a + b, a * b), grad

        a, b = tf.constant(1.0), tf.constant(4.0)
        s, p = pair(a, b)
        ga, gb = tf.gradients([s, p], [a, b])
        assert _run([s, p, ga, gb]) == [5.0, 4.0, 2.0, 5.0]


def test_custom_gradient_refuses_keyword_arguments_in_graph_mode():
    with tf.Graph().as_default():
        @tf.custom_gradient
        def f(x, scale=1.0):
            return x * scale, lambda dy: dy

        with pytest.raises(ValueError, match="keywords arguments only when eager"):
            f(tf.constant(1.0), scale=2.0)


# -- tf.switch_case


@pytest.mark.parametrize("index, expected", [(0, 10), (1, 20), (2, 30), (7, 30), (-1, 30)])
def test_switch_case_runs_the_indexed_branch_or_the_last_one(index, expected):
    with tf.Graph().as_default():
        out = tf.switch_case(tf.constant(index), [lambda: tf.constant(10), lambda: tf.constant(20),
                                                   lambda: tf.constant(30)])
        assert _run(out) == expected


@pytest.mark.parametrize("index, expected", [(0, 1.0), (1, 2.0), (2, -1.0), (-5, -1.0)])
def test_switch_case_takes_pairs_or_a_dict_and_a_default(index, expected):
    with tf.Graph().as_default():
        i = tf.placeholder(tf.int32, [])
        from_dict = tf.switch_case(i, {1: lambda: tf.constant(2.0), 0: lambda: tf.constant(1.0)},
                                   default=lambda: tf.constant(-1.0))
        from_pairs = tf.switch_case(i, [(0, lambda: tf.constant(1.0)), (1, lambda: tf.constant(2.0))],
                                    default=lambda: tf.constant(-1.0))
        with tf.Session() as sess:
            assert sess.run([from_dict, from_pairs], {i: index}) == [expected, expected]


def test_switch_case_is_differentiable_through_the_chosen_branch():
    with tf.Graph().as_default():
        x = tf.constant(3.0)
        i = tf.placeholder(tf.int32, [])
        out = tf.switch_case(i, [lambda: x * x, lambda: 5.0 * x])
        g = tf.gradients(out, x)[0]
        with tf.Session() as sess:
            assert sess.run(g, {i: 0}) == 6.0
            assert sess.run(g, {i: 1}) == 5.0


def test_switch_case_checks_its_arguments_as_tf_does():
    with tf.Graph().as_default():
        one = lambda: tf.constant(1)  # noqa: E731
        with pytest.raises(TypeError, match="branch_index must an integer Tensor"):
            tf.switch_case(tf.constant(1.0), [one])
        with pytest.raises(ValueError, match="at least one item"):
            tf.switch_case(tf.constant(0), [])
        with pytest.raises(ValueError, match=r"contiguous range of \[0 to 2\) but found \{0,2\}"):
            tf.switch_case(tf.constant(0), {0: one, 2: one})
        with pytest.raises(TypeError, match="key must be a Python `int`"):
            tf.switch_case(tf.constant(0), [("a", one)])
        with pytest.raises(TypeError, match="must be callable"):
            tf.switch_case(tf.constant(0), [(0, 1)])


# -- tf.container, tf.no_gradient


def test_container_names_the_container_of_stateful_ops_created_inside():
    with tf.Graph().as_default() as g:
        with tf.container("experiment") as name:
            assert name == "experiment"
            v = tf.Variable(1.0, name="v")
            q = tf.FIFOQueue(3, tf.float32)
            with g.container("inner"):
                w = tf.Variable(2.0, name="w")
            c = tf.constant(1.0)
        after = tf.Variable(3.0, name="after")

    def container(op):
        value = op.get_attr("container")
        return value.decode() if isinstance(value, bytes) else value

    assert container(v.op) == "experiment"
    assert container(q.queue_ref.op) == "experiment"
    assert container(w.op) == "inner"
    assert container(after.op) == ""
    assert "container" not in c.op.node_def.attr
    node = next(n for n in g.as_graph_def().node if n.name == "v")
    assert node.attr["container"].s == b"experiment"


def test_no_gradient_declares_an_op_type_without_gradient():
    with tf.Graph().as_default() as g:
        tf.no_gradient("MiscCoreNoGradType")

        @tf.RegisterGradient("MiscCoreSquare")
        def _grad(op, dy):
            return dy * 2.0 * op.inputs[0]

        x = tf.constant(2.0)
        with g.gradient_override_map({"Square": "MiscCoreNoGradType"}):
            y = tf.square(x)
        with g.gradient_override_map({"Square": "MiscCoreSquare"}):
            z = tf.square(x)
        with g.gradient_override_map({"Square": "MiscCoreUnregistered"}):
            w = tf.square(x)
        assert tf.gradients(y, x) == [None]
        assert _run(tf.gradients(z, x)[0]) == 4.0
        with pytest.raises(LookupError, match="MiscCoreUnregistered"):
            tf.gradients(w, x)
    with pytest.raises(KeyError):
        tf.no_gradient("MiscCoreNoGradType")


def test_errors_inside_branches_keep_the_session_usable():
    with tf.Graph().as_default():
        i = tf.placeholder(tf.int32, [])
        out = tf.switch_case(i, [lambda: tf.constant(1.0), lambda: tf.debugging.check_numerics(
            tf.constant(np.inf), "bad")])
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError):
                sess.run(out, {i: 1})
            assert sess.run(out, {i: 0}) == 1.0
