"""Control flow: NoOp, `tf.group`, `tf.tuple` and the `tf.control_dependencies` helpers built on them."""

from __future__ import annotations

import builtins

from tfmini.framework import ops as _ops
from tfmini.framework.registry import apply_op, register_op


@register_op("NoOp", stateful=True)
def _no_op():
    """Does nothing; used for its control inputs."""


def no_op(name=None) -> _ops.Operation:
    return apply_op("NoOp", [], name=name)


def group(*inputs, **kwargs) -> _ops.Operation:
    """An op that runs (depends on) all of `inputs` and has no output."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {', '.join(kwargs)}")
    flat = []
    for x in inputs:
        # `tuple` is tf.tuple in this module, hence builtins.tuple.
        items = x.values() if isinstance(x, dict) else (x if isinstance(x, (list, builtins.tuple)) else [x])
        for it in items:
            if it is None:
                continue
            if isinstance(it, (list, builtins.tuple)):
                flat.extend(it)
            else:
                flat.append(it)
    with _ops.name_scope(name, "group_deps", flat) as scope:
        deps = []
        for it in flat:
            el = it if isinstance(it, (_ops.Tensor, _ops.Operation)) else it._as_graph_element()
            deps.append(el.op if isinstance(el, _ops.Tensor) else el)
        with _ops.control_dependencies(deps):
            return no_op(name=scope)


def with_dependencies(dependencies, output_tensor, name=None):
    """`output_tensor`, but only after `dependencies` have run."""
    from tfmini.ops import array_ops

    with _ops.name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as scope:
        with _ops.control_dependencies(dependencies):
            if isinstance(output_tensor, _ops.Operation):
                with _ops.control_dependencies([output_tensor]):
                    return no_op(name=scope)
            return array_ops.identity(output_tensor, name=scope)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's public name
    """Identities of `tensors` that are available only once all of them (and `control_inputs`) are."""
    with _ops.name_scope(name, "tuple", tensors) as scope:
        deps = [t for t in tensors if t is not None]
        gate = group(*(deps + list(control_inputs or [])), name=scope + "group_deps" if scope else None)
        return [None if t is None else with_dependencies([gate], t) for t in tensors]
