//! The continuous Bernoulli distribution `ContinuousBernoulli(probs = λ | logits = l)` of
//! torch.distributions (Loaiza-Ganem and Cunningham 2019): density
//! `C(λ) λˣ (1 − λ)¹⁻ˣ` on `[0, 1]`, `C(λ) = 2 atanh(1 − 2λ)/(1 − 2λ)`, `λ = σ(l)`.
//!
//! # In the natural parameter
//!
//! It is an exponential family in `x` with natural parameter `l`: `ln p(x) = l x − A(l)` with
//! the log-normalizer `A(l) = ln((eˡ − 1)/l)`. Every kernel here works in `u = l/2`, where
//! `A(l) = u + S(u)` with the even function `S(u) = ln(sinh u / u)`:
//!
//! ```text
//! ln p(x) = u (2x − 1) − S(u)
//! mean    = ½ (1 + L(u)),         L = S' = coth u − 1/u
//! var     = ¼ L'(u),              L' = 1/u² − 1/sinh² u
//! H       = S(u) − u L(u)         (0 at u = 0, the uniform; negative elsewhere)
//! KL      = S(u₂) − S(u₁) − L(u₁)(u₂ − u₁)   (the Bregman divergence of S)
//! ```
//!
//! For `|u| <= 2` these come from power series with factorial coefficients
//! (`sinh u / u − 1 = Σ u²ᵏ/(2k + 1)!` and its relatives, all terms positive), which is where
//! torch's Taylor expansion around `λ = ½` lives; beyond, from `e^(−2|u|)` (`S = |u| − ln 2|u| +
//! ln(1 − e^(−2|u|))`), so that logits of ±700 and probabilities of 1e-300 stay exact. A
//! `probs` parameter reaches `u = atanh(2λ − 1)` without forming `1 − 2λ` where it would round
//! (it is exact for `λ >= ¼`, and `ln λ − ln(1 − λ)` has no cancellation below), and the KL of
//! two `probs` takes the gap `u₂ − u₁` from the exact `λ₂ − λ₁`.
//!
//! The KL is formed from `u₁` and the gap `h = u₂ − u₁` without cancellation: for
//! `|u₁|, |u₂| <= 2` as `log1pmx(δ) + B/(1 + r₁)`, with `r = sinh u / u − 1`, `δ` the relative
//! change of `1 + r` and `B` the Bregman divergence of `r`, both series in divided differences
//! of powers (exactly 0 at `h = 0`); for `u₁, u₂ >= 1` as `−log1pmx(h/u₁)` plus the Bregman
//! divergence of `ln(1 − e^(−2u))` written with `expm1`; elsewhere `|h| > 1` and the terms
//! do not cancel badly.
//!
//! `probs` must lie in `(0, 1)`: at 0 or 1 the distribution is a point mass, not a density
//! (torch clamps `probs` into `[ε, 1 − ε]` instead); the kernels' checks
//! (`continuous_bernoulli_*_check`) report such a value. Every kernel is elementwise and
//! generic over [`Real`], and computes in `f64` (an `f32` result is the `f64` one, rounded).

use crate::beta::{beta_entropy, beta_entropy_grad};
use crate::cross::{to_normal, to_normal_grad, Moments};
use crate::error::Violation;
use crate::param::expm1mx;
use crate::real::Real;
use crate::scalar::{log1pmx, ratio_excess};
use crate::uniform::check_interval;

const LN_2: f64 = core::f64::consts::LN_2;
/// `ln 2π`.
const LN_2PI: f64 = <f64 as Real>::LN_2PI;

/// Terms of the power series in `z = u²` below.
const TERMS: usize = 13;

/// `1/(2k + 1)!` for `k = 0 .. 2·TERMS`: the coefficients of `sinh u / u` and its relatives.
const INV_ODD_FACT: [f64; 2 * TERMS + 2] = {
    let mut c = [0.0; 2 * TERMS + 2];
    let mut f = 1.0;
    let mut k = 0;
    while k < c.len() {
        // f = (2k + 1)!
        if k > 0 {
            f *= ((2 * k) * (2 * k + 1)) as f64;
        }
        c[k] = 1.0 / f;
        k += 1;
    }
    c
};

/// The series of `r(u) = sinh u / u − 1 = z ρ(z)` and its derivatives at `|u| <= 2`, `z = u²`
/// (every coefficient positive; 13 terms reach `f64` rounding at `z = 4`).
struct Series {
    z: f64,
    /// `ρ(z) = Σ zᵏ/(2k + 3)!`.
    rho: f64,
    /// `ν(z) = (u cosh u − sinh u)/u³ = Σ (2k + 2) zᵏ/(2k + 3)!` (`r' = u ν`).
    nu: f64,
    /// `dρ/dz = Σ (k + 1) zᵏ/(2k + 5)!`.
    rho_z: f64,
}

#[inline]
fn series(u: f64) -> Series {
    let z = u * u;
    let (mut rho, mut nu, mut rho_z) = (0.0, 0.0, 0.0);
    for k in (0..TERMS).rev() {
        rho = rho * z + INV_ODD_FACT[k + 1];
        nu = nu * z + (2 * k + 2) as f64 * INV_ODD_FACT[k + 1];
        rho_z = rho_z * z + (k + 1) as f64 * INV_ODD_FACT[k + 2];
    }
    Series { z, rho, nu, rho_z }
}

/// Everything the kernels need at one `u`: `S`, `L = S'`, `L'`, `L''`, the entropy `H`, the
/// mean `½(1 + L)` and the negentropy `J = ½ ln(2πe var) − H` (against a normal).
struct At {
    s: f64,
    l: f64,
    d1: f64,
    d2: f64,
    ent: f64,
    mean: f64,
    neg: f64,
}

/// Where the series stop and the exponential forms start.
const SERIES_MAX: f64 = 2.0;

