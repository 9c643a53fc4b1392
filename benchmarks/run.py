"""`python -m benchmarks.run [--tensorflow PYTHON]`: every workload of benchmarks/workloads.py on tfmini
against hand-written NumPy and TensorFlow's compat.v1 Session, in one process, with paired (interleaved)
trials; prints per-step medians with the tfmini/NumPy and tfmini/TensorFlow ratios side by side (each the
median of the per-trial ratios), then traced against untraced training steps, memory and graph building.

TensorFlow is used when it is importable here, else when a TensorFlow Python is given (`--tensorflow`, else
the TF_PYTHON environment variable as `make bench TF_PYTHON=...` sets it, else the repository's .tfenv): the
benchmark then runs itself under that Python, with the repository and (after TensorFlow's own packages) this
environment's packages on its path, so tfmini, NumPy and TensorFlow share one process and one machine state.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import sysconfig
import tempfile
import time
import tracemalloc

import numpy as np

from benchmarks.workloads import TARGETS, TARGETS_VS_TF, TRACED_TARGET, WORKLOADS, Workload

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_EXTRA_PATH = "TFMINI_BENCH_EXTRA_PATH"  # tfmini's own dependencies, appended in the TensorFlow process
# What tfmini needs beyond NumPy and protobuf (which TensorFlow's environment has): only these are lent from this
# environment, so that TensorFlow's optional imports (SciPy, scikit-learn) do not load a second BLAS or OpenMP.
_LENT = ("google_crc32c", "google_crc32c.libs", "threadpoolctl.py")


def _tensorflow_importable() -> bool:
    import importlib.util  # noqa: PLC0415 - only needed here

    return importlib.util.find_spec("tensorflow") is not None


def _tensorflow_python(given: str | None) -> str | None:
    """The TensorFlow Python to run under: `--tensorflow`, TF_PYTHON, or the repository's .tfenv."""
    for candidate in (given, os.environ.get("TF_PYTHON"), os.path.join(_REPO, ".tfenv", "bin", "python")):
        if candidate:
            path = candidate if os.path.isabs(candidate) else os.path.join(_REPO, candidate)
            if os.access(path, os.X_OK):
                return path
            if candidate is given:
                raise SystemExit(f"--tensorflow {given}: no such Python")
    return None


def _reexec_under(python: str, argv: list[str]) -> None:
    """Replaces this process by the benchmark under `python` (TensorFlow's environment)."""
    env = dict(os.environ)
    site = sysconfig.get_paths()["purelib"]
    lent = tempfile.mkdtemp(prefix="tfmini-bench-")
    for name in _LENT:
        if os.path.exists(os.path.join(site, name)):
            os.symlink(os.path.join(site, name), os.path.join(lent, name))
    env[_EXTRA_PATH] = lent
    env["PYTHONPATH"] = _REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stdout.flush()
    os.execve(python, [python, "-m", "benchmarks.run", "--no-reexec", *argv], env)


def _load_tensorflow():
    try:
        import tensorflow.compat.v1 as tf1  # noqa: PLC0415 - optional comparison

        tf1.disable_eager_execution()
        return tf1
    except Exception:  # noqa: BLE001 - TensorFlow is optional
        return None


class Side:
    """One implementation of a workload: a zero-argument step function (`ops`: how many ops a traced step
    records, for a traced side)."""

    def __init__(self, name: str, step, result, ops: int | None = None):
        self.name = name
        self.step = step
        self.result = result
        self.ops = ops


def _graph_side(tf, name: str, wl: Workload, data: dict, traced: bool = False) -> Side:
    """One step of `wl` as a `Session.run`; with `traced`, a FULL_TRACE run filling a fresh RunMetadata (what a
    user who traces a step pays)."""
    graph = tf.Graph()
    with graph.as_default():
        built = wl.build(tf, data)
        fetches, feed, check = built[:3]
        init = built[3] if len(built) > 3 else None
    sess = tf.Session(graph=graph)
    if init is not None:
        sess.run(init)
    check_value = sess.run(check, feed)
    if traced:
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        md = tf.RunMetadata()
        sess.run(fetches, feed, options=options, run_metadata=md)
        ops = sum(len(dev.node_stats) for dev in md.step_stats.dev_stats)
        return Side(name, lambda: sess.run(fetches, feed, options=options, run_metadata=tf.RunMetadata()),
                    check_value, ops)
    return Side(name, lambda: sess.run(fetches, feed), check_value)


