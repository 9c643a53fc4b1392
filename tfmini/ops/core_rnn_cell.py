"""The cells only tf.contrib.rnn had: the wrappers that make variables of their own (TF's core_rnn_cell:
OutputProjectionWrapper, InputProjectionWrapper and EmbeddingWrapper, plain RNNCells whose scope holds their
kernel, bias or embedding and the wrapped cell's variables), AttentionCellWrapper and HighwayWrapper, the block
and layer-normalized cells (LSTMBlockCell, GRUBlockCell, GRUBlockCellV2, LayerNormBasicLSTMCell,
LayerNormLSTMCell), the convolutional LSTMs (ConvLSTMCell, Conv1DLSTMCell, Conv2DLSTMCell), and research cells
(UGRNNCell, IntersectionRNNCell, NASCell, SRUCell, CoupledInputForgetGateLSTMCell)."""

from __future__ import annotations

import math

from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, init_ops, math_ops, nn_impl, nn_ops
from tfmini.ops import variable_scope as vs
from tfmini.ops.functional_ops import assert_same_structure, flatten, is_sequence, pack_sequence_as
from tfmini.ops.rnn_cell_impl import (
    CallerScopeWrapper,
    LayerRNNCell,
    LSTMCell,
    LSTMStateTuple,
    RNNCell,
    WrapperBase,
    _clip,
    _lstm_new_cell,
    _lstm_output,
    _projected_lstm_sizes,
    _SizesFromFields,
    assert_like_rnncell,
)

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"


def _linear_arg_sizes(args: list) -> list[int]:
    """The column counts of the 2-D `args` of a linear map (each must be statically known)."""
    shapes = [a.shape for a in args]
    sizes = []
    for s in shapes:
        if s.ndims != 2:
            raise ValueError(f"linear is expecting 2D arguments: {shapes}")
        if s[1].value is None:
            raise ValueError(f"linear expects shape[1] to be provided for shape {s}, but saw {s[1]}")
        sizes.append(s[1].value)
    return sizes


def _peephole_variables(names, size: int, dtype) -> list:
    """The peephole diagonals `names`, [size] each, of the current variable scope."""
    return [vs.get_variable(name, shape=[size], dtype=dtype) for name in names]


class _Linear:
    """args @ kernel (+ bias) with `kernel` and `bias` made in the current variable scope."""

    def __init__(self, args, output_size: int, build_bias: bool, bias_initializer=None,
                 kernel_initializer=None) -> None:
        if args is None or (is_sequence(args) and not args):
            raise ValueError("`args` must be specified")
        self._is_sequence = is_sequence(args)
        args = list(args) if self._is_sequence else [args]
        total = sum(_linear_arg_sizes(args))
        dtype = args[0].dtype.base_dtype
        self._build_bias = build_bias
        with vs.variable_scope(vs.get_variable_scope()) as outer:
            self._weights = vs.get_variable(_WEIGHTS_VARIABLE_NAME, [total, output_size], dtype=dtype,
                                            initializer=kernel_initializer)
            if build_bias:
                with vs.variable_scope(outer) as inner:
                    inner.set_partitioner(None)
                    self._biases = vs.get_variable(
                        _BIAS_VARIABLE_NAME, [output_size], dtype=dtype,
                        initializer=bias_initializer or init_ops.constant_initializer(0.0, dtype=dtype))

    def __call__(self, args):
        args = list(args) if self._is_sequence else [args]
        x = args[0] if len(args) == 1 else array_ops.concat(args, 1)
        res = math_ops.matmul(x, self._weights)
        return nn_ops.bias_add(res, self._biases) if self._build_bias else res


class _ScopedWrapper(WrapperBase):
    """A wrapper whose wrapped cell runs inside the wrapper's own scope (RNNCell's call)."""

    def __init__(self, cell, reuse) -> None:
        super().__init__(cell, _reuse=reuse)


@tf_export("contrib.rnn.OutputProjectionWrapper")
class OutputProjectionWrapper(_ScopedWrapper):
    """The cell's output projected to `output_size` by a kernel and bias of the wrapper's scope, then
    `activation` (if given)."""

    def __init__(self, cell, output_size: int, activation=None, reuse=None) -> None:
        super().__init__(cell, reuse)
        if output_size < 1:
            raise ValueError(f"Parameter output_size must be > 0: {output_size}.")
        self._output_size = output_size
        self._activation = activation
        self._linear = None

    @property
    def output_size(self) -> int:
        return self._output_size

    def call(self, inputs, state):
        output, new_state = self.cell(inputs, state)
        if self._linear is None:
            self._linear = _Linear(output, self._output_size, True)
        projected = self._linear(output)
        if self._activation:
            projected = self._activation(projected)
        return projected, new_state


