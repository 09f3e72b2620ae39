//! The branch-free logarithm, written once for every lane type and the plain scalars.
//!
//! The reduction is musl's: `x = 2^k m` with `m` in `[√½, √2)` read from the bits of `x`
//! ([`split`]), then `ln m = 2 atanh(t)`, `t = (m − 1) / (m + 1)`, and
//! `2 atanh(t) = 2t + t z · 2 S(z)` with `z = t²` and the series `S(z) = Σ z^j / (2j + 3)`
//! ([`atanh_series`], Estrin's scheme; `|t| <= 0.1716`, so [`Bits::TERMS`] terms reach the
//! precision). On top of it:
//!
//! * [`ratio_split`] and [`atanh_parts`]: the pieces the diagonal row kernels fuse into their
//!   cancellation-free scale term ([`crate::rows`]);
//! * [`srt`] and [`neg_log1pmx`]: `½ (r² − 1) − ln r` and `x − ln(1 + x)` on lanes, for the
//!   multivariate row kernels ([`crate::mvn_rows`]);
//! * [`f32k`] and [`f64k`]: `ln` and `½ (r² − 1) − ln r` on scalars (subnormals and extreme
//!   ratios included), behind [`crate::Real::ln_fast`] and [`crate::scalar::scale_ratio_term`].
//!   Where the generic kernels branch, these compute both sides and select, so that LLVM
//!   vectorizes the loops that call them.

use super::arith::Bits;

/// `1.0`.
#[inline(always)]
fn one_bits<V: Bits>() -> u64 {
    V::BIAS << V::MANT
}

/// `√½` rounded down, the start of the reduced binade.
#[inline(always)]
fn sqrt_half_bits<V: Bits>() -> u64 {
    if V::MANT == 23 {
        0x3f35_04f3
    } else {
        0x3fe6_a09e_667f_3bcd
    }
}

/// `ln 2` in two parts, the first with trailing zeros so that `k ln2_hi` is exact.
#[inline(always)]
pub(crate) fn ln2<V: Bits>() -> (V, V) {
    if V::MANT == 23 {
        (V::of(f32::from_bits(0x3f31_7180) as f64), V::of(f32::from_bits(0x3717_f7d1) as f64))
    } else {
        (V::of(f64::from_bits(0x3fe6_2e42_fee0_0000)), V::of(f64::from_bits(0x3dea_39ef_3579_3c76)))
    }
}

/// `x = 2^k m`, `m` in `[√½, √2)`, read from the bits of a positive normal `x` (other `x` give
/// garbage, but no trap).
#[derive(Clone, Copy)]
pub(crate) struct Split<V> {
    /// The bits of `x` with `√½` moved to the start of a binade: its exponent field is `k + BIAS`.
    ix: V,
    /// That exponent field alone (the other bits zero).
    e: V,
}

#[inline(always)]
pub(crate) fn split<V: Bits>(x: V) -> Split<V> {
    let ix = x.add_bits(one_bits::<V>().wrapping_sub(sqrt_half_bits::<V>()));
    Split { ix, e: ix.and_bits((2 * V::BIAS + 1) << V::MANT) }
}

impl<V: Bits> Split<V> {
    /// `k` as a float, exactly: the exponent field placed in the mantissa of `2^MANT`.
    #[inline(always)]
    pub(crate) fn k(self) -> V {
        let magic = (1u64 << V::MANT) as f64;
        self.e.shr_mant().or_bits((V::BIAS + V::MANT as u64) << V::MANT) - V::of(magic + V::BIAS as f64)
    }
    /// `m`.
    #[inline(always)]
    pub(crate) fn m(self) -> V {
        self.ix.and_bits((1u64 << V::MANT) - 1).add_bits(sqrt_half_bits::<V>())
    }
    /// The bits of `2^k` relative to `1.0` (`k << MANT` as a wrapping integer), to shift the
    /// exponent of another value by `k`.
    #[inline(always)]
    fn k_bits(self) -> V {
        self.e.add_bits(one_bits::<V>().wrapping_neg())
    }
}

