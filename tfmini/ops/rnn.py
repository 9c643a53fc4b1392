"""The RNN drivers of TF 1.15: `tf.nn.dynamic_rnn`, `bidirectional_dynamic_rnn` and `raw_rnn` (a tf.while_loop over
time reading inputs from and writing outputs to TensorArrays), and `static_rnn`, `static_bidirectional_rnn` and
`static_state_saving_rnn` (the cell unrolled once per element of a Python list). Cells come from
rnn_cell_impl; the drivers open the variable scope (`rnn` / `bidirectional_rnn` by default) they are called in."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.ops import array_ops, control_flow_ops, math_ops, tensor_array_ops
from tfmini.ops import variable_scope as vs
from tfmini.ops.functional_ops import assert_same_structure, flatten, is_sequence, map_structure, pack_sequence_as
from tfmini.ops.rnn_cell_impl import assert_like_rnncell, batch_shape


# ----------------------------------------------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.transpose_batch_time")
def transpose_batch_time(x):
    """[batch, time, ...] <-> [time, batch, ...]; tensors of rank below 2 are returned as they are."""
    x = _ops.convert_to_tensor(x)
    static = x.shape
    if static.ndims is not None and static.ndims < 2:
        return x
    if static.ndims is not None:
        perm = [1, 0] + list(range(2, static.ndims))
    else:
        perm = array_ops.concat([constant([1, 0]), array_ops.range(2, array_ops.rank(x))], 0)
    out = array_ops.transpose(x, perm)
    if static.ndims is not None:
        out.set_shape(_shape.TensorShape([static[1], static[0]]).concatenate(static[2:]))
    return out


@tf_export("contrib.rnn.best_effort_input_batch_size")
def best_effort_input_batch_size(flat_input: list):
    """The batch size of time-major inputs: a static dim 1 if some input has one, else the first input's
    dynamic dim 1."""
    for x in flat_input:
        s = x.shape
        if s.ndims is None:
            continue
        if s.ndims < 2:
            raise ValueError(f"Expected input tensor {x} to have rank at least 2")
        if s[1].value is not None:
            return s[1].value
    return array_ops.shape(flat_input[0])[1]


def _state_dtype(explicit_dtype, state):
    """The dtype of the state (all its tensors must share it) unless `explicit_dtype` is given."""
    if explicit_dtype is not None:
        return _dt.as_dtype(explicit_dtype)
    if not is_sequence(state):
        return state.dtype
    flat = flatten(state)
    if not flat:
        raise ValueError("Unable to infer dtype from empty state.")
    dtypes = {s.dtype.base_dtype for s in flat}
    if len(dtypes) != 1:
        raise ValueError("State has tensors of different inferred_dtypes. Unable to infer a single "
                         f"representative dtype. Dtypes received: {[s.dtype for s in flat]}")
    return flat[0].dtype.base_dtype


def _initial_state(cell, initial_state, dtype, batch_size, missing_dtype_message: str):
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError(missing_dtype_message)
    if getattr(cell, "get_initial_state", None) is not None:
        return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


def _zero_outputs(cell, batch_size, dtype, static_batch):
    """Zeros shaped like one step's output (what a finished sequence emits)."""

    def zeros(size):
        z = array_ops.zeros(batch_shape(batch_size, size), dtype=dtype)
        z.set_shape(batch_shape(static_batch, size, static=True))
        return z

    return map_structure(zeros, cell.output_size)


def _step_with_lengths(time, sequence_length, zero_output, state, call_cell):
    """One step for a batch of sequences of different lengths: the cell's output and new state where
    time < length; zeros and the previous state (copied through) where the sequence has ended."""
    new_output, new_state = call_cell()
    assert_same_structure(zero_output, new_output)
    assert_same_structure(state, new_state)
    finished = math_ops.greater_equal(time, sequence_length)

    def select(old, new):
        new = _ops.convert_to_tensor(new)
        if new.shape.ndims == 0:
            return new
        out = array_ops.where(finished, old, new)
        out.set_shape(old.shape)
        return out

    outputs = [select(z, o) for z, o in zip(flatten(zero_output), flatten(new_output))]
    states = [select(s, n) for s, n in zip(flatten(state), flatten(new_state))]
    return pack_sequence_as(zero_output, outputs), pack_sequence_as(state, states)