@tf_export("contrib.rnn.InputProjectionWrapper")
class InputProjectionWrapper(_ScopedWrapper):
    """The inputs projected to `num_proj` by a kernel and bias of the wrapper's scope (then `activation`)
    before the cell sees them."""

    def __init__(self, cell, num_proj: int, activation=None, input_size=None, reuse=None) -> None:
        del input_size  # deprecated in TF 1.x: the input size comes from the inputs
        super().__init__(cell, reuse)
        self._num_proj = num_proj
        self._activation = activation
        self._linear = None

    def call(self, inputs, state):
        if self._linear is None:
            self._linear = _Linear(inputs, self._num_proj, True)
        projected = self._linear(inputs)
        if self._activation:
            projected = self._activation(projected)
        return self.cell(projected, state)


@tf_export("contrib.rnn.EmbeddingWrapper")
class EmbeddingWrapper(_ScopedWrapper):
    """Integer inputs (one id per batch entry) looked up in an `embedding` variable of shape
    [embedding_classes, embedding_size] before the cell sees them."""

    def __init__(self, cell, embedding_classes: int, embedding_size: int, initializer=None, reuse=None) -> None:
        super().__init__(cell, reuse)
        if embedding_classes <= 0 or embedding_size <= 0:
            raise ValueError("Both embedding_classes and embedding_size must be greater than 0: "
                             f"{embedding_classes}, {embedding_size}.")
        self._embedding_classes = embedding_classes
        self._embedding_size = embedding_size
        self._initializer = initializer

    def call(self, inputs, state):
        initializer = self._initializer or vs.get_variable_scope().initializer
        if initializer is None:
            # U(-sqrt(3), sqrt(3)) has unit variance.
            initializer = init_ops.random_uniform_initializer(-math.sqrt(3), math.sqrt(3))
        dtype = (flatten(state)[0]).dtype.base_dtype
        embedding = vs.get_variable("embedding", [self._embedding_classes, self._embedding_size],
                                    initializer=initializer, dtype=dtype)
        embedded = nn_impl.embedding_lookup(embedding, array_ops.reshape(inputs, [-1]))
        return self.cell(embedded, state)


