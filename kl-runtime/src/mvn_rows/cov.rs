//! The covariance kernel ([`super::cov_kl_rows`]): `C2`'s Cholesky factor in lanes, then the
//! difference form of [`crate::cov_kl`].

use super::common::{half_maha, load_mat, load_vec, Valid};
use super::drive::{drive, Groups, Job, ROWS_IN_LANES_MAX};
use crate::real::Real;
use crate::simd::{Arr, Tiles};

pub(super) struct Cov<'a, T, const D: usize> {
    pub(super) m1: &'a [T],
    pub(super) c1: &'a [T],
    pub(super) m2: &'a [T],
    pub(super) c2: &'a [T],
    pub(super) b: usize,
    pub(super) out: *mut T,
    pub(super) check: bool,
}

impl<T: Real, const D: usize> Groups for Cov<'_, T, D> {
    type T = T;
    #[inline(always)]
    fn rows(&self) -> usize {
        self.b
    }
    #[inline(always)]
    fn inputs(&self) -> [(&[T], usize); 4] {
        [(self.m1, D), (self.c1, D * D), (self.m2, D), (self.c2, D * D)]
    }
    #[inline(always)]
    unsafe fn group<V: Tiles>(&self, p: [*const T; 4], r: usize) -> bool {
        let (kl, ok) = unsafe { cov_group::<V, D>(p[0].cast(), p[1].cast(), p[2].cast(), p[3].cast(), self.check) };
        unsafe { kl.store(self.out.add(r).cast()) };
        ok
    }
}

impl<T: Real, const D: usize> Job for Cov<'_, T, D> {
    type T = T;
    #[inline(always)]
    unsafe fn run<V: Tiles>(&self) -> bool {
        if D <= ROWS_IN_LANES_MAX {
            unsafe { drive::<V, Self>(self) }
        } else if D <= COV_MAX {
            // Straight-line code no longer pays; one row at a time, scalar.
            unsafe { drive::<Arr<T, 1>, Self>(self) }
        } else {
            false
        }
    }
}

/// The largest `D` [`super::cov_kl_rows`] handles (its scratch lives on the stack).
pub const COV_MAX: usize = 16;

/// With `check`, notes the finiteness and symmetry of `m` in `v` (`|x - y| <= tol max(|x|, |y|)`
/// as `spd_ok_n`, as `tol max(..) - |x - y| >= 0`; that test only where some pair differs).
#[inline(always)]
fn check_sym<V: Tiles, const D: usize>(m: &[[V; D]; D], tol: V, v: &mut Valid<V>) {
    let mut diff = V::splat(V::T::ZERO);
    unroll!(D; i in 0..D => {
        unroll!(D; j in 0..D => {
            v.finite(m[i][j]);
        });
        unroll!(D; j in 0..i => {
            diff = diff + (m[i][j] - m[j][i]).abs();
        });
    });
    if !diff.all_zero() {
        unroll!(D; i in 0..D => {
            unroll!(D; j in 0..i => {
                let (x, y) = (m[i][j], m[j][i]);
                v.nonneg(tol * x.abs().max(y.abs()) - (x - y).abs());
            });
        });
    }
}

/// The lower Cholesky factor of `a`, in the arithmetic of `cholesky_n` (same bits); its pivots
/// go to `v` (finite and `> 0`).
#[inline(always)]
fn cholesky_lanes<V: Tiles, const D: usize>(a: &[[V; D]; D], v: &mut Valid<V>) -> ([[V; D]; D], [V; D]) {
    let zero = V::splat(V::T::ZERO);
    let mut l = [[zero; D]; D];
    let mut pivots = [zero; D];
    unroll!(D; i in 0..D => {
        unroll!(D; j in 0..i => {
            let mut dot = zero;
            unroll!(D; k in 0..j => {
                dot = dot + l[i][k] * l[j][k];
            });
            l[i][j] = (a[i][j] - dot) / l[j][j];
        });
        let mut dot = zero;
        unroll!(D; k in 0..i => {
            dot = dot + l[i][k] * l[i][k];
        });
        let pivot = a[i][i] - dot;
        v.finite(pivot);
        v.positive(pivot);
        pivots[i] = pivot;
        l[i][i] = pivot.sqrt();
    });
    (l, pivots)
}

