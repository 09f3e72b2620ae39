//! Closed-form partial derivatives of the elementwise Gaussian kernels: for each kernel, the
//! derivative of its value with respect to each operand, in the parameterization the operand is
//! given in. Reverse mode multiplies them by the upstream gradient.
//!
//! Near `p = q` every derivative tends to 0; none is formed as a difference of nearly equal
//! terms: the variance difference `v1 − v2` comes from the parameters as given
//! (`(s1 − s2)(s1 + s2)`, `v1 − v2`, `v2 · expm1(2(l1 − l2))`, `(p2 − p1)/(p1 p2)`), so that
//! the gradient of `P || P` is exactly 0.

mod spd;
pub use spd::*;

use crate::param::ScaleParam;
use crate::real::Real;

/// `v1 − v2` for variances given as `a1` in `p1` and `a2` in `p2`, without cancellation when
/// both are given the same way.
#[inline(always)]
fn var_diff<T: Real>(a1: T, p1: ScaleParam, a2: T, p2: ScaleParam) -> T {
    match (p1, p2) {
        (ScaleParam::Scale, ScaleParam::Scale) => (a1 - a2) * (a1 + a2),
        (ScaleParam::Var, ScaleParam::Var) => a1 - a2,
        (ScaleParam::LogScale, ScaleParam::LogScale) => p2.var(a2) * (T::TWO * (a1 - a2)).exp_m1(),
        (ScaleParam::Precision, ScaleParam::Precision) => (a2 - a1) / (a1 * a2),
        _ => p1.var(a1) - p2.var(a2),
    }
}

/// `(v1 − v2)/v2` for variances given as `a1` in `p1` and `a2` in `p2`: [`var_diff`] as a
/// ratio of like scales (`(s1 − s2)/s2 · (s1 + s2)/s2`, `expm1(2(l1 − l2))`, `(p2 − p1)/p1`),
/// which neither underflows at tiny scales nor cancels near `p = q`.
#[inline(always)]
fn var_diff_ratio<T: Real>(a1: T, p1: ScaleParam, a2: T, p2: ScaleParam) -> T {
    match (p1, p2) {
        (ScaleParam::Scale, ScaleParam::Scale) => (a1 - a2) / a2 * ((a1 + a2) / a2),
        (ScaleParam::Var, ScaleParam::Var) => (a1 - a2) / a2,
        (ScaleParam::LogScale, ScaleParam::LogScale) => (T::TWO * (a1 - a2)).exp_m1(),
        (ScaleParam::Precision, ScaleParam::Precision) => (a2 - a1) / a1,
        _ => p1.var(a1) * inv_var(a2, p2) - T::ONE,
    }
}

/// `(dv/da) / v` for a variance `v` given as `a` in `p`: `2/s`, `1/v`, `2`, `−1/p`. Kept as one
/// ratio so that neither `dv/da` nor `v` under- or overflows on its own at extreme scales.
#[inline(always)]
fn dvar_over_var<T: Real>(a: T, p: ScaleParam) -> T {
    match p {
        ScaleParam::Scale => T::TWO / a,
        ScaleParam::Var => a.recip(),
        ScaleParam::LogScale => T::TWO,
        ScaleParam::Precision => -a.recip(),
    }
}

/// `1/v` for a variance given as `a` in `p`.
#[inline(always)]
fn inv_var<T: Real>(a: T, p: ScaleParam) -> T {
    match p {
        ScaleParam::Precision => a,
        _ => p.var(a).recip(),
    }
}

