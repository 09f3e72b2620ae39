//! Portable lanes: [`Arr`], an array with elementwise loops that LLVM may vectorize (the lanes of
//! every kernel where the CPU has none of the instruction sets of [`super::dispatch`], and the one
//! lane of the leftover rows), and [`Many`], `D` vectors as one, which the branch-free logarithms
//! run on so that their `D` dependency chains interleave.

#![allow(clippy::needless_range_loop)]

use super::arith::{Arith, Bits};
use super::lanes::{Lanes, Tiles};
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

/// `N` lanes in an array.
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
        each!(self, N, |x| -x)
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
        // Not `Real::mul_add`: without an FMA instruction that is a libm call.
        self * a + b
    }
    #[inline(always)]
    fn neg_mul_add(self, a: Self, b: Self) -> Self {
        b - self * a
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        each!(self, N, |x| T::ONE / x.sqrt())
    }
}

macro_rules! arr_bits {
    ($t:ident) => {
        unsafe impl<const N: usize> Bits for Arr<$t, N> {
            const MANT: u32 = <$t as Bits>::MANT;
            const BIAS: u64 = <$t as Bits>::BIAS;
            const TERMS: usize = <$t as Bits>::TERMS;
            type M = [bool; N];
            #[inline(always)]
            fn of(x: f64) -> Self {
                Arr([x as $t; N])
            }
            #[inline(always)]
            fn eq(self, o: Self) -> [bool; N] {
                core::array::from_fn(|k| self.0[k] == o.0[k])
            }
            #[inline(always)]
            fn lt(self, o: Self) -> [bool; N] {
                core::array::from_fn(|k| self.0[k] < o.0[k])
            }
            #[inline(always)]
            fn select(m: [bool; N], a: Self, b: Self) -> Self {
                Arr(core::array::from_fn(|k| if m[k] { a.0[k] } else { b.0[k] }))
            }
            #[inline(always)]
            fn add_bits(self, c: u64) -> Self {
                each!(self, N, |x| x.add_bits(c))
            }
            #[inline(always)]
            fn add_int(self, o: Self) -> Self {
                each!(self, o, N, |a, b| a.add_int(b))
            }
            #[inline(always)]
            fn and_bits(self, c: u64) -> Self {
                each!(self, N, |x| x.and_bits(c))
            }
            #[inline(always)]
            fn or_bits(self, c: u64) -> Self {
                each!(self, N, |x| x.or_bits(c))
            }
            #[inline(always)]
            fn shr_mant(self) -> Self {
                each!(self, N, |x| x.shr_mant())
            }
            #[inline(always)]
            fn shl_mant(self) -> Self {
                each!(self, N, |x| x.shl_mant())
            }
        }
    };
}
arr_bits!(f32);
arr_bits!(f64);

unsafe impl<T: Real, const N: usize> Lanes for Arr<T, N> {
    const N: usize = N;
    #[inline(always)]
    unsafe fn load(p: *const T) -> Self {
        // SAFETY: the caller's contract.
        unsafe { Self::load_n(p, N) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut T) {
        for k in 0..N {
            unsafe { *p.add(k) = self.0[k] };
        }
    }
    #[inline(always)]
    fn sum(self) -> T {
        if N == 1 {
            return self.0[0];
        }
        self.0.iter().fold(T::ZERO, |a, &v| a + v)
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
}

unsafe impl<T: Real, const N: usize> Tiles for Arr<T, N> {
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
    fn scale_ratio_terms<const D: usize>(a: &[Self; D], b: &[Self; D], _: &[Self; D]) -> ([Self; D], [Self; D]) {
        // The scalar kernel lane by lane: it covers every representable ratio.
        let mut t = [Self::splat(T::ZERO); D];
        for j in 0..D {
            for k in 0..N {
                t[j].0[k] = T::scale_ratio_term_fast(a[j].0[k], b[j].0[k]);
            }
        }
        (t, [Self::splat(T::ONE); D])
    }
    #[inline(always)]
    fn neg_log1pmx<const D: usize>(x: &[Self; D], y: &[Self; D]) -> [Self; D] {
        let mut r = *x;
        for j in 0..D {
            for k in 0..N {
                let (x, y) = (x[j].0[k], y[j].0[k]);
                // Far from y = 1 the logarithm of y itself (x − ln y > 0.05 there).
                r[j].0[k] = if y < T::HALF || y > T::TWO { x - y.ln() } else { T::ZERO - crate::scalar::log1pmx(x) };
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
                each!(self, o, D, |a, b| $tr::$f(a, b))
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
    const FUSED: bool = V::FUSED;
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
    fn neg_mul_add(self, a: Self, b: Self) -> Self {
        let mut r = self.0;
        for j in 0..D {
            r[j] = r[j].neg_mul_add(a.0[j], b.0[j]);
        }
        Many(r)
    }
    #[inline(always)]
    fn rsqrt(self) -> Self {
        each!(self, D, |v| v.rsqrt())
    }
}

unsafe impl<V: Bits, const D: usize> Bits for Many<V, D> {
    const MANT: u32 = V::MANT;
    const BIAS: u64 = V::BIAS;
    const TERMS: usize = V::TERMS;
    type M = [V::M; D];
    #[inline(always)]
    fn of(x: f64) -> Self {
        Many([V::of(x); D])
    }
    #[inline(always)]
    fn eq(self, o: Self) -> Self::M {
        core::array::from_fn(|j| self.0[j].eq(o.0[j]))
    }
    #[inline(always)]
    fn lt(self, o: Self) -> Self::M {
        core::array::from_fn(|j| self.0[j].lt(o.0[j]))
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
    fn add_int(self, o: Self) -> Self {
        each!(self, o, D, |a, b| a.add_int(b))
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
    fn shr_mant(self) -> Self {
        each!(self, D, |v| v.shr_mant())
    }
    #[inline(always)]
    fn shl_mant(self) -> Self {
        each!(self, D, |v| v.shl_mant())
    }
}
