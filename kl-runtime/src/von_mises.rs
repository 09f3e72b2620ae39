//! The von Mises distribution `VonMises(loc μ, concentration κ)` on the circle: density
//! `e^(κ cos(x − μ)) / (2π I0(κ))`, periodic in `x` (torch.distributions takes any real `x`).
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: `κ > 0`, `μ` and `x` finite). The KL (a pair torch lacks) is
//! written with `F = ln I0` and `A = F' = I1/I0` ([`bessel_ratio`]):
//! `KL = [F(κ2) − F(κ1) − (κ2 − κ1)A(κ1)] + A(κ1)κ2(1 − cos(μ1 − μ2))`, where the bracket is
//! the excess of a convex function ([`ln_i0_excess`]) and `1 − cos δ = 2 sin²(δ/2)`: two
//! non-negative terms, each formed without cancellation, exactly 0 at `P = Q`.

use crate::real::Real;
use crate::special::{bessel_ratio, i0e, ln_i0};

/// `ln(2π)`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Gauss–Legendre nodes and weights on `[0, 1]`, 16 points.
const GL_S: [f64; 16] = [
    0.005_299_532_504_175_034,
    0.027_712_488_463_383_71,
    0.067_184_398_806_084_13,
    0.122_297_795_822_498_48,
    0.191_061_877_798_678_13,
    0.270_991_611_171_386_3,
    0.359_198_224_610_370_54,
    0.452_493_745_081_181_3,
    0.547_506_254_918_818_7,
    0.640_801_775_389_629_5,
    0.729_008_388_828_613_7,
    0.808_938_122_201_321_9,
    0.877_702_204_177_501_5,
    0.932_815_601_193_915_9,
    0.972_287_511_536_616_3,
    0.994_700_467_495_825,
];
const GL_W: [f64; 16] = [
    0.013_576_229_705_877_047,
    0.031_126_761_969_323_946,
    0.047_579_255_841_246_39,
    0.062_314_485_627_766_94,
    0.074_797_994_408_288_37,
    0.084_578_259_697_501_27,
    0.091_301_707_522_461_79,
    0.094_725_305_227_534_25,
    0.094_725_305_227_534_25,
    0.091_301_707_522_461_79,
    0.084_578_259_697_501_27,
    0.074_797_994_408_288_37,
    0.062_314_485_627_766_94,
    0.047_579_255_841_246_39,
    0.031_126_761_969_323_946,
    0.013_576_229_705_877_047,
];

/// `x² A'(x)` for `x >= 8` as a polynomial in `s = 16/x − 1` (a Chebyshev fit at 60 digits of
/// `x² (1 − A/x − A²)`, truncated below 1e-19 of its leading term; worst relative error
/// measured 5e-20), lowest degree first.
const AP_TAIL: [f64; 40] = [
    0.517_319_399_497_556_6,
    0.019_292_546_130_693_054,
    0.002_315_077_893_290_538,
    0.000_424_430_570_855_267_9,
    0.000_109_951_189_364_525_02,
    4.042_380_833_396_622e-5,
    2.127_793_409_308_217_5e-5,
    1.341_869_509_661_209e-5,
    5.250_959_928_436_326e-6,
    -5.392_082_221_213_112e-6,
    -1.177_170_501_752_553_2e-5,
    -5.287_887_292_079_635e-6,
    8.300_792_771_489_965e-6,
    9.146_883_347_649_561e-6,
    -5.717_803_296_885_568e-6,
    -9.952_045_143_355_404e-6,
    5.772_368_315_555_308e-6,
    9.378_575_063_233_982e-6,
    -8.059_913_298_473_45e-6,
    -7.199_510_924_526_692e-6,
    1.160_701_557_565_894_5e-5,
    2.810_492_088_326_569_6e-6,
    -1.486_264_593_819_388_2e-5,
    3.403_914_361_809_314e-6,
    1.606_921_423_868_157e-5,
    -9.428_038_846_387_932e-6,
    -1.429_035_088_449_842_8e-5,
    1.256_672_542_785_057_5e-5,
    1.021_034_649_196_078e-5,
    -1.156_550_386_187_755_4e-5,
    -5.695_511_919_884_265e-6,
    7.747_429_832_096_468e-6,
    2.382_356_697_601_92e-6,
    -3.739_250_142_577_475_5e-6,
    -7.012_807_547_380_266e-7,
    1.237_816_725_320_666_7e-6,
    1.293_140_558_445_107_3e-7,
    -2.521_213_370_624_016e-7,
    -1.122_110_734_848_108e-8,
    2.384_810_629_206_875_7e-8,
];

