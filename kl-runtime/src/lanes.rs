//! Lane vectors for the batched kernels of [`crate::mvn_rows`] (one lane per batch element, or
//! per column of a factor's row): [`Arr`] (portable arrays), `F64x4` (AVX2 + FMA), `F64x8`
//! (AVX-512), and [`Many`], `D` vectors as one, which the branch-free logarithms run on so that
//! their `D` dependency chains interleave. The `f64` logarithms ([`srt_f64`],
//! [`neg_log1pmx_f64`]) follow `scalar::fast::f64k` (the same reduction and series); `f32`
//! lanes use [`Arr`], whose logarithms are the scalar kernels lane by lane.

#![allow(clippy::needless_range_loop)]

use crate::real::Real;
use core::ops::{Add, Div, Mul, Neg, Sub};

/// An elementwise operation over the `$n` parts of an array-backed lane type, written as a
/// loop with the operation inline (a function passed by value may stay a call).
macro_rules! each {
    ($x:expr, $n:expr, |$a:ident| $e:expr) => {{
        let mut r = $x;
        for k in 0..$n {
            let $a = r.0[k];
            r.0[k] = $e;
        }
        r
    }};
    ($x:expr, $y:expr, $n:expr, |$a:ident, $b:ident| $e:expr) => {{
        let (mut r, o) = ($x, $y);
        for k in 0..$n {
            let ($a, $b) = (r.0[k], o.0[k]);
            r.0[k] = $e;
        }
        r
    }};
}

/// Elementwise arithmetic on lanes of `T`.
///
/// # Safety
///
/// Implementations built on `std::arch` intrinsics may only be used inside functions compiled
/// with the matching target features (the dispatchers in [`crate::mvn_rows`] guarantee that).
pub(crate) unsafe trait Arith:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self>
{
    type T: Real;
    fn splat(x: Self::T) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    /// The smaller value, either one if one is NaN.
    fn min(self, o: Self) -> Self;
    /// The larger value, either one if one is NaN.
    fn max(self, o: Self) -> Self;
    /// `self * a + b`, fused where that is cheap.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `1 / √self` within a few ulp, for normal positive `self`.
    fn rsqrt(self) -> Self;
}

/// `N` values of `T`, one per batch element: arithmetic, loads and stores, reductions, and the
/// logarithmic kernels.
///
/// # Safety
/// As [`Arith`].
pub(crate) unsafe trait Lanes: Arith {
    const N: usize;
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
    /// Lane `k` to `*p.add(k)`.
    ///
    /// # Safety
    /// `p..p + N` must be valid for writes.
    unsafe fn store(self, p: *mut Self::T);
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
    /// The sum of the lanes.
    fn sum(self) -> Self::T;
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
    /// Whether every lane is `== 0`.
    fn all_zero(self) -> bool;
    /// Whether every lane is `> 0` (NaN is not).
    fn all_positive(self) -> bool;
    /// Whether every lane is `>= 0` (NaN is not).
    fn all_nonneg(self) -> bool;
    /// [`crate::scalar::scale_ratio_term`]`(a[j], b[j])` per lane, within a few ulp, given
    /// `inv_b[j] = 1 / b[j]`; and values that must be finite and `>= MIN_POSITIVE` (the ratios
    /// `|a / b|`) for the results to be right: the lane kernels handle the normal range only.
    /// All `D` at once, so that their dependency chains interleave.
    fn scale_ratio_terms<const D: usize>(a: &[Self; D], b: &[Self; D], inv_b: &[Self; D]) -> ([Self; D], [Self; D]);
    /// `-log1pmx(x) = x - ln(1 + x)` per lane ([`crate::scalar::log1pmx`], within a few ulp)
    /// for `x > -1`, all `D` at once.
    fn neg_log1pmx<const D: usize>(x: &[Self; D]) -> [Self; D];
}

/// Portable lanes: an array, elementwise loops that LLVM may vectorize.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub(crate) struct Arr<T, const N: usize>(pub [T; N]);

