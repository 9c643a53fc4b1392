"""Every op tfmini registers has TensorFlow's signature: input and output args (names, fixed types or type attrs,
number and type-list attrs, ref-ness), attrs (names, kinds, defaults) and allowed dtypes, compared with the OpDefs
recorded from TensorFlow by tools/tf_fixtures/gen_op_defs.py (tests/fixtures/tf/op_defs/op_defs.pb).

Attrs only TensorFlow has must be declared with `registry.import_only_attr` (an import drops them at TF's default),
and their kinds and defaults must be TF's. Differences that remain are listed in KNOWN with the reason; the test
fails when a listed difference goes away too, so the list stays exact.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import tfmini  # noqa: F401 - registers every op
from tfmini.framework import dtypes, registry
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.node_def import python_attr_of
from tfmini.protobuf import op_def_pb2

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "op_defs")

# Op types tfmini has and TensorFlow does not, and why.
TFMINI_ONLY = {
    "TapeRead": "reads a value a functional If/While recorded on its tape for the gradient (tfmini's control-flow "
                "gradients; TF keeps such values in accumulators of its own)",
    "WhileGrad": "the gradient of a functional While, run over the loop's tape",
    "PyGeneratorDataset": "Dataset.from_generator as one op (TF builds it from a py_func inside a "
                          "FlatMapDataset)",
    "DatasetWeightedChoice": "the draw of sample_from_datasets (TF draws in a MapDataset over RandomDataset)",
    "SparseTensorToDatasetVariant": "a SparseTensor as one dataset component (TF stores it as a variant "
                                    "through SerializeSparse)",
    "SparseTensorToDatasetRows": "the rows of a SparseTensor as dataset elements (TF slices serialized "
                                 "sparse tensors)",
    "DatasetVariantToSparseTensor": "the inverse of SparseTensorToDatasetVariant",
}

_WIDER_TYPES = "tfmini's kernel also computes these dtypes, which TF's op does not register"
_TAPE = ("tfmini's functional ops have one more output, the tape of the body values their gradient reads: it has "
         "to be a tensor so that an enclosing loop or cond body can record it in turn (gradients of nested control "
         "flow). as_graph_def writes TF's signature: a NodeDef names no outputs, its _output_shapes drop the tape, "
         "and a gradient that reads a tape is written with TF's optionals or TensorArrays instead (but for the "
         "gradients of control flow nested in a differentiated body: see graph_export)")
_WHILE_ATTRS = ("; tfmini's While also tells its loop variables (Tout) from the captured tensors after them and "
                "can skip recording (back_prop): as_graph_def writes the captures as loop variables the body passes "
                "through and drops both attrs, as TF's While has neither")

# op type -> (reason, the exact differences `_differences` finds).
KNOWN: dict[str, tuple[str, set[str]]] = {
    "Add": (_WIDER_TYPES + " (tf.add and + on uint16/32/64 tensors, which tfmini computes with Add)", {
        "attr T: allows ['uint16', 'uint32', 'uint64'], which TF's does not",
    }),
    "If": (_TAPE, {
        "output 1: tape: variant, TF's is none",
    }),
    "StatelessIf": (_TAPE, {
        "output 1: tape: variant, TF's is none",
    }),
    "StatelessWhile": (_TAPE + _WHILE_ATTRS, {
        "attr Tout: only in tfmini's op",
        "attr back_prop: only in tfmini's op",
        "output 1: tape: variant, TF's is none",
    }),
    "While": (_TAPE + _WHILE_ATTRS, {
        "attr Tout: only in tfmini's op",
        "attr back_prop: only in tfmini's op",
        "output 1: tape: variant, TF's is none",
    }),
}


def _tf_op_defs() -> dict:
    ops = op_def_pb2.OpList()
    with open(os.path.join(FIXTURES, "op_defs.pb"), "rb") as f:
        ops.ParseFromString(f.read())
    return {od.name: od for od in ops.op}


def _tfmini_op_types() -> set[str]:
    """The op types tfmini itself registers, read in a fresh interpreter: other test modules register ops of
    their own into this process's registry."""
    code = "import tfmini\nfrom tfmini.framework import registry\nprint('\\n'.join(sorted(registry._REGISTRY)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


TF_OPS = _tf_op_defs()
TFMINI_OPS = _tfmini_op_types()
_KNOWN_ENUMS = {}
for _enum in range(1, 100):  # the DataType enums of values (100 and up are their ref types)
    try:
        _KNOWN_ENUMS[_enum] = dtypes.as_dtype(_enum).name
    except TypeError:
        pass
_ALL_TYPES = frozenset(_KNOWN_ENUMS.values())


def _arg_text(name: str, fixed: str | None, type_attr: str | None, number_attr: str | None,
              type_list_attr: str | None, is_ref: bool) -> str:
    """An arg as register_op spells it: `x: T`, `xs: N * T`, `x: float32`, `ref: Ref(T)`, `xs: Tlist`."""
    typ = type_list_attr or fixed or type_attr
    if number_attr:
        typ = f"{number_attr} * {typ}"
    return f"{name}: Ref({typ})" if is_ref else f"{name}: {typ}"


def _tf_arg(arg) -> str:
    fixed = _KNOWN_ENUMS.get(arg.type, str(arg.type)) if arg.type else None
    return _arg_text(arg.name, fixed, arg.type_attr or None, arg.number_attr or None, arg.type_list_attr or None,
                     arg.is_ref)


