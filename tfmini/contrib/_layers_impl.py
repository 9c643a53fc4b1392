"""`tf.contrib.layers`: TF 1.15's contrib layer functions (fully_connected, the convolutions, pooling, flatten,
dropout, bias_add, embed_sequence, repeat/stack, ...), each in its own variable scope with its variables in
MODEL_VARIABLES, and every one usable inside `arg_scope`. The normalization layers live in normalization_impl;
initializers, regularizers, summaries and `optimize_loss` in initializers_impl, regularizers_impl and
optimizers_impl."""

from __future__ import annotations

import functools
import numbers

from tfmini.contrib import _layer_args as _args
from tfmini.contrib._framework_impl import add_arg_scope, model_variable
from tfmini.contrib._initializers_impl import xavier_initializer
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import conv3d_ops as _conv3d_ops
from tfmini.ops import depthwise_conv_ops as _depthwise_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import nn_impl as _nn_impl
from tfmini.ops import nn_ops as _nn_ops
from tfmini.ops import pooling_ops as _pooling_ops
from tfmini.ops import variable_scope as _vs

_GraphKeys = _ops.GraphKeys


_XAVIER = xavier_initializer()


def _bias_norm_activation(outputs, num_outputs: int, dtype, data_format: str, activation_fn, normalizer_fn,
                          normalizer_params, biases_initializer, biases_regularizer, variables_collections,
                          trainable: bool):
    """What fully_connected and the convolutions end with: the normalizer or the biases, then the activation."""
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    elif biases_initializer is not None:
        biases = _layer_variable("biases", "bias", [num_outputs], dtype, biases_initializer, biases_regularizer,
                                 variables_collections, trainable)
        outputs = _nn_ops.bias_add(outputs, biases, data_format=data_format)
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return outputs


def _layer_variable(name: str, core_name: str, shape, dtype, initializer, regularizer, variables_collections,
                    trainable: bool):
    """A model variable made as TF 1.15's contrib makes it through a core layer: its penalty is computed once,
    when the variable is created, under `<scope>/<core_name>/Regularizer` (the core layer's own name for the
    weight, `kernel` or `bias`), and added to REGULARIZATION_LOSSES."""
    existing = {id(v) for v in _ops.get_collection(_GraphKeys.GLOBAL_VARIABLES)}
    variable = model_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                              collections=_args.variable_collections(variables_collections, name), trainable=trainable)
    if regularizer is not None and id(variable) not in existing:
        with _ops.name_scope(f"{core_name}/Regularizer"):
            penalty = regularizer(variable)
        if penalty is not None:
            _ops.add_to_collection(_GraphKeys.REGULARIZATION_LOSSES, penalty)
    return variable


def _weights(shape, dtype, initializer, regularizer, variables_collections, trainable):
    return _layer_variable("weights", "kernel", shape, dtype, initializer, regularizer, variables_collections,
                           trainable)