macro_rules! arr_binop {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<T: Real, const N: usize> $tr for Arr<T, N> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                let mut r = self.0;
                for k in 0..N {
                    r[k] $op o.0[k];
                }
                Arr(r)
            }
        }
    };
}
arr_binop!(Add, add, +=);
arr_binop!(Sub, sub, -=);
arr_binop!(Mul, mul, *=);
arr_binop!(Div, div, /=);

impl<T: Real, const N: usize> Neg for Arr<T, N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        let mut r = self.0;
        for k in 0..N {
            r[k] = -r[k];
        }
        Arr(r)
    }
}

unsafe impl<T: Real, const N: usize> Arith for Arr<T, N> {
    type T = T;
    #[inline(always)]
    fn splat(x: T) -> Self {
        Arr([x; N])
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        each!(self, N, |x| x.sqrt())
    }
    #[inline(always)]
    fn abs(self) -> Self {
        each!(self, N, |x| x.abs())
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        each!(self, o, N, |a, b| if a < b { a } else { b })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        each!(self, o, N, |a, b| if a > b { a } else { b })
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        each!(self, N, |x| T::ONE / x.sqrt())
    }
}

unsafe impl<T: Real, const N: usize> Lanes for Arr<T, N> {
    const N: usize = N;
    #[inline(always)]
    unsafe fn gather(p: *const T, stride: usize) -> Self {
        let mut r = [T::ZERO; N];
        for k in 0..N {
            r[k] = unsafe { *p.add(k * stride) };
        }
        Arr(r)
    }
    #[inline(always)]
    unsafe fn tile(p: *const T, stride: usize, n: usize, mut f: impl FnMut(usize, Self)) {
        for c in 0..n {
            f(c, unsafe { Self::gather(p.add(c), stride) });
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut T) {
        for k in 0..N {
            unsafe { *p.add(k) = self.0[k] };
        }
    }
    #[inline(always)]
    unsafe fn load_n(p: *const T, n: usize) -> Self {
        let mut r = [T::ZERO; N];
        for k in 0..n.min(N) {
            r[k] = unsafe { *p.add(k) };
        }
        Arr(r)
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut T, n: usize) {
        for k in 0..n.min(N) {
            unsafe { *p.add(k) = self.0[k] };
        }
    }
    #[inline(always)]
    fn sum(self) -> T {
        self.0.iter().fold(T::ZERO, |a, &v| a + v)
    }
    #[inline(always)]
    fn first(self, n: usize) -> Self {
        let mut r = self.0;
        for k in n.min(N)..N {
            r[k] = T::ZERO;
        }
        Arr(r)
    }
    #[inline(always)]
    unsafe fn load_range(p: *const T, lo: usize, hi: usize) -> Self {
        let mut r = [T::ZERO; N];
        for k in lo..hi.min(N) {
            r[k] = unsafe { *p.wrapping_add(k) };
        }
        Arr(r)
    }
    #[inline(always)]
    fn with_lane(self, k: usize, v: T) -> Self {
        let mut r = self.0;
        r[k] = v;
        Arr(r)
    }
    #[inline(always)]
    fn all_zero(self) -> bool {
        self.0.iter().fold(true, |ok, &v| ok & (v == T::ZERO))
    }
    #[inline(always)]
    fn all_positive(self) -> bool {
        self.0.iter().fold(true, |ok, &v| ok & (v > T::ZERO))
    }
    #[inline(always)]
    fn all_nonneg(self) -> bool {
        self.0.iter().fold(true, |ok, &v| ok & (v >= T::ZERO))
    }
    #[inline(always)]
    fn scale_ratio_terms<const D: usize>(a: &[Self; D], b: &[Self; D], _: &[Self; D]) -> ([Self; D], [Self; D]) {
        let mut t = [Self::splat(T::ZERO); D];
        for j in 0..D {
            for k in 0..N {
                t[j].0[k] = T::scale_ratio_term_fast(a[j].0[k], b[j].0[k]);
            }
        }
        (t, [Self::splat(T::ONE); D])
    }
    #[inline(always)]
    fn neg_log1pmx<const D: usize>(x: &[Self; D]) -> [Self; D] {
        let mut r = *x;
        for j in 0..D {
            for k in 0..N {
                r[j].0[k] = -crate::scalar::log1pmx(r[j].0[k]);
            }
        }
        r
    }
}

/// `D` lane vectors as one: the branch-free kernels written for one vector, run on `D` at once,
/// issue their independent operations side by side.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Many<V, const D: usize>(pub [V; D]);

macro_rules! many_binop {
    ($tr:ident, $f:ident) => {
        impl<V: Arith, const D: usize> $tr for Many<V, D> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                let mut r = self.0;
                for j in 0..D {
                    r[j] = $tr::$f(r[j], o.0[j]);
                }
                Many(r)
            }
        }
    };
}
many_binop!(Add, add);
many_binop!(Sub, sub);
many_binop!(Mul, mul);
many_binop!(Div, div);

