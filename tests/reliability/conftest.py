"""The reliability suite's settings: property-based tests run a fixed-seed, modest number of examples under
`make test` (profile "ci") and many fresh random ones under `make fuzz` (profile "fuzz", sized by
TFMINI_FUZZ_EXAMPLES). Fuzz tests tally what each example did; the tallies are printed at the end of the run
so a long run reports its figures (examples, clean rejections, internal errors, hangs, wrong results)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from reliability_support import TALLIES

_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=150, derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=int(os.environ.get("TFMINI_FUZZ_EXAMPLES", "20000")),
                          derandomize=False, **_COMMON)
settings.load_profile(os.environ.get("TFMINI_HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter) -> None:
    tallies = {name: counts for name, counts in TALLIES.items() if counts}
    if not tallies:
        return
    terminalreporter.section("reliability tallies")
    for name, counts in sorted(tallies.items()):
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        terminalreporter.write_line(f"{name}: {parts}")