/// `2 S(z)` with [`Bits::TERMS`] terms (5, 6 or 11) by Estrin's scheme: pairs, then pairs of
/// pairs, a shorter dependency chain than Horner's with the same number of multiply-adds.
#[inline(always)]
pub(crate) fn atanh_series<V: Bits>(z: V) -> V {
    let c = |j: usize| V::of(2.0 / (2 * j + 3) as f64);
    let pair = |j: usize| c(j + 1).mul_add(z, c(j));
    let z2 = z * z;
    let z4 = z2 * z2;
    if V::TERMS <= 5 {
        c(4).mul_add(z2, pair(2)).mul_add(z2, pair(0))
    } else if V::TERMS == 6 {
        pair(4).mul_add(z4, pair(2).mul_add(z2, pair(0)))
    } else {
        let q0 = pair(2).mul_add(z2, pair(0));
        let q1 = pair(6).mul_add(z2, pair(4));
        let q2 = c(10).mul_add(z2, pair(8));
        q2.mul_add(z4 * z4, q1.mul_add(z4, q0))
    }
}

/// `(t z, 2 S(z))` with `z = t²`, so that `2 atanh(t) = 2t + t z · 2 S(z)`: two factors, so
/// that callers fold the last product into a multiply-add.
#[inline(always)]
pub(crate) fn atanh_parts<V: Bits>(t: V) -> (V, V) {
    let z = t * t;
    (t * z, atanh_series(z))
}

/// `ln(1 + w) − w` for `|w| <= 0.415`: `t = w / (2 + w)`, `t (z · 2 S(z) − w)`.
#[inline(always)]
fn log1pmx_small<V: Bits>(w: V) -> V {
    let t = w / (V::of(2.0) + w);
    let z = t * t;
    t * z.mul_add(atanh_series(z), -w)
}

/// `(S, k)` for a ratio `r = s1 / s2 = 2^k m`: `S = s2 · 2^k`, exact (an exponent shift done on
/// the bits), and `k` as a float. For positive normal `r` and `s2` with `S` in the normal range.
#[inline(always)]
pub(crate) fn ratio_split<V: Bits>(r: V, s2: V) -> (V, V) {
    let s = split(r);
    (s2.add_int(s.k_bits()), s.k())
}

/// `(½ (r² − 1) − ln r, r)`, `r = |a / b|`, from `inv_b = 1 / b`: near `r = 1` (`r` in
/// `[√½, √2)`) `½ u² − log1pmx(u)` with `u = (|a| − |b|) / |b|` (the difference exact there),
/// else `½ (r² − 1) − ln r` with `ln r` from `r = 2^k m`. For `r` normal.
#[inline(always)]
pub(crate) fn srt<V: Bits>(a: V, b: V, inv_b: V) -> (V, V) {
    let (a, b, ib) = (a.abs(), b.abs(), inv_b.abs());
    let (one, half) = (V::of(1.0), V::of(0.5));
    let r = a * ib;
    let u = (a - b) * ib;
    let s = split(r);
    let k = s.k();
    let near = k.eq(V::of(0.0));
    let w = V::select(near, u, s.m() - one);
    let head = V::select(near, half * (u * u), half * r.mul_add(r, -one) - w);
    let (hi, lo) = ln2::<V>();
    (head - k.mul_add(hi, k.mul_add(lo, log1pmx_small(w))), r)
}

/// `x − ln y` for `y = 1 + x > 0` given (exactly, or more accurately than `1 + x` would round):
/// the series in `x` where `y` lies in `[√½, √2)`, else `x − ln y` (there `|x − ln y| > 0.05`,
/// so that the rounding of `x` costs a few ulp at most).
#[inline(always)]
pub(crate) fn neg_log1pmx<V: Bits>(x: V, y: V) -> V {
    let one = V::of(1.0);
    let s = split(y);
    let k = s.k();
    let near = k.eq(V::of(0.0));
    let w = V::select(near, x, s.m() - one);
    let l = log1pmx_small(w);
    let (hi, lo) = ln2::<V>();
    // far: x − (k ln 2 + w + log1pmx(w))
    let far = (x - k.mul_add(hi, w)) - k.mul_add(lo, l);
    V::select(near, -l, far)
}

/// `1/n!` for `n = 0..=15`: the Taylor coefficients of [`expm1mx_reduced`] (to `1/13!`) and of
/// the scalar `exp` and `expm1mx` of [`crate::special`]'s fast paths (to `1/15!`).
pub(crate) const INV_FACT_16: [f64; 16] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
    1.0 / 87_178_291_200.0,
    1.0 / 1_307_674_368_000.0,
];

