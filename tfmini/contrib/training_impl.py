"""`tf.contrib.training.HParams`: named hyperparameters with fixed types, parsed from `"a=1,b=[2,3]"` strings or
JSON and overridden from dicts, with TF 1.15's type rules (no bool<->number, no float->int, no number->str)."""

from __future__ import annotations

import json
import numbers
import re
from typing import Any

from tfmini.framework.api_export import tf_export

# name, optional [index], '=', then one value (no comma or '[') or a bracketed list; a comma ends each assignment.
_ASSIGNMENT = re.compile(r"""
    (?P<name>[a-zA-Z][\w.]*)
    (\[\s*(?P<index>\d+)\s*\])?
    \s*=\s*
    ((?P<val>[^,\[]*) | \[(?P<vals>[^\]]*)\])
    ($|,\s*)""", re.VERBOSE)


def _parse_fail(name: str, var_type: type, value, values: str):
    raise ValueError(f"Could not parse hparam '{name}' of type '{var_type.__name__}' with value '{value}' in {values}")


def _reuse_fail(name: str, values: str):
    raise ValueError(f"Multiple assignments to variable '{name}' in {values}")


def _bool_parser(name: str, values: str):
    def parse(text: str) -> bool:
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        try:
            return bool(int(text))
        except ValueError:
            _parse_fail(name, bool, text, values)

    return parse


def _store_scalar(results: dict, name: str, index, value, values: str) -> None:
    if index is None:
        if name in results:
            _reuse_fail(name, values)
        results[name] = value
        return
    slot = results.setdefault(name, {})
    if not isinstance(slot, dict):
        _reuse_fail(name, values)
    if index in slot:
        _reuse_fail(f"{name}[{index}]", values)
    slot[index] = value


@tf_export("contrib.training.parse_values")
def parse_values(values: str, type_map: dict, ignore_unknown: bool = False) -> dict:
    """{name: value} of a string of comma-separated assignments ("lr=0.1,layers=[64,32],use_bn=true"), each
    value parsed as its name's type in `type_map`; `name[i]=v` gives {name: {i: v}}."""
    results: dict = {}
    pos = 0
    while pos < len(values):
        m = _ASSIGNMENT.match(values, pos)
        if not m:
            raise ValueError(f"Malformed hyperparameter value: {values[pos:]}")
        pos = m.end()
        name = m.group("name")
        if name not in type_map:
            if ignore_unknown:
                continue
            raise ValueError(f"Unknown hyperparameter type for {name}")
        var_type = type_map[name]
        parse = _bool_parser(name, values) if var_type is bool else var_type
        if m.group("val") is not None:
            try:
                parsed = parse(m.group("val"))
            except ValueError:
                _parse_fail(name, var_type, m.group("val"), values)
            index = m.group("index")
            _store_scalar(results, name, None if not index else int(index), parsed, values)
        elif m.group("vals") is not None:
            if m.group("index") is not None:
                raise ValueError("Assignment of a list to a list index.")
            if name in results:
                _reuse_fail(name, values)
            try:
                results[name] = [parse(e) for e in re.split("[ ,]", m.group("vals")) if e]
            except ValueError:
                _parse_fail(name, var_type, m.group("vals"), values)
        else:
            _parse_fail(name, var_type, "", values)
    return results


def _cast_to_type_if_compatible(name: str, param_type: type, value) -> Any:
    """`value` as `param_type`, refusing the casts TF refuses (ValueError)."""
    fail = f"Could not cast hparam '{name}' of type '{param_type}' from value {value!r}"
    if type(value) is param_type:
        return value
    if issubclass(param_type, type(None)):
        return value
    if issubclass(param_type, (str, bytes)) and not isinstance(value, (str, bytes)):
        raise ValueError(fail)
    if issubclass(param_type, bool) != isinstance(value, bool):
        raise ValueError(fail)
    if issubclass(param_type, numbers.Integral) and not isinstance(value, numbers.Integral):
        raise ValueError(fail)
    if issubclass(param_type, numbers.Number) and not isinstance(value, numbers.Number):
        raise ValueError(fail)
    return param_type(value)


