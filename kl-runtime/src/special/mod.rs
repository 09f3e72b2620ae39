//! Special functions for the Gamma, Beta, Dirichlet and von Mises kernels: `ln Γ`, `ψ`, `ψ'`,
//! the scaled Bessel functions `I0`, `I1`, and the differences of `ln Γ` and `ψ` that those KLs
//! are sums of, accurate when the two distributions are close.
//!
//! | function | value | domain |
//! |---|---|---|
//! | [`lgamma`] | `ln Γ(x)` | `x > 0` |
//! | [`digamma`] | `ψ(x) = Γ'(x) / Γ(x)` | `x > 0` |
//! | [`trigamma`] | `ψ'(x)` | `x > 0` |
//! | [`i0e`], [`i1e`] | `e^(−\|x\|) I0(x)`, `e^(−\|x\|) I1(x)` | all `x` |
//! | [`ln_i0`] | `ln I0(x)` | `x >= 0` |
//! | [`bessel_ratio`] | `I1(x) / I0(x)` | `x >= 0` |
//! | [`lgamma_diff`] | `lgamma(a + h) − lgamma(a)` | `a > 0`, `a + h > 0` |
//! | [`lgamma_excess`] | `lgamma(a + h) − lgamma(a) − h ψ(a)` | `a > 0`, `a + h > 0` |
//! | [`digamma_diff`] | `ψ(a + h) − ψ(a)` | `a > 0`, `a + h > 0` |
//! | [`digamma_excess`] | `ψ(a + h) − ψ(a) − h ψ'(a)` | `a > 0`, `a + h > 0` |
//!
//! Outside its domain (and at NaN) each returns NaN; none panics. The four differences are
//! exactly `0` at `h = 0` (so `KL(p ‖ p) == 0`) and keep their relative accuracy as `h → 0`.
//! Their worst errors against 40-digit mpmath values, per function and precision, are in
//! `ACCURACY.md` next to this file (`tests/special.rs` measures and asserts them).
//!
//! Each function is a method of [`Real`] (so that generic kernels reach the per-type code) and
//! a free generic function here that calls it. `f64` is computed directly (`gamma`, `bessel`,
//! `diff`, with the fitted tables in `coef`); `f32` is computed in `f64` and rounded once: within
//! about half an `f32` ulp, and as fast as the `f64` loop (measured), since the `f64` paths are
//! polynomials and a few divisions either way.
//!
//! The `f32` Gamma, Beta and Dirichlet KL kernels do not call these: they use the branch-free
//! `E(a, h)` of `fast.rs` (fixed shift, one product instead of the shift loop), in `f64`, so
//! that the loops calling them vectorize; the functions here keep their bounds.

mod bessel;
mod coef;
mod diff;
pub(crate) mod fast;
mod gamma;
mod stirling;

use crate::real::Real;
pub use stirling::{digamma_tail, lgamma_correction, STIRLING_MIN};

/// The `f64` kernels behind the [`Real`] methods.
pub(crate) mod f64k {
    pub(crate) use super::bessel::{bessel_ratio, i0e, i1e, ln_i0};
    pub(crate) use super::diff::{digamma_diff, digamma_excess, lgamma_diff, lgamma_excess};
    pub(crate) use super::gamma::{digamma, lgamma, trigamma};
}

/// The `f32` kernels: the `f64` ones on the widened arguments, rounded once.
pub(crate) mod f32k {
    macro_rules! widen {
        ($($name:ident($($arg:ident),+);)+) => {$(
            #[inline(always)]
            pub(crate) fn $name($($arg: f32),+) -> f32 {
                super::f64k::$name($($arg as f64),+) as f32
            }
        )+};
    }
    widen! {
        lgamma(x); digamma(x); trigamma(x);
        i0e(x); i1e(x); ln_i0(x); bessel_ratio(x);
        lgamma_diff(a, h); lgamma_excess(a, h); digamma_diff(a, h); digamma_excess(a, h);
    }
}