/// `e^r − 1 − r` for `|r| <= ½ ln 2` (plus rounding): `r² Σ r^j / (j + 2)!` to `r⁸` for `f32`
/// (the next term is below 4e-9 of the result) and to `r¹³` for `f64` (below 1e-16).
#[inline(always)]
fn expm1mx_reduced<V: Bits>(r: V) -> V {
    // 1/j!, j = 2..=top.
    let top = if V::MANT == 23 { 8 } else { 13 };
    let mut p = V::of(INV_FACT_16[top]);
    for &c in INV_FACT_16[2..top].iter().rev() {
        p = p.mul_add(r, V::of(c));
    }
    (r * r) * p
}

/// `(2^k, k, r)` with `x = k ln 2 + r`, `k` an integer and `|r| <= ½ ln 2` (plus rounding), for
/// `x` in the range [`exp_range`] (`2^k` is then normal).
#[inline(always)]
fn exp_split<V: Bits>(x: V) -> (V, V, V) {
    // 1.5 · 2^MANT: adding it rounds `x log2 e` to an integer in the low bits.
    let magic_bits = (V::BIAS + V::MANT as u64) << V::MANT | 1u64 << (V::MANT - 1);
    let magic = V::of(1.5 * (1u64 << V::MANT) as f64);
    let t = x.mul_add(V::of(core::f64::consts::LOG2_E), magic);
    let k = t - magic;
    let (hi, lo) = ln2::<V>();
    let r = k.mul_add(-lo, k.mul_add(-hi, x));
    // The low bits of `t` hold `k` (two's complement): `(k + BIAS) << MANT` is `2^k`.
    let scale = t.add_bits(V::BIAS.wrapping_sub(magic_bits)).shl_mant();
    (scale, k, r)
}

/// The arguments [`exp`] and [`expm1_pair`] handle: `[−87, 88]` for `f32`, `[−708, 709]` for
/// `f64` (callers clamp, or check that their values lie inside).
#[inline(always)]
pub(crate) fn exp_range<V: Bits>() -> (V, V) {
    if V::MANT == 23 {
        (V::of(-87.0), V::of(88.0))
    } else {
        (V::of(-708.0), V::of(709.0))
    }
}

/// `e^x`, branch-free, within 2 ulp for `x` in [`exp_range`]; garbage outside it (callers that
/// cannot rule that out clamp first, or check their arguments and discard such lanes).
#[inline(always)]
pub(crate) fn exp<V: Bits>(x: V) -> V {
    if V::MANT == 23 {
        // f32: `k = round(x log2 e)`, `r = x − k ln 2` (exact to the precision) from
        // `exp_split` (its `2^k` unused), `e^r` by a degree-6 polynomial fitted for its relative
        // error on `|r| <= ½ ln 2` (Lawson-weighted least squares on Chebyshev nodes against
        // mpmath, coefficients rounded to f32: 1.7e-8 there), scaled by `2^k` (one instruction on
        // AVX-512).
        let (_, k, r) = exp_split(x);
        let p = V::of(1.383_674_214_594_066_1e-3)
            .mul_add(r, V::of(8.374_898_694_455_624e-3))
            .mul_add(r, V::of(4.166_823_253_035_545_3e-2))
            .mul_add(r, V::of(0.166_664_198_040_962_22))
            .mul_add(r, V::of(0.499_999_910_593_032_84))
            .mul_add(r, V::of(1.0))
            .mul_add(r, V::of(1.0));
        return p.scale_exp2(k);
    }
    let (s, _, r) = exp_split(x);
    (r + expm1mx_reduced(r)).mul_add(s, s)
}

/// Whether the lean forms below apply to `V`: `f32` lanes with an FMA.
const fn lean<V: Bits>() -> bool {
    V::MANT == 23 && V::FUSED
}

/// `(k, r)` with `k = round(x log2 e)` (as [`exp_split`]'s) and `r = x − k ln 2` in one fused
/// multiply-add with `ln 2` rounded to `f32`: the reduction of the lean forms, `r` off by
/// `|k| · 1.9e-9` (unfused, the rounded product `k ln 2` would cost up to `|x| · 2^-25`
/// absolute, 70 units of roundoff at `x = 72`; hence [`lean`]).
#[inline(always)]
fn lean_split<V: Bits>(x: V) -> (V, V) {
    let (_, k, _) = exp_split(x);
    (k, k.mul_add(V::of(-core::f64::consts::LN_2), x))
}

