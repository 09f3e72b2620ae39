//! KL between multivariate normals given by covariance matrices (or both by precision
//! matrices), computed from the difference of the matrices, so that near-equal distributions
//! keep their relative accuracy. The factor route (Cholesky of each matrix, then compare the
//! factors) rounds each factor separately, and the KL of near-equal matrices, a difference of
//! O(1) quantities, inherits those rounding errors.
//!
//! With `Y = L Lᵀ` the reference matrix and `X` the other one, `A = L⁻¹ (X − Y) L⁻ᵀ` is small
//! when `X ≈ Y`, and the scale part of the KL is `½ (tr A − ln det(I + A))`. Factoring
//! `I + A = G Gᵀ` with `G = I + H` computed in terms of `H` directly gives
//!
//! ```text
//! tr A − ln det(I + A) = Σ_{i>j} H_ij² + Σ_i (H_ii² − 2 log1pmx(H_ii)),
//! ```
//!
//! a sum of non-negative terms, exactly zero for `X == Y`.
//!
//! Where `X` is much smaller than `Y` in some direction, a pivot `1 + s` of `I + A` is left
//! after cancellation (`s ≈ −1`) and has lost its leading digits. Below [`DIRECT_BELOW`] the
//! same sum is taken over the factor of `M = L⁻¹ X L⁻ᵀ` itself (the direct form): the KL is at
//! least 1.59 there, so the direct form's absolute errors are small against it.
//!
//! # Precision against covariance
//!
//! A normal given by a precision matrix against one given by a covariance (either order) has no
//! matrix to subtract from the other, and factoring either in working precision already moves
//! an ill-conditioned KL by more than its accuracy target (`tests/reference/SENSITIVITY.md`).
//! Their product is `I` plus a small `E` when the distributions are close, so `E = P C − I` is
//! formed with Ogita–Rump–Oishi dot products (as if in doubled precision, rounded once), then
//! made symmetric by a similarity with the Cholesky factor `L` of the second distribution's
//! matrix (rounding in `L` changes the similarity, not the eigenvalues):
//!
//! * `p` by precision `P1`, `q` by covariance `C2 = L Lᵀ`: `Σ2⁻¹ Σ1 = (I + E)⁻¹`, similar to
//!   `I + W` with `A = Lᵀ E L⁻ᵀ` and `W = −(I + A)⁻¹ A`; the scale part is `½ (tr W − ln det(I + W))`;
//! * `p` by covariance `C1`, `q` by precision `P2 = L Lᵀ`: `Σ2⁻¹ Σ1 = I + E`, similar to `I + A`
//!   with `A = L⁻¹ E L`; the scale part is `½ (tr A − ln det(I + A))`.

use crate::dense::{solve_lower, NotPositiveDefinite};
use crate::real::Real;
use crate::scalar::{log1pmx, ratio_excess};

/// Scratch length [`spd_delta_term`] and [`cov_kl`] need: `d * d + d`.
pub const fn scratch_len_cov_kl(d: usize) -> usize {
    d * d + d
}

/// `√(1 + x) − 1` without cancellation near 0.
#[inline]
fn sqrt1pm1<T: Real>(x: T) -> T {
    x / ((T::ONE + x).sqrt() + T::ONE)
}

/// `½ (tr A − ln det(I + A))` with `A = L⁻¹ (X − Y) L⁻ᵀ`, `L` the Cholesky factor of `Y`.
/// `x`, `y`, `l`: row-major `d x d` (symmetric `x`, `y`; lower `l`);
/// `scratch.len() >= scratch_len_cov_kl(d)`. Fails when `I + A` is not positive definite,
/// which for symmetric positive-definite `X` only rounding can cause.
///
/// Where `X` is much smaller than `Y` in some direction (a squared pivot of `I + A` below
/// [`DIRECT_BELOW`]) the difference form would cancel that pivot's leading digits, and the
/// direct form `M = L⁻¹ X L⁻ᵀ = I + A` is used instead (see the module docs).
#[inline]
pub fn spd_delta_term<T: Real>(
    x: &[T],
    y: &[T],
    l: &[T],
    d: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    // The entries of X − Y are exact where X ≈ Y.
    delta_term(|i, j| x[i * d + j] - y[i * d + j], |i, j| x[i * d + j], l, d, scratch)
}

