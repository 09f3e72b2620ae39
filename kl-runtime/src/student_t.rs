//! Student's t distribution `StudentT(df ν, loc μ, scale σ)`: density
//! `Γ((ν + 1)/2) / (Γ(ν/2) √(νπ) σ) · (1 + z²/ν)^(−(ν + 1)/2)`, `z = (x − μ)/σ`. Its KL has no
//! closed form; `log_prob` and `entropy` do.
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: `ν > 0`, `σ > 0`, `μ` and `x` finite).

use crate::real::Real;
use crate::special::{digamma_diff, lgamma, lgamma_diff, trigamma};

/// `ln √π`.
const LN_SQRT_PI: f64 = 0.572_364_942_924_700_1;

/// `ln p(x) = lnΓ((ν + 1)/2) − lnΓ(ν/2) − ½ ln(νπ) − ln σ − ((ν + 1)/2) ln(1 + z²/ν)`, the
/// difference of log-gammas formed from their gap ½ so that a large `ν` keeps its accuracy.
///
/// ```
/// use kl_runtime::student_t_log_prob;
/// // ν = 1 is the Cauchy distribution: −ln(π σ (1 + z²)).
/// let lp = student_t_log_prob(1.0_f64, 1.0, 0.0, 2.0);
/// let want = -(core::f64::consts::PI * 2.0 * 1.25).ln();
/// assert!((lp - want).abs() < 1e-15);
/// ```
#[inline]
pub fn student_t_log_prob<T: Real>(x: T, df: T, loc: T, scale: T) -> T {
    let z = (x - loc) / scale;
    let half = df * T::HALF;
    lgamma_diff(half, T::HALF)
        - T::HALF * df.ln()
        - T::from_f64(LN_SQRT_PI)
        - scale.ln()
        - (half + T::HALF) * (z * z / df).ln_1p()
}

/// Differential entropy `((ν + 1)/2)(ψ((ν + 1)/2) − ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½) + ln σ`.
#[inline]
pub fn student_t_entropy<T: Real>(df: T, scale: T) -> T {
    let half = df * T::HALF;
    let ln_b = lgamma(T::HALF) - lgamma_diff(half, T::HALF);
    (half + T::HALF) * digamma_diff(half, T::HALF) + T::HALF * df.ln() + ln_b + scale.ln()
}

/// `∂/∂(x, ν, μ, σ)` of [`student_t_log_prob`], `w = z²/ν`: `−(ν + 1)z/(σ(ν + z²))`,
/// `½(ψ((ν + 1)/2) − ψ(ν/2)) − 1/(2ν) − ½ ln(1 + w) + (ν + 1)w/(2ν(1 + w))`, `(ν + 1)z/(σ(ν + z²))`,
/// `((ν + 1)z²/(ν + z²) − 1)/σ`.
pub fn student_t_log_prob_grad<T: Real>(x: T, df: T, loc: T, scale: T) -> [T; 4] {
    let z = (x - loc) / scale;
    let (half, z2) = (df * T::HALF, z * z);
    let w = z2 / df;
    let np1 = df + T::ONE;
    let dz = np1 * z / (df + z2);
    let d_df = T::HALF * digamma_diff(half, T::HALF) - T::HALF / df - T::HALF * w.ln_1p()
        + np1 * w / (T::TWO * df * (T::ONE + w));
    [-dz / scale, d_df, dz / scale, (np1 * z2 / (df + z2) - T::ONE) / scale]
}

/// `∂/∂(ν, σ)` of [`student_t_entropy`]: `((ν + 1)/4)(ψ'((ν + 1)/2) − ψ'(ν/2)) + 1/(2ν)`, `1/σ`.
pub fn student_t_entropy_grad<T: Real>(df: T, scale: T) -> [T; 2] {
    let half = df * T::HALF;
    let quarter = T::HALF * T::HALF;
    [(df + T::ONE) * quarter * (trigamma(half + T::HALF) - trigamma(half)) + T::HALF / df, scale.recip()]
}
