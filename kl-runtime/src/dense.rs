//! Dense linear algebra on one `d x d` matrix, stored row-major in a slice of length `d * d`.
//!
//! A "tril" argument is a lower-triangular factor `L` (for a scale, `Σ = L Lᵀ`); only its lower
//! triangle, diagonal included, is read, so callers may leave anything above the diagonal. Kernels
//! never allocate: outputs and scratch space are caller-provided slices whose lengths are checked
//! with `debug_assert!` only.

use crate::real::Real;

/// A Cholesky factorization met a pivot that was not positive and finite.
///
/// `pivot` is the row of the input matrix whose leading block was found not positive definite
/// (or where a NaN or an infinity entered the factorization).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPositiveDefinite {
    /// Row of the failing pivot, in the indexing of the matrix the caller passed.
    pub pivot: usize,
}

impl core::fmt::Display for NotPositiveDefinite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "matrix is not positive definite (Cholesky pivot {} is not > 0)", self.pivot)
    }
}

impl std::error::Error for NotPositiveDefinite {}

/// Cholesky factorization `A = L Lᵀ`, reading the lower triangle of `a` and writing the full `out`
/// (lower triangle `L`, upper triangle zeroed).
///
/// Row by row (Cholesky–Banachiewicz), so every inner product runs over two contiguous row
/// prefixes:
///
/// ```text
/// L_ij = (A_ij - Σ_{k<j} L_ik L_jk) / L_jj        (j < i)
/// L_ii = sqrt(A_ii - Σ_{k<i} L_ik^2)
/// ```
///
/// Fails with the pivot row when `A_ii - Σ L_ik^2` is not `> 0` or not finite. A NaN or infinity
/// anywhere in the lower triangle of row `i` reaches that pivot, so non-finite input is reported
/// rather than propagated. Lengths: `a.len() == out.len() == d * d`.
pub fn cholesky<T: Real>(a: &[T], d: usize, out: &mut [T]) -> Result<(), NotPositiveDefinite> {
    debug_assert_eq!(a.len(), d * d);
    debug_assert_eq!(out.len(), d * d);
    for i in 0..d {
        for j in 0..=i {
            out[i * d + j] = a[i * d + j];
        }
        for j in i + 1..d {
            out[i * d + j] = T::ZERO;
        }
    }
    cholesky_in_place(out, d)
}

/// [`cholesky`] overwriting its input: reads the lower triangle of `a` and replaces it by `L`.
/// The strict upper triangle is left untouched. `a.len() == d * d`.
pub fn cholesky_in_place<T: Real>(a: &mut [T], d: usize) -> Result<(), NotPositiveDefinite> {
    debug_assert_eq!(a.len(), d * d);
    for i in 0..d {
        let (done, rest) = a.split_at_mut(i * d);
        let row_i = &mut rest[..d];
        for j in 0..i {
            let row_j = &done[j * d..j * d + j + 1];
            let dot: T = dot(&row_i[..j], &row_j[..j]);
            row_i[j] = (row_i[j] - dot) / row_j[j];
        }
        let pivot = row_i[i] - dot(&row_i[..i], &row_i[..i]);
        if !is_valid_pivot(pivot) {
            return Err(NotPositiveDefinite { pivot: i });
        }
        row_i[i] = pivot.sqrt();
    }
    Ok(())
}

/// The rule every Cholesky pivot must pass: `> 0` and finite. A NaN fails the comparison, so
/// it is caught here too.
#[inline(always)]
pub(crate) fn is_valid_pivot<T: Real>(pivot: T) -> bool {
    pivot > T::ZERO && pivot.is_finite()
}

