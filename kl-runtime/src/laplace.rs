//! The Laplace distribution `Laplace(loc, scale)`: density `exp(−|x − loc| / scale) / (2 scale)`.
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: `loc` finite, `scale > 0`).

use crate::param::expm1mx;
use crate::real::Real;
use crate::scalar::ratio_excess;

/// `KL(Laplace(m1, b1) ‖ Laplace(m2, b2)) = ln(b2/b1) + δ/b2 + (b1/b2) e^(−δ/b1) − 1`, `δ = |m1 − m2|`.
///
/// Computed as the sum of two non-negative terms, `(r − 1 − ln r) + r (e^(−t) − 1 + t)` with
/// `r = b1/b2` and `t = δ/b1`, so that nothing cancels near `p = q`: the first term is
/// `−log1pmx(u)` from the exact difference `u = (b1 − b2)/b2`, the second `r · expm1mx(−t)`. Exactly `0` when the parameters are equal.
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
    let t = (m1 - m2).abs() / b1;
    ratio_excess(b2, b1) + (b1 / b2) * expm1mx(-t)
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

/// `−1`, `0` or `1`: the derivative of `|d|` (0 at the kink, the subgradient the minimum uses).
fn sign<T: Real>(d: T) -> T {
    if d > T::ZERO {
        T::ONE
    } else if d < T::ZERO {
        -T::ONE
    } else {
        T::ZERO
    }
}

#[inline(always)]
fn ln_2<T: Real>() -> T {
    T::from_f64(core::f64::consts::LN_2)
}

/// `∂/∂(m1, b1, m2, b2)` of [`laplace_kl`], with `t = |m1 − m2|/b1`, `σ = sign(m1 − m2)`:
/// `∂/∂m1 = σ(1 − e^(−t))/b2 = −∂/∂m2`, `∂/∂b1 = ((b1 − b2)/b1 − h(t))/b2` with
/// `h(t) = 1 − (1 + t)e^(−t)`, and `∂/∂b2 = ((b2 − b1)/b2 − (b1/b2)(e^(−t) − 1 + t))/b2`: sums of
/// terms that vanish at `p = q` one by one, so the gradient of `P || P` is exactly 0.
pub fn laplace_kl_grad<T: Real>(m1: T, b1: T, m2: T, b2: T) -> [T; 4] {
    let d = m1 - m2;
    let t = d.abs() / b1;
    let sign = sign(d);
    let gm = sign * -(-t).exp_m1() / b2;
    // h(t) = 1 − (1 + t)e^(−t) = −(e^(−t) − 1 + t) + t(1 − e^(−t)).
    let h = t * -(-t).exp_m1() - expm1mx(-t);
    let gb1 = ((b1 - b2) / b1 - h) / b2;
    let gb2 = ((b2 - b1) / b2 - (b1 / b2) * expm1mx(-t)) / b2;
    [gm, gb1, -gm, gb2]
}

/// `∂/∂(x, loc, scale)` of [`laplace_log_prob`]: `−σ/b`, `σ/b`, `(|x − loc| − b)/b²`.
pub fn laplace_log_prob_grad<T: Real>(x: T, loc: T, scale: T) -> [T; 3] {
    let d = x - loc;
    let sign = sign(d);
    [-sign / scale, sign / scale, (d.abs() - scale) / (scale * scale)]
}

/// `∂/∂scale` of [`laplace_entropy`]: `1/scale`.
pub fn laplace_entropy_grad<T: Real>(scale: T) -> [T; 1] {
    [scale.recip()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_non_negative_and_zero_only_at_equality() {
        assert_eq!(laplace_kl(1.0_f64, 2.0, 1.0, 2.0), 0.0);
        assert_eq!(laplace_kl(-3.0_f32, 0.5, -3.0, 0.5), 0.0);
        for &(m1, b1, m2, b2) in &[(0.0, 1.0, 1e-12, 1.0), (0.0, 1.0, 0.0, 1.0 + 1e-12), (5.0, 1e-3, -5.0, 1e3)] {
            assert!(laplace_kl(m1, b1, m2, b2) > 0.0_f64);
        }
    }
}
