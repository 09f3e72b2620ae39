//! Adjoints of the Gaussian kernels over symmetric positive-definite matrices: the Cholesky
//! factor of a covariance, of a precision and of a low-rank-plus-diagonal covariance, and the
//! KLs between precisions, between a precision and a covariance (both ways) and between two
//! low-rank normals.
//!
//! Conventions (those of [`super::cov_kl_grad`]): a matrix parameter's gradient is the gradient
//! of the textbook formula with every entry independent, so it is symmetric; only the lower
//! triangle of an input matrix is read, as the forward kernels read it. Every matrix gradient is
//! formed from a difference of the parameters as given (`P1 − P2`, `P C − I` in doubled
//! precision, `Σ1 − Σ2` from `W1 − W2` and `D1 − D2`), so it vanishes exactly at `p = q`, and
//! with triangular solves, never an explicit inverse.
//!
//! A matrix that is not positive definite makes every gradient of the call NaN (the checked
//! entry points validate first).

use super::{sandwich, solve_lower, solve_spd_columns, solve_upper_t, solve_upper_t_columns};
use crate::dense::cholesky;
use crate::real::Real;
use crate::spd::dot2;

/// `x ← ½ (x + xᵀ)`.
fn symmetrize<T: Real>(x: &mut [T], d: usize) {
    for i in 0..d {
        for j in 0..i {
            let v = T::HALF * (x[i * d + j] + x[j * d + i]);
            x[i * d + j] = v;
            x[j * d + i] = v;
        }
    }
}

fn fill_nan<T: Real>(grads: &mut [&mut [T]]) {
    for g in grads {
        g.iter_mut().for_each(|v| *v = T::NAN);
    }
}

/// `S = sym(Φ(Lᵀ tril(Ḡ)))`, `Φ` the lower triangle with its diagonal halved: the symmetric
/// middle factor of the Cholesky adjoint. With `M = Lᵀ tril(Ḡ)`, `Sᵢⱼ = ½ M_max(i,j),min(i,j)`.
fn phi_sym<T: Real>(l: &[T], g_l: &[T], d: usize, s: &mut [T]) {
    for i in 0..d {
        for j in 0..=i {
            // M_ij = Σ_k L_ki Ḡ_kj over k ≥ i (L lower, Ḡ lower, i ≥ j).
            let mut m = T::ZERO;
            for k in i..d {
                m += l[k * d + i] * g_l[k * d + j];
            }
            s[i * d + j] = T::HALF * m;
            s[j * d + i] = T::HALF * m;
        }
    }
}

/// Scratch length of [`cholesky_grad`] and [`low_rank_tril_grad`].
pub const fn scratch_len_cholesky_grad(d: usize) -> usize {
    2 * d * d + d
}

/// The adjoint of the Cholesky factorization `L = chol(C)`: given `L` and the gradient `Ḡ` of
/// its lower triangle (the strict upper triangle of `g_l` is not read), adds the symmetric
/// `C̄ = L⁻ᵀ sym(Φ(Lᵀ Ḡ)) L⁻¹` into `g_c` (Murray 2016, symmetrized as PyTorch does), with two
/// triangular solves per column. The factor adjoints share one calling convention,
/// `(operands.., L, d, Ḡ, [gradients..], scratch)`; this one does not read `C` itself.
pub fn cholesky_grad<T: Real>(_c: &[T], l: &[T], d: usize, g_l: &[T], grads: [&mut [T]; 1], scratch: &mut [T]) {
    let [g_c] = grads;
    let (s, rest) = scratch.split_at_mut(d * d);
    let (t, col) = rest.split_at_mut(d * d);
    chol_adjoint(l, d, g_l, s, t, col);
    for k in 0..d * d {
        g_c[k] += s[k];
    }
}