/// Below this squared pivot `p = 1 + s` of `I + A` the difference form has lost too many of
/// the pivot's leading digits (`s ≈ −1` rounds with an absolute error, so `p`'s relative error
/// grows as `ε / p`). There the KL is at least `½ (p − 1 − ln p) >= 1.59`, so the direct form,
/// whose errors are absolute in the entries of `M = I + A`, keeps its relative accuracy, and
/// the difference form above it loses at most about `64 ε / 1.59 ≈ 40 ε` (a power of two, so
/// that the comparison is exact).
pub const DIRECT_BELOW: f64 = 1.0 / 64.0;

/// The two ways of reading the matrix [`factor_sum`] factors.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    /// The matrix is `A`, the small difference `M − I`: exact where `M ≈ I`. Declines when a
    /// squared pivot of `I + A` falls below [`DIRECT_BELOW`].
    Difference,
    /// The matrix is `M = I + A` itself.
    Direct,
}

/// [`spd_delta_term`] with the difference `X − Y` and `X` itself given entry by entry.
#[inline(always)]
fn delta_term<T: Real>(
    delta: impl Fn(usize, usize) -> T,
    x: impl Fn(usize, usize) -> T,
    l: &[T],
    d: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let (a, col) = scratch[..d * d + d].split_at_mut(d * d);
    congruence(&delta, l, d, a, col);
    if let Some(v) = factor_sum(a, d, Form::Difference)? {
        return Ok(v);
    }
    congruence(&x, l, d, a, col);
    direct_sum(a, d)
}

/// The lower triangle of `L⁻¹ S L⁻ᵀ` (symmetrized) into `a`, for the symmetric `S` with
/// entries `s(i, j)`; `col` of length `d`.
#[inline(always)]
fn congruence<T: Real>(s: impl Fn(usize, usize) -> T, l: &[T], d: usize, a: &mut [T], col: &mut [T]) {
    // W = L⁻¹ S, column by column.
    solve_columns(d, &s, a, col, |c| solve_lower(l, d, c));
    // L⁻¹ S L⁻ᵀ = (L⁻¹ Wᵀ)ᵀ: solve on the rows of W.
    for i in 0..d {
        col.copy_from_slice(&a[i * d..i * d + d]);
        solve_lower(l, d, col);
        a[i * d..i * d + d].copy_from_slice(col);
    }
    // The result is transposed; it is symmetric, so average the two triangles and keep the
    // lower one.
    symmetrize(a, d);
}

/// `out = S(M)` for the `d x d` matrix with entries `m(i, j)`, column by column through `col`
/// (length `d`), `solve` acting on one column in place.
#[inline(always)]
fn solve_columns<T: Real>(
    d: usize,
    m: impl Fn(usize, usize) -> T,
    out: &mut [T],
    col: &mut [T],
    solve: impl Fn(&mut [T]),
) {
    for j in 0..d {
        for (i, c) in col.iter_mut().enumerate() {
            *c = m(i, j);
        }
        solve(col);
        for (i, &c) in col.iter().enumerate() {
            out[i * d + j] = c;
        }
    }
}

/// Averages the two triangles of the row-major `d x d` matrix `a` into its lower triangle.
#[inline]
fn symmetrize<T: Real>(a: &mut [T], d: usize) {
    for i in 0..d {
        for j in 0..i {
            let v = T::HALF * (a[i * d + j] + a[j * d + i]);
            a[i * d + j] = v;
        }
    }
}

/// `½ (tr M − d − ln det M)` for a symmetric positive-definite `M` given by its lower triangle
/// (overwritten), [`Form::Direct`].
#[inline]
fn direct_sum<T: Real>(m: &mut [T], d: usize) -> Result<T, NotPositiveDefinite> {
    // The direct form never declines.
    Ok(factor_sum(m, d, Form::Direct)?.unwrap_or(T::NAN))
}