# ----------------------------------------------------------------------------------------------------------
# fully_connected
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.layers.fully_connected")
@add_arg_scope
def fully_connected(inputs, num_outputs, activation_fn=_nn_ops.relu, normalizer_fn=None, normalizer_params=None,
                    weights_initializer=_XAVIER, weights_regularizer=None,
                    biases_initializer=_args.ZEROS, biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """inputs @ weights (+ biases), then `activation_fn` (relu by default), applied on the last dimension.

    Variables `<scope>/weights` [in, num_outputs] (Xavier uniform) and `<scope>/biases` [num_outputs] (zeros;
    not made when `normalizer_fn` is given) go to MODEL_VARIABLES; the default scope is `fully_connected`.
    """
    if not isinstance(num_outputs, numbers.Integral) or isinstance(num_outputs, bool):
        raise ValueError(f"num_outputs type should be one of [<class 'int'>], got {type(num_outputs)}.")
    with _vs.variable_scope(scope, "fully_connected", [inputs], reuse=reuse) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        dtype = inputs.dtype.base_dtype
        if not dtype.is_floating:
            raise ValueError(f"fully_connected expects floating inputs, got {dtype.name}")
        rank = inputs.shape.ndims
        if rank is not None and rank < 2:
            raise ValueError(f"Input must have at least rank 2, got rank {rank}: {inputs.shape}")
        in_units = inputs.shape[-1].value if rank is not None else None
        if in_units is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        weights = _weights([in_units, int(num_outputs)], dtype, weights_initializer, weights_regularizer,
                           variables_collections, trainable)
        if rank == 2:
            outputs = _math_ops.matmul(inputs, weights)
        else:
            outputs = _math_ops.tensordot(inputs, weights, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape[:-1].concatenate([int(num_outputs)]))
        outputs = _bias_norm_activation(outputs, int(num_outputs), dtype, _args.DATA_FORMAT_NHWC, activation_fn,
                                        normalizer_fn, normalizer_params, biases_initializer, biases_regularizer,
                                        variables_collections, trainable)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


# ----------------------------------------------------------------------------------------------------------
# Convolutions
# ----------------------------------------------------------------------------------------------------------
_CONV_FORMATS = (None, "NWC", "NCW", _args.DATA_FORMAT_NHWC, _args.DATA_FORMAT_NCHW, "NDHWC", "NCDHW")
# window rank -> (channels-first format, channels-last format)
_FORMATS_BY_RANK = {1: ("NCW", "NWC"), 2: (_args.DATA_FORMAT_NCHW, _args.DATA_FORMAT_NHWC), 3: ("NCDHW", "NDHWC")}


def _convolution(inputs, num_outputs, kernel_size, stride, padding, data_format, rate, activation_fn, normalizer_fn,
                 normalizer_params, weights_initializer, weights_regularizer, biases_initializer, biases_regularizer,
                 reuse, variables_collections, outputs_collections, trainable, scope, conv_dims):
    """The N-D convolution layer behind convolution, convolution1d/2d/3d (N = 1, 2, 3 from the input's rank,
    checked against `conv_dims` when given)."""
    if data_format not in _CONV_FORMATS:
        raise ValueError(f"Invalid data_format: {data_format!r}")
    with _vs.variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        if conv_dims is not None and rank != conv_dims + 2:
            raise ValueError(f"Convolution expects input with rank {conv_dims + 2}, got {rank}")
        if rank not in (3, 4, 5):
            raise ValueError(f"Convolution not supported for input with rank {rank}")
        n = rank - 2
        channels_first = bool(data_format) and data_format.startswith("NC")
        fmt = _FORMATS_BY_RANK[n][0 if channels_first else 1]
        kernel = _args.ntuple(kernel_size, n, "kernel_size")
        strides = _args.ntuple(stride, n, "strides")
        rates = _args.ntuple(rate, n, "dilation_rate")
        if max(rates) > 1 and max(strides) > 1:
            raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
        dtype = inputs.dtype.base_dtype
        in_channels = _args.channels_of(inputs, fmt, "`Conv`")
        weights = _weights(kernel + [in_channels, int(num_outputs)], dtype, weights_initializer, weights_regularizer,
                           variables_collections, trainable)
        padding = padding.upper()
        if n == 1:
            outputs = _nn_impl.conv1d(inputs, weights, strides, padding, data_format=fmt, dilations=rates)
        elif n == 2:
            outputs = _nn_ops.conv2d(inputs, weights, strides=strides, padding=padding, data_format=fmt,
                                     dilations=rates)
        else:
            def full(values):
                return [1, 1, *values] if channels_first else [1, *values, 1]

            outputs = _conv3d_ops.conv3d(inputs, weights, strides=full(strides), padding=padding, data_format=fmt,
                                         dilations=full(rates))
        bias_format = _args.DATA_FORMAT_NCHW if channels_first else _args.DATA_FORMAT_NHWC
        outputs = _bias_norm_activation(outputs, int(num_outputs), dtype, bias_format, activation_fn, normalizer_fn,
                                        normalizer_params, biases_initializer, biases_regularizer,
                                        variables_collections, trainable)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


@tf_export("contrib.layers.convolution")
@add_arg_scope
def convolution(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                activation_fn=_nn_ops.relu, normalizer_fn=None, normalizer_params=None, weights_initializer=_XAVIER,
                weights_regularizer=None, biases_initializer=_args.ZEROS, biases_regularizer=None, reuse=None,
                variables_collections=None, outputs_collections=None, trainable=True, scope=None, conv_dims=None):
    """An N-D convolution (N = 1, 2 or 3, from the input's rank) with `<scope>/weights` [k..., in, num_outputs]
    (default scope `Conv`), then biases or `normalizer_fn`, then `activation_fn`; `rate` > 1 dilates the
    kernel (atrous convolution) and cannot be combined with a stride > 1."""
    return _convolution(**locals())


@tf_export("contrib.layers.conv1d", "contrib.layers.convolution1d")
@add_arg_scope
def convolution1d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                  activation_fn=_nn_ops.relu, normalizer_fn=None, normalizer_params=None,
                  weights_initializer=_XAVIER, weights_regularizer=None, biases_initializer=_args.ZEROS,
                  biases_regularizer=None, reuse=None, variables_collections=None, outputs_collections=None,
                  trainable=True, scope=None):
    """`convolution` of a 3-D input ([batch, width, channels], or NCW)."""
    return _convolution(**locals(), conv_dims=1)


