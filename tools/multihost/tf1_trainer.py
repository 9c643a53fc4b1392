"""One task of a classic TF1 ps/worker program, for the three hosts tools/multihost/run.sh makes:
`python tf1_trainer.py ps 0` serves the ps; `python tf1_trainer.py worker N` trains the shared variable under
MonitoredTrainingSession (worker 0 is the chief) and prints its steps, last loss and global step."""

import sys

import numpy as np

import tfmini as tf

job, index = sys.argv[1], int(sys.argv[2])
cluster = tf.train.ClusterSpec({"ps": ["10.9.0.11:2222"], "worker": ["10.9.0.12:2222", "10.9.0.13:2222"]})
server = tf.train.Server(cluster, job_name=job, task_index=index)
if job == "ps":
    server.join()
else:
    with tf.device(tf.train.replica_device_setter(worker_device=f"/job:worker/task:{index}", cluster=cluster)):
        step = tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.placeholder(tf.float32, [None, 1])
        w = tf.get_variable("w", [4, 1], initializer=tf.zeros_initializer())
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    rng = np.random.RandomState(index)
    hooks = [tf.train.StopAtStepHook(last_step=3000)]
    steps = 0
    with tf.train.MonitoredTrainingSession(master=server.target, is_chief=index == 0, hooks=hooks) as sess:
        while not sess.should_stop():
            xs = rng.randn(8, 4)
            _, last, at = sess.run([train, loss, step], {x: xs, y: xs @ np.array([[1.0], [2.0], [3.0], [4.0]])})
            steps += 1
    print(f"worker {index}: {steps} steps, last loss {last:.3g}, global step {at}", flush=True)