/// `s ← L⁻ᵀ sym(Φ(Lᵀ Ḡ)) L⁻¹`, symmetric.
fn chol_adjoint<T: Real>(l: &[T], d: usize, g_l: &[T], s: &mut [T], t: &mut [T], col: &mut [T]) {
    phi_sym(l, g_l, d, s);
    // L⁻ᵀ S, transposed (S symmetric: (L⁻ᵀ S)ᵀ = S L⁻¹), then L⁻ᵀ of that.
    solve_upper_t_columns(l, d, s, col);
    for i in 0..d {
        for j in 0..d {
            t[j * d + i] = s[i * d + j];
        }
    }
    solve_upper_t_columns(l, d, t, col);
    s.copy_from_slice(t);
    symmetrize(s, d);
}

/// The adjoint of `L = chol(P⁻¹)`, the scale factor of a precision matrix: adds
/// `P̄ = −L sym(Φ(Lᵀ Ḡ)) Lᵀ` into `g_p` (the chain `P̄ = −Σ Σ̄ Σ` through `Σ = P⁻¹ = L Lᵀ`,
/// where the solves of the Cholesky adjoint cancel against `Σ`). Scratch: `2 d²`. `P` itself
/// is not read.
pub fn tril_from_precision_grad<T: Real>(
    _p: &[T],
    l: &[T],
    d: usize,
    g_l: &[T],
    grads: [&mut [T]; 1],
    scratch: &mut [T],
) {
    let [g_p] = grads;
    let (s, t) = scratch.split_at_mut(d * d);
    phi_sym(l, g_l, d, s);
    // T = S Lᵀ, then P̄ −= L T.
    for i in 0..d {
        for j in 0..d {
            let mut v = T::ZERO;
            for k in 0..=j {
                v += s[i * d + k] * l[j * d + k];
            }
            t[i * d + j] = v;
        }
    }
    for i in 0..d {
        for j in 0..=i {
            let (mut a, mut b) = (T::ZERO, T::ZERO);
            for k in 0..=i {
                a += l[i * d + k] * t[k * d + j];
            }
            for k in 0..=j {
                b += l[j * d + k] * t[k * d + i];
            }
            let v = T::HALF * (a + b);
            g_p[i * d + j] -= v;
            if i != j {
                g_p[j * d + i] -= v;
            }
        }
    }
}

/// Scratch length of [`tril_from_precision_grad`].
pub const fn scratch_len_tril_from_precision_grad(d: usize) -> usize {
    2 * d * d
}

/// The adjoint of `L = chol(W Wᵀ + diag(D))` (`W` row-major `d × r`, `r = w.len() / d`): with
/// `Σ̄` the Cholesky adjoint, adds `W̄ = 2 Σ̄ W` into `g_w` and `D̄ = diag(Σ̄)` into `g_diag`.
pub fn low_rank_tril_grad<T: Real>(
    w: &[T],
    _diag: &[T],
    l: &[T],
    d: usize,
    g_l: &[T],
    grads: [&mut [T]; 2],
    scratch: &mut [T],
) {
    let [g_w, g_diag] = grads;
    let r = w.len().checked_div(d).unwrap_or(0);
    let (s, rest) = scratch.split_at_mut(d * d);
    let (t, col) = rest.split_at_mut(d * d);
    chol_adjoint(l, d, g_l, s, t, col);
    add_low_rank(s, w, d, r, T::ONE, g_w, g_diag);
}

/// `g_w += 2 c S W`, `g_diag += c diag(S)` for a symmetric `S`.
fn add_low_rank<T: Real>(s: &[T], w: &[T], d: usize, r: usize, c: T, g_w: &mut [T], g_diag: &mut [T]) {
    let two = c + c;
    for i in 0..d {
        for k in 0..r {
            let mut v = T::ZERO;
            for j in 0..d {
                v += s[i * d + j] * w[j * r + k];
            }
            g_w[i * r + k] += two * v;
        }
        g_diag[i] += c * s[i * d + i];
    }
}

/// `u = P (a − b)` for a symmetric `P` given by its lower triangle.
fn sym_times_diff<T: Real>(p: &[T], a: &[T], b: &[T], d: usize, u: &mut [T]) {
    for i in 0..d {
        let mut v = T::ZERO;
        for k in 0..d {
            let pik = if k <= i { p[i * d + k] } else { p[k * d + i] };
            v += pik * (a[k] - b[k]);
        }
        u[i] = v;
    }
}

