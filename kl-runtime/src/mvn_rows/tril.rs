//! The factor kernels ([`super::tril_kl_rows`], [`super::diag_tril_kl_rows`]): batch rows in
//! lanes for small `D`, the lanes along the rows of the factors above.

use super::common::{half_maha, load_mat, load_vec, Valid};
use super::drive::{drive, Groups, Job, ROWS_IN_LANES_MAX};
use crate::real::Real;
use crate::simd::{Arr, Tiles};

pub(super) struct Tril<'a, T, const D: usize, const DIAG: bool> {
    pub(super) m1: &'a [T],
    pub(super) l1: &'a [T],
    pub(super) m2: &'a [T],
    pub(super) l2: &'a [T],
    pub(super) b: usize,
    pub(super) out: *mut T,
    pub(super) check: bool,
}

impl<T: Real, const D: usize, const DIAG: bool> Groups for Tril<'_, T, D, DIAG> {
    type T = T;
    #[inline(always)]
    fn rows(&self) -> usize {
        self.b
    }
    #[inline(always)]
    fn inputs(&self) -> [(&[T], usize); 4] {
        let s1 = if DIAG { D } else { D * D };
        [(self.m1, D), (self.l1, s1), (self.m2, D), (self.l2, D * D)]
    }
    #[inline(always)]
    unsafe fn group<V: Tiles>(&self, p: [*const T; 4], r: usize) -> bool {
        let (kl, ok) =
            unsafe { tril_group::<V, D, DIAG>(p[0].cast(), p[1].cast(), p[2].cast(), p[3].cast(), self.check) };
        unsafe { kl.store(self.out.add(r).cast()) };
        ok
    }
}

impl<T: Real, const D: usize, const DIAG: bool> Job for Tril<'_, T, D, DIAG> {
    type T = T;
    #[inline(always)]
    unsafe fn run<V: Tiles>(&self) -> bool {
        if D <= ROWS_IN_LANES_MAX {
            return unsafe { drive::<V, Self>(self) };
        }
        if D > TRIL_MAX {
            return false;
        }
        if V::N < 2 {
            // The blocks of a row need at least two lanes (`D + 1` entries in `D` blocks).
            return unsafe { self.run::<Arr<T, 2>>() };
        }
        // One row at a time, the lanes along the rows of the factors.
        let s1 = if DIAG { D } else { D * D };
        let mut x = [[T::ZERO; D]; D];
        for r in 0..self.b {
            let (kl, ok) = unsafe {
                tril_row::<V, D, DIAG>(
                    self.m1.as_ptr().add(r * D).cast(),
                    self.l1.as_ptr().add(r * s1).cast(),
                    self.m2.as_ptr().add(r * D).cast(),
                    self.l2.as_ptr().add(r * D * D).cast(),
                    self.check,
                    &mut *(&mut x as *mut [[T; D]; D]).cast(),
                )
            };
            if !ok {
                return false;
            }
            unsafe { *self.out.add(r) = *(&kl as *const V::T).cast() };
        }
        true
    }
}

/// The largest `D` [`super::tril_kl_rows`] and [`super::diag_tril_kl_rows`] handle (their scratch lives on
/// the stack).
pub const TRIL_MAX: usize = 64;

