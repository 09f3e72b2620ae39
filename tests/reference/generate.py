#!/usr/bin/env python3
"""High-precision reference data for `kl` (KL divergence / log_prob / entropy of Gaussians).

How to run (from the repository root):

    python3 -m venv tests/reference/.venv
    tests/reference/.venv/bin/pip install mpmath
    tests/reference/.venv/bin/python tests/reference/generate.py

This rewrites tests/reference/cases.json. The output is deterministic: every case draws its
inputs from its own `random.Random(seed)` with a fixed integer seed, so rerunning the script
reproduces the committed file byte for byte.

Independence from the Rust code
-------------------------------
The expected values are NOT produced by (or modelled on) the Rust kernels, which use Cholesky
solves and numerically stable reformulations. Here every quantity is computed straight from the
textbook formulas, in mpmath at DPS (60) significant digits:

  * Normal:  KL = ln(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2
             log_prob = -(x-m)^2/(2 s^2) - ln s - ln(2 pi)/2,   entropy = 1/2 + ln(2 pi)/2 + ln s
  * MVN:     KL = 1/2 (tr(S2^-1 S1) + (m2-m1)^T S2^-1 (m2-m1) - d + ln det S2 - ln det S1)
             log_prob = -1/2 (d ln(2 pi) + ln det S + (x-m)^T S^-1 (x-m)),
             entropy = d/2 (1 + ln(2 pi)) + 1/2 ln det S
    with explicit mp.inverse / mp.det of the covariance S, where S = C, or L L^T, or P^-1
    (mp.inverse), or W W^T + diag(D).
  * Independent / to_event(n): sum over the reinterpreted dims; a diagonal Normal that meets a
    full-covariance MVN is turned into the MVN with S = diag(s^2).

Inputs are generated as Python floats (IEEE f64) and converted with mpf(float), so the reference
is the exact answer for exactly those f64 inputs (written to JSON with repr(), which round-trips).
Each expected value is the mpmath result rounded to the nearest f64.

Self-check: every case is evaluated twice, at DPS and at 2*DPS digits; the two results must round
to the same f64. A result whose 2*DPS value has magnitude below ZERO_SNAP (1e-40) is a true zero
(e.g. `P || P`: the textbook formula leaves ~1e-60 of rounding residue) and is written as 0.0; no
case is constructed to have a nonzero value that small.

Semantics follow torch.distributions (Normal, MultivariateNormal, LowRankMultivariateNormal,
Independent, expand), including NumPy broadcasting of parameters. See README.md for the format.

The families beyond the Gaussians (Laplace .. HalfNormal here; Gamma, Chi2, Beta, Dirichlet, Gumbel,
Pareto, Uniform, StudentT, Weibull, VonMises in continuous.py, which also has the cross-family
pairs of torch's kl.py, with Normal, Laplace and Exponential among them) are checked by numerical
integration of p ln(p/q), -p ln p and p against their closed forms, on the DPS pass. A KL between
supports that do not nest (or against a Pareto P without the moments it needs) is +inf and is
written as the string "inf".

The discrete families Bernoulli, Poisson and Geometric (discrete.py) are the exception to "closed
forms, checked": their references are the defining sums over the support of the log pmf, and the
closed forms only check them. A Bernoulli or Geometric KL against a Q without mass where P has some
is "inf". So is Binomial (the `# ---- Binomial` block of the cases, discrete.py's Binomial section):
a Binomial KL with P's total_count above Q's is "inf". And so are Categorical and OneHotCategorical
(the `# ---- Categorical` block, discrete.py's Categorical section): finite sums over the K
categories of the normalised log pmf, "inf" where Q(k) = 0 < P(k).
"""

import itertools
import json
import math
import os
import random
import zlib

import mpmath
from mpmath import mp, mpf
from mpmath.libmp import round_nearest, to_float

import continuous
import discrete
from continuous import FAMILIES

DPS = 60
ZERO_SNAP = mpf("1e-40")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")


# ----------------------------------------------------------------------------------------------
# Small dense tensors of mpf (shape + row-major flat data) with NumPy broadcasting.
# ----------------------------------------------------------------------------------------------

def ndindex(shape):
    return itertools.product(*[range(s) for s in shape])


def broadcast_shapes(*shapes):
    n = max((len(s) for s in shapes), default=0)
    out = []
    for k in range(n):
        dim = 1
        for s in shapes:
            j = k - (n - len(s))
            if j < 0:
                continue
            if s[j] != 1:
                if dim != 1 and dim != s[j]:
                    raise ValueError(f"cannot broadcast {shapes}")
                dim = s[j]
        out.append(dim)
    return tuple(out)


def map_index(idx, shape):
    """Index into an array of `shape` that is broadcast to a shape of which `idx` is an index."""
    off = len(idx) - len(shape)
    assert off >= 0
    return tuple(0 if s == 1 else idx[off + k] for k, s in enumerate(shape))


def nested_shape(x):
    shape = []
    while isinstance(x, list):
        shape.append(len(x))
        x = x[0]
    return tuple(shape)


def flatten(x):
    if isinstance(x, list):
        for y in x:
            yield from flatten(y)
    else:
        yield x


class T:
    def __init__(self, shape, data):
        self.shape = tuple(shape)
        self.data = list(data)
        assert len(self.data) == math.prod(self.shape)

    @staticmethod
    def from_nested(x):
        vals = list(flatten(x))
        for v in vals:
            assert isinstance(v, float) and math.isfinite(v), v
        return T(nested_shape(x), [mpf(v) for v in vals])

    def at(self, idx):
        assert len(idx) == len(self.shape)
        flat = 0
        for i, s in zip(idx, self.shape):
            flat = flat * s + i
        return self.data[flat]

    def bat(self, idx):
        """Broadcast read: idx indexes a shape that this tensor broadcasts to."""
        return self.at(map_index(idx, self.shape))


# ----------------------------------------------------------------------------------------------
# Canonical Gaussian: batch_shape, event_shape, and either
#   kind "diag": independent univariate normals; mu(i), sigma(i) for i = batch_idx + event_idx
#   kind "full": one MVN per batch index; get(b) -> (mu column mp.matrix, Sigma mp.matrix)
# ----------------------------------------------------------------------------------------------

SIGMAS = []  # every full covariance used while evaluating the current case (for "cond")


class Gauss:
    def __init__(self, batch, event, kind, **fns):
        self.batch = tuple(batch)
        self.event = tuple(event)
        self.kind = kind
        self.fns = fns

    def full_at(self, b):
        if self.kind == "full":
            mu, S = self.fns["get"](b)
        else:
            assert len(self.event) == 1, "diag -> full needs a vector event"
            d = self.event[0]
            mu = mp.matrix(d, 1)
            S = mp.matrix(d, d)
            for k in range(d):
                mu[k] = self.fns["mu"](b + (k,))
                S[k, k] = self.fns["sigma"](b + (k,)) ** 2
        SIGMAS.append(S)
        return mu, S


def kl_normal(m1, s1, m2, s2):
    return mp.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - mpf(1) / 2


def kl_mvn(m1, S1, m2, S2):
    d = S1.rows
    S2inv = mp.inverse(S2)
    M = S2inv * S1
    tr = mp.fsum(M[i, i] for i in range(d))
    dm = m2 - m1
    quad = (dm.T * S2inv * dm)[0, 0]
    return (tr + quad - d + mp.log(mp.det(S2)) - mp.log(mp.det(S1))) / 2


def logprob_normal(x, m, s):
    return -((x - m) ** 2) / (2 * s ** 2) - mp.log(s) - mp.log(2 * mp.pi) / 2


def logprob_mvn(x, m, S):
    d = S.rows
    dx = x - m
    quad = (dx.T * mp.inverse(S) * dx)[0, 0]
    return -(d * mp.log(2 * mp.pi) + mp.log(mp.det(S)) + quad) / 2


def entropy_normal(s):
    return mpf(1) / 2 + mp.log(2 * mp.pi) / 2 + mp.log(s)


def kl_laplace(m1, b1, m2, b2):
    """Textbook closed form, checked against numerical integration of p ln(p/q)."""
    d = abs(m1 - m2)
    closed = mp.log(b2 / b1) + d / b2 + (b1 / b2) * mp.exp(-d / b1) - 1
    if continuous.CHECKS["on"]:
        check_by_quadrature(closed, m1, b1, m2, b2)
    return closed


def check_by_quadrature(closed, m1, b1, m2, b2):
    """KL(p || q) = ∫ p ln(p/q) dx, in units of p's scale (x = m1 + b1 y, so that p is the
    standard Laplace density e^-|y| / 2 at every scale), split at the kinks of both log
    densities; the closed form and the integral must agree to 1e-25."""
    y0 = (m2 - m1) / b1

    def integrand(y):
        log_ratio = mp.log(b2 / b1) - abs(y) + abs(m1 + b1 * y - m2) / b2
        return mp.exp(-abs(y)) / 2 * log_ratio
    # Beyond |y| = 200 the density is below e^-200.
    w = mpf(200)
    points = sorted({-w, mpf(0), max(-w, min(w, y0)), w})
    num = mp.quad(integrand, points)
    tol = mpf("1e-25") * max(mpf(1), abs(closed))
    assert abs(num - closed) <= tol, f"Laplace KL: closed form {closed} vs quadrature {num}"


def logprob_laplace(x, m, b):
    return -mp.log(2 * b) - abs(x - m) / b


def entropy_laplace(m, b):
    return 1 + mp.log(2 * b)


def kl_cauchy(m1, s1, m2, s2):
    """Textbook closed form, checked against numerical integration of p ln(p/q)."""
    closed = mp.log(((s1 + s2) ** 2 + (m1 - m2) ** 2) / (4 * s1 * s2))
    # In units of p's scale (x = m1 + s1 y); heavy tails: over the whole line, split at the peaks.
    y0 = (m2 - m1) / s1
    if not continuous.CHECKS["on"]:
        return closed

    def integrand(y):
        x = m1 + s1 * y
        lp, lq = logprob_cauchy(x, m1, s1), logprob_cauchy(x, m2, s2)
        return s1 * mp.exp(lp) * (lp - lq)
    num = mp.quad(integrand, sorted({-mp.inf, mpf(0), y0, mp.inf}))
    assert abs(num - closed) <= mpf("1e-25") * max(mpf(1), abs(closed)), f"Cauchy KL: {closed} vs {num}"
    return closed


def logprob_cauchy(x, m, s):
    return -mp.log(mp.pi * s) - mp.log(1 + ((x - m) / s) ** 2)


def entropy_cauchy(m, s):
    return mp.log(4 * mp.pi * s)


def kl_lognormal(m1, s1, m2, s2):
    """The normal KL of the logs, checked against integration of p ln(p/q) over x > 0."""
    closed = kl_normal(m1, s1, m2, s2)
    if not continuous.CHECKS["on"]:
        return closed

    def integrand(y):
        # x = exp(m1 + s1 y): p(x) dx is the standard normal density in y.
        x = mp.exp(m1 + s1 * y)
        lp, lq = logprob_lognormal(x, m1, s1), logprob_lognormal(x, m2, s2)
        return mp.exp(-y * y / 2) / mp.sqrt(2 * mp.pi) * (lp - lq)
    num = mp.quad(integrand, [-mp.inf, 0, mp.inf])
    assert abs(num - closed) <= mpf("1e-25") * max(mpf(1), abs(closed)), f"LogNormal KL: {closed} vs {num}"
    return closed


def logprob_lognormal(x, m, s):
    return logprob_normal(mp.log(x), m, s) - mp.log(x)


def entropy_lognormal(m, s):
    return m + entropy_normal(s)


def kl_exponential(_m1, r1, _m2, r2):
    """Textbook closed form, checked against integration of p ln(p/q) in y = r1 x."""
    closed = mp.log(r1 / r2) + r2 / r1 - 1
    if not continuous.CHECKS["on"]:
        return closed
    num = mp.quad(lambda y: mp.exp(-y) * (mp.log(r1 / r2) - y + r2 * y / r1), [0, mp.inf])
    assert abs(num - closed) <= mpf("1e-25") * max(mpf(1), abs(closed)), f"Exponential KL: {closed} vs {num}"
    return closed


def logprob_exponential(x, _m, r):
    return mp.log(r) - r * x


def entropy_exponential(_m, r):
    return 1 - mp.log(r)


def kl_half_normal(_m1, s1, _m2, s2):
    """Textbook closed form, checked against integration of p ln(p/q) in y = x/s1."""
    closed = mp.log(s2 / s1) + s1 ** 2 / (2 * s2 ** 2) - mpf(1) / 2
    if not continuous.CHECKS["on"]:
        return closed

    def integrand(y):
        x = s1 * y
        lp, lq = logprob_half_normal(x, 0, s1), logprob_half_normal(x, 0, s2)
        return s1 * mp.exp(lp) * (lp - lq)
    num = mp.quad(integrand, [0, mp.inf])
    assert abs(num - closed) <= mpf("1e-25") * max(mpf(1), abs(closed)), f"HalfNormal KL: {closed} vs {num}"
    return closed


def logprob_half_normal(x, _m, s):
    return mp.log(2) + logprob_normal(x, 0, s)


def entropy_half_normal(_m, s):
    return mp.log(mp.pi / 2) / 2 + mpf(1) / 2 + mp.log(s)


# kind -> (kl, log_prob, entropy) of the elementwise families.
ELEMENTWISE = {
    "laplace": (kl_laplace, logprob_laplace, entropy_laplace),
    "cauchy": (kl_cauchy, logprob_cauchy, entropy_cauchy),
    "lognormal": (kl_lognormal, logprob_lognormal, entropy_lognormal),
    "exponential": (kl_exponential, logprob_exponential, entropy_exponential),
    "halfnormal": (kl_half_normal, logprob_half_normal, entropy_half_normal),
}


def entropy_mvn(S):
    d = S.rows
    return d * (1 + mp.log(2 * mp.pi)) / 2 + mp.log(mp.det(S)) / 2


# ----------------------------------------------------------------------------------------------
# Expression AST: renders to the kl language and evaluates to a Gauss / result tensor.
# ----------------------------------------------------------------------------------------------

class Param:
    def __init__(self, name, value):
        self.name = name
        self.value = value

    def render(self):
        return self.name

    def tensor(self):
        return T.from_nested(self.value)

    def params(self):
        return [self]


class Lit:
    def __init__(self, x):
        self.x = x

    def render(self):
        return repr(self.x)

    def tensor(self):
        return T((), [mpf(float(self.x))])

    def params(self):
        return []


class Diag:
    def __init__(self, v):
        self.v = v

    def render(self):
        return f"diag({self.v.render()})"

    def tensor(self):
        v = self.v.tensor()
        d = v.shape[-1]
        data = []
        for i in ndindex(v.shape[:-1]):
            for r in range(d):
                for c in range(d):
                    data.append(v.at(i + (r,)) if r == c else mpf(0))
        return T(v.shape + (d,), data)

    def params(self):
        return self.v.params()


class Normal:
    KINDS = ("pos", "scale", "var", "log_scale", "precision")

    def __init__(self, loc, scale, kind="pos"):
        assert kind in self.KINDS
        self.loc, self.scale, self.kind = loc, scale, kind

    def render(self):
        if self.kind == "pos":
            return f"Normal({self.loc.render()}, {self.scale.render()})"
        return f"Normal({self.loc.render()}, {self.kind}={self.scale.render()})"

    def params(self):
        return self.loc.params() + self.scale.params()

    def gauss(self):
        loc, sc = self.loc.tensor(), self.scale.tensor()
        kind = self.kind
        conv = {
            "pos": lambda v: v,
            "scale": lambda v: v,
            "var": lambda v: mp.sqrt(v),
            "log_scale": lambda v: mp.exp(v),
            "precision": lambda v: 1 / mp.sqrt(v),
        }[kind]
        batch = broadcast_shapes(loc.shape, sc.shape)
        return Gauss(batch, (), "diag", mu=lambda i: loc.bat(i), sigma=lambda i: conv(sc.bat(i)))


class Elementwise:
    """A two-parameter elementwise family (loc, scale); its kind names its formulas in ELEMENTWISE."""
    NAME = None

    def __init__(self, loc, scale):
        self.loc, self.scale = loc, scale

    def render(self):
        return f"{self.NAME}({self.loc.render()}, {self.scale.render()})"

    def params(self):
        return self.loc.params() + self.scale.params()

    def gauss(self):
        loc, sc = self.loc.tensor(), self.scale.tensor()
        batch = broadcast_shapes(loc.shape, sc.shape)
        return Gauss(batch, (), self.NAME.lower(), mu=lambda i: loc.bat(i), sigma=lambda i: sc.bat(i))


class Laplace(Elementwise):
    NAME = "Laplace"


class Cauchy(Elementwise):
    NAME = "Cauchy"


class LogNormal(Elementwise):
    NAME = "LogNormal"


class Single:
    """A one-parameter elementwise family; its kind names its formulas in ELEMENTWISE (the
    parameter is stored as `sigma`, the formulas ignore `mu`)."""
    NAME = None

    def __init__(self, param):
        self.param = param

    def render(self):
        return f"{self.NAME}({self.param.render()})"

    def params(self):
        return self.param.params()

    def gauss(self):
        t = self.param.tensor()
        return Gauss(t.shape, (), self.NAME.lower(), mu=lambda i: mpf(0), sigma=lambda i: t.bat(i))


class Exponential(Single):
    NAME = "Exponential"


class HalfNormal(Single):
    NAME = "HalfNormal"


class Bernoulli:
    """`Bernoulli(probs=p)` or `Bernoulli(logits=l)` (keyword-only in torch), elementwise; its
    kind is "Bernoulli", and `dist(i)` is the discrete.Bernoulli at index i."""
    KINDS = ("probs", "logits")

    def __init__(self, param, kind):
        assert kind in self.KINDS, kind
        self.param, self.kind = param, kind

    def render(self):
        return f"Bernoulli({self.kind}={self.param.render()})"

    def params(self):
        return self.param.params()

    def gauss(self):
        t, kind = self.param.tensor(), self.kind
        return Gauss(t.shape, (), "Bernoulli", dist=lambda i: discrete.Bernoulli(kind, t.bat(i)))


class Poisson:
    """`Poisson(rate)`, elementwise; `dist(i)` is the discrete.Poisson at index i."""

    def __init__(self, rate):
        self.rate = rate

    def render(self):
        return f"Poisson({self.rate.render()})"

    def params(self):
        return self.rate.params()

    def gauss(self):
        t = self.rate.tensor()
        return Gauss(t.shape, (), "Poisson", dist=lambda i: discrete.Poisson(t.bat(i)))


class Geometric:
    """`Geometric(probs=p)` or `Geometric(logits=l)` (keyword-only in torch), elementwise; its
    kind is "Geometric", and `dist(i)` is the discrete.Geometric at index i."""
    KINDS = ("probs", "logits")

    def __init__(self, param, kind):
        assert kind in self.KINDS, kind
        self.param, self.kind = param, kind

    def render(self):
        return f"Geometric({self.kind}={self.param.render()})"

    def params(self):
        return self.param.params()

    def gauss(self):
        t, kind = self.param.tensor(), self.kind
        return Gauss(t.shape, (), "Geometric", dist=lambda i: discrete.Geometric(kind, t.bat(i)))


# The kinds of the discrete families: their references are sums over the support (discrete.py).
DISCRETE = ("Bernoulli", "Poisson", "Geometric", "Binomial",  # Binomial: the `# ---- Binomial` block
            "Categorical", "OneHotCategorical")  # the `# ---- Categorical` block


def devents(p):
    """Indices of the elementwise positions of a discrete distribution: its event, without a
    OneHotCategorical's own last dim (the K categories, which `dist` takes whole)."""
    return ndindex(p.event[:-1] if p.kind == "OneHotCategorical" else p.event)


class Family:
    """A family of continuous.FAMILIES with positional parameters in torch's order; trailing
    parameters with torch defaults (StudentT's loc and scale) may be left out. Its kind is its
    name; `params(i)` gives the parameter tuple at index i = batch index + outer event index
    (Dirichlet's concentration vector is one parameter, its last dim the event)."""

    def __init__(self, name, *args):
        spec = FAMILIES[name]
        assert len(spec.params) - len(spec.defaults) <= len(args) <= len(spec.params), (name, len(args))
        self.name, self.args = name, args

    def render(self):
        return f"{self.name}({', '.join(a.render() for a in self.args)})"

    def params(self):
        return [p for a in self.args for p in a.params()]

    def gauss(self):
        spec = FAMILIES[self.name]
        ts = [a.tensor() for a in self.args]
        missing = len(spec.params) - len(ts)
        ts += [T((), [mpf(d)]) for d in spec.defaults[len(spec.defaults) - missing:]] if missing else []
        if spec.event_rank == 0:
            batch = broadcast_shapes(*(t.shape for t in ts))
            return Gauss(batch, (), self.name, params=lambda i: tuple(t.bat(i) for t in ts))
        (c,) = ts
        K = c.shape[-1]
        return Gauss(c.shape[:-1], (K,), self.name, params=lambda i: ([c.bat(i + (k,)) for k in range(K)],))


def outer(p):
    """Indices of the elementwise positions of a continuous.FAMILIES distribution (or of one of
    generate.py's own models, see AS_FAMILY): its event without the family's own event dims."""
    rank = FAMILIES[p.kind].event_rank if p.kind in FAMILIES else 0
    return ndindex(p.event[:len(p.event) - rank])


