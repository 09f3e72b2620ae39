//! `ContinuousBernoulli(probs=λ)` or `ContinuousBernoulli(logits=l)`: density
//! `C(λ) λˣ (1 − λ)¹⁻ˣ` on `[0, 1]`, `C(λ) = 2 atanh(1 − 2λ)/(1 − 2λ)`, `λ = σ(l)`, elementwise
//! (torch.distributions'; `probs` and `logits` as `Bernoulli`'s, keyword only, exactly one).
//! In the natural parameter `l` it is `ln p(x) = l x − A(l)`, `A(l) = ln((eˡ − 1)/l)`; the
//! closed forms are the `kl_runtime::continuous_bernoulli` kernels, described here, one per way
//! the parameters are given. `probs` must lie in `(0, 1)` (at 0 or 1 it is a point mass): the
//! `probs` kernels' checks say so, which is why the family keeps its kernel for `P ‖ P`.
//!
//! Its pairs are torch's: with itself, `Beta ‖ ContinuousBernoulli`, `ContinuousBernoulli ‖
//! Exponential`, `‖ Normal` (any scale parameterization), `‖ Uniform` and `Uniform ‖
//! ContinuousBernoulli`, the uniform ones `+∞` where the intervals do not nest.

use super::{build, by_param, cross, ByParams, Family, Structure, Support, PROBS_OR_LOGITS};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const CONTINUOUS_BERNOULLI: Family = Family {
    name: "ContinuousBernoulli",
    operands: &["probs"],
    slots: &[PROBS_OR_LOGITS],
    event_rank: 0,
    support: Support::UnitInterval,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    // `probs` in (0, 1) is a kernel check (its role admits 0 and 1).
    joint_check: true,
};

pub const KL_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_kl_probs", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_kl_probs, adjoint: continuous_bernoulli_kl_probs_grad,
    operands: [p1 = 0, p2 = 1],
    formula: |p1, p2| format!("KL at logits ln({p1}/(1 − {p1})) and ln({p2}/(1 − {p2})), their gap from {p2} − {p1}"),
    check: continuous_bernoulli_kl_probs_check,
};

pub const KL_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_kl_logits", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_kl_logits, adjoint: continuous_bernoulli_kl_logits_grad,
    operands: [l1 = 0, l2 = 1],
    formula: |l1, l2| format!("A({l2}) − A({l1}) − A'({l1})·({l2} − {l1}), A(l) = ln((eˡ − 1)/l)"),
};

pub const KL_PROBS_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_kl_probs_logits", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_kl_probs_logits, adjoint: continuous_bernoulli_kl_probs_logits_grad,
    operands: [p1 = 0, l2 = 1],
    formula: |p1, l2| format!("KL at logits ln({p1}/(1 − {p1})) and {l2}"),
    check: continuous_bernoulli_first_probs_check,
};

pub const KL_LOGITS_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_kl_logits_probs", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_kl_logits_probs, adjoint: continuous_bernoulli_kl_logits_probs_grad,
    operands: [l1 = 0, p2 = 1],
    formula: |l1, p2| format!("KL at logits {l1} and ln({p2}/(1 − {p2}))"),
    check: continuous_bernoulli_second_probs_check,
};

pub const LOG_PROB_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_log_prob_probs", quantity: LogProb, hint: "log_p",
    runtime: continuous_bernoulli_log_prob_probs, adjoint: continuous_bernoulli_log_prob_probs_grad,
    operands: [x = 0, p = 1],
    formula: |x, p| format!(
        "{x}·ln {p} + (1 − {x})·ln(1 − {p}) + ln C({p}), C(λ) = 2 atanh(1 − 2λ)/(1 − 2λ)"
    ),
    check: continuous_bernoulli_second_probs_check,
};

pub const LOG_PROB_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_log_prob", quantity: LogProb, hint: "log_p",
    runtime: continuous_bernoulli_log_prob, adjoint: continuous_bernoulli_log_prob_grad,
    operands: [x = 0, l = 1],
    formula: |x, l| format!("{l}·{x} − A({l}), A(l) = ln((eˡ − 1)/l)"),
};

