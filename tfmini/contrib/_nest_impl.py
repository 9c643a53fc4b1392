"""`tf.contrib.framework.nest`: TF 1.15's functions over nested structures (lists, tuples, namedtuples and dicts,
whose values are visited in sorted key order): flatten, pack_sequence_as, map_structure, assert_same_structure,
the `_up_to` family that stops at a shallower structure, and `flatten_dict_items`."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable

from tfmini.contrib import _nest as _namespace  # noqa: F401 - declared below as tf.contrib.framework.nest
from tfmini.framework.api_export import tf_export
from tfmini.ops import functional_ops as _structure

tf_export("contrib.framework.nest").export_constant(__name__, "_namespace")


@tf_export("contrib.framework.nest.is_sequence")
def is_sequence(seq) -> bool:
    """Whether `seq` is a structure (list, tuple, namedtuple or mapping) rather than a leaf; strings are leaves."""
    return _structure.is_sequence(seq)


@tf_export("contrib.framework.nest.flatten")
def flatten(structure) -> list:
    """The leaves of `structure` depth first (dicts in sorted key order); a leaf gives [leaf]."""
    return _structure.flatten(structure)


@tf_export("contrib.framework.nest.pack_sequence_as")
def pack_sequence_as(structure, flat_sequence):
    """`flat_sequence` rebuilt with the nesting of `structure` (the inverse of `flatten`)."""
    if not is_sequence(flat_sequence):
        raise TypeError(f"flat_sequence must be a sequence, got {type(flat_sequence).__name__}")
    return _structure.pack_sequence_as(structure, flat_sequence)


@tf_export("contrib.framework.nest.assert_same_structure")
def assert_same_structure(nest1, nest2, check_types=True) -> None:
    """ValueError unless the two structures nest alike (TypeError for differing sequence types when
    `check_types`)."""
    _structure.assert_same_structure(nest1, nest2, check_types)


@tf_export("contrib.framework.nest.map_structure")
def map_structure(func: Callable, *structure, **check_types_dict):
    """`func` applied to the corresponding leaves of the structures (all nested alike), in their nesting."""
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = check_types_dict.pop("check_types", True)
    if check_types_dict:
        raise ValueError(f"Only valid keyword argument is check_types, got {sorted(check_types_dict)}")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flat = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in zip(*flat)])


def _children(structure) -> list:
    return _structure.children(structure)


@tf_export("contrib.framework.nest.assert_shallow_structure")
def assert_shallow_structure(shallow_tree, input_tree, check_types=True) -> None:
    """ValueError unless `input_tree` has at least the nesting of `shallow_tree` (its leaves may be structures
    there)."""
    if not is_sequence(shallow_tree):
        return
    if not is_sequence(input_tree):
        raise TypeError(f"If shallow structure is a sequence, input must also be a sequence. Input has type: "
                        f"{type(input_tree)}.")
    if check_types and not isinstance(input_tree, type(shallow_tree)):
        raise TypeError(f"The two structures don't have the same sequence type. Input structure has type "
                        f"{type(input_tree)}, while shallow structure has type {type(shallow_tree)}.")
    if len(input_tree) != len(shallow_tree):
        raise ValueError(f"The two structures don't have the same sequence length. Input structure has length "
                         f"{len(input_tree)}, while shallow structure has length {len(shallow_tree)}.")
    if isinstance(shallow_tree, collections.abc.Mapping):
        missing = set(shallow_tree) - set(input_tree)
        if missing:
            raise ValueError(f"The input_tree has keys that are not in the shallow_tree: {sorted(missing)}")
    for shallow_child, input_child in zip(_children(shallow_tree), _children(input_tree)):
        assert_shallow_structure(shallow_child, input_child, check_types=check_types)


@tf_export("contrib.framework.nest.flatten_up_to")
def flatten_up_to(shallow_tree, input_tree, check_types=True) -> list:
    """`input_tree` flattened only as deep as `shallow_tree` nests: its parts below become leaves."""
    assert_shallow_structure(shallow_tree, input_tree, check_types=check_types)
    if not is_sequence(shallow_tree):
        return [input_tree]
    out: list = []
    for shallow_child, input_child in zip(_children(shallow_tree), _children(input_tree)):
        out.extend(flatten_up_to(shallow_child, input_child, check_types=check_types))
    return out


@tf_export("contrib.framework.nest.map_structure_up_to")
def map_structure_up_to(shallow_tree, func: Callable, *inputs, **kwargs):
    """`func` applied to the parts of `inputs` at the leaves of `shallow_tree`, packed as `shallow_tree`."""
    if not inputs:
        raise ValueError("Cannot map over no sequences")
    check_types = kwargs.pop("check_types", True)
    flat = [flatten_up_to(shallow_tree, tree, check_types=check_types) for tree in inputs]
    return pack_sequence_as(shallow_tree, [func(*parts, **kwargs) for parts in zip(*flat)])


@tf_export("contrib.framework.nest.flatten_dict_items")
def flatten_dict_items(dictionary) -> dict:
    """A dict whose keys and values may be structures of the same nesting, flattened pairwise into one dict."""
    if not isinstance(dictionary, (dict, collections.abc.Mapping)):
        raise TypeError("input must be a dictionary")
    flat: dict = {}
    for key, value in dictionary.items():
        if not is_sequence(key):
            if key in flat:
                raise ValueError(f"Could not flatten dictionary: key {key} is not unique.")
            flat[key] = value
            continue
        flat_keys, flat_values = flatten(key), flatten(value)
        if len(flat_keys) != len(flat_values):
            raise ValueError(f"Could not flatten dictionary. Key had {len(flat_keys)} elements, but value had "
                             f"{len(flat_values)} elements. Key: {key}, value: {value}.")
        for k, v in zip(flat_keys, flat_values):
            if k in flat:
                raise ValueError(f"Could not flatten dictionary: key {k} is not unique.")
            flat[k] = v
    return flat
