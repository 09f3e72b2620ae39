//! AVX2 + FMA lanes: [`F32x8`] and [`F64x4`] in `ymm` registers.
//!
//! SAFETY (every `unsafe` block in this file): the methods are only reached from functions
//! compiled with AVX2 and FMA enabled ([`super::dispatch`]); pointer arguments follow the
//! traits' contracts.

use super::arith::{Arith, Bits};
use super::lanes::{Lanes, RowSource, Tiles};
use super::portable::Many;
use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Neg, Sub};

/// Eight `f32` lanes.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub(crate) struct F32x8(pub(crate) __m256);

/// Four `f64` lanes.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub(crate) struct F64x4(pub(crate) __m256d);

/// `+ - * /` and `-x` by intrinsics; used by the AVX-512 lanes too.
macro_rules! ops {
    ($ty:ident, $add:ident, $sub:ident, $mul:ident, $div:ident, neg = |$x:ident| $neg:expr) => {
        impl Add for $ty {
            type Output = Self;
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                $ty(unsafe { $add(self.0, o.0) })
            }
        }
        impl Sub for $ty {
            type Output = Self;
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                $ty(unsafe { $sub(self.0, o.0) })
            }
        }
        impl Mul for $ty {
            type Output = Self;
            #[inline(always)]
            fn mul(self, o: Self) -> Self {
                $ty(unsafe { $mul(self.0, o.0) })
            }
        }
        impl Div for $ty {
            type Output = Self;
            #[inline(always)]
            fn div(self, o: Self) -> Self {
                $ty(unsafe { $div(self.0, o.0) })
            }
        }
        impl Neg for $ty {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                let $x = self.0;
                $ty(unsafe { $neg })
            }
        }
    };
}
pub(super) use ops;

ops!(
    F32x8,
    _mm256_add_ps,
    _mm256_sub_ps,
    _mm256_mul_ps,
    _mm256_div_ps,
    neg = |x| _mm256_xor_ps(x, _mm256_set1_ps(-0.0))
);
ops!(
    F64x4,
    _mm256_add_pd,
    _mm256_sub_pd,
    _mm256_mul_pd,
    _mm256_div_pd,
    neg = |x| _mm256_xor_pd(x, _mm256_set1_pd(-0.0))
);