@tf_export("contrib.training.HParams")
class HParams:
    """Hyperparameters as attributes (`hparams.learning_rate`), each with the type of its first value (a list's
    elements share one type), settable from strings (`parse`), JSON (`parse_json`) and dicts."""

    def __init__(self, hparam_def=None, model_structure=None, **kwargs) -> None:
        self._hparam_types: dict[str, tuple[type, bool]] = {}
        self._model_structure = model_structure
        if hparam_def is not None:
            raise ValueError("HParams from an HParamDef protocol buffer are not supported by tfmini")
        for name, value in kwargs.items():
            self.add_hparam(name, value)

    def add_hparam(self, name: str, value) -> None:
        """Adds hyperparameter `name` (ValueError if the name is taken or a list value is empty)."""
        if getattr(self, name, None) is not None:
            raise ValueError(f"Hyperparameter name is reserved: {name}")
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"Multi-valued hyperparameters cannot be empty: {name}")
            self._hparam_types[name] = (type(value[0]), True)
        else:
            self._hparam_types[name] = (type(value), False)
        setattr(self, name, value)

    def set_hparam(self, name: str, value) -> None:
        """Sets an existing hyperparameter, casting to its type where TF allows (KeyError for unknown names)."""
        param_type, is_list = self._hparam_types[name]
        if isinstance(value, list):
            if not is_list:
                raise ValueError(f"Must not pass a list for single-valued parameter: {name}")
            setattr(self, name, [_cast_to_type_if_compatible(name, param_type, v) for v in value])
        else:
            if is_list:
                raise ValueError(f"Must pass a list for multi-valued parameter: {name}.")
            setattr(self, name, _cast_to_type_if_compatible(name, param_type, value))

    def del_hparam(self, name: str) -> None:
        """Removes hyperparameter `name` if it exists."""
        if hasattr(self, name):
            delattr(self, name)
            del self._hparam_types[name]

    def parse(self, values: str) -> HParams:
        """Overrides hyperparameters from "name=value,name=[v1,v2]" (see `parse_values`); returns self."""
        type_map = {name: param_type for name, (param_type, _) in self._hparam_types.items()}
        return self.override_from_dict(parse_values(values, type_map))

    def override_from_dict(self, values_dict: dict) -> HParams:
        for name, value in values_dict.items():
            self.set_hparam(name, value)
        return self

    def set_model_structure(self, model_structure) -> None:
        self._model_structure = model_structure

    def get_model_structure(self):
        return self._model_structure

    def to_json(self, indent=None, separators=None, sort_keys=False) -> str:
        """The hyperparameters as a JSON object (callable values left out)."""
        def without_callables(x):
            if isinstance(x, dict):
                return {k: without_callables(v) for k, v in x.items() if not callable(v)}
            if isinstance(x, list):
                return [without_callables(v) for v in x if not callable(v)]
            return x

        return json.dumps(without_callables(self.values()), indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def parse_json(self, values_json: str) -> HParams:
        """Overrides hyperparameters from a JSON object; returns self."""
        return self.override_from_dict(json.loads(values_json))

    def values(self) -> dict:
        """{name: value} of every hyperparameter."""
        return {name: getattr(self, name) for name in self._hparam_types}

    def get(self, key: str, default=None):
        """The value of `key`, or `default` when there is no such hyperparameter; a default of the wrong type
        for an existing one is a ValueError."""
        if key not in self._hparam_types:
            return default
        if default is not None:
            param_type, is_list = self._hparam_types[key]
            type_str = f"list<{param_type}>" if is_list else str(param_type)
            fail = f"Hparam '{key}' of type '{type_str}' is incompatible with default={default}"
            if is_list != isinstance(default, list):
                raise ValueError(fail)
            try:
                for value in default if is_list else [default]:
                    _cast_to_type_if_compatible(key, param_type, value)
            except ValueError as e:
                raise ValueError(f"{fail}. {e}") from None
        return getattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self._hparam_types

    def __str__(self) -> str:
        return str(sorted(self.values().items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"
