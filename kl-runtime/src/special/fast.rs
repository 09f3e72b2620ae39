//! Branch-free `E(a, h) = lnΓ(a + h) − lnΓ(a) − hψ(a)` in `f64`, for the `f32` Gamma, Beta and
//! Dirichlet KL kernels: no data-dependent branch, loop count or libm call, so that the loops
//! that call it vectorize (the careful [`super::diff::lgamma_excess`] shifts `a` up a
//! data-dependent number of times and costs ~140 ns).
//!
//! It shifts both arguments by a fixed [`SHIFT`] `= N` and sums the recurrence terms through
//! one product instead of `N` logarithms. With `x_k = a + k`, `y_k = a + h + k`,
//!
//! ```text
//! E(a, h) = E(a + N, h) − Σ_{k<N} log1pmx(h / x_k),
//! Σ_{k<N} log1pmx(h / x_k) = ln(B / A) − h Σ 1/x_k,      A = Π x_k, B = Π y_k,
//! ```
//!
//! and near `h = 0`, where that difference cancels, `= log1pmx(W) + D` with `W = (B − A) / A`
//! and `D = W − h Σ 1/x_k`, both from recurrences of same-signed terms (`Δ = B − A` and
//! `D₂ = Δ − h Σ_k Π_{j≠k} x_j` gain `h B_k` and `h Δ_k` per factor), so that only the
//! cancellation of `log1pmx(W) + D` itself remains, a factor of at most about `N`.
//! `E(a + N, h)` is the Stirling difference of [`super::diff`] with four terms, its power
//! sums in the positive form `u² G`; the truncation is below 1e-10 of `E` from `a + N >= 8`.
//!
//! Every product is formed on arguments scaled by a power of two (`a + N` to `[1, 2)`), so
//! that nothing overflows for any `f32` input whose `E` is finite. Accuracy: within 2.3e-12
//! relative of the careful path (the unit test below; the `f32` KLs against the `f64` ones
//! are in `tests/fast_f32`), far below the rounding to `f32`; the `f64` kernels keep the
//! careful path.

use crate::simd::math::{ln2, split, INV_FACT_16};

/// The fixed shift `N`: Stirling's four terms reach 1e-10 of `E` from `a + N >= 8`.
pub(crate) const SHIFT: usize = 8;

/// `B₂ⱼ / (2j (2j − 1))`, `j = 1..=4`: the fifth term's excess is below 1e-10 of `E` from
/// `a + N >= 8`.
const STIRLING: [f64; 4] = [1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0];

/// `2 / (2j + 3)`, `j = 0..7`: `2 S(z)` of the `atanh` series to `z⁷ < 2e-11` (`z <= 0.0295`),
/// which moves `log1pmx` by less than 1e-12 of itself.
const ATANH: [f64; 7] = [2.0 / 3.0, 2.0 / 5.0, 2.0 / 7.0, 2.0 / 9.0, 2.0 / 11.0, 2.0 / 13.0, 2.0 / 15.0];

/// `2^−e` for the binade `[2^e, 2^(e+1))` of a positive normal `x`, from its bits.
#[inline(always)]
fn inv_binade(x: f64) -> f64 {
    f64::from_bits((2046u64 << 52).wrapping_sub(x.to_bits() & (0x7ffu64 << 52)))
}

/// `ln(1 + w)` about to be taken as `ln q` (`q = 1 + w` formed separately, as a ratio): near
/// `q = 1` (`q` in `[√½, √2)`) the argument of the series is `w` itself, else `m − 1` for
/// `q = 2^k m`.
#[derive(Clone, Copy)]
pub(crate) struct Log1p {
    near: bool,
    /// `w` or `m − 1`: the argument of [`log1pmx_t`].
    pub(crate) arg: f64,
    k: f64,
}

