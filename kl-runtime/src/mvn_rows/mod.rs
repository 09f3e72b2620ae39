//! Batched multivariate-normal KL kernels: a whole batch of contiguous row-major inputs in one
//! call, one KL per row, on SIMD lanes.
//!
//! | kernel | inputs (`B = out.len()` rows) | per row, the same value as |
//! |---|---|---|
//! | [`tril_kl_rows`] | `m1: [B, D]`, `l1: [B, D, D]`, `m2: [B, D]`, `l2: [B, D, D]` | [`crate::mvn_kl_tril_n`] |
//! | [`diag_tril_kl_rows`] | `m1, s1, m2: [B, D]`, `l2: [B, D, D]` | [`crate::diag_tril_kl_n`] |
//! | [`cov_kl_rows`] | `m1: [B, D]`, `c1: [B, D, D]`, `m2: [B, D]`, `c2: [B, D, D]` | [`crate::cholesky_n`] of `C2`, then [`crate::cov_kl`] |
//!
//! Factors are read in their lower triangles only; covariance matrices in full. No
//! broadcasting: every input has all `B` rows.
//!
//! # Contract
//!
//! `true`: every `out[i]` holds row `i`'s KL, within a few ulp of the scalar kernel (the same
//! algorithms, evaluated in another order and with fused multiply-adds; `KL(p ‖ p) == 0`
//! exactly, and near-equal pairs keep their relative accuracy: the difference forms of the
//! scalar kernels). `false`: the fast path could not finish, and `out` may be partly written;
//! the caller redoes the batch on its careful path, which reports the precise error. That is
//!
//! * inconsistent lengths (never a panic);
//! * with `check`, any value that breaks its rule: means finite; `s1` finite and `> 0`; factors
//!   as [`crate::scale_tril_ok_n`]; covariances as [`crate::spd_ok_n`] (finite, symmetric within
//!   `rel_tol = max(1e-8, 64 ε)`, and positive definite in exactly the arithmetic of
//!   [`crate::cholesky_n`]), i.e. the same values the checked entry's rules reject;
//! * in either mode, a failed Cholesky factorization (of `C2`, or of `I + A` in the difference
//!   form of [`crate::cov_kl`]), a diagonal ratio `L1_ii / L2_ii` outside the normal range, and
//!   sizes beyond [`TRIL_MAX`] / [`COV_MAX`].
//!
//! Checking costs little: the values are checked in the registers they are computed from, so
//! the inputs are read from memory once.
//!
//! # How
//!
//! For `D <= 8` the lanes hold batch rows: `V::N` rows at a time (8 `f64` with AVX-512, 4 with
//! AVX2) are transposed into lane vectors (`N x N` tiles of the row-major inputs) and the
//! straight-line small-`D` algorithm runs on them; the logarithms are branch-free
//! ([`crate::scalar::scale_ratio_term`]'s reduction). Rows left over (`B % V::N`) take the
//! same code with one lane. For larger factors the lanes run along the rows of the factors,
//! one batch row at a time: `[z | X] = L2⁻¹ [m2 − m1 | L1 − L2]` row by row as sums of scaled
//! rows, which reads the inputs in order. The instruction set is chosen at run time (AVX-512;
//! AVX2 + FMA; portable arrays otherwise).

#![allow(clippy::needless_range_loop)]

/// `for $i in $lo..$hi $body`. In optimized builds, when `$d <= 8` (a const generic), written
/// out 8 times behind `if $lo + c < $hi` instead (and a loop for the rest): with constant
/// bounds (`$d`, or an index of an enclosing `unroll!`) the code is then straight-line and
/// every array index a constant, so that LLVM keeps lane vectors in registers (it does not
/// fully unroll triangular loop nests). Debug builds keep the loop (compile time, stack frames).
macro_rules! unroll {
    ($d:ident; $i:ident in $lo:tt .. $hi:expr => $body:block) => {{
        let (lo, hi): (usize, usize) = ($lo, $hi);
        if cfg!(debug_assertions) || $d > 8 {
            for $i in lo..hi $body
        } else {
            unroll!(@copies $i, lo, hi, $body, 0 1 2 3 4 5 6 7);
            for $i in lo + 8..hi $body
        }
    }};
    (@copies $i:ident, $lo:ident, $hi:ident, $body:block, $($c:literal)*) => {
        $(
            if $lo + $c < $hi {
                let $i = $lo + $c;
                $body
            }
        )*
    };
}

