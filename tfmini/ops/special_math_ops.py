"""Special functions and their relatives, without SciPy: the scaled Bessel functions (BesselI0e, BesselI1e), the
regularized incomplete gamma (Igamma, Igammac) and beta (Betainc) functions, Hurwitz's zeta (Zeta), the
zero-safe products (Xlogy, Xdivy, Xlog1py, MulNoNan), Angle and CumulativeLogsumexp, plus the composites TF
builds from them (bessel_i0/i1, lbeta, log_sigmoid, polyval, reciprocal_no_nan).

The kernels evaluate series, asymptotic expansions and continued fractions with NumPy in float64 (as Cephes,
the library TF's kernels follow, does) and round to the op's dtype.
"""

from __future__ import annotations

import functools

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops, nn_ops, shape_fns

_F32_64 = (_dt.float32, _dt.float64)
_FLOAT = _dt.FLOATING
_FLOAT_CPLX = _dt.FLOATING + _dt.COMPLEX
_MAX_ITER = 2000
_EPS = np.finfo(np.float64).eps


def _float64_kernel(fn):
    """A kernel computing `fn` on float64 copies of its inputs and rounding to the first input's dtype, with
    NumPy's floating-point warnings off (inf and nan results are silent, as in TF)."""

    @functools.wraps(fn)
    def kernel(*args):
        dtype = np.asarray(args[0]).dtype
        with np.errstate(all="ignore"):
            out = fn(*(np.asarray(a, dtype=np.float64) for a in args))
        return np.asarray(out).astype(dtype, copy=False)

    return kernel


# ----------------------------------------------------------------------------------------------------------
# log Gamma, vectorized (Lanczos' approximation, g = 7, with the reflection formula below 1/2)
# ----------------------------------------------------------------------------------------------------------
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)


def _lgamma(x: np.ndarray) -> np.ndarray:
    """log|Gamma(x)| in float64; +inf at the poles 0, -1, -2, ..."""
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    z = np.where(reflect, 1.0 - x, x) - 1.0
    series = np.full_like(z, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + i)
    t = z + 7.5
    direct = 0.5 * np.log(2 * np.pi) + (z + 0.5) * np.log(t) - t + np.log(series)
    sin_pi_x = np.abs(np.sin(np.pi * np.where(reflect, x, 0.5)))
    reflected = np.log(np.pi) - np.log(sin_pi_x) - direct
    out = np.where(reflect, reflected, direct)
    out = np.where((x <= 0) & (x == np.floor(x)), np.inf, out)
    return np.where(np.isposinf(x), np.inf, out)


# ----------------------------------------------------------------------------------------------------------
# Exponentially scaled modified Bessel functions of orders 0 and 1
# ----------------------------------------------------------------------------------------------------------
_BESSEL_SERIES_LIMIT = 30.0


def _bessel_ie(x: np.ndarray, order: int) -> np.ndarray:
    """exp(-|x|) I_order(x): the power series below |x| = 30, Hankel's asymptotic expansion above."""
    ax = np.abs(x)
    small = ax <= _BESSEL_SERIES_LIMIT
    xs = np.where(small, ax, 0.0)
    # sum_k (x/2)^(2k + order) / (k! (k + order)!), each term from the last, scaled by exp(-|x|) from the start.
    term = np.exp(-xs) * (xs / 2) ** order
    total = term.copy()
    quarter_sq = xs * xs / 4
    for k in range(1, 120):
        term = term * quarter_sq / (k * (k + order))
        total = total + term
        if k > _BESSEL_SERIES_LIMIT / 2 and np.all(term <= total * _EPS):
            break
    # exp(-x) I_v(x) ~ (2 pi x)^(-1/2) sum_k (-1)^k prod_{j<=k} (4v^2 - (2j - 1)^2) / (k! (8x)^k)
    xl = np.where(small, 1.0, ax)
    coef = np.ones_like(xl)
    asym = np.ones_like(xl)
    for k in range(1, 30):
        coef = coef * -(4 * order * order - (2 * k - 1) ** 2) / (k * 8 * xl)
        asym = asym + coef
    asym = asym / np.sqrt(2 * np.pi * xl)
    out = np.where(small, total, asym)
    if order == 1:
        out = np.sign(x) * out
    return np.where(np.isnan(x), np.nan, out)


register_op("BesselI0e", inputs=["x: T"], outputs=["y: T"], allowed={"T": _FLOAT}, shape=shape_fns.unchanged,
            fresh_output=True)(_float64_kernel(lambda x: _bessel_ie(x, 0)))
register_op("BesselI1e", inputs=["x: T"], outputs=["y: T"], allowed={"T": _FLOAT}, shape=shape_fns.unchanged,
            fresh_output=True)(_float64_kernel(lambda x: _bessel_ie(x, 1)))


