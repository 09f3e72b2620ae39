//! KL divergences between distributions of different families: the cross-family pairs of
//! torch.distributions' `kl.py`, each written from the parameters in a form whose terms do not
//! cancel at extreme scales (ratios of scales, never differences of their logarithms).
//!
//! # Against a normal
//!
//! For any `P` with mean `m`, standard deviation `s` and entropy `H`,
//! `−E_P[ln q] = ½ ln(2πσ²) + (s² + (m − μ)²)/(2σ²)` for `q = N(μ, σ²)`, so
//!
//! ```text
//! KL(P ‖ N(μ, σ²)) = J(P) + KL(N(m, s²) ‖ N(μ, σ²)),   J(P) = ½ ln(2πe s²) − H(P) >= 0,
//! ```
//!
//! the negentropy `J` of `P` (how far its shape is from a normal's; it depends on the shape
//! parameters only, and is a constant for location–scale families) plus the normal KL of the
//! moment-matched normal ([`crate::normal_kl`], stable near equal moments). Each family gives
//! its [`Moments`]; [`to_normal`] and [`to_normal_grad`] do the rest.
//!
//! # Value-dependent infinities
//!
//! As in torch: a Pareto `P` with `alpha <= 1` has no mean (KL against an exponential or a
//! gamma is `+∞`) and with `alpha <= 2` no variance (against a normal); a uniform `P` reaching
//! below 0 (against an exponential or a gamma), outside `[0, 1]` (against a beta) or below a
//! Pareto's scale; a beta `P` against a uniform that does not cover `[0, 1]`. Boundaries that
//! touch (`low == 0` against an exponential) are finite, as in torch. The gradient is 0 where
//! the value is `+∞`.
//!
//! Every kernel is elementwise and generic over [`Real`]; the checked entry points validate the
//! parameters first (positive scales, rates and concentrations; `low < high`).

use crate::beta::{beta_entropy, beta_entropy_grad, ln_beta};
use crate::error::Violation;
use crate::gumbel::EULER;
use crate::real::Real;
use crate::scalar::{log1pmx, normal_kl, ratio_excess};
use crate::special::{digamma, digamma_diff, digamma_tail, lgamma, lgamma_correction, trigamma, STIRLING_MIN};
use crate::uniform::check_interval;

/// `ln 2π`.
const LN_2PI: f64 = <f64 as Real>::LN_2PI;
/// π.
const PI: f64 = core::f64::consts::PI;

fn c<T: Real>(x: f64) -> T {
    T::from_f64(x)
}

/// The mean `m`, standard deviation `s` and negentropy `J` of a distribution with `N`
/// parameters, with their partials in the parameters.
#[derive(Clone, Copy, Debug)]
pub struct Moments<T, const N: usize> {
    pub mean: T,
    pub sd: T,
    pub neg: T,
    pub d_mean: [T; N],
    pub d_sd: [T; N],
    pub d_neg: [T; N],
}

/// `KL(P ‖ N(mu, sigma²)) = J(P) + KL(N(m, s²) ‖ N(mu, sigma²))` from `P`'s [`Moments`].
#[inline]
pub fn to_normal<T: Real, const N: usize>(p: &Moments<T, N>, mu: T, sigma: T) -> T {
    p.neg + normal_kl(p.mean, p.sd, mu, sigma)
}

/// `∂/∂(P's parameters.., mu, sigma)` of [`to_normal`], with the normal KL's partials
/// `δ/σ`, `(r − 1/r)/σ` (from `u = (s − σ)/σ`), `−δ/σ`, `(1 − r² − δ²)/σ`, `δ = (m − μ)/σ`,
/// `r = s/σ`. `out` has `N + 2` entries.
#[inline]
pub fn to_normal_grad<T: Real, const N: usize>(p: &Moments<T, N>, mu: T, sigma: T, out: &mut [T]) {
    let delta = (p.mean - mu) / sigma;
    let u = (p.sd - sigma) / sigma;
    let r = T::ONE + u;
    // r − 1/r = u (2 + u) / (1 + u) near r = 1; 1 − r² = −u (2 + u). Far from it, r/σ − 1/s,
    // which stays finite where r underflows (s = 1e-100 against σ = 1).
    let d_sd = if u.abs() < T::HALF { u * (T::TWO + u) / r / sigma } else { p.sd / sigma / sigma - p.sd.recip() };
    let d_mean = delta / sigma;
    for (k, o) in out[..N].iter_mut().enumerate() {
        *o = p.d_neg[k] + d_mean * p.d_mean[k] + d_sd * p.d_sd[k];
    }
    out[N] = -d_mean;
    out[N + 1] = (T::ZERO - u * (T::TWO + u) - delta * delta) / sigma;
}

/// `Laplace(loc, scale)`: mean `loc`, sd `√2 scale`, `J = ½ ln π − ½`.
#[inline]
pub fn laplace_moments<T: Real>(loc: T, scale: T) -> Moments<T, 2> {
    let r2 = c::<T>(core::f64::consts::SQRT_2);
    Moments {
        mean: loc,
        sd: r2 * scale,
        neg: c(0.5 * PI.ln() - 0.5),
        d_mean: [T::ONE, T::ZERO],
        d_sd: [T::ZERO, r2],
        d_neg: [T::ZERO; 2],
    }
}

/// `Gumbel(loc, scale)`: mean `loc + γ scale`, sd `π scale / √6`, `J = ½ ln(π³e/3) − 1 − γ`.
#[inline]
pub fn gumbel_moments<T: Real>(loc: T, scale: T) -> Moments<T, 2> {
    let k = c::<T>(PI / 6f64.sqrt());
    Moments {
        mean: c::<T>(EULER).mul_add(scale, loc),
        sd: k * scale,
        neg: c(0.5 * (3.0 * PI.ln() + 1.0 - 3f64.ln()) - 1.0 - EULER),
        d_mean: [T::ONE, c(EULER)],
        d_sd: [T::ZERO, k],
        d_neg: [T::ZERO; 2],
    }
}

