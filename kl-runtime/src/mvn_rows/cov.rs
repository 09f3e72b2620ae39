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
    // `delta_term` (linear in Δ), its lower triangle only. W = L⁻¹ S row by row (the columns of
    // a row independent), then A_ij = (W_ij − Σ_{k<j} L_jk A_ik) / L_jj for j <= i.
    let mut d = [[zero; D]; D];
    unroll!(D; i in 0..D => {
        d[i][i] = x[i][i] - y[i][i];
        unroll!(D; j in 0..i => {
            d[i][j] = half * ((x[i][j] - y[i][j]) + (x[j][i] - y[j][i]));
            d[j][i] = d[i][j];
        });
    });
    let mut a = [[zero; D]; D];
    unroll!(D; i in 0..D => {
        unroll!(D; j in 0..D => {
            let mut dot = zero;
            unroll!(D; k in 0..i => {
                dot = l[i][k].mul_add(a[k][j], dot);
            });
            a[i][j] = (d[i][j] - dot) * inv[i];
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
    // I + A = (I + H)(I + H)ᵀ with H lower, in place of A's lower triangle. With `1 + s_j` the
    // j-th squared pivot (H_jj = √(1 + s_j) − 1), the diagonal terms H_jj² − 2 log1pmx(H_jj) of
    // `delta_term` are s_j − ln(1 + s_j) = −log1pmx(s_j).
    let mut sum = zero;
    let mut s = [zero; D];
    unroll!(D; j in 0..D => {
        let mut sj = a[j][j];
        unroll!(D; k in 0..j => {
            sj = sj - a[j][k] * a[j][k];
        });
        s[j] = sj;
        let p = one + sj;
        v.finite(p);
        v.normal(p);
        // 1 / (1 + H_jj) = 1 / √p
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
    let logs = V::neg_log1pmx(&s);
    unroll!(D; j in 0..D => {
        sum = sum + logs[j];
    });
    (half.mul_add(sum, maha), v.ok())
}
