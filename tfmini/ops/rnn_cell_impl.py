"""`tf.nn.rnn_cell`: the recurrent cells of TF 1.15 (RNNCell and its subclasses, the cell wrappers and
LSTMStateTuple). A cell makes its variables with `tf.get_variable` under TF's scope names on its first call and
reuses them afterwards, so variable names, shapes, initializers and gate order line up with TensorFlow's
checkpoints. The drivers that run cells over sequences live in rnn.py."""

from __future__ import annotations

import collections
import hashlib
import inspect
import numbers
import re

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, init_ops, math_ops, nn_impl, nn_ops, random_ops
from tfmini.ops import variable_scope as vs
from tfmini.ops.functional_ops import (
    assert_same_structure,
    children,
    flatten,
    is_sequence,
    map_structure,
    pack_sequence_as,
    rebuild,
)
from tfmini.ops.partitioned_variables import PartitionedVariable, fixed_size_partitioner

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"

# The activations a cell accepts by name (Keras' `activations.get`), besides any callable.
_ACTIVATIONS = {
    "tanh": math_ops.tanh,
    "sigmoid": math_ops.sigmoid,
    "relu": nn_ops.relu,
    "relu6": nn_ops.relu6,
    "elu": nn_ops.elu,
    "selu": nn_ops.selu,
    "softplus": nn_ops.softplus,
    "softsign": nn_ops.softsign,
    "softmax": nn_ops.softmax,
    "exponential": math_ops.exp,
    "linear": lambda x: x,
}


def _activation(activation):
    """`activation` as a function: tanh when None, a callable as is, or an activation named by string."""
    if activation is None:
        return math_ops.tanh
    if callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    raise ValueError(f"Unknown activation function:{activation}")


def _snake_case(name: str) -> str:
    """A class name as Keras names layers after it: 'BasicLSTMCell' -> 'basic_lstm_cell'."""
    words = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()
    return snake if not snake.startswith("_") else "private" + snake


def _check_supported_dtypes(dtype) -> None:
    if dtype is None:
        return
    dtype = _dt.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_complex):
        raise ValueError(f"RNN cell only supports floating point inputs, but saw dtype: {dtype}")


def assert_like_rnncell(cell_name: str, cell) -> None:
    """Raises TypeError unless `cell` has what the RNN drivers use: output_size, state_size, get_initial_state
    or zero_state, and is callable."""
    checks = [
        (hasattr(cell, "output_size"), "'output_size' property is missing"),
        (hasattr(cell, "state_size"), "'state_size' property is missing"),
        (hasattr(cell, "get_initial_state") or hasattr(cell, "zero_state"),
         "either 'zero_state' or 'get_initial_state' method is required"),
        (callable(cell), "is not callable"),
    ]
    errors = [msg for ok, msg in checks if not ok]
    if errors:
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: {', '.join(errors)}.")


def _unique(items) -> list:
    seen: set[int] = set()
    out = []
    for v in items:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


# ----------------------------------------------------------------------------------------------------------
# State shapes
# ----------------------------------------------------------------------------------------------------------
def _shape_list(size) -> list:
    """A state or output size (an int, a TensorShape or a list of dims) as a list of dims."""
    if isinstance(size, _ops.Tensor):
        value = _reg.constant_value(size)
        if value is None:
            raise ValueError(f"Provided a tensor of unknown value as a size: {size}")
        return [int(v) for v in value.reshape(-1)]
    if isinstance(size, (numbers.Integral, _shape.Dimension)):
        return [_shape.dimension_value(size)]
    return _shape.as_shape(size).as_list()


def batch_shape(batch_size, size, static: bool = False):
    """The shape [batch_size] + size: a list of ints (`static`, unknown dims as None) or a 1-D int32 tensor
    when `batch_size` is a tensor."""
    dims = _shape_list(size)
    if static:
        if isinstance(batch_size, _ops.Tensor):
            value = _reg.constant_value(batch_size)
            batch = None if value is None else int(value)
        else:
            batch = _shape.dimension_value(batch_size)
        return [batch] + dims
    if isinstance(batch_size, _ops.Tensor):
        return array_ops.concat([array_ops.reshape(batch_size, [1]),
                                 _ops.convert_to_tensor(dims, dtype=_dt.int32)], 0)
    return [_shape.dimension_value(batch_size)] + dims


