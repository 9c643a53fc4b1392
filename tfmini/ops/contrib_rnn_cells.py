"""The remaining cells of tf.contrib.rnn (TF 1.15's contrib rnn_cell and lstm_ops): the time-frequency and grid
LSTMs (TimeFreqLSTMCell, GridLSTMCell, BidirectionalGridLSTMCell), PhasedLSTMCell, Conv3DLSTMCell, GLSTMCell, the
independently recurrent cells (IndRNNCell, IndyGRUCell, IndyLSTMCell), WeightNormLSTMCell, LSTMBlockWrapper (the
base of fused LSTM block cells) and CompiledWrapper. Variable names, shapes, state structures and equations are
TF 1.15's; the cells are compositions of existing ops, so they need no kernels or gradients of their own."""

from __future__ import annotations

import abc
import collections

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, conv3d_ops, init_ops, math_ops, nn_impl, nn_ops, random_ops
from tfmini.ops import variable_scope as vs
from tfmini.ops.core_rnn_cell import (
    ConvLSTMCell,
    _input_size,
    _Linear,
    _linear_arg_sizes,
    _peephole_variables,
    _sharded_matrix,
)
from tfmini.ops.rnn_cell_impl import (
    CallerScopeWrapper,
    LayerRNNCell,
    LSTMStateTuple,
    RNNCell,
    _activation,
    _clip,
    _input_depth,
    _lstm_new_cell,
    _lstm_output,
    _projected_lstm_sizes,
    _SizesFromFields,
)

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"


def _zeros_rows(like, columns: int, dtype):
    """Zeros of shape [batch, columns], the batch taken from `like` (static when known)."""
    batch = _shape.dimension_value(like.shape[0])
    if batch is not None:
        return array_ops.zeros([batch, columns], dtype)
    return array_ops.zeros(array_ops.stack([array_ops.shape(like)[0], columns]), dtype)


# ----------------------------------------------------------------------------------------------------------
# Time-frequency and grid LSTMs (Sainath & Li 2016; Kalchbrenner et al. 2016)
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.TimeFreqLSTMCell")
class TimeFreqLSTMCell(RNNCell):
    """An LSTM that also runs along frequency: the input is cut into windows of `feature_size` columns every
    `frequency_skip` columns, and one LSTM step per window (weights `W_0`... sharded by `num_unit_shards`, bias
    `B`, peepholes `W_F_diag`, `W_I_diag`, `W_O_diag`) sees the window, its own previous (c, m) from the state and
    the m of the previous window. The state is [c_0, m_0, c_1, m_1, ...] concatenated, the output [m_0, m_1, ...].

    As in TF 1.15, `state_size` and `output_size` describe one window (2 * num_units and num_units) whatever the
    input width, so inputs with several windows need an explicit state of 2 * num_units * windows columns; the
    `initializer` argument is accepted and not used.
    """

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip=None, initializer=None,
                 num_unit_shards: int = 1, forget_bias: float = 1.0, feature_size=None, frequency_skip: int = 1,
                 reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_unit_shards = num_unit_shards
        self._forget_bias = forget_bias
        self._feature_size = feature_size
        self._frequency_skip = frequency_skip
        self._state_size = 2 * num_units
        self._output_size = num_units

    @property
    def output_size(self) -> int:
        return self._output_size

    @property
    def state_size(self) -> int:
        return self._state_size

    def _make_tf_features(self, input_feat) -> list:
        """The frequency windows of a [batch, input_size] tensor, each [batch, feature_size]."""
        input_size = _shape.dimension_value(input_feat.shape.with_rank(2)[-1])
        if input_size is None:
            raise ValueError("Cannot infer input_size from static shape inference.")
        num_feats = int((input_size - self._feature_size) / self._frequency_skip) + 1
        return [array_ops.slice(input_feat, [0, f * self._frequency_skip], [-1, self._feature_size])
                for f in range(num_feats)]

    def call(self, inputs, state):
        n = self._num_units
        freq_inputs = self._make_tf_features(inputs)
        dtype = inputs.dtype.base_dtype
        width = freq_inputs[0].shape.as_list()[1]
        w = _sharded_matrix("W", [width + 2 * n, 4 * n], dtype, self._num_unit_shards)
        b = vs.get_variable("B", shape=[4 * n], initializer=init_ops.zeros_initializer(), dtype=dtype)
        peepholes = (_peephole_variables(["W_F_diag", "W_I_diag", "W_O_diag"], n, dtype) if self._use_peepholes
                     else [None] * 3)
        m_prev_freq = _zeros_rows(inputs, n, dtype)
        states, outputs = [], []
        for fq, window in enumerate(freq_inputs):
            c_prev = array_ops.slice(state, [0, 2 * fq * n], [-1, n])
            m_prev = array_ops.slice(state, [0, (2 * fq + 1) * n], [-1, n])
            lstm_matrix = nn_ops.bias_add(math_ops.matmul(array_ops.concat([window, m_prev, m_prev_freq], 1), w), b)
            i, j, f, o = array_ops.split(lstm_matrix, num_or_size_splits=4, axis=1)
            c = _clip(_lstm_new_cell(i, j, f, c_prev, self._forget_bias, math_ops.tanh, *peepholes[:2]),
                      self._cell_clip)
            m = _lstm_output(o, c, math_ops.tanh, peepholes[2])
            m_prev_freq = m
            states += [c, m]
            outputs.append(m)
        return array_ops.concat(outputs, 1), array_ops.concat(states, 1)


