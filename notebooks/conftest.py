"""nbval runs these notebooks in `make test` and compares every output with the saved one. When a cell
differs, the report says how to accept a deliberate change: re-execute the notebook and save it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    path = Path(str(item.path))
    if report.failed and call.when == "call" and path.suffix == ".ipynb":
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        report.sections.append((
            "notebook output changed",
            f"If tfmini's output changed on purpose, re-execute and save the notebook:\n"
            f"  .venv/bin/python tools/run_demo.py --save {rel}\n"
            f"(`make notebooks` re-saves them all), check its diff, and commit it with the change.",
        ))
