//! Batched diagonal-Gaussian kernels: one result per row of `d` contiguous elements, over a
//! whole batch, validated and computed in one pass over the data.
//!
//! These are what generated code calls for `Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)`,
//! `Normal(m, s).to_event(1) || Normal(0, 1).expand([d]).to_event(1)` and
//! `log_prob(Normal(m, s).to_event(1), x)` when every parameter has the full `[.., d]` shape (no
//! broadcasting). The batch is memory-bound, so the work per element has to fit in the time it
//! takes to stream the element in:
//!
//! * two divisions per element (`1 / s2`, and `t` below) instead of one per quotient, and the
//!   log reduction `r = 2^k m` read from the bits of `r` (no libm), with `ln m = 2 atanh(t)`,
//!   `t = (m − 1) / (m + 1)`, a short polynomial in `t²` evaluated by Estrin's scheme;
//! * the stable split of the scale term of [`crate::scale_ratio_term`], written so that nothing
//!   cancels near `r = 1` (see `scale_term`): `½ (r² − 1) − ln r = ½ u² + (u − 2t) − k ln 2 − T`,
//!   `u = (s1 − s2) / s2` from the exact difference, `T = 2 atanh(t) − 2t`, and `u − 2t = u t`
//!   exactly when `k = 0`, so near-equal distributions keep their relative accuracy;
//! * validation fused into the same pass: a running minimum over the scales and the
//!   quotients catches non-positive, subnormal and out-of-range values, and a NaN or infinite
//!   input makes its row's value non-finite, which is checked once per block of rows;
//! * explicit SIMD code chosen at run time: AVX-512F (16 `f32` or 8 `f64` lanes) when rows
//!   fill whole or half vectors, else AVX2 + FMA (8 or 4 lanes); rows summed lane-wise and
//!   reduced for several rows at once by a transpose. Elsewhere the same algorithm runs one
//!   lane at a time.
//!
//! A block whose values fall outside the fast kernel's domain (a subnormal scale, ratio `s1 / s2`
//! or `1 / s2`, an overflowing ratio) or whose value overflows is recomputed with the scalar kernels
//! ([`crate::normal_kl`] and friends), which handle every representable input.
//!
//! Every function returns `true` when every `out[i]` holds row `i`'s value; `false` when the
//! slice lengths disagree (`len != out.len() * d`) or, with `check`, when some value breaks its
//! rule (a location or `x` not finite, a scale not finite and `> 0`). `out` may then be partly
//! written; callers redo the batch on their careful path, which reports the precise error.
//!
//! ```
//! use kl_runtime::{normal_kl, normal_kl_rows};
//!
//! // Two rows of d = 3.
//! let (m1, s1) = ([0.0_f64, 1.0, 2.0, 0.5, 0.5, 0.5], [1.0, 2.0, 0.5, 1.0, 1.0, 1.0]);
//! let (m2, s2) = ([0.0_f64, 0.0, 0.0, 0.5, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
//! let mut out = [0.0; 2];
//! assert!(normal_kl_rows(3, &m1, &s1, &m2, &s2, &mut out, true));
//! let row0: f64 = (0..3).map(|i| normal_kl(m1[i], s1[i], m2[i], s2[i])).sum();
//! assert!((out[0] - row0).abs() <= 1e-15 * row0);
//! assert_eq!(out[1], 0.0);
//!
//! // A zero scale is caught.
//! let bad = [1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
//! assert!(!normal_kl_rows(3, &m1, &bad, &m2, &s2, &mut out, true));
//! ```

use crate::real::Real;
use crate::scalar::{normal_kl, normal_log_prob, std_normal_kl};
use core::any::TypeId;

/// `KL(N(m1, s1²) ‖ N(m2, s2²))` summed over each row of `d` elements:
/// `out[i] = Σ_j normal_kl(m1[i d + j], s1[..], m2[..], s2[..])`. See the [module](self) docs for
/// the contract.
pub fn normal_kl_rows<T: Real>(d: usize, m1: &[T], s1: &[T], m2: &[T], s2: &[T], out: &mut [T], check: bool) -> bool {
    dispatch(d, Kind::NormalKl, [m1, s1, m2, s2], out, check)
}

/// `KL(N(m, s²) ‖ N(0, 1))` summed over each row of `d` elements.
pub fn std_normal_kl_rows<T: Real>(d: usize, m: &[T], s: &[T], out: &mut [T], check: bool) -> bool {
    dispatch(d, Kind::StdNormalKl, [m, s, m, s], out, check)
}

/// `log N(x; m, s²)` summed over each row of `d` elements.
pub fn normal_log_prob_rows<T: Real>(d: usize, x: &[T], m: &[T], s: &[T], out: &mut [T], check: bool) -> bool {
    dispatch(d, Kind::NormalLogProb, [x, m, s, s], out, check)
}

/// Which elementwise function a row sums. The kernels take it as a const parameter
/// (`Kind as u8`), so that each gets its own loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Kind {
    /// inputs `[m1, s1, m2, s2]`
    NormalKl,
    /// inputs `[m, s, _, _]`
    StdNormalKl,
    /// inputs `[x, m, s, _]`
    NormalLogProb,
}

impl Kind {
    const fn of(k: u8) -> Kind {
        match k {
            0 => Kind::NormalKl,
            1 => Kind::StdNormalKl,
            _ => Kind::NormalLogProb,
        }
    }
}

/// `f::<K>(args)` with `K` the const of `kind`.
macro_rules! with_kind {
    ($kind:expr, $f:ident :: <$($t:ty),*> ($($a:expr),*)) => {
        match $kind {
            Kind::NormalKl => $f::<$($t,)* 0>($($a),*),
            Kind::StdNormalKl => $f::<$($t,)* 1>($($a),*),
            Kind::NormalLogProb => $f::<$($t,)* 2>($($a),*),
        }
    };
}

fn dispatch<T: Real>(d: usize, kind: Kind, ins: [&[T]; 4], out: &mut [T], check: bool) -> bool {
    let Some(len) = out.len().checked_mul(d) else { return false };
    if ins.iter().any(|x| x.len() != len) {
        return false;
    }
    if d == 0 {
        out.fill(T::ZERO);
        return true;
    }
    if let (Some(ins), Some(out)) = (cast::<T, f32>(ins), cast_mut::<T, f32>(out)) {
        let rows = Rows { kind, d, ins: ins.map(<[f32]>::as_ptr), check };
        #[cfg(target_arch = "x86_64")]
        if (d.is_multiple_of(16) || d == 8) && avx512() {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA; lengths were checked above.
            return unsafe { x86::run_f32_avx512(&rows, out) };
        }
        #[cfg(target_arch = "x86_64")]
        if avx2() {
            // SAFETY: the CPU has AVX2 and FMA; lengths were checked above.
            return unsafe { x86::run_f32(&rows, out) };
        }
        // SAFETY: lengths were checked above.
        return unsafe { run::<f32>(&rows, out) };
    }
    if let (Some(ins), Some(out)) = (cast::<T, f64>(ins), cast_mut::<T, f64>(out)) {
        let rows = Rows { kind, d, ins: ins.map(<[f64]>::as_ptr), check };
        #[cfg(target_arch = "x86_64")]
        if (d.is_multiple_of(8) || d == 4) && avx512() {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA; lengths were checked above.
            return unsafe { x86::run_f64_avx512(&rows, out) };
        }
        #[cfg(target_arch = "x86_64")]
        if avx2() {
            // SAFETY: the CPU has AVX2 and FMA; lengths were checked above.
            return unsafe { x86::run_f64(&rows, out) };
        }
        // SAFETY: lengths were checked above.
        return unsafe { run::<f64>(&rows, out) };
    }
    false
}