pub const ENTROPY_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_entropy_probs", quantity: Entropy, hint: "h",
    runtime: continuous_bernoulli_entropy_probs, adjoint: continuous_bernoulli_entropy_probs_grad,
    operands: [p = 0],
    formula: |p| format!("H at logits ln({p}/(1 − {p}))"),
    check: continuous_bernoulli_probs_check,
};

pub const ENTROPY_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_entropy", quantity: Entropy, hint: "h",
    runtime: continuous_bernoulli_entropy, adjoint: continuous_bernoulli_entropy_grad,
    operands: [l = 0],
    formula: |l| format!("A({l}) − {l}·A'({l}), A(l) = ln((eˡ − 1)/l)"),
};

pub const BETA_KL_PROBS: Kernel = scalar_kernel! {
    name: "beta_continuous_bernoulli_kl_probs", quantity: Kl, hint: "kl",
    runtime: beta_continuous_bernoulli_kl_probs, adjoint: beta_continuous_bernoulli_kl_probs_grad,
    operands: [a = 0, b = 1, p = 2],
    formula: |a, b, p| format!("−H(Beta({a}, {b})) − l·{a}/({a} + {b}) + A(l), l = ln({p}/(1 − {p}))"),
    check: continuous_bernoulli_third_probs_check3,
};

pub const BETA_KL_LOGITS: Kernel = scalar_kernel! {
    name: "beta_continuous_bernoulli_kl", quantity: Kl, hint: "kl",
    runtime: beta_continuous_bernoulli_kl, adjoint: beta_continuous_bernoulli_kl_grad,
    operands: [a = 0, b = 1, l = 2],
    formula: |a, b, l| format!("−H(Beta({a}, {b})) − {l}·{a}/({a} + {b}) + A({l}), A(l) = ln((eˡ − 1)/l)"),
};

pub const UNIFORM_KL_PROBS: Kernel = scalar_kernel! {
    name: "uniform_continuous_bernoulli_kl_probs", quantity: Kl, hint: "kl",
    runtime: uniform_continuous_bernoulli_kl_probs, adjoint: uniform_continuous_bernoulli_kl_probs_grad,
    operands: [low = 0, high = 1, p = 2],
    formula: |lo, hi, p| format!(
        "−ln({hi} − {lo}) − l·({lo} + {hi})/2 + A(l), l = ln({p}/(1 − {p})), for 0 ≤ {lo}, {hi} ≤ 1, else +∞"
    ),
    check: uniform_continuous_bernoulli_probs_check,
};

pub const UNIFORM_KL_LOGITS: Kernel = scalar_kernel! {
    name: "uniform_continuous_bernoulli_kl", quantity: Kl, hint: "kl",
    runtime: uniform_continuous_bernoulli_kl, adjoint: uniform_continuous_bernoulli_kl_grad,
    operands: [low = 0, high = 1, l = 2],
    formula: |lo, hi, l| format!(
        "−ln({hi} − {lo}) − {l}·({lo} + {hi})/2 + A({l}) for 0 ≤ {lo}, {hi} ≤ 1, else +∞, A(l) = ln((eˡ − 1)/l)"
    ),
    check: uniform_first_check3,
};

pub const EXPONENTIAL_KL_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_exponential_kl_probs", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_exponential_kl_probs, adjoint: continuous_bernoulli_exponential_kl_probs_grad,
    operands: [p = 0, rate = 1],
    formula: |p, r| format!("−H(ContinuousBernoulli(probs={p})) − ln {r} + {r}·mean"),
    check: continuous_bernoulli_first_probs_check,
};

pub const EXPONENTIAL_KL_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_exponential_kl", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_exponential_kl, adjoint: continuous_bernoulli_exponential_kl_grad,
    operands: [l = 0, rate = 1],
    formula: |l, r| format!(
        "−H(ContinuousBernoulli(logits={l})) − ln {r} + {r}·mean, mean = 1/(1 − e^(−{l})) − 1/{l}"
    ),
};