impl<V: Arith, const D: usize> Neg for Many<V, D> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        each!(self, D, |v| -v)
    }
}

unsafe impl<V: Arith, const D: usize> Arith for Many<V, D> {
    type T = V::T;
    #[inline(always)]
    fn splat(x: V::T) -> Self {
        Many([V::splat(x); D])
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        each!(self, D, |v| v.sqrt())
    }
    #[inline(always)]
    fn abs(self) -> Self {
        each!(self, D, |v| v.abs())
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        each!(self, o, D, |a, b| a.min(b))
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        each!(self, o, D, |a, b| a.max(b))
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        let mut r = self.0;
        for j in 0..D {
            r[j] = r[j].mul_add(a.0[j], b.0[j]);
        }
        Many(r)
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        each!(self, D, |v| v.rsqrt())
    }
}

unsafe impl<V: F64Ops, const D: usize> F64Ops for Many<V, D> {
    type M = [V::M; D];
    #[inline(always)]
    fn eq(self, o: Self) -> Self::M {
        core::array::from_fn(|j| self.0[j].eq(o.0[j]))
    }
    #[inline(always)]
    fn select(m: Self::M, a: Self, b: Self) -> Self {
        Many(core::array::from_fn(|j| V::select(m[j], a.0[j], b.0[j])))
    }
    #[inline(always)]
    fn add_bits(self, c: u64) -> Self {
        each!(self, D, |v| v.add_bits(c))
    }
    #[inline(always)]
    fn and_bits(self, c: u64) -> Self {
        each!(self, D, |v| v.and_bits(c))
    }
    #[inline(always)]
    fn or_bits(self, c: u64) -> Self {
        each!(self, D, |v| v.or_bits(c))
    }
    #[inline(always)]
    fn shr52(self) -> Self {
        each!(self, D, |v| v.shr52())
    }
}

/// Lanes of `f64` with comparisons, selects and integer operations on the bits: what the
/// branch-free logarithm kernels need ([`srt_f64`], [`neg_log1pmx_f64`]).
///
/// # Safety
/// As [`Arith`].
pub(crate) unsafe trait F64Ops: Arith<T = f64> {
    type M: Copy;
    fn eq(self, o: Self) -> Self::M;
    /// `a` where `m`, else `b`.
    fn select(m: Self::M, a: Self, b: Self) -> Self;
    /// The bits as `u64` lanes plus `c` (wrapping).
    fn add_bits(self, c: u64) -> Self;
    fn and_bits(self, c: u64) -> Self;
    fn or_bits(self, c: u64) -> Self;
    /// The bits shifted right by 52 (logical).
    fn shr52(self) -> Self;
}

