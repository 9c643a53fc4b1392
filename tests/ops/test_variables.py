"""tf.Variable (TF1's reference variable): graph structure, values living in sessions, assignment, tensor
behaviour, collections and the initializer/report helpers."""

import numpy as np
import pytest

import tfmini as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


# ----------------------------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------------------------
def test_variable_builds_variable_op_assign_initializer_and_read_snapshot():
    v = tf.Variable([1.0, 2.0])
    assert v.name == "Variable:0"
    assert v.op.type == "VariableV2"
    assert v.op.name == "Variable"
    assert v.dtype == tf.float32._as_ref and v.dtype.base_dtype == tf.float32
    assert v.shape.as_list() == [2] and v.get_shape().as_list() == [2]
    assert v.initializer.type == "Assign" and v.initializer.name == "Variable/Assign"
    assert v.value().name == "Variable/read:0" and v.value().op.type == "Identity"
    assert v.initial_value.name == "Variable/initial_value:0"
    assert v.graph is tf.get_default_graph()
    assert repr(v) == "<tf.Variable 'Variable:0' shape=(2,) dtype=float32_ref>"


def test_variable_names_are_uniquified_and_scoped():
    a = tf.Variable(1.0)
    b = tf.Variable(1.0)
    c = tf.Variable(1.0, name="w")
    with tf.name_scope("layer"):
        d = tf.Variable(1.0, name="w")
    assert [a.name, b.name, c.name, d.name] == ["Variable:0", "Variable_1:0", "w:0", "layer/w:0"]


def test_callable_initial_value_is_built_under_initializer_scope():
    v = tf.Variable(lambda: tf.ones([2, 3]), name="v")
    assert v.initial_value.op.name.startswith("v/Initializer/")
    assert v.shape.as_list() == [2, 3]
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), np.ones([2, 3], np.float32))


def test_dtype_argument_converts_the_initial_value():
    v = tf.Variable([1, 2], dtype=tf.float64)
    assert v.dtype.base_dtype == tf.float64
    with tf.Session() as sess:
        sess.run(v.initializer)
        out = sess.run(v)
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]


def test_dtype_argument_conflicting_with_a_tensor_initial_value_is_a_value_error():
    with pytest.raises(ValueError):
        tf.Variable(tf.constant([1, 2]), dtype=tf.float32)


def test_bad_constructor_arguments_raise_value_error():
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()
    with pytest.raises(ValueError, match="collections argument to Variable constructor must be a list"):
        tf.Variable(1.0, collections="my_collection")
    with pytest.raises(ValueError, match="initial_value must have a shape specified"):
        tf.Variable(tf.placeholder(tf.float32, [None]))
    with pytest.raises(ValueError, match="constraint"):
        tf.Variable(1.0, constraint=3)


def test_unknown_shape_initial_value_is_allowed_without_shape_validation():
    p = tf.placeholder(tf.float32, [None])
    v = tf.Variable(p, validate_shape=False)
    assert v.shape.ndims is None
    with tf.Session() as sess:
        sess.run(v.initializer, {p: [1.0, 2.0, 3.0]})
        assert sess.run(v).tolist() == [1.0, 2.0, 3.0]


def test_explicit_shape_argument_must_be_compatible():
    v = tf.Variable(tf.zeros([2]), shape=tf.TensorShape([None]))
    assert v.shape.as_list() == [None]
    with pytest.raises(ValueError, match="not compatible with the explicitly supplied `shape`"):
        tf.Variable(tf.zeros([2]), shape=[3])


def test_variables_created_under_control_dependencies_do_not_inherit_them():
    c = tf.constant(1.0)
    with tf.control_dependencies([c]):
        v = tf.Variable(2.0)
    assert v.op.control_inputs == [] and v.initializer.control_inputs == []


# ----------------------------------------------------------------------------------------------------------
# Values live in sessions
# ----------------------------------------------------------------------------------------------------------
def test_reading_an_uninitialized_variable_fails_naming_it():
    v = tf.Variable([1.0], name="weights")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value weights"):
            sess.run(v)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value weights"):
            sess.run(v * 2)