#[inline(always)]
pub(crate) fn log1p_prep(w: f64, q: f64) -> Log1p {
    let s = split(q);
    let k = s.k();
    let near = k == 0.0;
    Log1p { near, arg: if near { w } else { s.m() - 1.0 }, k }
}

impl Log1p {
    /// `(log1pmx(w), ln q)` from `l = log1pmx(arg)`.
    #[inline(always)]
    pub(crate) fn finish(self, w: f64, l: f64) -> (f64, f64) {
        let (hi, lo) = ln2::<f64>();
        let ln_q = self.k * hi + (self.arg + (l + self.k * lo));
        (if self.near { l } else { ln_q - w }, ln_q)
    }
}

/// `ln(1 + w) − w` for `|w| <= 0.415` from `t = w / (2 + w)` (formed by the caller, so that
/// several share one division): `t (z · 2 S(z) − w)`, `z = t²`.
#[inline(always)]
pub(crate) fn log1pmx_t(w: f64, t: f64) -> f64 {
    let z = t * t;
    let z2 = z * z;
    let p = |j: usize| ATANH[j] + ATANH[j + 1] * z;
    let s = (p(0) + p(2) * z2) + (p(4) + ATANH[6] * z2) * (z2 * z2);
    t * (z * s - w)
}

/// `(t₁, t₂)` = `(w₁ / (2 + w₁), w₂ / (2 + w₂))` with one division.
#[inline(always)]
pub(crate) fn two_t(w1: f64, w2: f64) -> (f64, f64) {
    let (p1, p2) = (2.0 + w1, 2.0 + w2);
    let inv = 1.0 / (p1 * p2);
    (w1 * (p2 * inv), w2 * (p1 * inv))
}

/// `E(x, h)` with `y = x + h` (rounded or exact: `y` is read only as a magnitude, every
/// difference comes from `h`), for `x > 0`, `y > 0`; exactly `0` at `h = 0`, NaN outside the
/// domain.
#[inline(always)]
pub(crate) fn lgamma_excess(x: f64, y: f64, h: f64) -> f64 {
    let n = SHIFT as f64;
    let (xn, yn) = (x + n, y + n);
    let sc = inv_binade(xn);
    let hs = h * sc;
    // A, B, Δ = B − A, D₂ = Δ − h σ and σ = Σ_k Π_{j≠k} x_j, all scaled by powers of `sc`.
    let (mut a, mut b, mut d1, mut d2, mut sig) = (1.0, 1.0, 0.0, 0.0, 0.0);
    let (mut xk, mut yk) = (x * sc, y * sc);
    for _ in 0..SHIFT {
        d2 = xk * d2 + hs * d1;
        d1 = xk * d1 + hs * b;
        sig = xk * sig + a;
        a *= xk;
        b *= yk;
        // `(x + k) sc`, `(y + k) sc` (rounded once more: they are read only as magnitudes).
        xk += sc;
        yk += sc;
    }
    let (xs, ys) = (xn * sc, yn * sc);
    // 1/A, 1/x_N, 1/y_N from one division.
    let inv = 1.0 / (a * (xs * ys));
    let ia = (xs * ys) * inv;
    let ixn = (a * ys) * inv;
    let iyn = (a * xs) * inv;

    // Σ log1pmx(h / x_k): W, D, S = h σ / A and the ratio B / A.
    let w = d1 * ia;
    let shift = log1p_prep(w, b * ia);
    // Stirling at x_N: u = h / x_N, 1 + u = y_N / x_N.
    let u = hs * ixn;
    let stir = log1p_prep(u, ys * ixn);
    let (t1, t2) = two_t(shift.arg, stir.arg);
    let (l1, l2) = (log1pmx_t(shift.arg, t1), log1pmx_t(stir.arg, t2));

    let (_, ln_b_a) = shift.finish(w, l1);
    let shift_sum = if shift.near { l1 + d2 * ia } else { ln_b_a - hs * sig * ia };

    let (lpm, ln_q) = stir.finish(u, l2);
    // (y − ½) log1pmx(u) + h u, or (y − ½) ln(y/x) − h + u/2 where that cancels less.
    let main = if u < 1.5 { (yn - 0.5) * lpm + h * u } else { (yn - 0.5) * ln_q - h + 0.5 * u };
    // Σ c_j (y^(1−2j) − x^(1−2j) + (2j − 1) h x^(−2j)) = u² Σ c_j G_{2j−1}.
    let (r, s) = (ixn * sc, iyn * sc);
    let (mut sn, mut t, mut g) = (s, s, s);
    let mut series = STIRLING[0] * g;
    for &c in &STIRLING[1..] {
        for _ in 0..2 {
            sn *= s;
            t = r * t + sn;
            g = r * g + t;
        }
        series += c * g;
    }
    let e = (main + u * u * series) - shift_sum;
    let ok = x > 0.0 && y > 0.0 && x < f64::INFINITY && y < f64::INFINITY;
    // `B` overflows only where `E` is far beyond the f32 range.
    if !ok {
        f64::NAN
    } else if b < f64::INFINITY {
        e
    } else {
        f64::INFINITY
    }
}