#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// AVX-512F (16 `f32` or 8 `f64` lanes), used when whole rows fill such vectors.
#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    std::is_x86_feature_detected!("avx512f") && avx2()
}

/// `xs` as slices of `U` when `T` is `U` (only `f32` and `f64` implement [`Real`]).
fn cast<T: 'static, U: 'static>(xs: [&[T]; 4]) -> Option<[&[U]; 4]> {
    // SAFETY: `T` and `U` are the same type.
    (TypeId::of::<T>() == TypeId::of::<U>())
        .then(|| xs.map(|x| unsafe { core::slice::from_raw_parts(x.as_ptr().cast::<U>(), x.len()) }))
}

fn cast_mut<T: 'static, U: 'static>(x: &mut [T]) -> Option<&mut [U]> {
    // SAFETY: `T` and `U` are the same type.
    (TypeId::of::<T>() == TypeId::of::<U>())
        .then(|| unsafe { core::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<U>(), x.len()) })
}

/// One call's inputs: `out.len() * d` elements behind every pointer.
struct Rows<S> {
    kind: Kind,
    d: usize,
    ins: [*const S; 4],
    check: bool,
}

/// A vector of `N` lanes of `S` (or one plain `S`), with the operations the kernels need.
trait Lane: Copy {
    type S: Real + LaneScalar;
    const N: usize;
    /// # Safety
    /// `p` points at `N` readable values.
    unsafe fn load(p: *const Self::S) -> Self;
    /// # Safety
    /// `p` points at `N` writable values.
    unsafe fn store(self, p: *mut Self::S);
    fn splat(x: f64) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    /// `self * b + c`.
    fn fma(self, b: Self, c: Self) -> Self;
    /// `c − self * b`.
    fn fnma(self, b: Self, c: Self) -> Self;
    /// The lane-wise minimum (NaN handling irrelevant: NaN is caught by the sticky FMA sum).
    fn min(self, o: Self) -> Self;
    /// `(S, k)` for a ratio `r = s1 / s2 = 2^k m` with `m` in `[√½, √2)`: `S = s2 · 2^k`, exact
    /// (an exponent shift done on the bits), and `k` as a float. For positive normal `r` and
    /// `s2` with `S` in the normal range.
    fn ratio_split(r: Self, s2: Self) -> (Self, Self);
    /// Lane-wise `if k == 0 { a } else { b }`.
    fn if_zero(k: Self, a: Self, b: Self) -> Self;
    /// Whether every lane of `lo` is at least `2 · MIN_POSITIVE` and every lane of `v` is
    /// finite.
    fn domain_ok(lo: Self, v: Self) -> bool;
    /// Lane `i` of the result is the sum of the lanes of `row(i)`, for `i < N` (the rows
    /// produced in order, kept in registers).
    fn transpose_sum(row: &mut impl RowSource<Self>) -> Self;
    /// Whether [`Lane::transpose_sum_pairs`] is implemented.
    const PAIRS: bool = false;
    /// Like [`Lane::transpose_sum`] for rows of `N / 2` lanes: `row(j)`, `j < N / 2`, holds rows
    /// `2j` (low half) and `2j + 1` (high half).
    fn transpose_sum_pairs(_row: &mut impl RowSource<Self>) -> Self {
        unreachable!("no pair reduction for this lane type")
    }
    /// The sum of the lanes.
    fn hsum(self) -> Self::S;
}

/// Bit-level constants of the scalar types.
trait LaneScalar: Copy {
    /// Terms of the `atanh` series in [`atanh_parts`] for this precision: 6 or 11.
    const TERMS: usize;
    fn ratio_split_bits(r: Self, s2: Self) -> (Self, Self);
}

impl LaneScalar for f32 {
    // |t| <= 0.1716, z <= 0.0295: the sixth term is below 2e-10 of ln m.
    const TERMS: usize = 5;
    #[inline(always)]
    fn ratio_split_bits(r: f32, s2: f32) -> (f32, f32) {
        // Moving √½ to the start of a binade makes the exponent field `k + 127`.
        let ix = r.to_bits().wrapping_add(0x3f80_0000 - SQRT_HALF_32);
        let kbits = (ix & 0x7f80_0000).wrapping_sub(0x3f80_0000);
        (f32::from_bits(s2.to_bits().wrapping_add(kbits)), ((kbits as i32) >> 23) as f32)
    }
}

impl LaneScalar for f64 {
    const TERMS: usize = 11;
    #[inline(always)]
    fn ratio_split_bits(r: f64, s2: f64) -> (f64, f64) {
        let ix = r.to_bits().wrapping_add(0x3ff0_0000_0000_0000 - SQRT_HALF_64);
        let kbits = (ix & 0x7ff0_0000_0000_0000).wrapping_sub(0x3ff0_0000_0000_0000);
        (f64::from_bits(s2.to_bits().wrapping_add(kbits)), ((kbits as i64) >> 52) as f64)
    }
}

/// The bits of `√½` rounded down into the binade below 1.
const SQRT_HALF_32: u32 = 0x3f35_04f3;
const SQRT_HALF_64: u64 = 0x3fe6_a09e_667f_3bcd;

/// The one-lane version: the portable path, and the scalar tails of the vector paths.
macro_rules! scalar_lane {
    ($t:ident) => {
        impl Lane for $t {
            type S = $t;
            const N: usize = 1;
            #[inline(always)]
            unsafe fn load(p: *const $t) -> $t {
                // SAFETY: the caller's contract.
                unsafe { *p }
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $t) {
                // SAFETY: the caller's contract.
                unsafe { *p = self }
            }
            #[inline(always)]
            fn splat(x: f64) -> $t {
                x as $t
            }
            #[inline(always)]
            fn add(self, o: $t) -> $t {
                self + o
            }
            #[inline(always)]
            fn sub(self, o: $t) -> $t {
                self - o
            }
            #[inline(always)]
            fn mul(self, o: $t) -> $t {
                self * o
            }
            #[inline(always)]
            fn div(self, o: $t) -> $t {
                self / o
            }
            #[inline(always)]
            fn fma(self, b: $t, c: $t) -> $t {
                // Not `mul_add`: without an FMA instruction that is a libm call.
                self * b + c
            }
            #[inline(always)]
            fn fnma(self, b: $t, c: $t) -> $t {
                c - self * b
            }
            #[inline(always)]
            fn min(self, o: $t) -> $t {
                if o < self {
                    o
                } else {
                    self
                }
            }
            #[inline(always)]
            fn ratio_split(r: $t, s2: $t) -> ($t, $t) {
                <$t as LaneScalar>::ratio_split_bits(r, s2)
            }
            #[inline(always)]
            fn if_zero(k: $t, a: $t, b: $t) -> $t {
                if k == 0.0 {
                    a
                } else {
                    b
                }
            }
            #[inline(always)]
            fn domain_ok(lo: $t, v: $t) -> bool {
                lo >= 2.0 * $t::MIN_POSITIVE && v.is_finite()
            }
            #[inline(always)]
            fn transpose_sum(row: &mut impl RowSource<$t>) -> $t {
                row.row(0)
            }
            #[inline(always)]
            fn hsum(self) -> $t {
                self
            }
        }
    };
}
scalar_lane!(f32);
scalar_lane!(f64);

/// Per-row sums of one element function: the row's value is `½ q + l + ln 2 · k + d · c`.
#[derive(Clone, Copy)]
struct Acc<V> {
    q: V,
    l: V,
    k: V,
}