/// `½ (tr M − d − ln det M)` from the Cholesky factor `G` of `M` (computed in place of the lower
/// triangle of `a`), as `½ (Σ_{i>j} G_ij² + Σ_j (q_j − 1 − ln q_j))` with `q_j = G_jj²`: with
/// `G = I + H` in terms of `H` when `a` holds `A = M − I` ([`Form::Difference`]; the diagonal
/// terms are `H_jj² − 2 log1pmx(H_jj)`), or from `M` itself ([`Form::Direct`]).
#[inline]
fn factor_sum<T: Real>(a: &mut [T], d: usize, form: Form) -> Result<Option<T>, NotPositiveDefinite> {
    let mut sum = T::ZERO;
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        // The squared pivot, `1 + s` or `s`; NaN fails.
        let q = if form == Form::Difference { T::ONE + s } else { s };
        let below = if form == Form::Difference { T::from_f64(DIRECT_BELOW) } else { T::ZERO };
        #[allow(clippy::eq_op)]
        if q != q {
            return Err(NotPositiveDefinite { pivot: j });
        }
        if q <= below {
            // The difference form's small or (by cancellation) non-positive pivots go to the
            // direct form; the direct form's are a matrix that is not positive definite.
            return if form == Form::Difference { Ok(None) } else { Err(NotPositiveDefinite { pivot: j }) };
        }
        let g = if form == Form::Difference {
            let h = sqrt1pm1(s);
            a[j * d + j] = h;
            sum += h * h - T::TWO * log1pmx(h);
            T::ONE + h
        } else {
            let g = q.sqrt();
            a[j * d + j] = g;
            sum += ratio_excess(T::ONE, q);
            g
        };
        for i in j + 1..d {
            let mut t = a[i * d + j];
            for k in 0..j {
                t -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = t / g;
        }
    }
    for i in 0..d {
        for j in 0..i {
            sum += a[i * d + j] * a[i * d + j];
        }
    }
    Ok(Some(T::HALF * sum))
}

/// `½ ‖L⁻¹ (mu2 − mu1)‖²`, in `z` (length `d`).
#[inline(always)]
fn half_maha<T: Real>(mu1: &[T], mu2: &[T], l: &[T], d: usize, z: &mut [T]) -> T {
    for ((z, &a), &b) in z.iter_mut().zip(mu1).zip(mu2) {
        *z = b - a;
    }
    solve_lower(l, d, z);
    T::HALF * z.iter().map(|&v| v * v).sum::<T>()
}

/// `KL(N(mu1, C1) ‖ N(mu2, C2))` from the covariances, `l2` the Cholesky factor of `C2`:
/// `½ ‖L2⁻¹ (mu2 − mu1)‖² + ½ (tr A − ln det(I + A))`, `A = L2⁻¹ (C1 − C2) L2⁻ᵀ`.
#[inline]
pub fn cov_kl<T: Real>(
    mu1: &[T],
    c1: &[T],
    mu2: &[T],
    c2: &[T],
    l2: &[T],
    d: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let scale = spd_delta_term(c1, c2, l2, d, scratch)?;
    Ok(half_maha(mu1, mu2, l2, d, &mut scratch[..d]) + scale)
}

/// `KL(N(mu1, P1⁻¹) ‖ N(mu2, P2⁻¹))` from the precisions, `l1` the Cholesky factor of `P1`:
/// `Σ2⁻¹ Σ1 = P2 P1⁻¹`, similar to `I + A` with `A = L1⁻¹ (P2 − P1) L1⁻ᵀ`, and the mean term
/// is `½ (mu2 − mu1)ᵀ P2 (mu2 − mu1)` read off `P2` directly.
#[inline]
pub fn precision_kl<T: Real>(
    mu1: &[T],
    p1: &[T],
    mu2: &[T],
    p2: &[T],
    l1: &[T],
    d: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let scale = spd_delta_term(p2, p1, l1, d, scratch)?;
    Ok(T::HALF * precision_quadratic(mu1, mu2, p2, d) + scale)
}

