"""The proximal and dual-averaging training ops (FTRL, proximal gradient descent, proximal Adagrad, Adagrad-DA):
their ref, sparse and Resource* forms under TF's op definitions, declared with state_ops' training-op table.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import ops as _ops
from tfmini.ops import state_ops
from tfmini.ops.state_ops import _training


def _set(target: np.ndarray, value) -> None:
    """Writes `value` into the storage array `target` (the update functions work in place)."""
    target[...] = value


def _shrink(prox, threshold, scale):
    """sign(prox) * max(|prox| - threshold, 0) / scale: the proximal step of l1 (threshold) and l2 (scale)."""
    return np.sign(prox) * np.maximum(np.abs(prox) - threshold, 0) / scale


def _ftrl_v2(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power, *, multiply_linear_by_lr=False):
    """FTRL-proximal with shrinkage towards 0: the accumulator sums squared gradients, `linear` the gradient
    (plus 2 * l2_shrinkage * var) minus the change of the per-coordinate rate times var; the new var is the
    closed-form minimizer, zero wherever |linear| stays within the l1 threshold."""
    grad_shrunk = grad + 2 * l2_shrinkage * var if l2_shrinkage is not None else grad
    new_accum = accum + grad * grad
    if lr_power == -0.5:
        new_pow, old_pow = np.sqrt(new_accum), np.sqrt(accum)
    else:
        new_pow, old_pow = new_accum ** -lr_power, accum ** -lr_power
    if multiply_linear_by_lr:
        linear += grad_shrunk * lr - (new_pow - old_pow) * var
        quadratic = new_pow + 2 * l2 * lr
        threshold = l1 * lr
    else:
        linear += grad_shrunk - (new_pow - old_pow) / lr * var
        quadratic = new_pow / lr + 2 * l2
        threshold = l1
    _set(var, np.where(np.abs(linear) > threshold, (np.sign(linear) * threshold - linear) / quadratic, 0))
    _set(accum, new_accum)


def _ftrl(var, accum, linear, grad, lr, l1, l2, lr_power, *, multiply_linear_by_lr=False):
    _ftrl_v2(var, accum, linear, grad, lr, l1, l2, None, lr_power, multiply_linear_by_lr=multiply_linear_by_lr)


def _proximal_gradient_descent(var, alpha, l1, l2, delta):
    """var = prox(var - alpha * delta): soft-thresholded by alpha * l1 when l1 > 0, scaled by 1 / (1 + alpha * l2)."""
    prox = var - alpha * delta
    _set(var, _shrink(prox, alpha * l1, 1 + alpha * l2) if l1 > 0 else prox / (1 + alpha * l2))


def _proximal_adagrad(var, accum, lr, l1, l2, grad):
    """Adagrad's per-coordinate rate lr / sqrt(accum) followed by the proximal step of l1 and l2."""
    accum += grad * grad
    rate = lr / np.sqrt(accum)
    prox = var - grad * rate
    _set(var, _shrink(prox, rate * l1, 1 + l2 * rate) if l1 > 0 else prox / (1 + l2 * rate))


def _adagrad_da(var, gradient_accumulator, gradient_squared_accumulator, grad, lr, l1, l2, global_step):
    """Adagrad dual averaging: var is computed afresh from the sums of the gradients and of their squares."""
    step = var.dtype.type(global_step)
    gradient_accumulator += grad
    gradient_squared_accumulator += grad * grad
    denominator = l2 * step * lr + np.sqrt(gradient_squared_accumulator)
    if l1 > 0:
        numerator = _shrink(-gradient_accumulator, l1 * step, 1)
    else:
        numerator = -gradient_accumulator
    _set(var, numerator * lr / denominator)


_LINEAR_BY_LR = {"multiply_linear_by_lr": False}
_MORE_TRAINING_OPS = {
    # op type: (arguments, update, extra bool attrs {name: default})
    "ApplyFtrl": (["var: ref", "accum: ref", "linear: ref", "grad: grad", "lr: scalar", "l1: scalar", "l2: scalar",
                   "lr_power: scalar"], _ftrl, _LINEAR_BY_LR),
    "ApplyFtrlV2": (["var: ref", "accum: ref", "linear: ref", "grad: grad", "lr: scalar", "l1: scalar",
                     "l2: scalar", "l2_shrinkage: scalar", "lr_power: scalar"], _ftrl_v2, _LINEAR_BY_LR),
    "ApplyProximalGradientDescent": (["var: ref", "alpha: scalar", "l1: scalar", "l2: scalar", "delta: grad"],
                                     _proximal_gradient_descent, {}),
    "ApplyProximalAdagrad": (["var: ref", "accum: ref", "lr: scalar", "l1: scalar", "l2: scalar", "grad: grad"],
                             _proximal_adagrad, {}),
    "ApplyAdagradDA": (["var: ref", "gradient_accumulator: ref", "gradient_squared_accumulator: ref", "grad: grad",
                        "lr: scalar", "l1: scalar", "l2: scalar", "global_step: int64"], _adagrad_da, {}),
}
# The sparse forms take "indices" right after the gradient; SparseApplyProximalGradientDescent names it "grad".
_MORE_SPARSE_OF = {
    "SparseApplyFtrl": "ApplyFtrl",
    "SparseApplyFtrlV2": "ApplyFtrlV2",
    "SparseApplyProximalGradientDescent": "ApplyProximalGradientDescent",
    "SparseApplyProximalAdagrad": "ApplyProximalAdagrad",
    "SparseApplyAdagradDA": "ApplyAdagradDA",
}
state_ops.register_training_ops(_MORE_TRAINING_OPS, _MORE_SPARSE_OF)