@tf_export("contrib.rnn.LSTMBlockCell")
class LSTMBlockCell(LSTMCell):
    """tf.contrib.rnn's LSTMBlockCell: the LSTM of LSTMCell (gates i, j, f, o from one kernel, optional
    peepholes `w_i_diag`, `w_f_diag`, `w_o_diag`, optional cell clipping) in scope `lstm_cell`, with a
    tuple state and no projection."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, cell_clip=None, use_peephole: bool = False,
                 dtype=None, reuse=None, name="lstm_cell") -> None:
        # TF's kernel clips only for a positive cell_clip.
        clip = cell_clip if cell_clip is not None and cell_clip > 0 else None
        super().__init__(num_units, use_peepholes=use_peephole, cell_clip=clip, forget_bias=forget_bias,
                         reuse=reuse, name=name, dtype=dtype)

    def build(self, inputs_shape) -> None:
        depth = _shape.as_shape(inputs_shape).with_rank(2)[1].value
        if not depth:
            raise ValueError(f"Expecting inputs_shape[1] to be set: {inputs_shape}")
        n = self._num_units
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, [depth + n, 4 * n])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, [4 * n], initializer=init_ops.constant_initializer(0.0))
        if self._use_peepholes:
            self._w_i_diag = self.add_variable("w_i_diag", [n])
            self._w_f_diag = self.add_variable("w_f_diag", [n])
            self._w_o_diag = self.add_variable("w_o_diag", [n])
        self.built = True

    def call(self, inputs, state):
        if len(state) != 2:
            raise ValueError("Expecting state to be a tuple with length 2.")
        return super().call(inputs, state)


@tf_export("contrib.rnn.GRUBlockCell")
class GRUBlockCell(LayerRNNCell):
    """tf.contrib.rnn's GRUBlockCell: GRUCell's math in scope `gru_cell`. `cell_size` is the old name of
    `num_units`. TF 1.15 names the gates' kernel [input + units, 2 * units] `w_c` and the candidate's kernel
    [input + units, units] `w_ru` (the kernel op's names swapped); the biases are `b_ru` (gates, initialized to 1)
    and `b_c`. Checkpoints of TF 1.15 use these names, so they are kept."""

    _input_ndim = 2
    # Names of the gate kernel, gate bias, candidate kernel and candidate bias, in creation order.
    _variable_names = ("w_c", "b_ru", "w_ru", "b_c")

    def __init__(self, num_units=None, cell_size=None, reuse=None, name="gru_cell") -> None:
        super().__init__(_reuse=reuse, name=name)
        if (num_units is None) == (cell_size is None):
            raise ValueError("Exactly one of num_units or cell_size must be provided.")
        self._cell_size = num_units if num_units is not None else cell_size

    @property
    def state_size(self) -> int:
        return self._cell_size

    @property
    def output_size(self) -> int:
        return self._cell_size

    def build(self, inputs_shape) -> None:
        depth = _shape.as_shape(inputs_shape).with_rank(2)[1].value
        if depth is None:
            raise ValueError("Expecting input_size to be set.")
        n = self._cell_size
        gate_k, gate_b, cand_k, cand_b = self._variable_names
        self._gate_kernel = self.add_variable(gate_k, [depth + n, 2 * n])
        self._gate_bias = self.add_variable(gate_b, [2 * n], initializer=init_ops.constant_initializer(1.0))
        self._candidate_kernel = self.add_variable(cand_k, [depth + n, n])
        self._candidate_bias = self.add_variable(cand_b, [n], initializer=init_ops.constant_initializer(0.0))
        self.built = True

    def call(self, inputs, state):
        state_size = state.shape.with_rank(2)[1].value
        if state_size != self._cell_size:
            raise ValueError(f"Shape of h_prev[1] incorrect: cell_size {self._cell_size} vs {state_size}")
        gates = math_ops.sigmoid(nn_ops.bias_add(
            math_ops.matmul(array_ops.concat([inputs, state], 1), self._gate_kernel), self._gate_bias))
        r, u = array_ops.split(gates, num_or_size_splits=2, axis=1)
        candidate = math_ops.tanh(nn_ops.bias_add(
            math_ops.matmul(array_ops.concat([inputs, r * state], 1), self._candidate_kernel), self._candidate_bias))
        new_h = (1 - u) * candidate + u * state
        return new_h, new_h


@tf_export("contrib.rnn.GRUBlockCellV2")
class GRUBlockCellV2(GRUBlockCell):
    """GRUBlockCell with GRUCell's variable names (`gates/kernel`, `gates/bias`, `candidate/kernel`,
    `candidate/bias`), so checkpoints of the two are interchangeable."""

    _variable_names = ("gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias")


def _layer_norm(x, scope: str, gain: float, shift: float):
    """contrib.layers.layer_norm over the last axis of a [batch, n] tensor, with `gamma` and `beta` of
    sub-scope `scope` (epsilon 1e-12, TF's)."""
    dtype = x.dtype.base_dtype
    size = x.shape[-1:]
    with vs.variable_scope(scope):
        gamma = vs.get_variable("gamma", shape=size, initializer=init_ops.constant_initializer(gain), dtype=dtype)
        beta = vs.get_variable("beta", shape=size, initializer=init_ops.constant_initializer(shift), dtype=dtype)
        mean, variance = nn_impl.moments(x, [1], keep_dims=True)
        return nn_impl.batch_normalization(x, mean, variance, offset=beta, scale=gamma, variance_epsilon=1e-12)


@tf_export("contrib.rnn.LayerNormBasicLSTMCell")
class LayerNormBasicLSTMCell(RNNCell):
    """tf.contrib.rnn's LSTM with layer normalization (Ba et al. 2016) of each gate's pre-activation and of
    the new cell state, and optional recurrent dropout of the candidate (Semeniuta et al. 2016). Variables:
    `kernel` (no bias when normalizing, as TF), and `gamma`/`beta` in `input`, `transform`, `forget`, `output`
    and `state`."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, input_size=None, activation=math_ops.tanh,
                 layer_norm: bool = True, norm_gain: float = 1.0, norm_shift: float = 0.0,
                 dropout_keep_prob=1.0, dropout_prob_seed=None, reuse=None) -> None:
        del input_size  # deprecated in TF 1.x: the input size comes from the inputs
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._activation = activation
        self._forget_bias = forget_bias
        self._keep_prob = dropout_keep_prob
        self._seed = dropout_prob_seed
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self) -> int:
        return self._num_units

    def _norm(self, x, scope: str):
        return _layer_norm(x, scope, self._norm_gain, self._norm_shift) if self._layer_norm else x

    def call(self, inputs, state):
        c, h = state
        args = array_ops.concat([inputs, h], 1)
        kernel = vs.get_variable(_WEIGHTS_VARIABLE_NAME, [args.shape[-1].value, 4 * self._num_units],
                                 dtype=args.dtype.base_dtype)
        gates = math_ops.matmul(args, kernel)
        if not self._layer_norm:
            bias = vs.get_variable(_BIAS_VARIABLE_NAME, [4 * self._num_units], dtype=args.dtype.base_dtype)
            gates = nn_ops.bias_add(gates, bias)
        i, j, f, o = array_ops.split(gates, num_or_size_splits=4, axis=1)
        i, j, f, o = (self._norm(i, "input"), self._norm(j, "transform"), self._norm(f, "forget"),
                      self._norm(o, "output"))
        g = self._activation(j)
        if not isinstance(self._keep_prob, float) or self._keep_prob < 1:
            g = nn_impl.dropout(g, keep_prob=self._keep_prob, seed=self._seed)
        new_c = self._norm(c * math_ops.sigmoid(f + self._forget_bias) + math_ops.sigmoid(i) * g, "state")
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


@tf_export("contrib.rnn.AttentionCellWrapper")
class AttentionCellWrapper(RNNCell):
    """Attention over the cell's last `attn_length` outputs (Bahdanau-style, as in TF's contrib): the inputs are
    mixed with the previous attention read-out (`kernel`/`bias` of the wrapper's scope), the cell runs, its new
    state queries the window (`attention/attn_w`, `attn_v`, `kernel`, `bias`), and the output is projected
    from the cell output and the read-out (`attn_output_projection/kernel`, `bias`). The state is
    (cell state, attention read-out, window of past outputs flattened)."""

    def __init__(self, cell, attn_length: int, attn_size=None, attn_vec_size=None, input_size=None,
                 state_is_tuple: bool = True, reuse=None) -> None:
        super().__init__(_reuse=reuse)
        assert_like_rnncell("cell", cell)
        if is_sequence(cell.state_size) and not state_is_tuple:
            raise ValueError("Cell returns tuple of states, but the flag state_is_tuple is not set. State size "
                             f"is: {cell.state_size}")
        if attn_length <= 0:
            raise ValueError(f"attn_length should be greater than zero, got {attn_length}")
        self._cell = cell
        self._attn_size = cell.output_size if attn_size is None else attn_size
        self._attn_vec_size = self._attn_size if attn_vec_size is None else attn_vec_size
        self._attn_length = attn_length
        self._input_size = input_size
        self._state_is_tuple = state_is_tuple
        self._linear_in = self._linear_query = self._linear_out = None

    def _sub_cells(self) -> list:
        return [self._cell]

    @property
    def state_size(self):
        sizes = (self._cell.state_size, self._attn_size, self._attn_size * self._attn_length)
        return sizes if self._state_is_tuple else sum(sizes)

    @property
    def output_size(self) -> int:
        return self._attn_size

    def _attention(self, query, window):
        """The read-out of `window` [batch, attn_length, attn_size] weighted by softmax scores of `query`, and
        the window without its oldest entry."""
        with vs.variable_scope("attention"):
            k = vs.get_variable("attn_w", [1, 1, self._attn_size, self._attn_vec_size])
            v = vs.get_variable("attn_v", [self._attn_vec_size])
            hidden = array_ops.reshape(window, [-1, self._attn_length, 1, self._attn_size])
            features = nn_ops.conv2d(hidden, k, [1, 1, 1, 1], "SAME")
            if self._linear_query is None:
                self._linear_query = _Linear(query, self._attn_vec_size, True)
            y = array_ops.reshape(self._linear_query(query), [-1, 1, 1, self._attn_vec_size])
            scores = nn_ops.softmax(math_ops.reduce_sum(v * math_ops.tanh(features + y), [2, 3]))
            read = math_ops.reduce_sum(array_ops.reshape(scores, [-1, self._attn_length, 1, 1]) * hidden, [1, 2])
            return array_ops.reshape(read, [-1, self._attn_size]), array_ops.slice(window, [0, 1, 0], [-1, -1, -1])

    def call(self, inputs, state):
        if self._state_is_tuple:
            state, attns, window = state
        else:
            n = self._cell.state_size
            packed = state
            state = array_ops.slice(packed, [0, 0], [-1, n])
            attns = array_ops.slice(packed, [0, n], [-1, self._attn_size])
            window = array_ops.slice(packed, [0, n + self._attn_size], [-1, self._attn_size * self._attn_length])
        window = array_ops.reshape(window, [-1, self._attn_length, self._attn_size])
        input_size = self._input_size if self._input_size is not None else inputs.shape.as_list()[1]
        if self._linear_in is None:
            self._linear_in = _Linear([inputs, attns], input_size, True)
        cell_output, new_state = self._cell(self._linear_in([inputs, attns]), state)
        query = array_ops.concat(flatten(new_state), 1) if self._state_is_tuple else new_state
        new_attns, window = self._attention(query, window)
        with vs.variable_scope("attn_output_projection"):
            if self._linear_out is None:
                self._linear_out = _Linear([cell_output, new_attns], self._attn_size, True)
            output = self._linear_out([cell_output, new_attns])
        window = array_ops.concat([window, array_ops.expand_dims(output, 1)], 1)
        window = array_ops.reshape(window, [-1, self._attn_length * self._attn_size])
        new = (new_state, new_attns, window)
        return output, (new if self._state_is_tuple else array_ops.concat(list(new), 1))


@tf_export("contrib.rnn.HighwayWrapper")
class HighwayWrapper(CallerScopeWrapper):
    """Highway connections around a cell (Srivastava et al. 2015): output = inputs * carry + cell output *
    transform, with carry = sigmoid(inputs @ carry_w + carry_b) and transform = 1 - carry (or its own
    `transform_w`, `transform_b` if not `couple_carry_transform_gates`), made in the caller's scope."""

    def __init__(self, cell, couple_carry_transform_gates: bool = True, carry_bias_init: float = 1.0) -> None:
        super().__init__(cell)
        self._couple_carry_transform_gates = couple_carry_transform_gates
        self._carry_bias_init = carry_bias_init

    def _gate(self, x, name: str, bias: float):
        size = x.shape.with_rank(2)[1].value
        w = vs.get_variable(f"{name}_w", [size, size])
        b = vs.get_variable(f"{name}_b", [size], initializer=init_ops.constant_initializer(bias))
        return math_ops.sigmoid(nn_ops.bias_add(math_ops.matmul(x, w), b))

    def _highway(self, x, y):
        carry = self._gate(x, "carry", self._carry_bias_init)
        if self._couple_carry_transform_gates:
            transform = 1 - carry
        else:
            transform = self._gate(x, "transform", -self._carry_bias_init)
        return x * carry + y * transform

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)
        assert_same_structure(inputs, outputs)
        flat_in, flat_out = flatten(inputs), flatten(outputs)
        for x, y in zip(flat_in, flat_out):
            x.shape.assert_is_compatible_with(y.shape)
        return pack_sequence_as(outputs, [self._highway(x, y) for x, y in zip(flat_in, flat_out)]), new_state