/// The domain of a block: `lo` is the smallest value that must be a positive normal number
/// (at least `2 · MIN_POSITIVE`, so that `S = s2 · 2^k ≈ s1` stays normal too). With the rows'
/// values finite (checked on the results) that covers validity as well: a NaN or infinite input
/// makes its row NaN or infinite, a scale `<= 0` lands in `lo`.
#[derive(Clone, Copy)]
struct Dom<V> {
    lo: V,
}

impl<V: Lane> Dom<V> {
    #[inline(always)]
    fn new() -> Self {
        Dom { lo: V::splat(1.0) }
    }
    #[inline(always)]
    fn normal(&mut self, x: V) {
        self.lo = self.lo.min(x);
    }
    /// Whether the block was in the domain, given the values it produced.
    #[inline(always)]
    fn ok(&self, values: V) -> bool {
        V::domain_ok(self.lo, values)
    }
}

/// `2 / (2j + 3)`: the doubled coefficients of the `atanh` series `S(z) = Σ z^j / (2j + 3)`.
const ATANH: [f64; 11] = {
    let mut c = [0.0; 11];
    let mut j = 0;
    while j < c.len() {
        c[j] = 2.0 / (2 * j + 3) as f64;
        j += 1;
    }
    c
};

/// `2 S(z)` with `n` terms (6 or 11) by Estrin's scheme: pairs, then pairs of pairs, a shorter
/// dependency chain than Horner's with the same number of FMAs.
#[inline(always)]
fn atanh_series<V: Lane>(z: V, n: usize) -> V {
    let c = |j: usize| V::splat(ATANH[j]);
    let pair = |j: usize| c(j + 1).fma(z, c(j));
    let z2 = z.mul(z);
    let z4 = z2.mul(z2);
    if n <= 5 {
        c(4).fma(z2, pair(2)).fma(z2, pair(0))
    } else if n == 6 {
        pair(4).fma(z4, pair(2).fma(z2, pair(0)))
    } else {
        let q0 = pair(2).fma(z2, pair(0));
        let q1 = pair(6).fma(z2, pair(4));
        let q2 = c(10).fma(z2, pair(8));
        q2.fma(z4.mul(z4), q1.fma(z4, q0))
    }
}

/// `(t z, 2 S(z))` with `z = t²` and the series `S(z) = Σ z^j / (2j + 3)`, so that
/// `2 atanh(t) = 2t + t z · 2 S(z)` (`|t| <= 0.172` here, where [`LaneScalar::TERMS`] terms
/// reach the precision): with `t = (m − 1) / (m + 1)`, `ln m = 2 atanh(t)`. Returned in two
/// factors so that callers fold the last product into an FMA.
#[inline(always)]
fn atanh_parts<V: Lane>(t: V) -> (V, V) {
    let z = t.mul(t);
    (t.mul(z), atanh_series(z, <V::S as LaneScalar>::TERMS))
}

/// Adds one vector of elements at flat offset `at` to `acc`.
///
/// # Safety
/// `at + V::N` elements are readable behind every input of `rows`.
#[inline(always)]
unsafe fn step<V: Lane, const K: u8>(rows: &Rows<V::S>, at: usize, acc: &mut Acc<V>, dom: &mut Dom<V>) {
    // SAFETY: the caller's contract.
    let ld = |i: usize| unsafe { V::load(rows.ins[i].add(at)) };
    let one = V::splat(1.0);
    match Kind::of(K) {
        Kind::NormalKl => {
            let (m1, s1, m2, s2) = (ld(0), ld(1), ld(2), ld(3));
            let inv = one.div(s2);
            let z = m1.sub(m2).mul(inv);
            let r = s1.mul(inv);
            dom.normal(s1.min(s2));
            dom.normal(r.min(inv));
            scale_term(s1, s2, s1.sub(s2).mul(inv), r, acc);
            acc.q = z.fma(z, acc.q);
        }
        Kind::StdNormalKl => {
            let (m, s) = (ld(0), ld(1));
            dom.normal(s);
            scale_term(s, one, s.sub(one), s, acc);
            acc.q = m.fma(m, acc.q);
        }
        Kind::NormalLogProb => {
            let (x, m, s) = (ld(0), ld(1), ld(2));
            let inv = one.div(s);
            let z = x.sub(m).mul(inv);
            dom.normal(s.min(inv));
            // -½ z² − ln s, ln s = k ln 2 + 2 atanh(t), t = (s − 2^k) / (s + 2^k).
            let (p, k) = V::ratio_split(s, one);
            let t = s.sub(p).div(s.add(p));
            acc.q = z.fma(z.mul(V::splat(-1.0)), acc.q);
            let (tz, p2) = atanh_parts(t);
            acc.l = acc.l.sub(tz.fma(p2, t.add(t)));
            acc.k = acc.k.sub(k);
        }
    }
}

/// `½ (r² − 1) − ln r` for `r = s1 / s2`, given `u = (s1 − s2) / s2 = r − 1`, split over
/// `acc` (`½ u²` into `q`, `−k` into `k`, the rest into `l`).
///
/// With `r = 2^k m`, `S = s2 2^k` (exact) and `t = (s1 − S) / (s1 + S) = (m − 1) / (m + 1)`
/// (`s1 − S` exact, `s1` and `S` within a factor `√2`): `ln r = k ln 2 + 2t + T` with
/// `T = 2 atanh(t) − 2t` ([`atanh_parts`]) and
///
/// ```text
/// ½ (r² − 1) − ln r = ½ u² + (u − 2t) − k ln 2 − T,
/// ```
///
/// where for `k = 0` (`S = s2`, `t = u / (2 + u)`) `u − 2t = u t` exactly: no cancellation
/// near `r = 1`, every term of `½ u² + u t − T` accurate to a few ulp.
#[inline(always)]
fn scale_term<V: Lane>(s1: V, s2: V, u: V, r: V, acc: &mut Acc<V>) {
    let (p, k) = V::ratio_split(r, s2);
    let t = s1.sub(p).div(s1.add(p));
    let lin = V::if_zero(k, u.mul(t), t.fma(V::splat(-2.0), u));
    let (tz, p2) = atanh_parts(t);
    acc.q = u.fma(u, acc.q);
    acc.l = acc.l.add(tz.fnma(p2, lin));
    acc.k = acc.k.sub(k);
}

/// The row value from its sums, as a vector whose lanes add up to it.
#[inline(always)]
fn combine<V: Lane>(acc: Acc<V>, c: V) -> V {
    // ln 2 in two parts: the `k` sums are exact integers.
    let hi = <V::S as Real>::from_f64(std::f64::consts::LN_2).to_f64();
    let lo = ln2_lo::<V::S>().to_f64();
    let k = acc.k;
    acc.q.fma(V::splat(0.5), acc.l).add(k.fma(V::splat(hi), k.mul(V::splat(lo)))).add(c)
}

/// `ln 2 − (ln 2 as S)`.
fn ln2_lo<S: Real>() -> S {
    // ln 2 to 40 digits, minus its rounding to `S` computed in f64 (exact for f32; for f64 the
    // tail of ln 2 beyond double precision).
    if S::EPSILON.to_f64() > 1e-10 {
        S::from_f64(std::f64::consts::LN_2 - (std::f64::consts::LN_2 as f32) as f64)
    } else {
        S::from_f64(2.319_046_813_846_299_6e-17)
    }
}

/// The per-element constant of a row (`−½ ln 2π` for `log_prob`) times the elements each lane
/// sums (`per_lane`), in every lane.
#[inline(always)]
fn row_constant<V: Lane>(kind: Kind, per_lane: usize) -> V {
    match kind {
        Kind::NormalLogProb => V::splat(-0.5 * <V::S as Real>::LN_2PI.to_f64() * per_lane as f64),
        // −0, not +0: `x + (−0) = x` for every `x`, so the add folds away.
        _ => V::splat(-0.0),
    }
}

