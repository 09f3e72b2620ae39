"""Closed forms, and their quadrature cross-checks, for the continuous families beyond the
Gaussians: Gamma, Chi2, Beta, Dirichlet, Gumbel, Pareto, Uniform, StudentT, Weibull, VonMises,
ContinuousBernoulli; and
Normal, Laplace and Exponential for the cross-family pairs of torch's kl.py (generate.py keeps its
own models of those three for the pairs within a family).

Names, parameters (positional order) and semantics follow torch.distributions. Each family has

  * `log_prob(pt, *params)`: the textbook log density at a point `pt` (see `Pt`);
  * `entropy(*params)`: the textbook closed form;
  * `transform(*params)`: a change of variables x = g(t) under which P's density in t is smooth
    and its mass sits on a few unit-ish intervals, plus the split points for `mp.quad` (and, where
    a Q's `breaks` can fall inside P's support, t_of(x), the inverse of g);
  * `breaks(*params)`, for some: the points where the log density is not smooth (the ends of the
    support, Laplace's loc), at which an integral over P with this family as Q is split.

and `KL_PAIRS` maps (P family, Q family) to a closed form. The closed forms are the only values
written to cases.json; every one of them is checked against an independent integral built from
`log_prob` alone (never from the closed forms), in `check_kl` / `check_entropy`:

    KL(P || Q) = ∫ p ln(p/q) dx,   H(P) = -∫ p ln p dx,   ∫ p dx = 1   (the last checks log_prob)

with the two sides agreeing to 1e-25 (relative, or absolute below 1), as `check_by_quadrature` in
generate.py does for the Laplace family, and additionally to 1e-8 relative for tiny nonzero KLs.
Integrals run in mpmath at QUAD_DPS digits. Dirichlet is integrated over the simplex for K = 2
(1-D) and K = 3 (2-D); for every K its KL and entropy also go through a second closed-form route,
the stick-breaking (neutrality) decomposition into independent Beta variables.
"""

from mpmath import mp, mpf

QUAD_DPS = 32
# generate.py evaluates every case at DPS and again at 2*DPS; the formulas only need checking once.
CHECKS = {"on": True}
TOL = mpf("1e-25")


def agree(closed, num, what):
    """The closed form and the integral agree to 1e-25 (relative above 1, absolute below), and
    to 1e-8 relative when the value is small but not a rounding-residue zero."""
    ok = abs(num - closed) <= TOL * max(mpf(1), abs(closed))
    if abs(closed) > mpf("1e-40"):
        ok = ok and abs(num - closed) <= mpf("1e-8") * abs(closed)
    assert ok, f"{what}: closed form {mp.nstr(closed, 30)} vs quadrature {mp.nstr(num, 30)}"


def memo(f):
    """Cache a normaliser per (precision, arguments): quadrature calls log_prob thousands of
    times with the same parameters."""
    cache = {}

    def g(*args):
        key = (mp.prec,) + tuple(tuple(a) if isinstance(a, list) else a for a in args)
        if key not in cache:
            cache[key] = f(*args)
        return cache[key]
    return g


loggamma = memo(mp.loggamma)
log_i0 = memo(lambda k: mp.log(mp.besseli(0, k)))


@memo
def lnB(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def log_sigmoids(t):
    """(ln sigmoid(t), ln sigmoid(-t)) without cancellation for either sign of t."""
    u = mp.exp(-abs(t))
    l = -(mp.log1p(u) if u < mpf("0.01") else mp.log(1 + u))
    return (l, l - t) if t >= 0 else (l + t, l)


class Pt:
    """A point of the support with its logs computed without cancellation: x, ln x, ln(1 - x)
    (for the unit-interval families) or, for Dirichlet, the vector of ln x_k."""

    def __init__(self, x=None, lnx=None, ln1mx=None, lnxs=None):
        self.x, self.lnx, self.ln1mx, self.lnxs = x, lnx, ln1mx, lnxs

    @staticmethod
    def of(x):
        return Pt(x=x, lnx=mp.log(x) if x > 0 else None, ln1mx=mp.log1p(-x) if x < 1 else None)

    @staticmethod
    def of_vector(xs):
        return Pt(lnxs=[mp.log(x) for x in xs])


def spread(c, wl, wr, lo, hi, ks=(1, 4, 20, 100, 400)):
    """Split points around a centre c: multiples of the left / right widths, clipped to [lo, hi].
    The bounds are finite, where P's density in the integration variable has dropped below
    e^-700 of its peak: tanh-sinh on an infinite interval would evaluate e^(e^t) at t ~ 1e30
    on the double-exponential sides."""
    pts = {lo, hi, c}
    pts |= {c - wl * k for k in ks} | {c + wr * k for k in ks}
    return sorted(p for p in pts if lo <= p <= hi)




# ---- Gamma(concentration, rate) and Chi2(df) --------------------------------------------------

def logprob_gamma(pt, a, b):
    if pt.lnx is None:  # x <= 0 (a Uniform P reaching below 0)
        return -mp.inf
    return a * mp.log(b) + (a - 1) * pt.lnx - b * pt.x - loggamma(a)


def entropy_gamma(a, b):
    return a - mp.log(b) + mp.loggamma(a) + (1 - a) * mp.digamma(a)


def transform_gamma(a, b):
    # t = ln(b x): the density of t is e^(a t - e^t) / Gamma(a), with its mode at ln a.
    lnb = mp.log(b)

    def g(t):
        lnx = t - lnb
        return Pt(x=mp.exp(lnx), lnx=lnx), lnx
    # The density of t is log-concave: a Gaussian core of width 1/sqrt(a) for large a, an
    # exponential left tail of scale 1/a, a double-exponential right tail (y = e^t beyond
    # a + 50 sqrt(a) + 1000 holds less than e^-1000).
    c, core = mp.log(a), 1 / mp.sqrt(a)
    wl, wr = max(core, 1 / a), min(core, mpf(1))
    return spread(c, wl, wr, c - max(1000 / a, 50 * core), mp.log(a + 50 * mp.sqrt(a) + 1000)), g


def kl_gamma_gamma(a1, b1, a2, b2):
    # torch.distributions.kl._kl_gamma_gamma
    return ((a1 - a2) * mp.digamma(a1) - mp.loggamma(a1) + mp.loggamma(a2)
            + a2 * (mp.log(b1) - mp.log(b2)) + a1 * (b2 - b1) / b1)


def logprob_chi2(pt, k):
    # The chi-square density, written from its own textbook form rather than via Gamma.
    h = k / 2
    return -h * mp.log(2) - loggamma(h) + (h - 1) * pt.lnx - pt.x / 2


def entropy_chi2(k):
    h = k / 2
    return h + mp.log(2) + mp.loggamma(h) + (1 - h) * mp.digamma(h)


def transform_chi2(k):
    return transform_gamma(k / 2, mpf(1) / 2)


def kl_chi2_chi2(k1, k2):
    # Chi2(k) = Gamma(k/2, 1/2), and the rate terms cancel.
    return kl_gamma_gamma(k1 / 2, mpf(1) / 2, k2 / 2, mpf(1) / 2)


# ---- Beta(concentration1, concentration0) and Dirichlet(concentration) -----------------------

def logprob_beta(pt, a, b):
    if pt.lnx is None or pt.ln1mx is None:  # x outside (0, 1) (a Uniform P reaching out of it)
        return -mp.inf
    return (a - 1) * pt.lnx + (b - 1) * pt.ln1mx - lnB(a, b)


def entropy_beta(a, b):
    return lnB(a, b) - (a - 1) * mp.digamma(a) - (b - 1) * mp.digamma(b) + (a + b - 2) * mp.digamma(a + b)


def logit_points(a, b, ks=(1, 4, 20, 100, 400)):
    # In t = logit x the density is x^a (1-x)^b / B(a, b): log-concave, mode ln(a/b), tails
    # e^(a t) on the left and e^(-b t) on the right.
    c, core = mp.log(a / b), mp.sqrt(1 / a + 1 / b)
    return spread(c, max(core, 1 / a), max(core, 1 / b), c - max(50 * core, 1000 / a),
                  c + max(50 * core, 1000 / b), ks=ks)


def transform_beta(a, b):
    def g(t):
        lnx, ln1mx = log_sigmoids(t)
        return Pt(x=mp.exp(lnx), lnx=lnx, ln1mx=ln1mx), lnx + ln1mx

    def t_of(x):
        return -mp.inf if x <= 0 else mp.inf if x >= 1 else mp.log(x) - mp.log1p(-x)
    return logit_points(a, b), g, t_of


def kl_beta_beta(a1, b1, a2, b2):
    # torch.distributions.kl._kl_beta_beta
    return (lnB(a2, b2) - lnB(a1, b1) + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
            + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1))