/// `∂/∂(m1, a1, m2, a2)` of `normal_kl_param(m1, a1, p1, m2, a2, p2)`:
/// `KL = ½(m1 − m2)²/v2 + ½(v1/v2 − 1 − ln(v1/v2))`, so
/// `∂/∂m1 = (m1 − m2)/v2`, `∂/∂v1 = ½(v1 − v2)/(v1 v2)`, `∂/∂v2 = −½((m1 − m2)² + v1 − v2)/v2²`,
/// times `dv/da` of each side's parameterization.
///
/// ```
/// use kl_runtime::{normal_kl_param_grad, ScaleParam::Scale};
/// let g = normal_kl_param_grad(0.5_f64, 1.5, Scale, 0.0, 2.0, Scale);
/// // Textbook: (m1 − m2)/s2², s1/s2² − 1/s1, −(m1 − m2)/s2², 1/s2 − (s1² + (m1 − m2)²)/s2³.
/// let want = [0.125, 1.5 / 4.0 - 1.0 / 1.5, -0.125, 0.5 - (2.25 + 0.25) / 8.0];
/// for (a, b) in g.iter().zip(want) {
///     assert!((a - b).abs() < 1e-15);
/// }
/// assert_eq!(normal_kl_param_grad(0.5_f64, 1.5, Scale, 0.5, 1.5, Scale), [0.0; 4]);
/// ```
#[inline(always)]
pub fn normal_kl_param_grad<T: Real>(m1: T, a1: T, p1: ScaleParam, m2: T, a2: T, p2: ScaleParam) -> [T; 4] {
    // ∂/∂a1 = ½ (dv/v2) · (dv1/da1)/v1 and ∂/∂a2 = −½ ((m1 − m2)²/v2 + dv/v2) · (dv2/da2)/v2:
    // the same derivatives with every quotient formed as a ratio of like scales, so that
    // nothing over- or underflows (v2² would, at 1e-200) where the gradient itself is finite.
    let r2 = inv_var(a2, p2);
    let dm = m1 - m2;
    let dv = var_diff_ratio(a1, p1, a2, p2);
    let gm = dm * r2;
    let ga1 = T::HALF * dv * dvar_over_var(a1, p1);
    let ga2 = -T::HALF * (dm * gm + dv) * dvar_over_var(a2, p2);
    [gm, ga1, -gm, ga2]
}

/// `∂/∂(m, a)` of the KL against `N(0, 1)`, `a` in `p`: `∂/∂m = m`, `∂/∂v = ½(v − 1)/v`.
#[inline(always)]
pub fn std_normal_kl_grad<T: Real>(m: T, a: T, p: ScaleParam) -> [T; 2] {
    let dv = var_diff(a, p, T::ONE, ScaleParam::Scale);
    [m, T::HALF * dv * dvar_over_var(a, p)]
}

/// `∂/∂(x, m, s)` of `normal_log_prob(x, m, s)`: `−z/s`, `z/s`, `(z² − 1)/s`, `z = (x − m)/s`.
#[inline(always)]
pub fn normal_log_prob_grad<T: Real>(x: T, m: T, s: T) -> [T; 3] {
    let z = (x - m) / s;
    [-z / s, z / s, (z - T::ONE) * (z + T::ONE) / s]
}

/// `∂/∂s` of `normal_entropy(s)`: `1/s`.
#[inline(always)]
pub fn normal_entropy_grad<T: Real>(s: T) -> [T; 1] {
    [s.recip()]
}

/// `d scale / d a` for a scale given as `a` in `p` (the adjoint of `ScaleParam::scale`).
#[inline(always)]
pub fn scale_from_grad<T: Real>(a: T, p: ScaleParam) -> T {
    match p {
        ScaleParam::Scale => T::ONE,
        ScaleParam::Var => T::HALF / a.sqrt(),
        ScaleParam::LogScale => a.exp(),
        ScaleParam::Precision => -T::HALF * a.sqrt().recip() / a,
    }
}

/// Solve `L y = b` in place (forward substitution; only the lower triangle of `L` is read).
#[inline(always)]
fn solve_lower<T: Real>(l: &[T], d: usize, y: &mut [T]) {
    for i in 0..d {
        let mut s = y[i];
        for k in 0..i {
            s -= l[i * d + k] * y[k];
        }
        y[i] = s / l[i * d + i];
    }
}

/// Solve `Lᵀ y = b` in place (back substitution; only the lower triangle of `L` is read).
#[inline(always)]
fn solve_upper_t<T: Real>(l: &[T], d: usize, y: &mut [T]) {
    for i in (0..d).rev() {
        let mut s = y[i];
        for k in i + 1..d {
            s -= l[k * d + i] * y[k];
        }
        y[i] = s / l[i * d + i];
    }
}

