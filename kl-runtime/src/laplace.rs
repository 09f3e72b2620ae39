//! The Laplace distribution `Laplace(loc, scale)`: density `exp(−|x − loc| / scale) / (2 scale)`.
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: `loc` finite, `scale > 0`).

use crate::real::Real;
use crate::scalar::log1pmx;

/// `KL(Laplace(m1, b1) ‖ Laplace(m2, b2)) = ln(b2/b1) + δ/b2 + (b1/b2) e^(−δ/b1) − 1`, `δ = |m1 − m2|`.
///
/// Computed as the sum of two non-negative terms, `(r − 1 − ln r) + r (e^(−t) − 1 + t)` with
/// `r = b1/b2` and `t = δ/b1`, so that nothing cancels near `p = q`: the first term is
/// `−log1pmx(u)` from the exact difference `u = (b1 − b2)/b2`, the second a series in `t` for
/// small `t`. Exactly `0` when the parameters are equal.
///
/// ```
/// use kl_runtime::laplace_kl;
/// let kl = laplace_kl(0.0_f64, 1.0, 1.0, 2.0);
/// let textbook = (2.0_f64).ln() + 0.5 + 0.5 * (-1.0_f64).exp() - 1.0;
/// assert!((kl - textbook).abs() < 1e-15);
/// assert_eq!(laplace_kl(0.3_f64, 1.5, 0.3, 1.5), 0.0);
/// ```
#[inline]
pub fn laplace_kl<T: Real>(m1: T, b1: T, m2: T, b2: T) -> T {
    let u = (b1 - b2) / b2;
    let scale_term = if u.abs() < T::HALF {
        -log1pmx(u)
    } else {
        // Far from r = 1: logs of each scale, so that r itself may under- or overflow.
        (b1 / b2 - T::ONE) - (b1.ln() - b2.ln())
    };
    let t = (m1 - m2).abs() / b1;
    scale_term + (b1 / b2) * exp_m1_mx(t)
}

/// `e^(−t) − 1 + t` for `t ≥ 0`: a Taylor series where the two sides would cancel.
#[inline]
fn exp_m1_mx<T: Real>(t: T) -> T {
    if t < T::HALF {
        // Σ_{k≥2} (−t)^k / k!, summed forward: at t < ½ each term is below t/3 of the one
        // before and the first dominates, so the sum keeps the first term's precision; 17
        // terms reach f64's precision, 9 f32's.
        let terms = if T::EPSILON.to_f64() > 1e-10 { 9 } else { 17 };
        let mut term = T::HALF * t * t;
        let mut sum = term;
        for k in 3..terms + 2 {
            term = -(term * t) / T::from_usize(k);
            sum += term;
        }
        sum
    } else {
        (-t).exp_m1() + t
    }
}

/// `ln p(x) = −ln(2 scale) − |x − loc| / scale`.
#[inline]
pub fn laplace_log_prob<T: Real>(x: T, loc: T, scale: T) -> T {
    -(ln_2::<T>() + scale.ln()) - (x - loc).abs() / scale
}

/// Differential entropy `1 + ln(2 scale)`.
#[inline]
pub fn laplace_entropy<T: Real>(scale: T) -> T {
    T::ONE + ln_2::<T>() + scale.ln()
}

#[inline(always)]
fn ln_2<T: Real>() -> T {
    T::from_f64(core::f64::consts::LN_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_matches_the_closed_form_where_both_are_accurate() {
        // At t = ½ both branches are accurate to a few ulp.
        for t in [0.45_f64, 0.49, 0.4999] {
            let series = exp_m1_mx(t);
            let direct = (-t).exp_m1() + t;
            assert!((series - direct).abs() <= 8.0 * f64::EPSILON * direct, "{t}: {series} vs {direct}");
        }
        // Tiny t: t²/2 − t³/6 to full precision (the direct form has lost every digit).
        let t = 1e-9_f64;
        let want = t * t * (0.5 - t / 6.0);
        assert!((exp_m1_mx(t) - want).abs() <= f64::EPSILON * want, "{} vs {want}", exp_m1_mx(t));
    }

    #[test]
    fn kl_is_non_negative_and_zero_only_at_equality() {
        assert_eq!(laplace_kl(1.0_f64, 2.0, 1.0, 2.0), 0.0);
        assert_eq!(laplace_kl(-3.0_f32, 0.5, -3.0, 0.5), 0.0);
        for &(m1, b1, m2, b2) in &[(0.0, 1.0, 1e-12, 1.0), (0.0, 1.0, 0.0, 1.0 + 1e-12), (5.0, 1e-3, -5.0, 1e3)] {
            assert!(laplace_kl(m1, b1, m2, b2) > 0.0_f64);
        }
    }
}
