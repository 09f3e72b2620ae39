//! The half-normal distribution `HalfNormal(scale)`: `|X|` for `X ~ Normal(0, scale)`, on `[0, ∞)`.

use crate::real::Real;
use crate::scalar::{normal_log_prob, scale_ratio_term};

/// `KL(HalfNormal(s1) ‖ HalfNormal(s2)) = ln(s2/s1) + s1²/(2 s2²) − ½`, the normal KL at equal
/// locations (the stable scale term).
#[inline]
pub fn half_normal_kl<T: Real>(s1: T, s2: T) -> T {
    scale_ratio_term(s1, s2)
}

/// `ln p(x) = ln 2 + ln φ(x/scale) − ln scale` for `x >= 0`.
#[inline]
pub fn half_normal_log_prob<T: Real>(x: T, scale: T) -> T {
    T::from_f64(core::f64::consts::LN_2) + normal_log_prob(x, T::ZERO, scale)
}

/// Differential entropy `½ ln(π/2) + ½ + ln scale`.
#[inline]
pub fn half_normal_entropy<T: Real>(scale: T) -> T {
    T::from_f64(0.5 * (core::f64::consts::PI / 2.0).ln() + 0.5) + scale.ln()
}

/// `∂/∂(s1, s2)` of [`half_normal_kl`]: `(s1 − s2)(s1 + s2)/(s1 s2²)`, `−(s1 − s2)(s1 + s2)/s2³`.
pub fn half_normal_kl_grad<T: Real>(s1: T, s2: T) -> [T; 2] {
    let d = (s1 - s2) * (s1 + s2);
    [d / (s1 * s2 * s2), -d / (s2 * s2 * s2)]
}

/// `∂/∂(x, scale)` of [`half_normal_log_prob`]: `−x/scale²`, `(z² − 1)/scale`, `z = x/scale`.
pub fn half_normal_log_prob_grad<T: Real>(x: T, scale: T) -> [T; 2] {
    let z = x / scale;
    [-z / scale, (z - T::ONE) * (z + T::ONE) / scale]
}

/// `∂/∂scale` of [`half_normal_entropy`]: `1/scale`.
pub fn half_normal_entropy_grad<T: Real>(scale: T) -> [T; 1] {
    [scale.recip()]
}