def zero_state_tensors(state_size, batch_size, dtype):
    """Zeros of shape [batch_size] + s for each size s in the (nested) `state_size`."""

    def zeros(size):
        z = array_ops.zeros(batch_shape(batch_size, size), dtype=dtype)
        z.set_shape(batch_shape(batch_size, size, static=True))
        return z

    return map_structure(zeros, state_size)


_LSTMStateTupleBase = collections.namedtuple("LSTMStateTuple", ("c", "h"))


@tf_export("contrib.rnn.LSTMStateTuple", "nn.rnn_cell.LSTMStateTuple")
class LSTMStateTuple(_LSTMStateTupleBase):
    """The state of an LSTM as (c, h): the cell state and the output (hidden) state, in that order."""

    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


# ----------------------------------------------------------------------------------------------------------
# RNNCell and LayerRNNCell
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.RNNCell", "nn.rnn_cell.RNNCell")
class RNNCell:
    """The abstract recurrent cell: `output, new_state = cell(inputs, state)`.

    Subclasses define `state_size`, `output_size` and either `call(inputs, state)` (with `build(inputs_shape)`
    for variables made by `add_variable`, or plain `tf.get_variable` calls) or their own `__call__`. On its
    first call the cell opens a variable scope named after it (`basic_lstm_cell`, `my_cell`, ...) in the
    current variable scope, or the `scope` argument; later calls reuse the variables made there.
    """

    # The rank the cell's input must have (checked before the first build), or None for any.
    _input_ndim: int | None = None

    def __init__(self, trainable: bool = True, name=None, dtype=None, _reuse=None, _scope=None,
                 **kwargs) -> None:
        unknown = set(kwargs) - {"input_shape", "batch_input_shape", "batch_size", "weights", "autocast"}
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]}")
        self.trainable = trainable
        self.built = False
        self._reuse = _reuse
        self._given_name = name if isinstance(name, str) and name else None
        self._base_name = self._given_name or _snake_case(type(self).__name__)
        self._name = self._given_name
        self._scope = _scope if isinstance(_scope, vs.VariableScope) else None
        self._dtype = None if dtype is None else _dt.as_dtype(dtype).base_dtype
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._outer_scope = None

    # -- what a cell is ----------------------------------------------------------------------------------
    @property
    def state_size(self):
        """The size(s) of the state: an int, a TensorShape, or a nested tuple of them."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        """The size(s) of the output: an int, a TensorShape, or a nested tuple of them."""
        raise NotImplementedError("Abstract method")

    @property
    def name(self) -> str:
        return self._name if self._name is not None else self._base_name

    @property
    def dtype(self):
        return self._dtype

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError(f'No name available for layer scope because the layer "{self.name}" has not been '
                             "used yet. The scope name  is determined the first time the layer instance is "
                             "called. You must therefore call the layer before querying `scope_name`.")
        return self._scope.name

    def build(self, inputs_shape) -> None:
        """Makes the cell's variables (cells without variables of their own need not override it)."""
        self.built = True

    def call(self, inputs, state):
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs, state) or __call__")

    # -- weights -----------------------------------------------------------------------------------------
    def _sub_cells(self) -> list:
        """The cells this one wraps or stacks (their weights are also this cell's weights)."""
        return []

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        nested = [w for c in self._sub_cells() for w in getattr(c, "trainable_weights", [])]
        return _unique(self._trainable_weights + nested)

    @property
    def non_trainable_weights(self) -> list:
        nested = [w for c in self._sub_cells() for w in getattr(c, "non_trainable_weights", [])]
        if self.trainable:
            return _unique(self._non_trainable_weights + nested)
        inner = [w for c in self._sub_cells() for w in getattr(c, "weights", [])]
        return _unique(self._trainable_weights + self._non_trainable_weights + inner)

    @property
    def weights(self) -> list:
        return _unique(self.trainable_weights + self.non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None, partitioner=None, **kwargs):
        """Gets or creates `name` with tf.get_variable in the cell's scope (reusing it once the cell is
        built) and tracks it in the cell's weights. With a `partitioner` the variable is a
        PartitionedVariable, whose parts are the weights tracked."""
        dtype = _dt.as_dtype(dtype or self._dtype or _dt.float32).base_dtype
        reuse = True if self.built else self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False):
            variable = vs.get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                                       regularizer=regularizer, trainable=trainable and self.trainable,
                                       constraint=constraint, partitioner=partitioner)
        for weight in (list(variable) if isinstance(variable, PartitionedVariable) else [variable]):
            # A custom getter may return a tensor in place of a variable: it counts as what was asked for.
            own = (self._trainable_weights if trainable and getattr(weight, "trainable", True)
                   else self._non_trainable_weights)
            if all(v is not weight for v in own):
                own.append(weight)
        return variable

    add_variable = add_weight

    def _rnn_get_variable(self, getter, *args, **kwargs):
        """The custom getter of a plain RNNCell's scope: tracks what `tf.get_variable` returns in its body."""
        variable = getter(*args, **kwargs)
        trainable = getattr(variable, "trainable", kwargs.get("trainable", True))
        own = self._trainable_weights if trainable else self._non_trainable_weights
        if all(v is not variable for v in own):
            own.append(variable)
        return variable

    # -- states ------------------------------------------------------------------------------------------
    def zero_state(self, batch_size, dtype):
        """Zeros shaped like the state for a batch of `batch_size` (an int or a scalar int tensor)."""
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return zero_state_tensors(self.state_size, batch_size, dtype)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """The zero state, with batch size and dtype taken from `inputs` when it is given."""
        if inputs is not None:
            inputs = _ops.convert_to_tensor(inputs)
            static_batch = _shape.dimension_value(inputs.shape[0]) if inputs.shape.ndims else None
            if batch_size is not None and static_batch is not None and isinstance(batch_size, numbers.Integral) \
                    and static_batch != batch_size:
                raise ValueError("batch size from input tensor is different from the input param. Input tensor "
                                 f"batch: {static_batch}, batch_size: {batch_size}")
            if dtype is not None and inputs.dtype.base_dtype != _dt.as_dtype(dtype).base_dtype:
                raise ValueError("dtype from input tensor is different from the input param. Input tensor "
                                 f"dtype: {inputs.dtype.base_dtype}, dtype: {_dt.as_dtype(dtype)}")
            batch_size = static_batch if static_batch is not None else array_ops.shape(inputs)[0]
            dtype = inputs.dtype.base_dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial state: "
                             f"batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    # -- calling -----------------------------------------------------------------------------------------
    def __call__(self, inputs, state, scope=None):
        """Runs the cell on `inputs` and `state` in a scope whose custom getter tracks the variables made
        by `tf.get_variable` in `call`; returns (output, new_state)."""
        if scope is not None:
            with vs.variable_scope(scope, custom_getter=self._rnn_get_variable) as entered:
                return self._call_in_scope(inputs, state, entered)
        if self._outer_scope is None:
            with vs.variable_scope(vs.get_variable_scope(), custom_getter=self._rnn_get_variable) as entered:
                self._outer_scope = entered
                return self._call_in_scope(inputs, state, None)
        with vs.variable_scope(self._outer_scope, auxiliary_name_scope=False):
            return self._call_in_scope(inputs, state, None)

    def _capture_scope(self, scope) -> None:
        if self._reuse:
            with vs.variable_scope(scope if scope is not None else self._base_name) as captured:
                self._scope = captured
        else:
            with vs.variable_scope(scope, default_name=self._base_name) as captured:
                self._scope = captured
        if self._given_name is None:
            self._name = self._scope.name.split("/")[-1] or self._base_name

    def _check_input(self, inputs) -> None:
        if self._input_ndim is None:
            return
        for x in flatten(inputs):
            ndims = _ops.convert_to_tensor(x).shape.ndims
            if ndims is not None and ndims != self._input_ndim:
                raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: expected "
                                 f"ndim={self._input_ndim}, found ndim={ndims}. Full shape received: "
                                 f"{_ops.convert_to_tensor(x).shape.as_list()}")

    def _call_in_scope(self, inputs, state, scope, **call_kwargs):
        """The layer part of a call: the cell's own variable scope (captured once), build, then
        `call(inputs, state, **call_kwargs)`."""
        if self._scope is None:
            self._capture_scope(scope)
        reuse = True if self.built else self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as entered:
            with _ops.name_scope(entered.original_name_scope):
                if not self.built:
                    self._check_input(inputs)
                    first = _ops.convert_to_tensor(flatten(inputs)[0])
                    if self._dtype is None:
                        base = first.dtype.base_dtype
                        self._dtype = base if (base.is_floating or base.is_complex) else _dt.float32
                    shapes = map_structure(lambda x: _ops.convert_to_tensor(x).shape, inputs)
                    self.build(shapes)
                    self.built = True
                if "scope" in inspect.signature(self.call).parameters:
                    call_kwargs["scope"] = entered
                return self.call(inputs, state, **call_kwargs)