/// `L⁻ᵀ X` for a `d × d` row-major `X`, column by column, in place.
#[inline(always)]
fn solve_upper_t_columns<T: Real>(l: &[T], d: usize, x: &mut [T], col: &mut [T]) {
    for j in 0..d {
        for i in 0..d {
            col[i] = x[i * d + j];
        }
        solve_upper_t(l, d, col);
        for i in 0..d {
            x[i * d + j] = col[i];
        }
    }
}

/// Scratch length of [`mvn_kl_tril_grad`].
pub const fn scratch_len_mvn_kl_tril_grad(d: usize) -> usize {
    3 * d * d + 2 * d
}

/// The gradient of `KL(N(m1, L1 L1ᵀ) ‖ N(m2, L2 L2ᵀ))` with respect to `m1`, `L1`, `m2`, `L2`
/// (lower triangles; the strictly upper entries are not read and get 0), added into `g_*`
/// scaled by `g`. With `A = L2⁻¹(L1 − L2)` (from the difference, so it is small near `p = q`)
/// and `z = L2⁻¹(m2 − m1)`:
/// `∂/∂m2 = −∂/∂m1 = L2⁻ᵀ z`, `∂/∂L1 = tril(L2⁻ᵀ A) + diag(1/L2ᵢᵢ − 1/L1ᵢᵢ)`,
/// `∂/∂L2 = −tril(L2⁻ᵀ (A + Aᵀ + A Aᵀ + z zᵀ))`: every term vanishes at `p = q`, exactly.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn mvn_kl_tril_grad<T: Real>(
    m1: &[T],
    l1: &[T],
    m2: &[T],
    l2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_l1, g_m2, g_l2] = grads;
    let (a, rest) = scratch.split_at_mut(d * d);
    let (s, rest) = rest.split_at_mut(d * d);
    let (b, rest) = rest.split_at_mut(d * d);
    let (z, col) = rest.split_at_mut(d);
    // z = L2⁻¹(m2 − m1), w = L2⁻ᵀ z.
    for i in 0..d {
        z[i] = m2[i] - m1[i];
    }
    solve_lower(l2, d, z);
    col[..d].copy_from_slice(z);
    solve_upper_t(l2, d, col);
    for i in 0..d {
        g_m1[i] -= g * col[i];
        g_m2[i] += g * col[i];
    }
    // A = L2⁻¹(L1 − L2), column by column from the lower-triangle difference.
    for j in 0..d {
        for i in 0..d {
            col[i] = if i >= j { l1[i * d + j] - l2[i * d + j] } else { T::ZERO };
        }
        solve_lower(l2, d, col);
        for i in 0..d {
            a[i * d + j] = col[i];
        }
    }
    // ∂/∂L1 = tril(L2⁻ᵀ A) + diag(1/L2ᵢᵢ − 1/L1ᵢᵢ).
    b.copy_from_slice(a);
    solve_upper_t_columns(l2, d, b, col);
    for i in 0..d {
        for j in 0..i {
            g_l1[i * d + j] += g * b[i * d + j];
        }
        let (x, y) = (l1[i * d + i], l2[i * d + i]);
        g_l1[i * d + i] += g * (b[i * d + i] + (x - y) / (x * y));
    }
    // S = A + Aᵀ + A Aᵀ + z zᵀ; ∂/∂L2 = −tril(L2⁻ᵀ S).
    for i in 0..d {
        for j in 0..d {
            let mut aat = T::ZERO;
            for k in 0..d {
                aat += a[i * d + k] * a[j * d + k];
            }
            s[i * d + j] = a[i * d + j] + a[j * d + i] + aat + z[i] * z[j];
        }
    }
    solve_upper_t_columns(l2, d, s, col);
    for i in 0..d {
        for j in 0..=i {
            g_l2[i * d + j] -= g * s[i * d + j];
        }
    }
}

/// Scratch length of [`mvn_kl_diag_tril_grad`] and [`mvn_kl_tril_diag_grad`].
pub const fn scratch_len_mvn_kl_diag_grad(d: usize) -> usize {
    scratch_len_mvn_kl_tril_grad(d) + 2 * d * d
}