@memo
def lnB_vec(c):
    return mp.fsum(mp.loggamma(x) for x in c) - mp.loggamma(mp.fsum(c))


def logprob_dirichlet(pt, c):
    return mp.fsum((ck - 1) * lx for ck, lx in zip(c, pt.lnxs)) - lnB_vec(c)


def tails(c):
    """S_j = c_j + ... + c_K: the stick-breaking parameters v_j ~ Beta(c_j, S_{j+1})."""
    s = [mpf(0)] * (len(c) + 1)
    for j in range(len(c) - 1, -1, -1):
        s[j] = s[j + 1] + c[j]
    return s


def entropy_dirichlet(c):
    c0, K = mp.fsum(c), len(c)
    closed = lnB_vec(c) + (c0 - K) * mp.digamma(c0) - mp.fsum((x - 1) * mp.digamma(x) for x in c)
    # Second route: x = stick-breaking(v) with v_j ~ Beta(c_j, S_{j+1}) independent, and
    # |dx/dv| = prod_j (1 - v_j)^(K-1-j) (j = 1 .. K-2), so H(x) = sum_j H(v_j) + E ln|dx/dv|,
    # with E ln(1 - v_j) = psi(S_{j+1}) - psi(S_j).
    if CHECKS["on"]:
        s = tails(c)
        route = mp.fsum(entropy_beta(c[j], s[j + 1]) for j in range(K - 1))
        route += mp.fsum((K - 2 - j) * (mp.digamma(s[j + 1]) - mp.digamma(s[j])) for j in range(K - 1))
        agree(closed, route, "Dirichlet entropy, stick-breaking route")
    return closed


def kl_dirichlet_dirichlet(c1, c2):
    # torch.distributions.kl._kl_dirichlet_dirichlet
    s1, s2 = mp.fsum(c1), mp.fsum(c2)
    closed = (mp.loggamma(s1) - mp.fsum(mp.loggamma(x) for x in c1) - mp.loggamma(s2)
              + mp.fsum(mp.loggamma(x) for x in c2)
              + mp.fsum((x - y) * (mp.digamma(x) - mp.digamma(s1)) for x, y in zip(c1, c2)))
    # Second route: KL is invariant under the stick-breaking bijection, under which both sides
    # are products of independent Betas, so KL = sum_j KL(Beta(c1_j, S1_{j+1}) || Beta(c2_j, S2_{j+1})).
    if CHECKS["on"]:
        t1, t2 = tails(c1), tails(c2)
        route = mp.fsum(kl_beta_beta(c1[j], t1[j + 1], c2[j], t2[j + 1]) for j in range(len(c1) - 1))
        agree(closed, route, "Dirichlet KL, stick-breaking route")
    return closed


def transform_dirichlet(c):
    """Stick-breaking in logits: x_1 = v_1, x_2 = (1 - v_1) v_2, ..., v_j = sigmoid(t_j), under
    which P is a product of Beta(c_j, S_{j+1}) densities, each log-concave in t_j; dx/dt is
    triangular with |dx/dt| = prod_j v_j (1 - v_j) * prod_{j < K-1} (1 - v_j)^(K-2-j). K = 2 is
    integrated in 1-D by mp.quad; K = 3 on a 2-D grid (see `Grid2`); K > 3 is not integrated."""
    K = len(c)
    if K > 3:
        return None
    s = tails(c)

    logs = {}  # the 2-D grid revisits each axis node 2N + 1 times

    def g(*ts):
        pairs = []
        for t in ts:
            if t not in logs:
                logs[t] = log_sigmoids(t)
            pairs.append(logs[t])
        lnxs, rest = [], mpf(0)
        for lv, l1mv in pairs:
            lnxs.append(rest + lv)
            rest += l1mv
        lnxs.append(rest)
        logjac = mp.fsum(lv + l1mv for lv, l1mv in pairs) + mp.fsum((K - 2 - j) * pairs[j][1] for j in range(K - 1))
        return Pt(lnxs=lnxs), logjac
    if K == 2:
        return logit_points(c[0], c[1]), g
    return Grid2([(c[j], s[j + 1]) for j in range(2)]), g


