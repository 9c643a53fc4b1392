"""`tf.profiler`: the model analyzer (Profiler, profile, advise, ProfileOptionBuilder, write_op_log) and its
result protos.

The names are declared with `@tf_export` beside their definitions (tfmini/train/profiler.py) and bound here
when tfmini is imported (framework/api_export.py).
"""