#[inline]
fn at(u: f64) -> At {
    if u.abs() <= SERIES_MAX {
        let Series { z, rho, nu, rho_z } = series(u);
        let r = z * rho;
        let (p, rp) = (1.0 + r, u * nu);
        let s = r.ln_1p();
        let l = rp / p;
        let n = rho * (2.0 + r);
        let d1 = n / (p * p);
        // L' = N/(1 + r)², N = ρ(2 + r): L'' = (N'(1 + r) − 2N r')/(1 + r)³.
        let dn = 2.0 * u * rho_z * (2.0 + r) + rho * rp;
        let d2 = (dn * p - 2.0 * n * rp) / (p * p * p);
        let ent = s - z * nu / p;
        let neg = 0.5 * ((core::f64::consts::PI * core::f64::consts::E / 2.0).ln() + d1.ln()) - ent;
        return At { s, l, d1, d2, ent, mean: 0.5 + 0.5 * l, neg };
    }
    let a = u.abs();
    let sg = u.signum();
    let q = (-2.0 * a).exp();
    // w = 1/(e^(2a) − 1) = q/(1 − q); 1/sinh² a = 4w(1 + w), coth a = 1 + 2w.
    let w = q / (1.0 - q);
    let f2 = (-q).ln_1p();
    let ln2a = LN_2 + a.ln();
    let aw = a * w;
    let v = 4.0 * w * (1.0 + w);
    let ent = 1.0 - ln2a + f2 - 2.0 * aw;
    At {
        s: a - ln2a + f2,
        l: sg * (1.0 - a.recip() + 2.0 * w),
        d1: (a * a).recip() - v,
        d2: sg * (2.0 * v * (1.0 + 2.0 * w) - 2.0 / (a * a * a)),
        ent,
        mean: if u > 0.0 { 1.0 - 0.5 / a + w } else { 0.5 / a - w },
        // ½ ln(2πe var) with var = (1 − 4a²w(1 + w))/(4a²): the ln 2a cancels against H's.
        neg: 0.5 * (LN_2PI - 1.0) + 0.5 * (-(a * a * v)).ln_1p() - f2 + 2.0 * aw,
    }
}

/// `u = atanh(2λ − 1) = ½ ln(λ/(1 − λ))`: from `t = 2λ − 1` (exact) for `λ >= ¼`, so that
/// `λ` near `½` keeps every digit of the small `u`; from the logs below.
#[inline]
fn half_logit(p: f64) -> f64 {
    if p >= 0.25 {
        let t = 2.0 * p - 1.0;
        0.5 * (t.ln_1p() - (-t).ln_1p())
    } else {
        0.5 * (p.ln() - (-p).ln_1p())
    }
}

/// `du/dλ = 1/(2λ(1 − λ))`.
#[inline]
fn half_logit_slope(p: f64) -> f64 {
    0.5 / (p * (1.0 - p))
}

/// `ln(b/a)` for `b = a + d` with `d` the exact gap: `ln(1 + d/a)` near `a = b`, the log of
/// the ratio (or the difference of logs, where the ratio leaves the normal range) elsewhere.
#[inline]
fn ln_ratio_gap(a: f64, b: f64, d: f64) -> f64 {
    let x = d / a;
    if x.abs() <= 0.5 {
        return x.ln_1p();
    }
    let r = b / a;
    if r.is_normal() {
        r.ln()
    } else {
        b.ln() - a.ln()
    }
}

/// `u(λ₂) − u(λ₁) = ½ (ln(λ₂/λ₁) − ln((1 − λ₂)/(1 − λ₁)))` from `λ₂ − λ₁` (exact where the
/// two are within a factor 2): two terms of the same sign.
#[inline]
fn half_logit_gap(p1: f64, p2: f64) -> f64 {
    let d = p2 - p1;
    let up = ln_ratio_gap(p1, p2, d);
    let down = ln_ratio_gap(1.0 - p1, 1.0 - p2, -d);
    0.5 * (up - down)
}

/// `KL` of two continuous Bernoullis at `u₁` and `u₂`, with `h = u₂ − u₁` as exact as the
/// parameters allow (`u₁ + h` is not used for `u₂`: far apart, it would carry the rounding of
/// `h` into `u₂`): the Bregman divergence `S(u₂) − S(u₁) − L(u₁) h` (see the module docs).
#[inline]
fn bregman(u1: f64, u2: f64, h: f64) -> f64 {
    let (u1, u2, h) = if u1 < 0.0 { (-u1, -u2, -h) } else { (u1, u2, h) };
    if u1.max(u2.abs()) <= SERIES_MAX {
        let sums = divided(u1, u2);
        let Series { z, rho, .. } = series(u1);
        let p = 1.0 + z * rho;
        return log1pmx(h * sums.p / p) + h * h * sums.q / p;
    }
    if u1 >= 1.0 && u2 >= 1.0 {
        // u1, u2 >= 1: S = u − ln 2 − ln u + f(u), f(u) = ln(1 − e^(−2u)) (concave; its
        // Bregman divergence is <= 0 and below 0.72 of the log term's).
        let w1 = (2.0 * u1).exp_m1().recip();
        let f = if h.abs() <= 1.0 {
            let y = 0.0 - w1 * (-2.0 * h).exp_m1();
            log1pmx(y) - w1 * expm1mx(-2.0 * h)
        } else {
            let (q1, q2) = ((-2.0 * u1).exp(), (-2.0 * u2).exp());
            ((q1 - q2) / (1.0 - q1)).ln_1p() - 2.0 * h * w1
        };
        // −log1pmx(h/u1) = h/u1 − ln(u2/u1), the log from the ratio where h/u1 nears −1.
        let x = h / u1;
        let log_term = if x.abs() < 0.5 { 0.0 - log1pmx(x) } else { x - (u2 / u1).ln() };
        return f + log_term;
    }
    if u1 >= 1.0 {
        // u2 < 1 <= u1, so h < −1: S(u2) − u2 + ln 2 = ln((1 − e^(−2u2))/u2) =: G, and
        // KL = G + ln u1 + h/u1 − f(u1) − 2h/(e^(2u1) − 1).
        let g = if u2 > 0.0 { (-(-2.0 * u2).exp_m1() / u2).ln() } else { at(u2).s - u2 + LN_2 };
        let w1 = (2.0 * u1).exp_m1().recip();
        return g + u1.ln() + h / u1 - (-(-2.0 * u1).exp()).ln_1p() - 2.0 * h * w1;
    }
    // u1 < 1 and |u2| > 2: |h| > 1.
    let (a1, a2) = (at(u1), at(u2));
    a2.s - a1.s - a1.l * h
}

/// `∂/∂(u₁, u₂)` of [`bregman`]: `−L'(u₁) h` and `L(u₂) − L(u₁)`, the latter from the
/// divided differences or the exact gap near `h = 0` (both exactly 0 there).
#[inline]
fn bregman_grad(u1: f64, u2: f64, h: f64) -> [f64; 2] {
    let flip = u1 < 0.0;
    let (u1, u2, h) = if flip { (-u1, -u2, -h) } else { (u1, u2, h) };
    let a1 = at(u1);
    let g1 = 0.0 - a1.d1 * h;
    let g2 = if u1.max(u2.abs()) <= SERIES_MAX {
        // L = r'/(1 + r): L2 − L1 = h((1 + r1)A − r1' P)/((1 + r1)(1 + r2)), with
        // r2' − r1' = hA and r2 − r1 = hP.
        let sums = divided(u1, u2);
        let (s1, s2) = (series(u1), series(u2));
        let (p1, p2) = (1.0 + s1.z * s1.rho, 1.0 + s2.z * s2.rho);
        h * (p1 * sums.a - u1 * s1.nu * sums.p) / (p1 * p2)
    } else if u1 >= 1.0 && u2 >= 1.0 && h.abs() <= 1.0 {
        // L = 1 − 1/u + 2w, w = 1/(e^(2u) − 1): w2 − w1 = −expm1(2h)(1 + w1)w2.
        let (w1, w2) = ((2.0 * u1).exp_m1().recip(), (2.0 * u2).exp_m1().recip());
        h / (u1 * u2) - 2.0 * (2.0 * h).exp_m1() * (1.0 + w1) * w2
    } else {
        at(u2).l - a1.l
    };
    if flip {
        [0.0 - g1, 0.0 - g2]
    } else {
        [g1, g2]
    }
}