def _sequence_length_vector(sequence_length):
    """`sequence_length` as an int32 vector (ValueError for any other rank)."""
    sequence_length = math_ops.cast(_ops.convert_to_tensor(sequence_length, name="sequence_length"), _dt.int32)
    if sequence_length.shape.ndims not in (None, 1):
        raise ValueError("sequence_length must be a vector of length batch_size, but saw shape: "
                         f"{sequence_length.shape}")
    return sequence_length


# ----------------------------------------------------------------------------------------------------------
# static_rnn and its bidirectional and state-saving forms
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.rnn.static_rnn", "nn.static_rnn")
def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """`tf.nn.static_rnn`: the cell unrolled over `inputs`, a list of [batch_size, input_size] tensors (or
    nested structures of them), one per time step. Returns (outputs, state): the list of outputs and the
    final state. With `sequence_length`, steps past a batch entry's length output zeros and copy its state
    through, so the final state is the state at the end of each sequence."""
    assert_like_rnncell("cell", cell)
    if not is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with vs.variable_scope(scope or "rnn") as varscope:
        first = inputs
        while is_sequence(first):
            first = first[0]
        first = _ops.convert_to_tensor(first)
        if first.shape.ndims != 1:
            fixed_batch = first.shape.with_rank_at_least(2)[0]
            for x in flatten(inputs):
                x_shape = _ops.convert_to_tensor(x).shape.with_rank_at_least(2)
                fixed_batch = fixed_batch.merge_with(x_shape[0])
                for i, size in enumerate(x_shape[1:].as_list()):
                    if size is None:
                        raise ValueError(f"Input size (dimension {i} of inputs) must be accessible via shape "
                                         "inference, but saw value None.")
        else:
            fixed_batch = first.shape.with_rank_at_least(1)[0]
        batch_size = fixed_batch.value if fixed_batch.value else array_ops.shape(first)[0]
        state = _initial_state(cell, initial_state, dtype, batch_size,
                               "If no initial_state is provided, dtype must be specified")
        if sequence_length is not None:
            sequence_length = _sequence_length_vector(sequence_length)
            zero_output = _zero_outputs(cell, batch_size, _state_dtype(dtype, state), fixed_batch.value)
        for time, x in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()

            def call_cell(x=x, state=state):
                return cell(x, state)

            if sequence_length is not None:
                output, state = _step_with_lengths(time, sequence_length, zero_output, state, call_cell)
            else:
                output, state = call_cell()
            outputs.append(output)
        return outputs, state


def _reverse_seq(input_seq: list, lengths) -> list:
    """The list of steps reversed, or, with `lengths`, each batch entry's first lengths[b] steps reversed."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_steps = [flatten(x) for x in input_seq]
    flat_results: list[list] = [[] for _ in input_seq]
    for sequence in zip(*flat_steps):
        sequence = [_ops.convert_to_tensor(s) for s in sequence]
        step_shape = _shape.unknown_shape(rank=sequence[0].shape.ndims)
        for s in sequence:
            step_shape = step_shape.merge_with(s.shape)
        joined = array_ops.stack(sequence)
        reversed_steps = array_ops.unstack(array_ops.reverse_sequence(joined, lengths, seq_axis=0, batch_axis=1))
        for r, bucket in zip(reversed_steps, flat_results):
            r.set_shape(step_shape)
            bucket.append(r)
    return [pack_sequence_as(x, flat) for x, flat in zip(input_seq, flat_results)]


@tf_export("contrib.rnn.static_bidirectional_rnn", "nn.static_bidirectional_rnn")
def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None):
    """`tf.nn.static_bidirectional_rnn`: static_rnn forwards (scope `fw`) and over the reversed inputs
    (scope `bw`), in scope `bidirectional_rnn`. Returns (outputs, output_state_fw, output_state_bw) where
    each output is the forward and backward outputs of that step concatenated along axis 1."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                             scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    flat = [array_ops.concat([fw, bw], 1) for fw, bw in zip(flatten(output_fw), flatten(output_bw))]
    return pack_sequence_as(output_fw, flat), state_fw, state_bw


