"""contrib's normalization layers: `batch_norm` (TF 1.15's three paths: its own fused kernel, the core layer and
the plain ops), `layer_norm`, `instance_norm` and `group_norm`, each with its beta/gamma (and moving statistics)
as model variables in its own variable scope, usable inside `arg_scope`."""

from __future__ import annotations

from tfmini.contrib import _layer_args as _args
from tfmini.contrib._framework_impl import add_arg_scope, model_variable
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import nn_impl as _nn_impl
from tfmini.ops import nn_sampled as _nn_sampled
from tfmini.ops import variable_scope as _vs
from tfmini.train import moving_averages as _moving_averages

_GraphKeys = _ops.GraphKeys


def _norm_param(name: str, shape, dtype, initializer, regularizer, variables_collections, trainable: bool):
    return model_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                          collections=_args.variable_collections(variables_collections, name), trainable=trainable)


@tf_export("contrib.layers.batch_norm")
@add_arg_scope
def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, activation_fn=None,
               param_initializers=None, param_regularizers=None, updates_collections=_GraphKeys.UPDATE_OPS,
               is_training=True, reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
               batch_weights=None, fused=None, data_format=_args.DATA_FORMAT_NHWC, zero_debias_moving_mean=False,
               scope=None, renorm=False, renorm_clipping=None, renorm_decay=0.99, adjustment=None):
    """Batch normalization over all axes but the channel one (last, or 1 for NCHW).

    In training (`is_training`, a bool or a boolean tensor) the batch mean and variance normalize and the
    moving averages `moving_mean`/`moving_variance` are updated with `decay`; the update ops go to
    `updates_collections`, or run with the output when it is None. Otherwise the moving averages normalize.
    `beta` (center) and `gamma` (scale) are model variables under the scope `BatchNorm`. As TF's fused kernel
    does (fused=None means fused), the moving variance of 2-D and 4-D inputs is fed the unbiased batch
    variance, and the biased one otherwise (other ranks, `fused=False`, `batch_weights`).
    """
    if renorm or adjustment is not None:
        raise ValueError("batch_norm: batch renormalization and `adjustment` are not supported by tfmini")
    _args.check_4d_format(data_format)
    with _vs.variable_scope(scope, "BatchNorm", [inputs], reuse=reuse) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        if rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        dtype = inputs.dtype.base_dtype
        # a 2-D input has its channels last whatever the format (TF views it as [N, C, 1, 1] for NCHW)
        axis = 1 if data_format == _args.DATA_FORMAT_NCHW and rank > 2 else rank - 1
        channels = inputs.shape[axis].value
        if channels is None:
            raise ValueError(f"Inputs {inputs.name} has undefined channels dimension {inputs.shape[axis:axis + 1]}.")
        params_shape = [channels]
        initializers = param_initializers or {}
        # TF 1.15 takes one of three paths, which differ in variable order, regularization and the variance fed
        # to the moving average: its own fused kernel (2-D, or a non-default update collection or zero
        # debiasing), the core BatchNormalization layer (fused for 4-D inputs; the only path that applies
        # param_regularizers and creates gamma before beta) and the plain ops (batch_weights, the rest).
        fused = True if fused is None else bool(fused)
        own_fused = fused and batch_weights is None and rank in (2, 4) and (
            zero_debias_moving_mean or rank == 2 or updates_collections != _GraphKeys.UPDATE_OPS)
        core_layer = (not own_fused and batch_weights is None and updates_collections == _GraphKeys.UPDATE_OPS
                      and not zero_debias_moving_mean)
        fused_kernel = own_fused or (core_layer and fused and rank == 4)
        regularizers = (param_regularizers or {}) if core_layer else {}
        params = {}
        for name in (("gamma", "beta") if core_layer else ("beta", "gamma")):
            if {"beta": center, "gamma": scale}[name]:
                params[name] = _norm_param(name, params_shape, dtype,
                                           initializers.get(name, _args.ZEROS if name == "beta" else _args.ONES),
                                           regularizers.get(name), variables_collections, trainable)
        beta, gamma = params.get("beta"), params.get("gamma")
        moving_mean = _norm_param("moving_mean", params_shape, dtype, initializers.get("moving_mean", _args.ZEROS),
                                  None, variables_collections, False)
        moving_variance = _norm_param("moving_variance", params_shape, dtype,
                                      initializers.get("moving_variance", _args.ONES), None, variables_collections,
                                      False)
        moments_axes = [a for a in range(rank) if a != axis]
        if fused_kernel:
            epsilon = max(epsilon, 1.001e-5)
        training = _args.static_bool(is_training)
        if training is False:
            mean, variance = moving_mean, moving_variance
        else:
            if batch_weights is None:
                batch_mean, batch_variance = _nn_impl.moments(inputs, moments_axes)
            else:
                weights = _ops.convert_to_tensor(batch_weights)
                weights = _array_ops.reshape(weights, [-1] + [1] * (rank - 1))
                batch_mean, batch_variance = _nn_impl.weighted_moments(inputs, moments_axes, weights)
            update_variance = batch_variance
            if fused_kernel:
                count = _math_ops.cast(_array_ops.size(inputs) // channels, batch_variance.dtype)
                update_variance = batch_variance * count / _math_ops.maximum(count - 1.0, 1.0)
            if training is None:
                mean = _array_ops.where(is_training, batch_mean, _ops.convert_to_tensor(moving_mean))
                variance = _array_ops.where(is_training, batch_variance, _ops.convert_to_tensor(moving_variance))
                step = _math_ops.cast(is_training, dtype) * (1.0 - decay)
            else:
                mean, variance = batch_mean, batch_variance
                step = 1.0 - decay
            update_mean = _moving_averages.assign_moving_average(moving_mean, batch_mean, 1.0 - step,
                                                                 zero_debias=zero_debias_moving_mean)
            update_var = _moving_averages.assign_moving_average(moving_variance, update_variance, 1.0 - step,
                                                                zero_debias=False)
        broadcast = [1] * rank
        broadcast[axis] = channels

        def shaped(t):
            return t if t is None or axis == rank - 1 else _array_ops.reshape(t, broadcast)

        outputs = _nn_impl.batch_normalization(inputs, shaped(mean), shaped(variance), shaped(beta),
                                               shaped(gamma), epsilon)
        outputs.set_shape(inputs.shape)
        if training is not False:
            if updates_collections is None:
                with _ops.control_dependencies([update_mean, update_var]):
                    outputs = _array_ops.identity(outputs)
            else:
                _ops.add_to_collections(updates_collections, update_mean)
                _ops.add_to_collections(updates_collections, update_var)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


@tf_export("contrib.layers.layer_norm")
@add_arg_scope
def layer_norm(inputs, center=True, scale=True, activation_fn=None, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, begin_norm_axis=1, begin_params_axis=-1, scope=None):
    """Normalizes over the axes from `begin_norm_axis` on (epsilon 1e-12), with `beta`/`gamma` of the shape
    of the axes from `begin_params_axis` on, under the scope `LayerNorm`."""
    with _vs.variable_scope(scope, "LayerNorm", [inputs], reuse=reuse) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        shape = inputs.shape
        rank = shape.ndims
        if rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        dtype = inputs.dtype.base_dtype
        if begin_norm_axis < 0:
            begin_norm_axis = rank + begin_norm_axis
        if begin_params_axis >= rank or begin_norm_axis >= rank:
            raise ValueError(f"begin_params_axis ({begin_params_axis}) and begin_norm_axis ({begin_norm_axis}) "
                             f"must be < rank(inputs) ({rank})")
        params_shape = shape[begin_params_axis:]
        if not params_shape.is_fully_defined():
            raise ValueError(f"Inputs {inputs.name}: shape(inputs)[{begin_params_axis}:] is not fully defined: "
                             f"{shape}")
        beta = gamma = None
        if center:
            beta = _norm_param("beta", params_shape.as_list(), dtype, _args.ZEROS, None, variables_collections,
                               trainable)
        if scale:
            gamma = _norm_param("gamma", params_shape.as_list(), dtype, _args.ONES, None, variables_collections,
                                trainable)
        mean, variance = _nn_impl.moments(inputs, list(range(begin_norm_axis, rank)), keepdims=True)
        outputs = _nn_impl.batch_normalization(inputs, mean, variance, beta, gamma, 1e-12)
        outputs.set_shape(shape)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


@tf_export("contrib.layers.instance_norm")
@add_arg_scope
def instance_norm(inputs, center=True, scale=True, epsilon=1e-6, activation_fn=None, param_initializers=None,
                  reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
                  data_format=_args.DATA_FORMAT_NHWC, scope=None):
    """Normalizes each example and channel over its spatial axes, then `gamma` and `beta` of shape [channels]
    (scope `InstanceNorm`)."""
    inputs = _ops.convert_to_tensor(inputs)
    rank = inputs.shape.ndims
    if rank is None:
        raise ValueError(f"Inputs {inputs.name} has undefined rank.")
    _args.check_4d_format(data_format)
    with _vs.variable_scope(scope, "InstanceNorm", [inputs], reuse=reuse) as sc:
        axis = 1 if data_format == _args.DATA_FORMAT_NCHW else rank - 1
        channels = inputs.shape[axis].value
        if channels is None:
            raise ValueError(f"Inputs {inputs.name} has undefined channels dimension {inputs.shape[axis:axis + 1]}.")
        dtype = inputs.dtype.base_dtype
        initializers = param_initializers or {}
        broadcast = [1] * rank
        broadcast[axis] = channels

        def param(name: str, default):
            variable = _norm_param(name, [channels], dtype, initializers.get(name, default), None,
                                   variables_collections, trainable)
            return variable if axis == rank - 1 else _array_ops.reshape(variable, broadcast)

        beta = param("beta", _args.ZEROS) if center else None
        gamma = param("gamma", _args.ONES) if scale else None
        moments_axes = [a for a in range(1, rank) if a != axis]
        mean, variance = _nn_impl.moments(inputs, moments_axes, keepdims=True)
        outputs = _nn_impl.batch_normalization(inputs, mean, variance, beta, gamma, epsilon, name="instancenorm")
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _args.collect_named_outputs(outputs_collections, sc.original_name_scope, outputs)


def _shape_of(dims: list):
    """A static shape list when every entry is a Python int, else a stacked int32 shape tensor."""
    if all(isinstance(d, int) for d in dims):
        return dims
    return _array_ops.stack([_ops.convert_to_tensor(d, dtype=_dt.int32) for d in dims])


@tf_export("contrib.layers.group_norm")
@add_arg_scope
def group_norm(inputs, groups=32, channels_axis=-1, reduction_axes=(-3, -2), center=True, scale=True,
               epsilon=1e-6, activation_fn=None, param_initializers=None, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, scope=None, mean_close_to_zero=False):
    """Splits the channels into `groups` and normalizes each example's group over its channels and the
    `reduction_axes`, then `gamma` and `beta` of shape [channels] (scope `GroupNorm`)."""
    inputs = _ops.convert_to_tensor(inputs)
    rank = inputs.shape.ndims
    if rank is None:
        raise ValueError(f"Inputs {inputs.name} has undefined rank.")
    if channels_axis > rank - 1:
        raise ValueError("Axis is out of bounds.")
    dynamic = _array_ops.shape(inputs)
    dims = [d.value if d.value is not None else dynamic[i] for i, d in enumerate(inputs.shape)]
    if channels_axis < 0:
        channels_axis += rank
    channels = inputs.shape[channels_axis].value
    if channels is None:
        raise ValueError(f"Inputs {inputs.name} has undefined channel dimension: {channels_axis}.")
    reduction_axes = [a + rank if a < 0 else a for a in reduction_axes]
    for a in reduction_axes:
        if a > rank:
            raise ValueError("Axis is out of bounds.")
        if inputs.shape[a].value is None:
            raise ValueError(f"Inputs {inputs.name} has undefined dimensions {a}.")
        if a == channels_axis:
            raise ValueError("reduction_axis must be mutually exclusive with channels_axis")
    if groups > channels:
        raise ValueError(f"Invalid groups {groups} for {channels} channels.")
    if channels % groups != 0:
        raise ValueError(f"{channels} channels is not commensurate with {groups} groups.")
    before, after = dims[:channels_axis], dims[channels_axis + 1:]
    broadcast = [1] * len(before) + [groups, channels // groups] + [1] * len(after)
    grouped = _array_ops.reshape(inputs, _shape_of(before + [groups, channels // groups] + after))
    # the group's channels (now at channels_axis + 1) and the reduction axes, shifted past the new group axis
    moments_axes = [channels_axis + 1] + [a + 1 if a > channels_axis else a for a in reduction_axes]
    with _vs.variable_scope(scope, "GroupNorm", [grouped], reuse=reuse) as sc:
        dtype = inputs.dtype.base_dtype
        initializers = param_initializers or {}

        def param(name: str, default):
            variable = _norm_param(name, [channels], dtype, initializers.get(name, default), None,
                                   variables_collections, trainable)
            return _array_ops.reshape(variable, broadcast)

        beta = param("beta", _args.ZEROS) if center else None
        gamma = param("gamma", _args.ONES) if scale else None
        if mean_close_to_zero:
            counts, mean_ss, variance_ss, _ = _nn_sampled.sufficient_statistics(grouped, moments_axes, keepdims=True)
            mean, variance = _nn_sampled.normalize_moments(counts, mean_ss, variance_ss, shift=None)
        else:
            mean, variance = _nn_impl.moments(grouped, moments_axes, keepdims=True)
        gain = _math_ops.rsqrt(variance + epsilon)
        offset = -mean * gain
        if gamma is not None:
            gain = gain * gamma
            offset = offset * gamma
        if beta is not None:
            offset = offset + beta
        outputs = _array_ops.reshape(grouped * gain + offset, _shape_of(dims))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _args.collect_named_outputs(outputs_collections, sc.original_name_scope, outputs)
