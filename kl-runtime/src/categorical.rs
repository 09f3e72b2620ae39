//! `Categorical(probs | logits)` and `OneHotCategorical(probs | logits)`: distributions over the
//! `K` categories of the last dim of their parameter, as torch.distributions defines them. Every
//! kernel takes whole rows (one slice of `K` per parameter) and returns one value per row.
//!
//! A row is read as given: `P(k) = p_k / Σ p` for `probs` (torch normalizes; the checks only let
//! through sums within rounding of 1, see [`categorical_probs_tolerance`]) and
//! `P(k) = exp(l_k − logsumexp(l))` for `logits`, in log space, so that no probability is formed
//! that underflows. Everything is computed in `f64` (an `f32` row is widened), and:
//!
//! - the KL is `ln E_P[e^(−c)] − ln Q(supp P)`, with `d_k = ln P(k)/Q(k)` up to a constant (the
//!   logits' difference, exact as a pair of doubles, or `ln(p1/p2)` from the gap `p2 − p1`),
//!   `μ = E_P[d]` refined once, and `c = d − μ`, so that `E_P[c] = 0` and
//!   `E_P[e^(−c)] = 1 + Σ P(k) (e^(−c_k) − 1 + c_k)`: a sum of non-negative terms, computed with
//!   `expm1mx`, that is second order in the gap. Near-equal rows (KL down to 1e-25 and below)
//!   keep full relative accuracy, and `P ‖ P` is exactly 0;
//! - `ln Σ` of a normalizer is `ln_1p` of its distance from 1 (the largest term of a logits row
//!   is exactly 1; a `probs` row is summed with its rounding error kept), so that a `probs` entry
//!   of 1e-300 is not lost next to 1;
//! - `+∞` where Q puts no mass on a category P has.
//!
//! Gradients are with respect to the parameters as given: `logits` through the softmax, and
//! `probs` through the normalization `p / Σ p` (as torch's autograd sees them), so that
//! `Σ_j p_j ∂/∂p_j = 0`. At `probs` 0 on the P side the one-sided derivative is `−∞`. An
//! infinite KL has gradient 0. A `log_prob` value (an index, a one-hot vector) has gradient 0.

use crate::error::Violation;
use crate::param::expm1mx;
use crate::real::Real;

/// One row as given.
#[derive(Clone, Copy)]
enum Row<'a, T> {
    Probs(&'a [T]),
    Logits(&'a [T]),
}

/// A row's normalizer: `P(k) = u_k / s` with `u_k = exp(raw_k − off)` (`raw` the logits, or
/// `ln p` with `off = 0`), and `ln s` accurate also when `s` is within rounding of 1.
#[derive(Clone, Copy, Debug)]
struct Norm {
    off: f64,
    s: f64,
    ln_s: f64,
}

impl<T: Real> Row<'_, T> {
    fn len(&self) -> usize {
        match self {
            Row::Probs(r) | Row::Logits(r) => r.len(),
        }
    }

    fn is_probs(&self) -> bool {
        matches!(self, Row::Probs(_))
    }

    /// The element as given.
    fn at(&self, k: usize) -> f64 {
        match self {
            Row::Probs(r) | Row::Logits(r) => r[k].to_f64(),
        }
    }

    /// `ln` of the unnormalized weight: the logit, or `ln p` (`−∞` at 0).
    fn raw(&self, k: usize) -> f64 {
        match self {
            Row::Probs(r) => r[k].to_f64().ln(),
            Row::Logits(r) => r[k].to_f64(),
        }
    }

    /// Whether category `k` has probability exactly 0 (only `probs` can say so).
    fn is_zero(&self, k: usize) -> bool {
        matches!(self, Row::Probs(r) if r[k] == T::ZERO)
    }

    fn norm(&self) -> Norm {
        match self {
            Row::Probs(r) => {
                let (hi, lo) = sum2(r.iter().map(|v| v.to_f64()));
                Norm { off: 0.0, s: hi + lo, ln_s: ((hi - 1.0) + lo).ln_1p() }
            }
            Row::Logits(r) => {
                let (mut m, mut at) = (f64::NEG_INFINITY, 0);
                for (k, v) in r.iter().enumerate() {
                    if v.to_f64() > m {
                        (m, at) = (v.to_f64(), k);
                    }
                }
                // The largest term is exactly 1: s − 1 is the sum of the others.
                let rest: f64 =
                    r.iter().enumerate().filter(|&(k, _)| k != at).map(|(_, v)| (v.to_f64() - m).exp()).sum();
                Norm { off: m, s: 1.0 + rest, ln_s: rest.ln_1p() }
            }
        }
    }

    /// `u_k = s · P(k)`.
    fn weight(&self, k: usize, n: &Norm) -> f64 {
        match self {
            Row::Probs(r) => r[k].to_f64(),
            Row::Logits(r) => (r[k].to_f64() - n.off).exp(),
        }
    }

    /// `ln P(k)` (for a `P(k)` itself, `weight / s` is exact where this rounds by `|ln P(k)| ε`).
    fn ln_prob(&self, k: usize, n: &Norm) -> f64 {
        (self.raw(k) - n.off) - n.ln_s
    }
}

