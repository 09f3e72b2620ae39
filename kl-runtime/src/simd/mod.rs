//! The one SIMD layer of the batched kernels ([`crate::rows`], [`crate::mvn_rows`]): one set of
//! lane types, one trait family, one dispatcher.
//!
//! | module | contents |
//! |---|---|
//! | `arith` | [`Arith`] (elementwise arithmetic) and [`Bits`] (compares, selects, bit operations), also on `f32` / `f64` |
//! | `lanes` | [`Lanes`] (loads, stores, reductions, row transposes) and [`Tiles`] (strided and partial accesses, lane logarithms) |
//! | `portable` | `Arr<T, N>`, arrays of lanes, and `Many<V, D>`, `D` vectors as one |
//! | `avx2`, `avx512` | `F32x8`, `F64x4`; `F32x16`, `F64x8` |
//! | `math` | the branch-free logarithm, once, for every lane type and the scalar kernels |
//! | `dispatch` | [`Isa`], [`Arch`] (the lane types of an instruction set), [`Kernel`], [`dispatch`] |

mod arith;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod dispatch;
mod lanes;
pub(crate) mod math;
mod portable;

pub(crate) use arith::Bits;
#[cfg(test)]
pub(crate) use dispatch::on;
#[cfg(test)]
pub(crate) use dispatch::Isa;
pub(crate) use dispatch::{dispatch, Arch, Kernel};
pub(crate) use lanes::{Lanes, RowSource, Tiles};
pub(crate) use portable::Arr;

#[cfg(test)]
mod tests;

/// A hint to fetch the cache line holding `p` into the nearest cache (nothing on other
/// architectures). Never faults, whatever `p` is.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing architecturally and cannot fault.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
