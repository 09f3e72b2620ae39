//! The discrete families with closed forms: `Bernoulli(probs | logits)` on `{0, 1}` and
//! `Poisson(rate)` on `{0, 1, 2, ..}`, as torch.distributions defines them.
//!
//! A Bernoulli's kernels take logits; a Bernoulli given by `probs` reaches them through
//! [`logit`], except for the KL of two Bernoullis both given by `probs`, which has its own
//! kernel ([`bernoulli_kl_probs`]) so that near-equal probabilities keep their gap exact. The
//! logits kernels work in log space without forming probabilities that underflow: at logits 40
//! against 38, where `p` and `q` round to 1, the KL is `1.87e-17` to full accuracy (torch's
//! probability form gives 46% off there).
//!
//! Every kernel is elementwise and generic over [`Real`]. The checked entry points validate
//! first: `probs` in `[0, 1]`, `logits` finite, `rate > 0`, a `log_prob` value 0 or 1
//! (Bernoulli) or a non-negative integer (Poisson).

use crate::error::Violation;
use crate::param::expm1mx;
use crate::real::Real;
use crate::scalar::{ln_ratio, log1pmx, ratio_excess};
use crate::special::{digamma, fast, lgamma};

/// `ln(1 + e^x)` without overflow or underflow.
#[inline]
pub(crate) fn softplus<T: Real>(x: T) -> T {
    x.max(T::ZERO) + (-x.abs()).exp().ln_1p()
}

/// `1/(1 + e^(−x))`, from whichever side keeps it accurate.
#[inline]
pub(crate) fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::ZERO {
        ((-x).exp() + T::ONE).recip()
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}

/// `ln(p/(1 − p))`: the logits of a probability (`±∞` at 0 and 1).
///
/// ```
/// use kl_runtime::logit;
/// assert_eq!(logit(0.5_f64), 0.0);
/// assert_eq!(logit(0.0_f64), f64::NEG_INFINITY);
/// ```
#[inline]
pub fn logit<T: Real>(p: T) -> T {
    p.ln() - (-p).ln_1p()
}

/// `KL(Bernoulli(p1) ‖ Bernoulli(p2)) = p1 ln(p1/p2) + (1 − p1) ln((1 − p1)/(1 − p2))`, from the
/// exact gap `u = p2 − p1` as `−p1 log1pmx(u/p1) − (1 − p1) log1pmx(−u/(1 − p1))`: two
/// non-negative terms, exactly 0 at `p1 = p2`. `+∞` where `p2` is 0 or 1 and `p1` is not.
///
/// ```
/// use kl_runtime::bernoulli_kl_probs;
/// let kl = bernoulli_kl_probs(0.3_f64, 0.6);
/// assert!((kl - (0.3 * 0.5_f64.ln() + 0.7 * (0.7_f64 / 0.4).ln())).abs() < 1e-15);
/// assert_eq!(bernoulli_kl_probs(0.3_f64, 0.3), 0.0);
/// assert_eq!(bernoulli_kl_probs(0.3_f64, 1.0), f64::INFINITY);
/// ```
#[inline]
pub fn bernoulli_kl_probs<T: Real>(p1: T, p2: T) -> T {
    if p1 == T::ZERO {
        return T::ZERO - (-p2).ln_1p();
    }
    if p1 == T::ONE {
        return T::ZERO - p2.ln();
    }
    let u = p2 - p1;
    let q1 = T::ONE - p1;
    T::ZERO - p1 * log1pmx(u / p1) - q1 * log1pmx(-u / q1)
}

/// `∂/∂(p1, p2)` of [`bernoulli_kl_probs`]: `ln(1 − u/(1 − p1)) − ln(1 + u/p1)` and
/// `u/(p2(1 − p2))`; 0 where the value is `+∞`.
pub fn bernoulli_kl_probs_grad<T: Real>(p1: T, p2: T) -> [T; 2] {
    if bernoulli_kl_probs(p1, p2) == T::INFINITY {
        return [T::ZERO; 2];
    }
    let u = p2 - p1;
    if p1 == T::ZERO || p1 == T::ONE {
        // KL(0 ‖ p2) = −ln(1 − p2) and KL(1 ‖ p2) = −ln p2, also where p2 is that same end (no
        // 0/0). The one-sided derivative in p1 is infinite at the ends: towards the inside when
        // p2 is inside, from the infinite side when p2 sits at p1's end.
        let d2 = if p1 == T::ZERO { (T::ONE - p2).recip() } else { -p2.recip() };
        let inward = if p1 == T::ZERO { -T::INFINITY } else { T::INFINITY };
        let d1 = if p2 == p1 { -inward } else { inward };
        return [d1, d2];
    }
    let d2 = u / (p2 * (T::ONE - p2));
    [(-u / (T::ONE - p1)).ln_1p() - (u / p1).ln_1p(), d2]
}