/// `KL(N(mu1, W1 W1ᵀ + D1) ‖ N(mu2, W2 W2ᵀ + D2))` for low-rank factors of the same rank `r`
/// (`w1`, `w2`: row-major `d x r`), `l2` the Cholesky factor of `Σ2`. The difference of the
/// covariances is formed from differences of the parameters,
/// `Σ1 − Σ2 = (W1 − W2) W1ᵀ + W2 (W1 − W2)ᵀ + diag(D1 − D2)`, exact where they are close, so
/// near-equal pairs keep their relative accuracy.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn low_rank_kl<T: Real>(
    mu1: &[T],
    w1: &[T],
    d1: &[T],
    mu2: &[T],
    w2: &[T],
    d2: &[T],
    l2: &[T],
    d: usize,
    r: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let delta = |i: usize, j: usize| {
        let mut v = if i == j { d1[i] - d2[i] } else { T::ZERO };
        for k in 0..r {
            v += (w1[i * r + k] - w2[i * r + k]) * w1[j * r + k] + w2[i * r + k] * (w1[j * r + k] - w2[j * r + k]);
        }
        v
    };
    let x = |i: usize, j: usize| {
        let mut v = if i == j { d1[i] } else { T::ZERO };
        for k in 0..r {
            v += w1[i * r + k] * w1[j * r + k];
        }
        v
    };
    let scale = delta_term(delta, x, l2, d, scratch)?;
    Ok(half_maha(mu1, mu2, l2, d, &mut scratch[..d]) + scale)
}

/// Scratch length [`precision_cov_kl`] and [`cov_precision_kl`] need: `3 d² + d`.
pub const fn scratch_len_mixed_kl(d: usize) -> usize {
    3 * d * d + d
}

/// `Σ_k a(k) b(k) − c`, computed as if in twice the working precision and rounded once
/// (Ogita, Rump and Oishi's `Dot2`: each product split exactly into `p + e` with an FMA, the
/// running sum's rounding error recovered by `TwoSum`).
#[inline]
pub(crate) fn dot2<T: Real>(n: usize, a: impl Fn(usize) -> T, b: impl Fn(usize) -> T, c: T) -> T {
    let (mut s, mut err) = (-c, T::ZERO);
    for k in 0..n {
        let (x, y) = (a(k), b(k));
        let p = x * y;
        let pe = x.mul_add(y, -p);
        let t = s + p;
        let z = t - s;
        err += pe + ((s - (t - z)) + (p - z));
        s = t;
    }
    s + err
}

