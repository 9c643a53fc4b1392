"""`python -m benchmarks.distributed [--tensorflow PYTHON]`: distributed tfmini (sessions on tf.train.Server
targets, served by Dask workers) against TensorFlow's own gRPC runtime doing the same TF1 programs.

(a) step: the per-step time of a small 1 ps + 2 worker program (a 16x16 variable on the ps, one matmul on
    each worker, their sum and a variable update back on the ps; a feed and a fetch), on an in-process
    cluster (three Servers in this process) and on three server processes with this process as the client.
    With a TensorFlow Python, TensorFlow's servers run as three processes too and a TensorFlow client
    process times the same program. Target: tfmini <= 22 ms per step on this machine.
(b) data parallel: between-graph training of an MLP (784-512-512-10, batch 512, SGD) with 1 and then 2
    worker processes on one ps process; each worker process is a TF1 script (its own Server, a session on
    it, replica_device_setter) training for a fixed time; the figure is the steps per second of all workers
    together. Every process runs BLAS on ONE thread (OPENBLAS_NUM_THREADS=1 and friends), since this machine
    has two cores: two workers can then use both. Target: 2 workers >= 1.5x the steps per second of one.

Every process is this module: `--serve` runs one task's server, `--step-client` times (a) as a client,
`--mlp-worker` is one training process of (b). The module imports neither tfmini nor TensorFlow at module
level (each process imports the one it runs)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import numpy as np

STEP_TARGET_MS = 22.0
SCALING_TARGET = 1.5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
                                     "BLIS_NUM_THREADS")}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cluster(workers: int) -> dict:
    return {"ps": [f"localhost:{_free_port()}"], "worker": [f"localhost:{_free_port()}" for _ in range(workers)]}


def _tf_module(use_tensorflow: bool):
    if use_tensorflow:
        import tensorflow.compat.v1 as tf1  # noqa: PLC0415 - only TensorFlow's processes import TensorFlow

        tf1.disable_eager_execution()
        tf1.logging.set_verbosity(tf1.logging.ERROR)
        return tf1
    import tfmini  # noqa: PLC0415 - TensorFlow's processes run this module without tfmini

    return tfmini


# ----------------------------------------------------------------------------------------------------------
# (a) the small step
# ----------------------------------------------------------------------------------------------------------
def _step_program(tf):
    """(fetches, feed_dict, init op) of the small 1 ps + 2 worker step."""
    rng = np.random.default_rng(0)
    with tf.device("/job:ps/task:0"):
        w = tf.Variable(rng.standard_normal((16, 16)).astype(np.float32) * 0.1, name="w")
    x = tf.placeholder(tf.float32, [4, 16], name="x")
    with tf.device("/job:worker/task:0"):
        a = tf.matmul(x, w)
    with tf.device("/job:worker/task:1"):
        b = tf.matmul(x, w)
    with tf.device("/job:worker/task:0"):
        out = tf.reduce_sum(a + b)
    with tf.device("/job:ps/task:0"):
        update = tf.assign_add(w, tf.fill([16, 16], 1e-6))
    feed = {x: rng.standard_normal((4, 16)).astype(np.float32)}
    return [out, update.op], feed, tf.global_variables_initializer()


def _time_steps(tf, target: str, steps: int) -> list[float]:
    """Per-step seconds of the small program on `target` (after warm-up runs)."""
    graph = tf.Graph()
    with graph.as_default():
        fetches, feed, init = _step_program(tf)
    with tf.Session(target, graph=graph) as sess:
        sess.run(init)
        for _ in range(20):
            sess.run(fetches, feed)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            sess.run(fetches, feed)
            times.append(time.perf_counter() - t0)
    return times


def _serve(args) -> int:
    tf = _tf_module(args.tf)
    server = tf.train.Server(tf.train.ClusterSpec(json.loads(args.serve)), job_name=args.job,
                             task_index=args.index)
    print("serving", server.target, flush=True)
    server.join()
    return 0


def _start_servers(python: str, cluster: dict, use_tensorflow: bool, env: dict | None = None) -> list:
    procs = []
    base = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0",
                PYTHONPATH=ROOT, **(env or {}))
    for job, addresses in cluster.items():
        for index in range(len(addresses)):
            cmd = [python, "-m", "benchmarks.distributed", "--serve", json.dumps(cluster), "--job", job,
                   "--index", str(index), *(["--tf"] if use_tensorflow else [])]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=base, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True))
    for proc in procs:
        if not proc.stdout.readline().startswith("serving"):
            raise RuntimeError("a server process did not start; run it by hand to see why")
    return procs


def _stop(procs: list) -> None:
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def _step_client(args) -> int:
    tf = _tf_module(args.tf)
    print(json.dumps(_time_steps(tf, args.step_client, args.steps)), flush=True)
    return 0


def _run_client(python: str, target: str, steps: int, use_tensorflow: bool) -> list[float]:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0",
               PYTHONPATH=ROOT)
    cmd = [python, "-m", "benchmarks.distributed", "--step-client", target, "--steps", str(steps),
           *(["--tf"] if use_tensorflow else [])]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_step(steps: int, tensorflow: str | None) -> dict:
    """Median per-step milliseconds of (a) per setting."""
    import tfmini  # noqa: PLC0415 - TensorFlow's processes run this module without tfmini

    results = {}
    cluster = _cluster(2)
    servers = [tfmini.train.Server(cluster, job_name=job, task_index=i)
               for job in ("ps", "worker") for i in range(len(cluster[job]))]
    try:
        results["tfmini, in-process cluster"] = _time_steps(tfmini, servers[1].target, steps)
    finally:
        for server in reversed(servers):
            server._stop()
    cluster = _cluster(2)
    procs = _start_servers(sys.executable, cluster, False)
    try:
        results["tfmini, 3 server processes"] = _time_steps(tfmini, f"grpc://{cluster['worker'][0]}", steps)
    finally:
        _stop(procs)
    if tensorflow:
        cluster = _cluster(2)
        procs = _start_servers(tensorflow, cluster, True)
        try:
            results["TensorFlow, 3 server processes"] = _run_client(
                tensorflow, f"grpc://{cluster['worker'][0]}", steps, True)
        finally:
            _stop(procs)
    return {k: statistics.median(v) * 1e3 for k, v in results.items()}


# ----------------------------------------------------------------------------------------------------------
# (b) data-parallel MLP training, between-graph
# ----------------------------------------------------------------------------------------------------------
BATCH, SIZES = 512, (784, 512, 512, 10)


def _mlp_worker(args) -> int:
    """One worker process of (b): serves its task, trains on shared ps variables for `--seconds` after
    every worker is ready, and prints its step count and time as JSON."""
    tf = _tf_module(args.tf)
    cluster = tf.train.ClusterSpec(json.loads(args.mlp_worker))
    server = tf.train.Server(cluster, job_name="worker", task_index=args.index)
    rng = np.random.default_rng(args.index)
    data = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], BATCH)]
    with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device=f"/job:worker/task:{args.index}")):
        x = tf.placeholder(tf.float32, [None, SIZES[0]])
        y = tf.placeholder(tf.float32, [None, SIZES[-1]])
        h = x
        for i, (m, n) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            w = tf.get_variable(f"w{i}", initializer=(np.random.default_rng(i).standard_normal((m, n)) *
                                                      np.sqrt(2.0 / m)).astype(np.float32))
            b = tf.get_variable(f"b{i}", initializer=np.zeros(n, np.float32))
            h = tf.matmul(h, w) + b
            if i < len(SIZES) - 2:
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
        step = tf.train.get_or_create_global_step()
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=step)
        init = tf.global_variables_initializer()
        uninitialized = tf.report_uninitialized_variables()
    with tf.Session(server.target) as sess:
        if args.index == 0:
            sess.run(init)
        while sess.run(uninitialized).size:
            time.sleep(0.05)
        feed = {x: data, y: labels}
        for _ in range(3):
            sess.run(train, feed)
        print("ready", flush=True)
        sys.stdin.readline()  # the parent starts every worker's timed window at once
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            sess.run(train, feed)
            count += 1
        print(json.dumps({"steps": count, "seconds": time.perf_counter() - t0}), flush=True)
    return 0


def bench_data_parallel(workers: int, seconds: float, python: str, use_tensorflow: bool) -> float:
    """Steps per second of all workers of (b) together."""
    cluster = _cluster(workers)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0",
               PYTHONPATH=ROOT, **ONE_THREAD)
    ps = subprocess.Popen([python, "-m", "benchmarks.distributed", "--serve", json.dumps(cluster), "--job", "ps",
                           "--index", "0", *(["--tf"] if use_tensorflow else [])], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs = [subprocess.Popen([python, "-m", "benchmarks.distributed", "--mlp-worker", json.dumps(cluster),
                               "--index", str(i), "--seconds", str(seconds), *(["--tf"] if use_tensorflow else [])],
                              cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for i in range(workers)]
    try:
        assert ps.stdout.readline().startswith("serving")
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a training process failed; run it by hand to see why")
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = [json.loads(proc.stdout.readline()) for proc in procs]
    finally:
        _stop([*procs, ps])
    return sum(r["steps"] / r["seconds"] for r in reports)


# ----------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tensorflow", metavar="PYTHON", help="a Python with TensorFlow to compare against")
    parser.add_argument("--steps", type=int, default=200, help="timed steps of (a) per setting")
    parser.add_argument("--seconds", type=float, default=6.0, help="timed seconds of (b) per setting")
    parser.add_argument("--only", choices=["step", "data-parallel"])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--tf", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step-client", help=argparse.SUPPRESS)
    parser.add_argument("--mlp-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return _serve(args)
    if args.step_client:
        return _step_client(args)
    if args.mlp_worker:
        return _mlp_worker(args)
    print(f"machine: {os.cpu_count()} cores, NumPy {np.__version__}")
    if args.only in (None, "step"):
        step = bench_step(args.steps, args.tensorflow)
        tf_ms = step.get("TensorFlow, 3 server processes")
        print(f"(a) small 1 ps + 2 worker step, median ms per step (target tfmini <= {STEP_TARGET_MS:g} ms)")
        for name, ms in step.items():
            vs = f"  ({ms / tf_ms:.2f}x TensorFlow)" if tf_ms and not name.startswith("TensorFlow") else ""
            met = "" if name.startswith("TensorFlow") else ("  met" if ms <= STEP_TARGET_MS else "  NOT met")
            print(f"  {name:34s} {ms:7.2f}{vs}{met}")
    if args.only in (None, "data-parallel"):
        print(f"(b) between-graph MLP training {SIZES}, batch {BATCH}, BLAS on 1 thread per process, "
              f"steps/s of all workers (target 2 workers >= {SCALING_TARGET:g}x one)")
        sides = [("tfmini", sys.executable, False)] + ([("TensorFlow", args.tensorflow, True)]
                                                       if args.tensorflow else [])
        for name, python, use_tf in sides:
            one = bench_data_parallel(1, args.seconds, python, use_tf)
            two = bench_data_parallel(2, args.seconds, python, use_tf)
            met = "" if use_tf else ("  met" if two / one >= SCALING_TARGET else "  NOT met")
            print(f"  {name:10s} 1 worker {one:7.2f}/s   2 workers {two:7.2f}/s   speed-up {two / one:.2f}x{met}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