@RegisterGradient("BesselI0e")
def _bessel_i0e_grad(op, grad):
    # d/dx exp(-|x|) I0(x) = exp(-|x|) I1(x) - sign(x) exp(-|x|) I0(x)
    x, y = op.inputs[0], op.outputs[0]
    return grad * (bessel_i1e(x) - math_ops.sign(x) * y)


@RegisterGradient("BesselI1e")
def _bessel_i1e_grad(op, grad):
    # d/dx exp(-|x|) I1(x) = exp(-|x|) I0(x) - y (sign(x) + 1/x), which is 1/2 at x = 0.
    x, y = op.inputs[0], op.outputs[0]
    safe_x = array_ops.where(math_ops.equal(x, 0), array_ops.ones_like(x), x)
    dy = bessel_i0e(x) - y * (math_ops.sign(x) + math_ops.reciprocal(safe_x))
    half = array_ops.fill(array_ops.shape(x), _ops.convert_to_tensor(0.5, dtype=x.dtype.base_dtype))
    return grad * array_ops.where(math_ops.equal(x, 0), half, dy)


@tf_export("math.bessel_i0e")
def bessel_i0e(x, name=None) -> _ops.Tensor:
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0."""
    return apply_op("BesselI0e", [x], name=name).outputs[0]


@tf_export("math.bessel_i1e")
def bessel_i1e(x, name=None) -> _ops.Tensor:
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1."""
    return apply_op("BesselI1e", [x], name=name).outputs[0]


@tf_export("math.bessel_i0")
def bessel_i0(x, name=None) -> _ops.Tensor:
    """I0(x), the modified Bessel function of order 0, as exp(|x|) * bessel_i0e(x)."""
    with _ops.name_scope(name, "bessel_i0", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        return math_ops.exp(math_ops.abs(x)) * bessel_i0e(x)


@tf_export("math.bessel_i1")
def bessel_i1(x, name=None) -> _ops.Tensor:
    """I1(x), the modified Bessel function of order 1, as exp(|x|) * bessel_i1e(x)."""
    with _ops.name_scope(name, "bessel_i1", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        return math_ops.exp(math_ops.abs(x)) * bessel_i1e(x)


# ----------------------------------------------------------------------------------------------------------
# Regularized incomplete gamma functions P(a, x) (Igamma) and Q(a, x) = 1 - P(a, x) (Igammac)
# ----------------------------------------------------------------------------------------------------------
def _converge(state: dict, step, result: str, max_iter: int = _MAX_ITER) -> np.ndarray:
    """Iterates `step(state, i) -> done` (a mask) over elementwise series or continued fractions, dropping the
    elements that have converged from `state` (a dict of equally long arrays), so each iteration costs only what
    is still running; returns the final `state[result]` of every element."""
    out = np.empty_like(state[result])
    active = np.arange(out.size)
    for i in range(1, max_iter):
        done = step(state, i)
        if done.any():
            out[active[done]] = state[result][done]
            keep = ~done
            active = active[keep]
            if not active.size:
                return out
            state = {k: v[keep] for k, v in state.items()}
    out[active] = state[result]
    return out


_TOL = 4 * _EPS


def _igamma_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1)...(a + n)), for x <= a + 1."""
    def step(st, _):
        st["denom"] = st["denom"] + 1
        st["term"] = st["term"] * st["x"] / st["denom"]
        st["total"] = st["total"] + st["term"]
        return np.abs(st["term"]) <= np.abs(st["total"]) * _TOL

    total = _converge({"x": x, "denom": a.copy(), "term": np.ones_like(x), "total": np.ones_like(x)}, step, "total")
    return np.exp(a * np.log(x) - x - _lgamma(a + 1)) * total


_TINY = 1e-300


def _not_tiny(v: np.ndarray) -> np.ndarray:
    return np.where(np.abs(v) < _TINY, _TINY, v)


def _igammac_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) by its continued fraction (Legendre's, evaluated with Lentz's method), for x > a + 1."""
    def step(st, i):
        an = -i * (i - st["a"])
        st["b"] = st["b"] + 2
        st["d"] = 1 / _not_tiny(an * st["d"] + st["b"])
        st["c"] = _not_tiny(st["b"] + an / st["c"])
        delta = st["d"] * st["c"]
        st["h"] = st["h"] * delta
        return np.abs(delta - 1) <= _TOL

    b = x + 1 - a
    h = _converge({"a": a, "b": b, "c": np.full_like(x, 1 / _TINY), "d": 1 / b, "h": 1 / b}, step, "h")
    return np.exp(a * np.log(x) - x - _lgamma(a)) * h