/// The scale part `½ (tr M − d − ln det M)`, `M = Σ2⁻¹ Σ1`, of the KL between a normal given
/// by a precision matrix and one given by a covariance matrix (in either order).
///
/// Neither side can be subtracted from the other, and factoring either matrix in working
/// precision already moves an ill-conditioned KL by more than its target (see
/// `tests/reference/SENSITIVITY.md`). So the product of the two matrices, which is `I` plus a
/// small `E` when the distributions are close, is formed with [`dot2`] as `E = X Y − I` to full
/// relative accuracy. A similarity by the Cholesky factor `L` of the second distribution's
/// matrix then makes it symmetric; rounding in `L` changes the similarity, not the eigenvalues:
///
/// * `p` by precision `P1`, `q` by covariance `C2 = L Lᵀ`: `M = (P1 C2)⁻¹ = (I + E)⁻¹` with
///   `E = P1 C2 − I`, similar to `(I + A)⁻¹ = I + W` for `A = Lᵀ E L⁻ᵀ = Lᵀ P1 L − I` and
///   `W = −(I + A)⁻¹ A`; the scale part is `½ (tr W − ln det(I + W))`.
/// * `p` by covariance `C1`, `q` by precision `P2 = L Lᵀ`: `M = P2 C1 = I + E`, similar to
///   `I + A` with `A = L⁻¹ E L = Lᵀ C1 L − I`; the scale part is `½ (tr A − ln det(I + A))`.
#[inline]
fn mixed_scale<T: Real>(
    x1: &[T],
    x2: &[T],
    l: &[T],
    d: usize,
    precision_first: bool,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let (e, rest) = scratch[..scratch_len_mixed_kl(d)].split_at_mut(d * d);
    let (a, rest) = rest.split_at_mut(d * d);
    let (g, col) = rest.split_at_mut(d * d);
    // E = P C − I with the precision on the left: P1 C2, or P2 C1.
    let (left, right) = if precision_first { (x1, x2) } else { (x2, x1) };
    for i in 0..d {
        for j in 0..d {
            let delta = if i == j { T::ONE } else { T::ZERO };
            e[i * d + j] = dot2(d, |k| left[i * d + k], |k| right[k * d + j], delta);
        }
    }
    if precision_first {
        // F = E L⁻ᵀ row by row (row i of F solves L f = E[i, ..]), into g; then A = Lᵀ F.
        for i in 0..d {
            col.copy_from_slice(&e[i * d..i * d + d]);
            solve_lower(l, d, col);
            g[i * d..i * d + d].copy_from_slice(col);
        }
        lt_times(l, g, d, a);
    } else {
        // G = E L into g, then A = L⁻¹ G column by column.
        times_l(e, l, d, g);
        solve_columns(d, |i, j| g[i * d + j], a, col, |c| solve_lower(l, d, c));
    }
    symmetrize(a, d);
    if !precision_first {
        if let Some(v) = factor_sum(a, d, Form::Difference)? {
            return Ok(v);
        }
        // The direct form: M = Lᵀ C1 L.
        lt_x_l(x1, l, d, g, a);
        return direct_sum(a, d);
    }
    // W = −(I + A)⁻¹ A, with the Cholesky factor of I + A in g (well-conditioned unless P is much
    // wider than Q somewhere: then its pivots cancel, and the direct form takes over).
    for i in 0..d {
        for j in 0..=i {
            let v = a[i * d + j];
            g[j * d + i] = v;
            g[i * d + j] = if i == j { T::ONE + v } else { v };
        }
    }
    let factored = crate::dense::cholesky_in_place(g, d).is_ok()
        && (0..d).all(|j| g[j * d + j] * g[j * d + j] >= T::from_f64(DIRECT_BELOW));
    if factored {
        let g = &*g;
        let neg_a = |i: usize, j: usize| -a[if i >= j { i * d + j } else { j * d + i }];
        solve_columns(d, neg_a, e, col, |c| {
            solve_lower(g, d, c);
            crate::dense::solve_lower_transpose(g, d, c);
        });
        symmetrize(e, d);
        if let Some(v) = factor_sum(e, d, Form::Difference)? {
            return Ok(v);
        }
    }
    // The direct form: M = (I + A)⁻¹ = N⁻¹ with N = Lᵀ P1 L formed directly, as G⁻ᵀ G⁻¹ from
    // N's Cholesky factor G, column by column.
    lt_x_l(x1, l, d, a, g);
    crate::dense::cholesky_in_place(g, d)?;
    let g = &*g;
    solve_columns(
        d,
        |i, j| if i == j { T::ONE } else { T::ZERO },
        e,
        col,
        |c| {
            solve_lower(g, d, c);
            crate::dense::solve_lower_transpose(g, d, c);
        },
    );
    symmetrize(e, d);
    direct_sum(e, d)
}

/// `out = Lᵀ X L` (full, row-major) for a symmetric `X` and lower `L`, through `tmp = X L`; the
/// exact product, symmetric up to rounding.
#[inline]
fn lt_x_l<T: Real>(x: &[T], l: &[T], d: usize, tmp: &mut [T], out: &mut [T]) {
    times_l(x, l, d, tmp);
    lt_times(l, tmp, d, out);
    symmetrize(out, d);
}

/// `out = X L` for a full `X` and lower `L` (row-major `d x d`).
#[inline]
fn times_l<T: Real>(x: &[T], l: &[T], d: usize, out: &mut [T]) {
    for i in 0..d {
        for j in 0..d {
            let mut v = T::ZERO;
            for k in j..d {
                v += x[i * d + k] * l[k * d + j];
            }
            out[i * d + j] = v;
        }
    }
}

/// `out = Lᵀ Y` for a lower `L` and full `Y` (row-major `d x d`).
#[inline]
fn lt_times<T: Real>(l: &[T], y: &[T], d: usize, out: &mut [T]) {
    for i in 0..d {
        for j in 0..d {
            let mut v = T::ZERO;
            for k in i..d {
                v += l[k * d + i] * y[k * d + j];
            }
            out[i * d + j] = v;
        }
    }
}

