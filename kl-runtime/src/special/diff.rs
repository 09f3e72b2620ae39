//! Differences of `lgamma` and `ψ` at `a` and `a + h`, relatively accurate for every `h`: the
//! Gamma, Beta and Dirichlet KLs are sums of them, and near `p = q` the naive differences
//! lose every digit.
//!
//! Each one shifts `a` and `a + h` up with the recurrences until both are at least 10, where
//! every term of the result is summed in a form that needs no cancellation:
//!
//! ```text
//! lgamma_excess(a, h) = lgamma_excess(a + 1, h) − log1pmx(h / a)          (every term >= 0)
//! digamma_diff(a, h)  = digamma_diff(a + 1, h)  + h / (a (a + h))         (sign of h)
//! digamma_excess(a, h) = digamma_excess(a + 1, h) − h² / (a² (a + h))     (every term <= 0)
//! ```
//!
//! and then the asymptotic series of `lgamma` and `ψ` at `x` and `y = x + h`, term by term:
//! with `u = h / x`, `r = 1/x`, `s = 1/y`, the difference of a power is
//! `y⁻ⁿ − x⁻ⁿ = −u Tₙ` and its excess `y⁻ⁿ − x⁻ⁿ + n h x⁻ⁿ⁻¹ = u² Gₙ`, where
//! `Tₙ = Σ_{i<n} r^(n−1−i) s^(i+1)` and `Gₙ = Σ_{l<n} (n − l) r^(n−1−l) s^(l+1)` are sums of
//! positive terms (`T₁ = G₁ = s`, `Tₙ₊₁ = r Tₙ + sⁿ⁺¹`, `Gₙ₊₁ = r Gₙ + Tₙ₊₁`).
//! Where `a + h` is formed it is rounded once (a relative error of half an ulp, which moves
//! every result by less than an ulp); `u` comes from `h` itself.

use super::gamma::{digamma, lgamma_1p, ASYMPTOTIC, DIGAMMA_ASYM, STIRLING};
use crate::scalar::log1pmx;
use crate::simd::math::f64k::ln;

/// `a > 0`, `a + h > 0`, all finite.
#[inline(always)]
fn valid(a: f64, h: f64, y: f64) -> bool {
    a > 0.0 && y > 0.0 && a.is_finite() && h.is_finite() && y.is_finite()
}

/// `ln(1 + u) − u` with `1 + u = y / x`: from `u` unless `u < −½`, where `1 + h/x` would
/// round away the digits of `y` and the ratio of the two arguments is the accurate form.
#[inline(always)]
fn log1pmx_xy(u: f64, x: f64, y: f64) -> f64 {
    if u < -0.5 {
        ln(y / x) - u
    } else {
        log1pmx(u)
    }
}

/// The power sums of one asymptotic series `Σ c_j z^(−n_j)`, `n_j = 2j − 1` (`odd`) or `2j`,
/// between `x = 1/r` and `y = 1/s`.
struct Series {
    /// `Σ c_j G_{n_j}`: the excess is `u²` times this.
    g: f64,
    /// `Σ c_j (n_j rⁿʲ − T_{n_j})`: the excess is `u` times this (cancels as `u → 0`).
    d: f64,
    /// `Σ c_j T_{n_j}`: the difference is `−u` times this.
    t: f64,
}

impl Series {
    #[inline(always)]
    fn new(r: f64, s: f64, c: &[f64; 10], odd: bool) -> Series {
        let (mut rn, mut sn, mut t, mut g) = (r, s, s, s);
        let mut acc = Series { g: 0.0, d: 0.0, t: 0.0 };
        for n in 1..=20 {
            if (n % 2 == 1) == odd {
                let cj = c[(n - 1) / 2];
                acc.g += cj * g;
                acc.d += cj * (n as f64 * rn - t);
                acc.t += cj * t;
            }
            rn *= r;
            sn *= s;
            t = r * t + sn;
            g = r * g + t;
        }
        acc
    }