pub const NORMAL_KL_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_normal_kl_probs", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_normal_kl_probs, adjoint: continuous_bernoulli_normal_kl_probs_grad,
    operands: [p = 0, m2 = 1, s2 = 2],
    formula: |p, m2, s2| format!(
        "½ ln(2πe σ²) − H(ContinuousBernoulli(probs={p})) + KL(N(μ, σ²) ‖ N({m2}, {s2}²)), μ and σ² its mean and variance"
    ),
    check: continuous_bernoulli_first_probs_check3,
};

pub const NORMAL_KL_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_normal_kl", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_normal_kl, adjoint: continuous_bernoulli_normal_kl_grad,
    operands: [l = 0, m2 = 1, s2 = 2],
    formula: |l, m2, s2| format!(
        "½ ln(2πe σ²) − H(ContinuousBernoulli(logits={l})) + KL(N(μ, σ²) ‖ N({m2}, {s2}²)), μ = A'({l}), σ² = A''({l})"
    ),
};

pub const UNIFORM_Q_KL_PROBS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_uniform_kl_probs", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_uniform_kl_probs, adjoint: continuous_bernoulli_uniform_kl_probs_grad,
    operands: [p = 0, low = 1, high = 2],
    formula: |p, lo, hi| format!(
        "ln({hi} − {lo}) − H(ContinuousBernoulli(probs={p})) for {lo} ≤ 0 and {hi} ≥ 1, else +∞"
    ),
    check: continuous_bernoulli_uniform_probs_check,
};

pub const UNIFORM_Q_KL_LOGITS: Kernel = scalar_kernel! {
    name: "continuous_bernoulli_uniform_kl", quantity: Kl, hint: "kl",
    runtime: continuous_bernoulli_uniform_kl, adjoint: continuous_bernoulli_uniform_kl_grad,
    operands: [l = 0, low = 1, high = 2],
    formula: |l, lo, hi| format!(
        "ln({hi} − {lo}) − H(ContinuousBernoulli(logits={l})) for {lo} ≤ 0 and {hi} ≥ 1, else +∞"
    ),
    check: continuous_bernoulli_uniform_check,
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    ByParams { probs: &KL_PROBS, probs_logits: &KL_PROBS_LOGITS, logits_probs: &KL_LOGITS_PROBS, logits: &KL_LOGITS }
        .kl(ir, at)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, by_param(ir, at.p, &LOG_PROB_PROBS, &LOG_PROB_LOGITS))
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, by_param(ir, at.p, &ENTROPY_PROBS, &ENTROPY_LOGITS), &[0])
}

/// `KL(Beta ‖ ContinuousBernoulli)`, torch's `_kl_beta_continuous_bernoulli`.
pub fn beta_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, by_param(ir, at.other, &BETA_KL_PROBS, &BETA_KL_LOGITS))
}

/// `KL(Uniform ‖ ContinuousBernoulli)`, torch's `_kl_uniform_continuous_bernoulli`.
pub fn uniform_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, by_param(ir, at.other, &UNIFORM_KL_PROBS, &UNIFORM_KL_LOGITS))
}

/// `KL(ContinuousBernoulli ‖ Exponential)`, torch's `_kl_continuous_bernoulli_exponential`.
pub fn exponential_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, by_param(ir, at.p, &EXPONENTIAL_KL_PROBS, &EXPONENTIAL_KL_LOGITS))
}

/// `KL(ContinuousBernoulli ‖ Normal)`, torch's `_kl_continuous_bernoulli_normal`, with the
/// normal by its standard deviation.
pub fn normal_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    cross::pair(ir, at, by_param(ir, at.p, &NORMAL_KL_PROBS, &NORMAL_KL_LOGITS))
}

/// `KL(ContinuousBernoulli ‖ Uniform)`, torch's `_kl_continuous_bernoulli_uniform`.
pub fn uniform_q_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, by_param(ir, at.p, &UNIFORM_Q_KL_PROBS, &UNIFORM_Q_KL_LOGITS))
}
