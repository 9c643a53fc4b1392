"""`python -m benchmarks.conv [--tensorflow PYTHON]`: convolution workloads on tfmini, hand-written NumPy and
(when a TensorFlow Python is given) TensorFlow's compat.v1 Session, with paired trials in one run.

TensorFlow runs in its own process (`PYTHON -m benchmarks.conv --worker`, with `CUDA_VISIBLE_DEVICES=` and
`TF_CPP_MIN_LOG_LEVEL=2`); the parent asks it for one trial at a time over a pipe and gets each timing back as
a JSON line, so every trial of tfmini is paired with a TensorFlow trial taken right beside it. The figures
printed are medians over the trials of the per-trial ratios, which is what stays meaningful on a machine whose
speed swings from minute to minute.

Workloads (defined, with their hand-written NumPy steps, in benchmarks/workloads.py):
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

from benchmarks.workloads import TARGETS_VS_TF, WORKLOADS

NAMES = ("conv", "cnn_train")


def _workload(name: str):
    return next(w for w in WORKLOADS if w.name == name)


def _data(name: str) -> dict:
    return _workload(name).make_data(np.random.default_rng(0))


def _build(tf, name: str, d: dict):
    """(fetches, feed_dict, init op or None) of one step of workload `name`, with the TF1 API of `tf`."""
    built = _workload(name).build(tf, d)
    return built[0], built[1], built[3] if len(built) > 3 else None


def _numpy_step(name: str):
    """Hand-written NumPy for the workload (benchmarks.workloads): im2col through a strided view and one GEMM
    per convolution, bias and relu, pooling by reshape; the training step's gradients by hand."""
    return _workload(name).numpy_factory(_data(name))


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
    parser.add_argument("--only", nargs="*", choices=NAMES)
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
        for name in args.only or NAMES:
            sides = {"tfmini": _session_step(tfmini, name), "numpy": _numpy_step(name)}
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