@tf_export("contrib.rnn.static_state_saving_rnn", "nn.static_state_saving_rnn")
def static_state_saving_rnn(cell, inputs, state_saver, state_name, sequence_length=None, scope=None):
    """`tf.nn.static_state_saving_rnn`: static_rnn starting from `state_saver.state(name)` for each name in
    `state_name` (structured like cell.state_size); the final state is saved back with
    `state_saver.save_state(name, value)`, which the last output and the returned state depend on."""
    state_size = cell.state_size
    if is_sequence(state_size) != is_sequence(state_name):
        raise ValueError("state_name should be the same type as cell.state_size.  state_name: "
                         f"{state_name}, cell.state_size: {state_size}")
    names = flatten(state_name)
    if is_sequence(state_size):
        if len(names) != len(flatten(state_size)):
            raise ValueError(f"#elems(state_name) != #elems(state_size): {len(names)} vs. "
                             f"{len(flatten(state_size))}")
        initial_state = pack_sequence_as(state_size, [state_saver.state(n) for n in names])
    else:
        initial_state = state_saver.state(state_name)
    outputs, state = static_rnn(cell, inputs, initial_state=initial_state, sequence_length=sequence_length,
                                scope=scope)
    flat_state = flatten(state)
    saves = [state_saver.save_state(n, s) for n, s in zip(names, flat_state)]
    with _ops.control_dependencies(saves):
        last = outputs[-1]
        outputs[-1] = pack_sequence_as(last, [array_ops.identity(o) for o in flatten(last)])
        state = pack_sequence_as(state, [array_ops.identity(s) for s in flat_state])
    return outputs, state


# ----------------------------------------------------------------------------------------------------------
# dynamic_rnn
# ----------------------------------------------------------------------------------------------------------
def _assert_has_shape(x, shape: list):
    actual = array_ops.shape(x)
    expected = array_ops.stack(shape)
    return control_flow_ops.Assert(
        math_ops.reduce_all(math_ops.equal(actual, expected)),
        [f"Expected shape for Tensor {x.name} is ", expected, " but saw shape: ", actual])


@tf_export("nn.dynamic_rnn")
def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory: bool = False, time_major: bool = False, scope=None):
    """`tf.nn.dynamic_rnn`: runs `cell` over the time axis of `inputs` ([batch, time, depth], or
    [time, batch, depth] if `time_major`; or a nested structure of such tensors) in a tf.while_loop.

    Returns (outputs, state): the outputs of every step stacked in the layout of the inputs, and the final
    state. With `sequence_length` (a [batch] int vector), outputs past a batch entry's length are zeros and
    its state is copied through, so `state` is the state at the end of each sequence; the loop stops at the
    longest length. `swap_memory` and `parallel_iterations` are accepted (steps run one after another).
    """
    assert_like_rnncell("cell", cell)
    with vs.variable_scope(scope or "rnn"):
        flat_input = [_ops.convert_to_tensor(x) for x in flatten(inputs)]
        if not time_major:
            flat_input = [transpose_batch_time(x) for x in flat_input]
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = array_ops.identity(_sequence_length_vector(sequence_length), name="sequence_length")
        batch_size = best_effort_input_batch_size(flat_input)
        state = _initial_state(cell, initial_state, dtype, batch_size,
                               "If there is no initial_state, you must give a dtype.")
        if sequence_length is not None:
            with _ops.control_dependencies([_assert_has_shape(sequence_length, [batch_size])]):
                sequence_length = array_ops.identity(sequence_length, name="CheckSeqLen")
        inputs = pack_sequence_as(inputs, flat_input)
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, parallel_iterations, swap_memory,
                                                 sequence_length, dtype)
        if not time_major:
            outputs = map_structure(transpose_batch_time, outputs)
        return outputs, final_state


