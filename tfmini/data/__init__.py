"""`tf.data` (TF 1.15): `Dataset`, `Iterator`, the file datasets and `tf.data.experimental`; also the
`tf.compat.v1.data` functions (make_one_shot_iterator, make_initializable_iterator, get_output_*).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""

from tfmini.data import dataset_ops, experimental, iterator_ops, options, readers  # noqa: F401 - their declarations
