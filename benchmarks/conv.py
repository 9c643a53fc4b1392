"""`python -m benchmarks.conv [--tensorflow PYTHON]`: convolution workloads on tfmini, hand-written NumPy and
(when a TensorFlow Python is given) TensorFlow's compat.v1 Session, with paired trials in one run.

TensorFlow runs in its own process (`PYTHON -m benchmarks.conv --worker`, with `CUDA_VISIBLE_DEVICES=` and
`TF_CPP_MIN_LOG_LEVEL=2`); the parent asks it for one trial at a time over a pipe and gets each timing back as
a JSON line, so every trial of tfmini is paired with a TensorFlow trial taken right beside it. The figures
printed are medians over the trials of the per-trial ratios, which is what stays meaningful on a machine whose
speed swings from minute to minute.

Workloads:
- conv: conv2d 3x3 SAME [32,28,28,16] -> 32 channels, bias, relu, 2x2 max-pool (one inference step);
- cnn_train: one SGD step of a small CNN on a batch of 32 28x28x1 images (conv 3x3 -> 16, relu, 2x2 max-pool,
  conv 3x3 -> 32, relu, 2x2 max-pool, dense -> 10, softmax cross-entropy).
This module must import nothing of tfmini at module level: the TensorFlow worker runs it too.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

TARGETS_VS_TF = {"conv": 1.0, "cnn_train": 1.1}


def _data(name: str) -> dict:
    rng = np.random.default_rng(0)

    def f32(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    if name == "conv":
        return {"x": f32(32, 28, 28, 16), "K": f32(3, 3, 16, 32, scale=0.1), "b": f32(32, scale=0.1)}
    labels = rng.integers(0, 10, 32)
    return {"x": f32(32, 28, 28, 1), "y": np.eye(10, dtype=np.float32)[labels],
            "K1": f32(3, 3, 1, 16, scale=0.3), "b1": np.zeros(16, np.float32),
            "K2": f32(3, 3, 16, 32, scale=0.1), "b2": np.zeros(32, np.float32),
            "W": f32(7 * 7 * 32, 10, scale=0.03), "b3": np.zeros(10, np.float32)}


def _build(tf, name: str, d: dict):
    """(fetches, feed_dict, init op or None) of one step of workload `name`, with the TF1 API of `tf`."""
    def pool(t):
        return tf.nn.max_pool(t, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")

    if name == "conv":
        x = tf.placeholder(tf.float32, [None, 28, 28, 16], name="x")
        y = tf.nn.conv2d(x, tf.constant(d["K"]), strides=[1, 1, 1, 1], padding="SAME")
        return pool(tf.nn.relu(tf.nn.bias_add(y, tf.constant(d["b"])))), {x: d["x"]}, None
    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    labels = tf.placeholder(tf.float32, [None, 10], name="labels")
    v = {k: tf.Variable(d[k], name=k) for k in ("K1", "b1", "K2", "b2", "W", "b3")}
    h = pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, v["K1"], [1, 1, 1, 1], "SAME"), v["b1"])))
    h = pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, v["K2"], [1, 1, 1, 1], "SAME"), v["b2"])))
    logits = tf.matmul(tf.reshape(h, [-1, 7 * 7 * 32]), v["W"]) + v["b3"]
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    return [train, loss], {x: d["x"], labels: d["y"]}, tf.global_variables_initializer()


def _numpy_conv_step(d: dict):
    """Hand-written NumPy for the conv workload: pad once, im2col through a strided view, one GEMM, bias and
    relu in place, pool by reshape."""
    x, K, b = d["x"], d["K"], d["b"]
    kmat = K.reshape(-1, K.shape[-1])
    n, h, w, cin = x.shape
    padded = np.zeros((n, h + 2, w + 2, cin), np.float32)

    def step():
        padded[:, 1:-1, 1:-1, :] = x
        s = padded.strides
        cols = np.lib.stride_tricks.as_strided(padded, (n, h, w, 3, 3, cin), (s[0], s[1], s[2], s[1], s[2], s[3]))
        y = cols.reshape(n * h * w, 9 * cin) @ kmat
        y += b
        np.maximum(y, 0, out=y)
        return y.reshape(n, h // 2, 2, w // 2, 2, -1).max(axis=(2, 4))

    return step


def _session_step(tf, name: str):
    graph = tf.Graph()
    with graph.as_default():
        fetches, feed, init = _build(tf, name, _data(name))
    sess = tf.Session(graph=graph)
    if init is not None:
        sess.run(init)
    return lambda: sess.run(fetches, feed)


def _trial(step, reps: int) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t0) / reps


def _reps_for(step, budget: float) -> int:
    for _ in range(3):
        step()
    t = _trial(step, 3)
    return max(1, int(budget / max(t, 1e-6)))


def _worker() -> int:
    """The TensorFlow side: one JSON request per line on stdin, one JSON answer per line on stdout."""
    import tensorflow.compat.v1 as tf1  # noqa: PLC0415 - only the worker process has TensorFlow

    tf1.disable_eager_execution()
    steps: dict = {}
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] == "setup":
            steps[req["name"]] = _session_step(tf1, req["name"])
            answer = {"reps": _reps_for(steps[req["name"]], req["budget"]), "version": tf1.VERSION}
        elif req["cmd"] == "trial":
            answer = {"seconds": _trial(steps[req["name"]], req["reps"])}
        else:
            return 0
        print(json.dumps(answer), flush=True)
    return 0


class _TensorFlowWorker:
    def __init__(self, python: str) -> None:
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.proc = subprocess.Popen([python, "-m", "benchmarks.conv", "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=root)

    def ask(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the TensorFlow worker exited; run it by hand to see why")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tensorflow", metavar="PYTHON", help="a Python with TensorFlow to compare against")
    parser.add_argument("--trials", type=int, default=9)
    parser.add_argument("--budget", type=float, default=0.2, help="seconds per trial per side")
    parser.add_argument("--only", nargs="*", choices=["conv", "cnn_train"])
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit tfmini's and NumPy's BLAS to this many threads (default: BLAS's own setting)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - installed with scikit-learn (dev extras)

        with threadpool_limits(args.blas_threads, user_api="blas"):
            return _run(args)
    return _run(args)


def _run(args) -> int:
    import tfmini  # noqa: PLC0415 - the TensorFlow worker runs this module without tfmini

    worker = _TensorFlowWorker(args.tensorflow) if args.tensorflow else None
    rows = []
    try:
        for name in args.only or ["conv", "cnn_train"]:
            sides = {"tfmini": _session_step(tfmini, name)}
            if name == "conv":
                sides["numpy"] = _numpy_conv_step(_data(name))
            reps = {k: _reps_for(s, args.budget) for k, s in sides.items()}
            tf_reps = worker.ask(cmd="setup", name=name, budget=args.budget)["reps"] if worker else 0
            samples: dict = {k: [] for k in [*sides, *(["tensorflow"] if worker else [])]}
            for trial in range(args.trials):
                order = list(sides) + (["tensorflow"] if worker else [])
                for k in order if trial % 2 == 0 else reversed(order):
                    if k == "tensorflow":
                        samples[k].append(worker.ask(cmd="trial", name=name, reps=tf_reps)["seconds"])
                    else:
                        samples[k].append(_trial(sides[k], reps[k]))
            rows.append((name, samples))
    finally:
        if worker:
            worker.close()
    _print(rows)
    return 0


def _ratio(samples: dict, a: str, b: str) -> str:
    if b not in samples:
        return "-"
    return f"{statistics.median(x / y for x, y in zip(samples[a], samples[b])):.2f}x"


def _print(rows) -> None:
    header = ("workload", "tfmini ms", "NumPy ms", "TF ms", "tfmini/NumPy", "tfmini/TF", "target vs TF", "met")
    table = []
    for name, s in rows:
        def ms(k, s=s):
            return f"{statistics.median(s[k]) * 1e3:.2f}" if k in s else "-"
        vs_tf = _ratio(s, "tfmini", "tensorflow")
        met = "-" if vs_tf == "-" else ("yes" if float(vs_tf[:-1]) <= TARGETS_VS_TF[name] else "NO")
        table.append((name, ms("tfmini"), ms("numpy"), ms("tensorflow"), _ratio(s, "tfmini", "numpy"), vs_tf,
                      f"<= {TARGETS_VS_TF[name]}x", met))
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    print(f"machine: {os.cpu_count()} cores, NumPy {np.__version__}; medians of paired per-trial ratios")
    for r in [header, tuple("-" * w for w in widths), *table]:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    raise SystemExit(main())