/// `u = (L Lᵀ)⁻¹ (m1 − m2)`: the location gradient of a KL whose second covariance has factor `L`.
fn solve_mean_diff<T: Real>(l: &[T], m1: &[T], m2: &[T], d: usize, u: &mut [T]) {
    for i in 0..d {
        u[i] = m1[i] - m2[i];
    }
    solve_lower(l, d, u);
    solve_upper_t(l, d, u);
}

/// `g_m1 += g u`, `g_m2 −= g u`: the two locations' gradients, `u = ∂/∂m1`.
fn add_mean_grads<T: Real>(u: &[T], g: T, g_m1: &mut [T], g_m2: &mut [T]) {
    for ((a, b), &v) in g_m1.iter_mut().zip(g_m2.iter_mut()).zip(u) {
        *a += g * v;
        *b -= g * v;
    }
}

/// Scratch length of [`precision_kl_grad`].
pub const fn scratch_len_precision_kl_grad(d: usize) -> usize {
    4 * d * d + 2 * d
}

/// The gradient of `KL(N(m1, P1⁻¹) ‖ N(m2, P2⁻¹))` with respect to `m1`, `P1`, `m2`, `P2`,
/// added into `g_*` scaled by `g`. With `Δ = P1 − P2` and `δ = m1 − m2`:
/// `∂/∂m1 = −∂/∂m2 = P2 δ`, `∂/∂P1 = ½ P1⁻¹ Δ P1⁻¹`, `∂/∂P2 = ½ (δδᵀ − P1⁻¹ Δ P2⁻¹)`
/// (`P1⁻¹ − P2⁻¹ = −P1⁻¹ Δ P2⁻¹`).
#[allow(clippy::too_many_arguments)]
pub fn precision_kl_grad<T: Real>(
    m1: &[T],
    p1: &[T],
    m2: &[T],
    p2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_p1, g_m2, g_p2] = grads;
    let (l1, rest) = scratch.split_at_mut(d * d);
    let (l2, rest) = rest.split_at_mut(d * d);
    let (x, rest) = rest.split_at_mut(d * d);
    let (t, rest) = rest.split_at_mut(d * d);
    let (u, col) = rest.split_at_mut(d);
    if cholesky(p1, d, l1).is_err() || cholesky(p2, d, l2).is_err() {
        return fill_nan(&mut [g_m1, g_p1, g_m2, g_p2]);
    }
    sym_times_diff(p2, m1, m2, d, u);
    add_mean_grads(u, g, g_m1, g_m2);
    let delta = |x: &mut [T]| {
        for i in 0..d {
            for j in 0..=i {
                let v = p1[i * d + j] - p2[i * d + j];
                x[i * d + j] = v;
                x[j * d + i] = v;
            }
        }
    };
    delta(x);
    sandwich(l1, l1, d, x, t, col);
    for k in 0..d * d {
        g_p1[k] += g * T::HALF * x[k];
    }
    delta(x);
    sandwich(l1, l2, d, x, t, col);
    for i in 0..d {
        for j in 0..d {
            let dd = (m1[i] - m2[i]) * (m1[j] - m2[j]);
            g_p2[i * d + j] += g * T::HALF * (dd - x[i * d + j]);
        }
    }
}

/// Scratch length of [`cov_precision_kl_grad`] and [`precision_cov_kl_grad`].
pub const fn scratch_len_mixed_kl_grad(d: usize) -> usize {
    5 * d * d + 2 * d
}

/// `e = A B − I` for symmetric `A`, `B` given by their lower triangles, each entry a dot
/// product in doubled precision (so that near `A = B⁻¹` it keeps its relative accuracy).
fn product_minus_identity<T: Real>(a: &[T], b: &[T], d: usize, e: &mut [T]) {
    let at = |i: usize, j: usize| if j <= i { a[i * d + j] } else { a[j * d + i] };
    let bt = |i: usize, j: usize| if j <= i { b[i * d + j] } else { b[j * d + i] };
    for i in 0..d {
        for j in 0..d {
            let one = if i == j { T::ONE } else { T::ZERO };
            e[i * d + j] = dot2(d, |k| at(i, k), |k| bt(k, j), one);
        }
    }
}

