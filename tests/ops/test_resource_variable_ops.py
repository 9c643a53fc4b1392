"""Resource variables: the graph tf.Variable(use_resource=True) builds (names as TensorFlow's), the resource ops
against NumPy (reads, assignments, scatters, gathers), snapshots that later updates leave alone, gradients
(dense through ReadVariableOp, IndexedSlices through ResourceGather), the default switches, TF's errors."""

import threading

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import resource_variable_ops as rvo


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.disable_resource_variables()


def test_the_graph_and_variable_def_are_tensorflows():
    v = tf.Variable([1.0, 2.0], name="v", use_resource=True)
    assert isinstance(v, rvo.ResourceVariable) and isinstance(v, tf.Variable)
    graph = tf.get_default_graph()
    # Names and types as TF 2.21's tf.compat.v1 builds them (recorded).
    expected = [("v/Initializer/initial_value", "Const"), ("v", "VarHandleOp"),
                ("v/IsInitialized/VarIsInitializedOp", "VarIsInitializedOp"), ("v/Assign", "AssignVariableOp"),
                ("v/Read/ReadVariableOp", "ReadVariableOp")]
    assert [(op.name, op.type) for op in graph.get_operations()] == expected
    handle = graph.get_operation_by_name("v")
    assert handle.get_attr("shared_name") == "v" and handle.get_attr("dtype") == tf.float32
    assert handle.get_attr("shape").as_list() == [2]
    assert (v.name, v.dtype, v.shape.as_list(), v.handle.dtype) == ("v:0", tf.float32, [2], tf.resource)
    assert v._graph_element.name == "v/Read/ReadVariableOp:0" and v.initializer.name == "v/Assign"
    proto = v.to_proto()
    assert (proto.variable_name, proto.initializer_name, proto.snapshot_name, proto.initial_value_name,
            proto.is_resource, proto.trainable) == (
        "v:0", "v/Assign", "v/Read/ReadVariableOp:0", "v/Initializer/initial_value:0", True, True)


def test_a_resource_variable_round_trips_through_its_variable_def():
    with tf.name_scope("model"):
        v = tf.Variable([3.0, 4.0], name="w", use_resource=True)
    again = tf.Variable.from_proto(v.to_proto(export_scope="model"), import_scope="model")
    assert isinstance(again, rvo.ResourceVariable) and again.handle is v.handle
    assert tf.Variable(variable_def=v.to_proto().SerializeToString()).op is v.op
    with tf.Session() as sess:
        sess.run(again.initializer)
        np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])


def test_reading_before_initialization_fails_and_the_session_stays_usable():
    v = tf.Variable(1.5, name="v", use_resource=True)
    with tf.Session() as sess:
        assert not sess.run(v.is_initialized())
        with pytest.raises(tf.errors.FailedPreconditionError, match="resource variable v"):
            sess.run(v.value())
        sess.run(v.initializer)
        assert sess.run(v.is_initialized()) and sess.run(v) == np.float32(1.5)


