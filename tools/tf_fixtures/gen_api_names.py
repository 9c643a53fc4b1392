"""Records TensorFlow's tf.compat.v1 public names: which names are one object (aliases such as tf.nn.softplus and
tf.math.softplus) and each function's signature, for tests/framework/test_api_names_against_tf.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_api_names.py

Writes tests/fixtures/tf/api/v1_api.json. Namespaces with their own plans (keras, estimator, feature_column,
distribute) and those that are not TF1 programming surface (raw_ops, lite, tpu, xla, ...) are left out.
"""

from __future__ import annotations

import inspect
import json
import os
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import tensorflow.compat.v1 as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "api" / "v1_api.json"
SKIP = {
    "keras", "estimator", "feature_column", "distribute", "raw_ops", "lite", "tpu", "xla", "mixed_precision",
    "autograph", "compat", "experimental", "distributions", "mlir", "tools", "types", "__internal__",
    "__operators__", "quantization", "lookup", "ragged", "audio", "version", "sysconfig", "saved_model",
    "config", "autodiff", "dtensor",
}


def walk(module: types.ModuleType, prefix: str, seen: set[int], out: dict[str, object]) -> None:
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        try:
            obj = getattr(module, name)
        except Exception:  # noqa: BLE001 - lazy loaders may fail for optional parts
            continue
        full = f"{prefix}.{name}"
        if isinstance(obj, types.ModuleType):
            if name in SKIP or id(obj) in seen:
                continue
            try:
                if not obj.__name__.startswith("tensorflow"):
                    continue
            except AttributeError:  # the lazily loaded Keras
                continue
            seen.add(id(obj))
            walk(obj, full, seen, out)
        else:
            out[full] = obj


def signature(obj: object) -> str | None:
    if not callable(obj) or isinstance(obj, type):
        return None
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None


def main() -> None:
    names: dict[str, object] = {}
    walk(tf, "tf", set(), names)
    by_id: dict[int, list[str]] = {}
    for full, obj in names.items():
        if isinstance(obj, (int, float, str, bool, type(None))):
            continue
        by_id.setdefault(id(obj), []).append(full)
    groups = sorted(sorted(group) for group in by_id.values() if len(group) > 1)
    signatures = {full: sig for full, obj in sorted(names.items()) if (sig := signature(obj)) is not None}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {"tensorflow": tf.__version__ if hasattr(tf, "__version__") else "", "names": sorted(names),
             "aliases": groups, "signatures": signatures},
            indent=0, sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(names)} names, {len(groups)} alias groups, {len(signatures)} signatures -> {OUT}")


if __name__ == "__main__":
    main()