# ----------------------------------------------------------------------------------------------------------
# Python API (the wrappers TF's optimizers call; resource variables get the Resource* forms)
# ----------------------------------------------------------------------------------------------------------
def apply_ftrl(var, accum, linear, grad, lr, l1, l2, lr_power, use_locking=False, multiply_linear_by_lr=False,
               name=None) -> _ops.Tensor | _ops.Operation:
    return _training("ApplyFtrl", [var, accum, linear, grad, lr, l1, l2, lr_power], use_locking, name,
                     multiply_linear_by_lr=bool(multiply_linear_by_lr))


def apply_ftrl_v2(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power, use_locking=False,
                  multiply_linear_by_lr=False, name=None) -> _ops.Tensor | _ops.Operation:
    return _training("ApplyFtrlV2", [var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power], use_locking,
                     name, multiply_linear_by_lr=bool(multiply_linear_by_lr))


def sparse_apply_ftrl(var, accum, linear, grad, indices, lr, l1, l2, lr_power, use_locking=False,
                      multiply_linear_by_lr=False, name=None) -> _ops.Tensor | _ops.Operation:
    return _training("SparseApplyFtrl", [var, accum, linear, grad, indices, lr, l1, l2, lr_power], use_locking,
                     name, multiply_linear_by_lr=bool(multiply_linear_by_lr))


def sparse_apply_ftrl_v2(var, accum, linear, grad, indices, lr, l1, l2, l2_shrinkage, lr_power, use_locking=False,
                         multiply_linear_by_lr=False, name=None) -> _ops.Tensor | _ops.Operation:
    return _training("SparseApplyFtrlV2", [var, accum, linear, grad, indices, lr, l1, l2, l2_shrinkage, lr_power],
                     use_locking, name, multiply_linear_by_lr=bool(multiply_linear_by_lr))


def apply_proximal_gradient_descent(var, alpha, l1, l2, delta, use_locking=False,
                                    name=None) -> _ops.Tensor | _ops.Operation:
    return _training("ApplyProximalGradientDescent", [var, alpha, l1, l2, delta], use_locking, name)


def sparse_apply_proximal_gradient_descent(var, alpha, l1, l2, grad, indices, use_locking=False,
                                           name=None) -> _ops.Tensor | _ops.Operation:
    return _training("SparseApplyProximalGradientDescent", [var, alpha, l1, l2, grad, indices], use_locking, name)


def apply_proximal_adagrad(var, accum, lr, l1, l2, grad, use_locking=False,
                           name=None) -> _ops.Tensor | _ops.Operation:
    return _training("ApplyProximalAdagrad", [var, accum, lr, l1, l2, grad], use_locking, name)


def sparse_apply_proximal_adagrad(var, accum, lr, l1, l2, grad, indices, use_locking=False,
                                  name=None) -> _ops.Tensor | _ops.Operation:
    return _training("SparseApplyProximalAdagrad", [var, accum, lr, l1, l2, grad, indices], use_locking, name)


def apply_adagrad_da(var, gradient_accumulator, gradient_squared_accumulator, grad, lr, l1, l2, global_step,
                     use_locking=False, name=None) -> _ops.Tensor | _ops.Operation:
    return _training("ApplyAdagradDA", [var, gradient_accumulator, gradient_squared_accumulator, grad, lr, l1, l2,
                                        global_step], use_locking, name)


def sparse_apply_adagrad_da(var, gradient_accumulator, gradient_squared_accumulator, grad, indices, lr, l1, l2,
                            global_step, use_locking=False, name=None) -> _ops.Tensor | _ops.Operation:
    return _training("SparseApplyAdagradDA", [var, gradient_accumulator, gradient_squared_accumulator, grad, indices,
                                              lr, l1, l2, global_step], use_locking, name)