@tf_export("contrib.rnn.LayerRNNCell")
class LayerRNNCell(RNNCell):
    """An RNNCell whose variables come from `add_variable` in `build` (the tf.layers style): it is called
    in its own scope only, with no custom getter."""

    def __call__(self, inputs, state, scope=None):
        return self._call_in_scope(inputs, state, scope)


def _input_depth(inputs_shape) -> int:
    depth = _shape.as_shape(inputs_shape)[-1].value if _shape.as_shape(inputs_shape).ndims else None
    if depth is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {_shape.as_shape(inputs_shape)}")
    return depth


class _SizesFromFields:
    """A cell whose constructor sets `_state_size` and `_output_size` (put before RNNCell in the bases)."""

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size


def _projected_lstm_sizes(num_units: int, num_proj, state_is_tuple: bool = True) -> tuple:
    """(state_size, output_size) of an LSTM whose output is projected to `num_proj` columns when that is set."""
    h = num_proj if num_proj else num_units
    return (LSTMStateTuple(num_units, h) if state_is_tuple else num_units + h), h


def _clip(x, clip):
    """`x` clipped to [-clip, clip]; `x` itself when `clip` is None."""
    return x if clip is None else math_ops.clip_by_value(x, -clip, clip)


def _lstm_new_cell(i, j, f, c_prev, forget_bias, activation, w_f_diag=None, w_i_diag=None):
    """The LSTM's new cell state from its gate pre-activations, sigmoid(f + forget_bias) * c_prev + sigmoid(i) *
    activation(j); with the peephole diagonals the gates also see w_f_diag * c_prev and w_i_diag * c_prev."""
    sigmoid = math_ops.sigmoid
    if w_f_diag is None:
        return sigmoid(f + forget_bias) * c_prev + sigmoid(i) * activation(j)
    return (sigmoid(f + forget_bias + w_f_diag * c_prev) * c_prev
            + sigmoid(i + w_i_diag * c_prev) * activation(j))


