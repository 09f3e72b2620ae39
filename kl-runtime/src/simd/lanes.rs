//! Lane vectors in memory: loads, stores, reductions and predicates ([`Lanes`], what every
//! batched kernel needs) and the strided and partial accesses of the multivariate kernels, which
//! hold one batch element per lane ([`Tiles`]).

use super::arith::Arith;
use crate::real::Real;

/// `N` values of `T` in one vector: loads, stores, reductions and predicates.
///
/// # Safety
/// As [`Arith`].
pub(crate) unsafe trait Lanes: Arith<T: Real> {
    const N: usize;
    /// Lanes `k < N` from `*p.add(k)`.
    ///
    /// # Safety
    /// `p..p + N` must be valid for reads.
    unsafe fn load(p: *const Self::T) -> Self;
    /// Lane `k` to `*p.add(k)`.
    ///
    /// # Safety
    /// `p..p + N` must be valid for writes.
    unsafe fn store(self, p: *mut Self::T);
    /// The sum of the lanes.
    fn sum(self) -> Self::T;
    /// Whether every lane is `== 0`.
    fn all_zero(self) -> bool;
    /// Whether every lane is `> 0` (NaN is not).
    fn all_positive(self) -> bool;
    /// Whether every lane is `>= 0` (NaN is not).
    fn all_nonneg(self) -> bool;
    /// Lane `i` of the result is the sum of the lanes of `row(i)`, for `i < N` (the rows
    /// produced in order, kept in registers).
    #[inline(always)]
    fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
        let mut out = [<Self::T as Real>::ZERO; 64];
        for (i, o) in out.iter_mut().enumerate().take(Self::N) {
            *o = row.row(i).sum();
        }
        // SAFETY: `N <= 64` lanes are readable.
        unsafe { Self::load(out.as_ptr()) }
    }
    /// How many roundings a value passes on its way from a row's lanes to its lane of
    /// [`Lanes::transpose_sum`]: `N − 1` for the sequential sum of the default, the depth of the
    /// tree where the sum is one. Error bounds read it.
    const SUM_DEPTH: usize = Self::N - 1;
    /// The largest lane (a NaN lane may be skipped).
    #[inline(always)]
    fn max_lane(self) -> Self::T {
        let mut a = [<Self::T as Real>::ZERO; 64];
        // SAFETY: `N <= 64` lanes are writable.
        unsafe { self.store(a.as_mut_ptr()) };
        a[1..Self::N].iter().fold(a[0], |m, &v| if v > m { v } else { m })
    }
    /// Whether [`Lanes::transpose_sum_pairs`] is implemented.
    const PAIRS: bool = false;
    /// Like [`Lanes::transpose_sum`] for rows of `N / 2` lanes: `row(j)`, `j < N / 2`, holds rows
    /// `2j` (low half) and `2j + 1` (high half).
    fn transpose_sum_pairs(_row: &mut impl RowSource<Self>) -> Self {
        unreachable!("no pair reduction for this lane type")
    }
}

/// Produces the row vectors of a block for [`Lanes::transpose_sum`] (a trait, not a closure:
/// closures do not inherit the target features of the function they are written in, and the
/// intrinsics would not be inlined into them).
pub(crate) trait RowSource<V> {
    /// The lanes of row `r` of the block (summing to the row's value).
    fn row(&mut self, r: usize) -> V;
}

/// Rows already computed, for a narrower transpose.
pub(crate) struct Computed<V, const M: usize>(pub [V; M]);

impl<V: Copy, const M: usize> RowSource<V> for Computed<V, M> {
    #[inline(always)]
    fn row(&mut self, r: usize) -> V {
        self.0[r]
    }
}

/// [`Lanes`] with the strided and partial accesses, and the logarithms, of kernels whose lanes
/// hold different batch elements.
///
/// # Safety
/// As [`Arith`].
pub(crate) unsafe trait Tiles: Lanes {
    /// Lane `k` from `*p.add(k * stride)`.
    ///
    /// # Safety
    /// Every read address must be valid.
    unsafe fn gather(p: *const Self::T, stride: usize) -> Self;
    /// Columns `0..n` (`n <= N`) of the `N x n` block whose lane-`k` row starts at
    /// `p.add(k * stride)`: `f(c, column c)`. Reads nothing outside the block.
    ///
    /// # Safety
    /// Every `p.add(k * stride + c)`, `k < N`, `c < n`, must be valid for reads.
    unsafe fn tile(p: *const Self::T, stride: usize, n: usize, f: impl FnMut(usize, Self));
    /// Lanes `k < n` (`n <= N`) from `*p.add(k)`, the others zero; reads nothing else.
    ///
    /// # Safety
    /// `p..p + n` must be valid for reads.
    unsafe fn load_n(p: *const Self::T, n: usize) -> Self;
    /// Lanes `k < n` (`n <= N`) to `*p.add(k)`; writes nothing else.
    ///
    /// # Safety
    /// `p..p + n` must be valid for writes.
    unsafe fn store_n(self, p: *mut Self::T, n: usize);
    /// Lanes `k < n` kept, the others zero.
    fn first(self, n: usize) -> Self;
    /// Lanes `lo <= k < hi` (`hi <= N`) from `*p.add(k)`, the others zero; reads nothing else
    /// (`p` itself may point before the readable memory).
    ///
    /// # Safety
    /// `p.wrapping_add(lo)..p.wrapping_add(hi)` must be valid for reads.
    unsafe fn load_range(p: *const Self::T, lo: usize, hi: usize) -> Self;
    /// Lane `k` (`< N`) replaced by `v`.
    fn with_lane(self, k: usize, v: Self::T) -> Self;
    /// [`crate::scalar::scale_ratio_term`]`(a[j], b[j])` per lane, within a few ulp, given
    /// `inv_b[j] = 1 / b[j]`; and values that must be finite and `>= MIN_POSITIVE` (the ratios
    /// `|a / b|`) for the results to be right: the lane kernels handle the normal range only.
    /// All `D` at once, so that their dependency chains interleave.
    fn scale_ratio_terms<const D: usize>(a: &[Self; D], b: &[Self; D], inv_b: &[Self; D]) -> ([Self; D], [Self; D]);
    /// `-log1pmx(x) = x - ln(y)` per lane, `y = 1 + x > 0` given (exactly, or more accurately
    /// than `1 + x` rounds: a pivot computed directly; [`crate::scalar::log1pmx`] within a few
    /// ulp), all `D` at once.
    fn neg_log1pmx<const D: usize>(x: &[Self; D], y: &[Self; D]) -> [Self; D];
}
