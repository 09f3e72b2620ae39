//! The uniform distribution `Uniform(low, high)`: density `1 / (high − low)` on `[low, high]`.
//!
//! Every kernel is elementwise and generic over [`Real`]. The parameters must satisfy
//! `low < high` (both finite): the checked entry points call the `*_check` functions, which
//! say which operand breaks which rule, before the kernels.

use crate::error::Violation;
use crate::real::Real;

/// `KL(U(l1, h1) ‖ U(l2, h2)) = ln((h2 − l2) / (h1 − l1))` when `[l1, h1] ⊆ [l2, h2]`, else `+∞`
/// (P puts mass where Q has none), as torch.distributions defines it.
///
/// Near `P = Q` the ratio is formed as `ln(1 + Δ / w1)` from the exact width difference
/// `Δ = (h2 − h1) + (l1 − l2)`, so a relative gap of 1e-12 keeps full relative accuracy; exactly 0
/// for equal intervals.
///
/// ```
/// use kl_runtime::uniform_kl;
/// assert!((uniform_kl(0.0_f64, 1.0, -1.0, 3.0) - 4.0_f64.ln()).abs() < 1e-15);
/// assert_eq!(uniform_kl(0.0_f64, 1.0, 0.0, 1.0), 0.0);
/// assert_eq!(uniform_kl(0.0_f64, 1.0, 0.5, 3.0), f64::INFINITY);
/// ```
#[inline]
pub fn uniform_kl<T: Real>(l1: T, h1: T, l2: T, h2: T) -> T {
    if l1 < l2 || h1 > h2 {
        return T::INFINITY;
    }
    let w1 = h1 - l1;
    // Both parts are >= 0 here, so the sum does not cancel.
    let gap = (h2 - h1) + (l1 - l2);
    if gap <= w1 {
        (gap / w1).ln_1p()
    } else {
        // Far apart (the ratio may overflow): the logs of the widths.
        ln_width(l2, h2) - ln_width(l1, h1)
    }
}

/// `ln(high − low)`, also where the width overflows (`low = −1e308`, `high = 1e308`).
#[inline]
fn ln_width<T: Real>(low: T, high: T) -> T {
    let w = high - low;
    if w.is_finite() {
        w.ln()
    } else {
        (high * T::HALF - low * T::HALF).ln() + T::from_f64(core::f64::consts::LN_2)
    }
}

/// `ln p(x) = −ln(high − low)` for `low <= x < high`, and `−∞` at `x = high`: torch's
/// convention (its density is `1[low <= x] · 1[x < high] / (high − low)`; a value outside
/// `[low, high]` is a data error of the checked entry points).
#[inline]
pub fn uniform_log_prob<T: Real>(x: T, low: T, high: T) -> T {
    if x < high {
        -ln_width(low, high)
    } else {
        -T::INFINITY
    }
}

/// Differential entropy `ln(high − low)`.
#[inline]
pub fn uniform_entropy<T: Real>(low: T, high: T) -> T {
    ln_width(low, high)
}

/// `∂/∂(l1, h1, l2, h2)` of [`uniform_kl`]: `1/w1, −1/w1, −1/w2, 1/w2` with `w = high − low`.
/// Where the KL is infinite, 0 (as torch's autograd gives for its masked `inf`). The KL is
/// finite only on one side of `l1 = l2` and `h1 = h2`, so at `P = Q` the gradient is this
/// one-sided derivative, not 0.
pub fn uniform_kl_grad<T: Real>(l1: T, h1: T, l2: T, h2: T) -> [T; 4] {
    if l1 < l2 || h1 > h2 {
        return [T::ZERO; 4];
    }
    let (r1, r2) = ((h1 - l1).recip(), (h2 - l2).recip());
    [r1, -r1, -r2, r2]
}

