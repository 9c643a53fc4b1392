"""Higher-order functions over the first dimension of tensors: tf.foldl, tf.foldr, tf.scan and tf.map_fn,
composites built on tf.while_loop (control_flow_ops), TensorArrays (the elements are unstacked into one, each
step reads its element and writes its result into another: O(n) over n elements) and the nest helpers
(functional_ops)."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.ops import array_ops
from tfmini.ops.control_flow_ops import while_loop
from tfmini.ops.functional_ops import assert_same_structure, flatten, map_structure, pack_sequence_as
from tfmini.ops.tensor_array_ops import TensorArray


def _elements(elems, name: str):
    """The flat list of `elems` as tensors and their common length along axis 0 (a tensor, and the static
    value or None)."""
    flat = [_ops.convert_to_tensor(e, name="elem") for e in flatten(elems)]
    if not flat:
        raise ValueError(f"{name}: elems must not be empty")
    n_static = _shape.Dimension(None)
    for t in flat:
        n_static = n_static.merge_with(t.shape.with_rank_at_least(1)[0])
    n = constant(n_static.value, dtype=_dt.int32) if n_static.value is not None else array_ops.shape(flat[0])[0]
    return flat, n, n_static.value


def _unstacked(flat: list, n) -> list[TensorArray]:
    """One TensorArray per tensor of `flat`, holding its rows (each read once)."""
    return [TensorArray(t.dtype.base_dtype, size=n, dynamic_size=False, infer_shape=True,
                        element_shape=t.shape[1:] if t.shape.ndims is not None else None).unstack(t)
            for t in flat]


def _stacked(arrays, n_static) -> list:
    """The arrays stacked, with the static length along axis 0 where known."""
    out = []
    for ta in arrays:
        r = ta.stack()
        if r.shape.ndims is not None:
            r.set_shape(_shape.TensorShape([n_static]).concatenate(r.shape[1:]))
        out.append(r)
    return out


def _fold(fn, elems, initializer, parallel_iterations, back_prop, name, default_name: str, reverse: bool):
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, default_name, flatten(elems)):
        flat, n, _ = _elements(elems, default_name)
        arrays = pack_sequence_as(elems, _unstacked(flat, n))
        if initializer is None:
            a = map_structure(lambda ta: ta.read(n - 1 if reverse else 0), arrays)
            i = n - 1 if reverse else constant(1)
        else:
            a = map_structure(_ops.convert_to_tensor, initializer)
            i = n if reverse else constant(0)

        def cond(i, _):
            return i > 0 if reverse else i < n

        def body(i, acc):
            if reverse:
                i -= 1
            out = fn(acc, map_structure(lambda ta: ta.read(i), arrays))
            return (i if reverse else i + 1), out

        return while_loop(cond, body, (i, a), parallel_iterations=parallel_iterations, back_prop=back_prop,
                          return_same_structure=True)[1]


@tf_export("foldl")
def foldl(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name=None):
    """`tf.foldl`: `a = fn(a, x)` over the elements of `elems` along axis 0, first to last, starting from
    `initializer` (default: the first element)."""
    del swap_memory
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, name, "foldl", reverse=False)


@tf_export("foldr")
def foldr(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name=None):
    """`tf.foldr`: as foldl, from the last element to the first."""
    del swap_memory
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, name, "foldr", reverse=True)


@tf_export("scan")
def scan(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
         swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False, name=None):
    """`tf.scan`: the sequence of `a = fn(a, x)` over `elems` along axis 0, stacked (result i belongs to
    element i); `a` starts at `initializer` or, by default, is the first (last, if `reverse`) element."""
    del swap_memory
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "scan", flatten(elems)):
        flat, n, n_static = _elements(elems, "scan")
        arrays = _unstacked(flat, n)
        structure = elems if initializer is None else initializer
        first = n - 1 if reverse else 0
        if initializer is None:
            a_flat = [ta.read(first) for ta in arrays]
            start = n - 2 if reverse else constant(1)
        else:
            a_flat = [_ops.convert_to_tensor(v) for v in flatten(initializer)]
            start = n - 1 if reverse else constant(0)
        results = [TensorArray(a.dtype.base_dtype, size=n, dynamic_size=False, infer_shape=infer_shape,
                               element_shape=a.shape if infer_shape else None) for a in a_flat]
        if initializer is None:
            results = [ta.write(first, a) for ta, a in zip(results, a_flat)]

        def cond(i, a, tas):
            return i >= 0 if reverse else i < n

        def body(i, a, tas):
            out = fn(pack_sequence_as(structure, a), pack_sequence_as(elems, [ta.read(i) for ta in arrays]))
            assert_same_structure(structure, out)
            out_flat = [_ops.convert_to_tensor(v) for v in flatten(out)]
            tas = [ta.write(i, v) for ta, v in zip(tas, out_flat)]
            return (i - 1 if reverse else i + 1), out_flat, tas

        _, _, results = while_loop(cond, body, (start, a_flat, results), parallel_iterations=parallel_iterations,
                                   back_prop=back_prop, return_same_structure=True)
        return pack_sequence_as(structure, _stacked(results, n_static))


@tf_export("map_fn")
def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop: bool = True, swap_memory: bool = False,
           infer_shape: bool = True, name=None):
    """`tf.map_fn`: `fn` applied to each element of `elems` along axis 0, the results stacked. `dtype` gives
    the structure and dtypes of fn's result when they differ from those of `elems`."""
    del swap_memory
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with _ops.name_scope(name, "map", flatten(elems)):
        flat, n, n_static = _elements(elems, "map_fn")
        arrays = _unstacked(flat, n)
        structure = elems if dtype is None else dtype
        out_dtypes = ([t.dtype.base_dtype for t in flat] if dtype is None
                      else [_dt.as_dtype(d).base_dtype for d in flatten(dtype)])
        results = [TensorArray(d, size=n, dynamic_size=False, infer_shape=infer_shape) for d in out_dtypes]

        def cond(i, tas):
            return i < n

        def body(i, tas):
            out = fn(pack_sequence_as(elems, [ta.read(i) for ta in arrays]))
            assert_same_structure(structure, out)
            out_flat = [_ops.convert_to_tensor(v) for v in flatten(out)]
            for v, d in zip(out_flat, out_dtypes):
                if v.dtype.base_dtype != d:
                    raise TypeError(f"map_fn: fn returned {v.dtype.base_dtype.name} where dtype says {d.name}; pass "
                                    "dtype= when fn's result differs from elems")
            return i + 1, [ta.write(i, v) for ta, v in zip(tas, out_flat)]

        _, results = while_loop(cond, body, (constant(0), results), parallel_iterations=parallel_iterations or 10,
                                back_prop=back_prop, return_same_structure=True)
        return pack_sequence_as(structure, _stacked(results, n_static))