/// The divided differences of the series of `r = Σ u²ᵏ/(2k + 1)!` between `u1` and `u2`:
/// `p = (r2 − r1)/h`, `q = (r2 − r1 − r1' h)/h²` (the Bregman divergence of `r`, over `h²`)
/// and `a = (r2' − r1')/h`, from `Pₘ = (u2ᵐ − u1ᵐ)/h` (`Pₘ = (u1 + u2)Pₘ₋₁ − u1 u2 Pₘ₋₂`) and
/// `Qₘ = (u2ᵐ − u1ᵐ − m u1ᵐ⁻¹ h)/h² = u1 Qₘ₋₁ + Pₘ₋₁`, which need no division by `h`.
struct Divided {
    p: f64,
    q: f64,
    a: f64,
}

#[inline]
fn divided(u1: f64, u2: f64) -> Divided {
    let (s, pr) = (u1 + u2, u1 * u2);
    // P_{m−1}, P_m and Q_m, starting at m = 1.
    let (mut p_prev, mut p, mut q) = (0.0, 1.0, 0.0);
    let mut out = Divided { p: 0.0, q: 0.0, a: 0.0 };
    for m in 2..=2 * TERMS {
        let p_next = s * p - pr * p_prev;
        let q_next = u1 * q + p;
        // Now P_m = p_next, P_{m−1} = p, Q_m = q_next.
        if m % 2 == 0 {
            let c = INV_ODD_FACT[m / 2];
            out.p += p_next * c;
            out.q += q_next * c;
            out.a += m as f64 * p * c;
        }
        p_prev = p;
        p = p_next;
        q = q_next;
    }
    out
}

/// `(u, du/dλ)` of a `probs` parameter.
#[inline]
fn of_probs(p: f64) -> (f64, f64) {
    (half_logit(p), half_logit_slope(p))
}

/// The rule of a `probs` operand: strictly inside `(0, 1)` (at 0 or 1 the continuous
/// Bernoulli is a point mass).
#[inline]
fn open_unit<T: Real>(p: T, slot: usize) -> Result<(), Violation> {
    if T::ZERO < p && p < T::ONE {
        Ok(())
    } else {
        Err(Violation::OutsideOpen { slot, lo: 0.0, hi: 1.0, value: p.to_f64() })
    }
}

/// The rule of a kernel whose only `probs` operand is its first: `0 < λ < 1`.
pub fn continuous_bernoulli_probs_check<T: Real>(p: T) -> Result<(), Violation> {
    open_unit(p, 0)
}

/// The rule of a two-operand kernel whose first operand is a `probs`: `0 < λ < 1`.
pub fn continuous_bernoulli_first_probs_check<T: Real>(p: T, _: T) -> Result<(), Violation> {
    open_unit(p, 0)
}

/// The rule of a two-operand kernel whose second operand is a `probs` (`log_prob`'s, the KL
/// against a `probs` Q): `0 < λ < 1`.
pub fn continuous_bernoulli_second_probs_check<T: Real>(_: T, p: T) -> Result<(), Violation> {
    open_unit(p, 1)
}

/// The rules of [`continuous_bernoulli_kl_probs`]'s operands: both in `(0, 1)`.
pub fn continuous_bernoulli_kl_probs_check<T: Real>(p1: T, p2: T) -> Result<(), Violation> {
    open_unit(p1, 0)?;
    open_unit(p2, 1)
}

/// The rule of a three-operand kernel whose first operand is a `probs` (against a normal).
pub fn continuous_bernoulli_first_probs_check3<T: Real>(p: T, _: T, _: T) -> Result<(), Violation> {
    open_unit(p, 0)
}

/// The rules of the KL against a uniform `Q` in operands 1 and 2: `high > low`.
pub fn continuous_bernoulli_uniform_check<T: Real>(_: T, low: T, high: T) -> Result<(), Violation> {
    check_interval(low, high, 1)
}

/// The rules of [`continuous_bernoulli_uniform_kl_probs`]'s operands: `0 < λ < 1`, then
/// `high > low`.
pub fn continuous_bernoulli_uniform_probs_check<T: Real>(p: T, low: T, high: T) -> Result<(), Violation> {
    open_unit(p, 0)?;
    check_interval(low, high, 1)
}

/// The rules of [`uniform_continuous_bernoulli_kl_probs`]'s operands: `high > low`, then
/// `0 < λ < 1`.
pub fn uniform_continuous_bernoulli_probs_check<T: Real>(low: T, high: T, p: T) -> Result<(), Violation> {
    check_interval(low, high, 0)?;
    open_unit(p, 2)
}

/// The rule of a three-operand kernel whose third operand is a `probs` (a beta `P`).
pub fn continuous_bernoulli_third_probs_check3<T: Real>(_: T, _: T, p: T) -> Result<(), Violation> {
    open_unit(p, 2)
}

#[inline]
fn c<T: Real>(x: f64) -> T {
    T::from_f64(x)
}

// ---- KL(ContinuousBernoulli ‖ ContinuousBernoulli) ------------------------------------------

/// `KL` of two continuous Bernoullis given by logits: `A(l₂) − A(l₁) − mean₁ (l₂ − l₁)`,
/// torch's `_kl_continuous_bernoulli_continuous_bernoulli`, as the Bregman divergence of
/// `S` at `u = l/2` (see the module docs): accurate to a few ulp everywhere, exactly 0 at
/// `l₁ = l₂`.
///
/// ```
/// use kl_runtime::continuous_bernoulli_kl_logits;
/// // Logits 0 (the uniform) against 2: A(2) − 2·A'(0) = ln((e² − 1)/2) − 1.
/// let want = ((2.0_f64.exp() - 1.0) / 2.0).ln() - 1.0;
/// assert!((continuous_bernoulli_kl_logits(0.0_f64, 2.0) - want).abs() < 1e-15);
/// assert_eq!(continuous_bernoulli_kl_logits(1.5_f64, 1.5), 0.0);
/// ```
#[inline]
pub fn continuous_bernoulli_kl_logits<T: Real>(l1: T, l2: T) -> T {
    let (l1, l2) = (l1.to_f64(), l2.to_f64());
    c(bregman(0.5 * l1, 0.5 * l2, 0.5 * (l2 - l1)))
}