/// `KL(N(mu1, P1⁻¹) ‖ N(mu2, C2))`: the first normal by its precision matrix, the second by its
/// covariance, `l2` the Cholesky factor of `C2`; `scratch.len() >= scratch_len_mixed_kl(d)`.
/// The scale part from `P1 C2 − I` formed in doubled precision (the module docs' "precision
/// against covariance"), so that
/// near-equal and ill-conditioned pairs keep their accuracy; the mean part `½ ‖L2⁻¹ (mu2 − mu1)‖²`.
#[inline]
pub fn precision_cov_kl<T: Real>(
    mu1: &[T],
    p1: &[T],
    mu2: &[T],
    c2: &[T],
    l2: &[T],
    d: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let scale = mixed_scale(p1, c2, l2, d, true, scratch)?;
    Ok(half_maha(mu1, mu2, l2, d, &mut scratch[..d]) + scale)
}

/// `KL(N(mu1, C1) ‖ N(mu2, P2⁻¹))`: the first normal by its covariance, the second by its
/// precision matrix, `l2` the Cholesky factor of `P2`; `scratch.len() >= scratch_len_mixed_kl(d)`.
/// The scale part from `P2 C1 − I` formed in doubled precision (the module docs' "precision
/// against covariance"); the mean
/// part `½ (mu2 − mu1)ᵀ P2 (mu2 − mu1)` read off `P2`.
#[inline]
pub fn cov_precision_kl<T: Real>(
    mu1: &[T],
    c1: &[T],
    mu2: &[T],
    p2: &[T],
    l2: &[T],
    d: usize,
    scratch: &mut [T],
) -> Result<T, NotPositiveDefinite> {
    let scale = mixed_scale(c1, p2, l2, d, false, scratch)?;
    Ok(T::HALF * precision_quadratic(mu1, mu2, p2, d) + scale)
}

