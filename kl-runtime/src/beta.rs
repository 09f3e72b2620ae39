//! The beta distribution `Beta(concentration1 α, concentration0 β)`: density
//! `x^(α − 1) (1 − x)^(β − 1) / B(α, β)` on `[0, 1]`.
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: `α > 0`, `β > 0`, a `log_prob` value in `[0, 1]`).

use crate::real::Real;
use crate::special::fast;
use crate::special::{
    digamma_between, digamma_diff, digamma_tail, lgamma, lgamma_correction, lgamma_diff, lgamma_excess, trigamma,
    STIRLING_MIN,
};

/// `ln B(α, β) = lnΓ(α) + lnΓ(β) − lnΓ(α + β)`, as `lnΓ(β) − (lnΓ(α + β) − lnΓ(α))` so that a
/// small `β` next to a large `α` keeps its accuracy.
#[inline]
pub(crate) fn ln_beta<T: Real>(a: T, b: T) -> T {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    lgamma(lo) - lgamma_diff(hi, lo)
}

/// `KL(Beta(a1, b1) ‖ Beta(a2, b2))`. The textbook form (differences of `ln B` plus digamma
/// terms) cancels catastrophically near `P = Q`; it equals
/// `E(a1, a2 − a1) + E(b1, b2 − b1) − E(a1 + b1, (a2 − a1) + (b2 − b1))` with
/// `E(a, h) = lnΓ(a + h) − lnΓ(a) − hψ(a)` ([`lgamma_excess`]), each formed from the exact
/// differences: second order in them, and exactly 0 at `P = Q`.
///
/// ```
/// use kl_runtime::beta_kl;
/// // Beta(1, 1) is Uniform(0, 1); KL(U ‖ Beta(2, 1)) = ln B(2, 1) − E[ln x] = −ln 2 + 1.
/// assert!((beta_kl(1.0_f64, 1.0, 2.0, 1.0) - (1.0 - 2.0_f64.ln())).abs() < 1e-15);
/// assert_eq!(beta_kl(0.5_f64, 3.0, 0.5, 3.0), 0.0);
/// ```
// Always: the emitted loops vectorize only with the kernel inlined (LLVM declines `#[inline]`
// for a body this size).
#[inline(always)]
pub fn beta_kl<T: Real>(a1: T, b1: T, a2: T, b2: T) -> T {
    if fast::wide::<T>() {
        return T::from_f64(fast::beta_kl(a1.to_f64(), b1.to_f64(), a2.to_f64(), b2.to_f64()));
    }
    let (ha, hb) = (a2 - a1, b2 - b1);
    lgamma_excess(a1, ha) + lgamma_excess(b1, hb) - lgamma_excess(a1 + b1, ha + hb)
}

/// `ln p(x) = (α − 1) ln x + (β − 1) ln(1 − x) − ln B(α, β)`.
#[inline]
pub fn beta_log_prob<T: Real>(x: T, concentration1: T, concentration0: T) -> T {
    let (a, b) = (concentration1, concentration0);
    (a - T::ONE) * x.ln() + (b - T::ONE) * (-x).ln_1p() - ln_beta(a, b)
}

