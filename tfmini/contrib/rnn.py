"""`tf.contrib.rnn`: TF 1.15's core recurrent cells and wrappers, the cells and wrappers only contrib had
(projection, embedding and attention wrappers, block and layer-normalized cells), the static RNN drivers and
the stacked bidirectional ones."""

from tfmini.ops.core_rnn_cell import (
    AttentionCellWrapper,
    EmbeddingWrapper,
    GRUBlockCell,
    GRUBlockCellV2,
    InputProjectionWrapper,
    LayerNormBasicLSTMCell,
    LSTMBlockCell,
    OutputProjectionWrapper,
)
from tfmini.ops.rnn import (
    stack_bidirectional_dynamic_rnn,
    stack_bidirectional_rnn,
    static_bidirectional_rnn,
    static_rnn,
    static_state_saving_rnn,
)
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
    "AttentionCellWrapper", "BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "EmbeddingWrapper",
    "GRUBlockCell", "GRUBlockCellV2", "GRUCell", "InputProjectionWrapper", "LayerNormBasicLSTMCell", "LSTMBlockCell",
    "LSTMCell", "LSTMStateTuple", "MultiRNNCell", "OutputProjectionWrapper", "ResidualWrapper", "RNNCell",
    "stack_bidirectional_dynamic_rnn", "stack_bidirectional_rnn", "static_bidirectional_rnn", "static_rnn",
    "static_state_saving_rnn",
]
