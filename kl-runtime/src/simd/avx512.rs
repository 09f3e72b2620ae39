//! AVX-512 lanes: [`F32x16`] and [`F64x8`] in `zmm` registers.
//!
//! SAFETY (every `unsafe` block in this file): the methods are only reached from functions
//! compiled with AVX-512 F/VL/DQ, AVX2 and FMA enabled ([`super::dispatch`]); pointer arguments
//! follow the traits' contracts.

use super::arith::{Arith, Bits};
use super::avx2::{ops, F32x8, F64x4};
use super::lanes::{Computed, Lanes, RowSource, Tiles};
use super::portable::Many;
use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Neg, Sub};

/// Sixteen `f32` lanes.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub(crate) struct F32x16(__m512);

/// Eight `f64` lanes.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub(crate) struct F64x8(__m512d);

ops!(
    F32x16,
    _mm512_add_ps,
    _mm512_sub_ps,
    _mm512_mul_ps,
    _mm512_div_ps,
    neg = |x| _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(i32::MIN)))
);
ops!(
    F64x8,
    _mm512_add_pd,
    _mm512_sub_pd,
    _mm512_mul_pd,
    _mm512_div_pd,
    neg = |x| _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(i64::MIN)))
);

unsafe impl Arith for F32x16 {
    type T = f32;
    const FUSED: bool = true;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        F32x16(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F32x16(unsafe { _mm512_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        F32x16(unsafe { _mm512_abs_ps(self.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        F32x16(unsafe { _mm512_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        F32x16(unsafe { _mm512_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        F32x16(unsafe { _mm512_fmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn neg_mul_add(self, a: Self, b: Self) -> Self {
        F32x16(unsafe { _mm512_fnmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        Self::splat(1.0) / self.sqrt()
    }
}

unsafe impl Bits for F32x16 {
    const MANT: u32 = 23;
    const BIAS: u64 = 127;
    const TERMS: usize = <f32 as Bits>::TERMS;
    type M = __mmask16;
    #[inline(always)]
    fn of(x: f64) -> Self {
        Self::splat(x as f32)
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __mmask16 {
        unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __mmask16 {
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn select(m: __mmask16, a: Self, b: Self) -> Self {
        F32x16(unsafe { _mm512_mask_blend_ps(m, b.0, a.0) })
    }
    #[inline(always)]
    fn add_bits(self, c: u64) -> Self {
        F32x16(unsafe {
            _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(self.0), _mm512_set1_epi32(c as i32)))
        })
    }
    #[inline(always)]
    fn add_int(self, o: Self) -> Self {
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(self.0), _mm512_castps_si512(o.0))) })
    }
    #[inline(always)]
    fn and_bits(self, c: u64) -> Self {
        F32x16(unsafe {
            _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(self.0), _mm512_set1_epi32(c as i32)))
        })
    }
    #[inline(always)]
    fn or_bits(self, c: u64) -> Self {
        F32x16(unsafe {
            _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(self.0), _mm512_set1_epi32(c as i32)))
        })
    }
    #[inline(always)]
    fn shr_mant(self) -> Self {
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_srli_epi32::<23>(_mm512_castps_si512(self.0))) })
    }
    #[inline(always)]
    fn shl_mant(self) -> Self {
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(self.0))) })
    }
    #[inline(always)]
    fn scale_exp2(self, k: Self) -> Self {
        F32x16(unsafe { _mm512_scalef_ps(self.0, k.0) })
    }
}

/// The two `F32x8` transposes of 16 rows folded to 8 lanes, joined.
#[inline(always)]
fn join_f32(h: [F32x8; 16]) -> F32x16 {
    let a = F32x8::transpose_sum(&mut Computed([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]));
    let b = F32x8::transpose_sum(&mut Computed([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]));
    unsafe {
        let lo = _mm512_castpd_ps(_mm512_castpd256_pd512(_mm256_castps_pd(a.0)));
        F32x16(_mm512_castpd_ps(_mm512_insertf64x4::<1>(_mm512_castps_pd(lo), _mm256_castps_pd(b.0))))
    }
}