def _lstm_output(o, c, activation, w_o_diag=None):
    """The LSTM's output sigmoid(o) * activation(c); with the peephole diagonal the gate also sees w_o_diag * c."""
    gate = math_ops.sigmoid(o) if w_o_diag is None else math_ops.sigmoid(o + w_o_diag * c)
    return gate * activation(c)


# ----------------------------------------------------------------------------------------------------------
# The cells
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.BasicRNNCell", "nn.rnn_cell.BasicRNNCell")
class BasicRNNCell(LayerRNNCell):
    """The plain RNN: output = new_state = activation([inputs, state] @ kernel + bias)."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, name=None, dtype=None, **kwargs) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
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
        _check_supported_dtypes(self.dtype)
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[self._num_units],
                                       initializer=init_ops.zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs, state):
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1), self._kernel)
        output = self._activation(nn_ops.bias_add(gate_inputs, self._bias))
        return output, output


@tf_export("contrib.rnn.GRUCell", "nn.rnn_cell.GRUCell")
class GRUCell(LayerRNNCell):
    """The gated recurrent unit (Cho et al. 2014): reset and update gates from `gates/kernel` (biases
    initialized to 1), the candidate from `candidate/kernel`."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None, **kwargs) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
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
        _check_supported_dtypes(self.dtype)
        n = self._num_units
        gate_bias = self._bias_initializer or init_ops.constant_initializer(1.0, dtype=self.dtype)
        candidate_bias = self._bias_initializer or init_ops.zeros_initializer(dtype=self.dtype)
        self._gate_kernel = self.add_variable(f"gates/{_WEIGHTS_VARIABLE_NAME}", shape=[depth + n, 2 * n],
                                              initializer=self._kernel_initializer)
        self._gate_bias = self.add_variable(f"gates/{_BIAS_VARIABLE_NAME}", shape=[2 * n], initializer=gate_bias)
        self._candidate_kernel = self.add_variable(f"candidate/{_WEIGHTS_VARIABLE_NAME}", shape=[depth + n, n],
                                                   initializer=self._kernel_initializer)
        self._candidate_bias = self.add_variable(f"candidate/{_BIAS_VARIABLE_NAME}", shape=[n],
                                                 initializer=candidate_bias)
        self.built = True

    def call(self, inputs, state):
        gates = math_ops.sigmoid(nn_ops.bias_add(
            math_ops.matmul(array_ops.concat([inputs, state], 1), self._gate_kernel), self._gate_bias))
        r, u = array_ops.split(gates, num_or_size_splits=2, axis=1)
        candidate = nn_ops.bias_add(
            math_ops.matmul(array_ops.concat([inputs, r * state], 1), self._candidate_kernel), self._candidate_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h


def _split_lstm_state(state, state_is_tuple: bool, c_size: int, h_size: int):
    """(c, h) of an LSTM state: the tuple's fields, or the two column blocks of a concatenated state."""
    if state_is_tuple:
        c, h = state
        return c, h
    c = array_ops.slice(state, [0, 0], [-1, c_size])
    h = array_ops.slice(state, [0, c_size], [-1, h_size])
    return c, h


@tf_export("contrib.rnn.BasicLSTMCell", "nn.rnn_cell.BasicLSTMCell")
class BasicLSTMCell(LayerRNNCell):
    """The LSTM of Zaremba et al. 2014 without peepholes or projection. Gates come from one kernel of shape
    [input_depth + num_units, 4 * num_units] in the order i, j, f, o; `forget_bias` is added to f."""

    _input_ndim = 2

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        _check_supported_dtypes(self.dtype)
        n = self._num_units
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth + n, 4 * n])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[4 * n],
                                       initializer=init_ops.zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs, state):
        n = self._num_units
        c, h = _split_lstm_state(state, self._state_is_tuple, n, n)
        gates = nn_ops.bias_add(math_ops.matmul(array_ops.concat([inputs, h], 1), self._kernel), self._bias)
        i, j, f, o = array_ops.split(gates, num_or_size_splits=4, axis=1)
        forget_bias = _ops.convert_to_tensor(self._forget_bias, dtype=f.dtype)
        new_c = math_ops.add(math_ops.multiply(c, math_ops.sigmoid(math_ops.add(f, forget_bias))),
                             math_ops.multiply(math_ops.sigmoid(i), self._activation(j)))
        new_h = math_ops.multiply(self._activation(new_c), math_ops.sigmoid(o))
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else array_ops.concat([new_c, new_h], 1)
        return new_h, new_state