/// `Σ_k a_k b_k` over two equally long slices.
#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut s = T::ZERO;
    for (&x, &y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

/// Checks `|A_ij - A_ji| <= rel_tol * max(|A_ij|, |A_ji|)` for every pair, scanning the lower
/// triangle row by row. Returns `None` if it holds everywhere, else the first offending `(i, j)`
/// with `i > j`.
///
/// NaN entries are not reported here: they are the business of the finiteness check, and saying
/// "not symmetric" about a NaN would point at the wrong rule.
pub fn is_symmetric<T: Real>(a: &[T], d: usize, rel_tol: T) -> Option<(usize, usize)> {
    debug_assert_eq!(a.len(), d * d);
    for i in 0..d {
        for j in 0..i {
            let (x, y) = (a[i * d + j], a[j * d + i]);
            if (x - y).abs() > rel_tol * x.abs().max(y.abs()) {
                return Some((i, j));
            }
        }
    }
    None
}

/// Forward substitution: `b <- L⁻¹ b`, with `b_i = (b_i - Σ_{k<i} L_ik b_k) / L_ii`.
/// `l.len() == d * d`, `b.len() == d`.
pub fn solve_lower<T: Real>(l: &[T], d: usize, b: &mut [T]) {
    debug_assert_eq!(l.len(), d * d);
    debug_assert_eq!(b.len(), d);
    for i in 0..d {
        let row = &l[i * d..i * d + i + 1];
        b[i] = (b[i] - dot(&row[..i], &b[..i])) / row[i];
    }
}

/// Back substitution with the transpose: `b <- L⁻ᵀ b`, with
/// `b_i = (b_i - Σ_{k>i} L_ki b_k) / L_ii` for `i = d-1, .., 0`. `l.len() == d * d`, `b.len() == d`.
pub fn solve_lower_transpose<T: Real>(l: &[T], d: usize, b: &mut [T]) {
    debug_assert_eq!(l.len(), d * d);
    debug_assert_eq!(b.len(), d);
    for i in (0..d).rev() {
        let mut s = b[i];
        for k in i + 1..d {
            s -= l[k * d + i] * b[k];
        }
        b[i] = s / l[i * d + i];
    }
}

/// `Σ_i ln |L_ii| = ½ ln det(L Lᵀ)`. The absolute value makes it valid for any non-singular
/// triangular factor; scale factors with a positive diagonal are the usual case.
pub fn half_log_det_tril<T: Real>(l: &[T], d: usize) -> T {
    debug_assert_eq!(l.len(), d * d);
    let mut s = T::ZERO;
    for i in 0..d {
        s += l[i * d + i].abs().ln();
    }
    s
}

/// Scratch length [`precision_to_scale_tril`] needs: `d * d`.
pub const fn scratch_len_precision_to_scale_tril(d: usize) -> usize {
    d * d
}

/// The lower-triangular `L` with `L Lᵀ = P⁻¹`, from the lower triangle of a precision matrix `P`,
/// without forming `P⁻¹` (PyTorch's flip trick).
///
/// With `J` the exchange matrix (ones on the anti-diagonal), let `Lf = chol(J P J)`. Then
/// `P = U Uᵀ` with `U = J Lf J` upper triangular, hence `P⁻¹ = U⁻ᵀ U⁻¹` and `L = U⁻ᵀ = (J Lf J)⁻ᵀ`
/// is lower triangular. `L` is computed as the inverse of the lower-triangular `Uᵀ` by substitution,
/// one column at a time, reading `Uᵀ_ij = Lf[d-1-j, d-1-i]` straight from the factor.
///
/// Only the lower triangle of `p` is read. On failure, `pivot` is a row of `P` (the flipped
/// factorization failed at the trailing block starting there). Lengths: `p.len() == out.len() ==
/// d * d`, `scratch.len() >= scratch_len_precision_to_scale_tril(d)`.
pub fn precision_to_scale_tril<T: Real>(
    p: &[T],
    d: usize,
    out: &mut [T],
    scratch: &mut [T],
) -> Result<(), NotPositiveDefinite> {
    debug_assert_eq!(p.len(), d * d);
    debug_assert_eq!(out.len(), d * d);
    debug_assert!(scratch.len() >= scratch_len_precision_to_scale_tril(d));
    let lf = &mut scratch[..d * d];
    // Lower triangle of J P J, taken from the lower triangle of P by symmetry:
    // (J P J)_ij = P[d-1-i, d-1-j] = P[d-1-j, d-1-i], and d-1-j >= d-1-i for j <= i.
    for i in 0..d {
        for j in 0..=i {
            lf[i * d + j] = p[(d - 1 - j) * d + (d - 1 - i)];
        }
    }
    cholesky_in_place(lf, d).map_err(|e| NotPositiveDefinite { pivot: d - 1 - e.pivot })?;
    let ut = |i: usize, j: usize| lf[(d - 1 - j) * d + (d - 1 - i)];
    out.fill(T::ZERO);
    // Column j of (Uᵀ)⁻¹: X_jj = 1 / Uᵀ_jj, X_ij = -(Σ_{j<=k<i} Uᵀ_ik X_kj) / Uᵀ_ii.
    for j in 0..d {
        out[j * d + j] = ut(j, j).recip();
        for i in j + 1..d {
            let mut s = T::ZERO;
            for k in j..i {
                s += ut(i, k) * out[k * d + j];
            }
            out[i * d + j] = -s / ut(i, i);
        }
    }
    Ok(())
}

/// The covariance of a low-rank-plus-diagonal normal: `out = W Wᵀ + diag(D)`, written in full
/// (both triangles). `W` is row-major `d x r`. Lengths: `w.len() == d * r`, `diag.len() == d`,
/// `out.len() == d * d`.
pub fn lowrank_covariance<T: Real>(w: &[T], diag: &[T], d: usize, r: usize, out: &mut [T]) {
    debug_assert_eq!(w.len(), d * r);
    debug_assert_eq!(diag.len(), d);
    debug_assert_eq!(out.len(), d * d);
    for i in 0..d {
        let wi = &w[i * r..(i + 1) * r];
        for j in 0..=i {
            let v = dot(wi, &w[j * r..(j + 1) * r]);
            out[i * d + j] = v;
            out[j * d + i] = v;
        }
        out[i * d + i] += diag[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_of_2x2() {
        let a = [4.0_f64, 0.0, 2.0, 5.0];
        let mut l = [f64::NAN; 4];
        cholesky(&a, 2, &mut l).unwrap();
        assert_eq!(l, [2.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn cholesky_reports_the_failing_pivot() {
        let a = [1.0_f64, 0.0, 2.0, 1.0];
        let mut l = [0.0; 4];
        assert_eq!(cholesky(&a, 2, &mut l), Err(NotPositiveDefinite { pivot: 1 }));
    }

    #[test]
    fn is_symmetric_finds_first_offender() {
        let a = [1.0_f64, 2.0, 3.0, 2.0, 1.0, 4.0, 3.0, 4.5, 1.0];
        assert_eq!(is_symmetric(&a, 3, 1e-12), Some((2, 1)));
        assert_eq!(is_symmetric(&a, 3, 0.2), None);
    }
}
