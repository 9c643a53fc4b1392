"""The remaining tf.contrib.rnn cells (ops/contrib_rnn_cells.py): variable names and shapes as TF 1.15 creates them,
numbers against NumPy re-implementations of TF 1.15's equations with weights set by tf.assign, values recorded by
TensorFlow 1.x's own tests where they exist (constant-initialized cells), dynamic_rnn/static_rnn driving, errors and
finite-difference gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.ops.functional_ops import flatten as nest_flatten

rnn = tf.contrib.rnn
LSTMStateTuple = tf.nn.rnn_cell.LSTMStateTuple


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def assign_random(sess, rng, scale: float = 0.5, overrides: dict | None = None) -> dict:
    """Gives every global variable random values with tf.assign; returns {name without ':0': value}."""
    values = {}
    for v in tf.global_variables():
        name = v.name[:-2]
        dtype = v.dtype.base_dtype.as_numpy_dtype
        value = np.asarray((overrides or {}).get(name, rng.uniform(-scale, scale, v.shape.as_list())), dtype=dtype)
        sess.run(tf.assign(v, value))
        values[name] = value
    return values


def names_of(variables) -> list[str]:
    return [v.name for v in variables]


# ----------------------------------------------------------------------------------------------------------
# NumPy references of TF 1.15's equations
# ----------------------------------------------------------------------------------------------------------
def np_time_freq(x, state, p, n, feature_size, skip, peep, clip, forget_bias):
    windows = (x.shape[1] - feature_size) // skip + 1
    m_freq = np.zeros((x.shape[0], n))
    w = np.concatenate([p[k] for k in sorted(k for k in p if k.startswith("W_") and "diag" not in k)], 0)
    outs, states = [], []
    for f in range(windows):
        c_prev = state[:, 2 * f * n:(2 * f + 1) * n]
        m_prev = state[:, (2 * f + 1) * n:(2 * f + 2) * n]
        z = np.concatenate([x[:, f * skip:f * skip + feature_size], m_prev, m_freq], 1) @ w + p["B"]
        i, j, fg, o = np.split(z, 4, axis=1)
        if peep:
            c = sig(fg + forget_bias + p["W_F_diag"] * c_prev) * c_prev + sig(i + p["W_I_diag"] * c_prev) * np.tanh(j)
        else:
            c = sig(fg + forget_bias) * c_prev + sig(i) * np.tanh(j)
        if clip is not None:
            c = np.clip(c, -clip, clip)
        m = (sig(o + p["W_O_diag"] * c) if peep else sig(o)) * np.tanh(c)
        m_freq = m
        outs.append(m)
        states += [c, m]
    return np.concatenate(outs, 1), np.concatenate(states, 1)


def np_grid_block(windows, prev_c, prev_m, p, n, coupled, shared, clip, forget_bias):
    """One block of the grid LSTM; `p` holds W_f, B_f, (W_t, B_t) and the peephole vectors present (block suffix
    dropped); absent peepholes count as zeros."""
    gates_n = 3 if coupled else 4

    def d(name):
        return p.get(name, 0.0)

    def gates(z):
        parts = np.split(z, gates_n, axis=1)
        return (parts[0], parts[1], None, parts[2]) if coupled else parts

    tk = "freq" if shared else "time"
    batch = windows[0].shape[0]
    c_freq = m_freq = np.zeros((batch, n))
    outs, states = [], []
    for k, win in enumerate(windows):
        ct, mt = prev_c[k], prev_m[k]
        z_in = np.concatenate([win, mt, m_freq], 1)
        zf = z_in @ p["W_f"] + p["B_f"]
        zt = zf if shared else z_in @ p["W_t"] + p["B_t"]
        i_f, j_f, f_f, o_f = gates(zf)
        i_t, j_t, f_t, o_t = gates(zt)
        ig_f = sig(i_f + d("W_I_diag_freqf") * c_freq + d("W_I_diag_freqt") * ct)
        fg_f = 1 - ig_f if coupled else sig(f_f + forget_bias + d("W_F_diag_freqf") * c_freq + d("W_F_diag_freqt") * ct)
        cf = fg_f * c_freq + ig_f * np.tanh(j_f)
        ig_t = sig(i_t + d(f"W_I_diag_{tk}f") * c_freq + d(f"W_I_diag_{tk}t") * ct)
        fg_t = 1 - ig_t if coupled else sig(f_t + forget_bias + d(f"W_F_diag_{tk}f") * c_freq
                                             + d(f"W_F_diag_{tk}t") * ct)
        ctn = fg_t * ct + ig_t * np.tanh(j_t)
        if clip is not None:
            cf, ctn = np.clip(cf, -clip, clip), np.clip(ctn, -clip, clip)
        mf = sig(o_f + d("W_O_diag_freqf") * cf + d("W_O_diag_freqt") * ctn) * np.tanh(cf)
        mtn = sig(o_t + d(f"W_O_diag_{tk}f") * cf + d(f"W_O_diag_{tk}t") * ctn) * np.tanh(ctn)
        c_freq, m_freq = cf, mf
        outs += [mtn, mf]
        states += [ctn, mtn]
    return outs, states


def grid_params(values: dict, prefix: str, block: int) -> dict:
    """The variables of one grid block, keyed without the scope and the block suffix."""
    p = {}
    for name, value in values.items():
        if not name.startswith(prefix):
            continue
        short = name[len(prefix):]
        if short in (f"W_f_{block}_0", f"W_t_{block}_0"):
            p[short[:3]] = value
        elif short.endswith(f"_{block}"):
            p[short[:-len(f"_{block}")]] = value
    return p


def np_phased(t, x, c, h, p, peep, leak):
    s = "phased_lstm_cell/"
    gin = np.concatenate([x, h] + ([c] if peep else []), 1)
    ig, fg = np.split(sig(gin @ p[s + "mask_gates/kernel"] + p[s + "mask_gates/bias"]), 2, axis=1)
    ni = np.tanh(np.concatenate([x, h], 1) @ p[s + "new_input/kernel"] + p[s + "new_input/bias"])
    nc = c * fg + ig * ni
    oin = np.concatenate([x, h] + ([nc] if peep else []), 1)
    nh = np.tanh(nc) * sig(oin @ p[s + "output_gate/kernel"] + p[s + "output_gate/bias"])
    period, phase, ratio = p[s + "period"], p[s + "phase"], p[s + "ratio_on"]
    cr = (np.mod(t - phase.astype(t.dtype), period.astype(t.dtype)) / period.astype(t.dtype)).astype(np.float32)
    k = np.where(cr < 0.5 * ratio, 2 * cr / ratio, np.where(cr < ratio, 2 - 2 * cr / ratio, leak * cr))
    return k * nc + (1 - k) * c, k * nh + (1 - k) * h


def np_indy_lstm(x, c, h, p, forget_bias=1.0):
    z = x @ p["kernel_w"] + np.tile(h, [1, 4]) * p["kernel_u"] + p["bias"]
    i, j, f, o = np.split(z, 4, axis=1)
    new_c = c * sig(f + forget_bias) + sig(i) * np.tanh(j)
    return np.tanh(new_c) * sig(o), new_c


# ----------------------------------------------------------------------------------------------------------
# TimeFreqLSTMCell
# ----------------------------------------------------------------------------------------------------------
def test_time_freq_lstm_matches_numpy_with_peepholes_clip_and_shards():
    n, fs, skip = 3, 2, 1
    rng = np.random.RandomState(0)
    x_val = rng.uniform(-1, 1, (2, 4))
    windows = (4 - fs) // skip + 1
    state_val = rng.uniform(-1, 1, (2, 2 * n * windows))
    with tf.Graph().as_default():
        cell = rnn.TimeFreqLSTMCell(n, use_peepholes=True, cell_clip=0.8, num_unit_shards=2, feature_size=fs,
                                    frequency_skip=skip, forget_bias=0.5)
        assert cell.state_size == 2 * n and cell.output_size == n  # TF 1.15's sizes: one window
        x = tf.placeholder(tf.float64, [2, 4])
        s = tf.placeholder(tf.float64, [2, 2 * n * windows])
        out, new_state = cell(x, s)
        assert out.shape.as_list() == [2, n * windows]
        assert new_state.shape.as_list() == [2, 2 * n * windows]
        assert names_of(tf.global_variables()) == [
            "time_freq_lstm_cell/W_0:0", "time_freq_lstm_cell/W_1:0", "time_freq_lstm_cell/B:0",
            "time_freq_lstm_cell/W_F_diag:0", "time_freq_lstm_cell/W_I_diag:0", "time_freq_lstm_cell/W_O_diag:0"]
        assert [v.shape.as_list() for v in tf.global_variables()][:2] == [[4, 4 * n], [4, 4 * n]]  # 2 + 2n rows
        with tf.Session() as sess:
            values = assign_random(sess, rng)
            got_out, got_state = sess.run([out, new_state], {x: x_val, s: state_val})
    p = {k.split("/")[-1]: v for k, v in values.items()}
    want_out, want_state = np_time_freq(x_val, state_val, p, n, fs, skip, True, 0.8, 0.5)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-10)
    np.testing.assert_allclose(got_state, want_state, rtol=1e-10)


# ----------------------------------------------------------------------------------------------------------
# GridLSTMCell and BidirectionalGridLSTMCell
# ----------------------------------------------------------------------------------------------------------
_X_INT = np.array([[1., 1., 1., 1.], [2., 2., 2., 2.], [3., 3., 3., 3.]], np.float32)
_X_FRAC = np.array([[1.0, 1.1, 1.2, 1.3], [2.0, 2.1, 2.2, 2.3], [3.0, 3.1, 3.2, 3.3]], np.float32)

# Recorded by TensorFlow 1.x's contrib rnn_cell tests (constant 0.5 weights, 0.1 states).
_GRID_COUPLED_OUTPUT = [
    [0.416383, 0.416383, 0.403238, 0.403238, 0.524020, 0.524020, 0.565425, 0.565425, 0.557865, 0.557865,
     0.609699, 0.609699],
    [0.627331, 0.627331, 0.622393, 0.622393, 0.688342, 0.688342, 0.708078, 0.708078, 0.694245, 0.694245,
     0.715171, 0.715171],
    [0.711050, 0.711050, 0.709197, 0.709197, 0.736533, 0.736533, 0.744264, 0.744264, 0.737390, 0.737390,
     0.745250, 0.745250]]
_GRID_COUPLED_STATE = [
    [0.625556, 0.625556, 0.416383, 0.416383, 0.759134, 0.759134, 0.524020, 0.524020, 0.798795, 0.798795,
     0.557865, 0.557865],
    [0.875488, 0.875488, 0.627331, 0.627331, 0.936432, 0.936432, 0.688342, 0.688342, 0.941961, 0.941961,
     0.694245, 0.694245],
    [0.957327, 0.957327, 0.711050, 0.711050, 0.979522, 0.979522, 0.736533, 0.736533, 0.980245, 0.980245,
     0.737390, 0.737390]]


@pytest.mark.parametrize("state_is_tuple", [True, False])
def test_grid_lstm_coupled_gates_match_recorded_tensorflow(state_is_tuple):
    with tf.Graph().as_default():
        with tf.variable_scope("root", initializer=tf.constant_initializer(0.5)):
            cell = rnn.GridLSTMCell(num_units=2, feature_size=2, frequency_skip=1, forget_bias=1.0,
                                    num_frequency_blocks=[3], couple_input_forget_gates=True,
                                    state_is_tuple=state_is_tuple)
            if state_is_tuple:
                value = tf.constant(0.1 * np.ones((3, 2), np.float32))
                init_state = cell.state_tuple_type(*([value, value] * 3))
            else:
                init_state = tf.constant(0.1 * np.ones((3, 12), np.float32))
            output, state = cell(tf.constant(_X_INT), init_state)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, st = sess.run([output, state])
    np.testing.assert_allclose(out, _GRID_COUPLED_OUTPUT, atol=1e-6)
    if state_is_tuple:
        assert type(st).__name__ == "GridLSTMStateTuple"
        assert st._fields[:2] == ("state_f00_b00_c", "state_f00_b00_m") and len(st) == 6
        st = np.concatenate(st, axis=1)
    np.testing.assert_allclose(st, _GRID_COUPLED_STATE, atol=1e-6)


def test_grid_lstm_peepholes_blocks_and_clip_match_numpy():
    n, fs = 2, 2
    rng = np.random.RandomState(1)
    x_val = rng.uniform(-1, 1, (2, 6))
    with tf.Graph().as_default():
        cell = rnn.GridLSTMCell(n, use_peepholes=True, cell_clip=0.9, feature_size=fs, frequency_skip=1,
                                num_frequency_blocks=[2, 1], start_freqindex_list=[0, 3],
                                end_freqindex_list=[3, 5], forget_bias=0.7)
        assert cell.output_size == n * 3 * 2
        x = tf.placeholder(tf.float64, [2, 6])
        prev = [tf.placeholder(tf.float64, [2, n]) for _ in range(6)]
        out, state = cell(x, cell.state_tuple_type(*prev))
        names = names_of(tf.global_variables())
        assert names[:4] == ["grid_lstm_cell/W_f_0_0:0", "grid_lstm_cell/B_f_0:0", "grid_lstm_cell/W_t_0_0:0",
                             "grid_lstm_cell/B_t_0:0"]
        assert names[4:16] == [f"grid_lstm_cell/W_{g}_diag_{k}{d}_0:0" for k in ("freq", "time")
                               for g in "FIO" for d in "ft"]
        assert len(names) == 32 and names[16] == "grid_lstm_cell/W_f_1_0:0"
        prev_vals = [rng.uniform(-1, 1, (2, n)) for _ in range(6)]
        with tf.Session() as sess:
            values = assign_random(sess, rng)
            got_out, got_state = sess.run([out, state], {x: x_val, **dict(zip(prev, prev_vals))})
    want_out, want_state = [], []
    for block, (start, count) in enumerate([(0, 2), (3, 1)]):
        windows = [x_val[:, start + k:start + k + fs] for k in range(count)]
        first = 0 if block == 0 else 4
        o, s = np_grid_block(windows, prev_vals[first::2][:count], prev_vals[first + 1::2][:count],
                             grid_params(values, "grid_lstm_cell/", block), n, False, False, 0.9, 0.7)
        want_out += o
        want_state += s
    np.testing.assert_allclose(got_out, np.concatenate(want_out, 1), rtol=1e-10)
    np.testing.assert_allclose(np.concatenate(got_state, 1), np.concatenate(want_state, 1), rtol=1e-10)


def test_grid_lstm_runs_in_dynamic_rnn_and_static_rnn_alike():
    rng = np.random.RandomState(2)
    x_val = rng.uniform(-1, 1, (2, 3, 4))
    with tf.Graph().as_default():
        x = tf.constant(x_val, tf.float32)
        kwargs = dict(num_units=2, feature_size=2, frequency_skip=2, num_frequency_blocks=[2])
        with tf.variable_scope("dyn", initializer=tf.constant_initializer(0.3)):
            dyn_out, dyn_state = tf.nn.dynamic_rnn(rnn.GridLSTMCell(**kwargs), x, dtype=tf.float32)
        with tf.variable_scope("static", initializer=tf.constant_initializer(0.3)):
            st_out, st_state = tf.nn.static_rnn(rnn.GridLSTMCell(**kwargs), tf.unstack(x, axis=1), dtype=tf.float32)
        assert "dyn/rnn/grid_lstm_cell/W_f_0_0:0" in names_of(tf.global_variables())
        assert dyn_out.shape.as_list() == [2, 3, 8]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            a, b, sa, sb = sess.run([dyn_out, st_out, dyn_state, st_state])
    np.testing.assert_allclose(a, np.stack(b, axis=1), rtol=1e-6)
    for u, v in zip(sa, sb):
        np.testing.assert_allclose(u, v, rtol=1e-6)


def weight_shapes(make_and_call) -> list:
    """The shapes of the variables `make_and_call()` creates, in creation order (built in a throwaway graph)."""
    with tf.Graph().as_default():
        make_and_call()
        return [v.shape.as_list() for v in tf.global_variables()]


def fed_weights(weights: list):
    """A custom getter handing out `weights` (tensors, e.g. the gradient checker's placeholders) in creation
    order in place of new variables."""
    pending = list(weights)

    def getter(getter, name, *args, **kwargs):
        return pending.pop(0)

    return getter


def _grid_cell():
    return rnn.GridLSTMCell(2, use_peepholes=True, cell_clip=5.0, feature_size=2, frequency_skip=1,
                            num_frequency_blocks=[2])


def test_grid_lstm_gradients_match_finite_differences():
    def step(x, states, weights=None):
        cell = _grid_cell()
        with tf.variable_scope("g", custom_getter=fed_weights(weights) if weights is not None else None):
            out, state = cell(x, cell.state_tuple_type(*states))
        return [out] + list(state)

    shapes = weight_shapes(lambda: step(tf.zeros([2, 3], tf.float64), [tf.zeros([2, 2], tf.float64)] * 4))
    assert len(shapes) == 16  # W_f, B_f, W_t, B_t and twelve peephole vectors

    rng = np.random.RandomState(4)
    values = ([rng.uniform(-1, 1, (2, 3))] + [rng.uniform(-1, 1, (2, 2)) for _ in range(4)]
              + [rng.uniform(-0.5, 0.5, s) for s in shapes])
    check_gradients(lambda x, *rest: step(x, rest[:4], list(rest[4:])), values)


def test_grid_lstm_configuration_errors():
    with pytest.raises(ValueError, match="Must specify num_frequency_blocks"):
        rnn.GridLSTMCell(2, feature_size=2, frequency_skip=1)
    with tf.Graph().as_default():
        cell = rnn.GridLSTMCell(2, feature_size=2, frequency_skip=1, num_frequency_blocks=[2])
        with pytest.raises(ValueError, match="Invalid num_frequency_blocks, requires 2 but gets 3"):
            cell(tf.zeros([1, 4]), cell.zero_state(1, tf.float32))
        cell = rnn.GridLSTMCell(2, feature_size=2, frequency_skip=1, num_frequency_blocks=[1, 1])
        with pytest.raises(ValueError, match="Length of num_frequency_blocks is not 1, but instead is 2"):
            cell(tf.zeros([1, 4]), cell.zero_state(1, tf.float32))


# Recorded by TensorFlow 1.x's contrib rnn_cell tests (shared weights, constant 0.5 weights, 0.1 states).
_BIDI_OUTPUT = {
    0: [[0.464130, 0.464130, 0.419165, 0.419165, 0.593283, 0.593283, 0.738350, 0.738350, 0.661638, 0.661638,
         0.866774, 0.866774, 0.520789, 0.520789, 0.476968, 0.476968, 0.604341, 0.604341, 0.760207, 0.760207,
         0.635773, 0.635773, 0.850218, 0.850218],
        [0.669636, 0.669636, 0.628966, 0.628966, 0.736057, 0.736057, 0.895927, 0.895927, 0.755559, 0.755559,
         0.954359, 0.954359, 0.692621, 0.692621, 0.652363, 0.652363, 0.737517, 0.737517, 0.899558, 0.899558,
         0.745984, 0.745984, 0.946840, 0.946840],
        [0.751109, 0.751109, 0.711716, 0.711716, 0.778357, 0.778357, 0.940779, 0.940779, 0.784530, 0.784530,
         0.980604, 0.980604, 0.759940, 0.759940, 0.720652, 0.720652, 0.778552, 0.778552, 0.941606, 0.941606,
         0.781035, 0.781035, 0.977731, 0.977731]],
    1: [[0.464130, 0.464130, 0.419165, 0.419165, 0.593283, 0.593283, 0.738350, 0.738350, 0.661638, 0.661638,
         0.866774, 0.866774, 0.322645, 0.322645, 0.276068, 0.276068, 0.584654, 0.584654, 0.690292, 0.690292,
         0.640446, 0.640446, 0.840071, 0.840071],
        [0.669636, 0.669636, 0.628966, 0.628966, 0.736057, 0.736057, 0.895927, 0.895927, 0.755559, 0.755559,
         0.954359, 0.954359, 0.493625, 0.493625, 0.449236, 0.449236, 0.730828, 0.730828, 0.865996, 0.865996,
         0.749429, 0.749429, 0.944958, 0.944958],
        [0.751109, 0.751109, 0.711716, 0.711716, 0.778357, 0.778357, 0.940779, 0.940779, 0.784530, 0.784530,
         0.980604, 0.980604, 0.608587, 0.608587, 0.566683, 0.566683, 0.777345, 0.777345, 0.925820, 0.925820,
         0.782597, 0.782597, 0.976858, 0.976858]],
}
_BIDI_STATE = {
    0: [[0.710660, 0.710660, 0.464130, 0.464130, 0.877293, 0.877293, 0.593283, 0.593283, 0.958505, 0.958505,
         0.661638, 0.661638, 0.785405, 0.785405, 0.520789, 0.520789, 0.890836, 0.890836, 0.604341, 0.604341,
         0.928512, 0.928512, 0.635773, 0.635773],
        [0.967579, 0.967579, 0.669636, 0.669636, 1.038811, 1.038811, 0.736057, 0.736057, 1.058201, 1.058201,
         0.755559, 0.755559, 0.993088, 0.993088, 0.692621, 0.692621, 1.040288, 1.040288, 0.737517, 0.737517,
         1.048773, 1.048773, 0.745984, 0.745984],
        [1.053842, 1.053842, 0.751109, 0.751109, 1.079919, 1.079919, 0.778357, 0.778357, 1.085620, 1.085620,
         0.784530, 0.784530, 1.062455, 1.062455, 0.759940, 0.759940, 1.080101, 1.080101, 0.778552, 0.778552,
         1.082402, 1.082402, 0.781035, 0.781035]],
    1: [[0.710660, 0.710660, 0.464130, 0.464130, 0.877293, 0.877293, 0.593283, 0.593283, 0.958505, 0.958505,
         0.661638, 0.661638, 0.516575, 0.516575, 0.322645, 0.322645, 0.866628, 0.866628, 0.584654, 0.584654,
         0.934002, 0.934002, 0.640446, 0.640446],
        [0.967579, 0.967579, 0.669636, 0.669636, 1.038811, 1.038811, 0.736057, 0.736057, 1.058201, 1.058201,
         0.755559, 0.755559, 0.749836, 0.749836, 0.493625, 0.493625, 1.033488, 1.033488, 0.730828, 0.730828,
         1.052186, 1.052186, 0.749429, 0.749429],
        [1.053842, 1.053842, 0.751109, 0.751109, 1.079919, 1.079919, 0.778357, 0.778357, 1.085620, 1.085620,
         0.784530, 0.784530, 0.895999, 0.895999, 0.608587, 0.608587, 1.078978, 1.078978, 0.777345, 0.777345,
         1.083843, 1.083843, 0.782597, 0.782597]],
}


@pytest.mark.parametrize("offset", [0, 1])
def test_bidirectional_grid_lstm_matches_recorded_tensorflow(offset):
    with tf.Graph().as_default():
        with tf.variable_scope("root", initializer=tf.constant_initializer(0.5)):
            cell = rnn.BidirectionalGridLSTMCell(num_units=2, feature_size=2, share_time_frequency_weights=True,
                                                 frequency_skip=1, forget_bias=1.0, num_frequency_blocks=[3],
                                                 backward_slice_offset=offset)
            value = tf.constant(0.1 * np.ones((3, 2), np.float32))
            output, state = cell(tf.constant(_X_FRAC), cell.state_tuple_type(*([value, value] * 6)))
        assert names_of(tf.global_variables()) == [
            "root/bidirectional_grid_lstm_cell/fwd/W_f_0_0:0", "root/bidirectional_grid_lstm_cell/fwd/B_f_0:0",
            "root/bidirectional_grid_lstm_cell/bwd/W_f_0_0:0", "root/bidirectional_grid_lstm_cell/bwd/B_f_0:0"]
        assert cell.output_size == 24 and len(cell.state_size) == 12
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, st = sess.run([output, state])
    assert st._fields[0] == "fwd_state_f00_b00_c" and st._fields[6] == "bwd_state_f00_b00_c"
    np.testing.assert_allclose(out, _BIDI_OUTPUT[offset], atol=1e-6)
    np.testing.assert_allclose(np.concatenate(st, axis=1), _BIDI_STATE[offset], atol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# PhasedLSTMCell
# ----------------------------------------------------------------------------------------------------------
_PHASE_OVERRIDES = {"phased_lstm_cell/period": [2.0, 3.0, 5.0], "phased_lstm_cell/phase": [0.1, 0.5, 1.0],
                    "phased_lstm_cell/ratio_on": [0.4, 0.3, 0.5]}
# Times whose cycle ratios fall in the rising, falling and closed parts of the three units' cycles.
_TIMES = np.array([[0.3], [0.6], [1.9], [4.4]])


@pytest.mark.parametrize("use_peepholes", [False, True])
def test_phased_lstm_matches_numpy(use_peepholes):
    rng = np.random.RandomState(5)
    x_val = rng.uniform(-1, 1, (4, 2)).astype(np.float32)
    c_val, h_val = (rng.uniform(-1, 1, (4, 3)).astype(np.float32) for _ in range(2))
    with tf.Graph().as_default():
        t = tf.placeholder(tf.float64, [4, 1])
        x = tf.placeholder(tf.float32, [4, 2])
        c, h = tf.placeholder(tf.float32, [4, 3]), tf.placeholder(tf.float32, [4, 3])
        cell = rnn.PhasedLSTMCell(3, use_peepholes=use_peepholes, leak=0.01)
        out, state = cell((t, x), LSTMStateTuple(c, h))
        assert out.dtype == tf.float32
        rows = 3 + (3 if use_peepholes else 0) + 2
        shapes = {v.name: v.shape.as_list() for v in tf.global_variables()}
        assert shapes == {"phased_lstm_cell/mask_gates/kernel:0": [rows, 6], "phased_lstm_cell/mask_gates/bias:0": [6],
                          "phased_lstm_cell/new_input/kernel:0": [5, 3], "phased_lstm_cell/new_input/bias:0": [3],
                          "phased_lstm_cell/output_gate/kernel:0": [rows, 3],
                          "phased_lstm_cell/output_gate/bias:0": [3], "phased_lstm_cell/period:0": [3],
                          "phased_lstm_cell/phase:0": [3], "phased_lstm_cell/ratio_on:0": [3]}
        with tf.Session() as sess:
            values = assign_random(sess, rng, overrides=_PHASE_OVERRIDES)
            got_out, got_state = sess.run([out, state], {t: _TIMES, x: x_val, c: c_val, h: h_val})
    want_c, want_h = np_phased(_TIMES, x_val, c_val, h_val, values, use_peepholes, 0.01)
    np.testing.assert_allclose(got_state.c, want_c, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(got_state.h, want_h, rtol=2e-5, atol=1e-6)
    np.testing.assert_array_equal(got_out, got_state.h)


def test_phased_lstm_initializers_and_trainable_ratio():
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        cell = rnn.PhasedLSTMCell(50, ratio_on=0.2, trainable_ratio_on=False, period_init_min=2.0,
                                  period_init_max=40.0)
        z = tf.zeros([1, 50])
        cell((tf.zeros([1, 1]), tf.zeros([1, 4])), LSTMStateTuple(z, z))
        by_name = {v.name.split("/")[-1][:-2]: v for v in tf.global_variables()}
        assert by_name["ratio_on"] not in tf.trainable_variables()
        assert by_name["period"] in tf.trainable_variables()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            period, phase, ratio = sess.run([by_name["period"], by_name["phase"], by_name["ratio_on"]])
    assert np.all((period >= 2.0) & (period <= 40.0)) and period.std() > 1.0
    assert np.all((phase >= 0) & (phase < period))
    np.testing.assert_allclose(ratio, 0.2)


def test_phased_lstm_in_dynamic_rnn_with_time_inputs():
    rng = np.random.RandomState(6)
    times = np.cumsum(rng.uniform(0.1, 1.0, (2, 4, 1)), axis=1)
    feats = rng.uniform(-1, 1, (2, 4, 3)).astype(np.float32)
    with tf.Graph().as_default():
        cell = rnn.PhasedLSTMCell(3)
        outs, final = tf.nn.dynamic_rnn(cell, (tf.constant(times), tf.constant(feats)), dtype=tf.float32)
        assert "rnn/phased_lstm_cell/period:0" in names_of(tf.global_variables())
        with tf.Session() as sess:
            values = assign_random(sess, rng, overrides={f"rnn/{k}": v for k, v in _PHASE_OVERRIDES.items()})
            got, got_final = sess.run([outs, final])
    p = {k[len("rnn/"):]: v for k, v in values.items()}
    c = h = np.zeros((2, 3), np.float32)
    for step in range(4):
        c, h = np_phased(times[:, step], feats[:, step], c, h, p, False, 0.001)
        np.testing.assert_allclose(got[:, step], h, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got_final.c, c, rtol=1e-4, atol=1e-6)


def test_phased_lstm_gradients_match_finite_differences():
    rng = np.random.RandomState(7)
    with tf.Graph().as_default():
        t = tf.constant(_TIMES)
        x64, c64, h64 = (tf.placeholder(tf.float64, s) for s in ([4, 2], [4, 3], [4, 3]))
        cell = rnn.PhasedLSTMCell(3, use_peepholes=True, leak=0.05)
        out, state = cell((t, tf.cast(x64, tf.float32)), LSTMStateTuple(tf.cast(c64, tf.float32),
                                                                        tf.cast(h64, tf.float32)))
        ys = [tf.cast(out, tf.float64), tf.cast(state.c, tf.float64)]
        xs = [x64, c64, h64]
        vals = [rng.uniform(-1, 1, x.shape.as_list()) for x in xs]
        grads = tf.gradients(ys, xs)
        with tf.Session() as sess:
            assign_random(sess, rng, overrides=_PHASE_OVERRIDES)
            feed = dict(zip(xs, vals))
            analytic = sess.run(grads, feed)
            for i, v in enumerate(vals):
                numeric = np.zeros_like(v)
                for idx in np.ndindex(*v.shape):
                    up, down = [p.copy() for p in vals], [p.copy() for p in vals]
                    up[i][idx] += 1e-3
                    down[i][idx] -= 1e-3
                    fu = sum(np.sum(a) for a in sess.run(ys, dict(zip(xs, up))))
                    fd = sum(np.sum(a) for a in sess.run(ys, dict(zip(xs, down))))
                    numeric[idx] = (fu - fd) / 2e-3
                np.testing.assert_allclose(analytic[i], numeric, rtol=2e-2, atol=2e-3)
    assert any(np.abs(a).max() > 1e-2 for a in analytic)


# ----------------------------------------------------------------------------------------------------------
# Conv3DLSTMCell
# ----------------------------------------------------------------------------------------------------------
def test_conv3d_lstm_matches_recorded_tensorflow():
    with tf.Graph().as_default():
        with tf.variable_scope("root", initializer=tf.constant_initializer(1.0 / 8.0)):
            x = tf.placeholder(tf.float32, [None, None, None, None, 1])
            cell = rnn.Conv3DLSTMCell(input_shape=[2, 2, 2, 1], kernel_shape=[3, 3, 3], output_channels=1)
            assert isinstance(cell, rnn.ConvLSTMCell)
            assert cell.output_size.as_list() == [2, 2, 2, 1]
            hidden = cell.zero_state(tf.shape(x)[0], tf.float32)
            output, state = cell(x, hidden)
        shapes = {v.name: v.shape.as_list() for v in tf.global_variables()}
        assert shapes == {"root/conv_3d_lstm_cell/kernel:0": [3, 3, 3, 2, 4],
                          "root/conv_3d_lstm_cell/biases:0": [4]}
        value = np.concatenate([np.ones((1, 2, 2, 2, 1)), 2 * np.ones((1, 2, 2, 2, 1))])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, st = sess.run([output, state], {hidden[0]: value, x: value})
    # Recorded by TensorFlow 1.x's contrib rnn_cell tests.
    np.testing.assert_allclose(st.c.reshape(2, -1), [[1.4375670191] * 8, [2.7542609292] * 8], rtol=1e-6)
    np.testing.assert_allclose(st.h.reshape(2, -1), [[0.6529865603] * 8, [0.8736877431] * 8], rtol=1e-6)
    np.testing.assert_array_equal(out, st.h)


def test_conv3d_lstm_skip_connection_and_bad_shape():
    with pytest.raises(ValueError, match=r"Invalid input_shape \[2, 2, 1\] for conv_ndims=3"):
        rnn.Conv3DLSTMCell(input_shape=[2, 2, 1], kernel_shape=[3, 3, 3], output_channels=1)
    with pytest.raises(TypeError, match="output_channels"):
        rnn.Conv3DLSTMCell(input_shape=[2, 2, 2, 1], kernel_shape=[3, 3, 3])
    with pytest.raises(TypeError, match="conv_ndims"):
        rnn.Conv3DLSTMCell(conv_ndims=3, input_shape=[2, 2, 2, 1], kernel_shape=[3, 3, 3], output_channels=1)
    with tf.Graph().as_default():
        cell = rnn.Conv3DLSTMCell(input_shape=[2, 3, 2, 2], kernel_shape=[1, 2, 2], output_channels=3,
                                  skip_connection=True, use_bias=False)
        assert cell.output_size.as_list() == [2, 3, 2, 5]
        # As in TF, the skip connection widens the output (and the state's h), so the cell is stepped directly.
        out, state = cell(tf.ones([1, 2, 3, 2, 2]), cell.zero_state(1, tf.float32))
        assert out.shape.as_list() == [1, 2, 3, 2, 5] and state.c.shape.as_list() == [1, 2, 3, 2, 3]
        assert names_of(tf.global_variables()) == ["conv_3d_lstm_cell/kernel:0"]


# ----------------------------------------------------------------------------------------------------------
# GLSTMCell
# ----------------------------------------------------------------------------------------------------------
def test_glstm_two_groups_with_projection_matches_numpy():
    rng = np.random.RandomState(8)
    x_val = rng.uniform(-1, 1, (3, 6))
    c_val, m_val = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 2))
    with tf.Graph().as_default():
        cell = rnn.GLSTMCell(4, num_proj=2, number_of_groups=2, forget_bias=0.5)
        assert cell.state_size == (4, 2) and cell.output_size == 2
        x, c, m = (tf.placeholder(tf.float64, v.shape) for v in (x_val, c_val, m_val))
        out, state = cell(x, LSTMStateTuple(c, m))
        assert {v.name: v.shape.as_list() for v in tf.global_variables()} == {
            "glstm_cell/group0/kernel:0": [4, 8], "glstm_cell/group1/kernel:0": [4, 8],
            "glstm_cell/bias_i:0": [4], "glstm_cell/bias_j:0": [4], "glstm_cell/bias_f:0": [4],
            "glstm_cell/bias_o:0": [4], "glstm_cell/projection/kernel:0": [4, 2]}
        with tf.Session() as sess:
            p = assign_random(sess, rng)
            got_out, got_state = sess.run([out, state], {x: x_val, c: c_val, m: m_val})
    parts = {k: [] for k in "ijfo"}
    for g in range(2):
        xg = np.concatenate([x_val[:, 3 * g:3 * g + 3], m_val[:, g:g + 1]], 1)
        for k, part in zip("ijfo", np.split(xg @ p[f"glstm_cell/group{g}/kernel"], 4, axis=1)):
            parts[k].append(part)
    z = {k: np.concatenate(parts[k], 1) + p[f"glstm_cell/bias_{k}"] for k in "ijfo"}
    new_c = sig(z["f"] + 0.5) * c_val + sig(z["i"]) * np.tanh(z["j"])
    new_m = (sig(z["o"]) * np.tanh(new_c)) @ p["glstm_cell/projection/kernel"]
    np.testing.assert_allclose(got_state.c, new_c, rtol=1e-10)
    np.testing.assert_allclose(got_out, new_m, rtol=1e-10)


def test_glstm_errors():
    with pytest.raises(ValueError, match="num_units must be divisible by number_of_groups"):
        rnn.GLSTMCell(5, number_of_groups=2)
    with pytest.raises(ValueError, match="num_proj must be divisible by number_of_groups"):
        rnn.GLSTMCell(4, num_proj=3, number_of_groups=2)
    with tf.Graph().as_default():
        cell = rnn.GLSTMCell(4, number_of_groups=2)
        state = cell.zero_state(2, tf.float32)
        with pytest.raises(ValueError, match="input size must be statically known"):
            cell(tf.placeholder(tf.float32, [2, None]), state)
        with pytest.raises(ValueError, match=r"input size \(3\) must be divisible by number_of_groups \(2\)"):
            cell(tf.placeholder(tf.float32, [2, 3]), state)


# ----------------------------------------------------------------------------------------------------------
# IndRNNCell, IndyGRUCell, IndyLSTMCell
# ----------------------------------------------------------------------------------------------------------
def test_ind_rnn_cell_matches_numpy_in_dynamic_rnn():
    rng = np.random.RandomState(9)
    x_val = rng.uniform(-1, 1, (2, 3, 4))
    with tf.Graph().as_default():
        cell = rnn.IndRNNCell(3, activation=tf.nn.relu)
        out, final = tf.nn.dynamic_rnn(cell, tf.constant(x_val), dtype=tf.float64)
        assert names_of(cell.trainable_variables) == ["rnn/ind_rnn_cell/kernel_w:0", "rnn/ind_rnn_cell/kernel_u:0",
                                                      "rnn/ind_rnn_cell/bias:0"]
        assert [v.shape.as_list() for v in cell.trainable_variables] == [[4, 3], [1, 3], [3]]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            u0 = sess.run(cell.trainable_variables[1])
            p = assign_random(sess, rng)
            got, got_final = sess.run([out, final])
    assert np.all(np.abs(u0) <= 1.0) and np.abs(u0).max() > 0
    h = np.zeros((2, 3))
    for step in range(3):
        h = np.maximum(x_val[:, step] @ p["rnn/ind_rnn_cell/kernel_w"] + h * p["rnn/ind_rnn_cell/kernel_u"]
                       + p["rnn/ind_rnn_cell/bias"], 0)
        np.testing.assert_allclose(got[:, step], h, rtol=1e-10)
    np.testing.assert_allclose(got_final, h, rtol=1e-10)


def test_indy_gru_cell_matches_numpy_and_tf_names():
    rng = np.random.RandomState(10)
    x_val, h_val = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 2))
    with tf.Graph().as_default():
        with tf.variable_scope("root"):
            x, h = tf.placeholder(tf.float64, [2, 3]), tf.placeholder(tf.float64, [2, 2])
            cell = rnn.IndyGRUCell(2)
            out, new_h = cell(x, h)
        assert {v.name: v.shape.as_list() for v in cell.trainable_variables} == {
            "root/indy_gru_cell/gates/kernel_w:0": [3, 4], "root/indy_gru_cell/gates/kernel_u:0": [1, 4],
            "root/indy_gru_cell/gates/bias:0": [4], "root/indy_gru_cell/candidate/kernel:0": [3, 2],
            "root/indy_gru_cell/candidate/kernel_u:0": [1, 2], "root/indy_gru_cell/candidate/bias:0": [2]}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run("root/indy_gru_cell/gates/bias:0"), np.ones(4))
            v = {k.split("indy_gru_cell/")[1]: a for k, a in assign_random(sess, rng).items()}
            got = sess.run(out, {x: x_val, h: h_val})
    r, u = np.split(sig(x_val @ v["gates/kernel_w"] + np.tile(h_val, [1, 2]) * v["gates/kernel_u"]
                        + v["gates/bias"]), 2, axis=1)
    cand = np.tanh(x_val @ v["candidate/kernel"] + r * h_val * v["candidate/kernel_u"] + v["candidate/bias"])
    np.testing.assert_allclose(got, u * h_val + (1 - u) * cand, rtol=1e-10)


def test_indy_lstm_cell_multi_rnn_names_and_numpy():
    rng = np.random.RandomState(11)
    x_val = rng.uniform(-1, 1, (1, 2))
    states = [rng.uniform(-1, 1, (1, 2)) for _ in range(4)]
    with tf.Graph().as_default():
        with tf.variable_scope("root"):
            x = tf.placeholder(tf.float64, [1, 2])
            s = [tf.placeholder(tf.float64, [1, 2]) for _ in range(4)]
            cell = tf.nn.rnn_cell.MultiRNNCell([rnn.IndyLSTMCell(2, forget_bias=0.3) for _ in range(2)])
            out, (st0, st1) = cell(x, (LSTMStateTuple(s[0], s[1]), LSTMStateTuple(s[2], s[3])))
        expected = [f"root/multi_rnn_cell/cell_{i}/indy_lstm_cell/{n}:0" for i in range(2)
                    for n in ("kernel_w", "kernel_u", "bias")]
        assert names_of(cell.trainable_variables) == expected
        assert names_of(tf.global_variables()) == expected
        with tf.Session() as sess:
            p = assign_random(sess, rng)
            got_out, got0, got1 = sess.run([out, st0, st1], {x: x_val, **dict(zip(s, states))})
    layer = [{n: p[f"root/multi_rnn_cell/cell_{i}/indy_lstm_cell/{n}"] for n in ("kernel_w", "kernel_u", "bias")}
             for i in range(2)]
    h0, c0 = np_indy_lstm(x_val, states[0], states[1], layer[0], 0.3)
    h1, c1 = np_indy_lstm(h0, states[2], states[3], layer[1], 0.3)
    np.testing.assert_allclose(got0.c, c0, rtol=1e-10)
    np.testing.assert_allclose(got1.h, h1, rtol=1e-10)
    np.testing.assert_allclose(got_out, h1, rtol=1e-10)


def test_indy_lstm_cell_gradients_match_finite_differences():
    def step(x, c, h, *weights):
        with tf.variable_scope("g", custom_getter=fed_weights(weights) if weights else None):
            out, state = rnn.IndyLSTMCell(3)(x, LSTMStateTuple(c, h))
        return [out, state.c]

    shapes = weight_shapes(lambda: step(*[tf.zeros(s, tf.float64) for s in ([2, 4], [2, 3], [2, 3])]))
    assert shapes == [[4, 12], [1, 12], [12]]
    rng = np.random.RandomState(13)
    check_gradients(step, [rng.uniform(-1, 1, (2, 4)), rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))]
                    + [rng.uniform(-0.5, 0.5, s) for s in shapes])


def test_ind_cells_build_with_dtypes_and_reject_bad_inputs():
    for cls in (rnn.IndRNNCell, rnn.IndyGRUCell, rnn.IndyLSTMCell):
        for dtype in (tf.float32, tf.float64):
            with tf.Graph().as_default():
                cell = cls(3, dtype=dtype)
                state = cell.get_initial_state(batch_size=5, dtype=dtype)
                out, _ = cell(tf.zeros([5, 7], dtype), state)
                assert out.shape.as_list() == [5, 3] and out.dtype == dtype
                assert all(v.dtype.base_dtype == dtype for v in cell.trainable_variables)
        with tf.Graph().as_default():
            cell = cls(3)
            with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
                cell(tf.zeros([5, 2, 7]), cell.zero_state(5, tf.float32))
            with pytest.raises(ValueError, match="Expected inputs.shape\\[-1\\] to be known"):
                cell(tf.placeholder(tf.float32, [5, None]), cell.zero_state(5, tf.float32))


# ----------------------------------------------------------------------------------------------------------
# WeightNormLSTMCell
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm,peep,want_c,want_h", [
    (False, False, [0.65937078, 0.74983585], [0.44923624, 0.49362513]),
    (False, True, [0.65937084, 0.7574988], [0.4792085, 0.53470564]),
    (True, False, [0.50125383, 0.58805949], [0.32770363, 0.37397948]),
    (True, True, [0.50125383, 0.59587258], [0.35041603, 0.40873795]),
])
def test_weight_norm_lstm_matches_recorded_tensorflow(norm, peep, want_c, want_h):
    # Values recorded by TensorFlow 1.x's contrib rnn_cell tests (constant 0.5 weights).
    with tf.Graph().as_default():
        with tf.variable_scope("root", initializer=tf.constant_initializer(0.5)):
            state = LSTMStateTuple(tf.constant([[0.0, 0.1]]), tf.constant([[0.2, 0.3]]))
            _, new_state = rnn.WeightNormLSTMCell(2, norm=norm, use_peepholes=peep)(tf.constant([[1.0, 1.0]]), state)
        names = names_of(tf.global_variables())
        assert names[0] == "root/wn_lstm_cell/wn_lstm_cell/kernel:0"
        assert ("root/wn_lstm_cell/wn_lstm_cell/norm_1:0" in names) == norm
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(new_state)
    np.testing.assert_allclose(got.c, [want_c], atol=1e-6)
    np.testing.assert_allclose(got.h, [want_h], atol=1e-6)


def test_weight_norm_lstm_projection_matches_numpy():
    rng = np.random.RandomState(14)
    x_val, c_val, h_val = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 4)), rng.uniform(-1, 1, (2, 2))
    with tf.Graph().as_default():
        x, c, h = (tf.placeholder(tf.float64, v.shape) for v in (x_val, c_val, h_val))
        out, state = rnn.WeightNormLSTMCell(4, num_proj=2, cell_clip=0.5, proj_clip=0.3)(x, LSTMStateTuple(c, h))
        pre = "wn_lstm_cell/wn_lstm_cell/"
        assert {v.name: v.shape.as_list() for v in tf.global_variables()} == {
            pre + "kernel:0": [5, 16], pre + "norm_0:0": [16], pre + "norm_1:0": [16], pre + "bias:0": [16],
            pre + "projection/kernel:0": [4, 2], pre + "projection/norm_0:0": [2]}
        with tf.Session() as sess:
            p = {k[len(pre):]: v for k, v in assign_random(sess, rng).items()}
            got_out, got_state = sess.run([out, state], {x: x_val, c: c_val, h: h_val})

    def wn(w, g):
        return w / np.sqrt(np.maximum(np.sum(w * w, axis=0, keepdims=True), 1e-12)) * g

    kernel = np.concatenate([wn(p["kernel"][:3], p["norm_0"]), wn(p["kernel"][3:], p["norm_1"])])
    i, j, f, o = np.split(np.concatenate([x_val, h_val], 1) @ kernel + p["bias"], 4, axis=1)
    new_c = np.clip(c_val * sig(f + 1) + sig(i) * np.tanh(j), -0.5, 0.5)
    new_h = np.clip((sig(o) * np.tanh(new_c)) @ wn(p["projection/kernel"], p["projection/norm_0"]), -0.3, 0.3)
    np.testing.assert_allclose(got_state.c, new_c, rtol=1e-10)
    np.testing.assert_allclose(got_out, new_h, rtol=1e-10)


# ----------------------------------------------------------------------------------------------------------
# LSTMBlockWrapper and CompiledWrapper
# ----------------------------------------------------------------------------------------------------------
class _UnrolledLSTM(rnn.LSTMBlockWrapper):
    """A fused cell for the tests: LSTMBlockCell's LSTM unrolled over a static number of steps."""

    def __init__(self, num_units: int, name: str = "unrolled_lstm") -> None:
        super().__init__(name=name)
        self._units = num_units

    @property
    def num_units(self) -> int:
        return self._units

    def build(self, input_shape) -> None:
        n = self._units
        self._kernel = self.add_variable("kernel", [input_shape[2].value + n, 4 * n])
        self._bias = self.add_variable("bias", [4 * n])
        self.built = True

    def _call_cell(self, inputs, initial_cell_state, initial_output, dtype, sequence_length):
        c, h = initial_cell_state, initial_output
        cs, hs = [], []
        for x in tf.unstack(inputs):
            i, j, f, o = tf.split(tf.matmul(tf.concat([x, h], 1), self._kernel) + self._bias, 4, axis=1)
            c = tf.sigmoid(f + 1.0) * c + tf.sigmoid(i) * tf.tanh(j)
            h = tf.tanh(c) * tf.sigmoid(o)
            cs.append(c)
            hs.append(h)
        return tf.stack(cs), tf.stack(hs)


def test_lstm_block_wrapper_masks_outputs_and_gathers_final_state():
    rng = np.random.RandomState(15)
    x_val = rng.uniform(-1, 1, (4, 3, 2))
    lengths = np.array([4, 0, 2], np.int32)
    c0_val, h0_val = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (3, 2))
    with tf.Graph().as_default():
        cell = _UnrolledLSTM(2)
        c0, h0 = tf.constant(c0_val), tf.constant(h0_val)
        outs, final = cell(tf.constant(x_val), initial_state=(c0, h0), sequence_length=lengths)
        list_outs, list_final = cell([tf.constant(v) for v in x_val], dtype=tf.float64)
        assert isinstance(list_outs, list) and len(list_outs) == 4
        assert names_of(cell.trainable_variables) == ["unrolled_lstm/kernel:0", "unrolled_lstm/bias:0"]
        with tf.Session() as sess:
            p = assign_random(sess, rng)
            got, got_final, got_list, got_list_final = sess.run([outs, final, list_outs, list_final])
    w, b = p["unrolled_lstm/kernel"], p["unrolled_lstm/bias"]

    def run(c, h):
        cs, hs = [c], [h]
        for x in x_val:
            i, j, f, o = np.split(np.concatenate([x, hs[-1]], 1) @ w + b, 4, axis=1)
            cs.append(sig(f + 1) * cs[-1] + sig(i) * np.tanh(j))
            hs.append(np.tanh(cs[-1]) * sig(o))
        return np.stack(cs), np.stack(hs)

    cs, hs = run(c0_val, h0_val)
    mask = (np.arange(4)[:, None] < lengths[None, :])[:, :, None]
    np.testing.assert_allclose(got, hs[1:] * mask, rtol=1e-10)
    np.testing.assert_allclose(got_final.c, cs[lengths, np.arange(3)], rtol=1e-10)
    np.testing.assert_allclose(got_final.h, hs[lengths, np.arange(3)], rtol=1e-10)
    zero_cs, zero_hs = run(np.zeros((3, 2)), np.zeros((3, 2)))
    np.testing.assert_allclose(np.stack(got_list), zero_hs[1:], rtol=1e-10)
    np.testing.assert_allclose(got_list_final.c, zero_cs[-1], rtol=1e-10)


