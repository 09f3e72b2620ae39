//! The floating-point abstraction every kernel is generic over.
//!
//! Only `f32` and `f64` implement [`Real`]. The trait lists exactly the operations the kernels use,
//! so that generated code can pick the precision with one type parameter.

use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real floating-point scalar: `f32` or `f64`.
///
/// The methods forward to the inherent methods of the primitive types; they exist so that kernels
/// can be written once, generically.
#[diagnostic::on_unimplemented(
    message = "kl computes in `f32` or `f64`, not `{Self}`",
    label = "not `f32` or `f64`",
    note = "every parameter of one kl expression has the same element type, `f32` or `f64`"
)]
pub trait Real:
    Copy
    + Send
    + Sync
    + PartialEq
    + PartialOrd
    + core::fmt::Debug
    + core::fmt::Display
    + Default
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + core::iter::Sum
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `2`.
    const TWO: Self;
    /// `0.5`.
    const HALF: Self;
    /// The Rust name of the type: `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// `ln(2π)`, rounded to the type.
    const LN_2PI: Self;
    /// Machine epsilon: the gap between `1` and the next representable value.
    const EPSILON: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// A quiet NaN.
    const NAN: Self;

    /// Rounds an `f64` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens (or keeps) this value as an `f64`.
    fn to_f64(self) -> f64;
    /// Converts a count, rounding to nearest for counts beyond the mantissa.
    fn from_usize(n: usize) -> Self;
    /// Natural logarithm (libm).
    fn ln(self) -> Self;
    /// Natural logarithm without a libm call or a branch, within about 1 ulp, so that loops
    /// over it vectorize ([`crate::scalar::ln`]).
    fn ln_fast(self) -> Self;
    /// `½ (r² − 1) − ln r`, `r = |a| / |b|`, branch-free ([`crate::scalar::scale_ratio_term`]).
    fn scale_ratio_term_fast(a: Self, b: Self) -> Self;
    /// `ln(1 + self)`, accurate for `self` near zero.
    fn ln_1p(self) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// `e^self - 1`, accurate for `self` near zero.
    fn exp_m1(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Sine (radians).
    fn sin(self) -> Self;
    /// Cosine (radians).
    fn cos(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `1 / self`.
    fn recip(self) -> Self;
    /// `true` unless the value is infinite or NaN.
    fn is_finite(self) -> bool;
    /// `self * a + b` with a single rounding (slow where the target has no FMA instruction).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// The larger value; if one is NaN, the other.
    fn max(self, o: Self) -> Self;
    /// The smaller value; if one is NaN, the other.
    fn min(self, o: Self) -> Self;

    /// `ln Γ(self)` for `self > 0`, else NaN ([`crate::special::lgamma`]).
    fn lgamma(self) -> Self;
    /// `ψ(self)` for `self > 0`, else NaN ([`crate::special::digamma`]).
    fn digamma(self) -> Self;
    /// `ψ'(self)` for `self > 0`, else NaN ([`crate::special::trigamma`]).
    fn trigamma(self) -> Self;
    /// `e^(−|self|) I0(self)` ([`crate::special::i0e`]).
    fn i0e(self) -> Self;
    /// `e^(−|self|) I1(self)` ([`crate::special::i1e`]).
    fn i1e(self) -> Self;
    /// `ln I0(self)` for `self >= 0`, else NaN ([`crate::special::ln_i0`]).
    fn ln_i0(self) -> Self;
    /// `I1(self) / I0(self)` for `self >= 0`, else NaN ([`crate::special::bessel_ratio`]).
    fn bessel_ratio(self) -> Self;
    /// `lgamma(self + h) − lgamma(self)` ([`crate::special::lgamma_diff`]).
    fn lgamma_diff(self, h: Self) -> Self;
    /// `lgamma(self + h) − lgamma(self) − h ψ(self)` ([`crate::special::lgamma_excess`]).
    fn lgamma_excess(self, h: Self) -> Self;
    /// `ψ(self + h) − ψ(self)` ([`crate::special::digamma_diff`]).
    fn digamma_diff(self, h: Self) -> Self;
    /// `ψ(self + h) − ψ(self) − h ψ'(self)` ([`crate::special::digamma_excess`]).
    fn digamma_excess(self, h: Self) -> Self;
    /// The largest integer `<= self`.
    fn floor(self) -> Self;
    /// The error function `erf(self)` (the `libm` crate's, musl's port: below 1 ulp).
    fn erf(self) -> Self;
}

macro_rules! impl_real {
    ($t:ident, $ln_2pi:expr, $fast:ident, $erf:ident) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const TWO: Self = 2.0;
            const HALF: Self = 0.5;
            const NAME: &'static str = stringify!($t);
            const LN_2PI: Self = $ln_2pi;
            const EPSILON: Self = $t::EPSILON;
            const INFINITY: Self = $t::INFINITY;
            const NAN: Self = $t::NAN;

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $t::ln(self)
            }
            #[inline(always)]
            fn ln_fast(self) -> Self {
                crate::simd::math::$fast::ln(self)
            }
            #[inline(always)]
            fn scale_ratio_term_fast(a: Self, b: Self) -> Self {
                crate::simd::math::$fast::scale_ratio_term(a, b)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                $t::ln_1p(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $t::exp(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                $t::exp_m1(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                $t::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $t::cos(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn recip(self) -> Self {
                $t::recip(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                $t::mul_add(self, a, b)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                $t::max(self, o)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                $t::min(self, o)
            }
            #[inline(always)]
            fn lgamma(self) -> Self {
                crate::special::$fast::lgamma(self)
            }
            #[inline(always)]
            fn digamma(self) -> Self {
                crate::special::$fast::digamma(self)
            }
            #[inline(always)]
            fn trigamma(self) -> Self {
                crate::special::$fast::trigamma(self)
            }
            #[inline(always)]
            fn i0e(self) -> Self {
                crate::special::$fast::i0e(self)
            }
            #[inline(always)]
            fn i1e(self) -> Self {
                crate::special::$fast::i1e(self)
            }
            #[inline(always)]
            fn ln_i0(self) -> Self {
                crate::special::$fast::ln_i0(self)
            }
            #[inline(always)]
            fn bessel_ratio(self) -> Self {
                crate::special::$fast::bessel_ratio(self)
            }
            #[inline(always)]
            fn lgamma_diff(self, h: Self) -> Self {
                crate::special::$fast::lgamma_diff(self, h)
            }
            #[inline(always)]
            fn lgamma_excess(self, h: Self) -> Self {
                crate::special::$fast::lgamma_excess(self, h)
            }
            #[inline(always)]
            fn digamma_diff(self, h: Self) -> Self {
                crate::special::$fast::digamma_diff(self, h)
            }
            #[inline(always)]
            fn digamma_excess(self, h: Self) -> Self {
                crate::special::$fast::digamma_excess(self, h)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                $t::floor(self)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                libm::$erf(self)
            }
        }
    };
}

// ln(2π) = 1.8378770664093454835606594728112...
// Rounding the f64 value again is exact here (checked by a test), and avoids a second literal.
impl_real!(f32, 1.837_877_066_409_345_5_f64 as f32, f32k, erff);
impl_real!(f64, 1.837_877_066_409_345_5_f64, f64k, erf);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_2pi_is_correctly_rounded() {
        // Parsing rounds correctly; `(2π).ln()` itself is one ulp off in f64.
        let digits = "1.8378770664093454835606594728112352797";
        assert_eq!(<f64 as Real>::LN_2PI, digits.parse::<f64>().unwrap());
        assert_eq!(<f32 as Real>::LN_2PI, digits.parse::<f32>().unwrap());
        let from_std = (2.0 * core::f64::consts::PI).ln();
        assert!((<f64 as Real>::LN_2PI - from_std).abs() <= f64::EPSILON * 2.0);
    }

    #[test]
    fn names() {
        assert_eq!(<f32 as Real>::NAME, "f32");
        assert_eq!(<f64 as Real>::NAME, "f64");
    }
}