/// `A'(x) = F''(x) = 1 − A/x − A²` for `x >= 0`: directly below 8 (where the terms cancel by at
/// most a factor 100), from the fitted tail above (where they cancel to `≈ 1/(2x²)`).
fn ratio_slope(x: f64) -> f64 {
    if x < 8.0 {
        if x < 1e-8 {
            return 0.5;
        }
        let a = bessel_ratio(x);
        1.0 - a / x - a * a
    } else {
        let s = 16.0 / x - 1.0;
        let p = AP_TAIL.iter().rev().fold(0.0, |acc, &c| acc * s + c);
        p / (x * x)
    }
}

/// `(F(k + h) − F(k) − h·A(k), A(k + h) − A(k))` with `F = ln I0`: for a gap small next to the
/// distance of `k` from the nearest singularity of `A'` (the zeros of `I0`, at ±2.405i), by
/// 16-point Gauss–Legendre of `h² ∫₀¹ (1 − s) A'(k + s h) ds` and `h ∫₀¹ A'(k + s h) ds` (no
/// cancellation: `A' > 0`); else from the values.
fn excess(k: f64, h: f64) -> (f64, f64) {
    if h == 0.0 {
        return (0.0, 0.0);
    }
    let mid = k + 0.5 * h;
    if 0.5 * h.abs() <= 0.4 * (mid * mid + 5.783).sqrt() {
        let (mut x, mut d) = (0.0, 0.0);
        for (s, w) in GL_S.iter().zip(&GL_W) {
            let slope = ratio_slope(k + s * h);
            x += w * (1.0 - s) * slope;
            d += w * slope;
        }
        (h * h * x, h * d)
    } else {
        let a = bessel_ratio(k);
        ((ln_i0(k + h) - ln_i0(k)) - h * a, bessel_ratio(k + h) - a)
    }
}

/// `ln I0(k + h) − ln I0(k) − h·I1(k)/I0(k)`, `>= 0`, relatively accurate for every gap `h`
/// (exactly 0 at `h = 0`).
pub fn ln_i0_excess<T: Real>(k: T, h: T) -> T {
    T::from_f64(excess(k.to_f64(), h.to_f64()).0)
}

/// `KL(VonMises(m1, k1) ‖ VonMises(m2, k2)) = ln(I0(k2)/I0(k1)) + A(k1)(k1 − k2 cos(m1 − m2))`,
/// as two non-negative terms (see the module docs); exactly 0 at `P = Q`.
///
/// ```
/// use kl_runtime::von_mises_kl;
/// // Equal concentrations: A(k)·k·(1 − cos δ).
/// let (k, d) = (2.0_f64, 0.5_f64);
/// let a = kl_runtime::special::bessel_ratio(k);
/// assert!((von_mises_kl(0.5, k, 0.0, k) - a * k * (1.0 - d.cos())).abs() < 1e-15);
/// assert_eq!(von_mises_kl(0.3_f64, 1.5, 0.3, 1.5), 0.0);
/// ```
#[inline]
pub fn von_mises_kl<T: Real>(m1: T, k1: T, m2: T, k2: T) -> T {
    let (k1, k2, d) = (k1.to_f64(), k2.to_f64(), (m1 - m2).to_f64());
    let half = (0.5 * d).sin();
    let (x, _) = excess(k1, k2 - k1);
    T::from_f64(x + bessel_ratio(k1) * k2 * 2.0 * half * half)
}