class Grid2:
    """A 2-D tensor trapezoid rule for the K = 3 Dirichlet, used instead of a 2-D mp.quad (which
    took 15-70 s per integral here). In each logit t_j = c_j + w_j sinh(u_j), centred on the mode
    of Beta(a_j, b_j) with w_j its core width, the integrand decays double-exponentially in u_j,
    and the trapezoid rule on u_j in [-U_j, U_j] converges geometrically. The grid is accurate to
    about 1e-30 for concentrations of 0.3 and above (the cases stay there), and `check_log_prob`
    proves it on each parameter set: the same grid must integrate the density to 1 within 1e-25.
    The integrand (the Dirichlet log_prob at the grid point, as in 1-D) is evaluated at every
    node; only each axis' coordinate logs are computed once per axis node."""
    N = 110  # nodes per half-axis

    def __init__(self, ab):
        self.axes = []
        for a, b in ab:
            assert a >= mpf("0.25") and b >= mpf("0.25"), "the K = 3 grid is sized for concentrations of about 0.3 and above"
            self.axes.append((mp.log(a / b), mp.sqrt(1 / a + 1 / b), 90 / min(a, b)))

    def integrate(self, f):
        nodes = []
        for c, w, reach in self.axes:
            U = mp.asinh(max(reach / w, mpf(15)))
            h = U / self.N
            nodes.append([(c + w * mp.sinh(i * h), mp.log(w * mp.cosh(i * h)) , h) for i in range(-self.N, self.N + 1)])
        total = []
        for t1, j1, h1 in nodes[0]:
            for t2, j2, h2 in nodes[1]:
                total.append(f(t1, t2, j1 + j2) * h1 * h2)
        return mp.fsum(total)


# ---- Gumbel(loc, scale) -----------------------------------------------------------------------

def logprob_gumbel(pt, m, s):
    z = (pt.x - m) / s
    return -mp.log(s) - z - mp.exp(-z)


def entropy_gumbel(m, s):
    return mp.log(s) + 1 + mp.euler


def transform_gumbel(m, s):
    # t = (x - m)/s: density e^(-t - e^-t), a double-exponential left tail and e^-t on the right.
    # Against Q with r = s/s_Q, p ln q weighs e^(-r t) and peaks at t = -ln(1 + r): the lower
    # bound -12 serves r up to about 100.
    def g(t):
        x = m + s * t
        return Pt(x=x), mp.log(s)
    return spread(mpf(0), mpf(1) / 4, mpf(1), mpf(-12), mpf(1000)), g


def kl_gumbel_gumbel(m1, s1, m2, s2):
    # torch.distributions.kl._kl_gumbel_gumbel: E[(x-m2)/s2] = (m1 + gamma s1 - m2)/s2 and
    # E[e^-(x-m2)/s2] = e^((m2-m1)/s2) Gamma(1 + s1/s2).
    r = s1 / s2
    return (-mp.log(r) - m2 / s2 + m1 / s2 + r * mp.euler + mp.exp(m2 / s2 + mp.loggamma(1 + r) - m1 / s2)
            - (1 + mp.euler))


# ---- Pareto(scale, alpha) and Uniform(low, high): supports that may not nest -----------------

def logprob_pareto(pt, s, a):
    if pt.lnx is None or pt.lnx < mp.log(s):
        return -mp.inf
    return mp.log(a) + a * mp.log(s) - (a + 1) * pt.lnx


def entropy_pareto(s, a):
    return mp.log(s / a) + 1 + 1 / a


def transform_pareto(s, a):
    # t = a ln(x/s) is Exponential(1) on [0, inf).
    lns = mp.log(s)

    def g(t):
        lnx = lns + t / a
        return Pt(x=mp.exp(lnx), lnx=lnx), lnx - mp.log(a)

    def t_of(x):
        return a * (mp.log(x) - lns)
    return spread(mpf(0), mpf(1), mpf(1), mpf(0), mpf(1000)), g, t_of


def breaks_pareto(s, a):
    return (s,)


def kl_pareto_pareto(s1, a1, s2, a2):
    # torch.distributions.kl._kl_pareto_pareto; infinite when P puts mass below Q's scale.
    if s1 < s2:
        return mp.inf
    return a2 * mp.log(s1 / s2) - mp.log(a2 / a1) + a2 / a1 - 1


def logprob_uniform(pt, lo, hi):
    # torch's support is [low, high); the closed interval here differs only at x = high, which no
    # case uses, and keeps the quadrature of P || P finite where x rounds onto high.
    if not (lo <= pt.x <= hi):
        return -mp.inf
    return -mp.log(hi - lo)


def entropy_uniform(lo, hi):
    return mp.log(hi - lo)


def transform_uniform(lo, hi):
    # t = logit((x - lo) / w): the density of t is the logistic sigmoid(t) sigmoid(-t), and the ends
    # of the interval move out to -inf and inf. Q's log density may be singular there (Gamma at 0,
    # Beta at 0 and 1, for an interval that touches them): p ln(p/q) stays integrable, and no node
    # sits on the singularity, as one would with x linear in t. x - lo = w sigmoid(t) and
    # 1 - x = (1 - hi) + w sigmoid(-t) keep ln x (lo = 0) and ln(1 - x) (hi = 1) exact near the ends.
    w = hi - lo
    lnw = mp.log(w)

    def g(t):
        lu, lv = log_sigmoids(t)
        x = lo + w * mp.exp(lu)
        y = (1 - hi) + w * mp.exp(lv)
        return Pt(x=x, lnx=mp.log(x) if x > 0 else None, ln1mx=mp.log(y) if y > 0 else None), lnw + lu + lv

    def t_of(x):
        u = (x - lo) / w
        return -mp.inf if u <= 0 else mp.inf if u >= 1 else mp.log(u) - mp.log1p(-u)
    return logit_points(mpf(1), mpf(1)), g, t_of


def breaks_uniform(lo, hi):
    return lo, hi


def kl_uniform_uniform(l1, h1, l2, h2):
    # torch.distributions.kl._kl_uniform_uniform
    if l2 > l1 or h2 < h1:
        return mp.inf
    return mp.log((h2 - l2) / (h1 - l1))


# ---- StudentT(df, loc=0, scale=1) -------------------------------------------------------------

def logprob_studentt(pt, v, m, s):
    z = (pt.x - m) / s
    return (loggamma((v + 1) / 2) - loggamma(v / 2) - mp.log(v * mp.pi) / 2 - mp.log(s)
            - (v + 1) / 2 * mp.log1p(z * z / v))


def entropy_studentt(v, m, s):
    # torch.distributions.StudentT.entropy
    return (mp.log(s) + (v + 1) / 2 * (mp.digamma((v + 1) / 2) - mp.digamma(v / 2)) + mp.log(v) / 2
            + lnB(v / 2, mpf(1) / 2))


def transform_studentt(v, m, s):
    # z = sqrt(v) sinh(u): the density of u is proportional to cosh(u)^-v, so the algebraic tails
    # of x become exponential tails of scale 1/v in u.
    w, cut = 1 / min(v, mp.sqrt(v)), max(1000 / v, 50 / mp.sqrt(v))

    def g(u):
        x = m + s * mp.sqrt(v) * mp.sinh(u)
        return Pt(x=x), mp.log(s) + mp.log(v) / 2 + mp.log(mp.cosh(u))
    return spread(mpf(0), w, w, -cut, cut), g


