"""tf.make_template: variables created on the first call and reused after, scope naming as in TensorFlow
(unique names, create_scope_now_, unique_name_, scopes entered at call time), custom getters, the guard against
new trainable variables after the first call, and where the template was made in its errors."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf


def variable_scoped_function():
    return tf.get_variable("dummy", shape=[1], initializer=tf.zeros_initializer())


def internally_variable_scoped_function(scope_name):
    with tf.variable_scope(scope_name):
        return tf.get_variable("dummy", shape=[1], initializer=tf.zeros_initializer())


def function_with_create(trainable):
    tf.Variable(0, trainable=trainable)
    return tf.get_variable("dummy", shape=[1], initializer=tf.zeros_initializer())


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def test_variables_are_created_once_and_shared_by_later_calls():
    tmpl1 = tf.make_template("s1", variable_scoped_function)
    tmpl2 = tf.make_template("s1", variable_scoped_function)
    v1, v2, v3 = tmpl1(), tmpl1(), tmpl2()
    assert v1 is v2 and v1 is not v3
    assert v1.name == "s1/dummy:0"
    assert v3.name == "s1_1/dummy:0"
    assert len(tf.global_variables()) == 2


def test_a_template_trains_shared_parameters_end_to_end():
    tf.set_random_seed(1234)

    def line(x):
        m = tf.get_variable("w", shape=[], initializer=tf.truncated_normal_initializer())
        b = tf.get_variable("b", shape=[], initializer=tf.truncated_normal_initializer())
        return x * m + b

    line_template = tf.make_template("line", line)
    train_loss = tf.reduce_mean(tf.square(line_template([1.0, 2.0, 3.0, 4.0]) - [2.8, 5.1, 7.2, 8.7]))
    test_loss = tf.reduce_mean(tf.square(line_template([5.0, 6.0, 7.0, 8.0]) - [11.0, 13.0, 15.0, 17.0]))
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(train_loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(test_loss)
        sess.run(train_op)
        assert sess.run(test_loss) < before
    assert [v.name for v in line_template.trainable_variables] == ["line/w:0", "line/b:0"]


def test_unique_name_is_used_exactly_and_a_second_template_with_it_fails():
    tmpl1 = tf.make_template("_", variable_scoped_function, unique_name_="s1")
    v1 = tmpl1()
    assert v1.name == "s1/dummy:0" and tmpl1() is v1
    tmpl2 = tf.make_template("_", variable_scoped_function, unique_name_="s1")
    with pytest.raises(ValueError, match="Variable s1/dummy already exists, disallowed"):
        tmpl2()


def test_unique_name_under_reuse_shares_the_variables():
    v1 = tf.make_template("_", variable_scoped_function, unique_name_="s1")()
    tf.get_variable_scope().reuse_variables()
    v3 = tf.make_template("_", variable_scoped_function, unique_name_="s1")()
    assert v1 is v3


def test_the_scope_is_taken_on_the_first_call_and_kept_after():
    tmpl1 = tf.make_template("s1", variable_scoped_function)
    tmpl2 = tf.make_template("s1", variable_scoped_function)
    with tf.variable_scope("scope"):
        v1 = tmpl1()
        v3 = tmpl2()
    with tf.variable_scope("scope2"):
        v2 = tmpl1()
    assert v1 is v2 and v1 is not v3
    assert v1.name == "scope/s1/dummy:0"
    assert v3.name == "scope/s1_1/dummy:0"


def test_internal_scopes_and_kwargs_are_kept():
    tmpl1 = tf.make_template("s1", internally_variable_scoped_function, scope_name="test")
    tmpl2 = tf.make_template("s1", internally_variable_scoped_function)
    v1, v2, v3 = tmpl1(), tmpl1(), tmpl2("test")
    assert v1 is v2 and v1 is not v3
    assert v1.name == "s1/test/dummy:0" and v3.name == "s1_1/test/dummy:0"
    with pytest.raises(ValueError):
        tmpl2("not_test")


def test_nested_templates_get_unique_scopes_inside_the_outer_one():
    def nested_template():
        v1 = tf.make_template("nested", variable_scoped_function)()
        v2 = tf.make_template("nested", variable_scoped_function)()
        assert v1 is not v2
        return v2

    tmpl1 = tf.make_template("s1", nested_template)
    tmpl2 = tf.make_template("s1", nested_template)
    v1, v3 = tmpl1(), tmpl2()
    assert v1.name == "s1/nested_1/dummy:0"
    assert v3.name == "s1_1/nested_1/dummy:0"


def test_create_scope_now_takes_the_scope_at_construction():
    with tf.variable_scope("ctor_scope"):
        immediate = tf.make_template("a", variable_scoped_function, True)
        deferred = tf.make_template("b", variable_scoped_function, False)
    with tf.variable_scope("call_scope"):
        inner_imm, inner_def = immediate(), deferred()
    assert immediate() is inner_imm and deferred() is inner_def
    assert inner_imm.name == "ctor_scope/a/dummy:0"
    assert inner_def.name == "call_scope/b/dummy:0"


def test_the_variable_scope_is_visible_before_the_first_call_only_with_create_scope_now():
    with tf.variable_scope("foo"):
        ta = tf.make_template("bar", variable_scoped_function, True)
        tb = tf.make_template("bar", variable_scoped_function, True)
    assert ta.variable_scope.name == "foo/bar"
    assert tb.variable_scope.name == "foo/bar_1"
    with tf.variable_scope("foo_2"):
        tc = tf.make_template("blah", variable_scoped_function, False)
    assert tc.variable_scope is None
    tc()
    assert tc.variable_scope.name == "blah"


def test_the_custom_getter_sees_every_get_variable():
    count = [0]

    def custom_getter(getter, name, *args, **kwargs):
        count[0] += 1
        return getter(name, *args, **kwargs)

    for create_now in (False, True):
        count[0] = 0
        tmpl = tf.make_template(f"s{int(create_now)}", variable_scoped_function, custom_getter_=custom_getter,
                                create_scope_now_=create_now)
        assert count[0] == 0
        tmpl()
        assert count[0] == 1
        tmpl()
        assert count[0] == 2


def test_a_trainable_tf_variable_after_the_first_call_is_refused_but_a_non_trainable_one_is_allowed():
    tmpl = tf.make_template("s", function_with_create, trainable=True)
    tmpl()
    with pytest.raises(ValueError, match="Trainable variable created when calling a template after the first"):
        tmpl()
    relaxed = tf.make_template("t", function_with_create, trainable=False)
    assert relaxed() is relaxed()


def test_a_template_needs_a_name_and_its_errors_say_where_it_was_made():
    with pytest.raises(ValueError, match="name cannot be None"):
        tf.make_template(None, variable_scoped_function)

    def bad(x):
        raise ValueError(f"bad input {x}")

    tmpl = tf.make_template("s", bad)
    with pytest.raises(ValueError, match="bad input 3") as info:
        tmpl(3)
    assert "originally defined at:" in str(info.value)
    assert "test_template.py" in str(info.value)


def test_template_variable_lists():
    def two_vars():
        tf.get_variable("w", shape=[2], initializer=tf.ones_initializer())
        tf.get_variable("n", shape=[], trainable=False, initializer=tf.zeros_initializer())
        return tf.get_local_variable("loc", shape=[], initializer=tf.zeros_initializer())

    tmpl = tf.make_template("m", two_vars)
    assert tmpl.variables == [] and tmpl.name == "m"
    tmpl()
    assert [v.name for v in tmpl.trainable_variables] == ["m/w:0"]
    assert [v.name for v in tmpl.non_trainable_variables] == ["m/n:0"]
    assert [v.name for v in tmpl.global_variables] == ["m/w:0", "m/n:0"]
    assert [v.name for v in tmpl.local_variables] == ["m/loc:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(tmpl.trainable_variables[0]), [1, 1])