/// `∂/∂(l₁, l₂)` of [`continuous_bernoulli_kl_logits`]: `−var₁ (l₂ − l₁)` and
/// `mean₂ − mean₁`; both exactly 0 at `l₁ = l₂`.
pub fn continuous_bernoulli_kl_logits_grad<T: Real>(l1: T, l2: T) -> [T; 2] {
    let (l1, l2) = (l1.to_f64(), l2.to_f64());
    bregman_grad(0.5 * l1, 0.5 * l2, 0.5 * (l2 - l1)).map(|g| c(0.5 * g))
}

/// `KL` of two continuous Bernoullis given by `probs`, with the gap `u₂ − u₁` from the exact
/// `λ₂ − λ₁`: near-equal probabilities keep their relative accuracy (`λ` and `λ(1 + 1e-12)`).
#[inline]
pub fn continuous_bernoulli_kl_probs<T: Real>(p1: T, p2: T) -> T {
    let (p1, p2) = (p1.to_f64(), p2.to_f64());
    c(bregman(half_logit(p1), half_logit(p2), half_logit_gap(p1, p2)))
}

/// `∂/∂(λ₁, λ₂)` of [`continuous_bernoulli_kl_probs`]: the partials in `u`, times
/// `du/dλ = 1/(2λ(1 − λ))`.
pub fn continuous_bernoulli_kl_probs_grad<T: Real>(p1: T, p2: T) -> [T; 2] {
    let (p1, p2) = (p1.to_f64(), p2.to_f64());
    let [g1, g2] = bregman_grad(half_logit(p1), half_logit(p2), half_logit_gap(p1, p2));
    [c(g1 * half_logit_slope(p1)), c(g2 * half_logit_slope(p2))]
}

/// `KL(ContinuousBernoulli(probs = λ₁) ‖ ContinuousBernoulli(logits = l₂))`.
#[inline]
pub fn continuous_bernoulli_kl_probs_logits<T: Real>(p1: T, l2: T) -> T {
    let (u1, u2) = (half_logit(p1.to_f64()), 0.5 * l2.to_f64());
    c(bregman(u1, u2, u2 - u1))
}

/// `∂/∂(λ₁, l₂)` of [`continuous_bernoulli_kl_probs_logits`].
pub fn continuous_bernoulli_kl_probs_logits_grad<T: Real>(p1: T, l2: T) -> [T; 2] {
    let (u1, s1) = of_probs(p1.to_f64());
    let u2 = 0.5 * l2.to_f64();
    let [g1, g2] = bregman_grad(u1, u2, u2 - u1);
    [c(g1 * s1), c(0.5 * g2)]
}

/// `KL(ContinuousBernoulli(logits = l₁) ‖ ContinuousBernoulli(probs = λ₂))`.
#[inline]
pub fn continuous_bernoulli_kl_logits_probs<T: Real>(l1: T, p2: T) -> T {
    let (u1, u2) = (0.5 * l1.to_f64(), half_logit(p2.to_f64()));
    c(bregman(u1, u2, u2 - u1))
}

/// `∂/∂(l₁, λ₂)` of [`continuous_bernoulli_kl_logits_probs`].
pub fn continuous_bernoulli_kl_logits_probs_grad<T: Real>(l1: T, p2: T) -> [T; 2] {
    let u1 = 0.5 * l1.to_f64();
    let (u2, s2) = of_probs(p2.to_f64());
    let [g1, g2] = bregman_grad(u1, u2, u2 - u1);
    [c(0.5 * g1), c(g2 * s2)]
}

// ---- log_prob and entropy -------------------------------------------------------------------

/// `ln p(x) = u(2x − 1) − S(u)`; for `|u| > 2` with `S`'s linear part folded in
/// (`−2|u| x` or `−2u(1 − x)`, plus `ln 2|u| − ln(1 − e^(−2|u|))`), so that it does not
/// cancel.
#[inline]
fn log_prob_at(x: f64, u: f64) -> f64 {
    if u.abs() <= SERIES_MAX {
        return u * (2.0 * x - 1.0) - at(u).s;
    }
    let a = u.abs();
    let tail = LN_2 + a.ln() - (-(-2.0 * a).exp()).ln_1p();
    let lin = if u < 0.0 { x } else { 1.0 - x };
    tail - 2.0 * a * lin
}

/// `ln p(x)` of `ContinuousBernoulli(logits = l)` at `x` in `[0, 1]`: `l x − A(l)`, torch's
/// `−BCE_with_logits(l, x) + ln C`.
///
/// ```
/// use kl_runtime::continuous_bernoulli_log_prob;
/// // Logits 0: the uniform density 1.
/// assert_eq!(continuous_bernoulli_log_prob(0.3_f64, 0.0), 0.0);
/// // Logits 2 at x = 1: 2 − ln((e² − 1)/2).
/// let want = 2.0 - ((2.0_f64.exp() - 1.0) / 2.0).ln();
/// assert!((continuous_bernoulli_log_prob(1.0_f64, 2.0) - want).abs() < 1e-15);
/// ```
#[inline]
pub fn continuous_bernoulli_log_prob<T: Real>(x: T, logits: T) -> T {
    c(log_prob_at(x.to_f64(), 0.5 * logits.to_f64()))
}

/// `∂/∂(x, l)` of [`continuous_bernoulli_log_prob`]: `l` and `x − mean`.
pub fn continuous_bernoulli_log_prob_grad<T: Real>(x: T, logits: T) -> [T; 2] {
    let l = logits.to_f64();
    [logits, c(x.to_f64() - at(0.5 * l).mean)]
}

/// `ln p(x)` of `ContinuousBernoulli(probs = λ)`: `x ln λ + (1 − x) ln(1 − λ) + ln C(λ)`.
#[inline]
pub fn continuous_bernoulli_log_prob_probs<T: Real>(x: T, probs: T) -> T {
    c(log_prob_at(x.to_f64(), half_logit(probs.to_f64())))
}

/// `∂/∂(x, λ)` of [`continuous_bernoulli_log_prob_probs`]: `ln(λ/(1 − λ))` and
/// `(x − mean)/(λ(1 − λ))`.
pub fn continuous_bernoulli_log_prob_probs_grad<T: Real>(x: T, probs: T) -> [T; 2] {
    let (u, s) = of_probs(probs.to_f64());
    [c(2.0 * u), c(2.0 * (x.to_f64() - at(u).mean) * s)]
}

