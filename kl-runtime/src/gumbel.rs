//! The Gumbel distribution `Gumbel(loc μ, scale β)`: density `e^(−(z + e^(−z)))/β`,
//! `z = (x − μ)/β`, and the Weibull distribution `Weibull(scale λ, concentration k)`: density
//! `(k/λ)(x/λ)^(k − 1) e^(−(x/λ)^k)` on `(0, ∞)`. `−ln X` of a Weibull is a Gumbel, so the two
//! KLs share one core (`gumbel_core`).
//!
//! Every kernel is elementwise and generic over [`Real`]; bad values give NaN (the checked
//! entry points validate first: scales and concentrations `> 0`, a Weibull `log_prob` value
//! `x > 0`).

use crate::param::expm1mx;
use crate::real::Real;
use crate::scalar::{ln_ratio, log1pmx};
use crate::special::{digamma, digamma_diff, lgamma, lgamma_correction, lgamma_diff, lgamma_excess, STIRLING_MIN};

/// The Euler–Mascheroni constant γ.
pub(crate) const EULER: f64 = 0.577_215_664_901_532_9;

/// `K(r, δ) = −ln r + δ + rγ + e^(−δ)Γ(1 + r) − 1 − γ` (the KL of two Gumbels with scale ratio
/// `r` and location gap `δ` in units of Q's scale), with `r` and `h = r − 1` both formed from
/// the parameters (so that neither is rounded through the other), and its partials
/// `(K, ∂K/∂r, ∂K/∂δ)`.
///
/// With `L = lnΓ(2 + h)` (exact from `h`: `lnΓ(2) = 0`), `g = e^L − 1` and `e = e^(−δ) − 1`,
/// `K = (e + δ) + (E(2, h) + (e^L − 1 − L) − (ln(1 + h) − h)) + e·g`, where
/// `E(a, h) = lnΓ(a + h) − lnΓ(a) − hψ(a)`: the first two are sums of non-negative second-order
/// terms and the last a product of two small ones, so nothing cancels near `P = Q`.
#[inline]
pub(crate) fn gumbel_core<T: Real>(r: T, h: T, delta: T) -> [T; 3] {
    let l = lgamma_diff(T::TWO, h);
    let g = l.exp_m1();
    let e = (-delta).exp_m1();
    // h − ln(1 + h) ≥ 0: from h near r = 1, from r itself far from it (r ≪ 1 has 1 + h
    // rounded).
    let log_term = if h.abs() < T::HALF { T::ZERO - log1pmx(h) } else { h - r.ln() };
    let shape = lgamma_excess(T::TWO, h) + expm1mx(l) + log_term;
    let value = expm1mx(-delta) + shape + e * g;
    // e^(−δ)Γ(1 + r) − 1.
    let q = e + g + e * g;
    let psi = digamma(T::TWO + h);
    let d_r = h / r + digamma_diff(T::TWO, h) + q * psi;
    [value, d_r, -q]
}

/// `KL(Gumbel(m1, b1) ‖ Gumbel(m2, b2)) = −ln(b1/b2) + (m1 − m2)/b2 + γ(b1/b2 − 1) +
/// e^(−(m1 − m2)/b2)Γ(1 + b1/b2) − 1`, as torch.distributions defines it, computed from the exact
/// differences (`gumbel_core`): exactly 0 at `P = Q`.
///
/// ```
/// use kl_runtime::gumbel_kl;
/// // Equal scales: KL = δ + e^(−δ) − 1 with δ = (m1 − m2)/b.
/// let kl = gumbel_kl(1.0_f64, 2.0, 0.0, 2.0);
/// assert!((kl - (0.5 + (-0.5_f64).exp() - 1.0)).abs() < 1e-15);
/// assert_eq!(gumbel_kl(0.3_f64, 1.5, 0.3, 1.5), 0.0);
/// ```
#[inline]
pub fn gumbel_kl<T: Real>(m1: T, b1: T, m2: T, b2: T) -> T {
    gumbel_core(b1 / b2, (b1 - b2) / b2, (m1 - m2) / b2)[0]
}

/// `ln p(x) = −(z + e^(−z)) − ln β`, `z = (x − μ)/β`.
#[inline]
pub fn gumbel_log_prob<T: Real>(x: T, loc: T, scale: T) -> T {
    let z = (x - loc) / scale;
    -(z + (-z).exp()) - scale.ln()
}

/// Differential entropy `ln β + 1 + γ`.
#[inline]
pub fn gumbel_entropy<T: Real>(scale: T) -> T {
    scale.ln() + T::ONE + T::from_f64(EULER)
}