/// KL of `V::N` consecutive rows from covariances, in the difference form of `cov_kl`; whether
/// the fast path holds for all of them (the Cholesky pivots, and with `check`, every rule).
#[inline(always)]
unsafe fn cov_group<V: Tiles, const D: usize>(
    m1: *const V::T,
    c1: *const V::T,
    m2: *const V::T,
    c2: *const V::T,
    check: bool,
) -> (V, bool) {
    let zero = V::splat(V::T::ZERO);
    let one = V::splat(V::T::ONE);
    let half = V::splat(V::T::HALF);
    let mut x = [[zero; D]; D];
    let mut y = [[zero; D]; D];
    unsafe { load_mat::<V, D>(c1, false, &mut x) };
    unsafe { load_mat::<V, D>(c2, false, &mut y) };
    let (p, q) = unsafe { (load_vec::<V, D>(m1), load_vec::<V, D>(m2)) };
    let mut v = Valid::new();
    if check {
        let tol = V::splat(V::T::from_f64(1e-8).max(V::T::EPSILON * V::T::from_f64(64.0)));
        check_sym(&x, tol, &mut v);
        check_sym(&y, tol, &mut v);
        unroll!(D; i in 0..D => {
            v.finite(p[i]);
            v.finite(q[i]);
        });
        // Only whether C1 is positive definite; the factor itself is not needed.
        let _ = cholesky_lanes(&x, &mut v);
    }
    let (l, _) = cholesky_lanes(&y, &mut v);
    let mut inv = [zero; D];
    unroll!(D; i in 0..D => {
        inv[i] = one / l[i][i];
    });
    let maha = half_maha(&p, &q, &l, &inv);
    // A = L⁻¹ S L⁻ᵀ for the symmetric part S = ½ (Δ + Δᵀ) of Δ = C1 − C2: the symmetrized A of
    // `delta_term` (linear in Δ).
    let d = symmetric_part::<V, D>(|i, j| x[i][j] - y[i][j]);
    let mut a = congruence(&d, &l, &inv);
    // The difference form's pivots are checked here, not in `v`: a row whose pivot cancels
    // (even to 0, spoiling the later ones) takes the direct form, which `v` checks.
    let mut pivots = Valid::new();
    let (mut sum, pmin) = factor_sum(&mut a, one, &mut pivots);
    let below = V::splat(V::T::from_f64(crate::spd::DIRECT_BELOW));
    if !(pivots.ok() && (pmin - below).all_nonneg()) {
        // Some row's I + A has a pivot below `DIRECT_BELOW`: those rows in the direct form of
        // `delta_term`, M = L⁻¹ C1 L⁻ᵀ (symmetric part) itself.
        let mut m = congruence(&symmetric_part::<V, D>(|i, j| x[i][j]), &l, &inv);
        let (direct, _) = factor_sum(&mut m, zero, &mut v);
        sum = pick_below(pmin, below, direct, sum);
    }
    (half.mul_add(sum, maha), v.ok())
}

/// `½ (M + Mᵀ)` for the matrix with entries `m(i, j)`.
#[inline(always)]
fn symmetric_part<V: Tiles, const D: usize>(m: impl Fn(usize, usize) -> V) -> [[V; D]; D] {
    let half = V::splat(V::T::HALF);
    let mut s = [[V::splat(V::T::ZERO); D]; D];
    unroll!(D; i in 0..D => {
        s[i][i] = m(i, i);
        unroll!(D; j in 0..i => {
            s[i][j] = half * (m(i, j) + m(j, i));
            s[j][i] = s[i][j];
        });
    });
    s
}

