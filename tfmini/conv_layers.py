"""`tf.layers`' convolution and pooling layers beyond layers.py's Conv2D, MaxPooling2D and AveragePooling2D:
Conv1D, Conv3D, Conv2DTranspose, Conv3DTranspose, SeparableConv1D, SeparableConv2D, MaxPooling1D/3D,
AveragePooling1D/3D and their functional forms, with TF 1.15's arguments, variable names and shapes."""

from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export as _tf_export
from tfmini.layers import (
    _ZEROS,
    InputSpec,
    Layer,
    _apply_layer,
    _KernelLayer,
    _normalize_padding,
    _normalize_tuple,
)
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import conv3d_ops as _conv3d_ops
from tfmini.ops import nn_impl as _nn_impl
from tfmini.ops import nn_ops as _nn_ops
from tfmini.ops import pooling_ops as _pooling_ops

# channels_last / channels_first op data formats per number of spatial dimensions
_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _data_format(data_format) -> str:
    fmt = "channels_last" if data_format is None else str(data_format).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f'The `data_format` argument must be one of "channels_first", "channels_last". Received: '
                         f"{data_format}")
    return fmt


def _padding(padding, allow_causal: bool) -> str:
    if allow_causal and str(padding).lower() == "causal":
        return "causal"
    return _normalize_padding(padding)


def _output_length(length, k: int, padding: str, stride: int, dilation: int = 1):
    """A windowed op's output length (Keras' conv_output_length); None stays None."""
    if length is None:
        return None
    eff = (k - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    else:
        out = length - eff + 1
    return (out + stride - 1) // stride


def _deconv_length(length, k: int, padding: str, stride: int):
    """A transposed convolution's output length (Keras' deconv_output_length without output_padding)."""
    if length is None:
        return None
    return length * stride if padding == "same" else length * stride + max(k - stride, 0)


def _spatial_layout(input_shape, rank: int, channels_first: bool) -> tuple:
    """(batch, spatial dims, channels) of a [batch, *spatial, channels] shape (channels_first: [batch, channels,
    *spatial]) of `rank` spatial dimensions."""
    shape = _shape.as_shape(input_shape).with_rank(rank + 2).as_list()
    if channels_first:
        return shape[0], shape[2:], shape[1]
    return shape[0], shape[1:-1], shape[-1]


def _from_spatial_layout(batch, spatial: list, channels, channels_first: bool) -> list:
    """The dimensions [batch, *spatial, channels] (channels_first: [batch, channels, *spatial])."""
    return [batch, channels, *spatial] if channels_first else [batch, *spatial, channels]


# ----------------------------------------------------------------------------------------------------------
# Convolutions
# ----------------------------------------------------------------------------------------------------------
class _Conv(_KernelLayer):
    """An N-d convolution (N = 1, 2 or 3): a [*kernel_size, in_channels, filters] kernel, bias, activation."""

    _rank = 2
    _allow_causal = False

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                 kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, bias_constraint, trainable, name, **kwargs) -> None:
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, trainable, name,
                         **kwargs)
        n = self._rank
        self.filters = int(filters)
        self.kernel_size = _normalize_tuple(kernel_size, n, "kernel_size")
        self.strides = _normalize_tuple(strides, n, "strides")
        self.padding = _padding(padding, self._allow_causal)
        self.data_format = _data_format(data_format)
        self.dilation_rate = _normalize_tuple(dilation_rate, n, "dilation_rate")
        self._op_format = _FORMATS[n][self.data_format == "channels_first"]
        # bias_add takes the 4-D names for every rank (NC... or N...C)
        self._data_format = "NCHW" if self.data_format == "channels_first" else "NHWC"
        self.input_spec = InputSpec(ndim=n + 2)

    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape) -> int:
        input_shape = _shape.as_shape(input_shape).with_rank(self._rank + 2)
        channels = input_shape[self._channel_axis()].value
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        self.input_spec = InputSpec(ndim=self._rank + 2, axes={self._channel_axis(): channels})
        return channels

    def build(self, input_shape) -> None:
        channels = self._input_channels(input_shape)
        self._add_kernel_and_bias(list(self.kernel_size) + [channels, self.filters])

    def _bias_and_activation(self, outputs):
        if self.use_bias and self.data_format == "channels_first" and self._rank != 2:
            # BiasAdd's NCHW form is 4-D: other ranks add the bias reshaped to broadcast over [N, C, ...].
            outputs = outputs + _array_ops.reshape(self.bias, [1, self.filters] + [1] * self._rank)
            return self.activation(outputs) if self.activation is not None else outputs
        return super()._bias_and_activation(outputs)

    def _causal_pad(self, inputs):
        left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        pads = [[0, 0], [0, 0], [left, 0]] if self.data_format == "channels_first" else [[0, 0], [left, 0], [0, 0]]
        return _array_ops.pad(inputs, pads)

    def _convolve(self, inputs, padding: str):
        n = self._rank
        if n == 1:
            return _nn_impl.conv1d(inputs, self.kernel, stride=list(self.strides), padding=padding,
                                   data_format=self._op_format, dilations=list(self.dilation_rate))
        if n == 2:
            return _nn_ops.conv2d(inputs, self.kernel, strides=list(self.strides), padding=padding,
                                  data_format=self._op_format, dilations=list(self.dilation_rate))
        return _conv3d_ops.conv3d(inputs, self.kernel, strides=list(self.strides), padding=padding,
                                  data_format=self._op_format, dilations=list(self.dilation_rate))

    def call(self, inputs):
        inputs = _ops.convert_to_tensor(inputs)
        padding = self.padding
        if padding == "causal":
            inputs, padding = self._causal_pad(inputs), "valid"
        return self._bias_and_activation(self._convolve(inputs, padding.upper()))

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        batch, spatial, _ = _spatial_layout(input_shape, self._rank, first)
        out = [_output_length(d, k, self.padding, s, r)
               for d, k, s, r in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        return _shape.TensorShape(_from_spatial_layout(batch, out, self.filters, first))


@_tf_export("layers.Conv1D")
class Conv1D(_Conv):
    """1-D convolution over [batch, steps, channels] (or channels_first) with a [k, in, filters] kernel; padding
    'causal' pads the start of the sequence only."""

    _rank = 1
    _allow_causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)


