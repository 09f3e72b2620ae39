//! Lane kernels of the logits families in `f32`: [`bernoulli_kl_logits_rows`] and
//! [`categorical_kl_logits_rows`] over a whole batch (what generated code and the interpreter call
//! when every parameter has the full shape), and the `Categorical(logits) ‖ Categorical(logits)`
//! row behind [`crate::categorical_kl_logits`]. They run on the lanes of the best instruction set
//! the CPU has (the one SIMD layer, `simd`), with `exp`, `expm1` and `ln(1 + x)` from branch-free
//! polynomials, and hand the inputs their fast form does not cover to the careful kernels, which
//! are computed in `f64`.
//!
//! **Bernoulli** (logits `l1`, `l2`; flipped so that `a = −|l1| <= 0`, `p = σ(a) <= ½`,
//! `h = b − a` the gap on that side):
//!
//! ```text
//! KL = log1pmx(t) + p expm1mx(h)     |h| < 1       t = p expm1(h)
//! KL = ln(1 + t) − p h               otherwise
//! ```
//!
//! Near `h = 0` both terms are second order and the first is at most `p/(1 − p) <= 1` times the
//! sum, so nothing cancels; beyond, `ln(1 + t) >= p h` (Jensen) and the difference loses at most
//! a factor of 5. Logits 40 against 38 come out at 1.8646e-17 (the reference). Lanes with
//! `|l1| >= 80`, a gap `h >= 80` (where `t` would overflow) or a non-finite value go to
//! [`crate::bernoulli_kl_logits`] in `f64`.
//!
//! **Categorical** (one row of `K` logits each), in up to three tiers:
//!
//! 1. The batched entry first takes a block of as many rows as there are lanes in the **plain
//!    form**, with shifts `M1`, `M2`, `u = e^(l1 − M1)`, `v = e^(l2 − M2)`, `δ = l1 − l2`:
//!
//!    ```text
//!    KL = Σ u δ / Σ u − ln(Σ u / Σ v) − (M1 − M2)
//!    ```
//!
//!    exact for any shifts. Where every logit of the block lies in `(−40, 40)`, `M = 0`: two
//!    `exp` per element in a single pass over the data, with no rounding in their arguments.
//!    Otherwise the block is redone with `M` the row maxima (after a pass for them). The lane
//!    sums of each row are folded across rows (`transpose_sum`), so the division, the logarithm
//!    and a rigorous first-order rounding bound run once per block on lanes: each `exp` (the
//!    lean one, `simd::math::exp_lean`) within `4 + |x|/16` units of roundoff, where shifted the
//!    rounding of the arguments (`|x| u` with `|x| <=` the row's range), the roundings of the
//!    sums, of the quotient, the logarithm and the three subtractions. A row is kept when that
//!    bound is below `9e-6` of the KL (so that the value, rounded to `f32`, is within `1e-5` of
//!    the exact KL of its inputs) and every argument of `exp` is above −80. On standard-normal
//!    rows of `K = 64` the shifted form declined about one row in 4000; the unshifted bound is
//!    tighter.
//! 2. Rows it declines (and single rows) take the **centered form**, with `x = l1 − max l1`,
//!    `u = e^x`, `s = Σ u`, `P = u / s`, `δ = l1 − l2` and `μ ≈ E_P[δ]` from a first pass,
//!
//!    ```text
//!    KL = ln(1 + T − R) + R,   T = Σ P (e^(−c) − 1 + c) >= 0,   R = Σ P c,   c = δ − μ,
//!    ```
//!
//!    exact for any `μ` (so the rounding of `μ` drops out) and a sum of non-negative terms, so
//!    that near-equal rows keep their relative accuracy. Its rounding error is bounded from sums
//!    gathered in the same pass: relative errors of the weights (`ε (2 + |x|/2)` each), of `c`
//!    (`ε (|δ| + |c|)/2`, through `∂T/∂c = e^(−c) − 1`) and of the sums. A row is kept when that
//!    bound is below 5e-6 of the KL, no `x` is below −60 and no `−c` above 80.
//! 3. Everything else (near-equal rows beyond that, extreme logits, `K` not a multiple of the
//!    lane count or above 512, logits that are not finite) takes the careful `f64` path,
//!    [`crate::categorical_kl_logits`].

use crate::batch::{same, same_mut};
use crate::real::Real;
use crate::simd::math::{exp, exp_lean, expm1_pair, expm1_pair_lean, ln1p_pair};
use crate::simd::{self, Arch, Bits, Kernel, Lanes, RowSource};

/// The widest lane count of any instruction set (the scratch arrays hold one vector).
const MAX_LANES: usize = 16;

/// The longest `Categorical` row the lane kernel takes (its scratch lives on the stack).
const MAX_K: usize = 512;