def _igamma_pair(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    a, x = np.broadcast_arrays(a, x)
    valid = (a > 0) & (x >= 0)
    use_series = valid & (x <= a + 1)
    use_fraction = valid & ~use_series & np.isfinite(x)
    out = np.full(a.shape, np.nan)
    if np.any(use_series):
        p = _igamma_series(a[use_series], x[use_series])
        out[use_series] = 1 - p if upper else p
    if np.any(use_fraction):
        q = _igammac_fraction(a[use_fraction], x[use_fraction])
        out[use_fraction] = q if upper else 1 - q
    out[valid & np.isposinf(x)] = 0.0 if upper else 1.0
    # 1 - p cancels for a tiny a (p rounds a hair above 1): keep probabilities in [0, 1] (nan stays nan).
    return np.clip(out, 0.0, 1.0)


register_op("Igamma", inputs=["a: T", "x: T"], outputs=["z: T"], allowed={"T": _FLOAT}, shape=shape_fns.broadcast,
            fresh_output=True)(math_ops._broadcasting(_float64_kernel(lambda a, x: _igamma_pair(a, x, False))))
register_op("Igammac", inputs=["a: T", "x: T"], outputs=["z: T"], allowed={"T": _FLOAT}, shape=shape_fns.broadcast,
            fresh_output=True)(math_ops._broadcasting(_float64_kernel(lambda a, x: _igamma_pair(a, x, True))))


def _digamma64(x: np.ndarray) -> np.ndarray:
    return math_ops._digamma64(x)


def igamma_grad_a64(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d/da P(a, x) in float64, from the series P = sum_n t_n with t_n = x^(a+n) e^-x / Gamma(a+n+1):
    d t_n / da = t_n (log x - psi(a+n+1)), where psi(a+n+1) = psi(a+1) + sum_{k<=n} 1/(a+k). The series is summed
    until its terms (which peak near n = x - a) have fallen below double precision; nan outside a > 0, x >= 0."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    valid = (a > 0) & (x >= 0) & np.isfinite(x)
    out[valid & (x == 0)] = 0.0
    inner = valid & (x > 0)
    if not np.any(inner):
        return out
    av, xv = a[inner], x[inner]
    log_x = np.log(xv)
    log_t = av * log_x - xv - _lgamma(av + 1)  # log t_0
    psi = _digamma64(av + 1)

    def step(st, n):
        st["log_t"] = st["log_t"] + st["log_x"] - np.log(st["a"] + n)
        st["psi"] = st["psi"] + 1 / (st["a"] + n)
        term = np.exp(st["log_t"]) * (st["log_x"] - st["psi"])
        st["total"] = st["total"] + term
        # The terms grow until n passes x - a; after that, stop once they no longer matter.
        return (n > st["x"] - st["a"]) & (np.abs(term) <= _EPS * np.abs(st["total"]) + 1e-300)

    total = _converge({"a": av, "x": xv, "log_x": log_x, "log_t": log_t, "psi": psi,
                       "total": np.exp(log_t) * (log_x - psi)}, step, "total",
                      max_iter=_MAX_ITER + int(np.max(xv - av, initial=0)))
    out[inner] = total
    return out


register_op("IgammaGradA", inputs=["a: T", "x: T"], outputs=["z: T"], allowed={"T": _F32_64},
            shape=shape_fns.broadcast, fresh_output=True)(math_ops._broadcasting(_float64_kernel(igamma_grad_a64)))


def _igamma_dx(a, x):
    """d/dx P(a, x) = x^(a - 1) e^-x / Gamma(a), built from graph ops."""
    return math_ops.exp((a - 1) * math_ops.log(x) - x - math_ops.lgamma(a))


def _igamma_da(a, x):
    return apply_op("IgammaGradA", [a, x]).outputs[0]


@RegisterGradient("Igamma")
def _igamma_grad(op, grad):
    a, x = op.inputs
    return math_ops._binary_grads(op, grad * _igamma_da(a, x), grad * _igamma_dx(a, x))


@RegisterGradient("Igammac")
def _igammac_grad(op, grad):
    a, x = op.inputs
    return math_ops._binary_grads(op, -grad * _igamma_da(a, x), -grad * _igamma_dx(a, x))


@tf_export("math.igamma", "igamma")
def igamma(a, x, name=None) -> _ops.Tensor:
    """The lower regularized incomplete gamma function P(a, x); nan where a <= 0 or x < 0."""
    return apply_op("Igamma", [a, x], name=name).outputs[0]


@tf_export("math.igammac", "igammac")
def igammac(a, x, name=None) -> _ops.Tensor:
    """The upper regularized incomplete gamma function Q(a, x) = 1 - P(a, x); nan where a <= 0 or x < 0."""
    return apply_op("Igammac", [a, x], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Inverses of the normal CDF and of erf: Ndtri, Erfinv (and erfcinv), by a rational first guess refined with
# Halley's method against the CDF computed from the incomplete gamma function
# ----------------------------------------------------------------------------------------------------------
# Acklam's rational approximation of the normal quantile (relative error about 1e-9 before refinement).
_ACKLAM_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
             -3.066479806614716e+01, 2.506628277459239e+00)
_ACKLAM_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
             -1.328068155288572e+01)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
             4.374664141464968e+00, 2.938163982698783e+00)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def _horner(coeffs, x):
    out = np.zeros_like(x)
    for c in coeffs:
        out = out * x + c
    return out