@_tf_export("layers.Conv3D")
class Conv3D(_Conv):
    """3-D convolution with a [kd, kh, kw, in, filters] kernel."""

    _rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format="channels_last",
                 dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)


class _ConvTranspose(_Conv):
    """The transpose of an N-d convolution (N = 2 or 3): a [*kernel_size, filters, in_channels] kernel."""

    def build(self, input_shape) -> None:
        channels = self._input_channels(input_shape)
        self._add_kernel_and_bias(list(self.kernel_size) + [self.filters, channels], self.filters)

    def call(self, inputs):
        inputs = _ops.convert_to_tensor(inputs)
        first = self.data_format == "channels_first"
        n = self._rank
        dynamic = _array_ops.shape(inputs)
        static = inputs.shape.as_list()
        axes = range(2, n + 2) if first else range(1, n + 1)
        spatial = []
        for axis, k, s in zip(axes, self.kernel_size, self.strides):
            length = static[axis] if static[axis] is not None else dynamic[axis]
            spatial.append(_deconv_length(length, k, self.padding, s))
        batch = static[0] if static[0] is not None else dynamic[0]
        output_shape = _array_ops.stack(_from_spatial_layout(batch, spatial, self.filters, first))
        padding = self.padding.upper()
        if n == 2:
            outputs = _nn_impl.conv2d_transpose(inputs, self.kernel, output_shape, list(self.strides),
                                                padding=padding, data_format=self._op_format)
        else:
            outputs = _conv3d_ops.conv3d_transpose(inputs, self.kernel, output_shape, list(self.strides),
                                                   padding=padding, data_format=self._op_format)
        outputs.set_shape(self.compute_output_shape(inputs.shape))
        return self._bias_and_activation(outputs)

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        batch, spatial, _ = _spatial_layout(input_shape, self._rank, first)
        out = [_deconv_length(d, k, self.padding, s) for d, k, s in zip(spatial, self.kernel_size, self.strides)]
        return _shape.TensorShape(_from_spatial_layout(batch, out, self.filters, first))


