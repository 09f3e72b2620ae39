//! Elementwise kernels for univariate normals.
//!
//! These are the building blocks of `Normal(..)` and, summed over the event, of
//! `Normal(..).to_event(n)`. None of them validates its input: a non-positive scale gives NaN or an
//! infinity, and callers check parameters with [`crate::validate`] first.

use crate::real::Real;

/// `1 / (2k + 3)` for `k = 0, 1, ..`: the coefficients of the `atanh` series used by [`log1pmx`].
const INV_ODD: [f64; 16] = {
    let mut c = [0.0; 16];
    let mut k = 0;
    while k < c.len() {
        c[k] = 1.0 / (2 * k + 3) as f64;
        k += 1;
    }
    c
};

/// `ln(1 + x) - x` for `x > -1`, accurate to a few ulp for every `x`, including tiny `|x|` where the
/// naive form loses every digit to cancellation.
///
/// For `|x| < 0.5` it uses `t = x / (2 + x)`, so that `ln(1 + x) = 2 atanh(t)`, and
///
/// ```text
/// ln(1 + x) - x = -x t + 2 t^3 (1/3 + t^2/5 + t^4/7 + ...)
/// ```
///
/// (the identity `2t - x = -x t` removes the leading cancellation). There `|t| <= 1/3`, so 16 terms
/// reach `f64` precision and 8 reach `f32`. Elsewhere `ln_1p(x) - x` loses at most a few ulp.
/// `log1pmx(0) == 0` exactly, which the KL kernels rely on for `KL(p || p) == 0`.
#[inline]
pub fn log1pmx<T: Real>(x: T) -> T {
    let half = T::HALF;
    if x.abs() < half {
        let t = x / (T::TWO + x);
        let z = t * t;
        // Constant per monomorphization, so the branch folds away.
        let terms = if T::EPSILON.to_f64() > 1e-10 { 8 } else { 16 };
        let mut s = T::from_f64(INV_ODD[terms - 1]);
        for &c in INV_ODD[..terms - 1].iter().rev() {
            s = s * z + T::from_f64(c);
        }
        t * (T::TWO * z * s - x)
    } else {
        x.ln_1p() - x
    }
}

/// `KL(N(loc1, scale1^2) || N(loc2, scale2^2))`.
///
/// With `d = (loc1 - loc2) / scale2` and `u = (scale1 - scale2) / scale2` (so `scale1 / scale2 = 1 + u`):
///
/// ```text
/// KL = ln(scale2 / scale1) + (scale1^2 + (loc1 - loc2)^2) / (2 scale2^2) - 1/2
///    = d^2 / 2 + u^2 / 2 - log1pmx(u)
/// ```
///
/// Every term of the second form is non-negative, so the result never rounds below zero, and it
/// keeps full relative accuracy when the two distributions are close (where the first form cancels).
/// Identical arguments give exactly `0`. The scale part is [`scale_ratio_term`], which switches to
/// a difference of logarithms far from `u = 0` so that extreme scale ratios stay finite.
#[inline]
pub fn normal_kl<T: Real>(loc1: T, scale1: T, loc2: T, scale2: T) -> T {
    let d = (loc1 - loc2) / scale2;
    T::HALF * (d * d) + scale_ratio_term(scale1, scale2)
}

/// `KL(N(loc, scale^2) || N(0, 1))`: [`normal_kl`] against the standard normal,
/// `loc^2 / 2 + u^2 / 2 - log1pmx(u)` with `u = scale - 1`.
#[inline]
pub fn std_normal_kl<T: Real>(loc: T, scale: T) -> T {
    T::HALF * (loc * loc) + scale_ratio_term(scale, T::ONE)
}

/// Log density of `N(loc, scale^2)` at `x`: `-((x - loc) / scale)^2 / 2 - ln(scale) - ln(2π) / 2`.
#[inline]
pub fn normal_log_prob<T: Real>(x: T, loc: T, scale: T) -> T {
    let z = (x - loc) / scale;
    -T::HALF * (z * z) - scale.ln() - T::HALF * T::LN_2PI
}

/// Differential entropy of `N(loc, scale^2)`: `1/2 + ln(2π) / 2 + ln(scale)`.
#[inline]
pub fn normal_entropy<T: Real>(scale: T) -> T {
    T::HALF * (T::ONE + T::LN_2PI) + scale.ln()
}

/// `½ (r² − 1) − ln r` with `r = |a| / |b|`: one diagonal entry's share of the Gaussian KL
/// (`a` from `p`'s scale or factor, `b` from `q`'s). Exactly zero when `a == b`.
///
/// Near `r = 1` it is evaluated as `½ u² − log1pmx(u)`, `u = (|a| − |b|) / |b|` (no cancellation,
/// `|a| − |b|` is exact there); far from it as `½ (r² − 1) − (ln |a| − ln |b|)`, which stays
/// finite when `r` under- or overflows (scales 1e-150 against 1e150).
#[inline(always)]
pub fn scale_ratio_term<T: Real>(a: T, b: T) -> T {
    let (a, b) = (a.abs(), b.abs());
    let u = (a - b) / b;
    if u.abs() < T::HALF {
        T::HALF * (u * u) - log1pmx(u)
    } else {
        let r = a / b;
        T::HALF * (r * r - T::ONE) - (a.ln() - b.ln())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log1pmx_is_exactly_zero_at_zero() {
        assert_eq!(log1pmx(0.0_f64), 0.0);
        assert_eq!(log1pmx(0.0_f32), 0.0);
    }

    #[test]
    fn log1pmx_is_continuous_at_the_branch_points() {
        for edge in [-0.5_f64, 0.5] {
            let below = log1pmx(edge * (1.0 - 1e-15));
            let at = log1pmx(edge);
            assert!((below - at).abs() <= 1e-14 * at.abs(), "{below} vs {at}");
        }
    }

    #[test]
    fn normal_kl_of_identical_arguments_is_zero() {
        assert_eq!(normal_kl(0.3_f64, 1.7, 0.3, 1.7), 0.0);
        assert_eq!(normal_kl(-2.0_f32, 0.01, -2.0, 0.01), 0.0);
        assert_eq!(std_normal_kl(0.0_f64, 1.0), 0.0);
    }
}