/// `KL` of two Bernoullis given by logits `l1`, `l2`: the Bregman divergence of the softplus,
/// `sp(l2) − sp(l1) − σ(l1)(l2 − l1)`. Mirrored to `l1 <= 0` (the KL of the complements is the
/// same), so that `σ(l1) <= ½`; near `h = l2 − l1 = 0` as
/// `log1pmx(σ1 expm1(h)) + σ1 expm1mx(h)` (second order, exactly 0 at `h = 0`), else from the
/// softplus directly. `+∞` where `l2` is infinite and `l1` is not `l2`.
///
/// ```
/// use kl_runtime::bernoulli_kl_logits;
/// // Logits 40 against 38: 1.87e-17 (p and q both round to 1).
/// let kl = bernoulli_kl_logits(40.0_f64, 38.0);
/// let s = 1.0 / (1.0 + 40.0_f64.exp());
/// assert!((kl - s * (2.0_f64.exp() - 3.0)).abs() < 1e-3 * kl);
/// assert_eq!(bernoulli_kl_logits(1.5_f64, 1.5), 0.0);
/// ```
///
/// For `f32` (finite logits, as the checked entry points guarantee), a branch-free `f64`
/// evaluation of the same two forms, so that the loops calling it vectorize.
#[inline(always)]
pub fn bernoulli_kl_logits<T: Real>(l1: T, l2: T) -> T {
    if fast::wide::<T>() {
        return T::from_f64(fast::bernoulli_kl_logits(l1.to_f64(), l2.to_f64()));
    }
    bernoulli_kl_logits_careful(l1, l2)
}

/// [`bernoulli_kl_logits`] for any logits, infinite ones included (the `probs` kernels reach
/// it with `logit(0) = −∞`).
#[inline]
fn bernoulli_kl_logits_careful<T: Real>(l1: T, l2: T) -> T {
    let (l1, l2) = if l1 > T::ZERO { (-l1, -l2) } else { (l1, l2) };
    if l1 == -T::INFINITY {
        // P is the point mass at 0: −ln(1 − q).
        return softplus(l2);
    }
    if !l2.is_finite() {
        return T::INFINITY;
    }
    let h = l2 - l1;
    let s1 = sigmoid(l1);
    if h.abs() < T::ONE {
        log1pmx(s1 * h.exp_m1()) + s1 * expm1mx(h)
    } else {
        (softplus(l2) - softplus(l1)) - s1 * h
    }
}

/// `∂/∂(l1, l2)` of [`bernoulli_kl_logits`]: `−σ1(1 − σ1)h` and `σ2 − σ1`, the latter near
/// `h = 0` as `σ1(1 − σ1) expm1(h)/(1 + σ1 expm1(h))`; both exactly 0 at `l1 = l2`.
pub fn bernoulli_kl_logits_grad<T: Real>(l1: T, l2: T) -> [T; 2] {
    let flip = l1 > T::ZERO;
    let (a, b) = if flip { (-l1, -l2) } else { (l1, l2) };
    if bernoulli_kl_logits_careful(a, b) == T::INFINITY {
        return [T::ZERO; 2];
    }
    let (d1, d2) = if a == -T::INFINITY {
        (T::ZERO, sigmoid(b))
    } else {
        let h = b - a;
        let s1 = sigmoid(a);
        let v = s1 * (T::ONE - s1);
        let d2 = if h.abs() < T::ONE {
            let e = h.exp_m1();
            v * e / (T::ONE + s1 * e)
        } else {
            sigmoid(b) - s1
        };
        (T::ZERO - v * h, d2)
    };
    if flip {
        [T::ZERO - d1, T::ZERO - d2]
    } else {
        [d1, d2]
    }
}

/// `KL(Bernoulli(probs = p1) ‖ Bernoulli(logits = l2))`: [`bernoulli_kl_logits`] at
/// `logit(p1)`.
#[inline]
pub fn bernoulli_kl_probs_logits<T: Real>(p1: T, l2: T) -> T {
    bernoulli_kl_logits_careful(logit(p1), l2)
}

/// `∂/∂(p1, l2)` of [`bernoulli_kl_probs_logits`]: the logits' partials, the first times
/// `1/(p1(1 − p1))`; at `p1` = 0 or 1 the one-sided `∓∞` (`ln(p1/q) − ln((1 − p1)/(1 − q))`).
pub fn bernoulli_kl_probs_logits_grad<T: Real>(p1: T, l2: T) -> [T; 2] {
    let [d1, d2] = bernoulli_kl_logits_grad(logit(p1), l2);
    if p1 == T::ZERO {
        return [-T::INFINITY, d2];
    }
    if p1 == T::ONE {
        return [T::INFINITY, d2];
    }
    [d1 / (p1 * (T::ONE - p1)), d2]
}

/// `KL(Bernoulli(logits = l1) ‖ Bernoulli(probs = p2))`: [`bernoulli_kl_logits`] at
/// `logit(p2)` (`+∞` where `p2` is 0 or 1).
#[inline]
pub fn bernoulli_kl_logits_probs<T: Real>(l1: T, p2: T) -> T {
    bernoulli_kl_logits_careful(l1, logit(p2))
}