const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;
const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
const TWO52: f64 = 4_503_599_627_370_496.0;
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// `(k, m)` with `x = 2^k m`, `m` in `[√½, √2)`, `k` an integer-valued float, for normal
/// `x > 0` (as `scalar::fast::f64k::split`, without its subnormal step); garbage (but no trap)
/// otherwise.
#[inline(always)]
fn split<V: F64Ops>(x: V) -> (V, V) {
    let ix = x.add_bits(ONE_BITS.wrapping_sub(SQRT_HALF_BITS));
    // The exponent field (< 2^12) as a float, exactly: in the mantissa of 2^52.
    let k = ix.shr52().or_bits(TWO52_BITS) - V::splat(TWO52 + 1023.0);
    let m = ix.and_bits((1 << 52) - 1).add_bits(SQRT_HALF_BITS);
    (k, m)
}

/// `ln(1 + w) - w` for `|w| <= 0.415`, the series of `scalar::fast::f64k::log1pmx`:
/// `t = w / (2 + w)`, `t (2 t² S(t²) - w)`, `S(z) = Σ z^j / (2j + 3)`.
#[inline(always)]
fn log1pmx_small<V: F64Ops>(w: V) -> V {
    // 10 terms: truncation below 1e-17 relative at |t| = 0.1716 (11 in the scalar kernel).
    const TERMS: usize = 10;
    let t = w / (V::splat(2.0) + w);
    let z = t * t;
    // 2 S(z), the factor 2 in the coefficients.
    let mut s = V::splat(2.0 / (2 * TERMS + 1) as f64);
    let mut j = TERMS - 1;
    while j > 0 {
        j -= 1;
        s = s.mul_add(z, V::splat(2.0 / (2 * j + 3) as f64));
    }
    t * z.mul_add(s, -w)
}

/// `½ (r² − 1) − ln r`, `r = |a / b|`, from `inv_b = 1 / b` (see [`Lanes::scale_ratio_term`]):
/// near `r = 1` (`r` in `[√½, √2)`) `½ u² − log1pmx(u)` with `u = (|a| − |b|) / |b|` (the
/// difference exact there), else `½ (r² − 1) − ln r` with `ln r` from `r = 2^k m`.
#[inline(always)]
pub(crate) fn srt_f64<V: F64Ops>(a: V, b: V, inv_b: V) -> (V, V) {
    let (a, b, ib) = (a.abs(), b.abs(), inv_b.abs());
    let (one, half) = (V::splat(1.0), V::splat(0.5));
    let r = a * ib;
    let u = (a - b) * ib;
    let (k, m) = split(r);
    let near = k.eq(V::splat(0.0));
    let w = V::select(near, u, m - one);
    let head = V::select(near, half * (u * u), half * r.mul_add(r, -one) - w);
    let v = head - k.mul_add(V::splat(LN2_HI), k.mul_add(V::splat(LN2_LO), log1pmx_small(w)));
    (v, r)
}

