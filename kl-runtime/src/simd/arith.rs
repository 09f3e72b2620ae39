//! The arithmetic of lanes ([`Arith`]) and of their bits ([`Bits`]), and both for the plain
//! scalars `f32` and `f64`, on which the scalar kernels run the same branch-free logarithm
//! ([`super::math`]). Nothing here depends on [`crate::Real`], which is built on it.

use core::ops::{Add, Div, Mul, Neg, Sub};

/// Elementwise arithmetic on lanes of `T`.
///
/// # Safety
///
/// Implementations built on `std::arch` intrinsics may only be used inside functions compiled
/// with the matching target features (the dispatcher, [`super::dispatch`], guarantees that).
pub(crate) unsafe trait Arith:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self>
{
    type T: Copy;
    /// Whether [`Arith::mul_add`] rounds once (an FMA instruction). Kernels whose accuracy rests
    /// on an exact product inside a multiply-add (as [`super::math::exp_lean`]'s one-step
    /// reduction) check it and fall back where it is false.
    const FUSED: bool = false;
    fn splat(x: Self::T) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    /// The smaller value, either one if one is NaN.
    fn min(self, o: Self) -> Self;
    /// The larger value, either one if one is NaN.
    fn max(self, o: Self) -> Self;
    /// `self * a + b`, fused where that is cheap (never a libm call).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `b − self * a`, fused where that is cheap.
    fn neg_mul_add(self, a: Self, b: Self) -> Self;
    /// `1 / √self` within a few ulp, for normal positive `self`.
    fn rsqrt(self) -> Self;
}

/// Lanes of `f32` or `f64` with comparisons, selects and integer operations on their bits:
/// what the branch-free logarithms of [`super::math`] need. The constants describe the format.
///
/// # Safety
/// As [`Arith`].
pub(crate) unsafe trait Bits: Arith {
    /// Explicit mantissa bits: 23 or 52.
    const MANT: u32;
    /// The exponent bias: 127 or 1023.
    const BIAS: u64;
    /// Terms of the `atanh` series of [`super::math`] for this precision.
    const TERMS: usize;
    /// A lane mask.
    type M: Copy;
    /// Lanes from an `f64` constant (rounded to the lane precision).
    fn of(x: f64) -> Self;
    fn eq(self, o: Self) -> Self::M;
    /// `self < o` (false where either is NaN).
    fn lt(self, o: Self) -> Self::M;
    /// `a` where `m`, else `b`.
    fn select(m: Self::M, a: Self, b: Self) -> Self;
    /// The bits as unsigned integer lanes plus `c` (truncated to the lane width; wrapping).
    fn add_bits(self, c: u64) -> Self;
    /// The bits of `self` plus the bits of `o`, as unsigned integers (wrapping).
    fn add_int(self, o: Self) -> Self;
    fn and_bits(self, c: u64) -> Self;
    fn or_bits(self, c: u64) -> Self;
    /// The bits shifted right (logically) by [`Bits::MANT`].
    fn shr_mant(self) -> Self;
    /// The bits shifted left by [`Bits::MANT`] (an integer in the low bits moved into the
    /// exponent field).
    fn shl_mant(self) -> Self;
    /// `self · 2^k` for an integer `k` (as a float) with `2^k` normal; other `k` give garbage.
    #[inline(always)]
    fn scale_exp2(self, k: Self) -> Self {
        // `k + magic` holds `k` in its low bits (two's complement); `(k + BIAS) << MANT` are
        // the bits of `2^k`.
        let magic_bits = (Self::BIAS + Self::MANT as u64) << Self::MANT | 1u64 << (Self::MANT - 1);
        let magic = Self::of(1.5 * (1u64 << Self::MANT) as f64);
        self * (k + magic).add_bits(Self::BIAS.wrapping_sub(magic_bits)).shl_mant()
    }
}

macro_rules! scalar {
    ($t:ident, $u:ident, mant = $mant:expr, terms = $terms:expr) => {
        unsafe impl Arith for $t {
            type T = $t;
            #[inline(always)]
            fn splat(x: $t) -> $t {
                x
            }
            #[inline(always)]
            fn sqrt(self) -> $t {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> $t {
                $t::abs(self)
            }
            #[inline(always)]
            fn min(self, o: $t) -> $t {
                if self < o {
                    self
                } else {
                    o
                }
            }
            #[inline(always)]
            fn max(self, o: $t) -> $t {
                if self > o {
                    self
                } else {
                    o
                }
            }
            #[inline(always)]
            fn mul_add(self, a: $t, b: $t) -> $t {
                // Not `f64::mul_add`: without an FMA instruction that is a libm call.
                self * a + b
            }
            #[inline(always)]
            fn neg_mul_add(self, a: $t, b: $t) -> $t {
                b - self * a
            }
            #[inline(always)]
            fn rsqrt(self) -> $t {
                1.0 / $t::sqrt(self)
            }
        }

        unsafe impl Bits for $t {
            const MANT: u32 = $mant;
            const BIAS: u64 = $t::MAX_EXP as u64 - 1;
            const TERMS: usize = $terms;
            type M = bool;
            #[inline(always)]
            fn of(x: f64) -> $t {
                x as $t
            }
            #[inline(always)]
            fn eq(self, o: $t) -> bool {
                self == o
            }
            #[inline(always)]
            fn lt(self, o: $t) -> bool {
                self < o
            }
            #[inline(always)]
            fn select(m: bool, a: $t, b: $t) -> $t {
                if m {
                    a
                } else {
                    b
                }
            }
            #[inline(always)]
            fn add_bits(self, c: u64) -> $t {
                $t::from_bits(self.to_bits().wrapping_add(c as $u))
            }
            #[inline(always)]
            fn add_int(self, o: $t) -> $t {
                $t::from_bits(self.to_bits().wrapping_add(o.to_bits()))
            }
            #[inline(always)]
            fn and_bits(self, c: u64) -> $t {
                $t::from_bits(self.to_bits() & c as $u)
            }
            #[inline(always)]
            fn or_bits(self, c: u64) -> $t {
                $t::from_bits(self.to_bits() | c as $u)
            }
            #[inline(always)]
            fn shr_mant(self) -> $t {
                $t::from_bits(self.to_bits() >> $mant)
            }
            #[inline(always)]
            fn shl_mant(self) -> $t {
                $t::from_bits(self.to_bits() << $mant)
            }
        }
    };
}

// |t| <= 0.1716, z <= 0.0295: for f32 the sixth term is below 2e-10 of ln m; for f64 eleven
// terms bring the truncation below 1e-17.
scalar!(f32, u32, mant = 23, terms = 5);
scalar!(f64, u64, mant = 52, terms = 11);