/// The KL of one row for larger `D`, the lanes along the rows of the factors. `X = L2⁻¹ (L1 − L2)`
/// and `z = L2⁻¹ (m2 − m1)` together, row by row: with `Y_i = (z_i, X_i0, .., X_ii)`,
/// `Y_i = ((m2 − m1)_i, (L1 − L2)_i0, .., (L1 − L2)_ii) − Σ_{k<i} L2_ik Y_k) / L2_ii` as sums of
/// scaled rows (`y`: scratch for the `Y_k`, zero past their ends); the term of `Y_{i−1}` last, from
/// registers (the row-to-row dependency is one multiply-add). The diagonal terms on lanes of the
/// diagonals. Whether the fast path holds, as [`tril_group`].
#[inline(always)]
unsafe fn tril_row<V: Tiles, const D: usize, const DIAG: bool>(
    m1: *const V::T,
    l1: *const V::T,
    m2: *const V::T,
    l2: *const V::T,
    check: bool,
    y: &mut [[V::T; D]; D],
) -> (V::T, bool) {
    let n = V::N;
    let zero = V::splat(V::T::ZERO);
    let mut v = Valid::new();
    let l1_at = |i: usize, j: usize| unsafe { *l1.add(if DIAG { i } else { i * D + j }) };
    let l2_at = |i: usize, j: usize| unsafe { *l2.add(i * D + j) };
    // The diagonals, and 1 / L2_ii (read row by row: the factors are read in order).
    let (mut da, mut db, mut inv) = ([V::T::ONE; D], [V::T::ONE; D], [V::T::ONE; D]);
    // Blocks of `n` lanes of the rows Y_i (i + 2 entries; lane p is column p − 1 of the
    // factors); the accumulators in registers (constant indices once the block loops unroll).
    let nb = (D + 1).div_ceil(n);
    let mut off = zero;
    let mut maha = V::T::ZERO;
    let mut prev = [zero; D];
    for i in 0..D {
        let (l1i, l2i) = (l1.wrapping_add(i * D).wrapping_sub(1), l2.wrapping_add(i * D).wrapping_sub(1));
        let len = i + 2;
        (da[i], db[i]) = (l2_at(i, i), l1_at(i, i));
        inv[i] = V::T::ONE / da[i];
        let (p, q) = unsafe { (*m1.add(i), *m2.add(i)) };
        let mut acc = [[zero; D]; 4];
        for c in 0..nb {
            let lo = c * n;
            if lo < len {
                let (from, to) = (if c == 0 { 1 } else { 0 }, n.min(len - lo));
                let b = unsafe { V::load_range(l2i.wrapping_add(lo), from, to) };
                let mut a = if DIAG {
                    let b = -b;
                    if i + 1 - lo < n {
                        b.with_lane(i + 1 - lo, l1_at(i, i) - l2_at(i, i))
                    } else {
                        b
                    }
                } else {
                    let a = unsafe { V::load_range(l1i.wrapping_add(lo), from, to) };
                    if check {
                        v.finite(a);
                    }
                    a - b
                };
                if check {
                    v.finite(b);
                }
                if c == 0 {
                    a = a.with_lane(0, q - p);
                }
                acc[0][c] = a;
            }
        }
        // Y_k for k < i − 1 in four independent sums (Y_k has k + 2 entries).
        let mut k = 0;
        while k + 5 <= i {
            for u in 0..4 {
                let f = -V::splat(l2_at(i, k + u));
                for c in 0..nb {
                    if c * n < k + u + 2 {
                        acc[u][c] = f.mul_add(load_y(y, k + u, c * n), acc[u][c]);
                    }
                }
            }
            k += 4;
        }
        while k + 1 < i {
            let f = -V::splat(l2_at(i, k));
            for c in 0..nb {
                if c * n < k + 2 {
                    acc[0][c] = f.mul_add(load_y(y, k, c * n), acc[0][c]);
                }
            }
            k += 1;
        }
        let s = V::splat(inv[i]);
        let f = -V::splat(if i > 0 { l2_at(i, i - 1) } else { V::T::ZERO });
        for c in 0..nb {
            let lo = c * n;
            if lo < len {
                let sum = (acc[0][c] + acc[1][c]) + (acc[2][c] + acc[3][c]);
                let yi = f.mul_add(prev[c], sum) * s;
                prev[c] = yi;
                // Off the diagonal: lanes 1..=i of the row (X_i0 .. X_i,i−1).
                let o = yi.first((i + 1).saturating_sub(lo));
                let o = if c == 0 { o.with_lane(0, V::T::ZERO) } else { o };
                off = o.mul_add(o, off);
                if c == 0 {
                    let z = (yi.first(1)).sum();
                    maha += z * z;
                }
                if i + 1 < D {
                    unsafe {
                        if lo + n <= D {
                            yi.store(y[i].as_mut_ptr().add(lo))
                        } else {
                            yi.store_n(y[i].as_mut_ptr().add(lo), D - lo)
                        }
                    };
                }
            }
        }
    }
    // The diagonal terms (lanes past D: ones, a zero term).
    let mut diag = zero;
    let mut j = 0;
    while j < D {
        let k = n.min(D - j);
        let mut pad = [[V::T::ONE; 64]; 3];
        let (a, b, ia) = unsafe {
            if k == n {
                (V::load_n(da.as_ptr().add(j), n), V::load_n(db.as_ptr().add(j), n), V::load_n(inv.as_ptr().add(j), n))
            } else {
                pad[0][..k].copy_from_slice(&da[j..]);
                pad[1][..k].copy_from_slice(&db[j..]);
                pad[2][..k].copy_from_slice(&inv[j..]);
                (V::load_n(pad[0].as_ptr(), n), V::load_n(pad[1].as_ptr(), n), V::load_n(pad[2].as_ptr(), n))
            }
        };
        if check {
            v.finite(a);
            v.finite(b);
            v.positive(a);
            v.positive(b);
            unsafe {
                v.finite(V::load_n(m1.add(j), k));
                v.finite(V::load_n(m2.add(j), k));
            }
        }
        let (t, r) = V::scale_ratio_terms(&[b], &[a], &[ia]);
        v.normal(r[0]);
        diag = diag + t[0];
        j += n;
    }
    let half = V::T::HALF;
    (half * (off.sum() + maha) + diag.sum(), v.ok())
}

