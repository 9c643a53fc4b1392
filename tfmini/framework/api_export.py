"""One declaration of every public name: `@tf_export("math.softplus", "nn.softplus")` beside a function or class.

A public function, class or constant states every TF 1.x name it has, once, where it is defined; the namespace
modules (`tfmini/__init__.py`, `tfmini/nn.py`, `tfmini/math.py`, ...) are filled from these declarations by
`populate`, and `tools/supported_names.py` reads the same declarations to write `docs/supported_names.md`.

Names are written as TF writes them, without the leading `tf.`: `"reduce_sum"` is `tf.reduce_sum`,
`"nn.relu"` is `tf.nn.relu`, `"contrib.layers.fully_connected"` is `tf.contrib.layers.fully_connected`.
Values that cannot carry an attribute (dtypes, `newaxis`, module-level constants) are declared with
`tf_export("newaxis").export_constant(__name__, "newaxis")`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, MutableMapping
from types import ModuleType
from typing import Any, TypeVar

_T = TypeVar("_T")

# namespace ("" is the top level, "nn", "contrib.layers", ...) -> public name -> object
_API: dict[str, dict[str, Any]] = {}
# full name ("nn.relu") -> "module:qualname" of the declaration, for error messages
_DECLARED_AT: dict[str, str] = {}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

API_NAMES_ATTR = "_tf_api_names"
_MISSING = object()


def _split(full_name: str) -> tuple[str, str]:
    namespace, _, name = full_name.rpartition(".")
    return namespace, name


def _where(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}:{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _register(full_name: str, obj: Any, where: str) -> None:
    if not isinstance(full_name, str) or not _NAME.match(full_name) or full_name.startswith("tf."):
        raise ValueError(
            f"tf_export: {full_name!r} is not a public name; write it as TF does without 'tf.', e.g. 'nn.relu'"
        )
    namespace, name = _split(full_name)
    names = _API.setdefault(namespace, {})
    previous = names.get(name, _MISSING)
    if previous is not _MISSING and previous is not obj:
        raise ValueError(
            f"tf_export: tf.{full_name} is declared twice, by {_DECLARED_AT[full_name]} and by {where}"
        )
    names[name] = obj
    _DECLARED_AT[full_name] = where



class tf_export:  # noqa: N801 - named as TensorFlow's decorator
    """Declares the public TF names of the decorated function or class (or, with `export_constant`, a value)."""

    def __init__(self, *names: str) -> None:
        if not names:
            raise ValueError("tf_export needs at least one name")
        self.names = names

    def __call__(self, obj: _T) -> _T:
        where = _where(obj)
        for full_name in self.names:
            _register(full_name, obj, where)
        declared = getattr(obj, "__dict__", {}).get(API_NAMES_ATTR, ())
        try:
            setattr(obj, API_NAMES_ATTR, tuple(dict.fromkeys((*declared, *self.names))))
        except (AttributeError, TypeError):
            pass  # builtins and slotted objects keep their names in the registry only
        return obj

    def export_constant(self, module_name: str, name: str) -> None:
        """Declares the value bound to `name` in module `module_name` (a dtype, `newaxis`, a module, ...)."""
        value = getattr(sys.modules[module_name], name)
        for full_name in self.names:
            _register(full_name, value, f"{module_name}:{name}")


def namespace(name: str) -> dict[str, Any]:
    """The declared names of one namespace (`""` for the top level, `"nn"`, `"contrib.layers"`) and their objects."""
    return dict(_API.get(name, {}))


def namespaces() -> list[str]:
    """Every namespace that has at least one declared name."""
    return sorted(_API)


def declared_names() -> Iterator[tuple[str, Any]]:
    """Every declared public name as `("tf.nn.relu", obj)`, sorted by name."""
    for ns in sorted(_API):
        for name in sorted(_API[ns]):
            yield (f"tf.{ns}.{name}" if ns else f"tf.{name}"), _API[ns][name]


def api_names(obj: Any) -> tuple[str, ...]:
    """The names declared for `obj` (`("nn.relu",)`), empty if it has none."""
    return tuple(
        f"{ns}.{name}" if ns else name
        for ns in sorted(_API)
        for name, value in sorted(_API[ns].items())
        if value is obj
    )


def populate(module_globals: MutableMapping[str, Any], name: str) -> list[str]:
    """Binds every name declared for namespace `name` in a namespace module's globals; returns its `__all__`.

    A name the module already binds to a different object is an error: the declaration and the module would
    disagree about what `tf.<name>` is.
    """
    declared = _API.get(name, {})
    package = module_globals.get("__name__")
    for public, obj in declared.items():
        existing = module_globals.get(public, _MISSING)
        # A package's submodule of the same name (tf.saved_model.simple_save, the module of the function) gives way
        # to the declared name, as `from .simple_save import simple_save` would have rebound it.
        submodule = isinstance(existing, ModuleType) and existing.__name__ == f"{package}.{public}"
        if existing is not _MISSING and existing is not obj and not submodule:
            label = f"tf.{name}.{public}" if name else f"tf.{public}"
            raise ValueError(
                f"{module_globals.get('__name__')}: {label} is bound to {existing!r} but declared as {obj!r} "
                f"by {_DECLARED_AT[f'{name}.{public}' if name else public]}"
            )
        module_globals[public] = obj
    listed = module_globals.get("__all__", [])
    return sorted(set(listed) | set(declared))



def populate_all(root: Any) -> None:
    """Fills every declared namespace below the package `root` (the `tfmini` module), shallowest first.

    Each namespace must already be reachable as attributes from `root` (`tfmini.contrib.layers`): a declaration
    for a namespace that has no module is an error, so a name can never be declared and silently missing.
    """
    for ns in sorted(_API, key=lambda n: (n.count(".") if n else -1, n)):
        target = root
        for part in ns.split(".") if ns else ():
            target = getattr(target, part, None)
            if target is None:
                raise ValueError(
                    f"tf_export: names are declared under tf.{ns} ({', '.join(sorted(_API[ns])[:3])}, ...) but "
                    f"{root.__name__} has no module for that namespace"
                )
        names = populate(vars(target), ns)
        if ns or hasattr(target, "__all__"):
            target.__all__ = names
