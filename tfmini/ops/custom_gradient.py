"""Graph-building wrappers around user functions: `tf.custom_gradient` (a function whose gradient the user
gives) and `tf.switch_case` (one of several functions chosen by an index).

custom_gradient works as TF's graph mode does: the results, the inputs and the variables the body read pass
through one IdentityN whose gradient is overridden (gradient_override_map) by the user's gradient function, so
tf.gradients never differentiates the body's own ops.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient
from tfmini.ops import array_ops, control_flow_ops, math_ops
from tfmini.ops import functional_ops as _fops
from tfmini.ops.resource_variable_ops import ResourceVariable
from tfmini.ops.variables import Variable

_UIDS = itertools.count()
_VARIABLE_OP_TYPES = ("VariableV2", "Variable", "VarHandleOp")


def _graph_variables(graph: _ops.Graph) -> dict:
    """Every variable the graph's collections know, keyed by the ops through which a body can read it (the
    variable op, a ref variable's snapshot)."""
    found = {}
    for key in (_ops.GraphKeys.GLOBAL_VARIABLES, _ops.GraphKeys.LOCAL_VARIABLES,
                _ops.GraphKeys.TRAINABLE_VARIABLES):
        for v in graph.get_collection(key):
            if not isinstance(v, Variable):
                continue
            found.setdefault(v.op, v)
            snapshot = getattr(v, "_snapshot", None)
            if isinstance(snapshot, _ops.Tensor):
                found.setdefault(snapshot.op, v)
    return found


def _variables_read(graph: _ops.Graph, first_new_op: int) -> list:
    """The variables that the ops created since `first_new_op` read, in the order they are first read."""
    new_ops = graph.get_operations()[first_new_op:]
    known = _graph_variables(graph)
    used = {}
    for op in new_ops:
        for t in op.inputs:
            v = known.get(t.op)
            if v is not None and t.op.type in _VARIABLE_OP_TYPES + ("Identity",):
                used.setdefault(id(v), v)
    return list(used.values())


def _accepts_variables(grad_fn: Callable) -> bool:
    try:
        params = inspect.signature(grad_fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def _graph_mode_call(f: Callable, args, kwargs):
    if kwargs:
        raise ValueError("The custom_gradient decorator currently supports keywords arguments only when eager "
                         "execution is enabled.")
    graph = _ops.get_default_graph()
    args = [_ops.convert_to_tensor(x) for x in args]
    first_new_op = len(graph.get_operations())
    before = {id(v) for v in graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)}
    result, grad_fn = f(*args)
    created = [v for v in graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES) if id(v) not in before]
    for v in created:
        if not isinstance(v, ResourceVariable):
            raise TypeError("All variables used by a function wrapped with @custom_gradient must be "
                            "`ResourceVariable`s. Ensure that no `variable_scope` is created with "
                            "`use_resource=False`.")
    variables = _variables_read(graph, first_new_op)
    takes_variables = _accepts_variables(grad_fn)
    if variables and not takes_variables:
        raise TypeError("If using @custom_gradient with a function that uses variables, then grad_fn must "
                        "accept a keyword argument 'variables'.")
    flat_result = [_ops.convert_to_tensor(t) for t in _fops.flatten(result)]
    n_results = len(flat_result)

    def overriding_gradient(op, *result_grads):
        result_grads = result_grads[:n_results]
        if variables:
            input_grads, variable_grads = grad_fn(*result_grads, variables=variables)
            variable_grads = list(variable_grads)
            if len(variable_grads) != len(variables):
                raise ValueError("Must return gradient for each variable from @custom_gradient grad_fn.")
        else:
            input_grads, variable_grads = grad_fn(*result_grads), []
        input_grads = _fops.flatten(input_grads)
        return [None] * n_results + list(input_grads) + variable_grads

    name = f"CustomGradient-{next(_UIDS)}"
    RegisterGradient(name)(overriding_gradient)
    with graph.gradient_override_map({"IdentityN": name}):
        passed = array_ops.identity_n(flat_result + args + [v.value() for v in variables])
    return _fops.pack_sequence_as(result, passed[:n_results])


@tf_export("custom_gradient")
def custom_gradient(f=None):
    """`tf.custom_gradient`: decorates `f(*x) -> (y, grad_fn)`; tf.gradients through the result uses
    `grad_fn(*dy)` (returning the gradients of the inputs) instead of differentiating `f`'s ops. When `f`
    reads variables, `grad_fn(*dy, variables=...)` returns `(input_grads, variable_grads)`."""
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        return _graph_mode_call(f, args, kwargs)

    return decorated


# ----------------------------------------------------------------------------------------------------------
# tf.switch_case
# ----------------------------------------------------------------------------------------------------------
def _branch_actions(branch_fns, default) -> list:
    """The branch functions in index order (then `default`), checked as TF checks them."""
    if not branch_fns:
        raise ValueError("Must provide at least one item in branch_fns")
    if not isinstance(branch_fns, (list, tuple, dict)):
        raise TypeError("branch_fns must be a list, tuple, or dict")
    pairs = list(branch_fns.items()) if isinstance(branch_fns, dict) else list(branch_fns)
    if all(callable(fn) for fn in pairs):
        pairs = list(enumerate(pairs))
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("Each entry in branch_fns must be a 2-tuple")
        key, fn = pair
        if not isinstance(key, int):
            raise TypeError(f"key must be a Python `int`, got {type(key)}")
        if not callable(fn):
            raise TypeError(f"fn for key {key} must be callable.")
    keys = sorted(k for k, _ in pairs)
    if keys[0] < 0 or keys[-1] >= len(keys) or len(set(keys)) != len(keys):
        raise ValueError(f"branch indices (keys) must form contiguous range of [0 to {len(keys)}) but found "
                         f"{{{','.join(map(str, keys))}}}")
    actions = [fn for _, fn in sorted(pairs, key=lambda p: p[0])]
    if default is not None:
        actions.append(default)
    return actions


@tf_export("switch_case")
def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """`tf.switch_case`: the result of `branch_fns[branch_index]()`; an index outside the branches runs
    `default`, or the last branch when there is no default. `branch_fns` is a list of callables, a list of
    `(index, callable)` pairs or a dict from index to callable, the indices covering 0..N-1."""
    if not callable(default) and default is not None:
        raise TypeError("default must be callable.")
    with _ops.name_scope(name, "switch_case", [branch_index]):
        branch_index = _ops.convert_to_tensor(branch_index, name="branch_index")
        if not branch_index.dtype.is_integer:
            raise TypeError(f"branch_index must an integer Tensor, got {branch_index.dtype}")
        if branch_index.shape.ndims not in (None, 0):
            raise ValueError(f"branch_index must be a scalar, got shape {branch_index.shape}")
        actions = _branch_actions(branch_fns, default)
        if len(actions) == 1:
            return actions[0]()
        pairs = [(math_ops.equal(branch_index, i), fn) for i, fn in enumerate(actions[:-1])]
        return control_flow_ops.case(pairs, default=actions[-1], exclusive=False, name="case")
