"""NN ops: activations and their gradient ops, Softmax/LogSoftmax, BiasAdd, Conv2D and its two backprops,
MaxPool/AvgPool and their gradients, the softmax cross-entropy ops, TopKV2, InTopKV2 and L2Loss. Each op is
declared once here with its shape function, NumPy kernel and gradient; the `tf.nn` wrappers of these
primitives follow at the end (composites live in nn_impl.py).

Spatial ops compute in NHWC; NCHW inputs are transposed at the kernel's edges. Convolution is im2col through
a strided view of the (padded) input and BLAS matmuls (conv_algorithms, which also splits a kernel's images
between the threads the session allows); pooling reduces over the kernel's shifted strided slices, or over
the blocks of a reshaped view when the windows tile the input, so no Python loop runs over output positions.
"""

from __future__ import annotations

import collections
import contextlib

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, import_only_attr, register_op
from tfmini.ops import array_ops, conv_algorithms, math_ops, shape_fns

_FLOAT = _dt.FLOATING
_REAL = _dt.REAL
_INDEX = (_dt.int32, _dt.int64)
_CONV_TYPES = _dt.FLOATING + (_dt.int32,)
_MAX_POOL_TYPES = _dt.FLOATING + _dt.SIGNED_INTEGER + (_dt.uint8, _dt.uint16)
_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _compute_type(dtype: np.dtype) -> np.dtype:
    """Half precision is computed in float32 (NumPy has no fast half kernels) and rounded back at the end."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _elementwise_grad_shape(op):
    return op.inputs[0].shape.merge_with(op.inputs[1].shape)


def _is_zero(t) -> bool:
    """Whether a gradient tensor is known to be all zeros (None counts as zero)."""
    if t is None:
        return True
    if t.op.type == "ZerosLike":
        return True
    if t.op.type == "Fill":
        v = _reg.constant_value(t.op.inputs[1])
        return v is not None and not np.any(v)
    v = _reg.constant_value(t)
    return v is not None and not np.any(v)


# ----------------------------------------------------------------------------------------------------------
# Activations: each op, its gradient op, and how both differentiate
# ----------------------------------------------------------------------------------------------------------
def _activation(op_type: str, allowed, attrs=None, inplace=None):
    return register_op(op_type, inputs=["features: T"], outputs=["activations: T"], attrs=attrs,
                       allowed={"T": allowed}, shape=shape_fns.unchanged, fresh_output=True, inplace=inplace)


def _relu_inplace(op):
    zero = op.inputs[0].dtype.as_numpy_dtype(0)
    return lambda x: np.maximum(x, zero, out=x)


def _activation_grad(op_type: str, second: str, allowed, attrs=None, inplace=None):
    return register_op(op_type, inputs=["gradients: T", f"{second}: T"], outputs=["backprops: T"], attrs=attrs,
                       allowed={"T": allowed}, shape=_elementwise_grad_shape, inplace=inplace)


def _relu_grad_inplace(op):
    # Into the incoming gradient (a product nothing else reads, typically): one pass, no new buffer.
    return lambda g, f: np.multiply(g, f > 0, out=g)


def _activation_gradients(op_type: str, reads_output: bool, attr_names=(), d_second=None) -> None:
    """Registers the gradients of `op_type` and of its `<op_type>Grad` op.

    The activation's gradient is its grad op fed the upstream gradient and the activation's output
    (`reads_output`) or input. The grad op is linear in the upstream gradient, so its gradient there is the grad
    op again; `d_second(op, grad)` gives its gradient with respect to its second input (None: zero).
    """
    grad_type = op_type + "Grad"

    def attrs(op) -> dict:
        return {k: op.get_attr(k) for k in attr_names}

    def grad(op, g):
        return apply_op(grad_type, [g, op.outputs[0] if reads_output else op.inputs[0]], attrs(op)).outputs[0]

    def grad_of_grad(op, g):
        d_upstream = apply_op(grad_type, [g, op.inputs[1]], attrs(op)).outputs[0]
        return d_upstream, None if d_second is None else d_second(op, g)

    RegisterGradient(op_type)(grad)
    RegisterGradient(grad_type)(grad_of_grad)


def _grad_where_nonpositive(op, grad):
    """d/dy of EluGrad/SeluGrad(g, y): the upstream gradient g where y <= 0 (the exponential branch)."""
    g, y = op.inputs
    return grad * g * math_ops.cast(math_ops.less_equal(y, 0), grad.dtype.base_dtype)


@_activation("Relu", _REAL, inplace=_relu_inplace)
def _relu(x):
    return np.maximum(x, x.dtype.type(0))


@_activation_grad("ReluGrad", "features", _REAL, inplace=_relu_grad_inplace)
def _relu_grad_kernel(g, f):
    return g * (f > 0)


_activation_gradients("Relu", reads_output=True)


@_activation("Relu6", _REAL)
def _relu6(x):
    return np.minimum(np.maximum(x, x.dtype.type(0)), x.dtype.type(6))


@_activation_grad("Relu6Grad", "features", _REAL)
def _relu6_grad_kernel(g, f):
    return g * ((f > 0) & (f < 6))


_activation_gradients("Relu6", reads_output=False)


@_activation("Elu", _FLOAT)
def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, x.dtype.type(0))))


@_activation_grad("EluGrad", "outputs", _FLOAT)
def _elu_grad_kernel(g, y):
    return np.where(y > 0, g, g * (y + y.dtype.type(1)))


_activation_gradients("Elu", reads_output=True, d_second=_grad_where_nonpositive)


@_activation("Selu", _FLOAT)
def _selu(x):
    neg = (_SELU_SCALE * _SELU_ALPHA) * np.expm1(np.minimum(x, x.dtype.type(0)))
    return np.where(x > 0, _SELU_SCALE * x, neg).astype(x.dtype, copy=False)


@_activation_grad("SeluGrad", "outputs", _FLOAT)
def _selu_grad_kernel(g, y):
    return np.where(y > 0, g * _SELU_SCALE, g * (y + _SELU_SCALE * _SELU_ALPHA)).astype(g.dtype, copy=False)


_activation_gradients("Selu", reads_output=True, d_second=_grad_where_nonpositive)


@_activation("LeakyRelu", _FLOAT, attrs={"alpha": ("float", 0.2), "T": ("type", _dt.float32)})
def _leaky_relu(x, *, alpha):
    return np.where(x > 0, x, x * x.dtype.type(alpha))


@_activation_grad("LeakyReluGrad", "features", _FLOAT, attrs={"alpha": ("float", 0.2), "T": ("type", _dt.float32)})
def _leaky_relu_grad_kernel(g, f, *, alpha):
    return np.where(f > 0, g, g * g.dtype.type(alpha))


_activation_gradients("LeakyRelu", reads_output=False, attr_names=("alpha",))


@_activation("Softplus", _FLOAT)
def _softplus(x):
    return np.logaddexp(x.dtype.type(0), x)


def _np_sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


@_activation_grad("SoftplusGrad", "features", _FLOAT)
def _softplus_grad_kernel(g, f):
    return (g * _np_sigmoid(f)).astype(g.dtype, copy=False)


def _softplus_grad_second(op, grad):
    g, f = op.inputs
    s = math_ops.sigmoid(f)
    return grad * g * s * (1.0 - s)


_activation_gradients("Softplus", reads_output=False, d_second=_softplus_grad_second)


@_activation("Softsign", _FLOAT)
def _softsign(x):
    return x / (np.abs(x) + x.dtype.type(1))


@_activation_grad("SoftsignGrad", "features", _FLOAT)
def _softsign_grad_kernel(g, f):
    return g / np.square(np.abs(f) + f.dtype.type(1))


def _softsign_grad_second(op, grad):
    g, f = op.inputs
    denom = math_ops.abs(f) + 1.0
    return grad * g * -2.0 * math_ops.sign(f) / (denom * denom * denom)


_activation_gradients("Softsign", reads_output=False, d_second=_softsign_grad_second)


# ----------------------------------------------------------------------------------------------------------
# Softmax, LogSoftmax
# ----------------------------------------------------------------------------------------------------------
def _rank_at_least_1(op):
    return op.inputs[0].shape.with_rank_at_least(1)


def _log_softmax_np(x):
    z = x.astype(_compute_type(x.dtype), copy=False)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _check_logits(x):
    if x.ndim < 1:
        raise _invalid(f"logits must have >= 1 dimension, got {list(x.shape)}")


@register_op("Softmax", inputs=["logits: T"], outputs=["softmax: T"], allowed={"T": _FLOAT}, shape=_rank_at_least_1)
def _softmax(x):
    _check_logits(x)
    z = x.astype(_compute_type(x.dtype), copy=False)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return (e / np.sum(e, axis=-1, keepdims=True)).astype(x.dtype, copy=False)


@RegisterGradient("Softmax")
def _softmax_grad(op, grad):
    y = op.outputs[0]
    return (grad - math_ops.reduce_sum(grad * y, -1, keepdims=True)) * y


@register_op("LogSoftmax", inputs=["logits: T"], outputs=["logsoftmax: T"], allowed={"T": _FLOAT},
             shape=_rank_at_least_1)
def _log_softmax(x):
    _check_logits(x)
    return _log_softmax_np(x).astype(x.dtype, copy=False)


@RegisterGradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    return grad - math_ops.reduce_sum(grad, -1, keepdims=True) * math_ops.exp(op.outputs[0])


# ----------------------------------------------------------------------------------------------------------
# BiasAdd
# ----------------------------------------------------------------------------------------------------------
_DATA_FORMAT = {"data_format": ("string", "NHWC")}


def _channel_axis(rank: int, data_format: str) -> int:
    """The channel axis, counted from the end: the last one, or axis 1 of a channels-first input of rank > 2
    (NCW, NCHW, NCDHW alike, as TF's kernel does)."""
    return 1 - rank if data_format.startswith("NC") and rank > 2 else -1


def _bias_add_shape(op):
    value = op.inputs[0].shape.with_rank_at_least(2)
    bias = op.inputs[1].shape.with_rank(1)
    if value.ndims is None:
        return value
    axis = _channel_axis(value.ndims, op.get_attr("data_format"))
    dims = list(value.dims)
    if not dims[axis].is_compatible_with(bias[0]):
        raise ValueError(f"Dimensions must be equal, but are {dims[axis]} and {bias[0]}")
    dims[axis] = dims[axis].merge_with(bias[0])
    return dims


def _bias_add_inplace(op):
    """value += bias, when the bias's static length is known to match the channel dimension."""
    value, bias = (t.shape.as_tuple() for t in op.inputs)
    if value is None or bias is None or len(bias) != 1 or bias[0] is None:
        return None
    if _channel_axis(len(value), op.get_attr("data_format")) != -1 or value[-1] != bias[0]:
        return None
    return lambda v, b: np.add(v, b, out=v)


@register_op("BiasAdd", inputs=["value: T", "bias: T"], outputs=["output: T"], attrs=dict(_DATA_FORMAT),
             allowed={"T": _dt.NUMBER}, shape=_bias_add_shape, fresh_output=True, inplace=_bias_add_inplace)
def _bias_add(value, bias, *, data_format):
    if np.ndim(bias) != 1:
        raise _invalid(f"Biases must be 1D: {list(np.shape(bias))}")
    if value.ndim < 2:
        raise _invalid(f"Input tensor must be at least 2D: {list(value.shape)}")
    axis = _channel_axis(value.ndim, data_format)
    if value.shape[axis] != bias.shape[0]:
        raise _invalid(f"Must provide as many biases as the channel dimension of the input tensor: "
                       f"{list(bias.shape)} vs. {list(value.shape)}")
    if axis == -1:
        return value + bias
    return value + bias.reshape((-1,) + (1,) * (value.ndim - 2))


_GEMV_SUM_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _bias_add_grad_shape(op):
    x = op.inputs[0].shape.with_rank_at_least(2)
    if x.ndims is None:
        return [None]
    return [x[_channel_axis(x.ndims, op.get_attr("data_format"))]]


@register_op("BiasAddGrad", inputs=["out_backprop: T"], outputs=["output: T"], attrs=dict(_DATA_FORMAT),
             allowed={"T": _dt.NUMBER}, shape=_bias_add_grad_shape)
def _bias_add_grad_kernel(g, *, data_format):
    axis = g.ndim + _channel_axis(g.ndim, data_format)
    if axis == g.ndim - 1 and g.dtype in _GEMV_SUM_TYPES and g.flags.c_contiguous and g.size:
        # Summing every row of the (rows, channels) matrix as a product with a vector of ones: NumPy's sum
        # over axis 0 of a few dozen channels runs about 15x slower than BLAS's matrix-vector product.
        rows = g.reshape(-1, g.shape[-1])
        with conv_algorithms.single_threaded_blas():
            return np.ones(rows.shape[0], dtype=g.dtype) @ rows
    return np.sum(g, axis=tuple(a for a in range(g.ndim) if a != axis), dtype=g.dtype)


@RegisterGradient("BiasAdd")
def _bias_add_grad(op, grad):
    return grad, apply_op("BiasAddGrad", [grad], {"data_format": op.get_attr("data_format")}).outputs[0]


@RegisterGradient("BiasAddGrad")
def _bias_add_grad_grad(op, grad):
    # Broadcasting the bias gradient back over the batch is a BiasAdd onto zeros of the input's shape.
    x = op.inputs[0]
    zeros = array_ops.zeros(array_ops.shape(x), dtype=x.dtype.base_dtype)
    return apply_op("BiasAdd", [zeros, grad], {"data_format": op.get_attr("data_format")}).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Window geometry shared by convolution and pooling
# ----------------------------------------------------------------------------------------------------------
_CONV_ATTRS = {
    "strides": ("list(int)", _reg.REQUIRED),
    "use_cudnn_on_gpu": ("bool", True),
    "padding": ("string", _reg.REQUIRED),
    "explicit_paddings": ("list(int)", []),
    "data_format": ("string", "NHWC"),
    "dilations": ("list(int)", [1, 1, 1, 1]),
}
_POOL_ATTRS = {
    "ksize": ("list(int)", _reg.REQUIRED),
    "strides": ("list(int)", _reg.REQUIRED),
    "padding": ("string", _reg.REQUIRED),
    "data_format": ("string", "NHWC"),
}


def _hw(values, data_format: str) -> tuple:
    """The (height, width) entries of a 4-vector given in `data_format` order."""
    return (values[2], values[3]) if data_format == "NCHW" else (values[1], values[2])


def _nhwc(dims, data_format: str) -> list:
    return [dims[0], dims[2], dims[3], dims[1]] if data_format == "NCHW" else list(dims)


def _from_nhwc_dims(dims, data_format: str) -> list:
    return [dims[0], dims[3], dims[1], dims[2]] if data_format == "NCHW" else list(dims)


def _to_nhwc(x: np.ndarray, data_format: str) -> np.ndarray:
    return x.transpose(0, 2, 3, 1) if data_format == "NCHW" else x


def _from_nhwc(x: np.ndarray, data_format: str) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if data_format == "NCHW" else x


def _check_format(data_format: str) -> None:
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Invalid data format string: {data_format}")


def _check_padding(padding: str, allowed=("SAME", "VALID", "EXPLICIT")) -> None:
    if padding not in allowed:
        raise ValueError(f"padding must be one of {', '.join(allowed)}, got {padding!r}")


def _check_window_attr(values, what: str, op_type: str, data_format: str, field: str = "dimensions") -> None:
    if len(values) != 4:
        raise ValueError(f"{op_type} requires the {what} attribute to contain 4 values, but got: {len(values)}")
    batch, depth = (values[0], values[1]) if data_format == "NCHW" else (values[0], values[3])
    if batch != 1 or depth != 1:
        raise ValueError(f"Current implementation does not yet support {what}s in the batch and depth {field}.")
    if any(v < 1 for v in values):
        raise ValueError(f"{op_type}: {what}s must be positive, got {list(values)}")


def window_output(size, k, stride: int, dilation: int, padding: str, pads=(0, 0)) -> tuple:
    """One spatial dimension of a windowed op: (output size, padding before, padding after).

    `size` or `k` may be None (unknown), giving an unknown output size where it depends on them. Raises
    ValueError when VALID/EXPLICIT windows do not fit, as TF's shape functions do.
    """
    if padding == "SAME":
        if size is None:
            return None, 0, 0
        out = -(-size // stride)
        if k is None:
            return out, 0, 0
        total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
        return out, total // 2, total - total // 2
    before, after = pads
    if size is None or k is None:
        return None, before, after
    eff = (k - 1) * dilation + 1
    num = size + before + after - eff + stride
    out = int(num / stride)  # truncating, as in TF
    if out < 0:
        raise ValueError(f"Computed output size would be negative: {out} [input_size: {size}, "
                         f"effective_filter_size: {eff}, stride: {stride}]")
    return out, before, after


def _static_window_output(size, k, stride: int, dilation: int, padding: str, pads=(0, 0)) -> tuple:
    """`window_output` for shape functions. A VALID/EXPLICIT window wider than the padded input is a
    graph-construction ValueError in TF, whose shape functions subtract the window first, even though the
    kernel accepts the empty output that truncating division gives."""
    if padding != "SAME" and size is not None and k is not None:
        padded, eff = size + pads[0] + pads[1], (k - 1) * dilation + 1
        if padded < eff:
            raise ValueError(f"Negative dimension size caused by subtracting {eff} from {padded}")
    return window_output(size, k, stride, dilation, padding, pads)


def _explicit_pads(explicit_paddings, data_format: str) -> tuple:
    """((top, bottom), (left, right)) from TF's 8-element explicit_paddings."""
    p = list(explicit_paddings) or [0] * 8
    if len(p) != 8:
        raise ValueError(f"explicit_paddings attribute must contain 8 values, but got: {len(p)}")
    pairs = [(p[2 * i], p[2 * i + 1]) for i in range(4)]
    batch, depth = (pairs[0], pairs[1]) if data_format == "NCHW" else (pairs[0], pairs[3])
    if any(batch) or any(depth):
        raise ValueError("Nonzero explicit padding in the batch or depth dimensions is not supported")
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError("All elements of explicit_paddings must be nonnegative")
    return _hw(pairs, data_format)


class _Window:
    """The geometry of one windowed op on an NHWC input of spatial size (h, w)."""

    __slots__ = ("kh", "kw", "sh", "sw", "dh", "dw", "oh", "ow", "pads")

    def __init__(self, h, w, kh, kw, strides_hw, dilations_hw, padding, explicit_hw=((0, 0), (0, 0))) -> None:
        self.kh, self.kw = kh, kw
        self.sh, self.sw = strides_hw
        self.dh, self.dw = dilations_hw
        self.oh, pt, pb = window_output(h, kh, self.sh, self.dh, padding, explicit_hw[0])
        self.ow, pl, pr = window_output(w, kw, self.sw, self.dw, padding, explicit_hw[1])
        self.pads = ((pt, pb), (pl, pr))

    def pad(self, x: np.ndarray, value=0) -> np.ndarray:
        (pt, pb), (pl, pr) = self.pads
        if not (pt or pb or pl or pr):
            return x
        n, h, w, c = x.shape
        out = np.full((n, h + pt + pb, w + pl + pr, c), value, dtype=x.dtype)
        out[:, pt:pt + h, pl:pl + w, :] = x
        return out

    def crop(self, xp: np.ndarray, h: int, w: int) -> np.ndarray:
        (pt, _), (pl, _) = self.pads
        if xp.shape[1] == h and xp.shape[2] == w:
            return xp
        return np.ascontiguousarray(xp[:, pt:pt + h, pl:pl + w, :])

    def columns(self, xp: np.ndarray) -> np.ndarray:
        """A read-only (n, oh, ow, kh, kw, c) view of the windows of the padded input: im2col without copying."""
        n, _, _, c = xp.shape
        s0, s1, s2, s3 = xp.strides
        return as_strided(xp, (n, self.oh, self.ow, self.kh, self.kw, c),
                          (s0, s1 * self.sh, s2 * self.sw, s1 * self.dh, s2 * self.dw, s3), writeable=False)

    def offsets(self):
        """(index, row slice, column slice) per kernel position: the padded-input elements that position
        touches across all outputs."""
        rows_span, cols_span = self.sh * (self.oh - 1) + 1, self.sw * (self.ow - 1) + 1
        k = 0
        for i in range(self.kh):
            for j in range(self.kw):
                r0, c0 = i * self.dh, j * self.dw
                yield k, slice(r0, r0 + rows_span, self.sh), slice(c0, c0 + cols_span, self.sw)
                k += 1

    @property
    def empty(self) -> bool:
        return self.oh == 0 or self.ow == 0

    @property
    def blocks(self) -> bool:
        """Whether the windows tile the input without overlap or padding (a pool whose strides equal its
        window, e.g. 2x2 with stride 2), so they are blocks of a reshaped view."""
        return (self.sh == self.kh and self.sw == self.kw and self.dh == self.dw == 1
                and not any(self.pads[0] + self.pads[1]))


# ----------------------------------------------------------------------------------------------------------
# Conv2D and its backprops
# ----------------------------------------------------------------------------------------------------------
# Measured on this project's machine (see docs/performance.md): a stride-1 input gradient computed as a
# convolution beats col2im once the input has a few channels (with one channel its GEMM is a matrix-vector
# product).
_BACKPROP_AS_CONV_MIN_DEPTH = 8


def _conv_attrs_check(op) -> tuple:
    fmt, padding = op.get_attr("data_format"), op.get_attr("padding")
    _check_format(fmt)
    _check_padding(padding)
    strides, dilations = list(op.get_attr("strides")), list(op.get_attr("dilations"))
    _check_window_attr(strides, "stride", op.type, fmt)
    _check_window_attr(dilations, "dilation", op.type, fmt)
    explicit = _explicit_pads(op.get_attr("explicit_paddings"), fmt) if padding == "EXPLICIT" else ((0, 0), (0, 0))
    return fmt, padding, _hw(strides, fmt), _hw(dilations, fmt), explicit


def _conv_output_shape(op, input_shape: _shape.TensorShape, filter_shape: _shape.TensorShape) -> list:
    fmt, padding, strides, dilations, explicit = _conv_attrs_check(op)
    n, h, w, c = _nhwc(input_shape.with_rank(4).as_list() if input_shape.ndims is not None else [None] * 4, fmt)
    kh, kw, kc, oc = filter_shape.with_rank(4).as_list() if filter_shape.ndims is not None else [None] * 4
    if c is not None and kc is not None and c != kc:
        raise ValueError(f"Dimensions must be equal, but are {c} and {kc}")
    oh, _, _ = _static_window_output(h, kh, strides[0], dilations[0], padding, explicit[0])
    ow, _, _ = _static_window_output(w, kw, strides[1], dilations[1], padding, explicit[1])
    return _from_nhwc_dims([n, oh, ow, oc], fmt)


def _conv2d_shape(op):
    return _conv_output_shape(op, op.inputs[0].shape, op.inputs[1].shape)


def _conv_window(x_nhwc_shape, filter_shape, strides, padding, explicit_paddings, data_format, dilations) -> _Window:
    explicit = _explicit_pads(explicit_paddings, data_format) if padding == "EXPLICIT" else ((0, 0), (0, 0))
    return _Window(x_nhwc_shape[1], x_nhwc_shape[2], int(filter_shape[0]), int(filter_shape[1]),
                   _hw(strides, data_format), _hw(dilations, data_format), padding, explicit)


def _check_conv_operands(x_shape, f_shape, what: str = "input") -> None:
    if len(x_shape) != 4:
        raise _invalid(f"{what} must be 4-dimensional{list(x_shape)}")
    if len(f_shape) != 4:
        raise _invalid(f"filter must be 4-dimensional: {list(f_shape)}")
    if x_shape[3] != f_shape[2]:
        raise _invalid(f"input and filter must have the same depth: {x_shape[3]} vs {f_shape[2]}")


@register_op("Conv2D", inputs=["input: T", "filter: T"], outputs=["output: T"], attrs=dict(_CONV_ATTRS),
             allowed={"T": _CONV_TYPES}, shape=_conv2d_shape, fresh_output=True)
def _conv2d(x, w, *, strides, padding, explicit_paddings, data_format, dilations, ctx=None):
    x = _to_nhwc(x, data_format)
    _check_conv_operands(x.shape, w.shape)
    win = _conv_window(x.shape, w.shape, strides, padding, explicit_paddings, data_format, dilations)
    dtype, ct = x.dtype, _compute_type(x.dtype)
    n, oc = x.shape[0], w.shape[3]
    if win.empty or x.size == 0:
        return _from_nhwc(np.zeros((n, win.oh, win.ow, oc), dtype=dtype), data_format)
    out = conv_algorithms.conv2d(x, w.astype(ct, copy=False), win.oh, win.ow, (win.sh, win.sw), (win.dh, win.dw),
                                 pads=win.pads, dtype=ct, threads=conv_algorithms.kernel_threads(ctx))
    return _from_nhwc(out.astype(dtype, copy=False), data_format)


def _sizes_shape(op, index: int) -> _shape.TensorShape:
    return _reg.constant_value_as_shape(op.inputs[index]).merge_with(_shape.unknown_shape(4))


def _conv2d_backprop_input_shape(op):
    _conv_attrs_check(op)
    return _sizes_shape(op, 0)


def _conv2d_backprop_filter_shape(op):
    _conv_attrs_check(op)
    return _sizes_shape(op, 1)


def _check_out_backprop(dy_shape, win: _Window, n: int, oc: int, op_type: str) -> None:
    want = (n, win.oh, win.ow, oc)
    if tuple(dy_shape) != want:
        raise _invalid(f"{op_type}: Size of out_backprop doesn't match computed: actual = {list(dy_shape)}, "
                       f"computed = {list(want)}")


@register_op("Conv2DBackpropInput", inputs=["input_sizes: int32", "filter: T", "out_backprop: T"],
             outputs=["output: T"], attrs=dict(_CONV_ATTRS), allowed={"T": _CONV_TYPES},
             shape=_conv2d_backprop_input_shape)
def _conv2d_backprop_input(input_sizes, w, dy, *, strides, padding, explicit_paddings, data_format, dilations,
                           ctx=None):
    sizes = [int(s) for s in np.reshape(input_sizes, [-1])]
    if len(sizes) != 4:
        raise _invalid(f"Conv2DBackpropInput: input_sizes must be 4-dimensional, got: {len(sizes)}")
    n, h, wd, c = _nhwc(sizes, data_format)
    dy = _to_nhwc(dy, data_format)
    _check_conv_operands((n, h, wd, c), w.shape, "input_sizes")
    win = _conv_window((n, h, wd, c), w.shape, strides, padding, explicit_paddings, data_format, dilations)
    _check_out_backprop(dy.shape, win, n, w.shape[3], "Conv2DCustomBackpropInput")
    dtype, ct = dy.dtype, _compute_type(dy.dtype)
    if win.empty or dy.size == 0:
        return _from_nhwc(np.zeros((n, h, wd, c), dtype=dtype), data_format)
    threads = conv_algorithms.kernel_threads(ctx)
    if win.sh == win.sw == 1 and c >= _BACKPROP_AS_CONV_MIN_DEPTH:
        dx = conv_algorithms.conv2d_backprop_input_stride1(dy.astype(ct, copy=False), w.astype(ct, copy=False),
                                                           h, wd, win.pads, (win.dh, win.dw), threads=threads)
        if dx is not None:
            return _from_nhwc(dx.astype(dtype, copy=False), data_format)
    (pt, pb), (pl, pr) = win.pads
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=ct)
    # col2im: each output position's gradient spreads over its window through the filter (its product on one
    # BLAS thread when the session's kernels may use several, as theirs run).
    with conv_algorithms.single_threaded_blas() if threads > 1 else contextlib.nullcontext():
        cols = np.tensordot(dy.astype(ct, copy=False), w.astype(ct, copy=False), axes=([3], [3]))
    for k, rows, cs in win.offsets():
        dxp[:, rows, cs, :] += cols[:, :, :, k // win.kw, k % win.kw, :]
    return _from_nhwc(win.crop(dxp, h, wd).astype(dtype, copy=False), data_format)


@register_op("Conv2DBackpropFilter", inputs=["input: T", "filter_sizes: int32", "out_backprop: T"],
             outputs=["output: T"], attrs=dict(_CONV_ATTRS), allowed={"T": _FLOAT},
             shape=_conv2d_backprop_filter_shape)
def _conv2d_backprop_filter(x, filter_sizes, dy, *, strides, padding, explicit_paddings, data_format, dilations,
                            ctx=None):
    f_shape = tuple(int(s) for s in np.reshape(filter_sizes, [-1]))
    if len(f_shape) != 4:
        raise _invalid(f"Conv2DBackpropFilter: filter_sizes must be 4-dimensional, got: {len(f_shape)}")
    x, dy = _to_nhwc(x, data_format), _to_nhwc(dy, data_format)
    _check_conv_operands(x.shape, f_shape)
    win = _conv_window(x.shape, f_shape, strides, padding, explicit_paddings, data_format, dilations)
    _check_out_backprop(dy.shape, win, x.shape[0], f_shape[3], "Conv2DCustomBackpropFilter")
    dtype, ct = x.dtype, _compute_type(x.dtype)
    if win.empty or x.size == 0 or dy.size == 0:
        return np.zeros(f_shape, dtype=dtype)
    dw = conv_algorithms.conv2d_backprop_filter(x, dy, f_shape[0], f_shape[1], (win.sh, win.sw), (win.dh, win.dw),
                                                pads=win.pads, dtype=ct, threads=conv_algorithms.kernel_threads(ctx))
    return dw.astype(dtype, copy=False)


def _conv_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _CONV_ATTRS}


@RegisterGradient("Conv2D")
def _conv2d_grad(op, grad):
    x, w = op.inputs
    attrs = _conv_attr_values(op)
    dx = apply_op("Conv2DBackpropInput", [array_ops.shape(x), w, grad], attrs).outputs[0]
    dw = apply_op("Conv2DBackpropFilter", [x, array_ops.shape(w), grad], attrs).outputs[0]
    return dx, dw


@RegisterGradient("Conv2DBackpropInput")
def _conv2d_backprop_input_grad(op, grad):
    _, w, dy = op.inputs
    attrs = _conv_attr_values(op)
    d_filter = apply_op("Conv2DBackpropFilter", [grad, array_ops.shape(w), dy], attrs).outputs[0]
    d_dy = apply_op("Conv2D", [grad, w], attrs).outputs[0]
    return None, d_filter, d_dy


@RegisterGradient("Conv2DBackpropFilter")
def _conv2d_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _conv_attr_values(op)
    d_input = apply_op("Conv2DBackpropInput", [array_ops.shape(x), grad, dy], attrs).outputs[0]
    d_dy = apply_op("Conv2D", [x, grad], attrs).outputs[0]
    return d_input, None, d_dy


# ----------------------------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------------------------
def _pool_attrs_check(op) -> tuple:
    fmt, padding = op.get_attr("data_format"), op.get_attr("padding")
    _check_format(fmt)
    _check_padding(padding, ("SAME", "VALID"))
    ksize, strides = list(op.get_attr("ksize")), list(op.get_attr("strides"))
    _check_window_attr(ksize, "ksize", op.type, fmt)
    _check_window_attr(strides, "stride", op.type, fmt)
    return fmt, padding, _hw(ksize, fmt), _hw(strides, fmt)


def _pool_output_shape(op, input_shape: _shape.TensorShape) -> list:
    fmt, padding, ksize, strides = _pool_attrs_check(op)
    n, h, w, c = _nhwc(input_shape.with_rank(4).as_list() if input_shape.ndims is not None else [None] * 4, fmt)
    oh, _, _ = _static_window_output(h, ksize[0], strides[0], 1, padding)
    ow, _, _ = _static_window_output(w, ksize[1], strides[1], 1, padding)
    return _from_nhwc_dims([n, oh, ow, c], fmt)


def _pool_shape(op):
    return _pool_output_shape(op, op.inputs[0].shape)


def _pool_window(x_nhwc_shape, ksize, strides, padding, data_format) -> _Window:
    if len(x_nhwc_shape) != 4:
        raise _invalid(f"input must be 4-dimensional, got shape {list(x_nhwc_shape)}")
    kh, kw = _hw(ksize, data_format)
    return _Window(x_nhwc_shape[1], x_nhwc_shape[2], kh, kw, _hw(strides, data_format), (1, 1), padding)


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_max_masks(xp: np.ndarray, win: _Window):
    """Yields (rows, cols, hit) per kernel position, `hit` marking the outputs whose window has its first
    maximum (row-major over the kernel) at that position: where max pooling's gradient goes."""
    best = None
    for _, rows, cols in win.offsets():
        sl = xp[:, rows, cols, :]
        best = sl.copy() if best is None else np.maximum(best, sl, out=best)
    taken = np.zeros(best.shape, dtype=bool)
    for _, rows, cols in win.offsets():
        # Elementwise compares and boolean ops only: masked copies would be several times slower.
        hit = xp[:, rows, cols, :] == best
        hit &= ~taken
        taken |= hit
        yield rows, cols, hit


@register_op("MaxPool", inputs=["input: T"], outputs=["output: T"], attrs={**_POOL_ATTRS, "T": ("type", _dt.float32)},
             allowed={"T": _MAX_POOL_TYPES}, shape=_pool_shape)
def _max_pool(x, *, ksize, strides, padding, data_format, ctx=None):
    x = _to_nhwc(x, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    if win.empty or x.size == 0:
        return _from_nhwc(np.zeros((x.shape[0], win.oh, win.ow, x.shape[3]), dtype=x.dtype), data_format)
    if win.blocks:
        return _from_nhwc(conv_algorithms.max_pool_blocks(x, win.kh, win.kw,
                                                          threads=conv_algorithms.kernel_threads(ctx)),
                          data_format)
    xp = win.pad(x, _lowest(x.dtype))
    out = None
    for _, rows, cols in win.offsets():
        sl = xp[:, rows, cols, :]
        if out is None:
            out = sl.copy()
        else:
            np.maximum(out, sl, out=out)
    return _from_nhwc(out, data_format)


def _max_pool_grad_shape(op):
    _pool_attrs_check(op)
    return op.inputs[0].shape.with_rank(4)


@register_op("MaxPoolGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"], outputs=["output: T"],
             attrs={**_POOL_ATTRS, "T": ("type", _dt.float32)}, allowed={"T": _REAL}, shape=_max_pool_grad_shape)
def _max_pool_grad_kernel(x, y, grad, *, ksize, strides, padding, data_format, ctx=None):
    x, grad = _to_nhwc(x, data_format), _to_nhwc(grad, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    _check_pool_grad(grad.shape, x.shape, win)
    if win.blocks and not win.empty and x.size:
        return _from_nhwc(conv_algorithms.max_pool_blocks_grad(x, grad, win.kh, win.kw,
                                                               threads=conv_algorithms.kernel_threads(ctx)),
                          data_format)
    xp = win.pad(x, _lowest(x.dtype))
    dxp = np.zeros(xp.shape, dtype=grad.dtype)
    if not win.empty and x.size:
        for rows, cols, hit in _first_max_masks(xp, win):
            # where, not a product: an infinite or NaN gradient reaches only its window's maximum (TF gives the
            # other elements exactly 0; inf * False is NaN)
            dxp[:, rows, cols, :] += np.where(hit, grad, 0)
    return _from_nhwc(win.crop(dxp, x.shape[1], x.shape[2]), data_format)


def _check_pool_grad(grad_shape, x_shape, win: _Window) -> None:
    want = (x_shape[0], win.oh, win.ow, x_shape[3])
    if tuple(grad_shape) != want:
        raise _invalid(f"Expected grad shape to be {list(want)}, but got {list(grad_shape)}")


def _max_pool_grad_grad_shape(op):
    _pool_attrs_check(op)
    return op.inputs[1].shape.with_rank(4)


@register_op("MaxPoolGradGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"], outputs=["output: T"],
             attrs=dict(_POOL_ATTRS), allowed={"T": _REAL}, shape=_max_pool_grad_grad_shape)
def _max_pool_grad_grad_kernel(x, y, grad, *, ksize, strides, padding, data_format):
    """Gathers `grad` (shaped like the pool's input) at each window's maximum (shaped like its output)."""
    x, grad = _to_nhwc(x, data_format), _to_nhwc(grad, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    if grad.shape != x.shape:
        raise _invalid(f"backprop must have the shape of the original input: {list(grad.shape)} vs "
                       f"{list(x.shape)}")
    out = np.zeros((x.shape[0], win.oh, win.ow, x.shape[3]), dtype=grad.dtype)
    if not win.empty and x.size:
        xp, gp = win.pad(x, _lowest(x.dtype)), win.pad(grad)
        for rows, cols, hit in _first_max_masks(xp, win):
            out += np.where(hit, gp[:, rows, cols, :], 0)  # non-maxima add exactly 0, even next to inf/NaN
    return _from_nhwc(out, data_format)


# TF's pools also take explicit paddings (with padding "EXPLICIT", which tfmini's pools do not offer).
import_only_attr(("MaxPool", "MaxPoolGrad"), "explicit_paddings", "list(int)", [])


def conv_bias_relu_pool_kernel(conv: _ops.Operation, bias_add: _ops.Operation, relu: _ops.Operation,
                               pool: _ops.Operation, ctx=None):
    """A kernel `(input, filter, bias) -> pooled` for the chain Conv2D -> BiasAdd -> Relu -> MaxPool (each
    op reading the previous one's output as input 0), computing it in one pass per thread
    (`conv_algorithms.conv2d_bias_relu_max_pool`: bias and relu on the pooled values, which is exact; the
    GEMMs skip rows no window reads), or None when the chain cannot be fused: channels-first formats or a
    dtype other than float32/float64. When a run's shapes give pool windows that overlap or pad, or the
    inputs are invalid, the kernel runs the four ops' own kernels one after the other (so their errors are
    theirs). A plan may use it in place of the four steps when the three intermediate values have no other
    reader and are not fetched (see FUSED_CHAINS)."""
    if any(op.get_attr("data_format") != "NHWC" for op in (conv, bias_add, pool)):
        return None
    if conv.inputs[0].dtype.base_dtype not in (_dt.float32, _dt.float64):
        return None
    conv_attrs = {k: conv.get_attr(k) for k in ("strides", "padding", "explicit_paddings", "data_format",
                                                "dilations")}
    pool_attrs = _pool_attr_values(pool)

    def chain(x, w, b):
        y = _conv2d(x, w, **conv_attrs, ctx=ctx)
        y = _relu(_bias_add(y, b, data_format="NHWC"))
        return _max_pool(y, **pool_attrs, ctx=ctx)

    def fused(x, w, b):
        if x.ndim != 4 or w.ndim != 4 or b.ndim != 1 or x.shape[3] != w.shape[2] or b.shape[0] != w.shape[3]:
            return chain(x, w, b)
        win = _conv_window(x.shape, w.shape, conv_attrs["strides"], conv_attrs["padding"],
                           conv_attrs["explicit_paddings"], "NHWC", conv_attrs["dilations"])
        pwin = _pool_window((x.shape[0], win.oh, win.ow, w.shape[3]), pool_attrs["ksize"], pool_attrs["strides"],
                            pool_attrs["padding"], "NHWC")
        if not pwin.blocks or pwin.empty or win.empty or x.size == 0:
            return chain(x, w, b)
        return conv_algorithms.conv2d_bias_relu_max_pool(
            x, w, b, win.oh, win.ow, (win.sh, win.sw), (win.dh, win.dw), (pwin.kh, pwin.kw), pads=win.pads,
            dtype=x.dtype, threads=conv_algorithms.kernel_threads(ctx))

    return fused


# Op chains a plan may run as one kernel: op types in order -> factory(*ops, ctx=ctx) returning a kernel (or None
# when these ops cannot be fused) that takes the first op's inputs followed by each later op's inputs other
# than the previous op's output, and returns the last op's output. The executor's generated run loop uses it
# where nothing else reads the intermediate values (see executor._fused_chains); its plain step loop never does.
FUSED_CHAINS = {("Conv2D", "BiasAdd", "Relu", "MaxPool"): conv_bias_relu_pool_kernel}


def _pool_attr_values(op) -> dict:
    return {k: op.get_attr(k) for k in _POOL_ATTRS}


@RegisterGradient("MaxPool")
def _max_pool_grad(op, grad):
    return apply_op("MaxPoolGrad", [op.inputs[0], op.outputs[0], grad], _pool_attr_values(op)).outputs[0]


@RegisterGradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    x, y, _ = op.inputs
    return None, None, apply_op("MaxPoolGradGrad", [x, y, grad], _pool_attr_values(op)).outputs[0]


@RegisterGradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    x, y, _ = op.inputs
    return None, None, apply_op("MaxPoolGrad", [x, y, grad], _pool_attr_values(op)).outputs[0]


def _window_counts(win: _Window, h: int, w: int) -> np.ndarray:
    """(oh, ow) number of real (unpadded) input elements under each window: AvgPool divides by these."""
    def counts(size, k, s, out, before):
        start = np.arange(out) * s - before
        return np.minimum(start + k, size) - np.maximum(start, 0)

    (pt, _), (pl, _) = win.pads
    return np.outer(counts(h, win.kh, win.sh, win.oh, pt), counts(w, win.kw, win.sw, win.ow, pl))


@register_op("AvgPool", inputs=["value: T"], outputs=["output: T"], attrs=dict(_POOL_ATTRS),
             allowed={"T": _FLOAT}, shape=_pool_shape)
def _avg_pool(x, *, ksize, strides, padding, data_format):
    x = _to_nhwc(x, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    if win.empty or x.size == 0:
        return _from_nhwc(np.zeros((x.shape[0], win.oh, win.ow, x.shape[3]), dtype=x.dtype), data_format)
    ct = _compute_type(x.dtype)
    xp = win.pad(x.astype(ct, copy=False))
    total = None
    for _, rows, cols in win.offsets():
        sl = xp[:, rows, cols, :]
        if total is None:
            total = sl.copy()
        else:
            total += sl
    total /= _window_counts(win, x.shape[1], x.shape[2])[None, :, :, None].astype(ct)
    return _from_nhwc(total.astype(x.dtype, copy=False), data_format)


def _avg_pool_grad_shape(op):
    _pool_attrs_check(op)
    return _sizes_shape(op, 0)


@register_op("AvgPoolGrad", inputs=["orig_input_shape: int32", "grad: T"], outputs=["output: T"],
             attrs=dict(_POOL_ATTRS), allowed={"T": _FLOAT}, shape=_avg_pool_grad_shape)
def _avg_pool_grad_kernel(orig_input_shape, grad, *, ksize, strides, padding, data_format):
    sizes = [int(s) for s in np.reshape(orig_input_shape, [-1])]
    if len(sizes) != 4:
        raise _invalid(f"orig_input_shape must have 4 elements, got {len(sizes)}")
    n, h, w, c = _nhwc(sizes, data_format)
    grad = _to_nhwc(grad, data_format)
    win = _pool_window((n, h, w, c), ksize, strides, padding, data_format)
    _check_pool_grad(grad.shape, (n, h, w, c), win)
    ct = _compute_type(grad.dtype)
    (pt, pb), (pl, pr) = win.pads
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=ct)
    if not win.empty and grad.size:
        g = grad.astype(ct) / _window_counts(win, h, w)[None, :, :, None].astype(ct)
        for _, rows, cols in win.offsets():
            dxp[:, rows, cols, :] += g
    return _from_nhwc(win.crop(dxp, h, w).astype(grad.dtype, copy=False), data_format)


@RegisterGradient("AvgPool")
def _avg_pool_grad(op, grad):
    return apply_op("AvgPoolGrad", [array_ops.shape(op.inputs[0]), grad], _pool_attr_values(op)).outputs[0]


@RegisterGradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    return None, apply_op("AvgPool", [grad], _pool_attr_values(op)).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Softmax cross-entropy: the kernels return (loss, backprop) and the gradient reuses backprop
# ----------------------------------------------------------------------------------------------------------
def _xent_shape(op):
    features, labels = op.inputs[0].shape, op.inputs[1].shape
    if features.ndims is None or labels.ndims is None:
        merged = features.merge_with(labels).with_rank(2) if features.ndims is None else features.with_rank(2)
    else:
        # Labels and logits may broadcast against each other (e.g. one row of labels for the whole batch).
        merged = shape_fns.broadcast_static(features.with_rank(2), labels.with_rank(2))
    return [[merged[0]], merged]


@register_op("SoftmaxCrossEntropyWithLogits", inputs=["features: T", "labels: T"],
             outputs=["loss: T", "backprop: T"], allowed={"T": _FLOAT}, shape=_xent_shape)
def _softmax_xent(features, labels):
    try:
        f, lab = np.broadcast_arrays(features, labels)
    except ValueError:
        f, lab = None, None
    if f is None or f.ndim != 2:
        raise _invalid(f"logits and labels must be broadcastable: logits_size={list(features.shape)} "
                       f"labels_size={list(labels.shape)}")
    dtype = features.dtype
    log_p = _log_softmax_np(f)
    lab = lab.astype(log_p.dtype, copy=False)
    loss = -np.sum(lab * log_p, axis=1)
    backprop = np.exp(log_p) - lab
    return loss.astype(dtype, copy=False), backprop.astype(dtype, copy=False)


def _xent_logits_grad(op, grad_loss, grad_grad):
    """Gradient of the loss and backprop outputs with respect to the logits (op.inputs[0])."""
    logits, backprop = op.inputs[0], op.outputs[1]
    result = None
    if grad_loss is not None:
        result = array_ops.reshape(grad_loss, [-1, 1]) * backprop
    if not _is_zero(grad_grad):
        # backprop = softmax(logits) - labels, so its gradient goes through the softmax Jacobian.
        softmax = apply_op("Softmax", [logits]).outputs[0]
        term = (grad_grad - math_ops.reduce_sum(grad_grad * softmax, 1, keepdims=True)) * softmax
        result = term if result is None else result + term
    return result


@RegisterGradient("SoftmaxCrossEntropyWithLogits")
def _softmax_xent_grad(op, grad_loss, grad_grad):
    d_logits = _xent_logits_grad(op, grad_loss, grad_grad)
    d_labels = None
    if grad_loss is not None:
        log_p = apply_op("LogSoftmax", [op.inputs[0]]).outputs[0]
        d_labels = array_ops.reshape(grad_loss, [-1, 1]) * -log_p
    return d_logits, d_labels


def _sparse_xent_shape(op):
    features = op.inputs[0].shape.with_rank(2)
    labels = op.inputs[1].shape.with_rank(1)
    batch = features[0].merge_with(labels[0]) if features.ndims else labels[0]
    return [[batch], [batch, features[1] if features.ndims else None]]


@register_op("SparseSoftmaxCrossEntropyWithLogits", inputs=["features: T", "labels: Tlabels"],
             outputs=["loss: T", "backprop: T"], attrs={"Tlabels": ("type", _dt.int64)},
             allowed={"T": _FLOAT, "Tlabels": _INDEX}, shape=_sparse_xent_shape)
def _sparse_softmax_xent(features, labels):
    if features.ndim != 2:
        raise _invalid(f"logits must be 2-D, but got shape {list(features.shape)}")
    if labels.ndim != 1:
        raise _invalid(f"labels must be 1-D, but got shape {list(labels.shape)}")
    batch, classes = features.shape
    if labels.shape[0] != batch:
        raise _invalid(f"logits and labels must have the same first dimension, got logits shape "
                       f"{list(features.shape)} and labels shape {list(labels.shape)}")
    bad = (labels < 0) | (labels >= classes)
    if np.any(bad):
        raise _invalid(f"Received a label value of {labels[bad][0]} which is outside the valid range of "
                       f"[0, {classes}).  Label values: {' '.join(str(v) for v in labels.tolist())}")
    log_p = _log_softmax_np(features)
    rows = np.arange(batch)
    loss = -log_p[rows, labels]
    backprop = np.exp(log_p)
    backprop[rows, labels] -= 1
    return loss.astype(features.dtype, copy=False), backprop.astype(features.dtype, copy=False)


@RegisterGradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_softmax_xent_grad(op, grad_loss, grad_grad):
    return _xent_logits_grad(op, grad_loss, grad_grad), None


# ----------------------------------------------------------------------------------------------------------
# TopKV2, InTopKV2, L2Loss
# ----------------------------------------------------------------------------------------------------------
def _top_k_shape(op):
    x = op.inputs[0].shape.with_rank_at_least(1)
    k_shape = op.inputs[1].shape
    if k_shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {k_shape.ndims}")
    k = _reg.constant_value(op.inputs[1])
    if k is not None and int(k) < 0:
        raise ValueError(f"Need k >= 0, got {int(k)}")
    if x.ndims is None:
        return [x, x]
    last = x[-1].value
    if k is not None and last is not None and last < int(k):
        raise ValueError(f"input must have last dimension >= k = {int(k)} but is {last}")
    dims = x.as_list()[:-1] + [None if k is None else int(k)]
    return [dims, dims]


@register_op("TopKV2", inputs=["input: T", "k: Tk"], outputs=["values: T", "indices: index_type"],
             attrs={"sorted": ("bool", True), "Tk": ("type", _dt.int32), "index_type": ("type", _dt.int32)},
             allowed={"T": _REAL, "Tk": _INDEX, "index_type": _INDEX}, shape=_top_k_shape)
def _top_k(x, k, *, sorted, index_type):  # noqa: A002 - TF's attr name
    k = int(k)
    if k < 0:
        raise _invalid(f"Need k >= 0, got {k}")
    if x.ndim < 1:
        raise _invalid(f"input must be >= 1-D, got shape {list(x.shape)}")
    n = x.shape[-1]
    if n < k:
        raise _invalid(f"input must have at least k columns. Had {n}, needed {k}")
    # A stable ascending sort of the reversed row, read backwards, is descending with ties in index order.
    order = np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1][..., :k]
    indices = (n - 1 - order).astype(index_type.as_numpy_dtype)
    return np.take_along_axis(x, indices, axis=-1), indices


@RegisterGradient("TopKV2")
def _top_k_grad(op, grad_values, grad_indices):
    # The selected indices of a row are distinct, so scattering is a one-hot sum over the k axis.
    x, indices = op.inputs[0], op.outputs[1]
    depth = array_ops.shape(x)[-1]
    one_hot = array_ops.one_hot(indices, depth, dtype=grad_values.dtype)
    return math_ops.reduce_sum(one_hot * array_ops.expand_dims(grad_values, -1), -2), None


def _in_top_k_shape(op):
    predictions = op.inputs[0].shape.with_rank(2)
    targets = op.inputs[1].shape.with_rank(1)
    k_shape = op.inputs[2].shape
    if k_shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {k_shape.ndims}")
    batch = predictions[0].merge_with(targets[0]) if predictions.ndims else targets[0]
    return [batch]


@register_op("InTopKV2", inputs=["predictions: float32", "targets: T", "k: T"], outputs=["precision: bool"],
             attrs={"T": ("type", _dt.int32)}, allowed={"T": _INDEX}, shape=_in_top_k_shape)
def _in_top_k(predictions, targets, k):
    if predictions.ndim != 2:
        raise _invalid(f"predictions must be 2-dimensional, got shape {list(predictions.shape)}")
    if targets.ndim != 1:
        raise _invalid(f"targets must be 1-dimensional, got shape {list(targets.shape)}")
    batch, classes = predictions.shape
    if targets.shape[0] != batch:
        raise _invalid(f"First dimension of predictions {batch} must match length of targets {targets.shape[0]}")
    valid = (targets >= 0) & (targets < classes)
    target_pred = np.where(valid, predictions[np.arange(batch), np.where(valid, targets, 0)], np.nan)
    # Ties at the k-th place count as in the top k; non-finite target predictions never do.
    more_probable = np.sum(predictions > target_pred[:, None], axis=1)
    return valid & np.isfinite(target_pred) & (more_probable < int(k))


NotDifferentiable("InTopKV2")


@register_op("L2Loss", inputs=["t: T"], outputs=["output: T"], allowed={"T": _FLOAT}, shape=shape_fns.scalar)
def _l2_loss(x):
    ct = _compute_type(x.dtype)
    z = x.astype(ct, copy=False)
    return np.asarray(np.sum(z * z, dtype=ct) / 2, dtype=x.dtype)


@RegisterGradient("L2Loss")
def _l2_loss_grad(op, grad):
    return op.inputs[0] * grad


# ----------------------------------------------------------------------------------------------------------
# Python API for the primitives
# ----------------------------------------------------------------------------------------------------------
def _unary(op_type: str, x, name, attrs=None) -> _ops.Tensor:
    return apply_op(op_type, [x], attrs, name=name).outputs[0]


@tf_export("nn.relu")
def relu(features, name=None) -> _ops.Tensor:
    return _unary("Relu", features, name)


@tf_export("nn.relu6")
def relu6(features, name=None) -> _ops.Tensor:
    with _ops.name_scope(name, "Relu6", [features]) as scope:
        return _unary("Relu6", _ops.convert_to_tensor(features, name="features"), scope)


@tf_export("nn.elu")
def elu(features, name=None) -> _ops.Tensor:
    return _unary("Elu", features, name)


@tf_export("nn.selu")
def selu(features, name=None) -> _ops.Tensor:
    return _unary("Selu", features, name)


@tf_export("nn.leaky_relu")
def leaky_relu(features, alpha=0.2, name=None) -> _ops.Tensor:
    """max(features, alpha * features) for alpha <= 1; integer features are computed as float32."""
    with _ops.name_scope(name, "LeakyRelu", [features, alpha]) as scope:
        features = _ops.convert_to_tensor(features, name="features")
        if features.dtype.is_integer:
            features = math_ops.cast(features, _dt.float32)
        if isinstance(alpha, np.ndarray):
            alpha = alpha.item()
        return _unary("LeakyRelu", features, scope, {"alpha": float(alpha)})


@tf_export("math.softplus", "nn.softplus")
def softplus(features, name=None) -> _ops.Tensor:
    return _unary("Softplus", features, name)


@tf_export("math.softsign", "nn.softsign")
def softsign(features, name=None) -> _ops.Tensor:
    return _unary("Softsign", features, name)


def _softmax_along(op_type: str, logits, axis, name) -> _ops.Tensor:
    logits = _ops.convert_to_tensor(logits, name="logits")
    rank = logits.shape.ndims
    if axis is None or axis == -1 or (rank is not None and axis == rank - 1):
        return apply_op(op_type, [logits], name=name).outputs[0]
    if rank is not None and not -rank <= axis < rank:
        raise _errors.InvalidArgumentError(
            None, None, f"Dimension ({axis}) must be in the range [{-rank}, {rank}), where {rank} is the number of "
                        "dimensions in the input.")
    # Along another axis the same stable formula is composed from primitives, whose gradients then apply.
    with _ops.name_scope(name, op_type, [logits]) as scope:
        shifted = logits - array_ops.stop_gradient(math_ops.reduce_max(logits, axis, keepdims=True))
        if op_type == "Softmax":
            e = math_ops.exp(shifted)
            return math_ops.truediv(e, math_ops.reduce_sum(e, axis, keepdims=True), name=scope)
        lse = math_ops.log(math_ops.reduce_sum(math_ops.exp(shifted), axis, keepdims=True))
        return math_ops.subtract(shifted, lse, name=scope)


def _axis_arg(axis, dim):
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'.")
        return dim
    return axis


@tf_export("math.softmax", "nn.softmax")
def softmax(logits, axis=None, name=None, dim=None) -> _ops.Tensor:
    """exp(logits) / sum(exp(logits), axis), computed stably."""
    return _softmax_along("Softmax", logits, _axis_arg(axis, dim), name)


@tf_export("math.log_softmax", "nn.log_softmax")
def log_softmax(logits, axis=None, name=None, dim=None) -> _ops.Tensor:
    """logits - log(sum(exp(logits), axis)), computed stably."""
    return _softmax_along("LogSoftmax", logits, _axis_arg(axis, dim), name)


@tf_export("nn.bias_add")
def bias_add(value, bias, data_format=None, name=None) -> _ops.Tensor:
    """Adds the 1-D `bias` along the channel dimension of `value` (the last one unless data_format is NC..)."""
    with _ops.name_scope(name, "BiasAdd", [value, bias]) as scope:
        if data_format is not None:
            if data_format.startswith("NC"):
                data_format = "NCHW"
            elif data_format.startswith("N") and data_format.endswith("C"):
                data_format = "NHWC"
            else:
                raise ValueError("data_format must be of the form `N...C` or `NC...`")
        value = _ops.convert_to_tensor(value, name="input")
        bias = _ops.convert_to_tensor(bias, dtype=value.dtype.base_dtype, name="bias")
        return apply_op("BiasAdd", [value, bias], {"data_format": data_format or "NHWC"}, name=scope).outputs[0]


def _get_sequence(value, n: int, channel_index: int, name: str) -> list:
    """Expands an int or a list of 1, n or n+2 ints into the n+2 entries of a windowed op's attr."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (int, np.integer)):
        value = [int(value)]
    elif not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} should be an int or a list of ints, got {value!r}")
    value = [int(v) for v in value]
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2} but was {len(value)}")
    return [1] + value + [1] if channel_index == n + 1 else [1, 1] + value


def _channel_index(data_format) -> int:
    return 1 if data_format is not None and data_format.startswith("NC") else 3


def convert_padding(padding) -> tuple:
    """(padding string, explicit_paddings list) from 'SAME', 'VALID' or a list of [before, after] pairs."""
    if isinstance(padding, (list, tuple)):
        pairs = [list(p) for p in padding]
        if len(pairs) != 4 or any(len(p) != 2 for p in pairs):
            raise ValueError(f"When padding is a list, it must be of length 4 with pairs [before, after], got "
                             f"{padding!r}")
        return "EXPLICIT", [int(v) for p in pairs for v in p]
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME', 'VALID' or a list of [before, after] pairs, got {padding!r}")
    return padding, []


def _data_format(data_format) -> str:
    return "NHWC" if data_format is None else data_format


def _conv_attrs_from_args(strides, padding, use_cudnn_on_gpu, data_format, dilations) -> dict:
    """The Conv2D-family attrs from the Python wrappers' arguments."""
    data_format = _data_format(data_format)
    padding, explicit = convert_padding(padding)
    ci = _channel_index(data_format)
    return {"strides": _get_sequence(strides, 2, ci, "strides"), "padding": padding,
            "explicit_paddings": explicit, "use_cudnn_on_gpu": bool(use_cudnn_on_gpu),
            "data_format": data_format, "dilations": _get_sequence(dilations, 2, ci, "dilations")}


@tf_export("nn.conv2d")
def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True, data_format="NHWC",  # noqa: A002
           dilations=None, name=None, filters=None) -> _ops.Tensor:
    """2-D convolution of a 4-D `input` with a [height, width, in, out] `filter` (NHWC by default)."""
    filter = _renamed_arg(filters, "filters", filter, "filter")
    attrs = _conv_attrs_from_args(strides, padding, use_cudnn_on_gpu, data_format, dilations)
    return apply_op("Conv2D", [input, filter], attrs, name=name).outputs[0]