def _normal_cdf_lower(x: np.ndarray) -> np.ndarray:
    """Phi(x) for x <= 0, as Q(1/2, x^2/2) / 2, accurate in the far tail."""
    return 0.5 * _igamma_pair(np.full_like(x, 0.5), 0.5 * x * x, True)


def _ndtri64(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, np.float64)
    out = np.full(p.shape, np.nan)
    out[p == 0] = -np.inf
    out[p == 1] = np.inf
    inner = (p > 0) & (p < 1)
    if not np.any(inner):
        return out
    # Work on the lower half (q = min(p, 1 - p), x <= 0) and mirror.
    pv = p[inner]
    upper = pv > 0.5
    q = np.where(upper, 1 - pv, pv)
    tail = q < 0.02425
    r = np.sqrt(-2 * np.log(np.where(tail, q, 0.5)))
    x_tail = _horner(_ACKLAM_C, r) / (_horner(_ACKLAM_D, r) * r + 1)
    t = q - 0.5
    t2 = t * t
    x_mid = t * _horner(_ACKLAM_A, t2) / (_horner(_ACKLAM_B, t2) * t2 + 1)
    x = np.minimum(np.where(tail, x_tail, x_mid), 0.0)
    for _ in range(2):  # Halley steps on Phi(x) - q
        density = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        u = (_normal_cdf_lower(x) - q) / density
        x = np.minimum(x - u / (1 + 0.5 * x * u), 0.0)
    # For 1 - p the lower-half value is computed from q = 1 - p, which is exact for p > 0.5.
    out[inner] = np.where(upper, -x, x)
    return out


def _erf64(x: np.ndarray) -> np.ndarray:
    """erf(x) = sign(x) P(1/2, x^2), with full relative precision near 0 (where x^2 would underflow, the series'
    first terms)."""
    tiny = np.abs(x) < 1e-8
    series = 2 / np.sqrt(np.pi) * x * (1 - x * x / 3)
    return np.where(tiny, series, np.sign(x) * _igamma_pair(np.full_like(x, 0.5), np.where(tiny, 1.0, x * x), False))


def _erfinv64(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, np.float64)
    out = np.full(y.shape, np.nan)
    out[y == -1] = -np.inf
    out[y == 1] = np.inf
    inner = (y > -1) & (y < 1)
    if not np.any(inner):
        return out
    yv = y[inner]
    # erfinv(y) = ndtri((1 + y) / 2) / sqrt(2), computed from the tail that keeps precision, then refined by
    # Newton steps on erf(x) - y (relative precision also for tiny y).
    x = np.where(yv < 0, _ndtri64(0.5 * (1 + yv)), -_ndtri64(0.5 * (1 - yv))) / np.sqrt(2)
    for _ in range(2):
        x = x - (_erf64(x) - yv) / (2 / np.sqrt(np.pi) * np.exp(-x * x))
    out[inner] = np.where(yv == 0, 0.0, x)
    return out


register_op("Ndtri", inputs=["x: T"], outputs=["y: T"], allowed={"T": _FLOAT}, shape=shape_fns.unchanged,
            fresh_output=True)(_float64_kernel(_ndtri64))
register_op("Erfinv", inputs=["x: T"], outputs=["y: T"], allowed={"T": _FLOAT}, shape=shape_fns.unchanged,
            fresh_output=True)(_float64_kernel(_erfinv64))


@RegisterGradient("Ndtri")
def _ndtri_grad(op, grad):
    # d ndtri(p) / dp = sqrt(2 pi) exp(ndtri(p)^2 / 2)
    y = op.outputs[0]
    root_two_pi = _ops.convert_to_tensor(np.sqrt(2 * np.pi), dtype=y.dtype.base_dtype)
    return grad * root_two_pi * math_ops.exp(math_ops.square(y) / 2)


@RegisterGradient("Erfinv")
def _erfinv_grad(op, grad):
    # d erfinv(x) / dx = sqrt(pi) / 2 exp(erfinv(x)^2)
    y = op.outputs[0]
    half_root_pi = _ops.convert_to_tensor(np.sqrt(np.pi) / 2, dtype=y.dtype.base_dtype)
    return grad * half_root_pi * math_ops.exp(math_ops.square(y))


