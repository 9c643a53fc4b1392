"""tfmini's declared names against TensorFlow's own (tests/fixtures/tf/api/v1_api.json, recorded from
tf.compat.v1 by tools/tf_fixtures/gen_api_names.py): names that are one object in TF are declared together and
are one object here, and each declared function takes TF's parameters (names, order, kinds, defaults by value).

The dicts of exceptions are exact: an entry that is no longer needed fails the test, so they shrink as tfmini
catches up."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

import tfmini as tf
from tfmini.framework import api_export

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "api" / "v1_api.json"
RECORDED = json.loads(FIXTURE.read_text(encoding="utf-8"))

# Twins of a declared name that tfmini leaves out on purpose, with the reason.
EXCEPTIONS: dict[str, str] = {}

# Names of one TF object that are different objects in tfmini, with the reason.
NOT_ONE_OBJECT: dict[str, str] = {}

# Declared functions whose parameters differ from the recorded TF 2.21 v1 signature, with the reason: where 2.21
# differs from TF 1.15, tfmini follows 1.15.
KNOWN: dict[str, str] = {
    "tf.all_variables": "tfmini's tf.all_variables is tf.global_variables, so it also takes `scope` (TF 1.15's "
                        "deprecated alias takes no argument)",
    "tf.convert_to_tensor": "tfmini's public function also takes TF's internal `as_ref` keyword",
    "tf.fill": "TF 2.21 adds `layout` (DTensor), which TF 1.15 does not have",
    "tf.ones": "TF 2.21 adds `layout` (DTensor), which TF 1.15 does not have",
    "tf.zeros": "TF 2.21 adds `layout` (DTensor), which TF 1.15 does not have",
    "tf.gather_nd": "TF 2.21 adds `bad_indices_policy`, which TF 1.15 does not have",
    "tf.manip.gather_nd": "TF 2.21 adds `bad_indices_policy`, which TF 1.15 does not have",
    "tf.scatter_nd": "TF 2.21 adds `bad_indices_policy`, which TF 1.15 does not have",
    "tf.manip.scatter_nd": "TF 2.21 adds `bad_indices_policy`, which TF 1.15 does not have",
    "tf.import_graph_def": "tfmini adds `allow_file_access`: an imported graph's file ops are refused unless allowed",
    "tf.graph_util.import_graph_def": "tfmini adds `allow_file_access`: an imported graph's file ops are refused "
                                      "unless allowed",
    "tf.matmul": "TF 2.21 adds `output_type`, `grad_a` and `grad_b`, which TF 1.15 does not have",
    "tf.linalg.matmul": "TF 2.21 adds `output_type`, `grad_a` and `grad_b`, which TF 1.15 does not have",
    "tf.map_fn": "TF 2.3 adds `fn_output_signature`, which TF 1.15 does not have",
    "tf.nn.conv2d": "dilations=None stands for TF's default [1, 1, 1, 1]",
    "tf.nn.conv2d_backprop_filter": "dilations=None stands for TF's default [1, 1, 1, 1]",
    "tf.nn.conv2d_backprop_input": "dilations=None stands for TF's default [1, 1, 1, 1]",
    "tf.nn.convolution": "`filter` and `padding` default to None so that `filters=` can stand in for `filter`; "
                         "TF requires both",
    "tf.nn.fused_batch_norm": "TF 2.21 adds `exponential_avg_factor`, which TF 1.15 does not have",
    "tf.nn.sigmoid_cross_entropy_with_logits": "TF 1.15 starts with `_sentinel=None` (to force keyword "
                                               "arguments), which TF 2.21's v1 API dropped",
    "tf.nn.softmax_cross_entropy_with_logits": "TF 1.15 starts with `_sentinel=None` (to force keyword "
                                               "arguments), which TF 2.21's v1 API dropped",
    "tf.nn.sparse_softmax_cross_entropy_with_logits": "TF 1.15 starts with `_sentinel=None` (to force keyword "
                                                      "arguments), which TF 2.21's v1 API dropped",
    "tf.nn.swish": "TF 2.21 adds `beta` and drops `name`; tfmini keeps TF 1.15's features and a name",
    "tf.nn.silu": "tf.nn.swish under TF 2's later name: TF 2.21 adds `beta` and drops `name`",
    "tf.nn.top_k": "TF 2.21 adds `index_type`, which TF 1.15 does not have",
    "tf.math.top_k": "TF 2.21 adds `index_type`, which TF 1.15 does not have",
    "tf.shape": "TF 1.15's default out_type is tf.int32; TF 2.21 makes it None",
    "tf.size": "TF 1.15's default out_type is tf.int32; TF 2.21 makes it None",
    "tf.train.MonitoredTrainingSession": "TF 2.21 adds `save_graph_def`, which TF 1.15 does not have",
    "tf.image.adjust_jpeg_quality": "TF 2.21 adds `dct_method`, which TF 1.15 does not have",
    "tf.image.non_max_suppression_padded": "TF 2.21 adds `sorted_input`, `canonicalized_coordinates` and "
                                           "`tile_size`, which TF 1.15 does not have",
    "tf.linalg.tridiagonal_solve": "TF 2.21 adds `perturb_singular`, which TF 1.15 does not have",
    "tf.sparse.split": "TF's `keyword_required` default is a KeywordRequired() marker; tfmini's is None (both refuse "
                       "positional arguments)",
    "tf.sparse_split": "TF's `keyword_required` default is a KeywordRequired() marker; tfmini's is None (both refuse "
                       "positional arguments)",
    "tf.train.update_checkpoint_state": "tfmini also takes `save_relative_paths` (the argument of TF's internal "
                                        "variant)",
    "tf.signal.stft": "the default window_fn is tf.signal.hann_window as in TF; the recorded default is the repr of "
                      "TF's function (with its address), which no tfmini object can equal",
    "tf.signal.inverse_stft": "the default window_fn is tf.signal.hann_window as in TF; the recorded default is the "
                              "repr of TF's function (with its address), which no tfmini object can equal",
    "tf.signal.inverse_stft_window_fn": "the default forward_window_fn is tf.signal.hann_window as in TF; the "
                                        "recorded default is the repr of TF's function (with its address)",
}

DECLARED = dict(api_export.declared_names())


def _has_namespace(name: str) -> bool:
    target = tf
    for part in name.split(".")[1:-1]:
        target = getattr(target, part, None)
        if target is None:
            return False
    return True


def _twins_missing() -> dict[str, str]:
    """TF names missing from tfmini whose alias group has a declared name, mapped to that declared name."""
    missing = {}
    for group in RECORDED["aliases"]:
        present = [n for n in group if n in DECLARED]
        if present:
            missing.update({n: present[0] for n in group if n not in DECLARED and _has_namespace(n)})
    return missing


def test_a_declared_name_brings_every_twin_tf_has_in_a_namespace_tfmini_has():
    missing = _twins_missing()
    unexplained = {n: twin for n, twin in missing.items() if n not in EXCEPTIONS}
    assert not unexplained, f"TF has these names for the same object as the declared one: {unexplained}"
    stale = sorted(set(EXCEPTIONS) - set(missing))
    assert not stale, f"no longer missing (or no longer a twin of a declared name): remove from EXCEPTIONS: {stale}"


def test_the_names_of_one_tf_object_are_one_object_in_tfmini():
    split = {}
    for group in RECORDED["aliases"]:
        present = [n for n in group if n in DECLARED]
        if len({id(DECLARED[n]) for n in present}) > 1:
            split.update({n: present for n in present})
    unexplained = sorted(set(split) - set(NOT_ONE_OBJECT))
    assert not unexplained, f"one object in TF, several in tfmini: {[split[n] for n in unexplained]}"
    assert not set(NOT_ONE_OBJECT) - set(split), "remove from NOT_ONE_OBJECT: now one object"


# -- signatures


def _split_top_level(text: str) -> list[str]:
    """Splits on commas outside brackets and quotes."""
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _default_text(rest: str) -> str | None:
    """The text after a parameter's top-level `=` (past any annotation), or None when it has no default."""
    depth, quote = 0, None
    for i, ch in enumerate(rest):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "=" and depth == 0:
            return rest[i + 1:].strip()
    return None