unsafe impl Arith for F32x8 {
    type T = f32;
    const FUSED: bool = true;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        F32x8(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F32x8(unsafe { _mm256_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        F32x8(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        F32x8(unsafe { _mm256_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        F32x8(unsafe { _mm256_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        F32x8(unsafe { _mm256_fmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn neg_mul_add(self, a: Self, b: Self) -> Self {
        F32x8(unsafe { _mm256_fnmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        Self::splat(1.0) / self.sqrt()
    }
}

unsafe impl Bits for F32x8 {
    const MANT: u32 = 23;
    const BIAS: u64 = 127;
    const TERMS: usize = <f32 as Bits>::TERMS;
    type M = __m256;
    #[inline(always)]
    fn of(x: f64) -> Self {
        Self::splat(x as f32)
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __m256 {
        unsafe { _mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __m256 {
        unsafe { _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn select(m: __m256, a: Self, b: Self) -> Self {
        F32x8(unsafe { _mm256_blendv_ps(b.0, a.0, m) })
    }
    #[inline(always)]
    fn add_bits(self, c: u64) -> Self {
        F32x8(unsafe {
            _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(self.0), _mm256_set1_epi32(c as i32)))
        })
    }
    #[inline(always)]
    fn add_int(self, o: Self) -> Self {
        F32x8(unsafe { _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(self.0), _mm256_castps_si256(o.0))) })
    }
    #[inline(always)]
    fn and_bits(self, c: u64) -> Self {
        F32x8(unsafe { _mm256_and_ps(self.0, _mm256_castsi256_ps(_mm256_set1_epi32(c as i32))) })
    }
    #[inline(always)]
    fn or_bits(self, c: u64) -> Self {
        F32x8(unsafe { _mm256_or_ps(self.0, _mm256_castsi256_ps(_mm256_set1_epi32(c as i32))) })
    }
    #[inline(always)]
    fn shr_mant(self) -> Self {
        F32x8(unsafe { _mm256_castsi256_ps(_mm256_srli_epi32::<23>(_mm256_castps_si256(self.0))) })
    }
    #[inline(always)]
    fn shl_mant(self) -> Self {
        F32x8(unsafe { _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(self.0))) })
    }
}

unsafe impl Lanes for F32x8 {
    const N: usize = 8;
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        F32x8(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    fn sum(self) -> f32 {
        let mut a = [0.0_f32; 8];
        unsafe { _mm256_storeu_ps(a.as_mut_ptr(), self.0) };
        ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
    }
    #[inline(always)]
    fn all_zero(self) -> bool {
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, _mm256_setzero_ps())) == 0xff }
    }
    #[inline(always)]
    fn all_positive(self) -> bool {
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(self.0, _mm256_setzero_ps())) == 0xff }
    }
    #[inline(always)]
    fn all_nonneg(self) -> bool {
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(self.0, _mm256_setzero_ps())) == 0xff }
    }
    /// Two `hadd` levels and the add of the halves.
    const SUM_DEPTH: usize = 3;
    #[inline(always)]
    fn max_lane(self) -> f32 {
        unsafe {
            let h = _mm_max_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
            let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            _mm_cvtss_f32(_mm_max_ss(h, _mm_shuffle_ps::<1>(h, h)))
        }
    }
    #[inline(always)]
    fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
        let r = [row.row(0), row.row(1), row.row(2), row.row(3), row.row(4), row.row(5), row.row(6), row.row(7)];
        unsafe {
            let h01 = _mm256_hadd_ps(r[0].0, r[1].0);
            let h23 = _mm256_hadd_ps(r[2].0, r[3].0);
            let h45 = _mm256_hadd_ps(r[4].0, r[5].0);
            let h67 = _mm256_hadd_ps(r[6].0, r[7].0);
            let a = _mm256_hadd_ps(h01, h23);
            let b = _mm256_hadd_ps(h45, h67);
            F32x8(_mm256_add_ps(_mm256_permute2f128_ps::<0x20>(a, b), _mm256_permute2f128_ps::<0x31>(a, b)))
        }
    }
}

unsafe impl Arith for F64x4 {
    type T = f64;
    const FUSED: bool = true;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        F64x4(unsafe { _mm256_set1_pd(x) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F64x4(unsafe { _mm256_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        F64x4(unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        F64x4(unsafe { _mm256_min_pd(self.0, o.0) })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        F64x4(unsafe { _mm256_max_pd(self.0, o.0) })
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        F64x4(unsafe { _mm256_fmadd_pd(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn neg_mul_add(self, a: Self, b: Self) -> Self {
        F64x4(unsafe { _mm256_fnmadd_pd(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        Self::splat(1.0) / self.sqrt()
    }
}

unsafe impl Bits for F64x4 {
    const MANT: u32 = 52;
    const BIAS: u64 = 1023;
    const TERMS: usize = <f64 as Bits>::TERMS;
    type M = __m256d;
    #[inline(always)]
    fn of(x: f64) -> Self {
        Self::splat(x)
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn select(m: __m256d, a: Self, b: Self) -> Self {
        F64x4(unsafe { _mm256_blendv_pd(b.0, a.0, m) })
    }
    #[inline(always)]
    fn add_bits(self, c: u64) -> Self {
        F64x4(unsafe {
            _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(self.0), _mm256_set1_epi64x(c as i64)))
        })
    }
    #[inline(always)]
    fn add_int(self, o: Self) -> Self {
        F64x4(unsafe { _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(self.0), _mm256_castpd_si256(o.0))) })
    }
    #[inline(always)]
    fn and_bits(self, c: u64) -> Self {
        F64x4(unsafe { _mm256_and_pd(self.0, _mm256_castsi256_pd(_mm256_set1_epi64x(c as i64))) })
    }
    #[inline(always)]
    fn or_bits(self, c: u64) -> Self {
        F64x4(unsafe { _mm256_or_pd(self.0, _mm256_castsi256_pd(_mm256_set1_epi64x(c as i64))) })
    }
    #[inline(always)]
    fn shr_mant(self) -> Self {
        F64x4(unsafe { _mm256_castsi256_pd(_mm256_srli_epi64::<52>(_mm256_castpd_si256(self.0))) })
    }
    #[inline(always)]
    fn shl_mant(self) -> Self {
        F64x4(unsafe { _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_castpd_si256(self.0))) })
    }
}

/// The `maskload` mask of the first `n <= 4` lanes.
#[inline(always)]
fn mask4(n: usize) -> __m256i {
    unsafe { _mm256_setr_epi64x(-((n > 0) as i64), -((n > 1) as i64), -((n > 2) as i64), -((n > 3) as i64)) }
}

unsafe impl Lanes for F64x4 {
    const N: usize = 4;
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        F64x4(unsafe { _mm256_loadu_pd(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        unsafe { _mm256_storeu_pd(p, self.0) }
    }
    #[inline(always)]
    fn sum(self) -> f64 {
        unsafe {
            let s = _mm_add_pd(_mm256_castpd256_pd128(self.0), _mm256_extractf128_pd::<1>(self.0));
            _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
        }
    }
    #[inline(always)]
    fn all_zero(self) -> bool {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, _mm256_setzero_pd())) == 0xf }
    }
    #[inline(always)]
    fn all_positive(self) -> bool {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GT_OQ>(self.0, _mm256_setzero_pd())) == 0xf }
    }
    #[inline(always)]
    fn all_nonneg(self) -> bool {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(self.0, _mm256_setzero_pd())) == 0xf }
    }
    #[inline(always)]
    fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
        let r = [row.row(0), row.row(1), row.row(2), row.row(3)];
        unsafe {
            let h01 = _mm256_hadd_pd(r[0].0, r[1].0);
            let h23 = _mm256_hadd_pd(r[2].0, r[3].0);
            F64x4(_mm256_add_pd(_mm256_permute2f128_pd::<0x20>(h01, h23), _mm256_permute2f128_pd::<0x31>(h01, h23)))
        }
    }
}

unsafe impl Tiles for F64x4 {
    #[inline(always)]
    unsafe fn gather(p: *const f64, stride: usize) -> Self {
        let s = stride;
        F64x4(unsafe { _mm256_setr_pd(*p, *p.add(s), *p.add(2 * s), *p.add(3 * s)) })
    }
    #[inline(always)]
    unsafe fn tile(p: *const f64, stride: usize, n: usize, mut f: impl FnMut(usize, Self)) {
        debug_assert!(n <= 4);
        let load = |k: usize| unsafe { Self::load_n(p.add(k * stride), n).0 };
        let (r0, r1, r2, r3) = (load(0), load(1), load(2), load(3));
        unsafe {
            let (t0, t1) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
            let (t2, t3) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
            let cols = [
                _mm256_permute2f128_pd::<0x20>(t0, t2),
                _mm256_permute2f128_pd::<0x20>(t1, t3),
                _mm256_permute2f128_pd::<0x31>(t0, t2),
                _mm256_permute2f128_pd::<0x31>(t1, t3),
            ];
            for (c, &v) in cols.iter().enumerate().take(n) {
                f(c, F64x4(v));
            }
        }
    }
    #[inline(always)]
    unsafe fn load_n(p: *const f64, n: usize) -> Self {
        F64x4(unsafe {
            if n >= 4 {
                _mm256_loadu_pd(p)
            } else {
                _mm256_maskload_pd(p, mask4(n))
            }
        })
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f64, n: usize) {
        unsafe {
            if n >= 4 {
                _mm256_storeu_pd(p, self.0)
            } else {
                _mm256_maskstore_pd(p, mask4(n), self.0)
            }
        }
    }
    #[inline(always)]
    fn first(self, n: usize) -> Self {
        if n >= 4 {
            self
        } else {
            F64x4(unsafe { _mm256_and_pd(self.0, _mm256_castsi256_pd(mask4(n))) })
        }
    }
    #[inline(always)]
    unsafe fn load_range(p: *const f64, lo: usize, hi: usize) -> Self {
        F64x4(unsafe { _mm256_maskload_pd(p, _mm256_xor_si256(mask4(hi), mask4(lo))) })
    }
    #[inline(always)]
    fn with_lane(self, k: usize, v: f64) -> Self {
        let one = unsafe { _mm256_castsi256_pd(_mm256_xor_si256(mask4(k), mask4(k + 1))) };
        F64x4(unsafe { _mm256_blendv_pd(self.0, _mm256_set1_pd(v), one) })
    }
    #[inline(always)]
    fn scale_ratio_terms<const D: usize>(a: &[Self; D], b: &[Self; D], inv_b: &[Self; D]) -> ([Self; D], [Self; D]) {
        let (v, r) = super::math::srt(Many(*a), Many(*b), Many(*inv_b));
        (v.0, r.0)
    }
    #[inline(always)]
    fn neg_log1pmx<const D: usize>(x: &[Self; D], y: &[Self; D]) -> [Self; D] {
        super::math::neg_log1pmx(Many(*x), Many(*y)).0
    }
}
