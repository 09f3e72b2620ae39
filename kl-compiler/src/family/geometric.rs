//! `Geometric(probs=p)` or `Geometric(logits=l)`: `P(k) = (1 − p)ᵏ p` on `{0, 1, 2, ..}` (the
//! number of failures before the first success, as in torch), elementwise. Its closed forms are
//! the `kl_runtime::discrete` kernels, one per way the parameters are given (as `Bernoulli`'s).

use super::{build, by_param, ByParams, Family, Structure, Support, PROBS_OR_LOGITS};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const GEOMETRIC: Family = Family {
    name: "Geometric",
    operands: &["probs"],
    slots: &[PROBS_OR_LOGITS],
    event_rank: 0,
    support: Support::Counts,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    joint_check: false,
};

pub const KL_PROBS: Kernel = scalar_kernel! {
    name: "geometric_kl_probs", quantity: Kl, hint: "kl",
    runtime: geometric_kl_probs, adjoint: geometric_kl_probs_grad,
    operands: [p1 = 0, p2 = 1],
    formula: |p1, p2| format!("ln({p1}/{p2}) + ((1 − {p1})/{p1})·ln((1 − {p1})/(1 − {p2}))"),
};

pub const KL_LOGITS: Kernel = scalar_kernel! {
    name: "geometric_kl_logits", quantity: Kl, hint: "kl",
    runtime: geometric_kl_logits, adjoint: geometric_kl_logits_grad,
    operands: [l1 = 0, l2 = 1],
    formula: |l1, l2| format!("sp(−{l2}) − sp(−{l1}) + e^(−{l1})·(sp({l2}) − sp({l1})), sp(x) = ln(1 + eˣ)"),
};

pub const KL_PROBS_LOGITS: Kernel = scalar_kernel! {
    name: "geometric_kl_probs_logits", quantity: Kl, hint: "kl",
    runtime: geometric_kl_probs_logits, adjoint: geometric_kl_probs_logits_grad,
    operands: [p1 = 0, l2 = 1],
    formula: |p1, l2| format!("KL at logits ln({p1}/(1 − {p1})) and {l2}"),
};

pub const KL_LOGITS_PROBS: Kernel = scalar_kernel! {
    name: "geometric_kl_logits_probs", quantity: Kl, hint: "kl",
    runtime: geometric_kl_logits_probs, adjoint: geometric_kl_logits_probs_grad,
    operands: [l1 = 0, p2 = 1],
    formula: |l1, p2| format!("KL at logits {l1} and ln({p2}/(1 − {p2}))"),
};

pub const LOG_PROB_PROBS: Kernel = scalar_kernel! {
    name: "geometric_log_prob_probs", quantity: LogProb, hint: "log_p",
    runtime: geometric_log_prob_probs, adjoint: geometric_log_prob_probs_grad,
    operands: [k = 0, p = 1],
    formula: |k, p| format!("{k}·ln(1 − {p}) + ln {p}"),
};

pub const LOG_PROB_LOGITS: Kernel = scalar_kernel! {
    name: "geometric_log_prob", quantity: LogProb, hint: "log_p",
    runtime: geometric_log_prob, adjoint: geometric_log_prob_grad,
    operands: [k = 0, l = 1],
    formula: |k, l| format!("−{k}·ln(1 + e^{l}) − ln(1 + e^(−{l}))"),
};

pub const ENTROPY_PROBS: Kernel = scalar_kernel! {
    name: "geometric_entropy_probs", quantity: Entropy, hint: "h",
    runtime: geometric_entropy_probs, adjoint: geometric_entropy_probs_grad,
    operands: [p = 0],
    formula: |p| format!("(−(1 − {p})·ln(1 − {p}) − {p}·ln {p})/{p}"),
};

pub const ENTROPY_LOGITS: Kernel = scalar_kernel! {
    name: "geometric_entropy", quantity: Entropy, hint: "h",
    runtime: geometric_entropy, adjoint: geometric_entropy_grad,
    operands: [l = 0],
    formula: |l| format!("H(Bernoulli(logits={l}))·(1 + e^(−{l}))"),
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
