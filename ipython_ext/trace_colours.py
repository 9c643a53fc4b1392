"""Colours of op types in the trace view: a deterministic hash of the op type into a palette, so the same type
has the same colour in every trace, every run and every kernel. The hash's seed was chosen so that the op types
a training step is made of most (COMMON) all land on different colours; any other type still gets a stable
colour, possibly shared."""

from __future__ import annotations

# Twenty fills that carry dark text and read on light and dark backgrounds alike (ColorBrewer Set3 with the
# light half of Tableau 20 and two darker earth tones), ordered so that neighbours differ in hue.
PALETTE = (
    "#8dd3c7", "#ffed6f", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd",
    "#ccebc5", "#ffffb3", "#aec7e8", "#ff9896", "#98df8a", "#c49c94", "#dbdb8d", "#9edae5", "#e6ab02", "#a6761d",
)

# The op types that must never share a colour: the bulk of a dense network's training step.
COMMON = ("MatMul", "Mul", "Maximum", "Add", "Identity", "Fill", "Reshape", "VariableV2", "Const", "AddV2", "Sub",
          "BiasAdd")

# FNV-1a's offset basis moved by a search over seeds until COMMON had no collision in PALETTE.
_SEED = 2166136616
_PRIME = 16777619


def type_hash(op_type: str) -> int:
    """32-bit FNV-1a of the type's UTF-8 bytes, from `_SEED`."""
    h = _SEED
    for b in op_type.encode("utf-8", "backslashreplace"):
        h = ((h ^ b) * _PRIME) & 0xFFFFFFFF
    return h


def type_colour(op_type: str) -> str:
    """The fill of `op_type`'s bars: the same in every trace."""
    return PALETTE[type_hash(op_type) % len(PALETTE)]