/// `∂/∂(l1, p2)` of [`bernoulli_kl_logits_probs`]: the second logit partial times
/// `1/(p2(1 − p2))`; 0 where the value is `+∞`.
pub fn bernoulli_kl_logits_probs_grad<T: Real>(l1: T, p2: T) -> [T; 2] {
    let [d1, d2] = bernoulli_kl_logits_grad(l1, logit(p2));
    if p2 == T::ZERO || p2 == T::ONE {
        return [d1, T::ZERO];
    }
    [d1, d2 / (p2 * (T::ONE - p2))]
}

/// `ln p(x)` of `Bernoulli(probs = p)` at `x` in `{0, 1}`: `ln p` at 1, `ln(1 − p)` at 0.
#[inline]
pub fn bernoulli_log_prob_probs<T: Real>(x: T, probs: T) -> T {
    if x == T::ONE {
        probs.ln()
    } else if x == T::ZERO {
        (-probs).ln_1p()
    } else {
        x * probs.ln() + (T::ONE - x) * (-probs).ln_1p()
    }
}

/// `∂/∂(x, p)` of [`bernoulli_log_prob_probs`] (through `x ln p + (1 − x) ln(1 − p)`):
/// `logit(p)`, `x/p − (1 − x)/(1 − p)`.
pub fn bernoulli_log_prob_probs_grad<T: Real>(x: T, probs: T) -> [T; 2] {
    let dp = if x == T::ONE {
        probs.recip()
    } else if x == T::ZERO {
        T::ZERO - (T::ONE - probs).recip()
    } else {
        x / probs - (T::ONE - x) / (T::ONE - probs)
    };
    [logit(probs), dp]
}

/// Entropy of `Bernoulli(probs = p)`: `−p ln p − (1 − p) ln(1 − p)` (0 at the ends).
#[inline]
pub fn bernoulli_entropy_probs<T: Real>(probs: T) -> T {
    let p = probs;
    let a = if p == T::ZERO { T::ZERO } else { p * p.ln() };
    let b = if p == T::ONE { T::ZERO } else { (T::ONE - p) * (-p).ln_1p() };
    T::ZERO - a - b
}

/// `∂/∂p` of [`bernoulli_entropy_probs`]: `−logit(p)` (`±∞` at the ends).
pub fn bernoulli_entropy_probs_grad<T: Real>(probs: T) -> [T; 1] {
    [T::ZERO - logit(probs)]
}

/// `ln p(x)` of `Bernoulli(logits = l)` at `x` in `{0, 1}`: `−sp(−l)` at 1, `−sp(l)` at 0
/// (torch's `−BCE_with_logits`, `x l − sp(l)`, formed without cancellation).
#[inline]
pub fn bernoulli_log_prob<T: Real>(x: T, logits: T) -> T {
    if x == T::ONE {
        T::ZERO - softplus(-logits)
    } else if x == T::ZERO {
        T::ZERO - softplus(logits)
    } else {
        x * logits - softplus(logits)
    }
}

/// `∂/∂(x, l)` of [`bernoulli_log_prob`] as torch's autograd has it (through
/// `x l − sp(l)`): `l` and `x − σ(l)`.
pub fn bernoulli_log_prob_grad<T: Real>(x: T, logits: T) -> [T; 2] {
    [logits, x - sigmoid(logits)]
}

/// Entropy of `Bernoulli(logits = l)`: `sp(l) − l σ(l)`, at `−|l|` (it is even), where both
/// terms are non-negative.
#[inline]
pub fn bernoulli_entropy<T: Real>(logits: T) -> T {
    let l = -logits.abs();
    if l == -T::INFINITY {
        return T::ZERO;
    }
    softplus(l) - l * sigmoid(l)
}

/// `∂/∂l` of [`bernoulli_entropy`]: `−l σ(l)(1 − σ(l))`.
pub fn bernoulli_entropy_grad<T: Real>(logits: T) -> [T; 1] {
    if !logits.is_finite() {
        return [T::ZERO];
    }
    let s = sigmoid(logits);
    [T::ZERO - logits * s * (T::ONE - s)]
}

/// `KL(Poisson(r1) ‖ Poisson(r2)) = r1 ln(r1/r2) − r1 + r2 = r1 (ρ − 1 − ln ρ)`, `ρ = r2/r1`,
/// from the exact relative gap: exactly 0 at `r1 = r2`.
///
/// ```
/// use kl_runtime::poisson_kl;
/// let kl = poisson_kl(2.0_f64, 3.0);
/// assert!((kl - (2.0 * (2.0_f64 / 3.0).ln() + 1.0)).abs() < 1e-15);
/// assert_eq!(poisson_kl(2.5_f64, 2.5), 0.0);
/// ```
#[inline]
pub fn poisson_kl<T: Real>(r1: T, r2: T) -> T {
    let u = (r2 - r1) / r1;
    if u.abs() < T::HALF {
        r1 * ratio_excess(r1, r2)
    } else {
        // Far apart, without forming the ratio (1e-300 against 1e300).
        (r2 - r1) - r1 * (r2.ln() - r1.ln())
    }
}