/// Entropy of `ContinuousBernoulli(logits = l)`: `A(l) − l·mean = S(u) − u L(u)` (0 at
/// `l = 0`, the uniform; `≈ 1 − ln|l|` for large `|l|`).
///
/// ```
/// use kl_runtime::continuous_bernoulli_entropy;
/// assert_eq!(continuous_bernoulli_entropy(0.0_f64), 0.0);
/// // ≈ −l²/24 near 0.
/// assert!((continuous_bernoulli_entropy(1e-4_f64) + 1e-8 / 24.0).abs() < 1e-18);
/// ```
#[inline]
pub fn continuous_bernoulli_entropy<T: Real>(logits: T) -> T {
    c(at(0.5 * logits.to_f64()).ent)
}

/// `∂/∂l` of [`continuous_bernoulli_entropy`]: `−l var = −(u/2) L'(u)`.
pub fn continuous_bernoulli_entropy_grad<T: Real>(logits: T) -> [T; 1] {
    let u = 0.5 * logits.to_f64();
    [c(-0.5 * u * at(u).d1)]
}

/// Entropy of `ContinuousBernoulli(probs = λ)`.
#[inline]
pub fn continuous_bernoulli_entropy_probs<T: Real>(probs: T) -> T {
    c(at(half_logit(probs.to_f64())).ent)
}

/// `∂/∂λ` of [`continuous_bernoulli_entropy_probs`].
pub fn continuous_bernoulli_entropy_probs_grad<T: Real>(probs: T) -> [T; 1] {
    let (u, s) = of_probs(probs.to_f64());
    [c(-u * at(u).d1 * s)]
}

// ---- against other families (torch's kl.py) ---------------------------------------------------
//
// −ln q(x) of a continuous Bernoulli Q at u is S(u) − u(2x − 1), linear in x: against it any P
// needs only its mean and entropy.

/// `KL(P ‖ ContinuousBernoulli(u))` for a `P` on `[0, 1]` with entropy `h_p` and mean `½ + c/2`
/// (`c = 2 mean − 1`, or its complement `1 − c = 2(1 − mean)` given as `c1`, and `1 + c` as
/// `c0`, each exactly): `−h_p − u c + S(u)`, for `|u| > 2` with `S`'s linear part folded into
/// `|u|(1 + c)` or `u(1 − c)`.
#[inline]
fn against(h_p: f64, c_mid: f64, c0: f64, c1: f64, u: f64) -> f64 {
    if u.abs() <= SERIES_MAX {
        return 0.0 - h_p - u * c_mid + at(u).s;
    }
    let a = u.abs();
    let tail = (-(-2.0 * a).exp()).ln_1p() - LN_2 - a.ln();
    let lin = if u < 0.0 { c0 } else { c1 };
    a * lin + tail - h_p
}

/// `KL(Beta(a, b) ‖ ContinuousBernoulli(logits = l)) = −H(Beta) − l·a/(a + b) + A(l)`,
/// torch's `_kl_beta_continuous_bernoulli`.
#[inline]
pub fn beta_continuous_bernoulli_kl<T: Real>(a: T, b: T, logits: T) -> T {
    c(beta_cb(a.to_f64(), b.to_f64(), 0.5 * logits.to_f64()))
}

#[inline]
fn beta_cb(a: f64, b: f64, u: f64) -> f64 {
    let n = a + b;
    against(beta_entropy(a, b), (a - b) / n, 2.0 * a / n, 2.0 * b / n, u)
}

/// `∂/∂(a, b, u)` of [`beta_cb`].
#[inline]
fn beta_cb_grad(a: f64, b: f64, u: f64) -> [f64; 3] {
    let n = a + b;
    let dh = beta_entropy_grad(a, b);
    let n2 = n * n;
    [0.0 - dh[0] - u * 2.0 * b / n2, u * 2.0 * a / n2 - dh[1], 2.0 * (at(u).mean - a / n)]
}

/// `∂/∂(a, b, l)` of [`beta_continuous_bernoulli_kl`].
pub fn beta_continuous_bernoulli_kl_grad<T: Real>(a: T, b: T, logits: T) -> [T; 3] {
    let [da, db, du] = beta_cb_grad(a.to_f64(), b.to_f64(), 0.5 * logits.to_f64());
    [c(da), c(db), c(0.5 * du)]
}

/// [`beta_continuous_bernoulli_kl`] against `ContinuousBernoulli(probs = λ)`.
#[inline]
pub fn beta_continuous_bernoulli_kl_probs<T: Real>(a: T, b: T, probs: T) -> T {
    c(beta_cb(a.to_f64(), b.to_f64(), half_logit(probs.to_f64())))
}

/// `∂/∂(a, b, λ)` of [`beta_continuous_bernoulli_kl_probs`].
pub fn beta_continuous_bernoulli_kl_probs_grad<T: Real>(a: T, b: T, probs: T) -> [T; 3] {
    let (u, s) = of_probs(probs.to_f64());
    let [da, db, du] = beta_cb_grad(a.to_f64(), b.to_f64(), u);
    [c(da), c(db), c(du * s)]
}

/// `ln(high − low)`, near a width of 1 from `(high − 1) − low` (`high − 1` is exact there), so
/// that `[1e-9, 1]` against the uniform continuous Bernoulli keeps its KL of 1e-9; also where
/// the width overflows.
#[inline]
fn ln_width(low: f64, high: f64) -> f64 {
    let w = high - low;
    if (0.5..=2.0).contains(&w) && (0.5..=2.0).contains(&high) {
        ((high - 1.0) - low).ln_1p()
    } else if w.is_finite() {
        w.ln()
    } else {
        (0.5 * high - 0.5 * low).ln() + LN_2
    }
}

/// Whether `[low, high]` lies in `[0, 1]` (else a uniform `P` has mass where `Q` has none).
#[inline]
fn inside_unit(low: f64, high: f64) -> bool {
    low >= 0.0 && high <= 1.0
}

/// `KL(Uniform(low, high) ‖ ContinuousBernoulli(u))`: `−ln w − u(low + high − 1) + S(u)`,
/// `+∞` unless `0 <= low` and `high <= 1`.
#[inline]
fn uniform_cb(low: f64, high: f64, u: f64) -> f64 {
    if !inside_unit(low, high) {
        return f64::INFINITY;
    }
    let w = high - low;
    let mid = (low + high) - 1.0;
    if u.abs() <= SERIES_MAX {
        return 0.0 - ln_width(low, high) - u * mid + at(u).s;
    }
    // −ln w − ln 2|u| in one logarithm where the product is normal (a width of 1e-300 at
    // |u| = 1e300 is ln 2).
    let a = u.abs();
    let prod = 2.0 * (a * w);
    let ln_prod = if prod.is_normal() { prod.ln() } else { LN_2 + a.ln() + ln_width(low, high) };
    let lin = if u < 0.0 { low + high } else { (1.0 - low) + (1.0 - high) };
    a * lin - ln_prod + (-(-2.0 * a).exp()).ln_1p()
}