# ---- Weibull(scale, concentration) ------------------------------------------------------------

def logprob_weibull(pt, lam, k):
    lr = pt.lnx - mp.log(lam)
    return mp.log(k / lam) + (k - 1) * lr - mp.exp(k * lr)


def entropy_weibull(lam, k):
    # torch.distributions.Weibull.entropy
    return mp.euler * (1 - 1 / k) + mp.log(lam / k) + 1


def transform_weibull(lam, k):
    # u = k ln(x/lam): (x/lam)^k = e^u is Exponential(1), so u has density e^(u - e^u).
    # Against Q, p ln q weighs x^k_Q (e^(rho u) with rho = k_Q / k, or 1 / k for a Gamma Q), which
    # moves the peak to e^u = 1 + rho: the upper bound ln(1e7) serves rho up to about 1e4.
    lnlam = mp.log(lam)

    def g(u):
        lnx = lnlam + u / k
        return Pt(x=mp.exp(lnx), lnx=lnx), lnx - mp.log(k)
    return spread(mpf(0), mpf(1), mpf(1) / 4, mpf(-1000), mp.log(mpf(10) ** 7)), g


def kl_weibull_weibull(l1, k1, l2, k2):
    # C. Bauckhage, "Computing the Kullback-Leibler divergence between two Weibull
    # distributions", arXiv:1310.3713 (2013), eq. (12); from E[ln x] = ln l1 - gamma/k1,
    # E[(x/l1)^k1] = 1 and E[(x/l2)^k2] = (l1/l2)^k2 Gamma(1 + k2/k1).
    return (mp.log(k1) - k1 * mp.log(l1) - mp.log(k2) + k2 * mp.log(l2)
            + (k1 - k2) * (mp.log(l1) - mp.euler / k1) + mp.exp(k2 * mp.log(l1 / l2) + mp.loggamma(k2 / k1 + 1)) - 1)


def kl_weibull_gamma(l, k, a, b):
    # Derived here (torch has no such pair): KL = -H(P) - E_P[ln q] with, under the Weibull,
    # E[ln x] = ln l - gamma/k and E[x] = l Gamma(1 + 1/k):
    #   KL = -H_W(l, k) - a ln b + lnGamma(a) - (a - 1)(ln l - gamma/k) + b l Gamma(1 + 1/k).
    # Sanity: Weibull(l, 1) = Exponential(1/l) = Gamma(1, 1/l), and then KL = 0.
    return (-entropy_weibull(l, k) - a * mp.log(b) + mp.loggamma(a) - (a - 1) * (mp.log(l) - mp.euler / k)
            + b * l * mp.gamma(1 + 1 / k))


# ---- VonMises(loc, concentration) -------------------------------------------------------------

def logprob_vonmises(pt, m, kappa):
    return kappa * mp.cos(pt.x - m) - mp.log(2 * mp.pi) - log_i0(kappa)


def A_vonmises(kappa):
    """E[cos(x - m)] = I1(kappa) / I0(kappa) (Mardia & Jupp, Directional Statistics, 2000, §3.5.4)."""
    return mp.besseli(1, kappa) / mp.besseli(0, kappa)


def entropy_vonmises(m, kappa):
    return -kappa * A_vonmises(kappa) + mp.log(2 * mp.pi) + mp.log(mp.besseli(0, kappa))


def transform_vonmises(m, kappa):
    # t = x - m over one period [-pi, pi]; the density is e^(kappa cos t) / (2 pi I0(kappa)).
    w = min(mpf(1), 1 / mp.sqrt(kappa))

    def g(t):
        return Pt(x=m + t), mpf(0)
    return spread(mpf(0), w, w, lo=-mp.pi, hi=mp.pi, ks=(1, 4, 20, 100)), g


def kl_vonmises_vonmises(m1, k1, m2, k2):
    # E_P[ln p - ln q] = k1 A(k1) - ln I0(k1) - k2 E_P[cos(x - m2)] + ln I0(k2), and
    # E_P[cos(x - m2)] = A(k1) cos(m1 - m2) (the sine moment vanishes by symmetry), so
    #   KL = ln(I0(k2)/I0(k1)) + A(k1) (k1 - k2 cos(m1 - m2))
    # (e.g. Kitagawa & Rowley, "von Mises-Fisher distributions and their statistical divergence",
    # arXiv:2202.05192, 2022, the p = 2 case).
    return (mp.log(mp.besseli(0, k2)) - mp.log(mp.besseli(0, k1))
            + A_vonmises(k1) * (k1 - k2 * mp.cos(m1 - m2)))


# ---- Normal(loc, scale), Laplace(loc, scale), Exponential(rate) --------------------------------
# For the cross-family pairs only: generate.py's own models of these serve the pairs within each
# family (and meet these families' closed forms through its AS_FAMILY).

def shifted(m, s):
    """x = m + s t with every bit of s t kept, however far m is from 0 in units of s: log_prob's
    (x - m)/s then gives t back to working precision, not to |m|/s times that."""
    bits = max(0, mp.mag(m) - mp.mag(s)) + 10

    def x(t):
        with mp.workprec(mp.prec + bits):
            return m + s * t
    return x


def logprob_normal(pt, m, s):
    z = (pt.x - m) / s
    return -z * z / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2


def entropy_normal(m, s):
    return (1 + mp.log(2 * mp.pi)) / 2 + mp.log(s)


def transform_normal(m, s):
    # t = (x - m)/s: density e^(-t^2/2) / sqrt(2 pi). Against a Gumbel Q with r = s/s_Q, p ln q
    # weighs e^(-t^2/2 - r t), which peaks at t = -r: the bounds +-60 serve r up to about 20.
    x = shifted(m, s)

    def g(t):
        return Pt(x=x(t)), mp.log(s)

    def t_of(x):
        return (x - m) / s
    return spread(mpf(0), mpf(1), mpf(1), mpf(-60), mpf(60)), g, t_of


def logprob_laplace(pt, m, b):
    return -mp.log(2 * b) - abs(pt.x - m) / b


def entropy_laplace(m, b):
    return 1 + mp.log(2 * b)


def transform_laplace(m, b):
    # t = (x - m)/b: density e^-|t| / 2, with its kink at the centre.
    x = shifted(m, b)

    def g(t):
        return Pt(x=x(t)), mp.log(b)
    return spread(mpf(0), mpf(1), mpf(1), mpf(-1000), mpf(1000)), g