/// `Σ x` as an unevaluated pair `hi + lo` (Neumaier's compensated sum).
fn sum2(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut hi, mut lo) = (0.0_f64, 0.0_f64);
    for x in xs {
        let t = hi + x;
        lo += if hi.abs() >= x.abs() { (hi - t) + x } else { (x - t) + hi };
        hi = t;
    }
    (hi, lo)
}

/// `ln P(k) − ln Q(k)` up to a constant in `k`, as an unevaluated pair `hi + lo`; `+∞` where
/// `Q(k) = 0`. Two logits: their exact difference. Two `probs`: `ln(p2/p1)` from the gap
/// `p2 − p1` near 1, so that near-equal rows keep their gap.
fn gap<T: Real>(p: Row<T>, q: Row<T>, k: usize) -> (f64, f64) {
    match (p, q) {
        (Row::Logits(a), Row::Logits(b)) => {
            let (x, y) = (a[k].to_f64(), -b[k].to_f64());
            // x + y and its rounding error, exactly (Knuth's TwoSum).
            let d = x + y;
            let yv = d - x;
            (d, (x - (d - yv)) + (y - yv))
        }
        (Row::Probs(a), Row::Probs(b)) => {
            let (x, y) = (a[k].to_f64(), b[k].to_f64());
            if y == 0.0 {
                return (f64::INFINITY, 0.0);
            }
            let u = (y - x) / x;
            if u.abs() < 0.5 {
                (-u.ln_1p(), 0.0)
            } else {
                (x.ln() - y.ln(), 0.0)
            }
        }
        _ => {
            let d = p.raw(k) - q.raw(k);
            (if d.is_nan() { f64::INFINITY } else { d }, 0.0)
        }
    }
}

/// The pieces of a KL the gradient reuses.
struct Kl {
    value: f64,
    norm: Norm,
    mu: (f64, f64),
}

/// `c_k = d_k − μ`, from the pairs.
fn centered(d: (f64, f64), mu: (f64, f64)) -> f64 {
    ((d.0 - mu.0) - mu.1) + d.1
}

