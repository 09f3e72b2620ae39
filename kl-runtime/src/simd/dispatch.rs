//! The one place that decides the instruction set: [`dispatch`] runs a [`Kernel`] with the lane
//! types of the best [`Isa`] the CPU has ([`Arch`]), inside a function compiled for it.

use super::arith::Bits;
use super::lanes::{Lanes, Tiles};
use super::portable::Arr;

/// The instruction sets the kernels have lane types for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Isa {
    /// Arrays: whatever LLVM makes of them.
    Portable,
    /// AVX2 + FMA.
    Avx2,
    /// AVX-512 F, VL and DQ (with AVX2 and FMA).
    Avx512,
}

impl Isa {
    /// The best the running CPU supports.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                if has!("avx512f") && has!("avx512vl") && has!("avx512dq") {
                    return Isa::Avx512;
                }
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// Every instruction set the running CPU supports.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= Isa::detect()).collect()
    }
}

impl PartialOrd for Isa {
    fn partial_cmp(&self, o: &Isa) -> Option<core::cmp::Ordering> {
        (*self as u8).partial_cmp(&(*o as u8))
    }
}

#[cfg(test)]
thread_local! {
    /// Tests run every instruction set the CPU has, not only the best.
    static FORCE_ISA: core::cell::Cell<Option<Isa>> = const { core::cell::Cell::new(None) };
}

/// `f()` with every [`dispatch`] on this thread using `isa` (which the CPU must support).
#[cfg(test)]
pub(crate) fn on<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    assert!(isa <= Isa::detect(), "{isa:?} is not available on this CPU");
    FORCE_ISA.with(|c| c.set(Some(isa)));
    let r = f();
    FORCE_ISA.with(|c| c.set(None));
    r
}

/// The lane types of one instruction set.
pub(crate) trait Arch {
    /// The widest vectors of `f32` and `f64`.
    type F32: Lanes<T = f32> + Bits;
    type F64: Lanes<T = f64> + Bits;
    /// Half as wide (the same where the widest are the only ones), for rows that fill only
    /// those.
    type F32Half: Lanes<T = f32> + Bits;
    type F64Half: Lanes<T = f64> + Bits;
    /// Lanes that hold batch elements, with their strided accesses.
    type TilesF32: Tiles<T = f32>;
    type TilesF64: Tiles<T = f64>;
}

/// No vector instructions: arrays, one lane for the row kernels.
pub(crate) struct Portable;

impl Arch for Portable {
    type F32 = Arr<f32, 1>;
    type F64 = Arr<f64, 1>;
    type F32Half = Arr<f32, 1>;
    type F64Half = Arr<f64, 1>;
    type TilesF32 = Arr<f32, 4>;
    type TilesF64 = Arr<f64, 4>;
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Arch, Arr};
    use crate::simd::avx2::{F32x8, F64x4};
    use crate::simd::avx512::{F32x16, F64x8};

    /// AVX2 + FMA.
    pub(crate) struct Avx2;

    impl Arch for Avx2 {
        type F32 = F32x8;
        type F64 = F64x4;
        type F32Half = F32x8;
        type F64Half = F64x4;
        type TilesF32 = Arr<f32, 8>;
        type TilesF64 = F64x4;
    }

    /// AVX-512 F/VL/DQ.
    pub(crate) struct Avx512;

    impl Arch for Avx512 {
        type F32 = F32x16;
        type F64 = F64x8;
        type F32Half = F32x8;
        type F64Half = F64x4;
        type TilesF32 = Arr<f32, 16>;
        type TilesF64 = F64x8;
    }
}

/// A batched kernel, generic over the lane types of an instruction set.
pub(crate) trait Kernel {
    type Out;
    /// Runs with the lanes of `A`.
    ///
    /// # Safety
    /// The CPU supports `A`'s instruction set, and the function this is inlined into is
    /// compiled for it (what [`dispatch`] does; implementations are `#[inline(always)]`).
    unsafe fn run<A: Arch>(self) -> Self::Out;
}

/// Runs `k` with the best instruction set of the CPU (on tests' threads, the one forced by
/// [`on`]).
pub(crate) fn dispatch<K: Kernel>(k: K) -> K::Out {
    #[cfg(test)]
    let isa = FORCE_ISA.with(|f| f.get()).unwrap_or_else(Isa::detect);
    #[cfg(not(test))]
    let isa = Isa::detect();
    match isa {
        // SAFETY: detected (or forced after checking) above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { avx512(k) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { avx2(k) },
        // SAFETY: nothing to support.
        _ => unsafe { k.run::<Portable>() },
    }
}

/// # Safety
/// The CPU has AVX-512 F/VL/DQ, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
unsafe fn avx512<K: Kernel>(k: K) -> K::Out {
    // SAFETY: the caller's contract.
    unsafe { k.run::<Avx512>() }
}

/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<K: Kernel>(k: K) -> K::Out {
    // SAFETY: the caller's contract.
    unsafe { k.run::<Avx2>() }
}
