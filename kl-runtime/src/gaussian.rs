//! Multivariate normal kernels for one batch element, parameterized by lower-triangular scale
//! factors (`Σ = L Lᵀ`) or diagonal scales (`Σ = diag(s²)`).
//!
//! # The stable KL form
//!
//! For `p = N(μ1, L1 L1ᵀ)`, `q = N(μ2, L2 L2ᵀ)` and `M = L2⁻¹ L1` (lower triangular),
//!
//! ```text
//! KL(p || q) = ½ (‖M‖_F² + ‖L2⁻¹ (μ2 - μ1)‖² - d) + Σ ln L2_ii - Σ ln L1_ii
//! ```
//!
//! The diagonal of `M` is `M_ii = L1_ii / L2_ii =: 1 + u_i`, so `M_ii² - 1 - 2 ln M_ii =
//! u_i² - 2 log1pmx(u_i)`, and the `- d` and the log-determinants fold into per-row terms:
//!
//! ```text
//! KL = ½ Σ_{i>j} M_ij² + ½ ‖L2⁻¹ (μ2 - μ1)‖² + Σ_i (½ u_i² - log1pmx(u_i))
//! ```
//!
//! Every term is non-negative, so the result never rounds below zero and stays accurate when
//! `p ≈ q` (the textbook form subtracts `d` from a trace close to `d`). With identical inputs the
//! substitution gives `M = I` exactly, so `KL(p || p) == 0` exactly. Diagonals enter through their
//! absolute values, matching [`half_log_det_tril`], so any non-singular factor gives the KL of the
//! covariances it stands for.

use crate::dense::{dot, half_log_det_tril, solve_lower};
use crate::real::Real;
use crate::scalar::scale_ratio_term;

/// Scratch length [`mvn_kl_tril`] needs: `d`.
pub const fn scratch_len_mvn_kl_tril(d: usize) -> usize {
    d
}

/// Scratch length [`diag_tril_kl`] needs: `d`.
pub const fn scratch_len_diag_tril_kl(d: usize) -> usize {
    d
}

/// Scratch length [`mvn_log_prob_tril`] needs: `d`.
pub const fn scratch_len_mvn_log_prob_tril(d: usize) -> usize {
    d
}

/// `KL(N(mu1, L1 L1ᵀ) || N(mu2, L2 L2ᵀ))` in the stable form of the [module docs](self):
///
/// ```text
/// ½ (‖L2⁻¹ L1‖_F² + ‖L2⁻¹ (mu2 - mu1)‖² - d) + Σ ln L2_ii - Σ ln L1_ii
/// ```
///
/// Column `j` of `L2⁻¹ L1` is one forward substitution over rows `j..d` (the column of `L1` is
/// zero above `j`), so the cost is `d³/6` multiply-adds and the scratch is one vector.
/// Lengths: `mu*.len() == d`, `l*.len() == d * d`, `scratch.len() >= scratch_len_mvn_kl_tril(d)`.
pub fn mvn_kl_tril<T: Real>(mu1: &[T], l1: &[T], mu2: &[T], l2: &[T], d: usize, scratch: &mut [T]) -> T {
    debug_assert_eq!(l1.len(), d * d);
    tril_kl_core(mu1, |i, j| l1[i * d + j], mu2, l2, d, scratch)
}

/// `KL(N(mu1, diag(s1²)) || N(mu2, L2 L2ᵀ))`: [`mvn_kl_tril`] with `L1 = diag(s1)`, without
/// building the dense diagonal matrix. Lengths: `mu1, s1, mu2: d`, `l2: d * d`,
/// `scratch.len() >= scratch_len_diag_tril_kl(d)`.
pub fn diag_tril_kl<T: Real>(mu1: &[T], s1: &[T], mu2: &[T], l2: &[T], d: usize, scratch: &mut [T]) -> T {
    debug_assert_eq!(s1.len(), d);
    tril_kl_core(mu1, |i, j| if i == j { s1[i] } else { T::ZERO }, mu2, l2, d, scratch)
}