def _check(wl: Workload, tf, data: dict) -> str:
    """Compares one step of tfmini with one step of NumPy from identical starting weights."""
    ref = wl.numpy_factory(data)()
    got = _graph_side(tf, "tfmini", wl, data).result
    if not np.allclose(np.asarray(got, np.float64), np.asarray(ref, np.float64), rtol=2e-4, atol=2e-4):
        raise AssertionError(f"{wl.name}: tfmini and NumPy disagree: max abs diff "
                             f"{np.max(np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64)))}")
    return "ok"


def _time_per_step(step, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t0) / reps


def _calibrate(step, budget_s: float) -> int:
    step()
    reps = 1
    while True:
        t = _time_per_step(step, reps)
        if t * reps >= budget_s / 4 or reps >= 1 << 20:
            return max(1, int(budget_s / max(t, 1e-9)))
        reps *= 4


def measure(sides: list[Side], trials: int, budget_s: float) -> dict[str, list[float]]:
    """Per-step seconds of each side in each of `trials` interleaved trials of about `budget_s` each (the
    order alternates, so trial i of every side ran at nearly the same time)."""
    reps = {s.name: _calibrate(s.step, budget_s) for s in sides}
    samples: dict[str, list[float]] = {s.name: [] for s in sides}
    for trial in range(trials):
        order = sides if trial % 2 == 0 else list(reversed(sides))
        for s in order:
            gc.collect()
            samples[s.name].append(_time_per_step(s.step, reps[s.name]))
    return samples


def paired_ratio(samples: dict[str, list[float]], a: str, b: str) -> float:
    """The median over trials of side `a`'s time over side `b`'s in the same trial."""
    return statistics.median(x / y for x, y in zip(samples[a], samples[b]))


def peak_step_memory(step) -> int:
    """Peak bytes NumPy allocates during one step, above what was allocated before it."""
    step()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def graph_building(tf, n_ops: int = 10_000) -> tuple[float, float]:
    """Seconds to build an `n_ops`-op graph, and to compile its plan (first run)."""
    graph = tf.Graph()
    t0 = time.perf_counter()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [8], name="x")
        t = x
        for i in range(n_ops - 1):
            t = t * 1.0001 if i % 2 else t + 0.5
    build = time.perf_counter() - t0
    sess = tf.Session(graph=graph)
    t0 = time.perf_counter()
    sess.run(t, {x: np.zeros(8, np.float32)})
    return build, time.perf_counter() - t0


