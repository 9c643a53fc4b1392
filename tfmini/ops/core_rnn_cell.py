"""The cells only tf.contrib.rnn had: the wrappers that make variables of their own (TF's core_rnn_cell:
OutputProjectionWrapper, InputProjectionWrapper and EmbeddingWrapper, plain RNNCells whose scope holds their
kernel, bias or embedding and the wrapped cell's variables) and LSTMBlockCell."""

from __future__ import annotations

import math

from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.ops import array_ops, init_ops, math_ops, nn_impl, nn_ops
from tfmini.ops import variable_scope as vs
from tfmini.ops.functional_ops import flatten, is_sequence
from tfmini.ops.rnn_cell_impl import LSTMCell, RNNCell, assert_like_rnncell

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"


class _Linear:
    """args @ kernel (+ bias) with `kernel` and `bias` made in the current variable scope."""

    def __init__(self, args, output_size: int, build_bias: bool, bias_initializer=None,
                 kernel_initializer=None) -> None:
        if args is None or (is_sequence(args) and not args):
            raise ValueError("`args` must be specified")
        self._is_sequence = is_sequence(args)
        args = list(args) if self._is_sequence else [args]
        shapes = [a.shape for a in args]
        total = 0
        for s in shapes:
            if s.ndims != 2:
                raise ValueError(f"linear is expecting 2D arguments: {shapes}")
            if s[1].value is None:
                raise ValueError(f"linear expects shape[1] to be provided for shape {s}, but saw {s[1]}")
            total += s[1].value
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


class _ScopedWrapper(RNNCell):
    """A plain RNNCell around `cell`: the wrapped cell runs inside the wrapper's scope, with its state size
    and zero state."""

    def __init__(self, cell, reuse) -> None:
        super().__init__(_reuse=reuse)
        assert_like_rnncell("cell", cell)
        self._cell = cell

    def _sub_cells(self) -> list:
        return [self._cell]

    @property
    def state_size(self):
        return self._cell.state_size

    @property
    def output_size(self):
        return self._cell.output_size

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return self._cell.zero_state(batch_size, dtype)


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
        output, new_state = self._cell(inputs, state)
        if self._linear is None:
            self._linear = _Linear(output, self._output_size, True)
        projected = self._linear(output)
        if self._activation:
            projected = self._activation(projected)
        return projected, new_state


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
        return self._cell(projected, state)


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
        return self._cell(embedded, state)


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