/// `KL(Bernoulli(logits=l1) ‖ Bernoulli(logits=l2))` summed over each row of `d` elements:
/// `out[i] = Σ_j bernoulli_kl_logits(l1[i d + j], l2[i d + j])`, in one pass over a batch.
///
/// `f32` runs on lanes (see the [module](self) docs), `f64` element by element on the careful
/// kernel. Returns `true` when every `out[i]` holds row `i`'s value; `false` when the slice
/// lengths disagree (`len != out.len() * d`) or, with `check`, when a logit is not finite. `out`
/// may then be partly written.
///
/// ```
/// use kl_runtime::{bernoulli_kl_logits, bernoulli_kl_logits_rows};
///
/// let (l1, l2) = ([0.5_f32, -1.0, 40.0, 2.0, 0.0, 0.0], [0.0_f32, 1.0, 38.0, 2.0, 3.0, -3.0]);
/// let mut out = [0.0_f32; 6];
/// assert!(bernoulli_kl_logits_rows(1, &l1, &l2, &mut out, true));
/// for i in 0..6 {
///     let want = bernoulli_kl_logits(l1[i] as f64, l2[i] as f64) as f32;
///     assert!((out[i] - want).abs() <= 2e-6 * want, "{i}: {} vs {want}", out[i]);
/// }
/// assert_eq!(out[3], 0.0);
///
/// // Rows of three, and a NaN that the check catches.
/// let mut rows = [0.0_f32; 2];
/// assert!(bernoulli_kl_logits_rows(3, &l1, &l2, &mut rows, true));
/// let bad = [0.5_f32, f32::NAN, 0.0, 0.0, 0.0, 0.0];
/// assert!(!bernoulli_kl_logits_rows(3, &bad, &l2, &mut rows, true));
/// ```
pub fn bernoulli_kl_logits_rows<T: Real>(d: usize, l1: &[T], l2: &[T], out: &mut [T], check: bool) -> bool {
    let Some(len) = out.len().checked_mul(d) else { return false };
    if l1.len() != len || l2.len() != len {
        return false;
    }
    if let (Some(l1), Some(l2), Some(out)) = (same::<T, f32>(l1), same::<T, f32>(l2), same_mut::<T, f32>(out)) {
        return simd::dispatch(BernoulliRows { d, l1, l2, out, check });
    }
    for (i, o) in out.iter_mut().enumerate() {
        let mut s = T::ZERO;
        for j in i * d..(i + 1) * d {
            if check && !(l1[j].is_finite() && l2[j].is_finite()) {
                return false;
            }
            s += crate::bernoulli_kl_logits(l1[j], l2[j]);
        }
        *o = s;
    }
    true
}

/// One lane vector of Bernoulli KLs from logits, and a vector that is 1 in the lanes the fast
/// form does not cover (`|l1| >= 80`, a gap `h >= 80`, anything not finite), else 0.
#[inline(always)]
fn bernoulli_lanes<V: Bits>(l1: V, l2: V) -> (V, V) {
    let (zero, one) = (V::of(0.0), V::of(1.0));
    let flip = zero.lt(l1);
    let a = zero - l1.abs();
    let b = V::select(flip, zero - l2, l2);
    let h = b - a;
    // 0 only where −80 < a, h < 80 and h > −∞ (NaN fails every comparison).
    let bad = V::select(
        V::of(-80.0).lt(a),
        V::select(h.lt(V::of(80.0)), V::select(V::of(f64::NEG_INFINITY).lt(h), zero, one), one),
        one,
    );
    let ea = exp_lean(a);
    let p = ea / (one + ea);
    let (e, m) = expm1_pair_lean(h);
    let t = p * e;
    let (ln1p, lmx) = ln1p_pair(t, one + t);
    let near = p.mul_add(m, lmx);
    let far = p.neg_mul_add(h, ln1p);
    (V::select(h.abs().lt(one), near, far).max(zero), bad)
}

/// One call of a batched entry on `f32`, lengths checked: `out[i]` from rows `i` of `d`
/// elements of `l1` and `l2`.
struct Batch<'a, const CATEGORICAL: bool> {
    d: usize,
    l1: &'a [f32],
    l2: &'a [f32],
    out: &'a mut [f32],
    check: bool,
}

/// [`bernoulli_kl_logits_rows`].
type BernoulliRows<'a> = Batch<'a, false>;

/// [`categorical_kl_logits_rows`].
type CategoricalRows<'a> = Batch<'a, true>;

impl Kernel for BernoulliRows<'_> {
    type Out = bool;
    #[inline(always)]
    unsafe fn run<A: Arch>(self) -> bool {
        // SAFETY: the caller's target features; every access is in bounds (see `block`).
        unsafe { bernoulli_rows::<A::F32>(self) }
    }
}

/// `n <= V::N` values from `l1[..n]`, `l2[..n]` into `vals[..n]`; `false` when `check` and a
/// value is not finite.
///
/// # Safety
/// The target features of `V`; `n <= V::N <= MAX_LANES`, `l1`, `l2` hold at least `n`.
#[inline(always)]
unsafe fn block<V: Bits + Lanes<T = f32>>(
    l1: &[f32],
    l2: &[f32],
    n: usize,
    vals: &mut [f32; MAX_LANES],
    check: bool,
) -> bool {
    let (a, b) = if n == V::N {
        // SAFETY: `n` elements are readable.
        unsafe { (V::load(l1.as_ptr()), V::load(l2.as_ptr())) }
    } else {
        // A partial vector: zeros after `n` (KL 0, in the fast form's domain).
        let (mut pa, mut pb) = ([0.0_f32; MAX_LANES], [0.0_f32; MAX_LANES]);
        pa[..n].copy_from_slice(&l1[..n]);
        pb[..n].copy_from_slice(&l2[..n]);
        // SAFETY: the arrays hold `MAX_LANES >= V::N` elements.
        unsafe { (V::load(pa.as_ptr()), V::load(pb.as_ptr())) }
    };
    let (kl, bad) = bernoulli_lanes(a, b);
    // SAFETY: `vals` holds `MAX_LANES >= V::N` elements.
    unsafe { kl.store(vals.as_mut_ptr()) };
    patch(bad, l1, l2, &mut vals[..n], check)
}

/// The lanes `bad` flags, recomputed in `f64` into `vals` (`vals.len() <= V::N` values from
/// `l1`, `l2`); `false` when `check` and one of them is not finite.
#[inline(always)]
fn patch<V: Bits + Lanes<T = f32>>(bad: V, l1: &[f32], l2: &[f32], vals: &mut [f32], check: bool) -> bool {
    if bad.all_zero() {
        return true;
    }
    let mut flags = [0.0_f32; MAX_LANES];
    // SAFETY: `flags` holds `MAX_LANES >= V::N` elements.
    unsafe { bad.store(flags.as_mut_ptr()) };
    for (k, v) in vals.iter_mut().enumerate().filter(|&(k, _)| flags[k] != 0.0) {
        if check && !(l1[k].is_finite() && l2[k].is_finite()) {
            return false;
        }
        *v = crate::bernoulli_kl_logits(f64::from(l1[k]), f64::from(l2[k])) as f32;
    }
    true
}