/// Lanes `j..j + N` of the scratch row `y[k]` (zero past the row's end).
#[inline(always)]
fn load_y<V: Tiles, const D: usize>(y: &[[V::T; D]; D], k: usize, j: usize) -> V {
    unsafe {
        if j + V::N <= D {
            V::load_n(y[k].as_ptr().add(j), V::N)
        } else {
            V::load_n(y[k].as_ptr().add(j), D - j)
        }
    }
}

/// KL of `V::N` consecutive rows, and whether the fast path holds for all of them (with
/// `check`, every value valid; in either mode, every diagonal ratio in the normal range).
#[inline(always)]
unsafe fn tril_group<V: Tiles, const D: usize, const DIAG: bool>(
    m1: *const V::T,
    l1: *const V::T,
    m2: *const V::T,
    l2: *const V::T,
    check: bool,
) -> (V, bool) {
    let zero = V::splat(V::T::ZERO);
    let one = V::splat(V::T::ONE);
    // L2's lower triangle in `a`; L1's (or diag(s1)'s) in `b`.
    let mut a = [[zero; D]; D];
    let mut b = [[zero; D]; D];
    unsafe { load_mat::<V, D>(l2, true, &mut a) };
    if DIAG {
        let s1 = unsafe { load_vec::<V, D>(l1) };
        unroll!(D; i in 0..D => {
            b[i][i] = s1[i];
        });
    } else {
        unsafe { load_mat::<V, D>(l1, true, &mut b) };
    }
    let (p, q) = unsafe { (load_vec::<V, D>(m1), load_vec::<V, D>(m2)) };
    let mut v = Valid::new();
    if check {
        unroll!(D; i in 0..D => {
            unroll!(D; j in 0..i => {
                v.finite(a[i][j]);
                if !DIAG {
                    v.finite(b[i][j]);
                }
            });
            v.finite(a[i][i]);
            v.finite(b[i][i]);
            v.positive(a[i][i]);
            v.positive(b[i][i]);
            v.finite(p[i]);
            v.finite(q[i]);
        });
    }
    let mut inv = [zero; D];
    unroll!(D; i in 0..D => {
        inv[i] = one / a[i][i];
    });
    // The Mahalanobis term first: its forward substitution is one long dependency chain, which
    // the independent work below can overlap.
    let maha = half_maha(&p, &q, &a, &inv);
    let (ad, bd): ([V; D], [V; D]) = (core::array::from_fn(|j| a[j][j]), core::array::from_fn(|j| b[j][j]));
    let (terms, ratios) = V::scale_ratio_terms(&bd, &ad, &inv);
    let mut diag = zero;
    unroll!(D; j in 0..D => {
        v.normal(ratios[j]);
        diag = diag + terms[j];
    });
    // X = L2⁻¹ (L1 − L2) (lower triangular), row by row so that the entries of a row are
    // independent; each entry as in `tril_kl_core_n` (its column's forward substitution).
    let mut x = [[zero; D]; D];
    let mut off = zero;
    unroll!(D; i in 0..D => {
        unroll!(D; j in 0..i => {
            let mut dot = zero;
            unroll!(D; k in j..i => {
                dot = a[i][k].mul_add(x[k][j], dot);
            });
            x[i][j] = ((b[i][j] - a[i][j]) - dot) * inv[i];
            off = x[i][j].mul_add(x[i][j], off);
        });
        x[i][i] = (b[i][i] - a[i][i]) * inv[i];
    });
    (V::splat(V::T::HALF).mul_add(off, maha) + diag, v.ok())
}