def _tfmini_arg(arg: registry.ArgSpec) -> str:
    fixed = arg.fixed_type.name if arg.fixed_type is not None else None
    return _arg_text(arg.name, fixed, arg.type_attr, arg.number_attr, arg.type_list_attr, arg.is_ref)


def _same_value(kind: str, tf_value, ours) -> bool:
    """Whether a TF default (decoded) equals tfmini's default of attr kind `kind`."""
    if kind == "type":
        return tf_value == dtypes.as_dtype(ours)
    if kind == "list(type)":
        return list(tf_value) == [dtypes.as_dtype(t) for t in ours]
    if kind == "shape":
        return tf_value.as_proto() == _shape.as_shape(ours).as_proto()
    if kind == "list(shape)":
        return [s.as_proto() for s in tf_value] == [_shape.as_shape(s).as_proto() for s in ours]
    if kind in ("float", "list(float)"):  # TF keeps floats as float32
        return np.array_equal(np.float32(tf_value), np.float32(ours))
    if kind == "tensor":
        return np.array_equal(tf_value, np.asarray(ours))
    return tf_value == ours


def _attr_differences(name: str, tf_attr, kind: str, default) -> list[str]:
    out = []
    if kind != tf_attr.type:
        return [f"attr {name}: kind {kind}, TF's is {tf_attr.type}"]
    has_tf_default = tf_attr.HasField("default_value")
    if has_tf_default and default is registry.REQUIRED:
        out.append(f"attr {name}: required, TF's has a default")
    elif not has_tf_default and default is not registry.REQUIRED:
        out.append(f"attr {name}: has a default, TF requires it")
    elif has_tf_default and kind != "func":
        tf_default = python_attr_of(kind, tf_attr.default_value)
        if not _same_value(kind, tf_default, default):
            out.append(f"attr {name}: default {default!r}, TF's is {tf_default!r}")
    return out


def _differences(op_type: str) -> set[str]:
    """How tfmini's op def of `op_type` differs from TensorFlow's, one line per difference."""
    ours, theirs = registry.get_op_def(op_type), TF_OPS[op_type]
    out = set()
    for which, tf_args, our_args in (("input", theirs.input_arg, ours.inputs),
                                     ("output", theirs.output_arg, ours.outputs)):
        tf_sig, our_sig = [_tf_arg(a) for a in tf_args], [_tfmini_arg(a) for a in our_args]
        for i in range(max(len(tf_sig), len(our_sig))):
            mine = our_sig[i] if i < len(our_sig) else "none"
            tfs = tf_sig[i] if i < len(tf_sig) else "none"
            if mine != tfs:
                out.add(f"{which} {i}: {mine}, TF's is {tfs}")
    tf_attrs = {a.name: a for a in theirs.attr}
    extra = registry.import_attrs(op_type)
    for name in sorted(set(tf_attrs) | set(ours.attrs) | set(extra)):
        if name in extra:
            if name not in tf_attrs:
                out.add(f"attr {name}: declared import-only, but TF's op has no such attr")
            else:
                out.update(_attr_differences(name, tf_attrs[name], extra[name].kind, extra[name].default))
            continue
        if name not in ours.attrs:
            out.add(f"attr {name}: only in TF's op")
            continue
        if name not in tf_attrs:
            out.add(f"attr {name}: only in tfmini's op")
            continue
        kind, default = ours.attrs[name]
        out.update(_attr_differences(name, tf_attrs[name], kind, default))
        if kind in ("type", "list(type)"):
            tf_allowed = tf_attrs[name].allowed_values.list.type
            theirs_ok = ({_KNOWN_ENUMS[t] for t in tf_allowed if t in _KNOWN_ENUMS}
                         if tf_attrs[name].HasField("allowed_values") else _ALL_TYPES)
            ours_ok = {t.name for t in ours.allowed_types[name]} if name in ours.allowed_types else _ALL_TYPES
            if not ours_ok <= theirs_ok:
                out.add(f"attr {name}: allows {sorted(ours_ok - theirs_ok)}, which TF's does not")
        elif tf_attrs[name].HasField("allowed_values") and kind == "string":
            allowed = set(python_attr_of("list(string)", tf_attrs[name].allowed_values))
            if default not in (registry.REQUIRED, *allowed):
                out.add(f"attr {name}: default {default!r} not among TF's allowed values")
    return out


def test_op_names_file_lists_every_registered_op():
    with open(os.path.join(FIXTURES, "op_names.txt")) as f:
        recorded = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    missing = sorted(TFMINI_OPS - recorded)
    assert not missing, (f"op types not in tests/fixtures/tf/op_defs/op_names.txt: {missing}; add them and run "
                         "/work/tfenv/bin/python tools/tf_fixtures/gen_op_defs.py")


def test_tfmini_only_ops_are_exactly_those_tensorflow_lacks():
    assert sorted(TFMINI_OPS - set(TF_OPS)) == sorted(TFMINI_ONLY)


@pytest.mark.parametrize("op_type", sorted(TFMINI_OPS & set(TF_OPS)))
def test_op_signature_matches_tensorflow(op_type):
    found = _differences(op_type)
    expected = KNOWN.get(op_type, ("", set()))[1]
    assert found == expected, (f"{op_type}: new differences {sorted(found - expected)}; "
                               f"listed in KNOWN but gone {sorted(expected - found)}")


def test_import_only_attrs_are_declared_for_tensorflow_ops():
    for op_type in registry._IMPORT_ATTRS:
        assert op_type in registry._REGISTRY, op_type
        assert op_type in TF_OPS, op_type