# generate.py's own models of Normal, Laplace and Exponential, as the continuous.FAMILIES entry of
# the same name: (family, parameters at index i from the model's mu / sigma). They keep their own
# formulas against themselves and meet the other families (torch's cross pairs) through this.
AS_FAMILY = {
    "diag": ("Normal", lambda fns, i: (fns["mu"](i), fns["sigma"](i))),
    "laplace": ("Laplace", lambda fns, i: (fns["mu"](i), fns["sigma"](i))),
    "exponential": ("Exponential", lambda fns, i: (fns["sigma"](i),)),
}


def as_family(g):
    """(continuous.FAMILIES name, parameters at index i) of g; None for the models without one
    (MVNs, Cauchy, LogNormal, HalfNormal)."""
    if g.kind in FAMILIES:
        return g.kind, g.fns["params"]
    if g.kind in AS_FAMILY:
        name, prm = AS_FAMILY[g.kind]
        return name, lambda i: prm(g.fns, i)
    return None


class MVN:
    KINDS = ("covariance_matrix", "scale_tril", "precision_matrix")

    def __init__(self, loc, kind, mat):
        assert kind in self.KINDS
        self.loc, self.kind, self.mat = loc, kind, mat

    def render(self):
        return f"MultivariateNormal({self.loc.render()}, {self.kind}={self.mat.render()})"

    def params(self):
        return self.loc.params() + self.mat.params()

    def gauss(self):
        loc, M = self.loc.tensor(), self.mat.tensor()
        d = M.shape[-1]
        assert M.shape[-2] == d and loc.shape[-1] == d
        batch = broadcast_shapes(loc.shape[:-1], M.shape[:-2])
        kind = self.kind

        def get(b):
            mu = mp.matrix(d, 1)
            A = mp.matrix(d, d)
            for k in range(d):
                mu[k] = loc.bat(b + (k,))
            for r in range(d):
                for c in range(d):
                    A[r, c] = M.bat(b + (r, c))
            if kind == "covariance_matrix":
                S = A
            elif kind == "scale_tril":
                for r in range(d):
                    assert A[r, r] > 0
                    for c in range(r + 1, d):
                        assert A[r, c] == 0, "scale_tril inputs are exactly lower triangular"
                S = A * A.T
            else:
                S = mp.inverse(A)
            return mu, S

        return Gauss(batch, (d,), "full", get=get)


class LowRank:
    def __init__(self, loc, W, D):
        self.loc, self.W, self.D = loc, W, D

    def render(self):
        return (f"LowRankMultivariateNormal({self.loc.render()}, "
                f"cov_factor={self.W.render()}, cov_diag={self.D.render()})")

    def params(self):
        return self.loc.params() + self.W.params() + self.D.params()

    def gauss(self):
        loc, W, D = self.loc.tensor(), self.W.tensor(), self.D.tensor()
        d, r = W.shape[-2], W.shape[-1]
        assert loc.shape[-1] == d and D.shape[-1] == d
        batch = broadcast_shapes(loc.shape[:-1], W.shape[:-2], D.shape[:-1])

        def get(b):
            mu = mp.matrix(d, 1)
            Wm = mp.matrix(d, r)
            S = mp.matrix(d, d)
            for k in range(d):
                mu[k] = loc.bat(b + (k,))
                for j in range(r):
                    Wm[k, j] = W.bat(b + (k, j))
            S = Wm * Wm.T
            for k in range(d):
                S[k, k] += D.bat(b + (k,))
            return mu, S

        return Gauss(batch, (d,), "full", get=get)


class Indep:
    def __init__(self, base, n, style="method"):
        self.base, self.n, self.style = base, n, style

    def render(self):
        if self.style == "method":
            return f"{self.base.render()}.to_event({self.n})"
        return f"Independent({self.base.render()}, {self.n})"

    def params(self):
        return self.base.params()

    def gauss(self):
        g = self.base.gauss()
        n = self.n
        assert 1 <= n <= len(g.batch)
        assert g.kind == "diag" or g.kind in ELEMENTWISE or g.kind in FAMILIES or g.kind in DISCRETE, \
            "only Independent over elementwise families is modelled"
        return Gauss(g.batch[:-n], g.batch[-n:] + g.event, g.kind, **g.fns)


class Expand:
    def __init__(self, base, shape):
        self.base, self.shape = base, tuple(shape)

    def render(self):
        return f"{self.base.render()}.expand([{', '.join(str(s) for s in self.shape)}])"

    def params(self):
        return self.base.params()

    def gauss(self):
        g = self.base.gauss()
        new = self.shape
        assert broadcast_shapes(g.batch, new) == new
        nb, ob, ne = len(new), g.batch, len(g.event)
        if g.kind in FAMILIES:
            prm = g.fns["params"]
            return Gauss(new, g.event, g.kind, params=lambda i: prm(map_index(i[:nb], ob) + tuple(i[nb:])))
        if g.kind == "diag" or g.kind in ELEMENTWISE:
            def remap(i):
                return map_index(i[:nb], ob) + tuple(i[nb:])
            mu, sig = g.fns["mu"], g.fns["sigma"]
            return Gauss(new, g.event, g.kind, mu=lambda i: mu(remap(i)), sigma=lambda i: sig(remap(i)))
        get = g.fns["get"]
        return Gauss(new, g.event, "full", get=lambda b: get(map_index(b, ob)))


class KL:
    def __init__(self, p, q):
        self.p, self.q = p, q

    def render(self):
        return f"{self.p.render()} || {self.q.render()}"

    def params(self):
        return self.p.params() + self.q.params()

    def evaluate(self):
        p, q = self.p.gauss(), self.q.gauss()
        assert p.event == q.event, (p.event, q.event)
        batch = broadcast_shapes(p.batch, q.batch)
        if p.kind in DISCRETE or q.kind in DISCRETE:
            assert p.kind in DISCRETE and q.kind in DISCRETE, (p.kind, q.kind)
            out = []
            for b in ndindex(batch):
                pb, qb = map_index(b, p.batch), map_index(b, q.batch)
                out.append(mp.fsum(discrete.kl(p.fns["dist"](pb + e), q.fns["dist"](qb + e)) for e in devents(p)))
            return T(batch, out)
        pf, qf = as_family(p), as_family(q)
        # continuous.py's closed forms: a family of its own on either side, or two different
        # families of generate.py's own models (Laplace || Normal).
        cross = bool(pf and qf) and (p.kind in FAMILIES or q.kind in FAMILIES or p.kind != q.kind)
        assert cross or not (p.kind in FAMILIES or q.kind in FAMILIES), (p.kind, q.kind)
        out = []
        for b in ndindex(batch):
            pb, qb = map_index(b, p.batch), map_index(b, q.batch)
            if cross:
                (pn, pp), (qn, qp) = pf, qf
                assert (pn, qn) in continuous.KL_PAIRS, (pn, qn)
                out.append(mp.fsum(continuous.kl(pn, qn, pp(pb + e), qp(qb + e)) for e in outer(p)))
            elif p.kind in ELEMENTWISE or q.kind in ELEMENTWISE:
                assert p.kind == q.kind, "an elementwise family only against itself"
                kl = ELEMENTWISE[p.kind][0]
                terms = []
                for e in ndindex(p.event):
                    terms.append(kl(p.fns["mu"](pb + e), p.fns["sigma"](pb + e),
                                    q.fns["mu"](qb + e), q.fns["sigma"](qb + e)))
                out.append(mp.fsum(terms))
            elif p.kind == "diag" and q.kind == "diag":
                terms = []
                for e in ndindex(p.event):
                    terms.append(kl_normal(p.fns["mu"](pb + e), p.fns["sigma"](pb + e),
                                           q.fns["mu"](qb + e), q.fns["sigma"](qb + e)))
                out.append(mp.fsum(terms))
            else:
                m1, S1 = p.full_at(pb)
                m2, S2 = q.full_at(qb)
                out.append(kl_mvn(m1, S1, m2, S2))
        return T(batch, out)


class LogProb:
    def __init__(self, p, x):
        self.p, self.x = p, x

    def render(self):
        return f"log_prob({self.p.render()}, {self.x.render()})"

    def params(self):
        return self.p.params() + self.x.params()

    def evaluate(self):
        p = self.p.gauss()
        x = self.x.tensor()
        er = len(p.event)
        xb = x.shape[:len(x.shape) - er]
        assert x.shape[len(x.shape) - er:] == p.event
        shape = broadcast_shapes(xb, p.batch)
        out = []
        for o in ndindex(shape):
            pb, xi = map_index(o, p.batch), map_index(o, xb)
            if p.kind == "OneHotCategorical":
                K = p.event[-1]
                out.append(mp.fsum(discrete.log_prob(p.fns["dist"](pb + e), [x.at(xi + e + (k,)) for k in range(K)])
                                   for e in devents(p)))
            elif p.kind in DISCRETE:
                out.append(mp.fsum(discrete.log_prob(p.fns["dist"](pb + e), x.at(xi + e)) for e in ndindex(p.event)))
            elif p.kind in FAMILIES:
                terms = []
                for e in outer(p):
                    if FAMILIES[p.kind].event_rank:
                        pt = continuous.Pt.of_vector([x.at(xi + e + (k,)) for k in range(p.event[-1])])
                    else:
                        pt = continuous.Pt.of(x.at(xi + e))
                    terms.append(continuous.log_prob(p.kind, pt, p.fns["params"](pb + e)))
                out.append(mp.fsum(terms))
            elif p.kind in ELEMENTWISE:
                lp = ELEMENTWISE[p.kind][1]
                out.append(mp.fsum(lp(x.at(xi + e), p.fns["mu"](pb + e), p.fns["sigma"](pb + e))
                                   for e in ndindex(p.event)))
            elif p.kind == "diag":
                out.append(mp.fsum(logprob_normal(x.at(xi + e), p.fns["mu"](pb + e), p.fns["sigma"](pb + e))
                                   for e in ndindex(p.event)))
            else:
                m, S = p.full_at(pb)
                xv = mp.matrix(er and p.event[0], 1)
                for k in range(p.event[0]):
                    xv[k] = x.at(xi + (k,))
                out.append(logprob_mvn(xv, m, S))
        return T(shape, out)


class Entropy:
    def __init__(self, p):
        self.p = p

    def render(self):
        return f"entropy({self.p.render()})"

    def params(self):
        return self.p.params()

    def evaluate(self):
        p = self.p.gauss()
        out = []
        for b in ndindex(p.batch):
            if p.kind in DISCRETE:
                out.append(mp.fsum(discrete.entropy(p.fns["dist"](b + e)) for e in devents(p)))
            elif p.kind in FAMILIES:
                out.append(mp.fsum(continuous.entropy(p.kind, p.fns["params"](b + e)) for e in outer(p)))
            elif p.kind in ELEMENTWISE:
                h = ELEMENTWISE[p.kind][2]
                out.append(mp.fsum(h(p.fns["mu"](b + e), p.fns["sigma"](b + e)) for e in ndindex(p.event)))
            elif p.kind == "diag":
                out.append(mp.fsum(entropy_normal(p.fns["sigma"](b + e)) for e in ndindex(p.event)))
            else:
                _, S = p.full_at(b)
                out.append(entropy_mvn(S))
        return T(p.batch, out)


# ----------------------------------------------------------------------------------------------
# Input generators (all values are Python floats, i.e. exact f64).
# ----------------------------------------------------------------------------------------------

def fill(shape, f):
    if not shape:
        return float(f())
    return [fill(shape[1:], f) for _ in range(shape[0])]


def mapn(x, f):
    if isinstance(x, list):
        return [mapn(y, f) for y in x]
    return float(f(x))


def locs(rng, shape, lo=-2.0, hi=2.0):
    return fill(shape, lambda: round(rng.uniform(lo, hi), 4))


def poss(rng, shape, lo=0.3, hi=2.5):
    return fill(shape, lambda: round(rng.uniform(lo, hi), 4))


def symmetrize(A):
    d = len(A)
    return [[float(A[max(r, c)][min(r, c)]) for c in range(d)] for r in range(d)]


def spd(rng, d):
    """Well-conditioned SPD matrix with short decimal entries, exactly symmetric."""
    G = [[round(rng.gauss(0, 1), 3) for _ in range(d)] for _ in range(d)]
    A = [[round(sum(G[r][k] * G[c][k] for k in range(d)) / d + (0.5 if r == c else 0.0), 6)
          for c in range(d)] for r in range(d)]
    return symmetrize(A)


def tril(rng, d):
    return [[round(rng.uniform(0.5, 2.0), 4) if r == c else (round(rng.uniform(-1, 1), 4) if c < r else 0.0)
             for c in range(d)] for r in range(d)]


def lowrank(rng, d, r=None):
    r = r if r is not None else rng.randint(1, min(d, 3))
    W = [[round(rng.gauss(0, 1), 4) for _ in range(r)] for _ in range(d)]
    D = poss(rng, (d,), 0.2, 1.5)
    return W, D


def batched(rng, shape, f):
    if not shape:
        return f(rng)
    return [batched(rng, shape[1:], f) for _ in range(shape[0])]


def mat_for(rng, kind, d):
    return {"covariance_matrix": spd, "precision_matrix": spd, "scale_tril": tril}[kind](rng, d)


def random_orthogonal(rng, d):
    """Random orthogonal matrix from the QR factorisation of a Gaussian matrix, in mpmath."""
    G = mp.matrix(d, d)
    for r in range(d):
        for c in range(d):
            G[r, c] = mpf(rng.gauss(0, 1))
    Q, R = mp.qr(G)
    return Q


def ill_cov(rng, d, cond, scale=1.0, Q=None, eig_perturb=None):
    """Sigma = Q diag(eigs) Q^T rounded to f64 and symmetrised; eigs log-spaced over [1/cond, 1]."""
    with mp.workdps(2 * DPS):
        Q = Q if Q is not None else random_orthogonal(rng, d)
        eigs = [mpf(cond) ** (-mpf(k) / (d - 1)) if d > 1 else mpf(1) for k in range(d)]
        if eig_perturb:
            eigs = [e * (1 + mpf(eig_perturb) * (k + 1)) for k, e in enumerate(eigs)]
        S = Q * mp.diag(eigs) * Q.T
        A = [[to_float((S[r, c] * mpf(scale))._mpf_, strict=True, rnd=round_nearest) for c in range(d)]
             for r in range(d)]
    return symmetrize(A), Q


def chol_f64(A):
    """Lower Cholesky factor of an f64 SPD matrix, computed in mpmath and rounded to f64."""
    d = len(A)
    with mp.workdps(2 * DPS):
        M = mp.matrix([[mpf(v) for v in row] for row in A])
        L = mp.cholesky(M)
        return [[to_float(L[r, c]._mpf_, strict=True, rnd=round_nearest) if c <= r else 0.0
                 for c in range(d)] for r in range(d)]


def inv_f64(A):
    d = len(A)
    with mp.workdps(2 * DPS):
        M = mp.inverse(mp.matrix([[mpf(v) for v in row] for row in A]))
        B = [[to_float(M[r, c]._mpf_, strict=True, rnd=round_nearest) for c in range(d)] for r in range(d)]
    return symmetrize(B)


# ----------------------------------------------------------------------------------------------
# Case registry
# ----------------------------------------------------------------------------------------------

CASES = []


def seed_of(name):
    return zlib.crc32(name.encode())


def case(name, cls):
    """Decorator: f(rng) -> expression AST. Registered with a fixed seed derived from the name."""
    assert cls in ("well_conditioned", "ill_conditioned", "near_equal", "extreme_scale")

    def deco(f):
        CASES.append((name, cls, f))
        return f
    return deco


def add(name, cls, f):
    case(name, cls)(f)


P = Param


def ref_float(x):
    return to_float(x._mpf_, strict=True, rnd=round_nearest)


def to_nested(t, conv):
    if not t.shape:
        return conv(t.data[0])

    def rec(shape, flat):
        if len(shape) == 1:
            return [conv(v) for v in flat]
        step = len(flat) // shape[0]
        return [rec(shape[1:], flat[i * step:(i + 1) * step]) for i in range(shape[0])]
    return rec(t.shape, t.data)


def nodes(e):
    """The nodes of an expression tree (KL, LogProb, Entropy, distributions, Indep, Expand)."""
    yield e
    for attr in ("p", "q", "base"):
        if hasattr(e, attr):
            yield from nodes(getattr(e, attr))


def build_case(name, cls, f):
    rng = random.Random(seed_of(name))
    expr = f(rng)
    data = {}
    for p in expr.params():
        if p.name in data:
            assert data[p.name] == p.value, f"{name}: parameter {p.name} used with two values"
        data[p.name] = p.value
    for k in data:
        assert k.isidentifier() and k not in ("where", "diag", "log_prob", "entropy", "Normal", "Laplace", "Cauchy", "LogNormal", "Exponential", "HalfNormal",
                                              "MultivariateNormal", "LowRankMultivariateNormal",
                                              "Independent") + tuple(FAMILIES) + DISCRETE, k

    SIGMAS.clear()
    with mp.workdps(DPS):
        lo = expr.evaluate()
        cond = None
        if SIGMAS:
            worst = mpf(0)
            for S in SIGMAS:
                ev = mp.eigsy(S, eigvals_only=True)
                ev = [ev[i] for i in range(S.rows)]
                assert min(ev) > 0, f"{name}: covariance not positive definite"
                worst = max(worst, max(ev) / min(ev))
            cond = float(f"{float(worst):.4g}")
    SIGMAS.clear()
    continuous.CHECKS["on"] = False  # the closed forms were checked on the first pass
    with mp.workdps(2 * DPS):
        hi = expr.evaluate()
    continuous.CHECKS["on"] = True
    SIGMAS.clear()

    assert lo.shape == hi.shape
    # The discrete references are sums that leave no rounding residue (P || P sums exact zeros),
    # so tiny values there are real (Poisson(1e-100) || Poisson(3e-100) = 9.0e-101) and kept.
    snap = not any(isinstance(n, (Bernoulli, Poisson, Geometric, Binomial, Categorical)) for n in nodes(expr))

    def conv(pair):
        a, b = pair
        if mp.isinf(a) or mp.isinf(b):
            # Only KLs between supports that do not nest; JSON has no infinity.
            assert a == b == mp.inf, f"{name}: {a} vs {b}"
            return "inf"
        if snap and abs(b) < ZERO_SNAP:
            assert abs(a) < ZERO_SNAP, f"{name}: {a} vs {b}"
            return 0.0
        try:
            fa, fb = ref_float(a), ref_float(b)
        except OverflowError:
            raise AssertionError(f"{name}: overflow {a}")
        assert fa == fb, f"{name}: dps {DPS} and {2 * DPS} disagree: {fa!r} vs {fb!r}"
        assert math.isfinite(fa)
        return fa

    paired = T(lo.shape, list(zip(lo.data, hi.data)))
    value = to_nested(paired, conv)
    if isinstance(expr, KL):
        assert all(v == "inf" or v >= 0 for v in flatten(value)), f"{name}: negative KL"
    return {
        "name": name,
        "expr": expr.render(),
        "data": data,
        "expected": {"shape": list(lo.shape), "value": value},
        "class": cls,
        "cond": cond,
    }


# ==============================================================================================
# Cases
# ==============================================================================================

WC, IC, NE, XS = "well_conditioned", "ill_conditioned", "near_equal", "extreme_scale"

# ---- Normal || Normal: shapes, broadcasting, literals ---------------------------------------

add("normal_scalar", WC, lambda r: KL(Normal(P("m1", locs(r, ())), P("s1", poss(r, ()))),
                                      Normal(P("m2", locs(r, ())), P("s2", poss(r, ())))))
add("normal_vector", WC, lambda r: KL(Normal(P("m1", locs(r, (4,))), P("s1", poss(r, (4,)))),
                                      Normal(P("m2", locs(r, (4,))), P("s2", poss(r, (4,))))))
add("normal_loc34_scale4", WC, lambda r: KL(Normal(P("m1", locs(r, (3, 4))), P("s1", poss(r, (4,)))),
                                            Normal(P("m2", locs(r, (4,))), P("s2", poss(r, (3, 4))))))
add("normal_batch21_vs_3", WC, lambda r: KL(Normal(P("m1", locs(r, (2, 1))), P("s1", poss(r, (2, 1)))),
                                            Normal(P("m2", locs(r, (3,))), P("s2", poss(r, (3,))))))
add("normal_scalar_vs_batch", WC, lambda r: KL(Normal(P("m1", locs(r, ())), P("s1", poss(r, ()))),
                                               Normal(P("m2", locs(r, (2, 3))), P("s2", poss(r, (3,))))))
add("normal_vs_literal_std", WC, lambda r: KL(Normal(P("m1", locs(r, (4,))), P("s1", poss(r, (4,)))),
                                              Normal(Lit(0), Lit(1))))
add("literal_std_vs_normal", WC, lambda r: KL(Normal(Lit(0), Lit(1)),
                                              Normal(P("m2", locs(r, (2, 3))), P("s2", poss(r, (2, 3))))))
add("normal_literals_only", WC, lambda r: KL(Normal(Lit(-1.5), Lit(2.5)), Normal(Lit(0.25), Lit(1e-3))))
add("normal_literal_loc_param_scale", WC, lambda r: KL(Normal(Lit(0.5), P("s1", poss(r, (3,)))),
                                                       Normal(P("m2", locs(r, (3,))), Lit(2))))
add("normal_literal_var", WC, lambda r: KL(Normal(P("m1", locs(r, (3,))), Lit(4), "var"),
                                           Normal(Lit(0), Lit(0.25), "precision")))