@tf_export("contrib.layers.conv2d", "contrib.layers.convolution2d")
@add_arg_scope
def convolution2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                  activation_fn=_nn_ops.relu, normalizer_fn=None, normalizer_params=None,
                  weights_initializer=_XAVIER, weights_regularizer=None, biases_initializer=_args.ZEROS,
                  biases_regularizer=None, reuse=None, variables_collections=None, outputs_collections=None,
                  trainable=True, scope=None):
    """`convolution` of a 4-D input (NHWC, or NCHW): weights [kh, kw, in, num_outputs] under the scope `Conv`."""
    return _convolution(**locals(), conv_dims=2)


@tf_export("contrib.layers.conv3d", "contrib.layers.convolution3d")
@add_arg_scope
def convolution3d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                  activation_fn=_nn_ops.relu, normalizer_fn=None, normalizer_params=None,
                  weights_initializer=_XAVIER, weights_regularizer=None, biases_initializer=_args.ZEROS,
                  biases_regularizer=None, reuse=None, variables_collections=None, outputs_collections=None,
                  trainable=True, scope=None):
    """`convolution` of a 5-D input (NDHWC, or NCDHW)."""
    return _convolution(**locals(), conv_dims=3)


conv1d = convolution1d
conv2d = convolution2d
conv3d = convolution3d
linear = functools.partial(fully_connected, activation_fn=None)
tf_export("contrib.layers.linear").export_constant(__name__, "linear")
relu = functools.partial(fully_connected, activation_fn=_nn_ops.relu)
tf_export("contrib.layers.relu").export_constant(__name__, "relu")
relu6 = functools.partial(fully_connected, activation_fn=_nn_ops.relu6)
tf_export("contrib.layers.relu6").export_constant(__name__, "relu6")


def _image_inputs(inputs, data_format: str, layer: str) -> tuple:
    """(inputs as a rank-4 tensor, their base dtype, their channel count) for the 2-D image layer `layer`."""
    inputs = _ops.convert_to_tensor(inputs)
    if inputs.shape.ndims != 4:
        raise ValueError(f"Inputs should have rank 4. Received input shape: {inputs.shape}")
    return inputs, inputs.dtype.base_dtype, _args.channels_of(inputs, data_format, layer)


def _deconv_length(size, kernel: int, padding: str, stride: int):
    if size is None:
        return None
    return size * stride if padding == "SAME" else size * stride + max(kernel - stride, 0)