/// The gradient of `KL(N(m1, diag(s1)²) ‖ N(m2, L2 L2ᵀ))` with respect to `m1`, `s1` (a vector
/// of `d` standard deviations), `m2`, `L2`, added into `g_*` scaled by `g`: that of
/// [`mvn_kl_tril_grad`] with `L1 = diag(s1)`, whose gradient is that factor's diagonal.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn mvn_kl_diag_tril_grad<T: Real>(
    m1: &[T],
    s1: &[T],
    m2: &[T],
    l2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_s1, g_m2, g_l2] = grads;
    let (dense, rest) = scratch.split_at_mut(d * d);
    let (g_dense, rest) = rest.split_at_mut(d * d);
    diagonal(s1, d, dense, g_dense);
    mvn_kl_tril_grad(m1, dense, m2, l2, d, g, [g_m1, &mut g_dense[..], g_m2, g_l2], rest);
    for i in 0..d {
        g_s1[i] += g_dense[i * d + i];
    }
}

/// The gradient of `KL(N(m1, L1 L1ᵀ) ‖ N(m2, diag(s2)²))` with respect to `m1`, `L1`, `m2`,
/// `s2`, added into `g_*` scaled by `g` (see [`mvn_kl_diag_tril_grad`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn mvn_kl_tril_diag_grad<T: Real>(
    m1: &[T],
    l1: &[T],
    m2: &[T],
    s2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_l1, g_m2, g_s2] = grads;
    let (dense, rest) = scratch.split_at_mut(d * d);
    let (g_dense, rest) = rest.split_at_mut(d * d);
    diagonal(s2, d, dense, g_dense);
    mvn_kl_tril_grad(m1, l1, m2, dense, d, g, [g_m1, g_l1, g_m2, &mut g_dense[..]], rest);
    for i in 0..d {
        g_s2[i] += g_dense[i * d + i];
    }
}

/// `dense = diag(s)` and `zeros = 0`, both `d × d`.
#[inline(always)]
fn diagonal<T: Real>(s: &[T], d: usize, dense: &mut [T], zeros: &mut [T]) {
    dense.iter_mut().for_each(|x| *x = T::ZERO);
    zeros.iter_mut().for_each(|x| *x = T::ZERO);
    for i in 0..d {
        dense[i * d + i] = s[i];
    }
}

/// Scratch length of [`mvn_log_prob_tril_grad`].
pub const fn scratch_len_mvn_log_prob_tril_grad(d: usize) -> usize {
    2 * d
}

/// The gradient of `mvn_log_prob_tril(x, m, L)` with respect to `x`, `m`, `L` (lower triangle),
/// added into `g_*` scaled by `g`: with `z = L⁻¹(x − m)` and `w = L⁻ᵀ z`: `−w`, `w`,
/// `tril(w zᵀ) − diag(1/Lᵢᵢ)`. Scratch: `2 d`.
pub fn mvn_log_prob_tril_grad<T: Real>(
    x: &[T],
    m: &[T],
    l: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 3],
    scratch: &mut [T],
) {
    let [g_x, g_m, g_l] = grads;
    let (z, w) = scratch.split_at_mut(d);
    for i in 0..d {
        z[i] = x[i] - m[i];
    }
    solve_lower(l, d, z);
    w[..d].copy_from_slice(z);
    solve_upper_t(l, d, w);
    for i in 0..d {
        g_x[i] -= g * w[i];
        g_m[i] += g * w[i];
        for j in 0..i {
            g_l[i * d + j] += g * w[i] * z[j];
        }
        g_l[i * d + i] += g * (w[i] * z[i] - l[i * d + i].recip());
    }
}

/// The gradient of `mvn_entropy_tril(L)`: `diag(1/Lᵢᵢ)`, added into `g_l` scaled by `g`.
pub fn mvn_entropy_tril_grad<T: Real>(l: &[T], d: usize, g: T, g_l: &mut [T]) {
    for i in 0..d {
        g_l[i * d + i] += g * l[i * d + i].recip();
    }
}