# ---- every scale parameterisation on either side --------------------------------------------


def scale_value(r, kind, shape):
    if kind == "log_scale":
        return fill(shape, lambda: round(r.uniform(-1.5, 1.0), 4))
    return poss(r, shape)


NORMAL_PAIRS = [("pos", k) for k in Normal.KINDS] + [(k, "pos") for k in Normal.KINDS[1:]] + [
    ("var", "precision"), ("log_scale", "scale"), ("precision", "log_scale")]
for k1, k2 in NORMAL_PAIRS:
    if True:
        def mk(r, k1=k1, k2=k2):
            return KL(Normal(P("m1", locs(r, (3,))), P("a1", scale_value(r, k1, (3,))), k1),
                      Normal(P("m2", locs(r, (3,))), P("a2", scale_value(r, k2, (3,))), k2))
        add(f"normal_param_{k1}_vs_{k2}", WC, mk)

# ---- Independent / to_event -------------------------------------------------------------------

add("to_event1", WC, lambda r: KL(Indep(Normal(P("m1", locs(r, (3, 4))), P("s1", poss(r, (3, 4)))), 1),
                                  Indep(Normal(P("m2", locs(r, (3, 4))), P("s2", poss(r, (3, 4)))), 1)))
add("to_event1_scalar_result", WC, lambda r: KL(Indep(Normal(P("m1", locs(r, (5,))), P("s1", poss(r, (5,)))), 1),
                                                Indep(Normal(P("m2", locs(r, (5,))), P("s2", poss(r, (5,)))), 1)))
add("to_event2", WC, lambda r: KL(Indep(Normal(P("m1", locs(r, (2, 3, 4))), P("s1", poss(r, (2, 3, 4)))), 2),
                                  Indep(Normal(P("m2", locs(r, (2, 3, 4))), P("s2", poss(r, (2, 3, 4)))), 2)))
add("to_event2_all_dims", WC, lambda r: KL(Indep(Normal(P("m1", locs(r, (3, 4))), P("s1", poss(r, (4,)))), 2),
                                           Indep(Normal(P("m2", locs(r, (3, 4))), P("s2", poss(r, (3, 1)))), 2)))
add("to_event_nested", WC, lambda r: KL(
    Indep(Indep(Normal(P("m1", locs(r, (2, 3, 4))), P("s1", poss(r, (2, 3, 4)))), 1), 1),
    Indep(Indep(Normal(P("m2", locs(r, (2, 3, 4))), P("s2", poss(r, (2, 3, 4)))), 1), 1)))
add("to_event2_vs_nested", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (2, 3, 4))), P("s1", poss(r, (2, 3, 4)))), 2),
    Indep(Indep(Normal(P("m2", locs(r, (2, 3, 4))), P("s2", poss(r, (2, 3, 4)))), 1), 1)))
add("independent_function_form", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (3, 4))), P("s1", poss(r, (3, 4)))), 1, "func"),
    Indep(Normal(P("m2", locs(r, (3, 4))), P("s2", poss(r, (3, 4)))), 1, "func")))
add("independent_function_vs_method", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (2, 3))), P("s1", poss(r, (2, 3)))), 1, "func"),
    Indep(Normal(P("m2", locs(r, (2, 3))), P("s2", poss(r, (2, 3)))), 1)))
add("to_event1_param_broadcast", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (3, 4))), P("s1", poss(r, (4,)))), 1),
    Indep(Normal(P("m2", locs(r, (4,))), P("s2", poss(r, (4,)))), 1)))
add("to_event1_batch_broadcast", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (2, 1, 3))), P("s1", poss(r, (2, 1, 3)))), 1),
    Indep(Normal(P("m2", locs(r, (4, 3))), P("s2", poss(r, (4, 3)))), 1)))
add("to_event1_var_vs_log_scale", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (2, 4))), P("v1", poss(r, (2, 4))), "var"), 1),
    Indep(Normal(P("m2", locs(r, (2, 4))), P("l2", scale_value(r, "log_scale", (2, 4))), "log_scale"), 1)))
add("to_event1_precision_vs_scale_kw", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (3,))), P("p1", poss(r, (3,))), "precision"), 1),
    Indep(Normal(P("m2", locs(r, (3,))), P("s2", poss(r, (3,))), "scale"), 1)))

# ---- standard-normal prior --------------------------------------------------------------------

add("prior_std_normal_D5", WC, lambda r: KL(
    Indep(Normal(P("m", locs(r, (3, 5))), P("s", poss(r, (3, 5)))), 1),
    Indep(Expand(Normal(Lit(0), Lit(1)), (5,)), 1)))
add("prior_std_normal_B1", WC, lambda r: KL(
    Indep(Normal(P("m", locs(r, (1, 4))), P("s", poss(r, (1, 4)))), 1),
    Indep(Expand(Normal(Lit(0), Lit(1)), (4,)), 1)))
add("prior_std_normal_log_scale", WC, lambda r: KL(
    Indep(Normal(P("m", locs(r, (2, 6))), P("ls", scale_value(r, "log_scale", (2, 6))), "log_scale"), 1),
    Indep(Expand(Normal(Lit(0), Lit(1)), (6,)), 1)))
add("prior_std_normal_expand2d", WC, lambda r: KL(
    Indep(Normal(P("m", locs(r, (2, 4))), P("s", poss(r, (2, 4)))), 1),
    Indep(Expand(Normal(Lit(0), Lit(1)), (2, 4)), 1)))
add("prior_std_normal_reversed", WC, lambda r: KL(
    Indep(Expand(Normal(Lit(0), Lit(1)), (5,)), 1),
    Indep(Normal(P("m", locs(r, (3, 5))), P("s", poss(r, (3, 5)))), 1)))
add("prior_std_normal_function_form", WC, lambda r: KL(
    Indep(Normal(P("m", locs(r, (2, 3))), P("s", poss(r, (2, 3)))), 1, "func"),
    Indep(Expand(Normal(Lit(0), Lit(1)), (3,)), 1, "func")))

# ---- MVN || MVN, every pair of parameterisations ----------------------------------------------

MV_KINDS = ("covariance_matrix", "scale_tril", "precision_matrix", "lowrank")
SHORT = {"covariance_matrix": "cov", "scale_tril": "tril", "precision_matrix": "prec", "lowrank": "lowrank"}


def mvn_node(r, kind, suffix, d, loc_batch=(), mat_batch=()):
    m = P("m" + suffix, locs(r, loc_batch + (d,)))
    if kind == "lowrank":
        rank = r.randint(1, min(d, 3))
        W = batched(r, mat_batch, lambda rr: lowrank(rr, d, rank)[0])
        D = batched(r, mat_batch, lambda rr: poss(rr, (d,), 0.2, 1.5))
        return LowRank(m, P("W" + suffix, W), P("D" + suffix, D))
    name = {"covariance_matrix": "C", "scale_tril": "L", "precision_matrix": "Pm"}[kind] + suffix
    return MVN(m, kind, P(name, batched(r, mat_batch, lambda rr: mat_for(rr, kind, d))))


_i = 0
for k1 in MV_KINDS:
    for k2 in MV_KINDS:
        d = 1 + _i % 6
        d2 = 1 + (_i + 3) % 6
        _i += 1

        def mk0(r, k1=k1, k2=k2, d=d):
            return KL(mvn_node(r, k1, "1", d), mvn_node(r, k2, "2", d))

        def mk1(r, k1=k1, k2=k2, d=d2):
            return KL(mvn_node(r, k1, "1", d, (2,), (2,)), mvn_node(r, k2, "2", d, (2,), (2,)))
        add(f"mvn_{SHORT[k1]}_vs_{SHORT[k2]}_d{d}", WC, mk0)
        if k1 == k2 or MV_KINDS.index(k2) == (MV_KINDS.index(k1) + 1) % 4:
            add(f"mvn_{SHORT[k1]}_vs_{SHORT[k2]}_batch2_d{d2}", WC, mk1)

for k, d in zip(MV_KINDS, (3, 4, 2, 5)):
    # loc [2, d] against an unbatched matrix, on both sides
    add(f"mvn_{SHORT[k]}_loc_batch_broadcast_d{d}", WC,
        lambda r, k=k, d=d: KL(mvn_node(r, k, "1", d, (2,), ()), mvn_node(r, k, "2", d, (), (2,))))
add("mvn_tril_batch_2x1_vs_3", WC, lambda r: KL(mvn_node(r, "scale_tril", "1", 3, (2, 1), (2, 1)),
                                                mvn_node(r, "covariance_matrix", "2", 3, (3,), ())))
add("mvn_d6_tril_vs_cov", WC, lambda r: KL(mvn_node(r, "scale_tril", "1", 6), mvn_node(r, "covariance_matrix", "2", 6)))

# ---- mixed diagonal / full ---------------------------------------------------------------------

for k, d in zip(MV_KINDS, (4, 3, 5, 6)):
    add(f"diag_normal_vs_mvn_{SHORT[k]}_d{d}", WC, lambda r, k=k, d=d: KL(
        Indep(Normal(P("m1", locs(r, (d,))), P("s1", poss(r, (d,)))), 1), mvn_node(r, k, "2", d)))
    add(f"mvn_{SHORT[k]}_vs_diag_normal_d{d}", WC, lambda r, k=k, d=d: KL(
        mvn_node(r, k, "1", d), Indep(Normal(P("m2", locs(r, (d,))), P("s2", poss(r, (d,)))), 1)))
add("diag_normal_batch_vs_mvn_tril", WC, lambda r: KL(
    Indep(Normal(P("m1", locs(r, (2, 3))), P("s1", poss(r, (2, 3)))), 1), mvn_node(r, "scale_tril", "2", 3)))
add("mvn_cov_batch_vs_diag_normal_var", WC, lambda r: KL(
    mvn_node(r, "covariance_matrix", "1", 3, (2,), (2,)),
    Indep(Normal(P("m2", locs(r, (3,))), P("v2", poss(r, (3,))), "var"), 1)))
add("std_prior_vs_mvn_tril", WC, lambda r: KL(
    Indep(Expand(Normal(Lit(0), Lit(1)), (4,)), 1), mvn_node(r, "scale_tril", "2", 4)))

# ---- MVN diagonal by construction --------------------------------------------------------------

add("mvn_cov_diag_vs_tril", WC, lambda r: KL(
    MVN(P("m1", locs(r, (4,))), "covariance_matrix", Diag(P("v1", poss(r, (4,))))), mvn_node(r, "scale_tril", "2", 4)))
add("mvn_tril_diag_vs_diag_normal", WC, lambda r: KL(
    MVN(P("m1", locs(r, (3,))), "scale_tril", Diag(P("s1", poss(r, (3,))))),
    Indep(Normal(P("m2", locs(r, (3,))), P("s2", poss(r, (3,)))), 1)))
add("mvn_prec_diag_vs_cov_diag", WC, lambda r: KL(
    MVN(P("m1", locs(r, (5,))), "precision_matrix", Diag(P("p1", poss(r, (5,))))),
    MVN(P("m2", locs(r, (5,))), "covariance_matrix", Diag(P("v2", poss(r, (5,)))))))
add("mvn_tril_diag_batched", WC, lambda r: KL(
    MVN(P("m1", locs(r, (2, 3))), "scale_tril", Diag(P("s1", poss(r, (2, 3))))),
    MVN(P("m2", locs(r, (3,))), "scale_tril", Diag(P("s2", poss(r, (3,)))))))
add("mvn_cov_full_vs_cov_diag", WC, lambda r: KL(
    mvn_node(r, "covariance_matrix", "1", 3), MVN(P("m2", locs(r, (3,))), "covariance_matrix", Diag(P("v2", poss(r, (3,)))))))

# ---- P || P ------------------------------------------------------------------------------------


def self_kl(f):
    def mk(r):
        p = f(r)
        return KL(p, p)
    return mk


add("self_normal_scalar", NE, self_kl(lambda r: Normal(P("m", locs(r, ())), P("s", poss(r, ())))))
add("self_normal_to_event", NE, self_kl(lambda r: Indep(Normal(P("m", locs(r, (2, 4))), P("s", poss(r, (2, 4)))), 1)))
add("self_normal_log_scale", NE, self_kl(lambda r: Normal(P("m", locs(r, (3,))), P("ls", scale_value(r, "log_scale", (3,))), "log_scale")))
for k, d in zip(MV_KINDS, (3, 4, 5, 6)):
    add(f"self_mvn_{SHORT[k]}_d{d}", NE, self_kl(lambda r, k=k, d=d: mvn_node(r, k, "", d)))
add("self_mvn_tril_batch2", NE, self_kl(lambda r: mvn_node(r, "scale_tril", "", 3, (2,), (2,))))

# ---- log_prob ----------------------------------------------------------------------------------

add("log_prob_normal_scalar", WC, lambda r: LogProb(Normal(P("m", locs(r, ())), P("s", poss(r, ()))), P("x", locs(r, ()))))
add("log_prob_normal_x_broadcast", WC, lambda r: LogProb(Normal(P("m", locs(r, (4,))), P("s", poss(r, (4,)))),
                                                         P("x", locs(r, (3, 4)))))
add("log_prob_normal_batch_over_x", WC, lambda r: LogProb(Normal(P("m", locs(r, (2, 3))), P("s", poss(r, (3,)))),
                                                          P("x", locs(r, (3,)))))
add("log_prob_std_normal_literal", WC, lambda r: LogProb(Normal(Lit(0), Lit(1)), P("x", locs(r, (5,), -4, 4))))
add("log_prob_normal_var", WC, lambda r: LogProb(Normal(P("m", locs(r, (3,))), P("v", poss(r, (3,))), "var"), P("x", locs(r, (3,)))))
add("log_prob_normal_precision", WC, lambda r: LogProb(Normal(P("m", locs(r, (3,))), P("p", poss(r, (3,))), "precision"), P("x", locs(r, (3,)))))
add("log_prob_normal_log_scale", WC, lambda r: LogProb(Normal(P("m", locs(r, (3,))), P("ls", scale_value(r, "log_scale", (3,))), "log_scale"), P("x", locs(r, (3,)))))
add("log_prob_to_event1", WC, lambda r: LogProb(Indep(Normal(P("m", locs(r, (3, 4))), P("s", poss(r, (3, 4)))), 1),
                                                P("x", locs(r, (3, 4)))))
add("log_prob_to_event1_sample_dims", WC, lambda r: LogProb(Indep(Normal(P("m", locs(r, (3, 4))), P("s", poss(r, (4,)))), 1),
                                                            P("x", locs(r, (2, 3, 4)))))
add("log_prob_to_event2", WC, lambda r: LogProb(Indep(Normal(P("m", locs(r, (2, 3))), P("s", poss(r, (2, 3)))), 2),
                                                P("x", locs(r, (4, 2, 3)))))
add("log_prob_std_prior", WC, lambda r: LogProb(Indep(Expand(Normal(Lit(0), Lit(1)), (4,)), 1), P("x", locs(r, (3, 4)))))
for k, d in zip(MV_KINDS, (3, 4, 2, 5)):
    add(f"log_prob_mvn_{SHORT[k]}_d{d}", WC, lambda r, k=k, d=d: LogProb(mvn_node(r, k, "", d), P("x", locs(r, (d,)))))
    if k in ("scale_tril", "lowrank"):
        add(f"log_prob_mvn_{SHORT[k]}_x_batch3_d{d}", WC, lambda r, k=k, d=d: LogProb(mvn_node(r, k, "", d), P("x", locs(r, (3, d)))))
add("log_prob_mvn_tril_batch2_x_unbatched", WC, lambda r: LogProb(mvn_node(r, "scale_tril", "", 3, (2,), (2,)), P("x", locs(r, (3,)))))
add("log_prob_mvn_cov_batch2_x_2x1", WC, lambda r: LogProb(mvn_node(r, "covariance_matrix", "", 2, (2,), (2,)), P("x", locs(r, (3, 1, 2)))))
add("log_prob_mvn_tril_d1", WC, lambda r: LogProb(mvn_node(r, "scale_tril", "", 1), P("x", locs(r, (1,)))))
add("log_prob_mvn_cov_diag", WC, lambda r: LogProb(MVN(P("m", locs(r, (4,))), "covariance_matrix", Diag(P("v", poss(r, (4,))))),
                                                   P("x", locs(r, (4,)))))

# ---- entropy -----------------------------------------------------------------------------------

for k in Normal.KINDS:
    add(f"entropy_normal_{k}", WC, lambda r, k=k: Entropy(Normal(P("m", locs(r, (3,))), P("a", scale_value(r, k, (3,))), k)))
add("entropy_normal_scalar", WC, lambda r: Entropy(Normal(P("m", locs(r, ())), P("s", poss(r, ())))))
add("entropy_normal_loc_broadcast", WC, lambda r: Entropy(Normal(P("m", locs(r, (2, 3))), P("s", poss(r, (3,))))))
add("entropy_to_event1", WC, lambda r: Entropy(Indep(Normal(P("m", locs(r, (2, 4))), P("s", poss(r, (2, 4)))), 1)))
add("entropy_to_event2", WC, lambda r: Entropy(Indep(Normal(P("m", locs(r, (2, 3, 2))), P("s", poss(r, (2, 3, 2)))), 2)))
add("entropy_std_normal_expand", WC, lambda r: Entropy(Expand(Normal(Lit(0), Lit(1)), (2, 3))))
add("entropy_std_prior", WC, lambda r: Entropy(Indep(Expand(Normal(Lit(0), Lit(1)), (5,)), 1)))
for k, d in zip(MV_KINDS, (4, 3, 6, 5)):
    add(f"entropy_mvn_{SHORT[k]}_d{d}", WC, lambda r, k=k, d=d: Entropy(mvn_node(r, k, "", d)))
    if k in ("covariance_matrix", "precision_matrix"):
        add(f"entropy_mvn_{SHORT[k]}_batch2_d{d}", WC, lambda r, k=k, d=d: Entropy(mvn_node(r, k, "", d, (2,), (2,))))
add("entropy_mvn_tril_diag", WC, lambda r: Entropy(MVN(P("m", locs(r, (3,))), "scale_tril", Diag(P("s", poss(r, (3,)))))))

# ==============================================================================================
# Accuracy stress
# ==============================================================================================

# ---- near-equal Normal pairs: KL ~ eps^2 (scale) or delta^2/2 (location) -------------------

for eps in (1e-3, 1e-5, 1e-8, 1e-10):
    def mk(r, eps=eps):
        m = locs(r, (3,))
        s = poss(r, (3,))
        return KL(Normal(P("m1", m), P("s1", s)), Normal(P("m2", m), P("s2", [x * (1 + eps) for x in s])))
    add(f"near_equal_scale_rel{eps:.0e}", NE, mk)

for delta in (1e-4, 1e-7, 1e-10):
    def mk(r, delta=delta):
        m = locs(r, (3,))
        s = poss(r, (3,))
        return KL(Normal(P("m1", m), P("s1", s)), Normal(P("m2", [x + delta for x in m]), P("s2", s)))
    add(f"near_equal_loc_abs{delta:.0e}", NE, mk)


def mk_ne_scalar(r):
    return KL(Normal(P("m1", 0.75), P("s1", 1.25)), Normal(P("m2", 0.75), P("s2", 1.25 * (1 + 2 ** -40))))


add("near_equal_scalar_one_ulp_ish", NE, mk_ne_scalar)


def mk_ne_log_scale(r):
    m = locs(r, (2, 4))
    ls = scale_value(r, "log_scale", (2, 4))
    return KL(Indep(Normal(P("m1", m), P("l1", ls), "log_scale"), 1),
              Indep(Normal(P("m2", m), P("l2", [[x + 1e-9 for x in row] for row in ls]), "log_scale"), 1))


add("near_equal_log_scale_to_event", NE, mk_ne_log_scale)


def mk_ne_var(r):
    m = locs(r, (4,))
    v = poss(r, (4,))
    return KL(Indep(Normal(P("m1", m), P("v1", v), "var"), 1),
              Indep(Normal(P("m2", [x + 1e-8 for x in m]), P("v2", [x * (1 - 1e-9) for x in v]), "var"), 1))


add("near_equal_var_to_event", NE, mk_ne_var)


def mk_ne_mvn_tril(r, rel=1e-9):
    L = tril(r, 4)
    m = locs(r, (4,))
    L2 = [[x * (1 + rel) if i == j else x for j, x in enumerate(row)] for i, row in enumerate(L)]
    return KL(MVN(P("m1", m), "scale_tril", P("L1", L)), MVN(P("m2", m), "scale_tril", P("L2", L2)))


add("near_equal_mvn_tril_rel1e-09", NE, mk_ne_mvn_tril)
add("near_equal_mvn_tril_rel1e-06", NE, lambda r: mk_ne_mvn_tril(r, 1e-6))


def mk_ne_mvn_cov(r):
    C = spd(r, 3)
    m = locs(r, (3,))
    C2 = symmetrize([[x * (1 + 1e-10) if i == j else x for j, x in enumerate(row)] for i, row in enumerate(C)])
    return KL(MVN(P("m1", m), "covariance_matrix", P("C1", C)),
              MVN(P("m2", [x + 1e-9 for x in m]), "covariance_matrix", P("C2", C2)))


add("near_equal_mvn_cov", NE, mk_ne_mvn_cov)


def mk_ne_lowrank(r):
    W, D = lowrank(r, 4, 2)
    m = locs(r, (4,))
    return KL(LowRank(P("m1", m), P("W1", W), P("D1", D)),
              LowRank(P("m2", m), P("W2", W), P("D2", [x * (1 + 1e-9) for x in D])))


