//! `ln Γ`, `ψ` and `ψ'` for `x > 0`, in `f64`.
//!
//! Below 10 each reduces with the recurrences `Γ(x + 1) = x Γ(x)`, `ψ(x + 1) = ψ(x) + 1/x`,
//! `ψ'(x + 1) = ψ'(x) − 1/x²` to an interval of width 1 where a fitted polynomial
//! ([`super::coef`]) holds the function in a form that keeps its zeros exact: `lgamma(2 + t) = t R(t)`
//! (zeros at 1 and 2), `ψ(1 + t) = (t − (x0 − 1)) D(t)` (zero at `x0`). From 10 on they use
//! the Stirling series. The shift loops have a fixed trip count with selects, so that they do
//! not branch on the data.

use super::coef::*;
use crate::simd::math::f64k::ln;

/// Horner's rule, lowest degree first (plain multiply-add: `mul_add` is a libm call on
/// targets without FMA and would stop the loops that call it from vectorizing).
#[inline(always)]
pub(super) fn poly(s: f64, c: &[f64]) -> f64 {
    let mut acc = c[c.len() - 1];
    for &k in c[..c.len() - 1].iter().rev() {
        acc = acc * s + k;
    }
    acc
}

/// Where the asymptotic series take over (there 9–10 terms reach `f64` precision).
pub(super) const ASYMPTOTIC: f64 = 10.0;

/// `B₂ⱼ / (2j (2j − 1))`, `j = 1..=10`: the Stirling series of `lgamma`, `Σ c_j x^(1−2j)`.
pub(super) const STIRLING: [f64; 10] = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
    43867.0 / 244188.0,
    -174611.0 / 125400.0,
];

/// `B₂ⱼ / (2j)`, `j = 1..=10`: the asymptotic series of `ψ`, `ln x − 1/(2x) − Σ d_j x^(−2j)`.
pub(super) const DIGAMMA_ASYM: [f64; 10] = [
    1.0 / 12.0,
    -1.0 / 120.0,
    1.0 / 252.0,
    -1.0 / 240.0,
    1.0 / 132.0,
    -691.0 / 32760.0,
    1.0 / 12.0,
    -3617.0 / 8160.0,
    43867.0 / 14364.0,
    -174611.0 / 6600.0,
];

/// `B₂ⱼ`, `j = 1..=10`: the asymptotic series of `ψ'`, `1/x + 1/(2x²) + Σ B₂ⱼ x^(−2j−1)`.
const BERNOULLI: [f64; 10] = [
    1.0 / 6.0,
    -1.0 / 30.0,
    1.0 / 42.0,
    -1.0 / 30.0,
    5.0 / 66.0,
    -691.0 / 2730.0,
    7.0 / 6.0,
    -3617.0 / 510.0,
    43867.0 / 798.0,
    -174611.0 / 330.0,
];

/// `½ ln(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// `1 / (2k + 3)`, `k = 0..16`: `atanh(q) / q = 1 + q² Σ q^(2k) / (2k + 3)`.
const INV_ODD: [f64; 16] = {
    let mut c = [0.0; 16];
    let mut k = 0;
    while k < c.len() {
        c[k] = 1.0 / (2 * k + 3) as f64;
        k += 1;
    }
    c
};

/// `ln(1 + t) / t − 1` for `|t| <= 1/2` (`0` at `t = 0`), from `ln(1 + t) = 2 atanh(q)`,
/// `q = t / (2 + t)`: it equals `(2 q² S(q²) − t) / (2 + t)`, `S(z) = Σ z^k / (2k + 3)`.
#[inline(always)]
fn ln1p_ratio_m1(t: f64) -> f64 {
    let q = t / (2.0 + t);
    let z = q * q;
    (2.0 * z * poly(z, &INV_ODD) - t) / (2.0 + t)
}

/// `lgamma(1 + t)` for `|t| <= 1/2`: `lgamma(2 + t) − ln(1 + t) = t (R(t) − 1 − (ln(1 + t)/t − 1))`,
/// relatively accurate through its zero at `t = 0`.
#[inline(always)]
fn lgamma_1p_small(t: f64) -> f64 {
    t * ((poly(2.0 * t, &LGAMMA_2) - 1.0) - ln1p_ratio_m1(t))
}

/// `lgamma(1 + x)` for `x > −1/2`, relatively accurate near `x = 0` and `x = 1` (its zeros),
/// without rounding `1 + x`.
#[inline]
pub(super) fn lgamma_1p(x: f64) -> f64 {
    if x < 0.5 {
        lgamma_1p_small(x)
    } else if x < 1.5 {
        let t = x - 1.0;
        t * poly(2.0 * t, &LGAMMA_2)
    } else {
        lgamma(1.0 + x)
    }
}

/// `ln Γ(x)` for `0 < x < 10`.
#[inline(always)]
fn lgamma_small(x: f64) -> f64 {
    if x < 1.5 {
        // lgamma(x) = lgamma(1 + t) with t = x − 1 (exact), or = lgamma(1 + x) − ln x below 1/2.
        let tiny = x < 0.5;
        let t = if tiny { x } else { x - 1.0 };
        lgamma_1p_small(t) - if tiny { ln(x) } else { 0.0 }
    } else {
        // x = n + 2 + t, t in [−1/2, 1/2): lgamma(x) = ln((x − 1) .. (x − n)) + t R(t); every
        // x − k is exact, and the product has at most 8 factors.
        let n = (x - 1.5).floor();
        let t = x - (n + 2.0);
        let mut prod = 1.0;
        for k in 1..=8 {
            let k = k as f64;
            prod *= if k <= n { x - k } else { 1.0 };
        }
        let lead = if n > 0.0 { ln(prod) } else { 0.0 };
        lead + t * poly(2.0 * t, &LGAMMA_2)
    }
}

