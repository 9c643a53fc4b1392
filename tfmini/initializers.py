"""`tf.initializers`: the initializers under their TF 1.15 `tf.initializers.*` names."""

from tfmini.ops.init_ops import Constant as constant
from tfmini.ops.init_ops import GlorotNormal as glorot_normal
from tfmini.ops.init_ops import GlorotUniform as glorot_uniform
from tfmini.ops.init_ops import Identity as identity
from tfmini.ops.init_ops import Ones as ones
from tfmini.ops.init_ops import RandomNormal as random_normal
from tfmini.ops.init_ops import RandomUniform as random_uniform
from tfmini.ops.init_ops import TruncatedNormal as truncated_normal
from tfmini.ops.init_ops import UniformUnitScaling as uniform_unit_scaling
from tfmini.ops.init_ops import VarianceScaling as variance_scaling
from tfmini.ops.init_ops import Zeros as zeros
from tfmini.ops.init_ops import he_normal, he_uniform, lecun_normal, lecun_uniform
from tfmini.ops.variables import global_variables_initializer as global_variables
from tfmini.ops.variables import local_variables_initializer as local_variables
from tfmini.ops.variables import variables_initializer as variables

__all__ = ["constant", "glorot_normal", "glorot_uniform", "global_variables", "he_normal", "he_uniform", "identity",
           "lecun_normal", "lecun_uniform", "local_variables", "ones", "random_normal", "random_uniform",
           "truncated_normal", "uniform_unit_scaling", "variables", "variance_scaling", "zeros"]
