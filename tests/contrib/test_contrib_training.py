"""tf.contrib.training.HParams and parse_values: types fixed by the first value, TF 1.15's parsing and casting
rules, JSON round trips and the errors TF raises."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tfmini as tf

HParams = tf.contrib.training.HParams


def _hparams() -> HParams:
    return HParams(learning_rate=0.1, num_layers=2, use_bn=True, name="net", sizes=[64, 32])


def test_values_are_attributes_and_values_returns_them():
    hp = _hparams()
    assert hp.learning_rate == 0.1 and hp.num_layers == 2 and hp.sizes == [64, 32]
    assert hp.values() == {"learning_rate": 0.1, "num_layers": 2, "use_bn": True, "name": "net", "sizes": [64, 32]}
    assert "use_bn" in hp and "missing" not in hp
    assert str(hp) == str(sorted(hp.values().items()))
    assert repr(hp).startswith("HParams([")


def test_parse_overrides_with_each_hyperparameters_type():
    hp = _hparams().parse("learning_rate=1,num_layers=5, use_bn=false,name=deep,sizes=[8, 16,4]")
    assert hp.learning_rate == 1.0 and isinstance(hp.learning_rate, float)
    assert hp.num_layers == 5 and hp.use_bn is False and hp.name == "deep" and hp.sizes == [8, 16, 4]
    assert _hparams().parse("use_bn=0").use_bn is False
    assert _hparams().parse("").values() == _hparams().values()


@pytest.mark.parametrize("text, message", [
    ("num_layers=1.5", "Could not parse hparam 'num_layers' of type 'int' with value '1.5'"),
    ("use_bn=maybe", "Could not parse hparam 'use_bn' of type 'bool'"),
    ("depth=3", "Unknown hyperparameter type for depth"),
    ("num_layers=1,num_layers=2", "Multiple assignments to variable 'num_layers'"),
    ("sizes[0]=[1]", "Assignment of a list to a list index"),
    ("=3", "Malformed hyperparameter value"),
    ("num_layers=[1,2]", "Must not pass a list for single-valued parameter: num_layers"),
    ("sizes=3", "Must pass a list for multi-valued parameter: sizes"),
])
def test_parse_refuses_what_tf_refuses(text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(".", r"\.")):
        _hparams().parse(text)


def test_parse_values_keeps_indexed_assignments_as_dicts_and_can_ignore_unknown_names():
    parsed = tf.contrib.training.parse_values("a[1]=2,a[3]=4,b=x", {"a": int, "b": str})
    assert parsed == {"a": {1: 2, 3: 4}, "b": "x"}
    assert tf.contrib.training.parse_values("c=1,b=y", {"b": str}, ignore_unknown=True) == {"b": "y"}


def test_set_hparam_casts_like_tf_and_refuses_lossy_or_cross_kind_casts():
    hp = _hparams()
    hp.set_hparam("learning_rate", 3)
    assert hp.learning_rate == 3.0 and isinstance(hp.learning_rate, float)
    for name, value in (("num_layers", 2.5), ("use_bn", 1), ("learning_rate", True), ("name", 3),
                        ("num_layers", "3")):
        with pytest.raises(ValueError, match=f"Could not cast hparam '{name}'"):
            hp.set_hparam(name, value)
    with pytest.raises(KeyError):
        hp.set_hparam("unknown", 1)


def test_add_and_del_hparam():
    hp = HParams(a=1)
    hp.add_hparam("b", [1.0])
    assert hp.b == [1.0]
    with pytest.raises(ValueError, match="Hyperparameter name is reserved: b"):
        hp.add_hparam("b", 2)
    with pytest.raises(ValueError, match="Hyperparameter name is reserved: parse"):
        hp.add_hparam("parse", 2)
    with pytest.raises(ValueError, match="Multi-valued hyperparameters cannot be empty: c"):
        hp.add_hparam("c", [])
    hp.del_hparam("b")
    hp.del_hparam("never")
    assert hp.values() == {"a": 1} and not hasattr(hp, "b")


def test_json_round_trip_and_override_from_dict():
    hp = _hparams()
    hp.add_hparam("callback", print)
    text = hp.to_json(sort_keys=True)
    assert "callback" not in json.loads(text)
    other = _hparams().parse_json(json.dumps({"num_layers": 7, "sizes": [1]}))
    assert other.num_layers == 7 and other.sizes == [1]
    assert _hparams().override_from_dict({"name": "x"}).name == "x"
    assert _hparams().to_json(indent=2).startswith("{\n  ")


def test_get_returns_the_value_or_the_default_and_checks_the_defaults_type():
    hp = _hparams()
    assert hp.get("num_layers") == 2
    assert hp.get("num_layers", 5) == 2
    assert hp.get("missing", "fallback") == "fallback"
    with pytest.raises(ValueError, match="Hparam 'num_layers' of type '<class 'int'>' is incompatible"):
        hp.get("num_layers", 1.5)
    with pytest.raises(ValueError, match="is incompatible with default"):
        hp.get("sizes", 3)


def test_model_structure_is_kept_and_hparam_def_protos_are_refused():
    hp = HParams(model_structure={"layers": 3}, a=1)
    assert hp.get_model_structure() == {"layers": 3}
    hp.set_model_structure("other")
    assert hp.get_model_structure() == "other"
    with pytest.raises(ValueError, match="HParamDef"):
        HParams(hparam_def=object())


# ----------------------------------------------------------------------------------------------------------
# create_train_op, train and slim.learning
# ----------------------------------------------------------------------------------------------------------
def _linear_problem():
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2) / 10)
    y = tf.constant(np.array([[1.0], [2.0], [0.5], [1.5], [3.0], [2.5]], np.float32))
    w = tf.Variable(np.zeros((2, 1), np.float32), name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    return loss, w, b


def test_create_train_op_steps_the_optimizer_after_the_update_ops_and_returns_the_loss(sess):
    loss, w, b = _linear_problem()
    counter = tf.Variable(0.0, trainable=False)
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign_add(counter, 1.0))
    train_op = tf.contrib.training.create_train_op(loss, tf.train.GradientDescentOptimizer(0.1),
                                                   variables_to_train=[w], summarize_gradients=True)
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP)[-1] is train_op
    assert {s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)} == {
        "summarize_grads/w_gradient", "summarize_grads/w_gradient_norm"}
    sess.run(tf.global_variables_initializer())
    first = sess.run(train_op)
    losses = [sess.run(train_op) for _ in range(10)]
    assert losses[-1] < first
    assert sess.run(counter) == 11.0 and sess.run(tf.train.get_global_step()) == 11
    assert sess.run(b) == 0.0  # not in variables_to_train


def test_create_train_op_checks_the_loss_for_nan(sess):
    v = tf.Variable(1.0)
    train_op = tf.contrib.training.create_train_op(tf.log(v - 1.0) * 0.0 / 0.0,
                                                   tf.train.GradientDescentOptimizer(0.1))
    sess.run(tf.global_variables_initializer())
    with pytest.raises(tf.errors.InvalidArgumentError, match="LossTensor is inf or nan"):
        sess.run(train_op)
    with pytest.raises(ValueError, match="not trainable"):
        tf.contrib.training.create_train_op(tf.reduce_sum(v), tf.train.GradientDescentOptimizer(0.1),
                                            variables_to_train=[tf.Variable(1.0, trainable=False)])


def test_gradient_clipping_and_multipliers(sess):
    a = tf.Variable([3.0, 4.0], name="a")
    b = tf.Variable([1.0], name="b")
    grads = [(tf.constant([3.0, 4.0]), a), (tf.constant([1.0]), b)]
    clipped = tf.contrib.training.clip_gradient_norms(grads, 1.0)
    np.testing.assert_allclose(sess.run(clipped[0][0]), [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(sess.run(tf.contrib.training.clip_gradient_norms_fn(5.0)(grads)[0][0]), [3, 4])
    scaled = tf.contrib.training.multiply_gradients(grads, {"b": 10.0, a: 0.5})
    np.testing.assert_allclose(sess.run(scaled[0][0]), [1.5, 2.0])
    np.testing.assert_allclose(sess.run(scaled[1][0]), [10.0])
    with pytest.raises(ValueError, match="must be a list"):
        tf.contrib.training.multiply_gradients(tuple(grads), {"b": 1.0})
    with pytest.raises(ValueError, match="`gradient_multipliers` is empty"):
        tf.contrib.training.multiply_gradients(grads, {})
    with pytest.raises(ValueError, match="Requested multiple of `None` gradient"):
        tf.contrib.training.multiply_gradients([(None, b)], {"b": 2.0})


def test_contrib_training_train_runs_until_the_hooks_stop_and_checkpoints(tmp_path):
    loss, _, _ = _linear_problem()
    train_op = tf.contrib.training.create_train_op(loss, tf.train.GradientDescentOptimizer(0.1))
    final = tf.contrib.training.train(train_op, str(tmp_path), hooks=[tf.train.StopAtStepHook(num_steps=7)],
                                      save_summaries_steps=None)
    assert final is not None and final < 2.0
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-7")
    with pytest.raises(ValueError, match="logdir cannot be None"):
        tf.contrib.training.train(train_op, None)


def test_slim_learning_train_stops_at_number_of_steps_and_resumes_from_logdir(tmp_path):
    slim = tf.contrib.slim
    calls = []
    loss, w, _ = _linear_problem()
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    train_op = slim.learning.create_train_op(loss, optimizer, clip_gradient_norm=10.0,
                                             gradient_multipliers={w: 2.0})
    tf.summary.scalar("loss", loss)
    first = slim.learning.train(train_op, str(tmp_path), number_of_steps=5, init_fn=calls.append,
                                log_every_n_steps=2)
    assert len(calls) == 1  # init_fn runs when nothing was restored
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-5")
    second = slim.learning.train(train_op, str(tmp_path), number_of_steps=8, init_fn=calls.append)
    assert len(calls) == 1  # restored from logdir, so no init_fn
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-8")
    assert second < first
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())
    with pytest.raises(ValueError, match="train_op cannot be None"):
        slim.learning.train(None, str(tmp_path))
    with pytest.raises(ValueError, match="Cannot provide saver because logdir=None"):
        slim.learning.train(train_op, None, saver=tf.train.Saver())
