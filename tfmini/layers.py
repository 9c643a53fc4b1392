"""`tf.layers`: TF1's layer classes and functions (Layer, InputSpec, Dense, Conv2D, MaxPooling2D, AveragePooling2D,
Flatten, Dropout, BatchNormalization; the other convolution and pooling layers are in conv_layers.py). A layer
owns a variable scope, creates its variables there with `tf.get_variable` on its first call and reuses them on
later calls; its ops go under the scope's name scope."""

import re as _re

import numpy as _np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export as _tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import control_flow_ops as _control_flow_ops
from tfmini.ops import init_ops as _init_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import nn_impl as _nn_impl
from tfmini.ops import nn_ops as _nn_ops
from tfmini.ops import state_ops as _state_ops
from tfmini.ops import variable_scope as _vs

_GraphKeys = _ops.GraphKeys
# TF's default initializers, shared (initializers are immutable).
_ZEROS = _init_ops.zeros_initializer()
_ONES = _init_ops.ones_initializer()


def _snake_case(name: str) -> str:
    """A class name as Keras names its layers: Conv2D -> conv2d, Conv3DTranspose -> conv3d_transpose."""
    words = _re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return _re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


def _normalize_tuple(value, n: int, name: str) -> tuple:
    """An int or a sequence of `n` ints, as an n-tuple (Keras' rule and error)."""
    if isinstance(value, (int, _np.integer)):
        return (int(value),) * n
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}") from None
    if len(items) != n or not all(isinstance(v, (int, _np.integer)) for v in items):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    return tuple(int(v) for v in items)


def _normalize_padding(padding) -> str:
    """Keras' lower-case padding name ('valid' or 'same'); the ops take it upper-case."""
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f'The `padding` argument must be one of "valid", "same". Received: {padding}')
    return p


def _normalize_data_format(data_format) -> str:
    fmt = "channels_last" if data_format is None else str(data_format).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f'The `data_format` argument must be one of "channels_first", "channels_last". Received: '
                         f"{data_format}")
    return "NHWC" if fmt == "channels_last" else "NCHW"


def _keras_data_format(data_format: str) -> str:
    return "channels_first" if data_format == "NCHW" else "channels_last"


def _smart_cond(pred, true_fn, false_fn):
    """Calls one branch when `pred` is known at graph-construction time, else builds a tf.cond."""
    if isinstance(pred, _ops.Tensor):
        value = _reg.constant_value(pred)
        if value is None:
            return _control_flow_ops.cond(pred, true_fn, false_fn)
        pred = bool(value)
    return true_fn() if pred else false_fn()


