//! Running a batched kernel: the instruction set's lanes for its precision ([`dispatch`]), and
//! its groups of rows over the batch ([`drive`]).

use crate::real::Real;
use crate::simd::{self, Arch, Arr, Kernel, Tiles};
use core::any::TypeId;

/// A batched kernel, run with some lane type whose scalar is `T`.
pub(super) trait Job {
    type T: Real;
    /// # Safety
    /// `V::T` must be `Self::T`; `V`'s target features must be enabled.
    unsafe fn run<V: Tiles>(&self) -> bool;
}

pub(super) fn is<A: 'static, B: 'static>() -> bool {
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

pub(super) fn dispatch<J: Job>(j: &J) -> bool {
    if is::<J::T, f64>() {
        simd::dispatch(OnF64(j))
    } else {
        simd::dispatch(OnF32(j))
    }
}

/// Up to this size the lanes hold batch rows (straight-line code per group of rows); above,
/// one batch row at a time with the lanes along the rows of the factors.
pub(super) const ROWS_IN_LANES_MAX: usize = 8;

/// A batched kernel as groups of rows.
pub(super) trait Groups {
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
pub(super) unsafe fn drive<V: Tiles, J: Groups>(j: &J) -> bool {
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
