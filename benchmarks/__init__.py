"""tfmini's benchmarks: each workload written once against the `tf` module, beside a hand-written NumPy
version of the same math."""