def test_reads_are_snapshots_that_later_updates_leave_alone():
    v = tf.Variable([1.0, 2.0], name="v", use_resource=True)
    before = v.value()
    with tf.control_dependencies([before]):
        update = v.assign_add([10.0, 10.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        old, new = sess.run([before, update])
        np.testing.assert_array_equal(old, [1.0, 2.0])
        np.testing.assert_array_equal(new, [11.0, 12.0])
        fetched = sess.run(v)
        fetched[0] = 99.0  # the fetched array is the caller's own copy
        np.testing.assert_array_equal(sess.run(v), [11.0, 12.0])


def test_assignments_and_the_value_a_feed_leaves():
    v = tf.Variable(np.zeros(3), name="v", use_resource=True)
    x = tf.placeholder(tf.float64, [3])
    assign, add, sub = v.assign(x), v.assign_add(x), v.assign_sub(x)
    fed = np.array([1.0, 2.0, 3.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(assign, {x: fed}), fed)
        fed[0] = 100.0  # the variable keeps a copy of what was fed
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(sess.run(add, {x: [1.0, 1.0, 1.0]}), [2.0, 3.0, 4.0])
        np.testing.assert_array_equal(sess.run(sub, {x: [2.0, 2.0, 2.0]}), [0.0, 1.0, 2.0])
        assert isinstance(v.assign([5.0, 5.0, 5.0], read_value=False), tf.Operation)
        v.load([7.0, 8.0, 9.0], sess)
        np.testing.assert_array_equal(v.eval(sess), [7.0, 8.0, 9.0])


@pytest.mark.parametrize("method,reference", [
    ("scatter_update", None), ("scatter_add", np.add.at), ("scatter_sub", np.subtract.at),
    ("scatter_mul", np.multiply.at), ("scatter_div", np.divide.at), ("scatter_min", np.minimum.at),
    ("scatter_max", np.maximum.at)])
def test_scatter_updates_against_numpy(method, reference):
    start = np.arange(1.0, 13.0).reshape(4, 3)
    indices = np.array([2, 0, 2])
    updates = np.array([[2.0, 3.0, 4.0], [5.0, 0.5, 1.0], [3.0, 2.0, 8.0]])
    v = tf.Variable(start, name="v", use_resource=True)
    out = getattr(v, method)(tf.IndexedSlices(tf.constant(updates), tf.constant(indices)))
    expected = start.copy()
    if reference is None:
        expected[indices] = updates
    else:
        reference(expected, indices, updates)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(out), expected, rtol=1e-15)
    assert tf.get_default_graph().get_operations()[-2].type == "ResourceScatter" + method[8:].title()


def test_integer_scatter_div_truncates_and_state_ops_dispatch_to_the_resource_ops():
    v = tf.Variable([7, -7, 9], name="v", use_resource=True)
    divided = v.scatter_div(tf.IndexedSlices(tf.constant([2, 2, 2]), tf.constant([0, 1, 1])))
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(divided), [3, -1, 9])
    w = tf.Variable([1.0, 2.0], name="w", use_resource=True)
    added = tf.scatter_add(w, [1, 1], [1.0, 2.0])
    assigned = tf.assign(w, [4.0, 4.0])
    with tf.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_array_equal(sess.run(added), [1.0, 5.0])
        np.testing.assert_array_equal(sess.run(assigned), [4.0, 4.0])
        np.testing.assert_array_equal(sess.run(tf.assign_add(w, [1.0, 1.0])), [5.0, 5.0])


def test_sparse_read_and_its_gradient_are_indexed_slices():
    params = np.arange(12.0).reshape(4, 3)
    v = tf.Variable(params, name="v", use_resource=True)
    rows = v.sparse_read([3, 1, 3])
    assert rows.op.type == "ResourceGather" and rows.shape.as_list() == [3, 3]
    (grad,) = tf.gradients(tf.reduce_sum(rows * rows), v)
    assert isinstance(grad, tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(rows), params[[3, 1, 3]])
        g = sess.run(grad)
        np.testing.assert_array_equal(g.indices, [3, 1, 3])
        np.testing.assert_array_equal(g.values, 2 * params[[3, 1, 3]])
        np.testing.assert_array_equal(g.dense_shape, [4, 3])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 9 is not in \[0, 4\)"):
            sess.run(v.sparse_read([0, 9]))


def test_gradients_through_reads_match_finite_differences():
    x0 = np.array([[0.3, -1.2], [0.7, 2.0]])
    v = tf.Variable(x0, name="v", use_resource=True)
    y = tf.reduce_sum(tf.sin(v.value()) * v.read_value())
    (grad,) = tf.gradients(y, v)
    rows = tf.reduce_sum(v.sparse_read([1, 1, 0]) ** 2)
    (sparse_grad,) = tf.gradients(rows, v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(grad), np.cos(x0) * x0 + np.sin(x0), rtol=1e-12)
        # Central differences of both functions of the variable's value, set through its initializer.
        for out, analytic in ((y, sess.run(grad)), (rows, sess.run(tf.convert_to_tensor(sparse_grad)))):
            numeric = np.zeros_like(x0)
            for i in np.ndindex(x0.shape):
                step = np.zeros_like(x0)
                step[i] = 1e-6
                v.load(x0 + step, sess)
                hi = sess.run(out)
                v.load(x0 - step, sess)
                numeric[i] = (hi - sess.run(out)) / 2e-6
            v.load(x0, sess)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_use_resource_switches_and_variable_scopes():
    assert not tf.resource_variables_enabled()
    assert not isinstance(tf.Variable(1.0), rvo.ResourceVariable)
    assert isinstance(tf.get_variable("a", [2], use_resource=True), rvo.ResourceVariable)
    with tf.variable_scope("s", use_resource=True):
        b = tf.get_variable("b", [2])
        c = tf.Variable(2.0, name="c")
        d = tf.get_variable("d", [2], use_resource=False)
    assert isinstance(b, rvo.ResourceVariable) and isinstance(c, rvo.ResourceVariable)
    assert b.name == "s/b:0" and not isinstance(d, rvo.ResourceVariable)
    tf.enable_resource_variables()
    assert tf.compat.v1.resource_variables_enabled()
    e = tf.get_variable("e", [3], initializer=tf.zeros_initializer())
    assert isinstance(e, rvo.ResourceVariable) and isinstance(tf.Variable(1.0), rvo.ResourceVariable)
    assert not isinstance(tf.Variable(1.0, use_resource=False), rvo.ResourceVariable)
    with tf.variable_scope("s", reuse=True):
        assert tf.get_variable("b", [2]) is b
    tf.disable_resource_variables()
    assert not isinstance(tf.Variable(1.0), rvo.ResourceVariable)


def test_two_sessions_hold_separate_values_and_shared_names_share_one():
    v = tf.Variable(1.0, name="v", use_resource=True)
    alias = rvo.var_handle_op(tf.float32, [], shared_name="v", name="alias")
    read_alias = rvo.read_variable_op(alias, tf.float32)
    inc = v.assign_add(1.0)
    with tf.Session() as one, tf.Session() as two:
        one.run(v.initializer)
        two.run(v.initializer)
        one.run(inc)
        assert one.run(read_alias) == 2.0 and two.run(v) == 1.0


def test_destroy_resource_op_forgets_the_variable():
    v = tf.Variable(1.0, name="v", use_resource=True)
    destroy = rvo.destroy_resource_op(v.handle, ignore_lookup_error=False)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(destroy)
        assert not sess.run(v.is_initialized())
        with pytest.raises(tf.errors.NotFoundError, match="does not exist"):
            sess.run(destroy)
        sess.run(v.initializer)
        assert sess.run(v) == 1.0


def test_errors_name_the_op_with_tensorflows_classes():
    v = tf.Variable([1.0, 2.0], name="v", use_resource=True)
    x = tf.placeholder(tf.float32)
    wrong_dtype = rvo.read_variable_op(v.handle, tf.int32)
    add_wrong_shape = rvo.assign_add_variable_op(v.handle, x)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="wrong dtype"):
            sess.run(wrong_dtype)
        with pytest.raises(tf.errors.InvalidArgumentError, match="shapes must be equal") as info:
            sess.run(add_wrong_shape, {x: [1.0, 2.0, 3.0]})
        assert add_wrong_shape.name in str(info.value)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    with pytest.raises(ValueError):
        v.assign([1.0, 2.0, 3.0])