unsafe impl Lanes for F32x16 {
    const N: usize = 16;
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        F32x16(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    fn sum(self) -> f32 {
        // Halves, then quarters, ..: four shuffles and adds.
        unsafe { _mm512_reduce_add_ps(self.0) }
    }
    #[inline(always)]
    fn all_zero(self) -> bool {
        unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, _mm512_setzero_ps()) == 0xffff }
    }
    #[inline(always)]
    fn all_positive(self) -> bool {
        unsafe { _mm512_cmp_ps_mask::<_CMP_GT_OQ>(self.0, _mm512_setzero_ps()) == 0xffff }
    }
    #[inline(always)]
    fn all_nonneg(self) -> bool {
        unsafe { _mm512_cmp_ps_mask::<_CMP_GE_OQ>(self.0, _mm512_setzero_ps()) == 0xffff }
    }
    /// The fold to 8 lanes, then the three levels of `F32x8`'s transpose.
    const SUM_DEPTH: usize = 4;
    #[inline(always)]
    fn max_lane(self) -> f32 {
        unsafe { _mm512_reduce_max_ps(self.0) }
    }
    #[inline(always)]
    fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
        // Each row folded to 8 lanes, then two 8-row transposes.
        let mut h = [F32x8::splat(0.0); 16];
        for (r, h) in h.iter_mut().enumerate() {
            let v = row.row(r).0;
            *h = F32x8(unsafe {
                _mm256_add_ps(
                    _mm512_castps512_ps256(v),
                    _mm512_castps512_ps256(_mm512_shuffle_f32x4::<0b1110_1110>(v, v)),
                )
            });
        }
        join_f32(h)
    }
    const PAIRS: bool = true;
    #[inline(always)]
    fn transpose_sum_pairs(row: &mut impl RowSource<Self>) -> Self {
        let mut h = [F32x8::splat(0.0); 16];
        // A loop, not eight copies: unrolled, the rows' divisions and series spill registers.
        for j in 0..core::hint::black_box(8) {
            let v = row.row(j).0;
            unsafe {
                h[2 * j] = F32x8(_mm512_castps512_ps256(v));
                h[2 * j + 1] = F32x8(_mm512_castps512_ps256(_mm512_shuffle_f32x4::<0b1110_1110>(v, v)));
            }
        }
        join_f32(h)
    }
}