/// `∂/∂(x, low, high)` of [`uniform_log_prob`]: `0, 1/w, −1/w` (0 where the value is `−∞`).
pub fn uniform_log_prob_grad<T: Real>(x: T, low: T, high: T) -> [T; 3] {
    if x < high {
        let r = (high - low).recip();
        [T::ZERO, r, -r]
    } else {
        [T::ZERO; 3]
    }
}

/// `∂/∂(low, high)` of [`uniform_entropy`]: `−1/w, 1/w`.
pub fn uniform_entropy_grad<T: Real>(low: T, high: T) -> [T; 2] {
    let r = (high - low).recip();
    [-r, r]
}

/// The rule of one `Uniform`'s parameters at operand slots `lo` and `lo + 1`: `high > low`.
#[inline]
pub(crate) fn check_interval<T: Real>(low: T, high: T, lo: usize) -> Result<(), Violation> {
    if high > low {
        Ok(())
    } else {
        Err(Violation::NotAbove { slot: lo + 1, other: lo, bound: low.to_f64(), value: high.to_f64() })
    }
}

/// The rules of [`uniform_kl`]'s operands: `h1 > l1`, then `h2 > l2`.
pub fn uniform_kl_check<T: Real>(l1: T, h1: T, l2: T, h2: T) -> Result<(), Violation> {
    check_interval(l1, h1, 0)?;
    check_interval(l2, h2, 2)
}

/// The rules of [`uniform_log_prob`]'s operands: `high > low`, then `x` in `[low, high]`.
pub fn uniform_log_prob_check<T: Real>(x: T, low: T, high: T) -> Result<(), Violation> {
    check_interval(low, high, 1)?;
    if low <= x && x <= high {
        Ok(())
    } else {
        Err(Violation::Outside { slot: 0, lo: low.to_f64(), hi: high.to_f64(), value: x.to_f64() })
    }
}

/// The rule of [`uniform_entropy`]'s operands: `high > low`.
pub fn uniform_entropy_check<T: Real>(low: T, high: T) -> Result<(), Violation> {
    check_interval(low, high, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_finite_exactly_when_the_intervals_nest() {
        assert_eq!(uniform_kl(0.0_f64, 1.0, 0.0, 1.0), 0.0);
        assert_eq!(uniform_kl(-1.0_f32, 1.0, -1.0, 1.0), 0.0);
        assert!(uniform_kl(0.0_f64, 1.0, -1e-300, 1.0) > 0.0);
        assert_eq!(uniform_kl(0.0_f64, 1.0, 1e-300, 1.0), f64::INFINITY);
        assert_eq!(uniform_kl(0.0_f64, 1.0 + 1e-15, 0.0, 1.0), f64::INFINITY);
        // A relative gap g of about 1e-12 (exact in f64): ln(1 + g) = g − g²/2 + O(g³).
        let h2 = 1.0_f64 + 1e-12;
        let g = h2 - 1.0;
        let kl = uniform_kl(0.0_f64, 1.0, 0.0, h2);
        assert!((kl - (g - g * g / 2.0)).abs() < 1e-27, "{kl:e}");
    }

    #[test]
    fn log_prob_follows_torch_at_the_ends() {
        assert_eq!(uniform_log_prob(0.0_f64, 0.0, 4.0), -(4.0_f64.ln()));
        assert_eq!(uniform_log_prob(4.0_f64, 0.0, 4.0), f64::NEG_INFINITY);
    }

    #[test]
    fn checks_name_the_operand() {
        assert_eq!(
            uniform_kl_check(0.0_f64, 1.0, 2.0, 2.0),
            Err(Violation::NotAbove { slot: 3, other: 2, bound: 2.0, value: 2.0 })
        );
        assert_eq!(
            uniform_log_prob_check(1.5_f64, 0.0, 1.0),
            Err(Violation::Outside { slot: 0, lo: 0.0, hi: 1.0, value: 1.5 })
        );
        assert!(uniform_log_prob_check(1.0_f64, 0.0, 1.0).is_ok());
        assert!(uniform_entropy_check(f64::NAN, 1.0).is_err());
    }
}