/// Whether the kernels of `T` take these paths: `f32`, whose rounding hides their last digits
/// (a constant per monomorphization, so the test folds away).
#[inline(always)]
pub(crate) fn wide<T: crate::Real>() -> bool {
    T::EPSILON.to_f64() > 1e-10
}

/// [`crate::gamma_kl`]: `E(a1, h) + a1 (r − 1 − ln r) − h ln r`, every piece branch-free.
#[inline(always)]
pub(crate) fn gamma_kl(a1: f64, b1: f64, a2: f64, b2: f64) -> f64 {
    let h = a2 - a1;
    let ib = 1.0 / b1;
    let ub = (b2 - b1) * ib;
    let lp = log1p_prep(ub, b2 * ib);
    let t = lp.arg / (2.0 + lp.arg);
    let (lpm, ln_r) = lp.finish(ub, log1pmx_t(lp.arg, t));
    // `0 − x`: equal parameters give +0.
    lgamma_excess(a1, a2, h) + a1 * (0.0 - lpm) - h * ln_r
}

/// [`crate::beta_kl`]: `E(a1, ha) + E(b1, hb) − E(a1 + b1, ha + hb)`.
#[inline(always)]
pub(crate) fn beta_kl(a1: f64, b1: f64, a2: f64, b2: f64) -> f64 {
    let (ha, hb) = (a2 - a1, b2 - b1);
    lgamma_excess(a1, a2, ha) + lgamma_excess(b1, b2, hb) - lgamma_excess(a1 + b1, a2 + b2, ha + hb)
}

/// `e^x` without branches or libm calls (so that loops calling it vectorize), for
/// `−708 <= x <= 709` (clamped there: below, the result is about 3e-308 instead of smaller):
/// `x = k ln 2 + r` with `k` rounded by the `1.5·2^52` trick, `e^r` by its Taylor series to
/// `r^13` (`|r| <= ½ ln 2`: below 1e-16 relative), `2^k` placed in the exponent bits.
#[inline(always)]
pub(crate) fn exp_bf(x: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 709.0);
    let t = x.mul_add(core::f64::consts::LOG2_E, MAGIC);
    let k = t - MAGIC;
    let (hi, lo) = (0.693_147_180_369_123_8_f64, 1.908_214_929_270_587_7e-10_f64);
    let r = k.mul_add(-lo, k.mul_add(-hi, x));
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    for n in (0..13).rev() {
        // 1/n! for n = 12, .., 0.
        p = p.mul_add(r, INV_FACT_16[n]);
    }
    let scale = f64::from_bits(((t.to_bits().wrapping_sub(MAGIC.to_bits())).wrapping_add(1023)) << 52);
    p * scale
}