def _renamed_arg(new_value, new_name: str, old_value, old_name: str):
    if new_value is not None and old_value is not None:
        raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
    return new_value if new_value is not None else old_value


@tf_export("nn.conv2d_backprop_input")
def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,  # noqa: A002
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None,
                          filters=None) -> _ops.Tensor:
    """The gradient of conv2d with respect to its input, for an input of shape `input_sizes`."""
    filter = _renamed_arg(filters, "filters", filter, "filter")
    attrs = _conv_attrs_from_args(strides, padding, use_cudnn_on_gpu, data_format, dilations)
    return apply_op("Conv2DBackpropInput", [input_sizes, filter, out_backprop], attrs, name=name).outputs[0]


@tf_export("nn.conv2d_backprop_filter")
def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, use_cudnn_on_gpu=True,  # noqa: A002
                           data_format="NHWC", dilations=None, name=None) -> _ops.Tensor:
    """The gradient of conv2d with respect to its filter, for a filter of shape `filter_sizes`."""
    attrs = _conv_attrs_from_args(strides, padding, use_cudnn_on_gpu, data_format, dilations)
    return apply_op("Conv2DBackpropFilter", [input, filter_sizes, out_backprop], attrs, name=name).outputs[0]


def _pool(op_type: str, value, ksize, strides, padding, data_format, name) -> _ops.Tensor:
    with _ops.name_scope(name, op_type, [value]) as scope:
        data_format = _data_format(data_format)
        ci = _channel_index(data_format)
        ksize = _get_sequence(ksize, 2, ci, "ksize")
        strides = _get_sequence(strides, 2, ci, "strides")
        if any(v == 0 for v in ksize):
            raise ValueError("ksize cannot be zero.")
        attrs = {"ksize": ksize, "strides": strides, "padding": padding, "data_format": data_format}
        return apply_op(op_type, [value], attrs, name=scope).outputs[0]