def test_use_locking_updates_from_threads_all_count():
    v = tf.Variable(0.0, name="v", use_resource=True)
    opt = tf.train.GradientDescentOptimizer(1.0, use_locking=True)
    train = opt.apply_gradients([(tf.constant(-1.0), v)])
    with tf.Session() as sess:
        sess.run(v.initializer)
        threads = [threading.Thread(target=lambda: [sess.run(train) for _ in range(50)]) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sess.run(v) == 200.0


def test_reads_inside_cond_and_loop_bodies_know_the_variables_shape():
    v = tf.Variable([0.5, -1.0, 2.0], name="v", use_resource=True)
    x = tf.placeholder(tf.float32, [3])
    _, acc = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 0.5 + v * x), [tf.constant(0), x])
    branch = tf.cond(tf.reduce_sum(x) > 0, lambda: v.sparse_read([0, 2]), lambda: v.value()[:2])
    assert acc.shape.as_list() == [3] and branch.shape.as_list() == [2]
    feed = np.array([1.0, 2.0, 3.0], np.float32)
    expected = feed.copy()
    for _ in range(3):
        expected = expected * 0.5 + np.array([0.5, -1.0, 2.0], np.float32) * feed
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(acc, {x: feed}), expected, rtol=1e-6)
        np.testing.assert_array_equal(sess.run(branch, {x: feed}), [0.5, 2.0])


