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

use crate::real::Real;
use crate::simd::{self, Arch, Arr, Kernel, Tiles};
use core::any::TypeId;

/// A batched kernel, run with some lane type whose scalar is `T`.
trait Job {
    type T: Real;
    /// # Safety
    /// `V::T` must be `Self::T`; `V`'s target features must be enabled.
    unsafe fn run<V: Tiles>(&self) -> bool;
}

fn is<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

/// A [`Job`] for [`simd::dispatch`] on the instruction set's lanes of `f64` ...
struct OnF64<'a, J>(&'a J);
/// ... and of `f32` (two kernels, so that each function compiled for an instruction set holds
/// one precision).
struct OnF32<'a, J>(&'a J);

impl<J: Job> Kernel for OnF64<'_, J> {
    type Out = bool;
    #[inline(always)]
    unsafe fn run<A: Arch>(self) -> bool {
        // SAFETY: `J::T` is `f64` (see `dispatch`); the target features are the caller's.
        unsafe { self.0.run::<A::TilesF64>() }
    }
}

impl<J: Job> Kernel for OnF32<'_, J> {
    type Out = bool;
    #[inline(always)]
    unsafe fn run<A: Arch>(self) -> bool {
        // SAFETY: `J::T` is `f32` (see `dispatch`); the target features are the caller's.
        unsafe { self.0.run::<A::TilesF32>() }
    }
}

fn dispatch<J: Job>(j: &J) -> bool {
    if is::<J::T, f64>() {
        simd::dispatch(OnF64(j))
    } else {
        simd::dispatch(OnF32(j))
    }
}

/// A batched kernel as groups of rows.
trait Groups {
    type T: Real;
    /// The batch size.
    fn rows(&self) -> usize;
    /// The input slices with their row lengths, for prefetching.
    fn inputs(&self) -> [(&[Self::T], usize); 4];
    /// Computes rows `r..r + V::N` from their inputs at `p` (each as `inputs` has them, from row
    /// `r` on); whether the fast path holds for them.
    ///
    /// # Safety
    /// As [`Job::run`]; `r + V::N <= self.rows()`, and `p[k]` valid for `V::N` rows of input `k`.
    unsafe fn group<V: Tiles>(&self, p: [*const Self::T; 4], r: usize) -> bool;
}

/// Runs `j.group::<V>` over rows `0, V::N, ..` and the scalar `j.group::<Arr<_, 1>>` over the rows
/// left over, stopping at the first `false`.
///
/// The lanes read `V::N` rows side by side; with long rows (factors of `D = 8`: 512 bytes)
/// that pattern defeats the hardware prefetchers, so the next group's inputs are prefetched
/// (into L2) while one is computed. Short rows are left to the hardware, which does better.
#[inline(always)]
unsafe fn drive<V: Tiles, J: Groups>(j: &J) -> bool {
    unsafe { drive_from::<V, J>(j, 0) }
        .is_some_and(|r| (r..j.rows()).all(|r| unsafe { j.group::<Arr<J::T, 1>>(at(j, r), r) }))
}

/// The inputs of row `r`.
#[inline(always)]
fn at<J: Groups>(j: &J, r: usize) -> [*const J::T; 4] {
    j.inputs().map(|(x, k)| x.as_ptr().wrapping_add(r * k))
}

/// Groups of `V::N` rows from row `r0` while whole groups are left: the first row not done, or
/// `None` at the first group that fails.
#[inline(always)]
unsafe fn drive_from<V: Tiles, J: Groups>(j: &J, r0: usize) -> Option<usize> {
    let b = j.rows();
    let inputs = j.inputs();
    let long_rows = inputs.iter().any(|(_, k)| k * core::mem::size_of::<J::T>() >= PREFETCH_ROW_BYTES);
    let mut r = r0;
    while r + V::N <= b {
        if long_rows && r + 2 * V::N <= b {
            for (x, k) in inputs {
                prefetch(&x[(r + V::N) * k..(r + 2 * V::N) * k]);
            }
        }
        if !unsafe { j.group::<V>(at(j, r), r) } {
            return None;
        }
        r += V::N;
    }
    Some(r)
}

/// Rows of an input at least this long make [`drive`] prefetch.
const PREFETCH_ROW_BYTES: usize = 256;