/// `∂/∂(low, high, u)` of [`uniform_cb`]: `1/w − u`, `−1/w − u`, `2 mean − low − high`.
#[inline]
fn uniform_cb_grad(low: f64, high: f64, u: f64) -> [f64; 3] {
    if !inside_unit(low, high) {
        return [0.0; 3];
    }
    let iw = (high - low).recip();
    [iw - u, 0.0 - iw - u, 2.0 * at(u).mean - low - high]
}

/// `KL(Uniform(low, high) ‖ ContinuousBernoulli(logits = l)) = −ln(high − low) − l·mid +
/// A(l)`, torch's `_kl_uniform_continuous_bernoulli`; `+∞` unless `0 <= low` and
/// `high <= 1` (an interval touching 0 or 1 is finite; torch's mask makes it `+∞`).
#[inline]
pub fn uniform_continuous_bernoulli_kl<T: Real>(low: T, high: T, logits: T) -> T {
    c(uniform_cb(low.to_f64(), high.to_f64(), 0.5 * logits.to_f64()))
}

/// `∂/∂(low, high, l)` of [`uniform_continuous_bernoulli_kl`]; 0 where the value is `+∞`.
pub fn uniform_continuous_bernoulli_kl_grad<T: Real>(low: T, high: T, logits: T) -> [T; 3] {
    let [a, b, du] = uniform_cb_grad(low.to_f64(), high.to_f64(), 0.5 * logits.to_f64());
    [c(a), c(b), c(0.5 * du)]
}

/// [`uniform_continuous_bernoulli_kl`] against `ContinuousBernoulli(probs = λ)`.
#[inline]
pub fn uniform_continuous_bernoulli_kl_probs<T: Real>(low: T, high: T, probs: T) -> T {
    c(uniform_cb(low.to_f64(), high.to_f64(), half_logit(probs.to_f64())))
}

/// `∂/∂(low, high, λ)` of [`uniform_continuous_bernoulli_kl_probs`].
pub fn uniform_continuous_bernoulli_kl_probs_grad<T: Real>(low: T, high: T, probs: T) -> [T; 3] {
    let (u, s) = of_probs(probs.to_f64());
    let [a, b, du] = uniform_cb_grad(low.to_f64(), high.to_f64(), u);
    [c(a), c(b), c(du * s)]
}

/// `KL(ContinuousBernoulli(u) ‖ Exponential(r)) = −H − ln r + r·mean`; for `u < −1`, where
/// the continuous Bernoulli is nearly the exponential of rate `2|u|` cut at 1 (the KL against
/// that one is `−ln(1 − e^(−2|u|))`), as `(ρ − 1 − ln ρ) + (2|u| − r)w − ln(1 − e^(−2|u|))`
/// with `ρ = r/(2|u|)`, `w = 1/(e^(2|u|) − 1)`.
#[inline]
fn cb_exponential(u: f64, r: f64) -> f64 {
    if u < -1.0 {
        let a = -u;
        let q = (-2.0 * a).exp();
        let w = q / (1.0 - q);
        return ratio_excess(2.0 * a, r) + (2.0 * a - r) * w - (-q).ln_1p();
    }
    let p = at(u);
    r * p.mean - r.ln() - p.ent
}

/// `∂/∂(u, r)` of [`cb_exponential`]: `L'(u)(u + r/2)` and `mean − 1/r`.
#[inline]
fn cb_exponential_grad(u: f64, r: f64) -> [f64; 2] {
    let p = at(u);
    let dr = if u < -1.0 {
        // mean = 1/(2|u|) − w: mean − 1/r = (r − 2|u|)/(2|u| r) − w.
        let a = -u;
        (r - 2.0 * a) / (2.0 * a * r) - (2.0 * a).exp_m1().recip()
    } else {
        p.mean - r.recip()
    };
    [p.d1 * (u + 0.5 * r), dr]
}

/// `KL(ContinuousBernoulli(logits = l) ‖ Exponential(rate))`, torch's
/// `_kl_continuous_bernoulli_exponential`.
#[inline]
pub fn continuous_bernoulli_exponential_kl<T: Real>(logits: T, rate: T) -> T {
    c(cb_exponential(0.5 * logits.to_f64(), rate.to_f64()))
}

/// `∂/∂(l, rate)` of [`continuous_bernoulli_exponential_kl`].
pub fn continuous_bernoulli_exponential_kl_grad<T: Real>(logits: T, rate: T) -> [T; 2] {
    let [du, dr] = cb_exponential_grad(0.5 * logits.to_f64(), rate.to_f64());
    [c(0.5 * du), c(dr)]
}

/// [`continuous_bernoulli_exponential_kl`] for `ContinuousBernoulli(probs = λ)`.
#[inline]
pub fn continuous_bernoulli_exponential_kl_probs<T: Real>(probs: T, rate: T) -> T {
    c(cb_exponential(half_logit(probs.to_f64()), rate.to_f64()))
}

/// `∂/∂(λ, rate)` of [`continuous_bernoulli_exponential_kl_probs`].
pub fn continuous_bernoulli_exponential_kl_probs_grad<T: Real>(probs: T, rate: T) -> [T; 2] {
    let (u, s) = of_probs(probs.to_f64());
    let [du, dr] = cb_exponential_grad(u, rate.to_f64());
    [c(du * s), c(dr)]
}

/// The continuous Bernoulli's [`Moments`] in `u`: mean `½(1 + L)`, sd `½√L'`, negentropy `J`.
#[inline]
fn moments(u: f64) -> Moments<f64, 1> {
    let p = at(u);
    let root = p.d1.sqrt();
    Moments {
        mean: p.mean,
        sd: 0.5 * root,
        neg: p.neg,
        d_mean: [0.5 * p.d1],
        d_sd: [0.25 * p.d2 / root],
        // J' = ½ var'/var − H' = ½ L''/L' + u L'.
        d_neg: [0.5 * p.d2 / p.d1 + u * p.d1],
    }
}

/// `KL(ContinuousBernoulli(logits = l) ‖ Normal(loc, scale))`, torch's
/// `_kl_continuous_bernoulli_normal` (`−H + ½ ln 2πσ² + (var + (mean − loc)²)/(2σ²)`), as the
/// negentropy `J` plus the normal KL of the moment-matched normal ([`to_normal`]).
#[inline]
pub fn continuous_bernoulli_normal_kl<T: Real>(logits: T, loc: T, scale: T) -> T {
    c(to_normal(&moments(0.5 * logits.to_f64()), loc.to_f64(), scale.to_f64()))
}