/// `∂/∂(r1, r2)` of [`poisson_kl`]: `ln(r1/r2)`, `(r2 − r1)/r2`.
pub fn poisson_kl_grad<T: Real>(r1: T, r2: T) -> [T; 2] {
    [T::ZERO - ln_ratio(r1, r2), (r2 - r1) / r2]
}

/// `ln p(k) = k ln r − r − lnΓ(k + 1)` at a non-negative integer `k`.
#[inline]
pub fn poisson_log_prob<T: Real>(k: T, rate: T) -> T {
    let kl = if k == T::ZERO { T::ZERO } else { k * rate.ln() };
    kl - rate - lgamma(k + T::ONE)
}

/// `∂/∂(k, r)` of [`poisson_log_prob`] as torch's autograd has it: `ln r − ψ(k + 1)`,
/// `k/r − 1`.
pub fn poisson_log_prob_grad<T: Real>(k: T, rate: T) -> [T; 2] {
    [rate.ln() - digamma(k + T::ONE), k / rate - T::ONE]
}

/// `KL(Bernoulli(logits = l) ‖ Poisson(r)) = −H(Bernoulli) − σ(l) ln r + r` (torch's
/// `_kl_bernoulli_poisson`: `ln k! = 0` on `{0, 1}`).
#[inline]
pub fn bernoulli_poisson_kl<T: Real>(logits: T, rate: T) -> T {
    let p = sigmoid(logits);
    let lr = if p == T::ZERO { T::ZERO } else { p * rate.ln() };
    rate - lr - bernoulli_entropy(logits)
}

/// `∂/∂(l, r)` of [`bernoulli_poisson_kl`]: `σ(1 − σ)(l − ln r)`, `1 − σ/r`.
pub fn bernoulli_poisson_kl_grad<T: Real>(logits: T, rate: T) -> [T; 2] {
    let p = sigmoid(logits);
    let d = if logits.is_finite() { p * (T::ONE - p) * (logits - rate.ln()) } else { T::ZERO };
    [d, T::ONE - p / rate]
}

/// [`bernoulli_poisson_kl`] for `Bernoulli(probs = p)`: `−H(p) − p ln r + r`.
#[inline]
pub fn bernoulli_poisson_kl_probs<T: Real>(probs: T, rate: T) -> T {
    let lr = if probs == T::ZERO { T::ZERO } else { probs * rate.ln() };
    rate - lr - bernoulli_entropy_probs(probs)
}

/// `∂/∂(p, r)` of [`bernoulli_poisson_kl_probs`]: `logit(p) − ln r` (`±∞` at the ends),
/// `1 − p/r`.
pub fn bernoulli_poisson_kl_probs_grad<T: Real>(probs: T, rate: T) -> [T; 2] {
    [logit(probs) - rate.ln(), T::ONE - probs / rate]
}

// ---- Geometric(probs | logits): P(k) = (1 − p)^k p on {0, 1, 2, ..} -----------------------

/// `KL(Geometric(p1) ‖ Geometric(p2)) = ln(p1/p2) + ((1 − p1)/p1) ln((1 − p1)/(1 − p2))`,
/// from the exact gap `u = p2 − p1` as `−log1pmx(u/p1) − ((1 − p1)/p1) log1pmx(−u/(1 − p1))`:
/// non-negative terms, exactly 0 at `p1 = p2`. `p1 = 1` (the point mass at 0) gives `−ln p2`;
/// `p2 = 1` with `p1 < 1`, and `p1 = 0` (all mass escaping to infinity), `+∞`.
///
/// ```
/// use kl_runtime::geometric_kl_probs;
/// let (p, q) = (0.3_f64, 0.6_f64);
/// let want = (p / q).ln() + (1.0 - p) / p * ((1.0 - p) / (1.0 - q)).ln();
/// assert!((geometric_kl_probs(p, q) - want).abs() < 1e-15);
/// assert_eq!(geometric_kl_probs(0.3_f64, 0.3), 0.0);
/// ```
#[inline]
pub fn geometric_kl_probs<T: Real>(p1: T, p2: T) -> T {
    if p1 == T::ONE {
        return T::ZERO - p2.ln();
    }
    if p1 == T::ZERO || p2 == T::ONE {
        return T::INFINITY;
    }
    let u = p2 - p1;
    let q1 = T::ONE - p1;
    T::ZERO - log1pmx(u / p1) - q1 / p1 * log1pmx(-u / q1)
}