/// Differential entropy `ln B(α, β) − (α − 1)ψ(α) − (β − 1)ψ(β) + (α + β − 2)ψ(α + β)`, as
/// `ln B − (α − 1)(ψ(α) − ψ(α + β)) − (β − 1)(ψ(β) − ψ(α + β))`.
///
/// For `α, β >= 10` the terms are `~α ln α` and cancel; there it is written with the Stirling
/// tails `c` and `d` ([`lgamma_correction`], [`digamma_tail`]), `s = α + β`:
/// `½ ln(2παβ/s³) + ½(1 − 1/α − 1/β + 2/s) + c(α) + c(β) − c(s) + (α − 1)d(α) + (β − 1)d(β) −
/// (s − 2)d(s)`.
#[inline]
pub fn beta_entropy<T: Real>(concentration1: T, concentration0: T) -> T {
    let (a, b) = (concentration1, concentration0);
    if a.to_f64().min(b.to_f64()) >= STIRLING_MIN {
        let s = a + b;
        let two_pi = T::from_f64(core::f64::consts::TAU);
        let logs = T::HALF * (two_pi.ln() + a.ln() + b.ln()) - T::from_f64(1.5) * s.ln();
        let rational = T::HALF * (T::ONE - a.recip() - b.recip() + T::TWO / s);
        let c = lgamma_correction(a) + lgamma_correction(b) - lgamma_correction(s);
        let d = (a - T::ONE) * digamma_tail(a) + (b - T::ONE) * digamma_tail(b) - (s - T::TWO) * digamma_tail(s);
        return logs + rational + c + d;
    }
    ln_beta(a, b) + (a - T::ONE) * digamma_diff(a, b) + (b - T::ONE) * digamma_diff(b, a)
}

/// `∂/∂(a1, b1, a2, b2)` of [`beta_kl`], with `h = a2 − a1`, `k = b2 − b1`, `s = a1 + b1`:
/// `(h + k)ψ'(s) − hψ'(a1)`, `(h + k)ψ'(s) − kψ'(b1)`, `(ψ(a2) − ψ(a1)) − (ψ(s + h + k) − ψ(s))`,
/// `(ψ(b2) − ψ(b1)) − (ψ(s + h + k) − ψ(s))`: exactly 0 at `P = Q`.
pub fn beta_kl_grad<T: Real>(a1: T, b1: T, a2: T, b2: T) -> [T; 4] {
    let (h, k) = (a2 - a1, b2 - b1);
    let s = a1 + b1;
    let ts = (h + k) * trigamma(s);
    let ds = digamma_between(s, h + k, a2 + b2);
    [ts - h * trigamma(a1), ts - k * trigamma(b1), digamma_between(a1, h, a2) - ds, digamma_between(b1, k, b2) - ds]
}

/// `∂/∂(x, α, β)` of [`beta_log_prob`]: `(α − 1)/x − (β − 1)/(1 − x)`,
/// `ln x + ψ(α + β) − ψ(α)`, `ln(1 − x) + ψ(α + β) − ψ(β)`.
pub fn beta_log_prob_grad<T: Real>(x: T, concentration1: T, concentration0: T) -> [T; 3] {
    let (a, b) = (concentration1, concentration0);
    [(a - T::ONE) / x - (b - T::ONE) / (T::ONE - x), x.ln() + digamma_diff(a, b), (-x).ln_1p() + digamma_diff(b, a)]
}

/// `∂/∂(α, β)` of [`beta_entropy`]: `(α + β − 2)ψ'(α + β) − (α − 1)ψ'(α)` and its mirror.
pub fn beta_entropy_grad<T: Real>(concentration1: T, concentration0: T) -> [T; 2] {
    let (a, b) = (concentration1, concentration0);
    let s = a + b;
    let ts = (s - T::TWO) * trigamma(s);
    [ts - (a - T::ONE) * trigamma(a), ts - (b - T::ONE) * trigamma(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_exactly_zero_at_equality() {
        assert_eq!(beta_kl(0.3_f64, 4.0, 0.3, 4.0), 0.0);
        assert_eq!(beta_kl_grad(0.3_f64, 4.0, 0.3, 4.0), [0.0; 4]);
        assert_eq!(beta_kl(2.0_f32, 2.0, 2.0, 2.0), 0.0);
    }

    #[test]
    fn uniform_special_cases() {
        // Beta(1, 1) is Uniform(0, 1): log_prob 0, entropy 0 (ln B(1, 1) = lnΓ(1) − (lnΓ(2) −
        // lnΓ(1)), each to within an ulp of 1 absolute: zeros of lnΓ).
        assert!(beta_log_prob(0.3_f64, 1.0, 1.0).abs() < 4e-16);
        assert!(beta_entropy(1.0_f64, 1.0).abs() < 4e-16);
    }
}
