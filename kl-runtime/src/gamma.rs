//! The gamma distribution `Gamma(concentration α, rate β)`: density
//! `β^α x^(α − 1) e^(−βx) / Γ(α)` on `(0, ∞)`, and `Chi2(df) = Gamma(df/2, 1/2)`.
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: `α > 0`, `β > 0`, `df > 0`, a `log_prob` value `x > 0`).

use crate::real::Real;
use crate::scalar::{ln_ratio, log1pmx, ratio_excess};
use crate::special::fast;
use crate::special::{
    digamma, digamma_between, digamma_tail, lgamma, lgamma_correction, lgamma_excess, trigamma, STIRLING_MIN,
};

/// `r − 1 − ln r` and `ln r` for `r = b2/b1`, from the exact relative difference
/// `u = (b2 − b1)/b1`: `−log1pmx(u)` and `ln(1 + u)` near `r = 1`, logs of each far from it.
#[inline]
pub(crate) fn ratio_terms<T: Real>(b1: T, b2: T) -> (T, T) {
    (ratio_excess(b1, b2), ln_ratio(b1, b2))
}

/// `KL(Gamma(a1, b1) ‖ Gamma(a2, b2))`. The textbook form
/// `(a1 − a2)ψ(a1) − lnΓ(a1) + lnΓ(a2) + a2 ln(b1/b2) + a1(b2 − b1)/b1` cancels catastrophically
/// near `P = Q`; here it is the sum `E(a1, h) + a1(r − 1 − ln r) − h ln r` with `h = a2 − a1`,
/// `r = b2/b1` and `E(a, h) = lnΓ(a + h) − lnΓ(a) − hψ(a)` ([`lgamma_excess`], formed from `h`
/// without cancellation): every term is second order in the differences, and exactly 0 at
/// `P = Q`.
///
/// ```
/// use kl_runtime::gamma_kl;
/// // Gamma(1, b) is Exponential(b): KL = ln(b1/b2) + b2/b1 − 1.
/// let kl = gamma_kl(1.0_f64, 2.0, 1.0, 0.5);
/// assert!((kl - (4.0_f64.ln() + 0.25 - 1.0)).abs() < 1e-15);
/// assert_eq!(gamma_kl(2.5_f64, 0.5, 2.5, 0.5), 0.0);
/// ```
// Always: the emitted loops vectorize only with the kernel inlined (LLVM declines `#[inline]`
// for a body this size).
#[inline(always)]
pub fn gamma_kl<T: Real>(a1: T, b1: T, a2: T, b2: T) -> T {
    if fast::wide::<T>() {
        return T::from_f64(fast::gamma_kl(a1.to_f64(), b1.to_f64(), a2.to_f64(), b2.to_f64()));
    }
    let h = a2 - a1;
    let (rate_term, ln_r) = ratio_terms(b1, b2);
    lgamma_excess(a1, h) + a1 * rate_term - h * ln_r
}

/// `ln p(x) = α ln β + (α − 1) ln x − βx − lnΓ(α)`. For `α >= 10`, where those terms are
/// `~α ln α` each and cancel, as `α(ln y − y + 1) − ln x + ½ ln(α/2π) − c(α)` with `y = βx/α`
/// and `c` the Stirling tail ([`lgamma_correction`]).
#[inline]
pub fn gamma_log_prob<T: Real>(x: T, concentration: T, rate: T) -> T {
    let a = concentration;
    if a.to_f64() >= STIRLING_MIN {
        let u = rate.mul_add(x, -a) / a;
        let two_pi = T::from_f64(core::f64::consts::TAU);
        return a * log1pmx(u) - x.ln() + T::HALF * (a / two_pi).ln() - lgamma_correction(a);
    }
    a * rate.ln() + (a - T::ONE) * x.ln() - rate * x - lgamma(a)
}

/// Differential entropy `α − ln β + lnΓ(α) + (1 − α)ψ(α)`. For `α >= 10`, as
/// `½ ln(2πα) − ln β + ½ − 1/(2α) + c(α) + (α − 1)d(α)` with the Stirling tails `c` and `d`
/// ([`lgamma_correction`], [`digamma_tail`]): the `α ln α` terms cancel exactly.
#[inline]
pub fn gamma_entropy<T: Real>(concentration: T, rate: T) -> T {
    let a = concentration;
    if a.to_f64() >= STIRLING_MIN {
        let two_pi = T::from_f64(core::f64::consts::TAU);
        return T::HALF * (two_pi * a).ln() - rate.ln() + T::HALF - T::HALF / a
            + lgamma_correction(a)
            + (a - T::ONE) * digamma_tail(a);
    }
    a - rate.ln() + lgamma(a) + (T::ONE - a) * digamma(a)
}