    /// `Σ c_j (y^(−n_j) − x^(−n_j) + n_j h x^(−n_j−1))`.
    #[inline(always)]
    fn excess(&self, u: f64) -> f64 {
        if u.abs() < 0.5 {
            u * u * self.g
        } else {
            u * self.d
        }
    }
}

/// `lgamma(a + h) − lgamma(a) − h ψ(a)` for `a > 0`, `a + h > 0` (`>= 0`, `≈ ψ'(a) h² / 2`);
/// exactly `0` at `h = 0`, NaN outside the domain.
#[inline]
pub fn lgamma_excess(a: f64, h: f64) -> f64 {
    let y = a + h;
    if !valid(a, h, y) {
        return f64::NAN;
    }
    if h == 0.0 {
        return 0.0;
    }
    let (mut sum, mut k) = (0.0, 0.0);
    while a.min(y) + k < ASYMPTOTIC {
        let (xk, yk) = (a + k, y + k);
        sum -= log1pmx_xy(h / xk, xk, yk);
        k += 1.0;
    }
    let (x, y) = (a + k, y + k);
    let u = h / x;
    // (y − ½) ln(y/x) − h + h/(2x), rewritten with L = ln(1 + u) − u as (y − ½) L + h u, which
    // cancels only by a factor 2 for small u; far above u = 3/2 the first form cancels less.
    let main = if u < 1.5 { (y - 0.5) * log1pmx_xy(u, x, y) + h * u } else { (y - 0.5) * ln(y / x) - h + 0.5 * u };
    let series = Series::new(1.0 / x, 1.0 / y, &STIRLING, true).excess(u);
    sum + (main + series)
}

/// `lgamma(a + h) − lgamma(a)` for `a > 0`, `a + h > 0`; exactly `0` at `h = 0`.
///
/// It is `h ψ(a) + lgamma_excess(a, h)` unless `h > a` and `ψ(a) < 0` (`a < x0`), where those
/// two cancel; there `lgamma_1p(a + h) − lgamma_1p(a) − ln((a + h) / a)`, with
/// `lgamma_1p(x) = lgamma(1 + x)` accurate near `x = 0`. The remaining cancellation (where
/// `lgamma(a + h) ≈ lgamma(a)`) is that of the function itself.
#[inline]
pub fn lgamma_diff(a: f64, h: f64) -> f64 {
    let y = a + h;
    if !valid(a, h, y) {
        return f64::NAN;
    }
    if h == 0.0 {
        return 0.0;
    }
    let psi = digamma(a);
    if h <= a || psi * h >= 0.0 {
        h * psi + lgamma_excess(a, h)
    } else {
        (lgamma_1p(y) - lgamma_1p(a)) - ln(y / a)
    }
}

/// `ψ(a + h) − ψ(a)` for `a > 0`, `a + h > 0` (`≈ h ψ'(a)`); exactly `0` at `h = 0`.
/// Every term has the sign of `h`.
#[inline]
pub fn digamma_diff(a: f64, h: f64) -> f64 {
    let y = a + h;
    if !valid(a, h, y) {
        return f64::NAN;
    }
    if h == 0.0 {
        return 0.0;
    }
    let (mut sum, mut k) = (0.0, 0.0);
    while a.min(y) + k < ASYMPTOTIC {
        let (xk, yk) = (a + k, y + k);
        sum += (h / xk) / yk;
        k += 1.0;
    }
    let (x, y) = (a + k, y + k);
    let u = h / x;
    let s = 1.0 / y;
    // ψ(y) − ψ(x) = ln(y/x) + h / (2xy) − Σ d_j (y^(−2j) − x^(−2j)).
    let log = if u.abs() < 0.5 { u.ln_1p() } else { ln(y / x) };
    let series = Series::new(1.0 / x, s, &DIGAMMA_ASYM, false);
    sum + (log + u * (0.5 * s + series.t))
}