/// `∂/∂(p1, p2)` of [`geometric_kl_probs`]: `ln(1 − u/(1 − p1))/p1²` and
/// `u/(p1 p2 (1 − p2))`; 0 where the value is `+∞`.
pub fn geometric_kl_probs_grad<T: Real>(p1: T, p2: T) -> [T; 2] {
    if geometric_kl_probs(p1, p2) == T::INFINITY {
        return [T::ZERO; 2];
    }
    if p1 == T::ONE {
        // −ln p2, and the one-sided p1-derivative ln((1 − p1)/(1 − p2)) → −∞.
        return [-T::INFINITY, T::ZERO - p2.recip()];
    }
    let u = p2 - p1;
    // Divided one factor at a time: p1² and p1 p2 underflow at 1e-300 where the quotients do not.
    [(-u / (T::ONE - p1)).ln_1p() / p1 / p1, u / p1 / p2 / (T::ONE - p2)]
}

/// `KL` of two geometrics given by logits: `sp(−l2) − sp(−l1) + e^(−l1)(sp(l2) − sp(l1))`;
/// near `h = l2 − l1 = 0` as `log1pmx(x1) + e^(−l1) log1pmx(x2) − expm1(h) expm1(−h)(1 − σ1)`
/// with `x1 = (1 − σ1) expm1(−h)`, `x2 = σ1 expm1(h)` (the first-order terms cancel exactly:
/// `e^(−l1) σ1 = 1 − σ1`), exactly 0 at `h = 0`.
#[inline]
pub fn geometric_kl_logits<T: Real>(l1: T, l2: T) -> T {
    let h = l2 - l1;
    if h.abs() < T::ONE {
        let s1 = sigmoid(l1);
        let c1 = sigmoid(-l1);
        let (e, f) = (h.exp_m1(), (-h).exp_m1());
        let x1 = c1 * f;
        let x2 = s1 * e;
        let odds = (-l1).exp();
        log1pmx(x1) + odds * log1pmx(x2) - e * f * c1
    } else {
        (softplus(-l2) - softplus(-l1)) + (-l1).exp() * (softplus(l2) - softplus(l1))
    }
}

/// `∂/∂(l1, l2)` of [`geometric_kl_logits`]: `e^(−l1)(sp(l1) − sp(l2))` and
/// `(σ2 − σ1)/σ1`, the latter near `h = 0` as `(1 − σ1) expm1(h)/(1 + σ1 expm1(h))`.
pub fn geometric_kl_logits_grad<T: Real>(l1: T, l2: T) -> [T; 2] {
    let h = l2 - l1;
    let s1 = sigmoid(l1);
    let odds = (-l1).exp();
    if h.abs() < T::ONE {
        let x2 = s1 * h.exp_m1();
        [T::ZERO - odds * x2.ln_1p(), sigmoid(-l1) * h.exp_m1() / (T::ONE + x2)]
    } else {
        [odds * (softplus(l1) - softplus(l2)), (sigmoid(l2) - s1) / s1]
    }
}

/// `KL(Geometric(probs = p1) ‖ Geometric(logits = l2))`: [`geometric_kl_logits`] at
/// `logit(p1)` (`p1 = 1`: `−ln σ(l2) = sp(−l2)`).
#[inline]
pub fn geometric_kl_probs_logits<T: Real>(p1: T, l2: T) -> T {
    if p1 == T::ONE {
        return softplus(-l2);
    }
    if p1 == T::ZERO {
        return T::INFINITY;
    }
    geometric_kl_logits(logit(p1), l2)
}

/// `∂/∂(p1, l2)` of [`geometric_kl_probs_logits`].
pub fn geometric_kl_probs_logits_grad<T: Real>(p1: T, l2: T) -> [T; 2] {
    if p1 == T::ZERO {
        return [T::ZERO; 2];
    }
    if p1 == T::ONE {
        return [-T::INFINITY, T::ZERO - sigmoid(-l2)];
    }
    let [d1, d2] = geometric_kl_logits_grad(logit(p1), l2);
    [d1 / (p1 * (T::ONE - p1)), d2]
}

/// `KL(Geometric(logits = l1) ‖ Geometric(probs = p2))`: [`geometric_kl_logits`] at
/// `logit(p2)` (`+∞` at `p2 = 1`).
#[inline]
pub fn geometric_kl_logits_probs<T: Real>(l1: T, p2: T) -> T {
    if p2 == T::ONE {
        return T::INFINITY;
    }
    geometric_kl_logits(l1, logit(p2))
}

/// `∂/∂(l1, p2)` of [`geometric_kl_logits_probs`].
pub fn geometric_kl_logits_probs_grad<T: Real>(l1: T, p2: T) -> [T; 2] {
    if p2 == T::ONE {
        return [T::ZERO; 2];
    }
    let [d1, d2] = geometric_kl_logits_grad(l1, logit(p2));
    [d1, d2 / (p2 * (T::ONE - p2))]
}

/// `ln p(k) = k ln(1 − p) + ln p` at a non-negative integer `k` (`0` at `k = 0`, `p = 1`).
#[inline]
pub fn geometric_log_prob_probs<T: Real>(k: T, probs: T) -> T {
    let tail = if k == T::ZERO { T::ZERO } else { k * (-probs).ln_1p() };
    tail + probs.ln()
}