unsafe impl Arith for F64x8 {
    type T = f64;
    const FUSED: bool = true;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        F64x8(unsafe { _mm512_set1_pd(x) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F64x8(unsafe { _mm512_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        F64x8(unsafe { _mm512_abs_pd(self.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        F64x8(unsafe { _mm512_min_pd(self.0, o.0) })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        F64x8(unsafe { _mm512_max_pd(self.0, o.0) })
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        F64x8(unsafe { _mm512_fmadd_pd(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn neg_mul_add(self, a: Self, b: Self) -> Self {
        F64x8(unsafe { _mm512_fnmadd_pd(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        // 14 bits, then two Newton steps y += y/2 (1 - x y²): off the divide/sqrt unit.
        let mut y = F64x8(unsafe { _mm512_rsqrt14_pd(self.0) });
        for _ in 0..2 {
            let e = (-(self * y)).mul_add(y, Self::splat(1.0));
            y = (y * Self::splat(0.5)).mul_add(e, y);
        }
        y
    }
}

unsafe impl Bits for F64x8 {
    const MANT: u32 = 52;
    const BIAS: u64 = 1023;
    const TERMS: usize = <f64 as Bits>::TERMS;
    type M = __mmask8;
    #[inline(always)]
    fn of(x: f64) -> Self {
        Self::splat(x)
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn select(m: __mmask8, a: Self, b: Self) -> Self {
        F64x8(unsafe { _mm512_mask_blend_pd(m, b.0, a.0) })
    }
    #[inline(always)]
    fn add_bits(self, c: u64) -> Self {
        F64x8(unsafe {
            _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(self.0), _mm512_set1_epi64(c as i64)))
        })
    }
    #[inline(always)]
    fn add_int(self, o: Self) -> Self {
        F64x8(unsafe { _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(self.0), _mm512_castpd_si512(o.0))) })
    }
    #[inline(always)]
    fn and_bits(self, c: u64) -> Self {
        F64x8(unsafe {
            _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(self.0), _mm512_set1_epi64(c as i64)))
        })
    }
    #[inline(always)]
    fn or_bits(self, c: u64) -> Self {
        F64x8(unsafe { _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(self.0), _mm512_set1_epi64(c as i64))) })
    }
    #[inline(always)]
    fn shr_mant(self) -> Self {
        F64x8(unsafe { _mm512_castsi512_pd(_mm512_srli_epi64::<52>(_mm512_castpd_si512(self.0))) })
    }
    #[inline(always)]
    fn shl_mant(self) -> Self {
        F64x8(unsafe { _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_castpd_si512(self.0))) })
    }
    #[inline(always)]
    fn scale_exp2(self, k: Self) -> Self {
        F64x8(unsafe { _mm512_scalef_pd(self.0, k.0) })
    }
}

/// The mask of the first `n <= 8` lanes.
#[inline(always)]
fn first_lanes(n: usize) -> __mmask8 {
    ((1u32 << n) - 1) as u8
}

/// The two `F64x4` transposes of 8 rows folded to 4 lanes, joined.
#[inline(always)]
fn join_f64(h: [F64x4; 8]) -> F64x8 {
    let a = F64x4::transpose_sum(&mut Computed([h[0], h[1], h[2], h[3]]));
    let b = F64x4::transpose_sum(&mut Computed([h[4], h[5], h[6], h[7]]));
    unsafe { F64x8(_mm512_insertf64x4::<1>(_mm512_castpd256_pd512(a.0), b.0)) }
}

unsafe impl Lanes for F64x8 {
    const N: usize = 8;
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        F64x8(unsafe { _mm512_loadu_pd(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        unsafe { _mm512_storeu_pd(p, self.0) }
    }
    #[inline(always)]
    fn sum(self) -> f64 {
        unsafe { _mm512_reduce_add_pd(self.0) }
    }
    #[inline(always)]
    fn all_zero(self) -> bool {
        unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, _mm512_setzero_pd()) == 0xff }
    }
    #[inline(always)]
    fn all_positive(self) -> bool {
        unsafe { _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, _mm512_setzero_pd()) == 0xff }
    }
    #[inline(always)]
    fn all_nonneg(self) -> bool {
        unsafe { _mm512_cmp_pd_mask::<_CMP_GE_OQ>(self.0, _mm512_setzero_pd()) == 0xff }
    }
    #[inline(always)]
    fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
        let mut h = [F64x4::splat(0.0); 8];
        for (r, h) in h.iter_mut().enumerate() {
            let v = row.row(r).0;
            *h = F64x4(unsafe { _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd::<1>(v)) });
        }
        join_f64(h)
    }
    const PAIRS: bool = true;
    #[inline(always)]
    fn transpose_sum_pairs(row: &mut impl RowSource<Self>) -> Self {
        let mut h = [F64x4::splat(0.0); 8];
        for j in 0..4 {
            let v = row.row(j).0;
            unsafe {
                h[2 * j] = F64x4(_mm512_castpd512_pd256(v));
                h[2 * j + 1] = F64x4(_mm512_extractf64x4_pd::<1>(v));
            }
        }
        join_f64(h)
    }
}

unsafe impl Tiles for F64x8 {
    #[inline(always)]
    unsafe fn gather(p: *const f64, stride: usize) -> Self {
        let s = stride;
        F64x8(unsafe {
            _mm512_setr_pd(
                *p,
                *p.add(s),
                *p.add(2 * s),
                *p.add(3 * s),
                *p.add(4 * s),
                *p.add(5 * s),
                *p.add(6 * s),
                *p.add(7 * s),
            )
        })
    }
    #[inline(always)]
    unsafe fn tile(p: *const f64, stride: usize, n: usize, mut f: impl FnMut(usize, Self)) {
        debug_assert!(n <= 8);
        let load = |k: usize| unsafe { Self::load_n(p.add(k * stride), n).0 };
        let r = [load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7)];
        unsafe {
            // Pairs of rows interleaved: t[2q] holds the even columns of rows 2q, 2q + 1,
            // t[2q + 1] the odd ones; then 128-bit blocks regrouped twice.
            let lo = |a: __m512d, b: __m512d| _mm512_unpacklo_pd(a, b);
            let hi = |a: __m512d, b: __m512d| _mm512_unpackhi_pd(a, b);
            let t = [lo(r[0], r[1]), hi(r[0], r[1]), lo(r[2], r[3]), hi(r[2], r[3])];
            let t2 = [lo(r[4], r[5]), hi(r[4], r[5]), lo(r[6], r[7]), hi(r[6], r[7])];
            let even = |a: __m512d, b: __m512d| _mm512_shuffle_f64x2::<0x88>(a, b);
            let odd = |a: __m512d, b: __m512d| _mm512_shuffle_f64x2::<0xdd>(a, b);
            // u: [A0 A2 B0 B2], [A1 A3 B1 B3] for columns 0 mod 2 (from t[0], t[2]) ..
            let (u0, u1) = (even(t[0], t[2]), odd(t[0], t[2]));
            let (v0, v1) = (even(t2[0], t2[2]), odd(t2[0], t2[2]));
            let (w0, w1) = (even(t[1], t[3]), odd(t[1], t[3]));
            let (x0, x1) = (even(t2[1], t2[3]), odd(t2[1], t2[3]));
            let cols = [
                even(u0, v0),
                even(w0, x0),
                even(u1, v1),
                even(w1, x1),
                odd(u0, v0),
                odd(w0, x0),
                odd(u1, v1),
                odd(w1, x1),
            ];
            for (c, &v) in cols.iter().enumerate().take(n) {
                f(c, F64x8(v));
            }
        }
    }
    #[inline(always)]
    unsafe fn load_n(p: *const f64, n: usize) -> Self {
        F64x8(unsafe {
            if n >= 8 {
                _mm512_loadu_pd(p)
            } else {
                _mm512_maskz_loadu_pd(first_lanes(n), p)
            }
        })
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f64, n: usize) {
        unsafe {
            if n >= 8 {
                _mm512_storeu_pd(p, self.0)
            } else {
                _mm512_mask_storeu_pd(p, first_lanes(n), self.0)
            }
        }
    }
    #[inline(always)]
    fn first(self, n: usize) -> Self {
        if n >= 8 {
            self
        } else {
            F64x8(unsafe { _mm512_maskz_mov_pd(first_lanes(n), self.0) })
        }
    }
    #[inline(always)]
    unsafe fn load_range(p: *const f64, lo: usize, hi: usize) -> Self {
        let m = (((1u32 << hi) - 1) & !((1u32 << lo) - 1)) as u8;
        F64x8(unsafe { _mm512_maskz_loadu_pd(m, p) })
    }
    #[inline(always)]
    fn with_lane(self, k: usize, v: f64) -> Self {
        F64x8(unsafe { _mm512_mask_blend_pd((1u32 << k) as u8, self.0, _mm512_set1_pd(v)) })
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
