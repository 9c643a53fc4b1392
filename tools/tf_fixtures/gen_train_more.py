"""Records TensorFlow training trajectories of FtrlOptimizer, ProximalGradientDescentOptimizer,
ProximalAdagradOptimizer and AdagradDAOptimizer (dense and sparse gradients, ref and resource variables) and
the values of the cosine-restart and linear-cosine learning-rate decays, for tests/train/test_more_optimizers.py.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_train_more.py
Writes tests/fixtures/tf/train_more/: optimizers.json (per case: the optimizer, its arguments, the variable
kind, the slot variables' names) and optimizers.npz (per case and step: the variable and its slots),
decays.npz (each schedule's value at steps 0..39), raw_ftrl.npz (the Resource*Ftrl* ops with and without
multiply_linear_by_lr: var, accum and linear after each of three steps), warm_start/ (a TensorFlow checkpoint
of variables old/w, old/inner/b and v for tf.train.init_from_checkpoint in tests/train/test_checkpoint_utils.py),
profiler/ (tf.profiler.profile's GraphNodeProto and MultiGraphNodeProto of a small model's parameters and
float operations, and its printed tables, for tests/train/test_profiler.py), and object/ (an object-based
tf.train.Checkpoint of variables, an Adam optimizer and a nested Checkpoint after two training steps, with
the values it holds, for tests/train/test_object_checkpoints.py).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "train_more")
STEPS = 4
W0 = np.array([[0.5, -1.0, 2.0], [0.05, -0.3, 1.5], [-2.0, 0.01, 0.7], [1.0, 1.0, -1.0]], np.float32)
X = np.array([[1.0, -2.0, 0.5], [0.1, 0.2, -0.3], [3.0, -0.5, 0.25], [-1.0, 0.3, 0.0]], np.float32)
ROWS = np.array([0, 2, 0, 3], np.int32)  # row 0 twice: its gradients are summed

CASES = [
    ("FtrlOptimizer", {"learning_rate": 0.3}),
    ("FtrlOptimizer", {"learning_rate": 0.2, "l1_regularization_strength": 0.05, "l2_regularization_strength": 0.1}),
    ("FtrlOptimizer", {"learning_rate": 0.1, "learning_rate_power": -0.7, "initial_accumulator_value": 0.3,
                       "l1_regularization_strength": 0.02, "l2_regularization_strength": 0.2}),
    ("FtrlOptimizer", {"learning_rate": 0.2, "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.1,
                       "l2_shrinkage_regularization_strength": 0.3}),
    ("FtrlOptimizer", {"learning_rate": 0.1, "accum_name": "acc", "linear_name": "lin"}),
    ("ProximalGradientDescentOptimizer", {"learning_rate": 0.2}),
    ("ProximalGradientDescentOptimizer", {"learning_rate": 0.2, "l1_regularization_strength": 0.3,
                                          "l2_regularization_strength": 0.5}),
    ("ProximalGradientDescentOptimizer", {"learning_rate": 0.1, "l2_regularization_strength": 0.5}),
    ("ProximalAdagradOptimizer", {"learning_rate": 0.3}),
    ("ProximalAdagradOptimizer", {"learning_rate": 0.3, "initial_accumulator_value": 0.5,
                                  "l1_regularization_strength": 0.1, "l2_regularization_strength": 0.2}),
    ("AdagradDAOptimizer", {"learning_rate": 0.5}),
    ("AdagradDAOptimizer", {"learning_rate": 0.5, "initial_gradient_squared_accumulator_value": 0.2,
                            "l1_regularization_strength": 0.05, "l2_regularization_strength": 0.1}),
]


def loss_of(w, sparse):
    """A loss whose gradient depends on w (so steps differ); `sparse` reads rows through a gather."""
    if sparse:
        rows = tf.gather(w, ROWS)
        return tf.reduce_sum(tf.sin(rows) * X)
    return tf.reduce_sum(tf.sin(w) * X) + 0.1 * tf.reduce_sum(w * w * w)


def run_case(opt_name, kwargs, sparse, resource):
    with tf.Graph().as_default():
        gs = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
        w = tf.get_variable("w", initializer=W0, use_resource=resource)
        args = dict(kwargs)
        if opt_name == "AdagradDAOptimizer":
            args["global_step"] = gs
        opt = getattr(tf.train, opt_name)(**args)
        train = opt.minimize(loss_of(w, sparse), global_step=gs)
        slots = [opt.get_slot(w, n) for n in opt.get_slot_names()]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = []
            for _ in range(STEPS):
                sess.run(train)
                values.append(sess.run([w] + slots))
        names = {n: opt.get_slot(w, n).op.name for n in opt.get_slot_names()}
        return names, [np.stack([v[i] for v in values]) for i in range(1 + len(slots))]


def raw_ftrl():
    """ResourceApplyFtrl(V2) and their sparse forms, with and without multiply_linear_by_lr: three steps."""
    out = {}
    grads = np.array([[0.3, -0.2, 0.5], [-1.0, 0.05, 0.0], [0.7, 0.7, -0.1]], np.float32)
    for v2 in (False, True):
        for by_lr in (False, True):
            for sparse in (False, True):
                with tf.Graph().as_default():
                    var = tf.Variable([[0.2, -0.1, 0.4], [1.0, 0.0, -2.0], [0.3, 0.3, 0.3]], use_resource=True)
                    accum = tf.Variable(np.full((3, 3), 0.2, np.float32), use_resource=True)
                    linear = tf.Variable(np.zeros((3, 3), np.float32), use_resource=True)
                    args = dict(var=var.handle, accum=accum.handle, linear=linear.handle, lr=0.3, l1=0.05,
                                l2=0.1, lr_power=-0.5, multiply_linear_by_lr=by_lr)
                    if v2:
                        args["l2_shrinkage"] = 0.2
                    if sparse:
                        args.update(grad=grads[[2, 0]], indices=[2, 0])
                        op = (tf.raw_ops.ResourceSparseApplyFtrlV2 if v2 else tf.raw_ops.ResourceSparseApplyFtrl)
                    else:
                        args["grad"] = grads
                        op = tf.raw_ops.ResourceApplyFtrlV2 if v2 else tf.raw_ops.ResourceApplyFtrl
                    update = op(**args)
                    with tf.Session() as sess:
                        sess.run(tf.global_variables_initializer())
                        steps = []
                        for _ in range(3):
                            sess.run(update)
                            steps.append(sess.run([var, accum, linear]))
                out[f"v2={int(v2)},by_lr={int(by_lr)},sparse={int(sparse)}"] = np.array(steps)
    return out


def decays():
    out = {}
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        schedules = {
            "restarts": tf.train.cosine_decay_restarts(0.5, step, 5),
            "restarts_mul": tf.train.cosine_decay_restarts(0.5, step, 4, t_mul=1.5, m_mul=0.8, alpha=0.1),
            "restarts_tmul1": tf.train.cosine_decay_restarts(1.0, step, 6, t_mul=1.0, m_mul=0.5),
            "linear_cosine": tf.train.linear_cosine_decay(0.5, step, 30),
            "linear_cosine_args": tf.train.linear_cosine_decay(0.2, step, 25, num_periods=2.0, alpha=0.1, beta=0.01),
            "noisy_zero_variance": tf.train.noisy_linear_cosine_decay(0.5, step, 30, initial_variance=0.0),
        }
        with tf.Session() as sess:
            for key, t in schedules.items():
                out[key] = np.array([sess.run(t, {step: s}) for s in range(40)])
    return out


def warm_start_checkpoint():
    directory = os.path.join(OUT, "warm_start")
    os.makedirs(directory, exist_ok=True)
    with tf.Graph().as_default():
        with tf.variable_scope("old"):
            tf.get_variable("w", initializer=np.arange(6, dtype=np.float32).reshape(2, 3))
            with tf.variable_scope("inner"):
                tf.get_variable("b", initializer=np.array([7.0, 8.0], np.float64))
        tf.get_variable("v", initializer=np.array(3, np.int64))
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, os.path.join(directory, "model"), write_meta_graph=False)
    state = os.path.join(directory, "checkpoint")
    with open(state) as f:
        text = f.read().replace(directory + os.sep, "")
    with open(state, "w") as f:
        f.write(text)


def profiler_model(tf_module):
    """A dense layer, a convolution with pooling and a loss over them, with one non-trainable variable."""
    x = tf_module.placeholder(tf_module.float32, [8, 6], name="x")
    image = tf_module.placeholder(tf_module.float32, [2, 5, 5, 3], name="image")
    with tf_module.variable_scope("dense"):
        kernel = tf_module.get_variable("kernel", [6, 4])
        bias = tf_module.get_variable("bias", [4], initializer=tf_module.zeros_initializer())
        hidden = tf_module.nn.relu(tf_module.matmul(x, kernel) + bias)
    with tf_module.variable_scope("conv"):
        filters = tf_module.get_variable("filters", [3, 3, 3, 2])
        conv = tf_module.nn.conv2d(image, filters, [1, 1, 1, 1], "SAME")
        conv = tf_module.nn.bias_add(conv, tf_module.get_variable("bias", [2]))
        pooled = tf_module.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    tf_module.Variable(0, name="counter", trainable=False)
    loss = tf_module.reduce_mean(tf_module.square(hidden - 1.0)) + tf_module.reduce_sum(pooled * pooled)
    return loss


def profiles():
    directory = os.path.join(OUT, "profiler")
    os.makedirs(directory, exist_ok=True)
    with tf.Graph().as_default() as g:
        profiler_model(tf)
        builder = tf.profiler.ProfileOptionBuilder
        for key, cmd, opts in [("params_scope", "scope", builder.trainable_variables_parameter()),
                               ("flops_scope", "scope", builder.float_operation()),
                               ("flops_op", "op", builder.float_operation())]:
            text = os.path.join(directory, key + ".txt")
            opts = builder(opts).with_file_output(text).build()
            result = tf.profiler.profile(g, cmd=cmd, options=opts)
            with open(os.path.join(directory, key + ".pb"), "wb") as f:
                f.write(result.SerializeToString())


def object_checkpoint():
    directory = os.path.join(OUT, "object")
    os.makedirs(directory, exist_ok=True)
    with tf.Graph().as_default():
        v = tf.get_variable("v", initializer=np.array([1.0, 2.0], np.float32), use_resource=False)
        w = tf.Variable(3.0, name="w")
        opt = tf.train.AdamOptimizer(0.1)
        train = opt.minimize(tf.reduce_sum(v * v) * w + w * w)
        ckpt = tf.train.Checkpoint(v=v, optimizer=opt, nested=tf.train.Checkpoint(w=w))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            sess.run(train)
            path = ckpt.save(os.path.join(directory, "ckpt"), session=sess)
            values = {name: sess.run(var) for name, var in [
                ("v", v), ("w", w), ("v_m", opt.get_slot(v, "m")), ("v_v", opt.get_slot(v, "v")),
                ("w_m", opt.get_slot(w, "m")), ("w_v", opt.get_slot(w, "v"))]}
            values["beta1_power"], values["beta2_power"] = sess.run(list(opt._get_beta_accumulators()))
    np.savez(os.path.join(directory, "values.npz"), **values)
    state = os.path.join(directory, "checkpoint")
    with open(state) as f:
        text = f.read().replace(directory + os.sep, "")
    with open(state, "w") as f:
        f.write(text)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    object_checkpoint()
    profiles()
    warm_start_checkpoint()
    meta, arrays = [], {}
    for opt_name, kwargs in CASES:
        for sparse in (False, True):
            for resource in (False, True):
                key = f"case{len(meta)}"
                names, values = run_case(opt_name, kwargs, sparse, resource)
                meta.append({"key": key, "optimizer": opt_name, "kwargs": kwargs, "sparse": sparse,
                             "resource": resource, "slots": names})
                arrays[key + "/w"] = values[0]
                for j, n in enumerate(sorted(names)):
                    arrays[f"{key}/{n}"] = values[1 + j]
    with open(os.path.join(OUT, "optimizers.json"), "w") as f:
        json.dump({"w0": W0.tolist(), "x": X.tolist(), "rows": ROWS.tolist(), "steps": STEPS, "cases": meta}, f,
                  indent=1)
    np.savez_compressed(os.path.join(OUT, "optimizers.npz"), **arrays)
    np.savez_compressed(os.path.join(OUT, "decays.npz"), **decays())
    np.savez_compressed(os.path.join(OUT, "raw_ftrl.npz"), **raw_ftrl())


if __name__ == "__main__":
    main()