@tf_export("contrib.layers.conv2d_transpose", "contrib.layers.convolution2d_transpose")
@add_arg_scope
def convolution2d_transpose(inputs, num_outputs, kernel_size, stride=1, padding="SAME",
                            data_format=_args.DATA_FORMAT_NHWC, activation_fn=_nn_ops.relu, normalizer_fn=None,
                            normalizer_params=None, weights_initializer=_XAVIER,
                            weights_regularizer=None, biases_initializer=_args.ZEROS, biases_regularizer=None,
                            reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
                            scope=None):
    """The transpose of conv2d with `<scope>/weights` [kh, kw, num_outputs, in] (default scope
    `Conv2d_transpose`): each spatial size becomes size * stride (SAME) or size * stride + max(k - stride, 0)
    (VALID)."""
    _args.check_4d_format(data_format)
    kh, kw = _args.pair(kernel_size, "kernel_size")
    sh, sw = _args.pair(stride, "strides")
    padding = padding.upper()
    with _vs.variable_scope(scope, "Conv2d_transpose", [inputs], reuse=reuse) as sc:
        inputs, dtype, in_channels = _image_inputs(inputs, data_format, "`Conv2DTranspose`")
        weights = _weights([kh, kw, int(num_outputs), in_channels], dtype, weights_initializer,
                           weights_regularizer, variables_collections, trainable)
        h_axis, w_axis = (2, 3) if data_format == _args.DATA_FORMAT_NCHW else (1, 2)
        dynamic = _array_ops.shape(inputs)
        out_h = _deconv_length(dynamic[h_axis], kh, padding, sh)
        out_w = _deconv_length(dynamic[w_axis], kw, padding, sw)
        if data_format == _args.DATA_FORMAT_NCHW:
            output_shape = _array_ops.stack([dynamic[0], int(num_outputs), out_h, out_w])
            strides = [1, 1, sh, sw]
        else:
            output_shape = _array_ops.stack([dynamic[0], out_h, out_w, int(num_outputs)])
            strides = [1, sh, sw, 1]
        outputs = _nn_impl.conv2d_transpose(inputs, weights, output_shape, strides, padding=padding,
                                            data_format=data_format)
        static_h = _deconv_length(inputs.shape[h_axis].value, kh, padding, sh)
        static_w = _deconv_length(inputs.shape[w_axis].value, kw, padding, sw)
        batch = inputs.shape[0].value
        outputs.set_shape([batch, int(num_outputs), static_h, static_w] if data_format == _args.DATA_FORMAT_NCHW
                          else [batch, static_h, static_w, int(num_outputs)])
        outputs = _bias_norm_activation(outputs, int(num_outputs), dtype, data_format, activation_fn,
                                        normalizer_fn, normalizer_params, biases_initializer, biases_regularizer,
                                        variables_collections, trainable)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


conv2d_transpose = convolution2d_transpose


@tf_export("contrib.layers.separable_conv2d", "contrib.layers.separable_convolution2d")
@add_arg_scope
def separable_convolution2d(inputs, num_outputs, kernel_size, depth_multiplier, stride=1, padding="SAME",
                            data_format=_args.DATA_FORMAT_NHWC, rate=1, activation_fn=_nn_ops.relu, normalizer_fn=None,
                            normalizer_params=None, weights_initializer=_XAVIER, weights_regularizer=None,
                            biases_initializer=_args.ZEROS, biases_regularizer=None, reuse=None,
                            variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """A depthwise convolution with `<scope>/depthwise_weights` [kh, kw, in, depth_multiplier], then (unless
    `num_outputs` is None) a 1x1 convolution with `<scope>/pointwise_weights` [1, 1, in * depth_multiplier,
    num_outputs], then biases or `normalizer_fn` and `activation_fn` (default scope `SeparableConv2d`)."""
    _args.check_4d_format(data_format)
    kh, kw = _args.pair(kernel_size, "kernel_size")
    sh, sw = _args.pair(stride, "strides")
    rates = _args.pair(rate, "dilation_rate")
    padding = padding.upper()
    with _vs.variable_scope(scope, "SeparableConv2d", [inputs], reuse=reuse) as sc:
        inputs, dtype, in_channels = _image_inputs(inputs, data_format, "`SeparableConv2D`")
        strides = [1, 1, sh, sw] if data_format == _args.DATA_FORMAT_NCHW else [1, sh, sw, 1]
        if num_outputs is not None:
            # built as TF's core SeparableConv2D layer builds it: its penalties carry the layer's weight names
            depthwise = _layer_variable("depthwise_weights", "depthwise_kernel",
                                        [kh, kw, in_channels, depth_multiplier], dtype, weights_initializer,
                                        weights_regularizer, {"depthwise_weights": _args.variable_collections(
                                            variables_collections, "weights")}, trainable)
            pointwise = _layer_variable("pointwise_weights", "pointwise_kernel",
                                        [1, 1, in_channels * depth_multiplier, int(num_outputs)], dtype,
                                        weights_initializer, weights_regularizer, {"pointwise_weights": (
                                            _args.variable_collections(variables_collections, "weights"))}, trainable)
        else:
            depthwise = model_variable("depthwise_weights", shape=[kh, kw, in_channels, depth_multiplier],
                                       dtype=dtype, initializer=weights_initializer, regularizer=weights_regularizer,
                                       collections=_args.variable_collections(variables_collections, "weights"),
                                       trainable=trainable)
        outputs = _depthwise_ops.depthwise_conv2d(inputs, depthwise, strides, padding, rate=rates,
                                                  data_format=data_format)
        if num_outputs is not None:
            outputs = _nn_ops.conv2d(outputs, pointwise, strides=[1, 1, 1, 1], padding="VALID",
                                     data_format=data_format)
            width = int(num_outputs)
        else:
            width = in_channels * depth_multiplier
        outputs = _bias_norm_activation(outputs, width, dtype, data_format, activation_fn, normalizer_fn,
                                        normalizer_params, biases_initializer, biases_regularizer,
                                        variables_collections, trainable)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


separable_conv2d = separable_convolution2d


# ----------------------------------------------------------------------------------------------------------
# Pooling and reshaping
# ----------------------------------------------------------------------------------------------------------
def _pool(pool, default_name: str, n: int, inputs, kernel_size, stride, padding, data_format, outputs_collections,
          scope):
    channels_first_format, channels_last_format = _FORMATS_BY_RANK[n]
    if data_format not in (channels_first_format, channels_last_format):
        raise ValueError(f"data_format has to be either {channels_first_format} or {channels_last_format}.")
    window = _args.ntuple(kernel_size, n, "pool_size")
    steps = _args.ntuple(stride, n, "strides")
    with _ops.name_scope(scope, default_name, [inputs]) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        if data_format == channels_first_format:
            ksize, strides = [1, 1, *window], [1, 1, *steps]
        else:
            ksize, strides = [1, *window, 1], [1, *steps, 1]
        outputs = pool(inputs, ksize, strides, padding.upper(), data_format=data_format)
        return _args.collect_named_outputs(outputs_collections, sc, outputs)


def _pool2d(pool, default_name: str, inputs, kernel_size, stride, padding, data_format, outputs_collections,
            scope):
    return _pool(pool, default_name, 2, inputs, kernel_size, stride, padding, data_format, outputs_collections,
                 scope)


@tf_export("contrib.layers.max_pool2d")
@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format=_args.DATA_FORMAT_NHWC,
               outputs_collections=None, scope=None):
    """Max pooling over kernel_size windows (int or pair) moved by `stride`, under the name scope `MaxPool2D`."""
    return _pool2d(_nn_ops.max_pool, "MaxPool2D", inputs, kernel_size, stride, padding, data_format,
                   outputs_collections, scope)


