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
/// a branch or a libm call (see [`fast`](self#fast-kernels)), so that loops over it vectorize;
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
/// and `f64` (see [`fast`](self#fast-kernels)) so that loops over it vectorize. `ln(0) = -inf`,
/// `ln(inf) = inf`, negative or NaN arguments give NaN, like `f64::ln`.
#[inline(always)]
pub fn ln<T: Real>(x: T) -> T {
    x.ln_fast()
}

/// # Fast kernels
///
/// `ln` and `½ (r² − 1) − ln r` without libm and without branches, so that LLVM vectorizes the
/// loops that call them (lanes holding different event or batch elements). The reduction is
/// musl's: `x = 2^k m` with `m` in `[√½, √2)` read from the bits (subnormals scaled up first),
/// then `ln m = ln(1 + w) = w + log1pmx(w)` with `t = w / (2 + w)`,
/// `log1pmx(w) = t (2 t² S(t²) − w)` and `S(z) = Σ z^j / (2j + 3)` (the series of [`log1pmx`],
/// `|t| <= 0.1716` so 11 terms reach `f64` precision and 6 reach `f32`). Where the generic
/// kernels branch, these compute both sides and select.
pub(crate) mod fast {
    macro_rules! fast_kernels {
        (
            mod $m:ident: $t:ident, $u:ident, $i:ident, mant = $mant:expr, sqrt_half = $sqrt_half:expr,
            tiny = ($tiny_scale:expr, $tiny_bits:expr), ln2 = ($ln2_hi:expr, $ln2_lo:expr),
            terms = $terms:expr, to_float = $to_float:expr
        ) => {
            pub mod $m {
                /// Exponent bias.
                const BIAS: $i = <$t>::MAX_EXP as $i - 1;
                const ONE_BITS: $u = (BIAS as $u) << $mant;

                /// `k` as a float, with no `int -> float` instruction that lacks a vector form.
                #[inline(always)]
                fn float(k: $i) -> $t {
                    ($to_float)(k)
                }

                /// `(k, m)` with `x = 2^k m`, `m` in `[√½, √2)`, for finite `x > 0` (subnormals
                /// included); other `x` give garbage that the callers replace.
                #[inline(always)]
                fn split(x: $t) -> ($i, $t) {
                    let tiny = x < <$t>::MIN_POSITIVE;
                    let x = if tiny { x * $tiny_scale } else { x };
                    // Moving √½ to the start of a binade makes the exponent field the wanted `k`.
                    let ix = x.to_bits().wrapping_add(ONE_BITS - $sqrt_half);
                    let k = (ix >> $mant) as $i - BIAS - if tiny { $tiny_bits } else { 0 };
                    let m = <$t>::from_bits((ix & (((1 as $u) << $mant) - 1)) + $sqrt_half);
                    (k, m)
                }

                /// `ln(1 + w) - w` for `|w| <= 0.415` (the reduced range), no branch.
                #[inline(always)]
                fn log1pmx(w: $t) -> $t {
                    let t = w / (2.0 + w);
                    let z = t * t;
                    let mut s: $t = 1.0 / (2 * $terms + 1) as $t;
                    let mut j = $terms - 1;
                    while j > 0 {
                        j -= 1;
                        s = s * z + 1.0 / (2 * j + 3) as $t;
                    }
                    t * (2.0 * z * s - w)
                }

                /// `k ln 2` for an integer `k`, in two parts so that large `k` stay exact.
                #[inline(always)]
                fn k_ln2(k: $i) -> ($t, $t) {
                    let k = float(k);
                    (k * $ln2_hi, k * $ln2_lo)
                }

                /// Branch-free natural logarithm.
                #[inline(always)]
                pub fn ln(x: $t) -> $t {
                    let (k, m) = split(x);
                    let w = m - 1.0;
                    let (hi, lo) = k_ln2(k);
                    let v = hi + (w + (log1pmx(w) + lo));
                    // Zero, infinity, negatives and NaN as libm has them.
                    if x > 0.0 && x < <$t>::INFINITY {
                        v
                    } else if x == 0.0 {
                        <$t>::NEG_INFINITY
                    } else if x == <$t>::INFINITY {
                        x
                    } else {
                        <$t>::NAN
                    }
                }

                /// Branch-free `½ (r² − 1) − ln r`, `r = |a| / |b|`.
                #[inline(always)]
                pub fn scale_ratio_term(a: $t, b: $t) -> $t {
                    let (a, b) = (a.abs(), b.abs());
                    let (ka, ma) = split(a);
                    let (kb, mb) = split(b);
                    // r = 2^(ka - kb) (ma / mb) with ma / mb in (1/2, 2): renormalize to [√½, √2).
                    let q = ma / mb;
                    let sqrt_half = <$t>::from_bits($sqrt_half);
                    let (lo, hi) = (q < sqrt_half, q >= 2.0 * sqrt_half);
                    let m = if lo {
                        q * 2.0
                    } else if hi {
                        q * 0.5
                    } else {
                        q
                    };
                    let k = ka - kb - (lo as $i) + (hi as $i);
                    // Near r = 1 (k = 0): u = r - 1 from the exact difference of the mantissas
                    // (a and b lie within a binade of each other there, so ma 2^(ka - kb) is exact).
                    let s = if ka > kb {
                        2.0
                    } else if ka < kb {
                        0.5
                    } else {
                        1.0
                    };
                    let u = (ma * s - mb) / mb;
                    // Far from it: r = m 2^k, with 2^k clamped to the normal range so that r² still
                    // saturates to 0 or infinity exactly when the true one does.
                    let p = <$t>::from_bits(((k.clamp(1 - BIAS, BIAS) + BIAS) as $u) << $mant);
                    let r = m * p;
                    let near = k == 0;
                    let w = if near { u } else { m - 1.0 };
                    let head = if near { 0.5 * (u * u) } else { 0.5 * (r * r - 1.0) - w };
                    let (kh, kl) = k_ln2(k);
                    let v = head - (kh + (log1pmx(w) + kl));
                    if a > 0.0 && b > 0.0 && a < <$t>::INFINITY && b < <$t>::INFINITY {
                        v
                    } else {
                        <$t>::NAN
                    }
                }
            }
        };
    }