/// `ln(1 + y)` for `y >= 0`, branch-free: `ln q − ((q − 1) − y)/q` with `q = 1 + y` rounded
/// (the correction restores what the rounding of `q` lost; exact for tiny `y`).
#[inline(always)]
fn ln1p_bf(y: f64) -> f64 {
    let q = 1.0 + y;
    crate::simd::math::f64k::ln(q) - ((q - 1.0) - y) / q
}

/// `ln(1 + e^x)`, branch-free.
#[inline(always)]
fn softplus_bf(x: f64) -> f64 {
    x.max(0.0) + ln1p_bf(exp_bf(-x.abs()))
}

/// [`crate::bernoulli_kl_logits`] for finite logits, branch-free: both of its forms computed
/// and one selected, `e^x`, `ln` and `expm1` from polynomials.
#[inline(always)]
pub(crate) fn bernoulli_kl_logits(l1: f64, l2: f64) -> f64 {
    let flip = l1 > 0.0;
    let (a, b) = if flip { (-l1, -l2) } else { (l1, l2) };
    let h = b - a;
    let e1 = exp_bf(a);
    let s1 = e1 / (1.0 + e1);
    let far = (softplus_bf(b) - softplus_bf(a)) - s1 * h;
    // Near h = 0: log1pmx(s1 expm1(h)) + s1 expm1mx(h), expm1mx(h) = Σ_{n>=2} hⁿ/n! (to h^16).
    let hc = h.clamp(-1.0, 1.0);
    let mut q: f64 = 1.0 / 20_922_789_888_000.0;
    for n in (2..16).rev() {
        q = q.mul_add(hc, INV_FACT_16[n]);
    }
    let mx = q * hc * hc;
    let t = s1 * (hc + mx);
    // log1pmx(t) for t in [−0.32, 0.86]: the atanh series where |t| <= 0.4, else ln(1 + t) − t.
    let small = {
        let tc = t.clamp(-0.4, 0.4);
        let u = tc / (2.0 + tc);
        let z = u * u;
        let mut s = ATANH[6];
        for &c in ATANH[..6].iter().rev() {
            s = s.mul_add(z, c);
        }
        // 2 atanh(u) − t = 2u + u z S − t, with 2u − t = −t u.
        u * z * s - tc * u
    };
    let large = crate::simd::math::f64k::ln(1.0 + t) - t;
    let l1pmx = if t.abs() <= 0.4 { small } else { large };
    let near = l1pmx + s1 * mx;
    if h.abs() < 1.0 {
        near
    } else {
        far
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SplitMix64;

    /// Against the careful `f64` path on `a` log-uniform in `[1e-3, 1e4]`, `h = ±a r` with `r`
    /// log-uniform in `[1e-9, 1]` and `h = a r` with `r` up to `1e3`.
    #[test]
    fn matches_the_careful_excess() {
        let mut rng = SplitMix64(3);
        let mut worst = (0.0_f64, 0.0, 0.0);
        for i in 0..200_000 {
            let a = rng.uniform(1e-3_f64.ln(), 1e4_f64.ln()).exp();
            let r = rng.uniform(1e-9_f64.ln(), if i % 4 == 0 { 1e3_f64.ln() } else { 0.0 }).exp();
            let h = if i % 2 == 0 { a * r } else { -a * r.min(0.999) };
            let want = super::super::diff::lgamma_excess(a, h);
            let rel = ((lgamma_excess(a, a + h, h) - want) / want).abs();
            if rel > worst.0 {
                worst = (rel, a, h);
            }
        }
        assert!(worst.0 < 1e-9, "{worst:?}");
        assert_eq!(lgamma_excess(2.5, 2.5, 0.0), 0.0);
        assert!(lgamma_excess(0.0, 1.0, 1.0).is_nan() && lgamma_excess(1.0, -1.0, -2.0).is_nan());
        println!("fast lgamma_excess: worst {:.1e} rel at a = {}, h = {}", worst.0, worst.1, worst.2);
    }
}