@_tf_export("layers.Conv2DTranspose")
class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"): strides upsample; the kernel is [kh, kw, filters, in]."""

    _rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, 1, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)


@_tf_export("layers.Conv3DTranspose")
class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution: strides upsample; the kernel is [kd, kh, kw, filters, in]."""

    _rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, 1, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)


class _SeparableConv(_Conv):
    """A depthwise convolution (depth_multiplier filters per input channel) followed by a 1x1 convolution, through
    tf.nn.separable_conv2d; the 1-D layer runs it on a height-1 image."""

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                 activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                 depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, trainable, name, **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         None, bias_initializer, None, bias_regularizer, activity_regularizer, None,
                         bias_constraint, trainable, name, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.depthwise_constraint = depthwise_constraint
        self.pointwise_constraint = pointwise_constraint
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape) -> None:
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", list(self.kernel_size) + [channels, self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", [1] * self._rank + [channels * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        inputs = _ops.convert_to_tensor(inputs)
        first = self.data_format == "channels_first"
        padding = self.padding
        if padding == "causal":
            inputs, padding = self._causal_pad(inputs), "valid"
        depthwise, pointwise = self.depthwise_kernel, self.pointwise_kernel
        strides, rate = list(self.strides), list(self.dilation_rate)
        if self._rank == 1:
            spatial_start = 2 if first else 1
            inputs = _array_ops.expand_dims(inputs, spatial_start)
            depthwise = _array_ops.expand_dims(depthwise, 0)
            pointwise = _array_ops.expand_dims(pointwise, 0)
            strides, rate = strides * 2, [1] + rate
        full_strides = [1, 1, *strides] if first else [1, *strides, 1]
        outputs = _conv3d_ops.separable_conv2d(inputs, depthwise, pointwise, full_strides, padding.upper(),
                                               rate=rate, data_format="NCHW" if first else "NHWC")
        if self.use_bias:
            outputs = _nn_ops.bias_add(outputs, self.bias, data_format="NCHW" if first else "NHWC")
        if self._rank == 1:
            outputs = _array_ops.squeeze(outputs, [spatial_start])
        return self.activation(outputs) if self.activation is not None else outputs


@_tf_export("layers.SeparableConv1D")
class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution: depthwise_kernel [k, in, depth_multiplier], pointwise_kernel
    [1, in * depth_multiplier, filters]."""

    _rank = 1
    _allow_causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=_ZEROS, depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, trainable=True,
                 name=None, **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, trainable, name, **kwargs)


