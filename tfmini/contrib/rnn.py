"""`tf.contrib.rnn`: TF 1.15's core recurrent cells and wrappers, the cells and wrappers only contrib had
(projection, embedding, attention and highway wrappers, block, fused, layer-normalized, convolutional and
research cells), the static RNN drivers, the stacked bidirectional ones and two helpers of the drivers."""

from tfmini.ops.core_rnn_cell import (
    AttentionCellWrapper,
    Conv1DLSTMCell,
    Conv2DLSTMCell,
    ConvLSTMCell,
    CoupledInputForgetGateLSTMCell,
    EmbeddingWrapper,
    GRUBlockCell,
    GRUBlockCellV2,
    HighwayWrapper,
    InputProjectionWrapper,
    IntersectionRNNCell,
    LayerNormBasicLSTMCell,
    LayerNormLSTMCell,
    LSTMBlockCell,
    NASCell,
    OutputProjectionWrapper,
    SRUCell,
    UGRNNCell,
)
from tfmini.ops.fused_rnn_cell import FusedRNNCell, FusedRNNCellAdaptor, LSTMBlockFusedCell, TimeReversedFusedRNN
from tfmini.ops.rnn import (
    best_effort_input_batch_size,
    stack_bidirectional_dynamic_rnn,
    stack_bidirectional_rnn,
    static_bidirectional_rnn,
    static_rnn,
    static_state_saving_rnn,
    transpose_batch_time,
)
from tfmini.ops.rnn_cell_impl import (
    BasicLSTMCell,
    BasicRNNCell,
    DeviceWrapper,
    DropoutWrapper,
    GRUCell,
    LayerRNNCell,
    LSTMCell,
    LSTMStateTuple,
    MultiRNNCell,
    ResidualWrapper,
    RNNCell,
)

__all__ = [
    "AttentionCellWrapper", "BasicLSTMCell", "BasicRNNCell", "best_effort_input_batch_size", "Conv1DLSTMCell",
    "Conv2DLSTMCell", "ConvLSTMCell", "CoupledInputForgetGateLSTMCell", "DeviceWrapper", "DropoutWrapper",
    "EmbeddingWrapper", "FusedRNNCell", "FusedRNNCellAdaptor", "GRUBlockCell", "GRUBlockCellV2", "GRUCell",
    "HighwayWrapper", "InputProjectionWrapper", "IntersectionRNNCell", "LayerNormBasicLSTMCell", "LayerNormLSTMCell",
    "LayerRNNCell", "LSTMBlockCell", "LSTMBlockFusedCell", "LSTMCell", "LSTMStateTuple", "MultiRNNCell", "NASCell",
    "OutputProjectionWrapper", "ResidualWrapper", "RNNCell", "SRUCell", "stack_bidirectional_dynamic_rnn",
    "stack_bidirectional_rnn", "static_bidirectional_rnn", "static_rnn", "static_state_saving_rnn",
    "TimeReversedFusedRNN", "transpose_batch_time", "UGRNNCell",
]
