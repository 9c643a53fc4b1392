"""contrib's `optimize_loss` (a training op from a loss, an optimizer given by name, class, instance or
function, gradient clipping, noise, multipliers and summaries) and its summary helpers (`summarize_tensor`,
`summarize_activation`, `summarize_collection`, ...)."""

from __future__ import annotations

import functools
import re

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.ops import control_flow_ops as _control_flow_ops
from tfmini.ops import init_ops as _init_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import random_ops as _random_ops
from tfmini.ops import summary_ops as _summary
from tfmini.ops import variable_scope as _vs
from tfmini.ops import variables as _variables
from tfmini.train import optimizer as _optimizer
from tfmini.train import training_util as _training_util

_GraphKeys = _ops.GraphKeys

# ----------------------------------------------------------------------------------------------------------
# Summaries
# ----------------------------------------------------------------------------------------------------------
_ACTIVATIONS_WITH_ZEROS = ("Relu", "Softplus", "Relu6")


def _scalar_summary(tensor, tag=None):
    if tensor.shape.ndims != 0:
        raise ValueError(f"Expected scalar tensor, got {tensor}")
    return _summary.scalar(tag or tensor.op.name, tensor)


def _histogram_summary(tensor, tag=None):
    return _summary.histogram(tag or tensor.op.name, tensor)


@tf_export("contrib.layers.summarize_tensor")
def summarize_tensor(tensor, tag=None):
    """A scalar summary of a scalar tensor, a histogram of any other (tag: `tag` or the op's name)."""
    if tensor.shape.ndims == 0:
        return _scalar_summary(tensor, tag)
    return _histogram_summary(tensor, tag)


@tf_export("contrib.layers.summarize_activation")
def summarize_activation(op):
    """A histogram `<op>/activation` of an activation, plus the fraction of zeros (`<op>/zeros`) for
    Relu/Softplus/Relu6 and of sixes (`<op>/sixes`) for Relu6, computed from the activation's input."""
    name = op.op.name
    if op.op.type in _ACTIVATIONS_WITH_ZEROS:
        x = op.op.inputs[0]
        _scalar_summary(_math_ops.reduce_mean(_math_ops.to_float(_math_ops.less(x, _math_ops.cast(0.0, x.dtype)))),
                        f"{name}/zeros")
    if op.op.type == "Relu6":
        x = op.op.inputs[0]
        _scalar_summary(
            _math_ops.reduce_mean(_math_ops.to_float(_math_ops.greater(x, _math_ops.cast(6.0, x.dtype)))),
            f"{name}/sixes")
    return _histogram_summary(op, f"{name}/activation")


@tf_export("contrib.layers.summarize_tensors")
def summarize_tensors(tensors, summarizer=summarize_tensor) -> list:
    """`summarizer` applied to each tensor."""
    return [summarizer(tensor) for tensor in tensors]


@tf_export("contrib.layers.summarize_collection")
def summarize_collection(collection, name_filter=None, summarizer=summarize_tensor) -> list:
    """`summarizer` applied to the tensors of `collection` whose op names match the regex `name_filter`."""
    tensors = [t for t in _ops.get_collection(collection)
               if name_filter is None or re.match(name_filter, t.op.name)]
    return summarize_tensors(tensors, summarizer)


@tf_export("contrib.layers.summarize_activations")
def summarize_activations(name_filter=None, summarizer=summarize_activation) -> list:
    """Summaries of the ACTIVATIONS collection (see `summarize_activation`)."""
    return summarize_collection(_GraphKeys.ACTIVATIONS, name_filter, summarizer)


summarize_variables = functools.partial(summarize_collection, _GraphKeys.GLOBAL_VARIABLES)
tf_export("contrib.layers.summarize_variables").export_constant(__name__, "summarize_variables")
summarize_weights = functools.partial(summarize_collection, _GraphKeys.WEIGHTS)
tf_export("contrib.layers.summarize_weights").export_constant(__name__, "summarize_weights")
summarize_biases = functools.partial(summarize_collection, _GraphKeys.BIASES)
tf_export("contrib.layers.summarize_biases").export_constant(__name__, "summarize_biases")

