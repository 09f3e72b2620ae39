//! The exponential distribution `Exponential(rate)`: density `rate · e^(−rate x)` on `[0, ∞)`.

use crate::real::Real;
use crate::scalar::ratio_excess;

/// `KL(Exp(r1) ‖ Exp(r2)) = ln(r1/r2) + r2/r1 − 1`: `−log1pmx(u)` with `u = (r2 − r1)/r1` near
/// `r1 = r2` (exactly 0 there), logs of each rate far from it.
///
/// ```
/// use kl_runtime::exponential_kl;
/// assert!((exponential_kl(2.0_f64, 1.0) - (2.0_f64.ln() + 0.5 - 1.0)).abs() < 1e-15);
/// assert_eq!(exponential_kl(1.5_f64, 1.5), 0.0);
/// ```
#[inline]
pub fn exponential_kl<T: Real>(r1: T, r2: T) -> T {
    ratio_excess(r1, r2)
}

/// `ln p(x) = ln rate − rate x` for `x >= 0`.
#[inline]
pub fn exponential_log_prob<T: Real>(x: T, rate: T) -> T {
    rate.ln() - rate * x
}

/// Differential entropy `1 − ln rate`.
#[inline]
pub fn exponential_entropy<T: Real>(rate: T) -> T {
    T::ONE - rate.ln()
}

/// `∂/∂(r1, r2)` of [`exponential_kl`]: `(r1 − r2)/r1²`, `(r2 − r1)/(r1 r2)`.
pub fn exponential_kl_grad<T: Real>(r1: T, r2: T) -> [T; 2] {
    [(r1 - r2) / (r1 * r1), (r2 - r1) / (r1 * r2)]
}

/// `∂/∂(x, rate)` of [`exponential_log_prob`]: `−rate`, `1/rate − x`.
pub fn exponential_log_prob_grad<T: Real>(x: T, rate: T) -> [T; 2] {
    [-rate, rate.recip() - x]
}

/// `∂/∂rate` of [`exponential_entropy`]: `−1/rate`.
pub fn exponential_entropy_grad<T: Real>(rate: T) -> [T; 1] {
    [-rate.recip()]
}