/// # Safety
/// The target features of `V`; `V::N <= MAX_LANES`; the lengths checked by the caller.
#[inline(always)]
unsafe fn bernoulli_rows<V: Bits + Lanes<T = f32>>(r: BernoulliRows) -> bool {
    let (d, n) = (r.d, V::N);
    debug_assert!(n <= MAX_LANES);
    let mut vals = [0.0_f32; MAX_LANES];
    if d == 1 {
        let full = r.out.len() / n * n;
        for lo in (0..full).step_by(n) {
            // SAFETY: `n` elements from `lo`, inside both inputs and `out`.
            let (kl, bad) = unsafe { bernoulli_lanes(V::load(r.l1.as_ptr().add(lo)), V::load(r.l2.as_ptr().add(lo))) };
            // SAFETY: as above.
            unsafe { kl.store(r.out.as_mut_ptr().add(lo)) };
            if !patch(bad, &r.l1[lo..], &r.l2[lo..], &mut r.out[lo..lo + n], r.check) {
                return false;
            }
        }
        let rest = r.out.len() - full;
        if rest > 0 {
            // SAFETY: `rest < n` elements from `full`, inside both inputs.
            if !unsafe { block::<V>(&r.l1[full..], &r.l2[full..], rest, &mut vals, r.check) } {
                return false;
            }
            r.out[full..].copy_from_slice(&vals[..rest]);
        }
        return true;
    }
    for (i, o) in r.out.iter_mut().enumerate() {
        let (mut s, mut lo, hi) = (0.0_f32, i * d, (i + 1) * d);
        while lo < hi {
            let m = n.min(hi - lo);
            // SAFETY: `m` elements from `lo`, inside both inputs.
            if !unsafe { block::<V>(&r.l1[lo..], &r.l2[lo..], m, &mut vals, r.check) } {
                return false;
            }
            s += vals[..m].iter().sum::<f32>();
            lo += m;
        }
        *o = s;
    }
    true
}

/// `KL(Categorical(logits=l1) ‖ Categorical(logits=l2))` of one `f32` row on lanes, or `None` where
/// the fast form's error bound does not hold (see the [module](self) docs), or the rows' length
/// differ, or it is not a multiple of the lane count or above [`MAX_K`].
pub(crate) fn categorical_kl_logits_f32(l1: &[f32], l2: &[f32]) -> Option<f64> {
    if l1.len() != l2.len() || l1.is_empty() || l1.len() > MAX_K {
        return None;
    }
    simd::dispatch(CategoricalRow { l1, l2 })
}

struct CategoricalRow<'a> {
    l1: &'a [f32],
    l2: &'a [f32],
}

impl Kernel for CategoricalRow<'_> {
    type Out = Option<f64>;
    #[inline(always)]
    unsafe fn run<A: Arch>(self) -> Option<f64> {
        let k = self.l1.len();
        // SAFETY: the caller's target features; `categorical_row` reads whole vectors only.
        unsafe {
            if k.is_multiple_of(A::F32::N) {
                categorical_row::<A::F32>(self.l1, self.l2)
            } else if k.is_multiple_of(A::F32Half::N) {
                categorical_row::<A::F32Half>(self.l1, self.l2)
            } else {
                None
            }
        }
    }
}

/// The lanes of `v` folded by `f` pairwise (halves, then quarters, ..), from `pad` in the lanes
/// past `V::N`: four steps of whole-vector operations rather than a chain of `N`.
#[inline(always)]
fn fold<V: Lanes<T = f32>>(v: V, pad: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut a = [pad; MAX_LANES];
    // SAFETY: `a` holds `MAX_LANES >= V::N` elements.
    unsafe { v.store(a.as_mut_ptr()) };
    let mut w = MAX_LANES;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            a[i] = f(a[i], a[i + w]);
        }
    }
    a[0]
}

/// The lanes of `v` summed (pairwise on AVX-512; the error bound counts `4 ε` for the sums of
/// `R`).
#[inline(always)]
fn hsum<V: Lanes<T = f32>>(v: V) -> f64 {
    f64::from(v.sum())
}

/// The largest lane of `v` (a NaN lane may be skipped: the error bound rejects NaN rows).
#[inline(always)]
fn hmax<V: Lanes<T = f32>>(v: V) -> f32 {
    fold(v, f32::NEG_INFINITY, f32::max)
}

/// # Safety
/// The target features of `V`; `l1.len() == l2.len()` is a multiple of `V::N`, at most `MAX_K`.
#[inline(always)]
unsafe fn categorical_row<V: Bits + Lanes<T = f32>>(l1: &[f32], l2: &[f32]) -> Option<f64> {
    // SAFETY: the caller's contract.
    unsafe { categorical_rows::<V, 1>([l1], [l2])[0] }
}