macro_rules! generic {
    ($($(#[$doc:meta])* $name:ident($($arg:ident),+) => $first:ident.$method:ident($($rest:ident),*);)+) => {$(
        $(#[$doc])*
        #[inline(always)]
        pub fn $name<T: Real>($($arg: T),+) -> T {
            $first.$method($($rest),*)
        }
    )+};
}

generic! {
    /// `ln Γ(x)` for `x > 0` ([`Real::lgamma`]).
    lgamma(x) => x.lgamma();
    /// `ψ(x)` for `x > 0` ([`Real::digamma`]).
    digamma(x) => x.digamma();
    /// `ψ'(x)` for `x > 0` ([`Real::trigamma`]).
    trigamma(x) => x.trigamma();
    /// `e^(−|x|) I0(x)` for all `x` ([`Real::i0e`]).
    i0e(x) => x.i0e();
    /// `e^(−|x|) I1(x)` for all `x`, odd ([`Real::i1e`]).
    i1e(x) => x.i1e();
    /// `ln I0(x)` for `x >= 0`, without overflow ([`Real::ln_i0`]).
    ln_i0(x) => x.ln_i0();
    /// `I1(x) / I0(x)` for `x >= 0` ([`Real::bessel_ratio`]).
    bessel_ratio(x) => x.bessel_ratio();
    /// `lgamma(a + h) − lgamma(a)` ([`Real::lgamma_diff`]).
    lgamma_diff(a, h) => a.lgamma_diff(h);
    /// `lgamma(a + h) − lgamma(a) − h ψ(a)` ([`Real::lgamma_excess`]).
    lgamma_excess(a, h) => a.lgamma_excess(h);
    /// `ψ(a + h) − ψ(a)` ([`Real::digamma_diff`]).
    digamma_diff(a, h) => a.digamma_diff(h);
    /// `ψ(a + h) − ψ(a) − h ψ'(a)` ([`Real::digamma_excess`]).
    digamma_excess(a, h) => a.digamma_excess(h);
}

/// `ψ(y) − ψ(x)` for `x, y > 0`, with `h = y − x` as accurately as the caller has it (from the
/// parameters' own differences): [`digamma_diff`]`(x, h)` where `h` is small next to both (no
/// cancellation, exactly 0 at `h = 0`), else the plain difference `ψ(y) − ψ(x)`. Rebuilding `y`
/// as `x + h` from a rounded `h` would lose the smaller argument's digits when the two are far
/// apart (`x = 1e4`, `y = 1e-3`: `ψ(y) ≈ −1/y` with a relative error of 2e-9).
#[inline(always)]
pub fn digamma_between<T: Real>(x: T, h: T, y: T) -> T {
    if h.abs() <= T::HALF * x.min(y) {
        x.digamma_diff(h)
    } else {
        y.digamma() - x.digamma()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_between_keeps_a_small_argument_far_from_the_other() {
        // ψ(1e-3) − ψ(1e4) for the f64 inputs, mpmath at 50 digits: −1009.78586230295312906.
        let want = -1_009.785_862_302_953_1_f64;
        let got = digamma_between(1e4_f64, 1e-3 - 1e4, 1e-3);
        assert!((got - want).abs() <= 4e-16 * want.abs(), "{got} vs {want}");
        assert_eq!(digamma_between(2.5_f64, 0.0, 2.5), 0.0);
        assert_eq!(digamma_between(2.5_f64, 0.1, 2.6), digamma_diff(2.5, 0.1));
    }

    #[test]
    fn f32_is_the_rounded_f64_value() {
        for x in [1e-30_f32, 0.1, 1.0, 1.5, 2.0, 3.7, 11.0, 1e20] {
            let w = x as f64;
            assert_eq!(lgamma(x), lgamma(w) as f32);
            assert_eq!(digamma(x), digamma(w) as f32);
            assert_eq!(trigamma(x), trigamma(w) as f32);
            assert_eq!(i0e(-x), i0e(-w) as f32);
            assert_eq!(i1e(-x), i1e(-w) as f32);
            assert_eq!(ln_i0(x), ln_i0(w) as f32);
            assert_eq!(bessel_ratio(x), bessel_ratio(w) as f32);
            let h = -0.25 * x;
            assert_eq!(lgamma_diff(x, h), lgamma_diff(w, h as f64) as f32);
            assert_eq!(lgamma_excess(x, h), lgamma_excess(w, h as f64) as f32);
            assert_eq!(digamma_diff(x, h), digamma_diff(w, h as f64) as f32);
            assert_eq!(digamma_excess(x, h), digamma_excess(w, h as f64) as f32);
        }
    }

    #[test]
    fn no_panic_on_any_bit_pattern() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            let h = f64::from_bits(state.rotate_left(29));
            let vals = [
                lgamma(x),
                digamma(x),
                trigamma(x),
                i0e(x),
                i1e(x),
                ln_i0(x),
                bessel_ratio(x),
                lgamma_diff(x, h),
                lgamma_excess(x, h),
                digamma_diff(x, h),
                digamma_excess(x, h),
            ];
            // Inside the domain the value is a number (an overflow may give an infinity).
            if x > 0.0 && x.is_finite() {
                assert!(vals[..3].iter().all(|v| !v.is_nan()), "{x:e}: {vals:?}");
            }
        }
    }
}