# ----------------------------------------------------------------------------------------------------------
# InputSpec
# ----------------------------------------------------------------------------------------------------------
@_tf_export("layers.InputSpec")
class InputSpec:
    """What a layer accepts: a dtype, a rank (ndim, or bounds min_ndim/max_ndim), a full shape, or values for some
    axes ({axis: size}); a layer checks its inputs against its `input_spec` on every call."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None) -> None:
        self.dtype = None if dtype is None else _dt.as_dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def __repr__(self) -> str:
        spec = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                          ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                          ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(spec)})"


def _check_input_spec(specs, inputs, layer_name: str) -> None:
    """Raises ValueError (Keras' wording) when an input does not meet its InputSpec."""
    specs = specs if isinstance(specs, (list, tuple)) else [specs]
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if len(inputs) != len(specs):
        raise ValueError(f"Layer {layer_name} expects {len(specs)} inputs, but it received {len(inputs)} input "
                         "tensors.")
    for i, (spec, x) in enumerate(zip(specs, inputs)):
        if spec is None:
            continue
        x = _ops.convert_to_tensor(x)
        shape = x.shape
        where = f"Input {i} of layer {layer_name} is incompatible with the layer: "
        full = f". Full shape received: {shape.as_list() if shape.ndims is not None else None}"
        rank = shape.ndims
        if spec.ndim is not None and rank != spec.ndim:
            raise ValueError(f"{where}expected ndim={spec.ndim}, found ndim={rank}{full}")
        if spec.max_ndim is not None and rank is not None and rank > spec.max_ndim:
            raise ValueError(f"{where}expected max_ndim={spec.max_ndim}, found ndim={rank}")
        if spec.min_ndim is not None and rank is not None and rank < spec.min_ndim:
            raise ValueError(f"{where}expected min_ndim={spec.min_ndim}, found ndim={rank}{full}")
        if spec.dtype is not None and x.dtype.base_dtype.name != spec.dtype:
            raise ValueError(f"{where}expected dtype={spec.dtype}, found dtype={x.dtype.base_dtype.name}")
        if rank is None:
            continue
        dims = shape.as_list()
        for axis, value in spec.axes.items():
            if value is not None and dims[int(axis)] not in (value, None):
                raise ValueError(f"{where}expected axis {axis} of input shape to have value {value} but received "
                                 f"input with shape {dims}")
        if spec.shape is not None:
            for want, got in zip(spec.shape, dims):
                if want is not None and got is not None and want != got:
                    raise ValueError(f"{where}expected shape={spec.shape}, found shape={tuple(dims)}")


# ----------------------------------------------------------------------------------------------------------
# Layer
# ----------------------------------------------------------------------------------------------------------
@_tf_export("layers.Layer")
class Layer:
    """The TF1 layer: variables through `add_weight` (tf.get_variable in the layer's scope), `build` on the first
    call, `call` for the computation. `trainable_weights`, `updates` and `losses` list what it made."""

    def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, _scope=None,
                 activity_regularizer=None, **kwargs) -> None:
        unknown = set(kwargs) - {"input_shape", "batch_input_shape", "batch_size", "weights", "autocast"}
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]}")
        self.trainable = trainable
        self.built = False
        self._reuse = _reuse
        self._given_name = name if isinstance(name, str) and name else None
        self._base_name = self._given_name or _snake_case(type(self).__name__)
        self._name = self._given_name
        self._scope = _scope if isinstance(_scope, _vs.VariableScope) else None
        self._dtype = None if dtype is None else _dt.as_dtype(dtype).base_dtype
        self._activity_regularizer = activity_regularizer
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._updates: list = []
        self._losses: list = []
        self._graph = None
        self.input_spec = None

    # -- properties ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name if self._name is not None else self._base_name

    @property
    def dtype(self):
        return self._dtype

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError("No name available for layer scope because the layer \"" + self.name +
                             "\" has not been used yet. The scope name  is determined the first time the layer "
                             "instance is called. You must therefore call the layer before querying `scope_name`.")
        return self._scope.name

    @property
    def trainable_weights(self) -> list:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weights(self) -> list:
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def updates(self) -> list:
        return list(self._updates)

    @property
    def losses(self) -> list:
        return list(self._losses)

    # -- variables ---------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None, **kwargs):
        """Gets or creates `name` with tf.get_variable in the layer's scope and tracks it."""
        dtype = _dt.as_dtype(dtype or self._dtype or _dt.float32).base_dtype
        before = set(map(id, _ops.get_collection(_GraphKeys.REGULARIZATION_LOSSES)))
        variable = _vs.get_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                                   trainable=trainable and self.trainable, constraint=constraint)
        self._losses.extend(loss for loss in _ops.get_collection(_GraphKeys.REGULARIZATION_LOSSES)
                            if id(loss) not in before)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(variable)
        return variable

    def add_update(self, updates, inputs=None) -> None:
        updates = updates if isinstance(updates, (list, tuple)) else [updates]
        for u in updates:
            self._updates.append(u)
            _ops.add_to_collection(_GraphKeys.UPDATE_OPS, u)

    def add_loss(self, losses, inputs=None) -> None:
        losses = losses if isinstance(losses, (list, tuple)) else [losses]
        for loss in losses:
            self._losses.append(loss)
            _ops.add_to_collection(_GraphKeys.REGULARIZATION_LOSSES, loss)

    # -- calling -----------------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError

    def _capture_scope(self) -> None:
        if self._reuse:
            with _vs.variable_scope(self._given_name or self._base_name) as scope:
                self._scope = scope
        else:
            with _vs.variable_scope(self._given_name, default_name=self._base_name) as scope:
                self._scope = scope
        if self._given_name is None:
            self._name = self._scope.name.split("/")[-1]

    def __call__(self, inputs, *args, **kwargs):
        if self._scope is None:
            self._capture_scope()
        reuse = True if self.built else self._reuse
        with _vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            with _ops.name_scope(scope.original_name_scope):
                if self.input_spec is not None:
                    _check_input_spec(self.input_spec, inputs, self.name)
                if not self.built:
                    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
                    first = _ops.convert_to_tensor(first)
                    if self._dtype is None:
                        base = first.dtype.base_dtype
                        self._dtype = base if base.is_floating else _dt.float32
                    self.build(first.shape)
                    self.built = True
                outputs = self.call(inputs, *args, **kwargs)
                if self._activity_regularizer is not None:
                    with _ops.name_scope("ActivityRegularizer"):
                        self.add_loss(self._activity_regularizer(outputs))
        return outputs

    def apply(self, inputs, *args, **kwargs):
        return self.__call__(inputs, *args, **kwargs)

    def get_weights(self) -> list:
        return _ops.get_default_session().run(self.weights)