def _dynamic_rnn_loop(cell, inputs, initial_state, parallel_iterations: int, swap_memory: bool, sequence_length,
                      dtype):
    """The while loop of dynamic_rnn over time-major `inputs`: returns time-major outputs and the final state."""
    state = initial_state
    flat_input = flatten(inputs)
    flat_output_size = flatten(cell.output_size)
    time_steps = array_ops.shape(flat_input[0])[0]
    batch_size = best_effort_input_batch_size(flat_input)
    got_shapes = [x.shape.with_rank_at_least(3) for x in flat_input]
    const_time_steps, const_batch_size = got_shapes[0].as_list()[:2]
    for s in got_shapes:
        if not s[2:].is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but saw value "
                             "None.")
        if s[0].value != const_time_steps:
            raise ValueError("Time steps is not the same for all the elements in the input in a batch.")
        if s[1].value != const_batch_size:
            raise ValueError("Batch_size is not the same for all the elements in the input.")
    out_dtype = _state_dtype(dtype, state)
    zero_output = _zero_outputs(cell, batch_size, out_dtype, const_batch_size)
    if sequence_length is not None:
        max_sequence_length = math_ops.reduce_max(sequence_length)
    else:
        max_sequence_length = time_steps
    time = constant(0, dtype=_dt.int32, name="time")
    # The arrays are named after a fresh `dynamic_rnn` scope, as TF names them.
    with _ops.name_scope("dynamic_rnn") as base_name:
        pass

    output_ta = tuple(
        tensor_array_ops.TensorArray(
            dtype=out_dtype, size=time_steps, tensor_array_name=f"{base_name}output_{i}",
            element_shape=_shape.TensorShape([const_batch_size]).concatenate(
                _shape.TensorShape(batch_shape(None, size, static=True)[1:])))
        for i, size in enumerate(flat_output_size))
    input_ta = tuple(
        tensor_array_ops.TensorArray(dtype=x.dtype.base_dtype, size=time_steps, element_shape=x.shape[1:],
                                     tensor_array_name=f"{base_name}input_{i}").unstack(x)
        for i, x in enumerate(flat_input))

    def time_step(time, output_ta_t, state):
        step_inputs = []
        for ta, s in zip(input_ta, got_shapes):
            x = ta.read(time)
            x.set_shape(s[1:])
            step_inputs.append(x)
        step_inputs = pack_sequence_as(inputs, step_inputs)

        def call_cell():
            return cell(step_inputs, state)

        if sequence_length is not None:
            output, new_state = _step_with_lengths(time, sequence_length, zero_output, state, call_cell)
        else:
            output, new_state = call_cell()
        output_ta_t = tuple(ta.write(time, out) for ta, out in zip(output_ta_t, flatten(output)))
        return time + 1, output_ta_t, new_state

    # At least one step runs, so the output arrays learn the element shape even for all-zero lengths.
    loop_bound = math_ops.minimum(time_steps, math_ops.maximum(1, max_sequence_length))
    _, final_ta, final_state = control_flow_ops.while_loop(
        lambda time, *_: time < loop_bound, time_step, loop_vars=(time, output_ta, state),
        parallel_iterations=parallel_iterations, maximum_iterations=time_steps, swap_memory=swap_memory)
    final_outputs = []
    for ta, size in zip(final_ta, flat_output_size):
        out = ta.stack()
        out.set_shape([const_time_steps, const_batch_size] + batch_shape(None, size, static=True)[1:])
        final_outputs.append(out)
    return pack_sequence_as(cell.output_size, final_outputs), final_state