# ----------------------------------------------------------------------------------------------------------
# optimize_loss
# ----------------------------------------------------------------------------------------------------------
OPTIMIZER_CLS_NAMES = {
    "Adagrad": _optimizer.AdagradOptimizer,
    "Adam": _optimizer.AdamOptimizer,
    "Momentum": lambda learning_rate: _optimizer.MomentumOptimizer(learning_rate, momentum=0.9),
    "RMSProp": _optimizer.RMSPropOptimizer,
    "SGD": _optimizer.GradientDescentOptimizer,
}
tf_export("contrib.layers.OPTIMIZER_CLS_NAMES").export_constant(__name__, "OPTIMIZER_CLS_NAMES")

OPTIMIZER_SUMMARIES = ["learning_rate", "loss", "gradients", "gradient_norm", "global_gradient_norm"]
tf_export("contrib.layers.OPTIMIZER_SUMMARIES").export_constant(__name__, "OPTIMIZER_SUMMARIES")


def _learning_rate(learning_rate):
    if learning_rate is None:
        return None
    if isinstance(learning_rate, _ops.Tensor) and learning_rate.shape.ndims == 0:
        return learning_rate
    if isinstance(learning_rate, float):
        if learning_rate < 0.0:
            raise ValueError(f"Invalid learning_rate {learning_rate}.")
        return _vs.get_variable("learning_rate", [], trainable=False,
                                initializer=_init_ops.constant_initializer(learning_rate))
    raise ValueError(f"Learning rate should be 0d Tensor or float. Got {learning_rate} of type {type(learning_rate)}")


def _make_optimizer(optimizer, lr, learning_rate):
    if isinstance(optimizer, str):
        if lr is None:
            raise ValueError(f"Learning rate is None, but should be specified if optimizer is string ({optimizer}).")
        if optimizer not in OPTIMIZER_CLS_NAMES:
            raise ValueError(f"Optimizer name should be one of [{', '.join(OPTIMIZER_CLS_NAMES)}], you provided "
                             f"{optimizer}.")
        return OPTIMIZER_CLS_NAMES[optimizer](learning_rate=lr)
    if isinstance(optimizer, type) and issubclass(optimizer, _optimizer.Optimizer):
        if lr is None:
            raise ValueError(f"Learning rate is None, but should be specified if optimizer is class ({optimizer}).")
        return optimizer(learning_rate=lr)
    if isinstance(optimizer, _optimizer.Optimizer):
        return optimizer
    if callable(optimizer):
        opt = optimizer(lr) if learning_rate is not None else optimizer()
        if not isinstance(opt, _optimizer.Optimizer):
            raise ValueError(f"Unrecognized optimizer: function should return subclass of Optimizer. Got {opt}.")
        return opt
    raise ValueError("Unrecognized optimizer: should be string, subclass of Optimizer, instance of subclass of "
                     f"Optimizer or function with one argument. Got {optimizer}.")


def _add_scaled_noise_to_gradients(grads_and_vars, gradient_noise_scale) -> list:
    noisy = []
    for gradient, variable in grads_and_vars:
        if gradient is None:
            noisy.append((None, variable))
            continue
        shape = gradient.dense_shape if isinstance(gradient, IndexedSlices) else gradient.shape
        noise = _random_ops.truncated_normal(shape) * gradient_noise_scale
        noisy.append((gradient + noise, variable))
    return noisy


def _multiply_gradients(grads_and_vars, gradient_multipliers) -> list:
    multiplied = []
    for grad, var in grads_and_vars:
        key = var if var in gradient_multipliers else var.name if var.name in gradient_multipliers else None
        if grad is not None and key is not None:
            multiplier = gradient_multipliers[key]
            if isinstance(grad, IndexedSlices):
                grad = IndexedSlices(grad.values * multiplier, grad.indices, grad.dense_shape)
            else:
                grad = grad * _math_ops.cast(multiplier, grad.dtype)
        multiplied.append((grad, var))
    return multiplied


def _clip_gradients_by_norm(grads_and_vars, clip_gradients) -> list:
    gradients, variables = zip(*grads_and_vars)
    clipped, _ = _math_ops.clip_by_global_norm(list(gradients), clip_gradients)
    return list(zip(clipped, variables))


def _gradient_values(gradients) -> list:
    return [g.values if isinstance(g, IndexedSlices) else g for g, _ in gradients if g is not None]