add("near_equal_lowrank", NE, mk_ne_lowrank)

# ---- extreme scales -----------------------------------------------------------------------------

for e in (-150, -100, -30, 30, 100, 150):
    def mk(r, e=e):
        f = 10.0 ** e
        return KL(Normal(P("m1", [x * f for x in locs(r, (3,))]), P("s1", [x * f for x in poss(r, (3,))])),
                  Normal(P("m2", [x * f for x in locs(r, (3,))]), P("s2", [x * f for x in poss(r, (3,))])))
    add(f"extreme_scale_normal_1e{e}", XS, mk)

add("extreme_gap_small_scale", XS, lambda r: KL(Normal(P("m1", 0.0), P("s1", 1e-100)), Normal(P("m2", 3e-90), P("s2", 2e-100))))
add("extreme_gap_unit_scale", XS, lambda r: KL(Normal(P("m1", locs(r, (3,))), P("s1", poss(r, (3,)))),
                                               Normal(P("m2", [1e100, -1e120, 3e140]), P("s2", poss(r, (3,))))))
add("extreme_scale_ratio", XS, lambda r: KL(Normal(P("m1", [0.0, 0.0]), P("s1", [1e-150, 1e50])),
                                            Normal(P("m2", [0.0, 0.0]), P("s2", [1e100, 1e-50]))))
add("extreme_log_scale", XS, lambda r: KL(Normal(P("m1", [0.0, 1.0]), P("l1", [-300.0, 300.0]), "log_scale"),
                                          Normal(P("m2", [0.0, 1.0]), P("l2", [-299.5, 301.0]), "log_scale")))
add("extreme_var_precision", XS, lambda r: KL(Normal(P("m1", [1e-100, 1e100]), P("v1", [1e-200, 1e200]), "var"),
                                              Normal(P("m2", [2e-100, 3e100]), P("p2", [2e199, 0.5e-200]), "precision")))
add("extreme_prior_small_posterior", XS, lambda r: KL(
    Indep(Normal(P("m", [[1e-3, -2e-3, 5e-4]]), P("s", [[1e-120, 3e-80, 1e-30]])), 1),
    Indep(Expand(Normal(Lit(0), Lit(1)), (3,)), 1)))
add("extreme_entropy_normal", XS, lambda r: Entropy(Normal(P("m", [0.0, 0.0, 0.0, 0.0]), P("s", [1e-300, 1e-150, 1e150, 1e300]))))
add("extreme_log_prob_normal", XS, lambda r: LogProb(Normal(P("m", [1e-150, 1e150, 0.0]), P("s", [1e-150, 1e150, 1e-150])),
                                                     P("x", [3e-150, -2e150, 1e-10])))


def mk_xs_mvn(kind, e):
    def mk(r):
        f = 10.0 ** e
        d = 3
        m1 = [x * f for x in locs(r, (d,))]
        m2 = [x * f for x in locs(r, (d,))]
        if kind == "scale_tril":
            A = [[x * f for x in row] for row in tril(r, d)]
            B = [[x * f for x in row] for row in tril(r, d)]
        elif kind == "covariance_matrix":
            A = symmetrize([[x * f * f for x in row] for row in spd(r, d)])
            B = symmetrize([[x * f * f for x in row] for row in spd(r, d)])
        else:  # precision: Sigma = P^-1 ~ f^2
            A = symmetrize([[x / (f * f) for x in row] for row in spd(r, d)])
            B = symmetrize([[x / (f * f) for x in row] for row in spd(r, d)])
        return KL(MVN(P("m1", m1), kind, P("A1", A)), MVN(P("m2", m2), kind, P("A2", B)))
    return mk


add("extreme_scale_mvn_tril_1e-150", XS, mk_xs_mvn("scale_tril", -150))
add("extreme_scale_mvn_tril_1e150", XS, mk_xs_mvn("scale_tril", 150))
add("extreme_scale_mvn_cov_1e-100", XS, mk_xs_mvn("covariance_matrix", -100))
add("extreme_scale_mvn_cov_1e100", XS, mk_xs_mvn("covariance_matrix", 100))
add("extreme_scale_mvn_prec_1e-100", XS, mk_xs_mvn("precision_matrix", -100))


def mk_xs_mvn_logprob(r):
    f = 1e-120
    L = [[x * f for x in row] for row in tril(r, 3)]
    m = [x * f for x in locs(r, (3,))]
    x = [[a * f for a in locs(r, (3,))], [a * f + 1e-110 for a in locs(r, (3,))]]
    return LogProb(MVN(P("m", m), "scale_tril", P("L", L)), P("x", x))


add("extreme_log_prob_mvn_tril_1e-120", XS, mk_xs_mvn_logprob)
add("extreme_entropy_mvn_tril", XS, lambda r: Entropy(MVN(P("m", [0.0, 0.0, 0.0]), "scale_tril",
                                                          P("L", [[[x * f for x in row] for row in tril(r, 3)] for f in (1e-150, 1e150)]))))
add("extreme_scale_lowrank_1e-100", XS, lambda r: KL(
    LowRank(P("m1", [x * 1e-100 for x in locs(r, (3,))]), P("W1", [[x * 1e-100 for x in row] for row in lowrank(r, 3, 1)[0]]),
            P("D1", [1e-200, 2e-200, 3e-200])),
    LowRank(P("m2", [x * 1e-100 for x in locs(r, (3,))]), P("W2", [[x * 1e-100 for x in row] for row in lowrank(r, 3, 2)[0]]),
            P("D2", [5e-201, 1e-200, 2.5e-200]))))

# ---- covariances far apart ----------------------------------------------------------------------
# P's covariance 2^-40 (about 1e-12) or 2^40 times a well-conditioned one against an unrelated
# well-conditioned Q, in every pair of parameterisations: where P is much narrower than Q the
# difference form I + L⁻¹(C1 − C2)L⁻ᵀ has pivots near 0 that cancellation would ruin. Eight rows,
# so that the batched kernels see full groups of lanes.


def scaled_mvn_node(r, kind, suffix, d, f, batch=()):
    """mvn_node with covariance f times the drawn one (f a power of 2: every input stays exact)."""
    n = mvn_node(r, kind, suffix, d, batch, batch)
    root = mp.sqrt(f)
    assert root == int(root) or 1 / root == int(1 / root)
    if kind == "lowrank":
        n.W.value = mapn(n.W.value, lambda x: x * float(root))
        n.D.value = mapn(n.D.value, lambda x: x * f)
    elif kind == "covariance_matrix":
        n.mat.value = mapn(n.mat.value, lambda x: x * f)
    elif kind == "scale_tril":
        n.mat.value = mapn(n.mat.value, lambda x: x * float(root))
    else:
        n.mat.value = mapn(n.mat.value, lambda x: x / f)
    return n


for _k1 in MV_KINDS:
    for _k2 in MV_KINDS:
        for _f, _tag in ((2.0 ** -40, "narrow"), (2.0 ** 40, "wide")):
            add(f"far_mvn_{SHORT[_k1]}_vs_{SHORT[_k2]}_{_tag}", XS,
                lambda r, k1=_k1, k2=_k2, f=_f: KL(scaled_mvn_node(r, k1, "1", 3, f, (8,)),
                                                   mvn_node(r, k2, "2", 3, (8,), (8,))))

# The input that found the cancellation: diagonal, one direction of Q 849.6 / 1e-3 wider.
_S1, _S2 = [1e-3] * 4, [1e-3, 1e-3, 1e-3, 849.6]
add("far_mvn_diag_axis_cov", XS, lambda r: KL(
    MVN(P("m1", [0.0] * 4), "covariance_matrix", P("C1", [[_S1[i] ** 2 if i == j else 0.0 for j in range(4)] for i in range(4)])),
    MVN(P("m2", [0.0] * 4), "covariance_matrix", P("C2", [[_S2[i] ** 2 if i == j else 0.0 for j in range(4)] for i in range(4)]))))
add("far_mvn_diag_axis_prec", XS, lambda r: KL(
    MVN(P("m1", [0.0] * 4), "precision_matrix", P("P1", [[_S1[i] ** -2 if i == j else 0.0 for j in range(4)] for i in range(4)])),
    MVN(P("m2", [0.0] * 4), "precision_matrix", P("P2", [[_S2[i] ** -2 if i == j else 0.0 for j in range(4)] for i in range(4)]))))


# ---- ill-conditioned covariances ----------------------------------------------------------------


def mk_ic(kind1, kind2, cond, d, same_basis):
    def mk(r):
        C1, Q = ill_cov(r, d, cond)
        if same_basis:  # same eigenvectors, eigenvalues perturbed by (k+1)*1e-3 -> small KL
            C2, _ = ill_cov(r, d, cond, Q=Q, eig_perturb=1e-3)
        else:  # an unrelated well-conditioned second side
            C2 = spd(r, d)
        m1 = locs(r, (d,))
        # same basis: equal means, so the KL (~1e-5..1e-3) is all trace and log-det terms
        m2 = list(m1) if same_basis else locs(r, (d,))

        def node(kind, C, m, suffix):
            if kind == "covariance_matrix":
                return MVN(P("m" + suffix, m), kind, P("C" + suffix, C))
            if kind == "scale_tril":
                return MVN(P("m" + suffix, m), kind, P("L" + suffix, chol_f64(C)))
            return MVN(P("m" + suffix, m), kind, P("Pm" + suffix, inv_f64(C)))
        return KL(node(kind1, C1, m1, "1"), node(kind2, C2, m2, "2"))
    return mk


IC_PLAN = [
    ("covariance_matrix", "covariance_matrix", 1e2, 3, True),
    ("covariance_matrix", "covariance_matrix", 1e6, 4, True),
    ("covariance_matrix", "covariance_matrix", 1e10, 5, True),
    ("scale_tril", "scale_tril", 1e4, 4, True),
    ("scale_tril", "scale_tril", 1e8, 5, True),
    ("scale_tril", "scale_tril", 1e10, 6, True),
    ("precision_matrix", "precision_matrix", 1e6, 3, True),
    ("precision_matrix", "covariance_matrix", 1e10, 4, True),
    ("covariance_matrix", "scale_tril", 1e8, 3, True),
    ("covariance_matrix", "scale_tril", 1e10, 4, False),
    ("scale_tril", "covariance_matrix", 1e10, 4, False),
    ("precision_matrix", "scale_tril", 1e6, 5, False),
    ("scale_tril", "precision_matrix", 1e8, 3, False),
]
for k1, k2, cond, d, same in IC_PLAN:
    tag = "same_basis" if same else "vs_well"
    add(f"ill_{SHORT[k1]}_vs_{SHORT[k2]}_cond{cond:.0e}_d{d}_{tag}", IC, mk_ic(k1, k2, cond, d, same))


def mk_ic_lowrank(r):
    W, _ = lowrank(r, 5, 2)
    W = [[x * 100.0 for x in row] for row in W]
    D = [1e-4, 2e-4, 1.5e-4, 3e-4, 1e-4]
    W2, D2 = lowrank(r, 5, 2)
    return KL(LowRank(P("m1", locs(r, (5,))), P("W1", W), P("D1", D)),
              LowRank(P("m2", locs(r, (5,))), P("W2", W2), P("D2", D2)))


add("ill_lowrank_big_factor_small_diag", IC, mk_ic_lowrank)


def mk_ic_lowrank_rev(r):
    W, _ = lowrank(r, 4, 1)
    W = [[x * 1e3 for x in row] for row in W]
    D = [1e-3, 1e-3, 2e-3, 1e-3]
    W2, D2 = lowrank(r, 4, 2)
    return KL(LowRank(P("m1", locs(r, (4,))), P("W1", W2), P("D1", D2)),
              LowRank(P("m2", locs(r, (4,))), P("W2", W), P("D2", D)))


add("ill_well_vs_lowrank_big_factor", IC, mk_ic_lowrank_rev)


def mk_ic_diag_vs_mvn(r):
    C, _ = ill_cov(r, 4, 1e8)
    return KL(Indep(Normal(P("m1", locs(r, (4,))), P("s1", poss(r, (4,)))), 1),
              MVN(P("m2", locs(r, (4,))), "scale_tril", P("L2", chol_f64(C))))


add("ill_diag_normal_vs_mvn_tril_cond1e8", IC, mk_ic_diag_vs_mvn)


def mk_ic_logprob(kind):
    def mk(r):
        C, _ = ill_cov(r, 4, 1e10)
        A = {"covariance_matrix": C, "scale_tril": chol_f64(C), "precision_matrix": inv_f64(C)}[kind]
        return LogProb(MVN(P("m", locs(r, (4,))), kind, P("A", A)), P("x", locs(r, (2, 4))))
    return mk


for k in ("covariance_matrix", "scale_tril", "precision_matrix"):
    add(f"ill_log_prob_mvn_{SHORT[k]}_cond1e10", IC, mk_ic_logprob(k))


def mk_ic_entropy(r):
    C, _ = ill_cov(r, 5, 1e10)
    return Entropy(MVN(P("m", locs(r, (5,))), "covariance_matrix", P("C", C)))


add("ill_entropy_mvn_cov_cond1e10", IC, mk_ic_entropy)


# ---- Laplace: shapes, to_event, near-equal pairs, extreme scales ----------------------------

add("laplace_scalar", WC, lambda r: KL(Laplace(P("m1", locs(r, ())), P("b1", poss(r, ()))),
                                       Laplace(P("m2", locs(r, ())), P("b2", poss(r, ())))))
add("laplace_vector_broadcast", WC, lambda r: KL(Laplace(P("m1", locs(r, (3, 4))), P("b1", poss(r, (4,)))),
                                                 Laplace(P("m2", locs(r, (4,))), P("b2", poss(r, (3, 1))))))
add("laplace_to_event1", WC, lambda r: KL(Indep(Laplace(P("m1", locs(r, (2, 5))), P("b1", poss(r, (2, 5)))), 1),
                                          Indep(Laplace(P("m2", locs(r, (2, 5))), P("b2", poss(r, (2, 5)))), 1)))
add("laplace_to_event_vs_expand", WC, lambda r: KL(
    Indep(Laplace(P("m1", locs(r, (3,))), P("b1", poss(r, (3,)))), 1),
    Indep(Expand(Laplace(Lit(0.0), Lit(1.0)), [3]), 1)))
add("laplace_log_prob", WC, lambda r: LogProb(Laplace(P("m", locs(r, (3,))), P("b", poss(r, (3,)))),
                                              P("x", locs(r, (2, 3), -4.0, 4.0))))
add("laplace_log_prob_to_event", WC, lambda r: LogProb(Indep(Laplace(P("m", locs(r, (4,))), P("b", poss(r, (4,)))), 1),
                                                       P("x", locs(r, (3, 4), -4.0, 4.0))))
add("laplace_entropy", WC, lambda r: Entropy(Laplace(P("m", locs(r, (2, 3))), P("b", poss(r, (2, 3))))))


def mk_laplace_near(rel_scale, rel_loc):
    def mk(r):
        m = locs(r, (4,))
        b = poss(r, (4,))
        m2 = [x + rel_loc * y for x, y in zip(m, b)]
        b2 = [y * (1 + rel_scale) for y in b]
        return KL(Laplace(P("m1", m), P("b1", b)), Laplace(P("m2", m2), P("b2", b2)))
    return mk


add("laplace_near_equal_scale_1e-6", NE, mk_laplace_near(1e-6, 0.0))
add("laplace_near_equal_loc_1e-8", NE, mk_laplace_near(0.0, 1e-8))
add("laplace_near_equal_both_1e-10", NE, mk_laplace_near(1e-10, 1e-10))
add("laplace_self", NE, lambda r: (lambda m, b: KL(Laplace(P("m1", m), P("b1", b)), Laplace(P("m1", m), P("b1", b))))(
    locs(r, (3,)), poss(r, (3,))))
add("laplace_extreme_scales", XS, lambda r: KL(Laplace(P("m1", [0.5, -1.0, 1e100]), P("b1", [1e-150, 1e150, 1e100])),
                                               Laplace(P("m2", [0.0, 3.0, -1e100]), P("b2", [1e150, 1e-150, 3e99]))))


# ---- Cauchy and LogNormal ---------------------------------------------------------------------

add("cauchy_vector", WC, lambda r: KL(Cauchy(P("m1", locs(r, (4,))), P("s1", poss(r, (4,)))),
                                      Cauchy(P("m2", locs(r, (4,))), P("s2", poss(r, (4,))))))
add("cauchy_to_event_broadcast", WC, lambda r: KL(Indep(Cauchy(P("m1", locs(r, (2, 3))), P("s1", poss(r, (3,)))), 1),
                                                  Indep(Cauchy(P("m2", locs(r, (3,))), P("s2", poss(r, (2, 3)))), 1)))
add("cauchy_log_prob", WC, lambda r: LogProb(Cauchy(P("m", locs(r, (3,))), P("s", poss(r, (3,)))),
                                             P("x", locs(r, (2, 3), -6.0, 6.0))))
add("cauchy_entropy", WC, lambda r: Entropy(Indep(Cauchy(P("m", locs(r, (4,))), P("s", poss(r, (4,)))), 1)))
add("cauchy_near_equal", NE, lambda r: (lambda m, s: KL(Cauchy(P("m1", m), P("s1", s)),
                                                        Cauchy(P("m2", [x + 1e-9 for x in m]), P("s2", [y * (1 + 1e-9) for y in s]))))(
    locs(r, (3,)), poss(r, (3,))))
add("lognormal_vector", WC, lambda r: KL(LogNormal(P("m1", locs(r, (4,))), P("s1", poss(r, (4,)))),
                                         LogNormal(P("m2", locs(r, (4,))), P("s2", poss(r, (4,))))))
add("lognormal_vs_literal", WC, lambda r: KL(Indep(LogNormal(P("m1", locs(r, (3,))), P("s1", poss(r, (3,)))), 1),
                                             Indep(Expand(LogNormal(Lit(0.0), Lit(1.0)), [3]), 1)))
add("lognormal_log_prob", WC, lambda r: LogProb(LogNormal(P("m", locs(r, (3,))), P("s", poss(r, (3,)))),
                                                P("x", poss(r, (2, 3), 0.05, 8.0))))
add("lognormal_entropy", WC, lambda r: Entropy(LogNormal(P("m", locs(r, (2, 2))), P("s", poss(r, (2, 2))))))
add("lognormal_near_equal", NE, lambda r: (lambda m, s: KL(LogNormal(P("m1", m), P("s1", s)),
                                                           LogNormal(P("m2", [x + 1e-9 for x in m]), P("s2", s))))(
    locs(r, (3,)), poss(r, (3,))))


# ---- Exponential and HalfNormal ----------------------------------------------------------------

add("exponential_vector", WC, lambda r: KL(Exponential(P("r1", poss(r, (4,)))), Exponential(P("r2", poss(r, (4,))))))
add("exponential_to_event_broadcast", WC, lambda r: KL(Indep(Exponential(P("r1", poss(r, (2, 3)))), 1),
                                                       Indep(Expand(Exponential(P("r2", poss(r, (3,)))), [2, 3]), 1)))
add("exponential_log_prob", WC, lambda r: LogProb(Exponential(P("r", poss(r, (3,)))), P("x", poss(r, (2, 3), 0.0, 5.0))))
add("exponential_entropy", WC, lambda r: Entropy(Exponential(P("r", poss(r, (3,))))))
add("exponential_near_equal", NE, lambda r: (lambda a: KL(Exponential(P("r1", a)), Exponential(P("r2", [x * (1 + 1e-9) for x in a]))))(
    poss(r, (3,))))
add("exponential_extreme", XS, lambda r: KL(Exponential(P("r1", [1e-150, 1e150])), Exponential(P("r2", [1e150, 1e-150]))))
add("half_normal_vector", WC, lambda r: KL(HalfNormal(P("s1", poss(r, (4,)))), HalfNormal(P("s2", poss(r, (4,))))))
add("half_normal_log_prob", WC, lambda r: LogProb(Indep(HalfNormal(P("s", poss(r, (3,)))), 1), P("x", poss(r, (2, 3), 0.0, 4.0))))
add("half_normal_entropy", WC, lambda r: Entropy(HalfNormal(P("s", poss(r, (2, 2))))))
add("half_normal_near_equal", NE, lambda r: (lambda a: KL(HalfNormal(P("s1", a)), HalfNormal(P("s2", [x * (1 + 1e-9) for x in a]))))(
    poss(r, (3,))))



# ---- continuous.py families: Gamma, Chi2, Beta, Dirichlet, Gumbel, Pareto, Uniform, StudentT,
# Weibull, VonMises (torch.distributions names and positional order) --------------------------

F = Family
# family -> (parameter name stems, f(rng, shape, k) -> parameter k's values, a support point x)
SHAPES = {
    "Gamma": (("a", "b"), lambda r, sh, k: poss(r, sh, 0.4, 4.0)),
    "Chi2": (("k",), lambda r, sh, k: poss(r, sh, 0.8, 7.0)),
    "Beta": (("a", "b"), lambda r, sh, k: poss(r, sh, 0.4, 5.0)),
    "Gumbel": (("m", "s"), lambda r, sh, k: locs(r, sh) if k == 0 else poss(r, sh, 0.5, 2.0)),
    "Weibull": (("l", "k"), lambda r, sh, k: poss(r, sh, 0.5, 2.5) if k == 0 else poss(r, sh, 0.6, 4.0)),
    "VonMises": (("m", "k"), lambda r, sh, k: locs(r, sh, -3.0, 3.0) if k == 0 else poss(r, sh, 0.2, 6.0)),
}
SUPPORT_X = {
    "Gamma": lambda r, sh: poss(r, sh, 0.05, 6.0),
    "Chi2": lambda r, sh: poss(r, sh, 0.05, 9.0),
    "Beta": lambda r, sh: poss(r, sh, 0.02, 0.98),
    "Gumbel": lambda r, sh: locs(r, sh, -3.0, 5.0),
    "Weibull": lambda r, sh: poss(r, sh, 0.05, 4.0),
    "VonMises": lambda r, sh: locs(r, sh, -3.14, 3.14),
}