_NO_DEFAULT = object()


def recorded_parameters(signature: str) -> list[tuple[str, str, object]]:
    """(name, kind, default text or _NO_DEFAULT) of each parameter of a recorded signature `(a, b=1, *, c=None)`."""
    depth, end = 0, 0
    while True:
        depth += {"(": 1, ")": -1}.get(signature[end], 0)
        if depth == 0:
            break
        end += 1
    params, keyword_only = [], False
    for item in _split_top_level(signature[1:end]):
        if item in ("*", "/"):
            keyword_only = keyword_only or item == "*"
            continue
        if item.startswith("**"):
            params.append((item[2:].split(":")[0].strip(), "VAR_KEYWORD", _NO_DEFAULT))
            continue
        if item.startswith("*"):
            params.append((item[1:].split(":")[0].strip(), "VAR_POSITIONAL", _NO_DEFAULT))
            keyword_only = True
            continue
        name, rest = re.match(r"^([A-Za-z_]\w*)\s*(.*)$", item).groups()
        default = _default_text(rest)
        params.append((name, "KEYWORD_ONLY" if keyword_only else "POSITIONAL_OR_KEYWORD",
                       _NO_DEFAULT if default is None else default))
    return params


def _same_default(ours: object, recorded: object) -> bool:
    if ours is inspect.Parameter.empty or recorded is _NO_DEFAULT:
        return ours is inspect.Parameter.empty and recorded is _NO_DEFAULT
    if re.fullmatch(r"<object object at 0x[0-9a-f]+>", recorded):  # a sentinel `object()` on both sides
        return type(ours) is object
    try:
        value = eval(recorded, {"tf": tf, "inf": float("inf"), "nan": float("nan")})  # noqa: S307 - fixture text
    except Exception:  # noqa: BLE001 - a default TF prints as a repr that is no expression
        return repr(ours) == recorded
    if isinstance(ours, (list, tuple)) and isinstance(value, (list, tuple)):
        return list(ours) == list(value)
    return type(ours) is type(value) and ours == value or (ours is value)


