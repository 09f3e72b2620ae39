"""References for the discrete families Bernoulli, Poisson and Geometric, by explicit summation
over the support; closed forms only as cross-checks. Binomial, and Categorical with
OneHotCategorical, have their own sections at the end of the file (their semantics, sums and
cross-checks are described there, and Categorical's also below).

Names, parameters and semantics follow torch.distributions:

  * `Bernoulli(probs=p)` or `Bernoulli(logits=l)` (keyword-only, exactly one): P(1) = p = sigmoid(l)
    on {0, 1};
  * `Poisson(rate)`: P(k) = rate^k e^-rate / k! on {0, 1, 2, ...};
  * `Geometric(probs=p)` or `Geometric(logits=l)` (keyword-only, exactly one): P(k) = (1 - p)^k p
    on {0, 1, 2, ...} (the failures before the first success), p = sigmoid(l), 0 < p <= 1.

Every value written to cases.json comes from the log pmf, evaluated in log space so that nothing
underflows or cancels at tiny or huge parameters (mpmath has no exponent range to speak of, but a
probability 1 - 1e-300 still rounds to 1):

  * Bernoulli, probs:  ln P(1) = ln p,                 ln P(0) = log1p(-p)   (-inf at p = 0, 1)
  * Bernoulli, logits: ln P(1) = -log1p(exp(-l)),      ln P(0) = -log1p(exp(l))
  * Poisson:           ln P(k) = k ln rate - rate - loggamma(k + 1)
  * Geometric, probs:  ln P(k) = ln p + k log1p(-p)   (k log1p(-p) = 0 at k = 0, -inf at p = 1
                                                       for k > 0: a point mass at 0)
  * Geometric, logits: ln P(k) = -log1p(exp(-l)) - k log1p(exp(l))

and the quantities from their definitions:

    log_prob(x) = ln P(x),   H(P) = -sum_x P(x) ln P(x),   KL(P || Q) = sum_x P(x) (ln P(x) - ln Q(x))

over the support of P (terms with P(x) = 0 are 0; P(x) > 0 where Q(x) = 0 makes the KL +inf).
A Poisson P is summed outwards from its mode, each way until a rigorous bound on the rest of the
tail is below TAIL_TOL (1e-70) times the partial sum (see `poisson_sum`). A Geometric P is summed
from 0 over blocks of doubling length, k < 1, 2, 4, .., N (see `geometric_sum`: the terms of
[N, 2N) are those of [0, N) times (1 - p)^N, with ln(P/Q) shifted by N times its slope, so that a
mean of e^40 takes 66 doublings instead of some 10^19 terms), until the same kind of bound on the
rest is below TAIL_TOL times the partial sum.

Cross-checks (on generate.py's DPS pass, with continuous.agree: 1e-25, and 1e-8 relative for
small nonzero values), each from a formula that the summation does not use:

  * Bernoulli KL: sigma(l1) (l1 - l2) + sp(l2) - sp(l1), sp(x) = ln(1 + e^x), with logits
    ln p - log1p(-p) for probs; a degenerate P (p = 0 or 1) gives -ln Q(x) at its atom, and a
    degenerate Q against a P strictly inside gives +inf;
  * Bernoulli entropy: sp(l) - l sigma(l) (0 for a degenerate P);
  * Poisson KL: r1 ln(r1 / r2) - r1 + r2;
  * Bernoulli || Poisson (torch's _kl_bernoulli_poisson): -H(P) - (p ln rate - rate), with the
    entropy above;
  * Geometric KL: ln(p1 / p2) + ((1 - p1) / p1) ln((1 - p1) / (1 - p2)), with p = sigmoid(l),
    1 - p = sigmoid(-l) and ln(1 - p) = ln(sigmoid(-l)) for logits, and the log of the ratio as
    log1p(-p1) - log1p(-p2) for probs (at p = 1e-300 the ratio rounds to 1); a point mass P
    (p1 = 1) gives -ln p2, a point mass Q against p1 < 1 gives +inf;
  * Geometric entropy: (-(1 - p) ln(1 - p) - p ln p) / p (0 at p = 1), ln(1 - p) as in the KL;
  * Geometric sums: the block-doubled partial sum over k < min(N, 1024) against the same terms
    added one by one, P(k) (ln P(k) - ln Q(k)) from the log pmfs (P(k) (-ln P(k)) for the entropy);
  * log_prob: the pmf evaluated directly, ln(1 / (1 + e^-l)), ln p, ln(rate^k e^-rate / k!),
    ln((1 - p)^k p), and the pmf summing to 1 over the support.

Categorical and OneHotCategorical (the `# ---- Categorical` section):

  * `Categorical(probs=p)` or `Categorical(logits=l)`, `OneHotCategorical(probs=p)` or
    `OneHotCategorical(logits=l)` (keyword-only, exactly one); the last dim of the parameter holds
    the K categories: batch shape = shape[:-1], event shape [] (an index k in [0, K), written as a
    float) or [K] (the one-hot vector e_k). P(k) = p_k / sum_j p_j (torch normalises the probs,
    and so does the reference, of the f64 values as given) or exp(l_k - lse(l));
  * in log space: ln P(k) = ln p_k - ln S, with S = sum_j p_j added exactly (EXACT_SUM_PREC bits)
    and ln S = log1p(S - 1), and ln P(k) = (l_k - m) - log1p(sum_{j != j*} exp(l_j - m)) for the
    largest logit m = l_{j*}; KL = sum_k P(k) (ln P(k) - ln Q(k)) (P(k) = 0 terms are 0,
    the log ratio with the two parts apart: ln(p_k / q_k) or (l1_k - m1) - (l2_k - m2), etc.,
    minus the difference of the log1p terms, see `log_ratio`;
    P(k) > 0 = Q(k) makes it +inf), H = -sum_k P(k) ln P(k), log_prob = ln P(k) (at the index, or
    at the 1 of the one-hot vector): finite sums over the K categories, with no tail;
  * cross-checks, CATEGORICAL_EXTRA (1000) digits above the working precision, from P(k) computed
    directly (p_k / S, e^(l_k) / sum_j e^(l_j)): the logits KL sum_k P(k) (l1_k - l2_k) - lse(l1)
    + lse(l2) with lse(l) = ln sum_j e^(l_j); any other KL sum_k P(k) ln P(k) - sum_k P(k) ln Q(k)
    with the logs of the directly computed ratios; the entropy lse(l) - sum_k P(k) l_k (logits) and
    ln S - sum_k P(k) ln p_k (probs); log_prob ln P(k); the pmf summing to 1; and for K = 2 the
    Bernoulli formulas above (KL, entropy, log pmf) at Bernoulli(logits = l_1 - l_0), with
    ln p_1 - ln p_0 for probs (a point mass where p_0 or p_1 is 0).
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


class Geometric:
    """One Geometric, with the parameter as given: kind "probs" or "logits". `lp0` = ln P(0) = ln p
    and `lr` = ln(1 - p), the log of the ratio P(k + 1) / P(k) (-inf for the point mass p = 1)."""

    def __init__(self, kind, v):
        assert kind in ("probs", "logits"), kind
        self.kind, self.v = kind, v
        if kind == "probs":
            assert 0 < v <= 1, v
            self.lp0, self.lr = mp.log(v), (mp.log1p(-v) if v < 1 else -mp.inf)
        else:
            self.lp0, self.lr = -mp.log1p(mp.exp(-v)), -mp.log1p(mp.exp(v))

    def log_pmf(self, k):
        if k < 0 or k != int(k):
            return -mp.inf
        return self.lp0 if k == 0 else self.lp0 + k * self.lr

    def __repr__(self):
        return f"Geometric({self.kind}={mp.nstr(self.v, 17)})"

    # -- for the cross-checks only --
    def prob(self):
        return self.v if self.kind == "probs" else sigmoid(self.v)

    def one_minus_prob(self):
        return 1 - self.v if self.kind == "probs" else sigmoid(-self.v)

    def log_one_minus_prob(self):
        """ln(1 - p): log1p(-p) for probs (1 - p rounds to 1 at p = 1e-300), ln(sigmoid(-l))."""
        return mp.log1p(-self.v) if self.kind == "probs" else mp.log(sigmoid(-self.v))


DIRECT_TERMS = 1024  # the block-doubled partial sum is checked against the terms one by one to here


def geometric_sum(p, a, b, h=None):
    """sum_k P(k) (a + b k) over the support of the Geometric p, for h(k) = a + b k (ln(P/Q) and
    -ln P are affine in k). The terms are added in blocks of doubling length: with S_N =
    sum_{k<N} P(k) h(k) and M_N = sum_{k<N} P(k), and P(k + N) = P(k) (1 - p)^N (the pmf),
    h(k + N) = h(k) + N b,

        S_2N = S_N + (1 - p)^N (S_N + N b M_N),   M_2N = M_N + (1 - p)^N M_N,

    exactly the finite sums (no series is summed in closed form). The rest is bounded as in
    `poisson_sum`: P(N + j) = P(N) rho^j, rho = 1 - p, and |h(N + j)| <= |h(N)| + j |b|, so
    sum_{k>=N} P(k) |h(k)| <= P(N) (|h(N)| / (1 - rho) + |b| rho / (1 - rho)^2); the doubling
    stops once that is at most TAIL_TOL times |S_N| (or is 0: h = 0 everywhere, P || P).
    On the checking pass, `h(k)` (the summand's log-pmf form) gives the terms one by one over
    k < min(N, DIRECT_TERMS), which must match the doubled partial sum there."""
    p0 = mp.exp(p.lp0)
    if p.lr == -mp.inf:  # the point mass at 0
        return p0 * a
    one_m_rho = -mp.expm1(p.lr)
    n, s, m = 1, p0 * a, p0
    partial = {1: s}
    while True:
        pn = mp.exp(p.lp0 + n * p.lr)
        bound = pn * (abs(a + n * b) / one_m_rho + abs(b) * (1 - one_m_rho) / one_m_rho ** 2)
        if bound <= TAIL_TOL * abs(s):
            break
        rn = mp.exp(n * p.lr)
        s, m = s + rn * (s + n * b * m), m + rn * m
        n *= 2
        partial[n] = s
    if h is not None and continuous.CHECKS["on"]:
        nc = min(n, DIRECT_TERMS)
        terms = [mp.exp(p.log_pmf(k)) * h(k) for k in range(nc)]
        direct = mp.fsum(terms)
        scale = mp.fsum(abs(t) for t in terms)
        assert abs(direct - partial[nc]) <= mpf("1e-45") * scale, \
            f"{p}: doubled partial sum {partial[nc]} vs the terms {direct} (k < {nc})"
    return s


# ---- the references: summation over the support ------------------------------------------------

def log_prob(d, x):
    """ln P(x) at a point x of the support (an exact f64 integer)."""
    if isinstance(d, Binomial):
        return binomial_log_prob(d, x)  # the Binomial section below
    if isinstance(d, Categorical):
        return categorical_log_prob(d, x)  # the Categorical section below
    assert x == int(x) and x >= 0 and (isinstance(d, (Poisson, Geometric)) or x in (0, 1)), (d, x)
    lp = d.log_pmf(int(x))
    if continuous.CHECKS["on"]:
        check_log_prob(d, int(x), lp)
    return lp


def entropy(d):
    if isinstance(d, Categorical):
        return categorical_entropy(d)  # the Categorical section below
    if isinstance(d, Geometric):
        # -ln P(k) = -ln p - k ln(1 - p)
        h = geometric_sum(d, -d.lp0, -d.lr, lambda k: -d.log_pmf(k))
        if continuous.CHECKS["on"]:
            check_normalised(d)
            continuous.agree(entropy_closed(d), h, f"{d}: entropy")
        return h
    assert isinstance(d, Bernoulli), "Poisson has no entropy in torch"
    h = -mp.fsum(mp.exp(d.lp[x]) * d.lp[x] for x in d.support if d.lp[x] != -mp.inf)
    if continuous.CHECKS["on"]:
        check_normalised(d)
        continuous.agree(entropy_closed(d), h, f"{d}: entropy")
    return h


def kl(p, q):
    if isinstance(p, Binomial):
        return binomial_kl(p, q)  # the Binomial section below
    if isinstance(p, Categorical):
        return categorical_kl(p, q)  # the Categorical section below
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
    elif isinstance(p, Geometric):
        assert isinstance(q, Geometric), (p, q)
        if q.lr == -mp.inf and p.lr != -mp.inf:
            s = mp.inf  # Q a point mass at 0, P(1) > 0 = Q(1)
        elif p.lr == -mp.inf:
            s = geometric_sum(p, p.lp0 - q.lp0, mpf(0))  # P a point mass at 0: the k = 0 term
        else:
            # ln P(k) - ln Q(k) = ln(p1/p2) + k ln((1 - p1)/(1 - p2)): affine in k.
            s = geometric_sum(p, p.lp0 - q.lp0, p.lr - q.lr, lambda k: p.log_pmf(k) - q.log_pmf(k))
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
    if isinstance(d, Geometric):
        p, q = d.prob(), d.one_minus_prob()
        return mpf(0) if q == 0 else (-q * d.log_one_minus_prob() - p * mp.log(p)) / p
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
    if isinstance(p, Geometric) and isinstance(q, Geometric):
        p1, c1, p2, c2 = p.prob(), p.one_minus_prob(), q.prob(), q.one_minus_prob()
        if c1 == 0:  # P a point mass at 0
            return -mp.log(p2)
        if c2 == 0:  # Q a point mass at 0 against P with mass beyond it
            return mp.inf
        return mp.log(p1 / p2) + (c1 / p1) * (p.log_one_minus_prob() - q.log_one_minus_prob())
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
    elif isinstance(d, Geometric):
        total = geometric_sum(d, mpf(1), mpf(0), lambda k: mpf(1))
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
    elif isinstance(d, Geometric):
        direct = mp.log(d.one_minus_prob() ** x * d.prob())
    else:
        direct = mp.log(d.rate ** x * mp.exp(-d.rate) / mp.factorial(x))
    continuous.agree(direct, lp, f"{d}: log_prob({x})")


# ---- Binomial ----------------------------------------------------------------------------------
#
# `Binomial(total_count, probs=p)` or `Binomial(total_count, logits=l)` (torch: total_count first,
# probs / logits keyword-only, exactly one): P(k) = C(n, k) p^k (1 - p)^(n - k) on {0, 1, .., n},
# n a non-negative integer (given as an f64), p = sigmoid(l), 0 < p < 1 here (no point masses).
# In log space, with ln p and ln(1 - p) as for Bernoulli (ln p, log1p(-p) for probs;
# -log1p(e^-l), -log1p(e^l) for logits) and the binomial coefficient from loggamma:
#
#     ln P(k) = [lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)] + [k ln p + (n - k) ln(1 - p)]
#
# The bracketed coefficient is the same mpf for two Binomials of the same n, so it cancels exactly
# in ln P(k) - ln Q(k). KL(P || Q) = sum_{k=0}^{n} P(k) (ln P(k) - ln Q(k)), summed from the mode
# outwards (`binomial_sum`); log_prob = ln P(k). torch's _kl_binomial_binomial raises for
# P.total_count < Q.total_count and gives +inf for P.total_count > Q.total_count: there
# P(n1) = p1^n1 > 0 = Q(n1), and the sum is +inf. No entropy (not asked for).
#
# Cross-checks (DPS pass): the KL against n KL(Bernoulli(p1) || Bernoulli(p2)) (kl_closed's
# Bernoulli formula) for equal counts, +inf for n1 > n2; for n <= BINOMIAL_DIRECT the truncated
# sum against all n + 1 terms added one by one; log_prob against ln(C(n, k) p^k (1 - p)^(n - k))
# evaluated directly (mp.binomial, at BINOMIAL_EXTRA more digits so that 1 - 1e-300 does not round
# to 1), and the pmf summing to 1.

BINOMIAL_DIRECT = 10000  # the truncated sum is checked against every term up to this total_count
BINOMIAL_EXTRA = 330     # extra digits for the direct pmf of the log_prob check


class Binomial:
    """One Binomial, total_count n and the parameter as given: kind "probs" or "logits". `l1` =
    ln p and `l0` = ln(1 - p)."""

    def __init__(self, kind, n, v):
        assert kind in ("probs", "logits"), kind
        assert n >= 0 and n == int(n), n
        self.kind, self.n, self.v = kind, int(n), v
        if kind == "probs":
            assert 0 < v < 1, v
            self.l1, self.l0 = mp.log(v), mp.log1p(-v)
        else:
            self.l1, self.l0 = -mp.log1p(mp.exp(-v)), -mp.log1p(mp.exp(v))

    def log_coef(self, k):
        """ln C(n, k), from loggamma (memoised per precision: P and Q share it)."""
        n = self.n
        return continuous.loggamma(n + 1) - continuous.loggamma(k + 1) - continuous.loggamma(n - k + 1)

    def log_pmf(self, k):
        if k < 0 or k > self.n or k != int(k):
            return -mp.inf
        k = int(k)
        return self.log_coef(k) + (k * self.l1 + (self.n - k) * self.l0)

    def __repr__(self):
        return f"Binomial({self.n}, {self.kind}={mp.nstr(self.v, 17)})"

    # -- for the cross-checks only --
    def bernoulli(self):
        return Bernoulli(self.kind, self.v)


def binomial_sum(p, h, slope):
    """sum_{k=0}^{n} P(k) h(k, ln P(k)) for the Binomial p, where |h(k ± j)| <= |h(k)| + j slope
    (h is affine in k, or constant). Summed from the mode floor((n + 1) p) upwards to n, then from
    the mode - 1 down to 0. The ratio P(k + 1) / P(k) = (n - k) / (k + 1) * p / (1 - p) falls as k
    grows, so past any k where it is rho < 1, P(k + j) <= P(k) rho^j; below, P(k - 1) / P(k) =
    k / (n - k + 1) * (1 - p) / p falls as k falls (s < 1 likewise). The rest of either side is then
    at most P(k) (|h(k)| rho / (1 - rho) + slope rho / (1 - rho)^2) (rho -> s), and each side stops
    once that is at most TAIL_TOL times the partial sum (or is 0, where every term is), or at the
    end of the support. On the checking pass, for n <= BINOMIAL_DIRECT, the result must match all
    n + 1 terms added one by one."""
    n = p.n
    odds = mp.exp(p.l1 - p.l0)  # p / (1 - p)
    terms = []
    acc = [mpf(0)]

    def term(k):
        lp = p.log_pmf(k)
        hk = h(k, lp)
        pk = mp.exp(lp)
        terms.append(pk * hk)
        acc[0] += terms[-1]
        return pk, abs(hk)

    def done(pk, hk, rho):
        return rho < 1 and pk * (hk * rho / (1 - rho) + slope * rho / (1 - rho) ** 2) <= TAIL_TOL * abs(acc[0])

    m = min(int(mp.floor((n + 1) * mp.exp(p.l1))), n)
    k = m
    while True:
        pk, hk = term(k)
        if k == n or done(pk, hk, (n - k) / mpf(k + 1) * odds):
            break
        k += 1
    k = m - 1
    while k >= 0:
        pk, hk = term(k)
        if k == 0 or done(pk, hk, k / mpf(n - k + 1) / odds):
            break
        k -= 1
    s = mp.fsum(terms)
    if continuous.CHECKS["on"] and n <= BINOMIAL_DIRECT and len(terms) < n + 1:
        every = [mp.exp(p.log_pmf(j)) * h(j, p.log_pmf(j)) for j in range(n + 1)]
        direct = mp.fsum(every)
        scale = mp.fsum(abs(t) for t in every)
        assert abs(direct - s) <= mpf("1e-45") * scale, \
            f"{p}: truncated sum {s} vs all {n + 1} terms {direct}"
    return s


def binomial_kl(p, q):
    assert isinstance(q, Binomial), (p, q)
    assert p.n >= q.n, f"{p} || {q}: torch raises for P.total_count < Q.total_count"
    if q.log_pmf(p.n) == -mp.inf:
        s = mp.inf  # P(n1) = p1^n1 > 0 = Q(n1): n1 > n2
    else:
        # ln P(k) - ln Q(k) = k (ln p1 - ln p2) + (n - k) (ln(1 - p1) - ln(1 - p2)): affine in k,
        # slope (l1 - l2) in the logits.
        slope = abs((p.l1 - p.l0) - (q.l1 - q.l0))
        s = binomial_sum(p, lambda k, lp: lp - q.log_pmf(k), slope)
    if continuous.CHECKS["on"]:
        closed = mp.inf if p.n > q.n else p.n * kl_closed(p.bernoulli(), q.bernoulli())
        if closed == mp.inf or s == mp.inf:
            assert closed == s == mp.inf, f"{p} || {q}: closed form {closed} vs sum {s}"
        else:
            continuous.agree(closed, s, f"{p} || {q}: KL")
    return s


def binomial_log_prob(d, x):
    assert x == int(x) and 0 <= x <= d.n, (d, x)
    k = int(x)
    lp = d.log_pmf(k)
    if continuous.CHECKS["on"]:
        key = (repr(d), mp.prec)
        if key not in NORMALISED:
            NORMALISED.add(key)
            continuous.agree(mpf(1), binomial_sum(d, lambda j, lq: mpf(1), 0), f"{d}: sum of the pmf")
        with mp.workdps(mp.dps + BINOMIAL_EXTRA):
            v = mpf(d.v)
            pr, qr = (v, 1 - v) if d.kind == "probs" else (1 / (1 + mp.exp(-v)), 1 / (1 + mp.exp(v)))
            direct = mp.log(mp.binomial(d.n, k) * pr ** k * qr ** (d.n - k))
        continuous.agree(direct, lp, f"{d}: log_prob({k})")
    return lp


# ---- Categorical and OneHotCategorical -----------------------------------------------------------
#
# `Categorical(probs=p)` / `Categorical(logits=l)` and `OneHotCategorical(probs=p)` /
# `OneHotCategorical(logits=l)` (keyword-only, exactly one): the last dim of the parameter holds
# the K categories (batch shape = its shape[:-1]); a Categorical's value is an index k in [0, K)
# (event shape []), a OneHotCategorical's the one-hot vector e_k (event shape [K]). Both put
#
#     P(k) = p_k / sum_j p_j   (probs: torch normalises, and so does this reference, exactly),
#     P(k) = exp(l_k - lse(l)) (logits),
#
# on category k, evaluated in log space (see `Categorical`): ln P(k) = ln p_k - ln S with the sum
# S = sum_j p_j of the f64 inputs added exactly and ln S = log1p(S - 1) (S is within a few ulp of
# 1, and 1 + 2e-300 must not round to 1), and ln P(k) = (l_k - m) - log1p(sum_{j != j*} e^(l_j - m))
# with m = l_{j*} the largest logit (so that e^-1000 beside 1 is not lost). In the KL the log ratio
# ln P(k) - ln Q(k) keeps the two parts apart: (ln(p_k / q_k) or (l1_k - m1) - (l2_k - m2), ..)
# minus the difference of the log1p terms (`log_ratio`), so that equal inputs cancel exactly and a
# normaliser 1 + 1e-300 still counts beside ln p_k = ln 0.5. Then
#
#     KL(P || Q) = sum_k P(k) (ln P(k) - ln Q(k)),   H(P) = -sum_k P(k) ln P(k),
#     log_prob(k) = ln P(k) (Categorical), log_prob(e_k) = ln P(k) (OneHotCategorical),
#
# a finite sum over the K categories (terms with P(k) = 0 are 0; P(k) > 0 = Q(k) makes the KL
# +inf). A OneHotCategorical has the same KL and entropy as the Categorical of its parameter.
#
# Cross-checks (DPS pass, continuous.agree), each evaluated CATEGORICAL_EXTRA digits above the
# working precision from the probabilities computed directly, p_k / S and e^(l_k) / sum_j e^(l_j)
# (no log-space shifts): the KL of two logits as sum_k P(k) (l1_k - l2_k) - lse(l1) + lse(l2),
# with lse(l) = ln sum_j e^(l_j); every other KL as sum_k P(k) ln P(k) - sum_k P(k) ln Q(k), the
# logs of the ratios P(k) = p_k / S, Q(k) (+inf where Q(k) = 0 < P(k)); the entropy as
# lse(l) - sum_k P(k) l_k (logits) and ln S - sum_k P(k) ln p_k (probs); log_prob as the log of
# the direct P(k); and the pmf summing to 1. For K = 2, the KL, entropy and log_prob must also
# agree with the Bernoulli formulas above (kl_closed, entropy_closed, Bernoulli.log_pmf) at
# Bernoulli(logits = l_1 - l_0) (ln p_1 - ln p_0 for probs; a point mass where p_0 or p_1 is 0).

CATEGORICAL_EXTRA = 1000  # extra digits for the direct probabilities of the cross-checks
EXACT_SUM_PREC = 2400     # bits: any sum of <= 64 f64 values (exponents -1074 .. 1023) is exact


class Categorical:
    """One Categorical (onehot False) or OneHotCategorical (onehot True) over the K = len(v)
    categories, with the parameter vector as given: kind "probs" or "logits". `lp[k]` = ln P(k)
    = x[k] - t, with x[k] = ln p_k and t = ln S = log1p(S - 1) (probs), x[k] = l_k - m and
    t = log1p(sum_{j != j*} e^(l_j - m)) (logits): the KL takes the two parts apart (`log_ratio`)."""

    def __init__(self, kind, v, onehot=False):
        assert kind in ("probs", "logits"), kind
        self.kind, self.v, self.onehot = kind, list(v), onehot
        assert len(self.v) >= 1
        if kind == "probs":
            assert all(x >= 0 for x in self.v) and any(x > 0 for x in self.v), self.v
            with mp.workprec(EXACT_SUM_PREC):
                d = mp.fsum(self.v) - 1  # exact: S - 1
            self.t = mp.log1p(+d)  # ln S, with S - 1 rounded to the working precision
            self.x = [mp.log(x) if x > 0 else -mp.inf for x in self.v]
        else:
            top = max(range(len(self.v)), key=lambda k: self.v[k])
            m = self.v[top]
            self.t = mp.log1p(mp.fsum(mp.exp(x - m) for k, x in enumerate(self.v) if k != top))
            self.x = [x - m for x in self.v]
        self.lp = [x - self.t for x in self.x]

    def __repr__(self):
        name = "OneHotCategorical" if self.onehot else "Categorical"
        return f"{name}({self.kind}=[{', '.join(mp.nstr(x, 17) for x in self.v)}])"

    # -- for the cross-checks only --
    def direct(self):
        """(P(k) for every k, ln of the normaliser) computed directly, at the current precision."""
        if self.kind == "probs":
            s = mp.fsum(self.v)
            return [x / s for x in self.v], mp.log(s)
        e = [mp.exp(x) for x in self.v]
        z = mp.fsum(e)
        return [x / z for x in e], mp.log(z)

    def bernoulli(self):
        """The Bernoulli on {0, 1} of a K = 2 Categorical: logits l_1 - l_0 (ln p_1 - ln p_0)."""
        assert len(self.v) == 2
        v0, v1 = self.v
        if self.kind == "logits":
            return Bernoulli("logits", v1 - v0)
        if v0 == 0 or v1 == 0:
            return Bernoulli("probs", mpf(1) if v0 == 0 else mpf(0))
        return Bernoulli("logits", mp.log(v1) - mp.log(v0))


def log_ratio(p, q, k):
    """ln P(k) - ln Q(k) = (x_P[k] - x_Q[k]) - (t_P - t_Q), with ln(p_k / q_k) for two probs: the
    parts apart, so that equal inputs cancel exactly and a normaliser of 1 + 1e-300 is not lost
    beside ln p_k (ln 0.5 - ln(0.5 / (1 + 1e-300)) is 1e-300, not 0)."""
    if p.kind == q.kind == "probs":
        dx = mp.log(p.v[k] / q.v[k])
    else:
        dx = p.x[k] - q.x[k]
    return dx - (p.t - q.t)


def categorical_kl(p, q):
    assert isinstance(q, Categorical) and q.onehot == p.onehot and len(q.v) == len(p.v), (p, q)
    terms = []
    for k, (lp, lq) in enumerate(zip(p.lp, q.lp)):
        if lp == -mp.inf:
            continue  # P(k) = 0: 0 ln(0 / Q(k)) = 0
        terms.append(mp.inf if lq == -mp.inf else mp.exp(lp) * log_ratio(p, q, k))
    s = mp.inf if mp.inf in terms else mp.fsum(terms)
    if continuous.CHECKS["on"]:
        check_categorical(p)
        check_categorical(q)
        closed = categorical_kl_closed(p, q)
        checks = [("closed form", closed)]
        if len(p.v) == 2:
            checks.append(("Bernoulli", kl_closed(p.bernoulli(), q.bernoulli())))
        for what, c in checks:
            if c == mp.inf or s == mp.inf:
                assert c == s == mp.inf, f"{p} || {q}: {what} {c} vs sum {s}"
            else:
                categorical_agree(c, s, f"{p} || {q}: KL ({what})")
    return s


def categorical_entropy(d):
    h = -mp.fsum(mp.exp(lp) * lp for lp in d.lp if lp != -mp.inf)
    if continuous.CHECKS["on"]:
        check_categorical(d)
        with mp.workdps(mp.dps + CATEGORICAL_EXTRA):
            P, ln_z = d.direct()
            if d.kind == "logits":
                closed = ln_z - mp.fsum(pk * x for pk, x in zip(P, d.v))
            else:
                closed = ln_z - mp.fsum(pk * mp.log(x) for pk, x in zip(P, d.v) if x > 0)
        categorical_agree(closed, h, f"{d}: entropy")
        if len(d.v) == 2:
            categorical_agree(entropy_closed(d.bernoulli()), h, f"{d}: entropy (Bernoulli)")
    return h


def categorical_log_prob(d, x):
    """ln P(k) at an index k (Categorical) or at the one-hot vector e_k (OneHotCategorical)."""
    K = len(d.v)
    if d.onehot:
        assert len(x) == K and all(v in (0, 1) for v in x) and sum(x) == 1, (d, x)
        k = [int(v) for v in x].index(1)
    else:
        assert x == int(x) and 0 <= x < K, (d, x)
        k = int(x)
    lp = d.lp[k]
    assert lp != -mp.inf, f"{d}: log_prob({k}) is -inf (not written to cases.json)"
    if continuous.CHECKS["on"]:
        check_categorical(d)
        with mp.workdps(mp.dps + CATEGORICAL_EXTRA):
            direct = mp.log(d.direct()[0][k])
        categorical_agree(direct, lp, f"{d}: log_prob({k})")
        if K == 2:
            categorical_agree(d.bernoulli().log_pmf(k), lp, f"{d}: log_prob({k}) (Bernoulli)")
    return lp


def categorical_kl_closed(p, q):
    with mp.workdps(mp.dps + CATEGORICAL_EXTRA):
        P, ln_zp = p.direct()
        if p.kind == q.kind == "logits":
            _, ln_zq = q.direct()
            return mp.fsum(pk * (a - b) for pk, a, b in zip(P, p.v, q.v)) - ln_zp + ln_zq
        Q, _ = q.direct()
        if any(pk > 0 and qk == 0 for pk, qk in zip(P, Q)):
            return mp.inf
        return (mp.fsum(pk * mp.log(pk) for pk in P if pk > 0)
                - mp.fsum(pk * mp.log(qk) for pk, qk in zip(P, Q) if pk > 0))


def categorical_agree(closed, s, what):
    """continuous.agree, and 1e-8 relative for every nonzero value, also below its 1e-40 (the
    sums leave no residue: a tiny value such as ln(1 + 1e-300) must be the value, not a zero)."""
    continuous.agree(closed, s, what)
    assert abs(s - closed) <= mpf("1e-8") * abs(closed), \
        f"{what}: closed form {mp.nstr(closed, 30)} vs sum {mp.nstr(s, 30)}"


def check_categorical(d):
    """The pmf sums to 1 (once per distribution and precision)."""
    key = (repr(d), mp.prec)
    if key in NORMALISED:
        return
    NORMALISED.add(key)
    continuous.agree(mpf(1), mp.fsum(mp.exp(lp) for lp in d.lp), f"{d}: sum of the pmf")
