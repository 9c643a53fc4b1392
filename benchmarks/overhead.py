"""`python -m benchmarks.overhead`: the per-run overhead of `Session.run` against the same math in
hand-written NumPy, for (a) a trivial fetch (`a * b` of two scalar constants) and (b) a small feed-and-fetch
graph (feed x[32, 10] -> x @ W + b -> reduce_sum). Trials of the two sides are interleaved so drifts in machine
load hit both alike; the table gives medians in microseconds and the tfmini/NumPy ratio."""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import numpy as np

import tfmini as tf


def trivial_fetch() -> tuple[Callable, Callable]:
    """(tfmini step, NumPy step) for `a * b` of two scalar float32 constants."""
    a_value, b_value = np.float32(3.0), np.float32(4.0)
    graph = tf.Graph()
    with graph.as_default():
        c = tf.constant(a_value) * tf.constant(b_value)
    sess = tf.Session(graph=graph)
    return (lambda: sess.run(c)), (lambda: a_value * b_value)


def feed_and_fetch() -> tuple[Callable, Callable]:
    """(tfmini step, NumPy step) for feeding x[32, 10] and fetching reduce_sum(x @ W + b)."""
    rng = np.random.default_rng(0)
    x_value = rng.standard_normal((32, 10)).astype(np.float32)
    w_value = rng.standard_normal((10, 16)).astype(np.float32)
    b_value = rng.standard_normal(16).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape=[None, 10])
        total = tf.reduce_sum(tf.matmul(x, tf.constant(w_value)) + tf.constant(b_value))
    sess = tf.Session(graph=graph)
    feed = {x: x_value}
    return (lambda: sess.run(total, feed)), (lambda: np.sum(x_value @ w_value + b_value))


CASES: dict[str, Callable[[], tuple[Callable, Callable]]] = {
    "trivial fetch (a*b of constants)": trivial_fetch,
    "feed x[32,10] -> sum(x@W+b)": feed_and_fetch,
}


def _per_call_us(step: Callable, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls * 1e6


def _calls_for(step: Callable, target_s: float) -> int:
    """How many calls make one timed batch last about `target_s` seconds."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            step()
        elapsed = time.perf_counter() - start
        if elapsed >= target_s / 4 or n >= 1 << 20:
            return max(1, int(n * target_s / max(elapsed, 1e-9)))
        n *= 2


def measure(make: Callable[[], tuple[Callable, Callable]], trials: int, batch_s: float) -> tuple[float, float]:
    """Median per-call microseconds of (tfmini, NumPy) over `trials` interleaved batches."""
    tf_step, np_step = make()
    got, want = tf_step(), np_step()
    np.testing.assert_allclose(got, want, rtol=1e-5)  # both sides compute the same thing
    tf_calls, np_calls = _calls_for(tf_step, batch_s), _calls_for(np_step, batch_s)
    tf_times, np_times = [], []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(trials):
            tf_times.append(_per_call_us(tf_step, tf_calls))
            np_times.append(_per_call_us(np_step, np_calls))
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(tf_times), statistics.median(np_times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=15, help="interleaved trials per side (default 15)")
    parser.add_argument("--batch-ms", type=float, default=60.0, help="length of one timed batch (default 60 ms)")
    args = parser.parse_args(argv)
    rows = []
    for name, make in CASES.items():
        tf_us, np_us = measure(make, args.trials, args.batch_ms / 1000.0)
        rows.append((name, tf_us, np_us, tf_us / np_us, tf_us - np_us))
    width = max(len(r[0]) for r in rows)
    print(f"Session.run overhead: median of {args.trials} interleaved trials, microseconds per call")
    print(f"{'case':<{width}}  {'tfmini':>9}  {'NumPy':>9}  {'ratio':>7}  {'overhead':>9}")
    for name, tf_us, np_us, ratio, extra in rows:
        print(f"{name:<{width}}  {tf_us:9.2f}  {np_us:9.2f}  {ratio:6.1f}x  {extra:9.2f}")


if __name__ == "__main__":
    main()