/// `R` rows at once, interleaved so that their dependency chains (the maximum, then `μ`, then
/// the sums) overlap.
///
/// # Safety
/// The target features of `V`; every row has the same length, a multiple of `V::N`, at most
/// `MAX_K`.
#[inline(always)]
unsafe fn categorical_rows<V: Bits + Lanes<T = f32>, const R: usize>(
    l1: [&[f32]; R],
    l2: [&[f32]; R],
) -> [Option<f64>; R] {
    let (n, nv) = (V::N, l1[0].len() / V::N);
    // Vector `j < nv` lies inside every row. (No closures here: they would not inherit the
    // target features, and the lane operations in them would become calls.)
    #[inline(always)]
    fn ld<V: Lanes<T = f32>>(s: &[f32], j: usize) -> V {
        debug_assert!((j + 1) * V::N <= s.len());
        // SAFETY: the caller's contract: `j < nv`.
        unsafe { V::load(s.as_ptr().add(j * V::N)) }
    }
    let zero = V::of(0.0);
    let mut m1 = [zero; R];
    for i in 0..R {
        let mut mx: V = ld(l1[i], 0);
        for j in 1..nv {
            mx = mx.max(ld::<V>(l1[i], j));
        }
        m1[i] = V::splat(hmax(mx));
    }

    // Pass 1: the weights u = e^(l1 − max), kept, with s = Σ u and Σ u δ for μ.
    let mut us = [[core::mem::MaybeUninit::<f32>::uninit(); MAX_K]; R];
    let (mut s, mut a, mut lowest) = ([zero; R], [zero; R], [zero; R]);
    for j in 0..nv {
        for i in 0..R {
            let p: V = ld(l1[i], j);
            let x = p - m1[i];
            let u = exp(x);
            s[i] = s[i] + u;
            a[i] = u.mul_add(p - ld::<V>(l2[i], j), a[i]);
            lowest[i] = lowest[i].min(x);
            // SAFETY: `us[i]` holds `MAX_K >= nv n` elements.
            unsafe { u.store(us[i].as_mut_ptr().add(j * n).cast::<f32>()) };
        }
    }
    let mut mu = [zero; R];
    let mut sums = [0.0_f64; R];
    for i in 0..R {
        sums[i] = hsum(s[i]);
        mu[i] = V::splat((hsum(a[i]) / sums[i]) as f32);
    }

    // Pass 2: T = Σ u (e^(−c) − 1 + c), R = Σ u c, and the error bound's sum E.
    let eps = f64::from(f32::EPSILON);
    let (mut t, mut r, mut eb, mut ec, mut top) = ([zero; R], [zero; R], [zero; R], [zero; R], [zero; R]);
    for j in 0..nv {
        for i in 0..R {
            // SAFETY: as in pass 1.
            let u = unsafe { V::load(us[i].as_ptr().add(j * n).cast::<f32>()) };
            let p: V = ld(l1[i], j);
            let delta = p - ld::<V>(l2[i], j);
            let c = delta - mu[i];
            let z = zero - c;
            top[i] = top[i].max(z);
            let (e, m) = expm1_pair(z);
            t[i] = u.mul_add(m, t[i]);
            r[i] = u.mul_add(c, r[i]);
            // Per term of T, in units of ε: the weight off by 2 + |x|/2 (and the sums of T by
            // 10) relative, c off by (|δ| + |c|)/2 = w/2 through ∂/∂c = e^(−c) − 1, second order
            // ε w²; and R's terms, rounded by 4 |c|.
            let w = delta.abs() + c.abs();
            let x = m1[i] - p;
            let terms =
                m.mul_add(x.mul_add(V::of(0.5), V::of(12.0)), (V::of(0.5) * e.abs()).mul_add(w, V::of(eps) * w * w));
            eb[i] = u.mul_add(terms, eb[i]);
            ec[i] = u.mul_add(c.abs(), ec[i]);
        }
    }
    let mut out = [None; R];
    for i in 0..R {
        let s = sums[i];
        let (t, r) = (hsum(t[i]) / s, hsum(r[i]) / s);
        let w = t - r;
        let kl = ln1p_pair(w, 1.0 + w).0 + r;
        // |ΔKL| <= |ΔT| / (1 + T − R) + |ΔR|, |ΔR| <= 4 ε Σ P |c|.
        let bound = eps * (hsum(eb[i]) / s / (1.0 + w) + 4.0 * hsum(ec[i]) / s);
        let far = hmax((zero - lowest[i]).max(top[i] - V::of(20.0)));
        if bound <= 5e-6 * kl && far <= 60.0 && kl.is_finite() {
            out[i] = Some(kl.max(0.0));
        }
    }
    out
}

/// `KL(Categorical(logits=l1) ‖ Categorical(logits=l2))` for each row of `k` logits:
/// `out[i] = categorical_kl_logits(&l1[i k..(i + 1) k], &l2[i k..(i + 1) k])`, in one pass over a
/// batch.
///
/// `f32` rows run on lanes where `k` is a multiple of 8 (or of 16) up to 512 and an error bound
/// of the [module](self) docs holds (the plain form a block of rows at a time, then the centered
/// form row by row); every other row, and `f64`, on the careful kernel. Returns `true` when every `out[i]` holds row `i`'s value; `false` when `k` is 0, the
/// slice lengths disagree (`len != out.len() * k`) or, with `check`, a logit is not finite.
///
/// ```
/// use kl_runtime::{categorical_kl_logits, categorical_kl_logits_rows};
///
/// let l1: Vec<f32> = (0..5 * 16).map(|i| ((i * 7919) % 13) as f32 / 4.0 - 1.5).collect();
/// let l2: Vec<f32> = (0..5 * 16).map(|i| ((i * 104_729) % 11) as f32 / 3.0 - 1.0).collect();
/// let mut out = [0.0_f32; 5];
/// assert!(categorical_kl_logits_rows(16, &l1, &l2, &mut out, true));
/// for i in 0..5 {
///     let row = |l: &[f32]| l[i * 16..(i + 1) * 16].iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
///     let want = categorical_kl_logits(&row(&l1), &row(&l2));
///     assert!((f64::from(out[i]) - want).abs() <= 5e-6 * want);
/// }
/// let mut bad = l1.clone();
/// bad[17] = f32::INFINITY;
/// assert!(!categorical_kl_logits_rows(16, &bad, &l2, &mut out, true));
/// ```
pub fn categorical_kl_logits_rows<T: Real>(k: usize, l1: &[T], l2: &[T], out: &mut [T], check: bool) -> bool {
    let Some(len) = out.len().checked_mul(k) else { return false };
    if k == 0 || l1.len() != len || l2.len() != len {
        return false;
    }
    if let (Some(l1), Some(l2), Some(out)) = (same::<T, f32>(l1), same::<T, f32>(l2), same_mut::<T, f32>(out)) {
        return simd::dispatch(CategoricalRows { d: k, l1, l2, out, check });
    }
    for (i, o) in out.iter_mut().enumerate() {
        let (a, b) = (&l1[i * k..(i + 1) * k], &l2[i * k..(i + 1) * k]);
        if check && !(crate::all_finite(a) && crate::all_finite(b)) {
            return false;
        }
        *o = crate::categorical_kl_logits(a, b);
    }
    true
}