@tf_export("contrib.layers.avg_pool2d")
@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format=_args.DATA_FORMAT_NHWC,
               outputs_collections=None, scope=None):
    """Average pooling over kernel_size windows moved by `stride`, under the name scope `AvgPool2D`."""
    return _pool2d(_nn_ops.avg_pool, "AvgPool2D", inputs, kernel_size, stride, padding, data_format,
                   outputs_collections, scope)


@tf_export("contrib.layers.max_pool3d")
@add_arg_scope
def max_pool3d(inputs, kernel_size, stride=2, padding="VALID", data_format="NDHWC", outputs_collections=None,
               scope=None):
    """3-D max pooling over kernel_size windows moved by `stride`, under the name scope `MaxPool3D`."""
    return _pool(_pooling_ops.max_pool3d, "MaxPool3D", 3, inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)


@tf_export("contrib.layers.avg_pool3d")
@add_arg_scope
def avg_pool3d(inputs, kernel_size, stride=2, padding="VALID", data_format="NDHWC", outputs_collections=None,
               scope=None):
    """3-D average pooling over kernel_size windows moved by `stride`, under the name scope `AvgPool3D`."""
    return _pool(_pooling_ops.avg_pool3d, "AvgPool3D", 3, inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)


@tf_export("contrib.layers.flatten")
@add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
    """Reshapes [batch, d1, ..., dn] to [batch, d1 * ... * dn] (name scope `Flatten`)."""
    with _ops.name_scope(scope, "Flatten", [inputs]) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        shape = inputs.shape
        if shape.ndims is None or shape.ndims < 2:
            raise ValueError(f"Inputs must have a least 2 dimensions. Received: {shape}")
        outputs = _array_ops.reshape(inputs, _array_ops.stack([_array_ops.shape(inputs)[0], -1]))
        rest = shape[1:].num_elements() if shape[1:].is_fully_defined() else None
        outputs.set_shape([shape[0].value, rest])
        return _args.collect_named_outputs(outputs_collections, sc, outputs)


