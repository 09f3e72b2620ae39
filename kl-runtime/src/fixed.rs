//! Const-generic versions of the dense and Gaussian kernels for dimensions known at compile time.
//!
//! Same math as [`crate::dense`] and [`crate::gaussian`] (see there for the formulas), written with
//! loops over `0..D` and `#[inline(always)]` so that LLVM fully unrolls them for small `D`.
//! Matrices are `[[T; D]; D]` indexed `[row][col]`; scratch lives on the stack.

// Index loops with constant bounds are the point of this module: they mirror the formulas and are
// what LLVM unrolls, so clippy's iterator suggestion does not apply.
#![allow(clippy::needless_range_loop)]

use crate::dense::{is_valid_pivot, NotPositiveDefinite};
use crate::real::Real;
use crate::scalar::scale_ratio_term;

/// `A = L Lᵀ` from the lower triangle of `a`; upper triangle of the result is zero.
/// Fails at the first pivot that is not `> 0` and finite, like [`crate::cholesky`].
#[inline(always)]
pub fn cholesky_n<T: Real, const D: usize>(a: &[[T; D]; D]) -> Result<[[T; D]; D], NotPositiveDefinite> {
    let mut l = [[T::ZERO; D]; D];
    for i in 0..D {
        for j in 0..i {
            // Same summation order as the dynamic kernel, so both give identical bits.
            let mut dot = T::ZERO;
            for k in 0..j {
                dot += l[i][k] * l[j][k];
            }
            l[i][j] = (a[i][j] - dot) / l[j][j];
        }
        let mut dot = T::ZERO;
        for k in 0..i {
            dot += l[i][k] * l[i][k];
        }
        let pivot = a[i][i] - dot;
        if !is_valid_pivot(pivot) {
            return Err(NotPositiveDefinite { pivot: i });
        }
        l[i][i] = pivot.sqrt();
    }
    Ok(l)
}

/// `b <- L⁻¹ b` (forward substitution), like [`crate::solve_lower`].
#[inline(always)]
pub fn solve_lower_n<T: Real, const D: usize>(l: &[[T; D]; D], b: &mut [T; D]) {
    for i in 0..D {
        let mut dot = T::ZERO;
        for k in 0..i {
            dot += l[i][k] * b[k];
        }
        b[i] = (b[i] - dot) / l[i][i];
    }
}

/// `b <- L⁻ᵀ b` (back substitution), like [`crate::solve_lower_transpose`].
#[inline(always)]
pub fn solve_lower_transpose_n<T: Real, const D: usize>(l: &[[T; D]; D], b: &mut [T; D]) {
    for i in (0..D).rev() {
        let mut s = b[i];
        for k in i + 1..D {
            s -= l[k][i] * b[k];
        }
        b[i] = s / l[i][i];
    }
}

/// `Σ_i ln |L_ii|`, like [`crate::half_log_det_tril`].
#[inline(always)]
pub fn half_log_det_tril_n<T: Real, const D: usize>(l: &[[T; D]; D]) -> T {
    let mut s = T::ZERO;
    for (i, row) in l.iter().enumerate() {
        s += row[i].abs().ln();
    }
    s
}

/// `KL(N(mu1, L1 L1ᵀ) || N(mu2, L2 L2ᵀ))`, like [`crate::mvn_kl_tril`].
#[inline(always)]
pub fn mvn_kl_tril_n<T: Real, const D: usize>(mu1: &[T; D], l1: &[[T; D]; D], mu2: &[T; D], l2: &[[T; D]; D]) -> T {
    tril_kl_core_n(mu1, |i, j| l1[i][j], mu2, l2)
}

/// `KL(N(mu1, diag(s1²)) || N(mu2, L2 L2ᵀ))`, like [`crate::diag_tril_kl`].
#[inline(always)]
pub fn diag_tril_kl_n<T: Real, const D: usize>(mu1: &[T; D], s1: &[T; D], mu2: &[T; D], l2: &[[T; D]; D]) -> T {
    tril_kl_core_n(mu1, |i, j| if i == j { s1[i] } else { T::ZERO }, mu2, l2)
}

#[inline(always)]
fn tril_kl_core_n<T: Real, const D: usize>(
    mu1: &[T; D],
    l1: impl Fn(usize, usize) -> T,
    mu2: &[T; D],
    l2: &[[T; D]; D],
) -> T {
    let mut x = [T::ZERO; D];
    let mut off_diag = T::ZERO;
    let mut diag = T::ZERO;
    for j in 0..D {
        // Column j of M - I = L2⁻¹ (L1 - L2), as in the dynamic kernel.
        x[j] = (l1(j, j) - l2[j][j]) / l2[j][j];
        for i in j + 1..D {
            let mut dot = T::ZERO;
            for k in j..i {
                dot += l2[i][k] * x[k];
            }
            x[i] = ((l1(i, j) - l2[i][j]) - dot) / l2[i][i];
            off_diag += x[i] * x[i];
        }
        diag += scale_ratio_term(l1(j, j), l2[j][j]);
    }
    for i in 0..D {
        x[i] = mu2[i] - mu1[i];
    }
    solve_lower_n(l2, &mut x);
    let mut maha = T::ZERO;
    for &v in &x {
        maha += v * v;
    }
    T::HALF * (off_diag + maha) + diag
}