# ----------------------------------------------------------------------------------------------------------
# Research cells of tf.contrib.rnn: variables made with tf.get_variable in the cell's scope during call()
# ----------------------------------------------------------------------------------------------------------
def _input_size(inputs) -> int:
    size = inputs.shape.with_rank(2)[1].value
    if size is None:
        raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
    return size


@tf_export("contrib.rnn.UGRNNCell")
class UGRNNCell(RNNCell):
    """The update-gate RNN (Collins et al. 2017): one gate g = sigmoid(. + forget_bias) mixes the old state with a
    candidate, new = g * state + (1 - g) * activation(.), from one `kernel`/`bias` over [inputs, state]."""

    def __init__(self, num_units: int, initializer=None, forget_bias: float = 1.0, activation=math_ops.tanh,
                 reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._initializer = initializer
        self._forget_bias = forget_bias
        self._activation = activation
        self._linear = None

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def call(self, inputs, state):
        _input_size(inputs)
        with vs.variable_scope(vs.get_variable_scope(), initializer=self._initializer):
            args = array_ops.concat([inputs, state], 1)
            if self._linear is None:
                self._linear = _Linear(args, 2 * self._num_units, True)
            g_act, c_act = array_ops.split(self._linear(args), num_or_size_splits=2, axis=1)
            g = math_ops.sigmoid(g_act + self._forget_bias)
            new_state = g * state + (1.0 - g) * self._activation(c_act)
        return new_state, new_state


@tf_export("contrib.rnn.IntersectionRNNCell")
class IntersectionRNNCell(RNNCell):
    """The intersection RNN (+RNN, Collins et al. 2017) for deep stacks: gated updates through time (the state)
    and through depth (the output, mixed with the inputs, which must be num_units wide or projected to it by
    `in_projection` when `num_in_proj` is set)."""

    def __init__(self, num_units: int, num_in_proj=None, initializer=None, forget_bias: float = 1.0,
                 y_activation=nn_ops.relu, reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._num_in_proj = num_in_proj
        self._initializer = initializer
        self._forget_bias = forget_bias
        self._y_activation = y_activation
        self._linear_in = self._linear = None

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def call(self, inputs, state):
        size = _input_size(inputs)
        n = self._num_units
        with vs.variable_scope(vs.get_variable_scope(), initializer=self._initializer):
            if size != n:
                if not self._num_in_proj:
                    raise ValueError("Must have input size == output size for Intersection RNN. To fix, num_in_proj "
                                     "should be set to num_units at cell init.")
                with vs.variable_scope("in_projection"):
                    if self._linear_in is None:
                        self._linear_in = _Linear(inputs, n, True)
                    inputs = self._linear_in(inputs)
            args = array_ops.concat([inputs, state], 1)
            if self._linear is None:
                self._linear = _Linear(args, 4 * n, True)
            gh_act, h_act, gy_act, y_act = array_ops.split(self._linear(args), num_or_size_splits=4, axis=1)
            gh = math_ops.sigmoid(gh_act + self._forget_bias)
            gy = math_ops.sigmoid(gy_act + self._forget_bias)
            new_state = gh * state + (1.0 - gh) * math_ops.tanh(h_act)
            new_y = gy * inputs + (1.0 - gy) * self._y_activation(y_act)
        return new_y, new_state


@tf_export("contrib.rnn.NASCell")
class NASCell(_SizesFromFields, RNNCell):
    """The recurrent cell found by neural architecture search (Zoph & Le 2017): eight branches of
    `kernel` (inputs) and `recurrent_kernel` (output state) combined in a fixed tree, an optional `bias` on the
    recurrent part and an optional projection (`projection_weights`). State (c, m)."""

    def __init__(self, num_units: int, num_proj=None, use_biases: bool = False, reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._num_proj = num_proj
        self._use_biases = use_biases
        h = num_units if num_proj is None else num_proj
        self._state_size = LSTMStateTuple(num_units, h)
        self._output_size = h

    def call(self, inputs, state):
        sigmoid, tanh, relu = math_ops.sigmoid, math_ops.tanh, nn_ops.relu
        n = self._num_units
        c_prev, m_prev = state
        dtype = inputs.dtype.base_dtype
        size = _input_size(inputs)
        w_m = vs.get_variable("recurrent_kernel", [self._output_size, 8 * n], dtype)
        w_x = vs.get_variable("kernel", [size, 8 * n], dtype)
        m = math_ops.matmul(m_prev, w_m)
        x = math_ops.matmul(inputs, w_x)
        if self._use_biases:
            m = nn_ops.bias_add(m, vs.get_variable("bias", shape=[8 * n], initializer=init_ops.zeros_initializer(),
                                                   dtype=dtype))
        ms = array_ops.split(m, num_or_size_splits=8, axis=1)
        xs = array_ops.split(x, num_or_size_splits=8, axis=1)
        first = [sigmoid(xs[0] + ms[0]), relu(xs[1] + ms[1]), sigmoid(xs[2] + ms[2]), relu(xs[3] * ms[3]),
                 tanh(xs[4] + ms[4]), sigmoid(xs[5] + ms[5]), tanh(xs[6] + ms[6]), sigmoid(xs[7] + ms[7])]
        second = [tanh(first[0] * first[1]), tanh(first[2] + first[3]), tanh(first[4] * first[5]),
                  sigmoid(first[6] + first[7])]
        new_c = tanh(second[0] + c_prev) * second[1]
        new_m = tanh(new_c * tanh(second[2] + second[3]))
        if self._num_proj is not None:
            new_m = math_ops.matmul(new_m, vs.get_variable("projection_weights", [n, self._num_proj], dtype))
        return new_m, LSTMStateTuple(new_c, new_m)


@tf_export("contrib.rnn.SRUCell")
class SRUCell(LayerRNNCell):
    """The simple recurrent unit (Lei et al. 2017): no matrix product on the state; forget and reset gates from
    one `kernel` over the inputs and a `bias`; the state is c, the output h."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, name=None) -> None:
        super().__init__(_reuse=reuse, name=name)
        self._num_units = num_units
        self._activation = activation or math_ops.tanh

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _shape.as_shape(inputs_shape)[1].value
        if depth is None:
            raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {inputs_shape}")
        n = self._num_units
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth, 4 * n])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[2 * n],
                                       initializer=init_ops.constant_initializer(0.0, dtype=self.dtype))
        self.built = True

    def call(self, inputs, state):
        x_bar, f_pre, r_pre, x_tx = array_ops.split(math_ops.matmul(inputs, self._kernel), num_or_size_splits=4,
                                                    axis=1)
        f, r = array_ops.split(math_ops.sigmoid(nn_ops.bias_add(array_ops.concat([f_pre, r_pre], 1), self._bias)),
                               num_or_size_splits=2, axis=1)
        c = f * state + (1.0 - f) * x_bar
        h = r * self._activation(c) + (1.0 - r) * x_tx
        return h, c


def _sharded_matrix(name: str, shape: list, dtype, num_shards: int):
    """A [rows, cols] matrix stored as `num_shards` variables name_0, name_1, ... of (nearly) equal row counts,
    the first ones one row longer, concatenated (TF contrib's sharded weights; one shard is just name_0)."""
    if num_shards > shape[0]:
        raise ValueError(f"Too many shards: shape={shape}, num_shards={num_shards}")
    base, extra = divmod(shape[0], num_shards)
    shards = [vs.get_variable(f"{name}_{i}", [base + (1 if i < extra else 0)] + shape[1:], dtype=dtype)
              for i in range(num_shards)]
    return shards[0] if len(shards) == 1 else array_ops.concat(shards, 0, name=f"{name}/concat")


@tf_export("contrib.rnn.CoupledInputForgetGateLSTMCell")
class CoupledInputForgetGateLSTMCell(_SizesFromFields, RNNCell):
    """An LSTM whose input gate is one minus its forget gate (Greff et al. 2015): gates j, f, o from `W_0`
    (sharded as W_0, W_1, ... with num_unit_shards) and `B`, optional peepholes `W_F_diag`, `W_O_diag`, an optional
    projection `W_P_0` and optional layer normalization (then `B` is made but not added)."""

    def __init__(self, num_units: int, use_peepholes: bool = False, initializer=None, num_proj=None, proj_clip=None,
                 num_unit_shards: int = 1, num_proj_shards: int = 1, forget_bias: float = 1.0,
                 state_is_tuple: bool = True, activation=math_ops.tanh, reuse=None, layer_norm: bool = False,
                 norm_gain: float = 1.0, norm_shift: float = 0.0) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift
        self._state_size, self._output_size = _projected_lstm_sizes(num_units, num_proj, state_is_tuple)

    def _norm(self, x, scope: str):
        return _layer_norm(x, scope, self._norm_gain, self._norm_shift) if self._layer_norm else x

    def call(self, inputs, state):
        n, h_size = self._num_units, self._output_size
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, n])
            m_prev = array_ops.slice(state, [0, n], [-1, h_size])
        dtype = inputs.dtype.base_dtype
        size = _input_size(inputs)
        w = _sharded_matrix("W", [size + h_size, 3 * n], dtype, self._num_unit_shards)
        b = vs.get_variable("B", shape=[3 * n], initializer=init_ops.zeros_initializer(), dtype=dtype)
        matrix = math_ops.matmul(array_ops.concat([inputs, m_prev], 1), w)
        if not self._layer_norm:
            matrix = nn_ops.bias_add(matrix, b)
        j, f, o = array_ops.split(matrix, num_or_size_splits=3, axis=1)
        j, f, o = self._norm(j, "transform"), self._norm(f, "forget"), self._norm(o, "output")
        if self._use_peepholes:
            w_f_diag, w_o_diag = _peephole_variables(["W_F_diag", "W_O_diag"], n, dtype)
            f_act = math_ops.sigmoid(f + self._forget_bias + w_f_diag * c_prev)
        else:
            w_o_diag = None
            f_act = math_ops.sigmoid(f + self._forget_bias)
        c = self._norm(f_act * c_prev + (1 - f_act) * self._activation(j), "state")
        m = _lstm_output(o, c, self._activation, w_o_diag)
        if self._num_proj is not None:
            m = _clip(math_ops.matmul(m, _sharded_matrix("W_P", [n, self._num_proj], dtype, self._num_proj_shards)),
                      self._proj_clip)
        return m, (LSTMStateTuple(c, m) if self._state_is_tuple else array_ops.concat([c, m], 1))


@tf_export("contrib.rnn.LayerNormLSTMCell")
class LayerNormLSTMCell(_SizesFromFields, RNNCell):
    """LSTMCell's LSTM (peepholes, cell clipping, projection) with optional layer normalization of the gates and
    of the new cell state. Variables: `kernel` and `bias` (made but not added when normalizing, as TF), `gamma`
    and `beta` in `input`, `transform`, `forget`, `output` and `state`, the peepholes `w_f_diag`, `w_i_diag`,
    `w_o_diag`, and `projection/kernel`."""

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, forget_bias: float = 1.0, activation=None, layer_norm: bool = False,
                 norm_gain: float = 1.0, norm_shift: float = 0.0, reuse=None) -> None:
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._activation = activation or math_ops.tanh
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift
        self._state_size, self._output_size = _projected_lstm_sizes(num_units, num_proj)

    def _norm(self, x, scope: str):
        return _layer_norm(x, scope, self._norm_gain, self._norm_shift) if self._layer_norm else x

    def call(self, inputs, state):
        n = self._num_units
        c_prev, m_prev = state
        dtype = inputs.dtype.base_dtype
        size = _input_size(inputs)
        with vs.variable_scope(vs.get_variable_scope(), initializer=self._initializer):
            args = array_ops.concat([inputs, m_prev], 1)
            kernel = vs.get_variable(_WEIGHTS_VARIABLE_NAME, [size + self._output_size, 4 * n], dtype=dtype)
            bias = vs.get_variable(_BIAS_VARIABLE_NAME, [4 * n], dtype=dtype,
                                   initializer=init_ops.constant_initializer(0.0, dtype=dtype))
            matrix = math_ops.matmul(args, kernel)
            if not self._layer_norm:
                matrix = nn_ops.bias_add(matrix, bias)
            i, j, f, o = array_ops.split(matrix, num_or_size_splits=4, axis=1)
            i, j, f, o = (self._norm(i, "input"), self._norm(j, "transform"), self._norm(f, "forget"),
                          self._norm(o, "output"))
            peepholes = (_peephole_variables(["w_f_diag", "w_i_diag", "w_o_diag"], n, dtype) if self._use_peepholes
                         else [None] * 3)
            c = self._norm(_lstm_new_cell(i, j, f, c_prev, self._forget_bias, self._activation, *peepholes[:2]),
                           "state")
            c = _clip(c, self._cell_clip)
            m = _lstm_output(o, c, self._activation, peepholes[2])
            if self._num_proj is not None:
                with vs.variable_scope("projection"):
                    m = math_ops.matmul(m, vs.get_variable(_WEIGHTS_VARIABLE_NAME, [n, self._num_proj], dtype=dtype))
                m = _clip(m, self._proj_clip)
        return m, LSTMStateTuple(c, m)


@tf_export("contrib.rnn.ConvLSTMCell")
class ConvLSTMCell(_SizesFromFields, RNNCell):
    """The convolutional LSTM (Shi et al. 2015): the gates come from a `conv_ndims`-D convolution ('SAME'
    padding, `kernel` [*kernel_shape, in + out channels, 4 * out channels], `biases`) over the inputs and the
    output state; inputs and states are [batch, *spatial, channels]. `skip_connection` appends the inputs to the
    output. 1-D and 2-D convolutions are supported (tfmini has no conv3d)."""

    def __init__(self, conv_ndims: int, input_shape, output_channels: int, kernel_shape, use_bias: bool = True,
                 skip_connection: bool = False, forget_bias: float = 1.0, initializers=None,
                 name="conv_lstm_cell") -> None:
        super().__init__(name=name)
        if conv_ndims != len(input_shape) - 1:
            raise ValueError(f"Invalid input_shape {input_shape} for conv_ndims={conv_ndims}.")
        if conv_ndims not in (1, 2):
            raise NotImplementedError("tfmini has no conv3d: ConvLSTMCell supports conv_ndims 1 and 2")
        self._conv_ndims = conv_ndims
        self._input_shape = list(input_shape)
        self._output_channels = output_channels
        self._kernel_shape = list(kernel_shape)
        self._use_bias = use_bias
        self._forget_bias = forget_bias
        self._skip_connection = skip_connection
        total = output_channels + (self._input_shape[-1] if skip_connection else 0)
        state = _shape.TensorShape(self._input_shape[:-1] + [output_channels])
        self._state_size = LSTMStateTuple(state, state)
        self._output_size = _shape.TensorShape(self._input_shape[:-1] + [total])

    def _conv(self, args: list, num_features: int):
        depth = sum(a.shape.as_list()[-1] for a in args)
        dtype = args[0].dtype.base_dtype
        x = array_ops.concat(args, self._conv_ndims + 1)
        kernel = vs.get_variable(_WEIGHTS_VARIABLE_NAME, self._kernel_shape + [depth, num_features], dtype=dtype)
        if self._conv_ndims == 1:
            out = nn_impl.conv1d(x, kernel, 1, padding="SAME")
        else:
            out = nn_ops.conv2d(x, kernel, [1, 1, 1, 1], padding="SAME")
        if not self._use_bias:
            return out
        return out + vs.get_variable("biases", [num_features], dtype=dtype,
                                     initializer=init_ops.constant_initializer(0.0, dtype=dtype))

    def call(self, inputs, state, scope=None):
        cell, hidden = state
        gates = self._conv([inputs, hidden], 4 * self._output_channels)
        i, j, f, o = array_ops.split(gates, num_or_size_splits=4, axis=self._conv_ndims + 1)
        new_cell = _lstm_new_cell(i, j, f, cell, self._forget_bias, math_ops.tanh)
        output = _lstm_output(o, new_cell, math_ops.tanh)
        if self._skip_connection:
            output = array_ops.concat([output, inputs], -1)
        return output, LSTMStateTuple(new_cell, output)


@tf_export("contrib.rnn.Conv1DLSTMCell")
class Conv1DLSTMCell(ConvLSTMCell):
    """ConvLSTMCell over [batch, width, channels] inputs, in scope `conv_1d_lstm_cell`."""

    def __init__(self, name="conv_1d_lstm_cell", **kwargs) -> None:
        super().__init__(conv_ndims=1, name=name, **kwargs)


@tf_export("contrib.rnn.Conv2DLSTMCell")
class Conv2DLSTMCell(ConvLSTMCell):
    """ConvLSTMCell over [batch, height, width, channels] inputs, in scope `conv_2d_lstm_cell`."""

    def __init__(self, name="conv_2d_lstm_cell", **kwargs) -> None:
        super().__init__(conv_ndims=2, name=name, **kwargs)