/// `x − ln(1 + x)` for `x > -1` on lanes: the series where `1 + x` lies in `[√½, √2)`, else
/// `x − ln y` with `y = 1 + x` rounded (there `|x − ln(1 + x)| > 0.05`, so that rounding costs
/// a few ulp at most).
#[inline(always)]
pub(crate) fn neg_log1pmx_f64<V: F64Ops>(x: V) -> V {
    let one = V::splat(1.0);
    let (k, m) = split(one + x);
    let near = k.eq(V::splat(0.0));
    let w = V::select(near, x, m - one);
    let l = log1pmx_small(w);
    // far: x − (k ln 2 + w + log1pmx(w))
    let far = (x - k.mul_add(V::splat(LN2_HI), w)) - k.mul_add(V::splat(LN2_LO), l);
    V::select(near, -l, far)
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::F64x4;
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_512::F64x8;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Arith, F64Ops, Lanes};
    use core::arch::x86_64::*;
    use core::ops::{Add, Div, Mul, Neg, Sub};

    /// The `maskload` mask of the first `n <= 4` lanes.
    #[inline(always)]
    fn mask4(n: usize) -> __m256i {
        unsafe { _mm256_setr_epi64x(-((n > 0) as i64), -((n > 1) as i64), -((n > 2) as i64), -((n > 3) as i64)) }
    }

    /// Four `f64` lanes in a `ymm` register (AVX2 + FMA).
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub(crate) struct F64x4(__m256d);

    macro_rules! binop {
        ($ty:ident, $tr:ident, $f:ident, $intr:ident) => {
            impl $tr for $ty {
                type Output = Self;
                #[inline(always)]
                fn $f(self, o: Self) -> Self {
                    $ty(unsafe { $intr(self.0, o.0) })
                }
            }
        };
    }
    binop!(F64x4, Add, add, _mm256_add_pd);
    binop!(F64x4, Sub, sub, _mm256_sub_pd);
    binop!(F64x4, Mul, mul, _mm256_mul_pd);
    binop!(F64x4, Div, div, _mm256_div_pd);
    impl Neg for F64x4 {
        type Output = Self;
        #[inline(always)]
        fn neg(self) -> Self {
            F64x4(unsafe { _mm256_xor_pd(self.0, _mm256_set1_pd(-0.0)) })
        }
    }
    unsafe impl Arith for F64x4 {
        type T = f64;
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
        fn rsqrt(self) -> Self {
            Self::splat(1.0) / self.sqrt()
        }
    }

    unsafe impl Lanes for F64x4 {
        const N: usize = 4;
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
        unsafe fn store(self, p: *mut f64) {
            unsafe { _mm256_storeu_pd(p, self.0) }
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
        fn sum(self) -> f64 {
            unsafe {
                let s = _mm_add_pd(_mm256_castpd256_pd128(self.0), _mm256_extractf128_pd::<1>(self.0));
                _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
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
        fn scale_ratio_terms<const D: usize>(
            a: &[Self; D],
            b: &[Self; D],
            inv_b: &[Self; D],
        ) -> ([Self; D], [Self; D]) {
            let (v, r) = super::srt_f64(super::Many(*a), super::Many(*b), super::Many(*inv_b));
            (v.0, r.0)
        }
        #[inline(always)]
        fn neg_log1pmx<const D: usize>(x: &[Self; D]) -> [Self; D] {
            super::neg_log1pmx_f64(super::Many(*x)).0
        }
    }

    unsafe impl F64Ops for F64x4 {
        type M = __m256d;
        #[inline(always)]
        fn eq(self, o: Self) -> __m256d {
            unsafe { _mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, o.0) }
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
        fn and_bits(self, c: u64) -> Self {
            F64x4(unsafe { _mm256_and_pd(self.0, _mm256_castsi256_pd(_mm256_set1_epi64x(c as i64))) })
        }
        #[inline(always)]
        fn or_bits(self, c: u64) -> Self {
            F64x4(unsafe { _mm256_or_pd(self.0, _mm256_castsi256_pd(_mm256_set1_epi64x(c as i64))) })
        }
        #[inline(always)]
        fn shr52(self) -> Self {
            F64x4(unsafe { _mm256_castsi256_pd(_mm256_srli_epi64::<52>(_mm256_castpd_si256(self.0))) })
        }
    }
}

/// The AVX-512 lanes.
#[cfg(target_arch = "x86_64")]
mod x86_512 {
    use super::{Arith, F64Ops, Lanes};
    use core::arch::x86_64::*;
    use core::ops::{Add, Div, Mul, Neg, Sub};

    /// Eight `f64` lanes in a `zmm` register (AVX-512F).
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub(crate) struct F64x8(__m512d);

    macro_rules! binop {
        ($ty:ident, $tr:ident, $f:ident, $intr:ident) => {
            impl $tr for $ty {
                type Output = Self;
                #[inline(always)]
                fn $f(self, o: Self) -> Self {
                    $ty(unsafe { $intr(self.0, o.0) })
                }
            }
        };
    }
    binop!(F64x8, Add, add, _mm512_add_pd);
    binop!(F64x8, Sub, sub, _mm512_sub_pd);
    binop!(F64x8, Mul, mul, _mm512_mul_pd);
    binop!(F64x8, Div, div, _mm512_div_pd);

    impl Neg for F64x8 {
        type Output = Self;
        #[inline(always)]
        fn neg(self) -> Self {
            F64x8(unsafe {
                _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(self.0), _mm512_set1_epi64(i64::MIN)))
            })
        }
    }

    unsafe impl Arith for F64x8 {
        type T = f64;
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

    unsafe impl Lanes for F64x8 {
        const N: usize = 8;
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
        unsafe fn store(self, p: *mut f64) {
            unsafe { _mm512_storeu_pd(p, self.0) }
        }
        #[inline(always)]
        unsafe fn load_n(p: *const f64, n: usize) -> Self {
            F64x8(unsafe {
                if n >= 8 {
                    _mm512_loadu_pd(p)
                } else {
                    _mm512_maskz_loadu_pd(((1u32 << n) - 1) as u8, p)
                }
            })
        }
        #[inline(always)]
        unsafe fn store_n(self, p: *mut f64, n: usize) {
            unsafe {
                if n >= 8 {
                    _mm512_storeu_pd(p, self.0)
                } else {
                    _mm512_mask_storeu_pd(p, ((1u32 << n) - 1) as u8, self.0)
                }
            }
        }
        #[inline(always)]
        fn sum(self) -> f64 {
            unsafe { _mm512_reduce_add_pd(self.0) }
        }
        #[inline(always)]
        fn first(self, n: usize) -> Self {
            if n >= 8 {
                self
            } else {
                F64x8(unsafe { _mm512_maskz_mov_pd(((1u32 << n) - 1) as u8, self.0) })
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
        fn scale_ratio_terms<const D: usize>(
            a: &[Self; D],
            b: &[Self; D],
            inv_b: &[Self; D],
        ) -> ([Self; D], [Self; D]) {
            let (v, r) = super::srt_f64(super::Many(*a), super::Many(*b), super::Many(*inv_b));
            (v.0, r.0)
        }
        #[inline(always)]
        fn neg_log1pmx<const D: usize>(x: &[Self; D]) -> [Self; D] {
            super::neg_log1pmx_f64(super::Many(*x)).0
        }
    }

    unsafe impl F64Ops for F64x8 {
        type M = __mmask8;
        #[inline(always)]
        fn eq(self, o: Self) -> __mmask8 {
            unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, o.0) }
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
        fn and_bits(self, c: u64) -> Self {
            F64x8(unsafe {
                _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(self.0), _mm512_set1_epi64(c as i64)))
            })
        }
        #[inline(always)]
        fn or_bits(self, c: u64) -> Self {
            F64x8(unsafe {
                _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(self.0), _mm512_set1_epi64(c as i64)))
            })
        }
        #[inline(always)]
        fn shr52(self) -> Self {
            F64x8(unsafe { _mm512_castsi512_pd(_mm512_srli_epi64::<52>(_mm512_castpd_si512(self.0))) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values: mantissas in `[1, 2)` times `2^e`, `e` in `emin..=emax`.
    fn spread(n: usize, emin: i32, emax: i32, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let m = 1.0 + (s >> 11) as f64 / (1u64 << 53) as f64;
                m * 2f64.powi(emin + (s % (emax - emin + 1) as u64) as i32)
            })
            .collect()
    }

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            ((a - b) / b).abs()
        }
    }

    /// `f` on `N`-lane chunks of `xs` (the last padded with copies), lane by lane.
    #[cfg(target_arch = "x86_64")]
    fn on_lanes<V: Lanes<T = f64>>(xs: &[f64], f: impl Fn(V) -> V) -> Vec<f64> {
        let mut out = Vec::new();
        for c in xs.chunks(V::N) {
            let mut buf = vec![c[0]; V::N];
            buf[..c.len()].copy_from_slice(c);
            let mut r = vec![0.0; V::N];
            unsafe { f(V::load_n(buf.as_ptr(), V::N)).store(r.as_mut_ptr()) };
            out.extend_from_slice(&r[..c.len()]);
        }
        out
    }

    fn srt_matches<V: Lanes<T = f64>>() {
        let bs = spread(3000, -400, 400, 0x2545_f491_4f6c_dd1d);
        let near = spread(3000, -60, -1, 0x1234_5678_9abc_def1);
        for (k, scale) in [
            (0usize, 1.0),
            (1, 0.3),
            (2, 1.5),
            (3, 1.0 / 1.5),
            (4, 1e10),
            (5, 1e-10),
            (6, std::f64::consts::SQRT_2),
            (7, std::f64::consts::FRAC_1_SQRT_2),
        ] {
            let pairs: Vec<(f64, f64)> = bs
                .iter()
                .zip(&near)
                .enumerate()
                .map(|(i, (&b, &n))| {
                    let n = if i % 2 == 0 { n } else { -0.5 * n };
                    let a = if k < 2 { b * (1.0 + scale * n) } else { b * scale };
                    (if i % 3 == 0 { -a } else { a }, b)
                })
                .collect();
            let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            let b: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            for (c, (ca, cb)) in a.chunks(V::N).zip(b.chunks(V::N)).enumerate() {
                if ca.len() < V::N {
                    continue;
                }
                let (va, vb) = unsafe { (V::load_n(ca.as_ptr(), V::N), V::load_n(cb.as_ptr(), V::N)) };
                let (t, r) = V::scale_ratio_terms(&[va], &[vb], &[V::splat(1.0) / vb]);
                let (mut tt, mut rr) = (vec![0.0; V::N], vec![0.0; V::N]);
                unsafe { (t[0].store(tt.as_mut_ptr()), r[0].store(rr.as_mut_ptr())) };
                for l in 0..V::N {
                    let want = crate::scalar::scale_ratio_term(ca[l], cb[l]);
                    if rr[l].is_finite() && rr[l] >= f64::MIN_POSITIVE {
                        assert!(
                            rel(tt[l], want) <= 4e-15,
                            "chunk {c}: ({:e}, {:e}): {:e} vs {want:e}",
                            ca[l],
                            cb[l],
                            tt[l]
                        );
                    }
                }
            }
        }
    }

    fn neg_log1pmx_matches<V: Lanes<T = f64>>() {
        let mut xs: Vec<f64> =
            spread(4000, -60, -1, 7).iter().enumerate().map(|(i, &x)| if i % 2 == 0 { x } else { -x }).collect();
        xs.extend(spread(2000, -3, 6, 8));
        xs.extend(spread(2000, -3, -1, 9).iter().map(|&x| -x.min(0.999_999)));
        xs.extend([0.0, -0.5, 0.5, -0.2928, 0.4142, 0.4143, -0.2930, -0.9999, 1e6]);
        let mut got = Vec::new();
        for c in xs.chunks(V::N) {
            let mut b = vec![0.0; V::N];
            b[..c.len()].copy_from_slice(c);
            let r = unsafe { V::neg_log1pmx(&[V::load_n(b.as_ptr(), V::N)]) };
            let mut o = vec![0.0; V::N];
            unsafe { r[0].store(o.as_mut_ptr()) };
            got.extend_from_slice(&o[..c.len()]);
        }
        for (&x, &g) in xs.iter().zip(&got) {
            let want = -crate::scalar::log1pmx(x);
            assert!(rel(g, want) <= 8e-15, "-log1pmx({x:e}): {g:e} vs {want:e}");
        }
        assert_eq!(got[xs.len() - 9], 0.0);
    }

    #[test]
    fn lane_kernels_match_the_scalar_ones() {
        srt_matches::<Arr<f64, 4>>();
        neg_log1pmx_matches::<Arr<f64, 4>>();
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                srt_matches::<F64x4>();
                neg_log1pmx_matches::<F64x4>();
            }
            if has!("avx512f") && has!("avx512vl") && has!("avx512dq") {
                srt_matches::<F64x8>();
                neg_log1pmx_matches::<F64x8>();
                let x = spread(1000, -500, 500, 3);
                for (g, &x) in on_lanes::<F64x8>(&x, F64x8::rsqrt).iter().zip(&x) {
                    assert!(rel(*g, 1.0 / x.sqrt()) <= 4e-16, "rsqrt({x:e}): {g:e}");
                }
            }
        }
    }
}
