//! Pieces shared by the factor and covariance kernels: validity accumulated in lanes, tile loads,
//! the Mahalanobis term.

use super::drive::is;
use crate::real::Real;
use crate::simd::Tiles;

/// The smallest positive normal number of `T`.
#[inline(always)]
fn min_positive<T: Real>() -> T {
    if is::<T, f32>() {
        T::from_f64(f32::MIN_POSITIVE as f64)
    } else {
        T::from_f64(f64::MIN_POSITIVE)
    }
}

/// Validity of a group of values, accumulated without branches (in several independent
/// accumulators, so that long checks are no dependency chain).
pub(super) struct Valid<V> {
    /// `Σ v · 0`: zero iff every `v` was finite.
    fin: [V; 4],
    /// The next `fin` to add to.
    next: usize,
    /// The smallest value that must be `> 0`.
    pos: [V; 2],
    /// The smallest value that must be `>= 0`.
    nonneg: [V; 2],
}

impl<V: Tiles> Valid<V> {
    #[inline(always)]
    pub(super) fn new() -> Self {
        let (zero, one) = (V::splat(V::T::ZERO), V::splat(V::T::ONE));
        Valid { fin: [zero; 4], next: 0, pos: [one; 2], nonneg: [zero; 2] }
    }
    #[inline(always)]
    pub(super) fn finite(&mut self, v: V) {
        // v · 0 is ±0 for finite v, else NaN.
        let k = self.next % 4;
        self.fin[k] = v.mul_add(V::splat(V::T::ZERO), self.fin[k]);
        self.next += 1;
    }
    /// `v > 0` (NaN must be caught by [`Valid::finite`]).
    #[inline(always)]
    pub(super) fn positive(&mut self, v: V) {
        let k = self.next % 2;
        self.pos[k] = self.pos[k].min(v);
    }
    /// `v >= 0` (NaN must be caught by [`Valid::finite`]).
    #[inline(always)]
    pub(super) fn nonneg(&mut self, v: V) {
        let k = self.next % 2;
        self.nonneg[k] = self.nonneg[k].min(v);
    }
    /// `v` finite and `>= MIN_POSITIVE` (normal, for positive `v`).
    #[inline(always)]
    pub(super) fn normal(&mut self, v: V) {
        self.finite(v);
        self.nonneg(v - V::splat(min_positive::<V::T>()));
    }
    #[inline(always)]
    pub(super) fn ok(&self) -> bool {
        let fin = (self.fin[0] + self.fin[1]) + (self.fin[2] + self.fin[3]);
        fin.all_zero() & self.pos[0].min(self.pos[1]).all_positive() & self.nonneg[0].min(self.nonneg[1]).all_nonneg()
    }
}

/// The `D x D` matrices of `V::N` consecutive rows at `p` (row-major, `D * D` apart), in
/// `out[i][j]`: all entries, or with `lower`, at least those with `j <= i` (matrices smaller
/// than the lanes are read whole, as tiles of the flattened matrix).
#[inline(always)]
pub(super) unsafe fn load_mat<V: Tiles, const D: usize>(p: *const V::T, lower: bool, out: &mut [[V; D]; D]) {
    let len = D * D;
    if D >= V::N {
        // Row by row, up to the diagonal or whole.
        unroll!(D; i in 0..D => {
            let end = if lower { i + 1 } else { D };
            unroll!(D; t in 0..end.div_ceil(V::N) => {
                let c0 = t * V::N;
                let n = V::N.min(end - c0);
                unsafe { V::tile(p.add(i * D + c0), len, n, |c, x| out[i][c0 + c] = x) };
            });
        });
    } else {
        // Tiles of `V::N` entries of the flattened matrices.
        unroll!(D; t in 0..len.div_ceil(V::N) => {
            let f = t * V::N;
            let n = V::N.min(len - f);
            unsafe { V::tile(p.add(f), len, n, |c, x| out[(f + c) / D][(f + c) % D] = x) };
        });
    }
}

/// The length-`D` vectors of `V::N` consecutive rows at `p`.
#[inline(always)]
pub(super) unsafe fn load_vec<V: Tiles, const D: usize>(p: *const V::T) -> [V; D] {
    let mut out = [V::splat(V::T::ZERO); D];
    unroll!(D; t in 0..D.div_ceil(V::N) => {
        let f = t * V::N;
        let n = V::N.min(D - f);
        unsafe { V::tile(p.add(f), D, n, |c, x| out[f + c] = x) };
    });
    out
}

/// `½ ‖L⁻¹ (q − p)‖²` from `L`'s lower triangle and the reciprocals of its diagonal.
#[inline(always)]
pub(super) fn half_maha<V: Tiles, const D: usize>(p: &[V; D], q: &[V; D], l: &[[V; D]; D], inv: &[V; D]) -> V {
    let zero = V::splat(V::T::ZERO);
    let mut z = [zero; D];
    let mut maha = zero;
    unroll!(D; i in 0..D => {
        let mut dot = zero;
        unroll!(D; k in 0..i => {
            dot = l[i][k].mul_add(z[k], dot);
        });
        z[i] = ((q[i] - p[i]) - dot) * inv[i];
        maha = z[i].mul_add(z[i], maha);
    });
    V::splat(V::T::HALF) * maha
}
