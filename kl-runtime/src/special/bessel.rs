//! Exponentially scaled modified Bessel functions of order 0 and 1, in `f64`.
//!
//! Up to `|x| = 8` the power series `I0(x) = Σ zᵏ / k!²`, `I1(x) = (x/2) Σ zᵏ / (k! (k+1)!)`,
//! `z = x²/4`, whose terms are all positive (23 terms reach `f64` precision at 8). Beyond, a
//! fitted polynomial ([`super::coef`]) of `√x e^(−x) I(x)` in `w = 8 / x`, which tends to
//! `1/√(2π)` as `x → ∞`.

use super::coef::{BESSEL_XB, I0E_TAIL, I1E_TAIL};
use super::gamma::poly;
use crate::simd::math::f64k::ln;

/// Terms of the power series.
const TERMS: usize = 23;

/// `1 / k!²`, `k = 0..TERMS`.
const I0_SERIES: [f64; TERMS] = {
    let mut c = [1.0; TERMS];
    let mut k = 1;
    while k < TERMS {
        c[k] = c[k - 1] / (k * k) as f64;
        k += 1;
    }
    c
};

/// `1 / (k! (k + 1)!)`, `k = 0..TERMS`.
const I1_SERIES: [f64; TERMS] = {
    let mut c = [1.0; TERMS];
    let mut k = 1;
    while k < TERMS {
        c[k] = c[k - 1] / (k * (k + 1)) as f64;
        k += 1;
    }
    c
};

/// `Σ_{k>=1} zᵏ / k!²`, `z = x²/4`: `I0(x) − 1` without the cancellation at small `x`.
#[inline(always)]
fn i0m1_series(z: f64) -> f64 {
    z * poly(z, &I0_SERIES[1..])
}

/// `I1(x) / (x/2)`.
#[inline(always)]
fn i1_series(z: f64) -> f64 {
    poly(z, &I1_SERIES)
}

/// The tail polynomial at `|x| > 8`: `√|x| e^(−|x|) I(|x|)`.
#[inline(always)]
fn tail(ax: f64, c: &[f64]) -> f64 {
    poly(2.0 * (BESSEL_XB / ax) - 1.0, c)
}

/// `e^(−|x|) I0(x)` for every real `x` (even); NaN for NaN, `0` at `±inf`.
#[inline]
pub fn i0e(x: f64) -> f64 {
    let ax = x.abs();
    if ax <= BESSEL_XB {
        let z = 0.25 * (x * x);
        (1.0 + i0m1_series(z)) * (-ax).exp()
    } else {
        tail(ax, &I0E_TAIL) / ax.sqrt()
    }
}

/// `e^(−|x|) I1(x)` for every real `x` (odd); NaN for NaN, `0` at `±inf`.
#[inline]
pub fn i1e(x: f64) -> f64 {
    let ax = x.abs();
    if ax <= BESSEL_XB {
        let z = 0.25 * (x * x);
        (0.5 * x) * i1_series(z) * (-ax).exp()
    } else {
        let v = tail(ax, &I1E_TAIL) / ax.sqrt();
        if x < 0.0 {
            -v
        } else {
            v
        }
    }
}

/// `ln I0(x)` for `x >= 0`, without overflow; `≈ x²/4` (relatively accurate) for small `x`.
/// NaN for `x < 0` or NaN.
#[inline]
pub fn ln_i0(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        f64::NAN
    } else if x <= BESSEL_XB {
        i0m1_series(0.25 * (x * x)).ln_1p()
    } else {
        // x + ln(tail) − ½ ln x; at x = inf, inf − inf is avoided by returning x.
        let v = x + (ln(tail(x, &I0E_TAIL)) - 0.5 * ln(x));
        if x == f64::INFINITY {
            x
        } else {
            v
        }
    }
}

/// `I1(x) / I0(x)` for `x >= 0` (`≈ x/2` at small `x`, `→ 1` as `x → ∞`); NaN for `x < 0`
/// or NaN.
#[inline]
pub fn bessel_ratio(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        f64::NAN
    } else if x <= BESSEL_XB {
        let z = 0.25 * (x * x);
        (0.5 * x) * i1_series(z) / (1.0 + i0m1_series(z))
    } else {
        tail(x, &I1E_TAIL) / tail(x, &I0E_TAIL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i1e_is_odd_and_i0e_even() {
        for x in [1e-300, 1e-8, 0.3, 1.0, 7.5, 12.0, 12.5, 40.0, 700.0, 1e10, f64::INFINITY] {
            assert_eq!(i1e(-x), -i1e(x), "{x}");
            assert_eq!(i0e(-x), i0e(x), "{x}");
        }
        assert_eq!(i1e(0.0), 0.0);
        assert_eq!(i0e(0.0), 1.0);
    }

    #[test]
    fn limits_and_nan() {
        assert_eq!(i0e(f64::INFINITY), 0.0);
        assert_eq!(i1e(f64::NEG_INFINITY), -0.0);
        assert!(i0e(f64::NAN).is_nan() && i1e(f64::NAN).is_nan());
        assert!(ln_i0(-1.0).is_nan() && bessel_ratio(-1e-300).is_nan());
        assert!(ln_i0(f64::NAN).is_nan() && bessel_ratio(f64::NAN).is_nan());
        assert_eq!(ln_i0(0.0), 0.0);
        assert_eq!(ln_i0(f64::INFINITY), f64::INFINITY);
        assert_eq!(bessel_ratio(0.0), 0.0);
        assert!((bessel_ratio(1e-300) - 5e-301).abs() < 1e-316);
        assert!((bessel_ratio(f64::INFINITY) - 1.0).abs() < 1e-15);
        assert!((ln_i0(1e-10) - 2.5e-21).abs() < 1e-36);
        // ln I0(1e6) = 1e6 − ½ ln(2π 1e6) + ln(1 + 1/(8e6) + ..).
        let want = 1e6 - 0.5 * (2.0 * core::f64::consts::PI * 1e6).ln() + 1.25e-7;
        assert!((ln_i0(1e6) - want).abs() < 1e-9);
    }
}
