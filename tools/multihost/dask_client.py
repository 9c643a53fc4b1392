"""A client of an existing Dask cluster whose workers serve /job:ps/task:0 and /job:worker/task:0..1 (what
tools/multihost/run.sh starts): trains a linear model placed by replica_device_setter through
`tf.Session("dask://<scheduler>")`, then prints the time per step, the loss, the weights, the devices the session
lists and the devices of a traced step."""

import sys
import time

import numpy as np

import tfmini as tf

with tf.device(tf.train.replica_device_setter(ps_tasks=1, worker_device="/job:worker/task:1")):
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.get_variable("w", [4, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
rng = np.random.RandomState(0)
with tf.Session(sys.argv[1]) as sess:
    sess.run(tf.global_variables_initializer())
    start = time.perf_counter()
    for _ in range(200):
        xs = rng.randn(8, 4)
        feed = {x: xs, y: xs @ np.array([[1.0], [2.0], [3.0], [4.0]])}
        _, last = sess.run([train, loss], feed)
    print(f"{(time.perf_counter() - start) * 5:.2f} ms per step, last loss {last:.3g}, w {sess.run(w).ravel()}")
    metadata = tf.RunMetadata()
    sess.run(loss, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=metadata)
    print("devices:", [d.name for d in sess.list_devices()])
    print("traced step devices:", [d.device for d in metadata.step_stats.dev_stats])