/// `C⁻¹ X` for the Cholesky factor `L` of `C`, column by column, in place.
fn solve_spd_columns<T: Real>(l: &[T], d: usize, x: &mut [T], col: &mut [T]) {
    for j in 0..d {
        for i in 0..d {
            col[i] = x[i * d + j];
        }
        solve_lower(l, d, col);
        solve_upper_t(l, d, col);
        for i in 0..d {
            x[i * d + j] = col[i];
        }
    }
}

/// `A⁻¹ X B⁻¹` for SPD `A`, `B` given by their Cholesky factors, symmetrized (`X` symmetric).
fn sandwich<T: Real>(la: &[T], lb: &[T], d: usize, x: &mut [T], t: &mut [T], col: &mut [T]) {
    solve_spd_columns(la, d, x, col);
    for i in 0..d {
        for j in 0..d {
            t[j * d + i] = x[i * d + j];
        }
    }
    solve_spd_columns(lb, d, t, col);
    for i in 0..d {
        for j in 0..=i {
            let s = T::HALF * (t[i * d + j] + t[j * d + i]);
            x[i * d + j] = s;
            x[j * d + i] = s;
        }
    }
}

/// Scratch length of [`cov_kl_grad`].
pub const fn scratch_len_cov_kl_grad(d: usize) -> usize {
    4 * d * d + 2 * d
}

/// The gradient of `KL(N(m1, C1) ‖ N(m2, C2))` with respect to `m1`, `C1`, `m2`, `C2`, added into
/// `g_*` scaled by `g`; the textbook formula with every matrix entry independent, so both matrix
/// gradients are symmetric. From the difference `Δ = C1 − C2`, with solves and no inverse:
/// `∂/∂m2 = −∂/∂m1 = C2⁻¹(m2 − m1)`, `∂/∂C1 = ½ C1⁻¹ Δ C2⁻¹` (`= ½(C2⁻¹ − C1⁻¹)`),
/// `∂/∂C2 = −½ C2⁻¹ (Δ + δδᵀ) C2⁻¹`, `δ = m2 − m1`: zero at `p = q`. A matrix that is not
/// positive definite gives NaN (the checked entry points validate first).
#[allow(clippy::too_many_arguments)]
pub fn cov_kl_grad<T: Real>(
    m1: &[T],
    c1: &[T],
    m2: &[T],
    c2: &[T],
    d: usize,
    g: T,
    grads: [&mut [T]; 4],
    scratch: &mut [T],
) {
    let [g_m1, g_c1, g_m2, g_c2] = grads;
    let (l1, rest) = scratch.split_at_mut(d * d);
    let (l2, rest) = rest.split_at_mut(d * d);
    let (x, rest) = rest.split_at_mut(d * d);
    let (t, rest) = rest.split_at_mut(d * d);
    let (u, col) = rest.split_at_mut(d);
    if crate::dense::cholesky(c1, d, l1).is_err() || crate::dense::cholesky(c2, d, l2).is_err() {
        for gs in [g_m1, g_c1, g_m2, g_c2] {
            gs.iter_mut().for_each(|v| *v = T::NAN);
        }
        return;
    }
    for i in 0..d {
        u[i] = m2[i] - m1[i];
    }
    solve_lower(l2, d, u);
    solve_upper_t(l2, d, u);
    for i in 0..d {
        g_m1[i] -= g * u[i];
        g_m2[i] += g * u[i];
    }
    // ∂/∂C1 = ½ C1⁻¹ Δ C2⁻¹.
    for k in 0..d * d {
        x[k] = c1[k] - c2[k];
    }
    sandwich(l1, l2, d, x, t, col);
    for k in 0..d * d {
        g_c1[k] += g * T::HALF * x[k];
    }
    // ∂/∂C2 = −½ C2⁻¹ (Δ + δδᵀ) C2⁻¹.
    for i in 0..d {
        for j in 0..d {
            let (di, dj) = (m2[i] - m1[i], m2[j] - m1[j]);
            x[i * d + j] = c1[i * d + j] - c2[i * d + j] + di * dj;
        }
    }
    sandwich(l2, l2, d, x, t, col);
    for k in 0..d * d {
        g_c2[k] -= g * T::HALF * x[k];
    }
}
