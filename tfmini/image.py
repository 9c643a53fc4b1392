"""`tf.image`: resizing, cropping, flipping, colour adjustments, augmentations, box ops and image codecs.

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
