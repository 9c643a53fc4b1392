"""`python -m benchmarks.parallel`: the parallel in-process engine against the serial one on graphs with
independent branches (four 512x512 matmul chains; an Inception-style block of four convolution/pooling
branches), and against hand-written NumPy running the same branches one after the other. Paired,
interleaved trials in one process; medians and ratios. `--blas-threads 1` keeps BLAS to one thread per call,
so the engine's threads are the only parallelism."""

from __future__ import annotations

import argparse
import os

import numpy as np

from benchmarks.run import Side, measure


def _branches_data(rng):
    return {"x": rng.standard_normal((512, 512)).astype(np.float32),
            "ws": [(rng.standard_normal((512, 512)) / 23).astype(np.float32) for _ in range(4)]}


def _branches_graph(tf, d):
    x = tf.placeholder(tf.float32, [512, 512])
    outs = []
    for w in d["ws"]:
        w = tf.constant(w)
        outs.append(tf.nn.relu(tf.nn.relu(x @ w) @ w))
    return tf.add_n(outs), {x: d["x"]}


def _branches_numpy(d):
    x, ws = d["x"], d["ws"]
    return lambda: sum(np.maximum(np.maximum(x @ w, 0) @ w, 0) for w in ws)


def _inception_data(rng):
    def f(*shape, scale=0.1):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    return {"x": f(16, 28, 28, 64, scale=1.0), "w1": f(1, 1, 64, 64), "w3r": f(1, 1, 64, 48), "w3": f(3, 3, 48, 64),
            "w5r": f(1, 1, 64, 16), "w5": f(5, 5, 16, 32), "wp": f(1, 1, 64, 32)}


def _inception_graph(tf, d):
    x = tf.placeholder(tf.float32, [16, 28, 28, 64])

    def conv(v, w):
        return tf.nn.relu(tf.nn.conv2d(v, tf.constant(d[w]), [1, 1, 1, 1], "SAME"))

    pool = tf.nn.max_pool(x, [1, 3, 3, 1], [1, 1, 1, 1], "SAME")
    block = tf.concat([conv(x, "w1"), conv(conv(x, "w3r"), "w3"), conv(conv(x, "w5r"), "w5"), conv(pool, "wp")], 3)
    return tf.reduce_sum(block), {x: d["x"]}


WORKLOADS = {"branches": (_branches_data, _branches_graph, _branches_numpy),
             "inception": (_inception_data, _inception_graph, None)}


def _session_side(tf, name: str, threads: int, build, data) -> Side:
    graph = tf.Graph()
    with graph.as_default():
        fetch, feed = build(tf, data)
    sess = tf.Session(graph=graph, config=tf.ConfigProto(inter_op_parallelism_threads=threads))
    result = sess.run(fetch, feed)
    return Side(name, lambda: sess.run(fetch, feed), result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=9)
    parser.add_argument("--budget", type=float, default=0.4, help="seconds per trial per side")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="the parallel engine's threads")
    parser.add_argument("--blas-threads", type=int, default=None, help="limit BLAS to this many threads")
    args = parser.parse_args(argv)
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - installed with scikit-learn (dev extras)

        with threadpool_limits(args.blas_threads, user_api="blas"):
            return _run(args)
    return _run(args)


def _run(args) -> int:
    import tfmini as tf

    print(f"{os.cpu_count()} cores; parallel engine with {args.threads} threads; BLAS threads: "
          f"{args.blas_threads or 'default'}")
    header = ("workload", "serial ms", "parallel ms", "speed-up", "NumPy ms", "parallel / NumPy")
    rows = []
    for name, (make, build, numpy_factory) in WORKLOADS.items():
        data = make(np.random.default_rng(0))
        sides = [_session_side(tf, "serial", 1, build, data), _session_side(tf, "parallel", args.threads, build, data)]
        if not np.array_equal(sides[0].result, sides[1].result):
            raise AssertionError(f"{name}: the parallel engine's result differs from the serial engine's")
        if numpy_factory is not None:
            sides.append(Side("numpy", numpy_factory(data), None))
        med = measure(sides, args.trials, args.budget)
        numpy_ms = f"{med['numpy'] * 1e3:.2f}" if "numpy" in med else "-"
        vs_numpy = f"{med['parallel'] / med['numpy']:.2f}x" if "numpy" in med else "-"
        rows.append((name, f"{med['serial'] * 1e3:.2f}", f"{med['parallel'] * 1e3:.2f}",
                     f"{med['serial'] / med['parallel']:.2f}x", numpy_ms, vs_numpy))
    widths = [max(len(str(r[i])) for r in [*rows, header]) for i in range(len(header))]
    for r in [header, *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