/// The stable KL form with `L1` given as an entry function `l1(i, j)` (called for `i >= j` only).
#[inline(always)]
fn tril_kl_core<T: Real>(
    mu1: &[T],
    l1: impl Fn(usize, usize) -> T,
    mu2: &[T],
    l2: &[T],
    d: usize,
    scratch: &mut [T],
) -> T {
    debug_assert_eq!(mu1.len(), d);
    debug_assert_eq!(mu2.len(), d);
    debug_assert_eq!(l2.len(), d * d);
    debug_assert!(scratch.len() >= d);
    let x = &mut scratch[..d];
    let mut off_diag = T::ZERO;
    let mut diag = T::ZERO;
    for j in 0..d {
        // x[j..] <- L2⁻¹ (column j of L1 - L2) = column j of M - I, restricted to the rows where
        // it can be non-zero. Solving for the difference keeps near-equal factors accurate: the
        // entries of L1 - L2 are exact (Sterbenz), where M's off-diagonal would be a difference
        // of O(1) terms.
        x[j] = (l1(j, j) - l2[j * d + j]) / l2[j * d + j];
        for i in j + 1..d {
            let row = &l2[i * d..i * d + i + 1];
            x[i] = ((l1(i, j) - row[j]) - dot(&row[j..i], &x[j..i])) / row[i];
            off_diag += x[i] * x[i];
        }
        // The diagonal of M enters through the ratio only (see the module docs).
        diag += scale_ratio_term(l1(j, j), l2[j * d + j]);
    }
    for i in 0..d {
        x[i] = mu2[i] - mu1[i];
    }
    solve_lower(l2, d, x);
    let maha = dot(x, x);
    T::HALF * (off_diag + maha) + diag
}

/// `KL(N(mu1, L1 L1ᵀ) || N(mu2, diag(s2²)))`. Here `L2⁻¹ L1 = diag(1/s2) L1` needs no solve:
///
/// ```text
/// ½ Σ_{i>j} (L1_ij / s2_i)² + ½ Σ_i ((mu2_i - mu1_i) / s2_i)² + Σ_i (½ u_i² - log1pmx(u_i)),
/// u_i = (L1_ii - s2_i) / s2_i
/// ```
///
/// Lengths: `mu1, mu2, s2: d`, `l1: d * d`.
pub fn tril_diag_kl<T: Real>(mu1: &[T], l1: &[T], mu2: &[T], s2: &[T], d: usize) -> T {
    debug_assert_eq!(mu1.len(), d);
    debug_assert_eq!(l1.len(), d * d);
    debug_assert_eq!(mu2.len(), d);
    debug_assert_eq!(s2.len(), d);
    let mut squares = T::ZERO;
    let mut diag = T::ZERO;
    for i in 0..d {
        let inv = s2[i].recip();
        let row = &l1[i * d..i * d + i];
        // Σ_j (L1_ij / s2_i)² = (Σ_j L1_ij²) / s2_i², one scaling per row.
        squares += dot(row, row) * (inv * inv);
        let z = (mu2[i] - mu1[i]) / s2[i];
        squares += z * z;
        diag += scale_ratio_term(l1[i * d + i], s2[i]);
    }
    T::HALF * squares + diag
}

/// Log density of `N(mu, L Lᵀ)` at `x`:
/// `-½ ‖L⁻¹ (x - mu)‖² - Σ ln L_ii - ½ d ln(2π)`.
/// Lengths: `x, mu: d`, `l: d * d`, `scratch.len() >= scratch_len_mvn_log_prob_tril(d)`.
pub fn mvn_log_prob_tril<T: Real>(x: &[T], mu: &[T], l: &[T], d: usize, scratch: &mut [T]) -> T {
    debug_assert_eq!(x.len(), d);
    debug_assert_eq!(mu.len(), d);
    debug_assert!(scratch.len() >= d);
    let z = &mut scratch[..d];
    for i in 0..d {
        z[i] = x[i] - mu[i];
    }
    solve_lower(l, d, z);
    -T::HALF * dot(z, z) - half_log_det_tril(l, d) - T::HALF * T::from_usize(d) * T::LN_2PI
}

/// Differential entropy of `N(mu, L Lᵀ)`: `½ d (1 + ln 2π) + Σ ln L_ii`. Length: `l: d * d`.
pub fn mvn_entropy_tril<T: Real>(l: &[T], d: usize) -> T {
    T::HALF * T::from_usize(d) * (T::ONE + T::LN_2PI) + half_log_det_tril(l, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::normal_kl;

    #[test]
    fn one_dimensional_case_is_the_scalar_kl() {
        let mut s = [0.0];
        let kl = mvn_kl_tril(&[0.3_f64], &[1.5], &[-0.2], &[0.7], 1, &mut s);
        let reference = normal_kl(0.3, 1.5, -0.2, 0.7);
        assert!((kl - reference).abs() <= 1e-15 * reference, "{kl} vs {reference}");
    }

    #[test]
    fn zero_dimensional_kl_is_zero() {
        assert_eq!(mvn_kl_tril::<f64>(&[], &[], &[], &[], 0, &mut []), 0.0);
        assert_eq!(mvn_entropy_tril::<f32>(&[], 0), 0.0);
    }
}
