//! The row kernels, written once against [`crate::simd`]'s lanes: the per-element step, the
//! stable scale term, and the loops over a batch in its three layouts (rows of whole vectors,
//! two rows per vector or many short rows per block, long rows with a scalar tail).

use super::careful::{careful_rows, Kind, Rows};
use crate::real::Real;
use crate::simd::math::{atanh_parts, ratio_split};
use crate::simd::{Arr, Bits, Lanes, RowSource};

/// One lane: the scalar tails of the vector loops.
type One<S> = Arr<S, 1>;

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

impl<V: Lanes + Bits> Dom<V> {
    #[inline(always)]
    fn new() -> Self {
        Dom { lo: V::of(1.0) }
    }
    #[inline(always)]
    fn normal(&mut self, x: V) {
        self.lo = self.lo.min(x);
    }
    /// Whether the block was in the domain, given the values it produced.
    #[inline(always)]
    fn ok(&self, values: V) -> bool {
        // `v · 0` is 0 for finite `v`, NaN otherwise.
        let min = if V::MANT == 23 { f32::MIN_POSITIVE as f64 } else { f64::MIN_POSITIVE };
        (values * V::of(0.0)).all_zero() && (self.lo - V::of(2.0 * min)).all_nonneg()
    }
}

/// Adds one vector of elements at flat offset `at` to `acc`.
///
/// # Safety
/// `at + V::N` elements are readable behind every input of `rows`.
#[inline(always)]
unsafe fn step<V: Lanes + Bits, const K: u8>(rows: &Rows<V::T>, at: usize, acc: &mut Acc<V>, dom: &mut Dom<V>) {
    // SAFETY: the caller's contract.
    let ld = |i: usize| unsafe { V::load(rows.ins[i].add(at)) };
    let one = V::of(1.0);
    match Kind::of(K) {
        Kind::NormalKl => {
            let (m1, s1, m2, s2) = (ld(0), ld(1), ld(2), ld(3));
            let inv = one.div(s2);
            let z = m1.sub(m2).mul(inv);
            let r = s1.mul(inv);
            dom.normal(s1.min(s2));
            dom.normal(r.min(inv));
            scale_term(s1, s2, s1.sub(s2).mul(inv), r, acc);
            acc.q = z.mul_add(z, acc.q);
        }
        Kind::StdNormalKl => {
            let (m, s) = (ld(0), ld(1));
            dom.normal(s);
            scale_term(s, one, s.sub(one), s, acc);
            acc.q = m.mul_add(m, acc.q);
        }
        Kind::NormalLogProb => {
            let (x, m, s) = (ld(0), ld(1), ld(2));
            let inv = one.div(s);
            let z = x.sub(m).mul(inv);
            dom.normal(s.min(inv));
            // -½ z² − ln s, ln s = k ln 2 + 2 atanh(t), t = (s − 2^k) / (s + 2^k).
            let (p, k) = ratio_split(s, one);
            let t = s.sub(p).div(s.add(p));
            acc.q = z.mul_add(z.mul(V::of(-1.0)), acc.q);
            let (tz, p2) = atanh_parts(t);
            acc.l = acc.l.sub(tz.mul_add(p2, t.add(t)));
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
fn scale_term<V: Lanes + Bits>(s1: V, s2: V, u: V, r: V, acc: &mut Acc<V>) {
    let (p, k) = ratio_split(r, s2);
    let t = s1.sub(p).div(s1.add(p));
    let lin = V::select(k.eq(V::of(0.0)), u.mul(t), t.mul_add(V::of(-2.0), u));
    let (tz, p2) = atanh_parts(t);
    acc.q = u.mul_add(u, acc.q);
    acc.l = acc.l.add(tz.neg_mul_add(p2, lin));
    acc.k = acc.k.sub(k);
}

/// The row value from its sums, as a vector whose lanes add up to it.
#[inline(always)]
fn combine<V: Lanes + Bits>(acc: Acc<V>, c: V) -> V {
    // ln 2 in two parts: the `k` sums are exact integers.
    let hi = <V::T as Real>::from_f64(std::f64::consts::LN_2).to_f64();
    let lo = ln2_lo::<V::T>().to_f64();
    let k = acc.k;
    acc.q.mul_add(V::of(0.5), acc.l).add(k.mul_add(V::of(hi), k.mul(V::of(lo)))).add(c)
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
fn row_constant<V: Lanes + Bits>(kind: Kind, per_lane: usize) -> V {
    match kind {
        Kind::NormalLogProb => V::of(-0.5 * <V::T as Real>::LN_2PI.to_f64() * per_lane as f64),
        // −0, not +0: `x + (−0) = x` for every `x`, so the add folds away.
        _ => V::of(-0.0),
    }
}

/// Elements per block in the flat layout (rows shorter than a vector).
const FLAT: usize = 512;

/// `N` rows from `first` on, rows of whole vectors.
struct Block<'a, V: Lanes + Bits, const K: u8> {
    rows: &'a Rows<V::T>,
    first: usize,
    c: V,
    dom: Dom<V>,
}

impl<V: Lanes + Bits, const K: u8> RowSource<V> for Block<'_, V, K> {
    #[inline(always)]
    fn row(&mut self, r: usize) -> V {
        // −0: the first `acc + x` folds to `x` (not so for +0, since −0 + +0 = +0).
        let zero = V::of(-0.0);
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
pub(super) unsafe fn run_lanes<V: Lanes<T = S> + Bits, S: Real, const K: u8>(rows: &Rows<S>, out: &mut [S]) -> bool
where
    One<S>: Lanes<T = S> + Bits,
{
    let (n, d, b) = (V::N, rows.d, out.len());
    // −0 starts the sums: see `Block::row`.
    let zero = V::of(-0.0);
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
        return unsafe {
            run_lanes::<One<S>, S, K>(&Rows { ins: rows.ins.map(|p| p.add(i * d)), ..*rows }, &mut out[i..])
        };
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
            let v = combine(acc, c).sum();
            if dom.ok(V::splat(v)) {
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
            let c = row_constant::<One<S>>(rows.kind, d).0[0];
            let mut nan = S::ZERO;
            for (r, o) in out[i..i + per].iter_mut().enumerate() {
                *o = buf[r * d..(r + 1) * d].iter().fold(c, |s, &v| s + v);
                nan += *o * S::ZERO;
            }
            if !dom.ok(V::splat(nan)) && !unsafe { careful_rows(rows, i, i + per, out) } {
                return false;
            }
            i += per;
        }
        // SAFETY: the remaining rows, one lane at a time.
        return unsafe {
            run_lanes::<One<S>, S, K>(&Rows { ins: rows.ins.map(|p| p.add(i * d)), ..*rows }, &mut out[i..])
        };
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
        let (mut dom1, mut acc1) =
            (Dom::<One<S>>::new(), Acc { q: Arr([S::ZERO]), l: Arr([S::ZERO]), k: Arr([S::ZERO]) });
        while at < base + d {
            // SAFETY: `at < base + d`.
            unsafe { step::<_, K>(rows, at, &mut acc1, &mut dom1) };
            at += 1;
        }
        let c = S::from_f64(-0.5 * S::LN_2PI.to_f64() * d as f64);
        let c = if rows.kind == Kind::NormalLogProb { c } else { S::ZERO };
        let v = combine(acc, zero).sum() + combine(acc1, Arr([S::ZERO])).0[0] + c;
        if dom.ok(V::splat(v)) && dom1.ok(Arr([v])) {
            out[i] = v;
        } else if !unsafe { careful_rows(rows, i, i + 1, out) } {
            return false;
        }
        i += 1;
    }
    true
}
