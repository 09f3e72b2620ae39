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

/// `r − 1 − ln r >= 0` for `r = b/a`, from the exact relative difference `u = (b − a)/a`:
/// `−log1pmx(u)` near `r = 1` (exactly 0 at `a = b`), logs of each far from it (so that `r`
/// itself may under- or overflow). The scale or rate term of the Laplace, exponential, Pareto
/// and Gamma KLs.
#[inline]
pub(crate) fn ratio_excess<T: Real>(a: T, b: T) -> T {
    let u = (b - a) / a;
    if u.abs() < T::HALF {
        // `0 − x`, not `−x`: equal parameters give +0, not −0.
        T::ZERO - log1pmx(u)
    } else {
        (b / a - T::ONE) - (b.ln() - a.ln())
    }
}

/// `ln(b/a)` from the exact relative difference near `a = b`, logs of each far from it.
#[inline]
pub(crate) fn ln_ratio<T: Real>(a: T, b: T) -> T {
    let u = (b - a) / a;
    if u.abs() < T::HALF {
        u.ln_1p()
    } else {
        b.ln() - a.ln()
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
#[inline(always)]
pub fn normal_kl<T: Real>(loc1: T, scale1: T, loc2: T, scale2: T) -> T {
    let d = (loc1 - loc2) / scale2;
    T::HALF * (d * d) + scale_ratio_term(scale1, scale2)
}

/// `KL(N(loc, scale^2) || N(0, 1))`: [`normal_kl`] against the standard normal,
/// `loc^2 / 2 + u^2 / 2 - log1pmx(u)` with `u = scale - 1`.
#[inline(always)]
pub fn std_normal_kl<T: Real>(loc: T, scale: T) -> T {
    T::HALF * (loc * loc) + scale_ratio_term(scale, T::ONE)
}

/// Log density of `N(loc, scale^2)` at `x`: `-((x - loc) / scale)^2 / 2 - ln(scale) - ln(2π) / 2`.
#[inline(always)]
pub fn normal_log_prob<T: Real>(x: T, loc: T, scale: T) -> T {
    let z = (x - loc) / scale;
    -T::HALF * (z * z) - ln(scale) - T::HALF * T::LN_2PI
}

/// Differential entropy of `N(loc, scale^2)`: `1/2 + ln(2π) / 2 + ln(scale)`.
#[inline(always)]
pub fn normal_entropy<T: Real>(scale: T) -> T {
    T::HALF * (T::ONE + T::LN_2PI) + ln(scale)
}

/// `½ (r² − 1) − ln r` with `r = |a| / |b|`: one diagonal entry's share of the Gaussian KL
/// (`a` from `p`'s scale or factor, `b` from `q`'s). Exactly zero when `a == b`.
///
/// Near `r = 1` it is `½ u² − log1pmx(u)`, `u = (|a| − |b|) / |b|` (no cancellation: `|a| − |b|`
/// is exact there); far from it `½ (r² − 1) − ln r` with `ln r` from the exponents and mantissas
/// of `a` and `b` separately, so that it stays finite and accurate when `r` itself would under-
/// or overflow (scales 1e-150 against 1e150). For `f32` and `f64` both cases are computed without
/// a branch or a libm call (the branch-free logarithm shared with the batched kernels), so that loops over it vectorize;
/// a zero, infinite or NaN argument gives NaN.
#[inline(always)]
pub fn scale_ratio_term<T: Real>(a: T, b: T) -> T {
    T::scale_ratio_term_fast(a, b)
}

/// [`scale_ratio_term`] with a branch and libm logarithms: the definition the fast kernels are
/// tested against.
#[inline]
pub fn scale_ratio_term_reference<T: Real>(a: T, b: T) -> T {
    let (a, b) = (a.abs(), b.abs());
    let u = (a - b) / b;
    if u.abs() < T::HALF {
        T::HALF * (u * u) - log1pmx(u)
    } else {
        let r = a / b;
        T::HALF * (r * r - T::ONE) - (a.ln() - b.ln())
    }
}

/// Natural logarithm, within about 1 ulp of the correctly rounded value, branch-free for `f32`
/// and `f64` (the branch-free logarithm shared with the batched kernels) so that loops over it vectorize. `ln(0) = -inf`,
/// `ln(inf) = inf`, negative or NaN arguments give NaN, like `f64::ln`.
#[inline(always)]
pub fn ln<T: Real>(x: T) -> T {
    x.ln_fast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::math::{f32k, f64k};

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

    /// Deterministic inputs spread over many binades: `(mantissa in [1, 2)) * 2^e`.
    fn spread(n: usize, emin: i32, emax: i32) -> Vec<f64> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let m = 1.0 + (state >> 11) as f64 / (1u64 << 53) as f64;
                let e = emin + (state % (emax - emin + 1) as u64) as i32;
                m * 2f64.powi(e)
            })
            .collect()
    }

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            ((a - b) / b).abs()
        }
    }

    #[test]
    fn fast_ln_is_within_two_ulp_of_libm() {
        for x in
            spread(20_000, -1022, 1023).into_iter().chain([1.0, 0.5, 2.0, f64::MIN_POSITIVE, 5e-324, 3e-310, 1e-320])
        {
            let (got, want) = (f64k::ln(x), x.ln());
            assert!(
                (got - want).abs() <= 2.0 * f64::EPSILON * want.abs().max(f64::MIN_POSITIVE),
                "ln({x:e}): {got:e} vs {want:e}"
            );
        }
        for x in spread(20_000, -126, 127)
            .into_iter()
            .chain([1e-40, 1e-45, 3e-39])
            .map(|x| x as f32)
            .filter(|x| x.is_finite() && *x > 0.0)
        {
            let (got, want) = (f32k::ln(x) as f64, (x as f64).ln());
            assert!(
                (got - want).abs() <= 2.0 * f32::EPSILON as f64 * want.abs().max(1e-38),
                "ln({x:e}): {got:e} vs {want:e}"
            );
        }
        assert_eq!(f64k::ln(0.0), f64::NEG_INFINITY);
        assert_eq!(f64k::ln(f64::INFINITY), f64::INFINITY);
        assert!(f64k::ln(-1.0).is_nan() && f64k::ln(f64::NAN).is_nan());
        assert_eq!(f32k::ln(1.0), 0.0);
    }

    /// The reference kernel where it is accurate, else `ln r` of the rounded ratio: the
    /// difference `ln a - ln b` of the reference cancels at large scales (397 - 396.6 at 1e172).
    fn accurate(a: f64, b: f64) -> f64 {
        let r = a / b;
        if (r - 1.0).abs() < 0.5 || !r.is_normal() {
            scale_ratio_term_reference(a, b)
        } else {
            0.5 * (r * r - 1.0) - r.ln()
        }
    }

    #[test]
    fn fast_scale_ratio_term_matches_the_reference() {
        // Ratios near 1 (the cancelling region), moderate, and extreme; scales tiny to huge.
        let bs = spread(4_000, -1000, 1000);
        let near = spread(4_000, -60, -1);
        for (i, &b) in bs.iter().enumerate() {
            let n = near[i] * if i % 2 == 0 { 1.0 } else { -0.5 };
            for a in [
                b * (1.0 + n),
                b * (1.0 + 0.3 * n),
                b * 1.5,
                b / 1.5,
                b * 1e10,
                b * 1e-10,
                b * std::f64::consts::SQRT_2,
                b * std::f64::consts::FRAC_1_SQRT_2,
            ] {
                if !(a.is_finite() && a > 0.0) {
                    continue;
                }
                let (got, want) = (f64k::scale_ratio_term(a, b), accurate(a, b));
                assert!(rel(got, want) <= 1e-14, "({a:e}, {b:e}): {got:e} vs {want:e}");
            }
        }
        assert_eq!(f64k::scale_ratio_term(1e-150, 1e150), scale_ratio_term_reference(1e-150, 1e150));
        assert!(rel(f64k::scale_ratio_term(1e-300, 1e300), scale_ratio_term_reference(1e-300, 1e300)) < 1e-15);
        assert_eq!(f64k::scale_ratio_term(1e300, 1e-300), f64::INFINITY);
        assert!(rel(f64k::scale_ratio_term(5e-324, 1.0), scale_ratio_term_reference(5e-324, 1.0)) < 1e-15);
        assert_eq!(f64k::scale_ratio_term(2.5, 2.5), 0.0);
        assert_eq!(f64k::scale_ratio_term(-2.5, 2.5), 0.0);
        assert!(f64k::scale_ratio_term(0.0, 1.0).is_nan() && f64k::scale_ratio_term(1.0, f64::NAN).is_nan());
        // f32 against the f64 value of the same (f32) inputs.
        for (i, &b) in spread(4_000, -120, 120).iter().enumerate() {
            let n = near[i] * if i % 2 == 0 { 1.0 } else { -0.5 };
            for a in [b * (1.0 + n), b * 1.5, b / 1.5, b * 1e10, b * 1e-10] {
                let (a, b) = (a as f32, b as f32);
                if !(a.is_finite() && a > 0.0 && b.is_finite() && b > 0.0) {
                    continue;
                }
                let (got, want) = (f32k::scale_ratio_term(a, b) as f64, accurate(a as f64, b as f64));
                assert!(rel(got, want) <= 1e-6, "f32 ({a:e}, {b:e}): {got:e} vs {want:e}");
            }
        }
        assert_eq!(f32k::scale_ratio_term(1e-30, 1e30) as f64, (60.0 * 10f64.ln() - 0.5) as f32 as f64);
    }

    #[test]
    fn normal_kl_of_identical_arguments_is_zero() {
        assert_eq!(normal_kl(0.3_f64, 1.7, 0.3, 1.7), 0.0);
        assert_eq!(normal_kl(-2.0_f32, 0.01, -2.0, 0.01), 0.0);
        assert_eq!(std_normal_kl(0.0_f64, 1.0), 0.0);
    }
}
