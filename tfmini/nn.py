"""`tf.nn`: activations, convolution and pooling, normalization, cross-entropy and embedding functions under their
TF 1.15 names (primitives from ops/nn_ops.py, composites from ops/nn_impl.py)."""

from tfmini.ops.math_ops import sigmoid, tanh
from tfmini.ops.nn_impl import (
    atrous_conv2d,
    batch_normalization,
    conv1d,
    conv2d_transpose,
    convolution,
    crelu,
    dropout,
    embedding_lookup,
    fused_batch_norm,
    l2_normalize,
    moments,
    relu_layer,
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    weighted_cross_entropy_with_logits,
    weighted_moments,
    xw_plus_b,
    zero_fraction,
)
from tfmini.ops.nn_ops import (
    avg_pool,
    avg_pool2d,
    bias_add,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    elu,
    in_top_k,
    l2_loss,
    leaky_relu,
    log_softmax,
    max_pool,
    max_pool2d,
    relu,
    relu6,
    selu,
    softmax,
    softplus,
    softsign,
    top_k,
)

__all__ = [
    "atrous_conv2d", "avg_pool", "avg_pool2d", "batch_normalization", "bias_add", "conv1d", "conv2d",
    "conv2d_backprop_filter", "conv2d_backprop_input", "conv2d_transpose", "convolution", "crelu", "dropout", "elu",
    "embedding_lookup", "fused_batch_norm", "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "log_softmax",
    "max_pool", "max_pool2d", "moments", "relu", "relu6", "relu_layer", "selu", "sigmoid",
    "sigmoid_cross_entropy_with_logits", "softmax", "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2", "softplus", "softsign", "sparse_softmax_cross_entropy_with_logits",
    "swish", "tanh", "top_k", "weighted_cross_entropy_with_logits", "weighted_moments", "xw_plus_b",
    "zero_fraction",
]

# -- recurrent networks
# isort: split
from tfmini import rnn_cell
from tfmini.ops.rnn import (
    bidirectional_dynamic_rnn,
    dynamic_rnn,
    raw_rnn,
    static_bidirectional_rnn,
    static_rnn,
    static_state_saving_rnn,
)

__all__ += [
    "bidirectional_dynamic_rnn", "dynamic_rnn", "raw_rnn", "rnn_cell", "static_bidirectional_rnn", "static_rnn",
    "static_state_saving_rnn",
]

# -- depthwise convolution and local response normalization
# isort: split
from tfmini.ops.depthwise_conv_ops import depthwise_conv2d, depthwise_conv2d_native  # noqa: E402 - after __all__
from tfmini.ops.normalization_ops import local_response_normalization, lrn  # noqa: E402

__all__ += ["depthwise_conv2d", "depthwise_conv2d_native", "local_response_normalization", "lrn"]