# ----------------------------------------------------------------------------------------------------------
# Unit norm
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.layers.unit_norm")
@add_arg_scope
def unit_norm(inputs, dim, epsilon=1e-7, scope=None):
    """inputs / sqrt(epsilon + sum(inputs**2 along `dim`)), under the scope `UnitNorm`."""
    with _vs.variable_scope(scope, "UnitNorm", [inputs]):
        inputs = _ops.convert_to_tensor(inputs)
        if inputs.shape.ndims is None:
            raise ValueError("The input rank must be known.")
        if dim < 0 or dim >= inputs.shape.ndims:
            raise ValueError("dim must be positive but smaller than the input rank.")
        lengths = _math_ops.sqrt(epsilon + _math_ops.reduce_sum(_math_ops.square(inputs), dim, keepdims=True))
        return _math_ops.truediv(inputs, lengths)


# ----------------------------------------------------------------------------------------------------------
# Dropout, bias_add, one-hot, embeddings
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.layers.dropout")
@add_arg_scope
def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None, scope=None,
            seed=None):
    """Keeps each element with probability `keep_prob` (scaled by 1 / keep_prob) when `is_training`, else
    returns the inputs unchanged (an Identity), under the scope `Dropout`."""
    with _vs.variable_scope(scope, "Dropout", [inputs]) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        outputs = _args.smart_cond(
            is_training,
            lambda: _nn_impl.dropout(inputs, rate=1 - keep_prob, noise_shape=noise_shape, seed=seed),
            lambda: _array_ops.identity(inputs))
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


@tf_export("contrib.layers.bias_add")
@add_arg_scope
def bias_add(inputs, activation_fn=None, initializer=_args.ZEROS, regularizer=None, reuse=None,
             variables_collections=None, outputs_collections=None, trainable=True, data_format=_args.DATA_FORMAT_NHWC,
             scope=None):
    """inputs + `<scope>/biases` along the channel axis (default scope `BiasAdd`), then `activation_fn`."""
    _args.check_4d_format(data_format)
    with _vs.variable_scope(scope, "BiasAdd", [inputs], reuse=reuse) as sc:
        inputs = _ops.convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        if rank is None:
            raise ValueError("Dims of shape must be known but is None")
        if rank != 4 and data_format == _args.DATA_FORMAT_NCHW:
            raise ValueError("Data format NCHW only supports 4D Tensor")
        num_features = inputs.shape[1 if data_format == _args.DATA_FORMAT_NCHW else -1].value
        if num_features is None:
            raise ValueError("`C` dimension must be known but is None")
        biases = model_variable("biases", shape=[num_features], dtype=inputs.dtype.base_dtype,
                                initializer=initializer, regularizer=regularizer,
                                collections=_args.variable_collections(variables_collections, "biases"),
                                trainable=trainable)
        outputs = _nn_ops.bias_add(inputs, biases, data_format=data_format)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _args.collect_named_outputs(outputs_collections, sc.name, outputs)


@tf_export("contrib.layers.one_hot_encoding")
@add_arg_scope
def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None, scope=None):
    """One-hot float rows of `num_classes` for integer `labels` (name scope `OneHotEncoding`)."""
    with _ops.name_scope(scope, "OneHotEncoding", [labels, num_classes]) as sc:
        labels = _ops.convert_to_tensor(labels)
        if labels.dtype.base_dtype == _dt.int32:
            labels = _math_ops.to_int64(labels)
        outputs = _array_ops.one_hot(labels, num_classes, on_value=on_value, off_value=off_value)
        return _args.collect_named_outputs(outputs_collections, sc, outputs)


@tf_export("contrib.layers.embed_sequence")
def embed_sequence(ids, vocab_size=None, embed_dim=None, unique=False, initializer=None, regularizer=None,
                   trainable=True, scope=None, reuse=None):
    """Looks `ids` up in `<scope>/embeddings` [vocab_size, embed_dim] (default scope `EmbedSequence`)."""
    if not (reuse or (vocab_size and embed_dim)):
        raise ValueError("Must specify vocab size and embedding dimension when not reusing. Got "
                         f"vocab_size={vocab_size} and embed_dim={embed_dim}")
    with _vs.variable_scope(scope, "EmbedSequence", [ids], reuse=reuse):
        shape = None if vocab_size is None or embed_dim is None else [vocab_size, embed_dim]
        embeddings = model_variable("embeddings", shape=shape, initializer=initializer, regularizer=regularizer,
                                    trainable=trainable)
        if unique:
            ids = _ops.convert_to_tensor(ids)
            flat = _array_ops.reshape(ids, [-1])
            values, index = _array_ops.unique(flat)
            looked_up = _nn_impl.embedding_lookup(embeddings, values)
            gathered = _array_ops.gather(looked_up, index)
            shape_out = _array_ops.concat([_array_ops.shape(ids), _array_ops.shape(looked_up)[1:]], 0)
            return _array_ops.reshape(gathered, shape_out)
        return _nn_impl.embedding_lookup(embeddings, ids)