/// `e^x` with two operations fewer than [`exp`], for kernels whose error bounds have room: on
/// `f32` lanes with an FMA within `4 + |x| / 16` units of roundoff (`2^-24`, relative) for `x`
/// in [`exp_range`], checked on every lane type by
/// `simd::tests::f32_lean_exps_are_within_their_bounds`; on `f64`, and where
/// [`Arith::FUSED`](super::Arith::FUSED) is false, [`exp`] itself. Garbage outside the range, as
/// [`exp`].
///
/// The savings: the one-step reduction of [`lean_split`], whose error is the `|x| / 16` term,
/// and a degree-5 polynomial for `e^r` (fitted like [`exp`]'s,
/// `tests/reference/exp_fit.py exp 5`: 1.6 units on `|r| <= ½ ln 2`).
#[inline(always)]
pub(crate) fn exp_lean<V: Bits>(x: V) -> V {
    if !lean::<V>() {
        return exp(x);
    }
    let (k, r) = lean_split(x);
    let p = V::of(8.290_315_046_906_471e-3)
        .mul_add(r, V::of(4.189_793_020_486_832e-2))
        .mul_add(r, V::of(0.166_676_357_388_496_4))
        .mul_add(r, V::of(0.499_991_506_338_119_5))
        .mul_add(r, V::of(0.999_999_701_976_776_1))
        .mul_add(r, V::of(1.0));
    p.scale_exp2(k)
}

/// `(e^x − 1, e^x − 1 − x)`, both with small relative error, for `x <= ` the top of
/// [`exp_range`] (garbage above it; below its bottom, `x` is raised to it: `e^x − 1 = −1` to the
/// precision). The second is the reduced series itself where `|x| <= ½ ln 2` (`k = 0`, `r = x`
/// exactly); beyond, `e^x − 1 − x` cancels by at most a factor of 7.
#[inline(always)]
pub(crate) fn expm1_pair<V: Bits>(x: V) -> (V, V) {
    let x = x.max(exp_range::<V>().0);
    let (s, k, r) = exp_split(x);
    let m = expm1mx_reduced(r);
    // 2^k (e^r − 1) + (2^k − 1): no cancellation beyond a factor of about 2.
    let e = (r + m).mul_add(s, s - V::of(1.0));
    (e, V::select(k.eq(V::of(0.0)), m, e - x))
}

/// [`expm1_pair`] with [`exp_lean`]'s savings on `f32` lanes with an FMA (the one-step
/// reduction of [`lean_split`], and a degree-4 polynomial for `(e^r − 1 − r) / r²` fitted like [`exp`]'s,
/// `tests/reference/exp_fit.py expm1mx 4`: 2.3 units of roundoff): both within `12 + |x| / 16`
/// units relative (the second is `e − x` where `k != 0`, which cancels by up to a factor of 7),
/// checked by `simd::tests::f32_lean_exps_are_within_their_bounds` (9.8 units at worst). On
/// `f64`, and where [`Arith::FUSED`](super::Arith::FUSED) is false, [`expm1_pair`] itself.
#[inline(always)]
pub(crate) fn expm1_pair_lean<V: Bits>(x: V) -> (V, V) {
    if !lean::<V>() {
        return expm1_pair(x);
    }
    let one = V::of(1.0);
    let x = x.max(exp_range::<V>().0);
    let (k, r) = lean_split(x);
    let g = V::of(1.390_128_512_866_795e-3)
        .mul_add(r, V::of(8.363_140_746_951_103e-3))
        .mul_add(r, V::of(4.166_685_417_294_502e-2))
        .mul_add(r, V::of(0.166_665_777_564_048_77))
        .mul_add(r, V::of(0.5));
    let m = (r * r) * g;
    let s = one.scale_exp2(k);
    let e = (r + m).mul_add(s, s - one);
    (e, V::select(k.eq(V::of(0.0)), m, e - x))
}

/// `(ln(1 + x), ln(1 + x) − x)` for `y = 1 + x > 0` given (rounded, or exact): the series in `x`
/// itself where `y` lies in `[√½, √2)`, so that both keep their relative accuracy for small `x`;
/// else from `y = 2^k m` (there `|ln y| > 0.34` and `|ln y − x| > 0.05`). For `y` normal.
#[inline(always)]
pub(crate) fn ln1p_pair<V: Bits>(x: V, y: V) -> (V, V) {
    let s = split(y);
    let k = s.k();
    let near = k.eq(V::of(0.0));
    let w = V::select(near, x, s.m() - V::of(1.0));
    let l = log1pmx_small(w);
    let (hi, lo) = ln2::<V>();
    let ln_y = k.mul_add(hi, w + k.mul_add(lo, l));
    (ln_y, V::select(near, l, ln_y - x))
}