/// The gradient of `KL(N(m1, C1) ‖ N(m2, P2⁻¹))` with respect to `m1`, `C1`, `m2`, `P2`, added
/// into `g_*` scaled by `g`. With `E = C1 P2 − I` in doubled precision and `δ = m1 − m2`:
/// `∂/∂m1 = −∂/∂m2 = P2 δ`, `∂/∂C1 = ½ C1⁻¹ E` (`= ½ (P2 − C1⁻¹)`),
/// `∂/∂P2 = ½ (P2⁻¹ Eᵀ + δδᵀ)` (`P2⁻¹ Eᵀ = C1 − P2⁻¹`).
#[allow(clippy::too_many_arguments)]
pub fn cov_precision_kl_grad<T: Real>(
    m1: &[T],
    c1: &[T],
    m2: &[T],
    p2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_c1, g_m2, g_p2] = grads;
    let (lc, rest) = scratch.split_at_mut(d * d);
    let (lp, rest) = rest.split_at_mut(d * d);
    let (e, rest) = rest.split_at_mut(d * d);
    let (x, rest) = rest.split_at_mut(d * d);
    let (_, rest) = rest.split_at_mut(d * d);
    let (u, col) = rest.split_at_mut(d);
    if cholesky(c1, d, lc).is_err() || cholesky(p2, d, lp).is_err() {
        return fill_nan(&mut [g_m1, g_c1, g_m2, g_p2]);
    }
    sym_times_diff(p2, m1, m2, d, u);
    add_mean_grads(u, g, g_m1, g_m2);
    product_minus_identity(c1, p2, d, e);
    x.copy_from_slice(e);
    solve_spd_columns(lc, d, x, col);
    symmetrize(x, d);
    for k in 0..d * d {
        g_c1[k] += g * T::HALF * x[k];
    }
    for i in 0..d {
        for j in 0..d {
            x[i * d + j] = e[j * d + i];
        }
    }
    solve_spd_columns(lp, d, x, col);
    symmetrize(x, d);
    for i in 0..d {
        for j in 0..d {
            let dd = (m1[i] - m2[i]) * (m1[j] - m2[j]);
            g_p2[i * d + j] += g * T::HALF * (x[i * d + j] + dd);
        }
    }
}

/// The gradient of `KL(N(m1, P1⁻¹) ‖ N(m2, C2))` with respect to `m1`, `P1`, `m2`, `C2`, added
/// into `g_*` scaled by `g`. With `E = P1 C2 − I` in doubled precision and `δ = m1 − m2`:
/// `∂/∂m1 = −∂/∂m2 = C2⁻¹ δ`, `∂/∂P1 = ½ P1⁻¹ X P1⁻¹` with `X = C2⁻¹ Eᵀ` (`= P1 − C2⁻¹`),
/// `∂/∂C2 = ½ C2⁻¹ (P1⁻¹ E − δδᵀ) C2⁻¹` (`P1⁻¹ E = C2 − P1⁻¹`).
#[allow(clippy::too_many_arguments)]
pub fn precision_cov_kl_grad<T: Real>(
    m1: &[T],
    p1: &[T],
    m2: &[T],
    c2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_p1, g_m2, g_c2] = grads;
    let (lp, rest) = scratch.split_at_mut(d * d);
    let (lc, rest) = rest.split_at_mut(d * d);
    let (e, rest) = rest.split_at_mut(d * d);
    let (x, rest) = rest.split_at_mut(d * d);
    let (t, rest) = rest.split_at_mut(d * d);
    let (u, col) = rest.split_at_mut(d);
    if cholesky(p1, d, lp).is_err() || cholesky(c2, d, lc).is_err() {
        return fill_nan(&mut [g_m1, g_p1, g_m2, g_c2]);
    }
    solve_mean_diff(lc, m1, m2, d, u);
    add_mean_grads(u, g, g_m1, g_m2);
    product_minus_identity(p1, c2, d, e);
    for i in 0..d {
        for j in 0..d {
            x[i * d + j] = e[j * d + i];
        }
    }
    solve_spd_columns(lc, d, x, col);
    symmetrize(x, d);
    sandwich(lp, lp, d, x, t, col);
    for k in 0..d * d {
        g_p1[k] += g * T::HALF * x[k];
    }
    x.copy_from_slice(e);
    solve_spd_columns(lp, d, x, col);
    symmetrize(x, d);
    for i in 0..d {
        for j in 0..d {
            x[i * d + j] -= (m1[i] - m2[i]) * (m1[j] - m2[j]);
        }
    }
    sandwich(lc, lc, d, x, t, col);
    for k in 0..d * d {
        g_c2[k] += g * T::HALF * x[k];
    }
}