def test_global_variables_initializer_sets_every_variable():
    a = tf.Variable([1.0, 2.0])
    b = tf.Variable(tf.fill([2, 2], 3))
    init = tf.global_variables_initializer()
    assert init.type == "NoOp" and init.name == "init"
    with tf.Session() as sess:
        sess.run(init)
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(b), np.full([2, 2], 3, np.int32))


def test_two_sessions_on_one_graph_hold_separate_values():
    v = tf.Variable(0.0)
    inc = v.assign_add(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    for _ in range(3):
        s1.run(inc)
    s2.run(inc)
    assert s1.run(v) == 3.0 and s2.run(v) == 1.0
    s1.close()
    s2.close()


def test_variable_initial_value_can_depend_on_another_variable():
    a = tf.Variable(2.0)
    b = tf.Variable(a * 3.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(b) == 6.0


def test_fetched_values_are_not_changed_by_later_updates():
    v = tf.Variable([1.0, 2.0])
    inc = tf.assign_add(v, [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        before = sess.run(v)
        read = sess.run(v.value())
        sess.run(inc)
        np.testing.assert_array_equal(before, [1.0, 2.0])
        np.testing.assert_array_equal(read, [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


def test_fetched_value_is_writable_and_private():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        out = sess.run(v)
        out[0] = 100.0
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_assign_stores_a_copy_of_a_fed_array():
    v = tf.Variable([0.0, 0.0])
    p = tf.placeholder(tf.float32, [2])
    assign = v.assign(p)
    with tf.Session() as sess:
        fed = np.array([1.0, 2.0], np.float32)
        sess.run(assign, {p: fed})
        fed[0] = 50.0
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_eval_and_load_use_the_default_session():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(v.eval(), [1.0, 2.0])
        v.load([5.0, 6.0])
        np.testing.assert_array_equal(v.eval(), [5.0, 6.0])
        np.testing.assert_array_equal(v.eval(session=sess), [5.0, 6.0])
    with pytest.raises(ValueError, match="Either session argument should be provided"):
        v.load([1.0, 1.0])


def test_a_variable_can_be_fed_like_a_tensor():
    v = tf.Variable([1.0, 2.0])
    y = v * 2.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {v: [10.0, 20.0]}), [20.0, 40.0])


# ----------------------------------------------------------------------------------------------------------
# Assignment
# ----------------------------------------------------------------------------------------------------------
def test_assign_methods_return_the_updated_variable():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v.assign([3.0, 4.0])), [3.0, 4.0])
        np.testing.assert_array_equal(sess.run(v.assign_add([1.0, 1.0])), [4.0, 5.0])
        np.testing.assert_array_equal(sess.run(v.assign_sub([0.5, 2.0])), [3.5, 3.0])
        np.testing.assert_array_equal(sess.run(tf.assign(v, [0.0, 1.0])), [0.0, 1.0])
        np.testing.assert_array_equal(sess.run(tf.assign_add(v, [1.0, 1.0])), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(tf.assign_sub(v, [1.0, 1.0])), [0.0, 1.0])


def test_assign_outputs_are_ref_tensors_and_read_value_false_gives_the_op():
    v = tf.Variable(1.0)
    t = v.assign(2.0)
    assert isinstance(t, tf.Tensor) and t.dtype == tf.float32._as_ref and t.op.type == "Assign"
    op = v.assign_add(1.0, read_value=False)
    assert isinstance(op, tf.Operation) and op.type == "AssignAdd"


def test_assign_to_a_plain_tensor_is_rejected():
    with pytest.raises(AttributeError):
        tf.assign(tf.constant(1.0), 2.0)


def test_assign_with_a_statically_wrong_shape_is_a_value_error():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 and 3"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        v.assign_add([1.0, 2.0, 3.0])


def test_assign_with_a_wrong_shape_at_run_time_is_invalid_argument():
    v = tf.Variable([1.0, 2.0])
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"lhs shape= \[2\] rhs shape= \[3\]"):
            sess.run(v.assign(p), {p: [1.0, 2.0, 3.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be the same size"):
            sess.run(v.assign_add(p), {p: [1.0]})


def test_assign_add_to_an_uninitialized_variable_fails():
    v = tf.Variable([1.0, 2.0], name="acc")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="acc"):
            sess.run(v.assign_add([1.0, 1.0]))


def test_assign_without_shape_validation_changes_the_shape():
    v = tf.Variable([1.0, 2.0], validate_shape=False)
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(tf.assign(v, p, validate_shape=False), {p: [[1.0, 2.0, 3.0]]})
        np.testing.assert_array_equal(sess.run(v), [[1.0, 2.0, 3.0]])


def test_assign_initializes_a_variable():
    v = tf.Variable([0, 0])
    with tf.Session() as sess:
        sess.run(v.assign([4, 5]))
        assert sess.run(v).tolist() == [4, 5]


def test_read_value_under_control_dependencies_sees_the_update():
    v = tf.Variable(1.0)
    inc = v.assign_add(5.0)
    with tf.control_dependencies([inc]):
        after = v.read_value()
    assert after.op.type == "Identity"
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(after) == 6.0


def test_sliced_assignment_writes_into_the_variable():
    v = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4))
    row = v[1, 1:3].assign([100.0, 200.0])
    col = v[:, 0].assign(tf.constant([-1.0, -2.0, -3.0]))
    assert row.dtype == tf.float32._as_ref and row.op.type == "StridedSliceAssign"
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    with tf.Session() as sess:
        sess.run(v.initializer)
        expected[1, 1:3] = [100.0, 200.0]
        np.testing.assert_array_equal(sess.run(row), expected)
        expected[:, 0] = [-1.0, -2.0, -3.0]
        np.testing.assert_array_equal(sess.run(col), expected)
        np.testing.assert_array_equal(sess.run(v[::2, -1]), expected[::2, -1])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"sliced l-value shape \[4\] does not match r-value "
                                                                 r"shape \[2\]"):
            sess.run(v[0].assign([1.0, 2.0]))
    with pytest.raises(AttributeError):
        tf.constant([1, 2])[0].assign(3)


