"""tf.variable_scope and tf.get_variable: naming, sharing rules (reuse, AUTO_REUSE), scope defaults,
name-scope interplay and TF's errors."""

import numpy as np
import pytest

import tfmini as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _values(*variables):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(variables))


# ----------------------------------------------------------------------------------------------------------
# Naming
# ----------------------------------------------------------------------------------------------------------
def test_get_variable_names_by_variable_scope():
    with tf.variable_scope("foo"):
        with tf.variable_scope("bar"):
            v = tf.get_variable("v", [1])
    assert v.name == "foo/bar/v:0"
    assert v in tf.global_variables() and v in tf.trainable_variables()


def test_name_scope_does_not_prefix_variables_but_prefixes_ops():
    with tf.name_scope("ns"):
        with tf.variable_scope("vs"):
            v = tf.get_variable("v", [1])
            x = 1.0 + v
    assert v.name == "vs/v:0"
    assert x.op.name == "ns/vs/add"


def test_variable_scope_opens_a_name_scope_of_the_same_name():
    with tf.variable_scope("foo") as scope:
        c = tf.constant(1.0, name="c")
    assert c.name == "foo/c:0"
    assert scope.name == "foo" and scope.original_name_scope == "foo/"


def test_reentering_a_scope_by_name_opens_a_fresh_name_scope():
    with tf.variable_scope("foo"):
        pass
    with tf.variable_scope("foo", reuse=tf.AUTO_REUSE) as scope:
        c = tf.constant(1.0, name="c")
    assert c.name == "foo_1/c:0" and scope.name == "foo"


def test_reentering_a_scope_object_keeps_its_variable_names():
    with tf.variable_scope("outer") as outer:
        pass
    with tf.variable_scope("other"):
        with tf.variable_scope(outer):
            v = tf.get_variable("v", [1])
            assert tf.get_variable_scope().name == "outer"
    assert v.name == "outer/v:0"


def test_default_names_are_made_unique():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="layer"):
            names.append(tf.get_variable("w", [1]).name)
    assert names == ["layer/w:0", "layer_1/w:0", "layer_2/w:0"]


def test_default_name_counts_restart_inside_each_parent_scope():
    names = []
    for outer in ("a", "b"):
        with tf.variable_scope(outer):
            with tf.variable_scope(None, default_name="dense"):
                names.append(tf.get_variable("k", [1]).name)
    assert names == ["a/dense/k:0", "b/dense/k:0"]


def test_auxiliary_name_scope_false_keeps_the_current_name_scope():
    with tf.variable_scope("a", auxiliary_name_scope=False) as scope:
        c = tf.constant(1.0, name="c")
        v = tf.get_variable("v", [1])
    assert c.name == "c:0" and v.name == "a/v:0" and scope.original_name_scope == ""


# ----------------------------------------------------------------------------------------------------------
# Sharing
# ----------------------------------------------------------------------------------------------------------
def test_reuse_true_returns_the_existing_variable():
    with tf.variable_scope("s"):
        v = tf.get_variable("v", [2])
    with tf.variable_scope("s", reuse=True):
        again = tf.get_variable("v", [2])
        unshaped = tf.get_variable("v")
    assert again is v and unshaped is v


def test_creating_twice_without_reuse_is_a_value_error_naming_the_creation_site():
    with tf.variable_scope("s"):
        tf.get_variable("v", [2])
    with pytest.raises(ValueError, match=r"Variable s/v already exists, disallowed\. Did you mean to set reuse=True "
                                         r"or reuse=tf\.AUTO_REUSE in VarScope\? Originally defined at:") as info:
        with tf.variable_scope("s"):
            tf.get_variable("v", [2])
    assert "test_variable_scope.py" in str(info.value)


def test_reusing_a_missing_variable_is_a_value_error():
    with pytest.raises(ValueError, match=r"Variable s/w does not exist, or was not created with tf\.get_variable\(\)"):
        with tf.variable_scope("s", reuse=True):
            tf.get_variable("w", [1])


def test_a_tf_variable_is_not_found_by_get_variable():
    with tf.variable_scope("s"):
        tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="does not exist, or was not created with tf.get_variable"):
        with tf.variable_scope("s", reuse=True):
            tf.get_variable("v", [])


def test_auto_reuse_creates_then_shares():
    def layer():
        with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [3])

    assert layer() is layer()
    assert len(tf.global_variables()) == 1


def test_reuse_is_inherited_by_nested_scopes_and_false_means_inherit():
    with tf.variable_scope("a"):
        with tf.variable_scope("b"):
            v = tf.get_variable("v", [1])
    with tf.variable_scope("a", reuse=True) as scope:
        with tf.variable_scope("b", reuse=False) as inner:
            assert tf.get_variable("v", [1]) is v
            assert inner.reuse is True
    assert scope.reuse is True


def test_reuse_variables_switches_the_current_scope_to_reuse():
    with tf.variable_scope("net") as scope:
        v = tf.get_variable("w", [1])
        scope.reuse_variables()
        assert tf.get_variable("w", [1]) is v
    assert tf.get_variable_scope().reuse is False


def test_sharing_with_a_different_shape_or_dtype_is_a_value_error():
    with tf.variable_scope("s"):
        tf.get_variable("v", [2])
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError, match=r"Trying to share variable s/v, but specified shape \(3,\) and found "
                                             r"shape \(2,\)"):
            tf.get_variable("v", [3])
        with pytest.raises(ValueError, match="Trying to share variable s/v, but specified dtype int32"):
            tf.get_variable("v", [2], dtype=tf.int32)