def breaks_laplace(m, b):
    return (m,)


def logprob_exponential(pt, r):
    if pt.x < 0:  # a Uniform P reaching below 0
        return -mp.inf
    return -mp.log(1 / r) - r * pt.x


def breaks_at_zero(*params):
    """Where Gamma's and Exponential's support starts (inside P's only for a Uniform P)."""
    return (mpf(0),)


def breaks_unit(*params):
    """Beta's support (inside P's only for a Uniform P)."""
    return mpf(0), mpf(1)


# ---- ContinuousBernoulli(probs | logits) ------------------------------------------------------
# torch.distributions.ContinuousBernoulli: density C(lam) lam^x (1 - lam)^(1 - x) on [0, 1] with
# C(lam) = 2 atanh(1 - 2 lam)/(1 - 2 lam). Its one parameter here is the logit l = ln(lam/(1 - lam))
# (generate.py's node turns probs into l at the working precision); in l, ln lam = ln sigmoid(l),
# ln(1 - lam) = ln sigmoid(-l) and C = l / tanh(l/2) (2 at l = 0). The closed forms are torch's
# (mean, variance, entropy, _kl_continuous_bernoulli_*) written in l; their terms cancel near
# l = 0 (1/(1 - e^-l) - 1/l) and at large |l| (terms of size |l|), so each is evaluated with as
# many extra bits as |l| has binary orders away from 1.

def cb_extra(*ls):
    """Extra working bits for the continuous Bernoulli closed forms at logits ls."""
    return 30 + 2 * max((abs(mp.mag(l)) for l in ls if l != 0), default=0)


def cb_logit_of_probs(p):
    """l = ln(lam/(1 - lam)) for a probs parameter."""
    with mp.workprec(mp.prec + 30):
        return +(mp.log(p) - mp.log1p(-p))


def cb_log_norm(l):
    """ln C(lam) = ln(2 atanh(1 - 2 lam)/(1 - 2 lam)) = ln(l / tanh(l/2))."""
    if l == 0:
        return mp.log(2)
    with mp.workprec(mp.prec + cb_extra(l)):
        return +mp.log(l / mp.tanh(l / 2))


def cb_mean(l):
    """torch's mean lam/(2 lam - 1) + 1/(ln(1 - lam) - ln lam) = 1/(1 - e^-l) - 1/l."""
    if l == 0:
        return mpf(1) / 2
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(1 / -mp.expm1(-l) - 1 / l)


def cb_variance(l):
    """torch's variance lam(lam - 1)/(1 - 2 lam)^2 + 1/(ln(1 - lam) - ln lam)^2
    = 1/l^2 - 1/(4 sinh^2(l/2))."""
    if l == 0:
        return mpf(1) / 12
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(1 / l ** 2 - 1 / (4 * mp.sinh(l / 2) ** 2))


@memo
def cb_logs(l):
    """(ln lam, ln(1 - lam), ln C) at logits l, with cb_extra bits."""
    with mp.workprec(mp.prec + cb_extra(l)):
        return log_sigmoids(l) + (cb_log_norm(l),)


def logprob_cb(pt, l):
    # torch: -BCE_with_logits(l, x) + ln C = x ln lam + (1 - x) ln(1 - lam) + ln C.
    if not (0 <= pt.x <= 1):  # a Uniform P reaching out of [0, 1]
        return -mp.inf
    ls1, ls0, lnc = cb_logs(l)
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(pt.x * ls1 + (1 - pt.x) * ls0 + lnc)


def entropy_cb(l):
    # torch: mean (ln(1 - lam) - ln lam) - ln C - ln(1 - lam), with ln(1 - lam) - ln lam = -l.
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(-cb_mean(l) * l - cb_log_norm(l) - log_sigmoids(l)[1])


def transform_cb(l):
    # The density is proportional to e^(l x): for |l| <= 1 nearly flat on [0, 1] (t = x); else
    # t = |l| x (l < 0) or |l| (1 - x) (l > 0), an exponential density cut at |l|.
    if abs(l) <= 1:
        def g(t):
            return Pt.of(t), mpf(0)
        return [mpf(0), mpf(1) / 2, mpf(1)], g, lambda x: x
    a = abs(l)

    def g(t):
        return Pt.of(t / a if l < 0 else 1 - t / a), -mp.log(a)

    def t_of(x):
        return a * x if l < 0 else a * (1 - x)
    return spread(mpf(0), mpf(1), mpf(1), mpf(0), a), g, t_of


def kl_cb_cb(l1, l2):
    # torch.distributions.kl._kl_continuous_bernoulli_continuous_bernoulli:
    # mean1 (l1 - l2) + ln C1 + ln(1 - lam1) - ln C2 - ln(1 - lam2).
    with mp.workprec(mp.prec + cb_extra(l1, l2)):
        return +(cb_mean(l1) * (l1 - l2) + cb_log_norm(l1) + log_sigmoids(l1)[1]
                 - cb_log_norm(l2) - log_sigmoids(l2)[1])


def minus_log_cb(mean, l):
    """-E_P[ln q] of a ContinuousBernoulli(l) Q for a P on [0, 1] with this mean."""
    return -(mean * l + log_sigmoids(l)[1] + cb_log_norm(l))


def kl_beta_cb(a, b, l):
    # torch.distributions.kl._kl_beta_continuous_bernoulli: -H(P) - mean l - ln(1 - lam) - ln C
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(-entropy_beta(a, b) + minus_log_cb(a / (a + b), l))


def kl_uniform_cb(lo, hi, l):
    # torch.distributions.kl._kl_uniform_continuous_bernoulli; infinite where P reaches out of
    # [0, 1] (torch also where it touches 0 or 1, a set of measure zero: finite here).
    if lo < 0 or hi > 1:
        return mp.inf
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(-mp.log(hi - lo) + minus_log_cb((lo + hi) / 2, l))


def kl_cb_exponential(l, r):
    # torch.distributions.kl._kl_continuous_bernoulli_exponential
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(-entropy_cb(l) - mp.log(r) + r * cb_mean(l))


def kl_cb_normal(l, m, s):
    # torch.distributions.kl._kl_continuous_bernoulli_normal
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(-entropy_cb(l) + half_log_2pi_var(s) + (cb_variance(l) + (cb_mean(l) - m) ** 2) / (2 * s * s))


def kl_cb_uniform(l, lo, hi):
    # torch.distributions.kl._kl_continuous_bernoulli_uniform; infinite unless Q covers [0, 1]
    # (torch also at low = 0 or high = 1 exactly: finite here).
    if lo > 0 or hi < 1:
        return mp.inf
    with mp.workprec(mp.prec + cb_extra(l)):
        return +(-entropy_cb(l) + mp.log(hi - lo))