/// Stirling: `(x − ½) ln x − x + ½ ln(2π) + Σ c_j x^(1−2j)`, `x >= 10`.
#[inline(always)]
fn lgamma_large(x: f64) -> f64 {
    let w = 1.0 / x;
    let series = w * poly(w * w, &STIRLING[..9]);
    (x - 0.5) * ln(x) - x + (HALF_LN_2PI + series)
}

/// `ln Γ(x)` for `x > 0`; NaN for `x <= 0` or NaN, `+inf` at `+inf`.
#[inline]
pub fn lgamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        f64::NAN
    } else if x < ASYMPTOTIC {
        lgamma_small(x)
    } else if x < f64::INFINITY {
        lgamma_large(x)
    } else {
        x
    }
}

/// The asymptotic series of `ψ`, `x >= 10`.
#[inline(always)]
pub(super) fn digamma_large(x: f64) -> f64 {
    let w = 1.0 / x;
    let z = w * w;
    ln(x) - (0.5 * w + z * poly(z, &DIGAMMA_ASYM[..9]))
}

/// `ψ(x)` for `x > 0`; NaN for `x <= 0` or NaN, `+inf` at `+inf`.
#[inline]
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x >= ASYMPTOTIC {
        return digamma_large(x);
    }
    if x < 2.0 {
        // ψ(1 + t) = (t − (x0 − 1)) D(t), t in [0, 1): t = x − 1 (exact), or t = x below 1
        // with ψ(x) = ψ(1 + x) − 1/x.
        let below = x < 1.0;
        let t = if below { x } else { x - 1.0 };
        let root = (t - X0M1_HI) - X0M1_LO;
        let v = root * poly(2.0 * t - 1.0, &DIGAMMA_1);
        return v - if below { 1.0 / x } else { 0.0 };
    }
    // x = n + 2 + t, t in [0, 1): ψ(x) = ψ(2 + t) + Σ_{k=1..n} 1/(x − k), every term positive;
    // the sum is kept as one fraction num / den (one division).
    let n = x.floor() - 2.0;
    let t = x - (n + 2.0);
    let (mut num, mut den) = (0.0, 1.0);
    for k in 1..=7 {
        let k = k as f64;
        let y = x - k;
        let take = k <= n;
        num = if take { num * y + den } else { num };
        den = if take { den * y } else { den };
    }
    poly(2.0 * t - 1.0, &DIGAMMA_2) + num / den
}

/// `ψ'(x)` for `x > 0`; NaN for `x <= 0` or NaN, `0` at `+inf`.
///
/// Below 10 it shifts by exactly 10, `ψ'(x) = ψ'(x + 10) + Σ_{k<10} 1/(x + k)²`: every term is
/// positive, and the fixed count keeps the loop free of data-dependent branches.
#[inline]
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let shift = x < ASYMPTOTIC;
    let mut sum = 0.0;
    for k in 0..10 {
        let w = 1.0 / (x + k as f64);
        sum += if shift { w * w } else { 0.0 };
    }
    let y = if shift { x + ASYMPTOTIC } else { x };
    let w = 1.0 / y;
    let z = w * w;
    let tail = w * (1.0 + w * (0.5 + w * poly(z, &BERNOULLI)));
    tail + sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values() {
        assert_eq!(lgamma(1.0), 0.0);
        assert_eq!(lgamma(2.0), 0.0);
        assert!((lgamma(0.5) - 0.572_364_942_924_700_1).abs() < 2e-16);
        assert!((lgamma(3.0) - 2f64.ln()).abs() < 2e-16);
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 2e-16);
        assert!((digamma(2.0) - (1.0 - euler)).abs() < 2e-16);
        assert!((trigamma(1.0) - core::f64::consts::PI.powi(2) / 6.0).abs() < 4e-16);
    }

    #[test]
    fn outside_the_domain_is_nan() {
        for f in [lgamma, digamma, trigamma] {
            for x in [0.0, -0.0, -1.0, -2.5, f64::NAN, f64::NEG_INFINITY] {
                assert!(f(x).is_nan(), "{x}");
            }
        }
        assert_eq!(lgamma(f64::INFINITY), f64::INFINITY);
        assert_eq!(digamma(f64::INFINITY), f64::INFINITY);
        assert_eq!(trigamma(f64::INFINITY), 0.0);
    }

    #[test]
    fn extreme_arguments_stay_finite_or_overflow_cleanly() {
        assert!((lgamma(5e-324) - 744.440_071_921_381_3).abs() < 1e-12);
        assert!((digamma(1e-300) + 1e300).abs() < 1e285);
        assert!(lgamma(1e300).is_finite() && lgamma(1e307) == f64::INFINITY);
        assert!((digamma(1e300) - 1e300f64.ln()).abs() < 1e-12);
        assert!((trigamma(1e300) - 1e-300).abs() < 1e-315);
        assert_eq!(trigamma(1e-200), f64::INFINITY);
    }
}
