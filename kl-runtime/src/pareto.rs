//! The Pareto distribution `Pareto(scale, alpha)`: density `α s^α / x^(α + 1)` on `[s, ∞)`.
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked entry
//! points validate first: `scale > 0`, `alpha > 0`, a `log_prob` value `x >= scale`).

use crate::error::Violation;
use crate::real::Real;
use crate::scalar::ratio_excess;

/// `KL(Pareto(s1, a1) ‖ Pareto(s2, a2)) = a2 ln(s1/s2) + r − 1 − ln r` with `r = a2/a1`, when
/// `s1 >= s2`; `+∞` when `s1 < s2` (P puts mass below Q's support), as torch.distributions
/// defines it.
///
/// Both terms are `>= 0` and each is formed without cancellation: `ln(s1/s2) = ln(1 + (s1 −
/// s2)/s2)` from the exact difference, `r − 1 − ln r = −log1pmx((a2 − a1)/a1)` near `r = 1`.
/// Exactly 0 at equal parameters.
///
/// ```
/// use kl_runtime::pareto_kl;
/// let textbook = 3.0 * 2.0_f64.ln() + 1.5 - 1.0 - 1.5_f64.ln();
/// assert!((pareto_kl(2.0_f64, 2.0, 1.0, 3.0) - textbook).abs() < 1e-15);
/// assert_eq!(pareto_kl(1.0_f64, 2.0, 1.0, 2.0), 0.0);
/// assert_eq!(pareto_kl(1.0_f64, 2.0, 1.5, 2.0), f64::INFINITY);
/// ```
#[inline]
pub fn pareto_kl<T: Real>(s1: T, a1: T, s2: T, a2: T) -> T {
    if s1 < s2 {
        return T::INFINITY;
    }
    a2 * ((s1 - s2) / s2).ln_1p() + ratio_excess(a1, a2)
}

/// `ln p(x) = ln α + α ln s − (α + 1) ln x` for `x >= s`.
#[inline]
pub fn pareto_log_prob<T: Real>(x: T, scale: T, alpha: T) -> T {
    alpha.ln() + alpha * scale.ln() - (alpha + T::ONE) * x.ln()
}

/// Differential entropy `ln(s/α) + 1/α + 1`.
#[inline]
pub fn pareto_entropy<T: Real>(scale: T, alpha: T) -> T {
    (scale.ln() - alpha.ln()) + alpha.recip() + T::ONE
}

/// `∂/∂(s1, a1, s2, a2)` of [`pareto_kl`]: `a2/s1`, `(a1 − a2)/a1²`, `−a2/s2`,
/// `ln(s1/s2) + (a2 − a1)/(a1 a2)`; 0 where the KL is infinite. The KL is finite only for
/// `s1 >= s2`, so at `P = Q` the scale partials are one-sided and not 0; the `alpha` partials
/// are differences taken from the parameters, exactly 0 there.
pub fn pareto_kl_grad<T: Real>(s1: T, a1: T, s2: T, a2: T) -> [T; 4] {
    if s1 < s2 {
        return [T::ZERO; 4];
    }
    let ln_ratio = ((s1 - s2) / s2).ln_1p();
    [a2 / s1, (a1 - a2) / (a1 * a1), -a2 / s2, ln_ratio + (a2 - a1) / (a1 * a2)]
}

/// `∂/∂(x, scale, alpha)` of [`pareto_log_prob`]: `−(α + 1)/x`, `α/s`, `1/α + ln(s/x)`.
pub fn pareto_log_prob_grad<T: Real>(x: T, scale: T, alpha: T) -> [T; 3] {
    [-(alpha + T::ONE) / x, alpha / scale, alpha.recip() + (scale.ln() - x.ln())]
}

/// `∂/∂(scale, alpha)` of [`pareto_entropy`]: `1/s`, `−1/α − 1/α²`.
pub fn pareto_entropy_grad<T: Real>(scale: T, alpha: T) -> [T; 2] {
    let r = alpha.recip();
    [scale.recip(), -r - r * r]
}

/// The rule of [`pareto_log_prob`]'s operands: the value lies in the support, `x >= scale`.
pub fn pareto_log_prob_check<T: Real>(x: T, scale: T, _alpha: T) -> Result<(), Violation> {
    if x >= scale {
        Ok(())
    } else {
        Err(Violation::Outside { slot: 0, lo: scale.to_f64(), hi: f64::INFINITY, value: x.to_f64() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_zero_at_equality_and_infinite_below_q_support() {
        assert_eq!(pareto_kl(1.5_f64, 0.7, 1.5, 0.7), 0.0);
        assert_eq!(pareto_kl(1.5_f32, 0.7, 1.5, 0.7), 0.0);
        assert_eq!(pareto_kl(1.0_f64, 1.0, 1.0 + 1e-15, 1.0), f64::INFINITY);
        // Near-equal alphas, u = (a2 − a1)/a1 exact in f64: u − ln(1 + u) = u²/2 − u³/3 + O(u⁴).
        let a2 = 2.0_f64 + 2e-9;
        let u = (a2 - 2.0) / 2.0;
        let kl = pareto_kl(1.0_f64, 2.0, 1.0, a2);
        assert!((kl - (u * u / 2.0 - u * u * u / 3.0)).abs() < 1e-30, "{kl:e}");
    }

    #[test]
    fn log_prob_check_names_the_value() {
        assert!(pareto_log_prob_check(2.0_f64, 2.0, 1.0).is_ok());
        assert_eq!(
            pareto_log_prob_check(1.0_f64, 2.0, 1.0),
            Err(Violation::Outside { slot: 0, lo: 2.0, hi: f64::INFINITY, value: 1.0 })
        );
    }
}