/// `∂/∂(l, loc, scale)` of [`continuous_bernoulli_normal_kl`].
pub fn continuous_bernoulli_normal_kl_grad<T: Real>(logits: T, loc: T, scale: T) -> [T; 3] {
    let mut g = [0.0; 3];
    to_normal_grad(&moments(0.5 * logits.to_f64()), loc.to_f64(), scale.to_f64(), &mut g);
    [c(0.5 * g[0]), c(g[1]), c(g[2])]
}

/// [`continuous_bernoulli_normal_kl`] for `ContinuousBernoulli(probs = λ)`.
#[inline]
pub fn continuous_bernoulli_normal_kl_probs<T: Real>(probs: T, loc: T, scale: T) -> T {
    c(to_normal(&moments(half_logit(probs.to_f64())), loc.to_f64(), scale.to_f64()))
}

/// `∂/∂(λ, loc, scale)` of [`continuous_bernoulli_normal_kl_probs`].
pub fn continuous_bernoulli_normal_kl_probs_grad<T: Real>(probs: T, loc: T, scale: T) -> [T; 3] {
    let (u, s) = of_probs(probs.to_f64());
    let mut g = [0.0; 3];
    to_normal_grad(&moments(u), loc.to_f64(), scale.to_f64(), &mut g);
    [c(g[0] * s), c(g[1]), c(g[2])]
}

/// Whether `[low, high]` covers `[0, 1]` (else the continuous Bernoulli has mass where the
/// uniform has none).
#[inline]
fn covers_unit(low: f64, high: f64) -> bool {
    low <= 0.0 && high >= 1.0
}

/// `KL(ContinuousBernoulli(u) ‖ Uniform(low, high)) = ln(high − low) − H`, `+∞` unless the
/// interval covers `[0, 1]`.
#[inline]
fn cb_uniform(u: f64, low: f64, high: f64) -> f64 {
    if !covers_unit(low, high) {
        return f64::INFINITY;
    }
    ln_width(low, high) - at(u).ent
}

/// `∂/∂(u, low, high)` of [`cb_uniform`]: `u L'(u)`, `−1/w`, `1/w`; 0 where it is `+∞`.
#[inline]
fn cb_uniform_grad(u: f64, low: f64, high: f64) -> [f64; 3] {
    if !covers_unit(low, high) {
        return [0.0; 3];
    }
    let iw = (high - low).recip();
    [u * at(u).d1, 0.0 - iw, iw]
}

/// `KL(ContinuousBernoulli(logits = l) ‖ Uniform(low, high))`, torch's
/// `_kl_continuous_bernoulli_uniform`: `ln(high − low) − H`, `+∞` unless `low <= 0` and
/// `high >= 1` (exactly `[0, 1]` is finite; torch's mask makes it `+∞`).
#[inline]
pub fn continuous_bernoulli_uniform_kl<T: Real>(logits: T, low: T, high: T) -> T {
    c(cb_uniform(0.5 * logits.to_f64(), low.to_f64(), high.to_f64()))
}

/// `∂/∂(l, low, high)` of [`continuous_bernoulli_uniform_kl`].
pub fn continuous_bernoulli_uniform_kl_grad<T: Real>(logits: T, low: T, high: T) -> [T; 3] {
    let [du, a, b] = cb_uniform_grad(0.5 * logits.to_f64(), low.to_f64(), high.to_f64());
    [c(0.5 * du), c(a), c(b)]
}

/// [`continuous_bernoulli_uniform_kl`] for `ContinuousBernoulli(probs = λ)`.
#[inline]
pub fn continuous_bernoulli_uniform_kl_probs<T: Real>(probs: T, low: T, high: T) -> T {
    c(cb_uniform(half_logit(probs.to_f64()), low.to_f64(), high.to_f64()))
}

