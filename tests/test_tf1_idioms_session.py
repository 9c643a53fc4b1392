"""Classic TF1 session and graph idioms (feeds and fetches, InteractiveSession and .eval(), default graphs,
variables as values, graph surgery), written as a TF1 user writes them and checked against TF 1.15's results
and error classes."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import tfmini as tf


# ----------------------------------------------------------------------------------------------------------
# Fetch structures
# ----------------------------------------------------------------------------------------------------------
def test_fetch_lists_tuples_dicts_namedtuples_and_ops(sess):
    a = tf.placeholder(tf.float32, [None, 2], name="a")
    b = tf.constant([[1.0, 2.0]])
    c = a + b
    feed = {a: [[0.0, 0.0]]}
    nested = sess.run([c, [c, {"k": c}]], feed)
    np.testing.assert_array_equal(nested[1][1]["k"], [[1.0, 2.0]])
    assert isinstance(sess.run((c, b), feed), tuple)
    Pair = collections.namedtuple("Pair", "x y")
    pair = sess.run(Pair(c, b), feed)
    assert type(pair) is Pair and pair.y.shape == (1, 2)
    ordered = sess.run(collections.OrderedDict([("z", b), ("a", c)]), feed)
    assert type(ordered) is collections.OrderedDict and list(ordered) == ["z", "a"]
    assert sess.run(c.op, feed) is None
    assert sess.run([c.op, c], feed)[0] is None
    assert sess.run([]) == [] and sess.run({}) == {}
    # names work as fetches and feed keys; "add" is an operation name, "add:0" its tensor
    np.testing.assert_array_equal(sess.run("add:0", {"a:0": [[1.0, 1.0]]}), [[2.0, 3.0]])
    assert sess.run("add", {"a:0": [[1.0, 1.0]]}) is None
    value = sess.run(c, feed)
    assert isinstance(value, np.ndarray) and value.dtype == np.float32
    scalar = sess.run(tf.reduce_sum(c), feed)
    assert type(scalar) is np.float32


def test_fetch_errors_match_tf(sess):
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    with pytest.raises(RuntimeError, match="The Session graph is empty."):
        sess.run(foreign)
    tf.constant(0.0)
    with pytest.raises(TypeError, match="Fetch argument None has invalid type <class 'NoneType'>"):
        sess.run(None)
    with pytest.raises(TypeError, match="Fetch argument 5 has invalid type <class 'int'>, must be a string or "
                                        "Tensor."):
        sess.run(5)
    with pytest.raises(ValueError, match="Fetch argument 'nope:0' cannot be interpreted as a Tensor."):
        sess.run("nope:0")
    with pytest.raises(ValueError, match="is not an element of this graph."):
        sess.run(foreign)
    with pytest.raises(ValueError, match="must be from the same graph"):
        tf.constant(2.0) + foreign


# ----------------------------------------------------------------------------------------------------------
# Feeds
# ----------------------------------------------------------------------------------------------------------
def test_feed_conversions_follow_numpy_and_tf(sess):
    a = tf.placeholder(tf.float32, shape=[2])
    b = tf.placeholder(tf.float32, shape=[2])
    np.testing.assert_array_equal(sess.run(a + b, {a: [1, 2], b: np.array([3, 4])}), [4.0, 6.0])
    np.testing.assert_array_equal(sess.run(a, {a: np.ones(2, np.float64)}), [1.0, 1.0])
    np.testing.assert_array_equal(sess.run(a, {a: [True, False]}), [1.0, 0.0])
    np.testing.assert_array_equal(sess.run(a, {a: [1, None]}), [1.0, np.nan])
    ints = tf.placeholder(tf.int32)
    assert sess.run(ints, {ints: 1.5}) == 1  # NumPy's cast, as in TF
    with pytest.raises(TypeError, match="Type of feed value 1099511627776 with type <class 'int'> is not "
                                        "compatible with Tensor type int32."):
        sess.run(ints, {ints: 2 ** 40})
    strings = tf.placeholder(tf.string)
    assert sess.run(strings, {strings: "hello"}) == b"hello"
    np.testing.assert_array_equal(sess.run(strings, {strings: ["a", b"b"]}), [b"a", b"b"])
    flags = tf.placeholder(tf.bool)
    np.testing.assert_array_equal(sess.run(flags, {flags: np.array([0, 2])}), [False, True])
    longs = tf.placeholder(tf.int64)
    assert sess.run(longs, {longs: [1, 2]}).dtype == np.int64
    # the same tensor fed twice (object and name): the last entry wins
    np.testing.assert_array_equal(sess.run(a, {a: [1, 2], a.name: [3, 4]}), [3.0, 4.0])


def test_fed_arrays_are_never_aliased_by_results(sess):
    a = tf.placeholder(tf.float32, [2])
    fed = np.array([1.0, 2.0], np.float32)
    out = sess.run(tf.identity(a), {a: fed})
    out[0] = 100.0
    np.testing.assert_array_equal(fed, [1.0, 2.0])
    assert sess.run(a, {a: fed}).flags.writeable


def test_feed_errors_match_tf(sess):
    a = tf.placeholder(tf.float32, [None, 2], name="a")
    c = a * 2
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"You must feed a value for placeholder tensor 'a' "
                                                             r"with dtype float and shape \[\?,2\]"):
        sess.run(c)
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(1, 3\) for Tensor 'a:0', which has shape "
                                         r"'\(\?, 2\)'"):
        sess.run(c, {a: [[1.0, 2.0, 3.0]]})
    with pytest.raises(ValueError, match="could not convert string to float"):
        sess.run(c, {a: "hi"})
    with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor object."):
        sess.run(c, {a: tf.constant([[1.0, 2.0]])})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor: The name 'nope:0' refers to a "
                                        "Tensor which does not exist."):
        sess.run(c, {"nope:0": 1})


def test_any_tensor_and_even_an_uninitialized_variable_can_be_fed(sess):
    w = tf.Variable([1.0, 2.0], name="w")
    y = w * 2
    b = tf.constant([[1.0, 2.0]])
    np.testing.assert_array_equal(sess.run(y, {w: [5.0, 5.0]}), [10.0, 10.0])
    np.testing.assert_array_equal(sess.run(b + 1, {b: [[5.0, 5.0]]}), [[6.0, 6.0]])
    np.testing.assert_array_equal(sess.run(y, {y: [3.0, 3.0]}), [3.0, 3.0])
    with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value w"):
        sess.run(y)


def test_make_callable_runs_like_run(sess):
    x = tf.placeholder(tf.float32)
    triple = sess.make_callable(x * 3, feed_list=[x])
    assert triple(2.0) == 6.0
    both = sess.make_callable([x * 3, x + 1], feed_list=[x])
    assert both(1.0) == [3.0, 2.0]


def test_sparse_input_idiom_and_to_dense_index_validation(sess):
    sp = tf.sparse_placeholder(tf.float32)
    w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    y = tf.sparse_tensor_dense_matmul(sp, w)
    value = tf.SparseTensorValue(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[2, 3])
    dense = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]], np.float32)
    np.testing.assert_array_equal(sess.run(y, {sp: value}), dense @ np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(sess.run(y, {sp: ([[0, 0], [1, 2]], [1.0, 2.0], [2, 3])}), sess.run(y, {sp: value}))
    np.testing.assert_array_equal(sess.run(tf.sparse_tensor_to_dense(sp), {sp: value}), dense)
    fetched = sess.run(tf.SparseTensor(indices=[[0, 1]], values=[5], dense_shape=[2, 2]))
    assert isinstance(fetched, tf.SparseTensorValue) and fetched.values.tolist() == [5]
    # densifying checks that indices are in bounds, in row-major order and distinct, as TF does
    unordered = tf.SparseTensor([[1, 0], [0, 1]], [1, 2], [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[0,1\] is out of order"):
        sess.run(tf.sparse_tensor_to_dense(unordered))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[0,1\] is repeated"):
        sess.run(tf.sparse_tensor_to_dense(tf.SparseTensor([[0, 1], [0, 1]], [1, 2], [2, 2])))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[2,1\] is out of bounds: need 0 <= "
                                                             r"index < \[2,2\]"):
        sess.run(tf.sparse_tensor_to_dense(tf.SparseTensor([[0, 0], [2, 1]], [1, 2], [2, 2])))
    np.testing.assert_array_equal(sess.run(tf.sparse_tensor_to_dense(unordered, validate_indices=False)),
                                  [[0, 2], [1, 0]])


# ----------------------------------------------------------------------------------------------------------
# InteractiveSession, .eval(), .run(), default sessions and graphs
# ----------------------------------------------------------------------------------------------------------
def test_interactive_session_eval_and_run():
    sess = tf.InteractiveSession()
    try:
        a = tf.constant([1.0, 2.0])
        w = tf.Variable(tf.ones([2]))
        tf.global_variables_initializer().run()
        np.testing.assert_array_equal((a * w).eval(), [1.0, 2.0])
        w.assign([3.0, 4.0]).op.run()
        np.testing.assert_array_equal(w.eval(), [3.0, 4.0])
        np.testing.assert_array_equal(w.initial_value.eval(), [1.0, 1.0])
        assert tf.get_default_session() is sess
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_eval_without_a_default_session_and_closed_sessions():
    v = tf.constant(3.0)
    with pytest.raises(ValueError, match=r"Cannot evaluate tensor using `eval\(\)`: No default session is "
                                         r"registered."):
        v.eval()
    sess = tf.Session()
    assert v.eval(session=sess) == 3.0
    with sess.as_default():
        assert v.eval() == 3.0 and tf.get_default_session() is sess
    sess.close()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(v)


def test_reset_default_graph_idioms():
    first = tf.get_default_graph()
    tf.constant(1.0)
    tf.reset_default_graph()
    assert tf.get_default_graph() is not first and tf.get_default_graph().get_operations() == []
    with tf.Graph().as_default():
        with pytest.raises(AssertionError, match="Do not use tf.reset_default_graph\\(\\) to clear nested graphs."):
            tf.reset_default_graph()
    with tf.Session() as sess:  # entering a session makes its graph the default one
        assert tf.get_default_graph() is sess.graph
        with pytest.raises(AssertionError, match="nested graphs"):
            tf.reset_default_graph()
    # an InteractiveSession does not nest its graph, so resetting works and leaves the session on the old graph
    sess = tf.InteractiveSession()
    old = tf.get_default_graph()
    c = tf.constant(2.0)
    tf.reset_default_graph()
    assert tf.get_default_graph() is not old and sess.graph is old
    assert c.eval() == 2.0
    sess.close()


def test_tf1_on_tf2_preamble_runs_unchanged():
    # The two lines TF1 code pasted into TF2-era notebooks starts with, then a graph-mode program.
    tf.compat.v1.disable_v2_behavior()
    tf.compat.v1.disable_eager_execution()
    assert tf.executing_eagerly() is False
    x = tf.compat.v1.placeholder(tf.float32, [2])
    with tf.compat.v1.Session() as sess:
        np.testing.assert_array_equal(sess.run(x * 2, {x: [1.0, 2.0]}), [2.0, 4.0])
    assert tf.get_default_graph().get_operations()  # still graph mode: the ops were recorded


def test_session_with_config_devices_and_graph_arguments():
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False)
    config.gpu_options.allow_growth = True
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):
            c = tf.constant([1.0, 2.0]) * 2
    with tf.Session(graph=graph, config=config) as sess:
        np.testing.assert_array_equal(sess.run(c), [2.0, 4.0])
        assert sess.graph is graph and tf.get_default_graph() is graph
        assert [d.name for d in sess.list_devices()] == ["/job:localhost/replica:0/task:0/device:CPU:0"]
        # TF's CPU device reports a 256 MiB memory limit
        assert [(d.device_type, d.memory_limit_bytes) for d in sess.list_devices()] == [("CPU", 268435456)]


def test_device_scopes_merge_and_print_as_tf_spells_them():
    with tf.device("/gpu:0"):
        a = tf.constant([1.0, 2.0]) * 2
    with tf.device("/job:ps/task:1"):
        with tf.device("/cpu:0"):
            w = tf.Variable(1.0, name="w")
        inherited = tf.constant(1.0)
        with tf.device("/job:worker"):
            overridden = tf.constant(1.0)
        with tf.device(None):
            cleared = tf.constant(1.0)
    with tf.device(lambda op: "/cpu:0" if op.type == "VariableV2" else ""):
        placed = tf.Variable(2.0)
        unplaced = placed + 1
    assert a.device == "/device:GPU:0"
    assert str(a) == 'Tensor("mul:0", shape=(2,), dtype=float32, device=/device:GPU:0)'
    assert w.device == "/job:ps/task:1/device:CPU:0" and w.op.node_def.device == w.device
    assert (inherited.device, overridden.device, cleared.device) == ("/job:ps/task:1", "/job:worker/task:1", "")
    assert (placed.device, unplaced.device) == ("/cpu:0", "")
    with pytest.raises(ValueError, match="Unknown attribute: 'foo' in '/foo:0'"):
        tf.device("/foo:0").__enter__()
    with tf.Session() as sess:  # placement is recorded only: everything runs on the one CPU device
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(a), [2.0, 4.0])


# ----------------------------------------------------------------------------------------------------------
# Variables as values
# ----------------------------------------------------------------------------------------------------------
def test_variable_value_idioms(sess):
    w = tf.Variable(tf.constant([[1.0, 2.0], [3.0, 4.0]]), name="w")
    w2 = tf.Variable(w.initialized_value() * 2, name="w2")
    sess.run(tf.global_variables_initializer())
    np.testing.assert_array_equal(sess.run(w2), [[2.0, 4.0], [6.0, 8.0]])
    assert (repr(w), w.op.name, w.value().name, w.initializer.name) == (
        "<tf.Variable 'w:0' shape=(2, 2) dtype=float32_ref>", "w", "w/read:0", "w/Assign")
    w.load(np.ones((2, 2)), sess)
    np.testing.assert_array_equal(sess.run(w), np.ones((2, 2)))
    np.testing.assert_array_equal(sess.run(w[0].assign([5.0, 5.0])), [[5.0, 5.0], [1.0, 1.0]])
    np.testing.assert_array_equal(sess.run(w[:, 1].assign([7.0, 7.0])), [[5.0, 7.0], [1.0, 7.0]])
    np.testing.assert_array_equal(sess.run(tf.scatter_update(w, [0], [[9.0, 9.0]])), [[9.0, 9.0], [1.0, 7.0]])
    np.testing.assert_array_equal(sess.run(tf.scatter_add(w, [1, 1], [[1.0, 1.0], [1.0, 1.0]])),
                                  [[9.0, 9.0], [3.0, 9.0]])
    assert isinstance(w + 1, tf.Tensor) and (w @ w).shape.as_list() == [2, 2]
    assert w == w and bool(w)  # graph-mode Variables compare by identity and are truthy
    with pytest.raises(TypeError, match="object is not iterable"):
        iter(w)


def test_counter_with_assign_and_assign_add(sess):
    state = tf.Variable(0, name="counter")
    new_value = tf.add(state, tf.constant(1))
    update = tf.assign(state, new_value)
    sess.run(tf.global_variables_initializer())
    assert [sess.run(update) for _ in range(3)] == [1, 2, 3]
    assert sess.run(state.assign_add(10)) == 13
    assert sess.run(state.assign_sub(3)) == 10


def test_variable_errors_match_tf(sess):
    w = tf.Variable([[1.0, 2.0]], name="w")
    c = tf.Variable(5, name="c")
    with pytest.raises(ValueError, match="initial_value must be specified."):
        tf.Variable()
    with pytest.raises(ValueError, match=r"Dimension 0 in both shapes must be equal, but are 1 and 3"):
        tf.assign(w, tf.zeros([3, 2]))
    with pytest.raises(TypeError, match="Input 'value' of 'Assign' Op has type int32 that does not match type "
                                        "float32 of argument 'ref'."):
        tf.assign(w, tf.zeros([1, 2], tf.int32))
    with pytest.raises(TypeError, match="Expected int32"):
        tf.assign(c, 7.5)
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'assign'"):
        tf.assign(tf.constant(1.0), 2.0)
    sess.run(w.initializer)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 5 is not in \[0, 1\)"):
        sess.run(tf.scatter_update(w, [5], [[9.0, 9.0]]))
    assert sess.run(tf.assign(w, tf.zeros([3]), validate_shape=False)).shape == (3,)


# ----------------------------------------------------------------------------------------------------------
# Tensors and Python
# ----------------------------------------------------------------------------------------------------------
def test_tensor_python_protocol_errors_match_tf():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="Tensor objects are only iterable when eager execution is enabled."):
        iter(x)
    with pytest.raises(TypeError, match=r"len is not well defined for symbolic Tensors. \(Const:0\)"):
        len(x)
    with pytest.raises(TypeError, match="Using a `tf.Tensor` as a Python `bool` is not allowed."):
        bool(x)
    assert x == x and x != tf.identity(x) and {x: 1}[x] == 1  # TF1 tensors hash and compare by identity
    with pytest.raises(TypeError, match="Expected int32, got 2.5 of type 'float' instead."):
        tf.constant([1, 2]) * 2.5
    with pytest.raises(TypeError, match="Input 'y' of 'Add' Op has type int32 that does not match type float32"):
        tf.constant([1.0, 2.0]) + tf.constant([1, 2])
    with pytest.raises(ValueError, match="None values not supported."):
        tf.convert_to_tensor(None)


def test_python_operators_follow_tf_semantics(sess):
    i = tf.constant([7, -7])
    assert sess.run(tf.constant([1, 2]) / tf.constant([2, 4])).dtype == np.float64  # int truediv -> float64
    np.testing.assert_array_equal(sess.run(i // 2), [3, -4])
    np.testing.assert_array_equal(sess.run(i % 3), [1, 2])
    np.testing.assert_array_equal(sess.run(tf.div(i, 2)), [3, -4])  # tf.div floors on integers
    np.testing.assert_array_equal(sess.run(tf.truncatemod(-7.0, 3.0)), -1.0)
    np.testing.assert_array_equal(sess.run(tf.round([0.5, 1.5, 2.5, -0.5])), [0.0, 2.0, 2.0, -0.0])
    np.testing.assert_array_equal(sess.run(tf.constant([1], tf.int64) + np.array([2], np.int32)), [3])
    assert sess.run(tf.constant(3) ** 2) == 9
    np.testing.assert_array_equal(sess.run(~tf.constant([True, False])), [False, True])
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(sess.run(x[:, 1]), [1.0, 4.0])
    np.testing.assert_array_equal(sess.run(x[::-1, ::2]), [[3.0, 5.0], [0.0, 2.0]])
    assert x[..., tf.newaxis].shape.as_list() == [2, 3, 1]
    with pytest.raises(ValueError, match="slice index 5 of dimension 0 out of bounds."):
        x[5]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
        sess.run(i // 0)


def test_constant_fill_rules_match_tf1(sess):
    # TF1 pads a too-short value list with its last element and broadcasts a scalar
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3], shape=[2, 2])), [[1, 2], [3, 3]])
    np.testing.assert_array_equal(sess.run(tf.constant(0, shape=[2, 2])), np.zeros((2, 2)))
    assert tf.constant([1, 2.5]).dtype == tf.float32
    assert tf.constant(2 ** 40).dtype == tf.int64
    with pytest.raises(TypeError, match="Expected int32, got 1.5 of type 'float' instead."):
        tf.constant(1.5, dtype=tf.int32)


# ----------------------------------------------------------------------------------------------------------
# Graphs: lookups, finalize, control dependencies, name scopes, import_graph_def
# ----------------------------------------------------------------------------------------------------------
def test_graph_lookup_idioms():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="input")
        w = tf.Variable([[1.0], [2.0]], name="w")
        y = tf.matmul(x, w, name="output")
        tf.global_variables_initializer()
    assert [op.name for op in g.get_operations()] == ["input", "w/initial_value", "w", "w/Assign", "w/read",
                                                      "output", "init"]
    assert g.get_tensor_by_name("output:0") is y
    assert g.get_operation_by_name("output") is y.op and g.as_graph_element("output") is y.op
    with pytest.raises(ValueError, match="The name 'output' refers to an Operation, not a Tensor."):
        g.get_tensor_by_name("output")
    with pytest.raises(ValueError, match="Name 'output:0' appears to refer to a Tensor, not a Operation."):
        g.get_operation_by_name("output:0")
    with pytest.raises(KeyError, match="The name 'nope:0' refers to a Tensor which does not exist."):
        g.get_tensor_by_name("nope:0")
    assert g.unique_name("output") == "output_1"
    g.finalize()
    with g.as_default():
        with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified."):
            tf.constant(1)


def test_printing_an_operation_shows_its_node_def_with_sorted_attrs():
    m = tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]), transpose_b=True, name="product")
    assert str(m.op) == (
        'name: "product"\nop: "MatMul"\ninput: "ones"\ninput: "ones_1"\n'
        'attr {\n  key: "T"\n  value {\n    type: DT_FLOAT\n  }\n}\n'
        'attr {\n  key: "transpose_a"\n  value {\n    b: false\n  }\n}\n'
        'attr {\n  key: "transpose_b"\n  value {\n    b: true\n  }\n}\n')
    assert repr(m.op) == "<tf.Operation 'product' type=MatMul>"


def test_name_scope_and_control_dependency_idioms():
    a = tf.constant(1.0)
    with tf.control_dependencies([a]):
        b = tf.constant(2.0)
        with tf.control_dependencies(None):
            c = tf.constant(3.0)
    assert b.op.control_inputs == [a.op] and c.op.control_inputs == []
    with tf.name_scope("outer") as scope:
        assert scope == "outer/"
        with tf.name_scope(scope):
            d = tf.constant(1.0, name="d")
        with tf.name_scope(None):
            f = tf.constant(1.0, name="f")
    assert (d.name, f.name) == ("outer/d:0", "f:0")
    assert tf.constant(1, name="Const_1").name == "Const_1_1:0"
    with pytest.raises(ValueError, match="'bad name!' is not a valid"):
        tf.constant(1, name="bad name!")


def test_import_graph_def_with_input_map_and_return_elements(sess):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="input")
        w = tf.Variable([[1.0], [2.0]], name="w")
        tf.matmul(x, w, name="output")
    new_x = tf.placeholder(tf.float32, [None, 2], name="new_x")
    out, = tf.import_graph_def(g.as_graph_def(), input_map={"input:0": new_x, "w/read:0": tf.constant([[3.0], [4.0]])},
                               return_elements=["output:0"], name="imported")
    assert out.name == "imported/output:0"
    np.testing.assert_array_equal(sess.run(out, {new_x: [[1.0, 1.0]]}), [[7.0]])
    with pytest.raises(ValueError):
        tf.import_graph_def(g.as_graph_def(), return_elements=["nope:0"])
    # a mistyped input_map key is an error, not a silent no-op
    with pytest.raises(ValueError, match=r"Attempted to map inputs that were not found in graph_def: "
                                         r"\[inptu:0, w/read:1\]"):
        tf.import_graph_def(g.as_graph_def(), input_map={"inptu": new_x, "input:0": new_x, "w/read:1": new_x})


def test_runtime_errors_are_op_errors_naming_the_op(sess):
    a, b = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    m = tf.matmul(a, b)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Matrix size-incompatible: In\[0\]: \[2, ?3\], "
                                                             r"In\[1\]: \[2, ?3\]") as info:
        sess.run(m, {a: np.ones((2, 3)), b: np.ones((2, 3))})
    assert info.value.op is m.op and info.value.node_def.name == "MatMul"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape is a tensor with 6 values, but the "
                                                             "requested shape has 16"):
        sess.run(tf.reshape(a, [4, 4]), {a: np.ones((2, 3))})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        sess.run(a + b, {a: np.ones((2, 3)), b: np.ones((2, 2))})
    # the session stays usable after an error
    assert sess.run(a + b, {a: 1.0, b: 2.0}) == 3.0