/// The careful value of one element (the scalar kernels), or `None` when `check` and a value
/// breaks its rule.
///
/// # Safety
/// Element `at` is readable behind every input.
#[inline(never)]
unsafe fn careful<S: Real>(rows: &Rows<S>, at: usize) -> Option<S> {
    // SAFETY: the caller's contract.
    let ld = |i: usize| unsafe { *rows.ins[i].add(at) };
    let fin = |x: S| x.is_finite();
    let pos = |x: S| x.is_finite() && x > S::ZERO;
    let (ok, v) = match rows.kind {
        Kind::NormalKl => {
            let (m1, s1, m2, s2) = (ld(0), ld(1), ld(2), ld(3));
            (fin(m1) && fin(m2) && pos(s1) && pos(s2), normal_kl(m1, s1, m2, s2))
        }
        Kind::StdNormalKl => {
            let (m, s) = (ld(0), ld(1));
            (fin(m) && pos(s), std_normal_kl(m, s))
        }
        Kind::NormalLogProb => {
            let (x, m, s) = (ld(0), ld(1), ld(2));
            (fin(x) && fin(m) && pos(s), normal_log_prob(x, m, s))
        }
    };
    (ok || !rows.check).then_some(v)
}

/// Rows `lo..hi` with the scalar kernels.
///
/// # Safety
/// Every input holds `hi * d` elements and `out.len() >= hi`.
#[inline(never)]
unsafe fn careful_rows<S: Real>(rows: &Rows<S>, lo: usize, hi: usize, out: &mut [S]) -> bool {
    for (i, o) in out[lo..hi].iter_mut().enumerate() {
        let mut sum = S::ZERO;
        for j in 0..rows.d {
            // SAFETY: the caller's contract.
            match unsafe { careful(rows, (lo + i) * rows.d + j) } {
                Some(v) => sum += v,
                None => return false,
            }
        }
        *o = sum;
    }
    true
}

/// Elements per block in the flat layout (rows shorter than a vector).
const FLAT: usize = 512;

/// Produces the row vectors of a block for [`Lane::transpose_sum`] (a trait, not a closure:
/// closures do not inherit the target features of the function they are written in, and the
/// intrinsics would not be inlined into them).
trait RowSource<V> {
    /// The lanes of row `r` of the block (summing to the row's value).
    fn row(&mut self, r: usize) -> V;
}

/// `N` rows from `first` on, rows of whole vectors.
struct Block<'a, V: Lane, const K: u8> {
    rows: &'a Rows<V::S>,
    first: usize,
    c: V,
    dom: Dom<V>,
}

impl<V: Lane, const K: u8> RowSource<V> for Block<'_, V, K> {
    #[inline(always)]
    fn row(&mut self, r: usize) -> V {
        // −0: the first `acc + x` folds to `x` (not so for +0, since −0 + +0 = +0).
        let zero = V::splat(-0.0);
        let mut acc = Acc { q: zero, l: zero, k: zero };
        let d = self.rows.d;
        let base = (self.first + r) * d;
        let mut at = base;
        while at < base + d {
            // SAFETY: the caller of `run_lanes` guarantees `(first + N) * d` elements.
            unsafe { step::<V, K>(self.rows, at, &mut acc, &mut self.dom) };
            at += V::N;
        }
        combine(acc, self.c)
    }
}

/// The whole batch with lanes `V`.
///
/// # Safety
/// Every input holds `out.len() * rows.d` elements, `rows.d > 0`.
#[inline(always)]
unsafe fn run_lanes<V: Lane<S = S>, S: Real + LaneScalar + Lane<S = S>, const K: u8>(
    rows: &Rows<S>,
    out: &mut [S],
) -> bool {
    let (n, d, b) = (V::N, rows.d, out.len());
    // −0 starts the sums: see `Block::row`.
    let zero = V::splat(-0.0);
    let new_acc = || Acc { q: zero, l: zero, k: zero };
    let c = row_constant::<V>(rows.kind, d / n);
    let mut i = 0;
    if V::PAIRS && 2 * d == n {
        // Two rows per vector: N rows in N / 2 vectors, reduced at once.
        let pairs = Rows { d: n, ..*rows };
        let c = row_constant::<V>(rows.kind, 1);
        while i + n <= b {
            let mut block = Block::<V, K> { rows: &pairs, first: i / 2, c, dom: Dom::new() };
            let v = V::transpose_sum_pairs(&mut block);
            let dom = block.dom;
            if dom.ok(v) {
                // SAFETY: `i + n <= b`.
                unsafe { v.store(out.as_mut_ptr().add(i)) };
            } else if !unsafe { careful_rows(rows, i, i + n, out) } {
                return false;
            }
            i += n;
        }
        // SAFETY: the remaining rows, one lane at a time.
        return unsafe { run_lanes::<S, S, K>(&Rows { ins: rows.ins.map(|p| p.add(i * d)), ..*rows }, &mut out[i..]) };
    }
    if d % n == 0 {
        // Rows of whole vectors: lane-wise sums, N rows reduced at once.
        while i + n <= b {
            let mut block = Block::<V, K> { rows, first: i, c, dom: Dom::new() };
            let v = V::transpose_sum(&mut block);
            let dom = block.dom;
            if dom.ok(v) {
                // SAFETY: `i + n <= b`.
                unsafe { v.store(out.as_mut_ptr().add(i)) };
            } else if !unsafe { careful_rows(rows, i, i + n, out) } {
                return false;
            }
            i += n;
        }
        // The last rows one at a time.
        while i < b {
            let mut dom = Dom::new();
            let mut acc = new_acc();
            let mut at = i * d;
            while at < (i + 1) * d {
                // SAFETY: as above.
                unsafe { step::<_, K>(rows, at, &mut acc, &mut dom) };
                at += n;
            }
            let v = combine(acc, c).hsum();
            if dom.ok(V::splat(v.to_f64())) {
                out[i] = v;
            } else if !unsafe { careful_rows(rows, i, i + 1, out) } {
                return false;
            }
            i += 1;
        }
        return true;
    }
    if n > 1 && d * n <= FLAT {
        // Short rows: whole vectors over a block of `per` rows (`per * d` a multiple of `n`),
        // elements to a buffer, then each row summed from it.
        let per = n * (FLAT / (d * n));
        let mut buf = [S::ZERO; FLAT];
        let fresh = new_acc();
        while i + per <= b {
            let mut dom = Dom::new();
            let base = i * d;
            let mut at = 0;
            while at < per * d {
                let mut acc = fresh;
                // SAFETY: `base + at + n <= (i + per) * d <= b * d`.
                unsafe { step::<_, K>(rows, base + at, &mut acc, &mut dom) };
                // SAFETY: `at + n <= per * d <= FLAT`.
                unsafe { combine(acc, zero).store(buf.as_mut_ptr().add(at)) };
                at += n;
            }
            let c = row_constant::<S>(rows.kind, d);
            let mut nan = S::ZERO;
            for (r, o) in out[i..i + per].iter_mut().enumerate() {
                *o = buf[r * d..(r + 1) * d].iter().fold(c, |s, &v| s + v);
                nan += *o * S::ZERO;
            }
            if !dom.ok(V::splat(nan.to_f64())) && !unsafe { careful_rows(rows, i, i + per, out) } {
                return false;
            }
            i += per;
        }
        // SAFETY: the remaining rows, one lane at a time.
        return unsafe { run_lanes::<S, S, K>(&Rows { ins: rows.ins.map(|p| p.add(i * d)), ..*rows }, &mut out[i..]) };
    }
    // Long rows that are not whole vectors: vectors, then the tail one lane at a time.
    let whole = d - d % n;
    while i < b {
        let mut dom = Dom::new();
        let mut acc = new_acc();
        let base = i * d;
        let mut at = base;
        while at < base + whole {
            // SAFETY: `at + n <= base + d`.
            unsafe { step::<_, K>(rows, at, &mut acc, &mut dom) };
            at += n;
        }
        let (mut dom1, mut acc1) = (Dom::<S>::new(), Acc { q: S::ZERO, l: S::ZERO, k: S::ZERO });
        while at < base + d {
            // SAFETY: `at < base + d`.
            unsafe { step::<_, K>(rows, at, &mut acc1, &mut dom1) };
            at += 1;
        }
        let c = S::from_f64(-0.5 * S::LN_2PI.to_f64() * d as f64);
        let c = if rows.kind == Kind::NormalLogProb { c } else { S::ZERO };
        let v = combine(acc, zero).hsum() + combine(acc1, S::ZERO) + c;
        if dom.ok(V::splat(v.to_f64())) && dom1.ok(v) {
            out[i] = v;
        } else if !unsafe { careful_rows(rows, i, i + 1, out) } {
            return false;
        }
        i += 1;
    }
    true
}

