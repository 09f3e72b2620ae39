//! `Binomial(total_count, probs=p)` or `Binomial(total_count, logits=l)`: `P(k) = C(n, k) pᵏ
//! (1 − p)ⁿ⁻ᵏ` on `{0, .., n}`, elementwise; `total_count` a non-negative integer (torch's default
//! 1 when left out). Its closed forms are the `kl_runtime::discrete` kernels: the KL of equal
//! counts is `n` Bernoulli KLs (one kernel per way the probabilities are given), `+∞` where P's
//! count exceeds Q's, and a data error where it is below (torch has no closed form there).
//! No `entropy` rule: it has no closed form.

use super::{build, by_param, plain_slot, ByParams, Family, Structure, Support, PROBS_OR_LOGITS};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const BINOMIAL: Family = Family {
    name: "Binomial",
    operands: &["total_count", "probs"],
    slots: &[plain_slot!("total_count", Count, default = 1.0), PROBS_OR_LOGITS],
    event_rank: 0,
    support: Support::Counts,
    structure: Structure::Other,
    shape: super::broadcast_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: false,
};

pub const KL_PROBS: Kernel = scalar_kernel! {
    name: "binomial_kl_probs", quantity: Kl, hint: "kl",
    runtime: binomial_kl_probs, adjoint: binomial_kl_probs_grad,
    operands: [n1 = 0, p1 = 1, n2 = 2, p2 = 3],
    formula: |n1, p1, _n2, p2| format!("{n1}·KL(Bernoulli({p1}) ‖ Bernoulli({p2})); +∞ where {n1} > {_n2}"),
    check: binomial_kl_check,
};

pub const KL_LOGITS: Kernel = scalar_kernel! {
    name: "binomial_kl_logits", quantity: Kl, hint: "kl",
    runtime: binomial_kl_logits, adjoint: binomial_kl_logits_grad,
    operands: [n1 = 0, l1 = 1, n2 = 2, l2 = 3],
    formula: |n1, l1, _n2, l2| format!("{n1}·KL(Bernoulli(logits={l1}) ‖ Bernoulli(logits={l2})); +∞ where {n1} > {_n2}"),
    check: binomial_kl_check,
};

pub const KL_PROBS_LOGITS: Kernel = scalar_kernel! {
    name: "binomial_kl_probs_logits", quantity: Kl, hint: "kl",
    runtime: binomial_kl_probs_logits, adjoint: binomial_kl_probs_logits_grad,
    operands: [n1 = 0, p1 = 1, n2 = 2, l2 = 3],
    formula: |n1, p1, _n2, l2| format!("{n1}·KL(Bernoulli({p1}) ‖ Bernoulli(logits={l2})); +∞ where {n1} > {_n2}"),
    check: binomial_kl_check,
};

pub const KL_LOGITS_PROBS: Kernel = scalar_kernel! {
    name: "binomial_kl_logits_probs", quantity: Kl, hint: "kl",
    runtime: binomial_kl_logits_probs, adjoint: binomial_kl_logits_probs_grad,
    operands: [n1 = 0, l1 = 1, n2 = 2, p2 = 3],
    formula: |n1, l1, _n2, p2| format!("{n1}·KL(Bernoulli(logits={l1}) ‖ Bernoulli({p2})); +∞ where {n1} > {_n2}"),
    check: binomial_kl_check,
};

pub const LOG_PROB_PROBS: Kernel = scalar_kernel! {
    name: "binomial_log_prob_probs", quantity: LogProb, hint: "log_p",
    runtime: binomial_log_prob_probs, adjoint: binomial_log_prob_probs_grad,
    operands: [k = 0, n = 1, p = 2],
    formula: |k, n, p| format!("ln C({n}, {k}) + {k}·ln {p} + ({n} − {k})·ln(1 − {p})"),
    check: binomial_log_prob_check,
};

pub const LOG_PROB_LOGITS: Kernel = scalar_kernel! {
    name: "binomial_log_prob", quantity: LogProb, hint: "log_p",
    runtime: binomial_log_prob, adjoint: binomial_log_prob_grad,
    operands: [k = 0, n = 1, l = 2],
    formula: |k, n, l| format!("ln C({n}, {k}) + {k}·{l} − {n}·ln(1 + e^{l})"),
    check: binomial_log_prob_check,
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    ByParams { probs: &KL_PROBS, probs_logits: &KL_PROBS_LOGITS, logits_probs: &KL_LOGITS_PROBS, logits: &KL_LOGITS }
        .kl(ir, at)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, by_param(ir, at.p, &LOG_PROB_PROBS, &LOG_PROB_LOGITS))
}