/// `KL(N(mu1, L1 L1ᵀ) || N(mu2, diag(s2²)))`, like [`crate::tril_diag_kl`].
#[inline(always)]
pub fn tril_diag_kl_n<T: Real, const D: usize>(mu1: &[T; D], l1: &[[T; D]; D], mu2: &[T; D], s2: &[T; D]) -> T {
    let mut squares = T::ZERO;
    let mut diag = T::ZERO;
    for i in 0..D {
        let inv = s2[i].recip();
        let mut row = T::ZERO;
        for j in 0..i {
            row += l1[i][j] * l1[i][j];
        }
        squares += row * (inv * inv);
        let z = (mu2[i] - mu1[i]) / s2[i];
        squares += z * z;
        diag += scale_ratio_term(l1[i][i], s2[i]);
    }
    T::HALF * squares + diag
}

/// Log density of `N(mu, L Lᵀ)` at `x`, like [`crate::mvn_log_prob_tril`].
#[inline(always)]
pub fn mvn_log_prob_tril_n<T: Real, const D: usize>(x: &[T; D], mu: &[T; D], l: &[[T; D]; D]) -> T {
    let mut z = [T::ZERO; D];
    for i in 0..D {
        z[i] = x[i] - mu[i];
    }
    solve_lower_n(l, &mut z);
    let mut sq = T::ZERO;
    for &v in &z {
        sq += v * v;
    }
    -T::HALF * sq - half_log_det_tril_n(l) - T::HALF * T::from_usize(D) * T::LN_2PI
}

/// Differential entropy of `N(mu, L Lᵀ)`, like [`crate::mvn_entropy_tril`].
#[inline(always)]
pub fn mvn_entropy_tril_n<T: Real, const D: usize>(l: &[[T; D]; D]) -> T {
    T::HALF * T::from_usize(D) * (T::ONE + T::LN_2PI) + half_log_det_tril_n(l)
}

/// `L` with `L Lᵀ = P⁻¹` from the lower triangle of `P`, like [`crate::precision_to_scale_tril`]
/// (same flip trick, same pivot convention).
#[inline(always)]
pub fn precision_to_scale_tril_n<T: Real, const D: usize>(p: &[[T; D]; D]) -> Result<[[T; D]; D], NotPositiveDefinite> {
    let mut flipped = [[T::ZERO; D]; D];
    for i in 0..D {
        for j in 0..=i {
            flipped[i][j] = p[D - 1 - j][D - 1 - i];
        }
    }
    let lf = cholesky_n(&flipped).map_err(|e| NotPositiveDefinite { pivot: D - 1 - e.pivot })?;
    let ut = |i: usize, j: usize| lf[D - 1 - j][D - 1 - i];
    let mut out = [[T::ZERO; D]; D];
    for j in 0..D {
        out[j][j] = ut(j, j).recip();
        for i in j + 1..D {
            let mut s = T::ZERO;
            for k in j..i {
                s += ut(i, k) * out[k][j];
            }
            out[i][j] = -s / ut(i, i);
        }
    }
    Ok(out)
}

/// Whether [`crate::check_spd`] accepts the row-major `D x D` matrix `a` (finite, symmetric
/// within `rel_tol`, positive definite), without building an error: the same comparisons and the
/// same Cholesky arithmetic ([`cholesky_n`] gives the dynamic kernel's bits), so that both accept
/// exactly the same matrices, at a fraction of the cost for small `D`. For the checked fast
/// path over chunks of a batch. Panics unless `a.len() == D * D`.
#[inline(always)]
pub fn spd_ok_n<T: Real, const D: usize>(a: &[T], rel_tol: T) -> bool {
    assert_eq!(a.len(), D * D);
    let mut m = [[T::ZERO; D]; D];
    let mut ok = true;
    for i in 0..D {
        for j in 0..D {
            m[i][j] = a[i * D + j];
            ok &= m[i][j].is_finite();
        }
    }
    for i in 0..D {
        for j in 0..i {
            let (x, y) = (m[i][j], m[j][i]);
            // `is_symmetric` rejects `|x - y| > tol`; with every entry finite (else `ok` is
            // already false) neither side is NaN, so `<=` accepts exactly the rest.
            ok &= (x - y).abs() <= rel_tol * x.abs().max(y.abs());
        }
    }
    ok && cholesky_n(&m).is_ok()
}

/// Whether [`crate::check_scale_tril`] accepts the row-major `D x D` factor `l` (finite strict
/// lower triangle, finite positive diagonal; the upper triangle is not read), without branching
/// per entry. For the checked fast path over chunks of a batch. Panics unless `l.len() == D * D`.
#[inline(always)]
pub fn scale_tril_ok_n<T: Real, const D: usize>(l: &[T]) -> bool {
    assert_eq!(l.len(), D * D);
    let mut ok = true;
    for i in 0..D {
        for j in 0..i {
            ok &= l[i * D + j].is_finite();
        }
        let v = l[i * D + i];
        ok &= v.is_finite() & (v > T::ZERO);
    }
    ok
}
