"""`tf.graph_util`: freezing variables into constants, extracting and pruning subgraphs (framework/graph_util.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