@tf_export("contrib.rnn.GridLSTMCell")
class GridLSTMCell(RNNCell):
    """The grid LSTM over time and frequency: for each frequency window of each block, a frequency LSTM (weights
    `W_f_<block>`, bias `B_f_<block>`) and a time LSTM (`W_t_<block>`, `B_t_<block>`, or the frequency ones with
    `share_time_frequency_weights`) read [window, m of the time state, m of the previous window]; optional
    peepholes `W_{F,I,O}_diag_{freq,time}{f,t}_<block>`, input and forget gates coupled (f = 1 - i) with
    `couple_input_forget_gates`, cell clipping. The state is (c, m) of the time LSTM per window, a
    `GridLSTMStateTuple` with fields `state_f<window>_b<block>_c` / `_m` (or all concatenated); the output is
    [m_time, m_freq] per window, concatenated.

    Windows come from `feature_size` and `frequency_skip`, over the whole input or, per block, over
    [start_freqindex_list[b], end_freqindex_list[b]); `num_frequency_blocks` gives the windows of each block and
    must match. As in TF 1.15, the `initializer` argument is accepted and not used, and a concatenated state is
    read per window without a block offset.
    """

    def __init__(self, num_units: int, use_peepholes: bool = False, share_time_frequency_weights: bool = False,
                 cell_clip=None, initializer=None, num_unit_shards: int = 1, forget_bias: float = 1.0,
                 feature_size=None, frequency_skip=None, num_frequency_blocks=None, start_freqindex_list=None,
                 end_freqindex_list=None, couple_input_forget_gates: bool = False, state_is_tuple: bool = True,
                 reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._share_time_frequency_weights = share_time_frequency_weights
        self._couple_input_forget_gates = couple_input_forget_gates
        self._state_is_tuple = state_is_tuple
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_unit_shards = num_unit_shards
        self._forget_bias = forget_bias
        self._feature_size = feature_size
        self._frequency_skip = frequency_skip
        self._start_freqindex_list = start_freqindex_list
        self._end_freqindex_list = end_freqindex_list
        self._num_frequency_blocks = num_frequency_blocks
        if num_frequency_blocks is None:
            raise ValueError("Must specify num_frequency_blocks")
        self._total_blocks = sum(int(k) for k in num_frequency_blocks)
        if state_is_tuple:
            self._state_tuple_type = self._make_state_tuple_type("GridLSTMStateTuple", ["state"])
            self._state_size = self._state_tuple_type(*([num_units, num_units] * self._total_blocks))
        else:
            self._state_tuple_type = None
            self._state_size = num_units * self._total_blocks * 2
        self._output_size = num_units * self._total_blocks * 2

    def _make_state_tuple_type(self, type_name: str, prefixes: list):
        fields = [f"{prefix}_f{freq:02d}_b{block:02d}_{part}"
                  for prefix in prefixes
                  for block, count in enumerate(self._num_frequency_blocks)
                  for freq in range(count)
                  for part in ("c", "m")]
        return collections.namedtuple(type_name, fields)

    @property
    def output_size(self) -> int:
        return self._output_size

    @property
    def state_size(self):
        return self._state_size

    @property
    def state_tuple_type(self):
        """The namedtuple class of the state (None for a concatenated state)."""
        return self._state_tuple_type

    @staticmethod
    def _batch_size(inputs):
        return _shape.dimension_value(inputs.shape[0]) or array_ops.shape(inputs)[0]

    def call(self, inputs, state):
        batch_size = self._batch_size(inputs)
        m_out, state_out = [], []
        for block, windows in enumerate(self._make_tf_features(inputs)):
            m, s = self._compute(windows, block, state, batch_size, state_is_tuple=self._state_is_tuple)
            m_out += m
            state_out += s
        new_state = self._state_tuple_type(*state_out) if self._state_is_tuple else array_ops.concat(state_out, 1)
        return array_ops.concat(m_out, 1), new_state

    def _diag(self, name: str, block: int, dtype):
        return vs.get_variable(f"{name}_{block}", shape=[self._num_units], dtype=dtype)

    def _compute(self, freq_inputs: list, block: int, state, batch_size, state_prefix: str = "state",
                 state_is_tuple: bool = True):
        """One step of the grid LSTM over the windows of `block`: (outputs, states), two tensors per window."""
        sigmoid, tanh = math_ops.sigmoid, math_ops.tanh
        n = self._num_units
        coupled, shared, peep = self._couple_input_forget_gates, self._share_time_frequency_weights, \
            self._use_peepholes
        num_gates = 3 if coupled else 4
        dtype = freq_inputs[0].dtype.base_dtype
        width = freq_inputs[0].shape.as_list()[1]
        rows = [width + 2 * n, num_gates * n]
        w_f = _sharded_matrix(f"W_f_{block}", rows, dtype, self._num_unit_shards)
        b_f = vs.get_variable(f"B_f_{block}", shape=[num_gates * n], initializer=init_ops.zeros_initializer(),
                              dtype=dtype)
        if not shared:
            w_t = _sharded_matrix(f"W_t_{block}", rows, dtype, self._num_unit_shards)
            b_t = vs.get_variable(f"B_t_{block}", shape=[num_gates * n], initializer=init_ops.zeros_initializer(),
                                  dtype=dtype)
        d = {}  # peephole vectors by name
        if peep:
            names = ["W_I_diag_freqf", "W_I_diag_freqt", "W_O_diag_freqf", "W_O_diag_freqt"]
            if not coupled:
                names = ["W_F_diag_freqf", "W_F_diag_freqt"] + names
            if not shared:
                time_names = ["W_I_diag_timef", "W_I_diag_timet", "W_O_diag_timef", "W_O_diag_timet"]
                names += time_names if coupled else ["W_F_diag_timef", "W_F_diag_timet"] + time_names
            for name in names:
                d[name] = self._diag(name, block, dtype)
            # With shared weights the time LSTM uses the frequency LSTM's peepholes.
            time_kind = "freq" if shared else "time"

        def split_gates(matrix):
            parts = array_ops.split(matrix, num_or_size_splits=num_gates, axis=1)
            if coupled:
                i, j, o = parts
                return i, j, None, o
            return parts

        def gate(x, kind: str, gate_name: str, c_freq, c_time, bias: float = 0.0):
            pre = x + bias if bias else x
            if peep:
                pre = pre + d[f"W_{gate_name}_diag_{kind}f"] * c_freq + d[f"W_{gate_name}_diag_{kind}t"] * c_time
            return sigmoid(pre)

        m_prev_freq = array_ops.zeros([batch_size, n], dtype) if isinstance(batch_size, int) else \
            array_ops.zeros(array_ops.stack([batch_size, n]), dtype)
        c_prev_freq = m_prev_freq
        m_out, state_out = [], []
        for freq_index, window in enumerate(freq_inputs):
            if state_is_tuple:
                prefix = f"{state_prefix}_f{freq_index:02d}_b{block:02d}"
                c_prev_time = getattr(state, prefix + "_c")
                m_prev_time = getattr(state, prefix + "_m")
            else:
                c_prev_time = array_ops.slice(state, [0, 2 * freq_index * n], [-1, n])
                m_prev_time = array_ops.slice(state, [0, (2 * freq_index + 1) * n], [-1, n])
            cell_inputs = array_ops.concat([window, m_prev_time, m_prev_freq], 1)
            i_freq, j_freq, f_freq, o_freq = split_gates(nn_ops.bias_add(math_ops.matmul(cell_inputs, w_f), b_f))
            if shared:
                i_time, j_time, f_time, o_time = i_freq, j_freq, f_freq, o_freq
            else:
                i_time, j_time, f_time, o_time = split_gates(
                    nn_ops.bias_add(math_ops.matmul(cell_inputs, w_t), b_t))
            # The frequency LSTM.
            i_freq_g = gate(i_freq, "freq", "I", c_prev_freq, c_prev_time)
            f_freq_g = 1.0 - i_freq_g if coupled else gate(f_freq, "freq", "F", c_prev_freq, c_prev_time,
                                                           self._forget_bias)
            c_freq = _clip(f_freq_g * c_prev_freq + i_freq_g * tanh(j_freq), self._cell_clip)
            # The time LSTM.
            kind = time_kind if peep else "time"
            i_time_g = gate(i_time, kind, "I", c_prev_freq, c_prev_time)
            f_time_g = 1.0 - i_time_g if coupled else gate(f_time, kind, "F", c_prev_freq, c_prev_time,
                                                           self._forget_bias)
            c_time = _clip(f_time_g * c_prev_time + i_time_g * tanh(j_time), self._cell_clip)
            m_freq = gate(o_freq, "freq", "O", c_freq, c_time) * tanh(c_freq)
            m_time = gate(o_time, kind, "O", c_freq, c_time) * tanh(c_time)
            m_prev_freq, c_prev_freq = m_freq, c_freq
            state_out += [c_time, m_time]
            m_out += [m_time, m_freq]
        return m_out, state_out

    def _make_tf_features(self, input_feat, slice_offset: int = 0) -> list:
        """The windows of each frequency block: a list (per block) of [batch, feature_size] tensors. A positive
        `slice_offset` pads the input's end with zeros and starts the windows that far in; a negative one pads
        its front."""
        input_size = _shape.dimension_value(input_feat.shape.with_rank(2)[-1])
        if input_size is None:
            raise ValueError("Cannot infer input_size from static shape inference.")
        if slice_offset > 0:
            inputs = array_ops.pad(input_feat, [[0, 0], [0, slice_offset]], "CONSTANT")
        elif slice_offset < 0:
            inputs = array_ops.pad(input_feat, [[0, 0], [-slice_offset, 0]], "CONSTANT")
            slice_offset = 0
        else:
            inputs = input_feat
        if not self._start_freqindex_list:
            if len(self._num_frequency_blocks) != 1:
                raise ValueError("Length of num_frequency_blocks is not 1, but instead is "
                                 f"{len(self._num_frequency_blocks)}")
            ranges = [(0, input_size)]
        else:
            if len(self._start_freqindex_list) != len(self._end_freqindex_list):
                raise ValueError("Length of start and end freqindex_list does not match "
                                 f"{len(self._start_freqindex_list)} {len(self._end_freqindex_list)}")
            if len(self._num_frequency_blocks) != len(self._start_freqindex_list):
                raise ValueError("Length of num_frequency_blocks is not equal to start_freqindex_list "
                                 f"{len(self._num_frequency_blocks)} {len(self._start_freqindex_list)}")
            ranges = list(zip(self._start_freqindex_list, self._end_freqindex_list))
        blocks = []
        for b, (start, end) in enumerate(ranges):
            count = int((end - start - self._feature_size) / self._frequency_skip) + 1
            if count != self._num_frequency_blocks[b]:
                raise ValueError(f"Invalid num_frequency_blocks, requires {self._num_frequency_blocks[b]} but gets "
                                 f"{count}, please check the input size and filter config are correct.")
            blocks.append([array_ops.slice(inputs, [0, start + slice_offset + f * self._frequency_skip],
                                           [-1, self._feature_size]) for f in range(count)])
        return blocks


@tf_export("contrib.rnn.BidirectionalGridLSTMCell")
class BidirectionalGridLSTMCell(GridLSTMCell):
    """GridLSTMCell run in both directions along frequency, with separate weights in scopes `fwd` and `bwd`; the
    backward pass reads each block's windows in reverse order (starting `backward_slice_offset` columns in). The
    state is always a `BidirectionalGridLSTMStateTuple` (fields `fwd_state_...` then `bwd_state_...`); the output
    is the forward outputs then the backward ones."""

    def __init__(self, num_units: int, use_peepholes: bool = False, share_time_frequency_weights: bool = False,
                 cell_clip=None, initializer=None, num_unit_shards: int = 1, forget_bias: float = 1.0,
                 feature_size=None, frequency_skip=None, num_frequency_blocks=None, start_freqindex_list=None,
                 end_freqindex_list=None, couple_input_forget_gates: bool = False, backward_slice_offset: int = 0,
                 reuse=None) -> None:
        super().__init__(num_units, use_peepholes, share_time_frequency_weights, cell_clip, initializer,
                         num_unit_shards, forget_bias, feature_size, frequency_skip, num_frequency_blocks,
                         start_freqindex_list, end_freqindex_list, couple_input_forget_gates, True, reuse)
        self._backward_slice_offset = int(backward_slice_offset)
        self._state_tuple_type = self._make_state_tuple_type("BidirectionalGridLSTMStateTuple",
                                                             ["fwd_state", "bwd_state"])
        self._state_size = self._state_tuple_type(*([num_units, num_units] * self._total_blocks * 2))
        self._output_size = 2 * num_units * self._total_blocks * 2

    def call(self, inputs, state):
        batch_size = self._batch_size(inputs)
        fwd_inputs = self._make_tf_features(inputs)
        bwd_inputs = (self._make_tf_features(inputs, self._backward_slice_offset) if self._backward_slice_offset
                      else fwd_inputs)
        outputs, states = {}, {}
        for direction, blocks in (("fwd", fwd_inputs), ("bwd", bwd_inputs)):
            outputs[direction], states[direction] = [], []
            with vs.variable_scope(direction):
                for block, windows in enumerate(blocks):
                    if direction == "bwd":
                        windows = windows[::-1]
                    m, s = self._compute(windows, block, state, batch_size, state_prefix=f"{direction}_state",
                                         state_is_tuple=True)
                    outputs[direction] += m
                    states[direction] += s
        new_state = self._state_tuple_type(*(states["fwd"] + states["bwd"]))
        return array_ops.concat(outputs["fwd"] + outputs["bwd"], 1), new_state


# ----------------------------------------------------------------------------------------------------------
# Phased LSTM (Neil et al. 2016)
# ----------------------------------------------------------------------------------------------------------
def _random_exp_initializer(minval, maxval, seed=None, dtype=_dt.float32):
    """An initializer drawing exp(U(log(minval), log(maxval)))."""

    def _initializer(shape, dtype=dtype, partition_info=None):
        del partition_info
        low = math_ops.log(_ops.convert_to_tensor(minval, dtype=dtype))
        high = math_ops.log(_ops.convert_to_tensor(maxval, dtype=dtype))
        return math_ops.exp(random_ops.random_uniform(shape, low, high, dtype, seed=seed))

    return _initializer


@tf_export("contrib.rnn.PhasedLSTMCell")
class PhasedLSTMCell(RNNCell):
    """The phased LSTM: an LSTM (gates from `mask_gates/kernel`, `new_input/kernel`, `output_gate/kernel` and their
    biases, peepholes through c with `use_peepholes`) whose update is let through by a time gate k that opens for
    the fraction `ratio_on` of each unit's `period`, shifted by its `phase` (k rises then falls; closed it leaks
    `leak` * cycle ratio). Inputs are a pair (time [batch, 1], features [batch, depth]); the cycle ratio is computed
    in the time's dtype and then, as in TF 1.15, in float32, so the features and state must be float32. `period` is
    drawn from exp(U(log period_init_min, log period_init_max)), `phase` from U(0, period), `ratio_on` is a
    variable (trainable if `trainable_ratio_on`)."""

    def __init__(self, num_units: int, use_peepholes: bool = False, leak: float = 0.001, ratio_on: float = 0.1,
                 trainable_ratio_on: bool = True, period_init_min: float = 1.0, period_init_max: float = 1000.0,
                 reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._leak = leak
        self._ratio_on = ratio_on
        self._trainable_ratio_on = trainable_ratio_on
        self._period_init_min = period_init_min
        self._period_init_max = period_init_max
        self._linear1 = self._linear2 = self._linear3 = None

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self) -> int:
        return self._num_units

    @staticmethod
    def _mod(x, y):
        """x mod y whose gradient with respect to x is 1 (the jumps are ignored)."""
        return array_ops.stop_gradient(math_ops.floormod(x, y) - x) + x

    def _get_cycle_ratio(self, time, phase, period):
        """Where each unit is in its cycle, in [0, 1): computed in the time's dtype, returned as float32."""
        phase = math_ops.cast(phase, dtype=time.dtype)
        period = math_ops.cast(period, dtype=time.dtype)
        return math_ops.cast(self._mod(time - phase, period) / period, dtype=_dt.float32)

    def call(self, inputs, state):
        c_prev, h_prev = state
        time, x = inputs
        in_mask_gates = [x, h_prev] + ([c_prev] if self._use_peepholes else [])
        with vs.variable_scope("mask_gates"):
            if self._linear1 is None:
                self._linear1 = _Linear(in_mask_gates, 2 * self._num_units, True)
            input_gate, forget_gate = array_ops.split(math_ops.sigmoid(self._linear1(in_mask_gates)),
                                                      num_or_size_splits=2, axis=1)
        with vs.variable_scope("new_input"):
            if self._linear2 is None:
                self._linear2 = _Linear([x, h_prev], self._num_units, True)
            new_input = math_ops.tanh(self._linear2([x, h_prev]))
        new_c = c_prev * forget_gate + input_gate * new_input
        in_out_gate = [x, h_prev] + ([new_c] if self._use_peepholes else [])
        with vs.variable_scope("output_gate"):
            if self._linear3 is None:
                self._linear3 = _Linear(in_out_gate, self._num_units, True)
            output_gate = math_ops.sigmoid(self._linear3(in_out_gate))
        new_h = math_ops.tanh(new_c) * output_gate

        period = vs.get_variable("period", [self._num_units],
                                 initializer=_random_exp_initializer(self._period_init_min, self._period_init_max))
        phase = vs.get_variable("phase", [self._num_units],
                                initializer=init_ops.random_uniform_initializer(0.0, period.initial_value))
        ratio_on = vs.get_variable("ratio_on", [self._num_units],
                                   initializer=init_ops.constant_initializer(self._ratio_on),
                                   trainable=self._trainable_ratio_on)
        cycle_ratio = self._get_cycle_ratio(time, phase, period)
        k_up = 2 * cycle_ratio / ratio_on
        k_down = 2 - k_up
        k_closed = self._leak * cycle_ratio
        k = array_ops.where(cycle_ratio < ratio_on, k_down, k_closed)
        k = array_ops.where(cycle_ratio < 0.5 * ratio_on, k_up, k)
        new_c = k * new_c + (1 - k) * c_prev
        new_h = k * new_h + (1 - k) * h_prev
        return new_h, LSTMStateTuple(new_c, new_h)


# ----------------------------------------------------------------------------------------------------------
# 3-D convolutional LSTM
# ----------------------------------------------------------------------------------------------------------
def _conv_lstm_arguments(input_shape, output_channels: int, kernel_shape, use_bias: bool = True,
                         skip_connection: bool = False, forget_bias: float = 1.0, initializers=None) -> tuple:
    """ConvLSTMCell's keyword arguments after `conv_ndims` (`initializers` is unused, as in TF)."""
    del initializers
    return list(input_shape), output_channels, list(kernel_shape), use_bias, skip_connection, forget_bias


@tf_export("contrib.rnn.Conv3DLSTMCell")
class Conv3DLSTMCell(ConvLSTMCell):
    """ConvLSTMCell over [batch, depth, height, width, channels] inputs ('SAME' 3-D convolutions with `kernel`
    [*kernel_shape, in + out channels, 4 * out channels] and `biases`), in scope `conv_3d_lstm_cell`. Arguments
    (keywords, as TF's): input_shape, output_channels, kernel_shape, use_bias=True, skip_connection=False,
    forget_bias=1.0, initializers=None (unused, as in TF)."""

    def __init__(self, name="conv_3d_lstm_cell", **kwargs) -> None:
        if "conv_ndims" in kwargs:
            raise TypeError("__init__() got multiple values for keyword argument 'conv_ndims'")
        input_shape, output_channels, kernel_shape, use_bias, skip_connection, forget_bias = \
            _conv_lstm_arguments(**kwargs)
        # ConvLSTMCell's constructor accepts only 1-D and 2-D convolutions, so this one sets its fields itself.
        RNNCell.__init__(self, name=name)
        if len(input_shape) != 4:
            raise ValueError(f"Invalid input_shape {input_shape} for conv_ndims=3.")
        self._conv_ndims = 3
        self._input_shape = input_shape
        self._output_channels = output_channels
        self._kernel_shape = kernel_shape
        self._use_bias = use_bias
        self._forget_bias = forget_bias
        self._skip_connection = skip_connection
        total = output_channels + (input_shape[-1] if skip_connection else 0)
        state = _shape.TensorShape(input_shape[:-1] + [output_channels])
        self._state_size = LSTMStateTuple(state, state)
        self._output_size = _shape.TensorShape(input_shape[:-1] + [total])

    def _conv(self, args: list, num_features: int):
        depth = sum(a.shape.as_list()[-1] for a in args)
        dtype = args[0].dtype.base_dtype
        x = array_ops.concat(args, 4)
        kernel = vs.get_variable(_WEIGHTS_VARIABLE_NAME, self._kernel_shape + [depth, num_features], dtype=dtype)
        out = conv3d_ops.conv3d(x, kernel, [1, 1, 1, 1, 1], padding="SAME")
        if not self._use_bias:
            return out
        return out + vs.get_variable("biases", [num_features], dtype=dtype,
                                     initializer=init_ops.constant_initializer(0.0, dtype=dtype))


# ----------------------------------------------------------------------------------------------------------
# Group LSTM (Kuchaiev & Ginsburg 2017)
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.GLSTMCell")
class GLSTMCell(_SizesFromFields, RNNCell):
    """The group LSTM: `number_of_groups` LSTM sub-cells, each reading its slice of the inputs and of the previous
    output with its own bias-free kernel (`group<g>/kernel`), the gates biased by `bias_i`, `bias_j`, `bias_f`,
    `bias_o` over all units; optional projection `projection/kernel`. State (c, m)."""

    def __init__(self, num_units: int, initializer=None, num_proj=None, number_of_groups: int = 1,
                 forget_bias: float = 1.0, activation=math_ops.tanh, reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._initializer = initializer
        self._num_proj = num_proj
        self._forget_bias = forget_bias
        self._activation = activation
        self._number_of_groups = number_of_groups
        if num_units % number_of_groups != 0:
            raise ValueError("num_units must be divisible by number_of_groups")
        if num_proj:
            if num_proj % number_of_groups != 0:
                raise ValueError("num_proj must be divisible by number_of_groups")
            self._group_shape = [num_proj // number_of_groups, num_units // number_of_groups]
        else:
            self._group_shape = [num_units // number_of_groups, num_units // number_of_groups]
        self._state_size, self._output_size = _projected_lstm_sizes(num_units, num_proj)
        self._linear1 = [None] * number_of_groups
        self._linear2 = None

    def _get_input_for_group(self, inputs, group_id: int, group_size: int):
        """Columns [group_id * group_size, (group_id + 1) * group_size) of `inputs`."""
        return array_ops.slice(inputs, [0, group_id * group_size], [-1, group_size],
                               name=f"GLSTM_group{group_id}_input_generation")

    def call(self, inputs, state):
        c_prev, m_prev = state
        input_size = _shape.dimension_value(inputs.shape[1])
        if input_size is None:
            raise ValueError("input size must be statically known")
        if input_size % self._number_of_groups != 0:
            raise ValueError(f"input size ({input_size}) must be divisible by number_of_groups "
                             f"({self._number_of_groups})")
        input_group_size = input_size // self._number_of_groups
        dtype = inputs.dtype.base_dtype
        parts = {"i": [], "j": [], "f": [], "o": []}
        with vs.variable_scope(vs.get_variable_scope(), initializer=self._initializer):
            for group_id in range(self._number_of_groups):
                with vs.variable_scope(f"group{group_id}"):
                    x_g = array_ops.concat([self._get_input_for_group(inputs, group_id, input_group_size),
                                            self._get_input_for_group(m_prev, group_id, self._group_shape[0])],
                                           axis=1)
                    if self._linear1[group_id] is None:
                        self._linear1[group_id] = _Linear(x_g, 4 * self._group_shape[1], False)
                    for key, part in zip("ijfo", array_ops.split(self._linear1[group_id](x_g), 4, 1)):
                        parts[key].append(part)
            gates = {}
            for key in "ijfo":
                bias = vs.get_variable(f"bias_{key}", shape=[self._num_units], dtype=dtype,
                                       initializer=init_ops.constant_initializer(0.0, dtype=dtype))
                gates[key] = nn_ops.bias_add(array_ops.concat(parts[key], axis=1), bias)
        c = _lstm_new_cell(gates["i"], gates["j"], gates["f"], c_prev, self._forget_bias, math_ops.tanh)
        m = _lstm_output(gates["o"], c, self._activation)
        if self._num_proj is not None:
            with vs.variable_scope("projection"):
                if self._linear2 is None:
                    self._linear2 = _Linear(m, self._num_proj, False)
                m = self._linear2(m)
        return m, LSTMStateTuple(c, m)


# ----------------------------------------------------------------------------------------------------------
# Independently recurrent cells (Li et al. 2018): the recurrent matrices are diagonal (one vector per gate)
# ----------------------------------------------------------------------------------------------------------
def _input_and_recurrent_kernels(cell: LayerRNNCell, input_name: str, recurrent_name: str, depth: int,
                                 width: int, initializer=None) -> tuple:
    """The input kernel [depth, width] (from `initializer`) and the diagonal recurrent weights [1, width]
    (from U(-1, 1)) of an independently recurrent cell."""
    kernel = cell.add_variable(input_name, shape=[depth, width], initializer=initializer)
    recurrent = cell.add_variable(recurrent_name, shape=[1, width],
                                  initializer=init_ops.random_uniform_initializer(minval=-1, maxval=1,
                                                                                  dtype=cell.dtype))
    return kernel, recurrent


@tf_export("contrib.rnn.IndRNNCell")
class IndRNNCell(LayerRNNCell):
    """The IndRNN: output = new_state = activation(inputs @ kernel_w + state * kernel_u + bias), with `kernel_w`
    [input, units], `kernel_u` [1, units] drawn from U(-1, 1) and `bias` zeros."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, name=None, dtype=None) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._activation = _activation(activation)

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        n = self._num_units
        self._kernel_w, self._kernel_u = _input_and_recurrent_kernels(
            self, f"{_WEIGHTS_VARIABLE_NAME}_w", f"{_WEIGHTS_VARIABLE_NAME}_u", depth, n)
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[n],
                                       initializer=init_ops.zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs, state):
        gate_inputs = math_ops.matmul(inputs, self._kernel_w) + state * self._kernel_u
        output = self._activation(nn_ops.bias_add(gate_inputs, self._bias))
        return output, output


@tf_export("contrib.rnn.IndyGRUCell")
class IndyGRUCell(LayerRNNCell):
    """The GRU with diagonal recurrent weights: gates r, u = sigmoid(inputs @ gates/kernel_w + [state, state] *
    gates/kernel_u + gates/bias), candidate = activation(inputs @ candidate/kernel + r * state * candidate/kernel_u
    + candidate/bias), new = u * state + (1 - u) * candidate. The gate bias starts at 1, the recurrent vectors
    from U(-1, 1)."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        n = self._num_units
        self._gate_kernel_w, self._gate_kernel_u = _input_and_recurrent_kernels(
            self, f"gates/{_WEIGHTS_VARIABLE_NAME}_w", f"gates/{_WEIGHTS_VARIABLE_NAME}_u", depth, 2 * n,
            self._kernel_initializer)
        self._gate_bias = self.add_variable(
            f"gates/{_BIAS_VARIABLE_NAME}", shape=[2 * n],
            initializer=self._bias_initializer or init_ops.constant_initializer(1.0, dtype=self.dtype))
        self._candidate_kernel_w, self._candidate_kernel_u = _input_and_recurrent_kernels(
            self, f"candidate/{_WEIGHTS_VARIABLE_NAME}", f"candidate/{_WEIGHTS_VARIABLE_NAME}_u", depth, n,
            self._kernel_initializer)
        self._candidate_bias = self.add_variable(
            f"candidate/{_BIAS_VARIABLE_NAME}", shape=[n],
            initializer=self._bias_initializer or init_ops.zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs, state):
        gate_inputs = math_ops.matmul(inputs, self._gate_kernel_w) + array_ops.tile(state, [1, 2]) * \
            self._gate_kernel_u
        r, u = array_ops.split(math_ops.sigmoid(nn_ops.bias_add(gate_inputs, self._gate_bias)),
                               num_or_size_splits=2, axis=1)
        candidate = math_ops.matmul(inputs, self._candidate_kernel_w) + r * state * self._candidate_kernel_u
        c = self._activation(nn_ops.bias_add(candidate, self._candidate_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h


@tf_export("contrib.rnn.IndyLSTMCell")
class IndyLSTMCell(LayerRNNCell):
    """BasicLSTMCell with diagonal recurrent weights: gates i, j, f, o = inputs @ kernel_w + [h, h, h, h] *
    kernel_u + bias; new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * activation(j), new_h = activation(new_c)
    * sigmoid(o). `kernel_u` [1, 4 * units] starts from U(-1, 1), `bias` from zeros."""

    _input_ndim = 2

    def __init__(self, num_units: int, forget_bias: float = 1.0, activation=None, reuse=None,
                 kernel_initializer=None, bias_initializer=None, name=None, dtype=None) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        n = self._num_units
        self._kernel_w, self._kernel_u = _input_and_recurrent_kernels(
            self, f"{_WEIGHTS_VARIABLE_NAME}_w", f"{_WEIGHTS_VARIABLE_NAME}_u", depth, 4 * n,
            self._kernel_initializer)
        self._bias = self.add_variable(
            _BIAS_VARIABLE_NAME, shape=[4 * n],
            initializer=self._bias_initializer or init_ops.zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs, state):
        c, h = state
        gate_inputs = math_ops.matmul(inputs, self._kernel_w) + array_ops.tile(h, [1, 4]) * self._kernel_u
        i, j, f, o = array_ops.split(nn_ops.bias_add(gate_inputs, self._bias), num_or_size_splits=4, axis=1)
        forget_bias = _ops.convert_to_tensor(self._forget_bias, dtype=f.dtype)
        new_c = _lstm_new_cell(i, j, f, c, forget_bias, self._activation)
        new_h = _lstm_output(o, new_c, self._activation)
        return new_h, LSTMStateTuple(new_c, new_h)


# ----------------------------------------------------------------------------------------------------------
# Weight-normalized LSTM (Salimans & Kingma 2016)
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.WeightNormLSTMCell")
class WeightNormLSTMCell(_SizesFromFields, RNNCell):
    """LSTMCell's LSTM (peepholes `w_f_diag`, `w_i_diag`, `w_o_diag`, cell clipping, projection
    `projection/kernel`, projection clipping) whose kernels are weight-normalized when `norm`: the rows of `kernel`
    that multiply each argument (inputs, then the previous output) are l2-normalized per column and scaled by a
    gain vector `norm_0`, `norm_1` (`projection/norm_0` for the projection). As TF 1.15 names the cell's scope
    `wn_lstm_cell` and opens it again inside, the variables live under `.../wn_lstm_cell/wn_lstm_cell/`."""

    _SCOPE_NAME = "wn_lstm_cell"

    def __init__(self, num_units: int, norm: bool = True, use_peepholes: bool = False, cell_clip=None,
                 initializer=None, num_proj=None, proj_clip=None, forget_bias=1, activation=None,
                 reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._norm = norm
        self._initializer = initializer
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._activation = activation or math_ops.tanh
        self._forget_bias = forget_bias
        self._state_size, self._output_size = _projected_lstm_sizes(num_units, num_proj)

    def _capture_scope(self, scope) -> None:
        # The layer scope is the fixed name `wn_lstm_cell` in the current scope (not made unique), as in TF 1.15.
        with vs.variable_scope(self._SCOPE_NAME) as captured:
            self._scope = captured
        if self._given_name is None:
            self._name = self._SCOPE_NAME

    @staticmethod
    def _normalize(weight, name: str):
        """`weight` [rows, cols] with each column scaled to unit l2 norm, times a gain variable `name` [cols]."""
        g = vs.get_variable(name, [weight.shape.as_list()[1]], dtype=weight.dtype.base_dtype)
        return nn_impl.l2_normalize(weight, axis=0) * g

    def _linear(self, args: list, output_size: int, norm: bool, bias: bool):
        sizes = _linear_arg_sizes(args)
        dtype = args[0].dtype.base_dtype
        weights = vs.get_variable(_WEIGHTS_VARIABLE_NAME, [sum(sizes), output_size], dtype=dtype)
        if norm:
            with _ops.control_dependencies(None):
                pieces, start = [], 0
                for i, size in enumerate(sizes):
                    pieces.append(self._normalize(array_ops.slice(weights, [start, 0], [size, -1]), f"norm_{i}"))
                    start += size
                weights = array_ops.concat(pieces, axis=0)
        x = args[0] if len(args) == 1 else array_ops.concat(args, 1)
        res = math_ops.matmul(x, weights)
        if not bias:
            return res
        biases = vs.get_variable(_BIAS_VARIABLE_NAME, [output_size], dtype=dtype,
                                 initializer=init_ops.constant_initializer(0.0, dtype=dtype))
        return nn_ops.bias_add(res, biases)

    def call(self, inputs, state):
        n = self._num_units
        dtype = inputs.dtype.base_dtype
        c, h = state
        _input_size(inputs)
        with vs.variable_scope(self._SCOPE_NAME, initializer=self._initializer):
            i, j, f, o = array_ops.split(self._linear([inputs, h], 4 * n, norm=self._norm, bias=True),
                                         num_or_size_splits=4, axis=1)
            peepholes = (_peephole_variables(["w_f_diag", "w_i_diag", "w_o_diag"], n, dtype)
                         if self._use_peepholes else [None] * 3)
            new_c = _clip(_lstm_new_cell(i, j, f, c, self._forget_bias, self._activation, *peepholes[:2]),
                          self._cell_clip)
            new_h = _lstm_output(o, new_c, self._activation, peepholes[2])
            if self._num_proj is not None:
                with vs.variable_scope("projection"):
                    new_h = self._linear([new_h], self._num_proj, norm=self._norm, bias=False)
                new_h = _clip(new_h, self._proj_clip)
            return new_h, LSTMStateTuple(new_c, new_h)


# ----------------------------------------------------------------------------------------------------------
# LSTMBlockWrapper and CompiledWrapper
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.LSTMBlockWrapper")
class LSTMBlockWrapper(LayerRNNCell, metaclass=abc.ABCMeta):
    """The housekeeping of fused LSTM cells: a subclass gives `num_units` and `_call_cell(inputs,
    initial_cell_state, initial_output, dtype, sequence_length)`, which returns the cell states and outputs of a
    whole time-major sequence ([time, batch, num_units] each); calling the wrapper as `cell(inputs,
    initial_state=None, dtype=None, sequence_length=None, scope=None)` makes the zero state if none is given,
    zeroes the outputs past each sequence's length and returns (outputs, LSTMStateTuple(c, h) at each sequence's
    end). `inputs` is a [time, batch, depth] tensor or a list of [batch, depth] tensors (the outputs are then a
    list too)."""

    @property
    @abc.abstractmethod
    def num_units(self) -> int:
        """The number of units in this cell (its output depth)."""

    @abc.abstractmethod
    def _call_cell(self, inputs, initial_cell_state, initial_output, dtype, sequence_length):
        """Runs the LSTM over [time, batch, depth] `inputs`; returns (cell states, outputs), each
        [time, batch, num_units]."""

    def __call__(self, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
        is_list = isinstance(inputs, list)
        if is_list:
            inputs = array_ops.stack(inputs)
        outputs, final_state = self._call_in_scope(inputs, initial_state, scope, dtype=dtype,
                                                   sequence_length=sequence_length)
        return (array_ops.unstack(outputs) if is_list else outputs), final_state

    def call(self, inputs, initial_state=None, dtype=None, sequence_length=None):
        inputs_shape = inputs.shape.with_rank(3)
        if not _shape.dimension_value(inputs_shape[2]):
            raise ValueError(f"Expecting inputs_shape[2] to be set: {inputs_shape}")
        batch_size = _shape.dimension_value(inputs_shape[1])
        if batch_size is None:
            batch_size = array_ops.shape(inputs)[1]
        time_len = _shape.dimension_value(inputs_shape[0])
        if time_len is None:
            time_len = array_ops.shape(inputs)[0]
        if initial_state is None:
            if dtype is None:
                raise ValueError("Either initial_state or dtype needs to be specified")
            z = array_ops.zeros(array_ops.stack([batch_size, self.num_units]), dtype=dtype)
            initial_state = z, z
        else:
            if len(initial_state) != 2:
                raise ValueError("Expecting initial_state to be a tuple with length 2 or None")
            if dtype is None:
                dtype = initial_state[0].dtype
        if sequence_length is not None:
            sequence_length = _ops.convert_to_tensor(sequence_length)
        initial_cell_state, initial_output = initial_state
        cell_states, outputs = self._call_cell(inputs, initial_cell_state, initial_output, dtype, sequence_length)
        if sequence_length is None:
            return outputs, LSTMStateTuple(cell_states[-1], outputs[-1])
        mask = array_ops.transpose(array_ops.sequence_mask(sequence_length, time_len, dtype=dtype), [1, 0])
        outputs = outputs * array_ops.tile(array_ops.expand_dims(mask, -1), [1, 1, self.num_units])
        # With the initial state prepended, index t holds the state after t steps, so the state at each
        # sequence's end is at its length (0: the initial state).
        all_states = array_ops.concat([array_ops.expand_dims(initial_cell_state, 0), cell_states], 0)
        all_outputs = array_ops.concat([array_ops.expand_dims(initial_output, 0), outputs], 0)
        return outputs, LSTMStateTuple(self._gather_states(all_states, sequence_length, batch_size),
                                       self._gather_states(all_outputs, sequence_length, batch_size))

    @staticmethod
    def _gather_states(data, indices, batch_size):
        """out[i] = data[indices[i], i]."""
        rows = array_ops.range(batch_size, dtype=indices.dtype.base_dtype)
        return array_ops.gather_nd(data, array_ops.stack([indices, rows], axis=1))


@tf_export("contrib.rnn.CompiledWrapper")
class CompiledWrapper(CallerScopeWrapper):
    """A cell wrapper that TF 1.15 runs under an XLA JIT scope. tfmini has no XLA compiler, so the wrapped cell
    runs unchanged (same variables in the caller's scope, same graph, same numbers); `compile_stateful` is kept
    for compatibility and has no effect."""

    def __init__(self, cell, compile_stateful: bool = False) -> None:
        super().__init__(cell)
        self._compile_stateful = compile_stateful

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        return cell_call_fn(inputs, state, **kwargs)
