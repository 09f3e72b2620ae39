//! The Dirichlet distribution `Dirichlet(concentration c)` on the simplex of `K` categories:
//! density `Γ(Σc) / ΠΓ(c_i) · Π x_i^(c_i − 1)`.
//!
//! Its closed forms are sums over the category dim, so they are built from elementwise pieces
//! and `sum_last` reductions (the rule in `kl-compiler`'s `family/dirichlet.rs`): a term per
//! category, summed, then a total that also reads the sums of the concentrations. Every piece
//! has its partial derivatives, so gradients flow through the reductions like through any
//! other kernel.

use crate::error::Violation;
use crate::real::Real;
use crate::special::fast;
use crate::special::{
    digamma, digamma_between, digamma_diff, digamma_excess, digamma_tail, lgamma, lgamma_correction, lgamma_excess,
    trigamma, STIRLING_MIN,
};

/// The KL's term of one category: `E(c1, c2 − c1)` with
/// `E(a, h) = lnΓ(a + h) − lnΓ(a) − hψ(a)` ([`lgamma_excess`]). With `S1 = Σc1`,
/// `H = Σ(c2 − c1)`: `KL = Σ E(c1_i, c2_i − c1_i) − E(S1, H)` ([`dirichlet_kl_total`]), every
/// term second order in the differences, so `P || P` is exactly 0 and near-equal pairs keep
/// their relative accuracy.
// Always: the emitted loops vectorize only with the kernel inlined (LLVM declines `#[inline]`
// for a body this size).
#[inline(always)]
pub fn dirichlet_kl_term<T: Real>(c1: T, c2: T) -> T {
    if fast::wide::<T>() {
        let (c1, c2) = (c1.to_f64(), c2.to_f64());
        return T::from_f64(fast::lgamma_excess(c1, c2, c2 - c1));
    }
    lgamma_excess(c1, c2 - c1)
}

/// `∂/∂(c1, c2)` of [`dirichlet_kl_term`]: `−(c2 − c1)ψ'(c1)`, `ψ(c2) − ψ(c1)`.
pub fn dirichlet_kl_term_grad<T: Real>(c1: T, c2: T) -> [T; 2] {
    let h = c2 - c1;
    [-h * trigamma(c1), digamma_between(c1, h, c2)]
}

/// `c2 − c1`: the per-category gap whose sum `H` the total reads (summed from the exact
/// differences, not as `Σc2 − Σc1`).
#[inline]
pub fn difference<T: Real>(c1: T, c2: T) -> T {
    c2 - c1
}

/// `∂/∂(c1, c2)` of [`difference`]: `−1`, `1`.
pub fn difference_grad<T: Real>(_c1: T, _c2: T) -> [T; 2] {
    [-T::ONE, T::ONE]
}

/// `KL(Dir(c1) ‖ Dir(c2)) = terms − E(S1, H)` from the summed [`dirichlet_kl_term`]s, `S1 = Σc1`
/// and `H = Σ(c2 − c1)`.
///
/// ```
/// use kl_runtime::{dirichlet_kl_term, dirichlet_kl_total, beta_kl};
/// // K = 2 is a Beta: KL(Dir(a1, b1) ‖ Dir(a2, b2)) = KL(Beta(a1, b1) ‖ Beta(a2, b2)).
/// let (c1, c2) = ([0.5_f64, 2.0], [1.5, 1.0]);
/// let terms = dirichlet_kl_term(c1[0], c2[0]) + dirichlet_kl_term(c1[1], c2[1]);
/// let kl = dirichlet_kl_total(terms, c1[0] + c1[1], (c2[0] - c1[0]) + (c2[1] - c1[1]));
/// assert!((kl - beta_kl(0.5, 2.0, 1.5, 1.0)).abs() < 1e-15);
/// ```
// Always: the emitted loops vectorize only with the kernel inlined (LLVM declines `#[inline]`
// for a body this size).
#[inline(always)]
pub fn dirichlet_kl_total<T: Real>(terms: T, s1: T, h: T) -> T {
    if fast::wide::<T>() {
        let (s1, h) = (s1.to_f64(), h.to_f64());
        return T::from_f64(terms.to_f64() - fast::lgamma_excess(s1, s1 + h, h));
    }
    terms - lgamma_excess(s1, h)
}

/// `∂/∂(terms, S1, H)` of [`dirichlet_kl_total`]: `1`, `−(ψ(S1 + H) − ψ(S1) − Hψ'(S1))`,
/// `−(ψ(S1 + H) − ψ(S1))`.
pub fn dirichlet_kl_total_grad<T: Real>(_terms: T, s1: T, h: T) -> [T; 3] {
    [T::ONE, T::ZERO - digamma_excess(s1, h), T::ZERO - digamma_diff(s1, h)]
}