# ----------------------------------------------------------------------------------------------------------
# Dense and Conv2D: a kernel, an optional bias, an optional activation
# ----------------------------------------------------------------------------------------------------------
class _KernelLayer(Layer):
    """What Dense and Conv2D share: the kernel/bias options, creating both weights, and bias + activation."""

    _data_format = "NHWC"

    def __init__(self, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                 bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, trainable, name,
                 **kwargs) -> None:
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel = self.bias = None

    def _add_kernel_and_bias(self, kernel_shape: list, bias_size=None) -> None:
        """Makes `kernel` and, with use_bias, `bias` of `bias_size` entries (the kernel's last dimension by
        default), and marks the layer built."""
        self.kernel = self.add_weight("kernel", kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self._add_bias(kernel_shape[-1] if bias_size is None else bias_size)
        self.built = True

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight("bias", [size], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _bias_and_activation(self, outputs):
        if self.use_bias:
            outputs = _nn_ops.bias_add(outputs, self.bias, data_format=self._data_format)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


@_tf_export("layers.Dense")
class Dense(_KernelLayer):
    """outputs = activation(inputs @ kernel + bias); inputs of rank > 2 are contracted on their last axis."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs) -> None:
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, trainable, name,
                         **kwargs)
        self.units = int(units)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape) -> None:
        input_shape = _shape.as_shape(input_shape)
        if input_shape.ndims is None or input_shape[-1].value is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1].value})
        self._add_kernel_and_bias([input_shape[-1].value, self.units])

    def call(self, inputs):
        inputs = _ops.convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        if rank is not None and rank > 2:
            outputs = _math_ops.tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape.as_list()[:-1] + [self.units])
        else:
            outputs = _math_ops.matmul(_math_ops.cast(inputs, self._dtype), self.kernel)
        return self._bias_and_activation(outputs)

    def compute_output_shape(self, input_shape):
        return _shape.as_shape(input_shape)[:-1].concatenate([self.units])


@_tf_export("layers.Conv2D")
class Conv2D(_KernelLayer):
    """2-D convolution with a [kernel_h, kernel_w, in_channels, filters] kernel, plus bias and activation."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs) -> None:
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, trainable, name,
                         **kwargs)
        self.filters = int(filters)
        self.kernel_size = _normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = _normalize_tuple(strides, 2, "strides")
        self.padding = _normalize_padding(padding)
        self._data_format = _normalize_data_format(data_format)
        self.data_format = _keras_data_format(self._data_format)
        self.dilation_rate = _normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape) -> None:
        input_shape = _shape.as_shape(input_shape).with_rank(4)
        channels = input_shape[1 if self._data_format == "NCHW" else -1].value
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        self.input_spec = InputSpec(ndim=4, axes={1 if self._data_format == "NCHW" else -1: channels})
        self._add_kernel_and_bias(list(self.kernel_size) + [channels, self.filters])

    def call(self, inputs):
        outputs = _nn_ops.conv2d(inputs, self.kernel, strides=list(self.strides), padding=self.padding.upper(),
                                data_format=self._data_format, dilations=list(self.dilation_rate))
        return self._bias_and_activation(outputs)


# ----------------------------------------------------------------------------------------------------------
# Pooling, Flatten, Dropout
# ----------------------------------------------------------------------------------------------------------
class _Pooling2D(Layer):
    _op = None

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last", name=None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.pool_size = _normalize_tuple(pool_size, 2, "pool_size")
        self.strides = _normalize_tuple(strides, 2, "strides")
        self.padding = _normalize_padding(padding)
        self._data_format = _normalize_data_format(data_format)
        self.data_format = _keras_data_format(self._data_format)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        return type(self)._op(inputs, list(self.pool_size), list(self.strides), self.padding.upper(),
                              data_format=self._data_format)


