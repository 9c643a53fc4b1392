"""`tf.random`: the random sampling functions and seed control under their TF 1.15 `tf.random.*` names."""

from tfmini.ops.random_ops import categorical, get_seed, multinomial, set_random_seed, truncated_normal
from tfmini.ops.random_ops import random_normal as normal
from tfmini.ops.random_ops import random_shuffle as shuffle
from tfmini.ops.random_ops import random_uniform as uniform

__all__ = ["categorical", "get_seed", "multinomial", "normal", "set_random_seed", "shuffle", "truncated_normal",
           "uniform"]