/// The `log_prob` term of one category: `(c − 1) ln x − lnΓ(c)`.
#[inline]
pub fn dirichlet_log_prob_term<T: Real>(x: T, c: T) -> T {
    (c - T::ONE) * x.ln() - lgamma(c)
}

/// `∂/∂(x, c)` of [`dirichlet_log_prob_term`]: `(c − 1)/x`, `ln x − ψ(c)`.
pub fn dirichlet_log_prob_term_grad<T: Real>(x: T, c: T) -> [T; 2] {
    [(c - T::ONE) / x, x.ln() - digamma(c)]
}

/// `ln p(x) = terms + lnΓ(Σc)` from the summed [`dirichlet_log_prob_term`]s; `x_sum = Σx` is
/// read only by the check ([`dirichlet_log_prob_check`]).
#[inline]
pub fn dirichlet_log_prob_total<T: Real>(terms: T, c_sum: T, _x_sum: T) -> T {
    terms + lgamma(c_sum)
}

/// `∂/∂(terms, Σc, Σx)` of [`dirichlet_log_prob_total`]: `1`, `ψ(Σc)`, `0`.
pub fn dirichlet_log_prob_total_grad<T: Real>(_terms: T, c_sum: T, _x_sum: T) -> [T; 3] {
    [T::ONE, digamma(c_sum), T::ZERO]
}

/// The rule of a `log_prob` value on the simplex beyond each element lying in `[0, 1]`: its
/// elements sum to 1 within `√ε` of the type (about 3e-4 in `f32`, 1.5e-8 in `f64`), which any
/// softmax computed in the same type meets, and which a sum off by 1e-3 fails.
pub fn dirichlet_log_prob_check<T: Real>(_terms: T, _c_sum: T, x_sum: T) -> Result<(), Violation> {
    if (x_sum - T::ONE).abs() <= T::EPSILON.sqrt() {
        Ok(())
    } else {
        Err(Violation::NotNormalized { slot: 2, sum: x_sum.to_f64() })
    }
}

/// `½ ln(2πx) + ½ − 1/(2x) + c(x) + (x − 1)d(x)`: `lnΓ(x) + x − (x − 1)ψ(x)` for `x >= 10`,
/// with the Stirling tails `c` and `d`, where the direct form cancels its `x ln x` terms.
fn entropy_core<T: Real>(x: T) -> T {
    let two_pi = T::from_f64(core::f64::consts::TAU);
    T::HALF * (two_pi * x).ln() + T::HALF - T::HALF / x + lgamma_correction(x) + (x - T::ONE) * digamma_tail(x)
}

/// The entropy term of one category: `lnΓ(c) + c − (c − 1)ψ(c)` (the `+ c` here and the `− S`
/// in [`dirichlet_entropy_total`] cancel in exact arithmetic; with them, neither piece carries
/// a term that grows like `c`, so large concentrations keep their accuracy).
#[inline]
pub fn dirichlet_entropy_term<T: Real>(c: T) -> T {
    if c.to_f64() >= STIRLING_MIN {
        return entropy_core(c);
    }
    lgamma(c) + c - (c - T::ONE) * digamma(c)
}

/// `∂/∂c` of [`dirichlet_entropy_term`]: `1 − (c − 1)ψ'(c)`.
pub fn dirichlet_entropy_term_grad<T: Real>(c: T) -> [T; 1] {
    [T::ONE - (c - T::ONE) * trigamma(c)]
}

/// `1` for every category: summed, the number of categories `K`, exactly.
#[inline]
pub fn one<T: Real>(_c: T) -> T {
    T::ONE
}

/// `∂/∂c` of [`one`]: `0`.
pub fn one_grad<T: Real>(_c: T) -> [T; 1] {
    [T::ZERO]
}

/// `H = terms − lnΓ(S) − S + (S − K)ψ(S)` from the summed [`dirichlet_entropy_term`]s, `S = Σc`
/// and the number of categories `K`. For `S >= 10`, as
/// `terms + (½ − K) ln S − ½ ln 2π − c(S) − (S − K)(1/(2S) + d(S))`.
#[inline]
pub fn dirichlet_entropy_total<T: Real>(terms: T, s: T, k: T) -> T {
    if s.to_f64() >= STIRLING_MIN {
        let two_pi = T::from_f64(core::f64::consts::TAU);
        return terms + (T::HALF - k) * s.ln()
            - T::HALF * two_pi.ln()
            - lgamma_correction(s)
            - (s - k) * (T::HALF / s + digamma_tail(s));
    }
    terms - lgamma(s) - s + (s - k) * digamma(s)
}

/// `∂/∂(terms, S, K)` of [`dirichlet_entropy_total`]: `1`, `(S − K)ψ'(S) − 1`, `−ψ(S)`.
pub fn dirichlet_entropy_total_grad<T: Real>(_terms: T, s: T, k: T) -> [T; 3] {
    [T::ONE, (s - k) * trigamma(s) - T::ONE, T::ZERO - digamma(s)]
}