impl<S> Clone for Rows<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Rows<S> {}

/// The portable path.
///
/// # Safety
/// Every input holds `out.len() * rows.d` elements, `rows.d > 0`.
unsafe fn run<S: Real + LaneScalar + Lane<S = S>>(rows: &Rows<S>, out: &mut [S]) -> bool {
    // SAFETY: the caller's contract.
    unsafe { with_kind!(rows.kind, run_lanes::<S, S>(rows, out)) }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{run_lanes, Kind, Lane, RowSource, Rows, SQRT_HALF_32, SQRT_HALF_64};
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub struct F32x8(__m256);
    #[derive(Clone, Copy)]
    pub struct F64x4(__m256d);

    /// # Safety
    /// The CPU has AVX2 and FMA; every input holds `out.len() * rows.d` elements, `rows.d > 0`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn run_f32(rows: &Rows<f32>, out: &mut [f32]) -> bool {
        // SAFETY: the caller's contract.
        unsafe { with_kind!(rows.kind, run_lanes::<F32x8, f32>(rows, out)) }
    }

    /// # Safety
    /// As [`run_f32`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn run_f64(rows: &Rows<f64>, out: &mut [f64]) -> bool {
        // SAFETY: the caller's contract.
        unsafe { with_kind!(rows.kind, run_lanes::<F64x4, f64>(rows, out)) }
    }

    /// # Safety
    /// The CPU has AVX-512F (and AVX2, FMA); every input holds `out.len() * rows.d` elements,
    /// `rows.d > 0`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn run_f32_avx512(rows: &Rows<f32>, out: &mut [f32]) -> bool {
        // SAFETY: the caller's contract.
        unsafe { with_kind!(rows.kind, run_lanes::<F32x16, f32>(rows, out)) }
    }

    /// # Safety
    /// As [`run_f32_avx512`].
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn run_f64_avx512(rows: &Rows<f64>, out: &mut [f64]) -> bool {
        // SAFETY: the caller's contract.
        unsafe { with_kind!(rows.kind, run_lanes::<F64x8, f64>(rows, out)) }
    }

    #[derive(Clone, Copy)]
    pub struct F32x16(__m512);
    #[derive(Clone, Copy)]
    pub struct F64x8(__m512d);

    // SAFETY (every `unsafe` block below): only reached from `run_f32_avx512` and
    // `run_f64_avx512`, which require AVX-512F; pointer arguments follow the trait's contract.
    impl Lane for F32x16 {
        type S = f32;
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
        fn splat(x: f64) -> Self {
            F32x16(unsafe { _mm512_set1_ps(x as f32) })
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            F32x16(unsafe { _mm512_add_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            F32x16(unsafe { _mm512_sub_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            F32x16(unsafe { _mm512_mul_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            F32x16(unsafe { _mm512_div_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn fma(self, b: Self, c: Self) -> Self {
            F32x16(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn fnma(self, b: Self, c: Self) -> Self {
            F32x16(unsafe { _mm512_fnmadd_ps(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            F32x16(unsafe { _mm512_min_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn ratio_split(r: Self, s2: Self) -> (Self, Self) {
            unsafe {
                let ix =
                    _mm512_add_epi32(_mm512_castps_si512(r.0), _mm512_set1_epi32(0x3f80_0000 - SQRT_HALF_32 as i32));
                let kbits = _mm512_sub_epi32(
                    _mm512_and_si512(ix, _mm512_set1_epi32(0x7f80_0000)),
                    _mm512_set1_epi32(0x3f80_0000),
                );
                let p = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(s2.0), kbits));
                (F32x16(p), F32x16(_mm512_cvtepi32_ps(_mm512_srai_epi32::<23>(kbits))))
            }
        }
        #[inline(always)]
        fn if_zero(k: Self, a: Self, b: Self) -> Self {
            unsafe {
                let z = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(k.0, _mm512_setzero_ps());
                F32x16(_mm512_mask_blend_ps(z, b.0, a.0))
            }
        }
        #[inline(always)]
        fn domain_ok(lo: Self, v: Self) -> bool {
            unsafe {
                let zero = _mm512_setzero_ps();
                let a = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(_mm512_mul_ps(v.0, zero), zero);
                let b = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(lo.0, _mm512_set1_ps(2.0 * f32::MIN_POSITIVE));
                a & b == 0xffff
            }
        }
        #[inline(always)]
        fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
            // Each row folded to 8 lanes, then two 8-row transposes. (No closure here: closures
            // do not inherit target features, and the intrinsics would not be inlined.)
            #[inline(always)]
            fn half(v: F32x16) -> F32x8 {
                let v = v.0;
                F32x8(unsafe {
                    _mm256_add_ps(
                        _mm512_castps512_ps256(v),
                        _mm512_castps512_ps256(_mm512_shuffle_f32x4::<0b1110_1110>(v, v)),
                    )
                })
            }
            let mut h = [F32x8::splat(0.0); 16];
            for (r, h) in h.iter_mut().enumerate() {
                *h = half(row.row(r));
            }
            let a = F32x8::transpose_sum(&mut Halves([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]));
            let b = F32x8::transpose_sum(&mut Halves([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]));
            unsafe {
                let lo = _mm512_castpd_ps(_mm512_castpd256_pd512(_mm256_castps_pd(a.0)));
                F32x16(_mm512_castpd_ps(_mm512_insertf64x4::<1>(_mm512_castps_pd(lo), _mm256_castps_pd(b.0))))
            }
        }
        const PAIRS: bool = true;
        #[inline(always)]
        fn transpose_sum_pairs(row: &mut impl RowSource<Self>) -> Self {
            let mut h = [F32x8::splat(0.0); 16];
            for j in 0..8 {
                let v = row.row(j).0;
                // SAFETY: as above.
                unsafe {
                    h[2 * j] = F32x8(_mm512_castps512_ps256(v));
                    h[2 * j + 1] = F32x8(_mm512_castps512_ps256(_mm512_shuffle_f32x4::<0b1110_1110>(v, v)));
                }
            }
            let a = F32x8::transpose_sum(&mut Halves([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]));
            let b = F32x8::transpose_sum(&mut Halves([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]));
            unsafe {
                let lo = _mm512_castpd_ps(_mm512_castpd256_pd512(_mm256_castps_pd(a.0)));
                F32x16(_mm512_castpd_ps(_mm512_insertf64x4::<1>(_mm512_castps_pd(lo), _mm256_castps_pd(b.0))))
            }
        }
        #[inline(always)]
        fn hsum(self) -> f32 {
            let mut a = [0.0_f32; 16];
            unsafe { _mm512_storeu_ps(a.as_mut_ptr(), self.0) };
            a.chunks(4).map(|c| (c[0] + c[1]) + (c[2] + c[3])).fold(0.0, |s, v| s + v)
        }
    }

    impl Lane for F64x8 {
        type S = f64;
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
        fn splat(x: f64) -> Self {
            F64x8(unsafe { _mm512_set1_pd(x) })
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            F64x8(unsafe { _mm512_add_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            F64x8(unsafe { _mm512_sub_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            F64x8(unsafe { _mm512_mul_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            F64x8(unsafe { _mm512_div_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn fma(self, b: Self, c: Self) -> Self {
            F64x8(unsafe { _mm512_fmadd_pd(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn fnma(self, b: Self, c: Self) -> Self {
            F64x8(unsafe { _mm512_fnmadd_pd(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            F64x8(unsafe { _mm512_min_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn ratio_split(r: Self, s2: Self) -> (Self, Self) {
            unsafe {
                let ix = _mm512_add_epi64(
                    _mm512_castpd_si512(r.0),
                    _mm512_set1_epi64((0x3ff0_0000_0000_0000 - SQRT_HALF_64) as i64),
                );
                let e = _mm512_and_si512(ix, _mm512_set1_epi64(0x7ff0_0000_0000_0000));
                let kbits = _mm512_sub_epi64(e, _mm512_set1_epi64(0x3ff0_0000_0000_0000));
                let p = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(s2.0), kbits));
                let e = _mm512_or_si512(_mm512_srli_epi64::<52>(e), _mm512_set1_epi64(0x4330_0000_0000_0000));
                let k = _mm512_sub_pd(_mm512_castsi512_pd(e), _mm512_set1_pd(4_503_599_627_370_496.0 + 1023.0));
                (F64x8(p), F64x8(k))
            }
        }
        #[inline(always)]
        fn if_zero(k: Self, a: Self, b: Self) -> Self {
            unsafe {
                let z = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(k.0, _mm512_setzero_pd());
                F64x8(_mm512_mask_blend_pd(z, b.0, a.0))
            }
        }
        #[inline(always)]
        fn domain_ok(lo: Self, v: Self) -> bool {
            unsafe {
                let zero = _mm512_setzero_pd();
                let a = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(_mm512_mul_pd(v.0, zero), zero);
                let b = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(lo.0, _mm512_set1_pd(2.0 * f64::MIN_POSITIVE));
                a & b == 0xff
            }
        }
        #[inline(always)]
        fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
            #[inline(always)]
            fn half(v: F64x8) -> F64x4 {
                F64x4(unsafe { _mm256_add_pd(_mm512_castpd512_pd256(v.0), _mm512_extractf64x4_pd::<1>(v.0)) })
            }
            let mut h = [F64x4::splat(0.0); 8];
            for (r, h) in h.iter_mut().enumerate() {
                *h = half(row.row(r));
            }
            let a = F64x4::transpose_sum(&mut Halves([h[0], h[1], h[2], h[3]]));
            let b = F64x4::transpose_sum(&mut Halves([h[4], h[5], h[6], h[7]]));
            unsafe { F64x8(_mm512_insertf64x4::<1>(_mm512_castpd256_pd512(a.0), b.0)) }
        }
        const PAIRS: bool = true;
        #[inline(always)]
        fn transpose_sum_pairs(row: &mut impl RowSource<Self>) -> Self {
            let mut h = [F64x4::splat(0.0); 8];
            for j in 0..4 {
                let v = row.row(j).0;
                // SAFETY: as above.
                unsafe {
                    h[2 * j] = F64x4(_mm512_castpd512_pd256(v));
                    h[2 * j + 1] = F64x4(_mm512_extractf64x4_pd::<1>(v));
                }
            }
            let a = F64x4::transpose_sum(&mut Halves([h[0], h[1], h[2], h[3]]));
            let b = F64x4::transpose_sum(&mut Halves([h[4], h[5], h[6], h[7]]));
            unsafe { F64x8(_mm512_insertf64x4::<1>(_mm512_castpd256_pd512(a.0), b.0)) }
        }
        #[inline(always)]
        fn hsum(self) -> f64 {
            let mut a = [0.0_f64; 8];
            unsafe { _mm512_storeu_pd(a.as_mut_ptr(), self.0) };
            ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
        }
    }

    /// Rows already computed, for the narrower transpose.
    struct Halves<V, const M: usize>([V; M]);

    impl<V: Copy, const M: usize> RowSource<V> for Halves<V, M> {
        #[inline(always)]
        fn row(&mut self, r: usize) -> V {
            self.0[r]
        }
    }

    // SAFETY (every `unsafe` block below): these methods are only reached from `run_f32` and
    // `run_f64`, which require AVX2 and FMA; pointer arguments follow the trait's contract.
    impl Lane for F32x8 {
        type S = f32;
        const N: usize = 8;
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            F32x8(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            F32x8(unsafe { _mm256_set1_ps(x as f32) })
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            F32x8(unsafe { _mm256_add_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            F32x8(unsafe { _mm256_sub_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            F32x8(unsafe { _mm256_mul_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            F32x8(unsafe { _mm256_div_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn fma(self, b: Self, c: Self) -> Self {
            F32x8(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn fnma(self, b: Self, c: Self) -> Self {
            F32x8(unsafe { _mm256_fnmadd_ps(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            F32x8(unsafe { _mm256_min_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn ratio_split(r: Self, s2: Self) -> (Self, Self) {
            unsafe {
                let ix =
                    _mm256_add_epi32(_mm256_castps_si256(r.0), _mm256_set1_epi32(0x3f80_0000 - SQRT_HALF_32 as i32));
                let kbits = _mm256_sub_epi32(
                    _mm256_and_si256(ix, _mm256_set1_epi32(0x7f80_0000)),
                    _mm256_set1_epi32(0x3f80_0000),
                );
                let p = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(s2.0), kbits));
                (F32x8(p), F32x8(_mm256_cvtepi32_ps(_mm256_srai_epi32::<23>(kbits))))
            }
        }
        #[inline(always)]
        fn if_zero(k: Self, a: Self, b: Self) -> Self {
            unsafe {
                let z = _mm256_cmp_ps::<_CMP_EQ_OQ>(k.0, _mm256_setzero_ps());
                F32x8(_mm256_blendv_ps(b.0, a.0, z))
            }
        }
        #[inline(always)]
        fn domain_ok(lo: Self, v: Self) -> bool {
            unsafe {
                // v · 0 is 0 for finite v, NaN otherwise.
                let a = _mm256_cmp_ps::<_CMP_EQ_OQ>(_mm256_mul_ps(v.0, _mm256_setzero_ps()), _mm256_setzero_ps());
                let b = _mm256_cmp_ps::<_CMP_GE_OQ>(lo.0, _mm256_set1_ps(2.0 * f32::MIN_POSITIVE));
                _mm256_movemask_ps(_mm256_and_ps(a, b)) == 0xff
            }
        }
        #[inline(always)]
        fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
            let r = [row.row(0), row.row(1), row.row(2), row.row(3), row.row(4), row.row(5), row.row(6), row.row(7)];
            unsafe {
                let h01 = _mm256_hadd_ps(r[0].0, r[1].0);
                let h23 = _mm256_hadd_ps(r[2].0, r[3].0);
                let h45 = _mm256_hadd_ps(r[4].0, r[5].0);
                let h67 = _mm256_hadd_ps(r[6].0, r[7].0);
                let a = _mm256_hadd_ps(h01, h23);
                let b = _mm256_hadd_ps(h45, h67);
                F32x8(_mm256_add_ps(_mm256_permute2f128_ps::<0x20>(a, b), _mm256_permute2f128_ps::<0x31>(a, b)))
            }
        }
        #[inline(always)]
        fn hsum(self) -> f32 {
            let mut a = [0.0_f32; 8];
            unsafe { _mm256_storeu_ps(a.as_mut_ptr(), self.0) };
            ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
        }
    }

    impl Lane for F64x4 {
        type S = f64;
        const N: usize = 4;
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            F64x4(unsafe { _mm256_loadu_pd(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            unsafe { _mm256_storeu_pd(p, self.0) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            F64x4(unsafe { _mm256_set1_pd(x) })
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            F64x4(unsafe { _mm256_add_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            F64x4(unsafe { _mm256_sub_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            F64x4(unsafe { _mm256_mul_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            F64x4(unsafe { _mm256_div_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn fma(self, b: Self, c: Self) -> Self {
            F64x4(unsafe { _mm256_fmadd_pd(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn fnma(self, b: Self, c: Self) -> Self {
            F64x4(unsafe { _mm256_fnmadd_pd(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            F64x4(unsafe { _mm256_min_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn ratio_split(r: Self, s2: Self) -> (Self, Self) {
            unsafe {
                let ix = _mm256_add_epi64(
                    _mm256_castpd_si256(r.0),
                    _mm256_set1_epi64x((0x3ff0_0000_0000_0000 - SQRT_HALF_64) as i64),
                );
                let e = _mm256_and_si256(ix, _mm256_set1_epi64x(0x7ff0_0000_0000_0000));
                let kbits = _mm256_sub_epi64(e, _mm256_set1_epi64x(0x3ff0_0000_0000_0000));
                let p = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(s2.0), kbits));
                // The biased exponent (0..=2047) placed in the mantissa of 2^52: AVX2 has no
                // int64 -> double conversion.
                let e = _mm256_or_si256(_mm256_srli_epi64::<52>(e), _mm256_set1_epi64x(0x4330_0000_0000_0000));
                let k = _mm256_sub_pd(_mm256_castsi256_pd(e), _mm256_set1_pd(4_503_599_627_370_496.0 + 1023.0));
                (F64x4(p), F64x4(k))
            }
        }
        #[inline(always)]
        fn if_zero(k: Self, a: Self, b: Self) -> Self {
            unsafe {
                let z = _mm256_cmp_pd::<_CMP_EQ_OQ>(k.0, _mm256_setzero_pd());
                F64x4(_mm256_blendv_pd(b.0, a.0, z))
            }
        }
        #[inline(always)]
        fn domain_ok(lo: Self, v: Self) -> bool {
            unsafe {
                let a = _mm256_cmp_pd::<_CMP_EQ_OQ>(_mm256_mul_pd(v.0, _mm256_setzero_pd()), _mm256_setzero_pd());
                let b = _mm256_cmp_pd::<_CMP_GE_OQ>(lo.0, _mm256_set1_pd(2.0 * f64::MIN_POSITIVE));
                _mm256_movemask_pd(_mm256_and_pd(a, b)) == 0xf
            }
        }
        #[inline(always)]
        fn transpose_sum(row: &mut impl RowSource<Self>) -> Self {
            let r = [row.row(0), row.row(1), row.row(2), row.row(3)];
            unsafe {
                let h01 = _mm256_hadd_pd(r[0].0, r[1].0);
                let h23 = _mm256_hadd_pd(r[2].0, r[3].0);
                F64x4(_mm256_add_pd(_mm256_permute2f128_pd::<0x20>(h01, h23), _mm256_permute2f128_pd::<0x31>(h01, h23)))
            }
        }
        #[inline(always)]
        fn hsum(self) -> f64 {
            let mut a = [0.0_f64; 4];
            unsafe { _mm256_storeu_pd(a.as_mut_ptr(), self.0) };
            (a[0] + a[1]) + (a[2] + a[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic uniform values in `[lo, hi)`.
    fn values(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
        crate::testing::SplitMix64(seed).vec(n, lo, hi)
    }

    /// The row sums of the scalar kernels, in f64 on the (already rounded) inputs.
    fn reference(kind: Kind, d: usize, ins: [&[f64]; 4]) -> Vec<(f64, f64)> {
        let b = ins[0].len().checked_div(d).unwrap_or(0);
        (0..b)
            .map(|i| {
                let (mut sum, mut abs) = (0.0, 0.0);
                #[allow(clippy::needless_range_loop)]
                for j in i * d..(i + 1) * d {
                    let v = match kind {
                        Kind::NormalKl => normal_kl(ins[0][j], ins[1][j], ins[2][j], ins[3][j]),
                        Kind::StdNormalKl => std_normal_kl(ins[0][j], ins[1][j]),
                        Kind::NormalLogProb => normal_log_prob(ins[0][j], ins[1][j], ins[2][j]),
                    };
                    sum += v;
                    abs += v.abs();
                }
                (sum, abs)
            })
            .collect()
    }

    fn call<T: Real>(kind: Kind, d: usize, ins: [&[T]; 4], out: &mut [T], check: bool) -> bool {
        match kind {
            Kind::NormalKl => normal_kl_rows(d, ins[0], ins[1], ins[2], ins[3], out, check),
            Kind::StdNormalKl => std_normal_kl_rows(d, ins[0], ins[1], out, check),
            Kind::NormalLogProb => normal_log_prob_rows(d, ins[0], ins[1], ins[2], out, check),
        }
    }

    /// Every kind, f64 and f32, through the dispatched path and the portable one, against the
    /// scalar kernels: `tol` relative to the sum of the absolute terms.
    fn agree(kind: Kind, d: usize, ins: [Vec<f64>; 4], tol64: f64, tol32: f64) {
        agree_in(kind, d, ins, tol64, Some(tol32))
    }

    fn agree_in(kind: Kind, d: usize, ins: [Vec<f64>; 4], tol64: f64, tol32: Option<f64>) {
        let b = ins[0].len().checked_div(d).unwrap_or(0);
        let refs = |ins: [&[f64]; 4]| reference(kind, d, ins);
        let want = refs([&ins[0], &ins[1], &ins[2], &ins[3]]);
        let close = |got: f64, (want, abs): (f64, f64), tol: f64, what: &str| {
            assert!(
                (got - want).abs() <= tol * abs.max(f64::MIN_POSITIVE) || got == want,
                "{kind:?} d={d} b={b} {what}: {got:e} vs {want:e}"
            );
        };
        let mut out = vec![f64::NAN; b];
        assert!(call(kind, d, [&ins[0], &ins[1], &ins[2], &ins[3]], &mut out, true));
        for (i, &g) in out.iter().enumerate() {
            close(g, want[i], tol64, &format!("f64 row {i}"));
        }
        let rows = Rows { kind, d, ins: [&ins[0], &ins[1], &ins[2], &ins[3]].map(|x| x.as_ptr()), check: true };
        let mut portable = vec![f64::NAN; b];
        if d > 0 {
            assert!(unsafe { run::<f64>(&rows, &mut portable) });
            for (i, &g) in portable.iter().enumerate() {
                close(g, want[i], tol64, &format!("portable f64 row {i}"));
            }
        }
        // f32: against the f64 value of the rounded inputs.
        let Some(tol32) = tol32 else { return };
        let ins32: Vec<Vec<f32>> = ins.iter().map(|x| x.iter().map(|&v| v as f32).collect()).collect();
        let wide: Vec<Vec<f64>> = ins32.iter().map(|x| x.iter().map(|&v| v as f64).collect()).collect();
        let want = refs([&wide[0], &wide[1], &wide[2], &wide[3]]);
        let mut out = vec![f32::NAN; b];
        assert!(call(kind, d, [&ins32[0], &ins32[1], &ins32[2], &ins32[3]], &mut out, true));
        for (i, &g) in out.iter().enumerate() {
            if want[i].0.abs() > f32::MAX as f64 {
                // Beyond f32's range: the f32 value overflows.
                assert_eq!(g as f64, want[i].0.signum() * f64::INFINITY, "{kind:?} f32 row {i}");
            } else {
                close(g as f64, want[i], tol32, &format!("f32 row {i}"));
            }
        }
    }

    const KINDS: [Kind; 3] = [Kind::NormalKl, Kind::StdNormalKl, Kind::NormalLogProb];

    #[test]
    fn every_layout_agrees_with_the_scalar_kernels() {
        // Multiples of both lane counts, shorter rows (flat blocks), long ragged rows.
        for d in [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 64, 65, 100, 129, 300] {
            for b in [0, 1, 3, 7, 8, 9, 33, 130, 700] {
                let n = b * d;
                let seed = (d * 1000 + b) as u64;
                let ins = [
                    values(n, -3.0, 3.0, seed),
                    values(n, 0.05, 4.0, seed + 1),
                    values(n, -3.0, 3.0, seed + 2),
                    values(n, 0.05, 4.0, seed + 3),
                ];
                for kind in KINDS {
                    let [a, b, c, e] = ins.clone();
                    // log_prob takes `[x, m, s]`.
                    let ins = if kind == Kind::NormalLogProb { [a, c, b.clone(), b] } else { [a, b, c, e] };
                    agree(kind, d, ins, 1e-14, 2e-6);
                }
            }
        }
    }

    #[test]
    fn near_equal_distributions_keep_their_relative_accuracy() {
        for (d, b) in [(8, 40), (3, 50), (64, 9)] {
            let n = b * d;
            let base = values(n, 0.1, 3.0, 7);
            let rel = values(n, -1.0, 1.0, 8);
            for eps in [1e-4, 1e-8, 1e-12] {
                let s1: Vec<f64> = base.iter().zip(&rel).map(|(s, e)| s * (1.0 + eps * e)).collect();
                let m = values(n, -1.0, 1.0, 9);
                // KL down to ~eps² per element: relative accuracy, not absolute.
                agree(Kind::NormalKl, d, [m.clone(), s1.clone(), m.clone(), base.clone()], 1e-13, 1e-5);
                let s: Vec<f64> = rel.iter().map(|e| 1.0 + eps * e).collect();
                agree(Kind::StdNormalKl, d, [vec![0.0; n], s.clone(), vec![0.0; n], s], 1e-13, 1e-5);
            }
        }
    }

    #[test]
    fn extreme_scales_fall_back_to_the_scalar_kernels() {
        // Ratios that under- or overflow, subnormal scales, huge scales (1 / s2 subnormal).
        let d = 8;
        let mut s1 = values(8 * d, 0.5, 2.0, 1);
        let mut s2 = values(8 * d, 0.5, 2.0, 2);
        (s1[3], s2[3]) = (1e-150, 1e150);
        (s1[20], s2[20]) = (1e150, 1e-150);
        (s1[33], s2[33]) = (5e-324, 1.0);
        (s1[40], s2[40]) = (1.0, 1e308);
        (s1[50], s2[50]) = (1e-30, 1e30);
        let m = values(8 * d, -1.0, 1.0, 3);
        agree_in(Kind::NormalKl, d, [m.clone(), s1.clone(), m.clone(), s2.clone()], 1e-14, None);
        agree_in(Kind::StdNormalKl, d, [m.clone(), s1.clone(), m.clone(), s1.clone()], 1e-14, None);
        agree_in(Kind::NormalLogProb, d, [m.clone(), m.clone(), s2.clone(), s2.clone()], 1e-14, None);
        // The same for f32's range: subnormal f32 scales, ratios beyond it, 1 / s2 subnormal.
        (s1[3], s2[3]) = (1e-30, 1e30);
        (s1[20], s2[20]) = (1e30, 1e-30);
        (s1[33], s2[33]) = (1e-40, 1.0);
        (s1[40], s2[40]) = (1.0, 3e38);
        (s1[50], s2[50]) = (1e-20, 1e20);
        agree(Kind::NormalKl, d, [m.clone(), s1.clone(), m.clone(), s2.clone()], 1e-14, 2e-6);
        agree(Kind::StdNormalKl, d, [m.clone(), s1.clone(), m.clone(), s1.clone()], 1e-14, 2e-6);
        agree(Kind::NormalLogProb, d, [m.clone(), m.clone(), s2.clone(), s2], 1e-14, 2e-6);
    }

    #[test]
    fn identical_distributions_give_exactly_zero() {
        for d in [3, 8, 64] {
            let m = values(50 * d, -5.0, 5.0, 4);
            let s = values(50 * d, 1e-3, 1e3, 5);
            let mut out = vec![1.0; 50];
            assert!(normal_kl_rows(d, &m, &s, &m, &s, &mut out, true));
            assert!(out.iter().all(|&v| v == 0.0), "{out:?}");
            let ones = vec![1.0_f32; 50 * d];
            let zeros = vec![0.0_f32; 50 * d];
            let mut out = vec![1.0_f32; 50];
            assert!(std_normal_kl_rows(d, &zeros, &ones, &mut out, true));
            assert!(out.iter().all(|&v| v == 0.0));
        }
    }

    #[test]
    fn invalid_values_are_reported_only_when_checking() {
        let (d, b) = (8, 21);
        let good = || {
            [
                values(b * d, -1.0, 1.0, 1),
                values(b * d, 0.5, 2.0, 2),
                values(b * d, -1.0, 1.0, 3),
                values(b * d, 0.5, 2.0, 4),
            ]
        };
        // Positions in the first block, a middle block and the last (remainder) rows.
        for at in [0, 77, b * d - 1] {
            for (input, bad) in
                [(0, f64::NAN), (2, f64::INFINITY), (1, 0.0), (3, -1.0), (1, f64::NAN), (3, f64::INFINITY)]
            {
                let mut ins = good();
                ins[input][at] = bad;
                let mut out = vec![0.0; b];
                let r = [&ins[0][..], &ins[1], &ins[2], &ins[3]];
                assert!(!normal_kl_rows(d, r[0], r[1], r[2], r[3], &mut out, true), "{input} {bad} at {at}");
                assert!(normal_kl_rows(d, r[0], r[1], r[2], r[3], &mut out, false));
                let r32: Vec<Vec<f32>> = ins.iter().map(|x| x.iter().map(|&v| v as f32).collect()).collect();
                let mut out32 = vec![0.0_f32; b];
                assert!(!normal_kl_rows(d, &r32[0], &r32[1], &r32[2], &r32[3], &mut out32, true));
                if input < 2 {
                    let (m, s) = (&ins[input & !1], &ins[1]);
                    assert!(!std_normal_kl_rows(d, m, s, &mut out, true));
                    assert!(!normal_log_prob_rows(d, &ins[2], m, s, &mut out, true));
                }
            }
        }
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let x = vec![1.0_f64; 16];
        let mut out = vec![0.0; 2];
        assert!(!normal_kl_rows(8, &x, &x, &x, &x[..15], &mut out, false));
        assert!(!std_normal_kl_rows(7, &x, &x, &mut out, true));
        assert!(!normal_log_prob_rows(usize::MAX, &x, &x, &x, &mut out, true));
        assert!(normal_kl_rows(0, &[], &[], &[], &[], &mut out, true));
        assert_eq!(out, [0.0, 0.0]);
    }
}
