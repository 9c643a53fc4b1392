"""Control flow: tf.cond / tf.case / tf.while_loop against NumPy, side effects only where TF1 has them,
structures and shape invariants, gradients through control flow against finite differences, tf.group /
tf.tuple / tf.control_dependencies, Assert / check_numerics / the assert_* family / Print / tf.print, and
GraphDef export of functional ops."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf

Pair = collections.namedtuple("Pair", ["a", "b"])


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


# ----------------------------------------------------------------------------------------------------------
# tf.cond
# ----------------------------------------------------------------------------------------------------------
def test_cond_uses_tensors_captured_from_outside_in_both_branches():
    x = tf.placeholder(tf.float32, [3])
    w = tf.constant([1.0, 2.0, 3.0])
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: x * w, lambda: x - w)
    xv = np.array([4.0, 5.0, 6.0], np.float32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(r, {x: xv, p: True}), xv * [1, 2, 3])
        np.testing.assert_array_equal(sess.run(r, {x: xv, p: False}), xv - [1, 2, 3])
    assert r.name == "cond:0"
    assert r.shape.as_list() == [3]
    assert r.dtype == tf.float32


def test_cond_output_shape_is_the_most_specific_shape_both_branches_allow():
    x = tf.placeholder(tf.float32, [2, 3])
    y = tf.placeholder(tf.float32, [2, 4])
    r = tf.cond(tf.constant(True), lambda: x, lambda: y)
    assert r.shape.as_list() == [2, None]
    s = tf.cond(tf.constant(True), lambda: x, lambda: tf.reshape(y, [-1]))
    assert s.shape.ndims is None


def test_nested_cond_picks_the_right_innermost_branch():
    x = tf.placeholder(tf.float32, [])
    r = tf.cond(x > 0,
                lambda: tf.cond(x > 10, lambda: x * 100.0, lambda: x * 10.0),
                lambda: tf.cond(x < -10, lambda: x - 100.0, lambda: x - 10.0))
    with tf.Session() as sess:
        assert [sess.run(r, {x: v}) for v in (20.0, 2.0, -2.0, -20.0)] == [2000.0, 20.0, -12.0, -120.0]


def test_cond_runs_side_effects_of_the_taken_branch_only():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.assign_sub(v, 10.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: True}) == 1.0
        assert sess.run(r, {p: True}) == 2.0
        assert sess.run(v) == 2.0
        assert sess.run(r, {p: False}) == -8.0
        assert sess.run(v) == -8.0


def test_cond_untaken_branch_assertion_and_print_do_not_run(capfd):
    x = tf.placeholder(tf.float32, [])

    def failing():
        with tf.control_dependencies([tf.Assert(tf.constant(False), ["never"])]):
            return tf.Print(x, [x], message="untaken: ")

    r = tf.cond(x > 0, lambda: tf.identity(x), failing)
    assert _run(r, {x: 3.0}) == 3.0
    assert "untaken" not in capfd.readouterr().err
    with pytest.raises(tf.errors.InvalidArgumentError, match="never") as info:
        _run(r, {x: -3.0})
    assert info.value.op.name == "cond/Assert/Assert"


def test_ops_and_variables_built_in_a_branch_are_named_under_its_scope():
    with tf.name_scope("outer"):
        x = tf.placeholder(tf.float32, [])
        r = tf.cond(x > 0, lambda: tf.Variable(2.0, name="v") * x, lambda: x)
    assert r.name == "outer/cond:0"
    assert [v.name for v in tf.global_variables()] == ["outer/cond/v:0"]
    assert "outer/cond/mul" in [op.name for op in r.op.get_attr("then_branch").get_operations()]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(r, {x: 3.0}) == 6.0


def test_cond_of_structures_returns_the_same_structure():
    x = tf.placeholder(tf.float32, [])
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p,
                lambda: {"sum": x + 1.0, "pair": Pair(x * 2.0, [x * 3.0, tf.constant(1)])},
                lambda: {"sum": x - 1.0, "pair": Pair(x / 2.0, [x / 4.0, tf.constant(2)])})
    assert isinstance(r, dict) and isinstance(r["pair"], Pair) and isinstance(r["pair"].b, list)
    got = _run(r, {x: 8.0, p: False})
    assert got == {"sum": 7.0, "pair": Pair(4.0, [2.0, 2])}


def test_cond_unpacks_singletons_unless_strict():
    p = tf.constant(True)
    assert isinstance(tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)]), tf.Tensor)
    strict = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)], strict=True)
    assert isinstance(strict, list) and len(strict) == 1
    assert _run(strict) == [1]


def test_cond_branch_returning_an_operation_gives_the_branch_predicate_after_running_it():
    v = tf.Variable(0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.group(tf.assign_add(v, 5)), lambda: tf.no_op())
    assert r.dtype == tf.bool
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: True}) == True  # noqa: E712 - a NumPy bool
        assert sess.run(v) == 5
        assert sess.run(r, {p: False}) == False  # noqa: E712
        assert sess.run(v) == 5


def test_cond_branch_with_identity_of_an_outer_tensor_and_python_values():
    x = tf.constant([1, 2])
    r = tf.cond(tf.constant(False), lambda: tf.identity(x), lambda: np.array([3, 4], np.int32))
    np.testing.assert_array_equal(_run(r), [3, 4])


def test_control_dependency_on_an_outer_op_inside_a_branch_runs_it_before_the_cond():
    v = tf.Variable(1.0)
    update = tf.assign(v, 5.0)

    def branch():
        with tf.control_dependencies([update]):
            return tf.constant(0.0)

    r = tf.cond(tf.constant(True), branch, lambda: tf.constant(1.0))
    assert update.op in r.op.control_inputs
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(r)
        assert sess.run(v) == 5.0


@pytest.mark.parametrize("bad, error, match", [
    (lambda: tf.cond(True, lambda: 1, lambda: 2), TypeError, "must not be a Python bool"),
    (lambda: tf.cond(tf.constant(1.0), lambda: 1, lambda: 2), TypeError, "bool"),
    (lambda: tf.cond(tf.constant([True, False]), lambda: 1, lambda: 2), ValueError, "rank 0"),
    (lambda: tf.cond(tf.constant(True), 1, lambda: 2), TypeError, "true_fn must be callable"),
    (lambda: tf.cond(tf.constant(True), lambda: 1, None), TypeError, "false_fn must be callable"),
    (lambda: tf.cond(tf.constant(True), lambda: None, lambda: 2), ValueError, "true_fn must have a return value"),
    (lambda: tf.cond(tf.constant(True), lambda: 1, lambda: 2.0), ValueError, "same type: int32, float32"),
    (lambda: tf.cond(tf.constant(True), lambda: (1, 2), lambda: (1,)), ValueError, "same nested structure"),
    (lambda: tf.cond(tf.constant(True), lambda: [1, 2], lambda: (1, 2)), TypeError, "same sequence type"),
])
def test_cond_rejects_bad_arguments_at_graph_construction(bad, error, match):
    with pytest.raises(error, match=match):
        bad()


def test_cond_accepts_the_deprecated_fn1_fn2_names():
    assert _run(tf.cond(tf.constant(False), fn1=lambda: 1, fn2=lambda: 2)) == 2


# ----------------------------------------------------------------------------------------------------------
# tf.case
# ----------------------------------------------------------------------------------------------------------
def _case_graph(**kwargs):
    x = tf.placeholder(tf.int32, [])
    pairs = [(x < 0, lambda: tf.constant(-1)), (tf.equal(x, 0), lambda: tf.constant(0)),
             (x < 10, lambda: tf.constant(1))]
    return x, tf.case(pairs, **kwargs)


def test_case_returns_the_fn_of_the_first_true_predicate_else_default():
    x, r = _case_graph(default=lambda: tf.constant(99))
    with tf.Session() as sess:
        assert [sess.run(r, {x: v}) for v in (-5, 0, 5, 50)] == [-1, 0, 1, 99]


def test_case_without_default_asserts_that_the_last_predicate_holds():
    x, r = _case_graph()
    with tf.Session() as sess:
        assert sess.run(r, {x: 5}) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions evaluated as True"):
            sess.run(r, {x: 50})
        assert sess.run(r, {x: -3}) == -1


def test_case_exclusive_raises_when_several_predicates_hold():
    x, r = _case_graph(default=lambda: tf.constant(99), exclusive=True)
    with tf.Session() as sess:
        assert sess.run(r, {x: 5}) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="more than 1 conditions"):
            sess.run(r, {x: -5})
        assert sess.run(r, {x: 50}) == 99


def test_case_runs_only_the_chosen_fn():
    v = tf.Variable(0)
    x = tf.placeholder(tf.int32, [])
    r = tf.case({x > 0: lambda: tf.assign_add(v, 1), x < 0: lambda: tf.assign_add(v, 100)},
                default=lambda: tf.identity(v), exclusive=True)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert [sess.run(r, {x: 1}), sess.run(r, {x: 0}), sess.run(r, {x: -1})] == [1, 1, 101]


def test_case_checks_its_pairs():
    with pytest.raises(TypeError, match="2-tuple"):
        tf.case([(tf.constant(True),)])
    with pytest.raises(TypeError, match="type bool"):
        tf.case([(tf.constant(1), lambda: 1)])
    with pytest.raises(TypeError, match="must be callable"):
        tf.case([(tf.constant(True), 1)])


# ----------------------------------------------------------------------------------------------------------
# tf.while_loop
# ----------------------------------------------------------------------------------------------------------
def test_while_loop_counter_returns_a_single_loop_variable_bare():
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)])
    assert isinstance(r, tf.Tensor) and r.name == "while:0"
    assert _run(r) == 10


def test_while_loop_sum_of_a_fed_range():
    n = tf.placeholder(tf.int32, [])
    _, total = tf.while_loop(lambda i, s: i <= n, lambda i, s: (i + 1, s + i), [0, 0])
    with tf.Session() as sess:
        assert [sess.run(total, {n: k}) for k in (0, 1, 10, 100)] == [0, 1, 55, 5050]


def test_while_loop_fibonacci():
    def body(i, a, b):
        return i + 1, b, a + b

    _, a, _ = tf.while_loop(lambda i, a, b: i < 30, body, [0, tf.constant(0, tf.int64), tf.constant(1, tf.int64)])
    fib = [0, 1]
    while len(fib) < 31:
        fib.append(fib[-1] + fib[-2])
    assert _run(a) == fib[30]


def test_while_loop_with_nested_structures():
    state = {"count": tf.constant(0), "acc": Pair(tf.constant(1.0), [tf.constant([1.0, 2.0])])}

    def body(step, s):
        return step + 1, {"count": s["count"] + 2, "acc": Pair(s["acc"].a * 2.0, [s["acc"].b[0] + 1.0])}

    step, out = tf.while_loop(lambda step, s: step < 3, body, [tf.constant(0), state])
    got = _run([step, out])
    assert got[0] == 3
    assert got[1]["count"] == 6 and got[1]["acc"].a == 8.0
    np.testing.assert_array_equal(got[1]["acc"].b[0], [4.0, 5.0])
    assert isinstance(out["acc"], Pair)


def test_while_loop_return_same_structure_keeps_a_single_variable_in_its_list():
    r = tf.while_loop(lambda i: i < 3, lambda i: [i + 1], [tf.constant(0)], return_same_structure=True)
    assert isinstance(r, list) and _run(r) == [3]


def test_while_loop_shape_invariants_allow_a_growing_tensor():
    i0 = tf.constant(0)
    m0 = tf.ones([1, 2])
    _, m = tf.while_loop(lambda i, m: i < 3, lambda i, m: [i + 1, tf.concat([m, m], 0)], [i0, m0],
                         shape_invariants=[i0.shape, tf.TensorShape([None, 2])])
    assert m.shape.as_list() == [None, 2]
    np.testing.assert_array_equal(_run(m), np.ones([8, 2]))


def test_while_loop_body_changing_a_shape_without_invariants_is_a_value_error():
    m0 = tf.ones([2, 2], name="ones")
    with pytest.raises(ValueError, match=r"Input tensor 'ones:0' enters the loop with shape \(2, 2\), but has "
                                         r"shape \(4, 2\) after one iteration"):
        tf.while_loop(lambda i, m: i < 2, lambda i, m: [i + 1, tf.concat([m, m], 0)], [tf.constant(0), m0])


def test_while_loop_invariant_incompatible_with_the_initial_shape_is_a_value_error():
    with pytest.raises(ValueError, match="not compatible with the initial shape"):
        tf.while_loop(lambda x: tf.constant(True), lambda x: x, [tf.ones([2])],
                      shape_invariants=[tf.TensorShape([3])])


def test_while_loop_body_changing_a_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="enters the loop with type int32, but has type float32"):
        tf.while_loop(lambda i: i < 2, lambda i: tf.cast(i, tf.float32), [tf.constant(0)])


def test_while_loop_body_returning_another_structure_is_a_value_error():
    with pytest.raises(ValueError, match="same nested structure"):
        tf.while_loop(lambda i, j: i < 2, lambda i, j: (i + 1,), [0, 1])


def test_while_loop_rejects_bad_arguments():
    with pytest.raises(TypeError, match="cond must be callable"):
        tf.while_loop(1, lambda i: i, [0])
    with pytest.raises(TypeError, match="body must be callable"):
        tf.while_loop(lambda i: i < 1, None, [0])
    with pytest.raises(ValueError, match="No loop variables provided"):
        tf.while_loop(lambda: True, lambda: (), [])
    with pytest.raises(TypeError, match="bool"):
        tf.while_loop(lambda i: i, lambda i: i + 1, [0])


def test_while_loop_maximum_iterations_bounds_the_loop():
    limit = tf.placeholder(tf.int32, [])
    r = tf.while_loop(lambda i: tf.constant(True), lambda i: i + 2, [tf.constant(0)], maximum_iterations=limit)
    i, s = tf.while_loop(lambda i, s: i < 100, lambda i, s: (i + 1, s + i), [0, 0], maximum_iterations=4)
    with tf.Session() as sess:
        assert sess.run(r, {limit: 7}) == 14
        assert sess.run(r, {limit: 0}) == 0
        assert sess.run([i, s]) == [4, 6]


def test_while_loop_matmul_over_a_captured_weight_matches_numpy():
    w = tf.placeholder(tf.float32, [3, 3])
    v0 = tf.placeholder(tf.float32, [3, 1])
    _, v = tf.while_loop(lambda k, v: k < 5, lambda k, v: (k + 1, tf.tanh(tf.matmul(w, v))), [0, v0])
    rng = np.random.RandomState(0)
    wv, vv = rng.randn(3, 3).astype(np.float32), rng.randn(3, 1).astype(np.float32)
    expected = vv
    for _ in range(5):
        expected = np.tanh(wv @ expected)
    np.testing.assert_allclose(_run(v, {w: wv, v0: vv}), expected, rtol=1e-5)


def test_while_loop_that_never_iterates_returns_the_initial_values():
    x = tf.placeholder(tf.float32, [2])
    _, y = tf.while_loop(lambda i, y: i < 0, lambda i, y: (i + 1, y * 2.0), [0, x])
    np.testing.assert_array_equal(_run(y, {x: [1.0, 2.0]}), [1.0, 2.0])


def test_nested_while_loops_and_cond_inside_a_loop():
    def outer_body(i, total):
        _, inner = tf.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + j), [0, 0])
        return i + 1, total + tf.cond(tf.equal(i % 2, 0), lambda: inner, lambda: -inner)

    _, total = tf.while_loop(lambda i, t: i < 6, outer_body, [0, 0])
    expected = sum((1 if i % 2 == 0 else -1) * sum(range(i)) for i in range(6))
    assert _run(total) == expected


def test_while_loop_body_side_effects_happen_once_per_iteration():
    v = tf.Variable(0)
    r = tf.while_loop(lambda i: i < 4, lambda i: i + tf.assign_add(v, 1) * 0 + 1, [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r) == 4
        assert sess.run(v) == 4
        sess.run(r)
        assert sess.run(v) == 8


def test_while_loop_error_in_the_body_names_the_failing_op_and_the_session_stays_usable():
    x = tf.placeholder(tf.float32, [])

    def body(i):
        check = tf.debugging.check_numerics(tf.log(x - tf.cast(i, tf.float32)), "log went bad")
        with tf.control_dependencies([check]):
            return i + 1

    r = tf.while_loop(lambda i: i < 3, body, [0])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="log went bad : Tensor had NaN values") as info:
            sess.run(r, {x: 1.5})
        assert info.value.op is not None and info.value.op.type == "CheckNumerics"
        assert sess.run(r, {x: 10.0}) == 3


# ----------------------------------------------------------------------------------------------------------
# Gradients through control flow (finite differences)
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pred", [True, False])
def test_cond_gradient_matches_finite_differences(pred):
    def fn(x, w):
        return tf.cond(tf.constant(pred), lambda: tf.reduce_sum(tf.sin(x) * w), lambda: tf.reduce_sum(x * x) - w[0])

    check_gradients(fn, [np.array([0.3, -1.2, 2.0]), np.array([1.5, -0.5, 0.7])])


def test_nested_cond_gradient_with_a_branch_that_ignores_an_input():
    def fn(x, y):
        return tf.cond(tf.reduce_sum(x) > 0,
                       lambda: tf.cond(tf.reduce_sum(y) > 0, lambda: x * y * y, lambda: tf.exp(x)),
                       lambda: y * 3.0)

    for seed, (x, y) in enumerate([([1.0, 2.0], [0.5, 0.2]), ([1.0, 2.0], [-0.5, 0.2]), ([-1.0, -2.0], [0.5, 1.0])]):
        check_gradients(fn, [np.array(x), np.array(y)], seed=seed)


def test_cond_gradient_is_none_for_unconnected_and_integer_inputs():
    x = tf.placeholder(tf.float32, [])
    k = tf.placeholder(tf.int32, [])
    unused = tf.placeholder(tf.float32, [])
    r = tf.cond(x > 0, lambda: x * tf.cast(k, tf.float32), lambda: x)
    gx, gk, gu = tf.gradients(r, [x, k, unused])
    assert gk is None and gu is None
    assert _run(gx, {x: 2.0, k: 3}) == 3.0


def test_cond_gradient_does_not_run_the_branch_again():
    v = tf.Variable(1.0)
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: x * tf.assign_add(v, 1.0), lambda: x)
    (g,) = tf.gradients(y, [x])
    with tf.Session() as sess:
        sess.run(v.initializer)
        yv, gv = sess.run([y, g], {x: 3.0})
        assert (yv, gv) == (6.0, 2.0)
        assert sess.run(v) == 2.0


def test_cond_gradient_uses_the_forward_random_draw():
    x = tf.placeholder(tf.float64, [50])
    y = tf.cond(tf.constant(True), lambda: x * tf.random_uniform([50], dtype=tf.float64, seed=3), lambda: x)
    (g,) = tf.gradients(tf.reduce_sum(y), [x])
    xv = np.linspace(1.0, 2.0, 50)
    yv, gv = _run([y, g], {x: xv})
    np.testing.assert_allclose(gv, yv / xv)


def test_while_gradient_of_a_power_loop():
    def fn(x):
        _, y = tf.while_loop(lambda i, y: i < 4, lambda i, y: (i + 1, y * x), [0, tf.ones_like(x)])
        return y

    check_gradients(fn, [np.array([0.5, 1.5, -2.0])])
    x = tf.placeholder(tf.float64, [3])
    (g,) = tf.gradients(tf.reduce_sum(fn(x)), [x])
    xv = np.array([0.5, 1.5, -2.0])
    np.testing.assert_allclose(_run(g, {x: xv}), 4 * xv ** 3)


def test_while_gradient_with_a_matmul_over_a_captured_weight():
    rng = np.random.RandomState(1)

    def fn(w, v0):
        _, v = tf.while_loop(lambda k, v: k < 3, lambda k, v: (k + 1, tf.tanh(tf.matmul(w, v))), [0, v0])
        return v

    check_gradients(fn, [rng.randn(3, 3) * 0.5, rng.randn(3, 2)])


def test_while_gradient_with_a_fed_iteration_count_including_zero():
    x = tf.placeholder(tf.float64, [2])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, tf.sin(y) + x), [0, x])
    for k in (0, 1, 3):
        check_gradients(y, {x: np.array([0.4, -0.9])}, feed_dict={n: k})


def test_while_gradient_through_maximum_iterations_and_a_cond_in_the_body():
    def fn(x):
        def body(y):
            return tf.cond(tf.reduce_sum(y) > 0, lambda: y * y * 0.5, lambda: tf.cos(y))

        return tf.while_loop(lambda y: tf.constant(True), body, [x], maximum_iterations=3)

    check_gradients(fn, [np.array([0.8, 1.1])])
    check_gradients(fn, [np.array([-0.8, -1.1])])


def test_nested_while_gradient():
    def fn(x):
        def outer(i, y):
            _, z = tf.while_loop(lambda j, z: j < 2, lambda j, z: (j + 1, tf.sin(z) * x), [0, y])
            return i + 1, z + y

        return tf.while_loop(lambda i, y: i < 2, outer, [0, x])[1]

    check_gradients(fn, [np.array([0.3, 0.7])])


def test_second_derivatives_through_control_flow_fail_loudly():
    x = tf.placeholder(tf.float32, [])
    (g_cond,) = tf.gradients(tf.cond(x > 0, lambda: x * x * x, lambda: x), x)
    (g_while,) = tf.gradients(tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a * x), [0, x])[1], x)
    with pytest.raises(LookupError, match="second derivatives"):
        tf.gradients(g_cond, x)
    with pytest.raises(LookupError, match="WhileGrad"):
        tf.gradients(g_while, x)


def test_while_gradient_is_none_with_back_prop_false():
    x = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, y * x), [0, x], back_prop=False)
    assert tf.gradients(y, x) == [None]


def test_while_body_side_effects_do_not_repeat_in_the_gradient():
    v = tf.Variable(0.0)
    x = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x + tf.assign_add(v, 1.0)), [0, x])
    (g,) = tf.gradients(y, [x])
    with tf.Session() as sess:
        sess.run(v.initializer)
        yv, gv = sess.run([y, g], {x: 2.0})
        # y1 = x*x + 1, y2 = y1*x + 2, y3 = y2*x + 3 = x^4 + x^2 + 2x + 3
        assert (yv, gv) == (2.0 ** 4 + 4 + 4 + 3, 4 * 8 + 4 + 2)
        assert sess.run(v) == 3.0


# ----------------------------------------------------------------------------------------------------------
# tf.group, tf.tuple, tf.control_dependencies
# ----------------------------------------------------------------------------------------------------------
def test_control_dependencies_run_an_assign_before_the_dependent_identity():
    v = tf.Variable(1.0)
    x = tf.constant(2.0)
    assign = tf.assign(v, 7.0)
    with tf.control_dependencies([assign]):
        y = tf.identity(x)
        read = tf.identity(v.read_value())
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(y) == 2.0
        assert sess.run(v) == 7.0
        sess.run(v.initializer)
        assert sess.run(read) == 7.0


def test_group_runs_all_its_inputs_and_returns_an_op():
    a, b = tf.Variable(0), tf.Variable(0)
    g = tf.group(tf.assign_add(a, 1), [tf.assign_add(b, 2)], name="both")
    assert isinstance(g, tf.Operation) and g.name == "both" and g.type == "NoOp"
    with tf.Session() as sess:
        sess.run([a.initializer, b.initializer])
        assert sess.run(g) is None
        sess.run(g)
        assert sess.run([a, b]) == [2, 4]


def test_tuple_outputs_wait_for_all_inputs():
    v = tf.Variable(0.0)
    x = tf.constant(5.0)
    inc = tf.assign_add(v, 1.0)
    out_x, out_inc = tf.tuple([x, inc])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(out_x) == 5.0
        assert sess.run(v) == 1.0
        assert sess.run(out_inc) == 2.0


def test_with_dependencies_returns_an_identity_after_the_dependencies():
    from tfmini.ops.control_flow_ops import with_dependencies

    v = tf.Variable(0)
    y = with_dependencies([tf.assign(v, 3)], tf.constant(1))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(y) == 1
        assert sess.run(v) == 3


# ----------------------------------------------------------------------------------------------------------
# Assert, check_numerics, assert_*, Print, tf.print
# ----------------------------------------------------------------------------------------------------------
def test_assert_raises_with_its_data_and_op_name_and_the_session_stays_usable():
    x = tf.placeholder(tf.int32, [4])
    check = tf.Assert(tf.reduce_all(x > 0), ["x must be positive:", x], name="positive")
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(y, {x: [1, -2, 3, 4]})
        assert "assertion failed: [x must be positive:] [1 -2 3...]" in info.value.message
        assert info.value.op.name == "positive/Assert"
        assert "positive/Assert" in info.value.message
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2, 3, 4]}), [1, 2, 3, 4])


def test_assert_summarize_shows_nested_brackets_for_matrices():
    check = tf.Assert(tf.constant(False), [tf.constant([[1, 2], [3, 4]]), tf.constant(2.5)], summarize=3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[\[1 2\]\[3\.\.\.\]\.\.\.\] "
                                                             r"\[2\.5\]"):
        _run(check)
    full = tf.Assert(tf.constant(False), [tf.constant([[True, False]])], summarize=-1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[\[1 0\]\]"):
        _run(full)


def test_check_numerics_raises_on_nan_and_inf_and_passes_finite_values():
    x = tf.placeholder(tf.float32, [2])
    y = tf.check_numerics(x, "bad x")
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad x : Tensor had NaN values") as info:
            sess.run(y, {x: [np.nan, 1.0]})
        assert info.value.op is y.op
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad x : Tensor had Inf values"):
            sess.run(y, {x: [np.inf, 1.0]})
        assert sess.run(y, {x: [3.0, 4.0]}).tolist() == [3.0, 4.0]


def test_check_numerics_rejects_integers_and_passes_gradients_through():
    with pytest.raises(TypeError):
        tf.debugging.check_numerics(tf.constant([1, 2]), "ints")
    check_gradients(lambda x: tf.check_numerics(x * x, "sq"), [np.array([1.0, -3.0])])


def test_verify_tensor_all_finite_and_add_check_numerics_ops():
    x = tf.placeholder(tf.float32, [])
    y = tf.verify_tensor_all_finite(x * 2.0, "doubled")
    with tf.Session() as sess:
        assert sess.run(y, {x: 2.0}) == 4.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="doubled : Tensor had Inf values"):
            sess.run(y, {x: np.inf})
    z = tf.log(x)
    checks = tf.add_check_numerics_ops()
    with tf.Session() as sess:
        sess.run([z, checks], {x: 1.0})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had NaN values"):
            sess.run([z, checks], {x: -1.0})


def test_assert_equal_checks_statically_when_values_are_known():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x == y did not hold element-wise"):
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]), message="static")
    ok = tf.assert_equal(tf.constant([1, 2]), [1, 2])
    assert ok.type == "Assert"
    _run(ok)


def test_assert_family_checks_at_run_time_when_values_are_unknown():
    x = tf.placeholder(tf.float32, [None])
    cases = [
        (tf.debugging.assert_less(x, 5.0), [1.0, 4.0], [1.0, 5.0], "Condition x < y"),
        (tf.debugging.assert_positive(x), [1.0, 4.0], [0.0, 5.0], "Condition x > 0"),
        (tf.debugging.assert_non_negative(x), [0.0, 4.0], [-1.0, 5.0], "Condition x >= 0"),
        (tf.debugging.assert_equal(x, x * 1.0), [1.0], [np.nan], "Condition x == y"),
        (tf.debugging.assert_greater_equal(x, 2.0), [2.0, 3.0], [1.0, 3.0], "Condition x >= y"),
    ]
    with tf.Session() as sess:
        for op, good, bad, match in cases:
            sess.run(op, {x: good})
            with pytest.raises(tf.errors.InvalidArgumentError, match=match):
                sess.run(op, {x: bad})


def test_assert_rank_statically_and_at_run_time():
    with pytest.raises(ValueError, match="must have rank 2.  Received rank 1"):
        tf.assert_rank(tf.constant([1, 2]), 2)
    assert tf.assert_rank(tf.constant([[1]]), 2).type == "NoOp"
    x = tf.placeholder(tf.float32)
    check = tf.debugging.assert_rank(x, 2)
    with tf.Session() as sess:
        sess.run(check, {x: np.zeros([2, 2])})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank"):
            sess.run(check, {x: np.zeros([2])})
    with pytest.raises(ValueError, match="rank at least 3"):
        tf.assert_rank_at_least(tf.constant([[1]]), 3)


def test_assert_type_integer_and_scalar_raise_at_graph_construction():
    with pytest.raises(TypeError, match="must be of type"):
        tf.assert_type(tf.constant(1.0), tf.int32)
    assert tf.assert_type(tf.constant(1), tf.int32).type == "NoOp"
    with pytest.raises(TypeError, match="integer"):
        tf.assert_integer(tf.constant(1.0))
    with pytest.raises(ValueError, match="Expected scalar"):
        tf.assert_scalar(tf.constant([1.0]))


def test_print_passes_its_input_through_and_prints_to_stderr(capfd):
    x = tf.placeholder(tf.float32, [5])
    y = tf.Print(x, [x, tf.constant("tag")], message="x is: ", first_n=2)
    assert y.shape.as_list() == [5]
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_array_equal(sess.run(y, {x: np.arange(5)}), np.arange(5))
    err = capfd.readouterr().err
    assert err.count("x is: [0 1 2...][tag]\n") == 2
    check_gradients(lambda v: tf.Print(v * 3.0, [v]), [np.array([1.0, 2.0])])


def test_tf_print_formats_tensors_and_python_values(capfd):
    x = tf.constant([[1, 2, 3, 4, 5, 6, 7]])
    op = tf.print("values:", x, {"n": tf.constant(2.5)}, [1, "a"], summarize=2, sep="|")
    assert isinstance(op, tf.Operation)
    _run(op)
    assert capfd.readouterr().err == "values:|[[1 2 ... 6 7]]|{'n': 2.5}|[1, 'a']\n"
    m = tf.constant(np.arange(4).reshape(2, 2))
    _run(tf.print(m, output_stream=__import__("sys").stdout))
    assert capfd.readouterr().out == "[[0 1]\n [2 3]]\n"


def test_bool_tensors_print_as_ones_and_zeros_as_in_tf(capfd):
    # Recorded from TensorFlow: a bool tensor shows as 1/0 in tf.print, tf.Print and tf.strings.format; a
    # Python bool in tf.print's arguments is formatted by Python.
    _run(tf.print(True, tf.constant([True, False]), tf.constant(False)))
    assert capfd.readouterr().err == "True [1 0] 0\n"
    flags = tf.constant([True, False])
    _run(tf.Print(flags, [flags]))
    assert capfd.readouterr().err == "[1 0]\n"
    assert _run(tf.strings.format("{} {}", (tf.constant(True), flags))) == b"1 [1 0]"


# ----------------------------------------------------------------------------------------------------------
# GraphDef export
# ----------------------------------------------------------------------------------------------------------
def test_graph_def_export_names_the_functions_and_adds_them_to_the_library():
    x = tf.placeholder(tf.float32, [], name="x")
    r = tf.cond(x > 0, lambda: tf.cond(x > 1, lambda: x * 2.0, lambda: x), lambda: -x)
    _, y = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [0, 1.0])
    tf.gradients(r + y, x)
    gd = tf.get_default_graph().as_graph_def()
    library = {f.signature.name: f for f in gd.library.function}
    if_node = next(n for n in gd.node if n.name == "cond")
    assert if_node.op == "If"
    then_name = if_node.attr["then_branch"].func.name
    assert then_name in library and if_node.attr["else_branch"].func.name in library
    inner_if = next(n for n in library[then_name].node_def if n.op == "If")
    assert inner_if.attr["then_branch"].func.name in library
    while_node = next(n for n in gd.node if n.op == "While")
    body = library[while_node.attr["body"].func.name]
    assert [a.name for a in body.signature.input_arg][:2] == ["while_loop_var_0", "while_loop_var_1"]
    # TensorFlow's form: the body returns every input (here x, captured, and the gradient's accumulators too).
    assert len(body.ret) == len(body.signature.input_arg) == len(while_node.attr["T"].list.type) > 2
    # The loop's gradient is a While over the values the forward loop accumulated, not tfmini's WhileGrad.
    assert sum(n.op == "While" for n in gd.node) == 2
    assert not any(n.op in ("WhileGrad", "TapeRead") for n in gd.node)
    assert len(library) >= 8


def test_graph_def_round_trip_runs_imported_control_flow_and_its_gradients():
    x = tf.placeholder(tf.float32, [], name="x")
    r = tf.cond(x > 0, lambda: tf.cond(x > 1, lambda: x * 2.0, lambda: x), lambda: -x)
    _, y = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [0, 1.0])
    out = tf.identity(r + y, name="out")
    (g,) = tf.gradients(out, x)
    gd = tf.get_default_graph().as_graph_def()
    expected = _run([out, g], {x: 1.5})
    assert expected == [1.5 * 2 + 1.5 ** 3, 2 + 3 * 1.5 ** 2]
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(gd, name="")
        x2, out2 = imported.get_tensor_by_name("x:0"), imported.get_tensor_by_name("out:0")
        (fresh,) = tf.gradients(out2, x2)
        with tf.Session() as sess:
            assert sess.run([out2, imported.get_tensor_by_name(g.name), fresh], {x2: 1.5}) == expected + [expected[1]]


# ----------------------------------------------------------------------------------------------------------
# Variables in branches and bodies
# ----------------------------------------------------------------------------------------------------------
def test_get_variable_in_a_branch_creates_and_reuses_outer_graph_variables():
    x = tf.placeholder(tf.float32, [None, 3])
    p = tf.placeholder(tf.bool, [])

    def dense():
        return tf.layers.dense(x, 2, name="d", reuse=tf.AUTO_REUSE,
                               kernel_initializer=tf.constant_initializer(0.5))

    y = tf.cond(p, dense, lambda: dense() * 2.0)
    assert [v.name for v in tf.trainable_variables()] == ["d/kernel:0", "d/bias:0"]
    assert all(v.graph is tf.get_default_graph() for v in tf.global_variables())
    (gk,) = tf.gradients(tf.reduce_sum(y), [tf.trainable_variables()[0]])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv = np.ones([2, 3], np.float32)
        np.testing.assert_allclose(sess.run(y, {x: xv, p: False}), np.full([2, 2], 3.0))
        np.testing.assert_allclose(sess.run(gk, {x: xv, p: False}), np.full([3, 2], 4.0))


def test_assert_near_and_assert_rank_in():
    x = tf.placeholder(tf.float64, [2])
    near = tf.debugging.assert_near(x, [1.0, 2.0], atol=1e-3, rtol=0.0)
    z = tf.placeholder(tf.float32)
    rank_in = tf.debugging.assert_rank_in(z, [1, 3])
    with tf.Session() as sess:
        sess.run(near, {x: [1.0005, 1.9995]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="not equal to tolerance"):
            sess.run(near, {x: [1.01, 2.0]})
        sess.run(rank_in, {z: np.zeros([2])})
        sess.run(rank_in, {z: np.zeros([2, 1, 1])})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank in"):
            sess.run(rank_in, {z: np.zeros([2, 2])})
    with pytest.raises(ValueError, match=r"must have rank in \(1, 3\)"):
        tf.debugging.assert_rank_in(tf.zeros([2, 2]), [1, 3])


def test_assert_shapes_checks_symbols_and_sizes_statically_and_at_run_time():
    a = tf.zeros([2, 3])
    with pytest.raises(ValueError, match="must have size 2.  Received size 4"):
        tf.debugging.assert_shapes([(a, ("N", "D")), (tf.zeros([4]), ("N",))])
    with pytest.raises(ValueError, match="dimension 1 must have size 5"):
        tf.debugging.assert_shapes([(a, (None, 5))])
    with pytest.raises(ValueError, match="must have rank 1"):
        tf.debugging.assert_shapes([(a, "N")])
    assert tf.debugging.assert_shapes([(a, ("...", 3)), (tf.zeros([7, 2]), ["M", "N"])]).type == "NoOp"
    x = tf.placeholder(tf.float32, [None, None])
    y = tf.placeholder(tf.float32, [None])
    check = tf.debugging.assert_shapes({x: ("N", 3), y: "N"})
    with tf.Session() as sess:
        sess.run(check, {x: np.zeros([4, 3]), y: np.zeros([4])})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(check, {x: np.zeros([4, 3]), y: np.zeros([5])})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(check, {x: np.zeros([4, 2]), y: np.zeros([4])})


def test_monotonicity_predicates_and_static_helpers():
    assert _run([tf.debugging.is_non_decreasing([1, 1, 2]), tf.debugging.is_strictly_increasing([1, 1, 2]),
                 tf.debugging.is_strictly_increasing([[1, 2], [3, 4]])]) == [True, False, True]
    assert tf.debugging.is_numeric_tensor(tf.constant(1.0)) and not tf.debugging.is_numeric_tensor(tf.constant("a"))
    with pytest.raises(TypeError, match="proper"):
        tf.debugging.assert_proper_iterable(np.zeros(3))
    tf.debugging.assert_proper_iterable([1, 2])
    assert tf.debugging.assert_same_float_dtype([tf.constant(1.0), tf.constant(2.0)]) == tf.float32
    with pytest.raises(ValueError):
        tf.debugging.assert_same_float_dtype([tf.constant(1.0), tf.constant(2.0, tf.float64)])
    assert _run(tf.debugging.is_nan([np.nan, 1.0])).tolist() == [True, False]


# ----------------------------------------------------------------------------------------------------------
# map_fn, scan, foldl, foldr
# ----------------------------------------------------------------------------------------------------------
def test_map_fn_matches_numpy_for_tensors_and_structures():
    xv = np.arange(8, dtype=np.float32).reshape(4, 2)
    x = tf.placeholder(tf.float32, [None, 2])
    squares = tf.map_fn(lambda r: r * r, x)
    rows = tf.map_fn(lambda r: tf.matmul(tf.reshape(r, [1, 2]), tf.ones([2, 3])), x)
    pair = tf.map_fn(lambda t: (tf.reduce_sum(t[0]), tf.cast(t[1][0], tf.int32)), (x, x), dtype=(tf.float32, tf.int32))
    assert squares.shape.as_list() == [None, 2] and rows.shape.as_list() == [None, 1, 3]
    got = _run([squares, rows, pair], {x: xv})
    np.testing.assert_array_equal(got[0], xv * xv)
    np.testing.assert_array_equal(got[1], (xv @ np.ones([2, 3]))[:, None, :])
    np.testing.assert_array_equal(got[2][0], xv.sum(1))
    np.testing.assert_array_equal(got[2][1], xv[:, 0].astype(np.int32))
    assert isinstance(pair, tuple)
    with pytest.raises(TypeError, match="dtype"):
        tf.map_fn(lambda r: tf.cast(r, tf.int32), x)


def test_scan_and_folds_match_python_loops():
    xv = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    x = tf.constant(xv)
    got = _run([tf.scan(lambda a, v: a + v, x), tf.scan(lambda a, v: a + v, x, reverse=True),
                tf.scan(lambda a, v: a * v, x, initializer=tf.constant(2.0, tf.float64)),
                tf.foldl(lambda a, v: a - v, x), tf.foldr(lambda a, v: a - v, x),
                tf.foldl(lambda a, v: a + v, x, initializer=tf.constant(100.0, tf.float64))])
    np.testing.assert_array_equal(got[0], np.cumsum(xv))
    np.testing.assert_array_equal(got[1], np.cumsum(xv[::-1])[::-1])
    np.testing.assert_array_equal(got[2], 2.0 * np.cumprod(xv))
    assert got[3:] == [3.0 - 1 - 4 - 1 - 5, 5.0 - 1 - 4 - 1 - 3, 100.0 + xv.sum()]


def test_scan_with_a_structured_accumulator():
    x = tf.constant([1, 2, 3, 4])
    out = tf.scan(lambda acc, v: {"sum": acc["sum"] + v, "max": tf.maximum(acc["max"], v * 0 + 7)}, x,
                  initializer={"sum": tf.constant(0), "max": tf.constant(0)})
    got = _run(out)
    np.testing.assert_array_equal(got["sum"], [1, 3, 6, 10])
    np.testing.assert_array_equal(got["max"], [7, 7, 7, 7])


def test_gradients_through_map_fn_scan_and_foldl():
    check_gradients(lambda x, w: tf.map_fn(lambda r: tf.reduce_sum(tf.sin(r) * w), x),
                    [np.array([[0.1, 0.2], [0.3, -0.4], [1.0, 2.0]]), np.array([0.5, -1.5])])
    check_gradients(lambda x: tf.scan(lambda a, v: a * v + 1.0, x), [np.array([0.5, -1.2, 0.8, 1.1])])
    check_gradients(lambda x, a: tf.foldl(lambda acc, v: tf.tanh(acc * v), x, initializer=a),
                    [np.array([0.5, -1.2, 0.8]), np.array(0.7)])


def test_string_scalars_carried_by_a_loop_stay_tensors_for_the_string_ops():
    # A body's results feed the next iteration's kernels as arrays: a scalar string used to come back as Python
    # bytes, which StringJoin, RegexReplace, StringLength and the other string kernels rejected.
    _, s = tf.while_loop(lambda i, s: i < 3,
                         lambda i, s: (i + 1, tf.strings.join([tf.regex_replace(s, "a", "b"), "a"])),
                         [tf.constant(0), tf.constant("a")])
    lengths = tf.while_loop(lambda i, n: i < 2, lambda i, n: (i + 1, n + tf.strings.length(tf.as_string(n))),
                            [tf.constant(0), tf.constant(5)])[1]
    assert _run(s) == b"bbba"
    assert _run(lengths) == 7
