"""References for the discrete families Bernoulli and Poisson, by explicit summation over the
support; closed forms only as cross-checks.

Names, parameters and semantics follow torch.distributions:

  * `Bernoulli(probs=p)` or `Bernoulli(logits=l)` (keyword-only, exactly one): P(1) = p = sigmoid(l)
    on {0, 1};
  * `Poisson(rate)`: P(k) = rate^k e^-rate / k! on {0, 1, 2, ...}.

Every value written to cases.json comes from the log pmf, evaluated in log space so that nothing
underflows or cancels at tiny or huge parameters (mpmath has no exponent range to speak of, but a
probability 1 - 1e-300 still rounds to 1):

  * Bernoulli, probs:  ln P(1) = ln p,                 ln P(0) = log1p(-p)   (-inf at p = 0, 1)
  * Bernoulli, logits: ln P(1) = -log1p(exp(-l)),      ln P(0) = -log1p(exp(l))
  * Poisson:           ln P(k) = k ln rate - rate - loggamma(k + 1)

and the quantities from their definitions:

    log_prob(x) = ln P(x),   H(P) = -sum_x P(x) ln P(x),   KL(P || Q) = sum_x P(x) (ln P(x) - ln Q(x))

over the support of P (terms with P(x) = 0 are 0; P(x) > 0 where Q(x) = 0 makes the KL +inf).
A Poisson P is summed outwards from its mode, each way until a rigorous bound on the rest of the
tail is below TAIL_TOL (1e-70) times the partial sum (see `poisson_sum`).

Cross-checks (on generate.py's DPS pass, with continuous.agree: 1e-25, and 1e-8 relative for
small nonzero values), each from a formula that the summation does not use:

  * Bernoulli KL: sigma(l1) (l1 - l2) + sp(l2) - sp(l1), sp(x) = ln(1 + e^x), with logits
    ln p - log1p(-p) for probs; a degenerate P (p = 0 or 1) gives -ln Q(x) at its atom, and a
    degenerate Q against a P strictly inside gives +inf;
  * Bernoulli entropy: sp(l) - l sigma(l) (0 for a degenerate P);
  * Poisson KL: r1 ln(r1 / r2) - r1 + r2;
  * Bernoulli || Poisson (torch's _kl_bernoulli_poisson): -H(P) - (p ln rate - rate), with the
    entropy above;
  * log_prob: the pmf evaluated directly, ln(1 / (1 + e^-l)), ln p, ln(rate^k e^-rate / k!), and
    the pmf summing to 1 over the support.
"""

from mpmath import mp, mpf

import continuous

TAIL_TOL = mpf("1e-70")


def sp(x):
    """softplus ln(1 + e^x), for either sign of x."""
    return x + mp.log1p(mp.exp(-x)) if x > 0 else mp.log1p(mp.exp(x))


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


class Bernoulli:
    """One Bernoulli, with the parameter as given: kind "probs" or "logits"."""
    support = (0, 1)

    def __init__(self, kind, v):
        assert kind in ("probs", "logits"), kind
        self.kind, self.v = kind, v
        if kind == "probs":
            assert 0 <= v <= 1, v
            self.lp = (mp.log1p(-v) if v < 1 else -mp.inf, mp.log(v) if v > 0 else -mp.inf)
        else:
            self.lp = (-mp.log1p(mp.exp(v)), -mp.log1p(mp.exp(-v)))

    def log_pmf(self, x):
        return self.lp[x] if x in (0, 1) else -mp.inf

    def __repr__(self):
        return f"Bernoulli({self.kind}={mp.nstr(self.v, 17)})"

    # -- for the cross-checks only --
    def degenerate(self):
        """The atom of a point mass (probs exactly 0 or 1), else None."""
        if self.kind == "probs" and self.v in (0, 1):
            return int(self.v)
        return None

    def logit(self):
        return self.v if self.kind == "logits" else mp.log(self.v) - mp.log1p(-self.v)

    def prob(self):
        return self.v if self.kind == "probs" else sigmoid(self.v)


class Poisson:
    def __init__(self, rate):
        assert rate > 0, rate
        self.rate = rate
        self.ln_rate = mp.log(rate)

    def log_pmf(self, k):
        if k < 0 or k != int(k):
            return -mp.inf
        return k * self.ln_rate - self.rate - mp.loggamma(k + 1)

    def __repr__(self):
        return f"Poisson({mp.nstr(self.rate, 17)})"