/// Per lane, `a` where `x < t` (or `x` is NaN), else `b`.
#[inline(always)]
fn pick_below<V: Tiles>(x: V, t: V, a: V, b: V) -> V {
    const MAX_LANES: usize = 16;
    debug_assert!(V::N <= MAX_LANES);
    let mut xs = [V::T::ZERO; MAX_LANES];
    let mut ts = [V::T::ZERO; MAX_LANES];
    let mut av = [V::T::ZERO; MAX_LANES];
    // SAFETY: each array holds `MAX_LANES >= V::N` values.
    unsafe {
        x.store(xs.as_mut_ptr());
        t.store(ts.as_mut_ptr());
        a.store(av.as_mut_ptr());
    }
    let mut r = b;
    for k in 0..V::N {
        // NaN takes `a` too.
        if !matches!(xs[k].partial_cmp(&ts[k]), Some(core::cmp::Ordering::Greater | core::cmp::Ordering::Equal)) {
            r = r.with_lane(k, av[k]);
        }
    }
    r
}

/// The lower triangle of `L⁻¹ S L⁻ᵀ` for a symmetric `S`, `inv[i] = 1 / L_ii`: `W = L⁻¹ S` row
/// by row (the columns of a row independent), then `A_ij = (W_ij − Σ_{k<j} L_jk A_ik) / L_jj`
/// for `j <= i`.
#[inline(always)]
fn congruence<V: Tiles, const D: usize>(s: &[[V; D]; D], l: &[[V; D]; D], inv: &[V; D]) -> [[V; D]; D] {
    let zero = V::splat(V::T::ZERO);
    let mut a = [[zero; D]; D];
    unroll!(D; i in 0..D => {
        unroll!(D; j in 0..D => {
            let mut dot = zero;
            unroll!(D; k in 0..i => {
                dot = l[i][k].mul_add(a[k][j], dot);
            });
            a[i][j] = (s[i][j] - dot) * inv[i];
        });
    });
    unroll!(D; i in 0..D => {
        unroll!(D; j in 0..(i + 1) => {
            let mut dot = zero;
            unroll!(D; k in 0..j => {
                dot = l[j][k].mul_add(a[i][k], dot);
            });
            a[i][j] = (a[i][j] - dot) * inv[j];
        });
    });
    a
}

/// `Σ_{i>j} G_ij² + Σ_j (q_j − 1 − ln q_j)` from the Cholesky factor `G` (with squared pivots
/// `q_j`) of `shift · I + a`, in place of `a`'s lower triangle, and the smallest `q_j`: with
/// `shift = 1` the difference form of `delta_term` (`a = A`, `G = I + H`; the diagonal terms
/// `H_jj² − 2 log1pmx(H_jj)` are `s_j − ln(1 + s_j) = −log1pmx(s_j)` with `q_j = 1 + s_j`), with
/// `shift = 0` its direct form (`a = M`). The pivots go to `v`: finite, and in the direct form
/// normal (the difference form's small pivots are the caller's to replace).
#[inline(always)]
fn factor_sum<V: Tiles, const D: usize>(a: &mut [[V; D]; D], shift: V, v: &mut Valid<V>) -> (V, V) {
    let zero = V::splat(V::T::ZERO);
    let one = V::splat(V::T::ONE);
    let direct = shift.all_zero();
    let mut sum = zero;
    let mut s = [zero; D];
    let mut q = [zero; D];
    let mut qmin = V::splat(V::T::INFINITY);
    unroll!(D; j in 0..D => {
        let mut sj = a[j][j];
        unroll!(D; k in 0..j => {
            sj = sj - a[j][k] * a[j][k];
        });
        let p = shift + sj;
        // The direct form's x = q − 1 (exact where the series is used: q near 1).
        s[j] = if direct { sj - one } else { sj };
        q[j] = p;
        v.finite(p);
        if direct {
            v.normal(p);
        }
        qmin = qmin.min(p);
        // 1 / G_jj = 1 / √q
        let g = p.rsqrt();
        unroll!(D; i in (j + 1)..D => {
            let mut t = a[i][j];
            unroll!(D; k in 0..j => {
                t = t - a[i][k] * a[j][k];
            });
            a[i][j] = t * g;
            sum = a[i][j].mul_add(a[i][j], sum);
        });
    });
    let logs = V::neg_log1pmx(&s, &q);
    unroll!(D; j in 0..D => {
        sum = sum + logs[j];
    });
    (sum, qmin)
}