/// `∂/∂(k, p)` of [`geometric_log_prob_probs`] as torch's autograd has it: `ln(1 − p)`,
/// `1/p − k/(1 − p)`.
pub fn geometric_log_prob_probs_grad<T: Real>(k: T, probs: T) -> [T; 2] {
    let dk = (-probs).ln_1p();
    let dp = if k == T::ZERO { probs.recip() } else { probs.recip() - k / (T::ONE - probs) };
    [dk, dp]
}

/// `ln p(k) = −k sp(l) − sp(−l)` for `Geometric(logits = l)`.
#[inline]
pub fn geometric_log_prob<T: Real>(k: T, logits: T) -> T {
    T::ZERO - k * softplus(logits) - softplus(-logits)
}

/// `∂/∂(k, l)` of [`geometric_log_prob`]: `−sp(l)`, `(1 − σ) − kσ`.
pub fn geometric_log_prob_grad<T: Real>(k: T, logits: T) -> [T; 2] {
    let s = sigmoid(logits);
    [T::ZERO - softplus(logits), sigmoid(-logits) - k * s]
}

/// Entropy of `Geometric(probs = p)`: `H_Bernoulli(p)/p`.
#[inline]
pub fn geometric_entropy_probs<T: Real>(probs: T) -> T {
    bernoulli_entropy_probs(probs) / probs
}

/// `∂/∂p` of [`geometric_entropy_probs`]: `−(logit(p) + H/p)/p`, `H` the Bernoulli entropy.
pub fn geometric_entropy_probs_grad<T: Real>(probs: T) -> [T; 1] {
    let h = bernoulli_entropy_probs(probs);
    [T::ZERO - (logit(probs) + h / probs) / probs]
}

/// Entropy of `Geometric(logits = l)`: `H_Bernoulli(l)(1 + e^(−l))`.
#[inline]
pub fn geometric_entropy<T: Real>(logits: T) -> T {
    bernoulli_entropy(logits) / sigmoid(logits)
}

/// `∂/∂l` of [`geometric_entropy`]: `(H_B'(l) − H_B(l)(1 − σ))/σ`.
pub fn geometric_entropy_grad<T: Real>(logits: T) -> [T; 1] {
    let s = sigmoid(logits);
    let [dh] = bernoulli_entropy_grad(logits);
    [(dh - bernoulli_entropy(logits) * sigmoid(-logits)) / s]
}

// ---- Binomial(total_count, probs | logits) ----------------------------------------------------

/// The rule of the Binomial KL kernels' operands `(n1, _, n2, _)`: `n1 >= n2` (below, torch
/// raises `NotImplementedError`: the KL has no closed form).
pub fn binomial_kl_check<T: Real>(n1: T, _: T, n2: T, _: T) -> Result<(), Violation> {
    if n1 >= n2 {
        Ok(())
    } else {
        Err(Violation::NoClosedFormBelow { slot: 0, other: 2, bound: n2.to_f64(), value: n1.to_f64() })
    }
}

/// The rule of the Binomial `log_prob` kernels' operands `(k, n, _)`: `k <= n`.
pub fn binomial_log_prob_check<T: Real>(k: T, n: T, _: T) -> Result<(), Violation> {
    if k <= n {
        Ok(())
    } else {
        Err(Violation::Outside { slot: 0, lo: 0.0, hi: n.to_f64(), value: k.to_f64() })
    }
}

