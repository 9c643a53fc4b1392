"""tf.contrib.framework: arg scopes, model and plain variables, lookups by scope/name/suffix, variables to
restore, the global step helpers and assigning values or checkpoints to variables."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import tfmini as tf

framework = tf.contrib.framework


@framework.add_arg_scope
def _scoped(a, b=1, c=2):
    return a, b, c


def _names(variables) -> list[str]:
    return [v.name for v in variables]


# ----------------------------------------------------------------------------------------------------------
# arg_scope
# ----------------------------------------------------------------------------------------------------------
def test_arg_scope_nests_and_explicit_arguments_win():
    with framework.arg_scope([_scoped], b=10):
        assert _scoped(0) == (0, 10, 2)
        with framework.arg_scope([_scoped], c=20):
            assert _scoped(0) == (0, 10, 20)
            assert _scoped(0, b=5) == (0, 5, 20)
        assert _scoped(0) == (0, 10, 2)
    assert _scoped(0) == (0, 1, 2)


def test_a_yielded_arg_scope_can_be_entered_again_without_arguments():
    with framework.arg_scope([_scoped], c=7) as scope:
        pass
    with framework.arg_scope(scope):
        assert _scoped(1) == (1, 1, 7)
        assert framework.current_arg_scope() == scope
    with pytest.raises(ValueError, match="kwargs must be empty"):
        with framework.arg_scope(scope, b=3):
            pass


def test_arg_scope_refuses_undecorated_functions_and_non_lists():
    def plain(x, y=1):
        return x

    with pytest.raises(ValueError, match="is not decorated with @add_arg_scope"):
        with framework.arg_scope([plain], y=2):
            pass
    with pytest.raises(TypeError, match="list_ops_or_scope must either be a list/tuple"):
        with framework.arg_scope(_scoped, b=2):
            pass
    assert framework.current_arg_scope() == {}


def test_arg_scoped_arguments_lists_the_arguments_with_defaults():
    assert framework.arg_scoped_arguments(_scoped) == ("b", "c")
    with pytest.raises(AssertionError):
        framework.arg_scoped_arguments(np.sum)
    assert "activation_fn" in framework.arg_scoped_arguments(tf.contrib.layers.fully_connected)
    assert framework.has_arg_scope(tf.contrib.layers.batch_norm)
    assert not framework.has_arg_scope(np.sum)
    assert _scoped.__name__ == "_scoped"


# ----------------------------------------------------------------------------------------------------------
# Variables
# ----------------------------------------------------------------------------------------------------------
def test_model_variable_is_global_and_model_and_variable_is_global_only():
    with tf.variable_scope("net"):
        w = framework.model_variable("w", shape=[2], initializer=tf.ones_initializer())
        v = framework.variable("v", shape=[3], collections=["extra"])
    assert w.name == "net/w:0"
    assert _names(tf.model_variables()) == ["net/w:0"]
    assert _names(tf.global_variables()) == ["net/w:0"]
    assert tf.get_collection("extra") == [v]
    assert framework.get_model_variables() == [w]
    with framework.arg_scope([framework.model_variable], trainable=False):
        framework.model_variable("frozen", shape=[])
    assert "frozen:0" not in _names(tf.trainable_variables())


def test_get_variables_by_scope_suffix_and_name():
    with tf.variable_scope("a"):
        aw = tf.get_variable("weights", [1])
        ab = tf.get_variable("biases", [1])
    with tf.variable_scope("b"):
        bw = tf.get_variable("weights", [1])
        tf.get_variable("my_weights", [1])
    assert framework.get_variables("a") == [aw, ab]
    assert framework.get_variables(suffix="biases") == [ab]
    assert framework.get_variables_by_suffix("weights", scope="b") == _variables_named(["b/weights:0",
                                                                                         "b/my_weights:0"])
    assert framework.get_variables_by_name("weights") == [aw, bw]
    with tf.variable_scope("a", reuse=True) as scope:
        assert framework.get_variables(scope) == [aw, ab]
    assert framework.get_trainable_variables("b") == _variables_named(["b/weights:0", "b/my_weights:0"])


def _variables_named(names: list[str]) -> list:
    by_name = {v.name: v for v in tf.global_variables()}
    return [by_name[n] for n in names]


def test_get_unique_variable_needs_an_exact_op_name():
    with tf.variable_scope("a"):
        w = tf.get_variable("w", [1])
        tf.get_variable("w2", [1])
    assert framework.get_unique_variable("a/w") is w
    with pytest.raises(ValueError, match="Couldn't find variable"):
        framework.get_unique_variable("zzz")
    with pytest.raises(ValueError, match="does not uniquely identify"):
        framework.get_unique_variable("a")


def test_get_variables_to_restore_includes_and_excludes_scopes():
    for scope in ("enc", "dec", "head"):
        with tf.variable_scope(scope):
            tf.get_variable("w", [1])
    assert _names(framework.get_variables_to_restore(exclude=["head"])) == ["enc/w:0", "dec/w:0"]
    assert _names(framework.get_variables_to_restore(include=["dec", "head"], exclude=["dec"])) == ["head/w:0"]
    with pytest.raises(TypeError, match="include is provided but is not a list"):
        framework.get_variables_to_restore(include="enc")
    with pytest.raises(TypeError, match="exclude is provided but is not a list"):
        framework.get_variables_to_restore(exclude="enc")


def test_sort_argsort_and_sparse_conversion_are_tfs(sess):
    assert framework.sort is tf.sort and framework.argsort is tf.argsort
    assert framework.convert_to_tensor_or_sparse_tensor is tf.convert_to_tensor_or_sparse_tensor
    np.testing.assert_array_equal(sess.run(framework.sort([3, 1, 2])), [1, 2, 3])


def test_local_variable_and_filter_variables():
    counter = framework.local_variable(0, name="counter")
    assert framework.get_local_variables() == [counter]
    assert counter not in tf.trainable_variables() and counter not in tf.global_variables()
    with tf.variable_scope("conv"):
        a = tf.get_variable("weights", [1])
        b = tf.get_variable("biases", [1])
    assert framework.filter_variables([a, b], include_patterns=["weights"]) == [a]
    assert framework.filter_variables([a, b], exclude_patterns=["conv"]) == []
    assert framework.filter_variables([a, b], include_patterns=["conv"], reg_search=False) == [a, b]


# ----------------------------------------------------------------------------------------------------------
# Global step
# ----------------------------------------------------------------------------------------------------------
def test_global_step_helpers_create_and_find_the_global_step():
    assert framework.get_global_step() is None
    step = framework.get_or_create_global_step()
    assert step.name == "global_step:0" and step.dtype.base_dtype == tf.int64
    assert framework.get_global_step() is step
    assert framework.get_or_create_global_step() is step
    assert framework.assert_or_get_global_step() is step
    with pytest.raises(ValueError, match="already exists"):
        framework.create_global_step()
    with pytest.raises(TypeError, match="integer type"):
        framework.assert_global_step(tf.constant(1.0))


# ----------------------------------------------------------------------------------------------------------
# Assigning values and checkpoints
# ----------------------------------------------------------------------------------------------------------
def test_assign_from_values_assigns_through_placeholders(sess):
    with tf.variable_scope("m"):
        w = tf.get_variable("w", [2, 2])
        tf.get_variable("w_extra", [1])
    assign_op, feed = framework.assign_from_values({"m/w": np.arange(4.0)})
    assert [p.op.name for p in feed] == ["placeholder/m/w"]
    sess.run(tf.global_variables_initializer())
    sess.run(assign_op, feed)
    np.testing.assert_array_equal(sess.run(w), [[0, 1], [2, 3]])
    with pytest.raises(ValueError, match="wasn't found"):
        framework.assign_from_values({"nothing": np.zeros(1)})
    framework.assign_from_values_fn({"m/w_extra": np.ones(1)})(sess)
    assert sess.run("m/w_extra:0") == [1.0]


def _save_checkpoint(tmp_path) -> str:
    with tf.Graph().as_default():
        with tf.variable_scope("m"):
            tf.get_variable("w", initializer=np.array([1.0, 2.0], np.float32))
            tf.get_variable("b", initializer=np.array([3.0], np.float32))
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            return tf.train.Saver().save(s, str(tmp_path / "model.ckpt"))


def test_assign_from_checkpoint_and_its_fn_restore_variables(sess, tmp_path):
    path = _save_checkpoint(tmp_path)
    with tf.variable_scope("m"):
        w = tf.get_variable("w", [2])
        b = tf.get_variable("b", [1])
        missing = tf.get_variable("missing", [1])
    assign_op, feed = framework.assign_from_checkpoint(path, [w])
    sess.run(tf.global_variables_initializer())
    sess.run(assign_op, feed)
    np.testing.assert_array_equal(sess.run(w), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"Checkpoint is missing variable \[m/missing\]"):
        framework.assign_from_checkpoint(path, [missing])
    restore = framework.assign_from_checkpoint_fn(path, [b, missing], ignore_missing_vars=True)
    restore(sess)
    assert sess.run(b) == [3.0]
    assert framework.assign_from_checkpoint_fn(path, [missing], ignore_missing_vars=True) is None
    with pytest.raises(ValueError, match="var_list cannot be empty"):
        framework.assign_from_checkpoint_fn(path, [])
    assert dict(framework.list_variables(path)) == {"m/b": [1], "m/w": [2]}
    with tf.variable_scope("fresh"):
        fresh = tf.get_variable("w", [2])
    framework.init_from_checkpoint(path, {"m/w": fresh})
    sess.run(fresh.initializer)
    np.testing.assert_array_equal(sess.run(fresh), [1.0, 2.0])
    np.testing.assert_array_equal(framework.load_variable(path, "m/w"), [1.0, 2.0])


def test_slim_re_exports_layers_framework_and_the_contrib_modules():
    slim = tf.contrib.slim
    for name in ("conv2d", "fully_connected", "batch_norm", "arg_scope", "add_arg_scope", "model_variable",
                 "get_variables_to_restore", "assign_from_checkpoint_fn", "get_or_create_global_step",
                 "l2_regularizer", "xavier_initializer", "variance_scaling_initializer", "optimize_loss"):
        assert getattr(slim, name) is getattr(tf.contrib.layers, name, None) or \
            getattr(slim, name) is getattr(framework, name)
    assert slim.losses is tf.contrib.losses and slim.metrics is tf.contrib.metrics
    assert slim.layers is tf.contrib.layers
    assert slim.learning.create_train_op is not tf.contrib.training.create_train_op
    assert not hasattr(slim, "list_variables")  # a checkpoint utility slim does not re-export
    assert not hasattr(slim, "nest") and not hasattr(slim, "sort")
    with pytest.raises(AttributeError, match="docs/contrib.md"):
        slim.evaluation  # noqa: B018


# ----------------------------------------------------------------------------------------------------------
# nest
# ----------------------------------------------------------------------------------------------------------
_Pair = collections.namedtuple("_Pair", "first second")


def test_nest_flattens_dicts_in_sorted_key_order_and_packs_back():
    nest = framework.nest
    structure = {"b": [1, (2, 3)], "a": _Pair(4, "leaf")}
    assert nest.flatten(structure) == [4, "leaf", 1, 2, 3]
    assert nest.flatten("text") == ["text"] and not nest.is_sequence("text")
    packed = nest.pack_sequence_as(structure, [10, 20, 30, 40, 50])
    assert packed == {"a": _Pair(10, 20), "b": [30, (40, 50)]}
    with pytest.raises(ValueError, match="Structure had 5 elements, but flat_sequence had 2"):
        nest.pack_sequence_as(structure, [1, 2])


def test_nest_map_structure_over_several_structures_checks_that_they_match():
    nest = framework.nest
    assert nest.map_structure(lambda a, b: a * b, [1, (2, 3)], [4, (5, 6)]) == [4, (10, 18)]
    with pytest.raises(ValueError, match="same nested structure"):
        nest.map_structure(lambda a, b: a, [1, 2], [1, [2]])
    with pytest.raises(TypeError, match="same sequence type"):
        nest.map_structure(lambda a, b: a, [1, 2], (1, 2))
    assert nest.map_structure(lambda a, b: a, [1, 2], (1, 2), check_types=False) == [1, 2]
    with pytest.raises(ValueError, match="Only valid keyword argument is check_types"):
        nest.map_structure(lambda a: a, [1], other=True)


def test_nest_up_to_functions_stop_at_the_shallow_structure():
    nest = framework.nest
    assert nest.flatten_up_to([0, 0], [[1, 2], (3,)]) == [[1, 2], (3,)]
    assert nest.map_structure_up_to((0, {"k": 0}), len, ([1, 2], {"k": "abc"})) == (2, {"k": 3})
    with pytest.raises(ValueError, match="same sequence length"):
        nest.assert_shallow_structure([0, 0], [1, 2, 3])
    with pytest.raises(TypeError, match="input must also be a sequence"):
        nest.flatten_up_to([0], 5)
    assert nest.flatten_dict_items({(1, 2): ("a", "b"), 3: "c"}) == {1: "a", 2: "b", 3: "c"}
    with pytest.raises(ValueError, match="not unique"):
        nest.flatten_dict_items({(1, 2): ("a", "b"), 1: "c"})
    with pytest.raises(AttributeError, match="docs/contrib.md"):
        nest.yield_flat_paths  # noqa: B018