@_tf_export("layers.MaxPooling2D")
class MaxPooling2D(_Pooling2D):
    """Max pooling over pool_size windows moved by strides."""

    _op = staticmethod(_nn_ops.max_pool2d)


@_tf_export("layers.AveragePooling2D")
class AveragePooling2D(_Pooling2D):
    """Average pooling over pool_size windows moved by strides."""

    _op = staticmethod(_nn_ops.avg_pool2d)


@_tf_export("layers.Flatten")
class Flatten(Layer):
    """Reshapes [batch, ...] to [batch, everything else] (channels_first inputs are made channels_last first)."""

    def __init__(self, data_format="channels_last", name=None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self._data_format = _normalize_data_format(data_format)
        self.data_format = _keras_data_format(self._data_format)

    def call(self, inputs):
        inputs = _ops.convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        if self._data_format == "NCHW" and rank is not None and rank > 2:
            inputs = _array_ops.transpose(inputs, [0] + list(range(2, rank)) + [1])
        batch = inputs.shape[0].value if rank else None
        outputs = _array_ops.reshape(inputs, _array_ops.stack([batch if batch is not None else
                                                             _array_ops.shape(inputs)[0], -1]))
        rest = inputs.shape[1:].num_elements() if rank else None
        outputs.set_shape([batch, rest])
        return outputs


@_tf_export("layers.Dropout")
class Dropout(Layer):
    """Dropout applied only when called with training=True (a Python bool or a boolean tensor)."""

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=False):
        inputs = _ops.convert_to_tensor(inputs)
        return _smart_cond(
            training,
            lambda: _nn_impl.dropout(inputs, noise_shape=self.noise_shape, seed=self.seed, rate=self.rate),
            lambda: _array_ops.identity(inputs))