macro_rules! binomial_kl {
    ($(#[$doc:meta])* $kl:ident, $grad:ident, $bern:ident, $bern_grad:ident) => {
        $(#[$doc])*
        /// `n1 > n2` gives `+∞` (P has mass above Q's support); `n1 < n2` is the
        /// [`binomial_kl_check`] error.
        #[inline]
        pub fn $kl<T: Real>(n1: T, x1: T, n2: T, x2: T) -> T {
            if n1 > n2 {
                return T::INFINITY;
            }
            if n1 == T::ZERO {
                return T::ZERO;
            }
            n1 * $bern(x1, x2)
        }

        #[doc = concat!("`∂/∂(n1, x1, n2, x2)` of [`", stringify!($kl), "`], as torch's autograd has it for the count (`∂n1` the Bernoulli KL, `∂n2 = 0`); 0 where the value is `+∞`.")]
        pub fn $grad<T: Real>(n1: T, x1: T, n2: T, x2: T) -> [T; 4] {
            if n1 > n2 || $bern(x1, x2) == T::INFINITY {
                return [T::ZERO; 4];
            }
            let [d1, d2] = $bern_grad(x1, x2);
            [$bern(x1, x2), n1 * d1, T::ZERO, n1 * d2]
        }
    };
}

binomial_kl!(
    /// `KL(Binomial(n, p1) ‖ Binomial(n, p2)) = n KL(Bernoulli(p1) ‖ Bernoulli(p2))`.
    binomial_kl_probs, binomial_kl_probs_grad, bernoulli_kl_probs, bernoulli_kl_probs_grad
);
binomial_kl!(
    /// The Binomial KL from logits on both sides.
    binomial_kl_logits, binomial_kl_logits_grad, bernoulli_kl_logits_careful, bernoulli_kl_logits_grad
);
binomial_kl!(
    /// The Binomial KL, P by `probs`, Q by `logits`.
    binomial_kl_probs_logits, binomial_kl_probs_logits_grad, bernoulli_kl_probs_logits, bernoulli_kl_probs_logits_grad
);
binomial_kl!(
    /// The Binomial KL, P by `logits`, Q by `probs`.
    binomial_kl_logits_probs, binomial_kl_logits_probs_grad, bernoulli_kl_logits_probs, bernoulli_kl_logits_probs_grad
);

/// `ln C(n, k) = lnΓ(n + 1) − lnΓ(k + 1) − lnΓ(n − k + 1)`.
#[inline]
fn ln_choose<T: Real>(k: T, n: T) -> T {
    lgamma(n + T::ONE) - lgamma(k + T::ONE) - lgamma(n - k + T::ONE)
}

/// `ln p(k) = ln C(n, k) + k ln p + (n − k) ln(1 − p)` (a zero count's term is 0).
#[inline]
pub fn binomial_log_prob_probs<T: Real>(k: T, n: T, probs: T) -> T {
    let a = if k == T::ZERO { T::ZERO } else { k * probs.ln() };
    let b = if k == n { T::ZERO } else { (n - k) * (-probs).ln_1p() };
    ln_choose(k, n) + a + b
}

/// `∂/∂(k, n, p)` of [`binomial_log_prob_probs`] (torch's autograd through the lgamma form):
/// `ψ(n − k + 1) − ψ(k + 1) + logit(p)`, `ψ(n + 1) − ψ(n − k + 1) + ln(1 − p)`,
/// `k/p − (n − k)/(1 − p)`.
pub fn binomial_log_prob_probs_grad<T: Real>(k: T, n: T, probs: T) -> [T; 3] {
    let (pk, pnk) = (digamma(k + T::ONE), digamma(n - k + T::ONE));
    let dp =
        (if k == T::ZERO { T::ZERO } else { k / probs }) - (if k == n { T::ZERO } else { (n - k) / (T::ONE - probs) });
    [pnk - pk + logit(probs), digamma(n + T::ONE) - pnk + (-probs).ln_1p(), dp]
}

/// `ln p(k) = ln C(n, k) − k sp(−l) − (n − k) sp(l)` for `logits = l`.
#[inline]
pub fn binomial_log_prob<T: Real>(k: T, n: T, logits: T) -> T {
    ln_choose(k, n) - k * softplus(-logits) - (n - k) * softplus(logits)
}

/// `∂/∂(k, n, l)` of [`binomial_log_prob`]: `ψ(n − k + 1) − ψ(k + 1) + l`,
/// `ψ(n + 1) − ψ(n − k + 1) − sp(l)`, `k − nσ(l)`.
pub fn binomial_log_prob_grad<T: Real>(k: T, n: T, logits: T) -> [T; 3] {
    let (pk, pnk) = (digamma(k + T::ONE), digamma(n - k + T::ONE));
    [pnk - pk + logits, digamma(n + T::ONE) - pnk - softplus(logits), k - n * sigmoid(logits)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd(f: impl Fn(f64, f64) -> f64, g: [f64; 2], x: [f64; 2]) {
        for k in 0..2 {
            let h = 1e-6 * x[k].abs().max(1e-2);
            let (mut a, mut b) = (x, x);
            a[k] += h;
            b[k] -= h;
            let want = (f(a[0], a[1]) - f(b[0], b[1])) / (2.0 * h);
            assert!((g[k] - want).abs() <= 1e-6 * want.abs().max(1.0), "∂{k} at {x:?}: {} vs {want}", g[k]);
        }
    }

    #[test]
    fn gradients_agree_with_finite_differences() {
        for x in [[0.3, 0.6], [0.9, 0.2], [1e-3, 0.5]] {
            fd(bernoulli_kl_probs, bernoulli_kl_probs_grad(x[0], x[1]), x);
        }
        for x in [[0.3, 0.6], [2.5, -1.0], [-3.0, 0.5], [0.2, 4.0], [40.0, 38.0]] {
            fd(bernoulli_kl_logits, bernoulli_kl_logits_grad(x[0], x[1]), x);
            fd(bernoulli_poisson_kl, bernoulli_poisson_kl_grad(x[0], x[1].abs()), [x[0], x[1].abs()]);
        }
        for x in [[0.3, 0.6], [0.9, -2.0], [1e-3, 0.5]] {
            fd(bernoulli_kl_probs_logits, bernoulli_kl_probs_logits_grad(x[0], x[1]), x);
            fd(bernoulli_kl_logits_probs, bernoulli_kl_logits_probs_grad(x[1], x[0]), [x[1], x[0]]);
            fd(bernoulli_poisson_kl_probs, bernoulli_poisson_kl_probs_grad(x[0], 1.3), [x[0], 1.3]);
            fd(|_, p| bernoulli_entropy_probs(p), [0.0, bernoulli_entropy_probs_grad(x[0])[0]], [1.0, x[0]]);
            fd(
                |_, p| bernoulli_log_prob_probs(1.0, p),
                [0.0, bernoulli_log_prob_probs_grad(1.0, x[0])[1]],
                [1.0, x[0]],
            );
            fd(
                |_, p| bernoulli_log_prob_probs(0.0, p),
                [0.0, bernoulli_log_prob_probs_grad(0.0, x[0])[1]],
                [0.0, x[0]],
            );
        }
        for x in [[0.3, 0.6], [0.9, 0.2], [1e-2, 0.5], [0.4, 0.4 + 1e-3]] {
            fd(geometric_kl_probs, geometric_kl_probs_grad(x[0], x[1]), x);
            let (a, b) = (logit(x[0]), logit(x[1]));
            fd(geometric_kl_logits, geometric_kl_logits_grad(a, b), [a, b]);
            fd(geometric_kl_probs_logits, geometric_kl_probs_logits_grad(x[0], b), [x[0], b]);
            fd(geometric_kl_logits_probs, geometric_kl_logits_probs_grad(a, x[1]), [a, x[1]]);
            fd(|_, p| geometric_entropy_probs(p), [0.0, geometric_entropy_probs_grad(x[0])[0]], [1.0, x[0]]);
            fd(|_, l| geometric_entropy(l), [0.0, geometric_entropy_grad(a)[0]], [1.0, a]);
            fd(
                |_, p| geometric_log_prob_probs(3.0, p),
                [0.0, geometric_log_prob_probs_grad(3.0, x[0])[1]],
                [3.0, x[0]],
            );
            fd(|_, l| geometric_log_prob(3.0, l), [0.0, geometric_log_prob_grad(3.0, a)[1]], [3.0, a]);
            let (kp, kl) = (geometric_kl_probs(x[0], x[1]), geometric_kl_logits(a, b));
            assert!((kp - kl).abs() <= 1e-12 * kp, "{x:?}: {kp} vs {kl}");
        }
        fd(|_, l| bernoulli_entropy(l), [0.0, bernoulli_entropy_grad(0.7)[0]], [1.0, 0.7]);
        fd(|_, l| bernoulli_entropy(l), [0.0, bernoulli_entropy_grad(-2.7)[0]], [1.0, -2.7]);
        fd(poisson_kl, poisson_kl_grad(2.0, 3.5), [2.0, 3.5]);
        fd(|_, r| poisson_log_prob(3.0, r), [0.0, poisson_log_prob_grad(3.0, 1.7)[1]], [3.0, 1.7]);
    }

    #[test]
    fn the_f32_fast_path_agrees_with_the_careful_one() {
        let mut worst = 0.0_f64;
        let xs = [
            -700.0, -80.0, -40.0, -38.0, -5.0, -1.0, -0.3, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 0.3, 1.0, 5.0, 38.0, 40.0,
            80.0,
        ];
        for &a in &xs {
            for &b in &xs {
                for d in [0.0, 1e-9, -1e-6, 0.5, -0.999, 1.001] {
                    let (a, b) = (a, b + d);
                    let want = bernoulli_kl_logits_careful(a, b);
                    let got = fast::bernoulli_kl_logits(a, b);
                    let err = if want == 0.0 { got.abs() } else { ((got - want) / want).abs() };
                    assert!(err < 1e-9 || (want < 1e-300 && got.abs() < 1e-300), "({a}, {b}): {got:e} vs {want:e}");
                    worst = worst.max(err);
                }
            }
        }
        assert!(worst < 1e-9, "{worst:e}");
    }

    #[test]
    fn the_probability_and_logit_forms_agree() {
        for (p, q) in [(0.3_f64, 0.6), (0.9, 0.2), (0.01, 0.02)] {
            let (a, b) = (bernoulli_kl_probs(p, q), bernoulli_kl_logits(logit(p), logit(q)));
            assert!((a - b).abs() <= 1e-14 * a, "{p} {q}: {a} vs {b}");
        }
        assert_eq!(bernoulli_kl_logits(0.0_f64, f64::INFINITY), f64::INFINITY);
        assert_eq!(bernoulli_kl_logits(f64::INFINITY, f64::INFINITY), 0.0);
        assert_eq!(bernoulli_kl_probs(0.0_f64, 0.0), 0.0);
        assert_eq!(bernoulli_entropy(f64::INFINITY), 0.0);
        assert_eq!(bernoulli_kl_logits_grad(0.7_f64, 0.7), [0.0, 0.0]);
    }
}