/// Asks for the cache lines of `x` to be loaded into L2.
#[inline(always)]
fn prefetch<T>(x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        let start = x.as_ptr() as usize & !63;
        let end = x.as_ptr() as usize + core::mem::size_of_val(x);
        let mut line = start;
        while line < end {
            // A prefetch never faults; the lines overlap `x`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(line as *const i8) };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

struct Tril<'a, T, const D: usize, const DIAG: bool> {
    m1: &'a [T],
    l1: &'a [T],
    m2: &'a [T],
    l2: &'a [T],
    b: usize,
    out: *mut T,
    check: bool,
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

/// The largest `D` [`tril_kl_rows`] and [`diag_tril_kl_rows`] handle (their scratch lives on
/// the stack).
pub const TRIL_MAX: usize = 64;

/// Up to this size the lanes hold batch rows (straight-line code per group of rows); above,
/// one batch row at a time with the lanes along the rows of the factors.
const ROWS_IN_LANES_MAX: usize = 8;

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
struct Valid<V> {
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
    fn new() -> Self {
        let (zero, one) = (V::splat(V::T::ZERO), V::splat(V::T::ONE));
        Valid { fin: [zero; 4], next: 0, pos: [one; 2], nonneg: [zero; 2] }
    }
    #[inline(always)]
    fn finite(&mut self, v: V) {
        // v · 0 is ±0 for finite v, else NaN.
        let k = self.next % 4;
        self.fin[k] = v.mul_add(V::splat(V::T::ZERO), self.fin[k]);
        self.next += 1;
    }
    /// `v > 0` (NaN must be caught by [`Valid::finite`]).
    #[inline(always)]
    fn positive(&mut self, v: V) {
        let k = self.next % 2;
        self.pos[k] = self.pos[k].min(v);
    }
    /// `v >= 0` (NaN must be caught by [`Valid::finite`]).
    #[inline(always)]
    fn nonneg(&mut self, v: V) {
        let k = self.next % 2;
        self.nonneg[k] = self.nonneg[k].min(v);
    }
    /// `v` finite and `>= MIN_POSITIVE` (normal, for positive `v`).
    #[inline(always)]
    fn normal(&mut self, v: V) {
        self.finite(v);
        self.nonneg(v - V::splat(min_positive::<V::T>()));
    }
    #[inline(always)]
    fn ok(&self) -> bool {
        let fin = (self.fin[0] + self.fin[1]) + (self.fin[2] + self.fin[3]);
        fin.all_zero() & self.pos[0].min(self.pos[1]).all_positive() & self.nonneg[0].min(self.nonneg[1]).all_nonneg()
    }
}

/// The `D x D` matrices of `V::N` consecutive rows at `p` (row-major, `D * D` apart), in
/// `out[i][j]`: all entries, or with `lower`, at least those with `j <= i` (matrices smaller
/// than the lanes are read whole, as tiles of the flattened matrix).
#[inline(always)]
unsafe fn load_mat<V: Tiles, const D: usize>(p: *const V::T, lower: bool, out: &mut [[V; D]; D]) {
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
unsafe fn load_vec<V: Tiles, const D: usize>(p: *const V::T) -> [V; D] {
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
fn half_maha<V: Tiles, const D: usize>(p: &[V; D], q: &[V; D], l: &[[V; D]; D], inv: &[V; D]) -> V {
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

struct Cov<'a, T, const D: usize> {
    m1: &'a [T],
    c1: &'a [T],
    m2: &'a [T],
    c2: &'a [T],
    b: usize,
    out: *mut T,
    check: bool,
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

/// The largest `D` [`cov_kl_rows`] handles (its scratch lives on the stack).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{on, Isa};
    use crate::{cholesky_n, cov_kl, diag_tril_kl_n, mvn_kl_tril_n};

    /// Every instruction set this CPU can run.
    fn isas() -> Vec<Isa> {
        Isa::available()
    }

    use crate::testing::SplitMix64 as Rng;

    /// `b` well-conditioned factors with garbage (huge values, NaN) above the diagonal.
    fn trils(r: &mut Rng, b: usize, d: usize) -> Vec<f64> {
        r.trils_above(b, d, |i, j| if (i + j) % 2 == 0 { f64::NAN } else { 1e300 })
    }

    fn cast<T: Real>(v: &[f64]) -> Vec<T> {
        v.iter().map(|&x| T::from_f64(x)).collect()
    }

    fn arr<T: Real, const D: usize>(p: &[T]) -> [T; D] {
        core::array::from_fn(|i| p[i])
    }

    fn mat<T: Real, const D: usize>(p: &[T]) -> [[T; D]; D] {
        core::array::from_fn(|i| core::array::from_fn(|j| p[i * D + j]))
    }

    /// The scalar kernels' value for row `r`: `None` where they fail (cov: a Cholesky).
    fn reference<T: Real, const D: usize>(kind: Kind, x: &[Vec<T>; 4], r: usize) -> Option<T> {
        let [m1, p1, m2, p2] = x;
        let (m1, m2) = (arr::<T, D>(&m1[r * D..]), arr::<T, D>(&m2[r * D..]));
        let dd = D * D;
        match kind {
            Kind::Tril => Some(mvn_kl_tril_n(&m1, &mat(&p1[r * dd..]), &m2, &mat(&p2[r * dd..]))),
            Kind::Diag => Some(diag_tril_kl_n(&m1, &arr(&p1[r * D..]), &m2, &mat(&p2[r * dd..]))),
            Kind::Cov => {
                let (c1, c2) = (&p1[r * dd..(r + 1) * dd], &p2[r * dd..(r + 1) * dd]);
                let l = cholesky_n::<T, D>(&mat(c2)).ok()?;
                let l: Vec<T> = l.iter().flatten().copied().collect();
                let mut scratch = vec![T::ZERO; dd + D];
                cov_kl(&m1, c1, &m2, c2, &l, D, &mut scratch).ok()
            }
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Kind {
        Tril,
        Diag,
        Cov,
    }

    /// A batched kernel's signature.
    type Kernel<T> = fn(&[T], &[T], &[T], &[T], &mut [T], bool) -> bool;

    fn kernel<T: Real, const D: usize>(kind: Kind) -> Kernel<T> {
        match kind {
            Kind::Tril => tril_kl_rows::<T, D>,
            Kind::Diag => diag_tril_kl_rows::<T, D>,
            Kind::Cov => cov_kl_rows::<T, D>,
        }
    }

    /// Random valid inputs of `b` rows, `[m1, l1 | s1 | c1, m2, l2 | c2]`.
    fn inputs(kind: Kind, b: usize, d: usize, seed: u64) -> [Vec<f64>; 4] {
        let mut r = Rng(seed);
        let (m1, m2) = (r.vec(b * d, -1.0, 1.0), r.vec(b * d, -1.0, 1.0));
        match kind {
            Kind::Tril => [m1, trils(&mut r, b, d), m2, trils(&mut r, b, d)],
            Kind::Diag => [m1, r.vec(b * d, 0.5, 2.0), m2, trils(&mut r, b, d)],
            Kind::Cov => [m1, r.covs(b, d), m2, r.covs(b, d)],
        }
    }

    fn rel_tol<T: Real>() -> f64 {
        if is::<T, f32>() {
            1e-5
        } else {
            1e-14
        }
    }

    /// Runs `kind` on `x` with every instruction set and both `check` values, and compares every
    /// row with the scalar kernels within `tol` (relative).
    fn agrees<T: Real, const D: usize>(kind: Kind, x: &[Vec<T>; 4], tol: f64) {
        let b = x[0].len() / D.max(1);
        let want: Vec<T> = (0..b).map(|r| reference::<T, D>(kind, x, r).expect("valid input")).collect();
        for isa in isas() {
            for check in [true, false] {
                let mut out = vec![T::NAN; b];
                let ok = on(isa, || kernel::<T, D>(kind)(&x[0], &x[1], &x[2], &x[3], &mut out, check));
                assert!(ok, "{kind:?} {} d={D} b={b} {isa:?} check={check}: false", T::NAME);
                for (r, (&got, &want)) in out.iter().zip(&want).enumerate() {
                    let (g, w) = (got.to_f64(), want.to_f64());
                    let err = if g == w { 0.0 } else { ((g - w) / w).abs() };
                    assert!(
                        err <= tol,
                        "{kind:?} {} d={D} b={b} {isa:?} check={check} row {r}: {g:e} vs {w:e} (rel {err:e})",
                        T::NAME
                    );
                }
            }
        }
    }

    fn agrees_all_sizes<T: Real, const D: usize>(kind: Kind) {
        for b in [0, 1, 3, 7, 8, 17, 1001] {
            let x = inputs(kind, b, D, 1000 * D as u64 + b as u64);
            agrees::<T, D>(kind, &[cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])], rel_tol::<T>());
        }
    }

    macro_rules! agree_tests {
        ($($name:ident: $kind:expr, [$($d:literal),*];)*) => {$(
            #[test]
            fn $name() {
                $(
                    agrees_all_sizes::<f64, $d>($kind);
                    agrees_all_sizes::<f32, $d>($kind);
                )*
            }
        )*};
    }

    agree_tests! {
        tril_agrees_with_the_scalar_kernel: Kind::Tril, [1, 2, 3, 4, 5, 8, 9, 32];
        diag_tril_agrees_with_the_scalar_kernel: Kind::Diag, [1, 2, 3, 4, 5, 8, 13];
        cov_agrees_with_the_scalar_kernel: Kind::Cov, [1, 2, 3, 4, 5, 8, 12];
    }

    #[test]
    fn sizes_beyond_the_fast_path_give_false() {
        let mut out = vec![0.0; 2];
        let (m, l) = (vec![0.0; 2 * 17], vec![1.0; 2 * 17 * 17]);
        assert!(!cov_kl_rows::<f64, 17>(&m, &l, &m, &l, &mut out, false));
        let (m, l) = (vec![0.0; 2 * 65], vec![1.0; 2 * 65 * 65]);
        assert!(!tril_kl_rows::<f64, 65>(&m, &l, &m, &l, &mut out, false));
    }

    /// `b` rows of valid `kind` inputs with `spoil` applied to row `r`: the kernels must report
    /// `false` with `check` (and, `always`, without).
    fn rejects<T: Real, const D: usize>(
        kind: Kind,
        what: &str,
        always: bool,
        spoil: impl Fn(&mut [Vec<f64>; 4], usize),
    ) {
        let b = 19;
        for r in [0, 5, 15, 16, 18] {
            let mut x = inputs(kind, b, D, 77 + r as u64);
            spoil(&mut x, r);
            let x: [Vec<T>; 4] = [cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])];
            for isa in isas() {
                for check in [true, false] {
                    let mut out = vec![T::ZERO; b];
                    let ok = on(isa, || kernel::<T, D>(kind)(&x[0], &x[1], &x[2], &x[3], &mut out, check));
                    if check || always {
                        assert!(!ok, "{kind:?} {} d={D} {isa:?} check={check}: {what} at row {r} accepted", T::NAME);
                    }
                }
            }
        }
    }

    fn rejects_invalid<T: Real, const D: usize>() {
        let (d, dd) = (D, D * D);
        // Means.
        for kind in [Kind::Tril, Kind::Diag, Kind::Cov] {
            rejects::<T, D>(kind, "NaN in m1", false, |x, r| x[0][r * d + d - 1] = f64::NAN);
            rejects::<T, D>(kind, "inf in m2", false, |x, r| x[2][r * d] = f64::INFINITY);
        }
        // Factors: only the lower triangle counts.
        for kind in [Kind::Tril, Kind::Diag] {
            rejects::<T, D>(kind, "zero diagonal in L2", false, |x, r| x[3][r * dd + dd - 1] = 0.0);
            rejects::<T, D>(kind, "negative diagonal in L2", false, |x, r| x[3][r * dd] = -1.0);
            if D > 1 {
                rejects::<T, D>(kind, "NaN below the diagonal of L2", false, |x, r| x[3][r * dd + d] = f64::NAN);
                rejects::<T, D>(kind, "inf below the diagonal of L2", false, |x, r| {
                    x[3][r * dd + dd - 2] = f64::NEG_INFINITY
                });
            }
        }
        rejects::<T, D>(Kind::Tril, "zero diagonal in L1", false, |x, r| x[1][r * dd + (d / 2) * (d + 1)] = 0.0);
        rejects::<T, D>(Kind::Tril, "NaN diagonal in L1", false, |x, r| x[1][r * dd] = f64::NAN);
        if D > 1 {
            rejects::<T, D>(Kind::Tril, "NaN below the diagonal of L1", false, |x, r| {
                x[1][r * dd + (d - 1) * d] = f64::NAN
            });
        }
        rejects::<T, D>(Kind::Diag, "zero s1", false, |x, r| x[1][r * d + d - 1] = 0.0);
        rejects::<T, D>(Kind::Diag, "negative s1", false, |x, r| x[1][r * d] = -0.5);
        rejects::<T, D>(Kind::Diag, "NaN s1", false, |x, r| x[1][r * d] = f64::NAN);
        // Covariances.
        rejects::<T, D>(Kind::Cov, "NaN in C1", false, |x, r| x[1][r * dd + dd - 1] = f64::NAN);
        rejects::<T, D>(Kind::Cov, "inf in C2", false, |x, r| x[3][r * dd] = f64::INFINITY);
        if D > 1 {
            // Only an upper-triangle entry: symmetry (and finiteness) must read it.
            rejects::<T, D>(Kind::Cov, "NaN above the diagonal of C2", false, |x, r| x[3][r * dd + 1] = f64::NAN);
            rejects::<T, D>(Kind::Cov, "non-symmetric C1", false, |x, r| x[1][r * dd + d] *= 1.0 + 1e-4);
            rejects::<T, D>(Kind::Cov, "non-symmetric C2", false, |x, r| x[3][r * dd + 1] += 0.25);
            // Symmetric but indefinite: a large off-diagonal pair.
            rejects::<T, D>(Kind::Cov, "indefinite C1", false, |x, r| {
                x[1][r * dd + d] = 10.0;
                x[1][r * dd + 1] = 10.0;
            });
            rejects::<T, D>(Kind::Cov, "indefinite C2", true, |x, r| {
                x[3][r * dd + dd - 2] = 10.0;
                x[3][r * dd + dd - 1 - d] = 10.0;
            });
        }
        rejects::<T, D>(Kind::Cov, "negative diagonal in C1", false, |x, r| x[1][r * dd] = -1.0);
        rejects::<T, D>(Kind::Cov, "zero C2", true, |x, r| x[3][r * dd..(r + 1) * dd].fill(0.0));
    }

    #[test]
    fn check_rejects_every_invalid_value() {
        rejects_invalid::<f64, 1>();
        rejects_invalid::<f64, 2>();
        rejects_invalid::<f64, 3>();
        rejects_invalid::<f64, 4>();
        rejects_invalid::<f64, 8>();
        rejects_invalid::<f32, 3>();
        rejects_invalid::<f32, 4>();
    }

    #[test]
    fn check_rejects_invalid_values_of_large_factors() {
        let (d, dd) = (32, 32 * 32);
        rejects::<f64, 32>(Kind::Tril, "NaN in m1", false, |x, r| x[0][r * d + 17] = f64::NAN);
        rejects::<f64, 32>(Kind::Tril, "zero diagonal in L1", false, |x, r| x[1][r * dd + 9 * 33] = 0.0);
        rejects::<f64, 32>(Kind::Tril, "negative diagonal in L2", false, |x, r| x[3][r * dd + 31 * 33] = -1.0);
        rejects::<f64, 32>(Kind::Tril, "NaN below the diagonal of L1", false, |x, r| {
            x[1][r * dd + 31 * 32 + 30] = f64::NAN
        });
        rejects::<f64, 32>(Kind::Tril, "inf below the diagonal of L2", false, |x, r| {
            x[3][r * dd + 12 * 32 + 3] = f64::INFINITY
        });
        rejects::<f32, 32>(Kind::Tril, "NaN in m2", false, |x, r| x[2][r * d + 31] = f64::NAN);
    }

    /// Identical distributions: exactly zero, on every path.
    fn identical<T: Real, const D: usize>(kind: Kind) {
        for b in [1, 7, 8, 19] {
            let mut x = inputs(kind, b, D, 5);
            x[2] = x[0].clone();
            match kind {
                Kind::Tril | Kind::Cov => x[3] = x[1].clone(),
                Kind::Diag => {
                    // L2 = diag(s1) (garbage above the diagonal is not read).
                    for r in 0..b {
                        for i in 0..D {
                            for j in 0..i {
                                x[3][r * D * D + i * D + j] = 0.0;
                            }
                            x[3][r * D * D + i * D + i] = x[1][r * D + i];
                        }
                    }
                }
            }
            let x: [Vec<T>; 4] = [cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])];
            for isa in isas() {
                for check in [true, false] {
                    let mut out = vec![T::NAN; b];
                    let ok = on(isa, || kernel::<T, D>(kind)(&x[0], &x[1], &x[2], &x[3], &mut out, check));
                    assert!(ok && out.iter().all(|&v| v == T::ZERO), "{kind:?} {} d={D} {isa:?}: {out:?}", T::NAME);
                }
            }
        }
    }

    #[test]
    fn identical_distributions_give_exactly_zero() {
        for kind in [Kind::Tril, Kind::Diag, Kind::Cov] {
            identical::<f64, 1>(kind);
            identical::<f64, 3>(kind);
            identical::<f64, 4>(kind);
            identical::<f64, 8>(kind);
            identical::<f32, 3>(kind);
            identical::<f32, 5>(kind);
        }
        identical::<f64, 32>(Kind::Tril);
        identical::<f64, 32>(Kind::Diag);
        identical::<f32, 32>(Kind::Tril);
    }

    /// Near-equal pairs: relative perturbations of `eps`; the batched kernels keep the relative
    /// accuracy of the scalar ones.
    fn near_equal<const D: usize>(kind: Kind, eps: f64) {
        let b = 19;
        let mut x = inputs(kind, b, D, 11);
        let mut rng = Rng(12);
        x[2] = x[0].iter().map(|&m| m + eps * rng.uniform(-1.0, 1.0)).collect();
        match kind {
            Kind::Tril => x[3] = x[1].iter().map(|&l| l * (1.0 + eps * rng.uniform(-1.0, 1.0))).collect(),
            Kind::Diag => {
                for r in 0..b {
                    for i in 0..D {
                        for j in 0..i {
                            x[3][r * D * D + i * D + j] = eps * rng.uniform(-1.0, 1.0);
                        }
                        x[3][r * D * D + i * D + i] = x[1][r * D + i] * (1.0 + eps * rng.uniform(-1.0, 1.0));
                    }
                }
            }
            Kind::Cov => {
                let mut c = x[1].clone();
                for r in 0..b {
                    for i in 0..D {
                        for j in 0..=i {
                            let e = 1.0 + eps * rng.uniform(-1.0, 1.0);
                            c[r * D * D + i * D + j] *= e;
                            c[r * D * D + j * D + i] = c[r * D * D + i * D + j];
                        }
                    }
                }
                x[3] = c;
            }
        }
        agrees::<f64, D>(kind, &x, 1e-12);
    }

    #[test]
    fn near_equal_pairs_keep_relative_accuracy() {
        for eps in [1e-9, 1e-6] {
            for kind in [Kind::Tril, Kind::Diag, Kind::Cov] {
                near_equal::<1>(kind, eps);
                near_equal::<3>(kind, eps);
                near_equal::<4>(kind, eps);
                near_equal::<8>(kind, eps);
            }
            near_equal::<32>(Kind::Tril, eps);
            near_equal::<32>(Kind::Diag, eps);
        }
    }

    #[test]
    fn covariances_asymmetric_within_the_tolerance_are_accepted() {
        let b = 19;
        let mut x = inputs(Kind::Cov, b, 4, 3);
        for r in 0..b {
            x[1][r * 16 + 1] *= 1.0 + 1e-10;
            x[3][r * 16 + 14] *= 1.0 - 1e-10;
        }
        agrees::<f64, 4>(Kind::Cov, &x, 1e-14);
    }

    #[test]
    fn extreme_scale_ratios_are_right_or_refused() {
        // Diagonal ratios of 1e-300 / 1e200 leave the lanes' normal range: `false` is allowed
        // there, a wrong value is not.
        let b = 19;
        let mut x = inputs(Kind::Tril, b, 3, 9);
        for r in 0..b {
            x[1][r * 9] = 1e-300;
            x[3][r * 9 + 4] = 1e200;
        }
        for isa in isas() {
            let mut out = vec![0.0; b];
            if on(isa, || tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out, true)) {
                for r in 0..b {
                    let want = reference::<f64, 3>(Kind::Tril, &x, r).unwrap();
                    assert!(((out[r] - want) / want).abs() < 1e-14, "{isa:?} row {r}: {} vs {want}", out[r]);
                }
            }
        }
    }

    #[test]
    fn inconsistent_lengths_give_false() {
        let x = inputs(Kind::Tril, 5, 3, 1);
        let mut out = vec![0.0; 5];
        assert!(tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out, true));
        assert!(!tril_kl_rows::<f64, 3>(&x[0][..14], &x[1], &x[2], &x[3], &mut out, true));
        assert!(!tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3][..44], &mut out, false));
        assert!(!tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out[..4], false));
        assert!(!diag_tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out, true));
        assert!(!cov_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3][..9], &mut out, true));
        // A zero-sized event: every KL is zero.
        let mut out = vec![1.0; 4];
        assert!(tril_kl_rows::<f64, 0>(&[], &[], &[], &[], &mut out, true) && out == [0.0; 4]);
    }
}