@_tf_export("layers.SeparableConv2D")
class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution: depthwise_kernel [kh, kw, in, depth_multiplier], pointwise_kernel
    [1, 1, in * depth_multiplier, filters]."""

    _rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer=None, pointwise_initializer=None, bias_initializer=_ZEROS,
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, trainable, name, **kwargs)


# ----------------------------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------------------------
class _Pooling(Layer):
    """N-d pooling (N = 1 or 3) over pool_size windows moved by strides."""

    _rank = 1
    _kind = "MAX"

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last", name=None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        n = self._rank
        self.pool_size = _normalize_tuple(pool_size, n, "pool_size")
        self.strides = _normalize_tuple(strides, n, "strides")
        self.padding = _normalize_padding(padding)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(ndim=n + 2)

    def call(self, inputs):
        first = self.data_format == "channels_first"
        padding = self.padding.upper()
        if self._rank == 1:
            # Keras pools a [batch, steps, 1, channels] image with a (pool_size, 1) window.
            pad_axis = 3 if first else 2
            x = _array_ops.expand_dims(inputs, pad_axis)
            ksize = [1, 1, self.pool_size[0], 1] if first else [1, self.pool_size[0], 1, 1]
            strides = [1, 1, self.strides[0], 1] if first else [1, self.strides[0], 1, 1]
            pool = _nn_ops.max_pool if self._kind == "MAX" else _nn_ops.avg_pool
            outputs = pool(x, ksize, strides, padding, data_format="NCHW" if first else "NHWC")
            return _array_ops.squeeze(outputs, [pad_axis])
        pool = _pooling_ops.max_pool3d if self._kind == "MAX" else _pooling_ops.avg_pool3d
        return pool(inputs, list(self.pool_size), list(self.strides), padding,
                    data_format=_FORMATS[3][first])

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        batch, spatial, channels = _spatial_layout(input_shape, self._rank, first)
        out = [_output_length(d, k, self.padding, s) for d, k, s in zip(spatial, self.pool_size, self.strides)]
        return _shape.TensorShape(_from_spatial_layout(batch, out, channels, first))


@_tf_export("layers.MaxPooling1D")
class MaxPooling1D(_Pooling):
    """Max pooling over [batch, steps, channels] (or channels_first)."""

    _rank, _kind = 1, "MAX"


@_tf_export("layers.AveragePooling1D")
class AveragePooling1D(_Pooling):
    """Average pooling over [batch, steps, channels] (or channels_first)."""

    _rank, _kind = 1, "AVG"


@_tf_export("layers.MaxPooling3D")
class MaxPooling3D(_Pooling):
    """Max pooling over [batch, depth, height, width, channels] (or channels_first)."""

    _rank, _kind = 3, "MAX"


@_tf_export("layers.AveragePooling3D")
class AveragePooling3D(_Pooling):
    """Average pooling over [batch, depth, height, width, channels] (or channels_first)."""

    _rank, _kind = 3, "AVG"


# ----------------------------------------------------------------------------------------------------------
# Functional interface
# ----------------------------------------------------------------------------------------------------------
@_tf_export("layers.conv1d")
def conv1d(inputs, filters, kernel_size, strides=1, padding="valid", data_format="channels_last", dilation_rate=1,
           activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """A 1-D convolution layer with variables `<scope>/kernel` ([k, in, filters]) and `<scope>/bias`."""
    return _apply_layer(Conv1D, locals())


@_tf_export("layers.conv3d")
def conv3d(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None):
    """A 3-D convolution layer with variables `<scope>/kernel` ([kd, kh, kw, in, filters]) and `<scope>/bias`."""
    return _apply_layer(Conv3D, locals())


@_tf_export("layers.conv2d_transpose")
def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     activation=None, use_bias=True, kernel_initializer=None, bias_initializer=_ZEROS,
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None):
    """A transposed 2-D convolution layer with variables `<scope>/kernel` ([kh, kw, filters, in]) and `/bias`."""
    return _apply_layer(Conv2DTranspose, locals())


@_tf_export("layers.conv3d_transpose")
def conv3d_transpose(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True, kernel_initializer=None,
                     bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True,
                     name=None, reuse=None):
    """A transposed 3-D convolution layer with variables `<scope>/kernel` ([kd, kh, kw, filters, in]), `/bias`."""
    return _apply_layer(Conv3DTranspose, locals())


@_tf_export("layers.separable_conv1d")
def separable_conv1d(inputs, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                     dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                     depthwise_initializer=None, pointwise_initializer=None, bias_initializer=_ZEROS,
                     depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """A depthwise-separable 1-D convolution layer (`<scope>/depthwise_kernel`, `/pointwise_kernel`, `/bias`)."""
    return _apply_layer(SeparableConv1D, locals())


@_tf_export("layers.separable_conv2d")
def separable_conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                     depthwise_initializer=None, pointwise_initializer=None, bias_initializer=_ZEROS,
                     depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """A depthwise-separable 2-D convolution layer (`<scope>/depthwise_kernel`, `/pointwise_kernel`, `/bias`)."""
    return _apply_layer(SeparableConv2D, locals())


@_tf_export("layers.max_pooling1d")
def max_pooling1d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    return MaxPooling1D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


@_tf_export("layers.average_pooling1d")
def average_pooling1d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    return AveragePooling1D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


@_tf_export("layers.max_pooling3d")
def max_pooling3d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    return MaxPooling3D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


@_tf_export("layers.average_pooling3d")
def average_pooling3d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    return AveragePooling3D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)