@tf_export("contrib.layers.optimize_loss")
def optimize_loss(loss, global_step, learning_rate, optimizer, gradient_noise_scale=None, gradient_multipliers=None,
                  clip_gradients=None, learning_rate_decay_fn=None, update_ops=None, variables=None, name=None,
                  summaries=None, colocate_gradients_with_ops=False, increment_global_step=True) -> _ops.Tensor:
    """A training op: the loss, computed after the UPDATE_OPS (or `update_ops`) and one optimizer step.

    `optimizer` is a name of OPTIMIZER_CLS_NAMES ('SGD', 'Adam', 'Adagrad', 'Momentum', 'RMSProp'), an
    Optimizer subclass or instance, or a function of the learning rate returning one. A float
    `learning_rate` becomes the non-trainable variable `OptimizeLoss/learning_rate`. `clip_gradients` (a
    float) clips by global norm, or is a function of the (gradient, variable) list. `summaries` chooses from
    OPTIMIZER_SUMMARIES (default: loss, learning_rate, global_gradient_norm).
    """
    loss = _ops.convert_to_tensor(loss)
    if loss.shape.ndims not in (None, 0):
        raise ValueError(f"Expected scalar shape for {loss.name}, saw shape: {loss.shape}.")
    if global_step is None:
        global_step = _training_util.get_global_step()
    else:
        _training_util.assert_global_step(global_step)
    with _vs.variable_scope(name, "OptimizeLoss", [loss, global_step]):
        if update_ops is None:
            update_ops = list(dict.fromkeys(_ops.get_collection(_GraphKeys.UPDATE_OPS)))
        if update_ops:
            loss = _control_flow_ops.with_dependencies(list(update_ops), loss)
        lr = _learning_rate(learning_rate)
        if summaries is None:
            summaries = ["loss", "learning_rate", "global_gradient_norm"]
        else:
            for summ in summaries:
                if summ not in OPTIMIZER_SUMMARIES:
                    raise ValueError(f"Summaries should be one of [{', '.join(OPTIMIZER_SUMMARIES)}], you provided "
                                     f"{summ}.")
        if learning_rate is not None and learning_rate_decay_fn is not None:
            if global_step is None:
                raise ValueError("global_step is required for learning_rate_decay_fn.")
            lr = learning_rate_decay_fn(lr, global_step)
            if "learning_rate" in summaries:
                _summary.scalar("learning_rate", lr)
        opt = _make_optimizer(optimizer, lr, learning_rate)
        if variables is None:
            variables = _variables.trainable_variables()
        gradients = opt.compute_gradients(loss, variables, colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gradient_noise_scale is not None:
            gradients = _add_scaled_noise_to_gradients(gradients, gradient_noise_scale)
        if gradient_multipliers is not None:
            gradients = _multiply_gradients(gradients, gradient_multipliers)
            if not gradients:
                raise ValueError("Empty list of (gradient, var) pairs encountered. This is most likely to be caused "
                                 "by an improper value of gradient_multipliers.")
        norms_wanted = "global_gradient_norm" in summaries or "gradient_norm" in summaries
        if norms_wanted:
            _summary.scalar("global_norm/gradient_norm", _math_ops.global_norm(_gradient_values(gradients)))
        if isinstance(clip_gradients, float):
            gradients = _clip_gradients_by_norm(gradients, clip_gradients)
        elif callable(clip_gradients):
            gradients = clip_gradients(gradients)
        elif clip_gradients is not None:
            raise ValueError(f"Unknown type {type(clip_gradients)} for clip_gradients")
        if "loss" in summaries:
            _summary.scalar("loss", loss)
        for gradient, variable in gradients:
            values = gradient.values if isinstance(gradient, IndexedSlices) else gradient
            if values is None:
                continue
            var_name = variable.name.replace(":", "_")
            if "gradients" in summaries:
                _summary.histogram(f"gradients/{var_name}", values)
            if "gradient_norm" in summaries:
                _summary.scalar(f"gradient_norm/{var_name}", _math_ops.global_norm([values]))
        if clip_gradients is not None and norms_wanted:
            _summary.scalar("global_norm/clipped_gradient_norm", _math_ops.global_norm(_gradient_values(gradients)))
        grad_updates = opt.apply_gradients(gradients, global_step=global_step if increment_global_step else None,
                                           name="train")
        return _control_flow_ops.with_dependencies([grad_updates], loss)