def fam(name, r, suffix, shapes):
    stems, gen = SHAPES[name]
    return F(name, *[P(st + suffix, gen(r, sh, k)) for k, (st, sh) in enumerate(zip(stems, shapes))])


def fam_from(name, suffix, values):
    return F(name, *[P(st + suffix, v) for st, v in zip(SHAPES[name][0], values)])


def perturbed(values, rels):
    """Each parameter scaled by (1 + rel) elementwise (rels per parameter, per element)."""
    return [[x * (1 + e) for x, e in zip(v, rel)] for v, rel in zip(values, rels)]


for name in ("Gamma", "Chi2", "Beta", "Gumbel", "Weibull", "VonMises"):
    low = name.lower()
    n = len(SHAPES[name][0])
    add(f"{low}_kl_well", WC, lambda r, name=name, n=n: KL(fam(name, r, "1", [(2, 1), (1,)][:n] if n > 1 else [(2, 1)]),
                                                          fam(name, r, "2", [(2,), (2, 1)][:n] if n > 1 else [(2,)])))
    add(f"{low}_kl_to_event", WC, lambda r, name=name, n=n: KL(Indep(fam(name, r, "1", [(2, 2)] * n), 1),
                                                              Indep(fam(name, r, "2", [(2,)] + [(2, 2)] * (n - 1)), 1)))

    def mk_near(r, name=name, n=n, rels=((1e-6, 1e-9, 1e-12), (0.0, 0.0, 0.0))):
        stems, gen = SHAPES[name]
        v = [gen(r, (3,), k) for k in range(n)]
        return KL(fam_from(name, "1", v), fam_from(name, "2", perturbed(v, rels[:n])))
    add(f"{low}_kl_near_equal", NE, mk_near)
    if n > 1:
        add(f"{low}_kl_near_equal_second", NE, lambda r, mk_near=mk_near: mk_near(
            r, rels=((0.0, 0.0, 0.0), (1e-7, 1e-10, 1e-12))))

    def mk_self(r, name=name, n=n):
        v = [SHAPES[name][1](r, (2,), k) for k in range(n)]
        return KL(fam_from(name, "1", v), fam_from(name, "1", v))
    add(f"{low}_kl_self", NE, mk_self)
    add(f"{low}_log_prob", WC, lambda r, name=name, n=n: LogProb(fam(name, r, "", [(3,)] * n), P("x", SUPPORT_X[name](r, (2, 3)))))
    add(f"{low}_log_prob_to_event", WC, lambda r, name=name, n=n: LogProb(
        Indep(fam(name, r, "", [(2,)] * n), 1), P("x", SUPPORT_X[name](r, (3, 2)))))
    add(f"{low}_entropy", WC, lambda r, name=name, n=n: Entropy(fam(name, r, "", [(3,)] * n)))

# extreme scales, per family
add("gamma_kl_extreme", XS, lambda r: KL(F("Gamma", P("a1", [1e-3, 1e4, 1e-3, 2.5]), P("b1", [1.5, 1e150, 1e-150, 1e-100])),
                                         F("Gamma", P("a2", [2e-3, 1.02e4, 1e4, 2.5]), P("b2", [0.7, 2e150, 1e-150, 3e-100]))))
add("gamma_entropy_extreme", XS, lambda r: Entropy(F("Gamma", P("a", [1e-3, 1e4, 3.0]), P("b", [2.0, 1e-150, 1e150]))))
add("gamma_log_prob_extreme", XS, lambda r: LogProb(F("Gamma", P("a", [1e4, 1e-3, 2.0]), P("b", [1e4, 1.0, 1e200])),
                                                    P("x", [1.01, 1e-200, 3e-200])))
add("chi2_kl_extreme", XS, lambda r: KL(F("Chi2", P("k1", [2e-3, 2e4, 1e-3])), F("Chi2", P("k2", [3e-3, 2.01e4, 1e4]))))
add("chi2_entropy_extreme", XS, lambda r: Entropy(F("Chi2", P("k", [2e-3, 2e4]))))
add("beta_kl_extreme", XS, lambda r: KL(F("Beta", P("a1", [1e-3, 1e4, 1e4, 1e-3]), P("b1", [1e-3, 2e4, 1e-3, 3.0])),
                                        F("Beta", P("a2", [2e-3, 1.01e4, 1e-3, 1e4]), P("b2", [1e-3, 2.01e4, 3.0, 2e4]))))
add("beta_entropy_extreme", XS, lambda r: Entropy(F("Beta", P("a", [1e-3, 1e4, 1e-3]), P("b", [1e-3, 1e4, 1e4]))))
add("gumbel_kl_extreme", XS, lambda r: KL(F("Gumbel", P("m1", [1e100, -3e-100, 0.0]), P("s1", [2e100, 1e-100, 1e-150])),
                                          F("Gumbel", P("m2", [1.5e100, -1e-100, 4e-150]), P("s2", [1e100, 3e-100, 2e-150]))))
add("gumbel_entropy_extreme", XS, lambda r: Entropy(F("Gumbel", P("m", [0.0, 1e200]), P("s", [1e-300, 1e300]))))
add("weibull_kl_extreme", XS, lambda r: KL(F("Weibull", P("l1", [1e-150, 1e150, 2.0, 1.0]), P("k1", [2.0, 0.5, 1e4, 1e-3])),
                                           F("Weibull", P("l2", [3e-150, 1e150, 1.5, 2.0]), P("k2", [1.5, 0.7, 1e-3, 1.5e-3]))))
add("weibull_entropy_extreme", XS, lambda r: Entropy(F("Weibull", P("l", [1e-300, 1e300, 1.0, 1.0]), P("k", [2.0, 0.5, 1e-3, 1e4]))))
add("vonmises_kl_extreme", XS, lambda r: KL(F("VonMises", P("m1", [0.5, 0.5, -2.0, 3.0]), P("k1", [1e4, 1e-3, 1e4, 1e-3])),
                                            F("VonMises", P("m2", [0.50001, -2.5, 1.0, 3.0]), P("k2", [1.1e4, 1e4, 1e-3, 2e-3]))))
add("vonmises_entropy_extreme", XS, lambda r: Entropy(F("VonMises", P("m", [0.0, 1.0, -1.0]), P("k", [1e-3, 1e4, 1e-12]))))
add("vonmises_log_prob_extreme", XS, lambda r: LogProb(F("VonMises", P("m", [0.0, 1.0]), P("k", [1e4, 1e-3])), P("x", [0.01, -3.0])))

# ---- Weibull || Gamma (no torch KL) ---------------------------------------------------------

add("weibull_gamma_kl_well", WC, lambda r: KL(F("Weibull", P("l1", poss(r, (2, 1), 0.5, 2.5)), P("k1", poss(r, (3,), 0.6, 4.0))),
                                              F("Gamma", P("a2", poss(r, (3,), 0.5, 4.0)), P("b2", poss(r, (2, 1), 0.3, 3.0)))))
add("weibull_gamma_kl_to_event", WC, lambda r: KL(Indep(F("Weibull", P("l1", poss(r, (2, 3), 0.5, 2.5)), P("k1", poss(r, (3,), 0.6, 4.0))), 1),
                                                  Indep(Expand(F("Gamma", Lit(2.0), Lit(1.5)), [2, 3]), 1)))
# Weibull(l, 1) = Exponential(1/l) = Gamma(1, 1/l): a perturbed rate gives KL ~ eps^2 / 2, P || P gives 0.
add("weibull_gamma_kl_near_equal", NE, lambda r: (lambda l: KL(F("Weibull", P("l1", l), P("k1", [1.0, 1.0, 1.0])),
                                                               F("Gamma", P("a2", [1.0, 1.0, 1.0]),
                                                                 P("b2", [(1 / x) * (1 + e) for x, e in zip(l, (1e-6, 1e-9, 0.0))]))))(
    [0.5, 2.0, 4.0]))
add("weibull_gamma_kl_extreme", XS, lambda r: KL(F("Weibull", P("l1", [1e-150, 1e150, 2.0]), P("k1", [1.5, 0.2, 50.0])),
                                                 F("Gamma", P("a2", [2.0, 0.5, 1e4]), P("b2", [3e150, 1e-150, 5e3]))))

# ---- Pareto and Uniform: supports that do not nest give "inf" -------------------------------

add("pareto_kl_well", WC, lambda r: KL(F("Pareto", P("s1", poss(r, (2, 1), 1.0, 3.0)), P("a1", poss(r, (2,), 0.5, 4.0))),
                                       F("Pareto", P("s2", poss(r, (2,), 0.2, 0.9)), P("a2", poss(r, (2, 1), 0.5, 4.0)))))
add("pareto_kl_to_event", WC, lambda r: KL(Indep(F("Pareto", P("s1", poss(r, (2, 2), 1.0, 3.0)), P("a1", poss(r, (2, 2), 0.5, 4.0))), 1),
                                           Indep(F("Pareto", P("s2", poss(r, (2,), 0.2, 0.9)), P("a2", poss(r, (2, 2), 0.5, 4.0))), 1)))
add("pareto_kl_near_equal", NE, lambda r: (lambda s, a: KL(F("Pareto", P("s1", s), P("a1", a)),
                                                           F("Pareto", P("s2", [x * (1 - e) for x, e in zip(s, (1e-6, 0.0, 1e-12))]),
                                                             P("a2", [x * (1 + e) for x, e in zip(a, (0.0, 1e-9, 1e-12))]))))(
    poss(r, (3,), 0.5, 3.0), poss(r, (3,), 0.5, 4.0)))
add("pareto_kl_self", NE, lambda r: (lambda s, a: KL(F("Pareto", P("s1", s), P("a1", a)), F("Pareto", P("s1", s), P("a1", a))))(
    poss(r, (2,), 0.5, 3.0), poss(r, (2,), 0.5, 4.0)))
# P's scale below Q's: P puts mass where q = 0 (elements 0 and 2; element 1 nests).
add("pareto_kl_not_nested", XS, lambda r: KL(F("Pareto", P("s1", [1.0, 2.0, 1e-150]), P("a1", [2.0, 3.0, 1e4])),
                                             F("Pareto", P("s2", [1.5, 1.0, 1.0000001e-150]), P("a2", [2.0, 1.0, 1e-3]))))
add("pareto_kl_extreme", XS, lambda r: KL(F("Pareto", P("s1", [1e150, 1e-150, 2.0, 3.0]), P("a1", [1.5, 2.5, 1e-3, 1e4])),
                                          F("Pareto", P("s2", [1e149, 1e-150, 1.0, 3.0]), P("a2", [2.0, 1e-3, 1e4, 2e4]))))
add("pareto_log_prob", WC, lambda r: (lambda s: LogProb(F("Pareto", P("s", s), P("a", poss(r, (3,), 0.5, 4.0))),
                                                         P("x", [[x + 0.5 * k for x in s] for k in (0, 1)])))(
    poss(r, (3,), 0.5, 2.0)))
add("pareto_entropy", WC, lambda r: Entropy(F("Pareto", P("s", poss(r, (3,), 0.5, 3.0)), P("a", poss(r, (3,), 0.5, 4.0)))))
add("pareto_entropy_extreme", XS, lambda r: Entropy(F("Pareto", P("s", [1e-300, 1e300, 1.0]), P("a", [1e-3, 1e4, 1e4]))))


add("uniform_kl_well", WC, lambda r: (lambda lo1, w1: KL(F("Uniform", P("lo1", lo1), P("hi1", [a + b for a, b in zip(lo1, w1)])),
                                                         F("Uniform", P("lo2", locs(r, (3,), -3.0, -1.5)), P("hi2", locs(r, (2, 1), 2.5, 4.0)))))(
    locs(r, (3,), -1.0, 0.5), poss(r, (3,), 0.2, 1.5)))
add("uniform_kl_to_event", WC, lambda r: (lambda lo1, w1: KL(
    Indep(F("Uniform", P("lo1", lo1), P("hi1", [[a + b for a, b in zip(x, y)] for x, y in zip(lo1, w1)])), 1),
    Indep(F("Uniform", P("lo2", locs(r, (2,), -3.0, -1.5)), P("hi2", locs(r, (2, 2), 2.5, 4.0))), 1)))(
    locs(r, (2, 2), -1.0, 0.5), poss(r, (2, 2), 0.2, 1.5)))
# Q widened by a relative 1e-6 .. 1e-12 of the width: KL = ln(1 + eps) (linear in eps), and P || P.
add("uniform_kl_near_equal", NE, lambda r: KL(F("Uniform", P("lo1", [0.0, -1.0, 2.0]), P("hi1", [1.0, 3.0, 2.5])),
                                              F("Uniform", P("lo2", [-1e-6, -1.0 - 4e-9, 2.0]), P("hi2", [1.0, 3.0, 2.5 + 5e-13]))))
add("uniform_kl_self", NE, lambda r: (lambda lo: KL(F("Uniform", P("lo1", lo), P("hi1", [x + 1.25 for x in lo])),
                                                    F("Uniform", P("lo1", lo), P("hi1", [x + 1.25 for x in lo]))))(locs(r, (2,))))
# Supports that do not nest: Q shifted, Q inside P, Q touching P; the last element nests.
add("uniform_kl_not_nested", XS, lambda r: KL(F("Uniform", P("lo1", [0.0, -2.0, 0.0, -1.0]), P("hi1", [1.0, 2.0, 1.0, 1.0])),
                                              F("Uniform", P("lo2", [0.5, -1.0, 1e-300, -1.0]), P("hi2", [1.5, 1.0, 1.0, 1.0]))))
add("uniform_kl_extreme", XS, lambda r: KL(F("Uniform", P("lo1", [1e-300, -1e300, 0.0]), P("hi1", [3e-300, 1e300, 1e-300])),
                                           F("Uniform", P("lo2", [0.0, -1.5e300, -1e300]), P("hi2", [1e-200, 1.5e300, 1e300]))))
add("uniform_log_prob", WC, lambda r: LogProb(F("Uniform", P("lo", [-1.0, 0.0, 2.0]), P("hi", [1.0, 0.5, 5.0])),
                                              P("x", [[0.25, 0.125, 2.5], [-0.75, 0.375, 4.0]])))
add("uniform_entropy", WC, lambda r: Entropy(F("Uniform", P("lo", locs(r, (2, 2), -2.0, 0.0)), P("hi", locs(r, (2,), 0.5, 2.0)))))

# ---- StudentT: log_prob and entropy only (no KL) --------------------------------------------

add("studentt_log_prob", WC, lambda r: LogProb(F("StudentT", P("nu", poss(r, (3,), 0.8, 8.0)), P("m", locs(r, (3,))), P("s", poss(r, (3,)))),
                                               P("x", locs(r, (2, 3), -6.0, 6.0))))
add("studentt_log_prob_df_only", WC, lambda r: LogProb(Indep(F("StudentT", P("nu", poss(r, (2,), 0.8, 8.0))), 1),
                                                       P("x", locs(r, (3, 2), -6.0, 6.0))))
add("studentt_log_prob_df_loc", WC, lambda r: LogProb(F("StudentT", P("nu", poss(r, (2,), 0.8, 8.0)), P("m", locs(r, (2,)))),
                                                      P("x", locs(r, (2,), -6.0, 6.0))))
add("studentt_entropy", WC, lambda r: Entropy(F("StudentT", P("nu", poss(r, (3,), 0.8, 8.0)), P("m", locs(r, (3,))), P("s", poss(r, (3,))))))
add("studentt_entropy_df_only", WC, lambda r: Entropy(F("StudentT", P("nu", poss(r, (2,), 0.8, 8.0)))))
add("studentt_entropy_extreme", XS, lambda r: Entropy(F("StudentT", P("nu", [0.1, 1e6, 3.0]), P("m", [0.0, 0.0, 1e300]),
                                                        P("s", [1.0, 1e-300, 1e300]))))

# ---- Dirichlet: event shape [K]; K = 2 and 3 integrated, K = 5 by the stick-breaking route ---


def conc(r, shape, lo=0.5, hi=5.0):
    return poss(r, shape, lo, hi)


def simplex(r, lead, K):
    """Points of the simplex with exact f64 coordinates summing to exactly 1 (multiples of 2^-10)."""
    def one():
        cuts = sorted(r.sample(range(1, 1024), K - 1))
        return [(b - a) / 1024 for a, b in zip([0] + cuts, cuts + [1024])]
    if not lead:
        return one()
    return [simplex(r, lead[1:], K) for _ in range(lead[0])]


add("dirichlet_kl_K2_well", WC, lambda r: KL(F("Dirichlet", P("c1", conc(r, (3, 2)))), F("Dirichlet", P("c2", conc(r, (2,))))))
add("dirichlet_kl_K3_well", WC, lambda r: KL(F("Dirichlet", P("c1", conc(r, (2, 3)))), F("Dirichlet", P("c2", conc(r, (2, 3))))))
add("dirichlet_kl_K5_well", WC, lambda r: KL(F("Dirichlet", P("c1", conc(r, (2, 5), 0.1, 8.0))), F("Dirichlet", P("c2", conc(r, (5,), 0.1, 8.0)))))
add("dirichlet_kl_to_event", WC, lambda r: KL(Indep(F("Dirichlet", P("c1", conc(r, (2, 2, 2)))), 1),
                                              Indep(F("Dirichlet", P("c2", conc(r, (2, 2)))), 1)))
add("dirichlet_kl_K5_to_event_expand", WC, lambda r: KL(Indep(F("Dirichlet", P("c1", conc(r, (3, 5)))), 1),
                                                        Indep(Expand(F("Dirichlet", P("c2", conc(r, (5,)))), [3]), 1)))
add("dirichlet_kl_near_equal", NE, lambda r: (lambda c: KL(F("Dirichlet", P("c1", c)),
                                                           F("Dirichlet", P("c2", [[x * (1 + e * (k + 1)) for k, x in enumerate(row)]
                                                                                   for row, e in zip(c, (1e-6, 1e-9, 1e-12))]))))(
    conc(r, (3, 2))))
add("dirichlet_kl_K5_near_equal", NE, lambda r: (lambda c: KL(F("Dirichlet", P("c1", c)),
                                                              F("Dirichlet", P("c2", [[x * (1 + e * (k % 2)) for k, x in enumerate(row)]
                                                                                      for row, e in zip(c, (1e-8, 1e-11))]))))(
    conc(r, (2, 5))))
add("dirichlet_kl_self", NE, lambda r: (lambda c: KL(F("Dirichlet", P("c1", c)), F("Dirichlet", P("c1", c))))(conc(r, (2, 5))))
add("dirichlet_kl_extreme", XS, lambda r: KL(F("Dirichlet", P("c1", [[1e-3, 1e-3], [1e4, 2e4], [1e-3, 1e4]])),
                                             F("Dirichlet", P("c2", [[2e-3, 1e-3], [1.01e4, 2e4], [1.0, 1.0]]))))
add("dirichlet_kl_K5_extreme", XS, lambda r: KL(F("Dirichlet", P("c1", [[1e-3, 1e4, 0.5, 1e-3, 2.0]])),
                                                F("Dirichlet", P("c2", [[1.0, 1e4, 1e-3, 2e-3, 1e4]]))))
add("dirichlet_log_prob", WC, lambda r: LogProb(F("Dirichlet", P("c", conc(r, (3,)))), P("x", simplex(r, (2,), 3))))
add("dirichlet_log_prob_K5_batch", WC, lambda r: LogProb(F("Dirichlet", P("c", conc(r, (2, 1, 5), 0.1, 8.0))), P("x", simplex(r, (3,), 5))))
add("dirichlet_log_prob_to_event", WC, lambda r: LogProb(Indep(F("Dirichlet", P("c", conc(r, (2, 2)))), 1), P("x", simplex(r, (3, 2), 2))))
add("dirichlet_entropy", WC, lambda r: Entropy(F("Dirichlet", P("c", conc(r, (2, 2))))))
add("dirichlet_entropy_K3", WC, lambda r: Entropy(F("Dirichlet", P("c", conc(r, (3,))))))
add("dirichlet_entropy_K5", WC, lambda r: Entropy(F("Dirichlet", P("c", conc(r, (2, 5), 0.1, 8.0)))))
add("dirichlet_entropy_extreme", XS, lambda r: Entropy(F("Dirichlet", P("c", [[1e-3, 1e-3], [1e4, 3e4], [1e-3, 1e4]]))))

# Chi2 against Gamma, both ways (torch: Chi2 is a Gamma); appended, so earlier cases keep their bytes.
add("chi2_gamma_kl_well", WC, lambda r: KL(F("Chi2", P("k", poss(r, (3,), 0.5, 6.0))),
                                           F("Gamma", P("a", poss(r, (3,), 0.5, 4.0)), P("b", poss(r, (3,), 0.3, 2.0)))))