def test_count_up_to_stops_at_the_limit():
    v = tf.Variable(0)
    nxt = v.count_up_to(2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert [sess.run(nxt), sess.run(nxt)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(nxt)


# ----------------------------------------------------------------------------------------------------------
# A variable behaves like its value
# ----------------------------------------------------------------------------------------------------------
def test_operators_apply_to_the_value():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    m = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    exprs = {
        "add": (v + 1, m + 1), "radd": (1 + v, 1 + m), "sub": (v - 1, m - 1), "rsub": (10 - v, 10 - m),
        "mul": (v * 2, m * 2), "div": (v / 2, m / 2), "rdiv": (1 / v, 1 / m), "neg": (-v, -m),
        "pow": (v ** 2, m ** 2), "matmul": (v @ m, m @ m), "getitem": (v[1], m[1]), "abs": (abs(-v), m),
        "gt": (v > 2, m > 2),
    }
    with tf.Session() as sess:
        sess.run(v.initializer)
        for name, (t, expected) in exprs.items():
            np.testing.assert_allclose(sess.run(t), expected, err_msg=name)


def test_variables_convert_to_their_read_snapshot():
    v = tf.Variable([1.0])
    assert tf.convert_to_tensor(v) is v.value()
    assert tf.identity(v).op.inputs[0] is v.value()
    with pytest.raises(ValueError, match="Incompatible type conversion requested to type 'int32'"):
        tf.convert_to_tensor(v, dtype=tf.int32)


def test_variables_are_not_iterable():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(TypeError, match="not iterable"):
        iter(v)


def test_gradient_through_a_variable_matches_finite_differences():
    w0 = np.array([0.3, -0.7, 1.1], np.float64)
    v = tf.Variable(w0)
    loss = tf.reduce_sum(tf.sin(v) * v)
    (grad,) = tf.gradients(loss, [v])
    with tf.Session() as sess:
        sess.run(v.initializer)
        g = sess.run(grad)
    eps = 1e-6
    numeric = [(np.sum(np.sin(w0 + eps * e) * (w0 + eps * e)) - np.sum(np.sin(w0 - eps * e) * (w0 - eps * e)))
               / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(g, numeric, rtol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# Collections and initialization helpers
# ----------------------------------------------------------------------------------------------------------
def test_collections_follow_trainable_and_collections_arguments():
    a = tf.Variable(1.0)
    b = tf.Variable(1.0, trainable=False)
    c = tf.Variable(1.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    d = tf.Variable(1.0, collections=["mine"], trainable=True)
    assert tf.global_variables() == [a, b]
    assert tf.trainable_variables() == [a, c, d]
    assert tf.local_variables() == [c]
    assert tf.get_collection("mine") == [d]
    assert [v.trainable for v in (a, b, c, d)] == [True, False, True, True]


def test_collection_scope_filters_by_name():
    with tf.name_scope("enc"):
        a = tf.Variable(1.0)
    tf.Variable(1.0)
    assert tf.global_variables(scope="enc") == [a]


def test_variables_initializer_runs_only_the_given_initializers():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([a]))
        assert sess.run(a) == 1.0
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(b)
    empty = tf.variables_initializer([])
    assert empty.type == "NoOp"


def test_local_variables_initializer_initializes_local_variables():
    loc = tf.Variable(3.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(loc) == 3.0


def test_is_variable_initialized_reports_per_session():
    v = tf.Variable(1.0)
    init = tf.is_variable_initialized(v)
    with tf.Session() as sess:
        assert sess.run(init) == False  # noqa: E712 - a NumPy bool
        sess.run(v.initializer)
        assert sess.run(init) == True  # noqa: E712


def test_report_uninitialized_variables_names_them():
    a = tf.Variable(1.0, name="a")
    tf.Variable(1.0, name="b")
    report = tf.report_uninitialized_variables()
    with tf.Session() as sess:
        assert sess.run(report).tolist() == [b"a", b"b"]
        sess.run(a.initializer)
        assert sess.run(report).tolist() == [b"b"]
        sess.run(tf.global_variables_initializer())
        assert sess.run(report).tolist() == []


def test_report_uninitialized_variables_of_an_empty_graph_is_empty():
    with tf.Session() as sess:
        assert sess.run(tf.report_uninitialized_variables()).tolist() == []


def test_assert_variables_initialized_fails_until_initialized():
    v = tf.Variable([1.0, 2.0])
    check = tf.assert_variables_initialized()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(check)
        sess.run(v.initializer)
        sess.run(check)


def test_initialized_value_initializes_dependents_in_any_order():
    a = tf.Variable(2.0)
    b = tf.Variable(a.initialized_value() + 1.0)
    with tf.Session() as sess:
        sess.run(b.initializer)
        assert sess.run(b) == 3.0
        sess.run(a.assign(10.0))
        sess.run(b.initializer)
        assert sess.run(b) == 11.0


def test_a_variable_round_trips_through_its_variable_def():
    with tf.name_scope("model"):
        v = tf.Variable([1.0, 2.0], name="w", trainable=False)
    proto = v.to_proto()
    assert (proto.variable_name, proto.initializer_name, proto.snapshot_name, proto.initial_value_name) == (
        "model/w:0", "model/w/Assign", "model/w/read:0", "model/w/initial_value:0")
    assert not proto.trainable and not proto.is_resource
    relative = v.to_proto(export_scope="model")
    assert relative.variable_name == "w:0" and relative.initializer_name == "w/Assign"
    assert v.to_proto(export_scope="other") is None

    # Rebuilt over the same ops (also from the serialized bytes), it reads and initializes the same variable.
    for again in (tf.Variable(variable_def=proto), tf.Variable.from_proto(proto.SerializeToString())):
        assert again.name == "model/w:0" and again.op is v.op and not again.trainable
    again = tf.Variable.from_proto(relative, import_scope="model")
    with tf.Session() as sess:
        sess.run(again.initializer)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(again.value()), [1.0, 2.0])
    with pytest.raises(ValueError, match="mutually exclusive"):
        tf.Variable(1.0, variable_def=proto)