def poisson_sum(p, h, slope):
    """sum_k P(k) h(k) over the support of the Poisson p, where |h(k ± j)| <= |h(k)| + j slope
    (h is affine in k, or constant). Summed from the mode floor(rate) upwards, then from
    floor(rate) - 1 down to 0. Past the mode P(k + j) <= P(k) rho^j with rho = rate / (k + 1) < 1,
    and below it P(k - j) <= P(k) s^j with s = k / rate < 1, so the rest of either tail is at most
    P(k) (|h(k)| rho / (1 - rho) + slope rho / (1 - rho)^2) (rho -> s); each side stops once
    that bound is at most TAIL_TOL times the partial sum (or is 0, where every term is)."""
    r = p.rate
    terms = []
    acc = [mpf(0)]  # the running sum, for the stopping rule (the result is an fsum)

    def term(k):
        lp = p.log_pmf(k)
        hk = h(k, lp)
        pk = mp.exp(lp)
        terms.append(pk * hk)
        acc[0] += terms[-1]
        return pk, abs(hk)

    def rest(pk, hk, rho):
        return pk * (hk * rho / (1 - rho) + slope * rho / (1 - rho) ** 2)

    m = int(mp.floor(r))
    k = m
    while True:
        pk, hk = term(k)
        if rest(pk, hk, r / (k + 1)) <= TAIL_TOL * abs(acc[0]):
            break
        k += 1
    k = m - 1
    while k >= 0:
        pk, hk = term(k)
        if k == 0 or rest(pk, hk, k / r) <= TAIL_TOL * abs(acc[0]):
            break
        k -= 1
    return mp.fsum(terms)


# ---- the references: summation over the support ------------------------------------------------

def log_prob(d, x):
    """ln P(x) at a point x of the support (an exact f64 integer)."""
    assert x == int(x) and x >= 0 and (isinstance(d, Poisson) or x in (0, 1)), (d, x)
    lp = d.log_pmf(int(x))
    if continuous.CHECKS["on"]:
        check_log_prob(d, int(x), lp)
    return lp


def entropy(d):
    assert isinstance(d, Bernoulli), "Poisson has no entropy in torch"
    h = -mp.fsum(mp.exp(d.lp[x]) * d.lp[x] for x in d.support if d.lp[x] != -mp.inf)
    if continuous.CHECKS["on"]:
        check_normalised(d)
        continuous.agree(entropy_closed(d), h, f"{d}: entropy")
    return h


def kl(p, q):
    if isinstance(p, Bernoulli):
        terms = []
        for x in p.support:
            lp, lq = p.log_pmf(x), q.log_pmf(x)
            if lp == -mp.inf:
                continue  # P(x) = 0: 0 ln(0 / Q(x)) = 0
            if lq == -mp.inf:
                terms.append(mp.inf)  # P(x) > 0 = Q(x)
            else:
                terms.append(mp.exp(lp) * (lp - lq))
        s = mp.inf if mp.inf in terms else mp.fsum(terms)
    else:
        assert isinstance(q, Poisson), (p, q)
        # ln P(k) - ln Q(k) = k ln(r1/r2) - (r1 - r2): affine in k with slope ln(r1/r2).
        slope = abs(p.ln_rate - q.ln_rate)
        s = poisson_sum(p, lambda k, lp: lp - q.log_pmf(k), slope)
    if continuous.CHECKS["on"]:
        closed = kl_closed(p, q)
        if closed == mp.inf or s == mp.inf:
            assert closed == s == mp.inf, f"{p} || {q}: closed form {closed} vs sum {s}"
        else:
            continuous.agree(closed, s, f"{p} || {q}: KL")
    return s


# ---- cross-checks ----------------------------------------------------------------------------

def entropy_closed(d):
    if d.degenerate() is not None:
        return mpf(0)
    l = d.logit()
    return sp(l) - l * sigmoid(l)


def kl_closed(p, q):
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        a, b = p.degenerate(), q.degenerate()
        if a is not None:  # a point mass at a: -ln Q(a), from Q's own probability
            qa = q.prob() if a == 1 else 1 - q.prob()
            return mp.inf if qa == 0 else -mp.log(qa)
        if b is not None:  # P strictly inside puts mass where Q has none
            return mp.inf
        l1, l2 = p.logit(), q.logit()
        return sigmoid(l1) * (l1 - l2) + sp(l2) - sp(l1)
    if isinstance(p, Poisson) and isinstance(q, Poisson):
        r1, r2 = p.rate, q.rate
        return r1 * mp.log(r1 / r2) - r1 + r2
    assert isinstance(p, Bernoulli) and isinstance(q, Poisson), (p, q)
    # torch.distributions.kl._kl_bernoulli_poisson
    return -entropy_closed(p) - (p.prob() * q.ln_rate - q.rate)


NORMALISED = set()


def check_normalised(d):
    key = (repr(d), mp.prec)
    if key in NORMALISED:
        return
    NORMALISED.add(key)
    if isinstance(d, Bernoulli):
        total = mp.fsum(mp.exp(d.lp[x]) for x in d.support)
    else:
        total = poisson_sum(d, lambda k, lp: mpf(1), 0)
    continuous.agree(mpf(1), total, f"{d}: sum of the pmf")


def check_log_prob(d, x, lp):
    check_normalised(d)
    if isinstance(d, Bernoulli):
        if d.kind == "probs":
            direct = mp.log(d.v if x == 1 else 1 - d.v)
        else:
            direct = mp.log(1 / (1 + mp.exp(-d.v if x == 1 else d.v)))
    else:
        direct = mp.log(d.rate ** x * mp.exp(-d.rate) / mp.factorial(x))
    continuous.agree(direct, lp, f"{d}: log_prob({x})")
