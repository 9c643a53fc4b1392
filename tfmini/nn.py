"""`tf.nn`: activations, convolution and pooling, normalization, cross-entropy, embedding and recurrent-network
functions under their TF 1.15 names (primitives in ops/nn_ops.py, composites in ops/nn_impl.py, the RNN drivers in
ops/rnn.py), and the `tf.nn.rnn_cell` namespace.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""

from tfmini import rnn_cell  # noqa: F401 - the tf.nn.rnn_cell namespace