impl Kernel for CategoricalRows<'_> {
    type Out = bool;
    #[inline(always)]
    unsafe fn run<A: Arch>(self) -> bool {
        let k = self.d;
        // SAFETY: the caller's target features; the row length suits the lanes chosen.
        unsafe {
            if k <= MAX_K && k.is_multiple_of(A::F32::N) {
                categorical_batch::<A::F32>(self)
            } else if k <= MAX_K && k.is_multiple_of(A::F32Half::N) {
                categorical_batch::<A::F32Half>(self)
            } else {
                categorical_batch::<Portable1>(self)
            }
        }
    }
}

/// One lane: any row length.
type Portable1 = crate::simd::Arr<f32, 1>;

/// How many rows ahead [`plain_block`] prefetches.
const AHEAD: usize = 8;

/// The plain form runs without shifts on blocks whose logits all lie in `(−UNSHIFTED,
/// UNSHIFTED)`: there every `e^l` is normal and so is `S1 / S2`, which lies within
/// `[e^−80 / K, K e^80]` for `K <= MAX_K` (at 80 it would overflow).
const UNSHIFTED: f32 = 40.0;

/// The unit roundoff of `f32`, `2^−24`.
const UNIT: f64 = f32::EPSILON as f64 / 2.0;

/// The largest error bound, relative to the KL, with which the plain form's value is kept: the
/// value, rounded to `f32`, is then within `1e-5` of the exact KL of the `f32` inputs.
const PLAIN_TOLERANCE: f64 = 9e-6;

/// The sums of one row of the plain form, as lanes still to be summed across:
/// `[S1, S2, A, B]` (see [`plain_row`]).
type PlainSums<V> = [V; 4];

/// The plain form of one row, its lanes left unsummed: with `x = l1 − M1`, `y = l2 − M2`
/// (`M` the row maxima), `u = e^x`, `v = e^y`, `δ = l1 − l2`,
///
/// ```text
/// KL = A / S1 − ln(S1 / S2) − (M1 − M2),   S1 = Σ u,  S2 = Σ v,  A = Σ u δ,
/// ```
///
/// and `B = Σ u |δ|` for its rounding bound. Returns the four sums and
/// `[M1, M2, min x, min y]`.
///
/// # Safety
/// The target features of `V`; `l1.len() == l2.len()` is a multiple of `V::N`, not 0.
#[inline(always)]
unsafe fn plain_row<V: Bits + Lanes<T = f32>>(l1: &[f32], l2: &[f32]) -> (PlainSums<V>, [f32; 4]) {
    let nv = l1.len() / V::N;
    // SAFETY (every load): vector `j < nv` lies inside both rows.
    #[inline(always)]
    fn ld(s: &[f32], j: usize, n: usize) -> *const f32 {
        s[j * n..].as_ptr()
    }
    let n = V::N;
    let (mut mx1, mut mx2) = unsafe { (V::load(ld(l1, 0, n)), V::load(ld(l2, 0, n))) };
    let (mut mn1, mut mn2) = (mx1, mx2);
    for j in 1..nv {
        unsafe {
            let (p, q) = (V::load(ld(l1, j, n)), V::load(ld(l2, j, n)));
            (mx1, mx2) = (mx1.max(p), mx2.max(q));
            (mn1, mn2) = (mn1.min(p), mn2.min(q));
        }
    }
    // The least `x = l − M` is the least `l` less `M` (rounding is monotone).
    let [m1, m2, n1, n2] = [mx1, mx2, -mn1, -mn2].map(V::max_lane);
    let (m1v, m2v) = (V::splat(m1), V::splat(m2));
    let mut sums = [V::of(0.0); 4];
    for j in 0..nv {
        let (p, q) = unsafe { (V::load(ld(l1, j, n)), V::load(ld(l2, j, n))) };
        accumulate(&mut sums, p, q, exp_lean(p - m1v), exp_lean(q - m2v));
    }
    (sums, [m1, m2, -n1 - m1, -n2 - m2])
}

/// One vector of a plain row into its sums `[S1, S2, A, B]`: logits `p`, `q`, their
/// exponentials `u`, `v` (shifted or not).
#[inline(always)]
fn accumulate<V: Bits>(sums: &mut PlainSums<V>, p: V, q: V, u: V, v: V) {
    let [s1, s2, a, b] = sums;
    let d = p - q;
    (*s1, *s2) = (*s1 + u, *s2 + v);
    *a = u.mul_add(d, *a);
    *b = u.mul_add(d.abs(), *b);
}

/// [`plain_row`] without the shifts (`M1 = M2 = 0`, so `x = l1` and `y = l2` exactly), in one
/// pass, for blocks whose logits all lie in `(−UNSHIFTED, UNSHIFTED)`: returns the four sums and
/// the lanes' largest `|l1|`, `|l2|`, from which [`plain_block`] decides whether the block
/// qualifies.
///
/// # Safety
/// As [`plain_row`].
#[inline(always)]
unsafe fn plain_row_unshifted<V: Bits + Lanes<T = f32>>(l1: &[f32], l2: &[f32]) -> (PlainSums<V>, V) {
    let n = V::N;
    let mut sums = [V::of(0.0); 4];
    let mut wide = V::of(0.0);
    for j in 0..l1.len() / n {
        // SAFETY: vector `j` lies inside both rows.
        let (p, q) = unsafe { (V::load(l1[j * n..].as_ptr()), V::load(l2[j * n..].as_ptr())) };
        // Garbage where `|l| >= UNSHIFTED`; the block is then recomputed with the shifts.
        accumulate(&mut sums, p, q, exp_lean(p), exp_lean(q));
        wide = wide.max(p.abs()).max(q.abs());
    }
    (sums, wide)
}

/// The rounding units of each term of `S1` or `S2` beyond its `(17/16) |x|`: 4 from `exp_lean`,
/// and the `nv − 1 + depth` roundings of the sum, plus one to spare.
fn c_s(nv: usize, depth: usize) -> f32 {
    (4 + nv + depth) as f32
}