# ---- Cross-family pairs: torch.distributions.kl._kl_<p>_<q> ------------------------------------
# Each is KL = -H(P) - E_P[ln q], where ln q is linear in a few statistics of x (x, x^2, ln x,
# ln(1 - x), |x - m|, e^(-x/s)) whose expectations under P are closed forms; the comments name the
# ones used. torch writes the same sums term by term; E[(x - m)^2] is written here as
# Var x + (E x - m)^2, which is the same number without the cancellation of E[x^2] - 2 m E x + m^2.
#
# Infinite KLs, as in torch (each decided on the parameters, as torch's masks are):
#   * supports that do not nest: Beta || Uniform unless low <= 0 and high >= 1; Uniform || Beta
#     unless 0 <= low and high <= 1; Uniform || Exponential and Uniform || Gamma where low < 0;
#     Uniform || Pareto where low < Q's scale. The measure-zero boundaries are finite: an interval
#     that only touches the end of Q's support (low = 0, high = 1, low = scale) leaves no P-mass
#     where q = 0. torch agrees there, except that its 0 ln 0 is NaN (Uniform || Beta at low = 0 or
#     high = 1, Uniform || Gamma at low = 0); the references take the limit 0.
#   * a moment of a Pareto P that E_P[ln q] needs diverges: E[x] for alpha <= 1 (Exponential and
#     Gamma Q), E[x^2] for alpha <= 2 (Normal Q), at the boundary alpha too.

def x_log_x(x):
    return mpf(0) if x == 0 else x * mp.log(x)


def mean_log_uniform(lo, hi):
    """E[ln x] for x ~ Uniform(lo, hi), 0 <= lo: (hi ln hi - lo ln lo) / (hi - lo) - 1."""
    return (x_log_x(hi) - x_log_x(lo)) / (hi - lo) - 1


def half_log_2pi_var(s):
    """-E[ln q] of a Normal(m, s) Q without its quadratic term: ln(sqrt(2 pi) s)."""
    return mp.log(2 * mp.pi * s * s) / 2


def kl_beta_exponential(a, b, r):
    # E[x] = a / (a + b)
    return -entropy_beta(a, b) - mp.log(r) + r * a / (a + b)


def kl_beta_gamma(a, b, a2, b2):
    # E[ln x] = psi(a) - psi(a + b), E[x] = a / (a + b)
    return (-entropy_beta(a, b) + mp.loggamma(a2) - a2 * mp.log(b2)
            - (a2 - 1) * (mp.digamma(a) - mp.digamma(a + b)) + b2 * a / (a + b))


def kl_beta_normal(a, b, m, s):
    # E[x] = a / (a + b), Var x = E[x] (1 - E[x]) / (a + b + 1)
    e = a / (a + b)
    return -entropy_beta(a, b) + half_log_2pi_var(s) + (e * (1 - e) / (a + b + 1) + (e - m) ** 2) / (2 * s * s)


def kl_beta_uniform(a, b, lo, hi):
    if lo > 0 or hi < 1:
        return mp.inf
    return -entropy_beta(a, b) + mp.log(hi - lo)


def kl_exponential_gumbel(r, m, s):
    # With z = (x - m)/s: E[z] = (1/r - m)/s, E[e^-z] = e^(m/s) r s / (r s + 1)
    rs = r * s
    return mp.log(rs) - 1 + 1 / rs - m / s + mp.exp(m / s) * rs / (rs + 1)


def kl_exponential_normal(r, m, s):
    # E[x] = 1/r, Var x = 1/r^2
    return -(1 - mp.log(r)) + half_log_2pi_var(s) + (1 / r ** 2 + (1 / r - m) ** 2) / (2 * s * s)


def kl_gamma_gumbel(a, b, m, s):
    # With z = (x - m)/s: E[z] = (a/b - m)/s, E[e^-z] = e^(m/s) (1 + 1/(b s))^-a
    bs = b * s
    return (-entropy_gamma(a, b) + mp.log(s) + a / bs - m / s + mp.exp(m / s - a * mp.log1p(1 / bs)))


def kl_gamma_normal(a, b, m, s):
    # E[x] = a/b, Var x = a/b^2
    return -entropy_gamma(a, b) + half_log_2pi_var(s) + (a / b ** 2 + (a / b - m) ** 2) / (2 * s * s)


def kl_gumbel_normal(m1, s1, m2, s2):
    # E[x] = m1 + gamma s1, Var x = pi^2 s1^2 / 6 (an early torch kl.py had pi s1 / (12 s2) where
    # pi^2 s1^2 / (12 s2^2) belongs)
    return (-entropy_gumbel(m1, s1) + half_log_2pi_var(s2)
            + (mp.pi ** 2 * s1 ** 2 / 6 + (m1 + mp.euler * s1 - m2) ** 2) / (2 * s2 * s2))


def kl_laplace_normal(m1, b, m2, s):
    # E[x] = m1, Var x = 2 b^2
    return -entropy_laplace(m1, b) + half_log_2pi_var(s) + (2 * b * b + (m1 - m2) ** 2) / (2 * s * s)


def kl_normal_gumbel(m1, s1, m2, s2):
    # z = (x - m2)/s2 is Normal(mu, v) with mu = (m1 - m2)/s2, v = (s1/s2)^2: E[e^-z] = e^(-mu + v/2)
    mu, v = (m1 - m2) / s2, (s1 / s2) ** 2
    return -entropy_normal(m1, s1) + mp.log(s2) + mu + mp.exp(-mu + v / 2)


def kl_normal_laplace(m1, s, m2, b):
    # The folded normal mean, d = m1 - m2: E|x - m2| = s sqrt(2/pi) e^(-d^2/(2 s^2)) + d erf(d/(s sqrt 2))
    # (an early torch kl.py ignored the locations: ln(sqrt(2/pi)) - 1/2 - ln(s/b) + sqrt(2/pi) s/b)
    d = m1 - m2
    e_abs = s * mp.sqrt(2 / mp.pi) * mp.exp(-(d / s) ** 2 / 2) + d * mp.erf(d / (s * mp.sqrt(2)))
    return -entropy_normal(m1, s) + mp.log(2 * b) + e_abs / b


def kl_pareto_exponential(s, a, r):
    if a <= 1:
        return mp.inf
    # E[x] = a s / (a - 1)
    return -entropy_pareto(s, a) - mp.log(r) + r * a * s / (a - 1)


def kl_pareto_gamma(s, a, a2, b2):
    if a <= 1:
        return mp.inf
    # E[ln x] = ln s + 1/a, E[x] = a s / (a - 1)
    return (-entropy_pareto(s, a) + mp.loggamma(a2) - a2 * mp.log(b2) - (a2 - 1) * (mp.log(s) + 1 / a)
            + b2 * a * s / (a - 1))