def _fmt_us(s: float) -> str:
    us = s * 1e6
    return f"{us:,.1f}" if us < 1000 else f"{us:,.0f}"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="workload names to run")
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.15, help="seconds per trial per side")
    parser.add_argument("--quick", action="store_true", help="3 trials of 0.05 s (smoke run)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS to this many threads on every side (default: BLAS's own setting); "
                             "1 gives steadier figures on a busy machine")
    parser.add_argument("--tensorflow", metavar="PYTHON", default=None,
                        help="a Python with TensorFlow to run the benchmark under (default: TF_PYTHON, else "
                             ".tfenv/bin/python when it exists)")
    parser.add_argument("--no-tensorflow", action="store_true", help="compare with NumPy only")
    parser.add_argument("--traced-all", action="store_true",
                        help="a FULL_TRACE row for every workload, not only the training ones (a target only for "
                             "those): what tracing costs per op on graphs of many small ops")
    parser.add_argument("--no-reexec", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.budget = 3, 0.05
    if not args.no_reexec and not args.no_tensorflow and not _tensorflow_importable():
        python = _tensorflow_python(args.tensorflow)
        if python is not None:
            _reexec_under(python, [a for a in argv if a != "--no-reexec"])
    extra = os.environ.get(_EXTRA_PATH)
    if extra and extra not in sys.path:
        sys.path.append(extra)  # after TensorFlow's own packages: only what its environment lacks comes from here
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - a tfmini dependency, imported late

        with threadpool_limits(args.blas_threads, user_api="blas"):
            return _run(args)
    return _run(args)


def _table(header: tuple, rows: list) -> None:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def _met(ratio: float, target: float | None) -> str:
    return "-" if target is None else ("yes" if ratio <= target else "NO")


def _run(args) -> int:
    import tfmini  # noqa: PLC0415 - after the path is set up (see main)
    from tfmini.client import blas  # noqa: PLC0415

    tf1 = None if args.no_tensorflow else _load_tensorflow()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}" + (f", TensorFlow {tf1.VERSION}" if tf1 else ", TensorFlow not installed"))
    print(f"BLAS: {blas.blas_summary()}")
    if tf1 is not None:
        onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86)")
        print(f"TensorFlow: oneDNN {onednn}; every ratio is the median of per-trial ratios of paired trials")
    rng_seed = 0
    header = ("workload", "NumPy µs", "tfmini µs", "TF µs", "tfmini/NumPy", "target", "met", "tfmini/TF",
              "target", "met")
    rows = []
    for wl in WORKLOADS:
        if args.only and wl.name not in args.only:
            continue
        data = wl.make_data(np.random.default_rng(rng_seed))
        status = _check(wl, tfmini, data)
        sides = [Side("numpy", wl.numpy_factory(data), None), _graph_side(tfmini, "tfmini", wl, data)]
        if tf1 is not None:
            sides.append(_graph_side(tf1, "tensorflow", wl, data))
        samples = measure(sides, args.trials, args.budget)
        med = {k: statistics.median(v) for k, v in samples.items()}
        ratio = paired_ratio(samples, "tfmini", "numpy")
        tf_target = TARGETS_VS_TF.get(wl.name)
        tf_cols = ("-", "-", "-" if tf_target is None else f"<= {tf_target}x", "-")
        if tf1 is not None:
            tf_ratio = paired_ratio(samples, "tfmini", "tensorflow")
            tf_cols = (_fmt_us(med["tensorflow"]), f"{tf_ratio:.2f}x", tf_cols[2], _met(tf_ratio, tf_target))
        rows.append((wl.name, _fmt_us(med["numpy"]), _fmt_us(med["tfmini"]), tf_cols[0], f"{ratio:.2f}x",
                     f"<= {TARGETS[wl.name]}x", _met(ratio, TARGETS[wl.name]), *tf_cols[1:]))
        assert status == "ok"
    _table(header, rows)

    traced_rows = []
    for wl in WORKLOADS:
        if not (wl.stateful or args.traced_all) or (args.only and wl.name not in args.only
                                                     and "traced" not in args.only):
            continue
        data = wl.make_data(np.random.default_rng(rng_seed))
        traced = _graph_side(tfmini, "traced", wl, data, traced=True)
        sides = [_graph_side(tfmini, "untraced", wl, data), traced]
        if tf1 is not None:
            sides += [_graph_side(tf1, "tf untraced", wl, data), _graph_side(tf1, "tf traced", wl, data, traced=True)]
        samples = measure(sides, args.trials, args.budget)
        ratio = paired_ratio(samples, "traced", "untraced")
        target = TRACED_TARGET if wl.stateful else None
        # What tracing adds per recorded op: the median over trials of the paired difference.
        per_op = statistics.median(t - u for t, u in zip(samples["traced"], samples["untraced"])) / traced.ops
        tf_ratio = f"{paired_ratio(samples, 'tf traced', 'tf untraced'):.2f}x" if tf1 is not None else "-"
        traced_rows.append((f"{wl.name} traced", traced.ops, _fmt_us(statistics.median(samples["untraced"])),
                            _fmt_us(statistics.median(samples["traced"])), f"{ratio:.2f}x",
                            "-" if target is None else f"<= {target}x", _met(ratio, target), _fmt_us(per_op),
                            tf_ratio))
    if traced_rows:
        print("\nFULL_TRACE step (a fresh RunMetadata each run) against the same untraced step:")
        _table(("workload", "ops", "untraced µs", "traced µs", "traced/untraced", "target", "met", "added µs/op",
                "TF traced/untraced"), traced_rows)

    if not args.only or "mlp_train" in args.only:
        wl = next(w for w in WORKLOADS if w.name == "mlp_train")
        data = wl.make_data(np.random.default_rng(rng_seed))
        np_peak = peak_step_memory(wl.numpy_factory(data))
        tfm_peak = peak_step_memory(_graph_side(tfmini, "tfmini", wl, data).step)
        print(f"\nmlp_train peak step memory: NumPy {np_peak / 2**20:.2f} MiB, tfmini {tfm_peak / 2**20:.2f} MiB "
              f"({tfm_peak / np_peak:.2f}x; target <= 1.2x)")
    build, compile_s = graph_building(tfmini)
    print(f"10,000-op graph: build {build:.3f} s, compile + first run {compile_s:.3f} s (target: each < 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
