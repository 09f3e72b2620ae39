//! The Cauchy distribution `Cauchy(loc, scale)`: density `1 / (π scale (1 + z²))`,
//! `z = (x − loc) / scale`. Elementwise kernels generic over [`Real`], with their closed-form
//! partial derivatives.

use crate::real::Real;

/// `KL(Cauchy(m1, s1) ‖ Cauchy(m2, s2)) = ln(((s1 + s2)² + (m1 − m2)²) / (4 s1 s2))`, computed
/// as `ln(1 + ((s1 − s2)² + (m1 − m2)²) / (4 s1 s2))` so that near-equal pairs keep their
/// relative accuracy (and `P ‖ P` is exactly 0).
///
/// ```
/// use kl_runtime::cauchy_kl;
/// let textbook = ((3.0_f64).powi(2) + 1.0) / (4.0 * 2.0);
/// assert!((cauchy_kl(0.0_f64, 1.0, 1.0, 2.0) - textbook.ln()).abs() < 1e-15);
/// assert_eq!(cauchy_kl(0.5_f64, 2.0, 0.5, 2.0), 0.0);
/// ```
#[inline]
pub fn cauchy_kl<T: Real>(m1: T, s1: T, m2: T, s2: T) -> T {
    let (ds, dm) = (s1 - s2, m1 - m2);
    ((ds * ds + dm * dm) / (T::from_f64(4.0) * s1 * s2)).ln_1p()
}

/// `ln p(x) = −ln(π scale) − ln(1 + z²)`.
#[inline]
pub fn cauchy_log_prob<T: Real>(x: T, loc: T, scale: T) -> T {
    let z = (x - loc) / scale;
    -(T::from_f64(core::f64::consts::PI) * scale).ln() - (z * z).ln_1p()
}

/// Differential entropy `ln(4π scale)`.
#[inline]
pub fn cauchy_entropy<T: Real>(scale: T) -> T {
    (T::from_f64(4.0 * core::f64::consts::PI) * scale).ln()
}

/// `∂/∂(m1, s1, m2, s2)` of [`cauchy_kl`], with `N = (s1 + s2)² + (m1 − m2)²`:
/// `±2(m1 − m2)/N`, `((s1 − s2)(s1 + s2) − (m1 − m2)²)/(s1 N)` and its mirror for `s2`.
pub fn cauchy_kl_grad<T: Real>(m1: T, s1: T, m2: T, s2: T) -> [T; 4] {
    let (dm, sum) = (m1 - m2, s1 + s2);
    let n = sum * sum + dm * dm;
    let gm = T::TWO * dm / n;
    [gm, ((s1 - s2) * sum - dm * dm) / (s1 * n), -gm, ((s2 - s1) * sum - dm * dm) / (s2 * n)]
}

/// `∂/∂(x, loc, scale)` of [`cauchy_log_prob`]: `∓2z/(s(1 + z²))` and `(z² − 1)/(s(1 + z²))`.
pub fn cauchy_log_prob_grad<T: Real>(x: T, loc: T, scale: T) -> [T; 3] {
    let z = (x - loc) / scale;
    let w = scale * (T::ONE + z * z);
    let g = T::TWO * z / w;
    [-g, g, (z - T::ONE) * (z + T::ONE) / w]
}

/// `∂/∂scale` of [`cauchy_entropy`]: `1/scale`.
pub fn cauchy_entropy_grad<T: Real>(scale: T) -> [T; 1] {
    [scale.recip()]
}