macro_rules! scalar_kernels {
    (mod $m:ident: $t:ident, $u:ident, $i:ident, tiny = ($tiny_scale:expr, $tiny_bits:expr)) => {
        /// The scalar kernels at this precision.
        pub(crate) mod $m {
            use super::{ln2, log1pmx_small, split, Bits};

            const BIAS: $i = <$t as Bits>::BIAS as $i;
            const MANT: u32 = <$t as Bits>::MANT;

            /// `(k, m)` with `x = 2^k m`, `m` in `[√½, √2)`, for finite `x > 0` (subnormals
            /// scaled up first); other `x` give garbage that the callers replace.
            #[inline(always)]
            fn split_int(x: $t) -> ($i, $t) {
                let tiny = x < <$t>::MIN_POSITIVE;
                let s = split(if tiny { x * $tiny_scale } else { x });
                let k = (s.e.to_bits() >> MANT) as $i - BIAS - if tiny { $tiny_bits } else { 0 };
                (k, s.m())
            }

            /// `k` as a float without an integer conversion instruction (which would keep
            /// LLVM from vectorizing `f64` loops without AVX-512).
            #[inline(always)]
            fn float(k: $i) -> $t {
                let magic = (1 as $u) << MANT;
                <$t>::from_bits((magic as $t).to_bits() | (k + 4096) as $u) - (magic as $t + 4096.0)
            }

            #[inline(always)]
            fn k_ln2(k: $i) -> ($t, $t) {
                let (hi, lo) = ln2::<$t>();
                let k = float(k);
                (k * hi, k * lo)
            }

            /// Branch-free natural logarithm.
            #[inline(always)]
            pub fn ln(x: $t) -> $t {
                let (k, m) = split_int(x);
                let w = m - 1.0;
                let (hi, lo) = k_ln2(k);
                let v = hi + (w + (log1pmx_small(w) + lo));
                // Selects, not branches.
                if x > 0.0 && x < <$t>::INFINITY {
                    v
                } else if x == 0.0 {
                    <$t>::NEG_INFINITY
                } else if x == <$t>::INFINITY {
                    x
                } else {
                    <$t>::NAN
                }
            }

            /// Branch-free `½ (r² − 1) − ln r`, `r = |a| / |b|`.
            #[inline(always)]
            pub fn scale_ratio_term(a: $t, b: $t) -> $t {
                let (a, b) = (a.abs(), b.abs());
                let (ka, ma) = split_int(a);
                let (kb, mb) = split_int(b);
                // r = 2^(ka - kb) (ma / mb) with ma / mb in (1/2, 2): renormalize to [√½, √2).
                let q = ma / mb;
                let sqrt_half = <$t>::from_bits(super::sqrt_half_bits::<$t>() as $u);
                let (lo, hi) = (q < sqrt_half, q >= 2.0 * sqrt_half);
                let m = if lo {
                    q * 2.0
                } else if hi {
                    q * 0.5
                } else {
                    q
                };
                let k = ka - kb - (lo as $i) + (hi as $i);
                // Near r = 1 (k = 0): u = r - 1 from the exact difference of the mantissas
                // (a and b lie within a binade of each other there, so ma 2^(ka - kb) is exact).
                let s = if ka > kb {
                    2.0
                } else if ka < kb {
                    0.5
                } else {
                    1.0
                };
                let u = (ma * s - mb) / mb;
                // Far from it: r = m 2^k, with 2^k clamped to the normal range so that r² still
                // saturates to 0 or infinity exactly when the true one does.
                let p = <$t>::from_bits(((k.clamp(1 - BIAS, BIAS) + BIAS) as $u) << MANT);
                let r = m * p;
                let near = k == 0;
                let w = if near { u } else { m - 1.0 };
                let head = if near { 0.5 * (u * u) } else { 0.5 * (r * r - 1.0) - w };
                let (kh, kl) = k_ln2(k);
                let v = head - (kh + (log1pmx_small(w) + kl));
                if a > 0.0 && b > 0.0 && a < <$t>::INFINITY && b < <$t>::INFINITY {
                    v
                } else {
                    <$t>::NAN
                }
            }
        }
    };
}

scalar_kernels!(mod f32k: f32, u32, i32, tiny = (33_554_432.0, 25));
scalar_kernels!(mod f64k: f64, u64, i64, tiny = (18_014_398_509_481_984.0, 54));