/// `ln p(x) = −2κ sin²((x − μ)/2) − ln(2π) − ln(e^(−κ) I0(κ))`.
#[inline]
pub fn von_mises_log_prob<T: Real>(x: T, loc: T, concentration: T) -> T {
    let half = ((x - loc) * T::HALF).sin();
    -(T::TWO * concentration * half * half) - T::from_f64(LN_2PI) - i0e(concentration).ln()
}

/// Differential entropy `ln(2π I0(κ)) − κA(κ)`, as `ln(2π) + ln(e^(−κ) I0(κ)) + κ(1 − A(κ))`.
#[inline]
pub fn von_mises_entropy<T: Real>(concentration: T) -> T {
    let k = concentration;
    T::from_f64(LN_2PI) + i0e(k).ln() + k * (T::ONE - bessel_ratio(k))
}

/// `∂/∂(m1, k1, m2, k2)` of [`von_mises_kl`], `δ = m1 − m2`, `h = k2 − k1`:
/// `A(k1)k2 sin δ`, `A'(k1)(2k2 sin²(δ/2) − h)`, `−A(k1)k2 sin δ`,
/// `(A(k2) − A(k1)) + 2A(k1) sin²(δ/2)`: exactly 0 at `P = Q`.
pub fn von_mises_kl_grad<T: Real>(m1: T, k1: T, m2: T, k2: T) -> [T; 4] {
    let (k1, k2, d) = (k1.to_f64(), k2.to_f64(), (m1 - m2).to_f64());
    let h = k2 - k1;
    let a = bessel_ratio(k1);
    let half = (0.5 * d).sin();
    let vers = 2.0 * half * half;
    let dm = a * k2 * d.sin();
    let (_, da) = excess(k1, h);
    let g = [dm, ratio_slope(k1) * (k2 * vers - h), -dm, da + a * vers];
    g.map(T::from_f64)
}

/// `∂/∂(x, μ, κ)` of [`von_mises_log_prob`]: `−κ sin(x − μ)`, `κ sin(x − μ)`, `cos(x − μ) − A(κ)`.
pub fn von_mises_log_prob_grad<T: Real>(x: T, loc: T, concentration: T) -> [T; 3] {
    let d = x - loc;
    let s = concentration * d.sin();
    [-s, s, d.cos() - bessel_ratio(concentration)]
}

/// `∂/∂κ` of [`von_mises_entropy`]: `−κA'(κ)`.
pub fn von_mises_entropy_grad<T: Real>(concentration: T) -> [T; 1] {
    let k = concentration.to_f64();
    [T::from_f64(-k * ratio_slope(k))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_exactly_zero_at_equality_with_zero_gradient() {
        assert_eq!(von_mises_kl(0.3_f64, 1.5, 0.3, 1.5), 0.0);
        assert_eq!(von_mises_kl_grad(0.3_f64, 1.5, 0.3, 1.5), [0.0; 4]);
        assert_eq!(von_mises_kl(-1.0_f32, 40.0, -1.0, 40.0), 0.0);
    }

    #[test]
    fn the_excess_agrees_with_its_taylor_leading_term_and_the_direct_form() {
        for &k in &[0.01_f64, 0.5, 3.0, 7.9, 8.1, 50.0, 1e3] {
            // Tiny gaps: A'(k) h²/2.
            let h = 1e-9 * k.max(1.0);
            let want = 0.5 * ratio_slope(k) * h * h;
            let got = ln_i0_excess(k, h);
            assert!((got - want).abs() <= 1e-8 * want, "k = {k}: {got:e} vs {want:e}");
            // Moderate gaps: the direct form, where nothing cancels much.
            let h = 0.35 * k + 0.5;
            let direct = (ln_i0(k + h) - ln_i0(k)) - h * bessel_ratio(k);
            let got = ln_i0_excess(k, h);
            assert!((got - direct).abs() <= 1e-12 * direct.max(1e-300) * k.max(1.0), "k = {k}: {got:e} vs {direct:e}");
        }
    }
}
