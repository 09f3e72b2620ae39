//! The tails of Stirling's series, for closed forms at large concentrations: written with them,
//! `lnΓ(x)` and `ψ(x)` lose their large leading terms (`x ln x`, `ln x`) to exact algebra, so
//! that entropies and log densities of `Gamma(10⁴, ..)` keep their relative accuracy where
//! `lnΓ(α) − (α − 1)ψ(α)` would cancel four digits away.

use crate::real::Real;

/// The smallest argument the series are used at: 8 terms reach below 1e-17 relative there.
pub const STIRLING_MIN: f64 = 10.0;

/// `lnΓ(x) − ((x − ½) ln x − x + ½ ln 2π) = Σ B₂ₖ / (2k(2k − 1) x^(2k−1))` for `x >= 10`.
///
/// ```
/// use kl_runtime::special::{lgamma, lgamma_correction};
/// let x = 20.0_f64;
/// let stirling = (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln();
/// assert!((lgamma(x) - stirling - lgamma_correction(x)).abs() < 1e-14);
/// ```
pub fn lgamma_correction<T: Real>(x: T) -> T {
    // B₂ₖ / (2k(2k − 1)), k = 1..8.
    const C: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
        -3617.0 / 122_400.0,
    ];
    let x = x.to_f64();
    let r = 1.0 / x;
    let r2 = r * r;
    T::from_f64(r * C.iter().rev().fold(0.0, |acc, &c| acc * r2 + c))
}

/// `ln x − 1/(2x) − ψ(x) = Σ B₂ₖ / (2k x^(2k))` for `x >= 10`.
///
/// ```
/// use kl_runtime::special::{digamma, digamma_tail};
/// let x = 20.0_f64;
/// assert!((x.ln() - 0.5 / x - digamma(x) - digamma_tail(x)).abs() < 1e-15);
/// ```
pub fn digamma_tail<T: Real>(x: T) -> T {
    // B₂ₖ / (2k), k = 1..8.
    const C: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 120.0,
        1.0 / 252.0,
        -1.0 / 240.0,
        1.0 / 132.0,
        -691.0 / 32_760.0,
        1.0 / 12.0,
        -3617.0 / 8160.0,
    ];
    let x = x.to_f64();
    let r2 = 1.0 / (x * x);
    T::from_f64(r2 * C.iter().rev().fold(0.0, |acc, &c| acc * r2 + c))
}