/// `Exponential(rate)`: mean and sd `1/rate`, `J = ½ (ln 2π − 1)`.
#[inline]
pub fn exponential_moments<T: Real>(rate: T) -> Moments<T, 1> {
    let m = rate.recip();
    let d = -(m * m);
    Moments { mean: m, sd: m, neg: c(0.5 * (LN_2PI - 1.0)), d_mean: [d], d_sd: [d], d_neg: [T::ZERO] }
}

/// `Uniform(low, high)`: mean `(low + high)/2`, sd `(high − low)/√12`, `J = ½ ln(πe/6)`.
#[inline]
pub fn uniform_moments<T: Real>(low: T, high: T) -> Moments<T, 2> {
    let k = c::<T>(1.0 / 12f64.sqrt());
    Moments {
        mean: T::HALF * low + T::HALF * high,
        sd: (high - low) * k,
        neg: c(0.5 * (PI.ln() + 1.0 - 6f64.ln())),
        d_mean: [T::HALF, T::HALF],
        d_sd: [T::ZERO - k, k],
        d_neg: [T::ZERO; 2],
    }
}

/// `Gamma(concentration a, rate b)`: mean `a/b`, sd `√a/b`, and
/// `J(a) = ½ ln(2πa) + ½ − a − lnΓ(a) + (a − 1)ψ(a)`; for `a >= 10`, where those terms cancel
/// to about `1/(3a)`, as `1/(2a) − c(a) − (a − 1)d(a)` with the Stirling tails `c`, `d`
/// ([`lgamma_correction`], [`digamma_tail`]), and `J'(a) = 1/(2a) − 1 + (a − 1)ψ'(a)` as
/// `−1/(2a²) + (a − 1)t(a)` with the trigamma tail `t(a) = ψ'(a) − 1/a − 1/(2a²)`.
#[inline]
pub fn gamma_moments<T: Real>(a: T, b: T) -> Moments<T, 2> {
    let (neg, d_neg) = gamma_negentropy(a);
    let root = a.sqrt();
    Moments {
        mean: a / b,
        sd: root / b,
        neg,
        d_mean: [b.recip(), -(a / b) / b],
        d_sd: [T::HALF / (root * b), -(root / b) / b],
        d_neg: [d_neg, T::ZERO],
    }
}

/// `(J(a), J'(a))` of [`gamma_moments`].
#[inline]
fn gamma_negentropy<T: Real>(a: T) -> (T, T) {
    if a.to_f64() >= STIRLING_MIN {
        let neg = T::HALF / a - lgamma_correction(a) - (a - T::ONE) * digamma_tail(a);
        (neg, (a - T::ONE) * trigamma_tail(a) - T::HALF / (a * a))
    } else {
        let two_pi = c::<T>(core::f64::consts::TAU);
        let neg = T::HALF * (two_pi * a).ln() + T::HALF - a - lgamma(a) + (a - T::ONE) * digamma(a);
        (neg, T::HALF / a - T::ONE + (a - T::ONE) * trigamma(a))
    }
}

/// `ψ'(x) − 1/x − 1/(2x²) = Σ B₂ₖ / x^(2k+1)` for `x >= 10` (seven terms: below 1e-17 of the
/// first there).
#[inline]
fn trigamma_tail<T: Real>(x: T) -> T {
    // B₂ₖ for k = 1..7.
    const B: [f64; 7] = [1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0, 7.0 / 6.0];
    let z = (x * x).recip();
    let mut s = T::ZERO;
    for &b in B.iter().rev() {
        s = s * z + c(b);
    }
    s * z / x
}

/// `Beta(a, b)` (`n = a + b`): mean `a/n`, sd `√(ab/(n + 1))/n`, `J = ½ ln(2πe sd²) − H`; for
/// `min(a, b) >= 10`, where both sides grow like `ln n` and cancel, as
/// `1/(2a) + 1/(2b) − 1/n − ½ ln(1 + 1/n) − (c(a) + c(b) − c(n)) − ((a − 1)d(a) + (b − 1)d(b) −
/// (n − 2)d(n))` with the Stirling tails.
#[inline]
pub fn beta_moments<T: Real>(a: T, b: T) -> Moments<T, 2> {
    let n = a + b;
    let mean = a / n;
    let sd = (a * b / (n + T::ONE)).sqrt() / n;
    // ∂ ln sd / ∂a = 1/(2a) − 1/(2(n + 1)) − 1/n, and its mirror.
    let common = T::HALF / (n + T::ONE) + n.recip();
    let dl = [T::HALF / a - common, T::HALF / b - common];
    let neg = if a.to_f64().min(b.to_f64()) >= STIRLING_MIN {
        let cc = lgamma_correction(a) + lgamma_correction(b) - lgamma_correction(n);
        let d = (a - T::ONE) * digamma_tail(a) + (b - T::ONE) * digamma_tail(b) - (n - T::TWO) * digamma_tail(n);
        T::HALF / a + T::HALF / b - n.recip() - T::HALF * n.recip().ln_1p() - cc - d
    } else {
        T::HALF * (c::<T>(LN_2PI + 1.0) + T::TWO * sd.ln()) - beta_entropy(a, b)
    };
    let dh = beta_entropy_grad(a, b);
    Moments {
        mean,
        sd,
        neg,
        d_mean: [b / (n * n), -a / (n * n)],
        d_sd: [sd * dl[0], sd * dl[1]],
        d_neg: [dl[0] - dh[0], dl[1] - dh[1]],
    }
}

/// `Pareto(scale s, alpha a)` for `a > 2`: mean `as/(a − 1)`, sd `s √(a/(a − 2))/(a − 1)`,
/// `J(a) = ½ (ln 2π − 1) − ln(1 − 1/a) − ½ ln(1 − 2/a) − 1/a`.
#[inline]
pub fn pareto_moments<T: Real>(s: T, a: T) -> Moments<T, 2> {
    let am1 = a - T::ONE;
    let am2 = a - T::TWO;
    let sd = s / am1 * (a / am2).sqrt();
    let ia = a.recip();
    let neg = c::<T>(0.5 * (LN_2PI - 1.0)) - (-ia).ln_1p() - T::HALF * (-T::TWO * ia).ln_1p() - ia;
    let d_neg = ia * ia - (a * am1).recip() - (a * am2).recip();
    Moments {
        mean: a * s / am1,
        sd,
        neg,
        d_mean: [a / am1, -s / (am1 * am1)],
        d_sd: [sd / s, sd * (T::HALF * ia - am1.recip() - T::HALF / am2)],
        d_neg: [T::ZERO, d_neg],
    }
}