@tf_export("math.ndtri")
def ndtri(x, name=None) -> _ops.Tensor:
    """The quantile function of the standard normal distribution (the inverse of its CDF), for x in [0, 1]."""
    with _ops.name_scope(name, "ndtri", [x]) as scope:
        return apply_op("Ndtri", [_ops.convert_to_tensor(x, name="x")], name=scope).outputs[0]


@tf_export("math.erfinv")
def erfinv(x, name=None) -> _ops.Tensor:
    """The inverse of the error function, for x in [-1, 1]."""
    with _ops.name_scope(name, "erfinv", [x]) as scope:
        return apply_op("Erfinv", [_ops.convert_to_tensor(x, name="x")], name=scope).outputs[0]


@tf_export("math.erfcinv")
def erfcinv(x, name=None) -> _ops.Tensor:
    """The inverse of the complementary error function, for x in [0, 2]: -ndtri(x / 2) / sqrt(2)."""
    with _ops.name_scope(name, "erfcinv", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        half = _ops.convert_to_tensor(0.5, dtype=x.dtype.base_dtype)
        root_half = _ops.convert_to_tensor(np.sqrt(0.5), dtype=x.dtype.base_dtype)
        return -ndtri(half * x) * root_half


# ----------------------------------------------------------------------------------------------------------
# NextAfter
# ----------------------------------------------------------------------------------------------------------
register_op("NextAfter", inputs=["x1: T", "x2: T"], outputs=["output: T"], attrs={"T": ("type", _dt.float32)},
            allowed={"T": (_dt.float64, _dt.float32)}, shape=shape_fns.broadcast,
            fresh_output=True)(math_ops._broadcasting(np.nextafter))


@RegisterGradient("NextAfter")
def _next_after_grad(op, grad):
    # A step of one ulp at most: TF differentiates it as slope 1 in x1 and 0 in x2.
    return math_ops._binary_grads(op, grad, array_ops.zeros_like(grad))


@tf_export("math.nextafter")
def nextafter(x1, x2, name=None) -> _ops.Tensor:
    """The next representable value after x1 in the direction of x2, elementwise."""
    return apply_op("NextAfter", [x1, x2], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Regularized incomplete beta function I_x(a, b) (Betainc)
# ----------------------------------------------------------------------------------------------------------
def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of I_x(a, b) (modified Lentz), converging fast for x < (a + 1) / (a + b + 2)."""
    def step(st, m):
        a, b, x = st["a"], st["b"], st["x"]
        m2 = 2 * m
        aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2))
        d = 1 / _not_tiny(1 + aa * st["d"])
        c = _not_tiny(1 + aa / st["c"])
        h = st["h"] * d * c
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2))
        st["d"] = 1 / _not_tiny(1 + aa * d)
        st["c"] = _not_tiny(1 + aa / c)
        delta = st["d"] * st["c"]
        st["h"] = h * delta
        return np.abs(delta - 1) <= _TOL

    d = 1 / _not_tiny(1 - (a + b) * x / (a + 1))
    return _converge({"a": a, "b": b, "x": x, "c": np.ones_like(x), "d": d, "h": d.copy()}, step, "h")


def _betainc64(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    a, b, x = np.broadcast_arrays(a, b, x)
    out = np.full(a.shape, np.nan)
    valid = (a > 0) & (b > 0) & (x >= 0) & (x <= 1)
    interior = valid & (x > 0) & (x < 1)
    out[valid & (x == 0)] = 0.0
    out[valid & (x == 1)] = 1.0
    if np.any(interior):
        av, bv, xv = a[interior], b[interior], x[interior]
        # Evaluate the fraction where it converges fast, using I_x(a, b) = 1 - I_(1-x)(b, a).
        swap = xv > (av + 1) / (av + bv + 2)
        pa, pb, px = np.where(swap, bv, av), np.where(swap, av, bv), np.where(swap, 1 - xv, xv)
        log_front = pa * np.log(px) + pb * np.log1p(-px) - (_lgamma(pa) + _lgamma(pb) - _lgamma(pa + pb))
        value = np.exp(log_front) * _beta_fraction(pa, pb, px) / pa
        out[interior] = np.where(swap, 1 - value, value)
    return out


def _betainc_shape(op):
    shapes = [t.shape for t in op.inputs]
    result = _shape.unknown_shape()
    for s in shapes:
        if s.ndims == 0:
            continue
        try:
            result = result.merge_with(s)
        except ValueError:
            raise ValueError(f"Shapes of a, b, and x are inconsistent: {shapes[0]} vs. {shapes[1]} vs. "
                             f"{shapes[2]}") from None
    if all(s.ndims == 0 for s in shapes):
        return _shape.scalar()
    return result


@register_op("Betainc", inputs=["a: T", "b: T", "x: T"], outputs=["z: T"], allowed={"T": _F32_64},
             shape=_betainc_shape, fresh_output=True)
def _betainc_kernel(a, b, x):
    shapes = [np.shape(v) for v in (a, b, x)]
    full = [s for s in shapes if s != ()]
    if any(s != full[0] for s in full):
        raise _errors.InvalidArgumentError(
            None, None, "Shapes of a, b, and x are inconsistent: " + " vs. ".join(_shape.dims_str(s) for s in shapes))
    return _float64_kernel(_betainc64)(a, b, x)


@RegisterGradient("Betainc")
def _betainc_grad(op, grad):
    # TF differentiates only with respect to x: d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b).
    a, b, x = op.inputs
    log_beta = math_ops.lgamma(a) + math_ops.lgamma(b) - math_ops.lgamma(a + b)
    partial_x = math_ops.exp((b - 1) * math_ops.log1p(-x) + xlogy(a - 1, x) - log_beta)
    dx = grad * partial_x
    if x.shape.ndims == 0 and dx.shape.ndims != 0:
        dx = math_ops.reduce_sum(dx)
    return [None, None, dx]


@tf_export("math.betainc", "betainc")
def betainc(a, b, x, name=None) -> _ops.Tensor:
    """The regularized incomplete beta function I_x(a, b); a, b and x have one shape or are scalars."""
    return apply_op("Betainc", [a, b, x], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Hurwitz zeta function zeta(x, q) = sum_k (q + k)^-x (Zeta), by Euler-Maclaurin summation
# ----------------------------------------------------------------------------------------------------------
_BERNOULLI_2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
                 -174611 / 330, 854513 / 138, -236364091 / 2730)
_ZETA_TERMS = 9


def _zeta64(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    x, q = np.broadcast_arrays(x, q)
    out = np.full(x.shape, np.nan)
    out[x == 1] = np.inf
    nonpositive_q = q <= 0
    pole = nonpositive_q & (q == np.floor(q))
    valid = (x > 1) & ~pole & ~(nonpositive_q & (x != np.floor(x)))
    out[(x > 1) & pole] = np.inf
    if not np.any(valid):
        return out
    xv, qv = x[valid], q[valid]
    total = np.zeros_like(xv)
    for k in range(_ZETA_TERMS):
        total = total + (qv + k) ** -xv
    w = qv + _ZETA_TERMS
    total = total + w ** (1 - xv) / (xv - 1) + 0.5 * w ** -xv
    # The Bernoulli corrections B_2j / (2j)! * x (x+1) ... (x+2j-2) * w^(-x-2j+1).
    rising = xv.copy()
    power = w ** (-xv - 1)
    factorial = 2.0
    for j, b in enumerate(_BERNOULLI_2K, start=1):
        total = total + b / factorial * rising * power
        rising = rising * (xv + 2 * j - 1) * (xv + 2 * j)
        power = power / (w * w)
        factorial = factorial * (2 * j + 1) * (2 * j + 2)
    out[valid] = total
    return out


register_op("Zeta", inputs=["x: T", "q: T"], outputs=["z: T"], allowed={"T": _F32_64}, shape=shape_fns.broadcast,
            fresh_output=True)(math_ops._broadcasting(_float64_kernel(_zeta64)))


@RegisterGradient("Zeta")
def _zeta_grad(op, grad):
    # d/dq zeta(x, q) = -x zeta(x + 1, q); TF gives x no gradient.
    x, q = op.inputs
    return math_ops._binary_grads(op, None, grad * -x * zeta(x + 1, q))


@tf_export("math.zeta", "zeta")
def zeta(x, q, name=None) -> _ops.Tensor:
    """Hurwitz's zeta function sum_k (q + k)^-x."""
    return apply_op("Zeta", [x, q], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Zero-safe products: Xlogy, Xdivy, Xlog1py (0 wherever x == 0) and MulNoNan (0 wherever y == 0)
# ----------------------------------------------------------------------------------------------------------
def _zero_where(cond, value):
    value = np.asarray(value)
    return np.where(cond, np.zeros((), dtype=value.dtype), value)


_ZERO_SAFE = {
    "Xlogy": (lambda x, y: _zero_where(x == 0, x * np.log(y)), _FLOAT_CPLX),
    "Xdivy": (lambda x, y: _zero_where(x == 0, x / y), _FLOAT_CPLX),
    "Xlog1py": (lambda x, y: _zero_where(x == 0, x * np.log1p(y)), _FLOAT_CPLX),
    "MulNoNan": (lambda x, y: _zero_where(y == 0, x * y), _FLOAT_CPLX),
}

for _name, (_fn, _allowed) in _ZERO_SAFE.items():
    register_op(_name, inputs=["x: T", "y: T"], outputs=["z: T"], allowed={"T": _allowed}, shape=shape_fns.broadcast,
                fresh_output=True)(math_ops._broadcasting(math_ops._quiet(_fn)))


def _nonzero_indicator(x):
    return math_ops.cast(math_ops.not_equal(x, array_ops.zeros_like(x)), x.dtype.base_dtype)


@RegisterGradient("Xlogy")
def _xlogy_grad(op, grad):
    x, y = op.inputs
    return math_ops._binary_grads(op, grad * xlogy(_nonzero_indicator(x), y), grad * xdivy(x, y))


@RegisterGradient("Xdivy")
def _xdivy_grad(op, grad):
    x, y = op.inputs
    return math_ops._binary_grads(op, grad * xdivy(_nonzero_indicator(x), y),
                                  grad * xdivy(math_ops.negative(x), y * y))


@RegisterGradient("Xlog1py")
def _xlog1py_grad(op, grad):
    x, y = op.inputs
    one = _ops.convert_to_tensor(1, dtype=y.dtype.base_dtype)
    return math_ops._binary_grads(op, grad * xlog1py(_nonzero_indicator(x), y), grad * xdivy(x, y + one))


@RegisterGradient("MulNoNan")
def _mul_no_nan_grad(op, grad):
    x, y = op.inputs
    return math_ops._binary_grads(op, multiply_no_nan(grad, y), multiply_no_nan(x, grad))


@tf_export("math.xlogy")
def xlogy(x, y, name=None) -> _ops.Tensor:
    """x * log(y), and 0 wherever x == 0 (even where log(y) is infinite or nan)."""
    return apply_op("Xlogy", [x, y], name=name).outputs[0]


@tf_export("math.xdivy")
def xdivy(x, y, name=None) -> _ops.Tensor:
    """x / y, and 0 wherever x == 0 (even where y == 0)."""
    return apply_op("Xdivy", [x, y], name=name).outputs[0]


@tf_export("math.xlog1py")
def xlog1py(x, y, name=None) -> _ops.Tensor:
    """x * log1p(y), and 0 wherever x == 0."""
    return apply_op("Xlog1py", [x, y], name=name).outputs[0]


@tf_export("math.multiply_no_nan")
def multiply_no_nan(x, y, name=None) -> _ops.Tensor:
    """x * y, and 0 wherever y == 0 (even where x is infinite or nan); x and y must have one dtype."""
    with _ops.name_scope(name, "multiply_no_nan", [x, y]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        y = _ops.convert_to_tensor(y, name="y", dtype=x.dtype.base_dtype)
        return apply_op("MulNoNan", [x, y], name=scope).outputs[0]


@tf_export("math.reciprocal_no_nan")
def reciprocal_no_nan(x, name=None) -> _ops.Tensor:
    """1 / x, and 0 wherever x == 0."""
    with _ops.name_scope(name, "reciprocal_no_nan", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        one = _ops.convert_to_tensor(1, dtype=x.dtype.base_dtype)
        return math_ops.div_no_nan(one, x, name=scope)


# ----------------------------------------------------------------------------------------------------------
# Angle of complex numbers
# ----------------------------------------------------------------------------------------------------------
@register_op("Angle", inputs=["input: T"], outputs=["output: Tout"],
             attrs={"T": ("type", _dt.complex64), "Tout": ("type", _dt.float32)},
             allowed={"T": _dt.COMPLEX, "Tout": _F32_64}, shape=shape_fns.unchanged, fresh_output=True)
def _angle_kernel(x, *, Tout):  # noqa: N803 - TF's attr name
    return np.angle(x).astype(Tout.as_numpy_dtype, copy=False)


@RegisterGradient("Angle")
def _angle_grad(op, grad):
    # d angle / dz, in TF's convention for complex gradients: -grad / (im + i re).
    z = op.inputs[0]
    inverse = math_ops.reciprocal(math_ops.complex(math_ops.imag(z), math_ops.real(z)))
    return -math_ops.complex(grad, array_ops.zeros_like(grad)) * inverse


@tf_export("math.angle", "angle")
def angle(input, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    """The argument of complex numbers (in radians); real numbers give 0 (TF 1.15's rule)."""
    with _ops.name_scope(name, "Angle", [input]) as scope:
        input = _ops.convert_to_tensor(input, name="input")
        if input.dtype.is_complex:
            return apply_op("Angle", [input], {"Tout": input.dtype.real_dtype}, name=scope).outputs[0]
        return array_ops.zeros_like(input, name=scope)


# ----------------------------------------------------------------------------------------------------------
# Cumulative log-sum-exp
# ----------------------------------------------------------------------------------------------------------
def _cumulative_logsumexp_shape(op):
    return op.inputs[0].shape


@register_op("CumulativeLogsumexp", inputs=["x: T", "axis: Tidx"], outputs=["out: T"],
             attrs={"exclusive": ("bool", False), "reverse": ("bool", False), "Tidx": ("type", _dt.int32)},
             allowed={"T": _FLOAT, "Tidx": (_dt.int32, _dt.int64)}, shape=_cumulative_logsumexp_shape,
             fresh_output=True)
def _cumulative_logsumexp_kernel(x, axis, *, exclusive, reverse):
    if np.ndim(axis) != 0:
        raise _errors.InvalidArgumentError(None, None, f"ScanOp: axis must be a scalar, not {list(np.shape(axis))}")
    ax = int(axis)
    if not -x.ndim <= ax < max(x.ndim, 1):
        raise _errors.InvalidArgumentError(None, None, f"ScanOp: Expected scan axis in the range [{-x.ndim}, "
                                           f"{x.ndim}), but got {ax}")
    if x.ndim == 0:
        return np.array(-np.inf if exclusive else x, dtype=x.dtype)
    v = x.astype(np.float64)
    if reverse:
        v = np.flip(v, ax)
    if exclusive:
        pad = [(0, 0)] * v.ndim
        pad[ax] = (1, 0)
        v = np.pad(v, pad, constant_values=-np.inf)
        v = np.take(v, np.arange(x.shape[ax]), axis=ax)
    with np.errstate(all="ignore"):
        out = np.logaddexp.accumulate(v, axis=ax)
    if reverse:
        out = np.flip(out, ax)
    return out.astype(x.dtype)


@RegisterGradient("CumulativeLogsumexp")
def _cumulative_logsumexp_grad(op, grad):
    # Split the incoming gradient by sign, so each part's log exists, and scan it back in the other direction:
    # dx_i = exp(x_i) * sum over the outputs j that include x_i of grad_j * exp(-out_j).
    x, axis = op.inputs
    out = op.outputs[0]
    exclusive, reverse = op.get_attr("exclusive"), op.get_attr("reverse")
    lowest = array_ops.fill(array_ops.shape(grad), _ops.convert_to_tensor(grad.dtype.min, dtype=grad.dtype))
    zero = array_ops.zeros_like(grad)
    log_pos = array_ops.where(math_ops.greater(grad, zero), math_ops.log(grad), lowest)
    log_neg = array_ops.where(math_ops.less(grad, zero), math_ops.log(-grad), lowest)

    def back(log_part):
        scanned = cumulative_logsumexp(log_part - out, axis, exclusive=exclusive, reverse=not reverse)
        return math_ops.exp(scanned + x)

    return [back(log_pos) - back(log_neg), None]


@tf_export("math.cumulative_logsumexp")
def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None) -> _ops.Tensor:
    """log(cumsum(exp(x))) along `axis`, computed without overflow; `exclusive` and `reverse` as in cumsum."""
    with _ops.name_scope(name, "CumulativeLogsumexp", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        return apply_op("CumulativeLogsumexp", [x, axis], {"exclusive": exclusive, "reverse": reverse},
                        name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Composites
# ----------------------------------------------------------------------------------------------------------
@tf_export("math.lbeta", "lbeta")
def lbeta(x, name=None) -> _ops.Tensor:
    """log(|Beta(x)|) over the last dimension: sum(lgamma(x)) - lgamma(sum(x)); -inf for an empty last dimension."""
    with _ops.name_scope(name, "lbeta", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        log_prod_gamma = math_ops.reduce_sum(math_ops.lgamma(x), axis=[-1])
        log_gamma_sum = math_ops.lgamma(math_ops.reduce_sum(x, axis=[-1]))
        return log_prod_gamma - log_gamma_sum


@tf_export("math.log_sigmoid", "log_sigmoid")
def log_sigmoid(x, name=None) -> _ops.Tensor:
    """log(1 / (1 + exp(-x))), computed as -softplus(-x) so it neither overflows nor loses precision."""
    with _ops.name_scope(name, "LogSigmoid", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        return math_ops.negative(nn_ops.softplus(-x), name=scope)


@tf_export("math.polyval")
def polyval(coeffs, x, name=None) -> _ops.Tensor:
    """The polynomial coeffs[0] * x^(n-1) + ... + coeffs[n-1] at x, by Horner's rule; 0 for no coefficients."""
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"Argument coeffs must be list type found {type(coeffs)}.")
    with _ops.name_scope(name, "polyval", list(coeffs) + [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        if not coeffs:
            return array_ops.zeros_like(x, name=scope)
        coeffs = [_ops.convert_to_tensor(c, name=f"coeffs_{i}") for i, c in enumerate(coeffs)]
        p = coeffs[0]
        for c in coeffs[1:]:
            p = c + p * x
        return p

