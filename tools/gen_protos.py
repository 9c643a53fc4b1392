"""Regenerate tfmini/protobuf/*_pb2.py and *_pb2.pyi from the .proto sources.

Installs nothing: run it through ``make protos``, which first installs the pinned generator. The generator
version is checked because it fixes the gencode version stamped into every module (and so the oldest
protobuf runtime that can load them, see pyproject.toml).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REQUIRED_GRPCIO_TOOLS = "1.75.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = Path("tfmini") / "protobuf"


def _installed_grpcio_tools() -> str | None:
    try:
        from grpc_tools import grpc_version
    except ImportError:
        return None
    return grpc_version.VERSION


def main() -> int:
    found = _installed_grpcio_tools()
    if found != REQUIRED_GRPCIO_TOOLS:
        print(
            f"gen_protos: need grpcio-tools=={REQUIRED_GRPCIO_TOOLS} in {sys.executable}, "
            f"found {found or 'none'}. Run `make protos` (it installs the pinned version).",
            file=sys.stderr,
        )
        return 2

    protos = sorted(str(p) for p in (REPO_ROOT / PROTO_DIR).glob("*.proto"))
    if not protos:
        print(f"gen_protos: no .proto files under {PROTO_DIR}", file=sys.stderr)
        return 2
    rel = [str(Path(p).relative_to(REPO_ROOT)) for p in protos]
    cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I.", "--python_out=.", "--pyi_out=.", *rel]
    print("gen_protos:", " ".join(cmd[1:]))
    result = subprocess.run(cmd, cwd=REPO_ROOT)
    if result.returncode != 0:
        print("gen_protos: protoc failed", file=sys.stderr)
        return result.returncode
    print(f"gen_protos: generated {len(rel)} modules with grpcio-tools {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
