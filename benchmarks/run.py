"""`python -m benchmarks.run`: every workload of benchmarks/workloads.py on tfmini against hand-written
NumPy (and TensorFlow's compat.v1 Session when it is importable), in one process, with interleaved trials;
prints per-step medians and the ratio to NumPy, then memory and graph-building figures."""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

from benchmarks.workloads import TARGETS, TENSORFLOW_REFERENCE, WORKLOADS, Workload


def _load_tensorflow():
    try:
        import tensorflow.compat.v1 as tf1  # noqa: PLC0415 - optional comparison

        tf1.disable_eager_execution()
        return tf1
    except Exception:  # noqa: BLE001 - TensorFlow is optional
        return None


class Side:
    """One implementation of a workload: a zero-argument step function."""

    def __init__(self, name: str, step, result):
        self.name = name
        self.step = step
        self.result = result


def _graph_side(tf, name: str, wl: Workload, data: dict) -> Side:
    graph = tf.Graph()
    with graph.as_default():
        built = wl.build(tf, data)
        fetches, feed, check = built[:3]
        init = built[3] if len(built) > 3 else None
    sess = tf.Session(graph=graph)
    if init is not None:
        sess.run(init)
    check_value = sess.run(check, feed)
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


def measure(sides: list[Side], trials: int, budget_s: float) -> dict[str, float]:
    """Median per-step seconds of each side over `trials` interleaved trials of about `budget_s` each."""
    reps = {s.name: _calibrate(s.step, budget_s) for s in sides}
    samples: dict[str, list[float]] = {s.name: [] for s in sides}
    for trial in range(trials):
        order = sides if trial % 2 == 0 else list(reversed(sides))
        for s in order:
            gc.collect()
            samples[s.name].append(_time_per_step(s.step, reps[s.name]))
    return {k: statistics.median(v) for k, v in samples.items()}


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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="workload names to run")
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.15, help="seconds per trial per side")
    parser.add_argument("--quick", action="store_true", help="3 trials of 0.05 s (smoke run)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS to this many threads on every side (default: BLAS's own setting); "
                             "1 gives steadier figures on a busy machine")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.budget = 3, 0.05
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - installed with scikit-learn (dev extras)

        with threadpool_limits(args.blas_threads, user_api="blas"):
            return _run(args)
    return _run(args)


def _run(args) -> int:

    import tfmini

    tf1 = _load_tensorflow()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}" + (f", TensorFlow {tf1.VERSION}" if tf1 else ", TensorFlow not installed"))
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415 - optional detail

        blas = {(i.get("internal_api"), i.get("architecture"), f"{i.get('num_threads')} threads")
                for i in threadpool_info()}
        print(f"BLAS: {sorted(blas)}")
    except Exception:  # noqa: BLE001
        pass
    rng_seed = 0
    header = ("workload", "NumPy µs", "tfmini µs", "ratio", "target", "met", "TF µs", "TF ratio", "TF (issue)")
    rows = []
    for wl in WORKLOADS:
        if args.only and wl.name not in args.only:
            continue
        data = wl.make_data(np.random.default_rng(rng_seed))
        status = _check(wl, tfmini, data)
        sides = [Side("numpy", wl.numpy_factory(data), None), _graph_side(tfmini, "tfmini", wl, data)]
        if tf1 is not None:
            sides.append(_graph_side(tf1, "tensorflow", wl, data))
        med = measure(sides, args.trials, args.budget)
        ratio = med["tfmini"] / med["numpy"]
        tf_cols = ("-", "-")
        if tf1 is not None:
            tf_cols = (_fmt_us(med["tensorflow"]), f"{med['tensorflow'] / med['numpy']:.2f}x")
        rows.append((wl.name, _fmt_us(med["numpy"]), _fmt_us(med["tfmini"]), f"{ratio:.2f}x",
                     f"<= {TARGETS[wl.name]}x", "yes" if ratio <= TARGETS[wl.name] else "NO", *tf_cols,
                     TENSORFLOW_REFERENCE[wl.name]))
        assert status == "ok"
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))

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
