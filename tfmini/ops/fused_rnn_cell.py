"""tf.contrib.rnn's fused RNN cells: cells that run over a whole time-major sequence in one call,
`cell(inputs, initial_state=None, dtype=None, sequence_length=None, scope=None) -> (outputs, final_state)`:
FusedRNNCell (the interface), FusedRNNCellAdaptor (an RNNCell run by dynamic_rnn or static_rnn),
TimeReversedFusedRNN, and LSTMBlockFusedCell (LSTMBlockCell's LSTM over a sequence, scope `lstm_fused_cell`)."""

from __future__ import annotations

from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, init_ops
from tfmini.ops.core_rnn_cell import LSTMBlockCell
from tfmini.ops.rnn import dynamic_rnn, static_rnn
from tfmini.ops.rnn_cell_impl import LayerRNNCell, LSTMStateTuple


@tf_export("contrib.rnn.FusedRNNCell")
class FusedRNNCell:
    """The fused-cell interface: `cell(inputs, initial_state=None, dtype=None, sequence_length=None,
    scope=None)` runs the cell over time-major `inputs` (a [time, batch, depth] tensor or a list of
    [batch, depth] tensors) and returns (outputs in the same form, final state)."""

    def __call__(self, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__")


@tf_export("contrib.rnn.FusedRNNCellAdaptor")
class FusedRNNCellAdaptor(FusedRNNCell):
    """An RNNCell as a fused cell: run by static_rnn, or by dynamic_rnn (time-major) if `use_dynamic_rnn`."""

    def __init__(self, cell, use_dynamic_rnn: bool = False) -> None:
        self._cell = cell
        self._use_dynamic_rnn = use_dynamic_rnn

    def __call__(self, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
        is_list = isinstance(inputs, list)
        if self._use_dynamic_rnn:
            outputs, state = dynamic_rnn(self._cell, array_ops.stack(inputs) if is_list else inputs,
                                         sequence_length=sequence_length, initial_state=initial_state, dtype=dtype,
                                         time_major=True, scope=scope)
            return (array_ops.unstack(outputs) if is_list else outputs), state
        outputs, state = static_rnn(self._cell, inputs if is_list else array_ops.unstack(inputs),
                                    initial_state=initial_state, dtype=dtype, sequence_length=sequence_length,
                                    scope=scope)
        return (outputs if is_list else array_ops.stack(outputs)), state


@tf_export("contrib.rnn.TimeReversedFusedRNN")
class TimeReversedFusedRNN(FusedRNNCell):
    """A fused cell run backwards in time: the inputs are reversed (each sequence within its length, for a
    tensor with `sequence_length`), and the outputs reversed back."""

    def __init__(self, cell) -> None:
        self._cell = cell

    @staticmethod
    def _reverse(t, lengths):
        if isinstance(t, list):
            return list(reversed(t))
        if lengths is None:
            return array_ops.reverse(t, [0])
        return array_ops.reverse_sequence(t, lengths, seq_axis=0, batch_axis=1)

    def __call__(self, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
        outputs, state = self._cell(self._reverse(inputs, sequence_length), initial_state=initial_state, dtype=dtype,
                                    sequence_length=sequence_length, scope=scope)
        return self._reverse(outputs, sequence_length), state


@tf_export("contrib.rnn.LSTMBlockFusedCell")
class LSTMBlockFusedCell(LayerRNNCell, FusedRNNCell):
    """LSTMBlockCell's LSTM (gates i, j, f, o, optional peepholes and cell clipping) over a whole time-major
    sequence, with its variables (`kernel`, `bias`, `w_i_diag`, `w_f_diag`, `w_o_diag`) in scope
    `lstm_fused_cell`. Outputs past a sequence's length are zeros; the final state (c, h) is each sequence's
    state at its end (the initial state for a length of 0)."""

    _input_ndim = 3

    def __init__(self, num_units: int, forget_bias: float = 1.0, cell_clip=None, use_peephole: bool = False,
                 reuse=None, dtype=None, name="lstm_fused_cell") -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._step = LSTMBlockCell(num_units, forget_bias=forget_bias, cell_clip=cell_clip, use_peephole=use_peephole)

    @property
    def num_units(self) -> int:
        """The number of units (the output depth)."""
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _shape.as_shape(inputs_shape).with_rank(3)[2].value
        if not depth:
            raise ValueError(f"Expecting inputs_shape[2] to be set: {inputs_shape}")
        n, step = self._num_units, self._step
        step._kernel = self.add_variable("kernel", [depth + n, 4 * n])
        step._bias = self.add_variable("bias", [4 * n], initializer=init_ops.constant_initializer(0.0))
        if step._use_peepholes:
            step._w_i_diag = self.add_variable("w_i_diag", [n])
            step._w_f_diag = self.add_variable("w_f_diag", [n])
            step._w_o_diag = self.add_variable("w_o_diag", [n])
        # The step cell computes with these variables and makes none of its own.
        step.built = True
        self.built = True

    def __call__(self, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
        is_list = isinstance(inputs, list)
        outputs, state = self._call_in_scope(array_ops.stack(inputs) if is_list else inputs, initial_state, scope,
                                             dtype=dtype, sequence_length=sequence_length)
        return (array_ops.unstack(outputs) if is_list else outputs), state

    def call(self, inputs, initial_state, dtype=None, sequence_length=None):
        if initial_state is None:
            if dtype is None:
                raise ValueError("Either initial_state or dtype needs to be specified")
        elif len(initial_state) != 2:
            raise ValueError("Expecting initial_state to be a tuple with length 2 or None")
        else:
            initial_state = LSTMStateTuple(*initial_state)
        return dynamic_rnn(self._step, inputs, sequence_length=sequence_length, initial_state=initial_state,
                           dtype=dtype, time_major=True)