/// `ψ(a + h) − ψ(a) − h ψ'(a)` for `a > 0`, `a + h > 0` (`<= 0`, `≈ ψ''(a) h² / 2`); exactly
/// `0` at `h = 0`. Every term is `<= 0`.
#[inline]
pub fn digamma_excess(a: f64, h: f64) -> f64 {
    let y = a + h;
    if !valid(a, h, y) {
        return f64::NAN;
    }
    if h == 0.0 {
        return 0.0;
    }
    let (mut sum, mut k) = (0.0, 0.0);
    while a.min(y) + k < ASYMPTOTIC {
        let (xk, yk) = (a + k, y + k);
        // h² / (x² y), as (h/x)(h/y)/x so that it overflows only where the result does.
        sum -= (h / xk) * (h / yk) / xk;
        k += 1.0;
    }
    let (x, y) = (a + k, y + k);
    let u = h / x;
    // ln(y/x) − u − h² / (2x²y) − Σ d_j (y^(−2j) − x^(−2j) + 2j h x^(−2j−1)).
    let series = Series::new(1.0 / x, 1.0 / y, &DIGAMMA_ASYM, false).excess(u);
    sum + (log1pmx_xy(u, x, y) - (0.5 * u * (h / y) / x + series))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_step_is_exactly_zero() {
        for a in [1e-300, 1e-3, 0.5, 1.0, 1.461_632_144_968_362_3, 2.0, 9.99, 10.0, 1e3, 1e300] {
            assert_eq!(lgamma_diff(a, 0.0), 0.0, "{a}");
            assert_eq!(lgamma_excess(a, 0.0), 0.0, "{a}");
            assert_eq!(digamma_diff(a, 0.0), 0.0, "{a}");
            assert_eq!(digamma_excess(a, 0.0), 0.0, "{a}");
        }
    }

    #[test]
    fn outside_the_domain_is_nan() {
        let fs: [fn(f64, f64) -> f64; 4] = [lgamma_diff, lgamma_excess, digamma_diff, digamma_excess];
        for f in fs {
            for (a, h) in [(0.0, 1.0), (-1.0, 2.0), (1.0, -1.0), (1.0, -2.0), (f64::NAN, 0.0), (1.0, f64::NAN)] {
                assert!(f(a, h).is_nan(), "({a}, {h})");
            }
            assert!(f(f64::INFINITY, 0.0).is_nan() && f(1.0, f64::INFINITY).is_nan());
        }
    }

    #[test]
    fn tiny_steps_keep_the_leading_term() {
        // h ψ(a), h ψ'(a) to first order; the excesses vanish to second order.
        let (a, h) = (3.0, 1e-300);
        let (psi3, trigamma3) = (0.922_784_335_098_467_1, 0.394_934_066_848_226_4);
        assert!((lgamma_diff(a, h) / (h * psi3) - 1.0).abs() < 1e-15);
        assert!((digamma_diff(a, h) / (h * trigamma3) - 1.0).abs() < 1e-15);
        assert!((digamma_diff(a, -h) / (-h * trigamma3) - 1.0).abs() < 1e-15);
        // ψ''(3) / 2 = −0.077..: h = 1e-150 keeps h² normal.
        let h = 1e-150;
        let half_psi2 = -0.077_056_903_159_594_3;
        assert!((digamma_excess(a, h) / (h * h * half_psi2) - 1.0).abs() < 1e-14);
        assert!((lgamma_excess(a, h) / (h * h * trigamma3 / 2.0) - 1.0).abs() < 1e-14);
    }

    #[test]
    fn signs() {
        for (a, h) in [(0.01, 5.0), (5.0, -4.99), (1e3, -999.0), (2.0, 1e-9), (0.3, -1e-12)] {
            assert!(lgamma_excess(a, h) > 0.0 && digamma_excess(a, h) < 0.0, "({a}, {h})");
            assert_eq!(digamma_diff(a, h) > 0.0, h > 0.0, "({a}, {h})");
        }
    }
}