# ----------------------------------------------------------------------------------------------------------
# BatchNormalization
# ----------------------------------------------------------------------------------------------------------
@_tf_export("layers.BatchNormalization")
class BatchNormalization(Layer):
    """Normalizes over all axes but `axis` with batch statistics in training (queuing moving-average updates
    in UPDATE_OPS) and with the moving statistics otherwise.

    As TF does on its fused path (4-D inputs normalized over the channel axis), the moving variance is fed
    the unbiased batch variance there, and the biased one otherwise.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=_ZEROS, gamma_initializer=_ONES,
                 moving_mean_initializer=_ZEROS,
                 moving_variance_initializer=_ONES, beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, fused=None, trainable=True, virtual_batch_size=None,
                 adjustment=None, name=None, **kwargs) -> None:
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("batch renormalization, virtual batches and adjustment are not supported")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = fused
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape) -> None:
        input_shape = _shape.as_shape(input_shape)
        ndims = input_shape.ndims
        if ndims is None:
            raise ValueError(f"Input has undefined rank: {input_shape}")
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = [a + ndims if a < 0 else a for a in axes]
        if any(a < 0 or a >= ndims for a in axes):
            raise ValueError(f"Invalid axis: {self.axis}")
        if len(set(axes)) != len(axes):
            raise ValueError(f"Duplicate axis: {self.axis}")
        self._axes = sorted(axes)
        fusable = ndims == 4 and self._axes in ([1], [3])
        if self.fused and not fusable:
            raise ValueError(f"Unsupported axis or rank for fused batch norm: axis={self.axis}, rank={ndims}")
        self._fused = fusable if self.fused is None else bool(self.fused)
        dims = [input_shape[a].value for a in self._axes]
        if any(d is None for d in dims):
            raise ValueError(f"Input has undefined `axis` dimension. Input shape: {input_shape}")
        param_shape = dims if len(dims) > 1 else dims[:1]
        param_dtype = _dt.float32 if self._dtype in (_dt.float16, None) else self._dtype
        if self.scale:
            self.gamma = self.add_weight("gamma", param_shape, dtype=param_dtype, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", param_shape, dtype=param_dtype, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", param_shape, dtype=param_dtype,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", param_shape, dtype=param_dtype,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def _broadcast(self, t, ndims: int):
        """A parameter of shape [channels...] reshaped to broadcast against the input."""
        if t is None or self._axes == [ndims - 1]:
            return t
        shape = [1] * ndims
        for a, d in zip(self._axes, t.shape.as_list() if len(self._axes) > 1 else [t.shape[0].value]):
            shape[a] = d
        return _array_ops.reshape(t, shape)

    def _moving_update(self, variable, value, decay):
        with _ops.name_scope(None, "AssignMovingAvg", [variable, value]):
            return _state_ops.assign_sub(variable, (variable - value) * decay)

    def call(self, inputs, training=False):
        inputs = _ops.convert_to_tensor(inputs)
        ndims = inputs.shape.ndims
        compute = _dt.float32 if inputs.dtype.base_dtype == _dt.float16 else inputs.dtype.base_dtype
        x = _math_ops.cast(inputs, compute)
        reduction = [a for a in range(ndims) if a not in self._axes]
        moving_mean = _ops.convert_to_tensor(self.moving_mean)
        moving_var = _ops.convert_to_tensor(self.moving_variance)
        static_training = training if not isinstance(training, _ops.Tensor) else _reg.constant_value(training)
        if static_training is not None and not bool(static_training):
            mean, variance = moving_mean, moving_var
        else:
            batch_mean, batch_var = _nn_impl.moments(x, reduction)
            update_var = batch_var
            if self._fused:
                count = _math_ops.cast(_array_ops.size(x) // _array_ops.size(batch_mean), compute)
                update_var = batch_var * count / _math_ops.maximum(count - 1, 1)
            decay = 1.0 - self.momentum
            if static_training is None:
                mean = _array_ops.where(training, batch_mean, moving_mean)
                variance = _array_ops.where(training, batch_var, moving_var)
                decay = decay * _math_ops.cast(training, compute)
            else:
                mean, variance = batch_mean, batch_var
            self.add_update([self._moving_update(self.moving_mean, batch_mean, decay),
                             self._moving_update(self.moving_variance, update_var, decay)])
        outputs = _nn_impl.batch_normalization(x, self._broadcast(mean, ndims), self._broadcast(variance, ndims),
                                              self._broadcast(self.beta, ndims), self._broadcast(self.gamma, ndims),
                                              self.epsilon)
        return _math_ops.cast(outputs, inputs.dtype.base_dtype)


# ----------------------------------------------------------------------------------------------------------
# Functional interface
# ----------------------------------------------------------------------------------------------------------
def _apply_layer(layer_class, arguments: dict, **call_kwargs):
    """A functional form's layer applied to its inputs: `arguments` are the form's own arguments (its
    `locals()`): `inputs`, `reuse` and the layer's constructor arguments, `name` also naming its scope."""
    kwargs = dict(arguments)
    inputs, reuse = kwargs.pop("inputs"), kwargs.pop("reuse")
    return layer_class(**kwargs, _scope=kwargs["name"], _reuse=reuse).apply(inputs, **call_kwargs)


@_tf_export("layers.dense")
def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
          reuse=None):
    """A densely connected layer: activation(inputs @ kernel + bias), with variables `<scope>/kernel`, `/bias`."""
    return _apply_layer(Dense, locals())


@_tf_export("layers.conv2d")
def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=_ZEROS, kernel_regularizer=None, bias_regularizer=None,
           activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    """A 2-D convolution layer with variables `<scope>/kernel` ([kh, kw, in, filters]) and `<scope>/bias`."""
    return _apply_layer(Conv2D, locals())


@_tf_export("layers.max_pooling2d")
def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


@_tf_export("layers.average_pooling2d")
def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


@_tf_export("layers.flatten")
def flatten(inputs, name=None, data_format="channels_last"):
    return Flatten(data_format=data_format, name=name).apply(inputs)


@_tf_export("layers.dropout")
def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Dropout at `rate` when `training` (a Python bool or boolean tensor) is true, identity otherwise."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(inputs, training=training)


@_tf_export("layers.batch_normalization")
def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=_ZEROS, gamma_initializer=_ONES,
                        moving_mean_initializer=_ZEROS,
                        moving_variance_initializer=_ONES, beta_regularizer=None,
                        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, training=False,
                        trainable=True, name=None, reuse=None, renorm=False, renorm_clipping=None,
                        renorm_momentum=0.99, fused=None, virtual_batch_size=None, adjustment=None):
    """Batch normalization; with training=True the moving-average updates go to tf.GraphKeys.UPDATE_OPS."""
    arguments = locals()
    return _apply_layer(BatchNormalization, {k: v for k, v in arguments.items() if k != "training"},
                        training=training)
