"""`tf.nn.rnn_cell`: the recurrent cells and cell wrappers of TF 1.15 (ops/rnn_cell_impl.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