/// `∂/∂(λ, low, high)` of [`continuous_bernoulli_uniform_kl_probs`].
pub fn continuous_bernoulli_uniform_kl_probs_grad<T: Real>(probs: T, low: T, high: T) -> [T; 3] {
    let (u, s) = of_probs(probs.to_f64());
    let [du, a, b] = cb_uniform_grad(u, low.to_f64(), high.to_f64());
    [c(du * s), c(a), c(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f` at `x`, against `g`, with steps relative to each coordinate
    /// (a probability of 1e-6 has third derivatives of 1e15) and the rounding of `f`'s value
    /// in the tolerance (a KL of 450 at logits −900).
    fn fd<const N: usize>(f: impl Fn([f64; N]) -> f64, g: [f64; N], x: [f64; N]) {
        for k in 0..N {
            let h = 1e-6 * if x[k] == 0.0 { 1.0 } else { x[k].abs() };
            let (mut a, mut b) = (x, x);
            a[k] += h;
            b[k] -= h;
            let want = (f(a) - f(b)) / (2.0 * h);
            let tol = 1e-6 * want.abs().max(1.0) + 8.0 * f64::EPSILON * f(x).abs() / h;
            assert!((g[k] - want).abs() <= tol, "∂{k} at {x:?}: {} vs {want}", g[k]);
        }
    }

    #[test]
    fn gradients_agree_with_finite_differences() {
        let logits = [-900.0, -30.0, -5.0, -4.1, -3.9, -1.0, -1e-3, 0.0, 0.7, 2.5, 3.99, 4.01, 12.0, 700.0];
        for &a in &logits {
            for &b in &logits {
                fd(|x| continuous_bernoulli_kl_logits(x[0], x[1]), continuous_bernoulli_kl_logits_grad(a, b), [a, b]);
            }
            fd(|x| continuous_bernoulli_entropy(x[0]), continuous_bernoulli_entropy_grad(a), [a]);
            for x in [0.0, 0.3, 1.0] {
                fd(|v| continuous_bernoulli_log_prob(x, v[0]), [continuous_bernoulli_log_prob_grad(x, a)[1]], [a]);
            }
            fd(
                |x| continuous_bernoulli_exponential_kl(x[0], x[1]),
                continuous_bernoulli_exponential_kl_grad(a, 1.7),
                [a, 1.7],
            );
            fd(
                |x| continuous_bernoulli_normal_kl(x[0], x[1], x[2]),
                continuous_bernoulli_normal_kl_grad(a, 0.3, 0.8),
                [a, 0.3, 0.8],
            );
            fd(
                |x| continuous_bernoulli_uniform_kl(x[0], x[1], x[2]),
                continuous_bernoulli_uniform_kl_grad(a, -0.5, 1.2),
                [a, -0.5, 1.2],
            );
            fd(
                |x| uniform_continuous_bernoulli_kl(x[0], x[1], x[2]),
                uniform_continuous_bernoulli_kl_grad(0.2, 0.7, a),
                [0.2, 0.7, a],
            );
            fd(
                |x| beta_continuous_bernoulli_kl(x[0], x[1], x[2]),
                beta_continuous_bernoulli_kl_grad(1.5, 0.7, a),
                [1.5, 0.7, a],
            );
        }
        let probs = [1e-6, 0.1, 0.3, 0.499, 0.5, 0.5001, 0.8, 0.99];
        for &p in &probs {
            for &q in &probs {
                fd(|x| continuous_bernoulli_kl_probs(x[0], x[1]), continuous_bernoulli_kl_probs_grad(p, q), [p, q]);
                let l = 2.0 * half_logit(q);
                fd(
                    |x| continuous_bernoulli_kl_probs_logits(x[0], x[1]),
                    continuous_bernoulli_kl_probs_logits_grad(p, l),
                    [p, l],
                );
                fd(
                    |x| continuous_bernoulli_kl_logits_probs(x[0], x[1]),
                    continuous_bernoulli_kl_logits_probs_grad(l, p),
                    [l, p],
                );
            }
            fd(|x| continuous_bernoulli_entropy_probs(x[0]), continuous_bernoulli_entropy_probs_grad(p), [p]);
            fd(
                |v| continuous_bernoulli_log_prob_probs(0.25, v[0]),
                [continuous_bernoulli_log_prob_probs_grad(0.25, p)[1]],
                [p],
            );
            fd(
                |x| continuous_bernoulli_exponential_kl_probs(x[0], x[1]),
                continuous_bernoulli_exponential_kl_probs_grad(p, 0.6),
                [p, 0.6],
            );
            fd(
                |x| continuous_bernoulli_normal_kl_probs(x[0], x[1], x[2]),
                continuous_bernoulli_normal_kl_probs_grad(p, -0.2, 1.4),
                [p, -0.2, 1.4],
            );
            fd(
                |x| continuous_bernoulli_uniform_kl_probs(x[0], x[1], x[2]),
                continuous_bernoulli_uniform_kl_probs_grad(p, -0.1, 1.0),
                [p, -0.1, 1.0],
            );
            fd(
                |x| uniform_continuous_bernoulli_kl_probs(x[0], x[1], x[2]),
                uniform_continuous_bernoulli_kl_probs_grad(0.0, 0.4, p),
                [0.0, 0.4, p],
            );
            fd(
                |x| beta_continuous_bernoulli_kl_probs(x[0], x[1], x[2]),
                beta_continuous_bernoulli_kl_probs_grad(2.0, 3.0, p),
                [2.0, 3.0, p],
            );
        }
        // log_prob's value: ∂x = l.
        fd(|v| continuous_bernoulli_log_prob(v[0], 1.3), [continuous_bernoulli_log_prob_grad(0.4, 1.3)[0]], [0.4]);
    }

    #[test]
    fn p_against_itself_is_exactly_zero_with_a_zero_gradient() {
        for l in [-700.0_f64, -3.0, -2.0, -0.5, 0.0, 1e-9, 1.0, 2.0, 2.5, 40.0] {
            assert_eq!(continuous_bernoulli_kl_logits(l, l), 0.0, "{l}");
            assert_eq!(continuous_bernoulli_kl_logits_grad(l, l), [0.0, 0.0], "{l}");
        }
        for p in [1e-300_f64, 0.1, 0.5, 0.75, 1.0 - 2f64.powi(-53)] {
            assert_eq!(continuous_bernoulli_kl_probs(p, p), 0.0, "{p}");
            assert_eq!(continuous_bernoulli_kl_probs_grad(p, p), [0.0, 0.0], "{p}");
        }
        // Beta(1, 1) and Uniform(0, 1) are the continuous Bernoulli at logits 0 (the Beta
        // entropy leaves an ulp).
        assert!(beta_continuous_bernoulli_kl(1.0_f64, 1.0, 0.0).abs() < 1e-15);
        assert_eq!(uniform_continuous_bernoulli_kl(0.0_f64, 1.0, 0.0), 0.0);
        assert_eq!(continuous_bernoulli_uniform_kl(0.0_f64, 0.0, 1.0), 0.0);
    }

    #[test]
    fn the_probability_and_logit_forms_agree() {
        for (p, q) in [(0.3_f64, 0.6), (0.9, 0.2), (0.01, 0.02), (0.5, 0.25), (1e-9, 0.7)] {
            let (l1, l2) = (2.0 * half_logit(p), 2.0 * half_logit(q));
            let want = continuous_bernoulli_kl_logits(l1, l2);
            for got in [
                continuous_bernoulli_kl_probs(p, q),
                continuous_bernoulli_kl_probs_logits(p, l2),
                continuous_bernoulli_kl_logits_probs(l1, q),
            ] {
                assert!((got - want).abs() <= 1e-14 * want, "{p} {q}: {got} vs {want}");
            }
        }
        // The f32 kernels round the f64 value.
        let (a, b) = (0.3_f32, 0.6_f32);
        assert_eq!(continuous_bernoulli_kl_probs(a, b), continuous_bernoulli_kl_probs(a as f64, b as f64) as f32);
    }

    #[test]
    fn probs_of_zero_or_one_are_reported() {
        assert_eq!(
            continuous_bernoulli_kl_probs_check(0.5_f64, 1.0),
            Err(Violation::OutsideOpen { slot: 1, lo: 0.0, hi: 1.0, value: 1.0 })
        );
        assert!(continuous_bernoulli_kl_probs_check(0.0_f64, 0.5).is_err());
        assert!(continuous_bernoulli_probs_check(1e-300_f64).is_ok());
        assert!(uniform_continuous_bernoulli_probs_check(0.0_f64, 1.0, 0.0).is_err());
        assert!(uniform_continuous_bernoulli_probs_check(1.0_f64, 0.0, 0.5).is_err());
        assert!(continuous_bernoulli_uniform_check(0.5_f64, 1.0, 1.0).is_err());
    }

    #[test]
    fn supports_that_do_not_nest_are_infinite() {
        assert_eq!(uniform_continuous_bernoulli_kl(-1e-300_f64, 0.5, 1.0), f64::INFINITY);
        assert_eq!(uniform_continuous_bernoulli_kl(0.5_f64, 1.0 + 1e-15, 1.0), f64::INFINITY);
        assert!(uniform_continuous_bernoulli_kl(0.0_f64, 1.0, 3.0).is_finite());
        assert_eq!(continuous_bernoulli_uniform_kl(1.0_f64, 1e-300, 2.0), f64::INFINITY);
        assert_eq!(continuous_bernoulli_uniform_kl(1.0_f64, -1.0, 1.0 - 1e-15), f64::INFINITY);
        assert_eq!(continuous_bernoulli_uniform_kl_grad(1.0_f64, 0.5, 2.0), [0.0; 3]);
    }
}
