"""`tf.contrib.rnn`: TF 1.15's core recurrent cells and wrappers, the projection and embedding wrappers that
only contrib had, and the static RNN drivers."""

from tfmini.ops.core_rnn_cell import EmbeddingWrapper, InputProjectionWrapper, OutputProjectionWrapper
from tfmini.ops.rnn import static_bidirectional_rnn, static_rnn, static_state_saving_rnn
from tfmini.ops.rnn_cell_impl import (
    BasicLSTMCell,
    BasicRNNCell,
    DeviceWrapper,
    DropoutWrapper,
    GRUCell,
    LSTMCell,
    LSTMStateTuple,
    MultiRNNCell,
    ResidualWrapper,
    RNNCell,
)

__all__ = [
    "BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "EmbeddingWrapper", "GRUCell",
    "InputProjectionWrapper", "LSTMCell", "LSTMStateTuple", "MultiRNNCell", "OutputProjectionWrapper",
    "RNNCell", "ResidualWrapper", "static_bidirectional_rnn", "static_rnn", "static_state_saving_rnn",
]
