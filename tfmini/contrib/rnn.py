"""`tf.contrib.rnn`: TF 1.15's core recurrent cells and wrappers, the cells and wrappers only contrib had
(projection, embedding, attention and highway wrappers, block, fused, layer-normalized, convolutional and
research cells), the static RNN drivers, the stacked bidirectional ones and two helpers of the drivers.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
