"""`tf.spectral`: discrete Fourier transforms (TF 1.x's home of tf.fft and its kin).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