fn kl_parts<T: Real>(p: Row<T>, q: Row<T>) -> Kl {
    let n = p.len().min(q.len());
    let norm = p.norm();
    let support = |k: usize| !p.is_zero(k);
    // μ = E_P[d], then once more from the residual E_P[d − μ] (whose terms are small).
    let mut a = 0.0;
    let mut outside = false;
    for k in 0..n {
        if !support(k) {
            outside = true;
            continue;
        }
        let d = gap(p, q, k);
        if d.0 == f64::INFINITY {
            return Kl { value: f64::INFINITY, norm, mu: (0.0, 0.0) };
        }
        a += p.weight(k, &norm) * d.0;
    }
    let mu0 = a / norm.s;
    let r: f64 =
        (0..n).filter(|&k| support(k)).map(|k| p.weight(k, &norm) * centered(gap(p, q, k), (mu0, 0.0))).sum::<f64>()
            / norm.s;
    let mu = (mu0, r);
    // E_P[e^(−c)] − 1 = Σ P(k) expm1mx(−c_k), each term >= 0; far out, P(k) e^(−c_k) in logs.
    let mut t = 0.0;
    for k in (0..n).filter(|&k| support(k)) {
        let c = centered(gap(p, q, k), mu);
        t += if -c > 50.0 { (p.ln_prob(k, &norm) - c).exp() } else { p.weight(k, &norm) / norm.s * expm1mx(-c) };
    }
    let mut value = if t.is_finite() {
        t.ln_1p()
    } else {
        // ln Σ P(k) e^(−c_k) (at least its largest term, far above 700), shifted by its maximum.
        let terms = || (0..n).filter(|&k| support(k)).map(|k| p.ln_prob(k, &norm) - centered(gap(p, q, k), mu));
        let m = terms().fold(f64::NEG_INFINITY, f64::max);
        m + terms().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    if outside {
        // − ln Q(supp P) = − ln(1 − Q(outside supp P)).
        let qn = q.norm();
        let out: f64 = (0..n).filter(|&k| !support(k)).map(|k| q.weight(k, &qn) / qn.s).sum();
        value -= (-out).ln_1p();
    }
    Kl { value: value.max(0.0), norm, mu }
}

/// [`categorical_kl_logits`] on the careful path (no lanes).
pub(crate) fn kl_logits_careful<T: Real>(l1: &[T], l2: &[T]) -> f64 {
    kl_parts(Row::Logits(l1), Row::Logits(l2)).value
}

/// Two `f32` logits rows on the lanes of [`crate::logit_rows`], where its error bound holds.
fn lanes<T: Real>(p: Row<T>, q: Row<T>) -> Option<f64> {
    match (p, q) {
        (Row::Logits(a), Row::Logits(b)) => {
            crate::logit_rows::categorical_kl_logits_f32(crate::batch::same(a)?, crate::batch::same(b)?)
        }
        _ => None,
    }
}

fn kl_grad<T: Real>(p: Row<T>, q: Row<T>, g: T, gp: &mut [T], gq: &mut [T]) {
    let Kl { value, norm, mu } = kl_parts(p, q);
    if !value.is_finite() {
        return;
    }
    let g = g.to_f64();
    let qn = q.norm();
    let n = p.len().min(q.len()).min(gp.len()).min(gq.len());
    let add = |x: &mut T, v: f64| *x = T::from_f64(x.to_f64() + g * v);
    for k in 0..n {
        // ∂/∂ ln Q̃_k = Q(k) − P(k), from P(k)(e^(−c_k − KL) − 1) where that is near 0.
        let dq = if p.is_zero(k) {
            // The one-sided derivative of p ln p at 0.
            if g != 0.0 {
                add(&mut gp[k], f64::NEG_INFINITY);
            }
            q.weight(k, &qn) / qn.s
        } else {
            let c = centered(gap(p, q, k), mu);
            let w = p.weight(k, &norm) / norm.s;
            // ∂/∂ ln P̃_k = P(k) c_k (through p_k = s P(k): c_k / s).
            add(&mut gp[k], if p.is_probs() { c / norm.s } else { w * c });
            let a = -c - value;
            if a.abs() < 1.0 {
                w * a.exp_m1()
            } else {
                q.weight(k, &qn) / qn.s - w
            }
        };
        match q {
            Row::Logits(_) => add(&mut gq[k], dq),
            // ∂/∂p2_k = (Q(k) − P(k))/p2_k, which is 1/Σp2 at p2_k = 0 (where P(k) = 0).
            Row::Probs(r) if r[k] == T::ZERO => add(&mut gq[k], 1.0 / qn.s),
            Row::Probs(r) => add(&mut gq[k], dq / r[k].to_f64()),
        }
    }
}

fn entropy<T: Real>(p: Row<T>) -> f64 {
    let norm = p.norm();
    // H = ln s − Σ P(k) ln u_k: both parts >= 0.
    let b: f64 =
        (0..p.len()).filter(|&k| !p.is_zero(k)).map(|k| p.weight(k, &norm) * (p.raw(k) - norm.off)).sum::<f64>()
            / norm.s;
    (norm.ln_s - b).max(0.0)
}

fn entropy_grad<T: Real>(p: Row<T>, g: T, gp: &mut [T]) {
    let h = entropy(p);
    let norm = p.norm();
    let g = g.to_f64();
    for (k, out) in gp.iter_mut().enumerate().take(p.len()) {
        // ∂H/∂ ln P̃_k = −P(k)(ln P(k) + H).
        let lp = p.ln_prob(k, &norm);
        let v = if p.is_probs() {
            -(lp + h) / norm.s
        } else {
            let w = lp.exp();
            if w == 0.0 {
                0.0
            } else {
                -w * (lp + h)
            }
        };
        *out = T::from_f64(out.to_f64() + g * v);
    }
}

fn log_prob<T: Real>(p: Row<T>, x: usize) -> f64 {
    if x >= p.len() {
        return f64::NAN;
    }
    p.ln_prob(x, &p.norm())
}

fn log_prob_grad<T: Real>(p: Row<T>, x: usize, g: T, gp: &mut [T]) {
    let norm = p.norm();
    let g = g.to_f64();
    for (k, out) in gp.iter_mut().enumerate().take(p.len()) {
        let hit = if k == x { 1.0 } else { 0.0 };
        // ∂ ln P(x)/∂ ln P̃_k = [k = x] − P(k); for probs, ∂/∂p_k = [k = x]/p_x − 1/Σp.
        let v = match p {
            Row::Probs(_) if k == x => 1.0 / p.at(k) - 1.0 / norm.s,
            Row::Probs(_) => -1.0 / norm.s,
            Row::Logits(_) => hit - p.ln_prob(k, &norm).exp(),
        };
        *out = T::from_f64(out.to_f64() + g * v);
    }
}

/// The category of a `Categorical` `log_prob` value (checked to be an integer in `[0, K)`).
fn index<T: Real>(x: &[T]) -> usize {
    x.first().map_or(usize::MAX, |v| {
        let v = v.to_f64();
        if v >= 0.0 && v.is_finite() {
            v as usize
        } else {
            usize::MAX
        }
    })
}

/// The hot category of a one-hot vector (checked to be one).
fn hot<T: Real>(x: &[T]) -> usize {
    x.iter().position(|v| *v == T::ONE).unwrap_or(usize::MAX)
}

fn to<T: Real>(v: f64) -> T {
    T::from_f64(v)
}

/// How far from 1 the sum of a row of `K` probabilities may be: `min(2 (K + 8) ε, 5e-4)` for
/// the element type's `ε`. Any softmax of finite logits computed in that type passes (each of
/// its terms is within a few `ε` of the exact one, and a sum of `K` terms in that type rounds by
/// at most `(K − 1) ε/2` of it), and a sum off by 1e-3 or more fails in every type.
///
/// ```
/// use kl_runtime::categorical_probs_tolerance;
/// assert!(categorical_probs_tolerance::<f32>(64) < 2e-5);
/// assert!(categorical_probs_tolerance::<f64>(64) < 1e-13);
/// assert_eq!(categorical_probs_tolerance::<f32>(1 << 20), 5e-4);
/// ```
pub fn categorical_probs_tolerance<T: Real>(k: usize) -> f64 {
    (2.0 * (k as f64 + 8.0) * T::EPSILON.to_f64()).min(5e-4)
}

/// Rule: the `probs` row in operand `slot` sums to 1 within [`categorical_probs_tolerance`].
///
/// ```
/// use kl_runtime::{categorical_probs_check, Violation};
/// assert!(categorical_probs_check(0, &[0.25_f64, 0.75]).is_ok());
/// assert_eq!(
///     categorical_probs_check(1, &[0.25_f64, 0.74]),
///     Err(Violation::NotNormalized { slot: 1, sum: 0.99 })
/// );
/// ```
pub fn categorical_probs_check<T: Real>(slot: usize, p: &[T]) -> Result<(), Violation> {
    let (hi, lo) = sum2(p.iter().map(|v| v.to_f64()));
    if ((hi - 1.0) + lo).abs() <= categorical_probs_tolerance::<T>(p.len()) {
        Ok(())
    } else {
        Err(Violation::NotNormalized { slot, sum: hi + lo })
    }
}

/// Rule: a `Categorical` `log_prob` value in operand `slot` (a non-negative integer, by its
/// role) is below the number of categories `k`.
fn index_check<T: Real>(slot: usize, x: &[T], k: usize) -> Result<(), Violation> {
    match x.first() {
        Some(v) if v.to_f64() < k as f64 => Ok(()),
        v => Err(Violation::Outside { slot, lo: 0.0, hi: k as f64 - 1.0, value: v.map_or(f64::NAN, |v| v.to_f64()) }),
    }
}

/// Rule: a `OneHotCategorical` `log_prob` value in operand `slot` (entries 0 or 1, by its
/// role) has exactly one 1.
fn one_hot_check<T: Real>(slot: usize, x: &[T]) -> Result<(), Violation> {
    let ones = x.iter().filter(|v| **v == T::ONE).count();
    if ones == 1 {
        Ok(())
    } else {
        Err(Violation::NotNormalized { slot, sum: ones as f64 })
    }
}

macro_rules! kl_kernels {
    ($($(#[$doc:meta])* $name:ident, $grad:ident, $check:ident: $p:ident, $q:ident, |$a:ident, $b:ident| $body:expr;)+) => {$(
        $(#[$doc])*
        pub fn $name<T: Real>($a: &[T], $b: &[T]) -> T {
            if let Some(v) = lanes(Row::$p($a), Row::$q($b)) {
                return to(v);
            }
            to(kl_parts(Row::$p($a), Row::$q($b)).value)
        }

        #[doc = concat!("Adds `g ·` the gradient of [`", stringify!($name), "`] into `ga`, `gb`.")]
        pub fn $grad<T: Real>($a: &[T], $b: &[T], g: T, ga: &mut [T], gb: &mut [T]) {
            kl_grad(Row::$p($a), Row::$q($b), g, ga, gb)
        }

        #[doc = concat!("The row checks of [`", stringify!($name), "`]: `probs` rows sum to 1.")]
        pub fn $check<T: Real>($a: &[T], $b: &[T]) -> Result<(), Violation> {
            $body
        }
    )+};
}

kl_kernels! {
    /// `KL(Categorical(logits=l1) ‖ Categorical(logits=l2))`.
    ///
    /// ```
    /// use kl_runtime::categorical_kl_logits;
    /// // Logits 40 against 38 over two categories: the Bernoulli KL, 1.8646e-17.
    /// let kl = categorical_kl_logits(&[0.0_f64, 40.0], &[0.0, 38.0]);
    /// assert!((kl / 1.8646e-17 - 1.0).abs() < 1e-4);
    /// assert_eq!(categorical_kl_logits(&[0.3_f64, -1.0, 2.0], &[0.3, -1.0, 2.0]), 0.0);
    /// ```
    categorical_kl_logits, categorical_kl_logits_grad, categorical_kl_logits_check: Logits, Logits,
        |l1, l2| { let _ = (l1, l2); Ok(()) };
    /// `KL(Categorical(probs=p1) ‖ Categorical(probs=p2))`; `+∞` where `p2` is 0 and `p1` not.
    ///
    /// ```
    /// use kl_runtime::categorical_kl_probs;
    /// let kl = categorical_kl_probs(&[0.5_f64, 0.5], &[0.25, 0.75]);
    /// assert!((kl - (0.5 * 2.0_f64.ln() + 0.5 * (2.0_f64 / 3.0).ln())).abs() < 1e-16);
    /// assert_eq!(categorical_kl_probs(&[0.5_f64, 0.5], &[1.0, 0.0]), f64::INFINITY);
    /// ```
    categorical_kl_probs, categorical_kl_probs_grad, categorical_kl_probs_check: Probs, Probs,
        |p1, p2| { categorical_probs_check(0, p1)?; categorical_probs_check(1, p2) };
    /// `KL(Categorical(probs=p1) ‖ Categorical(logits=l2))`.
    categorical_kl_probs_logits, categorical_kl_probs_logits_grad, categorical_kl_probs_logits_check: Probs, Logits,
        |p1, l2| { let _ = l2; categorical_probs_check(0, p1) };
    /// `KL(Categorical(logits=l1) ‖ Categorical(probs=p2))`; `+∞` where `p2` is 0.
    categorical_kl_logits_probs, categorical_kl_logits_probs_grad, categorical_kl_logits_probs_check: Logits, Probs,
        |l1, p2| { let _ = l1; categorical_probs_check(1, p2) };
}

macro_rules! unary_kernels {
    ($($(#[$doc:meta])* $name:ident, $grad:ident, $check:ident: $p:ident;)+) => {$(
        $(#[$doc])*
        pub fn $name<T: Real>(p: &[T]) -> T {
            to(entropy(Row::$p(p)))
        }

        #[doc = concat!("Adds `g ·` the gradient of [`", stringify!($name), "`] into `gp`.")]
        pub fn $grad<T: Real>(p: &[T], g: T, gp: &mut [T]) {
            entropy_grad(Row::$p(p), g, gp)
        }

        #[doc = concat!("The row checks of [`", stringify!($name), "`].")]
        pub fn $check<T: Real>(p: &[T]) -> Result<(), Violation> {
            if Row::$p(p).is_probs() { categorical_probs_check(0, p) } else { Ok(()) }
        }
    )+};
}

unary_kernels! {
    /// The entropy of `Categorical(logits=l)`, `ln Σ e^l − Σ P(k) l_k`.
    ///
    /// ```
    /// use kl_runtime::categorical_entropy_logits;
    /// assert!((categorical_entropy_logits(&[3.0_f64; 4]) - 4.0_f64.ln()).abs() < 1e-15);
    /// ```
    categorical_entropy_logits, categorical_entropy_logits_grad, categorical_entropy_logits_check: Logits;
    /// The entropy of `Categorical(probs=p)`, `−Σ P(k) ln P(k)`.
    categorical_entropy_probs, categorical_entropy_probs_grad, categorical_entropy_probs_check: Probs;
}

macro_rules! log_prob_kernels {
    ($($(#[$doc:meta])* $name:ident, $grad:ident, $check:ident: $p:ident, $at:ident, |$x:ident, $r:ident| $body:expr;)+) => {$(
        $(#[$doc])*
        pub fn $name<T: Real>($x: &[T], $r: &[T]) -> T {
            to(log_prob(Row::$p($r), $at($x)))
        }

        #[doc = concat!("Adds `g ·` the gradient of [`", stringify!($name), "`] into `gx` (0: a category has none) and `gp`.")]
        pub fn $grad<T: Real>($x: &[T], $r: &[T], g: T, gx: &mut [T], gp: &mut [T]) {
            let _ = gx;
            log_prob_grad(Row::$p($r), $at($x), g, gp)
        }

        #[doc = concat!("The row checks of [`", stringify!($name), "`]: the value names a category; `probs` sum to 1.")]
        pub fn $check<T: Real>($x: &[T], $r: &[T]) -> Result<(), Violation> {
            $body?;
            if Row::$p($r).is_probs() { categorical_probs_check(1, $r) } else { Ok(()) }
        }
    )+};
}

log_prob_kernels! {
    /// `ln P(x)` of `Categorical(logits=l)` at the index `x` (a slice of one element).
    ///
    /// ```
    /// use kl_runtime::categorical_log_prob_logits;
    /// let lp = categorical_log_prob_logits(&[1.0_f64], &[0.0, 2.0_f64.ln()]);
    /// assert!((lp - (2.0_f64 / 3.0).ln()).abs() < 1e-15);
    /// ```
    categorical_log_prob_logits, categorical_log_prob_logits_grad, categorical_log_prob_logits_check: Logits, index,
        |x, l| index_check(0, x, l.len());
    /// `ln P(x)` of `Categorical(probs=p)` at the index `x`.
    categorical_log_prob_probs, categorical_log_prob_probs_grad, categorical_log_prob_probs_check: Probs, index,
        |x, p| index_check(0, x, p.len());
    /// `ln P(x)` of `OneHotCategorical(logits=l)` at the one-hot vector `x`.
    one_hot_log_prob_logits, one_hot_log_prob_logits_grad, one_hot_log_prob_logits_check: Logits, hot,
        |x, l| { let _ = l; one_hot_check(0, x) };
    /// `ln P(x)` of `OneHotCategorical(probs=p)` at the one-hot vector `x`.
    one_hot_log_prob_probs, one_hot_log_prob_probs_grad, one_hot_log_prob_probs_check: Probs, hot,
        |x, p| { let _ = p; one_hot_check(0, x) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Σ P ln(P/Q)` directly, for rows far from each other.
    fn direct(l1: &[f64], l2: &[f64]) -> f64 {
        let lse = |l: &[f64]| {
            let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + l.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
        };
        let (a, b) = (lse(l1), lse(l2));
        l1.iter().zip(l2).map(|(x, y)| (x - a).exp() * ((x - a) - (y - b))).sum()
    }

    #[test]
    fn far_rows_match_the_direct_sum() {
        let (l1, l2) = ([0.3, -1.2, 2.0, 0.7], [1.1, 0.4, -0.5, 0.0]);
        let kl = categorical_kl_logits(&l1, &l2);
        assert!((kl - direct(&l1, &l2)).abs() < 1e-15 * kl.max(1.0), "{kl}");
        let p1: Vec<f64> = l1.iter().map(|x| x.exp()).collect();
        let s: f64 = p1.iter().sum();
        let p1: Vec<f64> = p1.iter().map(|x| x / s).collect();
        assert!((categorical_kl_probs_logits(&p1, &l2) - kl).abs() < 1e-14);
    }

    #[test]
    fn opposite_point_masses_stay_finite() {
        let kl = categorical_kl_logits(&[0.0_f64, -1000.0], &[-1000.0, 0.0]);
        assert!((kl - 1000.0).abs() < 1e-12, "{kl}");
    }

    #[test]
    fn mass_of_q_outside_the_support_of_p_counts() {
        // P = (0, ½, ½), Q = (1e-300, ½, ½)/(1 + 1e-300): KL = ln(1 + 1e-300).
        let kl = categorical_kl_probs(&[0.0_f64, 0.5, 0.5], &[1e-300, 0.5, 0.5]);
        assert_eq!(kl, 1e-300);
    }

    #[test]
    fn gradients_match_central_differences() {
        let (l1, l2) = ([0.3_f64, -1.2, 2.0], [1.1, 0.4, -0.5]);
        let (mut g1, mut g2) = ([0.0; 3], [0.0; 3]);
        categorical_kl_logits_grad(&l1, &l2, 1.0, &mut g1, &mut g2);
        let h = 1e-6;
        for k in 0..3 {
            let (mut a, mut b) = (l1, l1);
            a[k] += h;
            b[k] -= h;
            let fd = (categorical_kl_logits(&a, &l2) - categorical_kl_logits(&b, &l2)) / (2.0 * h);
            assert!((fd - g1[k]).abs() < 1e-8, "l1[{k}]: {fd} vs {}", g1[k]);
            let (mut a, mut b) = (l2, l2);
            a[k] += h;
            b[k] -= h;
            let fd = (categorical_kl_logits(&l1, &a) - categorical_kl_logits(&l1, &b)) / (2.0 * h);
            assert!((fd - g2[k]).abs() < 1e-8, "l2[{k}]: {fd} vs {}", g2[k]);
        }
    }
}