macro_rules! to_normal_kernels {
    ($(#[$doc:meta])* $kl:ident, $grad:ident, $moments:ident, [$($p:ident),+], $n:literal $(, inf: $inf:expr)?) => {
        $(#[$doc])*
        #[inline]
        pub fn $kl<T: Real>($($p: T,)+ loc: T, scale: T) -> T {
            $(if $inf { return T::INFINITY; })?
            to_normal(&$moments($($p),+), loc, scale)
        }

        #[doc = concat!("`∂/∂(P's parameters, loc, scale)` of [`", stringify!($kl), "`], from the moments' partials.")]
        pub fn $grad<T: Real>($($p: T,)+ loc: T, scale: T) -> [T; $n + 2] {
            let mut out = [T::ZERO; $n + 2];
            $(if $inf { return out; })?
            to_normal_grad(&$moments($($p),+), loc, scale, &mut out);
            out
        }
    };
}

to_normal_kernels!(
    /// `KL(Laplace(m1, b1) ‖ Normal(m2, s2))`: `J + KL(N(m1, 2b1²) ‖ N(m2, s2²))` (module docs).
    laplace_normal_kl, laplace_normal_kl_grad, laplace_moments, [m1, b1], 2
);
to_normal_kernels!(
    /// `KL(Gumbel(m1, b1) ‖ Normal(m2, s2))`: `J + KL(N(m1 + γb1, π²b1²/6) ‖ N(m2, s2²))`.
    gumbel_normal_kl, gumbel_normal_kl_grad, gumbel_moments, [m1, b1], 2
);
to_normal_kernels!(
    /// `KL(Exponential(r) ‖ Normal(m2, s2))`: `J + KL(N(1/r, 1/r²) ‖ N(m2, s2²))`.
    exponential_normal_kl, exponential_normal_kl_grad, exponential_moments, [r], 1
);
to_normal_kernels!(
    /// `KL(Gamma(a, b) ‖ Normal(m2, s2))`: `J(a) + KL(N(a/b, a/b²) ‖ N(m2, s2²))`.
    gamma_normal_kl, gamma_normal_kl_grad, gamma_moments, [a, b], 2
);
to_normal_kernels!(
    /// `KL(Beta(a, b) ‖ Normal(m2, s2))`: `J(a, b) + KL(N(mean, var) ‖ N(m2, s2²))`.
    beta_normal_kl, beta_normal_kl_grad, beta_moments, [a, b], 2
);
to_normal_kernels!(
    /// `KL(Pareto(s, a) ‖ Normal(m2, s2))`: `J(a) + KL(N(mean, var) ‖ N(m2, s2²))`, `+∞` for
    /// `a <= 2` (no variance).
    pareto_normal_kl, pareto_normal_kl_grad, pareto_moments, [s, a], 2, inf: a <= T::TWO
);
to_normal_kernels!(
    /// `KL(Uniform(low, high) ‖ Normal(m2, s2))`: `½ ln(πe/6) + KL(N(mid, w²/12) ‖ N(m2, s2²))`.
    uniform_normal_kl, uniform_normal_kl_grad, uniform_moments, [low, high], 2
);

/// The interval rule of a uniform `P` in operands 0 and 1.
pub fn uniform_first_check<T: Real>(low: T, high: T, _: T, _: T) -> Result<(), Violation> {
    check_interval(low, high, 0)
}

/// The interval rule of a uniform `P` in operands 0 and 1 (a one-parameter `Q`).
pub fn uniform_first_check3<T: Real>(low: T, high: T, _: T) -> Result<(), Violation> {
    check_interval(low, high, 0)
}

/// The interval rule of a uniform `Q` in operands 2 and 3.
pub fn uniform_second_check<T: Real>(_: T, _: T, low: T, high: T) -> Result<(), Violation> {
    check_interval(low, high, 2)
}

// ---- against a Gumbel ---------------------------------------------------------------------
//
// −ln q(x) = ln β + z + e^(−z), z = (x − μ)/β: KL = −H(P) + ln β + E[z] + e^(μ/β) M_P(−1/β),
// with M_P P's moment generating function.

/// `KL(Normal(m1, s1) ‖ Gumbel(m2, b2)) = −ln ρ − ½(1 + ln 2π) + δ + e^(−δ + ρ²/2)`,
/// `ρ = s1/b2`, `δ = (m1 − m2)/b2`.
#[inline]
pub fn normal_gumbel_kl<T: Real>(m1: T, s1: T, m2: T, b2: T) -> T {
    let (rho, delta) = (s1 / b2, (m1 - m2) / b2);
    let e = (T::HALF * rho * rho - delta).exp();
    (delta - rho.ln()) + e - c::<T>(0.5 * (1.0 + LN_2PI))
}

/// `∂/∂(m1, s1, m2, b2)` of [`normal_gumbel_kl`]: with `E = e^(−δ + ρ²/2)`, `∂δ = 1 − E`,
/// `∂ρ = ρE − 1/ρ`.
pub fn normal_gumbel_kl_grad<T: Real>(m1: T, s1: T, m2: T, b2: T) -> [T; 4] {
    let (rho, delta) = (s1 / b2, (m1 - m2) / b2);
    let e = (T::HALF * rho * rho - delta).exp();
    let (dd, dr) = (T::ONE - e, rho * e - rho.recip());
    [dd / b2, dr / b2, -dd / b2, -(delta * dd + rho * dr) / b2]
}

/// `KL(Exponential(r) ‖ Gumbel(m2, b2)) = ln k − 1 + 1/k − ν + e^ν k/(k + 1)`, `k = r b2`,
/// `ν = m2/b2`.
#[inline]
pub fn exponential_gumbel_kl<T: Real>(r: T, m2: T, b2: T) -> T {
    let (k, nu) = (r * b2, m2 / b2);
    (k.ln() - T::ONE + k.recip()) + (nu.exp() * (k / (k + T::ONE)) - nu)
}

/// `∂/∂(r, m2, b2)` of [`exponential_gumbel_kl`]: `∂k = 1/k − 1/k² + e^ν/(k + 1)²`,
/// `∂ν = e^ν k/(k + 1) − 1`.
pub fn exponential_gumbel_kl_grad<T: Real>(r: T, m2: T, b2: T) -> [T; 3] {
    let (k, nu) = (r * b2, m2 / b2);
    let e = nu.exp();
    let k1 = k + T::ONE;
    let dk = (k - T::ONE) / (k * k) + e / (k1 * k1);
    let dn = e * k / k1 - T::ONE;
    [b2 * dk, dn / b2, r * dk - nu * dn / b2]
}

/// `−a − lnΓ(a) + (a − 1)ψ(a) = J(a) − ½ ln(2πa) − ½`: the part of `−H(Gamma(a, b))` that
/// does not depend on `b`, through the stable negentropy of [`gamma_moments`].
#[inline]
fn gamma_shape_term<T: Real>(a: T) -> T {
    let two_pi = c::<T>(core::f64::consts::TAU);
    gamma_negentropy(a).0 - T::HALF * (two_pi * a).ln() - T::HALF
}

/// `KL(Gamma(a, b) ‖ Gumbel(m2, b2)) = ln k − a − lnΓ(a) + (a − 1)ψ(a) + a/k − ν +
/// exp(ν − a ln(1 + 1/k))`, `k = b b2`, `ν = m2/b2`.
#[inline]
pub fn gamma_gumbel_kl<T: Real>(a: T, b: T, m2: T, b2: T) -> T {
    let (k, nu) = (b * b2, m2 / b2);
    let e = (nu - a * k.recip().ln_1p()).exp();
    (k.ln() + gamma_shape_term(a)) + (a / k - nu) + e
}

/// `∂/∂(a, b, m2, b2)` of [`gamma_gumbel_kl`]: with `E = exp(ν − a ln(1 + 1/k))`,
/// `∂a = (a − 1)ψ'(a) − 1 + 1/k − E ln(1 + 1/k)`, `∂k = 1/k − a/k² + E a/(k(k + 1))`,
/// `∂ν = E − 1`.
pub fn gamma_gumbel_kl_grad<T: Real>(a: T, b: T, m2: T, b2: T) -> [T; 4] {
    let (k, nu) = (b * b2, m2 / b2);
    let l = k.recip().ln_1p();
    let e = (nu - a * l).exp();
    let da = (a - T::ONE) * trigamma(a) - T::ONE + k.recip() - e * l;
    let dk = (k - a) / (k * k) + e * a / (k * (k + T::ONE));
    let dn = e - T::ONE;
    [da, b2 * dk, dn / b2, b * dk - nu * dn / b2]
}

/// `sinh(x)/x` and its derivative `(x cosh x − sinh x)/x²`, by their series near 0.
#[inline]
fn sinhc<T: Real>(x: T) -> (T, T) {
    let z = x * x;
    if x.abs() < c(0.5) {
        // Σ z^k/(2k + 1)! and Σ 2k x^(2k−1)/(2k + 1)!, to z^8 (below 1e-17 at |x| < 0.5).
        let mut s = T::ZERO;
        let mut d = T::ZERO;
        for (k, &f) in INV_ODD_FACT.iter().enumerate().rev() {
            s = s * z + c(f);
            if k > 0 {
                d = d * z + c((2 * k) as f64 * f);
            }
        }
        (s, d * x)
    } else {
        let (ep, em) = (x.exp(), (-x).exp());
        let (sh, ch) = (T::HALF * (ep - em), T::HALF * (ep + em));
        (sh / x, (x * ch - sh) / z)
    }
}

/// `1/(2k + 1)!` for `k = 0..=8`.
const INV_ODD_FACT: [f64; 9] = [
    1.0,
    1.0 / 6.0,
    1.0 / 120.0,
    1.0 / 5040.0,
    1.0 / 362_880.0,
    1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];

/// `KL(Uniform(low, high) ‖ Gumbel(m2, b2)) = −ln ω + z + e^(−z) sinh(ω/2)/(ω/2)`, with
/// `ω = (high − low)/b2` and `z = (mid − m2)/b2`; where `ω/2 > 20`, the last term as
/// `e^(−(low − m2)/b2)(1 − e^(−ω))/ω` (sinh would overflow first).
#[inline]
pub fn uniform_gumbel_kl<T: Real>(low: T, high: T, m2: T, b2: T) -> T {
    let (w, z) = uniform_gumbel_args(low, high, m2, b2);
    let last =
        if w > c(40.0) { (-(low - m2) / b2).exp() * -(-w).exp_m1() / w } else { (-z).exp() * sinhc(T::HALF * w).0 };
    (z - w.ln()) + last
}

#[inline]
fn uniform_gumbel_args<T: Real>(low: T, high: T, m2: T, b2: T) -> (T, T) {
    ((high - low) / b2, T::HALF * ((low - m2) + (high - m2)) / b2)
}

/// `∂/∂(low, high, m2, b2)` of [`uniform_gumbel_kl`]: with `A = e^(−z) S(ω/2)`,
/// `∂z = 1 − A`, `∂ω = −1/ω + e^(−z) S'(ω/2)/2`.
pub fn uniform_gumbel_kl_grad<T: Real>(low: T, high: T, m2: T, b2: T) -> [T; 4] {
    let (w, z) = uniform_gumbel_args(low, high, m2, b2);
    let (a, ds) = if w > c(40.0) {
        // A = e^(−z)(e^(ω/2) − e^(−ω/2))/ω; ∂A/∂ω = e^(−z) cosh(ω/2)/ω − A/ω.
        let el = (-(low - m2) / b2).exp();
        let a = el * -(-w).exp_m1() / w;
        (a, (el * T::HALF * (T::ONE + (-w).exp()) - a) / w)
    } else {
        let (s, d) = sinhc(T::HALF * w);
        let e = (-z).exp();
        (e * s, T::HALF * e * d)
    };
    let (dz, dw) = (T::ONE - a, ds - w.recip());
    [(T::HALF * dz - dw) / b2, (T::HALF * dz + dw) / b2, -dz / b2, -(z * dz + w * dw) / b2]
}

// ---- Normal against a Laplace ------------------------------------------------------------

/// `E|Z + u|` for a standard normal `Z`: `√(2/π) e^(−u²/2) + u erf(u/√2)`, and its derivative
/// `erf(u/√2)`.
#[inline]
fn folded_mean<T: Real>(u: T) -> (T, T) {
    let erf = (u * c(core::f64::consts::FRAC_1_SQRT_2)).erf();
    (c::<T>((2.0 / PI).sqrt()) * (-(T::HALF * u * u)).exp() + u * erf, erf)
}

/// `KL(Normal(m1, s1) ‖ Laplace(m2, b2)) = −ln ρ + ½ ln(2/π) − ½ + ρ F(u)`, `ρ = s1/b2`,
/// `u = (m1 − m2)/s1`, `F(u) = E|Z + u|` (the folded normal's mean). torch's own formula
/// drops the location gap (it is exact only at `m1 = m2`).
#[inline]
pub fn normal_laplace_kl<T: Real>(m1: T, s1: T, m2: T, b2: T) -> T {
    let (rho, u) = (s1 / b2, (m1 - m2) / s1);
    let (f, _) = folded_mean(u);
    rho.mul_add(f, -rho.ln()) + c(0.5 * (2.0 / PI).ln() - 0.5)
}

/// `∂/∂(m1, s1, m2, b2)` of [`normal_laplace_kl`]: `erf(u/√2)/b2`,
/// `(√(2/π) e^(−u²/2) − 1/ρ)/b2`, `−erf(u/√2)/b2`, `(1 − ρF(u))/b2`.
pub fn normal_laplace_kl_grad<T: Real>(m1: T, s1: T, m2: T, b2: T) -> [T; 4] {
    let (rho, u) = (s1 / b2, (m1 - m2) / s1);
    let (f, erf) = folded_mean(u);
    let g = c::<T>((2.0 / PI).sqrt()) * (-(T::HALF * u * u)).exp();
    [erf / b2, (g - rho.recip()) / b2, -erf / b2, (T::ONE - rho * f) / b2]
}

// ---- against an exponential --------------------------------------------------------------

/// `KL(Beta(a, b) ‖ Exponential(r)) = −H(Beta(a, b)) − ln r + r a/(a + b)`.
#[inline]
pub fn beta_exponential_kl<T: Real>(a: T, b: T, r: T) -> T {
    r.mul_add(a / (a + b), -r.ln()) - beta_entropy(a, b)
}

/// `∂/∂(a, b, r)` of [`beta_exponential_kl`].
pub fn beta_exponential_kl_grad<T: Real>(a: T, b: T, r: T) -> [T; 3] {
    let n = a + b;
    let dh = beta_entropy_grad(a, b);
    [r * b / (n * n) - dh[0], -r * a / (n * n) - dh[1], a / n - r.recip()]
}

/// `KL(Pareto(s, a) ‖ Exponential(r)) = ln a − ln k − 1/a − 1 + k a/(a − 1)`, `k = r s`;
/// `+∞` for `a <= 1`.
#[inline]
pub fn pareto_exponential_kl<T: Real>(s: T, a: T, r: T) -> T {
    if a <= T::ONE {
        return T::INFINITY;
    }
    let k = r * s;
    (a / k).ln() - a.recip() - T::ONE + k * a / (a - T::ONE)
}

/// `∂/∂(s, a, r)` of [`pareto_exponential_kl`]: `∂k = a/(a − 1) − 1/k`,
/// `∂a = 1/a + 1/a² − k/(a − 1)²`.
pub fn pareto_exponential_kl_grad<T: Real>(s: T, a: T, r: T) -> [T; 3] {
    if a <= T::ONE {
        return [T::ZERO; 3];
    }
    let k = r * s;
    let am1 = a - T::ONE;
    let dk = a / am1 - k.recip();
    [r * dk, a.recip() + (a * a).recip() - k / (am1 * am1), s * dk]
}

/// `KL(Uniform(low, high) ‖ Exponential(r)) = r mid − ln(r w)`, `w = high − low`; `+∞` for
/// `low < 0`.
#[inline]
pub fn uniform_exponential_kl<T: Real>(low: T, high: T, r: T) -> T {
    if low < T::ZERO {
        return T::INFINITY;
    }
    r * (T::HALF * low + T::HALF * high) - (r * (high - low)).ln()
}

/// `∂/∂(low, high, r)` of [`uniform_exponential_kl`]: `1/w + r/2`, `r/2 − 1/w`,
/// `mid − 1/r`.
pub fn uniform_exponential_kl_grad<T: Real>(low: T, high: T, r: T) -> [T; 3] {
    if low < T::ZERO {
        return [T::ZERO; 3];
    }
    let iw = (high - low).recip();
    [iw + T::HALF * r, T::HALF * r - iw, T::HALF * low + T::HALF * high - r.recip()]
}

// ---- against a gamma -----------------------------------------------------------------------
//
// −ln q(x) = lnΓ(α) − α ln β − (α − 1) ln x + βx.

/// `lnΓ(α) − α ln y + y` for `y > 0`; for `α >= 10`, where its terms of size `α ln α` cancel,
/// as `α (y/α − 1 − ln(y/α)) − ½ ln α + ½ ln 2π + c(α)` with the Stirling tail `c`.
#[inline]
fn gamma_rate_term<T: Real>(alpha: T, y: T) -> T {
    if alpha.to_f64() >= STIRLING_MIN {
        return alpha * ratio_excess(alpha, y) - T::HALF * alpha.ln() + c::<T>(0.5 * LN_2PI) + lgamma_correction(alpha);
    }
    lgamma(alpha) + y - alpha * y.ln()
}

/// `KL(Beta(a, b) ‖ Gamma(α, β)) = −H(Beta(a, b)) + lnΓ(α) − α ln β + (α − 1)(ψ(a + b) − ψ(a))
/// + β a/(a + b)`.
#[inline]
pub fn beta_gamma_kl<T: Real>(a: T, b: T, alpha: T, beta: T) -> T {
    let m = a / (a + b);
    // lnΓ(α) − α ln β + βm = G(α, βm) + α ln m.
    gamma_rate_term(alpha, beta * m) + alpha * m.ln() + (alpha - T::ONE) * digamma_diff(a, b) - beta_entropy(a, b)
}

/// `∂/∂(a, b, α, β)` of [`beta_gamma_kl`].
pub fn beta_gamma_kl_grad<T: Real>(a: T, b: T, alpha: T, beta: T) -> [T; 4] {
    let n = a + b;
    let dh = beta_entropy_grad(a, b);
    let (ta, tn) = (trigamma(a), trigamma(n));
    let am1 = alpha - T::ONE;
    [
        am1 * (tn - ta) + beta * b / (n * n) - dh[0],
        am1 * tn - beta * a / (n * n) - dh[1],
        digamma(alpha) - beta.ln() + digamma_diff(a, b),
        a / n - alpha / beta,
    ]
}

/// `KL(Pareto(s, a) ‖ Gamma(α, β)) = ln a − 1 − α ln k − α/a + lnΓ(α) + k a/(a − 1)`,
/// `k = β s`; `+∞` for `a <= 1`.
#[inline]
pub fn pareto_gamma_kl<T: Real>(s: T, a: T, alpha: T, beta: T) -> T {
    if a <= T::ONE {
        return T::INFINITY;
    }
    let k = beta * s;
    // lnΓ(α) − α ln k + k a/(a − 1) − α/a = G(α, k a/(a − 1)) − α log1pmx(−1/a).
    let y = k * (a / (a - T::ONE));
    gamma_rate_term(alpha, y) - alpha * log1pmx(-a.recip()) + a.ln() - T::ONE
}

/// `∂/∂(s, a, α, β)` of [`pareto_gamma_kl`]: `∂k = a/(a − 1) − α/k`,
/// `∂a = 1/a + α/a² − k/(a − 1)²`, `∂α = ψ(α) − ln k − 1/a`.
pub fn pareto_gamma_kl_grad<T: Real>(s: T, a: T, alpha: T, beta: T) -> [T; 4] {
    if a <= T::ONE {
        return [T::ZERO; 4];
    }
    let k = beta * s;
    let am1 = a - T::ONE;
    let dk = a / am1 - alpha / k;
    [beta * dk, a.recip() + alpha / (a * a) - k / (am1 * am1), digamma(alpha) - k.ln() - a.recip(), s * dk]
}

/// `E[ln X]` for `X` uniform on `[low, high]`, `0 <= low < high`, as `ln mid + g(t)` with
/// `mid = (low + high)/2`, `t = w/(2 mid)` in `(0, 1]` and
/// `g(t) = ((1 + t) ln(1 + t) − (1 − t) ln(1 − t))/(2t) − 1` (`≈ −t²/6`, absolute error ε);
/// also `ln high − E[ln X] = ln(1 + t) − g` and `E[ln X] − ln low = g − ln(1 − t)`, the
/// partials' numerators, without cancellation.
#[inline]
fn mean_log<T: Real>(low: T, high: T) -> MeanLog<T> {
    let mid = T::HALF * low + T::HALF * high;
    let t = T::HALF * (high - low) / mid;
    let (up, down) = (t.ln_1p(), (-t).ln_1p());
    // (1 − t) ln(1 − t) → 0 at t = 1 (low = 0).
    let lower = if t < T::ONE { (T::ONE - t) * down } else { T::ZERO };
    let g = ((T::ONE + t) * up - lower) / (T::TWO * t) - T::ONE;
    MeanLog { mid, g, up: up - g, down: g - down, t }
}

/// [`mean_log`]'s terms: `E[ln X] = ln mid + g`, `ln high − E[ln X] = up`,
/// `E[ln X] − ln low = down`, `t = (high − low)/(2 mid)`.
struct MeanLog<T> {
    mid: T,
    g: T,
    up: T,
    down: T,
    t: T,
}

/// `k v`, 0 where `k = 0` whatever `v` (`(α − 1)·∞` at `low = 0` is 0 for `α = 1`).
#[inline]
fn times<T: Real>(k: T, v: T) -> T {
    if k == T::ZERO {
        T::ZERO
    } else {
        k * v
    }
}

/// `KL(Uniform(low, high) ‖ Gamma(α, β)) = −ln(2t) − (α − 1) g(t) + lnΓ(α) − α ln y + y`,
/// `y = β mid` (`mean_log`'s terms: `−ln w − (α − 1)E[ln X] − α ln β + β mid` with the scale
/// taken out); `+∞` for `low < 0`.
#[inline]
pub fn uniform_gamma_kl<T: Real>(low: T, high: T, alpha: T, beta: T) -> T {
    if low < T::ZERO {
        return T::INFINITY;
    }
    let m = mean_log(low, high);
    gamma_rate_term(alpha, beta * m.mid) - (T::TWO * m.t).ln() - (alpha - T::ONE) * m.g
}

/// `∂/∂(low, high, α, β)` of [`uniform_gamma_kl`]: with `L = E[ln X]`,
/// `1/w − (α − 1)(L − ln low)/w + β/2`, `−1/w − (α − 1)(ln high − L)/w + β/2`,
/// `ψ(α) − ln β − L`, `mid − α/β`.
pub fn uniform_gamma_kl_grad<T: Real>(low: T, high: T, alpha: T, beta: T) -> [T; 4] {
    if low < T::ZERO {
        return [T::ZERO; 4];
    }
    let m = mean_log(low, high);
    let iw = (high - low).recip();
    let am1 = alpha - T::ONE;
    [
        iw - times(am1, m.down) * iw + T::HALF * beta,
        T::HALF * beta - iw - am1 * m.up * iw,
        digamma(alpha) - (beta * m.mid).ln() - m.g,
        m.mid - alpha / beta,
    ]
}

// ---- against a uniform, a beta, a Pareto -----------------------------------------------------

/// `KL(Beta(a, b) ‖ Uniform(low, high)) = ln(high − low) − H(Beta(a, b))`; `+∞` unless
/// `low <= 0` and `high >= 1`.
#[inline]
pub fn beta_uniform_kl<T: Real>(a: T, b: T, low: T, high: T) -> T {
    if low > T::ZERO || high < T::ONE {
        return T::INFINITY;
    }
    (high - low).ln() - beta_entropy(a, b)
}

/// `∂/∂(a, b, low, high)` of [`beta_uniform_kl`].
pub fn beta_uniform_kl_grad<T: Real>(a: T, b: T, low: T, high: T) -> [T; 4] {
    if low > T::ZERO || high < T::ONE {
        return [T::ZERO; 4];
    }
    let dh = beta_entropy_grad(a, b);
    let iw = (high - low).recip();
    [T::ZERO - dh[0], T::ZERO - dh[1], -iw, iw]
}

/// `KL(Uniform(low, high) ‖ Beta(α, β)) = −ln w − (α − 1)E[ln X] − (β − 1)E[ln(1 − X)] +
/// ln B(α, β)`; `+∞` unless `0 <= low` and `high <= 1`.
#[inline]
pub fn uniform_beta_kl<T: Real>(low: T, high: T, alpha: T, beta: T) -> T {
    if low < T::ZERO || high > T::ONE {
        return T::INFINITY;
    }
    let (l1, l2) = (mean_log(low, high), mean_log(T::ONE - high, T::ONE - low));
    ln_beta(alpha, beta)
        - (high - low).ln()
        - (alpha - T::ONE) * (l1.mid.ln() + l1.g)
        - (beta - T::ONE) * (l2.mid.ln() + l2.g)
}

/// `∂/∂(low, high, α, β)` of [`uniform_beta_kl`].
pub fn uniform_beta_kl_grad<T: Real>(low: T, high: T, alpha: T, beta: T) -> [T; 4] {
    if low < T::ZERO || high > T::ONE {
        return [T::ZERO; 4];
    }
    let (l1, l2) = (mean_log(low, high), mean_log(T::ONE - high, T::ONE - low));
    let iw = (high - low).recip();
    let (a1, b1) = (alpha - T::ONE, beta - T::ONE);
    // ∂L1/∂low = (L1 − ln low)/w, ∂L1/∂high = (ln high − L1)/w; L2 is L on [1 − high, 1 − low]:
    // ∂L2/∂low = −(ln(1 − low) − L2)/w, ∂L2/∂high = −(L2 − ln(1 − high))/w.
    let psi_n = digamma(alpha + beta);
    [
        iw - times(a1, l1.down) * iw + times(b1, l2.up) * iw,
        -iw - times(a1, l1.up) * iw + times(b1, l2.down) * iw,
        digamma(alpha) - psi_n - (l1.mid.ln() + l1.g),
        digamma(beta) - psi_n - (l2.mid.ln() + l2.g),
    ]
}

/// `KL(Uniform(low, high) ‖ Pareto(s, a)) = −ln(2t) + g − ln a + a(ln(mid/s) + g)` in
/// `mean_log`'s terms (`−ln w − ln a − a ln s + (a + 1)E[ln X]`); `+∞` for `low < s`.
#[inline]
pub fn uniform_pareto_kl<T: Real>(low: T, high: T, s: T, a: T) -> T {
    if low < s {
        return T::INFINITY;
    }
    let m = mean_log(low, high);
    a * ((m.mid / s).ln() + m.g) + m.g - (T::TWO * m.t).ln() - a.ln()
}

/// `∂/∂(low, high, s, a)` of [`uniform_pareto_kl`]: `1/w + (a + 1)(L − ln low)/w`,
/// `−1/w + (a + 1)(ln high − L)/w`, `−a/s`, `ln(mid/s) + g − 1/a`.
pub fn uniform_pareto_kl_grad<T: Real>(low: T, high: T, s: T, a: T) -> [T; 4] {
    if low < s {
        return [T::ZERO; 4];
    }
    let m = mean_log(low, high);
    let iw = (high - low).recip();
    let a1 = a + T::ONE;
    [iw + a1 * m.down * iw, a1 * m.up * iw - iw, -a / s, (m.mid / s).ln() + m.g - a.recip()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f` in each argument, against `grad`.
    fn fd<const N: usize>(f: impl Fn([f64; N]) -> f64, grad: [f64; N], x: [f64; N], tol: f64) {
        for k in 0..N {
            let h = 1e-6 * x[k].abs().max(1e-3);
            let (mut a, mut b) = (x, x);
            a[k] += h;
            b[k] -= h;
            let want = (f(a) - f(b)) / (2.0 * h);
            let scale = grad.iter().fold(1.0_f64, |m, g| m.max(g.abs()));
            assert!((grad[k] - want).abs() <= tol * scale, "∂{k} at {x:?}: {} vs {want}", grad[k]);
        }
    }

    #[test]
    fn gradients_agree_with_finite_differences() {
        let x = [0.3, 1.4, -0.2, 0.8];
        fd(|p| laplace_normal_kl(p[0], p[1], p[2], p[3]), laplace_normal_kl_grad(0.3, 1.4, -0.2, 0.8), x, 1e-7);
        fd(|p| gumbel_normal_kl(p[0], p[1], p[2], p[3]), gumbel_normal_kl_grad(0.3, 1.4, -0.2, 0.8), x, 1e-7);
        fd(|p| normal_gumbel_kl(p[0], p[1], p[2], p[3]), normal_gumbel_kl_grad(0.3, 1.4, -0.2, 0.8), x, 1e-7);
        fd(|p| normal_laplace_kl(p[0], p[1], p[2], p[3]), normal_laplace_kl_grad(0.3, 1.4, -0.2, 0.8), x, 1e-7);
        let y = [1.7, 2.3, 0.4, 1.3];
        for a in [1.7, 14.0] {
            let y = [a, y[1], y[2], y[3]];
            fd(|p| gamma_normal_kl(p[0], p[1], p[2], p[3]), gamma_normal_kl_grad(y[0], y[1], y[2], y[3]), y, 1e-7);
            fd(|p| gamma_gumbel_kl(p[0], p[1], p[2], p[3]), gamma_gumbel_kl_grad(y[0], y[1], y[2], y[3]), y, 1e-7);
            fd(|p| beta_normal_kl(p[0], p[1], p[2], p[3]), beta_normal_kl_grad(y[0], y[1], y[2], y[3]), y, 1e-7);
            fd(|p| beta_gamma_kl(p[0], p[1], p[2], p[3]), beta_gamma_kl_grad(y[0], y[1], y[2], y[3]), y, 1e-7);
            fd(
                |p| beta_uniform_kl(p[0], p[1], -0.5, 1.5),
                {
                    let g = beta_uniform_kl_grad(y[0], y[1], -0.5, 1.5);
                    [g[0], g[1]]
                },
                [y[0], y[1]],
                1e-7,
            );
        }
        fd(
            |p| pareto_normal_kl(p[0], p[1], p[2], p[3]),
            pareto_normal_kl_grad(1.2, 3.5, 0.4, 1.3),
            [1.2, 3.5, 0.4, 1.3],
            1e-7,
        );
        fd(
            |p| pareto_gamma_kl(p[0], p[1], p[2], p[3]),
            pareto_gamma_kl_grad(1.2, 3.5, 0.4, 1.3),
            [1.2, 3.5, 0.4, 1.3],
            1e-7,
        );
        fd(
            |p| pareto_exponential_kl(p[0], p[1], p[2]),
            pareto_exponential_kl_grad(1.2, 3.5, 0.4),
            [1.2, 3.5, 0.4],
            1e-7,
        );
        fd(
            |p| exponential_normal_kl(p[0], p[1], p[2]),
            exponential_normal_kl_grad(1.2, 0.5, 0.7),
            [1.2, 0.5, 0.7],
            1e-7,
        );
        fd(
            |p| exponential_gumbel_kl(p[0], p[1], p[2]),
            exponential_gumbel_kl_grad(1.2, 0.5, 0.7),
            [1.2, 0.5, 0.7],
            1e-7,
        );
        fd(|p| beta_exponential_kl(p[0], p[1], p[2]), beta_exponential_kl_grad(1.2, 0.5, 0.7), [1.2, 0.5, 0.7], 1e-7);
        let u = [0.2, 0.9, 0.4, 1.3];
        fd(|p| uniform_normal_kl(p[0], p[1], p[2], p[3]), uniform_normal_kl_grad(u[0], u[1], u[2], u[3]), u, 1e-7);
        fd(
            |p| uniform_exponential_kl(p[0], p[1], p[2]),
            uniform_exponential_kl_grad(u[0], u[1], u[2]),
            [u[0], u[1], u[2]],
            1e-7,
        );
        fd(|p| uniform_gamma_kl(p[0], p[1], p[2], p[3]), uniform_gamma_kl_grad(u[0], u[1], u[2], u[3]), u, 1e-7);
        fd(|p| uniform_beta_kl(p[0], p[1], p[2], p[3]), uniform_beta_kl_grad(u[0], u[1], u[2], u[3]), u, 1e-7);
        fd(
            |p| uniform_pareto_kl(p[0], p[1], p[2], p[3]),
            uniform_pareto_kl_grad(u[0], u[1], 0.15, u[3]),
            [u[0], u[1], 0.15, u[3]],
            1e-7,
        );
        for w in [0.3, 30.0, 90.0] {
            let v = [0.2, 0.2 + w, 0.4, 1.3];
            fd(|p| uniform_gumbel_kl(p[0], p[1], p[2], p[3]), uniform_gumbel_kl_grad(v[0], v[1], v[2], v[3]), v, 1e-6);
        }
    }

    #[test]
    fn infinities_where_the_supports_or_moments_fail() {
        assert_eq!(pareto_normal_kl(1.0_f64, 2.0, 0.0, 1.0), f64::INFINITY);
        assert_eq!(pareto_exponential_kl(1.0_f64, 1.0, 1.0), f64::INFINITY);
        assert_eq!(pareto_gamma_kl(1.0_f64, 0.5, 2.0, 1.0), f64::INFINITY);
        assert_eq!(uniform_exponential_kl(-0.1_f64, 1.0, 1.0), f64::INFINITY);
        assert!(uniform_exponential_kl(0.0_f64, 1.0, 1.0).is_finite());
        assert_eq!(uniform_gamma_kl(-0.1_f64, 1.0, 2.0, 1.0), f64::INFINITY);
        assert!(uniform_gamma_kl(0.0_f64, 1.0, 2.0, 1.0).is_finite());
        assert_eq!(uniform_beta_kl(0.5_f64, 1.1, 2.0, 1.0), f64::INFINITY);
        assert!(uniform_beta_kl(0.0_f64, 1.0, 2.0, 3.0).is_finite());
        assert_eq!(uniform_pareto_kl(0.5_f64, 1.0, 0.6, 1.0), f64::INFINITY);
        assert_eq!(beta_uniform_kl(2.0_f64, 3.0, 0.1, 1.0), f64::INFINITY);
        assert_eq!(pareto_gamma_kl_grad(1.0_f64, 0.5, 2.0, 1.0), [0.0; 4]);
    }

    #[test]
    fn uniform_against_beta_1_1_is_the_uniform_kl() {
        // Beta(1, 1) = Uniform(0, 1): KL = ln(1/w).
        let got = uniform_beta_kl(0.25_f64, 0.75, 1.0, 1.0);
        assert!((got - 2f64.ln()).abs() < 1e-15, "{got}");
        // Exponential(r) = Gamma(1, r).
        let (a, b) = (uniform_gamma_kl(0.5_f64, 2.0, 1.0, 0.7), uniform_exponential_kl(0.5_f64, 2.0, 0.7));
        assert!((a - b).abs() < 1e-15 * b.abs(), "{a} vs {b}");
    }
}
