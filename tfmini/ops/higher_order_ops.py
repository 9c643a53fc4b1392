"""Higher-order functions over the first dimension of tensors: tf.foldl, tf.foldr, tf.scan and tf.map_fn,
composites built on tf.while_loop (control_flow_ops) and the nest helpers (functional_ops)."""

from __future__ import annotations

from collections.abc import Sequence

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.constant_op import constant
from tfmini.ops import array_ops
from tfmini.ops.control_flow_ops import while_loop
from tfmini.ops.functional_ops import assert_same_structure, flatten, map_structure, pack_sequence_as


# Built on tf.while_loop. Per-step results are collected by concatenating their flattened values (there is
# no TensorArray), so collecting n results costs O(n^2) copies; the results are reshaped at the end.
class _Collector:
    """Loop state that collects one result per step for each leaf: a flat buffer and the last step's shape."""

    def __init__(self, dtypes: Sequence[_dt.DType]) -> None:
        self.dtypes = list(dtypes)
        self.static_shapes: list[_shape.TensorShape] = [_shape.unknown_shape()] * len(self.dtypes)

    def initial(self) -> list:
        return [array_ops.zeros([0], dtype=d) for d in self.dtypes] + [
            array_ops.zeros([0], dtype=_dt.int32) for _ in self.dtypes]

    def invariants(self) -> list:
        return [_shape.TensorShape([None])] * (2 * len(self.dtypes))

    def add(self, state: list, values: list, prepend: bool) -> list:
        n = len(self.dtypes)
        buffers = []
        for k, (buf, v) in enumerate(zip(state[:n], values)):
            self.static_shapes[k] = v.shape
            flat = array_ops.reshape(v, [-1])
            buffers.append(array_ops.concat([flat, buf] if prepend else [buf, flat], 0))
        return buffers + [array_ops.shape(v) for v in values]

    def stacked(self, state: list, n, n_static) -> list:
        out = []
        count = len(self.dtypes)
        for buf, shape, static in zip(state[:count], state[count:], self.static_shapes):
            if static.is_fully_defined():
                target = array_ops.concat([array_ops.reshape(n, [1]),
                                           constant(static.as_list(), dtype=_dt.int32, shape=[static.ndims])], 0)
            else:
                target = array_ops.concat([array_ops.reshape(n, [1]), shape], 0)
            r = array_ops.reshape(buf, target)
            if static.ndims is not None:
                r.set_shape([n_static] + static.as_list())
            out.append(r)
        return out


def _elements(elems, name: str):
    """The flat list of `elems` as tensors, their count along axis 0 (tensor and static value)."""
    flat = [_ops.convert_to_tensor(e, name="elems") for e in flatten(elems)]
    if not flat:
        raise ValueError(f"{name}: elems must not be empty")
    n_static = flat[0].shape[0].value if flat[0].shape.ndims else None
    n = constant(n_static, dtype=_dt.int32) if n_static is not None else array_ops.shape(flat[0])[0]
    return flat, n, n_static


def _at(flat: list, i) -> list:
    return [array_ops.gather(x, i) for x in flat]


def _fold(fn, elems, initializer, parallel_iterations, back_prop, name, default_name: str, reverse: bool):
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, default_name, flatten(elems)):
        flat, n, _ = _elements(elems, default_name)
        last = n - 1
        if initializer is None:
            a = pack_sequence_as(elems, _at(flat, last if reverse else 0))
            start = n - 2 if reverse else constant(1)
        else:
            a = map_structure(_ops.convert_to_tensor, initializer)
            start = last if reverse else constant(0)

        def cond(i, _):
            return i >= 0 if reverse else i < n

        def body(i, acc):
            out = fn(acc, pack_sequence_as(elems, _at(flat, i)))
            return (i - 1 if reverse else i + 1), out

        return while_loop(cond, body, (start, a), parallel_iterations=parallel_iterations, back_prop=back_prop,
                          return_same_structure=True)[1]


def foldl(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name=None):
    """`tf.foldl`: `a = fn(a, x)` over the elements of `elems` along axis 0, first to last, starting from
    `initializer` (default: the first element)."""
    del swap_memory
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, name, "foldl", reverse=False)


def foldr(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name=None):
    """`tf.foldr`: as foldl, from the last element to the first."""
    del swap_memory
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, name, "foldr", reverse=True)


def scan(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
         swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False, name=None):
    """`tf.scan`: the sequence of `a = fn(a, x)` over `elems` along axis 0, stacked (result i belongs to
    element i); `a` starts at `initializer` or, by default, is the first (last, if `reverse`) element."""
    del swap_memory, infer_shape
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "scan", flatten(elems)):
        flat, n, n_static = _elements(elems, "scan")
        structure = elems if initializer is None else initializer
        if initializer is None:
            a_flat = _at(flat, n - 1 if reverse else 0)
            start = n - 2 if reverse else constant(1)
        else:
            a_flat = [_ops.convert_to_tensor(v) for v in flatten(initializer)]
            start = n - 1 if reverse else constant(0)
        collector = _Collector([t.dtype.base_dtype for t in a_flat])
        state0 = collector.initial()
        if initializer is None:
            state0 = collector.add(state0, a_flat, prepend=reverse)

        def cond(i, a, state):
            return i >= 0 if reverse else i < n

        def body(i, a, state):
            out = fn(pack_sequence_as(structure, a), pack_sequence_as(elems, _at(flat, i)))
            assert_same_structure(structure, out)
            out_flat = [_ops.convert_to_tensor(v) for v in flatten(out)]
            return (i - 1 if reverse else i + 1), out_flat, collector.add(state, out_flat, prepend=reverse)

        invariants = (_shape.TensorShape([]), [t.shape for t in a_flat], collector.invariants())
        _, _, state = while_loop(cond, body, (start, a_flat, state0), shape_invariants=invariants,
                                 parallel_iterations=parallel_iterations, back_prop=back_prop,
                                 return_same_structure=True)
        return pack_sequence_as(structure, collector.stacked(state, n, n_static))


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop: bool = True, swap_memory: bool = False,
           infer_shape: bool = True, name=None):
    """`tf.map_fn`: `fn` applied to each element of `elems` along axis 0, the results stacked. `dtype` gives
    the structure and dtypes of fn's result when they differ from those of `elems`."""
    del swap_memory, infer_shape
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "map", flatten(elems)):
        flat, n, n_static = _elements(elems, "map_fn")
        structure = elems if dtype is None else dtype
        out_dtypes = ([t.dtype.base_dtype for t in flat] if dtype is None
                      else [_dt.as_dtype(d).base_dtype for d in flatten(dtype)])
        collector = _Collector(out_dtypes)

        def cond(i, state):
            return i < n

        def body(i, state):
            out = fn(pack_sequence_as(elems, _at(flat, i)))
            assert_same_structure(structure, out)
            out_flat = [_ops.convert_to_tensor(v) for v in flatten(out)]
            for v, d in zip(out_flat, out_dtypes):
                if v.dtype.base_dtype != d:
                    raise TypeError(f"map_fn: fn returned {v.dtype.base_dtype.name} where dtype says {d.name}; pass "
                                    "dtype= when fn's result differs from elems")
            return i + 1, collector.add(state, out_flat, prepend=False)

        _, state = while_loop(cond, body, (constant(0), collector.initial()),
                              shape_invariants=(_shape.TensorShape([]), collector.invariants()),
                              parallel_iterations=parallel_iterations or 10, back_prop=back_prop,
                              return_same_structure=True)
        return pack_sequence_as(structure, collector.stacked(state, n, n_static))