    fast_kernels!(
        mod f32k: f32, u32, i32, mant = 23, sqrt_half = 0x3f35_04f3,
        // ln 2 = hi + lo with hi exact in f32: the bits of 0.693_138_1 and 9.058_000_6e-6.
        tiny = (33_554_432.0, 25), ln2 = (f32::from_bits(0x3f31_7180), f32::from_bits(0x3717_f7d1)),
        terms = 6, to_float = |k: i32| k as f32
    );
    // `i64 as f64` has no AVX2 instruction: place `k + 2^12` in the mantissa of 2^52 instead.
    fast_kernels!(
        mod f64k: f64, u64, i64, mant = 52, sqrt_half = 0x3fe6_a09e_667f_3bcd,
        // ln 2 = hi + lo with hi exact in f64 (musl's ln2_hi / ln2_lo).
        tiny = (18_014_398_509_481_984.0, 54),
        ln2 = (f64::from_bits(0x3fe6_2e42_fee0_0000), f64::from_bits(0x3dea_39ef_3579_3c76)),
        terms = 11,
        to_float = |k: i64| f64::from_bits(0x4330_0000_0000_0000 | (k + 4096) as u64) - (4_503_599_627_370_496.0 + 4096.0)
    );
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
            let (got, want) = (fast::f64k::ln(x), x.ln());
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
            let (got, want) = (fast::f32k::ln(x) as f64, (x as f64).ln());
            assert!(
                (got - want).abs() <= 2.0 * f32::EPSILON as f64 * want.abs().max(1e-38),
                "ln({x:e}): {got:e} vs {want:e}"
            );
        }
        assert_eq!(fast::f64k::ln(0.0), f64::NEG_INFINITY);
        assert_eq!(fast::f64k::ln(f64::INFINITY), f64::INFINITY);
        assert!(fast::f64k::ln(-1.0).is_nan() && fast::f64k::ln(f64::NAN).is_nan());
        assert_eq!(fast::f32k::ln(1.0), 0.0);
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
                let (got, want) = (fast::f64k::scale_ratio_term(a, b), accurate(a, b));
                assert!(rel(got, want) <= 1e-14, "({a:e}, {b:e}): {got:e} vs {want:e}");
            }
        }
        assert_eq!(fast::f64k::scale_ratio_term(1e-150, 1e150), scale_ratio_term_reference(1e-150, 1e150));
        assert!(rel(fast::f64k::scale_ratio_term(1e-300, 1e300), scale_ratio_term_reference(1e-300, 1e300)) < 1e-15);
        assert_eq!(fast::f64k::scale_ratio_term(1e300, 1e-300), f64::INFINITY);
        assert!(rel(fast::f64k::scale_ratio_term(5e-324, 1.0), scale_ratio_term_reference(5e-324, 1.0)) < 1e-15);
        assert_eq!(fast::f64k::scale_ratio_term(2.5, 2.5), 0.0);
        assert_eq!(fast::f64k::scale_ratio_term(-2.5, 2.5), 0.0);
        assert!(
            fast::f64k::scale_ratio_term(0.0, 1.0).is_nan() && fast::f64k::scale_ratio_term(1.0, f64::NAN).is_nan()
        );
        // f32 against the f64 value of the same (f32) inputs.
        for (i, &b) in spread(4_000, -120, 120).iter().enumerate() {
            let n = near[i] * if i % 2 == 0 { 1.0 } else { -0.5 };
            for a in [b * (1.0 + n), b * 1.5, b / 1.5, b * 1e10, b * 1e-10] {
                let (a, b) = (a as f32, b as f32);
                if !(a.is_finite() && a > 0.0 && b.is_finite() && b > 0.0) {
                    continue;
                }
                let (got, want) = (fast::f32k::scale_ratio_term(a, b) as f64, accurate(a as f64, b as f64));
                assert!(rel(got, want) <= 1e-6, "f32 ({a:e}, {b:e}): {got:e} vs {want:e}");
            }
        }
        assert_eq!(fast::f32k::scale_ratio_term(1e-30, 1e30) as f64, (60.0 * 10f64.ln() - 0.5) as f32 as f64);
    }

    #[test]
    fn normal_kl_of_identical_arguments_is_zero() {
        assert_eq!(normal_kl(0.3_f64, 1.7, 0.3, 1.7), 0.0);
        assert_eq!(normal_kl(-2.0_f32, 0.01, -2.0, 0.01), 0.0);
        assert_eq!(std_normal_kl(0.0_f64, 1.0), 0.0);
    }
}