/// Scratch length of [`low_rank_kl_grad`].
pub const fn scratch_len_low_rank_kl_grad(d: usize) -> usize {
    6 * d * d + 2 * d
}

/// The gradient of `KL(N(m1, W1 W1ᵀ + D1) ‖ N(m2, W2 W2ᵀ + D2))` (`W*` row-major `d × r`,
/// `r = w1.len() / d`) with respect to `m1`, `W1`, `D1`, `m2`, `W2`, `D2`, added into `g_*`
/// scaled by `g`: the covariance gradients `Σ̄1 = ½ Σ1⁻¹ Δ Σ2⁻¹` and
/// `Σ̄2 = −½ Σ2⁻¹ (Δ + δδᵀ) Σ2⁻¹` of [`super::cov_kl_grad`], with
/// `Δ = (W1 − W2) W1ᵀ + W2 (W1 − W2)ᵀ + diag(D1 − D2)` from the differences of the parameters,
/// chained through `Σ = W Wᵀ + diag(D)`: `W̄ = 2 Σ̄ W`, `D̄ = diag(Σ̄)`. Dense, `O(d³)`.
#[allow(clippy::too_many_arguments)]
pub fn low_rank_kl_grad<T: Real>(
    m1: &[T],
    w1: &[T],
    d1: &[T],
    m2: &[T],
    w2: &[T],
    d2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 6],
    scratch: &mut [T],
) {
    let [g_m1, g_w1, g_d1, g_m2, g_w2, g_d2] = grads;
    let r = w1.len().checked_div(d).unwrap_or(0);
    let (c1, rest) = scratch.split_at_mut(d * d);
    let (c2, rest) = rest.split_at_mut(d * d);
    let (l1, rest) = rest.split_at_mut(d * d);
    let (l2, rest) = rest.split_at_mut(d * d);
    let (x, rest) = rest.split_at_mut(d * d);
    let (t, rest) = rest.split_at_mut(d * d);
    let (u, col) = rest.split_at_mut(d);
    crate::dense::lowrank_covariance(w1, d1, d, r, c1);
    crate::dense::lowrank_covariance(w2, d2, d, r, c2);
    if cholesky(c1, d, l1).is_err() || cholesky(c2, d, l2).is_err() {
        return fill_nan(&mut [g_m1, g_w1, g_d1, g_m2, g_w2, g_d2]);
    }
    solve_mean_diff(l2, m1, m2, d, u);
    add_mean_grads(u, g, g_m1, g_m2);
    // Δ, both triangles from the lower one.
    let delta = |x: &mut [T]| {
        for i in 0..d {
            for j in 0..=i {
                let mut v = if i == j { d1[i] - d2[i] } else { T::ZERO };
                for k in 0..r {
                    let (a, b) = (w1[i * r + k] - w2[i * r + k], w1[j * r + k] - w2[j * r + k]);
                    v += a * w1[j * r + k] + w2[i * r + k] * b;
                }
                x[i * d + j] = v;
                x[j * d + i] = v;
            }
        }
    };
    delta(x);
    sandwich(l1, l2, d, x, t, col);
    add_low_rank(x, w1, d, r, g * T::HALF, g_w1, g_d1);
    delta(x);
    for i in 0..d {
        for j in 0..d {
            x[i * d + j] += (m1[i] - m2[i]) * (m1[j] - m2[j]);
        }
    }
    sandwich(l2, l2, d, x, t, col);
    add_low_rank(x, w2, d, r, -g * T::HALF, g_w2, g_d2);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symmetric positive-definite `d × d` matrix from a seed (diagonally dominant).
    fn spd(d: usize, seed: f64) -> Vec<f64> {
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..=i {
                let v = ((i * 7 + j * 3) as f64 * 0.37 + seed).sin() * 0.4;
                a[i * d + j] = v;
                a[j * d + i] = v;
            }
            a[i * d + i] = 1.5 + d as f64 * 0.3 + (seed + i as f64).cos() * 0.2;
        }
        a
    }

    /// Central differences of `f` at `x`, in every entry (a symmetric matrix entry is moved
    /// alone: the "every entry independent" convention).
    fn numeric(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        (0..x.len())
            .map(|k| {
                let h = 1e-6 * x[k].abs().max(1.0);
                let (mut a, mut b) = (x.to_vec(), x.to_vec());
                a[k] += h;
                b[k] -= h;
                (f(&a) - f(&b)) / (2.0 * h)
            })
            .collect()
    }

    /// Textbook KL from two covariances, by explicit inverse-free dense formulas in f64 (the
    /// reference for the finite differences: it reads both triangles, so each entry is a
    /// separate variable).
    fn kl_dense(m1: &[f64], c1: &[f64], m2: &[f64], c2: &[f64], d: usize) -> f64 {
        // Gaussian elimination on full matrices (no symmetry assumed).
        let solve = |a: &[f64], b: &[f64]| -> (Vec<f64>, f64) {
            let n = b.len() / d;
            let mut a = a.to_vec();
            let mut x = b.to_vec();
            let mut logdet = 0.0;
            for c in 0..d {
                let p = a[c * d + c];
                logdet += p.abs().ln();
                for r in c + 1..d {
                    let f = a[r * d + c] / p;
                    for k in c..d {
                        a[r * d + k] -= f * a[c * d + k];
                    }
                    for k in 0..n {
                        x[r * n + k] -= f * x[c * n + k];
                    }
                }
            }
            for c in (0..d).rev() {
                for k in 0..n {
                    let mut s = x[c * n + k];
                    for j in c + 1..d {
                        s -= a[c * d + j] * x[j * n + k];
                    }
                    x[c * n + k] = s / a[c * d + c];
                }
            }
            (x, logdet)
        };
        let (q, ld2) = solve(c2, c1); // C2⁻¹ C1
        let delta: Vec<f64> = (0..d).map(|i| m2[i] - m1[i]).collect();
        let (z, _) = solve(c2, &delta);
        let (_, ld1) = solve(c1, &vec![0.0; d]);
        let tr: f64 = (0..d).map(|i| q[i * d + i]).sum();
        let maha: f64 = delta.iter().zip(&z).map(|(a, b)| a * b).sum();
        0.5 * (tr + maha - d as f64 + ld2 - ld1)
    }

    fn inverse(a: &[f64], d: usize) -> Vec<f64> {
        let mut l = vec![0.0; d * d];
        cholesky(a, d, &mut l).unwrap();
        let mut x: Vec<f64> = (0..d * d).map(|k| if k / d == k % d { 1.0 } else { 0.0 }).collect();
        let mut col = vec![0.0; d];
        solve_spd_columns(&l, d, &mut x, &mut col);
        x
    }

    fn close(a: &[f64], b: &[f64], tol: f64) {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        let err = a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(err <= tol * scale, "normwise error {:e} > {tol:e}\n{a:?}\n{b:?}", err / scale);
    }

    const D: usize = 3;

    fn means() -> ([f64; D], [f64; D]) {
        ([0.3, -0.7, 1.1], [-0.2, 0.4, 0.9])
    }

    #[test]
    fn precision_kl_grad_matches_finite_differences() {
        let (m1, m2) = means();
        let (p1, p2) = (spd(D, 0.3), spd(D, 1.9));
        let f = |m1: &[f64], p1: &[f64], m2: &[f64], p2: &[f64]| kl_dense(m1, &inverse(p1, D), m2, &inverse(p2, D), D);
        let mut g = [vec![0.0; D], vec![0.0; D * D], vec![0.0; D], vec![0.0; D * D]];
        let [a, b, c, e] = &mut g;
        precision_kl_grad(&m1, &p1, &m2, &p2, D, 1.0, [a, b, c, e], &mut vec![0.0; scratch_len_precision_kl_grad(D)]);
        close(&g[0], &numeric(&m1, |x| f(x, &p1, &m2, &p2)), 1e-8);
        close(&g[1], &numeric(&p1, |x| f(&m1, &sym_of(x), &m2, &p2)), 1e-7);
        close(&g[2], &numeric(&m2, |x| f(&m1, &p1, x, &p2)), 1e-8);
        close(&g[3], &numeric(&p2, |x| f(&m1, &p1, &m2, &sym_of(x))), 1e-7);
    }

    /// The inverse of a non-symmetric perturbation is taken through the symmetric part: moving
    /// `x[i][j]` alone moves the textbook formula by the symmetric gradient's entry (the
    /// formulas are smooth in every entry; `sym_of` keeps the Cholesky-based inverse valid and
    /// halves an off-diagonal move, which the doubled symmetric gradient entry makes up).
    fn sym_of(x: &[f64]) -> Vec<f64> {
        let mut s = x.to_vec();
        symmetrize(&mut s, D);
        s
    }

    #[test]
    fn mixed_kl_grads_match_finite_differences() {
        let (m1, m2) = means();
        let (x1, x2) = (spd(D, 0.8), spd(D, 2.6));
        let mut g = [vec![0.0; D], vec![0.0; D * D], vec![0.0; D], vec![0.0; D * D]];
        let mut s = vec![0.0; scratch_len_mixed_kl_grad(D)];
        // C1 ‖ P2.
        let f = |m1: &[f64], c1: &[f64], m2: &[f64], p2: &[f64]| kl_dense(m1, c1, m2, &inverse(p2, D), D);
        let [a, b, c, e] = &mut g;
        cov_precision_kl_grad(&m1, &x1, &m2, &x2, D, 1.0, [a, b, c, e], &mut s);
        close(&g[0], &numeric(&m1, |x| f(x, &x1, &m2, &x2)), 1e-8);
        close(&g[1], &numeric(&x1, |x| f(&m1, &sym_of(x), &m2, &x2)), 1e-7);
        close(&g[2], &numeric(&m2, |x| f(&m1, &x1, x, &x2)), 1e-8);
        close(&g[3], &numeric(&x2, |x| f(&m1, &x1, &m2, &sym_of(x))), 1e-7);
        // P1 ‖ C2.
        let mut g = [vec![0.0; D], vec![0.0; D * D], vec![0.0; D], vec![0.0; D * D]];
        let f = |m1: &[f64], p1: &[f64], m2: &[f64], c2: &[f64]| kl_dense(m1, &inverse(p1, D), m2, c2, D);
        let [a, b, c, e] = &mut g;
        precision_cov_kl_grad(&m1, &x1, &m2, &x2, D, 1.0, [a, b, c, e], &mut s);
        close(&g[0], &numeric(&m1, |x| f(x, &x1, &m2, &x2)), 1e-8);
        close(&g[1], &numeric(&x1, |x| f(&m1, &sym_of(x), &m2, &x2)), 1e-7);
        close(&g[2], &numeric(&m2, |x| f(&m1, &x1, x, &x2)), 1e-8);
        close(&g[3], &numeric(&x2, |x| f(&m1, &x1, &m2, &sym_of(x))), 1e-7);
    }

    #[test]
    fn low_rank_kl_grad_matches_finite_differences() {
        let (m1, m2) = means();
        let (w1, w2) = ([0.5, -0.2, 0.1, 0.3, -0.4, 0.2], [0.4, -0.1, 0.2, 0.3, -0.5, 0.1]);
        let (d1, d2) = ([1.0, 0.7, 1.3], [0.9, 0.8, 1.1]);
        let cov = |w: &[f64], dg: &[f64]| {
            let mut c = vec![0.0; D * D];
            crate::dense::lowrank_covariance(w, dg, D, 2, &mut c);
            c
        };
        let f = |m1: &[f64], w1: &[f64], d1: &[f64], m2: &[f64], w2: &[f64], d2: &[f64]| {
            kl_dense(m1, &cov(w1, d1), m2, &cov(w2, d2), D)
        };
        let mut g = [vec![0.0; D], vec![0.0; 6], vec![0.0; D], vec![0.0; D], vec![0.0; 6], vec![0.0; D]];
        let [a, b, c, e, h, k] = &mut g;
        let mut s = vec![0.0; scratch_len_low_rank_kl_grad(D)];
        low_rank_kl_grad(&m1, &w1, &d1, &m2, &w2, &d2, D, 1.0, [a, b, c, e, h, k], &mut s);
        close(&g[0], &numeric(&m1, |x| f(x, &w1, &d1, &m2, &w2, &d2)), 1e-8);
        close(&g[1], &numeric(&w1, |x| f(&m1, x, &d1, &m2, &w2, &d2)), 1e-8);
        close(&g[2], &numeric(&d1, |x| f(&m1, &w1, x, &m2, &w2, &d2)), 1e-8);
        close(&g[3], &numeric(&m2, |x| f(&m1, &w1, &d1, x, &w2, &d2)), 1e-8);
        close(&g[4], &numeric(&w2, |x| f(&m1, &w1, &d1, &m2, x, &d2)), 1e-8);
        close(&g[5], &numeric(&d2, |x| f(&m1, &w1, &d1, &m2, &w2, x)), 1e-8);
        // P ‖ P: exactly zero.
        let mut g = [vec![0.0; D], vec![0.0; 6], vec![0.0; D], vec![0.0; D], vec![0.0; 6], vec![0.0; D]];
        let [a, b, c, e, h, k] = &mut g;
        low_rank_kl_grad(&m1, &w1, &d1, &m1, &w1, &d1, D, 1.0, [a, b, c, e, h, k], &mut s);
        assert!(g.iter().flatten().all(|v| *v == 0.0), "{g:?}");
    }

    #[test]
    fn factor_adjoints_match_finite_differences() {
        // f(L) = Σ tril(G) ∘ L for a fixed lower G: its gradient in L is G, and chained
        // through L = chol(C), chol(P⁻¹) and chol(W Wᵀ + D) it must match differences of f.
        let gl: Vec<f64> = (0..D * D).map(|k| if k % D <= k / D { 0.3 + (k as f64).sin() } else { 0.0 }).collect();
        let chol = |c: &[f64]| {
            let mut l = vec![0.0; D * D];
            cholesky(&sym_of(c), D, &mut l).unwrap();
            l
        };
        let f = |l: &[f64]| l.iter().zip(&gl).map(|(a, b)| a * b).sum::<f64>();
        let c = spd(D, 1.1);
        let mut g_c = vec![0.0; D * D];
        cholesky_grad(&c, &chol(&c), D, &gl, [&mut g_c], &mut vec![0.0; scratch_len_cholesky_grad(D)]);
        close(&g_c, &numeric(&c, |x| f(&chol(x))), 1e-7);

        let p = spd(D, 2.2);
        let mut g_p = vec![0.0; D * D];
        let l = chol(&inverse(&p, D));
        tril_from_precision_grad(&p, &l, D, &gl, [&mut g_p], &mut vec![0.0; scratch_len_tril_from_precision_grad(D)]);
        close(&g_p, &numeric(&p, |x| f(&chol(&inverse(&sym_of(x), D)))), 1e-7);

        let (w, dg) = ([0.5, -0.2, 0.1, 0.3, -0.4, 0.2], [1.0, 0.7, 1.3]);
        let cov = |w: &[f64], dg: &[f64]| {
            let mut c = vec![0.0; D * D];
            crate::dense::lowrank_covariance(w, dg, D, 2, &mut c);
            c
        };
        let (mut g_w, mut g_d) = (vec![0.0; 6], vec![0.0; D]);
        let mut s = vec![0.0; scratch_len_cholesky_grad(D)];
        low_rank_tril_grad(&w, &dg, &chol(&cov(&w, &dg)), D, &gl, [&mut g_w, &mut g_d], &mut s);
        close(&g_w, &numeric(&w, |x| f(&chol(&cov(x, &dg)))), 1e-7);
        close(&g_d, &numeric(&dg, |x| f(&chol(&cov(&w, x)))), 1e-7);
    }
}
