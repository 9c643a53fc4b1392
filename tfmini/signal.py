"""`tf.signal`: TF 1.15's signal processing namespace (the FFTs and DCTs, framing, windows, STFTs, mel filters).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