add("gamma_chi2_kl_to_event", WC, lambda r: KL(Indep(F("Gamma", P("a", poss(r, (2, 3), 0.5, 4.0)), P("b", poss(r, (2, 3), 0.3, 2.0))), 1),
                                               Indep(F("Chi2", P("k", poss(r, (3,), 0.5, 6.0))), 1)))
add("chi2_gamma_kl_near_equal", NE, lambda r: KL(F("Chi2", P("k", [3.0, 1.0, 7.0])),
                                                 F("Gamma", P("a", [1.5 * (1 + 1e-9), 0.5, 3.5]), P("b", [0.5, 0.5 * (1 + 1e-7), 0.5]))))

# Exponential against Gamma and Chi2, both ways (torch's _kl_exponential_gamma / _kl_gamma_exponential).
add("exponential_gamma_kl_well", WC, lambda r: KL(F("Exponential", P("r", poss(r, (3,), 0.3, 3.0))),
                                                  F("Gamma", P("a", poss(r, (3,), 0.5, 4.0)), P("b", poss(r, (3,), 0.3, 2.0)))))
add("gamma_exponential_kl_to_event", WC, lambda r: KL(Indep(F("Gamma", P("a", poss(r, (2, 3), 0.5, 4.0)), P("b", poss(r, (2, 3), 0.3, 2.0))), 1),
                                                      Indep(F("Exponential", P("r", poss(r, (3,), 0.3, 3.0))), 1)))
add("exponential_chi2_kl_well", WC, lambda r: KL(F("Exponential", P("r", poss(r, (3,), 0.3, 3.0))), F("Chi2", P("k", poss(r, (3,), 0.5, 6.0)))))
add("chi2_exponential_kl_well", WC, lambda r: KL(F("Chi2", P("k", poss(r, (3,), 0.5, 6.0))), F("Exponential", P("r", poss(r, (3,), 0.3, 3.0)))))
add("exponential_gamma_kl_near_equal", NE, lambda r: KL(F("Exponential", P("r", [2.0, 0.5, 1.5])),
                                                        F("Gamma", P("a", [1.0 + 1e-9, 1.0, 1.0]), P("b", [2.0, 0.5 * (1 + 1e-7), 1.5]))))

# ---- cross-family pairs (torch.distributions kl.py) ----------------------------------------
# The pairs of different continuous families that torch's kl.py gives a formula (not the ones it
# returns inf for outright); appended, so earlier cases keep their bytes. Normal and Laplace are
# generate.py's own nodes (they render the same as a Family would, and meet the others through
# AS_FAMILY), the rest Family nodes.

# family -> (parameter name stems, node from its parameters, (lo, hi) of each parameter's values)
CROSS = {
    "Normal": (("m", "s"), Normal, ((-2.0, 2.0), (0.5, 2.0))),
    "Laplace": (("m", "b"), Laplace, ((-2.0, 2.0), (0.5, 2.0))),
    "Exponential": (("r",), lambda *a: F("Exponential", *a), ((0.3, 3.0),)),
    "Gamma": (("a", "b"), lambda *a: F("Gamma", *a), ((0.4, 4.0), (0.4, 4.0))),
    "Beta": (("a", "b"), lambda *a: F("Beta", *a), ((0.4, 5.0), (0.4, 5.0))),
    "Gumbel": (("m", "s"), lambda *a: F("Gumbel", *a), ((-2.0, 2.0), (0.5, 2.0))),
    # alpha > 1: finite mean (alpha > 2 against Normal, below); P's variable t = alpha ln(x/scale)
    # ends at 1000, where p ln(p/q) ~ e^(-t (1 - k/alpha)) (k = 1, 2) has to be negligible.
    "Pareto": (("s", "a"), lambda *a: F("Pareto", *a), ((0.5, 2.0), (1.5, 5.0))),
    # low and high from disjoint ranges, so that every broadcast pair is an interval.
    "Uniform": (("lo", "hi"), lambda *a: F("Uniform", *a), ((-2.0, -0.5), (0.5, 2.0))),
}
# Ranges for the finite pairs: supports that nest.
CROSS_RANGES = {
    ("Beta", "Uniform"): {"Uniform": ((-1.0, -0.1), (1.1, 2.0))},
    ("Pareto", "Normal"): {"Pareto": ((0.5, 2.0), (2.5, 6.0))},
    ("Uniform", "Beta"): {"Uniform": ((0.02, 0.4), (0.55, 0.98))},
    ("Uniform", "Exponential"): {"Uniform": ((0.1, 1.0), (1.5, 3.0))},
    ("Uniform", "Gamma"): {"Uniform": ((0.1, 1.0), (1.5, 3.0))},
    ("Uniform", "Pareto"): {"Uniform": ((1.0, 2.0), (2.5, 4.0)), "Pareto": ((0.2, 0.9), (0.5, 4.0))},
}
CROSS_PAIRS = [
    ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
    ("Exponential", "Gumbel"), ("Exponential", "Normal"),
    ("Gamma", "Gumbel"), ("Gamma", "Normal"),
    ("Gumbel", "Normal"),
    ("Laplace", "Normal"), ("Normal", "Gumbel"), ("Normal", "Laplace"),
    ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
    ("Uniform", "Beta"), ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Gumbel"),
    ("Uniform", "Normal"), ("Uniform", "Pareto"),
]


def cross_node(name, suffix, values):
    stems, node, _ = CROSS[name]
    return node(*[P(st + suffix, v) for st, v in zip(stems, values)])


def cross_draw(r, pair, name, suffix, shapes):
    ranges = CROSS_RANGES.get(pair, {}).get(name, CROSS[name][2])
    return cross_node(name, suffix, [locs(r, sh, lo, hi) for sh, (lo, hi) in zip(shapes, ranges)])


for _p, _q in CROSS_PAIRS:
    _np, _nq = len(CROSS[_p][0]), len(CROSS[_q][0])
    _tag = f"cross_{_p.lower()}_{_q.lower()}"
    # as the families' _kl_well: P's parameters [2,1] and [1], Q's [2] and [2,1]; the KL is [2,2]
    add(f"{_tag}_well", WC, lambda r, pq=(_p, _q), np=_np, nq=_nq: KL(
        cross_draw(r, pq, pq[0], "1", [(2, 1), (1,)][:np]), cross_draw(r, pq, pq[1], "2", [(2,), (2, 1)][:nq])))
    add(f"{_tag}_to_event", WC, lambda r, pq=(_p, _q), np=_np, nq=_nq: KL(
        Indep(cross_draw(r, pq, pq[0], "1", [(2, 2)] * np), 1),
        Indep(cross_draw(r, pq, pq[1], "2", [(2,)] + [(2, 2)] * (nq - 1)), 1)))


def cross_kl(pn, qn, pv, qv):
    return KL(cross_node(pn, "1", pv), cross_node(qn, "2", qv))


# Infinite next to finite entries, at the boundaries too (see continuous.py for the conventions).
# Q's interval: inside (0, 1) at one end each; exactly [0, 1] (finite); around [0, 1].
add("cross_beta_uniform_inf", XS, lambda r: cross_kl("Beta", "Uniform", [[2.0, 0.5, 1.5, 0.7], [3.0, 0.5, 1.5, 4.0]],
                                                     [[0.25, -1.0, 0.0, -0.5], [2.0, 0.999, 1.0, 1.5]]))
# P's interval: below 0; [0, 1] and [0.25, 1] and [0, 0.5] touching Beta's ends, where q is 0 or
# infinite (finite; torch's 0 ln 0 gives NaN); above 1.
add("cross_uniform_beta_inf", XS, lambda r: cross_kl("Uniform", "Beta", [[-0.25, 0.0, 0.5, 0.25, 0.0], [0.5, 1.0, 1.25, 1.0, 0.5]],
                                                     [[2.0, 0.5, 1.5, 3.0, 0.3], [2.0, 0.5, 1.5, 0.4, 2.0]]))
# low < 0, low = 0 (finite), low = -1e-300 (P's mass below 0 is 1e-300: infinite), low > 0.
add("cross_uniform_exponential_inf", XS, lambda r: cross_kl("Uniform", "Exponential", [[-0.5, 0.0, -1e-300, 0.5], [1.0, 2.0, 1.0, 1.5]],
                                                            [[1.5, 0.5, 2.0, 1e-3]]))
# low < 0; low = 0 against concentrations 0.5 (q infinite at 0) and 3 (q = 0 at 0), both finite
# (torch: NaN); low > 0.
add("cross_uniform_gamma_inf", XS, lambda r: cross_kl("Uniform", "Gamma", [[-0.5, 0.0, 0.0, 1.0], [1.0, 2.0, 1e-3, 3.0]],
                                                      [[2.0, 0.5, 3.0, 1.0], [1.0, 2.0, 1.5, 0.5]]))
# low below the scale; low = scale (finite); low above it; low one ulp below the scale (infinite).
add("cross_uniform_pareto_inf", XS, lambda r: cross_kl("Uniform", "Pareto", [[0.5, 1.0, 2.0, 1.0 - 2 ** -53], [2.0, 3.0, 2.5, 2.0]],
                                                       [[1.0, 1.0, 1.5, 1.0], [2.0, 0.5, 3.0, 1e-3]]))
# alpha = 1 and 0.5: no mean (infinite); 3 and 1.5 finite.
add("cross_pareto_exponential_inf", XS, lambda r: cross_kl("Pareto", "Exponential", [[1.0, 2.0, 0.5, 1.0], [1.0, 0.5, 3.0, 1.5]],
                                                           [[1.0, 0.5, 2.0, 1e-3]]))
add("cross_pareto_gamma_inf", XS, lambda r: cross_kl("Pareto", "Gamma", [[1.0, 0.5, 2.0], [0.8, 2.0, 1.0]],
                                                     [[2.0, 0.5, 3.0], [1.0, 1.0, 0.5]]))
# alpha = 2 and 1.5: no variance (infinite); 3 and 2.5 finite.
add("cross_pareto_normal_inf", XS, lambda r: cross_kl("Pareto", "Normal", [[1.0, 1.0, 0.5, 2.0], [2.0, 1.5, 3.0, 2.5]],
                                                      [[0.0, 1.0, 2.0, -1.0], [1.0, 2.0, 0.5, 3.0]]))

# Extreme scales, where the closed form at 60 digits stays exact.
add("cross_normal_laplace_extreme", XS, lambda r: cross_kl("Normal", "Laplace", [[0.0, 1e100, 0.5], [1e-100, 1e100, 1e-150]],
                                                           [[1e-100, 0.0, 0.5], [1e100, 1e-100, 1e150]]))
add("cross_laplace_normal_extreme", XS, lambda r: cross_kl("Laplace", "Normal", [[0.0, 1e100, -3.0], [1e-100, 1e50, 1e150]],
                                                           [[1e-100, 0.0, 2.0], [1e100, 1e-40, 1e149]]))
add("cross_normal_gumbel_extreme", XS, lambda r: cross_kl("Normal", "Gumbel", [[1e100, 0.0], [1e100, 1e-100]],
                                                          [[0.0, 3e-100], [2e100, 1e-100]]))
add("cross_gamma_normal_extreme", XS, lambda r: cross_kl("Gamma", "Normal", [[1e4, 1e-3, 2.0], [1e4, 2.0, 1e-100]],
                                                         [[1.0, 0.0, 1e100], [0.01, 1.5, 3e100]]))
add("cross_gumbel_normal_extreme", XS, lambda r: cross_kl("Gumbel", "Normal", [[1e100, 0.0], [1e100, 1e-100]],
                                                          [[0.0, 1e-100], [1e100, 1.0]]))
add("cross_pareto_gamma_extreme", XS, lambda r: cross_kl("Pareto", "Gamma", [[1e-150, 1.0], [3.0, 1e4]],
                                                         [[0.5, 1e4], [1e150, 1e4]]))
# A 1e-8-wide interval, one 1e-150 wide at 0, one 2e150 wide.
add("cross_uniform_normal_extreme", XS, lambda r: cross_kl("Uniform", "Normal", [[1.0, 0.0, -1e150], [1.00000001, 1e-150, 1e150]],
                                                           [[0.5, 0.0, 0.0], [2.0, 1e150, 1e149]]))
add("cross_uniform_gumbel_extreme", XS, lambda r: cross_kl("Uniform", "Gumbel", [[1.0, -1e-100], [1.00000001, 1e-100]],
                                                           [[0.0, 0.0], [1.0, 1e-99]]))
# [0, 1e-200] against a concentration of 1e-3 (q infinite at 0; torch: NaN, from 0 ln 0).
add("cross_uniform_gamma_extreme", XS, lambda r: cross_kl("Uniform", "Gamma", [[0.0, 1e100], [1e-200, 3e100]],
                                                          [[1e-3, 2.0], [1.0, 1e-100]]))

# ---- discrete families: Bernoulli, Poisson ----------------------------------------------------
# The references are sums over the support of P of the log pmf (discrete.py), in log space; the
# closed forms only check them. Appended, so earlier cases keep their bytes.


def bern(name, values, kind):
    return Bernoulli(P(name, values), kind)


def probs(r, sh):
    return poss(r, sh, 0.05, 0.95)


def logits(r, sh):
    return locs(r, sh, -4.0, 4.0)


def rates(r, sh, lo=0.3, hi=8.0):
    return poss(r, sh, lo, hi)


add("bernoulli_kl_probs_well", WC, lambda r: KL(bern("p1", probs(r, (2, 1)), "probs"), bern("p2", probs(r, (2,)), "probs")))
add("bernoulli_kl_logits_well", WC, lambda r: KL(bern("l1", logits(r, (2, 1)), "logits"), bern("l2", logits(r, (2,)), "logits")))
add("bernoulli_kl_probs_vs_logits", WC, lambda r: KL(bern("p1", probs(r, (3,)), "probs"), bern("l2", logits(r, (3,)), "logits")))
add("bernoulli_kl_logits_vs_probs", WC, lambda r: KL(bern("l1", logits(r, (3,)), "logits"), bern("p2", probs(r, (3,)), "probs")))
add("bernoulli_kl_to_event", WC, lambda r: KL(Indep(bern("l1", logits(r, (2, 3)), "logits"), 1),
                                              Indep(bern("l2", logits(r, (2, 3)), "logits"), 1)))
# p2 = p1 (1 + eps): KL ~ p eps^2 / (2 (1 - p)), down to ~1e-26; the last element is P || P.
add("bernoulli_kl_probs_near_equal", NE, lambda r: (lambda p: KL(
    bern("p1", p, "probs"), bern("p2", [x * (1 + e) for x, e in zip(p, (1e-6, 1e-9, 1e-12, 0.0))], "probs")))(probs(r, (4,))))
# l2 = l1 + eps: KL ~ sigma'(l1) eps^2 / 2; at l = 40 (sigma' = 4.2e-18) against 40 + 1e-9 it is
# 2.1e-36. The last element is P || P.
add("bernoulli_kl_logits_near_equal", NE, lambda r: (lambda l, eps: KL(
    bern("l1", l, "logits"), bern("l2", [x + e for x, e in zip(l, eps)], "logits")))(
    [-3.0, 0.5, 2.0, 40.0, -1.25], (1e-6, 1e-9, 1e-12, 1e-9, 0.0)))
# Probabilities within e^-40 of 0 or 1 (KL(40 || 38) = 1.86e-17), e^-700 against e^5, saturated
# logits of either sign, a logit of 1e-200 (sigma = 1/2 + 2.5e-201) and 1e-10 against 3e-10
# (KL = 5e-21).
add("bernoulli_kl_logits_extreme", XS, lambda r: KL(
    bern("l1", [40.0, -40.0, -700.0, 30.0, 1e-200, 1e-10, 700.0, 5.0], "logits"),
    bern("l2", [38.0, -38.0, 5.0, -30.0, 2.0, 3e-10, -700.0, -700.0], "logits")))
# P a point mass against Q inside (finite), both point masses at the same atom (0), Q a point mass
# against P inside (inf, also for P(1) = 1e-300 and one ulp below 1), and Q(1) = 1e-300 against a
# point mass at 1 (690.8).
add("bernoulli_kl_probs_boundary", XS, lambda r: KL(
    bern("p1", [0.0, 1.0, 0.0, 1.0, 0.3, 0.3, 0.0, 1.0, 1e-300, 1.0, 1.0 - 2 ** -53], "probs"),
    bern("p2", [0.4, 0.25, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1e-300, 1.0], "probs")))
add("bernoulli_log_prob", WC, lambda r: LogProb(bern("p", probs(r, (3,)), "probs"), P("x", [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])))
add("bernoulli_log_prob_logits", WC, lambda r: LogProb(bern("l", [30.0, -30.0] + logits(r, (1,)), "logits"),
                                                       P("x", [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])))
add("bernoulli_entropy", WC, lambda r: Entropy(bern("p", probs(r, (2, 3)), "probs")))
add("bernoulli_entropy_logits", WC, lambda r: Entropy(bern("l", [30.0, -30.0, 0.0] + logits(r, (2,)), "logits")))

add("poisson_kl_well", WC, lambda r: KL(Poisson(P("r1", rates(r, (2, 1)))), Poisson(P("r2", rates(r, (2,))))))
add("poisson_kl_to_event", WC, lambda r: KL(Indep(Poisson(P("r1", rates(r, (2, 3)))), 1), Indep(Poisson(P("r2", rates(r, (3,)))), 1)))
# r2 = r1 (1 + eps): KL ~ r1 eps^2 / 2; the last element is P || P.
add("poisson_kl_near_equal", NE, lambda r: (lambda v: KL(
    Poisson(P("r1", v)), Poisson(P("r2", [x * (1 + e) for x, e in zip(v, (1e-6, 1e-9, 1e-12, 0.0))]))))(rates(r, (4,))))
# Rate 1e6 is summed over about 37000 terms around its mode.
add("poisson_kl_extreme", XS, lambda r: KL(Poisson(P("r1", [1e-100, 1e6, 1e-3, 50.0, 1e-300])),
                                           Poisson(P("r2", [3e-100, 1.001e6, 50.0, 1e-3, 1e300]))))
add("poisson_log_prob", WC, lambda r: LogProb(Poisson(P("r", rates(r, (3,)))), P("k", fill((2, 3), lambda: r.randint(0, 12)))))
add("poisson_log_prob_extreme", XS, lambda r: LogProb(Poisson(P("r", [1e-300, 1000.0, 1e-50])), P("k", [0.0, 1000.0, 3.0])))

add("bernoulli_poisson_kl_well", WC, lambda r: KL(bern("p1", probs(r, (2, 1)), "probs"), Poisson(P("r2", rates(r, (3,), 0.2, 5.0)))))
add("bernoulli_poisson_kl_logits", WC, lambda r: KL(bern("l1", logits(r, (3,)), "logits"), Poisson(P("r2", rates(r, (3,), 0.2, 5.0)))))


# Geometric: P(k) = (1 - p)^k p on {0, 1, 2, ..}, summed in blocks of doubling length
# (discrete.geometric_sum), so that means up to e^40 and 1e300 cost a few hundred doublings.


def geom(name, values, kind):
    return Geometric(P(name, values), kind)


def gprobs(r, sh):
    return poss(r, sh, 0.1, 0.9)


def glogits(r, sh):
    return locs(r, sh, -3.0, 3.0)


def gints(r, sh, hi=10):
    return fill(sh, lambda: r.randint(0, hi))


add("geometric_kl_probs_well", WC, lambda r: KL(geom("p1", gprobs(r, (2, 1)), "probs"), geom("p2", gprobs(r, (2,)), "probs")))
add("geometric_kl_logits_well", WC, lambda r: KL(geom("l1", glogits(r, (2, 1)), "logits"), geom("l2", glogits(r, (2,)), "logits")))
add("geometric_kl_probs_vs_logits", WC, lambda r: KL(geom("p1", gprobs(r, (3,)), "probs"), geom("l2", glogits(r, (3,)), "logits")))
add("geometric_kl_logits_vs_probs", WC, lambda r: KL(geom("l1", glogits(r, (3,)), "logits"), geom("p2", gprobs(r, (3,)), "probs")))
add("geometric_kl_to_event", WC, lambda r: KL(Indep(geom("l1", glogits(r, (2, 3)), "logits"), 1),
                                              Indep(geom("l2", glogits(r, (2, 3)), "logits"), 1)))
# p2 = p1 (1 + eps): KL ~ eps^2 / (2 (1 - p)), down to ~1e-24; the last element is P || P.
add("geometric_kl_probs_near_equal", NE, lambda r: (lambda p: KL(
    geom("p1", p, "probs"), geom("p2", [x * (1 + e) for x, e in zip(p, (1e-6, 1e-9, 1e-12, 0.0))], "probs")))(gprobs(r, (4,))))
# l2 = l1 + eps: KL ~ (1 - p) eps^2 / 2 (the Fisher information in the logit is 1 - p); at l = 40
# against 40 + 1e-9 it is 2.1e-36, at -20 (mean e^20) against -20 + 1e-9 about 5e-19. The last
# element is P || P.
add("geometric_kl_logits_near_equal", NE, lambda r: (lambda l, eps: KL(
    geom("l1", l, "logits"), geom("l2", [x + e for x, e in zip(l, eps)], "logits")))(
    [-2.0, 0.5, 3.0, 40.0, -20.0, -1.25], (1e-6, 1e-9, 1e-12, 1e-9, 1e-9, 0.0)))