mod common;
mod cov;
mod drive;
#[cfg(test)]
mod tests;
mod tril;

use crate::real::Real;
use cov::Cov;
pub use cov::COV_MAX;
use drive::dispatch;
use tril::Tril;
pub use tril::TRIL_MAX;

/// Whether `len == rows * per_row` without overflow.
fn len_is(len: usize, rows: usize, per_row: usize) -> bool {
    rows.checked_mul(per_row) == Some(len)
}

/// `KL(N(m1, L1 L1ᵀ) ‖ N(m2, L2 L2ᵀ))` for every row of a batch: `out[i]` from `m1[i * D..]`,
/// `l1[i * D * D..]`, `m2[i * D..]`, `l2[i * D * D..]` (row-major factors, lower triangles read).
/// Returns `true` when every `out[i]` holds row `i`'s KL. Returns `false` (with `out` possibly
/// partly written) when the lengths do not match `out.len()` rows, or, with `check`, when some
/// value breaks its rule (`m*` finite; factors as [`crate::scale_tril_ok_n`]).
pub fn tril_kl_rows<T: Real, const D: usize>(
    m1: &[T],
    l1: &[T],
    m2: &[T],
    l2: &[T],
    out: &mut [T],
    check: bool,
) -> bool {
    let b = out.len();
    if !(len_is(m1.len(), b, D) && len_is(m2.len(), b, D) && len_is(l1.len(), b, D * D) && len_is(l2.len(), b, D * D)) {
        return false;
    }
    dispatch(&Tril::<T, D, false> { m1, l1, m2, l2, b, out: out.as_mut_ptr(), check })
}

/// `KL(N(m1, diag(s1²)) ‖ N(m2, L2 L2ᵀ))` for every row of a batch, like [`tril_kl_rows`] with
/// `s1: [B, D]` (finite and `> 0` when checked).
pub fn diag_tril_kl_rows<T: Real, const D: usize>(
    m1: &[T],
    s1: &[T],
    m2: &[T],
    l2: &[T],
    out: &mut [T],
    check: bool,
) -> bool {
    let b = out.len();
    if !(len_is(m1.len(), b, D) && len_is(m2.len(), b, D) && len_is(s1.len(), b, D) && len_is(l2.len(), b, D * D)) {
        return false;
    }
    dispatch(&Tril::<T, D, true> { m1, l1: s1, m2, l2, b, out: out.as_mut_ptr(), check })
}

/// `KL(N(m1, C1) ‖ N(m2, C2))` for every row of a batch from covariance matrices (`c*: [B, D, D]`
/// row-major, read in full), in the difference form of [`crate::cov_kl`]. Returns `true` when
/// every `out[i]` holds row `i`'s KL; `false` (with `out` possibly partly written) when the
/// lengths do not match `out.len()` rows, when a Cholesky factorization fails (of `C2`, or of
/// `I + A` in the difference form), or, with `check`, when some value breaks its rule (`m*`
/// finite; `C*` finite, symmetric and positive definite as [`crate::spd_ok_n`] with
/// `rel_tol = max(1e-8, 64 ε)`).
pub fn cov_kl_rows<T: Real, const D: usize>(
    m1: &[T],
    c1: &[T],
    m2: &[T],
    c2: &[T],
    out: &mut [T],
    check: bool,
) -> bool {
    let b = out.len();
    if !(len_is(m1.len(), b, D) && len_is(m2.len(), b, D) && len_is(c1.len(), b, D * D) && len_is(c2.len(), b, D * D)) {
        return false;
    }
    dispatch(&Cov::<T, D> { m1, c1, m2, c2, b, out: out.as_mut_ptr(), check })
}
