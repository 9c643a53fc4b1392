"""tf.contrib.training.HParams and parse_values: types fixed by the first value, TF 1.15's parsing and casting
rules, JSON round trips and the errors TF raises."""

from __future__ import annotations

import json

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
