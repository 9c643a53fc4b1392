"""Records TensorFlow's OpDef of every op type tfmini registers, for tests/framework/test_op_defs_against_tf.py.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_op_defs.py
Reads tests/fixtures/tf/op_defs/op_names.txt (one op type a line: every op type tfmini registers, which the test
checks, and may list more) and writes tests/fixtures/tf/op_defs/op_defs.pb: a binary OpList holding the OpDef of
each of those types that TensorFlow knows, without docs (summaries, descriptions) or full-type info.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow as tf  # noqa: E402,F401 - loads every op library, which fills the op-def registry
from tensorflow.core.framework import op_def_pb2  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "op_defs")


def stripped(op_def):
    """A copy of `op_def` without documentation and experimental fields (signatures only)."""
    od = op_def_pb2.OpDef()
    od.CopyFrom(op_def)
    od.ClearField("summary")
    od.ClearField("description")
    od.ClearField("deprecation")
    for arg in list(od.input_arg) + list(od.output_arg):
        arg.ClearField("description")
        arg.ClearField("experimental_full_type")
        arg.ClearField("handle_data")
    for attr in od.attr:
        attr.ClearField("description")
    return od


def main() -> None:
    with open(os.path.join(OUT, "op_names.txt")) as f:
        names = sorted({line.strip() for line in f if line.strip() and not line.startswith("#")})
    op_list = op_def_pb2.OpList()
    unknown = []
    for name in names:
        op_def = op_def_registry.get(name)
        if op_def is None:
            unknown.append(name)
            continue
        op_list.op.add().CopyFrom(stripped(op_def))
    with open(os.path.join(OUT, "op_defs.pb"), "wb") as f:
        f.write(op_list.SerializeToString(deterministic=True))
    print(f"{len(op_list.op)} op defs written; not in TensorFlow: {', '.join(unknown)}")


if __name__ == "__main__":
    main()