@tf_export("contrib.layers.maxout")
def maxout(inputs, num_units, axis=-1, scope=None):
    """The maximum over each of `num_units` groups of features along `axis`: feature c belongs to group
    c % num_units (scope `MaxOut`)."""
    with _vs.variable_scope(scope, "MaxOut", [inputs]):
        inputs = _ops.convert_to_tensor(inputs)
        shape = inputs.shape.as_list()
        num_channels = shape[axis]
        if num_channels is None:
            raise ValueError(f"The number of features along axis {axis} must be known")
        if num_channels % num_units:
            raise ValueError(f"number of features({num_channels}) is not a multiple of num_units({num_units})")
        axis = axis + len(shape) if axis < 0 else axis
        expanded = [-1 if d is None else d for d in shape]
        expanded[axis] = num_units
        expanded.insert(axis, num_channels // num_units)
        return _math_ops.reduce_max(_array_ops.reshape(inputs, expanded), axis, keepdims=False)


@tf_export("contrib.layers.softmax")
def softmax(logits, scope=None):
    """Softmax over the last dimension of `logits` of any rank (name scope `softmax`)."""
    with _vs.variable_scope(scope, "softmax", [logits]):
        logits = _ops.convert_to_tensor(logits)
        if logits.shape.ndims is None or logits.shape.ndims < 2:
            raise ValueError(f"rank of shape must be at least 2 not: {logits.shape.ndims}")
        num_logits = logits.shape[-1].value
        if num_logits is None:
            raise ValueError("last dimension shape must be known but is None")
        flat = _array_ops.reshape(logits, [-1, num_logits])
        predictions = _nn_ops.softmax(flat)
        predictions = _array_ops.reshape(predictions, _array_ops.shape(logits))
        predictions.set_shape(logits.shape)
        return predictions


# ----------------------------------------------------------------------------------------------------------
# repeat and stack
# ----------------------------------------------------------------------------------------------------------
def _layer_name(layer) -> str | None:
    if hasattr(layer, "__name__"):
        return layer.__name__
    func = getattr(layer, "func", None)
    return getattr(func, "__name__", None)


@tf_export("contrib.layers.repeat")
def repeat(inputs, repetitions, layer, *args, **kwargs):
    """Applies `layer(outputs, *args, **kwargs)` `repetitions` times; the i-th call gets the scope
    `<scope>/<scope>_<i>` (scope: the `scope` keyword, else the layer's name; outer default `Repeat`)."""
    scope = kwargs.pop("scope", None)
    with _vs.variable_scope(scope, "Repeat", [inputs]):
        outputs = _ops.convert_to_tensor(inputs)
        if scope is None:
            scope = _layer_name(layer) or "repeat"
        for i in range(repetitions):
            kwargs["scope"] = f"{scope}_{i + 1}"
            outputs = layer(outputs, *args, **kwargs)
        return outputs


@tf_export("contrib.layers.stack")
def stack(inputs, layer, stack_args, **kwargs):
    """Applies `layer` once per entry of `stack_args` (a tuple of positional arguments or one argument), each
    call in the scope `<scope>/<scope>_<i>` (outer default `Stack`)."""
    scope = kwargs.pop("scope", None)
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError("stack_args need to be a list or tuple")
    with _vs.variable_scope(scope, "Stack", [inputs]):
        outputs = _ops.convert_to_tensor(inputs)
        if scope is None:
            scope = _layer_name(layer) or "stack"
        for i, layer_args in enumerate(stack_args):
            kwargs["scope"] = f"{scope}_{i + 1}"
            layer_args = layer_args if isinstance(layer_args, (list, tuple)) else [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
        return outputs