# P within e^-30 of a point mass at 0 and back, long tails (means e^18 .. e^40), a near point mass
# against a long tail (KL 1.6e17 at -40 vs 0) and the reverse.
add("geometric_kl_extreme", XS, lambda r: KL(
    geom("l1", [30.0, 28.0, -20.0, -18.0, 40.0, -40.0, 0.0], "logits"),
    geom("l2", [28.0, 30.0, -18.0, -20.0, -40.0, 0.0, -40.0], "logits")))
# Means 1e6 and 1e300 (p = 1e-300: about 1000 doublings), one ulp below 1 against 1/2 and back,
# and a mean of 1e10 against p2 = 0.9 (KL 2.3e10).
add("geometric_kl_probs_extreme", XS, lambda r: KL(
    geom("p1", [1e-6, 2e-6, 1e-300, 1.0 - 2 ** -53, 0.5, 1e-10], "probs"),
    geom("p2", [2e-6, 1e-6, 2e-300, 0.5, 1.0 - 2 ** -53, 0.9], "probs")))
# P a point mass at 0 (probs1 = 1) against Q inside: -ln p2 (690.8 at 1e-300); both point masses:
# 0; Q a point mass against P with mass beyond 0: "inf" (also at p1 = 1e-300 and one ulp below 1).
add("geometric_kl_boundary", XS, lambda r: KL(
    geom("p1", [1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 1e-300, 1.0 - 2 ** -53], "probs"),
    geom("p2", [0.4, 1e-300, 1.0 - 2 ** -53, 1e-6, 1.0, 1.0, 1.0, 1.0], "probs")))
add("geometric_log_prob", WC, lambda r: LogProb(geom("p", gprobs(r, (3,)), "probs"), P("k", gints(r, (2, 3)))))
add("geometric_log_prob_logits", WC, lambda r: LogProb(geom("l", [20.0, -20.0] + glogits(r, (1,)), "logits"),
                                                       P("k", gints(r, (2, 3)))))
add("geometric_entropy", WC, lambda r: Entropy(geom("p", gprobs(r, (2, 3)), "probs")))
add("geometric_entropy_logits", WC, lambda r: Entropy(geom("l", [-20.0, 0.0, 20.0] + glogits(r, (2,)), "logits")))


# ---- Binomial --------------------------------------------------------------------------------
# `Binomial(total_count, probs=p)` / `Binomial(total_count, logits=l)`: P(k) = C(n, k) p^k
# (1 - p)^(n - k) on {0, .., n}. The references are sums over k of the log pmf (discrete.py's
# Binomial section), summed from the mode outwards; the closed form n KL(Bernoulli || Bernoulli)
# only checks them. torch raises for P.total_count < Q.total_count, so every case has n1 >= n2;
# n1 > n2 is "inf".


class Binomial:
    """`Binomial(total_count, probs=p)` or `Binomial(total_count, logits=l)` (total_count first,
    probs / logits keyword-only in torch), elementwise; its kind is "Binomial", and `dist(i)` is
    the discrete.Binomial at index i (total_count and parameter broadcast together)."""
    KINDS = ("probs", "logits")

    def __init__(self, count, param, kind):
        assert kind in self.KINDS, kind
        self.count, self.param, self.kind = count, param, kind

    def render(self):
        return f"Binomial({self.count.render()}, {self.kind}={self.param.render()})"

    def params(self):
        return self.count.params() + self.param.params()

    def gauss(self):
        n, t, kind = self.count.tensor(), self.param.tensor(), self.kind
        batch = broadcast_shapes(n.shape, t.shape)
        return Gauss(batch, (), "Binomial", dist=lambda i: discrete.Binomial(kind, n.bat(i), t.bat(i)))


def binom(count_name, counts, name, values, kind):
    return Binomial(P(count_name, counts), P(name, values), kind)


def bcounts(r, sh):
    return fill(sh, lambda: r.choice((1.0, 7.0, 50.0, 1000.0)))


def bprobs(r, sh):
    return poss(r, sh, 0.1, 0.9)


def blogits(r, sh):
    return locs(r, sh, -3.0, 3.0)


def bks(r, counts, rows):
    """log_prob points: `rows` rows of integers k in [0, n] against the counts n (a list); the
    first row holds 0 and n at its first two positions."""
    first = [0.0, counts[1]] + [float(r.randint(0, int(c))) for c in counts[2:]]
    return [first] + [[float(r.randint(0, int(c))) for c in counts] for _ in range(rows - 1)]


def same(x):
    """A copy of the nested counts, for Q's total_count under its own name."""
    return mapn(x, lambda v: v)


# Equal counts on both sides: KL = n KL(Bernoulli(p1) || Bernoulli(p2)), every probs / logits mix.
add("binomial_kl_probs_well", WC, lambda r: (lambda n: KL(
    binom("n1", n, "p1", bprobs(r, (2, 1)), "probs"), binom("n2", same(n), "p2", bprobs(r, (2,)), "probs")))(bcounts(r, (2, 1))))
add("binomial_kl_logits_well", WC, lambda r: (lambda n: KL(
    binom("n1", n, "l1", blogits(r, (2, 1)), "logits"), binom("n2", same(n), "l2", blogits(r, (2,)), "logits")))(bcounts(r, (2, 1))))
add("binomial_kl_probs_vs_logits", WC, lambda r: (lambda n: KL(
    binom("n1", n, "p1", bprobs(r, (3,)), "probs"), binom("n2", same(n), "l2", blogits(r, (3,)), "logits")))(bcounts(r, (3,))))
# logits against probs, P's batch [2, 3] against Q's [3] (the counts [3] on both sides).
add("binomial_kl_to_event", WC, lambda r: (lambda n: KL(
    Indep(binom("n1", n, "l1", blogits(r, (2, 3)), "logits"), 1),
    Indep(binom("n2", same(n), "p2", bprobs(r, (3,)), "probs"), 1)))(bcounts(r, (3,))))
# p2 = p1 (1 + eps): KL ~ n p eps^2 / (2 (1 - p)), down to ~1e-22; the last element is P || P.
add("binomial_kl_near_equal", NE, lambda r: (lambda p: KL(
    binom("n1", [7.0, 50.0, 1000.0, 50.0], "p1", p, "probs"),
    binom("n2", [7.0, 50.0, 1000.0, 50.0], "p2", [x * (1 + e) for x, e in zip(p, (1e-6, 1e-9, 1e-12, 0.0))], "probs")))(
    bprobs(r, (4,))))
# l2 = l1 + eps: KL ~ n sigma'(l1) eps^2 / 2; at l = 40 (n = 1000) against 40 + 1e-9 it is 2.1e-33.
# The last element is P || P.
add("binomial_kl_logits_near_equal", NE, lambda r: (lambda l, eps: KL(
    binom("n1", [7.0, 50.0, 1000.0, 1000.0, 1.0], "l1", l, "logits"),
    binom("n2", [7.0, 50.0, 1000.0, 1000.0, 1.0], "l2", [x + e for x, e in zip(l, eps)], "logits")))(
    [-2.0, 0.5, 3.0, 40.0, -1.25], (1e-6, 1e-9, 1e-12, 1e-9, 0.0)))
# n1 > n2: P(n1) > 0 = Q(n1), "inf" (also against n2 = 0, a point mass at 0), next to n1 == n2
# (finite) and n1 = n2 = 0 (both point masses at 0: KL 0).
add("binomial_kl_inf", XS, lambda r: KL(
    binom("n1", [7.0, 50.0, 1000.0, 1.0, 7.0, 50.0, 0.0, 1000.0], "p1", bprobs(r, (8,)), "probs"),
    binom("n2", [6.0, 0.0, 999.0, 0.0, 7.0, 50.0, 0.0, 1000.0], "p2", bprobs(r, (8,)), "probs")))
# n = 1e6: P within e^-30 of a point mass at n (and of one at 0, -30 vs -28) and back, a few terms
# from the mode; logits 0 against 1e-3 (KL 0.125) sums some 18000 terms around n / 2.
add("binomial_kl_extreme", XS, lambda r: KL(
    binom("n1", [1e6, 1e6, 1e6, 1e6], "l1", [30.0, 28.0, -30.0, 0.0], "logits"),
    binom("n2", [1e6, 1e6, 1e6, 1e6], "l2", [28.0, 30.0, -28.0, 1e-3], "logits")))
# n = 1e6 with means 0.01 and 0.02 (KL 3.1e-3 and back), and a mean of 1e-294 against p2 = 1/2
# (KL n ln 2).
add("binomial_kl_probs_extreme", XS, lambda r: KL(
    binom("n1", [1e6, 1e6, 1e6], "p1", [1e-8, 2e-8, 1e-300], "probs"),
    binom("n2", [1e6, 1e6, 1e6], "p2", [2e-8, 1e-8, 0.5], "probs")))
add("binomial_log_prob", WC, lambda r: (lambda n: LogProb(
    binom("n", n, "p", bprobs(r, (3,)), "probs"), P("k", bks(r, n, 2))))(bcounts(r, (3,))))
# logits +-20 at n = 50 and 7: k ln p and (n - k) ln(1 - p) of -20 per failure / success.
add("binomial_log_prob_logits", WC, lambda r: (lambda n: LogProb(
    binom("n", n, "l", [20.0, -20.0] + blogits(r, (1,)), "logits"), P("k", bks(r, n, 2))))([50.0, 7.0] + bcounts(r, (1,))))
# ln C(1e4, 5000) - 1e4 ln 2 (-4.83); k = 0 at p = 1e-300: n log1p(-1e-300) = -1e-296;
# k = n = 1000 at p = 1e-300: 1000 ln(1e-300).
add("binomial_log_prob_extreme", XS, lambda r: LogProb(
    binom("n", [1e4, 1e4, 1000.0], "p", [0.5, 1e-300, 1e-300], "probs"), P("k", [5000.0, 0.0, 1000.0])))


# ---- ContinuousBernoulli ---------------------------------------------------------------------
# `ContinuousBernoulli(probs=p)` / `ContinuousBernoulli(logits=l)`: density C(lam) lam^x
# (1 - lam)^(1 - x) on [0, 1] (continuous.py's ContinuousBernoulli, in its logit). Closed forms
# (torch's, written in the logit) checked by quadrature, as the other continuous families.
# Appended, so earlier cases keep their bytes.


class ContinuousBernoulli:
    """`ContinuousBernoulli(probs=p)` or `ContinuousBernoulli(logits=l)` (keyword-only, as
    Bernoulli), elementwise; its kind is the continuous.FAMILIES name and its parameter the
    logit (probs are turned into it at the working precision)."""
    KINDS = ("probs", "logits")

    def __init__(self, param, kind):
        assert kind in self.KINDS, kind
        self.param, self.kind = param, kind

    def render(self):
        return f"ContinuousBernoulli({self.kind}={self.param.render()})"

    def params(self):
        return self.param.params()

    def gauss(self):
        t = self.param.tensor()
        conv = continuous.cb_logit_of_probs if self.kind == "probs" else (lambda v: v)
        return Gauss(t.shape, (), "ContinuousBernoulli", params=lambda i: (conv(t.bat(i)),))


def cb(name, values, kind):
    return ContinuousBernoulli(P(name, values), kind)


def cbprobs(r, sh):
    return poss(r, sh, 0.05, 0.95)


def cblogits(r, sh):
    return locs(r, sh, -6.0, 6.0)


add("continuous_bernoulli_kl_probs_well", WC, lambda r: KL(cb("p1", cbprobs(r, (2, 1)), "probs"), cb("p2", cbprobs(r, (2,)), "probs")))
add("continuous_bernoulli_kl_logits_well", WC, lambda r: KL(cb("l1", cblogits(r, (2, 1)), "logits"), cb("l2", cblogits(r, (2,)), "logits")))
add("continuous_bernoulli_kl_probs_vs_logits", WC, lambda r: KL(cb("p1", cbprobs(r, (3,)), "probs"), cb("l2", cblogits(r, (3,)), "logits")))
add("continuous_bernoulli_kl_logits_vs_probs", WC, lambda r: KL(cb("l1", cblogits(r, (3,)), "logits"), cb("p2", cbprobs(r, (3,)), "probs")))
add("continuous_bernoulli_kl_to_event", WC, lambda r: KL(Indep(cb("l1", cblogits(r, (2, 3)), "logits"), 1),
                                                         Indep(cb("l2", cblogits(r, (3,)), "logits"), 1)))
# torch's Taylor region (probs within 1e-3 of 1/2) and 1/2 itself, against each other and
# against probs away from it; logits within 2e-3 of 0 likewise.
add("continuous_bernoulli_kl_near_half", WC, lambda r: KL(
    cb("p1", [0.5, 0.4995, 0.5003, 0.5, 0.2, 0.5001], "probs"),
    cb("p2", [0.5004, 0.5, 0.4999, 0.9, 0.5002, 0.5001 + 2 ** -40], "probs")))
add("continuous_bernoulli_kl_logits_near_zero", WC, lambda r: KL(
    cb("l1", [0.0, 1e-3, -2e-3, 0.0, 3.0], "logits"), cb("l2", [1e-3, -1e-3, 0.0, -4.0, 1e-4], "logits")))
add("continuous_bernoulli_log_prob", WC, lambda r: LogProb(cb("p", [0.5] + cbprobs(r, (2,)), "probs"),
                                                           P("x", [[0.0, 1.0, 0.25], [1.0, 0.0, 0.5], [0.75, 0.125, 1.0]])))
add("continuous_bernoulli_log_prob_logits", WC, lambda r: LogProb(cb("l", [30.0, -30.0, 0.0] + cblogits(r, (1,)), "logits"),
                                                                  P("x", [[0.0, 1.0, 0.5, 0.25], [1.0, 0.0, 0.375, 1.0]])))
add("continuous_bernoulli_entropy", WC, lambda r: Entropy(cb("p", cbprobs(r, (2, 3)), "probs")))
add("continuous_bernoulli_entropy_logits", WC, lambda r: Entropy(cb("l", [30.0, -30.0, 0.0, 1e-3, -2.0] + cblogits(r, (2,)), "logits")))

# p2 = p1 (1 + eps): KL ~ var(l) (dl)^2 / 2 down to ~1e-26; the last element is P || P.
add("continuous_bernoulli_kl_probs_near_equal", NE, lambda r: (lambda p: KL(
    cb("p1", p, "probs"), cb("p2", [x * (1 + e) for x, e in zip(p, (1e-6, 1e-9, 1e-12, 0.0))], "probs")))(cbprobs(r, (4,))))
# l2 = l1 + eps: at l = 40 against 40 + 1e-9 (var 6.2e-4) 3.1e-22; near 0, 1e-10 against
# 3e-10 (1.7e-21) and 0.5 + 2^-40 against 0.5 in probs; the last element is P || P.
add("continuous_bernoulli_kl_logits_near_equal", NE, lambda r: (lambda l, eps: KL(
    cb("l1", l, "logits"), cb("l2", [x + e for x, e in zip(l, eps)], "logits")))(
    [-3.0, 0.5, 2.5, 40.0, 1e-10, -12.0, -1.25], (1e-6, 1e-9, 1e-12, 1e-9, 2e-10, 1e-7, 0.0)))
add("continuous_bernoulli_kl_probs_near_half_equal", NE, lambda r: KL(
    cb("p1", [0.5, 0.5 + 2 ** -40, 0.4999, 0.75], "probs"), cb("p2", [0.5 + 2 ** -40, 0.5, 0.4999 * (1 + 1e-10), 0.75], "probs")))
# Logits of +-700 (probs within e^-700 of 0 or 1), 40 against 38, one apart at 700, a logit of
# 1e-200 against 2, saturated logits of both signs against each other.
add("continuous_bernoulli_kl_logits_extreme", XS, lambda r: KL(
    cb("l1", [700.0, -700.0, 40.0, -40.0, 700.0, 1e-200, 30.0, 0.0, -700.0], "logits"),
    cb("l2", [-700.0, 5.0, 38.0, -38.0, 699.0, 2.0, -30.0, 700.0, -699.999999], "logits")))
# probs of 1e-300 (logit -690.8) and one ulp below 1 (36.7), against each other and 1/2.
add("continuous_bernoulli_kl_probs_extreme", XS, lambda r: KL(
    cb("p1", [1e-300, 1.0 - 2 ** -53, 1e-300, 0.5, 1e-10, 1e-300], "probs"),
    cb("p2", [2e-300, 0.5, 0.5, 1e-300, 1.0 - 1e-10, 1e-300 * (1 + 1e-9)], "probs")))
add("continuous_bernoulli_log_prob_extreme", XS, lambda r: LogProb(
    cb("l", [700.0, -700.0, 1e-200, 700.0, -700.0], "logits"), P("x", [1.0, 0.0, 0.5, 0.999, 0.001])))
add("continuous_bernoulli_log_prob_probs_extreme", XS, lambda r: LogProb(
    cb("p", [1e-300, 1.0 - 2 ** -53, 0.5 + 2 ** -53], "probs"), P("x", [0.0, 1.0, 1.0])))
add("continuous_bernoulli_entropy_extreme", XS, lambda r: Entropy(
    cb("l", [700.0, -700.0, 1e-200, 1e-8, 1e5], "logits")))
add("continuous_bernoulli_entropy_probs_extreme", XS, lambda r: Entropy(
    cb("p", [1e-300, 1.0 - 2 ** -53, 0.5 + 2 ** -53], "probs")))

# torch's cross pairs with ContinuousBernoulli.
CB_CROSS = {
    "Beta": lambda r, sh, s: F("Beta", P("a" + s, locs(r, sh, 0.4, 5.0)), P("b" + s, locs(r, sh, 0.4, 5.0))),
    "Uniform_in": lambda r, sh, s: F("Uniform", P("lo" + s, locs(r, sh, 0.02, 0.4)), P("hi" + s, locs(r, sh, 0.55, 0.98))),
    "Uniform_out": lambda r, sh, s: F("Uniform", P("lo" + s, locs(r, sh, -1.0, -0.1)), P("hi" + s, locs(r, sh, 1.1, 2.0))),
    "Exponential": lambda r, sh, s: Exponential(P("r" + s, locs(r, sh, 0.3, 3.0))),
    "Normal": lambda r, sh, s: Normal(P("m" + s, locs(r, sh, -2.0, 2.0)), P("s" + s, locs(r, sh, 0.5, 2.0))),
}
for _other, _side in (("Beta", "p"), ("Uniform_in", "p"), ("Exponential", "q"), ("Normal", "q"), ("Uniform_out", "q")):
    _tag = _other.split("_")[0].lower()
    _tag = f"cross_{_tag}_continuous_bernoulli" if _side == "p" else f"cross_continuous_bernoulli_{_tag}"
    for _kind in ("logits", "probs"):
        def _mk(r, other=_other, side=_side, kind=_kind):
            mine = cb("l" if kind == "logits" else "p", (cblogits if kind == "logits" else cbprobs)(r, (2,)), kind)
            them = CB_CROSS[other](r, (2, 1), "1" if side == "p" else "2")
            return KL(them, mine) if side == "p" else KL(mine, them)
        add(f"{_tag}_well" + ("" if _kind == "logits" else "_probs"), WC, _mk)

    def _ev(r, other=_other, side=_side):
        mine = Indep(cb("l", cblogits(r, (2, 3)), "logits"), 1)
        them = Indep(CB_CROSS[other](r, (3,), "1" if side == "p" else "2"), 1)
        return KL(them, mine) if side == "p" else KL(mine, them)
    add(f"{_tag}_to_event", WC, _ev)

# P interval below 0, exactly [0, 1] (finite; torch: inf), above 1, touching 0 and touching 1.
add("cross_uniform_continuous_bernoulli_inf", XS, lambda r: KL(
    F("Uniform", P("lo1", [-0.25, 0.0, 0.5, 0.0, 0.25, -1e-300]), P("hi1", [0.5, 1.0, 1.25, 0.5, 1.0, 0.5])),
    cb("l2", [1.5, -2.0, 0.5, 3.0, -0.7, 1.0], "logits")))
# Q interval inside (0, 1) at one end each, exactly [0, 1] (finite; torch: inf), around it, and
# one ulp short of it (inf).
add("cross_continuous_bernoulli_uniform_inf", XS, lambda r: KL(
    cb("p1", [0.3, 0.7, 0.5, 0.2, 0.9, 0.4], "probs"),
    F("Uniform", P("lo2", [0.25, -1.0, 0.0, -0.5, -1e-300, -1.0]), P("hi2", [2.0, 0.999, 1.0, 1.5, 1.0, 1.0 - 2 ** -53]))))
# Near-equal across families: a continuous Bernoulli at logits -40 is within e^-40 of the
# exponential of rate 40 (KL 4.2e-18); the uniform is the continuous Bernoulli at logits 0 (and
# so is Beta(1, 1)).
add("cross_continuous_bernoulli_exponential_near_equal", NE, lambda r: KL(
    cb("l1", [-40.0, -12.0, -30.0], "logits"), Exponential(P("r2", [40.0, 12.0 * (1 + 1e-6), 30.0 * (1 - 1e-9)]))))
add("cross_uniform_continuous_bernoulli_near_equal", NE, lambda r: KL(
    F("Uniform", P("lo1", [0.0, 0.0, 1e-9]), P("hi1", [1.0, 1.0, 1.0])), cb("l2", [1e-4, 0.0, 0.0], "logits")))
add("cross_continuous_bernoulli_uniform_near_equal", NE, lambda r: KL(
    cb("l1", [1e-4, 0.0, 1e-6], "logits"), F("Uniform", P("lo2", [0.0, 0.0, -1e-9]), P("hi2", [1.0, 1.0, 1.0]))))