def test_reuse_argument_errors():
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    with pytest.raises(ValueError, match="The reuse parameter must be True or False or None"):
        tf.variable_scope("x", reuse="yes")
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is required"):
        tf.variable_scope(None)
    with pytest.raises(TypeError, match="name_or_scope must be a string or VariableScope"):
        with tf.variable_scope(3):
            pass


def test_each_graph_has_its_own_variable_store():
    with tf.variable_scope("s"):
        v = tf.get_variable("v", [1])
    with tf.Graph().as_default():
        with tf.variable_scope("s"):
            w = tf.get_variable("v", [1])
        assert tf.get_variable_scope().name == ""
    assert v is not w and v.graph is not w.graph


def test_scopes_are_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with tf.variable_scope("boom"):
            raise RuntimeError("x")
    assert tf.get_variable_scope().name == ""
    assert tf.constant(1.0, name="c").name == "c:0"


# ----------------------------------------------------------------------------------------------------------
# Initializers, dtypes, collections, regularizers
# ----------------------------------------------------------------------------------------------------------
def test_default_initializers_glorot_uniform_for_floats_and_zeros_for_ints():
    w = tf.get_variable("w", [200, 100])
    n = tf.get_variable("n", [3], dtype=tf.int32)
    b = tf.get_variable("b", [2], dtype=tf.bool)
    wv, nv, bv = _values(w, n, b)
    limit = np.float32(np.sqrt(6.0 / 300))  # a float32 draw may round to the float32 limit itself
    assert np.abs(wv).max() <= limit and wv.std() > 0.5 * limit / np.sqrt(3)
    assert nv.tolist() == [0, 0, 0] and bv.tolist() == [False, False]


def test_a_dtype_without_default_initializer_is_a_value_error():
    with pytest.raises(ValueError, match="An initializer for variable c of"):
        tf.get_variable("c", [1], dtype=tf.complex64)


def test_initializer_argument_and_scope_initializer():
    with tf.variable_scope("s", initializer=tf.constant_initializer(3.0)):
        a = tf.get_variable("a", [2])
        b = tf.get_variable("b", [2], initializer=tf.ones_initializer())
        with tf.variable_scope("inner"):
            c = tf.get_variable("c", [1])
    assert [x.tolist() for x in _values(a, b, c)] == [[3.0, 3.0], [1.0, 1.0], [3.0]]


def test_initializer_class_is_instantiated():
    v = tf.get_variable("v", [2], initializer=tf.zeros_initializer)
    assert _values(v)[0].tolist() == [0.0, 0.0]


def test_tensor_initializer_gives_shape_and_dtype():
    v = tf.get_variable("v", initializer=tf.constant([[1, 2], [3, 4]]))
    assert v.shape.as_list() == [2, 2] and v.dtype.base_dtype == tf.int32
    assert _values(v)[0].tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
        tf.get_variable("u", [2], initializer=tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="Initializer type .* and explicit dtype .* don't match"):
        tf.get_variable("x", dtype=tf.float32, initializer=tf.constant([1, 2]))


def test_initializer_for_an_unknown_shape_must_take_no_arguments():
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        tf.get_variable("v", [None, 2], initializer=tf.zeros_initializer())
    v = tf.get_variable("w", initializer=lambda: tf.ones([3]), dtype=tf.float32)
    assert _values(v)[0].tolist() == [1.0, 1.0, 1.0]


def test_scope_dtype_is_the_default_dtype():
    with tf.variable_scope("s", dtype=tf.float64):
        v = tf.get_variable("v", [2])
    assert v.dtype.base_dtype == tf.float64 and _values(v)[0].dtype == np.float64


def test_trainable_and_collections_arguments():
    a = tf.get_variable("a", [1], trainable=False)
    b = tf.get_variable("b", [1], collections=["custom"])
    loc = tf.get_local_variable("loc", [1])
    assert a not in tf.trainable_variables() and a in tf.global_variables()
    assert tf.get_collection("custom") == [b] and b in tf.trainable_variables() and b not in tf.global_variables()
    assert tf.local_variables() == [loc] and loc not in tf.trainable_variables()


def test_regularizer_losses_are_collected_under_the_variable_name():
    with tf.variable_scope("s", regularizer=lambda w: tf.reduce_sum(w) * 0.5):
        v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
        tf.get_variable("u", [2], regularizer=tf.no_regularizer)
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1 and losses[0].op.name.startswith("s/v/Regularizer/")
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(losses[0]) == 1.0


def test_custom_getter_wraps_creation():
    seen = []

    def getter(getter, name, *args, **kwargs):
        seen.append(name)
        kwargs["trainable"] = False
        return getter(name, *args, **kwargs)

    with tf.variable_scope("s", custom_getter=getter):
        v = tf.get_variable("v", [1])
    assert seen == ["s/v"] and not v.trainable


def test_nested_custom_getters_compose_outer_inside_inner():
    calls = []

    def make(tag):
        def getter(getter, name, *args, **kwargs):
            calls.append(tag)
            return getter(name, *args, **kwargs)
        return getter

    with tf.variable_scope("a", custom_getter=make("outer")):
        with tf.variable_scope("b", custom_getter=make("inner")):
            tf.get_variable("v", [1])
    assert calls == ["inner", "outer"]


def test_variable_scope_collection_helpers():
    with tf.variable_scope("enc") as scope:
        a = tf.get_variable("a", [1])
        b = tf.get_variable("b", [1], trainable=False)
    tf.get_variable("other", [1])
    assert scope.global_variables() == [a, b]
    assert scope.trainable_variables() == [a]