def kl_pareto_normal(s, a, m, sq):
    if a <= 2:
        return mp.inf
    # E[x] = a s / (a - 1), Var x = a s^2 / ((a - 1)^2 (a - 2))
    mean = a * s / (a - 1)
    return (-entropy_pareto(s, a) + half_log_2pi_var(sq)
            + (a * s * s / ((a - 1) ** 2 * (a - 2)) + (mean - m) ** 2) / (2 * sq * sq))


def kl_uniform_beta(lo, hi, a, b):
    if lo < 0 or hi > 1:
        return mp.inf
    # E[ln x] and E[ln(1 - x)], the latter as E[ln y] for y = 1 - x ~ Uniform(1 - hi, 1 - lo)
    return (-mp.log(hi - lo) - (a - 1) * mean_log_uniform(lo, hi) - (b - 1) * mean_log_uniform(1 - hi, 1 - lo)
            + lnB(a, b))


def kl_uniform_exponential(lo, hi, r):
    if lo < 0:
        return mp.inf
    return -mp.log(hi - lo) - mp.log(r) + r * (lo + hi) / 2


def kl_uniform_gamma(lo, hi, a, b):
    if lo < 0:
        return mp.inf
    return (-mp.log(hi - lo) + mp.loggamma(a) - a * mp.log(b) - (a - 1) * mean_log_uniform(lo, hi)
            + b * (lo + hi) / 2)


def kl_uniform_gumbel(lo, hi, m, s):
    # With z = (x - m)/s: E[z] = ((lo + hi)/2 - m)/s and E[e^-z] = s/w (e^-z_lo - e^-z_hi), written
    # as s/w e^-z_lo (1 - e^(-w/s)) for narrow intervals
    w = hi - lo
    return (mp.log(s / w) + ((lo + hi) / 2 - m) / s
            + s / w * mp.exp(-(lo - m) / s) * -mp.expm1(-w / s))


def kl_uniform_normal(lo, hi, m, s):
    # E[x] = (lo + hi)/2, Var x = w^2 / 12
    w = hi - lo
    return -mp.log(w) + half_log_2pi_var(s) + (w * w / 12 + ((lo + hi) / 2 - m) ** 2) / (2 * s * s)


def kl_uniform_pareto(lo, hi, s, a):
    if lo < s:
        return mp.inf
    return -mp.log(hi - lo) - mp.log(a) - a * mp.log(s) + (a + 1) * mean_log_uniform(lo, hi)


# ----------------------------------------------------------------------------------------------
# The registry and the quadrature checks
# ----------------------------------------------------------------------------------------------

class Family:
    def __init__(self, params, log_prob, entropy, transform, event_rank=0, defaults=(), breaks=None):
        self.params = params          # positional parameter names, as in torch.distributions
        self.defaults = defaults      # values of the trailing parameters that may be omitted
        self.log_prob = log_prob
        self.entropy = entropy
        self.transform = transform
        self.event_rank = event_rank  # 1 for Dirichlet: its concentration's last dim is the event
        self.breaks = breaks          # where the log density is not smooth (see the module docstring)


FAMILIES = {
    "Gamma": Family(("concentration", "rate"), logprob_gamma, entropy_gamma, transform_gamma,
                    breaks=breaks_at_zero),
    "Chi2": Family(("df",), logprob_chi2, entropy_chi2, transform_chi2),
    # Exponential(rate) = Gamma(1, rate) in the transform.
    "Exponential": Family(("rate",), logprob_exponential, lambda r: 1 - mp.log(r),
                          lambda r: transform_gamma(mpf(1), r), breaks=breaks_at_zero),
    "Normal": Family(("loc", "scale"), logprob_normal, entropy_normal, transform_normal),
    "Laplace": Family(("loc", "scale"), logprob_laplace, entropy_laplace, transform_laplace,
                      breaks=breaks_laplace),
    "Beta": Family(("concentration1", "concentration0"), logprob_beta, entropy_beta, transform_beta,
                   breaks=breaks_unit),
    "Dirichlet": Family(("concentration",), logprob_dirichlet, entropy_dirichlet, transform_dirichlet,
                        event_rank=1),
    "Gumbel": Family(("loc", "scale"), logprob_gumbel, entropy_gumbel, transform_gumbel),
    "Pareto": Family(("scale", "alpha"), logprob_pareto, entropy_pareto, transform_pareto,
                     breaks=breaks_pareto),
    "Uniform": Family(("low", "high"), logprob_uniform, entropy_uniform, transform_uniform,
                      breaks=breaks_uniform),
    "StudentT": Family(("df", "loc", "scale"), logprob_studentt, entropy_studentt, transform_studentt,
                       defaults=(0.0, 1.0)),
    "Weibull": Family(("scale", "concentration"), logprob_weibull, entropy_weibull, transform_weibull),
    "VonMises": Family(("loc", "concentration"), logprob_vonmises, entropy_vonmises, transform_vonmises),
    # Parameterized by its logit (see cb_logit_of_probs).
    "ContinuousBernoulli": Family(("logits",), logprob_cb, entropy_cb, transform_cb, breaks=breaks_unit),
}