/// `∂/∂(m1, b1, m2, b2)` of [`gumbel_kl`], from the partials of `gumbel_core`: exactly 0 at
/// `P = Q`.
pub fn gumbel_kl_grad<T: Real>(m1: T, b1: T, m2: T, b2: T) -> [T; 4] {
    let (r, h, delta) = (b1 / b2, (b1 - b2) / b2, (m1 - m2) / b2);
    let [_, d_r, d_delta] = gumbel_core(r, h, delta);
    [d_delta / b2, d_r / b2, -d_delta / b2, -(r * d_r + delta * d_delta) / b2]
}

/// `∂/∂(x, loc, scale)` of [`gumbel_log_prob`]: `(e^(−z) − 1)/β`, its negative, and
/// `−(z(e^(−z) − 1) + 1)/β`.
pub fn gumbel_log_prob_grad<T: Real>(x: T, loc: T, scale: T) -> [T; 3] {
    let z = (x - loc) / scale;
    let e = (-z).exp_m1();
    [e / scale, -e / scale, -(z * e + T::ONE) / scale]
}

/// `∂/∂scale` of [`gumbel_entropy`]: `1/β`.
pub fn gumbel_entropy_grad<T: Real>(scale: T) -> [T; 1] {
    [scale.recip()]
}

/// `KL(Weibull(l1, k1) ‖ Weibull(l2, k2)) = ln(k1/k2) − k2 ln(l1/l2) − γ(1 − k2/k1) +
/// (l1/l2)^k2 Γ(1 + k2/k1) − 1` (Bauckhage 2013, "Computing the Kullback–Leibler divergence
/// between two Weibull distributions"). It is `gumbel_core` at `r = k2/k1`,
/// `δ = k2 ln(l2/l1)`: exactly 0 at `P = Q`.
///
/// ```
/// use kl_runtime::{weibull_kl, exponential_kl};
/// // Weibull(λ, 1) is Exponential(1/λ).
/// let kl = weibull_kl(2.0_f64, 1.0, 0.5, 1.0);
/// assert!((kl - exponential_kl(0.5, 2.0)).abs() < 1e-15);
/// assert_eq!(weibull_kl(1.5_f64, 0.7, 1.5, 0.7), 0.0);
/// ```
#[inline]
pub fn weibull_kl<T: Real>(l1: T, k1: T, l2: T, k2: T) -> T {
    gumbel_core(k2 / k1, (k2 - k1) / k1, k2 * ln_ratio(l1, l2))[0]
}

/// `ln p(x) = ln(k/λ) + (k − 1) ln(x/λ) − (x/λ)^k`.
#[inline]
pub fn weibull_log_prob<T: Real>(x: T, scale: T, concentration: T) -> T {
    let k = concentration;
    let ln_y = x.ln() - scale.ln();
    k.ln() - scale.ln() + (k - T::ONE) * ln_y - (k * ln_y).exp()
}

/// Differential entropy `γ(1 − 1/k) + ln(λ/k) + 1`.
#[inline]
pub fn weibull_entropy<T: Real>(scale: T, concentration: T) -> T {
    let k = concentration;
    T::from_f64(EULER) * (T::ONE - k.recip()) + (scale.ln() - k.ln()) + T::ONE
}

/// `∂/∂(l1, k1, l2, k2)` of [`weibull_kl`], from the partials of `gumbel_core` through
/// `r = k2/k1` and `δ = k2 ln(l2/l1)`.
pub fn weibull_kl_grad<T: Real>(l1: T, k1: T, l2: T, k2: T) -> [T; 4] {
    let ln_l = ln_ratio(l1, l2);
    let r = k2 / k1;
    let [_, d_r, d_delta] = gumbel_core(r, (k2 - k1) / k1, k2 * ln_l);
    [-d_delta * k2 / l1, -d_r * r / k1, d_delta * k2 / l2, d_r / k1 + d_delta * ln_l]
}

/// `∂/∂(x, λ, k)` of [`weibull_log_prob`], `y = x/λ`: `((k − 1) − k y^k)/x`, `k(y^k − 1)/λ`,
/// `1/k + (1 − y^k) ln y`.
pub fn weibull_log_prob_grad<T: Real>(x: T, scale: T, concentration: T) -> [T; 3] {
    let k = concentration;
    let ln_y = x.ln() - scale.ln();
    let yk = (k * ln_y).exp();
    [((k - T::ONE) - k * yk) / x, k * (yk - T::ONE) / scale, k.recip() + (T::ONE - yk) * ln_y]
}

/// `∂/∂(λ, k)` of [`weibull_entropy`]: `1/λ`, `γ/k² − 1/k`.
pub fn weibull_entropy_grad<T: Real>(scale: T, concentration: T) -> [T; 2] {
    let r = concentration.recip();
    [scale.recip(), T::from_f64(EULER) * r * r - r]
}