/// `(mu2 − mu1)ᵀ P (mu2 − mu1)`, clamped at 0 (a positive-definite `P` makes it non-negative;
/// rounding may not).
#[inline]
fn precision_quadratic<T: Real>(mu1: &[T], mu2: &[T], p: &[T], d: usize) -> T {
    let mut maha = T::ZERO;
    for i in 0..d {
        let di = mu2[i] - mu1[i];
        let mut row = T::ZERO;
        for j in 0..d {
            row += p[i * d + j] * (mu2[j] - mu1[j]);
        }
        maha += di * row;
    }
    maha.max(T::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{cholesky, mvn_kl_tril, scratch_len_mvn_kl_tril};

    fn spd3(e: f64) -> ([f64; 9], [f64; 9]) {
        let c1 = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let mut c2 = c1;
        for (i, v) in c2.iter_mut().enumerate() {
            *v *= 1.0 + e * (1.0 + (i % 4) as f64);
        }
        // Keep c2 symmetric.
        for i in 0..3 {
            for j in 0..i {
                c2[j * 3 + i] = c2[i * 3 + j];
            }
        }
        (c1, c2)
    }

    #[test]
    fn agrees_with_the_factor_route_far_from_equal() {
        let (c1, c2) = spd3(0.3);
        let (mu1, mu2) = ([0.1, -0.2, 0.3], [0.0, 0.5, -0.1]);
        let (mut l1, mut l2) = ([0.0; 9], [0.0; 9]);
        cholesky(&c1, 3, &mut l1).unwrap();
        cholesky(&c2, 3, &mut l2).unwrap();
        let mut s = [0.0; 12];
        let got = cov_kl(&mu1, &c1, &mu2, &c2, &l2, 3, &mut s).unwrap();
        let mut s2 = [0.0; scratch_len_mvn_kl_tril(3)];
        let want = mvn_kl_tril(&mu1, &l1, &mu2, &l2, 3, &mut s2);
        assert!((got - want).abs() <= 1e-14 * want, "{got} vs {want}");
    }

    /// The inverse of a symmetric positive-definite 3x3 matrix (Gauss–Jordan, for the tests).
    fn inverse3(c: &[f64; 9]) -> [f64; 9] {
        let mut a = *c;
        let mut inv = [0.0; 9];
        for i in 0..3 {
            inv[i * 3 + i] = 1.0;
        }
        for col in 0..3 {
            let p = a[col * 3 + col];
            for j in 0..3 {
                a[col * 3 + j] /= p;
                inv[col * 3 + j] /= p;
            }
            for r in 0..3 {
                if r != col {
                    let f = a[r * 3 + col];
                    for j in 0..3 {
                        a[r * 3 + j] -= f * a[col * 3 + j];
                        inv[r * 3 + j] -= f * inv[col * 3 + j];
                    }
                }
            }
        }
        inv
    }

    #[test]
    fn mixed_pairs_agree_with_the_factor_route() {
        let (c1, c2) = spd3(0.3);
        let (p1, p2) = (inverse3(&c1), inverse3(&c2));
        let (mu1, mu2) = ([0.1, -0.2, 0.3], [0.0, 0.5, -0.1]);
        let (mut l1, mut l2, mut lp2) = ([0.0; 9], [0.0; 9], [0.0; 9]);
        cholesky(&c1, 3, &mut l1).unwrap();
        cholesky(&c2, 3, &mut l2).unwrap();
        cholesky(&p2, 3, &mut lp2).unwrap();
        let mut s2 = [0.0; scratch_len_mvn_kl_tril(3)];
        let want = mvn_kl_tril(&mu1, &l1, &mu2, &l2, 3, &mut s2);
        let mut s = [0.0; scratch_len_mixed_kl(3)];
        // p by precision, q by covariance; p by covariance, q by precision.
        let a = precision_cov_kl(&mu1, &p1, &mu2, &c2, &l2, 3, &mut s).unwrap();
        let b = cov_precision_kl(&mu1, &c1, &mu2, &p2, &lp2, 3, &mut s).unwrap();
        for got in [a, b] {
            assert!((got - want).abs() <= 1e-13 * want, "{got} vs {want}");
        }
    }

    /// `P` 2^∓40 times narrower or wider than `Q`: the difference forms' pivots cancel and the
    /// direct forms take over. Every route against the factor route, which forms no difference.
    #[test]
    fn every_route_agrees_with_the_factor_route_far_apart() {
        let (base, c2) = spd3(0.3);
        let (mu1, mu2) = ([0.1, -0.2, 0.3], [0.0, 0.5, -0.1]);
        for f in [2f64.powi(-40), 2f64.powi(-12), 0.2, 2f64.powi(40)] {
            let c1 = base.map(|v| v * f);
            let (p1, p2) = (inverse3(&c1), inverse3(&c2));
            let (mut l1, mut l2, mut lp1, mut lp2) = ([0.0; 9], [0.0; 9], [0.0; 9], [0.0; 9]);
            cholesky(&c1, 3, &mut l1).unwrap();
            cholesky(&c2, 3, &mut l2).unwrap();
            cholesky(&p1, 3, &mut lp1).unwrap();
            cholesky(&p2, 3, &mut lp2).unwrap();
            let mut s2 = [0.0; scratch_len_mvn_kl_tril(3)];
            let want = mvn_kl_tril(&mu1, &l1, &mu2, &l2, 3, &mut s2);
            let mut s = [0.0; scratch_len_mixed_kl(3)];
            // Rank 3 "low-rank" factors: W = L, D = 0 on both sides.
            let got = [
                ("cov", cov_kl(&mu1, &c1, &mu2, &c2, &l2, 3, &mut s).unwrap()),
                ("precision", precision_kl(&mu1, &p1, &mu2, &p2, &lp1, 3, &mut s).unwrap()),
                ("low rank", low_rank_kl(&mu1, &l1, &[0.0; 3], &mu2, &l2, &[0.0; 3], &l2, 3, 3, &mut s).unwrap()),
                ("precision, cov", precision_cov_kl(&mu1, &p1, &mu2, &c2, &l2, 3, &mut s).unwrap()),
                ("cov, precision", cov_precision_kl(&mu1, &c1, &mu2, &p2, &lp2, 3, &mut s).unwrap()),
            ];
            for (route, got) in got {
                // The inverses carry a few ulp of their own.
                assert!((got - want).abs() <= 1e-13 * want, "{route}, f = {f:e}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn mixed_pairs_of_one_distribution_give_exactly_zero() {
        // Powers of two: P C = I exactly.
        let c = [4.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 1.0];
        let p = [0.25, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 1.0];
        let (mut lc, mut lp) = ([0.0; 9], [0.0; 9]);
        cholesky(&c, 3, &mut lc).unwrap();
        cholesky(&p, 3, &mut lp).unwrap();
        let mu = [0.5, -1.0, 2.0];
        let mut s = [0.0; scratch_len_mixed_kl(3)];
        assert_eq!(precision_cov_kl(&mu, &p, &mu, &c, &lc, 3, &mut s).unwrap(), 0.0);
        assert_eq!(cov_precision_kl(&mu, &c, &mu, &p, &lp, 3, &mut s).unwrap(), 0.0);
    }

    #[test]
    fn dot2_is_exact_where_the_plain_sum_cancels() {
        // (1 + 2^-30)(1 − 2^-30) − 1 = −2^-60: the plain product rounds to 1 and gives 0.
        let (a, b) = ([1.0 + 2f64.powi(-30)], [1.0 - 2f64.powi(-30)]);
        assert_eq!(dot2(1, |k| a[k], |k| b[k], 1.0), -(2f64.powi(-60)));
        assert_eq!(a[0] * b[0] - 1.0, 0.0);
    }

    #[test]
    fn low_rank_agrees_with_the_dense_covariance_route() {
        let (w1, d1) = ([0.5, -0.2, 0.1, 0.3, -0.4, 0.2], [1.0, 0.7, 1.3]);
        let (w2, d2) = ([0.4, -0.1, 0.2, 0.3, -0.5, 0.1], [0.9, 0.8, 1.1]);
        let (mut c1, mut c2) = ([0.0; 9], [0.0; 9]);
        crate::lowrank_covariance(&w1, &d1, 3, 2, &mut c1);
        crate::lowrank_covariance(&w2, &d2, 3, 2, &mut c2);
        let mut l2 = [0.0; 9];
        cholesky(&c2, 3, &mut l2).unwrap();
        let (mu1, mu2) = ([0.1, 0.0, -0.3], [0.2, 0.5, 0.1]);
        let mut s = [0.0; 12];
        let want = cov_kl(&mu1, &c1, &mu2, &c2, &l2, 3, &mut s).unwrap();
        let got = low_rank_kl(&mu1, &w1, &d1, &mu2, &w2, &d2, &l2, 3, 2, &mut s).unwrap();
        assert!((got - want).abs() <= 1e-14 * want, "{got} vs {want}");
        let zero = low_rank_kl(&mu1, &w1, &d1, &mu1, &w1, &d1, &l2, 3, 2, &mut s).unwrap();
        assert_eq!(zero, 0.0);
    }

    #[test]
    fn identical_matrices_give_exactly_zero() {
        let (c1, _) = spd3(0.0);
        let mut l = [0.0; 9];
        cholesky(&c1, 3, &mut l).unwrap();
        let mut s = [0.0; 12];
        let mu = [0.3, 0.1, -0.4];
        assert_eq!(cov_kl(&mu, &c1, &mu, &c1, &l, 3, &mut s).unwrap(), 0.0);
        assert_eq!(precision_kl(&mu, &c1, &mu, &c1, &l, 3, &mut s).unwrap(), 0.0);
    }

    #[test]
    fn near_equal_matrices_match_the_second_order_expansion() {
        // KL ≈ ¼ ‖A‖_F² for small A (tr A − ln det(I + A) = ½ tr A² − ⅓ tr A³ + ..).
        let (c1, c2) = spd3(1e-9);
        let mut l2 = [0.0; 9];
        cholesky(&c2, 3, &mut l2).unwrap();
        let mut s = [0.0; 12];
        let got = cov_kl(&[0.0; 3], &c1, &[0.0; 3], &c2, &l2, 3, &mut s).unwrap();
        // A from the exact difference, by the same solves, as the reference quadratic form.
        let mut a = [0.0; 9];
        for j in 0..3 {
            let mut col = [0.0; 3];
            for i in 0..3 {
                col[i] = c1[i * 3 + j] - c2[i * 3 + j];
            }
            crate::solve_lower(&l2, 3, &mut col);
            for i in 0..3 {
                a[i * 3 + j] = col[i];
            }
        }
        for i in 0..3 {
            let mut row = [a[i * 3], a[i * 3 + 1], a[i * 3 + 2]];
            crate::solve_lower(&l2, 3, &mut row);
            a[i * 3..i * 3 + 3].copy_from_slice(&row);
        }
        let frob: f64 = a.iter().map(|v| v * v).sum();
        let want = 0.25 * frob;
        assert!(((got - want) / want).abs() < 1e-6, "{got} vs {want}");
    }
}