def test_sliced_assignment_and_count_up_to():
    v = tf.Variable(np.arange(6.0).reshape(2, 3), name="v", use_resource=True)
    before = v.value()
    with tf.control_dependencies([before]):
        sliced = v[1, 1:].assign([10.0, 20.0])
    assert sliced.op.type == "ReadVariableOp"
    counter = tf.Variable(0, name="counter", use_resource=True)
    count = counter.count_up_to(2)
    with tf.Session() as sess:
        sess.run([v.initializer, counter.initializer])
        old, new = sess.run([before, sliced])
        np.testing.assert_array_equal(old, np.arange(6.0).reshape(2, 3))
        np.testing.assert_array_equal(new, [[0.0, 1.0, 2.0], [3.0, 10.0, 20.0]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not match r-value shape"):
            sess.run(v[0, :2].assign([1.0, 2.0, 3.0]))
        assert [sess.run(count), sess.run(count)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(count)
        assert sess.run(counter) == 2


def test_uninitialized_resource_variables_are_reported_by_name():
    a = tf.Variable(1.0, name="a", use_resource=True)
    tf.Variable(2.0, name="b")
    report = tf.report_uninitialized_variables()
    with tf.Session() as sess:
        assert list(sess.run(report)) == [b"a", b"b"]
        sess.run(a.initializer)
        assert list(sess.run(report)) == [b"b"]
        assert sess.run(a.initialized_value()) == 1.0


def _control_flow_program(use_resource):
    w = tf.Variable([[0.5, -1.0], [0.25, 2.0]], name="w", use_resource=use_resource)
    x = tf.placeholder(tf.float32, [2])
    pred = tf.placeholder(tf.bool, [])
    def body(i, h):
        return i + 1, tf.tanh(tf.reshape(tf.matmul(w, tf.reshape(h, [2, 1])), [2]) + x)

    _, h = tf.while_loop(lambda i, h: i < 3, body, [tf.constant(0), x])
    # One branch reads rows of w (a sparse gradient), the other does not read w at all.
    branch = tf.cond(pred, lambda: tf.reduce_sum(tf.gather(w, [1, 1]) * h), lambda: tf.reduce_sum(h * h))
    loss = tf.reduce_sum(h) + branch
    return w, x, pred, loss, tf.gradients(loss, w)[0]


@pytest.mark.parametrize("taken", [True, False])
def test_gradients_through_cond_and_loop_bodies_reach_resource_variables(taken):
    feeds = [np.array([0.3, -0.7], np.float32), taken]
    results = {}
    for use_resource in (False, True):
        tf.reset_default_graph()
        w, x, pred, loss, grad = _control_flow_program(use_resource)
        with tf.Session() as sess:
            sess.run(w.initializer)
            results[use_resource] = sess.run(tf.convert_to_tensor(grad), dict(zip([x, pred], feeds)))
            if use_resource:
                w0 = sess.run(w)
                numeric = np.zeros_like(w0)
                for i in np.ndindex(w0.shape):
                    step = np.zeros_like(w0)
                    step[i] = 1e-3
                    w.load(w0 + step, sess)
                    hi = sess.run(loss, dict(zip([x, pred], feeds)))
                    w.load(w0 - step, sess)
                    numeric[i] = (hi - sess.run(loss, dict(zip([x, pred], feeds)))) / 2e-3
                np.testing.assert_allclose(results[True], numeric, rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(results[True], results[False], rtol=1e-6)