/// `KL(Weibull(λ, k) ‖ Gamma(α, β)) = −H(P) − α ln β − (α − 1)E[ln x] + βE[x] + lnΓ(α)`, with
/// `E[ln x] = ln λ − γ/k` and `E[x] = λΓ(1 + 1/k)` under the Weibull (torch.distributions has
/// no such pair).
///
/// The pair is 0 where both are the same exponential (`k = 1`, `α = 1`, `βλ = 1`), and it is
/// computed so that it keeps its relative accuracy near there: with `t = ln(βλ)`,
/// `u = 1/k − 1`, `a = α − 1`, `g = lnΓ(2 + u)` and `E(a, h) = lnΓ(a + h) − lnΓ(a) − hψ(a)`,
/// `KL = (e^(t+g) − 1 − (t + g)) + E(2, u) + E(1, a) + (u − ln(1 + u)) + a(γu − t)`: every term
/// second order in `(t, u, a)`.
///
/// ```
/// use kl_runtime::{weibull_gamma_kl, exponential_kl};
/// // Weibull(λ, 1) = Exponential(1/λ) and Gamma(1, β) = Exponential(β).
/// let kl = weibull_gamma_kl(2.0_f64, 1.0, 1.0, 1.5);
/// assert!((kl - exponential_kl(0.5, 1.5)).abs() < 1e-15);
/// assert_eq!(weibull_gamma_kl(0.5_f64, 1.0, 1.0, 2.0), 0.0);
/// ```
///
/// For `α >= 10`, where `lnΓ(α)` and `α ln β` cancel, as
/// `α(y − 1 − ln y) + α(lnΓ(1 + 1/k) + γ/k) + ln k − γ − 1 − ½ ln α + ½ ln 2π + c(α)` with
/// `y = βE[x]/α` and the Stirling tail `c` ([`lgamma_correction`]): no term cancels.
#[inline]
pub fn weibull_gamma_kl<T: Real>(scale: T, concentration: T, alpha: T, rate: T) -> T {
    let (l, k) = (scale, concentration);
    if alpha.to_f64() >= STIRLING_MIN {
        let g = lgamma(T::ONE + k.recip());
        let mean = l * g.exp();
        let y1 = rate.mul_add(mean, -alpha) / alpha;
        let euler = T::from_f64(EULER);
        let two_pi = T::from_f64(core::f64::consts::TAU);
        return T::ZERO - alpha * log1pmx(y1) + alpha * (g + euler / k) + k.ln() - euler - T::ONE
            + T::HALF * (two_pi / alpha).ln()
            + lgamma_correction(alpha);
    }
    let p = rate * l;
    let t = if (p - T::ONE).abs() < T::HALF { (p - T::ONE).ln_1p() } else { rate.ln() + l.ln() };
    let u = (T::ONE - k) / k;
    let a = alpha - T::ONE;
    let g = lgamma_diff(T::TWO, u);
    let log_term = if u.abs() < T::HALF { T::ZERO - log1pmx(u) } else { u + k.ln() };
    expm1mx(t + g) + lgamma_excess(T::TWO, u) + lgamma_excess(T::ONE, a) + log_term + a * (T::from_f64(EULER) * u - t)
}

/// `∂/∂(λ, k, α, β)` of [`weibull_gamma_kl`]: `βΓ(1 + 1/k) − α/λ`,
/// `1/k − αγ/k² − βλΓ(1 + 1/k)ψ(1 + 1/k)/k²`, `ψ(α) − ln β − E[ln x]`, `E[x] − α/β`.
pub fn weibull_gamma_kl_grad<T: Real>(scale: T, concentration: T, alpha: T, rate: T) -> [T; 4] {
    let (l, k) = (scale, concentration);
    let ik = k.recip();
    let gamma = lgamma(T::ONE + ik).exp();
    let euler = T::from_f64(EULER);
    let e_ln_x = l.ln() - euler * ik;
    [
        rate * gamma - alpha / l,
        ik - alpha * euler * ik * ik - rate * l * gamma * digamma(T::ONE + ik) * ik * ik,
        digamma(alpha) - rate.ln() - e_ln_x,
        l * gamma - alpha / rate,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kls_are_exactly_zero_at_equality() {
        assert_eq!(gumbel_kl(0.3_f64, 1.5, 0.3, 1.5), 0.0);
        assert_eq!(gumbel_kl_grad(0.3_f64, 1.5, 0.3, 1.5), [0.0; 4]);
        assert_eq!(weibull_kl(2.0_f64, 0.5, 2.0, 0.5), 0.0);
        assert_eq!(weibull_kl_grad(2.0_f64, 0.5, 2.0, 0.5), [0.0; 4]);
        assert_eq!(gumbel_kl(1.0_f32, 2.0, 1.0, 2.0), 0.0);
    }
}
