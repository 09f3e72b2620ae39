//! The log-normal distribution `LogNormal(loc, scale)`: `ln X ~ Normal(loc, scale)`. Its KL is
//! the KL of the normals of the logs (the compiler reuses the normal kernel); here are its
//! log-density and entropy with their partial derivatives.

use crate::real::Real;
use crate::scalar::normal_log_prob;

/// `ln p(x) = ln φ((ln x − loc)/scale) − ln scale − ln x` for `x > 0`.
#[inline]
pub fn lognormal_log_prob<T: Real>(x: T, loc: T, scale: T) -> T {
    let lx = x.ln();
    normal_log_prob(lx, loc, scale) - lx
}

/// Differential entropy `loc + ½ + ½ln(2π) + ln scale`.
#[inline]
pub fn lognormal_entropy<T: Real>(loc: T, scale: T) -> T {
    loc + T::HALF * (T::ONE + T::LN_2PI) + scale.ln()
}

/// `∂/∂(x, loc, scale)` of [`lognormal_log_prob`], `z = (ln x − loc)/scale`:
/// `−(z/scale + 1)/x`, `z/scale`, `(z² − 1)/scale`.
pub fn lognormal_log_prob_grad<T: Real>(x: T, loc: T, scale: T) -> [T; 3] {
    let z = (x.ln() - loc) / scale;
    [-(z / scale + T::ONE) / x, z / scale, (z - T::ONE) * (z + T::ONE) / scale]
}

/// `∂/∂(loc, scale)` of [`lognormal_entropy`]: `1`, `1/scale`.
pub fn lognormal_entropy_grad<T: Real>(_loc: T, scale: T) -> [T; 2] {
    [T::ONE, scale.recip()]
}
