"""`tf.queue`: the queue classes of TF1's input pipelines (`tf.queue.FIFOQueue`, ...), in ops/data_flow_ops.py.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