def signature_difference(obj: object, recorded: str) -> str | None:
    """None when `obj` takes the recorded parameters, else both parameter lists."""
    ours = list(inspect.signature(obj).parameters.values())
    theirs = recorded_parameters(recorded)
    same = len(ours) == len(theirs) and all(
        p.name == name and p.kind.name == kind and _same_default(p.default, default)
        for p, (name, kind, default) in zip(ours, theirs)
    )
    return None if same else f"tfmini {inspect.signature(obj)} vs TF {recorded}"


def _comparable() -> dict[str, str]:
    out = {}
    for name, recorded in RECORDED["signatures"].items():
        obj = DECLARED.get(name)
        if obj is None or isinstance(obj, type) or not callable(obj):
            continue
        try:
            inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        out[name] = recorded
    return out


def test_the_signature_parser_reads_annotations_defaults_and_keyword_only_parameters():
    params = recorded_parameters("(x: Annotated[Any, ~T], k: int = -1, *, fill: str = 'a,b', name=None) -> X")
    assert params == [("x", "POSITIONAL_OR_KEYWORD", _NO_DEFAULT), ("k", "POSITIONAL_OR_KEYWORD", "-1"),
                      ("fill", "KEYWORD_ONLY", "'a,b'"), ("name", "KEYWORD_ONLY", "None")]

    def f(x, k=-1, *, fill="a,b", name=None):
        pass

    def g(x, k=1, *, fill="a,b", name=None):
        pass

    recorded = "(x, k=-1, *, fill='a,b', name=None)"
    assert signature_difference(f, recorded) is None
    assert "vs TF" in signature_difference(g, recorded)


def test_declared_functions_take_tfs_parameters():
    comparable = _comparable()
    assert len(comparable) > 500  # the comparison covers most of the API, not a handful of names
    differ = {name: diff for name, recorded in sorted(comparable.items())
              if (diff := signature_difference(DECLARED[name], recorded)) is not None}
    unexplained = {name: diff for name, diff in differ.items() if name not in KNOWN}
    assert not unexplained, "\n".join(f"{name}: {diff}" for name, diff in unexplained.items())
    stale = sorted(set(KNOWN) - set(differ))
    assert not stale, f"these now agree with TF (or are gone): remove them from KNOWN: {stale}"


@pytest.mark.parametrize("name", sorted(set(EXCEPTIONS) | set(NOT_ONE_OBJECT) | set(KNOWN)))
def test_every_exception_names_a_tf_name_with_a_reason(name):
    assert name in RECORDED["names"]
    reason = EXCEPTIONS.get(name) or NOT_ONE_OBJECT.get(name) or KNOWN.get(name)
    assert len(reason) > 20