/// `∂/∂(a1, b1, a2, b2)` of [`gamma_kl`], with `h = a2 − a1`, `u = (b2 − b1)/b1`:
/// `u − hψ'(a1)`, `(h − a1 u)/b1`, `(ψ(a2) − ψ(a1)) − ln(b2/b1)`, `(a1 u − h)/b2`: each
/// formed from the differences, so the gradient of `P || P` is exactly 0.
pub fn gamma_kl_grad<T: Real>(a1: T, b1: T, a2: T, b2: T) -> [T; 4] {
    let h = a2 - a1;
    let u = (b2 - b1) / b1;
    let (_, ln_r) = ratio_terms(b1, b2);
    [u - h * trigamma(a1), (h - a1 * u) / b1, digamma_between(a1, h, a2) - ln_r, (a1 * u - h) / b2]
}

/// `∂/∂(x, α, β)` of [`gamma_log_prob`]: `(α − 1)/x − β`, `ln β + ln x − ψ(α)`, `α/β − x`.
pub fn gamma_log_prob_grad<T: Real>(x: T, concentration: T, rate: T) -> [T; 3] {
    let a = concentration;
    [(a - T::ONE) / x - rate, rate.ln() + x.ln() - digamma(a), a / rate - x]
}

/// `∂/∂(α, β)` of [`gamma_entropy`]: `1 + (1 − α)ψ'(α)`, `−1/β`.
pub fn gamma_entropy_grad<T: Real>(concentration: T, rate: T) -> [T; 2] {
    let a = concentration;
    [T::ONE + (T::ONE - a) * trigamma(a), -rate.recip()]
}

/// `x / 2`: a `Chi2`'s degrees of freedom as the concentration of the `Gamma(df/2, 1/2)` it is
/// (the Chi2 ‖ Gamma pairs).
#[inline]
pub fn half<T: Real>(x: T) -> T {
    x * T::HALF
}

/// `∂/∂x` of [`half`]: `½`.
pub fn half_grad<T: Real>(_x: T) -> [T; 1] {
    [T::HALF]
}

/// `KL(Chi2(k1) ‖ Chi2(k2)) = KL(Gamma(k1/2, 1/2) ‖ Gamma(k2/2, 1/2))`.
///
/// ```
/// use kl_runtime::{chi2_kl, gamma_kl};
/// assert_eq!(chi2_kl(3.0_f64, 5.0), gamma_kl(1.5, 0.5, 2.5, 0.5));
/// ```
#[inline]
pub fn chi2_kl<T: Real>(df1: T, df2: T) -> T {
    gamma_kl(df1 * T::HALF, T::HALF, df2 * T::HALF, T::HALF)
}

/// `ln p(x)` of `Chi2(df) = Gamma(df/2, 1/2)`.
#[inline]
pub fn chi2_log_prob<T: Real>(x: T, df: T) -> T {
    gamma_log_prob(x, df * T::HALF, T::HALF)
}

/// The entropy of `Chi2(df) = Gamma(df/2, 1/2)`.
#[inline]
pub fn chi2_entropy<T: Real>(df: T) -> T {
    gamma_entropy(df * T::HALF, T::HALF)
}

/// `∂/∂(k1, k2)` of [`chi2_kl`]: the concentration partials of [`gamma_kl_grad`], halved.
pub fn chi2_kl_grad<T: Real>(df1: T, df2: T) -> [T; 2] {
    let g = gamma_kl_grad(df1 * T::HALF, T::HALF, df2 * T::HALF, T::HALF);
    [g[0] * T::HALF, g[2] * T::HALF]
}

/// `∂/∂(x, df)` of [`chi2_log_prob`].
pub fn chi2_log_prob_grad<T: Real>(x: T, df: T) -> [T; 2] {
    let g = gamma_log_prob_grad(x, df * T::HALF, T::HALF);
    [g[0], g[1] * T::HALF]
}

/// `∂/∂df` of [`chi2_entropy`].
pub fn chi2_entropy_grad<T: Real>(df: T) -> [T; 1] {
    [gamma_entropy_grad(df * T::HALF, T::HALF)[0] * T::HALF]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_exactly_zero_at_equality_and_positive_near_it() {
        assert_eq!(gamma_kl(0.7_f64, 1.3, 0.7, 1.3), 0.0);
        assert_eq!(gamma_kl(3.0_f32, 0.25, 3.0, 0.25), 0.0);
        assert_eq!(gamma_kl_grad(0.7_f64, 1.3, 0.7, 1.3), [0.0; 4]);
        // A shape gap h: E(a, h) ≈ ψ'(a) h²/2 (ψ'(1) = π²/6).
        let a2 = 1.0_f64 + 1e-9;
        let h = a2 - 1.0;
        let kl = gamma_kl(1.0, 1.0, a2, 1.0);
        let want = core::f64::consts::PI.powi(2) / 6.0 * h * h / 2.0;
        assert!((kl - want).abs() < 1e-8 * want, "{kl:e} vs {want:e}");
    }
}