/// Row `r` of a block's sums `q`.
struct Column<'a, V> {
    sums: &'a [PlainSums<V>; MAX_LANES],
    q: usize,
}

impl<V: Copy> RowSource<V> for Column<'_, V> {
    #[inline(always)]
    fn row(&mut self, r: usize) -> V {
        self.sums[r][self.q]
    }
}

/// `V::N` rows from row `i0` in the plain form, one row per lane of the results: the KLs, and
/// which of them to keep (the error bound of [`plain_row`]'s sums below
/// [`PLAIN_TOLERANCE`] of the KL, every argument of `exp` in range).
///
/// # Safety
/// The target features of `V`; rows `i0..i0 + V::N` of `k` logits lie inside `l1` and `l2`, `k`
/// a multiple of `V::N`.
#[inline(always)]
unsafe fn plain_block<V: Bits + Lanes<T = f32>>(
    l1: &[f32],
    l2: &[f32],
    k: usize,
    i0: usize,
    kl: &mut [f32; MAX_LANES],
    keep: &mut [bool; MAX_LANES],
) {
    let zero = V::of(0.0);
    let mut sums = [[zero; 4]; MAX_LANES];
    let mut ends = [[0.0_f32; MAX_LANES]; 4];
    // First without the shifts, in one pass over each row: enough wherever every logit of the
    // block lies in (−UNSHIFTED, UNSHIFTED), which is the common case.
    let mut wide = zero;
    for (r, sum) in sums.iter_mut().enumerate().take(V::N) {
        let (lo, hi) = ((i0 + r) * k, (i0 + r + 1) * k);
        // The row `AHEAD` rows on, one cache line at a time (the hardware prefetcher alone
        // leaves the pass over each row waiting for memory).
        let next = hi + (AHEAD - 1) * k;
        for c in (0..k).step_by(16) {
            simd::prefetch(l1.as_ptr().wrapping_add(next + c));
            simd::prefetch(l2.as_ptr().wrapping_add(next + c));
        }
        // SAFETY: the caller's contract.
        let (row, w) = unsafe { plain_row_unshifted::<V>(&l1[lo..hi], &l2[lo..hi]) };
        *sum = row;
        wide = wide.max(w);
    }
    let widest = wide.max_lane();
    // The units of roundoff per unit of `|x|` in each term of the sums, over every argument `x`
    // of `exp` in the row (see the bound below): `|x|/16` from `exp_lean` alone here.
    let mut spread = [widest / 16.0; MAX_LANES];
    let unshifted = widest < UNSHIFTED;
    if !unshifted {
        // A logit at ±UNSHIFTED or beyond, or NaN: the shifted form, row by row (NaN comes out
        // as NaN and is declined).
        for (r, sum) in sums.iter_mut().enumerate().take(V::N) {
            let (lo, hi) = ((i0 + r) * k, (i0 + r + 1) * k);
            // SAFETY: the caller's contract.
            let (row, end) = unsafe { plain_row::<V>(&l1[lo..hi], &l2[lo..hi]) };
            *sum = row;
            for (e, v) in ends.iter_mut().zip(end) {
                e[r] = v;
            }
            // `|x| <= −min x`, and the rounding of `x = l − M` adds `|x|` units.
            spread[r] = -end[2].min(end[3]) * (17.0 / 16.0);
        }
    }
    // (A loop, not a closure: closures do not inherit the target features.)
    let mut t = [zero; 4];
    for (q, t) in t.iter_mut().enumerate() {
        *t = V::transpose_sum(&mut Column { sums: &sums, q });
    }
    let [s1, s2, a, b] = t;
    let mut e = [zero; 4];
    for (e, end) in e.iter_mut().zip(&ends) {
        // SAFETY: the arrays hold `MAX_LANES >= V::N` values.
        *e = unsafe { V::load(end.as_ptr()) };
    }
    let [m1, m2, lo1, lo2] = e;
    let one = V::of(1.0);
    let mean = a / s1;
    let ratio = s1 / s2;
    let ln = ln1p_pair(ratio - one, ratio).0;
    let gap = m1 - m2;
    let value = (mean - ln) - gap;
    // The bound, in units of the roundoff. Each term of S1 is off by `c_s + spread` units
    // (`4 + |x|/16` from `exp_lean`, `|x|` more from the rounding of `x` where the row was
    // shifted, and the `nv − 1 + SUM_DEPTH` roundings of its sum), so S1 by as much relative;
    // likewise S2. Each term of A by one unit more (the rounding of `δ`), relative to `B`
    // (which bounds the partial sums too). Then A / S1 and the logarithm absolute, and the
    // three subtractions.
    let nv = k / V::N;
    let cs = V::of(f64::from(c_s(nv, V::SUM_DEPTH)));
    // SAFETY: `spread` holds `MAX_LANES >= V::N` values.
    let ds = cs + unsafe { V::load(spread.as_ptr()) };
    let dmean = (b / s1) * (ds + one) + mean.abs() * (ds + one);
    let dln = ds + ds + one + V::of(4.0) * ln.abs();
    let bound = (dmean + dln + mean.abs() + ln.abs() + gap.abs() + value.abs()) * V::of(UNIT);
    // Every argument of `exp` above −80 (false for NaN): inside its range.
    let floor = V::of(-80.0);
    let ok = V::select(floor.lt(lo1), V::select(floor.lt(lo2), one, zero), zero);
    // 1 where `bound < tolerance · value` (never for NaN) and `ok`, else 0.
    let fine = V::select(bound.lt(value * V::of(PLAIN_TOLERANCE)), ok, zero);
    let mut f = [0.0_f32; MAX_LANES];
    // SAFETY: as above.
    unsafe {
        value.store(kl.as_mut_ptr());
        fine.store(f.as_mut_ptr());
    }
    for r in 0..V::N {
        keep[r] = f[r] != 0.0;
    }
}