KL_PAIRS = {
    ("Gamma", "Gamma"): kl_gamma_gamma,
    ("Chi2", "Chi2"): kl_chi2_chi2,
    ("Beta", "Beta"): kl_beta_beta,
    ("Dirichlet", "Dirichlet"): kl_dirichlet_dirichlet,
    ("Gumbel", "Gumbel"): kl_gumbel_gumbel,
    ("Pareto", "Pareto"): kl_pareto_pareto,
    ("Uniform", "Uniform"): kl_uniform_uniform,
    ("Weibull", "Weibull"): kl_weibull_weibull,
    ("Weibull", "Gamma"): kl_weibull_gamma,
    # Chi2(k) = Gamma(k/2, 1/2) on either side (torch: Chi2 is a Gamma).
    ("Chi2", "Gamma"): lambda k, a, b: kl_gamma_gamma(k / 2, mpf(1) / 2, a, b),
    ("Gamma", "Chi2"): lambda a, b, k: kl_gamma_gamma(a, b, k / 2, mpf(1) / 2),
    # torch.distributions.kl._kl_exponential_gamma and _kl_gamma_exponential (Exponential(r) =
    # Gamma(1, r)); Chi2 is a Gamma in torch, so it has both pairs with Exponential too.
    ("Exponential", "Gamma"): lambda r, a, b: (-a * mp.log(b / r) + b / r + mp.loggamma(a)
                                               + a * mp.euler - (1 + mp.euler)),
    ("Gamma", "Exponential"): lambda a, b, r: kl_gamma_gamma(a, b, mpf(1), r),
    ("Exponential", "Chi2"): lambda r, k: kl_gamma_gamma(mpf(1), r, k / 2, mpf(1) / 2),
    ("Chi2", "Exponential"): lambda k, r: kl_gamma_gamma(k / 2, mpf(1) / 2, mpf(1), r),
    ("VonMises", "VonMises"): kl_vonmises_vonmises,
    # The cross-family pairs that torch's kl.py gives a formula (it returns inf outright for the
    # others: supports that never nest, such as Normal || Gamma).
    ("Beta", "Exponential"): kl_beta_exponential,
    ("Beta", "Gamma"): kl_beta_gamma,
    ("Beta", "Normal"): kl_beta_normal,
    ("Beta", "Uniform"): kl_beta_uniform,
    ("Exponential", "Gumbel"): kl_exponential_gumbel,
    ("Exponential", "Normal"): kl_exponential_normal,
    ("Gamma", "Gumbel"): kl_gamma_gumbel,
    ("Gamma", "Normal"): kl_gamma_normal,
    ("Gumbel", "Normal"): kl_gumbel_normal,
    ("Laplace", "Normal"): kl_laplace_normal,
    ("Normal", "Gumbel"): kl_normal_gumbel,
    ("Normal", "Laplace"): kl_normal_laplace,
    ("Pareto", "Exponential"): kl_pareto_exponential,
    ("Pareto", "Gamma"): kl_pareto_gamma,
    ("Pareto", "Normal"): kl_pareto_normal,
    ("Uniform", "Beta"): kl_uniform_beta,
    ("Uniform", "Exponential"): kl_uniform_exponential,
    ("Uniform", "Gamma"): kl_uniform_gamma,
    ("Uniform", "Gumbel"): kl_uniform_gumbel,
    ("Uniform", "Normal"): kl_uniform_normal,
    ("Uniform", "Pareto"): kl_uniform_pareto,
    # ContinuousBernoulli, in its logit, and torch's pairs with it.
    ("ContinuousBernoulli", "ContinuousBernoulli"): kl_cb_cb,
    ("Beta", "ContinuousBernoulli"): kl_beta_cb,
    ("Uniform", "ContinuousBernoulli"): kl_uniform_cb,
    ("ContinuousBernoulli", "Exponential"): kl_cb_exponential,
    ("ContinuousBernoulli", "Normal"): kl_cb_normal,
    ("ContinuousBernoulli", "Uniform"): kl_cb_uniform,
}


def unpack(tr):
    pts, g = tr[0], tr[1]
    t_of = tr[2] if len(tr) > 2 else None
    return pts, g, t_of


def integrate(f, pts):
    """mp.quad over the split points (1-D), or the 2-D grid rule; f(*t) takes the extra log
    Jacobian of the grid's own substitution as a keyword."""
    with mp.workdps(QUAD_DPS):
        if isinstance(pts, Grid2):
            return pts.integrate(lambda t1, t2, lj: f(t1, t2, extra=lj))
        return mp.quad(f, pts)


NORMALISED = set()


def check_log_prob(name, p):
    """∫ p dx = 1 under P's change of variables (checks the normaliser of log_prob)."""
    key = (name, mp.prec) + tuple(tuple(a) if isinstance(a, list) else a for a in p)
    if key in NORMALISED:
        return
    NORMALISED.add(key)
    fam = FAMILIES[name]
    tr = fam.transform(*p)
    if tr is None:
        return
    pts, g, _ = unpack(tr)

    def f(*t, extra=0):
        pt, lj = g(*t)
        lj += extra
        return mp.exp(fam.log_prob(pt, *p) + lj)
    num = integrate(f, pts)
    agree(mpf(1), num, f"{name}{tuple(p)}: ∫ exp(log_prob)")


def check_entropy(name, p, closed):
    fam = FAMILIES[name]
    tr = fam.transform(*p)
    if tr is None:
        return
    pts, g, _ = unpack(tr)

    def f(*t, extra=0):
        pt, lj = g(*t)
        lj += extra
        lp = fam.log_prob(pt, *p)
        return -mp.exp(lp + lj) * lp
    agree(closed, integrate(f, pts), f"{name}{tuple(p)}: entropy")


def check_kl(pname, qname, p, q, closed):
    fp, fq = FAMILIES[pname], FAMILIES[qname]
    tr = fp.transform(*p)
    if tr is None:
        return
    pts, g, t_of = unpack(tr)
    if fq.breaks is not None and t_of is not None:
        # Split at Q's breaks as seen in P's variable. (A P without t_of has a support of its own
        # that no break of its Q's here cuts: 0 is where Gamma, Exponential and Weibull start.)
        extra = [t_of(b) for b in fq.breaks(*q)]
        pts = sorted(set(pts) | {t for t in extra if pts[0] < t < pts[-1]})

    def f(*t, extra=0):
        pt, lj = g(*t)
        lj += extra
        lp = fp.log_prob(pt, *p)
        return mp.exp(lp + lj) * (lp - fq.log_prob(pt, *q))
    what = f"{pname}{tuple(p)} || {qname}{tuple(q)}"
    if closed == mp.inf:
        # Infinite when P puts positive mass where q = 0 ...
        def outside(t):
            pt, lj = g(t)
            return mp.exp(fp.log_prob(pt, *p) + lj) if fq.log_prob(pt, *q) == -mp.inf else mpf(0)
        if integrate(outside, pts) > 0:
            return
        # ... or where E_P[-ln q] diverges (a Pareto P without the mean or variance that ln q
        # needs): then p ln(p/q) in P's variable does not decay at all, but stays at or above a
        # positive level from the last split point out to 10^3 times as far.
        with mp.workdps(QUAD_DPS):
            far = [f(pts[-1] * 10 ** k) for k in range(4)]
        assert far[0] > 0 and all(b >= a * (1 - TOL) for a, b in zip(far, far[1:])), \
            f"{what}: infinite KL, but no P-mass outside Q and p ln(p/q) decays: {far}"
        return
    agree(closed, integrate(f, pts), f"{what}: KL")


def kl(pname, qname, p, q):
    closed = KL_PAIRS[(pname, qname)](*p, *q)
    if CHECKS["on"]:
        check_kl(pname, qname, p, q, closed)
    return closed


def log_prob(name, pt, p):
    if CHECKS["on"]:
        check_log_prob(name, p)
    return FAMILIES[name].log_prob(pt, *p)


def entropy(name, p):
    closed = FAMILIES[name].entropy(*p)
    if CHECKS["on"]:
        check_log_prob(name, p)
        check_entropy(name, p, closed)
    return closed