def _shards_partitioner(shards):
    return None if shards is None else fixed_size_partitioner(shards)


@tf_export("contrib.rnn.LSTMCell", "nn.rnn_cell.LSTMCell")
class LSTMCell(_SizesFromFields, LayerRNNCell):
    """The LSTM of Hochreiter & Schmidhuber 1997 with the options of Sak et al. 2014: diagonal peepholes
    (`use_peepholes`: w_f_diag, w_i_diag, w_o_diag), clipping of the cell state (`cell_clip`), a projection of
    the output (`num_proj`, `projection/kernel`) and its clipping (`proj_clip`). Gate order i, j, f, o.
    `num_unit_shards` / `num_proj_shards` partition the kernel / projection kernel along their rows, as TF 1.15's
    do with `fixed_size_partitioner`.
    """

    _input_ndim = 2

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias: float = 1.0,
                 state_is_tuple: bool = True, activation=None, reuse=None, name=None, dtype=None, **kwargs) -> None:
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)
        self._state_size, self._output_size = _projected_lstm_sizes(num_units, num_proj, state_is_tuple)

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        _check_supported_dtypes(self.dtype)
        n = self._num_units
        h_depth = n if self._num_proj is None else self._num_proj
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth + h_depth, 4 * n],
                                         initializer=self._initializer,
                                         partitioner=_shards_partitioner(self._num_unit_shards))
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[4 * n],
                                       initializer=init_ops.zeros_initializer(dtype=self.dtype))
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", shape=[n], initializer=self._initializer)
            self._w_i_diag = self.add_variable("w_i_diag", shape=[n], initializer=self._initializer)
            self._w_o_diag = self.add_variable("w_o_diag", shape=[n], initializer=self._initializer)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable(f"projection/{_WEIGHTS_VARIABLE_NAME}", shape=[n, self._num_proj],
                                                  initializer=self._initializer,
                                                  partitioner=_shards_partitioner(self._num_proj_shards))
        self.built = True

    def call(self, inputs, state):
        n = self._num_units
        h_size = n if self._num_proj is None else self._num_proj
        c_prev, m_prev = _split_lstm_state(state, self._state_is_tuple, n, h_size)
        if _shape.as_shape(inputs.shape).with_rank(2)[1].value is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        lstm_matrix = nn_ops.bias_add(math_ops.matmul(array_ops.concat([inputs, m_prev], 1), self._kernel),
                                      self._bias)
        i, j, f, o = array_ops.split(lstm_matrix, num_or_size_splits=4, axis=1)
        peep = self._use_peepholes
        c = _lstm_new_cell(i, j, f, c_prev, self._forget_bias, self._activation,
                           self._w_f_diag if peep else None, self._w_i_diag if peep else None)
        c = _clip(c, self._cell_clip)
        m = _lstm_output(o, c, self._activation, self._w_o_diag if peep else None)
        if self._num_proj is not None:
            m = _clip(math_ops.matmul(m, self._proj_kernel), self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else array_ops.concat([c, m], 1)
        return m, new_state


@tf_export("contrib.rnn.MultiRNNCell", "nn.rnn_cell.MultiRNNCell")
class MultiRNNCell(RNNCell):
    """Cells stacked in layers: layer k runs in variable scope `cell_k` on the output of layer k - 1; the
    state is the tuple of the layers' states (or their concatenation if not `state_is_tuple`)."""

    def __init__(self, cells, state_is_tuple: bool = True) -> None:
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        self._cells = cells
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(is_sequence(c.state_size) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not set.  State "
                             f"sizes are: {[c.state_size for c in cells]}")

    def _sub_cells(self) -> list:
        return list(self._cells)

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            if self._state_is_tuple:
                return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
            return zero_state_tensors(self.state_size, batch_size, dtype)

    def call(self, inputs, state):
        if self._state_is_tuple and not is_sequence(state):
            raise ValueError(f"Expected state to be a tuple of length {len(self.state_size)}, but received: {state}")
        layer_input = inputs
        new_states = []
        offset = 0
        for k, cell in enumerate(self._cells):
            with vs.variable_scope(f"cell_{k}"):
                if self._state_is_tuple:
                    layer_state = state[k]
                else:
                    layer_state = array_ops.slice(state, [0, offset], [-1, cell.state_size])
                    offset += cell.state_size
                layer_input, layer_new_state = cell(layer_input, layer_state)
                new_states.append(layer_new_state)
        return layer_input, (tuple(new_states) if self._state_is_tuple else array_ops.concat(new_states, 1))


# ----------------------------------------------------------------------------------------------------------
# Wrappers
# ----------------------------------------------------------------------------------------------------------
class WrapperBase(RNNCell):
    """A cell around another, `cell`: the wrapped cell's sizes, zero state and variables. How the wrapped cell
    is called (in whose scope) is the subclass's."""

    def __init__(self, cell, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert_like_rnncell("cell", cell)
        self.cell = cell

    def _sub_cells(self) -> list:
        return [self.cell]

    @property
    def wrapped_cell(self):
        return self.cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            return self.cell.zero_state(batch_size, dtype)


class CallerScopeWrapper(WrapperBase):
    """A wrapper that calls the wrapped cell in the caller's scope (so its variables keep their names), with
    something done around the call."""

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        raise NotImplementedError

    def __call__(self, inputs, state, scope=None):
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.__call__, scope=scope)


def _traverse_shallow_structure(traverse_fn, structure):
    """The structure of booleans saying, per leaf of a prefix of `structure`, whether `traverse_fn` selects it
    (TF's nest.get_traverse_shallow_structure)."""
    decision = traverse_fn(structure)
    if isinstance(decision, bool):
        if decision and is_sequence(structure):
            return rebuild(structure, [_traverse_shallow_structure(traverse_fn, c)
                                             for c in children(structure)])
        return decision
    if not is_sequence(decision):
        raise TypeError(f"traverse_fn returned structure: {decision} for non-structure: {structure}")
    parts = []
    for d, child in zip(children(decision), children(structure)):
        if not isinstance(d, bool):
            raise TypeError("Optionally as a sequence, traverse_fn must return a sequence of booleans, but found "
                            f"{d} in {decision}")
        parts.append(_traverse_shallow_structure(traverse_fn, child) if d else False)
    return rebuild(decision, parts)


def _map_up_to(shallow, fn, *structures):
    """fn(index, leaf_of_shallow, *substructures) for each leaf of `shallow` (a prefix of `structures`),
    rebuilt in the shape of `shallow`; `index` counts the leaves."""
    counter = [0]

    def visit(node, subs):
        if not is_sequence(node):
            i = counter[0]
            counter[0] += 1
            return fn(i, node, *subs)
        kids = children(node)
        for s in subs:
            if not is_sequence(s) or len(children(s)) != len(kids):
                raise ValueError(f"The two structures don't have the same nested structure: {node} and {s}")
        parts = [visit(c, [children(s)[k] for s in subs]) for k, c in enumerate(kids)]
        return rebuild(node, parts)

    return visit(shallow, list(structures))


def _default_dropout_state_filter_visitor(substate):
    """Drops out everything but an LSTM's memory state c."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


@tf_export("contrib.rnn.DropoutWrapper", "nn.rnn_cell.DropoutWrapper")
class DropoutWrapper(CallerScopeWrapper):
    """Dropout on the inputs, outputs and new states of a cell, with keep probabilities (floats in [0, 1] or
    scalar tensors). `variational_recurrent` draws one mask per run for each of them (Gal & Ghahramani 2016,
    needs `dtype`, and `input_size` when inputs are dropped); otherwise each step draws its own. By default
    an LSTM's memory state c is never dropped (`dropout_state_filter_visitor` chooses what is)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent: bool = False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs) -> None:
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor
        with _ops.name_scope("DropoutWrapperInit"):
            for prob, attr in ((input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")):
                tensor = _ops.convert_to_tensor(prob)
                value = _reg.constant_value(tensor)
                if value is not None:
                    if value < 0 or value > 1:
                        raise ValueError(f"Parameter {attr} must be between 0 and 1: {int(value)}")
                    setattr(self, f"_{attr}", float(value))
                else:
                    setattr(self, f"_{attr}", tensor)
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed
        self._recurrent_input_noise = self._recurrent_state_noise = self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def noise(salt: str):
                return lambda i, size: random_ops.random_uniform([1] + _shape_list(size),
                                                                 seed=self._gen_seed(salt, i), dtype=dtype)

            if not isinstance(self._input_keep_prob, numbers.Real) or self._input_keep_prob < 1.0:
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob < 1.0 or is unknown, "
                                     "input_size must be provided")
                self._recurrent_input_noise = _map_up_to(input_size, lambda i, s: noise("input")(i, s))
            self._recurrent_state_noise = _map_up_to(cell.state_size, lambda i, s: noise("state")(i, s))
            self._recurrent_output_noise = _map_up_to(cell.output_size, lambda i, s: noise("output")(i, s))

    def _gen_seed(self, salt_prefix: str, index: int):
        """A per-tensor op seed derived from the wrapper's seed, so each dropped tensor gets its own mask."""
        if self._seed is None:
            return None
        digest = hashlib.md5(f"{self._seed}{salt_prefix}_{index}".encode()).hexdigest()
        return int(digest[:8], 16) & 0x7FFFFFFF

    def _dropout(self, values, salt_prefix: str, recurrent_noise, keep_prob, shallow=None):
        shallow = values if shallow is None else shallow

        def selected(flag) -> bool:
            return not isinstance(flag, bool) or flag

        if not self._variational_recurrent:
            def drop(i, flag, v):
                if not selected(flag):
                    return v
                return nn_impl.dropout(v, rate=1.0 - keep_prob, seed=self._gen_seed(salt_prefix, i))

            return _map_up_to(shallow, drop, values)

        def drop_variational(i, flag, v, noise):
            if not selected(flag):
                return v
            # keep_prob + U[0, 1) floored is 1 with probability keep_prob: the same mask at every step.
            mask = math_ops.floor(keep_prob + noise)
            out = math_ops.div(v, keep_prob) * mask
            out.set_shape(v.shape)
            return out

        return _map_up_to(shallow, drop_variational, values, recurrent_noise)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        def active(p) -> bool:
            return not isinstance(p, float) or p < 1

        if active(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise, self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if active(self._state_keep_prob):
            shallow = _traverse_shallow_structure(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise, self._state_keep_prob,
                                      shallow)
        if active(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise, self._output_keep_prob)
        return output, new_state


@tf_export("contrib.rnn.ResidualWrapper", "nn.rnn_cell.ResidualWrapper")
class ResidualWrapper(CallerScopeWrapper):
    """Adds the cell's inputs to its outputs (or combines them with `residual_fn(inputs, outputs)`)."""

    def __init__(self, cell, residual_fn=None, **kwargs) -> None:
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, outputs), new_state
        assert_same_structure(inputs, outputs)
        flat_in, flat_out = flatten(inputs), flatten(outputs)
        for x, y in zip(flat_in, flat_out):
            _ops.convert_to_tensor(x).shape.assert_is_compatible_with(_ops.convert_to_tensor(y).shape)
        return pack_sequence_as(outputs, [x + y for x, y in zip(flat_in, flat_out)]), new_state


@tf_export("contrib.rnn.DeviceWrapper", "nn.rnn_cell.DeviceWrapper")
class DeviceWrapper(CallerScopeWrapper):
    """Runs the cell (and builds its zero state) on `device`."""

    def __init__(self, cell, device, **kwargs) -> None:
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with _ops.name_scope(type(self).__name__ + "ZeroState", values=[batch_size]):
            with _ops.device(self._device):
                return self.cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        with _ops.device(self._device):
            return cell_call_fn(inputs, state, **kwargs)
