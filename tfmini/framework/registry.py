"""The op registry: each op is declared once with its signature, shape function, kernel and gradient, and
`apply_op` does every op's graph bookkeeping (convert inputs, check types, name, infer shapes, add to graph).

Knows the graph layer; knows nothing of sessions or executors.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.numpy_values import to_numpy

REQUIRED = object()


@dataclass(frozen=True)
class ArgSpec:
    """One input or output of an op: `name: T`, `name: N * T`, `name: float32`, `name: Ref(T)` or
    `name: Tlist` (a list(type) attr)."""

    name: str
    type_attr: str | None = None
    fixed_type: _dtypes.DType | None = None
    number_attr: str | None = None
    type_list_attr: str | None = None
    is_ref: bool = False

    @property
    def is_list(self) -> bool:
        return self.number_attr is not None or self.type_list_attr is not None


def _parse_arg(spec: str, type_attrs: set, list_type_attrs: set) -> ArgSpec:
    name, _, typ = (s.strip() for s in spec.partition(":"))
    is_ref = typ.startswith("Ref(") and typ.endswith(")")
    if is_ref:
        typ = typ[4:-1].strip()
    number_attr = None
    if "*" in typ:
        number_attr, _, typ = (s.strip() for s in typ.partition("*"))
    if typ in list_type_attrs:
        return ArgSpec(name, type_list_attr=typ, is_ref=is_ref)
    try:
        fixed = _dtypes.as_dtype(typ)
    except TypeError:
        type_attrs.add(typ)
        return ArgSpec(name, type_attr=typ, number_attr=number_attr, is_ref=is_ref)
    return ArgSpec(name, fixed_type=fixed, number_attr=number_attr, is_ref=is_ref)


@dataclass
class OpDef:
    """Everything the system knows about one op type."""

    name: str
    inputs: list[ArgSpec]
    outputs: list[ArgSpec]
    attrs: dict[str, tuple[str, object]]
    allowed_types: dict[str, tuple]
    shape_fn: Callable | None = None
    kernel: Callable | None = None
    kernel_attrs: tuple[str, ...] = ()
    kernel_wants_ctx: bool = False
    factory: Callable | None = None
    gradient: Callable | None = None
    stateful: bool = False
    ref_inputs: frozenset = field(default_factory=frozenset)
    forwards_refs: bool = False
    single_output: bool = True
    fresh_output: bool = False
    inplace: Callable | None = None
    file_access: Callable | None = None
    doc: str = ""

    def kernel_call(self, op: _ops.Operation, ctx) -> tuple[Callable, dict]:
        """`(fn, kwargs)`: the executor runs `op` as `fn(*inputs, **kwargs)`.

        `kwargs` holds the attrs the kernel declares as keyword-only parameters (and `ctx`, the session state,
        if it asks for it), resolved once per compiled plan; a `factory` returns a ready callable instead.
        Raises PermissionDeniedError for an op that would touch a file although it came from a graph
        imported without `allow_file_access`.
        """
        if self.file_access is not None and op in _FILE_ACCESS_DENIED:
            what = self.file_access(op)
            if what is not None:
                raise _errors.PermissionDeniedError(
                    None, op,
                    f"{self.name} op '{op.name}' would access {what}, but it was imported from a "
                    "GraphDef, and imported graphs may not touch the file system unless asked to. If you trust "
                    "that GraphDef, import it with tf.import_graph_def(graph_def, allow_file_access=True).",
                )
        if self.factory is not None:
            return self.factory(op, ctx), {}
        if self.kernel is None:
            raise NotImplementedError(f"Op type '{self.name}' has no kernel.")
        kwargs = {k: op._attrs[k] for k in self.kernel_attrs}
        if self.kernel_wants_ctx:
            kwargs["ctx"] = ctx
        return self.kernel, kwargs


# Ops created by importing a GraphDef without `allow_file_access`: kernel_call refuses to build their kernels
# when they would touch a file. Kept beside the ops rather than in their attrs, which a GraphDef could set.
_FILE_ACCESS_DENIED: weakref.WeakSet = weakref.WeakSet()


def deny_file_access(op: _ops.Operation) -> None:
    """Marks `op` (imported from an untrusted GraphDef) as not allowed to touch the file system when run."""
    _FILE_ACCESS_DENIED.add(op)


# Fetched values of some op types reach the user wrapped (GetSessionHandle -> TensorHandle): op type ->
# `wrap(session, tensor, value)`. The op library fills this table and the session reads it, so neither
# layer imports the other.
FETCH_WRAPPERS: dict[str, Callable] = {}


def register_fetch_wrapper(op_type: str, wrap: Callable) -> None:
    """`wrap(session, tensor, value)` turns fetched values of `op_type` into a richer object."""
    FETCH_WRAPPERS[op_type] = wrap


_REGISTRY: dict[str, OpDef] = {}
_GRADIENTS: dict[str, Callable | None] = {}


def get_op_def(op_type: str) -> OpDef:
    try:
        return _REGISTRY[op_type]
    except KeyError:
        raise KeyError(f"Op type not registered '{op_type}'.") from None


def register_op(
    name: str,
    *,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    attrs: dict | None = None,
    allowed: dict | None = None,
    shape: Callable | None = None,
    stateful: bool = False,
    factory: Callable | None = None,
    forwards_refs: bool = False,
    fresh_output: bool = False,
    inplace: Callable | None = None,
    file_access: Callable | None = None,
    doc: str = "",
) -> Callable:
    """Declares an op; used as a decorator on its NumPy kernel (or bare, with `factory`).

    `attrs` maps attr name to (kind, default) with kind in TF's attr kinds ('int', 'float', 'bool', 'string',
    'type', 'shape', 'tensor', 'list(int)', ...); type attrs named in the input/output specs are added
    automatically. `allowed` maps a type attr to the DTypes it may take. `shape(op)` returns the output
    TensorShapes. The kernel receives the input arrays positionally and the attrs it names as keyword-only
    parameters (plus `ctx`, the run's kernel context, if it asks for it). With `forwards_refs` the kernel gets
    ref-typed inputs undereferenced (functional ops hand variables' storage on to their bodies).

    Memory reuse: `fresh_output` promises the kernel's outputs are newly allocated arrays (never views of its
    inputs or of anything else); `inplace(op)` may return a variant of the kernel that writes its output into
    input 0 (same shape and dtype as the output), or None. The executor uses the variant only when input 0
    is a fresh value that nothing else reads afterwards.

    Side effects outside the session: `file_access(op)` says what running `op` would open ("the file
    '/tmp/x'", or a description when the path is a run-time input), or None when this op, given its attrs,
    touches no file. Every op that may touch the file system or the network
    declares it, so graphs imported from untrusted GraphDefs can be kept from doing so.
    """
    attrs = dict(attrs or {})
    list_type_attrs = {k for k, (kind, _) in attrs.items() if kind == "list(type)"}
    type_attrs: set[str] = set()
    in_specs = [_parse_arg(s, type_attrs, list_type_attrs) for s in inputs]
    out_specs = [_parse_arg(s, type_attrs, list_type_attrs) for s in outputs]
    for t in sorted(type_attrs):
        attrs.setdefault(t, ("type", REQUIRED))
    for spec in in_specs + out_specs:
        if spec.number_attr:
            attrs.setdefault(spec.number_attr, ("int", REQUIRED))
    opdef = OpDef(
        name=name,
        inputs=in_specs,
        outputs=out_specs,
        attrs=attrs,
        allowed_types={k: tuple(v) for k, v in (allowed or {}).items()},
        shape_fn=shape,
        stateful=stateful,
        factory=factory,
        ref_inputs=frozenset(i for i, s in enumerate(in_specs) if s.is_ref),
        forwards_refs=forwards_refs,
        fresh_output=fresh_output,
        inplace=inplace,
        file_access=file_access,
        single_output=len(out_specs) == 1 and not out_specs[0].is_list,
        doc=doc,
    )
    if name in _REGISTRY:
        raise KeyError(f"Op type '{name}' is registered twice.")
    _REGISTRY[name] = opdef

    def decorate(kernel: Callable) -> Callable:
        try:
            params = list(inspect.signature(kernel).parameters.values())
        except ValueError:  # some builtins have no signature: they take inputs only
            params = []
        kw = [p for p in params if p.kind is p.KEYWORD_ONLY]
        opdef.kernel = kernel
        opdef.kernel_wants_ctx = any(p.name == "ctx" for p in kw)
        opdef.kernel_attrs = tuple(p.name for p in kw if p.name in attrs)
        unknown = [p.name for p in kw if p.name not in attrs and p.name != "ctx" and p.default is p.empty]
        if unknown:
            raise TypeError(f"Kernel of '{name}' asks for undeclared attrs {sorted(unknown)}")
        opdef.doc = opdef.doc or (kernel.__doc__ or "")
        return kernel

    return decorate


@dataclass(frozen=True)
class ImportAttr:
    """An attr TensorFlow's op def has and tfmini's does not: what a GraphDef import does with it.

    The attr is dropped on import when it holds `default` (TF's default, so the op means what tfmini computes);
    a `hint` (such as MatMul's `grad_a`, which only tells kernels a product is a gradient) is dropped whatever
    it holds. Any other value changes the op's meaning and is refused, naming the node and the attr."""

    kind: str
    default: object
    hint: bool = False


# op type -> attr name -> ImportAttr, filled beside each op by `import_only_attr`.
_IMPORT_ATTRS: dict[str, dict[str, ImportAttr]] = {}


def import_only_attr(op_types: str | Sequence[str], attr: str, kind: str, default, *, hint: bool = False) -> None:
    """Declares that GraphDefs written by TensorFlow give `op_types` the attr `attr` (of TF attr kind `kind`,
    TF default `default`), which tfmini's op does not have: an import drops it when it holds the default (or
    always, for a `hint`), as TF's importer drops attrs unknown to an older consumer, and refuses other values."""
    for op_type in [op_types] if isinstance(op_types, str) else op_types:
        table = _IMPORT_ATTRS.setdefault(op_type, {})
        if attr in table or (op_type in _REGISTRY and attr in _REGISTRY[op_type].attrs):
            raise KeyError(f"Attr '{attr}' of op type '{op_type}' is declared twice.")
        table[attr] = ImportAttr(kind, default, hint)


def import_attrs(op_type: str) -> dict[str, ImportAttr]:
    """The attrs TensorFlow gives `op_type` beyond tfmini's op def (see `import_only_attr`)."""
    return _IMPORT_ATTRS.get(op_type, {})


@tf_export("RegisterGradient")
class RegisterGradient:
    """Decorator registering the gradient function of an op type: `fn(op, *output_grads) -> input grads`."""

    def __init__(self, op_type: str) -> None:
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn: Callable) -> Callable:
        if self._op_type in _GRADIENTS:
            raise KeyError(f"Registering two gradient with name '{self._op_type}'!")
        _GRADIENTS[self._op_type] = fn
        if self._op_type in _REGISTRY:
            _REGISTRY[self._op_type].gradient = fn
        return fn


@tf_export("NoGradient", "NotDifferentiable", "no_gradient")
def NotDifferentiable(op_type: str) -> None:  # noqa: N802 - TF's public name
    """Declares that `op_type` has no gradient (tf.gradients gives None through it without complaint)."""
    if op_type in _GRADIENTS:
        raise KeyError(f"Registering two gradient with name '{op_type}'!")
    _GRADIENTS[op_type] = None


NoGradient = NotDifferentiable


def get_gradient_function(op: _ops.Operation) -> Callable | None:
    """The gradient function for `op` (honouring the gradient_override_map it was created under); raises
    LookupError if none is registered, returns None for ops declared not differentiable."""
    op_type = op._attrs.get("_gradient_op_type", op.type)
    if op_type not in _GRADIENTS:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op_type})")
    return _GRADIENTS[op_type]


# ----------------------------------------------------------------------------------------------------------
# apply_op: the one function that adds any op to a graph
# ----------------------------------------------------------------------------------------------------------
def _type_list_str(types) -> str:
    return ", ".join(t.name for t in types)


def _input_graph(values) -> _ops.Graph:
    default = _ops.get_default_graph()
    if default.building_function:
        # Inside a function body, outer tensors are captured into the function graph.
        return default
    return _ops._graph_from_values(values)


def apply_op(op_type: str, inputs: Sequence = (), attrs: dict | None = None, name: str | None = None,
             control_inputs: Sequence = ()) -> _ops.Operation:
    """Creates an op of `op_type` in the graph of its inputs (or the default graph) and returns it.

    `inputs` has one entry per input spec: a Tensor-convertible value, or a list of them for list inputs.
    Raises TypeError when input dtypes disagree with the op's signature, as TensorFlow does.
    """
    opdef = get_op_def(op_type)
    attrs = dict(attrs or {})
    if len(inputs) != len(opdef.inputs):
        raise TypeError(f"{op_type} takes {len(opdef.inputs)} inputs, got {len(inputs)}")
    graph = _input_graph(inputs)
    graph._check_not_finalized()
    if name and name.endswith("/"):
        op_name = name[:-1]  # a scope name given as the op name: used exactly, as in TF
    else:
        op_name = graph.unique_name(name if name else op_type)
    if not _ops.op_name_is_valid(op_name):
        raise ValueError(f"'{op_name}' is not a valid node name")
    with graph.as_default():
        if all(isinstance(v, _ops.Tensor) for v in inputs):
            converted = _convert_inputs(opdef, inputs, attrs)
        else:
            # As in TF, values converted for an op are named after its input under the op's scope ('add/y').
            with graph.name_scope(op_name + "/"):
                converted = _convert_inputs(opdef, inputs, attrs)
    _complete_attrs(opdef, attrs)
    output_dtypes = []
    for spec in opdef.outputs:
        dts = _spec_dtypes(spec, attrs)
        output_dtypes.extend(d._as_ref if spec.is_ref else d for d in dts)

    flat_inputs = [t for c in converted for t in (c if isinstance(c, list) else [c])]
    input_ops = {t.op for t in flat_inputs}
    controls = graph._current_control_inputs(input_ops)
    for c in control_inputs:
        c = c.op if isinstance(c, _ops.Tensor) else c
        if c not in controls:
            controls.append(c)
    override = graph._gradient_override_map.get(op_type)
    if override is not None:  # recorded on the op, as in TF: the map applies to ops created under it
        attrs["_gradient_op_type"] = override
    op = _ops.Operation(
        graph, op_name, op_type, opdef, flat_inputs, output_dtypes, attrs, controls,
        graph._current_device(op_name, op_type), _ops.user_call_site(),
    )
    if opdef.shape_fn is not None:
        _infer_output_shapes(op)
    graph._add_op(op)
    return op


def _complete_attrs(opdef: OpDef, attrs: dict) -> None:
    """Fills in attr defaults, normalizes type and shape attrs, and checks type attrs against the allowed
    dtypes (TF's TypeErrors)."""
    for k, (kind, default) in opdef.attrs.items():
        if k not in attrs:
            if default is REQUIRED:
                raise TypeError(f"Missing required attr '{k}' of op '{opdef.name}'.")
            attrs[k] = default
        elif kind == "type":
            attrs[k] = _attr_dtype(k, attrs[k], keep_ref=(opdef.name, k) in _REF_TYPE_ATTRS)
        elif kind == "list(type)":
            if not isinstance(attrs[k], (list, tuple)):
                raise TypeError(f"Expected list for attr {k}")
            attrs[k] = [_attr_dtype(k, t) for t in attrs[k]]
        elif kind == "shape":
            attrs[k] = _shape.as_shape(attrs[k])
    for k, minimum in _ATTR_MINIMUMS.get(opdef.name, {}).items():
        _check_minimum(opdef, k, attrs[k], minimum)
    for k, allowed in opdef.allowed_types.items():
        t = attrs.get(k)
        if isinstance(t, list):  # a list(type) attr: every dtype it lists must be allowed
            bad = next((d for d in t if isinstance(d, _dtypes.DType) and d.base_dtype not in allowed), None)
            if bad is not None:
                raise TypeError(f"Value for attr '{k}' of {bad.base_dtype.name} is not in the list of allowed "
                                f"values: {_type_list_str(allowed)}")
            continue
        if isinstance(t, _dtypes.DType) and t.base_dtype not in allowed:
            arg = next((s.name for s in opdef.inputs if s.type_attr == k), k)
            raise TypeError(
                f"Value passed to parameter '{arg}' has DataType {t.base_dtype.name} not in list of allowed "
                f"values: {_type_list_str(allowed)}"
            )


_ATTR_MINIMUMS: dict[str, dict[str, int]] = {}


def attr_minimum(op_type: str, attr: str, minimum: int) -> None:
    """Declares that int attr `attr` of `op_type` is at least `minimum` (TF's `int >= n` attrs), which
    apply_op checks before any shape function divides by it or counts with it."""
    _ATTR_MINIMUMS.setdefault(op_type, {})[attr] = minimum


def _check_minimum(opdef: OpDef, attr: str, value: int, minimum: int) -> None:
    if value >= minimum:
        return
    listed = next((s.name for s in opdef.inputs if s.number_attr == attr), None)
    if listed is not None:
        raise ValueError(f"List argument '{listed}' to '{opdef.name}' Op with length {value} shorter than "
                         f"minimum length {minimum}.")
    raise ValueError(f"Attr '{attr}' of '{opdef.name}' Op passed {value} less than minimum {minimum}.")


_REF_TYPE_ATTRS: set[tuple[str, str]] = set()


def keep_ref_type_attr(op_type: str, attr: str) -> None:
    """Lets type attr `attr` of `op_type` hold a ref dtype (every other type attr holds base dtypes only): for
    an op whose kernel hands on a ref it is given, such as the placeholder standing for a variable captured
    into a function body."""
    _REF_TYPE_ATTRS.add((op_type, attr))


def _attr_dtype(attr: str, value, keep_ref: bool = False) -> _dtypes.DType:
    """The DType a type attr holds: as in TF, a ref dtype stands for its base dtype (no kernel makes a ref
    out of an attr), and anything that is no dtype is a TypeError naming the attr."""
    try:
        dtype = _dtypes.as_dtype(value)
    except TypeError:
        raise TypeError(f"Expected DataType for argument '{attr}' not {value!r}.") from None
    return dtype if keep_ref else dtype.base_dtype


def _infer_output_shapes(op: _ops.Operation) -> None:
    """Sets the static shapes the op's shape function infers; its errors become TF's build-time ValueError
    naming the op and its input shapes."""
    try:
        shapes = op._opdef.shape_fn(op)
    except (ValueError, _errors.InvalidArgumentError) as e:
        in_shapes = ", ".join(_shape.dims_str(t.shape) for t in op._inputs)
        raise ValueError(f"{e} for '{op._name}' (op: '{op._type}') with input shapes: {in_shapes}.") from None
    if op._opdef.single_output:
        shapes = [shapes]
    for t, s in zip(op._outputs, shapes):
        if s is not None:
            t._shape = _shape.as_shape(s)


def _spec_dtypes(spec: ArgSpec, attrs: dict) -> list[_dtypes.DType]:
    if spec.type_list_attr:
        return [_dtypes.as_dtype(t) for t in attrs[spec.type_list_attr]]
    dt = spec.fixed_type if spec.fixed_type is not None else _dtypes.as_dtype(attrs[spec.type_attr])
    n = attrs[spec.number_attr] if spec.number_attr else None
    return [dt] * n if n is not None else [dt]


def _known_type_of(v):
    if isinstance(v, _ops.Tensor):
        return v.dtype.base_dtype
    dtype = getattr(v, "dtype", None)
    if isinstance(dtype, _dtypes.DType) and hasattr(v, "_as_graph_element"):
        return dtype.base_dtype
    return None


def _convert_inputs(opdef: OpDef, inputs: Sequence, attrs: dict) -> list:
    # `inferred_from` maps a type attr to the input that fixed it, the argument TF's mismatch errors name.
    inferred_from: dict[str, str] = {}
    # First pass: type attrs fixed by inputs that already are graph values, so literals convert to them.
    for spec, value in zip(opdef.inputs, inputs):
        if spec.type_attr and spec.type_attr not in attrs:
            items = value if spec.number_attr and isinstance(value, (list, tuple)) else [value]
            for item in items:
                t = _known_type_of(item)
                if t is not None:
                    attrs[spec.type_attr] = t
                    inferred_from[spec.type_attr] = spec.name
                    break
    converted: list = []
    for spec, value in zip(opdef.inputs, inputs):
        if spec.is_list:
            if not isinstance(value, (list, tuple)):
                raise TypeError(
                    f"Expected list for '{spec.name}' argument to '{opdef.name}' Op, not {value!r}."
                )
            if spec.number_attr:
                attrs.setdefault(spec.number_attr, len(value))
                if attrs[spec.number_attr] != len(value):
                    raise ValueError(
                        f"List argument '{spec.name}' to '{opdef.name}' Op with length {len(value)} does not "
                        f"match attr {spec.number_attr}={attrs[spec.number_attr]}"
                    )
                minimum = _ATTR_MINIMUMS.get(opdef.name, {}).get(spec.number_attr)
                if minimum is not None:  # as in TF, a list too short says so before its dtypes are looked at
                    _check_minimum(opdef, spec.number_attr, len(value), minimum)
            tensors = _convert_list(opdef, spec, value, attrs, inferred_from)
            if spec.type_list_attr and spec.type_list_attr not in attrs:
                attrs[spec.type_list_attr] = [t.dtype.base_dtype for t in tensors]
            converted.append(tensors)
        else:
            converted.append(_convert_one(opdef, spec, value, attrs, inferred_from))
    return converted


def _convert_list(opdef: OpDef, spec: ArgSpec, values: Sequence, attrs: dict,
                  inferred_from: dict) -> list[_ops.Tensor]:
    """Converts the values of list input `spec`; values that do not convert, or whose dtypes disagree where
    they share a type attr, are TF's TypeError listing every value's dtype."""
    try:
        tensors = [_convert_one(opdef, spec, v, attrs, inferred_from, name=f"{spec.name}_{i}")
                   for i, v in enumerate(values)]
    except (TypeError, ValueError):
        if spec.is_ref:  # a list of variables: the error about the value that is none says more
            raise
        tensors = None
    if tensors is not None:
        if not spec.number_attr or len({t.dtype.base_dtype for t in tensors}) <= 1:
            return tensors
    observed = ", ".join(_observed_type_name(v) for v in values)
    prefix = f"Tensors in list passed to '{spec.name}' of '{opdef.name}' Op have types [{observed}]"
    if not spec.number_attr:
        raise TypeError(f"{prefix} that are invalid. Tensors: {list(values)!r}")
    raise TypeError(f"{prefix} that don't all match.")


_NOT_CONVERTIBLE = "<NOT CONVERTIBLE TO TENSOR>"


def _observed_type_name(value) -> str:
    """The dtype name `value` converts to on its own (without adding anything to a graph), for errors."""
    known = _known_type_of(value)
    if known is not None:
        return known.name
    if isinstance(value, _ops.Operation) or hasattr(value, "_as_graph_element"):
        return _NOT_CONVERTIBLE
    try:
        return _dtypes.as_dtype(to_numpy(value).dtype).name
    except (TypeError, ValueError):
        return _NOT_CONVERTIBLE


def _ref_error(opdef: OpDef, spec: ArgSpec) -> TypeError:
    return TypeError(
        f"'{opdef.name}' Op requires that input '{spec.name}' be a mutable tensor (e.g.: a tf.Variable)"
    )


def _convert_one(opdef: OpDef, spec: ArgSpec, value, attrs: dict, inferred_from: dict,
                 name: str | None = None) -> _ops.Tensor:
    want = spec.fixed_type
    if spec.type_attr and spec.type_attr in attrs:
        want = _dtypes.as_dtype(attrs[spec.type_attr])
    try:
        t = _ops.convert_to_tensor(value, dtype=want if not isinstance(value, _ops.Tensor) else None,
                                   name=name or spec.name, as_ref=spec.is_ref)
    except TypeError as e:
        if want is not None and not isinstance(value, _ops.Tensor):
            raise TypeError(
                f"Expected {want.name} passed to parameter '{spec.name}' of op '{opdef.name}', got {value!r} of "
                f"type '{type(value).__name__}' instead. Error: {e}"
            ) from None
        raise
    except ValueError:
        # As in TF: a value that converts without the wanted dtype is a type mismatch (TypeError), one that
        # does not convert at all (None, ragged lists) is a ValueError.
        try:
            got = _ops.convert_to_tensor(value, as_ref=spec.is_ref).dtype.base_dtype
        except (TypeError, ValueError) as err:
            raise ValueError(f"Tried to convert '{spec.name}' to a tensor and failed. Error: {err}") from None
        raise _dtype_mismatch(opdef, spec, got, want, inferred_from) from None
    graph = _ops.get_default_graph()
    if graph.building_function and t.graph is not graph and graph.is_ancestor(t.graph):
        t = graph.capture(t)
    if spec.is_ref and not t.dtype.is_ref:
        raise _ref_error(opdef, spec)
    got = t.dtype.base_dtype
    if want is not None and got != want.base_dtype:
        raise _dtype_mismatch(opdef, spec, got, want, inferred_from)
    if spec.type_attr and spec.type_attr not in attrs:
        attrs[spec.type_attr] = got
        inferred_from[spec.type_attr] = spec.name
    return t


def _dtype_mismatch(opdef: OpDef, spec: ArgSpec, got: _dtypes.DType, want: _dtypes.DType,
                    inferred_from: dict) -> TypeError:
    if spec.type_attr:
        source = inferred_from.get(spec.type_attr)
        if source is None:  # the attr was given, not inferred: name the first input it types
            source = next(s.name for s in opdef.inputs if s.type_attr == spec.type_attr)
        return TypeError(
            f"Input '{spec.name}' of '{opdef.name}' Op has type {got.name} that does not match type "
            f"{want.base_dtype.name} of argument '{source}'."
        )
    return TypeError(
        f"Input '{spec.name}' of '{opdef.name}' Op has type {got.name} that does not match expected type of "
        f"{want.name}."
    )


# ----------------------------------------------------------------------------------------------------------
# Static values, for shape functions and constant folding at graph-construction time
# ----------------------------------------------------------------------------------------------------------
_STATIC_VALUE_FNS: dict[str, Callable] = {}


def register_static_value(op_type: str) -> Callable:
    """Registers how to compute an op's output value from static input values at graph-construction time."""

    def decorate(fn: Callable) -> Callable:
        _STATIC_VALUE_FNS[op_type] = fn
        return fn

    return decorate


def constant_value(tensor: _ops.Tensor):
    """The value of `tensor` if it can be known without running the graph, else None."""
    if not isinstance(tensor, _ops.Tensor):
        return None
    fn = _STATIC_VALUE_FNS.get(tensor.op.type)
    if fn is None:
        return None
    try:
        return fn(tensor)
    except Exception:  # noqa: BLE001 - a static value is only a hint; failure means "unknown"
        return None


def constant_value_as_shape(tensor: _ops.Tensor) -> _shape.TensorShape:
    """The TensorShape that a 1-D shape tensor denotes, with unknown dims where it can't be known."""
    value = constant_value(tensor)
    if value is not None:
        return _shape.TensorShape([None if d == -1 else int(d) for d in np.reshape(value, [-1])])
    fn = _STATIC_SHAPE_FNS.get(tensor.op.type)
    if fn is not None:
        try:
            known = fn(tensor)
        except Exception:  # noqa: BLE001 - as for static values: failure means "unknown"
            known = None
        if known is not None:
            return _shape.as_shape(known)
    n = tensor.shape[0].value if tensor.shape.ndims == 1 else None
    return _shape.unknown_shape(n)


_STATIC_SHAPE_FNS: dict[str, Callable] = {}


def register_static_shape(op_type: str) -> Callable:
    """Registers how to read the partially known shape that a 1-D shape tensor made by `op_type` denotes
    (e.g. Shape of a partly known tensor, Pack of some constants), for `constant_value_as_shape`."""

    def decorate(fn: Callable) -> Callable:
        _STATIC_SHAPE_FNS[op_type] = fn
        return fn

    return decorate