def test_lstm_block_wrapper_is_abstract_and_checks_its_arguments():
    with pytest.raises(TypeError):
        rnn.LSTMBlockWrapper()
    with tf.Graph().as_default():
        cell = _UnrolledLSTM(2)
        with pytest.raises(ValueError, match="Either initial_state or dtype needs to be specified"):
            cell(tf.zeros([3, 1, 2]))
        with pytest.raises(ValueError, match="Expecting initial_state to be a tuple with length 2 or None"):
            cell(tf.zeros([3, 1, 2]), initial_state=(tf.zeros([1, 2]),) * 3)


def test_compiled_wrapper_runs_the_cell_unchanged():
    rng = np.random.RandomState(16)
    x_val = rng.uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    results = []
    for wrap in (False, True):
        with tf.Graph().as_default():
            inner = tf.nn.rnn_cell.LSTMCell(3)
            cell = rnn.CompiledWrapper(inner, compile_stateful=True) if wrap else inner
            assert cell.state_size == (3, 3) and cell.output_size == 3
            state = cell.zero_state(2, tf.float32)
            outs, final = tf.nn.dynamic_rnn(cell, tf.constant(x_val), initial_state=state)
            assert names_of(tf.trainable_variables()) == ["rnn/lstm_cell/kernel:0", "rnn/lstm_cell/bias:0"]
            if wrap:
                assert cell.trainable_variables == inner.trainable_variables
            with tf.Session() as sess:
                assign_random(sess, np.random.RandomState(17))
                results.append(sess.run([outs, final]))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1].c, results[1][1].c)