@tf_export("nn.max_pool")
def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> _ops.Tensor:  # noqa: A002
    """Max pooling over [ksize] windows moved by `strides`; SAME pads with -inf (never selected)."""
    return _pool("MaxPool", _renamed_arg(input, "input", value, "value"), ksize, strides, padding, data_format, name)


@tf_export("nn.max_pool2d")
def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> _ops.Tensor:  # noqa: A002
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name)


@tf_export("nn.avg_pool", "nn.avg_pool2d")
def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> _ops.Tensor:  # noqa: A002
    """Average pooling; SAME windows average over their real (unpadded) elements only."""
    return _pool("AvgPool", _renamed_arg(input, "input", value, "value"), ksize, strides, padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> _ops.Tensor:  # noqa: A002
    return _pool("AvgPool", input, ksize, strides, padding, data_format, name)


@tf_export("math.top_k", "nn.top_k")
def top_k(input, k=1, sorted=True, name=None) -> tuple:  # noqa: A002 - TF's argument names
    """The `k` largest entries of the last dimension and their indices (ties: lower index first)."""
    op = apply_op("TopKV2", [input, k], {"sorted": bool(sorted)}, name=name)
    return _TopKResult(op.outputs[0], op.outputs[1])


# TF's namedtuple: `sess.run(tf.nn.top_k(x))` rebuilds it around the two arrays.
_TopKResult = collections.namedtuple("TopKV2", ["values", "indices"])


@tf_export("math.in_top_k", "nn.in_top_k")
def in_top_k(predictions, targets, k, name=None) -> _ops.Tensor:
    """Whether each target class is among the `k` highest predictions of its row."""
    with _ops.name_scope(name, "in_top_k"):
        targets = _ops.convert_to_tensor(targets, name="targets")
        k = _ops.convert_to_tensor(k, dtype=targets.dtype.base_dtype, name="k")
        return apply_op("InTopKV2", [predictions, targets, k], name=name).outputs[0]


@tf_export("nn.l2_loss")
def l2_loss(t, name=None) -> _ops.Tensor:
    """sum(t ** 2) / 2."""
    return _unary("L2Loss", t, name)
