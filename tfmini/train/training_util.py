"""The global step: an int64 scalar variable in the GLOBAL_STEP collection that `apply_gradients` increments."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import GraphKeys
from tfmini.ops import init_ops
from tfmini.ops import variable_scope as _vs
from tfmini.ops.variables import Variable


@tf_export("train.assert_global_step")
def assert_global_step(global_step_tensor) -> None:
    """Raises TypeError unless `global_step_tensor` is an integer scalar Variable or Tensor."""
    if not isinstance(global_step_tensor, (Variable, _ops.Tensor)):
        raise TypeError(f'Existing "global_step" must be a Variable or Tensor: {global_step_tensor}.')
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f'Existing "global_step" does not have integer type: {global_step_tensor.dtype}')
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')


@tf_export("train.get_global_step")
def get_global_step(graph=None):
    """The graph's global step (from its GLOBAL_STEP collection, else the tensor 'global_step:0'), or None."""
    graph = graph or _ops.get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) == 1:
        step = found[0]
    elif not found:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    else:
        return None  # several global steps: none is "the" global step, as in TF
    assert_global_step(step)
    return step


@tf_export("train.create_global_step")
def create_global_step(graph=None) -> Variable:
    """Creates the global step variable (ValueError if the graph has one)."""
    graph = graph or _ops.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default() as g, g.name_scope(None):
        return _vs.get_variable(GraphKeys.GLOBAL_STEP, shape=[], dtype=_dt.int64,
                                initializer=init_ops.zeros_initializer(), trainable=False,
                                collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


@tf_export("train.get_or_create_global_step")
def get_or_create_global_step(graph=None):
    """The graph's global step, created if it has none."""
    graph = graph or _ops.get_default_graph()
    step = get_global_step(graph)
    return create_global_step(graph) if step is None else step


@tf_export("train.global_step")
def global_step(sess, global_step_tensor) -> int:
    """The global step's value in `sess`, as a Python int."""
    return int(sess.run(global_step_tensor))