@tf_export("nn.bidirectional_dynamic_rnn")
def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None, swap_memory: bool = False,
                              time_major: bool = False, scope=None):
    """`tf.nn.bidirectional_dynamic_rnn`: dynamic_rnn forwards (scope `fw`) and over the inputs reversed in
    time (each sequence within its length; scope `bw`), in scope `bidirectional_rnn`. Returns
    ((output_fw, output_bw), (output_state_fw, output_state_bw)), the backward outputs reversed back."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)

    def reverse(x):
        if sequence_length is not None:
            return array_ops.reverse_sequence(x, sequence_length, seq_axis=time_axis, batch_axis=batch_axis)
        return array_ops.reverse(x, axis=[time_axis])

    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length=sequence_length,
                                              initial_state=initial_state_fw, dtype=dtype,
                                              parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                                              time_major=time_major, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            inputs_reversed = map_structure(reverse, inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, inputs_reversed, sequence_length=sequence_length,
                                        initial_state=initial_state_bw, dtype=dtype,
                                        parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                                        time_major=time_major, scope=bw_scope)
    output_bw = map_structure(reverse, tmp)
    return (output_fw, output_bw), (state_fw, state_bw)


# ----------------------------------------------------------------------------------------------------------
# raw_rnn
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.raw_rnn")
def raw_rnn(cell, loop_fn, parallel_iterations=None, swap_memory: bool = False, scope=None):
    """`tf.nn.raw_rnn`: an RNN whose inputs, stopping and emitted values are chosen step by step by `loop_fn`.

    `loop_fn(time, cell_output, cell_state, loop_state)` returns (finished, next_input, next_cell_state,
    emit_output, next_loop_state); it is called once with cell_output=cell_state=loop_state=None at time 0 for
    the initial input and state (and, as emit_output, the structure of what is emitted, or None for
    cell.output_size). The loop runs until every batch entry is finished; a finished entry emits zeros and
    keeps its state. Returns (emit_ta, final_state, final_loop_state), emit_ta holding TensorArrays.
    """
    assert_like_rnncell("cell", cell)
    if not callable(loop_fn):
        raise TypeError("loop_fn must be a callable")
    parallel_iterations = parallel_iterations or 32
    with vs.variable_scope(scope or "rnn"):
        time = constant(0, dtype=_dt.int32)
        finished, next_input, initial_state, emit_structure, init_loop_state = loop_fn(
            time=time, cell_output=None, cell_state=None, loop_state=None)
        flat_input = [_ops.convert_to_tensor(x) for x in flatten(next_input)]
        next_input = pack_sequence_as(next_input, flat_input)
        loop_state = init_loop_state if init_loop_state is not None else constant(0, dtype=_dt.int32)
        static_batch = _shape.Dimension(None)
        for x in flat_input:
            static_batch = static_batch.merge_with(x.shape.with_rank_at_least(1)[0])
        const_batch_size = static_batch.value
        batch_size = const_batch_size if const_batch_size is not None else array_ops.shape(flat_input[0])[0]
        assert_same_structure(initial_state, cell.state_size)
        state = map_structure(_ops.convert_to_tensor, initial_state)
        flat_state = flatten(state)
        if emit_structure is not None:
            flat_emit = [_ops.convert_to_tensor(e) for e in flatten(emit_structure)]
            # Each emitted tensor's shape for one batch entry (the first call's emit_output has no batch axis).
            flat_emit_size = [e.shape if e.shape.is_fully_defined() else array_ops.shape(e) for e in flat_emit]
            flat_emit_dtypes = [e.dtype.base_dtype for e in flat_emit]
        else:
            emit_structure = cell.output_size
            flat_emit_size = flatten(emit_structure)
            flat_emit_dtypes = [flat_state[0].dtype.base_dtype] * len(flat_emit_size)

        def static_size(size):
            if isinstance(size, _ops.Tensor):
                return _shape.unknown_shape()
            return _shape.TensorShape(batch_shape(None, size, static=True)[1:])

        emit_ta = pack_sequence_as(emit_structure, [
            tensor_array_ops.TensorArray(dtype=d, size=0, dynamic_size=True, name=f"rnn_output_{i}",
                                         element_shape=_shape.TensorShape([const_batch_size]).concatenate(
                                             static_size(size)))
            for i, (d, size) in enumerate(zip(flat_emit_dtypes, flat_emit_size))])
        zero_emit = pack_sequence_as(emit_structure, [
            array_ops.zeros(batch_shape(batch_size, size) if not isinstance(size, _ops.Tensor)
                            else array_ops.concat([array_ops.reshape(batch_size, [1]), size], 0), dtype=d)
            for size, d in zip(flat_emit_size, flat_emit_dtypes)])

        def condition(time, finished, *_):
            return math_ops.logical_not(math_ops.reduce_all(finished))

        def body(time, finished, current_input, emit_ta, state, loop_state):
            output, cell_state = cell(current_input, state)
            assert_same_structure(state, cell_state)
            assert_same_structure(cell.output_size, output)
            next_time = time + 1
            next_finished, next_input, next_state, emit_output, next_loop_state = loop_fn(
                next_time, output, cell_state, loop_state)
            assert_same_structure(state, next_state)
            assert_same_structure(current_input, next_input)
            assert_same_structure(emit_ta, emit_output)
            loop_state = loop_state if next_loop_state is None else next_loop_state

            def keep_finished(current, candidate):
                if isinstance(current, tensor_array_ops.TensorArray):
                    return candidate
                candidate = _ops.convert_to_tensor(candidate)
                if candidate.shape.ndims == 0:
                    return candidate
                return array_ops.where(finished, current, candidate)

            emit_output = pack_sequence_as(emit_output, [
                keep_finished(z, e) for z, e in zip(flatten(zero_emit), flatten(emit_output))])
            next_state = pack_sequence_as(next_state, [
                keep_finished(s, n) for s, n in zip(flatten(state), flatten(next_state))])
            emit_ta = pack_sequence_as(emit_ta, [
                ta.write(time, e) for ta, e in zip(flatten(emit_ta), flatten(emit_output))])
            return (next_time, math_ops.logical_or(finished, next_finished), next_input, emit_ta, next_state,
                    loop_state)

        returned = control_flow_ops.while_loop(
            condition, body, loop_vars=[time, finished, next_input, emit_ta, state, loop_state],
            parallel_iterations=parallel_iterations, swap_memory=swap_memory)
        emit_ta, final_state, final_loop_state = returned[-3:]
        return emit_ta, final_state, (final_loop_state if init_loop_state is not None else None)


# ----------------------------------------------------------------------------------------------------------
# Stacked bidirectional RNNs (tf.contrib.rnn)
# ----------------------------------------------------------------------------------------------------------
def _check_stack_arguments(cells_fw, cells_bw, initial_states_fw, initial_states_bw) -> None:
    if not cells_fw:
        raise ValueError("Must specify at least one fw cell for BidirectionalRNN.")
    if not cells_bw:
        raise ValueError("Must specify at least one bw cell for BidirectionalRNN.")
    if not isinstance(cells_fw, list):
        raise ValueError("cells_fw must be a list of RNNCells (one per layer).")
    if not isinstance(cells_bw, list):
        raise ValueError("cells_bw must be a list of RNNCells (one per layer).")
    if len(cells_fw) != len(cells_bw):
        raise ValueError("Forward and Backward cells must have the same depth.")
    for states, what in ((initial_states_fw, "fw"), (initial_states_bw, "bw")):
        if states is not None and (not isinstance(states, list) or len(states) != len(cells_fw)):
            raise ValueError(f"initial_states_{what} must be a list of state tensors (one per layer).")


@tf_export("contrib.rnn.stack_bidirectional_dynamic_rnn")
def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None, initial_states_bw=None,
                                    dtype=None, sequence_length=None, parallel_iterations=None,
                                    time_major: bool = False, scope=None, swap_memory: bool = False):
    """`tf.contrib.rnn.stack_bidirectional_dynamic_rnn`: layers of bidirectional_dynamic_rnn (scope
    `stack_bidirectional_rnn/cell_k`), each reading the previous layer's forward and backward outputs
    concatenated on the last axis. Returns (outputs, output_states_fw, output_states_bw)."""
    _check_stack_arguments(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
    states_fw, states_bw = [], []
    layer_input = inputs
    with vs.variable_scope(scope or "stack_bidirectional_rnn"):
        for k, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            with vs.variable_scope(f"cell_{k}"):
                outputs, (state_fw, state_bw) = bidirectional_dynamic_rnn(
                    cell_fw, cell_bw, layer_input, sequence_length=sequence_length,
                    initial_state_fw=initial_states_fw[k] if initial_states_fw else None,
                    initial_state_bw=initial_states_bw[k] if initial_states_bw else None, dtype=dtype,
                    parallel_iterations=parallel_iterations, swap_memory=swap_memory, time_major=time_major)
                layer_input = array_ops.concat(outputs, 2)
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return layer_input, tuple(states_fw), tuple(states_bw)


@tf_export("contrib.rnn.stack_bidirectional_rnn")
def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None, initial_states_bw=None, dtype=None,
                            sequence_length=None, scope=None):
    """`tf.contrib.rnn.stack_bidirectional_rnn`: layers of static_bidirectional_rnn (scope
    `stack_bidirectional_rnn/cell_k`) over a list of steps. Returns (outputs, output_states_fw,
    output_states_bw)."""
    _check_stack_arguments(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
    if not inputs:
        raise ValueError("inputs must not be empty")
    states_fw, states_bw = [], []
    layer_input = inputs
    with vs.variable_scope(scope or "stack_bidirectional_rnn"):
        for k, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            with vs.variable_scope(f"cell_{k}") as cell_scope:
                layer_input, state_fw, state_bw = static_bidirectional_rnn(
                    cell_fw, cell_bw, layer_input,
                    initial_state_fw=initial_states_fw[k] if initial_states_fw else None,
                    initial_state_bw=initial_states_bw[k] if initial_states_bw else None,
                    sequence_length=sequence_length, dtype=dtype, scope=cell_scope)
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return layer_input, tuple(states_fw), tuple(states_bw)
