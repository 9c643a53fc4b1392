"""`tf.contrib`: the parts of TF 1.15's contrib that TF1 programs commonly use (`tf.contrib.rnn`)."""

from tfmini.contrib import rnn  # noqa: F401 - the tf.contrib.rnn namespace