# ----------------------------------------------------------------------------------------------------------
# Every cell driven by dynamic_rnn and static_rnn
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,first_variable", [
    (lambda: rnn.TimeFreqLSTMCell(3, use_peepholes=True, feature_size=4), "time_freq_lstm_cell/W_0"),
    (lambda: rnn.BidirectionalGridLSTMCell(2, feature_size=2, frequency_skip=2, num_frequency_blocks=[2]),
     "bidirectional_grid_lstm_cell/fwd/W_f_0_0"),
    (lambda: rnn.GLSTMCell(4, number_of_groups=2), "glstm_cell/group0/kernel"),
    (lambda: rnn.IndyGRUCell(3), "indy_gru_cell/gates/kernel_w"),
    (lambda: rnn.IndyLSTMCell(3), "indy_lstm_cell/kernel_w"),
    (lambda: rnn.WeightNormLSTMCell(3, use_peepholes=True, num_proj=2), "wn_lstm_cell/wn_lstm_cell/kernel"),
    (lambda: rnn.CompiledWrapper(rnn.IndRNNCell(3)), "ind_rnn_cell/kernel_w"),
])
def test_cells_give_the_same_sequences_under_dynamic_and_static_rnn(make, first_variable):
    x_val = np.random.RandomState(18).uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.constant(x_val)
        cell = make()
        with tf.variable_scope("root", initializer=tf.random_uniform_initializer(-0.4, 0.4, seed=1)):
            dyn_out, dyn_final = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            names = names_of(tf.global_variables())
            # The same cell again, now unrolled: it reuses the variables it made in the loop.
            st_out, st_final = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
        assert names[0] == f"root/rnn/{first_variable}:0"
        assert names_of(tf.global_variables()) == names
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got_dyn, got_st, fin_dyn, fin_st = sess.run([dyn_out, st_out, dyn_final, st_final])
    np.testing.assert_allclose(got_dyn, np.stack(got_st, axis=1), rtol=1e-5, atol=1e-6)
    for a, b in zip(nest_flatten(fin_dyn), nest_flatten(fin_st)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