add("cross_beta_continuous_bernoulli_near_equal", NE, lambda r: KL(
    F("Beta", P("a1", [1.0]), P("b1", [1.0])), cb("l2", [0.0], "logits")))
# Extreme logits against the other families.
add("cross_continuous_bernoulli_extreme", XS, lambda r: KL(
    cb("l1", [-700.0, 700.0, -1e5, 1e-200], "logits"), Exponential(P("r2", [1400.0, 1e-3, 1.5e5, 1e-100]))))
add("cross_continuous_bernoulli_normal_extreme", XS, lambda r: KL(
    cb("l1", [-700.0, 700.0, 1e-200, 0.0], "logits"),
    Normal(P("m2", [1.0 / 700.0, 0.5, 0.5, 1e100]), P("s2", [1.0 / 700.0, 1e-100, 1e100, 1.0]))))
add("cross_uniform_continuous_bernoulli_extreme", XS, lambda r: KL(
    F("Uniform", P("lo1", [0.0, 0.999, 0.5, 1e-300]), P("hi1", [1e-3, 1.0, 0.5 + 1e-12, 2e-300])),
    cb("l2", [-700.0, 700.0, 1e-200, -700.0], "logits")))
add("cross_beta_continuous_bernoulli_extreme", XS, lambda r: KL(
    F("Beta", P("a1", [1e-3, 1e4, 1.0]), P("b1", [2.0, 1.0, 1e4])), cb("l2", [-700.0, 700.0, -700.0], "logits")))

# ---- Categorical and OneHotCategorical ------------------------------------------------------------
# `Categorical(probs=p)` / `Categorical(logits=l)` and `OneHotCategorical(probs=p)` /
# `OneHotCategorical(logits=l)`: the last dim of the parameter holds the K categories. The
# references are the finite sums over k of the normalised log pmf (discrete.py's Categorical
# section): the probs as given (normalised positive values rounded to f64, so they sum to 1 within
# a few ulp but not exactly) are normalised exactly. The closed forms, and for K = 2 the Bernoulli
# formulas, only check them.


class Categorical:
    """`Categorical(probs=p)` / `Categorical(logits=l)` (onehot False) or
    `OneHotCategorical(probs=p)` / `OneHotCategorical(logits=l)` (onehot True), keyword-only in
    torch; the parameter's last dim is the K categories and its other dims the batch. Its kind is
    the family's name, its event [] or [K], and `dist(i)` is the discrete.Categorical at the batch
    (+ outer event) index i."""
    KINDS = ("probs", "logits")

    def __init__(self, param, kind, onehot=False):
        assert kind in self.KINDS, kind
        self.param, self.kind, self.onehot = param, kind, onehot

    def name(self):
        return "OneHotCategorical" if self.onehot else "Categorical"

    def render(self):
        return f"{self.name()}({self.kind}={self.param.render()})"

    def params(self):
        return self.param.params()

    def gauss(self):
        t, kind, onehot = self.param.tensor(), self.kind, self.onehot
        K = t.shape[-1]
        return Gauss(t.shape[:-1], (K,) if onehot else (), self.name(),
                     dist=lambda i: discrete.Categorical(kind, [t.bat(i + (k,)) for k in range(K)], onehot))


def cat(name, values, kind):
    return Categorical(P(name, values), kind)


def onehot(name, values, kind):
    return Categorical(P(name, values), kind, onehot=True)


def clogits(r, sh):
    """Standard normal logits with 4 decimals."""
    return fill(sh, lambda: round(r.gauss(0, 1), 4))


def cprob_row(r, K):
    raw = [round(r.uniform(0.05, 1.0), 4) for _ in range(K)]
    s = math.fsum(raw)
    return [x / s for x in raw]


def cprobs(r, lead, K):
    """Rows of K normalised positive values rounded to f64 (their sum is within a few ulp of 1)."""
    return batched(r, lead, lambda rr: cprob_row(rr, K))


def cindex(r, sh, K):
    return fill(sh, lambda: r.randint(0, K - 1))


def conehot(r, lead, K):
    return batched(r, lead, lambda rr: (lambda k: [1.0 if j == k else 0.0 for j in range(K)])(rr.randint(0, K - 1)))


def nudge_logits(r, row, eps):
    """row + eps g with g standard normal, rounded to f64; the row itself for eps = 0."""
    return [x + eps * r.gauss(0, 1) for x in row] if eps else list(row)


def nudge_probs(r, row, eps):
    """row (1 + eps g) renormalised and rounded to f64; the row itself for eps = 0."""
    if not eps:
        return list(row)
    raw = [x * (1 + eps * r.gauss(0, 1)) for x in row]
    s = math.fsum(raw)
    return [x / s for x in raw]


def softmax_f64(row):
    m = max(row)
    e = [math.exp(x - m) for x in row]
    s = math.fsum(e)
    return [x / s for x in e]


def spread_rows(r, scales, K, center=0.0):
    """One row of K logits uniform in [center - s, center + s] (4 decimals) per scale s."""
    return [[round(r.uniform(center - s, center + s), 4) for _ in range(K)] for s in scales]


def mk_cat_near(K, epss, kind, one=False):
    """P's rows against the same rows nudged by each eps (0: the row itself, KL 0)."""
    def f(r):
        if kind == "logits":
            a = clogits(r, (len(epss), K))
            b = [nudge_logits(r, row, e) for row, e in zip(a, epss)]
            names = ("l1", "l2")
        else:
            a = cprobs(r, (len(epss),), K)
            b = [nudge_probs(r, row, e) for row, e in zip(a, epss)]
            names = ("p1", "p2")
        mk = onehot if one else cat
        return KL(mk(names[0], a, kind), mk(names[1], b, kind))
    return f


# Categorical KL: logits, probs, both mixes; K = 2 (also against the Bernoulli formulas), 5, 16, 64.
for K in (2, 5, 16, 64):
    suffix = "well" if K == 5 else f"k{K}"
    rows = 3 if K in (2, 64) else 2
    add(f"categorical_kl_logits_{suffix}", WC, lambda r, K=K, n=rows: KL(
        cat("l1", clogits(r, (n, K)), "logits"), cat("l2", clogits(r, (n, K)), "logits")))
    add(f"categorical_kl_probs_{suffix}", WC, lambda r, K=K, n=rows: KL(
        cat("p1", cprobs(r, (n,), K), "probs"), cat("p2", cprobs(r, (n,), K), "probs")))
add("categorical_kl_probs_vs_logits", WC, lambda r: KL(cat("p1", cprobs(r, (2,), 5), "probs"), cat("l2", clogits(r, (2, 5)), "logits")))
add("categorical_kl_logits_vs_probs", WC, lambda r: KL(cat("l1", clogits(r, (2, 16)), "logits"), cat("p2", cprobs(r, (2,), 16), "probs")))
add("categorical_kl_probs_vs_logits_k2", WC, lambda r: KL(cat("p1", cprobs(r, (3,), 2), "probs"), cat("l2", clogits(r, (3, 2)), "logits")))
add("categorical_kl_logits_vs_probs_k64", WC, lambda r: KL(cat("l1", clogits(r, (2, 64)), "logits"), cat("p2", cprobs(r, (2,), 64), "probs")))
# Batch broadcasting: [3, K] against [K], and probs [2, 1, K] against logits [3, K] (batch [2, 3]).
add("categorical_kl_broadcast", WC, lambda r: KL(cat("l1", clogits(r, (3, 5)), "logits"), cat("l2", clogits(r, (5,)), "logits")))
add("categorical_kl_broadcast_21", WC, lambda r: KL(cat("p1", cprobs(r, (2, 1), 5), "probs"), cat("l2", clogits(r, (3, 5)), "logits")))
# to_event(1): the KL summed over the last batch dim; probs [2, 3, 16] against [3, 16].
add("categorical_kl_to_event", WC, lambda r: KL(Indep(cat("l1", clogits(r, (2, 3, 5)), "logits"), 1),
                                                Indep(cat("l2", clogits(r, (2, 3, 5)), "logits"), 1)))
add("categorical_kl_to_event_probs", WC, lambda r: KL(Indep(cat("p1", cprobs(r, (2, 3), 16), "probs"), 1),
                                                      Indep(cat("p2", cprobs(r, (3,), 16), "probs"), 1)))
# OneHotCategorical: the same KL as the Categorical of its parameter, event [K].
add("onehot_kl_logits_well", WC, lambda r: KL(onehot("l1", clogits(r, (2, 5)), "logits"), onehot("l2", clogits(r, (2, 5)), "logits")))
add("onehot_kl_probs_well", WC, lambda r: KL(onehot("p1", cprobs(r, (2,), 16), "probs"), onehot("p2", cprobs(r, (2,), 16), "probs")))
add("onehot_kl_probs_vs_logits", WC, lambda r: KL(onehot("p1", cprobs(r, (3,), 2), "probs"), onehot("l2", clogits(r, (3, 2)), "logits")))
add("onehot_kl_logits_vs_probs", WC, lambda r: KL(onehot("l1", clogits(r, (2, 5)), "logits"), onehot("p2", cprobs(r, (2,), 5), "probs")))
add("onehot_kl_broadcast", WC, lambda r: KL(onehot("l1", clogits(r, (3, 5)), "logits"), onehot("l2", clogits(r, (5,)), "logits")))
add("onehot_kl_to_event", WC, lambda r: KL(Indep(onehot("l1", clogits(r, (2, 3, 5)), "logits"), 1),
                                           Indep(onehot("l2", clogits(r, (2, 3, 5)), "logits"), 1)))
# entropy
add("categorical_entropy_logits", WC, lambda r: Entropy(cat("l", clogits(r, (2, 5)), "logits")))
add("categorical_entropy_probs", WC, lambda r: Entropy(cat("p", cprobs(r, (3,), 16), "probs")))
add("categorical_entropy_k2", WC, lambda r: Entropy(cat("l", clogits(r, (3, 2)), "logits")))
add("categorical_entropy_probs_k2", WC, lambda r: Entropy(cat("p", cprobs(r, (3,), 2), "probs")))
add("categorical_entropy_k64", WC, lambda r: Entropy(cat("l", clogits(r, (2, 64)), "logits")))
add("categorical_entropy_to_event", WC, lambda r: Entropy(Indep(cat("l", clogits(r, (2, 3, 5)), "logits"), 1)))
add("onehot_entropy_logits", WC, lambda r: Entropy(onehot("l", clogits(r, (2, 5)), "logits")))
add("onehot_entropy_probs", WC, lambda r: Entropy(onehot("p", cprobs(r, (2,), 16), "probs")))
# log_prob: an index in [0, K) (as a float) of the batch shape or broadcast against it; a one-hot
# vector of shape [.., K].
add("categorical_log_prob_logits", WC, lambda r: LogProb(cat("l", clogits(r, (2, 5)), "logits"), P("x", cindex(r, (3, 2), 5))))
add("categorical_log_prob_probs", WC, lambda r: LogProb(cat("p", cprobs(r, (3,), 16), "probs"), P("x", cindex(r, (3,), 16))))
add("categorical_log_prob_k2", WC, lambda r: LogProb(cat("l", clogits(r, (4, 2)), "logits"), P("x", [0.0, 1.0, 1.0, 0.0])))
add("categorical_log_prob_broadcast", WC, lambda r: LogProb(cat("p", cprob_row(r, 5), "probs"), P("x", cindex(r, (2, 3), 5))))
add("onehot_log_prob_logits", WC, lambda r: LogProb(onehot("l", clogits(r, (2, 5)), "logits"), P("x", conehot(r, (3, 2), 5))))
add("onehot_log_prob_probs", WC, lambda r: LogProb(onehot("p", cprob_row(r, 16), "probs"), P("x", conehot(r, (4,), 16))))

# Near-equal: logits l + eps g (g standard normal): KL ~ Var_P(g) eps^2 / 2, down to ~1e-25 at
# eps = 1e-12; probs p (1 + eps g) renormalised: KL ~ Var_P(g) eps^2 / 2 likewise. A row with
# eps = 0 is P || P (exactly 0).
add("categorical_kl_logits_near_equal", NE, mk_cat_near(5, (1e-4, 1e-8, 1e-12, 0.0), "logits"))
add("categorical_kl_logits_near_equal_k2", NE, mk_cat_near(2, (1e-4, 1e-8, 1e-12, 0.0), "logits"))
add("categorical_kl_logits_near_equal_k64", NE, mk_cat_near(64, (1e-8, 1e-12, 0.0), "logits"))
add("categorical_kl_probs_near_equal", NE, mk_cat_near(5, (1e-6, 1e-9, 1e-12, 0.0), "probs"))
add("categorical_kl_probs_near_equal_k2", NE, mk_cat_near(2, (1e-6, 1e-9, 1e-12), "probs"))
add("categorical_kl_probs_near_equal_k16", NE, mk_cat_near(16, (1e-7, 1e-10, 1e-12), "probs"))
add("onehot_kl_logits_near_equal", NE, mk_cat_near(5, (1e-4, 1e-8, 0.0), "logits", one=True))
add("onehot_kl_probs_near_equal", NE, mk_cat_near(5, (1e-6, 1e-12, 0.0), "probs", one=True))
# P's probs the f64 softmax of Q's logits nudged by eps (its rounding adds ~1e-32).
add("categorical_kl_probs_vs_logits_near_equal", NE, lambda r: (lambda l: KL(
    cat("p1", [softmax_f64(nudge_logits(r, row, e)) for row, e in zip(l, (1e-4, 1e-6, 1e-8))], "probs"),
    cat("l2", l, "logits")))(clogits(r, (3, 5))))
# to_event(1) over [2, 3] rows of K = 5: the first three rows nudged by 1e-8, the next by 1e-12.
add("categorical_kl_to_event_near_equal", NE, lambda r: (lambda l: KL(
    Indep(cat("l1", l, "logits"), 1),
    Indep(cat("l2", [[nudge_logits(r, row, e) for row in blk] for blk, e in zip(l, (1e-8, 1e-12))], "logits"), 1)))(
    clogits(r, (2, 3, 5))))

# Extreme logits: rows spread over +-40, +-300, +-700; rows centred at +-40, +-300, +-700 (P at +c,
# Q at -c: the KL of the unshifted logits); K = 64 spread over +-40 and +-700.
add("categorical_kl_logits_extreme", XS, lambda r: KL(cat("l1", spread_rows(r, (40, 300, 700), 5), "logits"),
                                                      cat("l2", spread_rows(r, (40, 300, 700), 5), "logits")))
add("categorical_kl_logits_shifted", XS, lambda r: KL(
    cat("l1", [[round(c + r.gauss(0, 1), 4) for _ in range(5)] for c in (40.0, 300.0, 700.0)], "logits"),
    cat("l2", [[round(-c + r.gauss(0, 1), 4) for _ in range(5)] for c in (40.0, 300.0, 700.0)], "logits")))
add("categorical_kl_logits_extreme_k64", XS, lambda r: KL(cat("l1", spread_rows(r, (40, 700), 64), "logits"),
                                                          cat("l2", spread_rows(r, (40, 700), 64), "logits")))
# K = 2: [0, -1000] against [-1000, 0] and back (KL ~ 1000), Bernoulli(logits=40) against 38
# (1.86e-17) as [0, 40] vs [0, 38], -40 against -38 as [40, 0] vs [38, 0], and 40 vs 38 again as
# [700, 740] vs [-300, -262].
add("categorical_kl_logits_opposite_k2", XS, lambda r: KL(
    cat("l1", [[0.0, -1000.0], [-1000.0, 0.0], [0.0, 40.0], [40.0, 0.0], [700.0, 740.0]], "logits"),
    cat("l2", [[-1000.0, 0.0], [0.0, -1000.0], [0.0, 38.0], [38.0, 0.0], [-300.0, -262.0]], "logits")))
# K = 5: point masses within e^-1000 of one category (or two) against masses elsewhere: ~1000.
add("categorical_kl_logits_opposite", XS, lambda r: KL(
    cat("l1", [[0.0, -1000.0, -1000.0, -1000.0, -1000.0], [0.0, 0.0, -1000.0, -1000.0, -1000.0],
               [-1000.0, -1000.0, -1000.0, -1000.0, 0.0]], "logits"),
    cat("l2", [[-1000.0, 0.0, -1000.0, -1000.0, -1000.0], [-1000.0, -1000.0, -1000.0, 0.0, 0.0],
               [0.0, -1000.0, -1000.0, -1000.0, -1000.0]], "logits")))
# Peaked probs: 1e-300 entries and exact zeros in P (ln 5, ln 2.5), 1e-300 entries in Q (~551),
# zeros in Q where P > 0 ("inf", also at P(k) = 1e-300 / (1 + 1e-300)), a point mass against
# itself (0) and against itself with four 1e-300 entries (ln(1 + 4e-300) = 4e-300), and
# [1e-300, 1] against [1, 1e-300] (690.8).
add("categorical_kl_probs_peaked", XS, lambda r: KL(
    cat("p1", [[1.0, 1e-300, 1e-300, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.0], [0.2] * 5,
               [0.3, 0.3, 0.4, 0.0, 0.0], [1.0, 1e-300, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0],
               [0.0, 0.0, 1.0, 0.0, 0.0], [1e-300, 1.0, 0.0, 0.0, 0.0]], "probs"),
    cat("p2", [[0.2] * 5, [0.2] * 5, [1.0, 1e-300, 1e-300, 1e-300, 1e-300],
               [0.5, 0.5, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0],
               [1e-300, 1e-300, 1.0, 1e-300, 1e-300], [1.0, 1e-300, 0.0, 0.0, 0.0]], "probs")))
# K = 2 at the boundary (also against the Bernoulli point-mass formulas): "inf" twice, 690.8, 0,
# -ln 0.75.
add("categorical_kl_probs_boundary_k2", XS, lambda r: KL(
    cat("p1", [[1.0, 0.0], [0.5, 0.5], [1e-300, 1.0], [0.0, 1.0], [1.0, 0.0]], "probs"),
    cat("p2", [[0.0, 1.0], [1.0, 0.0], [1.0, 1e-300], [0.0, 1.0], [0.75, 0.25]], "probs")))
# ln 2, "inf", and ln(1 + 1e-300) = 1e-300 (Q's 1e-300 outside P's support).
add("onehot_kl_probs_peaked", XS, lambda r: KL(
    onehot("p1", [[1.0, 0.0, 0.0], [0.5, 0.25, 0.25], [0.0, 0.5, 0.5]], "probs"),
    onehot("p2", [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [1e-300, 0.5, 0.5]], "probs")))
# Entropy within e^-200 of a point mass (4 * 201 e^-200 = 1.1e-84), two categories at 700 (ln 2),
# three at 0 against -1000, rows spread over +-40 and +-300.
add("categorical_entropy_logits_extreme", XS, lambda r: Entropy(cat("l", [
    [0.0, -200.0, -200.0, -200.0, -200.0], [700.0, 700.0, -700.0, -700.0, -700.0],
    [-1000.0, 0.0, 0.0, 0.0, -1000.0]] + spread_rows(r, (40, 300), 5), "logits")))
# A point mass (0), 1e-300 beside it (6.9e-298), ln 2, ln 5.
add("categorical_entropy_probs_extreme", XS, lambda r: Entropy(cat("p", [
    [1.0, 0.0, 0.0, 0.0, 0.0], [1.0, 1e-300, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.0], [0.2] * 5], "probs")))
# -1000, -400, -260; no index of a ln P(k) that underflows (-4 e^-1000).
add("categorical_log_prob_logits_extreme", XS, lambda r: LogProb(cat("l", [
    [0.0, -1000.0, -1000.0, -1000.0, -1000.0], [700.0, -700.0, 300.0, -300.0, 40.0],
    [-40.0, 40.0, -300.0, 300.0, 0.0]], "logits"), P("x", [[1.0, 0.0, 3.0], [4.0, 2.0, 1.0]])))
# -ln(1 + 1e-300) = -1e-300, -2e-300, and ln(1e-300) - ln(1 + 1e-300) or (1 + 2e-300) (-690.8).
add("categorical_log_prob_probs_extreme", XS, lambda r: LogProb(
    cat("p", [[1.0, 1e-300, 0.0], [1e-300, 1e-300, 1.0]], "probs"), P("x", [[0.0, 2.0], [1.0, 0.0]])))
add("onehot_log_prob_extreme", XS, lambda r: LogProb(
    onehot("l", [[0.0, -1000.0, -1000.0, -1000.0, -1000.0], [700.0, 700.0, -700.0, -700.0, 0.0]], "logits"),
    P("x", [[[0.0, 1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]],
            [[0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]])))

# ==============================================================================================

def dump(cases):
    lines = ["{", f'  "generator": "tests/reference/generate.py",', f'  "dps": {DPS},', '  "cases": [']
    for n, c in enumerate(cases):
        fields = []
        for key in ("name", "expr", "data", "expected", "class", "cond"):
            fields.append(f'      {json.dumps(key)}: {json.dumps(c[key], allow_nan=False)}')
        lines.append("    {\n" + ",\n".join(fields) + "\n    }" + ("," if n + 1 < len(cases) else ""))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main():
    names = [n for n, _, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    out = [build_case(n, c, f) for n, c, f in CASES]
    text = dump(out)
    json.loads(text)  # must parse
    with open(OUT, "w") as fh:
        fh.write(text)
    by_class = {}
    for c in out:
        by_class[c["class"]] = by_class.get(c["class"], 0) + 1
    print(f"wrote {len(out)} cases to {os.path.relpath(OUT)}: {by_class}")


if __name__ == "__main__":
    main()