/// # Safety
/// The target features of `V`; `r.d` a multiple of `V::N`, at most `MAX_K` (`V` of one lane
/// takes any `k` on the careful path).
#[inline(always)]
unsafe fn categorical_batch<V: Bits + Lanes<T = f32>>(r: CategoricalRows) -> bool {
    let k = r.d;
    let lanes = k <= MAX_K && V::N > 1;
    fn row(l: &[f32], i: usize, k: usize) -> &[f32] {
        &l[i * k..(i + 1) * k]
    }
    // The rows the plain form declines (and those after the last whole block): the centered
    // form on lanes, else the careful kernel.
    #[inline(always)]
    unsafe fn slow<V: Bits + Lanes<T = f32>>(l1: &[f32], l2: &[f32], lanes: bool) -> f32 {
        // SAFETY: the caller's contract.
        let fast = if lanes { unsafe { categorical_row::<V>(l1, l2) } } else { None };
        fast.unwrap_or_else(|| crate::categorical::kl_logits_careful(l1, l2)) as f32
    }
    let (b, n) = (r.out.len(), V::N);
    let (mut kl, mut keep) = ([0.0_f32; MAX_LANES], [false; MAX_LANES]);
    // A row with a logit that is not finite is never kept by the plain form (its sums or its
    // range test turn NaN or fail), so `check` only needs to look at the rows it declines.
    let bad = |i: usize| r.check && !(crate::all_finite(row(r.l1, i, k)) && crate::all_finite(row(r.l2, i, k)));
    let mut i = 0;
    while i < b {
        if lanes && b - i >= n {
            // SAFETY: rows `i..i + n` lie inside both inputs; `k` suits the lanes.
            unsafe { plain_block::<V>(r.l1, r.l2, k, i, &mut kl, &mut keep) };
            for j in 0..n {
                if keep[j] {
                    r.out[i + j] = kl[j];
                } else if bad(i + j) {
                    return false;
                } else {
                    // SAFETY: as above.
                    r.out[i + j] = unsafe { slow::<V>(row(r.l1, i + j, k), row(r.l2, i + j, k), lanes) };
                }
            }
            i += n;
        } else {
            if bad(i) {
                return false;
            }
            // SAFETY: as above.
            r.out[i] = unsafe { slow::<V>(row(r.l1, i, k), row(r.l2, i, k), lanes) };
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{on, Isa};
    use crate::testing::SplitMix64;

    /// A standard normal draw (Box–Muller).
    fn normal(rng: &mut SplitMix64) -> f64 {
        let (u, v) = (rng.uniform(1e-300, 1.0), rng.uniform(0.0, 1.0));
        (-2.0 * u.ln()).sqrt() * (core::f64::consts::TAU * v).cos()
    }

    /// Every instruction set against the careful `f64` kernel, on logits drawn from several
    /// scales and gaps, including the boundaries of the fast form (|l1| near 80, gaps near 1 and
    /// 80) and values beyond it.
    #[test]
    fn bernoulli_rows_match_the_careful_kernel() {
        let mut rng = SplitMix64(11);
        let mut l1 = Vec::new();
        let mut l2 = Vec::new();
        for i in 0..60_000 {
            let scale = [0.1, 1.0, 5.0, 30.0, 85.0][i % 5];
            let a = rng.uniform(-scale, scale);
            let gap = [1e-6, 1e-3, 0.5, 0.999, 1.001, 3.0, 20.0, 79.0, 81.0, 200.0][(i / 5) % 10];
            let h = rng.uniform(-gap, gap);
            l1.push(a as f32);
            l2.push((a + h) as f32);
        }
        for isa in Isa::available() {
            let mut out = vec![0.0_f32; l1.len()];
            assert!(on(isa, || bernoulli_kl_logits_rows(1, &l1, &l2, &mut out, true)));
            let mut worst = 0.0_f64;
            for i in 0..l1.len() {
                let want = crate::bernoulli_kl_logits(f64::from(l1[i]), f64::from(l2[i]));
                // Relative, except where the f32 result is subnormal.
                let err = (f64::from(out[i]) - want).abs() / want.max(f64::from(f32::MIN_POSITIVE));
                worst = worst.max(err);
                assert!(err <= 4e-6, "{isa:?} {i}: l1 {} l2 {}: {} vs {want}", l1[i], l2[i], out[i]);
            }
            eprintln!("{isa:?}: worst relative error {worst:.2e}");
            // Rows of 7 (not a multiple of any lane count) against the per-element values.
            let mut rows = vec![0.0_f32; l1.len() / 7];
            let n = rows.len() * 7;
            assert!(on(isa, || bernoulli_kl_logits_rows(7, &l1[..n], &l2[..n], &mut rows, true)));
            for (i, v) in rows.iter().enumerate() {
                let want: f64 = out[i * 7..i * 7 + 7].iter().map(|&x| f64::from(x)).sum();
                assert!((f64::from(*v) - want).abs() <= 1e-6 * want + 1e-30, "row {i}: {v} vs {want}");
            }
        }
    }

    /// The batched form, four rows at a time and the rest one by one, against the careful
    /// kernel row by row: lane-sized rows (answered), row lengths the lanes do not take (5, 600),
    /// and near-equal rows the bound declines.
    /// Row `i` of a batch result `out` against the careful kernel in `f64` on the same `f32`
    /// rows of `k` logits: `(out[i], reference, relative error)`.
    fn against_careful(k: usize, l1: &[f32], l2: &[f32], out: &[f32], i: usize) -> (f32, f64, f64) {
        let row = |l: &[f32]| l[i * k..(i + 1) * k].iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
        let want = crate::categorical_kl_logits(&row(l1), &row(l2));
        (out[i], want, (f64::from(out[i]) - want).abs() / want)
    }

    #[test]
    fn categorical_blocks_far_from_zero_match_the_careful_kernel() {
        // The plain form runs unshifted where every logit of a block lies in (−40, 40) and
        // shifted by the row maxima otherwise: blocks of each kind, and rows at the edges
        // (`S1 / S2` near `e^±80` unshifted).
        let mut rng = SplitMix64(29);
        let k = 64;
        for isa in Isa::available() {
            for offsets in [
                [38.5_f32, -38.5],
                [39.0, 0.0],
                [45.0, -45.0],
                [0.0, 60.0],
                [-39.5, -39.5],
                [75.0, -75.0],
                [90.0, -90.0],
            ] {
                let b = 40;
                let mut l1 = Vec::with_capacity(k * b);
                let mut l2 = Vec::with_capacity(k * b);
                for i in 0..b {
                    let (o1, o2) = (offsets[i % 2], offsets[(i + 1) % 2]);
                    for _ in 0..k {
                        l1.push(o1 + (0.5 * normal(&mut rng)).clamp(-0.9, 0.9) as f32);
                        l2.push(o2 + (0.5 * normal(&mut rng)).clamp(-0.9, 0.9) as f32);
                    }
                }
                let mut out = vec![0.0_f32; b];
                assert!(on(isa, || categorical_kl_logits_rows(k, &l1, &l2, &mut out, true)));
                for i in 0..b {
                    let (got, want, err) = against_careful(k, &l1, &l2, &out, i);
                    assert!(err <= 1e-5, "{isa:?} offsets {offsets:?} row {i}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn categorical_batches_match_the_careful_kernel() {
        let mut rng = SplitMix64(17);
        for isa in Isa::available() {
            for (k, b) in [(64, 23), (24, 9), (5, 7), (600, 3), (16, 6)] {
                let l1: Vec<f32> = (0..k * b).map(|_| normal(&mut rng) as f32).collect();
                let l2: Vec<f32> =
                    l1.iter()
                        .enumerate()
                        .map(|(i, &v)| {
                            if (i / k) % 3 == 2 {
                                v + (1e-4 * normal(&mut rng)) as f32
                            } else {
                                normal(&mut rng) as f32
                            }
                        })
                        .collect();
                let mut out = vec![0.0_f32; b];
                assert!(on(isa, || categorical_kl_logits_rows(k, &l1, &l2, &mut out, true)));
                for i in 0..b {
                    let (got, want, err) = against_careful(k, &l1, &l2, &out, i);
                    assert!(err <= 5e-6, "{isa:?} k {k} row {i}: {got} vs {want}");
                }
            }
        }
        let mut out = [0.0_f32; 2];
        assert!(!categorical_kl_logits_rows(0, &[0.0_f32; 0], &[], &mut out, true));
        assert!(!categorical_kl_logits_rows(2, &[0.0_f32; 4], &[0.0; 3], &mut out, true));
        assert!(!categorical_kl_logits_rows(2, &[0.0_f32, 1.0, f32::NAN, 0.0], &[0.0; 4], &mut out, true));
        let mut o64 = [0.0_f64; 1];
        assert!(categorical_kl_logits_rows(2, &[0.0_f64, 40.0], &[0.0, 38.0], &mut o64, true));
        assert_eq!(o64[0], crate::categorical_kl_logits(&[0.0_f64, 40.0], &[0.0, 38.0]));
    }

    #[test]
    fn bernoulli_rows_decline_bad_lengths_and_values() {
        let mut out = [0.0_f32; 2];
        assert!(!bernoulli_kl_logits_rows(1, &[0.0_f32; 3], &[0.0; 2], &mut out, true));
        assert!(!bernoulli_kl_logits_rows(1, &[0.0_f32, f32::INFINITY], &[0.0; 2], &mut out, true));
        assert!(!bernoulli_kl_logits_rows(1, &[0.0_f32, 0.0], &[f32::NAN, 0.0], &mut out, true));
        // Unchecked, an infinite gap on Q's side is an infinite KL.
        assert!(bernoulli_kl_logits_rows(1, &[0.0_f32, 0.0], &[f32::NEG_INFINITY, 0.0], &mut out, false));
        assert_eq!(out, [f32::INFINITY, 0.0]);
        // f64 goes element by element.
        let mut o64 = [0.0_f64; 1];
        assert!(bernoulli_kl_logits_rows(2, &[40.0_f64, 1.0], &[38.0, 1.0], &mut o64, true));
        assert_eq!(o64[0], crate::bernoulli_kl_logits(40.0, 38.0));
    }

    /// The row kernel, where it answers, against the careful `f64` kernel: standard-normal rows
    /// (every one answered), scaled and shifted rows, near-equal ones (declined where the bound
    /// says so) and extreme logits.
    #[test]
    fn categorical_rows_match_the_careful_kernel() {
        let mut rng = SplitMix64(5);
        for isa in Isa::available() {
            let (mut answered, mut worst) = (0usize, 0.0_f64);
            for i in 0..6_000 {
                let k = [64, 16, 8, 128, 24, 512][i % 6];
                let kind = (i / 6) % 6;
                let scale = [1.0, 1.0, 4.0, 0.05, 1.0, 20.0][kind];
                let l1: Vec<f32> = (0..k).map(|_| (normal(&mut rng) * scale) as f32).collect();
                let l2: Vec<f32> = match kind {
                    // Near-equal: a relative gap of 1e-3 (the bound declines most of these).
                    1 => l1.iter().map(|&v| v + (1e-3 * normal(&mut rng)) as f32).collect(),
                    // A shift by a constant: P = Q.
                    4 => l1.iter().map(|&v| v + 3.5).collect(),
                    _ => (0..k).map(|_| (normal(&mut rng) * scale + 0.3) as f32).collect(),
                };
                let want = crate::categorical_kl_logits(
                    &l1.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
                    &l2.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
                );
                let got = on(isa, || categorical_kl_logits_f32(&l1, &l2));
                if kind == 0 && (k == 64 || k == 128) {
                    assert!(got.is_some(), "{isa:?}: a standard-normal row of {k} declined");
                }
                if let Some(v) = got {
                    answered += 1;
                    let err = (v - want).abs() / want;
                    worst = worst.max(err);
                    assert!(err <= 5e-6, "{isa:?} row {i} (k {k}, kind {kind}): {v} vs {want}");
                }
            }
            eprintln!("{isa:?}: {answered} of 6000 rows answered, worst relative error {worst:.2e}");
        }
    }
}
